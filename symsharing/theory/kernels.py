"""Kernel ridge regression with a base kernel and its G-invariant version: the exchange rate that
theory predicts for the study's tasks.

Base kernel: the Gaussian (RBF) kernel ``k(x, x′) = exp(−γ ‖x − x′‖²)`` with ``γ`` set by the median
heuristic on the training inputs (``1 / median ‖x − x′‖²``). Invariant kernel, positive
semi-definite by construction:

- for a group small enough to enumerate (C16 on the ring, D4 on the grid: |G| ≤ 16), the double
  average ``k_G(x, x′) = mean_{g,h} k(g·x, h·x′)`` over the whole group. For the RBF kernel
  ``k(g·x, h·x′) = k(x, g⁻¹h·x′)``, so the double average equals the single average
  ``mean_g k(x, g·x′)``, which is what is computed (exact, not sampled);
- for S8 on the set task (40,320 elements): the RBF kernel on *canonicalised* inputs, the sorted
  vector ``sort(x)``: a kernel on an invariant feature map, hence invariant and PSD.

Theory: for invariant targets, the invariant kernel's generalisation error equals the base kernel's
on about ``|G|`` times more samples in the limit of smooth targets and large n, while for targets
that are simple (low-degree) the gain is smaller; in the linear case it is ``d/k``
(Bietti, Venturi & Bruna, "On the sample complexity of learning under geometric stability",
NeurIPS 2021; Tahmasebi & Jegelka, "The exact sample complexity gain from invariances for kernel
regression", NeurIPS 2023; Elesedy & Zaidi, ICML 2021).

The ridge ``λ`` of each (task, kernel, size, seed) is the best of ``RIDGES`` on a held-out
validation sample, the same rule as the networks' learning rate. Classification: ridge regression
on centred one-hot labels, predict the arg max. Regression: centred targets.
"""

from __future__ import annotations

import math

import pandas as pd
import torch

from symsharing.engine import cache, pool
from symsharing.metrics import metric_name, score
from symsharing.settings import is_quick
from symsharing.tasks import Task, get_task
from symsharing.train import one_thread

__all__ = ["RIDGES", "KERNEL_FAMILIES", "rbf", "invariant_kernel", "kernel_ridge", "kernel_records",
]

RIDGES = (1e-6, 1e-4, 1e-3, 1e-2, 1e-1)
KERNEL_FAMILIES = ("kernel", "invariant-kernel")
N_VALIDATION, N_TEST = 512, 2048
VALIDATION_SEED_OFFSET, TEST_SEED_OFFSET = 20_000, 10_000


def _squared_distances(A: torch.Tensor, B: torch.Tensor) -> torch.Tensor:
    return (A.pow(2).sum(1)[:, None] + B.pow(2).sum(1)[None] - 2 * A @ B.T).clamp_min(0)  # (a, b)


def rbf(A: torch.Tensor, B: torch.Tensor, gamma: float) -> torch.Tensor:
    """``exp(−γ ‖a − b‖²)`` for every row pair: ``[len(A), len(B)]``."""
    return torch.exp(-gamma * _squared_distances(A, B))


def invariant_kernel(task: Task, A: torch.Tensor, B: torch.Tensor, gamma: float) -> torch.Tensor:
    """The G-invariant RBF kernel of ``task``'s group (see the module docstring for the two forms)."""
    group = task.group
    if group.order() > 16:  # canonicalisation: every input sorted (S_n acts on all n points)
        if len(group.orbits()) != 1 or group.order() != math.factorial(group.n):
            raise ValueError(f"group {group.name} is too large to average over and not the full "
                             "symmetric group: no invariant kernel")
        return rbf(A.sort(dim=1).values, B.sort(dim=1).values, gamma)
    total = torch.zeros(len(A), len(B), dtype=A.dtype)
    elements = group.elements()
    for g in elements:
        total += rbf(A, group.act(g, B), gamma)
    return total / len(elements)


def _gram(task: Task, family: str, A, B, gamma):
    return rbf(A, B, gamma) if family == "kernel" else invariant_kernel(task, A, B, gamma)


def _targets(y: torch.Tensor, n_outputs: int) -> torch.Tensor:
    if y.dtype.is_floating_point:
        return y.double()
    return torch.nn.functional.one_hot(y, n_outputs).double()


