"""The offline reader the browser tests share: the built book served on 127.0.0.1, read in headless
Chromium with every request off that server sent to a dead proxy, as a reader with no network.

``--proxy-server=127.0.0.1:9`` routes every request through a proxy on the discard port, where
nothing listens, so a request for any other host fails; ``--proxy-bypass-list=127.0.0.1`` lets the
local server through. Chromium's performance log records every request a page makes (``Network``
events), with the bytes each took, so a test sees what left for another host and what a page weighs;
the browser cache is off, so each page is weighed as a first visit.
"""

from __future__ import annotations

import functools
import http.server
import json
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parents[2]
HTML = Path(os.environ.get("SYMSHARING_BOOK_HTML", ROOT / "_build" / "html"))
CHROMIUM, CHROMEDRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")
OFFLINE_FLAGS = ["--proxy-server=127.0.0.1:9", "--proxy-bypass-list=127.0.0.1"]
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--window-size=1280,1000", *OFFLINE_FLAGS]
WIDTHS = {"desktop": 1280, "phone": 390}
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def pages() -> list[str]:
    return sorted(path.relative_to(HTML).as_posix() for path in HTML.rglob("*.html")
                  if "_static" not in path.parts and "_sources" not in path.parts)


def is_local(url: str) -> bool:
    return urlparse(url).hostname in (None, "", "127.0.0.1", "localhost")


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 (the base class's signature)
        pass


def serve(folder: Path) -> tuple[http.server.ThreadingHTTPServer, str]:
    """``folder`` over http on 127.0.0.1 (a random free port); returns the server and its address."""
    handler = functools.partial(_QuietHandler, directory=str(folder))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd, f"http://127.0.0.1:{httpd.server_address[1]}/"


def start_browser(profile: Path):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in CHROMIUM_FLAGS + [f"--user-data-dir={profile}"]:
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)), options=options)
    driver.set_page_load_timeout(60)
    driver.set_script_timeout(30)
    driver.execute_cdp_cmd("Network.enable", {})
    driver.execute_cdp_cmd("Network.setCacheDisabled", {"cacheDisabled": True})
    return driver


@dataclass
class Request:
    url: str
    bytes: int = 0  # as sent over the wire, headers included
    failed: str | None = None  # Chromium's error text, e.g. net::ERR_PROXY_CONNECTION_FAILED


@dataclass
class Visit:
    """What one page load did: its requests, in order, and its console messages."""

    requests: list[Request] = field(default_factory=list)
    console: list[dict] = field(default_factory=list)

    @property
    def off_server(self) -> list[Request]:
        return [request for request in self.requests
                if not is_local(request.url) and not request.url.startswith("data:")]

    @property
    def weight(self) -> int:
        return sum(request.bytes for request in self.requests)


_SETTLED = """
const done = arguments[arguments.length - 1];
const views = document.querySelectorAll(`script[type="${arguments[0]}"]`).length;
const started = Date.now();
const typeset = () => (window.MathJax && window.MathJax.startup && window.MathJax.startup.promise)
    ? window.MathJax.startup.promise.then(() => true, () => false) : Promise.resolve(false);
const rendered = () => document.querySelectorAll('.widget-subarea').length >= views;
const wait = () => (rendered() || Date.now() - started > 20000) ? typeset().then(() => done())
    : setTimeout(wait, 100);
if (document.readyState === 'complete') wait(); else window.addEventListener('load', wait);
"""


def visit(driver, url: str) -> Visit:
    """Load ``url`` and wait until it has settled: MathJax done, every widget view drawn (or 20 s)."""
    driver.get_log("performance")  # drop the previous page's entries
    driver.get_log("browser")
    driver.get(url)
    driver.execute_async_script(_SETTLED, WIDGET_VIEW)
    requests: dict[str, Request] = {}
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        method, params = message["method"], message["params"]
        if method == "Network.requestWillBeSent":
            requests[params["requestId"]] = Request(params["request"]["url"])
        elif method == "Network.loadingFinished" and params["requestId"] in requests:
            requests[params["requestId"]].bytes = int(params["encodedDataLength"])
        elif method == "Network.loadingFailed" and params["requestId"] in requests:
            requests[params["requestId"]].failed = params["errorText"]
    return Visit(list(requests.values()), driver.get_log("browser"))
