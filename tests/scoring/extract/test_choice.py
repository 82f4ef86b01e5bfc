"""Golden tests for the multiple-choice extractors, worked out by hand from the reference code."""

from __future__ import annotations

import random
from collections.abc import Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from evalkit.data.sample import Sample
from evalkit.judge.base import JudgeError
from evalkit.scoring.extract import choice
from evalkit.scoring.extract.choice import match_2404, match_head, post_process
from evalkit.scoring.extract.choice_judge import PROMPT_CN, PROMPT_EN, build_prompt, random_letter
from evalkit.scoring.types import ScoringContext
from tests.fakes import FakeJudge

ANIMALS = (("A", "cat"), ("B", "dog"), ("C", "cow"), ("D", "pig"))
NO_JUDGE = ScoringContext()


def make(options: Sequence[tuple[str, str]] = ANIMALS, answers: Sequence[str] = ("A",), question: str = "What is it",
         index: int = 7) -> Sample:
    return Sample(index=index, question=question, options=tuple(options), answers=tuple(answers))


CHOICES = dict(ANIMALS)


# --------------------------------------------------------------------------- can_infer, both commits


@pytest.mark.parametrize("matcher", [match_2404, match_head])
def test_single_letter_token_after_punctuation_is_replaced(matcher):
    # "(B)." → tokens ["The", "answer", "is", "B"]: exactly one option letter.
    assert matcher("The answer is (B).", CHOICES) == "B"


@pytest.mark.parametrize("matcher", [match_2404, match_head])
def test_two_letters_and_no_text_find_nothing(matcher):
    assert matcher("A or B", CHOICES) is None


@pytest.mark.parametrize("matcher", [match_2404, match_head])
@pytest.mark.parametrize("refusal", choice.REFUSALS)
def test_refusal_strings_give_z(matcher, refusal):
    assert matcher(f"Well. {refusal} B", CHOICES) == "Z"


@pytest.mark.parametrize("matcher", [match_2404, match_head])
def test_lone_z_token_gives_z_but_not_when_a_letter_is_present(matcher):
    assert matcher("Z", CHOICES) == "Z"
    assert matcher("Z A", CHOICES) == "A"


@pytest.mark.parametrize("matcher", [match_2404, match_head])
def test_api_failure_skips_letters_but_still_tries_the_text(matcher):
    # can_infer_option returns False, can_infer returns can_infer_text's answer.
    assert matcher("Failed to obtain answer via API. B", CHOICES) is None
    assert matcher("Failed to obtain answer via API cat", {"A": "cat", "B": "Failed to obtain answer via API!"}) \
        == "A"


@pytest.mark.parametrize("matcher", [match_2404, match_head])
def test_text_fallback_needs_exactly_one_option_text(matcher):
    assert matcher("it is a cat", CHOICES) == "A"  # lowercase "a" is not the letter A
    assert matcher("cat or dog", CHOICES) is None


@pytest.mark.parametrize("matcher", [match_2404, match_head])
def test_letters_outside_the_options_do_not_count(matcher):
    assert matcher("E", CHOICES) is None


def test_2404_takes_the_lone_letter_anywhere():
    reply = "B is correct because the image shows a large red apple on the table"
    assert match_2404(reply, {"A": "apple", "B": "pear", "C": "plum", "D": "fig"}) == "B"


def test_head_requires_the_lone_letter_among_the_last_4_tokens():
    choices = {"A": "apple", "B": "pear", "C": "plum", "D": "fig"}
    # 14 tokens, B at 0: 0 > 14 - 5 fails; no "answer is"; the reply (67 chars) exceeds 2 * 16.
    assert match_head("B is correct because the image shows a large red apple on the table", choices) is None
    # 4 tokens: 0 > -1 holds; 5 tokens: 0 > 0 fails, and the text step finds no option text.
    assert match_head("A is the best", CHOICES) == "A"
    assert match_head("A is the best choice", CHOICES) is None
    assert match_head("So I pick B", CHOICES) == "B"


def test_head_answer_is_regex_resolves_two_letters():
    reply = "Option A is wrong; the correct answer is B, definitely, as shown clearly in the image"
    choices = {"A": "apple", "B": "pear", "C": "plum", "D": "fig"}
    assert match_2404(reply, choices) is None
    assert match_head(reply, choices) == "B"


