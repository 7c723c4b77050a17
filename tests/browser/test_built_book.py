"""A real browser reads the built book: every page of ``_build/html`` in headless Chromium, offline.

Run after ``jupyter-book build`` (the last step of ``make test``). Chromium and its driver come from
Debian (``chromium``, ``chromium-driver``; ``.ci/run`` installs them) and are given to selenium by
path, so nothing is downloaded. The browser has no network but the local server (``reader.py``), as
a reader with no connection: no page may ask another host for anything, every page's math must be
typeset and every widget drawn from the book's own files, and everything must load and run without
a console error. Every page is then read as a reader would, at desktop (1280 px) and phone (390 px)
width, with a screenshot of each under ``_build/screenshots/``; the page weights (bytes of a first
visit) are written to ``_build/page-weights.json``.
"""

from __future__ import annotations

import json
import shutil
from urllib.parse import urlparse

import numpy as np
import pytest
from PIL import Image
from reader import HTML, ROOT, WIDGET_STATE, WIDGET_VIEW, WIDTHS, is_local, pages, visit

from symsharing.settings import cache_dir

SCREENSHOTS = HTML.parent / "screenshots"
WEIGHTS = HTML.parent / "page-weights.json"
# the results chapters: argument first, their code collapsed behind a toggle
RESULTS_PAGES = ["book/robustness.html", "book/sample_efficiency.html", "book/parameter_efficiency.html",
                 "book/generalization.html", "book/predictions.html", "book/paramspace.html",
                 "book/asymmetric.html", "book/discussion.html"]
ICON_KIT_LIMIT = 10_000  # bytes: the theme's Font Awesome script (1.5 MB) is replaced by a stub
# absolute paths of the build that must not reach a page (e.g. the results cache's folder)
BUILD_FOLDERS = sorted({str(ROOT), str(cache_dir().resolve())})


def _console_errors(visit_) -> list[str]:
    """SEVERE console entries, less the favicon the browser asks for by itself (the book has none)."""
    return [entry["message"] for entry in visit_.console if entry["level"] == "SEVERE"
            and urlparse(entry["message"].split(" ", 1)[0]).path != "/favicon.ico"]


_IMAGES = """
const done = arguments[arguments.length - 1];
const images = Array.from(document.images);
images.forEach((image) => { image.loading = "eager"; });
Promise.all(images.map((image) => image.decode().then(() => null, () => null))).then(() => done(
    images.map((image) => ({src: image.currentSrc || image.src, width: image.naturalWidth}))));
"""

# After the page has settled (reader.visit): math left as TeX source, widgets not drawn, icons.
_RENDERED = """
const article = document.querySelector('article') || document.body;
const views = Array.from(document.querySelectorAll(`script[type="${arguments[0]}"]`));
const icons = Array.from(document.querySelectorAll('i[class*="fa-"]'))
    .filter((icon) => icon.getClientRects().length > 0);
return {
    math: document.querySelectorAll('.math').length,
    typeset: document.querySelectorAll('mjx-container').length,
    raw_math: Array.from(document.querySelectorAll('.math')).concat([article])
        .map((element) => element.innerText).filter((text) => /\\\\[(\\[]/.test(text))
        .map((text) => text.slice(0, 60)),
    views: views.map((view) => JSON.parse(view.textContent).model_id),
    drawn: views.filter((view) => {
        const area = view.previousElementSibling;
        return area && area.classList.contains('widget-subarea') && area.getBoundingClientRect().height > 0;
    }).length,
    icons: icons.length,
    blank_icons: icons.filter((icon) => getComputedStyle(icon, '::before').content === 'none').length,
    icon_font: Array.from(document.fonts).some((font) => font.family.includes('Font Awesome')
        && font.status === 'loaded'),
};
"""


