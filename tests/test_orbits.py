"""Tests of symsharing.study.orbits: canonical orbit representatives, orbit metrics, seen orbits."""
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from symsharing.groups import cyclic, dihedral, symmetric
from symsharing.models import MLP, SharedMLP
from symsharing.study.orbits import canonicalize, orbit_metrics, seen_orbits

GROUPS = [cyclic(6), dihedral(6), symmetric(6)]


@settings(max_examples=25, deadline=None)
@given(st.sampled_from(range(len(GROUPS))), st.integers(0, 2**31 - 1),
       st.sampled_from([torch.float32, torch.float64]))
def test_canonical_is_constant_on_orbits(index, seed, dtype):
    group = GROUPS[index]
    generator = torch.Generator().manual_seed(seed)
    X = torch.randint(0, 3, (5, group.n), generator=generator).to(dtype)  # repeated values: ties
    g = group.random_elements(1, generator)[0]
    assert torch.equal(canonicalize(group, group.act(g, X)), canonicalize(group, X))
    assert torch.equal(canonicalize(group, canonicalize(group, X)), canonicalize(group, X))


def test_canonical_separates_orbits():
    group = cyclic(4)
    a = torch.tensor([[1.0, 1.0, 0.0, 0.0]])
    b = torch.tensor([[1.0, 0.0, 1.0, 0.0]])  # same count, another C4 orbit
    assert not torch.equal(canonicalize(group, a), canonicalize(group, b))


def test_shared_model_is_orbit_consistent_and_random_mlp_is_not():
    torch.manual_seed(0)
    group = dihedral(8)
    X = torch.randn(64, 8)
    y = torch.randint(0, 3, (64,))
    shared = orbit_metrics(SharedMLP(group, 3, 8), group, X, y)
    assert shared["orbit_exact"] and shared["orbit_consistency"] == 1.0
    assert abs(shared["slice_score"] - shared["orbit_rest_score"]) < 1e-9
    free = orbit_metrics(MLP(8, 3, 32), group, X, y)
    assert free["orbit_consistency"] < 1.0
    assert free["orbit_worst_score"] <= min(free["slice_score"], free["orbit_rest_score"])


def test_seen_orbits():
    group = cyclic(4)
    train = torch.tensor([[1.0, 0.0, 0.0, 0.0]])
    test = torch.tensor([[0.0, 0.0, 1.0, 0.0], [1.0, 1.0, 0.0, 0.0]])
    assert seen_orbits(group, train, test).tolist() == [True, False]
