"""Aligning two networks by permuting hidden units: weight matching and activation matching.

Weight matching (Ainsworth, Hayase & Srinivasa, "Git Re-Basin", ICLR 2023) maximises the sum of
inner products of the two networks' weights by coordinate descent over the hidden layers, each
step a linear assignment (scipy's ``linear_sum_assignment``). Activation matching (REPAIR's variant,
Jordan et al., "REPAIR: REnormalizing Permuted Activations for Interpolation Repair", ICLR 2023)
matches units layer by layer by the correlation of their post-activations on data. Rotation
matching adds the per-channel rotations that a circular ``SharedMLP`` also leaves free. Every
function returns ``perms`` with the convention of ``permute_hidden``: ``permute_hidden(b, perms)``
is the aligned copy of ``b`` (new unit ``i`` = old unit ``perms[l][i]``).
"""

from __future__ import annotations

import copy

import numpy as np
import torch
from scipy.optimize import linear_sum_assignment

from symsharing._checks import check_int
from symsharing.models import MLP, SharedMLP
from symsharing.paramspace.permutation_spec import (
    _check_per_layer,
    _permuted,
    _views,
    check_pair,
    hidden_sizes,
    permutation_spec,
    permute_hidden,
)

__all__ = ["weight_matching", "channel_matching", "roll_channels", "rotation_matching",
           "activation_matching", "hidden_states"]


def weight_matching(mlp_a, mlp_b, *, max_iter: int = 100, seed: int = 0) -> list[torch.Tensor]:
    """Permutations ``perms`` such that ``permute_hidden(mlp_b, perms)`` is as close to ``mlp_a`` as
    possible (maximal sum of inner products of the weights), by Git Re-Basin's weight matching.

    Coordinate descent: visit the hidden layers in a random order (``seed``), solve each as a
    linear assignment given the others, stop after a sweep in which no layer improved. For two
    ``SharedMLP`` it matches channels.
    """
    check_pair(mlp_a, mlp_b)
    max_iter = check_int(max_iter, "max_iter", minimum=1)
    spec, sizes = permutation_spec(mlp_a), hidden_sizes(mlp_a)
    views_a = {k: v.double() for k, v in _views(mlp_a, spec).items()}
    views_b = {k: v.double() for k, v in _views(mlp_b, spec).items()}
    perms = [torch.arange(size) for size in sizes]
    generator = torch.Generator().manual_seed(seed)
    for _ in range(max_iter):
        improved = False
        for layer in torch.randperm(len(sizes), generator=generator).tolist():
            similarity = torch.zeros(sizes[layer], sizes[layer], dtype=torch.float64)  # (a unit, b unit)
            for axes in spec:
                for axis, owner in ((0, axes.out_layer), (1, axes.in_layer)):
                    if owner != layer:
                        continue
                    a = views_a[axes.name].movedim(axis, 0).reshape(sizes[layer], -1)
                    b = _permuted(views_b[axes.name], axes, perms, skip=layer)
                    similarity += a @ b.movedim(axis, 0).reshape(sizes[layer], -1).T
            rows, cols = linear_sum_assignment(similarity.numpy(), maximize=True)
            old = float(similarity[torch.arange(sizes[layer]), perms[layer]].sum())
            new = float(similarity[rows, cols].sum())
            if new > old + 1e-12 * max(1.0, abs(old)):
                perms[layer], improved = torch.as_tensor(cols, dtype=torch.long), True
        if not improved:
            break
    return perms


channel_matching = weight_matching  # the name the book uses for two SharedMLP


def _check_circular(model) -> None:
    if not isinstance(model, SharedMLP) or any(layer.path != "circular" for layer in model.layers):
        raise TypeError(f"expected a SharedMLP whose layers are circular convolutions (the regular "
                        f"action of a cyclic group), got {type(model).__name__}")


def roll_channels(model, shifts):
    """A copy of a circular ``SharedMLP`` whose hidden channel ``c`` of layer ``l`` has its feature map
    rotated by ``shifts[l][c]`` points, compensated in the next layer: the same function.

    Layer ``l``'s kernel from input channel ``i`` to output channel ``o`` is rolled by
    ``shifts[l][o] - shifts[l - 1][i]``; the readout averages over the ring and needs no change.
    """
    _check_circular(model)
    shifts, sizes = _check_per_layer(shifts, model, "shifts")
    checked = []
    for layer, (shift, size) in enumerate(zip(shifts, sizes, strict=True)):
        shift = torch.as_tensor(np.asarray(shift))
        if shift.dtype.is_floating_point or shift.dtype == torch.bool or shift.shape != (size,):
            raise ValueError(f"shifts[{layer}] must be {size} integers, got {shift.tolist()}")
        checked.append(shift.long())
    rolled = copy.deepcopy(model)
    with torch.no_grad():
        for index, layer in enumerate(rolled.layers):
            offsets, n = layer.pair_orbits[0], layer.group.n  # weight[..., offsets[k]]: offset k
            kernel = layer.weight[..., offsets]  # (c_out, c_in, n)
            amount = checked[index][:, None] - (checked[index - 1][None, :] if index else 0)  # (c_out, c_in)
            source = (torch.arange(n) - amount[..., None]) % n  # (c_out, c_in, n)
            layer.weight[..., offsets] = kernel.gather(-1, source.expand_as(kernel))
    return rolled


