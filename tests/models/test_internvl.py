"""The internvl: adapter, driven through a fake remote-code model that records what it receives."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from PIL import Image

from evalkit.catalog.spec import GenerationParams
from evalkit.errors import ModelSpecError
from evalkit.models.base import ImagePart, Message, Request, TextPart
from evalkit.models.internvl import InternVLAdapter, tile_count
from evalkit.models.internvl_checkpoint import checkpoint_system_line, code_files
from evalkit.models.internvl_prompt import PAPER_SYSTEM_LINE, render_internvl_prompt
from evalkit.models.registry import ModelOptions, load_model
from evalkit.tiling import pixel_values

GREEDY = GenerationParams(max_new_tokens=20, min_new_tokens=1)
SPECIAL = ("<unk>", "<s>", "</s>", "<|im_start|>", "<|im_end|>", "<img>", "</img>", "<IMG_CONTEXT>")
PAD, EOS, IMG_CONTEXT = 2, 4, 7  # ids of </s>, <|im_end|>, <IMG_CONTEXT> in the tokenizer below


def build_tokenizer() -> Any:
    """A byte-level tokenizer with InternVL's special tokens; it adds ``<s>`` like the InternLM2 one."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors
    from transformers import PreTrainedTokenizerFast

    vocab = {token: index for index, token in enumerate(SPECIAL)}
    for symbol in sorted(pre_tokenizers.ByteLevel.alphabet()):
        vocab[symbol] = len(vocab)
    backend = Tokenizer(models.BPE(vocab=vocab, merges=[], unk_token="<unk>"))
    backend.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    backend.decoder = decoders.ByteLevel()
    backend.post_processor = processors.TemplateProcessing(
        single="<s> $A", pair="<s> $A <s> $B", special_tokens=[("<s>", vocab["<s>"])]
    )
    return PreTrainedTokenizerFast(
        tokenizer_object=backend, bos_token="<s>", eos_token="</s>", unk_token="<unk>", pad_token="</s>",
        additional_special_tokens=list(SPECIAL[3:]),
    )


TOKENIZER = build_tokenizer()


class FakeRemoteModel(torch.nn.Module):
    """Stands in for InternVLChatModel: the attributes chat() relies on, and a generate() that records its inputs.

    Like the remote code, ``generate`` needs ``img_context_token_id`` set, needs exactly
    ``num_image_token`` context tokens per tile across the batch, and returns only the new tokens.
    Each row's reply is ``respond(prompt text of that row)``; the tokens are the reply, ``<|im_end|>``
    and some junk after it, right-padded with ``</s>``. A reply of None raises.
    """

    def __init__(self, respond: Callable[[str], str | None] = lambda prompt: "Paris", *,
                 dtype: torch.dtype = torch.float32, eos_after: bool = True) -> None:
        super().__init__()
        self.anchor = torch.nn.Parameter(torch.zeros(1, dtype=dtype))
        self.num_image_token = 256
        self.template = "internlm2-chat"
        self.img_context_token_id: int | None = None
        self.respond = respond
        self.eos_after = eos_after
        self.calls: list[dict[str, Any]] = []

    @property
    def dtype(self) -> torch.dtype:
        return self.anchor.dtype

    @property
    def device(self) -> torch.device:
        return self.anchor.device

    def generate(self, pixel_values: torch.Tensor | None = None, input_ids: torch.Tensor | None = None,
                 attention_mask: torch.Tensor | None = None, **kwargs: Any) -> torch.Tensor:
        assert input_ids is not None and attention_mask is not None
        assert self.img_context_token_id == IMG_CONTEXT
        self.calls.append({"pixel_values": pixel_values, "input_ids": input_ids.clone(),
                           "attention_mask": attention_mask.clone(), "kwargs": kwargs})
        slots = int((input_ids == self.img_context_token_id).sum())
        tiles = 0 if pixel_values is None else pixel_values.shape[0]
        if slots != tiles * self.num_image_token:
            raise RuntimeError(f"{slots} image slots for {tiles} tiles")
        rows = []
        for ids, mask in zip(input_ids.tolist(), attention_mask.tolist(), strict=True):
            prompt = TOKENIZER.decode([t for t, m in zip(ids, mask, strict=True) if m])
            reply = self.respond(prompt)
            if reply is None:
                raise RuntimeError("the fake model was told to fail")
            tokens = TOKENIZER.encode(reply, add_special_tokens=False)
            if self.eos_after:
                tokens += [EOS, *TOKENIZER.encode(" junk", add_special_tokens=False)]
            rows.append(tokens)
        width = max(len(row) for row in rows)
        return torch.tensor([row + [PAD] * (width - len(row)) for row in rows])


