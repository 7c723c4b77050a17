"""Whether worker processes may be started from here: the main-module trap of ``spawn``.

A worker started with ``multiprocessing``'s ``spawn`` method (the engine's, see ``pool``) first
re-runs the main script, as ``__mp_main__``, to find the functions it is sent. Code under
``if __name__ == "__main__":`` does not run there; code at the script's top level does. A script
that trains at its top level, unguarded, would therefore train again in every worker, and the
worker, still starting up, would try to start workers of its own: Python refuses, the worker dies
and the pool is broken (``BrokenProcessPool``, after a page of bootstrap traceback).

``unguarded_main_script`` spots that case before any worker starts: it finds the line the main
thread is executing in the main script's top level and checks, from the script's syntax tree,
whether that line lies inside an ``if __name__ == "__main__":`` block. Notebooks, ``python -c``,
the REPL, ``python -m package`` (a package's ``__main__`` is never re-run) and pytest have nothing
to re-run and are never flagged. See the ``multiprocessing`` documentation, "Safe importing of
main module".
"""

from __future__ import annotations

import ast
import functools
import os
import sys
import threading

__all__ = ["unguarded_main_script"]


def unguarded_main_script() -> tuple[str, int] | None:
    """``(path, line)`` of the main script and the top-level line the main thread is executing now
    when a ``spawn`` worker would re-run that line (no ``if __name__ == "__main__":`` around it);
    None when starting workers is safe. A script whose source cannot be read or parsed counts as
    unguarded."""
    main = sys.modules.get("__main__")
    spec_name = getattr(getattr(main, "__spec__", None), "name", None)
    if spec_name is not None and (spec_name == "__main__" or spec_name.endswith(".__main__")):
        return None  # spawn skips a package's __main__ (multiprocessing.spawn._fixup_main_from_name)
    path = getattr(main, "__file__", None)
    if not path:
        return None  # a notebook, the REPL, python -c: nothing is re-run
    frame = sys._current_frames().get(threading.main_thread().ident)
    while frame is not None and not (frame.f_code.co_name == "<module>" and frame.f_globals is vars(main)):
        frame = frame.f_back
    if frame is None:
        return None  # the main thread is not inside the script's top level (it has finished running it)
    try:
        blocks = _guarded_blocks(os.path.abspath(path), os.stat(path).st_mtime_ns)
    except (OSError, SyntaxError, ValueError):
        return path, frame.f_lineno
    return None if any(first <= frame.f_lineno <= last for first, last in blocks) else (path, frame.f_lineno)


@functools.lru_cache(maxsize=8)
def _guarded_blocks(path: str, modified: int) -> tuple[tuple[int, int], ...]:
    """The line ranges of the bodies of the top-level ``if __name__ == "__main__":`` blocks of the
    file at ``path`` (``modified``: its modification time, so an edited file is parsed again)."""
    with open(path, "rb") as handle:
        tree = ast.parse(handle.read(), filename=path)
    return tuple((node.body[0].lineno, node.body[-1].end_lineno) for node in tree.body
                 if isinstance(node, ast.If) and _is_main_test(node.test))


def _is_main_test(test: ast.expr) -> bool:
    """True for ``__name__ == "__main__"`` (either way round)."""
    if not (isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], ast.Eq)):
        return False
    sides = [test.left, test.comparators[0]]
    names = [s.id for s in sides if isinstance(s, ast.Name)]
    constants = [s.value for s in sides if isinstance(s, ast.Constant)]
    return names == ["__name__"] and constants == ["__main__"]
