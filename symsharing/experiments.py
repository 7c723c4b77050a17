"""The study's four axes, run on every task and model family; tidy records, cached on disk.

Kim, "An Empirical Study of Symmetry-Induced Parameter Sharing as an Inductive Bias in Neural
Networks" compares a dense MLP, the MLP trained with augmentation and a weight-tied model along
four axes: symmetric robustness, sample efficiency, parameter efficiency and generalization. Each
axis here is one function returning a ``pandas.DataFrame`` with one row per trained model and every
metric (the columns of ``RECORD_COLUMNS``).

Protocol, the same for every family: at seed ``s`` every model sees the same training set
``task.sample(n_train, s)``, the same test set ``task.sample(n_test, 10_000 + s)`` and the same
out-of-distribution set ``task.sample_ood(n_test, s)``; initial weights come from
``seed_everything(s)``; Adam for a fixed number of mini-batch steps. The learning rate of each
(task, family) is the best of a small grid on a held-out validation set, from one pilot run per
rate (``select_learning_rates``). Work is cached per unit (task, family, width, n_train, all seeds):
an interrupted sweep resumes and never retrains a finished unit.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import functools
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import torch

from . import cache, ceilings, connectivity, orbits, settings
from .families import (
    FAMILIES,
    build_model,
    evaluation_model,
    families_for,
    ladder_groups,
    sharing_group,
    training_family,
)
from .groups import PermutationGroup
from .metrics import invariance_error, metric_name, score
from .models import count_activations, count_macs, count_parameters
from .parallel import worker_count
from .protocol import Budget, choose_rate, extend_grid, lr_size_for
from .settings import PROJECT_ROOT, is_quick
from .tasks import Task, get_task
from .train import fit_many, loss_function, one_thread, seed_everything

__all__ = ["RECORD_COLUMNS", "PROTOCOL_COLUMNS", "TrainingConfig", "AxisConfig", "config_for",
           "tune_learning_rates", "learning_rates", "target_variance", "normalised",
           "train_units", "size_sweep", "robustness", "sample_efficiency", "parameter_efficiency",
           "generalization", "mode_connectivity", "symmetry_ladder", "write_results", "RESULTS_DIR",
           "EXPERIMENTS", "STUDY_AXES", "run_experiment", "run_all", "matched_width", "ring_ceiling",
           "experiment_units", "MIN_DENSE_WIDTH", "seed_variance", "INIT_REPLICATES",
           "budget_ablation", "ABLATION_SCALE", "ladder_configs", "GRID_LADDER_TASK", "GRID_LADDER_SEEDS",
           "GRID_LADDER_MIN_N", "GRID_LADDER_TUNING"]

RECORD_COLUMNS = ["experiment", "task", "family", "seed", "n_train", "width", "n_params", "steps", "lr",
                  "batch_size", "metric", "train_loss", "test_score", "test_score_transformed",
                  "invariance_error", "ood_score", "diverged", "seconds", "device", "dtype",
                  "torch_version", "code_hash"]
# study protocol v2 and the symmetry tests
PROTOCOL_COLUMNS = ["steps_taken", "data_seed", "init_seed", "macs", "activations", "normalised_score",
                    "group", "ceiling"]
EXTRA_COLUMNS = ["train_score", "generalization_gap", "normalised_ood_score", "unseen_orbit_score",
                 "unseen_orbit_share", "slice_score", "orbit_rest_score", "orbit_consistency",
                 "orbit_worst_score", "orbit_exact"]
TEST_SEED_OFFSET = 10_000
DTYPE = "float32"
RESULTS_DIR = PROJECT_ROOT / "results"  # the results CSVs that `make book` leaves
DEVICE = "cpu"  # the book's default training device (settings.device(): --device, SYMSHARING_DEVICE)


VALIDATION_SEED = 20_000  # the tuning's validation set: outside every training, pilot and test seed


@dataclass(frozen=True)
class TrainingConfig:
    """How every model is trained, tuned and scored (shared by all axes); see ``protocol``.

    ``steps`` is the fewest Adam steps at any size; with ``epochs > 0`` a model on n samples gets
    ``clip(epochs * ceil(n / batch_size), steps, max_steps)``. ``schedule`` decays the rate.
    Tuning: the rate of ``lr_grid`` (extended at an edge at most ``max_extensions`` times) with the
    best mean validation score over ``n_pilots`` pilot runs (seeds ``lr_seed + i``) at the
    representative size of the run's bucket, the nearest of ``lr_sizes`` (default: ``lr_n_train``).
    """

    steps: int = 400
    batch_size: int = 128
    depth: int = 2
    n_test: int = 2048
    lr_grid: tuple[float, ...] = (1e-3, 3e-3, 1e-2)
    lr_n_train: int = 256
    lr_seed: int = 1000
    mlp_width: int = 64
    shared_width: tuple[tuple[str, int], ...] = (("set", 16), ("ring", 8), ("grid", 4), ("grid-chiral", 4))
    epochs: int = 0
    max_steps: int = 0
    schedule: str = "constant"
    n_pilots: int = 1
    lr_sizes: tuple[int, ...] = ()
    max_extensions: int = 0
    budget_scale: int = 1
    pilot_steps: int = 0

    @property
    def budget(self) -> Budget:
        return Budget(self.steps, self.epochs, self.max_steps)

    def steps_for(self, n_train: int) -> int:
        """Adam steps of a study run on ``n_train`` samples at the normal budget."""
        return self.budget.steps_for(n_train, self.batch_size)

    def pilot_steps_for(self, n_train: int) -> int:
        """Adam steps of a tuning pilot: the normal budget, capped at ``pilot_steps`` when set (pilots
        at a reduced budget, to afford tuning every family, width and size bucket)."""
        steps = self.steps_for(n_train)
        return min(steps, self.pilot_steps) if self.pilot_steps else steps

    def run_steps(self, n_train: int) -> int:
        """Adam steps of a study run on ``n_train`` samples: the budget times ``budget_scale`` (the
        budget ablation trains longer at the rates tuned for the normal budget)."""
        return self.steps_for(n_train) * self.budget_scale

    def lr_size(self, n_train: int) -> int:
        """The size the rate of a run on ``n_train`` samples is tuned at (its bucket's)."""
        return lr_size_for(n_train, self.lr_sizes or (self.lr_n_train,))

    def describe(self) -> str:
        """The protocol in one paragraph, from the configuration itself."""
        sizes = self.lr_sizes or (self.lr_n_train,)
        return (f"Training: {self.budget.describe(self.batch_size)}; Adam with a {self.schedule} "
                f"learning-rate schedule. Tuning: per family, width and size bucket (tuned at n = "
                f"{', '.join(map(str, sizes))}), the rate of {{{', '.join(f'{r:g}' for r in self.lr_grid)}}} "
                f"(extended by 10x at an edge, at most {self.max_extensions} times; ties to the smaller "
                f"rate) with the best mean validation score over {self.n_pilots} pilot run(s), on "
                f"{self.n_test} validation samples drawn apart from every training and test set.")

    def width(self, task: str, family: str) -> int:
        """Hidden width (dense families) or channel count (shared families) at the default size."""
        if training_family(family) in ("mlp", "mlp+aug"):
            return self.mlp_width
        return dict(self.shared_width)[task]


@dataclass(frozen=True)
class AxisConfig:
    """One experiment: which tasks, families, seeds and sizes; ``sizes`` are n_train values, or
    shared channel counts per task for parameter efficiency (dense widths are then matched)."""

    experiment: str
    seeds: tuple[int, ...]
    n_trains: tuple[int, ...]
    tasks: tuple[str, ...] = ("set", "ring", "grid")
    families: tuple[str, ...] = FAMILIES
    shared_widths: tuple[tuple[str, tuple[int, ...]], ...] = ()
    training: TrainingConfig = field(default_factory=TrainingConfig)


_QUICK_TRAINING = TrainingConfig(steps=100, n_test=256, lr_grid=(3e-3, 1e-2), lr_n_train=128,
                                 schedule="cosine")
# The study protocol v2: budgets that grow with n, cosine decay, rates tuned per size bucket on a
# two-decade grid with two pilot seeds, ten seeds per cell.
_FULL_TRAINING = TrainingConfig(steps=400, epochs=30, max_steps=800, schedule="cosine",
                                lr_grid=(3e-4, 1e-3, 3e-3, 1e-2, 3e-2), n_pilots=2, lr_sizes=(32, 256, 2048),
                                max_extensions=2, pilot_steps=300)
_FULL_SEEDS = tuple(range(10))
# The orbit shift compares sharing with the MLP and with what augmentation can do; the controls
# (subgroup, wrong group) are the sample-efficiency chapter's.
_ROBUSTNESS_FAMILIES = ("mlp", "mlp+aug", "mlp+aug+avg", "shared")
_FULL_WIDTHS = (("set", (4, 8, 16, 32, 64)), ("ring", (2, 4, 8, 12, 16)), ("grid", (2, 3, 4, 6, 8)))
_QUICK_WIDTHS = (("set", (4, 16)), ("ring", (4, 8)), ("grid", (2, 4)))
_CONFIGS = {
    ("robustness", False): AxisConfig("robustness", _FULL_SEEDS, (64, 256, 1024),
                                      families=_ROBUSTNESS_FAMILIES, training=_FULL_TRAINING),
    ("robustness", True): AxisConfig("robustness", (0, 1), (64, 256), families=_ROBUSTNESS_FAMILIES,
                                     training=_QUICK_TRAINING),
    ("sample-efficiency", False): AxisConfig("sample-efficiency", _FULL_SEEDS,
                                             tuple(16 * 4**k for k in range(5)), training=_FULL_TRAINING),
    ("sample-efficiency", True): AxisConfig("sample-efficiency", (0, 1), (16, 64, 256, 1024),
                                            training=_QUICK_TRAINING),
    ("parameter-efficiency", False): AxisConfig("parameter-efficiency", _FULL_SEEDS, (256,),
                                                families=("mlp", "shared"), shared_widths=_FULL_WIDTHS,
                                                training=_FULL_TRAINING),
    ("parameter-efficiency", True): AxisConfig("parameter-efficiency", (0, 1), (256,),
                                               families=("mlp", "shared"), shared_widths=_QUICK_WIDTHS,
                                               training=_QUICK_TRAINING),
    ("generalization", False): AxisConfig("generalization", _FULL_SEEDS, (64, 256, 1024),
                                          training=_FULL_TRAINING),
    ("generalization", True): AxisConfig("generalization", (0, 1), (64, 256), training=_QUICK_TRAINING),
    ("symmetry-ladder", False): AxisConfig("symmetry-ladder", _FULL_SEEDS, (16, 64, 256, 1024, 4096),
                                           tasks=("ring",), families=("mlp", "shared"),
                                           training=_FULL_TRAINING),
    ("seed-variance", False): AxisConfig("seed-variance", _FULL_SEEDS, (256,), families=("mlp", "shared"),
                                         training=_FULL_TRAINING),
    ("seed-variance", True): AxisConfig("seed-variance", (0, 1), (256,), families=("mlp", "shared"),
                                        training=_QUICK_TRAINING),
    ("symmetry-ladder", True): AxisConfig("symmetry-ladder", (0, 1), (64, 256), tasks=("ring",),
                                          families=("mlp", "shared"), training=_QUICK_TRAINING),
}


def config_for(experiment: str, quick: bool | None = None, seeds=None) -> AxisConfig:
    """The configuration of ``experiment``: quick when ``quick`` (default: ``is_quick()``);
    ``seeds`` (an int count or a list of seeds) overrides the seeds."""
    quick = is_quick() if quick is None else bool(quick)
    if (experiment, quick) not in _CONFIGS:
        known = ", ".join(sorted({name for name, _ in _CONFIGS}))
        raise KeyError(f"unknown experiment {experiment!r}; known: {known}")
    config = _CONFIGS[(experiment, quick)]
    if seeds is not None:
        if isinstance(seeds, bool) or not isinstance(seeds, (int, list, tuple, range)):
            raise TypeError(f"seeds must be an int count or a list of ints, got {seeds!r}")
        seeds = tuple(range(seeds)) if isinstance(seeds, int) else tuple(int(s) for s in seeds)
        if not seeds:
            raise ValueError("seeds must hold at least one seed, got none")
        config = dataclasses.replace(config, seeds=seeds)
    return config


def _provenance() -> dict:
    return {"device": settings.device(), "dtype": DTYPE, "torch_version": torch.__version__,
            "code_hash": cache.code_hash()}


def _tuning_key(task: Task, family: str, width: int, lr_size: int, training: TrainingConfig) -> dict:
    config = {"task": task.name, "family": family, "width": width, "lr_size": lr_size,
              "grid": list(training.lr_grid), "max_extensions": training.max_extensions,
              "n_pilots": training.n_pilots, "lr_seed": training.lr_seed,
              "steps": training.pilot_steps_for(lr_size), "schedule": training.schedule,
              "batch_size": training.batch_size, "depth": training.depth, "n_test": training.n_test}
    return cache.cache_key(config, device=settings.device(), dtype=DTYPE)


def tune_learning_rates(task: Task, training: TrainingConfig, targets) -> dict[tuple, dict]:
    """The tuned rate of each target ``(trained family, width, lr_size)`` (see ``protocol``): a dict
    target -> ``{"lr", "candidates", "scores", "validation_score", "lr_at_edge"}``, cached per target.

    Every pilot of a round (all targets, rates and pilot seeds) is trained in one ``fit_many`` call;
    a target whose best rate sits at an edge of what it tried gets one more rate in the next round.
    """
    results, pending = {}, {}
    for target in dict.fromkeys(targets):
        key = _tuning_key(task, *target, training)
        payload = cache.load_entry(cache.entry_path(key, "learning-rates"), key)
        if payload is None:
            pending[target] = {"key": key, "scores": {}, "extensions": 0}
        else:
            results[target] = payload
    if not pending:
        return results
    X_val, y_val = task.sample(training.n_test, VALIDATION_SEED)
    larger_better = task.kind == "classification"
    trying = {target: list(training.lr_grid) for target in pending}
    while trying:
        jobs, models, groups, data = [], [], [], []
        for (family, width, lr_size), rates in trying.items():
            for lr in rates:
                for pilot in range(training.n_pilots):
                    seed = training.lr_seed + pilot
                    with _INIT_LOCK:
                        seed_everything(seed)
                        model, group = build_model(task, family, width, training.depth)
                    jobs.append(((family, width, lr_size), lr, seed))
                    models.append(model)
                    groups.append(group)
                    data.append(task.sample(lr_size, seed))
        histories = fit_many(models, data,
                             steps=[training.pilot_steps_for(target[2]) for target, _, _ in jobs],
                             lr=[lr for _, lr, _ in jobs], batch_size=training.batch_size,
                             seeds=[seed for _, _, seed in jobs], augment_groups=groups,
                             schedule=training.schedule, device=settings.device())
        scores: dict[tuple, list[float]] = {}
        for (target, lr, _), model, history in zip(jobs, models, histories, strict=True):
            with torch.no_grad():
                value = float("nan") if history["diverged"] else score(model(X_val), y_val)
            scores.setdefault((target, lr), []).append(value)
        for (target, lr), values in scores.items():
            pending[target]["scores"][lr] = float(sum(values) / len(values))
        trying = {}
        for target in list(pending):
            state = pending[target]
            best = choose_rate(state["scores"], larger_better)
            tried = tuple(sorted(state["scores"]))
            extra = extend_grid(tried, best) if best is not None else None
            if extra is not None and state["extensions"] < training.max_extensions:
                state["extensions"] += 1
                trying[target] = [extra]
                continue
            chosen = best if best is not None else tried[0]
            payload = {"lr": chosen, "candidates": list(tried), "scores": [state["scores"][r] for r in tried],
                       "validation_score": state["scores"][chosen],
                       "lr_at_edge": len(tried) > 1 and chosen in (tried[0], tried[-1])}
            cache.store_entry(cache.entry_path(state["key"], "learning-rates"), state["key"], payload)
            results[target] = payload
            del pending[target]
    return results


@torch.no_grad()
def _evaluate(task: Task, family: str, trained, data: dict, seed: int) -> dict:
    """Every metric of one trained network, scored as ``family``."""
    model = evaluation_model(task, family, trained, seed)
    X, y = data["train"]
    train_outputs = model(X)
    train_score, test_score = score(train_outputs, y), score(model(data["test"][0]), data["test"][1])
    metric = metric_name(y)
    gap = train_score - test_score if metric == "accuracy" else test_score - train_score
    return {"metric": metric, "train_loss": float(loss_function(train_outputs, y)),
            "train_score": train_score,
            "test_score": test_score, "generalization_gap": gap,
            "test_score_transformed": score(model(data["moved"][0]), data["moved"][1]),
            "invariance_error": invariance_error(model, task.group, data["test"][0], seed=seed,
                                                 probabilities=metric == "accuracy"),
            "ood_score": score(model(data["ood"][0]), data["ood"][1]),
            **_orbit_scores(task, model, data, seed)}


def _orbit_key(task: Task, X: torch.Tensor) -> torch.Tensor:
    """Inputs reduced to what decides their orbit: the grid's clean placement (noise is clipped to
    ±0.25, so rounding recovers it), the raw input elsewhere."""
    return X.round() if task.name == "grid" else X


def _orbit_scores(task: Task, model, data: dict, seed: int) -> dict:
    """``unseen_orbit_score`` (test points whose orbit holds no training point; on the set task's
    continuous inputs that is every point) and, for the orbit-shift data, ``orbits.orbit_metrics``."""
    X_train, X_test, y_test = data["train"][0], *data["test"]
    seen = orbits.seen_orbits(task.group, _orbit_key(task, X_train), _orbit_key(task, X_test))
    unseen = score(model(X_test[~seen]), y_test[~seen]) if bool((~seen).any()) else float("nan")
    extra = {"unseen_orbit_score": unseen, "unseen_orbit_share": float((~seen).float().mean())}
    if "slice" in data:
        extra.update(orbits.orbit_metrics(model, task.group, *data["slice"], seed=seed))
    return extra


def _orbit_shift_datasets(task: Task, n_train: int, seed: int, n_test: int) -> dict:
    """``_datasets`` with every training input replaced by its canonical representative (one pose per
    orbit: the orbit shift) and a ``slice``: the canonical test inputs, whose orbits are scored."""
    data = _datasets(task, n_train, seed, n_test)
    X, y = data["train"]
    X_test, y_test = data["test"]
    return {**data, "train": (orbits.canonicalize(task.group, X), y),
            "slice": (orbits.canonicalize(task.group, X_test), y_test)}


def _datasets(task: Task, n_train: int, seed: int, n_test: int) -> dict:
    """Training, test, moved-test and OOD sets of data seed ``seed``."""
    X_test, y_test = task.sample(n_test, TEST_SEED_OFFSET + seed)
    elements = task.group.random_elements(n_test, torch.Generator().manual_seed(seed))  # (n_test, n)
    return {"train": task.sample(n_train, seed), "test": (X_test, y_test),
            "moved": (task.group.act(elements, X_test), y_test), "ood": task.sample_ood(n_test, seed)}



DATA_KINDS = {"iid": _datasets, "orbit-shift": _orbit_shift_datasets}


def train_units(task: Task, units, seeds, training: TrainingConfig, data: str = "iid") -> list[dict]:
    """Records for ``units`` = [(family, width, n_train)] of trained families, every seed each.

    Cached units are read back; the missing ones are trained in one ``fit_many`` call (its stacks
    in parallel) and each is scored and stored as soon as the last stack holding one of its models
    finishes, so an interrupted sweep loses at most the units still in training.
    """
    if data not in DATA_KINDS:
        raise KeyError(f"unknown training data {data!r}; known: {', '.join(DATA_KINDS)}")
    with one_thread():
        return _train_units(task, units, seeds, training, data)


def _unit_parts(unit) -> tuple[str, int, int, str | None]:
    """``(family, width, n_train)`` or ``(family, width, n_train, group)``: the tying group's name in
    ``ladder_groups`` (symmetry ladder) or None for the family's own group."""
    family, width, n_train, *rest = unit
    return family, width, n_train, (rest[0] if rest else None)


def _tying(task: Task, family: str, group_name: str | None):
    """The group that ties ``family``'s weights (None for dense families) and its exact ceiling on the
    test distribution: 1 for the task's group and its subgroups (labels are constant on their
    orbits), the enumerated value where the inputs are finite (ring, grid tasks:
    ``ceilings.finite_inputs``), NaN where it cannot be computed (regression, or a wrong group on an
    input space too large to enumerate)."""
    group = ladder_groups(task)[group_name] if group_name else sharing_group(task, training_family(family))
    if group is None:
        return None, float("nan")
    if task.kind != "classification":
        return group, float("nan")
    if ceilings.has_finite_inputs(task):
        return group, ring_ceiling(task.name, group.name, tuple(group.generators.flatten().tolist()))
    return group, (1.0 if family in ("shared", "shared-sub") else float("nan"))


@functools.cache
def ring_ceiling(task_name: str, group_name: str, generators: tuple[int, ...]) -> float:
    """``ceilings.ceiling`` of a task with finite inputs (the ring, the grid tasks; named for the
    first) under a group, once per process."""
    task = get_task(task_name)
    group = PermutationGroup(torch.tensor(generators).view(-1, task.group.n).tolist(), name=group_name)
    return ceilings.ceiling(task, group)


@functools.cache
def target_variance(task_name: str, split: str = "test") -> float:
    """Variance of a regression task's targets under a split's *distribution* (200,000 samples, drawn
    once), the denominator of ``normalised_score``; NaN for classification."""
    task = get_task(task_name)
    if task.kind != "regression":
        return float("nan")
    sample = task.sample_ood if split == "ood" else task.sample
    return float(sample(200_000, 99_999)[1].double().var())


def normalised(task: Task, value: float, split: str = "test") -> float:
    """Regression: MSE / target variance of the split's distribution; classification: unchanged."""
    return value / target_variance(task.name, split) if task.kind == "regression" else value


def _seed_pair(seed) -> tuple[int, int]:
    """A seed entry: an int (data and initialisation seed alike) or a pair (data_seed, init_seed)."""
    if isinstance(seed, (tuple, list)):
        return int(seed[0]), int(seed[1])
    return int(seed), int(seed)


def _train_units(task: Task, units, seeds, training: TrainingConfig, data: str) -> list[dict]:
    targets = {unit: (training_family(_unit_parts(unit)[0]), _unit_parts(unit)[1],
                      training.lr_size(_unit_parts(unit)[2])) for unit in units}
    tuned = tune_learning_rates(task, training, targets.values())
    provenance = _provenance()
    keys, records, plan = {}, {}, {}
    for unit in units:
        family, width, n_train, group_name = _unit_parts(unit)
        plan[unit] = (tuned[targets[unit]]["lr"], training.run_steps(n_train))
        config = {"task": task.name, "family": family, "width": width, "n_train": n_train,
                  "seeds": [list(_seed_pair(seed)) for seed in seeds], "steps": plan[unit][1],
                  "schedule": training.schedule, "batch_size": training.batch_size,
                  "depth": training.depth, "n_test": training.n_test, "lr": plan[unit][0]}
        if group_name:
            config["group"] = group_name
        if data != "iid":
            config["data"] = data
        key = cache.cache_key(config, device=provenance["device"], dtype=DTYPE, code=provenance["code_hash"])
        keys[unit] = key
        payload = cache.load_entry(cache.entry_path(key), key)
        if payload is not None:
            records[unit] = payload
    batch = [(unit, _seed_pair(seed)) for unit in units if unit not in records for seed in seeds]
    if not batch:
        return [row for unit in units for row in records[unit]]
    models, groups, datasets = [], [], []
    for unit, (data_seed, init_seed) in batch:
        family, width, n_train, group_name = _unit_parts(unit)
        datasets.append(DATA_KINDS[data](task, n_train, data_seed, training.n_test))
        with _INIT_LOCK:
            seed_everything(init_seed)
            model, group = build_model(task, family, width, training.depth,
                                       ladder_groups(task)[group_name] if group_name else None)
        models.append(model)
        groups.append(group)
    members_of: dict[tuple, list[int]] = {}
    for k, (unit, _) in enumerate(batch):
        members_of.setdefault(unit, []).append(k)
    histories: list[dict | None] = [None] * len(batch)

    def store_finished(members, finished):
        for k, history in zip(members, finished, strict=True):
            histories[k] = history
        for unit in dict.fromkeys(batch[k][0] for k in members):
            if unit not in records and all(histories[k] is not None for k in members_of[unit]):
                rows = [row for k in members_of[unit] for row in histories[k]["evaluation"]]
                cache.store_entry(cache.entry_path(keys[unit]), keys[unit], rows)
                records[unit] = rows

    # each model is scored where its stack trained (spread over the workers), then stored here
    scorers = [functools.partial(_unit_rows, task=task, entry=entry, datum=datum, plan=plan[entry[0]],
                                 batch_size=training.batch_size, provenance=provenance)
               for entry, datum in zip(batch, datasets, strict=True)]
    fit_many(models, [datum["train"] for datum in datasets],
             steps=[plan[unit][1] for unit, _ in batch], lr=[plan[unit][0] for unit, _ in batch],
             batch_size=training.batch_size, seeds=[init_seed for _, (_, init_seed) in batch],
             augment_groups=groups, schedule=training.schedule, device=settings.device(),
             on_stack=store_finished, evaluators=scorers)
    return [row for unit in units for row in records[unit]]


def _unit_rows(model, history: dict, *, task: Task, entry, datum: dict, plan: tuple, batch_size: int,
               provenance: dict) -> list[dict]:
    """The records of one trained model ``entry = (unit, (data_seed, init_seed))``: one per family it
    is scored as (``mlp+aug`` is also scored orbit-averaged, as ``mlp+aug+avg``)."""
    unit, (data_seed, init_seed) = entry
    family, width, n_train, group_name = _unit_parts(unit)
    lr, steps = plan
    tying, ceiling = _tying(task, family, group_name)
    rows = []
    for name in (("mlp+aug", "mlp+aug+avg") if family == "mlp+aug" else (family,)):
        # seconds: this row's own work, training (once, on the trained family) + scoring
        trained_seconds = float(history["seconds"]) if name == family else 0.0
        row = {"task": task.name, "family": name, "seed": data_seed, "data_seed": data_seed,
               "init_seed": init_seed, "n_train": n_train, "width": width,
               "n_params": count_parameters(model), "macs": count_macs(model),
               "activations": count_activations(model), "steps": steps,
               "steps_taken": int(history["steps_taken"]), "lr": lr,
               "batch_size": batch_size, "diverged": bool(history["diverged"]),
               "group": tying.name if tying is not None else "", "ceiling": ceiling, **provenance}
        scoring = time.perf_counter()
        metrics = _evaluate(task, name, model, datum, data_seed)
        metrics["normalised_score"] = normalised(task, metrics["test_score"])
        metrics["normalised_ood_score"] = normalised(task, metrics["ood_score"], "ood")
        row["seconds"] = trained_seconds + time.perf_counter() - scoring
        if row["diverged"]:  # reported, never averaged: every score of a diverged run is NaN
            metrics = {k: (v if k == "metric" else float("nan")) for k, v in metrics.items()}
        rows.append({**row, **metrics})
    return rows


def _frame(experiment: str, rows: list[dict], families) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=[c for c in RECORD_COLUMNS if c != "experiment"] + PROTOCOL_COLUMNS
                         + EXTRA_COLUMNS)
    frame.insert(0, "experiment", experiment)
    return frame[frame["family"].isin(families)].reset_index(drop=True)


