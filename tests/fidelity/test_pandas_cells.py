"""Cells pandas reads as missing, and option columns it reads as numbers: prompts and scores as the references.

The file below holds, in its option and hint cells, pandas' default NA strings (``None``, ``N/A``, ``NA``,
``NULL``, ``null``, ``n/a``, ``NaN``, ``nan``, ``#N/A``, ``<NA>``, ``-NaN``), a hint of one space, text that only
looks missing (``NAN``, `` NA``), an option column of numbers with empty cells (read as floats: ``3`` → ``3.0``)
and one of integers without (``007`` → ``7``, ``+3`` → ``3``, ``-0`` → ``0``).

Golden prompts, run on this file read with ``vlmeval.smp.load`` (``pd.read_csv(sep="\\t")``):
VLMEvalKit ``vlmeval/vlm/internvl/utils.py`` ``build_multi_choice_prompt`` @e8e78f05 (the vlmevalkit protocol of
every MCQ suite), ``vlmeval/vlm/internvl_chat.py`` ``InternVLChat.build_multi_choice_prompt`` @4ad5481d (the
paper's RealWorldQA and MMT-Bench), InternVL ``internvl_chat/eval/mmbench/evaluate_mmbench.py``
``MMBenchDataset.__getitem__`` @83c72bc with ``language`` "en" and "cn" (the paper's MMBench and CCBench).
For AI2D and SEED (options A-D only) the same @e8e78f05 function on the file without column E.

Golden scores, on the same file plus a ``prediction`` column: ``ImageMCQDataset.evaluate_heuristic`` (dataset
"RealWorldQA", exact matching) @e8e78f05 and ``multiple_choice_eval(…, model="exact_matching")`` @4ad5481d.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from evalkit.catalog.cards import load_catalog
from evalkit.data.sources import load_samples
from evalkit.prompts.layouts import render_texts

from .files import image_cell, score, write_cells

HEADER = ["index", "image", "question", "hint", "A", "B", "C", "D", "E", "answer", "category", "l2-category",
          "split"]
ROWS = [
    ["1", "Which animal is shown?", "None", "cat", "N/A", "dog", "3", "10", "D", "animals", "pets", "dev"],
    ["2", "Pick one.", " ", "NA", "NULL", "bird", "", "007", "C", "animals", "pets", "dev"],
    ["3", "Which value?", "#N/A", "null", "n/a", "NaN", "4.5", "+3", "D", "numbers", "values", "dev"],
    ["4", "Odd cells?", "NAN", "nan", "<NA>", " NA", "7", "12", "C", "text", "cells", "dev"],
    ["5", "Text hint.", "Look closely.", "None of these", "-NaN", "fish", "", "-0", "A", "animals", "fish", "dev"],
]
EN = "Answer with the option's letter from the given choices directly."
CN = "请直接回答选项字母。"
LINES = [  # the reference prompt of each row, before its suffix
    "Which animal is shown?\nA. cat\nC. dog\nD. 3.0\nE. 10",
    " \nPick one.\nC. bird\nE. 7",
    "Which value?\nD. 4.5\nE. 3",
    "NAN\nOdd cells?\nC.  NA\nD. 7.0\nE. 12",
    "Look closely.\nText hint.\nA. None of these\nC. fish\nE. 0",
]
ABCD = [  # @e8e78f05 on the file without column E
    "Which animal is shown?\nA. cat\nC. dog\nD. 3.0",
    " \nPick one.\nC. bird",
    "Which value?\nD. 4.5",
    "NAN\nOdd cells?\nC.  NA\nD. 7.0",
    "Look closely.\nText hint.\nA. None of these\nC. fish",
]
CASES = [  # suite, protocol, prompts before the suffix, suffix
    ("MMBench_DEV_EN", "paper", LINES, EN),  # evaluate_mmbench.py, language "en"
    ("MMBench_DEV_EN", "vlmevalkit", LINES, EN),
    ("MMBench_DEV_CN", "paper", LINES, CN),  # the suffix goes by the dataset's language
    ("CCBench", "paper", LINES, CN),
    ("RealWorldQA", "paper", LINES, EN),  # @4ad5481d
    ("RealWorldQA", "vlmevalkit", LINES, EN),
    ("MMT-Bench_VAL", "paper", LINES, EN),
    ("MMT-Bench_VAL", "vlmevalkit", LINES, EN),
    ("MMMU_DEV_VAL", "vlmevalkit", LINES, EN),
    ("AI2D_TEST", "vlmevalkit", ABCD, EN),
    ("SEEDBench_IMG", "vlmevalkit", ABCD, EN),
]


def mcq_file(tmp_path: Path, columns: list[str] = HEADER, extra: list[str] | None = None) -> Path:
    rows = [[row[0], image_cell(), *row[1:]] for row in ROWS]
    rows = [[cell for name, cell in zip(HEADER, row, strict=True) if name in columns] for row in rows]
    if extra is not None:
        rows = [[*row, cell] for row, cell in zip(rows, extra, strict=True)]
        columns = [*columns, "prediction"]
    return write_cells(tmp_path / "Model_MCQ.tsv", columns, rows)


@pytest.mark.parametrize(("suite", "protocol", "lines", "suffix"), CASES)
def test_instructions_equal_the_reference_prompts(tmp_path: Path, suite: str, protocol: str, lines: list[str],
                                                  suffix: str) -> None:
    columns = [name for name in HEADER if name != "E"] if lines is ABCD else HEADER
    spec = load_catalog().get(suite)
    samples = load_samples(spec, data_file=mcq_file(tmp_path, columns), data_root=tmp_path, protocol=protocol).samples
    rendered = [render_texts(sample, spec.protocol(protocol), spec.language)[0] for sample in samples]
    assert rendered == [f"{text}\n{suffix}" for text in lines]


def test_the_options_scoring_sees_are_the_prompt_s(tmp_path: Path) -> None:
    spec = load_catalog().get("RealWorldQA")
    samples = load_samples(spec, data_file=mcq_file(tmp_path), data_root=tmp_path, protocol="vlmevalkit").samples
    assert samples[0].options == (("A", "cat"), ("C", "dog"), ("D", "3.0"), ("E", "10"))
    assert samples[1].hint == " " and samples[1].options == (("C", "bird"), ("E", "7"))
    assert samples[2].hint is None and samples[3].hint == "NAN"


def test_a_suite_whose_paper_reference_reads_json_keeps_the_cells(tmp_path: Path) -> None:
    """The paper's MMMU reads the Hugging Face dataset's ``options`` list (``eval/mmmu/evaluate_mmmu.py``
    @83c72bc), where "N/A" is an option's text; only the TSV reading of VLMEvalKit drops it."""
    spec = load_catalog().get("MMMU_DEV_VAL")
    samples = load_samples(spec, data_file=mcq_file(tmp_path), data_root=tmp_path, protocol="paper").samples
    assert samples[0].options == (("A", "cat"), ("B", "N/A"), ("C", "dog"), ("D", "3"), ("E", "10"))


