"""The hf: adapter, run on the locally built tiny-random model (offline, CPU, float32)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from evalkit.catalog.spec import GenerationParams
from evalkit.config import Environment
from evalkit.errors import ModelSpecError
from evalkit.models.base import Generation, ImagePart, Message, Request, TextPart
from evalkit.models.hf import HFAdapter
from evalkit.models.hf_support import generate_kwargs, pixels_to_images, resolve_dtype
from evalkit.models.registry import ModelOptions, load_model
from evalkit.models.tiny import IMAGE_SIZE, build_tiny_random, default_tiny_random_dir

GREEDY = GenerationParams(max_new_tokens=12)


@pytest.fixture(scope="session")
def tiny_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny model built once for this module, where ``ensure_tiny_random`` would put it."""
    return build_tiny_random(default_tiny_random_dir(tmp_path_factory.mktemp("cache")))


@pytest.fixture(scope="session")
def adapter(tiny_folder: Path) -> HFAdapter:
    model = load_model("hf:" + str(tiny_folder), ModelOptions(device="cpu", dtype="float32"))
    assert isinstance(model, HFAdapter)
    return model


def _image(seed: int, size: tuple[int, int] = (IMAGE_SIZE, IMAGE_SIZE)) -> Image.Image:
    rng = np.random.default_rng(seed)
    return Image.fromarray(rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8))


def _request(
    sample_id: str, text: str, images: int = 1, params: GenerationParams = GREEDY, seed: int = 0
) -> Request:
    parts: list[ImagePart | TextPart] = [ImagePart(_image(seed + i, (40 + 9 * i, 30))) for i in range(images)]
    parts.append(TextPart(text))
    return Request(sample_id, (Message("user", tuple(parts)),), params)


def _eight(params: GenerationParams = GREEDY) -> list[Request]:
    """Eight requests of different lengths and image counts (0, 1 or 2 images)."""
    return [
        _request(f"s{i}", f"Question {i}: " + "describe this " * (3 * i), images=i % 3, params=params, seed=i)
        for i in range(8)
    ]


def test_spec_name_and_capabilities(adapter: HFAdapter, tiny_folder: Path) -> None:
    assert adapter.name == "hf:" + str(tiny_folder)
    assert adapter.capabilities.max_batch_size >= 8
    assert adapter.capabilities.tiled is False


def test_describe(adapter: HFAdapter, tiny_folder: Path) -> None:
    import transformers

    facts = adapter.describe()
    assert facts["name"] == "hf:" + str(tiny_folder)
    assert facts["model"] == str(tiny_folder)
    assert facts["revision"] is None
    assert facts["dtype"] == "float32"
    assert facts["device"] == "cpu"
    assert facts["chat_template_source"] == "processor"
    assert isinstance(facts["chat_template_sha256"], str) and len(facts["chat_template_sha256"]) == 64
    assert facts["transformers"] == transformers.__version__


def test_prompt_is_the_chat_template_output(adapter: HFAdapter) -> None:
    one = _request("a", "What is it?", images=1)
    two = _request("b", "Which differs?", images=2)
    assert adapter.render(one).prompt == "USER: <image>\nWhat is it? ASSISTANT:"
    assert adapter.render(two).prompt == "USER: <image>\n<image>\nWhich differs? ASSISTANT:"


def test_prompt_multi_turn_and_system(adapter: HFAdapter) -> None:
    messages = (
        Message("system", (TextPart("Answer with a letter."),)),
        Message("user", (ImagePart(_image(1)), TextPart("Q1"))),
        Message("assistant", (TextPart("B"),)),
        Message("user", (TextPart("Q2"),)),
    )
    request = Request("m", messages, GREEDY)
    expected = "Answer with a letter. USER: <image>\nQ1 ASSISTANT: B</s>USER: Q2 ASSISTANT:"
    assert adapter.render(request).prompt == expected
    [generation] = adapter.generate([request])
    assert generation.error is None
    assert generation.prompt == expected


def test_chinese_prompt(adapter: HFAdapter) -> None:
    request = _request("zh", "图中是什么？请用中文回答。")
    assert adapter.render(request).prompt == "USER: <image>\n图中是什么？请用中文回答。 ASSISTANT:"
    [generation] = adapter.generate([request])
    assert generation.error is None
    text_bytes = len("USER: \n图中是什么？请用中文回答。 ASSISTANT:".encode())
    assert generation.usage.prompt_tokens == 1 + 16 + text_bytes  # bos, image tokens, one per byte


