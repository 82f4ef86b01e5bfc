"""load_run and build_report on run directories written by hand."""

from __future__ import annotations

import json

import pytest

from evalkit.catalog.cards import load_catalog
from evalkit.errors import DataError
from evalkit.report.baselines import Baseline, Baselines, load_baselines
from evalkit.report.leaderboard import NotCompared, Report, build_report
from evalkit.run.folder import load_run
from tests.report import alpha_suites, beta_suites, scores, write_run


@pytest.fixture
def report(tmp_path) -> Report:
    alpha = load_run(write_run(tmp_path / "alpha", "alpha-7b", alpha_suites()))
    beta = load_run(write_run(tmp_path / "beta", "beta-26b", beta_suites()))
    return build_report([alpha, beta], load_baselines())


def value(report: Report, row: str, column: str) -> float | None:
    cell = report.row(row).cells[report.column_index(column)]
    return None if cell is None else cell.value


def test_load_run_reads_the_manifest_and_every_suite(tmp_path):
    run = load_run(write_run(tmp_path / "run", "alpha-7b", alpha_suites(), spec="hf:org/alpha"))
    assert run.model == "alpha-7b" and run.protocol == "paper"
    assert list(run.suites) == list(alpha_suites())
    suite = run.suites["MME"]
    assert suite.score == 2000.5 and suite.scores["breakdown"]["perception"] == 1500.25
    assert suite.details_path == tmp_path / "run" / "MME" / "details.jsonl"
    assert run.suites["MMVet"].score is None


def test_load_run_falls_back_to_the_model_spec_and_finds_unlisted_folders(tmp_path):
    root = write_run(tmp_path / "run", "alpha-7b", {"MME": scores("MME", "mme", 1.0)}, spec="hf:org/alpha")
    manifest = json.loads((root / "manifest.json").read_text())
    del manifest["model"]
    manifest["benchmarks"] = {}
    (root / "manifest.json").write_text(json.dumps(manifest))
    run = load_run(root)
    assert run.model == "hf:org/alpha" and list(run.suites) == ["MME"]


@pytest.mark.parametrize(("damage", "culprit"), [
    (lambda root: (root / "manifest.json").unlink(), "manifest.json"),
    (lambda root: (root / "manifest.json").write_text("{not json"), "manifest.json: not valid JSON"),
    (lambda root: (root / "manifest.json").write_text("[]"), "manifest.json: expected a JSON object"),
    (lambda root: (root / "MME" / "scores.json").unlink(), "MME/scores.json"),
    (lambda root: (root / "MME" / "scores.json").write_text('{"benchmark": "MME", "score": "high"}'),
     "MME/scores.json: score must be a number or null"),
    (lambda root: (root / "MME" / "scores.json").write_text('{"benchmark": "MMVet", "score": 1}'),
     "MME/scores.json: benchmark is 'MMVet'"),
    (lambda root: (root / "MME" / "details.jsonl").unlink(), "MME/details.jsonl: file not found"),
])
def test_a_missing_or_bad_file_is_a_data_error_naming_it(tmp_path, damage, culprit):
    root = write_run(tmp_path / "run", "alpha-7b", {"MME": scores("MME", "mme", 1.0)})
    damage(root)
    with pytest.raises(DataError) as caught:
        load_run(root)
    assert culprit in str(caught.value)


def test_a_folder_that_is_not_a_run(tmp_path):
    with pytest.raises(DataError, match="not a run directory"):
        load_run(tmp_path / "nowhere")


def test_columns_follow_table_2_order_and_rows_put_runs_first(report):
    labels = [column.label for column in report.columns]
    assert labels[:16] == ["DocVQA", "ChartQA", "InfoVQA", "TextVQA", "OCRBench", "MME", "RealWorldQA", "AI2D",
                           "MMMU", "MMBench-EN", "MMBench-CN", "CCBench", "MMVet", "SEED-Image", "HallusionBench",
                           "MathVista"]
    assert labels[16:18] == ["ConvBench R1", "ConvBench R2"] and labels[28:30] == ["MMT-Bench", "MMT-Bench*"]
    assert labels[30] == "RefCOCO val" and labels[-1] == "RefCOCOg test"
    docvqa = report.columns[0]
    assert (docvqa.benchmark, docvqa.split, docvqa.metric, docvqa.decimals) == ("DocVQA_TEST", "test", "anls", 1)
    assert [row.label for row in report.rows[:3]] == ["alpha-7b", "beta-26b", "GPT-4V"]
    assert [row.kind for row in report.rows[:3]] == ["run", "run", "baseline"]
    assert {row.label for row in report.rows if row.kind == "baseline"} == set(load_baselines().models)
    assert report.row("InternVL-Chat-V1.5").params == "26B" and report.row("InternVL-Chat-V1.5").open_source


