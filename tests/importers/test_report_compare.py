"""Imported runs are runs: ``report`` puts them on the leaderboard and ``compare`` gates one against another."""

from __future__ import annotations

import json
from pathlib import Path

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


def test_an_evalkit_run_and_an_import_are_not_compared_blindly(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("LMUData", str(tmp_path / "LMUData"))
    [tsv] = write_suite_tsvs(tmp_path / "LMUData", [mme()]).values()
    write_lmms_eval_logs(tmp_path / "logs", [mme()], version="head")
    assert main(["import", "lmms-eval", str(tmp_path / "logs"), "--output", str(tmp_path / "imported"),
                 "--protocol", "paper", "--data-file", f"MME={tsv}"]) == 0
    assert main(["run", "--model", "tiny-random", "--benchmarks", "MME", "--data-file", str(tsv), "--output",
                 str(tmp_path / "evalkit-run"), "--max-new-tokens", "4", "--device", "cpu", "--no-progress"]) == 0
    capsys.readouterr()
    assert main(["compare", str(tmp_path / "evalkit-run"), str(tmp_path / "imported"), "--output",
                 str(tmp_path / "gate")]) == 0
    [suite] = json.loads((tmp_path / "gate" / "gate.json").read_text())["suites"]
    assert suite["verdict"] == "mismatch"
    assert {item["field"] for item in suite["mismatches"]} >= {"prompt_version", "generation", "protocol"}
