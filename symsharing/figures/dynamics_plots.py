"""Figures of the chapter "How symmetry shapes training".

Plotting only: each function takes the payloads of ``symsharing.paramspace.dynamics`` or
``teleport_study`` and returns a ``Panels`` figure in the book's style (``style.py``: one SVG per
panel, the legend as a strip above the data).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from symsharing.figures.style import PANEL_SIZE, Panels

__all__ = ["plot_balance", "plot_two_layer_spectra", "plot_two_layer_convergence", "plot_orbit_training",
           "plot_null_spaces", "plot_sharpness", "plot_teleport"]

WIDE = (PANEL_SIZE[0] * 1.6, PANEL_SIZE[1] * 1.2)  # a single panel that carries many lines


def plot_balance(runs: list[dict]) -> Panels:
    """Mean |Q_s − Q_0| over the hidden units against the step, one line per run."""
    panels = Panels(1, size=WIDE)
    ax = panels.axes[0]
    for run in runs:
        steps, drift = np.asarray(run["step"][1:]), np.asarray(run["mean_abs_drift"][1:])
        ax.plot(steps, drift, label=run["arm"], linestyle="--" if run["arm"] == "deep linear" else "-")
    ax.set(xlabel="step", ylabel="mean |Q(step) − Q(0)|", yscale="log")
    panels.legend(columns=4)
    return panels.finish()


def _by_activation(runs: list[dict], kind: str, draw, xlabel) -> Panels:
    runs = [run for run in runs if run["kind"] == kind]
    panels = Panels(len(runs))
    for ax, run in zip(panels.axes, runs, strict=True):
        for index, scale in enumerate(run["scales"]):
            draw(ax, run, index, f"initial scale {scale:g}")
        ax.set(title=run["activation"], xlabel=xlabel(run))
    panels.legend(columns=4)
    return panels.finish()


def plot_two_layer_spectra(runs: list[dict]) -> Panels:
    """Histograms of the Hessian's eigenvalues at the end of training, one panel per activation,
    one colour per initial scale (hence per Q), in Zhao et al.'s bins, without the near-zero one."""
    bins = np.arange(1e-3, 401, 4)  # the paper's bins: eigenvalues near zero fall outside

    def draw(ax, run, index, label):
        ax.hist(run["eigenvalues"][index], bins=bins, alpha=0.6, label=label, color=f"C{index}")
        ax.set(ylabel="count", xlim=(bins[1], bins[-1]))  # the near-zero bin off the axis, as the paper's

    return _by_activation(runs, "hessian", draw, lambda run: "Hessian eigenvalue")


def plot_two_layer_convergence(runs: list[dict]) -> Panels:
    """‖Y − U σ(Vᵀ)‖ against the step, one panel per activation, one line per initial scale."""
    def draw(ax, run, index, label):
        ax.plot(run["step"], np.sqrt(np.asarray(run["loss"][index])), label=label, color=f"C{index}")
        ax.set(yscale="log", ylabel="‖Y − U σ(Vᵀ)‖")
        ax.ticklabel_format(axis="x", style="sci", scilimits=(0, 0))

    return _by_activation(runs, "convergence", draw, lambda run: f"step (rate {run['lr']:g})")


def plot_orbit_training(records: list[dict]) -> Panels:
    """Left: median loss against the step per rescaling factor (same initial function). Right:
    final sharpness per seed, plain and adaptive."""
    frame = pd.DataFrame(records)
    panels = Panels(2, size=(PANEL_SIZE[0] * 1.2, PANEL_SIZE[1]))
    left, right = panels.axes
    for factor, part in frame.groupby("factor"):
        curves = np.asarray(part["loss"].tolist(), dtype=float)
        steps = 1 + part["loss_every"].iloc[0] * np.arange(curves.shape[1])
        left.plot(steps, np.median(curves, axis=0), label=f"factor {factor:g}")
    left.set(xlabel="GD step", ylabel="training loss (median)", yscale="log", title="loss")
    factors = sorted(frame["factor"].unique())
    styles = (("sharpness", "o", "black", -0.1), ("adaptive_sharpness", "s", "tab:olive", 0.1))
    for column, marker, colour, offset in styles:
        for position, factor in enumerate(factors):
            values = frame.loc[frame["factor"] == factor, column]
            right.scatter(np.full(len(values), position + offset), values, marker=marker, s=14, color=colour,
                          label=column.replace("_", " ") if position == 0 else None)
    right.set(xticks=range(len(factors)), xticklabels=[f"{f:g}" for f in factors], yscale="log",
              xlabel="rescaling factor", ylabel="final top eigenvalue", title="sharpness")
    panels.legend(columns=3)
    return panels.finish()


