"""TextVQA accuracy (docs/protocols.md): hand-worked cases from textvqa_eval.py and VLMEvalKit vqa_eval.py."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from evalkit.data.sample import Sample
from evalkit.scoring.metrics.vqa import (
    normalize_internvl,
    normalize_vlmevalkit,
    soft_accuracy,
    vqa_accuracy,
    vqa_accuracy_suite,
    vqa_accuracy_vlmevalkit_suite,
)
from evalkit.scoring.types import ScoringContext, ScoringItem


def item(index, prediction, answers, error=None, **metadata):
    return ScoringItem(Sample(index, "q", answers=tuple(answers), metadata=metadata), prediction, error)


def naive_internvl_score(prediction: str, answers: list[str]) -> float:
    """TextVQAAccuracyEvaluator written out: per unique answer, mean over leave-one-out subsets."""
    gts = list(enumerate(answers))
    scores = {}
    for unique in set(answers):
        accs = []
        for gt in gts:
            others = [other for other in gts if other != gt]
            accs.append(min(1, float(len([o for o in others if o[1] == unique])) / 3))
        scores[unique] = sum(accs) / len(accs)
    return scores.get(prediction, 0.0)


# --- the Check line ----------------------------------------------------------------------------------------

def test_check_line_period_after_digit():
    assert normalize_internvl("3.") == "3"
    assert normalize_vlmevalkit("3.") == "3."
    assert vqa_accuracy("3.", ["3"] * 10) == 1.0
    assert vqa_accuracy("3.", ["3"] * 10, normalize_vlmevalkit) == 0.0


# --- one test per quirk ---------------------------------------------------------------------------------

def test_malformed_lookbehind_deletes_a_period_after_a_digit_before_a_letter():
    assert normalize_internvl("1.a") == "1a"
    assert normalize_vlmevalkit("1.a") == "1.a"


def test_period_before_a_digit_is_kept_by_both():
    assert normalize_internvl("3.5") == "3.5"
    assert normalize_vlmevalkit("a.5") == "a.5"
    assert normalize_internvl("a.5") == "a.5"


def test_at_most_32_periods_are_removed():
    assert normalize_internvl("a." * 33) == "a" * 33 + "."
    assert normalize_vlmevalkit("a." * 33) == "a" * 33 + "."
    assert normalize_internvl("a." * 32) == "a" * 32


def test_step_one_deletes_commas_and_question_marks_before_the_punctuation_rules():
    # InternVL: "a,b" -> "ab"; VLMEvalKit: the comma is not glued to a space, so it becomes a space -> "a b" -> "b"
    assert normalize_internvl("a,b") == "ab"
    assert normalize_vlmevalkit("a,b") == "b"
    assert normalize_internvl("x?y") == "xy"
    assert normalize_vlmevalkit("x?y") == "x y"


def test_step_one_splits_possessive_s():
    assert normalize_internvl("John's") == "john 's"
    assert normalize_vlmevalkit("John's") == "john's"


def test_digit_comma_digit_deletes_every_mark():
    # VLMEvalKit: "1,000-2" has digit,digit -> every mark is deleted, "-" included
    assert normalize_vlmevalkit("1,000-2") == "10002"
    # InternVL: the comma is already gone, so "-" (not glued) becomes a space
    assert normalize_internvl("1,000-2") == "1000 2"


def test_glued_marks_are_deleted_others_become_spaces():
    assert normalize_internvl("hello - world") == "hello world"
    assert normalize_internvl("hello-world") == "hello world"
    # "(" is glued (" (") so it goes; ")" is not, so it becomes a space
    assert normalize_internvl("x-y (z)w") == "x y z w"


def test_glue_is_judged_on_the_text_before_any_mark_was_replaced():
    # "[" becomes a space, which puts a space before the second "-"; the rule still looks at the original
    # text, where no "-" touches a space, so both "-" become spaces (not deleted: "xy z")
    assert normalize_internvl("x-y [-z") == "x y z"
    assert normalize_vlmevalkit("x-y [-z") == "x y z"


def test_numbers_articles_contractions():
    assert normalize_internvl("The Two cats") == "2 cats"
    assert normalize_internvl("none") == "0"
    assert normalize_internvl("dont") == "don't"
    assert normalize_vlmevalkit("An apple, whats that") == "apple what's that"


def test_newlines_and_tabs():
    assert normalize_internvl("stop\nsign\t") == "stop sign"
    assert normalize_vlmevalkit("stop\nsign\t") == "stop sign"


# --- the soft score --------------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("matches", "expected"),
    [(0, 0.0), (1, 9 / 30), (2, 18 / 30), (3, 0.9), (4, 1.0), (10, 1.0)],
)
def test_leave_one_out_soft_score(matches, expected):
    answers = ["yes"] * matches + ["no"] * (10 - matches)
    assert soft_accuracy("yes", answers) == pytest.approx(expected, rel=1e-12)
    assert soft_accuracy("yes", answers) == naive_internvl_score("yes", answers)


def test_one_ground_truth_can_never_score():
    assert soft_accuracy("a", ["a"]) == 0.0


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(["a", "b", "c"]), st.lists(st.sampled_from(["a", "b", "c"]), min_size=1, max_size=10))
def test_soft_score_equals_the_unique_answer_loop(prediction, answers):
    assert soft_accuracy(prediction, answers) == naive_internvl_score(prediction, answers)


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_normalisers_never_crash(text):
    assert isinstance(normalize_internvl(text), str)
    assert isinstance(normalize_vlmevalkit(text), str)


def test_normalisers_on_huge_and_empty_strings():
    assert normalize_internvl("") == ""
    assert normalize_vlmevalkit("") == ""
    assert normalize_internvl("word " * 50000) == " ".join(["word"] * 50000)


# --- the suites ----------------------------------------------------------------------------------------------

def test_suites_score_and_errors():
    items = [
        item(1, "3.", ["3"] * 10, category="sign"),
        item(2, "Coca Cola", ["coca cola"] * 2 + ["coke"] * 8, category="sign"),  # 2 matches -> 0.6
        item(3, "x", ["x"] * 10, error="timeout", category="book"),
    ]
    paper = vqa_accuracy_suite(items, ScoringContext())
    assert paper.score == pytest.approx((1.0 + 0.6 + 0.0) / 3 * 100, rel=1e-12)
    assert paper.breakdown["errors"] == 1
    assert paper.samples[0].extracted == "3"
    assert paper.samples[2].method == "error"
    assert paper.breakdown["category"]["book"] == 0.0
    vlm = vqa_accuracy_vlmevalkit_suite(items, ScoringContext())
    assert vlm.score == pytest.approx((0.0 + 0.6 + 0.0) / 3 * 100, rel=1e-12)
    assert vlm.samples[0].extracted == "3."


def test_hidden_answers():
    result = vqa_accuracy_suite([item(1, "a", [])], ScoringContext())
    assert result.score is None
    assert result.reason == "answers hidden"
