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
# **Question.** For a given number of free parameters, which family scores best? Two claims of the
# main study {cite}`kim2025sharing` meet here: sharing helps most when capacity is restricted
# (claim 4), and sharing is not merely compression — a shared model beats a dense model with the
# *same number of free parameters* (claim 5).
#
# **Protocol.** The shared families are trained at the channel counts of `shared_widths` below.
# For each shared model the dense families (`mlp`, `mlp+aug`, `mlp+aug+avg`) get the hidden width
# whose free-parameter count (`count_parameters`) is closest to the shared model's, so every
# size of the sweep pits sharing against a dense network of equal capacity. Controls
# (`shared-sub`, `shared-wrong`) use the same channel counts and so have their own parameter
# counts. Same training set of n = `n_trains` for all, same budget, learning rates chosen as in the
# sample-efficiency chapter; 95 % Student-t intervals over seeds.

# %%
from pathlib import Path

import pandas as pd
from myst_nb import glue

from symsharing import analysis, experiments, plots

config = experiments.config_for("parameter-efficiency")
print(config)
records = experiments.parameter_efficiency()
Path("../results").mkdir(exist_ok=True)
records.to_csv("../results/parameter-efficiency.csv", index=False)

# %% [markdown]
# One row per trained model
# ({download}`parameter-efficiency.csv <../results/parameter-efficiency.csv>`); diverged runs:

# %%
analysis.divergence_table(records)

# %% [markdown]
# ## Score against free parameters

# %%
figure = plots.plot_curves(records, x="n_params", value="test_score")

# %% [markdown]
# ## Shared vs dense at equal parameter counts
#
# At each size of the sweep: the shared model's free parameters, the matched MLP's, and the
# advantage of sharing (signed so that positive favours sharing; paired by seed; 95 % CI).

# %%
rows = []
for task in config.tasks:
    per_task = records[records["task"] == task]
    shared = sorted(per_task.loc[per_task["family"] == "shared", "width"].unique())
    dense = sorted(per_task.loc[per_task["family"] == "mlp", "width"].unique())
    for index, (channels, width) in enumerate(zip(shared, dense, strict=True)):
        matched = per_task[((per_task["family"] == "shared") & (per_task["width"] == channels))
                           | ((per_task["family"] == "mlp") & (per_task["width"] == width))]
        effect = analysis.paired_effect(matched, task, "shared", "mlp")
        rows.append({"task": task, "size": f"size {index + 1}",
                     "shared params": int(matched.loc[matched["family"] == "shared", "n_params"].iloc[0]),
                     "mlp params": int(matched.loc[matched["family"] == "mlp", "n_params"].iloc[0]),
                     "effect": effect[0], "low": effect[1], "high": effect[2]})
matched_table = pd.DataFrame(rows)
figure = plots.plot_effects(matched_table, label="size")
matched_table.round(4)

# %%
for claim, value in (("4", "width-contrast"), ("5", "matched")):
    for task in config.tasks:
        effect = analysis.capacity_effect(records, task, contrast=value == "width-contrast")
        glue(f"pe_{task}_claim{claim}", analysis.format_effect(effect), display=False)
        glue(f"pe_{task}_claim{claim}_verdict", analysis.verdict(effect[1], effect[2]), display=False)

# %% [markdown]
# ## Answer
#
# Averaged over the sizes of the sweep, the advantage of the shared model over a dense MLP with
# the same number of free parameters (claim 5; signed so that positive favours sharing, mean
# [95 % CI] over seeds) is {glue:text}`pe_set_claim5` on the set task
# ({glue:text}`pe_set_claim5_verdict`), {glue:text}`pe_ring_claim5` on the ring task
# ({glue:text}`pe_ring_claim5_verdict`) and {glue:text}`pe_grid_claim5` on the grid task
# ({glue:text}`pe_grid_claim5_verdict`). Whether that advantage is larger for the smallest models
# than for the largest (claim 4: advantage at the smallest size minus at the largest) gives
# {glue:text}`pe_set_claim4` ({glue:text}`pe_set_claim4_verdict`), {glue:text}`pe_ring_claim4`
# ({glue:text}`pe_ring_claim4_verdict`) and {glue:text}`pe_grid_claim4`
# ({glue:text}`pe_grid_claim4_verdict`). The discussion chapter turns these into verdicts.
