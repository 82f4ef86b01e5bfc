"""``evalkit import vlmevalkit DIR``: a VLMEvalKit work folder's prediction files, one model, every catalog suite.

VLMEvalKit (``run.py``) has laid its work folder out three ways:

* until 2024-11: ``<work-dir>/<model>/<model>_<dataset>.xlsx``, flat;
* 2024-11 to 2026-04: the files of each run in ``<model>/T<YYYYMMDD>_G<commit>/``, absolute links to them in
  ``<model>/``;
* since 2026-04: ``<model>/T<YYYYMMDD>-<HHMMSS>/`` with a ``status.json`` naming the commit, relative links in
  ``<model>/``.

``DIR`` may be the work folder, one model's folder or one run folder. A prediction file is named exactly
``<model>_<dataset>`` plus ``.xlsx`` (VLMEvalKit's default), ``.tsv``, ``.json`` (``PRED_FORMAT``) or ``.csv``,
where ``<model>`` is the folder it sits in (or the folder above a run folder) and ``<dataset>`` a suite of the
catalog; every other file is listed with the reason it was skipped (evaluation outputs such as
``_acc.csv`` or ``_exact_matching_result.xlsx``, checkpoint pickles, which are never unpickled). When several
files answer one suite, the one VLMEvalKit links from the model folder wins, else the newest run's. A file
carries its own samples, so it is scored as ``evalkit score`` scores it, without the dataset.
"""

from __future__ import annotations

import csv
import json
import os
import re
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evalkit.catalog.cards import Catalog
from evalkit.catalog.spec import BenchmarkSpec
from evalkit.data.sample import Sample
from evalkit.errors import DataError, EvalkitError
from evalkit.importers.records import Harvest, Skipped, SourceFile, SuiteImport, one_model, walk_files
from evalkit.scoring.prediction_files import read_vlmevalkit_predictions
from evalkit.scoring.score import Prediction

RUN_FOLDER = re.compile(r"^T(?P<date>\d{8})(?:-(?P<time>\d{6})|_G(?P<commit>[0-9a-fA-F]+))$")
PREDICTION_SUFFIXES = (".xlsx", ".tsv", ".json", ".csv")
STATUS_FILE = "status.json"
TOOL = "vlmevalkit"


@dataclass(frozen=True)
class Candidate:
    """A prediction file: where it was found, the file it is (links resolved), its model, suite and run."""

    path: Path
    real: Path
    model: str
    suite: str
    run: str | None
    linked: bool

    def rank(self) -> tuple[bool, str, str, float]:
        """Higher is preferred: linked from the model folder, then the newest run folder, then the newest file."""
        match = RUN_FOLDER.match(self.run or "")
        date, time = (match.group("date"), match.group("time") or "") if match else ("", "")
        return self.linked, date, time, self.real.stat().st_mtime


def owner_of(folder: Path) -> tuple[str, str | None]:
    """The model a file in ``folder`` belongs to, and the run folder's name when ``folder`` is one."""
    if RUN_FOLDER.match(folder.name):
        return folder.parent.name, folder.name
    return folder.name, None


def classify(path: Path, suites: Mapping[str, BenchmarkSpec]) -> Candidate | Skipped:
    """A prediction file of a catalog suite, or why this file is not one."""
    model, run = owner_of(path.parent)
    if path.is_symlink() and not path.exists():
        return Skipped(str(path), f"broken link to {os.readlink(path)}")
    prefix = f"{model}_"
    if not path.stem.startswith(prefix):
        return Skipped(str(path), f"not a prediction file of model '{model}' (VLMEvalKit names them "
                                  f"{model}_<dataset>.xlsx)", routine=True)
    dataset = path.stem[len(prefix):]
    if dataset not in suites:
        return not_a_suite(path, dataset, suites)
    suffix = path.suffix.lower()
    if suffix == ".pkl":
        return Skipped(str(path), "a pickle (VLMEvalKit's checkpoint, or its fallback when writing the table "
                                  "failed): never unpickled")
    if suffix not in PREDICTION_SUFFIXES:
        return Skipped(str(path), f"'{suffix}' is not a prediction table (known: {', '.join(PREDICTION_SUFFIXES)})",
                       routine=True)
    real = path.resolve()
    real_run = real.parent.name if RUN_FOLDER.match(real.parent.name) else run
    return Candidate(path, real, model, dataset, real_run, linked=run is None)


def not_a_suite(path: Path, dataset: str, suites: Mapping[str, BenchmarkSpec]) -> Skipped:
    """Why ``<model>_<dataset>`` is skipped: an output that extends a suite's name, or an unknown dataset."""
    extended = [name for name in suites if dataset.startswith(f"{name}_")]
    if extended:
        name = max(extended, key=len)
        return Skipped(str(path), f"{name} followed by '{dataset[len(name):]}': an output of VLMEvalKit's "
                                  "evaluation (or another dataset), not a prediction file", routine=True)
    return Skipped(str(path), f"'{dataset}' is not a suite of evalkit's catalog")


