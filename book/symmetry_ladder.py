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
# # Wrong groups and the symmetry ladder
#
# Tying weights by a group makes a network invariant under it, whatever its weights. That is a
# gift when the task is invariant under the group, and a cap when it is not: an invariant network
# gives one answer per orbit, so wherever an orbit holds inputs with different labels it must be
# wrong on some of them. This chapter measures both sides on the ring task, whose input space is
# small enough (2{sup}`16` rings) to compute every cap exactly.
#
# **The ladder.** The ring is shared by each group of a chain, smallest first:
# $C_8$ (rotations by two steps) $\subset C_{16}$ (all rotations: the task's group)
# $\subset D_{16}$ (adds reflections) $\subset S_{16}$ (every permutation). $C_8$ and $C_{16}$ are
# correct; $D_{16}$ is wrong because the motif `11010` is chiral (its mirror image is another
# pattern); $S_{16}$ sees only the number of ones.
#
# **Ceilings.** The *ceiling* of a group is the best accuracy of any classifier constant on its
# orbits — the Bayes classifier that answers, in each orbit, the label with the most probability
# mass (`symsharing.ceilings`). It is computed exactly by enumerating all rings with their
# probabilities under each split's distribution, and it is an upper bound: a tied network of this
# architecture need not reach it.
#
# The set task has no such control: its group $S_8$ already contains *every* permutation of its
# eight points, so the task is invariant under every permutation group on them and no permutation
# group is wrong for it.

# %% tags=["remove-cell"]
from myst_nb import glue

from symsharing.plots import book_style
from symsharing.provenance import provenance_markdown

book_style()

# %% tags=["hide-input"]
import pandas as pd
from IPython.display import Markdown, display

from symsharing import analysis, ceilings, experiments, plots
from symsharing.families import ladder_groups
from symsharing.tasks import get_task

ring = get_task("ring")
groups = ladder_groups(ring)
ceiling_table = pd.DataFrame([
    {"group": name, "order": f"{group.order():,}",
     "ceiling (test)": ceilings.ceiling(ring, group, "test"),
     "ceiling (OOD, density 0.7)": ceilings.ceiling(ring, group, "ood"),
     "inputs whose orbit holds another label": ceilings.label_mixing(ring, group, "test")}
    for name, group in groups.items()]).set_index("group")
for name in groups:
    glue(f"ceiling_{name}", f"{ceiling_table.loc[name, 'ceiling (test)']:.3f}", display=False)
    glue(f"mixing_{name}", f"{ceiling_table.loc[name, 'inputs whose orbit holds another label']:.1%}",
         display=False)
glue("ceiling_table", ceiling_table.style.format(
    {"ceiling (test)": "{:.3f}", "ceiling (OOD, density 0.7)": "{:.3f}",
     "inputs whose orbit holds another label": "{:.1%}"}), display=False)

# %% [markdown]
# ```{glue:figure} ceiling_table
# :name: tab-ceilings
#
# Exact ceilings of the ring task's ladder: the best accuracy of a classifier constant on the
# group's orbits, under the training and test distribution (bits i.i.d. with density 0.5) and
# under the out-of-distribution split (density 0.7), and the share of test inputs whose orbit
# also holds an input of the other class.
# ```
#
# The correct groups have ceiling 1 ({numref}`tab-ceilings`). $D_{16}$ caps accuracy at
# {glue:text}`ceiling_D16`: {glue:text}`mixing_D16` of the rings share an orbit with a ring of the
# other class (a ring and its mirror image). $S_{16}$ caps it at {glue:text}`ceiling_S16`, barely
# above always answering "no motif": it changes labels on {glue:text}`mixing_S16` of the inputs.

# %% tags=["hide-input"]
records = experiments.run_experiment("symmetry-ladder")
experiments.write_results("symmetry-ladder", records)
config = experiments.config_for("symmetry-ladder")
display(Markdown(provenance_markdown(config.seeds)))
figure = plots.plot_ladder(records)
glue("fig_ladder", figure, display=False)
plots.plt.close(figure)

# %% [markdown]
# ```{glue:figure} fig_ladder
# :name: fig-ladder
#
# Test accuracy against training-set size on the ring task for the MLP and for the same shared
# architecture tied by each group of the ladder (mean over seeds, 95 % t-interval bands). Dashed
# lines of a group's colour mark its exact ceiling (below 1 only for the wrong groups $D_{16}$ and
# $S_{16}$); the black dashed line is 1. A larger group should win at small n and lose once its
# ceiling binds.
# ```
#
# One row per trained model: {download}`symmetry-ladder.csv <../results/symmetry-ladder.csv>`.
# Every shared model uses the learning rate tuned for the `shared` family on this task.

# %% tags=["hide-input"]
crossovers = analysis.crossovers_table(records)
shown = crossovers[["larger", "smaller", "advantage_smallest", "advantage_largest", "finding"]].rename(
    columns={"larger": "larger arm", "smaller": "smaller arm",
             "advantage_smallest": f"advantage at n = {min(config.n_trains)}",
             "advantage_largest": f"advantage at n = {max(config.n_trains)}"})
glue("crossover_table", shown.style.format(precision=3).hide(axis="index"), display=False)
means = records.assign(arm=analysis.ladder_arm(records)).groupby(["arm", "n_train"])["test_score"].mean()
exceeds = [(arm, n) for (arm, n), value in means.items()
           if arm in groups and value > ceilings.ceiling(ring, groups[arm]) + 1e-9]
assert not exceeds, f"a mean score exceeds its group's exact ceiling: {exceeds}"
for _, row in crossovers.iterrows():
    glue(f"crossover_{row['larger']}_{row['smaller']}", row["finding"], display=False)

# %% [markdown]
# ```{glue:figure} crossover_table
# :name: tab-crossovers
#
# Crossovers of the ladder. *Advantage* is the larger arm's mean accuracy minus the smaller arm's,
# paired by seed, at the smallest and largest size. A crossover is the first size (interpolated in
# log n) where an advantage that is positive at the smallest size falls to zero; its interval
# resamples seeds. Its test is secondary: "the larger arm wins at the smallest size and loses at
# the largest" (both one-sided t-tests, the larger p-value), Holm-corrected across the rows.
# ```
#
# **Answer.** Sharing by a wrong group is capped exactly where theory says: no mean score exceeds
# its group's ceiling (checked above). $S_{16}$ against the MLP: {glue:text}`crossover_S16_mlp`.
# $D_{16}$ against the MLP: {glue:text}`crossover_D16_mlp`. $D_{16}$ against $C_{16}$:
# {glue:text}`crossover_D16_C16` — the correct group is at least as sample-efficient as the larger
# wrong one here, so the extra invariance buys nothing before its cap binds. $C_8$ and $C_{16}$ both
# have ceiling 1, so no crossover is expected between them: {glue:text}`crossover_C16_C8`.
