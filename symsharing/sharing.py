"""Weight tying from a group action: the G-equivariant linear maps, parametrised by orbits.

A linear map ``W`` on features over the points of a G-set is G-equivariant exactly when
``W[g i, g j] = W[i, j]`` for every g: it is constant on each orbit of index pairs. So one free
parameter per (output channel, input channel, pair orbit) and ``W = theta[..., pair_orbits]``
gives *all* equivariant maps and nothing else (Wood & Shawe-Taylor, "Representation theory and
invariant neural networks", 1996; Ravanbakhsh, Schneider & Póczos, "Equivariance through
parameter-sharing", ICML 2017). The number of pair orbits is Burnside's ``(1/|G|) Σ_g fix(g)²``.

Two structures have cheaper forms that equal the generic construction exactly:
  - 2-transitive groups (e.g. S_n): two pair orbits, so ``W x = a x + b (Σx - x)`` (DeepSets,
    Zaheer et al. 2017);
  - the regular action of C_n: ``W[i, j]`` depends on ``j - i mod n``, a circular correlation.
    It takes as many multiply-adds as the dense tied map, and on a CPU ``conv1d`` is 1.5-4x slower
    than one matrix product with the dense tied weight up to ``n = CIRCULAR_DENSE_UP_TO`` (measured
    at n = 16, 1-16 channels, batches of 128-65,536), so below that the product is used.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from symsharing._checks import check_int
from symsharing.groups import PermutationGroup

__all__ = ["SharedLinear", "InvariantReadout", "fast_path", "CIRCULAR_DENSE_UP_TO"]

CIRCULAR_DENSE_UP_TO = 32  # a circular layer on at most this many points is one dense product


def _check_group(group) -> PermutationGroup:
    if not isinstance(group, PermutationGroup):
        raise TypeError(f"group must be a PermutationGroup, got {type(group).__name__}")
    return group


def _check_features(x, shape: tuple, like: torch.Tensor, owner: str) -> None:
    """Check that ``x`` is a tensor of ``shape`` (``None``: the batch, any size) matching ``like``.

    ``like`` is a parameter of the module: ``x`` must share its floating dtype and its device.
    """
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{owner} expects a torch.Tensor, got {type(x).__name__}")
    if x.dim() != len(shape) or any(size is not None and x.shape[k] != size for k, size in enumerate(shape)):
        expected = ", ".join("batch" if size is None else str(size) for size in shape)
        raise ValueError(f"{owner} expects input [{expected}], got {tuple(x.shape)}")
    if not x.dtype.is_floating_point:
        raise TypeError(f"{owner} expects a floating-point tensor, got dtype {x.dtype}")
    if x.dtype != like.dtype:
        raise TypeError(f"{owner} got input of dtype {x.dtype} but its parameters are {like.dtype}; "
                        f"convert one of them, e.g. model.to({x.dtype})")
    if x.device != like.device:
        raise ValueError(f"{owner} got input on {x.device} but its parameters are on {like.device}")


def fast_path(group: PermutationGroup) -> str:
    """Which forward pass ``SharedLinear`` uses for this group: 'deepsets', 'circular' or 'generic'."""
    pair_orbits = group.pair_orbits()
    n = group.n
    if n > 1 and group.n_pair_orbits() == 2 and bool((pair_orbits.diagonal() == 0).all()):
        return "deepsets"  # diagonal = orbit 0, off-diagonal = orbit 1: 2-transitive
    offsets = (torch.arange(n)[None, :] - torch.arange(n)[:, None]) % n  # (n, n): j - i
    if n > 2 and group.n_pair_orbits() == n and torch.equal(pair_orbits, pair_orbits[0][offsets]):
        return "circular"
    return "generic"


class SharedLinear(nn.Module):
    """G-equivariant linear layer ``[b, c_in, n] -> [b, c_out, n]`` with orbit-tied weights.

    ``weight``: ``[c_out, c_in, n_pair_orbits]``; ``bias``: ``[c_out, n_point_orbits]``.
    """

    def __init__(self, group: PermutationGroup, in_channels: int, out_channels: int,
                 bias: bool = True):
        super().__init__()
        self.group = _check_group(group)
        self.in_channels = check_int(in_channels, "in_channels", minimum=1)
        self.out_channels = check_int(out_channels, "out_channels", minimum=1)
        if not isinstance(bias, bool):
            raise TypeError(f"bias must be a bool, got {bias!r} ({type(bias).__name__})")
        self.register_buffer("pair_orbits", group.pair_orbits(), persistent=False)  # (n, n)
        self.register_buffer("point_orbits", group.orbit_index(), persistent=False)  # (n,)
        self.path = fast_path(group)
        n_pair = group.n_pair_orbits()
        self.weight = nn.Parameter(torch.empty(self.out_channels, self.in_channels, n_pair))
        self.bias = nn.Parameter(torch.empty(self.out_channels, len(group.orbits()))) if bias else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        # Same scale as nn.Linear on the dense map: fan-in = c_in * n.
        bound = 1.0 / (self.in_channels * self.group.n) ** 0.5
        nn.init.uniform_(self.weight, -bound, bound)
        if self.bias is not None:
            nn.init.uniform_(self.bias, -bound, bound)

    def dense_weight(self) -> torch.Tensor:
        """The tied dense weight ``[c_out, c_in, n, n]``, ``W[o, c, i, j] = theta[o, c, orbit(i, j)]``."""
        return self.weight[:, :, self.pair_orbits]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n = self.group.n
        _check_features(x, (None, self.in_channels, n), self.weight, "SharedLinear")
        if self.path == "deepsets":
            diagonal, off = self.weight[..., 0], self.weight[..., 1]  # (c_out, c_in)
            y = torch.einsum("oc,bcn->bon", diagonal - off, x)
            y = y + torch.einsum("oc,bc->bo", off, x.sum(-1))[..., None]
        elif self.path == "circular" and n > CIRCULAR_DENSE_UP_TO:
            kernel = self.weight[..., self.pair_orbits[0]]  # (c_out, c_in, n): W[i, i + k]
            y = F.conv1d(torch.cat([x, x[..., :-1]], dim=-1), kernel)  # y[i] = Σ_k w[k] x[i+k]
        else:
            dense = self.dense_weight().permute(0, 2, 1, 3).reshape(self.out_channels * n, -1)  # (o i, c j)
            y = (x.flatten(1) @ dense.T).view(len(x), self.out_channels, n)
        if self.bias is not None:
            y = y + self.bias[:, self.point_orbits]
        return y  # (batch, c_out, n)

    def extra_repr(self) -> str:
        return (f"group={self.group.name}, in_channels={self.in_channels}, "
                f"out_channels={self.out_channels}, path={self.path}")


class InvariantReadout(nn.Module):
    """G-invariant readout ``[b, c, n] -> [b, out_features]``: mean over each point orbit, then linear."""

    def __init__(self, group: PermutationGroup, in_channels: int, out_features: int):
        super().__init__()
        self.group = _check_group(group)
        self.in_channels = check_int(in_channels, "in_channels", minimum=1)
        self.out_features = check_int(out_features, "out_features", minimum=1)
        orbits = group.orbits()
        pooling = torch.zeros(group.n, len(orbits))  # (n, n_orbits): mean over each orbit
        for orbit_id, orbit in enumerate(orbits):
            pooling[orbit, orbit_id] = 1.0 / len(orbit)
        self.register_buffer("pooling", pooling, persistent=False)
        self.linear = nn.Linear(self.in_channels * len(orbits), self.out_features)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        _check_features(x, (None, self.in_channels, self.group.n), self.linear.weight, "InvariantReadout")
        pooled = x @ self.pooling.to(x.dtype)  # (batch, c, n_orbits)
        return self.linear(pooled.flatten(1))
