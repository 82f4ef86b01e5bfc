"""Row → Sample rules shared by every source."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from evalkit.catalog.spec import AnswerFormat, ColumnMap
from evalkit.data.cells import CellReading
from evalkit.data.row_mapping import (
    ErrorImage,
    build_sample,
    check_columns,
    image_items,
    is_blank,
    parse_answers,
    parse_index,
    parse_scalar,
    path_ref,
)
from evalkit.data.sample import FileImage, Sample
from evalkit.errors import DataError, SampleError

MCQ = ColumnMap(option_letters="ABCD", hint="hint", metadata=("category",))


def test_index_is_int_for_integer_literals_only() -> None:
    assert parse_index("42", "w") == 42
    assert parse_index(" -7 ", "w") == -7
    assert parse_index(12, "w") == 12
    assert parse_index(3.0, "w") == 3
    assert parse_index("12a", "w") == "12a"
    assert parse_index("1.5", "w") == "1.5"
    with pytest.raises(DataError, match="w: blank index"):
        parse_index("", "w")


@pytest.mark.parametrize("value", [None, "", "  ", "nan", "NaN", float("nan")])
def test_blank_cells(value: object) -> None:
    assert is_blank(value)


@pytest.mark.parametrize("value", ["0", "None of these", 0, 0.0, "n"])
def test_non_blank_cells(value: object) -> None:
    assert not is_blank(value)


def test_options_keep_present_letters_in_order() -> None:
    row = {
        "index": "1",
        "question": "q",
        "answer": "C",
        "A": "one",
        "B": "nan",
        "C": "three",
        "D": "",
        "hint": "nan",
        "category": "x",
    }
    sample = build_sample(row, MCQ, (), "w")  # literal: only the empty cell is missing
    assert sample.options == (("A", "one"), ("B", "nan"), ("C", "three"))
    assert sample.hint == "nan"
    assert sample.answers == ("C",)
    as_pandas = build_sample(row, MCQ, (), "w", CellReading("pandas"))  # "nan" is one of pandas' NA strings
    assert as_pandas.options == (("A", "one"), ("C", "three"))
    assert as_pandas.hint is None


def test_pandas_floats_from_integer_columns_print_as_integers() -> None:
    row = {"index": 5.0, "question": "q", "answer": 2.0, "A": 1.0, "B": 2.5, "hint": None, "category": 3.0}
    sample = build_sample(row, MCQ, (), "w")
    assert sample.index == 5
    assert sample.options == (("A", "1"), ("B", "2.5"))
    assert sample.answers == ("2",)
    assert sample.metadata == {"category": 3.0}


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("['a', 'b']", ("a", "b")),
        ('["x", "y z"]', ("x", "y z")),
        ("[1, 2.5]", ("1", "2.5")),
        ("yes", ("yes",)),
        ("42", ("42",)),
        ("['unclosed", ("['unclosed",)),
        ("", ()),
        (float("nan"), ()),
        (["real", "list"], ("real", "list")),
    ],
)
def test_list_answers(cell: object, expected: tuple[str, ...]) -> None:
    assert parse_answers(cell, "list") == expected


def test_text_answers_are_one_answer_even_when_they_look_like_lists() -> None:
    assert parse_answers("['a', 'b']", "text") == ("['a', 'b']",)
    assert parse_answers("", "text") == ()
    # the text "nan": as written (literal), and str(NaN) where pandas reads it as missing
    assert parse_answers("nan", "text") == ("nan",)
    assert parse_answers("N/A", "text", reading=CellReading("pandas")) == ("nan",)


def test_options_list_column_gets_letters() -> None:
    columns = ColumnMap(options_list="choices")
    sample = build_sample(
        {"index": 1, "question": "q", "answer": "B", "choices": "['x', 'y', 'z']"}, columns, (), "w"
    )
    assert sample.options == (("A", "x"), ("B", "y"), ("C", "z"))
    real = build_sample({"index": 1, "question": "q", "answer": "B", "choices": ["p", "q"]}, columns, (), "w")
    assert real.options == (("A", "p"), ("B", "q"))
    with pytest.raises(DataError, match="w: column 'choices' is not a list"):
        build_sample({"index": 1, "question": "q", "answer": "B", "choices": "x, y"}, columns, (), "w")


def test_metadata_scalars_and_optional_columns() -> None:
    columns = ColumnMap(metadata=("a", "b", "c", "d"), optional=("split", "d"))
    row = {"index": 1, "question": "q", "answer": "x", "a": "12", "b": "1.5e3", "c": "inf", "split": "dev"}
    assert build_sample(row, columns, (), "w").metadata == {"a": 12, "b": 1500.0, "c": "inf", "split": "dev"}
    assert parse_scalar(float("nan")) is None
    assert math.isclose(parse_scalar("-.5"), -0.5)


def test_turns() -> None:
    columns = ColumnMap(turns=("t1", "t2", "t3"), answer=None)
    sample = build_sample({"index": 1, "t1": "first", "t2": "second", "t3": ""}, columns, (), "w")
    assert sample.turns == ("first", "second")
    assert sample.is_multi_turn
    assert sample.answers == ()


def test_missing_column_message() -> None:
    with pytest.raises(DataError) as caught:
        check_columns(["index", "question"], ColumnMap(), location="f.tsv", suite="S")
    assert str(caught.value) == "f.tsv: missing column 'answer' (needed by S)"


def test_image_items_forms() -> None:
    assert image_items(None) == []
    assert image_items("") == []
    assert image_items("['aaa', 'bbb']") == ["aaa", "bbb"]
    assert image_items("abc") == ["abc"]
    assert image_items([b"1", b"2"]) == [b"1", b"2"]
    assert image_items({"bytes": None, "path": None}) == []
    assert image_items({"bytes": b"x", "path": None}) == [{"bytes": b"x", "path": None}]


def test_paths_may_not_escape_the_data_folder(tmp_path: Path) -> None:
    inside = path_ref("imgs/a.png", tmp_path, "o")
    assert isinstance(inside, FileImage) and inside.path == (tmp_path / "imgs" / "a.png").resolve()
    for bad in ("../outside.png", "imgs/../../outside.png", "/etc/passwd"):
        ref = path_ref(bad, tmp_path, "o")
        assert isinstance(ref, ErrorImage)
        with pytest.raises(SampleError, match="escapes the data folder"):
            ref.load()


cells = st.one_of(
    st.text(), st.sampled_from(["", "nan", "[", "['a',", "[[[[", "[1, [2]]", "{'a': 1}", "\x00"])
)


@settings(max_examples=300, deadline=None)
@given(
    a=cells,
    b=cells,
    answer=cells,
    choices=cells,
    fmt=st.sampled_from(("text", "list")),
    use_list=st.booleans(),
)
def test_arbitrary_cells_never_crash(
    a: str, b: str, answer: str, choices: str, fmt: AnswerFormat, use_list: bool
) -> None:
    columns = ColumnMap(
        option_letters="" if use_list else "AB",
        options_list="choices" if use_list else None,
        answer_format=fmt,
    )
    row = {"index": "1", "question": "q", "A": a, "B": b, "answer": answer, "choices": choices}
    try:
        sample = build_sample(row, columns, (), "w")
    except DataError:
        assert use_list
        return
    assert isinstance(sample, Sample)
    assert all(isinstance(text, str) for text in sample.answers)
    assert all(isinstance(letter, str) and isinstance(text, str) for letter, text in sample.options)
    if not use_list:
        assert [letter for letter, _ in sample.options] == [k for k, v in (("A", a), ("B", b)) if v != ""]
