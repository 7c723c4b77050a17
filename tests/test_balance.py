"""paramspace.balance: the conserved balances and their exact one-step drift under (S)GD."""

import numpy as np
import pytest
import torch

from symsharing.groups import symmetric
from symsharing.models import MLP, SharedMLP, SigmaAsymmetricMLP, WAsymmetricMLP
from symsharing.paramspace import (
    balance_after_step,
    balance_trajectory,
    linear_balance,
    neuron_balance,
    rescalable_units,
    rescale_hidden,
)

pytestmark = pytest.mark.usefixtures("single_torch_thread")
RTOL = {torch.float32: 2e-6, torch.float64: 1e-12}  # relative to the largest |Q|; rounding is ~10x below


def _data(dtype, n=40, d=6, outputs=2):
    generator = torch.Generator().manual_seed(0)
    return (torch.randn(n, d, generator=generator, dtype=dtype),
            torch.randn(n, outputs, generator=generator, dtype=dtype))


def _models(dtype):
    torch.manual_seed(0)
    return {"mlp": MLP(6, 2, 8, 2).to(dtype), "shared": SharedMLP(symmetric(6), 2, 3, 2).to(dtype),
            "w-asym-zero": WAsymmetricMLP(6, 2, 8, 2, n_fixed=2, fixed_std=0.0, seed=1).to(dtype)}


def test_neuron_balance_is_the_formula_of_the_issue():
    torch.manual_seed(1)
    model = MLP(5, 3, 7, 3)
    balances = neuron_balance(model)
    assert [b.shape for b in balances] == [(7,)] * 3
    for layer in range(3):
        W, b, W_next = model.layers[layer].weight, model.layers[layer].bias, model.layers[layer + 1].weight
        expected = W.pow(2).sum(1) + b.pow(2) - W_next.pow(2).sum(0)
        torch.testing.assert_close(balances[layer], expected.detach())


def test_rescaling_changes_the_balance_by_the_squared_scale():
    torch.manual_seed(2)
    model = MLP(4, 2, 5, 1)
    scale = torch.tensor([0.5, 1.0, 2.0, 3.0, 1.5])
    moved = rescale_hidden(model, [scale])
    incoming = model.layers[0].weight.pow(2).sum(1) + model.layers[0].bias.pow(2)
    outgoing = model.layers[1].weight.pow(2).sum(0)
    expected = scale ** 2 * incoming - outgoing / scale ** 2
    torch.testing.assert_close(neuron_balance(moved)[0], expected.detach())


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("family", ["mlp", "shared", "w-asym-zero"])
@pytest.mark.parametrize("optimizer, weight_decay, batch_size", [("gd", 0.0, None), ("gd", 0.1, None),
                                                                  ("sgd", 0.05, 8)])
def test_one_step_drift_is_exactly_predicted(dtype, family, optimizer, weight_decay, batch_size):
    X, y = _data(dtype)
    run = balance_trajectory(_models(dtype)[family], X, y, steps=30, lr=0.2, optimizer=optimizer,
                             weight_decay=weight_decay, batch_size=batch_size, seed=3)
    measured, predicted = run["measured"], run["predicted"]
    scale = np.abs(measured).max()
    assert np.abs(predicted - measured[1:]).max() <= RTOL[dtype] * scale
    step = np.abs(np.diff(measured, axis=0)).max()
    assert step > 10 * RTOL[dtype] * scale  # the balance does move: the check is not vacuous


def test_the_penalty_shrinks_the_balance_by_the_square_of_one_minus_rate_times_decay():
    X, y = _data(torch.float64)
    model = _models(torch.float64)["mlp"]
    zero = {name: torch.zeros_like(p) for name, p in model.named_parameters()}
    after = balance_after_step(model, zero, lr=0.1, weight_decay=0.5)
    for q_after, q in zip(after, neuron_balance(model), strict=True):
        torch.testing.assert_close(q_after, (1 - 0.05) ** 2 * q)


