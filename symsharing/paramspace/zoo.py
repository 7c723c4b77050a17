"""Model zoos: populations of small networks trained with random hyperparameters, kept with their
initial weights, their trained weights and their test accuracy.

Lim, Putterman, Walters, Maron & Jegelka ("The Empirical Impact of Neural Parameter Symmetries, or
Lack Thereof", NeurIPS 2024, §5.3-5.4; ``metanet_data/grid_runs/make_hparams.py``) train
thousands of ResNet-8s on CIFAR-10, each with a learning rate ``0.5 · 10^(-U(0, 2))``, a weight
decay ``10^(-U(1, 5))``, a label smoothing ``U(0, 0.2)`` and ``U{10..40}`` epochs (AdamW, a
triangular schedule peaking at epoch 5), for metanetworks to read and for monotonic-interpolation
statistics. ``draw_hyperparameters`` draws the same four; ``build_zoo`` trains a zoo of the
book's MLPs on a data set in one ``fit_many`` call, every network in one mixed stack with its own
hyperparameters (``engine.hyper``): one network at a time would be far slower.

A zoo's networks of one family share their fixed entries (W-Asym) or gates (σ-Asym), as the
paper's saved masks do, and network ``i`` of every family starts from ``torch.manual_seed(i)``,
draws the same hyperparameters and sees the same mini-batches: zoos are paired across families.
"""

from __future__ import annotations

import copy
import math
import random
from dataclasses import dataclass

import torch
from torch import nn

from symsharing._checks import check_int
from symsharing.metrics import accuracy
from symsharing.models import MLP, SigmaAsymmetricMLP, WAsymmetricMLP
from symsharing.train import fit_many

__all__ = ["ZOO_FAMILIES", "draw_hyperparameters", "zoo_network", "Zoo", "build_zoo", "free_parameters"]

ZOO_FAMILIES = ("mlp", "w-asym", "sigma-asym")


def draw_hyperparameters(n: int, seed: int = 0, *, lr_scale: float = 0.5, epochs=(10, 40)) -> list[dict]:
    """``n`` draws of ``make_hparams.py``: ``lr = lr_scale · 10^(-U(0, 2))``, ``weight_decay =
    10^(-U(1, 5))``, ``label_smoothing = U(0, 0.2)``, ``epochs = U{epochs[0]..epochs[1]}``, from
    ``random.Random(seed)`` in the script's order."""
    n = check_int(n, "n", minimum=1)
    low, high = epochs
    check_int(low, "epochs[0]", minimum=1)
    check_int(high, "epochs[1]", minimum=low)
    rng = random.Random(seed)
    draws = []
    for _ in range(n):
        lr = lr_scale * 10 ** (-rng.uniform(0, 2))
        weight_decay = 10 ** (-rng.uniform(1, 5))
        label_smoothing = rng.uniform(0, 0.2)
        draws.append({"lr": lr, "weight_decay": weight_decay, "label_smoothing": label_smoothing,
                      "epochs": rng.randint(low, high)})
    return draws


def zoo_network(family: str, n_in: int, n_out: int, width: int, depth: int, *, init_seed: int,
                mask_seed: int = 0) -> nn.Module:
    """A fresh ReLU network of ``family``: free weights from ``torch.manual_seed(init_seed)``; W-Asym
    fixes a quarter of each row's fan-in at N(0, 0.5²) (the book's rule, ``lmc_study.book_fixed_entries``)."""
    if family not in ZOO_FAMILIES:
        raise KeyError(f"unknown family {family!r}; expected one of {ZOO_FAMILIES}")
    torch.manual_seed(init_seed)
    if family == "mlp":
        return MLP(n_in, n_out, width, depth)
    if family == "w-asym":
        counts = [max(1, fan_in // 4) for fan_in in [n_in] + [width] * depth]
        return WAsymmetricMLP(n_in, n_out, width, depth, n_fixed=counts, fixed_std=0.5, seed=mask_seed)
    return SigmaAsymmetricMLP(n_in, n_out, width, depth, seed=mask_seed)


def free_parameters(network: nn.Module) -> torch.Tensor:
    """The network's trainable numbers as one vector: every parameter flattened in order, the fixed
    entries of a W-Asymmetric layer left out (Lim et al.'s ``sd_to_input`` with ``use_fixed=False``)."""
    parts = []
    for module in network.modules():
        for name, p in module.named_parameters(recurse=False):
            if name == "weight" and hasattr(module, "fixed_mask"):
                parts.append(p.detach()[~module.fixed_mask])
            else:
                parts.append(p.detach().flatten())
    return torch.cat(parts)


@dataclass
class Zoo:
    """A trained population of one family: ``networks`` and their ``initial`` copies, the
    ``hyperparameters`` each was trained with, its ``test_accuracy`` and whether it ``diverged``."""

    family: str
    networks: list[nn.Module]
    initial: list[nn.Module]
    hyperparameters: list[dict]
    test_accuracy: list[float]
    diverged: list[bool]

    def __len__(self) -> int:
        return len(self.networks)


def build_zoo(family: str, data, hyperparameters: list[dict], *, width: int, depth: int,
              batch_size: int = 128, mask_seed: int = 0, mix_hyperparameters: bool = True,
              workers: int | None = 1) -> Zoo:
    """Train one network of ``family`` per entry of ``hyperparameters`` on ``data = (X_train, y_train,
    X_test, y_test)``: network ``i`` from ``torch.manual_seed(i)`` and mini-batch seed ``i``, AdamW
    with the triangular schedule, ``epochs · ceil(n_train / batch_size)`` steps. With
    ``mix_hyperparameters`` every network shares one stack (else one stack per distinct
    hyperparameter set, ``fit_many``'s default)."""
    X_train, y_train, X_test, y_test = data
    if not hyperparameters:
        raise ValueError("build_zoo needs at least one set of hyperparameters")
    needed = {"lr", "weight_decay", "label_smoothing", "epochs"}
    missing = [h for h in hyperparameters if not needed <= set(h)]
    if missing:
        raise KeyError(f"each hyperparameter set needs lr, weight_decay, label_smoothing and epochs, "
                       f"got {missing[0]!r}")
    n_in, n_out = X_train.shape[1], int(y_train.max()) + 1
    networks = [zoo_network(family, n_in, n_out, width, depth, init_seed=i, mask_seed=mask_seed)
                for i in range(len(hyperparameters))]
    initial = [copy.deepcopy(network) for network in networks]
    per_epoch = math.ceil(len(X_train) / batch_size)
    histories = fit_many(networks, [(X_train, y_train)] * len(networks),
                         steps=[h["epochs"] * per_epoch for h in hyperparameters],
                         lr=[h["lr"] for h in hyperparameters],
                         weight_decay=[h["weight_decay"] for h in hyperparameters],
                         label_smoothing=[h["label_smoothing"] for h in hyperparameters],
                         batch_size=batch_size, seeds=list(range(len(networks))), schedule="triangular",
                         mix_hyperparameters=mix_hyperparameters, workers=workers)
    with torch.no_grad():
        scores = [accuracy(network(X_test), y_test) for network in networks]
    return Zoo(family, networks, initial, [dict(h) for h in hyperparameters], scores,
               [bool(h["diverged"]) for h in histories])
