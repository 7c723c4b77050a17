"""Metanetworks: networks that read another network's weights and predict its test accuracy.

Lim, Putterman, Walters, Maron & Jegelka ("The Empirical Impact of Neural Parameter Symmetries, or
Lack Thereof", NeurIPS 2024, §5.3; ``metanet/train.py``) predict the CIFAR-10 accuracy of ResNets
and W-Asymmetric ResNets from their weights, and find that metanetworks which ignore the weight
space's permutation symmetries (an MLP on the flattened weights) do far better on networks without
them. Three readers of a zoo (``zoo.Zoo``) of MLPs:

- ``flat``: Linear → ReLU → LayerNorm → Linear on the flattened free weights (the paper's ``mlp``);
- ``statistics``: the paper's ``statnn`` on seven statistics (mean, variance, minimum, maximum and
  quartiles) of each weight and bias tensor (Unterthiner, Keysers, Gelly, Bousquet & Tolstikhin,
  "Predicting Neural Network Accuracy from Weights", 2020);
- ``deepsets``: invariant to every permutation of hidden units: each hidden unit is described by
  its incoming weights where they come from the (ordered) inputs, its bias and its outgoing weights
  where they go to the (ordered) outputs, and by four statistics (mean, standard deviation,
  minimum, maximum) of its weights to and from other hidden layers; one small MLP per layer
  embeds each unit, the embeddings are averaged over the layer's units, and an MLP reads the
  averages and the output bias (DeepSets, Zaheer et al. 2017). The paper's ``deepsets`` instead
  pools over single parameters.

``metanet_scores`` trains each reader as the paper does (MSE, AdamW with weight decay 0.01, batch
128, 50 epochs, the epoch of best validation R² kept) on a random 50/25/25 split of the zoo and
returns R² and Kendall's τ on the held-out quarter, for each of several splits.
"""

from __future__ import annotations

import numpy as np
import torch
from scipy.stats import kendalltau
from torch import nn

from symsharing._checks import check_int
from symsharing.paramspace.zoo import Zoo, free_parameters

__all__ = ["METANETS", "weight_statistics", "unit_features", "zoo_features", "make_metanet", "metanet_scores"]

METANETS = ("flat", "statistics", "deepsets")


def _seven(values: torch.Tensor) -> torch.Tensor:
    quartiles = torch.quantile(values, torch.tensor([0.25, 0.5, 0.75], dtype=values.dtype))
    return torch.cat([values.mean()[None], values.var()[None], values.min()[None], values.max()[None],
                      quartiles])


def weight_statistics(network: nn.Module) -> torch.Tensor:
    """Seven statistics of each parameter tensor's free entries, concatenated: ``[7 · n_tensors]``."""
    stats = []
    for module in network.modules():
        for name, p in module.named_parameters(recurse=False):
            values = p.detach()[~module.fixed_mask] if name == "weight" and hasattr(module, "fixed_mask") \
                else p.detach().flatten()
            stats.append(_seven(values))
    return torch.cat(stats)


def _four(rows: torch.Tensor) -> torch.Tensor:
    """Mean, standard deviation, minimum, maximum of each row: ``[units, 4]``, invariant to the
    order of the row's entries."""
    return torch.stack([rows.mean(1), rows.std(1), rows.min(1).values, rows.max(1).values], 1)


def unit_features(network: nn.Module) -> list[torch.Tensor]:
    """For each hidden layer, one row per unit ``[width, features]``: incoming weights (from the
    inputs: as they are; from a hidden layer: ``_four``), the bias, outgoing weights (to the outputs:
    as they are; to a hidden layer: ``_four``); and last the output bias ``[1, n_out]``. Weights
    are the effective ones (a W-Asymmetric layer's fixed entries at their values)."""
    layers = list(network.layers)
    weights = [(layer.effective_weight() if hasattr(layer, "effective_weight") else layer.weight).detach()
               for layer in layers]
    features = []
    for index in range(len(layers) - 1):  # hidden layer index + 1
        incoming, outgoing = weights[index], weights[index + 1].T  # (width, fan_in), (width, fan_out)
        incoming = incoming if index == 0 else _four(incoming)
        outgoing = outgoing if index + 1 == len(layers) - 1 else _four(outgoing)
        features.append(torch.cat([incoming, layers[index].bias.detach()[:, None], outgoing], 1))
    return features + [layers[-1].bias.detach()[None]]


def zoo_features(zoo: Zoo, kind: str) -> list[torch.Tensor]:
    """The input of metanetwork ``kind`` for every network of ``zoo``: ``flat`` -> ``[[N, P]]``,
    ``statistics`` -> ``[[N, 7 · tensors]]``, ``deepsets`` -> one ``[N, width, features]`` per
    hidden layer and the output biases ``[N, 1, n_out]``."""
    if kind == "flat":
        return [torch.stack([free_parameters(n) for n in zoo.networks])]
    if kind == "statistics":
        return [torch.stack([weight_statistics(n) for n in zoo.networks])]
    if kind == "deepsets":
        per_network = [unit_features(n) for n in zoo.networks]
        return [torch.stack([parts[i] for parts in per_network]) for i in range(len(per_network[0]))]
    raise KeyError(f"unknown metanetwork {kind!r}; expected one of {METANETS}")


