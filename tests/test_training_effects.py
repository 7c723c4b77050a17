"""paramspace.training_effects: the chapter's units run end to end on a tiny configuration, are
cached, and the paired tests read them."""

import pytest

from symsharing.paramspace import training_effects as te

TINY = {**te.chapter_config(quick=True), "depths": (1,), "seeds": 2, "steps": 4, "checkpoints": 2,
        "n_zoo": 10, "n_mli": 10, "splits": 1, "metanet_epochs": 1, "width": 8, "zoo_width": 8,
        "test_samples": 2, "eval_samples": 1, "epochs": (1, 2)}


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    mp = pytest.MonkeyPatch()
    mp.setenv("SYMSHARING_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))
    mp.setenv("SYMSHARING_WORKERS", "1")
    try:
        yield te.run(TINY)
    finally:
        mp.undo()


def test_every_unit_returns_its_records(tiny_run):
    assert {(r["posterior"], r["family"]) for r in tiny_run["bayes"]} == {
        (p, f) for p in te.POSTERIORS for f in ("mlp", "w-asym")}
    assert len(tiny_run["bayes"]) == 2 * 2 * TINY["seeds"]
    families = [n["family"] for n in tiny_run["networks"]]
    assert families.count("mlp") == families.count("w-asym") == TINY["n_zoo"]
    assert families.count("sigma-asym") == TINY["n_mli"]
    assert {row["kind"] for row in tiny_run["metanets"]} == set(te.METANETS)
    assert all(len(n["losses"]) == TINY["n_points"] for n in tiny_run["networks"] if not n["diverged"])


def test_the_tables_pair_the_families(tiny_run):
    bayes = te.bayes_tests(tiny_run["bayes"])
    assert set(bayes["quantity"]) == {"mean_test_accuracy", "test_accuracy_final", "ece", "elbo_final",
                                       "nll_final"}
    assert (bayes["pairs"] == TINY["seeds"]).all()
    summary = te.mli_summary(tiny_run["networks"])
    assert list(summary["family"]) == list(te.MLI_ORDER)
    assert (summary["paper_monotonic"] == [100.0, 87.3, 26.3]).all()
    assert len(te.mli_tests(tiny_run["networks"])) == 6
    metanets = te.metanet_tests(tiny_run["metanets"])
    assert len(metanets) == 2 * len(te.METANETS) and (metanets["pairs"] == 1).all()


def test_a_second_run_reads_the_cache(tiny_run, tmp_path, monkeypatch):
    monkeypatch.setenv("SYMSHARING_CACHE_DIR", str(tmp_path))
    monkeypatch.setenv("SYMSHARING_WORKERS", "1")
    small = {**TINY, "depths": (), "n_zoo": 8, "n_mli": 8}
    first = te.run(small)
    assert te.run(small) == first


def test_the_chapter_config_has_the_issues_sizes():
    full = te.chapter_config(quick=False)
    assert full["n_zoo"] >= 1000 and full["n_mli"] >= 300 and full["seeds"] >= 5
    assert tuple(full["depths"]) == (2, 4, 8, 16) and full["n_points"] == 25


def test_the_figures_have_one_panel_per_depth_and_score(tiny_run):
    import pandas as pd

    from symsharing.figures.training_plots import plot_bayes_curves, plot_interpolation, plot_metanets

    assert len(plot_bayes_curves(tiny_run["bayes"], "elbo").svgs) == len(TINY["depths"])
    assert len(plot_interpolation(tiny_run["networks"]).svgs) == 2
    rows = pd.DataFrame(tiny_run["metanets"])
    assert len(plot_metanets(te.metanet_tests(rows), rows).svgs) == 2
