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
# small enough (2{sup}`16` rings) to compute every cap exactly, and then on a variant of the grid
# task built to have a wrong group that changes labels ([below](grid-variant)).
#
# **Answer.** A wrong group is capped exactly where theory says: none of the
# {glue:text}`ladder_population_checked` tied models on the ring scores above its group's exact
# ceiling on the whole test distribution. $S_{16}$ against the MLP: {glue:text}`crossover_S16_mlp`.
# $D_{16}$ against the MLP: {glue:text}`crossover_D16_mlp`. On the one-sided tetrominoes, $D_4$
# against $C_4$: {glue:text}`grid_crossover_D4_C4`.
#
# **The ladder.** The ring is shared by each group of a chain, smallest first:
# $C_8$ (rotations by two steps) $\subset C_{16}$ (all rotations: the task's group)
# $\subset D_{16}$ (adds reflections) $\subset S_{16}$ (every permutation). $C_8$ and $C_{16}$ are
# correct; $D_{16}$ is wrong because the motif `11010` is chiral (its mirror image is another
# pattern); $S_{16}$ sees only the number of ones.
#
# **Ceilings.** The *ceiling* of a group is the best accuracy of any classifier constant on its
# orbits — the Bayes classifier that answers, in each orbit, the label with the most probability
# mass (`symsharing.study.ceilings`). It is computed exactly by enumerating all rings with their
# probabilities under each split's distribution, and it is an upper bound: a tied network of this
# architecture need not reach it.
#
# The set task has no such control: its group $S_8$ already contains *every* permutation of its
# eight points, so the task is invariant under every permutation group on them and no permutation
# group is wrong for it.

# %% tags=["remove-cell"]
from myst_nb import glue

from symsharing.figures.captions import listing
from symsharing.figures.plots import book_style
from symsharing.figures.provenance import provenance_markdown
from symsharing.registry import run_experiment
from symsharing.stats import hoeffding_margin, summarize
from symsharing.study.analysis import GRID_LADDER_COMPARISONS, crossovers_table, ladder_arm
from symsharing.study.axes import GRID_LADDER_TASK, ladder_configs
from symsharing.study.config import TEST_SEED_OFFSET
from symsharing.study.runner import write_results

book_style()

# %% tags=["hide-input"]
import pandas as pd
from IPython.display import Markdown, display

from symsharing.figures import plots
from symsharing.study import ceilings
from symsharing.study.families import ladder_groups
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
records = run_experiment("symmetry-ladder")  # the ring's rows, then the grid variant's
write_results("symmetry-ladder", records)
config, grid_config = ladder_configs()
display(Markdown(provenance_markdown(config.seeds)))
ring_records = records[records["task"] == "ring"]
figure = plots.plot_ladder(ring_records)
glue("fig_ladder", figure, display=False)


def ladder_finding(summary: pd.DataFrame, ceiling_of: pd.Series) -> str:
    """The arm with the highest mean accuracy at the smallest and the largest size, and the groups whose
    exact ceiling is below 1."""
    best = []
    for n in (summary["n_train"].min(), summary["n_train"].max()):
        row = summary[summary["n_train"] == n].dropna(subset=["mean"]).sort_values("mean").iloc[-1]
        best.append(f"{row['arm']}'s at n = {n:,} ({row['mean']:.3f} [{max(row['low'], 0):.3f}, "
                    f"{min(row['high'], 1):.3f}])")  # an accuracy's interval, clipped to [0, 1]
    capped = ceiling_of[ceiling_of < 1 - 1e-12]  # exact ceilings, float64 sums
    caps = (f"{listing(capped.index)} {'has' if len(capped) == 1 else 'have'} an exact ceiling below 1 ("
            + listing(f"{value:.3f}" for value in capped) + ")") if len(capped) else "every group's exact ceiling is 1"
    return f"The highest mean test accuracy is {best[0]} and {best[1]}; {caps}."


glue("ladder_caption", ladder_finding(summarize(ring_records.assign(arm=ladder_arm(ring_records)), ["arm", "n_train"]),
                                      ceiling_table["ceiling (test)"]), display=False)

# %% [markdown]
# ```{glue:figure} fig_ladder
# :name: fig-ladder
#
# {glue:text}`ladder_caption` Test accuracy against training-set size on the ring task for the MLP
# and for the same shared architecture tied by each group of the ladder (mean over seeds, 95 %
# t-interval bands). A dashed line of a group's colour marks its exact ceiling where that is below
# 1; the black dashed line is 1.
# ```
#
# One row per trained model, of both tasks of this chapter:
# {download}`symmetry-ladder.csv <../results/symmetry-ladder.csv>`. Every shared model uses the
# learning rate tuned for the `shared` family on its task.

