"""A progress bar with samples/s and ETA (tqdm), silent when disabled."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Protocol

from tqdm import tqdm


class Bar(Protocol):
    def update(self, n: int = 1) -> object: ...


@contextmanager
def progress_bar(*, total: int, description: str, enabled: bool) -> Iterator[Bar]:
    """Shows ``description: 40%|████ | 12/30 [00:03<00:04, 3.9 sample/s]`` on stderr."""
    with tqdm(total=total, desc=description, unit="sample", disable=not enabled, dynamic_ncols=True,
              leave=True, smoothing=0.1) as bar:
        yield bar
