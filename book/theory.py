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
# # Theory: symmetry, equivariance and sharing by orbits
#
# This chapter sets up the one idea the book tests: a task's symmetry group tells us which weights
# of a linear layer *must* be equal for the layer to respect the symmetry, and tying exactly those
# weights gives every symmetric layer and nothing else {cite}`ravanbakhsh2017equivariance`. Each
# statement is checked numerically against the `symsharing` package.
#
# ## Groups acting on points
#
# A finite group $G$ acts on the $n$ input coordinates ("points") by permutations. An element is
# stored as a vector `g` with `g[i]` the point that $i$ is sent to, and it acts on a feature vector
# by moving the value at point $i$ to point $g(i)$: $(g \cdot x)_{g(i)} = x_i$. A group is declared
# by a few generators; everything else is computed from them.

# %%
import math

import matplotlib.pyplot as plt
import numpy as np
import torch
from myst_nb import glue

from symsharing.figures.captions import listing
from symsharing.figures.plots import book_style
from symsharing.groups import cyclic, dihedral, grid_dihedral, reflection, symmetric, trivial
from symsharing.models import MLP
from symsharing.sharing import SharedLinear

book_style()

G = cyclic(6)
g = G.generators[0]  # rotation by one step
x = torch.arange(6.0)
print("g      =", g.tolist())
print("x      =", x.tolist())
print("g . x  =", G.act(g, x).tolist())
assert all(G.act(g, x)[g[i]] == x[i] for i in range(6))

# %% [markdown]
# The order of a group is computed by the Schreier–Sims algorithm from the generators, without
# listing the group: the symmetric group on 20 points has {glue:text}`s20_order` elements, far
# too many to enumerate, yet its order is exact.

# %%
groups = [trivial(8), reflection(8), cyclic(8), dihedral(8), symmetric(8), grid_dihedral(7)]
print(f"{'group':14s} {'n':>3s} {'|G|':>7s} {'orbits':>6s} {'pair orbits':>11s}")
for group in groups:
    print(f"{group.name:14s} {group.n:3d} {group.order():7,d} {len(group.orbits()):6d} "
          f"{group.n_pair_orbits():11d}")

# %% tags=["remove-cell"]
glue("s20_order", f"{symmetric(20).order():,}", display=False)

# %% [markdown]
# ## Equivariance and sharing by orbits
#
# A linear map $W$ is **equivariant** when moving the input moves the output the same way:
# $W (g \cdot x) = g \cdot (W x)$ for every $g \in G$. Written on entries this says
# $W_{g(i), g(j)} = W_{ij}$: $W$ is constant on every *orbit of index pairs*
# $\{(g(i), g(j)) : g \in G\}$. Conversely, any matrix constant on pair orbits is equivariant.
# So the equivariant maps form a vector space with one dimension per pair orbit, and
# `SharedLinear` stores one parameter per pair orbit and builds $W$ by indexing,
# `W = theta[pair_orbits]`.
#
# We check this from scratch, without the package's orbit code: the equivariant maps are the
# solutions of the linear equations $W P_g = P_g W$ for the generators' permutation matrices
# $P_g$, and the dimension of that solution space must equal the number of pair orbits.

# %%
def permutation_matrix(g: torch.Tensor) -> np.ndarray:
    """P with (P x)[g[i]] = x[i]."""
    P = np.zeros((len(g), len(g)))
    P[g.numpy(), np.arange(len(g))] = 1.0
    return P


def equivariant_dimension(group) -> int:
    """Dimension of {W : W P = P W for every generator P}, by a null-space computation."""
    n = group.n
    eye = np.eye(n)
    constraints = [np.kron(eye, P) - np.kron(P.T, eye)  # vec(P W) - vec(W P), column-major vec
                   for P in map(permutation_matrix, group.generators)]
    A = np.concatenate(constraints)
    return n * n - np.linalg.matrix_rank(A)


