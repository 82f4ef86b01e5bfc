"""The cell rules of :mod:`evalkit.data.cells`, checked against pandas itself (the references' reader)."""

from __future__ import annotations

import io
import math
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pandas._libs.parsers import STR_NA_VALUES

from evalkit.catalog.spec import ColumnMap
from evalkit.data.cells import PANDAS_NA_STRINGS, column_kind, render
from evalkit.data.local_file import read_data_file
from evalkit.data.vlmevalkit_tsv import read_tsv

COLUMNS = ColumnMap(option_letters="AB", hint="hint", images=(), metadata=("category",))
#: The cells the issue names, and their neighbours that are not missing.
ISSUE_NA = ["None", "N/A", "NA", "NULL", "null", "n/a", "NaN", "nan", "#N/A", "<NA>"]
NOT_NA = ["NAN", " NA", "none", "Na", "NONE", " ", "  ", "null ", "-"]


def test_the_na_strings_are_pandas_defaults() -> None:
    assert frozenset(STR_NA_VALUES) == PANDAS_NA_STRINGS


def tsv(rows: list[list[str]], header: list[str]) -> str:
    return "\n".join(["\t".join(header), *("\t".join(row) for row in rows)]) + "\n"


def pandas_text(value: object) -> str | None:
    """What a reference prints for a cell pandas read: f"{value}", None when NaN."""
    if isinstance(value, float) and math.isnan(value):
        return None
    return f"{value}"


def evalkit_and_pandas(tmp_path: Path, a_cells: list[str], hints: list[str]) -> tuple[list, list]:
    header = ["index", "question", "hint", "A", "B", "answer", "category"]
    rows = [[str(i), "q", hint, cell, "x", "A", "c"] for i, (cell, hint) in enumerate(zip(a_cells, hints, strict=True))]
    text = tsv(rows, header)
    path = tmp_path / "cells.tsv"
    path.write_text(text, encoding="utf-8")
    samples = read_tsv(path, COLUMNS, suite="S", cells="pandas").samples
    frame = pd.read_csv(io.StringIO(text), sep="\t")
    ours = [(dict(s.options).get("A"), s.hint) for s in samples]
    theirs = [(pandas_text(a), pandas_text(h)) for a, h in zip(frame["A"], frame["hint"], strict=True)]
    return ours, theirs


def test_each_na_string_is_missing_and_its_neighbours_are_text(tmp_path: Path) -> None:
    cells = ISSUE_NA + NOT_NA + ["word"]
    ours, theirs = evalkit_and_pandas(tmp_path, cells, cells)
    assert ours == theirs
    assert ours[:10] == [(None, None)] * 10
    assert ours[10:13] == [("NAN", "NAN"), (" NA", " NA"), ("none", "none")]
    assert ours[15] == (" ", " ")  # whitespace is kept by pandas: a hint of one space


def test_a_column_of_numbers_is_read_as_pandas_types_it(tmp_path: Path) -> None:
    ours, theirs = evalkit_and_pandas(tmp_path, ["3", "", "4.5", "1e3"], ["h"] * 4)
    assert ours == theirs == [("3.0", "h"), (None, "h"), ("4.5", "h"), ("1000.0", "h")]
    ours, theirs = evalkit_and_pandas(tmp_path, ["007", "+3", "-0", " 12 "], ["h"] * 4)
    assert ours == theirs == [("7", "h"), ("3", "h"), ("0", "h"), ("12", "h")]
    ours, theirs = evalkit_and_pandas(tmp_path, ["true", "FALSE", "True"], ["h"] * 3)
    assert ours == theirs == [("True", "h"), ("False", "h"), ("True", "h")]
    ours, theirs = evalkit_and_pandas(tmp_path, ["3", "three"], ["h"] * 2)
    assert ours == theirs == [("3", "h"), ("three", "h")]


