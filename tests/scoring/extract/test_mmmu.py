"""Golden tests for the MMMU paper extractor, worked out by hand from MMMU's eval_utils.py."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from evalkit.data.sample import Sample
from evalkit.scoring.extract.mmmu import (
    extract_numbers,
    is_multiple_choice,
    key_subresponses,
    mmmu,
    normalize_str,
    parse_open_response,
)
from evalkit.scoring.types import ScoringContext

CTX = ScoringContext()


def open_question(answer: str = "42", **metadata: object) -> Sample:
    return Sample(index="validation_Math_1", question="<image 1> How many?", answers=(answer,), metadata=metadata)


def mcq(options: tuple[tuple[str, str], ...] = (("A", " 12 cm² "), ("B", "24 cm²"))) -> Sample:
    return Sample(index=1, question="<image 1> Area?", options=options, answers=("A",))


def test_answer_is_keeps_the_shortest_tail_and_its_number():
    # "the answer is 42": tails "is 42" (answer ) and "42" (is ) → "42" → 42.0, twice, deduplicated.
    assert parse_open_response("The answer is 42.") == [42.0]


def test_equals_sign_and_thousands_commas():
    # Only "=" matches (last piece); numbers: "3,000" (commas), "000" (simple: "3" is followed by a comma).
    assert parse_open_response("x = 3,000 apples") == ["3,000 apples", 3000.0, 0.0]


def test_one_character_reply_becomes_the_padded_pair():
    assert parse_open_response("B") == [" b", "b "]


def test_only_newlines_split_because_the_text_is_lowercased_first():
    # Lowercased, ". T" no longer splits: one piece whose shortest tail is "6", so 5 is never a candidate.
    assert parse_open_response("It is 5. The answer is 6") == [6.0]
    assert key_subresponses("Let me think.\nSo the result is 7 m") == ["7 m"]
    assert parse_open_response("Let me think.\nSo the result is 7 m") == ["7 m", 7.0]


def test_equals_counts_only_in_the_last_piece():
    assert key_subresponses("a = 1\nno key here") == ["a = 1\nno key here"]
    assert key_subresponses("no key here\na = 1") == ["1"]


def test_empty_tail_falls_back_to_the_whole_response():
    # strip → "the value is ." → strip(".") → "the value is " : the tail after "is " is "" (falsy).
    assert key_subresponses("The value is .") == ["the value is "]
    assert parse_open_response("The value is .") == ["the value is"]


def test_trivial_tails_are_dropped():
    assert key_subresponses("so ;") == ["so ;"]


def test_normalize_str():
    assert normalize_str(" 1,234.567 ") == [1234.57]
    assert normalize_str("Paris") == ["paris"]
    assert normalize_str("X") == [" x", "x "]
    assert normalize_str("1e3") == [1000.0]
    (value,) = normalize_str("nan")
    assert isinstance(value, float) and math.isnan(value)


def test_extract_numbers_order_and_overlaps():
    # Commas, then scientific, then "simple" numbers, which also pick up fragments: "000" (after "1,"),
    # "2" (the "2." of 2.5e3, since 2.5 is followed by e3) and "3" (the exponent).
    assert extract_numbers("1,000 and 2.5e3 and -7.5") == ["1,000", "2.5e3", "000", "2", "3", "-7.5"]


def test_mcq_uses_the_post_process_with_stripped_options():
    assert mmmu("12 cm²", mcq(), CTX).value == "A"
    assert mmmu("B.", mcq(), CTX).value == "B"
    assert mmmu("", mcq(), CTX).value == ""


def test_open_question_is_parsed_unstripped():
    extraction = mmmu("So the answer is 42\n", open_question(), CTX)
    assert (extraction.value, extraction.method) == ([42.0], "rule")


def test_question_type_field_wins_over_options():
    assert is_multiple_choice(open_question(question_type="multiple-choice"))
    assert not is_multiple_choice(open_question())
    assert is_multiple_choice(mcq())
    assert mmmu("  B  ", open_question(question_type="multiple-choice"), CTX).value == "  B  "


@settings(max_examples=200, deadline=None)
@given(reply=st.text())
def test_no_reply_crashes_the_extractor(reply):
    assert isinstance(mmmu(reply, open_question(), CTX).value, list)
    assert isinstance(mmmu(reply, mcq(), CTX).value, str)


@pytest.mark.parametrize("reply", ["", "\n\n", "=" * 10_000, "1," * 100_000, "9" * 5_000, "1e999", "is " * 50_000])
def test_extreme_replies(reply):
    mmmu(reply, open_question(), CTX)
