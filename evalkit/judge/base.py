"""The Judge protocol: a language model that scorers may ask, through one method.

A judge is only ever consulted where a suite's reference code consults one
(MM-Vet grading, MathVista extraction, ConvBench, the fallback of choice
extraction). ``exact_matching`` means no judge: the scorer gets ``None`` and
reports what it could not decide, never a silent zero.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol

ChatMessage = Mapping[str, str]  # {"role": "system" | "user" | "assistant", "content": "..."}


class JudgeError(Exception):
    """The judge could not answer (retries exhausted, malformed reply, timeout)."""


class Judge(Protocol):
    """What a judge backend implements. Implementations are thread-safe and cache every call."""

    @property
    def model(self) -> str:
        """The judge model's name as resolved (recorded in the manifest and every scored sample)."""
        ...

    def complete(self, messages: Sequence[ChatMessage], *, temperature: float = 0.0, max_tokens: int = 512) -> str:
        """The judge's reply text; raises :class:`JudgeError` when it cannot get one."""
        ...
