"""Named bad inputs with the exact messages they must give, through the loaders and through the CLI."""

from __future__ import annotations

import io
import json
import random
import subprocess
import time
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from PIL import Image

from evalkit.errors import SampleError
from tests.cli.test_cli import run_cli
from tests.fuzzing import (
    COUNTS,
    HANG_SECONDS,
    b64,
    broken_chunk_png,
    check_outcome,
    docvqa_row,
    half_workbook,
    png,
    report_counts,  # noqa: F401  (an autouse fixture: prints the counts)
    row_colour,
    time_limit,
    tsv_text,
    zip_bytes,
)

GOOD = b64(png(0))
#: (name, file name, content, fragments the DataError must contain) — each must fail to load, naming the file.
BAD_FILES: list[tuple[str, str, bytes, tuple[str, ...]]] = [
    ("missing answer column", "d.tsv", tsv_text([{"index": 0, "image": GOOD, "question": "q"}]),
     ("missing column 'answer'",)),
    ("row with a field too few", "d.tsv", tsv_text([docvqa_row(0)]) + b"1\tq1\n", ("line 3", "fields")),
    ("invalid UTF-8 in a row", "d.tsv", tsv_text([docvqa_row(0)]) + "2\t\xff\tq\t[]\n".encode("latin-1"),
     ("line 3",)),
    ("unterminated quote", "d.tsv", tsv_text([docvqa_row(0)]) + b'1\t"never closed\tq\t[]\n', ("line 3",)),
    ("empty file", "d.tsv", b"", ("empty file",)),
    ("utf-16 file", "d.tsv", tsv_text([docvqa_row(0)]).decode().encode("utf-16"), ("line 1",)),
    ("blank index", "d.tsv", tsv_text([docvqa_row(0), {**docvqa_row(1), "index": " "}]), ("line 3", "blank index")),
    ("duplicate index", "d.tsv", tsv_text([docvqa_row(7), docvqa_row(8), {**docvqa_row(9), "index": "007"}]),
     ("index 7", "1", "3")),
    ("jsonl: not JSON", "d.jsonl", b'{"index": 0, "question": "q", "answer": "a", "image": "x"}\n{"index": 1,\n',
     ("line 2", "invalid JSON")),
    ("jsonl: a list line", "d.jsonl", b'[1, 2]\n', ("line 1", "JSON object")),
    ("jsonl: column missing in line 2", "d.jsonl",
     b'{"index": 0, "question": "q", "answer": "a", "image": "x"}\n{"index": 1, "question": "q", "image": "x"}\n',
     ("line 2", "missing column 'answer'")),
    ("jsonl: lone surrogate", "d.jsonl", b'{"index": 0, "question": "q \\udc80", "answer": "a", "image": "x"}\n',
     ("line 1",)),
    ("jsonl: integer too long", "d.jsonl", b'{"index": ' + b"9" * 5000 + b', "question": "q"}\n', ("line 1",)),
    ("parquet: truncated", "d.parquet", b"PAR1" + bytes(50), ("cannot read",)),
    ("parquet: random bytes", "d.parquet", random.Random(1).randbytes(3000), ("cannot read",)),
    ("xlsx: random bytes", "d.xlsx", random.Random(2).randbytes(3000), ("cannot read",)),
    ("xlsx: a zip that is no workbook", "d.xlsx", zip_bytes({"a.txt": b"hi"}), ("cannot read",)),
    ("xlsx: a workbook cut in half", "d.xlsx", half_workbook(), ("cannot read",)),
    ("unsupported extension", "d.txt", b"index\tquestion\n", ("unsupported data file type",)),
]
CLI_BAD_FILES = [case for case in BAD_FILES if case[0] in (
    "missing answer column", "row with a field too few", "duplicate index", "jsonl: lone surrogate",
    "parquet: random bytes", "xlsx: a zip that is no workbook")]


@pytest.mark.parametrize(("name", "file_name", "content", "fragments"), BAD_FILES, ids=[c[0] for c in BAD_FILES])
def test_bad_file_is_one_data_error_naming_it(tmp_path, name, file_name, content, fragments):
    path = tmp_path / file_name
    path.write_bytes(content)
    outcome = check_outcome(path, "DocVQA_VAL", "named")
    assert isinstance(outcome, str), f"{name}: loaded instead of failing"
    for fragment in fragments:
        assert fragment in outcome, outcome


