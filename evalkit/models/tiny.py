"""The built-in ``tiny-random`` model: a real LLaVA-architecture model with random weights.

It is made locally (no download): a ``LlavaForConditionalGeneration`` with a tiny
CLIP vision tower and a tiny Llama language model, weights drawn from a fixed
seed, a byte-level BPE tokenizer with the 256 byte symbols and no merges (any
Unicode text round-trips), a tiny ``CLIPImageProcessor`` and a chat template
rendering LLaVA-1.5's prompt format. It is saved with ``save_pretrained`` into a
folder and then loaded through the same ``hf:`` code path as any hub model, so
every test and demo exercises the real adapter.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from evalkit.errors import ModelSpecError
from evalkit.models.base import ModelAdapter
from evalkit.models.hf_support import torch_placement
from evalkit.models.registry import Backend, LoadRequest, NoOptions, Placement

if TYPE_CHECKING:
    from transformers import LlavaProcessor

#: Bump when the model, tokenizer or template changes, so old cached folders are not reused.
TINY_RANDOM_VERSION = 2
TINY_RANDOM_NAME = f"tiny-random-v{TINY_RANDOM_VERSION}"
#: The model spec.
TINY_RANDOM = "tiny-random"
DEFAULT_CACHE_DIR = Path("~/.cache/evalkit")

SEED = 1234
IMAGE_SIZE = 32
PATCH_SIZE = 8
SPECIAL_TOKENS = ("<unk>", "<s>", "</s>", "<pad>", "<image>")
IMAGE_MEAN = (0.48145466, 0.4578275, 0.40821073)
IMAGE_STD = (0.26862954, 0.26130258, 0.27577711)

#: LLaVA-1.5's conversation format: ``[SYSTEM ]USER: <image>\nQ ASSISTANT: A</s>USER: Q2 ASSISTANT:``.
#: System messages come first, each followed by a space; in every other message the
#: images come first (one ``<image>\n`` each), then the text parts.
CHAT_TEMPLATE = (
    "{%- macro texts(message) -%}"
    "{%- if message['content'] is string -%}{{- message['content'] -}}"
    "{%- else -%}{{- message['content'] | selectattr('type', 'equalto', 'text')"
    " | map(attribute='text') | join(' ') -}}{%- endif -%}"
    "{%- endmacro -%}"
    "{%- macro images(message) -%}"
    "{%- if message['content'] is not string -%}"
    "{%- for part in message['content'] if part['type'] == 'image' -%}{{- '<image>\n' -}}{%- endfor -%}"
    "{%- endif -%}"
    "{%- endmacro -%}"
    "{%- for message in messages if message['role'] == 'system' -%}"
    "{{- texts(message) + ' ' -}}"
    "{%- endfor -%}"
    "{%- for message in messages if message['role'] != 'system' -%}"
    "{%- if message['role'] == 'user' -%}"
    "{{- 'USER: ' + images(message) + texts(message) + ' ' -}}"
    "{%- else -%}"
    "{{- 'ASSISTANT: ' + images(message) + texts(message) + '</s>' -}}"
    "{%- endif -%}"
    "{%- endfor -%}"
    "{%- if add_generation_prompt -%}{{- 'ASSISTANT:' -}}{%- endif -%}"
)


def default_tiny_random_dir(cache_dir: Path | None = None) -> Path:
    """The versioned folder the tiny model lives in under ``cache_dir`` (default ``~/.cache/evalkit``).

    The folder is per transformers major version: what 5.x's ``save_pretrained`` writes
    (one ``processor_config.json``) is not what 4.x reads (``preprocessor_config.json``),
    and one machine may hold both (the ``internvl`` extra's environment beside the newest).
    The weights are the same in every folder: they are drawn from evalkit's own seed.
    """
    root = cache_dir if cache_dir is not None else DEFAULT_CACHE_DIR
    return root.expanduser() / f"{TINY_RANDOM_NAME}-transformers{_transformers_major()}"


def _transformers_major() -> str:
    from importlib.metadata import version

    return version("transformers").split(".")[0]


def ensure_tiny_random(cache_dir: Path | None = None) -> Path:
    """Return the tiny model's folder, building it first if it is not there yet.

    The folder is built in a temporary sibling and renamed into place, so a crash
    never leaves a half-written model behind; if another process wins the race,
    its folder is used.
    """
    target = default_tiny_random_dir(cache_dir)
    if (target / "config.json").is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{TINY_RANDOM_NAME}.", dir=target.parent))
    try:
        build_tiny_random(staging)
        try:
            os.rename(staging, target)
        except OSError:
            if not (target / "config.json").is_file():
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def build_tiny_random(path: Path) -> Path:
    """Build the tiny model and its processor and save both into ``path``; return ``path``."""
    import torch

    from evalkit.models.hf_support import quiet_progress

    processor = _build_processor()
    tokenizer = processor.tokenizer
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(SEED)
        model = _build_model(tokenizer)
    path.mkdir(parents=True, exist_ok=True)
    with quiet_progress():
        model.save_pretrained(path)
        processor.save_pretrained(path)
    return path


def _build_tokenizer() -> Any:
    """A byte-level BPE tokenizer: special tokens, then the 256 byte symbols, no merges."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors
    from transformers import PreTrainedTokenizerFast

    byte_symbols = sorted(pre_tokenizers.ByteLevel.alphabet(), key=_byte_of_symbol)
    vocab = {token: index for index, token in enumerate(SPECIAL_TOKENS)}
    vocab.update({symbol: len(SPECIAL_TOKENS) + i for i, symbol in enumerate(byte_symbols)})
    backend = Tokenizer(models.BPE(vocab=vocab, merges=[], unk_token="<unk>"))
    backend.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    backend.decoder = decoders.ByteLevel()
    backend.post_processor = processors.TemplateProcessing(
        single="<s> $A", pair="<s> $A <s> $B", special_tokens=[("<s>", vocab["<s>"])]
    )
    return PreTrainedTokenizerFast(
        tokenizer_object=backend,
        bos_token="<s>",
        eos_token="</s>",
        pad_token="<pad>",
        unk_token="<unk>",
        extra_special_tokens={"image_token": "<image>"},
        padding_side="left",
        model_max_length=2048,
        model_input_names=["input_ids", "attention_mask"],  # as LLaVA's; 4.x would add token_type_ids
    )


def _byte_of_symbol(symbol: str) -> int:
    """The byte value GPT-2's byte-level alphabet maps to ``symbol``."""
    printable = [
        *range(ord("!"), ord("~") + 1),
        *range(ord("¡"), ord("¬") + 1),
        *range(ord("®"), ord("ÿ") + 1),
    ]
    code = ord(symbol)
    if code in printable:
        return code
    others = [b for b in range(256) if b not in printable]
    return others[code - 256]


def _build_processor() -> LlavaProcessor:
    """The tokenizer, a 32x32 CLIP image processor and the LLaVA-1.5 chat template."""
    import transformers
    from transformers import LlavaProcessor

    # the PIL backend whether or not torchvision is installed; it is saved as "CLIPImageProcessor"
    image_processor_class = getattr(transformers, "CLIPImageProcessorPil", transformers.CLIPImageProcessor)
    image_processor = image_processor_class(
        size={"shortest_edge": IMAGE_SIZE},
        crop_size={"height": IMAGE_SIZE, "width": IMAGE_SIZE},
        image_mean=list(IMAGE_MEAN),
        image_std=list(IMAGE_STD),
        do_convert_rgb=True,
    )
    return LlavaProcessor(
        image_processor=image_processor,
        tokenizer=_build_tokenizer(),
        patch_size=PATCH_SIZE,
        vision_feature_select_strategy="default",
        num_additional_image_tokens=1,
        chat_template=CHAT_TEMPLATE,
        image_token="<image>",
    )


def _build_model(tokenizer: Any) -> Any:
    """A LLaVA model with a 2-layer CLIP vision tower and a 2-layer Llama, randomly initialised."""
    from transformers import CLIPVisionConfig, LlamaConfig, LlavaConfig, LlavaForConditionalGeneration

    vision = CLIPVisionConfig(
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=2,
        image_size=IMAGE_SIZE,
        patch_size=PATCH_SIZE,
        projection_dim=32,
    )
    text = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=2048,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        tie_word_embeddings=False,
    )
    config = LlavaConfig(
        vision_config=vision,
        text_config=text,
        image_token_index=tokenizer.convert_tokens_to_ids("<image>"),
        vision_feature_select_strategy="default",
        vision_feature_layer=-2,
        projector_hidden_act="gelu",
    )
    model = LlavaForConditionalGeneration(config).eval()
    _initialise(model)
    _restrict_output_alphabet(model, tokenizer)
    model.generation_config.bos_token_id = tokenizer.bos_token_id
    model.generation_config.eos_token_id = tokenizer.eos_token_id
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    return model


