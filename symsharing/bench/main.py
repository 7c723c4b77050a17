"""``python -m symsharing bench``: run the benchmark and print its table (see ``symsharing.bench``)."""

from __future__ import annotations

import argparse
import importlib.util
import os
import statistics
import time
from dataclasses import replace

import torch

from symsharing.bench.jax_rows import time_jax
from symsharing.bench.profile import SHARES, profile_stack
from symsharing.bench.startup import first_calls, time_study
from symsharing.bench.workloads import (
    EXTRA,
    REFERENCE,
    TIED,
    TINY,
    TINY_TIED,
    final_loss,
    gemm_peak,
    time_engine,
    time_loop,
)
from symsharing.engine.compiled import compilable
from symsharing.engine.pool import worker_count
from symsharing.engine.stacks import retain_freed_memory

__all__ = ["main"]

AHEAD = 1.5  # engine/jax below this prints a profile
LOOP_MODELS = 8  # the loop of the reference and tied workloads is timed on 8 models and scaled


def _row(name: str, how: str, seconds: float, flops: int | None, note: str = "") -> str:
    rate = f"{flops / seconds / 1e9:9.1f}" if flops else f"{'':9}"
    count = f"{flops / 1e9:9.1f}" if flops else f"{'':9}"
    return f"{name:46} {how:8} {seconds:9.2f} {rate} {count}  {note}"


def _alternate(w, reps: int, sides: list[str]) -> dict[str, list]:
    """``reps`` timings of each side (loop, engine, compiled, jax, peak), interleaved in that order;
    the jax side holds ``time_jax``'s triples."""
    data = w.data()
    times: dict[str, list] = {side: [] for side in sides}
    for _ in range(reps):
        for side in sides:
            if side == "loop":
                times[side].append(time_loop(w, data, models=min(LOOP_MODELS, w.k)))
            elif side in ("engine", "compiled"):
                times[side].append(time_engine(w, data, compile=side == "compiled"))
            elif side == "jax":
                times[side].append(time_jax(w.models(), data, w.steps))
            else:
                times[side].append(gemm_peak(size=256 if w.k < 32 else 1024, reps=3))
    return times


