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
import time

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch
from myst_nb import glue

from symsharing.figures import plots
from symsharing.figures.plots import book_style
from symsharing.models import MLP, SharedMLP, SigmaAsymmetricMLP, WAsymmetricMLP, count_parameters
from symsharing.paramspace import lmc_study as lmc
from symsharing.paramspace import permutation_group_order, permute_hidden, rescale_hidden
from symsharing.paramspace.connectivity import (
    LIM_ORDER,
    barrier_order,
    chapter_config,
    curve_band,
    load_dataset,
    mode_connectivity,
    steps_to_loss,
    summarize,
)
from symsharing.stats import confidence_interval
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
    rows.append({"dtype": str(dtype).removeprefix("torch."), "max |f'(x) − f(x)|": error,
                 "max |W'₁ − W₁|": weight_change})
glue("sym_check_setup", f"A {mlp.width}-wide MLP with {mlp.depth} hidden layers", display=False)
glue("sym_check_inputs", str(len(x)), display=False)
glue("tab_symmetry_check", plots.table(pd.DataFrame(rows).set_index("dtype"),
                                       formats={"max |f'(x) − f(x)|": "{:.1e}"}), display=False)

# %% [markdown]
# ```{glue:figure} tab_symmetry_check
# :name: tab-symmetry-check
#
# {glue:text}`sym_check_setup`, every hidden layer permuted and rescaled at random: the largest
# change of its outputs on {glue:text}`sym_check_inputs` random inputs, and of its first weight matrix.
# ```
#
# The weights move by order one while the outputs agree to rounding error
# ({numref}`tab-symmetry-check`). How many weight vectors
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
assert max(changes["MLP"], changes["SharedMLP (C16)"]) < 1e-5 < min(changes["W-Asym"], changes["σ-Asym"])
moved_by = "max |f(x) after permuting − f(x)|"
moves = pd.DataFrame([{"model": name, "free parameters": count_parameters(model), moved_by: changes[name]}
                      for name, model in models.items()])
glue("moves_width", str(models["MLP"].width), display=False)
glue("moves_inputs", str(len(x)), display=False)
glue("tab_permuting_moves", plots.table(moves.set_index("model"), formats={moved_by: "{:.1e}"}), display=False)

# %% [markdown]
# ```{glue:figure} tab_permuting_moves
# :name: tab-permuting-moves
#
# The hidden units of each network ({glue:text}`moves_width` wide, ring inputs) permuted at random:
# the largest change of its outputs on {glue:text}`moves_inputs` inputs. Rounding error for the MLP and, with its channels permuted, the
# `SharedMLP`; far above it for the asymmetric networks, whose fixed entries or matrix $F$ do not move.
# ```

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
settings = pd.DataFrame(configs).T[["n_pairs", "width", "depth", "steps", "lr", "batch_size", "n_fixed",
                                     "fixed_std"]].rename_axis("data")
glue("tab_lmc_settings", plots.table(settings.astype(object)), display=False)

# %% [markdown]
# ```{glue:figure} tab_lmc_settings
# :name: tab-lmc-settings
#
# The book's set-up per data set: pairs, width and hidden layers of every network, Adam steps,
# learning rate, batch size, and the W-Asymmetric network's fixed entries per row and their
# standard deviation.
# ```

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
# The barrier per arm, on the test set (as Lim et al. report it) and on the training set
# ({numref}`tab-barriers`):

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
glue("tab_barriers", plots.table(table), display=False)

# %% [markdown]
# ```{glue:figure} tab_barriers
# :name: tab-barriers
#
# Loss barrier between the two networks of a pair, per arm, on the test and training sets of the
# digits and the ring: mean over pairs [95 % confidence interval, Student t over pairs], in nats.
# Lower: better connected.
# ```

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
# standard on MNIST and CIFAR-10 {cite}`lim2024asymmetric`; ranked by the means alone, ours
# {glue:text}`agrees_digits` with theirs (which steps of the order survive a paired test is in
# {numref}`tab-lim-ordering` below). Two unaligned standard MLPs are separated by a barrier of
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
# what we see here in the book's set-up, their σ-Asymmetric result is not; the next sections ask why.

