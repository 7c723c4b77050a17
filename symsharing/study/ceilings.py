"""Exact ceilings: the best accuracy any classifier that is constant on a group's orbits can reach.

A network whose weights are tied by a group ``H`` is ``H``-invariant, so it gives one answer per
``H``-orbit of inputs. When an orbit holds inputs with different labels, no such network can be
right on all of them: its best possible accuracy, the *ceiling* of ``H`` on the task, is that of the
Bayes classifier constant on ``H``-orbits, which answers in each orbit the label with the most
probability mass. Where the input space is finite the ceiling is computed exactly by enumerating
every input with its probability under the split's distribution (``finite_inputs``): the ring task
(2^16 rings) and the grid tasks (a uniform class, then a uniform placement: 572 clean images; the
pixel noise is i.i.d., independent of the label and clipped so that rounding recovers the clean
image, so the best classifier constant on orbits of noisy images is the one on orbits of their
placements; the OOD intensity map moves no placement, so both splits have the same ceilings).
A ceiling is an upper bound: a tied network of a given architecture need not reach it. ``H`` = the
task's group (or a subgroup of it) has ceiling 1: labels are constant on its orbits.
"""

from __future__ import annotations

import functools

import torch

from symsharing.groups import PermutationGroup
from symsharing.study.orbits import orbit_ids
from symsharing.tasks import GridTask, RingTask, Task

__all__ = ["ring_inputs", "input_probabilities", "finite_inputs", "has_finite_inputs", "ceiling",
           "label_mixing", "population_score"]



def ring_inputs(n: int = 16) -> torch.Tensor:
    """All ``2^n`` rings as ±1 rows ``[2^n, n]`` (row ``r`` has bit ``i`` = bit ``i`` of ``r``)."""
    codes = torch.arange(2**n)
    bits = (codes[:, None] >> torch.arange(n)[None]) & 1  # (2^n, n)
    return bits.float() * 2 - 1


def input_probabilities(task: Task, split: str = "test") -> torch.Tensor:
    """Probability of each row of ``ring_inputs()`` under the task's ``split`` ("test": the training
    and test distribution; "ood": the out-of-distribution one). Ring task only."""
    if not isinstance(task, RingTask):
        raise TypeError(f"exact input probabilities exist for the ring task only, got {task!r}")
    if split not in ("test", "ood"):
        raise ValueError(f"split must be 'test' or 'ood', got {split!r}")
    density = task.ood_density if split == "ood" else task.density
    ones = (ring_inputs(task.group.n) > 0).sum(1).double()  # (2^n,)
    return density**ones * (1 - density) ** (task.group.n - ones)


@functools.lru_cache(maxsize=64)
def _finite_orbit_ids(task: Task, generators: tuple) -> torch.Tensor:
    """``orbit_ids`` of every input of ``finite_inputs(task)`` under the group of ``generators``
    (test and OOD splits enumerate the same inputs): computed once per task and group."""
    X = finite_inputs(task)[0]
    return orbit_ids(PermutationGroup(torch.tensor(generators).view(-1, X.shape[1]).tolist()), X)


def _orbit_label_mass(task: Task, group: PermutationGroup, labels, probabilities) -> torch.Tensor:
    ids = _finite_orbit_ids(task, tuple(group.generators.flatten().tolist()))
    n_labels = int(labels.max()) + 1
    ids = torch.unique(ids, return_inverse=True)[1]  # 0 .. orbits - 1
    mass = torch.zeros(int(ids.max()) + 1, n_labels, dtype=torch.float64)  # (orbits, labels)
    mass.index_put_((ids, labels.long()), probabilities.double(), accumulate=True)
    return mass


def has_finite_inputs(task: Task) -> bool:
    """Whether ``finite_inputs`` enumerates ``task``'s inputs (the ring and the grid tasks)."""
    return isinstance(task, (RingTask, GridTask))


