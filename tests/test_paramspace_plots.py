"""The figures and tables of the parameter-space chapters (``symsharing.figures.paramspace_plots``)."""

import math

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from symsharing.figures import paramspace_plots as pp  # noqa: E402
from symsharing.paramspace import lmc_study  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def runs(barrier_by_arm: dict, n_pairs: int = 3, missing=()) -> list[dict]:
    """Pairs ``0 .. n_pairs - 1`` per arm, pair ``p`` with barrier ``mean + p / 100``; ``missing``:
    ``(arm, pair)`` left out."""
    return [{"family": arm, "pair": pair, "barrier": mean + pair / 100}
            for arm, mean in barrier_by_arm.items() for pair in range(n_pairs) if (arm, pair) not in missing]


def test_interval_text_shows_the_interval_or_the_bare_mean():
    assert pp.interval_text(0.1234, 0.1, 0.15) == "0.123 [0.100, 0.150]"
    assert pp.interval_text(12.4, 10.0, 14.6, digits=0) == "12 [10, 15]"
    assert pp.interval_text(0.5, math.nan, math.nan) == "0.500"
    assert pp.mean_interval([0.5]) == "0.500"  # one value: no interval
    assert pp.mean_interval([1.0, 1.0, 1.0]) == "1.000 [1.000, 1.000]"


def test_arm_values_means_and_paired_differences():
    records = runs({"mlp": 0.3, "sigma-asym": 0.5}, missing={("mlp", 2)})
    assert pp.arm_values(records, "sigma-asym") == pytest.approx([0.5, 0.51, 0.52])
    assert pp.arm_mean(records, "mlp") == pytest.approx(0.305)
    assert math.isnan(pp.arm_mean(records, "w-asym"))
    # pair 2 has no standard MLP: only pairs 0 and 1 are compared
    assert pp.paired_differences(records, "sigma-asym", "mlp") == pytest.approx([0.2, 0.2])
    assert pp.paired_differences(records, "w-asym", "mlp") == []


def test_ablation_table_has_a_row_per_setup_and_a_dash_for_untrained_arms():
    table = pp.ablation_table({"book set-up": runs({"mlp": 0.3, "sigma-asym": 0.5, "w-asym": 0.1}),
                               "GELU for ReLU": runs({"mlp": 0.2})})
    assert list(table.index) == ["book set-up", "GELU for ReLU"]
    assert table.loc["GELU for ReLU", "σ-Asym"] == "–" and table.loc["GELU for ReLU", "W-Asym"] == "–"
    assert table.loc["GELU for ReLU", "σ-Asym − standard (paired)"] == "–"
    assert table.loc["book set-up", "σ-Asym − standard (paired)"].startswith("0.200 [")


def test_ordering_view_names_the_arms_and_reads_yes_or_no():
    means = {"w-asym": 0.0, "mlp-aligned": 0.1, "sigma-asym": 0.2, "mlp": 0.3}
    records = [{"setup": "s", "family": arm, "pair": pair, "barrier": mean + (pair * (3 + k)) % 7 / 1000}
               for k, (arm, mean) in enumerate(means.items()) for pair in range(10)]
    labels = {"w-asym": "W", "mlp-aligned": "aligned", "sigma-asym": "σ", "mlp": "standard"}
    view = pp.ordering_view(lmc_study.ordering_tests(records), labels)
    assert list(view.loc["s"].index) == ["W < aligned", "aligned < σ", "σ < standard"]
    assert set(view["holds"]) == {"yes"} and "low" not in view.columns
    with pytest.raises(KeyError, match="holds"):
        pp.ordering_view(pd.DataFrame({"setup": ["s"]}), labels)


def test_plot_arm_sweep_draws_each_arm_on_log_axes():
    summary = pd.DataFrame([{"family": arm, "width": width, "mean": 1 / width, "low": 0.5 / width,
                             "high": 1.5 / width} for arm in ("mlp", "mlp-aligned") for width in (8, 32, 16)])
    fig, ax = plt.subplots()
    pp.plot_arm_sweep(ax, summary, "width", ("mlp", "mlp-aligned"), log_y=True)
    assert ax.get_xscale() == "log" and ax.get_yscale() == "log"
    assert ax.get_legend_handles_labels()[1] == ["standard, unaligned", "weight-matched"]
    assert [tick.get_text() for tick in ax.get_xticklabels()] == ["8", "16", "32"]


def test_plot_arm_sweep_rejects_bad_input():
    fig, ax = plt.subplots()
    summary = pd.DataFrame({"family": ["mlp"], "width": [8], "mean": [1.0], "low": [0.5], "high": [1.5]})
    with pytest.raises(TypeError, match="DataFrame"):
        pp.plot_arm_sweep(ax, summary.to_dict(), "width", ("mlp",))
    with pytest.raises(KeyError, match="channels"):
        pp.plot_arm_sweep(ax, summary, "channels", ("mlp",))
    with pytest.raises(KeyError, match="no-such-arm"):
        pp.plot_arm_sweep(ax, summary, "width", ("no-such-arm",))


def test_setup_row_describes_lim_et_als_protocol():
    row = pp.setup_row(lmc_study.setup(lmc_study.LIM_SETUP), n_train=1000, n_in=784)
    assert row["width"] == 512 and row["linear layers"] == 4 and row["LayerNorm"] == "yes"
    assert row["optimiser"] == "AdamW, wd 0.03"
    assert row["training"] == f"25 epochs ({25 * math.ceil(1000 / 64)} steps)"
    assert row["W-Asym fixed entries (κ)"] == "64/784 (1), 64/512 (1), 64/512 (0.5), 256/512 (0.25)"
    book = pp.setup_row(lmc_study.setup(), n_train=1000)
    assert book["training"] == "1000 steps" and book["optimiser"] == "Adam"
    assert book["W-Asym fixed entries (κ)"] == "16/64 (0.5), 16/64 (0.5), 16/64 (0.5)"
