"""paramspace.bayes and paramspace.variational: Bayesian layers with fixed entries, their KL
divergence, training by the ELBO, the posterior predictive and its calibration error."""

import math

import pytest
import torch
from torch import nn

from symsharing.models import MLP, WAsymmetricMLP
from symsharing.paramspace import (
    BayesianLinear,
    BayesianMLP,
    expected_calibration_error,
    fit_variational,
    gaussian_kl,
    posterior_scores,
)

pytestmark = pytest.mark.usefixtures("single_torch_thread")
DTYPES = [torch.float32, torch.float64]
TOLERANCE = {torch.float32: 1e-5, torch.float64: 1e-12}


def _zero_variance(module: nn.Module) -> nn.Module:
    with torch.no_grad():
        for layer in module.modules():
            if isinstance(layer, BayesianLinear):
                layer.weight_logvar.fill_(-math.inf)
                layer.bias_logvar.fill_(-math.inf)
                if layer.rank:
                    layer.factors.zero_()
                    layer.bias_factors.zero_()
    return module


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("rank", [0, 3])
def test_a_layer_with_zero_variance_is_the_deterministic_layer(dtype, rank):
    torch.manual_seed(0)
    plain = nn.Linear(7, 5).to(dtype)
    fixed = WAsymmetricMLP(7, 5, 4, depth=0, n_fixed=3, fixed_std=0.5, seed=1).layers[0].to(dtype)
    bayesian = _zero_variance(BayesianLinear.from_layers([plain, fixed], rank=rank).to(dtype))
    x = torch.randn(11, 7, dtype=dtype)
    outputs = bayesian(x)  # (2, 11, 5), sampled
    with torch.no_grad():
        torch.testing.assert_close(outputs[0], plain(x), atol=TOLERANCE[dtype], rtol=TOLERANCE[dtype])
        torch.testing.assert_close(outputs[1], fixed(x), atol=TOLERANCE[dtype], rtol=TOLERANCE[dtype])
    torch.testing.assert_close(bayesian(x, sample=False), outputs)


@pytest.mark.parametrize("dtype", DTYPES)
def test_a_bayesian_mlp_with_zero_variance_is_the_networks_it_was_built_from(dtype):
    torch.manual_seed(0)
    networks = [MLP(6, 3, 8, depth=2, layer_norm=True).to(dtype),
                WAsymmetricMLP(6, 3, 8, depth=2, n_fixed=2, fixed_std=0.5, seed=0, layer_norm=True).to(dtype)]
    with torch.no_grad():
        for network in networks:  # LayerNorm affine weights away from their defaults
            for norm in network.norms:
                norm.weight.uniform_(0.5, 1.5)
                norm.bias.uniform_(-0.5, 0.5)
    bayesian = _zero_variance(BayesianMLP.from_networks(networks, rank=2, learn_diag=False).to(dtype))
    x = torch.randn(9, 6, dtype=dtype)
    outputs = bayesian(x)
    with torch.no_grad():
        for k, network in enumerate(networks):
            torch.testing.assert_close(outputs[k], network(x), atol=TOLERANCE[dtype], rtol=TOLERANCE[dtype])


def test_fixed_entries_have_no_gradient_and_no_variance():
    torch.manual_seed(0)
    mask = torch.rand(4, 6) < 0.5
    layer = BayesianLinear(6, 4, fixed_mask=mask, fixed_values=torch.randn(4, 6), rank=2)
    x = torch.randn(5, 6)
    layer(x).sum().backward()
    assert torch.all(layer.weight.grad[0][mask] == 0)
    assert torch.all(layer.factors.grad[0][:, mask] == 0)
    with torch.no_grad():  # a huge variance on the fixed entries changes nothing
        layer.weight_logvar[0][mask] = 10.0
        layer.factors[0][:, mask] = 100.0
    torch.manual_seed(1)
    noisy = layer(x)
    with torch.no_grad():
        layer.weight_logvar[0][mask] = -10.0
        layer.factors[0][:, mask] = 0.0
    torch.manual_seed(1)
    torch.testing.assert_close(layer(x), noisy)


def test_sampled_outputs_have_the_posterior_variance():
    torch.manual_seed(0)
    layer = BayesianLinear(3, 2, rank=2, init_logvar=-2.0, learn_diag=True).double()
    x = torch.randn(1, 3, dtype=torch.float64)
    samples = torch.cat([layer(x.expand(4000, 3))[0] for _ in range(10)])  # (40000, 2)
    free_var = (x**2) @ layer.weight_logvar[0].exp().T + layer.bias_logvar[0].exp()  # (1, 2)
    projected = torch.einsum("bi,roi->rbo", x, layer.factors[0]) + layer.bias_factors[0][:, None]  # (r, 1, 2)
    expected = free_var[0] + projected.pow(2).sum(0)[0] / 2
    # 40,000 samples: the variance estimate's relative standard error is about 0.7 %; 5 % is > 7 of them
    torch.testing.assert_close(samples.var(0), expected.detach(), rtol=0.05, atol=0)


