"""``run --model openai:…`` end to end against a local OpenAI-compatible server; the key is written nowhere."""

from __future__ import annotations

import json

from evalkit.cli import main
from tests.judge.server import FakeOpenAIServer, Reply
from tests.run.test_runner import write_tsv

KEY = "sk-live-DO-NOT-LEAK-1234"


def test_an_api_model_runs_a_suite_and_its_usage_lands_in_the_manifest(tmp_path, monkeypatch):
    data = write_tsv(tmp_path / "docvqa.tsv", rows=3)
    with FakeOpenAIServer(default=Reply("item 1")) as server:
        monkeypatch.setenv("OPENAI_API_KEY", KEY)
        monkeypatch.setenv("OPENAI_API_BASE", server.url)
        monkeypatch.setenv("EVALKIT_CACHE", str(tmp_path / "cache"))
        code = main(["run", "--model", "openai:gpt-4-vision-preview", "--benchmarks", "DocVQA_VAL", "--data-file",
                     str(data), "--output", str(tmp_path / "run"), "--batch-size", "3", "--no-progress",
                     "--price-input", "10", "--price-output", "30"])
        bodies = [request.body for request in server.requests]
    assert code == 0 and len(bodies) == 3
    contents = sorted((body["messages"][-1]["content"] for body in bodies), key=lambda c: c[-1]["text"])
    assert all(content[0]["image_url"]["url"].startswith("data:image/png;base64,") for content in contents)
    # the three requests run concurrently, so they may arrive in any order
    assert [content[-1]["text"] for content in contents] == [
        f"What is item {k}? Answer the question using a single word or phrase." for k in range(3)]
    records = [json.loads(line) for line in (tmp_path / "run/DocVQA_VAL/predictions.jsonl").read_text().splitlines()]
    assert [r["prediction"] for r in records] == ["item 1"] * 3
    scores = json.loads((tmp_path / "run/DocVQA_VAL/scores.json").read_text())
    assert round(scores["score"], 4) == round(100 * (5 / 6 + 1 + 5 / 6) / 3, 4)  # ANLS: one edit in six
    model = json.loads((tmp_path / "run/manifest.json").read_text())["model"]
    assert model["backend"] == "openai" and model["counters"]["requests"] == 3
    for path in (tmp_path / "run").rglob("*"):
        if path.is_file():
            assert KEY not in path.read_text(errors="ignore"), path
