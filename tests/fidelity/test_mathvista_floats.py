"""MathVista, paper protocol: every free-form float question scores 0, as in the paper's run.

Golden values: InternVL ``internvl_chat/eval/mathvista/calculate_score.py`` @83c72bc run as a script on these six
problems, with ``precision`` as the Hugging Face dataset ``AI4Math/MathVista`` gives it (a float: ``2.0``):
"Correct: 2, Total: 6, Accuracy: 33.33%", predictions None for the four float questions (``round(x, 2.0)`` raises
TypeError, the bare ``except`` returns None). The same script with ``int(precision)`` (the later fix) gives 4 of 6:
questions 1 and 2 right, 3 wrong (3.1 ≠ 2.5), 6 None (an empty extraction does not parse).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from .files import image_cell, score, write_cells

HEADER = ["index", "image", "question", "answer", "question_type", "answer_type", "choices", "precision", "task",
          "skills", "answer_option", "prediction"]
PROBLEMS = [  # index, question_type, answer_type, choices, precision, answer, reply (= its rule extraction)
    ("1", "free_form", "float", "", "2.0", "1.45", "1.449"),
    ("2", "free_form", "float", "", "1.0", "0.6", "0.61"),
    ("3", "free_form", "float", "", "1.0", "2.5", "3.1"),
    ("4", "free_form", "integer", "", "", "14", "14"),
    ("5", "multi_choice", "float", "['1.5 cm', '2.5 cm']", "", "2.5 cm", "2.5 cm"),
    ("6", "free_form", "float", "", "2.0", "0.25", ""),
]
PAPER_HITS = [0.0, 0.0, 0.0, 1.0, 1.0, 0.0]


def predictions(tmp_path: Path, with_precision: bool) -> Path:
    rows = [[index, image_cell(), f"Question {index}", answer, qt, at, choices, precision,
             "figure question answering", "['arithmetic reasoning']", "B" if choices else "", reply]
            for index, qt, at, choices, precision, answer, reply in PROBLEMS]
    header = HEADER
    if not with_precision:  # VLMEvalKit's TSV has no precision column: the answer's decimals stand in
        header = [name for name in HEADER if name != "precision"]
        rows = [row[:7] + row[8:] for row in rows]
    return write_cells(tmp_path / "Model_MathVista_MINI.tsv", header, rows)


@pytest.mark.parametrize("with_precision", [True, False])
def test_paper_protocol_scores_float_questions_zero_and_says_so(tmp_path: Path, with_precision: bool) -> None:
    document, details = score("MathVista_MINI", predictions(tmp_path, with_precision), "paper", tmp_path / "out")
    assert [row["score"] for row in details] == PAPER_HITS
    assert document["score"] == pytest.approx(100 * 2 / 6)
    floats = document["breakdown"]["float_questions"]
    assert (floats["n"], floats["scored_0_by_the_paper_code"], floats["credited_by_a_working_round"]) == (4, 4, 2)
    assert [row.get("working_round_correct") for row in details] == [True, True, False, None, None, False]


def test_the_vlmevalkit_protocol_is_unchanged(tmp_path: Path) -> None:
    """VLMEvalKit ``vlmeval/dataset/utils/mathvista.py`` ``post_check(line, prefetch=True)`` @e8e78f05 on this file:
    14 for problem 4 and B for problem 5 (both right); False for the floats (compared exactly, no rounding) and for
    the empty reply (read back as "nan"), which go to the judge: without one the suite is not scored."""
    document, _ = score("MathVista_MINI", predictions(tmp_path, False), "vlmevalkit", tmp_path / "out")
    assert document["score"] is None  # the three wrong floats and the empty reply need the judge
    assert document["breakdown"]["rules_resolved"] == 2 and document["breakdown"]["rules_correct"] == 2
