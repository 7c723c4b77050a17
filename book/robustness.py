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
# # Symmetric robustness
#
# **Question.** The tasks' labels do not change when an input is moved by an element of the task's
# group. Does a model keep its score when it meets poses it was not trained on? Claim 1a of the
# main study {cite}`kim2025sharing` is that parameter sharing gives performance that is robust to
# symmetric transformations of the input.
#
# **Answer.** Trained on one pose per orbit, the plain MLP scores {glue:text}`rob_ring_mlp_slice` on the
# ring's training slice but {glue:text}`rob_ring_mlp_rest` on the rest of the orbits; on the grid
# {glue:text}`rob_grid_mlp_slice` against {glue:text}`rob_grid_mlp_rest`; on the set task its MSE
# goes from {glue:text}`rob_set_mlp_slice` to {glue:text}`rob_set_mlp_rest`. The shared model
# scores the same everywhere on an orbit by construction. The advantage of sharing on the rest of
# the orbits at n = {glue:text}`rob_reference_n` — claim 1a's primary endpoint, in normalised
# units (MSE divided by the target variance for the set task), shared minus MLP, paired by seed,
# mean [95 % interval], positive favouring sharing — is {glue:text}`rob_set_effect` (set),
# {glue:text}`rob_ring_effect` (ring) and {glue:text}`rob_grid_effect` (grid). The discussion
# chapter tests it with Holm's correction across every primary test.
#
# **Why not simply score on `g·x`?** Every task's input distribution is itself invariant under its
# group (i.i.d. values, i.i.d. bits, a uniform pose of a uniform shape), so a test set moved by
# random group elements has the *same distribution* as the test set: any model scores the same on
# both, up to noise. That test cannot fail, and {numref}`tab-null` shows it: it is the null of this
# chapter, not its measure.
#
# **Protocol: the orbit shift.** Each training input is replaced by the canonical representative
# of its orbit — its values sorted (set task, $S_8$), or the lexicographically smallest of its
# images under the group (ring, $C_{16}$; grid, $D_4$) — so a model sees a single pose of every
# orbit (`symsharing.study.orbits`). It is then scored on the canonical test inputs (the *slice* it was
# trained on) and on the *rest* of their orbits: every other image under the group (ring and grid:
# the whole orbit, exactly; set: {glue:text}`rob_sampled` random permutations, so orbit consistency and worst-case
# scores there are upper bounds). *Orbit consistency* is the share of test points whose prediction
# is the same over the orbit (same class; for regression, every output within
# {glue:text}`rob_tolerance`). The rest of
# the protocol — tuned learning rates, budgets, seeds — is that of the whole study:

# %% tags=["remove-cell"]
import pandas as pd
from IPython.display import Markdown, display
from myst_nb import glue

from symsharing.figures import plots
from symsharing.figures.captions import by_side, listing
from symsharing.figures.provenance import provenance_markdown
from symsharing.registry import run_experiment
from symsharing.stats import confidence_interval
from symsharing.study.analysis import collapse_table, format_effect
from symsharing.study.axes import robustness
from symsharing.study.claims import shared_advantage, verdict
from symsharing.study.config import config_for
from symsharing.study.families import ORBIT_ELEMENTS
from symsharing.study.orbits import REGRESSION_TOLERANCE, SAMPLED_ELEMENTS
from symsharing.study.runner import write_results

plots.book_style()

