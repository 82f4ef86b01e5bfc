"""The entry point: a suite's card (and flags) → its Samples and where they came from.

``source`` names one of the card's sources (``tsv``, ``hub``, ``file``);
``None`` means the card's ``default_source``. A ``data_file`` overrides every
source and is read with the card's ``file`` columns, else its ``tsv`` columns.
TSVs live under ``data_root`` (the caller's ``$LMUData``, default ``~/LMUData``)
and are md5-checked against the card. ``protocol`` decides how the cells of a
TSV, CSV or xlsx are read (its card's ``cells`` rule, :mod:`evalkit.data.cells`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

from evalkit.catalog.spec import BenchmarkSpec, CellRule, ColumnMap, FileSource, HubSource, Source, TsvSource
from evalkit.data.hub_dataset import load_hub
from evalkit.data.local_file import read_data_file
from evalkit.data.sample import Sample
from evalkit.data.tsv_download import fetch_tsv, fetch_url, remember_md5
from evalkit.data.vlmevalkit_tsv import read_tsv
from evalkit.errors import DataError


@dataclass(frozen=True)
class DataInfo:
    """Provenance of a loaded suite, recorded with every run."""

    source: str  # "tsv" | "hub" | "file"
    location: str  # file path or "repo[:config]/split"
    revision: str | None  # hub commit sha if known, else the requested revision
    checksum: str | None  # md5 hex of the TSV/data file


@dataclass(frozen=True)
class LoadedData:
    samples: list[Sample]
    info: DataInfo


def data_file_columns(spec: BenchmarkSpec) -> ColumnMap:
    """Columns for ``--data-file``: the card's ``file`` source, else ``tsv``, else ``hub``."""
    for name in ("file", "tsv", "hub"):
        source = spec.sources.get(name)
        if source is not None:
            return source.columns
    raise DataError(f"{spec.name}: the card declares no source whose columns a data file could use")


def _pick(spec: BenchmarkSpec, source: str | None) -> Source:
    name = source or spec.default_source
    if name not in spec.sources:
        known = ", ".join(sorted(spec.sources)) or "none"
        raise DataError(f"{spec.name} has no '{name}' source (available: {known})")
    return spec.sources[name]


def _load_tsv(
    spec: BenchmarkSpec, source: TsvSource, data_root: Path, offline: bool, verify: bool, cells: CellRule,
    progress: bool,
) -> LoadedData:
    path = fetch_tsv(source, data_root, offline=offline, verify=verify, progress=progress)
    expected = source.md5 if verify else None
    data = read_tsv(path, source.columns, suite=spec.name, expected_md5=expected, cells=cells)
    if expected is not None:
        remember_md5(path, data.md5)
    return LoadedData(data.samples, DataInfo("tsv", str(path), None, data.md5))


def _load_remote_file(spec: BenchmarkSpec, source: FileSource, data_root: Path, offline: bool,
                      cells: CellRule, progress: bool) -> LoadedData:
    if source.url is None:
        note = f" ({source.note})" if source.note else ""
        raise DataError(f"{spec.name} reads a user-supplied file: pass --data-file{note}")
    name = Path(urlparse(source.url).path).name
    if not name:
        raise DataError(f"{spec.name}: cannot name a local file after URL {source.url}")
    path = fetch_url(source.url, data_root / name, None, offline=offline, verify=False, progress=progress)
    data = read_data_file(path, source.columns, suite=spec.name, cells=cells)
    return LoadedData(data.samples, DataInfo("file", str(path), None, data.md5))


def load_samples(
    spec: BenchmarkSpec,
    *,
    source: str | None = None,
    data_file: Path | None = None,
    data_root: Path,
    hub_cache_dir: Path | None = None,
    offline: bool = False,
    verify_checksum: bool = True,
    protocol: str = "paper",
    progress: bool = False,
) -> LoadedData:
    """Load every sample of ``spec`` from the chosen source, images left undecoded, cells read as
    ``protocol``'s reference reads them.

    ``progress`` shows a download's bar and announces an md5 check on stderr.
    Raises :class:`~evalkit.errors.DataError` for an unknown source, a file that
    cannot be fetched or read, a checksum mismatch, or a missing column.
    """
    chosen_protocol = spec.protocols.get(protocol)
    cells: CellRule = chosen_protocol.cells if chosen_protocol is not None else "literal"
    if data_file is not None:
        data = read_data_file(data_file, data_file_columns(spec), suite=spec.name, cells=cells)
        return _unique(LoadedData(data.samples, DataInfo("file", str(data_file), None, data.md5)))
    chosen = _pick(spec, source)
    if isinstance(chosen, TsvSource):
        return _unique(_load_tsv(spec, chosen, data_root, offline, verify_checksum, cells, progress))
    if isinstance(chosen, HubSource):
        hub = load_hub(chosen, suite=spec.name, cache_dir=hub_cache_dir, offline=offline)
        return _unique(LoadedData(hub.samples, DataInfo("hub", hub.location, hub.revision, None)))
    return _unique(_load_remote_file(spec, chosen, data_root, offline, cells, progress))


def _unique(data: LoadedData) -> LoadedData:
    """Refuse two samples with one index: they would share one prediction record (the last one written)."""
    seen: dict[object, int] = {}
    for number, sample in enumerate(data.samples, start=1):
        first = seen.setdefault(sample.index, number)
        if first != number:
            raise DataError(f"{data.info.location}: index {sample.index!r} is used by samples {first} and "
                            f"{number} (in file order); indices must be unique")
    return data
