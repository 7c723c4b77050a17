"""The toy experiment of Zhao et al. (2022): teleporting a small LeakyReLU network once, early in
training, with the data-dependent GL action, under gradient descent and under AdaGrad.

Zhao, Dehmamy, Walters & Yu, "Symmetry Teleportation for Accelerated Optimization" (NeurIPS 2022),
public code ``Rose-STL-Lab/Symmetry-Teleportation`` (``multi_layer_regression.py``,
``teleportation.py``), re-implemented here. Data ``X [5, 4]`` (4 samples as columns), weights
``W1 [6, 5]``, ``W2 [7, 6]``, ``W3 [8, 7]``, targets ``Y [8, 4]``, all ``torch.rand`` after
``manual_seed(seed)``; the loss is ``½‖Y − W3 σ(W2 σ(W1 X))‖²`` with σ = LeakyReLU(0.1).

The group acts on a pair of layers ``(U = W_{m+1}, V = W_m)`` through ``T`` in the Lie algebra of
GL: ``U → U (I − T)``, ``V → σ⁻¹((I + T) σ(V h)) h⁺`` with ``h`` the layer's input on the data and
``h⁺`` its pseudo-inverse; on the data the hidden layer becomes ``(I + T) σ(V h)``, so for one pair
the loss changes only at second order in ``T``. A teleport takes a few steps: the gradient of
``Σ‖∂L/∂W‖²`` in the ``T``s at ``T = 0``, times a rate, is applied as the next ``T``. The code's two
routines are kept apart as there: the gradient pass feeds each layer the transformed network's
hidden values, the applied action the *original* network's pseudo-inverses, so that through three
layers the applied action changes the loss already at first order in ``T`` (``h⁺ (I + T) h ≠ I``;
the tests measure it). Gradient descent: rate 1e-4, teleport at step 5
(rate 1e-7, 8 steps); AdaGrad: rate 0.1, eps 1e-10, teleport at step 5 (rate 1e-5, 2 steps).
"""

from __future__ import annotations

import time

import numpy as np
import torch
import torch.nn.functional as F

from symsharing._checks import check_int

__all__ = ["DIMS", "METHODS", "TELEPORT_AT", "PAPER_SEEDS", "toy_problem", "toy_loss", "gl_teleport",
           "run_toy"]

DIMS = (4, 5, 6, 7, 8)  # samples, then the widths: X [5, 4], W1 [6, 5], W2 [7, 6], W3 [8, 7], Y [8, 4]
SLOPE = 0.1
METHODS = {  # name: (optimizer, rate, teleport rate or None, teleport steps)
    "GD": ("gd", 1e-4, None, 0), "GD + teleport": ("gd", 1e-4, 1e-7, 8),
    "AdaGrad": ("adagrad", 1e-1, None, 0), "AdaGrad + teleport": ("adagrad", 1e-1, 1e-5, 2),
}
TELEPORT_AT = 5
PAPER_SEEDS = 5  # the paper's script: seeds n * n * 12345 for n < 5


def _sigma(z: torch.Tensor) -> torch.Tensor:
    return F.leaky_relu(z, SLOPE)


def _sigma_inverse(z: torch.Tensor) -> torch.Tensor:
    return F.leaky_relu(z, 1 / SLOPE)


def toy_problem(seed: int) -> tuple[list[torch.Tensor], torch.Tensor, torch.Tensor]:
    """``(weights, X, Y)`` drawn as the paper's ``init_param(dim, seed)`` draws them."""
    generator = torch.Generator().manual_seed(check_int(seed, "seed", minimum=0))
    weights = [torch.rand(DIMS[i + 2], DIMS[i + 1], generator=generator) for i in range(len(DIMS) - 2)]
    X = torch.rand(DIMS[1], DIMS[0], generator=generator)  # (features, samples)
    Y = torch.rand(DIMS[-1], DIMS[0], generator=generator)  # (outputs, samples)
    return weights, X, Y


def toy_loss(weights: list[torch.Tensor], X: torch.Tensor, Y: torch.Tensor) -> torch.Tensor:
    """``½‖Y − W_L σ(… σ(W_1 X))‖²``."""
    hidden = X
    for weight in weights[:-1]:
        hidden = _sigma(weight @ hidden)
    return 0.5 * (Y - weights[-1] @ hidden).pow(2).sum()


