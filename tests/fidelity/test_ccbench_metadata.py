"""CCBench's TSV has neither ``split`` nor ``l2-category``: evalkit scores it, as VLMEvalKit does.

Golden values, run on this file: paper protocol, InternVL ``eval/mmbench/evaluate_mmbench.py`` @83c72bc
(``MMBenchDataset`` options and ``post_process``, its xlsx without ``category``/``image``) then VLMEvalKit
``vlmeval/evaluate/multiple_choice.py`` ``multiple_choice_eval(…, model="exact_matching")`` @4ad5481d;
vlmevalkit protocol, ``vlmeval/dataset/image_mcq.py`` ``ImageMCQDataset.evaluate_heuristic`` (dataset
"CCBench", ``mcq_circular_eval``, ``report_acc``) @e8e78f05. Both report ``split`` "none" and Overall 2/3.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from evalkit.errors import DataError

from .files import image_cell, score, write_cells

HEADER = ["index", "image", "question", "A", "B", "C", "D", "answer", "category"]
ROWS = [  # question 1 with two rotations, question 2 with one, question 3 alone; replies last
    ["1", "哪个是猫?", "猫", "None", "狗", "", "A", "动物", "猫"],
    ["1000001", "哪个是猫?", "狗", "猫", "None", "", "B", "动物", "B"],
    ["2000001", "哪个是猫?", "None", "狗", "猫", "", "C", "动物", "它是猫"],
    ["2", "几只?", "3", "N/A", "5", "", "C", "数字", "5"],
    ["1000002", "几只?", "5", "3", "N/A", "", "A", "数字", "5只"],
    ["3", "颜色?", "红", "蓝", "NA", "绿", "D", "颜色", "None"],
]
#: InternVL's post_process of each reply with the row's own options (what the paper's xlsx held).
POST_PROCESSED = ["猫", "B", "C", "5", "A", "None"]
GROUP_HITS = {1: 1.0, 2: 1.0, 3: 0.0}  # both references
CATEGORY = {"动物": 100.0, "数字": 100.0, "颜色": 0.0}  # e8e78f05's report_acc (4ad5481d's xlsx has no category)


@pytest.fixture()
def predictions(tmp_path: Path) -> Path:
    rows = [[row[0], image_cell(), *row[1:]] for row in ROWS]
    return write_cells(tmp_path / "Model_CCBench.tsv", [*HEADER, "prediction"], rows)


@pytest.mark.parametrize("protocol", ["paper", "vlmevalkit"])
def test_ccbench_without_split_and_l2_category_scores_like_the_references(predictions: Path, tmp_path: Path,
                                                                        protocol: str) -> None:
    document, details = score("CCBench", predictions, protocol, tmp_path / protocol)
    assert document["score"] == pytest.approx(200 / 3)
    assert {row["index"]: row["score"] for row in details if row["score"] is not None} == GROUP_HITS
    assert document["breakdown"]["category"] == CATEGORY
    assert "split" not in document["breakdown"] and "l2-category" not in document["breakdown"]
    # every row's letter; the last reply, "None", is read back as NaN ("nan") and matches no option
    assert [row["extracted"] for row in details] == ["A", "B", "C", "C", "A", None]


def test_the_paper_letter_post_process_gives_what_internvl_wrote() -> None:
    """InternVL's ``post_process`` output per row; CircularEval (can_infer @4ad5481d) turns it into letters."""
    from evalkit.data.sample import Sample
    from evalkit.scoring.extract.choice import letter_postprocess
    from evalkit.scoring.types import ScoringContext

    for row, expected in zip(ROWS, POST_PROCESSED, strict=True):
        options = tuple((letter, text) for letter, text in zip("ABCD", row[2:6], strict=True)
                        if text not in ("", "None", "N/A", "NA"))
        sample = Sample(index=int(row[0]), question=row[1], options=options, answers=(row[6],))
        assert letter_postprocess(row[8], sample, ScoringContext()).value == expected


def test_a_metric_that_needs_a_column_names_it(tmp_path: Path) -> None:
    """HallusionBench's fAcc and qAcc group by l2-category (``Hallusion_rating`` reads ``line['l2-category']``)."""
    path = write_cells(tmp_path / "Model_HallusionBench.tsv",
                       ["index", "image", "question", "answer", "category", "prediction"],
                       [["VD_figure_0_0_0_0", image_cell(), "Is it?", "Yes", "VD", "Yes"]])
    with pytest.raises(DataError) as caught:
        score("HallusionBench", path, "paper", tmp_path / "out")
    assert str(caught.value) == (f"{path}: missing column 'l2-category' (needed by HallusionBench: metric "
                                 "'hallusion' groups fAcc and qAcc by it (Hallusion_rating))")
