"""Files evalkit writes get the mode the umask gives any new file (0644 under 022), not mkstemp's private 0600."""

from __future__ import annotations

import os
import stat
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from evalkit import files
from evalkit.cli import main
from evalkit.data.tsv_download import fetch_url
from evalkit.files import current_umask, default_mode, write_atomic, write_json_atomic
from tests.data.fixtures import mcq_rows, serve_directory, write_tsv
from tests.report.conftest import write_suite_tsv


@pytest.fixture()
def umask(request: pytest.FixtureRequest) -> Iterator[int]:
    """Run the test under ``request.param`` as the process's umask, restoring the old one after."""
    old = os.umask(request.param)
    try:
        yield request.param
    finally:
        os.umask(old)


def mode(path: Path) -> str:
    return oct(stat.S_IMODE(path.stat().st_mode))


@pytest.mark.parametrize("umask", [0o022, 0o027, 0o077], indirect=True)
def test_current_umask_reads_without_changing_it(umask: int) -> None:
    assert current_umask() == umask
    assert default_mode() == 0o666 & ~umask
    assert os.umask(umask) == umask  # unchanged by the reads above


@pytest.mark.parametrize(("umask", "expected"), [(0o022, "0o644"), (0o027, "0o640"), (0o002, "0o664")],
                         indirect=["umask"])
def test_atomic_writes_follow_the_umask(tmp_path: Path, umask: int, expected: str) -> None:
    write_atomic(tmp_path / "a.md", "text")
    write_json_atomic(tmp_path / "b.json", {"x": 1})
    write_json_atomic(tmp_path / "b.json", {"x": 2})  # a replaced file too
    plain = tmp_path / "plain.txt"
    plain.write_text("made by open()")
    assert {mode(tmp_path / name) for name in ("a.md", "b.json", "plain.txt")} == {expected}


@pytest.mark.parametrize("umask", [0o022, 0o027], indirect=True)
def test_without_proc_the_umask_is_read_by_setting_it_back(monkeypatch: pytest.MonkeyPatch, umask: int) -> None:
    monkeypatch.setattr(files, "_STATUS", "/nonexistent/status")
    assert current_umask() == umask
    assert os.umask(umask) == umask


@pytest.mark.parametrize("umask", [0o022], indirect=True)
def test_umask_reads_from_threads_never_open_files_wider(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                        umask: int) -> None:
    """Without /proc, files created while other threads read the umask never get more than it allows."""
    monkeypatch.setattr(files, "_STATUS", "/nonexistent/status")
    stop = threading.Event()

    def read() -> None:
        while not stop.is_set():
            current_umask()

    readers = [threading.Thread(target=read) for _ in range(3)]
    for thread in readers:
        thread.start()
    try:
        for number in range(200):
            (tmp_path / f"f{number}").write_text("x")
    finally:
        stop.set()
        for thread in readers:
            thread.join()
    assert {mode(path) for path in tmp_path.iterdir()} <= {"0o644", "0o600"}
    assert current_umask() == 0o022


@pytest.mark.parametrize("umask", [0o022], indirect=True)
def test_a_downloaded_tsv_is_readable_by_the_team(tmp_path: Path, umask: int) -> None:
    served = tmp_path / "server"
    served.mkdir()
    write_tsv(served / "MCQ_TEST.tsv", mcq_rows())
    with serve_directory(served) as base:
        fetch_url(f"{base}/MCQ_TEST.tsv", tmp_path / "LMUData" / "MCQ_TEST.tsv", None, offline=False,
                  verify=False)
    assert mode(tmp_path / "LMUData" / "MCQ_TEST.tsv") == "0o644"


@pytest.mark.parametrize(("umask", "expected"), [(0o022, "0o644"), (0o027, "0o640")], indirect=["umask"])
def test_a_real_run_report_and_gate_write_files_the_team_can_read(tmp_path: Path, umask: int, expected: str,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    data = write_suite_tsv("MMBench_DEV_EN", tmp_path / "LMUData")
    run = tmp_path / "run"
    assert main(["run", "--model", "tiny-random", "--benchmarks", "MMBench_DEV_EN", "--data-file", str(data),
                 "--limit", "8", "--max-new-tokens", "2", "--device", "cpu", "--output", str(run),
                 "--no-progress"]) == 0
    assert main(["compare", str(run), str(run), "--output", str(tmp_path / "gate")]) == 0
    capsys.readouterr()
    written = [run / "manifest.json", run / "MMBench_DEV_EN" / "run.json",
               run / "MMBench_DEV_EN" / "predictions.jsonl", run / "MMBench_DEV_EN" / "scores.json",
               run / "MMBench_DEV_EN" / "details.jsonl", tmp_path / "gate" / "gate.json",
               tmp_path / "gate" / "summary.md"]
    written += [run / "report" / f"leaderboard.{ext}" for ext in ("xlsx", "md", "html")]
    assert {str(path.relative_to(tmp_path)): mode(path) for path in written} == {
        str(path.relative_to(tmp_path)): expected for path in written}
