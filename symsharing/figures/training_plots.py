"""Figures of the chapter "What removing symmetry does to training" (``paramspace.training_effects``):
Bayesian networks' curves against updates, interpolation curves from initialisation, metanetwork
scores beside Lim et al.'s."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from symsharing.stats import confidence_interval

__all__ = ["FAMILY_NAMES", "plot_bayes_curves", "plot_interpolation", "plot_metanets"]

FAMILY_NAMES = {"mlp": "standard", "w-asym": "W-Asym", "sigma-asym": "σ-Asym"}
QUANTITY_NAMES = {"test_accuracy": "test accuracy", "elbo": "ELBO per example", "nll": "expected NLL (train)"}


def _band(curves: list[list[float]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    stacked = np.asarray(curves, dtype=float)  # (runs, points)
    columns = [confidence_interval(stacked[:, j]) for j in range(stacked.shape[1])]
    return tuple(np.array([c[i] for c in columns]) for i in range(3))


def plot_bayes_curves(records, panels) -> plt.Figure:
    """One row per ``(posterior, quantity)`` of ``panels``, one column per depth: the mean curve of
    each family against updates with its 95 % band over seeds."""
    frame = pd.DataFrame(records)
    depths = sorted(frame["depth"].unique())
    fig, axes = plt.subplots(len(panels), len(depths), figsize=(2.4 * len(depths), 2.2 * len(panels)),
                             sharex=True, squeeze=False)
    for row, (posterior, quantity) in enumerate(panels):
        for column, depth in enumerate(depths):
            ax = axes[row, column]
            for family in ("mlp", "w-asym"):
                part = frame[(frame["posterior"] == posterior) & (frame["depth"] == depth)
                             & (frame["family"] == family)]
                mean, low, high = _band(list(part[quantity]))
                steps = part["step"].iloc[0]
                ax.plot(steps, mean, label=FAMILY_NAMES[family])
                ax.fill_between(steps, low, high, alpha=0.2)
            ax.set_title(f"{posterior}, {depth} hidden", fontsize=9)
            if column == 0:
                ax.set_ylabel(QUANTITY_NAMES[quantity], fontsize=9)
            if row == len(panels) - 1:
                ax.set_xlabel("updates")
    handles, labels = axes[0, 0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncols=2, bbox_to_anchor=(0.5, 1.0), frameon=False)
    fig.tight_layout()
    return fig


def plot_interpolation(networks, order=("mlp", "sigma-asym", "w-asym")) -> plt.Figure:
    """Left: the training loss from initialisation (α = 0) to the trained weights (α = 1), each
    curve divided by its value at α = 0, mean and 95 % band per family. Right: the distribution
    of the largest rise between consecutive points (Δ; right of 0: not monotonic)."""
    frame = pd.DataFrame(networks)
    frame = frame[frame["max_rise"].notna()]
    fig, (left, right) = plt.subplots(1, 2, figsize=(8, 3))
    edges = np.linspace(min(-0.05, frame["max_rise"].quantile(0.01)), frame["max_rise"].quantile(0.99), 40)
    for family in order:
        part = frame[frame["family"] == family]
        curves = [np.asarray(c) / c[0] for c in part["losses"]]
        mean, low, high = _band(curves)
        alphas = np.linspace(0, 1, len(mean))
        left.plot(alphas, mean, label=FAMILY_NAMES[family])
        left.fill_between(alphas, low, high, alpha=0.2)
        right.hist(part["max_rise"].clip(edges[0], edges[-1]), bins=edges, histtype="step",
                   label=FAMILY_NAMES[family])
    left.set(xlabel="α (0 = initial, 1 = trained)", ylabel="training loss / loss at α = 0")
    right.axvline(0.0, color="grey", linewidth=0.8)
    right.set(xlabel="largest rise between consecutive points, Δ", ylabel="networks", yscale="log")
    left.legend(frameon=False)
    fig.tight_layout()
    return fig


def plot_metanets(table: pd.DataFrame, rows: pd.DataFrame) -> plt.Figure:
    """R² (left) and Kendall τ (right) of each metanetwork on held-out networks, per family: the
    mean over splits with its 95 % interval; crosses: Lim et al.'s figures where they report one."""
    fig, axes = plt.subplots(1, 2, figsize=(8, 3), sharey=True)
    kinds = list(dict.fromkeys(table["kind"]))
    for ax, score in zip(axes, ("r2", "tau"), strict=True):
        for offset, family in ((-0.15, "mlp"), (0.15, "w-asym")):
            y = np.arange(len(kinds)) + offset
            cells = [confidence_interval(rows[(rows["kind"] == k) & (rows["family"] == family)][score])
                     for k in kinds]
            mean = np.array([c[0] for c in cells])
            ax.errorbar(mean, y, xerr=[mean - [c[1] for c in cells], [c[2] for c in cells] - mean], fmt="o",
                        label=FAMILY_NAMES[family], color=f"C{0 if family == 'mlp' else 1}")
            paper = table[table["score"] == score].set_index("kind")[f"paper_{family}"].reindex(kinds)
            ax.plot(paper.to_numpy(), y, "x", color=f"C{0 if family == 'mlp' else 1}", markersize=8)
        ax.set(xlabel={"r2": "R² (held-out networks)", "tau": "Kendall τ"}[score])
    axes[0].set_yticks(range(len(kinds)), kinds)
    axes[0].legend(frameon=False, loc="lower left")
    fig.tight_layout()
    return fig
