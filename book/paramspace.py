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
# # Parameter-space symmetry and asymmetric networks
#
# The rest of the book is about symmetries of the *data*: tying weights so that a network cannot
# tell a rotated input from the original. Networks also have symmetries of their *parameters*:
# many weight vectors compute the same function {cite}`zhao2025parameterspace`. Swap two hidden
# units of an MLP (with their incoming and outgoing weights) and nothing changes; multiply a ReLU
# unit's incoming weights by $s > 0$ and divide its outgoing weights by $s$, and nothing changes
# either. This chapter asks three questions:
#
# 1. Are these symmetries exact, and how large are they?
# 2. Do they shape the loss landscape? Two networks trained from different initialisations are
#    usually separated by a loss barrier on the straight line between them; removing the
#    permutation symmetry — by aligning the networks {cite}`ainsworth2023rebasin`, or by building
#    networks that have none {cite}`lim2024asymmetric` — should lower it.
# 3. Weight tying by a task's group removes some parameter redundancy: what does it leave?

# %% tags=["remove-cell"]
import copy
import math

import matplotlib.pyplot as plt
import pandas as pd
import torch
from IPython.display import display
from myst_nb import glue

from symsharing.connectivity import (
    LIM_ORDER,
    barrier_order,
    chapter_config,
    curve_band,
    mode_connectivity,
    steps_to_loss,
    summarize,
)
from symsharing.models import MLP, SharedMLP, SigmaAsymmetricMLP, WAsymmetricMLP, count_parameters
from symsharing.paramspace import permutation_group_order, permute_hidden, rescale_hidden
from symsharing.plots import book_style
from symsharing.tasks import get_task
from symsharing.testing import default_tolerance

book_style()

# %% [markdown]
# ## The symmetries, exactly
#
# For a ReLU MLP with hidden layers $h_l = \mathrm{relu}(W_l h_{l-1} + b_l)$, a permutation matrix
# $P$ and a positive diagonal $D$ give the same function with
# $W_l \to P D W_l$, $b_l \to P D b_l$, $W_{l+1} \to W_{l+1} D^{-1} P^\top$,
# because $\mathrm{relu}(P D z) = P D\,\mathrm{relu}(z)$. `permute_hidden` and `rescale_hidden`
# apply them to every hidden layer at once; we compare the outputs on random inputs, in float32
# and float64.

# %% tags=["hide-input"]
generator = torch.Generator().manual_seed(0)
rows = []
for dtype in (torch.float32, torch.float64):
    torch.manual_seed(0)
    mlp = MLP(64, 10, 64, depth=2).to(dtype)
    x = torch.randn(256, 64, generator=generator).to(dtype)  # (batch, 64)
    perms = [torch.randperm(64, generator=generator) for _ in range(mlp.depth)]
    scales = [torch.exp(torch.randn(64, generator=generator)) for _ in range(mlp.depth)]
    moved = rescale_hidden(permute_hidden(mlp, perms), scales)
    with torch.no_grad():
        error = float((moved(x) - mlp(x)).abs().max())
        weight_change = float((moved.layers[0].weight - mlp.layers[0].weight).abs().max())
        assert error <= default_tolerance(mlp(x))
    rows.append({"dtype": str(dtype), "max |f'(x) - f(x)|": error, "max |W'_1 - W_1|": weight_change})
pd.DataFrame(rows)

# %% [markdown]
# The weights move by order one while the outputs agree to rounding error. How many weight vectors
# does one function have? Permutations alone give $\prod_l (\text{width}_l)!$ of them (more when
# some are equal, and a continuum of rescalings on top):

# %% tags=["hide-input"]
def scientific(n: int) -> str:
    """An exact integer in scientific notation (too large for a float)."""
    digits = str(n)
    return f"{digits[0]}.{digits[1:3]} × 10^{len(digits) - 1}"


