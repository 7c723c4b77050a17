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
# # Networks without parameter symmetry
#
# Lim et al. {cite}`lim2024asymmetric` build networks that lose the permutation symmetry of
# {doc}`paramspace`: the **W-Asymmetric** MLP freezes a few random entries of every row of every
# weight matrix, the **σ-Asymmetric** MLP gates each unit by $\sigma(F h) \odot h$ with a fixed random
# matrix $F$. They report the test loss barriers W-Asym < weight-matched standard < σ-Asym <
# unaligned standard; {doc}`paramspace` measures both networks in the book's own set-up.
#
# **Question.** Does Lim et al.'s own protocol, run on the digits, give their order? Which of its
# factors moves σ-Asym's barrier? Which steps of the order survive a paired test? What parameter
# symmetry does weight tying by a task's group leave, and what does asymmetry cost in training?
#
# **Answer.** Under their protocol at width {glue:text}`repro_width` the barriers rank
# {glue:text}`repro_order` ({glue:text}`repro_agrees` Lim et al.'s order). In the book's set-up
# σ-Asym's barrier minus the standard MLP's is {glue:text}`asym_gap_book` nats (paired, mean [95 %
# interval]); of the changes towards Lim et al.'s set-up, the one that {glue:text}`asym_biggest_verb`
# is "{glue:text}`ablation_biggest`". Paired and Holm-adjusted, {glue:text}`ordering_book_count`
# steps of the order hold in the book's set-up and {glue:text}`ordering_lim_count` under Lim et
# al.'s protocol at width {glue:text}`ordering_width`. A `SharedMLP` keeps a symmetry larger than
# its channel permutations: two of them on the ring are separated by {glue:text}`asym_ci_shared`
# unaligned and {glue:text}`asym_ci_shared-rotation-aligned` with channels and rotations matched.
# The W-Asymmetric network needs {glue:text}`w_cost_digits`% more steps (negative: fewer) than the
# standard MLP to reach the same training loss on the digits.

# %% tags=["remove-cell"]
import copy
import math

import matplotlib.pyplot as plt
import pandas as pd
import torch
from myst_nb import glue

from symsharing.figures import plots
from symsharing.figures.paramspace_plots import (
    ablation_table,
    arm_mean,
    arm_values,
    interval_text,
    mean_interval,
    ordering_view,
    paired_differences,
    plot_arm_sweep,
    setup_row,
)
from symsharing.figures.plots import book_style
from symsharing.models import SharedMLP
from symsharing.paramspace import lmc_study as lmc
from symsharing.paramspace.connectivity import (
    chapter_config,
    load_dataset,
    mode_connectivity,
    steps_to_loss,
    summarize,
)
from symsharing.stats import confidence_interval
from symsharing.tasks import get_task
from symsharing.testing import default_tolerance

book_style()


def put(values: dict) -> None:
    """Glue every value as text for the prose, under its key."""
    for key, value in values.items():
        glue(key, str(value), display=False)


# %% [markdown]
# ## Lim et al.'s protocol, reproduced
#
# The book's set-up ({doc}`paramspace`; its pairs are read back here from the results cache)
# differs from Lim et al.'s on almost every axis. Their code (the public
# repository `cptq/asymmetric-networks`, `lmc/train-mlp-mnist.py`) trains on MNIST an MLP of
# width 512 with 4 linear layers, each hidden one followed by LayerNorm and GELU, with AdamW
# (learning rate $10^{-3}$, weight decay 0.03), batch 64, for 25 epochs; its W-Asymmetric network
# fixes 64 of the 784 entries of each first-layer row (scale κ = 1), 64 of 512 in the two hidden
# layers (κ = 1, 0.5) and 256 of 512 in the output layer (κ = 0.25); its σ-Asymmetric network
# gates $\sigma(C h) \odot h$ with a fixed Gaussian $C$ *after* the LayerNorm. We run the same
# protocol on the digits, fixing the same *fraction* of each row's fan-in (64 of digits' 64 inputs
# would freeze the whole first layer). {numref}`tab-lim-setups` sets the set-ups side by side;
# mini-batches are drawn with replacement, so an "epoch" is {glue:text}`epoch_steps` steps
# (⌈{glue:text}`n_train_digits` / 64⌉).
#
# Two barriers per pair, both from the test loss at {glue:text}`lim_points` points of the line: the
# book's excess over the chord, and the excess over the endpoints' mean,
# $\max_\alpha L(\alpha) - \tfrac12\,(L(0) + L(1))$. The paper's script logs the worst test loss
# on the line, $\max_\alpha L(\alpha)$, from which the second follows; we show it too.

