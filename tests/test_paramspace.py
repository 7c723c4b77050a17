"""Parameter-space symmetries: exactness, weight matching, interpolation, loss barrier, bad input."""

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from symsharing.groups import cyclic, symmetric
from symsharing.models import MLP, SharedMLP, SigmaAsymmetricMLP, WAsymmetricMLP
from symsharing.paramspace import (
    channel_matching,
    interpolate,
    interpolation_curve,
    loss_barrier,
    permutation_group_order,
    permute_hidden,
    rescale_hidden,
    roll_channels,
    rotation_matching,
    weight_matching,
)
from symsharing.testing import default_tolerance

DTYPES = [torch.float32, torch.float64]


def make_mlp(seed=0, n_in=6, n_out=3, width=10, depth=2, dtype=torch.float32):
    torch.manual_seed(seed)
    return MLP(n_in, n_out, width, depth).to(dtype)


def random_perms(model, seed, sizes=None):
    generator = torch.Generator().manual_seed(seed)
    sizes = sizes or [model.width] * model.depth
    return [torch.randperm(size, generator=generator) for size in sizes]


def parameters_equal(a, b) -> bool:
    return all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters(), strict=True))


@pytest.mark.parametrize("dtype", DTYPES)
@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), depth=st.integers(1, 3), width=st.integers(1, 12))
def test_permute_hidden_keeps_the_function(dtype, seed, depth, width):
    model = make_mlp(seed, width=width, depth=depth, dtype=dtype)
    x = torch.randn(32, 6, generator=torch.Generator().manual_seed(seed)).to(dtype)
    moved = permute_hidden(model, random_perms(model, seed))
    with torch.no_grad():
        expected = model(x)
        assert float((moved(x) - expected).abs().max()) <= default_tolerance(expected)


@pytest.mark.parametrize("dtype", DTYPES)
@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), depth=st.integers(1, 3),
       log_scale=st.floats(-3.0, 3.0, allow_nan=False))
def test_rescale_hidden_keeps_the_function(dtype, seed, depth, log_scale):
    model = make_mlp(seed, depth=depth, dtype=dtype)
    generator = torch.Generator().manual_seed(seed)
    scales = [torch.exp(log_scale * torch.rand(10, generator=generator)) for _ in range(depth)]
    x = torch.randn(32, 6, generator=generator).to(dtype)
    moved = rescale_hidden(model, scales)
    with torch.no_grad():
        expected = model(x)
        assert float((moved(x) - expected).abs().max()) <= 10 * default_tolerance(expected)


def test_permute_hidden_follows_the_convention_and_copies():
    model = make_mlp()
    before = [p.clone() for p in model.parameters()]
    perms = random_perms(model, 3)
    moved = permute_hidden(model, perms)
    # new unit i of hidden layer 0 is old unit perms[0][i]
    assert torch.equal(moved.layers[0].weight, model.layers[0].weight[perms[0]])
    assert torch.equal(moved.layers[0].bias, model.layers[0].bias[perms[0]])
    assert torch.equal(moved.layers[1].weight, model.layers[1].weight[perms[1]][:, perms[0]])
    assert torch.equal(moved.layers[2].weight, model.layers[2].weight[:, perms[1]])
    assert all(torch.equal(p, q) for p, q in zip(model.parameters(), before, strict=True))
    assert moved is not model


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("seed", [0, 1, 2, 3, 4])
def test_weight_matching_recovers_a_planted_permutation(dtype, seed):
    model = make_mlp(seed, width=16, depth=3, dtype=dtype)
    planted = random_perms(model, seed + 100)
    shuffled = permute_hidden(model, planted)
    perms = weight_matching(model, shuffled)
    assert parameters_equal(permute_hidden(shuffled, perms), model)
    assert all(torch.equal(p[q], torch.arange(16)) for p, q in zip(planted, perms, strict=True))


def test_perms_and_scales_may_come_as_one_2d_tensor():
    model = make_mlp()
    perms = random_perms(model, 5)
    scales = torch.rand(2, 10) + 0.5
    assert parameters_equal(permute_hidden(model, torch.stack(perms)), permute_hidden(model, perms))
    assert parameters_equal(rescale_hidden(model, scales), rescale_hidden(model, list(scales)))
    assert parameters_equal(permute_hidden(model, [p.tolist() for p in perms]), permute_hidden(model, perms))


def test_weight_matching_of_a_model_with_itself_is_the_identity():
    model = make_mlp(width=12)
    assert all(torch.equal(p, torch.arange(12)) for p in weight_matching(model, model))


