"""Linear mode connectivity experiments: pairs of independently trained networks and their barriers.

Reproduces at CPU scale the comparison of Lim, Putterman, Walters, Maron & Jegelka ("The Empirical
Impact of Neural Parameter Symmetries, or Lack Thereof", NeurIPS 2024): the loss barrier between
two networks trained from different initialisations and mini-batch orders, for a standard MLP
(unaligned, and aligned by weight matching, Ainsworth et al. 2023), the W-Asymmetric and the
σ-Asymmetric MLP (unaligned), and, beyond the sources, for a ``SharedMLP`` tied by the task's group
(unaligned and channel-aligned). Each family's pairs are trained in one ``fit_many`` call and the
result is cached on disk by configuration and package code (``symsharing.engine.cache``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch

from symsharing._checks import check_seeds
from symsharing.engine.cache import cache_key, cached_calls
from symsharing.metrics import metric_name
from symsharing.models import MLP, SharedMLP, SigmaAsymmetricMLP, WAsymmetricMLP, count_parameters
from symsharing.paramspace.barriers import barrier_of, interpolation_curve
from symsharing.paramspace.matching import roll_channels, rotation_matching, weight_matching
from symsharing.paramspace.permutation_spec import permute_hidden
from symsharing.settings import is_quick
from symsharing.stats import confidence_interval
from symsharing.tasks import get_task
from symsharing.train import fit_many, one_thread

__all__ = ["DATASETS", "TRAINED_FAMILIES", "LIM_ORDER", "load_dataset", "build_model", "pair_records",
           "many_pair_records", "chapter_config", "mode_connectivity", "summarize", "curve_band",
           "barrier_order", "steps_to_loss", "MLP_FAMILIES"]

DATASETS = ("digits", "ring", "grid", "set")
TRAINED_FAMILIES = ("mlp", "w-asym", "sigma-asym", "shared")
LIM_ORDER = ("w-asym", "mlp-aligned", "sigma-asym", "mlp")  # Lim et al. (2024): lowest barrier first
_ALIGNED = {"mlp": "mlp-aligned", "shared": "shared-aligned"}


def load_dataset(name: str, n_train: int = 1000, n_test: int = 1000):
    """``(X_train, y_train, X_test, y_test, group)`` for ``"digits"`` or a toy task name.

    digits: scikit-learn's 1,797 8×8 handwritten digits (bundled, no download), a stratified 75/25
    split with a fixed seed, pixels standardised with the training mean and deviation; it has no
    group (``None``). A toy task: ``task.sample(n_train, 0)`` and ``task.sample(n_test, 1)``.
    """
    if name == "digits":
        from sklearn.datasets import load_digits
        from sklearn.model_selection import train_test_split

        digits = load_digits()
        X_train, X_test, y_train, y_test = train_test_split(
            digits.data, digits.target, test_size=0.25, stratify=digits.target, random_state=0)
        mean, std = X_train.mean(0), X_train.std(0) + 1.0  # +1: constant border pixels
        as_x = lambda X: torch.as_tensor((X - mean) / std, dtype=torch.float32)  # noqa: E731
        as_y = lambda y: torch.as_tensor(y, dtype=torch.long)  # noqa: E731
        return as_x(X_train), as_y(y_train), as_x(X_test), as_y(y_test), None
    if name not in DATASETS:
        raise KeyError(f"unknown dataset {name!r}; expected one of {DATASETS}")
    task = get_task(name)
    X_train, y_train = task.sample(n_train, 0)
    X_test, y_test = task.sample(n_test, 1)
    return X_train, y_train, X_test, y_test, task.group


def build_model(family: str, n_in: int, n_out: int, width: int, depth: int, *, init_seed: int,
                mask_seed: int, group=None, n_fixed: int = 0, fixed_std: float = 1.0):
    """A fresh model of ``family``: free weights from ``torch.manual_seed(init_seed)``, the fixed
    entries / gates of the asymmetric networks from ``mask_seed``."""
    torch.manual_seed(init_seed)
    if family == "mlp":
        return MLP(n_in, n_out, width, depth)
    if family == "w-asym":
        return WAsymmetricMLP(n_in, n_out, width, depth, n_fixed=n_fixed, fixed_std=fixed_std,
                              seed=mask_seed)
    if family == "sigma-asym":
        return SigmaAsymmetricMLP(n_in, n_out, width, depth, seed=mask_seed)
    if family == "shared":
        if group is None:
            raise ValueError("family 'shared' needs the task's group; digits has none")
        return SharedMLP(group, n_out, width, depth)
    raise KeyError(f"unknown family {family!r}; expected one of {TRAINED_FAMILIES}")


def _train_pairs(dataset: str, family: str, config: dict) -> list[dict]:
    X_train, y_train, X_test, y_test, group = load_dataset(dataset, config["n_train"], config["n_test"])
    n_out = int(y_train.max()) + 1 if not y_train.dtype.is_floating_point else y_train.shape[1]
    width = config["shared_channels"] if family == "shared" else config["width"]
    models = [build_model(family, X_train.shape[1], n_out, width, config["depth"],
                          init_seed=1000 * pair + member, mask_seed=pair, group=group,
                          n_fixed=config["n_fixed"], fixed_std=config["fixed_std"])
              for pair in range(config["n_pairs"]) for member in (0, 1)]
    histories = fit_many(models, [(X_train, y_train)] * len(models), steps=config["steps"],
                         lr=config["lr"], batch_size=config["batch_size"],
                         seeds=list(range(len(models))))
    records = []
    for pair in range(config["n_pairs"]):
        model_a, model_b = models[2 * pair], models[2 * pair + 1]
        arms = {family: model_b}
        if family in _ALIGNED:
            arms[_ALIGNED[family]] = permute_hidden(model_b, weight_matching(model_a, model_b))
        if family == "shared" and all(layer.path == "circular" for layer in model_a.layers):
            perms, shifts = rotation_matching(model_a, model_b)
            arms["shared-rotation-aligned"] = roll_channels(permute_hidden(model_b, perms), shifts)
        for arm, partner in arms.items():
            curve = interpolation_curve(model_a, partner, X_test, y_test, config["n_points"])
            train_curve = interpolation_curve(model_a, partner, X_train, y_train, config["n_points"])
            records.append({
                "experiment": "mode-connectivity", "task": dataset, "family": arm, "seed": pair,
                "width": width, "depth": config["depth"], "n_params": count_parameters(model_a),
                "steps": config["steps"], "lr": config["lr"], "batch_size": config["batch_size"],
                "metric": metric_name(y_test), "alpha": curve["alpha"], "loss": curve["loss"],
                "score": curve["score"], "barrier": barrier_of(curve["loss"]),
                "score_drop": _score_drop(curve["score"], metric_name(y_test)),
                "train_loss_curve": train_curve["loss"], "train_score_curve": train_curve["score"],
                "train_barrier": barrier_of(train_curve["loss"]),
                "train_loss_a": histories[2 * pair]["loss"], "train_loss_b": histories[2 * pair + 1]["loss"],
                "diverged": bool(histories[2 * pair]["diverged"] or histories[2 * pair + 1]["diverged"]),
            })
    return records


def _score_drop(scores, metric: str) -> float:
    """Worst loss of accuracy (or rise of MSE) along the line below (above) the endpoints' average."""
    scores = np.asarray(scores, dtype=float)
    alphas = np.linspace(0.0, 1.0, len(scores))
    gap = (1 - alphas) * scores[0] + alphas * scores[-1] - scores
    return float(np.max(gap if metric == "accuracy" else -gap))



