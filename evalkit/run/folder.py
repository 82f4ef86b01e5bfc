"""The run folder: every file name in it, the one typed reader, and where each writer puts its file.

A run folder (``results/<model>/`` by default) holds::

    manifest.json                 what reproduces the run            (evalkit.run.manifest writes it)
    <SUITE>/run.json              the configuration the folder is bound to   (evalkit.run.store)
    <SUITE>/predictions.jsonl     one record per finished sample, appended  (evalkit.run.store)
    <SUITE>/predictions.rank<R>.jsonl   a torchrun rank's records until the merge
    <SUITE>/scores.json           the suite's score, breakdown, protocol     (evalkit.scoring.suite)
    <SUITE>/details.jsonl         one scored sample per line                 (evalkit.scoring.suite)
    report/                       the run's own leaderboard                  (evalkit.report.write)

The runner, ``score``, ``report`` and ``compare`` read a run through :class:`RunFolder` and
:class:`SuiteFolder`; every file is written through :mod:`evalkit.files` (atomic replace, or a durable append).
A missing or damaged file is a :class:`~evalkit.errors.DataError` naming it (and the line, for JSON lines).
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evalkit.errors import DataError

MANIFEST = "manifest.json"
IDENTITY = "run.json"
PREDICTIONS = "predictions.jsonl"
RANK_PATTERN = "predictions.rank*.jsonl"
SCORES = "scores.json"
DETAILS = "details.jsonl"
REPORT = "report"
LOCK = ".lock"
SCORING_LOCK = ".scoring.lock"


def rank_file(rank: int) -> str:
    """The prediction file of one torchrun rank."""
    return f"predictions.rank{rank}.jsonl"


def index_key(index: object) -> str:
    """A stable key for a dataset index: ``5`` and ``"5"`` stay distinct, as in the source."""
    return json.dumps(index, ensure_ascii=False)


def read_object(path: Path) -> dict[str, Any]:
    """A JSON file that must hold an object."""
    try:
        with path.open(encoding="utf-8") as handle:
            data = json.load(handle)
    except json.JSONDecodeError as exc:
        raise DataError(f"{path}: not valid JSON: {exc}") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"{path}: cannot read: {getattr(exc, 'strerror', None) or exc}") from exc
    if not isinstance(data, dict):
        raise DataError(f"{path}: expected a JSON object, found {type(data).__name__}")
    return data


def json_lines(path: Path) -> Iterator[tuple[int, Any]]:
    """(line number, value) of each non-blank line of a JSON-lines file; a bad line names ``path:line``."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise DataError(f"{path}: file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"{path}: unreadable ({exc})") from exc
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            yield number, json.loads(line)
        except json.JSONDecodeError as exc:
            raise DataError(f"{path}:{number}: not valid JSON ({exc.msg})") from exc


def lenient_json_lines(path: Path) -> list[dict[str, Any]]:
    """The JSON objects of a ``.jsonl`` file for display: none when it is missing, bad lines skipped."""
    if not path.is_file():
        return []
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            row = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(row, dict):
            rows.append(row)
    return rows


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


DIGEST = "details_digest"
"""The key of ``scores.json`` that records what ``details.jsonl`` held when the score was computed."""


def _score_of(row: Mapping[str, Any]) -> float | None:
    score = row["score"]
    return None if score is None else float(score)