# %% [markdown]
# ## Lim et al.'s protocol, reproduced
#
# The set-up above differs from Lim et al.'s on almost every axis. Their code (the public
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
sizes = lmc.study_config()
n_train = len(load_dataset("digits")[0])
start = time.perf_counter()
book_runs = lmc.from_connectivity([r for r in records if r["task"] == "digits"], "book set-up")
ordering_name = f"Lim et al.'s protocol, width {sizes['ordering_width']}"
ordering_setup = lmc.setup(lmc.LIM_SETUP, width=sizes["ordering_width"], n_pairs=sizes["ordering_pairs"],
                           epochs=sizes["lim_epochs"], n_points=sizes["n_points"], alignments=("weight",))
reproduction_name = f"Lim et al.'s protocol, width {sizes['reproduction_width']}"
reproduction_setup = lmc.setup(lmc.LIM_SETUP, width=sizes["reproduction_width"], epochs=sizes["lim_epochs"],
                               n_pairs=sizes["reproduction_pairs"], n_points=sizes["n_points"],
                               alignments=("weight",))
both = lmc.studies([(reproduction_setup, lmc.FAMILIES, reproduction_name),  # computed together
                    (ordering_setup, lmc.FAMILIES, ordering_name)])
reproduction = [r for r in both if r["setup"] == reproduction_name]
lim_small = [r for r in both if r["setup"] == ordering_name]
wall = {"reproduction and ordering": time.perf_counter() - start}


def setup_row(config, n_in=64):
    counts, scales = (lmc.paper_fixed_entries if config["fixed"] == "paper" else lmc.book_fixed_entries)(
        n_in, config["width"], config["depth"])
    fan_ins = [n_in] + [config["width"]] * config["depth"]
    steps = lmc._steps(config, n_train)
    return {"width": config["width"], "linear layers": config["depth"] + 1,
            "LayerNorm": "yes" if config["layer_norm"] else "no", "activation": config["activation"],
            "optimiser": f"AdamW, wd {config['weight_decay']}" if config["weight_decay"] else "Adam",
            "batch": config["batch_size"],
            "training": f"{config['epochs']} epochs ({steps} steps)" if config["epochs"] else f"{steps} steps",
            "W-Asym fixed entries (κ)": ", ".join(f"{c}/{f} ({s:g})" for c, f, s in zip(counts, fan_ins, scales,
                                                                                      strict=True))}


mnist_train = 60_000 - 60_000 // 10  # train-mlp-mnist.py holds out 10 % of MNIST's training set
paper = {**setup_row(lmc.setup(lmc.LIM_SETUP), n_in=784),
         "training": f"25 epochs ({25 * math.ceil(mnist_train / 64):,} steps)"}
glue("mnist_train", f"{mnist_train:,}", display=False)
glue("mnist_epoch", f"{math.ceil(mnist_train / 64)}", display=False)
glue("n_train_digits", f"{n_train:,}", display=False)
glue("epoch_steps", f"{math.ceil(n_train / 64)}", display=False)
glue("lim_points", str(sizes["n_points"]), display=False)
setups = pd.DataFrame({"book (above)": setup_row(lmc.setup()), "Lim et al. (MNIST)": paper,
                       ordering_name: setup_row(lmc.setup(lmc.LIM_SETUP, width=sizes["ordering_width"],
                                                          epochs=sizes["lim_epochs"])),
                       reproduction_name: setup_row(reproduction_setup)}).T
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


def interval(values, digits=3):
    mean, low, high = confidence_interval(values)
    if math.isnan(low):
        return f"{mean:.{digits}f}"
    return f"{mean:.{digits}f} [{low:.{digits}f}, {high:.{digits}f}]"


def arm_values(runs, arm, column):
    return [r[column] for r in runs if r["family"] == arm]