def _pair_entry(dataset: str, family: str, config: dict) -> tuple:
    key = cache_key({"dataset": dataset, "family": family, **config}, device="cpu", dtype="float32")
    return key, _train_pairs, (dataset, family, config)


def pair_records(dataset: str, family: str, config: dict) -> list[dict]:
    """One record per (pair, arm) for ``family`` on ``dataset``, from the cache when possible."""
    return many_pair_records([(dataset, family, config)])[0]


def many_pair_records(units) -> list[list[dict]]:
    """``pair_records`` of each ``(dataset, family, config)`` of ``units``, the missing ones computed
    in the worker pool (one unit per worker, one thread each)."""
    with one_thread():
        return cached_calls([_pair_entry(*unit) for unit in units], namespace="mode-connectivity")


def chapter_config(dataset: str, quick: bool | None = None) -> dict:
    """The configuration the book uses for ``dataset``, smaller when ``quick`` (default:
    ``settings.is_quick()``).

    ``n_fixed`` is a quarter of the smallest fan-in; ``shared_channels`` gives the ``SharedMLP``
    about as many parameters as the MLP on the ring.
    """
    quick = is_quick() if quick is None else bool(quick)
    config = {"n_pairs": 3 if quick else 6, "width": 64, "depth": 2, "lr": 1e-3, "batch_size": 128,
              "fixed_std": 0.5, "n_train": 1000, "n_test": 1000, "n_points": 25 if not quick else 13,
              "shared_channels": 16}
    if dataset == "digits":
        # 30 pairs: the paired tests of Lim et al.'s ordering (lmc_study.ordering_tests) need 17-29
        # to detect the paper's own gaps
        return {**config, "steps": 300 if quick else 1000, "n_fixed": 16, "n_pairs": 3 if quick else 30}
    if dataset == "ring":
        return {**config, "steps": 200 if quick else 1000, "n_fixed": 4, "n_train": 4000}
    raise KeyError(f"no chapter configuration for {dataset!r}; expected 'digits' or 'ring'")