def rotation_matching(model_a, model_b, *, max_iter: int = 100, seed: int = 0):
    """``(perms, shifts)`` such that ``roll_channels(permute_hidden(model_b, perms), shifts)`` is as
    close to ``model_a`` as possible: weight matching over channel permutations *and* rotations
    of each channel's feature map (circular ``SharedMLP`` only)."""
    check_pair(model_a, model_b)
    _check_circular(model_a)
    spec, sizes = permutation_spec(model_a), hidden_sizes(model_a)
    n = model_a.group.n
    views_a = {k: v.double() for k, v in _views(model_a, spec).items()}
    perms = [torch.arange(size) for size in sizes]
    shifts = [torch.zeros(size, dtype=torch.long) for size in sizes]
    generator = torch.Generator().manual_seed(seed)
    for _ in range(max_iter):
        improved = False
        for layer in torch.randperm(len(sizes), generator=generator).tolist():
            base = permute_hidden(model_b, [torch.arange(size) if index == layer else perm
                                            for index, (perm, size) in enumerate(zip(perms, sizes,
                                                                                     strict=True))])
            similarity = torch.zeros(n, sizes[layer], sizes[layer], dtype=torch.float64)  # (r, a, b)
            for r in range(n):
                trial = [torch.full((size,), r) if index == layer else shift
                         for index, (shift, size) in enumerate(zip(shifts, sizes, strict=True))]
                views_b = {k: v.double() for k, v in _views(roll_channels(base, trial), spec).items()}
                for axes in spec:
                    for axis, owner in ((0, axes.out_layer), (1, axes.in_layer)):
                        if owner == layer:
                            a = views_a[axes.name].movedim(axis, 0).reshape(sizes[layer], -1)
                            b = views_b[axes.name].movedim(axis, 0).reshape(sizes[layer], -1)
                            similarity[r] += a @ b.T
            best, best_shift = similarity.max(dim=0)  # (a, b)
            rows, cols = linear_sum_assignment(best.numpy(), maximize=True)
            units = torch.arange(sizes[layer])
            old = float(similarity[shifts[layer], units, perms[layer]].sum())
            if float(best[rows, cols].sum()) > old + 1e-12 * max(1.0, abs(old)):
                perms[layer] = torch.as_tensor(cols, dtype=torch.long)
                shifts[layer], improved = best_shift[units, perms[layer]], True
        if not improved:
            break
    return perms, shifts


def _check_mlp(model, function: str) -> None:
    if not isinstance(model, MLP):
        raise TypeError(f"{function} needs MLPs (hidden units are neurons), got {type(model).__name__}")


def _check_data(X, model) -> torch.Tensor:
    """``X`` as a float tensor ``[n, n_in]`` (n >= 2) in the dtype of ``model``'s weights."""
    if not isinstance(X, torch.Tensor):
        raise TypeError(f"X must be a torch.Tensor of inputs, got {type(X).__name__}")
    if X.dim() != 2 or X.shape[1] != model.n_in or len(X) < 2:
        raise ValueError(f"X must be [n, {model.n_in}] with n >= 2 (the models' inputs), "
                         f"got shape {tuple(X.shape)}")
    return X.to(model.layers[0].weight.dtype)


@torch.no_grad()
def hidden_states(model, X: torch.Tensor) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
    """Pre- and post-activations of every hidden layer of an ``MLP`` on ``X``: two lists of
    ``[n, width]`` tensors, one entry per hidden layer."""
    _check_mlp(model, "hidden_states")
    h = _check_data(X, model)  # (n, n_in)
    pre, post = [], []
    for index, layer in enumerate(model.layers[:-1]):
        z = layer(h)  # (n, width)
        h = model.hidden_activation(z, index)
        pre.append(z)
        post.append(h)
    return pre, post


def _correlation(a: torch.Tensor, b: torch.Tensor, eps: float = 1e-8) -> torch.Tensor:
    """Pearson correlation of every column of ``a [n, p]`` with every column of ``b [n, q]``."""
    a, b = a.double() - a.double().mean(0), b.double() - b.double().mean(0)
    a = a / (a.norm(dim=0) + eps)
    b = b / (b.norm(dim=0) + eps)
    return a.T @ b  # (p, q)


def activation_matching(mlp_a, mlp_b, X: torch.Tensor) -> list[torch.Tensor]:
    """Permutations ``perms`` such that ``permute_hidden(mlp_b, perms)`` is as close to ``mlp_a`` as
    possible, matching units by the correlation of their post-activations on ``X`` (REPAIR's
    variant of activation matching, Jordan et al. 2023; Git Re-Basin's uses inner products).

    Each hidden layer is one linear assignment maximising the summed correlation of matched units.
    Permuting a layer only reorders the later layers' units (the function is unchanged), so the
    layers are matched on the activations of the unaligned networks.
    """
    _check_mlp(mlp_a, "activation_matching")
    check_pair(mlp_a, mlp_b)
    _, post_a = hidden_states(mlp_a, X)
    _, post_b = hidden_states(mlp_b, X)
    perms = []
    for act_a, act_b in zip(post_a, post_b, strict=True):
        correlation = _correlation(act_a, act_b)  # (a unit, b unit)
        _, cols = linear_sum_assignment(correlation.numpy(), maximize=True)
        perms.append(torch.as_tensor(cols, dtype=torch.long))
    return perms

