"""engine.hyper: per-model learning rates, weight decays, label smoothing and step budgets in one
stack, each model equal to the one ``fit`` trains alone."""

import copy

import pytest
import torch
import torch.nn.functional as F

from symsharing.engine.draws import CHUNK_STEPS
from symsharing.engine.hyper import smoothed_cross_entropy
from symsharing.engine.stacks import TRIANGLE_PEAK, scheduled_lr
from symsharing.models import MLP, SigmaAsymmetricMLP, WAsymmetricMLP
from symsharing.train import fit, fit_many, plan_stacks

pytestmark = pytest.mark.usefixtures("single_torch_thread")
DTYPES = [torch.float32, torch.float64]
# Adam divides by sqrt(v) + eps: near a gradient entry of the size of eps (1e-8) a rounding difference
# (the stacked loss sums its terms in another order) is multiplied by up to lr / eps, so float64 runs of
# ~20 steps agree to ~1e-8 instead of 1e-16; a learning rate 5 % off moves the weights ~1e-3
# (checked below), so the tolerance still catches any wrong hyperparameter.
ATOL = {torch.float32: 2e-5, torch.float64: 1e-7}
BUILDERS = {
    "mlp": lambda: MLP(6, 3, 8),
    "mlp-layernorm": lambda: MLP(6, 3, 8, layer_norm=True),
    "w-asym": lambda: WAsymmetricMLP(6, 3, 8, n_fixed=2, fixed_std=0.5, seed=0),
    "sigma-asym": lambda: SigmaAsymmetricMLP(6, 3, 8, seed=0),
}


def _data(k, dtype, n=20, classes=3):
    generator = torch.Generator().manual_seed(0)
    return [(torch.randn(n, 6, generator=generator, dtype=dtype),
             torch.randint(classes, (n,), generator=generator)) for _ in range(k)]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("family", sorted(BUILDERS))
@pytest.mark.parametrize("schedule", ["constant", "triangular"])
def test_a_mixed_stack_equals_fit_model_by_model(dtype, family, schedule):
    torch.manual_seed(3)
    models = [BUILDERS[family]().to(dtype) for _ in range(4)]
    copies = [copy.deepcopy(m) for m in models]
    data = _data(4, dtype)
    steps = [CHUNK_STEPS + 5, 7, CHUNK_STEPS + 9, 1]  # a budget spent mid-chunk, and a single step
    lrs, decays, smoothings = [1e-2, 3e-3, 2e-2, 5e-3], [0.0, 0.1, 1e-3, 0.0], [0.0, 0.1, 0.05, 0.2]
    stacked = fit_many(models, data, steps=steps, lr=lrs, weight_decay=decays, label_smoothing=smoothings,
                       batch_size=7, seeds=[1, 2, 3, 4], schedule=schedule, mix_hyperparameters=True,
                       workers=1)
    assert {h["stack_size"] for h in stacked} == {4}  # one stack
    alone = [fit(m, X, y, steps=s, lr=lr, weight_decay=wd, label_smoothing=ls, batch_size=7, seed=seed,
                 schedule=schedule)
             for m, (X, y), s, lr, wd, ls, seed in zip(copies, data, steps, lrs, decays, smoothings,
                                                       [1, 2, 3, 4], strict=True)]
    for a, b, ha, hb in zip(models, copies, stacked, alone, strict=True):
        for pa, pb in zip(a.parameters(), b.parameters(), strict=True):
            torch.testing.assert_close(pa, pb, atol=ATOL[dtype], rtol=ATOL[dtype])
        assert ha["steps_taken"] == hb["steps_taken"] == len(ha["loss"])
        torch.testing.assert_close(torch.tensor(ha["loss"]), torch.tensor(hb["loss"]), atol=ATOL[dtype],
                                   rtol=ATOL[dtype])
    torch.manual_seed(3)
    off = BUILDERS[family]().to(dtype)  # model 0's initial weights, trained with a rate 5 % off
    fit(off, *data[0], steps=steps[0], lr=lrs[0] * 1.05, label_smoothing=smoothings[0], batch_size=7, seed=1,
        schedule=schedule)
    moved = max(float((a - b).abs().max().detach())
                for a, b in zip(off.parameters(), models[0].parameters(), strict=True))
    assert moved > 10 * ATOL[dtype]


