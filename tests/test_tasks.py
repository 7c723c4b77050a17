"""Tests for symsharing.tasks: shapes, determinism, exact and invariant labels, splits, errors."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from symsharing.groups import PermutationGroup, dihedral, grid_dihedral
from symsharing.tasks import STUDY_TASKS, TASKS, Task, get_task

NAMES = ["set", "ring", "grid", "grid-chiral"]  # the study's tasks, then the variants


@pytest.fixture(params=NAMES)
def task(request) -> Task:
    return get_task(request.param)


def test_registry():
    assert list(TASKS) == NAMES and list(STUDY_TASKS) == NAMES[:3]
    for name in NAMES:
        task = get_task(name)
        assert task.name == name and TASKS[name] is task
        assert isinstance(task.group, PermutationGroup)
        assert task.kind in ("regression", "classification")
        assert isinstance(task.description, str) and task.description
        assert isinstance(task.ood_description, str) and task.ood_description
    assert get_task("set").kind == "regression" and get_task("set").n_outputs == 1
    assert get_task("ring").n_outputs == 2 and get_task("grid").n_outputs == 5
    assert (get_task("set").group.n, get_task("ring").group.n, get_task("grid").group.n) == (8, 16, 49)


@pytest.mark.parametrize("split", ["sample", "sample_ood"])
@pytest.mark.parametrize("n", [0, 1, 37])
def test_shapes_and_dtypes(task, split, n):
    X, y = getattr(task, split)(n, seed=3)
    assert X.shape == (n, task.group.n) and X.dtype == torch.float32
    if task.kind == "classification":
        assert y.shape == (n,) and y.dtype == torch.int64
        assert ((y >= 0) & (y < task.n_outputs)).all()
    else:
        assert y.shape == (n, task.n_outputs) and y.dtype == torch.float32


@pytest.mark.parametrize("split", ["sample", "sample_ood"])
def test_determinism(task, split):
    draw = getattr(task, split)
    X1, y1 = draw(200, 7)
    X2, y2 = draw(200, 7)
    assert torch.equal(X1, X2) and torch.equal(y1, y2)
    X3, _ = draw(200, 8)
    assert not torch.equal(X1, X3)
    torch.manual_seed(0)
    np.random.seed(0)
    X4, _ = draw(200, 7)  # global RNG state plays no part
    assert torch.equal(X1, X4)
    assert torch.equal(draw(50, 7)[0], X1[:50])  # a prefix of a longer draw


def test_ood_is_not_the_training_draw(task):
    X, _ = task.sample(300, 0)
    X_ood, _ = task.sample_ood(300, 0)
    assert not torch.allclose(X_ood, X) and not torch.allclose(X_ood, 2 * X)


@pytest.mark.parametrize("split", ["sample", "sample_ood"])
def test_label_reproduces_samples(task, split):
    X, y = getattr(task, split)(500, 11)
    assert torch.equal(task.label(X), y)
    assert torch.equal(task.label(X.double()).to(y.dtype), y)


@settings(max_examples=8, deadline=None)
@given(name=st.sampled_from(NAMES), seed=st.integers(0, 2**31 - 1), ood=st.booleans())
def test_label_is_invariant(name, seed, ood):
    task = get_task(name)
    X, y = (task.sample_ood if ood else task.sample)(64, seed)
    g = task.group.random_elements(len(X), torch.Generator().manual_seed(seed))  # (64, n)
    assert torch.equal(task.label(task.group.act(g, X)), y)


def test_label_is_invariant_under_every_grid_element():
    task = get_task("grid")
    X, y = task.sample(100, 0)
    for g in task.group.elements():
        assert torch.equal(task.label(task.group.act(g, X)), y)


def test_ring_is_not_reflection_invariant():
    task = get_task("ring")
    X, y = task.sample(2000, 0)
    mirror = dihedral(16).elements()[-1]
    assert not torch.equal(task.label(X[:, mirror]), y)  # a wrong group for this task


def test_chiral_grid_tells_mirror_images_apart():
    task = get_task("grid-chiral")
    assert task.n_outputs == 7 and task.group.order() == 4 and task.group.n == 49
    assert list(task.shapes) == ["I", "O", "T", "S", "Z", "L", "J"]
    masks, shape_ids, probabilities = task.placements()
    assert len(masks) == 572 and len(torch.unique(masks, dim=0)) == 572  # one-sided: no duplicates
    assert torch.equal(task.label(masks), shape_ids)  # clean images are labelled by their piece
    assert float(probabilities.sum()) == pytest.approx(1.0, abs=1e-12)
    assert torch.bincount(shape_ids).tolist() == [56, 36, 120, 60, 60, 120, 120]
    mirror = grid_dihedral(7).elements()  # every rotation keeps the label, every mirror swaps S/Z, L/J
    swapped = {3: 4, 4: 3, 5: 6, 6: 5}
    for g in mirror:
        moved = task.label(grid_dihedral(7).act(g, masks))
        if torch.equal(moved, shape_ids):
            continue
        assert torch.equal(moved, torch.tensor([swapped.get(i, i) for i in shape_ids.tolist()]))
    rotations = {tuple(g) for g in task.group.elements().tolist()}
    assert sum(tuple(g) in rotations for g in mirror.tolist()) == 4


def test_chiral_grid_leaves_the_grid_task_unchanged():
    grid, chiral = get_task("grid"), get_task("grid-chiral")
    assert grid.n_outputs == 5 and grid.group.order() == 8 and len(grid.placements()[0]) == 572
    assert not torch.equal(grid.sample(50, 0)[1], chiral.sample(50, 0)[1])
    X, y = chiral.sample(2000, 0)  # same sampler: uniform class, uniform placement
    share = torch.bincount(y, minlength=7).float() / len(y)
    assert (abs(share - 1 / 7) < 0.03).all()


def test_grid_is_not_transitive():
    orbits = get_task("grid").group.orbits()
    assert [24] in orbits and len(orbits) == 10  # the centre pixel is its own orbit


@pytest.mark.parametrize("name", ["ring", "grid"])
def test_class_balance(name):
    task = get_task(name)
    _, y = task.sample(4000, 0)
    share = torch.bincount(y, minlength=task.n_outputs).float() / len(y)
    if name == "ring":
        assert 0.35 < share[1] < 0.65
    else:
        assert (abs(share - 0.2) < 0.03).all()


def test_set_label_values():
    task = get_task("set")
    X = torch.tensor([[0.0, 5, -1, 2, 3, 0, 1, -4], [1.0] * 8])
    assert torch.equal(task.label(X), torch.tensor([[8.0], [2.0]]))


def test_ring_label_values():
    task = get_task("ring")
    bits = torch.full((3, 16), -1.0)
    bits[0, [14, 15, 1]] = 1.0  # 1,1,0,1,0 starting at point 14: wraps around the ring
    bits[1, [0, 1, 3, 4]] = 1.0  # 1,1,0,1,1: the motif needs a 0 after the last 1
    bits[1, 5] = 1.0
    assert task.label(bits).tolist() == [1, 0, 0]


def test_grid_label_values():
    task = get_task("grid")
    image = torch.zeros(3, 7, 7)
    image[0, 2, 1:5] = 1.0  # I
    image[1, 3:5, 3:5] = 1.0  # O
    image[2, 0, 0:3] = 1.0  # three pixels: no tetromino
    assert task.label(image.reshape(3, 49)).tolist() == [0, 1, -1]
    assert task.label(torch.zeros(1, 49)).tolist() == [-1]  # a constant image has no shape


def test_grid_ood_keeps_labels():
    task = get_task("grid")
    X_ood, y_ood = task.sample_ood(500, 0)
    X_back = (X_ood - task.ood_offset) / task.ood_gain
    assert torch.equal(task.label(X_back), y_ood)


def test_ood_moves_the_inputs():
    X, _ = get_task("set").sample(4000, 0)
    X_ood, _ = get_task("set").sample_ood(4000, 0)
    assert X_ood.std() > 1.5 * X.std()
    X, _ = get_task("ring").sample(4000, 0)
    X_ood, _ = get_task("ring").sample_ood(4000, 0)
    assert abs(X.mean()) < 0.05 and X_ood.mean() > 0.3
    X, _ = get_task("grid").sample(4000, 0)
    X_ood, _ = get_task("grid").sample_ood(4000, 0)
    assert X.max() <= 1.25 and X_ood.max() > 1.5 and X_ood.min() > X.min() + 0.25


def test_get_task_unknown_name():
    with pytest.raises(KeyError, match="unknown task 'rng'; known: set, ring, grid"):
        get_task("rng")
    with pytest.raises(TypeError, match="task name must be a str"):
        get_task(3)


@pytest.mark.parametrize("split", ["sample", "sample_ood"])
def test_bad_counts_and_seeds(task, split):
    draw = getattr(task, split)
    with pytest.raises(ValueError, match="n must be >= 0, got -1"):
        draw(-1, 0)
    with pytest.raises(TypeError, match=r"n must be an int, got 2\.5"):
        draw(2.5, 0)
    with pytest.raises(TypeError, match="n must be an int, got True"):
        draw(True, 0)
    with pytest.raises(TypeError, match="seed must be an int, got '0'"):
        draw(4, "0")
    with pytest.raises(ValueError, match="seed must be >= 0, got -3"):
        draw(4, -3)


def test_label_bad_shapes(task):
    n = task.group.n
    with pytest.raises(ValueError, match=rf"X must have shape \[batch, {n}\], got \(5, {n + 1}\)"):
        task.label(torch.zeros(5, n + 1))
    with pytest.raises(ValueError, match="X must have shape"):
        task.label(torch.zeros(n))
    with pytest.raises(TypeError, match="X must be a torch.Tensor, got list"):
        task.label([[0.0] * n])


def test_study_tasks_are_the_three_registered_tasks():
    from symsharing.tasks import STUDY_TASKS, TASKS
    assert STUDY_TASKS == ("set", "ring", "grid")
    assert all(name in TASKS for name in STUDY_TASKS)
