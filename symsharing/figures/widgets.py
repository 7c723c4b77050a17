"""Interactive explorers for the chapters: a group explorer and a training explorer (ipywidgets).

Each explorer is a thin layer of controls over pure functions that return numbers or a matplotlib
figure, so the pictures can be tested without a kernel:

- ``group_figure(group)``: the tied weight pattern of ``SharedLinear`` (its ``pair_orbits``, one
  colour per free parameter) next to the group's point orbits drawn on the points (ring, set or
  grid); ``parameter_counts(group, channels)``: free parameters of the tied layer vs a dense one.
  The pattern is the one of Ravanbakhsh, Schneider & Póczos, "Equivariance through
  parameter-sharing" (ICML 2017): ``W[g i, g j] = W[i, j]``, one parameter per orbit of pairs.
- ``training_run(task, family, n_train)``: one model trained by ``symsharing.train.fit``, with its
  learning curve, test score and invariance error, read from the on-disk results cache when that
  configuration was run before; ``training_figure(result)`` draws it.

In the static HTML an explorer shows the state saved when its chapter ran; in Jupyter it is live.
"""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.colors import ListedColormap
from torch import nn

from symsharing import groups as groups_module
from symsharing._checks import check_int
from symsharing.engine import cache
from symsharing.groups import PermutationGroup
from symsharing.metrics import invariance_error, metric_name, score
from symsharing.models import count_parameters
from symsharing.sharing import SharedLinear
from symsharing.study.config import TEST_SEED_OFFSET, TrainingConfig
from symsharing.study.families import FAMILIES, build_model, evaluation_model, families_for
from symsharing.tasks import get_task
from symsharing.train import fit, seed_everything

__all__ = [
    "GROUPS", "make_group", "parameter_counts", "group_figure", "group_explorer",
    "training_run", "training_figure", "training_explorer",
]

# name -> (constructor, layout of the points, what the size means)
GROUPS = {
    "cyclic": (groups_module.cyclic, "ring", "points"),
    "dihedral": (groups_module.dihedral, "ring", "points"),
    "symmetric": (groups_module.symmetric, "set", "points"),
    "reflection": (groups_module.reflection, "set", "points"),
    "trivial": (groups_module.trivial, "set", "points"),
    "grid_dihedral": (groups_module.grid_dihedral, "grid", "side"),
    "grid_reflection": (groups_module.grid_reflection, "grid", "side"),
    "grid_row_shift": (groups_module.grid_row_shift, "grid", "side"),
}
LAYOUTS = ("ring", "set", "grid")


# ------------------------------------------------------------------------------- group explorer
def make_group(name: str, size: int) -> PermutationGroup:
    """The group ``GROUPS[name]`` on ``size`` points (``size`` x ``size`` pixels for grid groups)."""
    if name not in GROUPS:
        raise KeyError(f"unknown group {name!r}; known: {', '.join(GROUPS)}")
    return GROUPS[name][0](size)


def _check_layout(group: PermutationGroup, layout: str) -> str:
    if layout not in LAYOUTS:
        raise ValueError(f"layout must be one of {LAYOUTS}, got {layout!r}")
    if layout == "grid" and math.isqrt(group.n) ** 2 != group.n:
        raise ValueError(f"layout 'grid' needs a square number of points, got n={group.n}")
    return layout


def parameter_counts(group: PermutationGroup, channels: int = 1) -> dict:
    """Free parameters of ``SharedLinear(group, channels, channels)`` and of the dense layer it ties.

    Returns ``{"shared", "dense", "pair_orbits", "point_orbits", "ratio"}``; the dense layer is an
    ``nn.Linear`` on the flattened ``channels * n`` features, both with bias.
    """
    if not isinstance(group, PermutationGroup):
        raise TypeError(f"group must be a PermutationGroup, got {type(group).__name__}")
    shared = count_parameters(SharedLinear(group, channels, channels))
    width = channels * group.n
    dense = count_parameters(nn.Linear(width, width))
    return {"shared": shared, "dense": dense, "pair_orbits": group.n_pair_orbits(),
            "point_orbits": len(group.orbits()), "ratio": dense / shared}


