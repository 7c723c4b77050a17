"""Training: ``fit`` one model deterministically; ``fit_many`` trains many models at once.

``fit`` draws every random choice (mini-batch indices, augmentation elements) from its own
``torch.Generator(seed)`` (``_draws.DrawStream``), so the same seed and the same initial weights
give bit-identical trained weights. Mini-batches are drawn with replacement; ``batch_size >= n``
means full batch.

``fit_many`` is the sweep engine: it sorts the models into stacks of one architecture and one
data shape, and trains each stack at once with stacked weights ``[K, ...]`` and one optimizer
step (fused Adam by default; ``engine.stacks.train_stack``). Each model keeps its own seed, data
and augmentation, so the result equals ``fit`` one model at a time up to float rounding.
"""

from __future__ import annotations

import contextlib
import math
import random
import time

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from symsharing import settings
from symsharing._checks import check_int
from symsharing.engine import pool
from symsharing.engine.draws import CHUNK_STEPS, DrawStream
from symsharing.engine.stacks import OPTIMIZERS, SCHEDULES, check_targets, make_optimizer, scheduled_lr
from symsharing.groups import PermutationGroup
from symsharing.models import MLP, l2_penalty

__all__ = ["fit", "fit_many", "plan_stacks", "seed_everything", "loss_function", "default_device",
           "one_thread"]


def seed_everything(seed: int) -> torch.Generator:
    """Seed Python, NumPy and torch's global RNGs, ask torch for deterministic algorithms (a warning,
    not an error, where an op has none); return a fresh ``torch.Generator(seed)``."""
    seed = _check_seed(seed)
    torch.use_deterministic_algorithms(True, warn_only=True)
    random.seed(int(seed))
    np.random.seed(int(seed) % 2**32)
    torch.manual_seed(int(seed))
    return torch.Generator().manual_seed(int(seed))


@contextlib.contextmanager
def one_thread():
    """Run the block with one intra-op torch thread: for sweeps of tiny models on a shared 2-core
    machine, one thread is several times faster and stabler than two fighting for the cores
    (docs/performance.md); the cores are used by worker processes instead (``parallel``)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def default_device() -> torch.device:
    """``cuda`` when available, else ``cpu``."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def loss_function(outputs: torch.Tensor, y: torch.Tensor, label_smoothing: float = 0.0) -> torch.Tensor:
    """Cross-entropy for integer labels (targets smoothed by ``label_smoothing``), mean squared error
    for float targets."""
    if y.dtype.is_floating_point:
        return F.mse_loss(outputs, y)
    return F.cross_entropy(outputs, y, label_smoothing=label_smoothing)


def _check_seed(seed) -> int:
    return check_int(seed, "seed")


def _check_schedule(schedule, weight_decay, label_smoothing=0.0, y=None) -> None:
    if schedule not in SCHEDULES:
        raise ValueError(f"schedule must be one of {', '.join(SCHEDULES)}, got {schedule!r}")
    if isinstance(weight_decay, bool) or not isinstance(weight_decay, (int, float)) \
            or not (math.isfinite(weight_decay) and weight_decay >= 0):
        raise ValueError(f"weight_decay must be a finite number >= 0, got {weight_decay!r}")
    if isinstance(label_smoothing, bool) or not isinstance(label_smoothing, (int, float)) \
            or not 0 <= label_smoothing < 1:
        raise ValueError(f"label_smoothing must be a number in [0, 1), got {label_smoothing!r}")
    if label_smoothing and y is not None and y.dtype.is_floating_point:
        raise ValueError(f"label_smoothing applies to class labels; got float targets and "
                         f"label_smoothing={label_smoothing!r}")


def _check_optimizer(optimizer, momentum, batch_size, n: int) -> None:
    if optimizer not in OPTIMIZERS:
        raise ValueError(f"optimizer must be one of {', '.join(OPTIMIZERS)}, got {optimizer!r}")
    if isinstance(momentum, bool) or not isinstance(momentum, (int, float)) or not 0 <= momentum < 1:
        raise ValueError(f"momentum must be a number in [0, 1), got {momentum!r}")
    if optimizer == "gd" and batch_size is not None and batch_size < n:
        raise ValueError(f"optimizer 'gd' is full-batch gradient descent: batch_size must be None "
                         f"(or >= the {n} samples), got {batch_size}; use 'sgd' for mini-batches")


