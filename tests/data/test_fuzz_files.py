"""Fuzzing the data-file loaders: TSV and CSV (VLMEvalKit style), JSON lines, parquet and xlsx.

Each case writes a file of fuzzed rows (odd Unicode, 100 KB cells, wrong types, broken images) and
byte-level damage, loads it, and checks the outcome with :func:`tests.fuzzing.check_outcome`: a one-line
DataError naming the file, or well-typed samples whose bad images raise SampleError.
"""

from __future__ import annotations

import io
import json
import tempfile
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, note
from hypothesis import strategies as st

from evalkit.catalog.spec import ColumnMap
from evalkit.data.row_mapping import text_columns
from evalkit.data.sample import Sample
from tests.fuzzing import (
    CATALOG,
    COUNTS,
    LIST_COLUMNS,
    SUITES,
    Target,
    any_value,
    check_outcome,
    columns_of,
    fuzz_settings,
    image_case,
    image_json,
    image_text,
    json_image_case,
    odd_text,
    png,
    report_counts,  # noqa: F401  (an autouse fixture: prints the counts)
    row_colour,
    text_cell,
    tsv_bytes,
    zip_bytes,
)

# --------------------------------------------------------------------------- TSV and CSV (VLMEvalKit style)

TSV_MUTATIONS = ("none", "none", "bom", "crlf", "extra_column", "blank_lines", "header_only", "drop_column",
                 "short_row", "long_row", "truncate", "bad_utf8", "stray_quote", "flip_bytes")



def draw_row(data: st.DataObject, columns: ColumnMap, names: list[str], row: int, *, typed: bool) -> dict[str, Any]:
    """One row: every column of ``names`` with a fuzzed value (text only when not ``typed``)."""
    values: dict[str, Any] = {}
    for name in names:
        if name in columns.images:
            case = data.draw(json_image_case if typed else image_case, label=f"row {row} {name}")
            values[name] = image_json(case, row) if typed else image_text(case, row)
            values[f"__kind {name}"] = case.kind
        elif name == columns.index:
            values[name] = row if data.draw(st.integers(0, 9), label="plain index") else data.draw(
                any_value if typed else text_cell, label=f"row {row} odd index")
        elif name == columns.answer and columns.answer_format == "list" and data.draw(st.booleans()):
            items = data.draw(st.lists(odd_text, max_size=3), label=f"row {row} answers")
            values[name] = items if typed and data.draw(st.booleans()) else str(items)
        else:
            values[name] = data.draw(any_value if typed else text_cell, label=f"row {row} {name}")
    return values


def cells_of(target: str | ColumnMap) -> str:
    """The cell rule a fuzz target is read with: a card's paper protocol, else ``literal``."""
    return "literal" if isinstance(target, ColumnMap) else CATALOG.get(target).protocol("paper").cells


def suite_names(columns: ColumnMap) -> list[str]:
    """Every column a card may read: the text columns, the image columns and the image-path columns."""
    return list(dict.fromkeys((*text_columns(columns), *columns.images, *columns.image_paths)))


def pandas_cells(path: Path, columns: ColumnMap) -> list[dict[str, str | None]] | None:
    """Hint and option cells as ``pandas.read_csv`` reads the file (None: missing), as the references print them."""
    if not columns.option_letters and columns.hint is None:
        return None
    frame = pd.read_csv(path, sep="\t" if path.suffix == ".tsv" else ",")
    wanted = [name for name in (*columns.option_letters, columns.hint) if name and name in frame.columns]
    return [{name: None if pd.isna(row[name]) else f"{row[name]}" for name in wanted} for _, row in frame.iterrows()]


