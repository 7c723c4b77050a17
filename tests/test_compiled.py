"""Tests for ``symsharing.engine.compiled``: compiled MLP stacks train the same models as the eager
path up to float rounding (a stated tolerance), are bit-identical for any worker count, compile
one graph per architecture whatever K and the batch, and leave other modules (SharedMLP too) eager."""

import copy

import pytest
import torch
from torch._dynamo.utils import counters

from symsharing.engine import cache
from symsharing.groups import cyclic
from symsharing.models import MLP, SharedMLP
from symsharing.train import fit_many

STEPS = 24
# Weights move by about 0.1-0.3 in these runs; compiled and eager differ by float rounding
# compounded over the steps (observed: < 1e-6 in float32, < 1e-15 in float64). The bounds are two
# orders of magnitude above that and three below the training's own movement.
TOLERANCE = {torch.float32: 1e-4, torch.float64: 1e-10}
FAMILIES = {"mlp": lambda: MLP(6, 1, 16), "mlp-3-outputs": lambda: MLP(6, 3, 16)}


def _problem(family: str, k: int, n: int, dtype, seed: int = 0):
    torch.manual_seed(seed)
    models = [FAMILIES[family]().to(dtype) for _ in range(k)]
    n_out = 3 if family == "mlp-3-outputs" else 1
    generator = torch.Generator().manual_seed(seed)
    data = [(torch.randn(n, 6, generator=generator, dtype=dtype),
             torch.randn(n, n_out, generator=generator, dtype=dtype)) for _ in range(k)]
    return models, data


def _train(models, data, **kwargs):
    models = [copy.deepcopy(m) for m in models]
    histories = fit_many(models, data, steps=STEPS, **{"lr": 1e-2, "workers": 1, **kwargs})
    return models, histories


def _largest_difference(first, second) -> float:
    return max(float((p - q).detach().abs().max()) for a, b in zip(first, second, strict=True)
               for p, q in zip(a.parameters(), b.parameters(), strict=True))


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("family", list(FAMILIES))
@pytest.mark.parametrize("batch_size, augment", [(None, False), (8, True)])
def test_compiled_stacks_equal_the_eager_path_within_rounding(dtype, family, batch_size, augment):
    models, data = _problem(family, 4, 24, dtype)
    groups = [cyclic(6) if augment else None] * len(models)
    eager, eager_histories = _train(models, data, batch_size=batch_size, augment_groups=groups)
    compiled, compiled_histories = _train(models, data, batch_size=batch_size, augment_groups=groups,
                                          compile=True)
    assert _largest_difference(eager, models) > 1e3 * TOLERANCE[torch.float32]  # they did train
    assert _largest_difference(eager, compiled) < TOLERANCE[dtype]
    for a, b in zip(eager_histories, compiled_histories, strict=True):
        assert max(abs(x - y) for x, y in zip(a["loss"], b["loss"], strict=True)) < TOLERANCE[dtype]


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_compiled_stacks_with_per_model_hyperparameters_and_shared_data_equal_eager(dtype):
    # one stack carries each model's rate and label smoothing (engine.hyper), on one shared data set
    torch.manual_seed(1)
    models = [MLP(6, 3, 16).to(dtype) for _ in range(4)]
    generator = torch.Generator().manual_seed(1)
    X = torch.randn(24, 6, generator=generator, dtype=dtype)
    y = torch.randint(0, 3, (24,), generator=generator)
    kwargs = {"lr": [1e-2, 5e-3, 2e-2, 1e-2], "label_smoothing": [0.0, 0.1, 0.2, 0.05],
              "mix_hyperparameters": True}
    eager, _ = _train(models, [(X, y)] * 4, **kwargs)
    compiled, _ = _train(models, [(X, y)] * 4, compile=True, **kwargs)
    assert _largest_difference(eager, models) > 1e3 * TOLERANCE[torch.float32]
    assert _largest_difference(eager, compiled) < TOLERANCE[dtype]


def test_one_graph_per_architecture_whatever_the_stack_size_and_batch():
    _train(*_problem("mlp", 3, 20, torch.float32), compile=True)  # the architecture compiled once
    before = counters["stats"]["unique_graphs"]
    for k, n, batch_size in [(2, 20, None), (5, 30, None), (4, 40, 8), (7, 40, 16)]:
        _train(*_problem("mlp", k, n, torch.float32, seed=k), batch_size=batch_size, compile=True)
    assert counters["stats"]["unique_graphs"] == before


def test_compiled_stacks_are_bit_identical_for_any_worker_count(single_torch_thread):
    models, data = _problem("mlp", 6, 24, torch.float32)
    in_process, first = _train(models, data, batch_size=8, max_stack_elements=8 * 16 * 2, compile=True)
    pooled, second = _train(models, data, batch_size=8, max_stack_elements=8 * 16 * 2, compile=True,
                            workers=2)
    assert _largest_difference(in_process, pooled) == 0.0
    assert [h["loss"] for h in first] == [h["loss"] for h in second]


@pytest.mark.parametrize("make", [lambda: MLP(6, 1, 16, activation="gelu"),
                                  lambda: SharedMLP(cyclic(6), 1, 3)], ids=["gelu-mlp", "shared"])
def test_other_modules_train_eagerly_when_compile_is_asked(make):
    torch.manual_seed(0)
    models = [make() for _ in range(3)]
    data = [(torch.randn(20, 6), torch.randn(20, 1)) for _ in range(3)]
    eager, _ = _train(models, data)
    compiled, _ = _train(models, data, compile=True)
    assert _largest_difference(eager, compiled) == 0.0


def test_the_switch_is_read_from_the_environment_and_keys_the_cache(monkeypatch):
    monkeypatch.delenv("SYMSHARING_COMPILE", raising=False)
    assert "compiled" not in cache.cache_key({"a": 1}, device="cpu", dtype="float32")
    monkeypatch.setenv("SYMSHARING_COMPILE", "1")
    assert cache.cache_key({"a": 1}, device="cpu", dtype="float32")["compiled"] is True


def test_compile_must_be_a_bool():
    models, data = _problem("mlp", 2, 8, torch.float32)
    with pytest.raises(TypeError, match="compile must be True, False or None, got str"):
        fit_many(models, data, steps=2, compile="yes")
