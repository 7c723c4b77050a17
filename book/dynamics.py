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
# # How symmetry shapes training
#
# {glue:text}`answer_balance` {glue:text}`answer_flat` {glue:text}`answer_teleport`
#
# The previous chapter showed that permuting and rescaling hidden units leaves a network's function
# unchanged. This chapter asks what the *continuous* symmetries — positive rescalings of ReLU units
# — do to training itself {cite}`zhao2025parameterspace`: they conserve quantities along gradient
# flow {cite}`kunin2021neural,zhao2023conserved`, they make the loss flat in known directions, they
# let a reparametrisation change the sharpness without changing the function {cite}`dinh2017sharp`,
# and they give an optimiser an orbit to jump along {cite}`zhao2022teleportation,zhao2024improving`.
# Each claim sits next to the closed form or the published result it tests.

# %% tags=["remove-cell"]
import numpy as np
import pandas as pd
from myst_nb import glue

from symsharing.figures import dynamics_plots, plots
from symsharing.figures.plots import book_style
from symsharing.paramspace import dynamics, teleport_study, teleport_toy
from symsharing.paramspace import dynamics_tables as tables

book_style()
config, study = dynamics.chapter_config(), teleport_study.study_config()
balance = {run["arm"]: run for run in dynamics.balance_runs(config)}
two_layer = dynamics.two_layer_runs(config)
orbit = dynamics.orbit_training_runs(config)
null = dynamics.null_space_runs(config)
sharpness = pd.DataFrame(dynamics.sharpness_runs(config))
toy, book = teleport_study.toy_runs(study), teleport_study.book_runs(study)
EXACT, sci, interval = 1e-10, tables.scientific, tables.ratio_text  # EXACT: rounding is ~1e-16 relative

# %% [markdown]
# ## 1. Conserved quantities
#
# Scaling the incoming weights and bias of ReLU unit $k$ by $s>0$ and its outgoing weights by $1/s$
# keeps the function. Differentiating in $s$ gives $\nabla L\cdot A_k\theta=0$ at every $\theta$,
# where $A_k\theta$ is $+\theta$ on the unit's incoming weights and bias and $-\theta$ on its
# outgoing weights. So the unit's *balance*
# $Q_k=\lVert W_l[k,:]\rVert^2+b_l[k]^2-\lVert W_{l+1}[:,k]\rVert^2$ (`neuron_balance`) is conserved
# by gradient flow. A gradient-descent step $\theta\to(1-\eta\lambda)\theta-\eta g$ (step $\eta$, L2
# penalty $\tfrac{\lambda}{2}\lVert\theta\rVert^2$) changes this quadratic form by exactly
#
# $$Q_k' = (1-\eta\lambda)^2\,Q_k + \eta^2\left(\lVert g_{\text{in}}\rVert^2 - \lVert g_{\text{out}}\rVert^2\right),$$
#
# because the cross term is the vanishing $\nabla L\cdot A_k\theta$. Without the penalty the drift
# is second order in $\eta$; with it, $Q\approx Q_0e^{-2\lambda t}$ at $t=\eta s$. In a deep
# *linear* network the whole matrix $W_lW_l^\top+b_lb_l^\top-W_{l+1}^\top W_{l+1}$ obeys the same
# formula, and in a `SharedMLP` the balance of each hidden *channel*, summed over its tied
# parameters. We train {glue:text}`bal_setup` in float64 and compare, step by step, the measured
# balance with the formula's prediction.

# %% tags=["remove-cell"]
exact_arms = [arm for arm, run in balance.items() if "prediction_error" in run]
worst = max(balance[arm]["prediction_error"] / balance[arm]["scale"] for arm in exact_arms)
assert worst <= EXACT
loose = max(balance[arm]["drift"] / balance[arm]["scale"] for arm in ("momentum", "Adam"))
decayed = balance["GD + L2"]
glue("exact_tol", sci(EXACT, 0), display=False)
glue("bal_setup", f"an MLP with {config['depth']} hidden layers of {config['width']} units on "
     f"{config['n_train']} samples of the {config['task']} task ({config['balance_steps']} steps)", display=False)