def expect_round_trip(samples: list[Sample], rows: list[dict[str, Any]], columns: ColumnMap, path: Path,
                      cells: str) -> None:
    """A well-formed file with plain integer indices comes back value for value (no silent change): under the
    ``literal`` rule as written, only empty cells missing; under ``pandas`` as pandas itself reads it."""
    assert len(samples) == len(rows)
    read = pandas_cells(path, columns) if cells == "pandas" else None
    for number, (sample, row) in enumerate(zip(samples, rows, strict=True)):
        assert sample.index == row[columns.index] == number
        if not columns.turns:
            assert sample.question == row[columns.question]
        shown = {name: row[name] if row[name] != "" else None for name in row} if read is None else read[number]
        if columns.hint is not None and columns.hint in row:
            assert sample.hint == (None if shown[columns.hint] is None else row[columns.hint])
        expected_options = [(letter, shown[letter]) for letter in columns.option_letters
                            if letter in row and shown[letter] is not None]
        assert list(sample.options) == expected_options
        for position, column in enumerate(columns.images):
            if row.get(f"__kind {column}") == "good":
                image = sample.images[position].load()
                assert image.getpixel((0, 0)) == row_colour(number), path


@pytest.mark.parametrize("suffix", [".tsv", ".csv"])
@pytest.mark.parametrize("target", SUITES)
@fuzz_settings(examples=12)
@given(data=st.data())
def test_fuzz_tsv(suffix: str, target: str, data: st.DataObject) -> None:
    columns = columns_of(target)
    delimiter = "\t" if suffix == ".tsv" else ","
    names = suite_names(columns)
    rows = [draw_row(data, columns, names, row, typed=False) for row in range(data.draw(st.integers(0, 4)))]
    mutation = data.draw(st.sampled_from(TSV_MUTATIONS), label="mutation")
    header = list(names)
    dropped = None
    if mutation == "drop_column":
        dropped = data.draw(st.sampled_from(names), label="dropped")
        header.remove(dropped)
    if mutation == "extra_column":
        header.append("extra\tcolumn")
    table = [[row.get(name, 'surplus, "quoted"') for name in header] for row in rows]
    broken_row = None
    if mutation in ("short_row", "long_row") and table:
        broken_row = data.draw(st.integers(0, len(table) - 1), label="broken row")
        table[broken_row] = table[broken_row][:-1] if mutation == "short_row" else [*table[broken_row], "extra"]
    raw = mutate_bytes(data, tsv_bytes(header, table, delimiter), mutation)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"fuzz data{suffix}"
        path.write_bytes(raw)
        note(f"mutation={mutation} dropped={dropped} file={raw[:2000]!r}")
        COUNTS[f"tsv:mutation {mutation}"] += 1
        outcome = check_outcome(path, target, "tsv")
        # pandas (and csv.writer with "\n" line ends) leaves a carriage return unquoted; pandas itself then
        # reads a new row there. evalkit keeps it, or refuses the record when the csv module has to parse
        # around it (a DataError naming the line). So "must load, value for value" excludes such cells.
        has_cr = any("\r" in str(cell) for line in table for cell in line)
        plain = all(isinstance(row[columns.index], int) for row in rows) and not has_cr
        required = dropped is not None and dropped in columns.required_columns()
        if mutation == "drop_column" and required:
            assert isinstance(outcome, str) and f"missing column '{dropped}'" in outcome
        if mutation == "bad_utf8":
            assert isinstance(outcome, str) and "line " in outcome
        if mutation in ("short_row", "long_row") and broken_row is not None:
            assert isinstance(outcome, str) and "line " in outcome, outcome
            assert has_cr or "fields, the header has" in outcome, outcome
        if mutation in ("none", "bom", "crlf", "extra_column", "blank_lines", "header_only") and plain:
            assert not isinstance(outcome, str), outcome
        if mutation == "header_only":
            assert outcome == [] or isinstance(outcome, str)
        if mutation in ("none", "bom", "extra_column", "blank_lines") and plain and not isinstance(outcome, str):
            expect_round_trip(outcome, rows, columns, path, cells_of(target))


