"""Figures of the experiment chapters: learning curves with 95 % CI bands, exchange rates, claims.

Plotting only: every function takes tidy records (or tables computed from them by
``symsharing.study.analysis``) and returns a matplotlib ``Figure``; nothing here trains or scores.
"""

from __future__ import annotations

import numbers

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from symsharing.stats import summarize
from symsharing.study.analysis import ladder_arm

__all__ = ["FAMILY_STYLE", "GROUP_STYLE", "ARM_STYLE", "plot_curves", "plot_exchange_rates", "plot_effects",
           "plot_ladder",
           "book_style", "TEXT_WIDTH", "table", "plot_learning_rates"]

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


def plot_curves(frame: pd.DataFrame, x: str = "n_train", value: str = "test_score", families=None,
                logx: bool = True, logy: bool | None = None, title: str | None = None) -> plt.Figure:
    """One panel per task: mean of ``value`` against ``x`` per family, with its 95 % CI band.

    Diverged runs are left out of the means; the legend counts them where there are any.
    """
    _check_columns(frame, ["task", "family", "seed", "diverged", "metric", x, value])
    tasks = list(dict.fromkeys(frame["task"]))
    figure, axes = plt.subplots(1, len(tasks), figsize=(TEXT_WIDTH * min(1.0, 0.36 * len(tasks)), 3.3),
                                squeeze=False)
    for ax, task in zip(axes[0], tasks, strict=True):
        rows = frame[frame["task"] == task]
        metric = rows["metric"].iloc[0]
        summary = summarize(rows, ["family", x], value)
        for family in families or list(dict.fromkeys(rows["family"])):
            curve = summary[summary["family"] == family].sort_values(x)
            if curve.empty:
                continue
            style = FAMILY_STYLE.get(family, {})
            label = family + (f" ({curve['diverged'].sum()} diverged)" if curve["diverged"].sum() else "")
            ax.plot(curve[x], curve["mean"], label=label, markersize=4, **style)
            ax.fill_between(curve[x], curve["low"], curve["high"], color=style.get("color"), alpha=0.18,
                            linewidth=0)
        ax.set_xscale("log" if logx else "linear")
        if logy if logy is not None else metric == "mse" or value == "invariance_error":
            ax.set_yscale("log")
        ax.set_xlabel({"n_train": "training-set size n", "n_params": "free parameters",
                       "macs": "multiply-adds per sample", "activations": "hidden activations"}.get(x, x))
        ax.set_ylabel(VALUE_LABELS.get(value, value).format(metric=metric))
        ax.set_title(f"{task} task")
        ax.grid(alpha=0.3)
    handles, labels = axes[0][-1].get_legend_handles_labels()
    figure.legend(handles, labels, loc="lower center", ncols=min(len(labels), 4), bbox_to_anchor=(0.5, 1.0),
                  frameon=False)
    if title:
        figure.suptitle(title)
    figure.tight_layout()
    return figure


def plot_exchange_rates(rates: pd.DataFrame, group_orders: dict[str, int]) -> plt.Figure:
    """One panel per task: samples the baseline needs / samples the shared model had, against n.

    Filled markers are interpolated rates; open triangles are lower bounds (the baseline never
    catches up inside the sampled sizes). The dashed line is the order of the task's group.
    """
    _check_columns(rates, ["task", "baseline", "n_train", "rate", "lower_bound"])
    tasks = list(dict.fromkeys(rates["task"]))
    figure, axes = plt.subplots(1, len(tasks), figsize=(TEXT_WIDTH * min(1.0, 0.36 * len(tasks)), 3.3),
                                squeeze=False)
    for ax, task in zip(axes[0], tasks, strict=True):
        rows = rates[rates["task"] == task]
        for baseline in dict.fromkeys(rows["baseline"]):
            curve = rows[rows["baseline"] == baseline].sort_values("n_train")
            style = FAMILY_STYLE.get(baseline, {})
            ax.plot(curve["n_train"], curve["rate"], color=style.get("color"), label=f"{baseline} / shared")
            exact, bound = curve[~curve["lower_bound"]], curve[curve["lower_bound"]]
            ax.scatter(exact["n_train"], exact["rate"], color=style.get("color"), s=18)
            ax.scatter(bound["n_train"], bound["rate"], marker="^", facecolors="none",
                       edgecolors=style.get("color"), s=40)
        if task in group_orders:
            ax.axhline(group_orders[task], color="black", linestyle="--", linewidth=1,
                       label=f"|G| = {group_orders[task]:,}")
        ax.axhline(1, color="gray", linewidth=0.8)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("samples given to the shared model, n")
        ax.set_ylabel("exchange rate (samples needed / n)")
        ax.set_title(f"{task} task")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    figure.tight_layout()
    return figure


