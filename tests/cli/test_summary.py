"""The run's own table: every suite, its score, n, errors, and every note whole."""

from __future__ import annotations

from pathlib import Path

from evalkit.cli.summary import NOTE_WIDTH, report_lines, run_table
from evalkit.run.runner import BenchmarkOutcome
from evalkit.scoring.suite import ScoredBenchmark
from evalkit.scoring.types import SuiteScore

LONG = ("needs a judge (GPT-4 grading); run with --judge openai:gpt-4-0613 (the official grader's model; "
        "VLMEvalKit used gpt-4-1106-preview)")


def outcome(name: str, score: float | None, reason: str | None = None, other: dict | None = None) -> BenchmarkOutcome:
    suite = SuiteScore(metric="accuracy", score=score, n=5, breakdown={}, samples=[], reason=reason)
    document = {"other_protocol": other or {"protocol": "vlmevalkit", "other_score": score,
                                            "samples_scored_differently": 0}}
    scored = ScoredBenchmark(name, suite, document, Path(name))
    return BenchmarkOutcome(name, samples=5, reused=2, generated=3, errors=1, seconds=0.1, folder=Path(name),
                            scored=scored)


def rows(table: str) -> list[list[str]]:
    return [[cell.strip() for cell in line.strip("|").split("|")] for line in table.splitlines()
            if line.startswith("| ")]


def test_every_suite_has_a_row_with_its_numbers() -> None:
    differing = {"protocol": "vlmevalkit", "other_score": 79.25, "samples_scored_differently": 3}
    table = run_table([outcome("MME", 1234.5), outcome("MMVet", None, "answers hidden"),
                       outcome("AI2D_TEST", 80.0, other=differing)])
    assert rows(table) == [
        ["benchmark", "metric", "score", "n", "generated", "reused", "errors", "note"],
        ["MME", "accuracy", "1234.50", "5", "3", "2", "1", ""],
        ["MMVet", "accuracy", "not scored", "5", "3", "2", "1", "answers hidden"],
        ["AI2D_TEST", "accuracy", "80.00", "5", "3", "2", "1", "vlmevalkit: 79.25 (scores 3 samples differently)"],
    ]


def test_a_long_note_is_printed_whole_under_the_table() -> None:
    assert len(LONG) > NOTE_WIDTH
    table = run_table([outcome("MMVet", None, LONG), outcome("MME", 10.0), outcome("ConvBench", None, LONG + "!")])
    assert rows(table)[1][-1] == "note 1, below" and rows(table)[3][-1] == "note 2, below"
    assert table.splitlines()[-2:] == [f"note 1 (MMVet): {LONG}", f"note 2 (ConvBench): {LONG}!"]
    assert "…" not in table


def test_report_lines_name_each_file_on_its_own_line() -> None:
    files = [Path("r/report/leaderboard.xlsx"), Path("r/report/leaderboard.html")]
    assert report_lines(Path("r"), files).splitlines()[1:] == [f"report: {files[0]}", f"report: {files[1]}"]
