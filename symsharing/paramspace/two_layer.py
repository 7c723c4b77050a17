"""Zhao et al. (2023)'s two-layer experiments: the conserved quantity Q at initialisation, the speed
of convergence and the Hessian at the minimum reached.

Zhao, Ganev, Walters, Yu & Dehmamy, "Symmetries, Flat Minima, and the Conserved Quantities of
Gradient Flow" (ICLR 2023), public code ``Rose-STL-Lab/Gradient-Flow-Symmetry``
(``Q_hessian_eigenvalues.py``, ``Q_convergence_elementwise.py``, ``utils.compute_Q``),
re-implemented here. The network is ``U σ(Vᵀ X)`` with ``U [m, k]``, ``V [n, k]``, whitened input
``X = I_n`` and targets ``Y [m, n] ~ N(0, 1)``; it is trained by full-batch gradient descent on the
mean squared error. The conserved quantity of gradient flow for each activation is the paper's
``Q`` (``conserved_q``): for linear and ReLU units the trace of the layer balance, for tanh and
sigmoid a nonlinear function of V that the paper derives from the data-dependent symmetries of an
elementwise activation with whitened input. Initial weights and targets are drawn exactly as in
that code: ``torch.rand(shape).normal_(0, scale)`` after ``manual_seed(12345)``, once for each
matrix (so U, V and Y start from the same random stream).

Differences from the code: float64 instead of float32; the gradient is written out in closed form
(equal to autograd's, see the tests) and the runs of the different initial scales are stacked, so
that thousands of steps cost milliseconds in NumPy.
"""

from __future__ import annotations

import numpy as np
import torch

from symsharing._checks import check_int

__all__ = ["ACTIVATIONS", "conserved_q", "initial_weights", "train_two_layer",
           "two_layer_hessian_eigenvalues"]

ACTIVATIONS = ("linear", "relu", "tanh", "sigmoid")
SEED = 12345


def _check_activation(activation: str) -> str:
    if activation not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {ACTIVATIONS}, got {activation!r}")
    return activation


def _sigma(z, activation: str, module=np):
    if activation == "linear":
        return z
    if activation == "relu":
        return module.maximum(z, 0 * z) if module is np else torch.relu(z)
    if activation == "tanh":
        return module.tanh(z)
    return 1 / (1 + module.exp(-z))


def _sigma_derivative(z: np.ndarray, activation: str) -> np.ndarray:
    if activation == "linear":
        return np.ones_like(z)
    if activation == "relu":
        return (z > 0).astype(z.dtype)
    if activation == "tanh":
        return 1 - np.tanh(z) ** 2
    s = 1 / (1 + np.exp(-z))
    return s * (1 - s)


def conserved_q(U: np.ndarray, V: np.ndarray, activation: str) -> np.ndarray:
    """The paper's conserved quantity for ``U [..., m, k]``, ``V [..., n, k]`` (``compute_Q``):
    ``Tr[UᵀU − VᵀV]`` (linear), ``Tr[UᵀU − relu(V)ᵀ relu(V)]`` (ReLU), ``Tr[UᵀU − cosh(V)ᵀ cosh(V)]``
    (tanh), ``½ Tr[UᵀU] − Σ V − Σ exp(V)`` (sigmoid)."""
    _check_activation(activation)
    U, V = np.asarray(U, dtype=float), np.asarray(V, dtype=float)
    squares = (U ** 2).sum(axis=(-2, -1))
    if activation == "linear":
        return squares - (V ** 2).sum(axis=(-2, -1))
    if activation == "relu":
        return squares - (np.maximum(V, 0) ** 2).sum(axis=(-2, -1))
    if activation == "tanh":
        return squares - (np.cosh(V) ** 2).sum(axis=(-2, -1))
    return 0.5 * squares - V.sum(axis=(-2, -1)) - np.exp(V).sum(axis=(-2, -1))


