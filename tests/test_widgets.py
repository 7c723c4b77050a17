"""Tests for symsharing.figures.widgets: the pure figure/number helpers (no kernel) and the wiring."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

import symsharing.engine.cache  # noqa: E402
from symsharing.figures import widgets  # noqa: E402
from symsharing.groups import cyclic, grid_dihedral, symmetric, trivial  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture
def cache(tmp_path, monkeypatch):
    """A fresh results cache; the code hash pinned, so edits to the package mid-test keep its keys."""
    monkeypatch.setenv("SYMSHARING_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(symsharing.engine.cache, "code_hash", lambda package_dir=None: "pinned")
    return tmp_path


def test_make_group_every_constructor():
    for name, (_, layout, _) in widgets.GROUPS.items():
        group = widgets.make_group(name, 4)
        assert group.n == (16 if layout == "grid" else 4)
    with pytest.raises(KeyError, match="unknown group 'nope'"):
        widgets.make_group("nope", 4)


@pytest.mark.parametrize("group, channels, shared, dense", [
    (symmetric(5), 1, 2 + 1, 5 * 5 + 5),          # DeepSets: diagonal + off-diagonal, one bias
    (cyclic(6), 2, 2 * 2 * 6 + 2, 12 * 12 + 12),  # one weight per offset, one bias per channel
    (trivial(3), 1, 9 + 3, 9 + 3),                 # nothing tied: the dense layer itself
])
def test_parameter_counts_known_groups(group, channels, shared, dense):
    counts = widgets.parameter_counts(group, channels)
    assert counts["shared"] == shared and counts["dense"] == dense
    assert counts["ratio"] == pytest.approx(dense / shared)


@settings(max_examples=10, deadline=None)
@given(name=st.sampled_from(sorted(widgets.GROUPS)), size=st.integers(2, 6), channels=st.integers(1, 3))
def test_parameter_counts_match_orbits(name, size, channels):
    group = widgets.make_group(name, size)
    counts = widgets.parameter_counts(group, channels)
    assert counts["pair_orbits"] == int(group.pair_orbits().max()) + 1
    assert counts["shared"] == channels * channels * counts["pair_orbits"] + channels * counts["point_orbits"]
    assert counts["shared"] <= counts["dense"]


def test_parameter_counts_rejects_non_group():
    with pytest.raises(TypeError, match="PermutationGroup"):
        widgets.parameter_counts([0, 1, 2])


@pytest.mark.parametrize("group, layout", [(cyclic(8), "ring"), (symmetric(5), "set"),
                                           (grid_dihedral(4), "grid")])
def test_group_figure_shows_pattern_and_orbits(group, layout):
    fig = widgets.group_figure(group, layout)
    pattern_axes, points_axes = fig.axes[:2]
    image = pattern_axes.get_images()[0].get_array()
    np.testing.assert_array_equal(np.asarray(image), group.pair_orbits().numpy())
    colours = points_axes.collections[0].get_array()
    np.testing.assert_array_equal(np.asarray(colours), group.orbit_index().numpy())
    assert len(points_axes.collections[0].get_offsets()) == group.n
    counts = widgets.parameter_counts(group)
    assert f"{counts['shared']:,} free parameters vs {counts['dense']:,} dense" in fig._suptitle.get_text()


def test_group_figure_grid_points_form_a_square():
    offsets = widgets.group_figure(grid_dihedral(3), "grid").axes[1].collections[0].get_offsets()
    assert sorted({tuple(p) for p in np.asarray(offsets)}) == sorted(
        (float(c), float(-r)) for r in range(3) for c in range(3))


def test_group_figure_bad_layout():
    with pytest.raises(ValueError, match="layout must be one of"):
        widgets.group_figure(cyclic(4), "torus")
    with pytest.raises(ValueError, match="square number of points, got n=5"):
        widgets.group_figure(cyclic(5), "grid")


@pytest.fixture
def shown(monkeypatch):
    """The figures the explorers draw, in order (no kernel needed)."""
    figures = []
    monkeypatch.setattr(widgets, "_show", lambda output, fig: figures.append(fig))
    return figures


def test_group_explorer_redraws_on_change(shown):
    explorer = widgets.group_explorer("cyclic", 6)
    name, size, channels = explorer.children[0].children
    assert [name.value, size.value, channels.value] == ["cyclic", 6, 1]
    assert shown[-1]._suptitle.get_text().startswith("C6:")
    name.value = "grid_dihedral"
    size.value = 3
    channels.value = 2
    counts = widgets.parameter_counts(grid_dihedral(3), 2)
    assert shown[-1]._suptitle.get_text() == (f"D4 on 3x3: {counts['shared']:,} free parameters vs "
                                              f"{counts['dense']:,} dense (2 channel(s) in and out)")
    assert len(shown) == 4


def test_training_run_cached_and_deterministic(cache):
    first = widgets.training_run("set", "shared", 32, steps=20, n_test=64)
    assert first["source"] == "run" and len(first["loss"]) == 20
    assert first["metric"] == "mse" and np.isfinite(first["test_score"])
    assert first["invariance_error"] < 1e-4  # the shared model is invariant by construction
    again = widgets.training_run("set", "shared", 32, steps=20, n_test=64)
    assert again["source"] == "cache"
    assert {k: v for k, v in again.items() if k != "source"} == {k: v for k, v in first.items()
                                                                 if k != "source"}
    fresh = widgets.training_run("set", "shared", 32, steps=21, n_test=64)
    assert fresh["source"] == "run" and fresh["loss"][:20] == first["loss"]


def test_training_run_dense_model_is_not_invariant(cache):
    result = widgets.training_run("ring", "mlp", 32, steps=10, n_test=64)
    assert result["metric"] == "accuracy" and 0 <= result["test_score"] <= 1
    assert result["invariance_error"] > 1e-4


def test_training_run_bad_arguments(cache):
    with pytest.raises(KeyError, match="unknown task"):
        widgets.training_run("torus", "mlp", 32)
    with pytest.raises(KeyError, match="'shared-wrong' for task 'set'"):
        widgets.training_run("set", "shared-wrong", 32)
    with pytest.raises(ValueError, match="n_train must be >= 1, got 0"):
        widgets.training_run("set", "mlp", 0)


def test_training_figure(cache):
    result = widgets.training_run("set", "mlp", 16, steps=5, n_test=32)
    ax = widgets.training_figure(result).axes[0]
    np.testing.assert_allclose(ax.lines[0].get_ydata(), result["loss"])
    assert f"{result['test_score']:.3f}" in ax.get_title()


def test_training_explorer_wiring(cache, shown):
    explorer = widgets.training_explorer("set", "mlp", 16, steps=5)
    task_choice, family_choice, size_choice = explorer.children[0].children
    status = explorer.children[1]
    assert status.value == "trained now" and len(shown) == 1
    family_choice.value = "shared-wrong"
    assert "does not exist on the set task" in status.value and len(shown) == 1
    family_choice.value = "mlp"
    assert status.value == "read from the results cache" and len(shown) == 2
    size_choice.value = 32
    assert status.value == "trained now" and "n_train=32" in shown[-1].axes[0].get_title()
