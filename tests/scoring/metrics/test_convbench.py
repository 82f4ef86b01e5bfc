"""Golden tests for ConvBench judge scoring (ConvBenchEval/convbencheval.py + score.py), worked out by hand."""

from __future__ import annotations

import csv
import hashlib
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import evalkit
from evalkit.data.sample import Sample
from evalkit.judge.base import ChatMessage, JudgeError
from evalkit.scoring.metrics import convbench
from evalkit.scoring.metrics.convbench_prompts import (
    Conversation,
    answer_extraction_messages,
    pairwise_messages,
    prompt_text,
)
from evalkit.scoring.types import ScoringContext, ScoringItem
from tests.fakes import FakeJudge

PROMPTS = Path(evalkit.__file__).parent / "judge" / "prompts"
ANNOTATIONS = {"instruction-conditioned-caption": "CAP", "first_turn_answer": "H1", "second_turn_answer": "H2",
               "third_turn_answer": "H3", "third_turn_demands": "DEM"}
CONV = Conversation("CAP", ("Q1", "Q2", "Q3"), ("M1", "M2", "M3"), ("H1", "H2", "H3"), "DEM")
THINK = ("Think step-by-step, compare the {} responses from the two assistants, and finish your response with "
         "\"Overall, Response X is better.\" where X is either A or B.")


def conversation_text(a: str, b: str) -> str:
    """The two conversations as generate_request writes them, written out by hand."""
    return (
        "OK. Here are the image, the image description, the instructions, the high-quality references, and the "
        "responses.\nImage context: CAP\n\n"
        "<|The Start of Assistant A’s Conversation with User|>\n"
        f"### The first turn question from user:\nQ1\n\n### The first turn response from Assistant A:\n{a}1\n\n"
        f"### The second turn question from user:\nQ2\n\n### The second turn response from Assistant A:\n{a}2\n\n"
        f"### The third question from user:\nQ3\n\n### The third turn response from Assistant A:\n{a}3\n\n"
        "<|The End of Assistant A’s Conversation with User|>\n\n"
        "<|The Start of Assistant B’s Conversation with User|>\n"
        f"### The first turn question from user:\nQ1\n\n### The first turn response from Assistant B:\n{b}1\n\n"
        f"### The second turn question from user:\nQ2\n\n### The second turn response from Assistant B:\n{b}2\n\n"
        f"###The third turn question from user:\nQ3\n\n### The third turn response from Assistant B:\n{b}3\n\n"
        "<|The End of Assistant B’s Conversation with User|>\n\n")


def kind_of(messages: Sequence[ChatMessage]) -> str:
    """Which call this is: "extraction", "rating_extraction", or "<pairwise|direct>:<turn>"."""
    system = messages[0]["content"]
    if system == prompt_text("convbench_answer_extraction_system.txt"):
        return "extraction"
    if system == prompt_text("convbench_rating_extraction_system.txt"):
        return "rating_extraction"
    for kind in ("pairwise", "direct"):
        for turn in convbench.TURNS:
            if system == prompt_text(f"convbench_{kind}_{turn}_system.txt"):
                return f"{kind}:{turn}"
    raise AssertionError("unknown judge call")


def item(index: int, *, side: Any = None, error: str | None = None, caption: str = "CAP",
         prediction: Any = ("M1", "M2", "M3"), **metadata: Any) -> ScoringItem:
    meta: dict[str, Any] = {**ANNOTATIONS, "instruction-conditioned-caption": caption}
    if side is not None:
        meta["pairwise_side"] = side
    meta.update(metadata)
    sample = Sample(index=index, question="", turns=("Q1", "Q2", "Q3"), metadata=meta)
    return ScoringItem(sample, prediction, error)


def ctx(judge: Any, **options: Any) -> ScoringContext:
    return ScoringContext(options={"direct": False, **options}, judge=judge)


# --- the paper's numbers ------------------------------------------------------------------------------------------

def baselines_csv() -> Path:
    for path in (Path(evalkit.__file__).parent / "benchmarks" / "baselines.csv",
                 Path(__file__).resolve().parents[4] / "shared" / "paper_baselines.csv"):
        if path.exists():
            return path
    pytest.skip("paper_baselines.csv is not available")


