"""Spreadsheet formula injection: text from runs and datasets must never become a live formula.

A model name, a category or a reason is text someone else wrote. Spreadsheet programs treat a cell
starting with ``=``, ``+``, ``-`` or ``@`` (and, in some, a leading tab or carriage return) as a formula,
and openpyxl itself stores any string starting with ``=`` as one. Every such text cell is written
through :func:`write_text`: the value gets a leading apostrophe and the cell's type is forced to string.
"""

from __future__ import annotations

from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise_formula(value: str) -> str:
    """``value`` with a leading apostrophe when it starts like a formula; otherwise unchanged."""
    return f"'{value}" if value.startswith(FORMULA_STARTS) else value


def write_text(cell: Any, value: str) -> None:
    """Store ``value`` in an openpyxl cell as plain text (neutralised), never as a formula."""
    cell.value = neutralise_formula(value)
    cell.data_type = "s"