# %% tags=["hide-input"]
configs = {name: chapter_config(name) for name in ("digits", "ring")}
records = (mode_connectivity("digits", ("mlp", "w-asym", "sigma-asym"))
           + mode_connectivity("ring", ("mlp", "w-asym", "sigma-asym", "shared")))
ARMS = {"mlp": "standard, unaligned", "mlp-aligned": "standard, weight-matched",
        "w-asym": "W-Asym, unaligned", "sigma-asym": "σ-Asym, unaligned"}
barriers, drops = summarize(records, "barrier"), summarize(records, "score_drop")
endpoints = summarize([{**r, "end": s} for r in records for s in (r["score"][0], r["score"][-1])], "end")
sizes = lmc.study_config()
n_train = len(load_dataset("digits")[0])
book_runs = lmc.from_connectivity([r for r in records if r["task"] == "digits"], "book set-up")
ordering_name = f"Lim et al.'s protocol, width {sizes['ordering_width']}"
reproduction_name = f"Lim et al.'s protocol, width {sizes['reproduction_width']}"
lim_setups = {name: lmc.setup(lmc.LIM_SETUP, width=sizes[f"{key}_width"], n_pairs=sizes[f"{key}_pairs"],
                              epochs=sizes["lim_epochs"], n_points=sizes["n_points"], alignments=("weight",))
              for name, key in ((reproduction_name, "reproduction"), (ordering_name, "ordering"))}
both = lmc.studies([(config, lmc.FAMILIES, name) for name, config in lim_setups.items()])  # computed together
reproduction = [r for r in both if r["setup"] == reproduction_name]
lim_small = [r for r in both if r["setup"] == ordering_name]
mnist_train = 60_000 - 60_000 // 10  # train-mlp-mnist.py holds out 10 % of MNIST's training set
paper = {**setup_row(lmc.setup(lmc.LIM_SETUP), n_train, n_in=784),
         "training": f"25 epochs ({25 * math.ceil(mnist_train / 64):,} steps)"}
put({"mnist_train": f"{mnist_train:,}", "mnist_epoch": math.ceil(mnist_train / 64), "n_train_digits": f"{n_train:,}",
     "epoch_steps": math.ceil(n_train / 64), "lim_points": sizes["n_points"]})
setups = pd.DataFrame({"book set-up": setup_row(lmc.setup(), n_train), "Lim et al. (MNIST)": paper,
                       **{name: setup_row(config, n_train) for name, config in lim_setups.items()}}).T
glue("tab_lim_setups", plots.table(setups), display=False)

# %% [markdown]
# ```{glue:figure} tab_lim_setups
# :name: tab-lim-setups
#
# The book's set-up, Lim et al.'s (MNIST: {glue:text}`mnist_train` training images,
# {glue:text}`mnist_epoch` steps an epoch) and the two runs of their protocol on the digits
# ({glue:text}`n_train_digits` training images). Fixed entries: count / fan-in per
# linear layer, input layer first, with the scale κ of their values.
# ```

