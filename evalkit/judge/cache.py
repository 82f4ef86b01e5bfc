"""The judge cache, and the base class every cached judge backend shares.

Every judge call is stored on disk under the key (judge model, the full request:
messages, temperature, max_tokens), so a re-score asks the judge nothing and gets
the same replies again. The store is one SQLite file (``<cache_dir>/judge/cache.sqlite``)
in WAL mode: safe for many threads (one connection, one lock) and for many
processes (SQLite's file locks, a generous busy timeout), and a crash loses at
most the call in flight. The first reply stored under a key wins: two racing
writers both return it, so a cache never holds two answers to one question.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import sqlite3
import threading
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar

from evalkit.errors import EvalkitError
from evalkit.judge.base import ChatMessage, JudgeError

#: Bump when the key's canonical form changes, so old entries are never misread.
CACHE_KEY_VERSION = 1
CACHE_FILE = Path("judge") / "cache.sqlite"
BUSY_TIMEOUT_S = 60.0
ROLES = ("system", "user", "assistant")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS replies (
    key TEXT PRIMARY KEY,
    model TEXT NOT NULL,
    resolved_model TEXT,
    request TEXT NOT NULL,
    reply TEXT NOT NULL,
    created TEXT NOT NULL
)
"""

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class JudgeRequest:
    """One judge call, validated and normalised: what the cache key is made of."""

    messages: tuple[tuple[str, str], ...]
    temperature: float
    max_tokens: int

    @classmethod
    def build(cls, messages: Sequence[ChatMessage], temperature: float, max_tokens: int) -> JudgeRequest:
        """Validate the arguments of ``Judge.complete``; a caller's mistake is a ``ValueError``."""
        if not messages:
            raise ValueError("a judge request needs at least one message")
        pairs = tuple(_message_pair(message) for message in messages)
        temperature = float(temperature)
        if not math.isfinite(temperature) or temperature < 0:
            raise ValueError(f"judge temperature must be a finite number >= 0, not {temperature!r}")
        if isinstance(max_tokens, bool) or not isinstance(max_tokens, int) or max_tokens < 1:
            raise ValueError(f"judge max_tokens must be a whole number >= 1, not {max_tokens!r}")
        return cls(pairs, temperature, max_tokens)

    def chat_messages(self) -> list[dict[str, str]]:
        """The messages as chat-API dicts."""
        return [{"role": role, "content": content} for role, content in self.messages]

    def canonical(self, model: str) -> str:
        """The canonical JSON of (model, request): sorted keys, no spaces, UTF-8 kept."""
        payload = {
            "v": CACHE_KEY_VERSION,
            "model": model,
            "messages": self.chat_messages(),
            "temperature": self.temperature,
            "max_tokens": self.max_tokens,
        }
        return json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"), allow_nan=False)

    def key(self, model: str) -> str:
        """The cache key: sha256 of :meth:`canonical`."""
        return hashlib.sha256(self.canonical(model).encode("utf-8")).hexdigest()


def _message_pair(message: ChatMessage) -> tuple[str, str]:
    """``(role, content)`` of one chat message, both strings, the role a known one."""
    role, content = message.get("role"), message.get("content")
    if role not in ROLES:
        raise ValueError(f"judge message role must be one of {', '.join(ROLES)}, not {role!r}")
    if not isinstance(content, str):
        raise ValueError(f"judge message content must be a string, not {type(content).__name__}")
    return role, content


@dataclass(frozen=True)
class CacheEntry:
    """A stored reply: the text, the model the API said answered, and when it was stored (UTC, ISO 8601)."""

    reply: str
    resolved_model: str | None
    created: str


class JudgeCache:
    """Replies on disk, keyed by :meth:`JudgeRequest.key`. Thread-safe and process-safe."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(
                str(path), timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False
            )
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute(_SCHEMA)
        except (OSError, sqlite3.Error) as exc:
            raise EvalkitError(f"judge cache '{path}': cannot open it: {exc}") from exc

    @classmethod
    def open(cls, cache_dir: Path) -> JudgeCache:
        """The cache file under evalkit's cache folder: ``<cache_dir>/judge/cache.sqlite``."""
        return cls(Path(cache_dir).expanduser() / CACHE_FILE)

    def get(self, key: str) -> CacheEntry | None:
        """The entry stored under ``key``, or None."""
        with self._lock:
            row = self._db.execute(
                "SELECT reply, resolved_model, created FROM replies WHERE key = ?", (key,)
            ).fetchone()
        return CacheEntry(reply=row[0], resolved_model=row[1], created=row[2]) if row else None

    def put(self, key: str, *, model: str, request: str, reply: str, resolved_model: str | None) -> CacheEntry:
        """Store a reply unless one is already there; return the entry the cache now holds."""
        created = datetime.now(UTC).isoformat(timespec="seconds")
        with self._lock:
            self._db.execute(
                "INSERT OR IGNORE INTO replies (key, model, resolved_model, request, reply, created)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (key, model, resolved_model, request, reply, created),
            )
        stored = self.get(key)
        return stored if stored is not None else CacheEntry(reply, resolved_model, created)

    def __len__(self) -> int:
        with self._lock:
            (count,) = self._db.execute("SELECT COUNT(*) FROM replies").fetchone()
        return int(count)

    def close(self) -> None:
        """Close the connection (further use raises ``sqlite3.ProgrammingError``)."""
        with self._lock:
            self._db.close()

    def __enter__(self) -> JudgeCache:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


