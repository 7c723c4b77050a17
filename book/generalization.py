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
# **Protocol.** Every family on the three tasks at three training-set sizes (configuration below),
# trained and scored as in the other chapters. The train–test gap is train accuracy minus test
# accuracy (classification) or test MSE minus train MSE (regression): positive means the model
# does better on its training data. The out-of-distribution score uses `task.sample_ood`, which
# moves the inputs but keeps the labelling rule (each task's shift is printed below).

# %%
from pathlib import Path

from myst_nb import glue

from symsharing import analysis, experiments, plots
from symsharing.tasks import get_task

config = experiments.config_for("generalization")
print(config)
for task in config.tasks:
    print(f"{task}: {get_task(task).ood_description}")
records = experiments.generalization()
Path("../results").mkdir(exist_ok=True)
records.to_csv("../results/generalization.csv", index=False)
reference_n = sorted(config.n_trains)[len(config.n_trains) // 2]

# %% [markdown]
# One row per trained model ({download}`generalization.csv <../results/generalization.csv>`);
# diverged runs:

# %%
analysis.divergence_table(records)

# %% [markdown]
# ## Train–test gap

# %%
figure = plots.plot_curves(records, value="generalization_gap", logy=False)

# %% [markdown]
# ## Out-of-distribution score

# %%
figure = plots.plot_curves(records, value="ood_score")

# %%
glue("gen_reference_n", f"{reference_n:,}", display=False)
for task in config.tasks:
    gap = analysis.paired_effect(records, task, "shared", "mlp", "generalization_gap", n_train=reference_n)
    ood = analysis.paired_effect(records, task, "shared", "mlp", "ood_score", n_train=reference_n)
    aug = analysis.paired_effect(records, task, "shared", "mlp+aug", "ood_score", n_train=reference_n)
    for name, effect in (("gap", gap), ("ood", ood), ("ood_aug", aug)):
        glue(f"gen_{task}_{name}", analysis.format_effect(effect), display=False)
        glue(f"gen_{task}_{name}_verdict", analysis.verdict(effect[1], effect[2]), display=False)

# %% [markdown]
# ## Answer
#
# At n = {glue:text}`gen_reference_n`, the reduction of the train–test gap by sharing (MLP's gap
# minus the shared model's, paired by seed, mean [95 % CI]) is {glue:text}`gen_set_gap` on the
# set task ({glue:text}`gen_set_gap_verdict`), {glue:text}`gen_ring_gap` on the ring task
# ({glue:text}`gen_ring_gap_verdict`) and {glue:text}`gen_grid_gap` on the grid task
# ({glue:text}`gen_grid_gap_verdict`). Out of distribution, the shared model's advantage over the
# MLP (signed so that positive favours sharing) is {glue:text}`gen_set_ood`
# ({glue:text}`gen_set_ood_verdict`), {glue:text}`gen_ring_ood` ({glue:text}`gen_ring_ood_verdict`)
# and {glue:text}`gen_grid_ood` ({glue:text}`gen_grid_ood_verdict`); over the augmented MLP it is
# {glue:text}`gen_set_ood_aug`, {glue:text}`gen_ring_ood_aug` and {glue:text}`gen_grid_ood_aug`.
# A smaller gap is not by itself a better model — a model that fits its training data poorly has
# a small gap too — so the figures should be read together with the learning curves of the
# sample-efficiency chapter.
