"""The three toy tasks of the study, each carrying its symmetry group.

The main study (Kim, "An Empirical Study of Symmetry-Induced Parameter Sharing as an Inductive
Bias in Neural Networks") compares models on three toy tasks: a set, a ring and a grid. Its text
is not public, so the designs below are reconstructions, chosen so that (i) the label is exact and
invariant under the task's group for *any* input, (ii) a plain MLP needs many samples while the
model tied by the group learns from few, and (iii) an out-of-distribution split moves the inputs
but not the rule.

Every task draws its inputs from ``numpy.random.default_rng([seed, stream])`` (stream 0: training
distribution, stream 1: out-of-distribution), never from global state, and labels them with
``label``: so ``task.label(X) == y`` for every sample by construction. Draws are nested: the
first ``m`` rows of ``sample(n, seed)`` are ``sample(m, seed)`` (training sets grow by adding).
"""

from __future__ import annotations

import numpy as np
import torch

from symsharing._checks import check_int, check_nonnegative
from symsharing.groups import PermutationGroup, cyclic, grid_dihedral, grid_rotation, symmetric

__all__ = ["Task", "SetTask", "RingTask", "GridTask", "ChiralGridTask", "TASKS", "STUDY_TASKS", "get_task",
           "LinearTask", "LINEAR_TASKS", "get_linear_task"]


def _check_count(n, seed) -> tuple[int, int]:
    return check_int(n, "n", minimum=0), check_int(seed, "seed", minimum=0)


