"""``load_samples``: source choice, $LMUData downloads with md5 checks, data-file override."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from evalkit.catalog.spec import BenchmarkSpec, ColumnMap, FileSource, HubSource, TsvSource
from evalkit.data.sources import DataInfo, load_samples
from evalkit.data.tsv_download import fetch_url
from evalkit.errors import DataError

from .fixtures import (
    MCQ_COLUMNS,
    RED,
    image_pixels,
    make_spec,
    mcq_rows,
    pixels,
    serve_directory,
    write_hub_folder,
    write_tsv,
)

FILENAME = "MCQ_TEST.tsv"


@pytest.fixture()
def served(tmp_path: Path) -> tuple[Path, str]:
    """A folder to serve, holding the suite's TSV; returns (folder, md5)."""
    folder = tmp_path / "server"
    folder.mkdir()
    return folder, write_tsv(folder / FILENAME, mcq_rows())


def _tsv_spec(url: str, md5: str | None) -> BenchmarkSpec:
    return make_spec({"tsv": TsvSource(url=url, md5=md5, filename=FILENAME, columns=MCQ_COLUMNS)})


def _no_leftovers(root: Path) -> list[str]:
    return sorted(p.name for p in root.iterdir()) if root.exists() else []


def test_downloads_into_data_root_and_checks_md5(served: tuple[Path, str], tmp_path: Path) -> None:
    folder, md5 = served
    root = tmp_path / "LMUData"
    with serve_directory(folder) as base:
        loaded = load_samples(_tsv_spec(f"{base}/{FILENAME}", md5), data_root=root)
    target = root / FILENAME
    assert loaded.info == DataInfo("tsv", str(target), None, md5)
    assert target.read_bytes() == (folder / FILENAME).read_bytes()
    assert [s.index for s in loaded.samples] == [1, 2, 3, 4, 5, 6]
    assert image_pixels(loaded.samples[0].images[0].load()) == pixels(RED)
    assert json.loads((root / f"{FILENAME}.md5").read_text())["md5"] == md5
    assert _no_leftovers(root) == [FILENAME, f"{FILENAME}.md5"]


def test_download_with_wrong_md5_leaves_nothing(served: tuple[Path, str], tmp_path: Path) -> None:
    folder, md5 = served
    root = tmp_path / "LMUData"
    with serve_directory(folder) as base, pytest.raises(DataError) as caught:
        load_samples(_tsv_spec(f"{base}/{FILENAME}", "f" * 32), data_root=root)
    message = str(caught.value)
    assert FILENAME in message and md5 in message and "f" * 32 in message
    assert _no_leftovers(root) == []


def test_download_404(served: tuple[Path, str], tmp_path: Path) -> None:
    folder, md5 = served
    root = tmp_path / "LMUData"
    with serve_directory(folder) as base, pytest.raises(DataError, match="HTTP 404"):
        load_samples(_tsv_spec(f"{base}/missing.tsv", md5), data_root=root)
    assert _no_leftovers(root) == []


def test_stale_file_is_downloaded_again(served: tuple[Path, str], tmp_path: Path) -> None:
    folder, md5 = served
    root = tmp_path / "LMUData"
    root.mkdir()
    (root / FILENAME).write_text("index\timage\tquestion\tanswer\n", encoding="utf-8")
    with serve_directory(folder) as base:
        loaded = load_samples(_tsv_spec(f"{base}/{FILENAME}", md5), data_root=root)
    assert loaded.info.checksum == md5 and len(loaded.samples) == 6


def test_stale_file_offline_or_unreachable_names_both_md5s(served: tuple[Path, str], tmp_path: Path) -> None:
    folder, md5 = served
    root = tmp_path / "LMUData"
    root.mkdir()
    (root / FILENAME).write_bytes((folder / FILENAME).read_bytes() + b"\n")
    spec = _tsv_spec("http://127.0.0.1:9/nothing.tsv", md5)
    for offline in (True, False):
        with pytest.raises(DataError) as caught:
            load_samples(spec, data_root=root, offline=offline)
        assert str(root / FILENAME) in str(caught.value) and md5 in str(caught.value)
    unchecked = load_samples(spec, data_root=root, offline=True, verify_checksum=False)
    assert len(unchecked.samples) == 6 and unchecked.info.checksum != md5


def test_present_file_with_right_md5_needs_no_network(served: tuple[Path, str], tmp_path: Path) -> None:
    folder, md5 = served
    root = tmp_path / "LMUData"
    root.mkdir()
    (root / FILENAME).write_bytes((folder / FILENAME).read_bytes())
    loaded = load_samples(_tsv_spec("http://127.0.0.1:9/x.tsv", md5), data_root=root, offline=True)
    assert loaded.info.checksum == md5
    missing = _tsv_spec("http://127.0.0.1:9/x.tsv", md5)
    with pytest.raises(DataError, match="missing and cannot be downloaded offline"):
        load_samples(missing, data_root=tmp_path / "empty", offline=True)


