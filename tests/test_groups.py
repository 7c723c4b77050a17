"""Tests for symsharing.groups: validation, order, elements, orbits, pair orbits, action, sampling.

The generator-only algorithms of the package (Schreier–Sims order, union–find orbits, stabilizer
chain sampling) are checked against brute force on random small groups (``strategies.groups``).
"""

import math
from collections import Counter

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from strategies import brute_force_elements, brute_force_orbits, compose, generator_lists, groups

from symsharing.groups import (
    PermutationGroup,
    cyclic,
    dihedral,
    grid_dihedral,
    grid_reflection,
    grid_rotation,
    grid_row_shift,
    reflection,
    symmetric,
    trivial,
)

# ------------------------------------------------------------------------------------ validation


@pytest.mark.parametrize(
    ("generators", "error", "message"),
    [
        ([], ValueError, r"non-empty list"),
        ([[0, 0, 1]], ValueError, r"generator 0 is not a permutation of range\(3\): \[0, 0, 1\]"),
        ([[0, 1, 2], [0, 1, 3]], ValueError, r"generator 1 is not a permutation of range\(3\)"),
        ([[0, 1, 2], [1, 0]], ValueError, r"generator 1 has 2 points, expected 3"),
        ([[0, 1, -1]], ValueError, r"generator 0 is not a permutation"),
        ([[]], ValueError, r"generator 0 is empty"),
        ([[0, 1.0]], TypeError, r"generator 0 must hold ints, got 1\.0"),
        ([[0, True]], TypeError, r"generator 0 must hold ints, got True"),
        ([[1, 0], 3], TypeError, r"generator 1 must be a sequence of ints, got int"),
        (["ab"], TypeError, r"generator 0 must be a sequence of ints, got str"),
        ("0123", TypeError, r"generators must be a non-empty list of permutations, got str"),
        (5, TypeError, r"generators must be a non-empty list of permutations, got int"),
        (torch.tensor([[0.0, 1.0]]), TypeError, r"must hold integers, got a tensor of dtype torch.float32"),
        (torch.zeros(2, 2, 2, dtype=torch.long), ValueError, r"tensor, got shape \(2, 2, 2\)"),
    ],
)
def test_bad_generators_are_named(generators, error, message):
    with pytest.raises(error, match=message):
        PermutationGroup(generators)


def test_generators_accept_lists_arrays_and_tensors():
    rows = [[1, 2, 0], [0, 2, 1]]
    expected = torch.tensor(rows)
    for generators in (rows, np.array(rows), torch.tensor(rows), [np.array(r) for r in rows],
                       [torch.tensor(r) for r in rows], tuple(tuple(r) for r in rows)):
        group = PermutationGroup(generators)
        assert group.generators.dtype == torch.long and torch.equal(group.generators, expected)
        assert group.n == 3 and group.order() == 6
    assert PermutationGroup(torch.tensor([2, 0, 1])).order() == 3  # a single generator as a 1-d tensor


# ------------------------------------------------------------------------------------ order, elements


@given(generator_lists())
def test_order_equals_brute_force(generators):
    assert PermutationGroup(generators).order() == len(brute_force_elements(generators))


def test_order_of_large_symmetric_group_without_enumeration():
    assert symmetric(20).order() == math.factorial(20)


@given(generator_lists())
def test_elements_are_the_group(generators):
    group = PermutationGroup(generators)
    elements = group.elements()
    assert elements.dtype == torch.long and elements.shape == (group.order(), group.n)
    rows = [tuple(row) for row in elements.tolist()]
    assert len(set(rows)) == len(rows)  # distinct
    assert rows[0] == tuple(range(group.n))  # identity first
    assert rows == sorted(rows)  # lexicographic
    as_set = set(rows)
    assert as_set == brute_force_elements(generators)
    # Closed under composition: every product with a generator, and a sample of products of pairs.
    generator_rows = [tuple(row) for row in group.generators.tolist()]
    assert all(compose(g, h) in as_set for g in rows for h in generator_rows)
    assert all(compose(h, g) in as_set for g in rows for h in generator_rows)
    pick = np.random.default_rng(0).integers(len(rows), size=(200, 2))
    assert all(compose(rows[a], rows[b]) in as_set for a, b in pick)