def _adapter(model: FakeRemoteModel | None = None, **kwargs: Any) -> InternVLAdapter:
    return InternVLAdapter("internvl:fake", model or FakeRemoteModel(), TOKENIZER, source="fake", **kwargs)


def _image(width: int, height: int, seed: int = 0) -> Image.Image:
    rng = np.random.default_rng(seed)
    return Image.fromarray(rng.integers(0, 256, (height, width, 3), dtype=np.uint8))


def _request(text: str, *images: tuple[Image.Image, int], params: GenerationParams = GREEDY,
             sample_id: str = "s") -> Request:
    parts: list[ImagePart | TextPart] = [ImagePart(image, max_tiles) for image, max_tiles in images]
    parts.append(TextPart(text))
    return Request(sample_id, (Message("user", tuple(parts)),), params)


def _echo_question(prompt: str) -> str:
    """Reply with the user's last question, so each row's answer shows which request it served."""
    return "A:" + prompt.rsplit("<|im_start|>user\n", 1)[-1].split("<|im_end|>")[0].rsplit("\n", 1)[-1]


def test_prompt_tokens_and_pixels_of_one_request() -> None:
    model = FakeRemoteModel()
    adapter = _adapter(model)
    image = _image(800, 1300)  # the paper's example: 2x3 grid + thumbnail at max 12
    request = _request("What is shown?", (image, 12))
    [generation] = adapter.generate([request])
    assert generation.error is None and generation.text == "Paris"
    [call] = model.calls
    expected = render_internvl_prompt(request.messages, [7], PAPER_SYSTEM_LINE)
    assert call["input_ids"][0].tolist() == TOKENIZER(expected)["input_ids"]
    assert call["input_ids"][0, 0].item() == TOKENIZER.bos_token_id
    assert int((call["input_ids"] == IMG_CONTEXT).sum()) == 256 * 7
    assert call["attention_mask"].all()
    pixels = call["pixel_values"]
    assert pixels.shape == (7, 3, 448, 448) and pixels.dtype == torch.float32
    assert torch.equal(pixels, pixel_values(image, max_tiles=12))
    assert generation.prompt == (
        f"<|im_start|>system\n{PAPER_SYSTEM_LINE}<|im_end|><|im_start|>user\n<image>\nWhat is shown?<|im_end|>"
        "<|im_start|>assistant\n"
    )
    assert generation.usage.prompt_tokens == len(call["input_ids"][0])
    assert generation.usage.completion_tokens == len("Paris") + 1  # one token per byte, then <|im_end|>


@pytest.mark.parametrize(("size", "max_tiles", "tiles"), [((500, 500), 6, 1), ((1654, 2339), 24, 25)])
def test_image_tokens_are_256_per_tile(size: tuple[int, int], max_tiles: int, tiles: int) -> None:
    model = FakeRemoteModel()
    image = _image(*size)
    request = _request("Read it.", (image, max_tiles))
    _adapter(model).generate([request])
    assert tile_count(request.messages[0].images[0]) == tiles
    assert model.calls[0]["pixel_values"].shape[0] == tiles
    assert int((model.calls[0]["input_ids"] == IMG_CONTEXT).sum()) == 256 * tiles


def test_pixels_take_the_model_dtype() -> None:
    model = FakeRemoteModel(dtype=torch.bfloat16)
    image = _image(640, 480)
    _adapter(model).generate([_request("Q", (image, 6))])
    pixels = model.calls[0]["pixel_values"]
    assert pixels.dtype == torch.bfloat16 and pixels.shape == (7, 3, 448, 448)
    assert torch.equal(pixels, pixel_values(image, max_tiles=6).to(torch.bfloat16))


