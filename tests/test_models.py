"""Tests for symsharing.models (MLP, SharedMLP, count_parameters): shapes, invariance, counts, errors."""

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from strategies import groups

from symsharing.groups import cyclic, grid_dihedral, symmetric, trivial
from symsharing.models import MLP, SharedMLP, SigmaAsymmetricMLP, WAsymmetricMLP, count_parameters
from symsharing.sharing import SharedLinear
from symsharing.testing import assert_invariant

DTYPES = [torch.float32, torch.float64]
seeds = st.integers(0, 2**31 - 1)


def relative_error(actual: torch.Tensor, expected: torch.Tensor) -> float:
    return float((actual - expected).abs().max() / expected.abs().max().clamp_min(1.0))


@pytest.mark.parametrize("dtype", DTYPES)
@given(group=groups(), n_out=st.integers(1, 3), channels=st.integers(1, 5), depth=st.integers(0, 3),
       seed=seeds)
def test_shared_mlp_is_invariant(dtype, group, n_out, channels, depth, seed):
    torch.manual_seed(seed)
    model = SharedMLP(group, n_out, channels, depth).to(dtype)
    x = 3 * torch.randn(6, group.n, dtype=dtype)
    with torch.no_grad():
        output = model(x)
    assert output.shape == (6, n_out) and output.dtype == dtype
    bound = {torch.float32: 1e-5, torch.float64: 1e-10}[dtype]
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for g in group.random_elements(8, generator):
            assert relative_error(model(group.act(g, x)), output) <= bound
    assert_invariant(model, group, x)  # the package's check agrees


@given(n_in=st.integers(1, 9), n_out=st.integers(1, 4), width=st.integers(1, 16), depth=st.integers(0, 4),
       batch=st.integers(0, 5))
def test_mlp_shapes_and_parameter_count(n_in, n_out, width, depth, batch):
    model = MLP(n_in, n_out, width, depth)
    assert model(torch.randn(batch, n_in)).shape == (batch, n_out)
    assert len(model.layers) == depth + 1
    if depth == 0:
        expected = n_in * n_out + n_out
    else:
        expected = (n_in * width + width) + (depth - 1) * (width * width + width) + (width * n_out + n_out)
    assert count_parameters(model) == expected
    assert count_parameters(model.double()) == expected


@given(group=groups(), n_out=st.integers(1, 3), channels=st.integers(1, 5), depth=st.integers(0, 3))
def test_shared_mlp_parameter_count(group, n_out, channels, depth):
    model = SharedMLP(group, n_out, channels, depth)
    n_pair, n_orbits = group.n_pair_orbits(), len(group.orbits())
    sizes = [1] + [channels] * depth
    layers = sum(c_out * c_in * n_pair + c_out * n_orbits
                 for c_in, c_out in zip(sizes[:-1], sizes[1:], strict=True))
    readout = sizes[-1] * n_orbits * n_out + n_out
    assert count_parameters(model) == layers + readout
    assert sum(isinstance(m, SharedLinear) for m in model.modules()) == depth


def test_sharing_saves_parameters():
    """Concrete numbers for S_8: two pair orbits and one point orbit, whatever n."""
    model = SharedMLP(symmetric(8), 1, 16, depth=2)
    assert count_parameters(model) == (16 * 1 * 2 + 16) + (16 * 16 * 2 + 16) + (16 + 1)
    assert count_parameters(MLP(8, 1, 16, depth=2)) == (8 * 16 + 16) + (16 * 16 + 16) + (16 + 1)


def test_count_parameters_ignores_frozen_tensors():
    model = MLP(3, 2, 4, depth=1)
    model.layers[0].weight.requires_grad_(False)
    assert count_parameters(model) == 4 + (4 * 2 + 2)


def test_shared_mlp_on_trivial_group_is_not_invariant_under_more():
    torch.manual_seed(0)
    model = SharedMLP(trivial(5), 1, 4).double()
    with pytest.raises(AssertionError, match="not invariant"):
        assert_invariant(model, cyclic(5), torch.randn(4, 5, dtype=torch.float64))