def _normal(shape: tuple[int, int], scale: float) -> np.ndarray:
    generator = torch.Generator().manual_seed(SEED)
    return torch.rand(shape, generator=generator).normal_(0.0, scale, generator=generator).double().numpy()


def initial_weights(m: int, n: int, k: int, scale: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(U [m, k], V [n, k], Y [m, n])`` as the paper's code draws them for initial scale ``scale``."""
    m, n, k = (check_int(v, name, minimum=1) for v, name in ((m, "m"), (n, "n"), (k, "k")))
    if isinstance(scale, bool) or not isinstance(scale, (int, float)) or not scale > 0:
        raise ValueError(f"scale must be a positive number, got {scale!r}")
    return _normal((m, k), scale), _normal((n, k), scale), _normal((m, n), 1.0)


def train_two_layer(activation: str, scales, *, m: int, n: int, k: int, lr: float, steps: int,
                    record_every: int = 1) -> dict:
    """Full-batch gradient descent on ``mean((U σ(Vᵀ) − Y)²)`` from each initial scale at once.

    Returns ``{"step": [T], "loss": [S, T] (‖Y − U σ(Vᵀ)‖², the sum of squares), "q": [S, T],
    "U": [S, m, k], "V": [S, n, k], "Y": [m, n]}`` (NumPy float64), recorded at step 0 and every
    ``record_every`` steps after it.
    """
    _check_activation(activation)
    steps = check_int(steps, "steps", minimum=1)
    record_every = check_int(record_every, "record_every", minimum=1)
    starts = [initial_weights(m, n, k, scale) for scale in scales]
    U = np.stack([u for u, _, _ in starts])  # (S, m, k)
    V = np.stack([v for _, v, _ in starts])  # (S, n, k)
    Y = starts[0][2]  # (m, n): the same targets for every scale
    coefficient = 2.0 / (m * n)  # d mean / d entry
    recorded_steps, losses, charges = [], [], []
    for step in range(steps + 1):
        pre = np.swapaxes(V, 1, 2)  # (S, k, n): V^T X with X = I
        hidden = _sigma(pre, activation)  # (S, k, n)
        residual = U @ hidden - Y  # (S, m, n)
        if step % record_every == 0 or step == steps:
            recorded_steps.append(step)
            losses.append((residual ** 2).sum(axis=(1, 2)))
            charges.append(conserved_q(U, V, activation))
        if step == steps:
            break
        grad_U = coefficient * residual @ np.swapaxes(hidden, 1, 2)  # (S, m, k)
        grad_pre = coefficient * (np.swapaxes(U, 1, 2) @ residual) * _sigma_derivative(pre, activation)
        U = U - lr * grad_U
        V = V - lr * np.swapaxes(grad_pre, 1, 2)  # (S, n, k)
    return {"step": np.asarray(recorded_steps), "loss": np.stack(losses, axis=1),
            "q": np.stack(charges, axis=1), "U": U, "V": V, "Y": Y}


def two_layer_hessian_eigenvalues(U: np.ndarray, V: np.ndarray, Y: np.ndarray, activation: str) -> np.ndarray:
    """Eigenvalues (ascending) of the Hessian of ``‖Y − U σ(Vᵀ)‖²`` in ``(vec U, vec V)``, as the
    paper's script computes it (there with ``torch.autograd.functional.hessian``)."""
    _check_activation(activation)
    U_t, V_t, Y_t = (torch.as_tensor(np.asarray(a, dtype=float)) for a in (U, V, Y))
    size = U_t.numel()

    def loss(flat: torch.Tensor) -> torch.Tensor:
        u, v = flat[:size].view(U_t.shape), flat[size:].view(V_t.shape)
        return ((Y_t - u @ _sigma(v.T, activation, torch)) ** 2).sum()

    matrix = torch.func.hessian(loss)(torch.cat([U_t.reshape(-1), V_t.reshape(-1)]))
    return torch.linalg.eigvalsh(matrix).numpy()
