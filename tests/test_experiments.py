"""Experiments: configurations, model families, tidy records, divergence, orbit averaging, analysis."""

import dataclasses
import functools
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from symsharing import registry, stats
from symsharing.groups import cyclic, dihedral, symmetric
from symsharing.models import MLP, count_parameters
from symsharing.paramspace import connectivity
from symsharing.study import axes, claims, runner
from symsharing.study import config as study_config
from symsharing.study.augment import OrbitAverage, orbit_average
from symsharing.study.families import (
    FAMILIES,
    build_model,
    families_for,
    sharing_group,
    subgroup,
    wrong_group,
)
from symsharing.tasks import STUDY_TASKS, TASKS, get_task

TINY_TRAINING = study_config.TrainingConfig(steps=4, batch_size=16, n_test=64, lr_grid=(1e-3,),
                                           lr_n_train=32, mlp_width=8,
                                           shared_width=(("set", 2), ("ring", 2), ("grid", 2)))
TINY = study_config.AxisConfig("robustness", seeds=(0, 1), n_trains=(16, 32), training=TINY_TRAINING)


@pytest.fixture(autouse=True)
def cache_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("SYMSHARING_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache"


@pytest.fixture(scope="module")
def tiny_records(tmp_path_factory):
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SYMSHARING_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))
        return axes.size_sweep(TINY)


# ------------------------------------------------------------------ configurations
def test_full_configs_meet_the_protocol():
    for name in study_config.STUDY_AXES:
        config = study_config.config_for(name, quick=False)
        assert len(config.seeds) >= 10 and config.experiment == name
        assert 128 <= config.training.batch_size <= 256
    sizes = study_config.config_for("sample-efficiency", quick=False).n_trains
    assert len(sizes) >= 5 and min(sizes) == 16 and max(sizes) == 4096
    ratios = np.diff(np.log(sizes))
    assert np.allclose(ratios, ratios[0])  # log-spaced
    widths = dict(study_config.config_for("parameter-efficiency", quick=False).shared_widths)
    assert set(widths) == set(STUDY_TASKS) and all(len(w) >= 5 for w in widths.values())


def test_quick_mode_is_read_from_the_environment(monkeypatch):
    monkeypatch.setenv("SYMSHARING_QUICK", "1")
    quick = study_config.config_for("robustness")
    monkeypatch.setenv("SYMSHARING_QUICK", "0")
    full = study_config.config_for("robustness")
    assert len(quick.seeds) < len(full.seeds) and quick.training.steps < full.training.steps


def test_config_errors_and_seed_override():
    with pytest.raises(KeyError, match="unknown experiment 'robust'; known:"):
        study_config.config_for("robust")
    with pytest.raises(KeyError, match="unknown experiment 'nope'"):
        registry.run_experiment("nope")
    with pytest.raises(TypeError, match="seeds must be"):
        study_config.config_for("robustness", seeds="3")
    with pytest.raises(ValueError, match="at least one seed"):
        study_config.config_for("robustness", seeds=[])
    assert study_config.config_for("robustness", seeds=3).seeds == (0, 1, 2)
    assert study_config.config_for("robustness", seeds=[7, 9]).seeds == (7, 9)


def test_registry_names_chapters():
    assert set(registry.EXPERIMENTS) == {*study_config.STUDY_AXES, "mode-connectivity", "symmetry-ladder",
                                           "seed-variance", "budget-ablation"}
    assert study_config.STUDY_AXES == ("robustness", "sample-efficiency", "parameter-efficiency",
                                      "generalization")
    for function, chapter in registry.EXPERIMENTS.values():
        assert callable(function) and chapter.startswith("book/") and chapter.endswith(".py")
        assert (Path(__file__).resolve().parent.parent / chapter).exists(), chapter


def test_mode_connectivity_passes_quick_and_pair_count(monkeypatch):
    calls = []
    monkeypatch.setattr(connectivity, "mode_connectivity",
                        lambda dataset, families, **config: calls.append((dataset, families, config))
                        or [{"task": dataset, "family": families[0], "barrier": 0.0}])
    frame = connectivity.mode_connectivity_experiment(quick=True, seeds=2)
    assert [dataset for dataset, _, _ in calls] == ["digits", "ring"]
    assert all(config["n_pairs"] == 2 for _, _, config in calls)
    assert calls[0][2]["steps"] == connectivity.chapter_config("digits", quick=True)["steps"]
    assert "shared" in calls[1][1] and len(frame) == 2
    with pytest.raises(ValueError, match="at least one seed"):
        connectivity.mode_connectivity_experiment(quick=True, seeds=[])


