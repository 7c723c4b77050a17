"""Figures of the experiment chapters: learning curves with 95 % CI bands, exchange rates, claims.

Plotting only: every function takes tidy records (or tables computed from them by
``symsharing.study.analysis``) and returns a ``Panels`` figure in the book's style (``style.py``:
one SVG panel per task that stack on a phone, the legend above the data, direction-labelled axes,
clipped bands, censored values apart); nothing here trains or scores. ``table`` is ``tables.table``.
"""

from __future__ import annotations

import textwrap

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from symsharing.figures.style import (
    BOOK_RC,
    PANEL_SIZE,
    Panels,
    clip_band,
    direction_label,
    measured_line,
    sampled_ticks,
)
from symsharing.figures.tables import table
from symsharing.stats import summarize
from symsharing.study.analysis import ladder_arm

__all__ = ["FAMILY_STYLE", "GROUP_STYLE", "ARM_STYLE", "plot_curves", "plot_exchange_rates", "plot_effects",
           "plot_ladder", "book_style", "table", "plot_learning_rates"]

FAMILY_STYLE = {
    "mlp": {"color": "tab:gray", "marker": "o"},
    "mlp+aug": {"color": "tab:blue", "marker": "s"},
    "mlp+aug+avg": {"color": "tab:cyan", "marker": "D"},
    "shared": {"color": "tab:red", "marker": "^"},
    "shared-sub": {"color": "tab:orange", "marker": "v"},
    "shared-wrong": {"color": "tab:purple", "marker": "x"},
}
# The arms of the mode-connectivity chapter: standard MLPs grey (aligned ones darker, REPAIR dashed),
# W-Asym green, σ-Asym purple, the scalar-gate control orange, SharedMLP red as in FAMILY_STYLE.
ARM_STYLE = {
    "mlp": {"color": "tab:gray", "marker": "o", "label": "standard, unaligned"},
    "mlp-aligned": {"color": "black", "marker": "s", "label": "weight-matched"},
    "mlp-activation-aligned": {"color": "tab:blue", "marker": "D", "label": "activation-matched"},
    "mlp-aligned-repair": {"color": "black", "marker": "s", "linestyle": "--",
                           "label": "weight-matched + REPAIR"},
    "mlp-activation-aligned-repair": {"color": "tab:blue", "marker": "D", "linestyle": "--",
                                      "label": "activation-matched + REPAIR"},
    "w-asym": {"color": "tab:green", "marker": "^", "label": "W-Asym, unaligned"},
    "sigma-asym": {"color": "tab:purple", "marker": "v", "label": "σ-Asym, unaligned"},
    "shared": {"color": "tab:red", "marker": "o", "label": "SharedMLP, unaligned"},
    "shared-aligned": {"color": "tab:red", "marker": "s", "linestyle": "--", "label": "channel-matched"},
    "shared-rotation-aligned": {"color": "tab:brown", "marker": "P", "linestyle": ":",
                                "label": "rotation + channel-matched"},
}
# The groups of the symmetry ladder: the task's own group keeps the `shared` red; smaller groups
# are warm (orange), larger and wrong ones cool or dark (brown, purple), so every figure agrees.
GROUP_STYLE = {
    "C8": {"color": "tab:orange", "marker": "v"},
    "C16": {"color": "tab:red", "marker": "^"},
    "D16": {"color": "tab:brown", "marker": "P"},
    "S16": {"color": "tab:purple", "marker": "x"},
    # the one-sided grid variant's ladder, coloured by the same roles
    "C2": {"color": "tab:orange", "marker": "v"},
    "C4": {"color": "tab:red", "marker": "^"},
    "D4": {"color": "tab:brown", "marker": "P"},
}
VALUE_LABELS = {
    "test_score": "test {metric}", "test_score_transformed": "test {metric} on g·x",
    "invariance_error": "invariance error", "ood_score": "out-of-distribution {metric}",
    "generalization_gap": "train–test gap ({metric})", "train_score": "train {metric}",
    "orbit_rest_score": "{metric} on the rest of the orbits", "slice_score": "{metric} on the training slice",
    "orbit_consistency": "orbit consistency", "orbit_worst_score": "worst case over the orbit ({metric})",
    "normalised_score": "normalised test score", "train_loss": "final training loss",
    "unseen_orbit_score": "{metric} on unseen orbits",
}


def _check_columns(frame: pd.DataFrame, columns) -> None:
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"expected a pandas DataFrame of records, got {type(frame).__name__}")
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise KeyError(f"records lack the columns {missing}; they have {list(frame.columns)}")


def _task_title(task: str) -> str:
    return f"{task} task"


X_LABELS = {"n_train": "training-set size n", "n_params": "free parameters",
            "macs": "multiply-adds per sample", "activations": "hidden activations"}


