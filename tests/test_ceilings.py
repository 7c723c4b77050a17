"""Exact ceilings of group-tied classifiers on the ring and grid tasks, orbit ids, and the symmetry ladder."""

import dataclasses
import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from symsharing.groups import cyclic, dihedral, grid_dihedral, grid_reflection, grid_row_shift, symmetric
from symsharing.study import analysis, axes, ceilings, orbits
from symsharing.study import config as study_config
from symsharing.study.families import ladder_groups
from symsharing.tasks import get_task

RING = get_task("ring")
CHIRAL = get_task("grid-chiral")


@pytest.fixture(autouse=True)
def cache_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("SYMSHARING_CACHE_DIR", str(tmp_path / "cache"))


def test_every_ring_is_enumerated_once_with_probabilities_summing_to_one():
    X = ceilings.ring_inputs()
    assert X.shape == (2**16, 16) and len(torch.unique(X, dim=0)) == 2**16
    for split in ("test", "ood"):
        assert float(ceilings.input_probabilities(RING, split).sum()) == pytest.approx(1.0, abs=1e-12)


@pytest.mark.parametrize("name", ["C8", "C16"])
def test_correct_groups_have_ceiling_one_and_mix_no_labels(name):
    group = ladder_groups(RING)[name]
    assert ceilings.ceiling(RING, group) == pytest.approx(1.0, abs=1e-12)
    assert ceilings.label_mixing(RING, group) == 0.0


def test_s16_ceiling_is_the_best_count_of_ones_classifier():
    X, labels = ceilings.ring_inputs(), RING.label(ceilings.ring_inputs())
    probabilities = ceilings.input_probabilities(RING).double()
    ones = (X > 0).sum(1)
    best = sum(max(float(probabilities[(ones == k) & (labels == c)].sum()) for c in (0, 1))
               for k in range(17))
    assert ceilings.ceiling(RING, symmetric(16)) == pytest.approx(best, abs=1e-12)
    assert 0.55 < best < 0.6  # barely above the majority class (55.4 % without the motif)


def test_d16_is_wrong_where_it_matters():
    assert 0.5 < ceilings.ceiling(RING, dihedral(16)) < 1.0
    assert ceilings.label_mixing(RING, dihedral(16)) > 0.1


def test_grid_variant_ceilings_are_one_for_rotations_and_five_sevenths_for_d4():
    groups = ladder_groups(CHIRAL)
    assert list(groups) == ["C2", "C4", "D4"]
    for name in ("C2", "C4"):
        for split in ("test", "ood"):
            assert ceilings.ceiling(CHIRAL, groups[name], split) == 1.0
        assert ceilings.label_mixing(CHIRAL, groups[name]) == 0.0
    # D4 puts every S with a Z and every L with a J, of equal mass: half of 4 classes in 7 is lost
    assert ceilings.ceiling(CHIRAL, groups["D4"]) == pytest.approx(5 / 7, abs=1e-12)
    assert ceilings.label_mixing(CHIRAL, groups["D4"]) == pytest.approx(4 / 7, abs=1e-12)


def test_grid_variant_mixing_matches_the_sampled_test_set():
    X, y = CHIRAL.sample(2000, 10_000)
    d4 = grid_dihedral(7)
    mixed = torch.zeros(len(X), dtype=torch.bool)
    for g in d4.elements():
        mixed |= CHIRAL.label(d4.act(g, X)) != y
    assert abs(float(mixed.float().mean()) - 4 / 7) < 0.04


def test_grid_task_groups_mix_no_labels_on_the_data():
    grid = get_task("grid")  # the row shift moves shapes out of the support, but never onto another label
    for group in (grid.group, grid_reflection(7), grid_row_shift(7)):
        assert ceilings.ceiling(grid, group) == 1.0 and ceilings.label_mixing(grid, group) == 0.0


def test_finite_inputs_are_every_clean_placement_with_its_probability():
    X, labels, probabilities = ceilings.finite_inputs(CHIRAL, "ood")
    assert X.shape == (572, 49) and set(X.unique().tolist()) == {-1.0, 1.0}
    assert torch.equal(labels, CHIRAL.placements()[1])
    assert float(probabilities.sum()) == pytest.approx(1.0, abs=1e-12)
    assert ceilings.has_finite_inputs(RING) and not ceilings.has_finite_inputs(get_task("set"))


@settings(max_examples=25, deadline=None)
@given(bits=st.lists(st.sampled_from([-1.0, 1.0]), min_size=16, max_size=16), element=st.integers(0, 31))
def test_orbit_ids_are_invariant_and_separate_orbits(bits, element):
    x = torch.tensor([bits])
    for group in (cyclic(16), dihedral(16), symmetric(16)):
        g = group.elements()[element % group.order()] if group.order() <= 32 else torch.randperm(16)
        moved = group.act(g, x)
        ids = orbits.orbit_ids(group, torch.cat([x, moved]))
        assert torch.equal(ids.unique(), orbits.orbit_ids(group, x))
    # the all-ones ring and the ring with a single one are in different orbits of every group
    pair = torch.stack([torch.ones(16), torch.tensor([1.0] + [-1.0] * 15)])
    assert len(orbits.orbit_ids(cyclic(16), pair).unique()) == 2


