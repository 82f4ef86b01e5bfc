"""The runner: resume skips finished samples (model calls counted), refusals, per-sample errors, multi-turn."""

from __future__ import annotations

import base64
import io
import json
from collections.abc import Sequence
from pathlib import Path

import pandas as pd
import pytest
from PIL import Image

from evalkit.config import Environment, ModelConfig, ModelOptions, RunConfig
from evalkit.errors import RunDirectoryError
from evalkit.models.base import Capabilities, Generation, RenderedRequest, Request
from evalkit.run.runner import Runner


class CountingModel:
    """A model adapter that answers from the request text and counts what it was asked."""

    def __init__(self, spec: str = "counting") -> None:
        self.name = spec
        self.capabilities = Capabilities(max_batch_size=64)
        self.requests: list[Request] = []
        self.calls = 0

    def describe(self) -> dict[str, object]:
        return {"name": self.name}

    def render(self, request: Request) -> RenderedRequest:
        images = tuple(part.image for message in request.messages for part in message.images)
        return RenderedRequest("|".join(m.text for m in request.messages), images)

    def generate(self, requests: Sequence[Request]) -> list[Generation]:
        self.calls += 1
        self.requests.extend(requests)
        return [Generation(text=f"reply {len(r.messages)} to {r.messages[-1].text[:12]}",
                           prompt=self.render(r).prompt) for r in requests]


def png_base64(color: tuple[int, int, int], size: tuple[int, int] = (40, 30)) -> str:
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, format="PNG")
    return base64.b64encode(buffer.getvalue()).decode()


def write_tsv(path: Path, rows: int, corrupt: set[int] = frozenset()) -> Path:
    frame = pd.DataFrame([{
        "index": i, "image": "bm90IGFuIGltYWdl" * 8 if i in corrupt else png_base64((i * 20 % 256, 50, 90)),
        "question": f"What is item {i}?", "answer": str([f"item {i}"]),
    } for i in range(rows)])
    frame.to_csv(path, sep="\t", index=False)
    return path


def config_for(tmp_path: Path, data_file: Path, benchmark: str = "DocVQA_VAL", **overrides) -> RunConfig:
    environment = Environment(data_root=tmp_path / "LMUData", cache_dir=tmp_path / "cache", hub_cache_dir=None,
                              offline=True)
    settings = {"model": ModelConfig("counting"), "benchmarks": (benchmark,), "output": tmp_path / "run",
                "environment": environment, "data_file": data_file, "batch_size": 4, "progress": False}
    settings.update(overrides)
    return RunConfig(**settings)


def read_predictions(folder: Path) -> list[dict]:
    return [json.loads(line) for line in (folder / "predictions.jsonl").read_text().splitlines()]


def run_with(model: CountingModel, config: RunConfig):
    return Runner(config, model_loader=lambda spec, options: model).run()


def test_a_resumed_run_only_generates_what_is_missing(tmp_path):
    data = write_tsv(tmp_path / "docvqa.tsv", rows=10)
    first = CountingModel()
    (outcome,) = run_with(first, config_for(tmp_path, data, limit=3))
    assert (outcome.generated, len(first.requests)) == (3, 3)
    second = CountingModel()
    (outcome,) = run_with(second, config_for(tmp_path, data))
    assert (outcome.generated, outcome.reused, len(second.requests), second.calls) == (7, 3, 7, 2)
    assert [r.sample_id for r in second.requests] == [str(i) for i in range(3, 10)]
    records = read_predictions(tmp_path / "run" / "DocVQA_VAL")
    assert sorted(r["index"] for r in records) == list(range(10))
    third = CountingModel()
    run_with(third, config_for(tmp_path, data))
    assert third.calls == 0


def test_records_hold_the_contract_fields(tmp_path):
    data = write_tsv(tmp_path / "docvqa.tsv", rows=2)
    run_with(CountingModel(), config_for(tmp_path, data))
    record = read_predictions(tmp_path / "run" / "DocVQA_VAL")[0]
    assert record == {"index": 0, "instruction": "What is item 0? Answer the question using a single word or phrase.",
                      "prompt": "What is item 0? Answer the question using a single word or phrase.",
                      "prediction": "reply 1 to What is item", "error": None}


def test_a_corrupt_image_is_recorded_and_the_run_goes_on(tmp_path):
    data = write_tsv(tmp_path / "docvqa.tsv", rows=5, corrupt={2})
    model = CountingModel()
    (outcome,) = run_with(model, config_for(tmp_path, data))
    records = {r["index"]: r for r in read_predictions(tmp_path / "run" / "DocVQA_VAL")}
    assert outcome.errors == 1 and len(model.requests) == 4
    assert "unreadable image" in records[2]["error"] and records[2]["prediction"] == ""
    assert all(records[i]["error"] is None for i in (0, 1, 3, 4))


