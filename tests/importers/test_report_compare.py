"""Imported runs are runs: ``report`` puts them on the leaderboard and ``compare`` gates one against another."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from evalkit.cli import main
from tests.data.fixtures import RED, b64
from tests.importers.layouts import write_lmms_eval_logs, write_suite_tsvs, write_vlmevalkit_run
from tests.importers.suites import SuiteCase, TaskDoc, all_cases, mme

ROWS = 40


def many_questions(wrong: int = 0) -> SuiteCase:
    """A DocVQA_VAL set large enough for the gate's test to see a change: the first ``wrong`` replies are wrong."""
    rows = [{"index": 100 + i, "image": b64(RED), "question": f"What is the value in field {i}?",
             "answer": str([f"v{i}"])} for i in range(ROWS)]
    replies = {100 + i: ("no idea" if i < wrong else f"v{i}") for i in range(ROWS)}
    docs = [TaskDoc({"questionId": 5000 + i, "question": f"What is the value in field {i}?", "answers": [f"v{i}"],
                     "docId": i}, replies[100 + i], 100 + i) for i in reversed(range(ROWS))]
    return SuiteCase("DocVQA_VAL", rows, replies, {"docvqa_val": docs})


def cases(wrong: int = 0) -> list[SuiteCase]:
    return [many_questions(wrong), *(case for case in all_cases() if case.name != "DocVQA_VAL")]


def verdicts(gate: Path) -> dict[str, str]:
    return {suite["suite"]: suite["verdict"] for suite in json.loads(gate.read_text())["suites"]}


def test_vlmevalkit_imports_are_reported_and_gated(tmp_path, capsys):
    write_vlmevalkit_run(tmp_path / "base", cases(), layout="2026")
    write_vlmevalkit_run(tmp_path / "worse", cases(wrong=20), layout="flat", model="InternVL-Chat-V1-5-ft")
    for name in ("base", "worse"):
        assert main(["import", "vlmevalkit", str(tmp_path / name), "--output", str(tmp_path / f"run-{name}")]) == 0
    capsys.readouterr()
    assert main(["report", str(tmp_path / "run-base"), str(tmp_path / "run-worse"), "--output",
                 str(tmp_path / "report")]) == 0
    markdown = (tmp_path / "report" / "leaderboard.md").read_text()
    assert "| InternVL-Chat-V1-5 (run) | - | - | - | - | - | - | 250.0† |" in markdown
    assert "| InternVL-Chat-V1-5-ft (run) | - | - | - | - | - | - | 250.0† |" in markdown
    assert "- InternVL-Chat-V1-5, DocVQA_VAL (100): split val has no paper baseline" in markdown
    assert "- InternVL-Chat-V1-5-ft, DocVQA_VAL (50): split val has no paper baseline" in markdown
    assert main(["compare", str(tmp_path / "run-base"), str(tmp_path / "run-base"), "--output",
                 str(tmp_path / "same")]) == 0
    same = "no significant change"
    assert verdicts(tmp_path / "same" / "gate.json") == {
        "DocVQA_VAL": same, "MathVista_MINI": "not scored", "MMBench_DEV_EN": same, "MME": same,
        "MMMU_DEV_VAL": same, "RefCOCO": same}
    assert main(["compare", str(tmp_path / "run-base"), str(tmp_path / "run-worse"), "--output",
                 str(tmp_path / "gate")]) == 1
    found = verdicts(tmp_path / "gate" / "gate.json")
    assert found["DocVQA_VAL"] == "regressed" and found["MME"] == "no significant change"
    assert "Regression gate: FAIL: 1 suite(s) regressed (DocVQA_VAL)" in capsys.readouterr().out