glue("bal_worst", sci(worst), display=False)
glue("bal_loose", f"{loose:.1f}", display=False)
glue("bal_ratio", f"{decayed['decay_ratio']:.4f}", display=False)
glue("bal_flow", f"{decayed['flow_ratio']:.4f}", display=False)
glue("bal_lambda", f"{decayed['weight_decay']:g}", display=False)
glue("tab_balance", plots.table(tables.balance_table(list(balance.values())), formats={
    "rate": "{:g}", "max |measured − predicted|": "{:.1e}", "max one-step change": "{:.1e}",
    "max drift |Q(s) − Q(0)|": "{:.1e}"}), display=False)
glue("fig_balance", dynamics_plots.plot_balance(list(balance.values())), display=False)
glue("answer_balance", f"Under gradient descent each hidden unit's balance moves by exactly the predicted "
     f"η²(‖g_in‖² − ‖g_out‖²) per step (largest error {sci(worst)} of |Q|, float64), while momentum and Adam "
     f"move it by up to {loose:.1f} times its largest initial value.", display=False)

# %% [markdown]
# ```{glue:figure} tab_balance
# :name: tab-balance
#
# Measured balance against the exact one-step formula. For GD, GD with the penalty
# ($\lambda$ = {glue:text}`bal_lambda`), mini-batch SGD (the batch's gradient in the formula), the
# `SharedMLP` (per channel) and the deep linear network (the whole matrix), measured and predicted
# agree to rounding; momentum and Adam have no such formula.
# ```
#
# The largest gap between measurement and formula, relative to the balance, is {glue:text}`bal_worst`
# — rounding, as the chapter's check requires (it fails above {glue:text}`exact_tol`). With the
# penalty the balance shrinks by {glue:text}`bal_ratio` over the run (median over units), against
# $e^{-2\lambda t}$ = {glue:text}`bal_flow` for gradient flow. Momentum and Adam are not gradient
# descent on the same loss: their balances wander ({numref}`fig-balance`), by up to
# {glue:text}`bal_loose` times the largest initial balance.
#
# ```{glue:figure} fig_balance
# :name: fig-balance
#
# GD's balance follows the one-step formula to {glue:text}`bal_worst` of $|Q|$, the penalty scales it
# by {glue:text}`bal_ratio` (gradient flow: {glue:text}`bal_flow`); momentum and Adam move it by up to
# {glue:text}`bal_loose` times the largest initial balance. Mean drift from the start, per optimiser.
# ```
#
# ### What the conserved value means
#
# Zhao et al. {cite}`zhao2023conserved` train two-layer networks $U\sigma(V^\top X)$ with whitened
# input from initialisations of different scale, hence different conserved $Q$ (for tanh and
# sigmoid the paper's own $Q$), and relate $Q$ to the sharpness of the minimum reached and to the
# speed of convergence. We re-run their two scripts in float64 ({numref}`fig-two-layer-spectra`,
# {numref}`fig-two-layer-convergence`). The convergence script takes {glue:text}`tl_steps` steps
# ({glue:text}`tl_sigmoid_steps` for sigmoid) at rate {glue:text}`tl_lr`; we take
# {glue:text}`tl_cut` times fewer steps at a {glue:text}`tl_cut` times larger rate — the same
# gradient-flow time — and measure how far $Q$ then drifts (the $\eta^2$ term grows with the rate).

# %% tags=["remove-cell"]
tl = tables.two_layer_table(two_layer)
hess, conv = tl.loc["hessian"], tl.loc["convergence"]
monotone = [a for a, part in hess.groupby(level="activation", sort=False)
            if (np.diff(part.sort_values("Q(0)")["top eigenvalue"]) > 0).all()]
by_scale = [a for a, part in hess.groupby(level="activation", sort=False)
            if (np.diff(part["top eigenvalue"]) > 0).all()]  # rows in order of the initial scale
ordered = [a for a, part in conv.groupby(level="activation", sort=False)
           if (np.diff(part.assign(size=part["Q(0)"].abs()).sort_values("size")["steps to target"]
                       .fillna(np.inf)) <= 0).all()]
