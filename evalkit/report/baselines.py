"""The paper's side of the leaderboard: baseline numbers and how suites map onto the paper's columns.

``Baseline`` records come from the packaged ``benchmarks/baselines.csv`` (a copy of the project's
``paper_baselines.csv``: every number printed in the InternVL 1.5 paper's Table 2 and Table 3, plus the
InternVL README's grounding table), keyed by ``(benchmark, split, metric)``.

``ReportEntry`` records come from each card's ``[report]`` table: which value of that suite's
``scores.json`` fills which paper column, for which split and baseline metric; :func:`resolve_path`
reads that value and :func:`sections_of` turns a ``breakdown`` into small tables. Nothing here knows a
suite by name; cards and the CSV are the data.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evalkit.catalog.cards import cards_dir
from evalkit.catalog.spec import BenchmarkSpec
from evalkit.errors import DataError

BASELINES_FILE = "baselines.csv"
COLUMNS = ("model", "params", "open_source", "benchmark", "split", "metric", "value", "source")
BaselineKey = tuple[str, str, str]
"""``(benchmark, split, metric)``: what a baseline number measures."""


@dataclass(frozen=True)
class Baseline:
    """One printed number: ``model`` scored ``value`` on ``benchmark``/``split`` under ``metric``.

    ``params`` is the parameter count as printed (``"26B"``), None when the paper gives none;
    ``source`` says where the number was read (table, figure, README) and any caveat.
    """

    model: str
    params: str | None
    open_source: bool
    benchmark: str
    split: str
    metric: str
    value: float
    source: str

    @property
    def key(self) -> BaselineKey:
        return (self.benchmark, self.split, self.metric)


class Baselines:
    """All baseline records, in file order, looked up by key and by model."""

    def __init__(self, records: Iterable[Baseline]) -> None:
        self.records: tuple[Baseline, ...] = tuple(records)
        self._by_key: dict[BaselineKey, dict[str, Baseline]] = {}
        for record in self.records:
            self._by_key.setdefault(record.key, {})[record.model] = record

    def __len__(self) -> int:
        return len(self.records)

    @property
    def models(self) -> tuple[str, ...]:
        """Model names in order of first appearance."""
        return tuple(dict.fromkeys(record.model for record in self.records))

    @property
    def keys(self) -> tuple[BaselineKey, ...]:
        """Every ``(benchmark, split, metric)`` that has at least one baseline, in file order."""
        return tuple(self._by_key)

    def has(self, key: BaselineKey) -> bool:
        return key in self._by_key

    def for_key(self, key: BaselineKey) -> Mapping[str, Baseline]:
        """The records for ``key``, by model name (empty when none)."""
        return self._by_key.get(key, {})

    def get(self, model: str, key: BaselineKey) -> Baseline | None:
        return self._by_key.get(key, {}).get(model)

    def model_info(self, model: str) -> tuple[str | None, bool | None]:
        """``(params, open_source)`` of ``model`` from its first record, or ``(None, None)``."""
        for record in self.records:
            if record.model == model:
                return record.params, record.open_source
        return None, None


def _parse_row(row: Mapping[str, str], where: str) -> Baseline:
    flag = row["open_source"].strip().lower()
    if flag not in ("true", "false"):
        raise DataError(f"{where}: open_source must be true or false, not {row['open_source']!r}")
    try:
        value = float(row["value"])
    except ValueError:
        raise DataError(f"{where}: value {row['value']!r} is not a number") from None
    for name in ("model", "benchmark", "split", "metric"):
        if not row[name].strip():
            raise DataError(f"{where}: {name} is empty")
    return Baseline(model=row["model"], params=row["params"] or None, open_source=flag == "true",
                    benchmark=row["benchmark"], split=row["split"], metric=row["metric"], value=value,
                    source=row["source"])


def parse_baselines(text: str, name: str = BASELINES_FILE) -> Baselines:
    """Parse the CSV text; a bad header, row or duplicate key is a DataError naming ``name`` and the line."""
    reader = csv.DictReader(io.StringIO(text))
    if tuple(reader.fieldnames or ()) != COLUMNS:
        raise DataError(f"{name}: header must be {','.join(COLUMNS)}")
    records: list[Baseline] = []
    seen: set[tuple[str, BaselineKey]] = set()
    for row in reader:
        where = f"{name} line {reader.line_num}"
        if None in row or any(value is None for value in row.values()):
            raise DataError(f"{where}: expected {len(COLUMNS)} fields")
        record = _parse_row(row, where)
        if (record.model, record.key) in seen:
            raise DataError(f"{where}: {record.model} already has a value for {'/'.join(record.key)}")
        seen.add((record.model, record.key))
        records.append(record)
    return Baselines(records)


def load_baselines(path: Path | None = None) -> Baselines:
    """The packaged baselines (``benchmarks/baselines.csv``), or the CSV at ``path``."""
    try:
        if path is None:
            text = (cards_dir() / BASELINES_FILE).read_text(encoding="utf-8")
        else:
            text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise DataError(f"{path or BASELINES_FILE}: cannot read: {exc.strerror or exc}") from exc
    return parse_baselines(text, str(path) if path is not None else BASELINES_FILE)


@dataclass(frozen=True)
class ReportEntry:
    """One value a suite contributes to the leaderboard, as its card's ``[report]`` table declares it.

    ``label`` is the leaderboard column's header (cards sharing a label share the column, e.g.
    DocVQA_VAL and DocVQA_TEST both fill "DocVQA"); ``column`` the paper's column group; ``section``
    the paper table it belongs to; ``order`` the group's place in Table 2 order and ``position`` the
    entry's place within its card. ``paths`` are tried in order against the suite's ``scores.json``
    (``score`` or ``breakdown.<key>…``). ``decimals`` is how the paper prints the column.
    """

    benchmark: str
    section: str
    column: str
    label: str
    order: int
    position: int
    split: str
    metric: str
    paths: tuple[str, ...]
    decimals: int

    @property
    def key(self) -> BaselineKey:
        return (self.benchmark, self.split, self.metric)


def report_entries(spec: BenchmarkSpec) -> list[ReportEntry]:
    """The entries of ``spec``'s ``[report]`` table (none when the card has no such table)."""
    table: Mapping[str, Any] = spec.report
    if not table:
        return []
    if "metrics" in table:
        pairs = [(table["split"], metric, paths) for metric, paths in table["metrics"].items()]
        keys = [metric for _, metric, _ in pairs]
    else:
        pairs = [(split, table["metric"], paths) for split, paths in table["splits"].items()]
        keys = [split for split, _, _ in pairs]
    labels: Mapping[str, str] = table.get("labels", {})
    entries = []
    for position, ((split, metric, paths), key) in enumerate(zip(pairs, keys, strict=True)):
        default = table["column"] if len(pairs) == 1 else f"{table['column']} {key}"
        entries.append(ReportEntry(
            benchmark=spec.name, section=table["section"], column=table["column"], label=labels.get(key, default),
            order=table["order"], position=position, split=split, metric=metric,
            paths=(paths,) if isinstance(paths, str) else tuple(paths), decimals=table.get("decimals", 1)))
    return entries


