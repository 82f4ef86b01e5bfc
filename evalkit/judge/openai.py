"""The ``openai:<model>`` judge: any OpenAI-compatible ``/chat/completions`` endpoint.

A hosted API or a local vLLM / LMDeploy server, reached through the shared
:class:`~evalkit.models.http_client.ChatClient`: many threads may call
:meth:`OpenAIJudge.complete` at once, a bounded semaphore caps the requests in
flight, transient failures (429, 408, 409, 5xx, timeouts, dropped connections,
malformed replies) are retried with capped exponential backoff and seeded jitter,
honouring ``Retry-After``, and a request the server refuses (400, 401, 403, 404,
…) fails at once. Every reply goes through the :class:`~evalkit.judge.cache.JudgeCache`.
The API key goes into the ``Authorization`` header and nowhere else: never into a
message or the manifest.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from evalkit.judge.base import JudgeError
from evalkit.judge.cache import Answer, CachedJudge, JudgeCache, JudgeRequest
from evalkit.models import http_client
from evalkit.models.http_client import (
    DEFAULT_BASE_URL,
    ChatClient,
    RequestFailed,
    RetryPolicy,
    backoff_delay,
    parse_retry_after,
    safe_url,
    server_message,
)

__all__ = [
    "DEFAULT_BASE_URL",
    "OpenAIJudge",
    "RetryPolicy",
    "backoff_delay",
    "check_base_url",
    "parse_retry_after",
    "safe_url",
    "server_message",
]


class OpenAIJudge(CachedJudge):
    """A judge behind an OpenAI-compatible chat completions endpoint. Thread-safe."""

    backend = "openai"

    def __init__(
        self,
        model: str,
        *,
        cache: JudgeCache,
        base_url: str = DEFAULT_BASE_URL,
        api_key: str = "",
        timeout: float = 60.0,
        concurrency: int = 8,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        super().__init__(model, cache)
        check_base_url(base_url)
        self._client = ChatClient(
            base_url,
            api_key=api_key,
            timeout=timeout,
            concurrency=concurrency,
            retry=retry,
            sleep=sleep,
            count=self.counters.add,
            user_agent="evalkit-judge",
        )
        self.base_url = self._client.base_url
        self.timeout = self._client.timeout
        self.concurrency = self._client.concurrency
        self.retry = self._client.retry
        self._api_key = api_key

    @property
    def url(self) -> str:
        """The chat completions endpoint."""
        return self._client.url

    def describe(self) -> dict[str, Any]:
        """Manifest facts; the base URL without credentials, and never the key."""
        facts = super().describe()
        facts.update(
            base_url=safe_url(self.base_url),
            api_key_set=bool(self._api_key),
            timeout_s=self.timeout,
            concurrency=self.concurrency,
            max_retries=self.retry.max_retries,
            backoff_cap_s=self.retry.backoff_cap,
        )
        return facts

    def _answer(self, request: JudgeRequest) -> Answer:
        """POST the request, retrying transient failures; :class:`JudgeError` when out of attempts."""
        body = {
            "model": self.model,
            "messages": request.chat_messages(),
            "temperature": request.temperature,
            "max_tokens": request.max_tokens,
        }
        try:
            reply = self._client.complete(body)
        except RequestFailed as exc:
            raise self._error(str(exc)) from None
        return Answer(
            text=reply.text,
            resolved_model=reply.resolved_model,
            prompt_tokens=reply.prompt_tokens,
            completion_tokens=reply.completion_tokens,
        )

    def _error(self, message: str) -> JudgeError:
        """A JudgeError naming the judge and endpoint, with the API key scrubbed out."""
        text = f"judge '{self.cache_model}' at {safe_url(self.base_url)}: {message}"
        return JudgeError(self._client.scrub(text))


def check_base_url(base_url: str) -> None:
    """An ``http(s)://host[...]`` URL, else ``ValueError`` (the message never repeats the URL's credentials)."""
    http_client.check_base_url(base_url, what="judge base URL")
