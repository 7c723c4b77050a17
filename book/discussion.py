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
# ## Pre-declared primary endpoints
#
# Each claim is tested on one endpoint, fixed before any result was seen (the study protocol,
# `symsharing.study.analysis.PRIMARY_ENDPOINTS`); everything else in the book — controls, the symmetry
# ladder, the orbit-shift details, the exchange rates — is secondary or exploratory. Every effect
# compares `shared` with `mlp`, paired by data seed, signed so that positive is the claimed
# direction, in normalised units (accuracy; for the set task MSE divided by the target variance).

# %% tags=["remove-cell"]
import pandas as pd
from IPython.display import Markdown, display
from myst_nb import glue

from symsharing.figures import plots
from symsharing.figures.provenance import provenance_markdown
from symsharing.registry import run_experiment
from symsharing.study.analysis import (
    CLAIM_NAMES,
    GRID_LADDER_COMPARISONS,
    PRIMARY_ENDPOINTS,
    claims_table,
    controls_table,
    crossovers_table,
    format_effect,
    seed_variance_effect,
)
from symsharing.study.config import STUDY_AXES, config_for

plots.book_style()

# %% tags=["hide-input"]
display(Markdown("\n".join(f"- **{code}** ({CLAIM_NAMES[code].split(' ', 1)[1]}): {text}."
                           for code, text in PRIMARY_ENDPOINTS.items())))

# %% [markdown]
# **Tests.** For each claim and task, a one-sided test in the claimed direction: a paired t-test on
# the per-seed effects, or for 1b the share of bootstrap resamples of the data seeds whose log
# ratio is at most zero. Holm–Bonferroni across the three tasks of each claim. A claim is
# *supported* on a task when its Holm-adjusted p-value is at most 0.05, *contradicted* when the
# opposite one-sided test is, *not supported* otherwise; overall, *supported* on at least two
# tasks, *mixed* on exactly one. Claim 1b uses its own design: every data seed crossed with
# several initialisation seeds at the middle size, so that the variance across data separates
# from the variance across initialisations.
#
# The experiment chapters share trained models where their configurations agree (the results
# cache is keyed by configuration): robustness is the orbit-shift experiment; generalization and
# sample efficiency read the same runs at their common sizes. This chapter reads the records back
# (computing whatever is missing).

