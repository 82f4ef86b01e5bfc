"""The command line as a user meets it: exit codes, one-line errors, list, preview, run with tiny-random, the demo."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from evalkit.cli import main
from tests.run.test_runner import png_base64, write_tsv
from tests.support.processes import pythonpath

REPO = Path(__file__).resolve().parents[2]


def run_cli(args: list[str], cwd: Path, timeout: int = 300) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "EVALKIT_CACHE": str(cwd / "cache"), "LMUData": str(cwd / "LMUData"),
           "HF_HUB_OFFLINE": "1", "PYTHONPATH": pythonpath()}
    return subprocess.run([sys.executable, str(REPO / "run_eval.py"), *args], cwd=cwd, capture_output=True,
                          text=True, timeout=timeout, env=env, check=False)


def one_error_line(capsys) -> str:
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1, lines
    return lines[0]


def test_list_benchmarks_prints_every_suite(capsys):
    assert main(["list", "benchmarks"]) == 0
    out = capsys.readouterr().out
    assert all(name in out for name in ("DocVQA_VAL", "MMT-Bench_ALL", "RefCOCO", "ConvBench"))
    assert "18/18" in out and "24/6" in out


def test_list_models(capsys):
    assert main(["list", "models"]) == 0
    assert "tiny-random" in capsys.readouterr().out


@pytest.mark.parametrize(("argv", "message"), [
    (["run", "--model", "tiny-random", "--benchmarks", "MME", "--batch-size", "0"], "'0' must be at least 1"),
    (["run", "--model", "tiny-random", "--benchmarks", "MME", "--protocol", "lmms"], "invalid choice: 'lmms'"),
    (["run", "--benchmarks", "MME"], "the following arguments are required: --model"),
    (["list", "datasets"], "invalid choice: 'datasets'"),
    (["run", "--model", "tiny-random", "--benchmarks", "MME", "--judge", "gpt4"], "unknown judge 'gpt4'"),
])
def test_bad_usage_is_one_line_and_exit_2(capsys, argv, message):
    with pytest.raises(SystemExit) as caught:
        main(argv)
    assert caught.value.code == 2
    line = one_error_line(capsys)
    assert line.startswith("evalkit: error: ") and message in line


def test_unknown_benchmark_exits_2_without_traceback(capsys, tmp_path):
    assert main(["run", "--model", "tiny-random", "--benchmarks", "Nope", "--output", str(tmp_path)]) == 2
    assert one_error_line(capsys) == "evalkit: error: unknown benchmark 'Nope' (see 'evalkit list benchmarks')"


def test_unknown_model_spec_exits_2(capsys, tmp_path):
    data = write_tsv(tmp_path / "d.tsv", rows=2)
    code = main(["run", "--model", "gguf:foo", "--benchmarks", "DocVQA_VAL", "--data-file", str(data),
                 "--output", str(tmp_path / "run"), "--no-progress"])
    assert code == 2 and "unknown model spec 'gguf:foo'" in one_error_line(capsys)


def test_a_data_file_missing_a_column_is_named(capsys, tmp_path):
    data = tmp_path / "bad.tsv"
    pd.DataFrame([{"index": 1, "image": png_base64((1, 2, 3)), "question": "q"}]).to_csv(data, sep="\t", index=False)
    code = main(["run", "--model", "tiny-random", "--benchmarks", "DocVQA_VAL", "--data-file", str(data),
                 "--output", str(tmp_path / "run")])
    line = one_error_line(capsys)
    assert code == 2 and "bad.tsv" in line and "'answer'" in line


def test_data_file_with_several_benchmarks_is_refused(capsys, tmp_path):
    code = main(["run", "--model", "tiny-random", "--benchmarks", "MME,DocVQA_VAL", "--data-file", "x.tsv"])
    assert code == 2 and "--data-file takes one benchmark" in one_error_line(capsys)


def test_run_with_tiny_random_writes_predictions_and_resumes(tmp_path):
    data = write_tsv(tmp_path / "docvqa.tsv", rows=4)
    args = ["run", "--model", "tiny-random", "--benchmarks", "docvqa_val", "--data-file", str(data), "--output",
            str(tmp_path / "run"), "--max-new-tokens", "5", "--batch-size", "2", "--no-progress"]
    first = run_cli(args, tmp_path)
    assert first.returncode == 0, first.stderr
    records = [json.loads(line) for line in (tmp_path / "run/DocVQA_VAL/predictions.jsonl").read_text().splitlines()]
    assert [r["index"] for r in records] == [0, 1, 2, 3]
    assert records[0]["prompt"].startswith("USER: <image>\nWhat is item 0? Answer the question")
    assert records[0]["prompt"].endswith(" ASSISTANT:")
    second = run_cli(args, tmp_path)
    row = next(line for line in second.stdout.splitlines() if line.startswith("| DocVQA_VAL"))
    assert second.returncode == 0
    assert [cell.strip() for cell in row.strip("|").split("|")][:7] == ["DocVQA_VAL", "anls", "0.00", "4", "0", "4",
                                                                        "0"]


def test_preview_writes_the_instruction_and_tiles(tmp_path):
    result = run_cli(["preview", "--benchmark", "MMBench_DEV_EN", "--index", "1000001", "--demo", "--output",
                      str(tmp_path / "preview"), "--model", "tiny-random"], tmp_path)
    assert result.returncode == 0, result.stderr
    instruction = (tmp_path / "preview/instruction.txt").read_text()
    assert instruction.rstrip().endswith("Answer with the option's letter from the given choices directly.")
    prompt = (tmp_path / "preview/prompt.txt").read_text()
    assert prompt.startswith("USER: <image>\n") and instruction.strip() in prompt
    assert (tmp_path / "preview/image1.png").exists() and (tmp_path / "preview/model_input1.png").exists()
    assert sorted(p.name for p in (tmp_path / "preview").glob("image1_tile*.png"))[0] == "image1_tile01.png"


def test_preview_of_a_missing_index_is_one_line(tmp_path):
    result = run_cli(["preview", "--benchmark", "MME", "--index", "99999", "--demo", "--output", str(tmp_path / "p")],
                     tmp_path)
    assert result.returncode == 2 and result.stderr.strip().count("\n") == 0
    assert "has no sample with index '99999'" in result.stderr


def test_the_demo_runs_every_suite_end_to_end(tmp_path):
    result = run_cli([], tmp_path, timeout=600)
    assert result.returncode == 0, result.stderr[-2000:]
    demo = tmp_path / "results" / "demo"
    folders = sorted(p.name for p in demo.iterdir() if (p / "predictions.jsonl").exists())
    assert len(folders) == 24
    for folder in folders:
        records = [json.loads(x) for x in (demo / folder / "predictions.jsonl").read_text().splitlines()]
        assert records and all(r["error"] is None for r in records), folder
    assert json.loads((demo / "manifest.json").read_text())["model"]["name"] == "tiny-random"
    assert sorted(p.name for p in (demo / "report").iterdir()) == ["leaderboard.html", "leaderboard.md",
                                                                   "leaderboard.xlsx"]
    assert "| tiny-random (run) |" not in result.stdout  # the paper's tables only with run --leaderboard
    assert result.stdout.count("\n| ") == 1 + 24  # the run's own table: its header and one row per suite
    assert result.stdout.rstrip().endswith(f"report: {Path('results/demo/report/leaderboard.html')}")
    same = run_cli(["compare", str(demo), str(demo), "--output", str(tmp_path / "gate")], tmp_path)
    assert same.returncode == 0, same.stderr
    assert (tmp_path / "gate" / "summary.md").exists() and json.loads((tmp_path / "gate" / "gate.json").read_text())
    missing = run_cli(["compare", str(demo), str(tmp_path / "nope")], tmp_path)
    assert missing.returncode == 2 and missing.stderr.count("\n") == 1 and "nope" in missing.stderr
    report = run_cli(["report", str(demo), "--output", str(tmp_path / "board")], tmp_path)
    assert report.returncode == 0 and (tmp_path / "board" / "leaderboard.xlsx").exists()


def test_convbench_without_a_data_file_says_what_to_give(capsys, tmp_path):
    code = main(["run", "--model", "tiny-random", "--benchmarks", "ConvBench", "--output", str(tmp_path / "run")])
    line = one_error_line(capsys)
    assert code == 2 and "ConvBench reads a user-supplied file: pass --data-file" in line and "image_path" in line


def test_a_vlmevalkit_tsv_with_the_wrong_md5_is_refused_offline(capsys, tmp_path, monkeypatch):
    data_root = tmp_path / "LMUData"
    data_root.mkdir()
    write_tsv(data_root / "DocVQA_VAL.tsv", rows=2)
    monkeypatch.setenv("LMUData", str(data_root))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    code = main(["run", "--model", "tiny-random", "--benchmarks", "DocVQA_VAL", "--output", str(tmp_path / "run")])
    line = one_error_line(capsys)
    assert code == 2 and "DocVQA_VAL.tsv" in line and "d5ee77e1926ff10690d469c56b73eabf" in line
    assert not (tmp_path / "run").exists()


def test_paper_mode_refuses_flags_that_would_change_the_paper_settings(capsys):
    code = main(["run", "--model", "tiny-random", "--benchmarks", "MME", "--paper-mode", "--batch-size", "8",
                 "--protocol", "vlmevalkit"])
    assert code == 2
    assert one_error_line(capsys) == ("evalkit: error: --paper-mode fixes what --batch-size, --protocol would change; "
                                      "drop one or the other")


def test_paper_mode_runs_one_sample_per_generate_in_dataset_order(tmp_path):
    from evalkit.cli.parser import build_parser, run_config_from

    args = build_parser().parse_args(["run", "--model", "tiny-random", "--benchmarks", "MME", "--paper-mode",
                                      "--output", str(tmp_path)])
    config = run_config_from(args)
    assert (config.batch_size, config.protocol, config.group_by_length) == (1, "paper", False)


def test_model_args_are_checked_before_anything_is_written(tmp_path, capsys):
    data = write_tsv(tmp_path / "docvqa.tsv", rows=2)
    base = ["run", "--model", "tiny-random", "--benchmarks", "DocVQA_VAL", "--data-file", str(data), "--output",
            str(tmp_path / "run"), "--no-progress"]
    assert main([*base, "--model-args", "temperature=0"]) == 2
    assert one_error_line(capsys) == ("evalkit: error: model 'tiny-random': unknown --model-args key 'temperature' "
                                      "(valid for tiny-random: none)")
    assert main([*base, "--concurrency", "4"]) == 2
    assert "unknown --model-args key 'concurrency'" in one_error_line(capsys)
    assert not (tmp_path / "run").exists()


def test_a_shorthand_flag_that_contradicts_model_args_is_an_error(tmp_path, capsys):
    args = ["run", "--model", "openai:gpt-4o", "--benchmarks", "DocVQA_VAL", "--concurrency", "4", "--model-args",
            "concurrency=2", "--output", str(tmp_path / "run")]
    assert main(args) == 2
    assert one_error_line(capsys) == "evalkit: error: --concurrency 4 contradicts --model-args concurrency=2"
