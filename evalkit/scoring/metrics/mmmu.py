"""MMMU accuracy, paper protocol (card metric ``mmmu_accuracy``).

Official definition: ``MMMU-Benchmark/MMMU`` ``eval/eval_utils.py`` (``eval_multi_choice``, ``eval_open``,
``evaluate``) and ``eval/main_eval_only.py`` with ``eval/data_utils.py`` (``DOMAIN_CAT2SUB_CAT``), as copied
into ``OpenGVLab/InternVL`` ``internvl_chat/eval/mmmu/``.
"""

from __future__ import annotations

import ast
from collections.abc import Sequence
from typing import Any

from evalkit.data.sample import Sample
from evalkit.scoring.extract.mmmu import MULTIPLE_CHOICE, Normalized, is_multiple_choice, normalize_str
from evalkit.scoring.metrics.choice import (
    HIDDEN,
    NO_SAMPLES,
    answers_hidden,
    common_counts,
    grouped_percent,
    json_safe,
    meta_text,
    method_of,
    percent,
    record,
    unscored,
)
from evalkit.scoring.types import SampleScore, ScoringContext, ScoringItem, SuiteScore

METRIC = "mmmu_accuracy"
HEADLINE_SPLIT = "validation"
#: ``DOMAIN_CAT2SUB_CAT``: the six disciplines and their subjects.
DISCIPLINES = {
    "Art and Design": ("Art", "Art_Theory", "Design", "Music"),
    "Business": ("Accounting", "Economics", "Finance", "Manage", "Marketing"),
    "Science": ("Biology", "Chemistry", "Geography", "Math", "Physics"),
    "Health and Medicine": (
        "Basic_Medical_Science", "Clinical_Medicine", "Diagnostics_and_Laboratory_Medicine", "Pharmacy",
        "Public_Health",
    ),
    "Humanities and Social Science": ("History", "Literature", "Sociology", "Psychology"),
    "Tech and Engineering": (
        "Agriculture", "Architecture_and_Engineering", "Computer_Science", "Electronics", "Energy_and_Power",
        "Materials", "Mechanical_Engineering",
    ),
}
_DISCIPLINE_OF = {subject: discipline for discipline, subjects in DISCIPLINES.items() for subject in subjects}


def gold_answer(sample: Sample) -> str | list[str]:
    """The GT: one string, or a list (several answers, or one answer cell holding a Python list literal)."""
    if len(sample.answers) > 1:
        return list(sample.answers)
    text = sample.answers[0]
    stripped = text.strip()
    if stripped.startswith("[") and stripped.endswith("]"):
        try:
            parsed = ast.literal_eval(stripped)
        except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
            return text
        if isinstance(parsed, list):
            return [str(item) for item in parsed]
    return text


def eval_multi_choice(gold: str | list[str], pred: Any) -> bool:
    """``eval_multi_choice``: the prediction equals the GT (or one of the GTs) exactly."""
    return pred in gold if isinstance(gold, list) else pred == gold


def eval_open(gold: str | list[str], preds: Sequence[Normalized]) -> bool:
    """``eval_open``: a normalised GT string is a substring of a predicted string, or a predicted
    float equals a normalised GT (1-character GTs are matched as ``" x"`` / ``"x "``)."""
    answers: list[Normalized] = []
    for answer in gold if isinstance(gold, list) else [gold]:
        answers.extend(normalize_str(answer))
    for pred in preds:
        if isinstance(pred, str):
            if any(isinstance(answer, str) and answer in pred for answer in answers):
                return True
        elif pred in answers:
            return True
    return False


def _score(item: ScoringItem) -> SampleScore:
    kind = MULTIPLE_CHOICE if is_multiple_choice(item.sample) else "open"
    value = None if item.error is not None else item.extraction.value
    extra: dict[str, Any] = {"question_type": kind}
    score: float | None = None
    if item.sample.answers:
        gold = gold_answer(item.sample)
        extra["answer"] = gold
        if kind == MULTIPLE_CHOICE:
            correct = eval_multi_choice(gold, value)
        else:
            correct = isinstance(value, list) and eval_open(gold, value)
        score = 1.0 if correct else 0.0
    if item.error is not None:
        extra["error"] = item.error
    return SampleScore(item.sample.index, record(item.prediction), json_safe(value), score, method_of(item), extra)


def _discipline(sample: Sample) -> str | None:
    subject = meta_text(sample, "category")
    return None if subject is None else _DISCIPLINE_OF.get(subject.replace(" ", "_"))


def _pairs(rows: Sequence[tuple[Sample, float]], field: str) -> list[tuple[str, float]]:
    return [(value, hit) for sample, hit in rows if (value := meta_text(sample, field)) is not None]


def mmmu_accuracy_suite(items: Sequence[ScoringItem], ctx: ScoringContext) -> SuiteScore:
    """MMMU accuracy (%); the headline is the ``validation`` split when present (the paper's 900).

    MCQ: correct iff the post-processed reply equals the GT letter (no random
    fallback, unlike the MMMU repo's ``parse_multi_choice_response``). Open:
    ``eval_open`` on the extractor's normalised list. Breakdown: ``overall``
    (dev + validation), per ``split``, per subject (``category``), per
    discipline (``DOMAIN_CAT2SUB_CAT``, where the subject is known), per
    question type, and counts.
    """
    if not items:
        return unscored(METRIC, items, NO_SAMPLES)
    if answers_hidden(items):
        return unscored(METRIC, items, HIDDEN)
    samples = [_score(item) for item in items]
    rows: list[tuple[Sample, float]] = [
        (item.sample, sample.score) for item, sample in zip(items, samples, strict=True) if sample.score is not None
    ]
    validation = [hit for sample, hit in rows if meta_text(sample, "split") == HEADLINE_SPLIT]
    overall = percent([hit for _, hit in rows])
    kinds = [(str(sample.extra["question_type"]), sample.score) for sample in samples if sample.score is not None]
    breakdown: dict[str, Any] = {
        "overall": overall,
        "headline": f"{HEADLINE_SPLIT} split" if validation else "all",
        "split": grouped_percent(_pairs(rows, "split")),
        "category": grouped_percent(_pairs(rows, "category")),
        "discipline": grouped_percent(
            (discipline, hit) for sample, hit in rows if (discipline := _discipline(sample)) is not None
        ),
        "question_type": grouped_percent(kinds),
    }
    breakdown.update(common_counts(items, samples))
    return SuiteScore(METRIC, percent(validation) if validation else overall, len(rows), breakdown, samples)