# %% tags=["hide-input"]
REPRO_ARMS = ("mlp", "mlp-aligned", "w-asym", "sigma-asym")
COLUMNS = {"excess over the chord": "barrier", "max L − ½(L(0) + L(1))": "barrier_mid", "worst loss max L": "worst_loss"}
repro_rows = [{"set-up": f"{name} ({len(arm_values(runs, 'mlp'))} pairs)", "arm": ARMS[arm],
               **{title: mean_interval(arm_values(runs, arm, column)) for title, column in COLUMNS.items()},
               "endpoint accuracy": mean_interval([r["score"][end] for r in runs if r["family"] == arm
                                                   for end in (0, -1)])}
              for name, runs in (("book set-up", book_runs), (ordering_name, lim_small),
                                 (reproduction_name, reproduction)) for arm in REPRO_ARMS]
glue("tab_lim_reproduction", plots.table(pd.DataFrame(repro_rows).set_index(["set-up", "arm"])), display=False)
put({f"repro_{column}_{arm}": f"{arm_mean(reproduction, arm, column):.3f}" for arm in REPRO_ARMS
     for column in ("barrier", "barrier_mid")})
repro_order = sorted(REPRO_ARMS, key=lambda arm: arm_mean(reproduction, arm))
repro_seconds = sum({r["trained_family"]: r["seconds"] for r in reproduction}.values())
put({"repro_order": " < ".join(ARMS[arm] for arm in repro_order), "repro_pairs": sizes["reproduction_pairs"],
     "repro_pair_seconds": f"{repro_seconds / sizes['reproduction_pairs']:.0f}",
     "repro_width": sizes["reproduction_width"],
     "repro_agrees": "the same as" if tuple(repro_order) == lmc.LIM_ORDER else "not"})

# %% [markdown]
# ```{glue:figure} tab_lim_reproduction
# :name: tab-lim-reproduction
#
# Test loss barriers (nats; mean [95 % Student-t interval over pairs], a bare mean where there are
# too few pairs for an interval) in the book's set-up and under Lim et al.'s protocol, with both
# definitions of the barrier and the worst test loss on the line; last column: test accuracy of
# the trained endpoints.
# ```
#
# **The reproduction row.** Under Lim et al.'s protocol at width {glue:text}`repro_width`
# ({glue:text}`repro_pairs` pairs per arm, which is what the book's compute budget allows: the three
# families' pairs took {glue:text}`repro_pair_seconds` s of one core per pair), the barriers rank
# {glue:text}`repro_order` — {glue:text}`repro_agrees` Lim et al.'s order. In the paper's form
# $\max_\alpha L - \frac12(L(0)+L(1))$ the unaligned pair has {glue:text}`repro_barrier_mid_mlp`,
# weight matching {glue:text}`repro_barrier_mid_mlp-aligned`, W-Asym
# {glue:text}`repro_barrier_mid_w-asym` and σ-Asym {glue:text}`repro_barrier_mid_sigma-asym`
# (excess over the chord: {glue:text}`repro_barrier_mlp`, {glue:text}`repro_barrier_mlp-aligned`,
# {glue:text}`repro_barrier_w-asym`, {glue:text}`repro_barrier_sigma-asym`).
#
# ## Which factor moves σ-Asym's barrier
#
# One factor at a time, from the book's set-up towards Lim et al.'s: each row of
# {numref}`tab-lim-ablations` changes one thing and trains {glue:text}`ablation_pairs` pairs per
# arm (the same seeds as the book's first pairs, whose runs give the first row). Width is the
# factor too expensive to move alone here; {numref}`tab-lim-reproduction` moves it inside Lim et
# al.'s protocol (width {glue:text}`ordering_width` against {glue:text}`repro_width`). Two
# controls separate the σ-Asymmetric gate's *asymmetry* from its *shape*: a standard MLP with the
# scalar gate $\sigma(c\,h) \odot h$, i.e. $C = c I$, the same gate for every unit, which keeps
# the permutation symmetry — with $c = 1$ (SiLU) and with $c = \sqrt{\text{width}}$, the typical
# norm of a row of the random $C$, so that the gate is about as sharp as σ-Asym's.