def test_each_image_part_uses_its_own_max_tiles_and_tiles_are_concatenated() -> None:
    model = FakeRemoteModel()
    first, second = _image(1000, 1000, seed=1), _image(640, 480, seed=2)
    _adapter(model).generate([_request("Compare.", (first, 6), (second, 1))])
    pixels = model.calls[0]["pixel_values"]
    assert torch.equal(pixels, torch.cat([pixel_values(first, max_tiles=6), pixel_values(second, max_tiles=1)]))
    assert int((model.calls[0]["input_ids"] == IMG_CONTEXT).sum()) == 256 * (5 + 1)
    assert TOKENIZER.decode(model.calls[0]["input_ids"][0]).count("<img>") == 1


def test_generation_settings_and_eos() -> None:
    model = FakeRemoteModel()
    params = GenerationParams(max_new_tokens=100, min_new_tokens=1, num_beams=5)
    _adapter(model).generate([_request("Q", params=params)])
    kwargs = model.calls[0]["kwargs"]
    assert kwargs["eos_token_id"] == EOS == TOKENIZER.convert_tokens_to_ids("<|im_end|>")
    assert (kwargs["max_new_tokens"], kwargs["min_new_tokens"], kwargs["num_beams"], kwargs["do_sample"]) == (
        100, 1, 5, False)
    assert "top_p" not in kwargs and "temperature" not in kwargs
    _adapter(model).generate([_request("Q", params=GenerationParams(max_new_tokens=20))])
    assert "min_new_tokens" not in model.calls[1]["kwargs"]  # MME: no min_new_tokens


def test_sampling_settings_are_passed() -> None:
    model = FakeRemoteModel()
    params = GenerationParams(max_new_tokens=5, do_sample=True, num_beams=5, top_p=0.9, top_k=50, temperature=0.7)
    _adapter(model).generate([_request("Q", params=params)])
    kwargs = model.calls[0]["kwargs"]
    assert (kwargs["do_sample"], kwargs["top_p"], kwargs["top_k"], kwargs["temperature"]) == (True, 0.9, 50, 0.7)


@pytest.mark.parametrize(("reply", "eos_after", "text"), [
    ("  Rome \n", True, "Rome"),
    ("Oslo", False, "Oslo"),
    ("", True, ""),
])
def test_reply_is_cut_at_im_end_and_stripped(reply: str, eos_after: bool, text: str) -> None:
    model = FakeRemoteModel(lambda prompt: reply, eos_after=eos_after)
    [generation] = _adapter(model).generate([_request("Q")])
    assert generation.error is None and generation.text == text


def test_text_only_request_sends_no_pixels() -> None:
    model = FakeRemoteModel()
    [generation] = _adapter(model).generate([_request("Just text.")])
    assert generation.text == "Paris"
    assert model.calls[0]["pixel_values"] is None
    assert "<img>" not in generation.prompt


def test_batch_is_left_padded_with_tiles_in_request_order() -> None:
    model = FakeRemoteModel(_echo_question)
    images = [_image(500, 500, 1), _image(640, 480, 2), None, _image(1000, 1000, 3)]
    requests = [
        _request(f"question number {i}" + "?" * i, *([(image, 6)] if image is not None else []), sample_id=f"s{i}")
        for i, image in enumerate(images)
    ]
    generations = _adapter(model).generate(requests)
    assert [g.text for g in generations] == [f"A:question number {i}" + "?" * i for i in range(4)]
    [call] = model.calls
    input_ids, mask = call["input_ids"], call["attention_mask"]
    assert input_ids.shape[0] == 4
    for row, request in enumerate(requests):
        expected = TOKENIZER(_adapter().render(request).prompt)["input_ids"]
        pad = input_ids.shape[1] - len(expected)
        assert input_ids[row, pad:].tolist() == expected
        assert input_ids[row, :pad].tolist() == [PAD] * pad
        assert mask[row].tolist() == [0] * pad + [1] * len(expected)
    expected_pixels = torch.cat([pixel_values(image, max_tiles=6) for image in images if image is not None])
    assert torch.equal(call["pixel_values"], expected_pixels)  # 1 + 7 + 5 tiles, in request order


