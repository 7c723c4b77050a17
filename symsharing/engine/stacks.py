"""Training a stack of K models of one architecture at once: weights ``[K, ...]``, one optimizer step.

Each model keeps its own data, its own random draws (``_draws.DrawStream``) and its own loss; the
loss that is differentiated is the *sum* of the K per-model mean losses, so every model gets
exactly the gradient it would get alone, and the optimizer (Adam, or (momentum) SGD: all
elementwise) updates each model as it would alone. Two forward passes:

- exact ``MLP`` (ReLU, no LayerNorm): hand-written batched kernels, ``baddbmm`` for the hidden layers and a
  multiply-and-sum for a width-1 output layer (a batched matmul with one output column runs far
  below the GEMM peak on a CPU);
- any other module (``SharedMLP``, subclasses of ``MLP``, ...): ``torch.func.functional_call``
  under ``torch.func.vmap`` over the stacked parameters and buffers (the model-ensembling recipe
  of ``torch.func``); buffers equal in every model are passed once, unbatched.

A model whose loss becomes NaN or infinite stops where ``fit`` would stop: its history ends at
that step and its weights are restored, at the end, to the values they had after that step.

glibc's malloc hands blocks above its mmap threshold back to the OS on every free and faults them
in again on the next step (about 2,000 page faults a step at K = 32, width 64, measured here);
``retain_freed_memory`` raises the thresholds once per process so the freed blocks are reused.
"""

from __future__ import annotations

import copy
import ctypes
import ctypes.util
import math
import sys
import time

import torch
import torch.nn.functional as F
from torch import nn
from torch.func import functional_call, vmap

from symsharing.engine.draws import CHUNK_STEPS, DrawStream
from symsharing.engine.hyper import PerModelAdam, StackHyperparameters, smoothed_cross_entropy
from symsharing.models import MLP, SharedMLP, l2_penalty

__all__ = ["check_targets", "make_adam", "make_optimizer", "OPTIMIZERS", "retain_freed_memory",
           "stacked_loss", "train_stack", "SCHEDULES",
           "scheduled_lr"]

SCHEDULES = ("constant", "cosine", "warmup-cosine", "triangular")
WARMUP_SHARE = 0.1  # "warmup-cosine": the rate rises linearly over this share of the steps
TRIANGLE_PEAK = 0.2  # "triangular": the rate peaks after this share of the steps

_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # mallopt parameters, <malloc.h>
_allocator_tuned: bool | None = None


def retain_freed_memory() -> bool:
    """Make glibc's malloc keep freed blocks up to 32 MiB (once per process); True when applied.

    The process then holds on to memory it has freed instead of returning it to the OS: a few
    hundred MB at most for the stacks of this study. A no-op (False) off glibc.
    """
    global _allocator_tuned
    if _allocator_tuned is None:
        _allocator_tuned = False
        name = ctypes.util.find_library("c") if sys.platform.startswith("linux") else None
        if name:
            try:
                libc = ctypes.CDLL(name)
                _allocator_tuned = bool(libc.mallopt(_M_MMAP_THRESHOLD, 32 << 20)) and bool(
                    libc.mallopt(_M_TRIM_THRESHOLD, 1 << 30))
            except (OSError, AttributeError):  # not glibc (musl has no mallopt)
                _allocator_tuned = False
    return _allocator_tuned


def make_adam(params, lr: float, weight_decay: float = 0.0) -> torch.optim.Optimizer:
    """Adam (AdamW, decoupled, when ``weight_decay > 0``) with the fused kernel where torch has one."""
    params = list(params)
    fused = all(p.device.type in ("cpu", "cuda") and p.dtype.is_floating_point for p in params)
    if weight_decay:
        return torch.optim.AdamW(params, lr=lr, weight_decay=weight_decay, fused=fused or None)
    return torch.optim.Adam(params, lr=lr, fused=fused or None)


OPTIMIZERS = ("adam", "gd", "sgd", "momentum")


