"""Golden tests for HallusionBench (VLMEvalKit ``Hallusion_rating``), worked out by hand."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from evalkit.data.sample import Sample
from evalkit.scoring.extract.yes_no import yes_no_vlmevalkit
from evalkit.scoring.metrics.hallusion import hallusion_suite, headline, index_fields
from evalkit.scoring.types import Extraction, ScoringContext, ScoringItem

CTX = ScoringContext()
Row = tuple[str, int, int, int, str, str]  # l2-category, set, figure, question, answer, reply


def items(rows: Sequence[Row], *, errors: Sequence[int] = ()) -> list[ScoringItem]:
    result = []
    for i, (l2, set_id, figure_id, question_id, answer, reply) in enumerate(rows):
        sample = Sample(index=f"{l2}_0_{set_id}_{figure_id}_{question_id}", question="Is it so?",
                        answers=(answer,) if answer else (),
                        metadata={"category": l2.split("_")[0], "l2-category": l2})
        if i in errors:
            result.append(ScoringItem(sample, "", "timeout", Extraction(None, "error")))
        else:
            result.append(ScoringItem(sample, reply, None, yes_no_vlmevalkit(reply, sample, CTX)))
    return result


# VD_figure set 0: figures 0 and 1 × questions 0 and 1; (f1, q0) wrong. VS_chart set 1: q1 wrong.
ROWS: list[Row] = [
    ("VD_figure", 0, 0, 0, "Yes", "Yes"),
    ("VD_figure", 0, 0, 1, "Yes", "Yes."),
    ("VD_figure", 0, 1, 0, "No", "Yes"),
    ("VD_figure", 0, 1, 1, "No", "No"),
    ("VS_chart", 1, 0, 0, "Yes", "yes"),
    ("VS_chart", 1, 0, 1, "No", "Yes"),
]


def test_three_accuracies_and_their_mean() -> None:
    result = hallusion_suite(items(ROWS), CTX)
    # aAcc: 4 of 6. fAcc groups: VD_figure_0_0 right, VD_figure_0_1 wrong, VS_chart_1_0 wrong → 1/3.
    # qAcc groups: VD_figure_0_0 (f0 right, f1 wrong) wrong, VD_figure_0_1 right, VS_chart_1_0 right,
    # VS_chart_1_1 wrong → 2/4.
    assert result.breakdown["aAcc"] == pytest.approx(400 / 6)
    assert result.breakdown["fAcc"] == pytest.approx(100 / 3)
    assert result.breakdown["qAcc"] == 50.0
    assert result.score == pytest.approx((400 / 6 + 100 / 3 + 50) / 3)
    assert result.score == pytest.approx(50.0)
    assert result.metric == "hallusion"


def test_paper_headline_arithmetic() -> None:
    # BENCHMARKS §4.13: InternVL 1.5, (66.771819 + 40.173410 + 40.879121) / 3 = 49.27.
    assert round(headline(66.771819, 40.173410, 40.879121), 2) == 49.27
    # The same numbers as shares: 635/951 questions, 139/346 figures, 186/455 question groups.
    assert round(headline(100 * 635 / 951, 100 * 139 / 346, 100 * 186 / 455), 2) == 49.27


def test_splits_are_computed_within_each_subset() -> None:
    splits = hallusion_suite(items(ROWS), CTX).breakdown["splits"]
    assert splits["VD"] == {"aAcc": 75.0, "fAcc": 50.0, "qAcc": 50.0, "n": 4}
    assert splits["VS"] == {"aAcc": 50.0, "fAcc": 0.0, "qAcc": 50.0, "n": 2}
    assert splits["VD_figure"] == splits["VD"]
    assert splits["VS_chart"] == splits["VS"]


def test_groups_are_keyed_by_l2_category_and_set() -> None:
    rows: list[Row] = [
        ("VD_ocr", 0, 0, 0, "Yes", "Yes"),
        ("VD_math", 0, 0, 0, "Yes", "No"),  # same set/figure/question ids, other l2-category
        ("VD_ocr", 1, 0, 0, "No", "No"),  # same figure/question ids, other set
    ]
    result = hallusion_suite(items(rows), CTX)
    assert result.breakdown["fAcc"] == pytest.approx(200 / 3)
    assert result.breakdown["qAcc"] == pytest.approx(200 / 3)


def test_index_fields_3_4_5() -> None:
    assert index_fields("VD_figure_0_12_3_1") == ("12", "3", "1")
    assert index_fields("VS_chart_1_2_3") is None
    assert index_fields(17) is None


def test_short_index_is_not_scored() -> None:
    sample = Sample(index="VD_7", question="Q", answers=("Yes",), metadata={"l2-category": "VD_figure"})
    result = hallusion_suite([ScoringItem(sample, "Yes", None, Extraction("Yes"))], CTX)
    assert result.score is None
    assert result.reason is not None and "'VD_7'" in result.reason


def test_unknown_and_case_mismatch_are_wrong() -> None:
    rows: list[Row] = [("VD_figure", 0, 0, 0, "Yes", "Yes or no"), ("VD_figure", 0, 0, 1, "yes", "Yes")]
    result = hallusion_suite(items(rows), CTX)
    assert result.breakdown["aAcc"] == 0.0
    assert result.breakdown["unknown"] == 1
    assert [s.score for s in result.samples] == [0.0, 0.0]


def test_inference_error_scores_zero() -> None:
    result = hallusion_suite(items(ROWS, errors=[0]), CTX)
    assert result.breakdown["errors"] == 1
    assert result.breakdown["aAcc"] == 50.0
    assert (result.samples[0].score, result.samples[0].method) == (0.0, "error")


def test_sample_details_name_their_groups() -> None:
    first = hallusion_suite(items(ROWS), CTX).samples[0]
    assert first.extra == {"figure_group": "VD_figure_0_0", "question_group": "VD_figure_0_0"}
    assert (first.extracted, first.score, first.method) == ("Yes", 1.0, "rule")


def test_hidden_answers_are_not_scored() -> None:
    rows: list[Row] = [("VD_figure", 0, 0, 0, "", "Yes")]
    result = hallusion_suite(items(rows), CTX)
    assert (result.score, result.reason) == (None, "answers hidden")