def run_commit(run_folder: Path) -> str | None:
    """The VLMEvalKit commit a run folder names: its ``status.json`` (since 2026-04) or its ``_G<commit>`` name."""
    status = run_folder / STATUS_FILE
    if status.is_file():
        try:
            commit = json.loads(status.read_text(encoding="utf-8")).get("commit")
        except (OSError, ValueError, AttributeError):
            commit = None
        if isinstance(commit, str) and commit:
            return commit
    match = RUN_FOLDER.match(run_folder.name)
    return match.group("commit") if match else None


def choose(candidates: list[Candidate]) -> tuple[Candidate, list[tuple[Candidate, str]]]:
    """The file to import for one suite, and each other file with why it lost (copies of one file are one)."""
    by_file: dict[Path, Candidate] = {}
    for candidate in candidates:
        kept = by_file.get(candidate.real)
        if kept is None or (candidate.linked and not kept.linked):
            by_file[candidate.real] = candidate
    ranked = sorted(by_file.values(), key=Candidate.rank, reverse=True)
    chosen = ranked[0]
    why = "the file VLMEvalKit links from the model folder" if chosen.linked else "the newest run"
    return chosen, [(other, f"superseded by {chosen.path} ({why})") for other in ranked[1:]]


def table_of(path: Path, spec: BenchmarkSpec, protocol: str) -> tuple[list[Sample], list[Prediction]]:
    """Samples and predictions of one prediction file, read as ``score`` reads it (a ``.json`` one through a TSV
    written as VLMEvalKit writes its TSVs)."""
    if path.suffix.lower() != ".json":
        return read_vlmevalkit_predictions(path, spec, protocol)
    import pandas as pd

    try:
        rows = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise DataError(f"cannot read {path}: {exc}") from exc
    if not isinstance(rows, list) or not all(isinstance(row, dict) for row in rows):
        raise DataError(f"{path}: not a list of rows (VLMEvalKit's PRED_FORMAT=json writes one)")
    with tempfile.TemporaryDirectory(prefix="evalkit-import-") as folder:
        table = Path(folder) / f"{path.stem}.tsv"
        pd.DataFrame(rows).to_csv(table, sep="\t", index=False, quoting=csv.QUOTE_ALL)
        return read_vlmevalkit_predictions(table, spec, protocol)


def suite_import(candidate: Candidate, spec: BenchmarkSpec, protocol: str) -> SuiteImport:
    """One prediction file as a suite to write: one record per row, the file recorded by sha256."""
    try:
        samples, predictions = table_of(candidate.real, spec, protocol)
    except EvalkitError:
        raise
    except Exception as exc:  # a spreadsheet parser's own error (a damaged zip, a bad cell): this file only
        raise DataError(f"cannot read {candidate.real}: {type(exc).__name__}: {exc}") from exc
    if not samples:
        raise DataError(f"{candidate.path}: no rows")
    records: list[dict[str, Any]] = [{"index": p.index, "instruction": None, "prompt": None,
                                      "prediction": p.prediction, "error": None} for p in predictions]
    source = SourceFile.of(candidate.real)
    facts: dict[str, Any] = {"found_as": str(candidate.path), "run": candidate.run,
                             "commit": run_commit(candidate.real.parent)}
    notes = ["VLMEvalKit prediction files do not record the prompt: instruction and prompt are null"]
    return SuiteImport(spec, samples, records, [source],
                       {"source": "vlmevalkit prediction file", "location": source.path, "revision": None,
                        "checksum": None}, notes=notes, facts=facts)


def harvest_vlmevalkit(directory: Path, catalog: Catalog, protocol: str) -> Harvest:
    """Find, choose and read the prediction files under ``directory``; unreadable ones are skipped with reasons."""
    suites = {spec.name: spec for spec in catalog}
    candidates: list[Candidate] = []
    skipped: list[Skipped] = []
    for path in walk_files(directory):
        if path.name == STATUS_FILE:
            continue  # VLMEvalKit's run status (or its link): read for the run's commit
        found = classify(path, suites)
        if isinstance(found, Skipped):
            skipped.append(found)
        else:
            candidates.append(found)
    harvest = Harvest(TOOL, directory, one_model(directory, (c.model for c in candidates), "prediction files"))
    harvest.skipped.extend(skipped)
    by_suite: dict[str, list[Candidate]] = {}
    for candidate in candidates:
        by_suite.setdefault(candidate.suite, []).append(candidate)
    for name, group in by_suite.items():
        chosen, others = choose(group)
        for other, reason in others:
            harvest.skip(other.path, reason)
        try:
            harvest.suites.append(suite_import(chosen, suites[name], protocol))
        except EvalkitError as exc:
            harvest.skip(chosen.path, str(exc))
    commits = sorted({suite.facts["commit"] for suite in harvest.suites if suite.facts.get("commit")})
    harvest.facts = {"commits": commits}
    return harvest
