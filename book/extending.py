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
# # Extending the book: a new group and a new task
#
# Can a reader bring their own symmetry? The package asks for very little: a group is a list of
# generating permutations, and a task is an object with a group, a sampler and an exact label.
# This chapter adds both in a few lines, checks them with the same tools the tests use
# (`symsharing.testing`), and trains the package's models on the new task.
#
# ## A new group from generators
#
# Take two rings of six points each, read side by side: points 0–5 are ring A, points 6–11 are
# ring B, and point $i$ of A faces point $i + 6$ of B. The symmetry we want turns both rings
# together by one step, and swaps the two rings. Two generators say it all.

# %%
import matplotlib.pyplot as plt
import torch
from myst_nb import glue

from symsharing.figures.plots import book_style
from symsharing.figures.widgets import group_figure, parameter_counts
from symsharing.groups import PermutationGroup
from symsharing.sharing import SharedLinear
from symsharing.testing import assert_equivariant, assert_invariant

book_style()

turn = [(i + 1) % 6 for i in range(6)] + [6 + (i + 1) % 6 for i in range(6)]
swap = [i + 6 for i in range(6)] + [i for i in range(6)]
two_rings = PermutationGroup([turn, swap], name="C6 x C2 on two rings")
print(two_rings)
print("point orbits:", two_rings.orbits())
print("pair orbits: ", two_rings.n_pair_orbits())

# %% [markdown]
# The order is computed from the generators ({glue:text}`two_rings_order` elements: six turns
# times the swap), and every linear layer tied by this group is equivariant. `assert_equivariant`
# moves a random batch by every element of the group and compares, in float32 and in float64:

# %%
for dtype in (torch.float32, torch.float64):
    torch.manual_seed(0)
    layer = SharedLinear(two_rings, in_channels=3, out_channels=4).to(dtype)
    assert_equivariant(layer, two_rings, torch.randn(16, 3, two_rings.n, dtype=dtype))
counts = parameter_counts(two_rings, channels=4)
print(counts)

# %% tags=["remove-cell"]
glue("two_rings_order", f"{two_rings.order()}", display=False)
glue("two_rings_shared", f"{counts['shared']:,}", display=False)
glue("two_rings_dense", f"{counts['dense']:,}", display=False)
glue("two_rings_ratio", f"{counts['ratio']:.1f}", display=False)

# %% [markdown]
# With four channels in and out, the tied layer has {glue:text}`two_rings_shared` free parameters
# where a dense layer on the same features has {glue:text}`two_rings_dense`,
# {glue:text}`two_rings_ratio` times more. The weight pattern ({numref}`fig-two-rings`) shows where
# the savings come from: one colour per free value, each repeated along the (joint) diagonals of
# the blocks.

# %%
fig = group_figure(two_rings, "ring", channels=4)
plt.close(fig)

# %% tags=["remove-cell"]
glue("fig_two_rings", fig, display=False)
points, orbits = two_rings.n, counts["point_orbits"]
glue("ext_rings_caption", f"Tying leaves {counts['pair_orbits']} free values in the {points} × {points} weight matrix "
     f"of a channel pair, whose dense form has {points ** 2}; the {points} points form {orbits} "
     f"orbit{'s' if orbits > 1 else ''}"
     + (" (the swap joins the two rings)." if orbits == 1 else "."), display=False)

# %% [markdown]
# ```{glue:figure} fig_two_rings
# :name: fig-two-rings
#
# {glue:text}`ext_rings_caption` The group $C_6 \times C_2$ on two rings of six points. Left: the
# tied weight matrix of one `SharedLinear` channel pair, one colour per free value. Right: the
# points coloured by orbit.
# ```

# %% [markdown]
# ## A new task
#
# A task needs a group, a seeded sampler and a label that is *exactly* invariant. Subclassing
# `symsharing.tasks.Task` gives the sampler's bookkeeping (`sample`, `sample_ood`, input checks)
# for free. Our task: how similar are the two rings? The target is their inner product
# $\sum_i x_i x_{i+6}$, which turning both rings together or swapping them leaves unchanged.

# %%
import numpy as np

from symsharing.tasks import Task


class TwoRingsTask(Task):
    """C6 x C2 on two rings of 6 reals: regress their inner product."""

    name, kind, n_outputs = "two-rings", "regression", 1
    description = "two rings of 6 reals x ~ N(0, 1); target: the inner product of ring A and ring B"
    ood_description = "inputs x ~ N(0, 2^2)"

    def __init__(self):
        super().__init__(two_rings)

    def _draw(self, rng, n, ood):
        return torch.from_numpy((2.0 if ood else 1.0) * rng.standard_normal((n, 12)).astype(np.float32))

    def label(self, X):
        X = self._check_inputs(X)
        return (X[:, :6] * X[:, 6:]).sum(dim=1, keepdim=True)  # (batch, 1)


task = TwoRingsTask()
X, y = task.sample(256, seed=0)
assert_invariant(task.label, task.group, X)  # the label really has the symmetry
assert torch.equal(task.sample(256, seed=0)[0], X)  # same seed, same data

# %% [markdown]
# The package's models take the new task as they are: a dense `MLP` and a `SharedMLP` tied by the
# new group, trained by `fit` on the same small training set and scored on fresh samples.

# %%
from symsharing.metrics import invariance_error, score
from symsharing.models import MLP, SharedMLP, count_parameters
from symsharing.train import fit, seed_everything

X_test, y_test = task.sample(2048, seed=10_000)
results = {}
for family in ("mlp", "shared"):
    seed_everything(0)
    model = MLP(12, 1, width=64) if family == "mlp" else SharedMLP(task.group, 1, channels=8)
    fit(model, X, y, steps=400, lr=3e-3, seed=0)
    with torch.no_grad():
        results[family] = {"n_params": count_parameters(model), "test_mse": score(model(X_test), y_test),
                           "invariance_error": invariance_error(model, task.group, X_test)}
    print(f"{family:7s}", {key: float(f"{value:.4g}") for key, value in results[family].items()})
assert results["shared"]["invariance_error"] < 1e-4  # invariant by construction: float32 rounding, ~1e-6

# %% tags=["remove-cell"]
glue("ext_mlp_mse", f"{results['mlp']['test_mse']:.3f}", display=False)
glue("ext_shared_mse", f"{results['shared']['test_mse']:.3f}", display=False)
glue("ext_mlp_invariance", f"{results['mlp']['invariance_error']:.2f}", display=False)
glue("ext_target_var", f"{float(y_test.var()):.2f}", display=False)

# %% [markdown]
# The targets have variance {glue:text}`ext_target_var`. Trained on 256 samples, the dense MLP
# reaches a test MSE of {glue:text}`ext_mlp_mse` and the shared model
# {glue:text}`ext_shared_mse`. The shared model is invariant by construction (its invariance
# error is at float rounding); the dense one changes its prediction by
# {glue:text}`ext_mlp_invariance` on average when its input is moved by the group. To put the new task through the book's full protocol (several seeds,
# learning-rate selection, the four axes), it would also need a subgroup and a "wrong" group in
# `symsharing.study.families` and a default width in `symsharing.study.config.TrainingConfig`.
#
# ## Exploring the book's own tasks
#
# In Jupyter, the explorer below trains one network of the chosen family on the chosen number of
# samples of a task of the book (or reads the result back from the on-disk cache) and shows its
# learning curve, test score and invariance error. In the static HTML it shows the state saved
# when this page was built.

# %% tags=["nbval-ignore-output"]
from symsharing.figures.widgets import training_explorer

training_explorer(task="set", family="shared", n_train=64)