protocol = dynamics.CONVERGENCE_PROTOCOL
glue("tl_steps", f"{protocol['steps']:,}", display=False)
glue("tl_sigmoid_steps", f"{protocol['sigmoid_steps']:,}", display=False)
glue("tl_lr", f"{protocol['lr']:g}", display=False)
glue("tl_cut", str(config["convergence_cut"]), display=False)
glue("tl_target", f"{dynamics.RESIDUAL_TARGET:g}", display=False)
glue("tl_monotone", ", ".join(monotone) or "none of the activations", display=False)
glue("tl_by_scale", ", ".join(by_scale) or "none of the activations", display=False)
glue("tl_ordered", ", ".join(ordered) or "none of the activations", display=False)
glue("tl_drift", sci(tl["|Q drift| / ‖θ‖²"].max()), display=False)
glue("tab_two_layer", plots.table(tl, formats={"init scale": "{:g}", "|Q drift| / ‖θ‖²": "{:.1e}",
                                               "steps to target": "{:,.0f}"}), display=False)
glue("fig_two_layer_spectra", dynamics_plots.plot_two_layer_spectra(two_layer), display=False)
glue("fig_two_layer_convergence", dynamics_plots.plot_two_layer_convergence(two_layer), display=False)

# %% [markdown]
# ```{glue:figure} fig_two_layer_spectra
# :name: fig-two-layer-spectra
#
# The final top Hessian eigenvalue grows with $Q$ for: {glue:text}`tl_monotone`. Hessian eigenvalues
# at the end of training (Zhao et al.'s Hessian figure, its near-zero bin off the axis as there),
# one colour per initial scale (its $Q$ in {numref}`tab-two-layer`).
# ```
#
# ```{glue:figure} fig_two_layer_convergence
# :name: fig-two-layer-convergence
#
# The larger $|Q|$, the sooner the residual falls below {glue:text}`tl_target`, for:
# {glue:text}`tl_ordered`. Residual norm against the step from three initial scales, hence three
# $Q$ (Zhao et al.'s convergence figure, the same gradient-flow time in fewer, larger steps).
# ```
#
# ```{glue:figure} tab_two_layer
# :name: tab-two-layer
#
# Both scripts, per activation and initial scale: the conserved $Q$, its drift over the run relative
# to the squared weight norm (the larger of start and end), and either the top eigenvalue and trace
# of the final Hessian or the steps until the residual norm falls below the target.
# ```
#
# $Q$ drifts by at most {glue:text}`tl_drift` of the squared weight norm ({numref}`tab-two-layer`),
# so each run stays near its level set. The top eigenvalue grows with the initial scale for:
# {glue:text}`tl_by_scale`; with $Q$ itself for: {glue:text}`tl_monotone` (for tanh the paper's $Q$
# is not monotone in the scale).
#
# On the book's own task we take {glue:text}`orb_setup` and rescale the units of the first hidden
# layer by a factor before training: the *same function*, a different balance. All are trained by
# full-batch GD at the same rate.

# %% tags=["remove-cell"]
orbits = tables.orbit_table(orbit)
follows = bool(np.all(np.diff(orbits["final top eigenvalue"]) > 0))
glue("orb_setup", f"{config['seeds']} initialisations of an MLP with {config['depth']} hidden layers of "
     f"{config['orbit_width']} units ({config['orbit_steps']} steps at rate {config['orbit_lr']})", display=False)
glue("orb_target", f"{config['orbit_target']}", display=False)
glue("orb_follows", "grows with the balance" if follows else "does not grow monotonically with the balance",
     display=False)
glue("orb_adaptive", f"{orbits['adaptive (invariant)'].max() / orbits['adaptive (invariant)'].min():.2f}",
     display=False)
glue("orb_speed", "; ".join(f"factor {f:g} reaches the target {orbits.loc[f, 'speed-up vs factor 1']} times "
                            f"as fast, with a final sharpness ratio of {orbits.loc[f, 'ratio vs factor 1']}"
                            for f in orbits.index if f != 1.0), display=False)
glue("tab_orbit", plots.table(orbits, formats={"factor": "{:g}", "steps to target": "{:.0f}"}), display=False)
glue("fig_orbit", dynamics_plots.plot_orbit_training(orbit), display=False)

