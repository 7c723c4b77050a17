"""Tests for symsharing.sharing: equivariance, parameter counts, fast paths, completeness, readout."""

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from strategies import groups

from symsharing.groups import (
    PermutationGroup,
    cyclic,
    dihedral,
    grid_dihedral,
    reflection,
    symmetric,
    trivial,
)
from symsharing.sharing import InvariantReadout, SharedLinear, fast_path
from symsharing.testing import assert_equivariant, assert_invariant

DTYPES = [torch.float32, torch.float64]
channels = st.integers(1, 4)
seeds = st.integers(0, 2**31 - 1)


def permutation_matrix(g: torch.Tensor) -> torch.Tensor:
    """``P`` with ``(P x)[g[i]] = x[i]``, i.e. ``P @ x == G.act(g, x)``."""
    n = len(g)
    matrix = torch.zeros(n, n, dtype=torch.float64)
    matrix[g, torch.arange(n)] = 1.0
    return matrix


def equivariant_basis(group: PermutationGroup) -> torch.Tensor:
    """Basis (rows, flattened n*n) of the matrices with ``P_g W = W P_g`` for every generator, by SVD."""
    n = group.n
    eye = torch.eye(n * n, dtype=torch.float64)
    # vec(P W P^T) = (P kron P) vec(W) for row-major flattening.
    constraints = torch.cat([torch.kron(permutation_matrix(g), permutation_matrix(g)) - eye
                             for g in group.generators])
    _, singular, vh = torch.linalg.svd(constraints)
    rank = int((singular > 1e-9).sum())
    return vh[rank:]


@pytest.mark.parametrize("dtype", DTYPES)
@given(group=groups(), c_in=channels, c_out=channels, bias=st.booleans(), seed=seeds)
def test_shared_linear_is_equivariant(dtype, group, c_in, c_out, bias, seed):
    torch.manual_seed(seed)
    layer = SharedLinear(group, c_in, c_out, bias=bias).to(dtype)
    x = torch.randn(5, c_in, group.n, dtype=dtype)
    y = layer(x)
    assert y.shape == (5, c_out, group.n) and y.dtype == dtype
    assert_equivariant(layer, group, x)


@given(group=groups(), c_in=channels, c_out=channels, bias=st.booleans())
def test_parameter_count(group, c_in, c_out, bias):
    layer = SharedLinear(group, c_in, c_out, bias=bias)
    expected = c_out * c_in * group.n_pair_orbits() + (c_out * len(group.orbits()) if bias else 0)
    assert sum(p.numel() for p in layer.parameters()) == expected
    assert layer.weight.shape == (c_out, c_in, group.n_pair_orbits())


@pytest.mark.parametrize(
    ("group", "path"),
    [(symmetric(n), "deepsets") for n in range(2, 9)]
    + [(cyclic(n), "circular") for n in (*range(3, 17), 33, 40)]  # conv1d above CIRCULAR_DENSE_UP_TO
    + [(trivial(4), "generic"), (dihedral(6), "generic"), (grid_dihedral(3), "generic"),
       (reflection(5), "generic"), (symmetric(1), "generic")],
    ids=lambda value: value.name if isinstance(value, PermutationGroup) else value,
)
@pytest.mark.parametrize("dtype", DTYPES)
def test_fast_paths_equal_the_generic_construction(group, path, dtype):
    torch.manual_seed(0)
    layer = SharedLinear(group, 3, 2).to(dtype)
    assert layer.path == path == fast_path(group)
    x = torch.randn(6, 3, group.n, dtype=dtype)
    fast = layer(x)
    layer.path = "generic"
    generic = layer(x)
    tolerance = 1e-5 if dtype == torch.float32 else 1e-12
    torch.testing.assert_close(fast, generic, atol=tolerance, rtol=tolerance)
    fast.sum().backward()  # gradients flow through the fast path too


@given(group=groups(min_points=2), seed=seeds)
def test_any_chosen_path_equals_generic(group, seed):
    torch.manual_seed(seed)
    layer = SharedLinear(group, 2, 3).double()
    x = torch.randn(4, 2, group.n, dtype=torch.float64)
    chosen = layer(x)
    layer.path = "generic"
    torch.testing.assert_close(chosen, layer(x), atol=1e-12, rtol=1e-12)


