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
# # Parameter efficiency
#
# **Question.** For a given budget, which family scores best? Two claims of the main study
# {cite}`kim2025sharing` meet here: sharing helps most when capacity is restricted (claim 4), and
# sharing is not merely compression — a shared model beats a dense model with the *same number of
# free parameters* (claim 5).
#
# **Answer.** At equal parameter counts, averaged over the sweep and its training sizes, the
# advantage of sharing (claim 5's primary endpoint, normalised units, mean [95 % interval]) is
# {glue:text}`pe_set_claim5` on the set task, {glue:text}`pe_ring_claim5` on the ring task and
# {glue:text}`pe_grid_claim5` on the grid task — but the shared model computes
# {glue:text}`pe_set_macs_ratio` times the matched MLP's multiply-adds per sample on the set task,
# {glue:text}`pe_ring_macs_ratio` on the ring and {glue:text}`pe_grid_macs_ratio` on the grid: it
# wins parameter for parameter, not operation for operation. The discussion chapter tests claims 4
# and 5 with Holm's correction.

# %% tags=["remove-cell"]
import numpy as np
import pandas as pd
from IPython.display import Markdown, display
from myst_nb import glue

from symsharing.figures import plots
from symsharing.figures.captions import listing, side
from symsharing.figures.provenance import provenance_markdown
from symsharing.stats import confidence_interval, usable
from symsharing.study.analysis import format_effect, size_to_reach
from symsharing.study.axes import parameter_efficiency
from symsharing.study.claims import matched_sizes, shared_advantage
from symsharing.study.config import config_for
from symsharing.study.runner import write_results