def mutate_bytes(data: st.DataObject, raw: bytes, mutation: str) -> bytes:
    """File-level damage: byte order mark, CRLF, truncation, invalid UTF-8, a stray quote, flipped bytes…"""
    header_end = raw.find(b"\n") + 1
    if mutation == "bom":
        return b"\xef\xbb\xbf" + raw
    if mutation == "crlf":
        return raw.replace(b"\n", b"\r\n")
    if mutation == "blank_lines":
        return raw[:header_end] + b"\n\r\n" + raw[header_end:] + b"\n\n"
    if mutation == "header_only":
        return raw[:header_end]
    if mutation == "truncate":
        return raw[: data.draw(st.integers(0, max(0, len(raw) - 1)), label="cut at")]
    if mutation == "bad_utf8":
        at = data.draw(st.integers(0, max(0, len(raw) - 1)), label="bad utf-8 at")
        return raw[:at] + b"\xff\xfe\xed\xa0\x80" + raw[at:]
    if mutation == "stray_quote":
        at = data.draw(st.integers(0, len(raw)), label="quote at")
        return raw[:at] + b'"' + raw[at:]
    if mutation == "flip_bytes":
        damaged = bytearray(raw)
        for _ in range(data.draw(st.integers(1, 8), label="flips")):
            if damaged:
                damaged[data.draw(st.integers(0, len(damaged) - 1))] = data.draw(st.integers(0, 255))
        return bytes(damaged)
    return raw


# --------------------------------------------------------------------------- JSON lines

JSONL_MUTATIONS = ("none", "none", "extra_keys", "blank_lines", "crlf", "drop_column", "drop_key_later",
                   "truncate", "not_json", "not_object", "bad_utf8", "lone_surrogate", "flip_bytes")


