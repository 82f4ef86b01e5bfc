"""transformers' native InternVL (``InternVLForConditionalGeneration``) through the ordinary ``hf:`` backend.

A tiny InternVL-architecture model is built locally (random weights, 32x32 tiles of
8x8 patches, so 4 image tokens per tile after the 0.5 pixel shuffle), with an
``InternVLProcessor`` made of a ``GotOcr2ImageProcessor`` (crop to patches, at most
6, thumbnail) and a byte-level tokenizer carrying InternVL's ``<img>``, ``</img>``
and ``<IMG_CONTEXT>``; its chat template renders V1.5's internlm2-chat layout with
one ``<IMG_CONTEXT>`` placeholder per image, which the processor expands into
``<img>`` + ``<IMG_CONTEXT>`` x 4·tiles + ``</img>``.

transformers 5 gives ``InternVLProcessor`` a video processor, and its video
processors need torchvision. Without torchvision the folder cannot be loaded at
all (a clean ModelSpecError, tested below); to exercise the rest of the path
anyway, a stand-in video processor is patched in while the model is built and
loaded, and nothing else is replaced.
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from packaging.version import Version
from PIL import Image

from evalkit.catalog.spec import GenerationParams
from evalkit.errors import ModelSpecError
from evalkit.models.base import ImagePart, Message, Request, TextPart
from evalkit.models.hf import HFAdapter
from evalkit.models.internvl_prompt import PAPER_SYSTEM_LINE
from evalkit.models.registry import ModelOptions, load_model
from evalkit.models.transformers_compat import transformers_version
from evalkit.tiling import choose_grid

pytestmark = pytest.mark.skipif(
    transformers_version() < Version("4.52"),
    reason=f"transformers-native InternVL arrived in 4.52 (this environment: {transformers_version()})")

TILE, PATCH, TOKENS_PER_TILE, MAX_PATCHES = 32, 8, 4, 6
HAS_TORCHVISION = importlib.util.find_spec("torchvision") is not None
GREEDY = GenerationParams(max_new_tokens=6)
SPECIAL = ("<unk>", "<s>", "</s>", "<pad>", "<|im_start|>", "<|im_end|>", "<img>", "</img>", "<IMG_CONTEXT>", "<video>")

#: V1.5's internlm2-chat layout; a system message replaces the paper-time line; images first, text parts joined by \n.
CHAT_TEMPLATE = (
    "{%- macro texts(m) -%}{%- if m['content'] is string -%}{{- m['content'] -}}{%- else -%}"
    "{{- m['content'] | selectattr('type', 'equalto', 'text') | map(attribute='text') | join('\n') -}}"
    "{%- endif -%}{%- endmacro -%}"
    "{%- set system = namespace(text='" + PAPER_SYSTEM_LINE + "') -%}"
    "{%- for m in messages if m['role'] == 'system' -%}{%- set system.text = texts(m) -%}{%- endfor -%}"
    "{{- '<|im_start|>system\n' + system.text + '<|im_end|>' -}}"
    "{%- for m in messages if m['role'] != 'system' -%}"
    "{{- '<|im_start|>' + m['role'] + '\n' -}}"
    "{%- if m['content'] is not string -%}"
    "{%- for p in m['content'] if p['type'] == 'image' -%}{{- '<IMG_CONTEXT>\n' -}}{%- endfor -%}"
    "{%- endif -%}"
    "{{- texts(m) + '<|im_end|>' -}}"
    "{%- endfor -%}"
    "{%- if add_generation_prompt -%}{{- '<|im_start|>assistant\n' -}}{%- endif -%}"
)


@contextmanager
def video_processor_stand_in() -> Iterator[None]:
    """Without torchvision: a do-nothing video processor, only while the processor is built, saved and loaded."""
    if HAS_TORCHVISION:
        yield
        return
    from transformers import processing_utils
    from transformers.video_processing_utils import VideoProcessorMixin

    class NoVideoProcessor(VideoProcessorMixin):
        """Never called: these tests send no videos."""

    auto = importlib.import_module("transformers.models.auto.video_processing_auto").AutoVideoProcessor
    with pytest.MonkeyPatch.context() as patch:
        # the class check looks the base class up on processing_utils' own view of the transformers package
        patch.setattr(processing_utils.transformers_module, "VideoProcessorMixin", VideoProcessorMixin,
                      raising=False)
        patch.setattr(auto, "from_pretrained", classmethod(lambda cls, *args, **kwargs: NoVideoProcessor()))
        yield


def _tokenizer() -> Any:
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    vocab = {token: index for index, token in enumerate(SPECIAL)}
    for symbol in sorted(pre_tokenizers.ByteLevel.alphabet()):
        vocab[symbol] = len(vocab)
    backend = Tokenizer(models.BPE(vocab=vocab, merges=[], unk_token="<unk>"))
    backend.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    backend.decoder = decoders.ByteLevel()
    return PreTrainedTokenizerFast(
        tokenizer_object=backend, bos_token="<s>", eos_token="<|im_end|>", pad_token="<pad>", unk_token="<unk>",
        padding_side="left",
        extra_special_tokens={"start_image_token": "<img>", "end_image_token": "</img>",
                              "context_image_token": "<IMG_CONTEXT>", "video_token": "<video>",
                              "im_start_token": "<|im_start|>"},
    )


def build_tiny_native_internvl(folder: Path) -> Path:
    """Build, then ``save_pretrained`` the model and its processor into ``folder``."""
    import transformers
    from transformers import InternVLConfig, InternVLForConditionalGeneration, InternVLProcessor

    tokenizer = _tokenizer()
    image_processor_class = getattr(transformers, "GotOcr2ImageProcessorPil", transformers.GotOcr2ImageProcessor)
    image_processor = image_processor_class(
        size={"height": TILE, "width": TILE}, crop_to_patches=True, min_patches=1, max_patches=MAX_PATCHES,
        image_mean=[0.485, 0.456, 0.406], image_std=[0.229, 0.224, 0.225],
    )
    if HAS_TORCHVISION:
        video_processor = transformers.InternVLVideoProcessor()
    else:  # the stand-in that video_processor_stand_in() patched in
        auto = importlib.import_module("transformers.models.auto.video_processing_auto").AutoVideoProcessor
        video_processor = auto.from_pretrained(str(folder))
    processor = InternVLProcessor(image_processor=image_processor, tokenizer=tokenizer, video_processor=video_processor,
                                  image_seq_length=TOKENS_PER_TILE, chat_template=CHAT_TEMPLATE)
    config = InternVLConfig(
        vision_config={"hidden_size": 32, "num_hidden_layers": 1, "num_attention_heads": 2, "intermediate_size": 64,
                       "image_size": TILE, "patch_size": PATCH, "initializer_range": 0.5},
        text_config={"model_type": "qwen2", "vocab_size": len(tokenizer), "hidden_size": 64, "intermediate_size": 128,
                     "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2,
                     "max_position_embeddings": 4096, "bos_token_id": tokenizer.bos_token_id,
                     "eos_token_id": tokenizer.eos_token_id, "pad_token_id": tokenizer.pad_token_id,
                     "tie_word_embeddings": False, "initializer_range": 0.5},
        image_token_id=tokenizer.context_image_token_id, image_seq_length=TOKENS_PER_TILE, downsample_ratio=0.5,
        tie_word_embeddings=False,
    )
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        model = InternVLForConditionalGeneration(config).eval()
    _printable_output_only(model, tokenizer)
    model.generation_config.eos_token_id = tokenizer.eos_token_id
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    model.save_pretrained(folder)
    processor.save_pretrained(folder)
    return folder


def _printable_output_only(model: Any, tokenizer: Any) -> None:
    """Zero the output rows of all but printable ASCII and ``<|im_end|>``, so greedy replies are readable."""
    keep = {tokenizer.eos_token_id}
    for code in range(0x20, 0x7F):
        keep.update(tokenizer.encode(chr(code), add_special_tokens=False))
    head = model.get_output_embeddings().weight
    with torch.no_grad():
        head[[i for i in range(head.shape[0]) if i not in keep]] = 0.0


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    with video_processor_stand_in():
        return build_tiny_native_internvl(tmp_path_factory.mktemp("tiny-native-internvl"))


@pytest.fixture(scope="module")
def adapter(folder: Path) -> HFAdapter:
    with video_processor_stand_in():
        model = load_model("hf:" + str(folder), ModelOptions(device="cpu", dtype="float32"))
    assert isinstance(model, HFAdapter)
    return model


def _image(width: int, height: int, seed: int = 0) -> Image.Image:
    rng = np.random.default_rng(seed)
    return Image.fromarray(rng.integers(0, 256, (height, width, 3), dtype=np.uint8))


def _request(text: str, *images: Image.Image, max_tiles: int = MAX_PATCHES, sample_id: str = "s") -> Request:
    parts: list[ImagePart | TextPart] = [ImagePart(image, max_tiles) for image in images]
    parts.append(TextPart(text))
    return Request(sample_id, (Message("user", tuple(parts)),), GREEDY)


def _tiles(image: Image.Image, max_tiles: int = MAX_PATCHES) -> int:
    """InternVL 1.5's tile count for ``image`` at this model's tile size (evalkit.tiling's grid)."""
    cols, rows = choose_grid(image.width, image.height, max_tiles=max_tiles, tile_size=TILE)
    return cols * rows + (1 if cols * rows > 1 else 0)


def test_loads_as_the_native_class_and_generates(adapter: HFAdapter) -> None:
    assert type(adapter.model).__name__ == "InternVLForConditionalGeneration"
    assert type(adapter.processor).__name__ == "InternVLProcessor"
    [generation] = adapter.generate([_request("What is in the picture?", _image(70, 30))])
    assert generation.error is None
    assert generation.usage.completion_tokens >= 1
    assert generation.text == generation.text.strip() and generation.text.isprintable()


def test_the_pixels_reach_the_model(adapter: HFAdapter) -> None:
    replies = {adapter.generate([_request("Same question?", _image(70, 30, seed))])[0].text for seed in (1, 2, 3)}
    assert len(replies) == 3


def test_prompt_has_the_v15_layout_and_the_processor_expands_the_block(adapter: HFAdapter) -> None:
    image = _image(70, 30)
    request = _request("What is in the picture?", image)
    prompt = adapter.render(request).prompt
    assert prompt == (f"<|im_start|>system\n{PAPER_SYSTEM_LINE}<|im_end|><|im_start|>user\n<IMG_CONTEXT>\n"
                      "What is in the picture?<|im_end|><|im_start|>assistant\n")
    inputs = adapter.processor(text=[prompt], images=[image], return_tensors="pt")
    tiles = _tiles(image)
    assert tiles == 3  # a 2x1 grid and the thumbnail
    assert inputs["pixel_values"].shape == (tiles, 3, TILE, TILE)
    assert len(adapter.render(request).images) == tiles  # the tiles, de-normalised
    expanded = adapter.processor.tokenizer.decode(inputs["input_ids"][0])
    block = "<img>" + "<IMG_CONTEXT>" * (TOKENS_PER_TILE * tiles) + "</img>"
    assert f"<|im_start|>user\n{block}\nWhat is in the picture?<|im_end|>" in expanded
    assert expanded.count("<IMG_CONTEXT>") == TOKENS_PER_TILE * tiles


@pytest.mark.parametrize("size", [(70, 30), (30, 30), (100, 100), (20, 90), (640, 480), (96, 64)])
def test_the_processor_tiles_like_internvl_15(adapter: HFAdapter, size: tuple[int, int]) -> None:
    image = _image(*size)
    inputs = adapter.processor(text=[adapter.prompt(_request("Q", image))], images=[image], return_tensors="pt")
    assert inputs["pixel_values"].shape[0] == _tiles(image)


def test_several_images_get_one_block_each(adapter: HFAdapter) -> None:
    """The native processor's layout (unlike V1.5's chat, which writes one block for all tiles)."""
    first, second = _image(70, 30, 1), _image(30, 30, 2)
    prompt = adapter.prompt(_request("Compare.", first, second))
    inputs = adapter.processor(text=[prompt], images=[first, second], return_tensors="pt")
    expanded = adapter.processor.tokenizer.decode(inputs["input_ids"][0])
    assert expanded.count("<img>") == 2
    assert expanded.count("<IMG_CONTEXT>") == TOKENS_PER_TILE * (_tiles(first) + _tiles(second))


def test_batch_of_1_and_of_4_give_identical_outputs(adapter: HFAdapter) -> None:
    requests = [
        _request("What is in the picture?", _image(70, 30, 1), sample_id="a"),
        _request("Describe it briefly, please.", _image(30, 30, 2), sample_id="b"),
        _request("Text only, no image here at all.", sample_id="c"),
        _request("Two?", _image(100, 100, 3), _image(20, 90, 4), sample_id="d"),
    ]
    alone = [adapter.generate([request])[0] for request in requests]
    together = adapter.generate(requests)
    assert [g.error for g in together] == [None] * 4
    assert [g.text for g in together] == [g.text for g in alone]
    assert len({g.text for g in together}) == 4  # distinct replies: a mix-up between rows would show
    assert [g.prompt for g in together] == [g.prompt for g in alone]


def test_image_part_max_tiles_reaches_the_processor(adapter: HFAdapter) -> None:
    image = _image(70, 30)
    request = _request("Q", image, max_tiles=1)
    rendered = adapter.render(request)
    assert len(rendered.images) == 1


@pytest.mark.skipif(HAS_TORCHVISION, reason="torchvision is installed: the real video processor loads")
def test_without_torchvision_the_folder_is_a_clean_spec_error(folder: Path) -> None:
    with pytest.raises(ModelSpecError) as caught:
        load_model("hf:" + str(folder), ModelOptions(device="cpu", dtype="float32"))
    message = str(caught.value)
    assert message.startswith(f"cannot load model 'hf:{folder}'") and "torchvision" in message
