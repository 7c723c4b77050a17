"""Tests for ``symsharing.engine.mainguard``: which lines of a script a ``spawn`` worker would re-run.
(A whole script with and without a guard is run in ``tests/test_pool.py``.)"""

import sys
import textwrap
import types

from symsharing.engine import mainguard

SCRIPT = textwrap.dedent('''\
    import torch                        # 1
    if __name__ == "__main__":          # 2
        train()                         # 3
        more()                          # 4
    else:                               # 5
        worker_side()                   # 6
    if "__main__" == __name__:          # 7
        reversed_test()                 # 8
    if __name__ != "__main__":          # 9
        not_a_guard()                   # 10
    def f():                            # 11
        if __name__ == "__main__":      # 12
            nested()                    # 13
    ''')


def _blocks(tmp_path, source: str):
    path = tmp_path / "script.py"
    path.write_text(source)
    return mainguard._guarded_blocks(str(path), path.stat().st_mtime_ns)


def test_only_the_bodies_of_top_level_main_guards_are_guarded(tmp_path):
    blocks = _blocks(tmp_path, SCRIPT)
    guarded = {line for first, last in blocks for line in range(first, last + 1)}
    assert guarded == {3, 4, 8}


def test_a_script_without_a_guard_has_no_guarded_line(tmp_path):
    assert _blocks(tmp_path, "import torch\ntrain()\n") == ()


def test_nothing_is_re_run_without_a_main_file(monkeypatch):
    for main in (types.ModuleType("__main__"),  # the REPL, python -c, a notebook kernel's namespace
                 types.SimpleNamespace(__spec__=types.SimpleNamespace(name="symsharing.__main__"),
                                       __file__="/somewhere/__main__.py")):  # python -m package
        monkeypatch.setitem(sys.modules, "__main__", main)
        assert mainguard.unguarded_main_script() is None


def test_pytest_itself_is_safe():
    assert mainguard.unguarded_main_script() is None
