"""paramspace.interpolation: the monotonic-interpolation statistics on hand-made curves, and the
loss along the line from initial to trained weights."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from symsharing.models import MLP, SigmaAsymmetricMLP, WAsymmetricMLP
from symsharing.paramspace import interpolate, interpolation_losses, mli_statistics

pytestmark = pytest.mark.usefixtures("single_torch_thread")


def test_a_falling_straight_line_is_monotonic_convex_and_on_its_chord():
    stats = mli_statistics([4.0, 3.0, 2.0, 1.0, 0.0])
    assert stats["max_rise"] == -1.0 and stats["monotonic"]
    assert stats["convex_fraction"] == 1.0 and stats["min_second_derivative"] == 0.0
    assert stats["below_chord"] == 1.0 and stats["below_chord_paper"] == 1.0


def test_a_convex_fall_is_below_its_chord():
    stats = mli_statistics([16.0, 9.0, 4.0, 1.0, 0.0])  # (4 - i)^2
    assert stats["monotonic"] and stats["max_rise"] == -1.0
    assert stats["convex_fraction"] == 1.0 and stats["min_second_derivative"] == 2.0 * 16
    assert stats["below_chord"] == 1.0


def test_the_papers_line_is_not_the_chord():
    # a slow start: above the chord 1 - α at α = 1/4, on or below it after; the paper's line
    # 1 + (L(1/4) - 1) α = 1 - 0.01 α lies above every interior point
    stats = mli_statistics([1.0, 0.99, 0.5, 0.1, 0.0])
    assert stats["below_chord"] == pytest.approx(2 / 3)
    assert stats["below_chord_paper"] == 1.0


def test_a_bump_is_not_monotonic_and_is_concave():
    stats = mli_statistics([0.0, 3.0, 4.0, 3.0, 0.0])
    assert stats["max_rise"] == 3.0 and not stats["monotonic"]
    assert stats["convex_fraction"] == 0.0 and stats["min_second_derivative"] == -2.0 * 16
    assert stats["below_chord"] == 0.0


def test_a_flat_curve_counts_as_monotonic():
    assert mli_statistics([1.0, 1.0, 1.0])["monotonic"]


@pytest.mark.parametrize("family", ["mlp", "w-asym", "sigma-asym"])
def test_interpolation_losses_match_the_interpolated_networks(family):
    torch.manual_seed(0)
    build = {"mlp": lambda: MLP(5, 3, 6),
             "w-asym": lambda: WAsymmetricMLP(5, 3, 6, n_fixed=2, fixed_std=0.5, seed=0),
             "sigma-asym": lambda: SigmaAsymmetricMLP(5, 3, 6, seed=0)}[family]
    initial, final = build(), build()
    if family != "mlp":
        final.load_state_dict(initial.state_dict())  # the same fixed entries / gates
        with torch.no_grad():
            for p in final.parameters():
                p.add_(torch.randn_like(p))
    X, y = torch.randn(40, 5), torch.randint(3, (40,))
    losses = interpolation_losses(initial, final, X, y, n_points=5, label_smoothing=0.1)
    with torch.no_grad():
        for alpha, loss in zip(np.linspace(0, 1, 5), losses, strict=True):
            expected = F.cross_entropy(interpolate(initial, final, float(alpha))(X), y, label_smoothing=0.1)
            assert loss == pytest.approx(float(expected), rel=1e-5)


@pytest.mark.parametrize("curve, error, match", [
    ([1.0, 0.0], ValueError, "at least 3 points"),
    ([[1.0, 0.0, 0.5]], ValueError, "1-d curve"),
    ([1.0, float("nan"), 0.0], ValueError, "finite"),
    (["a", "b", "c"], TypeError, "sequence of numbers"),
])
def test_bad_curves_are_named(curve, error, match):
    with pytest.raises(error, match=match):
        mli_statistics(curve)


def test_bad_interpolation_inputs_are_named():
    torch.manual_seed(0)
    X, y = torch.randn(4, 5), torch.randint(3, (4,))
    with pytest.raises(ValueError, match="one architecture"):
        interpolation_losses(MLP(5, 3, 6), MLP(5, 3, 7), X, y)
    with pytest.raises(ValueError, match="integer class labels"):
        interpolation_losses(MLP(5, 3, 6), MLP(5, 3, 6), X, torch.randn(4))
    with pytest.raises(TypeError, match="torch.nn.Module"):
        interpolation_losses("net", MLP(5, 3, 6), X, y)
    with pytest.raises(ValueError, match="n_points"):
        interpolation_losses(MLP(5, 3, 6), MLP(5, 3, 6), X, y, n_points=1)
