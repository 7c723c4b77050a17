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
# # What removing symmetry does to training
#
# Lim et al. {cite}`lim2024asymmetric` build networks without parameter symmetries and report,
# beside linear mode connectivity (previous chapter), three findings about *training*: Bayesian
# networks without symmetries train faster, and deep ones train at all; the loss on the line from
# a network's initialisation to its trained weights falls monotonically far more often; and a
# metanetwork reads a network's accuracy from its weights better. This chapter repeats the three
# on scikit-learn's digits with the book's MLPs, the paper's figures beside the book's and a
# paired test deciding each.
#
# **Answer.** {glue:text}`at_answer_bnn` {glue:text}`at_answer_mli` {glue:text}`at_answer_meta`

# %% tags=["remove-cell"]
import numpy as np
import pandas as pd
from myst_nb import glue

from symsharing.figures import plots
from symsharing.figures.captions import by_side, listing
from symsharing.figures.training_plots import (
    FAMILY_NAMES,
    plot_bayes_curves,
    plot_interpolation,
    plot_metanets,
)
from symsharing.paramspace import training_effects as te
from symsharing.paramspace.connectivity import load_dataset

plots.book_style()
PAPER = te.PAPER


def cell(row, digits=3, scale=1.0):
    """``mean [low, high]`` of a row with ``difference, low, high`` (or three numbers), scaled."""
    mean, low, high = (scale * float(v) for v in (row[:3] if isinstance(row, (list, tuple, np.ndarray))
                                                  else row[["difference", "low", "high"]]))
    return f"{mean:.{digits}f} [{low:.{digits}f}, {high:.{digits}f}]"


def depths(items) -> str:
    return f"at {listing(sorted(items))} hidden layers" if items else "at no depth tested"


METANET_NAMES = {"flat": "the flat MLP", "statistics": "the statistics network", "deepsets": "DeepSets"}
SCORE_NAMES = {"r2": "R²", "tau": "Kendall τ"}


# %% tags=["hide-input"]
config = te.chapter_config()
results = te.run(config)
bayes, networks, metanets = results["bayes"], results["networks"], pd.DataFrame(results["metanets"])
n_train = len(load_dataset("digits")[0])
setup = pd.DataFrame([
    {"experiment": "Bayesian MLPs", "Lim et al.": "CIFAR-10, width 256, depths 8 and 16, batch 250, "
     "10,000 updates", "this chapter": f"digits, width {config['width']}, depths "
     f"{listing(config['depths'])}, batch {config['batch_size']}, {config['steps']} updates, "
     f"{config['seeds']} seeds per arm"},
    {"experiment": "interpolation", "Lim et al.": "300 ResNet-8s per arm, CIFAR-10, batch 512",
     "this chapter": f"{config['n_mli']} MLPs per arm (width {config['zoo_width']}, {config['zoo_depth']} "
     f"hidden layers), batch {config['zoo_batch_size']}"},
    {"experiment": "metanetworks", "Lim et al.": "up to 10,000 ResNet-8s per arm, one split",
     "this chapter": f"{config['n_zoo']:,} of these MLPs per arm, {config['splits']} random splits"},
]).set_index("experiment")
glue("tab_at_setup", plots.table(setup), display=False)

# %% [markdown]
# ```{glue:figure} tab_at_setup
# :name: tab-at-setup
#
# Where the book's runs differ from the paper's: a data set and networks that this machine can
# train hundreds of times within the book's budget. The rest follows the paper's code
# (`cptq/asymmetric-networks`), as each section says.
# ```
#
# ## Bayesian networks: do W-Asymmetric ones train faster?
#
# **Method.** The paper's Bayesian MLPs (`bnn/train_sparse_MLP.py`) are Linear → LayerNorm → ReLU
# blocks trained by variational inference {cite}`tomczak2020lowrank`: a Gaussian posterior per
# layer whose covariance is a rank-4 part plus a diagonal held at $e^{-10}$, the factors starting
# at $0.5\,\mathrm{std}(W)/\sqrt 4$, a prior $N(0, 1/(0.01\cdot\text{fan-out}))$, Adam at
# $5\cdot10^{-4}$, 25 posterior samples at test time; the W-Asymmetric network fixes entries of
# the posterior *mean* and gives them no variance. We run that posterior ("low-rank") and a
# mean-field one whose diagonal is learned from the same $e^{-10}$ ("mean-field"), both sampled by
# the local reparameterisation trick {cite}`kingma2015lrt`. W-Asymmetric networks fix a quarter
# of each row at $N(0, 0.5^2)$ values (the paper: a number per row set on its command line, at
# scale 0.5); seed $s$ of both arms starts from the same free weights. The objective per example is
# the ELBO, $-\text{NLL} - \mathrm{KL}/n$. Fixed entries are constants, not random variables, so
# they add no KL term, and a W-Asymmetric network's ELBO is higher by construction (in the paper's
# code the fixed diagonal makes every entry's KL term a constant, fixed or not); its data term,
# the expected NLL, compares the arms. How fast a network trains is its test accuracy averaged
# over {glue:text}`at_checkpoints` checkpoints (the area under its curve).

