"""The leaderboard as an Excel workbook (openpyxl), rendered from one :class:`~evalkit.report.leaderboard.Report`.

Sheets: "Summary" (the paper's Table 2 layout: models as rows, runs first; suites as columns; the best
comparable value per column filled and bold; header row and first column frozen), "Gaps" (each run
minus the reference models), one sheet per suite with the runs' breakdowns, and "Not compared".
Every text that comes from a run, a dataset or the baselines file goes through
:func:`~evalkit.report.safety.write_text`, so none of it can become a formula.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from evalkit.files import atomic_output
from evalkit.report.baselines import Scalar
from evalkit.report.leaderboard import Cell, Report, RunBreakdown
from evalkit.report.safety import write_text

SUMMARY, GAPS, NOT_COMPARED = "Summary", "Gaps", "Not compared"
SUMMARY_HEADER = ("Model", "Kind", "#Param")
BEST_FILL = PatternFill(fill_type="solid", start_color="FFC6EFCE", end_color="FFC6EFCE")
RUN_FILL = PatternFill(fill_type="solid", start_color="FFDDEBF7", end_color="FFDDEBF7")
BOLD, HEADER_FONT = Font(bold=True), Font(bold=True)
FLAGGED_FONT = Font(italic=True, color="FF808080")
FLOAT_FORMAT, INT_FORMAT = "0.00", "0"
SHEET_NAME_MAX = 31
_BAD_SHEET_CHARS = re.compile(r"[\[\]:*?/\\]")


def number_format(decimals: int) -> str:
    """The Excel format showing ``decimals`` places: "0", "0.0", "0.00" …"""
    return "0" if decimals <= 0 else "0." + "0" * decimals


def gap_format(decimals: int) -> str:
    """A signed format: "+1.2", "-0.4", "0.0"."""
    plain = number_format(decimals)
    return f"+{plain};-{plain};{plain}"


def _put(sheet: Worksheet, row: int, column: int, value: Scalar | float, fmt: str | None = None) -> Any:
    """Write one cell: text neutralised, numbers with ``fmt`` (or the default for their type)."""
    cell = sheet.cell(row=row, column=column)
    if isinstance(value, str):
        write_text(cell, value)
    elif value is not None:
        cell.value = value
        cell.number_format = fmt or (INT_FORMAT if isinstance(value, int) else FLOAT_FORMAT)
    return cell


def _header(sheet: Worksheet, row: int, labels: Sequence[str]) -> None:
    for column, label in enumerate(labels, start=1):
        cell = _put(sheet, row, column, label)
        cell.font = HEADER_FONT
        cell.alignment = Alignment(wrap_text=True, vertical="center", horizontal="center")


def _widths(sheet: Worksheet, first: float, rest: float, count: int) -> None:
    sheet.column_dimensions["A"].width = first
    for column in range(2, count + 1):
        sheet.column_dimensions[get_column_letter(column)].width = rest


def _value_cell(sheet: Worksheet, row: int, column: int, cell: Cell, decimals: int) -> None:
    target = _put(sheet, row, column, cell.value, number_format(decimals))
    if cell.best:
        target.fill = BEST_FILL
        target.font = BOLD
    if not cell.comparable:
        target.font = FLAGGED_FONT
    if cell.note:
        target.comment = Comment(cell.note, "evalkit")


def _summary(sheet: Worksheet, report: Report) -> None:
    _header(sheet, 1, [*SUMMARY_HEADER, *(column.label for column in report.columns)])
    offset = len(SUMMARY_HEADER) + 1
    for index, row in enumerate(report.rows, start=2):
        _put(sheet, index, 1, row.label)
        _put(sheet, index, 2, row.kind)
        _put(sheet, index, 3, row.params)
        if row.kind == "run":
            for number in range(1, offset):
                sheet.cell(row=index, column=number).fill = RUN_FILL
            sheet.cell(row=index, column=1).font = BOLD
        for position, (cell, column) in enumerate(zip(row.cells, report.columns, strict=True)):
            if cell is not None:
                _value_cell(sheet, index, offset + position, cell, column.decimals)
    sheet.freeze_panes = "B2"
    _widths(sheet, 28, 12, offset + len(report.columns) - 1)


def _gaps(sheet: Worksheet, report: Report) -> None:
    _header(sheet, 1, ["Run", "Column", "Run value", "Reference", "Reference value", "Gap"])
    decimals = {column.key: column.decimals for column in report.columns}
    for index, gap in enumerate(report.gaps, start=2):
        places = decimals[gap.column]
        _put(sheet, index, 1, gap.run)
        _put(sheet, index, 2, gap.column)
        _put(sheet, index, 3, gap.run_value, number_format(places))
        _put(sheet, index, 4, gap.reference)
        _put(sheet, index, 5, gap.reference_value, number_format(places))
        _put(sheet, index, 6, gap.delta, gap_format(places))
    sheet.freeze_panes = "A2"
    _widths(sheet, 28, 16, 6)


def _run_block(sheet: Worksheet, row: int, entry: RunBreakdown) -> int:
    """Write one run's breakdown of a suite from ``row``; return the next free row."""
    facts: list[tuple[str, Scalar]] = [("Run", entry.run), ("Metric", entry.metric), ("Score", entry.score),
                                       ("n", entry.n), ("Errors", entry.errors), ("Protocol", entry.protocol)]
    if entry.reason:
        facts.append(("Not scored", entry.reason))
    if entry.note:
        facts.append(("Note", entry.note))
    facts.append(("Details", entry.details_path))
    for name, value in facts:
        _put(sheet, row, 1, name).font = BOLD
        _put(sheet, row, 2, value)
        if name == "Run":
            sheet.cell(row=row, column=2).fill = RUN_FILL
        row += 1
    for section in entry.sections:
        row += 1
        _header(sheet, row, [section.name, *section.columns])
        row += 1
        for name, values in section.rows:
            _put(sheet, row, 1, name)
            for column, value in enumerate(values, start=2):
                _put(sheet, row, column, value)
            row += 1
    return row + 1