class Task:
    """A task: a group acting on ``n`` input points, a seeded sampler and an exact G-invariant label.

    Subclasses set the class attributes and implement ``_draw(rng, n, ood)`` and ``label(X)``.
    """

    name: str
    kind: str  # "regression" | "classification"
    n_outputs: int  # outputs of a model: 1 for regression, the number of classes otherwise
    description: str
    ood_description: str

    def __init__(self, group: PermutationGroup):
        self.group = group

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r}, group={self.group.name}, kind={self.kind})"

    def sample(self, n: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
        """``n`` inputs ``X`` float32 ``[n, group.n]`` from the training distribution, and ``label(X)``."""
        n, seed = _check_count(n, seed)
        X = self._draw(np.random.default_rng([seed, 0]), n, ood=False)
        return X, self.label(X)

    def sample_ood(self, n: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
        """``n`` inputs from outside the training distribution (see ``ood_description``), labelled."""
        n, seed = _check_count(n, seed)
        X = self._draw(np.random.default_rng([seed, 1]), n, ood=True)
        return X, self.label(X)

    def _check_inputs(self, X) -> torch.Tensor:
        if isinstance(X, np.ndarray):
            X = torch.from_numpy(X)
        if not isinstance(X, torch.Tensor):
            raise TypeError(f"X must be a torch.Tensor, got {type(X).__name__}")
        if X.dim() != 2 or X.shape[1] != self.group.n:
            raise ValueError(f"task {self.name!r}: X must have shape [batch, {self.group.n}], "
                             f"got {tuple(X.shape)}")
        if not X.dtype.is_floating_point:
            X = X.float()
        return X

    def _draw(self, rng: np.random.Generator, n: int, ood: bool) -> torch.Tensor:
        raise NotImplementedError

    def label(self, X: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError


class SetTask(Task):
    """S_8 on 8 reals: regress the sum of the two largest values.

    The top-2 sum is a nonlinear function of the order statistics, so it depends on all
    interactions between the inputs (unlike a sum of per-element features), yet it is exactly
    invariant under every permutation. ``x ~ N(0, 1)``: y has mean ~2.3 and variance ~0.95. OOD:
    ``x ~ N(0, 2^2)``, same rule, inputs and targets twice as spread out (an extrapolation test).
    """

    name, kind, n_outputs = "set", "regression", 1
    description = ("S8 acting on 8 real inputs x ~ N(0, 1); target: the sum of the two largest "
                   "values (regression, 1 output)")
    ood_description = "inputs x ~ N(0, 2^2): twice as spread out as in training; same rule"

    def __init__(self):
        super().__init__(symmetric(8))

    def _draw(self, rng, n, ood):
        scale = 2.0 if ood else 1.0
        return torch.from_numpy(scale * rng.standard_normal((n, 8)).astype(np.float32))  # (n, 8)

    def label(self, X):
        X = self._check_inputs(X)
        return X.topk(2, dim=1).values.sum(dim=1, keepdim=True)  # (batch, 1)


class RingTask(Task):
    """C_16 on a cyclic ±1 sequence: does the motif 1,1,0,1,0 occur anywhere around the ring?

    A bit is on when its input is > 0, so the label is defined for any real X. With bits i.i.d.
    with P(1) = 0.5, 44.6% of rings hold the motif (exact, by enumerating all 2^16 rings). The motif
    is not a palindrome up to rotation (its mirror image 0,1,0,1,1 is a different pattern), so the
    task is invariant under rotations but *not* under the reflections of D_16. OOD: bit density
    P(1) = 0.7, which leaves the class balance nearly unchanged (44.1% positives) while the inputs'
    mean moves from 0 to 0.4.
    """

    name, kind, n_outputs = "ring", "classification", 2
    motif = (1, 1, 0, 1, 0)
    density, ood_density = 0.5, 0.7
    description = ("C16 acting on a cyclic sequence of 16 bits (encoded as -1/+1, bit density 0.5); "
                   "class 1 when the motif 11010 occurs somewhere around the ring (44.6% positives)")
    ood_description = ("bit density 0.7 instead of 0.5: the input mean moves from 0 to 0.4 while "
                       "the share of positives stays near 44%")

    def __init__(self):
        super().__init__(cyclic(16))
        offsets = torch.arange(16)[:, None] + torch.arange(len(self.motif))[None]
        self._windows = offsets % 16  # (16, motif): points of the window starting at each point
        self._motif = torch.tensor(self.motif, dtype=torch.bool)

    def _draw(self, rng, n, ood):
        bits = rng.random((n, 16)) < (self.ood_density if ood else self.density)
        return torch.from_numpy(np.where(bits, 1.0, -1.0).astype(np.float32))  # (n, 16)

    def label(self, X):
        bits = self._check_inputs(X) > 0  # (batch, 16)
        windows = bits[:, self._windows.to(bits.device)]  # (batch, 16, motif)
        match = (windows == self._motif.to(bits.device)).all(dim=2)  # (batch, 16)
        return match.any(dim=1).long()  # (batch,)


def _tetromino_placements(k: int, shapes: dict | None = None, mirror: bool = True
                          ) -> tuple[torch.Tensor, torch.Tensor]:
    """Every placement of every tetromino of ``shapes`` in every orientation on a k x k grid.

    ``shapes`` defaults to ``GridTask.shapes`` (the free tetrominoes); orientations are the
    rotations, and with ``mirror`` also the mirror images (free pieces; without it, one-sided).
    Returns ``(masks, shape_ids)``: ``masks`` float ``[n_placements, k*k]`` (row-major, 4 ones
    each), ``shape_ids`` long ``[n_placements]`` indexing ``shapes``.
    """
    shapes = GridTask.shapes if shapes is None else shapes
    masks, shape_ids = [], []
    for shape_id, cells in enumerate(shapes.values()):
        orientations = set()
        for turns in range(4):
            for mirrored in ((False, True) if mirror else (False,)):
                moved = []
                for r, c in cells:
                    c = -c if mirrored else c
                    for _ in range(turns):
                        r, c = c, -r
                    moved.append((r, c))
                r0, c0 = min(r for r, _ in moved), min(c for _, c in moved)
                orientations.add(frozenset((r - r0, c - c0) for r, c in moved))
        for cells_oriented in sorted(orientations, key=sorted):
            height = 1 + max(r for r, _ in cells_oriented)
            width = 1 + max(c for _, c in cells_oriented)
            for dr in range(k - height + 1):
                for dc in range(k - width + 1):
                    mask = torch.zeros(k * k)
                    mask[[(r + dr) * k + c + dc for r, c in cells_oriented]] = 1.0
                    masks.append(mask)
                    shape_ids.append(shape_id)
    return torch.stack(masks), torch.tensor(shape_ids, dtype=torch.long)


class GridTask(Task):
    """D_4 on a 7x7 image: which free tetromino (I, O, T, S, L) is drawn?

    Sampling: a class uniformly, then one of its placements (orientation and position) uniformly;
    pixels 1 on the shape, 0 elsewhere, plus noise N(0, 0.1^2) clipped to ±0.25. S/Z and L/J are
    identified, as mirror images are under D_4. Labelling, exact for any X: threshold each image at
    the midpoint of its min and max, then match the on-pixels against all 572 placements; an image
    that matches none (wrong number of pixels, another shape, a constant image) is labelled -1.
    Thresholding at a midpoint of order statistics commutes with permuting pixels, and D_4 maps
    placements to placements, so the label is D_4-invariant. Clipped noise keeps every sampled
    image on the right side of its threshold. Note: D_4 is not transitive on the pixels; the
    centre pixel is its own orbit (the 49 pixels fall into 10 orbits). OOD: the affine intensity
    map x -> 1.5 x + 0.5 (brighter, more contrast), which keeps every label.
    """

    name, kind = "grid", "classification"
    shapes = {
        "I": ((0, 0), (0, 1), (0, 2), (0, 3)),
        "O": ((0, 0), (0, 1), (1, 0), (1, 1)),
        "T": ((0, 0), (0, 1), (0, 2), (1, 1)),
        "S": ((0, 1), (0, 2), (1, 0), (1, 1)),
        "L": ((0, 0), (1, 0), (2, 0), (2, 1)),
    }
    n_outputs = len(shapes)
    side, noise, noise_clip = 7, 0.1, 0.25
    ood_gain, ood_offset = 1.5, 0.5
    description = ("D4 acting on a 7x7 image (49 pixels); classify which of the 5 free tetrominoes "
                   "(I, O, T, S, L) is drawn, at a random position and orientation, with pixel noise")
    ood_description = "intensities mapped by x -> 1.5 x + 0.5 (brighter, more contrast); same labels"

    free = True  # a piece and its mirror image are one class (free tetrominoes)

    def __init__(self):
        super().__init__(self._symmetry())
        # (P, 49), (P,): every placement of every piece, in its rotations (and mirror images if free)
        self._masks, self._shape_ids = _tetromino_placements(self.side, self.shapes, self.free)
        counts = torch.bincount(self._shape_ids, minlength=self.n_outputs)
        self._class_start = (torch.cumsum(counts, 0) - counts).numpy()
        self._class_count = counts.numpy()

    def _symmetry(self) -> PermutationGroup:
        return grid_dihedral(self.side)

    def placements(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Every clean image the sampler draws from: ``(masks [P, 49], shape_ids [P], probabilities
        [P])``, a placement's probability being 1 / (classes x placements of its class)."""
        probabilities = 1.0 / (self.n_outputs * torch.from_numpy(self._class_count)[self._shape_ids].double())
        return self._masks.clone(), self._shape_ids.clone(), probabilities

    def _draw(self, rng, n, ood):
        shape_rng, noise_rng = rng.spawn(2)  # one stream each: sample(m) is a prefix of sample(n)
        choice = shape_rng.random((n, 2))  # (n, 2): class, then placement within the class
        classes = np.floor(choice[:, 0] * self.n_outputs).astype(np.int64)
        within = np.floor(choice[:, 1] * self._class_count[classes]).astype(np.int64)
        images = self._masks.numpy()[self._class_start[classes] + within]  # (n, 49)
        noise = np.clip(self.noise * noise_rng.standard_normal(images.shape), -self.noise_clip,
                        self.noise_clip)
        X = (images + noise).astype(np.float32)
        if ood:
            X = self.ood_gain * X + self.ood_offset
        return torch.from_numpy(X.astype(np.float32))  # (n, 49)

    def label(self, X):
        X = self._check_inputs(X)
        low, high = X.min(dim=1, keepdim=True).values, X.max(dim=1, keepdim=True).values
        on = (X > (low + high) / 2).float()  # (batch, 49); a constant image has no pixel on
        masks = self._masks.to(device=X.device)
        overlap = on @ masks.T  # (batch, n_placements)
        exact = (overlap == 4) & (on.sum(dim=1, keepdim=True) == 4)  # on-set equals a placement
        matched = exact.any(dim=1)
        shape = self._shape_ids.to(X.device)[exact.float().argmax(dim=1)]
        return torch.where(matched, shape, torch.full_like(shape, -1))  # (batch,)


class ChiralGridTask(GridTask):
    """C_4 on a 7x7 image: which one-sided tetromino (I, O, T, S, Z, L, J) is drawn?

    The grid task with mirror images told apart: S and Z, L and J are separate classes, every
    piece is drawn only in its rotations (572 placements, as on the grid task), with the same
    sampling, noise, labelling rule and OOD map. Rotations map placements of a piece to placements
    of the same piece, so the label is invariant under the quarter turns C_4; a mirror turns an S
    into a Z and an L into a J, so it is *not* invariant under D_4: D_4 is a wrong group that
    changes labels on the data (the symmetry ladder's grid variant: C2 ⊂ C4 ⊂ D4). A variant, not
    one of the study's tasks (``STUDY_TASKS``).
    """

    name = "grid-chiral"
    shapes = {
        "I": ((0, 0), (0, 1), (0, 2), (0, 3)),
        "O": ((0, 0), (0, 1), (1, 0), (1, 1)),
        "T": ((0, 0), (0, 1), (0, 2), (1, 1)),
        "S": ((0, 1), (0, 2), (1, 0), (1, 1)),
        "Z": ((0, 0), (0, 1), (1, 1), (1, 2)),
        "L": ((0, 0), (1, 0), (2, 0), (2, 1)),
        "J": ((0, 1), (1, 1), (2, 1), (2, 0)),
    }
    n_outputs = len(shapes)
    free = False
    description = ("C4 acting on a 7x7 image (49 pixels); classify which of the 7 one-sided "
                   "tetrominoes (I, O, T, S, Z, L, J; mirror images are different classes) is drawn, "
                   "at a random position and rotation, with pixel noise")

    def _symmetry(self) -> PermutationGroup:
        return grid_rotation(self.side, 4)


TASKS: dict[str, Task] = {task.name: task for task in (SetTask(), RingTask(), GridTask(), ChiralGridTask())}
# the study's tasks: the axes loop over these, so variants registered in TASKS stay out of them
STUDY_TASKS: tuple[str, ...] = ("set", "ring", "grid")


def get_task(name: str) -> Task:
    """The task called ``name`` (one of ``TASKS``); KeyError naming the known tasks otherwise."""
    if not isinstance(name, str):
        raise TypeError(f"task name must be a str, got {name!r} ({type(name).__name__})")
    if name not in TASKS:
        raise KeyError(f"unknown task {name!r}; known: {', '.join(TASKS)}")
    return TASKS[name]


# Linear regression tasks for the theory chapter's calibration against closed forms.
class LinearTask:
    """``y = θ·x + ε`` with ``x ~ N(0, I_d)``, ``ε ~ N(0, σ²)`` and ``θ = θ_G + epsilon·θ_⊥``.

    ``θ_G`` is constant on the point orbits of ``group`` (one N(0, 1) value per orbit, drawn from
    ``theta_seed``); ``θ_⊥`` is a unit vector orthogonal to every such vector (it sums to zero on
    each orbit). Not one of the study's tasks: it calibrates the training code on closed forms.
    """

    kind, n_outputs = "regression", 1

    def __init__(self, name: str, group: PermutationGroup, sigma: float = 1.0,
                 epsilon: float = 0.0, theta_seed: int = 0):
        if not isinstance(group, PermutationGroup):
            raise TypeError(f"group must be a PermutationGroup, got {type(group).__name__}")
        self.name, self.group = str(name), group
        self.sigma, self.epsilon = check_nonnegative(sigma, "sigma"), check_nonnegative(epsilon, "epsilon")
        self.theta_seed = check_int(theta_seed, "theta_seed", minimum=0)
        self.d, self.k = group.n, len(group.orbits())
        rng = np.random.default_rng([self.theta_seed, 7])
        orbit = group.orbit_index().numpy()
        theta_g = rng.standard_normal(self.k)[orbit]  # (d,)
        raw = rng.standard_normal(self.d)
        means = np.bincount(orbit, raw) / np.bincount(orbit)
        perp = raw - means[orbit]  # (d,): sums to zero on every orbit
        norm = np.linalg.norm(perp)
        perp = perp / norm if norm > 0 else perp
        if self.epsilon > 0 and norm == 0:
            raise ValueError(f"group {group.name} fixes every point: no direction orthogonal to the "
                             "invariant subspace, so epsilon must be 0")
        self.theta_invariant = torch.from_numpy(theta_g)  # float64 (d,)
        self.theta_perp = torch.from_numpy(perp)
        self.theta = self.theta_invariant + self.epsilon * self.theta_perp

    def __repr__(self) -> str:
        return (f"LinearTask(name={self.name!r}, group={self.group.name}, d={self.d}, k={self.k}, "
                f"sigma={self.sigma}, epsilon={self.epsilon})")

    def with_epsilon(self, epsilon: float) -> LinearTask:
        """The same task (same ``θ_G``, ``θ_⊥``) with another symmetry-breaking strength."""
        return LinearTask(self.name, self.group, self.sigma, epsilon, self.theta_seed)

    def sample(self, n: int, seed: int, dtype=torch.float32, *,
               nested: bool = True) -> tuple[torch.Tensor, torch.Tensor]:
        """``n`` samples ``(X [n, d], y [n, 1])``; nested in ``n`` like the study's tasks, or with
        ``nested=False`` drawn from a stream of their own per ``n`` (``default_rng([seed, 0, n])``),
        so that the training sets of different sizes are independent."""
        n, seed = check_int(n, "n", minimum=0), check_int(seed, "seed", minimum=0)
        if not isinstance(nested, bool):
            raise TypeError(f"nested must be a bool, got {nested!r}")
        rng = np.random.default_rng([seed, 0] if nested else [seed, 0, n])
        draws = rng.standard_normal((n, self.d + 1))  # (n, d + 1): inputs, then the noise
        X = torch.from_numpy(draws[:, :self.d])
        y = X @ self.theta + self.sigma * torch.from_numpy(draws[:, self.d])
        return X.to(dtype), y[:, None].to(dtype)

    def excess_risk(self, w: torch.Tensor) -> float:
        """``‖w − θ‖²``: exactly ``E(w·x − θ·x)²`` for ``x ~ N(0, I_d)``."""
        return float(((w.detach().double().flatten() - self.theta) ** 2).sum())

    def test_mse(self, w: torch.Tensor) -> float:
        """Population test MSE ``‖w − θ‖² + σ²`` (exact, no test sample needed)."""
        return self.excess_risk(w) + self.sigma ** 2


LINEAR_TASKS = {task.name: task for task in (LinearTask("linear-set", symmetric(8)),
                                             LinearTask("linear-ring", cyclic(16)),
                                             LinearTask("linear-grid", grid_dihedral(7)))}


def get_linear_task(name: str) -> LinearTask:
    """The calibration task ``name`` (``linear-set``, ``linear-ring``, ``linear-grid``)."""
    if name not in LINEAR_TASKS:
        raise KeyError(f"unknown linear task {name!r}; known: {', '.join(LINEAR_TASKS)}")
    return LINEAR_TASKS[name]
