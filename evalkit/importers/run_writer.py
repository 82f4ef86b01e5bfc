"""Writing an imported run: the same folder ``run`` writes, scored by the code ``score`` uses.

Per suite: ``predictions.jsonl`` (one record per answered sample), ``run.json`` (an identity saying the folder
was imported, so ``run`` never resumes into it), ``scores.json`` and ``details.jsonl`` from
:func:`evalkit.scoring.suite.score_benchmark` under the chosen protocol (the other protocol's result is in
``scores.json`` as for any run). ``manifest.json`` records the tool, every source file (path, sha256, size), the
files skipped and why, the lines no row was found for, and per suite where its rows came from.

The run is built in a hidden folder beside ``RUN_DIR`` and moved into place at the end: an existing folder is
replaced only with ``force``, only if it is an evalkit run folder (or empty), and only once the new run is
complete, so a failed import leaves it as it was.
"""

from __future__ import annotations

import os
import platform
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import evalkit
from evalkit.errors import EvalkitError, RunDirectoryError
from evalkit.files import dumps_line, write_atomic, write_json_atomic
from evalkit.importers.records import Harvest, SuiteImport
from evalkit.judge.base import Judge
from evalkit.run.folder import IDENTITY, MANIFEST, PREDICTIONS
from evalkit.run.manifest import git_commit, now, package_versions
from evalkit.scoring.score import Prediction
from evalkit.scoring.suite import ScoredBenchmark, judge_facts, score_benchmark


@dataclass(frozen=True)
class ImportedSuite:
    """One suite written: its score and what the user should know."""

    name: str
    scored: ScoredBenchmark
    answered: int
    unmatched: int


@dataclass(frozen=True)
class ImportOutcome:
    output: Path
    harvest: Harvest
    suites: list[ImportedSuite]


def check_output(output: Path, force: bool) -> None:
    """Refuse to replace an existing folder unless ``force``, and even then anything but a run folder."""
    if not output.exists():
        return
    if not output.is_dir():
        raise RunDirectoryError(f"{output} exists and is not a folder")
    if not any(output.iterdir()):
        return
    if not force:
        raise RunDirectoryError(f"{output} already exists; pass --force to replace it, or choose another --output")
    if not (output / MANIFEST).is_file():
        raise RunDirectoryError(f"{output} is not an evalkit run folder (no {MANIFEST}); not replaced even with "
                                "--force")


def identity(harvest: Harvest, suite: SuiteImport) -> dict[str, Any]:
    """``run.json``: binds the folder to the import, so ``evalkit run`` refuses to resume into it."""
    return {"imported_from": harvest.tool, "model": harvest.model,
            "sources": [source.path for source in suite.sources]}


@dataclass(frozen=True)
class Scoring:
    """How the imported suites are scored: the protocol, and the judge (None for ``exact_matching``)."""

    protocol: str = "vlmevalkit"
    judge_spec: str = "exact_matching"
    judge: Judge | None = None


def write_suite(folder: Path, harvest: Harvest, suite: SuiteImport, scoring: Scoring) -> ScoredBenchmark:
    """``predictions.jsonl``, ``run.json``, then the scores, into ``folder``."""
    write_atomic(folder / PREDICTIONS, "".join(dumps_line(record) for record in suite.records))
    write_json_atomic(folder / IDENTITY, identity(harvest, suite))
    predictions = [Prediction.from_record(record) for record in suite.records]
    return score_benchmark(suite.spec, suite.samples, predictions, folder, protocol=scoring.protocol,
                           judge=scoring.judge, judge_spec=scoring.judge_spec)


def manifest_entry(suite: SuiteImport, scored: ScoredBenchmark, started: str) -> dict[str, Any]:
    """The suite's record in the manifest: unknown run settings are null, so two imports compare."""
    return {
        "title": suite.spec.title, "card_version": suite.spec.version,
        "sources": [asdict(source) for source in suite.sources], "tool": suite.facts,
        "data": suite.data, "data_checksum": suite.data.get("checksum"),
        "protocol": None, "prompt_version": None, "max_tiles": None, "generation": None,
        "score": scored.suite.score, "samples": len(suite.samples), "answered": len(suite.records),
        "notes": suite.notes, "unmatched": suite.unmatched, "started": started, "finished": now(),
    }


def manifest(harvest: Harvest, scoring: Scoring, started: str) -> dict[str, Any]:
    return {
        "evalkit_version": evalkit.__version__, "git_commit": git_commit(),
        "model": {"name": harvest.model, "imported_from": harvest.tool}, "model_spec": None,
        "protocol": scoring.protocol, "judge": judge_facts(scoring.judge_spec, scoring.judge),
        "imported": {"tool": harvest.tool, "directory": str(harvest.directory), **harvest.facts,
                     "skipped": [asdict(skipped) for skipped in harvest.skipped]},
        "packages": package_versions(), "platform": platform.platform(),
        "started": started, "finished": None, "benchmarks": {},
    }


def _staging(output: Path) -> Path:
    staging = output.parent / f".{output.name}.importing-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    return staging


def _move_into_place(staging: Path, output: Path) -> None:
    """Rename the finished run onto ``output``; the folder it replaces is put back if that fails."""
    old = output.parent / f".{output.name}.replaced-{os.getpid()}"
    try:
        if output.exists():
            output.rename(old)
        try:
            staging.rename(output)
        except OSError:
            if old.exists():
                old.rename(output)
            raise
    except OSError as exc:
        raise RunDirectoryError(f"cannot move the imported run into {output}: {exc.strerror or exc}") from exc
    shutil.rmtree(old, ignore_errors=True)


def write_imported_run(harvest: Harvest, output: Path, *, scoring: Scoring, force: bool) -> ImportOutcome:
    """Write ``harvest`` as a run folder at ``output``; a suite that fails to score is skipped with the reason.

    Raises :class:`EvalkitError` when no suite could be written (nothing is then changed on disk).
    """
    check_output(output, force)
    started = now()
    try:
        staging = _staging(output)
    except OSError as exc:
        raise RunDirectoryError(f"cannot write beside {output}: {exc.strerror or exc}") from exc
    document = manifest(harvest, scoring, started)
    written: list[ImportedSuite] = []
    try:
        for suite in sorted(harvest.suites, key=lambda suite: suite.name.casefold()):
            try:
                scored = write_suite(staging / suite.name, harvest, suite, scoring)
            except EvalkitError as exc:
                shutil.rmtree(staging / suite.name, ignore_errors=True)
                harvest.skip(suite.sources[0].path if suite.sources else suite.name, str(exc))
                continue
            document["benchmarks"][suite.name] = manifest_entry(suite, scored, started)
            written.append(ImportedSuite(suite.name, scored, len(suite.records), len(suite.unmatched)))
        if not written:
            raise EvalkitError(nothing_imported(harvest))
        document["imported"]["skipped"] = [asdict(skipped) for skipped in harvest.skipped]
        document["judge"] = judge_facts(scoring.judge_spec, scoring.judge)  # final counters
        document["finished"] = now()
        write_json_atomic(staging / MANIFEST, document)
        _move_into_place(staging, output)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return ImportOutcome(output, harvest, written)


def nothing_imported(harvest: Harvest) -> str:
    """The one-line error when no suite could be imported, naming the first reason that is not routine."""
    if not harvest.skipped:
        return f"{harvest.directory}: no {harvest.tool} results found"
    first = next((skipped for skipped in harvest.skipped if not skipped.routine), harvest.skipped[0])
    return (f"nothing imported from {harvest.directory}: {len(harvest.skipped)} files skipped (first: "
            f"{first.path}: {first.reason})")
