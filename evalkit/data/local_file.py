"""Reading a ``--data-file``: .tsv, .csv, .parquet, .jsonl or .xlsx, into Samples.

* ``.tsv`` / ``.csv``: the streaming VLMEvalKit reader (:mod:`evalkit.data.vlmevalkit_tsv`),
  tab- or comma-separated; nothing is pinned, but the md5 is computed and returned.
* ``.parquet``: text columns are read up front; image cells (bytes,
  ``{"bytes", "path"}`` structs as ``datasets`` writes them, or base64 text) are
  read from their row group when an image is loaded, so memory holds at most
  one row group of images.
* ``.jsonl``: one JSON object per line; images are base64 text (or lists of it),
  re-read from their line on load; ``image_paths`` columns hold file paths.
* ``.xlsx``: read whole with pandas (openpyxl); images as base64 text. Under the
  ``pandas`` cell rule with pandas' defaults, exactly as VLMEvalKit loads its
  prediction files (missing cells, typed columns); under ``literal`` as text.

The cell rule (:mod:`evalkit.data.cells`) applies to TSV, CSV and xlsx files, the
formats the references read with pandas. jsonl and parquet carry their own types:
a null is missing and a string is text whatever the protocol.

Paths in a data file are relative to its folder and may not leave it: a path
that resolves outside gives that sample an image whose load raises SampleError.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PIL import Image

from evalkit.catalog.spec import ColumnMap
from evalkit.data.cells import LITERAL, PANDAS_NA_STRINGS, CellReading, CellRule
from evalkit.data.row_mapping import (
    build_sample,
    check_columns,
    image_items,
    item_ref,
    missing_column,
    path_refs,
    text_columns,
    typed_columns,
)
from evalkit.data.sample import ImageRef, Sample
from evalkit.data.tsv_download import file_md5
from evalkit.data.vlmevalkit_tsv import TsvData, read_tsv
from evalkit.errors import DataError, SampleError

SUPPORTED_EXTENSIONS = (".tsv", ".csv", ".parquet", ".jsonl", ".xlsx")
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")
_IMAGE_BATCH = 16


def one_line(exc: BaseException) -> str:
    """An exception's text on one line (pyarrow's messages span several; the CLI prints one)."""
    return " ".join(str(exc).split()) or type(exc).__name__


def _stamp(path: Path) -> tuple[int, int]:
    status = os.stat(path)
    return status.st_size, status.st_mtime_ns


class _Reader:
    """Fetches one row's image cell from the file again, on demand."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.stamp = _stamp(path)
        self.lock = threading.Lock()

    def check(self) -> None:
        try:
            unchanged = _stamp(self.path) == self.stamp
        except OSError as exc:
            raise SampleError(f"cannot read {self.path}: {exc.strerror or exc}") from exc
        if not unchanged:
            raise SampleError(f"{self.path} changed since it was read; load the suite again")

    def value(self, key: tuple[int, int], column: str) -> Any:
        raise NotImplementedError


@dataclass(frozen=True)
class DataFileImage:
    """Item ``item`` of the image cell ``column`` of the row at ``key`` in a data file."""

    reader: _Reader = field(repr=False, compare=False)
    key: tuple[int, int]
    column: str
    item: int
    origin: str

    @property
    def description(self) -> str:
        return self.origin

    def load(self) -> Image.Image:
        self.reader.check()
        items = image_items(self.reader.value(self.key, self.column))
        if self.item >= len(items):
            raise SampleError(f"image {self.item} is missing ({self.origin})")
        return item_ref(items[self.item], self.origin, self.reader.path.parent).load()


def _row_images(
    reader: _Reader,
    key: tuple[int, int],
    cells: Mapping[str, Any],
    values: Mapping[str, Any],
    columns: ColumnMap,
    where: str,
) -> tuple[ImageRef, ...]:
    refs: list[ImageRef] = []
    for column, cell in cells.items():
        count = len(image_items(cell))
        origin = f"{where}, column '{column}'"
        refs.extend(
            DataFileImage(reader, key, column, k, f"{origin}, image {k}" if count > 1 else origin)
            for k in range(count)
        )
    for column in columns.image_paths:
        refs.extend(path_refs(values.get(column), reader.path.parent, f"{where}, column '{column}'"))
    return tuple(refs)


def _kept(columns: ColumnMap) -> tuple[str, ...]:
    return tuple(dict.fromkeys((*text_columns(columns), *columns.image_paths)))


