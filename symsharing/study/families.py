"""The model families compared in the study, built for any task from the task's group.

``mlp`` (dense), ``mlp+aug`` (dense, trained on inputs moved by random group elements),
``mlp+aug+avg`` (the ``mlp+aug`` network averaged over the group orbit at test time), ``shared``
(weights tied by the task's group, Ravanbakhsh et al., ICML 2017), and two controls: ``shared-sub``
(tied by a proper subgroup: correct but weaker) and ``shared-wrong`` (tied by a group the task is
*not* invariant under). The set task's group S_8 contains every permutation of its points, so no
permutation group is wrong for it: it has no ``shared-wrong`` family.
"""

from __future__ import annotations

from torch import nn

from symsharing.groups import (
    PermutationGroup,
    cyclic,
    dihedral,
    grid_dihedral,
    grid_reflection,
    grid_rotation,
    grid_row_shift,
    symmetric,
)
from symsharing.models import MLP, SharedMLP, SoftSharedMLP
from symsharing.study.augment import OrbitAverage
from symsharing.tasks import Task

__all__ = ["FAMILIES", "TRAINED_FAMILIES", "families_for", "subgroup", "wrong_group",
           "sharing_group", "build_model", "training_family", "evaluation_model", "ORBIT_ELEMENTS",
           "ladder_groups", "EXTRA_FAMILIES"]

FAMILIES = ("mlp", "mlp+aug", "mlp+aug+avg", "shared", "shared-sub", "shared-wrong")
# mlp+aug+avg is not trained on its own: it is the trained mlp+aug network, averaged at test time.
TRAINED_FAMILIES = ("mlp", "mlp+aug", "shared", "shared-sub", "shared-wrong")
# Families outside the study's axes (their sweeps are chosen by the chapters that use them):
# soft-shared = tied weights plus a penalised dense residual (Finzi, Benton & Wilson 2021).
EXTRA_FAMILIES = ("soft-shared",)
DEFAULT_RESIDUAL_PENALTY = 1e-3
ORBIT_ELEMENTS = 16  # test-time averaging: the whole orbit when |G| <= 16, else 16 random elements


def _ring_half_rotations(n: int) -> PermutationGroup:
    return PermutationGroup([[(i + 2) % n for i in range(n)]], name=f"rotations by 2 on {n}")


def subgroup(task: Task) -> PermutationGroup:
    """A proper subgroup of the task's group: C_8 on the set, rotations by 2 on the ring,
    the left-right mirror on the grid, the half turn C_2 on the one-sided grid variant."""
    builders = {"set": lambda: cyclic(task.group.n), "ring": lambda: _ring_half_rotations(task.group.n),
                "grid": lambda: grid_reflection(task.side),
                "grid-chiral": lambda: grid_rotation(task.side, 2)}
    if task.name not in builders:
        raise KeyError(f"no subgroup defined for task {task.name!r}; known: {', '.join(builders)}")
    return builders[task.name]()


def wrong_group(task: Task) -> PermutationGroup | None:
    """A group the task is not invariant under: S_16 on the ring (the motif needs order), cyclic
    row shifts on the grid (they cut a shape at the border), D_4 on the one-sided grid variant (a
    mirror turns S into Z and L into J); None on the set task."""
    builders = {"set": lambda: None, "ring": lambda: symmetric(task.group.n),
                "grid": lambda: grid_row_shift(task.side), "grid-chiral": lambda: grid_dihedral(task.side)}
    if task.name not in builders:
        raise KeyError(f"no wrong group defined for task {task.name!r}; known: {', '.join(builders)}")
    return builders[task.name]()


