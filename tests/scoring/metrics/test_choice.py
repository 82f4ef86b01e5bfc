"""Golden tests for vanilla multiple-choice accuracy (RealWorldQA, AI2D, SEED, VLMEvalKit MMMU)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import pytest

from evalkit.data.sample import Sample
from evalkit.scoring.extract import choice
from evalkit.scoring.metrics.choice import accuracy_suite
from evalkit.scoring.types import Extraction, ScoringContext, ScoringItem
from tests.fakes import FakeJudge

OPTIONS = (("A", "cat"), ("B", "dog"), ("C", "cow"))


def item(index: int, reply: str, answer: str | None = "A", extractor: Any = choice.can_infer_2404,
         ctx: ScoringContext | None = None, error: str | None = None, options: Sequence[tuple[str, str]] = OPTIONS,
         l2: str | None = None, **metadata: Any) -> ScoringItem:
    if l2 is not None:
        metadata["l2-category"] = l2
    sample = Sample(index=index, question="Which animal?", options=tuple(options),
                    answers=() if answer is None else (answer,), metadata=metadata)
    extraction = Extraction(None, "error", error) if error else extractor(reply, sample, ctx or ScoringContext())
    return ScoringItem(sample, reply, error, extraction)


def test_vanilla_hits_misses_and_unresolved():
    items = [item(1, "A"), item(2, "B"), item(3, "no idea"), item(4, "the cow", answer="C")]
    result = accuracy_suite(items, ScoringContext())
    assert result.score == 50.0
    assert [s.score for s in result.samples] == [1.0, 0.0, 0.0, 1.0]
    assert [s.extracted for s in result.samples] == ["A", "B", None, "C"]
    assert [s.method for s in result.samples] == ["rule", "rule", "none", "rule"]
    assert result.breakdown["methods"] == {"none": 1, "rule": 3}
    assert (result.n, result.breakdown["hits"], result.breakdown["errors"]) == (4, 2, 0)
    json.dumps(result.breakdown, allow_nan=False)


def test_vlmevalkit_comparison_is_case_sensitive():
    sample = Sample(index=1, question="q", options=OPTIONS, answers=("A",))
    items = [ScoringItem(sample, "a", extraction=Extraction("a", "rule"))]
    assert accuracy_suite(items, ScoringContext()).score == 0.0


def test_ai2d_paper_compares_strip_lower_on_both_sides():
    items = [item(1, " a\n", extractor=choice.exact_letter), item(2, "B", answer=" b ", extractor=choice.exact_letter),
             item(3, "A.", extractor=choice.exact_letter)]
    result = accuracy_suite(items, ScoringContext())
    assert [s.score for s in result.samples] == [1.0, 1.0, 0.0]


def test_seed_paper_first_character_and_image_types_only():
    items = [
        item(1, "A. cat", extractor=choice.first_character, question_type_id=1),
        item(2, " A", extractor=choice.first_character, question_type_id=9),  # the space is the "letter"
        item(3, "", extractor=choice.first_character, question_type_id=2),  # the reference crashes: 0
        item(4, "A", extractor=choice.first_character, question_type_id=10),  # video: outside the headline
    ]
    result = accuracy_suite(items, ScoringContext())
    assert result.score == pytest.approx(100 / 3)
    assert result.breakdown["overall"] == 50.0
    assert result.breakdown["headline"] == "question types 1-9 (SEED image)"


def test_errors_score_zero_and_are_counted():
    result = accuracy_suite([item(1, "A"), item(2, "", error="CUDA OOM")], ScoringContext())
    assert result.score == 50.0
    assert result.samples[1].method == "error"
    assert result.samples[1].score == 0.0
    assert result.breakdown["errors"] == 1


def test_breakdown_by_split_category_and_abbreviated_l2_category():
    items = [
        item(1, "A", split="dev", category="ocr", l2="finegrained_perception (instance-level)"),
        item(2, "B", split="dev", category="ocr", l2="finegrained_perception (instance-level)"),
        item(3, "A", split="test", category="scene", l2="coarse_perception"),
    ]
    breakdown = accuracy_suite(items, ScoringContext()).breakdown
    assert breakdown["split"] == {"dev": 50.0, "test": 100.0}
    assert breakdown["category"] == {"ocr": 50.0, "scene": 100.0}
    assert breakdown["l2-category"] == {"CP": 100.0, "FP-S": 50.0}


def test_hidden_answers_are_not_scored():
    result = accuracy_suite([item(1, "A", answer=None), item(2, "B", answer=None)], ScoringContext())
    assert (result.score, result.reason, result.n) == (None, "answers hidden", 2)
    assert [s.score for s in result.samples] == [None, None]


def test_no_items():
    assert accuracy_suite([], ScoringContext()).score is None


def test_vlmevalkit_mmmu_open_questions_become_choices():
    ctx = ScoringContext(options={"open_as_choice": True, "report_by": "split"})
    items = [
        item(1, "42", answer="42", ctx=ctx, extractor=choice.can_infer_head, options=(), split="validation"),
        item(2, "41", answer="42", ctx=ctx, extractor=choice.can_infer_head, options=(), split="validation"),
        item(3, "B", answer="B", ctx=ctx, extractor=choice.can_infer_head, split="dev"),
    ]
    result = accuracy_suite(items, ctx)
    # "42" matches option A = the GT text and the GT becomes "A"; "41" matches nothing (no judge): wrong.
    assert [s.extracted for s in result.samples] == ["A", None, "B"]
    assert [s.score for s in result.samples] == [1.0, 0.0, 1.0]
    assert result.score == 50.0  # the validation split
    assert result.breakdown["overall"] == pytest.approx(200 / 3)
    assert result.breakdown["split"] == {"dev": 100.0, "validation": 50.0}


def test_judge_and_random_methods_are_recorded():
    judge = FakeJudge(answer=lambda content: "C" if "bovine" in content else "no idea")
    ctx = ScoringContext(judge=judge, seed=3)
    items = [item(1, "a bovine", answer="C", ctx=ctx), item(2, "hmm", ctx=ctx)]
    result = accuracy_suite(items, ctx)
    assert [s.method for s in result.samples] == ["judge", "random"]
    assert result.samples[0].score == 1.0
    assert result.breakdown["methods"] == {"judge": 1, "random": 1}
