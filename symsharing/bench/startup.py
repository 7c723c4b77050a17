"""What a process pays before the engine runs at full speed, and how the quick study scales.

- ``first_calls``: the reference workload trained three times in a *fresh* Python process (``python
  -c``, no prewarm): the first call includes starting the worker pool and each process's slow
  first steps; the cost of a cold start is the first call's time minus the later calls'.
- ``time_study``: the whole study (``registry.run_all``) in quick mode from an empty cache, on one
  worker and on all of them, for the parallel efficiency time on 1 / (workers x time on all).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

__all__ = ["first_calls", "time_study"]

_FIRST_CALLS = """
import json, sys, time
from symsharing.bench.workloads import Workload, time_engine
w = Workload(**json.loads(sys.argv[1]))
data = w.data()
print(json.dumps([time_engine(w, data, compile=sys.argv[2] == "1") for _ in range(3)]))
"""


def first_calls(w, compile: bool = False, timeout: float = 900) -> list[float]:
    """Seconds of three successive ``fit_many`` calls on workload ``w`` (a ``Workload``) in a fresh
    process with this process's settings (``SYMSHARING_WORKERS`` and the like)."""
    fields = {name: getattr(w, name) for name in ("k", "n", "n_in", "width", "depth", "steps")}
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(Path(__file__).resolve().parents[2])] + [p for p in [os.environ.get("PYTHONPATH")] if p])}
    completed = subprocess.run([sys.executable, "-c", _FIRST_CALLS, json.dumps(fields), str(int(compile))],
                               capture_output=True, text=True, timeout=timeout, env=environment, check=False)
    if completed.returncode != 0:
        raise RuntimeError(f"the first-call benchmark failed:\n{completed.stderr[-2000:]}")
    return json.loads(completed.stdout.strip().splitlines()[-1])


def time_study(workers: int | None = None) -> float:
    """Seconds for the whole study (``registry.run_all``) in quick mode from an empty cache, its
    stacks trained by ``workers`` workers (default: ``pool.worker_count()``)."""
    from symsharing.engine.pool import worker_count
    from symsharing.registry import run_all  # the study imports everything: only load it when timed

    saved = {name: os.environ.get(name) for name in ("SYMSHARING_QUICK", "SYMSHARING_CACHE_DIR",
                                                     "SYMSHARING_WORKERS")}
    with tempfile.TemporaryDirectory(prefix="symsharing-bench-") as folder:
        os.environ.update(SYMSHARING_QUICK="1", SYMSHARING_CACHE_DIR=folder,
                          SYMSHARING_WORKERS=str(worker_count(workers)))
        try:
            start = time.perf_counter()
            run_all(quick=True)
            return time.perf_counter() - start
        finally:
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value
