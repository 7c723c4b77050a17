"""The calibration: the study's training code on the linear closed forms of
``symsharing.theory.linear``, measured so that an interval can say "on the closed form" or "off it".

Three bias-free linear families (``unconstrained``, ``invariant``, ``augmented``) are trained by the
study's engine (``fit_many``, full batch, Adam in phases of decaying learning rate) on the linear
calibration tasks. A trained model's excess risk ``‖ŵ − θ‖²`` splits into the excess risk of its
family's least-squares solution on the same data, ``‖w_LS − θ‖²``, and the optimisation residual,
reported as ``distance_to_ls = ‖ŵ − w_LS‖²``: the excess risk of the difference (isotropic inputs),
so in the units of the excess, the invariant model's weights expanded to the d inputs. By
Cauchy–Schwarz ``|‖ŵ − θ‖ − ‖w_LS − θ‖| ≤ ‖ŵ − w_LS‖``: a residual small beside the excess leaves
the excess that of least squares.

The least-squares part is measured by its average over the noise given the inputs
(``linear.noise_averaged_excess_risk``, ``σ² Σ_j m_j [(ZᵀZ)⁻¹]_jj``), whose mean over the inputs is
the closed form ``σ² k/(n − k − 1)`` (k = d unconstrained). By Rao–Blackwell it has the smaller
variance: at k = 1 a run's realised excess is ``σ² χ²₁ / χ²_n``-like (relative SD about √2), its
noise average ``σ² / χ²_n`` (relative SD ``√(2/(n − 4))``). It needs no training, so it is drawn
for many seeds (``noise_averaged_records``); only the residual needs trained models
(``linear_calibration``).

Augmentation by the whole orbit turns least squares into the invariant solution (the augmented
normal matrix ``Σ_g gᵀXᵀXg`` commutes with the group, so its unique solution is invariant, and
projected on the invariant subspace the augmented equations are the invariant ones). Training with
one random element per sample and step is a stochastic gradient of that objective and reaches it
only in the limit of a vanishing learning rate: the augmented family's least-squares part has the
invariant expectation, and its residual is measured (``distance_to_ls`` to the invariant solution),
not predicted.

Training sets of different sizes are independent draws (``LinearTask.sample(..., nested=False)``);
intervals are percentile bootstrap over seeds. References: Elesedy & Zaidi, "Provably strict
generalisation benefit for equivariant models" (ICML 2021) for the closed forms; the Rao–Blackwell
theorem (Lehmann & Casella, "Theory of Point Estimation", 2nd ed., 1998, thm. 1.7.8).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import torch

from symsharing._checks import check_int, check_seeds
from symsharing.engine import cache
from symsharing.settings import is_quick
from symsharing.stats import confidence_interval, usable
from symsharing.tasks import LINEAR_TASKS, LinearTask
from symsharing.theory.linear import (
    LINEAR_FAMILIES,
    InvariantLinearMap,
    LinearMap,
    formula_excess_risk,
    invariant_least_squares,
    least_squares,
    noise_averaged_excess_risk,
)
from symsharing.train import fit_many, one_thread

__all__ = ["LR_PHASES", "PHASE_STEPS", "LINEAR_COLUMNS", "TRAINED_SEEDS", "NOISE_AVERAGED_SEEDS",
           "linear_sizes", "train_linear", "linear_calibration", "write_linear_results",
           "noise_averaged_records", "calibration_summary", "pooled_calibration", "residual_summary"]

LR_PHASES = (0.1, 0.03, 0.01, 3e-3, 1e-3, 3e-4, 1e-4)  # full batch Adam, the rate decayed in phases
PHASE_STEPS = 100
LINEAR_COLUMNS = ["task", "family", "d", "k", "sigma", "n_train", "seed", "excess_risk", "train_mse",
                  "test_mse", "expected_excess_risk", "ls_excess_risk", "distance_to_ls", "steps"]
# seeds (full, quick): trained models need only a few (their residual is what they measure); the
# noise-averaged estimate needs no training, and these many put its pooled interval well inside ±10 %
TRAINED_SEEDS = {False: 5, True: 2}
NOISE_AVERAGED_SEEDS = {False: 100, True: 40}
VERDICTS = ("on the closed form", "off it")


def linear_sizes(d: int, quick: bool = False) -> tuple[int, ...]:
    """Training-set sizes from ``d + 8`` to ``64 d`` (``2d + 2``, then powers of two times d)."""
    multiples = (16,) if quick else (4, 8, 16, 32, 64)
    return (d + 8, 2 * d + 2) + tuple(m * d for m in multiples)


def _sample(task: LinearTask, n_train: int, seed: int, dtype=torch.float32):
    return task.sample(n_train, seed, dtype, nested=False)  # independent across sizes


def _family_solution(task: LinearTask, family: str, X, y):
    """The family's least-squares solution ``[d]`` and its tying group (None: unconstrained)."""
    if family == "unconstrained":
        return least_squares(X, y), None
    return invariant_least_squares(X, y, task.group), task.group  # augmented: the whole-orbit limit


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
        datasets = [_sample(task, n_train, seed) for seed in seeds]
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
            w = model.effective_weight().detach().double()  # (d,): the invariant model expanded
            exact, group = _family_solution(task, family, X, y)
            train_mse = float(((X.double() @ w - y[:, 0].double()) ** 2).mean())
            rows[(task, n_train)].append({
                "task": task.name, "family": family, "d": task.d, "k": task.k, "sigma": task.sigma,
                "n_train": n_train, "seed": int(seed), "excess_risk": task.excess_risk(w),
                "train_mse": train_mse, "test_mse": task.test_mse(w),
                "expected_excess_risk": noise_averaged_excess_risk(X, task.sigma, group),
                "ls_excess_risk": task.excess_risk(exact),
                "distance_to_ls": float(((w - exact) ** 2).sum()),
                "steps": len(LR_PHASES) * PHASE_STEPS, "diverged": bool(history["diverged"])})
    return [rows[unit] for unit in units]