# %% tags=["hide-input"]
crossovers = crossovers_table(ring_records)
shown = crossovers[["larger", "smaller", "advantage_smallest", "advantage_largest", "finding"]].rename(
    columns={"larger": "larger arm", "smaller": "smaller arm",
             "advantage_smallest": f"advantage at n = {min(config.n_trains)}",
             "advantage_largest": f"advantage at n = {max(config.n_trains)}"})
glue("crossover_table", shown.style.format(precision=3).hide(axis="index"), display=False)
# Exact check: each tied model's accuracy on the whole test *distribution* (all 2^16 rings with
# their probabilities, each read at its orbit's representative, so that the classifier is constant
# on the orbits exactly and float32 rounding cannot split an orbit: `ceilings.population_score`)
# cannot exceed its group's exact ceiling, an identity; a test set's accuracy can, by sampling
# (2,048 samples), so it is never held against the ceiling.
ring_arms = ring_records.assign(arm=ladder_arm(ring_records))
tied = ring_arms[ring_arms["arm"].isin(list(groups)) & ~ring_arms["diverged"]]
exceeds = [(row.arm, row.n_train, row.seed) for row in tied.itertuples()
           if row.population_score > ceilings.ceiling(ring, groups[row.arm]) + 1e-9]  # float64 sums
assert not exceeds, f"a model's population accuracy exceeds its group's exact ceiling: {exceeds}"
glue("ladder_population_checked", f"{len(tied):,}", display=False)
beside = summarize(tied, ["arm", "n_train"]).merge(
    tied.groupby(["arm", "n_train"])["population_score"].mean().rename("population").reset_index())
beside = pd.DataFrame({"group": beside["arm"], "n": beside["n_train"].astype(int),
                       "test accuracy [95% CI]": [f"{m:.3f} [{max(lo, 0):.3f}, {min(hi, 1):.3f}]" for m, lo, hi
                                                  in zip(beside["mean"], beside["low"], beside["high"], strict=True)],
                       "population accuracy": beside["population"].map("{:.4f}".format),
                       "ceiling": [f"{ceilings.ceiling(ring, groups[arm]):.4f}" for arm in beside["arm"]]})
glue("tab_ladder_population", plots.table(beside), display=False)
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
# ```{glue:figure} tab_ladder_population
# :name: tab-ladder-population
#
# The tied models against their ceilings: mean test accuracy with its 95 % interval (clipped to
# [0, 1]; a test set of
# 2,048 samples, so it can lie above the ceiling by chance), the mean accuracy on the whole test
# distribution (every ring weighted by its probability, exact), and the group's exact ceiling. No
# model's population accuracy exceeds its ceiling (checked above, model by model).
# ```
#
# **Answer.** Sharing by a wrong group is capped exactly where theory says: no model's accuracy on
# the whole test distribution exceeds its group's ceiling ({numref}`tab-ladder-population`). $S_{16}$ against the MLP: {glue:text}`crossover_S16_mlp`.
# $D_{16}$ against the MLP: {glue:text}`crossover_D16_mlp`. $D_{16}$ against $C_{16}$:
# {glue:text}`crossover_D16_C16` — the correct group is at least as sample-efficient as the larger
# wrong one here, so the extra invariance buys nothing before its cap binds. $C_8$ and $C_{16}$ both
# have ceiling 1, so no crossover is expected between them: {glue:text}`crossover_C16_C8`.

# %% [markdown]
# (grid-variant)=
# ## A grid variant whose wrong group changes labels
#
# On the study's grid task no permutation group we tried is wrong *where it matters*: the cyclic
# row shift of the `shared-wrong` control moves images out of the support but never onto an image
# of another class, so its ceiling on the data is {glue:text}`grid_rowshift_ceiling`. The variant
# `grid-chiral` (registered in `symsharing.tasks.TASKS`, outside the study's `STUDY_TASKS`) keeps
# the grid's images, sampler, noise and labelling rule but tells mirror images apart: its
# {glue:text}`chiral_classes` classes are the one-sided tetrominoes I, O, T, S, Z, L, J, each drawn
# in its rotations only ({glue:text}`chiral_placements` placements on the {glue:text}`chiral_side`
# grid). The quarter turns $C_4$ are its true group; the ladder is
#
# $C_2$ (the half turn) $\subset C_4$ (quarter turns: the task's group) $\subset D_4$ (adds the
# mirrors: wrong, a mirror turns an S into a Z and an L into a J).
#
# The input distribution is finite (a uniform class, then a uniform placement; the pixel noise is
# independent of the label and rounding recovers the placement), so the ceilings are again exact:
# `symsharing.study.ceilings` enumerates the placements with their probabilities.

