"""MMT-Bench accuracy (card metric ``mmt_accuracy``): Overall, Overall*, subtasks and meta-tasks.

Official definition: ``open-compass/VLMEvalKit`` ``vlmeval/dataset/utils/multiple_choice.py``
``report_acc_MMT`` (2024-04: ``vlmeval/evaluate/multiple_choice.py``), with vanilla MCQ matching
(``eval_vanilla``); the official ``OpenGVLab/MMT-Bench`` evaluation averages meta-tasks per question.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from evalkit.data.sample import Sample
from evalkit.scoring.metrics.choice import (
    HIDDEN,
    NO_SAMPLES,
    answers_hidden,
    common_counts,
    grouped_percent,
    meta_text,
    percent,
    score_choice,
    unscored,
)
from evalkit.scoring.types import ScoringContext, ScoringItem, SuiteScore

METRIC = "mmt_accuracy"
EXCLUDED_META_TASK = "visual_recognition"
OVERALL_STAR_VARIANT = (
    "per-question: mean hit over the questions whose l2-category is not visual_recognition "
    "(whether the paper averaged per question or per subtask is not confirmed)"
)


def subtask_mean_meta_tasks(rows: Sequence[tuple[Sample, float]]) -> dict[str, float]:
    """VLMEvalKit HEAD: a meta-task's accuracy is the plain mean of its subtasks' accuracies.

    Quirk kept: a subtask's accuracy is taken over every question with that
    ``category``, whatever its ``l2-category``.
    """
    subtask = grouped_percent((meta_text(sample, "category"), hit) for sample, hit in rows)
    members: dict[str, list[str]] = {}
    for sample, _ in rows:
        meta_task = meta_text(sample, "l2-category")
        if meta_task is None:
            continue
        names = members.setdefault(meta_task, [])
        name = str(meta_text(sample, "category"))
        if name not in names:
            names.append(name)
    return {meta: sum(subtask[name] for name in names) / len(names) for meta, names in sorted(members.items())}


def _present(rows: Sequence[tuple[Sample, float]], field: str) -> list[tuple[str, float]]:
    return [(value, hit) for sample, hit in rows if (value := meta_text(sample, field)) is not None]


def mmt_accuracy_suite(items: Sequence[ScoringItem], ctx: ScoringContext) -> SuiteScore:
    """MMT-Bench Overall (%) = mean hit over questions; the headline is the ALL column.

    Breakdown: ``split`` (each split and ``ALL``), ``overall_star`` (questions
    whose ``l2-category`` is not ``visual_recognition``, per question, with the
    variant recorded), ``subtask`` (per ``category``, mean over its questions),
    ``meta_task`` both ways (``subtask_mean``: VLMEvalKit HEAD's mean of subtask
    accuracies; ``question_mean``: the official repository's plain mean), and
    counts. Hit = extracted letter == GT, an unresolved extraction being wrong.
    """
    if not items:
        return unscored(METRIC, items, NO_SAMPLES)
    if answers_hidden(items):
        return unscored(METRIC, items, HIDDEN)
    samples = [score_choice(item, ctx) for item in items]
    rows: list[tuple[Sample, float]] = [
        (item.sample, sample.score) for item, sample in zip(items, samples, strict=True) if sample.score is not None
    ]
    overall = percent([hit for _, hit in rows])
    kept = [hit for sample, hit in rows if meta_text(sample, "l2-category") != EXCLUDED_META_TASK]
    breakdown: dict[str, Any] = {
        "overall": overall,
        "split": {**grouped_percent(_present(rows, "split")), "ALL": overall},
        "overall_star": percent(kept),
        "overall_star_n": len(kept),
        "overall_star_variant": OVERALL_STAR_VARIANT,
        "subtask": grouped_percent(_present(rows, "category")),
        "meta_task": {
            "subtask_mean": subtask_mean_meta_tasks(rows),
            "question_mean": grouped_percent(_present(rows, "l2-category")),
        },
    }
    breakdown.update(common_counts(items, samples))
    return SuiteScore(METRIC, overall, len(rows), breakdown, samples)
