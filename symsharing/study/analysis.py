"""From tidy records to the study's answers: CI summaries, paired effects, exchange rates, claims.

Statistics: 95 % Student-t intervals over seeds (``metrics.confidence_interval``). Effects compare
two families *paired by seed* (same data, same initial RNG state), and are signed so that a
positive effect means the first family is better (higher accuracy, lower MSE, smaller gap).
The claims are those of Kim, "An Empirical Study of Symmetry-Induced Parameter Sharing as an
Inductive Bias in Neural Networks"; the verdict rule is ``verdict`` below.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from symsharing.stats import confidence_interval, first_crossing, holm, one_sided_p, paired_effect, sign
from symsharing.study.runner import target_variance

__all__ = ["format_rate", "format_effect",
           "study_seconds", "divergence_table", "verdict",
           "overall_verdict", "claims_table", "controls_table", "ladder_arm",
           "crossover", "crossovers_table", "LADDER_COMPARISONS", "GRID_LADDER_COMPARISONS",
           "PRIMARY_ENDPOINTS", "CLAIM_NAMES",
           "seed_variance_effect", "shared_advantage", "matched_sizes",
           "size_to_reach", "power_law", "power_law_table"]


def format_rate(rate: float, lower_bound: bool, upper_bound: bool = False) -> str:
    """'12×', '> 64×' (never caught up) or '≤ 1×' (caught up at the smallest size)."""
    prefix = "> " if lower_bound else "≤ " if upper_bound else ""
    return f"{prefix}{rate:.3g}×"


def format_effect(effect: tuple[float, float, float], digits: int = 3) -> str:
    """'0.123 [0.045, 0.201]': a mean with its 95 % CI."""
    mean, low, high = effect
    return f"{mean:.{digits}f} [{low:.{digits}f}, {high:.{digits}f}]"


def study_seconds(frame: pd.DataFrame) -> float:
    """Compute time recorded in the records (training + scoring), each run counted once even when
    several experiments share it."""
    keys = ["task", "family", "seed", "n_train", "width", "steps", "lr", "batch_size", "code_hash"]
    return float(frame.drop_duplicates(keys)["seconds"].sum())


def divergence_table(frame: pd.DataFrame) -> pd.DataFrame:
    """Diverged runs out of all runs, per family (rows) and task (columns), e.g. '0 / 10'."""
    counts = frame.groupby(["family", "task"])["diverged"].agg(["sum", "count"])
    text = counts["sum"].astype(int).astype(str) + " / " + counts["count"].astype(str)
    return text.unstack("task").fillna("")


def verdict(low: float, high: float) -> str:
    """'supported' when the CI of the (signed) effect excludes zero on the positive side,
    'contradicted' when it excludes zero on the negative side, else 'not supported'."""
    if low > 0:
        return "supported"
    if high < 0:
        return "contradicted"
    return "not supported"


def overall_verdict(task_verdicts) -> str:
    """Supported on >= 2 tasks: 'supported'; on exactly 1: 'mixed'; else 'not supported'."""
    count = sum(v == "supported" for v in task_verdicts)
    return "supported" if count >= 2 else "mixed" if count == 1 else "not supported"


# The primary endpoint of each claim, fixed before any result (study protocol v2). Every effect is
# shared vs mlp, paired by data seed, signed so that positive is the claimed direction, in
# normalised units (regression: MSE / target variance; classification: accuracy).
PRIMARY_ENDPOINTS = {
    "1a": "orbit-shift advantage: score on the rest of the test orbits (orbit_rest_score), shared "
          "minus mlp, at the middle size of the robustness sweep",
    "1b": "log ratio of the mlp's to the shared model's standard deviation across data seeds (each "
          "data seed's score averaged over initialisation seeds), at the middle size",
    "2": "train-test gap, mlp minus shared, at the middle size of the generalization sweep",
    "3": "mean advantage of shared over mlp over the smaller half of the sample-efficiency sizes "
         "minus that over the larger half",
    "4": "the same contrast over the lower and upper halves of the parameter-efficiency sweep, at "
         "matched parameters",
    "5": "advantage of shared over mlp at matched parameters, averaged over the parameter sweep",
}
CLAIM_NAMES = {"1a": "1a robust to orbit shift", "1b": "1b less seed variance",
               "2": "2 smaller train-test gap", "3": "3 larger gain with little data",
               "4": "4 larger gain at small capacity", "5": "5 beats dense at equal parameters"}


def _scale(frame: pd.DataFrame, task: str) -> float:
    """Divide a task's scores by this to normalise them (target variance for regression, else 1)."""
    return target_variance(task) if frame.loc[frame["task"] == task, "metric"].iloc[0] == "mse" else 1.0