repro_rows = []
for name, runs in (("book set-up", book_runs), (ordering_name, lim_small), (reproduction_name, reproduction)):
    n_pairs = len(arm_values(runs, "mlp", "barrier"))
    for arm in REPRO_ARMS:
        repro_rows.append({"set-up": f"{name} ({n_pairs} pairs)", "arm": ARMS[arm],
                           "excess over the chord": interval(arm_values(runs, arm, "barrier")),
                           "max L − ½(L(0) + L(1))": interval(arm_values(runs, arm, "barrier_mid")),
                           "worst loss max L": interval(arm_values(runs, arm, "worst_loss")),
                           "endpoint accuracy": interval([e for r in runs if r["family"] == arm
                                                          for e in (r["score"][0], r["score"][-1])])})
glue("tab_lim_reproduction", plots.table(pd.DataFrame(repro_rows).set_index(["set-up", "arm"])), display=False)
for arm in REPRO_ARMS:
    for column in ("barrier", "barrier_mid"):
        glue(f"repro_{column}_{arm}", f"{np.mean(arm_values(reproduction, arm, column)):.3f}", display=False)
        glue(f"small_{column}_{arm}", f"{np.mean(arm_values(lim_small, arm, column)):.3f}", display=False)
repro_order = sorted(REPRO_ARMS, key=lambda arm: np.mean(arm_values(reproduction, arm, "barrier")))
glue("repro_order", " < ".join(ARMS[arm] for arm in repro_order), display=False)
glue("repro_pairs", str(sizes["reproduction_pairs"]), display=False)
repro_seconds = sum({r["trained_family"]: r["seconds"] for r in reproduction}.values())
glue("repro_pair_seconds", f"{repro_seconds / sizes['reproduction_pairs']:.0f}", display=False)
glue("repro_width", str(sizes["reproduction_width"]), display=False)
glue("repro_agrees", "the same as" if tuple(repro_order) == LIM_ORDER else "not", display=False)

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
start = time.perf_counter()
cells = lmc.ablations(sizes)
ablation_runs = {"book set-up": [r for r in book_runs if r["pair"] < sizes["ablation_pairs"]]}
computed = lmc.studies([(config, families, label) for label, config, families in cells])  # all at once
for label, _, _ in cells:
    ablation_runs[label] = [r for r in computed if r["setup"] == label]
wall["ablations"] = time.perf_counter() - start


def paired(runs, higher, lower, column="barrier"):
    by_pair = {arm: {r["pair"]: r[column] for r in runs if r["family"] == arm} for arm in (higher, lower)}
    return [by_pair[higher][p] - by_pair[lower][p] for p in by_pair[higher] if p in by_pair[lower]]


ablation_rows, gaps = [], {}
for label, runs in ablation_runs.items():
    row = {"change from the book's set-up": label}
    for arm, name in (("mlp", "standard MLP"), ("sigma-asym", "σ-Asym"), ("w-asym", "W-Asym")):
        values = arm_values(runs, arm, "barrier")
        row[name] = interval(values) if values else "–"
    difference = paired(runs, "sigma-asym", "mlp")
    row["σ-Asym − standard (paired)"] = interval(difference) if difference else "–"
    if difference:
        gaps[label] = confidence_interval(difference)
    ablation_rows.append(row)
ablation_table = pd.DataFrame(ablation_rows).set_index("change from the book's set-up")
glue("tab_lim_ablations", plots.table(ablation_table), display=False)

baseline_sigma = np.mean(arm_values(ablation_runs["book set-up"], "sigma-asym", "barrier"))
baseline_mlp = np.mean(arm_values(ablation_runs["book set-up"], "mlp", "barrier"))
factor_cells = [label for label, _, families in cells if "sigma-asym" in families]
sigma_change = {label: np.mean(arm_values(ablation_runs[label], "sigma-asym", "barrier")) - baseline_sigma
                for label in factor_cells}
biggest = min(sigma_change, key=sigma_change.get)
flipped = [label for label in factor_cells if gaps[label][2] < 0]  # σ-Asym below the MLP, interval below 0
glue("ablation_pairs", str(sizes["ablation_pairs"]), display=False)
glue("ordering_width", str(sizes["ordering_width"]), display=False)
glue("ablation_baseline_sigma", f"{baseline_sigma:.3f}", display=False)
glue("ablation_baseline_mlp", f"{baseline_mlp:.3f}", display=False)
glue("ablation_biggest", biggest, display=False)
glue("ablation_biggest_verb", "lowers it most" if sigma_change[biggest] < 0 else "raises it least (none lowers it)",
     display=False)