plots.book_style()
config = config_for("parameter-efficiency")
records = parameter_efficiency()
write_results("parameter-efficiency", records)
main_n = sorted(config.n_trains)[len(config.n_trains) // 2]
at_main = records[records["n_train"] == main_n]
rows = []
for task in config.tasks:
    for n_train in sorted(config.n_trains):
        per_task = matched_sizes(records[records["n_train"] == n_train], task)
        for index in sorted(per_task.loc[per_task["family"] == "shared", "size_index"].unique()):
            at_size = per_task[per_task["size_index"] == index]
            effect = confidence_interval(shared_advantage(at_size, task, "test_score").dropna())
            first = at_size.groupby("family")[["n_params", "macs", "activations"]].first()
            rows.append({"task": task, "n": n_train, "size": f"size {index + 1}",
                         "shared params": int(first.loc["shared", "n_params"]),
                         "mlp params": int(first.loc["mlp", "n_params"]),
                         "macs ratio (shared / mlp)": first.loc["shared", "macs"] / first.loc["mlp", "macs"],
                         "advantage [95% CI]": format_effect(effect), "effect": effect[0], "low": effect[1],
                         "high": effect[2]})
matched_table = pd.DataFrame(rows)
for task in config.tasks:
    per_n = []
    for n_train in sorted(config.n_trains):
        per_task = matched_sizes(records[records["n_train"] == n_train], task)
        indices = sorted(per_task.loc[per_task["family"] == "shared", "size_index"].unique())
        per_n.append(shared_advantage(per_task, task, "test_score", "size_index", indices))
    overall = pd.concat(per_n, axis=1).mean(axis=1).dropna()
    glue(f"pe_{task}_claim5", format_effect(confidence_interval(overall)), display=False)
    ratios = matched_table.loc[matched_table["task"] == task, "macs ratio (shared / mlp)"]
    glue(f"pe_{task}_macs_ratio", f"{np.min(ratios):.1f}–{np.max(ratios):.1f}", display=False)

# %% [markdown]
# **Protocol.** The shared model is trained at several channel counts, at
# {glue:text}`pe_n_trains` training samples. For each, the MLP gets the hidden width whose
# free-parameter count is closest to the shared model's (never narrower than four units), so each
# size of the sweep pits sharing against a dense network of equal parameter count (the other
# families are compared in the sample-efficiency chapter). A parameter count is not the only
# budget: a tied layer reuses each weight many times, so per sample it may compute far more than a
# dense layer with the same parameters. Every record therefore also carries its **multiply-adds
# per sample** (`macs`, the forward pass *as computed*: the DeepSets form of $S_8$ costs about
# $c_{out} c_{in} (n + 1)$, the circular convolution of $C_{16}$ and the generic tied map of $D_4$
# cost the dense-equivalent $c_{out} c_{in} n^2$) and its **hidden activations per sample**, and
# the families are compared at matched parameters, matched multiply-adds and matched activations.
# Every width gets its own tuned learning rate.

# %% tags=["hide-input"]
display(Markdown(config.training.describe()))
display(Markdown(provenance_markdown(config.seeds)))
glue("pe_n_trains", ", ".join(f"n = {n:,}" for n in sorted(config.n_trains)), display=False)
glue("pe_main_n", f"{main_n:,}", display=False)

# %% [markdown]
# One row per trained model:
# {download}`parameter-efficiency.csv <../results/parameter-efficiency.csv>`.
#
# ## Score against three budgets (n = {glue:text}`pe_main_n`)

# %% tags=["hide-input"]
for x, name in (("n_params", "params"), ("macs", "macs"), ("activations", "activations")):
    figure = plots.plot_curves(at_main, x=x, value="normalised_score")
    glue(f"fig_pe_{name}", figure, display=False)

# %% [markdown]
# ```{glue:figure} fig_pe_params
# :name: fig-pe-params
#
# {glue:text}`pe_params_caption` Normalised test score (accuracy; for the set task MSE divided by
# the target variance, lower is better) against free parameters, per family (means over seeds,
# 95 % t-interval bands), at n = {glue:text}`pe_main_n`; the target score is that of
# {numref}`tab-pe-needs`.
# ```
#
# ```{glue:figure} fig_pe_macs
# :name: fig-pe-macs
#
# {glue:text}`pe_macs_caption` The same models against multiply-adds per sample of the forward
# pass as computed.
# ```
#
# ```{glue:figure} fig_pe_activations
# :name: fig-pe-activations
#
# {glue:text}`pe_activations_caption` The same models against hidden activations per sample
# (memory of a forward pass).
# ```
#
# ## Shared against dense at equal parameters

# %% tags=["hide-input"]
figure = plots.plot_effects(matched_table[matched_table["n"] == main_n], label="size")
glue("fig_pe_matched", figure, display=False)
sides = {task: [side(effect) for effect in part[["effect", "low", "high"]].itertuples(index=False)]
         for task, part in matched_table[matched_table["n"] == main_n].groupby("task", sort=False)}
glue("pe_matched_caption", f"At n = {main_n:,} and equal free parameters, the tied model's interval lies above the "
     "MLP's score at " + listing(f"{found.count('above')} of {len(found)} model sizes on the {task} task (below it at "
     f"{found.count('below')})" for task, found in sides.items()) + ".", display=False)
glue("tab_pe_matched", plots.table(matched_table.drop(columns=["effect", "low", "high"]),
                                   formats={"macs ratio (shared / mlp)": "{:.1f}"}), display=False)

# %% [markdown]
# ```{glue:figure} fig_pe_matched
# :name: fig-pe-matched
#
# {glue:text}`pe_matched_caption` Advantage of the shared model over the MLP with the same number
# of free parameters, at each size of the sweep at n = {glue:text}`pe_main_n` (normalised units,
# positive favours sharing, paired by seed, 95 % interval).
# ```
#
# ```{glue:figure} tab_pe_matched
# :name: tab-pe-matched
#
# The matched pairs at every training size: parameters of each, how many times more multiply-adds
# per sample the shared model computes, and the advantage of sharing, mean [95 % interval].
# ```
#
# ## What each family needs to reach a target score
#
# The target is, per task, the score halfway between the worst and the best mean score any family
# reaches in the sweep at n = {glue:text}`pe_main_n`: a level every reasonable family can be asked
# to reach, so that the comparison is not decided by one family's plateau.

# %% tags=["hide-input"]
needs = []
for task in config.tasks:
    per_task = at_main[(at_main["task"] == task)]
    per_task = per_task[usable(per_task)]
    means = per_task.groupby(["family", "n_params"])["normalised_score"].mean()
    target = (means.min() + means.max()) / 2
    for x in ("n_params", "macs", "activations"):
        reached = size_to_reach(per_task, x, target, "normalised_score")
        for family, value in reached.items():
            needs.append({"task": task, "family": family, "budget": x, "needed": value, "target": target})
needs = pd.DataFrame(needs)
table = needs.pivot_table(index=["task", "family"], columns="budget", values="needed")[
    ["n_params", "macs", "activations"]]
glue("tab_pe_needs", plots.table(table.round(0), digits=0), display=False)


def cheaper(budget: str, noun: str) -> str:
    """What the tied model needs of ``budget`` to reach each task's target, against the MLP, in words (tasks
    with the same outcome named together)."""
    found = {}  # phrase -> tasks
    for task in config.tasks:
        needed = needs[(needs["task"] == task) & (needs["budget"] == budget)].set_index("family")["needed"]
        shared, mlp = needed.get("shared", np.nan), needed.get("mlp", np.nan)
        if np.isnan(shared) or np.isnan(mlp):
            reached = [name for name, value in (("the tied model", shared), ("the MLP", mlp)) if not np.isnan(value)]
            phrase = f"{'only ' + reached[0] if reached else 'neither family'} reaches it"
        else:
            ratio = mlp / shared
            amount = f"{ratio:.3g}× fewer" if ratio > 1 else f"{1 / ratio:.3g}× more" if ratio < 1 else "as many"
            phrase = (f"the tied model needs {amount} {noun} {'as' if ratio == 1 else 'than'} the MLP "
                      f"({shared:,.0f} against {mlp:,.0f})")
        found.setdefault(phrase, []).append(task)
    return "; ".join(f"{phrase} on the {listing(tasks)} task{'s' if len(tasks) > 1 else ''}"
                     for phrase, tasks in found.items())


for x, name, noun in (("n_params", "params", "free parameters"), ("macs", "macs", "multiply-adds per sample"),
                      ("activations", "activations", "hidden activations per sample")):
    glue(f"pe_{name}_caption", f"To reach each task's target score at n = {main_n:,} (on the mean curves), "
         f"{cheaper(x, noun)}.", display=False)

# %% [markdown]
# ```{glue:figure} tab_pe_needs
# :name: tab-pe-needs
#
# Free parameters, multiply-adds per sample and hidden activations each family needs to reach the
# task's target score (interpolated in log scale on the mean curve; "–": not reached in the sweep).
# ```
