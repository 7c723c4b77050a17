"""Caption findings: every outcome of an effect in words (above, below, around zero, no interval, not
measured), groups in a fixed order, and bad input."""

import math

import numpy as np
import pytest

from symsharing.figures.captions import SIDES, by_side, listing, side, signed
from symsharing.stats import confidence_interval

PHRASES = {"above": "the tied model leads", "below": "the MLP leads", "zero": "neither is ahead",
           "none": "no interval"}


@pytest.mark.parametrize(("effect", "expected"), [
    ((0.2, 0.1, 0.3), "above"), ((-0.2, -0.3, -0.1), "below"), ((0.1, -0.1, 0.3), "zero"),
    ((0.0, 0.0, 0.0), "zero"), ((0.2, math.nan, math.nan), "none"), ((math.nan,) * 3, "none"),
    ((0.1, 0.0, 0.2), "zero"), ((-0.1, -0.2, 0.0), "zero")])
def test_side_of_zero(effect, expected):
    assert side(effect) == expected


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_side_of_numpy_effects(dtype):
    values = np.array([0.1, 0.2, 0.15, 0.12], dtype=dtype)
    assert side(confidence_interval(values)) == "above"
    assert side(confidence_interval(-values)) == "below"
    assert side(confidence_interval(values[:1])) == "none"  # one seed: no interval
    assert side(np.array([0.1, -0.05, 0.2], dtype=dtype)) == "zero"


def test_signed_text_for_every_outcome():
    assert signed((0.1234, 0.0451, 0.2011)) == "+0.123 [+0.045, +0.201]"
    assert signed((-0.5, -0.75, -0.25), digits=1) == "-0.5 [-0.8, -0.2]"
    assert signed((0.2, math.nan, math.nan)) == "+0.200, no interval"
    assert signed((math.nan, math.nan, math.nan)) == "not measured"


def test_listing():
    assert listing([]) == "none"
    assert listing([], empty="nowhere") == "nowhere"
    assert listing(["ring"]) == "ring"
    assert listing(["ring", "grid"]) == "ring and grid"
    assert listing([16, 64, 256]) == "16, 64 and 256"


def test_by_side_groups_in_a_fixed_order():
    effects = {"set": (0.01, -0.02, 0.04), "ring": (0.2, 0.1, 0.3), "grid": (0.1, 0.05, 0.15),
               "other": (-0.3, -0.4, -0.2), "few": (0.3, math.nan, math.nan)}
    text = by_side(effects, PHRASES, digits=2)
    assert text == ("the tied model leads on ring (+0.20 [+0.10, +0.30]) and grid (+0.10 [+0.05, +0.15]); "
                    "the MLP leads on other (-0.30 [-0.40, -0.20]); neither is ahead on set "
                    "(+0.01 [-0.02, +0.04]); no interval on few (+0.30, no interval)")
    assert [name for name in SIDES if PHRASES[name] in text] == list(SIDES)


def test_by_side_needs_only_the_phrases_that_occur():
    assert by_side({"ring": (0.2, 0.1, 0.3)}, {"above": "ahead"}) == "ahead on ring (+0.200 [+0.100, +0.300])"
    with pytest.raises(KeyError, match="'below'"):
        by_side({"ring": (-0.2, -0.3, -0.1)}, {"above": "ahead"})


@pytest.mark.parametrize(("call", "error", "match"), [
    (lambda: side("0.1"), TypeError, "sequence"),
    (lambda: side(0.1), TypeError, "sequence"),
    (lambda: side((0.1, 0.2)), ValueError, "3 numbers"),
    (lambda: side((0.1, "a", 0.2)), TypeError, "numbers"),
    (lambda: signed((0.1, 0.0, 0.2), digits=-1), ValueError, "digits"),
    (lambda: signed((0.1, 0.0, 0.2), digits=1.5), ValueError, "digits"),
    (lambda: listing("ring"), TypeError, "single string"),
    (lambda: by_side({}, PHRASES), ValueError, "at least one"),
    (lambda: by_side([("ring", (0.1, 0.0, 0.2))], PHRASES), TypeError, "mappings"),
])
def test_bad_input(call, error, match):
    with pytest.raises(error, match=match):
        call()