def plot_null_spaces(runs: list[dict], rtol: float) -> Panels:
    """The smallest |eigenvalues| / max at each family's minimum, sorted, with the zero tolerance
    (dashed) and the number of symmetry generators (dotted)."""
    panels = Panels(1, size=WIDE)
    ax = panels.axes[0]
    for index, run in enumerate(runs):
        values = np.asarray(run["relative_eigenvalues"][:24])
        ax.semilogy(np.arange(1, len(values) + 1), np.maximum(values, 1e-20), marker="o", markersize=3,
                    color=f"C{index}", label=f"{run['family']} ({run['generators']} generators)")
        if run["generators"]:
            ax.axvline(run["generators"] + 0.5, color=f"C{index}", linewidth=0.8, linestyle=":")
    ax.axhline(rtol, color="black", linestyle="--", linewidth=0.8)
    ax.set(xlabel="rank (smallest |λ| first)", ylabel="|λ| / max |λ|")
    panels.legend(columns=2)
    return panels.finish()


def plot_sharpness(rows: list[dict]) -> Panels:
    """Top eigenvalue and trace of the Hessian, plain and adaptive, against the rescaling factor."""
    frame = pd.DataFrame(rows).groupby("factor").mean(numeric_only=True).reset_index()
    panels = Panels(1, size=WIDE)
    ax = panels.axes[0]
    for column, style in (("top", "-o"), ("trace", "-s"), ("adaptive_top", "--o"), ("adaptive_trace", "--s")):
        ax.plot(frame["factor"], frame[column], style, markersize=4, label=column.replace("_", " "))
    ax.set(xscale="log", yscale="log", xlabel="rescaling factor of the first hidden layer",
           ylabel="mean over networks")
    panels.legend(columns=4)
    return panels.finish()


def _padded(values, length: int) -> list:
    """``values`` followed by NaN up to ``length`` (a run that diverged stopped early)."""
    return list(values) + [np.nan] * (length - len(values))


def _band(ax, x, curves, label, colour):
    curves = np.asarray(curves, dtype=float)
    ax.plot(x, np.nanmedian(curves, axis=0), label=label, color=colour)
    ax.fill_between(x, np.nanquantile(curves, 0.25, axis=0), np.nanquantile(curves, 0.75, axis=0),
                    alpha=0.25, color=colour, linewidth=0)


def plot_teleport(runs: list[dict], arm: str) -> Panels:
    """Loss against the step and against the wall time, median and quartiles over seeds, one line
    per ``runs[i][arm]``; the axis stops at ten times the median initial loss."""
    frame = pd.DataFrame(runs)
    panels = Panels(2)
    left, right = panels.axes
    start = max(float(np.median([loss[0] for loss in frame["loss"]])), 1e-12)
    for index, (name, part) in enumerate(frame.groupby(arm, sort=False)):
        length = max(len(loss) for loss in part["loss"])
        losses = [_padded(loss, length) for loss in part["loss"]]
        _band(left, np.arange(1, length + 1), losses, name, f"C{index}")
        seconds = np.nanmedian(np.asarray([_padded(s, length) for s in part["seconds"]], dtype=float), axis=0)
        _band(right, seconds, losses, None, f"C{index}")
    for ax in (left, right):  # a diverging run would stretch the axis over dozens of decades
        ax.set_yscale("log")
        ax.set_ylim(top=10 * start)
    left.set(xlabel="step", ylabel="loss", title="per step")
    right.set(xlabel="wall time (s)", ylabel="loss", title="per second")
    panels.legend(columns=2)
    return panels.finish()