# %% [markdown]
# ```{glue:figure} tab_orbit
# :name: tab-orbit
#
# One initial function, three balances: steps until the training loss falls below
# {glue:text}`orb_target`, final sharpness, and paired ratios to the unrescaled network (geometric
# mean over seeds, 95 % interval).
# ```
#
# ```{glue:figure} fig_orbit
# :name: fig-orbit
#
# From one initial function, the final plain sharpness {glue:text}`orb_follows`, while the means
# of the adaptive sharpness (section 3) stay within a factor {glue:text}`orb_adaptive` of each
# other. Training loss of the same initial function at three balances.
# ```
#
# Against the unrescaled network (paired by seed): {glue:text}`orb_speed`. Gradient descent keeps
# the balance it starts from, up to the $\eta^2$ term, so the choice among weights that compute one
# function is a choice of trajectory.
#
# ## 2. Flat directions of the Hessian
#
# Differentiating $L(e^{tA}\theta)=L(\theta)$ twice gives, at *every* $\theta$,
# $H(\theta)A\theta=-A^\top\nabla L(\theta)$ besides $\nabla L\cdot A\theta=0$; at a critical point
# $A\theta$ is a null vector of the Hessian. We check both identities in float64 with the full
# Hessian (`torch.func.hessian`) at a random and at a trained $\theta$, for every rescaling
# generator of an MLP, a `SharedMLP` and the W-Asymmetric and σ-Asymmetric networks of
# {doc}`paramspace` (built to have no such generator).

# %% tags=["remove-cell"]
identities = tables.identity_table(null)
worst = identities.iloc[:, 1:].max().max()
assert worst <= EXACT
glue("id_worst", sci(worst), display=False)
glue("tab_identities", plots.table(identities, formats={"max |∇L·Aθ| (cosine)": "{:.1e}",
                                                        "max rel. ‖HAθ + Aᵀ∇L‖": "{:.1e}"}), display=False)

# %% [markdown]
# ```{glue:figure} tab_identities
# :name: tab-identities
#
# Both identities hold to {glue:text}`id_worst` (relative), for the MLP (one generator per hidden
# unit) and the `SharedMLP` (one per hidden channel); the asymmetric networks have no generator.
# ```
#
# Counting zero eigenvalues at a minimum means something only where the data alone leave no null
# space (more constraints than parameters, $N\cdot n_\text{out}\gg P$), no unit is dead or always
# on, and the Hessian exists: a ReLU loss with non-zero residuals has its minima on kinks, where a
# sample crossing a unit's boundary changes the gradient by an amount proportional to its
# residual. So a *teacher* of each architecture, its biases centring every unit on the data,
# labels {glue:text}`null_n` inputs of the set task; a student started near it is moved by
# Levenberg–Marquardt to a zero-loss minimum, where the loss is smooth. An eigenvalue counts as zero
# when $|\lambda|\le$ {glue:text}`null_rtol` $\cdot\max|\lambda|$: float64 rounding leaves the
# true zeros at most {glue:text}`null_largest_zero` of the largest, and the table gives the
# nearest non-zero one.

# %% tags=["remove-cell"]
counts = tables.null_table(null)
differ = counts.index[counts["generators"] != counts["zero eigenvalues"]]
last_hidden = {run["family"]: run["last_hidden"] for run in null}
ce = counts["zeros, cross-entropy at random θ"]
glue("null_n", f"{config['null_n']:,}", display=False)
glue("null_rtol", sci(dynamics.NULL_RTOL, 0), display=False)
glue("null_largest_zero", sci(counts["largest zero"].max()), display=False)
glue("null_match", "differs from the number of generators for " + ", ".join(differ) if len(differ)
     else "equals the number of generators for every family", display=False)
glue("ce_free", ", ".join(f for f in counts.index if ce[f] == last_hidden[f] + 1) or "none", display=False)
glue("ce_other", ", ".join(f"{f} ({ce[f]} of {last_hidden[f] + 1})" for f in counts.index
                           if ce[f] != last_hidden[f] + 1) or "none", display=False)