# %% tags=["hide-input"]
cells = lmc.ablations(sizes)
computed = lmc.studies([(config, families, label) for label, config, families in cells])  # all at once
ablation_runs = {"book set-up": [r for r in book_runs if r["pair"] < sizes["ablation_pairs"]],
                 **{label: [r for r in computed if r["setup"] == label] for label, _, _ in cells}}
glue("tab_lim_ablations", plots.table(ablation_table(ablation_runs)), display=False)
baseline = {arm: arm_mean(ablation_runs["book set-up"], arm) for arm in ("mlp", "sigma-asym", "w-asym")}
factor_cells = [label for label, _, families in cells if "sigma-asym" in families]
gaps = {label: confidence_interval(paired_differences(ablation_runs[label], "sigma-asym", "mlp"))
        for label in factor_cells}
sigma_change = {label: arm_mean(ablation_runs[label], "sigma-asym") - baseline["sigma-asym"] for label in factor_cells}
biggest = min(sigma_change, key=sigma_change.get)
flipped = [label for label in factor_cells if gaps[label][2] < 0]  # σ-Asym below the MLP, interval below 0
gates = {key: arm_mean(ablation_runs[label], "mlp")
         for label, key in (("scalar gate, c = 1", "gate_1"), ("scalar gate, c = √width", "gate_sqrt"))}
paper_fixed = arm_mean(ablation_runs["paper's fixed entries"], "w-asym")
gates_like_mlp = all(abs(g - baseline["mlp"]) < abs(g - baseline["sigma-asym"]) for g in gates.values())
put({"ablation_pairs": sizes["ablation_pairs"], "ordering_width": sizes["ordering_width"], "ablation_biggest": biggest,
     **{f"ablation_{key}": f"{value:.3f}" for key, value in gates.items()}, "ablation_fixed_w": f"{paper_fixed:.3f}",
     "ablation_baseline_sigma": f"{baseline['sigma-asym']:.3f}", "ablation_baseline_mlp": f"{baseline['mlp']:.3f}",
     "ablation_biggest_verb": "lowers it most" if sigma_change[biggest] < 0 else "raises it least (none lowers it)",
     "asym_biggest_verb": "lowers σ-Asym's barrier most" if sigma_change[biggest] < 0
     else "raises σ-Asym's barrier least (none lowers it)",
     "ablation_biggest_sigma": f"{baseline['sigma-asym'] + sigma_change[biggest]:.3f}",
     "ablation_biggest_gap": f"{gaps[biggest][0]:+.3f}", "ablation_book_w": f"{baseline['w-asym']:.3f}",
     "ablation_flipped": ", ".join(f"“{label}”" for label in flipped) if flipped else "no single factor",
     "asym_gap_book": mean_interval(paired_differences(book_runs, "sigma-asym", "mlp")),
     "gate_verdict": "closer to the standard ReLU MLP's than to σ-Asym's: a gate of that shape, shared by all "
     "units, does not raise the barrier; what does is the random matrix C that mixes the units" if gates_like_mlp
     else "not closer to the standard ReLU MLP's than to σ-Asym's for both values of c: the gate's shape, not "
     "only its asymmetry, moves the barrier"})