def _trained(task: Task, families) -> list[str]:
    return list(dict.fromkeys(training_family(f) for f in families_for(task, families)))


MIN_DENSE_WIDTH = 4  # no dense network narrower than this in the parameter-efficiency sweep


def experiment_units(config: AxisConfig, task: Task) -> list[tuple]:
    """The units ``(family, width, n_train[, group])`` an experiment trains on ``task``.

    Size sweeps: every trained family at its default width and every size. Parameter efficiency:
    the shared families at each channel count of ``shared_widths``, the dense families at the width
    whose parameter count matches the shared model's (at least ``MIN_DENSE_WIDTH``). Symmetry
    ladder: the MLP and the shared model tied by each group of ``ladder_groups``.
    """
    training, name = config.training, task.name
    if config.experiment == "parameter-efficiency":
        units = []
        for channels in dict(config.shared_widths)[name]:
            shared, _ = build_model(task, "shared", channels, training.depth)
            dense = max(MIN_DENSE_WIDTH, matched_width(task, count_parameters(shared), training.depth))
            units += [(family, dense if family in ("mlp", "mlp+aug") else channels, n_train)
                      for n_train in config.n_trains for family in _trained(task, config.families)]
        return units
    if config.experiment == "symmetry-ladder":
        units = []
        for n_train in config.n_trains:
            units.append(("mlp", training.width(name, "mlp"), n_train))
            units += [("shared", training.width(name, "shared"), n_train, group)
                      for group in ladder_groups(task)]
        return units
    return [(family, training.width(name, family), n_train)
            for n_train in config.n_trains for family in _trained(task, config.families)]