@dataclass(frozen=True)
class Answer:
    """What a backend returns for one uncached call."""

    text: str
    resolved_model: str | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0


class Counters:
    """Thread-safe call counters for the manifest."""

    NAMES = ("requests", "cache_hits", "retries", "errors", "prompt_tokens", "completion_tokens", "cache_write_errors")

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._values = dict.fromkeys(self.NAMES, 0)

    def add(self, name: str, amount: int = 1) -> None:
        with self._lock:
            self._values[name] += amount

    def snapshot(self) -> dict[str, int]:
        with self._lock:
            return dict(self._values)


class CachedJudge(ABC):
    """A :class:`~evalkit.judge.base.Judge` whose every reply goes through a :class:`JudgeCache`.

    Subclasses set ``backend`` and implement :meth:`_answer` for a cache miss.
    """

    backend: ClassVar[str] = ""

    def __init__(self, model: str, cache: JudgeCache) -> None:
        if not model:
            raise ValueError("a judge needs a model name")
        self._model = model
        self.cache = cache
        self.counters = Counters()
        self._seen_lock = threading.Lock()
        self._resolved: set[str] = set()
        self._temperatures: set[float] = set()

    @property
    def model(self) -> str:
        """The configured model name."""
        return self._model

    @property
    def cache_model(self) -> str:
        """The model part of the cache key: backend and name (``openai:gpt-4o-mini``)."""
        return f"{self.backend}:{self._model}"

    @property
    def resolved_models(self) -> list[str]:
        """Every model name the backend reported for the replies used so far (cached ones included)."""
        with self._seen_lock:
            return sorted(self._resolved)

    @property
    def resolved_model(self) -> str | None:
        """The resolved model name when there is exactly one, else None (none yet, or several)."""
        names = self.resolved_models
        return names[0] if len(names) == 1 else None

    @property
    def temperatures(self) -> list[float]:
        """Every temperature asked for so far."""
        with self._seen_lock:
            return sorted(self._temperatures)

    def complete(self, messages: Sequence[ChatMessage], *, temperature: float = 0.0, max_tokens: int = 512) -> str:
        """The cached reply, or the backend's reply (then cached); raises :class:`JudgeError`."""
        request = JudgeRequest.build(messages, temperature, max_tokens)
        key = request.key(self.cache_model)
        self._note(temperature=request.temperature)
        entry = self._lookup(key)
        if entry is not None:
            self.counters.add("cache_hits")
            self._note(resolved=entry.resolved_model)
            return entry.reply
        try:
            answer = self._answer(request)
        except JudgeError:
            self.counters.add("errors")
            raise
        self.counters.add("prompt_tokens", answer.prompt_tokens)
        self.counters.add("completion_tokens", answer.completion_tokens)
        return self._store(key, request, answer)

    def stats(self) -> dict[str, int]:
        """Counters: requests, cache hits, retries, errors, prompt and completion tokens."""
        return self.counters.snapshot()

    def describe(self) -> dict[str, Any]:
        """Manifest facts common to every backend (subclasses add their own)."""
        return {
            "backend": self.backend,
            "model": self.model,
            "resolved_model": self.resolved_model,
            "resolved_models": self.resolved_models,
            "temperature_policy": "as each scorer asks, per call; 0 is greedy (deterministic), above 0 samples",
            "temperatures_used": self.temperatures,
            "cache": str(self.cache.path),
            "counters": self.stats(),
        }

    @abstractmethod
    def _answer(self, request: JudgeRequest) -> Answer:
        """Ask the backend (a cache miss); raise :class:`JudgeError` when there is no reply."""

    def _lookup(self, key: str) -> CacheEntry | None:
        try:
            return self.cache.get(key)
        except sqlite3.Error as exc:
            raise JudgeError(f"judge cache '{self.cache.path}': cannot read it: {exc}") from exc

    def _store(self, key: str, request: JudgeRequest, answer: Answer) -> str:
        """Cache the answer and return the cached text; a failed write is logged, the reply still returned."""
        try:
            entry = self.cache.put(
                key,
                model=self.cache_model,
                request=request.canonical(self.cache_model),
                reply=answer.text,
                resolved_model=answer.resolved_model,
            )
        except sqlite3.Error as exc:
            self.counters.add("cache_write_errors")
            log.warning("judge cache '%s': cannot write a reply: %s", self.cache.path, exc)
            entry = CacheEntry(answer.text, answer.resolved_model, "")
        self._note(resolved=entry.resolved_model)
        return entry.reply

    def _note(self, *, resolved: str | None = None, temperature: float | None = None) -> None:
        with self._seen_lock:
            if resolved:
                self._resolved.add(resolved)
            if temperature is not None:
                self._temperatures.add(temperature)

