"""W-Asymmetric and σ-Asymmetric MLPs (Lim et al. 2024): masks, frozen entries, counting, training."""

import subprocess
import sys

import pytest
import torch
from torch.func import functional_call, grad, stack_module_state, vmap

from symsharing.models import MLP, SigmaAsymmetricMLP, WAsymmetricMLP, count_parameters
from symsharing.train import fit, fit_many

DTYPES = [torch.float32, torch.float64]


def w_asym(seed=0, n_fixed=3, width=8, depth=2, init_seed=0):
    torch.manual_seed(init_seed)
    return WAsymmetricMLP(5, 3, width, depth, n_fixed=n_fixed, fixed_std=0.7, seed=seed)


def classification_data(n=64, seed=0):
    generator = torch.Generator().manual_seed(seed)
    return torch.randn(n, 5, generator=generator), torch.randint(3, (n,), generator=generator)


@pytest.mark.parametrize("n_fixed", [0, 1, 3, 5])
def test_every_row_has_n_fixed_frozen_entries(n_fixed):
    model = w_asym(n_fixed=n_fixed)
    for layer in model.layers:
        assert layer.fixed_mask.shape == layer.weight.shape
        assert torch.equal(layer.fixed_mask.sum(dim=1), torch.full((layer.out_features,), n_fixed))
        assert torch.equal(layer.weight[layer.fixed_mask], layer.fixed_values[layer.fixed_mask])


def test_count_parameters_subtracts_the_fixed_entries():
    for depth in (0, 1, 3):
        model = w_asym(n_fixed=4, depth=depth)
        dense = count_parameters(MLP(5, 3, 8, depth))
        rows = sum(layer.out_features for layer in model.layers)
        assert count_parameters(model) == dense - 4 * rows
    assert count_parameters(SigmaAsymmetricMLP(5, 3, 8, seed=0)) == count_parameters(MLP(5, 3, 8))


def test_n_fixed_zero_is_an_mlp_with_the_same_initial_weights():
    torch.manual_seed(3)
    mlp = MLP(5, 3, 8)
    model = w_asym(n_fixed=0, init_seed=3)
    x = classification_data()[0]
    with torch.no_grad():
        torch.testing.assert_close(model(x), mlp(x))


def test_same_seed_same_mask_and_values_other_seed_other_mask():
    a, b, c = w_asym(seed=1, init_seed=0), w_asym(seed=1, init_seed=1), w_asym(seed=2, init_seed=0)
    for la, lb in zip(a.layers, b.layers, strict=True):
        assert torch.equal(la.fixed_mask, lb.fixed_mask) and torch.equal(la.fixed_values, lb.fixed_values)
        assert not torch.equal(la.weight[~la.fixed_mask], lb.weight[~lb.fixed_mask])  # free weights differ
    assert any(not torch.equal(la.fixed_mask, lc.fixed_mask) for la, lc in zip(a.layers, c.layers,
                                                                                strict=True))
    s1, s2 = SigmaAsymmetricMLP(5, 3, 8, seed=4), SigmaAsymmetricMLP(5, 3, 8, seed=4)
    assert torch.equal(s1.gate_matrices, s2.gate_matrices)
    assert not torch.equal(s1.gate_matrices, SigmaAsymmetricMLP(5, 3, 8, seed=5).gate_matrices)


def test_mask_does_not_depend_on_the_global_rng():
    torch.manual_seed(0)
    a = WAsymmetricMLP(5, 3, 8, n_fixed=3, fixed_std=0.7, seed=9)
    torch.manual_seed(1)
    b = WAsymmetricMLP(5, 3, 8, n_fixed=3, fixed_std=0.7, seed=9)
    assert all(torch.equal(la.fixed_mask, lb.fixed_mask) for la, lb in zip(a.layers, b.layers, strict=True))


_PRINT_MASK = ("import torch; from symsharing.models import WAsymmetricMLP, SigmaAsymmetricMLP; "
               "m = WAsymmetricMLP(7, 2, 6, n_fixed=3, fixed_std=1.0, seed=11); "
               "s = SigmaAsymmetricMLP(7, 2, 6, seed=11); "
               "print([l.fixed_mask.int().tolist() for l in m.layers], "
               "[l.fixed_values.tolist() for l in m.layers], s.gate_matrices.tolist())")


def test_same_seed_gives_the_same_mask_in_two_processes():
    outputs = []
    for hash_seed in ("1", "2"):  # Python's str hash differs between these processes
        result = subprocess.run([sys.executable, "-c", _PRINT_MASK], capture_output=True, text=True,
                                check=True, env={"PYTHONHASHSEED": hash_seed, "PATH": ""})
        outputs.append(result.stdout)
    assert outputs[0] == outputs[1] and outputs[0].strip()


@pytest.mark.parametrize("dtype", DTYPES)
def test_fixed_entries_do_not_move_under_fit(dtype):
    model = w_asym(n_fixed=3).to(dtype)
    before = [layer.weight.detach().clone() for layer in model.layers]
    X, y = classification_data()
    history = fit(model, X.to(dtype), y, steps=30, lr=1e-2, batch_size=16)
    assert history["loss"][-1] < history["loss"][0]
    for layer, old in zip(model.layers, before, strict=True):
        assert torch.equal(layer.weight[layer.fixed_mask], old[layer.fixed_mask])
        assert not torch.equal(layer.weight[~layer.fixed_mask], old[~layer.fixed_mask])


