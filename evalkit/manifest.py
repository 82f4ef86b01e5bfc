"""``manifest.json``: everything needed to reproduce a run (CONTRACT.md, "Files a run writes")."""

from __future__ import annotations

import platform
import subprocess
import sys
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import evalkit
from evalkit.jsonio import read_json, write_json_atomic

MANIFEST = "manifest.json"
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
    """The run's manifest, rewritten atomically after every change."""

    def __init__(self, run_dir: Path, data: dict[str, Any]) -> None:
        self.path = run_dir / MANIFEST
        self.data = data

    @classmethod
    def begin(cls, run_dir: Path, settings: dict[str, Any]) -> Manifest:
        path = run_dir / MANIFEST
        data: dict[str, Any] = read_json(path) if path.exists() else {}
        attempts = data.get("attempts", [])
        attempts.append({"started": now(), "argv": sys.argv[1:]})
        data.update({
            "evalkit_version": evalkit.__version__,
            "git_commit": git_commit(),
            **settings,
            "packages": package_versions(),
            "platform": platform.platform(),
            "started": data.get("started", attempts[0]["started"]),
            "finished": None,
            "attempts": attempts,
        })
        data.setdefault("benchmarks", {})
        manifest = cls(run_dir, data)
        manifest.save()
        return manifest

    def set_model(self, description: dict[str, Any]) -> None:
        self.data["model"] = {**self.data.get("model", {}), **description}
        self.save()

    def record_benchmark(self, name: str, entry: dict[str, Any]) -> None:
        self.data["benchmarks"][name] = entry
        self.save()

    def finish(self) -> None:
        self.data["finished"] = now()
        self.data["attempts"][-1]["finished"] = self.data["finished"]
        self.save()

    def save(self) -> None:
        write_json_atomic(self.path, self.data)