#: (name, image cell) — the file loads and this sample's image raises SampleError naming the file.
BAD_IMAGES: list[tuple[str, Any]] = [
    ("cut PNG", b64(png(1)[:40])),
    ("cut PNG, only the header", b64(png(1)[:8])),
    ("PNG with a broken chunk length", b64(broken_chunk_png(1))),
    ("PNG without its end", b64(png(1)[:-12] + bytes(4))),
    ("random bytes", b64(random.Random(3).randbytes(500))),
    ("wrong base64", b64(png(1)).replace("A", "*")[:-2] + "===="),
    ("non-ASCII base64", "ü" * 100),
    ("empty cell", ""),
    ("reference to an unknown index", "424242"),
    ("list literal with a bad item", str([b64(png(1)), "bad"])),
    ("base64 of zeros, 100 KB", "A" * 100_000),
]


@pytest.mark.parametrize(("name", "cell"), BAD_IMAGES, ids=[c[0] for c in BAD_IMAGES])
@pytest.mark.parametrize("suffix", [".tsv", ".jsonl", ".parquet"])
def test_bad_image_is_a_sample_error(tmp_path, name, cell, suffix):
    rows = [docvqa_row(0), docvqa_row(1, image=cell), docvqa_row(2)]
    path = tmp_path / f"images{suffix}"
    if suffix == ".tsv":
        path.write_bytes(tsv_text(rows))
    elif suffix == ".jsonl":
        path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    else:
        pq.write_table(pa.Table.from_pylist(rows), path)
    samples = check_outcome(path, "DocVQA_VAL", "named_image")
    assert not isinstance(samples, str), samples
    assert [sample.index for sample in samples] == [0, 1, 2]
    assert samples[0].images[0].load().getpixel((0, 0)) == row_colour(0)
    assert samples[2].images[0].load().getpixel((0, 0)) == row_colour(2)
    if cell == "":
        assert samples[1].images == ()  # an empty cell is no image: the model gets the question alone
        return
    if name == "PNG without its end":
        return  # Pillow may or may not decode a PNG whose IEND chunk is gone; both are fine
    errors = []
    for image in samples[1].images:
        try:
            image.load()  # the list literal's first item is a good image
        except SampleError as exc:
            errors.append(str(exc))
    assert errors and all(path.name in error for error in errors), errors


def test_every_single_byte_corruption_of_an_image_is_an_image_or_a_sample_error():
    """Each byte of a PNG, a JPEG and a GIF set to four other values: decoding gives RGB or SampleError."""
    from evalkit.data.sample import BytesImage

    encoded = []
    for image_format in ("PNG", "JPEG", "GIF"):
        buffer = io.BytesIO()
        Image.new("RGB", (9, 7), (10, 200, 30)).save(buffer, format=image_format)
        encoded.append(buffer.getvalue())
    for original in encoded:
        for position, byte in enumerate(original):
            for value in {0, 0xFF, byte ^ 0x01, byte ^ 0x80} - {byte}:
                damaged = original[:position] + bytes([value]) + original[position + 1 :]
                with time_limit(HANG_SECONDS):
                    try:
                        image = BytesImage(damaged, "damaged").load()
                    except SampleError:
                        COUNTS["byte_flip:sample_error"] += 1
                    else:
                        assert image.mode == "RGB"
                        COUNTS["byte_flip:decoded"] += 1


@pytest.mark.parametrize("image", [{"bytes": "text, not bytes"}, {"bytes": [1, 2, 300]}, {"bytes": -1},
                                   {"bytes": 10**12}, {"bytes": {"a": 1}}, [{"bytes": "x"}], {"path": "\x00"},
                                   {"path": "../../escape.png"}, 3.5, True])
def test_jsonl_image_objects_of_the_wrong_type(tmp_path, image):
    path = tmp_path / "objects.jsonl"
    path.write_text(json.dumps({**docvqa_row(0), "image": image}) + "\n", encoding="utf-8")
    samples = check_outcome(path, "DocVQA_VAL", "named_image")
    assert not isinstance(samples, str)
    for ref in samples[0].images:
        with pytest.raises(SampleError):
            ref.load()


def test_odd_unicode_text_survives_a_tsv_and_a_jsonl_exactly(tmp_path):
    odd = 'RTL \u200f\u202eabc\u202c, combining e\u0301\u0308, NUL \x00, tab\tquote " and ""; CRLF\r\nend\u2028'
    rows = [{**docvqa_row(0), "question": odd, "answer": str([odd, "nan", " x "])}, docvqa_row(1)]
    tsv, jsonl = tmp_path / "odd.tsv", tmp_path / "odd.jsonl"
    tsv.write_bytes(tsv_text(rows))
    jsonl.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    for path in (tsv, jsonl):
        samples = check_outcome(path, "DocVQA_VAL", "named")
        assert samples[0].question == odd
        # an item of a list literal is text as written: VLMEvalKit evals the cell, so 'nan' stays 'nan'
        assert samples[0].answers == (odd, "nan", " x ")