# %% tags=["hide-input"]
glue("fig_at_bnn", plot_bayes_curves(bayes, "test_accuracy"), display=False)
glue("fig_at_elbo", plot_bayes_curves(bayes, "elbo"), display=False)
tests = te.bayes_tests(bayes)
speed = tests[tests["quantity"] == "mean_test_accuracy"]
faster = {p: [int(d) for d in part.loc[part["holds"], "depth"]] for p, part in speed.groupby("posterior")}
slower = {p: [int(d) for d in part.loc[part["high"] < 0, "depth"]] for p, part in speed.groupby("posterior")}
faster, slower = ({p: found.get(p, []) for p in te.POSTERIORS} for found in (faster, slower))
deepest = max(config["depths"])
at = tests.set_index(["posterior", "depth", "quantity"])
noise = pd.DataFrame(bayes).groupby(["posterior", "depth", "family"])["initial_noise_ratio"].mean()
glue("at_checkpoints", str(config["checkpoints"]), display=False)
glue("at_eval_samples", str(config["eval_samples"]), display=False)
glue("at_cap_bnn", f"W-Asymmetric networks are faster (paired test, Holm) {depths(faster['low-rank'])} with "
     f"the low-rank posterior and {depths(faster['mean-field'])} with the mean-field one.", display=False)
data_term = {f"{p}, {d} hidden layers": tuple(r[["difference", "low", "high"]]) for (p, d), r in
             tests[tests["quantity"] == "nll_final"].set_index(["posterior", "depth"]).iterrows()}
glue("at_cap_elbo", "The ELBO's final data term (expected training NLL, W-Asym minus standard, paired by seed) "
     + by_side(data_term, {"above": "is higher for W-Asym", "below": "is lower for W-Asym", "zero": "has an interval "
                           "holding 0", "none": "has no interval"}) + ".", display=False)

# %% [markdown]
# ```{glue:figure} fig_at_bnn
# :name: fig-at-bnn
#
# {glue:text}`at_cap_bnn` Test accuracy of the posterior predictive ({glue:text}`at_eval_samples`
# samples) against updates, per number of hidden layers; colour: family, solid: low-rank posterior,
# dashed: mean-field; mean over seeds, band: 95 % interval.
# ```
#
# ```{glue:figure} fig_at_elbo
# :name: fig-at-elbo
#
# {glue:text}`at_cap_elbo` The ELBO per training example (one weight sample, the whole training
# set) against updates, as in {numref}`fig-at-bnn`. Fixed entries add no KL term, so the ELBO's
# level does not compare the arms; its data term and the curves' slopes do.
# ```

# %% tags=["hide-input"]
rows = []
for (posterior, depth), part in tests.groupby(["posterior", "depth"], sort=False):
    by = part.set_index("quantity")
    paper = PAPER["bnn"].get(depth)
    rows.append({"posterior": posterior, "hidden layers": depth,
                 "accuracy, standard → W-Asym (%)": f"{100 * by.loc['test_accuracy_final', 'mlp']:.1f} → "
                 f"{100 * by.loc['test_accuracy_final', 'w-asym']:.1f}",
                 "Δ accuracy over training": cell(by.loc["mean_test_accuracy"], 1, 100),
                 "Δ final accuracy": cell(by.loc["test_accuracy_final"], 1, 100),
                 "Δ ECE": cell(by.loc["ece"]), "Δ expected NLL": cell(by.loc["nll_final"], 2),
                 "faster": "yes" if by.loc["mean_test_accuracy", "holds"] else "no",
                 "paper, CIFAR-10 (%)": f"{paper['mlp']} → {paper['w-asym']}" if paper else ""})
glue("tab_at_bnn", plots.table(pd.DataFrame(rows).set_index(["posterior", "hidden layers"])), display=False)
deep_speed, deep_final = at.loc[("low-rank", deepest, "mean_test_accuracy")], \
    at.loc[("low-rank", deepest, "test_accuracy_final")]