def _initialise(model: Any) -> None:
    """Draw every weight from one generator seeded with ``SEED``, in the order the parameters are registered.

    transformers' own initialisation differs between releases; this one does not, so ``tiny-random`` is the
    same model under every supported transformers (the registration order, vision tower, projector, embeddings,
    decoder layers, norm, output head, is the same in 4.x and 5.x, though 5.x nests the modules differently).
    Matrices get N(0, 0.02), vectors of norms 1, biases 0.
    """
    import torch

    generator = torch.Generator().manual_seed(SEED)
    with torch.no_grad():
        for name, parameter in model.named_parameters():
            if name.endswith("bias"):
                parameter.zero_()
            elif parameter.ndim == 1:
                parameter.fill_(1.0)
            else:
                parameter.copy_(torch.randn(parameter.shape, generator=generator) * 0.02)


def _restrict_output_alphabet(model: Any, tokenizer: Any) -> None:
    """Zero the output rows of every token but printable ASCII and ``</s>``.

    Those tokens then always score 0 while about half the kept ones score above it,
    so greedy output is readable ASCII rather than invalid byte soup.
    """
    import torch

    keep = {tokenizer.eos_token_id}
    for code in range(0x20, 0x7F):
        keep.update(tokenizer.encode(chr(code), add_special_tokens=False))
    head = model.get_output_embeddings().weight
    dropped = torch.tensor([i for i in range(head.shape[0]) if i not in keep])
    with torch.no_grad():
        head[dropped] = 0.0


