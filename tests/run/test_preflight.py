"""The run's check before anything is written or downloaded: every suite's data is here or fetchable now."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from evalkit.config import Environment, ModelConfig, RunConfig
from evalkit.errors import DataError
from evalkit.run.preflight import check_data
from tests.run.test_runner import write_tsv


def config(tmp_path: Path, benchmarks: tuple[str, ...], *, offline: bool = True, **extra: Any) -> RunConfig:
    environment = Environment(data_root=tmp_path / "LMUData", cache_dir=tmp_path / "cache", hub_cache_dir=None,
                              offline=offline)
    return RunConfig(model=ModelConfig("tiny-random"), benchmarks=benchmarks, output=tmp_path / "run",
                     environment=environment, **extra)


def test_present_files_and_data_files_pass(tmp_path: Path) -> None:
    (tmp_path / "LMUData").mkdir()
    write_tsv(tmp_path / "LMUData" / "MME.tsv", rows=1)
    check_data(config(tmp_path, ("MME",)))
    check_data(config(tmp_path, ("DocVQA_VAL",), data_file=write_tsv(tmp_path / "d.tsv", rows=1)))
    check_data(config(tmp_path, ("MME", "DocVQA_VAL"), demo_data={"DocVQA_VAL": tmp_path / "d.tsv"}))


def test_the_first_suite_that_cannot_be_had_is_named_before_any_is_fetched(tmp_path: Path) -> None:
    (tmp_path / "LMUData").mkdir()
    write_tsv(tmp_path / "LMUData" / "DocVQA_VAL.tsv", rows=1)
    with pytest.raises(DataError) as caught:
        check_data(config(tmp_path, ("DocVQA_VAL", "MME", "AI2D_TEST")))
    assert str(caught.value).startswith(f"MME: {tmp_path / 'LMUData' / 'MME.tsv'} is not here, and HF_HUB_OFFLINE "
                                        "is set")
    assert sorted(path.name for path in (tmp_path / "LMUData").iterdir()) == ["DocVQA_VAL.tsv"]
    assert not (tmp_path / "run").exists()


def test_a_user_supplied_suite_without_its_file(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"^ConvBench reads a user-supplied file: pass --data-file"):
        check_data(config(tmp_path, ("ConvBench",), offline=False))


def test_the_runner_checks_before_it_writes_when_called_from_python(tmp_path: Path) -> None:
    # The command line and code calling Runner directly get the same check: MME is refused before
    # DocVQA_VAL's folder (or the run folder) is made.
    from evalkit.run.runner import Runner

    (tmp_path / "LMUData").mkdir()
    write_tsv(tmp_path / "LMUData" / "DocVQA_VAL.tsv", rows=1)
    with pytest.raises(DataError, match=r"^MME: .*MME\.tsv is not here, and HF_HUB_OFFLINE is set"):
        Runner(config(tmp_path, ("DocVQA_VAL", "MME"))).run()
    assert not (tmp_path / "run").exists()