def all_entries(specs: Iterable[BenchmarkSpec]) -> list[ReportEntry]:
    """Every card's entries, in leaderboard order: Table 2 order, then the order within a card."""
    entries = [entry for spec in specs for entry in report_entries(spec)]
    return sorted(entries, key=lambda entry: (entry.order, entry.position))


def resolve_path(document: Mapping[str, Any], paths: Sequence[str]) -> float | None:
    """The first of ``paths`` that leads to a number in ``document`` (a scores.json), else None."""
    for path in paths:
        node: Any = document
        for part in path.split("."):
            node = node.get(part) if isinstance(node, Mapping) else None
        if isinstance(node, int | float) and not isinstance(node, bool) and math.isfinite(node):
            return float(node)
    return None


Scalar = float | int | str | None
"""A breakdown table cell: numbers stay numbers; text is text as the run or dataset wrote it."""


@dataclass(frozen=True)
class BreakdownSection:
    """One table of a suite's breakdown: ``rows`` of ``(name, values)``, values lining up with ``columns``.

    ``name`` is the breakdown key (``category``, ``subtasks``, ``splits`` …); the section "summary" holds
    the breakdown's top-level scalars. Nested values are flattened into ``a/b`` column names.
    """

    name: str
    columns: tuple[str, ...]
    rows: tuple[tuple[str, tuple[Scalar, ...]], ...]


SUMMARY_SECTION = "summary"


def _scalar(value: Any) -> Scalar:
    if isinstance(value, bool):
        return str(value).lower()
    if value is None or isinstance(value, int | float | str):
        return value
    if isinstance(value, list | tuple):
        return ", ".join(str(_scalar(item)) for item in value)
    return str(value)


def _leaves(value: Any, prefix: str = "") -> dict[str, Scalar]:
    if not isinstance(value, Mapping):
        return {prefix or "value": _scalar(value)}
    leaves: dict[str, Scalar] = {}
    for key, item in value.items():
        leaves.update(_leaves(item, f"{prefix}/{key}" if prefix else str(key)))
    return leaves


def sections_of(breakdown: Mapping[str, Any]) -> tuple[BreakdownSection, ...]:
    """The breakdown as tables: its top-level scalars as "summary", then one table per non-empty mapping."""
    summary: list[tuple[str, tuple[Scalar, ...]]] = []
    sections: list[BreakdownSection] = []
    for key, value in breakdown.items():
        if not isinstance(value, Mapping):
            summary.append((str(key), (_scalar(value),)))
        elif value:
            rows = [(str(name), _leaves(item)) for name, item in value.items()]
            columns = tuple(dict.fromkeys(column for _, leaves in rows for column in leaves))
            sections.append(BreakdownSection(str(key), columns, tuple(
                (name, tuple(leaves.get(column) for column in columns)) for name, leaves in rows)))
    if summary:
        sections.insert(0, BreakdownSection(SUMMARY_SECTION, ("value",), tuple(summary)))
    return tuple(sections)
