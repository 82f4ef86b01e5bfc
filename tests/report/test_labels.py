"""``report --label NAME=RUN_DIR``: the name in all three outputs, the default for plain runs, and bad labels."""

from __future__ import annotations

import json
import re
from pathlib import Path

import openpyxl
import pytest

from evalkit.cli.main import main
from evalkit.report.leaderboard import build_report
from evalkit.run.folder import load_run
from tests.report import alpha_suites, beta_suites, write_run


@pytest.fixture
def runs(tmp_path: Path) -> tuple[Path, Path]:
    return (write_run(tmp_path / "base", "alpha-7b", alpha_suites()),
            write_run(tmp_path / "cand", "beta-26b", beta_suites()))


def html_data(path: Path) -> dict:
    match = re.search(r'<script type="application/json" id="report-data">(.*?)</script>',
                      path.read_text(encoding="utf-8"), re.DOTALL)
    assert match is not None
    return json.loads(match.group(1))


def exit_code(argv: list[str]) -> int:
    """The exit code of ``evalkit`` with ``argv`` (argparse's own errors end in SystemExit)."""
    try:
        return main(argv)
    except SystemExit as exc:
        return int(exc.code or 0)


def one_error_line(capsys) -> str:
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1, lines
    return lines[0]


def test_a_label_names_its_run_in_the_xlsx_md_and_html_and_a_plain_run_keeps_its_name(runs, tmp_path, capsys):
    base, cand = runs
    out = tmp_path / "board"
    assert main(["report", str(cand), "--label", f"step-1000={base}", "--output", str(out)]) == 0
    markdown = (out / "leaderboard.md").read_text(encoding="utf-8")
    assert "| beta-26b (run) |" in markdown and "| step-1000 (run) |" in markdown
    assert "alpha-7b" not in markdown and "### step-1000" in markdown
    summary = openpyxl.load_workbook(out / "leaderboard.xlsx")["Summary"]
    assert [summary.cell(row=r, column=1).value for r in (2, 3)] == ["beta-26b", "step-1000"]
    data = html_data(out / "leaderboard.html")
    assert [row["name"] for row in data["rows"] if row["kind"] == "run"] == ["beta-26b", "step-1000"]
    assert {entry["run"] for entry in data["scores"]} == {"beta-26b", "step-1000"}
    assert {group["run"] for group in data["samples"]} == {"beta-26b", "step-1000"}
    assert data["title"] == "evalkit leaderboard: beta-26b, step-1000"
    assert "step-1000" in capsys.readouterr().out


def test_a_labelled_run_listed_plainly_too_is_one_run_in_its_place(runs, tmp_path):
    base, cand = runs
    out = tmp_path / "board"
    assert main(["report", str(base), str(cand), "--label", f"candidate={cand}", "--output", str(out)]) == 0
    data = html_data(out / "leaderboard.html")
    assert [row["name"] for row in data["rows"] if row["kind"] == "run"] == ["alpha-7b", "candidate"]


def test_two_runs_of_one_model_get_distinct_labels_and_the_folder_by_default(tmp_path):
    first = load_run(write_run(tmp_path / "step1", "m", beta_suites()))
    second = load_run(write_run(tmp_path / "step2", "m", beta_suites()))
    assert [run.label for run in build_report([first, second]).runs] == ["m (step1)", "m (step2)"]
    assert [run.label for run in build_report([first, second], labels=["m", None]).runs] == ["m", "m (step2)"]


def test_a_default_label_never_takes_a_baselines_name(tmp_path):
    run = load_run(write_run(tmp_path / "mine", "GPT-4V", beta_suites()))
    report = build_report([run])
    assert report.runs[0].label == "GPT-4V (mine)"
    assert [row.label for row in report.rows].count("GPT-4V") == 1


@pytest.mark.parametrize(("argv", "message"), [
    (["--label", "no-equals-sign"], "argument --label: 'no-equals-sign' is not NAME=RUN_DIR"),
    (["--label", "=runs/x"], "argument --label: '=runs/x' is not NAME=RUN_DIR"),
    (["--label", "GPT-4V={base}"], "--label GPT-4V={base}: 'GPT-4V' is a model of the paper's tables; choose "
                                   "another label"),
    (["--label", "same={base}", "--label", "same={cand}"],
     "--label same={cand}: the label 'same' is already given to {base}"),
    (["--label", "one={base}", "--label", "two={base}"], "--label two={base}: that run is already labelled 'one'"),
    ([], "report: name at least one RUN_DIR (or --label NAME=RUN_DIR)"),
])
def test_bad_labels_are_one_line_naming_the_flag_and_write_nothing(runs, tmp_path, capsys, argv, message):
    base, cand = runs
    out = tmp_path / "board"
    argv = [arg.format(base=base, cand=cand) for arg in argv]
    assert exit_code(["report", *argv, "--output", str(out)]) == 2
    line = one_error_line(capsys)
    assert line.startswith("evalkit: error: ") and message.format(base=base, cand=cand) in line
    assert not out.exists()