@pytest.mark.parametrize("call, error, match", [
    (lambda: orbits.orbit_ids("C16", torch.zeros(2, 16)), TypeError, "PermutationGroup"),
    (lambda: orbits.orbit_ids(cyclic(16), torch.ones(2, 8)), ValueError, r"\[m, 16\]"),
    (lambda: ceilings.input_probabilities(get_task("set")), TypeError, "ring task only"),
    (lambda: ceilings.input_probabilities(RING, "train"), ValueError, "split must be"),
    (lambda: ceilings.finite_inputs(get_task("set")), TypeError, "finitely many inputs"),
    (lambda: ceilings.finite_inputs(CHIRAL, "train"), ValueError, "split must be 'test' or 'ood'"),
    (lambda: ceilings.finite_inputs("grid"), TypeError, "task must be a Task, got str"),
    (lambda: ceilings.ceiling(get_task("set"), symmetric(8)), TypeError, "finitely many inputs"),
])
def test_bad_inputs(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_symmetry_ladder_records_name_groups_and_ceilings(monkeypatch):
    config = study_config.config_for("symmetry-ladder", quick=True)
    small = dataclasses.replace(config, seeds=(0, 1), n_trains=(16, 32),
                                training=dataclasses.replace(config.training, steps=3, n_test=64,
                                                             lr_grid=(1e-2,), lr_n_train=16))
    monkeypatch.setattr(axes, "config_for", lambda *args, **kwargs: small)
    frame = axes.symmetry_ladder()
    assert {"task", "family", "group", "ceiling", "n_train", "seed", "test_score"} <= set(frame.columns)
    assert list(dict.fromkeys(frame["task"])) == ["ring", "grid-chiral"]  # the ring's rows first
    shared = frame[frame["family"] == "shared"]
    assert set(shared.loc[shared["task"] == "ring", "group"]) == {"C8", "C16", "D16", "S16"}
    assert set(shared.loc[shared["task"] == "grid-chiral", "group"]) == {"C2", "C4", "D4"}
    by_group = shared.groupby("group")["ceiling"].first()
    assert by_group["C16"] == pytest.approx(1.0) and by_group["S16"] < by_group["D16"] < 1.0
    assert by_group["C2"] == by_group["C4"] == 1.0 and by_group["D4"] == pytest.approx(5 / 7)
    assert set(frame.loc[frame["family"] == "mlp", "group"]) == {""}
    table = analysis.crossovers_table(frame)  # each comparison on the task whose ladder holds it
    assert list(table["larger"]) == [a for a, _ in analysis.LADDER_COMPARISONS]
    assert set(table["task"]) == {"ring"} and table["finding"].str.len().gt(0).all()
    assert table.equals(analysis.crossovers_table(frame[frame["task"] == "ring"]))  # the grid changes nothing
    grid = analysis.crossovers_table(frame, analysis.GRID_LADDER_COMPARISONS)
    assert set(grid["task"]) == {"grid-chiral"} and grid["finding"].str.len().gt(0).all()
    with pytest.raises(ValueError, match="occur on several tasks"):
        analysis.crossover(frame, "mlp", "mlp")


def test_population_score_is_exact_and_bounded_by_the_ceiling():
    class Constant(torch.nn.Module):  # always answers class c
        def __init__(self, c):
            super().__init__()
            self.c = c

        def forward(self, x):
            return torch.nn.functional.one_hot(torch.full((len(x),), self.c), 2).float()

    X, labels, probabilities = ceilings.finite_inputs(RING)
    share = float((probabilities * (labels == 1).double()).sum() / probabilities.sum())
    assert ceilings.population_score(RING, Constant(1)) == pytest.approx(share, abs=1e-12)
    assert ceilings.population_score(RING, Constant(0)) == pytest.approx(1 - share, abs=1e-12)
    assert math.isnan(ceilings.population_score(get_task("set"), Constant(0)))


@pytest.mark.parametrize("name", ["C16", "D16", "S16"])
def test_an_orbit_constant_population_score_never_exceeds_the_ceiling(name):
    # an MLP is not invariant: scored as it is it beats S16's ceiling; read at each orbit's
    # representative it is constant on the orbits, so it cannot beat any ceiling (an identity)
    group = ladder_groups(RING)[name]
    torch.manual_seed(0)
    mlp = torch.nn.Sequential(torch.nn.Linear(16, 32), torch.nn.ReLU(), torch.nn.Linear(32, 2))
    X, labels, _ = ceilings.finite_inputs(RING)
    optimizer = torch.optim.Adam(mlp.parameters(), lr=1e-2)
    for _ in range(100):
        optimizer.zero_grad()
        torch.nn.functional.cross_entropy(mlp(X[::8]), labels[::8]).backward()
        optimizer.step()
    ceiling = ceilings.ceiling(RING, group)
    assert ceilings.population_score(RING, mlp, group) <= ceiling + 1e-12
    if name == "S16":
        assert ceilings.population_score(RING, mlp) > ceiling
    with pytest.raises(ValueError, match="group must be a PermutationGroup on the ring's 16 points"):
        ceilings.population_score(RING, mlp, cyclic(8))


def test_an_invariant_model_scores_the_same_at_its_representatives():
    class CountOnes(torch.nn.Module):  # S16-invariant: class 1 when at least half the bits are on
        def forward(self, x):
            on = (x > 0).sum(dim=1, keepdim=True).float()
            return torch.cat([8 - on, on - 7.5], dim=1)

    group = ladder_groups(RING)["S16"]
    assert ceilings.population_score(RING, CountOnes(), group) == ceilings.population_score(RING, CountOnes())
