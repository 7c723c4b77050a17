"""Compiled training steps for stacks: ``torch.compile`` once per architecture, not per shape.

What is compiled is the per-model loss of a stack, forward and backward (``torch.compile`` with
AOTAutograd, Inductor's C++ kernels for the elementwise work around the batched matmuls): the
stack size K and the batch rows are marked dynamic (``torch._dynamo.maybe_mark_dynamic``), so one
graph serves every K >= 2 and every batch of an architecture (a size of 1 is specialised, as
Dynamo always does). Adam stays the fused eager kernel. Only exact ``MLP`` stacks are compiled
(``compilable``, ``stacks._MLPStack.functional``); every other module trains eagerly. Tied
``SharedMLP`` stacks were measured compiled and are not: their step was 1.4x *slower* (12.5-13.3
ms against 8.6-9.2 ms for 32 ring models, one thread), because one Inductor kernel, the ReLU that
also stores its backward mask for the 32 x 128 x 128 activations, took 4.5 ms where the eager ReLU
takes 0.2-0.4 ms.

- **Tolerance, not identity, against the eager path.** Fused kernels sum in another order, so
  compiled and eager training differ by float rounding, compounded over the steps (bounded in
  ``tests/test_compiled.py``). Against itself the compiled path is deterministic: kernels are
  generated for, and always run with, one intra-op thread, so the trained weights are
  bit-identical for any number of workers.
- **Compiled once per process, loaded from disk after that.** Inductor's FX-graph and AOTAutograd
  caches (on by default, ``TORCHINDUCTOR_CACHE_DIR``) hold the compiled kernels, so a worker or a
  later process that meets the same architecture loads them and repays only Dynamo's trace.
- **No silent fallback.** A stack whose graph would exceed Dynamo's recompile limit raises instead
  of running eagerly, so which stacks are compiled never depends on the order a worker meets them.

Opt-in (``fit_many(compile=True)``, ``SYMSHARING_COMPILE=1``): on this project's 2-core CPU the
compile time outweighs the gain except in long runs (docs/performance.md has the numbers).
"""

from __future__ import annotations

import contextlib

import torch

from symsharing.engine.stacks import _MLPStack, check_targets, stacked_loss
from symsharing.models import MLP

__all__ = ["compilable", "compiled_losses"]

RECOMPILE_LIMIT = 256  # graphs per process: architectures x dtypes x (K = 1 or not) x (batch = 1 or not)

_compiled = None


def _losses(forward, state, x: torch.Tensor, y: torch.Tensor, smoothing) -> torch.Tensor:
    """Per-model mean loss ``[K]`` of a stack: ``stacked_loss(forward(state, x), y, smoothing)``."""
    return stacked_loss(forward(state, x), y, smoothing)


def compilable(models) -> bool:
    """True when ``stacks.train_stack(models, ..., compile=True)`` compiles: exact ReLU MLPs."""
    return type(models[0]) is MLP and models[0].is_plain_relu()


def _mark_stacked(tensor: torch.Tensor, batch_dim: bool) -> torch.Tensor:
    torch._dynamo.maybe_mark_dynamic(tensor, 0)  # K
    if batch_dim:
        torch._dynamo.maybe_mark_dynamic(tensor, 1)  # batch rows
    return tensor


@contextlib.contextmanager
def _settings():
    """The compiler's settings for stacks: no silent eager fallback past the recompile limit, no
    "duck sizing" (K and the batch rows stay two symbols even where they happen to be equal), and
    kernels compiled in this process (no pool of compiler processes next to the engine's)."""
    import torch._inductor.config

    with torch._dynamo.config.patch(recompile_limit=RECOMPILE_LIMIT,
                                    accumulated_recompile_limit=RECOMPILE_LIMIT,
                                    fail_on_recompile_limit_hit=True), \
            torch.fx.experimental._config.patch(use_duck_shape=False), \
            torch._inductor.config.patch(compile_threads=1):
        yield


def compiled_losses(stack, X: torch.Tensor, y: torch.Tensor):
    """A function ``(x [K, b, features], targets, label smoothing) -> per-model loss [K]`` running
    ``stack``'s forward and ``stacks.stacked_loss`` compiled (see the module docstring), or None when
    ``stack`` cannot be compiled. ``X``, ``y``: the stack's data (``[K or 1, n, ...]``; ``y`` is
    checked against the models' outputs, as the eager path does). Call it with one intra-op thread."""
    global _compiled
    if not isinstance(stack, _MLPStack):
        return None
    with torch.no_grad():
        check_targets(stack.forward(X[:, :1].expand(len(stack.models), -1, -1)), y)
    if _compiled is None:
        _compiled = torch.compile(_losses, dynamic=False)  # dynamic only where marked
    forward, state = stack.functional()
    for parameter in stack.parameters():
        _mark_stacked(parameter, batch_dim=False)

    def losses(x: torch.Tensor, y: torch.Tensor, smoothing=0.0) -> torch.Tensor:
        if isinstance(smoothing, torch.Tensor):
            torch._dynamo.maybe_mark_dynamic(smoothing, 0)  # one per model: [K]
        with _settings():
            return _compiled(forward, state, _mark_stacked(x, True), _mark_stacked(y, True), smoothing)

    return losses