def _seeds(seeds, count: int) -> tuple[int, ...]:
    seeds = check_seeds(count if seeds is None else seeds)
    if min(seeds) < 0 or len(seeds) < 2 or len(set(seeds)) != len(seeds):
        raise ValueError(f"seeds must hold at least two distinct seeds >= 0, got {seeds}")
    return seeds


def linear_calibration(quick: bool | None = None, seeds=None) -> pd.DataFrame:
    """One row per trained linear model (``LINEAR_COLUMNS`` and ``diverged``): every calibration
    task, family, size (``linear_sizes``) and seed (``TRAINED_SEEDS``); cached per (task, size),
    and every missing (task, size) trained in one ``fit_many`` call per learning-rate phase.

    ``excess_risk`` is the trained model's ``‖ŵ − θ‖²`` and ``test_mse`` its population value
    ``‖ŵ − θ‖² + σ²``; ``ls_excess_risk`` is the excess risk of the family's exact least-squares
    solution on the same data (``torch.linalg.lstsq``; for ``augmented`` the invariant solution,
    its whole-orbit limit), ``expected_excess_risk`` that solution's excess averaged over the noise
    (``noise_averaged_excess_risk`` of the run's inputs), and ``distance_to_ls`` the residual
    ``‖ŵ − w_LS‖²``.
    """
    quick = is_quick() if quick is None else bool(quick)
    seeds = _seeds(seeds, TRAINED_SEEDS[quick])
    keys, found = {}, {}
    for task in LINEAR_TASKS.values():
        for n_train in linear_sizes(task.d, quick):
            config = {"unit": "linear-calibration", "task": task.name, "sigma": task.sigma,
                      "n_train": n_train, "seeds": list(seeds), "phases": list(LR_PHASES),
                      "phase_steps": PHASE_STEPS, "nested": False}
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


def _noise_averaged_task(name: str, sizes: list[int], seeds: list[int]) -> list[dict]:
    """``noise_averaged_records`` of one task (a worker's call)."""
    task, rows = LINEAR_TASKS[name], []
    for n_train in sizes:
        for seed in seeds:
            X, y = _sample(task, n_train, seed, torch.float64)
            for family in ("unconstrained", "invariant"):
                exact, group = _family_solution(task, family, X, y)
                rows.append({"task": name, "family": family, "d": task.d, "k": task.k,
                             "sigma": task.sigma, "n_train": n_train, "seed": seed,
                             "expected_excess_risk": noise_averaged_excess_risk(X, task.sigma, group),
                             "ls_excess_risk": task.excess_risk(exact)})
    return rows


def noise_averaged_records(quick: bool | None = None, seeds=None) -> pd.DataFrame:
    """The least-squares part without training: per task, family (``unconstrained``,
    ``invariant``; ``augmented`` shares the invariant one), size (``linear_sizes``) and seed
    (``NOISE_AVERAGED_SEEDS``; the first ones are the trained seeds, on the same inputs), the
    noise-averaged excess ``expected_excess_risk`` and the realised ``ls_excess_risk`` of the exact
    least-squares solution, in float64; cached per task, the tasks computed in the worker pool."""
    quick = is_quick() if quick is None else bool(quick)
    seeds = _seeds(seeds, NOISE_AVERAGED_SEEDS[quick])
    entries = []
    for task in LINEAR_TASKS.values():
        sizes = list(linear_sizes(task.d, quick))
        config = {"unit": "noise-averaged", "task": task.name, "sigma": task.sigma, "sizes": sizes,
                  "seeds": list(seeds), "nested": False}
        entries.append((cache.cache_key(config, device="cpu", dtype="float64"), _noise_averaged_task,
                        (task.name, sizes, list(seeds))))
    return pd.DataFrame([row for rows in cache.cached_calls(entries, namespace="theory") for row in rows])


