"""Every core for the sweep engine: stacks of models trained in worker processes, one thread each.

Tiny models do not parallelise inside one process (two intra-op threads fight over the cores and
are slower than one), but independent stacks do: with ``worker_count()`` = W > 1, ``fit_many``
trains its stacks in this process *and* in a pool of W - 1 worker processes, each running one
intra-op torch thread. The pool is started once (``spawn``: a fresh interpreter, never a fork of a
process whose threads are running) and reused for the rest of the process. How models are grouped
into stacks never depends on the number of workers, and one thread computes a stack the same way
in any process, so the trained weights are bit-identical whatever the count. Models travel to the
workers by pickling; their trained parameters come back and are copied into the caller's models.

- **No cold start.** This process trains the cheapest stacks itself (from the end of the
  costliest-first order) while the workers take the costliest ones; a small feeder thread keeps the
  pool supplied while this process trains, so nothing waits for a starting worker: a worker joins
  in as soon as it has imported torch (about 1.5 s). ``prewarm()`` starts the pool ahead of a sweep;
  a new worker's first task imports the engine and trains a tiny stack, so its first real stack
  runs at full speed.
- **No trap.** A script that trains at its top level without ``if __name__ == "__main__":`` would
  be re-run by every ``spawn`` worker (``mainguard``): then the stacks train in this process alone,
  with one warning saying what to add. A pool that breaks before any task has finished (a worker
  that could not start) is given up the same way, and its stacks are trained here.
- **Clean shutdown.** Workers ignore SIGINT (a notebook kernel being interrupted or shut down
  signals its whole process group; the worker tracebacks of ``KeyboardInterrupt`` are gone); the
  pool is shut down at exit, and a sweep that ends early (an error, an interrupt) terminates the
  workers still training its stacks, so nothing keeps computing for a caller that is gone.

Scale-out: inside ``use_scheduler(client)`` the stacks go to the workers of a Dask distributed
cluster instead (one task per stack, the same job function, one intra-op thread per task). The
trained parameters come back to the caller, which writes its cache; Dask reruns the stacks of a
worker that dies on another worker, so a lost worker costs time, never a result.
"""

from __future__ import annotations

import atexit
import collections
import concurrent.futures
import contextlib
import multiprocessing
import os
import queue
import signal
import threading
import time
import warnings

import torch

from symsharing._checks import check_int
from symsharing.engine.mainguard import unguarded_main_script

__all__ = ["worker_count", "prewarm", "train_stack_job", "run_stacks", "run_calls", "use_scheduler",
           "scheduler", "shutdown"]

_pool: concurrent.futures.ProcessPoolExecutor | None = None
_pool_size = 0
_pool_worked = False  # a task of the current pool has finished (its workers do start)
_pool_lock = threading.Lock()
_local_lock = threading.Lock()  # held by the thread that trains a task in this process
_given_up = False  # workers could not be started from this process: train here
_warned: set[str] = set()
_client = None  # a dask.distributed Client while ``use_scheduler`` is active


def worker_count(workers: int | None = None) -> int:
    """``workers``, else ``$SYMSHARING_WORKERS``, else the number of CPU cores (at least 1); this
    process counts as one of them."""
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
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides when its workers stop
    torch.set_num_threads(1)
    os.environ["SYMSHARING_WORKERS"] = "1"  # a worker trains in itself: pools never nest
    os.environ.setdefault("TORCHINDUCTOR_COMPILE_THREADS", "1")  # compiled stacks: no nested compile pool
    threading.Thread(target=_exit_with_parent, args=(parent,), daemon=True).start()


def _warm_up() -> int:
    """A new worker's first task: import the engine and train a tiny stack for a few steps (a
    process's first training steps are slow); returns the worker's process id."""
    from symsharing.engine.stacks import train_stack
    from symsharing.models import MLP

    generator = torch.Generator().manual_seed(0)
    data = [(torch.randn(8, 4, generator=generator), torch.randn(8, 1, generator=generator))
            for _ in range(2)]
    train_stack([MLP(4, 1, 8), MLP(4, 1, 8)], data, steps=3, lr=1e-3, batch_size=None, seeds=[0, 1],
                augment_groups=[None, None])
    return os.getpid()


