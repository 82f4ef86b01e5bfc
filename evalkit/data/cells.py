"""How the text cells of a data file become values: as pandas reads them, or as they are written.

This is the one place that decides whether a cell is missing and what text an option, a hint, an
answer or a metadata value has. A protocol's ``cells`` field (in its card) names the rule its
reference code follows; ``docs/protocols.md`` ("How data files are read") says which suite uses which.

``pandas``
    What ``pandas.read_csv(path, sep="\\t")`` with default settings gives, as VLMEvalKit loads every
    TSV, CSV and xlsx (``vlmeval/smp/file.py`` ``load`` @4ad5481d and @e8e78f05) and InternVL's MMBench
    script reads its TSVs (``internvl_chat/eval/mmbench/evaluate_mmbench.py`` @83c72bc):

    * a cell holding exactly one of pandas' default NA strings (:data:`PANDAS_NA_STRINGS`, the empty
      cell included) is missing: such an option is neither shown nor a choice, such a hint is left
      out, such a metadata value is absent. Nothing else is missing: a hint of one space is a hint,
      ``NAN`` and `` NA`` are text;
    * a column has one type for the whole file. An option, answer or metadata column whose present
      cells are all integers is read as integers (``"007"`` → ``7``), as floats when a cell of it
      is missing (``"3"`` → ``3.0``); one whose present cells are all numbers, some not integers,
      as floats (``"1e3"`` → ``1000.0``); one of only ``True``/``False`` spellings as booleans. The
      references format such a value with ``str`` (an option line reads ``A. 3.0``);
    * an answer cell that is missing but not empty is the text ``nan``: the references compare
      ``str(answer)``. An empty answer cell means no answer (hidden test splits);
    * the question cell is used as written: a reference that reads it as a number or as missing
      fails on it (it concatenates it with text), so there is no other value to reproduce. The
      same holds for a hint column of numbers.

    Not reproduced: integers beyond 64 bits (pandas switches to unsigned or object columns) stay as
    written; floats are parsed with Python's correctly rounded ``float``, which can differ from
    pandas' parser in the last digit for mantissas longer than 17 digits.

``literal``
    The cell as written: only an empty cell (pandas' way of writing a missing value) is missing;
    ``None``, ``nan`` and a single space are text. The paper protocol uses it where InternVL's
    scripts read JSON (Qwen-VL jsonl files, the Hugging Face datasets), so that the VLMEvalKit TSV
    stands in for the file the reference read: the string ``None`` there is an option called "None".

Typed files (``--data-file`` jsonl and parquet, hub datasets) carry their own types: a null is
missing and a string is text, under both rules.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from evalkit.catalog.spec import CellRule

ColumnKind = Literal["int", "float", "bool", "text"]

#: pandas' default NA strings (``pandas._libs.parsers.STR_NA_VALUES``, pandas 2.0 to 3.x; "None" since 2.0).
PANDAS_NA_STRINGS = frozenset({
    "", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND", "1.#QNAN", "<NA>", "N/A",
    "NA", "NULL", "NaN", "None", "n/a", "nan", "null",
})
#: pandas' default ``true_values`` / ``false_values`` of its C parser.
PANDAS_TRUE = frozenset({"True", "TRUE", "true"})
PANDAS_FALSE = frozenset({"False", "FALSE", "false"})
#: What the answer of a missing-but-not-empty answer cell is: ``str(float("nan"))``.
MISSING_ANSWER_TEXT = "nan"

_INT = re.compile(r" *[+-]?[0-9]+ *")
_FLOAT = re.compile(r" *[+-]?(?:(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|(?i:inf(?:inity)?)) *")
_INT64 = (-(2**63), 2**63 - 1)


def is_pandas_na(text: str) -> bool:
    """Whether pandas' ``read_csv`` reads this cell as missing (exact match, no stripping)."""
    return text in PANDAS_NA_STRINGS


def column_kind(cells: Iterable[str], has_missing: bool) -> ColumnKind:
    """The type pandas gives a column whose present cells are ``cells`` (see the module docstring)."""
    present = list(cells)
    if not present:
        return "text"
    if any(_INT.fullmatch(cell) and not _INT64[0] <= int(cell) <= _INT64[1] for cell in present):
        return "text"
    if all(_INT.fullmatch(cell) for cell in present):
        return "float" if has_missing else "int"
    if all(_FLOAT.fullmatch(cell) for cell in present):
        return "float"
    if all(cell in PANDAS_TRUE or cell in PANDAS_FALSE for cell in present):
        return "bool"
    return "text"


def render(text: str, kind: ColumnKind) -> str:
    """``str()`` of the value pandas makes of ``text`` in a column of ``kind``."""
    if kind == "int":
        return str(int(text))
    if kind == "float":
        return repr(float(text))
    if kind == "bool":
        return str(text in PANDAS_TRUE)
    return text


def typed_value(text: str, kind: ColumnKind) -> Any:
    """The Python value pandas makes of ``text`` in a column of ``kind`` (for metadata)."""
    if kind == "int":
        return int(text)
    if kind == "float":
        return float(text)
    if kind == "bool":
        return text in PANDAS_TRUE
    return text


@dataclass(frozen=True)
class CellReading:
    """One file's rule and, under ``pandas``, the type of each typed column (text cells only)."""

    rule: CellRule = "literal"
    kinds: Mapping[str, ColumnKind] = field(default_factory=dict)

    @property
    def pandas(self) -> bool:
        return self.rule == "pandas"

    def kind(self, column: str) -> ColumnKind:
        return self.kinds.get(column, "text")


LITERAL = CellReading()


def pandas_reading(rows: Sequence[Mapping[str, Any]], columns: Iterable[str]) -> CellReading:
    """The ``pandas`` reading of a file whose text rows are ``rows``: one pass over ``columns``' cells."""
    kinds: dict[str, ColumnKind] = {}
    for column in dict.fromkeys(columns):
        cells: list[str] = []
        missing = False
        for row in rows:
            value = row.get(column)
            if not isinstance(value, str):
                continue
            if is_pandas_na(value):
                missing = True
            else:
                cells.append(value)
        kinds[column] = column_kind(cells, missing)
    return CellReading("pandas", kinds)


def native_missing(value: Any) -> bool:
    """A value pandas already parsed (an xlsx cell): None or NaN is missing."""
    return value is None or (isinstance(value, float) and math.isnan(value))


def native_text(value: Any) -> str:
    """``str()`` of a value pandas already parsed (``3.0`` stays ``"3.0"``)."""
    if isinstance(value, float):
        return repr(value)
    return str(value)
