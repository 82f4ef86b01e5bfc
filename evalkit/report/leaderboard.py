"""The leaderboard as data: runs read from disk, lined up with the paper's baselines.

:func:`load_run` reads one run directory; :func:`build_report` turns runs plus baselines into one
:class:`Report`, which every writer (xlsx, Markdown, HTML) renders without recomputing anything.

Which value of a suite's ``scores.json`` fills which column comes from the cards' ``[report]`` tables
(:mod:`evalkit.report.baselines`). A run value is *comparable* when its suite, split and metric are the
ones the paper's numbers measure and it was scored under the paper protocol's variant; a value scored
otherwise is still shown, flagged with a note, and listed in ``Report.not_compared`` with the reason,
as is everything that could not be placed at all (another split, not scored, no such value).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from evalkit.catalog.cards import Catalog, load_catalog
from evalkit.catalog.spec import BenchmarkSpec
from evalkit.errors import CatalogError
from evalkit.report.baselines import (
    Baselines,
    BreakdownSection,
    ReportEntry,
    all_entries,
    load_baselines,
    report_entries,
    resolve_path,
    sections_of,
)
from evalkit.report.labels import run_labels
from evalkit.run.folder import RunFolder, SuiteFolder

PAPER_PROTOCOL = "paper"
GAP_REFERENCES = ("GPT-4V", "InternVL-Chat-V1.5")
"""The baseline models every run is measured against in ``Report.gaps``."""
TIE = 1e-9
RowKind = Literal["run", "baseline"]


@dataclass(frozen=True)
class RunInfo:
    """A run as the report names it: ``label`` is the model name, made unique among the runs."""

    label: str
    model: str
    path: str
    protocol: str | None
    benchmarks: tuple[str, ...]


@dataclass(frozen=True)
class Column:
    """A leaderboard column, in Table 2 order.

    ``key`` (= ``label``) identifies it; ``group`` is the paper's column it belongs to (ConvBench's twelve
    columns share one group) and ``section`` the paper table. ``benchmark``/``split``/``metric`` is what
    the paper's numbers measure (None when no baseline exists); ``decimals`` how the paper prints it.
    """

    key: str
    label: str
    group: str
    section: str
    order: int
    decimals: int
    benchmark: str | None
    split: str | None
    metric: str | None


@dataclass(frozen=True)
class Cell:
    """A value on the paper's scale. ``best``: the highest comparable value of its column (ties all best).

    ``comparable`` is False for a run value scored under another protocol than the paper's; ``note`` then
    says why. ``source`` is where the number comes from: the baseline's citation or the run's scores.json.
    """

    value: float
    best: bool = False
    comparable: bool = True
    note: str | None = None
    source: str = ""


@dataclass(frozen=True)
class Row:
    """A model's line: runs first (``kind`` "run"), then the baselines in file order.

    ``cells`` line up with ``Report.columns``; None where the model has no value.
    """

    label: str
    kind: RowKind
    params: str | None
    open_source: bool | None
    cells: tuple[Cell | None, ...]


@dataclass(frozen=True)
class Gap:
    """A run's comparable value minus a reference model's paper value in one column (None: no paper value)."""

    run: str
    column: str
    reference: str
    run_value: float
    reference_value: float | None

    @property
    def delta(self) -> float | None:
        """``run_value - reference_value``, rounded to 9 places so 91.25 - 88.4 is 2.85, not 2.8499999…"""
        return None if self.reference_value is None else round(self.run_value - self.reference_value, 9)


@dataclass(frozen=True)
class NotCompared:
    """Something of a run left out of the comparison: ``value`` is the suite's value concerned, if any."""

    run: str
    benchmark: str
    reason: str
    value: float | None = None


@dataclass(frozen=True)
class RunBreakdown:
    """One run's result on one suite: headline, status and the breakdown tables of its scores.json.

    ``errors`` counts the samples whose generation failed (None: not recorded); ``note`` says, in full, what
    else a reader needs (how the predictions' protocol differs, the other protocol's score); ``columns`` are
    the paper columns the suite's values fill (none: see ``Report.not_compared`` for why).
    """

    run: str
    metric: str
    score: float | None
    n: int | None
    protocol: str | None
    reason: str | None
    details_path: str
    sections: tuple[BreakdownSection, ...]
    errors: int | None = None
    note: str | None = None
    columns: tuple[str, ...] = ()


@dataclass(frozen=True)
class SuiteBreakdown:
    """Every run's breakdown of one suite (``title`` from its card, the name for an unknown suite)."""

    benchmark: str
    title: str
    runs: tuple[RunBreakdown, ...]


