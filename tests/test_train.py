"""fit: deterministic training of one model, its random draws, its checks and divergence."""

import math
import random

import numpy as np
import pytest
import torch

from symsharing.engine.draws import CHUNK_STEPS, DrawStream
from symsharing.groups import cyclic, symmetric
from symsharing.models import MLP, SharedMLP
from symsharing.train import fit, loss_function, seed_everything

DTYPES = [torch.float32, torch.float64]


# One torch thread: these are correctness tests, and two threads crawl on a shared 2-core machine.
pytestmark = pytest.mark.usefixtures("single_torch_thread")


def _regression(n=24, d=6, dtype=torch.float32, seed=0):
    generator = torch.Generator().manual_seed(seed)
    X = torch.randn(n, d, generator=generator, dtype=dtype)
    return X, X.sum(1, keepdim=True).sin()  # (n, d), (n, 1)


def _weights(model):
    return [p.detach().clone() for p in model.parameters()]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("family", ["mlp", "shared"])
def test_same_seed_gives_bit_identical_weights(dtype, family):
    X, y = _regression(dtype=dtype)
    runs = []
    for _ in range(2):
        torch.manual_seed(3)
        model = (MLP(6, 1, 8) if family == "mlp" else SharedMLP(cyclic(6), 1, 3)).to(dtype)
        history = fit(model, X, y, steps=2 * CHUNK_STEPS + 3, lr=1e-2, batch_size=5, seed=11,
                      augment_group=symmetric(6) if family == "mlp" else None)
        runs.append((_weights(model), history["loss"]))
    (w1, l1), (w2, l2) = runs
    assert all(torch.equal(a, b) for a, b in zip(w1, w2, strict=True))
    assert l1 == l2
    assert len(l1) == 2 * CHUNK_STEPS + 3


def test_different_seeds_draw_different_batches():
    X, y = _regression()
    weights = []
    for seed in (0, 1):
        torch.manual_seed(3)
        model = MLP(6, 1, 8)
        fit(model, X, y, steps=5, batch_size=4, seed=seed)
        weights.append(_weights(model))
    assert not all(torch.equal(a, b) for a, b in zip(*weights, strict=True))


@pytest.mark.parametrize("dtype", DTYPES)
def test_fit_lowers_the_loss(dtype):
    X, y = _regression(n=64, dtype=dtype)
    torch.manual_seed(0)
    model = MLP(6, 1, 16).to(dtype)
    history = fit(model, X, y, steps=200, lr=1e-2)
    assert history["loss"][-1] < 0.5 * history["loss"][0]
    assert not history["diverged"] and history["seconds"] > 0
    assert not model.training


def test_full_batch_without_augmentation_needs_no_seed():
    X, y = _regression()
    results = []
    for seed in (0, 1):
        torch.manual_seed(3)
        model = MLP(6, 1, 8)
        results.append(fit(model, X, y, steps=4, seed=seed)["loss"])
    assert results[0] == results[1]


def test_classification_uses_cross_entropy():
    X, _ = _regression(n=30)
    labels = (X[:, 0] > 0).long()
    torch.manual_seed(0)
    model = MLP(6, 2, 16)
    with torch.no_grad():
        initial = float(loss_function(model(X), labels))
    history = fit(model, X, labels, steps=100, lr=1e-2)
    assert history["loss"][0] == pytest.approx(initial, rel=1e-6)
    assert history["loss"][-1] < history["loss"][0]


def test_divergence_stops_the_run():
    X, y = _regression()
    torch.manual_seed(0)
    model = MLP(6, 1, 8)
    history = fit(model, X * 1e30, y, steps=10)
    assert history["diverged"]
    assert not math.isfinite(history["loss"][-1])
    assert all(math.isfinite(v) for v in history["loss"][:-1])


@pytest.mark.parametrize("batch_size", [None, 3])
def test_draw_stream_matches_group_action(batch_size):
    group = cyclic(5)
    stream = DrawStream(7, n=10, features=5, batch_size=batch_size, group=group)
    index, inverse = stream.draw(4)
    assert (index is None) == (batch_size is None)
    batch = 10 if batch_size is None else 3
    assert inverse.shape == (4, batch, 5)
    # the same generator, drawn the same way, gives the elements whose inverses these are
    generator = torch.Generator().manual_seed(7)
    if batch_size is not None:
        assert torch.equal(torch.randint(10, (4, 3), generator=generator), index)
    elements = group.random_elements(4 * batch, generator=generator).view(4, batch, 5)
    x = torch.randn(batch, 5, dtype=torch.float64)
    for t in range(4):
        assert torch.equal(x.gather(-1, inverse[t]), group.act(elements[t], x))


def test_draw_stream_rejects_a_group_of_the_wrong_size():
    with pytest.raises(ValueError, match="acts on 5 points, but the inputs have 6 features"):
        DrawStream(0, n=10, features=6, batch_size=None, group=cyclic(5))


@pytest.mark.parametrize("call, error, match", [
    (lambda X, y: fit(MLP(6, 1, 4), X, y, steps=1, seed="a"), TypeError, "seed must be an int"),
    (lambda X, y: fit(MLP(6, 1, 4), X, y[:, 0], steps=1), ValueError, r"y must be \[n, n_outputs\]"),
    (lambda X, y: fit(MLP(6, 2, 4), X, y.long()[:, 0] + 5, steps=1), ValueError, "class labels must lie"),
    (lambda X, y: fit(MLP(6, 2, 4), X, y.repeat(1, 3), steps=1), ValueError, "n_outputs = 2"),
    (lambda X, y: fit(MLP(6, 1, 4), X, y, steps=0), ValueError, "steps must be >= 1"),
    (lambda X, y: fit(MLP(6, 1, 4).requires_grad_(False), X, y, steps=1), ValueError,
     "no trainable parameters"),
])
def test_fit_rejects_bad_arguments(call, error, match):
    X, y = _regression()
    with pytest.raises(error, match=match):
        call(X, y)


def test_seed_everything_seeds_every_rng():
    generator = seed_everything(5)
    a = (random.random(), np.random.rand(), torch.rand(1).item(), torch.rand(1, generator=generator).item())
    generator = seed_everything(5)
    b = (random.random(), np.random.rand(), torch.rand(1).item(), torch.rand(1, generator=generator).item())
    assert a == b
    with pytest.raises(TypeError, match="seed must be an int"):
        seed_everything(1.5)


def test_seed_everything_turns_on_deterministic_algorithms():
    seed_everything(0)
    assert torch.are_deterministic_algorithms_enabled()
    assert torch.is_deterministic_algorithms_warn_only_enabled()
