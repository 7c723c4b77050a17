"""Running the study: tuning each family's learning rate, training units of models in the engine,
scoring them and caching tidy records (one row per trained model, ``config.RECORD_COLUMNS``).

Work is cached per unit (task, family, width, n_train, all seeds): an interrupted sweep resumes and
never retrains a finished unit.
"""

from __future__ import annotations

import functools
import statistics
import threading
import time
from pathlib import Path

import pandas as pd
import torch

from symsharing import settings
from symsharing.engine import cache
from symsharing.groups import PermutationGroup
from symsharing.metrics import invariance_error, is_collapsed, metric_name, score
from symsharing.models import count_activations, count_macs, count_parameters
from symsharing.study import ceilings, lookup, orbits
from symsharing.study.config import (
    DTYPE,
    EXTRA_COLUMNS,
    PROTOCOL_COLUMNS,
    RECORD_COLUMNS,
    RESULTS_DIR,
    TEST_SEED_OFFSET,
    VALIDATION_SEED,
    TrainingConfig,
)
from symsharing.study.families import (
    build_model,
    evaluation_model,
    ladder_groups,
    sharing_group,
    training_family,
)
from symsharing.study.protocol import best_of, choose_rate, neighbours_missing, pilot_score
from symsharing.tasks import Task, get_task
from symsharing.train import fit_many, loss_function, one_thread, seed_everything

__all__ = ["tune_learning_rates", "chosen_widths", "train_units", "target_variance", "normalised",
           "ring_ceiling", "write_results", "INIT_LOCK", "DATA_KINDS"]


def _provenance() -> dict:
    return {"device": settings.device(), "dtype": DTYPE, "torch_version": torch.__version__,
            "code_hash": cache.code_hash()}


def _tuning_key(task: Task, family: str, width: int, lr_size: int, training: TrainingConfig,
                grid=None) -> dict:
    config = {"task": task.name, "family": family, "width": width, "lr_size": lr_size,
              "grid": list(training.lr_grid if grid is None else grid),
              "max_extensions": training.max_extensions,
              "n_pilots": training.n_pilots, "lr_seed": training.lr_seed,
              "steps": training.pilot_steps_for(lr_size), "schedule": training.schedule,
              "batch_size": training.batch_size, "depth": training.depth, "n_test": training.n_test,
              "ties": "mean"}  # rates tied at the best median score go to the best mean score
    return cache.cache_key(config, device=settings.device(), dtype=DTYPE)


def tune_learning_rates(task: Task, training: TrainingConfig, targets) -> dict[tuple, dict]:
    """The tuned rate of each target ``(trained family, width, lr_size)`` (see ``protocol``): a dict
    target -> ``{"lr", "candidates", "scores", "validation_score", "validation_mean", "lr_at_edge"}``,
    cached per target.

    A family's first width (``training.widths(...)[0]``, its default) is searched from
    ``training.lr_grid``; any other width (the width tuning's wider ones, the parameter sweep's) from
    the rate tuned at the first width, in the same size bucket, and its neighbours at half and twice
    it. Either search is refined by the same rule.
    """
    targets = list(dict.fromkeys(targets))
    first = {target: (target[0], training.widths(task.name, target[0])[0], target[2]) for target in targets
             if target[1] != training.widths(task.name, target[0])[0]}
    results = _search_rates(task, training, [t for t in targets if t not in first] + list(first.values()), {})
    starts = {target: _around(results[base]["lr"]) for target, base in first.items()}
    results.update(_search_rates(task, training, list(first), starts))
    return {target: results[target] for target in targets}


def _search_rates(task: Task, training: TrainingConfig, targets, starts: dict) -> dict[tuple, dict]:
    """``tune_learning_rates`` from ``starts[target]`` (a list of rates) or ``training.lr_grid``.

    Every pilot of a round (all targets, rates and pilot seeds) is trained in one ``fit_many`` call
    and scored in the worker that trained it; a target whose best rate lacks a tried neighbour
    within 2x on a side gets it in the next round (``protocol.neighbours_missing``).
    """
    results, pending = {}, {}
    for target in dict.fromkeys(targets):
        key = _tuning_key(task, *target, training, starts.get(target))
        payload = cache.load_entry(cache.entry_path(key, "learning-rates"), key)
        if payload is None:
            pending[target] = {"key": key, "scores": {}, "pilots": {}, "extensions": 0}
        else:
            results[target] = payload
    if not pending:
        return results
    X_val, y_val = task.sample(training.n_test, VALIDATION_SEED)
    larger_better = task.kind == "classification"
    trying = {target: list(starts.get(target, training.lr_grid)) for target in pending}
    while trying:
        jobs, models, groups, data = [], [], [], []
        for (family, width, lr_size), rates in trying.items():
            for lr in rates:
                for pilot in range(training.n_pilots):
                    seed = training.lr_seed + pilot
                    with INIT_LOCK:
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
                             schedule=training.schedule, device=settings.device(),
                             mix_hyperparameters=True,  # a target's rates share one stack
                             evaluators=[functools.partial(_pilot_value, train=datum,
                                                           validation=(X_val, y_val)) for datum in data])
        for (target, lr, _), history in zip(jobs, histories, strict=True):
            pending[target]["pilots"].setdefault(lr, []).append(history["evaluation"])
        trying = {}
        for target in list(pending):
            state = pending[target]
            state["scores"] = {lr: pilot_score(values) for lr, values in state["pilots"].items()}
            means = {lr: pilot_score(values, statistics.mean) for lr, values in state["pilots"].items()}
            best = choose_rate(state["scores"], larger_better, means)
            tried = tuple(sorted(state["scores"]))
            missing = [rate for rate in neighbours_missing(tried, best) if rate not in tried] if best else []
            if missing and state["extensions"] < training.max_extensions:
                state["extensions"] += 1
                trying[target] = missing
                continue
            chosen = best if best is not None else tried[0]
            payload = {"lr": chosen, "candidates": list(tried), "scores": [state["scores"][r] for r in tried],
                       "validation_score": state["scores"][chosen], "validation_mean": means[chosen],
                       "pilot_scores": [state["pilots"][r] for r in tried],
                       "lr_at_edge": bool(missing) or best is None}
            cache.store_entry(cache.entry_path(state["key"], "learning-rates"), state["key"], payload)
            results[target] = payload
            del pending[target]
    return results


