# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Sample efficiency
#
# **Question.** How many samples is a task's symmetry worth? If the model whose weights are tied by
# the task's group reaches a score with n samples, how many does the MLP need to reach it — the
# *exchange rate* — and does the advantage shrink as data grow, as claim 3 of the main study
# {cite}`kim2025sharing` says ("sharing helps most when data are limited")?
#
# **Answer.** {glue:text}`se_answer_rates` {glue:text}`se_answer_trend`
# {glue:text}`se_answer_failures`

# %% tags=["remove-cell"]
import numpy as np
import pandas as pd
from IPython.display import Markdown, display
from myst_nb import glue

from symsharing.figures import plots
from symsharing.figures.captions import by_side
from symsharing.figures.provenance import provenance_markdown
from symsharing.metrics import COLLAPSE_SHARE
from symsharing.registry import run_experiment
from symsharing.stats import bootstrap_exchange_rates, confidence_interval, paired_effect, usable
from symsharing.study.analysis import collapse_table, power_law_table
from symsharing.study.axes import learning_rates, sample_efficiency
from symsharing.study.claims import rate_trend, verdict
from symsharing.study.config import config_for
from symsharing.study.runner import write_results
from symsharing.tasks import get_task

plots.book_style()
config = config_for("sample-efficiency")
records = sample_efficiency()
write_results("sample-efficiency", records)
sizes = sorted(config.n_trains)
orders = {task: get_task(task).group.order() for task in config.tasks}
BASELINES = ("mlp", "mlp+aug", "mlp+aug+avg")


def rate_text(row) -> str:
    """A rate with its bootstrap interval; a censored rate (the baseline never caught up) is a bound."""
    if row["lower_bound"]:
        return f"> {row['rate']:.3g}× (censored)"
    if row["upper_bound"]:
        return f"≤ {row['rate']:.3g}×"
    high = f"> {row['high']:.3g}" if row["censored_share"] > 0 else f"{row['high']:.3g}"
    return f"{row['rate']:.3g}× [{row['low']:.3g}, {high}]"


rates = pd.concat([bootstrap_exchange_rates(records, "shared", baseline, n_boot=1000) for baseline in BASELINES],
                  ignore_index=True)
rates["exchange rate [95% CI]"] = rates.apply(rate_text, axis=1)
trend = pd.DataFrame([{"task": task, **rate_trend(records, task)} for task in config.tasks])
failures = collapse_table(records)

# %% tags=["remove-cell"]
headline_n = 64 if 64 in sizes else sizes[1]
at_headline = rates[(rates["n_train"] == headline_n) & (rates["baseline"] == "mlp")].set_index("task")
glue("se_answer_rates", "Given n = {} samples, the tied model's test score costs the MLP {} as many samples "
     "(95 % bootstrap intervals over seeds).".format(
         headline_n, ", ".join(f"{at_headline.loc[t, 'exchange rate [95% CI]']} on the {t} task "
                               f"(|G| = {orders[t]:,})" for t in config.tasks)), display=False)
words = {"supported": "falls with n (the gain is larger with little data)",
         "contradicted": "rises with n (the gain in samples grows with the data)",
         "not supported": "shows no clear trend"}
trend["reading"] = [words[verdict(lo, hi)] if np.isfinite(e) else "cannot be fitted (too many censored sizes)"
                    for e, lo, hi in zip(trend["effect"], trend["low"], trend["high"], strict=True)]
glue("se_answer_trend", "Measured in samples, the exchange rate " + "; ".join(
    f"{r.reading} on the {r.task} task (minus the log-log slope {r.effect:.2f} [{r.low:.2f}, {r.high:.2f}])"
    if np.isfinite(r.effect) else f"{r.reading} on the {r.task} task" for r in trend.itertuples()) + ".",
    display=False)
failed = failures[["diverged", "collapsed"]].sum()
glue("se_answer_failures", f"Of {failures['runs'].sum():,} trained models, {int(failed['collapsed'])} collapsed to a "
     f"constant output and {int(failed['diverged'])} diverged; none is averaged into any score.", display=False)

# %% tags=["hide-input"]
figure = plots.plot_curves(records, value="normalised_score")
glue("fig_se_curves", figure, display=False)
LEADS = {"above": "the tied model is ahead of the MLP", "below": "the tied model is behind the MLP",
         "zero": "the paired interval holds 0", "none": "there is no interval (too few usable seeds)"}
ends = {n: {t: paired_effect(records, t, "shared", "mlp", "normalised_score", n_train=n) for t in config.tasks}
        for n in (sizes[0], sizes[-1])}
glue("se_curves_caption", " ".join(f"At n = {n:,} {by_side(e, LEADS)}." for n, e in ends.items()), display=False)

