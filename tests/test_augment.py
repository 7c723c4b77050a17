"""Tests for symsharing.study.augment: every row moved by an element of the group, reproducibly."""

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from strategies import brute_force_elements, generator_lists

from symsharing.groups import PermutationGroup, cyclic, symmetric
from symsharing.study.augment import augment


@given(generator_lists(), st.integers(0, 2**31 - 1))
def test_each_row_moved_by_a_group_element(generators, seed):
    group = PermutationGroup(generators)
    n = group.n
    x = torch.arange(8 * n, dtype=torch.float64).reshape(8, n)  # distinct values: the move is readable
    moved = augment(group, x, torch.Generator().manual_seed(seed))
    assert moved.shape == x.shape and moved.dtype == x.dtype
    members = brute_force_elements(generators)
    for row, original in zip(moved, x, strict=True):
        assert sorted(row.tolist()) == sorted(original.tolist())  # the multiset of values is kept
        # moved[g[i]] = x[i]: recover g from where each value went, and check it is in the group.
        g = tuple(int(torch.nonzero(row == value)[0, 0]) for value in original)
        assert g in members


def test_augment_is_reproducible_and_varies():
    group = symmetric(6)
    x = torch.randn(50, 6)
    first = augment(group, x, torch.Generator().manual_seed(1))
    assert torch.equal(first, augment(group, x, torch.Generator().manual_seed(1)))
    assert not torch.equal(first, augment(group, x, torch.Generator().manual_seed(2)))
    assert not torch.equal(first, x)


def test_augment_keeps_channels_together():
    group = cyclic(4)
    x = torch.randn(3, 2, 4)  # [batch, channels, n]: both channels move by the same element
    moved = augment(group, x, torch.Generator().manual_seed(0))
    for k in range(3):
        shift = int(torch.nonzero(moved[k, 0] == x[k, 0, 0])[0, 0])
        assert torch.equal(moved[k], torch.roll(x[k], shift, dims=-1))


@pytest.mark.parametrize(
    ("group", "x", "error", "message"),
    [
        ("C4", torch.zeros(2, 4), TypeError, r"augment_group must be a PermutationGroup, got str"),
        (cyclic(4), torch.zeros(2, 5), ValueError, r"needs x of shape \[batch, \.\.\., 4\], got \(2, 5\)"),
        (cyclic(4), torch.zeros(4), ValueError, r"got \(4,\)"),
    ],
)
def test_augment_rejects_bad_inputs(group, x, error, message):
    with pytest.raises(error, match=message):
        augment(group, x)
