"""The built-in tiny-random model: its folder, tokenizer, chat template and determinism."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import transformers

from evalkit.models.tiny import (
    CHAT_TEMPLATE,
    IMAGE_SIZE,
    TINY_RANDOM_NAME,
    build_tiny_random,
    default_tiny_random_dir,
    ensure_tiny_random,
)


@pytest.fixture(scope="session")
def tiny_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny model built once for this module, where ``ensure_tiny_random`` would put it."""
    return build_tiny_random(tmp_path_factory.mktemp("cache") / TINY_RANDOM_NAME)


@pytest.fixture(scope="session")
def processor(tiny_folder: Path) -> Any:
    from transformers import AutoProcessor

    return AutoProcessor.from_pretrained(str(tiny_folder))


def _render(processor: Any, messages: list[dict[str, Any]]) -> str:
    return str(processor.apply_chat_template(messages, tokenize=False, add_generation_prompt=True))


def _user(*parts: dict[str, str]) -> dict[str, Any]:
    return {"role": "user", "content": list(parts)}


IMAGE = {"type": "image"}


def _text(text: str) -> dict[str, str]:
    return {"type": "text", "text": text}


def test_folder_holds_a_saved_llava_model(tiny_folder: Path) -> None:
    names = {path.name for path in tiny_folder.iterdir()}
    assert {"config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json"} <= names
    assert "processor_config.json" in names or "preprocessor_config.json" in names
    assert "chat_template.jinja" in names or "chat_template.json" in names
    config = json.loads((tiny_folder / "config.json").read_text())
    assert config["architectures"] == ["LlavaForConditionalGeneration"]
    assert config["vision_config"]["image_size"] == IMAGE_SIZE
    assert config["text_config"]["num_hidden_layers"] == 2


def test_processor_parts(processor: Any) -> None:
    assert type(processor).__name__ == "LlavaProcessor"
    assert processor.image_processor.crop_size == {"height": IMAGE_SIZE, "width": IMAGE_SIZE}
    tokenizer = processor.tokenizer
    assert tokenizer.convert_ids_to_tokens([0, 1, 2, 3, 4]) == ["<unk>", "<s>", "</s>", "<pad>", "<image>"]
    assert (tokenizer.bos_token, tokenizer.eos_token, tokenizer.pad_token) == ("<s>", "</s>", "<pad>")
    assert processor.image_token == "<image>"
    assert processor.image_token_id == 4
    assert len(tokenizer) == 5 + 256


@pytest.mark.parametrize(
    "text",
    [
        "plain ASCII text.",
        "中文测试：今天天气很好。",
        "mixed 日本語 and émojis 🙂🚀",
        "  leading and\ttabs\n",
    ],
)
def test_unicode_round_trips(processor: Any, text: str) -> None:
    tokenizer = processor.tokenizer
    ids = tokenizer(text).input_ids
    assert ids[0] == tokenizer.bos_token_id
    assert len(ids) == 1 + len(text.encode("utf-8"))  # one token per byte: no merges
    assert tokenizer.decode(ids, skip_special_tokens=True) == text


def test_image_token_is_one_special_token(processor: Any) -> None:
    ids = processor.tokenizer("a<image>b", add_special_tokens=False).input_ids
    assert len(ids) == 3
    assert ids[1] == processor.image_token_id


def test_template_one_image(processor: Any) -> None:
    prompt = _render(processor, [_user(IMAGE, _text("What is shown?"))])
    assert prompt == "USER: <image>\nWhat is shown? ASSISTANT:"


def test_template_puts_images_before_text(processor: Any) -> None:
    prompt = _render(processor, [_user(_text("Compare them."), IMAGE, IMAGE)])
    assert prompt == "USER: <image>\n<image>\nCompare them. ASSISTANT:"


def test_template_without_image(processor: Any) -> None:
    assert _render(processor, [_user(_text("Hi"))]) == "USER: Hi ASSISTANT:"


