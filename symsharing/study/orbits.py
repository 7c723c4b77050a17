"""Orbit-shift robustness: train on one slice of every orbit, test on the whole orbit.

Every task's input distribution is itself invariant under its group, so ``g·X_test`` has the
distribution of ``X_test`` and the i.i.d. "score on g·x" test cannot tell an invariant model from
any other (it is the *null* of this module). The orbit shift can: the training inputs are replaced
by their *canonical* representative — the values sorted (symmetric groups) or the
lexicographically smallest ``g·x`` over the group (small groups) — so a model sees one pose per
orbit, and is then scored on the canonical test inputs (the slice it was trained on) and on the
other points of their orbits (the rest), where only a model that knows the symmetry keeps its
score. Orbits are enumerated exactly when ``|G| <= EXACT_ORBIT_LIMIT``; otherwise they are sampled
with ``SAMPLED_ELEMENTS`` random elements, and consistency and worst-case scores are then upper
bounds (a sampled orbit may miss the point where the model fails).
"""

from __future__ import annotations

import math

import torch

from symsharing.groups import PermutationGroup
from symsharing.metrics import metric_name, score

__all__ = ["canonicalize", "orbit_ids", "orbit_elements", "orbit_metrics", "EXACT_ORBIT_LIMIT",
           "SAMPLED_ELEMENTS", "REGRESSION_TOLERANCE", "seen_orbits"]

EXACT_ORBIT_LIMIT = 16
SAMPLED_ELEMENTS = 64
REGRESSION_TOLERANCE = 0.05  # two regression outputs "agree" when they differ by at most this


def _is_symmetric(group: PermutationGroup) -> bool:
    return group.order() == math.factorial(group.n)


def canonicalize(group: PermutationGroup, X: torch.Tensor) -> torch.Tensor:
    """The canonical representative of each row's orbit: ``canonicalize(g·x) == canonicalize(x)``.

    Symmetric group: the values sorted in decreasing order. Other groups (order up to 4,096): the
    lexicographically smallest ``g·x`` over every element.
    """
    if not isinstance(X, torch.Tensor) or X.dim() != 2 or X.shape[1] != group.n:
        raise ValueError(f"X must be a [m, {group.n}] tensor, got "
                         f"{tuple(X.shape) if isinstance(X, torch.Tensor) else type(X).__name__}")
    if _is_symmetric(group):
        return X.sort(dim=1, descending=True).values
    if group.order() > 4096:
        raise ValueError(f"canonicalize needs a symmetric group or one of order <= 4096, got {group.name}")
    best = X
    for g in group.elements():
        candidate = group.act(g, X)  # (m, n)
        differ = candidate != best
        first = differ.float().argmax(dim=1, keepdim=True)  # first coordinate where they differ
        smaller = differ.any(dim=1) & (candidate.gather(1, first) < best.gather(1, first)).squeeze(1)
        best = torch.where(smaller[:, None], candidate, best)
    return best


def orbit_ids(group: PermutationGroup, X: torch.Tensor) -> torch.Tensor:
    """An integer per row of ``X [m, n]``, equal for two rows exactly when one is ``g·x`` of the
    other: the rows' canonical representatives (``canonicalize``) numbered in sorted order."""
    if not isinstance(group, PermutationGroup):
        raise TypeError(f"group must be a PermutationGroup, got {type(group).__name__}")
    return torch.unique(canonicalize(group, X), dim=0, return_inverse=True)[1]


def orbit_elements(group: PermutationGroup, seed: int = 0) -> tuple[torch.Tensor, bool]:
    """The elements to move a point through its orbit, and whether that is the whole group."""
    if group.order() <= EXACT_ORBIT_LIMIT:
        return group.elements(), True
    return group.random_elements(SAMPLED_ELEMENTS, torch.Generator().manual_seed(seed)), False


def seen_orbits(group: PermutationGroup, X_train: torch.Tensor, X_test: torch.Tensor) -> torch.Tensor:
    """Bool ``[m]``: whether each test point's orbit holds a training point (canonical forms equal)."""
    train = {tuple(row) for row in canonicalize(group, X_train).tolist()}
    return torch.tensor([tuple(row) in train for row in canonicalize(group, X_test).tolist()],
                        dtype=torch.bool)


@torch.no_grad()
def orbit_metrics(model, group: PermutationGroup, X: torch.Tensor, y: torch.Tensor, seed: int = 0) -> dict:
    """Scores of ``model`` on canonical test points ``X`` (the training slice) and on the rest of
    their orbits, with orbit consistency and the worst-case score over each orbit.

    ``slice_score``: on ``X``; ``orbit_rest_score``: on every ``g·x`` with ``g`` not the identity;
    ``orbit_consistency``: share of points whose prediction agrees over the orbit (same class;
    regression: every output within ``REGRESSION_TOLERANCE`` of the canonical point's);
    ``orbit_worst_score``: accuracy counting a point right only if right on its whole orbit, or the
    mean over points of the worst squared error on the orbit; ``orbit_exact``: whether orbits
    were enumerated (else the last two are upper bounds).
    """
    elements, exact = orbit_elements(group, seed)
    identity = torch.arange(group.n)
    moving = elements[~(elements == identity).all(dim=1)]  # (k, n): every element but the identity
    base = model(X)  # (m, out)
    outputs = torch.stack([model(group.act(g, X)) for g in moving])  # (k, m, out)
    rest = score(outputs.flatten(0, 1), y.repeat(len(moving), *([1] * (y.dim() - 1))))
    if metric_name(y) == "accuracy":
        predictions = outputs.argmax(-1)  # (k, m)
        consistent = (predictions == base.argmax(-1)).all(dim=0)
        right = (predictions == y).all(dim=0) & (base.argmax(-1) == y)
        worst = float(right.float().mean())
    else:
        consistent = ((outputs - base).abs() <= REGRESSION_TOLERANCE).all(dim=-1).all(dim=0)
        errors = torch.cat([((base - y) ** 2).mean(-1)[None], ((outputs - y) ** 2).mean(-1)])  # (k+1, m)
        worst = float(errors.max(dim=0).values.mean())
    return {"slice_score": score(base, y), "orbit_rest_score": rest,
            "orbit_consistency": float(consistent.float().mean()), "orbit_worst_score": worst,
            "orbit_exact": exact}