@contextlib.contextmanager
def _sigint_ignored():
    """SIGINT ignored in the block (main thread only), so that processes started in it inherit the
    ignored disposition from their first instruction, before ``_start_worker`` runs."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _warn_once(message: str, where: tuple[str, int] | None = None) -> None:
    """Warn once per process; ``where`` = (file, line) the warning names (default: the engine)."""
    if message not in _warned:
        _warned.add(message)
        file, line = where or (__file__, 0)
        warnings.warn_explicit(message, RuntimeWarning, file, line, module="symsharing.engine.pool")


def _worker_pool(workers: int) -> concurrent.futures.ProcessPoolExecutor | None:
    """The pool of ``workers - 1`` processes (this process is the other worker), started on first
    use and kept for later calls, or None when workers cannot be started from here (then the
    caller trains in this process)."""
    global _pool, _pool_size, _pool_worked
    unguarded = unguarded_main_script()
    if unguarded is not None:
        _warn_once(f"symsharing trains in this process only (1 of {workers} workers): this script "
                   f"trains at its top level, which every worker process would run again. Put the "
                   f"script's top-level code under `if __name__ == \"__main__\":` to train on "
                   f"{workers} workers.", unguarded)
        return None
    with _pool_lock:
        if _given_up:
            return None
        if _pool is None or _pool_size != workers - 1:
            _stop_pool(wait=True)
            _pool = concurrent.futures.ProcessPoolExecutor(
                max_workers=workers - 1, mp_context=multiprocessing.get_context("spawn"),
                initializer=_start_worker, initargs=(os.getpid(),))
            _pool_size, _pool_worked = workers - 1, False
            with _sigint_ignored():  # one warm-up task per worker starts every process now
                warm_ups = [_pool.submit(_warm_up) for _ in range(workers - 1)]
            for future in warm_ups:
                future.add_done_callback(_note_started)
        return _pool


def _note_started(future: concurrent.futures.Future) -> None:
    global _pool_worked
    if not future.cancelled() and future.exception() is None:
        _pool_worked = True


def prewarm(workers: int | None = None) -> bool:
    """Start the worker pool now, in the background, ahead of a sweep (returns at once); True when
    a pool is running or starting. Nothing to do (False) for one worker, inside ``use_scheduler``,
    or where workers cannot be started (see ``mainguard``)."""
    workers = worker_count(workers)
    return workers > 1 and _client is None and _worker_pool(workers) is not None


def _stop_pool(wait: bool) -> None:
    """Shut the pool down: ``wait`` for idle workers to exit, else terminate them at once."""
    global _pool, _pool_size
    if _pool is not None:
        processes = list((getattr(_pool, "_processes", None) or {}).values())
        _pool.shutdown(wait=wait, cancel_futures=True)
        if not wait:
            for process in processes:  # they may be training stacks nobody waits for any more
                process.terminate()
            for process in processes:
                process.join(timeout=10)
    _pool, _pool_size = None, 0


def shutdown() -> None:
    """Stop the pool (it restarts on the next use); registered to run at exit."""
    with _pool_lock:
        _stop_pool(wait=True)


atexit.register(shutdown)


@contextlib.contextmanager
def _threads(count: int):
    previous = torch.get_num_threads()
    torch.set_num_threads(count)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def _give_up(error: BaseException) -> None:
    global _given_up
    with _pool_lock:
        _given_up = True
        _stop_pool(wait=False)
    _warn_once(f"symsharing trains in this process only: its worker processes could not start ({error!r})")


def _share(order: list[int], workers: int, remote, local):
    """Yield ``(index, result, remote?)`` for every index of ``order`` as each finishes.

    With one worker, or one index, ``local(index)`` computes everything here. Otherwise this
    process computes ``local(index)`` for indices from the end of ``order`` (one intra-op thread)
    while a feeder thread submits ``remote(index) = (function, arguments)`` for indices from the
    front to the pool, keeping one more task in the pool than it has workers."""
    pending = collections.deque(order)
    executor = _worker_pool(workers) if workers > 1 and len(pending) > 1 else None
    if executor is None:
        for index in order:
            yield index, local(index), False
        return
    finished: queue.SimpleQueue = queue.SimpleQueue()
    lock, slots, stop = threading.Lock(), threading.Semaphore(_pool_size + 1), threading.Event()
    futures = []

    def submit_next() -> bool:
        """Submit the task at the front of ``pending``; False when there is none (or no pool)."""
        with lock:
            if stop.is_set() or not pending:
                return False
            index = pending.popleft()
        function, arguments = remote(index)
        try:
            future = executor.submit(function, *arguments)
        except (RuntimeError, concurrent.futures.BrokenExecutor) as error:  # shut down, or broken
            finished.put((index, None, error))
            return False
        futures.append(future)
        future.add_done_callback(lambda done: (finished.put((index, done, None)), slots.release()))
        return True

    def feed():
        while slots.acquire() and submit_next():
            pass

    def take_here() -> int | None:
        """The cheapest pending task, to compute in this process, if no other thread of this process
        computes one now (threads that call ``fit_many`` together share this process's one core)."""
        with lock:
            if not pending or not _local_lock.acquire(blocking=False):
                return None
            return pending.pop()

    here = take_here()  # this process starts at once on the cheapest task
    for _ in range(_pool_size + 1):  # the pool's first tasks, the costliest, before training here
        slots.acquire()
        submit_next()
    feeder = threading.Thread(target=feed, name="symsharing-feeder", daemon=True)
    feeder.start()
    remaining, completed = len(order), False
    try:
        while remaining:
            if here is not None:
                try:
                    with _threads(1):
                        result = local(here)
                finally:
                    _local_lock.release()
                yield here, result, False
                remaining -= 1
            try:  # while waiting for the pool, look now and then whether this process may take a task
                index, future, error = finished.get_nowait() if here is not None else \
                    finished.get(timeout=0.05 if pending else 0.5)
            except queue.Empty:
                index = None
            if index is not None:
                try:
                    result = future.result() if error is None else None
                except concurrent.futures.BrokenExecutor as broken:
                    error = broken
                if error is not None:
                    if _pool_worked:
                        raise error
                    _give_up(error)  # the pool never ran a task: train its share here
                    stop.set()
                    with lock:
                        pending.append(index)
                else:
                    yield index, result, True
                    remaining -= 1
            here = take_here()
        completed = True
    finally:
        stop.set()
        slots.release()  # wakes the feeder so that it sees ``stop``
        if not completed and any(not future.done() for future in futures):
            with _pool_lock:
                _stop_pool(wait=False)


def train_and_evaluate(models, datasets, kwargs: dict, evaluators=None) -> list[dict]:
    """Train one stack (``stacks.train_stack``) and return its histories; ``evaluators`` (one
    entry per model: None or ``f(model, history)``) run right after, where the stack trained, and
    each result is put into its model's history as ``"evaluation"``."""
    from symsharing.engine.compiled import compilable
    from symsharing.engine.stacks import train_stack

    compiled = kwargs.get("compile") and compilable(models)
    with _threads(1) if compiled else contextlib.nullcontext():  # compiled kernels: one thread
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
    finishes: in this process for one worker or one call, else shared with the pool."""
    calls = list(calls)
    for index, result, _ in _share(list(range(len(calls))), worker_count(workers),
                                   lambda i: (_one_thread_call, (function, calls[i])),
                                   lambda i: function(*calls[i])):
        yield index, result


def run_stacks(jobs, workers: int, order=None):
    """Train each job ``(models, datasets, kwargs[, evaluators])`` (``train_and_evaluate``) in
    ``order`` (job indices, costliest first; default: as given); yield ``(index, parameters,
    histories)`` as each finishes, in completion order. ``parameters`` is None when the models were
    trained in place (in this process); otherwise the caller copies them back."""
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
    for index, result, remote in _share(order, workers, lambda i: (train_stack_job, jobs[i]),
                                        lambda i: train_and_evaluate(*jobs[i])):
        yield (index, *result) if remote else (index, None, result)
