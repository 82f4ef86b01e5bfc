"""A judged suite end to end: ``score`` with ``--judge openai:…`` against a local OpenAI-compatible server."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from evalkit.cli import main
from tests.judge.server import FakeOpenAIServer, Reply, server_error

ROWS = [
    {"index": 0, "question": "What is 2+2?", "answer": "4", "category": "math", "prediction": "4"},
    {"index": 1, "question": "What does the sign say?", "answer": "stop", "category": "ocr", "prediction": "go"},
]


def score_mmvet(tmp_path: Path, server: FakeOpenAIServer, monkeypatch, out: str) -> int:
    monkeypatch.setenv("EVALKIT_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-secret")
    path = tmp_path / "M_MMVet.xlsx"
    pd.DataFrame(ROWS).to_excel(path, index=False)
    return main(["score", "--benchmark", "MMVet", "--predictions", str(path), "--output", str(tmp_path / out),
                 "--judge", "openai:gpt-4-0613", "--judge-base-url", server.url])


def test_mmvet_is_graded_by_the_judge_and_a_rescore_is_free(tmp_path, monkeypatch, capsys):
    with FakeOpenAIServer([server_error(), Reply("1.0"), Reply("0.0")]) as server:
        assert score_mmvet(tmp_path, server, monkeypatch, "first") == 0
        first_requests = server.count
        assert score_mmvet(tmp_path, server, monkeypatch, "second") == 0
        assert server.count == first_requests == 3
        bodies = [request.body for request in server.requests]
        assert all(body["model"] == "gpt-4-0613" and body["max_tokens"] == 3 for body in bodies)
        assert server.requests[0].headers["Authorization"] == "Bearer sk-test-secret"
    for out in ("first", "second"):
        scores = json.loads((tmp_path / out / "scores.json").read_text())
        assert scores["score"] == 50.0 and scores["judge"]["model"] == "gpt-4-0613"
        assert "sk-test-secret" not in (tmp_path / out / "scores.json").read_text()
    grades = [json.loads(line)["score"] for line in (tmp_path / "first" / "details.jsonl").read_text().splitlines()]
    assert sorted(grades) == [0.0, 1.0]
    assert "50.00" in capsys.readouterr().out