mf_final = at.loc[("mean-field", deepest, "test_accuracy_final")]
glue("at_deepest", str(deepest), display=False)
glue("at_mf_final", f"{100 * mf_final['mlp']:.1f} %", display=False)
verdict = (f"holds {depths(faster['low-rank'])}" if faster["low-rank"] else "does not hold at any depth tested")
glue("at_bnn_finding", f"With its own posterior the paper's finding {verdict}. At the greatest depth, {deepest} "
     f"hidden layers, the W-Asymmetric networks' accuracy averaged over training is {cell(deep_speed, 1, 100)} "
     f"points above the standard ones' (final {100 * deep_final['mlp']:.1f} % → "
     f"{100 * deep_final['w-asym']:.1f} %). They are slower {depths(slower['low-rank'])} with that posterior, "
     f"and {depths(slower['mean-field'])} with the mean-field one.", display=False)
for posterior in te.POSTERIORS:
    for family in ("mlp", "w-asym"):
        glue(f"at_noise_{posterior}_{family}", f"{noise[posterior, deepest, family]:.2f}", display=False)
glue("at_answer_bnn", f"With Lim et al.'s low-rank posterior, W-Asymmetric Bayesian MLPs train faster "
     f"{depths(faster['low-rank'])} (paired over {config['seeds']} seeds, Holm); at {deepest} hidden layers their test "
     f"accuracy averaged over training is {cell(deep_speed, 1, 100)} points above the standard networks' "
     f"(final {100 * deep_final['mlp']:.1f} % → {100 * deep_final['w-asym']:.1f} %; paper, CIFAR-10, 16 "
     f"layers: {PAPER['bnn'][16]['mlp']} % → {PAPER['bnn'][16]['w-asym']} %). They are slower "
     f"{depths(slower['low-rank'])}, and with a mean-field posterior faster {depths(faster['mean-field'])}, "
     f"slower {depths(slower['mean-field'])}.", display=False)

# %% [markdown]
# ```{glue:figure} tab_at_bnn
# :name: tab-at-bnn
#
# Bayesian MLPs on the digits per posterior and depth: final test accuracy (25-sample predictive,
# mean over seeds) and W-Asym minus standard paired by seed [95 % interval]: test accuracy
# averaged over training (points), final accuracy (points), expected calibration error and the
# ELBO's data term (lower is better for both). "faster": the one-sided paired test of the first,
# Holm-adjusted over depths, at 5 %. Last column: the paper's CIFAR-10 accuracies.
# ```
#
# **Finding.** {glue:text}`at_bnn_finding` What separates the cases is visible before training. The low-rank factors start at a fixed fraction of the spread of the
# *free* weights, and their noise compounds with depth; in a W-Asymmetric network the fixed
# entries, at scale 0.5 against free weights of about $1/\sqrt{\text{fan-in}}$, carry much of the
# signal and none of the noise. We measure the spread of the initial network's logits over weight
# samples divided by their spread over inputs: at {glue:text}`at_deepest` hidden layers it is
# {glue:text}`at_noise_low-rank_mlp` (standard) and {glue:text}`at_noise_low-rank_w-asym`
# (W-Asym) under the low-rank posterior, {glue:text}`at_noise_mean-field_mlp` and
# {glue:text}`at_noise_mean-field_w-asym` under the mean-field one, where the standard network
# reaches {glue:text}`at_mf_final`. Read together, the W-Asymmetric network is ahead where the
# standard network's output starts as mostly weight noise, and behind elsewhere, where its large
# fixed random entries are a handicap. At this scale the speed-up follows the posterior's initial
# noise, which fixing entries happens to reduce; these runs cannot tell that apart from the
# removal of posterior modes that Lim et al. propose.
#
# ## Monotonic linear interpolation
#
# **Method.** As in the paper's `metanet_data` runs: a zoo of networks, each trained with its own
# hyperparameters drawn by `make_hparams.py`'s rule — learning rate $0.5\cdot10^{-U(0,2)}$,
# weight decay $10^{-U(1,5)}$ (AdamW), label smoothing $U(0, 0.2)$, 10 to 40 epochs, a one-cycle
# schedule peaking a fifth of the way in (the paper: at epoch 5) — with the same draws, initial
# seeds and mini-batches in every arm. These ranges train the MLPs; only the batch is rescaled
# (digits has {glue:text}`at_n_train` training images). For each network the training loss (with
# its label smoothing, as the paper's script computes it) at {glue:text}`at_points` points of the
# line from its initial to its trained weights {cite}`goodfellow2015qualitatively`, and per curve
# the statistics of {cite}`lucas2021mli` that the paper uses: Δ, the largest rise between
# consecutive points (monotonic: Δ ≤ 0), the fraction of non-negative second differences, and the
# fraction of points below the chord from $L(0)$ to $L(1)$. The paper's code draws that line as
# `results[0] + (results[1] - results[0]) * xs`, which ends at the *second* point's value; both are
# in {numref}`tab-at-mli`.