def test_fixed_entries_do_not_move_under_fit_many():
    models = [w_asym(seed=k, init_seed=k) for k in range(3)]
    before = [[layer.weight.detach().clone() for layer in m.layers] for m in models]
    fit_many(models, [classification_data(seed=k) for k in range(3)], steps=20, lr=1e-2, batch_size=16)
    for model, old_weights in zip(models, before, strict=True):
        for layer, old in zip(model.layers, old_weights, strict=True):
            assert torch.equal(layer.weight[layer.fixed_mask], old[layer.fixed_mask])


def test_masked_entries_get_zero_gradient_and_work_under_vmap():
    models = [w_asym(seed=1, init_seed=k) for k in range(3)]
    params, buffers = stack_module_state(models)
    x, y = classification_data(8)

    def loss(p, b):
        return torch.nn.functional.cross_entropy(functional_call(models[0], (p, b), (x,)), y)

    grads = vmap(grad(loss))(params, buffers)
    for index, layer in enumerate(models[0].layers):
        assert float(grads[f"layers.{index}.weight"][:, layer.fixed_mask].detach().abs().max()) == 0.0
    outputs = vmap(lambda p, b: functional_call(models[0], (p, b), (x,)))(params, buffers)
    with torch.no_grad():
        torch.testing.assert_close(outputs[2], models[2](x))


def test_sigma_asymmetric_activation_and_vmap():
    torch.manual_seed(0)
    model = SigmaAsymmetricMLP(5, 3, 8, depth=2, seed=0)
    x = classification_data(8)[0]
    with torch.no_grad():
        h = model.layers[0](x)
        expected_hidden = torch.sigmoid(h @ model.gate_matrices[0].T) * h
        torch.testing.assert_close(model.hidden_activation(h, 0), expected_hidden)
    assert model.gate_matrices.shape == (2, 8, 8)
    assert "gate_matrices" not in dict(model.named_parameters())
    params, buffers = stack_module_state([model, SigmaAsymmetricMLP(5, 3, 8, seed=0)])
    outputs = vmap(lambda p, b: functional_call(model, (p, b), (x,)))(params, buffers)
    with torch.no_grad():
        torch.testing.assert_close(outputs[0], model(x))


@pytest.mark.parametrize("dtype", DTYPES)
def test_asymmetric_models_run_in_both_dtypes(dtype):
    x = classification_data(4)[0].to(dtype)
    for model in (w_asym(), SigmaAsymmetricMLP(5, 3, 8, seed=0)):
        assert model.to(dtype)(x).dtype == dtype


def test_bad_arguments_are_rejected():
    with pytest.raises(ValueError, match="n_fixed"):
        WAsymmetricMLP(5, 3, 8, n_fixed=6, fixed_std=1.0, seed=0)  # smallest fan-in is 5
    with pytest.raises(ValueError, match="n_fixed"):
        WAsymmetricMLP(10, 3, 4, n_fixed=5, fixed_std=1.0, seed=0)  # hidden fan-in is 4
    with pytest.raises(ValueError, match="n_fixed"):
        WAsymmetricMLP(5, 3, 8, n_fixed=-1, fixed_std=1.0, seed=0)
    with pytest.raises(TypeError, match="n_fixed"):
        WAsymmetricMLP(5, 3, 8, n_fixed=2.0, fixed_std=1.0, seed=0)
    with pytest.raises(ValueError, match="fixed_std"):
        WAsymmetricMLP(5, 3, 8, n_fixed=2, fixed_std=-1.0, seed=0)
    with pytest.raises(TypeError, match="seed"):
        WAsymmetricMLP(5, 3, 8, n_fixed=2, fixed_std=1.0, seed="a")
    with pytest.raises(TypeError, match="seed"):
        SigmaAsymmetricMLP(5, 3, 8, seed=None)
    with pytest.raises(TypeError):
        WAsymmetricMLP(5, 3, 8, 2, 2, 1.0, 0)  # keyword-only


@pytest.mark.parametrize("dtype", DTYPES)
def test_w_asymmetric_per_layer_counts_and_scales(dtype):
    counts, stds = (2, 4, 1), (1.0, 0.5, 0.25)
    model = WAsymmetricMLP(5, 3, 8, n_fixed=counts, fixed_std=stds, seed=4).to(dtype)
    for layer, count, std in zip(model.layers, counts, stds, strict=True):
        assert (layer.fixed_mask.sum(dim=1) == count).all()
        fixed = layer.fixed_values[layer.fixed_mask]  # (out * count,)
        assert torch.equal(layer.weight.detach()[layer.fixed_mask], fixed)
        assert fixed.abs().max() < 8 * std
    assert model.n_fixed == counts and model.fixed_std == stds
    x = classification_data(4)[0].to(dtype)
    assert model(x).dtype == dtype


def test_w_asymmetric_uniform_sequence_equals_int():
    a = WAsymmetricMLP(5, 3, 8, n_fixed=3, fixed_std=0.7, seed=9)
    b = WAsymmetricMLP(5, 3, 8, n_fixed=[3, 3, 3], fixed_std=[0.7, 0.7, 0.7], seed=9)
    for la, lb in zip(a.layers, b.layers, strict=True):
        assert torch.equal(la.fixed_mask, lb.fixed_mask)


def test_w_asymmetric_per_layer_bad_lengths():
    with pytest.raises(ValueError, match="n_fixed"):
        WAsymmetricMLP(5, 3, 8, n_fixed=(1, 2), fixed_std=1.0, seed=0)
    with pytest.raises(ValueError, match="fixed_std"):
        WAsymmetricMLP(5, 3, 8, n_fixed=1, fixed_std=(1.0,), seed=0)
    with pytest.raises(ValueError, match="n_fixed"):
        WAsymmetricMLP(5, 3, 8, n_fixed=(1, 9, 1), fixed_std=1.0, seed=0)  # hidden fan-in is 8
