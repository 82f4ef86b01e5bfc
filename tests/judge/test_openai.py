"""OpenAIJudge against the scripted fake server: caching, retries, limits, and the API key's secrecy."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import pytest

from evalkit.judge.base import JudgeError
from evalkit.judge.cache import JudgeCache
from evalkit.judge.factory import describe_judge
from evalkit.judge.openai import (
    OpenAIJudge,
    RetryPolicy,
    backoff_delay,
    parse_retry_after,
    safe_url,
    server_message,
)
from tests.judge.server import (
    CHAT_PATH,
    FAKE_MODEL,
    Close,
    FakeOpenAIServer,
    Hang,
    Malformed,
    Reply,
    Status,
    bad_request,
    error_body,
    rate_limited,
    server_error,
)

QUESTION = [{"role": "system", "content": "You grade answers."}, {"role": "user", "content": "Is 2+2=4? yes/no"}]
FAST = RetryPolicy(max_retries=3, backoff_base=0.01, backoff_cap=0.02)
SECRET = "sk-test-DoNotLeak-1234567890"


class Sleeps(list[float]):
    """Records the waits the judge asks for instead of sleeping through them."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def make_judge(
    server: FakeOpenAIServer,
    cache_dir: Path,
    *,
    sleep: Sleeps | None = None,
    retry: RetryPolicy = FAST,
    timeout: float = 2.0,
    concurrency: int = 8,
    api_key: str = "",
) -> OpenAIJudge:
    return OpenAIJudge(
        "judge-model",
        cache=JudgeCache.open(cache_dir),
        base_url=server.url,
        api_key=api_key,
        timeout=timeout,
        concurrency=concurrency,
        retry=retry,
        sleep=sleep if sleep is not None else Sleeps(),
    )


def test_reply_round_trips(tmp_path: Path) -> None:
    with FakeOpenAIServer([Reply("yes")]) as server:
        judge = make_judge(server, tmp_path)
        assert judge.complete(QUESTION, temperature=0.0, max_tokens=16) == "yes"
        (request,) = server.requests
    assert request.path == CHAT_PATH
    assert request.body == {"model": "judge-model", "messages": QUESTION, "temperature": 0.0, "max_tokens": 16}
    assert request.headers["Content-Type"] == "application/json"
    assert "Authorization" not in request.headers  # no key, no header (a local server)
    assert judge.model == "judge-model"
    assert judge.resolved_model == FAKE_MODEL
    stats = judge.stats()
    assert (stats["requests"], stats["cache_hits"], stats["retries"], stats["errors"]) == (1, 0, 0, 0)
    assert (stats["prompt_tokens"], stats["completion_tokens"]) == (11, 5)


def test_second_identical_call_is_a_cache_hit_also_for_a_new_judge(tmp_path: Path) -> None:
    with FakeOpenAIServer([Reply("first")], default=Reply("second")) as server:
        judge = make_judge(server, tmp_path)
        assert judge.complete(QUESTION) == "first"
        assert judge.complete(QUESTION) == "first"
        assert server.count == 1
        assert judge.stats()["cache_hits"] == 1
        again = make_judge(server, tmp_path)
        assert again.complete(QUESTION) == "first"
        assert server.count == 1
        assert (again.stats()["requests"], again.stats()["cache_hits"]) == (0, 1)
        assert again.resolved_model == FAKE_MODEL  # from the cache entry


@pytest.mark.parametrize(
    "change",
    [
        {"temperature": 0.5},
        {"max_tokens": 17},
        {"messages": [*QUESTION[:1], {"role": "user", "content": "Is 2+2=5? yes/no"}]},
        {"messages": QUESTION[1:]},
    ],
)
def test_any_change_to_the_request_is_a_new_request(tmp_path: Path, change: dict[str, object]) -> None:
    base: dict[str, object] = {"messages": QUESTION, "temperature": 0.0, "max_tokens": 16}
    with FakeOpenAIServer(default=Reply("ok")) as server:
        judge = make_judge(server, tmp_path)
        judge.complete(base["messages"], temperature=0.0, max_tokens=16)  # type: ignore[arg-type]
        changed = base | change
        judge.complete(changed["messages"], temperature=changed["temperature"],  # type: ignore[arg-type]
                       max_tokens=changed["max_tokens"])  # type: ignore[arg-type]
        assert server.count == 2


