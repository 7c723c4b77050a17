"""A real browser reads the built book: every page of ``_build/html`` in headless Chromium.

Run after ``jupyter-book build`` (the last step of ``make test``). Chromium and its driver come from
Debian (``chromium``, ``chromium-driver``; ``.ci/run`` installs them) and are given to selenium by
path, so nothing is downloaded. Outside CI the test skips with the reason when they are missing; in
CI (``CI=true``) it fails instead. Offline, assets from CDNs (MathJax, the widget manager,
fonts) fail to load: those network errors are expected and filtered; everything the book serves
itself must load and run without a console error. Widgets render from CDN scripts, so their pages
are checked for the saved widget state, not for pixels. Every page is then read as a reader would,
at desktop (1280 px) and phone (390 px) width, with a screenshot of each under ``_build/screenshots/``.
"""

from __future__ import annotations

import functools
import http.server
import json
import os
import re
import shutil
import threading
from pathlib import Path
from urllib.parse import urlparse

import numpy as np
import pytest
from PIL import Image

ROOT = Path(__file__).resolve().parents[2]
HTML = Path(os.environ.get("SYMSHARING_BOOK_HTML", ROOT / "_build" / "html"))
SCREENSHOTS = HTML.parent / "screenshots"
CHROMIUM, CHROMEDRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--window-size=1280,1000"]
# the results chapters: argument first, their code collapsed behind a toggle
RESULTS_PAGES = ["book/robustness.html", "book/sample_efficiency.html", "book/parameter_efficiency.html",
                 "book/generalization.html", "book/predictions.html", "book/paramspace.html",
                 "book/asymmetric.html", "book/discussion.html"]
WIDTHS = {"desktop": 1280, "phone": 390}
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def _unavailable(reason: str):
    if IN_CI:
        pytest.fail(f"{reason} (CI=true: the browser test must run in CI)")
    pytest.skip(reason)


def _pages() -> list[str]:
    return sorted(path.relative_to(HTML).as_posix() for path in HTML.rglob("*.html")
                  if "_static" not in path.parts and "_sources" not in path.parts)


@pytest.fixture(scope="module")
def server():
    """The built book over http on 127.0.0.1 (a random free port), as a reader's browser gets it."""
    if not (HTML / "index.html").exists():
        _unavailable(f"no built book at {HTML}: run 'make build-quick' first")
    handler = functools.partial(_QuietHandler, directory=str(HTML))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()
    httpd.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 (the base class's signature)
        pass


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    missing = [str(path) for path in (CHROMIUM, CHROMEDRIVER) if not path.exists()]
    if missing:
        _unavailable(f"Chromium is not installed ({', '.join(missing)} missing): "
                     "apt-get install chromium chromium-driver")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in CHROMIUM_FLAGS + [f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}"]:
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)), options=options)
    driver.set_page_load_timeout(60)
    driver.set_script_timeout(30)
    yield driver
    driver.quit()


def _is_local(url: str) -> bool:
    return urlparse(url).hostname in (None, "", "127.0.0.1", "localhost")


def _own_script_errors(entries, base: str) -> list[str]:
    """SEVERE console entries, less the network errors of assets from other hosts (CDNs, offline)."""
    errors = []
    for entry in entries:
        if entry["level"] != "SEVERE":
            continue
        message = entry["message"]
        url = message.split(" ", 1)[0]
        if url.startswith("http") and not _is_local(url):
            continue  # e.g. "https://cdn.jsdelivr.net/... - Failed to load resource: net::ERR_..."
        if urlparse(url).path == "/favicon.ico":
            continue  # asked for by the browser itself, not by the page: the book has no favicon
        if "net::ERR_" in message and re.search(r"https?://(?!127\.0\.0\.1|localhost)", message):
            continue
        errors.append(message)
    return errors


_IMAGES = """
const done = arguments[arguments.length - 1];
const images = Array.from(document.images);
images.forEach((image) => { image.loading = "eager"; });
Promise.all(images.map((image) => image.decode().then(() => null, () => null))).then(() => done(
    images.map((image) => ({src: image.currentSrc || image.src, width: image.naturalWidth}))));
"""


