"""The packaged baselines and the cards' [report] tables."""

from __future__ import annotations

import csv
import shutil
from dataclasses import FrozenInstanceError
from pathlib import Path

import pytest

from evalkit.catalog.cards import Catalog, cards_dir, load_catalog
from evalkit.errors import CatalogError, DataError
from evalkit.report.baselines import (
    Baseline,
    all_entries,
    load_baselines,
    parse_baselines,
    report_entries,
    resolve_path,
    sections_of,
)

REPO_ROOT = Path(__file__).resolve().parents[2]
SHARED_CSV = REPO_ROOT.parent / "shared" / "paper_baselines.csv"
TABLE_2 = ["DocVQA", "ChartQA", "InfoVQA", "TextVQA", "OCRBench", "MME", "RealWorldQA", "AI2D", "MMMU", "MMBench-EN",
           "MMBench-CN", "CCBench", "MMVet", "SEED-Image", "HallusionBench", "MathVista"]
HEADER = "model,params,open_source,benchmark,split,metric,value,source\n"


@pytest.mark.skipif(not SHARED_CSV.is_file(), reason=f"{SHARED_CSV} is absent")
def test_records_equal_the_shared_csv_row_for_row():
    with SHARED_CSV.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    records = load_baselines().records
    assert len(records) == len(rows) > 400
    for record, row in zip(records, rows, strict=True):
        assert record == Baseline(model=row["model"], params=row["params"] or None,
                                  open_source=row["open_source"] == "true", benchmark=row["benchmark"],
                                  split=row["split"], metric=row["metric"], value=float(row["value"]),
                                  source=row["source"])


@pytest.mark.skipif(not SHARED_CSV.is_file(), reason=f"{SHARED_CSV} is absent")
def test_the_packaged_file_is_a_byte_identical_copy():
    packaged = (cards_dir() / "baselines.csv").read_bytes()
    assert packaged == SHARED_CSV.read_bytes()


def test_records_are_typed_and_frozen():
    baselines = load_baselines()
    gpt = baselines.get("GPT-4V", ("DocVQA_TEST", "test", "anls"))
    assert gpt is not None and gpt.value == 88.4 and gpt.params is None and gpt.open_source is False
    internvl = baselines.get("InternVL-Chat-V1.5", ("MME", "test", "perception_plus_cognition"))
    assert internvl is not None and (internvl.params, internvl.open_source, internvl.value) == ("26B", True, 2187.8)
    with pytest.raises(FrozenInstanceError):
        gpt.value = 1.0  # type: ignore[misc]
    assert baselines.models[:2] == ("GPT-4V", "Gemini Ultra 1.0")


def test_every_benchmark_named_is_a_catalog_name():
    names = set(load_catalog().names)
    assert {record.benchmark for record in load_baselines().records} <= names


def test_every_baseline_is_reachable_from_a_card():
    entry_keys = {entry.key for entry in all_entries(load_catalog())}
    assert set(load_baselines().keys) <= entry_keys


def test_every_card_maps_to_table_2_order():
    catalog = load_catalog()
    assert all(report_entries(spec) for spec in catalog)
    labels = list(dict.fromkeys(entry.label for entry in all_entries(catalog) if entry.section == "Table 2"))
    assert labels == TABLE_2


def test_split_form_and_metric_form_entries():
    catalog = load_catalog()
    [docvqa] = report_entries(catalog.get("DocVQA_TEST"))
    assert (docvqa.split, docvqa.metric, docvqa.paths, docvqa.label, docvqa.order) == (
        "test", "anls", ("score",), "DocVQA", 1)
    assert report_entries(catalog.get("DocVQA_VAL"))[0].split == "val"
    mmt = report_entries(catalog.get("MMT-Bench_ALL"))
    assert [(e.metric, e.paths, e.label) for e in mmt] == [
        ("Overall", ("score",), "MMT-Bench"), ("Overall*", ("breakdown.overall_star",), "MMT-Bench*")]
    refcoco = report_entries(catalog.get("RefCOCO"))
    assert len(refcoco) == 8 and {e.metric for e in refcoco} == {"precision_at_1_iou0.5"}
    assert refcoco[3].split == "RefCOCO+_val" and refcoco[3].label == "RefCOCO+ val"
    convbench = report_entries(catalog.get("ConvBench"))
    assert len(convbench) == 12 and convbench[0].paths == ("breakdown.pairwise_R1",) and convbench[0].decimals == 2
    assert report_entries(catalog.get("OCRBench"))[0].decimals == 0


