"""Append-only, crash-safe prediction files.

Each benchmark folder of a run holds ``predictions.jsonl`` (one JSON object per
finished sample, appended, flushed and fsynced per batch) and ``run.json``
(the identity of the configuration that produced them). Re-opening a folder
repairs a torn last line left by a crash, and refuses to mix predictions from a
different model, prompt version or generation setting.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from evalkit.errors import DataError, RunDirectoryError
from evalkit.jsonio import dumps_line, read_json, write_json_atomic

PREDICTIONS = "predictions.jsonl"
IDENTITY = "run.json"


def index_key(index: object) -> str:
    """A stable key for a dataset index: ``5`` and ``"5"`` stay distinct, as in the source."""
    return json.dumps(index, ensure_ascii=False)


def _repair_torn_tail(path: Path) -> int:
    """Cut a last line that has no newline (a crash mid-write); return the bytes removed."""
    size = path.stat().st_size
    if size == 0:
        return 0
    with path.open("rb+") as handle:
        handle.seek(max(0, size - 1))
        if handle.read(1) == b"\n":
            return 0
        handle.seek(0)
        data = handle.read()
        keep = data.rfind(b"\n") + 1
        handle.truncate(keep)
        handle.flush()
        os.fsync(handle.fileno())
    return size - keep


def _read_records(path: Path) -> list[dict[str, Any]]:
    records = []
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                raise DataError(f"{path}: line {number} is not valid JSON ({exc.msg})") from exc
            if not isinstance(record, dict) or "index" not in record:
                raise DataError(f"{path}: line {number} has no 'index'")
            records.append(record)
    return records


def _describe_differences(old: Mapping[str, Any], new: Mapping[str, Any]) -> str:
    parts = []
    for key in sorted(set(old) | set(new)):
        if old.get(key) != new.get(key):
            parts.append(f"{key} was {json.dumps(old.get(key))}, now {json.dumps(new.get(key))}")
    return "; ".join(parts)


@dataclass
class PredictionStore:
    """The predictions of one benchmark in one run directory."""

    folder: Path
    records: dict[str, dict[str, Any]] = field(default_factory=dict)
    repaired_bytes: int = 0
    duplicates: int = 0

    @property
    def path(self) -> Path:
        return self.folder / PREDICTIONS

    @classmethod
    def open(cls, folder: Path) -> PredictionStore:
        """Load what a previous attempt finished, repairing a torn last line."""
        store = cls(folder)
        if store.path.exists():
            store.repaired_bytes = _repair_torn_tail(store.path)
            for record in _read_records(store.path):
                key = index_key(record["index"])
                store.duplicates += key in store.records
                store.records[key] = record
        return store

    def claim(self, identity: Mapping[str, Any]) -> None:
        """Bind the folder to ``identity``; refuse if it already holds another configuration's work."""
        identity_path = self.folder / IDENTITY
        if identity_path.exists():
            previous = read_json(identity_path)
            if previous != dict(identity):
                raise RunDirectoryError(
                    f"{self.folder} holds predictions from another configuration "
                    f"({_describe_differences(previous, identity)}); use another --output")
            return
        self._guard_write(lambda: write_json_atomic(identity_path, dict(identity)))

    def is_done(self, index: object, *, retry_errors: bool = False) -> bool:
        record = self.records.get(index_key(index))
        if record is None:
            return False
        return not (retry_errors and record.get("error"))

    def append(self, records: Iterable[Mapping[str, Any]]) -> None:
        """Append records and make them durable (flush + fsync) before returning."""
        batch = [dict(record) for record in records]
        text = "".join(dumps_line(record) for record in batch)

        def write() -> None:
            self.folder.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as handle:
                handle.write(text)
                handle.flush()
                os.fsync(handle.fileno())

        self._guard_write(write)
        for record in batch:
            key = index_key(record["index"])
            self.duplicates += key in self.records
            self.records[key] = record

    def compact(self, order: Iterable[object]) -> None:
        """Rewrite the file with one record per index (the latest), in ``order`` then the rest."""
        if not self.duplicates:
            return
        keys = [index_key(index) for index in order]
        ordered = [self.records[key] for key in keys if key in self.records]
        ordered += [record for key, record in self.records.items() if key not in set(keys)]
        temp = self.path.with_suffix(".jsonl.tmp")

        def write() -> None:
            with temp.open("w", encoding="utf-8") as handle:
                handle.write("".join(dumps_line(record) for record in ordered))
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temp, self.path)

        self._guard_write(write)
        self.duplicates = 0

    def _guard_write(self, action: Any) -> None:
        try:
            action()
        except OSError as exc:
            raise RunDirectoryError(f"cannot write to {self.folder}: {exc.strerror or exc}") from exc
