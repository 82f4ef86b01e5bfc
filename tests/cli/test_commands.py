"""What each subcommand does for the user: checks before writing, the run's own table, score, list, preview."""

from __future__ import annotations

from pathlib import Path

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
