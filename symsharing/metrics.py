"""Task metrics, invariance error under a group, and confidence intervals over seeds."""

from __future__ import annotations

import numpy as np
import torch

from symsharing._checks import check_int
from symsharing.groups import PermutationGroup

__all__ = ["accuracy", "mse", "score", "metric_name", "invariance_error", "is_collapsed", "COLLAPSE_SHARE"]


def _check_tensors(outputs, y, metric: str) -> None:
    for name, value in (("outputs", outputs), ("y", y)):
        if not isinstance(value, torch.Tensor):
            raise TypeError(f"{metric}: {name} must be a torch.Tensor, got {type(value).__name__}")
    if len(outputs) == 0 or outputs.dim() == 0:
        raise ValueError(f"{metric}: outputs must be a non-empty batch, got shape {tuple(outputs.shape)}")


def accuracy(outputs: torch.Tensor, y: torch.Tensor) -> float:
    """Fraction of rows whose arg-max class equals the integer label (``outputs [b, k]``, ``y [b]``)."""
    _check_tensors(outputs, y, "accuracy")
    if outputs.dim() != 2 or y.shape != outputs.shape[:1]:
        raise ValueError(f"accuracy expects outputs [batch, classes] and y [batch], got "
                         f"{tuple(outputs.shape)} and {tuple(y.shape)}")
    if y.dtype.is_floating_point or y.dtype == torch.bool:
        raise TypeError(f"accuracy expects integer class labels y, got dtype {y.dtype}")
    return float((outputs.argmax(-1) == y).double().mean())


def mse(outputs: torch.Tensor, y: torch.Tensor) -> float:
    """Mean squared error over all entries (``outputs`` and ``y`` of the same shape)."""
    _check_tensors(outputs, y, "mse")
    if outputs.shape != y.shape:  # broadcasting [b, 1] against [b] would silently give [b, b]
        raise ValueError(f"mse expects outputs and y of the same shape, got {tuple(outputs.shape)} "
                         f"and {tuple(y.shape)}")
    return float(((outputs - y) ** 2).double().mean())


def metric_name(y: torch.Tensor) -> str:
    """'accuracy' for integer labels (classification), 'mse' for float targets (regression)."""
    return "mse" if y.dtype.is_floating_point else "accuracy"


def score(outputs: torch.Tensor, y: torch.Tensor) -> float:
    """Accuracy for integer ``y``, MSE for float ``y`` (see ``metric_name``)."""
    return mse(outputs, y) if y.dtype.is_floating_point else accuracy(outputs, y)


COLLAPSE_SHARE = 1e-3  # regression: prediction variance below this share of the targets' is constant


def is_collapsed(outputs: torch.Tensor, y: torch.Tensor) -> bool:
    """Whether a model's ``outputs`` on its training inputs are constant: one predicted class for
    every sample (classification), or predictions whose variance over the samples is below
    ``COLLAPSE_SHARE`` of the targets' variance (regression, averaged over the outputs)."""
    _check_tensors(outputs, y, "is_collapsed")
    if not y.dtype.is_floating_point:
        return bool(outputs.argmax(dim=1).unique().numel() == 1)
    spread = outputs.double().var(dim=0, unbiased=False).mean()
    return bool(spread < COLLAPSE_SHARE * y.double().var(dim=0, unbiased=False).mean())


@torch.no_grad()
def invariance_error(model, group: PermutationGroup, x: torch.Tensor, n_elements: int = 8,
                     seed: int = 0, probabilities: bool = False) -> float:
    """``E_{x, g} |f(g.x) - f(x)|`` (mean absolute difference) over ``n_elements`` random g.

    With ``probabilities=True`` the outputs are passed through a softmax first (classification).
    """
    if not isinstance(group, PermutationGroup):
        raise TypeError(f"group must be a PermutationGroup, got {type(group).__name__}")
    if not isinstance(x, torch.Tensor) or x.dim() < 2 or len(x) == 0:
        shape = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
        raise ValueError(f"invariance_error needs a non-empty batch x [batch, {group.n}], got {shape}")
    n_elements = check_int(n_elements, "n_elements", minimum=1)
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

