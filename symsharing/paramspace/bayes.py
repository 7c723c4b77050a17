"""Bayesian MLPs by variational inference, with fixed (W-Asymmetric) entries, K models at once.

Lim, Putterman, Walters, Maron & Jegelka ("The Empirical Impact of Neural Parameter Symmetries, or
Lack Thereof", NeurIPS 2024, §5.2; code ``cptq/asymmetric-networks``, ``bnn/alg.py``) train MLPs
by variational inference with the low-rank plus diagonal Gaussian posterior of Tomczak, Swaroop &
Turner ("Efficient Low Rank Gaussian Variational Inference for Neural Networks", NeurIPS 2020),
and make the network W-Asymmetric by fixing entries of the posterior *mean* and giving them no
variance. Their finding: the asymmetric networks train faster, and deep ones train at all.

``BayesianLinear`` holds K independent posteriors of one linear layer, stacked ``[K, out, in]``.
Each weight has a mean, a diagonal variance (learned, or fixed at ``exp(init_logvar)`` as in the
paper's ``learn_diag=False``) and, with ``rank > 0``, ``rank`` factor vectors: the covariance of
the layer's weights and biases is ``diag + VᵀV / rank`` (Tomczak et al.'s α = 1/rank). Outputs are
sampled by the local reparameterisation trick: the mean output plus Gaussian noise with the
variance the posterior implies for this input (diagonal part), plus ``Σ_r ε_r (x·v_r) / √rank``
(low-rank part, one ε per example and factor). A fixed entry takes its fixed value in the mean
and is left out of the variance, the factors and the KL divergence (it is a constant, not a
random variable). The prior is N(0, 1 / (precision · fan_out)) per layer, as in ``bnn/alg.py``.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from symsharing._checks import check_int
from symsharing.models import MLP, FixedEntryLinear

__all__ = ["BayesianLinear", "BayesianMLP", "gaussian_kl"]


def gaussian_kl(mean: torch.Tensor, variance: torch.Tensor, factors: torch.Tensor | None,
                prior_variance: float, free: torch.Tensor | None = None) -> torch.Tensor:
    """KL(N(mean, diag(variance) + FᵀF / r) || N(0, prior_variance · I)) for each of K posteriors over
    the coordinates where ``free`` (bool ``[K, d]``, default all) is set: ``mean``, ``variance``
    ``[K, d]``, ``factors`` ``[K, r, d]`` or None -> ``[K]``. The low-rank log-determinant goes
    through the r × r matrix ``I + F D⁻¹ Fᵀ / r`` (the matrix determinant lemma)."""
    weight = torch.ones_like(mean) if free is None else free.to(mean.dtype)  # (K, d): 1 free, 0 fixed
    d = weight.sum(-1)  # (K,)
    trace = (weight * variance).sum(-1)
    log_det = (weight * variance.log()).sum(-1)
    if factors is not None:
        rank = factors.shape[1]
        factors = factors * weight[:, None]  # (K, r, d): a fixed coordinate has no factor
        trace = trace + factors.pow(2).sum((1, 2)) / rank
        small = torch.eye(rank, dtype=mean.dtype, device=mean.device) + (factors / variance[:, None]) \
            @ factors.transpose(1, 2) / rank  # (K, r, r)
        log_det = log_det + torch.logdet(small)
    squared = (weight * mean.pow(2)).sum(-1)
    return 0.5 * ((trace + squared) / prior_variance - d + d * math.log(prior_variance) - log_det)


class BayesianLinear(nn.Module):
    """K Gaussian posteriors over one linear layer ``[K, b, in] -> [K, b, out]``.

    ``fixed_mask`` (bool ``[K, out, in]`` or ``[out, in]``) marks entries held at ``fixed_values``
    with no variance. ``init_logvar`` starts the diagonal variance (Lim et al.: -10);
    ``learn_diag=False`` keeps it there. ``rank`` low-rank factors start at
    ``N(0, (factor_scale · std(mean) / √rank)²)`` (``bnn/alg.py``: 0.5), bias factors at N(0, 0.01²).
    """

    def __init__(self, in_features: int, out_features: int, *, n_models: int = 1, fixed_mask=None,
                 fixed_values=None, rank: int = 0, init_logvar: float = -10.0, learn_diag: bool = True,
                 prior_precision: float = 0.01, factor_scale: float = 0.5, generator=None):
        super().__init__()
        self.in_features = check_int(in_features, "in_features", minimum=1)
        self.out_features = check_int(out_features, "out_features", minimum=1)
        self.n_models = check_int(n_models, "n_models", minimum=1)
        self.rank = check_int(rank, "rank", minimum=0)
        for name, value in (("init_logvar", init_logvar), ("prior_precision", prior_precision),
                            ("factor_scale", factor_scale)):
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                raise ValueError(f"{name} must be a finite number, got {value!r}")
        if prior_precision <= 0:
            raise ValueError(f"prior_precision must be > 0, got {prior_precision!r}")
        if not learn_diag and rank == 0:
            raise ValueError("a mean-field posterior (rank 0) needs learn_diag=True: with a fixed "
                             "diagonal nothing about the variance would be learned")
        shape = (self.n_models, self.out_features, self.in_features)
        bound = 1 / math.sqrt(in_features)  # nn.Linear's initialisation
        self.weight = nn.Parameter((torch.rand(shape, generator=generator) * 2 - 1) * bound)
        self.bias = nn.Parameter((torch.rand(shape[:2], generator=generator) * 2 - 1) * bound)
        mask = torch.zeros(shape, dtype=torch.bool) if fixed_mask is None else \
            _as_stack(fixed_mask, shape, "fixed_mask").bool()
        values = torch.zeros(shape) if fixed_values is None else \
            _as_stack(fixed_values, shape, "fixed_values")
        self.register_buffer("fixed_mask", mask)
        self.register_buffer("fixed_values", torch.where(mask, values.float(), 0.0))
        logvar = torch.full(shape, float(init_logvar))
        bias_logvar = torch.full(shape[:2], float(init_logvar))
        if learn_diag:
            self.weight_logvar, self.bias_logvar = nn.Parameter(logvar), nn.Parameter(bias_logvar)
        else:
            self.register_buffer("weight_logvar", logvar)
            self.register_buffer("bias_logvar", bias_logvar)
        self.factor_scale = float(factor_scale)
        if self.rank:
            self.factors = nn.Parameter(torch.zeros(self.n_models, self.rank, *shape[1:]))
            self.bias_factors = nn.Parameter(torch.zeros(self.n_models, self.rank, self.out_features))
            self.reset_factors(generator)
        self.prior_variance = 1.0 / (prior_precision * self.out_features)

    @torch.no_grad()
    def reset_factors(self, generator=None) -> None:
        """Draw the low-rank factors afresh: N(0, (factor_scale · s / √rank)²) with s the spread of
        the free means (``bnn/alg.py``: 0.5 · std(weight) / √rank), bias factors N(0, 0.01²)."""
        spread = self.weight[~self.fixed_mask].std() if bool((~self.fixed_mask).sum() > 1) else 1.0
        self.factors.copy_(self.factor_scale * spread / math.sqrt(self.rank)
                           * torch.randn(self.factors.shape, generator=generator))
        self.bias_factors.copy_(0.01 * torch.randn(self.bias_factors.shape, generator=generator))

    def mean_weight(self) -> torch.Tensor:
        """The posterior mean ``[K, out, in]``, fixed entries at their values."""
        return torch.where(self.fixed_mask, self.fixed_values, self.weight)

    def forward(self, x: torch.Tensor, sample: bool = True) -> torch.Tensor:
        if not isinstance(x, torch.Tensor) or x.dim() not in (2, 3) or x.shape[-1] != self.in_features:
            shape = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
            raise ValueError(f"BayesianLinear expects x [batch, {self.in_features}] or [{self.n_models}, "
                             f"batch, {self.in_features}], got {shape}")
        if x.dim() == 2:
            x = x.expand(self.n_models, *x.shape)  # (K, b, in): one input for every model
        free = ~self.fixed_mask
        mean = torch.baddbmm(self.bias[:, None, :], x, self.mean_weight().transpose(1, 2))  # (K, b, out)
        if not sample:
            return mean
        variance = torch.baddbmm(self.bias_logvar.exp()[:, None, :], x * x,
                                 (self.weight_logvar.exp() * free).transpose(1, 2))  # (K, b, out)
        out = mean + variance.clamp_min(0).sqrt() * torch.randn_like(mean)
        if self.rank:
            factors = (self.factors * free[:, None]).flatten(1, 2)  # (K, r * out, in)
            projected = torch.bmm(x, factors.transpose(1, 2)).unflatten(-1, (self.rank, self.out_features))
            projected = projected + self.bias_factors[:, None]  # (K, b, r, out)
            noise = torch.randn(*projected.shape[:3], 1, dtype=x.dtype, device=x.device)  # (K, b, r, 1)
            out = out + (projected * noise).sum(2) / math.sqrt(self.rank)
        return out

    def kl(self) -> torch.Tensor:
        """KL divergence of each posterior from the prior over its free entries and biases, ``[K]``
        (the coordinates ``d``: weights then biases; ``factors`` ``[K, r, d]``)."""
        free = torch.cat([~self.fixed_mask.flatten(1), torch.ones_like(self.bias, dtype=torch.bool)], 1)
        mean = torch.cat([self.weight.flatten(1), self.bias], 1)  # (K, d)
        variance = torch.cat([self.weight_logvar.flatten(1), self.bias_logvar], 1).exp()
        factors = torch.cat([self.factors.flatten(2), self.bias_factors], 2) if self.rank else None
        return gaussian_kl(mean, variance, factors, self.prior_variance, free)

    @classmethod
    def from_layers(cls, layers, generator=None, **posterior) -> BayesianLinear:
        """K posteriors whose means start at the weights of ``layers`` (``nn.Linear`` or
        ``FixedEntryLinear``, one per model, of one shape), fixed entries where they have them."""
        layers = list(layers)
        if not layers or not all(isinstance(layer, (nn.Linear, FixedEntryLinear)) for layer in layers):
            raise TypeError("from_layers needs a non-empty list of nn.Linear or FixedEntryLinear layers, "
                            f"got {[type(layer).__name__ for layer in layers]}")
        shapes = {(layer.out_features, layer.in_features) for layer in layers}
        if len(shapes) != 1:
            raise ValueError(f"from_layers needs layers of one shape, got {sorted(shapes)}")
        out_features, in_features = shapes.pop()
        masks = [getattr(layer, "fixed_mask", torch.zeros(out_features, in_features, dtype=torch.bool))
                 for layer in layers]
        values = [getattr(layer, "fixed_values", torch.zeros(out_features, in_features)) for layer in layers]
        bayesian = cls(in_features, out_features, n_models=len(layers), fixed_mask=torch.stack(masks),
                       fixed_values=torch.stack(values), generator=generator, **posterior)
        with torch.no_grad():
            bayesian.weight.copy_(torch.stack([layer.weight.detach() for layer in layers]))
            bayesian.bias.copy_(torch.stack([layer.bias.detach() for layer in layers]))
        if bayesian.rank:  # scaled to the copied means
            bayesian.reset_factors(generator)
        return bayesian


def _as_stack(tensor, shape: tuple[int, int, int], name: str) -> torch.Tensor:
    if not isinstance(tensor, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(tensor).__name__}")
    if tuple(tensor.shape) == shape[1:]:
        return tensor.expand(shape).clone()
    if tuple(tensor.shape) != shape:
        raise ValueError(f"{name} must have shape {shape[1:]} or {shape}, got {tuple(tensor.shape)}")
    return tensor.clone()


class BayesianMLP(nn.Module):
    """K Bayesian MLPs ``[b, n_in] -> [K, b, n_out]``: ``BayesianLinear`` layers, each hidden one
    followed by a LayerNorm (its affine weights trained as point estimates, as in ``bnn/``) and a
    ReLU: Lim et al.'s Linear → LayerNorm → ReLU blocks. Build it from K deterministic networks of
    one shape (``from_networks``): the posterior means start at their weights, and the fixed
    entries of W-Asymmetric networks stay fixed."""

    def __init__(self, layers: list[BayesianLinear], norm_weights: torch.Tensor, norm_biases: torch.Tensor):
        super().__init__()
        self.layers = nn.ModuleList(layers)
        self.norm_weights = nn.Parameter(norm_weights)  # (depth, K, width)
        self.norm_biases = nn.Parameter(norm_biases)

    @classmethod
    def from_networks(cls, networks, generator=None, **posterior) -> BayesianMLP:
        """``networks``: K ``MLP`` (or ``WAsymmetricMLP``) with ``layer_norm=True`` and ReLU, of one shape;
        ``posterior``: ``BayesianLinear``'s options; ``generator`` draws the low-rank factors."""
        networks = list(networks)
        if not networks or not all(isinstance(n, MLP) and n.layer_norm and n.activation == "relu"
                                   for n in networks):
            raise TypeError("from_networks needs MLPs (or WAsymmetricMLPs) with layer_norm=True and ReLU")
        layers = [BayesianLinear.from_layers([n.layers[i] for n in networks], generator, **posterior)
                  for i in range(len(networks[0].layers))]
        weights = torch.stack([torch.stack([norm.weight.detach() for norm in n.norms]) for n in networks], 1)
        biases = torch.stack([torch.stack([norm.bias.detach() for norm in n.norms]) for n in networks], 1)
        return cls(layers, weights, biases)

    @property
    def n_models(self) -> int:
        return self.layers[0].n_models

    def forward(self, x: torch.Tensor, sample: bool = True) -> torch.Tensor:
        h = x  # (b, n_in) or (K, b, n_in)
        for index, layer in enumerate(self.layers[:-1]):
            h = F.layer_norm(layer(h, sample), (layer.out_features,))  # (K, b, width)
            h = torch.relu(h * self.norm_weights[index][:, None] + self.norm_biases[index][:, None])
        return self.layers[-1](h, sample)  # (K, b, n_out)

    def kl(self) -> torch.Tensor:
        """Each model's KL divergence from the prior, ``[K]``."""
        return sum(layer.kl() for layer in self.layers)
