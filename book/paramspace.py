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
# # Parameter-space symmetry and mode connectivity
#
# The rest of the book is about symmetries of the *data*: tying weights so that a network cannot
# tell a rotated input from the original. Networks also have symmetries of their *parameters*:
# many weight vectors compute the same function {cite}`zhao2025parameterspace`. Swap two hidden
# units of an MLP (with their incoming and outgoing weights) and nothing changes; multiply a ReLU
# unit's incoming weights by $s > 0$ and divide its outgoing weights by $s$, and nothing changes
# either.
#
# **Question.** Are these symmetries exact, and do they shape the loss landscape? Two networks
# trained from different initialisations are usually separated by a loss barrier on the straight
# line between them; removing the permutation symmetry — by aligning the networks
# {cite}`ainsworth2023rebasin`, or by building networks that have none {cite}`lim2024asymmetric` —
# should lower it. How does the barrier change with width, and with the way the networks are aligned?
#
# **Answer.** The symmetries hold to rounding error ({numref}`tab-symmetry-check`). On handwritten digits two unaligned standard
# MLPs are separated by a test loss barrier of {glue:text}`ps_ci_digits_mlp` nats (mean [95 %
# interval] over {glue:text}`n_pairs` pairs); weight matching brings it to
# {glue:text}`ps_ci_digits_mlp-aligned`, and two W-Asymmetric networks, never aligned, have
# {glue:text}`ps_ci_digits_w-asym`. Over widths of {glue:text}`large_width` and more the
# weight-matched barrier has log–log slope {glue:text}`slope_1_mlp-aligned` with one hidden layer,
# against −0.5 predicted {cite}`zhan2025lmcwidth`; REPAIR takes the weight-matched barrier of the
# widest two-hidden-layer pairs from {glue:text}`match_mlp-aligned` to
# {glue:text}`match_mlp-aligned-repair`. Lim et al.'s own protocol, the σ-Asymmetric
# network and the symmetries that weight tying leaves are the next chapter, {doc}`asymmetric`.

# %% tags=["remove-cell"]
import math
import time

import matplotlib.pyplot as plt
import pandas as pd
import torch
from myst_nb import glue

from symsharing.figures import plots
from symsharing.figures.captions import signed
from symsharing.figures.paramspace_plots import interval_text, mean_interval, plot_arm_sweep
from symsharing.figures.plots import book_style
from symsharing.models import MLP, SharedMLP, SigmaAsymmetricMLP, WAsymmetricMLP, count_parameters
from symsharing.paramspace import lmc_study as lmc
from symsharing.paramspace import permutation_group_order, permute_hidden, rescale_hidden
from symsharing.paramspace.connectivity import (
    LIM_ORDER,
    barrier_order,
    chapter_config,
    curve_band,
    mode_connectivity,
    summarize,
)
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
# Ranked by mean test barrier, lowest first, the arms order {glue:text}`order_digits` on the
# digits and {glue:text}`order_ring` on the ring. Test loss (left) and test accuracy (right) along
# the straight line between the two networks of a pair, on digits (top) and the ring task
# (bottom), for each arm: mean over pairs, band: 95 % confidence interval (Student t over pairs). A
# bump in the loss is a barrier; a flat line is linear mode connectivity.
# ```
#
# The barrier per arm, on the test set (as Lim et al. report it) and on the training set
# ({numref}`tab-barriers`):

# %% tags=["hide-input"]
barriers, drops = summarize(records, "barrier"), summarize(records, "score_drop")
train_barriers = summarize(records, "train_barrier")

