"""fit_many, the stacked engine: equal to fit model by model, grouping, divergence, and the bench."""

import copy
import functools
import math
import os
import re

import pytest
import torch

from symsharing import bench
from symsharing.engine import pool
from symsharing.engine.draws import CHUNK_STEPS
from symsharing.groups import cyclic, dihedral, symmetric
from symsharing.models import MLP, SharedMLP, SigmaAsymmetricMLP, WAsymmetricMLP
from symsharing.sharing import fast_path
from symsharing.train import fit, fit_many, plan_stacks

DTYPES = [torch.float32, torch.float64]


# One torch thread: these are correctness tests, and two threads crawl on a shared 2-core machine.
pytestmark = pytest.mark.usefixtures("single_torch_thread")
STEPS = CHUNK_STEPS + 5  # crosses a chunk boundary of the random draws
ATOL = {torch.float32: 1e-5, torch.float64: 1e-11}


def _data(k, n=20, d=6, dtype=torch.float32, classes=None, seed=0):
    generator = torch.Generator().manual_seed(seed)
    data = []
    for _ in range(k):
        X = torch.randn(n, d, generator=generator, dtype=dtype)  # (n, d)
        y = (torch.randint(classes, (n,), generator=generator) if classes
             else torch.randn(n, 1, generator=generator, dtype=dtype))
        data.append((X, y))
    return data


def _mask_seed():
    return int(torch.randint(99, ()))  # a different fixed mask / gate per model: stacked buffers


def _builders(d=6):
    return {
        "mlp": lambda: MLP(d, 1, 8),
        "shared-deepsets": lambda: SharedMLP(symmetric(d), 1, 3),
        "shared-circular": lambda: SharedMLP(cyclic(d), 1, 3),
        "shared-generic": lambda: SharedMLP(dihedral(d), 1, 3),
        "w-asym": lambda: WAsymmetricMLP(d, 1, 8, n_fixed=2, fixed_std=0.5, seed=_mask_seed()),
        "sigma-asym": lambda: SigmaAsymmetricMLP(d, 1, 8, seed=_mask_seed()),
    }


def _one_at_a_time(models, data, seeds, groups, **kwargs):
    return [fit(m, X, y, seed=s, augment_group=g, **kwargs)
            for m, (X, y), s, g in zip(models, data, seeds, groups, strict=True)]


def _assert_same(models_a, models_b, hist_a, hist_b, atol):
    for a, b, ha, hb in zip(models_a, models_b, hist_a, hist_b, strict=True):
        for pa, pb in zip(a.parameters(), b.parameters(), strict=True):
            torch.testing.assert_close(pa, pb, atol=atol, rtol=atol, equal_nan=True)
        assert ha["diverged"] == hb["diverged"]
        assert len(ha["loss"]) == len(hb["loss"])
        torch.testing.assert_close(torch.tensor(ha["loss"]), torch.tensor(hb["loss"]), atol=atol, rtol=atol,
                                   equal_nan=True)


def test_the_three_sharing_paths_are_covered():
    assert {fast_path(symmetric(6)), fast_path(cyclic(6)), fast_path(dihedral(6))} == {
        "deepsets", "circular", "generic"}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("family", list(_builders()))
@pytest.mark.parametrize("batch_size, augment", [(None, False), (7, True)])
def test_fit_many_equals_fit(dtype, family, batch_size, augment):
    torch.manual_seed(1)
    models = [_builders()[family]().to(dtype) for _ in range(3)]
    copies = [copy.deepcopy(m) for m in models]
    data = _data(3, dtype=dtype)
    seeds = [5, 6, 7]
    groups = [symmetric(6) if augment else None] * 3
    stacked = fit_many(models, data, steps=STEPS, lr=1e-2, batch_size=batch_size, seeds=seeds,
                       augment_groups=groups)
    alone = _one_at_a_time(copies, data, seeds, groups, steps=STEPS, lr=1e-2, batch_size=batch_size)
    assert [h["stack_size"] for h in stacked] == [3, 3, 3]
    _assert_same(models, copies, stacked, alone, ATOL[dtype])
    assert all(not m.training for m in models)