def test_elements_limit():
    with pytest.raises(ValueError, match=r"order 40320, more than limit=1000"):
        symmetric(8).elements(limit=1000)
    assert symmetric(8).elements(limit=40320).shape == (40320, 8)
    with pytest.raises(ValueError, match=r"order 2432902008176640000, more than limit=100000"):
        symmetric(20).elements()


# ------------------------------------------------------------------------------------ orbits


@given(generator_lists())
def test_orbits_equal_brute_force(generators):
    group = PermutationGroup(generators)
    elements = brute_force_elements(generators)
    expected = brute_force_orbits(elements, [(i,) for i in range(group.n)])
    expected = sorted((sorted(i for (i,) in orbit) for orbit in expected), key=lambda orbit: orbit[0])
    assert group.orbits() == expected
    index = group.orbit_index()
    for orbit_id, orbit in enumerate(expected):
        assert index[orbit].eq(orbit_id).all()
    assert group.is_transitive() == (len(expected) == 1)


@given(generator_lists())
def test_pair_orbits_equal_brute_force(generators):
    group = PermutationGroup(generators)
    n = group.n
    pair_orbits = group.pair_orbits()
    assert pair_orbits.dtype == torch.long and pair_orbits.shape == (n, n)
    elements = brute_force_elements(generators)
    pairs = [(i, j) for i in range(n) for j in range(n)]  # row-major
    expected = torch.empty(n, n, dtype=torch.long)
    for orbit_id, orbit in enumerate(brute_force_orbits(elements, pairs)):  # by first appearance
        for i, j in orbit:
            expected[i, j] = orbit_id
    assert torch.equal(pair_orbits, expected)
    assert group.n_pair_orbits() == int(expected.max()) + 1


@given(generator_lists())
def test_pair_orbit_ids_numbered_by_first_appearance(generators):
    flat = PermutationGroup(generators).pair_orbits().flatten().tolist()
    first_seen = list(dict.fromkeys(flat))
    assert first_seen == list(range(len(first_seen)))


@given(generator_lists())
def test_number_of_pair_orbits_is_burnside(generators):
    group = PermutationGroup(generators)
    elements = group.elements()
    fixed = (elements == torch.arange(group.n)).sum(1)  # fix(g) for every g
    burnside = int((fixed**2).sum())
    assert burnside % group.order() == 0
    assert group.n_pair_orbits() == burnside // group.order()


def test_pair_orbits_is_a_copy():
    group = cyclic(4)
    group.pair_orbits()[0, 0] = 99
    assert group.pair_orbits()[0, 0] == 0


# ------------------------------------------------------------------------------------ action


def test_act_convention():
    group = symmetric(4)
    g = torch.tensor([2, 0, 3, 1])
    x = torch.tensor([10.0, 11.0, 12.0, 13.0])
    y = group.act(g, x)
    assert torch.equal(y, torch.tensor([11.0, 13.0, 10.0, 12.0]))
    for i in range(4):
        assert y[g[i]] == x[i]


@given(groups(), st.integers(0, 2**31 - 1))
def test_act_moves_value_at_i_to_g_i(group, seed):
    generator = torch.Generator().manual_seed(seed)
    g = group.random_elements(1, generator)[0]
    x = torch.randn(3, 2, group.n, generator=generator, dtype=torch.float64)
    y = group.act(g, x)
    assert y.shape == x.shape and y.dtype == x.dtype
    assert torch.equal(y[..., g], x)


@given(groups(), st.integers(0, 2**31 - 1))
def test_act_with_a_batch_of_elements(group, seed):
    generator = torch.Generator().manual_seed(seed)
    elements = group.random_elements(5, generator)
    x = torch.randn(5, 3, group.n, generator=generator)
    y = group.act(elements, x)
    for k in range(5):
        assert torch.equal(y[k], group.act(elements[k], x[k]))


@given(groups(), st.integers(0, 2**31 - 1))
def test_act_is_a_group_action(group, seed):
    generator = torch.Generator().manual_seed(seed)
    g, h = group.random_elements(2, generator)
    x = torch.randn(4, group.n, generator=generator)
    g_after_h = g[h]  # (g o h)[i] = g[h[i]]
    assert torch.equal(group.act(g, group.act(h, x)), group.act(g_after_h, x))
    identity = torch.arange(group.n)
    assert torch.equal(group.act(identity, x), x)