table = pd.DataFrame({f"{task}, {split}": {ARMS[family]: interval_text(*source[task, family]) for family in ARMS}
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
        glue(f"ps_ci_{task}_{family}", interval_text(*barriers[task, family]), display=False)
    for family in ("mlp-aligned", "w-asym", "sigma-asym"):
        reduction = 100 * (1 - barriers[task, family][0] / barriers[task, "mlp"][0])
        glue(f"reduction_{task}_{family}", f"{reduction:.0f}", display=False)
glue("n_pairs", str(configs["digits"]["n_pairs"]), display=False)
glue("n_fixed_digits", str(configs["digits"]["n_fixed"]), display=False)

# %% [markdown]
# **Result.** With {glue:text}`n_pairs` pairs per arm, the test barriers on the digits rank
# {glue:text}`order_digits`. Lim et al. report W-Asym < aligned standard < σ-Asym < unaligned
# standard on MNIST and CIFAR-10 {cite}`lim2024asymmetric`; ranked by the means alone, ours
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
# a higher barrier). Which factor of Lim et al.'s set-up moves the σ-Asymmetric barrier, and which
# steps of their order survive a paired test, is in {doc}`asymmetric`.
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
sizes = lmc.study_config()
start = time.perf_counter()
width_runs = lmc.width_sweep(sizes)
width_wall = time.perf_counter() - start
WIDTH_ARMS = ("mlp", "mlp-aligned", "mlp-activation-aligned", "mlp-aligned-repair",
              "mlp-activation-aligned-repair", "w-asym")
width_summary = lmc.summarize(width_runs, by=("setup", "family", "width"))
fig, axes = plt.subplots(1, 2, figsize=(9, 3.6), sharey=True)
for ax, depth in zip(axes, (1, 2), strict=True):
    # log-log, as the slopes below; bars below 0 are cut
    plot_arm_sweep(ax, width_summary[width_summary["setup"] == f"depth {depth}"], "width", WIDTH_ARMS, log_y=True)
    ax.set(title=f"{depth} hidden layer{'s' if depth > 1 else ''}", xlabel="width")
axes[0].set_ylabel("test loss barrier (nats, log scale)")
handles, labels = axes[0].get_legend_handles_labels()
fig.legend(handles, labels, loc="lower center", ncols=3, bbox_to_anchor=(0.5, 1.0), frameon=False)
fig.tight_layout()
glue("fig_lim_width", fig, display=False)
plt.close(fig)

slope_rows, fits = [], {}
for depth in (1, 2):
    part = [r for r in width_runs if r["depth"] == depth]
    for arm in ("mlp", "mlp-aligned", "mlp-activation-aligned", "mlp-aligned-repair", "w-asym"):
        fit = fits[depth, arm] = lmc.loglog_slope(part, arm, min_width=sizes["large_width"])
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
PREDICTED_SLOPE, one = -0.5, fits[1, "mlp-aligned"]  # Zhan, Li & Wu: aligned, one hidden layer, large width
holds = ("cannot say whether it holds" if math.isnan(one["low"]) else
         "holds" if one["low"] <= PREDICTED_SLOPE <= one["high"] else "excludes")
slope = {depth: signed([fits[depth, "mlp-aligned"][k] for k in ("slope", "low", "high")], 2) for depth in (1, 2)}
glue("ps_width_caption", f"Over widths of {sizes['large_width']} and more the weight-matched barrier's log–log slope is "
     f"{slope[1]} with one hidden layer, an interval that {holds} Zhan, Li & Wu's {PREDICTED_SLOPE:+}, and "
     f"{slope[2]} with two.", display=False)
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
# {glue:text}`ps_width_caption` Test loss barrier (excess over the chord) against width on log–log
# axes, one and two hidden layers, ReLU MLPs on the digits: mean over pairs, bars: 95 % interval (cut where they reach below
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
        runs = pd.DataFrame([r for r in width_runs if r["depth"] == depth and r["width"] == width])
        if len(runs):
            match_rows.append({"network": f"ReLU, {depth} hidden, width {width}",
                               **{plots.ARM_STYLE[arm]["label"]: mean_interval(
                                   runs.loc[runs["family"] == arm, "barrier"]) for arm in MATCH_ARMS}})
glue("tab_lim_matching", plots.table(pd.DataFrame(match_rows).set_index("network")), display=False)
wide = pd.DataFrame([r for r in width_runs if r["depth"] == 2 and r["width"] == max(sizes["widths"])])
for arm in MATCH_ARMS:
    glue(f"match_{arm}", f"{wide.loc[wide['family'] == arm, 'barrier'].mean():.3f}", display=False)
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

# %% tags=["hide-input"]
units = {(r["setup"], r["trained_family"], r["width"]): r["seconds"] for r in width_runs}
glue("ps_width_units", str(len(units)), display=False)
glue("ps_width_seconds", f"{sum(units.values()):.0f}", display=False)
print(f"width sweep: {len(units)} units, {sum(units.values()):.0f} s of one core when computed; "
      f"this execution {width_wall:.1f} s (units computed in parallel workers)")

# %% [markdown]
# The width sweep is {glue:text}`ps_width_units` units of work that took
# {glue:text}`ps_width_seconds` s of one core when they were computed; they are cached, so executing
# the chapter again reads them back.
