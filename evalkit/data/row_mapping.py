"""Turning one row (column name → value) into a :class:`~evalkit.data.sample.Sample`.

Shared by every source. Values arrive as text (a VLMEvalKit TSV cell, where
pandas writes NaN as an empty cell) or as native values (a hub dataset, a
parquet or jsonl file: ints, floats, real lists, ``None``). Whether a cell is
missing, and what text a typed column's cell has, is the file's
:class:`~evalkit.data.cells.CellReading` (``pandas`` or ``literal``, see
:mod:`evalkit.data.cells`). The rules:

* ``index``: an int when the value is an integer (or an integer literal), else the string.
* question and turns: as written.
* options: one column per letter, a missing cell meaning no such option; or one
  list-valued column whose items get letters A, B, C… in order.
* answers: ``text`` → one answer (none when empty); ``list`` → a Python list
  literal (``['a', 'b']``, as VLMEvalKit writes them), a JSON list, or a real list,
  whose items are taken as written.
* metadata: under ``literal`` integer literals become ints, float literals
  floats, other text stays text; under ``pandas`` the column's type decides.

Image helpers live here too: :func:`image_items` splits an image value into its
items and :func:`item_ref` turns one item into an :class:`ImageRef`.
"""

from __future__ import annotations

import ast
import json
import math
import re
import string
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PIL import Image

from evalkit.catalog.spec import ColumnMap
from evalkit.data.cells import (
    LITERAL,
    MISSING_ANSWER_TEXT,
    CellReading,
    is_pandas_na,
    native_missing,
    native_text,
    render,
    typed_value,
)
from evalkit.data.sample import Base64Image, BytesImage, FileImage, ImageRef, Sample, SampleIndex
from evalkit.errors import DataError, SampleError

_INT_RE = re.compile(r"[+-]?[0-9]+")
_FLOAT_RE = re.compile(r"[+-]?(?:[0-9]+\.[0-9]*|\.[0-9]+|[0-9]+)(?:[eE][+-]?[0-9]+)?")
_LETTERS = string.ascii_uppercase
_LITERAL_ERRORS = (ValueError, TypeError, SyntaxError, MemoryError, RecursionError)


@dataclass(frozen=True)
class ErrorImage:
    """An image that cannot be produced; :meth:`load` raises :class:`SampleError`.

    Used for per-sample problems found while reading (a short image reference to
    an unknown index, a path escaping the data folder) so the suite still loads.
    """

    message: str
    origin: str = "image"

    @property
    def description(self) -> str:
        return self.origin

    def load(self) -> Image.Image:
        raise SampleError(self.message)


def native(value: Any) -> Any:
    """Convert numpy scalars and arrays (from pandas frames) to plain Python values."""
    if isinstance(value, (str, bytes, int, float, list, tuple, dict)) or value is None:
        return value
    tolist = getattr(value, "tolist", None)
    return tolist() if callable(tolist) else value


def is_blank(value: Any) -> bool:
    """True for a missing cell: ``None``, NaN, empty bytes, empty/whitespace text, or the text ``nan``."""
    value = native(value)
    if value is None or value == b"":
        return True
    if isinstance(value, float):
        return math.isnan(value)
    if isinstance(value, str):
        text = value.strip()
        return not text or (len(text) == 3 and text.lower() == "nan")
    return False


def cell_text(value: Any) -> str:
    """A cell as text: blank → ``""``, an integral float (pandas upcasts ints) → ``"3"``."""
    value = native(value)
    if is_blank(value):
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return str(value)


def parse_index(value: Any, where: str) -> SampleIndex:
    """The dataset's own id: an int for integers and integer literals, else the text."""
    value = native(value)
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return value
    text = cell_text(value).strip()
    if not text:
        raise DataError(f"{where}: blank index")
    return int_or(text, text) if _INT_RE.fullmatch(text) else text


def int_or(text: str, fallback: Any) -> Any:
    """``int(text)`` for an integer literal; ``fallback`` past Python's digit limit for int() (4300 by default)."""
    try:
        return int(text)
    except ValueError:
        return fallback


def parse_scalar(value: Any) -> Any:
    """A metadata value: ints for integer literals, floats for float literals, else as given."""
    value = native(value)
    if isinstance(value, float) and math.isnan(value):
        return None
    if not isinstance(value, str):
        return value
    text = value.strip()
    if _INT_RE.fullmatch(text):
        return int_or(text, value)
    if _FLOAT_RE.fullmatch(text):
        return float(text)
    return value


