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
# # Models: three ways to meet a symmetry
#
# The study compares three model families on each task {cite}`kim2025sharing`:
#
# | family | what it is | what it knows about $G$ |
# | --- | --- | --- |
# | `mlp` | a dense ReLU network, `MLP(n_in, n_out, width, depth)` | nothing |
# | `mlp+aug` | the same MLP, each training batch moved by random elements of $G$ | what the data show it |
# | `shared` | `SharedMLP(G, n_out, channels, depth)`: `SharedLinear` layers tied by $G$, then an invariant readout | exactly invariant by construction |
#
# `depth` counts hidden layers for both, so both have `depth + 1` linear maps. A `SharedMLP` lifts
# the input $[b, n]$ to one channel $[b, 1, n]$, applies `depth` equivariant layers with
# `channels` channels each (ReLU between), averages each channel over every orbit of points,
# and reads the result out with a dense linear map. The experiment chapters add controls:
# test-time averaging over the group (`mlp+aug+avg`), sharing by a proper subgroup
# (`shared-sub`) and by a wrong group (`shared-wrong`).

# %%
import matplotlib.pyplot as plt
import torch
from myst_nb import glue

from symsharing.figures.captions import listing
from symsharing.figures.plots import book_style
from symsharing.models import MLP, SharedMLP, count_parameters
from symsharing.sharing import SharedLinear, fast_path
from symsharing.tasks import STUDY_TASKS, get_task
from symsharing.testing import assert_invariant

study_tasks = {name: get_task(name) for name in STUDY_TASKS}  # variants stay out
book_style()
for name, task in study_tasks.items():
    print(f"{name:5s} group {task.group.name:12s} |G| = {task.group.order():>6,}  "
          f"points {task.group.n:3d}  point orbits {len(task.group.orbits()):3d}  "
          f"pair orbits {task.group.n_pair_orbits():4d}  forward pass: {fast_path(task.group)}")

# %% [markdown]
# ## The tied weight pattern of each task's group
#
# Each image of {numref}`fig-shared-weights` is the $n \times n$ weight matrix between one input and one output channel of a
# `SharedLinear` layer: entries of one colour are one shared parameter. For the set task it is
# the two-weight DeepSets pattern {cite}`zaheer2017deepsets`, for the ring a circulant (a
# circular convolution), for the image a pattern tied by the rotations and reflections of the
# square.

# %%
fig, axes = plt.subplots(1, 3, figsize=(8, 3))
for ax, task in zip(axes, study_tasks.values(), strict=True):
    layer = SharedLinear(task.group, 1, 1, bias=False)
    with torch.no_grad():
        layer.weight.copy_(torch.randn_like(layer.weight))
        weight = layer.dense_weight()[0, 0]  # (n, n)
    ax.imshow(weight.numpy(), cmap="coolwarm", interpolation="nearest")
    ax.set_title(f"{task.name}: {task.group.n_pair_orbits()} free of {task.group.n ** 2}")
    ax.set_xticks([])
    ax.set_yticks([])
plt.tight_layout()
plt.close(fig)

# %% tags=["remove-cell"]
glue("fig_shared_weights", fig, display=False)
glue("models_weights_caption", "Tying leaves " + listing(
    f"{task.group.n_pair_orbits():,} of the {task.group.n ** 2:,} weights free on the {name} task "
    f"({task.group.n ** 2 / task.group.n_pair_orbits():.3g}× fewer)" for name, task in study_tasks.items()) + ".",
    display=False)

# %% [markdown]
# ```{glue:figure} fig_shared_weights
# :name: fig-shared-weights
#
# {glue:text}`models_weights_caption` One random `SharedLinear` weight matrix (one input, one output
# channel) for the group of each task, coloured by value: set ($S_8$), ring ($C_{16}$), grid ($D_4$
# on 49 pixels). The titles count the free weights against the $n^2$ entries of a dense layer.
# ```

# %% [markdown]
# ## Invariance by construction
#
# Whatever its weights, a `SharedMLP` gives the same output for $x$ and $g \cdot x$; a freshly
# initialised MLP does not. `assert_invariant` (from `symsharing.testing`, also used by the
# tests) checks every element of small groups and random elements of large ones, with a
# tolerance set by the dtype.

# %%
torch.manual_seed(0)
invariance_rows = []
for name, task in study_tasks.items():
    X, _ = task.sample(64, seed=0)
    shared = SharedMLP(task.group, task.n_outputs, channels=8).double()
    assert_invariant(shared, task.group, X.double())
    mlp = MLP(task.group.n, task.n_outputs, width=64).double()
    g = task.group.random_elements(1, torch.Generator().manual_seed(0))[0]
    with torch.no_grad():
        shared_change = float((shared(task.group.act(g, X.double())) - shared(X.double())).abs().max())
        mlp_change = float((mlp(task.group.act(g, X.double())) - mlp(X.double())).abs().max())
    invariance_rows.append((name, shared_change, mlp_change))
    print(f"{name:5s} max |f(g.x) - f(x)|: shared {shared_change:.1e}   mlp {mlp_change:.1e}")

# %% [markdown]
# ## Parameter counts
#
# `count_parameters` counts free trainable parameters: a tied weight counts once. A shared layer
# with $c$ channels has $c_{\text{in}} c_{\text{out}} \times$ (pair orbits) weights and
# $c_{\text{out}} \times$ (point orbits) biases, against
# $(c_{\text{in}} n)(c_{\text{out}} n) + c_{\text{out}} n$ for a dense layer of the same
# hidden size $c \cdot n$.

# %%
print(f"{'task':5s} {'model':26s} {'hidden units':>12s} {'parameters':>11s}")
counts = {}
for name, task in study_tasks.items():
    n = task.group.n
    for channels in (4, 16):
        shared = SharedMLP(task.group, task.n_outputs, channels=channels)
        dense = MLP(n, task.n_outputs, width=channels * n)
        counts[(name, channels)] = (count_parameters(shared), count_parameters(dense))
        print(f"{name:5s} {'SharedMLP channels=' + str(channels):26s} {channels * n:12d} "
              f"{count_parameters(shared):11,d}")
        print(f"{name:5s} {'MLP width=' + str(channels * n):26s} {channels * n:12d} "
              f"{count_parameters(dense):11,d}")
ratio = {name: counts[(name, 16)][1] / counts[(name, 16)][0] for name in study_tasks}

# %% tags=["remove-cell"]
for name, value in ratio.items():
    glue(f"ratio_{name}", f"{value:.0f}", display=False)

# %% [markdown]
# At the same hidden size (16 channels on every point), the dense MLP has
# {glue:text}`ratio_set` times more parameters than the shared model on the set task,
# {glue:text}`ratio_ring` times more on the ring and {glue:text}`ratio_grid` times more on the
# grid. In the experiments the MLP gets its own width: the parameter-efficiency chapter compares
# the families at equal *parameter* counts instead.