for width, depth in [(8, 2), (64, 2), (512, 3)]:
    order = permutation_group_order(MLP(64, 10, width, depth))
    print(f"width {width:3d}, {depth} hidden layers: {scientific(order)} permutations")
order_64 = permutation_group_order(MLP(64, 10, 64, 2))
assert order_64 == math.factorial(64) ** 2
glue("perm_order_64", scientific(order_64), display=False)

# %% [markdown]
# The 64-wide MLP used below has {glue:text}`perm_order_64` equivalent weight vectors per function
# (that is $(64!)^2$).
#
# The asymmetric networks of {cite}`lim2024asymmetric` are built to lose these symmetries. The
# **W-Asymmetric** MLP freezes, in every row of every weight matrix, a few randomly chosen entries
# at fixed random values: permuting hidden units would move them, so it is not a symmetry any more.
# The **σ-Asymmetric** MLP replaces ReLU by $\sigma(F h) \odot h$ with a fixed random matrix $F$,
# which does not commute with permutations (or rescalings). The same moves now change the
# function; a `SharedMLP`, on the other hand, keeps an exact symmetry: permuting its *channels*.

# %% tags=["hide-input"]
ring = get_task("ring")
x = ring.sample(256, seed=0)[0]  # (batch, 16)
torch.manual_seed(0)
models = {"MLP": MLP(16, 2, 32), "W-Asym": WAsymmetricMLP(16, 2, 32, n_fixed=4, fixed_std=0.5, seed=0),
          "σ-Asym": SigmaAsymmetricMLP(16, 2, 32, seed=0), "SharedMLP (C16)": SharedMLP(ring.group, 2, 32)}
perms = [torch.randperm(32, generator=generator) for _ in range(2)]
with torch.no_grad():
    changes = {name: float((permute_hidden(model, perms)(x) - model(x)).abs().max())
               for name, model in models.items()}
pd.DataFrame([{"model": name, "free parameters": count_parameters(model),
               "max |f(x) after permuting - f(x)|": changes[name]} for name, model in models.items()])

# %% [markdown]
# ## Linear mode connectivity
#
# **Method.** For each family we train pairs of networks that differ only in their initial weights
# and mini-batch order (same data; the two W-/σ-Asymmetric networks of a pair share their fixed
# entries / matrices $F$, drawn once per pair), then evaluate the test loss and accuracy at 25
# points on the straight line $\theta(\alpha) = (1 - \alpha)\theta_A + \alpha\theta_B$. The
# *barrier* is the largest excess of the loss over the straight line between the endpoint losses,
# $\max_\alpha L(\theta(\alpha)) - [(1 - \alpha)L(\theta_A) + \alpha L(\theta_B)]$. Arms: a
# standard MLP as trained (unaligned), the same pairs after weight matching (Git Re-Basin's
# coordinate descent over layers, each a linear assignment), and the two asymmetric networks
# unaligned. Data: scikit-learn's 8×8 handwritten digits (1,797 images, 10 classes) and the ring
# task of this book (does a motif occur around a ring of 16 bits, binary). Everything is cached on
# disk by configuration and code.

# %% tags=["hide-input"]
configs = {name: chapter_config(name) for name in ("digits", "ring")}
records = (mode_connectivity("digits", ("mlp", "w-asym", "sigma-asym"))
           + mode_connectivity("ring", ("mlp", "w-asym", "sigma-asym", "shared")))
pd.DataFrame(configs).T[["n_pairs", "width", "depth", "steps", "lr", "batch_size", "n_fixed", "fixed_std"]]

# %% tags=["hide-input"]
ARMS = {"mlp": "standard, unaligned", "mlp-aligned": "standard, weight-matched",
        "w-asym": "W-Asym, unaligned", "sigma-asym": "σ-Asym, unaligned"}