def test_head_answer_is_regex_is_case_insensitive_quirk():
    # (?i) lets "answer is a dog" read as option A; 2024-04 finds the option text "dog" instead.
    assert match_head("the answer is a dog", CHOICES) == "A"
    assert match_2404("the answer is a dog", CHOICES) == "B"


def test_head_answer_is_regex_only_knows_a_to_d():
    choices = {"A": "one", "B": "two", "C": "three", "D": "four", "E": "five"}
    reply = "Between B and E I am sure the answer is E and nothing else at all here"
    assert match_head(reply, choices) is None
    assert match_head("the answer is **C** and B is wrong for sure right now", choices) == "C"


def test_head_text_fallback_length_guard():
    choices = {"A": "cat", "B": "dog"}  # total 6 → replies longer than 12 characters skip the text step
    assert match_head("it is a cat.", choices) == "A"  # 12 characters
    assert match_head("it is a cat!!", choices) is None  # 13 characters
    assert match_2404("well, I would say that it is a cat", choices) == "A"


# --------------------------------------------------------------------------- the card extractors


def test_raw_keeps_the_reply():
    assert choice.raw("  B. \n", make(), NO_JUDGE).value == "  B. \n"


def test_exact_letter_strips_and_marks_the_caseless_comparison():
    extraction = choice.exact_letter(" b \n", make(), NO_JUDGE)
    assert (extraction.value, extraction.method, extraction.note) == ("b", "rule", choice.CASELESS)


@pytest.mark.parametrize(("reply", "value"), [("B", "B"), ("B.", "B"), (" B", " "), ("Because", "B"), ("", "")])
def test_first_character(reply, value):
    assert choice.first_character(reply, make(), NO_JUDGE).value == value


@pytest.mark.parametrize(
    ("reply", "value"),
    [
        (" B \n", "B"),  # length 1 after the strip
        ("x", "x"),  # length 1 is kept even when it is not an option
        ("B. dog", "B"),  # first character is an option letter
        ("Apple", "A"),  # quirk: the first character of a word counts as the letter
        ("The cow", "C"),  # first option whose text is a substring
        ("I see a dog and a cat", "A"),  # quirk: the first option in letter order wins, not the first mention
        ("Nothing here", "Nothing here"),  # the stripped reply
        ("  ", ""),  # the reference crashes on pred[0]
    ],
)
def test_letter_postprocess(reply, value):
    assert choice.letter_postprocess(reply, make(), NO_JUDGE).value == value


def test_post_process_uses_the_options_as_given():
    assert post_process("a cat", (("A", " cat "), ("B", "dog"))) == "a cat"
    assert post_process("a cat", (("A", "cat"), ("B", "dog"))) == "A"


def test_can_infer_without_judge_gives_none():
    extraction = choice.can_infer_2404("no idea", make(), NO_JUDGE)
    assert (extraction.value, extraction.method) == (None, "none")
    assert choice.can_infer_head("I pick C", make(), NO_JUDGE).value == "C"


def test_open_as_choice_builds_gt_and_other_answers():
    ctx = ScoringContext(options={"open_as_choice": True})
    sample = make(options=(), answers=("42",))
    assert choice.sample_choices(sample, ctx) == {"A": "42", "B": "Other Answers"}
    assert choice.can_infer_head("42", sample, ctx).value == "A"
    assert choice.can_infer_head("B", sample, ctx).value == "B"
    assert choice.sample_choices(sample, NO_JUDGE) == {}


# --------------------------------------------------------------------------- the judge fallback


def test_judge_prompt_is_vlmevalkits_english_template():
    prompt = build_prompt("What is it", {"A": "cat", "B": "dog"}, "a feline")
    assert prompt == (
        "You are an AI assistant who will help me to match an answer with several options of a single-choice "
        "question. You are provided with a question, several options, and an answer, and you need to find which "
        "option is most similar to the answer. If the meaning of all options are significantly different from the "
        "answer, output Z. Your should output a single uppercase character in A, B, C, D (if they are valid "
        "options), and Z. \nExample 1: \nQuestion: What is the main object in image?\nOptions: A. teddy bear "
        "B. rabbit C. cat D. dog\nAnswer: a cute teddy bear\nYour output: A\nExample 2: \nQuestion: What is the "
        "main object in image?\nOptions: A. teddy bear B. rabbit C. cat D. dog\nAnswer: Spider\nYour output: Z\n"
        "Example 3: \nQuestion: What is it?\nOptions: There are several options: \nA. cat\nB. dog\n\n"
        "Answer: a feline\nYour output: "
    )


