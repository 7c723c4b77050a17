"""Figures of the chapter "How symmetry shapes training".

Plotting only: each function takes the payloads of ``symsharing.paramspace.dynamics`` or
``teleport_study`` and returns a matplotlib ``Figure``.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

__all__ = ["plot_balance", "plot_two_layer_spectra", "plot_two_layer_convergence", "plot_orbit_training",
           "plot_null_spaces", "plot_sharpness", "plot_teleport"]


def plot_balance(runs: list[dict]) -> plt.Figure:
    """Mean |Q_s − Q_0| over the hidden units against the step, one line per optimiser."""
    figure, ax = plt.subplots(figsize=(6.4, 3.6))
    for run in runs:
        steps, drift = np.asarray(run["step"][1:]), np.asarray(run["mean_abs_drift"][1:])
        ax.plot(steps, drift, label=run["arm"], linestyle="--" if run["arm"] == "deep linear" else "-")
    ax.set(xlabel="step", ylabel="mean |Q(step) − Q(0)| over units", yscale="log")
    ax.legend(fontsize=8, ncol=2)
    return figure


def _q_label(q: float) -> str:
    return f"Q = {q:.3g}" if abs(q) > 1e-3 else f"Q = {q:.1e}"


def plot_two_layer_spectra(runs: list[dict]) -> plt.Figure:
    """Histograms of the Hessian's eigenvalues at the end of training, one panel per activation,
    one colour per initial scale (labelled with its Q), as in Zhao et al.'s Figure 9."""
    runs = [run for run in runs if run["kind"] == "hessian"]
    figure, axes = plt.subplots(1, len(runs), figsize=(3.3 * len(runs), 3.0), squeeze=False)
    bins = np.arange(1e-3, 401, 4)  # the paper's bins: eigenvalues near zero fall outside
    for ax, run in zip(axes[0], runs, strict=True):
        for values, q in zip(run["eigenvalues"], np.asarray(run["q"])[:, 0], strict=True):
            ax.hist(values, bins=bins, alpha=0.6, label=_q_label(q))
        ax.set(title=run["activation"], xlabel="Hessian eigenvalue")
        ax.legend(fontsize=7)
    axes[0][0].set_ylabel("count")
    figure.tight_layout()
    return figure


def plot_two_layer_convergence(runs: list[dict]) -> plt.Figure:
    """‖Y − U σ(Vᵀ)‖ against the step, one panel per activation, one line per initial Q."""
    runs = [run for run in runs if run["kind"] == "convergence"]
    figure, axes = plt.subplots(1, len(runs), figsize=(3.3 * len(runs), 3.0), squeeze=False)
    for ax, run in zip(axes[0], runs, strict=True):
        for loss, q in zip(np.asarray(run["loss"]), np.asarray(run["q"])[:, 0], strict=True):
            ax.plot(run["step"], np.sqrt(loss), label=_q_label(q))
        ax.set(title=run["activation"], xlabel=f"step (rate {run['lr']:g})", yscale="log")
        ax.ticklabel_format(axis="x", style="sci", scilimits=(0, 0))
        ax.legend(fontsize=7)
    axes[0][0].set_ylabel("‖Y − U σ(Vᵀ)‖")
    figure.tight_layout()
    return figure


def plot_orbit_training(records: list[dict]) -> plt.Figure:
    """Left: median loss against the step per rescaling factor (same initial function). Right:
    final sharpness per seed, plain and adaptive."""
    frame = pd.DataFrame(records)
    figure, (left, right) = plt.subplots(1, 2, figsize=(9.6, 3.4))
    for factor, part in frame.groupby("factor"):
        curves = np.asarray(part["loss"].tolist(), dtype=float)
        steps = 1 + part["loss_every"].iloc[0] * np.arange(curves.shape[1])
        left.plot(steps, np.median(curves, axis=0), label=f"factor {factor:g}")
    left.set(xlabel="GD step", ylabel="training loss (median over seeds)", yscale="log")
    left.legend(fontsize=8)
    factors = sorted(frame["factor"].unique())
    for column, marker in (("sharpness", "o"), ("adaptive_sharpness", "s")):
        for position, factor in enumerate(factors):
            values = frame.loc[frame["factor"] == factor, column]
            right.scatter(np.full(len(values), position) + (0.1 if marker == "s" else -0.1), values,
                          marker=marker, s=14, color="C0" if marker == "o" else "C1",
                          label=column.replace("_", " ") if position == 0 else None)
    right.set(xticks=range(len(factors)), xticklabels=[f"{f:g}" for f in factors], yscale="log",
              xlabel="rescaling factor of the first hidden layer", ylabel="final top eigenvalue")
    right.legend(fontsize=8)
    figure.tight_layout()
    return figure


