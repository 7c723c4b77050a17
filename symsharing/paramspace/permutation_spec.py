"""The permutation spec: which hidden units every parameter tensor of a model produces and reads.

Permuting the hidden units of a layer (rows of its weight and bias, columns of the next weight)
and rescaling a ReLU unit (incoming weights and bias times ``s > 0``, outgoing weights divided by
``s``) leave the function of an MLP unchanged (Zhao, Walters & Yu, "Symmetry in Neural Network
Parameter Spaces", 2025). One description covers every model, as in Git Re-Basin's permutation
specs (Ainsworth, Hayase & Srinivasa, ICLR 2023): ``permutation_spec(model)`` lists the model's
parameter tensors, each viewed (``UnitAxes.view``) so that axis 0 holds the units it produces and
axis 1 the units it reads, with the hidden layer (or ``None``: inputs, outputs) owning each axis.

For ``MLP`` and its subclasses the units are hidden neurons; for ``SharedMLP`` they are the
channels of its ``SharedLinear`` layers, whose permutation is the redundancy that weight tying
leaves. To align a model of your own, give it a spec of the same form and the functions here,
in ``matching`` and in ``repair`` work on it unchanged. All functions return new models and never
modify their inputs. On the asymmetric networks of Lim et al. (2024) they act on the trainable
tensors and leave the fixed buffers alone: there, permutation and rescaling are *not* symmetries.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass

import numpy as np
import torch

from symsharing.models import MLP, SharedMLP

__all__ = ["UnitAxes", "permutation_spec", "hidden_sizes", "permutation_group_order", "permute_hidden",
           "rescale_hidden", "interpolate"]


@dataclass(frozen=True)
class UnitAxes:
    """One parameter tensor in the spec: its name in ``model.named_parameters()``, the shape it is
    viewed in, and the hidden layers owning its axis 0 (units it produces) and axis 1 (units it reads)."""

    name: str
    view: tuple[int, ...]
    out_layer: int | None  # hidden layer whose units are axis 0 (the units this tensor produces)
    in_layer: int | None  # hidden layer whose units are axis 1 (the units this tensor reads)


def permutation_spec(model) -> list[UnitAxes]:
    """The spec of ``model`` (an ``MLP``, a subclass, or a ``SharedMLP``): one ``UnitAxes`` per
    parameter tensor. TypeError for any other model."""
    if isinstance(model, MLP):
        spec = []
        for index, layer in enumerate(model.layers):
            out_layer = index if index < model.depth else None
            in_layer = index - 1 if index > 0 else None
            spec.append(UnitAxes(f"layers.{index}.weight", tuple(layer.weight.shape), out_layer, in_layer))
            spec.append(UnitAxes(f"layers.{index}.bias", tuple(layer.bias.shape), out_layer, None))
            if model.layer_norm and out_layer is not None:  # LayerNorm's affine acts unit by unit
                for part in ("weight", "bias"):
                    spec.append(UnitAxes(f"norms.{index}.{part}", (model.width,), out_layer, None))
        return spec
    if isinstance(model, SharedMLP):
        spec = []
        for index, layer in enumerate(model.layers):
            in_layer = index - 1 if index > 0 else None
            spec.append(UnitAxes(f"layers.{index}.weight", tuple(layer.weight.shape), index, in_layer))
            spec.append(UnitAxes(f"layers.{index}.bias", tuple(layer.bias.shape), index, None))
        readout = model.readout.linear  # reads the flattened (channel, orbit) features
        n_orbits = readout.in_features // (model.channels if model.depth else 1)
        last = model.depth - 1 if model.depth else None
        spec.append(UnitAxes("readout.linear.weight", (readout.out_features, -1, n_orbits), None, last))
        return spec
    raise TypeError(f"expected an MLP (or a subclass) or a SharedMLP, got {type(model).__name__}")


def hidden_sizes(model) -> list[int]:
    """Number of units (MLP neurons, SharedMLP channels) of each hidden layer."""
    permutation_spec(model)
    size = model.width if isinstance(model, MLP) else model.channels
    return [size] * model.depth


def permutation_group_order(model) -> int:
    """Order of the hidden-unit permutation group: the product of ``width!`` over hidden layers."""
    return math.prod(math.factorial(size) for size in hidden_sizes(model))


def _views(model, spec) -> dict[str, torch.Tensor]:
    parameters = dict(model.named_parameters())
    return {axes.name: parameters[axes.name].detach().reshape(axes.view) for axes in spec}


def _permuted(tensor: torch.Tensor, axes: UnitAxes, perms, skip: int | None = None) -> torch.Tensor:
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
    spec = permutation_spec(mlp)
    perms = _check_perms(perms, mlp)
    views = {axes.name: _permuted(view, axes, perms) for axes, view in zip(spec, _views(mlp, spec).values(),
                                                                             strict=True)}
    return _write(copy.deepcopy(mlp), spec, views)


def rescale_hidden(mlp, scales):
    """A copy of ``mlp`` with unit ``i`` of hidden layer ``l`` scaled by ``scales[l][i] > 0``.

    Incoming weights and bias are multiplied, outgoing weights divided: the function of a ReLU
    network is unchanged, since ``relu(s z) = s relu(z)`` for ``s > 0``. Models without that
    symmetry (GELU or gated activations, LayerNorm, σ-Asymmetric) are rejected with a TypeError.
    """
    spec = permutation_spec(mlp)
    if isinstance(mlp, MLP) and (mlp.activation != "relu" or mlp.layer_norm):
        raise TypeError(f"rescale_hidden needs ReLU hidden units without LayerNorm (positive rescaling "
                        f"is a symmetry only there), got {type(mlp).__name__} with activation="
                        f"{mlp.activation!r}, layer_norm={mlp.layer_norm}")
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


def check_pair(model_a, model_b) -> None:
    if type(model_a) is not type(model_b):
        raise TypeError(f"both models must have the same type, got {type(model_a).__name__} "
                        f"and {type(model_b).__name__}")
    permutation_spec(model_a)
    shapes_a = {name: tuple(p.shape) for name, p in model_a.named_parameters()}
    shapes_b = {name: tuple(p.shape) for name, p in model_b.named_parameters()}
    if shapes_a != shapes_b:
        raise ValueError(f"mismatched architectures: parameter shapes {shapes_a} vs {shapes_b}")
    buffers_b = dict(model_b.named_buffers())
    for name, buffer in model_a.named_buffers():
        if buffer.shape != buffers_b[name].shape or not torch.equal(buffer, buffers_b[name]):
            raise ValueError(f"mismatched architectures: the fixed buffer {name!r} differs between the "
                             f"two models (asymmetric networks need the same seed)")


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
    check_pair(mlp_a, mlp_b)
    mixed = copy.deepcopy(mlp_a)
    parameters_b = dict(mlp_b.named_parameters())
    with torch.no_grad():
        for name, parameter in mixed.named_parameters():
            parameter.copy_((1 - alpha) * parameter + alpha * parameters_b[name])
    return _restore_fixed_entries(mixed)