def test_every_convbench_row_of_the_paper_satisfies_r2_and_r1():
    values: dict[tuple[str, str], dict[str, float]] = {}
    with baselines_csv().open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            if row["benchmark"] == "ConvBench":
                kind, key = row["metric"].split("_")
                values.setdefault((row["model"], kind), {})[key] = float(row["value"])
    assert len(values) >= 2
    for (model, kind), s in values.items():
        assert set(s) == {"S1", "S2", "S3", "S0", "R2", "R1"}, (model, kind)
        assert abs(s["R2"] - (s["S1"] + s["S2"] + s["S3"]) / 3) <= 0.01, (model, kind)
        assert abs(s["R1"] - (s["R2"] + s["S0"]) / 2) <= 0.01, (model, kind)
    assert values[("InternVL-Chat-V1.5", "pairwise")]["R1"] == 17.65
    assert values[("InternVL-Chat-V1.5", "pairwise")]["S1"] == round(150 / 577 * 100, 2)  # wins / 577


# --- the prompt bytes -----------------------------------------------------------------------------------------------

def test_prompt_files_are_the_verified_copies():
    digest = hashlib.sha256()
    for path in sorted(PROMPTS.glob("convbench_*.txt")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    assert digest.hexdigest() == "045116f7209dbfda8639809da11375bb63607350b68dd742c806d93cdceded6a"


def test_first_turn_messages_model_as_assistant_a():
    messages = pairwise_messages("first_turn", CONV, 0)
    assert [m["role"] for m in messages] == ["system", "user", "assistant", "user"]
    system = messages[0]["content"]
    assert system.startswith("You are ImageTaskEvaluationGPT, an expert language model at judging whether or not a "
                             "response adequately addresses an instruction in the context of an image.")
    assert "the first turn response from Assitant B better" in system  # the reference's typo
    assert system.endswith("- You think step-by-step, but ultimately respond with \"Response A\" or \"Response B\"")
    assert messages[1]["content"].startswith("I will describe an image to you, and provide three progressive "
                                             "instructions.")
    assert "these will be labelled \"Assistant A\" and \" Assistant B\"." in messages[1]["content"]
    assert messages[2]["content"] == (
        "Sure, please provide the image context, the three progressive instructions, and the two sets of candidate "
        "responses. Then, I will think step-by-step and provide my ultimate judgement as to which response for the "
        "first turn instruction is better.")
    assert messages[3]["content"] == conversation_text("M", "H") + THINK.format("first turn")


def test_side_one_swaps_the_assistants():
    assert pairwise_messages("second_turn", CONV, 1)[3]["content"] == (
        conversation_text("H", "M") + THINK.format("second turn"))


def test_third_turn_carries_the_demands_and_overall_the_turn_texts():
    third = pairwise_messages("third_turn", CONV, 0)[3]["content"]
    assert third == (conversation_text("M", "H") + "There are some concerns which you should focus when make your "
                     "judgements for the response:DEM.\n\n" + THINK.format("third turn"))
    overall = pairwise_messages("overall_conversation", CONV, 0, ["T1.", "T2", "T3"])[3]["content"]
    assert overall == (conversation_text("M", "H") + "The first turn evaluation: T1..\n The second turn evaluation: "
                       "T2.\n The third turn evaluation: T3.\n\n" + THINK.format("overall conversation"))


def test_answer_extraction_few_shot_layout():
    messages = answer_extraction_messages("my verdict")
    assert [m["role"] for m in messages] == ["system", "user", "assistant", "user", "assistant", "user", "assistant",
                                             "user"]
    assert messages[0]["content"].startswith("You are FinalAnswerExtractionGPT, an expert language model")
    assert [messages[i]["content"] for i in (2, 4, 6)] == ["Final Answer: Response B", "Final Answer: Response A",
                                                           "Final Answer: Response B"]
    assert messages[1]["content"].endswith("same color as the tiny sphere.\"\nPlease extract the final answer from "
                                           "the above text.")
    assert messages[7]["content"] == "my verdict\nPlease extract the final answer from the above text."


# --- the verdict rule -------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "letter"), [
    ("Overall, Response A is better.", "A"), ("RESPONSE B IS BETTER", "B"),
    ("response a is better than b, so response b is better", None), ("A wins", None), ("", None),
])
def test_phrase_rule_needs_exactly_one_side(text: str, letter: str | None):
    assert convbench.phrase_letter(text) == letter


@pytest.mark.parametrize(("reply", "letter"), [
    ("Final Answer: Response B", "B"), ("final answer: response b", None), ("Unknown", None),
    ("Final Answer: Response A / Final Answer: Response B", None),
])
def test_final_answer_is_case_sensitive(reply: str, letter: str | None):
    assert convbench.final_answer_letter(reply) == letter