def test_template_accepts_string_content(processor: Any) -> None:
    assert _render(processor, [{"role": "user", "content": "Hi"}]) == "USER: Hi ASSISTANT:"


def test_template_multi_turn(processor: Any) -> None:
    messages = [
        _user(IMAGE, _text("Q1")),
        {"role": "assistant", "content": [_text("A1")]},
        _user(_text("Q2")),
    ]
    assert _render(processor, messages) == "USER: <image>\nQ1 ASSISTANT: A1</s>USER: Q2 ASSISTANT:"


def test_template_system_first(processor: Any) -> None:
    messages = [{"role": "system", "content": [_text("Be brief.")]}, _user(IMAGE, _text("Q"))]
    assert _render(processor, messages) == "Be brief. USER: <image>\nQ ASSISTANT:"


def test_template_without_generation_prompt(processor: Any) -> None:
    prompt = processor.apply_chat_template([_user(_text("Q"))], tokenize=False, add_generation_prompt=False)
    assert prompt == "USER: Q "


def test_saved_template_is_ours(processor: Any) -> None:
    assert processor.chat_template == CHAT_TEMPLATE


def test_build_is_deterministic(tiny_folder: Path, tmp_path: Path) -> None:
    from safetensors.torch import load_file

    first = load_file(str(tiny_folder / "model.safetensors"))
    second = load_file(str(build_tiny_random(tmp_path / "again") / "model.safetensors"))
    assert first.keys() == second.keys()
    assert len(first) > 20
    for key, tensor in first.items():
        assert tensor.equal(second[key]), key


def test_build_leaves_global_rng_alone(tmp_path: Path) -> None:
    import torch

    torch.manual_seed(7)
    expected = torch.rand(3)
    torch.manual_seed(7)
    build_tiny_random(tmp_path / "model")
    assert torch.rand(3).equal(expected)


def test_ensure_builds_once_into_versioned_folder(tmp_path: Path) -> None:
    folder = ensure_tiny_random(tmp_path)
    major = transformers.__version__.split(".")[0]
    assert folder == tmp_path / f"tiny-random-v2-transformers{major}"
    assert (folder / "config.json").is_file()
    assert [path.name for path in tmp_path.iterdir()] == [folder.name]  # no staging folder left
    stamp = (folder / "model.safetensors").stat().st_mtime_ns
    assert ensure_tiny_random(tmp_path) == folder
    assert (folder / "model.safetensors").stat().st_mtime_ns == stamp


def test_ensure_cleans_up_after_a_failed_build(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from evalkit.models import tiny

    def explode(path: Path) -> Path:
        (path / "partial.bin").write_bytes(b"x")
        raise OSError("disk full")

    monkeypatch.setattr(tiny, "build_tiny_random", explode)
    with pytest.raises(OSError, match="disk full"):
        tiny.ensure_tiny_random(tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_default_cache_dir() -> None:
    name = f"{TINY_RANDOM_NAME}-transformers{transformers.__version__.split('.')[0]}"
    assert default_tiny_random_dir() == (Path("~/.cache/evalkit") / name).expanduser()
    assert default_tiny_random_dir(Path("/x")) == Path("/x") / name


def test_each_transformers_major_gets_its_own_folder(monkeypatch: pytest.MonkeyPatch) -> None:
    # 5.x saves the processor as processor_config.json, which 4.x cannot read: one machine with both
    # environments (CI does this) must not hand one's folder to the other.
    from evalkit.models import tiny

    monkeypatch.setattr(tiny, "_transformers_major", lambda: "4")
    old = default_tiny_random_dir(Path("/x"))
    monkeypatch.setattr(tiny, "_transformers_major", lambda: "5")
    assert (old.name, default_tiny_random_dir(Path("/x")).name) == (
        "tiny-random-v2-transformers4", "tiny-random-v2-transformers5")
