"""Tests for symsharing.metrics: hand-computed scores, invariance error, confidence intervals."""

import math

import numpy as np
import pytest
import torch
from scipy import stats

from symsharing.groups import cyclic, symmetric
from symsharing.metrics import accuracy, invariance_error, is_collapsed, metric_name, mse, score
from symsharing.models import MLP, SharedMLP
from symsharing.stats import confidence_interval


def test_accuracy_by_hand():
    outputs = torch.tensor([[0.1, 0.9], [2.0, -1.0], [0.3, 0.4], [5.0, 1.0]])  # arg-max: 1, 0, 1, 0
    y = torch.tensor([1, 0, 0, 1])
    assert accuracy(outputs, y) == 0.5
    assert accuracy(outputs, torch.tensor([1, 0, 1, 0])) == 1.0
    assert score(outputs, y) == 0.5 and metric_name(y) == "accuracy"


def test_mse_by_hand():
    outputs = torch.tensor([[1.0], [2.0], [4.0]])
    y = torch.tensor([[0.0], [2.0], [1.0]])
    assert mse(outputs, y) == pytest.approx((1 + 0 + 9) / 3)
    assert score(outputs, y) == pytest.approx(10 / 3) and metric_name(y) == "mse"
    assert mse(torch.tensor([[1.0, 2.0]]), torch.tensor([[0.0, 0.0]])) == pytest.approx(2.5)


@pytest.mark.parametrize(
    ("function", "outputs", "y", "error", "message"),
    [
        (mse, torch.zeros(4, 1), torch.zeros(4), ValueError, r"same shape, got \(4, 1\) and \(4,\)"),
        (accuracy, torch.zeros(4, 3), torch.zeros(4, 1, dtype=torch.long), ValueError,
         r"outputs \[batch, classes\] and y \[batch\], got \(4, 3\) and \(4, 1\)"),
        (accuracy, torch.zeros(4, 3), torch.zeros(4), TypeError,
         r"integer class labels y, got dtype torch.float32"),
        (accuracy, torch.zeros(0, 3), torch.zeros(0, dtype=torch.long), ValueError, r"non-empty batch"),
        (mse, [1.0], torch.zeros(1), TypeError, r"outputs must be a torch.Tensor, got list"),
    ],
)
def test_metric_shape_errors(function, outputs, y, error, message):
    with pytest.raises(error, match=message):
        function(outputs, y)


def test_invariance_error_zero_for_shared_and_positive_for_mlp():
    torch.manual_seed(0)
    group = symmetric(6)
    x = torch.randn(64, 6)
    shared, dense = SharedMLP(group, 2, 8), MLP(6, 2, 16)
    assert invariance_error(shared, group, x) < 1e-6
    assert invariance_error(shared, group, x, probabilities=True) < 1e-6
    assert invariance_error(dense, group, x) > 1e-3
    assert invariance_error(dense, group, x, probabilities=True) > 1e-4
    # Same seed, same elements: the number is reproducible.
    assert invariance_error(dense, group, x, seed=3) == invariance_error(dense, group, x, seed=3)


def test_invariance_error_of_a_known_function():
    """f(x) = x[:, :1] under C_3: |x[g^-1(0)] - x[0]| averaged; a hand-checkable positive value."""
    x = torch.tensor([[0.0, 1.0, 2.0]])
    value = invariance_error(lambda inputs: inputs[:, :1], cyclic(3), x, n_elements=300, seed=0)
    # The first entry becomes 0, 2 or 1 with probability 1/3 each: mean |difference| = 1.
    assert value == pytest.approx(1.0, abs=0.2)


def test_confidence_interval_matches_scipy():
    sample = [0.81, 0.79, 0.85, 0.90, 0.77, 0.83]
    mean, low, high = confidence_interval(sample, level=0.95)
    expected = stats.t.interval(0.95, len(sample) - 1, loc=np.mean(sample), scale=stats.sem(sample))
    assert mean == pytest.approx(np.mean(sample))
    assert (low, high) == pytest.approx(expected)
    narrower = confidence_interval(sample, level=0.5)
    assert low < narrower[1] < narrower[2] < high


def test_confidence_interval_drops_nans():
    sample = [0.81, 0.79, math.nan, 0.85, math.inf, 0.90]
    assert confidence_interval(sample) == pytest.approx(confidence_interval([0.81, 0.79, 0.85, 0.90]))
    mean, low, high = confidence_interval([1.0, math.nan])
    assert mean == 1.0 and math.isnan(low) and math.isnan(high)
    assert all(math.isnan(v) for v in confidence_interval([math.nan]))
    assert all(math.isnan(v) for v in confidence_interval([]))


@pytest.mark.parametrize("level", [0, 1, 1.5, -0.1, "95%"])
def test_confidence_interval_bad_level(level):
    with pytest.raises(ValueError, match=r"level must be a number strictly between 0 and 1"):
        confidence_interval([1.0, 2.0], level=level)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_is_collapsed_classification_and_regression(dtype):
    one_class = torch.tensor([[2.0, 1.0], [3.0, -1.0], [0.5, 0.1]], dtype=dtype)
    assert is_collapsed(one_class, torch.tensor([0, 1, 1]))
    assert not is_collapsed(torch.tensor([[2.0, 1.0], [0.0, 1.0]], dtype=dtype), torch.tensor([0, 1]))
    y = torch.linspace(-1, 1, 50, dtype=dtype)[:, None]  # (50, 1)
    assert is_collapsed(torch.full_like(y, 0.3) + 1e-3 * y, y)  # variance 1e-6 of the targets'
    assert not is_collapsed(0.5 * y, y)  # a quarter of the targets' variance
    with pytest.raises(TypeError, match="is_collapsed: outputs must be a torch.Tensor"):
        is_collapsed([1.0], y)