# Models are initialised from torch's global random state: one thread at a time seeds and builds.
_INIT_LOCK = threading.Lock()


def size_sweep(config: AxisConfig) -> pd.DataFrame:
    """Records of every task x family x seed x unit of ``config`` (``experiment_units``).

    With more than one worker the tasks run in threads of this process, so that the workers train
    one task's stacks while another task tunes or scores (no core waits at the end of each task's
    calls); the records are the same as one task after another."""
    data = "orbit-shift" if config.experiment == "robustness" else "iid"

    def records(name: str) -> list[dict]:
        task = get_task(name)
        return train_units(task, experiment_units(config, task), config.seeds, config.training, data)

    if worker_count() == 1 or len(config.tasks) == 1:
        rows = [row for name in config.tasks for row in records(name)]
    else:
        with one_thread(), concurrent.futures.ThreadPoolExecutor(len(config.tasks)) as threads:
            rows = [row for part in threads.map(records, config.tasks) for row in part]
    return _frame(config.experiment, rows, config.families)


def robustness(quick: bool | None = None, seeds=None) -> pd.DataFrame:
    """Orbit-shift robustness per size: trained on one canonical pose per orbit
    (``orbits.canonicalize``), scored on that slice (``slice_score``), on the rest of the test orbits
    (``orbit_rest_score``), with ``orbit_consistency`` and ``orbit_worst_score``; plus the i.i.d.
    score on ``g.x`` (``test_score_transformed``: the null, see ``orbits``) and invariance error."""
    return size_sweep(config_for("robustness", quick, seeds))