# %% tags=["hide-input"]
import torch

from symsharing.groups import grid_row_shift
from symsharing.tasks import STUDY_TASKS

chiral = get_task(GRID_LADDER_TASK)
assert chiral.name not in STUDY_TASKS  # a variant: the study's axes never loop over it
grid_groups = ladder_groups(chiral)
X_test, y_test = chiral.sample(grid_config.training.n_test, TEST_SEED_OFFSET + grid_config.seeds[0])
sampled_mixing = {}
for name, group in grid_groups.items():  # the share of the sampled test set whose orbit holds another label
    mixed = torch.zeros(len(X_test), dtype=torch.bool)
    for g in group.elements():
        mixed |= chiral.label(group.act(g, X_test)) != y_test
    sampled_mixing[name] = float(mixed.float().mean())
grid_ceiling_table = pd.DataFrame([
    {"group": name, "order": group.order(),
     "ceiling (test)": ceilings.ceiling(chiral, group, "test"),
     "ceiling (OOD)": ceilings.ceiling(chiral, group, "ood"),
     "share of inputs whose orbit holds another label": ceilings.label_mixing(chiral, group),
     f"the same share on {len(X_test):,} sampled test inputs": sampled_mixing[name]}
    for name, group in grid_groups.items()]).set_index("group")
glue("grid_ceiling_table", plots.table(grid_ceiling_table), display=False)
for name in grid_groups:
    glue(f"grid_ceiling_{name}", f"{grid_ceiling_table.loc[name, 'ceiling (test)']:.3f}", display=False)
    glue(f"grid_mixing_{name}", f"{ceilings.label_mixing(chiral, grid_groups[name]):.1%}", display=False)
    glue(f"grid_sampled_mixing_{name}", f"{sampled_mixing[name]:.1%}", display=False)
grid = get_task("grid")
glue("grid_rowshift_ceiling", f"{ceilings.ceiling(grid, grid_row_shift(grid.side)):.3f}", display=False)
glue("chiral_classes", f"{chiral.n_outputs}", display=False)
glue("chiral_placements", f"{len(chiral.placements()[0])}", display=False)
glue("chiral_side", f"{chiral.side} × {chiral.side}", display=False)
glue("grid_n_test", f"{len(X_test):,}", display=False)

# %% [markdown]
# ```{glue:figure} grid_ceiling_table
# :name: tab-grid-ceilings
#
# Exact ceilings of the grid variant's ladder (the OOD intensity map moves no placement, so both
# splits agree), the exact share of inputs whose orbit holds an input of another class, and the
# same share counted on {glue:text}`grid_n_test` sampled test inputs (every element of the group
# applied to each, labelled by the task's rule).
# ```
#
# $C_2$ and $C_4$ have ceiling {glue:text}`grid_ceiling_C4` ({numref}`tab-grid-ceilings`). $D_4$
# caps accuracy at {glue:text}`grid_ceiling_D4`: the orbit of every S, Z, L and J image holds its
# mirror image, of the other class and of the same probability, so the best a $D_4$-invariant
# classifier can do is guess within each pair — {glue:text}`grid_mixing_D4` of the inputs are
# affected (counted on the sampled test set: {glue:text}`grid_sampled_mixing_D4`).

# %% tags=["hide-input"]
grid_records = records[records["task"] == chiral.name]
display(Markdown(provenance_markdown(grid_config.seeds)))
figure = plots.plot_ladder(grid_records)
glue("fig_grid_ladder", figure, display=False)
glue("grid_seeds", f"{len(grid_config.seeds)}", display=False)
glue("ring_seeds", f"{len(config.seeds)}", display=False)
glue("grid_sizes", ", ".join(f"{n:,}" for n in grid_config.n_trains), display=False)
glue("ring_sizes", ", ".join(f"{n:,}" for n in config.n_trains), display=False)
dropped = sorted(set(config.n_trains) - set(grid_config.n_trains))
glue("grid_sizes_note", f"; at n = {', '.join(map(str, dropped))} there are about "
     f"{max(dropped) / chiral.n_outputs:.1f} images per class"
     if dropped else "", display=False)


def tuning(training) -> str:
    """Where a sweep's rates are tuned, in words, from its configuration."""
    sizes = training.lr_sizes or (training.lr_n_train,)
    where = "at n = " + ", ".join(f"{n:,}" for n in sizes)
    seeds = f"{training.n_pilots} pilot seed{'s' if training.n_pilots > 1 else ''}"
    return f"{'once, ' if len(sizes) == 1 else 'per size bucket, '}{where}, with {seeds}"


glue("grid_tuning", tuning(grid_config.training), display=False)
glue("ring_tuning", tuning(config.training), display=False)

