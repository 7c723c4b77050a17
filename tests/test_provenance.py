"""Provenance line and the results zip of the reproducing chapter."""

import zipfile

import pytest

from symsharing.figures import provenance


def test_provenance_states_mode_seeds_code_device_and_date(monkeypatch):
    monkeypatch.setenv("SYMSHARING_QUICK", "1")
    facts = provenance.provenance(seeds=[0, 1, 2])
    assert facts["mode"] == "quick" and facts["seeds"] == 3
    assert facts["code"].startswith(("git ", "code ")) and len(facts["code_hash"]) == 16
    assert facts["device"] == "cpu" and facts["date"].endswith("UTC")
    line = provenance.provenance_markdown(5)
    assert "quick sweeps" in line and "**seeds** 5" in line and facts["code_hash"] in line
    monkeypatch.setenv("SYMSHARING_QUICK", "0")
    assert provenance.provenance()["mode"] == "full"


def test_provenance_rejects_a_bad_seed_count():
    with pytest.raises(TypeError, match="seeds must be a count or a list"):
        provenance.provenance(seeds="five")


def test_zip_holds_every_csv(tmp_path):
    (tmp_path / "results" / "cli").mkdir(parents=True)
    (tmp_path / "results" / "a.csv").write_text("x\n1\n")
    (tmp_path / "results" / "cli" / "b.csv").write_text("y\n2\n")
    (tmp_path / "results" / "notes.txt").write_text("not a table")
    out = provenance.zip_results(tmp_path / "out" / "results.zip", tmp_path / "results")
    with zipfile.ZipFile(out) as archive:
        assert sorted(archive.namelist()) == ["a.csv", "cli/b.csv"]
        assert archive.read("cli/b.csv") == b"y\n2\n"


def test_zip_of_nothing_is_a_clear_error(tmp_path):
    with pytest.raises(ValueError, match="no results CSV under"):
        provenance.zip_results(tmp_path / "results.zip", tmp_path)