def sample_efficiency(quick: bool | None = None, seeds=None) -> pd.DataFrame:
    """Test score vs training-set size (log-spaced ``n_trains``) for every family."""
    return size_sweep(config_for("sample-efficiency", quick, seeds))


def generalization(quick: bool | None = None, seeds=None) -> pd.DataFrame:
    """Train–test gap (``generalization_gap``) and out-of-distribution score per size."""
    return size_sweep(config_for("generalization", quick, seeds))


def matched_width(task: Task, n_params: int, depth: int = 2) -> int:
    """The MLP width whose free-parameter count is closest to ``n_params`` on ``task``."""
    n_in, n_out = task.group.n, task.n_outputs

    def count(width: int) -> int:
        return n_in * width + width + (depth - 1) * (width * width + width) + width * n_out + n_out

    return min(range(1, 4097), key=lambda width: (abs(count(width) - n_params), width))


def parameter_efficiency(quick: bool | None = None, seeds=None) -> pd.DataFrame:
    """Test score vs ``n_params``: shared families at each channel count of ``shared_widths``;
    the dense families at the widths whose parameter counts match the shared model's; every
    record also carries ``macs`` and ``activations`` for the other two matchings."""
    return size_sweep(config_for("parameter-efficiency", quick, seeds))


GRID_LADDER_TASK = "grid-chiral"
# The grid variant's ladder is cheaper than the ring's, to fit the book's time budget: the first
# GRID_LADDER_SEEDS of the ring's seeds, the ring's sizes from GRID_LADDER_MIN_N up (at n = 16 there
# are about two images per class and every arm is near chance), and each family's rate tuned once
# (at n = 256, one pilot seed) instead of per size bucket with two.
GRID_LADDER_SEEDS = 3
GRID_LADDER_MIN_N = 64
GRID_LADDER_TUNING = {"lr_sizes": (256,), "n_pilots": 1}