# %% tags=["hide-input"]
config = config_for("robustness")
records = robustness()
write_results("robustness", records)
reference_n = sorted(config.n_trains)[len(config.n_trains) // 2]
display(Markdown(config.training.describe()))
display(Markdown(provenance_markdown(config.seeds)))
glue("rob_reference_n", f"{reference_n:,}", display=False)
glue("rob_tolerance", f"{REGRESSION_TOLERANCE:g}", display=False)
glue("rob_sampled", str(SAMPLED_ELEMENTS), display=False)
glue("rob_avg_elements", str(ORBIT_ELEMENTS), display=False)

# %% [markdown]
# One row per trained model: {download}`robustness.csv <../results/robustness.csv>`.
#
# ## The null: scoring on `g·x` distinguishes nothing
#
# The models of the sample-efficiency chapter were trained on the full (invariant) distribution.
# Their score on randomly moved test inputs minus their score on the test inputs, paired by seed:

# %% tags=["hide-input"]
full = run_experiment("sample-efficiency")
full = full[full["n_train"] == reference_n]
rows = []
for (task, family), group in full.groupby(["task", "family"]):
    difference = (group["test_score_transformed"] - group["test_score"]).dropna()
    mean, low, high = confidence_interval(difference)
    rows.append({"task": task, "family": family, "score on g·x minus on x": f"{mean:+.4f} [{low:+.4f}, {high:+.4f}]",
                 "interval covers 0": bool(low <= 0 <= high)})
null = pd.DataFrame(rows)
glue("tab_null", plots.table(null.pivot(index="family", columns="task", values="score on g·x minus on x")),
     display=False)
glue("rob_null_covering", f"{null['interval covers 0'].sum()} of {len(null)}", display=False)

# %% [markdown]
# ```{glue:figure} tab_null
# :name: tab-null
#
# The i.i.d. `g·x` test on models trained on the full distribution, at n =
# {glue:text}`rob_reference_n`: score on moved test inputs minus score on the test inputs, mean
# [95 % interval] over seeds (accuracy; MSE for the set task); the interval covers 0 in
# {glue:text}`rob_null_covering` cells.
# ```
#
# The interval covers zero for {glue:text}`rob_null_covering` families and tasks: under an
# invariant test distribution the test cannot tell an invariant model from any other.
#
# ## The orbit shift

# %% tags=["hide-input"]
figure = plots.plot_curves(records, value="orbit_rest_score")
glue("fig_orbit_rest", figure, display=False)
figure = plots.plot_curves(records, value="orbit_consistency", logy=False)
glue("fig_orbit_consistency", figure, display=False)

# %% [markdown]
# ```{glue:figure} fig_orbit_rest
# :name: fig-orbit-rest
#
# {glue:text}`rob_rest_caption` (Normalised score, shared minus MLP paired by seed, positive
# favours sharing: claim 1a's primary endpoint.) Score on the rest of the test orbits — poses never
# seen in training — against the training-set size, per family (mean over seeds, 95 % t-interval
# bands; accuracy, or MSE for the set task).
# ```
#
# ```{glue:figure} fig_orbit_consistency
# :name: fig-orbit-consistency
#
# {glue:text}`rob_consistency_caption` Orbit consistency: the share of test points whose prediction
# is the same over their whole orbit (regression: within {glue:text}`rob_tolerance`). Models tied by
# the task's group and the MLP averaged over the whole orbit are at 1 by construction; averaging
# over {glue:text}`rob_avg_elements` random elements of $S_8$ (set task) is not a whole orbit.
# ```

# %% tags=["hide-input"]
at_reference = records[records["n_train"] == reference_n]
columns = {"slice_score": "slice", "orbit_rest_score": "rest of orbit", "orbit_consistency": "consistency",
           "orbit_worst_score": "worst case", "unseen_orbit_score": "unseen orbits"}
summary = at_reference.groupby(["task", "family"])[list(columns)].mean().rename(columns=columns)
glue("tab_orbit_shift", plots.table(summary), display=False)

# %% [markdown]
# ```{glue:figure} tab_orbit_shift
# :name: tab-orbit-shift
#
# The orbit shift at n = {glue:text}`rob_reference_n`, means over seeds: score on the canonical
# slice the models were trained on, on the rest of the orbits, orbit consistency, the worst case
# over each orbit (accuracy counting a point right only if right on its whole orbit; for the set
# task the mean worst squared error), and the score on test points whose orbit holds no training
# point.
# ```
#
# ## Training loss
#
# Every model is trained to a budget that grows with the data and a decaying rate; the final
# training loss shows whether a family was still far from fitting its data:

# %% tags=["hide-input"]
losses = records.groupby(["task", "family", "n_train"])["train_loss"].mean().unstack("n_train")
glue("tab_rob_train_loss", plots.table(losses, digits=4), display=False)
glue("tab_rob_divergence", plots.table(collapse_table(records), formats={"failed share": "{:.1%}"}), display=False)

# %% [markdown]
# ```{glue:figure} tab_rob_train_loss
# :name: tab-rob-train-loss
#
# Mean final training loss (cross-entropy, or MSE for the set task) per family and training-set
# size, on the full training set.
# ```
#
# ```{glue:figure} tab_rob_divergence
# :name: tab-rob-divergence
#
# Failed runs per task and family: diverged (the loss became NaN or infinite) or collapsed (a
# constant output on the training set); both are counted here and never averaged.
# ```

# %% tags=["remove-cell"]
answer, rest = {}, {}
for task in config.tasks:
    differences = shared_advantage(records, task, "orbit_rest_score", "n_train", [reference_n])
    mean, low, high = rest[task] = confidence_interval(differences.dropna())
    answer[task] = verdict(low, high)
    glue(f"rob_{task}_effect", format_effect((mean, low, high)), display=False)
    mlp = summary.loc[(task, "mlp")]
    glue(f"rob_{task}_mlp_slice", f"{mlp['slice']:.3f}", display=False)
    glue(f"rob_{task}_mlp_rest", f"{mlp['rest of orbit']:.3f}", display=False)
glue("rob_rest_caption", f"At n = {reference_n:,}, on the poses never seen in training " + by_side(rest, {
    "above": "the tied model is ahead of the MLP", "below": "the tied model is behind the MLP",
    "zero": "the paired interval holds 0", "none": "there is no interval (too few usable seeds)"}) + ".", display=False)
consistency = {family: listing(f"{summary.loc[(t, family), 'consistency']:.3f} ({t})" for t in config.tasks)
               for family in ("mlp", "shared")}
glue("rob_consistency_caption", f"At n = {reference_n:,} the share of test points predicted alike over their whole "
     f"orbit is {consistency['mlp']} for the MLP and {consistency['shared']} for the tied model.", display=False)
