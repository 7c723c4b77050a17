"""The study protocol v2: budgets, bucketed and edge-extended tuning, the learning-rate table, new columns."""

import dataclasses
import math
import statistics

import numpy as np
import pandas as pd
import pytest

from symsharing import stats
from symsharing.study import axes, claims, runner
from symsharing.study import config as study_config
from symsharing.study.protocol import (
    Budget,
    best_of,
    choose_rate,
    lr_size_for,
    neighbours_missing,
    pilot_score,
)
from symsharing.tasks import get_task


@pytest.fixture(autouse=True)
def cache_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("SYMSHARING_CACHE_DIR", str(tmp_path / "cache"))


def test_budget_grows_with_n_between_its_floor_and_cap():
    budget = Budget(steps=400, epochs=30, max_steps=1000)
    assert budget.steps_for(16, 128) == 400 and budget.steps_for(2048, 128) == 480
    assert budget.steps_for(4096, 128) == 960 and budget.steps_for(100_000, 128) == 1000
    assert Budget(steps=50).steps_for(10_000, 128) == 50  # epochs = 0: a fixed budget
    assert "clip(30 * ceil(n / 128), 400, 1000)" in budget.describe(128)


def test_full_protocol_meets_the_issue():
    for name in (*study_config.STUDY_AXES, "symmetry-ladder"):
        config = study_config.config_for(name, quick=False)
        training = config.training
        assert len(config.seeds) >= 10 and training.n_pilots >= 5 and training.schedule == "warmup-cosine"
        assert max(training.lr_grid) / min(training.lr_grid) >= 50 and training.pilot_steps == 0
        assert training.max_extensions >= 2  # rounds to refine the grid to neighbours within 2x
    sizes = study_config.config_for("sample-efficiency", quick=False).n_trains
    assert len(sizes) >= 9 and min(sizes) == 16 and max(sizes) == 4096
    ring, grid = axes.ladder_configs(quick=False)
    assert len(grid.seeds) == len(ring.seeds) >= 10
    training = study_config.config_for("sample-efficiency", quick=False).training
    steps = [training.steps_for(n) for n in sizes]
    assert steps == sorted(steps) and steps[-1] > steps[0]  # the budget grows with n


def test_buckets_pick_the_nearest_size_in_log_n():
    assert lr_size_for(16, (32, 256, 2048)) == 32 and lr_size_for(100, (32, 256, 2048)) == 256
    assert lr_size_for(4096, (32, 256, 2048)) == 2048
    with pytest.raises(ValueError, match="at least one size"):
        lr_size_for(16, ())


def test_the_search_refines_to_neighbours_within_2x_and_ties_go_to_the_smaller_rate():
    # the best rate needs a tried neighbour within 2x on each side; ratio-4 grids are refined
    assert neighbours_missing((1e-3, 4e-3), 1e-3) == pytest.approx([5e-4, 2e-3])
    assert neighbours_missing((1e-3, 2e-3, 4e-3), 2e-3) == []
    assert neighbours_missing((1e-3, 2e-3, 4e-3), 4e-3) == pytest.approx([8e-3])
    # a rate at which one pilot fails (NaN: diverged or collapsed) is rejected; else the median
    assert math.isnan(pilot_score([0.9, math.nan, 0.8]))
    assert pilot_score([0.9, 0.1, 0.8, 0.85, 0.7]) == 0.8
    assert choose_rate({1e-3: 0.9, 3e-3: 0.9, 1e-2: 0.5}, larger_better=True) == 1e-3
    assert choose_rate({1e-3: 0.2, 3e-3: 0.1, 1e-2: math.nan}, larger_better=False) == 3e-3
    assert choose_rate({1e-3: math.nan}, larger_better=True) is None


def test_rates_tied_at_a_saturated_median_go_to_the_best_mean_then_the_smaller_rate():
    # medians tied at 1: the rate at which every pilot fits wins against one where some fall short
    medians = {1e-3: 0.98, 4e-3: 1.0, 1.6e-2: 1.0, 6.4e-2: 1.0}
    means = {1e-3: 0.97, 4e-3: 0.9992, 1.6e-2: 1.0, 6.4e-2: 1.0}
    assert choose_rate(medians, True, means) == 1.6e-2
    # the mean breaks ties only: a better median wins against any mean
    assert choose_rate({1e-3: 0.99, 4e-3: 0.98}, True, {1e-3: 0.5, 4e-3: 0.98}) == 1e-3
    # a smaller error wins when smaller is better; missing or NaN means rank last
    assert choose_rate({1e-3: 0.1, 4e-3: 0.1}, False, {1e-3: 0.2, 4e-3: 0.15}) == 4e-3
    assert choose_rate(medians, True, {1.6e-2: math.nan, 6.4e-2: 0.99}) == 6.4e-2
    assert choose_rate(medians, True) == 4e-3
    assert best_of({8: 1.0, 16: 1.0}, True, {8: 0.999, 16: 1.0}) == 16
    assert best_of({8: math.nan}, True) is None
    assert pilot_score([1.0, 0.9, 1.0], statistics.mean) == pytest.approx(2.9 / 3)