def ladder_configs(quick: bool | None = None, seeds=None) -> tuple[AxisConfig, AxisConfig]:
    """The symmetry ladder's two sweeps: the ring (``config_for("symmetry-ladder")``) and the
    one-sided grid variant with the ring's budgets, on the first ``GRID_LADDER_SEEDS`` of its seeds,
    its sizes from ``GRID_LADDER_MIN_N`` up (all of them if none is that large), tuned as
    ``GRID_LADDER_TUNING`` says."""
    ring = config_for("symmetry-ladder", quick, seeds)
    sizes = tuple(n for n in ring.n_trains if n >= GRID_LADDER_MIN_N) or ring.n_trains
    training = dataclasses.replace(ring.training, **GRID_LADDER_TUNING)
    return ring, dataclasses.replace(ring, tasks=(GRID_LADDER_TASK,), seeds=ring.seeds[:GRID_LADDER_SEEDS],
                                     n_trains=sizes, training=training)


def symmetry_ladder(quick: bool | None = None, seeds=None) -> pd.DataFrame:
    """The ring shared by each group of its ladder, C8 ⊂ C16 ⊂ D16 ⊂ S16, and the one-sided grid
    variant by C2 ⊂ C4 ⊂ D4 (``families.ladder_groups``), against the MLP, per size (the ring's rows
    first); ``group`` names the tying group and ``ceiling`` is its exact best accuracy on the test
    distribution (``ceilings.ceiling``). Every shared model uses the rate tuned for ``shared``."""
    return pd.concat([size_sweep(config) for config in ladder_configs(quick, seeds)], ignore_index=True)


