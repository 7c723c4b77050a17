"""The statistics every wing shares: intervals over seeds, paired effects, one-sided p-values, Holm,
crossings of a curve with a level and the exchange rates built on them.

Conventions: an interval is 95 % unless ``level`` says otherwise; seeds are the unit of
replication (two families at one seed share the data and the initial RNG state, so effects are
*paired by seed*); effects are signed so that positive means the first family is better (higher
accuracy, lower MSE, smaller gap). Records are the package's tidy rows (``task, family, seed,
n_train, metric, diverged, ...``); a diverged or collapsed run is counted, never averaged.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import stats

__all__ = ["confidence_interval", "summarize", "sign", "paired_effect", "one_sided_p", "holm",
           "first_crossing", "exchange_rates", "bootstrap_exchange_rates", "usable", "hoeffding_margin"]


def confidence_interval(values, level: float = 0.95) -> tuple[float, float, float]:
    """Mean and Student-t confidence interval ``(mean, low, high)`` over independent seeds.

    NaN values (diverged runs) are dropped; with fewer than two values the interval is NaN.
    """
    if isinstance(level, bool) or not isinstance(level, (int, float)) or not 0 < level < 1:
        raise ValueError(f"level must be a number strictly between 0 and 1, got {level!r}")
    try:
        values = np.asarray(values, dtype=float).reshape(-1)
    except (TypeError, ValueError) as error:
        raise TypeError(f"confidence_interval expects a sequence of numbers, got {values!r}") from error
    values = values[np.isfinite(values)]
    if len(values) == 0:
        return (math.nan, math.nan, math.nan)
    mean = float(values.mean())
    if len(values) < 2:
        return (mean, math.nan, math.nan)
    half = float(stats.t.ppf(0.5 + level / 2, len(values) - 1) * values.std(ddof=1) / len(values) ** 0.5)
    return (mean, mean - half, mean + half)


def usable(frame: pd.DataFrame) -> pd.Series:
    """Rows whose scores may be averaged: neither diverged nor collapsed (where recorded)."""
    keep = pd.Series(True, index=frame.index)
    if "diverged" in frame.columns:
        keep &= ~frame["diverged"].fillna(False).astype(bool)
    if "collapsed" in frame.columns:
        keep &= ~frame["collapsed"].fillna(False).astype(bool)
    return keep


def summarize(frame: pd.DataFrame, by: list[str], value: str = "test_score") -> pd.DataFrame:
    """Mean and 95 % CI of ``value`` per group of ``by``; diverged and collapsed runs are counted
    (``diverged``, ``collapsed``), never averaged."""
    rows = []
    collapsed = frame["collapsed"].fillna(False).astype(bool) if "collapsed" in frame.columns else None
    for keys, group in frame.groupby(by, sort=True):
        keys = keys if isinstance(keys, tuple) else (keys,)
        mean, low, high = confidence_interval(group.loc[usable(group), value])
        rows.append({**dict(zip(by, keys, strict=True)), "mean": mean, "low": low, "high": high,
                     "runs": len(group), "diverged": int(group["diverged"].sum()),
                     "collapsed": int(collapsed.loc[group.index].sum()) if collapsed is not None else 0})
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
    return rows[usable(rows)].set_index("seed")[value].astype(float)


def paired_effect(frame: pd.DataFrame, task: str, better: str, baseline: str, value: str = "test_score",
                  **where) -> tuple[float, float, float]:
    """``sign * (value[better] - value[baseline])`` per seed, on ``task`` and rows matching ``where``;
    returns (mean, low, high). A diverged or collapsed run drops its seed's difference (visible in
    the counts of ``summarize``)."""
    rows = frame[frame["task"] == task]
    if rows.empty:
        raise KeyError(f"no records for task {task!r}")
    direction = sign(rows["metric"].iloc[0], value)
    a, b = _per_seed(rows, better, value, **where), _per_seed(rows, baseline, value, **where)
    return confidence_interval(direction * (a - b).dropna())


def one_sided_p(differences) -> float:
    """One-sided t-test p-value that the mean of paired ``differences`` is > 0 (NaN if < 2 values)."""
    values = np.asarray(differences, dtype=float)
    values = values[~np.isnan(values)]
    if len(values) < 2:
        return math.nan
    if np.all(values == values[0]):
        return 0.0 if values[0] > 0 else 1.0
    return float(stats.ttest_1samp(values, 0.0, alternative="greater").pvalue)


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


def hoeffding_margin(n_samples: int, false_alarm: float = 1e-6, tests: int = 1) -> float:
    """The margin ``t`` by which the mean of ``n_samples`` independent variables in [0, 1] exceeds the
    mean of their expectations with probability at most ``false_alarm / tests`` (Hoeffding 1963:
    ``P(mean - E mean >= t) <= exp(-2 n t^2)``, so ``t = sqrt(ln(tests / false_alarm) / (2 n))``);
    with ``tests`` checks, Bonferroni keeps the chance that any of them fires at most ``false_alarm``."""
    if isinstance(n_samples, bool) or not isinstance(n_samples, (int, np.integer)) or n_samples < 1:
        raise ValueError(f"n_samples must be a positive int, got {n_samples!r}")
    if not 0 < false_alarm < 1:
        raise ValueError(f"false_alarm must lie strictly between 0 and 1, got {false_alarm!r}")
    return math.sqrt(math.log(max(1, int(tests)) / false_alarm) / (2 * int(n_samples)))


def first_crossing(sizes, curve, level: float, *, rising: bool = True, strict: bool = False) -> float:
    """The smallest n at which ``curve`` (one value per size, sizes ascending) reaches ``level``.

    - Reaching: ``curve >= level`` when ``rising``, ``curve <= level`` when falling; with
      ``strict`` the curve must pass the level (``>`` / ``<``), so a tie — two arms both at accuracy
      1, an advantage of exactly 0 — is not a crossing.
    - Between sizes: linear interpolation in log n from the last size short of the level to the
      first that reaches it.
    - A curve that already reaches the level at the smallest size: ``sizes[0]`` (a bound, not a
      measured crossing; a caller that needs the curve to start on the other side checks
      ``curve[0]`` itself).
    - Censored: NaN when the curve never reaches the level inside the sampled sizes. NaN points
      (e.g. every run diverged) never reach it.
    """
    sizes, curve = np.asarray(sizes, dtype=float), np.asarray(curve, dtype=float)
    if sizes.shape != curve.shape or sizes.ndim != 1 or len(sizes) == 0:
        raise ValueError(f"sizes and curve must be 1-D of one length, got shapes {sizes.shape} "
                         f"and {curve.shape}")
    direction = 1.0 if rising else -1.0
    gap = direction * (curve - level)  # >= 0 (or > 0 when strict) once the level is reached
    with np.errstate(invalid="ignore"):
        reached = gap > 0 if strict else gap >= 0
    if not reached.any():
        return math.nan
    i = int(np.argmax(reached))
    if i == 0:
        return float(sizes[0])
    if math.isnan(curve[i - 1]) or curve[i] == level:
        return float(sizes[i])
    fraction = (level - curve[i - 1]) / (curve[i] - curve[i - 1])
    return float(np.exp(np.log(sizes[i - 1]) + fraction * (np.log(sizes[i]) - np.log(sizes[i - 1]))))


def exchange_rates(frame: pd.DataFrame, reference: str = "shared",
                   baselines: tuple[str, ...] = ("mlp", "mlp+aug")) -> pd.DataFrame:
    """Samples a baseline needs to match ``reference`` at each n, from mean learning curves.

    ``rate = n_needed / n`` with ``n_needed = first_crossing`` of the baseline's mean curve with the
    reference's mean score (reaching counts, ties included). Censored (the baseline never reaches
    it inside the sampled sizes): ``n_needed`` NaN and ``rate`` the lower bound ``max(n) / n``
    (``lower_bound``). Reached at the smallest size already: an upper bound (``upper_bound``).
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
                needed = first_crossing(sizes, curve.to_numpy(), goal, rising=larger_better)
                lower = math.isnan(needed)
                rate = sizes[-1] / n if lower else needed / n
                rows.append({"task": task, "baseline": baseline, "n_train": n, "reference_score": goal,
                             "n_needed": needed, "rate": rate, "lower_bound": lower,
                             "upper_bound": (not lower) and needed == sizes[0]})
    return pd.DataFrame(rows)


