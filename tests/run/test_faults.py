"""Fault injection end to end through the CLI: what evalkit promises when a server or the disk misbehaves.

Every test drives ``evalkit.cli.main`` against :class:`~tests.judge.server.FakeOpenAIServer` and counts
what happened (the server's requests per sample, the manifest's and the judge's counters). The CLI has no
flag for the HTTP timeout or the retry budget (defaults: 120 s for a model, 60 s for a judge, 6 retries
with backoff up to 30 s), so the :func:`waits` fixture sets them on every :class:`ChatClient` built during a
test: a 3 s timeout (room for a loaded machine) and 2 retries (3 attempts) with waits of at most 20 ms. The
faults exercised are the fake server's: 429 with ``Retry-After``, 500, a hang past the timeout, a connection
closed without a response, and malformed JSON.
"""

from __future__ import annotations

import errno
import json
import os
import re
import time
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from evalkit.cli import main
from evalkit.models.http_client import ChatClient, RetryPolicy
from evalkit.run.folder import PREDICTIONS
from tests.judge.server import (
    Action,
    Close,
    FakeOpenAIServer,
    Hang,
    KeyedScript,
    Malformed,
    Reply,
    rate_limited,
    server_error,
)
from tests.run.test_runner import write_tsv

TIMEOUT = 3.0
HANG = 20.0  # far past the timeout; the server releases it when the test leaves it
BUDGET = RetryPolicy(max_retries=2, backoff_base=0.01, backoff_cap=0.02)
ATTEMPTS = BUDGET.max_retries + 1
KEY = "sk-faults-DO-NOT-LEAK-42"
RETRY_AFTER = 0.015  # the 429's Retry-After: no backoff draw of a first retry (5-10 ms) can equal it

#: One of each transient fault; each costs its sample exactly one retry.
FAULTS: dict[str, Action] = {
    "429": rate_limited(str(RETRY_AFTER)),
    "500": server_error(),
    "hang": Hang(HANG),
    "close": Close(),
    "malformed": Malformed(),
}


class Waits(list[float]):
    """Records every wait between attempts (one per retry) instead of sleeping through it."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def waits(monkeypatch) -> Waits:
    """Every ChatClient built during the test gets the small timeout, the small retry budget and the recorder."""
    recorded = Waits()
    original = ChatClient.__init__

    def small_budget(self: ChatClient, base_url: str, **options: Any) -> None:
        options.update(timeout=TIMEOUT, retry=BUDGET, sleep=recorded)
        original(self, base_url, **options)

    monkeypatch.setattr(ChatClient, "__init__", small_budget)
    return recorded


def cli(argv: list[str], capsys) -> tuple[int, str, str]:
    code = main(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def counts_of(counters: dict[str, int], *more: str) -> dict[str, int]:
    """The transport's counts from a manifest's or a judge's counters."""
    return {name: counters[name] for name in ("requests", "retries", "errors", *more)}


def summary_counts(out: str) -> list[str]:
    """Samples, generated, reused and errors from the run's summary table (the first row after its header)."""
    lines = out.splitlines()
    header = next(number for number, line in enumerate(lines) if "| generated |" in line)
    cells = [cell.strip() for cell in lines[header + 2].strip("|").split("|")]
    return cells[3:7]


def by_index(records: list[dict[str, Any]]) -> dict[Any, dict[str, Any]]:
    return {record["index"]: record for record in records}


# --- 1. a model behind an API --------------------------------------------------------------------------------------

SAMPLES = 7  # item 0..4: one fault each; item 5: fails every attempt; item 6: no fault
DOOMED = 5


def sample_of(body: Any) -> str:
    """Which sample a chat request is for: the N of "What is item N?" in its last text part."""
    text = body["messages"][-1]["content"][-1]["text"]
    match = re.search(r"What is item (\d+)\?", text)
    assert match, text
    return match.group(1)


def model_script() -> KeyedScript:
    scripts = {str(number): [fault] for number, fault in enumerate(FAULTS.values())}
    scripts[str(DOOMED)] = [server_error()] * ATTEMPTS
    return KeyedScript(sample_of, scripts, default=lambda name: Reply(f"item {name}"))


