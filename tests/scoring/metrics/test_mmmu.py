"""Golden tests for MMMU accuracy under the paper protocol (MMMU's eval_utils.py)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from evalkit.data.sample import Sample
from evalkit.scoring.extract.mmmu import mmmu
from evalkit.scoring.metrics.mmmu import eval_multi_choice, eval_open, gold_answer, mmmu_accuracy_suite
from evalkit.scoring.types import ScoringContext, ScoringItem

CTX = ScoringContext()
OPTIONS = (("A", "12"), ("B", "24"), ("C", "36"))


def item(index: int, reply: str, answer: str | None, options: tuple[tuple[str, str], ...] = (),
         error: str | None = None, **metadata: Any) -> ScoringItem:
    sample = Sample(index=index, question="q", options=options, answers=() if answer is None else (answer,),
                    metadata=metadata)
    return ScoringItem(sample, reply, error, mmmu(reply, sample, CTX))


def test_eval_open_substring_and_float_rules():
    assert eval_open("cat", ["a black cat"])
    assert eval_open("5", [5.0])
    assert eval_open("5.001", [5.0])  # both sides rounded to 2 decimals
    assert not eval_open("5", ["5 apples"])  # a numeric GT only matches a float
    assert eval_open(["3", "three"], ["three apples"])
    assert not eval_open("a", ["a"])  # 1-character GTs need a space: " a" / "a "
    assert eval_open("a", ["a b"])


def test_eval_multi_choice_is_exact():
    assert eval_multi_choice("A", "A")
    assert not eval_multi_choice("A", "a")
    assert eval_multi_choice(["A", "B"], "B")


def test_gold_answer_reads_list_literals():
    assert gold_answer(Sample(index=1, question="q", answers=("['24/7', '3.43']",))) == ["24/7", "3.43"]
    assert gold_answer(Sample(index=1, question="q", answers=("[not a list",))) == "[not a list"
    assert gold_answer(Sample(index=1, question="q", answers=("1", "2"))) == ["1", "2"]


def test_headline_is_the_validation_split():
    items = [
        item(1, "B", "B", OPTIONS, split="validation", category="Math"),
        item(2, "The answer is 36", "C", OPTIONS, split="validation", category="Art_Theory"),  # "36" → C
        item(3, "So the answer is 42", "42", split="validation", category="Math"),
        item(4, "about 7 m", "42", split="validation", category="Physics"),
        item(5, "A", "B", OPTIONS, split="dev", category="Math"),
    ]
    result = mmmu_accuracy_suite(items, CTX)
    assert [s.score for s in result.samples] == [1.0, 1.0, 1.0, 0.0, 0.0]
    assert result.score == 75.0
    assert result.breakdown["overall"] == 60.0
    assert result.breakdown["split"] == {"dev": 0.0, "validation": 75.0}
    assert result.breakdown["category"] == pytest.approx({"Art_Theory": 100.0, "Math": 200 / 3, "Physics": 0.0})
    assert result.breakdown["discipline"] == pytest.approx({"Art and Design": 100.0, "Science": 50.0})
    assert result.breakdown["question_type"] == {"multiple-choice": 200 / 3, "open": 50.0}
    assert result.samples[2].extracted == [42.0]
    json.dumps([s.extracted for s in result.samples], allow_nan=False)


def test_mcq_without_random_fallback_and_errors():
    items = [item(1, "I am not sure", "A", OPTIONS), item(2, "", "A", OPTIONS, error="OOM")]
    result = mmmu_accuracy_suite(items, CTX)
    assert result.samples[0].extracted == "I am not sure"
    assert [s.score for s in result.samples] == [0.0, 0.0]
    assert result.breakdown["errors"] == 1
    assert result.score == 0.0


def test_non_finite_numbers_stay_json_safe():
    result = mmmu_accuracy_suite([item(1, "nan", "1")], CTX)
    assert result.samples[0].extracted == ["nan"]
    assert result.samples[0].score == 0.0


def test_hidden_answers():
    result = mmmu_accuracy_suite([item(1, "A", None, OPTIONS)], CTX)
    assert (result.score, result.reason) == (None, "answers hidden")
