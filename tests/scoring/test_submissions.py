"""Submission files for hidden-answer splits, in the formats the official servers take."""

from __future__ import annotations

import json

import pandas as pd

from evalkit.data.sample import Sample
from evalkit.scoring.submissions import mmbench_xlsx, mmvet_json
from evalkit.scoring.types import Extraction, ScoringItem


def mmbench_item(index: int, reply: str, extracted: str) -> ScoringItem:
    sample = Sample(index=index, question="Which?", options=(("A", "x"), ("B", "=1+1"), ("C", "z"), ("D", "w")),
                    hint="h", metadata={"category": "c", "l2-category": "l2", "split": "test"})
    return ScoringItem(sample, reply, None, Extraction(extracted, "rule"))


def test_mmbench_xlsx_keeps_every_row_drops_the_server_excluded_columns_and_puts_prediction_seventh(tmp_path):
    items = [mmbench_item(5, "The answer is B.", "B"), mmbench_item(1000005, "C", "C")]
    frame = pd.read_excel(mmbench_xlsx(items, tmp_path), dtype=str)
    assert list(frame.columns) == ["index", "question", "A", "B", "C", "D", "prediction", "split"]
    assert list(frame["index"]) == ["5", "1000005"] and list(frame["prediction"]) == ["B", "C"]
    assert frame["B"][0] == "=1+1"


def test_mmbench_xlsx_of_the_vlmevalkit_protocol_keeps_the_raw_reply(tmp_path):
    item = mmbench_item(5, "The answer is B.", "The answer is B.")
    assert pd.read_excel(mmbench_xlsx([item], tmp_path), dtype=str)["prediction"][0] == "The answer is B."


def test_mmvet_json_uses_the_official_v1_ids(tmp_path):
    items = [ScoringItem(Sample(index=0, question="q"), "42", None, Extraction("42", "rule")),
             ScoringItem(Sample(index="v1_7", question="q"), "", "timeout", Extraction(None, "error"))]
    assert json.loads(mmvet_json(items, tmp_path).read_text()) == {"v1_0": "42", "v1_7": ""}
