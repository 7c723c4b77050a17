"""Figures: one panel per task, one line and one CI band per family, bands clipped, bounds drawn
apart, the legend outside the data, bad input."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from symsharing import stats
from symsharing.figures import plots
from symsharing.figures.style import BOOK_RC, Panels


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def records(diverged_seed=None):
    rows = []
    for task, metric in (("ring", "accuracy"), ("set", "mse")):
        for family, base in (("mlp", 0.5), ("shared", 0.8)):
            for n in (16, 64, 256):
                for seed in range(3):
                    value = base + 0.01 * seed + 0.05 * (n == 256)
                    rows.append({"task": task, "family": family, "seed": seed, "n_train": n,
                                 "n_params": n * 10, "metric": metric, "test_score": value,
                                 "invariance_error": 0.1 + seed, "diverged": seed == diverged_seed})
    return pd.DataFrame(rows)


def _key_labels(panels) -> list[str]:
    return [text.get_text() for text in panels._key.legends[0].get_texts()]


def test_curves_have_a_panel_per_task_and_a_band_per_family():
    panels = plots.plot_curves(records())
    assert isinstance(panels, Panels) and len(panels.axes) == 2 and len(panels.svgs) == 2
    for ax in panels.axes:
        assert len(ax.get_lines()) == 2 and len(ax.collections) == 2  # mean lines, CI bands
        assert ax.get_xscale() == "log"
        assert not ax.get_legend()  # the legend is a strip of its own, outside the data
    assert panels.axes[1].get_yscale() == "log"  # MSE on a log scale
    assert _key_labels(panels) == ["mlp", "shared"]
    # one direction per axis label: accuracy up, MSE down
    assert panels.axes[0].get_ylabel().endswith("(↑ better)")
    assert panels.axes[1].get_ylabel().endswith("(↓ better)")


def test_curves_clip_bands_to_the_accuracy_range():
    frame = records()
    frame.loc[frame["task"] == "ring", "test_score"] = [0.3, 1.0, 1.0] * 6  # a wide interval near 1
    panels = plots.plot_curves(frame)
    tops = [path.vertices[:, 1].max() for band in panels.axes[0].collections for path in band.get_paths()]
    assert max(tops) <= 1.0


def test_curves_report_diverged_runs_in_the_legend():
    panels = plots.plot_curves(records(diverged_seed=0), x="n_params")
    assert _key_labels(panels) == ["mlp (6 diverged)", "shared (6 diverged)"]
    assert panels.axes[0].get_xlabel() == "free parameters"


def test_exchange_rates_draw_lower_bounds_apart_and_the_group_order():
    rates = stats.exchange_rates(records(), baselines=("mlp",))
    panels = plots.plot_exchange_rates(rates, {"ring": 16, "set": 40320})
    ax = panels.axes[0]
    assert any(line.get_ydata()[0] == 16 for line in ax.get_lines())  # the |G| line
    ring = rates[rates["task"] == "ring"].sort_values("n_train")
    bounds = ax.collections[0].get_offsets()
    assert len(bounds) == ring["lower_bound"].sum() > 0
    joined = ax.get_lines()[0].get_ydata()
    assert np.isnan(np.asarray(joined, dtype=float)[ring["lower_bound"].to_numpy()]).all()  # never joined


def test_effects_forest_plot_titles_each_panel_with_its_full_name():
    table = pd.DataFrame({"claim": ["1 robust to shift", "1 robust to shift", "2 smaller gap"],
                          "task": ["ring", "set", "ring"],
                          "effect": [0.1, -0.2, 0.3], "low": [0.0, -0.3, 0.1], "high": [0.2, -0.1, 0.5]})
    panels = plots.plot_effects(table)
    assert [ax.get_title() for ax in panels.axes] == ["1 robust to shift", "2 smaller gap"]


def test_learning_rates_put_their_colour_bar_above_the_panels():
    rates = pd.DataFrame({"task": ["ring"] * 2 + ["set"] * 2, "family": ["mlp", "shared"] * 2,
                          "n_train": [16] * 4, "lr": [1e-3, 1e-2, 1e-3, 3e-3],
                          "lr_at_edge": [False, True] * 2})
    panels = plots.plot_learning_rates(rates)
    assert len(panels.axes) == 2 and panels.key_svg is not None
    assert any(text.get_text().endswith("*") for text in panels.axes[0].texts)


def test_bad_records_are_named():
    with pytest.raises(KeyError, match="lack the columns"):
        plots.plot_curves(pd.DataFrame({"task": ["set"]}))
    with pytest.raises(TypeError, match="pandas DataFrame"):
        plots.plot_curves([{"task": "set"}])


def test_book_style_puts_figures_into_the_notebook_even_under_agg(monkeypatch):
    """MPLBACKEND=Agg in the environment: without book_style a chapter's figures silently vanish."""
    nbformat = pytest.importorskip("nbformat")
    from nbclient import NotebookClient

    monkeypatch.setenv("MPLBACKEND", "Agg")
    source = ("from symsharing.figures.plots import book_style\nbook_style()\n"
              "import matplotlib.pyplot as plt\n"
              "plt.plot([0, 1], [1, 0])\nplt.show()\nprint(plt.rcParams['xtick.labelsize'])")
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source)])
    NotebookClient(notebook, timeout=120, kernel_name="python3").execute()
    outputs = notebook.cells[0].outputs
    assert any("image/svg+xml" in output.get("data", {}) for output in outputs), outputs
    printed = [output.get("text", "").strip() for output in outputs]
    assert str(BOOK_RC["xtick.labelsize"]) in printed, outputs


