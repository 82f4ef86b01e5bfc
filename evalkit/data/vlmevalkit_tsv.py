"""Streaming reader for VLMEvalKit TSV files, with lazily decoded images.

Format facts (VLMEvalKit writes these files with pandas
``to_csv(sep="\\t", index=False)``):

* The first line is the header; columns always include ``index``, ``image``,
  ``question`` and ``answer``; MCQ suites add ``A``, ``B``, … (an empty cell
  means no such option), and optionally ``hint``, ``category``, ``l2-category``, ``split``.
* A field containing a tab, newline or ``"`` is wrapped in double quotes, a
  quote inside it doubled (``""``); so a record spans several physical lines
  exactly while its count of ``"`` bytes is odd.
* An ``image`` cell is base64 of an encoded image (PNG, JPEG…). A cell of 64
  characters or fewer is instead the ``index`` of another row whose image is
  reused. A cell starting with ``[`` is a Python list literal of base64 strings
  (several images for one question).

The file is read once, in binary, line by line: its md5 is computed in that same
pass, each record's byte offset and length are kept, and only text fields stay
in memory. Under the ``pandas`` cell rule the column types pandas would give the
option, answer and metadata columns are then worked out from those text fields
(one pass over the rows already in memory; :mod:`evalkit.data.cells`). Each
image is an :class:`TsvImage` that seeks to its record, re-parses it and decodes
the cell when :meth:`TsvImage.load` is called, so memory stays flat however
large the file is.
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from PIL import Image

from evalkit.catalog.spec import ColumnMap
from evalkit.data.cells import LITERAL, CellReading, CellRule, pandas_reading
from evalkit.data.row_mapping import (
    ErrorImage,
    build_sample,
    check_columns,
    int_or,
    is_blank,
    literal_list,
    path_refs,
    text_columns,
    typed_columns,
)
from evalkit.data.sample import ImageRef, Sample, decode_base64_image
from evalkit.errors import DataError, SampleError

REFERENCE_MAX_CHARS = 64
"""VLMEvalKit: an image cell this short holds the index of the row whose image it reuses."""

_FIELD_LIMIT = 2**31 - 1
_INT_RE = re.compile(r"[+-]?[0-9]+")
_BOM = b"\xef\xbb\xbf"


@dataclass(frozen=True)
class TsvRecord:
    """Where one record lies in the file: byte offset, byte length, first line number (1-based)."""

    offset: int
    length: int
    line: int


@dataclass(frozen=True)
class TsvData:
    """The samples read from one file and the md5 of its bytes."""

    samples: list[Sample]
    md5: str


class TsvFile:
    """A scanned delimited file: re-reads single records for lazy images."""

    def __init__(self, path: Path, header: list[str], delimiter: str, stamp: tuple[int, int]) -> None:
        self.path = path
        self.header = header
        self.delimiter = delimiter
        self.stamp = stamp

    def read_fields(self, record: TsvRecord) -> list[str]:
        """Seek to ``record`` and parse its fields; :class:`SampleError` if the file changed or broke."""
        try:
            status = os.stat(self.path)
            if (status.st_size, status.st_mtime_ns) != self.stamp:
                raise SampleError(f"{self.path} changed since it was read; load the suite again")
            with open(self.path, "rb") as handle:
                handle.seek(record.offset)
                data = handle.read(record.length)
        except OSError as exc:
            raise SampleError(f"cannot read {self.path}: {exc.strerror or exc}") from exc
        try:
            fields = parse_fields(data, self.delimiter)
        except ValueError as exc:
            raise SampleError(f"{self.path}: line {record.line}: {exc}") from exc
        if len(fields) != len(self.header):
            raise SampleError(f"{self.path}: line {record.line}: record changed shape")
        return fields


@dataclass(frozen=True)
class TsvImage:
    """One image of a TSV row: the ``position``-th field of ``record``, item ``item`` of a list cell."""

    file: TsvFile = field(repr=False, compare=False)
    record: TsvRecord
    position: int
    item: int | None
    origin: str

    @property
    def description(self) -> str:
        return self.origin

    def load(self) -> Image.Image:
        cell = self.file.read_fields(self.record)[self.position]
        if self.item is None:
            return decode_base64_image(cell, self.origin)
        items = literal_list(cell)
        if items is None or self.item >= len(items) or not isinstance(items[self.item], str):
            raise SampleError(f"image list cell has no image {self.item} ({self.origin})")
        return decode_base64_image(items[self.item], self.origin)


@dataclass(frozen=True)
class _ImageCell:
    """What a scan learns of an image cell without decoding: its image count, or its short reference."""

    count: int
    is_list: bool
    reference: str | None


@dataclass(frozen=True)
class _Row:
    record: TsvRecord
    values: dict[str, str]
    cells: tuple[_ImageCell, ...]


def parse_fields(data: bytes, delimiter: str) -> list[str]:
    """Parse one complete record (bytes, possibly spanning lines) into its fields.

    The csv module parses the stretch from the first quoted field to the last
    one. Outside that stretch there is no ``"``, hence no quoting, and the csv
    result is a plain split on the delimiter: a large unquoted image cell (the
    common case: base64 has no quotes) is never walked character by character.
    """
    text = data.decode("utf-8").removesuffix("\n").removesuffix("\r")
    first = text.find('"')
    if first < 0:
        return text.split(delimiter)
    start = text.rfind(delimiter, 0, first) + 1
    end = text.find(delimiter, text.rfind('"'))
    end = len(text) if end < 0 else end
    head = text[: start - 1].split(delimiter) if start else []
    tail = text[end + 1 :].split(delimiter) if end < len(text) else []
    try:
        rows = list(csv.reader(io.StringIO(text[start:end], newline=""), delimiter=delimiter))
    except csv.Error as exc:
        raise ValueError(str(exc)) from exc
    if len(rows) != 1:
        raise ValueError(f"record holds {len(rows)} rows")
    return [*head, *rows[0], *tail]


def iter_records(handle: IO[bytes], md5: hashlib._Hash, path: Path) -> Iterator[tuple[TsvRecord, bytes]]:
    """Yield (location, bytes) of each record; a record ends on a line where its ``"`` count is even."""
    offset = start = start_line = quotes = 0
    parts: list[bytes] = []
    for number, line in enumerate(handle, start=1):
        md5.update(line)
        if not parts:
            start, start_line = offset, number
        parts.append(line)
        quotes += line.count(b'"')
        offset += len(line)
        if quotes % 2 == 0:
            yield TsvRecord(start, offset - start, start_line), b"".join(parts)
            parts, quotes = [], 0
    if parts:
        raise DataError(f"{path}: unterminated quoted field starting at line {start_line}")