glue("ablation_biggest_sigma", f"{baseline_sigma + sigma_change[biggest]:.3f}", display=False)
glue("ablation_biggest_gap", f"{gaps[biggest][0]:+.3f}", display=False)
glue("ablation_flipped", ", ".join(f"“{label}”" for label in flipped) if flipped else "no single factor",
     display=False)
for label, key in (("scalar gate, c = 1", "gate_1"), ("scalar gate, c = √width", "gate_sqrt")):
    glue(f"ablation_{key}", f"{np.mean(arm_values(ablation_runs[label], 'mlp', 'barrier')):.3f}", display=False)
gate_means = [np.mean(arm_values(ablation_runs[label], "mlp", "barrier"))
              for label in ("scalar gate, c = 1", "scalar gate, c = √width")]
gates_like_mlp = all(abs(g - baseline_mlp) < abs(g - baseline_sigma) for g in gate_means)
glue("gate_verdict", "closer to the standard ReLU MLP's than to σ-Asym's: a gate of that shape, shared by "
     "all units, does not raise the barrier; what does is the random matrix C that mixes the units"
     if gates_like_mlp else "not closer to the standard ReLU MLP's than to σ-Asym's for both values of c: "
     "the gate's shape, not only its asymmetry, moves the barrier", display=False)
paper_fixed = np.mean(arm_values(ablation_runs["paper's fixed entries"], "w-asym", "barrier"))
glue("ablation_fixed_w", f"{paper_fixed:.3f}", display=False)
glue("ablation_book_w", f"{np.mean(arm_values(ablation_runs['book set-up'], 'w-asym', 'barrier')):.3f}",
     display=False)

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
ordering_view = ordering.assign(
    comparison=[" < ".join(ARMS[arm] for arm in c.split(" < ")) for c in ordering["comparison"]],
    difference=[f"{m:.3f} [{lo:.3f}, {hi:.3f}]" for m, lo, hi in ordering[["difference", "low", "high"]].values],
    holds=np.where(ordering["holds"], "yes", "no")).drop(columns=["low", "high"])
glue("n_comparisons", str(len(ordering)), display=False)
glue("tab_lim_ordering", plots.table(ordering_view.set_index(["setup", "comparison"]), digits=4), display=False)
for name, key in (("book set-up", "book"), (ordering_name, "lim")):
    part = ordering[ordering["setup"] == name]
    held = [" < ".join(ARMS[a] for a in c.split(" < ")) for c in part.loc[part["holds"], "comparison"]]
    failed = [" < ".join(ARMS[a] for a in c.split(" < ")) for c in part.loc[~part["holds"], "comparison"]]
    glue(f"ordering_{key}_pairs", str(int(part["pairs"].min())), display=False)
    glue(f"ordering_{key}_held", "; ".join(held) if held else "none", display=False)
    glue(f"ordering_{key}_failed", "; ".join(failed) if failed else "none", display=False)
    glue(f"ordering_{key}_count", f"{len(held)} of {len(part)}", display=False)

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
#
# ## Barriers against width
#
# How do barriers scale with width? For one-hidden-layer ReLU networks aligned by the optimal
# permutation, Zhan, Li & Wu {cite}`zhan2025lmcwidth` predict a double descent of the barrier at
# moderate width and a decay like $\text{width}^{-1/2}$ at large width. We train pairs of ReLU MLPs
# (no LayerNorm) with 1 and 2 hidden layers of every width from {glue:text}`width_min` to
# {glue:text}`width_max` (Adam, batch 64, {glue:text}`width_epochs` epochs, {glue:text}`width_pairs`
# pairs per width) and measure, on the same pairs, the barrier unaligned, after weight matching,
# after activation matching (correlation of post-activations on the training set), and each with
# REPAIR {cite}`jordan2023repair` (every hidden unit of the interpolated network rescaled and
# shifted so that its pre-activation mean and spread on the training set are the interpolation of
# the endpoints'); beside them W-Asymmetric pairs with a quarter of each row fixed.

