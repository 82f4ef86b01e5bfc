"""Fetching VLMEvalKit TSVs into the ``$LMUData`` folder, md5-checked.

VLMEvalKit keeps each suite's TSV as ``$LMUData/<name>.tsv`` and pins its md5:
an existing file with the right md5 is used as is, one with a different md5 is
downloaded again. This module does the same, except that it never re-downloads
when offline (it raises :class:`DataError` naming the file and both md5s).

A download goes to a ``.part`` file in the same folder, is hashed while it is
written, and is renamed over the final name only after its md5 matched, so a
partial or wrong file never sits under the final name. The md5 of a verified
file is cached in ``<file>.md5`` together with its size and mtime, so a large
file is not hashed again on every run.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sys
import tempfile
import urllib.error
import urllib.request
from pathlib import Path
from typing import IO, Any

from tqdm import tqdm

from evalkit.catalog.spec import TsvSource
from evalkit.errors import DataError
from evalkit.files import default_mode

CHUNK_BYTES = 1 << 20
TIMEOUT_S = 60.0
#: The size from which hashing a file is announced (about a tenth of a second of hashing).
ANNOUNCED_MD5_BYTES = 50_000_000
#: Said after an md5 mismatch: how to use the file anyway.
ESCAPE = " (run --no-verify-checksum uses the file as it is)"


def file_md5(path: Path) -> str:
    """The md5 hex digest of a file, read in chunks."""
    digest = hashlib.md5()
    try:
        with open(path, "rb") as handle:
            while chunk := handle.read(CHUNK_BYTES):
                digest.update(chunk)
    except OSError as exc:
        raise DataError(f"cannot read {path}: {exc.strerror or exc}") from exc
    return digest.hexdigest()


def _sidecar(path: Path) -> Path:
    return path.with_name(path.name + ".md5")


def _stamp(path: Path) -> dict[str, int]:
    status = path.stat()
    return {"size": status.st_size, "mtime_ns": status.st_mtime_ns}


def remembered_md5(path: Path) -> str | None:
    """The md5 in the file's ``.md5`` sidecar when size and mtime still match, else None."""
    try:
        cached = json.loads(_sidecar(path).read_text(encoding="utf-8"))
        if (
            isinstance(cached, dict)
            and cached.get("stamp") == _stamp(path)
            and isinstance(cached.get("md5"), str)
        ):
            return str(cached["md5"])
    except (OSError, ValueError):
        pass
    return None


def cached_md5(path: Path, *, announce: bool = False) -> str:
    """The file's md5, from its ``.md5`` sidecar when size and mtime still match, else hashed (said on stderr
    when ``announce`` and the file is large enough to take a while)."""
    remembered = remembered_md5(path)
    if remembered is not None:
        return remembered
    if announce and path.stat().st_size >= ANNOUNCED_MD5_BYTES:
        print(f"evalkit: checking the md5 of {path} ({megabytes(path.stat().st_size)})", file=sys.stderr)
    return file_md5(path)


def megabytes(size: int) -> str:
    return f"{size / 1e6:.1f} MB"


def remember_md5(path: Path, md5: str) -> None:
    """Record a verified md5 in the sidecar; a read-only folder just means no cache."""
    with contextlib.suppress(OSError):
        _sidecar(path).write_text(json.dumps({"md5": md5, "stamp": _stamp(path)}), encoding="utf-8")


def download(url: str, target: Path, expected_md5: str | None, *, progress: bool = False) -> str:
    """Download ``url`` to ``target`` via a ``.part`` file; return the md5 of what was written.

    The rename happens only when ``expected_md5`` is None or matches; otherwise,
    or on any network or disk error, the partial file is removed and
    :class:`DataError` names the URL and target. ``progress`` shows a bar on
    stderr with the size, speed and time left.
    """
    part: Path | None = None
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        prefix = target.name + "."
        with tempfile.NamedTemporaryFile(
            dir=target.parent, prefix=prefix, suffix=".part", delete=False
        ) as handle:
            part = Path(handle.name)
            md5 = _copy_url(url, handle, target, progress)
        if expected_md5 is not None and md5 != expected_md5.lower():
            raise DataError(f"{target}: downloaded file from {url} has md5 {md5}, expected {expected_md5}{ESCAPE}")
        os.chmod(part, default_mode())  # the temporary file is private; the data is shared like any file
        os.replace(part, target)
    except OSError as exc:
        raise DataError(f"cannot write {target}: {exc.strerror or exc}") from exc
    finally:
        if part is not None:
            part.unlink(missing_ok=True)
    return md5


