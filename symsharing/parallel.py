"""Every core for the sweep engine: stacks of models trained in worker processes, one thread each.

Tiny models do not parallelise inside one process (two intra-op threads fight over the cores and
are slower than one), but independent stacks do: ``fit_many`` sends each stack to a pool of
``worker_count()`` processes, each running one intra-op torch thread, started once (``spawn``:
a fresh interpreter, never a fork of a process whose threads are running) and reused for the
rest of the process. How models are grouped into stacks never depends on the number of workers,
and one thread computes a stack the same way in any process, so the trained weights are
bit-identical whatever the count. Models travel to the workers by pickling; their trained
parameters come back and are copied into the caller's models. As with any ``spawn`` pool, a
script that trains with more than one worker must guard its entry point with
``if __name__ == "__main__":`` (notebooks, ``python -m symsharing`` and pytest need nothing).
"""

from __future__ import annotations

import atexit
import concurrent.futures
import multiprocessing
import os
import threading
import time

import torch

from ._checks import check_int

__all__ = ["worker_count", "executor", "train_stack_job", "shutdown"]

_executor: concurrent.futures.ProcessPoolExecutor | None = None
_executor_size = 0


def worker_count(workers: int | None = None) -> int:
    """``workers``, else ``$SYMSHARING_WORKERS``, else the number of CPU cores (at least 1)."""
    if workers is None:
        configured = os.environ.get("SYMSHARING_WORKERS", "").strip()
        if configured:
            try:
                workers = int(configured)
            except ValueError:
                raise ValueError(f"SYMSHARING_WORKERS must be a positive integer, "
                                 f"got {configured!r}") from None
        else:
            workers = os.cpu_count() or 1
    return check_int(workers, "workers", minimum=1)


def _exit_with_parent(parent: int) -> None:
    while True:
        if os.getppid() != parent:  # the parent died (e.g. SIGKILL): never outlive it
            os._exit(0)
        time.sleep(0.5)


def _start_worker(parent: int) -> None:
    torch.set_num_threads(1)
    threading.Thread(target=_exit_with_parent, args=(parent,), daemon=True).start()


def executor(workers: int) -> concurrent.futures.ProcessPoolExecutor:
    """The process pool of ``workers`` workers, started on first use and kept for later calls."""
    global _executor, _executor_size
    if _executor is None or _executor_size != workers:
        shutdown()
        _executor = concurrent.futures.ProcessPoolExecutor(
            max_workers=workers, mp_context=multiprocessing.get_context("spawn"), initializer=_start_worker,
            initargs=(os.getpid(),))
        _executor_size = workers
    return _executor


def shutdown() -> None:
    """Stop the pool (it restarts on the next use)."""
    global _executor, _executor_size
    if _executor is not None:
        _executor.shutdown(wait=True, cancel_futures=True)
    _executor, _executor_size = None, 0


atexit.register(shutdown)


def train_stack_job(models, datasets, kwargs: dict) -> tuple[list[dict], list[dict]]:
    """Run in a worker: train one stack (``_stacked.train_stack``); return each model's trained
    parameters (by name) and its history."""
    from ._stacked import train_stack

    histories = train_stack(models, datasets, **kwargs)
    return [{name: p.detach() for name, p in model.named_parameters()} for model in models], histories
