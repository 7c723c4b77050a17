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
from scipy import stats

from .metrics import confidence_interval

__all__ = ["summarize", "sign", "paired_effect", "exchange_rates", "format_rate", "format_effect",
           "study_seconds", "divergence_table", "capacity_effect", "seed_spread", "verdict",
           "overall_verdict", "claims_table", "controls_table", "holm", "one_sided_p", "ladder_arm",
           "crossover", "crossovers_table", "LADDER_COMPARISONS"]


def summarize(frame: pd.DataFrame, by: list[str], value: str = "test_score") -> pd.DataFrame:
    """Mean and 95 % CI of ``value`` per group of ``by``; diverged runs counted, never averaged."""
    rows = []
    for keys, group in frame.groupby(by, sort=True):
        keys = keys if isinstance(keys, tuple) else (keys,)
        mean, low, high = confidence_interval(group.loc[~group["diverged"], value])
        rows.append({**dict(zip(by, keys, strict=True)), "mean": mean, "low": low, "high": high,
                     "runs": len(group), "diverged": int(group["diverged"].sum())})
    return pd.DataFrame(rows)


def sign(metric: str, value: str = "test_score") -> float:
    """+1 where larger is better (accuracy scores), -1 where smaller is better (MSE, gaps, errors)."""
    if value in ("generalization_gap", "invariance_error", "train_loss"):
        return -1.0
    return 1.0 if metric == "accuracy" else -1.0


def _per_seed(frame: pd.DataFrame, family: str, value: str, **where) -> pd.Series:
    rows = frame[frame["family"] == family]
    for column, wanted in where.items():
        rows = rows[rows[column] == wanted]
    return rows.set_index("seed")[value].astype(float)


def paired_effect(frame: pd.DataFrame, task: str, better: str, baseline: str, value: str = "test_score",
                  **where) -> tuple[float, float, float]:
    """``sign * (value[better] - value[baseline])`` per seed, on ``task`` and rows matching ``where``;
    returns (mean, low, high). A diverged run makes its seed's difference NaN (dropped, and visible
    in the diverged counts)."""
    rows = frame[frame["task"] == task]
    if rows.empty:
        raise KeyError(f"no records for task {task!r}")
    direction = sign(rows["metric"].iloc[0], value)
    a, b = _per_seed(rows, better, value, **where), _per_seed(rows, baseline, value, **where)
    return confidence_interval(direction * (a - b).dropna())


def seed_spread(frame: pd.DataFrame, task: str, family: str, baseline: str, value: str = "test_score",
                level: float = 0.95, **where) -> tuple[float, float, float]:
    """``log(std[baseline] / std[family])`` over seeds with its F-test interval: positive when
    ``family`` varies less across seeds than ``baseline``."""
    rows = frame[frame["task"] == task]
    a = _per_seed(rows, family, value, **where).dropna()
    b = _per_seed(rows, baseline, value, **where).dropna()
    if len(a) < 2 or len(b) < 2 or a.var(ddof=1) == 0 or b.var(ddof=1) == 0:
        return (math.nan, math.nan, math.nan)
    ratio = b.var(ddof=1) / a.var(ddof=1)  # F(len(b) - 1, len(a) - 1) under equal variances
    low = ratio / stats.f.ppf(0.5 + level / 2, len(b) - 1, len(a) - 1)
    high = ratio / stats.f.ppf(0.5 - level / 2, len(b) - 1, len(a) - 1)
    return (0.5 * math.log(ratio), 0.5 * math.log(low), 0.5 * math.log(high))


def _crossing(sizes: np.ndarray, curve: np.ndarray, target: float, larger_better: bool) -> float:
    """Smallest n (interpolated linearly in log n) where ``curve`` first reaches ``target``; NaN if never."""
    reached = curve >= target if larger_better else curve <= target
    if not reached.any():
        return math.nan
    i = int(np.argmax(reached))
    if i == 0:
        return float(sizes[0])
    fraction = (target - curve[i - 1]) / (curve[i] - curve[i - 1])
    return float(np.exp(np.log(sizes[i - 1]) + fraction * (np.log(sizes[i]) - np.log(sizes[i - 1]))))


def exchange_rates(frame: pd.DataFrame, reference: str = "shared",
                   baselines: tuple[str, ...] = ("mlp", "mlp+aug")) -> pd.DataFrame:
    """Samples a baseline needs to match ``reference`` at each n, from mean learning curves.

    ``rate = n_needed / n``; where the baseline never reaches the reference's score inside the
    sampled sizes, ``n_needed`` is NaN and ``rate`` is the lower bound ``max(n) / n``
    (``lower_bound`` True). Where the baseline already matches at the smallest size, the rate is
    an upper bound (``upper_bound`` True).
    """
    means = summarize(frame, ["task", "family", "n_train"])
    rows = []
    for task, per_task in means.groupby("task"):
        larger_better = frame.loc[frame["task"] == task, "metric"].iloc[0] == "accuracy"
        target = per_task[per_task["family"] == reference].set_index("n_train")["mean"]
        for baseline in baselines:
            curve = per_task[per_task["family"] == baseline].set_index("n_train")["mean"].sort_index()
            sizes = curve.index.to_numpy(dtype=float)
            for n, goal in target.items():
                needed = _crossing(sizes, curve.to_numpy(), goal, larger_better)
                lower = math.isnan(needed)
                rate = sizes[-1] / n if lower else needed / n
                rows.append({"task": task, "baseline": baseline, "n_train": n, "reference_score": goal,
                             "n_needed": needed, "rate": rate, "lower_bound": lower,
                             "upper_bound": (not lower) and needed == sizes[0]})
    return pd.DataFrame(rows)


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