# %% [markdown]
# ```{glue:figure} tab_lim_ablations
# :name: tab-lim-ablations
#
# Test loss barrier (excess over the chord, nats; mean [95 % interval] over pairs) of unaligned
# pairs when one factor of the book's set-up is moved to Lim et al.'s value. Last column: σ-Asym's
# barrier minus the standard MLP's, pair by pair (negative: σ-Asym is better connected). In the
# scalar-gate rows the "standard MLP" is the MLP with the gate $\sigma(c h) \odot h$.
# ```
#
# In the book's set-up σ-Asym's barrier is {glue:text}`ablation_baseline_sigma` against the
# standard MLP's {glue:text}`ablation_baseline_mlp`. The single change that
# {glue:text}`ablation_biggest_verb` is "{glue:text}`ablation_biggest`" (to
# {glue:text}`ablation_biggest_sigma`; σ-Asym minus standard: {glue:text}`ablation_biggest_gap`). The
# change(s) after which σ-Asym is better connected than the
# standard MLP with the whole interval below zero: {glue:text}`ablation_flipped`. The scalar-gate
# controls, which keep the permutation symmetry, have barriers {glue:text}`ablation_gate_1`
# ($c = 1$) and {glue:text}`ablation_gate_sqrt` ($c = \sqrt{\text{width}}$). W-Asym with the
# paper's fractions of fixed entries has {glue:text}`ablation_fixed_w`, against
# {glue:text}`ablation_book_w` with the book's quarter of each row. The scalar gates' barriers are
# {glue:text}`gate_verdict`.
#
# ## Is Lim et al.'s order real? Paired tests
#
# Deciding an order from four means is fragile. The pairs of every arm share their seeds (pair $p$:
# initial weights from seeds $1000p$ and $1000p + 1$, the same mini-batch streams, the same fixed
# entries or gate matrices), so each adjacent comparison of the order W-Asym < weight-matched <
# σ-Asym < unaligned is a paired one: per pair, the higher arm's barrier minus the lower arm's,
# with a 95 % Student-t interval and a one-sided t-test that its mean is positive, Holm-adjusted
# across all the comparisons of {numref}`tab-lim-ordering`.

# %% tags=["hide-input"]
ordering = lmc.ordering_tests(book_runs + lim_small)
view = ordering_view(ordering, ARMS)
glue("tab_lim_ordering", plots.table(view, digits=4), display=False)
put({"n_comparisons": len(ordering)})
for name, key in (("book set-up", "book"), (ordering_name, "lim")):
    part = view.loc[name]
    held, failed = list(part.index[part["holds"] == "yes"]), list(part.index[part["holds"] == "no"])
    put({f"ordering_{key}_pairs": int(part["pairs"].min()), f"ordering_{key}_held": "; ".join(held) or "none",
         f"ordering_{key}_failed": "; ".join(failed) or "none", f"ordering_{key}_count": f"{len(held)} of {len(part)}"})

# %% [markdown]
# ```{glue:figure} tab_lim_ordering
# :name: tab-lim-ordering
#
# Paired tests of Lim et al.'s order. `difference`: higher arm's barrier minus the lower arm's
# (excess over the chord, nats), mean [95 % interval] over pairs; `p`: one-sided t-test that it is
# positive; `p_holm`: Holm-adjusted over the {glue:text}`n_comparisons` comparisons of the table;
# `holds`: adjusted p ≤ 0.05.
# ```
#
# In the book's set-up ({glue:text}`ordering_book_pairs` pairs per arm), {glue:text}`ordering_book_count`
# comparisons hold — {glue:text}`ordering_book_held` — and these do not: {glue:text}`ordering_book_failed`.
# Under Lim et al.'s protocol at width {glue:text}`ordering_width` ({glue:text}`ordering_lim_pairs`
# pairs per arm), {glue:text}`ordering_lim_count` hold — {glue:text}`ordering_lim_held` — and these
# do not: {glue:text}`ordering_lim_failed`.

# %% [markdown]
# ## The bridge: what weight tying leaves
#
# A `SharedMLP` ties weights by the task's group, so the dense-MLP permutations of hidden units
# that would break equivariance are gone; the permutations of its *channels* remain, an exact
# symmetry with $\prod_l c_l!$ elements. Does channel matching connect two shared networks as
# weight matching connects two MLPs? On the ring, with {glue:text}`shared_channels` channels (about
# the MLP's parameter count):

# %% tags=["hide-input"]
BRIDGE = {"mlp": "MLP, unaligned", "mlp-aligned": "MLP, weight-matched",
          "shared": "SharedMLP, unaligned", "shared-aligned": "SharedMLP, channel-matched",
          "shared-rotation-aligned": "SharedMLP, channel- and rotation-matched"}
