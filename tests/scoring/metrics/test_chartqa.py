"""ChartQA relaxed accuracy (docs/protocols.md): hand-worked cases from evaluate_vqa.py and VLMEvalKit."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from evalkit.data.sample import Sample
from evalkit.scoring.metrics.chartqa import (
    relaxed_accuracy_suite,
    relaxed_accuracy_vlmevalkit_suite,
    relaxed_internvl,
    relaxed_vlmevalkit,
    split_name,
    to_float,
)
from evalkit.scoring.types import ScoringContext, ScoringItem


def item(index, prediction, answers, split=None, error=None):
    metadata = {} if split is None else {"split": split}
    return ScoringItem(Sample(index, "q", answers=tuple(answers), metadata=metadata), prediction, error)


# --- the Check line: the swapped orientation ----------------------------------------------------------------

def test_check_line_gt_100_prediction_95_2():
    assert relaxed_internvl("95.2", "100") is False  # 4.8 / 95.2 = 0.0504
    assert relaxed_vlmevalkit("95.2", "100") is True  # 4.8 / 100 = 0.048


def test_swapped_the_other_way():
    assert relaxed_internvl("100", "95.2") is True  # 4.8 / 100
    assert relaxed_vlmevalkit("100", "95.2") is False  # 4.8 / 95.2


def test_zero_prediction_only_matches_by_string_under_internvl():
    assert relaxed_internvl("0", "0") is True  # the prediction is 0: falls to "0" == "0"
    assert relaxed_internvl("0.0", "0") is False  # "0.0" != "0"
    assert relaxed_internvl("0", "0.01") is False
    assert relaxed_vlmevalkit("0.0", "0") is False  # the GT is 0: string compare
    assert relaxed_vlmevalkit("0", "0.01") is False  # |0 - 0.01| / 0.01 = 1


def test_unparsable_annotation_under_internvl_falls_back_to_strings():
    # InternVL needs the annotation to parse; VLMEvalKit needs the prediction to parse
    assert relaxed_internvl("12", "twelve") is False
    assert relaxed_vlmevalkit("twelve", "12") is False


# --- to_float ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("text", "value"),
    [("50%", 0.5), ("50%%", 0.5), (" 12 ", 12.0), ("1e3", 1000.0), ("1_000", 1000.0), ("-3.5", -3.5),
     ("1,000", None), ("%", None), ("abc", None), ("", None), ("12 %", 0.12)],
)
def test_to_float(text, value):
    assert to_float(text) == value


def test_to_float_nan():
    result = to_float("nan")
    assert result is not None and math.isnan(result)


def test_percent_against_fraction():
    assert relaxed_vlmevalkit("0.5", "50%") is True
    assert relaxed_internvl("0.5", "50%") is True


def test_nan_is_truthy_and_never_within_tolerance():
    # both parse, nan is truthy, |nan - nan| / nan is nan, nan <= 0.05 is False: no string fallback
    assert relaxed_vlmevalkit("nan", "nan") is False
    assert relaxed_internvl("nan", "nan") is False


def test_strings_lowercase_prediction_stripped_annotation_raw():
    assert relaxed_internvl(" Yes ", "yes") is True
    assert relaxed_vlmevalkit(" Yes ", "yes") is True
    assert relaxed_internvl("yes", " yes") is False
    assert relaxed_vlmevalkit("yes", " yes") is False


def test_five_percent_boundary_is_inclusive():
    assert relaxed_vlmevalkit("105", "100") is True  # exactly 0.05
    assert relaxed_internvl("100", "105") is True  # 5 / 100


@settings(max_examples=300, deadline=None)
@given(st.text(), st.text())
def test_rules_never_crash(prediction, answer):
    assert relaxed_internvl(prediction, answer) in (True, False)
    assert relaxed_vlmevalkit(prediction, answer) in (True, False)


# --- splits and the suites ------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("raw", "name"),
    [("test_human", "test_human"), ("human_test", "test_human"), ("human", "test_human"),
     ("test_augmented", "test_augmented"), ("augmented_test", "test_augmented"), ("other", "other"), (None, None)],
)
def test_split_spellings(raw, name):
    assert split_name(raw) == name


def suite_items():
    return [
        item(0, "95.2", ["100"], "test_human"),  # paper 0, vlmevalkit 1
        item(1, "Blue", ["blue"], "human_test"),  # 1, 1
        item(2, "3", ["3"], "test_augmented"),
        item(3, "4", ["4"], "augmented_test"),
        item(4, "5", ["5"], "test_augmented"),
        item(5, "6", ["6"], "test_augmented", error="crashed"),  # 0, 0
    ]


def test_paper_headline_is_the_mean_of_the_two_splits():
    result = relaxed_accuracy_suite(suite_items(), ScoringContext())
    assert result.breakdown["splits"] == {"test_augmented": 75.0, "test_human": 50.0}
    assert result.score == 62.5
    assert result.breakdown["Overall"] == pytest.approx(4 / 6 * 100, rel=1e-12)
    assert result.breakdown["errors"] == 1
    assert [s.score for s in result.samples] == [0.0, 1.0, 1.0, 1.0, 1.0, 0.0]


def test_vlmevalkit_headline_is_the_pooled_mean():
    result = relaxed_accuracy_vlmevalkit_suite(suite_items(), ScoringContext())
    assert result.breakdown["splits"] == {"test_augmented": 75.0, "test_human": 100.0}
    assert result.score == pytest.approx(5 / 6 * 100, rel=1e-12)


def test_sample_score_is_the_max_over_annotations():
    result = relaxed_accuracy_suite([item(0, "7", ["six", "7.1"], "test_human")], ScoringContext())
    assert result.samples[0].score == 1.0
    assert result.samples[0].extra["hits"] == [0, 1]


def test_without_splits_the_headline_is_the_pooled_mean():
    result = relaxed_accuracy_suite([item(0, "1", ["1"]), item(1, "2", ["3"])], ScoringContext())
    assert result.score == 50.0


def test_hidden_answers():
    result = relaxed_accuracy_suite([item(0, "1", [])], ScoringContext())
    assert result.score is None
    assert result.reason == "answers hidden"
