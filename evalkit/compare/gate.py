"""``evalkit compare BASE CANDIDATE``: the regression gate between two checkpoints' runs (loading and pairing).

For every suite both run directories hold a ``scores.json`` for, this module

1. checks that the two runs ran the suite the same way (prompt version, max tiles, generation settings, protocol,
   data checksum from ``manifest.json``; scoring protocol, metric and judge from ``scores.json``); a suite that
   differs gets the verdict ``mismatch`` and is not compared;
2. pairs the samples of the two ``details.jsonl`` files by ``(index, sample_hash)``, keeping those with a
   non-null ``score`` in both runs, and counts the rest (only in one run, scored in one run only, same index but
   a different hash);
3. hands the paired per-sample scores to :func:`evalkit.compare.stats.paired_stats` and
   :func:`evalkit.compare.stats.verdict`.

The exit code of the gate is :attr:`GateResult.exit_code`: 1 when any suite regressed, else 0. Unreadable or
missing files raise :class:`evalkit.errors.DataError` (exit 2) naming the file; bad settings raise
:class:`evalkit.errors.EvalkitError` naming the flag.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from evalkit.compare.stats import IMPROVED, REGRESSED, PairedStats, paired_stats, sample_scale, verdict
from evalkit.errors import DataError, EvalkitError
from evalkit.run.folder import SCORES, RunFolder, SuiteFolder, index_key

MISMATCH = "mismatch"
NOT_SCORED = "not scored"
NOT_COMPARED = "not compared"

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


@dataclass(frozen=True)
class FieldMismatch:
    """One configuration field that differs between the runs for a suite."""

    field: str
    base: Any
    candidate: Any


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
    headline_is_sample_mean: bool | None = None
    notes: list[str] = field(default_factory=list)


@dataclass
class GateResult:
    """Everything ``compare`` found: per-suite comparisons and the suites only one run has."""

    base_dir: str
    candidate_dir: str
    settings: GateSettings
    suites: list[SuiteComparison]
    only_base: list[str]
    only_candidate: list[str]

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
    def exit_code(self) -> int:
        """1 when any suite regressed, else 0 (data errors never get this far: they raise)."""
        return 1 if self.regressed else 0


@dataclass(frozen=True)
class _Row:
    sample_hash: str | None
    score: float | None


def read_details(suite: SuiteFolder) -> dict[str, _Row]:
    """A suite's ``details.jsonl`` as ``{index_key(index): row}`` (checked by :meth:`SuiteFolder.details`)."""
    rows: dict[str, _Row] = {}
    for record in suite.details():
        sample_hash, score = record.get("sample_hash"), record["score"]
        rows[index_key(record["index"])] = _Row(str(sample_hash) if sample_hash is not None else None,
                                                float(score) if score is not None else None)
    return rows


def pair_samples(base: Mapping[str, _Row], candidate: Mapping[str, _Row]) -> tuple[Pairing, list[float], list[float]]:
    """Pair by ``(index, sample_hash)``; returns the pairing counts and the aligned paired scores.

    A row whose ``sample_hash`` is missing in either run (files written before hashes existed) is paired on its
    index alone and counted in ``unhashed``. Rows with a null score in both runs are ignored (not scored by
    design, e.g. the circular copies of a CircularEval question).
    """
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


def _generation(entry: Mapping[str, Any]) -> Any:
    """The generation settings; the sampling seed is dropped under greedy decoding, where it changes nothing."""
    generation = entry.get("generation")
    if isinstance(generation, dict) and not generation.get("do_sample", False):
        return {key: value for key, value in generation.items() if key != "seed"}
    return generation


def configuration(entry: Mapping[str, Any] | None, scores: Mapping[str, Any]) -> dict[str, Any]:
    """The facts two runs must share for a suite to be compared (manifest entry plus scores.json)."""
    facts: dict[str, Any] = {}
    if entry is not None:
        data = entry.get("data")
        checksum = entry.get("data_checksum")
        if checksum is None and isinstance(data, dict):
            checksum = data.get("checksum")
        facts.update({"prompt_version": entry.get("prompt_version"), "max_tiles": entry.get("max_tiles"),
                      "generation": _generation(entry), "protocol": entry.get("protocol"),
                      "data_checksum": checksum})
    judge = scores.get("judge")
    facts.update({"scoring_protocol": scores.get("protocol"), "metric": scores.get("metric"),
                  "judge": judge.get("spec") if isinstance(judge, dict) else judge})
    return facts


