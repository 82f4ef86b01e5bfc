"""A run's data read again on this machine, so the sample browser can show each sample's image.

The manifest records, per suite, where the run read its data (``benchmarks.<SUITE>.data``: ``source``,
``location``, ``revision``, ``checksum``). The report reads it again from there, never from the network:

- ``tsv``: the VLMEvalKit TSV at the recorded path, else the file of that name under ``$LMUData``;
- ``file``: a ``--data-file`` (or a card's downloaded file) at the recorded path, taken as given, beside the run
  folder or inside it;
- ``hub``: the hub dataset from the local ``datasets`` cache only (offline), or the hub-layout folder it names.

Only data that is the run's own is used: a file whose md5 differs from the recorded checksum, or a hub dataset
at another revision, gives no images and a note saying why, as does data that is not here.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evalkit.catalog.cards import load_catalog
from evalkit.catalog.spec import BenchmarkSpec, CellRule, HubSource, TsvSource
from evalkit.config import Environment
from evalkit.data.hub_dataset import load_hub
from evalkit.data.local_file import read_data_file
from evalkit.data.sample import Sample
from evalkit.data.sources import data_file_columns
from evalkit.data.vlmevalkit_tsv import read_tsv
from evalkit.errors import EvalkitError
from evalkit.run.folder import RunFolder, index_key


@dataclass(frozen=True)
class LocalData:
    """The suite's samples by ``index_key`` (empty when its data cannot be read here) and, then, why not."""

    samples: dict[str, Sample]
    identity: str
    note: str | None = None


def _missing(note: str) -> LocalData:
    return LocalData({}, "", note)


def _first_existing(candidates: list[Path]) -> Path | None:
    return next((path for path in candidates if path.is_file()), None)


def _checked(samples: list[Sample], md5: str, recorded: object, path: Path) -> LocalData:
    if isinstance(recorded, str) and recorded and recorded.lower() != md5:
        return _missing(f"no images: {path} has changed since the run (md5 {md5}, the run read {recorded})")
    return LocalData({index_key(sample.index): sample for sample in samples}, f"{path}#{md5}")


def _read_tsv(spec: BenchmarkSpec, data: dict[str, Any], environment: Environment, cells: CellRule) -> LocalData:
    source = spec.sources.get("tsv")
    location = Path(str(data.get("location")))
    path = _first_existing([location, environment.data_root / location.name])
    if path is None:
        return _missing(f"no images: the data file {location.name} is neither at {location} nor under "
                        f"$LMUData ({environment.data_root})")
    if not isinstance(source, TsvSource):
        return _missing(f"no images: the card of {spec.name} no longer has a tsv source")
    tsv = read_tsv(path, source.columns, suite=spec.name, cells=cells)
    return _checked(tsv.samples, tsv.md5, data.get("checksum"), path)


def _read_file(spec: BenchmarkSpec, data: dict[str, Any], run: RunFolder, cells: CellRule) -> LocalData:
    location = Path(str(data.get("location")))
    path = _first_existing([location, run.path.parent / location, run.path / location])
    if path is None:
        return _missing(f"no images: the data file {location} is not on this machine")
    loaded = read_data_file(path, data_file_columns(spec), suite=spec.name, cells=cells)
    return _checked(loaded.samples, loaded.md5, data.get("checksum"), path)


def hub_repo_of(location: str, source: HubSource) -> str:
    """The repo (hub id or folder) of a recorded ``repo[:config]/split`` location."""
    head = location.removesuffix(f"/{source.split}")
    return head.removesuffix(f":{source.config}") if source.config else head


def _read_hub(spec: BenchmarkSpec, data: dict[str, Any], environment: Environment) -> LocalData:
    source = spec.sources.get("hub")
    location = str(data.get("location"))
    if not isinstance(source, HubSource):
        return _missing(f"no images: the card of {spec.name} no longer has a hub source")
    local = dataclasses.replace(source, repo=hub_repo_of(location, source), fallback_repos=())
    try:
        hub = load_hub(local, suite=spec.name, cache_dir=environment.hub_cache_dir, offline=True)
    except EvalkitError:
        return _missing(f"no images: the hub dataset {location} is not in the local cache "
                        f"({environment.hub_cache_dir or 'the datasets default cache'})")
    recorded = data.get("revision")
    if isinstance(recorded, str) and hub.revision is not None and recorded != hub.revision:
        return _missing(f"no images: the cached {location} is revision {hub.revision}, the run read {recorded}")
    return LocalData({index_key(sample.index): sample for sample in hub.samples}, f"{location}@{hub.revision}")


def local_data_key(run: RunFolder, benchmark: str) -> tuple[object, ...]:
    """What :func:`read_local_data` depends on: two runs with equal keys read the same samples."""
    data = (run.entry(benchmark) or {}).get("data")
    where = run.path if not isinstance(data, dict) or data.get("source") == "file" else None  # relative paths
    return (benchmark, run.protocol, json.dumps(data, sort_keys=True, default=str), where)


def read_local_data(run: RunFolder, benchmark: str, environment: Environment) -> LocalData:
    """The samples ``run`` scored on ``benchmark``, read from this machine only (see the module docstring)."""
    entry = run.entry(benchmark) or {}
    data = entry.get("data")
    if not isinstance(data, dict) or not data.get("location"):
        return _missing("no images: the run's manifest does not say where its data came from")
    try:
        spec = load_catalog().get(benchmark)
        protocol = spec.protocols.get(run.protocol or "paper") or spec.protocol("paper")
        if data.get("source") == "tsv":
            return _read_tsv(spec, data, environment, protocol.cells)
        if data.get("source") == "file":
            return _read_file(spec, data, run, protocol.cells)
        if data.get("source") == "hub":
            return _read_hub(spec, data, environment)
    except EvalkitError as exc:
        return _missing(f"no images: {exc}")
    return _missing(f"no images: unknown data source {data.get('source')!r} in the manifest")
