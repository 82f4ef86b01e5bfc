"""Every suite of the base must be compared: a suite missing, unscored or mismatched in the candidate fails the
gate as "not comparable" (exit 1) unless ``--allow-missing``, which lists it as skipped instead."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from evalkit.cli import main
from evalkit.compare.gate import MISMATCH, NOT_SCORED, compare_runs
from evalkit.compare.output import render_markdown, to_json
from evalkit.compare.stats import NO_CHANGE
from evalkit.errors import DataError
from tests.compare.test_gate import base_scores, flipped, suite_config, write_run

OTHER_PROMPT = {**suite_config("RealWorldQA"), "prompt_version": "RealWorldQA/v2/paper/short"}


def twenty_four_suites(tmp_path: Path) -> tuple[Path, Path]:
    """The issue's case: the candidate lacks 23 of the base's suites; the one it shares is a mismatch."""
    names = [f"SUITE_{number:02d}" for number in range(23)] + ["RealWorldQA"]
    base = write_run(tmp_path / "base", {name: base_scores()[:20] for name in names})
    candidate = write_run(tmp_path / "cand", {"RealWorldQA": base_scores()[:20]},
                          configs={"RealWorldQA": OTHER_PROMPT})
    return base, candidate


def test_a_candidate_that_lacks_most_suites_fails_not_comparable(tmp_path):
    base, candidate = twenty_four_suites(tmp_path)
    result = compare_runs(base, candidate, bootstrap=200)
    assert result.exit_code == 1
    assert result.regressed == []
    assert len(result.not_comparable) == 24
    assert result.not_comparable[0] == ("RealWorldQA", "configuration differs: prompt_version")
    assert result.not_comparable[1] == ("SUITE_00", "missing in the candidate")
    text = render_markdown(result)
    assert text.startswith("# Regression gate: FAIL (not comparable): 24 suite(s) of the base not compared "
                           "(RealWorldQA, SUITE_00, SUITE_01, ")
    assert "| RealWorldQA | configuration differs: prompt_version |" in text
    assert "| SUITE_22 | missing in the candidate |" in text
    document = to_json(result)
    assert document["verdict"] == "FAIL (not comparable)" and document["exit_code"] == 1
    assert document["passed"] is False and document["allow_missing"] is False and document["skipped"] == []
    assert document["not_comparable"][1] == {"suite": "SUITE_00", "reason": "missing in the candidate"}


def test_allow_missing_with_nothing_left_to_compare_still_fails(tmp_path):
    base, candidate = twenty_four_suites(tmp_path)
    result = compare_runs(base, candidate, bootstrap=200, allow_missing=True)
    assert result.exit_code == 1
    assert result.not_comparable == [] and len(result.skipped) == 24
    assert render_markdown(result).startswith("# Regression gate: FAIL (not comparable): no suite was compared "
                                              "(24 skipped with --allow-missing)")


def test_a_suite_missing_in_the_candidate_fails_unless_allowed(tmp_path):
    base = write_run(tmp_path / "base", {"AI2D_TEST": base_scores(), "OCRBench": [1.0, 0.0]})
    candidate = write_run(tmp_path / "cand", {"AI2D_TEST": base_scores(), "MME": [1.0]})
    strict = compare_runs(base, candidate, bootstrap=500)
    assert (strict.exit_code, strict.not_comparable) == (1, [("OCRBench", "missing in the candidate")])
    allowed = compare_runs(base, candidate, bootstrap=500, allow_missing=True)
    assert (allowed.exit_code, allowed.not_comparable) == (0, [])
    assert allowed.skipped == [("OCRBench", "missing in the candidate")]
    text = render_markdown(allowed)
    assert text.startswith("# Regression gate: PASS: no significant regression (1 suite(s) skipped with "
                           "--allow-missing: OCRBench)")
    assert "## Skipped (--allow-missing)" in text and "| OCRBench | missing in the candidate |" in text
    assert "only in candidate: MME" in text  # a suite the base lacks is listed, never fatal
    assert to_json(allowed)["skipped"] == [{"suite": "OCRBench", "reason": "missing in the candidate"}]


def test_a_suite_unscored_in_the_candidate_fails_unless_allowed(tmp_path):
    base = write_run(tmp_path / "base", {"AI2D_TEST": base_scores(), "MMVet": [1.0, 0.5]})
    candidate = write_run(tmp_path / "cand", {"AI2D_TEST": base_scores(), "MMVet": [None, None]})
    strict = compare_runs(base, candidate, bootstrap=500)
    assert {s.suite: s.verdict for s in strict.suites} == {"AI2D_TEST": NO_CHANGE, "MMVet": NOT_SCORED}
    assert strict.exit_code == 1
    assert strict.not_comparable == [("MMVet", "not scored in candidate: needs a judge")]
    assert compare_runs(base, candidate, bootstrap=500, allow_missing=True).exit_code == 0
    both = write_run(tmp_path / "both", {"AI2D_TEST": base_scores(), "MMVet": [None, None]})
    unscored_base = compare_runs(both, candidate, bootstrap=500)  # nothing to defend: listed, not failing
    assert unscored_base.exit_code == 0 and unscored_base.not_comparable == []
    assert unscored_base.suites[1].notes == ["not scored in either run: needs a judge"]


def test_a_mismatched_suite_fails_even_with_a_regression_elsewhere_named(tmp_path):
    base = write_run(tmp_path / "base", {"AI2D_TEST": base_scores(), "RealWorldQA": base_scores()})
    candidate = write_run(tmp_path / "cand", {"AI2D_TEST": flipped(base_scores(), 60, 10),
                                              "RealWorldQA": base_scores()}, configs={"RealWorldQA": OTHER_PROMPT})
    result = compare_runs(base, candidate, bootstrap=500)
    assert [s.verdict for s in result.suites][1] == MISMATCH
    assert result.exit_code == 1
    assert render_markdown(result).startswith("# Regression gate: FAIL: 1 suite(s) regressed (AI2D_TEST); "
                                              "1 suite(s) of the base not compared (RealWorldQA)")
    allowed = compare_runs(base, candidate, bootstrap=500, allow_missing=True)
    assert allowed.exit_code == 1 and allowed.regressed == ["AI2D_TEST"]  # skipping never hides a regression
    assert to_json(allowed)["verdict"] == "FAIL"


def test_no_shared_suite_is_a_data_error_even_with_allow_missing(tmp_path):
    base = write_run(tmp_path / "base", {"AI2D_TEST": base_scores()})
    other = write_run(tmp_path / "other", {"MME": [1.0]})
    with pytest.raises(DataError, match="no suite in common"):
        compare_runs(base, other, allow_missing=True)


def test_the_command_line_exit_codes_and_flag(tmp_path, capsys):
    base = write_run(tmp_path / "base", {"AI2D_TEST": base_scores(), "OCRBench": [1.0, 0.0]})
    candidate = write_run(tmp_path / "cand", {"AI2D_TEST": base_scores()})
    assert main(["compare", str(base), str(candidate), "--bootstrap", "200", "--output", str(tmp_path / "g")]) == 1
    assert "FAIL (not comparable)" in capsys.readouterr().out
    gate = json.loads((tmp_path / "g" / "gate.json").read_text())
    assert gate["not_comparable"] == [{"suite": "OCRBench", "reason": "missing in the candidate"}]
    assert "| OCRBench | missing in the candidate |" in (tmp_path / "g" / "summary.md").read_text()
    assert main(["compare", str(base), str(candidate), "--bootstrap", "200", "--allow-missing"]) == 0
    assert "skipped with --allow-missing: OCRBench" in capsys.readouterr().out
    other = write_run(tmp_path / "other", {"MME": [1.0]})
    assert main(["compare", str(base), str(other)]) == 2
    error = capsys.readouterr().err.strip()
    assert len(error.splitlines()) == 1 and "no suite in common" in error