def test_a_run_directory_of_another_configuration_is_refused_before_any_work(tmp_path):
    data = write_tsv(tmp_path / "docvqa.tsv", rows=3)
    run_with(CountingModel(), config_for(tmp_path, data))
    model = CountingModel()
    with pytest.raises(RunDirectoryError, match=r'protocol was "paper", now "vlmevalkit"'):
        run_with(model, config_for(tmp_path, data, protocol="vlmevalkit"))
    with pytest.raises(RunDirectoryError, match=r"max_new_tokens"):
        run_with(model, config_for(tmp_path, data, max_new_tokens=7))
    assert model.calls == 0
    assert len(read_predictions(tmp_path / "run" / "DocVQA_VAL")) == 3


def test_multi_turn_conversations_carry_the_history(tmp_path):
    frame = pd.DataFrame([{"ID": i, "image": png_base64((200, 10, 10)), "The_first_turn_instruction": f"See {i}.",
                           "The_second_turn_instruction": "Why?", "The_third_turn_instruction": "Write."}
                          for i in (1, 2)])
    data = tmp_path / "convbench.tsv"
    frame.to_csv(data, sep="\t", index=False)
    model = CountingModel()
    run_with(model, config_for(tmp_path, data, benchmark="ConvBench"))
    assert model.calls == 3 and [len(r.messages) for r in model.requests] == [1, 1, 3, 3, 5, 5]
    assert len(model.requests[0].messages[0].images) == 1 and not model.requests[2].messages[-1].images
    record = read_predictions(tmp_path / "run" / "ConvBench")[0]
    assert record["instruction"] == ["See 1.", "Why?", "Write."]
    assert record["prediction"] == ["reply 1 to See 1.", "reply 3 to Why?", "reply 5 to Write."]
    assert len(record["prompt"]) == 3


def test_the_manifest_records_how_to_reproduce(tmp_path):
    data = write_tsv(tmp_path / "docvqa.tsv", rows=2)
    run_with(CountingModel(), config_for(tmp_path, data, seed=7))
    manifest = json.loads((tmp_path / "run" / "manifest.json").read_text())
    entry = manifest["benchmarks"]["DocVQA_VAL"]
    assert manifest["model_spec"] == "counting" and manifest["seed"] == 7 and manifest["finished"]
    assert manifest["packages"]["torch"] and manifest["evalkit_version"]
    assert entry["prompt_version"] == "DocVQA_VAL/v1/paper/short_answer"
    assert entry["generation"]["max_new_tokens"] == 100 and entry["generation"]["seed"] == 7
    assert entry["data"]["source"] == "file" and len(entry["data"]["checksum"]) == 32
    assert entry["max_tiles"] == 18 and entry["samples"] == 2


def test_a_suite_that_needs_a_missing_judge_is_reported_before_inference(tmp_path, capsys):
    frame = pd.DataFrame([{"index": 0, "image": png_base64((1, 2, 3)), "question": "q", "answer": "a",
                           "category": "rec"}])
    data = tmp_path / "mmvet.tsv"
    frame.to_csv(data, sep="\t", index=False)

    class Probe(CountingModel):
        def generate(self, requests):
            assert "MMVet needs a judge" in capsys.readouterr().err
            return super().generate(requests)

    (outcome,) = run_with(Probe(), config_for(tmp_path, data, benchmark="MMVet"))
    assert outcome.scored is not None and outcome.scored.suite.score is None
    assert "needs a judge" in (outcome.scored.suite.reason or "")


def test_trusting_remote_code_says_which_code_runs(tmp_path, capsys):
    class RemoteCodeModel(CountingModel):
        def describe(self) -> dict[str, object]:
            code = [{"file": "modeling_internvl_chat.py", "sha256": "ab" * 32}]
            return {"name": self.name, "remote_code_files": code}

    data = write_tsv(tmp_path / "docvqa.tsv", rows=1)
    config = config_for(tmp_path, data, model=ModelConfig("internvl:./ckpt", ModelOptions(trust_remote_code=True)))
    run_with(RemoteCodeModel(), config)
    err = capsys.readouterr().err
    assert "--trust-remote-code: loading internvl:./ckpt executes the Python code the checkpoint ships" in err
    assert "executed modeling_internvl_chat.py (sha256 abababababab…)" in err


def test_remote_code_is_never_trusted_by_default():
    assert ModelConfig("internvl:x").options.trust_remote_code is False