def _image_cell(cell: str) -> _ImageCell:
    if is_blank(cell):
        return _ImageCell(0, False, None)
    if len(cell) <= REFERENCE_MAX_CHARS:
        return _ImageCell(0, False, cell.strip())
    if cell.startswith("[") and cell.rstrip().endswith("]"):
        items = literal_list(cell)
        return _ImageCell(1 if items is None else len(items), True, None)
    return _ImageCell(1, False, None)


def _index_key(text: str) -> str:
    """VLMEvalKit compares ``str(index)`` after pandas parsed it: ``"007"`` and ``"7"`` are one row."""
    text = text.strip()
    return str(int_or(text, text)) if _INT_RE.fullmatch(text) else text


class _Scanner:
    """One pass over the file: header check, per-record text fields and image cell summaries."""

    def __init__(self, path: Path, columns: ColumnMap, suite: str, delimiter: str) -> None:
        self.path = path
        self.columns = columns
        self.suite = suite
        self.delimiter = delimiter
        self.header: list[str] = []
        self.rows: list[_Row] = []
        self.md5 = hashlib.md5()

    def run(self, handle: IO[bytes]) -> None:
        records = iter_records(handle, self.md5, self.path)
        for record, data in records:
            if data.strip(b"\r\n"):
                self._read_header(record, data)
                break
        if not self.header:
            raise DataError(f"{self.path}: empty file, no header line")
        keep = (*text_columns(self.columns), *self.columns.image_paths)
        text_pos = [(name, self.header.index(name)) for name in dict.fromkeys(keep) if name in self.header]
        image_pos = [self.header.index(name) for name in self.image_columns]
        for record, data in records:
            if data.strip(b"\r\n"):
                fields = self._fields(record, data)
                values = {name: fields[pos] for name, pos in text_pos}
                cells = tuple(_image_cell(fields[pos]) for pos in image_pos)
                self.rows.append(_Row(record, values, cells))

    @property
    def image_columns(self) -> list[str]:
        return [name for name in self.columns.images if name in self.header]

    def _read_header(self, record: TsvRecord, data: bytes) -> None:
        self.header = self._fields(record, data.removeprefix(_BOM), header=True)
        check_columns(self.header, self.columns, location=str(self.path), suite=self.suite)

    def _fields(self, record: TsvRecord, data: bytes, header: bool = False) -> list[str]:
        try:
            fields = parse_fields(data, self.delimiter)
        except ValueError as exc:
            raise DataError(f"{self.path}: line {record.line}: unreadable record: {exc}") from exc
        if not header and len(fields) != len(self.header):
            raise DataError(
                f"{self.path}: line {record.line} (row {len(self.rows) + 1}): "
                f"{len(fields)} fields, the header has {len(self.header)}"
            )
        return fields


