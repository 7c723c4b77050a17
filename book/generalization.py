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
# # Generalization
#
# **Question.** Does parameter sharing close the gap between training and test scores, and does
# it carry the learned rule to inputs from outside the training distribution? Claim 2 of the main
# study {cite}`kim2025sharing` is that sharing improves generalization.
#
# **Answer.** At n = {glue:text}`gen_reference_n`, sharing shrinks the train–test gap (MLP's gap minus the
# shared model's, normalised, paired by seed, mean [95 % interval]) by {glue:text}`gen_set_gap`
# on the set task ({glue:text}`gen_set_gap_verdict`), {glue:text}`gen_ring_gap` on the ring task
# ({glue:text}`gen_ring_gap_verdict`) and {glue:text}`gen_grid_gap` on the grid task
# ({glue:text}`gen_grid_gap_verdict`). Under the symmetry-related shift its advantage on unseen
# poses is {glue:text}`gen_set_orbit` ({glue:text}`gen_set_orbit_verdict`),
# {glue:text}`gen_ring_orbit` ({glue:text}`gen_ring_orbit_verdict`) and {glue:text}`gen_grid_orbit`
# ({glue:text}`gen_grid_orbit_verdict`); under the shifts unrelated to the symmetry it is
# {glue:text}`gen_set_ood` ({glue:text}`gen_set_ood_verdict`), {glue:text}`gen_ring_ood`
# ({glue:text}`gen_ring_ood_verdict`) and {glue:text}`gen_grid_ood`
# ({glue:text}`gen_grid_ood_verdict`). Sharing is built for the first kind of shift; nothing in it
# speaks to the second.
#
# **Protocol.** Every family on the three tasks at three training-set sizes, trained and scored as
# in the other chapters. The train–test gap is train accuracy minus test accuracy (classification)
# or test MSE minus train MSE (regression): positive means the model does better on its training
# data. Two kinds of out-of-distribution (OOD) test:
#
# - **the symmetry-related shift** — the orbit shift of the robustness chapter: models trained on
#   one pose per orbit, scored on the other poses;
# - **shifts unrelated to the symmetry** — `task.sample_ood`, which moves the inputs but keeps the
#   labelling rule (listed below). For the set task the OOD targets have
#   {glue:text}`gen_ood_variance_ratio` times the variance of the training targets, so its scores are shown normalised by each split's own
#   target variance.

# %% tags=["remove-cell"]
from IPython.display import Markdown, display
from myst_nb import glue

from symsharing.figures import plots
from symsharing.figures.captions import by_side
from symsharing.figures.provenance import provenance_markdown
from symsharing.registry import run_experiment
from symsharing.stats import confidence_interval
from symsharing.study.analysis import format_effect
from symsharing.study.axes import generalization
from symsharing.study.claims import shared_advantage, verdict
from symsharing.study.config import config_for
from symsharing.study.runner import target_variance, write_results
from symsharing.tasks import get_task

plots.book_style()

