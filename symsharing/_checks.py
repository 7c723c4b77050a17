"""Argument checks shared by the whole package: one message format for a bad integer argument."""

from __future__ import annotations

import math

import numpy as np

__all__ = ["check_int", "check_seeds", "check_nonnegative"]


def check_int(value, name: str, minimum: int | None = None, meaning: str = "") -> int:
    """``value`` as a Python int.

    TypeError unless it is an integer (Python or NumPy; a bool is not), ValueError when it is below
    ``minimum``; both messages name the argument and the value. ``meaning`` adds a few words to the
    ValueError, e.g. ``" (number of hidden layers)"``.
    """
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an int, got {value!r} ({type(value).__name__})")
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be >= {minimum}{meaning}, got {value}")
    return int(value)


def check_seeds(seeds) -> tuple[int, ...]:
    """``seeds`` (an int count, or a list/tuple/range of ints) as a non-empty tuple of seeds."""
    if isinstance(seeds, bool) or not isinstance(seeds, (int, np.integer, list, tuple, range)):
        raise TypeError(f"seeds must be an int count or a list of ints, got {seeds!r}")
    seeds = tuple(range(int(seeds))) if isinstance(seeds, (int, np.integer)) else tuple(int(s) for s in seeds)
    if not seeds:
        raise ValueError("seeds must hold at least one seed, got none")
    return seeds


def check_nonnegative(value, name: str) -> float:
    """``value`` as a float; ValueError unless it is a finite number >= 0 (a bool is not)."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating, np.integer)) \
            or not math.isfinite(value) or not value >= 0:
        raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
    return float(value)
