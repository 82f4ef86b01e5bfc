"""Helpers shared by the transformers-based backends (``hf:``, ``internvl:``, ``vllm:``, the local judge).

Device and dtype resolution, the conversion of evalkit messages into chat-template messages, batching by
generation parameters, seeded sampling, and small facts about tokenizers and checkpoints.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from PIL import Image

from evalkit.catalog.spec import GenerationParams
from evalkit.errors import ModelSpecError
from evalkit.models.base import ImagePart, Message, Request, TextPart

DTYPES = ("float32", "float16", "bfloat16")


def resolve_device(device: str) -> tuple[str, str | None]:
    """The torch device for inputs, and the ``device_map`` to load with (``"auto"`` to shard).

    ``auto`` is cuda when available, else cpu, sharded with ``device_map="auto"``
    when there is more than one GPU; ``auto-map`` always shards.
    """
    import torch

    if device == "auto-map":
        return "cuda" if torch.cuda.is_available() else "cpu", "auto"
    if device == "auto":
        if not torch.cuda.is_available():
            return "cpu", None
        return "cuda", "auto" if torch.cuda.device_count() > 1 else None
    return device, None


def resolve_dtype(dtype: str, device: str, spec: str) -> Any:
    """The torch dtype: ``auto`` is bfloat16 on cuda and float32 elsewhere."""
    import torch

    if dtype == "auto":
        return torch.bfloat16 if device.startswith("cuda") else torch.float32
    if dtype not in DTYPES:
        raise ModelSpecError(f"model '{spec}': unknown dtype '{dtype}' (known: auto, {', '.join(DTYPES)})")
    return getattr(torch, dtype)


def torch_placement(device: str, dtype: str, spec: str) -> tuple[str, str]:
    """(dtype name, device type) a transformers model loads with here: :func:`resolve_device` and
    :func:`resolve_dtype` as the loaders call them, the device's index left out."""
    torch_device, _ = resolve_device(device)
    resolved = resolve_dtype(dtype, torch_device, spec)
    return str(resolved).removeprefix("torch."), torch_device.split(":", 1)[0]


def pixels_to_images(pixel_values: Any, image_processor: Any) -> list[Image.Image] | None:
    """Undo the processor's rescaling and normalisation: ``[N,3,H,W]`` pixels back to RGB images.

    Returns None when ``pixel_values`` is not a ``[N,3,H,W]`` tensor (tiled or patched layouts).
    """
    import torch

    if not isinstance(pixel_values, torch.Tensor) or pixel_values.ndim != 4 or pixel_values.shape[1] != 3:
        return None
    pixels = pixel_values.detach().to("cpu", torch.float32)
    if getattr(image_processor, "do_normalize", True):
        mean = torch.tensor(triple(getattr(image_processor, "image_mean", None), 0.0)).view(1, 3, 1, 1)
        std = torch.tensor(triple(getattr(image_processor, "image_std", None), 1.0)).view(1, 3, 1, 1)
        pixels = pixels * std + mean
    if getattr(image_processor, "do_rescale", True):
        pixels = pixels / float(getattr(image_processor, "rescale_factor", 1 / 255))
    array = pixels.round().clamp(0, 255).to(torch.uint8).permute(0, 2, 3, 1).numpy()
    return [Image.fromarray(item, mode="RGB") for item in array]


def triple(value: Any, default: float) -> list[float]:
    """A per-channel value as a list of three floats."""
    if value is None:
        return [default] * 3
    if isinstance(value, int | float):
        return [float(value)] * 3
    return [float(v) for v in value]


@contextmanager
def quiet_progress() -> Iterator[None]:
    """Hide transformers' (and the hub's) progress bars, restoring the previous setting after."""
    from transformers.utils import logging as hf_logging

    enabled = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        if enabled:
            hf_logging.enable_progress_bar()


@contextmanager
def seeded(params: GenerationParams, device: Any) -> Iterator[None]:
    """When sampling, seed torch from ``params.seed`` without disturbing the caller's random state."""
    if not params.do_sample:
        yield
        return
    import torch

    devices = [device] if getattr(device, "type", str(device)).startswith("cuda") else []
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(params.seed)
        yield


def check_local_path(model_id: str, spec: str) -> None:
    """A spec that is plainly a path (absolute, ``./``, ``~``, or more than one ``/``) must be a folder."""
    if not model_id:
        raise ModelSpecError(f"model spec '{spec}' names no model (expected hf:<hub id or folder>)")
    looks_local = model_id.startswith(("/", ".", "~")) or model_id.count("/") > 1
    path = Path(model_id).expanduser()
    if (looks_local or path.exists()) and not path.is_dir():
        raise ModelSpecError(f"cannot load model '{spec}': no such folder '{model_id}'")


