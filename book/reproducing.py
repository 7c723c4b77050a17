# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---


# %% [markdown]
# # Reproducing this book
#
# Everything in this book is computed when its chapters run. From a fresh clone:
#
# ```bash
# make book          # install into .venv, run every chapter (full sweeps), build the HTML with -W
# make test          # lint, unit tests, every chapter under nbval and a build, all in quick mode
# SYMSHARING_QUICK=1 make book                    # the same book on the quick (smaller) sweeps
# python -m symsharing list                       # the experiments and their chapters
# python -m symsharing run sample-efficiency --quick   # one experiment from the shell
# python -m symsharing run all                    # the whole study (full sweeps)
# ```
#
# **Quick vs full.** One switch, read in one place (`symsharing.settings.is_quick`): with
# `SYMSHARING_QUICK=1` (or `--quick`) every experiment runs the same code on a smaller
# configuration — fewer seeds, sizes and steps — so that CI stays short. The figures published
# with the book come from the full configuration.
#
# **The results cache.** Each unit of work (one task, family, width and training-set size, all
# seeds) is stored as a JSON file under `.cache/symsharing` (or `$SYMSHARING_CACHE_DIR`), keyed by
# its configuration, the device, the dtype and a hash of every `symsharing/*.py` file, with a
# checksum. A chapter executed twice computes once; any change to the package recomputes; an
# interrupted sweep resumes with the units it had finished; a corrupt entry is reported and
# recomputed. Delete the folder to rerun everything from scratch.

# %%
from myst_nb import glue

from symsharing.registry import EXPERIMENTS, run_all, run_experiment
from symsharing.settings import PROJECT_ROOT, cache_dir, is_quick
from symsharing.study.analysis import study_seconds
from symsharing.study.axes import learning_rates
from symsharing.study.runner import write_results
from symsharing.theory.calibration import linear_calibration

mode = "quick" if is_quick() else "full"
records = run_all()
cache = cache_dir()  # shown relative to the project: the page names no folder of the machine that built it
print(f"mode: {mode}; cache: {cache.relative_to(PROJECT_ROOT) if cache.is_relative_to(PROJECT_ROOT) else '$SYMSHARING_CACHE_DIR'}")
print(f"provenance: {records[['device', 'dtype', 'torch_version', 'code_hash']].drop_duplicates().to_dict('records')}")

# %% [markdown]
# ## How long the study took here
#
# Every record stores the seconds spent on it when it was computed (training, shared by the
# models of a stack, plus scoring); runs shared by several experiments are counted once.

# %%
per_experiment = {name: study_seconds(frame) for name, frame in records.groupby("experiment")}
total = study_seconds(records)
runs = len(records.drop_duplicates(["task", "family", "seed", "n_train", "width", "steps", "lr"]))
for name, seconds in per_experiment.items():
    print(f"{name:22s} {seconds:8.1f} s")
print(f"{'whole study':22s} {total:8.1f} s over {runs} runs")

# %% tags=["remove-cell"]
glue("repro_mode", mode, display=False)
glue("repro_minutes", f"{total / 60:.1f}", display=False)
glue("repro_runs", f"{runs:,}", display=False)

# %% [markdown]
# In the {glue:text}`repro_mode` configuration used for this build, the {glue:text}`repro_runs`
# runs of the study took {glue:text}`repro_minutes` minutes of compute on this machine (summed
# over worker processes of one thread each; training and scoring, not counting the learning-rate
# pilots and start-up). Wall-clock time is lower: the workers share the cores.

# %% [markdown]
# ## Every result in one file
#
# The package writes every experiment's records, every tuned learning rate and the theory
# chapter's calibration runs to `results/` (reading them from the results cache, so nothing is
# retrained here), and packs them into one archive:

# %% tags=["hide-input"]
from symsharing.figures import provenance

written = [write_results(name, run_experiment(name)) for name in EXPERIMENTS]
written.append(write_results("learning-rates", learning_rates()))
written.append(write_results("theory-linear", linear_calibration()))
archive = provenance.zip_results(provenance.RESULTS_DIR / "symsharing-results.zip")
print("\n".join(sorted(path.name for path in written)))
print(f"-> {archive.name}")

# %% [markdown]
# Download them all: {download}`symsharing-results.zip <../results/symsharing-results.zip>`.
#
# ## How long each chapter took in this build
#
# The table below is filled in by the book build itself (myst-nb's execution statistics): the
# wall-clock time each chapter's notebook took to execute. The first chapter to execute that needs
# the study's records computes them; later chapters read them from the results cache.
#
# ```{nb-exec-table}
# ```