def literal_list(text: str) -> list[Any] | None:
    """Parse a Python list literal (``['a', 'b']``) or a JSON list; ``None`` if it is neither."""
    parsed: Any = None
    try:
        parsed = ast.literal_eval(text.strip())
    except _LITERAL_ERRORS:
        try:
            parsed = json.loads(text)
        except (ValueError, RecursionError):
            return None
    if isinstance(parsed, (list, tuple)):
        return list(parsed)
    return None


def item_text(item: Any) -> str:
    """One item of a list cell, as written (a list literal's ``'nan'`` is the text ``nan``)."""
    if isinstance(item, str):
        return item
    return "" if item is None else cell_text(item)


def cell_missing(value: Any, reading: CellReading) -> bool:
    """Whether a cell is missing under ``reading`` (see :mod:`evalkit.data.cells`)."""
    value = native(value)
    if reading.pandas:
        return is_pandas_na(value) if isinstance(value, str) else native_missing(value)
    return value in ("", b"") or native_missing(value)


def typed_text(value: Any, column: str, reading: CellReading) -> str:
    """A present cell of a typed column (option, answer) as the reference formats it."""
    value = native(value)
    if isinstance(value, str):
        return render(value, reading.kind(column)) if reading.pandas else value
    return native_text(value) if reading.pandas else cell_text(value)


def parse_answers(value: Any, answer_format: str, column: str = "answer",
                  reading: CellReading = LITERAL) -> tuple[str, ...]:
    """Ground truths from one answer cell, per the card's ``answer_format`` and the file's reading."""
    value = native(value)
    if isinstance(value, (list, tuple)):
        return tuple(item_text(item) for item in value)
    if cell_missing(value, reading):
        return (MISSING_ANSWER_TEXT,) if reading.pandas and _written(value) else ()
    text = typed_text(value, column, reading)
    if answer_format == "list":
        items = literal_list(text)
        if items is not None:
            return tuple(item_text(item) for item in items)
    return (text,)


def _written(value: Any) -> bool:
    """A cell with text in it (``None``, ``N/A``…), as opposed to an empty cell or a null."""
    return isinstance(value, str) and value != ""


def parse_options(row: Mapping[str, Any], columns: ColumnMap, where: str,
                  reading: CellReading = LITERAL) -> tuple[tuple[str, str], ...]:
    """The present options as (letter, text): letter columns with a present cell, or a list column."""
    if columns.options_list is not None:
        return _list_options(row.get(columns.options_list), columns.options_list, where)
    return tuple(
        (letter, typed_text(row[letter], letter, reading))
        for letter in columns.option_letters
        if letter in row and not cell_missing(row[letter], reading)
    )


def _list_options(value: Any, column: str, where: str) -> tuple[tuple[str, str], ...]:
    value = native(value)
    if is_blank(value):
        return ()
    items = list(value) if isinstance(value, (list, tuple)) else literal_list(cell_text(value))
    if items is None:
        raise DataError(f"{where}: column '{column}' is not a list: {cell_text(value)[:80]!r}")
    if len(items) > len(_LETTERS):
        raise DataError(f"{where}: column '{column}' has {len(items)} options, more than {len(_LETTERS)}")
    return tuple((_LETTERS[i], cell_text(item)) for i, item in enumerate(items))


def check_columns(available: Iterable[str], columns: ColumnMap, *, location: str, suite: str) -> None:
    """Raise :class:`DataError` naming the first required column the source lacks (and, for a metadata
    column, the metric that needs it)."""
    present = set(available)
    for name in columns.required_columns():
        if name not in present:
            raise missing_column(location, name, columns, suite)


def missing_column(location: str, name: str, columns: ColumnMap, suite: str) -> DataError:
    """``<location>: missing column '<name>' (needed by <suite>[: <why a metric needs it>])``."""
    why = columns.needed_by(name)
    return DataError(f"{location}: missing column '{name}' (needed by {suite}{': ' + why if why else ''})")


def text_columns(columns: ColumnMap) -> tuple[str, ...]:
    """Every non-image column a Sample may use (required, options, hint, metadata, optional)."""
    names: list[str] = [columns.index, columns.question, *columns.turns]
    if columns.answer is not None:
        names.append(columns.answer)
    names.extend(columns.option_letters)
    for extra in (columns.options_list, columns.hint):
        if extra is not None:
            names.append(extra)
    names.extend(columns.metadata)
    names.extend(columns.optional)
    image_columns = set(columns.images)
    return tuple(dict.fromkeys(name for name in names if name not in image_columns))


def _metadata_names(columns: ColumnMap, row: Mapping[str, Any]) -> list[str]:
    used = {columns.index, columns.question, columns.answer, columns.options_list, columns.hint}
    used.update(columns.turns, columns.images, columns.image_paths, columns.option_letters)
    extra = [name for name in columns.optional if name in row and name not in used]
    return list(dict.fromkeys([*columns.metadata, *extra]))