def test_batches_group_equal_params_and_keep_order() -> None:
    model = FakeRemoteModel(_echo_question)
    short, long_ = GenerationParams(max_new_tokens=10), GenerationParams(max_new_tokens=100)
    requests = [_request(f"q{i}", params=short if i % 2 else long_, sample_id=str(i)) for i in range(5)]
    generations = _adapter(model).generate(requests)
    assert [g.text for g in generations] == [f"A:q{i}" for i in range(5)]
    assert [call["input_ids"].shape[0] for call in model.calls] == [3, 2]
    assert [call["kwargs"]["max_new_tokens"] for call in model.calls] == [100, 10]


def test_batch_1_and_batch_4_agree() -> None:
    requests = [_request(f"q{i}", (_image(300 + 100 * i, 400, i), 6), sample_id=str(i)) for i in range(4)]
    alone = [_adapter(FakeRemoteModel(_echo_question)).generate([r])[0] for r in requests]
    together = _adapter(FakeRemoteModel(_echo_question)).generate(requests)
    assert alone == together


def test_a_failing_request_becomes_an_error_value() -> None:
    model = FakeRemoteModel(lambda prompt: None if "bad" in prompt else "fine")
    requests = [_request("good one"), _request("bad one"), _request("good two")]
    generations = _adapter(model).generate(requests)
    assert [g.text for g in generations] == ["fine", "", "fine"]
    assert [g.error is None for g in generations] == [True, False, True]
    assert generations[1].error == "RuntimeError: the fake model was told to fail"
    assert "bad one" in generations[1].prompt
    assert [call["input_ids"].shape[0] for call in model.calls] == [3, 1, 1, 1]  # the batch, then one by one


def test_an_unusable_image_fails_only_its_request() -> None:
    model = FakeRemoteModel()
    requests = [_request("ok", (_image(64, 64), 6)), _request("zero tiles", (_image(64, 64), 0))]
    generations = _adapter(model).generate(requests)
    assert generations[0].error is None and generations[0].text == "Paris"
    assert generations[1].text == "" and generations[1].error is not None
    assert "max_tiles" in generations[1].error
    assert [call["input_ids"].shape[0] for call in model.calls] == [1]


def test_prepare_then_generate_equals_generate() -> None:
    requests = [_request(f"q{i}", (_image(200, 100 + 50 * i, i), 6)) for i in range(3)]
    adapter = _adapter(FakeRemoteModel(_echo_question))
    assert adapter.generate_prepared(adapter.prepare(requests)) == adapter.generate(requests)


def test_multi_turn_history_keeps_the_image_in_the_first_turn() -> None:
    model = FakeRemoteModel()
    image = _image(500, 500)
    messages = (
        Message("user", (ImagePart(image, 6), TextPart("Q1"))),
        Message("assistant", (TextPart("A1"),)),
        Message("user", (TextPart("Q2"),)),
    )
    [generation] = _adapter(model).generate([Request("s", messages, GREEDY)])
    text = TOKENIZER.decode(model.calls[0]["input_ids"][0])
    assert text.endswith("</img>\nQ1<|im_end|><|im_start|>assistant\nA1<|im_end|><|im_start|>user\nQ2<|im_end|>"
                         "<|im_start|>assistant\n")
    assert generation.prompt.count("<image>") == 1


def test_render_gives_the_expanded_prompt_and_the_tiles() -> None:
    image = _image(640, 480)
    request = _request("Q", (image, 6))
    rendered = _adapter().render(request)
    assert rendered.prompt == render_internvl_prompt(request.messages, [7])
    assert len(rendered.images) == 7 and all(tile.size == (448, 448) for tile in rendered.images)
    assert _adapter().capabilities.tiled is True


def test_describe_records_the_system_lines_and_code() -> None:
    adapter = _adapter(checkpoint_system_line=("其他", "conversation.py"), code_files=[("modeling.py", "ab")])
    facts = adapter.describe()
    assert facts["backend"] == "internvl"
    assert facts["system_line"] == PAPER_SYSTEM_LINE
    assert (facts["checkpoint_system_line"], facts["checkpoint_system_line_source"]) == ("其他", "conversation.py")
    assert facts["remote_code_files"] == [{"file": "modeling.py", "sha256": "ab"}]
    assert (facts["eos_token_id"], facts["img_context_token_id"], facts["tokens_per_tile"]) == (EOS, IMG_CONTEXT, 256)


