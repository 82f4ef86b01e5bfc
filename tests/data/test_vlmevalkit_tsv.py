"""The streaming VLMEvalKit TSV reader, on files written the way VLMEvalKit writes them."""

from __future__ import annotations

import csv
import hashlib
import io
import tracemalloc
from pathlib import Path

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from evalkit.catalog.spec import ColumnMap
from evalkit.data.sample import Sample
from evalkit.data.vlmevalkit_tsv import iter_records, parse_fields, read_tsv
from evalkit.errors import DataError, SampleError

from .fixtures import (
    BLUE,
    GREEN,
    MCQ_COLUMNS,
    RED,
    TRICKY_QUESTION,
    YELLOW,
    image_pixels,
    mcq_rows,
    pixels,
    write_noise_tsv,
    write_tsv,
)


@pytest.fixture()
def mcq_file(tmp_path: Path) -> tuple[Path, str]:
    path = tmp_path / "MCQ_TEST.tsv"
    return path, write_tsv(path, mcq_rows())


def _load(path: Path, columns: ColumnMap = MCQ_COLUMNS) -> list[Sample]:
    return read_tsv(path, columns, suite="MCQ_TEST").samples


def test_file_really_has_quoted_multiline_records(mcq_file: tuple[Path, str]) -> None:
    path, _ = mcq_file
    text = path.read_text(encoding="utf-8")
    assert '"What is ""this""?\tIt has a tab,\na newline' in text
    assert len(text.splitlines()) == 8  # header + 6 rows, one of them on two lines


def test_every_text_field(mcq_file: tuple[Path, str]) -> None:
    samples = _load(mcq_file[0])
    assert [s.index for s in samples] == [1, 2, 3, 4, 5, 6]
    first = samples[0]
    assert first.question == TRICKY_QUESTION
    assert first.options == (("A", "cat"), ("B", "dog"), ("C", "bird"), ("D", "fish"))
    assert first.answers == ("A",)
    assert first.hint == "a hint"
    assert first.turns == ()
    assert dict(first.metadata) == {"category": "animals", "l2-category": "pets", "split": "dev"}
    second = samples[1]
    assert second.options == (("A", "red"), ("B", "green"), ("C", "blue"))
    assert second.hint is None
    assert second.answers == ("B",)
    assert samples[3].options == (("A", "1"), ("B", "2"), ("C", "3"))
    assert samples[4].question == "Broken image."
    assert dict(samples[5].metadata) == {"category": "broken", "l2-category": "ref", "split": "dev"}


def test_images_are_pixel_exact_and_references_resolve(mcq_file: tuple[Path, str]) -> None:
    samples = _load(mcq_file[0])
    assert [len(s.images) for s in samples] == [1, 1, 1, 2, 1, 1]
    assert image_pixels(samples[0].images[0].load()) == pixels(RED)
    assert image_pixels(samples[1].images[0].load()) == pixels(GREEN)
    assert image_pixels(samples[2].images[0].load()) == pixels(RED)  # short reference to index 1
    assert image_pixels(samples[3].images[0].load()) == pixels(BLUE)
    assert image_pixels(samples[3].images[1].load()) == pixels(YELLOW)


def test_bad_images_fail_only_their_sample(mcq_file: tuple[Path, str]) -> None:
    samples = _load(mcq_file[0])
    with pytest.raises(SampleError, match="unreadable image"):
        samples[4].images[0].load()
    with pytest.raises(SampleError, match="unknown index '999'"):
        samples[5].images[0].load()


def test_md5_is_computed_and_checked(mcq_file: tuple[Path, str]) -> None:
    path, md5 = mcq_file
    assert read_tsv(path, MCQ_COLUMNS, suite="S", expected_md5=md5).md5 == md5
    with pytest.raises(DataError) as caught:
        read_tsv(path, MCQ_COLUMNS, suite="S", expected_md5="0" * 32)
    assert str(path) in str(caught.value) and md5 in str(caught.value) and "0" * 32 in str(caught.value)


def test_missing_column_names_file_column_and_suite(tmp_path: Path) -> None:
    path = tmp_path / "NoAnswer.tsv"
    write_tsv(path, [{k: v for k, v in row.items() if k != "answer"} for row in mcq_rows()])
    with pytest.raises(DataError) as caught:
        read_tsv(path, MCQ_COLUMNS, suite="MMBench_DEV_EN")
    assert str(caught.value) == f"{path}: missing column 'answer' (needed by MMBench_DEV_EN)"


def test_optional_and_option_columns_may_be_absent(tmp_path: Path) -> None:
    path = tmp_path / "Lean.tsv"
    rows = [{k: v for k, v in row.items() if k not in ("split", "D")} for row in mcq_rows()[:2]]
    write_tsv(path, rows)
    samples = _load(path)
    assert samples[0].options == (("A", "cat"), ("B", "dog"), ("C", "bird"))
    assert "split" not in samples[0].metadata