def test_act_accepts_integer_elements_of_any_kind():
    group, x = cyclic(3), torch.tensor([10.0, 11.0, 12.0])
    expected = group.act(torch.tensor([1, 2, 0]), x)
    assert torch.equal(expected, torch.tensor([12.0, 10.0, 11.0]))
    for g in ([1, 2, 0], torch.tensor([1, 2, 0], dtype=torch.int32), np.array([1, 2, 0])):
        assert torch.equal(group.act(g, x), expected)


def test_act_rejects_bad_elements():
    group = cyclic(3)
    x = torch.zeros(2, 3)
    with pytest.raises(ValueError, match=r"shape \[3\] or \[batch, 3\], got \(4,\)"):
        group.act(torch.arange(4), x)
    with pytest.raises(ValueError, match=r"not a permutation of range\(3\): \[0, 0, 1\]"):
        group.act(torch.tensor([0, 0, 1]), x)
    with pytest.raises(TypeError, match=r"LongTensor, got dtype torch.float32"):
        group.act(torch.tensor([0.0, 1.0, 2.0]), x)
    with pytest.raises(ValueError, match=r"last dimension 3"):
        group.act(torch.arange(3), torch.zeros(2, 4))
    with pytest.raises(ValueError, match=r"a batch of 2 group elements needs x of shape \[2, \.\.\., 3\]"):
        group.act(torch.stack([torch.arange(3)] * 2), torch.zeros(3, 3))


# ------------------------------------------------------------------------------------ sampling


@given(generator_lists(), st.integers(0, 2**31 - 1))
def test_random_elements_belong_to_the_group_and_are_reproducible(generators, seed):
    group = PermutationGroup(generators)
    sample = group.random_elements(20, torch.Generator().manual_seed(seed))
    assert sample.shape == (20, group.n) and sample.dtype == torch.long
    members = brute_force_elements(generators)
    assert all(tuple(row) in members for row in sample.tolist())
    again = group.random_elements(20, torch.Generator().manual_seed(seed))
    assert torch.equal(sample, again)


@pytest.mark.parametrize("group", [dihedral(5), symmetric(4), grid_dihedral(3)], ids=lambda g: g.name)
def test_random_elements_are_uniform(group):
    order = group.order()
    draws = 200 * order
    sample = group.random_elements(draws, torch.Generator().manual_seed(0))
    counts = Counter(tuple(row) for row in sample.tolist())
    assert set(counts) == {tuple(row) for row in group.elements().tolist()}  # every element appears
    observed = np.array(list(counts.values()), dtype=float)
    chi_square = float(((observed - 200) ** 2 / 200).sum())
    # For order - 1 degrees of freedom, mean = order - 1 and sd = sqrt(2 (order - 1)): allow 5 sd.
    assert chi_square < (order - 1) + 5 * math.sqrt(2 * (order - 1))


def test_random_elements_zero_and_bad_k():
    assert cyclic(5).random_elements(0).shape == (0, 5)
    with pytest.raises(ValueError, match=r"k must be >= 0, got -1"):
        cyclic(5).random_elements(-1)
    with pytest.raises(TypeError, match=r"k must be an int, got 2\.0 \(float\)"):
        cyclic(5).random_elements(2.0)


# ------------------------------------------------------------------------------------ constructors


@pytest.mark.parametrize("n", range(1, 9))
def test_constructor_orders(n):
    assert trivial(n).order() == 1
    assert cyclic(n).order() == n
    assert symmetric(n).order() == math.factorial(n)
    assert dihedral(n).order() == (2 * n if n >= 3 else n)
    if n >= 2:
        assert reflection(n).order() == 2
    for group in (trivial(n), cyclic(n), dihedral(n), symmetric(n), reflection(n)):
        assert group.n == n


def test_small_dihedral_and_reflection():
    assert dihedral(2).order() == 2 and dihedral(1).order() == 1
    assert reflection(1).order() == 1
    assert [row.tolist() for row in reflection(4).elements()] == [[0, 1, 2, 3], [3, 2, 1, 0]]