short = {"N × outputs": "N·out", "‖∇L‖ at the minimum": "‖∇L‖", "zero eigenvalues": "zeros", "largest zero": "max zero", "smallest non-zero": "min other", "zeros, cross-entropy at random θ": "zeros (CE)"}
glue("tab_dyn_null", plots.table(counts.rename(columns=short), formats={c: "{:.0e}" for c in ("‖∇L‖", "max zero", "min other")}), display=False)
glue("fig_null", dynamics_plots.plot_null_spaces(null, dynamics.NULL_RTOL), display=False)
glue("tie_shared", str(counts.loc["SharedMLP", "zero eigenvalues"]), display=False)
glue("tie_mlp", str(counts.loc["MLP", "zero eigenvalues"]), display=False)
spread = sharpness.groupby("seed").agg(["min", "max"])
glue("answer_flat", f"At zero-loss minima the Hessian has "
     f"{', '.join(f'{c} ({f})' for f, c in counts['zero eigenvalues'].items())} zero eigenvalues, against "
     f"{', '.join(str(c) for c in counts['generators'])} rescaling generators, and rescaling a trained network "
     f"moves its top Hessian eigenvalue by a factor of up to "
     f"{(spread[('top', 'max')] / spread[('top', 'min')]).max():,.0f} at the same function.", display=False)

# %% [markdown]
# ```{glue:figure} tab_dyn_null
# :name: tab-dyn-null
#
# Zero eigenvalues of the Hessian at a zero-loss minimum against the continuous symmetry generators:
# the count {glue:text}`null_match` (max zero / min other: relative to the largest eigenvalue;
# zeros (CE): cross-entropy on random labels at the teacher).
# ```
#
# ```{glue:figure} fig_null
# :name: fig-null
#
# The number of zero eigenvalues {glue:text}`null_match`. The smallest Hessian eigenvalues at each
# minimum, relative to the largest; dashed: the zero tolerance; dotted: the number of generators.
# ```
#
# Cross-entropy adds flat directions of its own: adding a constant to every logit changes nothing,
# so shifting the output bias, or a column of the last weight matrix, by the same amount for every
# class is a translation symmetry, exact at *every* $\theta$: one direction more than the last
# hidden layer has units (or channels). The last column of {numref}`tab-dyn-null` finds exactly that
# many for: {glue:text}`ce_free`; fewer for: {glue:text}`ce_other` — fixed entries in the output
# layer block the columns they sit in.
#
# ## 3. Sharpness is not a property of the function
#
# A rescaling $\theta'=D\theta$ maps the Hessian to $D^{-1}HD^{-1}$: its top eigenvalue and trace
# can be moved at will at the same function {cite}`dinh2017sharp`. We train {glue:text}`sh_setup`
# and scale the units of the first hidden layer by factors from {glue:text}`sh_range`. The
# *adaptive* sharpness, measured in the coordinates $\theta_iu_i$ — top eigenvalue and trace of
# $T H T$ with $T=\mathrm{diag}(|\theta|)$ {cite}`kwon2021asam,andriushchenko2023modern` — is
# invariant: $T'=DT$, and diagonal matrices commute, so $T'H'T'=THT$ exactly.

# %% tags=["remove-cell"]
ratio = {column: (spread[(column, "max")] / spread[(column, "min")]) for column in
         ("top", "trace", "adaptive_top", "adaptive_trace")}
adaptive_change = max(ratio["adaptive_top"].max(), ratio["adaptive_trace"].max()) - 1
assert adaptive_change <= EXACT and sharpness["output_change"].max() <= EXACT  # exact identities, float64
n_sharp = config["sharpness_seeds"]
glue("sh_setup", f"{n_sharp} MLP{'s' if n_sharp > 1 else ''} like those of section 1", display=False)
glue("sh_range", f"{min(config['sharpness_factors']):g} to {max(config['sharpness_factors']):g}", display=False)
glue("sh_top", f"{ratio['top'].min():,.0f}", display=False)
glue("sh_trace", f"{ratio['trace'].min():,.0f}", display=False)
glue("sh_adaptive", sci(adaptive_change), display=False)
glue("sh_output", sci(sharpness["output_change"].max()), display=False)
glue("fig_sharpness", dynamics_plots.plot_sharpness(sharpness.to_dict("records")), display=False)

