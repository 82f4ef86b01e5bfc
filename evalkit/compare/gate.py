"""``evalkit compare BASE CANDIDATE``: the regression gate between two checkpoints' runs (loading and pairing).

Every ``details.jsonl`` of both runs is first checked against the digest its ``scores.json`` recorded (an
edited or truncated file is a :class:`~evalkit.errors.DataError` naming it). Then, for every suite both run
directories hold a ``scores.json`` for, this module

1. checks that the two runs ran the suite the same way (:mod:`evalkit.compare.configuration`); a suite that
   differs gets the verdict ``mismatch`` and is not compared;
2. pairs the samples of the two ``details.jsonl`` files by ``(index, sample_hash)`` (by index alone when one
   side's hashes do not describe the dataset's rows), keeping those with a non-null ``score`` in both runs, and
   counts the rest (only in one run, scored in one run only, same index but a different hash);
3. hands the paired per-sample scores to :func:`evalkit.compare.stats.paired_stats` and
   :func:`evalkit.compare.stats.verdict`.

Every suite of the base must be compared: one missing in the candidate, or not scored there while the base has
a score, mismatched or without a paired sample, is *not comparable*. The exit code of the gate is
:attr:`GateResult.exit_code`: 1 when any suite regressed, or any base suite is not comparable (unless
``allow_missing``: then those are *skipped*, and the verdict rests on the rest, provided something was compared),
else 0. Unreadable or missing files raise :class:`evalkit.errors.DataError` (exit 2) naming the file; bad settings
raise :class:`evalkit.errors.EvalkitError` naming the flag.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from evalkit.compare.configuration import (
    FieldMismatch,
    Side,
    UnknownField,
    check_configuration,
    imported_from,
    unknown_notes,
)
from evalkit.compare.stats import IMPROVED, NO_CHANGE, REGRESSED, PairedStats, paired_stats, sample_scale, verdict
from evalkit.errors import DataError, EvalkitError
from evalkit.run.folder import DIGEST, SCORES, RunFolder, SuiteFolder, index_key

MISMATCH = "mismatch"
NOT_SCORED = "not scored"
NOT_COMPARED = "not compared"
MISSING = "missing in the candidate"

PASS = "PASS"
FAIL = "FAIL"
FAIL_NOT_COMPARABLE = "FAIL (not comparable)"

EXAMPLES_KEPT = 5
"""How many sample indices of each unpaired kind are kept for the report."""

_MEAN_TOLERANCE = 1e-4
"""How close (in headline points) the mean of the per-sample scores must be to call the headline a plain mean."""


@dataclass(frozen=True)
class GateSettings:
    """The knobs of one gate run, recorded in ``gate.json``."""

    alpha: float = 0.05
    min_delta: float = 1.0
    bootstrap: int = 10_000
    seed: int = 0


@dataclass
class Pairing:
    """How the two runs' samples of a suite lined up. Counts are of samples (rows of ``details.jsonl``)."""

    paired: int = 0
    only_base: int = 0
    only_candidate: int = 0
    hash_changed: int = 0
    scored_base_only: int = 0
    scored_candidate_only: int = 0
    unhashed: int = 0
    examples: dict[str, list[str]] = field(default_factory=dict)

    @property
    def unpaired(self) -> int:
        """Samples scored in at least one run but not compared."""
        return (self.only_base + self.only_candidate + self.hash_changed + self.scored_base_only
                + self.scored_candidate_only)

    def note(self, kind: str, key: str) -> None:
        """Count one sample of ``kind`` and keep its index as an example."""
        setattr(self, kind, getattr(self, kind) + 1)
        kept = self.examples.setdefault(kind, [])
        if len(kept) < EXAMPLES_KEPT:
            kept.append(key)


@dataclass
class SuiteComparison:
    """The gate's finding for one suite present in both runs."""

    suite: str
    metric: str
    higher_is_better: bool
    base_score: float | None
    candidate_score: float | None
    verdict: str
    delta: float | None = None
    stats: PairedStats | None = None
    pairing: Pairing | None = None
    mismatches: list[FieldMismatch] = field(default_factory=list)
    unknown: list[UnknownField] = field(default_factory=list)
    headline_is_sample_mean: bool | None = None
    notes: list[str] = field(default_factory=list)
    #: Why the suite was not compared (None when it was).
    reason: str | None = None