ABLATION_SCALE = 4  # the budget ablation trains this many times longer


def budget_ablation(quick: bool | None = None, seeds=None) -> pd.DataFrame:
    """``mlp`` and ``shared`` on the ring task at the smallest and largest sample-efficiency size,
    trained with ``ABLATION_SCALE`` times the budget at the rates tuned for the normal one: does any
    verdict change when every model trains longer? (One task: the budget of the full build.)"""
    config = config_for("sample-efficiency", quick, seeds)
    sizes = (min(config.n_trains), max(config.n_trains))
    longer = dataclasses.replace(config.training, budget_scale=ABLATION_SCALE)
    return size_sweep(dataclasses.replace(config, experiment="budget-ablation", n_trains=sizes,
                                          tasks=("ring",), families=("mlp", "shared"), training=longer))


INIT_REPLICATES = 3  # initialisation seeds per data seed in claim 1b's design


def seed_variance(quick: bool | None = None, seeds=None) -> pd.DataFrame:
    """Claim 1b's design at the middle robustness size: every data seed of the config crossed with
    ``INIT_REPLICATES`` initialisation seeds (``100 k + data seed``; k = 0 is the main runs' pairing),
    ``mlp`` and ``shared``, so that variance across data separates from variance across inits."""
    config = config_for("seed-variance", quick, seeds)
    pairs = tuple((seed, 100 * k + seed) for seed in config.seeds for k in range(INIT_REPLICATES))
    return size_sweep(dataclasses.replace(config, seeds=pairs))


