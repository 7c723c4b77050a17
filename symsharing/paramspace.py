"""Parameter-space symmetries: permuting and rescaling hidden units, weight matching, loss barriers.

Permuting the hidden units of a layer (rows of its weight and bias, columns of the next weight)
and rescaling a ReLU unit (incoming weights and bias times ``s > 0``, outgoing weights divided by
``s``) leave the function of an MLP unchanged (Zhao, Walters & Yu, "Symmetry in Neural Network
Parameter Spaces", 2025). Weight matching finds the permutation that best aligns two networks
(Ainsworth, Hayase & Srinivasa, "Git Re-Basin", ICLR 2023): coordinate descent over the hidden
layers, each step a linear assignment. ``interpolate`` and ``loss_barrier`` measure linear mode
connectivity.

One description, the *permutation spec*, covers every model: a list of parameter tensors, each
viewed so that axis 0 holds the units it produces and axis 1 the units it reads, with the hidden
layer (or ``None``) that owns each axis. For ``MLP`` and its subclasses the units are hidden
neurons; for ``SharedMLP`` they are the channels of its ``SharedLinear`` layers, whose permutation
is the redundancy that weight tying leaves (so ``weight_matching`` of two ``SharedMLP`` is channel
matching). All functions return new models and never modify their inputs. On the asymmetric
networks of Lim et al. (2024) they act on the trainable tensors and leave the fixed buffers alone:
there, permutation and rescaling are *not* symmetries.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from scipy.optimize import linear_sum_assignment

from ._checks import check_int
from .metrics import score
from .models import MLP, SharedMLP

__all__ = ["permute_hidden", "rescale_hidden", "weight_matching", "channel_matching", "roll_channels",
           "rotation_matching", "interpolate",
           "loss_barrier", "interpolation_curve", "barrier_of", "hidden_sizes", "permutation_group_order"]


@dataclass(frozen=True)
class _Axes:
    """One parameter: its name, the shape it is viewed in, and the hidden layers owning axes 0 and 1."""

    name: str
    view: tuple[int, ...]
    out_layer: int | None  # hidden layer whose units are axis 0 (the units this tensor produces)
    in_layer: int | None  # hidden layer whose units are axis 1 (the units this tensor reads)


def _spec(model) -> list[_Axes]:
    if isinstance(model, MLP):
        spec = []
        for index, layer in enumerate(model.layers):
            out_layer = index if index < model.depth else None
            in_layer = index - 1 if index > 0 else None
            spec.append(_Axes(f"layers.{index}.weight", tuple(layer.weight.shape), out_layer, in_layer))
            spec.append(_Axes(f"layers.{index}.bias", tuple(layer.bias.shape), out_layer, None))
        return spec
    if isinstance(model, SharedMLP):
        spec = []
        for index, layer in enumerate(model.layers):
            in_layer = index - 1 if index > 0 else None
            spec.append(_Axes(f"layers.{index}.weight", tuple(layer.weight.shape), index, in_layer))
            spec.append(_Axes(f"layers.{index}.bias", tuple(layer.bias.shape), index, None))
        readout = model.readout.linear  # reads the flattened (channel, orbit) features
        n_orbits = readout.in_features // (model.channels if model.depth else 1)
        last = model.depth - 1 if model.depth else None
        spec.append(_Axes("readout.linear.weight", (readout.out_features, -1, n_orbits), None, last))
        return spec
    raise TypeError(f"expected an MLP (or a subclass) or a SharedMLP, got {type(model).__name__}")


def hidden_sizes(model) -> list[int]:
    """Number of units (MLP neurons, SharedMLP channels) of each hidden layer."""
    _spec(model)
    size = model.width if isinstance(model, MLP) else model.channels
    return [size] * model.depth


def permutation_group_order(model) -> int:
    """Order of the hidden-unit permutation group: the product of ``width!`` over hidden layers."""
    return math.prod(math.factorial(size) for size in hidden_sizes(model))


def _views(model, spec) -> dict[str, torch.Tensor]:
    parameters = dict(model.named_parameters())
    return {axes.name: parameters[axes.name].detach().reshape(axes.view) for axes in spec}


def _permuted(tensor: torch.Tensor, axes: _Axes, perms, skip: int | None = None) -> torch.Tensor:
    if axes.out_layer is not None and axes.out_layer != skip:
        tensor = tensor.index_select(0, perms[axes.out_layer])
    if axes.in_layer is not None and axes.in_layer != skip:
        tensor = tensor.index_select(1, perms[axes.in_layer])
    return tensor


def _write(model, spec, views: dict[str, torch.Tensor]):
    parameters = dict(model.named_parameters())
    with torch.no_grad():
        for axes in spec:
            parameters[axes.name].copy_(views[axes.name].reshape(parameters[axes.name].shape))
    return _restore_fixed_entries(model)


def _restore_fixed_entries(model):
    """Frozen entries (W-Asymmetric layers) keep their exact fixed values after an edit."""
    for module in model.modules():
        if hasattr(module, "restore_fixed_entries"):
            module.restore_fixed_entries()
    return model


def _check_per_layer(values, model, what: str) -> tuple[list, list[int]]:
    """``values`` as a list with one entry per hidden layer (a 2-d tensor counts as its rows)."""
    sizes = hidden_sizes(model)
    if isinstance(values, (torch.Tensor, np.ndarray)) and values.ndim == 2:
        values = list(values)
    if isinstance(values, (torch.Tensor, np.ndarray, str)) or not hasattr(values, "__len__"):
        raise TypeError(f"{what} must be a list with one entry per hidden layer ({len(sizes)}), "
                        f"got {type(values).__name__}")
    if len(values) != len(sizes):
        raise ValueError(f"expected {len(sizes)} {what} (one per hidden layer), got {len(values)}")
    return list(values), sizes


def _check_perms(perms, model) -> list[torch.Tensor]:
    perms, sizes = _check_per_layer(perms, model, "perms")
    checked = []
    for layer, (perm, size) in enumerate(zip(perms, sizes, strict=True)):
        perm = torch.as_tensor(np.asarray(perm))
        if perm.dtype.is_floating_point or perm.dtype == torch.bool or perm.dim() != 1 \
                or len(perm) != size or not torch.equal(perm.sort().values, torch.arange(size)):
            raise ValueError(f"perms[{layer}] is not a permutation of range({size}): "
                             f"{perm.tolist()[:12]}")
        checked.append(perm.long())
    return checked


def permute_hidden(mlp, perms):
    """A copy of ``mlp`` whose hidden unit ``i`` of layer ``l`` is the old unit ``perms[l][i]``.

    For ``MLP`` (ReLU) and ``SharedMLP`` the function is unchanged; for the asymmetric networks
    the fixed entries stay where they are, so it changes.
    """
    spec = _spec(mlp)
    perms = _check_perms(perms, mlp)
    views = {axes.name: _permuted(view, axes, perms) for axes, view in zip(spec, _views(mlp, spec).values(),
                                                                             strict=True)}
    return _write(copy.deepcopy(mlp), spec, views)


def rescale_hidden(mlp, scales):
    """A copy of ``mlp`` with unit ``i`` of hidden layer ``l`` scaled by ``scales[l][i] > 0``.

    Incoming weights and bias are multiplied, outgoing weights divided: the function of a ReLU
    network is unchanged, since ``relu(s z) = s relu(z)`` for ``s > 0``.
    """
    spec = _spec(mlp)
    scales, sizes = _check_per_layer(scales, mlp, "scales")
    checked = []
    for layer, (scale, size) in enumerate(zip(scales, sizes, strict=True)):
        scale = torch.as_tensor(np.asarray(scale, dtype=float), dtype=torch.float64)
        if scale.shape != (size,) or not bool(torch.isfinite(scale).all() and (scale > 0).all()):
            raise ValueError(f"scales[{layer}] must be {size} finite positive numbers, got "
                             f"{scale.tolist()[:12] if scale.dim() else scale.item()}")
        checked.append(scale)
    views = _views(mlp, spec)
    for axes in spec:
        view = views[axes.name]
        if axes.out_layer is not None:
            view = view * checked[axes.out_layer].to(view.dtype).reshape(-1, *[1] * (view.dim() - 1))
        if axes.in_layer is not None:
            view = view / checked[axes.in_layer].to(view.dtype).reshape(1, -1, *[1] * (view.dim() - 2))
        views[axes.name] = view
    return _write(copy.deepcopy(mlp), spec, views)


def _check_pair(model_a, model_b) -> None:
    if type(model_a) is not type(model_b):
        raise TypeError(f"both models must have the same type, got {type(model_a).__name__} "
                        f"and {type(model_b).__name__}")
    _spec(model_a)
    shapes_a = {name: tuple(p.shape) for name, p in model_a.named_parameters()}
    shapes_b = {name: tuple(p.shape) for name, p in model_b.named_parameters()}
    if shapes_a != shapes_b:
        raise ValueError(f"mismatched architectures: parameter shapes {shapes_a} vs {shapes_b}")
    buffers_b = dict(model_b.named_buffers())
    for name, buffer in model_a.named_buffers():
        if buffer.shape != buffers_b[name].shape or not torch.equal(buffer, buffers_b[name]):
            raise ValueError(f"mismatched architectures: the fixed buffer {name!r} differs between the "
                             f"two models (asymmetric networks need the same seed)")


def weight_matching(mlp_a, mlp_b, *, max_iter: int = 100, seed: int = 0) -> list[torch.Tensor]:
    """Permutations ``perms`` such that ``permute_hidden(mlp_b, perms)`` is as close to ``mlp_a`` as
    possible (maximal sum of inner products of the weights), by Git Re-Basin's weight matching.

    Coordinate descent: visit the hidden layers in a random order (``seed``), solve each as a
    linear assignment given the others, stop after a sweep in which no layer improved. For two
    ``SharedMLP`` it matches channels.
    """
    _check_pair(mlp_a, mlp_b)
    max_iter = check_int(max_iter, "max_iter", minimum=1)
    spec, sizes = _spec(mlp_a), hidden_sizes(mlp_a)
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
    _check_pair(model_a, model_b)
    _check_circular(model_a)
    spec, sizes = _spec(model_a), hidden_sizes(model_a)
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


def _check_alpha(alpha) -> float:
    if isinstance(alpha, torch.Tensor) and alpha.dim() == 0 and alpha.dtype != torch.bool:
        alpha = alpha.item()
    if isinstance(alpha, bool) or not isinstance(alpha, (int, float, np.integer, np.floating)):
        raise TypeError(f"alpha must be a real number, got {alpha!r} ({type(alpha).__name__})")
    if not math.isfinite(alpha):
        raise ValueError(f"alpha must be finite, got {alpha!r}")
    return float(alpha)


def interpolate(mlp_a, mlp_b, alpha):
    """A new model with every trainable tensor ``(1 - alpha) * a + alpha * b`` (buffers must agree)."""
    alpha = _check_alpha(alpha)
    _check_pair(mlp_a, mlp_b)
    mixed = copy.deepcopy(mlp_a)
    parameters_b = dict(mlp_b.named_parameters())
    with torch.no_grad():
        for name, parameter in mixed.named_parameters():
            parameter.copy_((1 - alpha) * parameter + alpha * parameters_b[name])
    return _restore_fixed_entries(mixed)


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