# ------------------------------------------------------------------ families
@pytest.mark.parametrize("name", list(TASKS))
def test_subgroup_is_proper_and_the_task_is_invariant_under_it(name):
    task = get_task(name)
    sub = subgroup(task)
    assert sub.order() < task.group.order() and task.group.order() % sub.order() == 0
    for g in sub.generators:  # every generator of the subgroup belongs to the task's group
        assert task.group._sympy.contains(__import__("sympy").combinatorics.Permutation(g.tolist()))
    X, y = task.sample(64, 0)
    moved = sub.act(sub.random_elements(64, torch.Generator().manual_seed(1)), X)
    assert torch.equal(task.label(moved), y)


@pytest.mark.parametrize("name", ["ring", "grid", "grid-chiral"])
def test_wrong_group_breaks_the_label(name):
    task = get_task(name)
    wrong = wrong_group(task)
    X, y = task.sample(512, 0)
    moved = wrong.act(wrong.random_elements(512, torch.Generator().manual_seed(1)), X)
    assert (task.label(moved) != y).any()


def test_the_set_task_has_no_wrong_family():
    task = get_task("set")
    assert wrong_group(task) is None and "shared-wrong" not in families_for(task)
    with pytest.raises(ValueError, match="no wrong group"):
        sharing_group(task, "shared-wrong")
    with pytest.raises(KeyError, match="unknown family 'cnn'"):
        families_for(task, ("cnn",))


@pytest.mark.parametrize("name", list(TASKS))
def test_shared_families_are_invariant_under_their_group(name):
    task = get_task(name)
    X, _ = task.sample(16, 0)
    for family in families_for(task):
        torch.manual_seed(0)
        model, augment_group = build_model(task, family, 3)
        group = sharing_group(task, family)
        if group is not None:
            moved = group.act(group.random_elements(16, torch.Generator().manual_seed(2)), X)
            assert torch.allclose(model(moved), model(X), atol=1e-5)
        assert (augment_group is task.group) == (family in ("mlp+aug", "mlp+aug+avg"))


def test_matched_width_matches_parameter_counts():
    for task in TASKS.values():
        for target in (100, 1000, 10_000):
            width = axes.matched_width(task, target)
            errors = [abs(count_parameters(MLP(task.group.n, task.n_outputs, w)) - target)
                      for w in (width - 1, width, width + 1)]
            assert errors[1] == min(errors)


# ------------------------------------------------------------------ orbit averaging
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("group", [cyclic(6), dihedral(6)], ids=["C6", "D6"])
def test_orbit_average_is_exactly_invariant_for_small_groups(dtype, group):
    torch.manual_seed(0)
    model = MLP(6, 2, 8).to(dtype)
    x = torch.randn(10, 6, dtype=dtype)
    moved = group.act(group.random_elements(10, torch.Generator().manual_seed(0)), x)
    tolerance = 1e-5 if dtype == torch.float32 else 1e-12
    assert torch.allclose(orbit_average(model, group, moved), orbit_average(model, group, x), atol=tolerance)
    assert OrbitAverage(model, group).exact


def test_orbit_average_samples_large_groups_and_checks_input():
    averaged = OrbitAverage(MLP(8, 1, 4), symmetric(8), n_elements=5, seed=3)
    assert not averaged.exact and averaged.elements.shape == (5, 8)
    with pytest.raises(ValueError, match="n_elements must be >= 1"):
        OrbitAverage(MLP(8, 1, 4), symmetric(8), n_elements=0)
    with pytest.raises(ValueError, match=r"expects input \[batch, 8\]"):
        averaged(torch.zeros(3, 7))
    with pytest.raises(TypeError, match="group must be a PermutationGroup"):
        OrbitAverage(MLP(8, 1, 4), "S8")