def test_table_has_one_header_row_and_shows_each_index_value_once():
    index = pd.MultiIndex.from_product([["grid", "ring"], ["mlp", "shared"]], names=["task", "family"])
    pivot = pd.DataFrame([[0.12345, 1.0], [0.5, 2.0], [0.25, 3.0], [0.75, 4.0]], index=index,
                         columns=pd.Index([16, 4096], name="n_train"))
    styled = plots.table(pivot)
    shown = styled.data
    assert list(shown.columns) == ["task", "family", "n = 16", "n = 4,096"]
    assert list(shown["task"]) == ["grid", "", "ring", ""]
    assert list(shown["family"]) == ["mlp", "shared", "mlp", "shared"]
    html = styled.to_html()
    assert html.count("<tr>") == len(pivot) + 1  # one header row
    assert "0.123" in html and "0.12345" not in html
    assert list(pivot.index.names) == ["task", "family"]  # the caller's frame is untouched


def test_table_keeps_a_child_value_that_repeats_under_another_parent():
    frame = pd.DataFrame({"task": ["grid", "grid", "ring"], "family": ["mlp", "mlp", "mlp"],
                          "n": [16, 64, 16], "score": [0.5, 0.6, 0.7]})
    shown = plots.table(frame.set_index(["task", "family", "n"])).data
    assert list(shown["task"]) == ["grid", "", "ring"]
    assert list(shown["family"]) == ["mlp", "", "mlp"]  # the third row's parent changed
    assert list(shown["n"]) == [16, 64, 16]


def test_table_formats_columns_of_its_own_and_rejects_a_format_that_does_not_fit():
    frame = pd.DataFrame({"family": ["mlp", "shared"], "distance": [3.3e-11, 8.0e-3]}).set_index("family")
    html = plots.table(frame, formats={"distance": "{:.1e}"}).to_html()
    assert "3.3e-11" in html and "8.0e-03" in html
    with pytest.raises(ValueError, match="does not have"):
        plots.table(frame, formats={"distances": "{:.1e}"})
    with pytest.raises(ValueError):  # a number format for a column of strings
        plots.table(frame, formats={"family": "{:.1e}"})


def test_table_shows_no_row_numbers_of_a_filtered_frame():
    frame = pd.DataFrame({"task": ["grid", "ring", "set"], "score": [0.5, 0.6, 0.7]})
    shown = plots.table(frame[frame["score"] > 0.55]).data
    assert list(shown.columns) == ["task", "score"]
