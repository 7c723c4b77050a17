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
# # Is symmetry-induced parameter sharing an inductive bias?
#
# **Abstract.** When a task has an exact symmetry, a network can be told about it by tying its
# weights so that it is invariant by construction. We rerun and extend an empirical study of
# whether that *parameter sharing* is an inductive bias {cite}`kim2025sharing`, on three toy tasks
# with an exact symmetry, against a plain MLP and an MLP trained with augmentation, with budgets
# that grow with the data, learning rates tuned for every family, {glue:text}`intro_seeds` data
# seeds per cell and pre-declared tests with Holm's correction. Of the study's five claims, robustness
# to an orbit shift (1a) is **{glue:text}`intro_claim_1a`**, lower variance across seeds (1b)
# **{glue:text}`intro_claim_1b`**, a smaller train–test gap (2) **{glue:text}`intro_claim_2`**, a
# larger gain with little data (3) **{glue:text}`intro_claim_3`**, a larger gain at small capacity
# (4) **{glue:text}`intro_claim_4`** and beating a dense model of equal parameter count (5)
# **{glue:text}`intro_claim_5`**. Given {glue:text}`intro_headline_n` samples, the shared model's
# score costs the MLP {glue:text}`intro_rate_set` as many samples on the set task,
# {glue:text}`intro_rate_ring` on the ring and {glue:text}`intro_rate_grid` on the grid (95 %
# bootstrap intervals). In parameter space, freezing random entries of every neuron (W-Asymmetric
# networks) lowers the loss barrier between two independently trained networks without any
# alignment: on handwritten digits to {glue:text}`intro_barrier_wasym` against
# {glue:text}`intro_barrier_mlp` for two unaligned standard MLPs; on the ring task it removes
# {glue:text}`intro_ring_removed` of the barrier.
#
# ```{glue:figure} tab_glance
# :name: tab-glance
#
# Results at a glance: each question, its answer on this build, and the chapter that shows it.
# ```
#
# When a task has an exact symmetry — the answer does not change if the inputs are permuted,
# rotated or reflected in some way — there are three ways to tell a neural network about it:
#
# 1. **do nothing**: a plain multilayer perceptron (MLP) has to discover the symmetry from data;
# 2. **augment**: train the same MLP on inputs moved by random elements of the symmetry group;
# 3. **share**: tie the network's weights so that it is *exactly* invariant, whatever its
#    weights are {cite}`ravanbakhsh2017equivariance`.
#
# This book reruns and extends an empirical study of that question {cite}`kim2025sharing` on
# three toy tasks with an exact symmetry, along four axes: robustness to symmetric transformations,
# sample efficiency, parameter efficiency and generalization. It then turns to the symmetries of
# the *parameters* themselves {cite}`zhao2025parameterspace` and to networks built to have none
# {cite}`lim2024asymmetric`.
#
# Every number and figure in this book is computed when the chapter runs, by the `symsharing`
# package that sits beside it.

# %% tags=["remove-cell"]
import pandas as pd
from myst_nb import glue

from symsharing.figures import plots
from symsharing.paramspace import connectivity
from symsharing.registry import run_experiment
from symsharing.stats import bootstrap_exchange_rates
from symsharing.study.analysis import crossovers_table, format_rate
from symsharing.study.claims import CLAIM_NAMES, claims_table
from symsharing.study.config import STUDY_AXES, config_for
from symsharing.theory.calibration import noise_averaged_records, pooled_calibration

