"""Task metrics, invariance error under a group, and confidence intervals over seeds."""

from __future__ import annotations

import math

import numpy as np
import torch
from scipy import stats

from .groups import PermutationGroup

__all__ = ["accuracy", "mse", "score", "metric_name", "invariance_error", "confidence_interval"]


def accuracy(outputs: torch.Tensor, y: torch.Tensor) -> float:
    """Fraction of rows whose arg-max class equals the integer label."""
    return float((outputs.argmax(-1) == y).double().mean())


def mse(outputs: torch.Tensor, y: torch.Tensor) -> float:
    """Mean squared error over all entries."""
    return float(((outputs - y) ** 2).double().mean())


def metric_name(y: torch.Tensor) -> str:
    """'accuracy' for integer labels (classification), 'mse' for float targets (regression)."""
    return "mse" if y.dtype.is_floating_point else "accuracy"


def score(outputs: torch.Tensor, y: torch.Tensor) -> float:
    """Accuracy for integer ``y``, MSE for float ``y`` (see ``metric_name``)."""
    return mse(outputs, y) if y.dtype.is_floating_point else accuracy(outputs, y)


@torch.no_grad()
def invariance_error(model, group: PermutationGroup, x: torch.Tensor, n_elements: int = 8,
                     seed: int = 0, probabilities: bool = False) -> float:
    """``E_{x, g} |f(g.x) - f(x)|`` (mean absolute difference) over ``n_elements`` random g.

    With ``probabilities=True`` the outputs are passed through a softmax first (classification).
    """
    generator = torch.Generator().manual_seed(seed)

    def predict(inputs):
        outputs = model(inputs)
        return outputs.softmax(-1) if probabilities else outputs

    reference = predict(x)
    errors = []
    for _ in range(n_elements):
        moved = group.act(group.random_elements(len(x), generator).to(x.device), x)
        errors.append(float((predict(moved) - reference).abs().mean()))
    return float(np.mean(errors))


def confidence_interval(values, level: float = 0.95) -> tuple[float, float, float]:
    """Mean and Student-t confidence interval ``(mean, low, high)`` over independent seeds.

    NaN values (diverged runs) are dropped; with fewer than two values the interval is NaN.
    """
    values = np.asarray(values, dtype=float)
    values = values[np.isfinite(values)]
    if len(values) == 0:
        return (math.nan, math.nan, math.nan)
    mean = float(values.mean())
    if len(values) < 2:
        return (mean, math.nan, math.nan)
    half = float(stats.t.ppf(0.5 + level / 2, len(values) - 1) * values.std(ddof=1) / len(values) ** 0.5)
    return (mean, mean - half, mean + half)
