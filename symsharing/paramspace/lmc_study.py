"""Linear mode connectivity under Lim et al.'s protocol: the reproduction, ablations, paired ordering
tests, barriers against width, matching and REPAIR.

Lim, Putterman, Walters, Maron & Jegelka ("The Empirical Impact of Neural Parameter Symmetries, or
Lack Thereof", NeurIPS 2024; code: ``cptq/asymmetric-networks``, ``lmc/train-mlp-mnist.py``) train
MLPs of width 512 with 4 linear layers, LayerNorm and GELU, AdamW (lr 1e-3, weight decay 0.03),
batch 64, 25 epochs, and report W-Asym < aligned < σ-Asym < unaligned for the test loss barrier.
Here the same protocol runs on scikit-learn's digits, with the W-Asym fixed entries scaled as the
same *fraction* of each row's fan-in (``paper_fixed_entries``). A *set-up* is a dict (``setup``);
each (set-up, family) is one unit of work: ``n_pairs`` pairs trained in one ``fit_many`` call, their
interpolation curves and barriers, cached on disk by configuration and package code.

Two barriers per curve: the book's excess over the chord,
``max_α L(α) − [(1 − α) L(0) + α L(1)]``, and the midpoint form ``max_α L(α) − ½(L(0) + L(1))``;
the paper's script also logs the worst loss on the line, ``max_α L(α)``.

Barriers against width are compared with Zhan, Li & Wu (2025, arXiv 2503.06001), who predict for
one-hidden-layer ReLU networks aligned by the optimal permutation a double descent at moderate width
and a decay like ``width^(-1/2)`` at large width (``loglog_slope``).
"""

from __future__ import annotations

import math
import time

import numpy as np
import pandas as pd
import torch

from symsharing.engine.cache import cache_key, cached_calls
from symsharing.metrics import score
from symsharing.models import MLP, SigmaAsymmetricMLP, WAsymmetricMLP
from symsharing.paramspace.connectivity import load_dataset, many_pair_records
from symsharing.paramspace.matching import activation_matching, weight_matching
from symsharing.paramspace.permutation_spec import interpolate, permute_hidden
from symsharing.paramspace.repair import repair
from symsharing.settings import is_quick
from symsharing.stats import confidence_interval, holm, one_sided_p
from symsharing.train import fit_many, loss_function, one_thread

__all__ = ["BOOK_SETUP", "LIM_SETUP", "FAMILIES", "ALIGNMENTS", "LIM_ORDER", "setup", "paper_fixed_entries",
           "from_connectivity", "book_fixed_entries", "build_model", "barriers", "pair_study", "study",
           "studies", "summarize", "ordering_tests", "ablations", "width_sweep", "loglog_slope",
           "shared_sweep", "study_config"]

FAMILIES = ("mlp", "w-asym", "sigma-asym")
ALIGNMENTS = ("weight", "activation", "weight+repair", "activation+repair")
ARM_OF = {"weight": "mlp-aligned", "activation": "mlp-activation-aligned",
          "weight+repair": "mlp-aligned-repair", "activation+repair": "mlp-activation-aligned-repair"}
LIM_ORDER = ("w-asym", "mlp-aligned", "sigma-asym", "mlp")  # Lim et al. (2024): lowest barrier first

# The book's set-up (chapter "Parameter-space symmetry", connectivity.chapter_config("digits")).
BOOK_SETUP = {"width": 64, "depth": 2, "activation": "relu", "layer_norm": False, "gate_scale": 1.0,
              "lr": 1e-3, "weight_decay": 0.0, "batch_size": 128, "steps": 1000, "epochs": None,
              "fixed": "book", "n_pairs": 10, "n_points": 25, "alignments": ()}
# Lim et al.'s protocol: 4 linear layers of width 512, LayerNorm + GELU, AdamW, batch 64, 25 epochs.
LIM_SETUP = {**BOOK_SETUP, "width": 512, "depth": 3, "activation": "gelu", "layer_norm": True,
             "weight_decay": 0.03, "batch_size": 64, "steps": None, "epochs": 25, "fixed": "paper"}

# Lim et al.'s W-Asym (train-mlp-mnist.py): 64 of 784 inputs (κ = 1) in the first layer, 64 of 512
# in the hidden layers (κ = 1, then 0.5), 256 of 512 in the output layer (κ = 0.25).
_PAPER_FRACTIONS = {"first": 64 / 784, "hidden": 64 / 512, "output": 256 / 512}
_PAPER_SCALES = {"first": 1.0, "hidden": (1.0, 0.5), "output": 0.25}