def plot_curves(frame: pd.DataFrame, x: str = "n_train", value: str = "test_score", families=None,
                logx: bool = True, logy: bool | None = None) -> Panels:
    """One panel per task: mean of ``value`` against ``x`` per family, with its 95 % CI band
    (clipped to the values the metric can take); each panel's y-label says which way is better.

    Diverged runs are left out of the means; the legend counts them where there are any.
    """
    _check_columns(frame, ["task", "family", "seed", "diverged", "metric", x, value])
    tasks = list(dict.fromkeys(frame["task"]))
    panels = Panels(len(tasks))
    diverged: dict[str, int] = {}
    for ax, task in zip(panels.axes, tasks, strict=True):
        rows = frame[frame["task"] == task]
        metric = rows["metric"].iloc[0]
        summary = summarize(rows, ["family", x], value)
        for family in families or list(dict.fromkeys(rows["family"])):
            curve = summary[summary["family"] == family].sort_values(x)
            if curve.empty:
                continue
            style = FAMILY_STYLE.get(family, {})
            diverged[family] = diverged.get(family, 0) + int(curve["diverged"].sum())
            ax.plot(curve[x], curve["mean"], label=family, markersize=4, **style)
            low, high = clip_band(curve["low"], curve["high"], value, metric)
            ax.fill_between(curve[x], low, high, color=style.get("color"), alpha=0.18, linewidth=0)
        ax.set_xscale("log" if logx else "linear")
        if x == "n_train":
            sampled_ticks(ax, rows[x])
        if logy if logy is not None else metric == "mse" or value == "invariance_error":
            ax.set_yscale("log")
        ax.set_xlabel(X_LABELS.get(x, x))
        ax.set_ylabel(direction_label(VALUE_LABELS.get(value, value).format(metric=metric), value, metric))
        ax.set_title(_task_title(task))
        ax.grid(alpha=0.3)
    handles, labels = panels.entries()
    panels.legend(handles, [label + (f" ({diverged[label]} diverged)" if diverged.get(label) else "")
                            for label in labels])
    return panels.finish()


def plot_exchange_rates(rates: pd.DataFrame, group_orders: dict[str, int]) -> Panels:
    """One panel per task: samples the baseline needs / samples the shared model had, against n.

    Filled markers joined by a line are interpolated rates; open triangles, never joined, are
    lower bounds (the baseline never catches up inside the sampled sizes). The dashed line is the
    order of the task's group.
    """
    _check_columns(rates, ["task", "baseline", "n_train", "rate", "lower_bound"])
    tasks = list(dict.fromkeys(rates["task"]))
    panels = Panels(len(tasks))
    for ax, task in zip(panels.axes, tasks, strict=True):
        rows = rates[rates["task"] == task]
        for baseline in dict.fromkeys(rows["baseline"]):
            curve = rows[rows["baseline"] == baseline].sort_values("n_train")
            color = FAMILY_STYLE.get(baseline, {}).get("color")
            bound = curve["lower_bound"].to_numpy(dtype=bool)
            ax.plot(curve["n_train"], measured_line(curve["rate"], bound), color=color, marker="o",
                    markersize=4, label=f"{baseline} / shared")
            ax.scatter(curve["n_train"][bound], curve["rate"][bound], marker="^", facecolors="none",
                       edgecolors=color, s=40)
        if task in group_orders:
            ax.axhline(group_orders[task], color="black", linestyle="--", linewidth=1,
                       label="order of the group, |G|")
            ax.annotate(f"|G| = {group_orders[task]:,}", (1, group_orders[task]),
                        xycoords=("axes fraction", "data"), xytext=(-2, 2), textcoords="offset points",
                        ha="right", va="bottom", fontsize=9)
        ax.axhline(1, color="gray", linewidth=0.8)
        ax.set_xscale("log")
        ax.set_yscale("log")
        sampled_ticks(ax, rows["n_train"])
        ax.set_xlabel("samples given to the shared model, n")
        ax.set_ylabel("samples needed / n")
        ax.set_title(_task_title(task))
        ax.grid(alpha=0.3)
    bound = plt.Line2D([], [], linestyle="none", marker="^", markerfacecolor="none", markeredgecolor="black")
    handles, labels = panels.entries()
    panels.legend(handles + [bound], labels + ["lower bound (never caught up)"])
    return panels.finish()


def plot_effects(table: pd.DataFrame, label: str = "claim") -> Panels:
    """Forest plot, one panel per ``label`` (its full name as title): each row's effect with its
    95 % CI, one colour per task; zero marked. Positive is the claimed direction in every panel."""
    _check_columns(table, [label, "task", "effect", "low", "high"])
    labels = list(dict.fromkeys(table[label]))
    tasks = list(dict.fromkeys(table["task"]))
    panels = Panels(len(labels), size=(PANEL_SIZE[0], 2.3))
    colors = dict(zip(tasks, plt.rcParams["axes.prop_cycle"].by_key()["color"], strict=False))
    for ax, name in zip(panels.axes, labels, strict=True):
        rows = table[table[label] == name].reset_index(drop=True)
        for i, row in rows.iterrows():
            error = [[row["effect"] - row["low"]], [row["high"] - row["effect"]]]
            ax.errorbar([row["effect"]], [i], xerr=error if np.isfinite(error).all() else None, fmt="o",
                        color=colors[row["task"]], capsize=3)
        ax.axvline(0, color="black", linewidth=0.8)
        ax.set_yticks(np.arange(len(rows)), rows["task"])
        ax.set_ylim(len(rows) - 0.5, -0.5)
        ax.set_title(textwrap.fill(str(name), 28))
        ax.set_xlabel("effect (→ as claimed)")
        ax.grid(alpha=0.3, axis="x")
    return panels.finish()