def test_other_model_names_do_not_share_replies(tmp_path: Path) -> None:
    with FakeOpenAIServer(default=Reply("ok")) as server:
        make_judge(server, tmp_path).complete(QUESTION)
        other = OpenAIJudge("other-model", cache=JudgeCache.open(tmp_path), base_url=server.url, retry=FAST)
        other.complete(QUESTION)
        assert server.count == 2


def test_429_then_200_is_one_retry_honouring_retry_after(tmp_path: Path) -> None:
    sleeps = Sleeps()
    with FakeOpenAIServer([rate_limited("7"), Reply("fine")]) as server:
        judge = make_judge(server, tmp_path, sleep=sleeps)
        assert judge.complete(QUESTION) == "fine"
        assert server.count == 2
    assert sleeps == [7.0]
    assert judge.stats()["retries"] == 1
    assert judge.stats()["requests"] == 2


def test_retry_after_is_capped(tmp_path: Path) -> None:
    sleeps = Sleeps()
    retry = RetryPolicy(max_retries=1, backoff_base=0.01, backoff_cap=0.02, max_retry_after=3.0)
    with FakeOpenAIServer([rate_limited("3600"), Reply("fine")]) as server:
        assert make_judge(server, tmp_path, sleep=sleeps, retry=retry).complete(QUESTION) == "fine"
    assert sleeps == [3.0]


def test_500_twice_then_200(tmp_path: Path) -> None:
    sleeps = Sleeps()
    retry = RetryPolicy(max_retries=3, backoff_base=1.0, backoff_cap=1.5)
    with FakeOpenAIServer([server_error(), server_error(), Reply("fine")]) as server:
        judge = make_judge(server, tmp_path, sleep=sleeps, retry=retry)
        assert judge.complete(QUESTION) == "fine"
        assert server.count == 3
    assert judge.stats()["retries"] == 2
    assert len(sleeps) == 2
    assert 0.5 <= sleeps[0] <= 1.0  # attempt 0: d = 1.0, a draw in [d/2, d]
    assert 0.75 <= sleeps[1] <= 1.5  # attempt 1: d = min(1.5, 2.0)


def test_backoff_is_seeded(tmp_path: Path) -> None:
    runs = []
    for run in range(2):
        sleeps = Sleeps()
        with FakeOpenAIServer([server_error(), server_error(), server_error(), Reply("ok")]) as server:
            judge = make_judge(server, tmp_path / str(run), sleep=sleeps, retry=RetryPolicy(seed=5))
            judge.complete(QUESTION)
        runs.append(list(sleeps))
    assert runs[0] == runs[1]
    assert len(set(runs[0])) == 3


def test_hang_times_out_and_is_retried(tmp_path: Path) -> None:
    with FakeOpenAIServer([Hang(seconds=3.0), Reply("late but fine")]) as server:
        judge = make_judge(server, tmp_path, timeout=0.3)
        started = time.monotonic()
        assert judge.complete(QUESTION) == "late but fine"
        elapsed = time.monotonic() - started
        assert server.count == 2
    assert judge.stats()["retries"] == 1
    assert 0.25 <= elapsed < 2.0


def test_closed_connection_is_retried(tmp_path: Path) -> None:
    with FakeOpenAIServer([Close(), Reply("fine")]) as server:
        judge = make_judge(server, tmp_path)
        assert judge.complete(QUESTION) == "fine"
        assert server.count == 2
    assert judge.stats()["retries"] == 1