@pytest.mark.parametrize(("text", "problem"), [
    ("model,value\n", "header must be"),
    (HEADER + "M,,yes,MME,test,m,1,s\n", "line 2: open_source must be true or false"),
    (HEADER + "M,,true,MME,test,m,n/a,s\n", "line 2: value 'n/a' is not a number"),
    (HEADER + "M,,true,MME,test,m,1,s\nM,,true,MME,test,m,2,s\n", "line 3: M already has a value for MME/test/m"),
    (HEADER + "M,,true,MME,test,m,1\n", "line 2: expected 8 fields"),
    (HEADER + ",,true,MME,test,m,1,s\n", "line 2: model is empty"),
])
def test_a_bad_csv_is_a_data_error_naming_the_line(text, problem):
    with pytest.raises(DataError) as caught:
        parse_baselines(text)
    assert str(caught.value).startswith("baselines.csv") and problem in str(caught.value)


def test_resolve_path_tries_each_path_and_wants_a_number():
    document = {"score": 12, "breakdown": {"splits": {"a": {"Precision@1": 80.5}, "b": 70.0}, "flag": True}}
    assert resolve_path(document, ["score"]) == 12.0
    assert resolve_path(document, ["breakdown.splits.a", "breakdown.splits.a.Precision@1"]) == 80.5
    assert resolve_path(document, ["breakdown.splits.b"]) == 70.0
    assert resolve_path(document, ["breakdown.flag"]) is None
    assert resolve_path(document, ["breakdown.missing.deeper"]) is None
    assert resolve_path({"score": None}, ["score"]) is None


def test_sections_of_a_breakdown():
    sections = sections_of({"overall": 50.0, "headline": "all", "missing": ["a", "b"], "lower_bound": True,
                            "split": {"dev": 50.0}, "empty": {},
                            "subtasks": {"color": {"acc": 90.0, "n": 2}, "count": {"acc": 80.0, "extra": {"x": 1}}}})
    assert [section.name for section in sections] == ["summary", "split", "subtasks"]
    assert sections[0].rows == (("overall", (50.0,)), ("headline", ("all",)), ("missing", ("a, b",)),
                                ("lower_bound", ("true",)))
    assert sections[1].columns == ("value",) and sections[1].rows == (("dev", (50.0,)),)
    assert sections[2].columns == ("acc", "n", "extra/x")
    assert sections[2].rows == (("color", (90.0, 2, None)), ("count", (80.0, None, 1)))


def _card_dir(tmp_path: Path, old: str, new: str) -> Path:
    """A catalog folder with _defaults and DocVQA_VAL, whose card text has ``old`` replaced by ``new``."""
    folder = tmp_path / "cards"
    folder.mkdir()
    shutil.copy(cards_dir() / "_defaults.toml", folder)
    text = (cards_dir() / "DocVQA_VAL.toml").read_text(encoding="utf-8")
    assert old in text
    (folder / "DocVQA_VAL.toml").write_text(text.replace(old, new), encoding="utf-8")
    return folder


@pytest.mark.parametrize(("old", "new", "field", "problem"), [
    ('order = 1\n', 'order = 1\ncolour = "red"\n', "report.colour", "is not a known field"),
    ('order = 1\n', '', "report.order", "is missing"),
    ('order = 1\n', 'order = 0\n', "report.order", "must be at least 1"),
    ('order = 1\n', 'order = 1\ndecimals = 9\n', "report.decimals", "must be between 0 and 4"),
    ('split = "val"\n', '', "report.split", "is missing"),
    ('split = "val"\n', 'split = "val"\nmetric = "anls"\n', "report", "needs either"),
    ('metrics = { anls = "score" }', 'metrics = {}', "report.metrics", "must name at least one entry"),
    ('metrics = { anls = "score" }', 'metrics = { anls = "scores.x" }', "report.metrics.anls", "bad path"),
    ('metrics = { anls = "score" }', 'metrics = { anls = "breakdown..x" }', "report.metrics.anls", "bad path"),
    ('metrics = { anls = "score" }', 'metrics = { anls = [] }', "report.metrics.anls", "non-empty list"),
    ('metrics = { anls = "score" }', 'metrics = { anls = "score" }\nlabels = { acc = "A" }', "report.labels.acc",
     "names no entry"),
    ('column = "DocVQA"', 'column = 3', "report.column", "must be a string"),
])
def test_a_bad_report_table_names_the_card_and_field(tmp_path, old, new, field, problem):
    with pytest.raises(CatalogError) as caught:
        Catalog.from_directory(_card_dir(tmp_path, old, new))
    message = str(caught.value)
    assert "DocVQA_VAL.toml" in message and f"'{field}'" in message and problem in message


def test_a_card_without_a_report_table_maps_to_nothing(tmp_path):
    folder = _card_dir(tmp_path, "[report]", "[report_gone]")
    text = (folder / "DocVQA_VAL.toml").read_text(encoding="utf-8")
    (folder / "DocVQA_VAL.toml").write_text(text.split("[report_gone]")[0], encoding="utf-8")
    spec = Catalog.from_directory(folder).get("DocVQA_VAL")
    assert spec.report == {} and report_entries(spec) == []
