"""render_markdown, checked as exact text on a tiny case."""

from __future__ import annotations

import pytest

from evalkit.report.baselines import Baseline, Baselines, load_baselines
from evalkit.report.leaderboard import build_report
from evalkit.report.markdown import escape, number, render_markdown, signed
from evalkit.run.folder import load_run
from tests.report import alpha_suites, beta_suites, scores, write_run

TINY_BASELINES = Baselines([
    Baseline("GPT-4V", None, False, "DocVQA_TEST", "test", "anls", 88.4, "s"),
    Baseline("InternVL-Chat-V1.5", "26B", True, "DocVQA_TEST", "test", "anls", 90.9, "s"),
    Baseline("GPT-4V", None, False, "OCRBench", "test", "final_score_0_1000", 645.0, "s"),
    Baseline("InternVL-Chat-V1.5", "26B", True, "OCRBench", "test", "final_score_0_1000", 724.0, "s"),
])

EXPECTED = """\
# Results against the InternVL 1.5 paper

## Table 2

| Model | #Param | DocVQA | OCRBench | AI2D |
| --- | --- | ---: | ---: | ---: |
| my\\|model (run) | - | **91.3** | 700 | 50.0† |
| GPT-4V | - | 88.4 | 645 | - |
| InternVL-Chat-V1.5 | 26B | 90.9 | **724** | - |

Best value per column in **bold**; (run) marks the runs. † scored under another protocol than the paper's: shown, \
not compared.

## Gaps (run − GPT-4V, InternVL-Chat-V1.5)

### my\\|model

| Column | my\\|model | Δ GPT-4V | Δ InternVL-Chat-V1.5 |
| --- | ---: | ---: | ---: |
| DocVQA | 91.3 | +2.9 | +0.4 |
| OCRBench | 700 | +55 | -24 |

## Not compared

- my\\|model, AI2D_TEST (50): scored under the vlmevalkit protocol (vlmevalkit-e8e78f05), not the paper's \
(internvl-83c72bc)
- my\\|model, MMVet: not scored: needs a judge<br>run with --judge \\<spec\\>
"""


def test_a_tiny_report_exactly(tmp_path):
    run = load_run(write_run(tmp_path / "run", "my|model", {
        "DocVQA_TEST": scores("DocVQA_TEST", "anls", 91.25),
        "OCRBench": scores("OCRBench", "ocrbench", 700.4),
        "MMVet": scores("MMVet", "mmvet_judge", None, reason="needs a judge\nrun with --judge <spec>"),
        "AI2D_TEST": scores("AI2D_TEST", "accuracy", 50.0, protocol="vlmevalkit"),
    }))
    assert render_markdown(build_report([run], TINY_BASELINES)) == EXPECTED


def test_the_full_report_has_every_section(tmp_path):
    alpha = load_run(write_run(tmp_path / "alpha", "alpha-7b", alpha_suites()))
    beta = load_run(write_run(tmp_path / "beta", "beta-26b", beta_suites()))
    text = render_markdown(build_report([alpha, beta], load_baselines()))
    headings = [line for line in text.splitlines() if line.startswith("#")]
    assert headings == ["# Results against the InternVL 1.5 paper", "## Table 2", "## Table 3: ConvBench",
                        "## Table 3: MMT-Bench", "## Grounding (InternVL README)",
                        "## Gaps (run − GPT-4V, InternVL-Chat-V1.5)", "### alpha-7b", "### beta-26b", "## Not compared"]
    assert "| beta-26b (run) | - | **95.0** | **83.8** |" in text
    assert "| InternVL-Chat-V1.5 | 26B | 90.9 | **83.8** |" in text
    assert "| MMT-Bench | 60.0 | -2.0 | +1.0 |" in text and "| MMT-Bench\\* | 57.5 | +2.0 | +1.3 |" in text
    assert "- alpha-7b, DocVQA_VAL (85.25): split val has no paper baseline (the paper reports test)" in text
    assert "- beta-26b, MMT-Bench_VAL (50): split val has no paper baseline (the paper reports ALL)" in text
    rows = [line for line in text.splitlines() if line.startswith("| ")]
    assert all(line.count(" | ") == rows[0].count(" | ") for line in rows[:3])


def test_a_run_without_comparable_values(tmp_path):
    run = load_run(write_run(tmp_path / "run", "m", {"MMVet": scores("MMVet", "mmvet_judge", None, reason="judge")}))
    text = render_markdown(build_report([run], TINY_BASELINES))
    assert "No value of m can be compared with the paper." in text
    assert "- m, MMVet: not scored: judge" in text


@pytest.mark.parametrize(("text", "expected"), [
    ("a|b", "a\\|b"), ("x\ny", "x<br>y"), ("x\r\ny", "x<br>y"), ("**b**", "\\*\\*b\\*\\*"),
    ("<script>", "\\<script\\>"), ("[l](u)", "\\[l\\](u)"), ("a\\|", "a\\\\\\|"), ("plain-name_1.5", "plain-name_1.5"),
])
def test_escape(text, expected):
    assert escape(text) == expected


@pytest.mark.parametrize(("value", "decimals", "expected"), [
    (91.25, 1, "91.3"), (700.4, 0, "700"), (2187.8, 1, "2187.8"), (7.3, 2, "7.30"), (-0.04, 1, "0.0"),
])
def test_number(value, decimals, expected):
    assert number(value, decimals) == expected


def test_signed():
    assert [signed(2.85, 1), signed(-24.0, 0), signed(0.0, 1), signed(None, 1)] == ["+2.9", "-24", "0.0", "n/a"]
