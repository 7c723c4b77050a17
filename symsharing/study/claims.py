"""The study's claims on pre-declared primary endpoints: effects, one-sided tests, Holm across every
primary test, and verdicts that say on which tasks a claim holds.

The claims are those of Kim, "An Empirical Study of Symmetry-Induced Parameter Sharing as an
Inductive Bias in Neural Networks". Every effect is ``shared`` against ``mlp``, paired by data
seed and signed so that positive is the claimed direction, in normalised units (regression: MSE /
target variance; classification: accuracy). Diverged and collapsed runs drop their seed
(``stats.usable``); the counts are reported beside every table.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from symsharing.stats import (
    confidence_interval,
    first_crossing,
    holm,
    one_sided_p,
    paired_effect,
    sign,
    usable,
)
from symsharing.study.runner import target_variance

__all__ = ["PRIMARY_ENDPOINTS", "CLAIM_NAMES", "verdict", "overall_verdict", "shared_advantage",
           "matched_sizes", "seed_variance_effect", "rate_trend", "claims_table", "controls_table"]

# The primary endpoint of each claim, fixed before any result (study protocol v3).
PRIMARY_ENDPOINTS = {
    "1a": "orbit-shift advantage: score on the rest of the test orbits (orbit_rest_score), shared "
          "minus mlp, at the middle size of the robustness sweep",
    "1b": "log ratio of the mlp's to the shared model's coefficient of variation of the test error "
          "across data seeds (each data seed's error averaged over initialisation seeds; one test set "
          "for every seed, so test sampling adds no spread), at the middle size",
    "2": "train-test gap, mlp minus shared, at the middle size of the generalization sweep",
    "3": "trend of the exchange rate (samples the mlp needs to match shared at n, divided by n) "
         "against n: minus the slope of log rate on log n over every size where the rate is measured "
         "(censored sizes, where the mlp never catches up, are left out of the fit, never used as values)",
    "4": "width x family interaction: shared minus mlp at matched parameters over the smaller half of "
         "the parameter sweep minus over the larger half, averaged over the sweep's training sizes",
    "5": "advantage of shared over mlp at matched parameters, averaged over the parameter sweep and "
         "its training sizes",
}
CLAIM_NAMES = {"1a": "1a robust to orbit shift", "1b": "1b less seed variance",
               "2": "2 smaller train-test gap", "3": "3 larger gain with little data",
               "4": "4 larger gain at small capacity", "5": "5 beats dense at equal parameters"}
VERDICTS = ("supported", "contradicted", "not supported", "undecided")


def verdict(low: float, high: float) -> str:
    """'supported' when the CI of the (signed) effect excludes zero on the positive side,
    'contradicted' when it excludes zero on the negative side, else 'not supported'."""
    if low > 0:
        return "supported"
    if high < 0:
        return "contradicted"
    return "not supported"


def overall_verdict(task_verdicts: dict[str, str]) -> str:
    """What happened on each task, in words: 'supported on all 3 tasks', or e.g. 'contradicted on 2
    of 3 tasks (grid, ring); supported on set' — a tally, never a label that hides a contradiction."""
    by_verdict = {v: sorted(t for t, found in task_verdicts.items() if found == v) for v in VERDICTS}
    total = len(task_verdicts)
    parts = []
    for name, tasks in by_verdict.items():
        if not tasks:
            continue
        if len(tasks) == total:
            return f"{name} on all {total} tasks" if total > 1 else f"{name} on {tasks[0]}"
        parts.append(f"{name} on {len(tasks)} of {total} tasks ({', '.join(tasks)})" if len(tasks) > 1
                     else f"{name} on {tasks[0]}")
    return "; ".join(parts)


def _scale(frame: pd.DataFrame, task: str) -> float:
    """Divide a task's scores by this to normalise them (target variance for regression, else 1)."""
    return target_variance(task) if frame.loc[frame["task"] == task, "metric"].iloc[0] == "mse" else 1.0


