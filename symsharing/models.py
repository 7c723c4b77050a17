"""The model families of the study: a dense MLP and an MLP whose weights are tied by a group.

``depth`` is the number of hidden layers everywhere (``depth + 1`` linear maps), ReLU between.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from .groups import PermutationGroup
from .sharing import InvariantReadout, SharedLinear, _check_channels, _check_features

__all__ = ["MLP", "SharedMLP", "count_parameters"]


def _check_depth(depth) -> int:
    if isinstance(depth, bool) or not isinstance(depth, (int, np.integer)):
        raise TypeError(f"depth must be an int, got {depth!r} ({type(depth).__name__})")
    if depth < 0:
        raise ValueError(f"depth must be >= 0 (number of hidden layers), got {depth}")
    return int(depth)


def _check_input(x, n_in: int, model: str, like: torch.Tensor) -> None:
    """``x`` must be a ``[batch, n_in]`` tensor of the dtype and device of ``like`` (a parameter)."""
    _check_features(x, (None, n_in), like, model)


class MLP(nn.Module):
    """Dense ReLU network ``[b, n_in] -> [b, n_out]`` with ``depth`` hidden layers of ``width``."""

    def __init__(self, n_in: int, n_out: int, width: int, depth: int = 2):
        super().__init__()
        self.n_in = _check_channels(n_in, "n_in")
        self.n_out = _check_channels(n_out, "n_out")
        self.width = _check_channels(width, "width")
        self.depth = _check_depth(depth)
        sizes = [self.n_in] + [self.width] * self.depth + [self.n_out]
        self.layers = nn.ModuleList(nn.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:], strict=True))

    def hidden_activation(self, h: torch.Tensor, layer: int) -> torch.Tensor:
        """The nonlinearity after hidden layer ``layer`` (ReLU; subclasses change it)."""
        return torch.relu(h)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        _check_input(x, self.n_in, type(self).__name__, like=self.layers[-1].weight)
        h = x  # (batch, n_in)
        for index, layer in enumerate(self.layers[:-1]):
            h = self.hidden_activation(layer(h), index)  # (batch, width)
        return self.layers[-1](h)  # (batch, n_out)


class SharedMLP(nn.Module):
    """G-invariant network ``[b, G.n] -> [b, n_out]``: equivariant hidden layers, invariant readout.

    The input is lifted to one channel ``[b, 1, n]``, passed through ``depth`` ``SharedLinear``
    layers of ``channels`` channels with ReLU, then averaged over point orbits and read out.
    """

    def __init__(self, group: PermutationGroup, n_out: int, channels: int, depth: int = 2):
        super().__init__()
        if not isinstance(group, PermutationGroup):
            raise TypeError(f"group must be a PermutationGroup, got {type(group).__name__}")
        self.group = group
        self.n_out = _check_channels(n_out, "n_out")
        self.channels = _check_channels(channels, "channels")
        self.depth = _check_depth(depth)
        sizes = [1] + [self.channels] * self.depth
        self.layers = nn.ModuleList(
            SharedLinear(group, a, b) for a, b in zip(sizes[:-1], sizes[1:], strict=True)
        )
        self.readout = InvariantReadout(group, sizes[-1], self.n_out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        _check_input(x, self.group.n, type(self).__name__, like=self.readout.linear.weight)
        h = x[:, None, :]  # (batch, 1, n)
        for layer in self.layers:
            h = torch.relu(layer(h))  # (batch, channels, n)
        return self.readout(h)  # (batch, n_out)


def count_parameters(model: nn.Module) -> int:
    """Free trainable parameters: a tied weight counts once, a frozen entry counts zero.

    A module may declare frozen entries inside a trainable tensor through an ``n_frozen_entries()``
    method (the W-Asymmetric network does); they are subtracted.
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"count_parameters expects a torch.nn.Module, got {type(model).__name__}")
    total = sum(p.numel() for p in model.parameters() if p.requires_grad)
    frozen = sum(m.n_frozen_entries() for m in model.modules() if hasattr(m, "n_frozen_entries"))
    return int(total - frozen)
