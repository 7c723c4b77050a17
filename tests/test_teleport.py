"""paramspace.teleport (the rescaling action) and teleport_toy (Zhao et al. 2022's GL action)."""

import copy

import numpy as np
import pytest
import torch

from symsharing.groups import symmetric
from symsharing.models import MLP, SharedMLP, WAsymmetricMLP
from symsharing.paramspace import gradient_norm, teleport
from symsharing.paramspace.teleport_study import speedups
from symsharing.paramspace.teleport_toy import METHODS, _apply, run_toy, toy_loss, toy_problem
from symsharing.testing import default_tolerance

pytestmark = pytest.mark.usefixtures("single_torch_thread")


def _data(dtype, n=64, d=6, classes=None):
    generator = torch.Generator().manual_seed(0)
    X = torch.randn(n, d, generator=generator, dtype=dtype)
    y = torch.randint(0, classes, (n,), generator=generator) if classes else \
        torch.randn(n, 1, generator=generator, dtype=dtype)
    return X, y


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("make, classes", [(lambda: MLP(6, 1, 8, 2), None), (lambda: MLP(6, 3, 8, 2), 3),
                                           (lambda: SharedMLP(symmetric(6), 1, 3, 2), None),
                                           (lambda: MLP(6, 1, 8, 2, activation="identity"), None)])
def test_teleport_keeps_the_function_raises_the_gradient_and_leaves_the_input_alone(dtype, make, classes):
    torch.manual_seed(1)
    model = make().to(dtype)
    original = copy.deepcopy(model)
    X, y = _data(dtype, classes=classes)
    moved = teleport(model, X, y, steps=5, lr=0.3)
    assert type(moved) is type(model)
    assert all(torch.equal(p, q) for p, q in zip(model.parameters(), original.parameters(), strict=True))
    elsewhere = torch.randn(100, 6, generator=torch.Generator().manual_seed(9), dtype=dtype)  # not the data
    with torch.no_grad():
        for inputs in (X, elsewhere):
            assert float((moved(inputs) - model(inputs)).abs().max()) <= default_tolerance(model(inputs))
    assert gradient_norm(moved, X, y) > 1.01 * gradient_norm(model, X, y)
    assert any(not torch.equal(p, q) for p, q in zip(moved.parameters(), model.parameters(), strict=True))


def test_teleport_rescales_only_the_units_that_keep_the_symmetry():
    torch.manual_seed(2)
    model = WAsymmetricMLP(6, 1, 8, 2, n_fixed=1, fixed_std=0.0, seed=0).double()
    column = int(torch.nonzero(model.layers[1].fixed_mask[0])[0])
    with torch.no_grad():  # a nonzero fixed entry: unit 0 of layer 1 and unit `column` of layer 0 lose it
        model.layers[1].fixed_values[0, column] = 0.5
        model.layers[1].restore_fixed_entries()
    X, y = _data(torch.float64)
    moved = teleport(model, X, y, steps=4, lr=0.3)
    with torch.no_grad():
        assert float((moved(X) - model(X)).abs().max()) <= 1e-12
    assert float(moved.layers[1].bias[0]) == float(model.layers[1].bias[0])  # its own scale stayed 1
    assert float(moved.layers[0].bias[column]) == float(model.layers[0].bias[column])
    assert not torch.equal(moved.layers[0].bias, model.layers[0].bias)  # the other units moved
    assert float(moved.layers[1].weight[0, column]) == 0.5


def test_more_ascent_steps_climb_further():
    torch.manual_seed(3)
    model = MLP(6, 1, 8, 2).double()
    X, y = _data(torch.float64)
    norms = [gradient_norm(teleport(model, X, y, steps=steps, lr=0.2), X, y) for steps in (1, 4)]
    assert norms[1] > norms[0] > gradient_norm(model, X, y)


def _loss_changes(weights, X, Y, direction):
    base = float(toy_loss(weights, X, Y))
    return [abs(float(toy_loss(_apply(weights, X, [eps * d for d in direction]), X, Y)) - base)
            for eps in (1e-3, 5e-4)]


def test_the_toy_action_keeps_a_pair_of_layers_to_first_order_and_three_layers_only_to_zeroth():
    weights, X, _ = toy_problem(0)
    generator = torch.Generator().manual_seed(1)
    direction = [torch.randn(w.shape[0], w.shape[0], generator=generator) for w in weights[:-1]]
    pair = weights[:2]  # W1, W2: one hidden layer
    small, half = _loss_changes(pair, X, torch.rand(pair[-1].shape[0], X.shape[1], generator=generator),
                                direction[:1])
    assert half < 0.3 * small  # second order: halving T quarters the change
    small, half = _loss_changes(weights, X, torch.rand(8, 4, generator=generator), direction)
    assert 0.4 * small < half < 0.6 * small  # first order: the applied action feeds each layer the
    # pseudo-inverse of the *original* network's hidden values, as the paper's code does


def test_toy_problem_draws_like_the_paper_and_runs_are_reproducible():
    torch.manual_seed(12345)
    expected = torch.rand(6, 5)
    assert torch.equal(toy_problem(12345)[0][0], expected)
    for method in METHODS:
        first, second = run_toy(method, 7, steps=12), run_toy(method, 7, steps=12)
        assert np.array_equal(first["loss"], second["loss"]) and first["loss"].shape == (12,)
    assert np.isnan(run_toy("GD", 7, steps=6)["loss_around_teleport"]).all()


def test_speedups_count_steps_and_seconds_to_the_halfway_loss():
    plain = np.linspace(10, 1, 10)  # reaches 6 at step 5
    faster = np.asarray([10, 6, 5, 4, 3, 2, 2, 2, 2, 2.0])
    seconds = np.arange(1, 11, dtype=float)
    found = speedups(plain, seconds, faster, 2 * seconds)
    assert found == {"steps": 5 / 2, "seconds": 5 / 4, "censored": False, "level": 6.0}
    censored = speedups(plain, seconds, np.asarray([10.0, np.nan]), seconds[:2])  # diverged at step 2
    assert censored["censored"] and censored["steps"] == 0.5 and censored["seconds"] == 5 / 10


@pytest.mark.parametrize("call, error, match", [
    (lambda m, X, y: teleport("model", X, y, steps=1, lr=0.1), TypeError, "MLP or a SharedMLP, got str"),
    (lambda m, X, y: teleport(torch.nn.Linear(6, 1), X, y, steps=1, lr=0.1), TypeError, "expected an MLP"),
    (lambda m, X, y: teleport(m, X, y, steps=1, lr=float("inf")), ValueError, "finite positive"),
    (lambda m, X, y: teleport(m, X, y[:, 0], steps=1, lr=0.1), ValueError, r"\[n, n_outputs\]"),
    (lambda m, X, y: teleport(m, X[:, :3], y, steps=1, lr=0.1), ValueError, r"expects input \[batch, 6\]"),
    (lambda m, X, y: run_toy("SGD", 0), ValueError, "method must be one of"),
])
def test_bad_inputs(call, error, match):
    with pytest.raises(error, match=match):
        call(MLP(6, 1, 4), *_data(torch.float32))