def plot_effects(table: pd.DataFrame, label: str = "claim") -> plt.Figure:
    """Forest plot: each row's effect with its 95 % CI, one colour per task; zero marked."""
    _check_columns(table, [label, "task", "effect", "low", "high"])
    labels = list(dict.fromkeys(table[label]))
    tasks = list(dict.fromkeys(table["task"]))
    figure, axes = plt.subplots(1, len(labels), figsize=(TEXT_WIDTH, 2.9), squeeze=False)
    colors = dict(zip(tasks, plt.rcParams["axes.prop_cycle"].by_key()["color"], strict=False))
    for ax, name in zip(axes[0], labels, strict=True):
        rows = table[table[label] == name].reset_index(drop=True)
        positions = np.arange(len(rows))
        for i, row in rows.iterrows():
            error = [[row["effect"] - row["low"]], [row["high"] - row["effect"]]]
            ax.errorbar([i], [row["effect"]], yerr=error if np.isfinite(error).all() else None, fmt="o",
                        color=colors[row["task"]], capsize=3)
        ax.axhline(0, color="black", linewidth=0.8)
        ax.set_xticks(positions, rows["task"], rotation=90)
        ax.set_title(name.split()[0])
        ax.grid(alpha=0.3, axis="y")
    axes[0][0].set_ylabel("effect (positive: as claimed)")
    figure.tight_layout()
    return figure


def plot_ladder(frame: pd.DataFrame, value: str = "test_score") -> plt.Figure:
    """Learning curves of the symmetry ladder: one line per tying group and the MLP, 95 % CI bands,
    and each group's exact ceiling as a dashed line of its colour."""
    _check_columns(frame, ["task", "family", "group", "ceiling", "seed", "n_train", "diverged", value])
    frame = frame.assign(arm=ladder_arm(frame))
    tasks = list(dict.fromkeys(frame["task"]))
    figure, axes = plt.subplots(1, len(tasks), figsize=(TEXT_WIDTH * min(1.0, 0.65 * len(tasks)), 3.6),
                                squeeze=False)
    for ax, task in zip(axes[0], tasks, strict=True):
        rows = frame[frame["task"] == task]
        summary = summarize(rows, ["arm", "n_train"], value)
        for arm in dict.fromkeys(rows["arm"]):
            curve = summary[summary["arm"] == arm].sort_values("n_train")
            style = GROUP_STYLE.get(arm, FAMILY_STYLE.get(arm, {}))
            ax.plot(curve["n_train"], curve["mean"], label=arm, markersize=4, **style)
            ax.fill_between(curve["n_train"], curve["low"], curve["high"], color=style.get("color"),
                            alpha=0.15, linewidth=0)
            ceiling = rows.loc[rows["arm"] == arm, "ceiling"].dropna()
            if len(ceiling) and ceiling.iloc[0] < 1:
                ax.axhline(ceiling.iloc[0], color=style.get("color"), linestyle="--", linewidth=1)
        ax.axhline(1.0, color="black", linestyle="--", linewidth=0.8)
        ax.set_xscale("log")
        ax.set_xlabel("training-set size n")
        ax.set_ylabel(VALUE_LABELS.get(value, value).format(metric=rows["metric"].iloc[0]))
        ax.set_title(f"{task} task")
        ax.grid(alpha=0.3)
        ax.legend(loc="lower right", ncols=2)
    figure.tight_layout()
    return figure