fig, axes = plt.subplots(2, 2, figsize=(8, 6), sharex=True)
for row, task in enumerate(("digits", "ring")):
    for column, (quantity, label) in enumerate((("loss", "test loss"), ("score", "test accuracy"))):
        ax = axes[row, column]
        for family, name in ARMS.items():
            alpha, mean, low, high = curve_band(records, task, family, quantity)
            ax.plot(alpha, mean, label=name)
            ax.fill_between(alpha, low, high, alpha=0.2)
        ax.set(title=f"{task}: {label}", xlabel="α (0 = A, 1 = B)")
handles, labels = axes[0, 0].get_legend_handles_labels()
fig.legend(handles, labels, loc="lower center", ncols=2, bbox_to_anchor=(0.5, 1.0), frameon=False)
fig.tight_layout()
glue("fig_interpolation", fig, display=False)
plt.close(fig)

# %% [markdown]
# ```{glue:figure} fig_interpolation
# :name: fig-interpolation
#
# Test loss (left) and test accuracy (right) along the straight line between the two networks of
# a pair, on digits (top) and the ring task (bottom), for each arm: mean over pairs, band: 95 %
# confidence interval (Student t over pairs). A bump in the loss is a barrier; a flat line is
# linear mode connectivity.
# ```
#
# The barrier per arm, on the test set (as Lim et al. report it) and on the training set:

# %% tags=["hide-input"]
barriers, drops = summarize(records, "barrier"), summarize(records, "score_drop")
train_barriers = summarize(records, "train_barrier")


def cell(value):
    mean, low, high = value
    return f"{mean:.3f} [{low:.3f}, {high:.3f}]"


table = pd.DataFrame({f"{task}, {split}": {ARMS[family]: cell(source[task, family]) for family in ARMS}
                      for task in ("digits", "ring")
                      for split, source in (("test", barriers), ("train", train_barriers))})
table.index.name = "loss barrier (nats), mean [95% CI]"
display(table)

# %% tags=["hide-input"]
order = {task: barrier_order(records, task) for task in ("digits", "ring")}
for task in order:
    agrees = tuple(order[task]) == LIM_ORDER
    print(f"{task}: lowest to highest test barrier: {' < '.join(order[task])}; "
          f"Lim et al.'s order {'holds' if agrees else 'does not hold'}")
    glue(f"order_{task}", " < ".join(ARMS[family] for family in order[task]), display=False)
    glue(f"agrees_{task}", "agrees" if agrees else "does not agree", display=False)
    for family in ARMS:
        glue(f"barrier_{task}_{family}", f"{barriers[task, family][0]:.3f}", display=False)
        glue(f"drop_{task}_{family}", f"{100 * drops[task, family][0]:.1f}", display=False)
    for family in ("mlp-aligned", "w-asym", "sigma-asym"):
        reduction = 100 * (1 - barriers[task, family][0] / barriers[task, "mlp"][0])
        glue(f"reduction_{task}_{family}", f"{reduction:.0f}", display=False)
glue("n_pairs", str(configs["digits"]["n_pairs"]), display=False)
glue("n_fixed_digits", str(configs["digits"]["n_fixed"]), display=False)