def claims_table(results: dict[str, pd.DataFrame], reference_n: int) -> pd.DataFrame:
    """The five claims, per task: effect (mean, CI) of shared vs mlp, and the verdict.

    ``results`` maps experiment name to its records; ``reference_n`` is the training-set size at
    which the single-size claims (1, 2) are measured.
    """
    sizes = sorted(results["sample-efficiency"]["n_train"].unique())
    widths_frame = results["parameter-efficiency"]
    claims = [
        ("1a robust to g.x", "robustness", "test_score_transformed", {"n_train": reference_n}),
        ("1b less seed variance", "robustness", "seed-spread", {"n_train": reference_n}),
        ("2 smaller train-test gap", "generalization", "generalization_gap", {"n_train": reference_n}),
        ("3 larger gain with little data", "sample-efficiency", "size-contrast", {}),
        ("4 larger gain at small capacity", "parameter-efficiency", "width-contrast", {}),
        ("5 beats dense at equal parameters", "parameter-efficiency", "matched", {}),
    ]
    rows = []
    for claim, experiment, value, where in claims:
        frame = results[experiment]
        for task in sorted(frame["task"].unique()):
            if value == "seed-spread":
                effect = seed_spread(frame, task, "shared", "mlp", **where)
            elif value == "size-contrast":
                effect = _contrast(frame, task, "n_train", sizes[0], sizes[-1])
            elif value in ("width-contrast", "matched"):
                effect = capacity_effect(widths_frame, task, contrast=value == "width-contrast")
            else:
                effect = paired_effect(frame, task, "shared", "mlp", value, **where)
            rows.append({"claim": claim, "task": task, "effect": effect[0], "low": effect[1],
                         "high": effect[2], "verdict": verdict(effect[1], effect[2])})
    table = pd.DataFrame(rows)
    table["overall"] = table.groupby("claim")["verdict"].transform(overall_verdict)
    return table


def _advantage_by_seed(frame: pd.DataFrame, task: str, column: str, level) -> pd.Series:
    rows = frame[(frame["task"] == task) & (frame[column] == level)]
    direction = sign(rows["metric"].iloc[0])
    return direction * (_per_seed(rows, "shared", "test_score") - _per_seed(rows, "mlp", "test_score"))


def _contrast(frame: pd.DataFrame, task: str, column: str, small, large) -> tuple[float, float, float]:
    """Advantage of shared over mlp at ``small`` minus at ``large``, paired by seed."""
    difference = (_advantage_by_seed(frame, task, column, small)
                  - _advantage_by_seed(frame, task, column, large))
    return confidence_interval(difference.dropna())


def capacity_effect(frame: pd.DataFrame, task: str, contrast: bool) -> tuple[float, float, float]:
    """Parameter-efficiency sweep, size index k = k-th smallest shared model. ``contrast``: the
    advantage at the smallest size minus at the largest; else the advantage averaged over sizes
    (the dense MLP there has the same number of free parameters, to the nearest width)."""
    rows = frame[frame["task"] == task].copy()
    shared_widths = sorted(rows.loc[rows["family"] == "shared", "width"].unique())
    dense_widths = sorted(rows.loc[rows["family"] == "mlp", "width"].unique())
    rows["size_index"] = -1
    for family, widths in (("shared", shared_widths), ("mlp", dense_widths)):
        selected = rows["family"] == family
        rows.loc[selected, "size_index"] = rows.loc[selected, "width"].map(
            {w: i for i, w in enumerate(widths)})
    if contrast:
        return _contrast(rows, task, "size_index", 0, len(shared_widths) - 1)
    advantages = pd.concat([_advantage_by_seed(rows, task, "size_index", i)
                            for i in range(len(shared_widths))], axis=1)
    return confidence_interval(advantages.mean(axis=1).dropna())


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


def holm(p_values) -> np.ndarray:
    """Holm–Bonferroni adjusted p-values (same order as given; NaN stays NaN): reject at level a
    where the adjusted value is <= a, with the family-wise error rate controlled at a."""
    p = np.asarray(p_values, dtype=float)
    adjusted = np.full_like(p, np.nan)
    finite = np.flatnonzero(~np.isnan(p))
    order = finite[np.argsort(p[finite], kind="stable")]
    running = 0.0
    for rank, index in enumerate(order):
        running = max(running, min(1.0, (len(order) - rank) * p[index]))
        adjusted[index] = running
    return adjusted


