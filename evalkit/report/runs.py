"""Run directories as the report reads them: ``manifest.json`` and each benchmark's ``scores.json``."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evalkit.errors import DataError

MANIFEST, SCORES, DETAILS = "manifest.json", "scores.json", "details.jsonl"


@dataclass(frozen=True)
class SuiteResult:
    """One benchmark of a run: its ``scores.json`` document as written, and where its files are."""

    benchmark: str
    scores: Mapping[str, Any]
    scores_path: Path
    details_path: Path

    @property
    def score(self) -> float | None:
        value = self.scores.get("score")
        return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


@dataclass(frozen=True)
class RunResult:
    """A run directory: the model's name, the run's protocol, and each scored benchmark, in run order."""

    path: Path
    model: str
    protocol: str | None
    manifest: Mapping[str, Any]
    suites: Mapping[str, SuiteResult]


def _read_object(path: Path) -> dict[str, Any]:
    try:
        with path.open(encoding="utf-8") as handle:
            data = json.load(handle)
    except json.JSONDecodeError as exc:
        raise DataError(f"{path}: not valid JSON: {exc}") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"{path}: cannot read: {getattr(exc, 'strerror', None) or exc}") from exc
    if not isinstance(data, dict):
        raise DataError(f"{path}: expected a JSON object")
    return data


def _model_name(manifest: Mapping[str, Any], path: Path) -> str:
    model = manifest.get("model")
    for name in (model.get("name") if isinstance(model, Mapping) else None, manifest.get("model_spec")):
        if isinstance(name, str) and name:
            return name
    raise DataError(f"{path}: names no model (neither model.name nor model_spec)")


def _load_suite(run_dir: Path, name: str) -> SuiteResult:
    scores_path, details_path = run_dir / name / SCORES, run_dir / name / DETAILS
    scores = _read_object(scores_path)
    if scores.get("benchmark") != name:
        raise DataError(f"{scores_path}: benchmark is {scores.get('benchmark')!r}, not the folder's {name!r}")
    score = scores.get("score")
    if score is not None and (isinstance(score, bool) or not isinstance(score, int | float)):
        raise DataError(f"{scores_path}: score must be a number or null")
    if not isinstance(scores.get("breakdown", {}), Mapping):
        raise DataError(f"{scores_path}: breakdown must be an object")
    if not details_path.is_file():
        raise DataError(f"{details_path}: file not found")
    return SuiteResult(name, scores, scores_path, details_path)


def load_run(run_dir: Path | str) -> RunResult:
    """Read a run directory: ``manifest.json`` and every ``<BENCH>/scores.json`` (with its ``details.jsonl``).

    The benchmarks are those the manifest lists, then any other folder holding a ``scores.json``. A
    missing or unreadable file is a :class:`~evalkit.errors.DataError` naming it.
    """
    root = Path(run_dir)
    if not root.is_dir():
        raise DataError(f"{root}: not a run directory")
    manifest_path = root / MANIFEST
    manifest = _read_object(manifest_path)
    listed = manifest.get("benchmarks", {})
    if not isinstance(listed, Mapping):
        raise DataError(f"{manifest_path}: benchmarks must be an object")
    names = [str(name) for name in listed]
    names += sorted(path.parent.name for path in root.glob(f"*/{SCORES}") if path.parent.name not in listed)
    protocol = manifest.get("protocol")
    return RunResult(root, _model_name(manifest, manifest_path), protocol if isinstance(protocol, str) else None,
                     manifest, {name: _load_suite(root, name) for name in names})
