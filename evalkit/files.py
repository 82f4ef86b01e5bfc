"""Small crash-safe file helpers: atomic JSON writes and durable appends."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any


def dumps_line(record: Any) -> str:
    """One JSON line: UTF-8 kept readable, keys in insertion order, no NaN."""
    return json.dumps(record, ensure_ascii=False, allow_nan=False, default=str) + "\n"


@contextmanager
def atomic_output(path: Path) -> Iterator[Path]:
    """A temporary path beside ``path`` (unique to this call, so two processes never share it) for the caller to
    write; when the block ends it is fsynced and renamed over ``path``, so readers see the old file or the new
    one, never half of one. On an error the temporary file is removed and ``path`` is left as it was."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temp_name = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    os.close(handle)
    temp = Path(temp_name)
    try:
        yield temp
        with temp.open("rb") as written:
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