@dataclass
class GateResult:
    """Everything ``compare`` found: per-suite comparisons and the suites only one run has."""

    base_dir: str
    candidate_dir: str
    settings: GateSettings
    suites: list[SuiteComparison]
    only_base: list[str]
    only_candidate: list[str]
    allow_missing: bool = False

    @property
    def regressed(self) -> list[str]:
        return [s.suite for s in self.suites if s.verdict == REGRESSED]

    @property
    def improved(self) -> list[str]:
        return [s.suite for s in self.suites if s.verdict == IMPROVED]

    @property
    def mismatched(self) -> list[str]:
        return [s.suite for s in self.suites if s.verdict == MISMATCH]

    @property
    def compared(self) -> list[str]:
        """Suites that got a statistical verdict."""
        return [s.suite for s in self.suites if s.verdict in (REGRESSED, IMPROVED, NO_CHANGE)]

    def _uncompared(self) -> list[tuple[str, str]]:
        """(suite, reason) for every suite of the base that was not compared, in name order."""
        found = [(s.suite, s.reason) for s in self.suites if s.reason is not None]
        found += [(suite, MISSING) for suite in self.only_base]
        return sorted(found)

    @property
    def not_comparable(self) -> list[tuple[str, str]]:
        """Base suites not compared, which fail the gate (none with ``allow_missing``)."""
        return [] if self.allow_missing else self._uncompared()

    @property
    def skipped(self) -> list[tuple[str, str]]:
        """Base suites not compared and let go by ``allow_missing``."""
        return self._uncompared() if self.allow_missing else []

    @property
    def verdict(self) -> str:
        """``FAIL`` on a regression; ``FAIL (not comparable)`` when a base suite was not compared (or, with
        ``allow_missing``, when none was); else ``PASS``."""
        if self.regressed:
            return FAIL
        if self.not_comparable or not self.compared:
            return FAIL_NOT_COMPARABLE
        return PASS

    @property
    def exit_code(self) -> int:
        """1 unless the verdict is ``PASS`` (data errors never get this far: they raise)."""
        return 0 if self.verdict == PASS else 1


@dataclass(frozen=True)
class _Row:
    sample_hash: str | None
    score: float | None


def read_details(suite: SuiteFolder) -> dict[str, _Row]:
    """A suite's ``details.jsonl`` as ``{index_key(index): row}`` (checked by :meth:`SuiteFolder.verified_details`:
    a file that no longer matches its ``scores.json`` is a :class:`DataError` naming it)."""
    rows: dict[str, _Row] = {}
    for record in suite.verified_details():
        sample_hash, score = record.get("sample_hash"), record["score"]
        rows[index_key(record["index"])] = _Row(str(sample_hash) if sample_hash is not None else None,
                                                float(score) if score is not None else None)
    return rows


def pair_samples(base: Mapping[str, _Row], candidate: Mapping[str, _Row], *,
                 use_hashes: bool = True) -> tuple[Pairing, list[float], list[float]]:
    """Pair by ``(index, sample_hash)``; returns the pairing counts and the aligned paired scores.

    A row whose ``sample_hash`` is missing in either run (files written before hashes existed), or every row when
    not ``use_hashes``, is paired on its index alone and counted in ``unhashed``. Rows with a null score in both
    runs are ignored (not scored by design, e.g. the circular copies of a CircularEval question).
    """
    if not use_hashes:
        base = {key: _Row(None, row.score) for key, row in base.items()}
    pairing = Pairing()
    base_scores: list[float] = []
    candidate_scores: list[float] = []
    for key, row in base.items():
        other = candidate.get(key)
        if other is None:
            if row.score is not None:
                pairing.note("only_base", key)
            continue
        if row.score is None and other.score is None:
            continue
        if row.sample_hash is not None and other.sample_hash is not None and row.sample_hash != other.sample_hash:
            pairing.note("hash_changed", key)
            continue
        if other.score is None:
            pairing.note("scored_base_only", key)
            continue
        if row.score is None:
            pairing.note("scored_candidate_only", key)
            continue
        if row.sample_hash is None or other.sample_hash is None:
            pairing.unhashed += 1
        pairing.paired += 1
        base_scores.append(row.score)
        candidate_scores.append(other.score)
    for key, row in candidate.items():
        if key not in base and row.score is not None:
            pairing.note("only_candidate", key)
    return pairing, base_scores, candidate_scores


