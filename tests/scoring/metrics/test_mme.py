"""Golden tests for MME (paper: InternVL ``calculation.py``; VLMEvalKit: ``MME_rating``), worked out by hand."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from evalkit.data.sample import Sample
from evalkit.scoring.extract.yes_no import yes_no_internvl, yes_no_vlmevalkit
from evalkit.scoring.metrics.mme import COGNITION, PERCEPTION, mme_suite, mme_vlmevalkit_suite
from evalkit.scoring.types import Extraction, ScoringContext, ScoringItem

CTX = ScoringContext()
Row = tuple[str, str, str, str]  # category, image_path, answer, reply


def items(rows: Sequence[Row], *, vlmevalkit: bool = False, errors: Sequence[int] = ()) -> list[ScoringItem]:
    extractor = yes_no_vlmevalkit if vlmevalkit else yes_no_internvl
    result = []
    for i, (category, image, answer, reply) in enumerate(rows):
        metadata = {"category": category, "image_path": image} if image else {"category": category}
        sample = Sample(index=i, question="Is there a cat? Please answer yes or no.",
                        answers=(answer,) if answer else (), metadata=metadata)
        if i in errors:
            result.append(ScoringItem(sample, "", "CUDA out of memory", Extraction(None, "error")))
        else:
            result.append(ScoringItem(sample, reply, None, extractor(reply, sample, CTX)))
    return result


EXISTENCE: list[Row] = [
    ("existence", "e/1.jpg", "Yes", "Yes"), ("existence", "e/1.jpg", "No", "No"),  # image 1: both right
    ("existence", "e/2.jpg", "Yes", "Yes"), ("existence", "e/2.jpg", "No", "Yes"),  # image 2: one right
]
CODE: list[Row] = [("code_reasoning", "c/1.png", "Yes", "yes"), ("code_reasoning", "c/1.png", "No", "no")]


def test_subtask_score_is_100_acc_plus_100_acc_plus() -> None:
    result = mme_suite(items(EXISTENCE + CODE), CTX)
    existence = result.breakdown["subtasks"]["existence"]
    assert existence["acc"] == 75.0  # 3 of 4 questions
    assert existence["acc_plus"] == 50.0  # 1 of 2 images
    assert existence["score"] == 125.0
    assert result.breakdown["subtasks"]["code_reasoning"]["score"] == 200.0
    assert result.breakdown["perception"] == 125.0
    assert result.breakdown["cognition"] == 200.0
    assert result.score == 325.0
    assert result.metric == "mme"
    assert [s.score for s in result.samples] == [1.0, 1.0, 1.0, 0.0, 1.0, 1.0]


def test_missing_subtasks_are_listed() -> None:
    result = mme_suite(items(EXISTENCE), CTX)
    missing = result.breakdown["missing_subtasks"]
    assert len(missing) == 13
    assert "existence" not in missing
    assert missing[-1] == "code_reasoning"


def test_sums_cover_the_ten_and_the_four() -> None:
    rows: list[Row] = []
    for name in (*PERCEPTION, *COGNITION):
        rows += [(name, f"{name}.jpg", "Yes", "Yes"), (name, f"{name}.jpg", "No", "No")]
    result = mme_suite(items(rows), CTX)
    assert result.breakdown["perception"] == 2000.0
    assert result.breakdown["cognition"] == 800.0
    assert result.score == 2800.0
    assert result.breakdown["missing_subtasks"] == []


def test_other_counts_wrong() -> None:
    rows: list[Row] = [("color", "x.jpg", "Yes", "Maybe"), ("color", "x.jpg", "No", "No")]
    result = mme_suite(items(rows), CTX)
    assert result.breakdown["subtasks"]["color"]["acc"] == 50.0
    assert result.breakdown["subtasks"]["color"]["acc_plus"] == 0.0
    assert result.breakdown["other"] == 1
    assert result.samples[0].extracted == "other"


def test_tab_reply_leaves_acc_but_breaks_acc_plus() -> None:
    rows: list[Row] = [("scene", "s.jpg", "Yes", "Yes\tindeed"), ("scene", "s.jpg", "No", "No"),
                       ("scene", "t.jpg", "Yes", "Yes"), ("scene", "t.jpg", "No", "Yes")]
    result = mme_suite(items(rows), CTX)
    scene = result.breakdown["subtasks"]["scene"]
    assert scene["acc"] == pytest.approx(200.0 / 3)  # 2 right of the 3 kept questions
    assert scene["acc_plus"] == 0.0  # s.jpg lost a line, t.jpg has one wrong
    assert result.breakdown["skipped_tab"] == 1
    first = result.samples[0]
    assert (first.score, first.method, first.extracted) == (None, "none", None)
    assert first.extra["note"] == "tab in reply: skipped by the reference"


def test_inference_error_scores_zero_and_is_counted() -> None:
    result = mme_suite(items(EXISTENCE, errors=[0]), CTX)
    assert result.breakdown["errors"] == 1
    assert result.breakdown["subtasks"]["existence"]["acc"] == 50.0
    assert result.breakdown["subtasks"]["existence"]["acc_plus"] == 0.0
    assert (result.samples[0].score, result.samples[0].method) == (0.0, "error")


def test_gt_is_compared_lowercased() -> None:
    rows: list[Row] = [("OCR", "o.jpg", "YES", "yes"), ("OCR", "o.jpg", "no", "No")]
    assert mme_suite(items(rows), CTX).score == 200.0


def test_without_image_path_adjacent_lines_pair_up() -> None:
    rows: list[Row] = [("count", "", "Yes", "Yes"), ("count", "", "No", "No"),
                       ("count", "", "Yes", "No"), ("count", "", "No", "No")]
    result = mme_suite(items(rows), CTX)
    assert result.breakdown["subtasks"]["count"]["acc_plus"] == 50.0
    assert result.breakdown["subtasks"]["count"]["images"] == 2


def test_hidden_answers_are_not_scored() -> None:
    rows: list[Row] = [("count", "a.jpg", "", "Yes")]
    for metric in (mme_suite, mme_vlmevalkit_suite):
        result = metric(items(rows), CTX)
        assert result.score is None
        assert result.reason == "answers hidden"


def test_empty_input_is_not_scored() -> None:
    assert mme_suite([], CTX).score is None


# --------------------------------------------------------------------------- VLMEvalKit


def test_vlmevalkit_perception_plus_reasoning() -> None:
    result = mme_vlmevalkit_suite(items(EXISTENCE + CODE, vlmevalkit=True), CTX)
    assert result.breakdown["perception"] == 125.0
    assert result.breakdown["reasoning"] == 200.0
    assert result.score == 325.0
    assert result.metric == "mme_vlmevalkit"


def test_vlmevalkit_unknown_is_wrong() -> None:
    rows: list[Row] = [("artwork", "a.jpg", "Yes", "Yes and no"), ("artwork", "a.jpg", "No", "No.")]
    result = mme_vlmevalkit_suite(items(rows, vlmevalkit=True), CTX)
    assert result.breakdown["subtasks"]["artwork"]["score"] == 50.0
    assert result.breakdown["unknown"] == 1


def test_vlmevalkit_compares_case_sensitively() -> None:
    rows: list[Row] = [("landmark", "l.jpg", "yes", "Yes"), ("landmark", "l.jpg", "No", "No")]
    result = mme_vlmevalkit_suite(items(rows, vlmevalkit=True), CTX)
    assert result.breakdown["subtasks"]["landmark"]["acc"] == 50.0  # "yes" != "Yes"


def test_vlmevalkit_acc_plus_uses_the_first_two_answers() -> None:
    rows: list[Row] = [("posters", "p.jpg", "Yes", "Yes"), ("posters", "p.jpg", "No", "No"),
                       ("posters", "p.jpg", "No", "Yes")]  # a third answer, wrong, is ignored by acc+
    result = mme_vlmevalkit_suite(items(rows, vlmevalkit=True), CTX)
    posters = result.breakdown["subtasks"]["posters"]
    assert posters["acc_plus"] == 100.0
    assert posters["acc"] == pytest.approx(200.0 / 3)
    # The paper rule needs every question of the image.
    assert mme_suite(items(rows), CTX).breakdown["subtasks"]["posters"]["acc_plus"] == 0.0


def test_vlmevalkit_image_with_one_question() -> None:
    rows: list[Row] = [("celebrity", "c.jpg", "Yes", "Yes")]
    assert mme_vlmevalkit_suite(items(rows, vlmevalkit=True), CTX).score == 200.0


def test_vlmevalkit_judge_failure_counts_wrong_and_is_reported() -> None:
    sample = Sample(index=0, question="Q?", answers=("Yes",), metadata={"category": "color", "image_path": "c"})
    failed = ScoringItem(sample, "hmm", None, Extraction(None, "none", "judge failed: timeout"))
    result = mme_vlmevalkit_suite([failed], CTX)
    assert result.breakdown["judge_failures"] == 1
    assert result.samples[0].score == 0.0
    assert result.samples[0].extra["note"] == "judge failed: timeout"
    assert result.score == 0.0
