"""The runs of the chapter "What removing symmetry does to training": Lim et al.'s findings other
than mode connectivity, on scikit-learn's digits, each unit of work cached on disk.

Lim, Putterman, Walters, Maron & Jegelka ("The Empirical Impact of Neural Parameter Symmetries, or
Lack Thereof", NeurIPS 2024; code ``cptq/asymmetric-networks``): (§5.2) W-Asymmetric Bayesian MLPs
train faster, and at depth 16 where standard ones do not; (§5.4) the loss from initialisation to
the trained weights falls monotonically far more often without symmetries; (§5.3) metanetworks read
the accuracy of W-Asymmetric networks from their weights better. ``PAPER`` holds their published
figures, shown beside the book's as figures, not targets.

Units: ``bayes_unit(config, posterior, depth)`` trains ``seeds`` standard and ``seeds`` W-Asym
Bayesian MLPs in one stack; ``zoo_unit(config, family)`` trains a zoo of one family, its
interpolation statistics and (standard and W-Asym) its metanetworks. ``run`` computes every missing
unit of a configuration at once in the worker pool.
"""

from __future__ import annotations

import math
import time

import numpy as np
import pandas as pd
import torch

from symsharing.engine.cache import cache_key, cached_calls
from symsharing.models import MLP, WAsymmetricMLP
from symsharing.paramspace.bayes import BayesianMLP
from symsharing.paramspace.connectivity import load_dataset
from symsharing.paramspace.interpolation import interpolation_losses, mli_statistics
from symsharing.paramspace.metanet import METANETS, metanet_scores
from symsharing.paramspace.variational import fit_variational, posterior_scores
from symsharing.paramspace.zoo import build_zoo, draw_hyperparameters
from symsharing.settings import is_quick
from symsharing.stats import confidence_interval, holm, one_sided_p
from symsharing.train import one_thread

__all__ = ["PAPER", "POSTERIORS", "MLI_ORDER", "chapter_config", "bayes_unit", "zoo_unit", "run",
           "noise_ratio", "bayes_tests", "mli_summary", "mli_tests", "metanet_tests"]

# Lim et al. (2024): Table 3 (BNN test accuracy %, CIFAR-10 MLPs, standard / W-Asym), Table 5
# (monotonic interpolation of 300 ResNet-8s per arm), Table 4 (metanetworks on ResNet-8 zoos, standard
# -> W-Asym). The statistics network's figure is its R².
PAPER = {
    "bnn": {8: {"mlp": 56.4, "w-asym": 57.1}, 16: {"mlp": 13.5, "w-asym": 55.2}},
    "mli": {"mlp": {"monotonic": 26.3, "delta": 0.079}, "sigma-asym": {"monotonic": 87.3, "delta": 0.004},
            "w-asym": {"monotonic": 100.0, "delta": -0.027}},
    "metanet": {"flat": {"r2": (0.330, 0.594), "tau": (0.389, 0.864)}, "statistics": {"r2": (0.976, 0.978)}},
}
# Lim et al.'s posterior (bnn/train_sparse_MLP.py: rank 4, learn_diag=False) and the mean-field one
POSTERIORS = {"low-rank": {"rank": 4, "learn_diag": False}, "mean-field": {"rank": 0, "learn_diag": True}}


def chapter_config(quick: bool | None = None) -> dict:
    """Every size of the chapter's runs (smaller when ``quick``, default ``settings.is_quick()``)."""
    quick = is_quick() if quick is None else bool(quick)
    bnn = {"width": 32, "batch_size": 64, "lr": 5e-4, "init_logvar": -10.0, "prior_precision": 0.01,
           "test_samples": 25, "eval_samples": 4}
    zoo = {"zoo_width": 16, "zoo_depth": 2, "zoo_batch_size": 128, "n_points": 25, "epochs": (10, 40)}
    if quick:
        return {**bnn, **zoo, "depths": (2, 8), "seeds": 2, "steps": 60, "checkpoints": 4, "n_zoo": 32,
                "n_mli": 16, "splits": 2, "metanet_epochs": 10, "metanet_lrs": (1e-2,)}
    return {**bnn, **zoo, "depths": (2, 4, 8, 16), "seeds": 5, "steps": 600, "checkpoints": 7, "n_zoo": 1000,
            "n_mli": 300, "splits": 5, "metanet_epochs": 50, "metanet_lrs": (1e-2,)}