def shared_advantage(frame: pd.DataFrame, task: str, value: str, level_column: str | None = None,
                     levels=None) -> pd.Series:
    """Per data seed: ``sign * (shared - mlp)`` of ``value``, normalised, averaged over ``levels``."""
    rows = frame[(frame["task"] == task)]
    rows = rows[usable(rows)]
    if level_column is not None:
        rows = rows[rows[level_column].isin(levels)]
    direction = sign(rows["metric"].iloc[0], value)
    per = rows.groupby(["family", "seed"])[value].mean().unstack("family")
    return direction * (per["shared"] - per["mlp"]) / _scale(frame, task)


def _halves(levels) -> tuple[list, list]:
    levels = sorted(levels)
    half = len(levels) // 2
    return levels[:half], levels[len(levels) - half:]


def matched_sizes(frame: pd.DataFrame, task: str) -> pd.DataFrame:
    """Parameter sweep rows of ``task`` with ``size_index``: k for the k-th smallest shared model and
    for the dense model matched to it."""
    rows = frame[frame["task"] == task].copy()
    rows["size_index"] = -1
    for family in ("shared", "mlp"):
        widths = sorted(rows.loc[rows["family"] == family, "width"].unique())
        selected = rows["family"] == family
        rows.loc[selected, "size_index"] = rows.loc[selected, "width"].map(
            {width: index for index, width in enumerate(widths)})
    return rows


def _bootstrap(point: float, replicates: np.ndarray) -> dict:
    """95 % percentile interval and one-sided bootstrap p-values (share of replicates <= 0, >= 0)."""
    replicates = replicates[np.isfinite(replicates)]
    if not math.isfinite(point) or len(replicates) == 0:
        return {"effect": point, "low": math.nan, "high": math.nan, "p": math.nan, "p_opposite": math.nan}
    low, high = np.percentile(replicates, [2.5, 97.5])
    return {"effect": point, "low": float(low), "high": float(high),
            "p": float((replicates <= 0).mean()), "p_opposite": float((replicates >= 0).mean())}