def _read_run(root: Path) -> RunFolder:
    """A run folder that has at least one scored suite."""
    run = RunFolder.read(root)
    if not run.suites:
        raise DataError(f"{root}: no <suite>/{SCORES} found: not a run directory")
    return run


def _headline_is_mean(scores: list[float], headline: float, scale: float) -> bool:
    return bool(scores) and abs(sum(scores) / len(scores) * scale - headline) <= _MEAN_TOLERANCE


@dataclass(frozen=True)
class _Run:
    """A run folder, the tool it was imported from (None for an evalkit run), and its checked details."""

    folder: RunFolder
    imported_from: str | None
    details: Mapping[str, Mapping[str, _Row]]

    @classmethod
    def read(cls, root: Path) -> _Run:
        folder = _read_run(root)
        details = {name: read_details(suite) for name, suite in folder.suites.items()}
        return cls(folder, imported_from(folder.manifest), details)

    def side(self, suite: str) -> Side:
        return Side(self.folder.entry(suite), self.folder.suites[suite].scores, self.imported_from)


def _not_scored(result: SuiteComparison, base_scores: Mapping[str, Any],
                candidate_scores: Mapping[str, Any]) -> SuiteComparison:
    """A suite without a score on one side or both. Not comparable when the base has a score; a suite the base
    could not score either (answers hidden, a judge needed) has nothing to defend: listed, never failing."""
    reasons = {label: str(scores.get("reason") or "no score") for label, scores
               in (("base", base_scores), ("candidate", candidate_scores)) if scores.get("score") is None}
    if len(reasons) == 2 and len(set(reasons.values())) == 1:
        result.notes.append(f"not scored in either run: {reasons['base']}")
    else:
        result.notes += [f"not scored in {label}: {reason}" for label, reason in reasons.items()]
    if "base" not in reasons:  # the base has a score the candidate does not answer: not comparable
        result.reason = "; ".join(result.notes)
    return result


def _pairing_notes(pairing: Pairing, use_hashes: bool, unhashed_side: str) -> list[str]:
    notes = []
    if pairing.unpaired:
        notes.append(f"compared on the {pairing.paired} paired samples; {pairing.unpaired} unpaired")
    if not use_hashes:
        notes.append(f"paired on the dataset index alone: the {unhashed_side} recorded no data checksum, so its "
                     "sample hashes describe its prediction file, not the dataset's rows")
    elif pairing.unhashed:
        notes.append(f"{pairing.unhashed} samples lack a sample_hash: paired on index alone")
    return notes


def _digest_note(base: RunFolder, candidate: RunFolder, suite: str) -> list[str]:
    lacking = [label for label, run in (("base", base), ("candidate", candidate))
               if not run.suites[suite].digest_recorded]
    if not lacking:
        return []
    return [f"details.jsonl of the {' and '.join(lacking)} not checked against scores.json (no {DIGEST}: "
            "written by an older evalkit)"]


def _test(result: SuiteComparison, paired_base: list[float], paired_candidate: list[float],
          settings: GateSettings) -> None:
    assert result.base_score is not None and result.candidate_score is not None and result.delta is not None
    scale = sample_scale(paired_base + paired_candidate)
    stats = paired_stats(paired_base, paired_candidate, alpha=settings.alpha, resamples=settings.bootstrap,
                         seed=settings.seed, scale=scale)
    result.stats = stats
    result.headline_is_sample_mean = (_headline_is_mean(paired_base, float(result.base_score), scale)
                                      and _headline_is_mean(paired_candidate, float(result.candidate_score), scale))
    if not result.headline_is_sample_mean:
        result.notes.append(f"the test is on per-sample scores; delta is the headline ({result.metric}) difference")
    result.verdict = verdict(result.delta, stats, higher_is_better=result.higher_is_better, alpha=settings.alpha,
                             min_delta=settings.min_delta)