def paper_fixed_entries(n_in: int, width: int, depth: int) -> tuple[tuple[int, ...], tuple[float, ...]]:
    """``(n_fixed, fixed_std)`` per linear layer: Lim et al.'s fractions of each row's fan-in (at
    least one entry) and their scales κ; hidden-to-hidden layers after the second keep κ = 0.5."""
    fan_ins = [n_in] + [width] * depth
    kinds = ["first"] + ["hidden"] * (depth - 1) + ["output"] if depth else ["output"]
    counts = tuple(max(1, round(_PAPER_FRACTIONS[kind] * fan_in)) for kind, fan_in in zip(kinds, fan_ins,
                                                                                            strict=True))
    hidden = _PAPER_SCALES["hidden"]
    scales, seen = [], 0
    for kind in kinds:
        if kind == "hidden":
            scales.append(hidden[min(seen, len(hidden) - 1)])
            seen += 1
        else:
            scales.append(_PAPER_SCALES[kind])
    return counts, tuple(scales)


def book_fixed_entries(n_in: int, width: int, depth: int) -> tuple[tuple[int, ...], tuple[float, ...]]:
    """The book's rule: a quarter of each row's fan-in (at least one) at scale 0.5 (16 of 64 at
    width 64 on the digits)."""
    fan_ins = [n_in] + [width] * depth
    return tuple(max(1, fan_in // 4) for fan_in in fan_ins), tuple(0.5 for _ in fan_ins)


_FIXED = {"book": book_fixed_entries, "paper": paper_fixed_entries}


def setup(base: dict | None = None, **changes) -> dict:
    """A set-up: ``base`` (default ``BOOK_SETUP``) with ``changes``; unknown keys are a KeyError."""
    base = BOOK_SETUP if base is None else base
    unknown = set(changes) - set(BOOK_SETUP)
    if unknown:
        raise KeyError(f"unknown set-up keys {sorted(unknown)}; expected some of {sorted(BOOK_SETUP)}")
    config = {**base, **changes}
    if config["fixed"] not in _FIXED:
        raise ValueError(f"fixed must be one of {sorted(_FIXED)}, got {config['fixed']!r}")
    if (config["steps"] is None) == (config["epochs"] is None):
        raise ValueError(f"give exactly one of steps and epochs, got steps={config['steps']!r}, "
                         f"epochs={config['epochs']!r}")
    unknown = set(config["alignments"]) - set(ALIGNMENTS)
    if unknown:
        raise ValueError(f"alignments must be some of {ALIGNMENTS}, got {sorted(unknown)}")
    config["alignments"] = list(config["alignments"])
    return config


def _steps(config: dict, n_train: int) -> int:
    """Optimiser steps: ``steps``, or ``epochs`` passes of ``ceil(n_train / batch_size)`` batches."""
    if config["steps"] is not None:
        return int(config["steps"])
    return int(config["epochs"]) * math.ceil(n_train / config["batch_size"])


def build_model(family: str, config: dict, n_in: int, n_out: int, *, init_seed: int, mask_seed: int):
    """A fresh model of ``family`` (``mlp``, ``w-asym``, ``sigma-asym``) for set-up ``config``: free
    weights from ``torch.manual_seed(init_seed)``, fixed entries and gates from ``mask_seed``."""
    width, depth = config["width"], config["depth"]
    torch.manual_seed(init_seed)
    if family == "mlp":
        return MLP(n_in, n_out, width, depth, activation=config["activation"],
                   layer_norm=config["layer_norm"], gate_scale=config["gate_scale"])
    if family == "w-asym":
        counts, scales = _FIXED[config["fixed"]](n_in, width, depth)
        return WAsymmetricMLP(n_in, n_out, width, depth, n_fixed=counts, fixed_std=scales, seed=mask_seed,
                              activation=config["activation"], layer_norm=config["layer_norm"])
    if family == "sigma-asym":
        return SigmaAsymmetricMLP(n_in, n_out, width, depth, seed=mask_seed, layer_norm=config["layer_norm"])
    raise KeyError(f"unknown family {family!r}; expected one of {FAMILIES}")


def barriers(losses) -> dict:
    """The three summaries of a loss curve on a uniform grid of α: ``barrier`` (excess over the
    chord), ``barrier_mid`` (``max L − ½(L(0) + L(1))``) and ``worst_loss`` (``max L``)."""
    losses = np.asarray(losses, dtype=float)
    if losses.ndim != 1 or len(losses) < 2:
        raise ValueError(f"losses must be a 1-d curve of at least 2 points, got shape {losses.shape}")
    alphas = np.linspace(0.0, 1.0, len(losses))
    chord = (1 - alphas) * losses[0] + alphas * losses[-1]
    return {"barrier": float(np.max(losses - chord)),
            "barrier_mid": float(losses.max() - 0.5 * (losses[0] + losses[-1])),
            "worst_loss": float(losses.max())}


@torch.no_grad()
def _curve(models, X: torch.Tensor, y: torch.Tensor) -> dict:
    losses, scores = [], []
    for model in models:
        outputs = model.eval()(X)  # (batch, n_out)
        losses.append(float(loss_function(outputs, y)))
        scores.append(score(outputs, y))
    return {"loss": losses, "score": scores}


def _arm_record(config: dict, family: str, arm: str, pair: int, path, data) -> dict:
    """One arm of one pair: the test curve along ``path`` (models at each α) and its barriers."""
    _, _, X_test, y_test = data
    test = _curve(path, X_test, y_test)
    return {"family": arm, "trained_family": family, "pair": pair, "width": config["width"],
            "depth": config["depth"], "loss": test["loss"], "score": test["score"], **barriers(test["loss"]),
            "end_scores": [test["score"][0], test["score"][-1]]}


def _train_pairs(config: dict, family: str) -> list[dict]:
    X_train, y_train, X_test, y_test, _ = load_dataset("digits")
    data = (X_train, y_train, X_test, y_test)
    n_in, n_out, n_pairs = X_train.shape[1], int(y_train.max()) + 1, config["n_pairs"]
    models = [build_model(family, config, n_in, n_out, init_seed=1000 * pair + member, mask_seed=pair)
              for pair in range(n_pairs) for member in (0, 1)]
    start = time.perf_counter()
    histories = fit_many(models, [(X_train, y_train)] * len(models), steps=_steps(config, len(X_train)),
                         lr=config["lr"], batch_size=config["batch_size"],
                         weight_decay=config["weight_decay"], seeds=list(range(len(models))), workers=1)
    train_seconds = time.perf_counter() - start
    alphas = np.linspace(0.0, 1.0, config["n_points"]).tolist()
    records = []
    for pair in range(n_pairs):
        model_a, model_b = models[2 * pair], models[2 * pair + 1]
        partners, perms = {family: model_b}, {}
        for alignment in config["alignments"] if family == "mlp" else ():
            matcher = alignment.split("+")[0]
            if matcher not in perms:
                perms[matcher] = (weight_matching(model_a, model_b) if matcher == "weight"
                                  else activation_matching(model_a, model_b, X_train))
            partners[ARM_OF[alignment]] = permute_hidden(model_b, perms[matcher])
        for arm, partner in partners.items():
            if arm.endswith("-repair"):  # REPAIR at every α, statistics from the training set
                path = [repair(model_a, partner, X_train, alpha) for alpha in alphas]
            else:
                path = [interpolate(model_a, partner, alpha) for alpha in alphas]
            record = _arm_record(config, family, arm, pair, path, data)
            record["diverged"] = bool(histories[2 * pair]["diverged"] or histories[2 * pair + 1]["diverged"])
            records.append(record)
    for record in records:
        record["train_seconds"] = train_seconds
        record["seconds"] = time.perf_counter() - start  # training and every curve of this unit
    return records


def pair_study(config: dict, family: str) -> list[dict]:
    """The records of ``config['n_pairs']`` pairs of ``family`` trained on the digits under set-up
    ``config`` (see ``setup``), one per (pair, arm); cached. Pair ``p`` starts from
    ``torch.manual_seed(1000 p + m)`` for member ``m``, shares its fixed entries (``mask_seed = p``)
    and draws mini-batches with seed ``2 p + m``, in every family: pairs are matched across arms."""
    return _pair_studies([(config, family)])[0]


def _pair_studies(units) -> list[list[dict]]:
    """``pair_study`` of each ``(config, family)``, the missing ones in the worker pool."""
    entries = []
    for config, family in units:
        if family not in FAMILIES:
            raise KeyError(f"unknown family {family!r}; expected one of {FAMILIES}")
        config = setup(config)
        key = cache_key({"study": "lmc", "family": family, **config}, device="cpu", dtype="float32")
        entries.append((key, _train_pairs, (config, family)))
    with one_thread():
        return cached_calls(entries, namespace="lmc-study")


def study(config: dict, families=FAMILIES, name: str | None = None) -> list[dict]:
    """``pair_study`` for every family, each record tagged with the set-up's ``name``."""
    return studies([(config, families, name)])


def studies(items) -> list[dict]:
    """``study`` of each ``(config, families, name)`` of ``items``, concatenated; every missing unit
    of all of them computed at once in the worker pool."""
    items = [(config, tuple(families), name) for config, families, name in items]
    units = [(config, family) for config, families, _ in items for family in families]
    found = iter(_pair_studies(units))
    return [{**record, "setup": name} for _, families, name in items for _ in families
            for record in next(found)]


def from_connectivity(records, name: str) -> list[dict]:
    """``connectivity.mode_connectivity`` records in this module's form (``pair``, ``setup`` and the
    three barriers of the test curve): the book's own runs, paired with the studies here by seed."""
    return [{**record, "pair": record["seed"], "setup": name, **barriers(record["loss"])}
            for record in records]


def summarize(records, by=("setup", "family"), column: str = "barrier") -> pd.DataFrame:
    """Mean and 95 % Student-t interval of ``column`` over pairs, per group of ``by``."""
    frame = pd.DataFrame(records)
    rows = []
    for keys, group in frame.groupby(list(by), sort=False):
        mean, low, high = confidence_interval(group[column])
        rows.append({**dict(zip(by, keys if isinstance(keys, tuple) else (keys,), strict=True)),
                     "mean": mean, "low": low, "high": high, "pairs": len(group)})
    return pd.DataFrame(rows)


def ordering_tests(records, order=LIM_ORDER, column: str = "barrier") -> pd.DataFrame:
    """Paired tests of each adjacent comparison of ``order`` (lowest barrier first) within each set-up.

    For each pair index the difference ``column[higher arm] − column[lower arm]`` (positive where
    the order holds); its mean with a 95 % Student-t interval, a one-sided t-test p-value (mean > 0)
    and Holm's adjustment across every comparison of the table. ``holds``: adjusted p <= 0.05.
    """
    frame = pd.DataFrame(records)
    rows = []
    for name, part in frame.groupby("setup", sort=False):
        by_arm = {arm: part[part["family"] == arm].set_index("pair")[column] for arm in order}
        for lower, higher in zip(order[:-1], order[1:], strict=True):
            difference = (by_arm[higher] - by_arm[lower]).dropna()
            mean, low, high = confidence_interval(difference)
            rows.append({"setup": name, "comparison": f"{lower} < {higher}", "pairs": len(difference),
                         "difference": mean, "low": low, "high": high, "p": one_sided_p(difference)})
    table = pd.DataFrame(rows)
    table["p_holm"] = holm(table["p"])
    table["holds"] = table["p_holm"] <= 0.05
    return table


def study_config(quick: bool | None = None) -> dict:
    """The sizes of every sweep of the chapter (smaller when ``quick``, default ``is_quick()``)."""
    quick = is_quick() if quick is None else bool(quick)
    if quick:
        return {"reproduction_width": 32, "reproduction_pairs": 2, "ordering_pairs": 3, "ordering_width": 16,
                "lim_epochs": 2, "ablation_pairs": 2, "ablation_steps": 60, "widths": (8, 16, 32),
                "width_pairs": 2, "width_epochs": 2, "large_width": 16, "channels": (4, 16),
                "channel_pairs": 2, "n_points": 9}
    # 30 pairs per arm in the ordering tests: 17-29 are needed to detect Lim et al.'s own gaps
    return {"reproduction_width": 512, "reproduction_pairs": 2, "ordering_pairs": 30, "ordering_width": 64,
            "lim_epochs": 25, "ablation_pairs": 3, "ablation_steps": None,
            "widths": (16, 32, 64, 128, 256, 512),
            "width_pairs": 2, "width_epochs": 25, "large_width": 128, "channels": (4, 8, 16),
            "channel_pairs": 2, "n_points": 25}


def ablations(sizes: dict | None = None) -> list[tuple[str, dict, tuple[str, ...]]]:
    """The one-factor ablations: ``(label, set-up, families)``, each the book's set-up (whose runs are
    ``connectivity``'s, with the same seeds) with one factor moved to Lim et al.'s value, plus the
    scalar-gate controls ``σ(c h) h`` (an ``mlp`` arm) with ``c = 1`` (SiLU) and ``c = √width`` (the
    typical norm of a row of the random C, so the gate is about as sharp as σ-Asym's)."""
    sizes = study_config() if sizes is None else sizes
    base = setup(n_pairs=sizes["ablation_pairs"], n_points=sizes["n_points"],
                 **({"steps": sizes["ablation_steps"]} if sizes["ablation_steps"] else {}))
    both = ("mlp", "sigma-asym")
    epochs = {"steps": None, "epochs": sizes["lim_epochs"]}
    return [
        ("+ LayerNorm", setup(base, layer_norm=True), both),
        ("GELU for ReLU", setup(base, activation="gelu"), ("mlp",)),  # σ-Asym has no ReLU to replace
        ("+ weight decay 0.03 (AdamW)", setup(base, weight_decay=0.03), both),
        ("4 linear layers", setup(base, depth=3), both),
        (f"batch 64, {sizes['lim_epochs']} epochs", setup(base, batch_size=64, **epochs), both),
        ("paper's fixed entries", setup(base, fixed="paper"), ("w-asym",)),
        ("scalar gate, c = 1", setup(base, activation="scalar-gate", gate_scale=1.0), ("mlp",)),
        ("scalar gate, c = √width", setup(base, activation="scalar-gate",
                                          gate_scale=float(base["width"]) ** 0.5), ("mlp",)),
    ]


def width_sweep(sizes: dict | None = None, depths=(1, 2)) -> list[dict]:
    """Unaligned, weight-matched, activation-matched (each also with REPAIR) and W-Asym barriers of
    ReLU MLPs for each width and depth: the book's architecture trained with Adam, batch 64 for
    ``width_epochs`` epochs; W-Asym fixes a quarter of each row (``book_fixed_entries``)."""
    sizes = study_config() if sizes is None else sizes
    return studies([(setup(width=width, depth=depth, batch_size=64, steps=None, epochs=sizes["width_epochs"],
                           n_pairs=sizes["width_pairs"], n_points=sizes["n_points"], alignments=ALIGNMENTS),
                     ("mlp", "w-asym"), f"depth {depth}") for depth in depths for width in sizes["widths"]])


def loglog_slope(records, family: str, min_width: int, column: str = "barrier", n_boot: int = 2000,
                 seed: int = 0, level: float = 0.95) -> dict:
    """Least-squares slope of ``log(mean column)`` against ``log(width)`` over widths ``>= min_width``,
    with a percentile bootstrap interval (pairs resampled within each width; draws with a mean
    ``<= 0`` are dropped and counted). Records are those of one depth."""
    frame = pd.DataFrame(records)
    frame = frame[(frame["family"] == family) & (frame["width"] >= min_width)]
    widths = sorted(frame["width"].unique())
    if len(widths) < 2:
        raise ValueError(f"loglog_slope needs at least 2 widths >= {min_width} for {family!r}, got {widths}")
    groups = [frame.loc[frame["width"] == width, column].to_numpy(dtype=float) for width in widths]
    x = np.log(np.asarray(widths, dtype=float))

    def slope(means: np.ndarray) -> float:
        return float(np.polyfit(x, np.log(means), 1)[0]) if np.all(means > 0) else math.nan

    estimate = slope(np.array([g.mean() for g in groups]))
    rng = np.random.default_rng(seed)
    draws = np.array([slope(np.array([rng.choice(g, size=len(g)).mean() for g in groups]))
                      for _ in range(n_boot)])
    kept = draws[np.isfinite(draws)]
    tail = (1 - level) / 2 * 100
    low, high = np.percentile(kept, [tail, 100 - tail]) if len(kept) else (math.nan, math.nan)
    return {"family": family, "slope": estimate, "low": float(low), "high": float(high),
            "widths": [int(w) for w in widths], "dropped_draws": int(n_boot - len(kept))}


def shared_sweep(sizes: dict | None = None) -> list[dict]:
    """Unaligned, channel-matched and rotation-plus-channel-matched barriers of ``SharedMLP`` pairs
    on the ring against the channel count: ``connectivity.pair_records`` with the ring's chapter
    configuration, ``shared_channels`` changed and ``channel_pairs`` pairs; the chapter's own
    channel count keeps the chapter's configuration (its pairs), so it is read from the cache."""
    from symsharing.paramspace.connectivity import chapter_config

    sizes = study_config() if sizes is None else sizes
    ring = chapter_config("ring")
    configs = [ring if channels == ring["shared_channels"] else
               {**ring, "shared_channels": channels, "n_pairs": sizes["channel_pairs"]}
               for channels in sizes["channels"]]
    found = many_pair_records([("ring", "shared", config) for config in configs])
    return [{**record, "channels": channels, "pair": record["seed"]}
            for channels, records in zip(sizes["channels"], found, strict=True) for record in records]