def plot_null_spaces(runs: list[dict], rtol: float) -> plt.Figure:
    """The smallest |eigenvalues| / max at each family's minimum, sorted, with the zero tolerance
    (dashed) and the number of symmetry generators (vertical line)."""
    figure, ax = plt.subplots(figsize=(6.4, 3.6))
    for index, run in enumerate(runs):
        values = np.asarray(run["relative_eigenvalues"][:24])
        ax.semilogy(np.arange(1, len(values) + 1), np.maximum(values, 1e-20), marker="o", markersize=3,
                    color=f"C{index}", label=f"{run['family']} ({run['generators']} generators)")
        if run["generators"]:
            ax.axvline(run["generators"] + 0.5, color=f"C{index}", linewidth=0.8, linestyle=":")
    ax.axhline(rtol, color="black", linestyle="--", linewidth=0.8)
    ax.set(xlabel="eigenvalue rank (smallest |λ| first)", ylabel="|λ| / max |λ|")
    ax.legend(fontsize=8)
    return figure


def plot_sharpness(rows: list[dict]) -> plt.Figure:
    """Top eigenvalue and trace of the Hessian, plain and adaptive, against the rescaling factor."""
    frame = pd.DataFrame(rows).groupby("factor").mean(numeric_only=True).reset_index()
    figure, ax = plt.subplots(figsize=(6.4, 3.6))
    for column, style in (("top", "-o"), ("trace", "-s"), ("adaptive_top", "--o"), ("adaptive_trace", "--s")):
        ax.plot(frame["factor"], frame[column], style, markersize=4, label=column.replace("_", " "))
    ax.set(xscale="log", yscale="log", xlabel="rescaling factor of the first hidden layer",
           ylabel="mean over networks")
    ax.legend(fontsize=8)
    return figure


def _padded(values, length: int) -> list:
    """``values`` followed by NaN up to ``length`` (a run that diverged stopped early)."""
    return list(values) + [np.nan] * (length - len(values))


def _band(ax, x, curves, label):
    curves = np.asarray(curves, dtype=float)
    ax.plot(x, np.nanmedian(curves, axis=0), label=label)
    ax.fill_between(x, np.nanquantile(curves, 0.25, axis=0), np.nanquantile(curves, 0.75, axis=0), alpha=0.25)


def plot_teleport(runs: list[dict], arm: str) -> plt.Figure:
    """Loss against the step (left) and the wall time (right), median and quartiles over seeds,
    one line per ``runs[i][arm]``; the axis stops at ten times the median initial loss."""
    frame = pd.DataFrame(runs)
    figure, (left, right) = plt.subplots(1, 2, figsize=(9.6, 3.4))
    start = max(float(np.median([loss[0] for loss in frame["loss"]])), 1e-12)
    for name, part in frame.groupby(arm, sort=False):
        length = max(len(loss) for loss in part["loss"])
        losses = [_padded(loss, length) for loss in part["loss"]]
        _band(left, np.arange(1, length + 1), losses, name)
        seconds = np.nanmedian(np.asarray([_padded(s, length) for s in part["seconds"]], dtype=float), axis=0)
        _band(right, seconds, losses, name)
    for ax in (left, right):  # a diverging run would stretch the axis over dozens of decades
        ax.set_yscale("log")
        ax.set_ylim(top=10 * start)
    left.set(xlabel="step", ylabel="loss (clipped above 10× the initial median)")
    right.set(xlabel="wall time (s)")
    left.legend(fontsize=8)
    figure.tight_layout()
    return figure
