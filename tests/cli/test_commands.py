"""What each subcommand does for the user: checks before writing, the run's own table, score, list, preview."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from evalkit.cli import main
from tests.run.test_runner import write_tsv


def error_line(capsys: pytest.CaptureFixture[str]) -> str:
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1, lines
    return lines[0]


@pytest.fixture()
def offline_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty $LMUData and cache, offline: nothing can be downloaded."""
    monkeypatch.setenv("LMUData", str(tmp_path / "LMUData"))
    monkeypatch.setenv("EVALKIT_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    return tmp_path


def test_a_mistyped_model_spec_writes_nothing_and_the_corrected_command_runs(
        offline_home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = write_tsv(offline_home / "docvqa.tsv", rows=2)
    out = offline_home / "m1"
    rest = ["--benchmarks", "DocVQA_VAL", "--data-file", str(data), "--output", str(out), "--no-progress",
            "--max-new-tokens", "2"]
    assert main(["run", "--model", "tiny_random", *rest]) == 2
    assert error_line(capsys).startswith("evalkit: error: unknown model spec 'tiny_random'; did you mean "
                                         "'tiny-random'? (known: ")
    assert not out.exists()
    assert main(["run", "--model", "tiny-random", *rest]) == 0
    assert (out / "DocVQA_VAL" / "scores.json").is_file()


def test_a_hub_id_without_prefix_is_refused_before_any_download(offline_home: Path,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    out = offline_home / "m1"
    assert main(["run", "--model", "llava-hf/llava-1.5-7b-hf", "--benchmarks", "DocVQA_VAL", "--output",
                 str(out)]) == 2
    assert error_line(capsys).startswith("evalkit: error: unknown model spec 'llava-hf/llava-1.5-7b-hf'; did you "
                                         "mean 'hf:llava-hf/llava-1.5-7b-hf'? (known: ")
    assert not out.exists() and not (offline_home / "LMUData").exists()


def test_a_mistyped_suite_writes_nothing(offline_home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = offline_home / "run"
    assert main(["run", "--model", "tiny-random", "--tasks", "MME,DocVQA_VL", "--output", str(out)]) == 2
    assert error_line(capsys) == ("evalkit: error: unknown benchmark 'DocVQA_VL'; did you mean 'DocVQA_VAL'? "
                                  "(see 'evalkit list benchmarks')")
    assert not out.exists()


def test_data_that_cannot_be_had_is_refused_before_anything_is_written(offline_home: Path,
                                                                       capsys: pytest.CaptureFixture[str]) -> None:
    (offline_home / "LMUData").mkdir()
    write_tsv(offline_home / "LMUData" / "DocVQA_VAL.tsv", rows=2)
    out = offline_home / "run"
    assert main(["run", "--model", "tiny-random", "--benchmarks", "DocVQA_VAL,MME", "--output", str(out)]) == 2
    expected = offline_home / "LMUData" / "MME.tsv"
    assert error_line(capsys) == (f"evalkit: error: MME: {expected} is not here, and HF_HUB_OFFLINE is set, so it "
                                  "cannot be downloaded from https://opencompass.openxlab.space/utils/VLMEval/MME.tsv;"
                                  " put the file there or unset HF_HUB_OFFLINE")
    assert not out.exists()


def write_textvqa_predictions(path: Path) -> Path:
    """A VLMEvalKit TextVQA prediction file on which the protocols disagree: '3.' matches '3' under InternVL's
    normalisation (paper: 100, 100 → 100.00), not under VLMEvalKit's (0, 100 → 50.00)."""
    rows = [{"index": 0, "question": "q0", "answer": str(["3"] * 10), "prediction": "3."},
            {"index": 1, "question": "q1", "answer": str(["cat"] * 10), "prediction": "cat"}]
    pd.DataFrame(rows).to_csv(path, sep="\t", index=False)
    return path


@pytest.mark.parametrize(("protocol", "headers"), [("paper", ["paper (scores.json)", "vlmevalkit"]),
                                                   ("vlmevalkit", ["paper", "vlmevalkit (scores.json)"])])
def test_score_shows_both_protocols_side_by_side(tmp_path: Path, capsys: pytest.CaptureFixture[str], protocol: str,
                                                  headers: list[str]) -> None:
    predictions = write_textvqa_predictions(tmp_path / "M_TextVQA_VAL.tsv")
    assert main(["score", "--benchmark", "TextVQA_VAL", "--predictions", str(predictions), "--output",
                 str(tmp_path / "out"), "--protocol", protocol]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert cells(lines[0]) == ["benchmark", "metric", *headers, "n", "differ", "note"]
    metric = "vqa_accuracy" if protocol == "paper" else "vqa_accuracy_vlmevalkit"  # the metric scores.json holds
    assert cells(lines[2]) == ["TextVQA_VAL", metric, "100.00", "50.00", "2", "1", ""]
    other = "vlmevalkit" if protocol == "paper" else "paper"
    assert lines[3] == (f"scores.json holds the {protocol} protocol's score; --protocol {other} makes that one "
                        "the headline")
    document = json.loads((tmp_path / "out" / "scores.json").read_text())
    assert (document["protocol"], document["score"]) == (protocol, 100.0 if protocol == "paper" else 50.0)


def cells(line: str) -> list[str]:
    return [cell.strip() for cell in line.strip().strip("|").split("|")]


def run_docvqa(tmp_path: Path, *flags: str) -> None:
    data = write_tsv(tmp_path / "docvqa.tsv", rows=2)
    assert main(["run", "--model", "tiny-random", "--benchmarks", "DocVQA_VAL", "--data-file", str(data), "--output",
                 str(tmp_path / "run"), "--max-new-tokens", "2", *flags]) == 0


def test_run_ends_with_its_own_table_then_the_report_files(offline_home: Path,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    run_docvqa(offline_home, "--no-progress")
    out = capsys.readouterr().out.splitlines()
    assert cells(out[0])[:4] == ["benchmark", "metric", "score", "n"] and cells(out[2])[:4] == [
        "DocVQA_VAL", "anls", "0.00", "2"]
    report = offline_home / "run" / "report"
    assert out[3:] == ["", f"run directory: {offline_home / 'run'} (per benchmark: predictions.jsonl, scores.json, "
                           "details.jsonl; manifest.json)",
                       *(f"report: {report / name}" for name in ("leaderboard.xlsx", "leaderboard.md",
                                                                 "leaderboard.html"))]


def test_run_leaderboard_adds_the_papers_tables(offline_home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run_docvqa(offline_home, "--no-progress", "--leaderboard")
    out = capsys.readouterr().out
    assert "| tiny-random (run) |" in out and "GPT-4V" in out
    assert out.rstrip().endswith(f"report: {offline_home / 'run' / 'report' / 'leaderboard.html'}")


def test_run_quiet_prints_the_table_only(offline_home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run_docvqa(offline_home, "--quiet")
    captured = capsys.readouterr()
    lines = captured.out.splitlines()
    assert len(lines) == 3 and all(line.startswith("|") for line in lines) and cells(lines[2])[0] == "DocVQA_VAL"
    assert captured.err == ""  # no progress bars, no announcements
    assert (offline_home / "run" / "report" / "leaderboard.html").is_file()  # the files are still written


def test_model_loading_is_announced(offline_home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run_docvqa(offline_home)
    err = [line for line in capsys.readouterr().err.splitlines() if line.startswith("evalkit: ")]
    assert err[0] == "evalkit: loading tiny-random (device auto, dtype auto)"
    assert err[1].startswith("evalkit: tiny-random loaded in ") and err[1].endswith(" s")


def test_preview_demo_writes_only_its_own_set_and_says_what_the_model_receives(
        offline_home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = offline_home / "preview"
    base = ["preview", "--benchmark", "MMBench_DEV_EN", "--index", "1000001", "--demo", "--output", str(out)]
    assert main(base) == 0
    assert sorted(path.name for path in (out / "data").iterdir()) == ["MMBench_DEV_EN.tsv"]
    tiles = sorted(out.glob("image1_tile*.png"))
    assert capsys.readouterr().out.splitlines()[-1] == (
        f"an InternVL-style model receives {len(tiles)} tiles: {tiles[0]} … {tiles[-1]}; --model SPEC shows what "
        "another model's processor makes of the images")
    assert main([*base, "--model", "tiny-random"]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == (f"tiny-random receives: {out / 'model_input1.png'}, "
                                                        f"{out / 'prompt.txt'}")
