"""The study's experiments: the four axes (robustness, sample efficiency, parameter efficiency,
generalization), the symmetry ladder, the budget ablation, claim 1b's seed-variance design and the
table of tuned rates. Each is the list of units it trains (``experiment_units``) run by
``size_sweep``; what an experiment trains is read here, how it is trained in ``runner``.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses

import pandas as pd

from symsharing.engine.pool import worker_count
from symsharing.models import count_parameters
from symsharing.study.config import STUDY_AXES, AxisConfig, config_for
from symsharing.study.families import build_model, families_for, ladder_groups, training_family
from symsharing.study.runner import chosen_widths, frame_of, train_units, tune_learning_rates
from symsharing.tasks import Task, get_task
from symsharing.train import one_thread

__all__ = ["experiment_units", "size_sweep", "robustness", "sample_efficiency", "generalization",
           "matched_width", "parameter_efficiency", "ladder_configs", "symmetry_ladder", "budget_ablation",
           "seed_variance", "learning_rates", "MIN_DENSE_WIDTH", "INIT_REPLICATES", "ABLATION_SCALE",
           "GRID_LADDER_TASK", "GRID_LADDER_SEEDS", "GRID_LADDER_MIN_N", "GRID_LADDER_TUNING"]


def _trained(task: Task, families) -> list[str]:
    return list(dict.fromkeys(training_family(f) for f in families_for(task, families)))


MIN_DENSE_WIDTH = 4  # no dense network narrower than this in the parameter-efficiency sweep


def experiment_units(config: AxisConfig, task: Task) -> list[tuple]:
    """The units ``(family, width, n_train[, group])`` an experiment trains on ``task``.

    Size sweeps: every trained family at every size, at the width the tuning chose for the size's
    bucket (``runner.chosen_widths``). Parameter efficiency:
    the shared families at each channel count of ``shared_widths``, the dense families at the width
    whose parameter count matches the shared model's (at least ``MIN_DENSE_WIDTH``). Symmetry
    ladder: the MLP and the shared model tied by each group of ``ladder_groups``, all at their
    default widths (the groups are compared on one architecture).
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
    families = _trained(task, config.families)
    widths = chosen_widths(task, training, families, config.n_trains)
    return [(family, widths[family, n_train], n_train) for n_train in config.n_trains for family in families]


def size_sweep(config: AxisConfig) -> pd.DataFrame:
    """Records of every task x family x seed x unit of ``config`` (``experiment_units``).

    With more than one worker the tasks run in threads of this process, so that the workers train
    one task's stacks while another task tunes or scores (no core waits at the end of each task's
    calls); the records are the same as one task after another."""
    data = {"robustness": "orbit-shift", "seed-variance": "common-test"}.get(config.experiment, "iid")

    def records(name: str) -> list[dict]:
        task = get_task(name)
        return train_units(task, experiment_units(config, task), config.seeds, config.training, data)

    if worker_count() == 1 or len(config.tasks) == 1:
        rows = [row for name in config.tasks for row in records(name)]
    else:
        with one_thread(), concurrent.futures.ThreadPoolExecutor(len(config.tasks)) as threads:
            rows = [row for part in threads.map(records, config.tasks) for row in part]
    return frame_of(config.experiment, rows, config.families)


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


# The grid variant's ladder runs the ring's protocol (seeds, tuning) on the ring's sizes from
# GRID_LADDER_MIN_N up: at n = 16 there are about two images per class and every arm is near chance.
GRID_LADDER_SEEDS = 10
GRID_LADDER_MIN_N = 64
GRID_LADDER_TUNING: dict = {}


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
    """``mlp``, ``mlp+aug`` and ``shared`` on every task at the largest sample-efficiency size (where
    a budget that grows with n is capped), trained with ``ABLATION_SCALE`` times the budget at the
    rates and widths tuned for the normal one: is the large-n end converged, i.e. does any endpoint
    move beyond its interval when every model trains longer?"""
    config = config_for("sample-efficiency", quick, seeds)
    longer = dataclasses.replace(config.training, budget_scale=ABLATION_SCALE)
    return size_sweep(dataclasses.replace(config, experiment="budget-ablation",
                                          n_trains=(max(config.n_trains),),
                                          families=("mlp", "mlp+aug", "shared"), training=longer))


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
    ``;``-separated), ``validation_score, lr_at_edge, validation_mean`` (the pilots' median and mean
    score at the chosen rate; tuned where missing, else read back)."""
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
                             "validation_mean": result["validation_mean"],
                             "lr_at_edge": result["lr_at_edge"]})
    columns = ["task", "family", "n_train", "width", "lr", "candidates", "validation_score", "lr_at_edge",
               "validation_mean"]
    return (pd.DataFrame(rows, columns=columns).drop_duplicates(["task", "family", "n_train", "width"])
            .sort_values(["task", "family", "width", "n_train"]).reset_index(drop=True))