@dataclass(frozen=True)
class Report:
    """Everything the writers render; built once by :func:`build_report`."""

    runs: tuple[RunInfo, ...]
    columns: tuple[Column, ...]
    rows: tuple[Row, ...]
    references: tuple[str, ...]
    gaps: tuple[Gap, ...]
    not_compared: tuple[NotCompared, ...]
    breakdowns: tuple[SuiteBreakdown, ...]

    def sections(self) -> list[tuple[str, tuple[Column, ...]]]:
        """The columns grouped by paper table, in column order."""
        grouped: dict[str, list[Column]] = {}
        for column in self.columns:
            grouped.setdefault(column.section, []).append(column)
        return [(name, tuple(columns)) for name, columns in grouped.items()]

    def column_index(self, key: str) -> int:
        return next(i for i, column in enumerate(self.columns) if column.key == key)

    def row(self, label: str) -> Row:
        return next(row for row in self.rows if row.label == label)

    def gaps_for(self, run: str) -> tuple[Gap, ...]:
        return tuple(gap for gap in self.gaps if gap.run == run)


def _protocol_note(spec: BenchmarkSpec, suite: SuiteFolder, run: RunFolder) -> str | None:
    """None when the suite was scored as the paper's numbers were; otherwise what differs."""
    paper = spec.protocols[PAPER_PROTOCOL].variant
    protocol = suite.scores.get("protocol") or run.protocol
    variant = suite.scores.get("variant")
    if variant == paper or (variant is None and protocol == PAPER_PROTOCOL):
        return None
    if protocol is None and variant is None:
        return "protocol not recorded in scores.json"
    how = f"the {protocol} protocol" if protocol and protocol != PAPER_PROTOCOL else "another variant"
    return f"scored under {how}{f' ({variant})' if variant else ''}, not the paper's ({paper})"


def _mismatch(entry: ReportEntry, reference: ReportEntry) -> str:
    if entry.split != reference.split:
        return f"split {entry.split} has no paper baseline (the paper reports {reference.split})"
    if entry.benchmark != reference.benchmark:
        return f"{entry.benchmark} has no paper baseline (the paper reports {reference.benchmark})"
    return f"metric {entry.metric} has no paper baseline (the paper reports {reference.metric})"


class _Builder:
    """The state of one :func:`build_report` call."""

    def __init__(self, runs: Sequence[RunFolder], baselines: Baselines, catalog: Catalog,
                 labels: Sequence[str | None]) -> None:
        self.runs, self.baselines, self.catalog = runs, baselines, catalog
        self.labels = run_labels(runs, labels, baselines.models)
        self.placed: dict[tuple[str, str], list[str]] = {}
        self.entries: dict[str, list[ReportEntry]] = {}
        for entry in all_entries(catalog):
            self.entries.setdefault(entry.label, []).append(entry)
        self.reference = {label: next((e for e in group if baselines.has(e.key)), None)
                          for label, group in self.entries.items()}
        self.not_compared: list[NotCompared] = []

    def spec(self, name: str) -> BenchmarkSpec | None:
        try:
            return self.catalog.get(name)
        except CatalogError:
            return None

    def suite_order(self, name: str) -> tuple[int, str]:
        spec = self.spec(name)
        entries = report_entries(spec) if spec is not None else []
        return (min((e.order for e in entries), default=1 << 30), name.casefold())

    def run_cells(self, run: RunFolder, label: str) -> dict[str, Cell]:
        cells: dict[str, Cell] = {}
        filled_by: dict[str, str] = {}
        for name in sorted(run.suites, key=self.suite_order):
            suite, spec = run.suites[name], self.spec(name)
            reasons: dict[str, float | None] = {}
            if spec is None:
                reasons["not a benchmark of the catalog"] = suite.score
            elif not report_entries(spec):
                reasons["its card maps it to no paper column"] = suite.score
            elif suite.score is None:
                reasons[f"not scored: {suite.scores.get('reason') or 'no score'}"] = None
            else:
                note = _protocol_note(spec, suite, run)
                for entry in report_entries(spec):
                    value = resolve_path(suite.scores, entry.paths)
                    reference = self.reference[entry.label]
                    if value is None:
                        reasons.setdefault(f"{entry.metric}: no number at {' or '.join(entry.paths)}", None)
                    elif reference is not None and reference.key != entry.key:
                        reasons.setdefault(_mismatch(entry, reference), value)
                    elif entry.label in cells:
                        reasons.setdefault(f"{entry.label} already holds this run's {filled_by[entry.label]}", value)
                    else:
                        filled_by[entry.label] = name
                        self.placed.setdefault((label, name), []).append(entry.label)
                        cells[entry.label] = Cell(value, comparable=note is None, note=note,
                                                  source=str(suite.scores_path))
                        if note is not None:
                            reasons.setdefault(note, value)
            self.not_compared += [NotCompared(label, name, reason, value) for reason, value in reasons.items()]
        return cells

    def baseline_cells(self, model: str) -> dict[str, Cell]:
        cells = {}
        for label, reference in self.reference.items():
            record = self.baselines.get(model, reference.key) if reference is not None else None
            if record is not None:
                cells[label] = Cell(record.value, source=record.source)
        return cells

    def breakdowns(self) -> tuple[SuiteBreakdown, ...]:
        names = sorted({name for run in self.runs for name in run.suites}, key=self.suite_order)
        result = []
        for name in names:
            spec = self.spec(name)
            entries = []
            for run, label in zip(self.runs, self.labels, strict=True):
                if name not in run.suites:
                    continue
                suite = run.suites[name]
                entries.append(RunBreakdown(
                    run=label, metric=str(suite.scores.get("metric", "")), score=suite.score,
                    n=_count(suite.scores.get("n")), protocol=suite.scores.get("protocol") or run.protocol,
                    reason=suite.scores.get("reason"), details_path=str(suite.details_path),
                    sections=sections_of(suite.scores.get("breakdown") or {}), errors=_errors(run, suite),
                    note=_suite_note(suite), columns=tuple(self.placed.get((label, name), ()))))
            result.append(SuiteBreakdown(name, spec.title if spec is not None else name, tuple(entries)))
        return tuple(result)


