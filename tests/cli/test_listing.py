"""``list benchmarks``: published sizes, whether the data is here and its size, the columns explained."""

from __future__ import annotations

from pathlib import Path

import pytest

from evalkit.cli import main
from evalkit.cli.listing import HEADERS, benchmarks_table
from evalkit.config import Environment
from tests.run.test_runner import write_tsv


def table_rows(text: str) -> dict[str, dict[str, str]]:
    lines = [[cell.strip() for cell in line.strip().strip("|").split("|")] for line in text.splitlines()
             if line.startswith("| ")]
    return {row[0]: dict(zip(lines[0], row, strict=True)) for row in lines[1:]}


def test_samples_data_and_size(tmp_path: Path) -> None:
    (tmp_path / "LMUData").mkdir()
    size = write_tsv(tmp_path / "LMUData" / "MME.tsv", rows=40).stat().st_size
    environment = Environment.from_mapping({"LMUData": str(tmp_path / "LMUData")})
    rows = table_rows(benchmarks_table(environment))
    assert list(next(iter(rows.values()))) == list(HEADERS) and len(rows) == 24
    assert {key: rows["MME"][key] for key in ("samples", "data", "size")} == {
        "samples": "2374", "data": "here", "size": f"{size / 1e6:.1f} MB"}
    assert {key: rows["DocVQA_VAL"][key] for key in ("samples", "data", "size")} == {
        "samples": "5349", "data": "missing", "size": ""}
    assert rows["ConvBench"]["data"] == "user file" and rows["RefCOCO"]["samples"] == "57457"
    assert all(row["samples"].isdigit() for row in rows.values())


def test_the_help_explains_the_columns(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["list", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    for phrase in ("samples = the full set's size as published", "data = here (the default source's file is in "
                   "$LMUData), missing (it is downloaded on the first run), user file (pass --data-file)",
                   "size = the file's size on disk when here", "tiles p/v and tokens p/v"):
        assert phrase in text