rows = []
for group in [trivial(5), reflection(6), cyclic(7), dihedral(6), symmetric(6), grid_dihedral(4)]:
    rows.append((group.name, equivariant_dimension(group), group.n_pair_orbits()))
    assert rows[-1][1] == rows[-1][2]
for name, dimension, n_orbits in rows:
    print(f"{name:12s} dim of equivariant maps = {dimension:3d}   pair orbits = {n_orbits:3d}")

# %% [markdown]
# And the package's layer is equivariant, to float64 precision, for a random input and every
# element of the dihedral group of the square acting on a 5 × 5 image:

# %%
from symsharing.testing import assert_equivariant

torch.manual_seed(0)
D4 = grid_dihedral(5)
layer = SharedLinear(D4, in_channels=2, out_channels=3).double()
x = torch.randn(4, 2, D4.n, dtype=torch.float64)  # (batch, channels, points)
assert_equivariant(layer, D4, x, n_elements=D4.order())
with torch.no_grad():
    errors = [float((layer(D4.act(g, x)) - D4.act(g, layer(x))).abs().max()) for g in D4.elements()]
print(f"largest equivariance error over all {D4.order()} elements: {max(errors):.1e}")

# %% tags=["remove-cell"]
glue("d4_equivariance_error", f"{max(errors):.1e}", display=False)

# %% [markdown]
# The largest error over the whole group is {glue:text}`d4_equivariance_error`: rounding only.
#
# {numref}`fig-tied-patterns` shows the tied pattern: entry $(i, j)$ is coloured by the id of its
# pair orbit, so equal colours are one shared weight. The symmetric group leaves two weights (the
# DeepSets layer {cite}`zaheer2017deepsets`, $a x_i + b \sum_{j \ne i} x_j$); the cyclic group
# leaves a circulant matrix (a circular convolution); the dihedral group of the image ties
# pixels related by rotations and reflections.

# %%
pattern_groups = [symmetric(8), cyclic(8), dihedral(8), grid_dihedral(4)]
fig, axes = plt.subplots(1, len(pattern_groups), figsize=(8, 2.4))
for ax, group in zip(axes, pattern_groups, strict=True):
    ax.imshow(group.pair_orbits().numpy(), cmap="tab20", interpolation="nearest")
    ax.set_title(f"{group.name}: {group.n_pair_orbits()} weights")
    ax.set_xticks([])
    ax.set_yticks([])
plt.tight_layout()
plt.close(fig)

# %% tags=["remove-cell"]
glue("fig_tied_patterns", fig, display=False)
glue("theory_patterns_caption", "Of the n² weights of a dense layer, tying leaves " + listing(
    f"{group.n_pair_orbits()} of {group.n ** 2} under {group.name} (order {group.order():,})"
    for group in pattern_groups) + ".", display=False)

# %% [markdown]
# ```{glue:figure} fig_tied_patterns
# :name: fig-tied-patterns
#
# {glue:text}`theory_patterns_caption` The tied weight pattern of a `SharedLinear` layer for four
# groups: entry $(i, j)$ of the $n \times n$ weight matrix is coloured by its pair orbit, so one
# colour is one free weight. The title of each panel counts the free weights that remain.
# ```

# %% [markdown]
# ## Counting free parameters: Burnside's lemma
#
# How many weights does sharing leave? The number of orbits of $G$ acting on pairs is, by
# Burnside's lemma, the average number of pairs a group element fixes. A pair $(i, j)$ is fixed
# by $g$ when both points are, so
#
# $$ \#\text{pair orbits} = \frac{1}{|G|} \sum_{g \in G} \operatorname{fix}(g)^2 . $$
#
# For the symmetric group this is 2 whatever $n$: a dense layer on $n$ points has $n^2$
# weights per channel pair, the shared one 2.

# %%
def burnside_pair_orbits(group) -> float:
    elements = group.elements()
    fixed = (elements == torch.arange(group.n)).sum(1).double()  # fix(g) per element
    return float((fixed**2).mean())


