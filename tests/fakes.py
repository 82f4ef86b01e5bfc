"""Test doubles shared across the test suite."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import NamedTuple

from evalkit.judge.base import ChatMessage

Reply = str | Exception


class JudgeCall(NamedTuple):
    """One call to :class:`FakeJudge`, as it was made (unpacks as ``messages, temperature, max_tokens``)."""

    messages: list[dict[str, str]]
    temperature: float
    max_tokens: int


class FakeJudge:
    """A scripted :class:`evalkit.judge.base.Judge` that records every call.

    The reply comes from exactly one of:

    * ``replies``: one reply, or a sequence of them taken in call order; once exhausted the last one repeats,
      or, with ``repeat_last=False``, the call raises :class:`IndexError`;
    * ``answer``: a function of the last message's content;
    * ``respond``: a function of the whole message list.

    A reply that is an exception instance is raised instead of returned. Thread-safe.
    """

    def __init__(self, replies: Reply | Sequence[Reply] | None = None, *,
                 answer: Callable[[str], Reply] | None = None,
                 respond: Callable[[Sequence[ChatMessage]], Reply] | None = None,
                 model: str = "fake-judge", repeat_last: bool = True) -> None:
        if sum(source is not None for source in (replies, answer, respond)) != 1:
            raise TypeError("FakeJudge takes exactly one of replies, answer= or respond=")
        if isinstance(replies, str | Exception):
            replies = [replies]
        self.replies: list[Reply] | None = None if replies is None else list(replies)
        if self.replies == []:
            raise ValueError("FakeJudge needs at least one reply")
        self.answer = answer
        self.respond = respond
        self.repeat_last = repeat_last
        self._model = model
        self.calls: list[JudgeCall] = []
        self._lock = threading.Lock()

    @property
    def model(self) -> str:
        return self._model

    @property
    def prompts(self) -> list[str]:
        """The content of the last message of each call, in call order."""
        with self._lock:
            return [call.messages[-1]["content"] for call in self.calls]

    def complete(self, messages: Sequence[ChatMessage], *, temperature: float = 0.0, max_tokens: int = 512) -> str:
        with self._lock:
            self.calls.append(JudgeCall([dict(m) for m in messages], temperature, max_tokens))
            number = len(self.calls)
        if self.respond is not None:
            reply = self.respond(messages)
        elif self.answer is not None:
            reply = self.answer(messages[-1]["content"])
        else:
            assert self.replies is not None
            if number > len(self.replies) and not self.repeat_last:
                raise IndexError(f"FakeJudge: call {number} but only {len(self.replies)} replies scripted")
            reply = self.replies[min(number, len(self.replies)) - 1]
        if isinstance(reply, Exception):
            raise reply
        return reply
