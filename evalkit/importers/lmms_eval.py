"""``evalkit import lmms-eval DIR``: lmms-eval's sample logs become one run, a suite per catalog suite found.

A task maps to a suite through the card's aliases (``mmbench_en_dev``) or its ``[lmms_eval] tasks``
(RefCOCO's eight REC tasks, MathVista's prompt styles). When a task was logged several times, the newest log
is read. Each line's row is found in the suite's data, by the card's rule
(:mod:`evalkit.importers.matching`): the data is ``--data-file SUITE=PATH`` or the suite's VLMEvalKit TSV in
``$LMUData`` (md5-checked, never downloaded here). A suite whose data is not there, whose card has no rule, or
none of whose lines found a row is listed as skipped with the reason; lines without a row are listed per suite.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from evalkit.catalog.cards import Catalog
from evalkit.catalog.spec import BenchmarkSpec, LmmsEvalRule, TsvSource
from evalkit.data.sources import LoadedData, load_samples
from evalkit.errors import CatalogError, EvalkitError
from evalkit.importers.lmms_eval_logs import LoggedSample, TaskLog, find_task_logs, read_samples
from evalkit.importers.matching import RowTable, match_rows
from evalkit.importers.records import Harvest, SourceFile, SuiteImport, one_model

TOOL = "lmms-eval"


def task_suites(catalog: Catalog) -> dict[str, BenchmarkSpec]:
    """lmms-eval task name → suite: every card's aliases and ``[lmms_eval] tasks``; one task, one suite."""
    table: dict[str, BenchmarkSpec] = {}
    for spec in catalog:
        extra = spec.lmms_eval.tasks if spec.lmms_eval is not None else {}
        for task in (*spec.aliases, *extra):
            owner = table.setdefault(task.casefold(), spec)
            if owner.name != spec.name:
                raise CatalogError(f"card {spec.name}.toml: lmms-eval task '{task}' already belongs to {owner.name}")
    return table


def newest_logs(logs: list[TaskLog], harvest: Harvest) -> list[TaskLog]:
    """One log per task, the newest; the others are skipped."""
    chosen: dict[str, TaskLog] = {}
    for log in sorted(logs, key=TaskLog.rank, reverse=True):
        kept = chosen.setdefault(log.task, log)
        if kept is not log:
            harvest.skip(log.path, f"superseded by the newer log {kept.path}")
    return list(chosen.values())


def group_by_suite(logs: list[TaskLog], suites: Mapping[str, BenchmarkSpec],
                   harvest: Harvest) -> dict[str, list[TaskLog]]:
    """The logs of each suite; a task of no suite, or of a suite without a rule, is skipped."""
    grouped: dict[str, list[TaskLog]] = {}
    for log in logs:
        spec = suites.get(log.task.casefold())
        if spec is None:
            harvest.skip(log.path, f"lmms-eval task '{log.task}' is not a suite of evalkit's catalog")
        elif spec.lmms_eval is None:
            harvest.skip(log.path, f"{spec.name}'s card has no [lmms_eval] rule to find the rows of "
                                   f"'{log.task}' samples, so they are not guessed")
        else:
            grouped.setdefault(spec.name, []).append(log)
    return grouped


def preferred(logs: list[TaskLog], rule: LmmsEvalRule, harvest: Harvest) -> list[TaskLog]:
    """Under ``prefer``, the first preferred task present; the others ask the same rows and are skipped."""
    if not rule.prefer or len(logs) < 2:
        return logs
    rank = {task.casefold(): number for number, task in enumerate(rule.prefer)}
    ordered = sorted(logs, key=lambda log: rank.get(log.task.casefold(), len(rank)))
    for other in ordered[1:]:
        harvest.skip(other.path, f"'{other.task}' asks the same rows as '{ordered[0].task}', which the card "
                                 "prefers; one prompt style is imported")
    return ordered[:1]