@pytest.mark.parametrize(("text", "letter"), [
    ("Rating: [[A]]", "A"), ("so.\nRating: B.", "B"), ("Rating: A is better", None), ("Rating:\nA", None),
    ("Rating: C\nRating: A", None), ("no rating here", None),
])
def test_score_py_rating_line(text: str, letter: str | None):
    assert convbench.rating_line_letter(text) == letter


def test_extraction_is_asked_only_when_the_phrase_rule_fails():
    asked: list[Any] = []

    def ask(messages: list[ChatMessage]) -> str:
        asked.append(messages)
        return "Unknown"

    assert convbench.resolve_verdict("Response B is better", ask).stage == "phrase"
    assert not asked
    verdict = convbench.resolve_verdict("hmm\nRating: A", ask)
    assert (verdict.letter, verdict.stage, verdict.extraction, len(asked)) == ("A", "rating_line", "Unknown", 1)
    assert convbench.resolve_verdict("hmm", ask).letter is None


# --- the whole suite ------------------------------------------------------------------------------------------------

PAIRWISE_REPLIES = {
    ("CAP1", "first_turn"): "Overall, Response A is better.",  # side 0: win
    ("CAP1", "second_turn"): "Response B is better",  # loss
    ("CAP1", "third_turn"): "I cannot decide",  # extraction → A: win
    ("CAP1", "overall_conversation"): "response a is better and response b is better",  # both → nothing: loss
    ("CAP2", "first_turn"): "Response B is better",  # side 1: win
    ("CAP2", "second_turn"): "hmm\nRating: [[B]]",  # extraction Unknown, then score.py's Rating line → B: win
    ("CAP2", "third_turn"): "Response A is better",  # loss
    ("CAP2", "overall_conversation"): "Response B is better.",  # win
}
EXTRACTIONS = {"I cannot decide": "Final Answer: Response A"}


def scripted(messages: Sequence[ChatMessage]) -> str:
    kind = kind_of(messages)
    last = messages[-1]["content"]
    if kind == "extraction":
        return EXTRACTIONS.get(last.removesuffix("\nPlease extract the final answer from the above text."), "Unknown")
    caption = "CAP1" if "Image context: CAP1\n" in last else "CAP2"
    return PAIRWISE_REPLIES[(caption, kind.split(":")[1])]


def two_conversations() -> list[ScoringItem]:
    return [item(1, side=0, caption="CAP1"), item(2, side=1, caption="CAP2")]


def test_pairwise_wins_s_r2_r1():
    judge = FakeJudge(respond=scripted, model="fake-gpt-3.5-turbo")
    result = convbench.convbench_judge_suite(two_conversations(), ctx(judge))
    b = result.breakdown
    assert (b["pairwise_S1"], b["pairwise_S2"], b["pairwise_S3"], b["pairwise_S0"]) == (100.0, 50.0, 50.0, 50.0)
    assert b["pairwise_R2"] == pytest.approx(200 / 3, abs=1e-12)
    assert b["pairwise_R1"] == pytest.approx(175 / 3, abs=1e-12)
    assert result.score == b["pairwise_R1"]
    assert b["wins"] == {"S1": 2, "S2": 1, "S3": 1, "S0": 1}
    assert b["verdict_stages"] == {"phrase": 5, "final_answer": 1, "rating_line": 1, "none": 1}
    assert (b["judge_temperature"], b["judge_max_tokens"], b["judge_model"]) == (1.0, 512, "fake-gpt-3.5-turbo")
    first, second = result.samples
    assert first.extracted == ["A", "B", "A", None] and second.extracted == ["B", "B", "A", "B"]
    assert first.score == pytest.approx(1 / 3) and second.score == pytest.approx(5 / 6)  # ((w1+w2+w3)/3 + w0)/2
    assert (first.extra["model_letter"], second.extra["model_letter"]) == ("A", "B")
    assert first.extra["side_source"] == "metadata"
    assert len(judge.calls) == 11  # 8 comparisons + extraction calls for CAP1 turn 3, CAP1 overall, CAP2 turn 2
    assert {(t, m) for _, t, m in judge.calls} == {(1.0, 512)}
    json.dumps(b, allow_nan=False)
    json.dumps([dict(s.extra) for s in result.samples], allow_nan=False)