# %% tags=["hide-input"]
glue("fig_at_mli", plot_interpolation(networks), display=False)
mli, mli_tests = te.mli_summary(networks), te.mli_tests(networks)
by_family = mli.set_index("family")
glue("at_n_train", f"{n_train:,}", display=False)
glue("at_points", str(config["n_points"]), display=False)
glue("at_mli_n", str(int(by_family["networks"].min())), display=False)
for family in te.MLI_ORDER:
    glue(f"at_mono_{family}", f"{by_family.loc[family, 'monotonic']:.1f}", display=False)
    glue(f"at_chord_{family}", f"{by_family.loc[family, 'below_chord']:.2f}", display=False)
glue("at_cap_mli", "Monotonic: " + ", ".join(
    f"{FAMILY_NAMES[f]} {cell(by_family.loc[f, ['monotonic', 'monotonic_low', 'monotonic_high']].to_numpy(), 0)} %"
    for f in ("mlp", "sigma-asym", "w-asym"))
     + f"; below the chord: W-Asym {by_family.loc['w-asym', 'below_chord']:.2f} of the points, standard "
     f"{by_family.loc['mlp', 'below_chord']:.2f}.", display=False)

# %% [markdown]
# ```{glue:figure} fig_at_mli
# :name: fig-at-mli
#
# {glue:text}`at_cap_mli` Left: training loss from initialisation (α = 0) to the trained weights
# (α = 1), each curve divided by its value at α = 0 (mean, band: 95 % interval over
# {glue:text}`at_mli_n` networks per arm). Right: the largest rise between consecutive points;
# right of 0: not monotonic.
# ```

# %% tags=["hide-input"]
mli_rows = pd.DataFrame({
    "arm": [FAMILY_NAMES[f] for f in mli["family"]],
    "% monotonic": [cell(r, 1) for r in mli[["monotonic", "monotonic_low", "monotonic_high"]].to_numpy()],
    "Δ": [cell(r) for r in mli[["max_rise", "max_rise_low", "max_rise_high"]].to_numpy()],
    "non-negative 2nd differences": mli["convex_fraction"].to_numpy(),
    "below the chord": mli["below_chord"].to_numpy(),
    "below the paper's line": mli["below_chord_paper"].to_numpy(),
    "paper: % monotonic, Δ": [f"{m}, {d}" for m, d in mli[["paper_monotonic", "paper_delta"]].to_numpy()],
}).set_index("arm")
glue("tab_at_mli", plots.table(mli_rows, digits=2), display=False)
shown = mli_tests.assign(**{
    "comparison": [f"{FAMILY_NAMES[r['first']]} {'below' if r['quantity'] == 'Δ' else 'above'} "
                   f"{FAMILY_NAMES[r['second']]} in {r['quantity']}" for _, r in mli_tests.iterrows()],
    "difference [95 % CI]": [cell(r) for _, r in mli_tests.iterrows()]})
glue("tab_at_mli_tests", plots.table(shown[["comparison", "pairs", "difference [95 % CI]", "p_holm", "holds"]]
                                     .set_index("comparison"), formats={"p_holm": "{:.1e}"}), display=False)
held = shown.set_index("comparison")["holds"]
main_steps = [c for c in held.index if "W-Asym" in c and "standard" in c]
main = "holds" if held[main_steps].all() else "does not hold"
sigma_vs_mlp = by_family.loc["sigma-asym", "monotonic"] - by_family.loc["mlp", "monotonic"]
glue("at_mli_main", main, display=False)
glue("at_sigma_clause", "makes the path rise more often, not less" if sigma_vs_mlp < 0
     else "makes it monotonic as often or more", display=False)
