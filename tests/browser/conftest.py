"""The browser test runs only when asked for by path (``pytest tests/browser``, the last step of
``make test``, after the book is built): a plain ``pytest tests`` leaves this folder out, since the
built book it checks does not exist yet when the unit tests run."""

from pathlib import Path

HERE = Path(__file__).resolve().parent


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
