"""The model families of the study: a dense MLP and an MLP whose weights are tied by a group.

``depth`` is the number of hidden layers everywhere (``depth + 1`` linear maps), ReLU between by
default; ``MLP`` and the asymmetric networks also take the set-up of Lim et al. (2024): a LayerNorm
after each hidden linear map and a GELU (or a sigmoid gate) after it.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from symsharing._checks import check_int
from symsharing.groups import PermutationGroup
from symsharing.sharing import InvariantReadout, SharedLinear, _check_features

__all__ = ["MLP", "SharedMLP", "WAsymmetricMLP", "SigmaAsymmetricMLP", "count_parameters", "count_macs",
           "count_activations", "SoftSharedMLP", "l2_penalty"]


def _check_input(x, n_in: int, model: str, like: torch.Tensor) -> None:
    """``x`` must be a ``[batch, n_in]`` tensor of the dtype and device of ``like`` (a parameter)."""
    _check_features(x, (None, n_in), like, model)


ACTIVATIONS = ("relu", "gelu", "scalar-gate", "identity")


class MLP(nn.Module):
    """Dense network ``[b, n_in] -> [b, n_out]`` with ``depth`` hidden layers of ``width``.

    Each hidden layer is ``activation(norm(W h + b))``: ``norm`` is the identity, or a LayerNorm
    (learned affine, PyTorch's default) when ``layer_norm``; ``activation`` is ``"relu"`` (the
    default), ``"gelu"``, ``"scalar-gate"``: ``sigmoid(gate_scale * h) * h`` unit by unit (the
    σ-Asymmetric gate with ``C = gate_scale * I``, which commutes with permutations; 1 gives SiLU),
    or ``"identity"``: a deep *linear* network. Of these only the plain ReLU network and the linear
    one, without LayerNorm, have the positive-rescaling symmetry (the linear one has all of GL).
    """

    def __init__(self, n_in: int, n_out: int, width: int, depth: int = 2, *, activation: str = "relu",
                 layer_norm: bool = False, gate_scale: float = 1.0):
        super().__init__()
        self.n_in = check_int(n_in, "n_in", minimum=1)
        self.n_out = check_int(n_out, "n_out", minimum=1)
        self.width = check_int(width, "width", minimum=1)
        self.depth = check_int(depth, "depth", minimum=0, meaning=" (number of hidden layers)")
        if activation not in ACTIVATIONS:
            raise ValueError(f"activation must be one of {ACTIVATIONS}, got {activation!r}")
        if not isinstance(layer_norm, bool):
            raise TypeError(f"layer_norm must be True or False, got {layer_norm!r}")
        if isinstance(gate_scale, bool) or not isinstance(gate_scale, (int, float)) \
                or not math.isfinite(gate_scale):
            raise ValueError(f"gate_scale must be a finite number, got {gate_scale!r}")
        self.activation, self.layer_norm, self.gate_scale = activation, layer_norm, float(gate_scale)
        sizes = [self.n_in] + [self.width] * self.depth + [self.n_out]
        self.layers = nn.ModuleList(nn.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:], strict=True))
        if layer_norm:
            self.norms = nn.ModuleList(nn.LayerNorm(self.width) for _ in range(self.depth))

    def normalise(self, h: torch.Tensor, layer: int) -> torch.Tensor:
        """LayerNorm of hidden layer ``layer`` when the model has one, else ``h`` itself."""
        return self.norms[layer](h) if self.layer_norm else h

    def hidden_activation(self, h: torch.Tensor, layer: int) -> torch.Tensor:
        """What follows hidden layer ``layer``'s linear map: the norm, then the nonlinearity."""
        h = self.normalise(h, layer)
        if self.activation == "relu":
            return torch.relu(h)
        if self.activation == "gelu":
            return nn.functional.gelu(h)
        if self.activation == "identity":
            return h
        return torch.sigmoid(self.gate_scale * h) * h

    def extra_repr(self) -> str:  # in the repr, so that fit_many never stacks two activations together
        gate = f", gate_scale={self.gate_scale}" if self.activation == "scalar-gate" else ""
        return f"activation={self.activation!r}, layer_norm={self.layer_norm}{gate}"

    def is_plain_relu(self) -> bool:
        """True for the exact ReLU network without LayerNorm (the one with rescaling symmetry)."""
        return type(self).hidden_activation is MLP.hidden_activation and self.activation == "relu" \
            and not self.layer_norm

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
        self.n_out = check_int(n_out, "n_out", minimum=1)
        self.channels = check_int(channels, "channels", minimum=1)
        self.depth = check_int(depth, "depth", minimum=0, meaning=" (number of hidden layers)")
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