def _bnn_networks(config: dict, depth: int) -> list:
    """``seeds`` standard then ``seeds`` W-Asym LayerNorm MLPs; seed s of both arms from
    ``torch.manual_seed(s)`` (the same free weights), W-Asym fixing a quarter of each row (N(0, 0.5²))."""
    networks = []
    for family in ("mlp", "w-asym"):
        for seed in range(config["seeds"]):
            torch.manual_seed(seed)
            if family == "mlp":
                networks.append(MLP(64, 10, config["width"], depth, layer_norm=True))
            else:
                counts = [max(1, fan_in // 4) for fan_in in [64] + [config["width"]] * depth]
                networks.append(WAsymmetricMLP(64, 10, config["width"], depth, n_fixed=counts, fixed_std=0.5,
                                               seed=seed, layer_norm=True))
    return networks


@torch.no_grad()
def noise_ratio(model: BayesianMLP, X: torch.Tensor, samples: int = 8) -> list[float]:
    """Per model: the spread of its logits over weight samples relative to their spread over inputs
    (mean over inputs and classes of the sampling standard deviation, divided by the standard
    deviation over inputs of the mean logit). Near 0: the sampled networks agree; near 1 or above:
    the output is mostly noise."""
    logits = torch.stack([model(X) for _ in range(samples)])  # (S, K, n, C)
    sampling = logits.std(0).mean((1, 2))
    signal = logits.mean(0).std(1).mean(1)
    return (sampling / signal).tolist()


def bayes_unit(config: dict, posterior: str, depth: int) -> list[dict]:
    """One record per (family, seed) of Bayesian MLPs of ``depth`` hidden layers under ``posterior``."""
    start, cpu = time.perf_counter(), time.process_time()
    X_train, y_train, X_test, y_test, _ = load_dataset("digits")
    torch.manual_seed(0)
    model = BayesianMLP.from_networks(_bnn_networks(config, depth), torch.Generator().manual_seed(0),
                                      init_logvar=config["init_logvar"],
                                      prior_precision=config["prior_precision"], **POSTERIORS[posterior])
    ratio = noise_ratio(model, X_test)
    checkpoints = np.linspace(0, config["steps"], config["checkpoints"]).round().astype(int).tolist()
    curves = fit_variational(model, X_train, y_train, steps=config["steps"], lr=config["lr"],
                             batch_size=config["batch_size"], seed=0, X_test=X_test, y_test=y_test,
                             checkpoints=checkpoints, eval_samples=config["eval_samples"])
    scores = posterior_scores(model, X_test, y_test, config["test_samples"])
    seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu
    records = []
    for k, score in enumerate(scores):
        family, seed = ("mlp", "w-asym")[k // config["seeds"]], k % config["seeds"]
        column = {name: [row[k] for row in curves[name]] for name in ("elbo", "nll", "kl", "test_accuracy")}
        records.append({"posterior": posterior, "depth": depth, "family": family, "seed": seed,
                        "step": curves["step"], **column, "initial_noise_ratio": ratio[k],
                        "test_accuracy_final": score["accuracy"], "test_nll": score["nll"],
                        "ece": score["ece"],
                        "mean_test_accuracy": float(np.mean(column["test_accuracy"])),
                        "diverged": not all(math.isfinite(v) for v in column["elbo"]),
                        "unit_seconds": seconds, "unit_cpu_seconds": cpu_seconds})
    return records


def zoo_unit(config: dict, family: str, n_networks: int, metanets: bool) -> dict:
    """A zoo of ``n_networks`` of ``family`` (hyperparameters ``draw_hyperparameters(n, 0)``; the
    first ``n`` draws are the same for every ``n``, so zoos of two sizes are paired too), the
    interpolation statistics of its first ``n_mli`` networks and, if ``metanets``, the metanetwork
    scores over ``splits`` splits. Returns ``{"networks": [...], "metanets": [...]}``."""
    start, cpu = time.perf_counter(), time.process_time()
    X_train, y_train, X_test, y_test, _ = load_dataset("digits")
    hyperparameters = draw_hyperparameters(n_networks, 0, epochs=tuple(config["epochs"]))
    zoo = build_zoo(family, (X_train, y_train, X_test, y_test), hyperparameters, width=config["zoo_width"],
                    depth=config["zoo_depth"], batch_size=config["zoo_batch_size"])
    train_seconds = time.perf_counter() - start
    networks = []
    for i, (h, acc, diverged) in enumerate(zip(zoo.hyperparameters, zoo.test_accuracy, zoo.diverged,
                                               strict=True)):
        record = {"family": family, "index": i, **h, "test_accuracy": acc, "diverged": diverged}
        if i < config["n_mli"] and not diverged:
            losses = interpolation_losses(zoo.initial[i], zoo.networks[i], X_train, y_train,
                                          n_points=config["n_points"], label_smoothing=h["label_smoothing"])
            record.update({"losses": losses, **mli_statistics(losses)})
        networks.append(record)
    rows = []
    if metanets:
        rows = [{"family": family, **row} for row in
                metanet_scores(zoo, METANETS, splits=config["splits"], lrs=config["metanet_lrs"],
                               epochs=config["metanet_epochs"])]
    return {"networks": networks, "metanets": rows, "train_seconds": train_seconds,
            "seconds": time.perf_counter() - start, "cpu_seconds": time.process_time() - cpu}


def _config_key(config: dict) -> dict:
    return {key: list(value) if isinstance(value, tuple) else value for key, value in config.items()}


def run(config: dict | None = None) -> dict:
    """Every unit of ``config`` (default ``chapter_config()``): ``{"bayes": [records], "networks":
    [records], "metanets": [rows], "seconds": {unit: wall seconds}, "cpu_seconds": {unit: CPU
    seconds of its one thread}}``; missing units computed
    at once in the worker pool, the longest first."""
    config = chapter_config() if config is None else config
    units = [("zoo", ("w-asym", config["n_zoo"], True)), ("zoo", ("mlp", config["n_zoo"], True))]
    units += [("bayes", (posterior, depth)) for depth in sorted(config["depths"], reverse=True)
              for posterior in POSTERIORS]
    units += [("zoo", ("sigma-asym", config["n_mli"], False))]
    entries = []
    for kind, arguments in units:
        function = zoo_unit if kind == "zoo" else bayes_unit
        key = cache_key({"study": f"training-effects-{kind}", "arguments": list(arguments),
                         **_config_key(config)}, device="cpu", dtype="float32")
        entries.append((key, function, (config, *arguments)))
    with one_thread():
        payloads = cached_calls(entries, namespace="training-effects")
    result = {"bayes": [], "networks": [], "metanets": [], "seconds": {}, "cpu_seconds": {}}
    for (kind, arguments), payload in zip(units, payloads, strict=True):
        name = f"{kind} {' '.join(str(a) for a in arguments[:2])}"
        if kind == "bayes":
            result["bayes"] += payload
            result["seconds"][name] = payload[0]["unit_seconds"]
            result["cpu_seconds"][name] = payload[0]["unit_cpu_seconds"]
        else:
            result["networks"] += payload["networks"]
            result["metanets"] += payload["metanets"]
            result["seconds"][name] = payload["seconds"]
            result["cpu_seconds"][name] = payload["cpu_seconds"]
    return result


def _paired(differences, alternative_positive: bool = True) -> dict:
    """Mean, 95 % Student-t interval and one-sided p-value (mean > 0) of paired ``differences``."""
    values = np.asarray(differences, dtype=float)
    mean, low, high = confidence_interval(values)
    return {"difference": mean, "low": low, "high": high, "pairs": int(np.isfinite(values).sum()),
            "p": one_sided_p(values if alternative_positive else -values)}


def bayes_tests(records) -> pd.DataFrame:
    """Per posterior and depth, W-Asym minus standard paired by seed: the mean test accuracy over the
    checkpoints (how fast it trains), the final accuracy, the ECE, the final ELBO per example and
    its data term (expected NLL on the training set; the KL term counts only the free entries, so
    a network with fixed entries has a smaller one by construction). ``p``: one-sided, W-Asym
    better (higher accuracy and ELBO, lower ECE and NLL); ``p_holm``: Holm across the depths of each
    posterior and quantity; ``holds``: ``p_holm <= 0.05``."""
    frame = pd.DataFrame(records)
    frame["elbo_final"] = frame["elbo"].map(lambda curve: curve[-1])
    frame["nll_final"] = frame["nll"].map(lambda curve: curve[-1])
    rows = []
    for (posterior, depth), part in frame.groupby(["posterior", "depth"], sort=False):
        by = {family: part[part["family"] == family].set_index("seed") for family in ("mlp", "w-asym")}
        for quantity, better_higher in (("mean_test_accuracy", True), ("test_accuracy_final", True),
                                        ("ece", False), ("elbo_final", True), ("nll_final", False)):
            difference = (by["w-asym"][quantity] - by["mlp"][quantity]).dropna()
            rows.append({"posterior": posterior, "depth": depth, "quantity": quantity,
                         "mlp": by["mlp"][quantity].mean(), "w-asym": by["w-asym"][quantity].mean(),
                         **_paired(difference, better_higher)})
    table = pd.DataFrame(rows)
    table["p_holm"] = np.nan
    for _, index in table.groupby(["posterior", "quantity"]).groups.items():
        table.loc[index, "p_holm"] = holm(table.loc[index, "p"])
    table["holds"] = table["p_holm"] <= 0.05
    return table


MLI_ORDER = ("w-asym", "sigma-asym", "mlp")  # Lim et al.: most often monotonic first


def mli_summary(networks) -> pd.DataFrame:
    """Per family, over the networks with a curve: % monotonic, Δ (mean largest rise), the fractions
    of non-negative second differences and of points below the chord (intended and the paper's
    line), each with a 95 % Student-t interval over networks, and the paper's two figures."""
    frame = pd.DataFrame(networks)
    frame = frame[frame["max_rise"].notna()] if "max_rise" in frame else frame.iloc[:0]
    rows = []
    for family in MLI_ORDER:
        part = frame[frame["family"] == family]
        row = {"family": family, "networks": len(part)}
        for column, scale in (("monotonic", 100.0), ("max_rise", 1.0), ("convex_fraction", 1.0),
                              ("below_chord", 1.0), ("below_chord_paper", 1.0)):
            mean, low, high = confidence_interval(part[column].astype(float) * scale)
            row.update({column: mean, f"{column}_low": low, f"{column}_high": high})
        row.update({"paper_monotonic": PAPER["mli"][family]["monotonic"],
                    "paper_delta": PAPER["mli"][family]["delta"]})
        rows.append(row)
    return pd.DataFrame(rows)


def mli_tests(networks) -> pd.DataFrame:
    """Paired tests (by network: the same hyperparameters, initial seed and mini-batches) of Lim et
    al.'s order W-Asym before σ-Asym before standard, each pair of arms, for Δ (the largest rise:
    lower first) and for being monotonic (more often first); difference positive where the order
    holds; Holm across the six comparisons."""
    frame = pd.DataFrame(networks)
    frame = frame[frame["max_rise"].notna()]
    rows = []
    first, middle, last = MLI_ORDER
    for lower, higher in [(first, last), (first, middle), (middle, last)]:
        a = frame[frame["family"] == lower].set_index("index")
        b = frame[frame["family"] == higher].set_index("index")
        rows.append({"comparison": f"Δ: {lower} below {higher}", "quantity": "Δ", "first": lower,
                     "second": higher, **_paired((b["max_rise"] - a["max_rise"]).dropna())})
        rows.append({"comparison": f"% monotonic: {lower} above {higher}", "quantity": "% monotonic",
                     "first": lower, "second": higher,
                     **_paired(100 * (a["monotonic"].astype(float) - b["monotonic"].astype(float)).dropna())})
    table = pd.DataFrame(rows)
    table["p_holm"] = holm(table["p"])
    table["holds"] = table["p_holm"] <= 0.05
    return table


def metanet_tests(rows) -> pd.DataFrame:
    """Per metanetwork: mean R² and Kendall τ on held-out networks for each family over the splits,
    and W-Asym minus standard paired by split (the same networks' indices in both zoos), with a
    95 % Student-t interval and a one-sided p-value (W-Asym higher); the paper's figures beside."""
    frame = pd.DataFrame(rows)
    out = []
    for kind in METANETS:
        part = frame[frame["kind"] == kind]
        for score in ("r2", "tau"):
            by = {family: part[part["family"] == family].set_index("split")[score]
                  for family in ("mlp", "w-asym")}
            paper = PAPER["metanet"].get(kind, {}).get(score, (np.nan, np.nan))
            out.append({"kind": kind, "score": score, "mlp": by["mlp"].mean(), "w-asym": by["w-asym"].mean(),
                        **_paired((by["w-asym"] - by["mlp"]).dropna()), "paper_mlp": paper[0],
                        "paper_w-asym": paper[1]})
    table = pd.DataFrame(out)
    table["p_holm"] = holm(table["p"])
    table["holds"] = table["p_holm"] <= 0.05
    return table
