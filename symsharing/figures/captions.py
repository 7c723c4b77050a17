"""Findings for figure captions: the first sentence of a caption says what its figure shows.

Distill's articles and the QuantEcon lectures let a caption carry a figure's message, not only its
axes (docs/design.md, "captions state the finding"). A chapter computes that sentence from its own
results, so it must read right for every outcome: an effect whose 95 % interval lies above zero,
below zero or around it, an interval that cannot be computed (fewer than two usable seeds) and an
effect that was not measured at all. The helpers here turn ``(mean, low, high)`` effects, as
``stats.confidence_interval`` and ``stats.paired_effect`` return them, into such words.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

__all__ = ["SIDES", "side", "signed", "listing", "by_side"]

# where an effect's interval lies: above 0, below 0, around 0, or no interval to tell
SIDES = ("above", "below", "zero", "none")


def _effect(effect) -> tuple[float, float, float]:
    """``(mean, low, high)`` as floats; a TypeError/ValueError naming the value otherwise."""
    if isinstance(effect, (str, bytes)) or not hasattr(effect, "__len__"):
        raise TypeError(f"an effect must be a (mean, low, high) sequence, got {effect!r}")
    if len(effect) != 3:
        raise ValueError(f"an effect must have 3 numbers (mean, low, high), got {len(effect)}: {effect!r}")
    try:
        return tuple(float(value) for value in effect)
    except (TypeError, ValueError) as error:
        raise TypeError(f"an effect must hold numbers (mean, low, high), got {effect!r}") from error


def side(effect) -> str:
    """Where the 95 % interval of ``effect = (mean, low, high)`` lies: ``"above"`` zero, ``"below"``
    zero, ``"zero"`` (it holds zero), or ``"none"`` (no interval: NaN ends, or no mean)."""
    mean, low, high = _effect(effect)
    if math.isnan(mean) or math.isnan(low) or math.isnan(high):
        return "none"
    if low > 0:
        return "above"
    if high < 0:
        return "below"
    return "zero"


def signed(effect, digits: int = 3) -> str:
    """``'+0.123 [+0.045, +0.201]'``; ``'+0.123, no interval'`` where the interval is NaN;
    ``'not measured'`` where the mean is."""
    if isinstance(digits, bool) or not isinstance(digits, int) or digits < 0:
        raise ValueError(f"digits must be a non-negative integer, got {digits!r}")
    mean, low, high = _effect(effect)
    if math.isnan(mean):
        return "not measured"
    if math.isnan(low) or math.isnan(high):
        return f"{mean:+.{digits}f}, no interval"
    return f"{mean:+.{digits}f} [{low:+.{digits}f}, {high:+.{digits}f}]"


def listing(items: Iterable, empty: str = "none") -> str:
    """``'a'``, ``'a and b'``, ``'a, b and c'``; ``empty`` for no items."""
    if isinstance(items, (str, bytes)):
        raise TypeError(f"items must be an iterable of items, not a single string: {items!r}")
    items = [str(item) for item in items]
    if not items:
        return empty
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def by_side(effects: Mapping[str, tuple], phrases: Mapping[str, str], digits: int = 3) -> str:
    """Effects grouped by the side of zero their intervals lie on, in the order of ``SIDES``:
    ``'{phrases["above"]} on ring (+0.21 [+0.15, +0.27]) and grid (…); {phrases["zero"]} on set (…)'``.

    ``effects`` maps a label (a task, a size) to ``(mean, low, high)``; ``phrases`` holds the words
    for each side that occurs (a KeyError names a missing one). An empty ``effects`` is a
    ValueError: a caption must not state a finding about nothing.
    """
    if not isinstance(effects, Mapping) or not isinstance(phrases, Mapping):
        raise TypeError(f"effects and phrases must be mappings, got {type(effects).__name__} and "
                        f"{type(phrases).__name__}")
    if not effects:
        raise ValueError("by_side needs at least one effect, got none")
    groups: dict[str, list[str]] = {name: [] for name in SIDES}
    for label, effect in effects.items():
        groups[side(effect)].append(f"{label} ({signed(effect, digits)})")
    parts = []
    for name in SIDES:
        if not groups[name]:
            continue
        if name not in phrases:
            raise KeyError(f"no phrase for effects whose interval is {name!r}; phrases has {sorted(phrases)}")
        parts.append(f"{phrases[name]} on {listing(groups[name])}")
    return "; ".join(parts)
