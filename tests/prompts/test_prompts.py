"""Prompts: golden strings from the reference code (docs/protocols.md), and a snapshot per suite and protocol.

Set EVALKIT_UPDATE_SNAPSHOTS=1 to rewrite the snapshots after a deliberate prompt
change (and bump the card's version).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from evalkit.catalog.cards import load_catalog
from evalkit.data.sample import Sample
from evalkit.prompts.layouts import render_instruction, render_texts

SNAPSHOTS = Path(__file__).parent / "snapshots" / "prompts"
SHORT = "Answer the question using a single word or phrase."
LETTER = "Answer with the option's letter from the given choices directly."


def text_of(suite: str, sample: Sample, protocol: str = "paper") -> str:
    spec = load_catalog().get(suite)
    (text,) = render_texts(sample, spec.protocol(protocol), spec.language)
    return text


def test_short_answer_joins_with_a_space_in_the_paper_and_a_newline_in_vlmevalkit():
    sample = Sample(index=1, question="What is the date?")
    assert text_of("DocVQA_VAL", sample) == f"What is the date? {SHORT}"
    assert text_of("DocVQA_VAL", sample, "vlmevalkit") == f"What is the date?\n{SHORT}"
    assert text_of("OCRBench", sample) == f"What is the date?\n{SHORT}"


def test_hallusionbench_adds_the_yes_no_instruction():
    sample = Sample(index="VD_figure_0_0_0_0", question="Is the sky green?")
    assert text_of("HallusionBench", sample) == (
        f"Is the sky green? Please answer yes or no. {SHORT}")


MCQ = Sample(index=7, question="Which shape is red?", options=(("A", "circle"), ("B", "square"), ("C", "star")),
             hint="Look at the left half.")


def test_multiple_choice_template_with_hint_and_options():
    assert text_of("RealWorldQA", MCQ) == (
        f"Look at the left half.\nWhich shape is red?\nA. circle\nB. square\nC. star\n{LETTER}")


def test_paper_ai2d_and_seed_have_no_hint_line():
    assert text_of("AI2D_TEST", MCQ) == f"Which shape is red?\nA. circle\nB. square\nC. star\n{LETTER}"
    assert text_of("AI2D_TEST", MCQ, "vlmevalkit").startswith("Look at the left half.\n")


def test_cjk_detection_picks_the_chinese_suffix_in_vlmevalkit_templates():
    chinese = Sample(index=1, question="哪个形状是红色的?", options=(("A", "圆"), ("B", "方")))
    assert text_of("RealWorldQA", chinese).endswith("\n请直接回答选项字母。")
    no_options = Sample(index=2, question="图中有几只猫?")
    assert text_of("RealWorldQA", no_options) == "图中有几只猫?\n请直接回答问题。"
    assert text_of("RealWorldQA", Sample(index=3, question="How many cats?")) == (
        "How many cats?\nAnswer the question directly.")


def test_paper_mmbench_picks_the_suffix_by_dataset_language_not_by_characters():
    chinese_text = Sample(index=1, question="哪个?", options=(("A", "x"), ("B", "y")))
    english_text = Sample(index=1, question="Which?", options=(("A", "x"), ("B", "y")))
    assert text_of("MMBench_DEV_EN", chinese_text).endswith(LETTER)
    assert text_of("MMBench_DEV_CN", english_text).endswith("\n请直接回答选项字母。")
    assert text_of("CCBench", english_text).endswith("\n请直接回答选项字母。")
    assert text_of("MMBench_DEV_EN", chinese_text, "vlmevalkit").endswith("\n请直接回答选项字母。")


def test_mmmu_paper_strips_question_and_options_and_uses_short_answer_for_open_questions():
    mcq = Sample(index="validation_Art_1", question="  <image 1> Which style?  ",
                 options=(("A", " Baroque "), ("B", "Rococo")))
    assert text_of("MMMU_DEV_VAL", mcq) == f"<image 1> Which style?\nA. Baroque\nB. Rococo\n{LETTER}"
    open_question = Sample(index="validation_Math_2", question="What is x in <image 1>? ")
    assert text_of("MMMU_DEV_VAL", open_question) == f"What is x in <image 1>?\n{SHORT}"


def test_mmvet_paper_prompt_has_one_trailing_space_and_vlmevalkit_none():
    sample = Sample(index="v1_0", question="What is written here?")
    assert text_of("MMVet", sample) == "What is written here? "
    assert text_of("MMVet", sample, "vlmevalkit") == "What is written here?"


def test_grounding_prompt():
    sample = Sample(index=0, question="the red circle on the left")
    assert text_of("RefCOCO", sample) == ("Please provide the bounding box coordinate of the region this sentence "
                                          "describes: <ref>the red circle on the left</ref>")


def test_multi_turn_keeps_each_instruction():
    spec = load_catalog().get("ConvBench")
    sample = Sample(index=1, question="", turns=("Describe it.", "Why?", "Write a poem."))
    instruction = render_instruction(sample, spec.protocol("paper"), spec.language)
    assert instruction.texts == ("Describe it.", "Why?", "Write a poem.")
    assert instruction.as_record() == ["Describe it.", "Why?", "Write a poem."]


def test_max_tiles_flag_overrides_the_card():
    spec = load_catalog().get("DocVQA_VAL")
    sample = Sample(index=1, question="q")
    assert render_instruction(sample, spec.protocol("paper"), "en").tiles_per_image == 18
    assert render_instruction(sample, spec.protocol("paper"), "en", max_tiles=4).tiles_per_image == 4


# One fixed sample per demo family; every suite is snapshotted under both protocols.
FIXED = {
    "document": Sample(index=101, question="What is the invoice number?"),
    "chart": Sample(index=5, question="What was the revenue in 2019?"),
    "scene_text": Sample(index=34602, question="what is written on the sign?"),
    "ocr": Sample(index=3, question="what is written in the image?"),
    "mme": Sample(index=12, question="Is there a dog in this image? Please answer yes or no."),
    "hallusion": Sample(index="VS_chart_0_1_0_0", question="Is the blue bar taller than the red one?"),
    "mcq": Sample(index=1000004, question="What is the main object?", hint="The photo was taken indoors.",
                  options=(("A", "a chair"), ("B", "a lamp"), ("C", "a table"), ("D", "a sofa"))),
    "mcq_cn": Sample(index=1000004, question="图中主要物体是什么?", hint="照片在室内拍摄。",
                     options=(("A", "椅子"), ("B", "台灯"), ("C", "桌子"), ("D", "沙发"))),
    "mmmu": Sample(index="validation_Physics_3", question="<image 1> What is the force on the block? ",
                   options=(("A", "2 N"), ("B", " 4 N"), ("C", "8 N"))),
    "open": Sample(index="v1_12", question="What is the total price?"),
    "mathvista": Sample(index=17, question="Hint: Please answer the question requiring an integer answer.\n"
                                           "Question: How many bars are there?"),
    # VLMEvalKit's RefCOCO TSV holds the whole instruction in its question column
    "grounding": Sample(index=44, question="Please provide the bounding box coordinate of the region this "
                                           "sentence describes: <ref>the green square at the top</ref>"),
    "conversation": Sample(index=3, question="", turns=("What is shown?", "Why is it there?", "Write a haiku.")),
}


def fixed_sample(suite: str) -> Sample:
    spec = load_catalog().get(suite)
    family = spec.demo["family"]
    return FIXED[f"{family}_cn" if spec.language == "cn" and f"{family}_cn" in FIXED else family]


@pytest.mark.parametrize("protocol", ["paper", "vlmevalkit"])
@pytest.mark.parametrize("suite", sorted(load_catalog().names))
def test_prompt_snapshot(suite, protocol):
    spec = load_catalog().get(suite)
    instruction = render_instruction(fixed_sample(suite), spec.protocol(protocol), spec.language)
    rendered = "\n<<turn>>\n".join(instruction.texts) + f"\n<<tiles per image: {instruction.tiles_per_image}>>\n"
    path = SNAPSHOTS / f"{suite}.{protocol}.txt"
    if os.environ.get("EVALKIT_UPDATE_SNAPSHOTS") == "1":
        path.write_text(rendered, encoding="utf-8")
    assert path.exists(), f"no snapshot {path.name}: run with EVALKIT_UPDATE_SNAPSHOTS=1 and review it"
    assert rendered == path.read_text(encoding="utf-8"), f"prompt of {suite} ({protocol}) changed"
