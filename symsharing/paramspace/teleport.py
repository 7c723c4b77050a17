"""Symmetry teleportation: move a network along its orbit to a point where the gradient is steeper.

Zhao, Dehmamy, Walters & Yu, "Symmetry Teleportation for Accelerated Optimization" (NeurIPS 2022);
Zhao, Gower, Walters & Yu, "Improving Convergence and Generalization Using Parameter Symmetries"
(ICLR 2024). A loss-preserving group acts on the parameters; teleportation climbs the squared
gradient norm ``‖∇L(g·θ)‖²`` over the group element ``g`` (the loss itself does not change), then
hands ``g·θ`` back to the optimiser, whose next step descends faster.

For ReLU (and linear) hidden units the group here is the positive diagonal rescalings, one scale
per unit (``SharedMLP``: per channel), parametrised by log-scales ``u`` so that ``g = exp(u)`` stays
positive. Each ascent step moves ``u`` by exactly ``lr`` in the direction of ``∇_u ‖∇L‖²``
(normalised gradient ascent: a step cannot blow up however steep the objective), and the point
with the largest gradient norm seen is returned. The data-dependent GL action of the 2022 paper's
toy experiment is in ``teleport_toy``.
"""

from __future__ import annotations

import copy
import math

import torch
from torch.func import functional_call, grad

from symsharing._checks import check_int
from symsharing.paramspace.balance import rescalable_units
from symsharing.paramspace.hessian import check_data
from symsharing.paramspace.permutation_spec import permutation_spec
from symsharing.train import loss_function

__all__ = ["teleport", "rescaled_parameters", "gradient_norm"]


def rescaled_parameters(model, log_scales: list[torch.Tensor]) -> dict[str, torch.Tensor]:
    """The model's parameters with unit ``k`` of hidden layer ``l`` scaled by ``exp(log_scales[l][k])``
    (incoming weights and bias times it, outgoing weights divided), differentiable in ``log_scales``."""
    params = dict(model.named_parameters())
    moved = {name: p.detach() for name, p in params.items()}
    for axes in permutation_spec(model):
        view = moved[axes.name].reshape(axes.view)
        if axes.out_layer is not None:
            view = view * torch.exp(log_scales[axes.out_layer]).reshape(-1, *[1] * (view.dim() - 1))
        if axes.in_layer is not None:
            view = view / torch.exp(log_scales[axes.in_layer]).reshape(1, -1, *[1] * (view.dim() - 2))
        moved[axes.name] = view.reshape(params[axes.name].shape)
    return moved


def gradient_norm(model, X: torch.Tensor, y: torch.Tensor) -> float:
    """``‖∇L‖`` over the trainable parameters (``train.loss_function``: MSE for float ``y``,
    cross-entropy for labels)."""
    check_data(model, X, y)
    params = {name: p.detach() for name, p in model.named_parameters() if p.requires_grad}
    gradient = grad(lambda p: loss_function(functional_call(model, p, (X,)), y))(params)
    return math.sqrt(sum(float(g.pow(2).sum()) for g in gradient.values()))


def _check_rate(lr) -> float:
    if isinstance(lr, bool) or not isinstance(lr, (int, float)) or not math.isfinite(lr) or not lr > 0:
        raise ValueError(f"lr must be a finite positive number (the log-scale step), got {lr!r}")
    return float(lr)


def teleport(mlp, X: torch.Tensor, y: torch.Tensor, *, steps: int, lr: float):
    """A new network on ``mlp``'s rescaling orbit (the same outputs on every input, to rounding)
    whose loss on ``(X, y)`` has a larger gradient norm; ``mlp`` is left unchanged.

    ``steps`` normalised ascent steps of length ``lr`` on the log-scales of the units that keep the
    symmetry (``balance.rescalable_units``); the iterate with the largest ``‖∇L‖`` is returned (the
    input's own weights if no step improved it). Loss: cross-entropy for integer ``y``, MSE for
    float ``y``. TypeError for a model that is not an ``MLP`` or ``SharedMLP``; ValueError for one
    with no rescalable unit (GELU, gates, LayerNorm, σ-Asymmetric, W-Asymmetric) and for bad data.
    """
    if not isinstance(mlp, torch.nn.Module):
        raise TypeError(f"teleport expects an MLP or a SharedMLP, got {type(mlp).__name__}")
    units = rescalable_units(mlp)  # TypeError for other modules
    if not any(bool(u.any()) for u in units):
        raise ValueError(f"teleport: no hidden unit of this {type(mlp).__name__} keeps the positive-"
                         f"rescaling symmetry (it needs ReLU or identity units without LayerNorm, gates "
                         f"or fixed entries)")
    steps = check_int(steps, "steps", minimum=1)
    lr = _check_rate(lr)
    check_data(mlp, X, y)
    if y.dtype.is_floating_point and (y.dim() != 2 or y.shape[1] != mlp(X[:1]).shape[1]):
        raise ValueError(f"float targets y must be [n, n_outputs] matching the model, got {tuple(y.shape)}")
    dtype, device = X.dtype, X.device
    masks = [u.to(device=device, dtype=dtype) for u in units]

    def squared_gradient_norm(log_scales: list[torch.Tensor]) -> torch.Tensor:
        moved = rescaled_parameters(mlp, log_scales)
        gradient = grad(lambda p: loss_function(functional_call(mlp, p, (X,)), y))(moved)
        return sum(g.pow(2).sum() for g in gradient.values())

    log_scales = [torch.zeros(len(u), dtype=dtype, device=device) for u in units]
    best, best_value = log_scales, float(squared_gradient_norm(log_scales))
    for _ in range(steps):
        ascent = [g * mask for g, mask in zip(grad(squared_gradient_norm)(log_scales), masks, strict=True)]
        norm = math.sqrt(sum(float(a.pow(2).sum()) for a in ascent))
        if not math.isfinite(norm) or norm == 0:
            break
        log_scales = [u + lr * a / norm for u, a in zip(log_scales, ascent, strict=True)]
        value = float(squared_gradient_norm(log_scales))
        if value > best_value:
            best, best_value = log_scales, value
    moved = copy.deepcopy(mlp)
    with torch.no_grad():
        new = rescaled_parameters(mlp, best)
        for name, p in moved.named_parameters():
            p.copy_(new[name])
    return moved
