"""What an importer hands the run writer: the suites it could read, where each came from, what it skipped."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from evalkit.catalog.spec import BenchmarkSpec
from evalkit.data.sample import Sample
from evalkit.errors import DataError, EvalkitError

CHUNK_BYTES = 1 << 20
TOOLS = ("vlmevalkit", "lmms-eval")


@dataclass(frozen=True)
class SourceFile:
    """One file an import read: its path as found, its sha256 and size."""

    path: str
    sha256: str
    size: int

    @classmethod
    def of(cls, path: Path) -> SourceFile:
        digest = hashlib.sha256()
        try:
            with path.open("rb") as handle:
                while chunk := handle.read(CHUNK_BYTES):
                    digest.update(chunk)
            size = path.stat().st_size
        except OSError as exc:
            raise DataError(f"cannot read {path}: {exc.strerror or exc}") from exc
        return cls(str(path), digest.hexdigest(), size)


@dataclass(frozen=True)
class Skipped:
    """A file (or a task's log) that was not imported, and why; ``routine`` for the files a tool always leaves
    beside its results (evaluation outputs, checkpoints, logs), which the terminal summary only counts."""

    path: str
    reason: str
    routine: bool = False


@dataclass
class SuiteImport:
    """One suite ready to be written: its samples, one prediction record per answered sample, and provenance.

    ``data`` is where the samples came from (``source``, ``location``, ``checksum``), ``unmatched`` the logged
    samples no row could be found for (each with its reason), ``notes`` what the user should know, ``facts``
    what the files say about the tool's run (its commit, the task, the dataset split).
    """

    spec: BenchmarkSpec
    samples: list[Sample]
    records: list[dict[str, Any]]
    sources: list[SourceFile]
    data: dict[str, Any]
    unmatched: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.spec.name


@dataclass
class Harvest:
    """Everything an importer found in one folder: one model's suites, the files it skipped, the tool's facts.

    ``facts`` holds what the files say about the tool (``version``, ``commit``, the command line's settings).
    """

    tool: str
    directory: Path
    model: str
    suites: list[SuiteImport] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)

    def skip(self, path: Path | str, reason: str, *, routine: bool = False) -> None:
        self.skipped.append(Skipped(str(path), reason, routine))


def walk_files(directory: Path) -> Iterator[Path]:
    """Every file under ``directory`` (links to files included, linked folders not entered), in name order."""
    for root, folders, files in os.walk(directory):
        folders.sort()
        for name in sorted(files):
            yield Path(root) / name


def one_model(directory: Path, models: Iterable[str], what: str) -> str:
    """The one model whose results ``directory`` holds; several are refused (an import is one model's run)."""
    found = sorted(set(models))
    if len(found) > 1:
        raise EvalkitError(f"{directory} holds {what} of {len(found)} models ({', '.join(found)}); import one "
                           "model's folder at a time")
    return found[0] if found else directory.name
