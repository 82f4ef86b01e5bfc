"""Golden tests for the yes/no extractors, worked out by hand from InternVL ``eval/mme`` and VLMEvalKit ``yorn.py``."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from evalkit.data.sample import Sample
from evalkit.judge.base import JudgeError
from evalkit.scoring.extract.yes_no import (
    TAB_SKIPPED,
    internvl_clean,
    process_punctuation,
    yes_no_internvl,
    yes_no_vlmevalkit,
    yorn_prompt,
)
from evalkit.scoring.types import ScoringContext
from tests.fakes import FakeJudge

SAMPLE = Sample(index="VD_figure_0_0_0_0", question="Is the cat black?", answers=("Yes",))
NO_JUDGE = ScoringContext()


def internvl(reply: str) -> object:
    return yes_no_internvl(reply, SAMPLE, NO_JUDGE).value


# --------------------------------------------------------------------------- InternVL (MME paper)


@pytest.mark.parametrize(("reply", "label"), [
    ("Yes", "yes"), ("No", "no"), ("YES", "yes"), ("no", "no"),
    ("Yes, there is a cat.", "yes"), ("No, there is not.", "no"),
])
def test_internvl_plain_answers(reply: str, label: str) -> None:
    assert internvl(reply) == label


@pytest.mark.parametrize("reply", ["none", "Not really", "Nope", "None of them"])
def test_internvl_none_not_nope_count_as_no(reply: str) -> None:
    # BENCHMARKS §4.6 step 2: "no" inside the first 4 characters, so none/not/nope are no.
    assert internvl(reply) == "no"


def test_internvl_only_the_first_four_characters_count() -> None:
    assert internvl("The answer is yes") == "other"
    assert internvl("I think no") == "other"
    assert internvl("Snow") == "no"  # "snow"[:4] contains "no"


def test_internvl_yes_wins_inside_the_prefix() -> None:
    assert internvl("nyes") == "yes"
    assert internvl("no, yes") == "no"  # "no, "[:4] has no "yes"


def test_internvl_cleaning_order_and_cjk() -> None:
    assert internvl_clean("不是") == "no"  # 不是 → No before 是 → Yes
    assert internvl_clean("是的") == "yes"  # 是 → Yes, lowercased, 的 deleted
    assert internvl_clean("否") == "no"
    assert internvl("是") == "yes"
    assert internvl("不是的") == "no"
    assert internvl("对") == "other"  # deleted entirely: ""


def test_internvl_true_false_are_substrings() -> None:
    assert internvl("True") == "yes"
    assert internvl("FALSE") == "no"
    assert internvl_clean("untrue") == "unyes"
    assert internvl("untrue") == "other"  # "unye" has neither


def test_internvl_newlines_are_removed_before_labelling() -> None:
    assert internvl("ye\ns") == "yes"
    assert internvl("\nno") == "no"


def test_internvl_leading_space_hides_the_answer() -> None:
    assert internvl("  yes") == "other"  # "  ye" has no "yes"


def test_internvl_empty_reply_is_other() -> None:
    assert internvl("") == "other"


def test_internvl_tab_reply_is_skipped() -> None:
    extraction = yes_no_internvl("Yes\tit is", SAMPLE, NO_JUDGE)
    assert extraction.value is None
    assert extraction.method == "none"
    assert extraction.note == TAB_SKIPPED == "tab in reply: skipped by the reference"


def test_internvl_method_is_rule() -> None:
    assert yes_no_internvl("No", SAMPLE, NO_JUDGE).method == "rule"


# --------------------------------------------------------------------------- VLMEvalKit (YOrN)


def vlm(reply: str) -> object:
    return yes_no_vlmevalkit(reply, SAMPLE, NO_JUDGE).value


@pytest.mark.parametrize(("reply", "label"), [
    ("Yes", "Yes"), ("yes.", "Yes"), ("No, it is not.", "No"), ("(No)", "No"), ("The answer is yes!", "Yes"),
    ("NO", "No"),
])
def test_vlmevalkit_words(reply: str, label: str) -> None:
    assert vlm(reply) == label


@pytest.mark.parametrize("reply", ["Yes and no", "yes/no", "none", "not at all", "", "Maybe", "yesno"])
def test_vlmevalkit_unknown_without_judge(reply: str) -> None:
    extraction = yes_no_vlmevalkit(reply, SAMPLE, NO_JUDGE)
    assert (extraction.value, extraction.method) == ("Unknown", "rule")


def test_process_punctuation_space_rule() -> None:
    assert process_punctuation("a, b") == "a b"  # "," next to a space: deleted
    assert process_punctuation("a,b") == "a b"  # else replaced by a space
    assert process_punctuation("x(y)") == "x y "


def test_process_punctuation_digit_comma_deletes_every_mark() -> None:
    assert process_punctuation("1,000(yes)") == "1000yes"
    assert vlm("yes(1,000)") == "Unknown"  # "yes1000" is no word "yes"
    assert vlm("yes (1,000)") == "Yes"


def test_process_punctuation_periods_kept_next_to_digits() -> None:
    assert process_punctuation("3.5 a.b end.") == "3.5 ab end"
    assert process_punctuation("3. .5") == "3. .5"


def test_process_punctuation_removes_at_most_32_periods() -> None:
    assert vlm("." * 31 + " yes.") == "Yes"  # 31 + 1 = 32 removals
    assert vlm("." * 32 + " yes.") == "Unknown"  # the 33rd period stays: "yes."
    assert process_punctuation("." * 40) == "." * 8


def test_vlmevalkit_judge_prompt_bytes() -> None:
    prompt = yorn_prompt("Is the cat black?", "It might be")
    head = (
        "You are an AI assistant who will help me to match an answer with two options of a question. "
        "The options are only Yes / No. You are provided with a question and an answer, and you need to find "
        "which option (Yes / No) is most similar to the answer. If the meaning of all options are significantly "
        "different from the answer, output Unknown. Your should output a single word among the following 3 "
        "choices: Yes, No, Unknown.\nExample 1: \nQuestion: Is the word in this image 'Hello'?\nAnswer: The word "
        "in this image is 'Hello'.\nYour output: Yes\nExample 2: \n")
    middle = ("Question: Is the word in this image 'Hello'?\nAnswer: The word in this image is not 'Hello'.\n"
              "Your output: No\n")
    tail = "Example 3: \nQuestion: Is the cat black??\nAnswer: It might be\nYour output: "
    assert prompt == head + middle + tail


def test_vlmevalkit_unknown_goes_to_the_judge() -> None:
    judge = FakeJudge(["No."])
    extraction = yes_no_vlmevalkit("It might be", SAMPLE, ScoringContext(judge=judge))
    assert (extraction.value, extraction.method) == ("No", "judge")
    messages, temperature, max_tokens = judge.calls[0]
    assert messages == [{"role": "user", "content": yorn_prompt("Is the cat black?", "It might be")}]
    assert (temperature, max_tokens) == (0.0, 1024)


def test_vlmevalkit_judge_retries_with_rising_temperature() -> None:
    judge = FakeJudge(["Unknown", "I cannot tell", "Yes"])
    extraction = yes_no_vlmevalkit("hmm", SAMPLE, ScoringContext(judge=judge))
    assert extraction.value == "Yes"
    assert [call[1] for call in judge.calls] == [0.0, 0.5, 1.0]


def test_vlmevalkit_judge_unknown_five_times() -> None:
    judge = FakeJudge(["Unknown"])
    extraction = yes_no_vlmevalkit("hmm", SAMPLE, ScoringContext(judge=judge))
    assert (extraction.value, extraction.method) == ("Unknown", "judge")
    assert [call[1] for call in judge.calls] == [0.0, 0.5, 1.0, 1.5, 2.0]


def test_vlmevalkit_judge_failure_is_not_extracted() -> None:
    judge = FakeJudge([JudgeError("timeout")])
    extraction = yes_no_vlmevalkit("hmm", SAMPLE, ScoringContext(judge=judge))
    assert extraction.value is None
    assert extraction.method == "none"
    assert extraction.note == "judge failed: timeout"
    assert len(judge.calls) == 5


def test_vlmevalkit_judge_failure_then_answer() -> None:
    judge = FakeJudge([JudgeError("rate limit"), "No"])
    assert yes_no_vlmevalkit("hmm", SAMPLE, ScoringContext(judge=judge)).value == "No"


def test_vlmevalkit_rules_never_call_the_judge() -> None:
    judge = FakeJudge(["No"])
    assert yes_no_vlmevalkit("Yes.", SAMPLE, ScoringContext(judge=judge)).value == "Yes"
    assert judge.calls == []


# --------------------------------------------------------------------------- no input crashes

EXTRACTORS: list[Callable[..., object]] = [yes_no_internvl, yes_no_vlmevalkit]


@settings(max_examples=300)
@given(st.text())
def test_no_text_crashes_the_extractors(reply: str) -> None:
    assert yes_no_internvl(reply, SAMPLE, NO_JUDGE).value in ("yes", "no", "other", None)
    assert yes_no_vlmevalkit(reply, SAMPLE, NO_JUDGE).value in ("Yes", "No", "Unknown")


@pytest.mark.parametrize("reply", ["", "\t", "\x00", "是" * 100_000, "yes " * 50_000, "\ud800", "\u2028no"])
def test_edge_inputs(reply: str) -> None:
    for extractor in EXTRACTORS:
        extractor(reply, SAMPLE, NO_JUDGE)