def _check_fit_arguments(model, X, y, steps, lr, batch_size, augment_group) -> None:
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    if not any(p.requires_grad for p in model.parameters()):
        raise ValueError(f"model {type(model).__name__} has no trainable parameters")
    for name, value in (("X", X), ("y", y)):
        if not isinstance(value, torch.Tensor):
            raise TypeError(f"{name} must be a torch.Tensor, got {type(value).__name__}")
    if X.dim() != 2 or len(X) == 0:
        raise ValueError(f"X must be a non-empty [n, features] tensor, got shape {tuple(X.shape)}")
    if len(y) != len(X):
        raise ValueError(f"X and y must have the same length, got {len(X)} and {len(y)}")
    if y.dtype.is_floating_point and y.dim() != 2:
        raise ValueError(f"float targets y must be [n, n_outputs], got shape {tuple(y.shape)}")
    if not y.dtype.is_floating_point and y.dim() != 1:
        raise ValueError(f"class labels y must be [n], got shape {tuple(y.shape)}")
    check_int(steps, "steps", minimum=1)
    if not isinstance(lr, (int, float)) or isinstance(lr, bool) or not lr > 0:
        raise ValueError(f"lr must be a positive number, got {lr!r}")
    if batch_size is not None:
        check_int(batch_size, "batch_size", minimum=1, meaning=" (or None for full batch)")
    if augment_group is not None and not isinstance(augment_group, PermutationGroup):
        raise TypeError(f"augment_group must be a PermutationGroup or None, "
                        f"got {type(augment_group).__name__}")


def fit(model: nn.Module, X: torch.Tensor, y: torch.Tensor, *, steps: int, lr: float = 1e-3,
        batch_size: int | None = None, seed: int = 0,
        augment_group: PermutationGroup | None = None, schedule: str = "constant",
        weight_decay: float = 0.0, label_smoothing: float = 0.0, optimizer: str = "adam",
        momentum: float = 0.9) -> dict:
    """Train ``model`` in place (Adam by default); return ``{"loss": [per step], "diverged",
    "steps_taken", "seconds"}``.

    ``schedule``: ``"constant"``, ``"cosine"`` (the rate decays from ``lr`` towards 0 over
    ``steps``), ``"warmup-cosine"`` or ``"triangular"`` (up from 0 to ``lr`` over the first fifth of
    the steps, then down to 0; ``engine.stacks.scheduled_lr``). ``optimizer``: ``"adam"``
    (``weight_decay > 0``: AdamW, decoupled decay), ``"gd"`` (full-batch gradient descent:
    ``batch_size`` None), ``"sgd"`` (the same step on mini-batches) or ``"momentum"`` (heavy-ball SGD
    with ``momentum``); for the last three ``weight_decay`` is the L2 penalty
    ``(weight_decay / 2)‖θ‖²`` (``engine.stacks.make_optimizer``). ``label_smoothing`` smooths the
    cross-entropy's targets (class labels only). A run whose loss becomes NaN or infinite stops
    there and is marked ``diverged``.
    """
    _check_fit_arguments(model, X, y, steps, lr, batch_size, augment_group)
    _check_schedule(schedule, weight_decay, label_smoothing, y)
    _check_optimizer(optimizer, momentum, batch_size, len(X))
    seed = _check_seed(seed)
    device = next(model.parameters()).device
    X, y = X.to(device), y.to(device)
    stream = DrawStream(seed, len(X), X.shape[1], batch_size, augment_group)
    optimizer = make_optimizer(optimizer, [p for p in model.parameters() if p.requires_grad], lr,
                               weight_decay, momentum)
    history, diverged, start = [], False, time.perf_counter()
    model.train()
    while len(history) < steps and not diverged:
        chunk = min(CHUNK_STEPS, steps - len(history))
        index, inverse = stream.draw(chunk)
        index = None if index is None else index.to(device)  # (chunk, batch)
        inverse = None if inverse is None else inverse.to(device)  # (chunk, batch, features)
        for t in range(chunk):
            inputs, targets = (X, y) if index is None else (X[index[t]], y[index[t]])
            if inverse is not None:
                inputs = inputs.gather(-1, inverse[t])  # (batch, features), moved by its element
            for group in optimizer.param_groups:
                group["lr"] = scheduled_lr(lr, len(history), steps, schedule)
            outputs = model(inputs)  # (batch, n_out)
            if not history:
                check_targets(outputs, y)
            loss = loss_function(outputs, targets, label_smoothing) + l2_penalty(model)  # soft sharing
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            value = float(loss.detach())
            history.append(value)
            if not math.isfinite(value):
                diverged = True
                break
    model.eval()
    return {"loss": history, "diverged": diverged, "steps_taken": len(history),
            "seconds": time.perf_counter() - start}


