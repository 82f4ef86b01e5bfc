"""Finding a logged lmms-eval sample's row by the card's ``[lmms_eval]`` rule; the rules themselves."""

from __future__ import annotations

import dataclasses
import re
import tomllib

import pytest

from evalkit.catalog.cards import Catalog, cards_dir, load_catalog
from evalkit.catalog.schema import build_spec
from evalkit.catalog.spec import LmmsEvalRule, MatchKey
from evalkit.data.sample import Sample
from evalkit.errors import CatalogError
from evalkit.importers.lmms_eval import task_suites
from evalkit.importers.lmms_eval_logs import LoggedSample, first_text, model_args_name
from evalkit.importers.matching import RowTable, answers_key, find_row, match_rows, text_key


def line(task: str = "t", **fields: object) -> LoggedSample:
    return LoggedSample(task, {"doc_id": 0, **fields}, "log.jsonl:1")


def test_text_keys_ignore_case_spacing_and_number_spelling():
    assert text_key(" Yes ") == text_key("yes") == "yes"
    assert text_key("105.0") == text_key(105) == text_key("105") == "105"
    assert text_key("0.50") == text_key(0.5) == "0.5"
    assert text_key(None) is None and text_key(float("nan")) is None and text_key("   ") is None
    assert text_key("man  on\tleft") == "man on left"


def test_answer_keys_read_list_literals_and_ignore_order():
    assert answers_key("['731.84', '$731.84']") == answers_key(["$731.84", "731.84"])
    assert answers_key(("Yes",)) == answers_key("yes") != answers_key("No")
    assert answers_key("[unbalanced") == "[unbalanced" and answers_key([]) is None


def test_replies_and_prompts_are_unwrapped_as_lmms_eval_wraps_them():
    assert first_text([["raw"]]) == "raw" and first_text("flat") == "flat" and first_text([]) is None
    assert line(resps=[["raw reply"]], filtered_resps=["filtered"]).response == "raw reply"
    assert line(filtered_resps="filtered").response == "filtered"
    assert line(arguments=[["the prompt", 0, "mme", "test"]]).instruction == "the prompt"
    assert line(arguments=["the prompt", {"max_new_tokens": 5}, 0, "mme", "test"]).instruction == "the prompt"
    assert line(input="given", arguments={"0": "max_new_tokens"}).instruction == "given"
    assert model_args_name("pretrained=lmms-lab/llava-v1.5-7b,conv_template=vicuna_v1") == "lmms-lab/llava-v1.5-7b"
    assert model_args_name("model_version=gpt-4o") == "gpt-4o" and model_args_name("device=cuda") is None


BOX_RULE = LmmsEvalRule(keys=(MatchKey(("doc.answer",), "question", "log_in_data"),
                              MatchKey(("doc.bbox", "target"), "box", "box")))


def grounding(index: int, expression: str, box: str, category: str = "RefCOCO val") -> Sample:
    return Sample(index, f"Please provide the bounding box of <ref>{expression}</ref>", answers=(box,),
                  metadata={"width": 400, "height": 300, "category": category})


@pytest.mark.parametrize(("shift", "found"), [(0.0, 0), (0.9, 0), (1.5, "no row's box")])
def test_a_box_matches_within_one_pixel(shift, found):
    table = RowTable([grounding(0, "man on left", "[10, 20, 110, 220]")])
    fractions = [(10 + shift) / 400, 20 / 300, 110 / 400, 220 / 300]
    result = find_row(line(doc={"answer": "man on left", "bbox": fractions}), BOX_RULE, table)
    assert result == found if isinstance(found, int) else result.startswith(found)