def learning_rates(quick: bool | None = None) -> pd.DataFrame:
    """Every tuned rate of the study and the ladder, one row per (task, family, width, size bucket):
    ``task, family, n_train`` (the size tuned at), ``width, lr, candidates`` (every rate tried,
    ``;``-separated), ``validation_score, lr_at_edge`` (tuned where missing, else read back)."""
    rows = []
    configs = [config_for(name, quick) for name in STUDY_AXES] + [*ladder_configs(quick),
                                                                    config_for("seed-variance", quick)]
    for config in configs:
        for task_name in config.tasks:
            task = get_task(task_name)
            targets = {(training_family(unit[0]), unit[1], config.training.lr_size(unit[2]))
                       for unit in experiment_units(config, task)}
            tuned = tune_learning_rates(task, config.training, targets)
            for (family, width, lr_size), result in tuned.items():
                candidates = ";".join(f"{rate:g}" for rate in result["candidates"])
                rows.append({"task": task_name, "family": family, "n_train": lr_size, "width": width,
                             "lr": result["lr"], "candidates": candidates,
                             "validation_score": result["validation_score"],
                             "lr_at_edge": result["lr_at_edge"]})
    columns = ["task", "family", "n_train", "width", "lr", "candidates", "validation_score", "lr_at_edge"]
    return (pd.DataFrame(rows, columns=columns).drop_duplicates(["task", "family", "n_train", "width"])
            .sort_values(["task", "family", "width", "n_train"]).reset_index(drop=True))


