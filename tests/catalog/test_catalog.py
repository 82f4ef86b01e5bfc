"""The catalog: every suite name, lookup rules, each protocol's tiles and tokens, card validation."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from evalkit.catalog.cards import Catalog, cards_dir, load_catalog
from evalkit.errors import CatalogError

CONTRACT_NAMES = """
DocVQA_VAL DocVQA_TEST ChartQA_TEST InfoVQA_VAL InfoVQA_TEST TextVQA_VAL OCRBench MME RealWorldQA AI2D_TEST
MMMU_DEV_VAL MMBench_DEV_EN MMBench_TEST_EN MMBench_DEV_CN MMBench_TEST_CN CCBench MMVet SEEDBench_IMG
HallusionBench MathVista_MINI ConvBench MMT-Bench_VAL MMT-Bench_ALL RefCOCO
""".split()

# (suite, paper max tiles, vlmevalkit max tiles, paper max_new_tokens): docs/protocols.md.
SETTINGS = [
    ("DocVQA_VAL", 18, 18, 100), ("ChartQA_TEST", 12, 12, 100), ("InfoVQA_VAL", 24, 24, 100),
    ("OCRBench", 24, 24, 1024), ("TextVQA_VAL", 24, 6, 10), ("MME", 12, 6, 20), ("MMMU_DEV_VAL", 6, 12, 100),
    ("AI2D_TEST", 6, 6, 10), ("MMBench_DEV_EN", 6, 6, 100), ("CCBench", 6, 6, 100), ("SEEDBench_IMG", 6, 6, 100),
    ("MMVet", 6, 6, 1000), ("MathVista_MINI", 6, 6, 1000), ("RefCOCO", 6, 6, 100), ("RealWorldQA", 6, 6, 1024),
    ("HallusionBench", 6, 6, 1024),
]


def test_catalog_has_exactly_the_contract_names():
    assert sorted(load_catalog().names) == sorted(CONTRACT_NAMES)


@pytest.mark.parametrize(("alias", "name"), [
    ("docvqa_val", "DocVQA_VAL"), ("DOCVQA_VAL", "DocVQA_VAL"), ("mmbench_en_dev", "MMBench_DEV_EN"),
    ("mmbench_cn_cc", "CCBench"), ("mmt-bench_val", "MMT-Bench_VAL"), (" textvqa_val ", "TextVQA_VAL"),
    ("hallusion_bench_image", "HallusionBench"), ("mathvista_testmini", "MathVista_MINI"), ("chartqa", "ChartQA_TEST"),
])
def test_lookup_is_case_insensitive_and_knows_lmms_eval_aliases(alias, name):
    assert load_catalog().get(alias).name == name


def test_unknown_name_is_one_clear_error():
    with pytest.raises(CatalogError, match="unknown benchmark 'DocVQA_TRAIN'"):
        load_catalog().get("DocVQA_TRAIN")


@pytest.mark.parametrize(("name", "suggestion"), [
    ("DocVQA_VL", "DocVQA_VAL"), ("MMMU", "MMMU_DEV_VAL"), ("mmbench_en_dv", "MMBench_DEV_EN"),
    ("textvqa", "TextVQA_VAL"), ("Hallusion", "HallusionBench"),
])
def test_an_unknown_name_offers_the_nearest_suite(name, suggestion):
    with pytest.raises(CatalogError) as caught:
        load_catalog().get(name)
    assert str(caught.value) == (f"unknown benchmark '{name}'; did you mean '{suggestion}'? "
                                 "(see 'evalkit list benchmarks')")


def test_resolve_keeps_order_and_drops_duplicates():
    specs = load_catalog().resolve("MME,docvqa_val,DocVQA_VAL")
    assert [spec.name for spec in specs] == ["MME", "DocVQA_VAL"]


@pytest.mark.parametrize(("name", "paper_tiles", "vlmevalkit_tiles", "paper_tokens"), SETTINGS)
def test_protocol_settings_follow_benchmarks_md(name, paper_tiles, vlmevalkit_tiles, paper_tokens):
    spec = load_catalog().get(name)
    paper, vlmevalkit = spec.protocol("paper"), spec.protocol("vlmevalkit")
    assert (paper.max_tiles, vlmevalkit.max_tiles, paper.generation.max_new_tokens) == (
        paper_tiles, vlmevalkit_tiles, paper_tokens)
    assert vlmevalkit.generation.max_new_tokens == 4096
    assert paper.generation.do_sample is False and paper.generation.num_beams == 1


def test_min_new_tokens_is_one_in_the_paper_scripts_except_mme():
    catalog = load_catalog()
    assert catalog.get("DocVQA_VAL").protocol("paper").generation.min_new_tokens == 1
    assert catalog.get("MME").protocol("paper").generation.min_new_tokens == 0


def test_mmmu_vlmevalkit_tiles_share_a_budget_of_64():
    mmmu = load_catalog().get("MMMU_DEV_VAL")
    assert [mmmu.protocol("vlmevalkit").tiles_for(n) for n in (1, 2, 5, 7)] == [12, 12, 12, 9]
    assert [mmmu.protocol("paper").tiles_for(n) for n in (1, 7)] == [6, 6]


def test_test_splits_inherit_and_hide_answers():
    catalog = load_catalog()
    test, val = catalog.get("DocVQA_TEST"), catalog.get("DocVQA_VAL")
    assert test.answers_hidden and not val.answers_hidden
    assert test.protocol("paper").max_tiles == val.protocol("paper").max_tiles
    assert test.sources["tsv"].md5 == "6a2f28cac26ef2d3447374e8c6f6c8e9"
    assert test.sources["hub"].split == "test" and test.sources["hub"].config == "DocVQA"
    assert catalog.get("MMBench_TEST_CN").language == "cn"


def _copy_cards(tmp_path: Path) -> Path:
    folder = tmp_path / "cards"
    shutil.copytree(cards_dir(), folder)
    return folder


@pytest.mark.parametrize(("edit", "message"), [
    (("max_tiles = 18", "max_tile = 18"), "field 'protocols.paper.max_tile' is not a known field"),
    (('metric = "anls"', 'metric = "anlz"'), "field 'protocols.paper.metric' has unknown value 'anlz'"),
    (("version = 1", 'version = "one"'), "field 'version' must be an integer"),
    (('default_source = "tsv"', 'default_source = "ftp"'), "field 'default_source' has unknown value 'ftp'"),
    (('prompt_options = { separator = " " }', 'prompt_options = { sep = " " }'),
     "field 'protocols.paper.prompt_options.sep'"),
    (('title = "DocVQA (validation)"\n', ""), "field 'title' is missing"),
    (('rows = "vqa"', 'rows = "anls"'), "field 'cross_check.rows' has unknown value 'anls'"),
    (('headline = ["Overall"]', "headline = []"), "field 'cross_check.headline' must name at least one column"),
])
def test_a_bad_card_names_the_card_and_the_field(tmp_path, edit, message):
    folder = _copy_cards(tmp_path)
    card = folder / "DocVQA_VAL.toml"
    text = card.read_text()
    assert edit[0] in text
    card.write_text(text.replace(edit[0], edit[1], 1))
    with pytest.raises(CatalogError, match=re.escape(f"card DocVQA_VAL.toml: {message}")):
        Catalog.from_directory(folder)


def test_extends_of_an_unknown_card_is_an_error(tmp_path):
    folder = _copy_cards(tmp_path)
    card = folder / "DocVQA_TEST.toml"
    card.write_text(card.read_text().replace('extends = "DocVQA_VAL"', 'extends = "DocVQA_TRAIN"'))
    with pytest.raises(CatalogError, match=r"card DocVQA_TEST.toml: field 'extends' names unknown card 'DocVQA_TRAIN'"):
        Catalog.from_directory(folder)


def test_catalog_loads_from_an_installed_non_editable_copy(tmp_path):
    repo = Path(__file__).resolve().parents[2]
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
                    "--target", str(target), str(repo)], check=True, capture_output=True, timeout=300)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    code = ("import evalkit.catalog.cards as c; cat = c.load_catalog(); "
            f"print(len(cat), c.cards_dir().is_relative_to(__import__('pathlib').Path(r'{target}')))")
    result = subprocess.run([sys.executable, "-c", code], cwd=elsewhere, capture_output=True, text=True,
                            env={"PYTHONPATH": str(target), "PATH": "/usr/bin:/bin"}, timeout=120, check=True)
    assert result.stdout.split() == ["24", "True"]