def run_api(tmp_path: Path, server: FakeOpenAIServer, monkeypatch, capsys, *extra: str,
            rows: int = SAMPLES, batch: int = SAMPLES) -> tuple[int, str, str]:
    data = tmp_path / "docvqa.tsv"
    if not data.exists():
        write_tsv(data, rows=rows)
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    monkeypatch.setenv("OPENAI_API_BASE", server.url)
    monkeypatch.setenv("EVALKIT_CACHE", str(tmp_path / "cache"))
    return cli(["run", "--model", "openai:gpt-4o", "--benchmarks", "DocVQA_VAL", "--data-file", str(data),
                "--output", str(tmp_path / "run"), "--batch-size", str(batch), "--no-progress",
                "--no-length-grouping", *extra], capsys)


def model_counters(run: Path) -> dict[str, int]:
    return json.loads((run / "manifest.json").read_text())["model"]["counters"]


def test_an_api_model_retries_transient_faults_and_records_an_exhausted_request_as_an_error(
        tmp_path, monkeypatch, capsys, waits):
    script = model_script()
    started = time.perf_counter()
    with FakeOpenAIServer(respond=script) as server:
        code, out, err = run_api(tmp_path, server, monkeypatch, capsys)
        requests = server.count
    elapsed = time.perf_counter() - started

    assert code == 0, err
    # five faulted samples: 2 requests each; the doomed one: all 3 attempts; the clean one: 1
    assert script.counts == {**{str(n): 2 for n in range(5)}, str(DOOMED): ATTEMPTS, "6": 1}
    assert requests == 5 * 2 + ATTEMPTS + 1 == 14
    assert counts_of(model_counters(tmp_path / "run")) == {"requests": 14, "retries": 7, "errors": 1}
    assert len(waits) == 7 and max(waits) <= BUDGET.backoff_cap  # one wait per retry
    assert waits.count(RETRY_AFTER) == 1  # the 429's Retry-After was honoured
    assert elapsed < HANG / 2  # the hang cost one timeout, not its 20 s

    run = tmp_path / "run" / "DocVQA_VAL"
    records = by_index(read_jsonl(run / PREDICTIONS))
    assert sorted(records) == list(range(SAMPLES))
    doomed = records[DOOMED]
    assert doomed["prediction"] == ""  # never a made-up answer
    assert doomed["error"].startswith(f"openai request failed: no reply after {ATTEMPTS} attempts; last: HTTP 500")
    for index in set(records) - {DOOMED}:
        assert (records[index]["prediction"], records[index]["error"]) == (f"item {index}", None)

    details = by_index(read_jsonl(run / "details.jsonl"))
    assert (details[DOOMED]["score"], details[DOOMED]["method"]) == (0.0, "error")
    assert details[DOOMED]["error"] == doomed["error"]
    assert all(details[i]["score"] == 1.0 for i in set(details) - {DOOMED})
    scores = json.loads((run / "scores.json").read_text())
    assert scores["score"] == pytest.approx(100 * 6 / 7) and scores["breakdown"]["errors"] == 1
    assert summary_counts(out) == ["7", "7", "0", "1"]  # samples, generated, reused, errors
    for path in (tmp_path / "run").rglob("*"):
        if path.is_file():
            assert KEY not in path.read_text(errors="ignore"), path