# %% [markdown]
# ```{glue:figure} fig_sharpness
# :name: fig-sharpness
#
# At one function the top eigenvalue moves by a factor of at least {glue:text}`sh_top`, the trace by
# at least {glue:text}`sh_trace`, the adaptive measures by {glue:text}`sh_adaptive` (relative). Top
# eigenvalue (power iteration, Hessian–vector products), trace and adaptive versions against the factor.
# ```
#
# Along the orbit the outputs change by at most {glue:text}`sh_output` (relative), the top
# eigenvalue by at least a factor {glue:text}`sh_top` and the trace by at least
# {glue:text}`sh_trace` for every network, and the adaptive sharpness by {glue:text}`sh_adaptive`:
# rounding. A sharpness meant to say something about the *function* has to be measured in the
# quotient by the symmetry; the adaptive one is one such measure (it is also permutation-invariant),
# at the price of depending on the coordinates $|\theta_i|$.
#
# ## 4. Teleportation
#
# Teleportation climbs $\lVert\nabla L\rVert^2$ along the orbit and hands the new point to the
# optimiser {cite}`zhao2022teleportation`. We first reproduce the 2022 paper's toy run
# (`teleport_toy`: three LeakyReLU layers, its data-dependent GL action, GD and AdaGrad teleported
# once at step {glue:text}`tp_at`) with {glue:text}`toy_seeds` seeds instead of its
# {glue:text}`toy_paper_seeds`. *Speed-up* is the number of steps (or seconds, teleport included)
# the plain optimiser needs to reach the loss it has halfway through its run, divided by the number
# the teleported run needs (a run that never gets there, or diverges, counts as arriving when the
# plain run's budget ends).

# %% tags=["remove-cell"]
at = teleport_study.TELEPORT_AT
toy_table, toy_stats = tables.speedup_table(toy, "method", [("GD", "GD + teleport"),
                                                             ("AdaGrad", "AdaGrad + teleport")])
jumps = pd.DataFrame([{"method": r["method"], "ratio": r["loss_around_teleport"][1] / r["loss_around_teleport"][0]}
                      for r in toy if "teleport" in r["method"]]).groupby("method", sort=False)["ratio"]
toy_table["median loss after / before the teleport"] = jumps.median()
toy_table["seeds where it grew ×10"] = jumps.apply(lambda r: int((r > 10).sum()))
glue("tp_at", str(at), display=False)
glue("toy_seeds", str(study["toy_seeds"]), display=False)
glue("toy_paper_seeds", str(teleport_toy.PAPER_SEEDS), display=False)
glue("toy_jumps", "; ".join(f"{m}: median factor {r.median():.2g}, above 10 in {int((r > 10).sum())} of {len(r)} "
                            f"seeds" for m, r in jumps), display=False)
glue("tab_toy", plots.table(toy_table), display=False)
glue("fig_toy", dynamics_plots.plot_teleport(toy, "method"), display=False)
book_table, book_stats = tables.speedup_table(book, "arm", [("GD", "GD + teleport"), ("GD", "GD + long teleport")])
frame = pd.DataFrame(book)
book_table["gradient-norm gain"] = frame.groupby("arm", sort=False)["gradient_gain"].median()
book_table["diverged"] = frame.groupby("arm", sort=False)["diverged"].sum().astype(int)
cost = np.median([(s[at] - s[at - 1]) / np.median(np.diff(s)) - 1 for s in frame[frame["arm"] != "GD"]["seconds"]])
glue("tab_book", plots.table(book_table), display=False)
glue("fig_book", dynamics_plots.plot_teleport(book, "arm"), display=False)
(toy_steps, _), (book_steps, book_seconds) = toy_stats["GD + teleport"], book_stats["GD + teleport"]
slower = book_seconds[2] < 1  # the interval of the wall-time speed-up lies below 1
ascents = " or ".join(f"{a[0]} ascent steps of length {a[1]:g}" for a in teleport_study.BOOK_ARMS.values() if a)
glue("book_setup", f"{study['book_seeds']} initialisations of an MLP with {study['depth']} hidden layers of "
     f"{study['width']} units on the {study['task']} task, full-batch GD at rate {study['lr']} for "
     f"{study['book_steps']} steps, teleported at step {at} with {ascents}", display=False)
