"""Closed forms of ``symsharing.theory`` against hand computations, the engine against least
squares, and least squares against the formulas in distribution."""

import math

import numpy as np
import pytest
import torch

from symsharing import stats, tasks
from symsharing.groups import grid_dihedral, trivial
from symsharing.theory import kernels, linear

# Trained weights reach the least-squares solution to this (absolute, per weight) tolerance.
WEIGHT_TOLERANCE = 2e-3


def test_closed_forms_by_hand():
    # d = 8, n = 20, sigma = 2: 4 * 8 / 11
    assert linear.ls_excess_risk(20, 8, 2.0) == pytest.approx(32 / 11)
    assert linear.ls_train_mse(20, 8, 2.0) == pytest.approx(4 * (1 - 8 / 20))
    assert linear.ls_train_test_gap(20, 8, 2.0) == pytest.approx(4 * (8 / 11 + 8 / 20))
    assert linear.invariant_excess_risk(20, 1, 1.0) == pytest.approx(1 / 18)
    # n' = d + 1 + (d/k)(n - k - 1) = 49 + 1 + 4.9 * 89 = 486.1 at n = 100, d = 49, k = 10
    assert linear.exchange_rate(100, 49, 10) == pytest.approx(486.1 / 100)
    assert linear.approximate_excess_risk(20, 1, 1.0, 0.5) == pytest.approx((0.25 * 19 + 1) / 18)
    # the two sides are equal at the predicted crossover, and the invariant side wins before it
    n = linear.predicted_crossover(49, 10, 1.0, 0.3)
    assert linear.ls_excess_risk(n, 49) == pytest.approx(linear.approximate_excess_risk(n, 10, 1.0, 0.3))
    assert linear.ls_excess_risk(0.9 * n, 49) > linear.approximate_excess_risk(0.9 * n, 10, 1.0, 0.3)
    assert linear.predicted_crossover(49, 10, 1.0, 0.0) == math.inf


@pytest.mark.parametrize("bad", [8, 9, 5])
def test_closed_forms_reject_too_few_samples(bad):
    with pytest.raises(ValueError, match="n > 9"):
        linear.ls_excess_risk(bad, 8)


def test_linear_task_structure():
    task = tasks.LinearTask("t", grid_dihedral(7), epsilon=0.5)
    assert (task.d, task.k) == (49, 10)
    orbit = task.group.orbit_index()
    for o in range(task.k):
        values = task.theta_invariant[orbit == o]
        assert torch.allclose(values, values[0].expand_as(values))
        assert abs(float(task.theta_perp[orbit == o].sum())) < 1e-12
    assert float(task.theta_perp.norm()) == pytest.approx(1.0)
    X, y = task.sample(30, 3)
    X2, y2 = task.sample(30, 3)
    assert torch.equal(X, X2) and torch.equal(y, y2) and X.shape == (30, 49) and y.shape == (30, 1)
    assert torch.equal(task.sample(10, 3)[0], X[:10])
    with pytest.raises(ValueError, match="orthogonal"):
        tasks.LinearTask("fixed", trivial(4), epsilon=0.1)


@pytest.mark.parametrize("name", ["linear-set", "linear-grid"])
def test_trained_weights_equal_least_squares(name):
    task = tasks.get_linear_task(name)
    seeds = [0, 1]
    datasets = [task.sample(task.d + 8, seed) for seed in seeds]
    for family in ("unconstrained", "invariant"):
        models = [linear.InvariantLinearMap(task.group) if family == "invariant"
                  else linear.LinearMap(task.d) for _ in seeds]
        linear.train_linear(models, datasets, seeds=seeds)
        for model, (X, y) in zip(models, datasets, strict=True):
            exact = linear.least_squares(X, y) if family == "unconstrained" \
                else linear.invariant_least_squares(X, y, task.group)
            trained = model.effective_weight().detach().double()
            assert torch.allclose(trained, exact, atol=WEIGHT_TOLERANCE, rtol=0), family


def test_least_squares_matches_formulas_in_distribution():
    # Pooled over sizes n >= 2d + 2 (the excess risk has a finite variance there): the mean of
    # measured / predicted lies within 4 standard errors of 1, for both families.
    task = tasks.get_linear_task("linear-grid")
    sizes = (2 * task.d + 2, 4 * task.d)
    frame = linear.least_squares_draws(task, sizes, n_seeds=150)
    for family, formula in (("unconstrained", lambda n: linear.ls_excess_risk(n, task.d)),
                            ("invariant", lambda n: linear.invariant_excess_risk(n, task.k))):
        rows = frame[frame["family"] == family]
        ratio = rows["excess_risk"].to_numpy() / formula(rows["n_train"].to_numpy())
        error = ratio.std(ddof=1) / math.sqrt(len(ratio))
        assert abs(ratio.mean() - 1) < 4 * error, (family, ratio.mean(), error)
        assert error < 0.05  # the test has the power to see a 20 % error


