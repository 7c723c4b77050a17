"""Lim et al.'s protocol and the studies around it (``symsharing.paramspace.lmc_study``), on tiny set-ups."""

import math

import numpy as np
import pandas as pd
import pytest
import torch

from symsharing.models import MLP, SigmaAsymmetricMLP, WAsymmetricMLP
from symsharing.paramspace import lmc_study
from symsharing.paramspace.lmc_study import (
    ALIGNMENTS,
    BOOK_SETUP,
    LIM_SETUP,
    barriers,
    book_fixed_entries,
    build_model,
    loglog_slope,
    ordering_tests,
    paper_fixed_entries,
    setup,
    study,
)

TINY = setup(width=8, depth=2, steps=20, n_pairs=2, n_points=5)


def test_paper_fixed_entries_are_the_papers_fractions():
    # MNIST, width 512, 4 linear layers: exactly train-mlp-mnist.py's defaults
    assert paper_fixed_entries(784, 512, 3) == ((64, 64, 64, 256), (1.0, 1.0, 0.5, 0.25))
    # digits: 64/784 of 64 inputs rounds to 5, hidden and output layers keep their fractions
    assert paper_fixed_entries(64, 512, 3) == ((5, 64, 64, 256), (1.0, 1.0, 0.5, 0.25))
    assert paper_fixed_entries(64, 64, 2) == ((5, 8, 32), (1.0, 1.0, 0.25))
    assert book_fixed_entries(64, 64, 2) == ((16, 16, 16), (0.5, 0.5, 0.5))
    counts, _ = paper_fixed_entries(8, 4, 1)
    assert all(count >= 1 for count in counts)


def test_lim_setup_is_the_papers_protocol():
    assert (LIM_SETUP["width"], LIM_SETUP["depth"] + 1) == (512, 4)
    assert (LIM_SETUP["activation"], LIM_SETUP["layer_norm"]) == ("gelu", True)
    assert (LIM_SETUP["lr"], LIM_SETUP["weight_decay"], LIM_SETUP["batch_size"], LIM_SETUP["epochs"]) \
        == (1e-3, 0.03, 64, 25)
    assert lmc_study._steps(setup(LIM_SETUP), 1347) == 25 * 22
    assert lmc_study._steps(setup(BOOK_SETUP), 1347) == 1000


def test_barriers_follow_their_formulas():
    losses = [1.0, 2.5, 3.0]  # chord: 1, 2, 3
    assert barriers(losses) == {"barrier": 0.5, "barrier_mid": 1.0, "worst_loss": 3.0}
    flat = barriers(np.linspace(1.0, 3.0, 25))
    assert flat["barrier"] == pytest.approx(0.0, abs=1e-12) and flat["barrier_mid"] == pytest.approx(1.0)
    with pytest.raises(ValueError, match="at least 2 points"):
        barriers([1.0])


def test_bad_setups_are_clear_errors():
    with pytest.raises(KeyError, match="widht"):
        setup(widht=3)
    with pytest.raises(ValueError, match="fixed must be one of"):
        setup(fixed="half")
    with pytest.raises(ValueError, match="exactly one of steps and epochs"):
        setup(epochs=3)
    with pytest.raises(ValueError, match="alignments"):
        setup(alignments=("rotation",))
    with pytest.raises(KeyError, match="resnet"):
        build_model("resnet", TINY, 4, 2, init_seed=0, mask_seed=0)


@pytest.mark.parametrize("family, cls", [("mlp", MLP), ("w-asym", WAsymmetricMLP),
                                         ("sigma-asym", SigmaAsymmetricMLP)])
def test_build_model_follows_the_setup(family, cls):
    config = setup(LIM_SETUP, width=16)
    model = build_model(family, config, 64, 10, init_seed=3, mask_seed=1)
    assert type(model) is cls and model.layer_norm and model.depth == 3
    if family == "w-asym":
        assert model.n_fixed == (5, 2, 2, 8) and model.fixed_std == (1.0, 1.0, 0.5, 0.25)
    again = build_model(family, config, 64, 10, init_seed=3, mask_seed=1)
    assert all(torch.equal(p, q) for p, q in zip(model.state_dict().values(), again.state_dict().values(),
                                                  strict=True))


@pytest.fixture
def tiny_study(tmp_path, monkeypatch):
    monkeypatch.setenv("SYMSHARING_CACHE_DIR", str(tmp_path))
    return study(setup(TINY, alignments=ALIGNMENTS), name="tiny")