def _hidden_size(model: nn.Module) -> int:
    """Activations per sample in the widest hidden layer (for sizing stacks)."""
    if isinstance(model, MLP):
        return model.width
    group, channels = getattr(model, "group", None), getattr(model, "channels", None)
    if isinstance(group, PermutationGroup) and isinstance(channels, int):
        return channels * group.n
    return max(p.shape[0] if p.dim() else 1 for p in model.parameters())


def _architecture(model: nn.Module) -> tuple:
    """Everything two models must share to be trained in one stack."""
    groups = tuple(tuple(m.group.generators.flatten().tolist()) for m in model.modules()
                   if isinstance(getattr(m, "group", None), PermutationGroup))
    return (type(model), repr(model), groups,
            tuple((name, tuple(p.shape), p.dtype, p.device, p.requires_grad)
                  for name, p in model.named_parameters()),
            tuple((name, tuple(b.shape), b.dtype, b.device) for name, b in model.named_buffers()))


def _split(members: list[int], size: int) -> list[list[int]]:
    """``members`` in consecutive stacks of at most ``size``, as equal as possible."""
    n_stacks = math.ceil(len(members) / size)
    bounds = [round(i * len(members) / n_stacks) for i in range(n_stacks + 1)]
    return [members[a:b] for a, b in zip(bounds[:-1], bounds[1:], strict=True)]