def test_render_returns_what_the_model_sees(adapter: HFAdapter) -> None:
    image = _image(3)
    request = Request("r", (Message("user", (ImagePart(image), TextPart("x"))),), GREEDY)
    [seen] = adapter.render(request).images
    assert seen.size == (IMAGE_SIZE, IMAGE_SIZE)
    assert seen.mode == "RGB"
    # a 32x32 input is neither resized nor cropped: de-normalising gives the pixels back
    assert np.array_equal(np.asarray(seen), np.asarray(image))


def test_render_resizes_and_crops(adapter: HFAdapter) -> None:
    request = _request("r", "x", images=2)
    rendered = adapter.render(request)
    assert [image.size for image in rendered.images] == [(IMAGE_SIZE, IMAGE_SIZE)] * 2
    assert adapter.render(_request("t", "x", images=0)).images == ()


def test_pixels_to_images_falls_back_on_other_layouts() -> None:
    import torch

    assert pixels_to_images(torch.zeros(1, 4, 3, 8, 8), object()) is None
    assert pixels_to_images(None, object()) is None


def test_one_generation_per_request_in_order(adapter: HFAdapter) -> None:
    requests = _eight()
    generations = adapter.generate(requests)
    assert len(generations) == len(requests)
    for request, generation in zip(requests, generations, strict=True):
        assert generation.error is None
        assert generation.prompt == adapter.render(request).prompt
        assert generation.text == generation.text.strip() != ""
        assert generation.usage.completion_tokens == 12
    assert generations[0].usage.prompt_tokens < generations[7].usage.prompt_tokens


def test_output_is_printable_ascii(adapter: HFAdapter) -> None:
    for generation in adapter.generate(_eight(GenerationParams(max_new_tokens=40))):
        assert generation.text.isascii() and generation.text.isprintable()


def test_batch_of_eight_equals_one_by_one(adapter: HFAdapter) -> None:
    requests = _eight(GenerationParams(max_new_tokens=100))
    batched = [generation.text for generation in adapter.generate(requests)]
    alone = [adapter.generate([request])[0].text for request in requests]
    assert batched == alone
    assert len(set(batched)) > 1


def test_images_change_the_answer(adapter: HFAdapter) -> None:
    first = _request("a", "Describe.", images=1, seed=10)
    second = _request("b", "Describe.", images=1, seed=20)
    texts = [generation.text for generation in adapter.generate([first, second, first])]
    assert texts[0] == texts[2]
    assert texts[0] != texts[1]


def test_mixed_params_are_grouped_but_keep_order(adapter: HFAdapter) -> None:
    short = GenerationParams(max_new_tokens=3)
    long = GenerationParams(max_new_tokens=9)
    requests = [_request(str(i), f"q{i}", params=short if i % 2 else long) for i in range(4)]
    generations = adapter.generate(requests)
    assert [g.usage.completion_tokens for g in generations] == [9, 3, 9, 3]
    for request, generation in zip(requests, generations, strict=True):
        assert generation.text == adapter.generate([request])[0].text


def test_sampling_is_seeded(adapter: HFAdapter) -> None:
    def sample(seed: int) -> str:
        params = GenerationParams(
            max_new_tokens=20, do_sample=True, temperature=1.5, top_p=0.95, top_k=50, seed=seed
        )
        return adapter.generate([_request("s", "Say something.", params=params)])[0].text

    assert sample(1) == sample(1)
    assert sample(1) != sample(2)


def test_generate_kwargs(adapter: HFAdapter) -> None:
    greedy = generate_kwargs(GenerationParams(max_new_tokens=5, min_new_tokens=2, num_beams=3),
                             pad_token_id=adapter._pad_token_id)
    assert greedy == {
        "max_new_tokens": 5,
        "min_new_tokens": 2,
        "num_beams": 3,
        "do_sample": False,
        "pad_token_id": 3,
    }
    sampled = generate_kwargs(
        GenerationParams(max_new_tokens=5, do_sample=True, temperature=0.7, top_p=0.9, top_k=0),
        pad_token_id=adapter._pad_token_id,
    )
    assert sampled == {
        "max_new_tokens": 5,
        "num_beams": 1,
        "do_sample": True,
        "pad_token_id": 3,
        "temperature": 0.7,
        "top_p": 0.9,
        "top_k": 0,
    }


