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

import dataclasses
import functools
import time
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import torch

from . import cache, ceilings, connectivity
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
from .models import count_parameters
from .settings import PROJECT_ROOT, is_quick
from .tasks import Task, get_task
from .train import fit_many, loss_function, one_thread, seed_everything

__all__ = ["RECORD_COLUMNS", "TrainingConfig", "AxisConfig", "config_for", "select_learning_rates",
           "train_units", "size_sweep", "robustness", "sample_efficiency", "parameter_efficiency",
           "generalization", "mode_connectivity", "symmetry_ladder", "write_results", "RESULTS_DIR",
           "EXPERIMENTS", "STUDY_AXES", "run_experiment", "run_all", "matched_width", "ring_ceiling"]

RECORD_COLUMNS = ["experiment", "task", "family", "seed", "n_train", "width", "n_params", "steps", "lr",
                  "batch_size", "metric", "train_loss", "test_score", "test_score_transformed",
                  "invariance_error", "ood_score", "diverged", "seconds", "device", "dtype",
                  "torch_version", "code_hash"]
EXTRA_COLUMNS = ["train_score", "generalization_gap", "group", "ceiling"]
TEST_SEED_OFFSET = 10_000
DTYPE = "float32"
RESULTS_DIR = PROJECT_ROOT / "results"  # the results CSVs that `make book` leaves
DEVICE = "cpu"  # every model is built and trained on the CPU (tiny models; see TOOLCHAIN.md)


@dataclass(frozen=True)
class TrainingConfig:
    """How every model is trained and scored (shared by all axes)."""

    steps: int = 400
    batch_size: int = 128
    depth: int = 2
    n_test: int = 2048
    lr_grid: tuple[float, ...] = (1e-3, 3e-3, 1e-2)
    lr_n_train: int = 256
    lr_seed: int = 1000
    mlp_width: int = 64
    shared_width: tuple[tuple[str, int], ...] = (("set", 16), ("ring", 8), ("grid", 4))

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


_QUICK_TRAINING = TrainingConfig(steps=100, n_test=256, lr_grid=(3e-3, 1e-2), lr_n_train=128)
_FULL_WIDTHS = (("set", (2, 4, 8, 16, 32)), ("ring", (2, 4, 8, 12, 16)), ("grid", (2, 3, 4, 6, 8)))
_QUICK_WIDTHS = (("set", (4, 16)), ("ring", (4, 8)), ("grid", (2, 4)))
_CONFIGS = {
    ("robustness", False): AxisConfig("robustness", tuple(range(5)), (64, 256, 1024)),
    ("robustness", True): AxisConfig("robustness", (0, 1), (64, 256), training=_QUICK_TRAINING),
    ("sample-efficiency", False): AxisConfig("sample-efficiency", tuple(range(5)),
                                             tuple(16 * 2**k for k in range(9))),
    ("sample-efficiency", True): AxisConfig("sample-efficiency", (0, 1), (16, 64, 256, 1024),
                                            training=_QUICK_TRAINING),
    ("parameter-efficiency", False): AxisConfig("parameter-efficiency", tuple(range(5)), (256,),
                                                shared_widths=_FULL_WIDTHS),
    ("parameter-efficiency", True): AxisConfig("parameter-efficiency", (0, 1), (256,),
                                               shared_widths=_QUICK_WIDTHS, training=_QUICK_TRAINING),
    ("generalization", False): AxisConfig("generalization", tuple(range(5)), (64, 256, 1024)),
    ("generalization", True): AxisConfig("generalization", (0, 1), (64, 256), training=_QUICK_TRAINING),
    ("symmetry-ladder", False): AxisConfig("symmetry-ladder", tuple(range(10)), (16, 64, 256, 1024, 4096),
                                           tasks=("ring",), families=("mlp", "shared")),
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
    return {"device": DEVICE, "dtype": DTYPE, "torch_version": torch.__version__,
            "code_hash": cache.code_hash()}


def _better(metric: str, a: float, b: float) -> bool:
    return a > b if metric == "accuracy" else a < b


def select_learning_rates(task: Task, training: TrainingConfig) -> dict[str, float]:
    """Per trained family, the rate of ``training.lr_grid`` with the best validation score after one
    pilot run on ``task.sample(lr_n_train, lr_seed)`` at the default width (cached)."""
    def compute():
        X, y = task.sample(training.lr_n_train, training.lr_seed)
        X_val, y_val = task.sample(training.n_test, training.lr_seed + 1)
        families = [f for f in families_for(task) if f == training_family(f)]
        validation = {family: [] for family in families}
        for lr in training.lr_grid:
            models, groups = [], []
            for family in families:
                seed_everything(training.lr_seed)
                model, group = build_model(task, family, training.width(task.name, family), training.depth)
                models.append(model)
                groups.append(group)
            histories = fit_many(models, [(X, y)] * len(models), steps=training.steps, lr=lr,
                                 batch_size=training.batch_size, seeds=[training.lr_seed] * len(models),
                                 augment_groups=groups)
            for family, model, history in zip(families, models, histories, strict=True):
                with torch.no_grad():
                    value = score(model(X_val), y_val)
                validation[family].append(float("nan") if history["diverged"] else value)
        chosen = {}
        for family, values in validation.items():
            best = None
            for lr, value in zip(training.lr_grid, values, strict=True):
                if value == value and (best is None or _better(metric_name(y), value, best[1])):
                    best = (lr, value)
            chosen[family] = training.lr_grid[0] if best is None else best[0]
        return chosen

    key = cache.cache_key({"task": task.name, "training": dataclasses.asdict(training)},
                          device=DEVICE, dtype=DTYPE)
    chosen = cache.cached(key, compute, namespace="learning-rates")
    return {family: chosen[training_family(family)] for family in families_for(task)}


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
            "ood_score": score(model(data["ood"][0]), data["ood"][1])}


