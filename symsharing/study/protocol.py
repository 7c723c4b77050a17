"""The study's training protocol: budgets that grow with the data, and fair learning-rate tuning.

**Budget.** A model trained on ``n`` samples with mini-batches of ``b`` gets
``clip(epochs * ceil(n / b), steps, max_steps)`` Adam steps (``epochs = 0``: a fixed ``steps``), with
the learning rate decayed to zero by a cosine schedule, so that every size is trained to (near)
convergence rather than for one budget tuned for the middle of the sweep.

**Tuning** ("oracle" protocol: the validation data come from outside the ``n`` training samples,
as in most benchmark studies). The rate of each (task, family, width, size bucket) is the rate with
the best *median* validation score over ``n_pilots`` pilot runs, each trained for the real budget
on its own pilot training set of the bucket's representative size and scored on one validation
set shared by every family; pilot data and validation data are drawn from seeds outside the
study's training and test seeds. A rate at which any pilot diverges or collapses (constant output)
is rejected. The search starts from a coarse log grid and, round after round, adds the rates that
the best one lacks as neighbours within a factor of 2 on either side (``neighbours_missing``), at
most ``max_extensions`` rounds: the chosen rate ends interior, with a tried rate within 2x on each
side, or is flagged (``lr_at_edge``). Rates tied at the best median score (an accuracy saturated at 1)
go to the best mean score over the pilots, then to the smaller rate.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass

__all__ = ["Budget", "lr_size_for", "neighbours_missing", "pilot_score", "choose_rate", "best_of"]


@dataclass(frozen=True)
class Budget:
    """Adam steps for ``n`` samples: ``clip(epochs * ceil(n / batch_size), steps, max_steps)``."""

    steps: int
    epochs: int = 0
    max_steps: int = 0

    def steps_for(self, n_train: int, batch_size: int) -> int:
        if self.epochs <= 0:
            return self.steps
        steps = max(self.steps, self.epochs * math.ceil(n_train / batch_size))
        return min(steps, self.max_steps) if self.max_steps else steps

    def describe(self, batch_size: int) -> str:
        if self.epochs <= 0:
            return f"a fixed budget of {self.steps} Adam steps (mini-batches of {batch_size})"
        cap = f", at most {self.max_steps}" if self.max_steps else ""
        return (f"{self.epochs} epochs of mini-batches of {batch_size}, at least {self.steps} Adam "
                f"steps{cap}: steps = clip({self.epochs} * ceil(n / {batch_size}), {self.steps}"
                f"{', ' + str(self.max_steps) if self.max_steps else ''})")


def lr_size_for(n_train: int, lr_sizes: tuple[int, ...]) -> int:
    """The representative size of ``n_train``'s bucket: the nearest of ``lr_sizes`` in log n."""
    if not lr_sizes:
        raise ValueError("lr_sizes must hold at least one size")
    return min(lr_sizes, key=lambda size: (abs(math.log(n_train) - math.log(size)), size))


def neighbours_missing(tried, best: float, margin: float = 2.0) -> list[float]:
    """The rates to try next so that ``best`` has a tried neighbour within ``margin`` times on each
    side: ``best / margin`` when no tried rate lies in ``[best / margin, best)``, ``best * margin``
    when none lies in ``(best, best * margin]``; an empty list when ``best`` is interior with that
    margin (the search is done)."""
    tolerance = 1 + 1e-9
    lower = [rate for rate in tried if best / (margin * tolerance) <= rate < best]
    upper = [rate for rate in tried if best < rate <= best * margin * tolerance]
    return ([] if lower else [best / margin]) + ([] if upper else [best * margin])


def pilot_score(scores, statistic=statistics.median) -> float:
    """A rate's score from its pilots: their median (or ``statistic``), or NaN when any pilot diverged
    or collapsed (NaN): a rate at which one pilot fails is rejected."""
    values = [float(score) for score in scores]
    if not values or any(value != value for value in values):
        return float("nan")
    return float(statistic(values))


def choose_rate(scores: dict[float, float], larger_better: bool, means: dict[float, float] | None = None
                ) -> float | None:
    """The rate with the best score (NaN scores never win); among rates tied at the best score, the one
    with the best ``means`` (the pilots' mean score: a median saturated at an accuracy of 1 cannot
    tell a rate at which every pilot fits from one at which two of five fall short), then the smaller
    rate; None when every score is NaN."""
    best = best_of(scores, larger_better, means)
    return None if best is None else float(best)


def best_of(scores: dict, larger_better: bool, means: dict | None = None):
    """The key of ``scores`` with the best finite score, ties broken by the better finite value in
    ``means`` (a missing or NaN one ranks last), then by the smaller key; None when no score is
    finite. The rule by which the tuning picks a rate, and a width."""
    finite = {key: score for key, score in scores.items() if score == score}
    if not finite:
        return None
    best = max(finite.values()) if larger_better else min(finite.values())
    tied = [key for key, score in finite.items() if score == best]
    means = means or {}

    def mean_rank(key):
        mean = means.get(key, math.nan)
        return (0, -mean if larger_better else mean) if mean == mean else (1, 0.0)

    return min(tied, key=lambda key: (mean_rank(key), key))