def shared_advantage(frame: pd.DataFrame, task: str, value: str, level_column: str | None = None,
                     levels=None) -> pd.Series:
    """Per data seed: ``sign * (shared - mlp)`` of ``value``, normalised, averaged over ``levels``."""
    rows = frame[frame["task"] == task]
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


def seed_variance_effect(frame: pd.DataFrame, task: str, n_boot: int = 4000, seed: int = 0) -> dict:
    """Claim 1b on the data-seed x init-seed design: variance components per family and the log
    ratio of the mlp's to the shared model's SD across data seeds, with a bootstrap over data seeds
    (95 % percentile interval; one-sided p = share of resamples with a ratio <= 0)."""
    rows = frame[(frame["task"] == task) & ~frame["diverged"]]
    components = {}
    per_data = {}
    rows = rows.assign(replicate=rows.groupby(["family", "data_seed"])["init_seed"].rank(method="dense"))
    for family in ("mlp", "shared"):  # (data seed, k-th initialisation seed of that data seed)
        table = rows[rows["family"] == family].pivot_table(index="data_seed", columns="replicate",
                                                             values="test_score", aggfunc="mean")
        table = table.dropna(axis=0) / _scale(frame, task)
        per_data[family] = table
        with np.errstate(divide="ignore", invalid="ignore"):
            components[family] = {"between_data": float(table.mean(axis=1).var(ddof=1)),
                                  "within_data": float(table.var(axis=1, ddof=1).mean())}
    common = per_data["mlp"].index.intersection(per_data["shared"].index)
    a, b = per_data["mlp"].loc[common].to_numpy(), per_data["shared"].loc[common].to_numpy()

    def log_ratio(index) -> float:
        with np.errstate(divide="ignore", invalid="ignore"):
            return float(np.log(a[index].mean(axis=1).std(ddof=1) / b[index].mean(axis=1).std(ddof=1)))

    if len(common) < 3:  # no spread to resample
        return {"effect": math.nan, "low": math.nan, "high": math.nan, "p": math.nan,
                "p_opposite": math.nan, "components": components, "data_seeds": len(common),
                "init_seeds": a.shape[1]}
    point = log_ratio(np.arange(len(common)))
    generator = np.random.default_rng(seed)
    boot = np.array([log_ratio(generator.integers(len(common), size=len(common))) for _ in range(n_boot)])
    boot = boot[np.isfinite(boot)]
    low, high = np.percentile(boot, [2.5, 97.5]) if len(boot) else (math.nan, math.nan)
    return {"effect": point, "low": float(low), "high": float(high),
            "p": float((boot <= 0).mean()) if len(boot) else math.nan,
            "p_opposite": float((boot >= 0).mean()) if len(boot) else math.nan,
            "components": components, "data_seeds": len(common), "init_seeds": a.shape[1]}


