"""The package's imports run one way, from the bottom up (docs/design.md): each module imports only
modules of a lower layer or of its own subpackage, and the wings (study, theory, paramspace) never
import each other."""

import ast
import shutil
from pathlib import Path

import pytest

import symsharing

PACKAGE = Path(symsharing.__file__).resolve().parent

# Layers from the bottom; a module may import a module of a strictly lower layer, or one in its
# own subpackage. Core modules are ordered among themselves.
LAYERS = {
    "_checks": 0, "groups": 1, "sharing": 2, "models": 3, "tasks": 4, "metrics": 5, "stats": 5,
    "settings": 5, "testing": 6, "engine": 7, "train": 8, "study": 9, "theory": 9, "paramspace": 9,
    "figures": 10, "registry": 11, "bench": 12, "__main__": 13, "__init__": 0,
}


def _unit(module: str) -> str:
    """The layer unit of a dotted module name inside the package: its subpackage or its module."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def _imports(path: Path, package_dir: Path) -> list[tuple[str, int]]:
    """Every ``symsharing...`` module a file imports (at any depth), with the line."""
    relative = path.relative_to(package_dir).with_suffix("")
    parts = ["symsharing", *relative.parts]
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against the file's package
                base = parts[:-node.level]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            if module == "symsharing" or module.startswith("symsharing."):
                names = [f"{module}.{alias.name}" for alias in node.names]
                found += [(name if _is_module(name, package_dir) else module, node.lineno) for name in names]
        elif isinstance(node, ast.Import):
            found += [(alias.name, node.lineno) for alias in node.names
                      if alias.name.startswith("symsharing")]
    return found


def _is_module(dotted: str, package_dir: Path) -> bool:
    path = package_dir.joinpath(*dotted.split(".")[1:])
    return path.with_suffix(".py").exists() or (path / "__init__.py").exists()


def back_arrows(package_dir: Path) -> list[str]:
    """The imports that run the wrong way, as 'file:line imports module (why)'."""
    wrong = []
    for path in sorted(package_dir.rglob("*.py")):
        importer = "symsharing." + ".".join(path.relative_to(package_dir).with_suffix("").parts)
        source = _unit(importer)
        for module, line in _imports(path, package_dir):
            target = _unit(module)
            if target == "__init__" or target == source:
                continue
            if LAYERS[target] >= LAYERS[source]:
                wrong.append(f"{path.relative_to(package_dir)}:{line} imports {module} "
                             f"(layer {LAYERS[target]} >= its own {LAYERS[source]})")
    return wrong


def test_every_module_has_a_layer():
    units = {_unit("symsharing." + ".".join(p.relative_to(PACKAGE).with_suffix("").parts))
             for p in PACKAGE.rglob("*.py")}
    assert units <= set(LAYERS), f"modules without a layer: {sorted(units - set(LAYERS))}"


def test_imports_run_one_way():
    assert back_arrows(PACKAGE) == []


@pytest.mark.parametrize("planted", [
    ("models.py", "from symsharing.train import fit\n"),                 # core reaching up to train
    ("theory/kernels.py", "from symsharing.study import analysis\n"),    # wing to wing
    ("engine/stacks.py", "    from symsharing.train import fit\n"),    # a late import counts too
])
def test_a_planted_back_arrow_is_caught(tmp_path, planted):
    package = tmp_path / "symsharing"
    shutil.copytree(PACKAGE, package, ignore=shutil.ignore_patterns("__pycache__"))
    name, line = planted
    text = (package / name).read_text()
    if line.startswith("    "):
        text += "\n\ndef _planted():\n" + line
    else:
        text = line + text
    (package / name).write_text(text)
    arrows = back_arrows(package)
    assert len(arrows) == 1 and arrows[0].startswith(name)


def test_every_public_name_of_the_design_notes_imports_from_its_path():
    import importlib
    import re

    design = (PACKAGE.parent / "docs" / "design.md").read_text()
    lines = re.findall(r"^from (symsharing[\w.]*) import ([\w, ]+)$", design, flags=re.M)
    assert len(lines) >= 8  # the regex still finds the API blocks
    missing = [f"{module}.{name}" for module, names in lines for name in map(str.strip, names.split(","))
               if not hasattr(importlib.import_module(module), name)]
    assert missing == []
