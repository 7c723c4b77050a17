"""The book's figure style: panels for two widths, directions, clipped bands, censored values apart."""

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib import pyplot as plt  # noqa: E402

from symsharing.figures.style import (  # noqa: E402
    Panels,
    clip_band,
    direction_label,
    measured_line,
    value_range,
)


def test_value_ranges_and_directions_follow_the_metric():
    assert value_range("test_score", "accuracy") == (0.0, 1.0)
    assert value_range("test_score", "mse") == (0.0, np.inf)
    assert value_range("invariance_error", "accuracy") == (0.0, np.inf)
    assert value_range("generalization_gap", "mse") == (-np.inf, np.inf)
    assert direction_label("test accuracy", "test_score", "accuracy") == "test accuracy (↑ better)"
    assert direction_label("test mse", "test_score", "mse") == "test mse (↓ better)"
    assert direction_label("consistency", "orbit_consistency", "mse").endswith("(↑ better)")
    with pytest.raises(ValueError, match="no known range"):
        value_range("test_score", "f1")


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_bands_are_clipped_and_censored_values_are_not_joined(dtype):
    low, high = clip_band(np.array([-0.2, 0.5], dtype=dtype), np.array([0.9, 1.3], dtype=dtype),
                          "test_score", "accuracy")
    assert low.tolist() == [0.0, 0.5] and high[1] == 1.0 and high[0] == dtype(0.9)
    line = measured_line(np.array([1.0, 2.0, 4.0], dtype=dtype), [False, True, False])
    assert np.isnan(line[1]) and line[0] == 1.0 and line[2] == 4.0


def test_panels_render_one_svg_each_in_a_grid_that_wraps_and_close_their_figures():
    before = len(plt.get_fignums())
    panels = Panels(3)
    for i, ax in enumerate(panels.axes):
        ax.plot([1, 2], [i, i + 1], label="a line")
        ax.set_title(f"task {i}")
    panels.legend()
    html = panels._repr_html_()
    assert len(plt.get_fignums()) == before  # every matplotlib figure closed once rendered
    assert html.count("<img") == 4  # the legend strip and three panels
    assert "auto-fit" in html and "minmax(min(100%," in html  # side by side, or stacked when narrow
    assert 'alt="task 1"' in html
    assert all(svg.lstrip().startswith("<?xml") and "<svg" in svg for svg in panels.svgs)
    assert repr(panels) == "<Panels: 3 panels>"


def test_panels_tidy_log_axes_and_save_one_image(tmp_path):
    panels = Panels(2)
    for ax in panels.axes:
        ax.plot([16, 64, 256], [1, 2, 3])
        ax.set_xscale("log")
    panels.save(tmp_path / "figure.png")
    image = plt.imread(tmp_path / "figure.png")
    assert image.shape[1] > image.shape[0]  # side by side
    labels = [label.get_text() for label in panels.axes[0].get_xticklabels(minor=True)]
    assert not any(labels)  # no 2×10¹ minor labels


@pytest.mark.parametrize("count", [0, -1, 1.5, True, "2"])
def test_panels_need_a_positive_count(count):
    with pytest.raises(ValueError, match="positive int"):
        Panels(count)