def _shared_layer_macs(layer: SharedLinear, dense_equivalent: bool) -> int:
    n, pair = layer.group.n, layer.out_channels * layer.in_channels
    if dense_equivalent or layer.path in ("circular", "generic"):
        return pair * n * n  # circular: conv1d with n taps at n positions; generic: the dense tied map
    return pair * (n + 1) + layer.in_channels * n  # DeepSets: a x and b sum(x), plus the sum itself


def count_macs(model: nn.Module, dense_equivalent: bool = False) -> int:
    """Multiply-adds per sample of the forward pass as computed (biases and nonlinearities not
    counted). A ``SharedMLP`` layer costs what its path computes (``sharing.fast_path``): the DeepSets
    form ``c_out c_in (n + 1) + c_in n``, a circular convolution or the generic tied map
    ``c_out c_in n^2``; ``dense_equivalent`` counts every layer as the dense ``c_out c_in n^2`` map;
    the readout is an orbit-pooling matmul plus its linear map."""
    if isinstance(model, MLP):
        return sum(layer.in_features * layer.out_features for layer in model.layers)
    if isinstance(model, SharedMLP):
        readout = model.readout
        pooling = readout.in_channels * model.group.n * readout.pooling.shape[1]
        return (sum(_shared_layer_macs(layer, dense_equivalent) for layer in model.layers) + pooling
                + readout.linear.in_features * readout.linear.out_features)
    raise TypeError(f"count_macs expects an MLP or a SharedMLP, got {type(model).__name__}")


def count_activations(model: nn.Module) -> int:
    """Hidden activations per sample: ``width * depth`` (MLP) or ``channels * n * depth`` (SharedMLP)."""
    if isinstance(model, MLP):
        return model.width * model.depth
    if isinstance(model, SharedMLP):
        return model.channels * model.group.n * model.depth
    raise TypeError(f"count_activations expects an MLP or a SharedMLP, got {type(model).__name__}")


# --- Networks without parameter symmetries (Lim, Putterman, Walters, Maron & Jegelka, "The Empirical
# Impact of Neural Parameter Symmetries, or Lack Thereof", NeurIPS 2024) ---------------------------


class FixedEntryLinear(nn.Module):
    """``nn.Linear`` whose entries under ``fixed_mask`` are frozen at ``fixed_values``.

    The layer computes with the effective weight ``where(fixed_mask, fixed_values, weight)``, so the
    masked entries of the trainable ``weight`` get zero gradient and never act; they are kept equal
    to the fixed values (``weight`` *is* the effective weight) unless something overwrites them.
    """

    def __init__(self, linear: nn.Linear, fixed_mask: torch.Tensor, fixed_values: torch.Tensor):
        super().__init__()
        self.in_features, self.out_features = linear.in_features, linear.out_features
        self.register_buffer("fixed_mask", fixed_mask)  # (out, in) bool
        self.register_buffer("fixed_values", torch.where(fixed_mask, fixed_values, 0.0))  # (out, in)
        self.weight = nn.Parameter(torch.where(fixed_mask, fixed_values, linear.weight.detach()))
        self.bias = nn.Parameter(linear.bias.detach().clone())

    def effective_weight(self) -> torch.Tensor:
        return torch.where(self.fixed_mask, self.fixed_values, self.weight)  # (out, in)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return nn.functional.linear(x, self.effective_weight(), self.bias)

    def n_frozen_entries(self) -> int:
        return int(self.fixed_mask.sum())

    @torch.no_grad()
    def restore_fixed_entries(self) -> None:
        """Write the fixed values back into ``weight`` (after an outside edit of the tensor)."""
        self.weight.copy_(self.effective_weight())

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, " \
               f"n_frozen={self.n_frozen_entries()}"