@pytest.mark.parametrize("dtype", DTYPES)
def test_models_train_in_both_dtypes(dtype):
    torch.manual_seed(0)
    for model in (MLP(9, 2, 8), SharedMLP(grid_dihedral(3), 2, 4)):
        model = model.to(dtype)
        loss = model(torch.randn(7, 9, dtype=dtype)).square().mean()
        loss.backward()
        assert all(p.grad is not None and p.grad.dtype == dtype for p in model.parameters())


@pytest.mark.parametrize(
    ("make", "x", "error", "message"),
    [
        (lambda: MLP(4, 2, 8), torch.zeros(3, 5), ValueError,
         r"MLP expects input \[batch, 4\], got \(3, 5\)"),
        (lambda: MLP(4, 2, 8), torch.zeros(4), ValueError, r"MLP expects input \[batch, 4\], got \(4,\)"),
        (lambda: MLP(4, 2, 8), torch.zeros(2, 3, 4), ValueError, r"got \(2, 3, 4\)"),
        (lambda: MLP(4, 2, 8), np.zeros((3, 4), dtype=np.float32), TypeError, r"torch.Tensor, got ndarray"),
        (lambda: MLP(4, 2, 8), torch.zeros(3, 4, dtype=torch.long), TypeError,
         r"floating-point tensor, got dtype torch.int64"),
        (lambda: MLP(4, 2, 8), torch.zeros(3, 4, dtype=torch.float64), TypeError,
         r"input of dtype torch.float64 but its parameters are torch.float32"),
        (lambda: SharedMLP(cyclic(5), 2, 4), torch.zeros(3, 4), ValueError,
         r"SharedMLP expects input \[batch, 5\], got \(3, 4\)"),
        (lambda: SharedMLP(cyclic(5), 2, 4), torch.zeros(3, 1, 5), ValueError, r"got \(3, 1, 5\)"),
        (lambda: SharedMLP(cyclic(5), 2, 4).double(), torch.zeros(3, 5), TypeError,
         r"input of dtype torch.float32 but its parameters are torch.float64"),
    ],
)
def test_shape_errors_caught_at_the_model_boundary(make, x, error, message):
    with pytest.raises(error, match=message):
        make()(x)


@pytest.mark.parametrize(
    ("make", "error", "message"),
    [
        (lambda: MLP(0, 1, 4), ValueError, r"n_in must be >= 1, got 0"),
        (lambda: MLP(4, 0, 4), ValueError, r"n_out must be >= 1, got 0"),
        (lambda: MLP(4, 1, -3), ValueError, r"width must be >= 1, got -3"),
        (lambda: MLP(4, 1, 4, depth=-1), ValueError, r"depth must be >= 0 \(number of hidden layers\)"),
        (lambda: MLP(4, 1, 4.0), TypeError, r"width must be an int, got 4.0"),
        (lambda: MLP(4, 1, 4, depth=True), TypeError, r"depth must be an int, got True"),
        (lambda: SharedMLP([[1, 0]], 1, 4), TypeError, r"group must be a PermutationGroup, got list"),
        (lambda: SharedMLP(cyclic(3), 1, 0), ValueError, r"channels must be >= 1, got 0"),
        (lambda: SharedMLP(cyclic(3), "2", 4), TypeError, r"n_out must be an int, got '2'"),
        (lambda: count_parameters("mlp"), TypeError, r"count_parameters expects a torch.nn.Module, got str"),
    ],
)
def test_constructors_reject_bad_arguments(make, error, message):
    with pytest.raises(error, match=message):
        make()


def test_numpy_integers_are_accepted():
    model = MLP(np.int64(4), np.int64(2), np.int64(8), depth=np.int64(1))
    assert model(torch.zeros(3, 4)).shape == (3, 2) and model.depth == 1 and isinstance(model.n_in, int)
    assert SharedMLP(cyclic(4), np.int64(2), np.int64(3))(torch.zeros(1, 4)).shape == (1, 2)