@pytest.mark.parametrize("family", ["mlp", "shared-deepsets"])
def test_fit_many_is_deterministic(family):
    runs = []
    for _ in range(2):
        torch.manual_seed(6)
        models = [_builders()[family]() for _ in range(4)]
        histories = fit_many(models, _data(4), steps=STEPS, batch_size=6, augment_groups=[symmetric(6)] * 4)
        runs.append(([p.detach().clone() for m in models for p in m.parameters()],
                     [h["loss"] for h in histories]))
    assert all(torch.equal(a, b) for a, b in zip(runs[0][0], runs[1][0], strict=True))
    assert runs[0][1] == runs[1][1]


@pytest.mark.parametrize("dtype", DTYPES)
def test_fit_many_classification(dtype):
    torch.manual_seed(2)
    models = [MLP(6, 3, 8).to(dtype) for _ in range(2)] + [SharedMLP(cyclic(6), 3, 2).to(dtype)
                                                           for _ in range(2)]
    copies = [copy.deepcopy(m) for m in models]
    data = _data(4, dtype=dtype, classes=3)
    stacked = fit_many(models, data, steps=STEPS, lr=1e-2, batch_size=8, seeds=[0, 1, 2, 3])
    alone = _one_at_a_time(copies, data, [0, 1, 2, 3], [None] * 4, steps=STEPS, lr=1e-2, batch_size=8)
    _assert_same(models, copies, stacked, alone, ATOL[dtype])


def test_mixed_call_is_grouped_and_returned_in_order():
    torch.manual_seed(3)
    builders = [lambda: MLP(6, 1, 8), lambda: MLP(6, 1, 4), lambda: SharedMLP(cyclic(6), 1, 3),
                lambda: MLP(6, 1, 8)]
    models, data = [], []
    for k in range(8):
        models.append(builders[k % 4]())
        data.append(_data(1, n=20 if k < 6 else 12, seed=k)[0])
    groups = [None, None, None, None, None, cyclic(6), None, None]  # augmentation splits stacks too
    stacks = plan_stacks(models, data, augment_groups=groups)
    assert sorted(k for stack in stacks for k in stack) == list(range(8))
    assert stacks == [[0, 3, 4], [1], [2], [5], [6], [7]]
    copies = [copy.deepcopy(m) for m in models]
    seeds = list(range(10, 18))
    stacked = fit_many(models, data, steps=STEPS, lr=1e-2, batch_size=5, seeds=seeds, augment_groups=groups)
    alone = _one_at_a_time(copies, data, seeds, groups, steps=STEPS, lr=1e-2, batch_size=5)
    _assert_same(models, copies, stacked, alone, ATOL[torch.float32])
    assert [h["stack_size"] for h in stacked] == [3, 1, 1, 3, 3, 1, 1, 1]


def test_stacks_are_split_to_bound_their_activations():
    models = [MLP(6, 1, 10) for _ in range(7)]
    data = _data(7, n=20)
    assert plan_stacks(models, data, max_stack_elements=600) == [[0, 1], [2, 3, 4], [5, 6]]
    assert plan_stacks(models, data, batch_size=5, max_stack_elements=600) == [list(range(7))]
    assert plan_stacks(models, data, max_stack_elements=1) == [[k] for k in range(7)]


@pytest.mark.parametrize("family", ["mlp", "shared-circular"])
def test_a_diverging_model_leaves_its_stack_alone(family):
    torch.manual_seed(4)
    models = [_builders()[family]() for _ in range(3)]
    copies = [copy.deepcopy(m) for m in models]
    data = _data(3)
    data[1] = (data[1][0] * 1e30, data[1][1])  # the middle model's loss overflows
    stacked = fit_many(models, data, steps=STEPS, lr=1e-2, batch_size=5, seeds=[0, 1, 2])
    alone = _one_at_a_time(copies, data, [0, 1, 2], [None] * 3, steps=STEPS, lr=1e-2, batch_size=5)
    assert [h["diverged"] for h in stacked] == [False, True, False]
    assert len(stacked[0]["loss"]) == STEPS and len(stacked[1]["loss"]) < STEPS
    _assert_same(models, copies, stacked, alone, ATOL[torch.float32])