def test_weight_matching_brings_two_trained_looking_models_closer():
    a, b = make_mlp(0, width=20), make_mlp(1, width=20)
    aligned = permute_hidden(b, weight_matching(a, b))

    def distance(x, y):
        pairs = zip(x.parameters(), y.parameters(), strict=True)
        return sum(float((p - q).detach().pow(2).sum()) for p, q in pairs)

    assert distance(a, aligned) < distance(a, b)


@pytest.mark.parametrize("group", [symmetric(5), cyclic(6)], ids=["S5", "C6"])
def test_channel_permutation_of_shared_mlp_is_exact_and_recovered(group):
    torch.manual_seed(0)
    model = SharedMLP(group, 3, 8, depth=2)
    x = torch.randn(16, group.n)
    planted = random_perms(model, 7, sizes=[8, 8])
    shuffled = permute_hidden(model, planted)
    with torch.no_grad():
        assert float((shuffled(x) - model(x)).abs().max()) <= default_tolerance(model(x))
        rescaled = rescale_hidden(model, [torch.rand(8) + 0.5, torch.rand(8) + 0.5])
        assert float((rescaled(x) - model(x)).abs().max()) <= 10 * default_tolerance(model(x))
    assert parameters_equal(permute_hidden(shuffled, channel_matching(model, shuffled)), model)


def test_permutations_are_not_symmetries_of_the_asymmetric_networks():
    x = torch.randn(64, 6, generator=torch.Generator().manual_seed(0))
    torch.manual_seed(0)
    for model in (WAsymmetricMLP(6, 3, 10, n_fixed=3, fixed_std=1.0, seed=0),
                  SigmaAsymmetricMLP(6, 3, 10, seed=0)):
        moved = permute_hidden(model, random_perms(model, 1))
        with torch.no_grad():
            assert float((moved(x) - model(x)).abs().max()) > 1e-3


def test_permuting_a_w_asymmetric_network_keeps_its_fixed_entries():
    torch.manual_seed(0)
    model = WAsymmetricMLP(6, 3, 10, n_fixed=3, fixed_std=1.0, seed=0)
    moved = permute_hidden(model, random_perms(model, 1))
    for layer in moved.layers:
        assert torch.equal(layer.weight[layer.fixed_mask], layer.fixed_values[layer.fixed_mask])


def test_permutation_group_order():
    assert permutation_group_order(MLP(3, 2, 5, depth=3)) == math.factorial(5) ** 3
    assert permutation_group_order(MLP(3, 2, 5, depth=0)) == 1
    assert permutation_group_order(SharedMLP(cyclic(4), 2, 4, depth=2)) == math.factorial(4) ** 2


@pytest.mark.parametrize("model_type", ["mlp", "w-asym", "sigma-asym", "shared"])
def test_interpolate_endpoints_equal_the_inputs(model_type):
    def build(seed):
        torch.manual_seed(seed)
        return {"mlp": lambda: MLP(6, 3, 10),
                "w-asym": lambda: WAsymmetricMLP(6, 3, 10, n_fixed=2, fixed_std=1.0, seed=5),
                "sigma-asym": lambda: SigmaAsymmetricMLP(6, 3, 10, seed=5),
                "shared": lambda: SharedMLP(symmetric(6), 3, 4)}[model_type]()

    a, b = build(0), build(1)
    assert parameters_equal(interpolate(a, b, 0.0), a)
    assert parameters_equal(interpolate(a, b, 1), b)
    middle = interpolate(a, b, 0.5)
    for p, q, r in zip(middle.parameters(), a.parameters(), b.parameters(), strict=True):
        torch.testing.assert_close(p, 0.5 * q + 0.5 * r)
    assert middle is not a and middle is not b


def test_interpolating_w_asymmetric_networks_moves_only_free_weights():
    torch.manual_seed(0)
    a = WAsymmetricMLP(6, 3, 10, n_fixed=3, fixed_std=1.0, seed=2)
    b = WAsymmetricMLP(6, 3, 10, n_fixed=3, fixed_std=1.0, seed=2)
    middle = interpolate(a, b, 0.3)
    for layer in middle.layers:
        assert torch.equal(layer.weight[layer.fixed_mask], layer.fixed_values[layer.fixed_mask])


@pytest.mark.parametrize("dtype", DTYPES)
def test_loss_barrier_is_zero_for_identical_and_for_aligned_models(dtype):
    model = make_mlp(dtype=dtype)
    X = torch.randn(50, 6, generator=torch.Generator().manual_seed(0)).to(dtype)
    y_class = torch.randint(3, (50,), generator=torch.Generator().manual_seed(1))
    y_regression = torch.randn(50, 3, generator=torch.Generator().manual_seed(2)).to(dtype)
    for y in (y_class, y_regression):
        assert abs(loss_barrier(model, model, X, y)) <= 1e-5
        permuted = permute_hidden(model, random_perms(model, 4))  # same function, other weights
        assert loss_barrier(model, permuted, X, y, n_points=5) > 1e-4  # the midpoint is not it
        aligned = permute_hidden(permuted, weight_matching(model, permuted))
        assert abs(loss_barrier(model, aligned, X, y, n_points=5)) <= 1e-5


