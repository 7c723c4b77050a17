"""What theory predicts: closed forms for least squares with and without a symmetry, and the
linear calibration tasks on which the study's training code must reproduce them.

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
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from torch import nn

from symsharing._checks import check_int, check_nonnegative
from symsharing.engine import cache
from symsharing.groups import PermutationGroup
from symsharing.settings import is_quick
from symsharing.stats import first_crossing
from symsharing.tasks import LINEAR_TASKS, LinearTask
from symsharing.train import fit_many, one_thread

__all__ = ["ls_excess_risk", "ls_train_mse", "ls_train_test_gap", "invariant_excess_risk",
           "exchange_rate", "approximate_excess_risk", "predicted_crossover",
           "LinearMap", "InvariantLinearMap", "least_squares",
           "invariant_least_squares", "LR_PHASES", "linear_sizes", "train_linear", "linear_calibration",
           "LINEAR_COLUMNS", "write_linear_results", "least_squares_draws", "approximate_symmetry_draws",
           "measured_crossovers", "formula_excess_risk", "calibration_summary", "pooled_calibration"]


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


def invariant_least_squares(X: torch.Tensor, y: torch.Tensor, group: PermutationGroup) -> torch.Tensor:
    """Least squares over maps constant on the point orbits of ``group``; ``w`` ``[d]``."""
    orbit = group.orbit_index()
    P = torch.zeros(group.n, len(group.orbits()), dtype=torch.float64)
    P[torch.arange(group.n), orbit] = 1.0  # (d, k): orbit indicators
    return P @ least_squares(X.double() @ P, y)


# --- Calibration: the three bias-free linear families trained by the study's engine ---------------

LR_PHASES = (0.1, 0.03, 0.01, 3e-3, 1e-3, 3e-4, 1e-4)  # full batch Adam, the rate decayed in phases
PHASE_STEPS = 100
LINEAR_FAMILIES = ("unconstrained", "invariant", "augmented")
LINEAR_COLUMNS = ["task", "family", "d", "k", "sigma", "n_train", "seed", "excess_risk", "train_mse",
                  "test_mse", "ls_excess_risk", "distance_to_ls", "steps"]


def linear_sizes(d: int, quick: bool = False) -> tuple[int, ...]:
    """Training-set sizes from ``d + 8`` to ``64 d`` (``2d + 2``, then powers of two times d)."""
    multiples = (16,) if quick else (4, 8, 16, 32, 64)
    return (d + 8, 2 * d + 2) + tuple(m * d for m in multiples)


def train_linear(models, datasets, *, augment_groups=None, seeds=None,
                 phases=LR_PHASES, phase_steps: int = PHASE_STEPS) -> list[dict]:
    """Train with ``fit_many`` (full batch) through ``phases``: one call per learning rate, each
    continuing from the weights the previous one left (Adam's moments restart at each phase).
    Returns the histories of the last phase; the total step count is ``len(phases) * phase_steps``."""
    histories = None
    for lr in phases:
        histories = fit_many(models, datasets, steps=phase_steps, lr=lr, batch_size=None,
                             seeds=seeds, augment_groups=augment_groups)
    return histories


def _calibration_units(units, seeds) -> list[list[dict]]:
    """The rows of each ``(task, n_train)`` of ``units``: every family and seed, all trained in one
    ``train_linear`` call (its stacks run in parallel)."""
    plan = []  # (unit, family, datasets, models)
    for task, n_train in units:
        datasets = [task.sample(n_train, seed) for seed in seeds]
        for family in LINEAR_FAMILIES:
            models = [InvariantLinearMap(task.group) if family == "invariant" else LinearMap(task.d)
                      for _ in seeds]
            plan.append(((task, n_train), family, datasets, models))
    histories = train_linear([m for *_, models in plan for m in models],
                             [d for _, _, datasets, _ in plan for d in datasets],
                             augment_groups=[task.group if family == "augmented" else None
                                             for (task, _), family, _, models in plan for _ in models],
                             seeds=[int(seed) for _ in plan for seed in seeds])
    rows = {unit: [] for unit in units}
    for position, ((task, n_train), family, datasets, models) in enumerate(plan):
        mine = histories[position * len(seeds):(position + 1) * len(seeds)]
        for seed, model, (X, y), history in zip(seeds, models, datasets, mine, strict=True):
            w = model.effective_weight().detach()
            # augmented: with the whole orbit, augmented least squares is the invariant solution
            exact = least_squares(X, y) if family == "unconstrained" \
                else invariant_least_squares(X, y, task.group)
            with torch.no_grad():
                train_mse = float(((X.double() @ w.double() - y[:, 0].double()) ** 2).mean())
            rows[(task, n_train)].append({
                "task": task.name, "family": family, "d": task.d, "k": task.k, "sigma": task.sigma,
                "n_train": n_train, "seed": int(seed), "excess_risk": task.excess_risk(w),
                "train_mse": train_mse, "test_mse": task.test_mse(w),
                "ls_excess_risk": task.excess_risk(exact),
                "distance_to_ls": float(((w.double() - exact) ** 2).sum()),
                "steps": len(LR_PHASES) * PHASE_STEPS, "diverged": bool(history["diverged"])})
    return [rows[unit] for unit in units]


def linear_calibration(quick: bool | None = None, seeds=None) -> pd.DataFrame:
    """One row per trained linear model (``LINEAR_COLUMNS``): every calibration task, family, size
    (``linear_sizes``) and seed (10 seeds, 3 in quick mode); cached per (task, size), and every
    missing (task, size) trained in one ``fit_many`` call per learning-rate phase.

    ``test_mse`` is the population value ``‖ŵ − θ‖² + σ²``; ``ls_excess_risk`` is the excess risk of
    the exact least-squares solution of the same family on the same data (``torch.linalg.lstsq``;
    for ``augmented`` the invariant solution, which augmentation by the whole orbit reaches), and
    ``distance_to_ls`` is ``‖ŵ − w_LS‖²``.
    """
    quick = is_quick() if quick is None else bool(quick)
    seeds = tuple(range(2 if quick else 10)) if seeds is None else tuple(int(s) for s in seeds)
    keys, found = {}, {}
    for task in LINEAR_TASKS.values():
        for n_train in linear_sizes(task.d, quick):
            config = {"unit": "linear-calibration", "task": task.name, "sigma": task.sigma,
                      "n_train": n_train, "seeds": list(seeds), "phases": list(LR_PHASES),
                      "phase_steps": PHASE_STEPS}
            keys[(task, n_train)] = key = cache.cache_key(config, device="cpu", dtype="float32")
            payload = cache.load_entry(cache.entry_path(key, "theory"), key)
            if payload is not None:
                found[(task, n_train)] = payload
    missing = [unit for unit in keys if unit not in found]
    if missing:
        with one_thread():
            for unit, rows in zip(missing, _calibration_units(missing, seeds), strict=True):
                cache.store_entry(cache.entry_path(keys[unit], "theory"), keys[unit], rows)
                found[unit] = rows
    # the columns in one order, whether the rows were computed or read back (JSON sorts keys)
    return pd.DataFrame([row for unit in keys for row in found[unit]], columns=LINEAR_COLUMNS + ["diverged"])


def write_linear_results(path="results/theory-linear.csv", quick: bool | None = None) -> pd.DataFrame:
    """Run (or read from the cache) ``linear_calibration`` and write it to ``path`` (CSV)."""
    frame = linear_calibration(quick)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False)
    return frame


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


def formula_excess_risk(family: str, n, d: int, k: int, sigma: float = 1.0):
    """The closed form a family's excess risk should land on: ``unconstrained`` the dense least
    squares, ``invariant`` and ``augmented`` (whole-orbit augmentation) the invariant one."""
    if family == "unconstrained":
        return ls_excess_risk(n, d, sigma)
    if family in ("invariant", "augmented"):
        return invariant_excess_risk(n, k, sigma)
    raise KeyError(f"unknown linear family {family!r}; known: {', '.join(LINEAR_FAMILIES)}")


def calibration_summary(frame: pd.DataFrame, value: str = "excess_risk") -> pd.DataFrame:
    """Per (task, family, n_train): mean of ``value`` over seeds with its 95 % t interval, the
    formula, the relative deviation ``mean / formula − 1`` and whether the interval holds the
    formula; ``spread`` is the standard deviation over seeds."""
    from symsharing.stats import confidence_interval
    rows = []
    for (task, family, n), part in frame.groupby(["task", "family", "n_train"]):
        mean, low, high = confidence_interval(part[value])
        d, k, sigma = int(part["d"].iloc[0]), int(part["k"].iloc[0]), float(part["sigma"].iloc[0])
        formula = float(formula_excess_risk(family, n, d, k, sigma))
        rows.append({"task": task, "family": family, "n_train": int(n), "d": d, "k": k,
                     "mean": mean, "low": low, "high": high, "formula": formula,
                     "relative_deviation": mean / formula - 1, "within": bool(low <= formula <= high),
                     "spread": float(part[value].std(ddof=1))})
    return pd.DataFrame(rows)


def pooled_calibration(frame: pd.DataFrame) -> pd.DataFrame:
    """Per (task, family): the mean of measured / formula over every seed and size with
    ``n >= 2d + 2`` (finite variance there), its 95 % t interval, and whether it holds 1."""
    from symsharing.stats import confidence_interval
    rows = []
    for (task, family), part in frame[frame["n_train"] >= 2 * frame["d"] + 2].groupby(["task", "family"]):
        ratio = part["excess_risk"] / formula_excess_risk(family, part["n_train"].to_numpy(),
                                                          int(part["d"].iloc[0]), int(part["k"].iloc[0]),
                                                          float(part["sigma"].iloc[0]))
        mean, low, high = confidence_interval(ratio)
        rows.append({"task": task, "family": family, "ratio": mean, "low": low, "high": high,
                     "holds_one": bool(low <= 1 <= high), "runs": len(part)})
    return pd.DataFrame(rows)