# %% tags=["hide-input"]
start = time.perf_counter()
width_runs = lmc.width_sweep(sizes)
wall["width sweep"] = time.perf_counter() - start
WIDTH_ARMS = ("mlp", "mlp-aligned", "mlp-activation-aligned", "mlp-aligned-repair",
              "mlp-activation-aligned-repair", "w-asym")
width_summary = lmc.summarize(width_runs, by=("setup", "family", "width"))
fig, axes = plt.subplots(1, 2, figsize=(9, 3.6), sharey=True)
for ax, depth in zip(axes, (1, 2), strict=True):
    for arm in WIDTH_ARMS:
        part = width_summary[(width_summary["setup"] == f"depth {depth}") & (width_summary["family"] == arm)]
        style = plots.ARM_STYLE[arm]
        ax.errorbar(part["width"], part["mean"], yerr=[part["mean"] - part["low"], part["high"] - part["mean"]],
                    color=style["color"], marker=style["marker"], linestyle=style.get("linestyle", "-"),
                    label=style["label"], capsize=2)
    ax.set_xscale("log")
    ax.set_yscale("log", nonpositive="mask")  # log-log, as the slopes below; bars below 0 are cut
    ax.set(title=f"{depth} hidden layer{'s' if depth > 1 else ''}", xlabel="width")
    ax.minorticks_off()
    ax.set_xticks(sizes["widths"], [str(w) for w in sizes["widths"]])
axes[0].set_ylabel("test loss barrier (nats, log scale)")
handles, labels = axes[0].get_legend_handles_labels()
fig.legend(handles, labels, loc="lower center", ncols=3, bbox_to_anchor=(0.5, 1.0), frameon=False)
fig.tight_layout()
glue("fig_lim_width", fig, display=False)
plt.close(fig)

slope_rows = []
for depth in (1, 2):
    part = [r for r in width_runs if r["depth"] == depth]
    for arm in ("mlp", "mlp-aligned", "mlp-activation-aligned", "mlp-aligned-repair", "w-asym"):
        fit = lmc.loglog_slope(part, arm, min_width=sizes["large_width"])
        slope_rows.append({"hidden layers": depth, "arm": plots.ARM_STYLE[arm]["label"], "slope": fit["slope"],
                           "95% interval": f"[{fit['low']:.2f}, {fit['high']:.2f}]",
                           "widths": ", ".join(map(str, fit["widths"])),
                           "bootstrap draws dropped": fit["dropped_draws"]})
        glue(f"slope_{depth}_{arm}", f"{fit['slope']:.2f} [{fit['low']:.2f}, {fit['high']:.2f}]", display=False)
glue("tab_lim_slopes", plots.table(pd.DataFrame(slope_rows), digits=2), display=False)
glue("width_min", str(min(sizes["widths"])), display=False)
glue("width_max", str(max(sizes["widths"])), display=False)
glue("width_epochs", str(sizes["width_epochs"]), display=False)
glue("width_pairs", str(sizes["width_pairs"]), display=False)
glue("large_width", str(sizes["large_width"]), display=False)
peak = {}
for depth in (1, 2):
    part = width_summary[(width_summary["setup"] == f"depth {depth}") & (width_summary["family"] == "mlp-aligned")]
    peak[depth] = int(part.loc[part["mean"].idxmax(), "width"])
    glue(f"peak_width_{depth}", str(peak[depth]), display=False)
    means = part.sort_values("width")[["width", "mean"]].to_numpy()
    rises = [f"{int(w0)} → {int(w1)}" for (w0, m0), (w1, m1) in zip(means[:-1], means[1:], strict=True) if m1 > m0]
    glue(f"rises_{depth}", ", ".join(rises) if rises else "nowhere", display=False)