# --- Lim et al.'s set-up: LayerNorm, GELU and the scalar gate -----------------------------------


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("activation", ["relu", "gelu", "scalar-gate", "identity"])
@pytest.mark.parametrize("layer_norm", [False, True])
def test_activation_and_layer_norm_options(dtype, activation, layer_norm):
    from symsharing.paramspace import permute_hidden, weight_matching
    from symsharing.testing import default_tolerance

    torch.manual_seed(0)
    model = MLP(6, 3, 8, depth=2, activation=activation, layer_norm=layer_norm, gate_scale=2.0).to(dtype)
    x = torch.randn(32, 6, generator=torch.Generator().manual_seed(1)).to(dtype)  # (batch, 6)
    h = model.layers[0](x)
    if layer_norm:
        h = torch.nn.functional.layer_norm(h, (8,))  # the LayerNorm starts as the identity affine
    expected = {"relu": torch.relu(h), "gelu": torch.nn.functional.gelu(h),
                "scalar-gate": torch.sigmoid(2.0 * h) * h, "identity": h}[activation]
    torch.testing.assert_close(model.hidden_activation(model.layers[0](x), 0), expected)
    assert hasattr(model, "norms") == layer_norm
    with torch.no_grad():  # permuting units (LayerNorm's affine included) keeps every function
        if layer_norm:
            for norm in model.norms:
                norm.weight.uniform_(0.5, 1.5)
                norm.bias.normal_()
        perms = [torch.randperm(8, generator=torch.Generator().manual_seed(s)) for s in (2, 3)]
        moved = permute_hidden(model, perms)
        assert float((moved(x) - model(x)).abs().max()) <= default_tolerance(model(x))
    recovered = permute_hidden(moved, weight_matching(model, moved))
    assert all(torch.equal(p, q) for p, q in zip(recovered.parameters(), model.parameters(), strict=True))


def test_scalar_gate_with_unit_scale_is_silu():
    torch.manual_seed(0)
    model = MLP(4, 2, 5, activation="scalar-gate")
    z = torch.randn(7, 5)
    torch.testing.assert_close(model.hidden_activation(z, 0), torch.nn.functional.silu(z))


def test_rescaling_is_rejected_where_it_is_not_a_symmetry():
    from symsharing.paramspace import rescale_hidden

    scales = [torch.ones(5) * 2, torch.ones(5) * 2]
    for model in (MLP(4, 2, 5, activation="gelu"), MLP(4, 2, 5, layer_norm=True),
                  SigmaAsymmetricMLP(4, 2, 5, seed=0)):
        with pytest.raises(TypeError, match="rescale_hidden needs ReLU"):
            rescale_hidden(model, scales)
    rescale_hidden(MLP(4, 2, 5), scales)  # the plain ReLU network is fine


@pytest.mark.parametrize("make, error, message", [
    (lambda: MLP(4, 2, 5, activation="tanh"), ValueError, "activation must be one of"),
    (lambda: MLP(4, 2, 5, layer_norm=1), TypeError, "layer_norm must be True or False"),
    (lambda: MLP(4, 2, 5, activation="scalar-gate", gate_scale=float("nan")), ValueError, "gate_scale"),
    (lambda: WAsymmetricMLP(4, 2, 5, n_fixed=1, fixed_std=1.0, seed=0, activation="elu"), ValueError,
     "activation must be one of"),
])
def test_new_options_reject_bad_values(make, error, message):
    with pytest.raises(error, match=message):
        make()


@pytest.mark.parametrize("make", [
    lambda: MLP(5, 3, 6, activation="gelu", layer_norm=True),
    lambda: WAsymmetricMLP(5, 3, 6, n_fixed=(2, 1, 3), fixed_std=(1.0, 0.5, 0.25), seed=0,
                           activation="gelu", layer_norm=True),
    lambda: SigmaAsymmetricMLP(5, 3, 6, seed=0, layer_norm=True),
])
def test_lim_models_train_the_same_alone_and_stacked(make):
    """fit_many must not take the ReLU kernel for a GELU / LayerNorm network."""
    from symsharing.train import fit, fit_many

    generator = torch.Generator().manual_seed(0)
    X, y = torch.randn(40, 5, generator=generator), torch.randint(3, (40,), generator=generator)
    torch.manual_seed(0)
    alone, stacked = make(), make()
    stacked.load_state_dict(alone.state_dict())
    fit(alone, X, y, steps=15, batch_size=8, seed=4, weight_decay=0.03)
    fit_many([stacked, make()], [(X, y)] * 2, steps=15, batch_size=8, seeds=[4, 5], weight_decay=0.03,
             workers=1)
    for p, q in zip(alone.parameters(), stacked.parameters(), strict=True):
        torch.testing.assert_close(p, q, atol=1e-5, rtol=1e-4)
    assert "activation='relu'" not in repr(alone)