def _placement(request: LoadRequest, options: NoOptions) -> Placement:
    """``auto`` is the CPU in float32 whatever the machine has, as :func:`_load` decides."""
    device, dtype = request.options.device, request.options.dtype
    return Placement(*torch_placement("cpu" if device == "auto" else device, "float32" if dtype == "auto" else dtype,
                                      TINY_RANDOM))


def _load(request: LoadRequest, options: NoOptions) -> ModelAdapter:
    """Build ``tiny-random`` once into the cache, then load it like any folder (cpu, float32 by default)."""
    from evalkit.models.hf import HFAdapter

    try:
        folder = ensure_tiny_random(request.environment.cache_dir)
    except OSError as exc:
        raise ModelSpecError(f"model spec '{TINY_RANDOM}': cannot build it: {exc}") from exc
    device, dtype = request.options.device, request.options.dtype
    return HFAdapter.load(str(folder), name=TINY_RANDOM, device="cpu" if device == "auto" else device,
                          dtype="float32" if dtype == "auto" else dtype, trust_remote_code=False)


BACKEND = Backend(name=TINY_RANDOM, usage=TINY_RANDOM, short=TINY_RANDOM,
                  summary="a tiny random-weight LLaVA model built locally, for tests and demos", load=_load,
                  bare=True, placement=_placement)
