"""Does teleportation pay? Loss against steps and against wall time, with and without a teleport,
on Zhao et al. (2022)'s toy problem (``teleport_toy``) and on the book's own task with the ReLU
rescaling action (``teleport.teleport``).

Speed-up, per seed: the level ``L*`` the plain optimiser reaches halfway through its run (step
``steps / 2``); the number of steps (and of seconds, teleport included) it takes the plain run to
reach ``L*``, divided by the number the teleported run takes. A teleported run that never reaches
``L*`` (too slow, or diverged) is counted as reaching it when the plain run's budget ends, in steps
and in the plain run's seconds (a bound in its favour; ``censored`` says how often). Timings come
from one process with one thread, the arms of a seed run back to back.
"""

from __future__ import annotations

import time

import numpy as np
import torch

from symsharing.engine.cache import cache_key, cached_calls
from symsharing.engine.stacks import make_optimizer
from symsharing.models import MLP
from symsharing.paramspace.teleport import gradient_norm, teleport
from symsharing.paramspace.teleport_toy import METHODS, TELEPORT_AT, run_toy
from symsharing.settings import is_quick
from symsharing.tasks import get_task
from symsharing.train import loss_function, one_thread

__all__ = ["study_config", "BOOK_ARMS", "TELEPORT_AT", "speedups", "toy_runs", "book_runs"]

# arm: (steps, lr) of the teleport's ascent, or None
BOOK_ARMS = {"GD": None, "GD + teleport": (8, 0.2), "GD + long teleport": (8, 0.5)}


def study_config(quick: bool | None = None) -> dict:
    """The chapter's set-up for both experiments; the quick build runs fewer seeds and steps."""
    quick = is_quick() if quick is None else bool(quick)
    return {"toy_seeds": 4 if quick else 16, "toy_steps": 300,
            "task": "set", "n_train": 256, "width": 32, "depth": 2, "lr": 0.02,
            "book_seeds": 3 if quick else 12, "book_steps": 150 if quick else 300}


def speedups(plain_loss, plain_seconds, other_loss, other_seconds) -> dict:
    """Speed-up of ``other`` over ``plain`` in steps and in seconds to the plain run's halfway loss."""
    plain_loss, other_loss = np.asarray(plain_loss), np.asarray(other_loss)
    half = len(plain_loss) // 2
    level = plain_loss[half - 1]
    reached = np.flatnonzero(other_loss <= level)
    if len(reached) == 0:  # censored: at best it would arrive when the plain run's budget ends
        return {"steps": half / len(plain_loss), "seconds": plain_seconds[half - 1] / plain_seconds[-1],
                "censored": True, "level": float(level)}
    index = int(reached[0])
    return {"steps": half / (index + 1), "seconds": plain_seconds[half - 1] / other_seconds[index],
            "censored": False, "level": float(level)}


def _toy_unit(args: dict) -> list[dict]:
    torch.set_num_threads(1)
    for method in METHODS:  # warm-up, as in the paper's script, so that no arm pays for first calls
        run_toy(method, 1, steps=20)
    rows = []
    for n in range(args["toy_seeds"]):
        seed = n * n * 12345  # the paper's seeds for n < 5
        for method in METHODS:
            run = run_toy(method, seed, steps=args["toy_steps"])
            rows.append({"seed": seed, "method": method,
                         **{key: value.tolist() for key, value in run.items()}})
    return rows


def toy_runs(config: dict) -> list[dict]:
    """Every method of ``teleport_toy.METHODS`` on ``toy_seeds`` seeds: one row per (seed, method)
    with the loss, squared gradient norm and wall time per step."""
    args = {key: config[key] for key in ("toy_seeds", "toy_steps")}
    with one_thread():
        return cached_calls([(cache_key({"unit": "toy", **args}, device="cpu", dtype="float32"), _toy_unit,
                              (args,))], namespace="dynamics-teleport")[0]


def _book_run(X, y, args: dict, seed: int, ascent) -> dict:
    torch.manual_seed(seed)
    model = MLP(X.shape[1], y.shape[1], args["width"], args["depth"])
    optimizer = make_optimizer("gd", model.parameters(), args["lr"])
    losses, seconds, gain = [], [], None
    start = time.perf_counter()
    for step in range(args["book_steps"]):
        if ascent is not None and step == TELEPORT_AT:
            before = gradient_norm(model, X, y)
            model = teleport(model, X, y, steps=ascent[0], lr=ascent[1])
            optimizer = make_optimizer("gd", model.parameters(), args["lr"])  # plain GD keeps no state
            gain = gradient_norm(model, X, y) / before
        loss = loss_function(model(X), y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        losses.append(float(loss.detach()))
        seconds.append(time.perf_counter() - start)
        if not np.isfinite(losses[-1]):
            break
    return {"loss": losses, "seconds": seconds, "gradient_gain": gain,
            "diverged": not np.isfinite(losses[-1])}


def _book_unit(args: dict) -> list[dict]:
    torch.set_num_threads(1)
    X, y = get_task(args["task"]).sample(args["n_train"], 0)
    _book_run(X, y, {**args, "book_steps": 20}, 0, BOOK_ARMS["GD + teleport"])  # warm-up
    rows = []
    for seed in range(args["book_seeds"]):
        for arm, ascent in BOOK_ARMS.items():
            rows.append({"seed": seed, "arm": arm, **_book_run(X, y, args, seed, ascent)})
    return rows


def book_runs(config: dict) -> list[dict]:
    """Full-batch GD on the task from ``book_seeds`` initialisations, plain and teleported at step
    ``TELEPORT_AT`` with each ascent of ``BOOK_ARMS``: one row per (seed, arm) with the loss and
    wall time per step, the gradient-norm gain of the teleport and whether the run diverged."""
    keys = ("task", "n_train", "width", "depth", "lr", "book_seeds", "book_steps")
    args = {key: config[key] for key in keys}
    with one_thread():
        return cached_calls([(cache_key({"unit": "book", **args}, device="cpu", dtype="float32"), _book_unit,
                              (args,))], namespace="dynamics-teleport")[0]
