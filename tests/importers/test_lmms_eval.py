"""``evalkit import lmms-eval``: sample logs of v0.2 (own folder layout), v0.3, v0.4 and HEAD (tracker layout)."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest

from evalkit.cli import main
from tests.importers.layouts import CHECKPOINT, write_lmms_eval_logs, write_suite_tsvs
from tests.importers.suites import all_cases, mathvista, mme, mmmu
from tests.judge.server import FakeOpenAIServer, Reply

SUITES = ["DocVQA_VAL", "MathVista_MINI", "MMBench_DEV_EN", "MME", "MMMU_DEV_VAL", "RefCOCO"]
VERSIONS = ["v0.2", "v0.3", "v0.4", "head"]
# Under the vlmevalkit protocol, by hand: DocVQA's three matched replies are right → 100; MMBench: question 1
# right in all three rotations, question 2 wrong in one of four → 50; MME: artwork 100 + 100, code_reasoning
# 50 + 0 → 250; MMMU: the two validation rows right → 100; RefCOCO: replies 0.01 off each fraction → 100.
EXPECTED = {"DocVQA_VAL": 100.0, "MathVista_MINI": None, "MMBench_DEV_EN": 50.0, "MME": 250.0,
            "MMMU_DEV_VAL": 100.0, "RefCOCO": 100.0}


@pytest.fixture(scope="module")
def tsvs(tmp_path_factory) -> dict[str, Path]:
    return write_suite_tsvs(tmp_path_factory.mktemp("data"), all_cases())


def data_flags(tsvs: dict[str, Path], names: list[str] | None = None) -> list[str]:
    flags = []
    for name in names if names is not None else list(tsvs):
        flags += ["--data-file", f"{name}={tsvs[name]}"]
    return flags


def run_import(source: Path, output: Path, *extra: str) -> int:
    return main(["import", "lmms-eval", str(source), "--output", str(output), *extra])


def records(run: Path, suite: str) -> list[dict]:
    return [json.loads(line) for line in (run / suite / "predictions.jsonl").read_text().splitlines()]


def manifest(run: Path) -> dict:
    return json.loads((run / "manifest.json").read_text())


def skipped_reasons(run: Path) -> dict[str, str]:
    return {Path(entry["path"]).name: entry["reason"] for entry in manifest(run)["imported"]["skipped"]}


def expected_records() -> dict[str, list[tuple[object, str]]]:
    """(index, reply) per suite in row order: every task row with a TSV row (MathVista from its format task)."""
    wanted: dict[str, list[tuple[object, str]]] = {}
    for case in all_cases():
        tasks = {task: docs for task, docs in case.tasks.items()
                 if not task.startswith("mathvista") or task == "mathvista_testmini_format"}
        matched = sorted(((doc.index, doc.reply) for docs in tasks.values() for doc in docs if doc.index is not None),
                         key=lambda pair: [row["index"] for row in case.rows].index(pair[0]))
        wanted[case.name] = matched
    return wanted


@pytest.mark.parametrize("version", VERSIONS)
def test_every_layout_imports_six_suites_onto_their_rows(tmp_path, tsvs, version, monkeypatch):
    monkeypatch.setenv("LMUData", str(tmp_path / "empty"))
    write_lmms_eval_logs(tmp_path / "logs", all_cases(), version=version)
    assert run_import(tmp_path / "logs", tmp_path / "run", *data_flags(tsvs)) == 0
    for suite, pairs in expected_records().items():
        found = records(tmp_path / "run", suite)
        assert [(record["index"], record["prediction"]) for record in found] == pairs, suite
        assert all(record["prompt"] is None and record["error"] is None for record in found)
    for suite, score in EXPECTED.items():
        found = json.loads((tmp_path / "run" / suite / "scores.json").read_text())["score"]
        assert (None if found is None else round(found, 2)) == score, suite
    document = manifest(tmp_path / "run")
    assert document["model"] == {"name": CHECKPOINT, "imported_from": "lmms-eval"}
    assert document["imported"]["layouts"] == (["v0.2.0-v0.2.3"] if version == "v0.2"
                                               else ["tracker (v0.2.4 and later)"])
    assert document["imported"]["versions"] == (["main@75571cfe"] if version == "head" else [])


def test_the_instruction_is_the_logged_prompt_in_every_version(tmp_path, tsvs):
    prompts = {}
    for version in VERSIONS:
        write_lmms_eval_logs(tmp_path / version, [mme()], version=version)
        assert run_import(tmp_path / version, tmp_path / f"run-{version}", *data_flags(tsvs, ["MME"])) == 0
        prompts[version] = [record["instruction"] for record in records(tmp_path / f"run-{version}", "MME")]
    assert prompts["v0.2"] == prompts["v0.3"] == prompts["v0.4"] == prompts["head"]
    assert prompts["head"][0] == ("Is this artwork created by Leonardo? Please answer yes or no.\n"
                                  "Answer the question using a single word or phrase.")


def test_unmatched_samples_are_listed_with_their_reasons_never_guessed(tmp_path, tsvs):
    folder = write_lmms_eval_logs(tmp_path / "logs", all_cases(), version="head")
    assert run_import(tmp_path / "logs", tmp_path / "run", *data_flags(tsvs)) == 0
    benchmarks = manifest(tmp_path / "run")["benchmarks"]
    reasons = {suite: [(entry["doc_id"], entry["reason"]) for entry in entry_["unmatched"]]
               for suite, entry_ in benchmarks.items()}
    assert reasons["DocVQA_VAL"] == [(2, "2 rows fit (index 2, 3): not guessed")]
    assert reasons["MMBench_DEV_EN"] == [(7, "no row's index fits gpt_eval_score.index = 9 (equal)")]
    assert reasons["MMMU_DEV_VAL"] == [(2, "no row's id fits mmmu_acc.id = 'validation_Biology_9' (equal)")]
    assert reasons["MME"] == reasons["RefCOCO"] == reasons["MathVista_MINI"] == []
    assert benchmarks["DocVQA_VAL"]["unmatched"][0]["where"] == f"{folder}/20260101_120000_samples_docvqa_val.jsonl:3"
    assert benchmarks["MMMU_DEV_VAL"]["notes"][0] == "2 of 3 rows answered by the logs"
    skipped = skipped_reasons(tmp_path / "run")
    assert skipped == {
        "20260101_120000_samples_refcoco_bbox_rec_test.jsonl":
            "lmms-eval task 'refcoco_bbox_rec_test' is not a suite of evalkit's catalog",
        "20260101_120000_samples_mathvista_testmini_solution.jsonl":
            "'mathvista_testmini_solution' asks the same rows as 'mathvista_testmini_format', which the card "
            "prefers; one prompt style is imported",
        "20260101_120000_samples_mathvista_testmini_cot.jsonl":
            "'mathvista_testmini_cot' asks the same rows as 'mathvista_testmini_format', which the card prefers; "
            "one prompt style is imported",
    }


def test_sources_tool_facts_and_data_are_recorded(tmp_path, tsvs):
    folder = write_lmms_eval_logs(tmp_path / "logs", all_cases(), version="head")
    assert run_import(tmp_path / "logs", tmp_path / "run", *data_flags(tsvs)) == 0
    entry = manifest(tmp_path / "run")["benchmarks"]["RefCOCO"]
    logs = sorted(folder.glob("*_samples_ref*_bbox_rec_[!t]*.jsonl")) + sorted(folder.glob("*rec_test?.jsonl"))
    assert sorted(source["path"] for source in entry["sources"]) == sorted(str(path) for path in logs)
    first = next(source for source in entry["sources"] if source["path"] == str(logs[0]))
    assert first["sha256"] == hashlib.sha256(logs[0].read_bytes()).hexdigest()
    assert first["size"] == logs[0].stat().st_size
    tasks = {fact["task"]: fact for fact in entry["tool"]["tasks"]}
    assert tasks["refcoco+_bbox_rec_testA"]["dataset"] == "lmms-lab/RefCOCO"
    assert tasks["refcoco+_bbox_rec_testA"]["lmms_eval_version"] == "main@75571cfe"
    assert entry["data"]["source"] == "file" and entry["data"]["location"] == str(tsvs["RefCOCO"])
    assert entry["data_checksum"] == hashlib.md5(tsvs["RefCOCO"].read_bytes()).hexdigest()
    assert [record["lmms_eval"] for record in records(tmp_path / "run", "RefCOCO")] == [
        {"task": "refcoco_bbox_rec_val", "doc_id": 0}, {"task": "refcoco_bbox_rec_testA", "doc_id": 0},
        {"task": "refcoco+_bbox_rec_testA", "doc_id": 0}, {"task": "refcocog_bbox_rec_val", "doc_id": 0}]


def test_without_a_suites_rows_it_says_so_and_imports_the_rest(tmp_path, tsvs, monkeypatch, capsys):
    lmudata = tmp_path / "LMUData"
    lmudata.mkdir()
    shutil.copy(tsvs["MME"], lmudata / "MME.tsv")  # our MME.tsv is not VLMEvalKit's file: its md5 differs
    monkeypatch.setenv("LMUData", str(lmudata))
    write_lmms_eval_logs(tmp_path / "logs", [mme(), mmmu()], version="v0.3")
    assert run_import(tmp_path / "logs", tmp_path / "none") == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("evalkit: error: nothing imported from") and "\n" not in err
    assert run_import(tmp_path / "logs", tmp_path / "run", *data_flags(tsvs, ["MMMU_DEV_VAL"])) == 0
    skipped = skipped_reasons(tmp_path / "run")
    assert skipped["20260101_120000_samples_mme.jsonl"] == (
        f"{lmudata / 'MME.tsv'}: md5 is {hashlib.md5(tsvs['MME'].read_bytes()).hexdigest()}, expected "
        "b36b43c3f09801f5d368627fb92187c3; offline, so it cannot be downloaded again (run --no-verify-checksum uses "
        "the file as it is)")
    (lmudata / "MME.tsv").unlink()
    assert run_import(tmp_path / "logs", tmp_path / "run", "--force", *data_flags(tsvs, ["MMMU_DEV_VAL"])) == 0
    skipped = skipped_reasons(tmp_path / "run")
    assert skipped["20260101_120000_samples_mme.jsonl"] == (
        f"MME's rows are needed to find each sample's index, and {lmudata / 'MME.tsv'} is missing (place "
        "VLMEvalKit's MME.tsv there, or pass --data-file MME=PATH)")
    assert [path.name for path in (tmp_path / "run").iterdir() if (path / "scores.json").exists()] == [
        "MMMU_DEV_VAL"]


def test_the_newest_log_of_a_task_wins_and_a_torn_line_is_listed(tmp_path, tsvs):
    write_lmms_eval_logs(tmp_path / "logs", [mme()], version="head", stamp="20260101_120000")
    newer = write_lmms_eval_logs(tmp_path / "logs", [mme()], version="head", stamp="20260102_090000")
    samples = newer / "20260102_090000_samples_mme.jsonl"
    lines = samples.read_text().splitlines(keepends=True)
    samples.write_text("".join(line.replace('"filtered_resps": "Yes"', '"filtered_resps": "No"') for line in lines)
                       + '{"doc_id": 4, "target": "Ye')
    assert run_import(tmp_path / "logs", tmp_path / "run", *data_flags(tsvs, ["MME"])) == 0
    assert [record["prediction"] for record in records(tmp_path / "run", "MME")] == ["No", "No", "No", "No"]
    entry = manifest(tmp_path / "run")["benchmarks"]["MME"]
    assert entry["unmatched"] == [{"task": "mme", "doc_id": None, "where": f"{samples}:5",
                                   "reason": "not valid JSON (Unterminated string starting at)"}]
    skipped = manifest(tmp_path / "run")["imported"]["skipped"]
    assert skipped == [{"path": str(newer / "20260101_120000_samples_mme.jsonl"),
                        "reason": f"superseded by the newer log {samples}", "routine": False}]


def test_logs_of_two_models_are_refused(tmp_path, tsvs, capsys):
    write_lmms_eval_logs(tmp_path / "logs", [mme()], version="head")
    other = write_lmms_eval_logs(tmp_path / "other", [mme()], version="head")
    results = other / "20260101_120000_results.json"
    results.write_text(results.read_text().replace(CHECKPOINT, "Qwen/Qwen2-VL-2B-Instruct"))
    shutil.copytree(other, tmp_path / "logs" / "Qwen__Qwen2-VL-2B-Instruct")
    assert run_import(tmp_path / "logs", tmp_path / "run", *data_flags(tsvs, ["MME"])) == 2
    assert "holds lmms-eval logs of 2 models (Qwen/Qwen2-VL-2B-Instruct, lmms-lab/llava" in capsys.readouterr().err


def test_a_bad_data_file_flag_is_one_line(tmp_path, capsys):
    write_lmms_eval_logs(tmp_path / "logs", [mme()], version="head")
    assert run_import(tmp_path / "logs", tmp_path / "run", "--data-file", "MME") == 2
    assert capsys.readouterr().err.strip() == "evalkit: error: --data-file takes SUITE=PATH, got 'MME'"
    assert run_import(tmp_path / "logs", tmp_path / "run", "--data-file", "NoSuch=x.tsv") == 2
    assert "unknown benchmark 'NoSuch'" in capsys.readouterr().err
    assert not (tmp_path / "run").exists()


def test_a_judge_scores_what_rules_cannot(tmp_path, tsvs, monkeypatch):
    monkeypatch.setenv("EVALKIT_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-secret")
    write_lmms_eval_logs(tmp_path / "logs", [mathvista()], version="head")
    extracted = {"The answer is 1000.": "1000", "The answer is 0.5.": "0.7", "The answer is Yes.": "Yes"}

    def extract(body: dict) -> Reply | None:
        text = json.dumps(body["messages"], ensure_ascii=False)
        return next((Reply(answer) for reply, answer in extracted.items() if reply in text), None)

    with FakeOpenAIServer(respond=extract) as server:
        assert run_import(tmp_path / "logs", tmp_path / "run", *data_flags(tsvs, ["MathVista_MINI"]), "--judge",
                          "openai:gpt-4-turbo", "--judge-base-url", server.url) == 0
        asked = sorted(answer for request in server.requests for reply, answer in extracted.items()
                       if reply in json.dumps(request.body["messages"], ensure_ascii=False))
    assert asked == ["0.7", "1000", "Yes"]  # '105' was found among the choices by rule
    details = [json.loads(line) for line in (tmp_path / "run/MathVista_MINI/details.jsonl").read_text().splitlines()]
    assert [(d["index"], d["extracted"], d["score"], d["method"]) for d in details] == [
        (1, "B", 1.0, "rule"), (2, "1000", 1.0, "judge"), (3, "0.7", 0.0, "judge"), (4, "Yes", 1.0, "judge")]
    scores = json.loads((tmp_path / "run" / "MathVista_MINI" / "scores.json").read_text())
    assert scores["score"] == 75.0 and scores["judge"]["model"] == "gpt-4-turbo"
    assert manifest(tmp_path / "run")["judge"]["spec"] == "openai:gpt-4-turbo"
