"""Figures and tables of the parameter-space chapters (``book/paramspace.py``,
``book/asymmetric.py``): a mean and its 95 % interval as text, the barrier of each arm against a
size (width, channels), and the tables of Lim et al.'s protocol (Lim, Putterman, Walters, Maron &
Jegelka, NeurIPS 2024; ``symsharing.paramspace.lmc_study``): a set-up as a row, the one-factor
ablations with their paired σ-Asym − standard differences, the paired ordering tests.

Records are those of ``lmc_study`` (one per pair and arm: ``family``, ``pair``, ``barrier``, …).

Presentation only: nothing here trains or scores, and the module is outside the code hash.
"""

from __future__ import annotations

import math

import pandas as pd

from symsharing.figures.plots import ARM_STYLE
from symsharing.paramspace import lmc_study
from symsharing.stats import confidence_interval

__all__ = ["interval_text", "mean_interval", "arm_values", "arm_mean", "paired_differences", "plot_arm_sweep",
           "setup_row", "ablation_table", "ordering_view"]


def interval_text(mean: float, low: float, high: float, digits: int = 3) -> str:
    """``"mean [low, high]"`` with ``digits`` decimals; the bare mean where the interval is NaN
    (fewer than two values)."""
    if math.isnan(low) or math.isnan(high):
        return f"{mean:.{digits}f}"
    return f"{mean:.{digits}f} [{low:.{digits}f}, {high:.{digits}f}]"


def mean_interval(values, digits: int = 3) -> str:
    """``interval_text`` of the mean of ``values`` and its 95 % Student-t interval."""
    return interval_text(*confidence_interval(values), digits=digits)


def arm_values(records, arm: str, column: str = "barrier") -> list[float]:
    """``column`` of every record of ``arm`` (its ``family``), in order."""
    return [record[column] for record in records if record["family"] == arm]


def arm_mean(records, arm: str, column: str = "barrier") -> float:
    """The mean of ``arm_values``: NaN where ``arm`` has no record."""
    values = arm_values(records, arm, column)
    return sum(values) / len(values) if values else math.nan


def paired_differences(records, higher: str, lower: str, column: str = "barrier") -> list[float]:
    """Per pair index that both arms have: ``column`` of arm ``higher`` minus that of arm ``lower``."""
    by_pair = {arm: {r["pair"]: r[column] for r in records if r["family"] == arm} for arm in (higher, lower)}
    return [value - by_pair[lower][pair] for pair, value in by_pair[higher].items() if pair in by_pair[lower]]


def plot_arm_sweep(ax, summary: pd.DataFrame, x: str, arms, log_y: bool = False) -> None:
    """On ``ax``: the mean of each arm of ``arms`` against ``x`` (log axis, one tick per size), with
    its 95 % interval as bars, in the style of ``plots.ARM_STYLE``. ``summary`` is a table of
    ``lmc_study.summarize`` (columns ``family``, ``x``, ``mean``, ``low``, ``high``); with ``log_y``
    the vertical axis is logarithmic too and bars reaching below zero are cut."""
    if not isinstance(summary, pd.DataFrame):
        raise TypeError(f"summary must be a pandas DataFrame, got {type(summary).__name__}")
    missing = [column for column in ("family", x, "mean", "low", "high") if column not in summary.columns]
    if missing:
        raise KeyError(f"summary lacks the columns {missing}; it has {list(summary.columns)}")
    unknown = [arm for arm in arms if arm not in ARM_STYLE]
    if unknown:
        raise KeyError(f"unknown arms {unknown}; expected some of {list(ARM_STYLE)}")
    for arm in arms:
        part = summary[summary["family"] == arm].sort_values(x)
        style = ARM_STYLE[arm]
        ax.errorbar(part[x], part["mean"], yerr=[part["mean"] - part["low"], part["high"] - part["mean"]],
                    color=style["color"], marker=style["marker"], linestyle=style.get("linestyle", "-"),
                    label=style["label"], capsize=2)
    ax.set_xscale("log")
    if log_y:
        ax.set_yscale("log", nonpositive="mask")
    ax.minorticks_off()
    sizes = sorted(int(size) for size in summary[x].unique())
    ax.set_xticks(sizes, [str(size) for size in sizes])


def setup_row(config: dict, n_train: int, n_in: int = 64) -> dict:
    """A set-up of ``lmc_study.setup`` as a table row: width, linear layers, LayerNorm, activation,
    optimiser, batch, training length (for ``n_train`` training points) and the W-Asymmetric
    network's fixed entries per linear layer (count / fan-in, and the scale κ), ``n_in`` inputs."""
    fixed = lmc_study.paper_fixed_entries if config["fixed"] == "paper" else lmc_study.book_fixed_entries
    counts, scales = fixed(n_in, config["width"], config["depth"])
    fan_ins = [n_in] + [config["width"]] * config["depth"]
    steps = lmc_study._steps(config, n_train)
    return {"width": config["width"], "linear layers": config["depth"] + 1,
            "LayerNorm": "yes" if config["layer_norm"] else "no", "activation": config["activation"],
            "optimiser": f"AdamW, wd {config['weight_decay']}" if config["weight_decay"] else "Adam",
            "batch": config["batch_size"],
            "training": f"{config['epochs']} epochs ({steps} steps)" if config["epochs"]
            else f"{steps} steps",
            "W-Asym fixed entries (κ)": ", ".join(f"{count}/{fan_in} ({scale:g})" for count, fan_in, scale
                                                  in zip(counts, fan_ins, scales, strict=True))}


ABLATION_ARMS = {"mlp": "standard MLP", "sigma-asym": "σ-Asym", "w-asym": "W-Asym"}


def ablation_table(runs_by_label: dict) -> pd.DataFrame:
    """One row per set-up label: the barrier of each arm (mean [95 % interval] over pairs, ``–``
    where the arm was not trained) and σ-Asym's barrier minus the standard MLP's, pair by pair."""
    rows = []
    for label, runs in runs_by_label.items():
        difference = paired_differences(runs, "sigma-asym", "mlp")
        rows.append({"change from the book's set-up": label,
                     **{name: mean_interval(arm_values(runs, arm)) if arm_values(runs, arm) else "–"
                        for arm, name in ABLATION_ARMS.items()},
                     "σ-Asym − standard (paired)": mean_interval(difference) if difference else "–"})
    return pd.DataFrame(rows).set_index("change from the book's set-up")


def ordering_view(ordering: pd.DataFrame, labels: dict) -> pd.DataFrame:
    """``lmc_study.ordering_tests``'s table for reading: arms by their ``labels``, the difference as
    ``mean [low, high]``, ``holds`` as yes / no; indexed by set-up and comparison."""
    missing = [c for c in ("setup", "comparison", "difference", "low", "high", "holds") if c not in ordering]
    if missing:
        raise KeyError(f"ordering lacks the columns {missing}; expected a table of lmc_study.ordering_tests")
    return ordering.assign(
        comparison=[" < ".join(labels[arm] for arm in c.split(" < ")) for c in ordering["comparison"]],
        difference=[interval_text(m, lo, hi) for m, lo, hi in ordering[["difference", "low", "high"]].values],
        holds=["yes" if held else "no" for held in ordering["holds"]],
    ).drop(columns=["low", "high"]).set_index(["setup", "comparison"])