def test_a_stack_where_every_model_diverges_stops():
    torch.manual_seed(5)
    models = [MLP(6, 1, 8) for _ in range(2)]
    data = [(X * 1e30, y) for X, y in _data(2)]
    histories = fit_many(models, data, steps=50)
    assert all(h["diverged"] and len(h["loss"]) == 1 for h in histories)


@pytest.mark.parametrize("call, error, match", [
    (lambda m, d: fit_many(m, d[:1], steps=2), ValueError, "one dataset per model"),
    (lambda m, d: fit_many(m, d, steps=2, seeds=[1]), ValueError,
     r"seeds must hold one entry per model \(2\)"),
    (lambda m, d: fit_many([m[0], m[0]], d, steps=2), ValueError, "same model object"),
    (lambda m, d: fit_many(m, d, steps=2, seeds=[0, "b"]), TypeError, "seed must be an int"),
    (lambda m, d: fit_many(m, [d[0], d[1][0]], steps=2), TypeError, r"a pair \(X, y\)"),
    (lambda m, d: fit_many(m, d, steps=2, max_stack_elements=0), ValueError, "max_stack_elements"),
    (lambda m, d: fit_many(m, d, steps=2, evaluators=[None]), ValueError, "evaluators must hold one entry"),
    (lambda m, d: fit_many(m, d, steps=2, evaluators=[None, "score"]), TypeError, "callable or None"),
    (lambda m, d: fit_many(m, d, steps=2, augment_groups=[None, cyclic(5)]), ValueError, "acts on 5 points"),
])
def test_fit_many_rejects_bad_arguments(call, error, match):
    with pytest.raises(error, match=match):
        call([MLP(6, 1, 4), MLP(6, 1, 4)], _data(2))


def test_reference_workload_flops():
    # 3 x forward matmul FLOPs: 2 * 512 * (16*64 + 64*64 + 64*1) per model and step, 32 models, 500 steps
    assert bench.REFERENCE.flops() == 3 * 2 * 512 * (16 * 64 + 64 * 64 + 64) * 32 * 500