def test_lmms_eval_imports_are_reported_and_gated(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("LMUData", str(tmp_path / "LMUData"))
    write_suite_tsvs(tmp_path / "LMUData", cases())
    flags = []
    for case in cases():
        flags += ["--data-file", f"{case.name}={tmp_path / 'LMUData' / f'{case.name}.tsv'}"]
    write_lmms_eval_logs(tmp_path / "base", cases(), version="head")
    write_lmms_eval_logs(tmp_path / "worse", cases(wrong=25), version="v0.3")
    for name in ("base", "worse"):
        assert main(["import", "lmms-eval", str(tmp_path / name), "--output", str(tmp_path / f"run-{name}"),
                     "--protocol", "paper", *flags]) == 0
    capsys.readouterr()
    assert main(["report", str(tmp_path / "run-base"), "--output", str(tmp_path / "report")]) == 0
    assert "lmms-lab/llava-onevision-qwen2-0.5b-ov" in (tmp_path / "report" / "leaderboard.md").read_text()
    assert main(["compare", str(tmp_path / "run-base"), str(tmp_path / "run-worse"), "--output",
                 str(tmp_path / "gate")]) == 1
    found = verdicts(tmp_path / "gate" / "gate.json")
    assert found["DocVQA_VAL"] == "regressed" and found["MME"] == "no significant change"
    scores = json.loads((tmp_path / "run-worse" / "DocVQA_VAL" / "scores.json").read_text())
    assert scores["protocol"] == "paper" and scores["score"] == 100 * (ROWS - 25) / ROWS


@pytest.fixture(scope="module")
def evalkit_and_imports(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real ``tiny-random`` run, an lmms-eval log folder and a VLMEvalKit work folder, imported, on the same data
    (DocVQA_VAL's 40 questions and MME's 4), all scored under the paper protocol."""
    root = tmp_path_factory.mktemp("gate-imports")
    chosen = [many_questions(), mme()]
    tsvs = write_suite_tsvs(root / "LMUData", chosen)
    flags = [flag for name, tsv in tsvs.items() for flag in ("--data-file", f"{name}={tsv}")]
    write_lmms_eval_logs(root / "logs", chosen, version="head")
    write_vlmevalkit_run(root / "outputs", chosen, layout="2026")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("LMUData", str(root / "LMUData"))
        assert main(["import", "lmms-eval", str(root / "logs"), "--output", str(root / "lmms"), "--protocol", "paper",
                     *flags]) == 0
        assert main(["import", "vlmevalkit", str(root / "outputs"), "--output", str(root / "vlmevalkit"),
                     "--protocol", "paper"]) == 0
        assert main(["import", "vlmevalkit", str(root / "outputs"), "--output", str(root / "vlmevalkit-own")]) == 0
    for name, tsv in tsvs.items():
        assert main(["run", "--model", "tiny-random", "--benchmarks", name, "--data-file", str(tsv), "--output",
                     str(root / "evalkit"), "--max-new-tokens", "4", "--device", "cpu", "--no-progress"]) == 0
    return root


def gate(root: Path, base: str, candidate: str, out: str, *flags: str) -> tuple[int, dict, str]:
    code = main(["compare", str(root / base), str(root / candidate), "--output", str(root / out), *flags])
    return (code, json.loads((root / out / "gate.json").read_text()),
            (root / out / "summary.md").read_text(encoding="utf-8"))


def by_suite(document: dict) -> dict[str, dict]:
    return {suite["suite"]: suite for suite in document["suites"]}


UNKNOWN = ["prompt_version", "max_tiles", "generation", "protocol"]


def test_an_evalkit_run_is_gated_against_its_lmms_eval_numbers_both_ways(evalkit_and_imports, capsys):
    root = evalkit_and_imports
    code, document, summary = gate(root, "evalkit", "lmms", "gate-up")
    suites = by_suite(document)
    assert code == 0 and document["verdict"] == "PASS" and document["not_comparable"] == []
    assert {name: (s["verdict"], s["n_paired"]) for name, s in suites.items()} == {
        "DocVQA_VAL": ("improved", ROWS), "MME": ("no significant change", 4)}
    docvqa = suites["DocVQA_VAL"]
    assert [(item["field"], item["side"], item["tool"]) for item in docvqa["unknown_fields"]] == [
        (name, "candidate", "lmms-eval") for name in UNKNOWN]
    assert docvqa["mismatches"] == [] and docvqa["pairing"]["unhashed"] == 0  # same TSV: hashes pair
    assert docvqa["notes"][:2] == [
        "not recorded by the candidate (imported from lmms-eval), so not checked: " + ", ".join(UNKNOWN),
        "compared on what both runs recorded: card_version, data_checksum, scoring_protocol, metric, judge"]
    assert ("| DocVQA_VAL | candidate | lmms-eval | prompt_version, max_tiles, generation, protocol | "
            "card_version, data_checksum, scoring_protocol, metric, judge |") in summary
    code, document, summary = gate(root, "lmms", "evalkit", "gate-down")
    assert code == 1 and document["regressed"] == ["DocVQA_VAL"] and document["not_comparable"] == []
    assert by_suite(document)["DocVQA_VAL"]["n_paired"] == ROWS
    assert by_suite(document)["DocVQA_VAL"]["unknown_fields"][0]["side"] == "base"
    assert summary.startswith("# Regression gate: FAIL: 1 suite(s) regressed (DocVQA_VAL)")
    capsys.readouterr()


def test_a_vlmevalkit_import_pairs_on_the_dataset_index(evalkit_and_imports, capsys):
    root = evalkit_and_imports
    code, document, summary = gate(root, "vlmevalkit", "evalkit", "gate-vlmevalkit")
    suites = by_suite(document)
    assert code == 1 and document["regressed"] == ["DocVQA_VAL"] and document["not_comparable"] == []
    docvqa = suites["DocVQA_VAL"]
    assert (docvqa["n_paired"], docvqa["pairing"]["unhashed"], docvqa["pairing"]["hash_changed"]) == (ROWS, ROWS, 0)
    assert [item["field"] for item in docvqa["unknown_fields"]] == [*UNKNOWN, "data_checksum"]
    assert ("paired on the dataset index alone: the base recorded no data checksum, so its sample hashes describe "
            "its prediction file, not the dataset's rows") in docvqa["notes"]
    assert "compared on what both runs recorded: card_version, scoring_protocol, metric, judge" in docvqa["notes"]
    assert suites["MME"]["n_paired"] == 4
    assert "| DocVQA_VAL | base | vlmevalkit |" in summary
    capsys.readouterr()


def test_another_protocol_or_card_version_is_still_not_comparable(evalkit_and_imports, capsys):
    root = evalkit_and_imports
    code, document, summary = gate(root, "evalkit", "vlmevalkit-own", "gate-protocol")
    assert code == 1 and document["verdict"] == "FAIL (not comparable)"
    assert summary.startswith("# Regression gate: FAIL (not comparable): 2 suite(s) of the base not compared "
                              "(DocVQA_VAL, MME)")
    reasons = {item["suite"]: item["reason"] for item in document["not_comparable"]}
    assert reasons == {"DocVQA_VAL": "configuration differs: scoring_protocol",
                       "MME": "configuration differs: scoring_protocol, metric"}
    mismatch = by_suite(document)["MME"]["mismatches"]
    assert mismatch == [{"field": "scoring_protocol", "base": "paper", "candidate": "vlmevalkit"},
                        {"field": "metric", "base": "mme", "candidate": "mme_vlmevalkit"}]
    later = root / "lmms-later-card"
    shutil.copytree(root / "lmms", later)
    scores_path = later / "DocVQA_VAL" / "scores.json"
    scores = json.loads(scores_path.read_text())
    scores_path.write_text(json.dumps({**scores, "card_version": scores["card_version"] + 1}))
    code, document, _ = gate(root, "evalkit", "lmms-later-card", "gate-card")
    assert code == 1 and document["not_comparable"] == [
        {"suite": "DocVQA_VAL", "reason": "configuration differs: card_version"}]
    assert gate(root, "evalkit", "lmms-later-card", "gate-card-allowed", "--allow-missing")[0] == 0
    capsys.readouterr()