def _visit(driver, url: str) -> None:
    driver.get(url)
    driver.execute_async_script("const done = arguments[0]; if (document.readyState === 'complete') "
                                "done(); else window.addEventListener('load', () => done());")


def test_every_page_loads_cleanly(server, browser):
    pages = _pages()
    assert "index.html" in pages and "book/intro.html" in pages
    problems, widget_pages = {}, []
    for page in pages:
        _visit(browser, server + page)
        found = []
        found += [f"console: {m}" for m in _own_script_errors(browser.get_log("browser"), server)]
        images = browser.execute_async_script(_IMAGES)
        found += [f"image does not decode: {i['src']}" for i in images
                  if _is_local(i["src"]) and not i["width"] > 0]
        views = [json.loads(text) for text in browser.execute_script(
            f"return Array.from(document.querySelectorAll('script[type=\"{WIDGET_VIEW}\"]'))"
            ".map((s) => s.textContent)")]
        if views:
            widget_pages.append(page)
            states = browser.execute_script(
                f"return Array.from(document.querySelectorAll('script[type=\"{WIDGET_STATE}\"]'))"
                ".map((s) => s.textContent)")
            saved = {key for text in states for key in json.loads(text).get("state", {})}
            found += [f"widget {v['model_id']} shown without saved state" for v in views
                      if v["model_id"] not in saved]
        if found:
            problems[page] = found
    assert not problems, json.dumps(problems, indent=1)
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
const images = Array.from(article.querySelectorAll('img')).filter((image) => !image.closest('.widget-area'));
return {
    overflow: document.documentElement.scrollWidth - document.documentElement.clientWidth,
    uncaptioned: images.filter((image) => {
        const figure = image.closest('figure');
        const caption = figure && figure.querySelector('figcaption');
        return !(caption && caption.textContent.trim().length > 0);
    }).map((image) => (image.getAttribute('src') || '').slice(0, 60)),
    traceback: /Traceback \\(most recent call last\\)/.test(article.innerText)
        || article.querySelector('.output.traceback, .output.error') !== null,
    code: Array.from(article.querySelectorAll('.cell_input')).filter(visible).length,
    stderr: Array.from(article.querySelectorAll('.output.stderr'))
        .map((output) => output.innerText.trim().slice(0, 80)),
    misnumbered: Array.from(article.querySelectorAll('figure')).filter((figure) => {
        const number = figure.querySelector('figcaption .caption-number');
        const holds_table = figure.querySelector('table') !== null;
        return number && !number.textContent.trim().startsWith(holds_table ? 'Table' : 'Fig');
    }).map((figure) => figure.querySelector('figcaption').textContent.trim().slice(0, 40)),
};
"""


def test_pages_read_like_a_reader(server, browser):
    """Every page at desktop and phone width: a screenshot each, no horizontal scroll of the page
    body (a wide table may scroll inside its own container), a caption for every figure, tables
    numbered as tables ("Table N") and figures as figures, no traceback or warning, and no code
    input shown by default on the results chapters."""
    missing = [page for page in RESULTS_PAGES if not (HTML / page).exists()]
    assert not missing, f"results chapters not built: {missing}"
    if SCREENSHOTS.exists():
        shutil.rmtree(SCREENSHOTS)
    SCREENSHOTS.mkdir(parents=True)
    problems = {}
    for page in _pages():
        for label, width in WIDTHS.items():
            browser.set_window_size(width, 1000)
            _visit(browser, server + page)
            found = browser.execute_script(_READER_CHECKS)
            issues = []
            if found["overflow"] > 1:
                issues.append(f"{label}: the page scrolls sideways by {found['overflow']} px")
            if found["uncaptioned"]:
                issues.append(f"{label}: figures without a caption: {found['uncaptioned']}")
            if found["misnumbered"]:
                issues.append(f"{label}: a table numbered as a figure or back: {found['misnumbered']}")
            if found["stderr"]:
                issues.append(f"{label}: warnings or other stderr shown: {found['stderr']}")
            if found["traceback"]:
                issues.append(f"{label}: a traceback is shown")
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
