"""Linear mode connectivity: the loss and score along the straight line between two networks, and
its barrier (Frankle et al. 2020; Entezari et al. 2022)."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from symsharing._checks import check_int
from symsharing.metrics import score
from symsharing.paramspace.permutation_spec import interpolate

__all__ = ["interpolation_curve", "barrier_of", "loss_barrier"]


def _loss(outputs: torch.Tensor, y: torch.Tensor) -> float:
    if y.dtype.is_floating_point:
        return float(F.mse_loss(outputs, y.to(outputs.dtype)))
    return float(F.cross_entropy(outputs, y.long()))


def _check_points(n_points) -> int:
    return check_int(n_points, "n_points", minimum=2, meaning=" (alpha = 0 and 1 at least)")


@torch.no_grad()
def interpolation_curve(mlp_a, mlp_b, X: torch.Tensor, y: torch.Tensor, n_points: int = 25) -> dict:
    """Loss and score (accuracy or MSE, see ``metrics.score``) at ``linspace(0, 1, n_points)``.

    Returns ``{"alpha": [...], "loss": [...], "score": [...]}`` (lists of floats).
    """
    n_points = _check_points(n_points)
    if not isinstance(X, torch.Tensor) or not isinstance(y, torch.Tensor):
        raise TypeError(f"X and y must be torch.Tensors, got {type(X).__name__} and {type(y).__name__}")
    if len(X) != len(y) or len(X) == 0:
        raise ValueError(f"X and y must be non-empty and of the same length, got {len(X)} and {len(y)}")
    curve = {"alpha": [], "loss": [], "score": []}
    for alpha in np.linspace(0.0, 1.0, n_points):
        model = interpolate(mlp_a, mlp_b, float(alpha)).eval()
        outputs = model(X)  # (batch, n_out)
        curve["alpha"].append(float(alpha))
        curve["loss"].append(_loss(outputs, y))
        curve["score"].append(score(outputs, y))
    return curve


def barrier_of(losses) -> float:
    """``max_alpha loss(alpha) - ((1 - alpha) loss(0) + alpha loss(1))`` for losses on a uniform grid."""
    losses = np.asarray(losses, dtype=float)
    alphas = np.linspace(0.0, 1.0, len(losses))
    return float(np.max(losses - ((1 - alphas) * losses[0] + alphas * losses[-1])))


def loss_barrier(mlp_a, mlp_b, X: torch.Tensor, y: torch.Tensor, n_points: int = 25) -> float:
    """Loss barrier on the straight line from ``mlp_a`` to ``mlp_b`` (cross-entropy for integer
    ``y``, MSE for float ``y``); about 0 when the two are linearly mode connected."""
    return barrier_of(interpolation_curve(mlp_a, mlp_b, X, y, n_points)["loss"])
