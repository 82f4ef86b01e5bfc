"""Golden tests for MMT-Bench's Overall, Overall*, subtask and meta-task accuracies."""

from __future__ import annotations

import pytest

from evalkit.data.sample import Sample
from evalkit.scoring.extract import choice
from evalkit.scoring.metrics.mmt import mmt_accuracy_suite
from evalkit.scoring.types import ScoringContext, ScoringItem

OPTIONS = (("A", "yes"), ("B", "no"))


def item(index: int, hit: bool, subtask: str, meta_task: str, split: str = "val",
         answer: str | None = "A") -> ScoringItem:
    sample = Sample(index=index, question="q", options=OPTIONS, answers=() if answer is None else (answer,),
                    metadata={"category": subtask, "l2-category": meta_task, "split": split})
    reply = "A" if hit else "B"
    return ScoringItem(sample, reply, extraction=choice.can_infer_2404(reply, sample, ScoringContext()))


def suite() -> list[ScoringItem]:
    # s1 (ocr): 1,1,0 → 66.67; s2 (ocr): 0 → 0; s3 (visual_recognition): 1,1 → 100.
    return [
        item(1, True, "s1", "ocr"), item(2, True, "s1", "ocr", split="test"), item(3, False, "s1", "ocr"),
        item(4, False, "s2", "ocr", split="test"),
        item(5, True, "s3", "visual_recognition"), item(6, True, "s3", "visual_recognition", split="test"),
    ]


def test_overall_is_the_question_mean_with_splits_and_all():
    result = mmt_accuracy_suite(suite(), ScoringContext())
    assert result.score == pytest.approx(400 / 6)
    assert result.breakdown["split"] == pytest.approx({"test": 200 / 3, "val": 200 / 3, "ALL": 400 / 6})
    assert (result.n, result.breakdown["hits"]) == (6, 4)


def test_overall_star_excludes_visual_recognition_per_question():
    breakdown = mmt_accuracy_suite(suite(), ScoringContext()).breakdown
    assert breakdown["overall_star"] == 50.0  # 2 hits over the 4 non-visual_recognition questions
    assert breakdown["overall_star_n"] == 4
    assert breakdown["overall_star_variant"].startswith("per-question")


def test_subtasks_and_meta_tasks_both_ways():
    breakdown = mmt_accuracy_suite(suite(), ScoringContext()).breakdown
    assert breakdown["subtask"] == pytest.approx({"s1": 200 / 3, "s2": 0.0, "s3": 100.0})
    assert breakdown["meta_task"]["subtask_mean"] == pytest.approx({"ocr": 100 / 3, "visual_recognition": 100.0})
    assert breakdown["meta_task"]["question_mean"] == pytest.approx({"ocr": 50.0, "visual_recognition": 100.0})


def test_unresolved_is_wrong_and_errors_count():
    sample = Sample(index=9, question="q", options=OPTIONS, answers=("A",),
                    metadata={"category": "s1", "l2-category": "ocr"})
    unresolved = ScoringItem(sample, "maybe", extraction=choice.can_infer_head("maybe", sample, ScoringContext()))
    failed = ScoringItem(sample, "", error="timeout")
    result = mmt_accuracy_suite([item(1, True, "s1", "ocr"), unresolved, failed], ScoringContext())
    assert result.score == pytest.approx(100 / 3)
    assert result.breakdown["errors"] == 1
    assert [s.method for s in result.samples] == ["rule", "none", "error"]


def test_all_split_without_answers_is_not_scored():
    items = [item(1, True, "s1", "ocr", answer=None), item(2, False, "s1", "ocr", answer=None)]
    result = mmt_accuracy_suite(items, ScoringContext())
    assert (result.score, result.reason) == (None, "answers hidden")
