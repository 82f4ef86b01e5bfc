"""Small helpers shared by metrics: the text a metric compares, error and hidden-answer samples, means, groups.

Everything here is generic (no suite names). A metric builds one :class:`SampleScore`
per item, in input order, and a breakdown of plain JSON values on the paper's scale.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from evalkit.data.sample import Sample
from evalkit.scoring.types import SampleScore, ScoringItem, SuiteScore

ANSWERS_HIDDEN = "answers hidden"
NO_SAMPLES = "no samples to score"


def reply_text(item: ScoringItem) -> str:
    """The raw reply as one string (the turns of a multi-turn reply joined by newlines)."""
    return item.prediction if isinstance(item.prediction, str) else "\n".join(item.prediction)


def detail_prediction(item: ScoringItem) -> str | list[str]:
    """The reply as ``details.jsonl`` records it: a string, or a list with one entry per turn."""
    return item.prediction if isinstance(item.prediction, str) else list(item.prediction)


def compared_text(item: ScoringItem) -> str:
    """What a text metric compares: the extractor's string when it produced one, else the raw reply."""
    value = item.extraction.value
    return value if isinstance(value, str) else reply_text(item)


def error_sample(item: ScoringItem, **extra: Any) -> SampleScore:
    """A sample whose inference failed: it scores 0 with method ``error`` (it still counts in every mean)."""
    return SampleScore(item.sample.index, detail_prediction(item), None, 0.0, "error",
                       {"error": item.error, **extra})


def unscored_sample(item: ScoringItem, reason: str, **extra: Any) -> SampleScore:
    """A sample the metric cannot score (no ground truth): score None, the reason in ``extra``."""
    return SampleScore(item.sample.index, detail_prediction(item), item.extraction.value, None,
                       item.extraction.method, {"not_scored": reason, **extra})


def count_errors(items: Sequence[ScoringItem]) -> int:
    return sum(item.error is not None for item in items)


def answers_hidden(items: Sequence[ScoringItem]) -> bool:
    """True when there are items and none of them carries a ground truth (a hidden test split)."""
    return len(items) > 0 and all(not item.sample.answers for item in items)


def not_scored_suite(metric: str, items: Sequence[ScoringItem], reason: str,
                     higher_is_better: bool = True) -> SuiteScore:
    """Score None for the whole suite (answers hidden, nothing to score), one unscored sample per item."""
    samples = [unscored_sample(item, reason) for item in items]
    return SuiteScore(metric, None, len(items), {"errors": count_errors(items)}, samples, reason=reason,
                      higher_is_better=higher_is_better)


def unscorable_reason(items: Sequence[ScoringItem]) -> str | None:
    """Why a suite cannot be scored at all (no items, answers hidden), or None when it can."""
    if not items:
        return NO_SAMPLES
    if answers_hidden(items):
        return ANSWERS_HIDDEN
    return None


def mean(values: Iterable[float]) -> float | None:
    """Plain left-to-right sum divided by the count, as the reference scripts do; None when empty."""
    total = 0.0
    count = 0
    for value in values:
        total += value
        count += 1
    return total / count if count else None


def mean_percent(values: Iterable[float]) -> float | None:
    """The mean times 100, or None when there is nothing to average."""
    result = mean(values)
    return None if result is None else result * 100.0


def metadata_text(sample: Sample, key: str) -> str | None:
    """A metadata value as text; None when the column is absent, blank or NaN."""
    value = sample.metadata.get(key)
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    text = str(value).strip()
    return text or None


def group_values(pairs: Iterable[tuple[str | None, float | None]]) -> dict[str, list[float]]:
    """Collect scores by group key, in first-seen order; a None key or a None score is left out."""
    groups: dict[str, list[float]] = {}
    for key, value in pairs:
        if key is not None and value is not None:
            groups.setdefault(key, []).append(value)
    return groups


def group_mean_percent(pairs: Iterable[tuple[str | None, float | None]]) -> dict[str, float]:
    """Mean × 100 per group, groups sorted by name."""
    groups = group_values(pairs)
    return {key: sum(groups[key]) / len(groups[key]) * 100.0 for key in sorted(groups)}


def group_mean(items: Sequence[ScoringItem], samples: Sequence[SampleScore], key: str) -> dict[str, float]:
    """Mean × 100 of the scored samples per value of metadata ``key`` (empty when no sample has it)."""
    return group_mean_percent(
        (metadata_text(item.sample, key), sample.score) for item, sample in zip(items, samples, strict=True)
    )


def group_counts(items: Sequence[ScoringItem], key: str) -> dict[str, int]:
    """How many items carry each value of metadata ``key``."""
    counts: dict[str, int] = {}
    for item in items:
        value = metadata_text(item.sample, key)
        if value is not None:
            counts[value] = counts.get(value, 0) + 1
    return dict(sorted(counts.items()))


def finite_or_none(value: float) -> float | None:
    """A float safe for JSON: NaN and infinities become None."""
    return value if math.isfinite(value) else None


def scored_values(samples: Sequence[SampleScore]) -> list[float]:
    return [sample.score for sample in samples if sample.score is not None]


def base_breakdown(items: Sequence[ScoringItem], samples: Sequence[SampleScore]) -> dict[str, Any]:
    """The counts every breakdown carries: errors, samples scored, samples without a ground truth."""
    return {
        "errors": count_errors(items),
        "scored": sum(sample.score is not None for sample in samples),
        "no_ground_truth": sum(sample.score is None for sample in samples),
    }


def metadata_breakdowns(items: Sequence[ScoringItem], samples: Sequence[SampleScore],
                        keys: Sequence[str]) -> dict[str, Mapping[str, float]]:
    """For each metadata key some item carries, the mean × 100 per value (e.g. ``{"category": {...}}``)."""
    result: dict[str, Mapping[str, float]] = {}
    for key in keys:
        groups = group_mean(items, samples, key)
        if groups:
            result[key] = groups
    return result