def one_sided_p(differences) -> float:
    """One-sided t-test p-value that the mean of paired ``differences`` is > 0 (NaN if < 2 values)."""
    values = np.asarray(differences, dtype=float)
    values = values[~np.isnan(values)]
    if len(values) < 2:
        return math.nan
    if np.all(values == values[0]):
        return 0.0 if values[0] > 0 else 1.0
    return float(stats.ttest_1samp(values, 0.0, alternative="greater").pvalue)


def ladder_arm(frame: pd.DataFrame) -> pd.Series:
    """Each record's arm in the symmetry ladder: the tying group's name, or the family (``mlp``)."""
    return frame["group"].where(frame["family"].str.startswith("shared") & (frame["group"].fillna("") != ""),
                                frame["family"])


def _arm_curves(frame: pd.DataFrame, arm: str, value: str) -> pd.DataFrame:
    rows = frame[ladder_arm(frame) == arm]
    return rows.pivot_table(index="seed", columns="n_train", values=value, aggfunc="mean")  # (seed, n)


def _crossing_size(sizes: np.ndarray, advantage: np.ndarray) -> float:
    """First n (log-interpolated) where a positive advantage at the smallest size turns <= 0; NaN if
    it never does, or if it is not positive at the smallest size."""
    if not advantage[0] > 0:
        return math.nan
    below = np.flatnonzero(advantage <= 0)
    if len(below) == 0:
        return math.nan
    i = int(below[0])
    fraction = advantage[i - 1] / (advantage[i - 1] - advantage[i])
    return float(np.exp(np.log(sizes[i - 1]) + fraction * (np.log(sizes[i]) - np.log(sizes[i - 1]))))


def crossover(frame: pd.DataFrame, larger: str, smaller: str, value: str = "test_score",
              n_boot: int = 2000, seed: int = 0) -> dict:
    """Where the ``larger`` arm (a bigger tying group, or sharing vs ``mlp``) stops beating ``smaller``.

    The crossover is the first size, interpolated in log n, at which the mean advantage of
    ``larger`` (positive at the smallest size) falls to zero or below; its 95 % interval comes from
    resampling seeds (paired: both arms share each seed's data). Also returned: the one-sided
    p-values that ``larger`` wins at the smallest size and loses at the largest, and their maximum,
    the p-value of "a crossover exists in range" (an intersection–union test).
    """
    a, b = _arm_curves(frame, larger, value), _arm_curves(frame, smaller, value)
    if a.empty or b.empty:
        raise KeyError(f"no records for arm {larger if a.empty else smaller!r} in the ladder")
    seeds = a.index.intersection(b.index)
    metric = frame["metric"].iloc[0]
    advantage = sign(metric, value) * (a.loc[seeds] - b.loc[seeds])  # (seed, n)
    sizes = advantage.columns.to_numpy(dtype=float)
    point = _crossing_size(sizes, advantage.mean().to_numpy())
    generator = np.random.default_rng(seed)
    boot = np.array([_crossing_size(sizes, advantage.iloc[generator.integers(len(seeds), size=len(seeds))]
                                    .mean().to_numpy()) for _ in range(n_boot)])
    found = ~np.isnan(boot)
    low, high = (np.percentile(boot[found], [2.5, 97.5]) if found.any() else (math.nan, math.nan))
    p_small = one_sided_p(advantage.iloc[:, 0])
    p_large = one_sided_p(-advantage.iloc[:, -1])
    return {"larger": larger, "smaller": smaller, "crossover_n": point, "low": float(low),
            "high": float(high),
            "share_of_resamples_with_crossover": float(found.mean()),
            "advantage_smallest": float(advantage.iloc[:, 0].mean()),
            "advantage_largest": float(advantage.iloc[:, -1].mean()),
            "p_wins_small": p_small, "p_loses_large": p_large, "p_crossover": max(p_small, p_large)}


LADDER_COMPARISONS = (("D16", "C16"), ("D16", "mlp"), ("S16", "mlp"), ("C16", "mlp"), ("C16", "C8"))


def crossovers_table(frame: pd.DataFrame, comparisons=LADDER_COMPARISONS,
                     level: float = 0.05) -> pd.DataFrame:
    """``crossover`` for each pair of ``comparisons``, with Holm-adjusted p-values across them (a
    secondary family of tests) and a readable finding per row."""
    rows = pd.DataFrame([crossover(frame, larger, smaller) for larger, smaller in comparisons])
    rows["p_holm"] = holm(rows["p_crossover"])
    sizes = sorted(frame["n_train"].unique())

    def finding(row) -> str:
        if math.isnan(row["crossover_n"]):
            return "no crossover in range" + ("" if row["advantage_smallest"] > 0 else
                                              f" ({row['larger']} does not win at n = {sizes[0]})")
        interval = f"[{row['low']:.0f}, {row['high']:.0f}]"
        significant = "significant" if row["p_holm"] <= level else "not significant"
        return f"n ≈ {row['crossover_n']:.0f} {interval}, {significant} (Holm)"

    rows["finding"] = rows.apply(finding, axis=1)
    return rows