def test_study_records_every_arm_with_matched_pairs(tiny_study):
    arms = {"mlp", "mlp-aligned", "mlp-activation-aligned", "mlp-aligned-repair",
            "mlp-activation-aligned-repair", "w-asym", "sigma-asym"}
    assert {r["family"] for r in tiny_study} == arms and len(tiny_study) == 2 * len(arms)
    by_arm = {(r["family"], r["pair"]): r for r in tiny_study}
    for pair in range(2):
        plain = by_arm["mlp", pair]
        assert plain["setup"] == "tiny" and len(plain["loss"]) == 5
        for arm in arms - {"mlp", "w-asym", "sigma-asym"}:  # aligning never moves the endpoints
            assert by_arm[arm, pair]["loss"][0] == pytest.approx(plain["loss"][0], rel=1e-4)
            assert by_arm[arm, pair]["loss"][-1] == pytest.approx(plain["loss"][-1], rel=1e-4)
        for record in (by_arm[a, pair] for a in arms):
            ends = 0.5 * (record["loss"][0] + record["loss"][-1])
            assert record["barrier_mid"] == pytest.approx(max(record["loss"]) - ends)
            assert record["worst_loss"] == pytest.approx(max(record["loss"]))


def test_second_call_reads_the_cache(tiny_study, tmp_path):
    assert list((tmp_path / "lmc-study").glob("*.json"))
    assert study(setup(TINY, alignments=ALIGNMENTS), name="tiny") == tiny_study


def _synthetic(barrier_means, n_pairs=10, noise=0.01, seed=0):
    rng = np.random.default_rng(seed)
    return [{"setup": "s", "family": arm, "pair": pair, "barrier": mean + noise * rng.standard_normal()}
            for arm, mean in barrier_means.items() for pair in range(n_pairs)]


def test_ordering_tests_find_an_order_that_holds_and_one_that_does_not():
    holds = ordering_tests(_synthetic({"w-asym": 0.0, "mlp-aligned": 0.1, "sigma-asym": 0.2, "mlp": 0.3}))
    assert list(holds["comparison"]) == ["w-asym < mlp-aligned", "mlp-aligned < sigma-asym",
                                         "sigma-asym < mlp"]
    assert holds["holds"].all() and (holds["pairs"] == 10).all()
    assert (holds["p_holm"] >= holds["p"]).all()
    reversed_ = ordering_tests(_synthetic({"w-asym": 0.0, "mlp-aligned": 0.1, "sigma-asym": 0.5, "mlp": 0.3}))
    verdict = dict(zip(reversed_["comparison"], reversed_["holds"], strict=True))
    assert verdict["mlp-aligned < sigma-asym"] and not verdict["sigma-asym < mlp"]
    assert reversed_.set_index("comparison").loc["sigma-asym < mlp", "high"] < 0


def test_loglog_slope_recovers_an_inverse_square_root():
    rng = np.random.default_rng(0)
    records = [{"family": "mlp", "width": w,
                "barrier": 2.0 * w ** -0.5 * math.exp(0.02 * rng.standard_normal())}
               for w in (16, 64, 128, 256, 512) for _ in range(3)]
    fit = loglog_slope(records, "mlp", min_width=128, n_boot=200)
    assert fit["widths"] == [128, 256, 512]
    assert fit["slope"] == pytest.approx(-0.5, abs=0.05) and fit["low"] <= fit["slope"] <= fit["high"]
    with pytest.raises(ValueError, match="at least 2 widths"):
        loglog_slope(records, "mlp", min_width=512)


def test_summarize_gives_means_and_intervals():
    frame = lmc_study.summarize(_synthetic({"mlp": 0.3, "w-asym": 0.0}))
    assert isinstance(frame, pd.DataFrame) and set(frame["family"]) == {"mlp", "w-asym"}
    assert (frame["low"] <= frame["mean"]).all() and (frame["pairs"] == 10).all()


@pytest.mark.parametrize("quick", [True, False])
def test_each_ablation_moves_one_factor_of_the_book_setup(quick):
    sizes = lmc_study.study_config(quick)
    cells = lmc_study.ablations(sizes)
    base = setup(n_pairs=sizes["ablation_pairs"], n_points=sizes["n_points"],
                 **({"steps": sizes["ablation_steps"]} if sizes["ablation_steps"] else {}))
    for label, config, families in cells:
        changed = {key for key in base if config[key] != base[key]}
        allowed = {"activation", "gate_scale"} if label.startswith("scalar gate") else \
            {"steps", "epochs", "batch_size"} if label.startswith("batch 64") else None
        assert changed <= allowed if allowed else len(changed) == 1, (label, changed)
        assert set(families) <= set(lmc_study.FAMILIES)
    gates = [config["gate_scale"] for label, config, _ in cells if label.startswith("scalar gate")]
    assert gates == [1.0, 8.0]  # c = 1 and c = sqrt(64)