# %% tags=["hide-input"]
config = config_for("generalization")
records = generalization()
write_results("generalization", records)
reference_n = sorted(config.n_trains)[len(config.n_trains) // 2]
display(Markdown(config.training.describe()))
display(Markdown(provenance_markdown(config.seeds)))
display(Markdown("\n".join(f"- **{task}**: {get_task(task).ood_description}" for task in config.tasks)))
glue("gen_reference_n", f"{reference_n:,}", display=False)
glue("gen_ood_variance_ratio", f"{target_variance('set', 'ood') / target_variance('set'):.1f}",
     display=False)

# %% [markdown]
# One row per trained model: {download}`generalization.csv <../results/generalization.csv>`.
#
# ## Train–test gap

# %% tags=["hide-input"]
figure = plots.plot_curves(records, value="generalization_gap", logy=False)
glue("fig_gap", figure, display=False)
losses = records.groupby(["task", "family", "n_train"])["train_loss"].mean().unstack("n_train")
glue("tab_gen_train_loss", plots.table(losses, digits=4), display=False)

# %% [markdown]
# ```{glue:figure} fig_gap
# :name: fig-gap
#
# {glue:text}`gen_gap_caption` (MLP's gap minus the tied model's, normalised, paired by seed.)
# Train–test gap against training-set size (positive: better on the training data; means over
# seeds, 95 % t-interval bands). A small gap alone is not a good model: a model that fits its
# training data poorly has a small gap too, so read it with the final training losses below.
# ```
#
# ```{glue:figure} tab_gen_train_loss
# :name: tab-gen-train-loss
#
# Mean final training loss per family and size.
# ```
#
# ## Out of distribution: the symmetry-related shift

# %% tags=["hide-input"]
shift = run_experiment("robustness")
shift = shift[shift["n_train"] == reference_n]
columns = {"slice_score": "trained poses", "orbit_rest_score": "unseen poses"}
table = shift.groupby(["task", "family"])[list(columns)].mean().rename(columns=columns)
glue("tab_gen_orbit", plots.table(table), display=False)

# %% [markdown]
# ```{glue:figure} tab_gen_orbit
# :name: tab-gen-orbit
#
# The orbit shift at n = {glue:text}`gen_reference_n`: score on the poses seen in training and on
# every other pose of the same test orbits (accuracy; MSE for the set task), means over seeds.
# ```
#
# ## Out of distribution: shifts unrelated to the symmetry

# %% tags=["hide-input"]
normalised = records.assign(ood_normalised=records["normalised_ood_score"])
figure = plots.plot_curves(normalised, value="ood_normalised")
glue("fig_ood", figure, display=False)

# %% [markdown]
# ```{glue:figure} fig_ood
# :name: fig-ood
#
# {glue:text}`gen_ood_caption` (Normalised score, shared minus MLP paired by seed, positive favours
# sharing.) Score on the shifted inputs of `task.sample_ood` (accuracy; for the set task MSE
# divided by the OOD targets' variance), per family, means over seeds with 95 % t-interval bands.
# ```

# %% tags=["remove-cell"]
effects = {"gap": {}, "ood": {}, "orbit": {}}
for task in config.tasks:
    gap = shared_advantage(records, task, "generalization_gap", "n_train", [reference_n])
    ood = shared_advantage(records, task, "normalised_ood_score", "n_train", [reference_n])
    orbit = shared_advantage(shift, task, "orbit_rest_score", "n_train", [reference_n])
    for name, values in (("gap", gap), ("ood", ood), ("orbit", orbit)):
        effect = effects[name][task] = confidence_interval(values.dropna())
        glue(f"gen_{task}_{name}", format_effect(effect), display=False)
        glue(f"gen_{task}_{name}_verdict", verdict(effect[1], effect[2]), display=False)
UNSURE = {"zero": "the paired interval holds 0", "none": "there is no interval (too few usable seeds)"}
glue("gen_gap_caption", f"At n = {reference_n:,} " + by_side(effects["gap"], {
    "above": "the tied model's gap is smaller than the MLP's", "below": "the tied model's gap is larger than the "
    "MLP's", **UNSURE}) + ".", display=False)
glue("gen_ood_caption", f"At n = {reference_n:,}, on inputs shifted away from the training distribution, " + by_side(
    effects["ood"], {"above": "the tied model is ahead of the MLP", "below": "the tied model is behind the MLP",
                     **UNSURE}) + ".", display=False)
unseen = records[records["n_train"] == max(config.n_trains)]
unseen = unseen.groupby(["task", "family"])[["unseen_orbit_share", "unseen_orbit_score"]].mean()
glue("tab_unseen", plots.table(unseen), display=False)

# %% [markdown]
# ```{glue:figure} tab_unseen
# :name: tab-unseen
#
# At the largest size: the share of test points whose orbit holds no training point, and the score
# on those points. The set task's inputs are continuous, so every orbit is unseen; the ring's and
# the grid's input spaces are finite (the grid's orbit is that of its noise-free placement), so a
# test point's orbit can hold a training point, more often the larger n.
# ```
