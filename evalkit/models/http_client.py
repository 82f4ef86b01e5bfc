"""The HTTP transport shared by everything that talks to an OpenAI-compatible ``/chat/completions`` endpoint.

The ``openai:`` judge and the ``openai:`` model backend both use :class:`ChatClient`:
a hosted API or a local vLLM / LMDeploy server, reached with the standard library
only (``urllib.request``). Many threads may call :meth:`ChatClient.complete` at
once; a bounded semaphore caps the requests in flight. Transient failures (429,
408, 409, 5xx, timeouts, dropped connections, malformed replies) are retried with
capped exponential backoff and seeded jitter, honouring ``Retry-After``; a request
the server refuses (400, 401, 403, 404, …) fails at once. The API key goes into
the ``Authorization`` header and nowhere else: every error message is scrubbed of it.
"""

from __future__ import annotations

import http.client
import json
import random
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any

DEFAULT_BASE_URL = "https://api.openai.com/v1"
RETRY_STATUSES = frozenset({408, 409, 429})
LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
MAX_MESSAGE_CHARS = 300


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long to wait: ``max_retries`` retries after the first attempt.

    The n-th retry waits a uniform draw in ``[d/2, d]`` with ``d = min(backoff_cap, backoff_base * 2**n)``
    (from a ``random.Random(seed)``), or the server's ``Retry-After`` up to ``max_retry_after``.
    """

    max_retries: int = 6
    backoff_base: float = 1.0
    backoff_cap: float = 30.0
    max_retry_after: float = 120.0
    seed: int = 0

    def __post_init__(self) -> None:
        if self.max_retries < 0 or self.backoff_base < 0 or self.backoff_cap < 0 or self.max_retry_after < 0:
            raise ValueError(f"retry settings must not be negative: {self}")


@dataclass(frozen=True)
class ChatReply:
    """The useful part of one chat completion: the text, the model that answered, the token usage."""

    text: str
    resolved_model: str | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0


class RequestFailed(Exception):
    """No usable reply: the server refused the request (``status`` set, not retried) or retries ran out.

    The message never holds the API key.
    """

    def __init__(self, message: str, *, status: int | None = None, attempts: int = 1) -> None:
        super().__init__(message)
        self.status = status
        self.attempts = attempts


class _Transient(Exception):
    """A failure worth another attempt, with the server's ``Retry-After`` when it gave one."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class Tally:
    """Thread-safe named counters (requests, retries, tokens, …) for a manifest."""

    def __init__(self, names: tuple[str, ...] = ()) -> None:
        self._lock = threading.Lock()
        self._values: dict[str, int] = dict.fromkeys(names, 0)

    def add(self, name: str, amount: int = 1) -> None:
        with self._lock:
            self._values[name] = self._values.get(name, 0) + amount

    def snapshot(self) -> dict[str, int]:
        with self._lock:
            return dict(self._values)


class ChatClient:
    """POSTs chat completion bodies to ``<base_url>/chat/completions`` with retries. Thread-safe.

    ``count(name)`` is called with ``"requests"`` for every HTTP request sent and
    ``"retries"`` for every retry; ``sleep`` is what waits between attempts (tests
    pass a recorder).
    """

    def __init__(
        self,
        base_url: str = DEFAULT_BASE_URL,
        *,
        api_key: str = "",
        timeout: float = 60.0,
        concurrency: int = 8,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        count: Callable[[str], None] | None = None,
        user_agent: str = "evalkit",
    ) -> None:
        check_base_url(base_url)
        if timeout <= 0 or concurrency < 1:
            raise ValueError(f"timeout must be > 0 and concurrency >= 1 (got {timeout}, {concurrency})")
        check_api_key(api_key)
        self.base_url = base_url.rstrip("/")
        self.timeout = float(timeout)
        self.concurrency = concurrency
        self.retry = retry or RetryPolicy()
        self._api_key = api_key
        self._sleep = sleep
        self._count = count or (lambda name: None)
        self._user_agent = user_agent
        self._slots = threading.BoundedSemaphore(concurrency)
        self._rng = random.Random(self.retry.seed)
        self._rng_lock = threading.Lock()
        self._opener = _opener_for(self.base_url)

    @property
    def url(self) -> str:
        """The chat completions endpoint."""
        return f"{self.base_url}/chat/completions"

    @property
    def has_api_key(self) -> bool:
        return bool(self._api_key)

    def complete(self, body: Mapping[str, Any]) -> ChatReply:
        """POST ``body``, retrying transient failures; :class:`RequestFailed` when refused or out of attempts."""
        data = json.dumps(body, ensure_ascii=False).encode("utf-8")
        attempts = self.retry.max_retries + 1
        last: _Transient | None = None
        for attempt in range(attempts):
            if last is not None:
                self._count("retries")
                self._sleep(self._delay(attempt - 1, last.retry_after))
            try:
                return self._attempt(data)
            except _Transient as exc:
                last = exc
        raise RequestFailed(self.scrub(f"no reply after {attempts} attempts; last: {last}"), attempts=attempts)

    def scrub(self, text: str) -> str:
        """``text`` with the API key replaced by ``***``."""
        return text.replace(self._api_key, "***") if self._api_key else text

    def _attempt(self, data: bytes) -> ChatReply:
        """One HTTP request, inside a concurrency slot."""
        http_request = urllib.request.Request(self.url, data=data, headers=self._headers(), method="POST")
        with self._slots:
            self._count("requests")
            try:
                with self._opener.open(http_request, timeout=self.timeout) as response:
                    raw = response.read()
            except urllib.error.HTTPError as exc:
                raise self._http_failure(exc) from None
            except (OSError, http.client.HTTPException) as exc:
                raise _Transient(f"connection failed ({_exception_text(exc)})") from None
        return parse_chat_reply(raw)

    def _headers(self) -> dict[str, str]:
        headers = {"Content-Type": "application/json", "Accept": "application/json", "User-Agent": self._user_agent}
        if self._api_key:
            headers["Authorization"] = f"Bearer {self._api_key}"
        return headers

    def _http_failure(self, exc: urllib.error.HTTPError) -> Exception:
        """A :class:`_Transient` for a retryable status, else the :class:`RequestFailed` to raise."""
        try:
            raw = exc.read()
        except (OSError, http.client.HTTPException):
            raw = b""
        finally:
            exc.close()
        message = f"HTTP {exc.code}: {server_message(raw) or exc.reason}"
        if exc.code in RETRY_STATUSES or exc.code >= 500:
            return _Transient(message, parse_retry_after(exc.headers.get("Retry-After")))
        return RequestFailed(self.scrub(message), status=exc.code)

    def _delay(self, attempt: int, retry_after: float | None) -> float:
        """Seconds to wait before retry number ``attempt + 1``."""
        if retry_after is not None:
            return min(retry_after, self.retry.max_retry_after)
        with self._rng_lock:
            draw = self._rng.random()
        return backoff_delay(attempt, self.retry.backoff_base, self.retry.backoff_cap, draw)


