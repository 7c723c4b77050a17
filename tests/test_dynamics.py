"""paramspace.dynamics, teleport_study and dynamics_tables: the chapter's experiments on tiny
configurations (cached in a temporary folder)."""

import math

import numpy as np
import pytest
import torch

from symsharing.groups import symmetric
from symsharing.models import MLP, SharedMLP
from symsharing.paramspace import dynamics, dynamics_tables, teleport_study

pytestmark = pytest.mark.usefixtures("single_torch_thread")


@pytest.fixture
def tiny(tmp_path, monkeypatch):
    monkeypatch.setenv("SYMSHARING_CACHE_DIR", str(tmp_path))
    config = dynamics.chapter_config(quick=True)
    config.update(n_train=64, width=8, balance_steps=20, hessian_steps=(20, 40), convergence_cut=4000,
                  seeds=2, orbit_width=8, orbit_steps=30, sharpness_factors=(0.5, 1.0, 2.0),
                  sharpness_seeds=1, sharpness_steps=20, null_n=300)
    return config


def test_quick_mode_shrinks_the_runs():
    quick, full = dynamics.chapter_config(quick=True), dynamics.chapter_config(quick=False)
    assert quick["seeds"] < full["seeds"] and quick["balance_steps"] < full["balance_steps"]
    assert full["seeds"] >= 10 and teleport_study.study_config(quick=False)["book_seeds"] >= 10
    assert teleport_study.study_config(quick=False)["toy_seeds"] >= 10


def test_centred_units_are_active_on_half_the_data():
    X = torch.randn(301, 6, generator=torch.Generator().manual_seed(0))
    torch.manual_seed(0)
    mlp = dynamics.centred(MLP(6, 2, 5, 2), X)
    hidden = X
    for layer in mlp.layers[:-1]:
        pre = layer(hidden)
        assert ((pre > 0).float().mean(0) - 0.5).abs().max() <= 1 / 301 + 1e-6  # the median sample is on 0
        hidden = torch.relu(pre)
    shared = dynamics.centred(SharedMLP(symmetric(6), 2, 3, 2), X)
    pre = shared.layers[0](X[:, None, :])  # (batch, channels, n)
    assert ((pre > 0).float().mean((0, 2)) - 0.5).abs().max() < 0.01


def test_balance_runs_predict_exactly_and_payloads_are_json(tiny):
    runs = {run["arm"]: run for run in dynamics.balance_runs(tiny)}
    assert set(runs) == {*dynamics.BALANCE_ARMS, "SharedMLP", "deep linear"}
    for arm in ("GD", "GD + L2", "SGD", "SharedMLP", "deep linear"):
        assert runs[arm]["prediction_error"] <= 1e-12 * runs[arm]["scale"]
    assert "prediction_error" not in runs["Adam"] and runs["GD + L2"]["decay_ratio"] < 1
    again = {run["arm"]: run for run in dynamics.balance_runs(tiny)}  # read back from the cache
    assert again == runs
    table = dynamics_tables.balance_table(list(runs.values()))
    assert math.isnan(table.loc["momentum", "max |measured − predicted|"])


def test_two_layer_orbit_and_sharpness_runs(tiny):
    two_layer = dynamics.two_layer_runs(tiny)
    assert len(two_layer) == 8 and all(len(run["q"]) == len(run["scales"]) for run in two_layer)
    table = dynamics_tables.two_layer_table(two_layer)
    assert set(table.index.get_level_values("script")) == {"hessian", "convergence"}
    records = dynamics.orbit_training_runs(tiny)
    assert len(records) == 2 * len(tiny["orbit_factors"])
    orbit = dynamics_tables.orbit_table(records)
    assert orbit.loc[1.0, "ratio vs factor 1"].startswith("1.00")
    rows = dynamics.sharpness_runs(tiny)
    adaptive = [row["adaptive_trace"] for row in rows]
    assert max(adaptive) / min(adaptive) - 1 < 1e-10 and max(row["output_change"] for row in rows) < 1e-12


def test_null_space_runs_count_the_generators(tiny):
    counts = dynamics_tables.null_table(dynamics.null_space_runs(tiny))
    assert list(counts["generators"]) == [12, 6, 0, 0]
    assert (counts["generators"] == counts["zero eigenvalues"]).all()


def test_teleport_studies_on_tiny_budgets(tmp_path, monkeypatch):
    monkeypatch.setenv("SYMSHARING_CACHE_DIR", str(tmp_path))
    config = teleport_study.study_config(quick=True) | {"toy_seeds": 2, "toy_steps": 12, "book_seeds": 2,
                                                         "book_steps": 12}
    toy = teleport_study.toy_runs(config)
    assert len(toy) == 2 * 4 and all(len(row["loss"]) == 12 for row in toy)
    table, stats = dynamics_tables.speedup_table(toy, "method", [("GD", "GD + teleport")])
    assert table.loc["GD + teleport", "seeds"] == 2 and stats["GD + teleport"][0][0] > 0
    book = teleport_study.book_runs(config)
    assert {row["arm"] for row in book} == set(teleport_study.BOOK_ARMS)
    assert all(row["gradient_gain"] > 1 for row in book if row["arm"] != "GD")


def test_geometric_mean_interval():
    mean, low, high = dynamics_tables.geometric([2.0, 8.0])
    assert mean == pytest.approx(4.0) and low < mean < high
    assert np.isnan(dynamics_tables.geometric([3.0])[1])
