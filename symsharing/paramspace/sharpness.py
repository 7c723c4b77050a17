"""Sharpness of the loss at a network's weights, and why the plain measures are not properties of
the function it computes.

Dinh, Pascanu, Bengio & Bengio, "Sharp Minima Can Generalize for Deep Nets" (ICML 2017): a
rescaling ``θ' = Dθ`` along a ReLU network's orbit (``D`` diagonal: ``s`` on a unit's incoming
weights and bias, ``1/s`` on its outgoing ones) keeps the function, and the Hessian transforms as
``H' = D⁻¹ H D⁻¹``; so the largest eigenvalue and the trace can be made as large (or, for a part of
the spectrum, as small) as one likes at the same function. The elementwise *adaptive* sharpness
(Kwon, Kim, Park & Choi, ASAM, ICML 2021; Andriushchenko et al., ICML 2023) measures the Hessian in
the coordinates ``θ_i u_i``: ``T H T`` with ``T = diag(|θ|)``. Since ``T' = D T`` and diagonal
matrices commute, ``T' H' T' = T H T`` exactly: its top eigenvalue and trace are invariant under
every rescaling (and, being built from ``|θ|``, under hidden-unit permutations too).

The top eigenvalue is found by power iteration with Hessian–vector products
(``torch.func``, reverse over reverse); the trace exactly from the Hessian's diagonal, or by
Hutchinson's estimator with Rademacher probes for larger networks.
"""

from __future__ import annotations

import math

import torch
from torch.func import grad, hessian, vjp

from symsharing._checks import check_int
from symsharing.paramspace.hessian import flat_loss

__all__ = ["top_hessian_eigenvalue", "hessian_trace"]


def _scaled_product(model, X, y, adaptive: bool):
    """``(v -> T H T v, T, P)`` at the model's θ; ``T`` = 1 unless ``adaptive`` (then ``|θ|``)."""
    loss, theta = flat_loss(model, X, y)
    _, product = vjp(grad(loss), theta)  # v -> H v (H is symmetric)
    scale = theta.abs() if adaptive else torch.ones_like(theta)

    def apply(vector: torch.Tensor) -> torch.Tensor:
        return scale * product(scale * vector)[0]

    return apply, theta, loss, scale


def top_hessian_eigenvalue(model, X: torch.Tensor, y: torch.Tensor, *, adaptive: bool = False,
                           iterations: int = 200, tol: float = 1e-10, seed: int = 0) -> float:
    """The Hessian's eigenvalue of largest magnitude at the model's weights (the sharpness; positive
    at a minimum), by power iteration from a ``torch.Generator(seed)`` start, stopped when the
    Rayleigh quotient changes by less than ``tol`` relatively or after ``iterations`` products.
    ``adaptive``: of ``diag(|θ|) H diag(|θ|)``, the rescaling-invariant sharpness."""
    iterations = check_int(iterations, "iterations", minimum=1)
    apply, theta, _, _ = _scaled_product(model, X, y, adaptive)
    generator = torch.Generator().manual_seed(check_int(seed, "seed"))
    vector = torch.randn(theta.shape, generator=generator, dtype=theta.dtype).to(theta.device)  # (P,)
    vector = vector / vector.norm()
    value = math.nan
    for _ in range(iterations):
        image = apply(vector)
        previous, value = value, float(vector @ image)
        norm = image.norm()
        if norm == 0:
            return 0.0
        vector = image / norm
        if math.isfinite(previous) and abs(value - previous) <= tol * abs(value):
            break
    return value


def hessian_trace(model, X: torch.Tensor, y: torch.Tensor, *, adaptive: bool = False,
                  samples: int | None = None, seed: int = 0) -> float:
    """The Hessian's trace at the model's weights: exact (``samples`` None: the diagonal of the full
    Hessian, for networks of a few thousand parameters at most), or Hutchinson's mean of
    ``vᵀ H v`` over ``samples`` Rademacher probes from ``torch.Generator(seed)``. ``adaptive``: the
    trace of ``diag(|θ|) H diag(|θ|)``, i.e. ``Σ θ_i² H_ii``."""
    apply, theta, loss, scale = _scaled_product(model, X, y, adaptive)
    if samples is None:
        return float((scale ** 2 * torch.diagonal(hessian(loss)(theta))).sum())
    samples = check_int(samples, "samples", minimum=1)
    generator = torch.Generator().manual_seed(check_int(seed, "seed"))
    total = 0.0
    for _ in range(samples):
        probe = (torch.randint(0, 2, theta.shape, generator=generator) * 2 - 1).to(theta)  # (P,) of ±1
        total += float(probe @ apply(probe))
    return total / samples