def test_a_tokenizer_without_the_template_tokens_is_refused() -> None:
    class Plain:
        unk_token_id = 0
        pad_token_id = 0

        def convert_tokens_to_ids(self, token: str) -> int:
            return 0

    with pytest.raises(ValueError, match=r"no <\|im_end\|> token"):
        InternVLAdapter("internvl:x", FakeRemoteModel(), Plain(), source="x")


# --- loading through the registry: a local "remote-code" checkpoint folder ---------------------------------------

CONFIGURATION = '''
from transformers import PretrainedConfig


class TinyChatConfig(PretrainedConfig):
    model_type = "evalkit_tiny_internvl_chat"

    def __init__(self, template="internlm2-chat", **kwargs):
        self.template = template
        super().__init__(**kwargs)
'''

MODELING = '''
import torch
from transformers import PreTrainedModel

from .configuration_tiny_chat import TinyChatConfig


class TinyChatModel(PreTrainedModel):
    config_class = TinyChatConfig

    def __init__(self, config):
        super().__init__(config)
        self.anchor = torch.nn.Parameter(torch.zeros(1))
        self.template = config.template
        self.num_image_token = 256
        self.img_context_token_id = None
        self.post_init()

    def generate(self, pixel_values=None, input_ids=None, attention_mask=None, **kwargs):
        assert self.img_context_token_id is not None
        reply = REPLY_IDS + [kwargs["eos_token_id"]]
        return torch.tensor([reply] * input_ids.shape[0])
'''

CONVERSATION = "internlm2_chat = Conversation(name='internlm2-chat', system_message='the checkpoint line')\n"


def _remote_code_folder(root: Path, template: str = "internlm2-chat") -> Path:
    from safetensors.torch import save_file

    folder = root / f"tiny_internvl_chat_{root.name}"  # its own module name: no stale remote code across tests
    folder.mkdir()
    TOKENIZER.save_pretrained(folder)
    (folder / "configuration_tiny_chat.py").write_text(CONFIGURATION)
    reply = TOKENIZER.encode("Leaning", add_special_tokens=False)
    (folder / "modeling_tiny_chat.py").write_text(MODELING.replace("REPLY_IDS", repr(reply)))
    (folder / "conversation.py").write_text(CONVERSATION)
    config = {
        "architectures": ["TinyChatModel"],
        "model_type": "evalkit_tiny_internvl_chat",
        "template": template,
        "auto_map": {"AutoConfig": "configuration_tiny_chat.TinyChatConfig",
                     "AutoModel": "modeling_tiny_chat.TinyChatModel"},
    }
    (folder / "config.json").write_text(json.dumps(config))
    save_file({"anchor": torch.zeros(1)}, str(folder / "model.safetensors"))
    return folder


def test_helpers_read_the_folder(tmp_path: Path) -> None:
    folder = _remote_code_folder(tmp_path)
    assert [name for name, _ in code_files(folder)] == [
        "configuration_tiny_chat.py", "conversation.py", "modeling_tiny_chat.py"]
    assert code_files(None) == []

    class Newer:
        system_message = "set by the newer remote code"

    assert checkpoint_system_line(Newer(), folder, "internlm2-chat") == (
        "set by the newer remote code", "model.system_message")
    assert checkpoint_system_line(object(), folder, "internlm2-chat") == ("the checkpoint line", "conversation.py")
    assert checkpoint_system_line(object(), None, "internlm2-chat") is None


def test_without_trust_remote_code_the_spec_is_refused(tmp_path: Path) -> None:
    folder = _remote_code_folder(tmp_path)
    with pytest.raises(ModelSpecError) as caught:
        load_model(f"internvl:{folder}", ModelOptions(device="cpu"))
    message = str(caught.value)
    assert "\n" not in message
    assert f"'internvl:{folder}'" in message and "--trust-remote-code" in message and "own Python code" in message
    with pytest.raises(ModelSpecError, match="--trust-remote-code"):
        InternVLAdapter.load(str(folder), trust_remote_code=False)


def test_missing_folders_are_spec_errors(tmp_path: Path) -> None:
    options = ModelOptions(device="cpu", trust_remote_code=True)
    with pytest.raises(ModelSpecError, match="no such folder"):
        load_model(f"internvl:{tmp_path}/nowhere/model", options)
    with pytest.raises(ModelSpecError, match="names no model"):
        load_model("internvl:", options)