def claims_table(results: dict[str, pd.DataFrame], reference_n: int,
                 seed_variance: pd.DataFrame | None = None, level: float = 0.05) -> pd.DataFrame:
    """The five claims on their pre-declared primary endpoints (``PRIMARY_ENDPOINTS``), per task:
    effect with its 95 % interval, one-sided p-value in the claimed direction, Holm-Bonferroni
    across the three tasks of each claim, and the verdict: *supported* when the Holm-adjusted p is
    <= ``level``, *contradicted* when the opposite one-sided test is, else *not supported*; overall,
    supported on >= 2 tasks: *supported*, on 1: *mixed*.

    ``results`` maps experiment name to records; ``reference_n`` is the middle size of the
    robustness and generalization sweeps; ``seed_variance`` holds the data x init design of claim
    1b (without it, 1b is computed from the robustness records' seeds, where data and init vary
    together).
    """
    sizes = sorted(results["sample-efficiency"]["n_train"].unique())
    small, large = _halves(sizes)
    rows = []
    for code, name in CLAIM_NAMES.items():
        for task in sorted(results["sample-efficiency"]["task"].unique()):
            if code == "1b":
                source = seed_variance if seed_variance is not None else results["robustness"]
                source = source[source["n_train"] == reference_n]
                if "init_seed" not in source or source["init_seed"].nunique() < 2:
                    source = source.assign(init_seed=0)
                found = seed_variance_effect(source, task)
                rows.append({"claim": name, "task": task, "effect": found["effect"], "low": found["low"],
                             "high": found["high"], "p": found["p"], "p_opposite": found["p_opposite"]})
                continue
            if code == "1a":
                frame = results["robustness"]
                value = "orbit_rest_score" if "orbit_rest_score" in frame else "test_score_transformed"
                differences = shared_advantage(frame, task, value, "n_train", [reference_n])
            elif code == "2":
                differences = shared_advantage(results["generalization"], task, "generalization_gap",
                                               "n_train", [reference_n])
            elif code == "3":
                frame = results["sample-efficiency"]
                differences = (shared_advantage(frame, task, "test_score", "n_train", small)
                               - shared_advantage(frame, task, "test_score", "n_train", large))
            else:
                rows_task = matched_sizes(results["parameter-efficiency"], task)
                indices = sorted(rows_task.loc[rows_task["family"] == "shared", "size_index"].unique())
                if code == "4":
                    lower, upper = _halves(indices)
                    differences = (shared_advantage(rows_task, task, "test_score", "size_index", lower)
                                   - shared_advantage(rows_task, task, "test_score", "size_index", upper))
                else:
                    differences = shared_advantage(rows_task, task, "test_score", "size_index", indices)
            differences = differences.dropna()
            mean, low, high = confidence_interval(differences)
            rows.append({"claim": name, "task": task, "effect": mean, "low": low, "high": high,
                         "p": one_sided_p(differences), "p_opposite": one_sided_p(-differences)})
    table = pd.DataFrame(rows)
    table["p_holm"] = table.groupby("claim")["p"].transform(lambda p: holm(p.to_numpy()))
    table["p_opposite_holm"] = table.groupby("claim")["p_opposite"].transform(lambda p: holm(p.to_numpy()))
    table["verdict"] = np.where(table["p_holm"] <= level, "supported",
                                np.where(table["p_opposite_holm"] <= level, "contradicted", "not supported"))
    table["overall"] = table.groupby("claim")["verdict"].transform(overall_verdict)
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


def ladder_arm(frame: pd.DataFrame) -> pd.Series:
    """Each record's arm in the symmetry ladder: the tying group's name, or the family (``mlp``)."""
    return frame["group"].where(frame["family"].str.startswith("shared") & (frame["group"].fillna("") != ""),
                                frame["family"])


def _ladder_task_rows(frame: pd.DataFrame, arms) -> pd.DataFrame:
    """The rows of the one task whose ladder holds every arm of ``arms`` (a group names its task's
    ladder; ``mlp`` is on every task), so that curves never mix tasks."""
    if "task" not in frame.columns or frame["task"].nunique() <= 1:
        return frame
    arm = ladder_arm(frame)
    tasks = [task for task in dict.fromkeys(frame["task"])
             if all(bool((arm[frame["task"] == task] == name).any()) for name in arms)]
    if len(tasks) > 1:
        raise ValueError(f"arms {list(arms)} occur on several tasks ({', '.join(tasks)}); "
                         "pass the rows of one task")
    return frame[frame["task"] == tasks[0]] if tasks else frame


def _arm_curves(frame: pd.DataFrame, arm: str, value: str) -> pd.DataFrame:
    rows = frame[ladder_arm(frame) == arm]
    return rows.pivot_table(index="seed", columns="n_train", values=value, aggfunc="mean")  # (seed, n)


def _advantage_ends(sizes: np.ndarray, advantage: np.ndarray) -> float:
    """Where a positive advantage at the smallest size first falls strictly below 0 (a tie, such as
    both arms at accuracy 1, is not a crossover); NaN if it is not positive at the smallest size or
    never falls below 0 in range (``stats.first_crossing``)."""
    if not advantage[0] > 0:
        return math.nan
    return first_crossing(sizes, advantage, 0.0, rising=False, strict=True)


