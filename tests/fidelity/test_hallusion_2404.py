"""HallusionBench: the paper protocol extracts yes/no as VLMEvalKit 4ad5481d did, the vlmevalkit one as e8e78f05.

Golden values: ``vlmeval/evaluate/yes_or_no.py`` ``YOrN_eval(…, dataset="HallusionBench")`` @4ad5481d (no judge
key: exact matching) and ``vlmeval/dataset/image_yorn.py`` ``ImageYORNDataset.evaluate(…, model="exact_matching")``
@e8e78f05, run on this file. The two differ only in ``process_punctuation``'s period rule: 4ad5481d's
``(?!<=\\d)(\\.)(?!\\d)`` also deletes a period after a digit, and with at most 32 deletions (``re.UNICODE`` passed as
the count) the period of "yes." in a 35-step count survives.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from evalkit.scoring.extract.yes_no import PERIOD_2404, PERIOD_HEAD, process_punctuation, yorn_label

from .files import image_cell, score, write_cells

COUNT = "Counting the marks: " + " ".join(f"{i}." for i in range(1, 36)) + " So the answer is yes."
STEPS = "Steps " + " ".join(f"{i}." for i in range(1, 41)) + " No."
LETTERS = " ".join(f"{c}." for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdef") + " no."
ROWS = [  # index, category, l2-category, answer, reply
    ("VD_figure_0_0_0_0", "VD", "VD_figure", "Yes", COUNT),
    ("VD_figure_0_0_0_1", "VD", "VD_figure", "Yes", "Yes."),
    ("VD_figure_0_0_1_0", "VD", "VD_figure", "No", "No, 3.5 is less."),
    ("VD_figure_0_0_1_1", "VD", "VD_figure", "No", "Version 2.0. The answer is no."),
    ("VS_chart_0_1_0_0", "VS", "VS_chart", "Yes", "The value 3. is it? yes."),
    ("VS_chart_0_1_0_1", "VS", "VS_chart", "No", LETTERS),
    ("VS_chart_0_1_1_0", "VS", "VS_chart", "No", STEPS),
    ("VS_chart_0_1_1_1", "VS", "VS_chart", "Yes", "1.yes"),
]
# (extracted per row, aAcc, fAcc, qAcc) as the references computed them
GOLDEN = {
    "paper": (["Unknown", "Yes", "No", "No", "Yes", "Unknown", "Unknown", "Unknown"], 50.0, 25.0, 25.0),
    "vlmevalkit": (["Yes", "Yes", "No", "No", "Yes", "Unknown", "No", "Unknown"], 75.0, 50.0, 75.0),
}


@pytest.fixture()
def predictions(tmp_path: Path) -> Path:
    header = ["index", "image", "question", "answer", "category", "l2-category", "prediction"]
    rows = [[index, image_cell(), "Is it so?", answer, category, l2, reply]
            for index, category, l2, answer, reply in ROWS]
    return write_cells(tmp_path / "Model_HallusionBench.tsv", header, rows)


@pytest.mark.parametrize("protocol", ["paper", "vlmevalkit"])
def test_score_equals_the_reference(predictions: Path, tmp_path: Path, protocol: str) -> None:
    extracted, a_acc, f_acc, q_acc = GOLDEN[protocol]
    document, details = score("HallusionBench", predictions, protocol, tmp_path / protocol)
    assert [row["extracted"] for row in details] == extracted
    hits = [float(label == row[3]) for label, row in zip(extracted, ROWS, strict=True)]
    assert [row["score"] for row in details] == hits
    overall = document["breakdown"]["Overall"]
    assert (overall["aAcc"], overall["fAcc"], overall["qAcc"]) == (a_acc, f_acc, q_acc)
    assert document["score"] == pytest.approx((a_acc + f_acc + q_acc) / 3)


def test_the_issue_example_and_the_period_rules() -> None:
    """The rows that decide it, through process_punctuation of each commit (values printed by the references)."""
    assert yorn_label(COUNT, PERIOD_2404) == "Unknown" and yorn_label(COUNT, PERIOD_HEAD) == "Yes"
    assert process_punctuation(COUNT.lower(), PERIOD_2404).endswith(" 34. 35. so the answer is yes.")
    assert process_punctuation(COUNT.lower(), PERIOD_HEAD).endswith(". 34. 35. so the answer is yes")
    assert process_punctuation("the value 3. is it? yes.", PERIOD_2404) == "the value 3 is it yes"
    assert process_punctuation("the value 3. is it? yes.", PERIOD_HEAD) == "the value 3. is it yes"
    assert process_punctuation("1.yes", PERIOD_2404) == "1yes" and process_punctuation("1.yes", PERIOD_HEAD) == "1.yes"