# %% [markdown]
# ```{glue:figure} fig_grid_ladder
# :name: fig-grid-ladder
#
# {glue:text}`grid_ladder_caption` Test accuracy against training-set size on the one-sided grid
# variant for the MLP and for the shared architecture tied by $C_2$, $C_4$ and $D_4$ (mean over
# {glue:text}`grid_seeds` seeds, 95 % t-interval bands). A dashed line of a group's colour marks
# its exact ceiling where that is below 1; the black dashed line is 1.
# ```
#
# **The ring's protocol.** The grid variant runs {glue:text}`grid_seeds` seeds (the ring:
# {glue:text}`ring_seeds`), the sizes {glue:text}`grid_sizes` (the ring:
# {glue:text}`ring_sizes`{glue:text}`grid_sizes_note`), and each family's learning rate is tuned
# {glue:text}`grid_tuning` (the ring's: {glue:text}`ring_tuning`), with the ring's budgets.

# %% tags=["hide-input"]
grid_crossovers = crossovers_table(grid_records, GRID_LADDER_COMPARISONS)
grid_shown = grid_crossovers[["larger", "smaller", "advantage_smallest", "advantage_largest", "finding"]].rename(
    columns={"larger": "larger arm", "smaller": "smaller arm",
             "advantage_smallest": f"advantage at n = {min(grid_config.n_trains)}",
             "advantage_largest": f"advantage at n = {max(grid_config.n_trains)}"})
glue("grid_crossover_table", plots.table(grid_shown), display=False)
grid_summary = summarize(grid_records.assign(arm=ladder_arm(grid_records)), ["arm", "n_train"])
# The grid's noisy pixels cannot be enumerated: each cell's mean test accuracy pools
# runs x n_test independent test samples, each correct with probability at most the ceiling, so by
# Hoeffding's inequality it exceeds the ceiling by more than `margin` with probability at most 1e-6
# over all cells together (Bonferroni): a check that fails by chance once in a million builds.
checked = grid_summary[grid_summary["arm"].isin(list(grid_groups))]
margins = {row.Index: hoeffding_margin(int(row.runs - row.diverged - row.collapsed) * grid_config.training.n_test,
                                       1e-6, tests=len(checked)) for row in checked.itertuples()}
over = [(row.arm, row.n_train) for row in checked.itertuples()
        if row.mean > ceilings.ceiling(chiral, grid_groups[row.arm]) + margins[row.Index]]
assert not over, f"a mean score exceeds its group's exact ceiling beyond the 1e-6 Hoeffding margin: {over}"
glue("grid_hoeffding_margin", f"{max(margins.values()):.3f}", display=False)
for _, row in grid_crossovers.iterrows():
    glue(f"grid_crossover_{row['larger']}_{row['smaller']}", row["finding"], display=False)
largest = max(grid_config.n_trains)
at_largest = grid_summary[grid_summary["n_train"] == largest].set_index("arm")["mean"]
glue("grid_largest_n", f"{largest:,}", display=False)
glue("grid_ladder_caption", ladder_finding(grid_summary, grid_ceiling_table["ceiling (test)"]), display=False)
for arm, value in at_largest.items():
    glue(f"grid_largest_{arm}", f"{value:.3f}", display=False)

# %% [markdown]
# ```{glue:figure} grid_crossover_table
# :name: tab-grid-crossovers
#
# Crossovers of the grid variant's ladder, defined and tested as in {numref}`tab-crossovers`
# (Holm-corrected across these rows, a family of tests of its own).
# ```
#
# **Answer on the grid variant.** The wrong group is capped where theory says: no cell's mean test
# accuracy lies above its group's exact ceiling by more than the Hoeffding margin (at most
# {glue:text}`grid_hoeffding_margin`) that sampling could explain with probability $10^{-6}$
# (checked above; on the ring, every one of {glue:text}`ladder_population_checked` tied models was
# checked exactly, on the whole test distribution); at n = {glue:text}`grid_largest_n`
# $D_4$ reaches {glue:text}`grid_largest_D4` against its ceiling {glue:text}`grid_ceiling_D4`, while
# $C_4$ reaches {glue:text}`grid_largest_C4` and the MLP {glue:text}`grid_largest_mlp`. $D_4$ against
# $C_4$: {glue:text}`grid_crossover_D4_C4`. $D_4$ against the MLP: {glue:text}`grid_crossover_D4_mlp`.
# $C_4$ against the MLP: {glue:text}`grid_crossover_C4_mlp`. $C_2$ and $C_4$ both have ceiling 1,
# so no crossover is expected between them: {glue:text}`grid_crossover_C4_C2`.