def test_every_page_renders_offline(server, browser):
    """Offline, every page loads only from the book: its math is typeset (no raw ``\\(`` left), its
    widgets are drawn from their saved state, its icons are drawn, no script fails, and its HTML
    names no folder of the machine that built it."""
    all_pages = pages()
    assert "index.html" in all_pages and "book/intro.html" in all_pages
    problems, weights, math_pages, widget_pages = {}, {}, [], []
    for page in all_pages:
        seen = visit(browser, server + page)
        found = [f"console: {message}" for message in _console_errors(seen)]
        found += [f"asked another host for {request.url[:100]} ({request.failed})"
                  for request in seen.off_server]
        found += [f"failed to load {request.url[:100]} ({request.failed})" for request in seen.requests
                  if is_local(request.url) and request.failed]
        images = browser.execute_async_script(_IMAGES)
        found += [f"image does not decode: {i['src'][:100]}" for i in images
                  if is_local(i["src"]) and not i["width"] > 0]
        shown = browser.execute_script(_RENDERED, WIDGET_VIEW)
        if shown["math"]:
            math_pages.append(page)
            if shown["typeset"] < shown["math"] or shown["raw_math"]:
                found.append(f"math not typeset: {shown['typeset']} of {shown['math']} formulas, "
                             f"raw TeX shown: {shown['raw_math'][:3]}")
        if shown["views"]:
            widget_pages.append(page)
            states = browser.execute_script(
                f"return Array.from(document.querySelectorAll('script[type=\"{WIDGET_STATE}\"]'))"
                ".map((s) => s.textContent)")
            saved = {key for text in states for key in json.loads(text).get("state", {})}
            found += [f"widget {view} shown without saved state" for view in shown["views"]
                      if view not in saved]
            if shown["drawn"] < len(shown["views"]):
                found.append(f"{len(shown['views']) - shown['drawn']} of {len(shown['views'])} "
                             "widgets not drawn")
        if shown["icons"] and (shown["blank_icons"] or not shown["icon_font"]):
            found.append(f"icons not drawn: {shown['blank_icons']} of {shown['icons']} blank, "
                         f"icon font loaded: {shown['icon_font']}")
        icon_kit = [request for request in seen.requests if "/fontawesome.js" in request.url]
        found += [f"the icon script weighs {request.bytes} bytes" for request in icon_kit
                  if request.bytes > ICON_KIT_LIMIT]
        found += [f"names a folder of the machine that built it: {folder}" for folder in BUILD_FOLDERS
                  if folder in (HTML / page).read_text(encoding="utf-8")]
        weights[page] = {"bytes": seen.weight, "requests": len(seen.requests)}
        if found:
            problems[page] = found
    WEIGHTS.write_text(json.dumps(weights, indent=1) + "\n")
    assert not problems, json.dumps(problems, indent=1)
    assert math_pages, "no page of the book has math: the check of its typesetting checked nothing"
    assert widget_pages, "no page of the book carries a widget: the explorers' saved state was lost"


def _fit_height(driver, width: int) -> None:
    """Make the window as tall as the page (at most 4,000 px) at ``width``, for a whole-page shot."""
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.set_window_size(width, min(max(int(height), 800), 4000))


_READER_CHECKS = """
const article = document.querySelector('article') || document.body;
const visible = (element) => {
    for (let node = element; node; node = node.parentElement) {
        if (node.tagName === 'DETAILS' && !node.open && node !== element
            && !(element.closest('summary') && node.contains(element.closest('summary')))) return false;
        const style = getComputedStyle(node);
        if (style.display === 'none' || style.visibility === 'hidden') return false;
    }
    return element.getClientRects().length > 0;
};
const images = Array.from(article.querySelectorAll('img'))
    .filter((image) => !image.closest('.widget-area, .widget-subarea'));  // a widget's own output
const style = getComputedStyle(article);
const column = article.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
return {
    overflow: document.documentElement.scrollWidth - document.documentElement.clientWidth,
    column: column,
    wide_tables: Array.from(article.querySelectorAll('table')).filter(visible)
        .filter((table) => !table.closest('.widget-area'))
        .map((table) => ({width: Math.round(table.getBoundingClientRect().width),
                          text: (table.closest('figure')?.querySelector('figcaption') || table)
                              .textContent.trim().slice(0, 50)}))
        .filter((table) => table.width > column + 1),
    uncaptioned: images.filter((image) => {
        const figure = image.closest('figure');
        const caption = figure && figure.querySelector('figcaption');
        return !(caption && caption.textContent.trim().length > 0);
    }).map((image) => (image.getAttribute('src') || '').slice(0, 60)),
    traceback: /Traceback \\(most recent call last\\)/.test(article.innerText)
        || article.querySelector('.output.traceback, .output.error') !== null,
    code: Array.from(article.querySelectorAll('.cell_input')).filter(visible).length,
    helpers: Array.from(article.querySelectorAll('.cell_input')).filter(visible)
        .map((cell) => cell.innerText).filter((text) => /\\bglue\\(|NBVAL_/.test(text))
        .map((text) => text.trim().split('\\n')[0].slice(0, 60)),
    stderr: Array.from(article.querySelectorAll('.output.stderr'))
        .map((output) => output.innerText.trim().slice(0, 80)),
    misnumbered: Array.from(article.querySelectorAll('figure')).filter((figure) => {
        const number = figure.querySelector('figcaption .caption-number');
        const holds_table = figure.querySelector('table') !== null;
        return number && !number.textContent.trim().startsWith(holds_table ? 'Table' : 'Fig');
    }).map((figure) => figure.querySelector('figcaption').textContent.trim().slice(0, 40)),
};
"""