def ladder_groups(task: Task) -> dict[str, PermutationGroup]:
    """The symmetry ladder of ``task``: a chain of groups, smallest first, named as in the records.

    Ring: C8 (rotations by 2) ⊂ C16 (the task's group) ⊂ D16 (adds reflections: wrong, the motif
    is chiral) ⊂ S16 (every permutation: wrong, it only sees the number of ones). One-sided grid
    variant (``grid-chiral``): C2 (the half turn) ⊂ C4 (quarter turns: the task's group) ⊂ D4 (adds
    mirrors: wrong, it merges S with Z and L with J)."""
    if task.name == "grid-chiral":
        k = task.side
        return {"C2": PermutationGroup(grid_rotation(k, 2).generators.tolist(), name="C2"),
                "C4": PermutationGroup(task.group.generators.tolist(), name="C4"),
                "D4": PermutationGroup(grid_dihedral(k).generators.tolist(), name="D4")}
    if task.name != "ring":
        raise KeyError(f"no symmetry ladder defined for task {task.name!r}; known: ring, grid-chiral")
    n = task.group.n
    return {"C8": PermutationGroup([[(i + 2) % n for i in range(n)]], name="C8"),
            "C16": PermutationGroup(task.group.generators.tolist(), name="C16"),
            "D16": PermutationGroup(dihedral(n).generators.tolist(), name="D16"),
            "S16": PermutationGroup(symmetric(n).generators.tolist(), name="S16")}


def families_for(task: Task, families=FAMILIES) -> tuple[str, ...]:
    """The families of ``families`` that exist on ``task`` (no ``shared-wrong`` on the set task)."""
    for family in families:
        if family not in FAMILIES + EXTRA_FAMILIES:
            raise KeyError(f"unknown family {family!r}; known: {', '.join(FAMILIES + EXTRA_FAMILIES)}")
    return tuple(f for f in families if not (f == "shared-wrong" and wrong_group(task) is None))


def sharing_group(task: Task, family: str) -> PermutationGroup | None:
    """The group that ties the weights of ``family`` (None for the dense families)."""
    if family not in FAMILIES + EXTRA_FAMILIES:
        raise KeyError(f"unknown family {family!r}; known: {', '.join(FAMILIES + EXTRA_FAMILIES)}")
    if family in ("shared", "soft-shared"):
        return task.group
    if family == "shared-sub":
        return subgroup(task)
    if family == "shared-wrong":
        group = wrong_group(task)
        if group is None:
            raise ValueError(f"task {task.name!r} has no wrong group: family 'shared-wrong' does not exist")
        return group
    return None


def training_family(family: str) -> str:
    """The family whose trained network ``family`` evaluates (mlp+aug+avg -> mlp+aug)."""
    return "mlp+aug" if family == "mlp+aug+avg" else family


def build_model(task: Task, family: str, width: int, depth: int = 2,
                group: PermutationGroup | None = None, *, residual_penalty: float = DEFAULT_RESIDUAL_PENALTY
                ) -> tuple[nn.Module, PermutationGroup | None]:
    """An untrained network of ``family`` and the group to augment its training data with (or None).

    ``width`` is the hidden width of the dense families and the channel count of the shared ones;
    ``group`` overrides the tying group of the ``shared`` family (the symmetry ladder). Call
    ``seed_everything(seed)`` first: the initial weights come from torch's global RNG.
    """
    family = training_family(family)
    if group is not None:
        if family != "shared":
            raise ValueError(f"only the 'shared' family takes a tying group, got family {family!r}")
        return SharedMLP(group, task.n_outputs, width, depth), None
    group = sharing_group(task, family)
    if family == "soft-shared":  # residual_penalty: the strength of the L2 penalty on the residuals
        return SoftSharedMLP(group, task.n_outputs, width, depth, residual_penalty=residual_penalty), None
    if group is not None:
        return SharedMLP(group, task.n_outputs, width, depth), None
    model = MLP(task.group.n, task.n_outputs, width, depth)
    return model, (task.group if family == "mlp+aug" else None)


def evaluation_model(task: Task, family: str, trained: nn.Module, seed: int = 0) -> nn.Module:
    """The network whose outputs ``family`` is scored on: the orbit average for mlp+aug+avg."""
    if family == "mlp+aug+avg":
        return OrbitAverage(trained, task.group, ORBIT_ELEMENTS, seed)
    return trained