def test_bench_tiny_prints_the_summary_line_last(capsys):
    assert bench.main(["--tiny"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert re.fullmatch(r"engine/loop speedup: \d+\.\d\d  fraction of GEMM peak: \d+\.\d\d", lines[-1])
    assert any(line.startswith(bench.TINY.name) and " engine " in line for line in lines)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("family", ["mlp", "shared-circular"])
def test_fit_many_equals_fit_with_cosine_weight_decay_and_per_model_budgets(dtype, family):
    torch.manual_seed(2)
    models = [_builders()[family]().to(dtype) for _ in range(4)]
    copies = [copy.deepcopy(m) for m in models]
    data = _data(4, dtype=dtype)
    steps, lrs = [STEPS, STEPS + 3, STEPS, STEPS + 3], [1e-2, 1e-2, 3e-3, 3e-3]
    stacked = fit_many(models, data, steps=steps, lr=lrs, batch_size=7, seeds=[1, 2, 3, 4],
                       schedule="cosine", weight_decay=0.01)
    alone = [fit(m, X, y, steps=s, lr=lr, batch_size=7, seed=seed, schedule="cosine", weight_decay=0.01)
             for m, (X, y), s, lr, seed in zip(copies, data, steps, lrs, [1, 2, 3, 4], strict=True)]
    _assert_same(models, copies, stacked, alone, ATOL[dtype])
    assert [h["steps_taken"] for h in stacked] == steps
    assert len(plan_stacks(models, data, batch_size=7, steps=steps, lrs=lrs)) == 4  # one per (steps, lr)


def test_warmup_cosine_rises_linearly_then_decays():
    from symsharing.engine.stacks import WARMUP_SHARE, scheduled_lr

    steps = 200
    warmup = math.ceil(WARMUP_SHARE * steps)
    rates = [scheduled_lr(0.1, t, steps, "warmup-cosine") for t in range(steps)]
    assert rates[0] == pytest.approx(0.1 / warmup) and rates[warmup - 1] == pytest.approx(0.1)
    assert all(a < b for a, b in zip(rates[:warmup], rates[1:warmup], strict=False))
    decay = rates[warmup:]
    assert decay[0] == pytest.approx(0.1) and all(a > b for a, b in zip(decay, decay[1:], strict=False))
    assert scheduled_lr(0.1, 0, 1, "warmup-cosine") == pytest.approx(0.1)  # one step: no room to warm up


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("family", ["mlp", "shared-deepsets", "w-asym"])
@pytest.mark.parametrize("optimizer, batch_size, weight_decay", [
    ("gd", None, 0.0), ("gd", None, 0.05), ("sgd", 7, 0.0), ("momentum", None, 0.01), ("momentum", 7, 0.0)])
def test_fit_many_equals_fit_with_each_optimizer(dtype, family, optimizer, batch_size, weight_decay):
    torch.manual_seed(3)
    models = [_builders()[family]().to(dtype) for _ in range(3)]
    copies = [copy.deepcopy(m) for m in models]
    data = _data(3, dtype=dtype)
    kwargs = {"steps": STEPS, "lr": 1e-2, "batch_size": batch_size, "optimizer": optimizer,
              "weight_decay": weight_decay, "momentum": 0.8}
    stacked = fit_many(models, data, seeds=[4, 5, 6], **kwargs)
    alone = _one_at_a_time(copies, data, [4, 5, 6], [None] * 3, **kwargs)
    _assert_same(models, copies, stacked, alone, ATOL[dtype])


def test_gradient_descent_is_the_plain_update():
    torch.manual_seed(4)
    model = MLP(6, 1, 8).double()
    X, y = _data(1, dtype=torch.float64)[0]
    start = [p.detach().clone() for p in model.parameters()]
    penalty = 0.5 * 0.1 * sum(p.pow(2).sum() for p in model.parameters())
    loss = torch.nn.functional.mse_loss(model(X), y) + penalty
    gradients = torch.autograd.grad(loss, list(model.parameters()))
    fit(model, X, y, steps=1, lr=0.3, optimizer="gd", weight_decay=0.1)
    for p, p0, g in zip(model.parameters(), start, gradients, strict=True):
        torch.testing.assert_close(p.detach(), p0 - 0.3 * g, atol=1e-14, rtol=0)


def test_cosine_schedule_decays_to_zero_and_constant_is_unchanged():
    from symsharing.engine.stacks import scheduled_lr

    rates = [scheduled_lr(0.1, t, 100, "cosine") for t in range(100)]
    assert rates[0] == pytest.approx(0.1) and rates[50] == pytest.approx(0.05)
    assert rates[-1] == pytest.approx(0.1 * 0.5 * (1 + math.cos(math.pi * 99 / 100)))
    assert all(a > b for a, b in zip(rates, rates[1:], strict=False)) and rates[-1] < 1e-4
    assert scheduled_lr(0.1, 99, 100, "constant") == 0.1
    # a cosine run moves its weights less at the end than a constant-rate run
    torch.manual_seed(0)
    model = MLP(6, 1, 8)
    X, y = _data(1)[0]
    before = copy.deepcopy(model)
    fit(model, X, y, steps=40, lr=1e-2, schedule="cosine")
    fit(before, X, y, steps=40, lr=1e-2)
    assert not all(torch.equal(a, b) for a, b in zip(model.parameters(), before.parameters(), strict=True))


@pytest.mark.parametrize("call, error, match", [
    (lambda m, d: fit_many(m, d, steps=2, schedule="linear"), ValueError, "schedule must be one of"),
    (lambda m, d: fit_many(m, d, steps=2, weight_decay=-1.0), ValueError, "weight_decay must be"),
    (lambda m, d: fit_many(m, d, steps=[2]), ValueError, "steps must be one value or a list"),
    (lambda m, d: fit_many(m, d, steps=2, lr=[1e-3] * 3), ValueError, "lr must be one value or a list"),
    (lambda m, d: fit_many(m, d, steps=[2, 0]), ValueError, "steps must be >= 1"),
])
def test_fit_many_rejects_bad_budgets(call, error, match):
    torch.manual_seed(0)
    with pytest.raises(error, match=match):
        call([MLP(6, 1, 4), MLP(6, 1, 4)], _data(2))


def test_worker_processes_give_bit_identical_weights():
    torch.manual_seed(3)
    models = [MLP(6, 1, 8) for _ in range(4)] + [SharedMLP(cyclic(6), 1, 3) for _ in range(2)]
    data = _data(6)
    in_process = [copy.deepcopy(m) for m in models]
    pooled = [copy.deepcopy(m) for m in models]
    first = fit_many(in_process, data, steps=STEPS, lr=1e-2, batch_size=7, workers=1, max_stack_elements=50)
    second = fit_many(pooled, data, steps=STEPS, lr=1e-2, batch_size=7, workers=2, max_stack_elements=50)
    assert len(plan_stacks(models, data, batch_size=7, max_stack_elements=50)) > 2  # several stacks to share
    for a, b in zip(in_process, pooled, strict=True):
        assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters(), strict=True))
    assert [h["loss"] for h in first] == [h["loss"] for h in second]