def make_optimizer(name: str, params, lr: float, weight_decay: float = 0.0,
                   momentum: float = 0.9) -> torch.optim.Optimizer:
    """The optimizer called ``name`` (one of ``OPTIMIZERS``) over ``params``.

    ``"adam"``: ``make_adam`` (decoupled decay). ``"gd"`` and ``"sgd"``: plain steps
    ``θ ← θ − lr (g + weight_decay θ)``, i.e. the gradient of the L2 penalty ``(weight_decay / 2)‖θ‖²``
    added to the loss's (``"gd"`` is the full-batch case, which the caller checks); ``"momentum"``:
    heavy-ball SGD, ``b ← momentum b + g + weight_decay θ``, ``θ ← θ − lr b`` (torch's ``SGD``, no
    dampening). Every update is elementwise, so a stack of K models steps each as it would alone.
    """
    if name == "adam":
        return make_adam(params, lr, weight_decay)
    return torch.optim.SGD(list(params), lr=lr, weight_decay=weight_decay,
                           momentum=momentum if name == "momentum" else 0.0)


def scheduled_lr(lr: float, step: int, steps: int, schedule: str) -> float:
    """The learning rate of step ``step`` (0-based) of ``steps``: constant; cosine decay from ``lr``
    at step 0 towards 0 after the last step (``lr * (1 + cos(pi * step / steps)) / 2``); or
    ``warmup-cosine``: a linear rise over the first ``w = ceil(WARMUP_SHARE * steps)`` steps
    (``lr * (step + 1) / w``), then the cosine decay over the rest. Warm-up keeps Adam's first
    steps, taken while its second-moment estimate is still noisy, small (Liu et al. 2020, "On the
    Variance of the Adaptive Learning Rate and Beyond"): the first Adam step moves every parameter by
    about ``lr`` whatever its gradient's size, and a few such steps can push a whole tied channel
    below zero for good (docs/design.md, collapse). ``triangular``: from 0 at step 0 linearly up to
    ``lr`` at ``TRIANGLE_PEAK * steps`` and back to 0 at ``steps`` (Lim et al.'s one-cycle schedule,
    which peaks at epoch 5 of 10 to 40)."""
    if schedule == "triangular":
        peak = max(1.0, TRIANGLE_PEAK * steps)
        return lr * (step / peak if step < peak else max(0.0, (steps - step) / (steps - peak)))
    if schedule == "warmup-cosine":
        warmup = math.ceil(WARMUP_SHARE * steps)
        if step < warmup:
            return lr * (step + 1) / warmup
        return lr * 0.5 * (1.0 + math.cos(math.pi * (step - warmup) / max(1, steps - warmup)))
    if schedule == "cosine":
        return lr * 0.5 * (1.0 + math.cos(math.pi * step / steps))
    return lr


def check_targets(outputs: torch.Tensor, y: torch.Tensor) -> None:
    """ValueError unless ``y`` fits ``outputs [..., n_out]``: labels in range, or one target per output."""
    n_out = outputs.shape[-1]
    if y.dtype.is_floating_point:
        if y.shape[-1] != n_out:
            raise ValueError(f"float targets y must be [n, n_outputs] with n_outputs = {n_out} "
                             f"(the model's outputs), got y of shape {tuple(y.shape)}")
    elif y.numel() and (int(y.min()) < 0 or int(y.max()) >= n_out):
        raise ValueError(f"class labels must lie in 0..{n_out - 1} (the model has {n_out} outputs), "
                         f"got labels from {int(y.min())} to {int(y.max())}")


def stacked_loss(outputs: torch.Tensor, y: torch.Tensor, label_smoothing=0.0) -> torch.Tensor:
    """Per-model mean loss ``[K]`` of ``outputs [K, b, n_out]``: MSE for float ``y``, else cross-entropy
    with ``label_smoothing`` (one float, or a tensor ``[K]``: one per model)."""
    if y.dtype.is_floating_point:
        return F.mse_loss(outputs, y, reduction="none").flatten(1).mean(1)
    if isinstance(label_smoothing, torch.Tensor):
        return smoothed_cross_entropy(outputs, y, label_smoothing)
    k, b = y.shape
    return F.cross_entropy(outputs.flatten(0, 1), y.flatten(), reduction="none",
                           label_smoothing=label_smoothing).view(k, b).mean(1)