# %% [markdown]
# **Answer.** With {glue:text}`n_pairs` pairs per arm, the test barriers on the digits rank
# {glue:text}`order_digits`. Lim et al. report W-Asym < aligned standard < σ-Asym < unaligned
# standard on MNIST and CIFAR-10 {cite}`lim2024asymmetric`; our ranking
# {glue:text}`agrees_digits` with theirs. Two unaligned standard MLPs are separated by a barrier of
# {glue:text}`barrier_digits_mlp` nats (test accuracy falls by up to {glue:text}`drop_digits_mlp`
# points on the way); weight matching brings it to {glue:text}`barrier_digits_mlp-aligned`; two
# W-Asymmetric networks, never aligned, have {glue:text}`barrier_digits_w-asym`; the σ-Asymmetric
# pair has {glue:text}`barrier_digits_sigma-asym`. On the ring the ranking is
# {glue:text}`order_ring` ({glue:text}`agrees_ring` with Lim et al.'s). Relative to two unaligned
# standard MLPs, freezing {glue:text}`n_fixed_digits` weights per neuron removes
# {glue:text}`reduction_digits_w-asym`% of the barrier on the digits without any alignment, and
# weight matching removes {glue:text}`reduction_digits_mlp-aligned`%; on the ring the two figures
# are {glue:text}`reduction_ring_w-asym`% and {glue:text}`reduction_ring_mlp-aligned`%. The
# σ-Asymmetric network (a fixed Gaussian $F$, at this width) changes the barrier by
# {glue:text}`reduction_digits_sigma-asym`% and {glue:text}`reduction_ring_sigma-asym`% (negative:
# a higher barrier): the headline result of {cite}`lim2024asymmetric` for W-Asymmetric networks is
# what we see here, their σ-Asymmetric result is not.
#
# ## The bridge: what weight tying leaves
#
# A `SharedMLP` ties weights by the task's group, so the dense-MLP permutations of hidden units
# that would break equivariance are gone; the permutations of its *channels* remain, an exact
# symmetry with $\prod_l c_l!$ elements. Does channel matching connect two shared networks as
# weight matching connects two MLPs? On the ring, with {glue:text}`shared_channels` channels (about
# the MLP's parameter count):

# %% tags=["hide-input"]
glue("shared_channels", str(configs["ring"]["shared_channels"]), display=False)
BRIDGE = {"mlp": "MLP, unaligned", "mlp-aligned": "MLP, weight-matched",
          "shared": "SharedMLP, unaligned", "shared-aligned": "SharedMLP, channel-matched",
          "shared-rotation-aligned": "SharedMLP, channel- and rotation-matched"}
ends = [{**r, "end": score} for r in records for score in (r["score"][0], r["score"][-1])]
endpoints = summarize(ends, "end")
bridge = pd.DataFrame({"test loss barrier": {name: cell(barriers["ring", f]) for f, name in BRIDGE.items()},
                       "accuracy drop": {name: cell(drops["ring", f]) for f, name in BRIDGE.items()},
                       "endpoint accuracy": {name: f"{endpoints['ring', f][0]:.3f}"
                                             for f, name in BRIDGE.items()}})
for family in ("shared", "shared-aligned", "shared-rotation-aligned"):
    glue(f"barrier_ring_{family}", f"{barriers['ring', family][0]:.3f}", display=False)
matching_helps = barriers["ring", "shared-aligned"][0] < barriers["ring", "shared"][0]
glue("shared_matching", "lowers" if matching_helps else "does not lower", display=False)
display(bridge)

# %% [markdown]
# Two shared networks are separated by a test barrier of {glue:text}`barrier_ring_shared`
# unaligned and {glue:text}`barrier_ring_shared-aligned` after channel matching (against
# {glue:text}`barrier_ring_mlp` and {glue:text}`barrier_ring_mlp-aligned` for the MLP): channel
# matching {glue:text}`shared_matching` it. Weight tying did not remove the redundancy; it changed
# its shape. For the ring's rotation group a hidden channel's feature map can be *rotated* around
# the ring — roll its incoming kernels by $s$ and the kernels that read it by $-s$ — without
# changing the function, because every later layer commutes with rotations and the readout
# averages over the ring. So each hidden layer of the shared network has the symmetry group
# $C_{16} \wr S_c$ (a rotation per channel, then a permutation of channels), of order
# $16^c \cdot c!$, and channel matching searches only its $c!$ permutations:

# %% tags=["hide-input"]
shared = models["SharedMLP (C16)"]
rolled = copy.deepcopy(shared)
with torch.no_grad():
    shifts = torch.randint(16, (32,), generator=generator)
    for channel, shift in enumerate(shifts.tolist()):  # rotate each channel of hidden layer 1
        rolled.layers[0].weight[channel] = shared.layers[0].weight[channel].roll(shift, -1)
        rolled.layers[1].weight[:, channel] = shared.layers[1].weight[:, channel].roll(-shift, -1)
    error = float((rolled(x) - shared(x)).abs().max())
    moved = float((rolled.layers[0].weight - shared.layers[0].weight).abs().max())