def _copy_url(url: str, handle: IO[bytes], target: Path, progress: bool) -> str:
    digest = hashlib.md5()
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT_S) as response, download_bar(
                response.headers.get("Content-Length"), target.name, progress) as bar:
            while chunk := response.read(CHUNK_BYTES):
                digest.update(chunk)
                handle.write(chunk)
                bar.update(len(chunk))
    except urllib.error.HTTPError as exc:
        raise DataError(f"cannot download {url} to {target}: HTTP {exc.code} {exc.reason}") from exc
    except (urllib.error.URLError, TimeoutError, ConnectionError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        raise DataError(f"cannot download {url} to {target}: {reason}") from exc
    return digest.hexdigest()


def _mismatch(target: Path, actual: str, expected: str, older: tuple[str, ...]) -> str:
    """``<file>: md5 is X, expected Y`` (noting when X is an older published version of the file)."""
    note = " (an older published version of this file)" if actual in {m.lower() for m in older} else ""
    return f"{target}: md5 is {actual}{note}, expected {expected}"


def download_bar(length: str | None, name: str, enabled: bool) -> tqdm[Any]:
    """``MME.tsv: 45%|████ | 120M/268M [00:09<00:11, 13.2MB/s]`` on stderr; a total only when the server
    sends one."""
    total = int(length) if length is not None and length.isdigit() else None
    return tqdm(total=total, desc=name, unit="B", unit_scale=True, unit_divisor=1000, disable=not enabled,
                dynamic_ncols=True, leave=True, miniters=1)


def fetch_url(
    url: str | None,
    target: Path,
    md5: str | None,
    *,
    offline: bool,
    verify: bool,
    older_md5: tuple[str, ...] = (),
    progress: bool = False,
) -> Path:
    """Make sure ``target`` holds the file at ``url`` with md5 ``md5`` (when known and ``verify``).

    A present file with another md5 (``older_md5`` included) is downloaded again,
    as VLMEvalKit does; offline, or without a URL, that is a :class:`DataError`.
    ``progress`` announces an md5 check and shows a download's bar on stderr.
    """
    expected = md5 if verify else None
    if target.is_file():
        if expected is None:
            return target
        actual = cached_md5(target, announce=progress)
        if actual == expected.lower():
            remember_md5(target, actual)
            return target
        problem = _mismatch(target, actual, expected, older_md5)
        if offline:
            raise DataError(f"{problem}; offline, so it cannot be downloaded again{ESCAPE}")
        if url is None:
            raise DataError(f"{problem}, and there is no URL to download it from{ESCAPE}")
        return _redownload(url, target, expected, problem, progress)
    if offline:
        raise DataError(f"{target} is missing and cannot be downloaded offline (from {url})")
    if url is None:
        raise DataError(f"{target} is missing and the card gives no URL to download it from")
    got = download(url, target, expected, progress=progress)
    remember_md5(target, got)
    return target


def _redownload(url: str, target: Path, expected: str, problem: str, progress: bool) -> Path:
    try:
        got = download(url, target, expected, progress=progress)
    except DataError as exc:
        raise DataError(f"{problem}; downloading again failed: {exc}") from exc
    remember_md5(target, got)
    return target


def fetch_tsv(source: TsvSource, data_root: Path, *, offline: bool, verify: bool, progress: bool = False) -> Path:
    """The local path of ``source``'s TSV under ``data_root`` (``$LMUData``), downloading when needed."""
    target = data_root / source.filename
    return fetch_url(
        source.url, target, source.md5, offline=offline, verify=verify, older_md5=source.older_md5, progress=progress
    )