class _JsonlReader(_Reader):
    """Re-reads one line (``key`` = byte offset, length) and takes a cell of its object."""

    def value(self, key: tuple[int, int], column: str) -> Any:
        try:
            with self.lock, open(self.path, "rb") as handle:
                handle.seek(key[0])
                return json.loads(handle.read(key[1]))[column]
        except OSError as exc:
            raise SampleError(f"cannot read {self.path}: {exc.strerror or exc}") from exc
        except (ValueError, KeyError, TypeError, RecursionError) as exc:
            raise SampleError(f"{self.path}: record at byte {key[0]} is unreadable: {exc}") from exc


def _jsonl_objects(path: Path, md5: Any) -> Iterator[tuple[int, int, int, dict[str, Any]]]:
    """Yield (line number, offset, length, object) for each non-blank line, hashing every byte."""
    offset = 0
    with open(path, "rb") as handle:
        for number, line in enumerate(handle, start=1):
            md5.update(line)
            start, offset = offset, offset + len(line)
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except (ValueError, RecursionError) as exc:
                raise DataError(f"{path}: line {number}: invalid JSON: {exc}") from exc
            if not isinstance(obj, dict):
                raise DataError(f"{path}: line {number}: expected a JSON object, found {type(obj).__name__}")
            if _SURROGATE_ESCAPE.search(line) and not _is_unicode(obj):
                raise DataError(f"{path}: line {number}: a lone surrogate escape (\\ud800-\\udfff), not text")
            yield number, start, len(line), obj


def _is_unicode(obj: Any) -> bool:
    """Whether every string can be written as UTF-8 (a lone surrogate from a JSON escape cannot)."""
    try:
        json.dumps(obj, ensure_ascii=False).encode("utf-8")
    except (UnicodeEncodeError, RecursionError):
        return False
    return True


def read_jsonl(path: Path, columns: ColumnMap, *, suite: str) -> TsvData:
    """Read a JSON-lines file into Samples whose images are re-read from their line on load."""
    md5 = hashlib.md5()
    reader = _JsonlReader(path)
    required = columns.required_columns()
    samples: list[Sample] = []
    for number, offset, length, obj in _jsonl_objects(path, md5):
        where = f"{path}: line {number}"
        if not samples:
            check_columns(obj, columns, location=str(path), suite=suite)
        missing = [name for name in required if name not in obj]
        if missing:
            raise missing_column(where, missing[0], columns, suite)
        values = {name: obj[name] for name in _kept(columns) if name in obj}
        cells = {name: obj[name] for name in columns.images if name in obj}
        images = _row_images(reader, (offset, length), cells, values, columns, where)
        samples.append(build_sample(values, columns, images, where))
    return TsvData(samples, md5.hexdigest())


class _ParquetReader(_Reader):
    """Reads a row group's image columns (``key`` = row group, row in it); caches the last group."""

    def __init__(self, path: Path, image_columns: list[str]) -> None:
        super().__init__(path)
        self.image_columns = image_columns
        self._cached: tuple[int, Any] | None = None

    def value(self, key: tuple[int, int], column: str) -> Any:
        import pyarrow as pa
        import pyarrow.parquet as pq

        group, row = key
        with self.lock:
            try:
                if self._cached is None or self._cached[0] != group:
                    table = pq.ParquetFile(self.path).read_row_group(group, columns=self.image_columns)
                    self._cached = (group, table)
                return self._cached[1].column(column)[row].as_py()
            except (OSError, ValueError, pa.ArrowException) as exc:  # ValueError: also text that is not UTF-8
                raise SampleError(f"cannot read {self.path} row group {group}: {one_line(exc)}") from exc


