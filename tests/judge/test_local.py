"""LocalJudge (``hf:``) on the repo's tiny-random model, and on a tiny text-only causal LM (the fallback)."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

from evalkit.errors import ModelSpecError
from evalkit.judge.base import JudgeError
from evalkit.judge.cache import JudgeCache
from evalkit.judge.local import LoadOptions, LocalJudge
from evalkit.models.tiny import ensure_tiny_random

QUESTION = [
    {"role": "system", "content": "You are a strict grader."},
    {"role": "user", "content": "Answer: Paris. Reference: Paris. Correct? Reply yes or no."},
]
CPU = LoadOptions(device="cpu", dtype="float32")
TEXT_TEMPLATE = (
    "{%- for m in messages -%}{{- m['role'] + ': ' + m['content'] + '\n' -}}{%- endfor -%}"
    "{%- if add_generation_prompt -%}{{- 'assistant:' -}}{%- endif -%}"
)


@pytest.fixture(scope="module")
def tiny_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return ensure_tiny_random(tmp_path_factory.mktemp("evalkit-cache"))


@pytest.fixture(scope="module")
def causal_folder(tiny_folder: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A two-layer Llama causal LM with the tiny model's byte tokenizer and a plain chat template."""
    import torch
    from transformers import AutoProcessor, LlamaConfig, LlamaForCausalLM

    tokenizer: Any = AutoProcessor.from_pretrained(tiny_folder).tokenizer
    tokenizer.chat_template = TEXT_TEMPLATE
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=2,
        num_key_value_heads=1,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(7)
        model = LlamaForCausalLM(config).eval()
    folder = tmp_path_factory.mktemp("causal")
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def test_tiny_random_judge_replies_and_caches(tiny_folder: Path, tmp_path: Path) -> None:
    judge = LocalJudge(str(tiny_folder), cache=JudgeCache.open(tmp_path), options=CPU)
    reply = judge.complete(QUESTION, max_tokens=8)
    assert isinstance(reply, str)
    assert judge.complete(QUESTION, max_tokens=8) == reply
    assert judge.stats()["requests"] == 1
    assert judge.stats()["cache_hits"] == 1
    assert judge.stats()["prompt_tokens"] > 0
    described = judge.describe()
    assert described["backend"] == "hf"
    assert described["loader"] == "image-text-to-text"
    assert described["device"] == "cpu"
    assert judge.resolved_model is not None and judge.resolved_model.startswith(str(tiny_folder))

    fresh = LocalJudge(str(tiny_folder), cache=JudgeCache.open(tmp_path), options=CPU)
    assert fresh.complete(QUESTION, max_tokens=8) == reply
    assert fresh.stats()["requests"] == 0
    assert fresh.describe()["loader"] is None  # answered from the cache: the model was never loaded


def test_greedy_is_deterministic_and_sampling_is_seeded(tiny_folder: Path, tmp_path: Path) -> None:
    replies = {}
    for run in ("a", "b"):
        judge = LocalJudge(str(tiny_folder), cache=JudgeCache.open(tmp_path / run), options=CPU, seed=3)
        replies[run] = (judge.complete(QUESTION, max_tokens=8), judge.complete(QUESTION, temperature=1.0, max_tokens=8))
        assert judge.stats()["requests"] == 2
        assert judge.temperatures == [0.0, 1.0]
    assert replies["a"] == replies["b"]


def test_threads_share_the_judge(tiny_folder: Path, tmp_path: Path) -> None:
    judge = LocalJudge(str(tiny_folder), cache=JudgeCache.open(tmp_path), options=CPU)
    judge.load()
    results: dict[int, str] = {}

    def call(i: int) -> None:
        results[i] = judge.complete([{"role": "user", "content": f"question {i}"}], max_tokens=4)

    threads = [threading.Thread(target=call, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(results) == [0, 1, 2, 3]
    assert all(isinstance(text, str) for text in results.values())
    assert judge.stats()["requests"] == 4


def test_text_only_causal_lm_falls_back(causal_folder: Path, tmp_path: Path) -> None:
    judge = LocalJudge(str(causal_folder), cache=JudgeCache.open(tmp_path), options=CPU)
    reply = judge.complete(QUESTION, max_tokens=6)
    assert isinstance(reply, str)
    assert judge.describe()["loader"] == "causal-lm"
    assert judge.complete(QUESTION, max_tokens=6) == reply
    assert judge.stats()["requests"] == 1
    stats = judge.stats()
    assert stats["prompt_tokens"] > 0
    assert 1 <= stats["completion_tokens"] <= 6


def test_missing_folder_fails_at_construction(tmp_path: Path) -> None:
    with pytest.raises(ModelSpecError, match="no such folder"):
        LocalJudge(str(tmp_path / "nowhere"), cache=JudgeCache.open(tmp_path), options=CPU)


def test_unloadable_model_is_a_judge_error_and_is_not_retried(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    empty = tmp_path / "empty-model"
    empty.mkdir()
    judge = LocalJudge(str(empty), cache=JudgeCache.open(tmp_path), options=CPU)
    pattern = r"^judge 'hf:.*empty-model': cannot load it as an image-text-to-text model .* nor as a causal LM"
    with pytest.raises(JudgeError, match=pattern):
        judge.complete(QUESTION)

    def no_second_load(*args: object, **kwargs: object) -> None:
        raise AssertionError("loaded twice")

    monkeypatch.setattr("evalkit.judge.local._load", no_second_load)
    with pytest.raises(JudgeError, match="cannot load it"):
        judge.complete(QUESTION)
    with pytest.raises(ModelSpecError):
        judge.load()
    assert judge.stats()["errors"] == 2
    assert judge.stats()["requests"] == 0
