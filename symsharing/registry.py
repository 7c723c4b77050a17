"""The named experiments the CLI and the book run: one table from name to (function, chapter).

Each experiment is declared next to its concern (the study's in ``study.axes``, mode connectivity
in ``paramspace.connectivity``); this table only names them.
"""

from __future__ import annotations

import pandas as pd

from symsharing.paramspace.connectivity import mode_connectivity_experiment
from symsharing.study.axes import (
    budget_ablation,
    generalization,
    parameter_efficiency,
    robustness,
    sample_efficiency,
    seed_variance,
    symmetry_ladder,
)
from symsharing.study.config import STUDY_AXES

__all__ = ["EXPERIMENTS", "run_experiment", "run_all", "STUDY_AXES"]


EXPERIMENTS = {
    "robustness": (robustness, "book/robustness.py"),
    "sample-efficiency": (sample_efficiency, "book/sample_efficiency.py"),
    "parameter-efficiency": (parameter_efficiency, "book/parameter_efficiency.py"),
    "generalization": (generalization, "book/generalization.py"),
    "mode-connectivity": (mode_connectivity_experiment, "book/paramspace.py"),
    "symmetry-ladder": (symmetry_ladder, "book/symmetry_ladder.py"),
    "seed-variance": (seed_variance, "book/discussion.py"),
    "budget-ablation": (budget_ablation, "book/sample_efficiency.py"),
}


def run_experiment(name: str, quick: bool | None = None, seeds=None) -> pd.DataFrame:
    """Run (or read from the cache) the experiment called ``name``; see ``EXPERIMENTS``."""
    if name not in EXPERIMENTS:
        raise KeyError(f"unknown experiment {name!r}; known: {', '.join(EXPERIMENTS)}")
    return EXPERIMENTS[name][0](quick=quick, seeds=seeds)


def run_all(quick: bool | None = None) -> pd.DataFrame:
    """The study: every axis of ``STUDY_AXES``, one table."""
    return pd.concat([run_experiment(name, quick) for name in STUDY_AXES], ignore_index=True)
