"""From tidy records to the study's summaries: failures, crossovers of the symmetry ladder, samples
to reach a score, power laws, and the formatting of effects and rates.

Statistics come from ``symsharing.stats`` (intervals over seeds, paired effects, Holm, crossings);
the claims' tests are in ``claims``.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from symsharing.stats import first_crossing, holm, one_sided_p, sign, usable

__all__ = ["format_rate", "format_effect", "study_seconds", "ladder_arm",
           "crossover", "crossovers_table", "LADDER_COMPARISONS", "GRID_LADDER_COMPARISONS", "size_to_reach",
           "power_law", "power_law_table", "collapse_table"]


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


def collapse_table(frame: pd.DataFrame) -> pd.DataFrame:
    """Failed runs per task and family, long format: ``runs``, ``diverged`` (loss not finite),
    ``collapsed`` (constant output: ``metrics.is_collapsed``) and their share of the runs."""
    failed = frame.assign(collapsed=frame["collapsed"].fillna(False).astype(bool) if "collapsed" in frame
                          else False, diverged=frame["diverged"].astype(bool))
    table = failed.groupby(["task", "family"]).agg(runs=("diverged", "size"), diverged=("diverged", "sum"),
                                                  collapsed=("collapsed", "sum")).reset_index()
    table["failed share"] = (table["diverged"] + table["collapsed"]) / table["runs"]
    return table


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
    for (task, family), part in frame[usable(frame)].groupby(["task", "family"], sort=False):
        if part["n_train"].nunique() < 3:
            continue
        error = part[value] if part["metric"].iloc[0] != "accuracy" else 1 - part[value]
        fit = power_law(part["n_train"].to_numpy(), error.to_numpy(), n_boot=n_boot)
        rows.append({"task": task, "family": family, **fit})
    return pd.DataFrame(rows, columns=["task", "family", "a", "b", "c", "b_low", "b_high", "c_low", "c_high"])