def details_digest(rows: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """What the per-sample scores were: the row count, the scored count, their sum, and a sha256 of the
    (index, score) pairs in index order, so that an edited, dropped or swapped score is seen."""
    pairs = sorted(((index_key(row["index"]), _score_of(row)) for row in rows), key=lambda pair: pair[0])
    scored = [score for _, score in pairs if score is not None]
    text = "".join(f"{key}\t{score!r}\n" for key, score in pairs)
    return {"rows": len(pairs), "scored": len(scored), "score_sum": math.fsum(scored),
            "sha256": hashlib.sha256(text.encode("utf-8")).hexdigest()}


def digest_difference(recorded: Mapping[str, Any], found: Mapping[str, Any]) -> str | None:
    """How ``details.jsonl`` (``found``) departs from the digest ``scores.json`` recorded, or None."""
    if recorded.get("rows") != found["rows"]:
        return f"holds {found['rows']} rows, but the score was computed from {recorded.get('rows')}"
    if recorded.get("scored") != found["scored"]:
        return f"holds {found['scored']} scored rows, but the score was computed from {recorded.get('scored')}"
    total = recorded.get("score_sum")
    if not (isinstance(total, int | float) and math.isclose(total, found["score_sum"], rel_tol=1e-9, abs_tol=1e-9)):
        return f"its per-sample scores sum to {found['score_sum']:.6g}, but to {total} when the score was computed"
    if recorded.get("sha256") != found["sha256"]:
        return "its per-sample scores are not those the score was computed from (same sum, other samples)"
    return None


@dataclass(frozen=True)
class SuiteFolder:
    """One suite of a run: its ``scores.json`` as written, and its files."""

    benchmark: str
    scores: Mapping[str, Any]
    path: Path

    @property
    def scores_path(self) -> Path:
        return self.path / SCORES

    @property
    def details_path(self) -> Path:
        return self.path / DETAILS

    @property
    def predictions_path(self) -> Path:
        return self.path / PREDICTIONS

    @property
    def score(self) -> float | None:
        value = self.scores.get("score")
        return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None

    @classmethod
    def read(cls, path: Path, benchmark: str) -> SuiteFolder:
        """Read and check ``<path>/scores.json`` (and that ``details.jsonl`` exists)."""
        scores_path = path / SCORES
        scores = read_object(scores_path)
        if scores.get("benchmark") != benchmark:
            raise DataError(f"{scores_path}: benchmark is {scores.get('benchmark')!r}, not the folder's {benchmark!r}")
        score = scores.get("score")
        if score is not None and not _is_number(score):
            raise DataError(f"{scores_path}: score must be a number or null, got {score!r}")
        if not isinstance(scores.get("breakdown", {}), Mapping):
            raise DataError(f"{scores_path}: breakdown must be an object")
        if not (path / DETAILS).is_file():
            raise DataError(f"{path / DETAILS}: file not found")
        return cls(benchmark, scores, path)

    def details(self) -> list[dict[str, Any]]:
        """Every row of ``details.jsonl``, checked: an object with ``index`` and a finite ``score`` (or null),
        no index twice."""
        rows: list[dict[str, Any]] = []
        seen: set[str] = set()
        for number, record in json_lines(self.details_path):
            where = f"{self.details_path}:{number}"
            if not isinstance(record, dict) or "index" not in record or "score" not in record:
                raise DataError(f"{where}: expected an object with 'index' and 'score'")
            score = record["score"]
            if score is not None and not (_is_number(score) and math.isfinite(score)):
                raise DataError(f"{where}: 'score' must be a finite number or null, got {score!r}")
            key = index_key(record["index"])
            if key in seen:
                raise DataError(f"{where}: index {key} appears twice")
            seen.add(key)
            rows.append(record)
        return rows

    def verified_details(self) -> list[dict[str, Any]]:
        """:meth:`details`, checked against the digest ``scores.json`` recorded (files written before digests
        existed are returned unchecked: see :attr:`digest_recorded`)."""
        rows = self.details()
        recorded = self.scores.get(DIGEST)
        if isinstance(recorded, Mapping):
            difference = digest_difference(recorded, details_digest(rows))
            if difference is not None:
                raise DataError(f"{self.details_path}: no longer matches {self.scores_path}: {difference} "
                                "(edited or truncated by hand? score the predictions again)")
        return rows

    @property
    def digest_recorded(self) -> bool:
        return isinstance(self.scores.get(DIGEST), Mapping)


@dataclass(frozen=True)
class RunFolder:
    """A run folder: the model's name, the run's protocol, its manifest, and each scored suite in run order."""

    path: Path
    model: str
    protocol: str | None
    manifest: Mapping[str, Any]
    suites: Mapping[str, SuiteFolder]

    @classmethod
    def read(cls, run_dir: Path | str) -> RunFolder:
        """Read ``manifest.json`` and every ``<SUITE>/scores.json`` (checking that ``details.jsonl`` exists).

        The suites are those the manifest lists, then any other folder holding a ``scores.json``.
        """
        root = Path(run_dir)
        if not root.is_dir():
            raise DataError(f"{root}: not a run directory")
        manifest_path = root / MANIFEST
        manifest = read_object(manifest_path)
        listed = manifest.get("benchmarks", {})
        if not isinstance(listed, Mapping):
            raise DataError(f"{manifest_path}: benchmarks must be an object")
        names = [str(name) for name in listed]
        names += sorted(path.parent.name for path in root.glob(f"*/{SCORES}") if path.parent.name not in listed)
        protocol = manifest.get("protocol")
        return cls(root, _model_name(manifest, manifest_path), protocol if isinstance(protocol, str) else None,
                   manifest, {name: SuiteFolder.read(root / name, name) for name in names})

    def entry(self, suite: str) -> dict[str, Any] | None:
        """The manifest's record of how ``suite`` was run (None when the manifest has none)."""
        entry = self.manifest.get("benchmarks", {}).get(suite)
        return entry if isinstance(entry, dict) else None


def load_run(run_dir: Path | str) -> RunFolder:
    """:meth:`RunFolder.read`."""
    return RunFolder.read(run_dir)


def _model_name(manifest: Mapping[str, Any], path: Path) -> str:
    model = manifest.get("model")
    for name in (model.get("name") if isinstance(model, Mapping) else None, manifest.get("model_spec")):
        if isinstance(name, str) and name:
            return name
    raise DataError(f"{path}: names no model (neither model.name nor model_spec)")
