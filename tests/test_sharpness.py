"""paramspace.sharpness: power iteration and trace against the full Hessian; the adaptive measures
are invariant along the rescaling orbit, the plain ones are not."""

import pytest
import torch

from symsharing.models import MLP
from symsharing.paramspace import hessian_trace, permute_hidden, rescale_hidden, top_hessian_eigenvalue
from symsharing.paramspace.hessian import flat_loss
from symsharing.train import fit

pytestmark = pytest.mark.usefixtures("single_torch_thread")


def _trained():
    generator = torch.Generator().manual_seed(0)
    X = torch.randn(120, 5, generator=generator, dtype=torch.float64)
    y = torch.randn(120, 1, generator=generator, dtype=torch.float64)
    torch.manual_seed(0)
    model = MLP(5, 1, 6, 2).double()
    fit(model, X, y, steps=200, lr=1e-2)
    return model, X, y


def _full_hessian(model, X, y):
    loss, theta = flat_loss(model, X, y)
    return torch.func.hessian(loss)(theta), theta


def test_power_iteration_and_trace_match_the_full_hessian():
    model, X, y = _trained()
    hessian, theta = _full_hessian(model, X, y)
    eigenvalues = torch.linalg.eigvalsh(hessian)
    top = float(eigenvalues.abs().max())
    assert top_hessian_eigenvalue(model, X, y, iterations=2000, tol=1e-13) == pytest.approx(top, rel=1e-6)
    assert hessian_trace(model, X, y) == pytest.approx(float(torch.trace(hessian)), rel=1e-10)
    scaled = theta.abs()[:, None] * hessian * theta.abs()[None, :]
    assert hessian_trace(model, X, y, adaptive=True) == pytest.approx(float(torch.trace(scaled)), rel=1e-10)
    estimate = hessian_trace(model, X, y, samples=400, seed=1)
    assert estimate == pytest.approx(float(torch.trace(hessian)), rel=0.5)  # Hutchinson: unbiased, noisy


def test_rescaling_moves_plain_sharpness_and_not_the_adaptive_one():
    model, X, y = _trained()
    moved = rescale_hidden(model, [torch.full((6,), 100.0), torch.ones(6)])
    with torch.no_grad():
        assert float((moved(X) - model(X)).abs().max()) <= 1e-12
    assert top_hessian_eigenvalue(moved, X, y) > 20 * top_hessian_eigenvalue(model, X, y)
    assert hessian_trace(moved, X, y) > 20 * hessian_trace(model, X, y)
    for measure in (lambda m: hessian_trace(m, X, y, adaptive=True),
                    lambda m: top_hessian_eigenvalue(m, X, y, adaptive=True, iterations=2000, tol=1e-14)):
        assert measure(moved) == pytest.approx(measure(model), rel=1e-8)
    permuted = permute_hidden(model, [torch.randperm(6), torch.randperm(6)])
    adaptive = hessian_trace(model, X, y, adaptive=True)
    assert hessian_trace(permuted, X, y, adaptive=True) == pytest.approx(adaptive, rel=1e-10)


def test_bad_inputs():
    model, X, y = _trained()
    with pytest.raises(ValueError, match="iterations must be >= 1"):
        top_hessian_eigenvalue(model, X, y, iterations=0)
    with pytest.raises(ValueError, match="samples must be >= 1"):
        hessian_trace(model, X, y, samples=0)
    with pytest.raises(ValueError, match="model's dtype"):
        hessian_trace(model, X.float(), y)