def mode_connectivity(quick: bool | None = None, seeds=None) -> pd.DataFrame:
    """Loss barriers between independently trained pairs on digits and the ring task, the runs of
    the parameter-space chapter (``connectivity.mode_connectivity``); ``seeds`` counts the pairs."""
    if seeds is not None:
        seeds = config_for("robustness", quick, seeds).seeds  # the same checks as every axis
    rows = []
    for dataset, families in (("digits", connectivity.MLP_FAMILIES),
                              ("ring", connectivity.MLP_FAMILIES + ("shared",))):
        config = connectivity.chapter_config(dataset, quick)
        if seeds is not None:
            config["n_pairs"] = len(seeds)
        rows += connectivity.mode_connectivity(dataset, families, **config)
    return pd.DataFrame(rows)


EXPERIMENTS = {
    "robustness": (robustness, "book/robustness.py"),
    "sample-efficiency": (sample_efficiency, "book/sample_efficiency.py"),
    "parameter-efficiency": (parameter_efficiency, "book/parameter_efficiency.py"),
    "generalization": (generalization, "book/generalization.py"),
    "mode-connectivity": (mode_connectivity, "book/paramspace.py"),
    "symmetry-ladder": (symmetry_ladder, "book/symmetry_ladder.py"),
    "seed-variance": (seed_variance, "book/discussion.py"),
    "budget-ablation": (budget_ablation, "book/sample_efficiency.py"),
}


def write_results(name: str, frame: pd.DataFrame, folder: Path | None = None) -> Path:
    """Write ``frame`` to ``results/<name>.csv`` (the project's results folder unless ``folder``)."""
    folder = RESULTS_DIR if folder is None else Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.csv"
    frame.to_csv(path, index=False)
    return path


def run_experiment(name: str, quick: bool | None = None, seeds=None) -> pd.DataFrame:
    """Run (or read from the cache) the experiment called ``name``; see ``EXPERIMENTS``."""
    if name not in EXPERIMENTS:
        raise KeyError(f"unknown experiment {name!r}; known: {', '.join(EXPERIMENTS)}")
    return EXPERIMENTS[name][0](quick=quick, seeds=seeds)


# The four axes of the main study (the other entries of EXPERIMENTS extend it).
STUDY_AXES = ("robustness", "sample-efficiency", "parameter-efficiency", "generalization")


def run_all(quick: bool | None = None) -> pd.DataFrame:
    """The study: every axis of ``STUDY_AXES``, one table."""
    return pd.concat([run_experiment(name, quick) for name in STUDY_AXES], ignore_index=True)