def test_loss_barrier_of_a_pair_is_non_negative_and_matches_the_curve():
    a, b = make_mlp(0), make_mlp(1)
    X = torch.randn(50, 6, generator=torch.Generator().manual_seed(0))
    y = torch.randint(3, (50,), generator=torch.Generator().manual_seed(1))
    barrier = loss_barrier(a, b, X, y, n_points=11)
    assert barrier >= 0.0  # alpha = 0 and 1 contribute exactly 0
    curve = interpolation_curve(a, b, X, y, n_points=11)
    alphas = np.linspace(0, 1, 11)
    line = (1 - alphas) * curve["loss"][0] + alphas * curve["loss"][-1]
    assert barrier == pytest.approx(float(np.max(np.array(curve["loss"]) - line)))
    with torch.no_grad():
        expected = float(torch.nn.functional.cross_entropy(interpolate(a, b, 0.5)(X), y))
    assert curve["loss"][5] == pytest.approx(expected)
    assert curve["alpha"] == pytest.approx(list(alphas))


def test_bad_input_is_rejected_by_name():
    model = make_mlp()
    good = random_perms(model, 0)
    with pytest.raises(ValueError, match="one per hidden layer"):
        permute_hidden(model, good[:1])
    with pytest.raises(ValueError, match="not a permutation"):
        permute_hidden(model, [torch.zeros(10, dtype=torch.long), good[1]])
    with pytest.raises(ValueError, match="not a permutation"):
        permute_hidden(model, [torch.arange(9), good[1]])
    with pytest.raises(TypeError):
        permute_hidden(model, torch.arange(10))
    with pytest.raises(ValueError, match="positive"):
        rescale_hidden(model, [torch.ones(10), -torch.ones(10)])
    with pytest.raises(ValueError, match="positive"):
        rescale_hidden(model, [torch.ones(10), torch.zeros(10)])
    with pytest.raises(ValueError, match="one per hidden layer"):
        rescale_hidden(model, [torch.ones(10)])
    with pytest.raises(ValueError, match="mismatched"):
        weight_matching(model, make_mlp(width=11))
    with pytest.raises(TypeError):
        weight_matching(model, SharedMLP(symmetric(6), 3, 10))
    with pytest.raises(TypeError):
        permute_hidden(torch.nn.Linear(3, 3), [])
    with pytest.raises(TypeError, match="alpha"):
        interpolate(model, model, "half")
    with pytest.raises(TypeError, match="alpha"):
        interpolate(model, model, None)
    with pytest.raises(ValueError, match="n_points"):
        loss_barrier(model, model, torch.randn(4, 6), torch.zeros(4, dtype=torch.long), n_points=1)
    a = WAsymmetricMLP(6, 3, 10, n_fixed=2, fixed_std=1.0, seed=0)
    b = WAsymmetricMLP(6, 3, 10, n_fixed=2, fixed_std=1.0, seed=1)
    with pytest.raises(ValueError, match="fixed buffer"):
        interpolate(a, b, 0.5)


@pytest.mark.parametrize("dtype", DTYPES)
def test_rolling_channels_of_a_circular_shared_mlp_is_exact_and_recovered(dtype):
    torch.manual_seed(0)
    model = SharedMLP(cyclic(8), 2, 5, depth=2).to(dtype)
    x = torch.randn(10, 8, generator=torch.Generator().manual_seed(0)).to(dtype)
    generator = torch.Generator().manual_seed(1)
    shifts = [torch.randint(8, (5,), generator=generator) for _ in range(2)]
    planted = random_perms(model, 2, sizes=[5, 5])
    moved = roll_channels(permute_hidden(model, planted), shifts)
    with torch.no_grad():
        assert float((moved(x) - model(x)).abs().max()) <= default_tolerance(model(x))
    assert not parameters_equal(moved, model)
    perms, found = rotation_matching(model, moved)
    assert parameters_equal(roll_channels(permute_hidden(moved, perms), found), model)


def test_roll_channels_rejects_other_models_and_bad_shifts():
    with pytest.raises(TypeError, match="circular"):
        roll_channels(make_mlp(), [[0] * 10, [0] * 10])
    with pytest.raises(TypeError, match="circular"):
        rotation_matching(SharedMLP(symmetric(5), 2, 3), SharedMLP(symmetric(5), 2, 3))
    with pytest.raises(ValueError, match="integers"):
        roll_channels(SharedMLP(cyclic(6), 2, 3), [[0.5, 0, 0], [0, 0, 0]])
