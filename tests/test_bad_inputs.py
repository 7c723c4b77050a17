"""The bad-input catalogue: every public entry point of docs/design.md, fed one bad argument at a time.

Each case asserts the exception type *and* a fragment of its message, which must name the bad
value and say what was expected: a ``ValueError`` / ``TypeError`` / ``KeyError`` raised at the
boundary, never an ``IndexError``, an ``AssertionError`` or a torch error from deep inside.
"""

import math

import pytest
import torch

from symsharing import paramspace
from symsharing.groups import (
    PermutationGroup,
    cyclic,
    dihedral,
    grid_dihedral,
    grid_rotation,
    reflection,
    symmetric,
)
from symsharing.metrics import accuracy, invariance_error, mse
from symsharing.models import MLP, SharedMLP, SigmaAsymmetricMLP, WAsymmetricMLP, count_parameters
from symsharing.sharing import InvariantReadout, SharedLinear
from symsharing.stats import confidence_interval
from symsharing.study.augment import augment
from symsharing.tasks import get_task
from symsharing.testing import assert_equivariant, assert_invariant
from symsharing.train import fit, seed_everything

C5, S4 = cyclic(5), symmetric(4)
X8 = torch.randn(16, 8)  # the set task's inputs
Y_SET = torch.randn(16, 1)
Y_CLASS = torch.randint(0, 2, (16,))


def mlp(n_in=8, n_out=1, width=6, depth=2):
    return MLP(n_in, n_out, width, depth)


def case(id, call, error, match, xfail=None):
    marks = [pytest.mark.xfail(strict=True, reason=xfail)] if xfail else []
    return pytest.param(call, error, match, id=id, marks=marks)