def test_cells_hold_the_paper_scale_values(report):
    assert value(report, "GPT-4V", "DocVQA") == 88.4
    assert value(report, "alpha-7b", "DocVQA") is None  # DocVQA_VAL is not the paper's split
    assert value(report, "beta-26b", "DocVQA") == 95.0
    assert value(report, "alpha-7b", "OCRBench") == 700.0
    assert value(report, "alpha-7b", "MME") == 2000.5
    assert value(report, "alpha-7b", "MMT-Bench") == 60.0 and value(report, "alpha-7b", "MMT-Bench*") == 57.5
    assert value(report, "beta-26b", "MMT-Bench") is None  # VAL is not ALL
    assert value(report, "alpha-7b", "MMVet") is None


def test_best_per_column_with_ties_and_flags(report):
    def cell(row: str, column: str):
        return report.row(row).cells[report.column_index(column)]

    assert cell("beta-26b", "DocVQA").best and not cell("Qwen-VL-Max", "DocVQA").best
    assert cell("beta-26b", "ChartQA").best and cell("InternVL-Chat-V1.5", "ChartQA").best
    assert not cell("alpha-7b", "ChartQA").best
    ai2d = cell("alpha-7b", "AI2D")
    assert ai2d.value == 99.0 and not ai2d.comparable and not ai2d.best and "vlmevalkit protocol" in ai2d.note
    assert cell("Claude-3 Sonnet", "AI2D").best
    best_counts = [sum(1 for row in report.rows if (c := row.cells[i]) is not None and c.best)
                   for i in range(len(report.columns))]
    assert all(count >= 1 for count in best_counts)


def test_not_compared_lists_every_reason(report):
    ai2d = load_catalog().get("AI2D_TEST").protocols
    assert report.not_compared == (
        NotCompared("alpha-7b", "DocVQA_VAL", "split val has no paper baseline (the paper reports test)", 85.25),
        NotCompared("alpha-7b", "AI2D_TEST", f"scored under the vlmevalkit protocol ({ai2d['vlmevalkit'].variant}), "
                                             f"not the paper's ({ai2d['paper'].variant})", 99.0),
        NotCompared("alpha-7b", "MMVet", "not scored: needs a judge (GPT-4 grading)", None),
        NotCompared("beta-26b", "MMT-Bench_VAL", "split val has no paper baseline (the paper reports ALL)", 50.0),
    )


def test_gaps_are_run_minus_reference(report):
    gaps = {(gap.run, gap.column, gap.reference): gap.delta for gap in report.gaps}
    assert gaps[("beta-26b", "DocVQA", "GPT-4V")] == pytest.approx(95.0 - 88.4)
    assert gaps[("beta-26b", "DocVQA", "InternVL-Chat-V1.5")] == pytest.approx(95.0 - 90.9)
    assert gaps[("alpha-7b", "ChartQA", "GPT-4V")] == pytest.approx(1.5)
    assert gaps[("alpha-7b", "OCRBench", "GPT-4V")] == pytest.approx(55.0)
    assert gaps[("alpha-7b", "MME", "InternVL-Chat-V1.5")] == pytest.approx(2000.5 - 2187.8)
    assert gaps[("alpha-7b", "MMT-Bench", "GPT-4V")] == pytest.approx(-2.0)
    assert gaps[("alpha-7b", "MMT-Bench*", "GPT-4V")] == pytest.approx(2.0)
    assert ("alpha-7b", "AI2D", "GPT-4V") not in gaps  # flagged values are not compared
    assert ("alpha-7b", "DocVQA", "GPT-4V") not in gaps
    assert {gap.column for gap in report.gaps_for("beta-26b")} == {"DocVQA", "ChartQA"}


