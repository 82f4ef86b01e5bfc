"""The vllm: backend without vLLM: the install message, and requests to engine inputs with a stand-in module."""

from __future__ import annotations

import sys
import types
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pytest
from PIL import Image

import evalkit.models.vllm as vllm_backend
from evalkit.catalog.spec import GenerationParams
from evalkit.config import ModelOptions
from evalkit.errors import ModelSpecError
from evalkit.models.base import Generation, ImagePart, Message, Part, Request, TextPart
from evalkit.models.registry import load_model
from evalkit.models.tiny import TINY_RANDOM_NAME, build_tiny_random
from evalkit.models.vllm import VLLMAdapter, sampling_kwargs

GREEDY = GenerationParams(max_new_tokens=16, min_new_tokens=2, seed=5)
SAMPLED = GenerationParams(max_new_tokens=8, do_sample=True, temperature=0.6, top_p=0.9, top_k=20, seed=11)
INSTALL_MESSAGE = (
    "model spec 'vllm:some-org/some-model': vLLM is not installed; pip install 'evalkit[vllm]'"
    " (a CUDA machine is needed)"
)


class FakeSamplingParams:
    """Records its keyword arguments, as ``vllm.SamplingParams`` would hold them."""

    def __init__(self, **kwargs: Any) -> None:
        self.kwargs = kwargs


class FakeLLM:
    """Records the engine arguments and every ``generate`` call; answers ``reply to <prompt>``."""

    instances: ClassVar[list[FakeLLM]] = []

    def __init__(self, **kwargs: Any) -> None:
        if kwargs.get("model") == "broken/model":
            raise RuntimeError("CUDA out of memory\n while profiling")
        self.kwargs = kwargs
        self.calls: list[tuple[list[dict[str, Any]], list[FakeSamplingParams], dict[str, Any]]] = []
        FakeLLM.instances.append(self)

    def generate(self, inputs: list[dict[str, Any]], sampling: list[FakeSamplingParams], **kwargs: Any) -> list[Any]:
        self.calls.append((list(inputs), list(sampling), kwargs))
        if any("explode" in item["prompt"] for item in inputs):
            raise ValueError("prompt too long for max_model_len")
        return [_output(item) for item in inputs]


def _output(item: dict[str, Any]) -> Any:
    images = len(item.get("multi_modal_data", {}).get("image", []))
    completion = types.SimpleNamespace(text=f" reply to {item['prompt']} ", token_ids=[1] * (3 + images))
    return types.SimpleNamespace(prompt_token_ids=[0] * (10 + 100 * images), outputs=[completion])


class FakeProcessor:
    """A processor whose chat template writes ``role: <image>… text`` lines."""

    chat_template = "{{ fake }}"

    def apply_chat_template(self, messages: list[dict[str, Any]], *, tokenize: bool,
                            add_generation_prompt: bool) -> str:
        assert tokenize is False and add_generation_prompt is True
        lines = []
        for message in messages:
            pieces = ["<image>" if part["type"] == "image" else part["text"] for part in message["content"]]
            lines.append(f"{message['role']}: {''.join(pieces)}")
        return "\n".join(lines) + "\nassistant:"


@pytest.fixture
def fake_vllm(monkeypatch: pytest.MonkeyPatch) -> types.ModuleType:
    module = types.ModuleType("vllm")
    module.LLM = FakeLLM  # type: ignore[attr-defined]
    module.SamplingParams = FakeSamplingParams  # type: ignore[attr-defined]
    module.__version__ = "0.0.fake"  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "vllm", module)
    FakeLLM.instances.clear()
    return module


@pytest.fixture
def fake_processor(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str | None, bool]]:
    loaded: list[tuple[str, str | None, bool]] = []

    def load(model_id: str, revision: str | None, trust_remote_code: bool) -> FakeProcessor:
        loaded.append((model_id, revision, trust_remote_code))
        return FakeProcessor()

    monkeypatch.setattr(vllm_backend, "_load_processor", load)
    return loaded


def noise(seed: int, mode: str = "RGB") -> Image.Image:
    rng = np.random.default_rng(seed)
    return Image.fromarray(rng.integers(0, 256, (12, 16, 3), dtype=np.uint8)).convert(mode)


def ask(sample_id: str, text: str, *images: Image.Image, params: GenerationParams = GREEDY) -> Request:
    parts: tuple[Part, ...] = (*(ImagePart(image) for image in images), TextPart(text))
    return Request(sample_id, (Message("user", parts),), params)


