"""Training: ``fit`` one model deterministically; ``fit_many`` trains a list of models.

``fit`` draws every random choice (mini-batch indices, augmentation elements) from its own
``torch.Generator(seed)``, so the same seed and the same initial weights give bit-identical
trained weights. Mini-batches are drawn with replacement; ``batch_size >= n`` means full batch.
"""

from __future__ import annotations

import random
import time

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .augment import augment
from .groups import PermutationGroup

__all__ = ["fit", "fit_many", "seed_everything", "loss_function", "default_device"]


def seed_everything(seed: int) -> torch.Generator:
    """Seed Python, NumPy and torch's global RNGs; return a fresh ``torch.Generator(seed)``."""
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"seed must be an int, got {seed!r} ({type(seed).__name__})")
    random.seed(int(seed))
    np.random.seed(int(seed) % 2**32)
    torch.manual_seed(int(seed))
    return torch.Generator().manual_seed(int(seed))


def default_device() -> torch.device:
    """``cuda`` when available, else ``cpu``."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def loss_function(outputs: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Cross-entropy for integer labels, mean squared error for float targets."""
    if y.dtype.is_floating_point:
        return F.mse_loss(outputs, y)
    return F.cross_entropy(outputs, y)


def _check_fit_arguments(model, X, y, steps, lr, batch_size, augment_group) -> None:
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    for name, value in (("X", X), ("y", y)):
        if not isinstance(value, torch.Tensor):
            raise TypeError(f"{name} must be a torch.Tensor, got {type(value).__name__}")
    if X.dim() != 2 or len(X) == 0:
        raise ValueError(f"X must be a non-empty [n, features] tensor, got shape {tuple(X.shape)}")
    if len(y) != len(X):
        raise ValueError(f"X and y must have the same length, got {len(X)} and {len(y)}")
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
        raise ValueError(f"steps must be a positive int, got {steps!r}")
    if not isinstance(lr, (int, float)) or isinstance(lr, bool) or not lr > 0:
        raise ValueError(f"lr must be a positive number, got {lr!r}")
    if batch_size is not None and (isinstance(batch_size, bool) or not isinstance(batch_size, int)
                                   or batch_size < 1):
        raise ValueError(f"batch_size must be None (full batch) or a positive int, got {batch_size!r}")
    if augment_group is not None and not isinstance(augment_group, PermutationGroup):
        raise TypeError(f"augment_group must be a PermutationGroup or None, "
                        f"got {type(augment_group).__name__}")


def fit(model: nn.Module, X: torch.Tensor, y: torch.Tensor, *, steps: int, lr: float = 1e-3,
        batch_size: int | None = None, seed: int = 0,
        augment_group: PermutationGroup | None = None) -> dict:
    """Train ``model`` in place with Adam; return ``{"loss": [per step], "diverged", "seconds"}``.

    A run whose loss becomes NaN or infinite stops there and is marked ``diverged``.
    """
    _check_fit_arguments(model, X, y, steps, lr, batch_size, augment_group)
    device = next(model.parameters()).device
    X, y = X.to(device), y.to(device)
    generator = torch.Generator().manual_seed(seed)
    optimizer = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=lr)
    full_batch = batch_size is None or batch_size >= len(X)
    history, diverged, start = [], False, time.perf_counter()
    model.train()
    for _ in range(steps):
        if full_batch:
            inputs, targets = X, y
        else:
            index = torch.randint(len(X), (batch_size,), generator=generator).to(device)
            inputs, targets = X[index], y[index]
        if augment_group is not None:
            inputs = augment(augment_group, inputs, generator)
        loss = loss_function(model(inputs), targets)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        value = float(loss)
        history.append(value)
        if not np.isfinite(value):
            diverged = True
            break
    model.eval()
    return {"loss": history, "diverged": diverged, "seconds": time.perf_counter() - start}


def fit_many(models, datasets, *, steps: int, lr: float = 1e-3, batch_size: int | None = None,
             seeds=None, augment_groups=None) -> list[dict]:
    """Train each ``models[k]`` on ``datasets[k] = (X, y)`` as ``fit`` would; return the histories.

    ``seeds`` and ``augment_groups`` are lists (one per model) or None.
    """
    models, datasets = list(models), list(datasets)
    if len(models) != len(datasets):
        raise ValueError(f"fit_many needs one dataset per model, got {len(models)} models "
                         f"and {len(datasets)} datasets")
    seeds = list(range(len(models))) if seeds is None else list(seeds)
    augment_groups = [None] * len(models) if augment_groups is None else list(augment_groups)
    return [fit(model, X, y, steps=steps, lr=lr, batch_size=batch_size, seed=seed,
                augment_group=group)
            for model, (X, y), seed, group in zip(models, datasets, seeds, augment_groups, strict=True)]
