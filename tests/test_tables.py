"""Tables as a reader meets them: names in words, counts as counts, the long form of a pivot."""

import pandas as pd
import pytest

from symsharing.figures.tables import long_table, readable, table


def test_raw_column_names_are_shown_in_words():
    frame = pd.DataFrame({"n_pairs": [8, 16], "p_holm": [0.01, 0.2], "censored_share": [0.5, 0.25],
                          "odd_name": ["a", "b"]})
    assert list(table(frame).data.columns) == ["pairs", "Holm p", "censored", "odd name"]
    assert readable("n_train") == "n" and readable(3) == 3


def test_whole_numbers_are_shown_as_integers_and_fractions_are_rounded():
    frame = pd.DataFrame({"steps": [1000.0, 2500.0], "score": [0.12345, 1.0], "lr": [0.001, float("nan")]})
    html = table(frame).to_html()
    assert ">1,000<" in html and ">2,500<" in html and "1,000.000" not in html
    assert ">0.123<" in html and ">1.000<" in html  # a column with fractions keeps its decimals
    assert ">–<" in html  # missing values


def test_formats_may_name_a_column_before_it_is_renamed():
    frame = pd.DataFrame({"family": ["mlp"], "p_holm": [3.3e-11]}).set_index("family")
    assert "3.3e-11" in table(frame, formats={"p_holm": "{:.1e}"}).to_html()


def test_long_table_puts_one_row_per_key_and_the_summary_once_after_its_key():
    claims = pd.DataFrame({"claim": ["1a", "1a", "2", "2"], "task": ["ring", "set", "ring", "set"],
                           "effect": ["+0.1", "-0.2", "+0.3", "+0.1"],
                           "verdict": ["supported", "contradicted", "supported", "supported"],
                           "overall": ["contradicted on 1 of 2", "contradicted on 1 of 2", "supported",
                                       "supported"]})
    long = long_table(claims, keys=["claim", "task"], values=["effect", "verdict"],
                      summary={"claim": "overall"})
    assert list(long.index.names) == ["claim", "overall", "task"]
    shown = table(long).data
    assert list(shown.columns) == ["claim", "overall", "task", "effect", "verdict"]
    assert list(shown["claim"]) == ["1a", "", "2", ""]
    assert list(shown["overall"]) == ["contradicted on 1 of 2", "", "supported", ""]
    assert list(shown["task"]) == ["ring", "set", "ring", "set"]


def test_long_table_bad_input_is_named():
    frame = pd.DataFrame({"claim": ["1", "1"], "task": ["a", "b"], "v": [1, 2], "overall": ["x", "y"]})
    with pytest.raises(TypeError, match="DataFrame"):
        long_table([1, 2], keys=["claim"], values=["v"])
    with pytest.raises(KeyError, match="lacks the columns"):
        long_table(frame, keys=["claim"], values=["missing"])
    with pytest.raises(ValueError, match="not among the keys"):
        long_table(frame, keys=["claim"], values=["v"], summary={"task": "overall"})
    with pytest.raises(ValueError, match="more than one value"):
        long_table(frame, keys=["claim", "task"], values=["v"], summary={"claim": "overall"})
