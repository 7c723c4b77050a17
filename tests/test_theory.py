"""Closed forms of ``symsharing.theory`` against hand computations, the engine against least
squares, and least squares against the formulas in distribution."""

import math

import numpy as np
import pytest
import torch

from symsharing import stats, tasks
from symsharing.groups import cyclic, grid_dihedral, symmetric, trivial
from symsharing.theory import calibration, kernels, linear

# Trained weights reach the least-squares solution to this (absolute, per weight) tolerance.
WEIGHT_TOLERANCE = 2e-3


@pytest.fixture(autouse=True)
def _one_thread():
    """Small float64 factorisations thousands of times: one intra-op thread is many times faster
    than two on a shared machine (docs/performance.md)."""
    from symsharing.train import one_thread

    with one_thread():
        yield


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
        calibration.train_linear(models, datasets, seeds=seeds)
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
    task = tasks.get_linear_task("linear-set")
    monkeypatch.setattr(calibration, "LINEAR_TASKS", {"linear-set": task})
    frame = calibration.write_linear_results(tmp_path / "theory-linear.csv", quick=True)
    for column in ("task", "family", "d", "k", "sigma", "n_train", "seed", "excess_risk",
                   "train_mse", "test_mse", "expected_excess_risk", "distance_to_ls"):
        assert column in frame.columns
    assert set(frame["family"]) == {"unconstrained", "invariant", "augmented"}
    assert (tmp_path / "theory-linear.csv").exists()
    exact = frame[frame["family"] != "augmented"]
    assert np.allclose(exact["excess_risk"], exact["ls_excess_risk"], atol=1e-4)
    assert (exact["distance_to_ls"] < 1e-6 * exact["excess_risk"]).all()
    # the noise average of each run's own inputs, which are independent across sizes
    for row in frame.itertuples():
        X, _ = task.sample(row.n_train, row.seed, nested=False)
        group = None if row.family == "unconstrained" else task.group
        assert row.expected_excess_risk == pytest.approx(linear.noise_averaged_excess_risk(X, 1.0, group),
                                                         rel=1e-12)
    by_family = frame.set_index(["family", "n_train", "seed"])["expected_excess_risk"]
    assert np.array_equal(by_family["augmented"], by_family["invariant"])
    # the noise-averaged draws see the trained seeds' inputs (float64 here, float32 in training)
    averaged = calibration.noise_averaged_records(quick=True, seeds=[0, 1, 2])
    merged = averaged.merge(exact, on=["family", "n_train", "seed"], suffixes=("", "_trained"))
    assert len(merged) == len(exact)
    assert np.allclose(merged["expected_excess_risk"], merged["expected_excess_risk_trained"], rtol=1e-5)


def test_linear_task_sizes_are_independent_when_not_nested():
    task = tasks.get_linear_task("linear-ring")
    X, y = task.sample(40, 3, torch.float64, nested=False)
    again = task.sample(40, 3, torch.float64, nested=False)
    assert torch.equal(X, again[0]) and torch.equal(y, again[1])
    smaller = task.sample(30, 3, torch.float64, nested=False)[0]
    assert not torch.allclose(smaller, X[:30])
    assert torch.equal(task.sample(30, 3, torch.float64)[0], task.sample(40, 3, torch.float64)[0][:30])
    with pytest.raises(TypeError, match="nested must be a bool"):
        task.sample(10, 0, nested="no")


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_noise_averaged_excess_risk_by_hand(dtype):
    # S2 on 2 points: one orbit of size 2, orbit sums z = (1, 1, 2), ZᵀZ = 6: σ² · 2/6
    X = torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]], dtype=dtype)
    assert linear.noise_averaged_excess_risk(X, 3.0, symmetric(2)) == pytest.approx(9.0 / 3, rel=1e-12)
    # unconstrained: σ² tr (XᵀX)⁻¹ = tr [[2, 1], [1, 2]]⁻¹ = 4/3
    assert linear.noise_averaged_excess_risk(X) == pytest.approx(4 / 3, rel=1e-12)