assert error <= default_tolerance(shared(x))
print(f"rotating every channel of hidden layer 1: outputs change by {error:.1e}, weights by {moved:.2f}")
glue("wreath_ratio", f"{16 ** 16:.1e}", display=False)
rotation_helps = barriers["ring", "shared-rotation-aligned"][0] < barriers["ring", "shared"][0]
glue("rotation_matching_helps", "brings" if rotation_helps else "does not bring", display=False)

# %% [markdown]
# Per hidden layer that is {glue:text}`wreath_ratio` times more equivalent weight vectors than
# channel permutations alone. Matching rotations and channels together (`rotation_matching`: for
# each pair of channels the best rotation, then a linear assignment, layer by layer as in weight
# matching) gives the last row of the table above: a barrier of
# {glue:text}`barrier_ring_shared-rotation-aligned`, against {glue:text}`barrier_ring_shared`
# unaligned; rotation matching {glue:text}`rotation_matching_helps` the barrier below the
# unaligned one. Sharing by a group is one way of removing parameter symmetry, and an incomplete
# one: it trades the dense network's permutations for a larger group acting on its channels.
#
# ## Training cost
#
# Do the asymmetric networks train slower? From the training-loss history of every network trained
# above (two per pair), the number of steps until the moving average (25 steps) of the mini-batch
# cross-entropy first falls to a target:

# %% tags=["hide-input"]
targets = {"digits": 0.1, "ring": 0.3}
cost_rows = []
for task, target in targets.items():
    glue(f"target_{task}", f"{target}", display=False)
    mean_steps = {}
    for family in ("mlp", "w-asym", "sigma-asym"):
        steps = [{"task": task, "family": family, "steps": steps_to_loss(r[key], target)}
                 for r in records if r["task"] == task and r["family"] == family
                 for key in ("train_loss_a", "train_loss_b")]
        mean, low, high = summarize(steps, "steps")[task, family]
        mean_steps[family] = mean
        cost_rows.append({"task": task, "target loss": target, "family": ARMS[family],
                          "steps to target, mean [95% CI]": f"{mean:.0f} [{low:.0f}, {high:.0f}]",
                          "reached": f"{sum(s['steps'] == s['steps'] for s in steps)}/{len(steps)}",
                          "test accuracy": f"{endpoints[task, family][0]:.3f}"})
        glue(f"steps_{task}_{family}", f"{mean:.0f}", display=False)
        glue(f"accuracy_{task}_{family}", f"{endpoints[task, family][0]:.3f}", display=False)
    glue(f"w_cost_{task}", f"{100 * (mean_steps['w-asym'] / mean_steps['mlp'] - 1):.0f}", display=False)
display(pd.DataFrame(cost_rows))

# %% [markdown]
# On the digits a standard MLP reaches a training loss of {glue:text}`target_digits` in
# {glue:text}`steps_digits_mlp` steps on average, the W-Asymmetric network in
# {glue:text}`steps_digits_w-asym` and the σ-Asymmetric network in
# {glue:text}`steps_digits_sigma-asym`; their test accuracies are {glue:text}`accuracy_digits_mlp`,
# {glue:text}`accuracy_digits_w-asym` and {glue:text}`accuracy_digits_sigma-asym`. On the ring
# (target {glue:text}`target_ring`): {glue:text}`steps_ring_mlp`, {glue:text}`steps_ring_w-asym`
# and {glue:text}`steps_ring_sigma-asym` steps. The W-Asymmetric network needs
# {glue:text}`w_cost_digits`% more steps than the standard MLP on the digits and
# {glue:text}`w_cost_ring`% more on the ring (negative: fewer): frozen random weights are a
# constraint that the free weights must work around.
