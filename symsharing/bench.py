"""``python -m symsharing bench``: the per-model training loop against the stacked engine.

Reference workload: K = 32 MLPs 16 -> 64 -> 64 -> 1, 512 samples each, full batch, 500 Adam
steps. (a) the loop trains plain ``nn.Sequential`` models with ``torch.optim.Adam``, one model
after another; (b) the engine is ``symsharing.train.fit_many``. Both run with torch's default
thread count, in alternating repetitions (A B A B ...) because the machine may be shared, and the
medians are reported. FLOPs are 3x the forward matmul FLOPs (forward + two backward products);
the GEMM peak is a float32 1024 x 1024 matmul measured on the spot with the same threads.

When ``jax`` (and ``optax``) can be imported, a third row times the same workload in JAX: the same
data and initial weights, stacked over the K models, one ``jax.jit``-compiled function running
every step in a ``jax.lax.fori_loop``, each step ``jax.vmap`` over the models of ``jax.grad`` of
the per-model MSE, then ``optax.adam(1e-3)``; float32, default threads, compile time printed apart.
JAX is not a dependency of the book: without it the row is skipped.

Besides the workloads, the bench times the quick study from an empty cache with one worker and
with every worker, and prints ``parallel efficiency: E`` = time on 1 / (workers x time on all).

The last line printed is ``engine/loop speedup: X.XX  fraction of GEMM peak: F.FF``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from dataclasses import dataclass, replace

import torch
import torch.nn.functional as F
from torch import nn

from symsharing.engine.stacks import retain_freed_memory
from symsharing.models import MLP
from symsharing.train import fit_many

__all__ = ["Workload", "REFERENCE", "EXTRA", "TINY", "gemm_peak", "time_loop", "time_engine",
           "time_jax", "time_study", "main"]


@dataclass(frozen=True)
class Workload:
    """K MLPs ``n_in -> width -> ... -> 1`` (``depth`` hidden layers), ``n`` samples, full batch."""

    k: int = 32
    n: int = 512
    n_in: int = 16
    width: int = 64
    depth: int = 2
    steps: int = 500

    @property
    def name(self) -> str:
        return f"K={self.k} {self.n_in}-{self.width}x{self.depth}-1 n={self.n} {self.steps} steps"

    def flops(self) -> int:
        """3x the forward matmul FLOPs of every model and step."""
        per_sample = self.n_in * self.width + self.width * self.width * (self.depth - 1) + self.width
        return 3 * 2 * self.n * per_sample * self.k * self.steps


REFERENCE = Workload()
# Steps of the extra rows are cut where a row would cost several times the reference's FLOPs,
# to keep the whole bench near five minutes; GFLOP/s and ratios stay comparable.
EXTRA = (Workload(width=16), Workload(width=256, steps=50), Workload(k=128, steps=125), Workload(n=100))
TINY = Workload(k=4, n=32, n_in=4, width=8, steps=5)


def gemm_peak(size: int = 1024, reps: int = 7, per_rep: int = 4) -> float:
    """Median GFLOP/s of a float32 ``size x size`` matmul with the current thread count."""
    a, b = torch.randn(size, size), torch.randn(size, size)
    a @ b  # warm-up
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        for _ in range(per_rep):
            a @ b
        times.append((time.perf_counter() - start) / per_rep)
    return 2 * size**3 / statistics.median(times) / 1e9


def _data(w: Workload) -> list[tuple[torch.Tensor, torch.Tensor]]:
    generator = torch.Generator().manual_seed(0)
    return [(torch.randn(w.n, w.n_in, generator=generator), torch.randn(w.n, 1, generator=generator))
            for _ in range(w.k)]


def _sequential(w: Workload) -> nn.Sequential:
    sizes = [w.n_in] + [w.width] * w.depth
    layers = []
    for a, b in zip(sizes[:-1], sizes[1:], strict=True):
        layers += [nn.Linear(a, b), nn.ReLU()]
    return nn.Sequential(*layers, nn.Linear(sizes[-1], 1))


def time_loop(w: Workload, data) -> float:
    """Seconds for the plain loop: one ``nn.Module`` and one ``torch.optim.Adam`` per model, in turn."""
    start = time.perf_counter()
    for k, (X, y) in enumerate(data):
        torch.manual_seed(k)
        model = _sequential(w)
        optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
        for _ in range(w.steps):
            loss = F.mse_loss(model(X), y)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
    return time.perf_counter() - start


def time_engine(w: Workload, data) -> float:
    """Seconds for ``fit_many`` on the same models and data (model construction included)."""
    start = time.perf_counter()
    fit_many(_initial_models(w), data, steps=w.steps, lr=1e-3)
    return time.perf_counter() - start


def _initial_models(w: Workload) -> list[MLP]:
    models = []
    for k in range(w.k):
        torch.manual_seed(k)
        models.append(MLP(w.n_in, 1, w.width, w.depth))
    return models


def final_loss(models, data) -> float:
    """Mean over the models of the MSE of ``models[k]`` on ``data[k]``."""
    with torch.no_grad():
        return float(sum(F.mse_loss(m(X), y) for m, (X, y) in zip(models, data, strict=True)) / len(models))


def time_jax(w: Workload, data) -> tuple[float, float, float] | None:
    """``(seconds, compile seconds, final loss)`` for the workload in JAX (see the module docstring),
    or None when ``jax`` or ``optax`` cannot be imported. The final loss (as ``final_loss``) shows
    that JAX trained the same models as the engine: same initial weights, data and optimiser."""
    try:
        import jax
        import jax.numpy as jnp
        import optax
    except ImportError:
        return None
    models = _initial_models(w)
    # per layer: weights [K, in, out], biases [K, out], from the very same torch initialisation
    params = [(jnp.asarray(torch.stack([m.layers[i].weight.detach().T for m in models]).numpy()),
               jnp.asarray(torch.stack([m.layers[i].bias.detach() for m in models]).numpy()))
              for i in range(len(models[0].layers))]
    X = jnp.asarray(torch.stack([x for x, _ in data]).numpy())  # [K, n, n_in]
    y = jnp.asarray(torch.stack([t for _, t in data]).numpy())  # [K, n, 1]
    optimizer = optax.adam(1e-3)

    def loss(layers, x, target):
        h = x
        for weight, bias in layers[:-1]:
            h = jax.nn.relu(h @ weight + bias)
        weight, bias = layers[-1]
        return jnp.mean((h @ weight + bias - target) ** 2)

    gradients = jax.vmap(jax.grad(loss))

    def train(layers, x, target):
        def step(_, state):
            layers, opt_state = state
            updates, opt_state = optimizer.update(gradients(layers, x, target), opt_state, layers)
            return optax.apply_updates(layers, updates), opt_state

        return jax.lax.fori_loop(0, w.steps, step, (layers, optimizer.init(layers)))

    start = time.perf_counter()
    compiled = jax.jit(train).lower(params, X, y).compile()
    compile_seconds = time.perf_counter() - start
    start = time.perf_counter()
    trained, _ = jax.block_until_ready(compiled(params, X, y))
    seconds = time.perf_counter() - start
    return seconds, compile_seconds, float(jnp.mean(jax.vmap(loss)(trained, X, y)))


def _alternate(w: Workload, reps: int, peak_size: int = 1024, with_jax: bool = False):
    """Loop, engine, JAX (``with_jax``; None without JAX) and GEMM-peak measurements, interleaved:
    ``reps`` of each."""
    data = _data(w)
    loop, engine, jax, peaks = [], [], [] if with_jax else None, []
    for _ in range(reps):
        loop.append(time_loop(w, data))
        engine.append(time_engine(w, data))
        if jax is not None:
            jax = None if (timed := time_jax(w, data)) is None else jax + [timed]
        peaks.append(gemm_peak(size=peak_size, reps=3))
    return loop, engine, jax, peaks


def time_study(workers: int | None = None) -> float:
    """Seconds for the whole study (``registry.run_all``) in quick mode from an empty cache, its
    stacks trained by ``workers`` worker processes (default: ``parallel.worker_count()``)."""
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


def _row(name: str, how: str, seconds: float, flops: int | None, note: str = "") -> str:
    rate = f"{flops / seconds / 1e9:9.1f}" if flops else f"{'':9}"
    count = f"{flops / 1e9:9.1f}" if flops else f"{'':9}"
    return f"{name:48} {how:7} {seconds:9.2f} {rate} {count}  {note}"


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print its table; the last line is the speedup and fraction of peak."""
    parser = argparse.ArgumentParser(prog="python -m symsharing bench", description=__doc__.split("\n")[0])
    parser.add_argument("--reps", type=int, default=3, help="alternating repetitions of the reference "
                        "workload, each side (default 3)")
    parser.add_argument("--extra-reps", type=int, default=1,
                        help="repetitions of each extra workload, each side (default 1)")
    parser.add_argument("--no-extra", action="store_true", help="only the reference workload")
    parser.add_argument("--no-study", action="store_true", help="skip timing the quick study")
    parser.add_argument("--steps", type=int, default=None,
                        help="steps of the reference workload (default 500); extra rows scale with it")
    parser.add_argument("--tiny", action="store_true",
                        help="a seconds-long smoke run on a tiny workload (format check only)")
    args = parser.parse_args(argv)
    if args.reps < 1 or args.extra_reps < 1 or (args.steps is not None and args.steps < 1):
        parser.error(f"--reps, --extra-reps and --steps must be >= 1, got {args.reps}, "
                     f"{args.extra_reps} and {args.steps}")
    started = time.perf_counter()
    tuned = retain_freed_memory()
    threads = torch.get_num_threads()
    reference, extra = (TINY, ()) if args.tiny else (REFERENCE, () if args.no_extra else EXTRA)
    if args.steps is not None and not args.tiny:
        scale = args.steps / REFERENCE.steps
        reference = replace(reference, steps=args.steps)
        extra = tuple(replace(w, steps=max(1, round(w.steps * scale))) for w in extra)
    reps = min(args.reps, 2) if args.tiny else args.reps
    peak_size = 128 if args.tiny else 1024
    peak = gemm_peak(size=peak_size)
    _alternate(TINY, 1, peak_size)  # warm-up: the first training steps of a process are slow
    print(f"torch {torch.__version__}, {threads} threads, {os.cpu_count()} CPUs, load average "
          f"{os.getloadavg()[0]:.1f}; allocator keeps freed memory: {tuned}; "
          f"GEMM peak (float32 matmul) at the start: {peak:.1f} GFLOP/s")
    print(f"{'workload':48} {'how':7} {'median s':>9} {'GFLOP/s':>9} {'GFLOP':>9}  note")
    summary = None
    for w, n_reps in [(reference, reps)] + [(w, args.extra_reps) for w in extra]:
        loop, engine, jax, peaks = _alternate(w, n_reps, peak_size, with_jax=w is reference)
        t_loop, t_engine = statistics.median(loop), statistics.median(engine)
        note = ("reference, " if w is reference else "") + f"{n_reps} reps each, alternating"
        print(_row(w.name, "loop", t_loop, w.flops(), note), flush=True)
        print(_row(w.name, "engine", t_engine, w.flops(), f"engine/loop {t_loop / t_engine:.2f}"), flush=True)
        if jax:
            t_jax = statistics.median(t for t, _, _ in jax)
            data = _data(w)
            engine_models = _initial_models(w)
            fit_many(engine_models, data, steps=w.steps, lr=1e-3)
            compile_seconds = statistics.median(c for _, c, _ in jax)
            print(_row(w.name, "jax", t_jax, w.flops(),
                       f"engine/jax {t_jax / t_engine:.2f}; compile {compile_seconds:.1f} s apart; "
                       f"final loss jax {jax[0][2]:.5f}, engine {final_loss(engine_models, data):.5f}"),
                  flush=True)
        elif w is reference:
            print(f"{w.name:48} {'jax':7} (skipped: jax or optax cannot be imported)")
        if summary is None:  # the reference: peak measured between its repetitions
            peak = statistics.median(peaks)
            print(f"{'GEMM peak between the reference repetitions':48} {'':7} {'':9} {peak:9.1f}")
            summary = (t_loop / t_engine, w.flops() / t_engine / 1e9 / peak)
    if not (args.tiny or args.no_study):
        from symsharing.engine.pool import worker_count

        workers = worker_count()
        one, every = time_study(1), time_study(workers)
        print(_row("full study (quick mode, empty cache), 1 worker", "engine", one, None,
                   "run_all(quick=True)"))
        print(_row(f"full study (quick mode, empty cache), {workers} workers", "engine", every, None,
                   f"speedup {one / every:.2f}"))
        print(f"parallel efficiency: {one / (workers * every):.2f}")
    print(f"bench took {time.perf_counter() - started:.0f} s; load average now {os.getloadavg()[0]:.1f}")
    print(f"engine/loop speedup: {summary[0]:.2f}  fraction of GEMM peak: {summary[1]:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