print(f"{'group':14s} {'dense n^2':>9s} {'shared':>7s} {'Burnside':>9s} {'ratio':>6s}")
for group in [reflection(8), cyclic(16), dihedral(16), symmetric(8), grid_dihedral(7)]:
    burnside = burnside_pair_orbits(group)
    assert burnside == group.n_pair_orbits()
    print(f"{group.name:14s} {group.n**2:9d} {group.n_pair_orbits():7d} {burnside:9.0f} "
          f"{group.n**2 / group.n_pair_orbits():6.1f}")
grid = grid_dihedral(7)

# %% tags=["remove-cell"]
glue("grid_dense", f"{grid.n**2:,}", display=False)
glue("grid_shared", f"{grid.n_pair_orbits():,}", display=False)
glue("grid_ratio", f"{grid.n**2 / grid.n_pair_orbits():.1f}", display=False)

# %% [markdown]
# When $G$ acts freely (only the identity fixes a point) almost all pairs lie in orbits of
# size $|G|$, so sharing divides the weight count by about $|G|$. The dihedral group acting on a
# 7 × 7 image does not act freely — the centre pixel and the pixels on the diagonals and middle
# lines are fixed by some reflections — so it turns {glue:text}`grid_dense` weights into
# {glue:text}`grid_shared`, a factor {glue:text}`grid_ratio` rather than 8.
#
# ## The other face: symmetries of the parameters
#
# Symmetry also lives in the *parameter space* of any network {cite}`zhao2025parameterspace`.
# Permuting the hidden units of an MLP — rows of one weight matrix and bias, columns of the
# next — leaves its function unchanged; so does multiplying a ReLU unit's incoming weights and
# bias by $s > 0$ and its outgoing weights by $1/s$, since $\mathrm{relu}(s z) = s\,\mathrm{relu}(z)$.
# We check both by hand on a small MLP:

# %%
torch.manual_seed(1)
mlp = MLP(4, 2, width=5, depth=1).double()
x = torch.randn(10, 4, dtype=torch.float64)
first, second = mlp.layers
perm = torch.randperm(5)
scale = torch.rand(5, dtype=torch.float64) + 0.5


def hand_forward(W1, b1, W2, b2, x):
    return torch.relu(x @ W1.T + b1) @ W2.T + b2


with torch.no_grad():
    original = mlp(x)
    permuted = hand_forward(first.weight[perm], first.bias[perm], second.weight[:, perm], second.bias, x)
    rescaled = hand_forward(first.weight * scale[:, None], first.bias * scale,
                            second.weight / scale, second.bias, x)
permutation_error = float((permuted - original).abs().max())
rescaling_error = float((rescaled - original).abs().max())
print(f"permutation: max change {permutation_error:.1e}; rescaling: max change {rescaling_error:.1e}")
assert permutation_error < 1e-12 and rescaling_error < 1e-12
widths = [64, 64]

# %% tags=["remove-cell"]
glue("perm_group_digits", f"{sum(math.lgamma(w + 1) for w in widths) / math.log(10):.0f}", display=False)

# %% [markdown]
# An MLP with two hidden layers of 64 units has $64!^2$, about $10$ to the power
# {glue:text}`perm_group_digits`, equivalent weight settings from permutations alone. These two faces of
# symmetry pull in opposite directions: the task's symmetry *adds* constraints (tied weights,
# fewer parameters), while the parameter space's symmetry is *redundancy* (many weights, one
# function). The parameter-space chapters measure what that redundancy does to training and to
# the loss landscape ({doc}`paramspace`), and what happens when it is removed
# {cite}`lim2024asymmetric` ({doc}`asymmetric`).

# %% [markdown]
# ## Explore
#
# Pick a group and a number of points: the explorer draws the tied weight pattern, the orbits on
# the points and the count of free parameters against a dense layer. (In the static HTML it
# shows its saved state; it comes alive in Jupyter.)

# %% tags=["nbval-ignore-output"]
from symsharing.figures.widgets import group_explorer

group_explorer("dihedral", 8)
