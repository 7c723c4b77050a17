"""Nothing in the package unpickles outside files or evaluates strings (issue 7, safe loading)."""

import re
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "symsharing"
SOURCES = sorted(PACKAGE.glob("*.py"))
UNSAFE = {
    "pickle.load": re.compile(r"\bpickle\.loads?\("),
    "eval/exec": re.compile(r"(?<![\w.])(eval|exec)\("),
    "torch.load without weights_only=True": re.compile(r"torch\.load\((?![^)]*weights_only=True)"),
}


def test_package_sources_found():
    assert len(SOURCES) >= 10


@pytest.mark.parametrize("source", SOURCES, ids=lambda path: path.name)
def test_no_unsafe_loading(source):
    text = source.read_text()
    found = [name for name, pattern in UNSAFE.items() if pattern.search(text)]
    assert not found, f"{source.name} uses {found}"


def test_patterns_catch_unsafe_code():
    assert UNSAFE["pickle.load"].search("data = pickle.load(f)")
    assert UNSAFE["eval/exec"].search("value = eval(text)")
    assert not UNSAFE["eval/exec"].search("model.eval()")
    assert UNSAFE["torch.load without weights_only=True"].search("torch.load(path)")
    assert not UNSAFE["torch.load without weights_only=True"].search("torch.load(p, weights_only=True)")
