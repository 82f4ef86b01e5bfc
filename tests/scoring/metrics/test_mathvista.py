"""Golden tests for the MathVista metrics (official ``calculate_score.py``; VLMEvalKit ``mathvista.py``)."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from evalkit.data.sample import Sample
from evalkit.judge.base import JudgeError
from evalkit.scoring.extract.mathvista import Problem, prompt_text
from evalkit.scoring.metrics.mathvista import (
    levenshtein,
    mathvista_suite,
    mathvista_vlmevalkit_suite,
    most_similar,
    normalize,
    post_check,
    vlmevalkit_prompt,
)
from evalkit.scoring.types import Extraction, ScoringContext, ScoringItem
from tests.fakes import FakeJudge

CTX = ScoringContext()


def sample(answer_type: str, answer: str, *, choices: str = "", task: str = "figure question answering",
           skills: str = "['arithmetic reasoning']", index: int = 0, **extra: Any) -> Sample:
    metadata = {"question_type": "multi_choice" if choices else "free_form", "answer_type": answer_type,
                "choices": choices, "task": task, "skills": skills, **extra}
    return Sample(index=index, question=f"Question {index}", answers=(answer,) if answer else (), metadata=metadata)


def item(s: Sample, reply: str, extracted: str | None = None, method: str = "rule",
         note: str | None = None) -> ScoringItem:
    return ScoringItem(s, reply, None, Extraction(extracted, method, note))


FRACTIONS = "['3/11', '8/11']"


def problem(question_type: str = "free_form", answer_type: str = "integer", choices: tuple[str, ...] = (),
            precision: int | None = None, answer: str = "") -> Problem:
    return Problem(question_type, answer_type, choices, precision, answer)


# --------------------------------------------------------------------------- official normalisation


def test_levenshtein() -> None:
    assert levenshtein("kitten", "sitting") == 3
    assert levenshtein("", "abc") == 3
    assert levenshtein("flaw", "lawn") == 2
    assert levenshtein("8/11", "8/11") == 0


def test_most_similar_takes_the_first_on_ties() -> None:
    assert most_similar("b", ["3/11", "8/11"]) == "3/11"  # both at distance 4
    assert most_similar("8/12", ["3/11", "8/11"]) == "8/11"


def test_normalize_mcq() -> None:
    mcq = problem("multi_choice", "text", ("3/11", "8/11"))
    assert normalize("B", mcq) == "8/11"
    assert normalize(" (b) 8/11 ", mcq) == "8/11"  # "(x)" → its letter, uppercased
    assert normalize("b", mcq) == "3/11"  # a bare lowercase letter is no option: nearest text, first on ties
    assert normalize("(E)", mcq) == "3/11"  # out of range: "E" is 4 edits from both
    assert normalize("", problem("multi_choice", "text", ("12", "7", "100"))) == "7"  # empty → shortest choice
    assert normalize("x", problem("multi_choice", "text", ())) is None


def test_normalize_numbers() -> None:
    assert normalize("14.7", problem(answer_type="integer")) == "14"  # int(float()) truncates
    assert normalize("-0.5", problem(answer_type="integer")) == "0"
    assert normalize("1e2", problem(answer_type="integer")) == "100"
    assert normalize("inf", problem(answer_type="integer")) is None
    assert normalize("14 apples", problem(answer_type="integer")) is None
    assert normalize("2.675", problem(answer_type="float", precision=2)) == "2.67"  # binary rounding
    assert normalize("0.61", problem(answer_type="float", precision=1)) == "0.6"
    assert normalize("3", problem(answer_type="float", precision=1)) == "3.0"
    assert normalize("0.61", problem(answer_type="float", precision=None)) is None
    assert normalize("[1,2]", problem(answer_type="list")) == "[1,2]"


def test_paper_accuracy() -> None:
    items = [
        item(sample("text", "8/11", choices=FRACTIONS, index=0), "It is (B)", "B", "judge"),
        item(sample("integer", "14", index=1), "14", "14"),
        item(sample("float", "1.45", precision=2.0, index=2), "1.449", "1.449"),
        item(sample("list", "[2007, 2008]", index=3), "2007 and 2008", "[2007, 2008]", "judge"),
        item(sample("integer", "3", index=4, task="geometry problem solving"), "2.9", "2.9"),
    ]
    result = mathvista_suite(items, CTX)
    # the float question is wrong, as in the paper's run (round(1.449, 2.0) raises TypeError → None)
    assert result.score == 60.0
    assert [s.score for s in result.samples] == [1.0, 1.0, 0.0, 1.0, 0.0]
    assert [s.extracted for s in result.samples] == ["8/11", "14", None, "[2007, 2008]", "2"]
    assert result.breakdown["float_questions"]["n"] == 1
    assert result.breakdown["float_questions"]["credited_by_a_working_round"] == 1
    assert result.breakdown["by_method"] == {"judge": 2, "rule": 3}
    assert result.breakdown["task"]["geometry problem solving"] == {"accuracy": 0.0, "correct": 0, "total": 1}
    assert result.breakdown["task"]["figure question answering"]["accuracy"] == 75.0
    assert result.breakdown["question_type"]["multi_choice"]["total"] == 1
    assert result.breakdown["skills"]["arithmetic reasoning"]["total"] == 5


def test_paper_empty_reply_matches_the_shortest_choice() -> None:
    s = sample("text", "7", choices="['12', '7', '100']")
    assert mathvista_suite([item(s, "", "")], CTX).score == 100.0


def test_paper_working_round_uses_the_answer_precision_when_missing() -> None:
    result = mathvista_suite([item(sample("float", "0.6"), "0.61", "0.61")], CTX)
    assert result.score == 0.0
    assert result.samples[0].extra["precision_inferred"] == 1
    assert result.samples[0].extra["working_round_correct"] is True  # round(0.61, 1) == 0.6


def test_paper_skills_count_each_skill() -> None:
    s = sample("integer", "2", skills="['algebraic reasoning', 'geometry reasoning']")
    skills = mathvista_suite([item(s, "2", "2")], CTX).breakdown["skills"]
    assert sorted(skills) == ["algebraic reasoning", "geometry reasoning"]


def test_paper_without_judge_is_not_scored() -> None:
    items = [item(sample("integer", "14", index=0), "14", "14"),
             item(sample("integer", "5", index=1), "4", "4"),
             item(sample("integer", "3", index=2), "three", None, "none", "needs a judge (answer extraction)")]
    result = mathvista_suite(items, CTX)
    assert result.score is None
    assert result.reason == "needs a judge (answer extraction); run with --judge"
    assert result.breakdown["rules_resolved"] == 2
    assert result.breakdown["rules_correct"] == 1
    assert result.breakdown["rules_accuracy"] == 50.0
    assert result.breakdown["unresolved"] == 1
    assert result.samples[2].score is None


def test_paper_judge_failure_is_not_scored() -> None:
    items = [item(sample("integer", "3"), "three", None, "none", "judge failed: HTTP 500")]
    result = mathvista_suite(items, CTX)
    assert result.score is None
    assert result.reason == "judge failed on 1 sample(s) (answer extraction); score again to retry them"


def test_paper_error_scores_zero() -> None:
    failed = ScoringItem(sample("integer", "1", index=1), "", "timeout", Extraction(None, "error"))
    result = mathvista_suite([item(sample("integer", "14"), "14", "14"), failed], CTX)
    assert result.score == 50.0
    assert result.breakdown["errors"] == 1
    assert (result.samples[1].score, result.samples[1].method) == (0.0, "error")


def test_hidden_answers() -> None:
    items = [item(sample("integer", ""), "14", "14")]
    for metric in (mathvista_suite, mathvista_vlmevalkit_suite):
        result = metric(items, CTX)
        assert (result.score, result.reason) == (None, "answers hidden")


# --------------------------------------------------------------------------- VLMEvalKit


def vlm(samples_and_replies: Sequence[tuple[Sample, str]], judge: FakeJudge | None = None) -> Any:
    # The extraction passed in is junk on purpose: this metric starts from the raw reply.
    items = [item(s, reply, "junk") for s, reply in samples_and_replies]
    return mathvista_vlmevalkit_suite(items, ScoringContext(judge=judge))


def test_vlmevalkit_ice_file_is_byte_exact() -> None:
    data = prompt_text("mathvista_vlmevalkit_ice.txt").encode("utf-8")
    assert len(data) == 1710
    assert hashlib.sha256(data).hexdigest() == "3e9cb232be22ebb53f446686e46f0e996d6dd562bc033f0973f31914c79f900b"


def test_vlmevalkit_prompt_bytes() -> None:
    prompt = vlmevalkit_prompt("Q?", "It is 14")
    assert prompt.startswith(
        "\nPlease read the following example.\nThen extract the answer from the model response and type it at the "
        "end of the prompt.\n\n\nHint: Please answer the question requiring an integer answer and provide the final "
        "value,\ne.g., 1, 2, 3, at the end.\n\nQuestion: Which number is missing?\n\nModel response: The number "
        "missing in the sequence is 14.\n\nExtracted answer: 14\n\n\nHint:")
    assert "a sour apple candy and a butter-scotch candy? (Unit: $)\n\n" in prompt
    assert prompt.endswith("Choices: (A) 3/11 (B) 8/11 (C) 6/11 (D) 3/5\n\nModel response: The correct answer is "
                           "(B) 8/11.\n\nExtracted answer: B\n\nQ?\nModel respone: It is 14Extracted answer:")


def test_vlmevalkit_prefetch_needs_no_judge() -> None:
    result = vlm([(sample("text", "8/11", choices=FRACTIONS, index=0), "B"),
                  (sample("integer", "14", index=1), "14"),
                  (sample("float", "1.45", index=2), "1.450")])
    assert result.score == 100.0
    assert [s.extracted for s in result.samples] == ["B", 14, 1.45]
    assert [s.method for s in result.samples] == ["rule", "rule", "rule"]
    assert result.breakdown["overall"]["Overall"] == {"tot": 3, "prefetch": 3, "hit": 3, "prefetch_rate": 100.0,
                                                      "acc": 100.0}


def test_vlmevalkit_answer_option_column_wins() -> None:
    s = sample("text", "8/11", choices=FRACTIONS, answer_option="A")
    assert vlm([(s, "B")]).score == 0.0


def test_vlmevalkit_refusal_prefetches_z() -> None:
    result = vlm([(sample("text", "8/11", choices=FRACTIONS), "Cannot determine the answer")])
    assert (result.samples[0].extracted, result.samples[0].method, result.score) == ("Z", "rule", 0.0)


def test_vlmevalkit_zero_fails_the_prefetch() -> None:
    s = sample("integer", "0")
    unresolved = vlm([(s, "0")])
    assert unresolved.score is None
    assert unresolved.reason == "needs a judge (answer extraction); run with --judge"
    judge = FakeJudge(["0"], repeat_last=False)
    result = vlm([(s, "0")], judge)
    assert (result.score, result.samples[0].method) == (100.0, "judge")
    assert len(judge.calls) == 1


def test_vlmevalkit_judge_call_and_retries() -> None:
    judge = FakeJudge([JudgeError("busy"), JudgeError("busy"), " 14\n"], repeat_last=False)
    result = vlm([(sample("integer", "14"), "The answer is fourteen.")], judge)
    assert result.score == 100.0
    assert result.samples[0].extracted == "14"
    assert [(t, m) for _, t, m in judge.calls] == [(0.0, 128), (0.5, 128), (1.0, 128)]
    messages = judge.calls[0][0]
    assert messages == [{"role": "user", "content": vlmevalkit_prompt("Question 0", "The answer is fourteen.")}]
    assert messages[0]["content"].endswith("\nQuestion 0\nModel respone: The answer is fourteen.Extracted answer:")


def test_vlmevalkit_five_failures_is_not_scored() -> None:
    judge = FakeJudge([JudgeError("down")] * 5, repeat_last=False)
    result = vlm([(sample("integer", "14"), "fourteen")], judge)
    assert result.score is None
    assert result.reason == "judge failed on 1 sample(s) (answer extraction); score again to retry them"
    assert result.samples[0].extra["note"] == "judge failed: down"


def test_vlmevalkit_numbers_compare_exactly() -> None:
    judge = FakeJudge(answer=lambda content: "0.61")
    result = vlm([(sample("float", "0.6", precision=1.0), "about 0.61")], judge)
    assert result.score == 0.0  # no rounding to precision (the official scorer rounds 0.61 to 0.6)


def test_vlmevalkit_list_and_text_answers_are_always_wrong() -> None:
    judge = FakeJudge(answer=lambda content: "[2007, 2008]")
    assert vlm([(sample("list", "[2007, 2008]"), "2007 and 2008")], judge).score == 0.0


def test_vlmevalkit_answer_none_is_always_right() -> None:
    # post_check compares str(None) with str(answer): a free-form answer "None" always matches.
    result = vlm([(sample("text", "None"), "whatever")])
    assert (result.score, result.samples[0].method) == (100.0, "rule")


def test_vlmevalkit_empty_reply_reads_back_as_nan() -> None:
    judge = FakeJudge(answer=lambda content: "14")
    vlm([(sample("integer", "14"), "")], judge)
    assert judge.calls[0][0][0]["content"].endswith("Model respone: nanExtracted answer:")


def test_vlmevalkit_mcq_judge_result_goes_through_can_infer() -> None:
    judge = FakeJudge(answer=lambda content: "The answer is (B)")
    result = vlm([(sample("text", "8/11", choices=FRACTIONS), "I'd say the second one")], judge)
    assert result.score == 100.0
    assert result.samples[0].extracted == "The answer is (B)"


def test_vlmevalkit_breakdown_by_task_skill_and_question_type() -> None:
    judge = FakeJudge(answer=lambda content: "5")
    result = vlm([(sample("integer", "14", index=0), "14"),
                  (sample("integer", "4", index=1, task="math word problem", skills="geometry"), "four")], judge)
    assert result.score == 50.0
    assert result.breakdown["task"]["math word problem"] == {"tot": 1, "prefetch": 0, "hit": 0,
                                                              "prefetch_rate": 0.0, "acc": 0.0}
    assert result.breakdown["skills"]["geometry"]["tot"] == 1  # not a list literal: the cell itself
    assert result.breakdown["question_type"]["free_form"]["acc"] == 50.0
    assert result.breakdown["by_method"] == {"rule": 1, "judge": 1}


@pytest.mark.parametrize(("response", "answer_type", "answer", "expected"), [
    ("14", "integer", "14", 14), ("0", "integer", "0", 0), ("14.0", "integer", "14", False),
    (" 2 ", "integer", "2", 2), ("1e0", "float", "1.0", 1.0), ("x", "float", "1.0", False),
])
def test_post_check_prefetch(response: str, answer_type: str, answer: str, expected: Any) -> None:
    found = post_check(response, problem(answer_type=answer_type, answer=answer), "", prefetch=True)
    assert found == expected and type(found) is type(expected)


@settings(max_examples=200)
@given(st.text(), st.sampled_from([sample("text", "8/11", choices=FRACTIONS), sample("integer", "14"),
                                   sample("float", "1.45"), sample("list", "[1, 2]")]))
def test_no_reply_crashes_the_vlmevalkit_extraction(reply: str, s: Sample) -> None:
    result = vlm([(s, reply)], FakeJudge(answer=lambda content: reply))
    assert result.samples[0].score in (0.0, 1.0)
