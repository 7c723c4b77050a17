"""Monotonic linear interpolation: the loss on the straight line from a network's initial weights
to its trained weights, and the statistics that say how far it is from monotonic and convex.

Goodfellow, Vinyals & Saxe (2015) observed that this loss usually falls monotonically; Lucas et
al. ("Analyzing Monotonic Linear Interpolation in Neural Network Loss Landscapes", ICML 2021)
measured when it does not. Lim, Putterman, Walters, Maron & Jegelka ("The Empirical Impact of
Neural Parameter Symmetries, or Lack Thereof", NeurIPS 2024, §5.4; ``metanet_data/interp.py``,
``mli_stats``) report that networks without parameter symmetries are monotonic far more often.
``mli_statistics`` computes their per-run statistics on a curve sampled at equally spaced α:

- ``max_rise``: the largest rise between consecutive points (Lucas et al.'s Δ; the curve is
  monotonic when it is <= 0);
- ``min_second_derivative`` and ``convex_fraction``: the smallest finite-difference second
  derivative, and the fraction of non-negative ones (local convexity);
- ``below_chord``: the fraction of interior points at or below the chord from ``L(0)`` to
  ``L(1)`` (global convexity, the statistic the paper describes);
- ``below_chord_paper``: the same against the line the paper's code draws,
  ``results[0] + (results[1] - results[0]) * xs`` with ``xs`` from 0 to 1: from ``L(0)`` at α = 0 to
  the *second* point's value ``L(α_1)`` at α = 1 (``results[-1]`` was presumably meant), kept to compare.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn
from torch.func import functional_call, vmap

from symsharing._checks import check_int

__all__ = ["mli_statistics", "interpolation_losses"]


def mli_statistics(losses) -> dict:
    """The statistics of one loss curve ``losses`` (at least 3 points, equally spaced α in [0, 1])."""
    try:
        curve = np.asarray(losses, dtype=float)
    except (TypeError, ValueError) as error:
        raise TypeError(f"losses must be a sequence of numbers, got {losses!r}") from error
    if curve.ndim != 1 or len(curve) < 3:
        raise ValueError(f"losses must be a 1-d curve of at least 3 points, got shape {curve.shape}")
    if not np.all(np.isfinite(curve)):
        raise ValueError(f"losses must be finite, got {curve.tolist()}")
    h = 1.0 / (len(curve) - 1)
    rises = np.diff(curve)
    second = (curve[2:] - 2 * curve[1:-1] + curve[:-2]) / h**2
    alphas = np.linspace(0.0, 1.0, len(curve))
    chord = curve[0] + (curve[-1] - curve[0]) * alphas
    paper_line = curve[0] + (curve[1] - curve[0]) * alphas
    max_rise = float(rises.max())
    return {"max_rise": max_rise, "monotonic": bool(max_rise <= 0),
            "min_second_derivative": float(second.min()), "convex_fraction": float(np.mean(second >= 0)),
            "below_chord": float(np.mean(curve[1:-1] <= chord[1:-1])),
            "below_chord_paper": float(np.mean(curve[1:-1] <= paper_line[1:-1]))}


@torch.no_grad()
def interpolation_losses(initial: nn.Module, final: nn.Module, X: torch.Tensor, y: torch.Tensor, *,
                         n_points: int = 25, label_smoothing: float = 0.0) -> list[float]:
    """Cross-entropy (targets smoothed by ``label_smoothing``) on ``(X, y)`` of the networks
    ``(1 - α) initial + α final`` at ``n_points`` equally spaced α in [0, 1], every parameter
    interpolated (Lim et al.'s ``lerp_sd``; buffers such as fixed masks and gates are the final
    network's, equal in both). The ``n_points`` networks run at once (``torch.func.vmap``)."""
    n_points = check_int(n_points, "n_points", minimum=2)
    for name, model in (("initial", initial), ("final", final)):
        if not isinstance(model, nn.Module):
            raise TypeError(f"{name} must be a torch.nn.Module, got {type(model).__name__}")
    start, end = dict(initial.named_parameters()), dict(final.named_parameters())
    if type(initial) is not type(final) or {k: v.shape for k, v in start.items()} != \
            {k: v.shape for k, v in end.items()}:
        raise ValueError(f"initial and final must be networks of one architecture, got "
                         f"{type(initial).__name__} and {type(final).__name__}")
    if not isinstance(y, torch.Tensor) or y.dtype.is_floating_point or y.dim() != 1 or len(y) != len(X):
        raise ValueError("interpolation_losses needs integer class labels y [n] for inputs X [n, features]")
    alphas = torch.linspace(0.0, 1.0, n_points, dtype=next(iter(end.values())).dtype)
    stacked = {name: torch.lerp(start[name].detach()[None], end[name].detach()[None],
                                alphas.view(-1, *([1] * end[name].dim())))
               for name in end}  # each (n_points, ...)
    buffers = dict(final.named_buffers())
    final.eval()
    outputs = vmap(lambda params: functional_call(final, (params, buffers), (X,)))(stacked)  # (P, n, C)
    losses = torch.nn.functional.cross_entropy(outputs.transpose(1, 2), y.expand(n_points, -1),
                                               label_smoothing=label_smoothing, reduction="none").mean(1)
    return losses.tolist()
