"""Data augmentation by the task's symmetry group: each sample moved by its own random element."""

from __future__ import annotations

import torch

from .groups import PermutationGroup

__all__ = ["augment"]


def augment(group: PermutationGroup, x: torch.Tensor,
            generator: torch.Generator | None = None) -> torch.Tensor:
    """Return ``x [b, n]`` with row ``k`` moved by an independent uniform element ``g_k`` of ``group``."""
    if not isinstance(group, PermutationGroup):
        raise TypeError(f"augment_group must be a PermutationGroup, got {type(group).__name__}")
    if x.dim() < 2 or x.shape[-1] != group.n:
        raise ValueError(f"augmentation by {group.name} needs x of shape [batch, ..., {group.n}], "
                         f"got {tuple(x.shape)}")
    elements = group.random_elements(x.shape[0], generator=generator).to(x.device)  # (b, n)
    return group.act(elements, x)