def _formula(frame: pd.DataFrame) -> np.ndarray:
    columns = (frame[c] for c in ("family", "n_train", "d", "k", "sigma"))
    return np.array([formula_excess_risk(*row) for row in zip(*columns, strict=True)], dtype=float)


def _check_value(frame: pd.DataFrame, value: str) -> None:
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"frame must be a pandas DataFrame, got {type(frame).__name__}")
    if value not in frame.columns:
        raise KeyError(f"no column {value!r} in the frame; columns: {', '.join(map(str, frame.columns))}")


def calibration_summary(frame: pd.DataFrame, value: str = "excess_risk") -> pd.DataFrame:
    """Per (task, family, n_train): mean of ``value`` over seeds with its 95 % t interval, the
    formula, the relative deviation ``mean / formula − 1`` and whether the interval holds the
    formula; ``spread`` is the standard deviation over seeds. Diverged runs are left out."""
    _check_value(frame, value)
    if "diverged" in frame.columns:
        frame = frame[usable(frame)]
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


def pooled_calibration(frame: pd.DataFrame, value: str = "expected_excess_risk", n_boot: int = 2000,
                       seed: int = 0, level: float = 0.95) -> pd.DataFrame:
    """Per (task, family): ``ratio``, the mean over every seed and size of ``value`` over its closed
    form (``formula_excess_risk``), with a percentile bootstrap interval over seeds (a seed's values
    at every size are resampled together; ``n_boot`` replicates from ``seed``). ``half_width`` is
    the interval's larger side relative to the ratio; ``verdict`` is "on the closed form" when the
    interval holds 1, else "off it". Diverged runs are left out (counted in ``runs``)."""
    _check_value(frame, value)
    n_boot, seed = check_int(n_boot, "n_boot", minimum=1), check_int(seed, "seed", minimum=0)
    if isinstance(level, bool) or not isinstance(level, (int, float)) or not 0 < level < 1:
        raise ValueError(f"level must be a number strictly between 0 and 1, got {level!r}")
    rng = np.random.default_rng(seed)
    kept = frame[usable(frame)] if "diverged" in frame.columns else frame
    kept = kept.assign(ratio=kept[value].to_numpy(dtype=float) / _formula(kept))
    rows = []
    for (task, family), part in kept.groupby(["task", "family"]):
        if part.duplicated(["seed", "n_train"]).any():
            raise ValueError(f"{task} {family}: more than one run per (seed, n_train)")
        table = part.pivot(index="seed", columns="n_train", values="ratio").to_numpy()  # (seeds, sizes)
        if len(table) < 2 or np.isnan(table).any():
            raise ValueError(f"{task} {family}: pooled_calibration needs at least two seeds, each "
                             f"with every size; got {len(table)} seeds and missing cells")
        draws = table[rng.integers(0, len(table), (n_boot, len(table)))].mean(axis=(1, 2))  # (n_boot,)
        ratio = float(table.mean())
        low, high = np.quantile(draws, [(1 - level) / 2, (1 + level) / 2])
        rows.append({"task": task, "family": family, "ratio": ratio, "low": float(low), "high": float(high),
                     "half_width": float(max(ratio - low, high - ratio) / ratio),
                     "holds_one": bool(low <= 1 <= high), "verdict": VERDICTS[not low <= 1 <= high],
                     "seeds": len(table), "sizes": table.shape[1],
                     "runs": int(((frame["task"] == task) & (frame["family"] == family)).sum())})
    return pd.DataFrame(rows)


def residual_summary(frame: pd.DataFrame) -> pd.DataFrame:
    """Per (task, family) of trained runs: the optimisation residual ``distance_to_ls`` beside the
    excess risk, as the median and largest share ``distance_to_ls / excess_risk`` over runs and the
    share of the summed excess (``pooled_share``); the trained excess over that of least squares on
    the same data, summed over runs (``excess_over_ls``), and its largest relative gap per run
    (``max_excess_gap``, ``|excess_risk − ls_excess_risk| / ls_excess_risk``)."""
    for column in ("excess_risk", "ls_excess_risk", "distance_to_ls"):
        _check_value(frame, column)
    rows = []
    for (task, family), part in frame.groupby(["task", "family"]):
        share = part["distance_to_ls"] / part["excess_risk"]
        rows.append({"task": task, "family": family, "median_share": float(share.median()),
                     "max_share": float(share.max()),
                     "pooled_share": float(part["distance_to_ls"].sum() / part["excess_risk"].sum()),
                     "excess_over_ls": float(part["excess_risk"].sum() / part["ls_excess_risk"].sum()),
                     "max_excess_gap": float(((part["excess_risk"] - part["ls_excess_risk"]).abs()
                                              / part["ls_excess_risk"]).max()),
                     "runs": len(part)})
    return pd.DataFrame(rows)