# %% [markdown]
# ```{glue:figure} fig_lim_width
# :name: fig-lim-width
#
# Test loss barrier (excess over the chord) against width on log–log axes, one and two hidden
# layers, ReLU MLPs on the digits: mean over pairs, bars: 95 % interval (cut where they reach below
# zero). The same pairs appear unaligned (grey), weight-
# and activation-matched (black, blue) and with REPAIR (dashed); W-Asym pairs (green) are trained
# separately, never aligned.
# ```
#
# ```{glue:figure} tab_lim_slopes
# :name: tab-lim-slopes
#
# Slope of log(mean barrier) against log(width) over the large widths only, with a 95 % percentile
# bootstrap interval (pairs resampled within each width; a draw whose mean barrier is not positive
# has no logarithm and is dropped, and counted). Zhan, Li & Wu's prediction for the optimally
# aligned one-hidden-layer network is −0.5.
# ```
#
# The weight-matched barrier is largest at width {glue:text}`peak_width_1` with one hidden layer and
# at {glue:text}`peak_width_2` with two ({numref}`fig-lim-width`); its mean rises from one width to
# the next at {glue:text}`rises_1` (one hidden layer) and {glue:text}`rises_2` (two). A double
# descent would show as a rise at moderate width between two falls; with {glue:text}`width_pairs`
# pairs per width, a rise smaller than the bars is not evidence of one. Over widths of
# {glue:text}`large_width` and more, the weight-matched barrier has log–log slope
# {glue:text}`slope_1_mlp-aligned` (one hidden layer) and {glue:text}`slope_2_mlp-aligned` (two),
# against −0.5 predicted for one hidden layer at large width {cite}`zhan2025lmcwidth`; the unaligned
# barrier's slopes are {glue:text}`slope_1_mlp` and {glue:text}`slope_2_mlp`, W-Asym's
# {glue:text}`slope_1_w-asym` and {glue:text}`slope_2_w-asym` ({numref}`tab-lim-slopes`). With
# {glue:text}`width_pairs` pairs per width and three widths in the fit these intervals are wide:
# they say whether a slope near −0.5 is excluded, not more.
#
# ## Weight matching, activation matching and REPAIR

# %% tags=["hide-input"]
MATCH_ARMS = ("mlp", "mlp-aligned", "mlp-activation-aligned", "mlp-aligned-repair", "mlp-activation-aligned-repair")
match_rows = []
for depth in (1, 2):
    for width in (64, max(sizes["widths"])):
        runs = [r for r in width_runs if r["depth"] == depth and r["width"] == width]
        if runs:
            match_rows.append({"network": f"ReLU, {depth} hidden, width {width}",
                               **{plots.ARM_STYLE[arm]["label"]: interval(arm_values(runs, arm, "barrier"))
                                  for arm in MATCH_ARMS}})
glue("tab_lim_matching", plots.table(pd.DataFrame(match_rows).set_index("network")), display=False)
wide = [r for r in width_runs if r["depth"] == 2 and r["width"] == max(sizes["widths"])]
for arm in MATCH_ARMS:
    glue(f"match_{arm}", f"{np.mean(arm_values(wide, arm, 'barrier')):.3f}", display=False)
glue("match_width", str(max(sizes["widths"])), display=False)

# %% [markdown]
# ```{glue:figure} tab_lim_matching
# :name: tab-lim-matching
#
# Test loss barrier (excess over the chord, nats; mean [95 % interval] over pairs) of the same pairs
# aligned four ways (ReLU networks of the width sweep). REPAIR's statistics come from the training
# set.
# ```
#
# In {numref}`tab-lim-matching`, for two hidden layers of width {glue:text}`match_width`, the unaligned
# barrier {glue:text}`match_mlp` becomes {glue:text}`match_mlp-aligned` with weight matching and
# {glue:text}`match_mlp-activation-aligned` with activation matching; REPAIR takes them to
# {glue:text}`match_mlp-aligned-repair` and {glue:text}`match_mlp-activation-aligned-repair`.

# %% [markdown]
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
glue("tab_shared_bridge", plots.table(bridge), display=False)

# %% [markdown]
# ```{glue:figure} tab_shared_bridge
# :name: tab-shared-bridge
#
# The ring: test loss barrier, the largest drop of test accuracy along the line below the chord
# between the endpoints' accuracies, and the endpoints' test accuracy, for MLPs (unaligned and weight-matched) and `SharedMLP`s (unaligned,
# channel-matched, and channel- plus rotation-matched): mean over pairs [95 % confidence interval].
# ```

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