@pytest.mark.parametrize("rank", [0, 2])
def test_gaussian_kl_matches_torch_distributions(rank):
    generator = torch.Generator().manual_seed(0)
    d, prior = 5, 0.7
    mean = torch.randn(1, d, generator=generator, dtype=torch.float64)
    variance = torch.rand(1, d, generator=generator, dtype=torch.float64) + 0.1
    factors = torch.randn(1, rank, d, generator=generator, dtype=torch.float64) if rank else None
    covariance = torch.diag(variance[0]) + (factors[0].T @ factors[0] / rank if rank else 0)
    q = torch.distributions.MultivariateNormal(mean[0], covariance)
    p = torch.distributions.MultivariateNormal(torch.zeros(d, dtype=torch.float64),
                                               prior * torch.eye(d, dtype=torch.float64))
    expected = torch.distributions.kl_divergence(q, p)
    torch.testing.assert_close(gaussian_kl(mean, variance, factors, prior)[0], expected)
    free = torch.tensor([[True, False, True, True, False]])  # the KL of the free coordinates alone
    sub = torch.distributions.MultivariateNormal(mean[0][free[0]], covariance[free[0]][:, free[0]])
    p_sub = torch.distributions.MultivariateNormal(torch.zeros(3, dtype=torch.float64),
                                                   prior * torch.eye(3, dtype=torch.float64))
    torch.testing.assert_close(gaussian_kl(mean, variance, factors, prior, free)[0],
                               torch.distributions.kl_divergence(sub, p_sub))


def test_fit_variational_raises_the_elbo_and_is_deterministic():
    torch.manual_seed(0)
    X, y = torch.randn(60, 6), torch.randint(3, (60,))

    def train():
        torch.manual_seed(0)
        model = BayesianMLP.from_networks([MLP(6, 3, 8, depth=1, layer_norm=True) for _ in range(2)], rank=0)
        curves = fit_variational(model, X, y, steps=80, lr=1e-2, batch_size=16, seed=3, X_test=X, y_test=y,
                                 checkpoints=[0, 80])
        return model, curves

    model, curves = train()
    again, repeat = train()
    assert curves == repeat
    assert all(after > before for before, after in zip(curves["elbo"][0], curves["elbo"][1], strict=True))
    assert all(after > before for before, after in zip(curves["test_accuracy"][0], curves["test_accuracy"][1],
                                                     strict=True))
    scores = posterior_scores(model, X, y, samples=5)
    assert len(scores) == 2 and all(0 <= s["ece"] <= 1 and 0 <= s["accuracy"] <= 1 for s in scores)


def test_expected_calibration_error_on_hand_made_predictions():
    y = torch.tensor([0, 1, 0, 1])
    certain = torch.log(torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0], [0.0, 1.0]]))
    assert expected_calibration_error(certain, y) == 0.0
    overconfident = torch.log(torch.tensor([[0.9, 0.1]] * 4))  # always class 0 at 0.9: half right
    assert expected_calibration_error(overconfident, y) == pytest.approx(0.4)


@pytest.mark.parametrize("call, error, match", [
    (lambda: BayesianLinear(0, 3), ValueError, "in_features"),
    (lambda: BayesianLinear(3, 2, fixed_mask=torch.zeros(3, 3, dtype=torch.bool)), ValueError, "fixed_mask"),
    (lambda: BayesianLinear(3, 2, fixed_mask=[[True]]), TypeError, "fixed_mask"),
    (lambda: BayesianLinear(3, 2, rank=0, learn_diag=False), ValueError, "learn_diag"),
    (lambda: BayesianLinear(3, 2, prior_precision=0.0), ValueError, "prior_precision"),
    (lambda: BayesianLinear(3, 2)(torch.randn(4, 5)), ValueError, "expects x"),
    (lambda: BayesianLinear.from_layers([nn.Linear(3, 2), nn.Linear(3, 4)]), ValueError, "one shape"),
    (lambda: BayesianLinear.from_layers([nn.Conv1d(1, 1, 1)]), TypeError, "nn.Linear"),
    (lambda: BayesianMLP.from_networks([MLP(3, 2, 4)]), TypeError, "layer_norm=True"),
    (lambda: fit_variational(nn.Linear(3, 2), torch.randn(4, 3), torch.zeros(4, dtype=torch.long), steps=1),
     TypeError, "BayesianMLP"),
    (lambda: fit_variational(BayesianMLP.from_networks([MLP(3, 2, 4, layer_norm=True)]), torch.randn(4, 3),
                             torch.zeros(4), steps=1), TypeError, "integer class labels"),
    (lambda: fit_variational(BayesianMLP.from_networks([MLP(3, 2, 4, layer_norm=True)]), torch.randn(4, 3),
                             torch.zeros(4, dtype=torch.long), steps=2, checkpoints=[3]),
     ValueError, "checkpoints"),
    (lambda: expected_calibration_error(torch.zeros(3, 2), torch.zeros(2, dtype=torch.long)), ValueError,
     "log_probs"),
])
def test_bad_inputs_are_named(call, error, match):
    torch.manual_seed(0)
    with pytest.raises(error, match=match):
        call()
