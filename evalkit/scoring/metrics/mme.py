"""MME: per-subtask acc and acc+, perception + cognition (paper) or perception + reasoning (VLMEvalKit).

Card metric names implemented here:

* ``mme`` → :func:`mme_suite` (paper protocol, InternVL ``eval/mme/calculation.py``);
* ``mme_vlmevalkit`` → :func:`mme_vlmevalkit_suite` (VLMEvalKit ``MME_rating``).

Each subtask scores ``100·acc + 100·acc+`` (at most 200): ``acc`` is the share of
questions answered correctly, ``acc+`` the share of images whose questions are
all correct. The headline sums the 10 perception and the 4 cognition subtasks
(at most 2800). Subtasks absent from the items (a ``--limit`` run) are listed in
``breakdown["missing_subtasks"]`` and contribute nothing to the sums.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from evalkit.scoring.extract.yes_no import TAB_SKIPPED
from evalkit.scoring.types import SampleScore, ScoringContext, ScoringItem, SuiteScore

PERCEPTION = ("existence", "count", "position", "color", "posters", "celebrity", "scene", "landmark", "artwork", "OCR")
COGNITION = ("commonsense_reasoning", "numerical_calculation", "text_translation", "code_reasoning")


@dataclass(frozen=True)
class _Row:
    """One question: its subtask, its image key and whether it was right (None: dropped, as the reference does)."""

    subtask: str
    image: str
    correct: bool | None


def _prediction(item: ScoringItem) -> str | list[str]:
    return list(item.prediction) if isinstance(item.prediction, tuple) else item.prediction


def _not_scored(metric: str, items: Sequence[ScoringItem], reason: str) -> SuiteScore:
    samples = [SampleScore(item.sample.index, _prediction(item), item.extraction.value, None,
                           "error" if item.error is not None else item.extraction.method) for item in items]
    errors = sum(item.error is not None for item in items)
    return SuiteScore(metric, None, len(items), {"errors": errors}, samples, reason=reason)


def _image_keys(items: Sequence[ScoringItem]) -> list[str]:
    """``image_path`` where the data has it; else adjacent pairs within a subtask, as ``divide_chunks`` pairs lines."""
    seen: dict[str, int] = {}
    keys = []
    for item in items:
        subtask = str(item.sample.metadata.get("category", ""))
        path = item.sample.metadata.get("image_path")
        position = seen.get(subtask, 0)
        seen[subtask] = position + 1
        keys.append(str(path) if path not in (None, "") else f"pair {position // 2}")
    return keys


def _group(rows: Sequence[_Row]) -> dict[str, dict[str, list[bool | None]]]:
    """subtask → image → the correctness of its questions, in input order (VLMEvalKit's ``stats``)."""
    stats: dict[str, dict[str, list[bool | None]]] = {}
    for row in rows:
        stats.setdefault(row.subtask, {}).setdefault(row.image, []).append(row.correct)
    return stats


def _ordered(names: Sequence[str]) -> list[str]:
    known = [name for name in (*PERCEPTION, *COGNITION) if name in names]
    return known + sorted(name for name in names if name not in known)


def _subtask_table(stats: Mapping[str, Mapping[str, list[bool | None]]],
                   plus_rule: Callable[[list[bool | None]], bool]) -> dict[str, dict[str, Any]]:
    table: dict[str, dict[str, Any]] = {}
    for name in _ordered(list(stats)):
        images = stats[name]
        answered = [value for values in images.values() for value in values if value is not None]
        acc = 100.0 * sum(answered) / len(answered) if answered else 0.0
        acc_plus = 100.0 * sum(plus_rule(values) for values in images.values()) / len(images)
        table[name] = {"acc": acc, "acc_plus": acc_plus, "score": acc + acc_plus,
                       "questions": sum(len(values) for values in images.values()), "images": len(images)}
    return table


def _sums(table: Mapping[str, Mapping[str, Any]], second: str) -> dict[str, Any]:
    perception = sum(table[name]["score"] for name in PERCEPTION if name in table)
    other = sum(table[name]["score"] for name in COGNITION if name in table)
    missing = [name for name in (*PERCEPTION, *COGNITION) if name not in table]
    return {"perception": perception, second: other, "missing_subtasks": missing}


def _paper_plus(values: list[bool | None]) -> bool:
    """``img_correct_num == 2``: every question of the image right; a dropped line can never count."""
    return all(value is True for value in values)


def _vlmevalkit_plus(values: list[bool | None]) -> bool:
    """``val[0] * val[1]``: the first two answers of the image (just the one where an image has one)."""
    return all(bool(value) for value in values[:2])


def _paper_row(item: ScoringItem, image: str) -> tuple[_Row, SampleScore]:
    subtask = str(item.sample.metadata.get("category", ""))
    truth = item.sample.answers[0].lower() if item.sample.answers else ""
    extra = {"subtask": subtask, "image": image, "gt": truth}
    value = item.extraction.value
    if item.error is not None:
        row, score, method = _Row(subtask, image, False), 0.0, "error"
    elif value is None:
        row, score, method = _Row(subtask, image, None), None, item.extraction.method
        extra["note"] = item.extraction.note or TAB_SKIPPED
    else:
        correct = value == truth
        row, score, method = _Row(subtask, image, correct), float(correct), item.extraction.method
    return row, SampleScore(item.sample.index, _prediction(item), value, score, method, extra)


def mme_suite(items: Sequence[ScoringItem], ctx: ScoringContext) -> SuiteScore:
    """MME, paper protocol: InternVL ``eval/mme/calculation.py`` ``calculate_metrics.process_result``.

    Labels come from the ``yes_no_internvl`` extractor (yes / no / other); the GT
    is ``answers[0]`` lowercased. Per subtask (``metadata["category"]``):
    ``acc`` = correct / questions kept ("other" is wrong), ``acc+`` = images with
    every question right / images (``image_path``; adjacent pairs without it);
    score = 100·acc + 100·acc+. Perception sums the 10 perception subtasks,
    cognition the 4 cognition ones; the headline is their sum.

    Quirks reproduced on purpose:

    * a reply with a tab (extraction value None) is skipped as ``calculation.py``
      skips its broken line: it leaves the ``acc`` denominator, but its image still
      counts in ``acc+`` and can no longer be fully correct
      (``breakdown["skipped_tab"]``);
    * ``acc`` is sklearn's ``accuracy_score`` over all kept questions, "other" included.

    An inference error scores 0 (a wrong answer) and is counted in ``breakdown["errors"]``.
    """
    if not items:
        return _not_scored("mme", items, "no samples to score")
    if all(not item.sample.answers for item in items):
        return _not_scored("mme", items, "answers hidden")
    pairs = [_paper_row(item, image) for item, image in zip(items, _image_keys(items), strict=True)]
    table = _subtask_table(_group([row for row, _ in pairs]), _paper_plus)
    breakdown: dict[str, Any] = {**_sums(table, "cognition"), "subtasks": table}
    breakdown["errors"] = sum(item.error is not None for item in items)
    breakdown["skipped_tab"] = sum(row.correct is None for row, _ in pairs)
    breakdown["other"] = sum(item.error is None and item.extraction.value == "other" for item in items)
    score = breakdown["perception"] + breakdown["cognition"]
    return SuiteScore("mme", score, len(items), breakdown, [sample for _, sample in pairs])


def _vlmevalkit_row(item: ScoringItem, image: str) -> tuple[_Row, SampleScore]:
    subtask = str(item.sample.metadata.get("category", ""))
    truth = item.sample.answers[0] if item.sample.answers else ""
    extra: dict[str, Any] = {"subtask": subtask, "image": image, "gt": truth}
    value = item.extraction.value
    correct = item.error is None and value == truth
    method = "error" if item.error is not None else item.extraction.method
    if item.error is None and value is None and item.extraction.note:
        extra["note"] = item.extraction.note
    sample = SampleScore(item.sample.index, _prediction(item), value, float(correct), method, extra)
    return _Row(subtask, image, correct), sample


def mme_vlmevalkit_suite(items: Sequence[ScoringItem], ctx: ScoringContext) -> SuiteScore:
    """MME, VLMEvalKit: ``YOrN_eval`` scoring + ``MME_rating`` (``vlmeval/dataset/utils/yorn.py``).

    Extractions come from ``yes_no_vlmevalkit`` (Yes / No / Unknown). A sample is
    right iff ``answer == extracted`` (case-sensitive, as VLMEvalKit compares the
    TSV's "Yes"/"No"). Grouped by ``category`` then ``image_path``: ``acc`` = mean
    over all questions, ``acc+`` = mean over images of ``val[0] * val[1]``.
    Headline = ``perception`` + ``reasoning`` (VLMEvalKit's names; reasoning is
    the paper's cognition).

    Quirks reproduced on purpose: Unknown (no judge, or the judge said neither)
    counts wrong; only the first two answers of an image enter ``acc+``. Where
    VLMEvalKit would crash we go on: an image with one question uses that one
    answer; an absent subtask is listed in ``missing_subtasks`` instead of a KeyError.
    A judge failure (value None) counts wrong and is reported in ``judge_failures``.
    """
    if not items:
        return _not_scored("mme_vlmevalkit", items, "no samples to score")
    if all(not item.sample.answers for item in items):
        return _not_scored("mme_vlmevalkit", items, "answers hidden")
    pairs = [_vlmevalkit_row(item, image) for item, image in zip(items, _image_keys(items), strict=True)]
    table = _subtask_table(_group([row for row, _ in pairs]), _vlmevalkit_plus)
    breakdown: dict[str, Any] = {**_sums(table, "reasoning"), "subtasks": table}
    valid = [item for item in items if item.error is None]
    breakdown["errors"] = len(items) - len(valid)
    breakdown["unknown"] = sum(item.extraction.value == "Unknown" for item in valid)
    breakdown["judge_decided"] = sum(item.extraction.method == "judge" for item in valid)
    breakdown["judge_failures"] = sum(item.extraction.value is None for item in valid)
    score = breakdown["perception"] + breakdown["reasoning"]
    return SuiteScore("mme_vlmevalkit", score, len(items), breakdown, [sample for _, sample in pairs])