@given(group=groups())
def test_tied_weights_span_exactly_the_equivariant_maps(group):
    n, n_pair = group.n, group.n_pair_orbits()
    layer = SharedLinear(group, 1, 1, bias=False).double()
    # The tied weights: the image of theta -> W is spanned by one indicator matrix per pair orbit.
    tied = torch.stack([torch.nn.functional.one_hot(torch.tensor(k), n_pair).double()[layer.pair_orbits]
                        for k in range(n_pair)]).reshape(n_pair, n * n)
    equivariant = equivariant_basis(group)
    assert len(equivariant) == n_pair  # dimension of the space of equivariant maps
    assert int(torch.linalg.matrix_rank(tied, atol=1e-9)) == n_pair
    # Same space: stacking both bases does not raise the rank.
    assert int(torch.linalg.matrix_rank(torch.cat([tied, equivariant]), atol=1e-9)) == n_pair
    # And dense_weight() builds exactly the tied matrix for a given theta.
    with torch.no_grad():
        layer.weight.copy_(torch.randn(1, 1, n_pair, dtype=torch.float64))
    expected = (layer.weight.reshape(n_pair) @ tied).reshape(n, n)
    torch.testing.assert_close(layer.dense_weight()[0, 0], expected)


@given(group=groups(), seed=seeds)
def test_every_equivariant_map_is_representable(group, seed):
    generator = torch.Generator().manual_seed(seed)
    elements = group.elements()
    random = torch.randn(group.n, group.n, generator=generator, dtype=torch.float64)
    # Group averaging projects any matrix onto the equivariant ones.
    target = torch.stack([permutation_matrix(g) @ random @ permutation_matrix(g).T for g in elements]).mean(0)
    layer = SharedLinear(group, 1, 1, bias=False).double()
    pair_orbits = layer.pair_orbits.flatten()
    sums = torch.zeros(group.n_pair_orbits(), dtype=torch.float64)
    sums.index_add_(0, pair_orbits, target.flatten())
    theta = sums / torch.bincount(pair_orbits).double()  # the mean of the target over each pair orbit
    with torch.no_grad():
        layer.weight.copy_(theta.reshape(1, 1, -1))
    torch.testing.assert_close(layer.dense_weight()[0, 0], target, atol=1e-12, rtol=0)


@pytest.mark.parametrize("dtype", DTYPES)
@given(group=groups(), c_in=channels, out_features=channels, seed=seeds)
def test_invariant_readout_is_invariant(dtype, group, c_in, out_features, seed):
    torch.manual_seed(seed)
    readout = InvariantReadout(group, c_in, out_features).to(dtype)
    x = torch.randn(5, c_in, group.n, dtype=dtype)
    assert readout(x).shape == (5, out_features)
    assert_invariant(readout, group, x)


def test_invariant_readout_parameter_count():
    group = grid_dihedral(3)  # orbits: 4 corners, 4 edges, the centre
    readout = InvariantReadout(group, 4, 2)
    assert sum(p.numel() for p in readout.parameters()) == 4 * 3 * 2 + 2


def test_non_invariant_readout_is_caught():
    """The readout pools per orbit: a group with more symmetry than the pooling respects fails the check."""
    readout = InvariantReadout(trivial(4), 1, 1).double()
    with pytest.raises(AssertionError, match="not invariant"):
        assert_invariant(readout, symmetric(4), torch.randn(3, 1, 4, dtype=torch.float64))


@pytest.mark.parametrize(
    ("make", "x", "error", "message"),
    [
        (lambda: SharedLinear(cyclic(4), 2, 3), torch.zeros(5, 4), ValueError,
         r"SharedLinear expects input \[batch, 2, 4\], got \(5, 4\)"),
        (lambda: SharedLinear(cyclic(4), 2, 3), torch.zeros(5, 3, 4), ValueError, r"got \(5, 3, 4\)"),
        (lambda: SharedLinear(cyclic(4), 2, 3), [[0.0] * 4] * 2, TypeError, r"torch.Tensor, got list"),
        (lambda: SharedLinear(cyclic(4), 2, 3), torch.zeros(5, 2, 4, dtype=torch.float64), TypeError,
         r"dtype torch.float64 .*parameters are torch.float32"),
        (lambda: InvariantReadout(cyclic(4), 2, 3), torch.zeros(5, 2, 5), ValueError,
         r"InvariantReadout expects input \[batch, 2, 4\], got \(5, 2, 5\)"),
        (lambda: InvariantReadout(cyclic(4), 2, 3), torch.zeros(5, 2, 4, dtype=torch.long), TypeError,
         r"floating-point"),
    ],
)
def test_forward_rejects_bad_inputs(make, x, error, message):
    with pytest.raises(error, match=message):
        make()(x)


@pytest.mark.parametrize(
    ("args", "error", "message"),
    [
        (("not a group", 1, 1), TypeError, r"group must be a PermutationGroup, got str"),
        ((cyclic(3), 0, 1), ValueError, r"in_channels must be >= 1, got 0"),
        ((cyclic(3), 1, -2), ValueError, r"out_channels must be >= 1, got -2"),
        ((cyclic(3), 1.5, 1), TypeError, r"in_channels must be an int, got 1.5"),
    ],
)
def test_constructor_rejects_bad_arguments(args, error, message):
    with pytest.raises(error, match=message):
        SharedLinear(*args)
