"""activation_matching and repair (Jordan et al. 2023, REPAIR), through the paramspace entry point."""

import pytest
import torch
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from symsharing.models import MLP, SigmaAsymmetricMLP, WAsymmetricMLP
from symsharing.paramspace import activation_matching, interpolate, permute_hidden, repair, weight_matching
from symsharing.paramspace.matching import hidden_states
from symsharing.train import fit

DTYPES = [torch.float32, torch.float64]


def mlp(seed, dtype=torch.float32, width=12, depth=2, n_in=5, n_out=3):
    torch.manual_seed(seed)
    return MLP(n_in, n_out, width, depth).to(dtype)


def data(dtype=torch.float32, n=256, n_in=5, seed=0):
    return torch.randn(n, n_in, generator=torch.Generator().manual_seed(seed), dtype=torch.float64).to(dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 10_000), depth=st.integers(1, 3))
def test_activation_matching_recovers_a_hidden_permutation(dtype, seed, depth):
    a = mlp(seed, dtype, depth=depth)
    X = data(dtype, n=512)
    # a unit that is constant on X (dead ReLU) has no correlation to match by: ties are arbitrary
    assume(all(bool((post.std(0) > 1e-6).all()) for post in hidden_states(a, X)[1]))
    generator = torch.Generator().manual_seed(seed)
    perms = [torch.randperm(a.width, generator=generator) for _ in range(depth)]
    shuffled = permute_hidden(a, perms)  # the same function, units in another order
    found = activation_matching(a, shuffled, X)
    aligned = permute_hidden(shuffled, found)
    for name, parameter in a.named_parameters():
        assert torch.equal(dict(aligned.named_parameters())[name], parameter), name


def test_activation_matching_beats_no_alignment_on_trained_networks():
    X = data(n=300)
    y = (X[:, 0] * X[:, 1] > 0).long()
    a, b = mlp(1, width=16), mlp(2, width=16)
    for model, seed in ((a, 1), (b, 2)):
        fit(model, X, y, steps=300, lr=1e-2, seed=seed)
    found = activation_matching(a, b, X)
    post_a = hidden_states(a, X)[1]
    post_unaligned = hidden_states(b, X)[1]
    post_aligned = hidden_states(permute_hidden(b, found), X)[1]

    def mean_correlation(p, q):
        p, q = p - p.mean(0), q - q.mean(0)
        return float(((p * q).sum(0) / (p.norm(dim=0) * q.norm(dim=0) + 1e-8)).mean())

    for layer in range(a.depth):
        assert mean_correlation(post_a[layer], post_aligned[layer]) > \
            mean_correlation(post_a[layer], post_unaligned[layer]) + 0.05


@pytest.mark.parametrize("dtype", DTYPES)
def test_repair_sets_interpolated_statistics(dtype):
    a, b = mlp(3, dtype), mlp(4, dtype)
    b = permute_hidden(b, weight_matching(a, b))
    X = data(dtype)
    alpha = 0.3
    repaired = repair(a, b, X, alpha)
    pre_a, pre_b, pre_r = (hidden_states(model, X)[0] for model in (a, b, repaired))
    tolerance = 1e-4 if dtype == torch.float32 else 1e-9
    for z_a, z_b, z_r in zip(pre_a, pre_b, pre_r, strict=True):
        torch.testing.assert_close(z_r.mean(0), (1 - alpha) * z_a.mean(0) + alpha * z_b.mean(0),
                                   atol=tolerance * 10, rtol=tolerance * 10)
        target = (1 - alpha) * z_a.std(0, unbiased=False) + alpha * z_b.std(0, unbiased=False)
        torch.testing.assert_close(z_r.std(0, unbiased=False), target, atol=1e-3 if dtype == torch.float32
                                   else 1e-4, rtol=1e-3 if dtype == torch.float32 else 1e-4)
    # the plain interpolation has collapsed spread: REPAIR changes it
    plain = hidden_states(interpolate(a, b, alpha), X)[0][0].std(0, unbiased=False)
    assert not torch.allclose(plain, pre_r[0].std(0, unbiased=False), atol=1e-3)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("alpha", [0.0, 1.0])
def test_repair_at_an_endpoint_is_that_endpoint(dtype, alpha):
    """Only eps separates the repaired endpoint from the endpoint: scale = std / (std + eps)."""
    a, b = mlp(5, dtype), mlp(6, dtype)
    X = data(dtype)
    endpoint = a if alpha == 0.0 else b
    torch.testing.assert_close(repair(a, b, X, alpha)(X), endpoint(X), atol=1e-3, rtol=1e-3)
    if dtype == torch.float64:
        torch.testing.assert_close(repair(a, b, X, alpha, eps=1e-12)(X), endpoint(X), atol=1e-9, rtol=1e-9)


def test_repair_returns_a_new_mlp_and_leaves_inputs_alone():
    a, b = mlp(7), mlp(8)
    before = [p.clone() for p in a.parameters()]
    repaired = repair(a, b, data(), 0.5)
    assert type(repaired) is MLP and repaired is not a
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), before, strict=True))


def test_repair_handles_a_dead_unit_without_dividing_by_zero():
    a, b = mlp(9), mlp(10)
    with torch.no_grad():
        for model in (a, b):
            model.layers[0].weight[0].zero_()  # unit 0 is constant on every input
    repaired = repair(a, b, data(), 0.5)
    assert all(torch.isfinite(p).all() for p in repaired.parameters())


def test_repair_works_on_sigma_asymmetric_networks():
    torch.manual_seed(0)
    a = SigmaAsymmetricMLP(5, 3, 8, seed=1)
    b = SigmaAsymmetricMLP(5, 3, 8, seed=1)
    assert type(repair(a, b, data(), 0.5)) is SigmaAsymmetricMLP


@pytest.mark.parametrize("call, error, message", [
    (lambda a, b, X: repair(a, b, X, 1.5), ValueError, "alpha must lie in"),
    (lambda a, b, X: repair(a, b, X, -0.1), ValueError, "alpha must lie in"),
    (lambda a, b, X: repair(a, b, X, "half"), TypeError, "alpha must be a real number"),
    (lambda a, b, X: repair(a, b, X[:, :3], 0.5), ValueError, "X must be"),
    (lambda a, b, X: repair(a, b, X.numpy(), 0.5), TypeError, "X must be a torch.Tensor"),
    (lambda a, b, X: repair(a, mlp(1, width=7), X, 0.5), ValueError, "mismatched architectures"),
    (lambda a, b, X: activation_matching(a, mlp(1, width=7), X), ValueError, "mismatched architectures"),
    (lambda a, b, X: activation_matching(a, b, X[:1]), ValueError, "n >= 2"),
    (lambda a, b, X: activation_matching(torch.nn.Linear(5, 3), b, X), TypeError, "needs MLPs"),
])
def test_bad_inputs_are_clear_errors(call, error, message):
    with pytest.raises(error, match=message):
        call(mlp(11), mlp(12), data())


def test_repair_rejects_w_asymmetric_networks():
    torch.manual_seed(0)
    a = WAsymmetricMLP(5, 3, 8, n_fixed=2, fixed_std=0.5, seed=1)
    b = WAsymmetricMLP(5, 3, 8, n_fixed=2, fixed_std=0.5, seed=1)
    with pytest.raises(TypeError, match="frozen entries"):
        repair(a, b, data(), 0.5)