CATALOGUE = [
    # --- groups: PermutationGroup and its methods
    case("group-empty", lambda: PermutationGroup([]),
         ValueError, r"non-empty list of permutations, got \[\]"),
    case("group-repeated-point", lambda: PermutationGroup([[1, 0, 2], [0, 0, 1]]), ValueError,
         r"generator 1 is not a permutation of range\(3\): \[0, 0, 1\]"),
    case("group-out-of-range", lambda: PermutationGroup([[0, 1, 5]]), ValueError,
         r"generator 0 is not a permutation of range\(3\): \[0, 1, 5\]"),
    case("group-ragged", lambda: PermutationGroup([[0, 1, 2], [1, 0]]), ValueError,
         r"generator 1 has 2 points, expected 3"),
    case("group-float-entry", lambda: PermutationGroup([[0, 1.5]]), TypeError,
         r"generator 0 must hold ints, got 1\.5"),
    case("group-string", lambda: PermutationGroup("0123"), TypeError,
         r"generators must be a non-empty list of permutations, got str"),
    case("group-float-tensor", lambda: PermutationGroup(torch.eye(3)), TypeError,
         r"must hold integers, got a tensor of dtype torch.float32"),
    case("elements-over-limit", lambda: symmetric(6).elements(limit=100), ValueError,
         r"order 720, more than limit=100"),
    case("act-wrong-length", lambda: C5.act(torch.arange(4), torch.zeros(2, 5)), ValueError,
         r"group element must have shape \[5\] or \[batch, 5\], got \(4,\)"),
    case("act-not-a-permutation", lambda: C5.act(torch.tensor([0, 1, 2, 3, 3]), torch.zeros(2, 5)),
         ValueError, r"not a permutation of range\(5\): \[0, 1, 2, 3, 3\]"),
    case("act-float-element", lambda: C5.act(torch.arange(5.0), torch.zeros(5)), TypeError,
         r"LongTensor, got dtype torch.float32"),
    case("act-wrong-points", lambda: C5.act(torch.arange(5), torch.zeros(2, 6)), ValueError,
         r"x must have last dimension 5 .*got shape \(2, 6\)"),
    case("act-string-element", lambda: C5.act("01234", torch.zeros(5)), TypeError,
         r"group element must be a LongTensor \[5\], got '01234'"),
    case("act-x-not-tensor", lambda: C5.act(torch.arange(5), [0.0] * 5), TypeError,
         r"x must be a torch.Tensor, got list"),
    case("act-batch-mismatch", lambda: C5.act(C5.elements()[:3], torch.zeros(4, 5)), ValueError,
         r"a batch of 3 group elements needs x of shape \[3, \.\.\., 5\], got \(4, 5\)"),
    case("random-elements-negative", lambda: C5.random_elements(-2), ValueError, r"k must be >= 0, got -2"),
    case("random-elements-generator", lambda: C5.random_elements(3, generator=7), TypeError,
         r"generator must be a torch.Generator or None, got int"),
    # --- constructors
    case("cyclic-zero", lambda: cyclic(0), ValueError, r"cyclic: n must be >= 1, got 0"),
    case("symmetric-float", lambda: symmetric(4.0), TypeError, r"symmetric: n must be an int, got 4.0"),
    case("dihedral-string", lambda: dihedral("6"), TypeError, r"dihedral: n must be an int, got '6'"),
    case("reflection-bool", lambda: reflection(True), TypeError, r"reflection: n must be an int, got True"),
    case("grid-negative", lambda: grid_dihedral(-3), ValueError, r"grid_dihedral: n must be >= 1, got -3"),
    case("grid-rotation-order", lambda: grid_rotation(7, 8), ValueError,
         r"grid_rotation: order must be 2 \(half turns\) or 4 \(quarter turns\), got 8"),
    case("grid-rotation-order-type", lambda: grid_rotation(7, "4"), TypeError,
         r"grid_rotation: order must be an int, got '4'"),
    # --- sharing
    case("shared-linear-group", lambda: SharedLinear([[1, 0]], 1, 1), TypeError,
         r"group must be a PermutationGroup, got list"),
    case("shared-linear-channels", lambda: SharedLinear(C5, 0, 2),
         ValueError, r"in_channels must be >= 1, got 0"),
    case("shared-linear-bias", lambda: SharedLinear(C5, 1, 2, bias="yes"), TypeError,
         r"bias must be a bool, got 'yes'"),
    case("shared-linear-input", lambda: SharedLinear(C5, 2, 3)(torch.zeros(4, 3, 5)), ValueError,
         r"SharedLinear expects input \[batch, 2, 5\], got \(4, 3, 5\)"),
    case("shared-linear-dtype", lambda: SharedLinear(C5, 1, 1)(torch.zeros(4, 1, 5, dtype=torch.float64)),
         TypeError, r"input of dtype torch.float64 but its parameters are torch.float32"),
    case("readout-features", lambda: InvariantReadout(C5, 2, 0),
         ValueError, r"out_features must be >= 1, got 0"),
    case("readout-input", lambda: InvariantReadout(C5, 2, 3)(torch.zeros(4, 5)), ValueError,
         r"InvariantReadout expects input \[batch, 2, 5\], got \(4, 5\)"),
    # --- models
    case("mlp-n-in", lambda: MLP(0, 1, 4), ValueError, r"n_in must be >= 1, got 0"),
    case("mlp-depth", lambda: MLP(4, 1, 4, depth=-1), ValueError, r"depth must be >= 0 .*got -1"),
    case("mlp-width-float", lambda: MLP(4, 1, 4.5), TypeError, r"width must be an int, got 4.5"),
    case("mlp-input-shape", lambda: mlp()(torch.zeros(3, 7)),
         ValueError, r"MLP expects input \[batch, 8\], got \(3, 7\)"),
    case("mlp-input-ints", lambda: mlp()(torch.zeros(3, 8, dtype=torch.long)), TypeError,
         r"MLP expects a floating-point tensor, got dtype torch.int64"),
    case("mlp-input-numpy", lambda: mlp()(X8.numpy()), TypeError, r"MLP expects a torch.Tensor, got ndarray"),
    case("shared-mlp-group", lambda: SharedMLP("S4", 1, 4),
         TypeError, r"group must be a PermutationGroup, got str"),
    case("shared-mlp-input", lambda: SharedMLP(S4, 2, 3)(torch.zeros(3, 1, 4)), ValueError,
         r"SharedMLP expects input \[batch, 4\], got \(3, 1, 4\)"),
    case("count-parameters", lambda: count_parameters([torch.zeros(3)]), TypeError,
         r"count_parameters expects a torch.nn.Module, got list"),
    case("w-asym-too-many-fixed",
         lambda: WAsymmetricMLP(4, 2, 8, n_fixed=5, fixed_std=1.0, seed=0), ValueError,
         r"n_fixed must be in \[0, 4\] \(the fan-in of a layer with 4 inputs\), got 5"),
    case("w-asym-std", lambda: WAsymmetricMLP(4, 2, 8, n_fixed=1, fixed_std=-1.0, seed=0), ValueError,
         r"fixed_std must be a finite number >= 0, got -1.0"),
    case("sigma-asym-seed", lambda: SigmaAsymmetricMLP(4, 2, 8, seed="0"),
         TypeError, r"seed must be an int, got '0'"),
    case("w-asym-input", lambda: WAsymmetricMLP(4, 2, 8, n_fixed=1, fixed_std=1.0, seed=0)(torch.zeros(2, 5)),
         ValueError, r"WAsymmetricMLP expects input \[batch, 4\], got \(2, 5\)"),
    # --- tasks
    case("task-unknown", lambda: get_task("rng"), KeyError, r"unknown task 'rng'; known: set, ring, grid"),
    case("task-name-type", lambda: get_task(3), TypeError, r"task name must be a str, got 3"),
    case("sample-negative", lambda: get_task("set").sample(-1, 0),
         ValueError, r"n must be >= 0, got -1"),
    case("sample-seed-float", lambda: get_task("ring").sample(10, seed=1.5), TypeError,
         r"seed must be an int, got 1.5"),
    case("label-shape", lambda: get_task("grid").label(torch.zeros(3, 48)), ValueError,
         r"task 'grid': X must have shape \[batch, 49\], got \(3, 48\)"),
    case("sample-ood-negative", lambda: get_task("grid").sample_ood(-5, 0), ValueError,
         r"n must be >= 0, got -5"),
    case("label-not-tensor", lambda: get_task("set").label("x"),
         TypeError, r"X must be a torch.Tensor, got str"),
    case("label-3d", lambda: get_task("ring").label(torch.zeros(2, 16, 1)), ValueError,
         r"task 'ring': X must have shape \[batch, 16\], got \(2, 16, 1\)"),
    # --- training
    case("seed-everything-float", lambda: seed_everything(1.5), TypeError, r"seed must be an int, got 1.5"),
    case("fit-X-vector", lambda: fit(mlp(), torch.zeros(16), Y_SET, steps=1), ValueError,
         r"X must be a non-empty \[n, features\] tensor, got shape \(16,\)"),
    case("fit-X-empty", lambda: fit(mlp(), torch.zeros(0, 8), Y_SET[:0], steps=1), ValueError,
         r"X must be a non-empty \[n, features\] tensor, got shape \(0, 8\)"),
    case("fit-y-list", lambda: fit(mlp(), X8, [0.0] * 16, steps=1),
         TypeError, r"y must be a torch.Tensor, got list"),
    case("fit-steps", lambda: fit(mlp(), X8, Y_SET, steps=0),
         ValueError, r"steps must be >= 1, got 0"),
    case("fit-lr", lambda: fit(mlp(), X8, Y_SET, steps=1, lr=-0.1), ValueError,
         r"lr must be a positive number, got -0.1"),
    case("fit-lengths", lambda: fit(mlp(), X8, Y_SET[:5], steps=1), ValueError,
         r"X and y must have the same length, got 16 and 5"),
    case("fit-batch-size", lambda: fit(mlp(), X8, Y_SET, steps=1, batch_size=0), ValueError,
         r"batch_size must be >= 1 \(or None for full batch\), got 0"),
    case("fit-augment-group", lambda: fit(mlp(), X8, Y_SET, steps=1, augment_group="S8"), TypeError,
         r"augment_group must be a PermutationGroup or None, got str"),
    case("fit-augment-wrong-size", lambda: fit(mlp(), X8, Y_SET, steps=1, augment_group=C5), ValueError,
         r"augmentation by C5 acts on 5 points, but the inputs have 8 features"),
    case("fit-model-width", lambda: fit(mlp(n_in=7), X8, Y_SET, steps=1), ValueError,
         r"MLP expects input \[batch, 7\], got \(16, 8\)"),
    case("fit-model", lambda: fit("mlp", X8, Y_SET, steps=1),
         TypeError, r"model must be a torch.nn.Module, got str"),
    case("fit-seed-string", lambda: fit(mlp(), X8, Y_SET, steps=1, seed="a"),
         TypeError, r"seed must be an int, got 'a'"),
    case("fit-target-shape", lambda: fit(mlp(), X8, Y_SET[:, 0], steps=1), ValueError,
         r"float targets y must be \[n, n_outputs\], got shape \(16,\)"),
    case("fit-label-range", lambda: fit(mlp(n_out=1), X8, Y_CLASS + 1, steps=1), ValueError,
         r"class labels must lie in 0\.\.0 \(the model has 1 outputs\), got labels from 1 to 2"),
    # --- testing helpers
    case("assert-invariant-group", lambda: assert_invariant(mlp(n_in=5), "C5", torch.zeros(2, 5)), TypeError,
         r"group must be a PermutationGroup, got str"),
    case("assert-equivariant-elements",
         lambda: assert_equivariant(SharedLinear(C5, 1, 1), C5, torch.zeros(2, 1, 5), n_elements=0),
         ValueError, r"n_elements must be >= 1, got 0"),
    case("assert-invariant-atol",
         lambda: assert_invariant(mlp(n_in=5), C5, torch.zeros(2, 5), atol=-1), ValueError,
         r"atol must be None .* or a number >= 0, got -1"),
    # --- metrics
    case("mse-broadcast", lambda: mse(torch.zeros(4, 1), torch.zeros(4)), ValueError,
         r"mse expects outputs and y of the same shape, got \(4, 1\) and \(4,\)"),
    case("accuracy-float-labels", lambda: accuracy(torch.zeros(4, 2), torch.zeros(4)), TypeError,
         r"accuracy expects integer class labels y, got dtype torch.float32"),
    case("accuracy-shapes", lambda: accuracy(torch.zeros(4, 2), torch.zeros(3, dtype=torch.long)), ValueError,
         r"outputs \[batch, classes\] and y \[batch\], got \(4, 2\) and \(3,\)"),
    case("confidence-level", lambda: confidence_interval([1.0, 2.0], level=95), ValueError,
         r"level must be a number strictly between 0 and 1, got 95"),
    case("confidence-values", lambda: confidence_interval(["a", "b"]), TypeError,
         r"confidence_interval expects a sequence of numbers"),
    case("invariance-error-elements",
         lambda: invariance_error(mlp(n_in=5), C5, torch.zeros(2, 5), n_elements=0),
         ValueError, r"n_elements must be >= 1, got 0"),
    case("invariance-error-group", lambda: invariance_error(mlp(n_in=5), None, torch.zeros(2, 5)), TypeError,
         r"group must be a PermutationGroup, got NoneType"),
    # --- augmentation
    case("augment-group", lambda: augment("S8", X8),
         TypeError, r"augment_group must be a PermutationGroup, got str"),
    case("augment-shape", lambda: augment(C5, X8),
         ValueError, r"needs x of shape \[batch, \.\.\., 5\], got \(16, 8\)"),
    case("augment-list", lambda: augment(C5, [[0.0] * 5]), TypeError, r"torch.Tensor, got list"),
    # --- parameter space
    case("permute-count", lambda: paramspace.permute_hidden(mlp(), [torch.arange(6)]), ValueError,
         r"expected 2 perms \(one per hidden layer\), got 1"),
    case("permute-not-permutation",
         lambda: paramspace.permute_hidden(mlp(), [torch.arange(6), torch.zeros(6)]),
         ValueError, r"perms\[1\] is not a permutation of range\(6\)"),
    case("rescale-negative", lambda: paramspace.rescale_hidden(mlp(depth=1), [-torch.ones(6)]), ValueError,
         r"scales\[0\] must be 6 finite positive numbers"),
    case("interpolate-architectures",
         lambda: paramspace.interpolate(mlp(width=6), mlp(width=7), 0.5), ValueError,
         r"mismatched architectures"),
    case("interpolate-alpha", lambda: paramspace.interpolate(mlp(), mlp(), math.nan), ValueError,
         r"alpha must be finite, got nan"),
    case("weight-matching-types", lambda: paramspace.weight_matching(mlp(), SharedMLP(S4, 1, 4)), TypeError,
         r"both models must have the same type, got MLP and SharedMLP"),
    case("loss-barrier-points",
         lambda: paramspace.loss_barrier(mlp(), mlp(), X8, Y_SET, n_points=1), ValueError,
         r"n_points must be >= 2 \(alpha = 0 and 1 at least\), got 1"),
    # --- parameter space: training dynamics
    case("balance-gelu", lambda: paramspace.neuron_balance(MLP(8, 1, 6, activation="gelu")), TypeError,
         r"positive-rescaling symmetry .* activation='gelu'"),
    case("balance-sigma-asym", lambda: paramspace.neuron_balance(SigmaAsymmetricMLP(8, 1, 6, seed=0)),
         TypeError, r"SigmaAsymmetricMLP .* has none"),
    case("balance-w-asym",
         lambda: paramspace.neuron_balance(WAsymmetricMLP(8, 1, 6, n_fixed=1, fixed_std=1.0, seed=0)),
         ValueError, r"12 of the 12 hidden units .* nonzero fixed entry"),
    case("balance-not-a-model", lambda: paramspace.neuron_balance("mlp"), TypeError, r"got str"),
    case("teleport-steps", lambda: paramspace.teleport(mlp(), X8, Y_SET, steps=0, lr=0.1), ValueError,
         r"steps must be >= 1, got 0"),
    case("teleport-rate", lambda: paramspace.teleport(mlp(), X8, Y_SET, steps=2, lr=-1.0), ValueError,
         r"lr must be a finite positive number .*got -1.0"),
    case("teleport-no-symmetry",
         lambda: paramspace.teleport(SigmaAsymmetricMLP(8, 1, 6, seed=0), X8, Y_SET, steps=2, lr=0.1),
         ValueError, r"no hidden unit of this SigmaAsymmetricMLP keeps"),
    case("teleport-lengths", lambda: paramspace.teleport(mlp(), X8, Y_SET[:5], steps=2, lr=0.1), ValueError,
         r"y of the same length, got shapes \(16, 8\) and \(5, 1\)"),
    case("teleport-dtype", lambda: paramspace.teleport(mlp(), X8.double(), Y_SET, steps=2, lr=0.1),
         ValueError, r"model's dtype torch.float32, got torch.float64"),
    case("fit-optimizer", lambda: fit(mlp(), X8, Y_SET, steps=1, optimizer="lbfgs"), ValueError,
         r"optimizer must be one of adam, gd, sgd, momentum, got 'lbfgs'"),
    case("fit-gd-batch", lambda: fit(mlp(), X8, Y_SET, steps=1, optimizer="gd", batch_size=4), ValueError,
         r"'gd' is full-batch gradient descent: batch_size must be None"),
    case("fit-momentum", lambda: fit(mlp(), X8, Y_SET, steps=1, optimizer="momentum", momentum=1.0),
         ValueError, r"momentum must be a number in \[0, 1\), got 1.0"),
]


def test_catalogue_is_large_and_distinct():
    ids = [param.id for param in CATALOGUE]
    assert len(ids) == len(set(ids)) and len(ids) >= 30


@pytest.mark.parametrize(("call", "error", "match"), CATALOGUE)
def test_bad_input(call, error, match):
    with pytest.raises(error, match=match) as caught:
        call()
    assert not isinstance(caught.value, (IndexError, AssertionError))