# %% tags=["hide-input"]
results = {name: run_experiment(name) for name in STUDY_AXES}
variance = run_experiment("seed-variance")
config = config_for("robustness")
reference_n = sorted(config.n_trains)[len(config.n_trains) // 2]
claims = claims_table(results, reference_n, variance)
display(Markdown(provenance_markdown(config.seeds)))
shown = claims.assign(effect_text=[format_effect((e, lo, hi)) for e, lo, hi in
                                   zip(claims["effect"], claims["low"], claims["high"], strict=True)],
                      p_text=[f"{p:.3g}" for p in claims["p_holm"]])
table = pd.DataFrame({
    (task, column): shown[shown["task"] == task].set_index("claim")[source]
    for task in sorted(claims["task"].unique())
    for column, source in (("effect [95 % CI]", "effect_text"), ("Holm p", "p_text"), ("verdict", "verdict"))})
table[("overall", "")] = claims.drop_duplicates("claim").set_index("claim")["overall"]
glue("tab_claims", plots.table(table), display=False)
figure = plots.plot_effects(claims)
glue("fig_claims", figure, display=False)
plots.plt.close(figure)
glue("disc_reference_n", f"{reference_n:,}", display=False)

# %% [markdown]
# ```{glue:figure} tab_claims
# :name: tab-claims
#
# The claims on their primary endpoints, per task: effect with its 95 % interval (1b: bootstrap
# interval of the log ratio of standard deviations), Holm-adjusted one-sided p-value, verdict, and
# the overall verdict. Single-size claims are measured at n = {glue:text}`disc_reference_n`.
# ```
#
# ```{glue:figure} fig_claims
# :name: fig-claims
#
# The effects of {numref}`tab-claims` with their 95 % intervals, one panel per claim, one point
# per task; positive is the claimed direction.
# ```

# %% tags=["remove-cell"]
overall = claims.drop_duplicates("claim").set_index("claim")["overall"]
for claim, verdict in overall.items():
    glue(f"claim_{claim.split()[0]}", verdict, display=False)
disagreements = [claim for claim, verdict in overall.items() if verdict != "supported"]
glue("disagreements", "; ".join(disagreements) if disagreements else "none", display=False)
glue("n_disagreements", str(len(disagreements)), display=False)
glue("disc_seeds", str(len(config.seeds)), display=False)
components = []
for task in sorted(variance["task"].unique()):
    found = seed_variance_effect(variance[variance["n_train"] == reference_n], task)
    for family, parts in found["components"].items():
        components.append({"task": task, "family": family, "variance across data seeds": parts["between_data"],
                           "variance across init seeds": parts["within_data"]})
glue("tab_components", plots.table(pd.DataFrame(components), digits=5), display=False)

# %% [markdown]
# Overall: claim 1a (robust to the orbit shift) is **{glue:text}`claim_1a`**, 1b (less variance
# across data seeds) **{glue:text}`claim_1b`**, claim 2 (generalization gap)
# **{glue:text}`claim_2`**, claim 3 (little data) **{glue:text}`claim_3`**, claim 4 (small
# capacity) **{glue:text}`claim_4`**, and claim 5 (beats a dense model of equal size)
# **{glue:text}`claim_5`**.
#
# ```{glue:figure} tab_components
# :name: tab-components
#
# Claim 1b's design: variance of the normalised test score across data seeds (of each data seed's
# mean over initialisation seeds) and across initialisation seeds (mean within a data seed).
# ```
#
# ## Secondary: the controls
#
# Each control family against the MLP and against the shared model, at n =
# {glue:text}`disc_reference_n` of the sample-efficiency sweep (effects signed so that positive
# favours the control, paired by seed, 95 % intervals; Holm within this family of tests is not
# applied to these descriptive intervals):

# %% tags=["hide-input"]
controls = controls_table(results["sample-efficiency"], reference_n)
controls["evidence"] = [format_effect((e, lo, hi)) for e, lo, hi in
                        zip(controls["effect"], controls["low"], controls["high"], strict=True)]
glue("tab_controls", plots.table(controls.pivot(index=["family", "versus"], columns="task",
                                                values="evidence")), display=False)
ladder_records = run_experiment("symmetry-ladder")
ladder = pd.concat([crossovers_table(ladder_records),
                    crossovers_table(ladder_records, GRID_LADDER_COMPARISONS)])
for _, row in ladder.iterrows():
    glue(f"disc_crossover_{row['larger']}_{row['smaller']}", row["finding"], display=False)

# %% [markdown]
# ```{glue:figure} tab_controls
# :name: tab-controls
#
# Controls at n = {glue:text}`disc_reference_n`: augmentation (`mlp+aug`), augmentation with
# test-time averaging over the orbit (`mlp+aug+avg`), sharing by a proper subgroup (`shared-sub`)
# and by a group the task is not invariant under (`shared-wrong`), each against the MLP and
# against the shared model.
# ```
#
# **The symmetry ladder** (secondary tests, Holm within their family; see the chapter on wrong
# groups): $S_{16}$ against the MLP, {glue:text}`disc_crossover_S16_mlp`; $D_{16}$ against the
# MLP, {glue:text}`disc_crossover_D16_mlp`; $D_{16}$ against $C_{16}$,
# {glue:text}`disc_crossover_D16_C16`. On the one-sided tetrominoes, where $C_4$ is the task's group
# and $D_4$ merges mirror-image classes (Holm within the grid's comparisons): $D_4$ against the MLP,
# {glue:text}`disc_crossover_D4_mlp`; $D_4$ against $C_4$, {glue:text}`disc_crossover_D4_C4`.
#
# ## Limitations
#
# - Three toy tasks, reconstructed: the main study's text is not public, so its tasks, model sizes
#   and budgets are guesses (see the tasks chapter). Verdicts are about these tasks.
# - Learning rates are tuned per family, width and size bucket on an outside validation set (an
#   oracle protocol); budgets grow with n and decay to zero, but a family that needs another
#   optimiser is still disadvantaged, the same way for all.
# - {glue:text}`disc_seeds` data seeds per comparison in this build. A "not supported" verdict
#   often means "not resolved" rather than "false".
# - Claims 3 and 4 contrast the two halves of a sweep in score units; in samples (the exchange
#   rate of the sample-efficiency chapter) the reading can differ.
#
# ## Where the results disagree with the main study
#
# The main study reports all five claims as supported. Here {glue:text}`n_disagreements` of the
# claims are not supported overall: {glue:text}`disagreements`. Read each verdict with the
# limitations above: on these tasks, with these budgets and seeds.