bridge = pd.DataFrame({"test loss barrier": {name: interval_text(*barriers["ring", f]) for f, name in BRIDGE.items()},
                       "accuracy drop": {name: interval_text(*drops["ring", f]) for f, name in BRIDGE.items()},
                       "endpoint accuracy": {name: f"{endpoints['ring', f][0]:.3f}" for f, name in BRIDGE.items()}})
glue("tab_shared_bridge", plots.table(bridge), display=False)
put({"shared_channels": configs["ring"]["shared_channels"],
     "shared_matching": "lowers" if barriers["ring", "shared-aligned"][0] < barriers["ring", "shared"][0]
     else "does not lower",
     **{f"bridge_ring_{family}": f"{barriers['ring', family][0]:.3f}" for family in BRIDGE},
     **{f"asym_ci_{family}": interval_text(*barriers["ring", family]) for family in ("shared", "shared-rotation-aligned")}})

# %% [markdown]
# ```{glue:figure} tab_shared_bridge
# :name: tab-shared-bridge
#
# The ring: test loss barrier, the largest drop of test accuracy along the line below the chord
# between the endpoints' accuracies, and the endpoints' test accuracy, for MLPs (unaligned and
# weight-matched) and `SharedMLP`s (unaligned, channel-matched, and channel- plus
# rotation-matched): mean over pairs [95 % confidence interval].
# ```
#
# Two shared networks are separated by a test barrier of {glue:text}`bridge_ring_shared`
# unaligned and {glue:text}`bridge_ring_shared-aligned` after channel matching (against
# {glue:text}`bridge_ring_mlp` and {glue:text}`bridge_ring_mlp-aligned` for the MLP): channel
# matching {glue:text}`shared_matching` it. Weight tying did not remove the redundancy; it changed
# its shape. For the ring's rotation group a hidden channel's feature map can be *rotated* around
# the ring — roll its incoming kernels by $s$ and the kernels that read it by $-s$ — without
# changing the function, because every later layer commutes with rotations and the readout
# averages over the ring. So each hidden layer of the shared network has the symmetry group
# $C_{16} \wr S_c$ (a rotation per channel, then a permutation of channels), of order
# $16^c \cdot c!$, and channel matching searches only its $c!$ permutations:

# %% tags=["hide-input"]
ring, generator = get_task("ring"), torch.Generator().manual_seed(0)
x = ring.sample(256, seed=0)[0]  # (batch, 16)
torch.manual_seed(0)
shared = SharedMLP(ring.group, 2, 32)
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
put({"wreath_ratio": f"{16 ** configs['ring']['shared_channels']:.1e}",
     "rotation_matching_helps": "brings" if barriers["ring", "shared-rotation-aligned"][0] < barriers["ring", "shared"][0]
     else "does not bring"})

# %% [markdown]
# Per hidden layer that is {glue:text}`wreath_ratio` times more equivalent weight vectors than
# channel permutations alone. Matching rotations and channels together (`rotation_matching`: for
# each pair of channels the best rotation, then a linear assignment, layer by layer as in weight
# matching) gives the last row of the table above: a barrier of
# {glue:text}`bridge_ring_shared-rotation-aligned`, against {glue:text}`bridge_ring_shared`
# unaligned; rotation matching {glue:text}`rotation_matching_helps` the barrier below the
# unaligned one. Sharing by a group is one way of removing parameter symmetry, and an incomplete
# one: it trades the dense network's permutations for a larger group acting on its channels.
#
# How does this depend on the number of channels? {numref}`fig-lim-channels` repeats the
# comparison on the ring for {glue:text}`channel_list` channels ({glue:text}`channel_pairs` pairs
# for the other counts, in the ring's training set-up of {doc}`paramspace`; the book's own count,
# {glue:text}`shared_channels`, is the comparison above).