@pytest.mark.parametrize("group", [None, symmetric(8), cyclic(16), grid_dihedral(7)],
                         ids=["unconstrained", "S8", "C16", "D4-grid"])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_noise_averaged_excess_risk_equals_the_hat_matrix(group, dtype):
    # w_LS − θ = H ε with H = P Z⁺ (pseudo-inverse by SVD, another algorithm than the QR inside):
    # E‖H ε‖² = σ² ‖H‖_F², equal to float64 rounding (1e-10 is far above it, far below any error)
    d = 49 if group is None else group.n
    X = torch.randn(d + 12, d, generator=torch.Generator().manual_seed(d)).to(dtype)
    P = torch.eye(d, dtype=torch.float64) if group is None else linear.orbit_indicator(group)
    H = P @ torch.linalg.pinv(X.double() @ P)  # (d, n)
    direct = 0.7 ** 2 * float((H ** 2).sum())
    assert linear.noise_averaged_excess_risk(X, 0.7, group) == pytest.approx(direct, rel=1e-10)


@pytest.mark.parametrize("name", ["linear-set", "linear-grid"])
def test_noise_averaged_excess_risk_against_monte_carlo_over_the_noise(name):
    # Fixed inputs, R noise draws: the mean realised excess of the exact least-squares solution is
    # a Gaussian quadratic form, Σ a_i ξ_i² with a = σ² eig(HᵀH)/R repeated R times. Laurent &
    # Massart (2000, lemma 1): P(dev ≥ 2‖a‖₂√t + 2‖a‖∞ t) ≤ e^−t and P(dev ≤ −2‖a‖₂√t) ≤ e^−t;
    # t = ln(2·10⁶) puts the false-alarm rate of this two-sided check at 1e-6.
    task, R = tasks.get_linear_task(name), 4000
    X = task.sample(task.d + 12, 0, torch.float64, nested=False)[0]
    generator = torch.Generator().manual_seed(1)
    excess = [task.excess_risk(linear.invariant_least_squares(
        X, X @ task.theta + task.sigma * torch.randn(len(X), generator=generator, dtype=torch.float64),
        task.group)) for _ in range(R)]
    expected = linear.noise_averaged_excess_risk(X, task.sigma, task.group)
    P = linear.orbit_indicator(task.group)
    H = P @ torch.linalg.pinv(X @ P)
    eigenvalues = torch.linalg.eigvalsh(H.T @ H).clamp(min=0) * task.sigma ** 2 / R
    t = math.log(2e6)
    tolerance = 2 * float(eigenvalues.norm()) * math.sqrt(R * t) + 2 * float(eigenvalues.max()) * t
    assert tolerance < 0.2 * expected  # the check can see a 20 % error
    assert abs(float(np.mean(excess)) - expected) < tolerance


@pytest.mark.parametrize(("name", "family", "n"), [("linear-set", "invariant", 20),
                                                   ("linear-ring", "unconstrained", 30),
                                                   ("linear-grid", "invariant", 40)])
def test_noise_averaged_excess_risk_averages_to_the_closed_form(name, family, n):
    # Over 3000 input draws the mean lies within 5 standard errors of σ² k/(n − k − 1): a
    # two-sided false-alarm rate of 6e-7 under the central limit theorem (the mean of 3000 draws).
    task = tasks.get_linear_task(name)
    group = None if family == "unconstrained" else task.group
    values = np.array([linear.noise_averaged_excess_risk(task.sample(n, seed, torch.float64, nested=False)[0],
                                                         task.sigma, group) for seed in range(3000)])
    formula = linear.formula_excess_risk(family, n, task.d, task.k, task.sigma)
    error = values.std(ddof=1) / math.sqrt(len(values))
    assert abs(values.mean() - formula) < 5 * error
    assert 5 * error < 0.05 * formula  # the check can see a 5 % error


@pytest.mark.parametrize(("call", "error", "fragment"), [
    (lambda: linear.noise_averaged_excess_risk([[1.0]]), TypeError, "X must be a torch.Tensor"),
    (lambda: linear.noise_averaged_excess_risk(torch.ones(5)), TypeError, r"shape \(5,\)"),
    (lambda: linear.noise_averaged_excess_risk(torch.randn(5, 3), -1.0), ValueError, "sigma"),
    (lambda: linear.noise_averaged_excess_risk(torch.randn(5, 3), 1.0, "S3"), TypeError, "PermutationGroup"),
    (lambda: linear.noise_averaged_excess_risk(torch.randn(5, 3), 1.0, cyclic(4)), ValueError, "3 inputs"),
    (lambda: linear.noise_averaged_excess_risk(torch.randn(3, 3)), ValueError, "n = 3, k = 3"),
    (lambda: linear.noise_averaged_excess_risk(torch.full((5, 2), math.nan)), ValueError, "finite"),
    (lambda: linear.noise_averaged_excess_risk(torch.ones(5, 2)), ValueError, "singular"),
])
def test_noise_averaged_excess_risk_rejects_bad_inputs(call, error, fragment):
    with pytest.raises(error, match=fragment):
        call()


