"""A fake OpenAI-compatible chat completions server for the judge tests.

It listens on 127.0.0.1 (a free port) and answers ``POST /v1/chat/completions``
as the test scripts it: each request takes the next action of the script (then
``default``): a reply, an HTTP status (429 with ``Retry-After``, 500, 400 with an
error body), a hang longer than the client's timeout, a connection closed without
a response, or malformed JSON. Every request is recorded (path, headers, parsed
body), and so is the most requests ever in flight at once. Use it as a context
manager; leaving it stops the server, releases any hang, and joins its thread.
Everything is bounded in time: a hang lasts at most its ``seconds``.

For concurrent clients, whose requests arrive in no fixed order, ``respond`` (a
function of the parsed request body) may pick the action instead of the script;
when it returns None the script (then ``default``) is used as before.
"""

from __future__ import annotations

import json
import threading
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

CHAT_PATH = "/v1/chat/completions"
FAKE_MODEL = "fake-judge-2024-01-01"


@dataclass(frozen=True)
class Reply:
    """200 with a chat completion whose content is ``text``, after ``delay`` seconds."""

    text: str
    model: str = FAKE_MODEL
    delay: float = 0.0
    prompt_tokens: int = 11
    completion_tokens: int = 5


@dataclass(frozen=True)
class Status:
    """An HTTP status with a body and headers (a 429 with ``Retry-After``, a 500, a 400 …)."""

    code: int
    body: str = ""
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Hang:
    """Say nothing for ``seconds`` (longer than the client's timeout), then close the connection."""

    seconds: float = 3.0


@dataclass(frozen=True)
class Close:
    """Close the connection without any response."""


@dataclass(frozen=True)
class Malformed:
    """200 with a body that is not JSON."""

    body: bytes = b'{"choices": [{"message": {"content": "trunc'


Action = Reply | Status | Hang | Close | Malformed


def rate_limited(retry_after: str = "0") -> Status:
    """A 429 in OpenAI's format, with ``Retry-After``."""
    return Status(429, error_body("Rate limit reached, slow down"), {"Retry-After": retry_after})


def server_error() -> Status:
    return Status(500, error_body("The server had an error while processing your request"))


def bad_request(message: str) -> Status:
    return Status(400, error_body(message))


def error_body(message: str) -> str:
    return json.dumps({"error": {"message": message, "type": "invalid_request_error", "code": None}})


@dataclass(frozen=True)
class Recorded:
    """One request as the server saw it."""

    path: str
    headers: dict[str, str]
    body: Any


class FakeOpenAIServer:
    """The scripted server; see the module docstring."""

    def __init__(
        self,
        script: Iterable[Action] = (),
        default: Action | None = None,
        respond: Callable[[Any], Action | None] | None = None,
    ) -> None:
        self.default: Action = default if default is not None else Reply("ok")
        self.respond = respond
        self._script: deque[Action] = deque(script)
        self._lock = threading.Lock()
        self._requests: list[Recorded] = []
        self._in_flight = 0
        self.max_in_flight = 0
        self.stop = threading.Event()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._httpd.daemon_threads = True
        self._httpd.fake = self  # type: ignore[attr-defined]
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def url(self) -> str:
        """The base URL a client is configured with (``…/v1``)."""
        return f"http://127.0.0.1:{self._httpd.server_address[1]}/v1"

    @property
    def requests(self) -> list[Recorded]:
        with self._lock:
            return list(self._requests)

    @property
    def count(self) -> int:
        with self._lock:
            return len(self._requests)

    def push(self, *actions: Action) -> None:
        """Append actions to the script."""
        with self._lock:
            self._script.extend(actions)

    def __enter__(self) -> FakeOpenAIServer:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def begin(self, recorded: Recorded) -> Action:
        """Record a request, count it in flight, and return its action."""
        with self._lock:
            self._requests.append(recorded)
            self._in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self._in_flight)
            chosen = self.respond(recorded.body) if self.respond is not None else None
            if chosen is not None:
                return chosen
            return self._script.popleft() if self._script else self.default

    def end(self) -> None:
        """The request is no longer in flight (called before its response is written)."""
        with self._lock:
            self._in_flight -= 1


class _Handler(BaseHTTPRequestHandler):
    """Reads the body, records it, and performs the scripted action."""

    server: ThreadingHTTPServer

    def log_message(self, format: str, *args: Any) -> None:
        """Silence the default request log on stderr."""

    def do_POST(self) -> None:
        fake: FakeOpenAIServer = self.server.fake  # type: ignore[attr-defined]
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        try:
            body: Any = json.loads(raw)
        except ValueError:
            body = raw
        action = fake.begin(Recorded(self.path, dict(self.headers.items()), body))
        if self.path != CHAT_PATH:
            action = Status(404, error_body(f"no route {self.path}"))
        self._perform(action, fake)

    def _perform(self, action: Action, fake: FakeOpenAIServer) -> None:
        if isinstance(action, Hang):
            fake.stop.wait(action.seconds)
            fake.end()
            self.close_connection = True
            return
        if isinstance(action, Reply) and action.delay:
            fake.stop.wait(action.delay)
        fake.end()
        if isinstance(action, Close):
            self.close_connection = True
        elif isinstance(action, Reply):
            self._send(200, json.dumps(_completion(action)).encode(), {})
        elif isinstance(action, Status):
            self._send(action.code, action.body.encode(), action.headers)
        else:
            self._send(200, action.body, {})

    def _send(self, code: int, payload: bytes, headers: Mapping[str, str]) -> None:
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)


def _completion(reply: Reply) -> dict[str, Any]:
    """A chat completion object in OpenAI's format."""
    return {
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "created": 0,
        "model": reply.model,
        "choices": [
            {"index": 0, "message": {"role": "assistant", "content": reply.text}, "finish_reason": "stop"}
        ],
        "usage": {
            "prompt_tokens": reply.prompt_tokens,
            "completion_tokens": reply.completion_tokens,
            "total_tokens": reply.prompt_tokens + reply.completion_tokens,
        },
    }


class KeyedScript:
    """A ``respond`` callback for concurrent clients whose requests arrive in no fixed order.

    ``key(body)`` names the request's subject (a sample, a question); each key takes
    the next action of its own script, then ``default(key)``. ``counts[key]`` is how
    many requests that key made. The server calls it under its lock.
    """

    def __init__(
        self,
        key: Callable[[Any], str],
        scripts: Mapping[str, Iterable[Action]],
        default: Callable[[str], Action],
    ) -> None:
        self.key = key
        self.default = default
        self.scripts: dict[str, deque[Action]] = {name: deque(actions) for name, actions in scripts.items()}
        self.counts: dict[str, int] = {}

    def __call__(self, body: Any) -> Action:
        name = self.key(body)
        self.counts[name] = self.counts.get(name, 0) + 1
        script = self.scripts.get(name)
        return script.popleft() if script else self.default(name)

    def push(self, name: str, *actions: Action) -> None:
        """Append actions to one key's script."""
        self.scripts.setdefault(name, deque()).extend(actions)