def _point_positions(n: int, layout: str) -> np.ndarray:
    """``[n, 2]`` coordinates of the points: a circle, a row, or a row-major square grid."""
    if layout == "ring":
        angle = np.pi / 2 - 2 * np.pi * np.arange(n) / n  # point 0 at the top, clockwise
        return np.stack([np.cos(angle), np.sin(angle)], axis=1)
    if layout == "set":
        return np.stack([np.arange(n), np.zeros(n)], axis=1).astype(float)
    side = math.isqrt(n)
    rows, cols = np.divmod(np.arange(n), side)
    return np.stack([cols, -rows], axis=1).astype(float)


def _colormap(k: int) -> ListedColormap:
    base = plt.get_cmap("tab20" if k > 10 else "tab10")
    return ListedColormap([base(i % base.N) for i in range(k)])


def group_figure(group: PermutationGroup, layout: str = "ring", channels: int = 1):
    """Figure: the tied weight pattern ``pair_orbits`` (left) and the point orbits (right).

    Returns the matplotlib ``Figure`` (not shown, not closed); its first axes holds the pattern
    image, its second the points coloured by orbit.
    """
    layout = _check_layout(group, layout)
    pattern = group.pair_orbits().numpy()  # (n, n)
    counts = parameter_counts(group, channels)
    fig, (ax_pattern, ax_points) = plt.subplots(1, 2, figsize=(8, 3.9))
    ax_pattern.imshow(pattern, cmap=_colormap(counts["pair_orbits"]), interpolation="nearest")
    ax_pattern.set(title=f"tied weight W[i, j]: {counts['pair_orbits']} free values",
                   xlabel="input point j", ylabel="output point i")
    orbit_index = group.orbit_index().numpy()
    positions = _point_positions(group.n, layout)
    ax_points.scatter(positions[:, 0], positions[:, 1], c=orbit_index, s=max(30, 2400 / group.n),
                      cmap=_colormap(len(group.orbits())), vmin=-0.5,
                      vmax=len(group.orbits()) - 0.5, edgecolors="black", linewidths=0.5)
    if group.n <= 64:
        for point, (x, y) in enumerate(positions):
            ax_points.annotate(str(point), (x, y), ha="center", va="center", fontsize=7)
    ax_points.set_aspect("equal")
    ax_points.margins(0.15)
    ax_points.axis("off")
    ax_points.set_title(f"{len(group.orbits())} point orbit(s) of {group.name} (order {group.order():,})")
    fig.suptitle(f"{group.name}: {counts['shared']:,} free parameters vs {counts['dense']:,} dense "
                 f"({channels} channel(s) in and out)")
    fig.tight_layout()
    return fig


def _show(output, fig) -> None:
    from IPython.display import display

    with output:
        output.clear_output(wait=True)
        display(fig)
    plt.close(fig)


def group_explorer(group: str = "dihedral", size: int = 8, channels: int = 1):
    """Widget: pick a group, its size and a channel count; see the tied pattern and the orbits."""
    import ipywidgets as widgets

    name = widgets.Dropdown(options=list(GROUPS), value=group, description="group")
    size_slider = widgets.IntSlider(value=size, min=2, max=24, description="size",
                                    continuous_update=False)
    channel_slider = widgets.IntSlider(value=channels, min=1, max=16, description="channels",
                                       continuous_update=False)
    output = widgets.Output()

    def redraw(_change=None) -> None:
        _show(output, group_figure(make_group(name.value, size_slider.value),
                                   GROUPS[name.value][1], channel_slider.value))

    for control in (name, size_slider, channel_slider):
        control.observe(redraw, names="value")
    redraw()
    return widgets.VBox([widgets.HBox([name, size_slider, channel_slider]), output])