ORIGINAL_CONFIG_FOR = study_config.config_for


def small_config(name):
    config = ORIGINAL_CONFIG_FOR(name, quick=True)
    training = dataclasses.replace(config.training, steps=3, n_test=64, lr_grid=(1e-3, 1e-2), lr_n_train=16,
                                   max_extensions=1, n_pilots=2, mlp_width=8, width_factors=(1, 2))
    tasks = ("ring",) if name == "symmetry-ladder" else ("set",)
    return dataclasses.replace(config, seeds=(0, 1), n_trains=(16, 32), tasks=tasks, training=training)


def test_tuning_refines_once_and_the_table_has_the_columns(monkeypatch):
    monkeypatch.setattr(axes, "config_for", lambda name, quick=None, seeds=None: small_config(name))
    table = axes.learning_rates()
    assert list(table.columns) == ["task", "family", "n_train", "width", "lr", "candidates",
                                   "validation_score", "lr_at_edge", "validation_mean"]
    candidates = table["candidates"].str.split(";")
    # the grid (1e-3, 1e-2) is 10x apart: one round adds the best rate's neighbours at 2x each side;
    # a target whose every rate failed (3 steps: some pilots collapse) keeps the grid, flagged;
    # a wider width's search starts from the first width's rate and its neighbours at 2x
    config = small_config("sample-efficiency")
    task = get_task("set")
    refined = seeded = 0
    for (_, row), tried in zip(table.iterrows(), candidates, strict=True):
        assert f"{row['lr']:g}" in tried
        first = config.training.widths(row["task"], row["family"])[0]
        if row["task"] == "set" and row["width"] != first:
            base = (row["family"], first, int(row["n_train"]))
            rate = runner.tune_learning_rates(task, config.training, [base])[base]["lr"]
            assert {f"{rate / 2:g}", f"{rate:g}", f"{rate * 2:g}"} <= set(tried)
            seeded += 1
            continue
        if math.isnan(row["validation_score"]):
            assert len(tried) == 2 and row["lr_at_edge"]
            continue
        assert {"0.0005", "0.002"} <= set(tried) or {"0.005", "0.02"} <= set(tried)
        refined += 1
    assert refined > 0 and seeded > 0


def test_records_carry_the_protocol_columns(monkeypatch):
    monkeypatch.setattr(axes, "config_for", lambda name, quick=None, seeds=None: small_config(name))
    frame = axes.sample_efficiency()
    assert set(study_config.PROTOCOL_COLUMNS) <= set(frame.columns)
    assert set(study_config.RECORD_COLUMNS) <= set(frame.columns)
    assert (frame["data_seed"] == frame["seed"]).all() and (frame["init_seed"] == frame["seed"]).all()
    assert (frame["steps_taken"] <= frame["steps"]).all() and (frame["macs"] > 0).all()
    assert frame["collapsed"].dtype == bool
    # the width is tuned like the rate: the default or twice it, per family and size bucket
    for family, default in (("mlp", 8), ("shared", 16)):
        assert set(frame.loc[frame["family"] == family, "width"]) <= {default, 2 * default}
    variance = runner.target_variance("set")
    np.testing.assert_allclose(frame["normalised_score"], frame["test_score"] / variance)
    assert 0.5 < variance < 1.5  # the sum of the two largest of 8 standard normals
    assert math.isnan(runner.target_variance("ring"))


def test_holm_and_one_sided_p():
    np.testing.assert_allclose(stats.holm([0.01, 0.04, 0.03]), [0.03, 0.06, 0.06])
    assert stats.one_sided_p([1.0, 1.2, 0.9, 1.1]) < 0.01
    assert stats.one_sided_p([-1.0, -1.2, -0.9, -1.1]) > 0.99
    assert math.isnan(stats.one_sided_p([1.0]))


def test_target_variance_is_of_the_distribution_not_the_test_set():
    task = get_task("set")
    assert runner.target_variance("set", "ood") > 3 * runner.target_variance("set", "test")
    assert task.kind == "regression"


def test_seed_variance_separates_data_from_initialisation():
    rng = np.random.default_rng(0)
    rows = []
    for data_seed in range(10):
        data_effect = {"mlp": rng.normal(0, 0.05), "shared": rng.normal(0, 0.01)}
        for k in range(3):
            for family in ("mlp", "shared"):
                rows.append({"task": "ring", "family": family, "data_seed": data_seed,
                             "init_seed": 100 * k + data_seed, "metric": "accuracy", "diverged": False,
                             "test_score": 0.8 + data_effect[family] + rng.normal(0, 0.002)})
    found = claims.seed_variance_effect(pd.DataFrame(rows), "ring")
    assert found["data_seeds"] == 10 and found["init_seeds"] == 3
    assert found["effect"] > 0.5 and found["low"] > 0 and found["p"] < 0.05  # mlp varies ~5x more
    assert found["components"]["mlp"]["between_data"] > 10 * found["components"]["mlp"]["within_data"]
    assert found["components"]["mlp"]["mean_error"] == pytest.approx(
        1 - pd.DataFrame(rows).query("family == 'mlp'")["test_score"].mean())
