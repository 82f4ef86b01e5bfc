"""Where a suite's data is, whether it is already here, and whether it can be fetched: known before any work.

:func:`locate` reads only the file system (for ``list benchmarks`` and the run's check); :func:`check_available`
adds one short connection attempt to the download host when the data is not here, so that an unreachable
network or ``HF_HUB_OFFLINE=1`` is one line at once, naming the path the data is expected at, rather than a
download that fails after the model was checked and folders were written, or minutes of retries.
"""

from __future__ import annotations

import socket
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

from evalkit.catalog.spec import BenchmarkSpec, FileSource, HubSource, TsvSource
from evalkit.errors import DataError

#: Seconds to wait for the download host to accept a connection.
PROBE_TIMEOUT_S = 5.0


@dataclass(frozen=True)
class Location:
    """Where a suite's data lives locally (a file, or a hub dataset for ``hub`` sources) and where it comes from."""

    suite: str
    source: str  # "tsv" | "hub" | "file"
    path: Path | None  # the local file; None for a hub dataset (its cache is the datasets library's)
    url: str | None  # where it is downloaded from; None when the user supplies it
    note: str = ""  # the card's word on a user-supplied file

    @property
    def present(self) -> bool | None:
        """The file is here; None when it cannot be told without the datasets library (hub sources)."""
        return self.path.is_file() if self.path is not None else None


def locate(spec: BenchmarkSpec, *, source: str | None, data_file: Path | None, data_root: Path) -> Location:
    """Where ``spec``'s data is read from under these flags (``--data-file`` wins); nothing is read or fetched."""
    if data_file is not None:
        return Location(spec.name, "file", data_file, None)
    name = source or spec.default_source
    chosen = spec.sources.get(name)
    if chosen is None:
        known = ", ".join(sorted(spec.sources)) or "none"
        raise DataError(f"{spec.name} has no '{name}' source (available: {known})")
    if isinstance(chosen, TsvSource):
        return Location(spec.name, "tsv", data_root / chosen.filename, chosen.url)
    if isinstance(chosen, HubSource):
        return Location(spec.name, "hub", None, f"https://huggingface.co/datasets/{chosen.repo}")
    assert isinstance(chosen, FileSource)
    name_in_url = Path(urlparse(chosen.url).path).name if chosen.url else ""
    return Location(spec.name, "file", data_root / name_in_url if name_in_url else None, chosen.url, chosen.note)


def unreachable(url: str, timeout: float = PROBE_TIMEOUT_S) -> str | None:
    """Why ``url``'s host (or the proxy in front of it) cannot be connected to, or None when it can."""
    parsed = urlparse(url)
    proxy = urllib.request.getproxies().get(parsed.scheme)
    target = urlparse(proxy) if proxy else parsed
    host = target.hostname
    if host is None:
        return f"'{url}' names no host"
    port = target.port or (443 if target.scheme == "https" else 80)
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return None
    except OSError as exc:
        return f"{host}:{port}: {exc.strerror or exc}"


def check_available(location: Location, *, offline: bool, probe: Callable[[str], str | None] = unreachable) -> None:
    """Refuse, in one line naming the expected path, data that is not here and cannot be fetched now
    (``probe`` says why a URL cannot be reached, or None)."""
    if location.source == "hub" or location.present:
        return  # a hub dataset's cache and the network are the datasets library's to judge, offline included
    if location.url is None:
        if location.path is not None:  # --data-file
            problem = "not a file" if location.path.exists() else "no such file"
            raise DataError(f"cannot read {location.path}: {problem}")
        note = f" ({location.note})" if location.note else ""
        raise DataError(f"{location.suite} reads a user-supplied file: pass --data-file{note}")
    if offline:
        raise DataError(f"{location.suite}: {location.path} is not here, and HF_HUB_OFFLINE is set, so it cannot be "
                        f"downloaded from {location.url}; put the file there or unset HF_HUB_OFFLINE")
    reason = probe(location.url)
    if reason is not None:
        raise DataError(f"{location.suite}: {location.path} is not here, and {location.url} cannot be reached "
                        f"({reason}); put the file there or check the network")
