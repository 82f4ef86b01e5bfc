"""Append-only, crash-safe prediction files.

Each benchmark folder of a run holds ``predictions.jsonl`` (one JSON object per
finished sample, appended, flushed and fsynced per batch) and ``run.json``
(the identity of the configuration that produced them). Re-opening a folder
repairs a torn last line left by a crash, and refuses to mix predictions from a
different model, prompt version or generation setting.

Under torchrun each rank appends to its own ``predictions.rank<R>.jsonl``. Every
rank reads every file when it opens the folder, so a resumed run may use a
different number of ranks. The rank that finds all samples covered merges the
files into ``predictions.jsonl`` under a file lock: no rank waits for another,
so nothing can hang at the end. Of the ranks that find the folder merged, one
scores it (:func:`scoring_turn`), so an API judge is paid once.
"""

from __future__ import annotations

import fcntl
import json
import os
import time
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from evalkit.errors import DataError, RunDirectoryError
from evalkit.files import dumps_line, read_json, write_atomic, write_json_atomic
from evalkit.run.folder import IDENTITY, LOCK, PREDICTIONS, RANK_PATTERN, SCORING_LOCK, index_key, rank_file

_IMPORTED = time.time()


@contextmanager
def folder_lock(folder: Path) -> Iterator[None]:
    """An exclusive lock on ``folder`` shared by all ranks (flock: released if the holder dies)."""
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / LOCK).open("a") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def process_started() -> float:
    """When this process was created, as a wall-clock time (Linux ``/proc``; else when evalkit was imported).

    Ranks of one torchrun launch are created together, however long each then takes to import and load.
    """
    try:
        fields = Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()
        alive = float(Path("/proc/uptime").read_text().split()[0]) - int(fields[19]) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return _IMPORTED
    return time.time() - alive


@contextmanager
def scoring_turn(folder: Path, result: Path, since: float | None = None) -> Iterator[bool]:
    """Whether this rank should score the merged ``folder`` (held until the block ends).

    No, when another rank is scoring it now (a lock nobody waits for), or when ``result`` was written after
    the merge and after ``since`` (default: this process's creation): another rank of this launch scored it.
    """
    since = process_started() if since is None else since
    with (folder / SCORING_LOCK).open("a") as handle:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield not _written_after(result, folder / PREDICTIONS, since)
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def _written_after(path: Path, source: Path, since: float) -> bool:
    """Whether ``path`` exists and was written after ``since`` and after ``source`` (if any) last changed."""
    try:
        written = path.stat().st_mtime
    except FileNotFoundError:
        return False
    return written >= since and (not source.exists() or written >= source.stat().st_mtime)


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
    """The records of one file; a last line without its newline (another rank mid-write, or torn) is skipped."""
    records = []
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip() or not line.endswith("\n"):
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


def _comparable(previous: Mapping[str, Any], identity: Mapping[str, Any]) -> dict[str, Any]:
    """``identity`` as ``previous`` can be compared with it: what a legacy ``run.json`` did not record (a
    ``device``; a dtype recorded as requested, ``auto``) is taken from it."""
    current = dict(identity)
    if "device" not in previous and "device" in current:
        del current["device"]
        if previous.get("dtype") == "auto":
            current["dtype"] = "auto"
    return current


def _refusal(folder: Path, previous: Mapping[str, Any], identity: Mapping[str, Any],
             flags: Mapping[str, str]) -> str:
    """One line: which flag values resume the run when only resolved fields differ, else every difference."""
    differing = sorted(key for key in set(previous) | set(identity) if previous.get(key) != identity.get(key))
    if differing and all(key in flags for key in differing):
        began = " ".join(f"{'on' if key == 'device' else 'with'} {key} {previous.get(key)}" for key in differing)
        now = ", ".join(f"{key} {identity.get(key)}" for key in differing)
        resume = " ".join(f"{flags[key]} {previous.get(key)}" for key in differing)
        return (f"{folder}: run began {began} (this run resolves to {now}); pass {resume} to resume, or use "
                "another --output")
    return (f"{folder} holds predictions from another configuration "
            f"({_describe_differences(previous, identity)}); use another --output")


@dataclass
class PredictionStore:
    """The predictions of one benchmark in one run directory."""

    folder: Path
    rank: int | None = None
    records: dict[str, dict[str, Any]] = field(default_factory=dict)
    repaired_bytes: int = 0
    duplicates: int = 0

    @property
    def path(self) -> Path:
        """The file this process appends to: its rank's file under torchrun, else ``predictions.jsonl``."""
        return self.folder / (rank_file(self.rank) if self.rank is not None else PREDICTIONS)

    def files(self) -> list[Path]:
        """Every prediction file in the folder: the merged one first, then the ranks' files."""
        merged = self.folder / PREDICTIONS
        return ([merged] if merged.exists() else []) + sorted(self.folder.glob(RANK_PATTERN))

    @classmethod
    def open(cls, folder: Path, rank: int | None = None) -> PredictionStore:
        """Load what earlier attempts (of any number of ranks) finished, repairing torn last lines.

        ``rank`` is this process's rank under torchrun (None when alone).
        """
        store = cls(folder, rank)
        store.reload()
        return store

    def reload(self) -> None:
        self.records.clear()
        self.duplicates = 0
        for path in self.files():
            if path == self.path or path.name == PREDICTIONS:
                self.repaired_bytes += _repair_torn_tail(path)
            for record in _read_records(path):
                key = index_key(record["index"])
                self.duplicates += key in self.records
                self.records[key] = record

    def claim(self, identity: Mapping[str, Any], flags: Mapping[str, str] | None = None) -> None:
        """Bind the folder to ``identity``; refuse if it already holds another configuration's work.

        ``flags`` names the command-line flag behind identity fields the machine resolves (dtype, device): when
        only those differ, the refusal says which flag value resumes the run. A folder written before those
        were resolved (``run.json`` without ``device``, dtype ``auto``) did not record them: they are not
        compared, and the file is left as it was.
        """
        identity_path = self.folder / IDENTITY
        if identity_path.exists():
            previous = read_json(identity_path)
            current = _comparable(previous, identity)
            if previous != current:
                raise RunDirectoryError(_refusal(self.folder, previous, current, flags or {}))
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

    def merge_if_complete(self, order: Iterable[object]) -> bool:
        """Under the folder lock, if every index of ``order`` has a record in some file, write them all to
        ``predictions.jsonl`` (one per index, the latest, in ``order`` then the rest) and remove the ranks'
        files. Return whether the folder is now merged; a rank that finds work missing returns False."""
        keys = [index_key(index) for index in order]
        with folder_lock(self.folder):
            self.reload()
            if any(key not in self.records for key in keys):
                return False
            rank_files = [path for path in self.files() if path.name != PREDICTIONS]
            if rank_files or self.duplicates:
                self._rewrite(keys)
                for path in rank_files:
                    path.unlink(missing_ok=True)
            self.duplicates = 0
        return True

    def _rewrite(self, keys: list[str]) -> None:
        wanted = set(keys)
        ordered = [self.records[key] for key in keys] + [r for k, r in self.records.items() if k not in wanted]
        text = "".join(dumps_line(record) for record in ordered)
        self._guard_write(lambda: write_atomic(self.folder / PREDICTIONS, text))

    def _guard_write(self, action: Any) -> None:
        try:
            action()
        except OSError as exc:
            raise RunDirectoryError(f"cannot write to {self.folder}: {exc.strerror or exc}") from exc