def chosen_widths(task: Task, training: TrainingConfig, families, n_trains) -> dict[tuple, int]:
    """``(trained family, n_train) -> width``: of ``training.widths``, the width whose tuned rate has
    the best validation score at the bucket of ``n_train`` (ties to the best mean over the pilots,
    then the smaller width: ``protocol.best_of``, the rule that picks a rate); every
    candidate of every family and bucket is tuned in one call (``tune_learning_rates``: the first
    width from the grid, the wider ones from around its rate)."""
    targets = {(family, n): [(family, width, training.lr_size(n))
                             for width in training.widths(task.name, family)]
               for family in families for n in n_trains}
    tuned = tune_learning_rates(task, training, [t for options in targets.values() for t in options])
    larger_better = task.kind == "classification"
    chosen = {}
    for (family, n), options in targets.items():
        scores = {target[1]: tuned[target]["validation_score"] for target in options}
        means = {target[1]: tuned[target]["validation_mean"] for target in options}
        best = best_of(scores, larger_better, means)
        chosen[family, n] = options[0][1] if best is None else best
    return chosen


def _around(rate: float) -> list[float]:
    """A rate and its neighbours at half and twice it: where a wider model's search starts."""
    return [rate / 2, rate, rate * 2]


@torch.no_grad()
def _pilot_value(model, history: dict, *, train, validation) -> float:
    """A pilot's validation score; NaN when it diverged or collapsed (its rate is then rejected)."""
    if history["diverged"] or is_collapsed(model(train[0]), train[1]):
        return float("nan")
    return score(model(validation[0]), validation[1])


@torch.no_grad()
def _evaluate(task: Task, family: str, trained, data: dict, seed: int, tying=None) -> dict:
    """Every metric of one trained network, scored as ``family``; ``tying``: the group that ties its
    weights (its population score is then that of its orbit-constant classifier), or None."""
    model = evaluation_model(task, family, trained, seed)
    X, y = data["train"]
    train_outputs = model(X)
    train_score, test_score = score(train_outputs, y), score(model(data["test"][0]), data["test"][1])
    metric = metric_name(y)
    gap = train_score - test_score if metric == "accuracy" else test_score - train_score
    return {"metric": metric, "train_loss": float(loss_function(train_outputs, y)),
            "train_score": train_score, "collapsed": is_collapsed(train_outputs, y),
            "population_score": ceilings.population_score(task, model, tying),
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


def _datasets(task: Task, n_train: int, seed: int, n_test: int, test_seed: int | None = None) -> dict:
    """Training, test, moved-test and OOD sets of data seed ``seed`` (the test set of ``test_seed``,
    by default ``TEST_SEED_OFFSET + seed``: its own)."""
    X_test, y_test = task.sample(n_test, TEST_SEED_OFFSET + seed if test_seed is None else test_seed)
    elements = task.group.random_elements(n_test, torch.Generator().manual_seed(seed))  # (n_test, n)
    return {"train": task.sample(n_train, seed), "test": (X_test, y_test),
            "moved": (task.group.act(elements, X_test), y_test), "ood": task.sample_ood(n_test, seed)}


def _common_test_datasets(task: Task, n_train: int, seed: int, n_test: int) -> dict:
    """``_datasets`` with one test set for every seed (``TEST_SEED_OFFSET``): differences between
    seeds are then differences between trained models, not between test samples (claim 1b)."""
    return _datasets(task, n_train, seed, n_test, test_seed=TEST_SEED_OFFSET)


DATA_KINDS = {"iid": _datasets, "orbit-shift": _orbit_shift_datasets, "common-test": _common_test_datasets}


# Models are initialised from torch's global random state: one thread at a time seeds and builds.
INIT_LOCK = threading.Lock()


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
        with INIT_LOCK:
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
    scored = lookup.tabulated(task, model)  # the ring's: outputs on all 2^16 inputs, computed once
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
        metrics = _evaluate(task, name, scored, datum, data_seed, tying)
        metrics["normalised_score"] = normalised(task, metrics["test_score"])
        metrics["normalised_ood_score"] = normalised(task, metrics["ood_score"], "ood")
        row["seconds"] = trained_seconds + time.perf_counter() - scoring
        if row["diverged"]:  # reported, never averaged: every score of a diverged run is NaN
            metrics = {k: (v if k == "metric" else False if k == "collapsed" else float("nan"))
                       for k, v in metrics.items()}
        rows.append({**row, **metrics})
    return rows


def frame_of(experiment: str, rows: list[dict], families) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=[c for c in RECORD_COLUMNS if c != "experiment"] + PROTOCOL_COLUMNS
                         + EXTRA_COLUMNS)
    frame.insert(0, "experiment", experiment)
    return frame[frame["family"].isin(families)].reset_index(drop=True)


def write_results(name: str, frame: pd.DataFrame, folder: Path | None = None) -> Path:
    """Write ``frame`` to ``results/<name>.csv`` (the project's results folder unless ``folder``)."""
    folder = RESULTS_DIR if folder is None else Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.csv"
    frame.to_csv(path, index=False)
    return path