def _count(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _errors(run: RunFolder, suite: SuiteFolder) -> int | None:
    """Samples whose generation failed: the scores' own count, else the manifest's; None when neither has one."""
    breakdown = suite.scores.get("breakdown") or {}
    counted = _count(breakdown.get("errors"))
    if counted is not None:
        return counted
    return _count((run.entry(suite.benchmark) or {}).get("errors"))


def _suite_note(suite: SuiteFolder) -> str | None:
    """What scores.json says besides the headline: its own note and the other protocol's score, in full."""
    parts = [str(suite.scores["note"])] if suite.scores.get("note") else []
    other = suite.scores.get("other_protocol")
    if isinstance(other, Mapping) and other.get("protocol"):
        score = other.get("other_score")
        differ = _count(other.get("samples_scored_differently")) or 0
        headline = f"{score:.2f}" if isinstance(score, int | float) and not isinstance(score, bool) else None
        if headline is not None or differ:
            text = f"{other['protocol']} protocol: {headline or 'not scored'}"
            parts.append(text + (f" ({differ} samples scored differently)" if differ else ""))
    return "; ".join(parts) or None


def _mark_best(rows: list[Row], width: int) -> list[Row]:
    """Mark, per column, every comparable cell equal to the column's highest comparable value."""
    best: list[float | None] = []
    for index in range(width):
        values = [c.value for row in rows if (c := row.cells[index]) is not None and c.comparable]
        best.append(max(values) if values else None)

    def mark(cell: Cell | None, top: float | None) -> Cell | None:
        if cell is None or top is None or not cell.comparable or abs(cell.value - top) > TIE:
            return cell
        return dataclasses.replace(cell, best=True)

    return [dataclasses.replace(row, cells=tuple(mark(c, top) for c, top in zip(row.cells, best, strict=True)))
            for row in rows]


def build_report(runs: Sequence[RunFolder], baselines: Baselines | None = None, *, catalog: Catalog | None = None,
                 references: Sequence[str] = GAP_REFERENCES, labels: Sequence[str | None] | None = None) -> Report:
    """Line the runs up with the baselines (default: the packaged ones) in the paper's layout.

    Columns follow Table 2 order and are kept where a run or a baseline has a value; rows are the runs,
    then every baseline model with a value in a kept column. ``references`` are the models each run's
    gaps are measured against. ``labels`` name the runs (None, or a None entry: the model's name, made unique).
    """
    builder = _Builder(runs, baselines if baselines is not None else load_baselines(), catalog or load_catalog(),
                       labels if labels is not None else [None] * len(runs))
    run_cells = [builder.run_cells(run, label) for run, label in zip(runs, builder.labels, strict=True)]
    model_cells = {model: builder.baseline_cells(model) for model in builder.baselines.models}
    filled = {label for cells in (*run_cells, *model_cells.values()) for label in cells}
    columns = []
    for label, group in builder.entries.items():
        if label not in filled:
            continue
        first, reference = group[0], builder.reference[label]
        columns.append(Column(key=label, label=label, group=first.column, section=first.section, order=first.order,
                              decimals=first.decimals, benchmark=reference.benchmark if reference else None,
                              split=reference.split if reference else None,
                              metric=reference.metric if reference else None))
    keys = [column.key for column in columns]
    rows = [Row(label, "run", None, None, tuple(cells.get(key) for key in keys))
            for label, cells in zip(builder.labels, run_cells, strict=True)]
    for model, cells in model_cells.items():
        if cells:
            params, open_source = builder.baselines.model_info(model)
            rows.append(Row(model, "baseline", params, open_source, tuple(cells.get(key) for key in keys)))
    rows = _mark_best(rows, len(columns))
    gaps = []
    for label, cells in zip(builder.labels, run_cells, strict=True):
        for key in keys:
            cell = cells.get(key)
            if cell is None or not cell.comparable:
                continue
            for model in references:
                paper = model_cells.get(model, {}).get(key)
                gaps.append(Gap(label, key, model, cell.value, paper.value if paper else None))
    infos = tuple(RunInfo(label, run.model, str(run.path), run.protocol, tuple(run.suites))
                  for run, label in zip(runs, builder.labels, strict=True))
    return Report(runs=infos, columns=tuple(columns), rows=tuple(rows), references=tuple(references),
                  gaps=tuple(gaps), not_compared=tuple(builder.not_compared), breakdowns=builder.breakdowns())
