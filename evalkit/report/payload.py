"""What the HTML page draws, as plain JSON-able data: the contents of its ``#report-data`` block.

Top-level keys: ``title``/``subtitle``; ``scores`` (the runs' own results, one row per suite each run scored, in
run order: metric, score, n, errors, protocol, note, paper columns or why none); ``columns``, ``sections``,
``rows`` (the paper's tables), ``radar``, ``bars``, ``gaps``, ``not_compared``; and the sample browser's
``samples``, ``strings`` and ``images``.

The sample browser holds every sample, so its data is compact: each (run, suite) group stores its samples
column by column (``index``, ``instruction``, ``prediction``, ``extracted``, ``answer``, ``score``, ``image``,
one entry per sample), every text is a number into the shared ``strings`` table (a single-turn text is one
number, a multi-turn one a list of numbers; null for none) and every image a number into ``images`` (data URLs),
so a text or thumbnail two runs share is stored once.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from evalkit.report.images import safe_image
from evalkit.report.leaderboard import Report, Row, RunBreakdown

RADAR_REFERENCES = ("GPT-4V", "Gemini Ultra 1.0", "Gemini Pro 1.5")
"""The baseline models the radar chart plots against the runs (those present in the report)."""
RADAR_SECTION = "Table 2"
"""The paper table whose columns are the radar chart's axes (Figure 1 of the paper spans Table 2)."""
RADAR_METHOD = (
    "Each axis is one Table 2 suite on which a run has a value. A model's point is its value divided by the "
    "highest value among the plotted models on that suite: the best of them touches the rim (100%), and suites "
    "on different scales (MME's sum, OCRBench's 0–1000, percentages) share one chart. A point at the centre "
    "means no value. Hover a point for the raw number."
)

Samples = Mapping[tuple[str, str], Sequence[Mapping[str, Any]]]
"""``(run label, benchmark name) -> samples`` (each shaped like :class:`~evalkit.report.html.SampleView`). The run
label is ``RunInfo.label`` of the report; the benchmark is the suite's name (``"DocVQA_VAL"``)."""


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def _texts(value: object) -> list[str]:
    """A prompt or prediction as a list of turns; None becomes no turns, anything else its str()."""
    if value is None:
        return []
    if isinstance(value, list | tuple):
        return ["" if item is None else str(item) for item in value]
    return [str(value)]


# ----------------------------------------------------------------------------------------- the tables
def _row(row: Row, keys: Sequence[str]) -> dict[str, Any]:
    values: dict[str, float] = {}
    best: dict[str, bool] = {}
    flags: dict[str, str] = {}
    notes: dict[str, str] = {}
    for key, cell in zip(keys, row.cells, strict=True):
        if cell is None:
            continue
        values[key] = cell.value
        if cell.best:
            best[key] = True
        if not cell.comparable:
            flags[key] = "\u2020"
        note = "; ".join(part for part in (cell.note, cell.source) if part)
        if note:
            notes[key] = note
    return {"name": row.label, "kind": row.kind, "params": row.params, "open_source": row.open_source,
            "params_b": _params_billions(row.params), "values": values, "best": best, "flags": flags, "notes": notes}


def _params_billions(params: str | None) -> float | None:
    match = re.fullmatch(r"\s*([0-9.]+)\s*B\s*", params or "")
    return float(match.group(1)) if match else None


def _radar(report: Report, payload_rows: Sequence[Mapping[str, Any]], references: Sequence[str]) -> dict[str, Any]:
    runs = [row["name"] for row in payload_rows if row["kind"] == "run"]
    present = {row["name"] for row in payload_rows}
    models = runs + [name for name in references if name in present]
    plotted = [row for row in payload_rows if row["name"] in models]
    table2 = [column.key for column in report.columns if column.section == RADAR_SECTION]
    axes = [key for key in table2 if any(row["kind"] == "run" and key in row["values"] for row in plotted)]
    if len(axes) < 3:
        axes = [key for key in table2 if any(key in row["values"] for row in plotted)]
    return {"models": models, "axes": axes, "method": RADAR_METHOD}


def _run_breakdown(report: Report, run: str, benchmark: str) -> RunBreakdown | None:
    suite = next((suite for suite in report.breakdowns if suite.benchmark == benchmark), None)
    return next((entry for entry in suite.runs if entry.run == run), None) if suite is not None else None


def _breakdown(report: Report, run: str, benchmark: str) -> dict[str, Any] | None:
    """One run's result on one suite (headline and breakdown tables), for the sample browser."""
    entry = _run_breakdown(report, run, benchmark)
    if entry is None:
        return None
    return {
        "metric": entry.metric, "score": entry.score, "n": entry.n, "protocol": entry.protocol, "reason": entry.reason,
        "sections": [{"name": section.name, "columns": list(section.columns),
                      "rows": [[name, [_cell(value) for value in values]] for name, values in section.rows]}
                     for section in entry.sections],
    }


def _cell(value: object) -> float | str | None:
    number = _number(value)
    return number if number is not None or value is None else str(value)


def _suite_title(report: Report, benchmark: str) -> str:
    return next((suite.title for suite in report.breakdowns if suite.benchmark == benchmark), benchmark)


