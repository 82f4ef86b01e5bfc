"""The HTML page opens with the runs' own scores: every suite each run scored, paper split or not."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from evalkit.report.baselines import load_baselines
from evalkit.report.leaderboard import build_report
from evalkit.report.payload import build_payload
from evalkit.report.write import write_report
from evalkit.run.folder import load_run
from tests.report import alpha_suites, scores, write_run
from tests.report.browser import CHROMIUM, SKIP_REASON, Node, dump_dom, file_url, parse_dom
from tests.report.conftest import TINY_LIMIT, TINY_SUITES

needs_chromium = pytest.mark.skipif(CHROMIUM is None, reason=SKIP_REASON)
AI2D_NOTE = "scored under the vlmevalkit protocol (vlmevalkit-e8e78f05), not the paper's (internvl-83c72bc)"


def alpha_with_errors_and_the_other_protocol(root: Path) -> Path:
    suites = alpha_suites()
    suites["DocVQA_VAL"]["breakdown"] = {"errors": 3}
    suites["DocVQA_VAL"]["other_protocol"] = {"protocol": "vlmevalkit", "other_score": 84.126,
                                              "samples_scored_differently": 2}
    suites["ChartQA_TEST"]["note"] = "predictions were made under the vlmevalkit protocol and scored under paper"
    run = write_run(root, "alpha-7b", suites)
    manifest = json.loads((run / "manifest.json").read_text())
    manifest["benchmarks"]["OCRBench"] = {"errors": 5}
    (run / "manifest.json").write_text(json.dumps(manifest))
    return run


def test_every_suite_of_every_run_is_listed_in_run_order_with_what_else_to_know(tmp_path):
    alpha = load_run(alpha_with_errors_and_the_other_protocol(tmp_path / "alpha"))
    beta = load_run(write_run(tmp_path / "beta", "beta-26b", {"MMBench_DEV_EN": scores("MMBench_DEV_EN", "circular",
                                                                                      71.5, n=4329)}))
    rows = build_payload(build_report([alpha, beta], load_baselines()))["scores"]
    assert [(row["run"], row["suite"]) for row in rows] == [
        ("alpha-7b", name) for name in alpha_suites()] + [("beta-26b", "MMBench_DEV_EN")]
    by_suite = {(row["run"], row["suite"]): row for row in rows}
    docvqa = by_suite[("alpha-7b", "DocVQA_VAL")]
    assert (docvqa["metric"], docvqa["score"], docvqa["n"], docvqa["errors"], docvqa["protocol"]) == (
        "anls", 85.25, 10, 3, "paper")
    assert docvqa["note"] == "vlmevalkit protocol: 84.13 (2 samples scored differently)"
    assert docvqa["paper"] == "not compared: split val has no paper baseline (the paper reports test)"
    assert by_suite[("alpha-7b", "OCRBench")]["errors"] == 5  # from the manifest when scores.json has no count
    assert by_suite[("alpha-7b", "MME")]["errors"] is None
    chartqa = by_suite[("alpha-7b", "ChartQA_TEST")]
    assert chartqa["note"] == "predictions were made under the vlmevalkit protocol and scored under paper"
    assert chartqa["paper"] == "in the paper's tables as ChartQA"
    mmvet = by_suite[("alpha-7b", "MMVet")]
    assert (mmvet["score"], mmvet["note"], mmvet["paper"]) == (None, "not scored: needs a judge (GPT-4 grading)", "")
    assert by_suite[("alpha-7b", "AI2D_TEST")]["paper"] == f"in the paper's tables as AI2D; {AI2D_NOTE}"
    assert by_suite[("alpha-7b", "MMT-Bench_ALL")]["paper"] == "in the paper's tables as MMT-Bench, MMT-Bench*"
    mmbench = by_suite[("beta-26b", "MMBench_DEV_EN")]
    assert (mmbench["score"], mmbench["n"]) == (71.5, 4329)
    assert mmbench["paper"] == "not compared: split dev has no paper baseline (the paper reports test)"


def scores_rows(dom: Node) -> list[list[str]]:
    table = dom.find("table", id="scores-table")
    return [[td.text() for td in tr.find_all("td")] for tr in table.find_all("tr", cls="own")]


@needs_chromium
def test_the_page_opens_with_the_runs_own_scores_for_splits_the_paper_did_not_report(tiny_run, tmp_path):
    written = write_report([tiny_run.run_dir], tmp_path / "board", environment=tiny_run.environment)
    dom = parse_dom(dump_dom(file_url(written.files[2])))
    body = dom.find("body")
    assert body.attrs.get("data-ready") == "1" and "data-error" not in body.attrs
    sections = [node.attrs["id"] for node in dom.find("main").find_all("section")]
    assert sections[:2] == ["scores-section", "leaderboard-section"]
    expected = []
    for name in TINY_SUITES:
        document = json.loads((tiny_run.run_dir / name / "scores.json").read_text())
        assert 0 < document["n"] <= TINY_LIMIT and document["score"] is not None
        expected.append(["tiny-random", name, document["metric"], f"{document['score']:.2f}", str(document["n"]),
                         "0", "paper"])
    rows = scores_rows(dom)
    assert [row[:7] for row in rows] == expected
    assert rows[0][8] == "not compared: split val has no paper baseline (the paper reports test)"
    assert rows[1][8] == "not compared: split dev has no paper baseline (the paper reports test)"
    assert rows[0][7].startswith("vlmevalkit protocol: ")
    # the paper's table has no value for either suite: only the scores table shows them
    leaderboard = dom.find("table", id="leaderboard-0").find("tr", data_model="tiny-random")
    assert {td.text() for td in leaderboard.find_all("td") if "data-suite" in td.attrs} == {"\u2013"}