def _act_on_pair(U, V, hidden, hidden_pinv, T):
    identity = torch.eye(len(T), dtype=T.dtype)
    return U @ (identity - T), _sigma_inverse((identity + T) @ _sigma(V @ hidden)) @ hidden_pinv


def _apply(weights, X, T):
    """The action of the ``T``s on every pair of layers; each layer's input from the original weights."""
    moved, hidden, hidden_pinv = list(weights), X, torch.linalg.pinv(X)
    for m in range(len(weights) - 1):
        moved[m + 1], moved[m] = _act_on_pair(moved[m + 1], moved[m], hidden, hidden_pinv, T[m])
        hidden = _sigma(weights[m] @ hidden)
        hidden_pinv = torch.linalg.pinv(hidden)
    return moved


def gl_teleport(weights, X, Y, *, lr: float, steps: int) -> list[torch.Tensor]:
    """``steps`` ascent steps of ``Σ‖∂L/∂W‖²`` over the GL action, with rate ``lr`` (see above)."""
    for _ in range(check_int(steps, "steps", minimum=1)):
        T = [torch.zeros(DIMS[m + 2], DIMS[m + 2], requires_grad=True) for m in range(len(weights) - 1)]
        moved, hidden, hidden_pinv = list(weights), X, torch.linalg.pinv(X)
        for m in range(len(weights) - 1):  # the gradient pass: inputs from the transformed network
            moved[m + 1], moved[m] = _act_on_pair(moved[m + 1], moved[m], hidden, hidden_pinv, T[m])
            hidden = _sigma(moved[m] @ hidden)
            hidden_pinv = torch.linalg.pinv(hidden)
        gradients = torch.autograd.grad(toy_loss(moved, X, Y), moved, create_graph=True)
        ascent = torch.autograd.grad(sum(g.pow(2).sum() for g in gradients), T)
        weights = [w.detach() for w in _apply(weights, X, [lr * a for a in ascent])]
    return weights


def run_toy(method: str, seed: int, *, steps: int = 300) -> dict:
    """One run of ``method`` (a key of ``METHODS``) from ``toy_problem(seed)``: per step the loss
    and ``Σ‖∂L/∂W‖²`` before the update and the wall time since the start (NumPy arrays), and the
    loss just before and just after the teleport (NaN without one): the first-order action does
    not keep the loss exactly."""
    if method not in METHODS:
        raise ValueError(f"method must be one of {list(METHODS)}, got {method!r}")
    optimizer, rate, teleport_rate, teleport_steps = METHODS[method]
    weights, X, Y = toy_problem(seed)
    accumulated = [torch.zeros_like(w) for w in weights]
    losses, squared_norms, seconds, around_teleport = [], [], [], [np.nan, np.nan]
    start = time.perf_counter()
    for step in range(check_int(steps, "steps", minimum=1)):
        if teleport_rate is not None and step == TELEPORT_AT:
            before = float(toy_loss(weights, X, Y).detach())
            weights = gl_teleport(weights, X, Y, lr=teleport_rate, steps=teleport_steps)
            around_teleport = [before, float(toy_loss(weights, X, Y).detach())]
        weights = [w.detach().requires_grad_(True) for w in weights]
        loss = toy_loss(weights, X, Y)
        gradients = torch.autograd.grad(loss, weights)
        with torch.no_grad():
            if optimizer == "gd":
                weights = [w - rate * g for w, g in zip(weights, gradients, strict=True)]
            else:
                accumulated = [a + g * g for a, g in zip(accumulated, gradients, strict=True)]
                weights = [w - rate * g / (a.sqrt() + 1e-10)
                           for w, g, a in zip(weights, gradients, accumulated, strict=True)]
        losses.append(float(loss.detach()))
        squared_norms.append(sum(float(g.pow(2).sum()) for g in gradients))
        seconds.append(time.perf_counter() - start)
    return {"loss": np.asarray(losses), "squared_gradient_norm": np.asarray(squared_norms),
            "seconds": np.asarray(seconds), "loss_around_teleport": np.asarray(around_teleport)}
