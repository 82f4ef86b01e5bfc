"""HallusionBench: aAcc, fAcc and qAcc, and their mean (the paper's number).

Card metric name implemented here: ``hallusion`` → :func:`hallusion_suite`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from evalkit.scoring.types import SampleScore, ScoringContext, ScoringItem, SuiteScore

#: 0-based fields of the ``_``-separated index that hold set_id, figure_id and question_id.
SET_FIELD, FIGURE_FIELD, QUESTION_FIELD = 3, 4, 5


@dataclass(frozen=True)
class _Row:
    category: str
    l2: str
    figure_key: str
    question_key: str
    correct: bool


def _prediction(item: ScoringItem) -> str | list[str]:
    return list(item.prediction) if isinstance(item.prediction, tuple) else item.prediction


def _not_scored(items: Sequence[ScoringItem], reason: str, breakdown: dict[str, Any] | None = None) -> SuiteScore:
    samples = [SampleScore(item.sample.index, _prediction(item), item.extraction.value, None,
                           "error" if item.error is not None else item.extraction.method) for item in items]
    table = {"errors": sum(item.error is not None for item in items), **(breakdown or {})}
    return SuiteScore("hallusion", None, len(items), table, samples, reason=reason)


def index_fields(index: object) -> tuple[str, str, str] | None:
    """set_id, figure_id, question_id: fields 3, 4 and 5 of ``str(index).split("_")``; None if it has fewer."""
    parts = str(index).split("_")
    if len(parts) <= QUESTION_FIELD:
        return None
    return parts[SET_FIELD], parts[FIGURE_FIELD], parts[QUESTION_FIELD]


def _row(item: ScoringItem, fields: tuple[str, str, str]) -> _Row:
    metadata = item.sample.metadata
    l2 = str(metadata.get("l2-category"))
    truth = item.sample.answers[0] if item.sample.answers else ""
    correct = item.error is None and item.extraction.value == truth
    set_id, figure_id, question_id = fields
    return _Row(str(metadata.get("category")), l2, f"{l2}_{set_id}_{figure_id}", f"{l2}_{set_id}_{question_id}",
                correct)


def _all_correct_share(rows: Sequence[_Row], figure: bool) -> float:
    groups: dict[str, bool] = {}
    for row in rows:
        key = row.figure_key if figure else row.question_key
        groups[key] = groups.get(key, True) and row.correct
    return 100.0 * sum(groups.values()) / len(groups)


def accuracies(rows: Sequence[_Row]) -> dict[str, Any]:
    """``calc_aAcc``, ``calc_fAcc`` and ``calc_qAcc`` of ``Hallusion_rating`` on one subset of rows."""
    return {"aAcc": 100.0 * sum(row.correct for row in rows) / len(rows),
            "fAcc": _all_correct_share(rows, figure=True),
            "qAcc": _all_correct_share(rows, figure=False), "n": len(rows)}


def headline(a_acc: float, f_acc: float, q_acc: float) -> float:
    """The paper's HallusionBench number: the plain mean of aAcc, fAcc and qAcc (VLMEvalKit never averages them)."""
    return (a_acc + f_acc + q_acc) / 3.0


def _splits(rows: Sequence[_Row]) -> dict[str, dict[str, Any]]:
    """VLMEvalKit's extra rows: one per ``category`` value, then one per ``l2-category`` value."""
    table: dict[str, dict[str, Any]] = {}
    for attribute in ("category", "l2"):
        for value in sorted({getattr(row, attribute) for row in rows}):
            table[value] = accuracies([row for row in rows if getattr(row, attribute) == value])
    return table


def hallusion_suite(items: Sequence[ScoringItem], ctx: ScoringContext) -> SuiteScore:
    """HallusionBench: VLMEvalKit ``YOrN_eval`` scoring + ``Hallusion_rating`` (``vlmeval/dataset/utils/yorn.py``;
    ``vlmeval/evaluate/yes_or_no.py`` at 4ad5481d, the same code).

    A question is right iff ``answer == extracted`` (case-sensitive "Yes"/"No";
    Unknown, a judge failure and an inference error are wrong). From the index
    ``str(index).split("_")``, fields 3/4/5 are set_id, figure_id and question_id.

    * aAcc = share of questions right;
    * fAcc = share of ``f"{l2-category}_{set_id}_{figure_id}"`` groups with every question right;
    * qAcc = share of ``f"{l2-category}_{set_id}_{question_id}"`` groups with every question right.

    The headline is ``(aAcc + fAcc + qAcc) / 3`` (:func:`headline`): VLMEvalKit
    reports the three and never averages them; the paper's 49.3 is their mean.
    ``breakdown`` has the Overall row, one row per ``category`` and per
    ``l2-category`` (each computed within its subset, as VLMEvalKit does), and counts.
    An index with fewer than 6 fields (where VLMEvalKit raises IndexError) leaves
    the suite not scored, naming the index.
    """
    if not items:
        return _not_scored(items, "no samples to score")
    if all(not item.sample.answers for item in items):
        return _not_scored(items, "answers hidden")
    rows: list[_Row] = []
    for item in items:
        fields = index_fields(item.sample.index)
        if fields is None:
            reason = f"index {item.sample.index!r} has no set/figure/question fields (3, 4, 5 of its '_' parts)"
            return _not_scored(items, reason)
        rows.append(_row(item, fields))
    overall = accuracies(rows)
    valid = [item for item in items if item.error is None]
    breakdown: dict[str, Any] = {**{key: overall[key] for key in ("aAcc", "fAcc", "qAcc")}, "Overall": overall,
                                 "splits": _splits(rows), "errors": len(items) - len(valid),
                                 "unknown": sum(item.extraction.value == "Unknown" for item in valid),
                                 "judge_decided": sum(item.extraction.method == "judge" for item in valid),
                                 "judge_failures": sum(item.extraction.value is None for item in valid)}
    samples = []
    for item, row in zip(items, rows, strict=True):
        method = "error" if item.error is not None else item.extraction.method
        extra = {"figure_group": row.figure_key, "question_group": row.question_key}
        samples.append(SampleScore(item.sample.index, _prediction(item), item.extraction.value,
                                   float(row.correct), method, extra))
    score = headline(overall["aAcc"], overall["fAcc"], overall["qAcc"])
    return SuiteScore("hallusion", score, len(items), breakdown, samples)
