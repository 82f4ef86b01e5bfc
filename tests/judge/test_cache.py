"""JudgeCache (keys, persistence, threads, processes) and the CachedJudge base class."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest

from evalkit.errors import EvalkitError
from evalkit.judge.base import Judge, JudgeError
from evalkit.judge.cache import CACHE_FILE, Answer, CachedJudge, JudgeCache, JudgeRequest

MESSAGES = [{"role": "user", "content": "Grade: ½ ≈ 0.5?"}]
REPO = Path(__file__).resolve().parents[2]


def _request(**change: object) -> JudgeRequest:
    args: dict[str, object] = {"messages": MESSAGES, "temperature": 0.0, "max_tokens": 64} | change
    return JudgeRequest.build(args["messages"], args["temperature"], args["max_tokens"])  # type: ignore[arg-type]


class EchoJudge(CachedJudge):
    """A backend that answers with a counter, so a second answer would be visible."""

    backend = "echo"

    def __init__(self, cache: JudgeCache, fail: bool = False) -> None:
        super().__init__("echo-1", cache)
        self.calls = 0
        self.fail = fail

    def _answer(self, request: JudgeRequest) -> Answer:
        self.calls += 1
        self.counters.add("requests")
        if self.fail:
            raise JudgeError("backend down")
        return Answer(f"reply {self.calls}", resolved_model="echo-1-2024", prompt_tokens=3, completion_tokens=2)


def test_key_is_stable_and_covers_the_whole_request() -> None:
    key = _request().key("openai:m")
    assert key == _request().key("openai:m")
    assert key == _request(temperature=0).key("openai:m")  # 0 and 0.0 are one temperature
    assert key == _request(messages=[{"content": MESSAGES[0]["content"], "role": "user"}]).key("openai:m")
    assert len(key) == 64
    others = {
        _request().key("openai:other"),
        _request().key("hf:m"),
        _request(temperature=0.2).key("openai:m"),
        _request(max_tokens=65).key("openai:m"),
        _request(messages=[{"role": "system", "content": MESSAGES[0]["content"]}]).key("openai:m"),
        _request(messages=[*MESSAGES, {"role": "assistant", "content": "yes"}]).key("openai:m"),
    }
    assert key not in others
    assert len(others) == 6


def test_canonical_form_is_sorted_compact_json() -> None:
    text = _request().canonical("openai:m")
    assert text == (
        '{"max_tokens":64,"messages":[{"content":"Grade: ½ ≈ 0.5?","role":"user"}],'
        '"model":"openai:m","temperature":0.0,"v":1}'
    )


@pytest.mark.parametrize(
    ("messages", "temperature", "max_tokens", "match"),
    [
        ([], 0.0, 8, "at least one message"),
        ([{"role": "robot", "content": "x"}], 0.0, 8, "role"),
        ([{"role": "user"}], 0.0, 8, "content"),
        ([{"role": "user", "content": ["x"]}], 0.0, 8, "content"),
        (MESSAGES, -0.1, 8, "temperature"),
        (MESSAGES, float("inf"), 8, "temperature"),
        (MESSAGES, 0.0, 0, "max_tokens"),
        (MESSAGES, 0.0, True, "max_tokens"),
        (MESSAGES, 0.0, 8.0, "max_tokens"),
    ],
)
def test_bad_requests_are_value_errors(messages: object, temperature: object, max_tokens: object, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        JudgeRequest.build(messages, temperature, max_tokens)  # type: ignore[arg-type]


def test_put_get_and_first_writer_wins(tmp_path: Path) -> None:
    with JudgeCache.open(tmp_path) as cache:
        assert cache.path == tmp_path / CACHE_FILE
        assert cache.get("k") is None
        first = cache.put("k", model="openai:m", request="{}", reply="A", resolved_model="m-0613")
        second = cache.put("k", model="openai:m", request="{}", reply="B", resolved_model="m-0125")
        assert first == second
        assert (first.reply, first.resolved_model) == ("A", "m-0613")
        assert first.created.endswith("+00:00")
        assert len(cache) == 1


def test_entries_survive_reopening_and_the_file_is_wal(tmp_path: Path) -> None:
    with JudgeCache.open(tmp_path) as cache:
        cache.put("k", model="openai:m", request="{}", reply="kept", resolved_model=None)
    with JudgeCache.open(tmp_path) as cache:
        entry = cache.get("k")
        assert entry is not None and entry.reply == "kept" and entry.resolved_model is None
    with sqlite3.connect(tmp_path / CACHE_FILE) as db:
        assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        assert db.execute("SELECT model, request FROM replies").fetchall() == [("openai:m", "{}")]


def test_unopenable_cache_is_an_evalkit_error(tmp_path: Path) -> None:
    (tmp_path / "judge").write_text("a file where the folder should be")
    with pytest.raises(EvalkitError, match="judge cache"):
        JudgeCache.open(tmp_path)


def test_many_threads_share_one_cache(tmp_path: Path) -> None:
    cache = JudgeCache.open(tmp_path)

    def write(thread: int) -> None:
        for i in range(50):
            cache.put(f"{thread}-{i}", model="m", request="{}", reply=str(i), resolved_model=None)
            assert cache.get(f"{thread}-{i}") is not None

    threads = [threading.Thread(target=write, args=(t,)) for t in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(cache) == 400


def test_concurrent_processes_share_one_cache(tmp_path: Path) -> None:
    script = textwrap.dedent(
        """
        import sys
        from pathlib import Path
        from evalkit.judge.cache import JudgeCache
        cache = JudgeCache.open(Path(sys.argv[1]))
        for i in range(100):
            cache.put(f"{sys.argv[2]}-{i}", model="m", request="{}", reply=sys.argv[2], resolved_model=None)
            cache.put(f"shared-{i}", model="m", request="{}", reply=sys.argv[2], resolved_model=None)
        """
    )
    workers = [
        subprocess.Popen([sys.executable, "-c", script, str(tmp_path), name], cwd=REPO) for name in ("a", "b", "c")
    ]
    assert [worker.wait(timeout=60) for worker in workers] == [0, 0, 0]
    with JudgeCache.open(tmp_path) as cache:
        assert len(cache) == 400
        shared = {entry.reply for i in range(100) if (entry := cache.get(f"shared-{i}")) is not None}
        assert shared <= {"a", "b", "c"}


def test_cached_judge_asks_once_and_counts(tmp_path: Path) -> None:
    judge = EchoJudge(JudgeCache.open(tmp_path))
    typed: Judge = judge  # satisfies the protocol
    assert typed.complete(MESSAGES) == "reply 1"
    assert typed.complete(MESSAGES) == "reply 1"
    assert typed.complete(MESSAGES, temperature=1.0) == "reply 2"
    assert judge.calls == 2
    assert judge.stats() == {
        "requests": 2,
        "cache_hits": 1,
        "retries": 0,
        "errors": 0,
        "prompt_tokens": 6,
        "completion_tokens": 4,
        "cache_write_errors": 0,
    }
    assert judge.temperatures == [0.0, 1.0]
    assert judge.resolved_model == "echo-1-2024"
    assert judge.describe()["cache"] == str(tmp_path / CACHE_FILE)


def test_cached_judge_does_not_cache_failures(tmp_path: Path) -> None:
    cache = JudgeCache.open(tmp_path)
    judge = EchoJudge(cache, fail=True)
    for _ in range(2):
        with pytest.raises(JudgeError, match="backend down"):
            judge.complete(MESSAGES)
    assert judge.calls == 2
    assert judge.stats()["errors"] == 2
    assert len(cache) == 0


def test_a_failed_cache_write_still_returns_the_reply(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cache = JudgeCache.open(tmp_path)

    def locked(*args: object, **kwargs: object) -> None:
        raise sqlite3.OperationalError("database is locked")

    monkeypatch.setattr(cache, "put", locked)
    judge = EchoJudge(cache)
    assert judge.complete(MESSAGES) == "reply 1"
    assert judge.stats()["cache_write_errors"] == 1