def test_uniform_hyperparameters_keep_separate_stacks_unless_mixed():
    torch.manual_seed(0)
    models = [MLP(6, 3, 8) for _ in range(4)]
    data = _data(4, torch.float32)
    kwargs = {"steps": [5, 5, 6, 6], "lrs": [1e-3] * 4, "weight_decays": [0.0, 0.1, 0.0, 0.1],
              "label_smoothings": [0.0] * 4}
    assert plan_stacks(models, data, **kwargs) == [[0], [1], [2], [3]]
    assert plan_stacks(models, data, **kwargs, mix_hyperparameters=True) == [[2, 3, 0, 1]]  # longest first


def test_label_smoothing_matches_torch():
    generator = torch.Generator().manual_seed(0)
    outputs = torch.randn(3, 5, 4, generator=generator, dtype=torch.float64)  # (K, b, C)
    y = torch.randint(4, (3, 5), generator=generator)
    smoothing = torch.tensor([0.0, 0.1, 0.3], dtype=torch.float64)
    ours = smoothed_cross_entropy(outputs, y, smoothing)
    for k in range(3):
        expected = F.cross_entropy(outputs[k], y[k], label_smoothing=float(smoothing[k]))
        torch.testing.assert_close(ours[k], expected, atol=1e-12, rtol=1e-12)


def test_triangular_schedule_rises_to_the_peak_and_falls_to_zero():
    steps = 100
    rates = [scheduled_lr(0.1, t, steps, "triangular") for t in range(steps)]
    peak = int(TRIANGLE_PEAK * steps)
    assert rates[0] == 0.0 and rates[peak] == pytest.approx(0.1)
    assert all(a < b for a, b in zip(rates[:peak], rates[1:peak + 1], strict=True))
    assert all(a > b for a, b in zip(rates[peak:-1], rates[peak + 1:], strict=True))
    assert rates[-1] == pytest.approx(0.1 / (steps - peak))


def test_a_finished_model_does_not_change_while_its_stack_trains_on():
    torch.manual_seed(0)
    models = [MLP(6, 3, 8) for _ in range(2)]
    data = _data(2, torch.float32)
    short = copy.deepcopy(models[0])
    fit_many(models, data, steps=[3, 40], lr=[1e-2, 1e-2], mix_hyperparameters=True, workers=1)
    fit(short, *data[0], steps=3, lr=1e-2, seed=0)
    for a, b in zip(models[0].parameters(), short.parameters(), strict=True):
        torch.testing.assert_close(a, b, atol=1e-6, rtol=1e-6)


@pytest.mark.parametrize("call, error, match", [
    (lambda m, d: fit_many(m, d, steps=2, label_smoothing=1.0), ValueError, "label_smoothing must be"),
    (lambda m, d: fit_many(m, d, steps=2, label_smoothing=[0.1, -0.1]), ValueError, "label_smoothing must"),
    (lambda m, d: fit_many(m, d, steps=2, weight_decay=[0.1]), ValueError, "weight_decay must be one value"),
    (lambda m, d: fit_many(m, d, steps=2, mix_hyperparameters="yes"), TypeError, "mix_hyperparameters"),
    (lambda m, d: fit_many(m, d, steps=2, mix_hyperparameters=True, optimizer="sgd"), ValueError,
     "optimizer='adam'"),
    (lambda m, d: fit(m[0], *d[0], steps=2, schedule="triangle"), ValueError, "schedule must be one of"),
])
def test_bad_hyperparameters_are_named(call, error, match):
    torch.manual_seed(0)
    with pytest.raises(error, match=match):
        call([MLP(6, 3, 4), MLP(6, 3, 4)], _data(2, torch.float32))


def test_label_smoothing_needs_class_labels():
    torch.manual_seed(0)
    X, y = torch.randn(8, 6), torch.randn(8, 1)
    with pytest.raises(ValueError, match="label_smoothing applies to class labels"):
        fit(MLP(6, 1, 4), X, y, steps=2, label_smoothing=0.1)