def test_missing_vllm_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "vllm", None)  # ``import vllm`` raises ImportError
    with pytest.raises(ModelSpecError) as caught:
        load_model("vllm:some-org/some-model", ModelOptions())
    assert str(caught.value) == INSTALL_MESSAGE


def test_engine_arguments(fake_vllm: types.ModuleType, fake_processor: list[Any]) -> None:
    adapter = load_model("vllm:some-org/some-model@0123abc", ModelOptions())
    assert isinstance(adapter, VLLMAdapter)
    (llm,) = FakeLLM.instances
    assert llm.kwargs == {
        "model": "some-org/some-model",
        "revision": "0123abc",
        "trust_remote_code": False,
        "limit_mm_per_prompt": {"image": 8},
        "seed": 0,
        "dtype": "bfloat16",
    }
    assert fake_processor == [("some-org/some-model", "0123abc", False)]
    assert adapter.name == "vllm:some-org/some-model@0123abc"
    assert adapter.capabilities.max_images_per_prompt == 8
    assert adapter.capabilities.tiled is False
    facts = adapter.describe()
    assert (facts["backend"], facts["model"], facts["revision"], facts["dtype"]) == (
        "vllm", "some-org/some-model", "0123abc", "bfloat16"
    )
    assert facts["vllm"] == "0.0.fake"
    assert facts["limit_mm_per_prompt"] == {"image": 8}
    assert "not bit-identical" in str(facts["note"])


def test_engine_arguments_from_options(fake_vllm: types.ModuleType, fake_processor: list[Any]) -> None:
    options = ModelOptions(dtype="float16", trust_remote_code=True, seed=3,
                           args={"max_images": "2", "tensor_parallel_size": "2", "max_model_len": "4096"})
    adapter = load_model("vllm:some-org/some-model", options)
    (llm,) = FakeLLM.instances
    assert llm.kwargs == {
        "model": "some-org/some-model",
        "trust_remote_code": True,
        "limit_mm_per_prompt": {"image": 2},
        "seed": 3,
        "dtype": "float16",
        "tensor_parallel_size": 2,
        "max_model_len": 4096,
    }
    assert adapter.capabilities.max_images_per_prompt == 2


def test_load_errors(fake_vllm: types.ModuleType, fake_processor: list[Any]) -> None:
    with pytest.raises(ModelSpecError, match=r"^cannot load model 'vllm:broken/model': CUDA out of memory while"):
        load_model("vllm:broken/model", ModelOptions())
    with pytest.raises(ModelSpecError, match="unknown dtype 'float8'"):
        load_model("vllm:some-org/some-model", ModelOptions(dtype="float8"))
    with pytest.raises(ModelSpecError, match="no such folder"):
        load_model("vllm:/no/such/folder", ModelOptions())
    with pytest.raises(ModelSpecError, match="names no model"):
        load_model("vllm:", ModelOptions())


def test_requests_become_one_batched_generate_call(fake_vllm: types.ModuleType, fake_processor: list[Any]) -> None:
    adapter = load_model("vllm:some-org/some-model", ModelOptions())
    first, second, gray = noise(1), noise(2), noise(3, "L")
    requests = [
        ask("a", "Describe.", first),
        ask("b", "Compare.", first, second, params=SAMPLED),
        ask("c", "No image here."),
        ask("d", "Gray.", gray),
    ]
    generations = adapter.generate(requests)
    (llm,) = FakeLLM.instances
    (call,) = llm.calls
    inputs, sampling, kwargs = call
    assert kwargs == {"use_tqdm": False}
    assert [item["prompt"] for item in inputs] == [
        "user: <image>Describe.\nassistant:",
        "user: <image><image>Compare.\nassistant:",
        "user: No image here.\nassistant:",
        "user: <image>Gray.\nassistant:",
    ]
    assert inputs[0]["multi_modal_data"]["image"] == [first]
    assert inputs[1]["multi_modal_data"]["image"] == [first, second]
    assert "multi_modal_data" not in inputs[2]
    (sent_gray,) = inputs[3]["multi_modal_data"]["image"]
    assert sent_gray.mode == "RGB"
    assert np.array_equal(np.asarray(sent_gray), np.asarray(gray.convert("RGB")))
    assert sampling[0].kwargs == {"n": 1, "max_tokens": 16, "min_tokens": 2, "seed": 5, "temperature": 0.0}
    assert sampling[1].kwargs == {
        "n": 1, "max_tokens": 8, "min_tokens": 0, "seed": 11, "temperature": 0.6, "top_p": 0.9, "top_k": 20,
    }
    assert [g.text for g in generations] == [f"reply to {item['prompt']}" for item in inputs]
    assert [g.prompt for g in generations] == [item["prompt"] for item in inputs]
    assert all(g.error is None for g in generations)
    assert [(g.usage.prompt_tokens, g.usage.completion_tokens) for g in generations] == [
        (110, 4), (210, 5), (10, 3), (110, 4),
    ]
    rendered = adapter.render(requests[1])
    assert rendered.prompt == inputs[1]["prompt"]
    assert rendered.images == (first, second)