def backoff_delay(attempt: int, base: float, cap: float, draw: float) -> float:
    """Equal-jitter exponential backoff: ``d/2 + draw * d/2`` with ``d = min(cap, base * 2**attempt)``."""
    ceiling = min(cap, base * 2.0 ** min(attempt, 64))
    return ceiling / 2 + draw * ceiling / 2


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a ``Retry-After`` header (seconds or an HTTP date); None when absent or unreadable."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def server_message(raw: bytes) -> str:
    """The error message in a server's error body (OpenAI's ``error.message``, vLLM's ``message``), one line."""
    text = raw.decode("utf-8", errors="replace")
    try:
        data = json.loads(text)
    except ValueError:
        data = None
    if isinstance(data, dict):
        error = data.get("error")
        if isinstance(error, dict) and isinstance(error.get("message"), str):
            text = error["message"]
        elif isinstance(error, str):
            text = error
        elif isinstance(data.get("message"), str):
            text = data["message"]
    text = " ".join(text.split())
    return text if len(text) <= MAX_MESSAGE_CHARS else text[: MAX_MESSAGE_CHARS - 1] + "…"


def parse_chat_reply(raw: bytes) -> ChatReply:
    """The answer in a chat completions body; a body without one is :class:`_Transient` (worth a retry)."""
    try:
        data = json.loads(raw)
    except ValueError:
        raise _Transient("malformed JSON in the reply") from None
    try:
        content = data["choices"][0]["message"]["content"]
    except (KeyError, IndexError, TypeError):
        raise _Transient("the reply has no choices[0].message.content") from None
    if not isinstance(content, str):
        raise _Transient(f"the reply's content is {type(content).__name__}, not text")
    usage = data.get("usage") if isinstance(data.get("usage"), dict) else {}
    resolved = data.get("model")
    return ChatReply(
        text=content,
        resolved_model=resolved if isinstance(resolved, str) and resolved else None,
        prompt_tokens=_count(usage.get("prompt_tokens")),
        completion_tokens=_count(usage.get("completion_tokens")),
    )


def _count(value: object) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else 0


def check_base_url(base_url: str, what: str = "base URL") -> None:
    """An ``http(s)://host[...]`` URL, else ``ValueError`` (the message never repeats the URL's credentials)."""
    parts = urllib.parse.urlsplit(base_url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{what} must be http(s)://host[:port]/path, not '{safe_url(base_url)}'")


def check_api_key(api_key: str) -> None:
    """An API key an HTTP header can carry, else ``ValueError`` (the message never repeats the key)."""
    if api_key and not (api_key.isascii() and api_key.isprintable() and " " not in api_key):
        raise ValueError("the API key has spaces or characters an HTTP header cannot carry")


def safe_url(url: str) -> str:
    """The URL without user, password, query or fragment."""
    parts = urllib.parse.urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    try:
        port = parts.port
    except ValueError:
        port = None
    netloc = f"{host}:{port}" if port else host
    return urllib.parse.urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def _opener_for(base_url: str) -> urllib.request.OpenerDirector:
    """An opener using the environment's proxies, except for a loopback server (a local vLLM)."""
    host = urllib.parse.urlsplit(base_url).hostname or ""
    if host in LOOPBACK_HOSTS:
        return urllib.request.build_opener(urllib.request.ProxyHandler({}))
    return urllib.request.build_opener()


def _exception_text(exc: BaseException) -> str:
    """``Type: message`` on one line (a timeout's reason included)."""
    reason = getattr(exc, "reason", None)
    if isinstance(exc, urllib.error.URLError) and isinstance(reason, BaseException):
        exc = reason
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