def test_overall_call_gets_the_three_turn_texts():
    judge = FakeJudge(respond=scripted)
    convbench.convbench_judge_suite([item(1, side=0, caption="CAP1")], ctx(judge))
    overall = [m for m, _, _ in judge.calls if kind_of(m) == "pairwise:overall_conversation"]
    assert overall[0][3]["content"].endswith(
        "The first turn evaluation: Overall, Response A is better..\n The second turn evaluation: Response B is "
        "better.\n The third turn evaluation: I cannot decide.\n\n" + THINK.format("overall conversation"))


def test_denominator_option_reproduces_577():
    result = convbench.convbench_judge_suite(two_conversations(), ctx(FakeJudge(respond=scripted), denominator=3))
    b = result.breakdown
    assert b["pairwise_S1"] == pytest.approx(200 / 3) and b["pairwise_S0"] == pytest.approx(100 / 3)
    assert b["pairwise_R1"] == pytest.approx(((200 / 3 + 100 / 3 + 100 / 3) / 3 + 100 / 3) / 2)
    assert b["denominator"] == 3 and b["n"] == 2


def test_inference_error_loses_every_comparison_without_judge_calls():
    judge = FakeJudge(respond=scripted)
    items = [item(1, side=0, caption="CAP1"), item(2, error="timeout", caption="CAP2", prediction=())]
    result = convbench.convbench_judge_suite(items, ctx(judge))
    assert result.breakdown["errors"] == 1
    assert (result.samples[1].score, result.samples[1].method) == (0.0, "error")
    assert result.breakdown["pairwise_S1"] == 50.0 and result.breakdown["pairwise_S0"] == 0.0
    assert len(judge.calls) == 6


def test_side_from_options_overrides_metadata_and_defaults_to_a():
    resolved = convbench.resolve_side(item(7, side=1), {"pairwise_sides": {"7": 0}})
    assert resolved == (0, "options.pairwise_sides")
    assert convbench.resolve_side(item(7), {}) == (0, "default")
    assert convbench.resolve_side(item(7), {"pairwise_side": 1}) == (1, "options.pairwise_side")
    assert convbench.resolve_side(item(7, side="1"), {}) == (1, "metadata")
    assert convbench.resolve_side(item(7, side=2), {}) == (None, "metadata")


def test_invalid_side_is_not_scored():
    result = convbench.convbench_judge_suite([item(1, side=2)], ctx(FakeJudge(respond=scripted)))
    assert result.score is None and result.reason is not None and "pairwise_side must be 0 or 1" in result.reason


def test_direct_grading_set():
    def reply(messages: Sequence[ChatMessage]) -> str:
        kind = kind_of(messages)
        return {"pairwise:first_turn": "Response A is better", "pairwise:second_turn": "Response A is better",
                "pairwise:third_turn": "Response A is better", "pairwise:overall_conversation": "Response A is better",
                "direct:first_turn": "Good.\nRating:{8}", "direct:second_turn": "Fine. Rating: 6.",
                "direct:third_turn": "no number", "rating_extraction": "Final Rating: 4" if "no number" in
                messages[-1]["content"] else "Unknown", "direct:overall_conversation": "Rating: 11"}[kind]

    judge = FakeJudge(respond=reply)
    result = convbench.convbench_judge_suite([item(1, side=0)], ScoringContext(judge=judge))
    b = result.breakdown
    assert (b["direct_S1"], b["direct_S2"], b["direct_S3"], b["direct_S0"]) == (8.0, 6.0, 4.0, 0.0)
    assert (b["direct_R2"], b["direct_R1"]) == (6.0, 3.0)
    assert b["direct_unrated"] == 1 and result.score == 100.0
    assert result.samples[0].extra["direct_stages"] == ["rating", "rating", "final_rating", "none"]
    direct = next(m for m, _, _ in judge.calls if kind_of(m) == "direct:first_turn")
    assert direct[0]["content"].endswith("by strictly following this format:\"Rating:{rating}\", for example: "
                                         "\"Rating:{5}\".")
    assert "### The first turn reference output:\nH1\n\n### The first turn response from AI assistant:\nM1" in (
        direct[3]["content"])
    overall = next(m for m, _, _ in judge.calls if kind_of(m) == "direct:overall_conversation")
    assert "The first turn evaluation: Good.\nRating:{8}.\n The second turn evaluation: Fine. Rating: 6..\n" in (
        overall[3]["content"])