def test_without_penalty_the_flow_limit_conserves_the_balance():
    X, y = _data(torch.float64)
    drift = []
    for lr in (0.02, 0.01):  # same time t = lr * steps: the drift is O(lr)
        run = balance_trajectory(_models(torch.float64)["mlp"], X, y, steps=int(2 / lr), lr=lr)
        drift.append(np.abs(run["measured"][-1] - run["measured"][0]).max())
    assert drift[1] < 0.7 * drift[0]


def test_deep_linear_matrix_is_conserved_to_second_order_and_its_step_is_exact():
    X, y = _data(torch.float64)
    torch.manual_seed(5)
    model = MLP(6, 2, 5, 3, activation="identity").double()
    matrices = linear_balance(model)
    assert [m.shape for m in matrices] == [(5, 5)] * 3
    torch.testing.assert_close(torch.diagonal(matrices[0]), neuron_balance(model)[0])
    run = balance_trajectory(model, X, y, steps=20, lr=0.05, matrix=True)
    assert np.abs(run["predicted"] - run["measured"][1:]).max() <= 1e-12 * np.abs(run["measured"]).max()


def test_momentum_and_adam_have_no_prediction():
    X, y = _data(torch.float64)
    for optimizer in ("momentum", "adam"):
        run = balance_trajectory(_models(torch.float64)["mlp"], X, y, steps=3, lr=0.01, optimizer=optimizer)
        assert run["predicted"] is None and run["measured"].shape == (4, 16)


def test_rescalable_units_per_family():
    torch.manual_seed(0)
    assert all(u.all() for u in rescalable_units(MLP(6, 2, 8, 2)))
    assert all(u.all() for u in rescalable_units(MLP(6, 2, 8, 2, activation="identity")))
    assert [len(u) for u in rescalable_units(SharedMLP(symmetric(6), 2, 3, 2))] == [3, 3]
    for model in (MLP(6, 2, 8, activation="gelu"), MLP(6, 2, 8, layer_norm=True),
                  MLP(6, 2, 8, activation="scalar-gate"), SigmaAsymmetricMLP(6, 2, 8, seed=0),
                  WAsymmetricMLP(6, 2, 8, n_fixed=1, fixed_std=0.5, seed=0)):
        assert not any(u.any() for u in rescalable_units(model))
    assert all(u.all() for u in rescalable_units(WAsymmetricMLP(6, 2, 8, n_fixed=1, fixed_std=0.0, seed=0)))


def test_a_w_asymmetric_unit_keeps_its_symmetry_only_without_fixed_nonzero_entries():
    torch.manual_seed(0)
    model = WAsymmetricMLP(6, 2, 8, 2, n_fixed=1, fixed_std=0.0, seed=0)
    with torch.no_grad():  # one nonzero fixed entry in the incoming row of unit 3 of layer 1
        layer = model.layers[1]
        column = int(torch.nonzero(layer.fixed_mask[3])[0])
        layer.fixed_values[3, column] = 0.7
    units = rescalable_units(model)  # unit 3 of layer 1 (incoming row), the unit it reads (outgoing column)
    assert int((~units[1]).sum()) == 1 and not units[1][3]
    assert int((~units[0]).sum()) == 1 and not units[0][column]
    with pytest.raises(ValueError, match="2 of the 16 hidden units"):
        neuron_balance(model)


@pytest.mark.parametrize("call, error, match", [
    (lambda m: neuron_balance(MLP(4, 1, 3, layer_norm=True)), TypeError, "layer_norm=True has none"),
    (lambda m: linear_balance(m), TypeError, "deep linear network"),
    (lambda m: balance_after_step(m, lr=0.1), ValueError, r"\.grad, but .* have none"),
    (lambda m: balance_after_step(m, {"x": torch.zeros(1)}, lr=0.1), ValueError, "one tensor per parameter"),
    (lambda m: balance_after_step(m, None, lr=-1.0), ValueError, "lr must be a finite number >= 0"),
    (lambda m: balance_trajectory(m, torch.zeros(4, 4), torch.zeros(4, 1), steps=1, lr=0.1, optimizer="x"),
     ValueError, "optimizer must be one of"),
    (lambda m: rescalable_units(torch.nn.Linear(3, 3)), TypeError, "expected an MLP"),
])
def test_bad_inputs(call, error, match):
    with pytest.raises(error, match=match):
        call(MLP(4, 1, 3))