def test_wrong_field_count_names_line(tmp_path: Path) -> None:
    path = tmp_path / "Bad.tsv"
    path.write_text("index\timage\tquestion\tanswer\n1\tAAAA\tq\ta\n2\tBBBB\tq\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"Bad\.tsv: line 3 \(row 2\): 3 fields, the header has 4"):
        read_tsv(path, ColumnMap(), suite="S")


def test_unterminated_quote_is_a_data_error(tmp_path: Path) -> None:
    path = tmp_path / "Open.tsv"
    path.write_text('index\timage\tquestion\tanswer\n1\tAAAA\t"open\ta\n', encoding="utf-8")
    with pytest.raises(DataError, match="unterminated quoted field starting at line 2"):
        read_tsv(path, ColumnMap(), suite="S")


def test_unreadable_file_is_a_data_error(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"cannot read .*absent\.tsv"):
        read_tsv(tmp_path / "absent.tsv", ColumnMap(), suite="S")


def test_list_answers_and_metadata_types(tmp_path: Path) -> None:
    path = tmp_path / "VQA.tsv"
    rows = [
        {
            "index": "a-1",
            "image": "b-2",
            "question": "q",
            "answer": "['yes', 'Yes', \"it's\"]",
            "width": 640,
            "score": 0.5,
            "note": "text",
        },
        {
            "index": "b-2",
            "image": "x" * 80,
            "question": "q2",
            "answer": "plain",
            "width": 10,
            "score": 1.25,
            "note": "",
        },
    ]
    write_tsv(path, rows)
    columns = ColumnMap(answer_format="list", metadata=("width", "score", "note"))
    first, second = _load(path, columns)
    assert first.index == "a-1"
    assert first.answers == ("yes", "Yes", "it's")
    assert second.answers == ("plain",)
    assert dict(first.metadata) == {"width": 640, "score": 0.5, "note": "text"}
    assert dict(second.metadata) == {"width": 10, "score": 1.25, "note": ""}
    # "b-2" is a short reference to the next row: the image comes from there (and is not a PNG).
    assert first.images[0].description == second.images[0].description


def test_file_changed_after_reading_fails_the_load(mcq_file: tuple[Path, str]) -> None:
    path, _ = mcq_file
    samples = _load(path)
    path.write_bytes(path.read_bytes() + b"\n")
    with pytest.raises(SampleError, match="changed since it was read"):
        samples[0].images[0].load()


def test_memory_stays_flat_on_a_large_file(tmp_path: Path) -> None:
    path = tmp_path / "Big.tsv"
    write_noise_tsv(path, rows=2000, side=100)
    size = path.stat().st_size
    assert size > 70_000_000
    tracemalloc.start()
    try:
        data = read_tsv(path, ColumnMap(), suite="Big")
        loaded = data.samples[1234].images[0].load()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(data.samples) == 2000
    assert data.md5 == hashlib.md5(path.read_bytes()).hexdigest()
    assert loaded.size == (100, 100)
    assert peak < 0.25 * size, f"peak {peak} bytes for a {size}-byte file"


field_text = st.text(
    alphabet=st.sampled_from(['"', "\t", "\n", "\r", "a", "b", " ", "[", "é", ","]), max_size=12
)


@settings(max_examples=300, deadline=None)
@given(
    rows=st.lists(st.lists(field_text, min_size=2, max_size=5), min_size=1, max_size=4),
    ending=st.sampled_from(["\n", "\r\n"]),
)
def test_records_and_fields_match_the_csv_module(rows: list[list[str]], ending: str) -> None:
    width = len(rows[0])
    rows = [(row + [""] * width)[:width] for row in rows]
    # With "\n" line ends the writer leaves a lone "\r" unquoted, which no reader can round-trip.
    assume(ending == "\r\n" or all("\r" not in f or any(c in f for c in '\t\n"') for r in rows for f in r))
    buffer = io.StringIO()
    csv.writer(buffer, delimiter="\t", lineterminator=ending).writerows(rows)
    raw = buffer.getvalue().encode("utf-8")
    records = list(iter_records(io.BytesIO(raw), hashlib.md5(), Path("x.tsv")))
    parsed = [parse_fields(data, "\t") for _, data in records if data.strip(b"\r\n")]
    expected = [row for row in csv.reader(io.StringIO(buffer.getvalue(), newline=""), delimiter="\t") if row]
    assert parsed == expected == rows
    assert b"".join(data for _, data in records) == raw
    assert all(raw[r.offset : r.offset + r.length] == data for r, data in records)
