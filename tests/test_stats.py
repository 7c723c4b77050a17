"""The shared statistics: crossings (ties, curves that start above the level, censoring), the
Hoeffding margin, and which runs may be averaged."""

import math

import numpy as np
import pandas as pd
import pytest

from symsharing.stats import first_crossing, hoeffding_margin, summarize, usable

SIZES = np.array([16.0, 64.0, 256.0])


def test_first_crossing_interpolates_in_log_n():
    # the curve reaches 0.5 halfway (in log n) between 16 and 64
    assert first_crossing(SIZES, [0.4, 0.6, 0.9], 0.5) == pytest.approx(32.0)
    # falling curves reach a level from above
    assert first_crossing(SIZES, [0.9, 0.3, 0.1], 0.6, rising=False) == pytest.approx(32.0)


def test_first_crossing_at_the_smallest_size_is_that_size():
    assert first_crossing(SIZES, [0.7, 0.8, 0.9], 0.5) == 16.0


def test_first_crossing_censored_is_nan():
    assert math.isnan(first_crossing(SIZES, [0.1, 0.2, 0.3], 0.5))
    assert math.isnan(first_crossing(SIZES, [0.1, math.nan, 0.3], 0.5))  # NaN never reaches


def test_a_tie_is_a_crossing_unless_strict():
    advantage = [0.2, 0.1, 0.0]  # both arms at accuracy 1 at the largest size: a tie, not a loss
    assert first_crossing(SIZES, advantage, 0.0, rising=False) == 256.0
    assert math.isnan(first_crossing(SIZES, advantage, 0.0, rising=False, strict=True))
    assert first_crossing(SIZES, [0.2, 0.1, -0.1], 0.0, rising=False, strict=True) == pytest.approx(
        math.exp(math.log(64) + 0.5 * math.log(4)))


def test_first_crossing_bad_shapes():
    with pytest.raises(ValueError, match="1-D of one length"):
        first_crossing(SIZES, [0.1, 0.2], 0.5)


def test_hoeffding_margin_matches_its_bound():
    t = hoeffding_margin(20_480, 1e-6)
    assert math.exp(-2 * 20_480 * t**2) == pytest.approx(1e-6)
    assert hoeffding_margin(20_480, 1e-6, tests=12) > t  # Bonferroni over 12 checks
    # the bound holds in simulation: means of Bernoulli(p) samples exceed p + t far less than 1e-6
    # of the time; at a much looser level the empirical rate stays under the bound
    rng = np.random.default_rng(0)
    n, p = 400, 0.8
    means = rng.binomial(n, p, size=200_000) / n
    loose = hoeffding_margin(n, 0.01)
    assert (means > p + loose).mean() <= 0.01
    for bad in (0, -3, 2.5, True):
        with pytest.raises(ValueError, match="n_samples"):
            hoeffding_margin(bad)
    with pytest.raises(ValueError, match="false_alarm"):
        hoeffding_margin(10, 1.5)


def test_collapsed_and_diverged_runs_are_counted_not_averaged():
    frame = pd.DataFrame({"family": ["a"] * 4, "test_score": [0.9, 0.8, 0.5, float("nan")],
                          "diverged": [False, False, False, True], "collapsed": [False, False, True, False]})
    assert usable(frame).tolist() == [True, True, False, False]
    row = summarize(frame, ["family"]).iloc[0]
    assert row["mean"] == pytest.approx(0.85) and row["runs"] == 4
    assert row["diverged"] == 1 and row["collapsed"] == 1