def _not_compared(sheet: Worksheet, report: Report) -> None:
    _header(sheet, 1, ["Run", "Benchmark", "Value", "Reason"])
    for index, item in enumerate(report.not_compared, start=2):
        _put(sheet, index, 1, item.run)
        _put(sheet, index, 2, item.benchmark)
        _put(sheet, index, 3, item.value)
        _put(sheet, index, 4, item.reason)
    sheet.freeze_panes = "A2"
    _widths(sheet, 28, 20, 3)
    sheet.column_dimensions["D"].width = 90


def sheet_name(name: str, taken: set[str]) -> str:
    """A valid, unused sheet name for ``name``: no ``[]:*?/\\``, at most 31 characters."""
    base = _BAD_SHEET_CHARS.sub("_", name).strip("'")[:SHEET_NAME_MAX] or "Suite"
    candidate, counter = base, 1
    while candidate.casefold() in taken:
        counter += 1
        suffix = f" ({counter})"
        candidate = base[: SHEET_NAME_MAX - len(suffix)] + suffix
    taken.add(candidate.casefold())
    return candidate


def build_workbook(report: Report) -> Workbook:
    """The workbook for ``report`` (see the module docstring for its sheets)."""
    book = Workbook()
    summary = book.active
    assert summary is not None
    summary.title = SUMMARY
    _summary(summary, report)
    _gaps(book.create_sheet(GAPS), report)
    taken = {SUMMARY.casefold(), GAPS.casefold(), NOT_COMPARED.casefold()}
    for suite in report.breakdowns:
        sheet = book.create_sheet(sheet_name(suite.benchmark, taken))
        _put(sheet, 1, 1, f"{suite.benchmark}: {suite.title}").font = Font(bold=True, size=13)
        row = 3
        for entry in suite.runs:
            row = _run_block(sheet, row, entry)
        _widths(sheet, 36, 14, 2 + max((len(s.columns) for e in suite.runs for s in e.sections), default=1))
    _not_compared(book.create_sheet(NOT_COMPARED), report)
    return book


def write_xlsx(report: Report, path: Path | str) -> Path:
    """Write the workbook to ``path`` (atomically: a temp file renamed into place) and return the path."""
    target = Path(path)
    with atomic_output(target) as temp:
        build_workbook(report).save(temp)
    return target