def test_the_refcoco_card_tells_two_identical_rows_apart_by_their_task():
    rule = load_catalog().get("RefCOCO").lmms_eval
    assert rule is not None
    table = RowTable([grounding(0, "man on left", "[10, 20, 110, 220]"),
                      grounding(1, "man on left", "[10, 20, 110, 220]", "RefCOCO testA")])
    logged = {"refcoco_IoU": {"answer": "man on left", "bbox": [0.025, 20 / 300, 0.275, 220 / 300]}}
    assert find_row(line("refcoco_bbox_rec_testA", **logged), rule, table) == 1
    assert find_row(line("refcoco_bbox_rec_val", **logged), rule, table) == 0
    assert find_row(line("refcoco_bbox_rec_testB", **logged), rule, table) == (
        "no row has split 'RefCOCO_testB', the rows task 'refcoco_bbox_rec_testB' asks")
    assert find_row(line("refcoco", **logged), rule, table) == "2 rows fit (index 0, 1): not guessed"


def test_a_line_without_identifying_fields_and_a_row_answered_twice_are_listed():
    rule = LmmsEvalRule(keys=(MatchKey(("doc.index", "gpt_eval_score.index"), "index", "equal"),))
    table = RowTable([Sample(5, "q"), Sample(6, "q")])
    assert find_row(line(doc={"question": "q"}), rule, table) == (
        "the line holds none of the fields that identify a row (doc.index, gpt_eval_score.index)")
    first, again = line(gpt_eval_score={"index": 6}), LoggedSample("t", {"doc_id": 9, "doc": {"index": "6"}}, "l:2")
    matched, unmatched = match_rows([first, again], rule, table)
    assert matched == {1: first}
    assert unmatched == [{"task": "t", "doc_id": 9, "where": "l:2",
                          "reason": "its row (index 6) is already answered by log.jsonl:1"}]


def test_every_task_names_one_suite():
    suites = {task: spec.name for task, spec in task_suites(load_catalog()).items()}
    assert suites["refcoco+_bbox_rec_testa"] == "RefCOCO" and suites["refcocog_bbox_rec_test"] == "RefCOCO"
    assert suites["mathvista_testmini_cot"] == suites["mathvista_testmini"] == "MathVista_MINI"
    assert suites["mmbench_cn_cc"] == "CCBench" and suites["mmmu_val"] == "MMMU_DEV_VAL"
    assert "refcoco_bbox_rec_test" not in suites


def docvqa_card(edit: tuple[str, str]) -> None:
    """Build DocVQA_VAL's card with one edit (raises what the schema raises)."""
    text = (cards_dir() / "DocVQA_VAL.toml").read_text()
    assert edit[0] in text
    defaults = tomllib.loads((cards_dir() / "_defaults.toml").read_text())
    build_spec("DocVQA_VAL", tomllib.loads(text.replace(edit[0], edit[1], 1)), defaults, "")


BAD_RULES = [
    (('data = "question", match = "data_in_log"', 'data = "question", match = "contains"'),
     "field 'lmms_eval.keys[1].match' has unknown value 'contains'"),
    (('data = "answers", match = "answers"', 'data = "answer", match = "answers"'),
     "field 'lmms_eval.keys[0].data' has unknown value 'answer'"),
    (('{ log = ["doc.answers", "target"], data', '{ log = ["doc.", "target"], data'),
     "field 'lmms_eval.keys[0].log' must list log fields"),
    (("[lmms_eval]\nkeys = [", "[lmms_eval]\nkey = 1\nkeys = ["), "field 'lmms_eval.key' is not a known field"),
]


def test_a_bad_rule_names_the_card_and_the_field():
    for edit, message in BAD_RULES:
        with pytest.raises(CatalogError, match=re.escape(f"card DocVQA_VAL.toml: {message}")):
            docvqa_card(edit)


def test_a_task_claimed_by_two_suites_is_an_error():
    catalog = load_catalog()
    specs = {spec.name: spec for spec in catalog}
    mme = specs["MME"]
    assert mme.lmms_eval is not None
    specs["MME"] = dataclasses.replace(mme, lmms_eval=dataclasses.replace(
        mme.lmms_eval, tasks={"mathvista_testmini_cot": {}}))
    with pytest.raises(CatalogError, match="lmms-eval task 'mathvista_testmini_cot' already belongs to"):
        task_suites(Catalog(specs))