def finite_inputs(task: Task, split: str = "test") -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Every input of ``task`` as ±1 rows ``X [m, n]`` with its label and its probability under
    ``split`` ("test": the training and test distribution; "ood"): the 2^16 rings, or the clean
    placements of the grid tasks (+1 on the piece, -1 elsewhere; ``label`` reads them as the
    noiseless images). TypeError for a task whose inputs are continuous (the set task)."""
    if not isinstance(task, Task):
        raise TypeError(f"task must be a Task, got {type(task).__name__}")
    if not has_finite_inputs(task):
        raise TypeError(f"exact enumeration needs a task with finitely many inputs (ring, grid tasks), "
                        f"got {task!r}")
    if split not in ("test", "ood"):
        raise ValueError(f"split must be 'test' or 'ood', got {split!r}")
    if isinstance(task, RingTask):
        X = ring_inputs(task.group.n)
        return X, task.label(X), input_probabilities(task, split)
    masks, _, probabilities = task.placements()  # the OOD map x -> a x + b moves no placement
    X = masks * 2 - 1  # (P, 49)
    return X, task.label(X), probabilities


def ceiling(task: Task, group: PermutationGroup, split: str = "test") -> float:
    """The exact best accuracy of a classifier constant on ``group``'s orbits, on ``split`` of
    ``task`` (every input enumerated: ``finite_inputs``)."""
    _, labels, probabilities = finite_inputs(task, split)
    mass = _orbit_label_mass(task, group, labels, probabilities)
    if not bool(((mass > 0).sum(dim=1) > 1).any()):
        return 1.0  # no orbit holds two labels: exactly 1, not a sum of probabilities rounded
    return float(mass.max(dim=1).values.sum() / mass.sum())


def label_mixing(task: Task, group: PermutationGroup, split: str = "test") -> float:
    """Probability that an input's ``group``-orbit also holds an input with another label: the share
    of inputs on which tying by ``group`` is wrong where it matters (0 for a correct group)."""
    _, labels, probabilities = finite_inputs(task, split)
    mass = _orbit_label_mass(task, group, labels, probabilities)
    mixed = (mass > 0).sum(dim=1) > 1  # (orbits,)
    return float(mass[mixed].sum() / mass.sum())


@functools.lru_cache(maxsize=4)
def _ring_population(task: RingTask) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    return finite_inputs(task)


@functools.lru_cache(maxsize=64)
def _representatives(task: Task, generators: tuple) -> torch.Tensor:
    """For each input of ``finite_inputs(task)``, the row of its orbit's first input (the orbit's
    representative) under the group of ``generators``: a LongTensor ``[m]``."""
    ids = _finite_orbit_ids(task, generators)  # (m,)
    rows = torch.arange(len(ids))
    first = torch.full((int(ids.max()) + 1,), len(ids)).scatter_reduce_(0, ids, rows, "amin")  # (orbits,)
    return first[ids]


@torch.no_grad()
def population_score(task: Task, model, group: PermutationGroup | None = None) -> float:
    """A classifier's exact accuracy on the ring task's test distribution: every one of the 2^16
    inputs scored with its probability (``finite_inputs``), so that it can be held against the exact
    ``ceiling`` with no sampling error. NaN for other tasks (the grid tasks' noisy pixels are not
    enumerable: their test accuracy is held against the ceiling by a concentration bound).

    With ``group`` (the group that ties ``model``), every input gets the prediction at its orbit's
    representative: the scored classifier is then constant on the orbits *exactly*, as the tied
    network is in exact arithmetic (in float32, ``g·x`` and ``x`` sum in different orders, and a
    near-tie of two logits could split an orbit), so it can never exceed ``ceiling(task, group)``."""
    if not isinstance(task, RingTask):
        return float("nan")
    X, labels, probabilities = _ring_population(task)
    predictions = model(X).argmax(dim=1)  # (2^16,)
    if group is not None:
        if not isinstance(group, PermutationGroup) or group.n != X.shape[1]:
            raise ValueError(f"group must be a PermutationGroup on the ring's {X.shape[1]} points, "
                             f"got {group!r}")
        predictions = predictions[_representatives(task, tuple(group.generators.flatten().tolist()))]
    correct = predictions == labels
    return float((probabilities * correct.double()).sum() / probabilities.sum())
