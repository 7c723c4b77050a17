"""REPAIR: renormalising the hidden units of an interpolated network.

Jordan, Sedghi, Saukh, Entezari & Neyshabur, "REPAIR: REnormalizing Permuted Activations for
Interpolation Repair", ICLR 2023. Averaging the weights of two aligned networks shrinks the spread
of their hidden units' pre-activations ("variance collapse"), which raises the loss barrier.
REPAIR measures each unit's pre-activation mean and standard deviation on data in both endpoints,
and rescales and shifts the unit of the interpolated network so that its statistics are the
interpolation of the endpoints'. Here the correction is folded into the layer's weight rows and
bias, so the result is a plain network of the same class.
"""

from __future__ import annotations

import math

import torch

from symsharing.models import WAsymmetricMLP
from symsharing.paramspace.matching import _check_data, _check_mlp, hidden_states
from symsharing.paramspace.permutation_spec import _check_alpha, check_pair, interpolate

__all__ = ["repair"]


def repair(mlp_a, mlp_b, X: torch.Tensor, alpha=0.5, *, eps: float = 1e-5):
    """``interpolate(mlp_a, mlp_b, alpha)`` with each hidden unit's pre-activation mean and standard
    deviation on ``X`` set to ``(1 - alpha)`` times ``mlp_a``'s plus ``alpha`` times ``mlp_b``'s.

    ``mlp_b`` is expected to be aligned to ``mlp_a`` already (e.g. ``permute_hidden(mlp_b,
    weight_matching(mlp_a, mlp_b))``): REPAIR corrects the statistics of matched units, it does not
    match them. Layers are corrected in order, each measured after the earlier ones are corrected.
    The scale is ``target_std / (std + eps)``, so a unit with (near) zero spread is not divided by
    zero. Standard deviations are population ones (``unbiased=False``). W-Asymmetric networks are
    rejected: folding a scale into a weight row would move its frozen entries.
    """
    _check_mlp(mlp_a, "repair")
    if isinstance(mlp_a, WAsymmetricMLP) or isinstance(mlp_b, WAsymmetricMLP):
        raise TypeError("repair cannot fold statistics into a WAsymmetricMLP: rescaling a weight row "
                        "would move its frozen entries")
    check_pair(mlp_a, mlp_b)
    alpha = _check_alpha(alpha)
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f"alpha must lie in [0, 1] (0 is mlp_a, 1 is mlp_b), got {alpha!r}")
    if isinstance(eps, bool) or not isinstance(eps, (int, float)) or not (math.isfinite(eps) and eps > 0):
        raise ValueError(f"eps must be a finite positive number, got {eps!r}")
    X = _check_data(X, mlp_a)
    pre_a, _ = hidden_states(mlp_a, X)
    pre_b, _ = hidden_states(mlp_b, X)
    repaired = interpolate(mlp_a, mlp_b, alpha)
    for index, (z_a, z_b) in enumerate(zip(pre_a, pre_b, strict=True)):
        target_mean = (1 - alpha) * z_a.mean(0) + alpha * z_b.mean(0)  # (width,)
        target_std = (1 - alpha) * z_a.std(0, unbiased=False) + alpha * z_b.std(0, unbiased=False)
        z = hidden_states(repaired, X)[0][index]  # (n, width), earlier layers already corrected
        scale = target_std / (z.std(0, unbiased=False) + eps)  # (width,)
        layer = repaired.layers[index]
        with torch.no_grad():
            layer.bias.copy_(scale * (layer.bias - z.mean(0)) + target_mean)
            layer.weight.mul_(scale[:, None])
    return repaired