def mlp_forward(state: tuple[list[torch.Tensor], list[torch.Tensor], bool], x: torch.Tensor) -> torch.Tensor:
    """K exact ReLU MLPs at once; ``state = (weights, biases, narrow_output)``, from ``_MLPStack``."""
    weights, biases, narrow_output = state
    h = x  # (K, b, n_in)
    for weight, bias in zip(weights[:-1], biases[:-1], strict=True):
        h = torch.relu(torch.baddbmm(bias, h, weight))  # (K, b, width)
    if narrow_output:
        return (h * weights[-1]).sum(-1, keepdim=True) + biases[-1]  # (K, b, 1)
    return torch.baddbmm(biases[-1], h, weights[-1])  # (K, b, n_out)


class _MLPStack:
    """Stacked weights of K exact ``MLP``s: ``weights[l]`` ``[K, in, out]``, ``biases[l]`` ``[K, 1, out]``."""

    def __init__(self, models: list[MLP], device: torch.device):
        self.models = models
        self.weights = [torch.stack([m.layers[i].weight.detach().T for m in models]).to(device).contiguous()
                        for i in range(len(models[0].layers))]
        self.biases = [torch.stack([m.layers[i].bias.detach()[None] for m in models]).to(device).contiguous()
                       for i in range(len(models[0].layers))]
        self.narrow_output = models[0].n_out == 1
        if self.narrow_output:  # (K, width, 1) -> (K, 1, width): a row to multiply and sum
            self.weights[-1] = self.weights[-1].transpose(1, 2).contiguous()
        for tensor in self.weights + self.biases:
            tensor.requires_grad_(True)

    def parameters(self) -> list[torch.Tensor]:
        return self.weights + self.biases

    def functional(self) -> tuple:
        """``(forward, state)``: a pure function and its arguments, ``forward(state, x) == self.forward(x)``
        (what ``compiled`` compiles)."""
        return mlp_forward, (self.weights, self.biases, self.narrow_output)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return mlp_forward(self.functional()[1], x)

    def penalty(self) -> float:
        return 0.0  # an exact MLP declares no penalized parameters

    def rows(self, k: int) -> list[torch.Tensor]:
        return [t[k].detach().clone() for t in self.parameters()]

    def write_back(self, k: int, rows: list[torch.Tensor] | None = None) -> None:
        rows = self.rows(k) if rows is None else rows
        n_layers = len(self.weights)
        with torch.no_grad():
            for i, layer in enumerate(self.models[k].layers):
                weight = rows[i]
                layer.weight.copy_(weight if (self.narrow_output and i == n_layers - 1) else weight.T)
                layer.bias.copy_(rows[n_layers + i][0])


