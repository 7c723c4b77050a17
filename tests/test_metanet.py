"""paramspace.zoo and paramspace.metanet: populations of trained networks with random
hyperparameters, and the metanetworks that read their weights."""

import copy
import random

import pytest
import torch

from symsharing.models import MLP, count_parameters
from symsharing.paramspace import (
    Zoo,
    build_zoo,
    draw_hyperparameters,
    free_parameters,
    make_metanet,
    metanet_scores,
    permute_hidden,
    unit_features,
    weight_statistics,
    zoo_features,
    zoo_network,
)
from symsharing.train import fit

pytestmark = pytest.mark.usefixtures("single_torch_thread")


def test_hyperparameters_are_drawn_as_make_hparams_draws_them():
    draws = draw_hyperparameters(50, seed=3)
    rng = random.Random(3)
    for draw in draws[:3]:  # the script's order: lr, weight decay, label smoothing, epochs
        assert draw["lr"] == 0.5 * 10 ** (-rng.uniform(0, 2))
        assert draw["weight_decay"] == 10 ** (-rng.uniform(1, 5))
        assert draw["label_smoothing"] == rng.uniform(0, 0.2)
        assert draw["epochs"] == rng.randint(10, 40)
    assert all(0.005 <= d["lr"] <= 0.5 and 1e-5 <= d["weight_decay"] <= 0.1
               and 0 <= d["label_smoothing"] <= 0.2 and 10 <= d["epochs"] <= 40 for d in draws)


def _data(n=60, seed=0):
    generator = torch.Generator().manual_seed(seed)
    X = torch.randn(n, 6, generator=generator)
    return X, (X[:, 0] > 0).long() + (X[:, 1] > 0).long()


def test_a_zoo_network_is_the_one_fit_trains_alone():
    X, y = _data()
    hyperparameters = draw_hyperparameters(3, seed=0, epochs=(1, 2))
    zoo = build_zoo("w-asym", (X, y, X, y), hyperparameters, width=8, depth=2, batch_size=16)
    assert len(zoo) == 3 and not any(zoo.diverged)
    alone = zoo_network("w-asym", 6, 3, 8, 2, init_seed=1)
    torch.testing.assert_close(free_parameters(alone), free_parameters(zoo.initial[1]))
    h = hyperparameters[1]
    fit(alone, X, y, steps=h["epochs"] * 4, lr=h["lr"], weight_decay=h["weight_decay"],
        label_smoothing=h["label_smoothing"], batch_size=16, seed=1, schedule="triangular")
    torch.testing.assert_close(free_parameters(alone), free_parameters(zoo.networks[1]), atol=2e-5, rtol=2e-5)


def test_free_parameters_leave_out_the_fixed_entries():
    network = zoo_network("w-asym", 6, 3, 8, 2, init_seed=0)
    assert len(free_parameters(network)) == count_parameters(network)
    assert len(weight_statistics(network)) == 7 * 6  # three weights and three biases


def test_the_deepsets_metanet_is_invariant_to_hidden_permutations():
    torch.manual_seed(0)
    network = MLP(6, 3, 8, depth=2)
    perms = [torch.randperm(8), torch.randperm(8)]
    moved = permute_hidden(network, perms)
    zoo = Zoo("mlp", [network, moved], [network, moved], [{}, {}], [0.5, 0.5], [False, False])
    parts = zoo_features(zoo, "deepsets")
    assert [tuple(p.shape) for p in parts] == [(2, 8, 6 + 1 + 4), (2, 8, 4 + 1 + 3), (2, 1, 3)]
    metanet = make_metanet("deepsets", parts)
    with torch.no_grad():
        outputs = metanet(*parts)
    torch.testing.assert_close(outputs[0], outputs[1], atol=1e-5, rtol=1e-5)
    stats = zoo_features(zoo, "statistics")[0]
    torch.testing.assert_close(stats[0], stats[1], atol=1e-6, rtol=1e-6)
    flat = zoo_features(zoo, "flat")[0]
    assert not torch.allclose(flat[0], flat[1])  # the flat input sees the permutation


def test_metanets_learn_a_property_of_the_weights():
    torch.manual_seed(0)
    n = 128
    networks = [MLP(6, 3, 8, depth=2) for _ in range(n)]
    with torch.no_grad():
        for k, network in enumerate(networks):  # the target: the scale of the first layer
            network.layers[0].weight.mul_(0.5 + k / n)
    targets = [float(n.layers[0].weight.detach().abs().mean()) for n in networks]
    zoo = Zoo("mlp", networks, [copy.deepcopy(n) for n in networks], [{}] * n, targets, [False] * n)
    rows = metanet_scores(zoo, ("statistics",), splits=1, lrs=(1e-2,), epochs=40)
    assert rows[0]["r2"] > 0.7 and rows[0]["tau"] > 0.6 and rows[0]["n_networks"] == n


def test_bad_zoo_and_metanet_inputs_are_named():
    X, y = _data()
    with pytest.raises(KeyError, match="unknown family"):
        zoo_network("cnn", 6, 3, 8, 2, init_seed=0)
    with pytest.raises(KeyError, match="needs lr, weight_decay"):
        build_zoo("mlp", (X, y, X, y), [{"lr": 1e-3}], width=4, depth=1)
    with pytest.raises(ValueError, match="at least one set"):
        build_zoo("mlp", (X, y, X, y), [], width=4, depth=1)
    with pytest.raises(ValueError, match="n must be"):
        draw_hyperparameters(0)
    zoo = Zoo("mlp", [MLP(6, 3, 4)] * 4, [MLP(6, 3, 4)] * 4, [{}] * 4, [0.1] * 4, [False] * 4)
    with pytest.raises(KeyError, match="unknown metanetwork"):
        zoo_features(zoo, "transformer")
    with pytest.raises(ValueError, match="at least 8 usable"):
        metanet_scores(zoo, ("flat",))
    with pytest.raises(KeyError, match="unknown metanetwork"):
        make_metanet("graph", [torch.zeros(2, 3)])
    assert len(unit_features(MLP(6, 3, 4, depth=1))) == 2