def read_parquet(path: Path, columns: ColumnMap, *, suite: str) -> TsvData:
    """Read a parquet file: text columns now, image cells lazily by row group."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        parquet = pq.ParquetFile(path)
        names = parquet.schema_arrow.names
        check_columns(names, columns, location=str(path), suite=suite)
        texts = parquet.read(columns=[n for n in _kept(columns) if n in names]).to_pylist()
    except (OSError, ValueError, pa.ArrowException) as exc:  # ValueError: also text that is not UTF-8
        raise DataError(f"cannot read {path}: {one_line(exc)}") from exc
    image_columns = [name for name in columns.images if name in names]
    reader = _ParquetReader(path, image_columns)
    keys = [
        (g, r) for g in range(parquet.num_row_groups) for r in range(parquet.metadata.row_group(g).num_rows)
    ]
    cells_iter = _parquet_cells(path, parquet, image_columns, len(keys))
    samples: list[Sample] = []
    for n, (values, key, cells) in enumerate(zip(texts, keys, cells_iter, strict=True)):
        where = f"{path}: row {n}"
        images = _row_images(reader, key, cells, values, columns, where)
        samples.append(build_sample(values, columns, images, where))
    return TsvData(samples, file_md5(path))


def _parquet_cells(path: Path, parquet: Any, image_columns: list[str], rows: int) -> Iterator[dict[str, Any]]:
    """Each row's image cells, read a few rows at a time (to count images; the bytes are dropped)."""
    import pyarrow as pa

    if not image_columns:
        yield from ({} for _ in range(rows))
        return
    try:
        for batch in parquet.iter_batches(batch_size=_IMAGE_BATCH, columns=image_columns):
            yield from batch.to_pylist()
    except (OSError, ValueError, pa.ArrowException) as exc:
        raise DataError(f"cannot read {path}: {one_line(exc)}") from exc


def read_xlsx(path: Path, columns: ColumnMap, *, suite: str, cells: CellRule = "literal") -> TsvData:
    """Read a spreadsheet with pandas, images as in-memory base64.

    Under ``pandas`` with pandas' defaults (VLMEvalKit's ``load``): missing cells are NaN and each
    column has pandas' type. Under ``literal`` every cell is kept as its text.
    """
    import pandas as pd

    pandas_rule = cells == "pandas"
    reading = CellReading("pandas") if pandas_rule else LITERAL
    try:
        written = pd.read_excel(path, dtype=str, keep_default_na=False)
        frame = _pandas_frame(path, columns, written) if pandas_rule else written
    except Exception as exc:  # a damaged workbook: zipfile, XML and openpyxl raise many types
        raise DataError(f"cannot read {path}: {type(exc).__name__}: {one_line(exc)}") from exc
    check_columns(frame.columns, columns, location=str(path), suite=suite)
    samples: list[Sample] = []
    for n, row in enumerate(frame.to_dict("records")):
        where = f"{path}: row {n + 2}"
        images: list[ImageRef] = []
        for column in columns.images:
            items = image_items(row.get(column))
            images.extend(item_ref(item, f"{where}, column '{column}'", path.parent) for item in items)
        for column in columns.image_paths:
            images.extend(path_refs(row.get(column), path.parent, f"{where}, column '{column}'"))
        samples.append(build_sample(row, columns, tuple(images), where, reading))
    return TsvData(samples, file_md5(path))


def _pandas_frame(path: Path, columns: ColumnMap, written: Any) -> Any:
    """The sheet as pandas' defaults read it, for the typed columns and the hint; the question as written,
    and an answer cell pandas reads as missing keeps its text (``None``…) so it can become ``nan``."""
    import pandas as pd

    na_values = {name: sorted(PANDAS_NA_STRINGS) for name in (*typed_columns(columns), columns.hint) if name}
    frame = pd.read_excel(path, keep_default_na=False, na_values=na_values)
    answer = columns.answer
    if answer is not None and answer in frame.columns:
        missing = frame[answer].isna() & (written[answer] != "")
        frame[answer] = frame[answer].astype(object).where(~missing, written[answer])
    return frame


def read_data_file(path: Path, columns: ColumnMap, *, suite: str, cells: CellRule = "literal") -> TsvData:
    """Read a user-supplied data file, chosen by extension; DataError for any other extension.

    ``cells`` is the protocol's cell rule; it applies to .tsv, .csv and .xlsx (see the module docstring).
    """
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_EXTENSIONS:
        raise DataError(
            f"{path}: unsupported data file type '{suffix}' (supported: {', '.join(SUPPORTED_EXTENSIONS)})"
        )
    if not path.is_file():
        raise DataError(f"cannot read {path}: no such file")
    if suffix in (".tsv", ".csv"):
        return read_tsv(path, columns, suite=suite, delimiter="\t" if suffix == ".tsv" else ",", cells=cells)
    try:
        if suffix == ".parquet":
            return read_parquet(path, columns, suite=suite)
        if suffix == ".jsonl":
            return read_jsonl(path, columns, suite=suite)
        return read_xlsx(path, columns, suite=suite, cells=cells)
    except OSError as exc:
        raise DataError(f"cannot read {path}: {exc.strerror or exc}") from exc