# %% [markdown]
# How does this depend on the number of channels? {numref}`fig-lim-channels` repeats the
# comparison on the ring for {glue:text}`channel_list` channels ({glue:text}`channel_pairs` pairs
# for the counts below the chapter's, the ring's training set-up above; the chapter's own count is the
# comparison above).

# %% tags=["hide-input"]
start = time.perf_counter()
channel_runs = lmc.shared_sweep(sizes)
wall["channel sweep"] = time.perf_counter() - start
channel_summary = lmc.summarize(channel_runs, by=("family", "channels"))
fig, ax = plt.subplots(figsize=(5, 3.4))
for arm in ("shared", "shared-aligned", "shared-rotation-aligned"):
    part = channel_summary[channel_summary["family"] == arm]
    style = plots.ARM_STYLE[arm]
    ax.errorbar(part["channels"], part["mean"], yerr=[part["mean"] - part["low"], part["high"] - part["mean"]],
                color=style["color"], marker=style["marker"], linestyle=style.get("linestyle", "-"),
                label=style["label"], capsize=2)
ax.set(xscale="log", xlabel="channels per hidden layer", ylabel="test loss barrier (nats)")
ax.minorticks_off()
ax.set_xticks(sizes["channels"], [str(c) for c in sizes["channels"]])
ax.legend(frameon=False)
fig.tight_layout()
glue("fig_lim_channels", fig, display=False)
plt.close(fig)
glue("channel_list", ", ".join(map(str, sizes["channels"])), display=False)
glue("channel_pairs", str(sizes["channel_pairs"]), display=False)
means = channel_summary.pivot(index="channels", columns="family", values="mean")
rotation_lowest = int((means["shared-rotation-aligned"] < means["shared-aligned"]).sum())
glue("channel_rotation_lower", f"{rotation_lowest} of {len(means)}", display=False)
for arm in ("shared", "shared-aligned", "shared-rotation-aligned"):
    glue(f"channel_widest_{arm}", f"{means[arm].iloc[-1]:.3f}", display=False)
glue("channel_widest", str(int(means.index[-1])), display=False)

# %% [markdown]
# ```{glue:figure} fig_lim_channels
# :name: fig-lim-channels
#
# Test loss barrier of two `SharedMLP`s (cyclic group of the ring) against the channel count:
# unaligned, channel-matched, and rotation-plus-channel-matched; mean over pairs, bars: 95 %
# interval.
# ```
#
# Rotation matching gives a lower barrier than channel matching alone at
# {glue:text}`channel_rotation_lower` channel counts; at {glue:text}`channel_widest` channels the
# three barriers are {glue:text}`channel_widest_shared` (unaligned),
# {glue:text}`channel_widest_shared-aligned` (channels) and
# {glue:text}`channel_widest_shared-rotation-aligned` (rotations and channels).

# %% [markdown]
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
glue("tab_training_cost", plots.table(pd.DataFrame(cost_rows)), display=False)

# %% [markdown]
# ```{glue:figure} tab_training_cost
# :name: tab-training-cost
#
# What asymmetry costs in training: Adam steps until the training loss first reaches the target
# (a running mean over 25 steps), mean [95 % confidence interval] over every trained network, how
# many networks reached it, and the endpoints' test accuracy.
# ```

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

# %% tags=["hide-input"]
units = {(r["setup"], r["trained_family"], r["width"], r["depth"]): r["seconds"]
         for runs in (lim_small, reproduction, width_runs, *ablation_runs.values()) for r in runs if "seconds" in r}
compute_seconds = sum(units.values())
glue("lim_compute_seconds", f"{compute_seconds:.0f}", display=False)
glue("lim_units", str(len(units)), display=False)
print(f"new studies of this chapter: {len(units)} units, {compute_seconds:.0f} s when computed "
      f"(the channel sweep not included); this execution: "
      + ", ".join(f"{k} {v:.1f} s" for k, v in wall.items()) + " (units computed in parallel workers)")

# %% [markdown]
# The studies of Lim et al.'s protocol, the ablations and the width sweep are
# {glue:text}`lim_units` units of work that took {glue:text}`lim_compute_seconds` s of one core
# when they were computed; they are cached, so executing the chapter again reads them back.