# %% [markdown]
# ```{glue:figure} fig_se_curves
# :name: fig-se-curves
#
# {glue:text}`se_curves_caption` (Normalised score, shared minus MLP paired by seed, signed so that
# positive favours sharing.) Normalised test score against training-set size per family: accuracy
# (ring, grid; higher is better) and MSE divided by the target variance (set; lower is better);
# means over seeds with 95 % t-interval bands; collapsed and diverged runs left out.
# ```
#
# ## The exchange rate
#
# For each task and size n, the shared model's mean score is the target; the baseline's mean
# learning curve, interpolated linearly in log n, gives the smallest n' at which it reaches it
# (`stats.first_crossing`), and the exchange rate is n' / n. Where the baseline never reaches it
# inside the sampled sizes the rate is censored — a lower bound "> max(n) / n", drawn as an open
# triangle and never compared as a value. Intervals resample seeds (1,000 bootstrap replicates); an
# upper end marked ">" comes from replicates that were themselves censored.

# %% tags=["hide-input"]
figure = plots.plot_exchange_rates(rates[rates["baseline"] != "mlp+aug+avg"], orders)
glue("fig_exchange", figure, display=False)
long = rates[["task", "baseline", "n_train", "exchange rate [95% CI]"]].rename(
    columns={"baseline": "baseline matched to shared", "n_train": "n"})
glue("tab_exchange", plots.table(long), display=False)


def censoring(baseline: str) -> str:
    """How many rates against ``baseline`` are bounds, and the range of the measured ones."""
    part = rates[rates["baseline"] == baseline]
    text = f"{int(part['lower_bound'].sum())} of the {len(part)} exchange rates are censored"
    if part["upper_bound"].any():
        text += f", {int(part['upper_bound'].sum())} matched already at the smallest size"
    measured = part[~part["lower_bound"] & ~part["upper_bound"]].sort_values("rate")
    found = [f"{r['exchange rate [95% CI]']} ({r['task']}, n = {r['n_train']:,})" for _, r in measured.iterrows()]
    if len(found) == 1:
        return f"{text}; the one measured is {found[0]}"
    return f"{text}; measured, they run from {found[0]} to {found[-1]}" if found else text


glue("se_exchange_caption", f"Against the MLP, {censoring('mlp')}. Against the augmented MLP, {censoring('mlp+aug')}.",
     display=False)

# %% [markdown]
# ```{glue:figure} fig_exchange
# :name: fig-exchange
#
# {glue:text}`se_exchange_caption` Samples the MLP (grey) or the augmented MLP (blue) needs to match
# the shared model given n samples, divided by n; open triangles: censored (the baseline never
# caught up inside the sampled sizes: a lower bound); the dashed line is |G|.
# ```
#
# ```{glue:figure} tab_exchange
# :name: tab-exchange
#
# Every exchange rate with its 95 % bootstrap interval, against the MLP, the augmented MLP and the
# augmented MLP averaged over its orbit at test time ("> k×": censored; "≤ k×": matched already at
# the smallest size).
# ```
#
# **Claim 3 in samples.** The primary endpoint of claim 3 (see the discussion) is the trend of the
# exchange rate against n: minus the slope of log rate on log n, fitted over the sizes where the
# rate is measured (censored sizes are left out of the fit, never used as values); positive means
# the rate falls with n.

# %% tags=["hide-input"]
trend_table = pd.DataFrame({"task": trend["task"], "sizes in the fit": trend["sizes_used"],
                            "minus slope [95% CI]": [f"{e:.2f} [{lo:.2f}, {hi:.2f}]" if np.isfinite(e) else "—"
                                                     for e, lo, hi in zip(trend["effect"], trend["low"],
                                                                          trend["high"], strict=True)],
                            "reading": trend["reading"]})
glue("tab_rate_trend", plots.table(trend_table), display=False)
laws = power_law_table(records)
laws = laws[laws["family"].isin(["mlp", "mlp+aug", "shared"])]
glue("tab_power_laws", plots.table(pd.DataFrame({
    "task": laws["task"], "family": laws["family"],
    "exponent b [95% CI]": [f"{b:.2f} [{lo:.2f}, {hi:.2f}]" for b, lo, hi in zip(laws["b"], laws["b_low"], laws["b_high"],
                                                                              strict=True)],
    "floor c [95% CI]": [f"{c:.3f} [{lo:.3f}, {hi:.3f}]" for c, lo, hi in zip(laws["c"], laws["c_low"], laws["c_high"],
                                                                           strict=True)]})), display=False)