def bootstrap_exchange_rates(frame: pd.DataFrame, reference: str, baseline: str,
                             n_boot: int = 200, seed: int = 0, level: float = 0.95) -> pd.DataFrame:
    """``exchange_rates`` of ``baseline`` against ``reference`` with a bootstrap interval over seeds
    (resampled with replacement, the same seeds for both families).

    Columns: ``task, baseline, n_train, rate, lower_bound, upper_bound, low, high, censored_share`` —
    ``censored_share`` is the share of bootstrap replicates in which the baseline never reached the
    reference inside the sampled sizes (their rate, a lower bound, enters the interval as is: where
    it is not 0 the interval's upper end is itself a bound).
    """
    frame = frame[frame["family"].isin([reference, baseline])]
    point = exchange_rates(frame, reference=reference, baselines=(baseline,))
    rng = np.random.default_rng(seed)
    rows = []
    for task, per_task in frame.groupby("task"):
        larger_better = per_task["metric"].iloc[0] == "accuracy"
        table = per_task[usable(per_task)].pivot_table(index="seed", columns=["family", "n_train"],
                                                       values="test_score")
        sizes = np.array(sorted(per_task["n_train"].unique()), dtype=float)
        ref = table[reference].reindex(columns=sizes).to_numpy()  # (seeds, sizes)
        base = table[baseline].reindex(columns=sizes).to_numpy()
        draws = rng.integers(0, len(table), size=(n_boot, len(table)))
        rates = np.full((n_boot, len(sizes)), np.nan)
        censored = np.zeros((n_boot, len(sizes)), dtype=bool)
        for b, rows_b in enumerate(draws):
            target, curve = np.nanmean(ref[rows_b], 0), np.nanmean(base[rows_b], 0)
            for i, n in enumerate(sizes):
                needed = first_crossing(sizes, curve, target[i], rising=larger_better)
                censored[b, i] = math.isnan(needed)
                rates[b, i] = (sizes[-1] if censored[b, i] else needed) / n
        for i, n in enumerate(sizes):
            estimate = point[(point["task"] == task) & (point["n_train"] == n)].iloc[0]
            low, high = np.quantile(rates[:, i], [(1 - level) / 2, (1 + level) / 2])
            rows.append({"task": task, "baseline": baseline, "n_train": int(n), "rate": estimate["rate"],
                         "lower_bound": bool(estimate["lower_bound"]),
                         "upper_bound": bool(estimate["upper_bound"]), "low": low, "high": high,
                         "censored_share": float(censored[:, i].mean())})
    return pd.DataFrame(rows)
