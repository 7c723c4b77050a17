"""The browser test runs only when asked for by path (``pytest tests/browser``, the last step of
``make test``, after the book is built): a plain ``pytest tests`` leaves this folder out, since the
built book it checks does not exist yet when the unit tests run.

Its fixtures: the built book served on 127.0.0.1 and one headless Chromium that reads it offline
(``reader.py``). Outside CI they skip with the reason when the book or Chromium is missing; in CI
(``CI=true``) they fail instead."""

import os
from pathlib import Path

import pytest
from reader import CHROMEDRIVER, CHROMIUM, HTML, serve, start_browser

HERE = Path(__file__).resolve().parent
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def _requested(config) -> bool:
    for argument in config.args:
        path = Path(str(argument).split("::")[0]).resolve()
        if path == HERE or HERE in path.parents:
            return True
    return False


def pytest_ignore_collect(collection_path, config):
    if not _requested(config):
        return True
    return None


def _unavailable(reason: str):
    if IN_CI:
        pytest.fail(f"{reason} (CI=true: the browser test must run in CI)")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def server():
    """The built book over http on 127.0.0.1, as a reader's browser gets it."""
    if not (HTML / "index.html").exists():
        _unavailable(f"no built book at {HTML}: run 'make build-quick' first")
    httpd, address = serve(HTML)
    yield address
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(scope="session")
def browser(tmp_path_factory):
    """Headless Chromium with no network but the local server (see reader.py)."""
    missing = [str(path) for path in (CHROMIUM, CHROMEDRIVER) if not path.exists()]
    if missing:
        _unavailable(f"Chromium is not installed ({', '.join(missing)} missing): "
                     "apt-get install chromium chromium-driver")
    driver = start_browser(tmp_path_factory.mktemp("chromium-profile"))
    yield driver
    driver.quit()