# %% [markdown]
# ```{glue:figure} tab_rate_trend
# :name: tab-rate-trend
#
# The trend of the exchange rate (shared against the MLP) with n, per task: the sizes where it is
# measured, minus its log-log slope with a 95 % bootstrap interval over seeds, and what that says.
# ```
#
# ```{glue:figure} tab_power_laws
# :name: tab-power-laws
#
# Learning curves as power laws, error(n) = a n^(−b) + c, fitted per task and family (error: 1 −
# accuracy, or normalised MSE), with bootstrap intervals over seeds: b is how fast the error falls
# with n, c the floor it falls to.
# ```
#
# ## Protocol, and whether it is fair to every family
#
# Every family on the three tasks at {glue:text}`se_n_sizes` log-spaced sizes from
# {glue:text}`se_smallest` to {glue:text}`se_largest`, with the same data and initial RNG state for
# every model at a seed. So that no verdict is decided by the protocol rather than by the models,
# every family gets the same treatment: budgets that grow with the data, a learning rate tuned per
# size bucket by one rule, failures recorded and never averaged.

# %% tags=["hide-input"]
display(Markdown(config.training.describe()))
display(Markdown(provenance_markdown(config.seeds)))
rates_table = learning_rates()
write_results("learning-rates", rates_table)
steps = {n: config.training.run_steps(n) for n in sizes}
glue("se_n_sizes", str(len(sizes)), display=False)
glue("se_smallest", str(sizes[0]), display=False)
glue("se_largest", f"{sizes[-1]:,}", display=False)
glue("se_steps_small", f"{steps[sizes[0]]:,}", display=False)
glue("se_steps_large", f"{steps[sizes[-1]]:,}", display=False)
glue("se_samples_large", f"{steps[sizes[-1]] * config.training.batch_size:,}", display=False)
glue("se_lr_inside", f"{1 - rates_table['lr_at_edge'].mean():.0%}", display=False)
glue("se_lr_rows", f"{len(rates_table)}", display=False)
widths = records.groupby(["task", "family", "n_train"])["width"].first().unstack("n_train")
glue("tab_se_widths", plots.table(widths.reset_index(), formats={n: "{:d}" for n in widths.columns}), display=False)
factors = config.training.width_factors
glue("se_width_rule", "the default width of each family" if factors == (1,) else
     "of " + ", ".join(f"{f}×" for f in factors) + " the default, the one whose tuned rate validated best "
     "(a wider width's rate is searched from around the default width's)",
     display=False)
chosen = rates_table.merge(records[["task", "family", "width"]].drop_duplicates(), on=["task", "family", "width"])
figure = plots.plot_learning_rates(chosen)
glue("fig_lr", figure, display=False)
shown = chosen.drop_duplicates(["task", "family", "n_train"])
glue("se_lr_caption", f"{int((~shown['lr_at_edge'].astype(bool)).sum())} of the {len(shown)} rates shown have a tried "
     f"rate within 2× on each side; they span {shown['lr'].min():.2g} to {shown['lr'].max():.2g}.", display=False)
glue("se_collapse_share", f"{COLLAPSE_SHARE:.1%}", display=False)
glue("tab_se_failures", plots.table(failures, formats={"failed share": "{:.1%}"}), display=False)

# %% [markdown]
# A run on {glue:text}`se_smallest` samples takes {glue:text}`se_steps_small` steps, one on
# {glue:text}`se_largest` takes {glue:text}`se_steps_large` — {glue:text}`se_samples_large`
# samples seen, augmented or not (every family draws the same mini-batches; augmentation moves
# each sample by a random group element). Of the {glue:text}`se_lr_rows` tuned rates (every task,
# family, width and bucket), {glue:text}`se_lr_inside` end with a tried rate within 2× on each side.
# One row per trained model: {download}`sample-efficiency.csv <../results/sample-efficiency.csv>`;
# every tuned rate with the rates tried and the pilots' scores:
# {download}`learning-rates.csv <../results/learning-rates.csv>`.
#
# ```{glue:figure} tab_se_widths
# :name: tab-se-widths
#
# The width (hidden units of the dense families, channels of the tied ones) of every model per task,
# family and training-set size: {glue:text}`se_width_rule`.
# ```
#
# ```{glue:figure} fig_lr
# :name: fig-lr
#
# {glue:text}`se_lr_caption` The learning rate tuned for each family (rows) and size bucket
# (columns) at the widths chosen, per task; a star marks a rate without a tried neighbour within 2×
# on a side.
# ```
#
# ```{glue:figure} tab_se_failures
# :name: tab-se-failures
#
# Failed runs per task and family: diverged (the loss became NaN or infinite) and collapsed (one
# predicted class for every training sample, or regression predictions whose variance is below
# {glue:text}`se_collapse_share` of the targets'). A failed run is shown here and left out of every
# mean.
# ```
#
# **Does a longer budget change anything?** Every model of `mlp`, `mlp+aug` and `shared` on every
# task at the largest size again, with four times the budget at the same tuned rates and widths.

