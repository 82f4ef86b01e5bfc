"""Golden tests for MM-Vet judge grading (official mm-vet_evaluator.py and VLMEvalKit's copy), worked out by hand."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from evalkit.data.sample import Sample
from evalkit.judge.base import JudgeError
from evalkit.scoring.metrics import mmvet
from evalkit.scoring.types import ScoringContext, ScoringItem
from tests.fakes import FakeJudge

PROMPT_START = ("Compare the ground truth and prediction from AI models, to give a correctness score for the "
                "prediction. <AND> in the ground truth means it is totally right only when all elements in the "
                "ground truth are present in the prediction, and <OR> means it is totally right when any one "
                "element in the ground truth is present in the prediction.")
PROMPT_END = ("The humor in this meme is derived from the unexpected contrast between the names of the countries "
              "and their actual physical characteristics. | 1.0\n")


def item(index: int, prediction: str, answer: str | None = "-1 <AND> -5", category: Any = "math",
         question: str = "What is x in the equation?", error: str | None = None) -> ScoringItem:
    sample = Sample(index=index, question=question, answers=() if answer is None else (answer,),
                    metadata={"category": category})
    return ScoringItem(sample, prediction, error)


def ctx(judge: Any, grader: str | None = None) -> ScoringContext:
    return ScoringContext(options={} if grader is None else {"grader": grader}, judge=judge)


# --- the prompt bytes -------------------------------------------------------------------------------------------

def test_official_prompt_bytes_of_a_grading_call():
    judge = FakeJudge(["0.5"])
    mmvet.mmvet_judge_suite([item(1, "x = -1", answer="-1<AND>-5")], ctx(judge))
    (messages, temperature, max_tokens), = judge.calls
    assert (temperature, max_tokens) == (0.0, 3)
    assert len(messages) == 1 and messages[0]["role"] == "user"
    content = messages[0]["content"]
    assert content.startswith(PROMPT_START)
    assert content.endswith(PROMPT_END + "\nWhat is x in the equation? | -1 <AND> -5 | x = -1 | ")


def test_official_prompt_file_is_the_reference_text():
    text = mmvet.prompt_template("official")
    assert len(text) == 2290  # checked against the stored mm-vet_evaluator.py: `prompt` ends at offset 2571
    digest = hashlib.sha256(text.encode()).hexdigest()
    assert digest == "d1b3e0a5b4e72c888b77164489d705bba4dd149934fff564dfba6443d81afe3f"
    assert text.count("\n") == 11 and "\r" not in text
    assert "\n\nQuestion | Ground truth | Prediction | Correctness\n--- | --- | --- | ---\n" in text


def test_official_few_shot_table_grades():
    rows = mmvet.prompt_template("official").splitlines()
    equation = [row for row in rows if row.startswith("What is x in the equation? | -1 <AND> -5 | ")]
    assert [row.rsplit(" | ", 1)[1] for row in equation] == ["0.0", "0.5", "0.5", "0.5", "1.0"]
    assert [row.split(" | ")[2] for row in equation] == ["x = 3", "x = -1", "x = -5", "x = -5 or 5", "x = -1 or x = -5"]
    memes = [row for row in rows if row.startswith("Can you explain this meme? | ")]
    assert [row.rsplit(" | ", 1)[1] for row in memes] == ["0.4", "1.0"]
    assert all("Iceland and Greenland are misleading" in row for row in memes)


def test_vlmevalkit_prompt_copy_differs_from_the_official_one():
    text = mmvet.prompt_template("vlmevalkit")
    assert len(text) == 2291  # checked against the stored vlmeval/dataset/utils/mmvet.py
    digest = hashlib.sha256(text.encode()).hexdigest()
    assert digest == "f3e131e1d998e890676bda56a63e404f601cb5166293b1ab0c9fafd9d8567323"
    assert text.startswith("\nCompare the ground truth and prediction from AI models, to give a correctness score "
                           "for the prediction.\n<AND> in the ground truth means it is totally right\nonly when")
    assert text.endswith("and their actual physical characteristics. | 1.0\n")
    assert text != mmvet.prompt_template("official")
    assert text.replace("\n", " ").split() == mmvet.prompt_template("official").replace("\n", " ").split()


def test_and_or_get_spaces_even_when_already_spaced():
    prompt = mmvet.grading_prompt("q", "a<OR>b <AND> c", "p")
    assert prompt.endswith("\nq | a <OR> b  <AND>  c | p | ")


def test_vlmevalkit_writes_an_empty_prediction_as_nan():
    assert mmvet.grading_prompt("q", "4", "", "vlmevalkit").endswith("\nq | 4 | nan | ")
    assert mmvet.grading_prompt("q", "4", "", "official").endswith("\nq | 4 |  | ")


# --- parsing ----------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("reply", "grade"), [
    ("0.5", 0.5), ("1.0", 1.0), ("0", 0.0), ("0.8 because", 0.8), ("0.6\n", 0.6), ("\t0.3", 0.3),
    (" 0.5", None),  # split(" ")[0] is the empty string
    ("0.5\nbut", None),  # only spaces split: "0.5\nbut" is one token
    ("1.1", None), ("-0.1", None), ("nan", None), ("inf", None), ("Correct", None), ("", None),
])
def test_official_parse(reply: str, grade: float | None):
    assert mmvet.parse_grade_official(reply) == grade


@pytest.mark.parametrize(("reply", "grade"), [
    ("0.5", 0.5), (" 0.7\n", 0.7), ("0.8 because", None), ("1.5", None), ("NaN", None), ("", None),
])
def test_vlmevalkit_parse_needs_the_whole_reply(reply: str, grade: float | None):
    assert mmvet.parse_grade_vlmevalkit(reply) == grade


# --- retries ----------------------------------------------------------------------------------------------------

def test_official_retry_appends_the_digit_request_and_raises_temperature():
    judge = FakeJudge(["Correctness", "The", "0.7"])
    result = mmvet.mmvet_judge_suite([item(1, "x = -5")], ctx(judge))
    assert [temperature for _, temperature, _ in judge.calls] == [0.0, 0.0, 0.5]
    contents = [messages[0]["content"] for messages, _, _ in judge.calls]
    assert not contents[0].endswith(mmvet.RETRY_SUFFIX)
    assert contents[1] == contents[2] == contents[0] + "\nPredict the correctness of the answer (digit): "
    assert result.score == 70.0
    sample = result.samples[0]
    assert (sample.score, sample.extracted, sample.method) == (0.7, 0.7, "judge")
    assert sample.extra["judge_replies"] == ["Correctness", "The", "0.7"]
    assert sample.extra["grade_defaulted"] is False


def test_official_five_tries_then_grade_defaults_to_zero():
    judge = FakeJudge(["wrong"])
    result = mmvet.mmvet_judge_suite([item(1, "x = 3")], ctx(judge))
    assert [temperature for _, temperature, _ in judge.calls] == [0.0, 0.0, 0.5, 1.0, 1.5]
    assert {max_tokens for _, _, max_tokens in judge.calls} == {3}
    assert result.samples[0].extra["temperatures"] == [0.0, 0.0, 0.5, 1.0, 1.5]
    sample = result.samples[0]
    assert (sample.score, sample.method, sample.extra["tries"]) == (0.0, "judge", 5)
    assert sample.extra["grade_defaulted"] is True and sample.extra["note"].startswith("grade defaulted")
    assert result.score == 0.0 and result.breakdown["grades_defaulted"] == 1


def test_vlmevalkit_five_tries_at_half_steps_same_prompt():
    judge = FakeJudge(["0.8 because", "x", "y", "z", "w"])
    result = mmvet.mmvet_judge_suite([item(1, "x = 3")], ctx(judge, "vlmevalkit"))
    assert [(temperature, max_tokens) for _, temperature, max_tokens in judge.calls] == [
        (0.0, 2048), (0.5, 2048), (1.0, 2048), (1.5, 2048), (2.0, 2048)]
    assert len({messages[0]["content"] for messages, _, _ in judge.calls}) == 1
    assert judge.calls[0][0][0]["content"].startswith("\nCompare the ground truth")
    assert result.samples[0].score == 0.0 and result.samples[0].extra["grade_defaulted"] is True
    assert result.samples[0].extra["temperatures"] == [0.0, 0.5, 1.0, 1.5, 2.0]


def test_vlmevalkit_stops_at_the_first_valid_grade():
    judge = FakeJudge(["1.2", "0.4"])
    result = mmvet.mmvet_judge_suite([item(1, "x = 3")], ctx(judge, "vlmevalkit"))
    assert [temperature for _, temperature, _ in judge.calls] == [0.0, 0.5]
    assert result.score == 40.0


# --- totals and capabilities ------------------------------------------------------------------------------------

GRADES = {"p1": "1.0", "p2": "0.5", "p3": "0.0", "p4": "0.25"}


def capability_items() -> list[ScoringItem]:
    return [item(1, "p1", category="rec,ocr"), item(2, "p2", category="ocr,rec"), item(3, "p3", category="rec"),
            item(4, "p4", category=["ocr", "math"])]


def by_prediction(content: str) -> str:
    return GRADES[content.rsplit(" | ", 2)[-2]]


def test_official_total_capabilities_and_integration_sets():
    result = mmvet.mmvet_judge_suite(capability_items(), ctx(FakeJudge(answer=by_prediction, model="fake-gpt-4")))
    assert result.score == 43.75  # 100 × (1 + 0.5 + 0 + 0.25) / 4
    breakdown = result.breakdown
    assert list(breakdown["capabilities"]) == ["rec", "ocr", "math"]
    assert breakdown["capabilities"]["rec"] == 50.0  # (1 + 0.5 + 0) / 3
    assert breakdown["capabilities"]["ocr"] == pytest.approx(175 / 3, abs=1e-12)  # (1 + 0.5 + 0.25) / 3
    assert breakdown["capabilities"]["math"] == 25.0
    assert breakdown["capability_counts"] == {"rec": 3, "ocr": 3, "math": 1}
    assert breakdown["capability_integration"] == {"rec,ocr": 75.0, "rec": 0.0, "ocr,math": 25.0}
    assert breakdown["capability_integration_counts"] == {"rec,ocr": 2, "rec": 1, "ocr,math": 1}
    assert (breakdown["grader"], breakdown["judge_model"], breakdown["n"]) == ("official", "fake-gpt-4", 4)
    json.dumps(breakdown, allow_nan=False)
    json.dumps([dict(s.extra) for s in result.samples], allow_nan=False)


def test_vlmevalkit_groups_integrations_by_exact_string():
    result = mmvet.mmvet_judge_suite(capability_items(), ctx(FakeJudge(answer=by_prediction), "vlmevalkit"))
    assert result.score == 43.75
    assert result.breakdown["capability_integration"] == {"rec,ocr": 100.0, "ocr,rec": 50.0, "rec": 0.0,
                                                          "ocr,math": 25.0}
    assert list(result.breakdown["capabilities"]) == ["rec", "ocr", "math"]


def test_vlmevalkit_finds_capabilities_by_substring():
    assert mmvet.capabilities("ocr,spatial", "vlmevalkit") == ["ocr", "spat"]
    assert mmvet.capabilities("ocr,spatial", "official") == ["ocr", "spatial"]
    assert mmvet.capabilities("rec, rec ,ocr", "official") == ["rec", "ocr"]  # a set: counted once
    assert mmvet.capabilities(None, "official") == []


def test_inference_error_grades_zero_without_a_judge_call():
    judge = FakeJudge(["1.0"])
    items = [item(1, "x = -1 or x = -5"), item(2, "", error="CUDA out of memory")]
    result = mmvet.mmvet_judge_suite(items, ctx(judge))
    assert len(judge.calls) == 1
    assert result.score == 50.0 and result.breakdown["errors"] == 1
    assert (result.samples[1].score, result.samples[1].method) == (0.0, "error")


# --- not scored ---------------------------------------------------------------------------------------------------

def test_no_judge_is_not_scored_never_zero():
    result = mmvet.mmvet_judge_suite([item(1, "x = -1")], ScoringContext())
    assert result.score is None
    assert result.reason is not None
    assert result.reason.startswith("needs a judge (GPT-4 grading); run with --judge openai:gpt-4-0613")
    assert result.samples[0].score is None


def test_hidden_answers_are_not_scored():
    result = mmvet.mmvet_judge_suite([item(1, "x", answer=None), item(2, "y", answer=None)], ctx(FakeJudge(["1"])))
    assert (result.score, result.reason) == (None, "answers hidden")


def test_judge_failure_makes_the_suite_unscored():
    def reply(content: str) -> str | Exception:
        return JudgeError("rate limited") if "| boom | " in content else "1.0"

    result = mmvet.mmvet_judge_suite([item(1, "fine"), item(2, "boom")], ctx(FakeJudge(answer=reply)))
    assert result.score is None
    assert result.reason is not None and result.reason.startswith("judge failed for 1 of 2 samples (first: 2")
    assert result.samples[1].score is None and result.samples[1].extra["judge_error"] == "rate limited"
    assert result.samples[0].score == 1.0


def test_unknown_grader_is_a_configuration_error():
    with pytest.raises(ValueError, match="grader"):
        mmvet.mmvet_judge_suite([item(1, "x")], ctx(FakeJudge(["1"]), "lmms-eval"))


# --- robustness ---------------------------------------------------------------------------------------------------

@settings(max_examples=300, deadline=None)
@given(st.text())
def test_parsers_never_crash(reply: str):
    for parse in (mmvet.parse_grade_official, mmvet.parse_grade_vlmevalkit):
        grade = parse(reply)
        assert grade is None or 0.0 <= grade <= 1.0


@settings(max_examples=100, deadline=None)
@given(st.text(), st.text(), st.text())
def test_prompt_builder_never_crashes(question: str, answer: str, prediction: str):
    for grader in mmvet.GRADERS:
        assert mmvet.grading_prompt(question, answer, prediction, grader).startswith(mmvet.prompt_template(grader))


def test_huge_and_empty_replies():
    assert mmvet.parse_grade_official("9" * 1_000_000) is None
    assert mmvet.parse_grade_vlmevalkit("0." + "5" * 1_000_000) == pytest.approx(0.5555555555555556)
    judge = FakeJudge([""])
    result = mmvet.mmvet_judge_suite([item(1, "x" * 1_000_000)], ctx(judge))
    assert result.score == 0.0 and len(judge.calls) == 5
