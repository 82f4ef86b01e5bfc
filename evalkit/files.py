"""Small crash-safe file helpers: atomic JSON writes and durable appends.

Every file written through :func:`atomic_output` ends with the mode a plain ``open(path, "w")`` would give it,
``0o666 & ~umask`` (0644 under the usual umask 022): the temporary file ``mkstemp`` makes is private (0600), so
its mode is set from the process's umask before it is renamed into place.
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any


def dumps_line(record: Any) -> str:
    """One JSON line: UTF-8 kept readable, keys in insertion order, no NaN."""
    return json.dumps(record, ensure_ascii=False, allow_nan=False, default=str) + "\n"


_UMASK_LOCK = threading.Lock()
_STATUS = "/proc/self/status"


def current_umask() -> int:
    """The process's umask, read without changing it where Linux says it (``/proc/self/status``), else by
    setting and restoring it under a lock (a restrictive 0o077 in between, so a file another thread creates
    meanwhile is never more open than intended)."""
    try:
        with open(_STATUS, encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    with _UMASK_LOCK:
        mask = os.umask(0o077)
        os.umask(mask)
    return mask


def default_mode() -> int:
    """The mode a new file gets from ``open(path, "w")``: ``0o666`` less the umask."""
    return 0o666 & ~current_umask()


@contextmanager
def atomic_output(path: Path) -> Iterator[Path]:
    """A temporary path beside ``path`` (unique to this call, so two processes never share it) for the caller to
    write; when the block ends it gets :func:`default_mode`, is fsynced and renamed over ``path``, so readers see
    the old file or the new one, never half of one. On an error the temporary file is removed and ``path`` is left
    as it was."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temp_name = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    os.close(handle)
    temp = Path(temp_name)
    try:
        yield temp
        with temp.open("rb") as written:
            os.fchmod(written.fileno(), default_mode())
            os.fsync(written.fileno())
        os.replace(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise


def write_atomic(path: Path, content: str | bytes) -> None:
    """Write ``content`` (text as UTF-8) to ``path`` through :func:`atomic_output`."""
    data = content.encode("utf-8") if isinstance(content, str) else content
    with atomic_output(path) as temp:
        temp.write_bytes(data)


def write_json_atomic(path: Path, data: Any) -> None:
    """Write ``data`` as indented JSON to ``path`` through :func:`atomic_output`: never a half file."""
    write_atomic(path, json.dumps(data, ensure_ascii=False, indent=2, allow_nan=False, default=str) + "\n")


def read_json(path: Path) -> Any:
    with path.open(encoding="utf-8") as handle:
        return json.load(handle)