def kernel_ridge(task: Task, family: str, X, y, X_eval: list, ridges=RIDGES, gamma: float | None = None):
    """Fit kernel ridge regression for each ridge; return ``{ridge: [outputs on each X_eval]}``."""
    X = X.double()
    if gamma is None:
        gamma = 1.0 / float(_squared_distances(X, X).median().clamp_min(1e-12))
    targets = _targets(y, task.n_outputs)
    offset = targets.mean(0, keepdim=True)  # (1, outputs): the intercept
    K = _gram(task, family, X, X, gamma)  # (n, n)
    cross = [_gram(task, family, E.double(), X, gamma) for E in X_eval]  # (m, n) each
    outputs = {}
    for ridge in ridges:
        system = K + ridge * len(X) * torch.eye(len(X), dtype=K.dtype)
        factor, info = torch.linalg.cholesky_ex(system)
        if int(info) != 0:
            outputs[ridge] = None
            continue
        alpha = torch.cholesky_solve(targets - offset, factor)  # (n, outputs)
        outputs[ridge] = [(C @ alpha + offset).float() for C in cross]
    return outputs


KERNEL_COLUMNS = ["task", "family", "seed", "n_train", "ridge", "validation_score", "test_score", "metric",
                  "diverged"]


def _unit(task: Task, n_train: int, seed: int) -> list[dict]:
    X, y = task.sample(n_train, seed)
    X_val, y_val = task.sample(N_VALIDATION, VALIDATION_SEED_OFFSET + seed)
    X_test, y_test = task.sample(N_TEST, TEST_SEED_OFFSET + seed)
    metric = metric_name(y)
    rows = []
    for family in KERNEL_FAMILIES:
        best = None
        for ridge, outputs in kernel_ridge(task, family, X, y, [X_val, X_test]).items():
            if outputs is None:
                continue
            value, test = score(outputs[0], y_val), score(outputs[1], y_test)
            if best is None or (value > best[1] if metric == "accuracy" else value < best[1]):
                best = (ridge, value, test)
        rows.append({"task": task.name, "family": family, "seed": seed, "n_train": n_train,
                     "ridge": best[0], "validation_score": best[1], "test_score": best[2],
                     "metric": metric, "diverged": False})
    return rows


def kernel_records(quick: bool | None = None, tasks=("set", "ring", "grid"), sizes=None,
                   seeds=None) -> pd.DataFrame:
    """One row per (task, kernel family, size, seed): ``test_score`` at the validated ridge;
    cached per (task, size, seed). Full: sizes 16..2048 (doubling; the exact kernel solve at 4,096
    samples would cost more than the rest of the chapter), 5 seeds."""
    quick = is_quick() if quick is None else bool(quick)
    if sizes is None:
        sizes = (16, 64, 256, 1024) if quick else tuple(16 * 2 ** k for k in range(8))
    seeds = ((0, 1) if quick else tuple(range(5))) if seeds is None else tuple(seeds)
    keys, found = {}, {}
    for name in tasks:
        for n_train in sizes:
            for seed in seeds:
                config = {"unit": "kernel-ridge", "task": name, "n_train": int(n_train),
                          "seed": int(seed), "ridges": list(RIDGES), "n_validation": N_VALIDATION,
                          "n_test": N_TEST}
                unit = (name, int(n_train), int(seed))
                keys[unit] = key = cache.cache_key(config, device="cpu", dtype="float64")
                payload = cache.load_entry(cache.entry_path(key, "theory"), key)
                if payload is not None:
                    found[unit] = payload
    missing = [unit for unit in keys if unit not in found]
    with one_thread():  # the units run in the worker pool (one thread each), largest first
        missing.sort(key=lambda unit: -unit[1])
        for index, rows in pool.run_calls(_unit_named, missing):
            cache.store_entry(cache.entry_path(keys[missing[index]], "theory"), keys[missing[index]], rows)
            found[missing[index]] = rows
    # the columns in one order, whether the rows were computed or read back (JSON sorts keys)
    return pd.DataFrame([row for unit in keys for row in found[unit]], columns=KERNEL_COLUMNS)


def _unit_named(name: str, n_train: int, seed: int) -> list[dict]:
    return _unit(get_task(name), n_train, seed)

