"""Flat directions of the loss from continuous parameter symmetries, through the exact Hessian.

If the loss is invariant under a one-parameter group ``exp(tA)`` acting linearly on θ, then
differentiating ``L(exp(tA) θ) = L(θ)`` once and twice in ``t`` at 0 gives, at *every* θ,

    ∇L(θ) · Aθ = 0        and        H(θ) Aθ = −Aᵀ ∇L(θ),

so at a critical point ``Aθ`` is in the Hessian's null space (Zhao, Ganev, Walters, Yu & Dehmamy,
ICLR 2023; Zhao, Walters & Yu, "Symmetry in Neural Network Parameter Spaces", 2025). For the
rescaling of hidden unit ``k`` (``balance``), ``A_k`` is diagonal: +1 on the unit's incoming weights
and bias, −1 on its outgoing weights (``rescaling_generators``). The functions here work on the
flat vector of a model's trainable parameters (``named_parameters`` order) with ``torch.func``;
use float64 for the identities to hold to rounding. The entries a W-Asymmetric network keeps
fixed have zero gradient and zero Hessian rows; ``free_parameters`` marks the others.

``zero_loss_minimum`` finds minima where a null-space count means something: with MSE and targets
that a network of the same architecture fits exactly (a teacher), the minimum has zero residual,
so the loss is smooth there even for ReLU (a sample crossing a unit's kink changes the gradient by
an amount proportional to its residual), and Levenberg–Marquardt converges to rounding.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable

import torch
from torch.func import functional_call, grad, hessian, jacfwd

from symsharing._checks import check_int
from symsharing.paramspace.balance import rescalable_units
from symsharing.paramspace.permutation_spec import permutation_spec
from symsharing.train import loss_function

__all__ = ["check_data", "flat_loss", "free_parameters", "rescaling_generators", "symmetry_identities",
           "hessian_eigenvalues",
           "null_space_size", "zero_loss_minimum"]


def check_data(model, X, y) -> None:
    """TypeError/ValueError unless ``X [n, features]`` and ``y`` (same length) are tensors of the
    model's dtype."""
    if not isinstance(X, torch.Tensor) or not isinstance(y, torch.Tensor):
        raise TypeError(f"X and y must be torch.Tensors, got {type(X).__name__} and {type(y).__name__}")
    if X.dim() != 2 or len(X) == 0 or len(X) != len(y):
        raise ValueError(f"X must be a non-empty [n, features] tensor and y of the same length, got shapes "
                         f"{tuple(X.shape)} and {tuple(y.shape)}")
    dtype = next(model.parameters()).dtype
    if X.dtype != dtype or (y.dtype.is_floating_point and y.dtype != dtype):
        raise ValueError(f"X and float y must have the model's dtype {dtype}, got {X.dtype} and {y.dtype}")


def _named(model) -> list[tuple[str, torch.Tensor]]:
    return [(name, p) for name, p in model.named_parameters() if p.requires_grad]


def flat_loss(model, X: torch.Tensor, y: torch.Tensor) -> tuple[Callable, torch.Tensor]:
    """``(loss, theta)``: the training loss (``train.loss_function``: MSE for float ``y``,
    cross-entropy for labels) as a function of the flat parameter vector, and the model's own
    vector ``theta [P]`` (detached). ``loss`` works under ``torch.func`` transforms."""
    check_data(model, X, y)
    named = _named(model)
    names = [name for name, _ in named]
    shapes = [p.shape for _, p in named]
    sizes = [p.numel() for _, p in named]

    def loss(theta: torch.Tensor) -> torch.Tensor:
        params = {name: part.view(shape) for name, part, shape in
                  zip(names, theta.split(sizes), shapes, strict=True)}
        return loss_function(functional_call(model, params, (X,)), y)

    return loss, torch.cat([p.detach().reshape(-1) for _, p in named])


def free_parameters(model) -> torch.Tensor:
    """BoolTensor ``[P]``: False for the entries a W-Asymmetric layer keeps fixed, True elsewhere."""
    modules = dict(model.named_modules())
    masks = []
    for name, p in _named(model):
        owner, _, attribute = name.rpartition(".")
        module = modules.get(owner)
        fixed = getattr(module, "fixed_mask", None) if attribute == "weight" else None
        masks.append(torch.ones(p.numel(), dtype=torch.bool) if fixed is None else ~fixed.cpu().reshape(-1))
    return torch.cat(masks)


def rescaling_generators(model) -> torch.Tensor:
    """``[G, P]``, one row per hidden unit (``SharedMLP``: channel) that keeps its rescaling symmetry
    (``balance.rescalable_units``): +1 on its incoming weights and bias, −1 on its outgoing weights,
    0 elsewhere; ``A_k θ`` is the row times θ. ``G = 0`` rows for a model without the symmetry."""
    units = rescalable_units(model)
    offsets, position = {}, 0
    for name, p in _named(model):
        offsets[name] = (position, p.shape)
        position += p.numel()
    rows = []
    for layer, keep in enumerate(units):
        for unit in torch.nonzero(keep).flatten().tolist():
            row = torch.zeros(position)
            for axes in permutation_spec(model):
                start, shape = offsets[axes.name]
                signs = torch.zeros(shape).reshape(axes.view)
                if axes.out_layer == layer:
                    signs[unit] = 1.0
                if axes.in_layer == layer:
                    signs[:, unit] = -1.0
                row[start:start + math.prod(shape)] = signs.reshape(-1)
            rows.append(row)
    return torch.stack(rows) if rows else torch.zeros(0, position)


