"""Golden tests for the MathVista extractor (InternVL ``eval/mathvista/extract_answer.py``), worked out by hand."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from evalkit.data.sample import Sample
from evalkit.judge.base import JudgeError
from evalkit.scoring.extract.mathvista import mathvista, official_prompt, problem_fields, prompt_text
from evalkit.scoring.types import ScoringContext
from tests.fakes import FakeJudge

NO_JUDGE = ScoringContext()
QUERY = ("Hint: Please answer the question and provide the correct option letter, e.g., A, B, C, D, at the end.\n"
         "Question: What fraction is blue?\nChoices:\n(A) 3/11\n(B) 8/11")


def sample(answer_type: str, *, choices: str = "", answer: str = "", question_type: str = "",
           **extra: Any) -> Sample:
    qtype = question_type or ("multi_choice" if choices else "free_form")
    metadata: Mapping[str, Any] = {"question_type": qtype, "answer_type": answer_type, "choices": choices, **extra}
    return Sample(index=1, question=QUERY, answers=(answer,), metadata=metadata)


MCQ = sample("text", choices="['3/11', '8/11']", answer="8/11")
INTEGER = sample("integer", answer="14")
FLOAT = sample("float", answer="1.45", precision=2.0)


def value(reply: str, item: Sample) -> Any:
    return mathvista(reply, item, NO_JUDGE).value


def test_official_demo_prompt_file_is_byte_exact() -> None:
    text = prompt_text("mathvista_ext_ans.txt")
    assert len(text.encode("utf-8")) == 1696
    assert hashlib.sha256(text.encode("utf-8")).hexdigest() == (
        "2c251ab9e219c5d7db855ad5a9ef44d5bdb10639244b8d28e3ee66a5bda3f71c")
    assert text.startswith("Please read the following example. Then extract the answer from the model response "
                           "and type it at the end of the prompt.\n\nHint: Please answer the question requiring "
                           "an integer answer and provide the final value, e.g., 1, 2, 3, at the end.\n")
    assert "Question: Between which two years does the line  graph saw its maximum peak?\n" in text
    assert text.endswith("Question: What fraction of the shape is blue?\nChoices:\n(A) 3/11\n(B) 8/11\n(C) 6/11\n"
                         "(D) 3/5\n\nModel response: The correct answer is (B) 8/11.\n\nExtracted answer: B")


def test_official_prompt_assembly() -> None:
    prompt = official_prompt("QUERY", "REPLY")
    assert prompt == prompt_text("mathvista_ext_ans.txt") + "\n\nQUERY\n\nREPLY\n\nExtracted answer: "


def test_empty_reply_is_empty_without_judge() -> None:
    judge = FakeJudge("A")
    extraction = mathvista("", MCQ, ScoringContext(judge=judge))
    assert (extraction.value, extraction.method) == ("", "rule")
    assert judge.calls == []


def test_mcq_reply_equal_to_a_choice() -> None:
    assert value("8/11", MCQ) == "8/11"
    assert value(" 8/11", MCQ) is None  # exact membership: no strip
    assert value("B", MCQ) is None  # a letter is not a choice: the judge decides


def test_integer_rule_uses_python_int() -> None:
    assert value("14", INTEGER) == "14"
    assert value(" 14 \n", INTEGER) == "14"
    assert value("+3", INTEGER) == "3"
    assert value("1_000", INTEGER) == "1000"
    assert value("１４", INTEGER) == "14"  # full-width digits
    assert value("14.0", INTEGER) is None
    assert value("14 apples", INTEGER) is None


def test_float_rule_uses_python_float() -> None:
    assert value("1.45", FLOAT) == "1.45"
    assert value("1e3", FLOAT) == "1000.0"
    assert value("nan", FLOAT) == "nan"
    assert value("2", FLOAT) == "2.0"
    assert value("$1.45", FLOAT) is None


def test_mcq_test_comes_first_whatever_the_answer_type() -> None:
    item = sample("integer", choices="['2', '3']", answer="3")
    assert value("3", item) == "3"
    assert value("03", item) == "3"  # not a choice, but int("03") parses


def test_list_and_text_answers_need_the_judge() -> None:
    assert value("[2007, 2008]", sample("list", answer="[2007, 2008]")) is None


def test_no_judge_is_not_extracted() -> None:
    extraction = mathvista("The answer is 14.", INTEGER, NO_JUDGE)
    assert (extraction.value, extraction.method, extraction.note) == (None, "none", "needs a judge (answer extraction)")


def test_judge_gets_the_official_prompt() -> None:
    judge = FakeJudge("  B \n")
    extraction = mathvista("I think it is (B).", MCQ, ScoringContext(judge=judge))
    assert (extraction.value, extraction.method) == ("B", "judge")
    [(messages, temperature, max_tokens)] = judge.calls
    assert (temperature, max_tokens) == (0.0, 256)
    assert len(messages) == 1 and messages[0]["role"] == "user"
    content = messages[0]["content"]
    assert content.startswith("Please read the following example. Then extract the answer from the model response")
    assert content.endswith("Extracted answer: B\n\n" + QUERY + "\n\nI think it is (B).\n\nExtracted answer: ")


def test_judge_failure_is_not_extracted() -> None:
    extraction = mathvista("about fourteen", INTEGER, ScoringContext(judge=FakeJudge(JudgeError("HTTP 500"))))
    assert (extraction.value, extraction.method, extraction.note) == (None, "none", "judge failed: HTTP 500")


def test_in_metric_option_makes_no_judge_call() -> None:
    judge = FakeJudge("14")
    ctx = ScoringContext(options={"answer_extraction": "in_metric"}, judge=judge)
    assert mathvista("about fourteen", INTEGER, ctx).value is None
    assert judge.calls == []
    assert mathvista("14", INTEGER, ctx).value == "14"  # the rules still apply


def test_problem_fields() -> None:
    problem = problem_fields(sample("float", answer="0.25"))
    assert (problem.precision, problem.precision_inferred) == (2, True)  # no precision column: the answer's decimals
    assert problem_fields(FLOAT).precision == 2
    assert problem_fields(MCQ).choices == ("3/11", "8/11")
    assert problem_fields(sample("text", choices="not a list")).choices == ()
    assert problem_fields(Sample(1, "q", metadata={"choices": [1, 2.5]})).choices == ("1", "2.5")


@settings(max_examples=300)
@given(st.text(), st.sampled_from([MCQ, INTEGER, FLOAT]))
def test_no_text_crashes_the_extractor(reply: str, item: Sample) -> None:
    extraction = mathvista(reply, item, NO_JUDGE)
    assert extraction.value is None or isinstance(extraction.value, str)


@pytest.mark.parametrize("reply", ["9" * 5000, "1" * 400 + ".5", "\x00", "\ud800", "(" * 10_000, "inf", "-0"])
def test_edge_inputs(reply: str) -> None:
    for item in (MCQ, INTEGER, FLOAT):
        mathvista(reply, item, NO_JUDGE)