def _workload_rows(w, reps: int, compile: bool, note: str, profile: bool) -> tuple[float, float, float]:
    """Print a workload's rows; return (loop s, engine s, GEMM peak between the repetitions)."""
    if compile and not compilable(w.models()):
        print(f"{w.name:46} {'compiled':8} (skipped: only MLP stacks are compiled, see engine.compiled)")
        compile = False
    first_compiled = time_engine(replace(w, steps=max(1, w.steps // 50)), w.data(), compile=True) \
        if compile else None  # compiles the architecture in every process of the pool
    have_jax = all(importlib.util.find_spec(name) is not None for name in ("jax", "optax"))
    sides = ["loop", "engine"] + (["compiled"] if compile else []) + (["jax"] if have_jax else []) + ["peak"]
    times = _alternate(w, reps, sides)
    median = {side: statistics.median(t if side != "jax" else [x[0] for x in t]) for side, t in times.items()}
    print(_row(w.name, "loop", median["loop"], w.flops(),
               f"{note}{reps} reps each, alternating; loop timed on {min(LOOP_MODELS, w.k)} models, scaled"),
          flush=True)
    print(_row(w.name, "engine", median["engine"], w.flops(),
               f"engine/loop {median['loop'] / median['engine']:.2f}"),
          flush=True)
    if compile:
        print(_row(w.name, "compiled", median["compiled"], w.flops(),
                   f"compiled/engine {median['engine'] / median['compiled']:.2f}; first compiled call "
                   f"(compiling, {max(1, w.steps // 50)} steps) {first_compiled:.1f} s"), flush=True)
    if "jax" in times:
        jax_seconds, compile_seconds = median["jax"], statistics.median(c for _, c, _ in times["jax"])
        models, data = w.models(), w.data()
        time_engine(w, data, models=models)
        ratios = {how: jax_seconds / median[how] for how in ("engine", "compiled") if how in median}
        print(_row(w.name, "jax", jax_seconds, w.flops(),
                   "; ".join(f"{how}/jax {ratio:.2f}" for how, ratio in ratios.items())
                   + f"; jax compile {compile_seconds:.1f} s apart; final loss jax {times['jax'][0][2]:.5f}, "
                   f"engine {final_loss(models, data):.5f}"), flush=True)
        if profile and max(ratios.values()) < AHEAD:
            for how in ratios:
                shares = profile_stack(w, compile=how == "compiled")
                print(f"  profile of one {how} stack (1 thread): "
                      + ", ".join(f"{share} {shares[share]:.0%}" for share in SHARES), flush=True)
    else:
        print(f"{w.name:46} {'jax':8} (skipped: jax or optax cannot be imported)")
    return median["loop"], median["engine"], statistics.median(times["peak"])


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print its table; the last line is the speedup and fraction of peak."""
    from symsharing import bench

    parser = argparse.ArgumentParser(prog="python -m symsharing bench",
                                     description=bench.__doc__.split("\n")[0])
    parser.add_argument("--reps", type=int, default=3, help="alternating repetitions of the reference "
                        "and tied workloads, each side (default 3)")
    parser.add_argument("--extra-reps", type=int, default=1,
                        help="repetitions of each extra workload, each side (default 1)")
    parser.add_argument("--no-extra", action="store_true", help="skip the extra MLP workloads")
    parser.add_argument("--no-study", action="store_true", help="skip timing the quick study")
    parser.add_argument("--no-compile", action="store_true", help="skip the compiled rows")
    parser.add_argument("--no-first-call", action="store_true", help="skip the fresh-process first call")
    parser.add_argument("--steps", type=int, default=None,
                        help="steps of the reference workload (default 500); the other rows scale with it")
    parser.add_argument("--tiny", action="store_true",
                        help="a seconds-long smoke run on tiny workloads (format check only)")
    args = parser.parse_args(argv)
    if args.reps < 1 or args.extra_reps < 1 or (args.steps is not None and args.steps < 1):
        parser.error(f"--reps, --extra-reps and --steps must be >= 1, got {args.reps}, "
                     f"{args.extra_reps} and {args.steps}")
    started = time.perf_counter()
    tuned = retain_freed_memory()
    reference, tied, extra = (TINY, TINY_TIED, ()) if args.tiny else \
        (REFERENCE, TIED, () if args.no_extra else EXTRA)
    if args.steps is not None and not args.tiny:
        scale = args.steps / REFERENCE.steps
        reference = replace(reference, steps=args.steps)
        tied = replace(tied, steps=max(1, round(tied.steps * scale)))
        extra = tuple(replace(w, steps=max(1, round(w.steps * scale))) for w in extra)
    reps = 1 if args.tiny else args.reps
    compile = not (args.tiny or args.no_compile)
    peak = gemm_peak(size=256 if args.tiny else 1024)
    time_engine(replace(reference, steps=5), reference.data())  # starts the pool: warm against warm
    workers = worker_count()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, {os.cpu_count()} CPUs, "
          f"{workers} workers; "
          f"load average {', '.join(f'{x:.1f}' for x in os.getloadavg())} (1, 5, 15 min); allocator keeps "
          f"freed memory: {tuned}; GEMM peak (float32 matmul) at the start: {peak:.1f} GFLOP/s")
    print(f"{'workload':46} {'how':8} {'median s':>9} {'GFLOP/s':>9} {'GFLOP':>9}  note")
    loop, engine, peak = _workload_rows(reference, reps, compile, "reference, ", profile=True)
    print(f"{'GEMM peak between the reference repetitions':46} {'':8} {'':9} {peak:9.1f}")
    summary = (loop / engine, reference.flops() / engine / 1e9 / peak)
    _workload_rows(tied, reps, compile, "tied (ring SharedMLP), ", profile=True)
    for w in extra:
        data = w.data()
        loops, engines = [], []
        for _ in range(args.extra_reps):
            loops.append(time_loop(w, data))
            engines.append(time_engine(w, data))
        t_loop, t_engine = statistics.median(loops), statistics.median(engines)
        print(_row(w.name, "loop", t_loop, w.flops(), f"{args.extra_reps} reps each, alternating"))
        print(_row(w.name, "engine", t_engine, w.flops(), f"engine/loop {t_loop / t_engine:.2f}"), flush=True)
    if not (args.tiny or args.no_first_call):
        calls = first_calls(reference)
        print(_row("first call in a fresh process (reference)", "engine", calls[0], None,
                   f"later calls {calls[1]:.2f}, {calls[2]:.2f} s: cold-start cost "
                   f"{calls[0] - statistics.median(calls[1:]):.2f} s"), flush=True)
    if not (args.tiny or args.no_study):
        one, every = time_study(1), time_study(workers)
        print(_row("full study (quick mode, empty cache), 1 worker", "engine", one, None,
                   "run_all(quick=True)"))
        print(_row(f"full study (quick mode, empty cache), {workers} workers", "engine", every, None,
                   f"speedup {one / every:.2f}"))
        print(f"parallel efficiency: {one / (workers * every):.2f}")
    print(f"bench took {time.perf_counter() - started:.0f} s; load average now "
          f"{', '.join(f'{x:.1f}' for x in os.getloadavg())}")
    print(f"engine/loop speedup: {summary[0]:.2f}  fraction of GEMM peak: {summary[1]:.2f}")
    return 0