def test_a_reference_without_a_value_gives_no_delta(tmp_path):
    run = load_run(write_run(tmp_path / "run", "alpha-7b", {"InfoVQA_TEST": scores("InfoVQA_TEST", "anls", 70.0)}))
    [gpt, internvl] = build_report([run], load_baselines()).gaps
    assert (gpt.reference, gpt.reference_value, gpt.delta) == ("GPT-4V", None, None)
    assert internvl.delta == pytest.approx(70.0 - 72.5)


def test_breakdowns_per_suite_for_the_runs(report):
    chartqa = next(suite for suite in report.breakdowns if suite.benchmark == "ChartQA_TEST")
    assert chartqa.title == load_catalog().get("ChartQA_TEST").title
    assert [entry.run for entry in chartqa.runs] == ["alpha-7b", "beta-26b"]
    alpha = chartqa.runs[0]
    assert (alpha.metric, alpha.score, alpha.n, alpha.protocol) == ("relaxed_accuracy", 80.0, 10, "paper")
    splits = next(section for section in alpha.sections if section.name == "splits")
    assert splits.rows == (("test_human", (70.0,)), ("test_augmented", (90.0,)))
    mme = next(suite for suite in report.breakdowns if suite.benchmark == "MME").runs[0]
    subtasks = next(section for section in mme.sections if section.name == "subtasks")
    assert subtasks.columns == ("acc", "acc_plus", "score") and subtasks.rows[0] == ("existence", (95.0, 90.0, 185.0))
    order = [suite.benchmark for suite in report.breakdowns]
    assert order.index("DocVQA_TEST") < order.index("ChartQA_TEST") < order.index("MMT-Bench_ALL")


def test_runs_of_the_same_model_get_distinct_labels(tmp_path):
    suites = {"MME": scores("MME", "mme", 1.0)}
    runs = [load_run(write_run(tmp_path / name, "same", suites)) for name in ("a", "b")]
    report = build_report(runs, load_baselines())
    assert [run.label for run in report.runs] == ["same (a)", "same (b)"]


def test_unknown_suites_and_missing_values_are_not_compared(tmp_path):
    root = write_run(tmp_path / "run", "alpha-7b", {
        "MMT-Bench_ALL": scores("MMT-Bench_ALL", "mmt_accuracy", 60.0, breakdown={"overall": 60.0})})
    (root / "MyBench").mkdir()
    (root / "MyBench" / "scores.json").write_text(json.dumps({"benchmark": "MyBench", "score": 3.0}))
    (root / "MyBench" / "details.jsonl").write_text("")
    report = build_report([load_run(root)], load_baselines())
    assert [(item.benchmark, item.reason) for item in report.not_compared] == [
        ("MMT-Bench_ALL", "Overall*: no number at breakdown.overall_star"),
        ("MyBench", "not a benchmark of the catalog"),
    ]
    assert [suite.title for suite in report.breakdowns] == [load_catalog().get("MMT-Bench_ALL").title, "MyBench"]


def test_only_columns_with_a_value_are_kept(tmp_path):
    baselines = Baselines([Baseline("GPT-4V", None, False, "MME", "test", "perception_plus_cognition", 1926.6, "s")])
    run = load_run(write_run(tmp_path / "run", "alpha-7b", {
        "OCRBench": scores("OCRBench", "ocrbench", 700.0), "DocVQA_VAL": scores("DocVQA_VAL", "anls", 80.0)}))
    report = build_report([run], baselines)
    # DocVQA has no baseline left, so nothing says which split the paper reports: the val value is shown.
    assert [column.key for column in report.columns] == ["DocVQA", "OCRBench", "MME"]
    assert report.columns[0].benchmark is None and report.columns[2].benchmark == "MME"
    assert [row.label for row in report.rows] == ["alpha-7b", "GPT-4V"]
    assert [[c.best if c else None for c in row.cells] for row in report.rows] == [[True, True, None],
                                                                                    [None, None, True]]