def plan_stacks(models, datasets, *, batch_size: int | None = None, augment_groups=None,
                max_stack_elements: int = 1_000_000, steps=None, lrs=None, weight_decays=None,
                label_smoothings=None, mix_hyperparameters: bool = False) -> list[list[int]]:
    """The stacks ``fit_many`` trains: lists of model indices, in order of first appearance.

    Models share a stack when they have the same class, parameter and buffer shapes, groups, data
    shapes and dtypes, augmentation (on or off), step count, learning rate, weight decay and label
    smoothing (``steps``, ``lrs``, ``weight_decays``, ``label_smoothings``: one entry per model, or
    None). With ``mix_hyperparameters`` the last four may differ inside a stack (each model keeps
    its own, ``engine.hyper``); the members of a group are then ordered by step count, longest
    first, so that a stack holds budgets of similar length. A stack holds at most
    ``max_stack_elements // (batch rows * hidden size)`` models (at least one), so that its
    activations stay cache-sized.
    """
    augment_groups = [None] * len(models) if augment_groups is None else augment_groups
    budgets = [[None] * len(models) if values is None else list(values)
               for values in (steps, lrs, weight_decays, label_smoothings)]
    groups: dict[tuple, list[int]] = {}
    for k, (model, (X, y), group) in enumerate(zip(models, datasets, augment_groups, strict=True)):
        key = (_architecture(model), tuple(X.shape), X.dtype, tuple(y.shape), y.dtype, group is None,
               None if mix_hyperparameters else tuple(values[k] for values in budgets))
        groups.setdefault(key, []).append(k)
    stacks = []
    for members in groups.values():
        if mix_hyperparameters and steps is not None:
            members = sorted(members, key=lambda k: -steps[k])
        n = len(datasets[members[0]][0])
        rows = n if batch_size is None else min(batch_size, n)
        size = max(1, max_stack_elements // (rows * _hidden_size(models[members[0]])))
        stacks.extend(_split(members, size))
    return stacks


def _check_device(device) -> str | None:
    """``device`` as a string (None stays None); a ValueError for a name torch does not know, or for
    a CUDA device on a machine without one (before any work is sent out)."""
    if device is None:
        return None
    try:
        parsed = torch.device(device)
    except (RuntimeError, TypeError):
        raise ValueError(f"device must name a torch device such as 'cpu' or 'cuda', got {device!r}") from None
    if parsed.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device {device!r} was asked for but torch sees no CUDA device; use 'cpu'")
    return str(parsed)


def _stack_cost(models, datasets, members, steps, batch_size) -> int:
    """A stack's work, roughly: models x steps (the longest budget) x batch rows x hidden size."""
    first = members[0]
    n = len(datasets[first][0])
    rows = n if batch_size is None else min(batch_size, n)
    return len(members) * max(steps[k] for k in members) * rows * _hidden_size(models[first])


def _per_model(value, name: str, count: int) -> list:
    if isinstance(value, (list, tuple)):
        if len(value) != count:
            raise ValueError(f"{name} must be one value or a list with one entry per model ({count}), "
                             f"got {len(value)}")
        return list(value)
    return [value] * count


def fit_many(models, datasets, *, steps, lr=1e-3, batch_size: int | None = None,
             seeds=None, augment_groups=None, max_stack_elements: int = 1_000_000,
             progress: bool = False, schedule: str = "constant", weight_decay=0.0,
             workers: int | None = None, device: str | None = None, on_stack=None,
             evaluators=None, optimizer: str = "adam", momentum: float = 0.9, label_smoothing=0.0,
             mix_hyperparameters: bool = False, compile: bool | None = None) -> list[dict]:
    """Train each ``models[k]`` on ``datasets[k] = (X, y)`` as ``fit`` would; return the histories.

    ``steps``, ``lr``, ``weight_decay`` and ``label_smoothing`` are one value for every model or a
    list with one entry per model; ``schedule``, ``optimizer`` and ``momentum`` are as in ``fit``.
    Models whose four values differ train in separate stacks, unless ``mix_hyperparameters`` (Adam
    only): then one stack carries each model's own values (``engine.hyper``; a model whose budget
    is spent stops changing while the rest of its stack trains on). ``seeds`` (default
    ``0, 1, ...``) and
    ``augment_groups`` (default None) hold one entry per model. Models are trained in place, stack
    by stack (``plan_stacks``); the histories come back in input order: ``{"loss", "diverged",
    "steps_taken", "seconds", "stack_size", "stack_seconds"}``, where ``seconds`` is the stack's
    time divided by its size. A diverging model stops as in ``fit``
    and does not disturb the rest of its stack. With more than one stack, the stacks are trained
    in ``pool.worker_count(workers)`` worker processes of one thread each (``workers=1``: in
    this process), or on a Dask cluster inside ``pool.use_scheduler``; the stacks, and so the
    trained weights, are the same for any count. ``device`` (e.g. ``"cuda"``; default: where the
    models are) is where each stack trains; the models stay where they are and receive the trained
    weights. ``on_stack(members, histories)``, when given, is called as each stack finishes (in
    completion order) with its model indices and histories, so a caller can store finished results
    before the sweep ends. ``evaluators`` (one entry per model: None or a picklable
    ``f(model, history)``, e.g. a ``functools.partial`` of a module-level function) run right after
    their stack trains, in the worker that trained it, so that scoring is spread over the workers
    too; each result comes back in its history as ``"evaluation"``. ``compile`` (default:
    ``settings.compile_stacks()``) trains exact MLP and SharedMLP stacks with a compiled loss
    (``engine.compiled``): equal to the eager path up to float rounding, bit-identical for any
    worker count.
    """
    models, datasets = list(models), list(datasets)
    if len(models) != len(datasets):
        raise ValueError(f"fit_many needs one dataset per model, got {len(models)} models "
                         f"and {len(datasets)} datasets")
    seeds = list(range(len(models))) if seeds is None else list(seeds)
    augment_groups = [None] * len(models) if augment_groups is None else list(augment_groups)
    for name, values in (("seeds", seeds), ("augment_groups", augment_groups)):
        if len(values) != len(models):
            raise ValueError(f"{name} must hold one entry per model ({len(models)}), got {len(values)}")
    if len({id(m) for m in models}) != len(models):
        raise ValueError("fit_many got the same model object more than once; pass distinct models")
    check_int(max_stack_elements, "max_stack_elements", minimum=1)
    _check_schedule(schedule, 0.0)
    if not isinstance(mix_hyperparameters, bool):
        raise TypeError(f"mix_hyperparameters must be True or False, got {mix_hyperparameters!r}")
    if mix_hyperparameters and optimizer != "adam":
        raise ValueError(f"mix_hyperparameters needs optimizer='adam' (per-model rates are an Adam "
                         f"step), got optimizer={optimizer!r}")
    if on_stack is not None and not callable(on_stack):
        raise TypeError(f"on_stack must be callable or None, got {type(on_stack).__name__}")
    evaluators = [None] * len(models) if evaluators is None else list(evaluators)
    if len(evaluators) != len(models):
        raise ValueError(f"evaluators must hold one entry per model ({len(models)}), got {len(evaluators)}")
    if not all(evaluate is None or callable(evaluate) for evaluate in evaluators):
        raise TypeError("each entry of evaluators must be callable or None")
    device = _check_device(device)
    if compile is None:
        compile = settings.compile_stacks()
    if not isinstance(compile, bool):
        raise TypeError(f"compile must be True, False or None, got {type(compile).__name__}")
    steps, lrs = _per_model(steps, "steps", len(models)), _per_model(lr, "lr", len(models))
    decays = _per_model(weight_decay, "weight_decay", len(models))
    smoothings = _per_model(label_smoothing, "label_smoothing", len(models))
    for k, (model, data, seed, group) in enumerate(zip(models, datasets, seeds, augment_groups, strict=True)):
        if not isinstance(data, (tuple, list)) or len(data) != 2:
            raise TypeError(f"each dataset must be a pair (X, y), got {type(data).__name__}")
        _check_fit_arguments(model, data[0], data[1], steps[k], lrs[k], batch_size, group)
        _check_schedule(schedule, decays[k], smoothings[k], data[1])
        _check_optimizer(optimizer, momentum, batch_size, len(data[0]))
        _check_seed(seed)
    stacks = plan_stacks(models, datasets, batch_size=batch_size, augment_groups=augment_groups,
                         max_stack_elements=max_stack_elements, steps=steps, lrs=lrs,
                         weight_decays=decays, label_smoothings=smoothings,
                         mix_hyperparameters=mix_hyperparameters)
    workers = pool.worker_count(workers)
    jobs = [([models[k] for k in members], [datasets[k] for k in members],
             {"steps": [steps[k] for k in members], "lr": [lrs[k] for k in members],
              "batch_size": batch_size, "seeds": [int(seeds[k]) for k in members],
              "augment_groups": [augment_groups[k] for k in members], "schedule": schedule,
              "weight_decay": [decays[k] for k in members],
              "label_smoothing": [smoothings[k] for k in members], "device": device,
              "optimizer": optimizer, "momentum": momentum, "compile": compile},
             [evaluators[k] for k in members]) for members in stacks]
    histories: list[dict | None] = [None] * len(models)
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(stacks), desc="stacks", unit="stack")
    # the costliest stacks first (longest-processing-time order): the last stacks to finish are
    # short, so no worker idles long at the end of a call; the results do not depend on the order
    costs = [_stack_cost(models, datasets, members, steps, batch_size) for members in stacks]
    order = sorted(range(len(stacks)), key=lambda i: -costs[i])
    try:
        for index, trained, results in pool.run_stacks(jobs, workers, order):
            members = stacks[index]
            for position, (k, history) in enumerate(zip(members, results, strict=True)):
                if trained is not None:
                    with torch.no_grad():
                        for name, parameter in models[k].named_parameters():
                            parameter.copy_(trained[position][name])
                    models[k].eval()
                histories[k] = history
            if on_stack is not None:
                on_stack(list(members), list(results))
            if bar is not None:
                bar.update()
    finally:
        if bar is not None:
            bar.close()
    return histories