# ------------------------------------------------------------------ records
def test_records_are_tidy(tiny_records):
    frame = tiny_records
    assert list(frame.columns[: len(study_config.RECORD_COLUMNS)]) == study_config.RECORD_COLUMNS
    # families x seeds x sizes, on the tasks of TINY (the study's)
    expected = sum(len(families_for(get_task(name))) for name in STUDY_TASKS) * 2 * 2
    assert len(frame) == expected
    assert set(frame["family"]) == set(FAMILIES)
    assert not frame.duplicated(["task", "family", "seed", "n_train"]).any()
    assert (frame["experiment"] == "robustness").all() and not frame["diverged"].any()
    assert set(frame.loc[frame["task"] == "set", "metric"]) == {"mse"}
    assert set(frame.loc[frame["task"] == "ring", "metric"]) == {"accuracy"}


def test_invariant_families_have_zero_invariance_error(tiny_records):
    frame = tiny_records
    averaged = (frame["family"] == "mlp+aug+avg") & (frame["task"] != "set")  # whole orbit: exact
    exact = frame[(frame["family"] == "shared") | averaged]
    assert (exact["invariance_error"] < 1e-5).all()
    assert (frame.loc[frame["family"] == "mlp", "invariance_error"] > 1e-4).all()


def test_same_seed_same_records(tiny_records, cache_folder):
    again = axes.size_sweep(TINY)  # a fresh cache folder: retrained
    columns = [c for c in again.columns if c != "seconds"]
    pd.testing.assert_frame_equal(again[columns], tiny_records[columns])


def _diverged(evaluate, model, history):
    return evaluate(model, {**history, "diverged": True, "loss": history["loss"] + [math.nan]})


def test_a_diverged_run_is_marked_and_not_averaged(monkeypatch):
    real = runner.fit_many

    def diverging(models, datasets, *, evaluators=None, **kwargs):
        if evaluators is None or evaluators[0].func is runner._pilot_value:  # the tuning's pilots
            return real(models, datasets, evaluators=evaluators, **kwargs)
        # the first model's scorer sees a diverged history (scoring runs where the stack trained)
        evaluators = [functools.partial(_diverged, evaluators[0])] + list(evaluators[1:])
        return real(models, datasets, evaluators=evaluators, **kwargs)

    monkeypatch.setattr(runner, "fit_many", diverging)
    config = dataclasses.replace(TINY, tasks=("ring",), n_trains=(16,))
    frame = axes.size_sweep(config)
    diverged = frame[frame["diverged"]]
    assert len(diverged) >= 1 and diverged["test_score"].isna().all()
    summary = stats.summarize(frame, ["family"])
    assert summary["diverged"].sum() == len(diverged)
    averaged = summary["runs"] > summary["diverged"] + summary["collapsed"]  # 4 steps: some collapse
    assert np.isfinite(summary.loc[averaged, "mean"]).all() and summary.loc[~averaged, "mean"].isna().all()


# ------------------------------------------------------------------ analysis
def synthetic(scores: dict[str, list[float]], sizes, metric="accuracy"):
    rows = []
    for family, curve in scores.items():
        for n, value in zip(sizes, curve, strict=True):
            for seed, noise in enumerate((-0.01, 0.0, 0.01)):
                rows.append({"task": "t", "family": family, "seed": seed, "n_train": n, "metric": metric,
                             "test_score": value + noise, "diverged": False})
    return pd.DataFrame(rows)


def test_exchange_rate_interpolates_on_log_n_and_bounds():
    sizes = [16, 64, 256]
    frame = synthetic({"shared": [0.8, 0.9, 0.99], "mlp": [0.5, 0.8, 0.9]}, sizes)
    rates = stats.exchange_rates(frame, baselines=("mlp",)).set_index("n_train")
    assert rates.loc[16, "rate"] == pytest.approx(4.0) and not rates.loc[16, "lower_bound"]
    assert rates.loc[64, "rate"] == pytest.approx(4.0)
    assert rates.loc[256, "lower_bound"] and rates.loc[256, "rate"] == pytest.approx(1.0)
    halfway = synthetic({"shared": [0.65, 0.99, 0.99], "mlp": [0.5, 0.8, 0.9]}, sizes)
    rate = stats.exchange_rates(halfway, baselines=("mlp",)).set_index("n_train").loc[16, "rate"]
    assert rate == pytest.approx(2.0)  # halfway between 16 and 64 on a log scale: 32
    mse = synthetic({"shared": [0.5, 0.2, 0.1], "mlp": [2.0, 0.5, 0.3]}, sizes, metric="mse")
    rates = stats.exchange_rates(mse, baselines=("mlp",)).set_index("n_train")
    assert rates.loc[16, "rate"] == pytest.approx(4.0)


