"""Figures: one panel per task, one line and one CI band per family, bounds drawn apart, bad input."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from symsharing import stats
from symsharing.figures import plots


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


def test_curves_have_a_panel_per_task_and_a_band_per_family():
    figure = plots.plot_curves(records())
    assert len(figure.axes) == 2
    for ax in figure.axes:
        assert len(ax.get_lines()) == 2 and len(ax.collections) == 2  # mean lines, CI bands
        assert ax.get_xscale() == "log"
    assert figure.axes[1].get_yscale() == "log"  # MSE on a log scale
    assert [t.get_text() for t in figure.legends[0].get_texts()] == ["mlp", "shared"]


def test_curves_report_diverged_runs_in_the_legend():
    figure = plots.plot_curves(records(diverged_seed=0), x="n_params")
    labels = [t.get_text() for t in figure.legends[0].get_texts()]
    assert labels == ["mlp (3 diverged)", "shared (3 diverged)"]
    assert figure.axes[0].get_xlabel() == "free parameters"


def test_exchange_rates_draw_lower_bounds_and_the_group_order():
    rates = stats.exchange_rates(records(), baselines=("mlp",))
    figure = plots.plot_exchange_rates(rates, {"ring": 16, "set": 40320})
    ax = figure.axes[0]
    assert any(line.get_ydata()[0] == 16 for line in ax.get_lines())  # the |G| line
    bounds = ax.collections[1].get_offsets()
    assert len(bounds) == rates[(rates["task"] == "ring") & rates["lower_bound"]].shape[0]


def test_effects_forest_plot():
    table = pd.DataFrame({"claim": ["1", "1", "2"], "task": ["ring", "set", "ring"],
                          "effect": [0.1, -0.2, 0.3], "low": [0.0, -0.3, 0.1], "high": [0.2, -0.1, 0.5]})
    figure = plots.plot_effects(table)
    assert len(figure.axes) == 2 and figure.axes[0].get_title() == "1"


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
    assert any("image/png" in output.get("data", {}) for output in outputs), outputs
    assert any(output.get("text", "").strip() == "10.0" for output in outputs), outputs


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