def test_nan_and_wrong_types_in_a_parquet_become_blanks_and_text(tmp_path):
    path = tmp_path / "typed.parquet"
    table = pa.table({"index": [0, 1], "image": [png(0), None], "question": [7.5, None],
                      "A": ["x", None], "B": [float("nan"), 2.0], "C": [None, None], "answer": [1, 2],
                      "hint": [["a", "b"], None], "category": [3, None], "l2-category": ["c", "d"],
                      "split": ["dev", "dev"]})
    pq.write_table(table, path)
    samples = check_outcome(path, "AI2D_TEST", "named")
    assert [s.question for s in samples] == ["7.5", ""]
    assert [s.options for s in samples] == [(("A", "x"),), (("B", "2"),)]
    assert [s.answers for s in samples] == [("1",), ("2",)]
    assert samples[0].hint == "['a', 'b']" and samples[1].hint is None
    assert samples[1].images == ()



# --------------------------------------------------------------------------- the CLI, end to end


def cli(tmp_path: Path, data: Path, benchmark: str = "DocVQA_VAL") -> tuple[subprocess.CompletedProcess[str], Path]:
    output = tmp_path / "run"
    result = run_cli(["run", "--model", "tiny-random", "--benchmarks", benchmark, "--data-file", str(data),
                      "--output", str(output), "--max-new-tokens", "4", "--no-progress"], tmp_path, timeout=240)
    COUNTS["cli:runs"] += 1
    return result, output / benchmark


@pytest.mark.parametrize(("name", "file_name", "content", "fragments"), CLI_BAD_FILES,
                         ids=[case[0] for case in CLI_BAD_FILES])
def test_cli_bad_file_exits_2_with_one_line(tmp_path, name, file_name, content, fragments):
    data = tmp_path / file_name
    data.write_bytes(content)
    result, _ = cli(tmp_path, data)
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 2, result.stderr
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    assert lines[0].startswith("evalkit: error: ") and data.name in lines[0]
    assert all(fragment in lines[0] for fragment in fragments), lines[0]


def test_cli_bad_images_and_odd_text_are_per_sample_errors(tmp_path):
    odd = "RTL \u200f\u202e, e\u0301\u0308, NUL \x00, tab\t, quote \", CRLF\r\n, \U0001f600"
    cells = [b64(png(0)), b64(png(1)[:40]), b64(random.Random(4).randbytes(300)), "not*base64!" * 10, "",
             b64(png(5)), "A" * 100_000, b64(broken_chunk_png(7))]
    rows = [{**docvqa_row(k, image=cell), "question": f"{odd} {k}"} for k, cell in enumerate(cells)]
    data = tmp_path / "mixed.tsv"
    data.write_bytes(tsv_text(rows))
    started = time.monotonic()
    result, folder = cli(tmp_path, data)
    COUNTS["cli:seconds"] += round(time.monotonic() - started)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    records = {record["index"]: record for record in map(json.loads, (folder / "predictions.jsonl").open())}
    assert sorted(records) == list(range(len(cells)))
    assert [k for k, record in records.items() if record["error"]] == [1, 2, 3, 6, 7]
    assert all(data.name in records[k]["error"] for k in (1, 2, 3, 6, 7))
    assert all(records[k]["prediction"] for k in (0, 4, 5))
    scores = json.loads((folder / "scores.json").read_text(encoding="utf-8"))
    assert scores["breakdown"]["errors"] == 5


def test_cli_jsonl_with_wrongly_typed_image_objects_records_errors(tmp_path):
    rows = [docvqa_row(0), {**docvqa_row(1), "image": {"bytes": "abc"}}, {**docvqa_row(2), "image": 17},
            {**docvqa_row(3), "image": {"path": "../../etc/passwd"}}, {**docvqa_row(4), "question": None}]
    data = tmp_path / "typed.jsonl"
    data.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    result, folder = cli(tmp_path, data)
    assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr
    records = {record["index"]: record for record in map(json.loads, (folder / "predictions.jsonl").open())}
    assert [k for k, record in records.items() if record["error"]] == [1, 2, 3]
    assert records[0]["error"] is None and records[4]["error"] is None


