"""Tests for ``symsharing.engine.pool`` through ``fit_many``: finished stacks reported as they finish,
the training device, and stacks distributed on a Dask cluster (a killed worker costs only time)."""

import copy
import os
import signal
import threading
import time

import pytest
import torch
from dask import distributed

from symsharing.engine import pool
from symsharing.groups import cyclic
from symsharing.models import MLP, SharedMLP
from symsharing.train import fit_many, plan_stacks


def _models_and_data(k=6, n=24, d=6, seed=0):
    torch.manual_seed(seed)
    models = [MLP(d, 1, 8) for _ in range(k - 2)] + [SharedMLP(cyclic(d), 1, 3) for _ in range(2)]
    generator = torch.Generator().manual_seed(seed)
    data = [(torch.randn(n, d, generator=generator), torch.randn(n, 1, generator=generator))
            for _ in range(k)]
    return models, data


def _same_weights(first, second) -> bool:
    return all(torch.equal(p, q) for a, b in zip(first, second, strict=True)
               for p, q in zip(a.parameters(), b.parameters(), strict=True))


@pytest.mark.parametrize("workers", [1, 2])
def test_on_stack_reports_every_stack_once(workers, single_torch_thread):
    models, data = _models_and_data()
    reported = []
    histories = fit_many(models, data, steps=20, lr=1e-2, batch_size=8, max_stack_elements=40,
                         workers=workers, on_stack=lambda members, hs: reported.append((members, hs)))
    stacks = plan_stacks(models, data, batch_size=8, max_stack_elements=40)
    assert len(stacks) > 2
    assert sorted(members for members, _ in reported) == sorted(stacks)
    for members, stack_histories in reported:
        assert [histories[k] for k in members] == stack_histories


def test_on_stack_must_be_callable():
    models, data = _models_and_data(k=2)
    with pytest.raises(TypeError, match="on_stack must be callable or None, got int"):
        fit_many(models, data, steps=2, on_stack=3)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_an_explicit_device_trains_the_same_and_leaves_models_in_place(dtype):
    models, data = _models_and_data()
    models = [m.to(dtype) for m in models]
    data = [(X.to(dtype), y.to(dtype)) for X, y in data]
    implicit = [copy.deepcopy(m) for m in models]
    explicit = [copy.deepcopy(m) for m in models]
    fit_many(implicit, data, steps=15, lr=1e-2, workers=1)
    fit_many(explicit, data, steps=15, lr=1e-2, workers=1, device="cpu")
    assert _same_weights(implicit, explicit)
    assert all(p.device.type == "cpu" and p.dtype == dtype for m in explicit for p in m.parameters())


@pytest.fixture(scope="module")
def cluster():
    """Two single-threaded worker processes (with nannies, which restart a killed worker). Dask's
    nannies set OMP_NUM_THREADS=1 (and the like) in this process's environment: restored after."""
    environment = dict(os.environ)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, protocol="tcp",
                                  host="127.0.0.1", dashboard_address=None) as local, \
            distributed.Client(local) as client:
        yield client
    os.environ.clear()
    os.environ.update(environment)


def test_stacks_on_a_dask_cluster_equal_a_local_run(cluster, single_torch_thread):  # the study's setting
    models, data = _models_and_data()
    local = [copy.deepcopy(m) for m in models]
    remote = [copy.deepcopy(m) for m in models]
    first = fit_many(local, data, steps=30, lr=1e-2, batch_size=8, max_stack_elements=40, workers=1)
    before = cluster.run(lambda: 0)  # every worker answers
    with pool.use_scheduler(cluster):
        assert pool.scheduler() is cluster
        second = fit_many(remote, data, steps=30, lr=1e-2, batch_size=8, max_stack_elements=40)
    assert pool.scheduler() is None
    assert len(before) == 2
    assert _same_weights(local, remote)
    assert [h["loss"] for h in first] == [h["loss"] for h in second]


def test_a_worker_killed_mid_sweep_costs_only_time(cluster, single_torch_thread):
    torch.manual_seed(1)
    models = [MLP(16, 1, 64) for _ in range(8)]
    generator = torch.Generator().manual_seed(1)
    data = [(torch.randn(256, 16, generator=generator), torch.randn(256, 1, generator=generator))
            for _ in models]
    local = [copy.deepcopy(m) for m in models]
    fit_many(local, data, steps=300, lr=1e-3, max_stack_elements=256 * 64, workers=1)  # one model a stack
    pids = cluster.run(os.getpid)
    killed = []

    def kill_a_busy_worker():
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            busy = [address for address, tasks in cluster.processing().items() if tasks]
            if busy:
                os.kill(pids[busy[0]], signal.SIGKILL)
                killed.append(busy[0])
                return
            time.sleep(0.01)

    killer = threading.Thread(target=kill_a_busy_worker)
    with pool.use_scheduler(cluster):
        killer.start()
        histories = fit_many(models, data, steps=300, lr=1e-3, max_stack_elements=256 * 64)
    killer.join()
    assert killed, "no worker was busy: the sweep finished before the kill"
    assert _same_weights(local, models)
    assert all(len(h["loss"]) == 300 for h in histories)
    cluster.wait_for_workers(2, timeout=60)  # the nanny restarted it


BAD_DEVICES = [("tpu:x", "must name a torch device"), (3.5, "must name a torch device")] + (
    [] if torch.cuda.is_available() else [("cuda", "no CUDA device")])


@pytest.mark.parametrize(("device", "match"), BAD_DEVICES)
def test_a_bad_device_is_a_clear_error(device, match):
    models, data = _models_and_data(k=2)
    with pytest.raises(ValueError, match=match):
        fit_many(models, data, steps=2, device=device)
