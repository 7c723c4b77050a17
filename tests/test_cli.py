"""Tests for ``python -m symsharing``: listing, running (locally and on a Dask cluster), errors."""

import os
import subprocess
import sys
import types

import pandas as pd
import pytest
import torch
from dask import distributed

import symsharing
from symsharing import registry
from symsharing.__main__ import main
from symsharing.metrics import score
from symsharing.models import MLP
from symsharing.settings import is_quick
from symsharing.tasks import get_task
from symsharing.train import fit_many, one_thread, seed_everything


def toy_experiment(quick=None, seeds=None):
    """A tiny real experiment: one small MLP per seed on the set task, one stack per seed (so that
    a Dask cluster gets several tasks), trained with one thread as the study does."""
    quick = is_quick() if quick is None else quick
    task = get_task("set")
    seeds = range(seeds or 2)
    data = [task.sample(32, seed) for seed in seeds]
    models = []
    for seed in seeds:
        seed_everything(seed)
        models.append(MLP(8, 1, 8))
    with one_thread():
        histories = fit_many(models, data, steps=5 if quick else 10, seeds=list(seeds), max_stack_elements=1)
    rows = []
    for seed, model, history in zip(seeds, models, histories, strict=True):
        X_test, y_test = task.sample(64, 10_000 + seed)
        with torch.no_grad():
            test_score = score(model(X_test), y_test)
        rows.append({"experiment": "toy", "task": "set", "family": "mlp", "seed": seed, "metric": "mse",
                     "test_score": test_score, "train_loss": history["loss"][-1], "quick": quick,
                     "seconds": history["seconds"]})
    return pd.DataFrame(rows)


@pytest.fixture
def toy(monkeypatch):
    monkeypatch.setattr(registry, "EXPERIMENTS", {"toy": (toy_experiment, "book/extending.py")})
    monkeypatch.setenv("SYMSHARING_QUICK", "0")  # restored after the test: --quick sets it


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "symsharing", *args], capture_output=True, text=True,
                          timeout=300, env={**os.environ, "SYMSHARING_QUICK": "0"})


def test_list_names_every_experiment_and_its_chapter():
    result = run_cli("list")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == len(registry.EXPERIMENTS)
    for line, (name, (_, chapter)) in zip(lines, registry.EXPERIMENTS.items(), strict=True):
        assert line.split()[:2] == [name, chapter]


@pytest.mark.parametrize("args", [[], ["--help"], ["list", "--help"], ["run", "--help"]])
def test_help_everywhere(args):
    result = run_cli(*args)
    assert "usage: python -m symsharing" in result.stdout + result.stderr
    assert result.returncode == (2 if not args else 0)


@pytest.mark.parametrize("args, message", [
    (["run", "no-such-experiment"], "unknown experiment 'no-such-experiment'"),
    (["run"], "the following arguments are required: NAME|all"),
    (["run", "robustness", "--seeds", "0"], "--seeds: expected a positive integer, got 0"),
    (["run", "robustness", "--seeds", "two"], "--seeds: expected a positive integer, got 'two'"),
    (["frobnicate"], "invalid choice: 'frobnicate'"),
    (["run", "robustness", "--color"], "unrecognized arguments: --color"),
])
def test_bad_arguments_exit_2_without_traceback(args, message):
    result = run_cli(*args)
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_run_writes_csv_and_summary(toy, tmp_path, capsys):
    assert main(["run", "toy", "--seeds", "3", "--out", str(tmp_path)]) == 0
    frame = pd.read_csv(tmp_path / "toy.csv")
    assert frame["seed"].tolist() == [0, 1, 2] and not frame["quick"].any()
    pd.testing.assert_frame_equal(frame.drop(columns="seconds"),
                                  toy_experiment(False, 3).drop(columns="seconds"), check_dtype=False)
    out = capsys.readouterr()
    assert "1 experiment(s), full sweeps" in out.out and "toy: 3 records" in out.out
    assert f"{frame['test_score'].mean():.3f}" in out.out
    assert "experiments: 100%" in out.err  # the progress bar


def test_quick_switch_sets_the_environment(toy, tmp_path):
    assert main(["run", "all", "--quick", "--out", str(tmp_path)]) == 0
    assert os.environ["SYMSHARING_QUICK"] == "1"
    assert pd.read_csv(tmp_path / "toy.csv")["quick"].all()


def test_run_on_a_dask_cluster_equals_a_local_run(toy, tmp_path, preserved_environment):
    assert main(["run", "toy", "--out", str(tmp_path / "local")]) == 0
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, protocol="tcp",
                                  host="127.0.0.1", dashboard_address=None) as cluster:
        assert main(["run", "toy", "--out", str(tmp_path / "dask"), "--scheduler",
                     cluster.scheduler_address]) == 0
        with distributed.Client(cluster) as client:  # the stacks were the cluster's tasks
            tasks = client.run_on_scheduler(lambda dask_scheduler: {
                name: sum(prefix.state_counts.values())
                for name, prefix in dask_scheduler.task_prefixes.items()})
    assert tasks.get("train_stack_job", 0) >= 2, tasks
    local = pd.read_csv(tmp_path / "local" / "toy.csv").drop(columns="seconds")
    remote = pd.read_csv(tmp_path / "dask" / "toy.csv").drop(columns="seconds")
    pd.testing.assert_frame_equal(local, remote)


def test_unreachable_scheduler_is_a_usage_error(toy, tmp_path, capsys):
    with pytest.raises(SystemExit) as stop:
        main(["run", "toy", "--out", str(tmp_path), "--scheduler", "tcp://127.0.0.1:9"])
    assert stop.value.code == 2
    assert "cannot connect to 'tcp://127.0.0.1:9'" in capsys.readouterr().err


def test_bench_delegates_its_arguments(monkeypatch):
    calls = []
    fake = types.ModuleType("symsharing.bench")
    fake.main = lambda argv: calls.append(argv) or 7
    monkeypatch.setitem(sys.modules, "symsharing.bench", fake)
    monkeypatch.setattr(symsharing, "bench", fake, raising=False)
    assert main(["bench", "--help", "--repeats", "3"]) == 7
    assert calls == [["--help", "--repeats", "3"]]


def test_summary_of_each_kind_of_record():
    from symsharing.__main__ import _summary

    axis = pd.DataFrame({"task": ["set", "set"], "metric": ["mse"] * 2, "family": ["mlp", "shared"],
                         "test_score": [0.5, 0.25]})
    assert "mean test score" in _summary(axis) and "0.500" in _summary(axis) and "0.250" in _summary(axis)
    pairs = pd.DataFrame({"task": ["digits"] * 3, "family": ["mlp", "mlp", "w-asym"],
                          "barrier": [1.0, 2.0, 0.1]})
    assert "mean loss barrier" in _summary(pairs) and "1.500" in _summary(pairs)
    assert _summary(pd.DataFrame({"x": [1]})) == "(no summary: columns x)"


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a GPU")
def test_cuda_without_a_gpu_is_a_usage_error(toy, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("SYMSHARING_DEVICE", "cpu")  # restored after the test: --device sets it
    with pytest.raises(SystemExit) as stop:
        main(["run", "toy", "--out", str(tmp_path), "--device", "cuda"])
    assert stop.value.code == 2
    error = capsys.readouterr().err
    assert "argument --device" in error and "no CUDA device" in error