def seed_variance_effect(frame: pd.DataFrame, task: str, n_boot: int = 4000, seed: int = 0) -> dict:
    """Claim 1b on the data-seed x init-seed design: variance components per family (with the mean
    error they are relative to) and the log
    ratio of the mlp's to the shared model's coefficient of variation of the error (1 - accuracy, or
    normalised MSE) across data seeds, each data seed's error averaged over its initialisation
    seeds; scale-free, so a family that errs more is not called less stable for that alone.
    Bootstrap over data seeds (95 % percentile interval; one-sided p = share of resamples <= 0)."""
    rows = frame[(frame["task"] == task)]
    rows = rows[usable(rows)]
    components, per_data = {}, {}
    rows = rows.assign(replicate=rows.groupby(["family", "data_seed"])["init_seed"].rank(method="dense"))
    accuracy = rows["metric"].iloc[0] == "accuracy" if len(rows) else True
    for family in ("mlp", "shared"):  # (data seed, k-th initialisation seed of that data seed)
        table = rows[rows["family"] == family].pivot_table(index="data_seed", columns="replicate",
                                                             values="test_score", aggfunc="mean")
        table = (1 - table if accuracy else table / _scale(frame, task)).dropna(axis=0)  # errors
        per_data[family] = table
        with np.errstate(divide="ignore", invalid="ignore"):
            components[family] = {"between_data": float(table.mean(axis=1).var(ddof=1)),
                                  "within_data": float(table.var(axis=1, ddof=1).mean()),
                                  "mean_error": float(table.mean(axis=1).mean())}
    common = per_data["mlp"].index.intersection(per_data["shared"].index)
    a, b = per_data["mlp"].loc[common].to_numpy(), per_data["shared"].loc[common].to_numpy()

    def log_ratio(index) -> float:
        errors_a, errors_b = a[index].mean(axis=1), b[index].mean(axis=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            variation_a = errors_a.std(ddof=1) / errors_a.mean()
            return float(np.log(variation_a / (errors_b.std(ddof=1) / errors_b.mean())))

    extra = {"components": components, "data_seeds": len(common),
             "init_seeds": a.shape[1] if a.ndim == 2 else 0}
    if len(common) < 3:  # no spread to resample
        return {**_bootstrap(math.nan, np.array([])), **extra}
    generator = np.random.default_rng(seed)
    boot = np.array([log_ratio(generator.integers(len(common), size=len(common))) for _ in range(n_boot)])
    return {**_bootstrap(log_ratio(np.arange(len(common))), boot), **extra}


def _rates(sizes: np.ndarray, reference: np.ndarray, baseline: np.ndarray, larger_better: bool) -> np.ndarray:
    """Exchange rate at each size from mean curves; NaN where censored (never caught up) or where
    the baseline already matches at the smallest size (an upper bound)."""
    rates = np.full(len(sizes), np.nan)
    for i, goal in enumerate(reference):
        needed = first_crossing(sizes, baseline, goal, rising=larger_better)
        if math.isfinite(needed) and needed > sizes[0]:
            rates[i] = needed / sizes[i]
    return rates


def _slope(sizes: np.ndarray, rates: np.ndarray, used: np.ndarray) -> float:
    keep = used & np.isfinite(rates)
    if keep.sum() < 2:
        return math.nan
    return float(np.polyfit(np.log(sizes[keep]), np.log(rates[keep]), 1)[0])


def rate_trend(frame: pd.DataFrame, task: str, reference: str = "shared", baseline: str = "mlp",
               n_boot: int = 4000, seed: int = 0) -> dict:
    """Claim 3: minus the slope of log(exchange rate) on log n (positive: the rate falls with n, the
    gain is larger with little data), over the sizes where the point estimate's rate is measured
    (neither censored nor an upper bound; at least 3, else NaN), with a bootstrap over seeds in which
    a replicate's censored sizes leave its fit (a bound is never used as a value)."""
    rows = frame[(frame["task"] == task) & frame["family"].isin([reference, baseline])]
    rows = rows[usable(rows)]
    larger_better = rows["metric"].iloc[0] == "accuracy"
    table = rows.pivot_table(index="seed", columns=["family", "n_train"], values="test_score")
    sizes = np.array(sorted(rows["n_train"].unique()), dtype=float)
    ref = table[reference].reindex(columns=sizes).to_numpy()  # (seeds, sizes)
    base = table[baseline].reindex(columns=sizes).to_numpy()
    rates = _rates(sizes, np.nanmean(ref, 0), np.nanmean(base, 0), larger_better)
    used = np.isfinite(rates)
    extra = {"sizes_used": int(used.sum()), "rates": rates.tolist()}
    if used.sum() < 3:
        return {**_bootstrap(math.nan, np.array([])), **extra}
    generator = np.random.default_rng(seed)
    boot = []
    for _ in range(n_boot):
        index = generator.integers(len(table), size=len(table))
        boot.append(-_slope(sizes, _rates(sizes, np.nanmean(ref[index], 0), np.nanmean(base[index], 0),
                                          larger_better), used))
    return {**_bootstrap(-_slope(sizes, rates, used), np.array(boot)), **extra}


def _t_effect(differences: pd.Series) -> dict:
    differences = differences.dropna()
    mean, low, high = confidence_interval(differences)
    return {"effect": mean, "low": low, "high": high, "p": one_sided_p(differences),
            "p_opposite": one_sided_p(-differences)}


def _claim(code: str, results: dict[str, pd.DataFrame], task: str, reference_n: int,
           seed_variance: pd.DataFrame | None) -> dict:
    if code == "1b":
        source = seed_variance if seed_variance is not None else results["robustness"]
        source = source[source["n_train"] == reference_n]
        if "init_seed" not in source or source["init_seed"].nunique() < 2:
            source = source.assign(init_seed=0)
        found = seed_variance_effect(source, task)
        return {k: found[k] for k in ("effect", "low", "high", "p", "p_opposite")}
    if code == "3":
        found = rate_trend(results["sample-efficiency"], task)
        return {k: found[k] for k in ("effect", "low", "high", "p", "p_opposite")}
    if code == "1a":
        frame = results["robustness"]
        value = "orbit_rest_score" if "orbit_rest_score" in frame else "test_score_transformed"
        return _t_effect(shared_advantage(frame, task, value, "n_train", [reference_n]))
    if code == "2":
        return _t_effect(shared_advantage(results["generalization"], task, "generalization_gap",
                                          "n_train", [reference_n]))
    sweep = results["parameter-efficiency"]
    per_size = []
    for n_train in sorted(sweep["n_train"].unique()):
        rows_task = matched_sizes(sweep[sweep["n_train"] == n_train], task)
        indices = sorted(rows_task.loc[rows_task["family"] == "shared", "size_index"].unique())
        if code == "4":
            lower, upper = _halves(indices)
            per_size.append(shared_advantage(rows_task, task, "test_score", "size_index", lower)
                            - shared_advantage(rows_task, task, "test_score", "size_index", upper))
        else:
            per_size.append(shared_advantage(rows_task, task, "test_score", "size_index", indices))
    return _t_effect(pd.concat(per_size, axis=1).mean(axis=1))


def claims_table(results: dict[str, pd.DataFrame], reference_n: int,
                 seed_variance: pd.DataFrame | None = None, level: float = 0.05) -> pd.DataFrame:
    """Every claim on its pre-declared primary endpoint (``PRIMARY_ENDPOINTS``), per task: effect
    with its 95 % interval, one-sided p-value in the claimed direction and in the opposite one,
    both Holm-adjusted across *all* primary tests together (claims x tasks), and the verdict:
    *supported* when the adjusted p is <= ``level``, *contradicted* when the opposite one is,
    *undecided* when the endpoint cannot be computed (e.g. every rate censored), else *not
    supported*; ``overall`` tallies the tasks (``overall_verdict``).

    ``results`` maps experiment name to records; ``reference_n`` is the middle size of the
    robustness and generalization sweeps; ``seed_variance`` holds the data x init design of claim
    1b (without it, 1b is computed from the robustness records' seeds, where data and init vary
    together).
    """
    tasks = sorted(results["sample-efficiency"]["task"].unique())
    rows = [{"claim": name, "task": task, **_claim(code, results, task, reference_n, seed_variance)}
            for code, name in CLAIM_NAMES.items() for task in tasks]
    table = pd.DataFrame(rows)
    table["p_holm"] = holm(table["p"].to_numpy())
    table["p_opposite_holm"] = holm(table["p_opposite"].to_numpy())
    table["verdict"] = np.where(table["effect"].isna(), "undecided",
                                np.where(table["p_holm"] <= level, "supported",
                                         np.where(table["p_opposite_holm"] <= level, "contradicted",
                                                  "not supported")))
    overall = {claim: overall_verdict(dict(zip(part["task"], part["verdict"], strict=True)))
               for claim, part in table.groupby("claim")}
    table["overall"] = table["claim"].map(overall)
    return table


def controls_table(frame: pd.DataFrame, reference_n: int) -> pd.DataFrame:
    """What the controls show at ``reference_n``: each control family vs ``shared`` and vs ``mlp``."""
    rows = []
    for task in sorted(frame["task"].unique()):
        present = set(frame.loc[frame["task"] == task, "family"])
        for family in ("mlp+aug", "mlp+aug+avg", "shared-sub", "shared-wrong"):
            if family not in present:
                continue
            for baseline in ("mlp", "shared"):
                mean, low, high = paired_effect(frame, task, family, baseline, n_train=reference_n)
                rows.append({"task": task, "family": family, "versus": baseline, "effect": mean,
                             "low": low, "high": high, "verdict": verdict(low, high)})
    return pd.DataFrame(rows)