@pytest.mark.parametrize("target", [*SUITES, LIST_COLUMNS], ids=[*SUITES, "options_list"])
@fuzz_settings(examples=15)
@given(data=st.data())
def test_fuzz_jsonl(target: Target, data: st.DataObject) -> None:
    columns = columns_of(target)
    names = suite_names(columns)
    rows = [draw_row(data, columns, names, row, typed=True) for row in range(data.draw(st.integers(0, 4)))]
    mutation = data.draw(st.sampled_from(JSONL_MUTATIONS), label="mutation")
    objects = [{name: row[name] for name in names} for row in rows]
    dropped = data.draw(st.sampled_from(names), label="dropped") if mutation.startswith("drop") else None
    for number, obj in enumerate(objects):
        if mutation == "drop_column" or (mutation == "drop_key_later" and number == len(objects) - 1):
            obj.pop(dropped, None)
        if mutation == "extra_keys":
            obj["extra\tkey"] = {"nested": [1, None, "x"]}
        if mutation == "lone_surrogate" and number == len(objects) - 1:
            obj[columns.turns[0] if columns.turns else columns.question] = "before \ud800 after"
    lines = [json.dumps(obj) for obj in objects]  # ensure_ascii: the lone surrogate is written as \ud800
    if mutation == "not_json" and lines:
        lines[-1] = lines[-1][: len(lines[-1]) // 2]
    if mutation == "not_object" and lines:
        lines[-1] = json.dumps(list(objects[-1].values()), default=str)
    raw = ("\n".join(lines) + ("\n" if lines else "")).encode("utf-8")
    if mutation == "blank_lines":
        raw = b"\n" + raw.replace(b"\n", b"\n  \n")
    if mutation == "crlf":
        raw = raw.replace(b"\n", b"\r\n")
    if mutation in ("truncate", "bad_utf8", "flip_bytes"):
        raw = mutate_bytes(data, raw, mutation)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "fuzz data.jsonl"
        path.write_bytes(raw)
        note(f"mutation={mutation} dropped={dropped} file={raw[:2000]!r}")
        COUNTS[f"jsonl:mutation {mutation}"] += 1
        outcome = check_outcome(path, target, "jsonl")
        required = dropped is not None and dropped in columns.required_columns()
        first_lacks_it = mutation == "drop_column" or (mutation == "drop_key_later" and len(objects) == 1)
        if first_lacks_it and required and objects:
            assert isinstance(outcome, str) and f"missing column '{dropped}'" in outcome, outcome
        # a later line: an earlier one may fail first (a blank index, say), and the message names that line
        later = mutation == "drop_key_later" and required and len(objects) > 1
        if (later or mutation in ("not_json", "not_object", "lone_surrogate", "bad_utf8")) and objects:
            assert isinstance(outcome, str) and "line " in outcome, outcome
        if mutation in ("none", "extra_keys", "blank_lines", "crlf") and not isinstance(outcome, str):
            expect_same_objects(outcome, rows, columns)


def expect_same_objects(samples: list[Sample], rows: list[dict[str, Any]], columns: ColumnMap) -> None:
    """What loaded is what was written: plain indices, text questions and good images, in file order."""
    assert len(samples) == len(rows)
    for number, (sample, row) in enumerate(zip(samples, rows, strict=True)):
        index = row[columns.index]
        if isinstance(index, int) and not isinstance(index, bool):
            assert sample.index == index
        if not columns.turns and isinstance(row[columns.question], str):
            assert sample.question == row[columns.question]
        for position, column in enumerate(columns.images):
            if row.get(f"__kind {column}") == "good":  # the colour of its row number, whatever its index
                assert sample.images[position].load().getpixel((0, 0)) == row_colour(number)


# --------------------------------------------------------------------------- parquet

#: A parquet column holds one type: each column of a fuzzed file gets one of these.
PARQUET_TEXT_KINDS = ("string", "string", "int", "float", "bool", "null", "list")
PARQUET_IMAGE_KINDS = ("binary", "string", "struct", "list")


def parquet_text_column(data: st.DataObject, kind: str, rows: int) -> pa.Array:
    if kind == "string":
        values = [data.draw(st.one_of(text_cell, st.none())) for _ in range(rows)]
        return pa.array(values, pa.string())
    if kind == "int":
        return pa.array([data.draw(st.integers(-(2**63), 2**63 - 1)) for _ in range(rows)], pa.int64())
    if kind == "float":
        return pa.array([data.draw(st.floats()) for _ in range(rows)], pa.float64())
    if kind == "bool":
        return pa.array([data.draw(st.booleans()) for _ in range(rows)], pa.bool_())
    if kind == "list":
        values = [data.draw(st.one_of(st.none(), st.lists(st.one_of(odd_text, st.none()), max_size=30)))
                  for _ in range(rows)]
        return pa.array(values, pa.list_(pa.string()))
    return pa.nulls(rows)


def parquet_image_column(data: st.DataObject, kind: str, rows: int) -> pa.Array:
    def blob(row: int) -> bytes | None:
        case = data.draw(image_case, label=f"row {row} image")
        good = png(row)
        return {"good": good, "cut": good[: case.cut % len(good)], "random": case.blob,
                "empty": b"", "huge": bytes(100_000)}.get(case.kind, None if case.kind == "text" else case.blob)

    if kind == "binary":
        return pa.array([blob(row) for row in range(rows)], pa.binary())
    if kind == "string":
        return pa.array([image_text(data.draw(image_case), row) for row in range(rows)], pa.string())
    if kind == "struct":
        values = [{"bytes": blob(row), "path": data.draw(st.one_of(st.none(), odd_text, st.just("../x.png")))}
                  for row in range(rows)]
        return pa.array(values, pa.struct([("bytes", pa.binary()), ("path", pa.string())]))
    return pa.array([[blob(row), blob(row)] for row in range(rows)], pa.list_(pa.binary()))


PARQUET_MUTATIONS = ("none", "none", "row_groups", "drop_column", "truncate", "flip_bytes")


@pytest.mark.parametrize("target", [*SUITES, LIST_COLUMNS], ids=[*SUITES, "options_list"])
@fuzz_settings(examples=12)
@given(data=st.data())
def test_fuzz_parquet(target: Target, data: st.DataObject) -> None:
    columns = columns_of(target)
    names = suite_names(columns)
    rows = data.draw(st.integers(0, 4), label="rows")
    mutation = data.draw(st.sampled_from(PARQUET_MUTATIONS), label="mutation")
    dropped = data.draw(st.sampled_from(names), label="dropped") if mutation == "drop_column" else None
    arrays: dict[str, pa.Array] = {}
    for name in names:
        if name == dropped:
            continue
        if name in columns.images:
            kind = data.draw(st.sampled_from(PARQUET_IMAGE_KINDS), label=f"{name} type")
            arrays[name] = parquet_image_column(data, kind, rows)
        elif name == columns.index and data.draw(st.booleans(), label="plain index"):
            arrays[name] = pa.array(list(range(rows)), pa.int64())
        else:
            kind = data.draw(st.sampled_from(PARQUET_TEXT_KINDS), label=f"{name} type")
            arrays[name] = parquet_text_column(data, kind, rows)
    table = pa.table(arrays) if arrays else pa.table({"other": pa.array([1] * rows)})
    buffer = io.BytesIO()
    pq.write_table(table, buffer, row_group_size=1 if mutation == "row_groups" else None)
    raw = buffer.getvalue()
    if mutation in ("truncate", "flip_bytes"):
        raw = mutate_bytes(data, raw, mutation)
    check_binary_file(raw, "parquet", target, mutation, dropped, f"schema={table.schema}")


# --------------------------------------------------------------------------- xlsx

XLSX_MUTATIONS = ("none", "drop_column", "truncate", "flip_bytes", "not_a_workbook")


@fuzz_settings(examples=15)
@given(data=st.data())
def test_fuzz_xlsx(data: st.DataObject) -> None:
    import pandas as pd
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    target = data.draw(st.sampled_from(("AI2D_TEST", "DocVQA_VAL", "RefCOCO")), label="suite")
    columns = columns_of(target)
    names = suite_names(columns)
    rows = [draw_row(data, columns, names, row, typed=False) for row in range(data.draw(st.integers(0, 3)))]
    mutation = data.draw(st.sampled_from(XLSX_MUTATIONS), label="mutation")
    dropped = data.draw(st.sampled_from(names), label="dropped") if mutation == "drop_column" else None
    kept = [name for name in names if name != dropped]
    frame = pd.DataFrame([[ILLEGAL_CHARACTERS_RE.sub("", str(row[name]))[:30_000] for name in kept] for row in rows],
                         columns=kept)
    buffer = io.BytesIO()
    frame.to_excel(buffer, index=False)
    raw = buffer.getvalue()
    if mutation in ("truncate", "flip_bytes"):
        raw = mutate_bytes(data, raw, mutation)
    if mutation == "not_a_workbook":
        raw = zip_bytes({"hello.txt": b"a zip, but not a workbook"})
    outcome = check_binary_file(raw, "xlsx", target, mutation, dropped, "")
    if mutation == "not_a_workbook":
        assert isinstance(outcome, str)


def check_binary_file(raw: bytes, family: str, target: Target, mutation: str, dropped: str | None,
                      detail: str) -> list[Sample] | str:
    """Write ``raw`` as ``fuzz data.<family>``, load it, and check a dropped required column is named."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"fuzz data.{family}"
        path.write_bytes(raw)
        note(f"mutation={mutation} dropped={dropped} {detail}")
        COUNTS[f"{family}:mutation {mutation}"] += 1
        outcome = check_outcome(path, target, family)
    if dropped is not None and dropped in columns_of(target).required_columns():
        assert isinstance(outcome, str) and f"missing column '{dropped}'" in outcome, outcome
    return outcome





def test_counts_are_sane():
    """Runs last in the module: the fuzzers above did run cases (the numbers go into the report)."""
    if not all(COUNTS[f"{family}:cases"] for family in ("tsv", "jsonl", "parquet", "xlsx")):
        pytest.skip("run with all the fuzz tests to check the counts")
    assert COUNTS["tsv:data_error"] and COUNTS["tsv:image_sample_error"] and COUNTS["tsv:image_ok"]