def _compare_suite(suite: str, base: _Run, candidate: _Run, settings: GateSettings) -> SuiteComparison:
    base_side, candidate_side = base.side(suite), candidate.side(suite)
    base_scores, candidate_scores = base_side.scores, candidate_side.scores
    result = SuiteComparison(suite=suite, metric=str(base_scores.get("metric", "")),
                             higher_is_better=bool(base_scores.get("higher_is_better", True)),
                             base_score=base_scores.get("score"), candidate_score=candidate_scores.get("score"),
                             verdict=NOT_SCORED)
    if result.base_score is None or result.candidate_score is None:
        return _not_scored(result, base_scores, candidate_scores)
    result.delta = round(float(result.candidate_score) - float(result.base_score), 9)
    check = check_configuration(base_side, candidate_side)
    result.mismatches, result.unknown = check.mismatches, check.unknown
    if result.mismatches:
        result.verdict = MISMATCH
        result.reason = "configuration differs: " + ", ".join(item.field for item in result.mismatches)
        result.notes.append("configuration differs: not compared")
        return result
    result.notes += unknown_notes(check)
    if base_side.entry is None:
        result.notes.append("neither manifest records this suite's configuration: only scores.json was checked")
    result.notes += _digest_note(base.folder, candidate.folder, suite)
    pairing, paired_base, paired_candidate = pair_samples(base.details[suite], candidate.details[suite],
                                                          use_hashes=check.hashes_comparable)
    result.pairing = pairing
    unhashed_side = next((item.side for item in check.unknown if item.field == "data_checksum"), "")
    result.notes += _pairing_notes(pairing, check.hashes_comparable, unhashed_side)
    if not pairing.paired:
        result.verdict = NOT_COMPARED
        result.reason = "no paired samples"
        result.notes.append(result.reason)
        return result
    _test(result, paired_base, paired_candidate, settings)
    return result


def check_settings(settings: GateSettings) -> None:
    """Raise :class:`EvalkitError` naming the flag when a setting is out of range."""
    if not 0.0 < settings.alpha < 1.0:
        raise EvalkitError(f"--alpha must be between 0 and 1 (exclusive), got {settings.alpha}")
    if not (math.isfinite(settings.min_delta) and settings.min_delta >= 0.0):
        raise EvalkitError(f"--min-delta must be a number >= 0, got {settings.min_delta}")
    if settings.bootstrap < 1:
        raise EvalkitError(f"--bootstrap must be >= 1, got {settings.bootstrap}")
    if settings.seed < 0:
        raise EvalkitError(f"--seed must be >= 0, got {settings.seed}")


def compare_runs(base_dir: str | Path, candidate_dir: str | Path, *, alpha: float = 0.05, min_delta: float = 1.0,
                 bootstrap: int = 10_000, seed: int = 0, allow_missing: bool = False) -> GateResult:
    """Compare two run directories suite by suite; see the module docstring and docs/regression-gate.md.

    Raises :class:`DataError` for a missing or unreadable file (the message names it), for a ``details.jsonl``
    that no longer matches its ``scores.json``, and when the runs have no suite in common;
    :class:`EvalkitError` for a setting out of range.
    """
    settings = GateSettings(alpha=alpha, min_delta=min_delta, bootstrap=bootstrap, seed=seed)
    check_settings(settings)
    base, candidate = _Run.read(Path(base_dir)), _Run.read(Path(candidate_dir))
    base_suites, candidate_suites = sorted(base.folder.suites), sorted(candidate.folder.suites)
    common = [suite for suite in base_suites if suite in candidate.folder.suites]
    if not common:
        raise DataError(f"{base.folder.path} and {candidate.folder.path} have no suite in common")
    suites = [_compare_suite(suite, base, candidate, settings) for suite in common]
    return GateResult(base_dir=str(base_dir), candidate_dir=str(candidate_dir), settings=settings, suites=suites,
                      only_base=[s for s in base_suites if s not in candidate.folder.suites],
                      only_candidate=[s for s in candidate_suites if s not in base.folder.suites],
                      allow_missing=allow_missing)