def test_verdict_rule():
    assert claims.verdict(0.1, 0.3) == "supported"
    assert claims.verdict(-0.1, 0.3) == "not supported"
    assert claims.verdict(-0.3, -0.1) == "contradicted"
    def tally(*verdicts):
        return claims.overall_verdict(dict(zip(("grid", "ring", "set"), verdicts, strict=True)))

    assert tally("supported", "supported", "supported") == "supported on all 3 tasks"
    assert (tally("contradicted", "contradicted", "supported")
            == "supported on set; contradicted on 2 of 3 tasks (grid, ring)")
    assert (tally("not supported", "undecided", "supported")
            == "supported on set; not supported on grid; undecided on ring")


def test_paired_effect_signs_by_metric():
    frame = synthetic({"shared": [0.2, 0.1, 0.05], "mlp": [0.4, 0.3, 0.2]}, [16, 64, 256], metric="mse")
    mean, low, high = stats.paired_effect(frame, "t", "shared", "mlp", n_train=16)
    assert mean == pytest.approx(0.2) and low == pytest.approx(0.2) and high == pytest.approx(0.2)
    with pytest.raises(KeyError, match="no records for task 'u'"):
        stats.paired_effect(frame, "u", "shared", "mlp")


def test_an_interrupted_sweep_keeps_its_finished_units_and_resumes(monkeypatch, tiny_records, cache_folder):
    real, trained = runner.fit_many, []

    def interrupted_after_one_stack(models, datasets, *, on_stack=None, **kwargs):
        if on_stack is None:  # the tuning's pilots
            return real(models, datasets, **kwargs)

        def stop(members, histories):
            on_stack(members, histories)
            if any((cache_folder / "units").glob("*.json")):
                raise KeyboardInterrupt  # as if the reader pressed Ctrl-C once a unit is stored

        return real(models, datasets, on_stack=stop, max_stack_elements=1, **kwargs)

    def counting(models, datasets, **kwargs):
        if kwargs.get("on_stack") is not None:
            trained.append(len(models))
        return real(models, datasets, **kwargs)

    monkeypatch.setattr(runner, "fit_many", interrupted_after_one_stack)
    with pytest.raises(KeyboardInterrupt):
        axes.size_sweep(TINY)
    monkeypatch.setattr(runner, "fit_many", counting)
    resumed = axes.size_sweep(TINY)
    n_models = len(tiny_records[["task", "family", "n_train", "seed"]].drop_duplicates()
                   .query("family != 'mlp+aug+avg'"))
    assert 0 < sum(trained) < n_models  # the finished unit was read back, the rest trained
    columns = [c for c in resumed.columns if c != "seconds"]
    pd.testing.assert_frame_equal(resumed[columns], tiny_records[columns])


def test_tasks_in_threads_on_two_workers_give_the_same_records(monkeypatch, tiny_records):
    monkeypatch.setenv("SYMSHARING_WORKERS", "2")  # the tasks run in threads, their stacks in the pool
    threaded = axes.size_sweep(TINY)
    columns = [c for c in threaded.columns if c != "seconds"]
    pd.testing.assert_frame_equal(threaded[columns], tiny_records[columns])


def test_rate_trend_reads_a_constant_exchange_rate_as_no_trend_and_leaves_censored_sizes_out():
    sizes = [16 * 2**k for k in range(9)]

    def mlp(n):  # accuracy linear in log n: the tied model's score at n is the MLP's at 4n
        return 0.45 + 0.05 * math.log2(n / 16)

    rows = [{"task": "ring", "family": family, "seed": seed, "n_train": n, "metric": "accuracy",
             "diverged": False, "collapsed": False,
             "test_score": (mlp(4 * n) if family == "shared" else mlp(n)) + 0.001 * (seed - 2)}
            for family in ("mlp", "shared") for seed in range(5) for n in sizes]
    found = claims.rate_trend(pd.DataFrame(rows), "ring", n_boot=200)
    measured = [r for r in found["rates"] if r == r]
    assert found["sizes_used"] == len(measured) == 7  # at n = 2048 and 4096 the MLP never catches up
    assert measured == pytest.approx([4.0] * 7, rel=1e-6)
    assert found["effect"] == pytest.approx(0.0, abs=1e-6)
