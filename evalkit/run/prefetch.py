"""Running preparation ahead of generation: a bounded look-ahead over a thread pool.

Image decoding, tiling and the processor's tokenisation happen in worker
threads for the next batches while the model generates the current one, so
generation never waits for I/O. At most ``depth`` prepared batches are held in
memory at once.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

In = TypeVar("In")
Out = TypeVar("Out")


def prefetched(items: Iterable[In], prepare: Callable[[In], Out], *, workers: int, depth: int) -> Iterator[Out]:
    """``prepare(item)`` for each item, in order, computed up to ``depth`` items ahead on ``workers`` threads.

    With ``workers == 0`` everything runs inline (no threads). An exception in ``prepare`` is raised when its
    item's turn comes, after the items before it were yielded.
    """
    if workers <= 0:
        yield from (prepare(item) for item in items)
        return
    source = iter(items)
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="evalkit-prefetch") as pool:
        pending: deque[Future[Out]] = deque()

        def submit_next() -> None:
            for item in source:
                pending.append(pool.submit(prepare, item))
                return

        for _ in range(max(1, depth)):
            submit_next()
        try:
            while pending:
                result = pending.popleft().result()
                submit_next()
                yield result
        finally:
            for future in pending:
                future.cancel()
