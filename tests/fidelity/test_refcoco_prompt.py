"""RefCOCO prompts: VLMEvalKit sends the TSV's question as it is; the paper wraps a sentence once.

Golden values: ``vlmeval/vlm/internvl/internvl_chat.py`` ``InternVLChat.build_prompt(line, "RefCOCO")`` @e8e78f05
(``DATASET_TYPE("RefCOCO")`` is ``RefCOCODataset.TYPE == "GROUNDING"``, for which it has no branch: the text is
``line['question']``) on this file; InternVL ``eval/refcoco/evaluate_grounding.py`` @83c72bc formats
``'Please provide the bounding box coordinate of the region this sentence describes: <ref>{}</ref>'`` with the
jsonl's ``sent``. VLMEvalKit's RefCOCO TSV already holds that whole instruction (the prompt of
open-compass/VLMEvalKit#1305, which added the dataset and its TSV ``mjuicem/RefCOCO-VLMEvalKit``), so the paper
protocol takes the sentence out of it rather than wrapping it a second time.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from evalkit.catalog.cards import load_catalog
from evalkit.data.sources import load_samples
from evalkit.prompts.layouts import render_texts

from .files import image_cell, write_cells

WRAP = "Please provide the bounding box coordinate of the region this sentence describes: <ref>{}</ref>"
QUESTIONS = [WRAP.format("the red circle on the left"), WRAP.format("man in blue"), "bare sentence: the dog",
             WRAP.format("a <ref> b")]
GOLDEN = {
    "vlmevalkit": QUESTIONS,
    "paper": [WRAP.format("the red circle on the left"), WRAP.format("man in blue"),
              WRAP.format("bare sentence: the dog"), WRAP.format("a <ref> b")],
}


@pytest.mark.parametrize("protocol", ["paper", "vlmevalkit"])
def test_instructions_equal_the_reference_prompts(tmp_path: Path, protocol: str) -> None:
    header = ["index", "image", "question", "answer", "category", "width", "height"]
    path = write_cells(tmp_path / "RefCOCO.tsv", header,
                       [[str(i), image_cell(), q, "[10, 20, 30, 40]", "RefCOCO val", "640", "480"]
                        for i, q in enumerate(QUESTIONS)])
    spec = load_catalog().get("RefCOCO")
    samples = load_samples(spec, data_file=path, data_root=tmp_path, protocol=protocol).samples
    assert [render_texts(s, spec.protocol(protocol), spec.language)[0] for s in samples] == GOLDEN[protocol]
