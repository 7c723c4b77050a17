"""Mode-connectivity experiments: records, caching, summaries (tiny configurations)."""

import math

import numpy as np
import pytest

from symsharing.paramspace.connectivity import (
    LIM_ORDER,
    barrier_order,
    chapter_config,
    curve_band,
    load_dataset,
    mode_connectivity,
    steps_to_loss,
    summarize,
)

TINY = {"n_pairs": 2, "width": 6, "steps": 5, "n_train": 64, "n_test": 32, "n_points": 5,
        "shared_channels": 3, "n_fixed": 2}


@pytest.fixture
def tiny_records(tmp_path, monkeypatch):
    monkeypatch.setenv("SYMSHARING_CACHE_DIR", str(tmp_path))
    return mode_connectivity("ring", ("mlp", "w-asym", "sigma-asym", "shared"), **TINY)


def test_records_hold_every_arm_and_pair(tiny_records):
    arms = {"mlp", "mlp-aligned", "w-asym", "sigma-asym", "shared", "shared-aligned",
            "shared-rotation-aligned"}
    assert {r["family"] for r in tiny_records} == arms
    assert len(tiny_records) == 2 * len(arms)
    for record in tiny_records:
        assert record["experiment"] == "mode-connectivity" and record["task"] == "ring"
        assert len(record["loss"]) == len(record["score"]) == len(record["alpha"]) == 5
        assert record["barrier"] >= -1e-6 and len(record["train_loss_a"]) == 5
    by_arm = {(r["family"], r["seed"]): r for r in tiny_records}
    for pair in range(2):  # aligning changes the path, never the endpoints' functions
        plain, aligned = by_arm["mlp", pair], by_arm["mlp-aligned", pair]
        assert aligned["loss"][0] == plain["loss"][0]
        assert aligned["loss"][-1] == pytest.approx(plain["loss"][-1], rel=1e-5)


def test_second_call_reads_the_cache(tiny_records, tmp_path):
    assert list(tmp_path.rglob("*.json"))
    again = mode_connectivity("ring", ("mlp", "w-asym", "sigma-asym", "shared"), **TINY)
    assert again == tiny_records


def test_summaries_and_bands(tiny_records):
    summary = summarize(tiny_records)
    mean, low, high = summary["ring", "mlp"]
    assert low <= mean <= high
    alpha, mean, low, high = curve_band(tiny_records, "ring", "w-asym", "score")
    assert alpha[0] == 0.0 and alpha[-1] == 1.0 and mean.shape == (5,)
    assert sorted(barrier_order(tiny_records, "ring")) == sorted(LIM_ORDER)
    with pytest.raises(KeyError):
        curve_band(tiny_records, "digits", "mlp")


def test_steps_to_loss():
    history = np.concatenate([np.ones(50), np.zeros(50)])
    assert steps_to_loss(history, 0.5, window=10) == 55.0  # mean of the last 10 <= 0.5 after 5 zeros
    assert math.isnan(steps_to_loss(np.ones(100), 0.5))


def test_digits_split_and_bad_names():
    X_train, y_train, X_test, y_test, group = load_dataset("digits")
    assert X_train.shape[1] == 64 and len(X_train) + len(X_test) == 1797 and group is None
    assert set(y_train.tolist()) == set(range(10))
    with pytest.raises(KeyError):
        load_dataset("mnist")
    with pytest.raises(KeyError):
        chapter_config("grid")
    with pytest.raises(KeyError, match="unknown configuration"):
        mode_connectivity("ring", ("mlp",), widht=4)