class _DeepSets(nn.Module):
    def __init__(self, sizes: list[int], hidden: int):
        super().__init__()
        self.embed = nn.ModuleList(nn.Sequential(nn.Linear(size, hidden), nn.ReLU(), nn.LayerNorm(hidden),
                                                 nn.Linear(hidden, hidden), nn.ReLU()) for size in sizes[:-1])
        self.read = nn.Sequential(nn.Linear(hidden * (len(sizes) - 1) + sizes[-1], hidden), nn.ReLU(),
                                  nn.LayerNorm(hidden), nn.Linear(hidden, 1))

    def forward(self, *parts: torch.Tensor) -> torch.Tensor:
        pooled = [embed(units).mean(1) for embed, units in zip(self.embed, parts[:-1], strict=True)]
        return self.read(torch.cat(pooled + [parts[-1].flatten(1)], 1))  # (N, 1)


def make_metanet(kind: str, inputs: list[torch.Tensor]) -> nn.Module:
    """A fresh metanetwork ``kind`` for ``inputs`` (from ``zoo_features``), the paper's widths: 64
    hidden units (``flat``, ``deepsets``), two layers of 256 (``statistics``)."""
    if kind == "flat":
        return nn.Sequential(nn.Linear(inputs[0].shape[1], 64), nn.ReLU(), nn.LayerNorm(64), nn.Linear(64, 1))
    if kind == "statistics":
        return nn.Sequential(nn.Linear(inputs[0].shape[1], 256), nn.ReLU(), nn.LayerNorm(256),
                             nn.Linear(256, 256), nn.ReLU(), nn.LayerNorm(256), nn.Linear(256, 1))
    if kind == "deepsets":
        return _DeepSets([part.shape[-1] for part in inputs], 64)
    raise KeyError(f"unknown metanetwork {kind!r}; expected one of {METANETS}")


def _r2(truth: np.ndarray, predicted: np.ndarray) -> float:
    return float(1 - np.sum((truth - predicted) ** 2) / np.sum((truth - truth.mean()) ** 2))


def _standardise(inputs, train):
    """Each input part z-scored feature by feature with the training networks' mean and deviation."""
    out = []
    for part in inputs:
        mean = part[train].mean(0, keepdim=True)
        std = part[train].std(0, keepdim=True).clamp_min(1e-8)
        out.append((part - mean) / std)
    return out


def _train_one(kind, inputs, targets, split, lr, epochs, seed) -> dict:
    train, val, test = split
    torch.manual_seed(seed)
    model = make_metanet(kind, inputs)
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.01)
    generator = torch.Generator().manual_seed(seed)
    best = {"val_r2": -np.inf}
    for epoch in range(epochs):
        model.train()
        order = train[torch.randperm(len(train), generator=generator)]
        for batch in order.split(128):
            loss = nn.functional.mse_loss(model(*[part[batch] for part in inputs])[:, 0], targets[batch])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
        model.eval()
        with torch.no_grad():
            predicted = model(*inputs)[:, 0].double().numpy()
        truth = targets.double().numpy()
        val_r2 = _r2(truth[val], predicted[val])
        if val_r2 > best["val_r2"]:
            best = {"val_r2": val_r2, "epoch": epoch, "r2": _r2(truth[test], predicted[test]),
                    "tau": float(kendalltau(truth[test], predicted[test]).statistic)}
    return best


def metanet_scores(zoo: Zoo, kinds=METANETS, *, splits: int = 5, lrs=(1e-3, 1e-2), epochs: int = 50,
                   seed: int = 0) -> list[dict]:
    """For each split (a random 50/25/25 permutation of the zoo's usable networks, from
    ``seed + s``) and each metanetwork of ``kinds``: the learning rate of ``lrs`` with the best
    validation R², and the test R² and Kendall τ at its best validation epoch. Diverged networks
    are left out. Rows: ``{"kind", "split", "lr", "epoch", "val_r2", "r2", "tau", "n_networks"}``."""
    splits, epochs = check_int(splits, "splits", minimum=1), check_int(epochs, "epochs", minimum=1)
    usable = torch.tensor([i for i, bad in enumerate(zoo.diverged) if not bad])
    if len(usable) < 8:
        raise ValueError(f"metanet_scores needs at least 8 usable networks, got {len(usable)}")
    targets = torch.tensor(zoo.test_accuracy, dtype=torch.float32)
    rows = []
    for kind in kinds:
        raw = zoo_features(zoo, kind)
        for s in range(splits):
            order = usable[torch.randperm(len(usable), generator=torch.Generator().manual_seed(seed + s))]
            n_train, n_val = len(order) // 2, len(order) // 4
            split = (order[:n_train], order[n_train:n_train + n_val], order[n_train + n_val:])
            inputs = [part.float() for part in _standardise(raw, split[0])]
            scaled = (targets - targets[split[0]].mean()) / targets[split[0]].std()  # R² is unchanged
            runs = [{**_train_one(kind, inputs, scaled, split, lr, epochs, seed + s), "lr": lr}
                    for lr in lrs]
            best = max(runs, key=lambda run: run["val_r2"])
            rows.append({"kind": kind, "split": s, **best, "n_networks": len(usable)})
    return rows