def symmetry_identities(model, X: torch.Tensor, y: torch.Tensor) -> dict:
    """How exactly the two identities hold at the model's θ, over every rescaling generator:

    ``{"gradient": max_k |∇L·A_kθ| / (‖∇L‖ ‖A_kθ‖), "hessian": max_k ‖H A_kθ + A_k∇L‖ /
    (‖H A_kθ‖ + ‖A_k∇L‖), "generators": G}`` (NaN when G = 0), with the full Hessian of
    ``torch.func.hessian`` (forward over reverse); float64 gives rounding-level values.
    """
    loss, theta = flat_loss(model, X, y)
    generators = rescaling_generators(model).to(theta)  # (G, P)
    if len(generators) == 0:
        return {"gradient": math.nan, "hessian": math.nan, "generators": 0}
    gradient = grad(loss)(theta)  # (P,)
    directions = generators * theta  # (G, P): A_k θ
    products = directions @ hessian(loss)(theta)  # (G, P): H A_k θ (H is symmetric)
    transposed = generators * gradient  # (G, P): A_kᵀ ∇L (A_k is diagonal)
    scales = directions.norm(dim=1) * gradient.norm()  # 0 at an exact critical point
    cosines = torch.where(scales > 0, (directions @ gradient).abs() / scales, 0.0)
    sizes = products.norm(dim=1) + transposed.norm(dim=1)  # 0 for a unit dead on X: nothing to check
    residuals = torch.where(sizes > 0, (products + transposed).norm(dim=1) / sizes, 0.0)
    return {"gradient": float(cosines.max()), "hessian": float(residuals.max()),
            "generators": len(generators)}


def hessian_eigenvalues(model, X: torch.Tensor, y: torch.Tensor, *, free_only: bool = True) -> torch.Tensor:
    """Eigenvalues (ascending) of the exact Hessian of the loss in the flat parameters, restricted
    to the free ones (``free_parameters``) unless ``free_only`` is False."""
    loss, theta = flat_loss(model, X, y)
    matrix = hessian(loss)(theta)  # (P, P)
    if free_only:
        keep = free_parameters(model).to(matrix.device)
        matrix = matrix[keep][:, keep]
    return torch.linalg.eigvalsh(matrix)


def null_space_size(eigenvalues: torch.Tensor, rtol: float) -> dict:
    """Eigenvalues with ``|λ| <= rtol · max|λ|``: ``{"count", "largest_null", "smallest_other",
    "gap"}`` (the last three relative to ``max|λ|``; ``gap`` = smallest_other / largest_null)."""
    if not isinstance(rtol, (int, float)) or isinstance(rtol, bool) or not 0 < rtol < 1:
        raise ValueError(f"rtol must be a number in (0, 1), got {rtol!r}")
    magnitudes = eigenvalues.abs().double().sort().values
    top = float(magnitudes[-1])
    relative = magnitudes / top if top > 0 else magnitudes
    null = relative <= rtol
    count = int(null.sum())
    largest_null = float(relative[count - 1]) if count else math.nan
    smallest_other = float(relative[count]) if count < len(relative) else math.nan
    return {"count": count, "largest_null": largest_null, "smallest_other": smallest_other,
            "gap": smallest_other / largest_null if count and largest_null > 0 else math.inf}


def zero_loss_minimum(model, X: torch.Tensor, y: torch.Tensor, *, steps: int = 100,
                      gradient_tol: float = 1e-13) -> tuple:
    """A copy of ``model`` moved by Levenberg–Marquardt to a minimum of the MSE on float ``y``;
    returns ``(model, gradient norm reached)``. Meant for targets the architecture fits exactly
    (zero residual: quadratic convergence); W-Asymmetric fixed entries stay fixed."""
    steps = check_int(steps, "steps", minimum=1)
    if not y.dtype.is_floating_point:
        raise ValueError("zero_loss_minimum fits float targets (MSE), got integer labels")
    loss, theta = flat_loss(model, X, y)
    free = free_parameters(model).to(theta.device)
    model = copy.deepcopy(model)
    named = _named(model)
    scale = math.sqrt(y.numel())

    def residuals(free_theta: torch.Tensor) -> torch.Tensor:
        full = theta.clone()
        full[free] = free_theta
        params = {name: part.view(p.shape) for (name, p), part in
                  zip(named, full.split([p.numel() for _, p in named]), strict=True)}
        return ((functional_call(model, params, (X,)) - y) / scale).reshape(-1)  # (n * n_out,)

    current, damping = theta[free].clone(), 1e-3
    for _ in range(steps):
        residual, jacobian = residuals(current), jacfwd(residuals)(current)  # (R,), (R, P_free)
        if float((2 * jacobian.T @ residual).norm()) <= gradient_tol:
            break
        normal = jacobian.T @ jacobian
        value = float(residual @ residual)
        while damping < 1e12:
            eye = torch.eye(len(current), dtype=current.dtype, device=current.device)
            trial = current - torch.linalg.solve(normal + damping * eye, jacobian.T @ residual)
            trial_residual = residuals(trial)
            if float(trial_residual @ trial_residual) < value:
                current, damping = trial, max(damping / 10, 1e-15)
                break
            damping *= 10
        else:
            break
    theta[free] = current
    with torch.no_grad():
        for (_, p), part in zip(named, theta.split([p.numel() for _, p in named]), strict=True):
            p.copy_(part.view(p.shape))
    return model, float(grad(loss)(theta).norm())