def test_retry_errors_reruns_only_the_failed_samples(tmp_path, monkeypatch, capsys, waits):
    script = model_script()
    with FakeOpenAIServer(respond=script) as server:
        assert run_api(tmp_path, server, monkeypatch, capsys)[0] == 0
        first = server.count
        # a plain re-run resumes: nothing to do, not one request, and the error stays recorded
        code, out, _ = run_api(tmp_path, server, monkeypatch, capsys)
        assert (code, server.count) == (0, first)
        assert by_index(read_jsonl(tmp_path / "run/DocVQA_VAL" / PREDICTIONS))[DOOMED]["error"]
        # --retry-errors: the doomed sample only, which the server now answers
        code, out, err = run_api(tmp_path, server, monkeypatch, capsys, "--retry-errors")
        retried = server.count - first
    assert code == 0, err
    assert (first, retried) == (14, 1)
    assert script.counts[str(DOOMED)] == ATTEMPTS + 1
    assert counts_of(model_counters(tmp_path / "run")) == {"requests": 1, "retries": 0, "errors": 0}

    run = tmp_path / "run" / "DocVQA_VAL"
    lines = read_jsonl(run / PREDICTIONS)
    assert len(lines) == SAMPLES  # the retried record replaced the failed one, no duplicate left
    assert [(r["prediction"], r["error"]) for r in lines] == [(f"item {i}", None) for i in range(SAMPLES)]
    assert json.loads((run / "scores.json").read_text())["score"] == 100.0
    assert summary_counts(out) == ["7", "1", "6", "0"]


# --- 2. a judge behind an API --------------------------------------------------------------------------------------

QUESTIONS = [f"Question {n}?" for n in range(SAMPLES)]
GRADES = {"0": "1.0", "1": "0.0", "2": "1.0", "3": "0.5", "4": "1.0", "5": "0.0", "6": "1.0"}


def question_of(body: Any) -> str:
    """Which sample a grading request is for: the question on the prompt's last line (``q | gt | pred | ``)."""
    question = body["messages"][-1]["content"].rsplit("\n", 1)[-1].split(" | ")[0]
    match = re.fullmatch(r"Question (\d+)\?", question)
    assert match, question
    return match.group(1)


def judge_script() -> KeyedScript:
    scripts = {str(number): [fault] for number, fault in enumerate(FAULTS.values())}
    scripts[str(DOOMED)] = [server_error()] * ATTEMPTS
    return KeyedScript(question_of, scripts, default=lambda name: Reply(GRADES[name]))