def test_beam_search_and_min_new_tokens_run(adapter: HFAdapter) -> None:
    params = GenerationParams(max_new_tokens=6, min_new_tokens=6, num_beams=2)
    generations = adapter.generate(_eight(params)[:3])
    assert [g.usage.completion_tokens for g in generations] == [6, 6, 6]
    assert all(g.error is None for g in generations)


class _Exploding:
    """Wraps a model; its generate fails whenever a prompt in the batch contains BOOM."""

    def __init__(self, model: Any, tokenizer: Any) -> None:
        self._model = model
        self._tokenizer = tokenizer
        self.calls: list[int] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self._model, name)

    def generate(self, **kwargs: Any) -> Any:
        self.calls.append(int(kwargs["input_ids"].shape[0]))
        if any("BOOM" in text for text in self._tokenizer.batch_decode(kwargs["input_ids"])):
            raise ValueError("boom\nsecond line")
        return self._model.generate(**kwargs)


def test_a_failing_request_fails_alone(adapter: HFAdapter) -> None:
    exploding = _Exploding(adapter.model, adapter.processor.tokenizer)
    flaky = HFAdapter("flaky", exploding, adapter.processor, source="x")
    requests = [_request("0", "fine"), _request("1", "BOOM now"), _request("2", "also fine", images=2)]
    generations = flaky.generate(requests)
    assert exploding.calls == [3, 1, 1, 1]
    assert generations[1] == Generation(
        text="", prompt="USER: <image>\nBOOM now ASSISTANT:", error="ValueError: boom second line"
    )
    expected = adapter.generate([requests[0], requests[2]])
    assert [generations[0], generations[2]] == expected


def test_a_broken_image_fails_alone(adapter: HFAdapter) -> None:
    broken = Request("b", (Message("user", (ImagePart(Image.new("RGB", (0, 0))), TextPart("x"))),), GREEDY)
    good = _request("g", "x")
    generations = adapter.generate([good, broken, good])
    assert generations[1].error is not None and generations[1].text == ""
    assert generations[1].prompt == "USER: <image>\nx ASSISTANT:"
    assert generations[0].error is None and generations[0].text == generations[2].text != ""


def test_tiny_random_spec_matches_the_folder(adapter: HFAdapter, tiny_folder: Path) -> None:
    environment = Environment.from_mapping({"EVALKIT_CACHE": str(tiny_folder.parent)})
    tiny = load_model("tiny-random", ModelOptions(), environment)
    assert tiny.name == "tiny-random"
    assert tiny.describe()["model"] == str(tiny_folder)
    assert tiny.describe()["dtype"] == "float32" and tiny.describe()["device"] == "cpu"
    requests = _eight(GenerationParams(max_new_tokens=20))
    assert tiny.generate(requests) == adapter.generate(requests)


def test_bfloat16_loads_and_generates(tiny_folder: Path) -> None:
    model = load_model("hf:" + str(tiny_folder), ModelOptions(device="cpu", dtype="bfloat16"))
    assert model.describe()["dtype"] == "bfloat16"
    [generation] = model.generate([_request("a", "hi")])
    assert generation.error is None and generation.usage.completion_tokens == 12


def test_unknown_dtype_is_a_spec_error(tiny_folder: Path) -> None:
    with pytest.raises(ModelSpecError, match="unknown dtype 'float8'"):
        load_model("hf:" + str(tiny_folder), ModelOptions(dtype="float8"))
    with pytest.raises(ModelSpecError):
        resolve_dtype("int4", "cpu", "hf:x")


def test_a_folder_that_is_no_model_is_a_spec_error(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("not a model")
    spec = "hf:" + str(tmp_path)
    with pytest.raises(ModelSpecError) as caught:
        load_model(spec, ModelOptions())
    assert f"'{spec}'" in str(caught.value)
    assert "\n" not in str(caught.value)


def test_a_missing_folder_is_a_spec_error(tmp_path: Path) -> None:
    spec = "hf:" + str(tmp_path / "nowhere")
    with pytest.raises(ModelSpecError, match="no such folder") as caught:
        load_model(spec, ModelOptions())
    assert f"'{spec}'" in str(caught.value)


def test_attn_implementation_reaches_from_pretrained(tiny_folder: Path) -> None:
    for implementation in ("eager", "sdpa"):
        model = load_model("hf:" + str(tiny_folder), ModelOptions(device="cpu", args={"attn_implementation":
                                                                                     implementation}))
        assert model.model.config._attn_implementation == implementation