class WAsymmetricMLP(MLP):
    """W-Asymmetric MLP: each row of each weight matrix has ``n_fixed`` entries frozen at N(0, std²).

    Mask and fixed values come from ``torch.Generator().manual_seed(seed)`` alone, so two networks
    with the same ``seed`` share them in every process; the free weights and biases are initialised
    as in ``MLP`` from the global torch RNG. With ``n_fixed = 0`` it is an ``MLP``.

    ``n_fixed`` and ``fixed_std`` are each either one value for every layer or a sequence with one
    value per linear layer (``depth + 1`` of them, input layer first), as in Lim et al. (2024),
    who fix 64 of 784 entries per row with κ = 1, 1, 0.5 in the first three layers and 256 of 512
    with κ = 0.25 in the output layer. ``self.n_fixed`` and ``self.fixed_std`` keep what was given
    (an int and a float, or tuples).
    """

    def __init__(self, n_in: int, n_out: int, width: int, depth: int = 2, *, n_fixed,
                 fixed_std, seed: int, activation: str = "relu", layer_norm: bool = False):
        super().__init__(n_in, n_out, width, depth, activation=activation, layer_norm=layer_norm)
        n_layers = len(self.layers)
        counts = _per_layer(n_fixed, n_layers, "n_fixed")
        stds = _per_layer(fixed_std, n_layers, "fixed_std")
        counts = [check_int(count, "n_fixed") for count in counts]
        for count, layer in zip(counts, self.layers, strict=True):
            if not 0 <= count <= layer.in_features:
                raise ValueError(f"n_fixed must be in [0, {layer.in_features}] (the fan-in of a "
                                 f"layer with {layer.in_features} inputs), got {count}")
        for std in stds:
            if isinstance(std, bool) or not isinstance(std, (int, float)) \
                    or not math.isfinite(std) or std < 0:
                raise ValueError(f"fixed_std must be a finite number >= 0, got {std!r}")
        stds = [float(std) for std in stds]
        self.n_fixed = tuple(counts) if not isinstance(n_fixed, int) else counts[0]
        self.fixed_std = tuple(stds) if not isinstance(fixed_std, (int, float)) else stds[0]
        self.seed = check_int(seed, "seed")
        generator = torch.Generator().manual_seed(seed)
        fixed_layers = []
        for layer, count, std in zip(self.layers, counts, stds, strict=True):
            shape = (layer.out_features, layer.in_features)
            chosen = torch.rand(shape, generator=generator).argsort(dim=1)[:, :count]  # (out, n_fixed)
            mask = torch.zeros(shape, dtype=torch.bool).scatter_(1, chosen, True)  # (out, in)
            values = std * torch.randn(shape, generator=generator)  # (out, in)
            fixed_layers.append(FixedEntryLinear(layer, mask, values.to(layer.weight.dtype)))
        self.layers = nn.ModuleList(fixed_layers)


def _per_layer(value, n_layers: int, name: str) -> list:
    """``value`` repeated for ``n_layers`` layers, or the sequence itself checked to have that length."""
    if isinstance(value, (list, tuple)):
        if len(value) != n_layers:
            raise ValueError(f"{name} must be one value or {n_layers} values (one per linear "
                             f"layer), got {len(value)}: {value!r}")
        return list(value)
    if isinstance(value, (str, bytes)) or hasattr(value, "__len__"):
        raise TypeError(f"{name} must be a number or a list/tuple of numbers, got {value!r}")
    return [value] * n_layers


