"""The leaderboard as Markdown (GitHub-flavoured), for a README or a pull-request comment.

One pipe table per paper table (Table 2, Table 3's ConvBench and MMT-Bench, grounding) with the runs
first and the best comparable value per column in bold; a short gap table per run against the
reference models; and the list of what was not compared, with the reason. Cell text is escaped so a
pipe, a newline or markup in a model name or a reason cannot break the table.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal

from evalkit.report.leaderboard import Cell, Column, Report, Row

MISSING = "-"
NOISE_DIGITS = 9
FLAG = "†"
_ESCAPED = "\\`*|<>[]"


def escape(text: str) -> str:
    """``text`` safe inside a table cell or list item: markup characters backslash-escaped, newlines as <br>."""
    for char in _ESCAPED:
        text = text.replace(char, "\\" + char)
    return text.replace("\r\n", "\n").replace("\r", "\n").replace("\n", "<br>")


def number(value: float, decimals: int) -> str:
    """``value`` with ``decimals`` places, halves rounded away from zero as Excel shows them (91.25 → 91.3)."""
    exact = Decimal(repr(round(value, NOISE_DIGITS)))
    rounded = exact.quantize(Decimal(1).scaleb(-max(decimals, 0)), rounding=ROUND_HALF_UP)
    return f"{abs(rounded) if rounded.is_zero() else rounded:f}"


def signed(value: float | None, decimals: int) -> str:
    if value is None:
        return "n/a"
    text = number(value, decimals)
    return text if text.startswith("-") or Decimal(text).is_zero() else "+" + text


def _cell(cell: Cell | None, column: Column) -> str:
    if cell is None:
        return MISSING
    text = number(cell.value, column.decimals)
    if cell.best:
        return f"**{text}**"
    return text + FLAG if not cell.comparable else text


def _line(cells: Sequence[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def _model(row: Row) -> str:
    return escape(row.label) + (" (run)" if row.kind == "run" else "")


def _table(report: Report, columns: Sequence[Column]) -> list[str]:
    indexes = [report.column_index(column.key) for column in columns]
    lines = [_line(["Model", "#Param", *(escape(column.label) for column in columns)]),
             _line(["---", "---", *("---:" for _ in columns)])]
    for row in report.rows:
        cells = [row.cells[index] for index in indexes]
        if row.kind == "baseline" and all(cell is None for cell in cells):
            continue
        lines.append(_line([_model(row), escape(row.params or MISSING),
                            *(_cell(cell, column) for cell, column in zip(cells, columns, strict=True))]))
    return lines


def _gap_table(report: Report, run: str) -> list[str]:
    gaps = report.gaps_for(run)
    if not gaps:
        return [f"No value of {escape(run)} can be compared with the paper."]
    header = ["Column", escape(run), *(f"Δ {escape(model)}" for model in report.references)]
    lines = [_line(header), _line(["---", *("---:" for _ in header[1:])])]
    for column in report.columns:
        found = {gap.reference: gap for gap in gaps if gap.column == column.key}
        if not found:
            continue
        first = next(iter(found.values()))
        deltas = [signed(found[model].delta, column.decimals) if model in found else "n/a"
                  for model in report.references]
        lines.append(_line([escape(column.label), number(first.run_value, column.decimals), *deltas]))
    return lines


def render_markdown(report: Report) -> str:
    """The whole report as Markdown text (ends with a newline)."""
    lines = ["# Results against the InternVL 1.5 paper", ""]
    for section, columns in report.sections():
        lines += [f"## {escape(section)}", "", *_table(report, columns), ""]
    flagged = any(cell is not None and not cell.comparable for row in report.rows for cell in row.cells)
    notes = ["Best value per column in **bold**; (run) marks the runs."]
    if flagged:
        notes.append(f"{FLAG} scored under another protocol than the paper's: shown, not compared.")
    lines += [" ".join(notes), ""]
    if report.runs:
        lines += [f"## Gaps (run − {', '.join(escape(model) for model in report.references)})", ""]
        for run in report.runs:
            lines += [f"### {escape(run.label)}", "", *_gap_table(report, run.label), ""]
    lines += ["## Not compared", ""]
    if not report.not_compared:
        lines += ["Everything was compared.", ""]
    for item in report.not_compared:
        value = "" if item.value is None else f" ({round(item.value, 2):g})"
        lines.append(f"- {escape(item.run)}, {escape(item.benchmark)}{value}: {escape(item.reason)}")
    return "\n".join(lines).rstrip("\n") + "\n"
