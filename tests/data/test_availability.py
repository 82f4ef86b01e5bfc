"""Where a suite's data is and whether it can be fetched, known before any work, in one line."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from evalkit.catalog.spec import BenchmarkSpec, FileSource, HubSource, TsvSource
from evalkit.data.availability import Location, check_available, locate, unreachable
from evalkit.errors import DataError

from .fixtures import MCQ_COLUMNS, make_spec, mcq_rows, serve_directory, write_tsv

FILENAME = "MCQ_TEST.tsv"


def closed_port_url() -> str:
    """A URL on this machine where nothing listens (connection refused at once)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/{FILENAME}"


def tsv_spec(url: str) -> BenchmarkSpec:
    return make_spec({"tsv": TsvSource(url=url, md5=None, filename=FILENAME, columns=MCQ_COLUMNS),
                      "file": FileSource(columns=MCQ_COLUMNS, note="the rows come from the authors"),
                      "hub": HubSource(repo="org/suite", split="test", columns=MCQ_COLUMNS)})


def test_locate_names_the_file_under_the_data_root(tmp_path: Path) -> None:
    spec = tsv_spec("https://example.org/MCQ_TEST.tsv")
    location = locate(spec, source=None, data_file=None, data_root=tmp_path)
    assert (location.path, location.url, location.present) == (tmp_path / FILENAME, "https://example.org/MCQ_TEST.tsv",
                                                                False)
    write_tsv(tmp_path / FILENAME, mcq_rows())
    assert locate(spec, source=None, data_file=None, data_root=tmp_path).present is True
    hub = locate(spec, source="hub", data_file=None, data_root=tmp_path)
    assert (hub.path, hub.present) == (None, None)
    given = locate(spec, source=None, data_file=tmp_path / "mine.tsv", data_root=tmp_path)
    assert (given.source, given.path, given.url) == ("file", tmp_path / "mine.tsv", None)


def test_an_unknown_source_is_named(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="TestSuite has no 'parquet' source"):
        locate(tsv_spec("https://x/y.tsv"), source="parquet", data_file=None, data_root=tmp_path)


def test_offline_and_missing_is_refused_naming_the_expected_path(tmp_path: Path) -> None:
    location = Location("MME", "tsv", tmp_path / "MME.tsv", "https://example.org/MME.tsv")
    with pytest.raises(DataError) as caught:
        check_available(location, offline=True, probe=lambda url: pytest.fail("offline must not touch the network"))
    assert str(caught.value) == (f"MME: {tmp_path / 'MME.tsv'} is not here, and HF_HUB_OFFLINE is set, so it cannot "
                                 "be downloaded from https://example.org/MME.tsv; put the file there or unset "
                                 "HF_HUB_OFFLINE")


def test_an_unreachable_host_is_refused_at_once(tmp_path: Path) -> None:
    url = closed_port_url()
    with pytest.raises(DataError) as caught:
        check_available(Location("MME", "tsv", tmp_path / "MME.tsv", url), offline=False)
    message = str(caught.value)
    assert message.startswith(f"MME: {tmp_path / 'MME.tsv'} is not here, and {url} cannot be reached (127.0.0.1:")
    assert message.endswith("; put the file there or check the network")


def test_a_reachable_host_or_a_present_file_passes(tmp_path: Path) -> None:
    (tmp_path / "served").mkdir()
    with serve_directory(tmp_path / "served") as base:
        assert unreachable(f"{base}/{FILENAME}") is None
        check_available(Location("S", "tsv", tmp_path / FILENAME, f"{base}/{FILENAME}"), offline=False)
    write_tsv(tmp_path / FILENAME, mcq_rows())
    check_available(Location("S", "tsv", tmp_path / FILENAME, closed_port_url()), offline=True)


def test_a_user_supplied_file_must_be_given_or_exist(tmp_path: Path) -> None:
    spec = tsv_spec("https://x/y.tsv")
    card_file = locate(spec, source="file", data_file=None, data_root=tmp_path)
    with pytest.raises(DataError, match=r"^TestSuite reads a user-supplied file: pass --data-file \(the rows come"):
        check_available(card_file, offline=False)
    given = locate(spec, source=None, data_file=tmp_path / "mine.tsv", data_root=tmp_path)
    with pytest.raises(DataError, match=r"^cannot read .*mine\.tsv: no such file$"):
        check_available(given, offline=False)


def test_unreachable_goes_through_the_proxy_when_one_is_set(monkeypatch: pytest.MonkeyPatch) -> None:
    proxy = closed_port_url().rsplit("/", 1)[0]
    monkeypatch.setenv("https_proxy", proxy)
    monkeypatch.setenv("HTTPS_PROXY", proxy)
    reason = unreachable("https://huggingface.co/datasets/x")
    assert reason is not None and reason.startswith("127.0.0.1:")
