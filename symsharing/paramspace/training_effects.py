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
from symsharing.train import one_thread

__all__ = ["PAPER", "POSTERIORS", "chapter_config", "bayes_unit", "zoo_unit", "run", "noise_ratio"]

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
    zoo = {"zoo_width": 16, "zoo_depth": 2, "zoo_batch_size": 128, "n_points": 25}
    if quick:
        return {**bnn, **zoo, "depths": (2, 8), "seeds": 2, "steps": 60, "checkpoints": 4, "n_zoo": 48,
                "n_mli": 24, "splits": 2, "metanet_epochs": 10, "metanet_lrs": (1e-2,)}
    return {**bnn, **zoo, "depths": (2, 4, 8, 16), "seeds": 5, "steps": 600, "checkpoints": 7, "n_zoo": 1000,
            "n_mli": 300, "splits": 5, "metanet_epochs": 50, "metanet_lrs": (1e-3, 1e-2)}


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
    X_train, y_train, X_test, y_test, _ = load_dataset("digits")
    torch.manual_seed(0)
    model = BayesianMLP.from_networks(_bnn_networks(config, depth), torch.Generator().manual_seed(0),
                                      init_logvar=config["init_logvar"],
                                      prior_precision=config["prior_precision"], **POSTERIORS[posterior])
    ratio = noise_ratio(model, X_test)
    checkpoints = np.linspace(0, config["steps"], config["checkpoints"]).round().astype(int).tolist()
    start = time.perf_counter()
    curves = fit_variational(model, X_train, y_train, steps=config["steps"], lr=config["lr"],
                             batch_size=config["batch_size"], seed=0, X_test=X_test, y_test=y_test,
                             checkpoints=checkpoints, eval_samples=config["eval_samples"])
    scores = posterior_scores(model, X_test, y_test, config["test_samples"])
    seconds = time.perf_counter() - start
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
                        "unit_seconds": seconds})
    return records


def zoo_unit(config: dict, family: str, n_networks: int, metanets: bool) -> dict:
    """A zoo of ``n_networks`` of ``family`` (hyperparameters ``draw_hyperparameters(n, 0)``), the
    interpolation statistics of its first ``n_mli`` networks and, if ``metanets``, the metanetwork
    scores over ``splits`` splits. Returns ``{"networks": [...], "metanets": [...]}``."""
    X_train, y_train, X_test, y_test, _ = load_dataset("digits")
    hyperparameters = draw_hyperparameters(n_networks, 0)
    start = time.perf_counter()
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
            "seconds": time.perf_counter() - start}


def _config_key(config: dict) -> dict:
    return {key: list(value) if isinstance(value, tuple) else value for key, value in config.items()}


def run(config: dict | None = None) -> dict:
    """Every unit of ``config`` (default ``chapter_config()``): ``{"bayes": [records], "networks":
    [records], "metanets": [rows], "seconds": {unit: compute seconds}}``; missing units computed
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
    result = {"bayes": [], "networks": [], "metanets": [], "seconds": {}}
    for (kind, arguments), payload in zip(units, payloads, strict=True):
        name = f"{kind} {' '.join(str(a) for a in arguments[:2])}"
        if kind == "bayes":
            result["bayes"] += payload
            result["seconds"][name] = payload[0]["unit_seconds"]
        else:
            result["networks"] += payload["networks"]
            result["metanets"] += payload["metanets"]
            result["seconds"][name] = payload["seconds"]
    return result