# Replies: row 1's "3" no longer matches option D ("3.0"); row 2's "null bird" and row 3's "4.5 not nan" match
# only once "NULL" and "NaN" are no options. @e8e78f05 skips the text match of row 3 (reply longer than twice the
# option texts), @4ad5481d does not.
REPLIES = ["3", "null bird", "4.5 not nan", "It is 7.0", "none of these"]
SCORES = {"paper": [0.0, 1.0, 1.0, 0.0, 1.0], "vlmevalkit": [0.0, 1.0, 0.0, 0.0, 1.0]}
CATEGORY = {"paper": {"animals": 200 / 3, "numbers": 100.0, "text": 0.0},
            "vlmevalkit": {"animals": 200 / 3, "numbers": 0.0, "text": 0.0}}


@pytest.mark.parametrize("protocol", ["paper", "vlmevalkit"])
def test_scores_equal_the_references(tmp_path: Path, protocol: str) -> None:
    document, details = score("RealWorldQA", mcq_file(tmp_path, extra=REPLIES), protocol, tmp_path / "out")
    assert [row["score"] for row in details] == SCORES[protocol]
    assert document["score"] == pytest.approx(100 * sum(SCORES[protocol]) / 5)
    assert document["breakdown"]["category"] == pytest.approx(CATEGORY[protocol])
