"""``--data-file`` readers: .tsv, .csv, .parquet, .jsonl, .xlsx."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pandas as pd
import pytest

from evalkit.catalog.spec import ColumnMap
from evalkit.data.local_file import read_data_file
from evalkit.errors import DataError, SampleError

from .fixtures import BLUE, GREEN, MCQ_COLUMNS, RED, YELLOW, b64, image_pixels, mcq_rows, pixels, write_tsv

MULTI = ColumnMap(images=("image", "extra"), metadata=("category",), optional=("extra",))


def test_tsv_data_file_reports_md5(tmp_path: Path) -> None:
    path = tmp_path / "mine.tsv"
    md5 = write_tsv(path, mcq_rows())
    data = read_data_file(path, MCQ_COLUMNS, suite="S")
    assert data.md5 == md5
    assert [s.index for s in data.samples] == [1, 2, 3, 4, 5, 6]
    assert image_pixels(data.samples[2].images[0].load()) == pixels(RED)


def test_csv_data_file(tmp_path: Path) -> None:
    path = tmp_path / "mine.csv"
    pd.DataFrame(mcq_rows()[:2]).to_csv(path, index=False)
    samples = read_data_file(path, MCQ_COLUMNS, suite="S").samples
    assert samples[1].options == (("A", "red"), ("B", "green"), ("C", "blue"))
    assert image_pixels(samples[1].images[0].load()) == pixels(GREEN)


def test_parquet_with_bytes_structs_and_base64(tmp_path: Path) -> None:
    path = tmp_path / "mine.parquet"
    frame = pd.DataFrame(
        {
            "index": [1, 2, 3],
            "question": ["bytes", "struct", "base64"],
            "answer": ["a", "b", None],
            "image": [RED, b"", None],
            "extra": [None, {"bytes": GREEN, "path": None}, None],
            "category": ["x", "y", "z"],
        }
    )
    frame.to_parquet(path, row_group_size=2)
    text = pd.DataFrame(
        {"index": [4], "question": ["b64"], "answer": ["c"], "image": [b64(BLUE)], "category": [1]}
    )
    text_path = tmp_path / "text.parquet"
    text.to_parquet(text_path)

    data = read_data_file(path, MULTI, suite="S")
    assert data.md5 == hashlib.md5(path.read_bytes()).hexdigest()
    one, two, three = data.samples
    assert (one.index, one.question, one.answers, dict(one.metadata)) == (
        1,
        "bytes",
        ("a",),
        {"category": "x"},
    )
    assert three.answers == ()
    assert [len(s.images) for s in data.samples] == [1, 1, 0]
    assert image_pixels(one.images[0].load()) == pixels(RED)
    assert image_pixels(two.images[0].load()) == pixels(GREEN)  # second row group
    (four,) = read_data_file(text_path, MULTI, suite="S").samples
    assert four.metadata == {"category": 1}
    assert image_pixels(four.images[0].load()) == pixels(BLUE)


def test_parquet_missing_column(tmp_path: Path) -> None:
    path = tmp_path / "lean.parquet"
    pd.DataFrame({"index": [1], "question": ["q"], "image": [RED]}).to_parquet(path)
    with pytest.raises(DataError) as caught:
        read_data_file(path, ColumnMap(), suite="S")
    assert str(caught.value) == f"{path}: missing column 'answer' (needed by S)"


def _write_jsonl(path: Path, objects: list[dict[str, object]]) -> None:
    path.write_text("".join(json.dumps(obj) + "\n" for obj in objects), encoding="utf-8")


def test_jsonl_base64_lists_and_paths(tmp_path: Path) -> None:
    (tmp_path / "imgs").mkdir()
    (tmp_path / "imgs" / "yellow.png").write_bytes(YELLOW)
    (tmp_path.parent / "secret.png").write_bytes(RED)
    path = tmp_path / "mine.jsonl"
    columns = ColumnMap(answer_format="list", image_paths=("file",), optional=("image", "file"))
    _write_jsonl(
        path,
        [
            {"index": 1, "question": "one", "answer": ["x", "y"], "image": b64(BLUE)},
            {"index": 2, "question": "two", "answer": "['p']", "image": [b64(GREEN), b64(RED)]},
            {"index": "c", "question": "three", "answer": "z", "file": "imgs/yellow.png"},
            {"index": 4, "question": "four", "answer": "z", "file": "../secret.png"},
            {"index": 5, "question": "five", "answer": "z", "file": str(tmp_path.parent / "secret.png")},
        ],
    )
    path.write_text(path.read_text(encoding="utf-8") + "\n", encoding="utf-8")  # a trailing blank line
    data = read_data_file(path, columns, suite="S")
    assert data.md5 == hashlib.md5(path.read_bytes()).hexdigest()
    one, two, three, four, five = data.samples
    assert (one.answers, two.answers, three.answers) == (("x", "y"), ("p",), ("z",))
    assert three.index == "c"
    assert image_pixels(one.images[0].load()) == pixels(BLUE)
    assert [image_pixels(ref.load()) for ref in two.images] == [pixels(GREEN), pixels(RED)]
    assert image_pixels(three.images[0].load()) == pixels(YELLOW)
    for escaping in (four, five):
        with pytest.raises(SampleError, match="escapes the data folder"):
            escaping.images[0].load()


def test_jsonl_corrupt_line_names_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text(
        '{"index": 1, "question": "q", "answer": "a", "image": ""}\n{"index": 2,\n', encoding="utf-8"
    )
    with pytest.raises(DataError, match=r"bad\.jsonl: line 2: invalid JSON"):
        read_data_file(path, ColumnMap(), suite="S")


def test_jsonl_missing_column_in_a_later_line(tmp_path: Path) -> None:
    path = tmp_path / "holes.jsonl"
    _write_jsonl(path, [{"index": 1, "question": "q", "answer": "a", "image": ""}, {"index": 2, "image": ""}])
    with pytest.raises(DataError, match=r"holes\.jsonl: line 2: missing column 'question' \(needed by S\)"):
        read_data_file(path, ColumnMap(), suite="S")


def test_jsonl_corrupt_image_fails_only_on_load(tmp_path: Path) -> None:
    path = tmp_path / "img.jsonl"
    _write_jsonl(path, [{"index": 1, "question": "q", "answer": "a", "image": b64(b"not a png at all" * 8)}])
    (sample,) = read_data_file(path, ColumnMap(), suite="S").samples
    with pytest.raises(SampleError, match="unreadable image"):
        sample.images[0].load()


def test_xlsx_data_file(tmp_path: Path) -> None:
    pytest.importorskip("openpyxl")
    path = tmp_path / "sheet.xlsx"
    pd.DataFrame(mcq_rows()[1:2]).to_excel(path, index=False)
    (sample,) = read_data_file(path, MCQ_COLUMNS, suite="S").samples
    assert (sample.index, sample.options, sample.answers) == (
        2,
        (("A", "red"), ("B", "green"), ("C", "blue")),
        ("B",),
    )
    assert image_pixels(sample.images[0].load()) == pixels(GREEN)


def test_unknown_extension_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(DataError) as caught:
        read_data_file(tmp_path / "data.xml", ColumnMap(), suite="S")
    assert "data.xml" in str(caught.value) and ".tsv" in str(caught.value) and ".jsonl" in str(caught.value)
    with pytest.raises(DataError, match=r"cannot read .*absent\.parquet"):
        read_data_file(tmp_path / "absent.parquet", ColumnMap(), suite="S")
