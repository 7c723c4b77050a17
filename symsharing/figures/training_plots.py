"""Figures of the chapter "What removing symmetry does to training" (``paramspace.training_effects``),
in the book's panel style (``figures.style.Panels``): Bayesian networks' curves against updates,
interpolation curves from initialisation, metanetwork scores beside Lim et al.'s."""

from __future__ import annotations

import numpy as np
import pandas as pd

from symsharing.figures.style import Panels
from symsharing.stats import confidence_interval

__all__ = ["FAMILY_NAMES", "plot_bayes_curves", "plot_interpolation", "plot_metanets"]

FAMILY_NAMES = {"mlp": "standard", "w-asym": "W-Asym", "sigma-asym": "σ-Asym"}
COLOURS = {"mlp": "C0", "w-asym": "C1", "sigma-asym": "C2"}
LINES = {"low-rank": "-", "mean-field": "--"}
QUANTITY_LABELS = {"test_accuracy": "test accuracy ↑ better", "elbo": "ELBO per example ↑ better"}


def _band(curves) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean and 95 % Student-t interval, point by point, of equally long curves."""
    stacked = np.asarray(list(curves), dtype=float)  # (runs, points)
    columns = [confidence_interval(stacked[:, j]) for j in range(stacked.shape[1])]
    return tuple(np.array([c[i] for c in columns]) for i in range(3))


def plot_bayes_curves(records, quantity: str = "test_accuracy") -> Panels:
    """One panel per depth: ``quantity`` against updates for each family (colour) and posterior
    (solid: low-rank, dashed: mean-field), mean over seeds with its 95 % band."""
    frame = pd.DataFrame(records)
    depths = sorted(frame["depth"].unique())
    panels = Panels(len(depths))
    for ax, depth in zip(panels.axes, depths, strict=True):
        for (posterior, family), part in frame[frame["depth"] == depth].groupby(["posterior", "family"]):
            mean, low, high = _band(part[quantity])
            if quantity == "test_accuracy":
                low, high = np.clip(low, 0, 1), np.clip(high, 0, 1)
            steps = part["step"].iloc[0]
            ax.plot(steps, mean, LINES[posterior], color=COLOURS[family],
                    label=f"{FAMILY_NAMES[family]}, {posterior}")
            ax.fill_between(steps, low, high, color=COLOURS[family], alpha=0.15)
        ax.set(title=f"{depth} hidden layers", xlabel="updates", ylabel=QUANTITY_LABELS[quantity])
    panels.legend(columns=2)
    return panels.finish()


def plot_interpolation(networks, order=("mlp", "sigma-asym", "w-asym")) -> Panels:
    """Left: the training loss from initialisation (α = 0) to the trained weights (α = 1), each
    curve divided by its value at α = 0, mean and 95 % band per family. Right: the distribution of
    the largest rise between consecutive points (Δ; right of 0: not monotonic)."""
    frame = pd.DataFrame(networks)
    frame = frame[frame["max_rise"].notna()]
    panels = Panels(2)
    left, right = panels.axes
    edges = np.linspace(min(-0.05, frame["max_rise"].quantile(0.01)), frame["max_rise"].quantile(0.99), 40)
    for family in order:
        part = frame[frame["family"] == family]
        mean, low, high = _band(np.asarray(c) / c[0] for c in part["losses"])
        alphas = np.linspace(0, 1, len(mean))
        left.plot(alphas, mean, color=COLOURS[family], label=FAMILY_NAMES[family])
        left.fill_between(alphas, np.clip(low, 0, None), high, color=COLOURS[family], alpha=0.2)
        right.hist(part["max_rise"].clip(edges[0], edges[-1]), bins=edges, histtype="step",
                   color=COLOURS[family])
    left.set(title="loss along the line", xlabel="α (0 initial, 1 trained)", ylabel="loss / loss at α = 0")
    right.axvline(0.0, color="grey", linewidth=0.8)
    right.set(title="largest rise Δ", xlabel="Δ (> 0: not monotonic)", ylabel="networks", yscale="log")
    panels.legend()
    return panels.finish()


def plot_metanets(table: pd.DataFrame, rows: pd.DataFrame) -> Panels:
    """R² (left) and Kendall τ (right) of each metanetwork on held-out networks, per zoo: the mean
    over splits with its 95 % interval; crosses: Lim et al.'s figures where they report one."""
    panels = Panels(2)
    kinds = list(dict.fromkeys(table["kind"]))
    for ax, score in zip(panels.axes, ("r2", "tau"), strict=True):
        for offset, family in ((-0.15, "mlp"), (0.15, "w-asym")):
            y = np.arange(len(kinds)) + offset
            cells = [confidence_interval(rows[(rows["kind"] == k) & (rows["family"] == family)][score])
                     for k in kinds]
            mean = np.array([c[0] for c in cells])
            errors = [mean - np.array([c[1] for c in cells]), np.array([c[2] for c in cells]) - mean]
            ax.errorbar(mean, y, xerr=errors, fmt="o", color=COLOURS[family],
                        label=f"{FAMILY_NAMES[family]} zoo")
            paper = table[table["score"] == score].set_index("kind")[f"paper_{family}"].reindex(kinds)
            ax.plot(paper.to_numpy(), y, "x", color=COLOURS[family], markersize=8,
                    label=f"paper, {FAMILY_NAMES[family]}")
        ax.set_yticks(range(len(kinds)), kinds)
        ax.set(title={"r2": "R²", "tau": "Kendall τ"}[score],
               xlabel={"r2": "R² on held-out networks ↑", "tau": "τ on held-out networks ↑"}[score])
    panels.legend(columns=2)
    return panels.finish()