def _cell_refs(file: TsvFile, row: _Row, cell: _ImageCell, position: int, column: str) -> list[ImageRef]:
    origin = f"{file.path}: line {row.record.line}, column '{column}'"
    if not cell.is_list:
        return [TsvImage(file, row.record, position, None, origin) for _ in range(cell.count)]
    return [TsvImage(file, row.record, position, k, f"{origin}, image {k}") for k in range(cell.count)]


def file_reading(rows: list[dict[str, str]], columns: ColumnMap, cells: CellRule) -> CellReading:
    """The file's :class:`CellReading`: under ``pandas`` the types of its typed columns, from every row."""
    return pandas_reading(rows, typed_columns(columns)) if cells == "pandas" else LITERAL


def _build_samples(scan: _Scanner, file: TsvFile, cells: CellRule) -> list[Sample]:
    reading = file_reading([row.values for row in scan.rows], scan.columns, cells)
    columns = scan.image_columns
    owners: list[dict[str, int]] = [
        {
            _index_key(row.values.get(scan.columns.index, "")): n
            for n, row in enumerate(scan.rows)
            if row.cells[j].count
        }
        for j in range(len(columns))
    ]
    samples: list[Sample] = []
    for row in scan.rows:
        images: list[ImageRef] = []
        for j, column in enumerate(columns):
            images.extend(_resolve(scan, file, row, j, column, owners[j]))
        where = f"{scan.path}: line {row.record.line}"
        for column in scan.columns.image_paths:
            images.extend(path_refs(row.values.get(column), scan.path.parent, f"{where}, column '{column}'"))
        samples.append(build_sample(row.values, scan.columns, tuple(images), where, reading))
    return samples


def _resolve(
    scan: _Scanner, file: TsvFile, row: _Row, j: int, column: str, owners: dict[str, int]
) -> list[ImageRef]:
    cell = row.cells[j]
    position = file.header.index(column)
    if cell.reference is None:
        return _cell_refs(file, row, cell, position, column)
    target = owners.get(_index_key(cell.reference))
    if target is None:
        where = f"{scan.path}: line {row.record.line}, column '{column}'"
        return [ErrorImage(f"{where}: image refers to unknown index {cell.reference!r}", where)]
    owner = scan.rows[target]
    return _cell_refs(file, owner, owner.cells[j], position, column)


def read_tsv(
    path: Path,
    columns: ColumnMap,
    *,
    suite: str,
    expected_md5: str | None = None,
    delimiter: str = "\t",
    cells: CellRule = "literal",
) -> TsvData:
    """Read a VLMEvalKit TSV (or any file in that quoting style) into Samples with lazy images.

    ``cells`` is the protocol's rule for missing cells and typed columns (:mod:`evalkit.data.cells`).
    Raises :class:`DataError` for an unreadable file, a missing column, a record
    with the wrong number of fields, or (when ``expected_md5`` is given) a wrong md5.
    """
    csv.field_size_limit(max(csv.field_size_limit(), _FIELD_LIMIT))
    scan = _Scanner(path, columns, suite, delimiter)
    try:
        with open(path, "rb") as handle:
            scan.run(handle)
            status = os.fstat(handle.fileno())
    except OSError as exc:
        raise DataError(f"cannot read {path}: {exc.strerror or exc}") from exc
    md5 = scan.md5.hexdigest()
    if expected_md5 is not None and md5 != expected_md5.lower():
        raise DataError(f"{path}: md5 is {md5}, expected {expected_md5} (run --no-verify-checksum uses the file as "
                        "it is)")
    file = TsvFile(path, scan.header, delimiter, (status.st_size, status.st_mtime_ns))
    return TsvData(_build_samples(scan, file, cells), md5)