def layout_problems(found: dict, label: str) -> list[str]:
    """What a reader at this width cannot read: the page scrolls sideways (any width), or a table is
    wider than the text column (at desktop width, where every table must fit without scrolling)."""
    issues = []
    if found["overflow"] > 1:
        issues.append(f"{label}: the page scrolls sideways by {found['overflow']} px")
    if label == "desktop" and found["wide_tables"]:
        issues += [f"{label}: a table {table['width']} px wide in a {found['column']:.0f} px column: "
                   f"{table['text']!r}" for table in found["wide_tables"]]
    return issues


def test_pages_read_like_a_reader(server, browser):
    """Every page at desktop and phone width: a screenshot each, no horizontal scroll of the page
    body, no table wider than the text column at desktop width, a caption for every figure, tables
    numbered as tables ("Table N") and figures as figures, no traceback or warning, no code input
    shown by default on the results chapters, and no shown code cell that only serves the book
    (``glue`` calls, nbval markers)."""
    missing = [page for page in RESULTS_PAGES if not (HTML / page).exists()]
    assert not missing, f"results chapters not built: {missing}"
    if SCREENSHOTS.exists():
        shutil.rmtree(SCREENSHOTS)
    SCREENSHOTS.mkdir(parents=True)
    problems = {}
    for page in pages():
        for label, width in WIDTHS.items():
            browser.set_window_size(width, 1000)
            visit(browser, server + page)
            found = browser.execute_script(_READER_CHECKS)
            issues = layout_problems(found, label)
            if found["uncaptioned"]:
                issues.append(f"{label}: figures without a caption: {found['uncaptioned']}")
            if found["misnumbered"]:
                issues.append(f"{label}: a table numbered as a figure or back: {found['misnumbered']}")
            if found["stderr"]:
                issues.append(f"{label}: warnings or other stderr shown: {found['stderr']}")
            if found["traceback"]:
                issues.append(f"{label}: a traceback is shown")
            if found["helpers"]:
                issues.append(f"{label}: glue or nbval lines shown in code cells: {found['helpers']}")
            if page in RESULTS_PAGES and found["code"]:
                issues.append(f"{label}: {found['code']} code cells shown (results chapters hide their code)")
            _fit_height(browser, width)
            path = SCREENSHOTS / f"{page.replace('/', '_').removesuffix('.html')}-{label}.png"
            assert browser.save_screenshot(str(path)), f"screenshot of {page} at {width} px failed"
            with Image.open(path) as image:
                grey = np.asarray(image.convert("L"))
            if not (grey < 200).mean() > 0.01:  # text and figures are dark
                issues.append(f"{label}: the screenshot is blank")
            if issues:
                problems.setdefault(page, []).extend(issues)
    browser.set_window_size(1280, 1000)
    assert not problems, json.dumps(problems, indent=1)


# A table too wide for any column, and a block too wide for a phone, planted in a built page.
_PLANT = {
    "table": """const figure = document.createElement('figure');
figure.innerHTML = '<table><tr>' + Array.from({length: 30}, (_, i) => `<td>planted_cell_${i}</td>`).join('')
    + '</tr></table>';
(document.querySelector('article') || document.body).appendChild(figure);""",
    "block": """const block = document.createElement('p');
block.textContent = 'planted_' + 'unbreakable_'.repeat(60);
(document.querySelector('article') || document.body).appendChild(block);""",
}


@pytest.mark.parametrize(("planted", "label"), [("table", "desktop"), ("block", "phone")])
def test_layout_check_fails_on_a_planted_overflow(server, browser, planted, label):
    """The layout check is not blind: on a page that passes it, a planted wide table (1280 px) and a
    planted unbreakable line (390 px) are each reported."""
    browser.set_window_size(WIDTHS[label], 1000)
    visit(browser, server + "book/intro.html")
    before = layout_problems(browser.execute_script(_READER_CHECKS), label)
    browser.execute_script(_PLANT[planted])
    after = layout_problems(browser.execute_script(_READER_CHECKS), label)
    browser.set_window_size(1280, 1000)
    assert not before, before
    assert after, f"a planted wide {planted} at {WIDTHS[label]} px went unnoticed"
