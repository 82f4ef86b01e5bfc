"""Types shared by extractors, metrics and the scoring pipeline.

An extractor turns one raw prediction into what the metric compares
(:class:`Extraction`); a metric turns all of a suite's items into a
:class:`SuiteScore` on the paper's scale, with one :class:`SampleScore` per
sample for ``details.jsonl``. Both are pure functions of their inputs and the
:class:`ScoringContext` (options from the card, the judge or None, a seed).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from evalkit.data.sample import Sample, SampleIndex
from evalkit.judge.base import Judge

# How an extraction was decided: by the rules, by the judge, by a seeded random draw
# (VLMEvalKit's last resort, flagged), not at all, or because the record had an error.
METHODS = ("rule", "judge", "random", "none", "error")


@dataclass(frozen=True)
class Extraction:
    """What a scorer compares. ``value`` is None when nothing could be extracted."""

    value: Any
    method: str = "rule"
    note: str | None = None


@dataclass(frozen=True)
class ScoringItem:
    """One sample with its raw prediction (a list for multi-turn suites) and its extraction."""

    sample: Sample
    prediction: str | tuple[str, ...]
    error: str | None = None
    extraction: Extraction = Extraction(None, "none")


@dataclass(frozen=True)
class SampleScore:
    """One line of ``details.jsonl``: ``score`` is this sample's contribution, None when not scored."""

    index: SampleIndex
    prediction: str | list[str]
    extracted: Any
    score: float | None
    method: str = "rule"
    extra: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class SuiteScore:
    """``scores.json``'s content for one suite. ``score`` None means not scored (``reason`` says why)."""

    metric: str
    score: float | None
    n: int
    breakdown: Mapping[str, Any]
    samples: Sequence[SampleScore]
    reason: str | None = None
    higher_is_better: bool = True


@dataclass(frozen=True)
class ScoringContext:
    options: Mapping[str, Any] = field(default_factory=dict)
    judge: Judge | None = None
    seed: int = 0
    language: str = "en"


Extractor = Callable[[str, Sample, ScoringContext], Extraction]
Metric = Callable[[Sequence[ScoringItem], ScoringContext], SuiteScore]