glue("at_mli_held", listing([c for c in held.index if held[c]], "none"), display=False)
glue("at_paper_mono_mlp", f"{PAPER['mli']['mlp']['monotonic']}", display=False)
glue("at_answer_mli", "Monotonic interpolation: " + ", ".join(
    f"{cell(by_family.loc[f, ['monotonic', 'monotonic_low', 'monotonic_high']].to_numpy(), 1)} % of "
    f"{FAMILY_NAMES[f]}" for f in ("mlp", "sigma-asym", "w-asym")) + " networks are monotonic (paper: "
    + ", ".join(f"{PAPER['mli'][f]['monotonic']}" for f in ("mlp", "sigma-asym", "w-asym"))
    + f" %); that W-Asym is monotonic more often and with a smaller Δ than standard {main} in a paired "
    f"test.", display=False)

# %% [markdown]
# ```{glue:figure} tab_at_mli
# :name: tab-at-mli
#
# Monotonic interpolation per arm over {glue:text}`at_mli_n` networks: % monotonic and Δ (mean
# largest rise) [95 % interval], and the mean fractions of non-negative second differences and of
# interior points on or below the chord (and below the paper's line); the paper's figures for 300
# ResNet-8s per arm beside.
# ```
#
# ```{glue:figure} tab_at_mli_tests
# :name: tab-at-mli-tests
#
# The paper's order (W-Asym, then σ-Asym, then standard: smaller Δ, more often monotonic) for each
# pair of arms, paired by network (same hyperparameters, initial seed and mini-batches): the
# difference, positive where the order holds [95 % interval], the one-sided p-value Holm-adjusted
# over the six tests, and whether it holds at 5 %.
# ```
#
# **Finding.** That W-Asymmetric networks interpolate monotonically more often than standard ones
# {glue:text}`at_mli_main` at this scale; the comparisons of {numref}`tab-at-mli-tests` that hold
# are: {glue:text}`at_mli_held`. The paper's contrast rests on its standard ResNets, of which
# {glue:text}`at_paper_mono_mlp` % were monotonic; here {glue:text}`at_mono_mlp` % of the standard
# MLPs already are (σ-Asym {glue:text}`at_mono_sigma-asym` %, W-Asym {glue:text}`at_mono_w-asym` %).
# Lucas et al. {cite}`lucas2021mli` trace non-monotonic paths mostly to normalisation layers and
# to weights that travel far: these MLPs have no BatchNorm, so there is little for removing
# symmetries to repair, and the σ-Asymmetric gate (a fixed Gaussian matrix at width
# {glue:text}`at_zoo_width`) {glue:text}`at_sigma_clause`. The curves' shape differs more than
# their monotonicity: on average a W-Asymmetric curve lies on or below its chord at
# {glue:text}`at_chord_w-asym` of its points, a standard one at {glue:text}`at_chord_mlp`.
#
# ## Metanetworks
#
# **Method.** A zoo of {glue:text}`at_n_zoo` networks per arm (standard and W-Asym; the
# interpolation zoo's hyperparameters and seeds, of which those networks are the first), each
# labelled with its test accuracy. Three metanetworks regress the accuracy from the weights as in
# `metanet/train.py` (MSE, AdamW at 0.01 with weight decay 0.01, batch 128,
# {glue:text}`at_meta_epochs` epochs, the epoch of best validation R² kept): an MLP on the
# flattened free weights (fixed entries left out, as in the paper), the statistics network of
# {cite}`unterthiner2020predicting` on seven statistics of each weight and bias tensor, and a
# DeepSets network {cite}`zaheer2017deepsets` over hidden units, invariant to every hidden
# permutation (a unit is its weights from the inputs or to the outputs and four statistics of its
# weights to the other hidden layer; the paper's DeepSets pools over single parameters instead).
# Inputs and targets are standardised on the training networks; splits are random 50/25/25.

# %% tags=["hide-input"]
meta_tests = te.metanet_tests(metanets)
glue("fig_at_meta", plot_metanets(meta_tests, metanets), display=False)
meta_rows = meta_tests.assign(**{
    "kind": meta_tests["kind"].map(lambda k: METANET_NAMES[k].removeprefix("the ")),
    "score": meta_tests["score"].map(SCORE_NAMES),
    "standard → W-Asym": [f"{a:.3f} → {b:.3f}" for a, b in meta_tests[["mlp", "w-asym"]].to_numpy()],
    "W-Asym − standard": [cell(r) for _, r in meta_tests.iterrows()],
    "paper": [f"{a} → {b}" if np.isfinite(a) else "" for a, b in meta_tests[["paper_mlp", "paper_w-asym"]].to_numpy()]})
