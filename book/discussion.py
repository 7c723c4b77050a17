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
# # Discussion: what the evidence says about each claim
#
# The main study {cite}`kim2025sharing` claims that symmetry-based parameter sharing
#
# 1. gives more stable performance: (a) robust to symmetric transformations of the input and
#    (b) less variable across seeds;
# 2. improves generalization;
# 3. most of all with limited data, and
# 4. with restricted model capacity;
# 5. and is not merely compression: a shared model beats a dense model with the same number of
#    free parameters.
#
# This chapter reads the records of the four experiment chapters back from the results cache
# (nothing is retrained) and tests each claim on each task.
#
# **Effects.** Each effect compares `shared` with `mlp`, paired by seed (same data, same initial
# RNG state), signed so that a positive value is the claimed direction (higher accuracy, lower
# MSE, smaller train–test gap):
#
# | claim | effect |
# | --- | --- |
# | 1a | score on `g·x`, shared minus MLP, at the middle size of the robustness sweep |
# | 1b | ½ log of the ratio of the MLP's variance across seeds to the shared model's (F-test interval) |
# | 2 | train–test gap, MLP minus shared, at the middle size of the generalization sweep |
# | 3 | advantage of sharing at the smallest training set minus at the largest |
# | 4 | advantage of sharing over an MLP of equal parameter count, smallest size minus largest |
# | 5 | advantage of sharing over an MLP of equal parameter count, averaged over sizes |
#
# **Verdict rule.** Intervals are 95 % Student-t intervals over seeds (1b: the F interval of a
# variance ratio). A claim is *supported* on a task when the interval of its effect excludes zero
# in the claimed direction (*contradicted* when it excludes zero in the other direction, *not
# supported* otherwise). Overall, a claim is *supported* when it is supported on at least two of
# the three tasks, *mixed* when on exactly one, and *not supported* otherwise.

# %%
from myst_nb import glue

from symsharing import analysis, experiments, plots

results = {name: experiments.run_experiment(name) for name in experiments.STUDY_AXES}
config = experiments.config_for("robustness")
reference_n = sorted(config.n_trains)[len(config.n_trains) // 2]
claims = analysis.claims_table(results, reference_n)
print(f"seeds per comparison: {len(config.seeds)}; reference size n = {reference_n}")

# %% [markdown]
# ## The claims table

# %%
table = claims.assign(evidence=[analysis.format_effect((e, lo, hi)) for e, lo, hi in
                                zip(claims["effect"], claims["low"], claims["high"], strict=True)])
table.pivot(index=["claim", "overall"], columns="task", values=["evidence", "verdict"])

# %%
figure = plots.plot_effects(claims)

# %%
overall = claims.drop_duplicates("claim").set_index("claim")["overall"]
for claim, verdict in overall.items():
    glue(f"claim_{claim.split()[0]}", verdict, display=False)
disagreements = [claim for claim, verdict in overall.items() if verdict != "supported"]
glue("disagreements", "; ".join(disagreements) if disagreements else "none", display=False)
glue("n_disagreements", str(len(disagreements)), display=False)

# %% [markdown]
# Overall: claim 1a (robustness to `g·x`) is **{glue:text}`claim_1a`**, 1b (less variance
# across seeds) **{glue:text}`claim_1b`**, claim 2 (generalization gap) **{glue:text}`claim_2`**,
# claim 3 (little data) **{glue:text}`claim_3`**, claim 4 (small capacity)
# **{glue:text}`claim_4`**, and claim 5 (beats a dense model of equal size)
# **{glue:text}`claim_5`**.
#
# ## What the controls show
#
# Each control family against the MLP and against the shared model, at n =
# {glue:text}`disc_reference_n` of the sample-efficiency sweep (effects signed so that positive
# favours the control):

# %%
glue("disc_reference_n", str(reference_n), display=False)
glue("disc_seeds", str(len(config.seeds)), display=False)
controls = analysis.controls_table(results["sample-efficiency"], reference_n)
controls.assign(evidence=[analysis.format_effect((e, lo, hi)) for e, lo, hi in
                          zip(controls["effect"], controls["low"], controls["high"], strict=True)]
                ).pivot(index=["family", "versus"], columns="task", values=["evidence", "verdict"])

# %%
figure = plots.plot_curves(results["sample-efficiency"],
                           families=["mlp", "shared", "shared-sub", "shared-wrong", "mlp+aug+avg"])

# %%
rows = controls.set_index(["task", "family", "versus"])
for task in sorted(controls["task"].unique()):
    for family, versus in (("shared-wrong", "mlp"), ("mlp+aug+avg", "shared"), ("shared-sub", "shared")):
        if (task, family, versus) in rows.index:
            row = rows.loc[(task, family, versus)]
            glue(f"ctl_{task}_{family.replace('+', '_').replace('-', '_')}_{versus}",
                 f"{analysis.format_effect((row['effect'], row['low'], row['high']))} ({row['verdict']})",
                 display=False)

# %% [markdown]
# - **A wrong symmetry.** Sharing by a group the task is not invariant under, against the MLP:
#   {glue:text}`ctl_ring_shared_wrong_mlp` on the ring task (S16 forgets the order of the bits
#   the motif needs) and {glue:text}`ctl_grid_shared_wrong_mlp` on the grid task (cyclic row
#   shifts). The grid's wrong group is only *mildly* wrong: a shift changes the label only of
#   shapes cut by the wrap-around, so a model tied by it may still do well. The set task has no
#   wrong permutation group: S8 already contains every permutation of its points.
# - **Augmentation plus averaging.** The augmented MLP averaged over the orbit at test time,
#   against the shared model: {glue:text}`ctl_set_mlp_aug_avg_shared` (set),
#   {glue:text}`ctl_ring_mlp_aug_avg_shared` (ring), {glue:text}`ctl_grid_mlp_aug_avg_shared`
#   (grid). A negative effect means sharing keeps an advantage that averaging does not close.
# - **A weaker, correct symmetry.** Sharing by a proper subgroup, against sharing by the whole
#   group: {glue:text}`ctl_set_shared_sub_shared` (set, C8 inside S8),
#   {glue:text}`ctl_ring_shared_sub_shared` (ring, rotations by 2 inside C16),
#   {glue:text}`ctl_grid_shared_sub_shared` (grid, one mirror inside D4).
#
# ## Limitations
#
# - Three toy tasks, reconstructed: the main study's text is not public, so its tasks, model sizes
#   and budgets are guesses (see the tasks chapter). Verdicts are about these tasks.
# - Small models, a fixed step budget and a learning rate picked from a small grid by one pilot run
#   per family: a family that needs longer training or another optimiser is disadvantaged, the
#   same way for all.
# - {glue:text}`disc_seeds` seeds per comparison in this build: intervals are wide, and a "not
#   supported" verdict often means "not resolved" rather than "false". Effects are in the metric's
#   units (MSE for the set task), so their sizes compare only within a task.
# - Claims 3 and 4 are tested as a contrast between the two ends of a sweep; a benefit that
#   peaks in the middle is not captured.
# - The exchange rate is bounded by the sampled sizes; for large groups (S8) it cannot reach |G|.
#
# ## Where the results disagree with the main study
#
# The main study reports all five claims as supported. Here {glue:text}`n_disagreements` of the
# claims are not supported overall: {glue:text}`disagreements`. Read each verdict with the
# limitations above: on these tasks, with these budgets and seeds.