def check_hub_reachable(model_id: str, revision: str | None, spec: str, *, offline: bool) -> None:
    """A hub id neither in the hub cache nor downloadable now (``HF_HUB_OFFLINE``, or the hub unreachable) is
    refused at once, naming the cache folder it was looked for in, instead of after minutes of retries."""
    if Path(model_id).expanduser().is_dir():
        return
    from huggingface_hub import constants, try_to_load_from_cache

    try:
        cached = try_to_load_from_cache(model_id, "config.json", revision=revision)
    except ValueError:  # not a valid repo id: from_pretrained says so
        return
    if isinstance(cached, str):
        return
    folder = Path(constants.HF_HUB_CACHE) / f"models--{model_id.replace('/', '--')}"
    if offline:
        raise ModelSpecError(f"model '{spec}': not in the hub cache ({folder}), and HF_HUB_OFFLINE is set; "
                             f"download it first (hf download {model_id}) or unset HF_HUB_OFFLINE")
    from evalkit.data.availability import unreachable

    reason = unreachable(constants.ENDPOINT)
    if reason is not None:
        raise ModelSpecError(f"model '{spec}': not in the hub cache ({folder}), and {constants.ENDPOINT} cannot be "
                             f"reached ({reason})")


def parse_hf_target(target: str) -> tuple[str, str | None]:
    """Split ``<id or folder>[@revision]``; an existing folder, or an ``@`` inside a path, is no revision."""
    if Path(target).expanduser().is_dir():
        return target, None
    model_id, sep, revision = target.rpartition("@")
    if not sep or not model_id or not revision or "/" in revision:
        return target, None
    return model_id, revision


def resolved_revision(model: Any, model_id: str, revision: str | None) -> str | None:
    """The commit the weights came from: the config's commit hash, the hub snapshot, or ``revision``."""
    commit = getattr(model.config, "_commit_hash", None)
    if isinstance(commit, str) and commit:
        return commit
    if Path(model_id).expanduser().is_dir():
        return revision
    try:
        from transformers.utils.hub import cached_file

        config_path = cached_file(model_id, "config.json", revision=revision, local_files_only=True)
    except Exception:  # the revision is informative only
        return revision
    parts = Path(str(config_path)).parts
    if "snapshots" in parts and parts.index("snapshots") + 1 < len(parts):
        return parts[parts.index("snapshots") + 1]
    return revision


def tile_limits(request: Request) -> frozenset[int]:
    """The distinct ``max_tiles`` of the request's images."""
    return frozenset(part.max_tiles for message in request.messages for part in message.images)


def batches(requests: Sequence[Request], size: int) -> Iterator[list[int]]:
    """Indices of requests grouped by equal generation params and tile limits (first-seen order), at most
    ``size`` each, so one processor call never mixes two limits."""
    groups: dict[tuple[GenerationParams, frozenset[int]], list[int]] = {}
    for index, request in enumerate(requests):
        limits = tile_limits(request)
        if not limits:  # a text-only request fits any group with its params
            limits = next((key[1] for key in groups if key[0] == request.params), limits)
        groups.setdefault((request.params, limits), []).append(index)
    for indices in groups.values():
        for start in range(0, len(indices), size):
            yield indices[start : start + size]


def chat_message(message: Message) -> dict[str, Any]:
    """A Request message as a chat-template message: images as ``{"type": "image"}``, text as text."""
    content: list[dict[str, str]] = []
    for part in message.parts:
        if isinstance(part, ImagePart):
            content.append({"type": "image"})
        elif isinstance(part, TextPart):
            content.append({"type": "text", "text": part.text})
    return {"role": message.role, "content": content}


def images_of(request: Request) -> list[Image.Image]:
    """The request's images in order, as RGB."""
    images = [part.image for message in request.messages for part in message.images]
    return [image if image.mode == "RGB" else image.convert("RGB") for image in images]


def tokenizer_of(processor: Any) -> Any:
    """The processor's tokenizer (or the processor itself when it is a tokenizer)."""
    return getattr(processor, "tokenizer", processor)


def eos_ids(model: Any) -> set[int]:
    """Token ids that end a generation."""
    eos = getattr(model.generation_config, "eos_token_id", None)
    if eos is None:
        return set()
    return {int(eos)} if isinstance(eos, int) else {int(token) for token in eos}


def completion_length(tokens: list[int], eos: set[int]) -> int:
    """Generated tokens up to and including the first end-of-sequence token."""
    for position, token in enumerate(tokens):
        if token in eos:
            return position + 1
    return len(tokens)


def one_line(exc: BaseException) -> str:
    """An exception's message on one line."""
    text = " ".join(str(exc).split())
    return text or type(exc).__name__


def generate_kwargs(params: GenerationParams, *, pad_token_id: int | None,
                    eos_token_id: int | None = None) -> dict[str, Any]:
    """Keyword arguments for ``model.generate``: greedy unless sampling, sampling knobs only then.

    ``min_new_tokens`` is passed only when above 0; ``top_k`` 0 disables top-k; a temperature of 0 keeps the
    model's default (it only matters when sampling). ``eos_token_id`` overrides the model's (InternVL's
    ``<|im_end|>``)."""
    kwargs: dict[str, Any] = {"max_new_tokens": params.max_new_tokens, "num_beams": params.num_beams,
                              "do_sample": params.do_sample, "pad_token_id": pad_token_id}
    if eos_token_id is not None:
        kwargs["eos_token_id"] = eos_token_id
    if params.min_new_tokens > 0:
        kwargs["min_new_tokens"] = params.min_new_tokens
    if params.do_sample:
        kwargs.update(top_p=params.top_p, top_k=params.top_k)
        if params.temperature > 0:
            kwargs["temperature"] = params.temperature
    return kwargs