plots.book_style()
results = {name: run_experiment(name) for name in STUDY_AXES}
robustness_config = config_for("robustness")
reference_n = sorted(robustness_config.n_trains)[len(robustness_config.n_trains) // 2]
claims = claims_table(results, reference_n, run_experiment("seed-variance"))
overall = claims.drop_duplicates("claim").set_index("claim")["overall"]
for claim, verdict in overall.items():
    glue(f"intro_claim_{claim.split()[0]}", verdict, display=False)
glue("intro_seeds", str(len(robustness_config.seeds)), display=False)
rates = bootstrap_exchange_rates(results["sample-efficiency"], "shared", "mlp", n_boot=1000)
headline_n = 64
for task in sorted(rates["task"].unique()):
    row = rates[(rates["task"] == task) & (rates["n_train"] == headline_n)].iloc[0]
    interval = "" if row["lower_bound"] or row["upper_bound"] else \
        f" [{row['low']:.3g}, {'> ' if row['censored_share'] > 0 else ''}{row['high']:.3g}]"
    glue(f"intro_rate_{task}", format_rate(row["rate"], row["lower_bound"], row["upper_bound"]) + interval,
         display=False)
glue("intro_headline_n", str(headline_n), display=False)
barriers = run_experiment("mode-connectivity")
means = connectivity.summarize(barriers.to_dict("records"))
wasym, mlp = means["digits", "w-asym"][0], means["digits", "mlp"][0]
glue("intro_barrier_wasym", f"{wasym:.3f}", display=False)
glue("intro_barrier_mlp", f"{mlp:.3f}", display=False)
ring_removed = 1 - means["ring", "w-asym"][0] / means["ring", "mlp"][0]
glue("intro_ring_removed", f"{ring_removed:.0%}", display=False)
ladder = crossovers_table(run_experiment("symmetry-ladder"))
s16 = ladder[(ladder["larger"] == "S16") & (ladder["smaller"] == "mlp")].iloc[0]["finding"]
verdict = {code: overall[name] for code, name in CLAIM_NAMES.items()}
calibration = pooled_calibration(noise_averaged_records())
calibration_answer = (f"on the closed form for {int(calibration['holds_one'].sum())} of {len(calibration)} "
                      f"(task, family) pairs (ratios {calibration['ratio'].min():.3f}–"
                      f"{calibration['ratio'].max():.3f}, intervals within ±{calibration['half_width'].max():.1%})")


def link(page: str, title: str) -> str:
    return f'<a href="{page}.html">{title}</a>'


glance = pd.DataFrame([
    ("Does sharing survive an orbit shift? (1a)", verdict["1a"], link("robustness", "Symmetric robustness")),
    ("Less variance across seeds? (1b)", verdict["1b"], link("discussion", "Discussion")),
    ("Smaller train–test gap? (2)", verdict["2"], link("generalization", "Generalization")),
    ("Larger gain with little data? (3)", verdict["3"], link("sample_efficiency", "Sample efficiency")),
    ("Larger gain at small capacity? (4)", verdict["4"], link("parameter_efficiency", "Parameter efficiency")),
    ("Beats a dense model of equal size? (5)", verdict["5"], link("parameter_efficiency", "Parameter efficiency")),
    ("Where does a wrong group (S16 on the ring) stop paying?", s16, link("symmetry_ladder", "Wrong groups")),
    ("Are W-Asymmetric networks connected without alignment?",
     f"barrier {wasym:.3f} against {mlp:.3f} unaligned", link("paramspace", "Parameter space")),
    ("Do trained linear models land on the closed form?", calibration_answer,
     link("predictions", "What theory predicts")),
], columns=["question", "answer (this build)", "chapter"])
glue("tab_glance", plots.table(glance), display=False)

# %% tags=["hide-input"]
import symsharing
from symsharing.groups import grid_dihedral, symmetric
from symsharing.tasks import STUDY_TASKS, get_task

study_tasks = {name: get_task(name) for name in STUDY_TASKS}  # variants stay out

print(f"symsharing {symsharing.__version__}")
for name, task in study_tasks.items():
    print(f"{name:5s} {task.kind:15s} group {task.group.name:12s} of order {task.group.order():>6,}")

# %% [markdown]
# ## How to read and run this book
#
# Each chapter is a Python file in `book/` (jupytext "percent" format) that runs top to bottom.
# Read it here, or open it in JupyterLab (`jupyter lab`, with jupytext installed every `.py`
# chapter opens as a notebook). The experiments cache their results on disk, keyed by their
# configuration and by a hash of the package's code, so rerunning a chapter is cheap and changing
# the code recomputes.  Setting `SYMSHARING_QUICK=1` runs every sweep on a smaller grid.
#
# How large are the symmetries at play? The symmetric group of the set task has
# {glue:text}`intro_set_order` elements; the dihedral group acting on a 7 × 7 image has only
# {glue:text}`grid_order`.

# %% tags=["remove-cell"]
from myst_nb import glue

glue("intro_set_order", f"{symmetric(8).order():,}", display=False)
glue("grid_order", f"{grid_dihedral(7).order():,}", display=False)

# %% [markdown]
# ## References
#
# ```{bibliography}
# ```
