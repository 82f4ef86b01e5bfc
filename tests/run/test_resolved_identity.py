"""The run identity records the dtype and device the model ran with, not the request; a resume that would run
another precision or device is refused naming the flag to change. Real runs of the tiny-random model."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from evalkit.cli import main
from evalkit.config import Environment
from evalkit.models.tiny import ensure_tiny_random
from tests.report.conftest import write_suite_tsv

SUITE = "MMBench_DEV_EN"


@pytest.fixture()
def data(tmp_path: Path) -> Path:
    return write_suite_tsv(SUITE, tmp_path / "LMUData")


def run(model: str, data: Path, output: Path, *flags: str) -> int:
    return main(["run", "--model", model, "--benchmarks", SUITE, "--data-file", str(data), "--limit", "4",
                 "--max-new-tokens", "2", "--output", str(output), "--no-progress", *flags])


def identity(output: Path) -> dict:
    return json.loads((output / SUITE / "run.json").read_text())


def one_line(capsys: pytest.CaptureFixture[str]) -> str:
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1, lines
    return lines[0]


def test_auto_is_recorded_as_what_it_resolved_to(tmp_path, data, capsys):
    assert run("tiny-random", data, tmp_path / "run") == 0
    assert (identity(tmp_path / "run")["dtype"], identity(tmp_path / "run")["device"]) == ("float32", "cpu")
    entry = json.loads((tmp_path / "run" / "manifest.json").read_text())["benchmarks"][SUITE]
    assert (entry["dtype"], entry["device"]) == ("float32", "cpu")
    assert run("tiny-random", data, tmp_path / "run", "--dtype", "float32", "--device", "cpu") == 0  # the same
    capsys.readouterr()


def test_tiny_random_begun_in_float32_resumes_with_the_defaults(tmp_path, data, capsys):
    assert run("tiny-random", data, tmp_path / "run", "--dtype", "float32", "--limit", "2") == 0
    assert run("tiny-random", data, tmp_path / "run") == 0  # auto resolves to float32 on the CPU: accepted
    assert len((tmp_path / "run" / SUITE / "predictions.jsonl").read_text().splitlines()) == 4
    capsys.readouterr()


def test_a_resume_in_another_precision_is_refused_naming_the_flag(tmp_path, data, capsys):
    assert run("tiny-random", data, tmp_path / "run", "--dtype", "bfloat16", "--limit", "2") == 0
    capsys.readouterr()
    before = (tmp_path / "run" / SUITE / "predictions.jsonl").read_bytes()
    assert run("tiny-random", data, tmp_path / "run") == 2
    assert one_line(capsys) == (f"evalkit: error: {tmp_path / 'run' / SUITE}: run began with dtype bfloat16 (this "
                                "run resolves to dtype float32); pass --dtype bfloat16 to resume, or use another "
                                "--output")
    assert (tmp_path / "run" / SUITE / "predictions.jsonl").read_bytes() == before
    assert run("tiny-random", data, tmp_path / "run", "--dtype", "bfloat16") == 0
    capsys.readouterr()


def test_a_cpu_run_resumed_on_a_gpu_is_refused(tmp_path, data, capsys, monkeypatch):
    """The issue's case: ``hf:`` with ``auto`` begun on a CPU (float32), resumed where CUDA is available (bfloat16
    on cuda). There is no GPU here, so CUDA is reported available; the refusal comes before any model loads."""
    import torch

    model = f"hf:{ensure_tiny_random(Environment.current().cache_dir)}"
    assert run(model, data, tmp_path / "run") == 0
    assert (identity(tmp_path / "run")["dtype"], identity(tmp_path / "run")["device"]) == ("float32", "cpu")
    capsys.readouterr()
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    assert run(model, data, tmp_path / "run") == 2
    assert one_line(capsys) == (f"evalkit: error: {tmp_path / 'run' / SUITE}: run began on device cpu with dtype "
                                "float32 (this run resolves to device cuda, dtype bfloat16); pass --device cpu "
                                "--dtype float32 to resume, or use another --output")
    assert run(model, data, tmp_path / "run", "--device", "cpu") == 0  # auto on the CPU is float32 again
    capsys.readouterr()


def test_a_folder_from_before_resolution_still_resumes(tmp_path, data, capsys):
    assert run("tiny-random", data, tmp_path / "run", "--limit", "2") == 0
    path = tmp_path / "run" / SUITE / "run.json"
    legacy = {**identity(tmp_path / "run"), "dtype": "auto"}
    del legacy["device"]
    path.write_text(json.dumps(legacy))
    assert run("tiny-random", data, tmp_path / "run") == 0
    assert json.loads(path.read_text()) == legacy  # what it did not record is not invented
    capsys.readouterr()