@pytest.mark.parametrize(
    "broken",
    [
        Malformed(),
        Malformed(b"[]"),
        Malformed(b'{"choices": []}'),
        Malformed(b'{"choices": [{"message": {"role": "assistant", "content": null}}]}'),
    ],
)
def test_malformed_reply_is_retried(tmp_path: Path, broken: Malformed) -> None:
    with FakeOpenAIServer([broken, Reply("fine")]) as server:
        judge = make_judge(server, tmp_path)
        assert judge.complete(QUESTION) == "fine"
        assert server.count == 2
    assert judge.stats()["retries"] == 1


@pytest.mark.parametrize("code", [400, 401, 403, 404, 422])
def test_client_errors_fail_at_once_with_the_server_message(tmp_path: Path, code: int) -> None:
    sleeps = Sleeps()
    with FakeOpenAIServer([Status(code, error_body("max_tokens is too large: 99999"))]) as server:
        judge = make_judge(server, tmp_path, sleep=sleeps)
        with pytest.raises(JudgeError) as caught:
            judge.complete(QUESTION)
        assert server.count == 1
    message = str(caught.value)
    assert f"HTTP {code}" in message
    assert "max_tokens is too large: 99999" in message
    assert "openai:judge-model" in message
    assert sleeps == []
    assert judge.stats()["retries"] == 0
    assert judge.stats()["errors"] == 1


def test_failures_are_not_cached(tmp_path: Path) -> None:
    with FakeOpenAIServer([bad_request("try again later"), Reply("now it works")]) as server:
        judge = make_judge(server, tmp_path)
        with pytest.raises(JudgeError):
            judge.complete(QUESTION)
        assert judge.complete(QUESTION) == "now it works"
        assert server.count == 2
    assert len(judge.cache) == 1


def test_vllm_error_body_format(tmp_path: Path) -> None:
    body = json.dumps({"object": "error", "message": "model 'judge-model' does not exist", "code": 404})
    with FakeOpenAIServer([Status(404, body)]) as server, pytest.raises(JudgeError, match="does not exist"):
        make_judge(server, tmp_path).complete(QUESTION)


def test_retries_exhausted(tmp_path: Path) -> None:
    retry = RetryPolicy(max_retries=2, backoff_base=0.01, backoff_cap=0.01)
    with FakeOpenAIServer(default=server_error()) as server:
        judge = make_judge(server, tmp_path, retry=retry)
        with pytest.raises(JudgeError) as caught:
            judge.complete(QUESTION)
        assert server.count == 3
    assert "no reply after 3 attempts" in str(caught.value)
    assert "HTTP 500" in str(caught.value)
    assert judge.stats()["retries"] == 2
    assert judge.stats()["errors"] == 1
    assert len(judge.cache) == 0


def test_connection_refused_is_retried_then_fails(tmp_path: Path) -> None:
    with FakeOpenAIServer() as server:
        url = server.url  # the port is free again once the server is gone
    retry = RetryPolicy(max_retries=1, backoff_base=0.0, backoff_cap=0.0)
    judge = OpenAIJudge("judge-model", cache=JudgeCache.open(tmp_path), base_url=url, retry=retry, timeout=1.0)
    with pytest.raises(JudgeError, match="no reply after 2 attempts; last: connection failed"):
        judge.complete(QUESTION)
    assert judge.stats()["requests"] == 2


def test_concurrency_limit_is_respected(tmp_path: Path) -> None:
    callers, limit = 12, 3
    replies: list[str] = []
    with FakeOpenAIServer(default=Reply("ok", delay=0.15)) as server:
        judge = make_judge(server, tmp_path, concurrency=limit)

        def call(i: int) -> None:
            replies.append(judge.complete([{"role": "user", "content": f"question {i}"}]))

        threads = [threading.Thread(target=call, args=(i,)) for i in range(callers)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=10)
        assert server.count == callers
        assert server.max_in_flight == limit
    assert replies == ["ok"] * callers
    assert judge.stats()["requests"] == callers