def config_mismatches(base_entry: Mapping[str, Any] | None, base_scores: Mapping[str, Any],
                      candidate_entry: Mapping[str, Any] | None,
                      candidate_scores: Mapping[str, Any]) -> list[FieldMismatch]:
    """Every configuration field that differs; a manifest entry present in only one run is itself a mismatch."""
    found: list[FieldMismatch] = []
    if (base_entry is None) != (candidate_entry is None):
        found.append(FieldMismatch("manifest entry", "present" if base_entry is not None else "missing",
                                   "present" if candidate_entry is not None else "missing"))
        base_entry = candidate_entry = None
    base_facts = configuration(base_entry, base_scores)
    candidate_facts = configuration(candidate_entry, candidate_scores)
    for name, value in base_facts.items():
        if candidate_facts.get(name) != value:
            found.append(FieldMismatch(name, value, candidate_facts.get(name)))
    return found


def _read_run(root: Path) -> RunFolder:
    """A run folder that has at least one scored suite."""
    run = RunFolder.read(root)
    if not run.suites:
        raise DataError(f"{root}: no <suite>/{SCORES} found: not a run directory")
    return run


def _headline_is_mean(scores: list[float], headline: float, scale: float) -> bool:
    return bool(scores) and abs(sum(scores) / len(scores) * scale - headline) <= _MEAN_TOLERANCE


def _compare_suite(suite: str, base: RunFolder, candidate: RunFolder, settings: GateSettings) -> SuiteComparison:
    base_scores, candidate_scores = base.suites[suite].scores, candidate.suites[suite].scores
    higher = bool(base_scores.get("higher_is_better", True))
    result = SuiteComparison(suite=suite, metric=str(base_scores.get("metric", "")), higher_is_better=higher,
                             base_score=base_scores.get("score"), candidate_score=candidate_scores.get("score"),
                             verdict=NOT_SCORED)
    if result.base_score is None or result.candidate_score is None:
        reasons = {label: str(scores.get("reason") or "no score") for label, scores
                   in (("base", base_scores), ("candidate", candidate_scores)) if scores.get("score") is None}
        if len(reasons) == 2 and len(set(reasons.values())) == 1:
            result.notes.append(f"not scored in either run: {reasons['base']}")
        else:
            result.notes += [f"not scored in {label}: {reason}" for label, reason in reasons.items()]
        return result
    result.delta = round(float(result.candidate_score) - float(result.base_score), 9)
    result.mismatches = config_mismatches(base.entry(suite), base_scores, candidate.entry(suite), candidate_scores)
    if result.mismatches:
        result.verdict = MISMATCH
        result.notes.append("configuration differs: not compared")
        return result
    if base.entry(suite) is None:
        result.notes.append("neither manifest records this suite's configuration: only scores.json was checked")
    pairing, paired_base, paired_candidate = pair_samples(read_details(base.suites[suite]),
                                                          read_details(candidate.suites[suite]))
    result.pairing = pairing
    if pairing.unpaired:
        result.notes.append(f"compared on the {pairing.paired} paired samples; {pairing.unpaired} unpaired")
    if pairing.unhashed:
        result.notes.append(f"{pairing.unhashed} samples lack a sample_hash: paired on index alone")
    if not pairing.paired:
        result.verdict = NOT_COMPARED
        result.notes.append("no paired samples")
        return result
    scale = sample_scale(paired_base + paired_candidate)
    stats = paired_stats(paired_base, paired_candidate, alpha=settings.alpha, resamples=settings.bootstrap,
                         seed=settings.seed, scale=scale)
    result.stats = stats
    result.headline_is_sample_mean = (_headline_is_mean(paired_base, float(result.base_score), scale)
                                      and _headline_is_mean(paired_candidate, float(result.candidate_score), scale))
    if not result.headline_is_sample_mean:
        result.notes.append(f"the test is on per-sample scores; delta is the headline ({result.metric}) difference")
    result.verdict = verdict(result.delta, stats, higher_is_better=higher, alpha=settings.alpha,
                             min_delta=settings.min_delta)
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
                 bootstrap: int = 10_000, seed: int = 0) -> GateResult:
    """Compare two run directories suite by suite; see the module docstring and docs/regression-gate.md.

    Raises :class:`DataError` for a missing or unreadable file (the message names it) and when the runs have
    no suite in common, :class:`EvalkitError` for a setting out of range.
    """
    settings = GateSettings(alpha=alpha, min_delta=min_delta, bootstrap=bootstrap, seed=seed)
    check_settings(settings)
    base, candidate = _read_run(Path(base_dir)), _read_run(Path(candidate_dir))
    base_suites, candidate_suites = sorted(base.suites), sorted(candidate.suites)
    common = [suite for suite in base_suites if suite in candidate.suites]
    if not common:
        raise DataError(f"{base.path} and {candidate.path} have no suite in common")
    suites = [_compare_suite(suite, base, candidate, settings) for suite in common]
    return GateResult(base_dir=str(base_dir), candidate_dir=str(candidate_dir), settings=settings, suites=suites,
                      only_base=[s for s in base_suites if s not in candidate.suites],
                      only_candidate=[s for s in candidate_suites if s not in base.suites])