def _datasets(task: Task, n_train: int, seed: int, n_test: int) -> dict:
    X_test, y_test = task.sample(n_test, TEST_SEED_OFFSET + seed)
    elements = task.group.random_elements(n_test, torch.Generator().manual_seed(seed))  # (n_test, n)
    return {"train": task.sample(n_train, seed), "test": (X_test, y_test),
            "moved": (task.group.act(elements, X_test), y_test), "ood": task.sample_ood(n_test, seed)}



def train_units(task: Task, units, seeds, training: TrainingConfig) -> list[dict]:
    """Records for ``units`` = [(family, width, n_train)] of trained families, every seed each.

    Cached units are read back; the missing ones are trained in one ``fit_many`` call per
    learning rate (as many models per call as possible) and stored right after that call.
    """
    with one_thread():
        return _train_units(task, units, seeds, training)


def _unit_parts(unit) -> tuple[str, int, int, str | None]:
    """``(family, width, n_train)`` or ``(family, width, n_train, group)``: the tying group's name in
    ``ladder_groups`` (symmetry ladder) or None for the family's own group."""
    family, width, n_train, *rest = unit
    return family, width, n_train, (rest[0] if rest else None)


def _tying(task: Task, family: str, group_name: str | None):
    """The group that ties ``family``'s weights (None for dense families) and its exact ceiling on the
    test distribution: 1 for the task's group and its subgroups (labels are constant on their
    orbits), the enumerated value on the ring, NaN where it cannot be computed (regression, or a
    wrong group on an input space too large to enumerate)."""
    group = ladder_groups(task)[group_name] if group_name else sharing_group(task, training_family(family))
    if group is None:
        return None, float("nan")
    if task.kind != "classification":
        return group, float("nan")
    if task.name == "ring":
        return group, ring_ceiling(task.name, group.name, tuple(group.generators.flatten().tolist()))
    return group, (1.0 if family in ("shared", "shared-sub") else float("nan"))


@functools.cache
def ring_ceiling(task_name: str, group_name: str, generators: tuple[int, ...]) -> float:
    """``ceilings.ceiling`` of the ring task under a group, once per process."""
    task = get_task(task_name)
    group = PermutationGroup(torch.tensor(generators).view(-1, task.group.n).tolist(), name=group_name)
    return ceilings.ceiling(task, group)


