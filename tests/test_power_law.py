"""analysis.power_law: err(n) = a n^-b + c recovered with intervals that cover the truth."""
import numpy as np
import pandas as pd
import pytest

from symsharing.study import analysis


def _sample(a=2.0, b=0.5, c=0.1, noise=0.01, seeds=6):
    rng = np.random.default_rng(0)
    sizes = np.repeat([16, 32, 64, 128, 256, 512, 1024], seeds).astype(float)
    return sizes, a * sizes ** -b + c + noise * rng.standard_normal(len(sizes))


def test_power_law_recovers_exponent_and_floor():
    sizes, errors = _sample()
    fit = analysis.power_law(sizes, errors, n_boot=100)
    assert abs(fit["b"] - 0.5) < 0.1 and abs(fit["c"] - 0.1) < 0.02
    assert fit["b_low"] <= 0.5 <= fit["b_high"] and fit["c_low"] <= 0.1 <= fit["c_high"]


def test_power_law_table_uses_error_of_accuracy():
    sizes, errors = _sample()
    frame = pd.DataFrame({"task": "grid", "family": "shared", "n_train": sizes.astype(int),
                          "metric": "accuracy", "normalised_score": 1 - errors})
    table = analysis.power_law_table(frame, n_boot=50)
    assert list(table.columns) == ["task", "family", "a", "b", "c", "b_low", "b_high", "c_low", "c_high"]
    assert abs(table["c"].iloc[0] - 0.1) < 0.02


def test_power_law_needs_three_sizes():
    with pytest.raises(ValueError, match="3 distinct"):
        analysis.power_law([16, 16, 32], [0.5, 0.4, 0.3])
