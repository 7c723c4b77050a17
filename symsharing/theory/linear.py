"""What theory predicts: closed forms for least squares with and without a symmetry, the linear
models and exact least-squares solutions that the calibration (``symsharing.theory.calibration``)
trains and measures against them, and the draws of the approximate-symmetry crossovers.

Ordinary least squares on ``n`` samples ``x ~ N(0, I_d)``, ``y = θ·x + ε``, ``ε ~ N(0, σ²)``, with
``n > d + 1``: the estimate ``ŵ`` has ``E‖ŵ − θ‖² = σ² d / (n − d − 1)`` (the mean of an inverse
Wishart matrix), which for isotropic inputs *is* the excess risk ``E(ŵ·x − θ·x)²``; the expected
training MSE is ``σ² (1 − d/n)``. A model tied by a group whose point orbits number ``k`` is least
squares on the ``k`` orbit sums, so its excess risk is ``σ² k / (n − k − 1)``. Matching the two
gives the exchange rate ``n′ = d + 1 + (d/k)(n − k − 1)``: about ``d/k`` samples of the
unconstrained model per sample of the invariant one, not ``|G|`` (Elesedy & Zaidi, "Provably
strict generalisation benefit for equivariant models", ICML 2021, prove the ``d/k``-type gain for
linear models; Bietti, Venturi & Bruna 2021 and Tahmasebi & Jegelka 2023 show how it rises toward
``|G|`` for smooth nonlinear targets in kernel regimes; ``symsharing.theory.kernels``).

When the target is only approximately invariant, ``θ = θ_G + ε θ_⊥`` with ``θ_⊥`` a unit vector
orthogonal to the invariant subspace, the invariant model cannot fit ``ε θ_⊥·x``: it acts as extra
noise of variance ``ε²`` and adds the bias ``ε²``, so its excess risk is
``ε² (n − 1)/(n − k − 1) + σ² k/(n − k − 1)``, and the unconstrained model overtakes it at the
``n`` where that equals ``σ² d/(n − d − 1)`` (``predicted_crossover``).

Given the inputs ``X``, the least-squares error is linear in the noise, so its excess risk averaged
over the noise is exact: ``σ² Σ_j m_j [(ZᵀZ)⁻¹]_jj`` with ``Z`` the orbit sums
(``noise_averaged_excess_risk``), the Rao–Blackwell estimate of the closed form.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import torch
from torch import nn

from symsharing._checks import check_int, check_nonnegative
from symsharing.engine import cache
from symsharing.groups import PermutationGroup
from symsharing.settings import is_quick
from symsharing.stats import first_crossing
from symsharing.tasks import LinearTask

__all__ = ["ls_excess_risk", "ls_train_mse", "ls_train_test_gap", "invariant_excess_risk",
           "exchange_rate", "approximate_excess_risk", "predicted_crossover", "LINEAR_FAMILIES",
           "formula_excess_risk", "LinearMap", "InvariantLinearMap", "orbit_indicator", "least_squares",
           "invariant_least_squares", "noise_averaged_excess_risk", "least_squares_draws",
           "approximate_symmetry_draws", "measured_crossovers"]

LINEAR_FAMILIES = ("unconstrained", "invariant", "augmented")


def _check_sizes(n, p: int, name: str) -> np.ndarray:
    n = np.asarray(n, dtype=float)
    if np.any(n <= p + 1):
        raise ValueError(f"{name} needs n > {p + 1} (the number of parameters + 1), got n = {n.min():g}")
    return n


def ls_excess_risk(n, d: int, sigma: float = 1.0):
    """Expected excess risk ``σ² d / (n − d − 1)`` of least squares on ``n`` isotropic samples in
    ``d`` dimensions (no intercept)."""
    return check_nonnegative(sigma, "sigma") ** 2 * d / (_check_sizes(n, d, "ls_excess_risk") - d - 1)


def ls_train_mse(n, d: int, sigma: float = 1.0):
    """Expected training MSE ``σ² (1 − d/n)`` of least squares (its residual variance)."""
    n = _check_sizes(n, d, "ls_train_mse")
    return check_nonnegative(sigma, "sigma") ** 2 * (1 - d / n)


def ls_train_test_gap(n, d: int, sigma: float = 1.0):
    """Expected test MSE minus train MSE, ``σ² (d/(n − d − 1) + d/n)``."""
    n = _check_sizes(n, d, "ls_train_test_gap")
    return check_nonnegative(sigma, "sigma") ** 2 * (d / (n - d - 1) + d / n)


def invariant_excess_risk(n, k: int, sigma: float = 1.0):
    """Expected excess risk ``σ² k / (n − k − 1)`` of least squares tied by a group with ``k``
    point orbits (least squares on the ``k`` orbit sums), for an invariant target."""
    return check_nonnegative(sigma, "sigma") ** 2 * k / (_check_sizes(n, k, "invariant_excess_risk") - k - 1)


def exchange_rate(n, d: int, k: int):
    """Samples ``n′ = d + 1 + (d/k)(n − k − 1)`` at which unconstrained least squares matches the
    invariant one trained on ``n``; returns ``n′ / n`` (tends to ``d/k``)."""
    n = _check_sizes(n, k, "exchange_rate")
    return (d + 1 + d / k * (n - k - 1)) / n


def approximate_excess_risk(n, k: int, sigma: float, epsilon: float):
    """Excess risk of invariant least squares when the target has a part of norm ``ε`` outside
    the invariant subspace: ``ε² (n − 1)/(n − k − 1) + σ² k/(n − k − 1)``."""
    n = _check_sizes(n, k, "approximate_excess_risk")
    epsilon = check_nonnegative(epsilon, "epsilon")
    return (epsilon ** 2 * (n - 1) + check_nonnegative(sigma, "sigma") ** 2 * k) / (n - k - 1)


def predicted_crossover(d: int, k: int, sigma: float, epsilon: float) -> float:
    """The ``n`` (real, > d + 1) from which unconstrained least squares has the smaller expected
    excess risk; ``inf`` when ``ε = 0`` (the invariant model is better at every n)."""
    if check_nonnegative(epsilon, "epsilon") == 0:
        return math.inf

    def advantage(n):  # > 0 while the invariant model is better
        return ls_excess_risk(n, d, sigma) - approximate_excess_risk(n, k, sigma, epsilon)

    low, high = d + 1 + 1e-9, 2.0 * (d + 2)
    while advantage(high) > 0:
        low, high = high, 2 * high
    for _ in range(200):
        middle = 0.5 * (low + high)
        low, high = (middle, high) if advantage(middle) > 0 else (low, middle)
    return float(0.5 * (low + high))


def formula_excess_risk(family: str, n, d: int, k: int, sigma: float = 1.0):
    """The closed form a family's excess risk should land on: ``unconstrained`` the dense least
    squares, ``invariant`` and ``augmented`` (whole-orbit augmentation) the invariant one."""
    if family == "unconstrained":
        return ls_excess_risk(n, d, sigma)
    if family in ("invariant", "augmented"):
        return invariant_excess_risk(n, k, sigma)
    raise KeyError(f"unknown linear family {family!r}; known: {', '.join(LINEAR_FAMILIES)}")


class LinearMap(nn.Module):
    """Bias-free linear model ``[b, d] -> [b, 1]``, ``x ↦ x·w`` (family ``unconstrained``;
    ``augmented`` when trained with augmentation). Starts at ``w = 0``."""

    def __init__(self, d: int):
        super().__init__()
        self.d = check_int(d, "d", minimum=1)
        self.weight = nn.Parameter(torch.zeros(self.d))

    def effective_weight(self) -> torch.Tensor:
        return self.weight

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (x @ self.weight)[..., None]  # (batch, 1)

    @staticmethod
    def stacked_forward(params: dict, buffers: dict, x: torch.Tensor) -> torch.Tensor:
        """K stacked models at once (``fit_many``): ``x [K, b, d]`` -> ``[K, b, 1]``."""
        return torch.bmm(x, params["weight"][..., None])


class InvariantLinearMap(nn.Module):
    """Bias-free linear model tied by ``group``: ``w = β[orbit(i)]``, one parameter per point
    orbit (family ``invariant``). Starts at ``β = 0``."""

    def __init__(self, group: PermutationGroup):
        super().__init__()
        if not isinstance(group, PermutationGroup):
            raise TypeError(f"group must be a PermutationGroup, got {type(group).__name__}")
        self.group = group
        self.register_buffer("orbit", group.orbit_index(), persistent=False)  # (d,)
        self.weight = nn.Parameter(torch.zeros(len(group.orbits())))

    def effective_weight(self) -> torch.Tensor:
        return self.weight[self.orbit]  # (d,)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (x @ self.effective_weight())[..., None]  # (batch, 1)

    @staticmethod
    def stacked_forward(params: dict, buffers: dict, x: torch.Tensor) -> torch.Tensor:
        """K stacked models at once (``fit_many``): ``x [K, b, d]`` -> ``[K, b, 1]``."""
        return torch.bmm(x, params["weight"][:, buffers["orbit"], None])


def least_squares(X: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """``argmin_w ‖X w − y‖²`` in float64 (``torch.linalg.lstsq``); ``w`` ``[d]``."""
    return torch.linalg.lstsq(X.double(), y.double().reshape(len(X), -1)).solution[:, 0]


def orbit_indicator(group: PermutationGroup) -> torch.Tensor:
    """``P [d, k]`` (float64): ``P[i, j] = 1`` when point ``i`` lies in orbit ``j`` of ``group``;
    ``X @ P`` are the orbit sums, ``P.sum(0)`` the orbit sizes."""
    if not isinstance(group, PermutationGroup):
        raise TypeError(f"group must be a PermutationGroup, got {type(group).__name__}")
    P = torch.zeros(group.n, len(group.orbits()), dtype=torch.float64)
    P[torch.arange(group.n), group.orbit_index()] = 1.0
    return P


def invariant_least_squares(X: torch.Tensor, y: torch.Tensor, group: PermutationGroup) -> torch.Tensor:
    """Least squares over maps constant on the point orbits of ``group``; ``w`` ``[d]``."""
    P = orbit_indicator(group)  # (d, k)
    return P @ least_squares(X.double() @ P, y)


def noise_averaged_excess_risk(X: torch.Tensor, sigma: float = 1.0,
                               group: PermutationGroup | None = None) -> float:
    """``E[‖w_LS − θ‖² | X]``: the excess risk of least squares on the inputs ``X [n, d]``, averaged
    over the noise, for isotropic inputs and a target the model can express (ε = 0).

    The model is tied by ``group`` (None: unconstrained, one orbit per input). With ``Z = X P`` the
    orbit sums (``P = orbit_indicator(group)``, ``m_j`` the size of orbit j), ``w_LS − θ =
    P (ZᵀZ)⁻¹ Zᵀ ε``, so the value is ``σ² tr(PᵀP (ZᵀZ)⁻¹) = σ² Σ_j m_j [(ZᵀZ)⁻¹]_jj`` (``σ² tr
    (XᵀX)⁻¹`` unconstrained). Its mean over X is ``σ² k/(n − k − 1)``: the conditional expectation
    of a run's excess risk given its inputs (Rao–Blackwell), with the noise's share of the variance
    removed. Computed in float64 through the QR factor ``Z = QR``: ``(ZᵀZ)⁻¹ = R⁻¹R⁻ᵀ``.
    """
    if not isinstance(X, torch.Tensor) or X.dim() != 2:
        raise TypeError(f"X must be a torch.Tensor [n, d], got {type(X).__name__}"
                        + (f" of shape {tuple(X.shape)}" if isinstance(X, torch.Tensor) else ""))
    sigma = check_nonnegative(sigma, "sigma")
    X = X.double()
    if not bool(torch.isfinite(X).all()):
        raise ValueError("X must be finite, got NaN or infinite entries")
    P = torch.eye(X.shape[1], dtype=torch.float64) if group is None else orbit_indicator(group)  # (d, k)
    if P.shape[0] != X.shape[1]:
        raise ValueError(f"X has {X.shape[1]} inputs but {group.name} acts on {group.n} points")
    n, k = X.shape[0], P.shape[1]
    if n <= k:
        raise ValueError(f"noise_averaged_excess_risk needs n > k (samples > parameters), "
                         f"got n = {n}, k = {k}")
    R = torch.linalg.qr(X @ P, mode="r").R  # (k, k): Z = QR
    scale = R.diagonal().abs()
    if float(scale.min()) <= 1e-12 * float(scale.max()):
        raise ValueError("the orbit sums Z = XP are linearly dependent (ZᵀZ is singular)")
    R_inverse = torch.linalg.solve_triangular(R, torch.eye(k, dtype=torch.float64), upper=True)
    diagonal = (R_inverse ** 2).sum(1)  # (k,): [(ZᵀZ)⁻¹]_jj
    return sigma ** 2 * float((P.sum(0) * diagonal).sum())


def least_squares_draws(task: LinearTask, sizes, n_seeds: int, seed_offset: int = 0) -> pd.DataFrame:
    """Excess risk of the exact least-squares solutions (``unconstrained`` and ``invariant``) over
    many seeds, in closed form (``torch.linalg.lstsq``, no training): for checking the formulas in
    distribution and for the approximate-symmetry crossovers."""
    rows = []
    for n_train in sizes:
        for seed in range(seed_offset, seed_offset + check_int(n_seeds, "n_seeds", minimum=1)):
            X, y = task.sample(n_train, seed, dtype=torch.float64)
            for family, w in (("unconstrained", least_squares(X, y)),
                              ("invariant", invariant_least_squares(X, y, task.group))):
                rows.append({"task": task.name, "family": family, "epsilon": task.epsilon,
                             "n_train": n_train, "seed": seed, "excess_risk": task.excess_risk(w)})
    return pd.DataFrame(rows)


def approximate_symmetry_draws(task: LinearTask, epsilons, quick: bool | None = None) -> pd.DataFrame:
    """``least_squares_draws`` of ``task.with_epsilon(ε)`` for each ε, on a log grid of sizes from
    ``d + 8`` to ``64 d`` (12 sizes, 100 seeds; quick: 8 sizes, 30 seeds); cached."""
    quick = is_quick() if quick is None else bool(quick)
    n_sizes, n_seeds = (8, 30) if quick else (12, 100)
    sizes = sorted({int(round(n)) for n in np.geomspace(task.d + 8, 64 * task.d, n_sizes)})
    config = {"unit": "approximate-symmetry", "task": task.name, "sigma": task.sigma,
              "epsilons": [float(e) for e in epsilons], "sizes": sizes, "n_seeds": n_seeds}
    key = cache.cache_key(config, device="cpu", dtype="float64")

    def compute():
        return pd.concat([least_squares_draws(task.with_epsilon(float(e)), sizes, n_seeds)
                          for e in epsilons], ignore_index=True).to_dict("records")

    return pd.DataFrame(cache.cached(key, compute, namespace="theory"))


def measured_crossovers(frame: pd.DataFrame, n_boot: int = 200, seed: int = 0,
                        level: float = 0.95) -> pd.DataFrame:
    """Per (task, ε): the size where the unconstrained model's mean excess risk first falls below
    the invariant one's, with a bootstrap interval over seeds (paired: a seed's data serve both).
    ``censored_share``: replicates in which no crossing happened inside the sampled sizes."""
    rng = np.random.default_rng(seed)
    rows = []
    for (task, epsilon), part in frame.groupby(["task", "epsilon"]):
        table = part.pivot_table(index="seed", columns=["family", "n_train"], values="excess_risk")
        sizes = np.array(sorted(part["n_train"].unique()), dtype=float)
        difference = (table["unconstrained"] - table["invariant"]).reindex(columns=sizes).to_numpy()
        estimate = first_crossing(sizes, difference.mean(0), 0.0, rising=False, strict=True)
        draws = [first_crossing(sizes, difference[rng.integers(0, len(difference), len(difference))].mean(0),
                                0.0, rising=False, strict=True) for _ in range(n_boot)]
        draws = np.array(draws)
        found = draws[~np.isnan(draws)]
        low, high = (np.quantile(found, [(1 - level) / 2, (1 + level) / 2]) if len(found)
                     else (math.nan, math.nan))
        rows.append({"task": task, "epsilon": epsilon, "crossover": estimate, "low": low,
                     "high": high, "censored_share": float(np.isnan(draws).mean())})
    return pd.DataFrame(rows)