class SigmaAsymmetricMLP(MLP):
    """σ-Asymmetric MLP: hidden nonlinearity ``sigmoid(F h) * h`` with a fixed F ~ N(0, 1) per layer.

    Lim et al. call it FiGLU. The matrices ``gate_matrices[l]`` ``[width, width]`` are buffers drawn
    from ``torch.Generator().manual_seed(seed)``; the linear layers are those of ``MLP``. With
    ``layer_norm`` the gate acts on the LayerNorm's output, as in Lim et al.'s code.
    """

    def __init__(self, n_in: int, n_out: int, width: int, depth: int = 2, *, seed: int,
                 layer_norm: bool = False):
        super().__init__(n_in, n_out, width, depth, layer_norm=layer_norm)
        self.activation = "matrix-gate"
        self.seed = check_int(seed, "seed")
        generator = torch.Generator().manual_seed(seed)
        self.register_buffer("gate_matrices", torch.randn(depth, width, width, generator=generator))

    def hidden_activation(self, h: torch.Tensor, layer: int) -> torch.Tensor:
        h = self.normalise(h, layer)  # (batch, width)
        gate = torch.sigmoid(h @ self.gate_matrices[layer].T)  # (batch, width)
        return gate * h


# --- Soft sharing (Finzi, Benton & Wilson, "Residual Pathway Priors for Soft Equivariance
# Constraints", NeurIPS 2021) ---------------------------------------------------------------------


def l2_penalty(model: nn.Module, params: dict | None = None) -> torch.Tensor | float:
    """``Σ c · ‖p‖²`` over the parameters a model declares in ``penalized_parameters()`` (name ->
    coefficient); 0.0 for a model that declares none. ``params`` (name -> tensor) replaces the
    model's own tensors: stacked ``[K, ...]`` tensors give one penalty per model, ``[K]``."""
    coefficients = model.penalized_parameters() if hasattr(model, "penalized_parameters") else {}
    if not coefficients:
        return 0.0
    stacked = params is not None
    params = dict(model.named_parameters()) if params is None else params
    terms = [c * (params[name].pow(2).flatten(1).sum(1) if stacked else params[name].pow(2).sum())
             for name, c in coefficients.items()]
    return sum(terms[1:], terms[0])


class SoftSharedMLP(SharedMLP):
    """``SharedMLP`` whose every layer is the tied map plus a free dense residual on the same
    features, ``W = W_G + R``, with the L2 penalty ``residual_penalty · ‖R‖²`` added to the training
    loss (``l2_penalty``; ``fit`` and ``fit_many`` add it). The readout gets a dense residual too.
    Residuals start at zero: at initialisation the network is the shared one. A large penalty keeps
    it near ``SharedMLP``; a small one lets it become a dense MLP.
    """

    def __init__(self, group: PermutationGroup, n_out: int, channels: int, depth: int = 2, *,
                 residual_penalty: float = 1e-3):
        super().__init__(group, n_out, channels, depth)
        if isinstance(residual_penalty, bool) or not isinstance(residual_penalty, (int, float)) \
                or not math.isfinite(residual_penalty) or residual_penalty < 0:
            raise ValueError(f"residual_penalty must be a finite number >= 0, got {residual_penalty!r}")
        self.residual_penalty = float(residual_penalty)
        n = group.n
        self.residuals = nn.ParameterList(
            nn.Parameter(torch.zeros(layer.out_channels, layer.in_channels, n, n)) for layer in self.layers)
        self.readout_residual = nn.Parameter(torch.zeros(self.n_out, self.channels * n if depth else n))

    def penalized_parameters(self) -> dict[str, float]:
        names = [f"residuals.{i}" for i in range(len(self.residuals))] + ["readout_residual"]
        return {name: self.residual_penalty for name in names}

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        _check_input(x, self.group.n, type(self).__name__, like=self.readout.linear.weight)
        h = x[:, None, :]  # (batch, 1, n)
        for layer, residual in zip(self.layers, self.residuals, strict=True):
            h = torch.relu(layer(h) + torch.einsum("ocij,bcj->boi", residual, h))  # (batch, channels, n)
        return self.readout(h) + h.flatten(1) @ self.readout_residual.T  # (batch, n_out)

    def extra_repr(self) -> str:
        return f"residual_penalty={self.residual_penalty}"
