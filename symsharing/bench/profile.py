"""Where a stack's training time goes: ``torch.profiler`` over one stack of a workload.

The bench prints this when the engine is not 1.5x ahead of JAX. One stack (the first that
``plan_stacks`` forms, as a worker trains it: one intra-op thread) trains for ``steps`` steps under
the profiler; each operator's *self* time goes to one share:

- **GEMM**: batched and plain matrix products (``bmm``, ``baddbmm``, ``mm``, ``addmm``, ...);
- **optimizer**: the fused Adam kernel (``_fused_adam_``) and the rest of ``Optimizer.step``;
- **elementwise**: every other operator (activations and their backward, bias sums, losses,
  gathers, copies), and the fused C++ kernels of a compiled stack;
- **Python and dispatch**: the wall time not inside any operator (the training loop, autograd's
  engine, the dispatcher).
"""

from __future__ import annotations

import time

import torch
from torch.profiler import ProfilerActivity, profile

from symsharing.engine.stacks import train_stack
from symsharing.train import plan_stacks

__all__ = ["profile_stack", "SHARES"]

SHARES = ("GEMM", "elementwise", "optimizer", "Python and dispatch")
GEMM = frozenset({"aten::bmm", "aten::baddbmm", "aten::mm", "aten::addmm", "aten::matmul", "aten::linear"})
COMPILED_KERNELS = ("CompiledFxGraph", "CompiledFunction", "Torch-Compiled Region")


def _share(name: str) -> str | None:
    """The share an operator's self time goes to; None for a region whose operators are counted
    themselves (the optimizer's step is counted as a whole, see ``profile_stack``)."""
    if name in GEMM:
        return "GEMM"
    if "adam" in name.lower() or name.startswith("Optimizer."):
        return "optimizer"
    if name.startswith("aten::") or any(marker in name for marker in COMPILED_KERNELS):
        return "elementwise"
    return None


def profile_stack(w, steps: int = 60, compile: bool = False) -> dict[str, float]:
    """Fractions of the wall time of training the first stack of workload ``w`` for ``steps`` steps
    (after the same number of warm-up steps), one share each of ``SHARES``."""
    models, data = w.models(), w.data()
    members = plan_stacks(models, data)[0]
    stack = ([models[k] for k in members], [data[k] for k in members])
    kwargs = {"lr": 1e-3, "batch_size": None, "seeds": list(members), "augment_groups": [None] * len(members),
              "compile": compile}
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        train_stack(*stack, steps=steps, **kwargs)  # warm-up (and compilation)
        with profile(activities=[ProfilerActivity.CPU]) as profiler:
            start = time.perf_counter()
            train_stack(*stack, steps=steps, **kwargs)
            wall = time.perf_counter() - start
    finally:
        torch.set_num_threads(threads)
    seconds = dict.fromkeys(SHARES, 0.0)
    for event in profiler.key_averages():
        share = _share(event.key)
        if share is not None:
            seconds[share] += event.self_cpu_time_total / 1e6
    seconds["Python and dispatch"] = max(0.0, wall - sum(seconds.values()))
    return {share: value / wall for share, value in seconds.items()}
