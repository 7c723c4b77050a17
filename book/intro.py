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
# # Is symmetry-induced parameter sharing an inductive bias?
#
# When a task has an exact symmetry — the answer does not change if the inputs are permuted,
# rotated or reflected in some way — there are three ways to tell a neural network about it:
#
# 1. **do nothing**: a plain multilayer perceptron (MLP) has to discover the symmetry from data;
# 2. **augment**: train the same MLP on inputs moved by random elements of the symmetry group;
# 3. **share**: tie the network's weights so that it is *exactly* invariant, whatever its
#    weights are {cite}`ravanbakhsh2017equivariance`.
#
# This book reruns and extends an empirical study of that question {cite}`kim2025sharing` on
# three toy tasks with an exact symmetry, along four axes: robustness to symmetric transformations,
# sample efficiency, parameter efficiency and generalization. It then turns to the symmetries of
# the *parameters* themselves {cite}`zhao2025parameterspace` and to networks built to have none
# {cite}`lim2024asymmetric`.
#
# Every number and figure in this book is computed when the chapter runs, by the `symsharing`
# package that sits beside it.

# %%
import symsharing
from symsharing.groups import grid_dihedral, symmetric
from symsharing.tasks import TASKS

print(f"symsharing {symsharing.__version__}")
for name, task in TASKS.items():
    print(f"{name:5s} {task.kind:15s} group {task.group.name:12s} of order {task.group.order():>6,}")

# %% [markdown]
# ## How to read and run this book
#
# Each chapter is a Python file in `book/` (jupytext "percent" format) that runs top to bottom.
# Read it here, or open it in JupyterLab (`jupyter lab`, with jupytext installed every `.py`
# chapter opens as a notebook). The experiments cache their results on disk, keyed by their
# configuration and by a hash of the package's code, so rerunning a chapter is cheap and changing
# the code recomputes.  Setting `SYMSHARING_QUICK=1` runs every sweep on a smaller grid.
#
# How large are the symmetries at play? The symmetric group of the set task has
# {glue:text}`set_order` elements; the dihedral group acting on a 7 × 7 image has only
# {glue:text}`grid_order`.

# %%
from myst_nb import glue

glue("set_order", f"{symmetric(8).order():,}", display=False)
glue("grid_order", f"{grid_dihedral(7).order():,}", display=False)

# %% [markdown]
# ## References
#
# ```{bibliography}
# ```