# %% tags=["hide-input"]
ablation = run_experiment("budget-ablation")
rows = []
for task in sorted(ablation["task"].unique()):
    for family in ("mlp", "mlp+aug", "shared"):
        part = {name: frame[(frame["task"] == task) & (frame["family"] == family)
                            & (frame["n_train"] == sizes[-1]) & usable(frame)].set_index("seed")
                for name, frame in (("normal", records), ("longer", ablation))}  # failed runs left out
        normal, longer = (part[name]["normalised_score"] for name in ("normal", "longer"))
        _, normal_low, normal_high = confidence_interval(normal)
        mean, low, high = confidence_interval((longer - normal).dropna())
        rows.append({"task": task, "family": family, "normal budget": normal.mean(), "4× budget": longer.mean(),
                     "change [95% CI]": f"{mean:+.4f} [{low:+.4f}, {high:+.4f}]",
                     "outside": bool(not normal_low <= longer.mean() <= normal_high),
                     "paired": bool(low > 0 or high < 0),
                     "fits": bool((part["normal"]["train_score"] == 1).all()), "classes": part["normal"]["metric"].iloc[0]})
ablation_table = pd.DataFrame(rows)
glue("tab_ablation", plots.table(ablation_table[["task", "family", "normal budget", "4× budget", "change [95% CI]",
                                                 "outside"]].rename(columns={"outside": "outside its interval"}),
                                 formats={"normal budget": "{:.4f}", "4× budget": "{:.4f}"}), display=False)
moved = ablation_table[ablation_table["outside"]]
glue("se_ablation_moved", f"{len(moved)} of {len(ablation_table)}", display=False)
glue("se_ablation_paired", f"{int(ablation_table['paired'].sum())} of {len(ablation_table)}", display=False)
glue("se_ablation_which", ", ".join(f"{row.task} {row.family}" for row in moved.itertuples()) or "none", display=False)
fitted = moved[moved["classes"] == "accuracy"]
if len(fitted) and fitted["fits"].all():
    reading = (f"Every classification row that moves ({len(fitted)}) fits its training set on every seed at the "
               "normal budget: those families are still improving after they fit, not failing to fit. "
               "Cross-entropy keeps falling after a network fits its training set (the margins grow), and the "
               "test accuracy can rise with it, which a training loss near zero does not show.")
elif len(fitted):
    reading = (f"Of the {len(fitted)} classification rows that move, {int(fitted['fits'].sum())} fit their "
               "training set on every seed at the normal budget; the others are still fitting it.")
else:
    reading = "No classification row moves."
glue("se_ablation_reading", reading, display=False)
# claim 3's endpoint is the only primary endpoint that reads the largest size: recomputed with the
# 4x runs in place of the normal ones there, against the interval of the normal budget's
swapped = pd.concat([records[~((records["n_train"] == sizes[-1]) & records["family"].isin(ablation["family"]))],
                     ablation], ignore_index=True)
claim3 = []
for task in config.tasks:
    normal = trend.set_index("task").loc[task]
    longer = rate_trend(swapped, task)
    inside = bool(np.isfinite(longer["effect"]) and normal["low"] <= longer["effect"] <= normal["high"])
    claim3.append({"task": task, "normal": normal["effect"], "low": normal["low"], "high": normal["high"],
                   "longer": longer["effect"], "inside": inside})
claim3 = pd.DataFrame(claim3)


def trend_text(value: float, low: float = np.nan, high: float = np.nan) -> str:
    if not np.isfinite(value):
        return "undecided"
    return f"{value:.2f} [{low:.2f}, {high:.2f}]" if np.isfinite(low) else f"{value:.2f}"


glue("se_ablation_claim3", ", ".join(f"{row.task} {trend_text(row.normal, row.low, row.high)} → "
                                     f"{trend_text(row.longer)}" for row in claim3.itertuples()), display=False)
glue("se_ablation_claim3_inside", f"{int(claim3['inside'].sum())} of {len(claim3)}", display=False)

# %% [markdown]
# ```{glue:figure} tab_ablation
# :name: tab-ablation
#
# Four times the budget moves {glue:text}`se_ablation_moved` endpoints beyond their interval at the
# largest size ({glue:text}`se_ablation_which`): mean normalised test score with the normal and the
# 4× budget, the change paired by seed (95 % t-interval; {glue:text}`se_ablation_paired` paired
# changes exclude zero), and whether the 4× mean lies outside the normal budget's 95 % interval.
# ```
#
# {glue:text}`se_ablation_reading` What the longer budget would change in the study's verdicts:
# claim 3's endpoint is the only primary endpoint that reads the largest size; recomputed with the
# 4× runs in place of the normal ones there, it stays inside its interval on
# {glue:text}`se_ablation_claim3_inside` tasks (normal budget [95 % interval] → 4×:
# {glue:text}`se_ablation_claim3`).
