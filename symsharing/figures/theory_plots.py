"""Figures of the chapter "What theory predicts": measurement against closed form.

Plotting only: every function takes tidy tables from ``symsharing.theory`` (``linear``,
``calibration``, ``kernels``) and returns a ``Panels`` figure in the book's style (``style.py``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.lines import Line2D
from matplotlib.ticker import FormatStrFormatter, LogLocator, NullFormatter

from symsharing.figures.plots import FAMILY_STYLE
from symsharing.figures.style import PANEL_SIZE, Panels, measured_line
from symsharing.theory import linear

__all__ = ["plot_calibration", "plot_residuals", "plot_rate_comparison", "plot_crossovers"]

# the linear families wear the colours of the network families they stand for, book-wide
LINEAR_STYLE = {"unconstrained": FAMILY_STYLE["mlp"], "invariant": FAMILY_STYLE["shared"],
                "augmented": FAMILY_STYLE["mlp+aug"]}


def plot_calibration(expected: pd.DataFrame, trained: pd.DataFrame) -> Panels:
    """One panel per linear task: measured over closed form against n. ``expected`` is the
    ``calibration_summary`` of the noise-averaged estimate (filled markers, each size's mean with
    its 95 % interval), ``trained`` that of the trained models' excess risk (open markers, means
    only: a few seeds of a heavy-tailed quantity)."""
    tasks = list(dict.fromkeys(expected["task"]))
    panels = Panels(len(tasks))
    for ax, task in zip(panels.axes, tasks, strict=True):
        for family, style in LINEAR_STYLE.items():
            offset = {"unconstrained": 1.0, "invariant": 0.96, "augmented": 1.04}[family]
            part = trained[(trained["task"] == task) & (trained["family"] == family)]
            part = part.sort_values("n_train")
            ax.plot(part["n_train"] * offset, part["mean"] / part["formula"], style["marker"],
                    color=style["color"], markersize=5, markerfacecolor="none", label=f"{family}, trained")
            part = expected[(expected["task"] == task) & (expected["family"] == family)]
            part = part.sort_values("n_train")
            if part.empty:
                continue
            ratio, low, high = (part[c] / part["formula"] for c in ("mean", "low", "high"))
            ax.errorbar(part["n_train"] * offset, ratio, yerr=[ratio - low, high - ratio],
                        fmt=style["marker"], color=style["color"], markersize=4, linestyle="none",
                        label=f"{family}, noise-averaged")
        rows = expected[expected["task"] == task]
        ax.axhline(1, color="black", linewidth=0.8)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("training samples n")
        ax.set_ylabel("excess risk / closed form")
        ax.set_title(f"{task} (d = {int(rows['d'].iloc[0])}, k = {int(rows['k'].iloc[0])})")
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.yaxis.set_major_locator(LogLocator(base=2))
        ax.yaxis.set_major_formatter(FormatStrFormatter("%g"))
        ax.yaxis.set_minor_formatter(NullFormatter())
        ax.grid(alpha=0.3)
    low, high = zip(*(ax.get_ylim() for ax in panels.axes), strict=True)
    for ax in panels.axes:  # one scale for every panel, as the panels no longer share an axis
        ax.set_ylim(min(low), max(high))
    panels.legend(columns=2)
    return panels.finish()


def plot_residuals(frame: pd.DataFrame) -> Panels:
    """Every trained linear model: its optimisation residual ``distance_to_ls`` against its excess
    risk (log-log), one colour per family; the diagonal is residual = excess."""
    panels = Panels(1, size=(PANEL_SIZE[0] * 1.3, PANEL_SIZE[1] * 1.2))
    ax = panels.axes[0]
    for family, style in LINEAR_STYLE.items():
        part = frame[frame["family"] == family]
        ax.scatter(part["excess_risk"], part["distance_to_ls"], s=10, marker=style["marker"],
                   color=style["color"], alpha=0.6, label=family)
    limits = np.array([frame["excess_risk"].min(), frame["excess_risk"].max()])
    ax.plot(limits, limits, color="black", linewidth=0.8, label="residual = excess")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("excess risk ‖ŵ − θ‖²")
    ax.set_ylabel("residual ‖ŵ − w_LS‖²")
    ax.grid(alpha=0.3)
    panels.legend(columns=2)
    return panels.finish()


def plot_rate_comparison(rates: dict[str, pd.DataFrame],
                         references: dict[str, dict[str, float]]) -> Panels:
    """One panel per task: exchange rate against n for each source in ``rates`` (name -> table of
    ``bootstrap_exchange_rates``): measured rates joined by a line with their band, lower bounds as
    open triangles never joined to them; horizontal lines for each reference (name -> {task:
    value}, e.g. ``d/k`` and ``|G|``), their values written on the line."""
    tasks = sorted(set().union(*(set(r["task"]) for r in rates.values())))
    colors = dict(zip(rates, ("tab:red", "tab:green", "tab:blue", "tab:orange"), strict=False))
    panels = Panels(len(tasks))
    for ax, task in zip(panels.axes, tasks, strict=True):
        for name, table in rates.items():
            curve = table[table["task"] == task].sort_values("n_train")
            if curve.empty:
                continue
            color = colors[name]
            bound = curve["lower_bound"].to_numpy(dtype=bool)
            ax.plot(curve["n_train"], measured_line(curve["rate"], bound), color=color, marker="o",
                    markersize=3, label=name)
            ax.fill_between(curve["n_train"], measured_line(curve["low"], bound),
                            measured_line(curve["high"], bound), color=color, alpha=0.15, linewidth=0)
            ax.scatter(curve["n_train"][bound], curve["rate"][bound], marker="^", facecolors="none",
                       edgecolors=color, s=40)
        for (name, values), style in zip(references.items(), ("--", ":"), strict=False):
            if task in values:
                ax.axhline(values[task], color="black", linestyle=style, linewidth=1, label=name)
                ax.annotate(f"{name} = {values[task]:,.3g}", (1, values[task]),
                            xycoords=("axes fraction", "data"), xytext=(-2, 2), textcoords="offset points",
                            ha="right", va="bottom", fontsize=9)
        ax.axhline(1, color="gray", linewidth=0.8)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("samples given to the invariant model, n")
        ax.set_ylabel("exchange rate")
        ax.set_title(f"{task} task")
        ax.grid(alpha=0.3)
    handles, labels = panels.entries()
    bound = Line2D([], [], linestyle="none", marker="^", markerfacecolor="none", markeredgecolor="black")
    panels.legend(handles + [bound], labels + ["lower bound (censored)"])
    return panels.finish()


def plot_crossovers(crossovers: pd.DataFrame, shapes: dict[str, tuple[int, int]]) -> Panels:
    """Measured crossover sizes (95 % bootstrap interval) against ε, and the predicted curve
    ``linear.predicted_crossover``; ``shapes`` maps task -> (d, k)."""
    panels = Panels(1, size=(PANEL_SIZE[0] * 1.3, PANEL_SIZE[1] * 1.2))
    ax = panels.axes[0]
    for (task, (d, k)), color in zip(shapes.items(), ("tab:purple", "tab:green", "tab:blue"), strict=False):
        rows = crossovers[crossovers["task"] == task].sort_values("epsilon")
        grid = np.geomspace(rows["epsilon"].min() * 0.8, rows["epsilon"].max() * 1.2, 100)
        ax.plot(grid, [linear.predicted_crossover(d, k, 1.0, e) for e in grid], color=color,
                linewidth=1, label=f"{task}: predicted (d = {d}, k = {k})")
        ax.errorbar(rows["epsilon"], rows["crossover"],
                    yerr=[rows["crossover"] - rows["low"], rows["high"] - rows["crossover"]],
                    fmt="o", color=color, markersize=4, label=f"{task}: measured")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("symmetry breaking ε (σ = 1)")
    ax.set_ylabel("n where unconstrained overtakes invariant")
    ax.grid(alpha=0.3)
    panels.legend(columns=2)
    return panels.finish()
