"""The tables of the chapter "How symmetry shapes training", from the payloads of ``dynamics`` and
``teleport_study``: one tidy ``DataFrame`` per table, ratios summarised by their geometric mean with
a 95 % t-interval over seeds (``geometric``)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from symsharing.paramspace.dynamics import RESIDUAL_TARGET
from symsharing.paramspace.teleport_study import speedups
from symsharing.stats import confidence_interval

__all__ = ["geometric", "scientific", "ratio_text", "balance_table", "two_layer_table", "orbit_table",
           "identity_table", "null_table", "speedup_table"]


def geometric(ratios) -> tuple[float, float, float]:
    """Geometric mean of positive ``ratios`` with the 95 % t-interval of their logarithms, exponentiated."""
    logs = np.log(np.asarray(ratios, dtype=float))
    return tuple(math.exp(value) for value in confidence_interval(logs))


def scientific(value: float, digits: int = 1) -> str:
    """``value`` in short scientific notation, e.g. ``2.2e-15``."""
    return f"{value:.{digits}e}".replace("e-0", "e-").replace("e+0", "e+")


def ratio_text(stats: tuple[float, float, float], digits: int = 2) -> str:
    """A ratio with its interval: ``1.12× [0.99, 1.26]``."""
    return f"{stats[0]:.{digits}f}× [{stats[1]:.{digits}f}, {stats[2]:.{digits}f}]"


def _text(stats: tuple[float, float, float], digits: int = 2) -> str:
    mean, low, high = stats
    if math.isnan(low):
        return f"{mean:.{digits}f}"
    return f"{mean:.{digits}f} [{low:.{digits}f}, {high:.{digits}f}]"


def balance_table(runs: list[dict]) -> pd.DataFrame:
    """One row per run of ``dynamics.balance_runs``."""
    return pd.DataFrame([{"run": run["arm"], "optimiser": run["optimizer"], "rate": run["lr"],
                          "max |measured − predicted|": run.get("prediction_error", math.nan),
                          "max one-step change": run["step_change"], "max drift |Q(s) − Q(0)|": run["drift"],
                          "largest |Q(0)|": run["scale"]} for run in runs]).set_index("run")


def two_layer_table(runs: list[dict]) -> pd.DataFrame:
    """Per script, activation and initial scale: Q(0), the drift of Q relative to the squared weight
    norm (the larger of start and end), and the final Hessian's top eigenvalue and trace, or the
    steps until the residual norm falls below ``dynamics.RESIDUAL_TARGET``."""
    rows = []
    for run in runs:
        q = np.asarray(run["q"])
        for i, scale in enumerate(run["scales"]):
            row = {"script": run["kind"], "activation": run["activation"], "init scale": scale,
                   "Q(0)": q[i, 0],
                   "|Q drift| / ‖θ‖²": abs(q[i, -1] - q[i, 0]) / run["squared_norm"][i]}
            if run["kind"] == "hessian":
                values = np.asarray(run["eigenvalues"][i])
                row |= {"top eigenvalue": values[-1], "trace": values.sum()}
            else:
                below = np.flatnonzero(np.sqrt(np.asarray(run["loss"][i])) < RESIDUAL_TARGET)
                row |= {"steps to target": run["step"][below[0]] if len(below) else math.nan}
            rows.append(row)
    return pd.DataFrame(rows).set_index(["script", "activation", "init scale"])


def orbit_table(records: list[dict]) -> pd.DataFrame:
    """Per rescaling factor of ``dynamics.orbit_training_runs``: mean balance, steps to the target,
    final sharpness (plain, adaptive), divergences; paired ratios to factor 1 as text."""
    frame = pd.DataFrame(records)
    base = frame[frame["factor"] == 1.0].set_index("seed")
    rows = []
    for factor, part in frame.groupby("factor"):
        part = part.set_index("seed")
        rows.append({"factor": factor, "mean first-layer balance": part["balance"].mean(),
                     "steps to target": part["steps_to_target"].mean(),
                     "speed-up vs factor 1":
                         _text(geometric(base["steps_to_target"] / part["steps_to_target"])),
                     "final top eigenvalue": part["sharpness"].mean(),
                     "ratio vs factor 1": _text(geometric(part["sharpness"] / base["sharpness"])),
                     "adaptive (invariant)": part["adaptive_sharpness"].mean(),
                     "diverged": int(part["diverged"].sum())})
    return pd.DataFrame(rows).set_index("factor")


def identity_table(runs: list[dict]) -> pd.DataFrame:
    """Per family of ``dynamics.null_space_runs`` and point (random, trained): the worst relative
    violation of ``∇L·Aθ = 0`` and ``HAθ = −Aᵀ∇L`` over the generators."""
    rows = []
    for run in runs:
        for where in ("random", "trained"):
            found = run[f"identities_{where}"]
            rows.append({"family": run["family"], "θ": where, "generators": found["generators"],
                         "max |∇L·Aθ| (cosine)": found["gradient"],
                         "max rel. ‖HAθ + Aᵀ∇L‖": found["hessian"]})
    return pd.DataFrame(rows).set_index(["family", "θ"])


def null_table(runs: list[dict]) -> pd.DataFrame:
    """Per family: sizes, the gradient norm reached, generators, zero eigenvalues, the gap around
    the tolerance, and the zeros of the cross-entropy Hessian at random labels."""
    return pd.DataFrame([{"family": run["family"], "P": run["parameters"], "N × outputs": run["constraints"],
                          "‖∇L‖ at the minimum": run["gradient_norm"], "generators": run["generators"],
                          "zero eigenvalues": run["null"]["count"],
                          "largest zero": run["null"]["largest_null"],
                          "smallest non-zero": run["null"]["smallest_other"],
                          "zeros, cross-entropy at random θ": run["cross_entropy_null"]["count"]}
                         for run in runs]).set_index("family")


def speedup_table(runs: list[dict], key: str, pairs) -> tuple[pd.DataFrame, dict]:
    """Speed-ups (``teleport_study.speedups``) of each ``(plain, other)`` pair of values of ``key``,
    seed by seed: the table (geometric means with intervals as text, censored runs, seeds) and
    ``{other: (steps stats, seconds stats)}``."""
    frame, rows, stats = pd.DataFrame(runs), [], {}
    for plain, other in pairs:
        a, b = frame[frame[key] == plain].set_index("seed"), frame[frame[key] == other].set_index("seed")
        found = [speedups(a.loc[seed, "loss"], a.loc[seed, "seconds"], b.loc[seed, "loss"],
                          b.loc[seed, "seconds"]) for seed in a.index]
        stats[other] = (geometric([f["steps"] for f in found]), geometric([f["seconds"] for f in found]))
        rows.append({"run": other, "speed-up in steps": _text(stats[other][0]),
                     "speed-up in seconds": _text(stats[other][1]),
                     "never reached": sum(f["censored"] for f in found), "seeds": len(found)})
    return pd.DataFrame(rows).set_index("run"), stats