def test_multi_turn_history_goes_through_the_chat_template(
    fake_vllm: types.ModuleType, fake_processor: list[Any]
) -> None:
    adapter = load_model("vllm:some-org/some-model", ModelOptions())
    messages = (
        Message("user", (ImagePart(noise(4)), TextPart("What is it?"))),
        Message("assistant", (TextPart("A chart."),)),
        Message("user", (TextPart("Its maximum?"),)),
    )
    (generation,) = adapter.generate([Request("s", messages, GREEDY)])
    assert generation.prompt == "user: <image>What is it?\nassistant: A chart.\nuser: Its maximum?\nassistant:"


def test_a_failing_batch_is_retried_one_by_one(fake_vllm: types.ModuleType, fake_processor: list[Any]) -> None:
    adapter = load_model("vllm:some-org/some-model", ModelOptions())
    generations = adapter.generate([ask("a", "fine"), ask("b", "explode"), ask("c", "also fine")])
    (llm,) = FakeLLM.instances
    assert len(llm.calls) == 1 + 3
    assert generations[0].text == "reply to user: fine\nassistant:"
    assert generations[1] == Generation(
        text="", prompt="user: explode\nassistant:", error="ValueError: prompt too long for max_model_len"
    )
    assert generations[2].text == "reply to user: also fine\nassistant:"


def test_unusable_requests_fail_alone_before_the_engine(
    fake_vllm: types.ModuleType, fake_processor: list[Any]
) -> None:
    adapter = load_model("vllm:some-org/some-model", ModelOptions(args={"max_images": "1"}))
    beams = GenerationParams(max_new_tokens=4, num_beams=2)
    generations = adapter.generate([ask("a", "two", noise(1), noise(2)), ask("b", "ok", noise(3)),
                                    ask("c", "beams", params=beams)])
    (llm,) = FakeLLM.instances
    ((inputs, _, _),) = llm.calls
    assert [item["prompt"] for item in inputs] == ["user: <image>ok\nassistant:"]
    assert generations[0].error is not None and "2 images in one prompt" in generations[0].error
    assert generations[0].prompt == "user: <image><image>two\nassistant:"
    assert generations[1].error is None
    assert generations[2].error is not None and "num_beams=2" in generations[2].error
    assert adapter.generate([]) == []


def test_sampling_kwargs_defaults() -> None:
    assert sampling_kwargs(GenerationParams(max_new_tokens=3)) == {
        "n": 1, "max_tokens": 3, "min_tokens": 0, "seed": 0, "temperature": 0.0,
    }
    default = sampling_kwargs(GenerationParams(max_new_tokens=3, do_sample=True))
    assert (default["temperature"], default["top_k"], default["top_p"]) == (1.0, -1, 1.0)


def test_prompts_match_the_hf_backend(fake_vllm: types.ModuleType, tmp_path: Path) -> None:
    """With the real processor of the tiny model, the prompt is the hf: backend's (see test_hf.py)."""
    folder = build_tiny_random(tmp_path / TINY_RANDOM_NAME)
    adapter = load_model("vllm:" + str(folder), ModelOptions())
    assert isinstance(adapter, VLLMAdapter)
    one = ask("a", "What is it?", noise(1))
    two = ask("b", "Which differs?", noise(1), noise(2))
    assert adapter.render(one).prompt == "USER: <image>\nWhat is it? ASSISTANT:"
    assert adapter.render(two).prompt == "USER: <image>\n<image>\nWhich differs? ASSISTANT:"
    assert isinstance(adapter.describe()["chat_template_sha256"], str)
