"""Tests for symsharing.testing: the checks pass on invariant/equivariant maps and fail on others."""

import pytest
import torch
from torch import nn

from symsharing.groups import cyclic, dihedral, reflection, symmetric
from symsharing.models import MLP, SharedMLP
from symsharing.sharing import SharedLinear
from symsharing.testing import assert_equivariant, assert_invariant, default_tolerance


def test_assert_invariant_passes_for_an_invariant_model():
    torch.manual_seed(0)
    group = dihedral(5)
    assert_invariant(SharedMLP(group, 3, 4), group, torch.randn(8, 5))
    assert_invariant(lambda x: x.sum(-1, keepdim=True), symmetric(7), torch.randn(8, 7))


def test_assert_invariant_fails_for_a_non_invariant_model():
    torch.manual_seed(0)
    with pytest.raises(AssertionError, match=r"not invariant under g=\[.*\]: max error"):
        assert_invariant(MLP(5, 3, 16), dihedral(5), torch.randn(8, 5))
    # A map invariant under a subgroup only: x0 + x4 is reflection- but not rotation-invariant.
    def ends(x):
        return x[:, :1] + x[:, 4:]
    assert_invariant(ends, reflection(5), torch.randn(8, 5))
    with pytest.raises(AssertionError, match="not invariant"):
        assert_invariant(ends, cyclic(5), torch.randn(8, 5))


def test_assert_invariant_detects_a_tiny_violation():
    """A violation just above the float64 tolerance is caught; the same one below it is not."""
    x = torch.randn(4, 5, dtype=torch.float64)

    def nearly_invariant(epsilon):
        return lambda inputs: inputs.sum(-1, keepdim=True) + epsilon * inputs[:, :1]

    assert_invariant(nearly_invariant(1e-13), cyclic(5), x)
    with pytest.raises(AssertionError):
        assert_invariant(nearly_invariant(1e-8), cyclic(5), x)


def test_assert_equivariant():
    torch.manual_seed(0)
    group = cyclic(6)
    x = torch.randn(4, 2, 6)
    assert_equivariant(SharedLinear(group, 2, 3), group, x)
    dense = nn.Conv1d(2, 3, kernel_size=3, padding=1)  # zero padding breaks the ring's symmetry
    with pytest.raises(AssertionError, match="not equivariant"):
        assert_equivariant(dense, group, x)
    circular = nn.Conv1d(2, 3, kernel_size=3, padding=1, padding_mode="circular")
    assert_equivariant(circular, group, x)


def test_default_tolerance_is_dtype_aware_and_relative():
    assert default_tolerance(torch.ones(3)) == pytest.approx(1e-5)
    assert default_tolerance(torch.ones(3, dtype=torch.float64)) == pytest.approx(1e-10)
    assert default_tolerance(torch.full((3,), 100.0)) == pytest.approx(1e-3)
    assert default_tolerance(torch.full((3,), 0.01)) == pytest.approx(1e-5)


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"group": "C5"}, TypeError, r"group must be a PermutationGroup, got str"),
        ({"x": [[0.0] * 5]}, TypeError, r"x must be a torch.Tensor, got list"),
        ({"atol": -1.0}, ValueError, r"atol must be None .* or a number >= 0, got -1.0"),
        ({"n_elements": 0}, ValueError, r"n_elements must be >= 1, got 0"),
        ({"model": "mlp"}, TypeError, r"must be callable, got str"),
    ],
)
def test_bad_arguments(kwargs, error, message):
    arguments = {"model": MLP(5, 1, 4), "group": cyclic(5), "x": torch.zeros(2, 5)} | kwargs
    with pytest.raises(error, match=message):
        assert_invariant(**arguments)
