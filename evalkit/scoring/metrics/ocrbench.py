"""OCRBench (docs/protocols.md, "OCRBench"): one 0/1 substring hit per item, summed per category and task family.

Official definition: ``open-compass/VLMEvalKit:vlmeval/dataset/image_vqa.py`` (``OCRBench.evaluate``; at the
paper's commit 4ad5481d the same code lived in ``vlmeval/evaluate/OCRBench.py`` as ``OCRBench_eval``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from evalkit.scoring.metrics.common import (
    base_breakdown,
    compared_text,
    detail_prediction,
    error_sample,
    metadata_text,
    not_scored_suite,
    unscorable_reason,
    unscored_sample,
)
from evalkit.scoring.types import SampleScore, ScoringContext, ScoringItem, SuiteScore

HMER = "Handwritten Mathematical Expression Recognition"
TEXT_RECOGNITION = "Text Recognition"
TEXT_RECOGNITION_CATEGORIES = (
    "Regular Text Recognition",
    "Irregular Text Recognition",
    "Artistic Text Recognition",
    "Handwriting Recognition",
    "Digit String Recognition",
    "Non-Semantic Text Recognition",
)
OTHER_FAMILIES = ("Scene Text-centric VQA", "Doc-oriented VQA", "Key Information Extraction", HMER)
CATEGORIES = (*TEXT_RECOGNITION_CATEGORIES, *OTHER_FAMILIES)
FAMILIES = (TEXT_RECOGNITION, *OTHER_FAMILIES)


def _clean_formula(text: str) -> str:
    return text.strip().replace("\n", " ").replace(" ", "")


def _clean_text(text: str) -> str:
    return text.lower().strip().replace("\n", " ")


def ocrbench_hit(prediction: str, answers: Sequence[str], category: str | None) -> bool:
    """True when some ground truth, cleaned, is a substring of the cleaned prediction.

    HMER: strip, newlines → spaces, then every space removed, case kept. Other categories:
    lowercase, strip, then newlines → spaces (so an inner newline becomes a space that stays).
    An empty ground truth is a substring of anything, as in the reference.
    """
    clean = _clean_formula if category == HMER else _clean_text
    reply = clean(prediction)
    return any(clean(answer) in reply for answer in answers)


def _score_item(item: ScoringItem) -> SampleScore:
    category = metadata_text(item.sample, "category")
    if item.error is not None:
        return error_sample(item, category=category)
    if not item.sample.answers:
        return unscored_sample(item, "no ground truth", category=category)
    text = compared_text(item)
    hit = ocrbench_hit(text, item.sample.answers, category)
    return SampleScore(item.sample.index, detail_prediction(item), text, 1.0 if hit else 0.0,
                       item.extraction.method, {"category": category})


def _category_hits(samples: Sequence[SampleScore]) -> tuple[dict[str, int], dict[str, int]]:
    hits = dict.fromkeys(CATEGORIES, 0)
    unknown: dict[str, int] = {}
    for sample in samples:
        category = sample.extra.get("category")
        gained = int(sample.score or 0)
        if category in hits:
            hits[category] += gained
        else:
            name = str(category)
            unknown[name] = unknown.get(name, 0) + gained
    return hits, unknown


def ocrbench_suite(items: Sequence[ScoringItem], ctx: ScoringContext) -> SuiteScore:
    """The card metric ``ocrbench``: the Final Score, the number of hits (0–1000 on the full set).

    Official: VLMEvalKit ``OCRBench.evaluate``. Families: Text Recognition = the six recognition
    categories; Scene Text-centric VQA, Doc-oriented VQA, Key Information Extraction and HMER each
    one category. ``Final Score`` = the sum of the families; ``Final Score Norm`` = Final Score / 10.
    Quirks kept: the reference re-cleans the prediction inside its loop over answers (idempotent,
    so no effect); the substring test makes an empty ground truth always hit. On a subset the Final
    Score stays the raw hit count (it is not rescaled to 1000), as the reference would report it.
    Items whose category is not one of the ten are reported under ``unknown_categories`` and not
    added to the Final Score (the reference raises a KeyError). A failed inference is a miss.
    """
    reason = unscorable_reason(items)
    if reason is not None:
        return not_scored_suite("ocrbench", items, reason)
    samples = [_score_item(item) for item in items]
    hits, unknown = _category_hits(samples)
    families = {TEXT_RECOGNITION: sum(hits[name] for name in TEXT_RECOGNITION_CATEGORIES)}
    families.update({name: hits[name] for name in OTHER_FAMILIES})
    final = sum(families.values())
    breakdown: dict[str, Any] = {
        **base_breakdown(items, samples),
        "categories": hits,
        **families,
        "Final Score": final,
        "Final Score Norm": float(final) / 10,
    }
    if unknown:
        breakdown["unknown_categories"] = unknown
    return SuiteScore("ocrbench", float(final), len(items), breakdown, samples)