# %% tags=["hide-input"]
channel_runs = lmc.shared_sweep(sizes)
channel_summary = lmc.summarize(channel_runs, by=("family", "channels"))
fig, ax = plt.subplots(figsize=(5, 3.4))
plot_arm_sweep(ax, channel_summary, "channels", ("shared", "shared-aligned", "shared-rotation-aligned"))
ax.set(xlabel="channels per hidden layer", ylabel="test loss barrier (nats)")
ax.legend(frameon=False)
fig.tight_layout()
glue("fig_lim_channels", fig, display=False)
plt.close(fig)
means = channel_summary.pivot(index="channels", columns="family", values="mean")
put({"channel_list": ", ".join(map(str, sizes["channels"])), "channel_pairs": sizes["channel_pairs"],
     "channel_rotation_lower": f"{int((means['shared-rotation-aligned'] < means['shared-aligned']).sum())} of "
     f"{len(means)}", "channel_widest": int(means.index[-1]),
     **{f"channel_widest_{arm}": f"{means[arm].iloc[-1]:.3f}" for arm in means.columns}})

# %% [markdown]
# ```{glue:figure} fig_lim_channels
# :name: fig-lim-channels
#
# Matching rotations as well as channels gives a lower mean barrier than matching channels alone
# at {glue:text}`channel_rotation_lower` channel counts; at {glue:text}`channel_widest` channels
# the three barriers are {glue:text}`channel_widest_shared` (unaligned),
# {glue:text}`channel_widest_shared-aligned` (channels) and
# {glue:text}`channel_widest_shared-rotation-aligned` (rotations and channels). Test loss barrier
# of two `SharedMLP`s (cyclic group of the ring) against the channel count: unaligned,
# channel-matched, and rotation-plus-channel-matched; mean over pairs, bars: 95 % interval.
# ```

# %% [markdown]
# ## Training cost
#
# Do the asymmetric networks train slower? From the training-loss history of every network trained
# above (two per pair), the number of steps until the moving average (25 steps) of the mini-batch
# cross-entropy first falls to a target:

# %% tags=["hide-input"]
targets, cost_rows = {"digits": 0.1, "ring": 0.3}, []
for task, target in targets.items():
    mean_steps = {}
    for family in ("mlp", "w-asym", "sigma-asym"):
        steps = [steps_to_loss(r[key], target) for r in records if r["task"] == task and r["family"] == family
                 for key in ("train_loss_a", "train_loss_b")]
        mean_steps[family], low, high = confidence_interval(steps)
        cost_rows.append({"task": task, "target loss": target, "family": ARMS[family],
                          "steps to target, mean [95% CI]": interval_text(mean_steps[family], low, high, digits=0),
                          "reached": f"{sum(s == s for s in steps)}/{len(steps)}",
                          "test accuracy": f"{endpoints[task, family][0]:.3f}"})
        put({f"steps_{task}_{family}": f"{mean_steps[family]:.0f}",
             f"accuracy_{task}_{family}": f"{endpoints[task, family][0]:.3f}"})
    put({f"target_{task}": target, f"w_cost_{task}": f"{100 * (mean_steps['w-asym'] / mean_steps['mlp'] - 1):.0f}"})
glue("tab_training_cost", plots.table(pd.DataFrame(cost_rows)), display=False)

# %% [markdown]
# ```{glue:figure} tab_training_cost
# :name: tab-training-cost
#
# What asymmetry costs in training: Adam steps until the training loss first reaches the target
# (a running mean over 25 steps), mean [95 % confidence interval] over every trained network, how
# many networks reached it, and the endpoints' test accuracy.
# ```
#
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

# %% tags=["remove-cell"]
units = {(r["setup"], r["trained_family"], r["width"], r["depth"]): r["seconds"]
         for runs in (lim_small, reproduction, *ablation_runs.values()) for r in runs if "seconds" in r}
put({"lim_compute_seconds": f"{sum(units.values()):.0f}", "lim_units": len(units)})

# %% [markdown]
# The studies of Lim et al.'s protocol and the ablations are {glue:text}`lim_units` units of work
# that took {glue:text}`lim_compute_seconds` s of one core when they were computed; they are
# cached, so executing the chapter again reads them back.