def crossover(frame: pd.DataFrame, larger: str, smaller: str, value: str = "test_score",
              n_boot: int = 2000, seed: int = 0) -> dict:
    """Where the ``larger`` arm (a bigger tying group, or sharing vs ``mlp``) stops beating ``smaller``.

    The crossover is the first size, interpolated in log n, at which the mean advantage of
    ``larger`` (positive at the smallest size) falls to zero or below; its 95 % interval comes from
    resampling seeds (paired: both arms share each seed's data). Also returned: the one-sided
    p-values that ``larger`` wins at the smallest size and loses at the largest, and their maximum,
    the p-value of "a crossover exists in range" (an intersection–union test). A frame with several
    tasks is reduced to the task whose ladder holds both arms (``task`` in the result).
    """
    frame = _ladder_task_rows(frame, (larger, smaller))
    a, b = _arm_curves(frame, larger, value), _arm_curves(frame, smaller, value)
    if a.empty or b.empty:
        raise KeyError(f"no records for arm {larger if a.empty else smaller!r} in the ladder")
    seeds = a.index.intersection(b.index)
    metric = frame["metric"].iloc[0]
    advantage = sign(metric, value) * (a.loc[seeds] - b.loc[seeds])  # (seed, n)
    sizes = advantage.columns.to_numpy(dtype=float)
    point = _advantage_ends(sizes, advantage.mean().to_numpy())
    generator = np.random.default_rng(seed)
    boot = np.array([_advantage_ends(sizes, advantage.iloc[generator.integers(len(seeds), size=len(seeds))]
                                    .mean().to_numpy()) for _ in range(n_boot)])
    found = ~np.isnan(boot)
    low, high = (np.percentile(boot[found], [2.5, 97.5]) if found.any() else (math.nan, math.nan))
    p_small = one_sided_p(advantage.iloc[:, 0])
    p_large = one_sided_p(-advantage.iloc[:, -1])
    task = frame["task"].iloc[0] if "task" in frame.columns else ""
    return {"task": task, "smallest_n": int(sizes[0]), "larger": larger, "smaller": smaller,
            "crossover_n": point, "low": float(low),
            "high": float(high),
            "share_of_resamples_with_crossover": float(found.mean()),
            "advantage_smallest": float(advantage.iloc[:, 0].mean()),
            "advantage_largest": float(advantage.iloc[:, -1].mean()),
            "p_wins_small": p_small, "p_loses_large": p_large, "p_crossover": max(p_small, p_large)}


LADDER_COMPARISONS = (("D16", "C16"), ("D16", "mlp"), ("S16", "mlp"), ("C16", "mlp"), ("C16", "C8"))
# the one-sided grid variant's ladder, C2 ⊂ C4 ⊂ D4 (its own family of tests)
GRID_LADDER_COMPARISONS = (("D4", "C4"), ("D4", "mlp"), ("C4", "mlp"), ("C4", "C2"))


def crossovers_table(frame: pd.DataFrame, comparisons=LADDER_COMPARISONS,
                     level: float = 0.05) -> pd.DataFrame:
    """``crossover`` for each pair of ``comparisons`` (each on the task whose ladder holds it), with
    Holm-adjusted p-values across them (a secondary family of tests) and a readable finding per row."""
    rows = pd.DataFrame([crossover(frame, larger, smaller) for larger, smaller in comparisons])
    rows["p_holm"] = holm(rows["p_crossover"])

    def finding(row) -> str:
        if math.isnan(row["crossover_n"]):
            return "no crossover in range" + ("" if row["advantage_smallest"] > 0 else
                                              f" ({row['larger']} does not win at n = {row['smallest_n']})")
        interval = f"[{row['low']:.0f}, {row['high']:.0f}]"
        significant = "significant" if row["p_holm"] <= level else "not significant"
        return f"n ≈ {row['crossover_n']:.0f} {interval}, {significant} (Holm)"

    rows["finding"] = rows.apply(finding, axis=1)
    return rows


def size_to_reach(frame: pd.DataFrame, x: str, target: float, value: str = "test_score") -> dict[str, float]:
    """Per family, the smallest ``x`` (interpolated in log x on the mean curve) at which the mean of
    ``value`` reaches ``target``; NaN when it never does inside the sweep. One task's records."""
    larger_better = frame["metric"].iloc[0] == "accuracy"
    found = {}
    for family, rows in frame.groupby("family", sort=False):
        curve = rows.loc[~rows["diverged"]].groupby(x)[value].mean().sort_index()
        found[family] = first_crossing(curve.index.to_numpy(dtype=float), curve.to_numpy(), target,
                                       rising=larger_better)
    return found



