"""Data augmentation by the task's symmetry group, and test-time averaging over the group orbit.

Augmentation moves each training sample by its own random element of the group; orbit averaging
makes any model invariant after training by averaging its outputs over ``g.x`` for all g in the
group (or over a fixed random sample of elements when the group is too large to enumerate).
This is the "symmetrization" baseline that parameter sharing is compared against (e.g. Yarotsky,
"Universal approximations of invariant maps by neural networks", 2018).
"""

from __future__ import annotations

import torch
from torch import nn

from symsharing._checks import check_int
from symsharing.groups import PermutationGroup

__all__ = ["augment", "OrbitAverage", "orbit_average"]


def augment(group: PermutationGroup, x: torch.Tensor,
            generator: torch.Generator | None = None) -> torch.Tensor:
    """Return ``x [b, n]`` with row ``k`` moved by an independent uniform element ``g_k`` of ``group``."""
    if not isinstance(group, PermutationGroup):
        raise TypeError(f"augment_group must be a PermutationGroup, got {type(group).__name__}")
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"augment expects x as a torch.Tensor, got {type(x).__name__}")
    if x.dim() < 2 or x.shape[-1] != group.n:
        raise ValueError(f"augmentation by {group.name} needs x of shape [batch, ..., {group.n}], "
                         f"got {tuple(x.shape)}")
    elements = group.random_elements(x.shape[0], generator=generator).to(x.device)  # (b, n)
    return group.act(elements, x)


class OrbitAverage(nn.Module):
    """``x -> mean_g model(g.x)`` over the whole group when ``order <= n_elements``, else over
    ``n_elements`` elements drawn once from ``torch.Generator(seed)`` (then only approximately
    invariant). Averages the wrapped model's raw outputs (logits for classification)."""

    def __init__(self, model: nn.Module, group: PermutationGroup, n_elements: int = 16, seed: int = 0):
        super().__init__()
        if not isinstance(model, nn.Module):
            raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
        if not isinstance(group, PermutationGroup):
            raise TypeError(f"group must be a PermutationGroup, got {type(group).__name__}")
        n_elements = check_int(n_elements, "n_elements", minimum=1)
        self.model, self.group = model, group
        self.exact = group.order() <= n_elements
        if self.exact:
            elements = group.elements()
        else:
            elements = group.random_elements(n_elements, torch.Generator().manual_seed(seed))
        self.register_buffer("elements", elements, persistent=False)  # (k, n)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not isinstance(x, torch.Tensor) or x.dim() != 2 or x.shape[1] != self.group.n:
            shape = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
            raise ValueError(f"OrbitAverage expects input [batch, {self.group.n}], got {shape}")
        outputs = [self.model(self.group.act(g, x)) for g in self.elements]  # k x (batch, out)
        return torch.stack(outputs).mean(dim=0)  # (batch, out)


def orbit_average(model: nn.Module, group: PermutationGroup, x: torch.Tensor,
                  n_elements: int = 16, seed: int = 0) -> torch.Tensor:
    """Outputs of ``OrbitAverage(model, group, n_elements, seed)`` on ``x [b, n]``."""
    return OrbitAverage(model, group, n_elements, seed)(x)