def metadata_value(value: Any, column: str, reading: CellReading) -> Any:
    """A metadata cell: None when missing; under ``pandas`` the column's type, else :func:`parse_scalar`."""
    value = native(value)
    if not reading.pandas:
        return parse_scalar(value)
    if cell_missing(value, reading):
        return None
    return typed_value(value, reading.kind(column)) if isinstance(value, str) else value


def _hint(row: Mapping[str, Any], columns: ColumnMap, reading: CellReading) -> str | None:
    """The hint as written, None when missing (pandas keeps a hint of whitespace)."""
    if columns.hint is None or columns.hint not in row or cell_missing(row[columns.hint], reading):
        return None
    value = native(row[columns.hint])
    return value if isinstance(value, str) else cell_text(value)


def build_sample(
    row: Mapping[str, Any], columns: ColumnMap, images: tuple[ImageRef, ...], where: str,
    reading: CellReading = LITERAL,
) -> Sample:
    """Assemble a Sample from one row's values and its already-built image references."""
    turns = tuple(cell_text(row[name]) for name in columns.turns if not is_blank(row.get(name)))
    answers: tuple[str, ...] = ()
    if columns.answer is not None:
        answers = parse_answers(row.get(columns.answer), columns.answer_format, columns.answer, reading)
    question = row.get(columns.question)
    return Sample(
        index=parse_index(row.get(columns.index), where),
        question=question if isinstance(question, str) else cell_text(question),
        images=images,
        options=parse_options(row, columns, where, reading),
        answers=answers,
        hint=_hint(row, columns, reading),
        turns=turns,
        metadata={name: metadata_value(row[name], name, reading)
                  for name in _metadata_names(columns, row) if name in row},
    )


def typed_columns(columns: ColumnMap) -> tuple[str, ...]:
    """The columns whose cells pandas types per column and the references format: options, answer, metadata."""
    names = [*columns.option_letters, *([columns.answer] if columns.answer is not None else []),
             *columns.metadata, *columns.optional]
    skip = {columns.index, columns.question, columns.hint, *columns.turns, *columns.images, *columns.image_paths}
    return tuple(name for name in dict.fromkeys(names) if name not in skip)


def image_items(value: Any) -> list[Any]:
    """Split one image cell into items: a list (real, or a ``[...]`` literal of base64 strings) or one item.

    Blank cells hold no image. Items are left encoded: bytes, ``{"bytes", "path"}``
    dicts, base64 text or paths.
    """
    value = native(value)
    if isinstance(value, (list, tuple)):
        return list(value)
    if is_blank(value) or (isinstance(value, dict) and not value.get("bytes") and not value.get("path")):
        return []
    if isinstance(value, str) and value.startswith("[") and value.rstrip().endswith("]"):
        items = literal_list(value)
        if items is not None:
            return items
    return [value]


def item_ref(item: Any, origin: str, base: Path | None) -> ImageRef:
    """An ImageRef for one encoded item: bytes, a ``{"bytes", "path"}`` dict, or base64 text.

    A dict without bytes points at a file: relative to ``base`` (the data file's
    folder), which it may not escape; with ``base`` None (a hub dataset) it is used as is.
    """
    item = native(item)
    if isinstance(item, (bytes, bytearray)):
        return BytesImage(bytes(item), origin)
    if isinstance(item, dict):
        data = item.get("bytes")
        if data and not isinstance(data, (bytes, bytearray)):
            return ErrorImage(f"image 'bytes' holds {type(data).__name__}, not bytes ({origin})", origin)
        if data:
            return BytesImage(bytes(data), origin)
        if item.get("path"):
            return path_ref(str(item["path"]), base, origin)
    if isinstance(item, str) and not is_blank(item):
        return Base64Image(item, origin)
    return ErrorImage(f"no image data ({origin})", origin)


def path_ref(text: str, base: Path | None, origin: str) -> ImageRef:
    """A FileImage for a path cell; an ErrorImage when the path escapes ``base``."""
    path = Path(text.strip())
    if base is None:
        return FileImage(path)
    try:
        root = base.resolve()
        resolved = (root / path).resolve()
    except (OSError, ValueError, RuntimeError) as exc:
        return ErrorImage(f"bad image path {text!r} ({origin}): {exc}", origin)
    if not resolved.is_relative_to(root):
        return ErrorImage(f"image path {text!r} escapes the data folder {root} ({origin})", origin)
    return FileImage(resolved)


def path_refs(value: Any, base: Path, origin: str) -> list[ImageRef]:
    """ImageRefs for an ``image_paths`` cell (one path, or a list of paths)."""
    return [path_ref(cell_text(item), base, f"{origin}[{k}]") for k, item in enumerate(image_items(value))]