def test_judge_prompt_is_chinese_when_the_question_has_cjk():
    prompt = build_prompt("这是什么?", {"A": "猫"}, "猫咪")
    assert prompt.startswith("你是一个帮助我匹配答案与单选题中多个选项的 AI 助手。")
    assert prompt.endswith("例 3: \n问题: 这是什么??\n选项: There are several options: \nA. 猫\n\n答案: 猫咪\n输出: ")
    assert PROMPT_CN.count("{}") == PROMPT_EN.count("{}") == 3


def test_judge_resolves_what_the_rules_cannot():
    judge = FakeJudge(["B"])
    sample = make()
    extraction = choice.can_infer_2404("a canine", sample, ScoringContext(judge=judge))
    assert (extraction.value, extraction.method) == ("B", "judge")
    assert len(judge.calls) == 1
    messages, temperature, _ = judge.calls[0]
    assert messages == [{"role": "user", "content": build_prompt("What is it", CHOICES, "a canine")}]
    assert temperature == 0.0


def test_judge_is_not_asked_when_the_rules_decide():
    judge = FakeJudge(["B"])
    assert choice.can_infer_head("C", make(), ScoringContext(judge=judge)).value == "C"
    assert judge.calls == []


def test_judge_retries_after_an_error_and_an_unreadable_reply():
    judge = FakeJudge([JudgeError("timeout"), "I cannot say", "D"])
    extraction = choice.can_infer_head("hmm", make(), ScoringContext(judge=judge))
    assert (extraction.value, extraction.method, len(judge.calls)) == ("D", "judge", 3)


def test_three_failures_give_the_seeded_random_draw():
    sample = make(index=123)
    expected = random.Random("5:123").choice(["A", "B", "C", "D", "Z"])
    draws = set()
    for _ in range(3):
        judge = FakeJudge([JudgeError("down")])
        extraction = choice.can_infer_2404("hmm", sample, ScoringContext(judge=judge, seed=5))
        assert extraction.method == "random"
        assert len(judge.calls) == 3
        draws.add(extraction.value)
    assert draws == {expected}


def test_api_failure_replies_count_as_failed_tries():
    judge = FakeJudge(["Failed to obtain answer via API"])
    extraction = choice.can_infer_2404("hmm", make(index=9), ScoringContext(judge=judge))
    assert extraction.method == "random"
    assert extraction.value == random.Random("0:9").choice(["A", "B", "C", "D", "Z"])
    assert len(judge.calls) == 3


def test_random_draw_is_over_the_letters_when_z_is_an_option():
    sample = make(options=(("Y", "yes"), ("Z", "zed")), index=1)
    assert random_letter(sample, {"Y": "yes", "Z": "zed"}, 0) == random.Random("0:1").choice(["Y", "Z"])


# --------------------------------------------------------------------------- no input crashes an extractor

EXTRACTORS = [choice.raw, choice.exact_letter, choice.first_character, choice.letter_postprocess,
              choice.can_infer_2404, choice.can_infer_head]


@settings(max_examples=200, deadline=None)
@given(reply=st.text(), options=st.lists(st.text(min_size=1, max_size=8), max_size=5))
def test_no_reply_crashes_an_extractor(reply, options):
    sample = make(options=tuple(zip("ABCDE", options, strict=False)))
    for extractor in EXTRACTORS:
        extraction = extractor(reply, sample, NO_JUDGE)
        assert extraction.method in ("rule", "none")


@settings(max_examples=100, deadline=None)
@given(reply=st.text(), judge_reply=st.text())
def test_matchers_return_an_option_letter_z_or_none(reply, judge_reply):
    for matcher in (match_2404, match_head):
        assert matcher(reply, CHOICES) in (None, "A", "B", "C", "D", "Z")
    extraction = choice.can_infer_head(reply, make(), ScoringContext(judge=FakeJudge([judge_reply])))
    assert extraction.value in (None, "A", "B", "C", "D", "Z")


@pytest.mark.parametrize("reply", ["", " ", "\x00", "A" * 1_000_000, "猫 " * 200_000, "\U0001f600" * 1000])
def test_extreme_replies(reply):
    for extractor in EXTRACTORS:
        extractor(reply, make(), NO_JUDGE)