def plot_ladder(frame: pd.DataFrame, value: str = "test_score") -> Panels:
    """Learning curves of the symmetry ladder: one line per tying group and the MLP, 95 % CI bands
    (clipped to the metric's range), and each group's exact ceiling as a dashed line of its colour."""
    _check_columns(frame, ["task", "family", "group", "ceiling", "seed", "n_train", "diverged", value])
    frame = frame.assign(arm=ladder_arm(frame))
    tasks = list(dict.fromkeys(frame["task"]))
    panels = Panels(len(tasks))
    for ax, task in zip(panels.axes, tasks, strict=True):
        rows = frame[frame["task"] == task]
        metric = rows["metric"].iloc[0]
        summary = summarize(rows, ["arm", "n_train"], value)
        for arm in dict.fromkeys(rows["arm"]):
            curve = summary[summary["arm"] == arm].sort_values("n_train")
            style = GROUP_STYLE.get(arm, FAMILY_STYLE.get(arm, {}))
            ax.plot(curve["n_train"], curve["mean"], label=arm, markersize=4, **style)
            low, high = clip_band(curve["low"], curve["high"], value, metric)
            ax.fill_between(curve["n_train"], low, high, color=style.get("color"), alpha=0.15, linewidth=0)
            ceiling = rows.loc[rows["arm"] == arm, "ceiling"].dropna()
            if len(ceiling) and ceiling.iloc[0] < 1:
                ax.axhline(ceiling.iloc[0], color=style.get("color"), linestyle="--", linewidth=1)
        ax.axhline(1.0, color="black", linestyle="--", linewidth=0.8)
        ax.set_xscale("log")
        sampled_ticks(ax, rows["n_train"])
        ax.set_xlabel("training-set size n")
        ax.set_ylabel(direction_label(VALUE_LABELS.get(value, value).format(metric=metric), value, metric))
        ax.set_title(_task_title(task))
        ax.grid(alpha=0.3)
    ceiling = plt.Line2D([], [], color="gray", linestyle="--", linewidth=1)
    handles, labels = panels.entries()
    panels.legend(handles + [ceiling], labels + ["exact ceiling of the group"])
    return panels.finish()


def plot_learning_rates(rates: pd.DataFrame) -> Panels:
    """Heat map per task of the tuned learning rates: families (rows) against the size each bucket
    was tuned at (columns), coloured by log10 of the rate (one colour bar above the panels); a rate
    at the edge of what was tried is marked with an asterisk."""
    _check_columns(rates, ["task", "family", "n_train", "lr", "lr_at_edge"])
    tasks = list(dict.fromkeys(rates["task"]))
    panels = Panels(len(tasks))
    low, high = np.log10(rates["lr"].min()), np.log10(rates["lr"].max())
    image = None
    for ax, task in zip(panels.axes, tasks, strict=True):
        rows = rates[rates["task"] == task]
        grid = rows.pivot_table(index="family", columns="n_train", values="lr", aggfunc="first")
        edges = rows.pivot_table(index="family", columns="n_train", values="lr_at_edge", aggfunc="first")
        image = ax.imshow(np.log10(grid.to_numpy(dtype=float)), cmap="viridis", vmin=low, vmax=high,
                          aspect="auto")
        for (i, j), rate in np.ndenumerate(grid.to_numpy(dtype=float)):
            if np.isfinite(rate):
                mark = "*" if bool(edges.iloc[i, j]) else ""
                ax.text(j, i, f"{rate:.0e}{mark}".replace("e-0", "e-"), ha="center", va="center", fontsize=9,
                        color="white" if np.log10(rate) < (low + high) / 2 else "black")
        ax.set_xticks(range(grid.shape[1]), [f"{n:,}" for n in grid.columns])
        ax.set_yticks(range(grid.shape[0]), grid.index)
        ax.set_xlabel("tuned at n")
        ax.set_title(_task_title(task))
        ax.spines[:].set_visible(False)
    panels.colorbar(image, "log10 learning rate (* at the edge of the rates tried)")
    return panels.finish()


def book_style() -> None:
    """Every chapter's first call: the inline backend in a Jupyter kernel (so that an environment
    with ``MPLBACKEND=Agg`` still puts figures into the notebook's outputs), drawing figures as SVG
    (sharp at any zoom), and the book's rcParams."""
    try:
        from IPython import get_ipython
    except ImportError:  # plain Python: no notebook to draw into
        shell = None
    else:
        shell = get_ipython()
    if shell is not None and getattr(shell, "kernel", None) is not None:
        shell.run_line_magic("matplotlib", "inline")
        shell.run_line_magic("config", "InlineBackend.figure_formats = ['svg']")
    plt.rcParams.update(BOOK_RC)