def _paper_placement(entry: RunBreakdown, reasons: Sequence[str]) -> str:
    """Where the suite's value sits in the paper's tables, with any caveat; or why it is not there."""
    if entry.columns:
        return "; ".join([f"in the paper's tables as {', '.join(entry.columns)}", *reasons])
    if entry.score is None:
        return ""
    return "not compared: " + ("; ".join(reasons) or "no paper column")


def _own_scores(report: Report) -> list[dict[str, Any]]:
    """Every suite each run scored, in the run's order: the headline, what else to know, and the paper's view."""
    scores = []
    for run in report.runs:
        for benchmark in run.benchmarks:
            entry = _run_breakdown(report, run.label, benchmark)
            if entry is None:
                continue
            reasons = [item.reason for item in report.not_compared
                       if item.run == run.label and item.benchmark == benchmark]
            note = [f"not scored: {entry.reason or 'no score'}"] if entry.score is None else []
            scores.append({"run": run.label, "suite": benchmark, "title": _suite_title(report, benchmark),
                           "metric": entry.metric, "score": entry.score, "n": entry.n, "errors": entry.errors,
                           "protocol": entry.protocol, "note": "; ".join([*note, *filter(None, [entry.note])]),
                           "paper": _paper_placement(entry, reasons)})
    return scores


# ----------------------------------------------------------------------------------- the sample browser
class _Interned:
    """A table of distinct texts; each text is stored once and referred to by its position."""

    def __init__(self) -> None:
        self.values: list[str] = []
        self.positions: dict[str, int] = {}

    def add(self, text: str) -> int:
        position = self.positions.get(text)
        if position is None:
            position = self.positions[text] = len(self.values)
            self.values.append(text)
        return position

    def turns(self, value: object) -> int | list[int]:
        numbers = [self.add(text) for text in _texts(value)]
        return numbers[0] if len(numbers) == 1 else numbers

    def optional(self, value: object) -> int | None:
        if value is None:
            return None
        return self.add(" | ".join(str(part) for part in value) if isinstance(value, list | tuple) else str(value))


def _sample_group(items: Sequence[Mapping[str, Any]], strings: _Interned, images: _Interned) -> dict[str, list[Any]]:
    columns: dict[str, list[Any]] = {name: [] for name in
                                     ("index", "instruction", "prediction", "extracted", "answer", "score", "image")}
    for item in items:
        image = safe_image(item.get("image_png_base64"))
        columns["index"].append(str(item.get("index", "")))
        columns["instruction"].append(strings.turns(item.get("instruction", item.get("prompt"))))
        columns["prediction"].append(strings.turns(item.get("prediction")))
        columns["extracted"].append(strings.optional(item.get("extracted")))
        columns["answer"].append(strings.optional(item.get("answer")))
        columns["score"].append(_number(item.get("score")))
        columns["image"].append(None if image is None else images.add(image))
    return columns


def _samples(report: Report, samples: Samples | None,
             notes: Mapping[tuple[str, str], str]) -> tuple[list[dict[str, Any]], list[str], list[str]]:
    strings, images = _Interned(), _Interned()
    groups = []
    for (run, benchmark), items in (samples or {}).items():
        groups.append({"run": str(run), "suite": str(benchmark), "title": _suite_title(report, str(benchmark)),
                       "breakdown": _breakdown(report, str(run), str(benchmark)), "count": len(items),
                       "note": notes.get((run, benchmark)), **_sample_group(items, strings, images)})
    return groups, strings.values, images.values


def build_payload(report: Report, *, samples: Samples | None = None, title: str | None = None,
                  radar_references: Sequence[str] = RADAR_REFERENCES,
                  sample_notes: Mapping[tuple[str, str], str] | None = None) -> dict[str, Any]:
    """Everything the page draws (see the module docstring)."""
    keys = [column.key for column in report.columns]
    rows = [_row(row, keys) for row in report.rows]
    run_labels = [run.label for run in report.runs]
    columns = [{
        "key": column.key, "label": column.label, "section": column.section, "decimals": column.decimals,
        "sub": column.split or "", "metric": column.metric or "", "higher_is_better": True,
    } for column in report.columns]
    gaps = [{"run": gap.run, "suite": gap.column, "reference": gap.reference, "value": gap.run_value,
             "reference_value": gap.reference_value, "gap": gap.delta} for gap in report.gaps]
    not_compared = [{"run": item.run, "suite": item.benchmark, "reason": item.reason, "value": item.value}
                    for item in report.not_compared]
    baselines = sum(1 for row in report.rows if row.kind == "baseline")
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    groups, strings, images = _samples(report, samples, sample_notes or {})
    return {
        "schema": 2,
        "title": title or f"evalkit leaderboard: {', '.join(run_labels) or 'paper baselines'}",
        "subtitle": f"{len(run_labels)} run(s) against {baselines} models of the InternVL 1.5 paper · "
                    f"written {stamp}",
        "scores": _own_scores(report),
        "columns": columns,
        "sections": [{"name": name, "keys": [column.key for column in group]} for name, group in report.sections()],
        "rows": rows,
        "radar": _radar(report, rows, radar_references),
        "bars": [key for key in keys if any(key in row["values"] for row in rows)],
        "gaps": gaps,
        "not_compared": not_compared,
        "samples": groups,
        "strings": strings,
        "images": images,
    }