@pytest.mark.parametrize(("text", "rating"), [
    ("Rating:{7}", 7.0), ("Rating: 3.", 3.0), ("Rating:{ 9 }", 9.0), ("Rating:{5} ... Rating: 2", 2.0),
    ("Rating: 0", None), ("Rating: 10.5", None), ("Rating: ten", None),
])
def test_direct_rating_parse(text: str, rating: float | None):
    assert convbench.parse_rating(text) == rating


def test_categories_breakdown():
    items = [item(1, side=0, caption="CAP1", First_turn_instruction_category="OCR"),
             item(2, side=1, caption="CAP2", First_turn_instruction_category="OCR")]
    result = convbench.convbench_judge_suite(items, ctx(FakeJudge(respond=scripted)))
    assert result.breakdown["categories"] == {"first_turn": {"OCR": 100.0}}


# --- not scored -----------------------------------------------------------------------------------------------------

def test_public_file_only_and_no_judge_names_everything_missing():
    sample = Sample(index=1, question="", turns=("Q1", "Q2", "Q3"))
    result = convbench.convbench_judge_suite([ScoringItem(sample, ("a", "b", "c"))], ScoringContext())
    assert result.score is None
    assert result.reason == (
        "needs the full ConvBench annotation file (--data-file with the non-public columns): missing "
        "'instruction-conditioned-caption' in 1 of 1 samples, 'first_turn_answer' in 1 of 1 samples, "
        "'second_turn_answer' in 1 of 1 samples, 'third_turn_answer' in 1 of 1 samples, 'third_turn_demands' in "
        "1 of 1 samples; and needs a judge (the official ConvBenchEval uses gpt-3.5-turbo at the API default "
        "temperature 1.0); run with --judge openai:gpt-3.5-turbo")
    assert result.samples[0].score is None


def test_one_missing_field_is_named_alone():
    items = [item(1), item(2, third_turn_demands=float("nan")), item(3, third_turn_demands="  ")]
    judge = FakeJudge(respond=scripted)
    result = convbench.convbench_judge_suite(items, ctx(judge))
    assert result.score is None and not judge.calls
    assert result.reason == ("needs the full ConvBench annotation file (--data-file with the non-public columns): "
                             "missing 'third_turn_demands' in 2 of 3 samples")
    assert result.breakdown["missing_fields"] == {"third_turn_demands": 2}


def test_complete_annotations_without_a_judge():
    result = convbench.convbench_judge_suite([item(1)], ScoringContext())
    assert (result.score, result.reason) == (None, convbench.NO_JUDGE)


def test_judge_failure_is_not_scored():
    def reply(messages: Sequence[ChatMessage]) -> str | Exception:
        return JudgeError("HTTP 500") if "Image context: CAP2\n" in messages[-1]["content"] else "Response A is better"

    result = convbench.convbench_judge_suite(two_conversations(), ctx(FakeJudge(respond=reply)))
    assert result.score is None
    assert result.reason is not None and result.reason.startswith("judge failed for 1 of 2 conversations (first: 2")
    assert result.samples[1].extra["judge_error"] == "HTTP 500"


def test_bad_denominator_is_a_configuration_error():
    with pytest.raises(ValueError, match="denominator"):
        convbench.convbench_judge_suite([item(1)], ctx(FakeJudge(respond=scripted), denominator=0))


# --- robustness -----------------------------------------------------------------------------------------------------

@settings(max_examples=300, deadline=None)
@given(st.text())
def test_verdict_and_rating_parsers_never_crash(text: str):
    assert convbench.phrase_letter(text) in (None, "A", "B")
    assert convbench.final_answer_letter(text) in (None, "A", "B")
    assert convbench.rating_line_letter(text) in (None, "A", "B")
    rating = convbench.parse_rating(text)
    assert rating is None or 1.0 <= rating <= 10.0


@settings(max_examples=50, deadline=None)
@given(st.text(), st.text(), st.text())
def test_message_builders_never_crash(caption: str, answer: str, demands: str):
    conv = Conversation(caption, ("{}", "{0}", answer), (answer, "", "}{"), ("x", answer, "y"), demands)
    for turn in convbench.TURNS:
        assert pairwise_messages(turn, conv, 1, ["a", "b", "c"])[3]["content"].count("Image context:") >= 1


def test_huge_replies():
    text = "Response A is better " * 100_000
    assert convbench.phrase_letter(text) == "A"
    assert convbench.parse_rating("Rating: 5 " * 100_000) == 5.0
    assert convbench.rating_line_letter("Rating:" + " " * 1_000_000) is None