def test_api_key_goes_in_the_header_only(tmp_path: Path) -> None:
    echo = f"Incorrect API key provided: {SECRET}. You can find your API key at https://example.com"
    with FakeOpenAIServer([Reply("fine"), Status(401, error_body(echo))]) as server:
        judge = make_judge(server, tmp_path, api_key=SECRET)
        assert judge.complete(QUESTION) == "fine"
        with pytest.raises(JudgeError) as caught:
            judge.complete([{"role": "user", "content": "another"}])
        headers = [request.headers for request in server.requests]
    assert [h["Authorization"] for h in headers] == [f"Bearer {SECRET}"] * 2
    assert "HTTP 401" in str(caught.value)
    assert SECRET not in str(caught.value)
    assert "***" in str(caught.value)
    assert caught.value.__cause__ is None or SECRET not in str(caught.value.__cause__)
    described = describe_judge(judge)
    assert SECRET not in json.dumps(described)
    assert described["api_key_set"] is True
    assert described["base_url"] == server.url
    assert described["resolved_model"] == FAKE_MODEL
    assert described["temperatures_used"] == [0.0]
    assert described["counters"]["requests"] == 2


def test_key_is_scrubbed_from_exhausted_retries_too(tmp_path: Path) -> None:
    retry = RetryPolicy(max_retries=1, backoff_base=0.0, backoff_cap=0.0)
    with FakeOpenAIServer(default=Status(503, error_body(f"overloaded ({SECRET})"))) as server:
        judge = make_judge(server, tmp_path, api_key=SECRET, retry=retry)
        with pytest.raises(JudgeError) as caught:
            judge.complete(QUESTION)
    assert "HTTP 503" in str(caught.value)
    assert SECRET not in str(caught.value)


def test_invalid_arguments_are_caller_errors(tmp_path: Path) -> None:
    with FakeOpenAIServer() as server:
        judge = make_judge(server, tmp_path)
        with pytest.raises(ValueError, match="role"):
            judge.complete([{"role": "robot", "content": "hi"}])
        with pytest.raises(ValueError, match="max_tokens"):
            judge.complete(QUESTION, max_tokens=0)
        with pytest.raises(ValueError, match="temperature"):
            judge.complete(QUESTION, temperature=float("nan"))
        assert server.count == 0


def test_backoff_delay() -> None:
    assert backoff_delay(0, 1.0, 30.0, 0.0) == 0.5
    assert backoff_delay(0, 1.0, 30.0, 1.0) == 1.0
    assert backoff_delay(3, 1.0, 30.0, 1.0) == 8.0
    assert backoff_delay(10, 1.0, 30.0, 0.5) == 22.5
    assert backoff_delay(10_000, 1.0, 30.0, 1.0) == 30.0


def test_parse_retry_after() -> None:
    assert parse_retry_after(None) is None
    assert parse_retry_after("") is None
    assert parse_retry_after("12") == 12.0
    assert parse_retry_after("1.5") == 1.5
    assert parse_retry_after("-4") == 0.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0  # in the past
    assert parse_retry_after("soon") is None


def test_server_message_and_safe_url() -> None:
    assert server_message(error_body("bad  \n thing").encode()) == "bad thing"
    assert server_message(b'{"error": "plain"}') == "plain"
    assert server_message(b'{"message": "vllm style"}') == "vllm style"
    assert server_message(b"<html>Bad gateway</html>") == "<html>Bad gateway</html>"
    assert len(server_message(b"x" * 5000)) == 300
    assert safe_url("https://user:pw@host.example:8443/v1?api-key=abc#frag") == "https://host.example:8443/v1"
    assert safe_url("http://[::1]:8000/v1") == "http://[::1]:8000/v1"