def _ratio_frame(scale: float, seeds: int = 30):
    """Rows whose values are ``scale`` times the closed form, with a seed-dependent wobble."""
    rows = []
    for seed in range(seeds):
        for n in (20, 40):
            formula = linear.formula_excess_risk("invariant", n, 8, 1)
            rows.append({"task": "t", "family": "invariant", "d": 8, "k": 1, "sigma": 1.0, "n_train": n,
                         "seed": seed, "diverged": False,
                         "value": formula * scale * (1 + 0.05 * ((seed % 5) - 2))})
    return __import__("pandas").DataFrame(rows)


def test_pooled_calibration_says_on_or_off_the_closed_form():
    on = calibration.pooled_calibration(_ratio_frame(1.0), "value").iloc[0]
    assert on["ratio"] == pytest.approx(1.0, abs=1e-12)  # the wobble averages to 0 over 30 seeds
    assert on["low"] < 1 < on["high"] and on["verdict"] == "on the closed form" and on["holds_one"]
    assert on["half_width"] < 0.05 and (on["seeds"], on["sizes"], on["runs"]) == (30, 2, 60)
    off = calibration.pooled_calibration(_ratio_frame(1.2), "value").iloc[0]
    assert off["ratio"] == pytest.approx(1.2) and off["low"] > 1 and off["verdict"] == "off it"
    again = calibration.pooled_calibration(_ratio_frame(1.2), "value").iloc[0]
    assert (again["low"], again["high"]) == (off["low"], off["high"])  # a fixed bootstrap seed
    # a diverged run is left out: its seed drops from the pooled mean
    frame = _ratio_frame(1.0)
    frame.loc[frame["seed"] == 0, ["diverged", "value"]] = [True, 1e9]
    assert calibration.pooled_calibration(frame, "value").iloc[0]["seeds"] == 29


def test_pooled_calibration_and_residual_summary_reject_bad_inputs():
    frame = _ratio_frame(1.0)
    with pytest.raises(KeyError, match="no column 'excess'"):
        calibration.pooled_calibration(frame, "excess")
    with pytest.raises(ValueError, match="level"):
        calibration.pooled_calibration(frame, "value", level=95)
    with pytest.raises(ValueError, match="at least two seeds"):
        calibration.pooled_calibration(frame[frame["seed"] == 0], "value")
    with pytest.raises(ValueError, match="at least two seeds"):
        calibration.pooled_calibration(frame.drop(index=0), "value")
    with pytest.raises(ValueError, match="more than one run"):
        calibration.pooled_calibration(__import__("pandas").concat([frame, frame]), "value")
    with pytest.raises(TypeError, match="DataFrame"):
        calibration.pooled_calibration(frame.to_dict("records"), "value")
    with pytest.raises(KeyError, match="distance_to_ls"):
        calibration.residual_summary(frame.assign(excess_risk=1.0, ls_excess_risk=1.0))
    with pytest.raises(ValueError, match="two distinct seeds"):
        calibration.linear_calibration(quick=True, seeds=[3])


def test_residual_summary_by_hand():
    import pandas as pd

    frame = pd.DataFrame({"task": "t", "family": "f", "excess_risk": [1.0, 2.0, 4.0],
                          "ls_excess_risk": [1.0, 1.0, 4.0], "distance_to_ls": [0.0, 0.5, 0.4]})
    row = calibration.residual_summary(frame).iloc[0]
    assert row["median_share"] == pytest.approx(0.1) and row["max_share"] == pytest.approx(0.25)
    assert row["pooled_share"] == pytest.approx(0.9 / 7) and row["max_excess_gap"] == pytest.approx(1.0)
    assert row["excess_over_ls"] == pytest.approx(7 / 6)
    assert row["runs"] == 3


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