def _training_loss_and_process(X, y, model, history):
    with torch.no_grad():
        return float(torch.nn.functional.mse_loss(model(X), y)), history["steps_taken"], os.getpid()


def test_evaluators_run_where_the_stack_trained_and_agree_across_worker_counts():
    torch.manual_seed(3)
    models = [MLP(6, 1, 8) for _ in range(4)]
    data = _data(4)
    evaluators = [functools.partial(_training_loss_and_process, X, y) for X, y in data[:3]] + [None]
    runs = {}
    for workers in (1, 2):
        copies = [copy.deepcopy(m) for m in models]
        runs[workers] = fit_many(copies, data, steps=STEPS, lr=1e-2, batch_size=7, workers=workers,
                                 max_stack_elements=50, evaluators=evaluators)
        for model, (X, y), history in zip(copies[:3], data[:3], runs[workers][:3], strict=True):
            with torch.no_grad():
                assert history["evaluation"][0] == float(torch.nn.functional.mse_loss(model(X), y))
        assert "evaluation" not in runs[workers][3]
    assert [h["evaluation"][:2] for h in runs[1][:3]] == [h["evaluation"][:2] for h in runs[2][:3]]
    assert {h["evaluation"][2] for h in runs[1][:3]} == {os.getpid()}
    # with 2 workers, this process trains the last stack at once and the pool the first two (a
    # stack per model here): each scored where it trained
    processes = [h["evaluation"][2] for h in runs[2][:3]]
    assert os.getpid() not in processes[:2] and len(set(processes)) <= 2


def test_worker_count_is_read_from_the_environment(monkeypatch):

    monkeypatch.setenv("SYMSHARING_WORKERS", "3")
    assert pool.worker_count() == 3 and pool.worker_count(1) == 1
    monkeypatch.setenv("SYMSHARING_WORKERS", "many")
    with pytest.raises(ValueError, match="SYMSHARING_WORKERS must be a positive integer"):
        pool.worker_count()
    monkeypatch.delenv("SYMSHARING_WORKERS")
    assert pool.worker_count() >= 1
    with pytest.raises(ValueError, match="workers must be >= 1"):
        pool.worker_count(0)


def test_device_setting_defaults_to_cpu_and_rejects_bad_values(monkeypatch):
    from symsharing import settings

    monkeypatch.delenv("SYMSHARING_DEVICE", raising=False)
    assert settings.device() == "cpu"
    monkeypatch.setenv("SYMSHARING_DEVICE", "CPU")
    assert settings.device() == "cpu"
    with pytest.raises(ValueError, match="tpu"):
        settings.device("tpu")


def test_cuda_asked_without_a_gpu_is_a_clear_error(monkeypatch):
    from symsharing import settings

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    environ = {k: v for k, v in os.environ.items() if k != "CUBLAS_WORKSPACE_CONFIG"}
    monkeypatch.setattr(settings.os, "environ", environ)
    with pytest.raises(ValueError, match="no CUDA device"):
        settings.device("cuda")
    assert environ["CUBLAS_WORKSPACE_CONFIG"] == ":4096:8"