def _train_units(task: Task, units, seeds, training: TrainingConfig) -> list[dict]:
    lrs = select_learning_rates(task, training)
    provenance = _provenance()
    keys, records = {}, {}
    for unit in units:
        family, width, n_train, group_name = _unit_parts(unit)
        config = {"task": task.name, "family": family, "width": width, "n_train": n_train,
                  "seeds": list(seeds), "steps": training.steps, "batch_size": training.batch_size,
                  "depth": training.depth, "n_test": training.n_test, "lr": lrs[family]}
        if group_name:
            config["group"] = group_name
        key = cache.cache_key(config, device=provenance["device"], dtype=DTYPE, code=provenance["code_hash"])
        keys[unit] = key
        payload = cache.load_entry(cache.entry_path(key), key)
        if payload is not None:
            records[unit] = payload
    missing = [unit for unit in units if unit not in records]
    for lr in sorted({lrs[unit[0]] for unit in missing}):
        batch = [(unit, seed) for unit in missing if lrs[unit[0]] == lr for seed in seeds]
        models, groups, data = [], [], []
        for unit, seed in batch:
            family, width, n_train, group_name = _unit_parts(unit)
            data.append(_datasets(task, n_train, seed, training.n_test))
            seed_everything(seed)
            model, group = build_model(task, family, width, training.depth,
                                       ladder_groups(task)[group_name] if group_name else None)
            models.append(model)
            groups.append(group)
        start = time.perf_counter()
        histories = fit_many(models, [d["train"] for d in data], steps=training.steps, lr=lr,
                             batch_size=training.batch_size, seeds=[seed for _, seed in batch],
                             augment_groups=groups)
        share = (time.perf_counter() - start) / len(batch)
        fresh = {}
        for (unit, seed), model, history, datum in zip(batch, models, histories, data, strict=True):
            family, width, n_train, group_name = _unit_parts(unit)
            evaluated = ("mlp+aug", "mlp+aug+avg") if family == "mlp+aug" else (family,)
            tying, ceiling = _tying(task, family, group_name)
            for name in evaluated:
                # seconds: this row's own work, training (once, on the trained family) + scoring
                trained_seconds = float(history.get("seconds", share)) if name == family else 0.0
                row = {"task": task.name, "family": name, "seed": seed, "n_train": n_train, "width": width,
                       "n_params": count_parameters(model), "steps": training.steps, "lr": lr,
                       "batch_size": training.batch_size, "diverged": bool(history["diverged"]),
                       "group": tying.name if tying is not None else "", "ceiling": ceiling,
                       **provenance}
                scoring = time.perf_counter()
                metrics = _evaluate(task, name, model, datum, seed)
                row["seconds"] = trained_seconds + time.perf_counter() - scoring
                if row["diverged"]:  # reported, never averaged: every score of a diverged run is NaN
                    metrics = {k: (v if k == "metric" else float("nan")) for k, v in metrics.items()}
                fresh.setdefault(unit, []).append({**row, **metrics})
        for unit, rows in fresh.items():
            cache.store_entry(cache.entry_path(keys[unit]), keys[unit], rows)
            records[unit] = rows
    return [row for unit in units for row in records[unit]]


def _frame(experiment: str, rows: list[dict], families) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=[c for c in RECORD_COLUMNS if c != "experiment"] + EXTRA_COLUMNS)
    frame.insert(0, "experiment", experiment)
    return frame[frame["family"].isin(families)].reset_index(drop=True)


def _trained(task: Task, families) -> list[str]:
    return list(dict.fromkeys(training_family(f) for f in families_for(task, families)))


def size_sweep(config: AxisConfig) -> pd.DataFrame:
    """Records of every task x family x seed x ``config.n_trains`` at the default widths."""
    rows = []
    for name in config.tasks:
        task = get_task(name)
        units = [(family, config.training.width(name, family), n_train)
                 for n_train in config.n_trains for family in _trained(task, config.families)]
        rows += train_units(task, units, config.seeds, config.training)
    return _frame(config.experiment, rows, config.families)


def robustness(quick: bool | None = None, seeds=None) -> pd.DataFrame:
    """Score on ``g.x`` (random g of the task's group) vs on ``x``, and invariance error, per size."""
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
    the dense families at the widths whose parameter counts match the shared model's."""
    config = config_for("parameter-efficiency", quick, seeds)
    rows, n_train = [], config.n_trains[0]
    for name in config.tasks:
        task = get_task(name)
        units = []
        for channels in dict(config.shared_widths)[name]:
            seed_everything(0)
            shared, _ = build_model(task, "shared", channels, config.training.depth)
            dense = matched_width(task, count_parameters(shared), config.training.depth)
            units += [(family, dense if family in ("mlp", "mlp+aug") else channels, n_train)
                      for family in _trained(task, config.families)]
        rows += train_units(task, units, config.seeds, config.training)
    return _frame(config.experiment, rows, config.families)


def symmetry_ladder(quick: bool | None = None, seeds=None) -> pd.DataFrame:
    """The ring shared by each group of its ladder, C8 ⊂ C16 ⊂ D16 ⊂ S16, against the MLP, per size;
    ``group`` names the tying group and ``ceiling`` is its exact best accuracy on the test
    distribution (``ceilings.ceiling``). Every shared model uses the rate tuned for ``shared``."""
    config = config_for("symmetry-ladder", quick, seeds)
    rows = []
    for name in config.tasks:
        task = get_task(name)
        units = []
        for n_train in config.n_trains:
            units.append(("mlp", config.training.width(name, "mlp"), n_train))
            units += [("shared", config.training.width(name, "shared"), n_train, group)
                      for group in ladder_groups(task)]
        rows += train_units(task, units, config.seeds, config.training)
    return _frame(config.experiment, rows, config.families)


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