def test_sidecar_md5_is_trusted_only_while_size_and_mtime_match(
    served: tuple[Path, str], tmp_path: Path
) -> None:
    folder, md5 = served
    target = tmp_path / FILENAME
    target.write_bytes((folder / FILENAME).read_bytes())
    sidecar = tmp_path / f"{FILENAME}.md5"
    fetch_url(None, target, md5, offline=True, verify=True)
    record = json.loads(sidecar.read_text())
    assert record["md5"] == md5
    sidecar.write_text(json.dumps({**record, "md5": "a" * 32}))  # a cache hit: the sidecar's md5 is used
    with pytest.raises(DataError, match="a" * 32):
        fetch_url(None, target, md5, offline=True, verify=True)
    target.write_bytes(target.read_bytes())  # new mtime: hashed again, and right
    assert fetch_url(None, target, md5, offline=True, verify=True) == target


def test_data_file_overrides_and_uses_file_then_tsv_columns(tmp_path: Path) -> None:
    path = tmp_path / "own.tsv"
    md5 = write_tsv(path, mcq_rows())
    spec = _tsv_spec("http://127.0.0.1:9/x.tsv", "0" * 32)
    loaded = load_samples(spec, data_file=path, data_root=tmp_path / "unused")
    assert loaded.info == DataInfo("file", str(path), None, md5)
    assert loaded.samples[0].options[3] == ("D", "fish")
    file_columns = ColumnMap(option_letters="AB", metadata=("category",))
    both = make_spec(
        {"tsv": TsvSource("u", None, FILENAME, MCQ_COLUMNS), "file": FileSource(columns=file_columns)}
    )
    again = load_samples(both, data_file=path, data_root=tmp_path)
    assert again.samples[0].options == (("A", "cat"), ("B", "dog"))
    assert dict(again.samples[0].metadata) == {"category": "animals"}


def test_unknown_source_and_file_source_without_url(tmp_path: Path) -> None:
    spec = make_spec({"file": FileSource(columns=ColumnMap(), note="ask the authors")}, default="file")
    with pytest.raises(DataError, match="no 'hub' source \\(available: file\\)"):
        load_samples(spec, source="hub", data_root=tmp_path)
    with pytest.raises(DataError, match="pass --data-file \\(ask the authors\\)"):
        load_samples(spec, data_root=tmp_path)


def test_file_source_with_url_downloads_without_checksum(served: tuple[Path, str], tmp_path: Path) -> None:
    folder, md5 = served
    with serve_directory(folder) as base:
        spec = make_spec({"file": FileSource(columns=MCQ_COLUMNS, url=f"{base}/{FILENAME}")}, default="file")
        loaded = load_samples(spec, data_root=tmp_path / "LMUData")
    assert loaded.info == DataInfo("file", str(tmp_path / "LMUData" / FILENAME), None, md5)


def test_hub_source_through_load_samples(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    write_hub_folder(repo)
    columns = ColumnMap(index="question_id", answer="answers", answer_format="list", options_list="options")
    spec = make_spec(
        {"hub": HubSource(repo=str(repo), split="dev", columns=columns, revision="v1.0")}, default="hub"
    )
    loaded = load_samples(spec, data_root=tmp_path, hub_cache_dir=tmp_path / "cache", offline=True)
    assert loaded.info == DataInfo("hub", f"{repo}/dev", "v1.0", None)
    assert [s.answers for s in loaded.samples] == [("red", "crimson")]


def test_older_published_version_is_named_not_accepted(served: tuple[Path, str], tmp_path: Path) -> None:
    folder, md5 = served
    root = tmp_path / "LMUData"
    root.mkdir()
    old = (folder / FILENAME).read_bytes().replace(b"fish", b"FISH")
    (root / FILENAME).write_bytes(old)
    old_md5 = hashlib.md5(old).hexdigest()
    source = TsvSource("http://127.0.0.1:9/x.tsv", md5, FILENAME, MCQ_COLUMNS, older_md5=(old_md5,))
    with pytest.raises(DataError) as caught:
        load_samples(make_spec({"tsv": source}), data_root=root, offline=True)
    assert f"md5 is {old_md5} (an older published version of this file), expected {md5}" in str(caught.value)
    with serve_directory(folder) as base:
        fresh = TsvSource(f"{base}/{FILENAME}", md5, FILENAME, MCQ_COLUMNS, older_md5=(old_md5,))
        loaded = load_samples(make_spec({"tsv": fresh}), data_root=root)
    assert loaded.info.checksum == md5 and loaded.samples[0].options[3] == ("D", "fish")