def suite_data(spec: BenchmarkSpec, data_file: Path | None, data_root: Path, protocol: str) -> LoadedData | str:
    """The suite's rows (``--data-file``, else its TSV in ``$LMUData``), or why they are not available here."""
    if data_file is not None:
        return load_samples(spec, data_file=data_file, data_root=data_root, protocol=protocol)
    tsv = spec.sources.get("tsv")
    if not isinstance(tsv, TsvSource):
        return f"{spec.name}'s rows are needed to find each sample's index: pass --data-file {spec.name}=PATH"
    if not (data_root / tsv.filename).is_file():
        return (f"{spec.name}'s rows are needed to find each sample's index, and {data_root / tsv.filename} is "
                f"missing (place VLMEvalKit's {tsv.filename} there, or pass --data-file {spec.name}=PATH)")
    return load_samples(spec, source="tsv", data_root=data_root, offline=True, protocol=protocol)


def record_of(sample: LoggedSample, index: Any) -> dict[str, Any]:
    """The predictions.jsonl record of a matched line: the formatted question as the instruction."""
    reply = sample.response
    return {"index": index, "instruction": sample.instruction, "prompt": None, "prediction": reply or "",
            "error": None if reply is not None else "the log line holds no reply",
            "lmms_eval": {"task": sample.task, "doc_id": sample.doc_id}}


def suite_import(spec: BenchmarkSpec, logs: list[TaskLog], data: LoadedData) -> SuiteImport | str:
    """Match every line of the suite's logs to its rows; the reason instead when no line found a row."""
    assert spec.lmms_eval is not None
    table = RowTable(data.samples)
    lines: list[LoggedSample] = []
    unmatched: list[dict[str, Any]] = []
    for log in logs:
        samples, bad = read_samples(log)
        lines.extend(samples)
        unmatched.extend(bad)
    matched, left = match_rows(lines, spec.lmms_eval, table)
    unmatched.extend(left)
    if not matched:
        first = unmatched[0]["reason"] if unmatched else "the logs hold no samples"
        return f"none of the {len(lines)} logged samples found a row of {spec.name} (first: {first})"
    records = [record_of(matched[row], table.samples[row].index) for row in sorted(matched)]
    notes = [f"{len(matched)} of {len(data.samples)} rows answered by the logs"]
    if unmatched:
        notes.append(f"{len(unmatched)} logged samples found no row (listed under 'unmatched')")
    facts = {"tasks": [log.configuration() for log in logs]}
    return SuiteImport(spec, data.samples, records, [SourceFile.of(log.path) for log in logs],
                       {"source": data.info.source, "location": data.info.location, "revision": data.info.revision,
                        "checksum": data.info.checksum}, unmatched, notes, facts)


def harvest_lmms_eval(directory: Path, catalog: Catalog, protocol: str, *, data_root: Path,
                      data_files: Mapping[str, Path]) -> Harvest:
    """Find, choose, read and match the task logs under ``directory``; what cannot be imported is skipped."""
    logs, skipped = find_task_logs(directory)
    harvest = Harvest(TOOL, directory, one_model(directory, (log.model for log in logs), "lmms-eval logs"))
    harvest.skipped.extend(skipped)
    grouped = group_by_suite(newest_logs(logs, harvest), task_suites(catalog), harvest)
    for name, suite_logs in grouped.items():
        spec = catalog.get(name)
        assert spec.lmms_eval is not None
        chosen = preferred(suite_logs, spec.lmms_eval, harvest)
        try:
            data = suite_data(spec, data_files.get(name), data_root, protocol)
            found = data if isinstance(data, str) else suite_import(spec, chosen, data)
        except EvalkitError as exc:
            found = str(exc)
        if isinstance(found, str):
            for log in chosen:
                harvest.skip(log.path, found)
        else:
            harvest.suites.append(found)
    versions = sorted({str(log.results["lmms_eval_version"]) for log in logs if log.results.get("lmms_eval_version")})
    harvest.facts = {"versions": versions, "layouts": sorted({log.layout for log in logs})}
    return harvest
