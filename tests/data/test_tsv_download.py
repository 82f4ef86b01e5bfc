"""Downloads and md5 checks say what they are doing: a bar with size, speed and time left; the md5 check
announced; a mismatch names the flag that accepts the file."""

from __future__ import annotations

from pathlib import Path

import pytest

from evalkit.catalog.spec import TsvSource
from evalkit.data import tsv_download
from evalkit.data.tsv_download import download, fetch_tsv, fetch_url
from evalkit.errors import DataError

from .fixtures import MCQ_COLUMNS, mcq_rows, serve_directory, write_tsv

FILENAME = "MCQ_TEST.tsv"


@pytest.fixture()
def served(tmp_path: Path) -> tuple[Path, str]:
    folder = tmp_path / "server"
    folder.mkdir()
    md5 = write_tsv(folder / FILENAME, mcq_rows())
    (folder / "big.bin").write_bytes(bytes(range(256)) * 12_000)  # 3.07 MB: several chunks
    return folder, md5


def test_a_download_shows_its_size_speed_and_time_left(served: tuple[Path, str], tmp_path: Path,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    folder, _ = served
    with serve_directory(folder) as base:
        download(f"{base}/big.bin", tmp_path / "big.bin", None, progress=True)
    err = capsys.readouterr().err
    final = err.replace("\r", "\n").strip().splitlines()[-1]
    assert final.startswith("big.bin: 100%") and "3.07M/3.07M" in final and "B/s]" in final and "<00:00" in final
    assert (tmp_path / "big.bin").read_bytes() == (folder / "big.bin").read_bytes()


def test_a_download_without_progress_is_silent(served: tuple[Path, str], tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    folder, _ = served
    with serve_directory(folder) as base:
        download(f"{base}/big.bin", tmp_path / "big.bin", None)
    assert capsys.readouterr().err == ""


def test_a_large_files_md5_check_is_announced_once_then_remembered(
        served: tuple[Path, str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    folder, md5 = served
    source = TsvSource(url="http://127.0.0.1:9/x.tsv", md5=md5, filename=FILENAME, columns=MCQ_COLUMNS)
    fetch_tsv(source, folder, offline=True, verify=True, progress=True)
    assert capsys.readouterr().err == ""  # a small file is hashed in no time: nothing to say
    (folder / f"{FILENAME}.md5").unlink()
    monkeypatch.setattr(tsv_download, "ANNOUNCED_MD5_BYTES", (folder / FILENAME).stat().st_size)  # "large"
    assert fetch_tsv(source, folder, offline=True, verify=True, progress=True) == folder / FILENAME
    size = (folder / FILENAME).stat().st_size / 1e6
    assert capsys.readouterr().err == f"evalkit: checking the md5 of {folder / FILENAME} ({size:.1f} MB)\n"
    fetch_tsv(source, folder, offline=True, verify=True, progress=True)  # the sidecar holds the md5 now
    assert capsys.readouterr().err == ""


def test_an_md5_mismatch_names_the_flag_that_accepts_the_file(served: tuple[Path, str], tmp_path: Path) -> None:
    folder, md5 = served
    with pytest.raises(DataError) as offline:
        fetch_url("http://127.0.0.1:9/x.tsv", folder / FILENAME, "0" * 32, offline=True, verify=True)
    assert str(offline.value) == (f"{folder / FILENAME}: md5 is {md5}, expected {'0' * 32}; offline, so it cannot be "
                                  "downloaded again (run --no-verify-checksum uses the file as it is)")
    with serve_directory(folder) as base, pytest.raises(DataError) as downloaded:
        download(f"{base}/{FILENAME}", tmp_path / FILENAME, "0" * 32)
    assert str(downloaded.value).endswith(f"has md5 {md5}, expected {'0' * 32} (run --no-verify-checksum uses the "
                                          "file as it is)")
