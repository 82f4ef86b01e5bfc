"""One import from start to end: check the output, harvest the tool's folder, write the run."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from evalkit.catalog.cards import load_catalog
from evalkit.config import Environment
from evalkit.errors import DataError, EvalkitError
from evalkit.importers.records import TOOLS, Harvest
from evalkit.importers.run_writer import ImportOutcome, Scoring, check_output, write_imported_run
from evalkit.scoring.suite import make_judge


@dataclass(frozen=True)
class ImportRequest:
    """``evalkit import TOOL DIR --output RUN_DIR``: ``data_files`` maps a suite to its rows (lmms-eval only)."""

    tool: str
    directory: Path
    output: Path
    protocol: str = "vlmevalkit"
    force: bool = False
    data_files: Mapping[str, Path] = field(default_factory=dict)
    judge: str = "exact_matching"
    judge_base_url: str | None = None
    timeout: float | None = None
    max_retries: int | None = None


def harvest(request: ImportRequest, environment: Environment) -> Harvest:
    """What the tool's folder holds, read and matched (the tool's module is imported only when used)."""
    catalog = load_catalog()
    if request.tool == "vlmevalkit":
        from evalkit.importers.vlmevalkit import harvest_vlmevalkit

        return harvest_vlmevalkit(request.directory, catalog, request.protocol)
    from evalkit.importers.lmms_eval import harvest_lmms_eval

    return harvest_lmms_eval(request.directory, catalog, request.protocol, data_root=environment.data_root,
                             data_files=request.data_files)


def import_folder(request: ImportRequest, environment: Environment | None = None) -> ImportOutcome:
    """Import ``request.directory`` into ``request.output``; EvalkitError (exit 2) only when nothing imports.

    The folder is made absolute first, so the manifest records where each file was, whatever the working folder.
    """
    if request.tool not in TOOLS:
        raise EvalkitError(f"unknown tool '{request.tool}' (known: {', '.join(TOOLS)})")
    if not request.directory.is_dir():
        raise DataError(f"{request.directory}: no such folder")
    if request.data_files and request.tool != "lmms-eval":
        raise EvalkitError("--data-file is for lmms-eval logs; a VLMEvalKit prediction file carries its rows")
    check_output(request.output, request.force)
    environment = environment or Environment.current()
    found = harvest(dataclasses.replace(request, directory=request.directory.absolute()), environment)
    judge = make_judge(request.judge, environment, request.judge_base_url, timeout=request.timeout,
                       max_retries=request.max_retries)
    scoring = Scoring(request.protocol, request.judge, judge)
    return write_imported_run(found, request.output, scoring=scoring, force=request.force)


def parse_data_files(values: list[str]) -> dict[str, Path]:
    """``--data-file SUITE=PATH`` (repeatable) as suite name → path; a bad value names itself."""
    catalog = load_catalog()
    files: dict[str, Path] = {}
    for value in values:
        suite, separator, path = value.partition("=")
        if not separator or not suite.strip() or not path.strip():
            raise EvalkitError(f"--data-file takes SUITE=PATH, got '{value}'")
        files[catalog.get(suite).name] = Path(path.strip())
    return files