class _Gather(torch.autograd.Function):
    """``weights[..., index]`` whose backward sums the gradient of each entry into its orbit with
    ``index_add_``: several times faster on a CPU than the backward of advanced indexing."""

    @staticmethod
    def forward(ctx, weights: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
        ctx.save_for_backward(index)
        ctx.n_orbits = weights.shape[-1]
        return weights[..., index]

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        (index,) = ctx.saved_tensors
        summed = grad.new_zeros(*grad.shape[:-1], ctx.n_orbits).index_add_(-1, index, grad)
        return summed, None


class _DenseGather(torch.autograd.Function):
    """A tied layer's dense matrix ``[K, c_in n, c_out n]`` from its orbit weights ``theta [K, c_out,
    c_in, n_orbits]`` in one gather: ``dense[k, c n + j, o n + i] = theta[k, o, c, pair_orbits[i, j]]``
    (``dense_index``), with ``index_select`` on the flat index (4x faster on a CPU than advanced
    indexing, measured on the grid's D4 layers). The backward sums each entry of the gradient into
    its orbit weight with one ``index_add_`` over the same flat index (2x faster than laying the
    gradient out by orbit first)."""

    @staticmethod
    def forward(ctx, theta: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
        ctx.save_for_backward(index)
        ctx.theta_shape = theta.shape
        flat = theta.flatten(1).index_select(1, index.flatten())  # (K, c_in n c_out n)
        return flat.view(len(theta), *index.shape)  # (K, c_in n, c_out n)

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        (index,) = ctx.saved_tensors
        k = ctx.theta_shape[0]
        summed = grad.new_zeros(k, ctx.theta_shape[1:].numel())  # (K, c_out c_in n_orbits)
        return summed.index_add_(1, index.flatten(), grad.reshape(k, -1)).view(ctx.theta_shape), None


def dense_index(pair_orbits: torch.Tensor, c_in: int, c_out: int, n_orbits: int) -> torch.Tensor:
    """``[c_in n, c_out n]`` indices into a flattened ``theta [c_out, c_in, n_orbits]``: entry
    ``(c n + j, o n + i)`` is ``(o c_in + c) n_orbits + pair_orbits[i, j]``."""
    n = pair_orbits.shape[0]
    c, j = torch.arange(c_in)[:, None, None, None], torch.arange(n)[None, :, None, None]
    o, i = torch.arange(c_out)[None, None, :, None], torch.arange(n)[None, None, None, :]
    return ((o * c_in + c) * n_orbits + pair_orbits.cpu()[i, j]).reshape(c_in * n, c_out * n)


class _NamedStack:
    """K models' parameters stacked by name (``self.params[name]`` ``[K, ...]``): one model's rows
    and how they are written back into it."""

    models: list[nn.Module]
    params: dict[str, torch.Tensor]

    def rows(self, k: int) -> dict[str, torch.Tensor]:
        return {name: t[k].detach().clone() for name, t in self.params.items()}

    def write_back(self, k: int, rows: dict[str, torch.Tensor] | None = None) -> None:
        rows = self.rows(k) if rows is None else rows
        with torch.no_grad():
            for name, p in self.models[k].named_parameters():
                p.copy_(rows[name])


class _SharedMLPStack(_NamedStack):
    """Stacked parameters of K exact ``SharedMLP``s of one group, run as batched dense products.

    Each step gathers every layer's tied dense matrix ``[K, c_in * n, c_out * n]`` from its orbit
    weights in one ``index_select`` (``_DenseGather``: the backward sums the gradients of tied
    entries into their orbit) and multiplies with ``baddbmm``, as for an MLP: for the study's small
    groups (n <= 49) this is 1.1-4x faster than running the layers' own paths under ``vmap``, and it
    equals them up to float rounding.
    """

    def __init__(self, models: list[nn.Module], device: torch.device):
        self.models = models
        base = models[0]
        named = [dict(m.named_parameters()) for m in models]
        self.params = {name: torch.stack([n[name].detach() for n in named]).to(device).requires_grad_(True)
                       for name in named[0]}
        self.n = base.group.n
        self.hidden = [(f"layers.{i}.",
                        dense_index(layer.pair_orbits, layer.in_channels, layer.out_channels,
                                    layer.weight.shape[-1]).to(device), layer.out_channels,
                        layer.point_orbits.to(device), layer.bias is not None)
                       for i, layer in enumerate(base.layers)]
        self.pooling = base.readout.pooling.to(device)  # (n, n_orbits)

    def parameters(self) -> list[torch.Tensor]:
        return list(self.params.values())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        k, b, n = x.shape
        h = x  # (K, b, c * n), channel-major: h[..., c * n + i]
        for prefix, index, c_out, point_orbits, has_bias in self.hidden:
            dense = _DenseGather.apply(self.params[prefix + "weight"], index)  # [(c, j), (o, i)]
            if has_bias:
                bias = _Gather.apply(self.params[prefix + "bias"], point_orbits).reshape(k, 1, c_out * n)
                h = torch.relu(torch.baddbmm(bias, h, dense))
            else:
                h = torch.relu(torch.bmm(h, dense))
        channels = h.shape[-1] // n
        pooled = (h.view(k, b, channels, n) @ self.pooling.to(h.dtype)).flatten(2)  # (K, b, c * n_orbits)
        weight, bias = self.params["readout.linear.weight"], self.params["readout.linear.bias"]
        return torch.baddbmm(bias[:, None, :], pooled, weight.transpose(1, 2))  # (K, b, n_out)

    def penalty(self) -> float:
        return 0.0  # an exact SharedMLP declares no penalized parameters


class _FunctionalStack(_NamedStack):
    """Stacked parameters and buffers of K modules of one architecture, run with ``vmap``."""

    def __init__(self, models: list[nn.Module], device: torch.device):
        self.models = models
        # a copy on the training device when it differs (tensors a module keeps outside its
        # parameters and buffers move with it); the models themselves stay where they are
        moved = next(models[0].parameters()).device != device
        self.base = copy.deepcopy(models[0]).to(device) if moved else models[0]
        named = [dict(m.named_parameters()) for m in models]
        self.params = {name: torch.stack([n[name].detach() for n in named]).to(device)
                       .requires_grad_(p.requires_grad) for name, p in named[0].items()}
        self.stacked_buffers, self.shared_buffers = {}, {}
        buffers = [dict(m.named_buffers()) for m in models]
        for name, first in buffers[0].items():
            if all(torch.equal(first, b[name]) for b in buffers[1:]):
                self.shared_buffers[name] = first.to(device)
            else:
                self.stacked_buffers[name] = torch.stack([b[name] for b in buffers]).to(device)

        def one_model(params, buffers, x):
            return functional_call(self.base, (params, buffers, self.shared_buffers), (x,))

        self._forward = vmap(one_model)
        # a module may run K stacked copies itself, faster than vmap: stacked_forward(params, buffers, x)
        self._own = getattr(type(self.base), "stacked_forward", None) if not self.stacked_buffers else None

    def parameters(self) -> list[torch.Tensor]:
        return [p for p in self.params.values() if p.requires_grad]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self._own is not None:
            return self._own(self.params, self.shared_buffers, x)  # (K, b, n_out)
        return self._forward(self.params, self.stacked_buffers, x)  # (K, b, n_out)

    def penalty(self) -> torch.Tensor | float:
        """Each model's ``l2_penalty`` (``[K]``), or 0.0 when the architecture declares none."""
        return l2_penalty(self.base, self.params)


def _gather_rows(data: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
    """``data [K, n, ...]`` (or ``[1, n, ...]``: one data set shared by the K models) at ``index [K, b]``
    along dim 1 -> ``[K, b, ...]``."""
    if data.shape[0] == 1:  # index_select: several times faster than advanced indexing on a CPU
        return data[0].index_select(0, index.flatten()).view(*index.shape, *data.shape[2:])
    shape = index.shape + data.shape[2:]
    return data.gather(1, index.reshape(*index.shape, *([1] * (data.dim() - 2))).expand(shape))


def train_stack(models: list[nn.Module], datasets: list[tuple[torch.Tensor, torch.Tensor]], *,
                steps, lr, batch_size: int | None, seeds: list[int],
                augment_groups: list, schedule: str = "constant", weight_decay=0.0,
                label_smoothing=0.0, device: str | torch.device | None = None, optimizer: str = "adam",
                momentum: float = 0.9, compile: bool = False) -> list[dict]:
    """Train K models of one architecture (same data shapes) at once; return one history each.

    ``steps``, ``lr``, ``weight_decay`` and ``label_smoothing`` are one value for the stack or a list
    with one per model (``hyper.StackHyperparameters``): where they differ, the stack steps with
    ``hyper.PerModelAdam`` (``optimizer`` must be ``"adam"``) and a model whose budget is spent
    stops changing. ``device`` (default: the models') is where the stack trains; the trained
    weights are written back into the models where they are. ``optimizer`` and ``momentum``: see
    ``make_optimizer``. ``compile``: the loss, forward and backward, compiled (``compiled``, for
    exact MLP stacks; others train eagerly); call it with one intra-op thread."""
    retain_freed_memory()
    start = time.perf_counter()
    device = next(models[0].parameters()).device if device is None else torch.device(device)
    base = models[0]
    if type(base) is MLP:  # the hand-written kernels are ReLU MLPs'; any other activation runs through vmap
        kind = _MLPStack if base.is_plain_relu() else _FunctionalStack
    else:
        kind = {SharedMLP: _SharedMLPStack}.get(type(base), _FunctionalStack)
    stack = kind(models, device)
    k_models = len(models)
    shared = all(X is datasets[0][0] and y is datasets[0][1] for X, y in datasets)  # keep one copy, not K
    kept = datasets[:1] if shared else datasets
    X = torch.stack([X for X, _ in kept]).to(device)  # (K, n, features), or (1, n, features) when shared
    y = torch.stack([y for _, y in kept]).to(device)  # (K | 1, n) or (K | 1, n, n_out)
    _, n, features = X.shape
    streams = [DrawStream(seed, n, features, batch_size, group)
               for seed, group in zip(seeds, augment_groups, strict=True)]
    hyper = StackHyperparameters(k_models, steps=steps, lr=lr, weight_decay=weight_decay,
                                 label_smoothing=label_smoothing)
    total, smoothing = hyper.total_steps, hyper.smoothing(device)
    if not hyper.uniform and optimizer != "adam":
        raise ValueError(f"per-model hyperparameters in one stack need optimizer='adam', got {optimizer!r}")
    compiled_losses = None
    if compile:
        from symsharing.engine.compiled import compiled_losses  # late: it imports the compiler
        compiled_losses = compiled_losses(stack, X, y)  # None where the stack cannot be compiled
    optimizer = (make_optimizer(optimizer, stack.parameters(), hyper.lr[0], hyper.weight_decay[0], momentum)
                 if hyper.uniform else PerModelAdam(stack.parameters()))
    losses = torch.full((total, k_models), float("nan"), dtype=torch.float64)  # (steps, K), kept on the CPU
    stopped_at = [None] * k_models  # the step whose loss was not finite
    frozen = {}  # k -> weights right after that step
    for m in models:
        m.train()
    step = 0
    while step < total and len(frozen) < k_models:
        chunk = min(CHUNK_STEPS, total - step)
        draws = [s.draw(chunk) for s in streams]
        index = None if draws[0][0] is None else torch.stack([d[0] for d in draws]).to(device)
        inverse = None if draws[0][1] is None else torch.stack([d[1] for d in draws]).to(device)
        for t in range(chunk):
            if index is None:
                inputs, targets = X.expand(k_models, *X.shape[1:]), y.expand(k_models, *y.shape[1:])
            else:
                inputs, targets = _gather_rows(X, index[:, t]), _gather_rows(y, index[:, t])
            if inverse is not None:
                inputs = inputs.gather(-1, inverse[:, t])  # (K, b, features)
            if hyper.uniform:
                for group in optimizer.param_groups:
                    group["lr"] = scheduled_lr(hyper.lr[0], step, total, schedule)
            if compiled_losses is not None:
                per_model = compiled_losses(inputs, targets, smoothing)  # (K,)
            else:
                outputs = stack.forward(inputs)  # (K, b, n_out)
                if step == 0:
                    check_targets(outputs, y)
                per_model = stacked_loss(outputs, targets, smoothing) + stack.penalty()  # (K,)
            optimizer.zero_grad(set_to_none=True)
            per_model.sum().backward()
            active = hyper.active(step)  # (K,) models still within their budget
            if hyper.uniform:
                optimizer.step()
            else:
                rates = [scheduled_lr(lr, step, budget, schedule) if step < budget else 0.0
                         for lr, budget in zip(hyper.lr, hyper.steps, strict=True)]  # 0: budget spent
                optimizer.step(rates, hyper.weight_decay)
            row = torch.where(active, per_model.detach().cpu().double(), float("nan"))
            losses[step] = row
            for k in torch.nonzero(active & ~torch.isfinite(row)).flatten().tolist():
                if stopped_at[k] is None:
                    stopped_at[k] = step
                    frozen[k] = stack.rows(k)
            step += 1
            if all(k in frozen or step >= budget for k, budget in enumerate(hyper.steps)):
                break
    elapsed = time.perf_counter() - start
    histories = []
    for k, model in enumerate(models):
        stack.write_back(k, frozen.get(k))
        model.eval()
        last = hyper.steps[k] if stopped_at[k] is None else stopped_at[k] + 1
        histories.append({"loss": losses[:last, k].tolist(), "diverged": stopped_at[k] is not None,
                          "steps_taken": last,
                          "seconds": elapsed / k_models, "stack_size": k_models,
                          "stack_seconds": elapsed})
    return histories