def plot_learning_rates(rates: pd.DataFrame) -> plt.Figure:
    """Heat map per task of the tuned learning rates: families (rows) against the size each bucket
    was tuned at (columns), coloured by log10 of the rate; a rate at the edge of what was tried is
    marked with an asterisk."""
    _check_columns(rates, ["task", "family", "n_train", "lr", "lr_at_edge"])
    tasks = list(dict.fromkeys(rates["task"]))
    figure, axes = plt.subplots(1, len(tasks), figsize=(TEXT_WIDTH, 2.9), squeeze=False)
    low, high = np.log10(rates["lr"].min()), np.log10(rates["lr"].max())
    for ax, task in zip(axes[0], tasks, strict=True):
        rows = rates[rates["task"] == task]
        grid = rows.pivot_table(index="family", columns="n_train", values="lr", aggfunc="first")
        edges = rows.pivot_table(index="family", columns="n_train", values="lr_at_edge", aggfunc="first")
        image = ax.imshow(np.log10(grid.to_numpy(dtype=float)), cmap="viridis", vmin=low, vmax=high,
                          aspect="auto")
        for (i, j), rate in np.ndenumerate(grid.to_numpy(dtype=float)):
            if np.isfinite(rate):
                mark = "*" if bool(edges.iloc[i, j]) else ""
                ax.text(j, i, f"{rate:.0e}{mark}".replace("e-0", "e-"), ha="center", va="center", fontsize=8,
                        color="white" if np.log10(rate) < (low + high) / 2 else "black")
        ax.set_xticks(range(grid.shape[1]), [str(n) for n in grid.columns])
        ax.set_yticks(range(grid.shape[0]), grid.index if ax is axes[0][0] else [""] * grid.shape[0])
        ax.set_xlabel("tuned at n")
        ax.set_title(f"{task} task")
    figure.colorbar(image, ax=axes[0].tolist(), label="log10 learning rate", shrink=0.9)
    return figure


# Figures are drawn at most TEXT_WIDTH inches wide, so that at the book's text width (about 8 inches
# at 100 dpi) they are shown near 1:1 and every tick label keeps at least 9 pt.
TEXT_WIDTH = 8.0
BOOK_RC = {"figure.dpi": 100, "savefig.dpi": 100, "font.size": 10.5, "axes.titlesize": 10.5,
           "axes.labelsize": 10.5, "xtick.labelsize": 10, "ytick.labelsize": 10, "legend.fontsize": 9,
           "figure.titlesize": 11}


SHORT_NAMES = {"n_train": "n"}  # a pivoted column's name as a table header shows it


def table(frame: pd.DataFrame, digits: int = 3, formats: dict[str, str] | None = None):
    """A results table as a reader sees it, ready to ``glue`` into a captioned table: numbers rounded
    to ``digits`` decimals, one header row where the columns have one level (a meaningful index
    becomes leading columns, each value shown once where it repeats the row above; numeric column
    labels of a pivot carry the pivoted column's name, e.g. ``n = 16``), no row numbers.
    ``formats`` maps columns to a format of their own (e.g. ``"{:.1e}"``). The table is rendered
    once here, so that a format that does not fit its values fails in the chapter, not in the page."""
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"expected a pandas DataFrame, got {type(frame).__name__}")
    frame = frame.copy()
    if frame.columns.nlevels == 1 and frame.columns.name is not None:
        if all(isinstance(label, numbers.Number) for label in frame.columns):
            name = SHORT_NAMES.get(frame.columns.name, frame.columns.name)
            frame.columns = [f"{name} = {label:,}" for label in frame.columns]
        frame.columns.name = None
    if frame.index.nlevels == 1 and frame.index.name is None and pd.api.types.is_integer_dtype(frame.index):
        frame = frame.reset_index(drop=True)  # row numbers (e.g. of a filtered frame) mean nothing here
    if not isinstance(frame.index, pd.RangeIndex):
        levels = [name if name is not None else "" for name in frame.index.names]
        frame = frame.reset_index(names=levels if frame.columns.nlevels == 1 else None)
        keys = list(frame.columns[:len(levels)])
        leading = frame[keys]
        same = (leading == leading.shift()).to_numpy().cumprod(axis=1).astype(bool)  # equal up to here
        for i, key in enumerate(keys[:-1]):  # a value equal to the one above, under the same parents
            frame[key] = frame[key].astype(object).where(~same[:, i], "")
    styler = frame.style.format(precision=digits, na_rep="–", thousands=",").hide(axis="index")
    if formats:
        missing = sorted(set(formats) - set(frame.columns))
        if missing:
            raise ValueError(f"formats name columns the table does not have: {missing}; "
                             f"its columns are {list(frame.columns)}")
        styler = styler.format(formats, na_rep="–")
    styler.to_html()
    return styler


def book_style() -> None:
    """Every chapter's first call: the inline backend in a Jupyter kernel (so that an environment
    with ``MPLBACKEND=Agg`` still puts figures into the notebook's outputs) and the book's rcParams."""
    try:
        from IPython import get_ipython
    except ImportError:  # plain Python: no notebook to draw into
        shell = None
    else:
        shell = get_ipython()
    if shell is not None and getattr(shell, "kernel", None) is not None:
        shell.run_line_magic("matplotlib", "inline")
    plt.rcParams.update(BOOK_RC)
