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
# # Three tasks with an exact symmetry
#
# The main study {cite}`kim2025sharing` compares its models on three toy tasks with an exact
# symmetry. Its full text is not public, so the tasks here are **reconstructions**: one per kind
# of symmetry — a set (all permutations), a ring (rotations) and an image (rotations and
# reflections of the square). Each task carries its group, a seeded sampler, an exact label
# function that is invariant under the group for *any* input, and an out-of-distribution (OOD)
# split that moves the inputs but keeps the rule.

# %%
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch
from myst_nb import glue

from symsharing.figures.plots import book_style
from symsharing.stats import summarize
from symsharing.study.axes import sample_efficiency
from symsharing.tasks import STUDY_TASKS, get_task

study_tasks = {name: get_task(name) for name in STUDY_TASKS}  # variants stay out

book_style()
for name, task in study_tasks.items():
    print(f"[{name}] {task.description}\n    OOD: {task.ood_description}\n")

# %% [markdown]
# ## The set task: permutations of eight numbers
#
# Eight real numbers $x_i \sim N(0, 1)$; the target is the sum of the two largest. Reordering the
# numbers changes nothing, so the group is the symmetric group $S_8$ with
# {glue:text}`set_order` elements, acting transitively (one orbit of points).

# %%
set_task = get_task("set")
X, y = set_task.sample(4, seed=0)
fig, axes = plt.subplots(1, 4, figsize=(8, 2.3), sharey=True)
for ax, values, target in zip(axes, X, y, strict=True):
    top = set(values.topk(2).indices.tolist())
    ax.bar(range(8), values, color=["C3" if i in top else "C0" for i in range(8)])
    ax.set_title(f"y = {float(target):.2f}")
    ax.set_xticks(range(0, 8, 2))
axes[0].set_ylabel("x_i")
plt.tight_layout()
plt.close(fig)

# %% tags=["remove-cell"]
glue("set_order", f"{set_task.group.order():,}", display=False)
glue("fig_set_examples", fig, display=False)
shuffled = set_task.label(X[:, torch.randperm(8, generator=torch.Generator().manual_seed(0))])
glue("tasks_set_caption", f"In these {len(X)} samples the target differs from the sum of the two red bars by at most "
     f"{float((y.reshape(-1) - X.topk(2, dim=1).values.sum(1)).abs().max()):.1e}, and reordering the bars changes it "
     f"by at most {float((shuffled - y).abs().max()):.1e}.", display=False)

# %% [markdown]
# ```{glue:figure} fig_set_examples
# :name: fig-set-examples
#
# {glue:text}`tasks_set_caption` Four samples of the set task: the eight values $x_i$ as bars, the
# two largest in red; the panel title is the target $y$.
# ```

# %% [markdown]
# ## The ring task: a motif anywhere around a ring
#
# Sixteen bits on a ring (encoded as ±1); the label says whether the motif `11010` occurs
# somewhere, reading clockwise and wrapping around. Rotating the ring keeps the answer, so the
# group is the cyclic group $C_{16}$. Reflecting it does not: the mirrored motif `01011` is a
# different pattern. Of {glue:text}`ring_n` training rings, {glue:text}`ring_positive` hold the
# motif.

# %%
ring = get_task("ring")
X_ring, y_ring = ring.sample(4000, seed=0)
angles = 2 * np.pi * np.arange(16) / 16
fig, axes = plt.subplots(1, 4, figsize=(8, 2.4), subplot_kw={"aspect": "equal"})
for ax, bits, label in zip(axes, X_ring[:4], y_ring[:4], strict=True):
    ax.plot(np.cos(angles), np.sin(angles), color="0.8", zorder=0)
    ax.scatter(np.cos(angles), np.sin(angles), s=70, c=(bits > 0).numpy(), cmap="Greys",
               edgecolors="k", vmin=0, vmax=1)
    ax.set_title(f"motif present: {bool(label)}")
    ax.axis("off")
plt.tight_layout()
plt.close(fig)

# %% tags=["remove-cell"]
glue("ring_n", f"{len(y_ring):,}", display=False)
glue("ring_positive", f"{float(y_ring.float().mean()):.1%}", display=False)
glue("fig_ring_examples", fig, display=False)
kept = [bool(torch.equal(ring.label(ring.group.act(g, X_ring[:4])), y_ring[:4])) for g in ring.group.elements()]
glue("tasks_ring_caption", f"{int(y_ring[:4].sum())} of these 4 rings hold the motif; under {sum(kept)} of the "
     f"{len(kept)} rotations of the ring every one of them keeps its label.", display=False)

# %% [markdown]
# ```{glue:figure} fig_ring_examples
# :name: fig-ring-examples
#
# {glue:text}`tasks_ring_caption` Four samples of the ring task: 16 bits around a ring (black = 1).
# The panel title says whether the motif `11010` occurs somewhere, read clockwise with wrap-around.
# ```

# %% [markdown]
# ## The grid task: tetrominoes in any pose
#
# A 7 × 7 image shows one of the five free tetrominoes (I, O, T, S, L) at a random position, in
# any rotation or reflection, with a little pixel noise. The label is the shape, so the group is
# the dihedral group of the square, $D_4$, acting on the pixels. This action is **not
# transitive**: the 49 pixels fall into {glue:text}`grid_orbits` orbits, and the centre pixel is
# an orbit of its own. Note that the task is *not* translation invariant on this small image
# (shapes cannot wrap around), and $D_4$ is the symmetry we tie.

