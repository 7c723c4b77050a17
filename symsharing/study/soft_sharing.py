"""Does soft sharing track the better of ``mlp`` and ``shared`` at every size?

Finzi, Benton & Wilson ("Residual Pathway Priors for Soft Equivariance Constraints", NeurIPS 2021)
give each layer a tied (equivariant) path and a free residual path whose L2 penalty makes the
model prefer the symmetry without forcing it. Here ``soft-shared`` (``models.SoftSharedMLP``) is
trained with ``mlp`` and ``shared`` on the study's tasks and on an approximately invariant linear
task (``tasks.LinearTask`` with ε > 0); the penalty strength is chosen per (task, size) on a
held-out validation set, as the learning rate is for the study. Every family uses one fixed
learning rate (``LR``) and the study's default widths: a small sweep of this chapter's own,
outside the study's axes.
"""

from __future__ import annotations

import dataclasses

import pandas as pd
import torch

from symsharing.engine import cache
from symsharing.metrics import metric_name, score
from symsharing.settings import is_quick
from symsharing.stats import confidence_interval
from symsharing.study.config import TrainingConfig
from symsharing.study.families import build_model
from symsharing.tasks import get_linear_task, get_task
from symsharing.train import fit_many, one_thread, seed_everything

__all__ = ["PENALTIES", "LR", "soft_sharing_records", "soft_sharing_table"]

PENALTIES = (1e-4, 1e-2, 1.0)
QUICK_PENALTIES = (1e-3, 1e-1)
LR = 3e-3
N_VALIDATION, N_TEST = 512, 2048
APPROXIMATE_TASK, APPROXIMATE_EPSILON = "linear-grid", 0.3


def _task(name: str):
    if name == "approximate":
        return get_linear_task(APPROXIMATE_TASK).with_epsilon(APPROXIMATE_EPSILON)
    return get_task(name)


def _width(task_name: str, family: str, training: TrainingConfig) -> int:
    if family == "mlp":
        return training.mlp_width
    return dict(training.shared_width).get(task_name, 4)  # the linear grid task: as the grid


def _unit(name: str, n_train: int, seeds, penalties, training: TrainingConfig) -> list[dict]:
    task = _task(name)
    configs = [("mlp", None), ("shared", None)] + [("soft-shared", p) for p in penalties]
    models, datasets, labels = [], [], []
    for family, penalty in configs:
        for seed in seeds:
            seed_everything(seed)
            extra = {} if penalty is None else {"residual_penalty": penalty}
            model, _ = build_model(task, family, _width(name, family, training), training.depth, **extra)
            models.append(model)
            datasets.append(task.sample(n_train, seed))
            labels.append((family, penalty, seed))
    histories = fit_many(models, datasets, steps=training.steps, lr=LR, batch_size=training.batch_size,
                         seeds=[seed for *_, seed in labels])
    rows = []
    for (family, penalty, seed), model, history in zip(labels, models, histories, strict=True):
        X_val, y_val = task.sample(N_VALIDATION, 20_000 + seed)
        X_test, y_test = task.sample(N_TEST, 10_000 + seed)
        with torch.no_grad():
            validation, test = score(model(X_val), y_val), score(model(X_test), y_test)
        rows.append({"task": name, "family": family, "penalty": penalty, "seed": seed,
                     "n_train": n_train, "validation_score": validation, "test_score": test,
                     "metric": metric_name(y_test), "diverged": bool(history["diverged"])})
    return rows


def soft_sharing_records(quick: bool | None = None) -> pd.DataFrame:
    """One row per trained network: ``mlp``, ``shared`` and ``soft-shared`` at each penalty, on the
    study's tasks and ``approximate`` (the linear grid task with ε = 0.3); cached per (task, size)."""
    quick = is_quick() if quick is None else bool(quick)
    training = TrainingConfig(steps=100, n_test=N_TEST) if quick else TrainingConfig(n_test=N_TEST)
    sizes = (64, 256) if quick else (64, 256, 1024)
    seeds = (0, 1) if quick else (0, 1, 2)
    penalties = QUICK_PENALTIES if quick else PENALTIES
    rows = []
    with one_thread():
        for name in ("set", "ring", "grid", "approximate"):
            for n_train in sizes:
                config = {"unit": "soft-sharing", "task": name, "n_train": n_train, "seeds": list(seeds),
                          "penalties": list(penalties), "lr": LR, "training": dataclasses.asdict(training),
                          "epsilon": APPROXIMATE_EPSILON}
                key = cache.cache_key(config, device="cpu", dtype="float32")
                compute = lambda t=name, n=n_train: _unit(t, n, seeds, penalties, training)  # noqa: E731
                rows.extend(cache.cached(key, compute, namespace="theory"))
    return pd.DataFrame(rows)


def soft_sharing_table(frame: pd.DataFrame) -> pd.DataFrame:
    """Per (task, n): mean test score of mlp, shared and soft-shared (at the penalty with the best
    mean validation score), and soft-shared minus the better of mlp and shared, paired by seed and
    signed so that positive favours soft-shared (mean, 95 % CI); ``tracks`` when the CI reaches 0
    or above."""
    rows = []
    for (task, n), part in frame.groupby(["task", "n_train"]):
        larger_better = part["metric"].iloc[0] == "accuracy"
        sign = 1.0 if larger_better else -1.0
        soft = part[part["family"] == "soft-shared"]
        validation = soft.groupby("penalty")["validation_score"].mean()
        penalty = validation.idxmax() if larger_better else validation.idxmin()
        per_seed = {family: part[part["family"] == family].set_index("seed")["test_score"]
                    for family in ("mlp", "shared")}
        per_seed["soft-shared"] = soft[soft["penalty"] == penalty].set_index("seed")["test_score"]
        means = {family: float(values.mean()) for family, values in per_seed.items()}
        better = max(("mlp", "shared"), key=lambda f: sign * means[f])
        mean, low, high = confidence_interval(sign * (per_seed["soft-shared"] - per_seed[better]).dropna())
        rows.append({"task": task, "n_train": int(n), "mlp": means["mlp"], "shared": means["shared"],
                     "soft-shared": means["soft-shared"], "penalty": penalty, "better": better,
                     "advantage": mean, "low": low, "high": high, "tracks": bool(high >= 0)})
    return pd.DataFrame(rows)