# ---------------------------------------------------------------------------- training explorer
def training_run(task: str, family: str, n_train: int, *, seed: int = 0, steps: int = 300,
                 lr: float = 1e-3, batch_size: int = 128, n_test: int = 1000) -> dict:
    """Train one network of ``family`` on ``n_train`` samples of ``task``; return its curve and scores.

    The network is the one the experiments use at their default size (``families.build_model``
    with ``TrainingConfig().width``), trained by ``fit`` at a fixed learning rate; test data are
    ``task.sample(n_test, 10_000 + seed)`` as in the experiments. Returns ``{"task", "family",
    "n_train", "seed", "steps", "lr", "batch_size", "n_test", "width", "n_params", "loss" (one float
    per step), "metric", "test_score", "invariance_error", "source"}``; ``source`` is ``"cache"``
    when the result was read from the on-disk results cache (keyed by the configuration and the
    package's code, ``symsharing.engine.cache``), ``"run"`` when it was trained now.
    """
    task_object = get_task(task)
    if family not in families_for(task_object):
        known = ", ".join(families_for(task_object))
        raise KeyError(f"unknown model family {family!r} for task {task!r}; known: {known}")
    for label, value in (("n_train", n_train), ("steps", steps), ("batch_size", batch_size),
                         ("n_test", n_test)):
        check_int(value, label, minimum=1)
    width = TrainingConfig().width(task, family)
    config = {"task": task, "family": family, "n_train": n_train, "seed": seed, "steps": steps, "lr": lr,
              "batch_size": batch_size, "n_test": n_test, "width": width}
    key = cache.cache_key(config, device="cpu", dtype="float32")
    path = cache.entry_path(key, namespace="explorer")
    stored = cache.load_entry(path, key)
    if stored is not None:
        return {**stored, "source": "cache"}
    X, y = task_object.sample(n_train, seed)  # (n_train, n)
    X_test, y_test = task_object.sample(n_test, TEST_SEED_OFFSET + seed)  # (n_test, n)
    seed_everything(seed)
    model, augment_group = build_model(task_object, family, width)
    history = fit(model, X, y, steps=steps, lr=lr, batch_size=batch_size, seed=seed,
                  augment_group=augment_group)
    model = evaluation_model(task_object, family, model, seed)
    with torch.no_grad():
        test_score = score(model(X_test), y_test)
    result = {**config, "n_params": count_parameters(model), "loss": history["loss"],
              "metric": metric_name(y_test), "test_score": test_score,
              "invariance_error": invariance_error(model, task_object.group, X_test, seed=seed,
                                                   probabilities=task_object.kind == "classification")}
    cache.store_entry(path, key, result)
    return {**result, "source": "run"}


def training_figure(result: dict):
    """Figure: the learning curve of a ``training_run`` result, its scores in the title."""
    fig, ax = plt.subplots(figsize=(6.5, 3.6))
    ax.plot(np.arange(1, len(result["loss"]) + 1), result["loss"])
    ax.set(yscale="log", xlabel="Adam step", ylabel="training loss",
           title=(f"{result['task']} / {result['family']} / n_train={result['n_train']} "
                  f"({result['n_params']:,} parameters)\n"
                  f"test {result['metric']} {result['test_score']:.3f}, "
                  f"invariance error {result['invariance_error']:.2g} [{result['source']}]"))
    fig.tight_layout()
    return fig


def training_explorer(task: str = "ring", family: str = "shared", n_train: int = 64,
                      steps: int = 300):
    """Widget: pick task, model family and training-set size; see the learning curve and scores."""
    import ipywidgets as widgets

    from symsharing.tasks import TASKS

    task_choice = widgets.Dropdown(options=list(TASKS), value=task, description="task")
    family_choice = widgets.Dropdown(options=list(FAMILIES), value=family, description="family")
    size_choice = widgets.SelectionSlider(options=[16, 32, 64, 128, 256, 512, 1024], value=n_train,
                                          description="n_train", continuous_update=False)
    status = widgets.Label()
    output = widgets.Output()

    def redraw(_change=None) -> None:
        if family_choice.value not in families_for(get_task(task_choice.value)):
            status.value = f"family {family_choice.value} does not exist on the {task_choice.value} task"
            return
        status.value = "training…"
        result = training_run(task_choice.value, family_choice.value, size_choice.value, steps=steps)
        status.value = f"{'read from the results cache' if result['source'] == 'cache' else 'trained now'}"
        _show(output, training_figure(result))

    for control in (task_choice, family_choice, size_choice):
        control.observe(redraw, names="value")
    redraw()
    return widgets.VBox([widgets.HBox([task_choice, family_choice, size_choice]), status, output])