def test_approximate_excess_risk_in_distribution():
    task = tasks.get_linear_task("linear-grid").with_epsilon(0.5)
    frame = linear.least_squares_draws(task, (60, 120), n_seeds=150)
    rows = frame[frame["family"] == "invariant"]
    ratio = rows["excess_risk"].to_numpy() / linear.approximate_excess_risk(
        rows["n_train"].to_numpy(), task.k, task.sigma, 0.5)
    assert abs(ratio.mean() - 1) < 4 * ratio.std(ddof=1) / math.sqrt(len(ratio))


def test_calibration_records(tmp_path, monkeypatch):
    monkeypatch.setenv("SYMSHARING_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(linear, "LINEAR_TASKS", {"linear-set": tasks.get_linear_task("linear-set")})
    frame = linear.write_linear_results(tmp_path / "theory-linear.csv", quick=True)
    for column in ("task", "family", "d", "k", "sigma", "n_train", "seed", "excess_risk",
                   "train_mse", "test_mse"):
        assert column in frame.columns
    assert set(frame["family"]) == {"unconstrained", "invariant", "augmented"}
    assert (tmp_path / "theory-linear.csv").exists()
    exact = frame[frame["family"] != "augmented"]
    assert np.allclose(exact["excess_risk"], exact["ls_excess_risk"], atol=1e-4)


def test_invariant_kernels_are_invariant_and_psd():
    from symsharing.tasks import get_task
    for name in ("set", "ring", "grid"):
        task = get_task(name)
        X, _ = task.sample(40, 0)
        A = X.double()
        g = task.group.random_elements(40, torch.Generator().manual_seed(1))
        K = kernels.invariant_kernel(task, A, A, 0.1)
        moved = kernels.invariant_kernel(task, task.group.act(g, A), A, 0.1)
        assert torch.allclose(K, moved, atol=1e-10), name
        assert torch.allclose(K, K.T, atol=1e-12)
        assert float(torch.linalg.eigvalsh(K).min()) > -1e-10, name
        # the base kernel is not invariant
        assert not torch.allclose(kernels.rbf(A, A, 0.1), kernels.rbf(task.group.act(g, A), A, 0.1))


def test_bootstrap_exchange_rates_recover_a_known_rate():
    import pandas as pd

    # reference score at n equals the baseline score at 4n: rate 4 wherever it is inside the range
    rows = []
    for seed in range(4):
        for n in (16, 32, 64, 128, 256):
            rows.append({"task": "t", "family": "ref", "seed": seed, "n_train": n, "metric": "mse",
                         "diverged": False, "test_score": 1.0 / (4 * n) + 1e-4 * seed})
            rows.append({"task": "t", "family": "base", "seed": seed, "n_train": n, "metric": "mse",
                         "diverged": False, "test_score": 1.0 / n + 1e-4 * seed})
    rates = stats.bootstrap_exchange_rates(pd.DataFrame(rows), "ref", "base", n_boot=20)
    inside = rates[rates["n_train"] <= 64]
    assert np.allclose(inside["rate"], 4.0, rtol=0.05)
    assert (inside["censored_share"] == 0).all()
    assert rates.loc[rates["n_train"] == 256, "censored_share"].iloc[0] == 1.0


def test_kernel_records_are_the_same_on_any_worker_count_and_read_back(tmp_path, monkeypatch):
    import pandas as pd


    monkeypatch.setenv("SYMSHARING_CACHE_DIR", str(tmp_path / "one"))
    monkeypatch.setenv("SYMSHARING_WORKERS", "1")
    one = kernels.kernel_records(tasks=("ring", "set"), sizes=(16, 32), seeds=(0, 1))
    monkeypatch.setenv("SYMSHARING_CACHE_DIR", str(tmp_path / "two"))
    monkeypatch.setenv("SYMSHARING_WORKERS", "2")
    two = kernels.kernel_records(tasks=("ring", "set"), sizes=(16, 32), seeds=(0, 1))
    pd.testing.assert_frame_equal(one, two)
    assert len(one) == 2 * 2 * 2 * len(kernels.KERNEL_FAMILIES)
    monkeypatch.setattr(kernels, "_unit", lambda *args: pytest.fail("a cached unit was recomputed"))
    again = kernels.kernel_records(tasks=("ring", "set"), sizes=(16, 32), seeds=(0, 1))
    pd.testing.assert_frame_equal(again, two)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("family", ["unconstrained", "invariant"])
def test_linear_models_trained_in_a_stack_equal_fit(dtype, family):
    import copy

    from symsharing.train import fit, fit_many

    task = tasks.get_linear_task("linear-ring")
    datasets = [tuple(t.to(dtype) for t in task.sample(40, seed)) for seed in range(3)]
    models = [(linear.InvariantLinearMap(task.group) if family == "invariant" else linear.LinearMap(task.d))
              .to(dtype) for _ in datasets]
    alone = [copy.deepcopy(m) for m in models]
    fit_many(models, datasets, steps=30, lr=0.05, seeds=[0, 1, 2], workers=1)  # stacked_forward
    for seed, (model, (X, y)) in enumerate(zip(alone, datasets, strict=True)):
        fit(model, X, y, steps=30, lr=0.05, seed=seed)
    for stacked, single in zip(models, alone, strict=True):
        torch.testing.assert_close(stacked.weight, single.weight)