def test_kinds_and_rendering() -> None:
    assert column_kind(["1", "2"], has_missing=False) == "int"
    assert column_kind(["1", "2"], has_missing=True) == "float"
    assert column_kind(["1", "inf"], has_missing=False) == "float"
    assert column_kind(["1_000"], has_missing=False) == "text"
    assert column_kind(["１"], has_missing=False) == "text"  # pandas parses ASCII digits only
    assert column_kind(["99999999999999999999"], has_missing=False) == "text"
    assert render("1e-7", "float") == "1e-07" and render("-0.0", "float") == "-0.0" and render("TRUE", "bool") == "True"


CELL = st.one_of(
    st.sampled_from(sorted(PANDAS_NA_STRINGS) + NOT_NA + ["True", "false", "inf", "-Infinity", "1.", ".5", "007"]),
    st.integers(-10**6, 10**6).map(str),
    st.floats(allow_nan=False, allow_infinity=False, width=32).map(repr),
    st.from_regex(r"[a-z]{1,4}", fullmatch=True),
)


@settings(max_examples=150, deadline=None)
@given(a_cells=st.lists(CELL, min_size=1, max_size=6), hints=st.lists(CELL, min_size=6, max_size=6))
def test_random_columns_read_as_pandas_reads_them(tmp_path_factory: pytest.TempPathFactory, a_cells: list[str],
                                                  hints: list[str]) -> None:
    ours, theirs = evalkit_and_pandas(tmp_path_factory.mktemp("h"), a_cells, hints[: len(a_cells)])
    assert [a for a, _ in ours] == [a for a, _ in theirs]
    # a hint is text as written (a reference that reads numbers there fails on it), missing where pandas says so
    assert [h is None for _, h in ours] == [h is None for _, h in theirs]


def test_xlsx_under_pandas_uses_pandas_defaults(tmp_path: Path) -> None:
    frame = pd.DataFrame({"index": [1, 2, 3], "question": ["None", "q", "q"], "hint": ["N/A", " ", "h"],
                          "A": ["cat", "NULL", "dog"], "B": ["3", "", "4"], "answer": ["A", "A", "None"],
                          "category": ["c", "NA", "c"]})
    path = tmp_path / "cells.xlsx"
    frame.to_excel(path, index=False)
    samples = read_data_file(path, COLUMNS, suite="S", cells="pandas").samples
    assert [s.question for s in samples] == ["None", "q", "q"]  # the question is taken as written
    assert [s.hint for s in samples] == [None, " ", "h"]
    assert [s.options for s in samples] == [(("A", "cat"), ("B", "3.0")), (), (("A", "dog"), ("B", "4.0"))]
    assert [s.answers for s in samples] == [("A",), ("A",), ("nan",)]
    assert [s.metadata.get("category") for s in samples] == ["c", None, "c"]


def test_literal_keeps_every_written_cell(tmp_path: Path) -> None:
    text = tsv([["1", "q", "None", "N/A", "3", "A", "NA"]], ["index", "question", "hint", "A", "B", "answer",
                                                              "category"])
    path = tmp_path / "cells.tsv"
    path.write_text(text, encoding="utf-8")
    (sample,) = read_tsv(path, COLUMNS, suite="S").samples
    assert sample.hint == "None" and sample.options == (("A", "N/A"), ("B", "3"))
    assert sample.metadata["category"] == "NA"


def test_an_answer_pandas_reads_as_missing_is_the_text_nan(tmp_path: Path) -> None:
    """VLMEvalKit formats answers with ``str`` (``ImageVQADataset.evaluate_heuristic`` @e8e78f05): NaN → "nan";
    an empty answer cell is no answer (hidden)."""
    text = tsv([["1", "q", "None"], ["2", "q", ""], ["3", "q", "3"]], ["index", "question", "answer"])
    path = tmp_path / "answers.tsv"
    path.write_text(text, encoding="utf-8")
    samples = read_tsv(path, ColumnMap(images=()), suite="S", cells="pandas").samples
    assert [s.answers for s in samples] == [("nan",), (), ("3.0",)]