def score_mmvet(tmp_path: Path, server: FakeOpenAIServer, monkeypatch, capsys, out: str) -> tuple[int, str, str]:
    monkeypatch.setenv("EVALKIT_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    path = tmp_path / "M_MMVet.xlsx"
    if not path.exists():
        rows = [{"index": n, "question": QUESTIONS[n], "answer": f"answer {n}", "category": "rec",
                 "prediction": f"prediction {n}"} for n in range(SAMPLES)]
        pd.DataFrame(rows).to_excel(path, index=False)
    return cli(["score", "--benchmark", "MMVet", "--predictions", str(path), "--output", str(tmp_path / out),
                "--judge", "openai:gpt-4-0613", "--judge-base-url", server.url], capsys)


def test_a_judge_retries_transient_faults_never_fakes_a_grade_and_a_rescore_asks_only_for_the_failed(
        tmp_path, monkeypatch, capsys, waits):
    script = judge_script()
    with FakeOpenAIServer(respond=script) as server:
        code, out, err = score_mmvet(tmp_path, server, monkeypatch, capsys, "first")
        first = server.count
        first_counts = dict(script.counts)
        code2, _, err2 = score_mmvet(tmp_path, server, monkeypatch, capsys, "second")
        second = server.count - first
    assert (code, code2) == (0, 0), (err, err2)
    assert first_counts == {**{str(n): 2 for n in range(5)}, str(DOOMED): ATTEMPTS, "6": 1}
    assert (first, second) == (14, 1)  # the re-score asked for the failed sample only
    assert script.counts[str(DOOMED)] == ATTEMPTS + 1

    scores = json.loads((tmp_path / "first/scores.json").read_text())
    assert scores["score"] is None  # not scored: never a partial or a made-up total
    assert scores["reason"].startswith(f"judge failed for 1 of {SAMPLES} samples (first: {DOOMED}: judge ")
    assert f"no reply after {ATTEMPTS} attempts" in scores["reason"] and "re-run to retry them" in scores["reason"]
    assert scores["breakdown"]["judge_failures"] == 1
    assert counts_of(scores["judge"]["counters"], "cache_hits") == {"requests": 14, "retries": 7, "errors": 1,
                                                                   "cache_hits": 0}
    assert len(waits) == 7 and waits.count(RETRY_AFTER) == 1
    details = by_index(read_jsonl(tmp_path / "first/details.jsonl"))
    doomed = details[DOOMED]
    assert (doomed["score"], doomed["method"]) == (None, "none") and "HTTP 500" in doomed["judge_error"]
    for n in set(details) - {DOOMED}:
        assert (details[n]["score"], details[n]["method"]) == (float(GRADES[str(n)]), "judge")
    assert "not scored" in out and "judge failed for 1 of 7" in out

    scores = json.loads((tmp_path / "second/scores.json").read_text())
    assert scores["score"] == pytest.approx(100 * sum(float(g) for g in GRADES.values()) / SAMPLES)
    assert counts_of(scores["judge"]["counters"], "cache_hits") == {"requests": 1, "retries": 0, "errors": 0,
                                                                   "cache_hits": 6}
    for path in (tmp_path / "first", tmp_path / "second"):
        for file in path.iterdir():
            assert KEY not in file.read_text(errors="ignore"), file


# --- 3. a full disk, a read-only run directory ---------------------------------------------------------------------


class FullDisk:
    """An append handle on a full disk: ``write`` stores half the batch's first line (a torn line), then ENOSPC."""

    def __init__(self, handle: Any) -> None:
        self.handle = handle

    def __enter__(self) -> FullDisk:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.handle.close()

    def write(self, text: str) -> int:
        self.handle.write(text[: text.index("\n") // 2])
        self.handle.flush()
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    def __getattr__(self, name: str) -> Any:
        return getattr(self.handle, name)


def fail_appends_after(monkeypatch, batches: int, failure: int) -> None:
    """The store's appends to predictions.jsonl after the first ``batches`` fail: ENOSPC while writing (a torn
    line left behind) or EROFS on open (nothing written)."""
    original = Path.open
    appends = [0]

    def open_(self: Path, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
        if self.name != PREDICTIONS or mode != "a":
            return original(self, mode, *args, **kwargs)
        appends[0] += 1
        if appends[0] <= batches:
            return original(self, mode, *args, **kwargs)
        if failure == errno.EROFS:
            raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(self))
        return FullDisk(original(self, mode, *args, **kwargs))

    monkeypatch.setattr(Path, "open", open_)


def assert_one_line_error(code: int, err: str, *fragments: str) -> None:
    assert code == 2
    assert "Traceback" not in err and err.count("\n") == 1 and err.startswith("evalkit: error: "), err
    for fragment in fragments:
        assert fragment in err, err


@pytest.mark.parametrize("failure", [errno.ENOSPC, errno.EROFS], ids=["disk-full", "read-only"])
def test_a_failing_disk_stops_the_run_with_one_line_and_keeps_earlier_batches(
        tmp_path, monkeypatch, capsys, waits, failure):
    folder = tmp_path / "run" / "DocVQA_VAL"
    with FakeOpenAIServer(respond=KeyedScript(sample_of, {}, default=lambda name: Reply(f"item {name}"))) as server:
        with monkeypatch.context() as patch:
            fail_appends_after(patch, batches=1, failure=failure)
            code, _, err = run_api(tmp_path, server, monkeypatch, capsys, rows=6, batch=2)
        stopped_at = server.count
        assert_one_line_error(code, err, f"cannot write to {folder}: {os.strerror(failure)}")
        assert stopped_at == 4  # batch 1 saved, batch 2 answered but not saved, batch 3 never asked for
        text = (folder / PREDICTIONS).read_text()
        kept = [json.loads(line) for line in text.splitlines(keepends=True) if line.endswith("\n")]
        assert [(r["index"], r["prediction"]) for r in kept] == [(0, "item 0"), (1, "item 1")]
        assert text.endswith("\n") == (failure == errno.EROFS)  # a full disk leaves a torn line behind

        code, out, err = run_api(tmp_path, server, monkeypatch, capsys, rows=6, batch=2)
        resumed = server.count - stopped_at
    assert code == 0, err
    assert resumed == 4  # only batches 2 and 3; the torn line was cut on open
    records = read_jsonl(folder / PREDICTIONS)
    assert [(r["index"], r["prediction"], r["error"]) for r in records] == [(i, f"item {i}", None) for i in range(6)]
    assert summary_counts(out) == ["6", "4", "2", "0"]


def test_a_run_directory_under_a_regular_file_fails_before_any_request(tmp_path, monkeypatch, capsys, waits):
    blocker = tmp_path / "blocker"
    blocker.write_text("a file where a folder should be")
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    with FakeOpenAIServer() as server:
        monkeypatch.setenv("OPENAI_API_BASE", server.url)
        monkeypatch.setenv("EVALKIT_CACHE", str(tmp_path / "cache"))
        data = write_tsv(tmp_path / "docvqa.tsv", rows=2)
        code, _, err = cli(["run", "--model", "openai:gpt-4o", "--benchmarks", "DocVQA_VAL", "--data-file",
                            str(data), "--output", str(blocker / "run"), "--no-progress"], capsys)
        assert server.count == 0
    assert_one_line_error(code, err, f"cannot write to {blocker / 'run' / 'DocVQA_VAL'}: Not a directory")


def test_an_unwritable_score_output_is_one_line_and_the_judges_work_is_kept(tmp_path, monkeypatch, capsys, waits):
    blocker = tmp_path / "blocker"
    blocker.write_text("a file where a folder should be")
    script = KeyedScript(question_of, {}, default=lambda name: Reply(GRADES[name]))
    with FakeOpenAIServer(respond=script) as server:
        code, _, err = score_mmvet(tmp_path, server, monkeypatch, capsys, "blocker/scores")
        asked = server.count
        assert_one_line_error(code, err, str(blocker / "scores"))
        code, _, err = score_mmvet(tmp_path, server, monkeypatch, capsys, "scores")
        assert code == 0, err
        assert (asked, server.count - asked) == (SAMPLES, 0)  # the judge's replies were cached, not lost


def test_a_full_disk_while_writing_the_manifest_is_one_line_and_keeps_the_predictions(
        tmp_path, monkeypatch, capsys, waits):
    import evalkit.run.manifest

    real = evalkit.run.manifest.write_json_atomic
    writes = [0]

    def full_after_two(path: Path, data: Any) -> None:  # begin and the model's entry fit, the benchmark's not
        writes[0] += 1
        if writes[0] > 2:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        real(path, data)

    monkeypatch.setattr(evalkit.run.manifest, "write_json_atomic", full_after_two)
    with FakeOpenAIServer(respond=KeyedScript(sample_of, {}, default=lambda name: Reply(f"item {name}"))) as server:
        try:
            code, _, err = run_api(tmp_path, server, monkeypatch, capsys, rows=2, batch=2)
        finally:
            records = read_jsonl(tmp_path / "run/DocVQA_VAL" / PREDICTIONS)
            assert [(r["index"], r["prediction"]) for r in records] == [(0, "item 0"), (1, "item 1")]
    assert_one_line_error(code, err, f"cannot write to {tmp_path / 'run'}: {os.strerror(errno.ENOSPC)}")


def test_the_retry_budget_and_timeout_are_flags(tmp_path, monkeypatch):
    """``--max-retries 0 --request-timeout 5``: one attempt per request, recorded as the sample's error."""
    from tests.judge.server import FakeOpenAIServer, server_error

    data = write_tsv(tmp_path / "docvqa.tsv", rows=1)
    with FakeOpenAIServer(default=server_error()) as server:
        monkeypatch.setenv("OPENAI_API_KEY", "sk-x")
        monkeypatch.setenv("OPENAI_API_BASE", server.url)
        monkeypatch.setenv("EVALKIT_CACHE", str(tmp_path / "cache"))
        code = main(["run", "--model", "openai:m", "--benchmarks", "DocVQA_VAL", "--data-file", str(data),
                     "--output", str(tmp_path / "run"), "--no-progress", "--max-retries", "0",
                     "--request-timeout", "5"])
        assert code == 0 and server.count == 1
    record = json.loads((tmp_path / "run/DocVQA_VAL/predictions.jsonl").read_text())
    assert record["prediction"] == "" and "HTTP 500" in record["error"]