def _fit_power_law(n: np.ndarray, err: np.ndarray) -> tuple[float, float, float]:
    """Least-squares ``err = a * n**-b + c`` (``a, b, c >= 0``); for each ``b`` on a grid the
    best ``a, c`` are linear (clipped at zero), then ``b`` is refined by a bounded scalar search."""
    from scipy.optimize import minimize_scalar

    def solve(b: float) -> tuple[float, float, float]:
        design = np.column_stack([n ** -b, np.ones_like(n)])
        (a, c), *_ = np.linalg.lstsq(design, err, rcond=None)
        a, c = max(a, 0.0), max(c, 0.0)
        if a == 0.0 or c == 0.0:  # refit the one free term with the other at zero
            a = max(float(np.dot(n ** -b, err - c) / np.dot(n ** -b, n ** -b)), 0.0)
            c = max(float(np.mean(err - a * n ** -b)), 0.0)
        return a, c, float(np.sum((a * n ** -b + c - err) ** 2))

    grid = np.linspace(0.01, 3.0, 60)
    start = grid[int(np.argmin([solve(b)[2] for b in grid]))]
    best = minimize_scalar(lambda b: solve(b)[2], bounds=(max(start - 0.05, 1e-3), start + 0.05),
                           method="bounded")
    b = float(best.x)
    a, c, _ = solve(b)
    return a, b, c


def power_law(sizes, errors, n_boot: int = 500, seed: int = 0, level: float = 0.95) -> dict:
    """Fit ``err(n) = a * n**(-b) + c`` (Hestness et al. 2017) to per-seed errors at each size.

    ``sizes`` and ``errors`` are equal-length sequences (one entry per seed and size; errors are
    normalised MSE or 1 - accuracy). Intervals on ``b`` and ``c`` are percentile bootstraps that
    resample seeds within each size. Returns ``a, b, c, b_low, b_high, c_low, c_high``.
    """
    n, err = np.asarray(sizes, dtype=float), np.asarray(errors, dtype=float)
    if n.shape != err.shape or n.ndim != 1:
        raise ValueError(f"sizes and errors must be 1-d of equal length, got {n.shape} and {err.shape}")
    if len(np.unique(n)) < 3 or np.any(n <= 0):
        raise ValueError(f"power_law needs at least 3 distinct positive sizes, got {sorted(set(n))}")
    keep = np.isfinite(err)
    n, err = n[keep], err[keep]
    a, b, c = _fit_power_law(n, err)
    rng = np.random.default_rng(seed)
    groups = [np.flatnonzero(n == size) for size in np.unique(n)]
    draws = []
    for _ in range(n_boot):
        index = np.concatenate([rng.choice(g, size=len(g)) for g in groups])
        draws.append(_fit_power_law(n[index], err[index]))
    draws = np.asarray(draws)
    tail = (1 - level) / 2 * 100
    (b_low, c_low), (b_high, c_high) = np.percentile(draws[:, 1:], [tail, 100 - tail], axis=0)
    return {"a": a, "b": b, "c": c, "b_low": float(b_low), "b_high": float(b_high),
            "c_low": float(c_low), "c_high": float(c_high)}


def power_law_table(frame: pd.DataFrame, value: str = "normalised_score", n_boot: int = 500) -> pd.DataFrame:
    """``power_law`` per (task, family) of a size sweep; the error is ``value`` for regression and
    ``1 - value`` for accuracy. Families with fewer than 3 sizes are skipped."""
    rows = []
    for (task, family), part in frame.groupby(["task", "family"], sort=False):
        if part["n_train"].nunique() < 3:
            continue
        error = part[value] if part["metric"].iloc[0] != "accuracy" else 1 - part[value]
        fit = power_law(part["n_train"].to_numpy(), error.to_numpy(), n_boot=n_boot)
        rows.append({"task": task, "family": family, **fit})
    return pd.DataFrame(rows, columns=["task", "family", "a", "b", "c", "b_low", "b_high", "c_low", "c_high"])