glue("tab_at_meta", plots.table(meta_rows[["kind", "score", "standard → W-Asym", "W-Asym − standard", "holds",
                                           "paper"]].set_index(["kind", "score"])), display=False)
zoo = pd.DataFrame(networks)
collapsed = zoo[zoo["test_accuracy"] < 0.2].groupby("family").size().reindex(["mlp", "w-asym"], fill_value=0)
spread = zoo.groupby("family")["test_accuracy"].std()
meta = meta_tests.set_index(["kind", "score"])
rises = {score: [k for k in te.METANETS if meta.loc[(k, score), "holds"]] for score in ("r2", "tau")}
flat_r2, flat_tau = meta.loc[("flat", "r2")], meta.loc[("flat", "tau")]


def metanets_text(score: str) -> str:
    return f"for {listing(METANET_NAMES[k] for k in rises[score])}" if rises[score] else "for none of the three"


glue("at_n_zoo", f"{config['n_zoo']:,}", display=False)
glue("at_zoo_width", str(config["zoo_width"]), display=False)
glue("at_meta_epochs", str(config["metanet_epochs"]), display=False)
glue("at_splits", str(config["splits"]), display=False)
glue("at_collapsed_mlp", str(int(collapsed["mlp"])), display=False)
glue("at_collapsed_wasym", str(int(collapsed["w-asym"])), display=False)
glue("at_spread_mlp", f"{spread['mlp']:.3f}", display=False)
glue("at_spread_wasym", f"{spread['w-asym']:.3f}", display=False)
glue("at_cap_meta", f"Kendall's τ is higher on the W-Asymmetric zoo {metanets_text('tau')}, R² "
     f"{metanets_text('r2')}.", display=False)
glue("at_tau_text", metanets_text("tau"), display=False)
glue("at_r2_text", metanets_text("r2"), display=False)
glue("at_answer_meta", f"On the W-Asymmetric zoo Kendall's τ between a metanetwork's predicted and the true "
     f"accuracy is higher {metanets_text('tau')} (flat MLP {flat_tau['mlp']:.2f} → "
     f"{flat_tau['w-asym']:.2f}; paper {PAPER['metanet']['flat']['tau'][0]} → "
     f"{PAPER['metanet']['flat']['tau'][1]}) and R² higher {metanets_text('r2')} (flat MLP "
     f"{flat_r2['mlp']:.2f} → {flat_r2['w-asym']:.2f}; paper {PAPER['metanet']['flat']['r2'][0]} → "
     f"{PAPER['metanet']['flat']['r2'][1]}).", display=False)

# %% [markdown]
# ```{glue:figure} fig_at_meta
# :name: fig-at-meta
#
# {glue:text}`at_cap_meta` R² and Kendall τ of each metanetwork's predicted accuracy on held-out
# networks, per zoo: mean over {glue:text}`at_splits` splits with its 95 % interval; crosses: the
# paper's figures.
# ```
#
# ```{glue:figure} tab_at_meta
# :name: tab-at-meta
#
# Metanetworks per zoo: R² and Kendall τ on held-out networks (mean over splits), W-Asym minus
# standard paired by split [95 % interval], whether W-Asym is higher (one-sided, Holm over the six
# tests, 5 %), and the paper's figures for its ResNet-8 zoos.
# ```
#
# **Finding.** Kendall's τ is higher on the W-Asymmetric zoo {glue:text}`at_tau_text`, R²
# {glue:text}`at_r2_text`. The two scores need not agree, because the zoos differ in what there is
# to explain:
# {glue:text}`at_collapsed_mlp` standard networks (W-Asym: {glue:text}`at_collapsed_wasym`) were
# left at chance accuracy by the largest learning rates, so the standard zoo's accuracies spread
# by {glue:text}`at_spread_mlp` against {glue:text}`at_spread_wasym`, and a metanetwork earns most
# of its R² on it by spotting those few; rank correlation hardly notices them. The intervals are
# over splits of one zoo: they measure the metanetworks' variation, not that of new zoos.
#
# ## Cost
#
# Each unit is cached; computing them took (seconds, on the machine that built this page; CPU
# time of the unit's one thread, and wall time, which includes waiting for a shared CPU):

# %% tags=["hide-input", "nbval-ignore-output"]
cost = pd.DataFrame({"CPU": results["cpu_seconds"], "wall": results["seconds"]}).rename_axis("unit")
cost.loc["total"] = cost.sum()
cost.round(1)
