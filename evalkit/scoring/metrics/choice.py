"""Vanilla multiple-choice accuracy, and the helpers the other MCQ metrics share.

Card metric ``accuracy`` (:func:`accuracy_suite`): RealWorldQA, AI2D, SEED, VLMEvalKit's MMMU.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Hashable, Iterable, Sequence
from typing import Any

from evalkit.data.sample import Sample
from evalkit.scoring.extract.choice import CASELESS, is_letter
from evalkit.scoring.types import SampleScore, ScoringContext, ScoringItem, SuiteScore

HIDDEN = "answers hidden"
NO_SAMPLES = "no samples"
#: VLMEvalKit's ``MMB_abbrs``: how ``report_acc`` names MMBench's abilities.
MMB_ABBREVIATIONS = {
    "coarse_perception": "CP",
    "finegrained_perception (instance-level)": "FP-S",
    "finegrained_perception (cross-instance)": "FP-C",
    "logic_reasoning": "LR",
    "relation_reasoning": "RR",
    "attribute_reasoning": "AR",
}
GROUP_FIELDS = ("split", "category", "l2-category")
#: SEED-Bench's image dimensions (``eval/seed/calculation.py``: ``1 <= question_type_id <= 9``).
SEED_TYPE_FIELD = "question_type_id"
SEED_IMAGE_TYPES = range(1, 10)


# --------------------------------------------------------------------------- shared helpers


def record(prediction: str | tuple[str, ...]) -> str | list[str]:
    """The prediction as ``details.jsonl`` stores it (a list for multi-turn)."""
    return list(prediction) if isinstance(prediction, tuple) else prediction


def json_safe(value: Any) -> Any:
    """``value`` with tuples as lists and non-finite floats as text (``details.jsonl`` allows no NaN)."""
    if isinstance(value, float) and not math.isfinite(value):
        return repr(value)
    if isinstance(value, (list, tuple)):
        return [json_safe(item) for item in value]
    return value


def percent(values: Sequence[float]) -> float | None:
    """The mean × 100, or None for no values."""
    return 100.0 * sum(values) / len(values) if values else None


def meta_text(sample: Sample, field: str) -> str | None:
    """A metadata value as text; None when missing or blank."""
    value = sample.metadata.get(field)
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    text = str(value)
    return text if text else None


def grouped_percent(pairs: Iterable[tuple[Hashable, float]]) -> dict[str, float]:
    """Mean × 100 per key, keys as text in sorted order (VLMEvalKit sorts its abilities)."""
    groups: dict[str, list[float]] = defaultdict(list)
    for key, value in pairs:
        groups[str(key)].append(value)
    return {key: 100.0 * sum(values) / len(values) for key, values in sorted(groups.items())}


def field_breakdown(rows: Sequence[tuple[Sample, float]], abbreviate: bool = False) -> dict[str, dict[str, float]]:
    """Accuracy per ``split``, ``category`` and ``l2-category`` where the samples carry them."""
    result: dict[str, dict[str, float]] = {}
    for field in GROUP_FIELDS:
        pairs = []
        for sample, hit in rows:
            value = meta_text(sample, field)
            if value is not None:
                pairs.append((MMB_ABBREVIATIONS.get(value, value) if abbreviate else value, hit))
        if pairs:
            result[field] = grouped_percent(pairs)
    return result


def answers_hidden(items: Sequence[ScoringItem]) -> bool:
    return bool(items) and all(not item.sample.answers for item in items)


def unscored(metric: str, items: Sequence[ScoringItem], reason: str) -> SuiteScore:
    """Every sample unscored (hidden answers, no samples): score None with ``reason``, never 0."""
    samples = [
        SampleScore(item.sample.index, record(item.prediction), json_safe(item.extraction.value), None,
                    "error" if item.error is not None else item.extraction.method)
        for item in items
    ]
    errors = sum(item.error is not None for item in items)
    return SuiteScore(metric, None, len(items), {"errors": errors}, samples, reason=reason)


def ground_truths(sample: Sample, ctx: ScoringContext) -> tuple[str, ...]:
    """The GT letters; with ``open_as_choice`` (VLMEvalKit MMMU) a GT that is not a letter becomes ``A``."""
    if ctx.options.get("open_as_choice"):
        return tuple(answer if is_letter(answer) else "A" for answer in sample.answers[:1])
    return sample.answers


def method_of(item: ScoringItem) -> str:
    return "error" if item.error is not None else item.extraction.method


def is_hit(value: Any, answers: Sequence[str], caseless: bool) -> bool:
    """VLMEvalKit: ``opt == GT``; InternVL AI2D: ``pred.strip().lower() == gt.strip().lower()`` (any GT)."""
    if not isinstance(value, str):
        return False
    if caseless:
        return any(value.strip().lower() == answer.strip().lower() for answer in answers)
    return value in answers


def score_choice(item: ScoringItem, ctx: ScoringContext) -> SampleScore:
    """One vanilla MCQ sample: 1/0 (an inference error is 0), None where it has no answer."""
    value = None if item.error is not None else item.extraction.value
    answers = ground_truths(item.sample, ctx)
    caseless = item.extraction.note == CASELESS or ctx.options.get("compare") == "strip_lower"
    score: float | None = None
    if answers:
        score = 1.0 if is_hit(value, answers, caseless) else 0.0
    extra: dict[str, Any] = {"answer": answers[0] if len(answers) == 1 else list(answers)}
    if item.error is not None:
        extra["error"] = item.error
    elif item.extraction.note:
        extra["note"] = item.extraction.note
    return SampleScore(item.sample.index, record(item.prediction), json_safe(value), score, method_of(item), extra)


def common_counts(items: Sequence[ScoringItem], samples: Sequence[SampleScore]) -> dict[str, Any]:
    """Counts every MCQ breakdown carries: scored, errors, unanswered, and how extractions were decided."""
    scored = [sample for sample in samples if sample.score is not None]
    counts: dict[str, Any] = {
        "n": len(scored),
        "hits": int(sum(sample.score or 0.0 for sample in scored)),
        "errors": sum(item.error is not None for item in items),
        "methods": dict(sorted(Counter(sample.method for sample in samples).items())),
    }
    unanswered = len(samples) - len(scored)
    if unanswered:
        counts["unanswered"] = unanswered
    return counts


# --------------------------------------------------------------------------- the metric


def _headline(rows: Sequence[tuple[Sample, float]], ctx: ScoringContext) -> tuple[float | None, str]:
    """What the paper's number averages: SEED's image types 1–9, the validation split, or everything."""
    typed = [(sample, hit) for sample, hit in rows if sample.metadata.get(SEED_TYPE_FIELD) is not None]
    if typed:
        image = [hit for sample, hit in typed if _type_id(sample) in SEED_IMAGE_TYPES]
        return percent(image), "question types 1-9 (SEED image)"
    if ctx.options.get("report_by") == "split":
        validation = [hit for sample, hit in rows if meta_text(sample, "split") == "validation"]
        if validation:
            return percent(validation), "validation split"
    return percent([hit for _, hit in rows]), "all"


def _type_id(sample: Sample) -> int | None:
    try:
        return int(sample.metadata[SEED_TYPE_FIELD])
    except (TypeError, ValueError):
        return None


def accuracy_suite(items: Sequence[ScoringItem], ctx: ScoringContext) -> SuiteScore:
    """Vanilla MCQ accuracy (%).

    Official definitions: VLMEvalKit ``vlmeval/dataset/utils/multiple_choice.py``
    ``mcq_vanilla_eval`` / ``eval_vanilla`` + ``report_acc`` (``hit = opt == GT``, case-sensitive);
    InternVL ``eval/vqa/evaluate_vqa.py`` ``evaluate_exact_match_accuracy`` for AI2D (extractor
    ``exact_letter``: ``.strip().lower()`` on both sides); InternVL ``eval/seed/calculation.py`` for SEED.

    Quirks reproduced: an unresolved extraction (no judge) is simply wrong;
    with ``open_as_choice`` every GT that is not a single capital letter
    becomes ``A`` (VLMEvalKit's MMMU); SEED's headline keeps only
    ``question_type_id`` 1–9 where that field exists; with ``report_by =
    "split"`` the headline is the ``validation`` split (VLMEvalKit reports MMMU
    per split; the paper's number is that row). Breakdown: overall, per
    ``split``, ``category`` and ``l2-category`` (MMBench abilities under
    VLMEvalKit's abbreviations), plus counts.
    """
    if not items:
        return unscored("accuracy", items, NO_SAMPLES)
    if answers_hidden(items):
        return unscored("accuracy", items, HIDDEN)
    samples = [score_choice(item, ctx) for item in items]
    rows = [(item.sample, sample.score) for item, sample in zip(items, samples, strict=True)
            if sample.score is not None]
    score, basis = _headline(rows, ctx)
    breakdown: dict[str, Any] = {"overall": percent([hit for _, hit in rows]), "headline": basis}
    breakdown.update(field_breakdown(rows, abbreviate=True))
    breakdown.update(common_counts(items, samples))
    return SuiteScore("accuracy", score, len(rows), breakdown, samples)