MLP_FAMILIES = ("mlp", "w-asym", "sigma-asym")  # the arms of Lim et al.'s comparison


def mode_connectivity(dataset: str, families=MLP_FAMILIES, **config) -> list[dict]:
    """Train ``n_pairs`` pairs per family on ``dataset`` and return the tidy records of every arm
    (``mlp``, ``mlp-aligned``, ``w-asym``, ``sigma-asym``, ``shared``, ``shared-aligned``, and for a
    cyclic group ``shared-rotation-aligned``: channels matched with a rotation each).

    ``config`` overrides ``chapter_config(dataset)`` key by key.
    """
    unknown = set(config) - set(chapter_config(dataset))
    if unknown:
        raise KeyError(f"unknown configuration keys {sorted(unknown)}; expected some of "
                       f"{sorted(chapter_config(dataset))}")
    config = {**chapter_config(dataset), **config}
    return [record for records in many_pair_records([(dataset, family, config) for family in families])
            for record in records]


def summarize(records, column: str = "barrier") -> dict:
    """``{(task, family): (mean, low, high)}``: mean and 95% interval of ``column`` over pairs."""
    groups: dict = {}
    for record in records:
        groups.setdefault((record["task"], record["family"]), []).append(record[column])
    return {key: confidence_interval(values) for key, values in groups.items()}


def curve_band(records, task: str, family: str, column: str = "loss"):
    """``(alpha, mean, low, high)`` arrays: the mean curve of ``column`` over pairs and its 95% band."""
    curves = [record for record in records if record["task"] == task and record["family"] == family]
    if not curves:
        raise KeyError(f"no records for task {task!r} and family {family!r}")
    values = np.array([record[column] for record in curves])  # (pairs, n_points)
    band = np.array([confidence_interval(values[:, point]) for point in range(values.shape[1])])
    return np.asarray(curves[0]["alpha"]), band[:, 0], band[:, 1], band[:, 2]


def barrier_order(records, task: str, families=LIM_ORDER) -> list[str]:
    """``families`` sorted by mean barrier on ``task``, lowest first."""
    means = {family: value[0] for (name, family), value in summarize(records).items() if name == task}
    return sorted(families, key=lambda family: means[family])


def steps_to_loss(history, target: float, window: int = 25) -> float:
    """First step at which the moving average (``window`` steps) of a training loss history falls
    to ``target`` or below; NaN when it never does."""
    history = np.asarray(history, dtype=float)
    if len(history) < window:
        return float("nan")
    smoothed = np.convolve(history, np.ones(window) / window, mode="valid")  # step window-1 onward
    below = np.flatnonzero(smoothed <= target)
    return float(below[0] + window) if len(below) else float("nan")


def mode_connectivity_experiment(quick: bool | None = None, seeds=None) -> pd.DataFrame:
    """Loss barriers between independently trained pairs on digits and the ring task, the runs of
    the parameter-space chapter (``mode_connectivity``); ``seeds`` counts the pairs."""
    seeds = None if seeds is None else check_seeds(seeds)
    rows = []
    for dataset, families in (("digits", MLP_FAMILIES),
                              ("ring", MLP_FAMILIES + ("shared",))):
        config = chapter_config(dataset, quick)
        if seeds is not None:
            config["n_pairs"] = len(seeds)
        rows += mode_connectivity(dataset, families, **config)
    return pd.DataFrame(rows)
