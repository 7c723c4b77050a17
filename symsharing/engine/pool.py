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

Scale-out: inside ``use_scheduler(client)`` the stacks go to the workers of a Dask distributed
cluster instead (one task per stack, the same job function, one intra-op thread per task). The
trained parameters come back to the caller, which writes its cache; Dask reruns the stacks of a
worker that dies on another worker, so a lost worker costs time, never a result.
"""

from __future__ import annotations

import atexit
import concurrent.futures
import contextlib
import multiprocessing
import os
import threading
import time

import torch

from symsharing._checks import check_int

__all__ = ["worker_count", "executor", "train_stack_job", "run_stacks", "run_calls", "use_scheduler",
           "scheduler", "shutdown"]

_executor: concurrent.futures.ProcessPoolExecutor | None = None
_executor_size = 0
_executor_lock = threading.Lock()
_client = None  # a dask.distributed Client while ``use_scheduler`` is active


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
    os.environ["SYMSHARING_WORKERS"] = "1"  # a worker trains in itself: pools never nest
    threading.Thread(target=_exit_with_parent, args=(parent,), daemon=True).start()


def executor(workers: int) -> concurrent.futures.ProcessPoolExecutor:
    """The process pool of ``workers`` workers, started on first use and kept for later calls (one
    pool per process, shared by every thread that trains)."""
    global _executor, _executor_size
    with _executor_lock:
        if _executor is None or _executor_size != workers:
            shutdown()
            _executor = concurrent.futures.ProcessPoolExecutor(
                max_workers=workers, mp_context=multiprocessing.get_context("spawn"),
                initializer=_start_worker, initargs=(os.getpid(),))
            _executor_size = workers
        return _executor


def shutdown() -> None:
    """Stop the pool (it restarts on the next use)."""
    global _executor, _executor_size
    if _executor is not None:
        _executor.shutdown(wait=True, cancel_futures=True)
    _executor, _executor_size = None, 0


atexit.register(shutdown)


def train_and_evaluate(models, datasets, kwargs: dict, evaluators=None) -> list[dict]:
    """Train one stack (``_stacked.train_stack``) and return its histories; ``evaluators`` (one
    entry per model: None or ``f(model, history)``) run right after, where the stack trained, and
    each result is put into its model's history as ``"evaluation"``."""
    from symsharing.engine.stacks import train_stack

    histories = train_stack(models, datasets, **kwargs)
    for model, history, evaluate in zip(models, histories, evaluators or [None] * len(models), strict=True):
        if evaluate is not None:
            history["evaluation"] = evaluate(model, history)
    return histories


def train_stack_job(models, datasets, kwargs: dict, evaluators=None) -> tuple[list[dict], list[dict]]:
    """Run in a worker (pool process or Dask worker): ``train_and_evaluate`` one stack with one
    intra-op thread; return each model's trained parameters (by name, on the CPU) and its history."""
    torch.set_num_threads(1)
    histories = train_and_evaluate(models, datasets, kwargs, evaluators)
    return [{name: p.detach().cpu() for name, p in model.named_parameters()} for model in models], histories


@contextlib.contextmanager
def use_scheduler(client):
    """Within the block, ``fit_many`` sends its stacks to the Dask cluster of ``client`` (a
    ``dask.distributed.Client``) instead of the local pool. Workers need this package installed."""
    global _client
    previous, _client = _client, client
    try:
        yield client
    finally:
        _client = previous


def scheduler():
    """The Dask client set by ``use_scheduler``, or None."""
    return _client


def _one_thread_call(function, arguments):
    torch.set_num_threads(1)
    return function(*arguments)


def run_calls(function, calls, workers: int | None = None):
    """``function(*arguments)`` for each ``arguments`` of ``calls`` (``function`` importable at module
    level, arguments picklable), one intra-op thread each; yield ``(index, result)`` as each
    finishes: in this process for one worker or one call, else in the pool."""
    calls = list(calls)
    workers = worker_count(workers)
    if workers == 1 or len(calls) <= 1:
        for index, arguments in enumerate(calls):
            yield index, function(*arguments)
        return
    pool = executor(workers)
    futures = {pool.submit(_one_thread_call, function, arguments): index
               for index, arguments in enumerate(calls)}
    try:
        for future in concurrent.futures.as_completed(futures):
            yield futures[future], future.result()
    finally:
        for future in futures:
            future.cancel()


def run_stacks(jobs, workers: int, order=None):
    """Train each job ``(models, datasets, kwargs[, evaluators])`` (``train_and_evaluate``),
    submitted in ``order`` (job indices; default: as given); yield ``(index, parameters,
    histories)`` as each finishes, in completion order.
    ``parameters`` is None when the models were trained in place (one worker, or a single stack,
    without a scheduler); otherwise the caller copies them back."""
    order = list(range(len(jobs))) if order is None else list(order)
    if sorted(order) != list(range(len(jobs))):
        raise ValueError(f"order must list every job index once, got {order}")
    if _client is not None:
        from dask.distributed import as_completed

        futures = {_client.submit(train_stack_job, *jobs[index], pure=False): index for index in order}
        try:
            for future in as_completed(futures):
                parameters, histories = future.result()
                yield futures[future], parameters, histories
        finally:
            _client.cancel(list(futures))  # no-op for finished stacks; stops the rest on an error
        return
    if workers == 1 or len(jobs) == 1:
        for index in order:
            yield index, None, train_and_evaluate(*jobs[index])
        return
    pool = executor(workers)  # never resized per call: other threads may be using it
    futures = {pool.submit(train_stack_job, *jobs[index]): index for index in order}
    try:
        for future in concurrent.futures.as_completed(futures):
            parameters, histories = future.result()
            yield futures[future], parameters, histories
    finally:
        for future in futures:
            future.cancel()
