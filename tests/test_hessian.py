"""paramspace.hessian: the generators of the rescaling symmetry, the two identities they imply,
and the Hessian's null space at a minimum."""

import copy
import math

import pytest
import torch

from symsharing.groups import symmetric
from symsharing.models import MLP, SharedMLP, SigmaAsymmetricMLP, WAsymmetricMLP
from symsharing.paramspace import (
    hessian_eigenvalues,
    null_space_size,
    rescale_hidden,
    rescaling_generators,
    symmetry_identities,
    zero_loss_minimum,
)
from symsharing.paramspace.dynamics import centred
from symsharing.paramspace.hessian import flat_loss, free_parameters

pytestmark = pytest.mark.usefixtures("single_torch_thread")


def _data(dtype=torch.float64, n=200, d=6, outputs=2):
    generator = torch.Generator().manual_seed(0)
    return (torch.randn(n, d, generator=generator, dtype=dtype),
            torch.randn(n, outputs, generator=generator, dtype=dtype))


def test_generator_rows_are_the_derivative_of_the_rescaling():
    torch.manual_seed(0)
    model = MLP(6, 2, 4, 2).double()
    _, theta = flat_loss(model, *_data())
    generators = rescaling_generators(model)
    assert generators.shape == (8, len(theta))
    for index in (0, 5):  # unit 0 of layer 0, unit 1 of layer 1
        layer, unit = divmod(index, 4)
        step = 1e-6
        scales = [torch.ones(4, dtype=torch.float64), torch.ones(4, dtype=torch.float64)]
        scales[layer][unit] = math.exp(step)
        _, moved = flat_loss(rescale_hidden(model, scales), *_data())
        expected = generators[index].double() * theta
        torch.testing.assert_close((moved - theta) / step, expected, atol=1e-5, rtol=0)


def test_shared_mlp_has_one_generator_per_channel_and_asymmetric_networks_none():
    assert len(rescaling_generators(SharedMLP(symmetric(6), 2, 3, 2))) == 6
    assert len(rescaling_generators(SigmaAsymmetricMLP(6, 2, 4, seed=0))) == 0
    assert len(rescaling_generators(WAsymmetricMLP(6, 2, 4, n_fixed=1, fixed_std=1.0, seed=0))) == 0


@pytest.mark.parametrize("dtype, tolerance", [(torch.float64, 1e-11), (torch.float32, 1e-4)])
@pytest.mark.parametrize("make", [lambda: MLP(6, 2, 5, 2), lambda: SharedMLP(symmetric(6), 2, 3, 2)])
def test_both_identities_hold_at_random_and_trained_points(dtype, tolerance, make):
    from symsharing.train import fit

    torch.manual_seed(1)
    model = make().to(dtype)
    X, y = _data(dtype)
    before = symmetry_identities(model, X, y)
    fit(model, X, y, steps=30, lr=1e-2)
    after = symmetry_identities(model, X, y)
    for found in (before, after):
        assert found["generators"] > 0
        assert found["gradient"] <= tolerance and found["hessian"] <= tolerance


def test_a_broken_identity_would_be_seen():
    """The check is not vacuous: a loss that is *not* invariant (an L2 penalty on the inputs' layer
    alone) violates the gradient identity by order one."""
    torch.manual_seed(2)
    model = MLP(6, 2, 5, 1).double()
    X, y = _data()
    loss, theta = flat_loss(model, X, y)
    first = model.layers[0].weight.numel()
    penalised = lambda t: loss(t) + (t[:first] ** 2).sum()  # noqa: E731
    gradient = torch.func.grad(penalised)(theta)
    direction = rescaling_generators(model)[0].double() * theta
    assert abs(float(gradient @ direction)) / float(gradient.norm() * direction.norm()) > 1e-3


def test_null_space_at_a_teacher_minimum_counts_the_generators():
    X = _data(n=600)[0]
    torch.manual_seed(3)
    teacher = centred(MLP(6, 2, 4, 2).double(), X)
    with torch.no_grad():
        y = teacher(X)
        student = copy.deepcopy(teacher)
        for p in student.parameters():
            p.add_(0.01 * torch.randn_like(p))
    minimum, gradient = zero_loss_minimum(student, X, y, steps=40)
    assert gradient <= 1e-12
    found = null_space_size(hessian_eigenvalues(minimum, X, y), 1e-12)
    assert found["count"] == len(rescaling_generators(minimum)) == 8
    assert found["gap"] > 1e4


def test_cross_entropy_adds_one_translation_per_last_hidden_unit_and_the_bias():
    X = _data(n=400)[0]
    torch.manual_seed(4)
    model = centred(MLP(6, 3, 5, 2).double(), X)
    labels = torch.randint(0, 3, (len(X),), generator=torch.Generator().manual_seed(5))
    assert null_space_size(hessian_eigenvalues(model, X, labels), 1e-12)["count"] == 5 + 1


def test_free_parameters_drop_the_fixed_entries():
    model = WAsymmetricMLP(6, 2, 4, 1, n_fixed=2, fixed_std=1.0, seed=0)
    free = free_parameters(model)
    assert len(free) == sum(p.numel() for p in model.parameters())
    assert int((~free).sum()) == 2 * 4 + 2 * 2  # two per row of each weight matrix


@pytest.mark.parametrize("call, error, match", [
    (lambda: null_space_size(torch.ones(3), 0.0), ValueError, r"rtol must be a number in \(0, 1\)"),
    (lambda: zero_loss_minimum(MLP(6, 2, 3).double(), _data()[0], torch.zeros(200, dtype=torch.long)),
     ValueError, "fits float targets"),
    (lambda: hessian_eigenvalues(MLP(6, 2, 3), *_data()), ValueError, "model's dtype"),
    (lambda: symmetry_identities(MLP(6, 2, 3).double(), [[0.0]], _data()[1]), TypeError, "torch.Tensors"),
])
def test_bad_inputs(call, error, match):
    with pytest.raises(error, match=match):
        call()
