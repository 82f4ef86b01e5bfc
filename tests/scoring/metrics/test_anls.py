"""ANLS (docs/protocols.md, "DocVQA"): golden values worked out by hand from infographicsvqa_eval.py / anls_compute."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from evalkit.data.sample import Sample
from evalkit.scoring.metrics.anls import anls, anls_suite, levenshtein
from evalkit.scoring.types import Extraction, ScoringContext, ScoringItem


def item(index, prediction, answers, error=None, **metadata):
    return ScoringItem(Sample(index, "q", answers=tuple(answers), metadata=metadata), prediction, error)


def naive_levenshtein(first: str, second: str) -> int:
    rows = [[0] * (len(second) + 1) for _ in range(len(first) + 1)]
    for i in range(len(first) + 1):
        rows[i][0] = i
    for j in range(len(second) + 1):
        rows[0][j] = j
    for i in range(1, len(first) + 1):
        for j in range(1, len(second) + 1):
            cost = 0 if first[i - 1] == second[j - 1] else 1
            rows[i][j] = min(rows[i - 1][j] + 1, rows[i][j - 1] + 1, rows[i - 1][j - 1] + cost)
    return rows[-1][-1]


def naive_anls(prediction: str, answers: list[str]) -> float:
    values = []
    for answer in answers:
        g = " ".join(answer.strip().lower().split())
        p = " ".join(prediction.strip().lower().split())
        length = max(len(answer.upper()), len(prediction.upper()))
        values.append(0.0 if length == 0 else float(naive_levenshtein(g, p)) / float(length))
    score = 1 - min(values)
    return 0.0 if score < 0.5 else score


# --- the Check line and the denominator quirk -------------------------------------------------------------

def test_check_line_raw_denominator():
    # d("abc", "abcd") = 1; L = max(len("ABC"), len("ABCD  ")) = 6 -> 1 - 1/6
    assert anls("abcd  ", ["abc"]) == 1 - 1 / 6
    assert round(anls("abcd  ", ["abc"]), 4) == 0.8333


def test_normalised_denominator_option_gives_three_quarters():
    assert anls("abcd  ", ["abc"], denominator="normalised") == 0.75


def test_upper_turns_sharp_s_into_two_letters():
    # d("ß", "s") = 1; L = max(len("SS"), len("S")) = 2 -> exactly 0.5, which is kept
    assert anls("s", ["ß"]) == 0.5
    assert anls("s", ["ß"], denominator="normalised") == 0.0


# --- threshold -------------------------------------------------------------------------------------------

def test_exactly_one_half_is_kept():
    assert anls("ax", ["ab"]) == 0.5


def test_below_one_half_becomes_zero():
    assert anls("axy", ["abc"]) == 0.0  # 1 - 2/3
    assert anls("abcxxxx", ["abcdefg"]) == 0.0  # 1 - 4/7


def test_just_above_one_half():
    assert anls("abcdxxx", ["abcdefg"]) == 1 - 3 / 7


# --- normalisation and the minimum over answers ----------------------------------------------------------

def test_case_and_whitespace_are_normalised_for_the_distance():
    # distance 0, so the raw lengths do not matter
    assert anls("  Hello   World ", ["hello world"]) == 1.0


def test_best_answer_counts():
    assert anls("june 2", ["2 June", "June 2", "jun 2"]) == 1.0
    assert anls("jun 2", ["2 June", "June 3"]) == 1 - 2 / 6


def test_empty_strings():
    assert anls("", [""]) == 1.0  # L = 0 -> NL = 0
    assert anls("", ["abc"]) == 0.0
    assert anls("abc", [""]) == 0.0


def test_no_answers_is_an_error():
    with pytest.raises(ValueError):
        anls("x", [])


# --- levenshtein --------------------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("first", "second", "distance"),
    [("kitten", "sitting", 3), ("", "abc", 3), ("abc", "", 3), ("same", "same", 0), ("flaw", "lawn", 2),
     ("ab", "ba", 2), ("abcdef", "azced", 3), ("a" * 70, "b" * 70, 70), ("x" + "a" * 100, "a" * 100 + "x", 2)],
)
def test_levenshtein_known_values(first, second, distance):
    assert levenshtein(first, second) == distance
    assert levenshtein(second, first) == distance


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet="abcß d", max_size=30), st.text(alphabet="abcß d", max_size=30))
def test_levenshtein_equals_full_matrix(first, second):
    assert levenshtein(first, second) == naive_levenshtein(first, second)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="aAbB ßİ\t", max_size=12), st.lists(st.text(alphabet="aAbB ßİ\t", max_size=12),
                                                             min_size=1, max_size=4))
def test_anls_equals_the_reference_formula(prediction, answers):
    assert anls(prediction, answers) == naive_anls(prediction, answers)


@settings(max_examples=200, deadline=None)
@given(st.text(), st.lists(st.text(), min_size=1, max_size=3))
def test_anls_never_crashes_and_stays_in_range(prediction, answers):
    value = anls(prediction, answers)
    assert value == 0.0 or 0.5 <= value <= 1.0


def test_anls_huge_strings():
    assert anls("a" * 20000, ["a" * 19999 + "b"]) == 1 - 1 / 20000
    assert anls("a" * 20000, ["b"]) == 0.0


# --- the suite ---------------------------------------------------------------------------------------------

def test_suite_mean_times_100_with_error_and_categories():
    items = [
        item(1, "abc", ["abc"], category="figure"),  # 1
        item(2, "ax", ["ab"], category="figure"),  # 0.5
        item(3, "zzz", ["abc"], category="table"),  # 0
        item(4, "abc", ["abc"], error="CUDA out of memory", category="table"),  # error -> 0
    ]
    result = anls_suite(items, ScoringContext())
    assert result.metric == "anls"
    assert result.score == 1.5 / 4 * 100
    assert result.n == 4
    assert result.breakdown["errors"] == 1
    assert result.breakdown["category"] == {"figure": 75.0, "table": 0.0}
    assert [s.score for s in result.samples] == [1.0, 0.5, 0.0, 0.0]
    assert result.samples[3].method == "error"
    assert [s.index for s in result.samples] == [1, 2, 3, 4]


def test_suite_uses_the_extracted_string_when_there_is_one():
    scored = ScoringItem(Sample(1, "q", answers=("abc",)), "The answer is abc", None, Extraction("abc", "rule"))
    assert anls_suite([scored], ScoringContext()).score == 100.0


def test_suite_option_normalised():
    result = anls_suite([item(1, "abcd  ", ["abc"])], ScoringContext(options={"anls_denominator": "normalised"}))
    assert result.score == 75.0
    with pytest.raises(ValueError):
        anls_suite([item(1, "a", ["a"])], ScoringContext(options={"anls_denominator": "weird"}))


def test_hidden_answers_are_not_scored():
    result = anls_suite([item(1, "abc", []), item(2, "x", [])], ScoringContext())
    assert result.score is None
    assert result.reason == "answers hidden"
    assert [s.score for s in result.samples] == [None, None]


def test_empty_suite_is_not_scored():
    assert anls_suite([], ScoringContext()).score is None


def test_a_sample_without_answers_is_left_out_not_zero():
    result = anls_suite([item(1, "abc", ["abc"]), item(2, "abc", [])], ScoringContext())
    assert result.score == 100.0
    assert result.breakdown["no_ground_truth"] == 1
    assert result.samples[1].score is None
