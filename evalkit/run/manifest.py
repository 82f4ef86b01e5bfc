"""``manifest.json``: everything needed to reproduce a run (README.md, "What a run writes")."""

from __future__ import annotations

import platform
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import evalkit
from evalkit.errors import RunDirectoryError
from evalkit.files import read_json, write_json_atomic
from evalkit.run.folder import MANIFEST
from evalkit.run.store import folder_lock

PACKAGES = ("torch", "transformers", "datasets", "huggingface-hub", "tokenizers", "pillow", "pandas", "numpy",
            "pyarrow", "openpyxl", "tqdm")


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def package_versions() -> dict[str, str | None]:
    versions: dict[str, str | None] = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def git_commit() -> str | None:
    """The commit of the evalkit checkout this code runs from, or None for an installed copy."""
    root = Path(evalkit.__file__).resolve().parent.parent
    if not (root / ".git").exists():
        return None
    try:
        result = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True,
                                timeout=10, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    return result.stdout.strip() or None


class Manifest:
    """The run's manifest. Every change is a read-modify-write under the run folder's lock, so the ranks of a
    torchrun launch can all record their part without losing each other's."""

    def __init__(self, run_dir: Path, data: dict[str, Any]) -> None:
        self.run_dir = run_dir
        self.path = run_dir / MANIFEST
        self.data = data
        self.attempt = 0

    def _update(self, change: Callable[[dict[str, Any]], None]) -> None:
        try:
            with folder_lock(self.run_dir):
                data: dict[str, Any] = read_json(self.path) if self.path.exists() else {}
                change(data)
                write_json_atomic(self.path, data)
        except OSError as exc:
            raise RunDirectoryError(f"cannot write to {self.run_dir}: {exc.strerror or exc}") from exc
        self.data = data

    @classmethod
    def begin(cls, run_dir: Path, settings: dict[str, Any], rank: int = 0) -> Manifest:
        manifest = cls(run_dir, {})
        started = now()

        def change(data: dict[str, Any]) -> None:
            attempts = data.get("attempts", [])
            attempts.append({"started": started, "rank": rank, "argv": sys.argv[1:]})
            data.update({"evalkit_version": evalkit.__version__, "git_commit": git_commit(), **settings,
                         "packages": package_versions(), "platform": platform.platform(),
                         "started": data.get("started", started), "finished": None, "attempts": attempts})
            data.setdefault("benchmarks", {})

        manifest._update(change)
        manifest.attempt = len(manifest.data["attempts"]) - 1
        return manifest

    def set(self, key: str, value: Any) -> None:
        self._update(lambda data: data.__setitem__(key, value))

    def set_model(self, description: dict[str, Any]) -> None:
        self._update(lambda data: data.__setitem__("model", {**data.get("model", {}), **description}))

    def record_benchmark(self, name: str, entry: dict[str, Any]) -> None:
        self._update(lambda data: data.setdefault("benchmarks", {}).__setitem__(name, entry))

    def finish(self) -> None:
        finished = now()

        def change(data: dict[str, Any]) -> None:
            data["finished"] = finished
            data["attempts"][self.attempt]["finished"] = finished

        self._update(change)
