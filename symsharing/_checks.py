"""Argument checks shared by the whole package: one message format for a bad integer argument."""

from __future__ import annotations

import numpy as np

__all__ = ["check_int"]


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