glue("book_cost", f"{cost:.0f}", display=False)
for name, found in (("toy_speeds", toy_stats), ("book_speeds", book_stats)):  # caption findings
    glue(name, "; ".join(f"{arm}, {interval(s)} in steps and {interval(t)} in wall time" for arm, (s, t) in found.items()), display=False)
glue("book_verdict", "does not pay for its own cost in wall time" if slower else
     "is not shown to lose wall time", display=False)
glue("answer_teleport", f"Teleporting once speeds gradient descent up {interval(toy_steps, 1)} in steps on Zhao "
     f"et al.'s toy problem but {interval(book_steps)} on the book's task, where it "
     f"{'does not pay for itself in wall time' if slower else 'is not shown to cost wall time'} "
     f"({interval(book_seconds)}).", display=False)

# %% [markdown]
# ```{glue:figure} fig_toy
# :name: fig-toy
#
# Speed-ups from one teleport (geometric mean over seeds, 95 % interval): {glue:text}`toy_speeds`.
# Zhao et al.'s toy problem: loss against steps and wall time, median and quartiles over seeds.
# ```
#
# ```{glue:figure} tab_toy
# :name: tab-toy
#
# Speed-ups on the toy problem (geometric mean over seeds, 95 % interval), and what the teleport
# step itself did to the loss.
# ```
#
# The toy speed-ups are not all teleportation's. The paper's action on a pair of layers,
# $U\to U(I-T)$, $V\to\sigma^{-1}((I+T)\sigma(Vh))h^+$, keeps the loss to first order in $T$; applied
# through three layers as its code applies it, each layer gets the pseudo-inverse $h^+$ of the
# *original* network's hidden values, $h^+(I+T)h\ne I$, and the loss changes already at first
# order (our tests measure both). At the paper's rates the teleport step itself moves the loss
# ({glue:text}`toy_jumps`). On the book's task the rescaling action is exact (`teleport`:
# normalised ascent on the log-scales, the outputs unchanged to rounding): we take {glue:text}`book_setup`.

# %% [markdown]
# ```{glue:figure} fig_book
# :name: fig-book
#
# Speed-ups from one teleport (geometric mean over seeds, 95 % interval): {glue:text}`book_speeds`.
# The book's task with the exact rescaling action: loss against steps and wall time.
# ```
#
# ```{glue:figure} tab_book
# :name: tab-book
#
# Speed-ups on the book's task, the median gain in gradient norm from the teleport, and the runs
# that diverged.
# ```
#
# Teleportation {glue:text}`book_verdict` here: one teleport costs as much time as
# {glue:text}`book_cost` GD steps (median) on a network this small, and the steeper point it finds
# is also a sharper one, so at a fixed GD rate a longer ascent risks leaving the stable region
# ({numref}`tab-book`, last column); the later paper {cite}`zhao2024improving` takes up the
# curvature of the points that teleportation reaches.
#
# ## What this means for weight tying
#
# A group-tied `SharedMLP` keeps some of these symmetries and removes others. It keeps the
# permutations of its channels and the positive rescaling of each *channel*: one balance per
# channel is conserved (section 1), one flat direction per channel appears at a minimum
# ({numref}`tab-dyn-null`: {glue:text}`tie_shared` for its hidden channels, against
# {glue:text}`tie_mlp` for the MLP's hidden units), its sharpness can be inflated along the
# channel rescalings, and teleportation can move along them. It removes the rescaling of a single
# unit and the permutations that would move one point's unit apart from the rest of its channel:
# the units of a channel share their weights, so only whole channels move. Tying therefore removes
# most — not all — of the continuous redundancy that the MLP's units carry; the asymmetric networks
# of {cite}`lim2024asymmetric` remove all of it, and their Hessians at a minimum have no null
# direction at all.
