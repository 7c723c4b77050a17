"""The study's configuration: how every model is trained, tuned and scored, and each experiment's
tasks, families, seeds and sizes (full and quick).

Kim, "An Empirical Study of Symmetry-Induced Parameter Sharing as an Inductive Bias in Neural
Networks" compares a dense MLP, the MLP trained with augmentation and a weight-tied model along
four axes: symmetric robustness, sample efficiency, parameter efficiency and generalization.

Protocol, the same for every family: at seed ``s`` every model sees the same training set
``task.sample(n_train, s)``, the same test set ``task.sample(n_test, 10_000 + s)`` and the same
out-of-distribution set ``task.sample_ood(n_test, s)``; initial weights come from
``seed_everything(s)``; Adam for a budget of mini-batch steps. The learning rate of each (task,
family, width, size bucket) is tuned on a held-out validation set (``runner.tune_learning_rates``).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from symsharing._checks import check_seeds
from symsharing.settings import PROJECT_ROOT, is_quick
from symsharing.study.families import FAMILIES, training_family
from symsharing.study.protocol import Budget, lr_size_for

__all__ = ["RECORD_COLUMNS", "PROTOCOL_COLUMNS", "EXTRA_COLUMNS", "TrainingConfig", "AxisConfig",
           "config_for", "RESULTS_DIR", "STUDY_AXES", "TEST_SEED_OFFSET", "VALIDATION_SEED", "DTYPE"]
RECORD_COLUMNS = ["experiment", "task", "family", "seed", "n_train", "width", "n_params", "steps", "lr",
                  "batch_size", "metric", "train_loss", "test_score", "test_score_transformed",
                  "invariance_error", "ood_score", "diverged", "seconds", "device", "dtype",
                  "torch_version", "code_hash"]


# study protocol v2 and the symmetry tests
PROTOCOL_COLUMNS = ["steps_taken", "data_seed", "init_seed", "macs", "activations", "normalised_score",
                    "group", "ceiling", "collapsed"]
EXTRA_COLUMNS = ["population_score", "train_score", "generalization_gap", "normalised_ood_score",
                 "unseen_orbit_score", "unseen_orbit_share", "slice_score", "orbit_rest_score",
                 "orbit_consistency", "orbit_worst_score", "orbit_exact"]
TEST_SEED_OFFSET = 10_000
DTYPE = "float32"
RESULTS_DIR = PROJECT_ROOT / "results"  # the results CSVs that `make book` leaves
DEVICE = "cpu"  # the book's default training device (settings.device(): --device, SYMSHARING_DEVICE)
VALIDATION_SEED = 20_000  # the tuning's validation set: outside every training, pilot and test seed


@dataclass(frozen=True)
class TrainingConfig:
    """How every model is trained, tuned and scored (shared by all axes); see ``protocol``.

    ``steps`` is the fewest Adam steps at any size; with ``epochs > 0`` a model on n samples gets
    ``clip(epochs * ceil(n / batch_size), steps, max_steps)``. ``schedule`` shapes the rate.
    Tuning (``protocol``): per width, the rate searched from ``lr_grid`` (at most ``max_extensions``
    rounds of refinement) with the best median validation score over ``n_pilots`` pilot runs (seeds
    ``lr_seed + i``) at the representative size of the run's bucket, the nearest of ``lr_sizes``
    (default: ``lr_n_train``); then the width of ``width_factors`` times the default width whose
    tuned rate scores best (``runner.chosen_widths``; the wider widths' rates are searched from
    around the first width's): width is tuned like the learning rate, by one rule for every family.
    """

    steps: int = 400
    batch_size: int = 128
    depth: int = 2
    n_test: int = 2048
    lr_grid: tuple[float, ...] = (1e-3, 3e-3, 1e-2)
    lr_n_train: int = 256
    lr_seed: int = 1000
    mlp_width: int = 64
    shared_width: tuple[tuple[str, int], ...] = (("set", 16), ("ring", 8), ("grid", 4), ("grid-chiral", 4))
    epochs: int = 0
    max_steps: int = 0
    schedule: str = "constant"
    n_pilots: int = 1
    lr_sizes: tuple[int, ...] = ()
    max_extensions: int = 0
    budget_scale: int = 1
    pilot_steps: int = 0
    width_factors: tuple[int, ...] = (1,)

    @property
    def budget(self) -> Budget:
        return Budget(self.steps, self.epochs, self.max_steps)

    def steps_for(self, n_train: int) -> int:
        """Adam steps of a study run on ``n_train`` samples at the normal budget."""
        return self.budget.steps_for(n_train, self.batch_size)

    def pilot_steps_for(self, n_train: int) -> int:
        """Adam steps of a tuning pilot: the normal budget, capped at ``pilot_steps`` when set (pilots
        at a reduced budget, to afford tuning every family, width and size bucket)."""
        steps = self.steps_for(n_train)
        return min(steps, self.pilot_steps) if self.pilot_steps else steps

    def run_steps(self, n_train: int) -> int:
        """Adam steps of a study run on ``n_train`` samples: the budget times ``budget_scale`` (the
        budget ablation trains longer at the rates tuned for the normal budget)."""
        return self.steps_for(n_train) * self.budget_scale

    def lr_size(self, n_train: int) -> int:
        """The size the rate of a run on ``n_train`` samples is tuned at (its bucket's)."""
        return lr_size_for(n_train, self.lr_sizes or (self.lr_n_train,))

    def describe(self) -> str:
        """The protocol in one paragraph, from the configuration itself."""
        sizes = self.lr_sizes or (self.lr_n_train,)
        return (f"Training: {self.budget.describe(self.batch_size)}; Adam with a {self.schedule} "
                f"learning-rate schedule. Tuning: per family, width and size bucket (tuned at n = "
                f"{', '.join(map(str, sizes))}), the rate with the best median validation score over "
                f"{self.n_pilots} pilot run(s) at the real budget (a rate at which a pilot diverges or "
                f"collapses is rejected; rates tied at the best median score go to the best mean "
                f"score, then to the smaller rate), searched from "
                f"{{{', '.join(f'{r:g}' for r in self.lr_grid)}}} and refined, at most "
                f"{self.max_extensions} times, until the best rate has a tried neighbour within 2x on "
                f"each side; scored on {self.n_test} validation samples drawn apart from every training "
                f"and test set.{self._describe_widths()}")

    def _describe_widths(self) -> str:
        factors = ", ".join(f"{factor}x" for factor in self.width_factors)
        chosen = (f" Width: of {factors} the default width, the one whose tuned rate validates best "
                  f"(ties by the same rule)."
                  if len(self.width_factors) > 1 else "")
        return (f"{chosen} The rate of a width other than a family's default is searched from the "
                f"default width's rate (same bucket) and its neighbours at 2x.")

    def widths(self, task: str, family: str) -> tuple[int, ...]:
        """The widths the tuning chooses from: ``width_factors`` times the default width."""
        return tuple(factor * self.width(task, family) for factor in self.width_factors)

    def width(self, task: str, family: str) -> int:
        """Hidden width (dense families) or channel count (shared families) at the default size."""
        if training_family(family) in ("mlp", "mlp+aug"):
            return self.mlp_width
        return dict(self.shared_width)[task]


@dataclass(frozen=True)
class AxisConfig:
    """One experiment: which tasks, families, seeds and sizes; ``sizes`` are n_train values, or
    shared channel counts per task for parameter efficiency (dense widths are then matched)."""

    experiment: str
    seeds: tuple[int, ...]
    n_trains: tuple[int, ...]
    tasks: tuple[str, ...] = ("set", "ring", "grid")
    families: tuple[str, ...] = FAMILIES
    shared_widths: tuple[tuple[str, tuple[int, ...]], ...] = ()
    training: TrainingConfig = field(default_factory=TrainingConfig)
_QUICK_TRAINING = TrainingConfig(steps=100, n_test=256, lr_grid=(4e-3, 1.6e-2), lr_n_train=128,
                                 schedule="warmup-cosine", n_pilots=2)


# The study protocol v3: budgets that grow with n, a linear warm-up then cosine decay; per size
# bucket and width, the rate searched on a log grid (factor 4) refined until it has tried
# neighbours within 2x, five pilots at the real budget (median; a rate at which one collapses is
# rejected); the width of every family chosen from its default and twice it, like the rate (the
# wider width's rate searched from around the default's); ten seeds.
_FULL_TRAINING = TrainingConfig(steps=400, epochs=30, max_steps=800, schedule="warmup-cosine",
                                lr_grid=(1e-3, 4e-3, 1.6e-2, 6.4e-2), n_pilots=5,
                                lr_sizes=(32, 256, 2048), max_extensions=4, width_factors=(1, 2))
_FULL_SEEDS = tuple(range(10))
_FULL_SIZES = tuple(16 * 2**k for k in range(9))  # 16, 32, ..., 4096


# The orbit shift and the parameter sweep compare sharing with the MLP and with what augmentation
# can do; the controls (subgroup, wrong group) are the sample-efficiency chapter's.
_ROBUSTNESS_FAMILIES = ("mlp", "mlp+aug", "mlp+aug+avg", "shared")
_FULL_WIDTHS = (("set", (4, 8, 16, 32, 64)), ("ring", (2, 4, 8, 12, 16)), ("grid", (2, 3, 4, 6, 8)))
_QUICK_WIDTHS = (("set", (4, 16)), ("ring", (4, 8)), ("grid", (2, 4)))

_CONFIGS = {
    ("robustness", False): AxisConfig("robustness", _FULL_SEEDS, (64, 256, 1024),
                                      families=_ROBUSTNESS_FAMILIES, training=_FULL_TRAINING),
    ("robustness", True): AxisConfig("robustness", (0, 1), (64, 256), families=_ROBUSTNESS_FAMILIES,
                                     training=_QUICK_TRAINING),
    ("sample-efficiency", False): AxisConfig("sample-efficiency", _FULL_SEEDS,
                                             _FULL_SIZES, training=_FULL_TRAINING),
    ("sample-efficiency", True): AxisConfig("sample-efficiency", (0, 1), (16, 64, 256, 1024),
                                            training=_QUICK_TRAINING),
    ("parameter-efficiency", False): AxisConfig("parameter-efficiency", _FULL_SEEDS, (64, 256, 1024),
                                                families=_ROBUSTNESS_FAMILIES, shared_widths=_FULL_WIDTHS,
                                                training=_FULL_TRAINING),
    ("parameter-efficiency", True): AxisConfig("parameter-efficiency", (0, 1), (64, 256),
                                               families=("mlp", "shared"), shared_widths=_QUICK_WIDTHS,
                                               training=_QUICK_TRAINING),
    ("generalization", False): AxisConfig("generalization", _FULL_SEEDS, (64, 256, 1024),
                                          training=_FULL_TRAINING),
    ("generalization", True): AxisConfig("generalization", (0, 1), (64, 256), training=_QUICK_TRAINING),
    ("symmetry-ladder", False): AxisConfig("symmetry-ladder", _FULL_SEEDS, tuple(16 * 4**k for k in range(5)),
                                           tasks=("ring",), families=("mlp", "shared"),
                                           training=_FULL_TRAINING),
    ("seed-variance", False): AxisConfig("seed-variance", _FULL_SEEDS, (256,), families=("mlp", "shared"),
                                         training=_FULL_TRAINING),
    ("seed-variance", True): AxisConfig("seed-variance", (0, 1), (256,), families=("mlp", "shared"),
                                        training=_QUICK_TRAINING),
    ("symmetry-ladder", True): AxisConfig("symmetry-ladder", (0, 1), (64, 256), tasks=("ring",),
                                          families=("mlp", "shared"), training=_QUICK_TRAINING),
}


# The four axes of the main study (the other entries of EXPERIMENTS extend it).
STUDY_AXES = ("robustness", "sample-efficiency", "parameter-efficiency", "generalization")


def config_for(experiment: str, quick: bool | None = None, seeds=None) -> AxisConfig:
    """The configuration of ``experiment``: quick when ``quick`` (default: ``is_quick()``);
    ``seeds`` (an int count or a list of seeds) overrides the seeds."""
    quick = is_quick() if quick is None else bool(quick)
    if (experiment, quick) not in _CONFIGS:
        known = ", ".join(sorted({name for name, _ in _CONFIGS}))
        raise KeyError(f"unknown experiment {experiment!r}; known: {known}")
    config = _CONFIGS[(experiment, quick)]
    if seeds is not None:
        config = dataclasses.replace(config, seeds=check_seeds(seeds))
    return config
