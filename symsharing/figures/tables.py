"""Result tables as a reader meets them: narrow enough for the text column, in words, counts as counts.

``table`` turns a DataFrame into a styled table to ``glue`` with a caption: column names in words
(``READABLE_NAMES``, else underscores become spaces: ``p_holm`` -> "Holm p", ``n_pairs`` ->
"pairs"), a column whose every value is a whole number printed as one ("1,000", never "1,000.000"),
one header row, leading index values shown once. ``long_table`` gives the long form of a result
that a wide pivot would spread over many columns: one row per key (e.g. claim x task), the values
side by side, a per-key summary (e.g. the overall verdict) in a column right after its key, so the
table stays a few columns wide at any number of tasks.
"""

from __future__ import annotations

import numbers

import numpy as np
import pandas as pd

__all__ = ["table", "long_table", "readable", "READABLE_NAMES"]

# raw record columns a table may show, in words; any other name has its underscores spaced out
READABLE_NAMES = {
    "n_train": "n", "n_params": "free parameters", "n_pairs": "pairs", "p_holm": "Holm p", "p": "p",
    "p_opposite_holm": "Holm p (opposite direction)", "censored_share": "censored", "lr": "learning rate",
    "batch_size": "batch size", "n_fixed": "fixed entries", "test_score": "test score",
    "train_loss": "final training loss", "macs": "multiply-adds", "low": "95 % CI low",
    "high": "95 % CI high",
}
SHORT_NAMES = {"n_train": "n"}  # a pivoted column's name as a header prefix shows it ("n = 16")


def readable(name) -> str:
    """A column or index name in words: ``READABLE_NAMES`` or the name with spaces for underscores."""
    if not isinstance(name, str):
        return name
    return READABLE_NAMES.get(name, name.replace("_", " "))


def _whole(column: pd.Series) -> bool:
    """Every finite value of a numeric column is a whole number (a count shown as a float)."""
    if not pd.api.types.is_float_dtype(column):
        return False
    values = column.to_numpy(dtype=float)
    finite = values[np.isfinite(values)]
    return finite.size > 0 and bool(np.all((finite == np.round(finite)) & (np.abs(finite) < 1e15)))


def table(frame: pd.DataFrame, digits: int = 3, formats: dict[str, str] | None = None):
    """A results table as a reader sees it, ready to ``glue`` into a captioned table: names in words
    (``readable``), whole numbers as integers, other numbers rounded to ``digits`` decimals, one
    header row where the columns have one level (a meaningful index becomes leading columns, each
    value shown once where it repeats the row above; numeric column labels of a pivot carry the
    pivoted column's name, e.g. ``n = 16``), no row numbers. ``formats`` maps columns (as named in
    ``frame``) to a format of their own (e.g. ``"{:.1e}"``). The table is rendered once here, so
    that a format that does not fit its values fails in the chapter, not in the page."""
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"expected a pandas DataFrame, got {type(frame).__name__}")
    frame = frame.copy()
    shown_as = {}  # a column or index name of ``frame`` -> its header in the table
    if frame.columns.nlevels == 1 and frame.columns.name is not None:
        if all(isinstance(label, numbers.Number) for label in frame.columns):
            name = SHORT_NAMES.get(frame.columns.name, readable(frame.columns.name))
            shown_as = {label: f"{name} = {label:,}" for label in frame.columns}
            frame.columns = list(shown_as.values())
        frame.columns.name = None
    if frame.index.nlevels == 1 and frame.index.name is None and pd.api.types.is_integer_dtype(frame.index):
        frame = frame.reset_index(drop=True)  # row numbers (e.g. of a filtered frame) mean nothing here
    if not isinstance(frame.index, pd.RangeIndex):
        levels = [name if name is not None else "" for name in frame.index.names]
        frame = frame.reset_index(names=levels if frame.columns.nlevels == 1 else None)
        keys = list(frame.columns[:len(levels)])
        leading = frame[keys]
        same = (leading == leading.shift()).to_numpy().cumprod(axis=1).astype(bool)  # equal up to here
        for i, key in enumerate(keys[:-1]):  # a value equal to the one above, under the same parents
            frame[key] = frame[key].astype(object).where(~same[:, i], "")
    if frame.columns.nlevels == 1:
        names = {column: readable(column) for column in frame.columns}
        frame = frame.rename(columns=names)
        shown_as = {**{key: names.get(value, value) for key, value in shown_as.items()}, **names}
    formats = {shown_as.get(key, key): value for key, value in (formats or {}).items()}
    missing = sorted(set(formats) - set(frame.columns), key=str)
    if missing:
        raise ValueError(f"formats name columns the table does not have: {missing}; "
                         f"its columns are {list(frame.columns)}")
    whole = {column: "{:,.0f}" for column in frame.columns if _whole(frame[column])}
    styler = frame.style.format(precision=digits, na_rep="–", thousands=",").hide(axis="index")
    own = {**whole, **formats}
    if own:  # only these columns: a second format call would reset every other column's precision
        styler = styler.format(own, subset=list(own), na_rep="–")
    styler.to_html()
    return styler


def long_table(frame: pd.DataFrame, keys: list[str], values: list[str],
               summary: dict[str, str] | None = None) -> pd.DataFrame:
    """The long form of ``frame`` for ``table``: one row per combination of ``keys`` (in the order
    first seen), the ``values`` columns beside them; ``summary`` maps a key to a column holding one
    value per level of that key (e.g. ``{"claim": "overall"}``), shown once, right after the key."""
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"expected a pandas DataFrame, got {type(frame).__name__}")
    summary = summary or {}
    wanted = list(keys) + list(values) + list(summary.values())
    missing = [column for column in wanted if column not in frame.columns]
    if missing:
        raise KeyError(f"long_table: the frame lacks the columns {missing}; it has {list(frame.columns)}")
    unknown = [key for key in summary if key not in keys]
    if unknown:
        raise ValueError(f"long_table: summary keys {unknown} are not among the keys {keys}")
    for key, column in summary.items():
        if (frame.groupby(key, sort=False)[column].nunique(dropna=False) > 1).any():
            raise ValueError(f"long_table: {column!r} takes more than one value for some {key!r}")
    index = []
    for key in keys:
        index.append(key)
        if key in summary:
            index.append(summary[key])
    order = frame[keys].drop_duplicates()
    long = order.merge(frame, on=keys, how="left", sort=False)
    return long.set_index(index)[list(values)]
