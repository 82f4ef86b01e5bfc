"""``evalkit import vlmevalkit``: VLMEvalKit work folders in each layout it has written, six suites."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest

from evalkit.cli import main
from evalkit.config import Environment
from evalkit.scoring.score_file import ScoreRequest, score_file
from tests.importers.layouts import MODEL, VLMEVALKIT_COMMIT, write_vlmevalkit_run
from tests.importers.suites import all_cases, docvqa, mmbench, mme

SUITES = ["DocVQA_VAL", "MMBench_DEV_EN", "MME", "MMMU_DEV_VAL", "MathVista_MINI", "RefCOCO"]
ENVIRONMENT = Environment(data_root=Path("/nonexistent"), cache_dir=Path("/tmp/evalkit-test-cache"),
                          hub_cache_dir=None, offline=True)
# By hand: DocVQA ANLS 1, 1, 1, 1 - 1/12 ('June 2, 1976'), 1 - 3/11 ('May 1980') → 92.88; MMBench: question 1
# right in every rotation, question 2 wrong in one → 50; MME: artwork 100 + 100 (acc+), code_reasoning 50 + 0
# → 250; MMMU (the validation split is the headline): 'B' right, open '5' for '4' wrong → 50; RefCOCO: every
# grid box a hit → 100; MathVista needs a judge.
EXPECTED = {"DocVQA_VAL": 92.88, "MMBench_DEV_EN": 50.0, "MME": 250.0, "MMMU_DEV_VAL": 50.0, "RefCOCO": 100.0,
            "MathVista_MINI": None}


def run_import(source: Path, output: Path, *extra: str) -> int:
    return main(["import", "vlmevalkit", str(source), "--output", str(output), *extra])


def scores(run: Path) -> dict[str, float | None]:
    found = {}
    for name in SUITES:
        score = json.loads((run / name / "scores.json").read_text())["score"]
        found[name] = None if score is None else round(score, 2)
    return found


def manifest(run: Path) -> dict:
    return json.loads((run / "manifest.json").read_text())


def skipped(run: Path) -> dict[str, str]:
    return {Path(entry["path"]).name: entry["reason"] for entry in manifest(run)["imported"]["skipped"]}


def test_a_2026_work_folder_becomes_one_scored_run_with_its_sources_and_skips(tmp_path, capsys):
    model_folder = write_vlmevalkit_run(tmp_path / "outputs", all_cases(), layout="2026")
    assert run_import(tmp_path / "outputs", tmp_path / "run") == 0
    out = capsys.readouterr().out
    assert "imported 6 suites of model 'InternVL-Chat-V1-5'" in out and "| MME " in out
    assert (f"skipped 37 files, each with its reason in {tmp_path / 'run' / 'manifest.json'} (37 of them the tool's "
            "evaluation outputs, checkpoints and logs)\n") in out
    assert scores(tmp_path / "run") == EXPECTED
    document = manifest(tmp_path / "run")
    assert document["model"] == {"name": MODEL, "imported_from": "vlmevalkit"}
    assert document["protocol"] == "vlmevalkit"
    assert list(document["benchmarks"]) == sorted(SUITES, key=str.casefold)
    entry = document["benchmarks"]["MME"]
    real = model_folder / "T20260409-101500" / f"{MODEL}_MME.xlsx"
    assert entry["sources"] == [{"path": str(real), "sha256": hashlib.sha256(real.read_bytes()).hexdigest(),
                                 "size": real.stat().st_size}]
    assert entry["tool"] == {"found_as": str(model_folder / f"{MODEL}_MME.xlsx"), "run": "T20260409-101500",
                             "commit": VLMEVALKIT_COMMIT}
    assert document["imported"]["commits"] == [VLMEVALKIT_COMMIT]
    reasons = skipped(tmp_path / "run")
    assert reasons[f"{MODEL}_MME_acc.csv"].startswith("MME followed by '_acc': an output of VLMEvalKit's")
    assert reasons[f"01_{'MME'}.pkl"].startswith(f"not a prediction file of model '{MODEL}'")
    assert reasons[f"{MODEL}_MME_PREV.pkl"].startswith("MME followed by '_PREV'")
    assert "T20260409-101500_20260409-101500.log" in reasons
    # per suite: _acc.csv and _exact_matching_result.xlsx in the run and linked, _PREV.pkl, 01_<suite>.pkl; a log
    assert len(document["imported"]["skipped"]) == 6 * 6 + 1


def test_each_file_is_scored_as_score_scores_it(tmp_path):
    model_folder = write_vlmevalkit_run(tmp_path / "outputs", all_cases(), layout="2026")
    assert run_import(model_folder, tmp_path / "run") == 0
    for name in SUITES:
        direct = score_file(ScoreRequest(name, model_folder / f"{MODEL}_{name}.xlsx", tmp_path / "direct" / name,
                                         protocol="vlmevalkit"), ENVIRONMENT)
        imported = json.loads((tmp_path / "run" / name / "scores.json").read_text())
        for key in ("score", "n", "metric", "breakdown", "protocol", "other_protocol"):
            assert imported[key] == direct.document[key], (name, key)
        details = (tmp_path / "run" / name / "details.jsonl").read_text()
        assert details == (tmp_path / "direct" / name / "details.jsonl").read_text()


def test_records_keep_vlmevalkits_index_and_reply_and_no_prompt(tmp_path):
    write_vlmevalkit_run(tmp_path / "outputs", all_cases(), layout="2026")
    assert run_import(tmp_path / "outputs", tmp_path / "run") == 0
    records = [json.loads(line) for line in (tmp_path / "run/RefCOCO/predictions.jsonl").read_text().splitlines()]
    assert [record["index"] for record in records] == ["RefCOCO_val_0", "RefCOCO_testA_1", "RefCOCO+_testA_2",
                                                        "RefCOCOg_val_3"]
    assert records[0] == {"index": "RefCOCO_val_0", "instruction": None, "prompt": None,
                          "prediction": "[28, 70, 278, 736]", "error": None}
    identity = json.loads((tmp_path / "run/RefCOCO/run.json").read_text())
    assert identity["imported_from"] == "vlmevalkit" and identity["model"] == MODEL


@pytest.mark.parametrize(("layout", "fmt"), [("2024-11", "xlsx"), ("flat", "xlsx"), ("2026", "tsv"),
                                             ("2026", "json")])
def test_older_layouts_and_other_formats_import_the_same(tmp_path, layout, fmt):
    write_vlmevalkit_run(tmp_path / "outputs", all_cases(), layout=layout, fmt=fmt, stamp="20241120-000000")
    assert run_import(tmp_path / "outputs", tmp_path / "run") == 0
    assert scores(tmp_path / "run") == EXPECTED
    commit = manifest(tmp_path / "run")["benchmarks"]["MME"]["tool"]["commit"]
    assert commit == (None if layout == "flat" else VLMEVALKIT_COMMIT)
    if layout == "2024-11":
        link = tmp_path / "outputs" / MODEL / f"{MODEL}_MME.xlsx"
        assert os.path.isabs(os.readlink(link))


def test_the_linked_run_wins_and_without_links_the_newest(tmp_path):
    outputs = tmp_path / "outputs"
    wrong = {"DocVQA_VAL": {index: "nothing" for index in range(5)}}
    write_vlmevalkit_run(outputs, [docvqa()], layout="2026", stamp="20260501-080000", replies=wrong)
    write_vlmevalkit_run(outputs, [docvqa()], layout="2026", stamp="20260409-101500")  # re-linked: older but linked
    assert run_import(outputs, tmp_path / "linked") == 0
    linked = json.loads((tmp_path / "linked/DocVQA_VAL/scores.json").read_text())["score"]
    assert round(linked, 2) == 92.88
    loser = outputs / MODEL / "T20260501-080000" / f"{MODEL}_DocVQA_VAL.xlsx"
    assert skipped(tmp_path / "linked")[loser.name].startswith("superseded by")
    assert any(entry["path"] == str(loser) and "(the file VLMEvalKit links from the model folder)" in entry["reason"]
               for entry in manifest(tmp_path / "linked")["imported"]["skipped"])
    for link in (outputs / MODEL).iterdir():
        if link.is_symlink():
            link.unlink()
    assert run_import(outputs, tmp_path / "newest") == 0
    assert json.loads((tmp_path / "newest/DocVQA_VAL/scores.json").read_text())["score"] == 0.0
    older = outputs / MODEL / "T20260409-101500" / f"{MODEL}_DocVQA_VAL.xlsx"
    assert any(entry["path"] == str(older) and entry["reason"].endswith("(the newest run)")
               for entry in manifest(tmp_path / "newest")["imported"]["skipped"])


def test_a_broken_link_and_an_unreadable_file_are_listed_and_the_rest_imports(tmp_path, capsys):
    model_folder = write_vlmevalkit_run(tmp_path / "outputs", [docvqa(), mme(), mmbench()], layout="2026")
    (model_folder / "T20260409-101500" / f"{MODEL}_MME.xlsx").write_bytes(b"PK\x03\x04 not a workbook")
    (model_folder / "T20260409-101500" / f"{MODEL}_MMBench_DEV_EN.xlsx").unlink()
    assert run_import(tmp_path / "outputs", tmp_path / "run") == 0
    assert sorted(path.name for path in (tmp_path / "run").iterdir() if (path / "scores.json").exists()) == [
        "DocVQA_VAL"]
    reasons = skipped(tmp_path / "run")
    assert reasons[f"{MODEL}_MMBench_DEV_EN.xlsx"].startswith("broken link to T20260409-101500/")
    assert reasons[f"{MODEL}_MME.xlsx"].startswith(f"cannot read {model_folder / 'T20260409-101500'}")
    out = capsys.readouterr().out
    assert "imported 1 suites" in out
    assert f"  {model_folder / f'{MODEL}_MMBench_DEV_EN.xlsx'}: broken link to T20260409-101500/" in out
    real = model_folder / "T20260409-101500" / f"{MODEL}_MME.xlsx"
    assert f"  {model_folder / f'{MODEL}_MME.xlsx'}: cannot read {real}: " in out


def test_nothing_importable_is_one_line_and_exit_2(tmp_path, capsys):
    folder = tmp_path / "outputs" / MODEL
    folder.mkdir(parents=True)
    (folder / f"{MODEL}_MME_acc.csv").write_text("split,Overall\nnone,0.5\n")
    assert run_import(tmp_path / "outputs", tmp_path / "run") == 2
    err = capsys.readouterr().err.strip()
    assert err == (f"evalkit: error: nothing imported from {tmp_path / 'outputs'}: 1 files skipped (first: "
                   f"{folder / f'{MODEL}_MME_acc.csv'}: MME followed by '_acc': an output of VLMEvalKit's "
                   "evaluation (or another dataset), not a prediction file)")
    assert not (tmp_path / "run").exists()
    assert not list(tmp_path.glob(".run.*"))


def test_two_models_are_refused(tmp_path, capsys):
    write_vlmevalkit_run(tmp_path / "outputs", [mme()], layout="2026")
    write_vlmevalkit_run(tmp_path / "outputs", [mme()], layout="flat", model="Qwen-VL-Chat")
    assert run_import(tmp_path / "outputs", tmp_path / "run") == 2
    err = capsys.readouterr().err
    models = "2 models (InternVL-Chat-V1-5, Qwen-VL-Chat); import one model's folder at a time"
    assert f"{tmp_path / 'outputs'} holds prediction files of {models}" in err


def test_an_existing_run_is_replaced_only_with_force_and_only_if_it_is_a_run(tmp_path, capsys):
    write_vlmevalkit_run(tmp_path / "outputs", [mme()], layout="2026")
    assert run_import(tmp_path / "outputs", tmp_path / "run") == 0
    before = (tmp_path / "run" / "manifest.json").read_text()
    assert run_import(tmp_path / "outputs", tmp_path / "run") == 2
    assert "already exists; pass --force" in capsys.readouterr().err
    assert (tmp_path / "run" / "manifest.json").read_text() == before
    assert run_import(tmp_path / "outputs", tmp_path / "run", "--force", "--protocol", "paper") == 0
    assert json.loads((tmp_path / "run/MME/scores.json").read_text())["protocol"] == "paper"
    precious = tmp_path / "precious"
    precious.mkdir()
    (precious / "notes.txt").write_text("keep me")
    assert run_import(tmp_path / "outputs", precious, "--force") == 2
    assert "not an evalkit run folder" in capsys.readouterr().err
    assert (precious / "notes.txt").read_text() == "keep me"


def test_a_missing_folder_or_tool_is_one_line(tmp_path, capsys):
    assert run_import(tmp_path / "nowhere", tmp_path / "run") == 2
    assert capsys.readouterr().err.strip() == f"evalkit: error: {tmp_path / 'nowhere'}: no such folder"
    with pytest.raises(SystemExit) as exit_info:
        main(["import", "opencompass", str(tmp_path), "--output", str(tmp_path / "run")])
    assert exit_info.value.code == 2
    assert "invalid choice: 'opencompass'" in capsys.readouterr().err