# %%
grid = get_task("grid")
orbit_image = grid.group.orbit_index().reshape(7, 7)
X_grid, y_grid = grid.sample(400, seed=0)
shape_names = list(grid.shapes)
fig, axes = plt.subplots(1, 6, figsize=(8, 1.9))
axes[0].imshow(orbit_image, cmap="tab10")
axes[0].set_title("D4 orbits")
for ax, class_id in zip(axes[1:], range(5), strict=True):
    index = int((y_grid == class_id).nonzero()[0])
    ax.imshow(X_grid[index].reshape(7, 7), cmap="Greys", vmin=-0.3, vmax=1.3)
    ax.set_title(f"class {shape_names[class_id]}")
for ax in axes:
    ax.set_xticks([])
    ax.set_yticks([])
plt.tight_layout()
plt.close(fig)

# %% tags=["remove-cell"]
glue("grid_orbits", f"{len(grid.group.orbits())}", display=False)
glue("fig_grid_examples", fig, display=False)
orbit_sizes = pd.Series([len(orbit) for orbit in grid.group.orbits()]).value_counts().sort_index(ascending=False)
glue("tasks_grid_caption", f"D4 splits the {grid.group.n} pixels into {len(grid.group.orbits())} orbits ("
     + ", ".join(f"{count} of {size} pixel{'s' if size > 1 else ''}" for size, count in orbit_sizes.items())
     + f"), so a tied layer sees {len(grid.group.orbits())} kinds of pixel where a dense one sees "
     f"{grid.group.n}.", display=False)

# %% [markdown]
# ```{glue:figure} fig_grid_examples
# :name: fig-grid-examples
#
# {glue:text}`tasks_grid_caption` Left: the orbits of $D_4$ on the pixels of the grid task, one
# colour per orbit. Then one sample of each of the five classes, in a random pose and position,
# with pixel noise.
# ```

# %% [markdown]
# ## Checks: exact labels, invariance, balance, OOD shift
#
# For every task we check, on fresh samples, that the label function reproduces the sampled
# labels, that it is invariant under random group elements, how balanced the classes are, and
# how far the OOD inputs move.

# %%
rows = []
for name, task in study_tasks.items():
    X, y = task.sample(2000, seed=1)
    X_ood, _ = task.sample_ood(2000, seed=1)
    g = task.group.random_elements(len(X), torch.Generator().manual_seed(1))
    moved = task.label(task.group.act(g, X))
    assert torch.equal(task.label(X), y) and torch.equal(moved, y)
    if task.kind == "classification":
        shares = torch.bincount(y, minlength=task.n_outputs).float() / len(y)
        balance = f"smallest class {float(shares.min()):.1%}"
    else:
        balance = f"target std {float(y.std()):.2f}"
    rows.append((name, balance, float(X.mean()), float(X.std()), float(X_ood.mean()), float(X_ood.std())))
print(f"{'task':5s} {'balance':22s} {'train mean/std':>16s} {'OOD mean/std':>16s}")
for name, balance, mean, std, ood_mean, ood_std in rows:
    print(f"{name:5s} {balance:22s} {mean:7.2f} / {std:5.2f}  {ood_mean:7.2f} / {ood_std:5.2f}")

# %% [markdown]
# ## Neither trivial nor impossible
#
# A useful task must leave room for an inductive bias to matter: a plain MLP should be clearly
# worse with few samples than with many, and the model that knows the symmetry should reach a
# good score when data are plentiful. The numbers below are the MLP and the shared model of the
# sample-efficiency experiment (its chapter gives the protocol), at 64 samples and at the
# largest training set of the sweep; they are read from the results cache when that chapter
# has already run. For the set task the score is a mean squared error (lower is better; the
# target's variance is the error of always predicting the mean), for the others an accuracy.

# %%

records = sample_efficiency()
largest = int(records["n_train"].max())
chosen = records[records["family"].isin(["mlp", "shared"]) & records["n_train"].isin([64, largest])]
difficulty = summarize(chosen, ["task", "family", "n_train"])
difficulty["score"] = [f"{m:.3f} [{lo:.3f}, {hi:.3f}]" for m, lo, hi in
                       difficulty[["mean", "low", "high"]].itertuples(index=False)]
print(difficulty.pivot(index=["task", "family"], columns="n_train", values="score").to_string())
set_variance = float(get_task("set").sample(4096, seed=0)[1].var())
means = difficulty.set_index(["task", "family", "n_train"])["mean"]

# %% tags=["remove-cell"]
glue("largest_n", f"{largest:,}", display=False)
glue("set_variance", f"{set_variance:.2f}", display=False)
for name in study_tasks:
    glue(f"{name}_mlp_small", f"{means[(name, 'mlp', 64)]:.3f}", display=False)
    glue(f"{name}_mlp_large", f"{means[(name, 'mlp', largest)]:.3f}", display=False)
    glue(f"{name}_shared_large", f"{means[(name, 'shared', largest)]:.3f}", display=False)

# %% [markdown]
# The MLP improves from {glue:text}`ring_mlp_small` to {glue:text}`ring_mlp_large` accuracy on
# the ring and from {glue:text}`grid_mlp_small` to {glue:text}`grid_mlp_large` on the grid as
# the training set grows from 64 to {glue:text}`largest_n` samples, and its error on the set task
# falls from {glue:text}`set_mlp_small` to {glue:text}`set_mlp_large` (target variance
# {glue:text}`set_variance`). With {glue:text}`largest_n` samples the shared model reaches
# {glue:text}`ring_shared_large` on the ring, {glue:text}`grid_shared_large` on the grid and an
# error of {glue:text}`set_shared_large` on the set task.