@pytest.mark.parametrize("n", range(3, 8))
def test_dihedral_preserves_polygon_edges(n):
    edges = {frozenset((i, (i + 1) % n)) for i in range(n)}
    for g in dihedral(n).elements().tolist():
        assert {frozenset((g[a], g[b])) for a, b in edges} == edges


@pytest.mark.parametrize("k", range(1, 7))
def test_grid_dihedral(k):
    group = grid_dihedral(k)
    assert group.n == k * k
    assert group.order() == (8 if k >= 2 else 1)
    neighbours = {frozenset((r * k + c, r * k + c + 1)) for r in range(k) for c in range(k - 1)}
    neighbours |= {frozenset((r * k + c, (r + 1) * k + c)) for r in range(k - 1) for c in range(k)}
    for g in group.elements().tolist():  # rotations and reflections preserve pixel adjacency
        assert {frozenset((g[a], g[b])) for a, b in neighbours} == neighbours
    if k % 2 == 1:
        centre = (k // 2) * k + k // 2
        assert [centre] in group.orbits()


def test_grid_subgroups():
    k = 4
    assert grid_reflection(k).order() == 2 and grid_row_shift(k).order() == k
    full = {tuple(row) for row in grid_dihedral(k).elements().tolist()}
    assert {tuple(row) for row in grid_reflection(k).elements().tolist()} <= full


def _element_set(group) -> set[tuple[int, ...]]:
    return {tuple(row) for row in group.elements().tolist()}


@given(k=st.integers(2, 9))
def test_grid_rotations_are_groups_of_their_order_and_a_chain_c2_c4_d4(k):
    c2, c4, d4 = grid_rotation(k, 2), grid_rotation(k, 4), grid_dihedral(k)
    assert (c2.order(), c4.order(), d4.order()) == (2, 4, 8)
    for group in (c2, c4):
        elements = _element_set(group)
        assert elements == brute_force_elements(group.generators.tolist())  # closed, and exactly these
        assert len(elements) == group.order()
    assert _element_set(c2) < _element_set(c4) < _element_set(d4)  # proper subgroups
    assert _element_set(grid_reflection(k)) - _element_set(c4)  # the mirror is not a rotation


@given(k=st.integers(1, 9), order=st.sampled_from([2, 4]), pixel=st.integers(0, 80))
def test_grid_rotation_turns_pixels_about_the_centre(k, order, pixel):
    point = pixel % (k * k)
    r, c = divmod(point, k)
    target = int(grid_rotation(k, order).generators[0, point])
    expected = (c, k - 1 - r) if order == 4 else (k - 1 - r, k - 1 - c)
    assert divmod(target, k) == expected
    centre = k * k // 2  # a rotation fixes the centre of an odd grid
    if k % 2 == 1:
        assert [centre] in grid_rotation(k, order).orbits()


def test_grid_rotation_rejects_bad_orders():
    with pytest.raises(ValueError, match=r"grid_rotation: order must be 2 \(half turns\) or 4 .*got 3"):
        grid_rotation(5, 3)
    with pytest.raises(TypeError, match=r"grid_rotation: order must be an int, got 4.0"):
        grid_rotation(5, 4.0)
    with pytest.raises(ValueError, match=r"grid_rotation: n must be >= 1, got 0"):
        grid_rotation(0)


@pytest.mark.parametrize("constructor", [trivial, cyclic, dihedral, symmetric, reflection, grid_dihedral,
                                         grid_rotation])
def test_constructors_reject_bad_sizes(constructor):
    name = constructor.__name__
    with pytest.raises(ValueError, match=rf"{name}: n must be >= 1, got 0"):
        constructor(0)
    with pytest.raises(TypeError, match=rf"{name}: n must be an int, got 2.5"):
        constructor(2.5)
    assert constructor(np.int64(3)).n in (3, 9)


def test_a_group_pickles_to_the_same_group():
    import pickle

    from symsharing.groups import dihedral

    group = dihedral(6)
    copy = pickle.loads(pickle.dumps(group))
    assert copy.name == group.name and torch.equal(copy.generators, group.generators)
    assert copy.order() == group.order() and copy.orbits() == group.orbits()
