"""The ``hf:`` backend: any transformers image-text-to-text model, run locally.

The model's own chat template (``processor.apply_chat_template``) turns a
:class:`~evalkit.models.base.Request` into the prompt; the processor expands the
image placeholders and prepares the pixels; ``model.generate`` runs one call per
batch of requests that share their :class:`~evalkit.spec.GenerationParams`, with
left padding. A batch that fails is retried one request at a time, so one bad
sample only fails itself.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any

from PIL import Image

from evalkit.errors import ModelSpecError
from evalkit.models.base import (
    Capabilities,
    Generation,
    ImagePart,
    Message,
    RenderedRequest,
    Request,
    TextPart,
    Usage,
)
from evalkit.spec import GenerationParams

DTYPES = ("float32", "float16", "bfloat16")
MAX_BATCH_SIZE = 64


class HFAdapter:
    """A loaded transformers model and its processor, as a :class:`~evalkit.models.base.ModelAdapter`.

    Build one with :meth:`load`; the constructor takes objects already loaded.
    """

    def __init__(
        self,
        name: str,
        model: Any,
        processor: Any,
        *,
        source: str,
        revision: str | None = None,
        device: str = "cpu",
    ) -> None:
        self._name = name
        self.model = model
        self.processor = processor
        self.source = source
        self.revision = revision
        self.device = device
        tokenizer = _tokenizer_of(processor)
        tokenizer.padding_side = "left"
        fallback = min(_eos_ids(model), default=None)
        self._pad_token_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else fallback

    @classmethod
    def load(
        cls,
        model_id: str,
        *,
        name: str | None = None,
        revision: str | None = None,
        device: str = "auto",
        dtype: str = "auto",
        trust_remote_code: bool = False,
    ) -> HFAdapter:
        """Load ``model_id`` (a hub id or a local folder); a failure is a :class:`ModelSpecError`."""
        spec = name or f"hf:{model_id}" + (f"@{revision}" if revision else "")
        _check_local_path(model_id, spec)
        torch_device, device_map = resolve_device(device)
        torch_dtype = resolve_dtype(dtype, torch_device, spec)
        try:
            processor, model = _load_pretrained(
                model_id, revision, torch_dtype, device_map, trust_remote_code
            )
            if device_map is None:
                model = model.to(torch_device)
        except Exception as exc:  # any loading failure names the spec
            raise ModelSpecError(f"cannot load model '{spec}': {_one_line(exc)}") from exc
        model.eval()
        resolved = _resolved_revision(model, model_id, revision)
        return cls(spec, model, processor, source=model_id, revision=resolved, device=str(model.device))

    @property
    def name(self) -> str:
        return self._name

    @property
    def capabilities(self) -> Capabilities:
        return Capabilities(max_batch_size=MAX_BATCH_SIZE, max_images_per_prompt=None, tiled=False)

    def describe(self) -> dict[str, object]:
        """Manifest facts: source, resolved revision, dtype, device, chat template, transformers version."""
        import transformers

        template, template_source = self._chat_template()
        return {
            "name": self.name,
            "backend": "hf",
            "model": self.source,
            "model_class": type(self.model).__name__,
            "revision": self.revision,
            "dtype": str(self.model.dtype).removeprefix("torch."),
            "device": self.device,
            "chat_template_source": template_source,
            "chat_template_sha256": hashlib.sha256(template.encode()).hexdigest() if template else None,
            "transformers": transformers.__version__,
        }

    def prompt(self, request: Request) -> str:
        """The exact prompt text after the model's chat template, image placeholders included."""
        messages = [_chat_message(message) for message in request.messages]
        text = self.processor.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
        return str(text)

    def render(self, request: Request) -> RenderedRequest:
        """The prompt and the images as the model sees them (the processor's pixels, de-normalised)."""
        prompt = self.prompt(request)
        images = _images_of(request)
        if not images:
            return RenderedRequest(prompt=prompt, images=())
        inputs = self.processor(text=[prompt], images=images, return_tensors="pt")
        seen = pixels_to_images(inputs.get("pixel_values"), self.processor.image_processor)
        return RenderedRequest(prompt=prompt, images=tuple(seen) if seen is not None else tuple(images))

    def generate(self, requests: Sequence[Request]) -> list[Generation]:
        """One :class:`Generation` per request, in order; batches group requests with equal params."""
        results: list[Generation | None] = [None] * len(requests)
        for indices in _batches(requests, MAX_BATCH_SIZE):
            batch = [requests[i] for i in indices]
            for index, generation in zip(indices, self._generate_robust(batch), strict=True):
                results[index] = generation
        return [generation for generation in results if generation is not None]

    def _generate_robust(self, batch: list[Request]) -> list[Generation]:
        """Generate for a batch; if it fails, retry each request alone and turn failures into errors."""
        try:
            return self._generate_batch(batch)
        except Exception as exc:  # a failure becomes the sample's error value
            if len(batch) == 1:
                return [self._failed(batch[0], exc)]
        generations = []
        for request in batch:
            try:
                generations.extend(self._generate_batch([request]))
            except Exception as exc:
                generations.append(self._failed(request, exc))
        return generations

    def _failed(self, request: Request, exc: Exception) -> Generation:
        """The error value for a request that could not be generated."""
        try:
            prompt = self.prompt(request)
        except Exception:  # the template itself may be what failed
            prompt = ""
        return Generation(text="", prompt=prompt, error=f"{type(exc).__name__}: {_one_line(exc)}")

    def _generate_batch(self, batch: list[Request]) -> list[Generation]:
        """One ``model.generate`` call for requests sharing their generation params."""
        import torch

        prompts = [self.prompt(request) for request in batch]
        images = [image for request in batch for image in _images_of(request)]
        inputs = self.processor(text=prompts, images=images or None, padding=True, return_tensors="pt")
        inputs = inputs.to(self.model.device)
        if "pixel_values" in inputs and inputs["pixel_values"].is_floating_point():
            inputs["pixel_values"] = inputs["pixel_values"].to(self.model.dtype)
        params = batch[0].params
        with torch.inference_mode(), _seeded(params, self.model.device):
            output = self.model.generate(**inputs, **self._generate_kwargs(params))
        if output.shape[0] != len(batch):
            raise RuntimeError(f"generate returned {output.shape[0]} outputs for {len(batch)} inputs")
        prompt_length = inputs["input_ids"].shape[1]
        new_tokens = output[:, prompt_length:]
        tokenizer = _tokenizer_of(self.processor)
        texts = tokenizer.batch_decode(new_tokens, skip_special_tokens=True)
        prompt_counts = inputs["attention_mask"].sum(dim=1).tolist()
        eos = _eos_ids(self.model)
        return [
            Generation(
                text=text.strip(),
                prompt=prompt,
                usage=Usage(prompt_tokens=int(count), completion_tokens=_completion_length(row, eos)),
            )
            for text, prompt, count, row in zip(
                texts, prompts, prompt_counts, new_tokens.tolist(), strict=True
            )
        ]

    def _generate_kwargs(self, params: GenerationParams) -> dict[str, Any]:
        """Keyword arguments for ``model.generate``: greedy unless sampling, sampling knobs only then."""
        kwargs: dict[str, Any] = {
            "max_new_tokens": params.max_new_tokens,
            "num_beams": params.num_beams,
            "do_sample": params.do_sample,
            "pad_token_id": self._pad_token_id,
        }
        if params.min_new_tokens > 0:
            kwargs["min_new_tokens"] = params.min_new_tokens
        if params.do_sample:  # top_k 0 disables top-k; temperature 0 keeps the model's default
            kwargs.update(top_p=params.top_p, top_k=params.top_k)
            if params.temperature > 0:
                kwargs["temperature"] = params.temperature
        return kwargs

    def _chat_template(self) -> tuple[str | None, str | None]:
        """The chat template in use and where it comes from (``processor`` or ``tokenizer``)."""
        template = getattr(self.processor, "chat_template", None)
        if isinstance(template, str):
            return template, "processor"
        template = getattr(_tokenizer_of(self.processor), "chat_template", None)
        if isinstance(template, str):
            return template, "tokenizer"
        return None, None


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


def pixels_to_images(pixel_values: Any, image_processor: Any) -> list[Image.Image] | None:
    """Undo the processor's rescaling and normalisation: ``[N,3,H,W]`` pixels back to RGB images.

    Returns None when ``pixel_values`` is not a ``[N,3,H,W]`` tensor (tiled or patched layouts).
    """
    import torch

    if not isinstance(pixel_values, torch.Tensor) or pixel_values.ndim != 4 or pixel_values.shape[1] != 3:
        return None
    pixels = pixel_values.detach().to("cpu", torch.float32)
    if getattr(image_processor, "do_normalize", True):
        mean = torch.tensor(_triple(getattr(image_processor, "image_mean", None), 0.0)).view(1, 3, 1, 1)
        std = torch.tensor(_triple(getattr(image_processor, "image_std", None), 1.0)).view(1, 3, 1, 1)
        pixels = pixels * std + mean
    if getattr(image_processor, "do_rescale", True):
        pixels = pixels / float(getattr(image_processor, "rescale_factor", 1 / 255))
    array = pixels.round().clamp(0, 255).to(torch.uint8).permute(0, 2, 3, 1).numpy()
    return [Image.fromarray(item, mode="RGB") for item in array]


def _triple(value: Any, default: float) -> list[float]:
    """A per-channel value as a list of three floats."""
    if value is None:
        return [default] * 3
    if isinstance(value, int | float):
        return [float(value)] * 3
    return [float(v) for v in value]


def _load_pretrained(
    model_id: str, revision: str | None, dtype: Any, device_map: str | None, trust_remote_code: bool
) -> tuple[Any, Any]:
    """``AutoProcessor`` and ``AutoModelForImageTextToText`` from a hub id or folder."""
    from transformers import AutoModelForImageTextToText, AutoProcessor

    common: dict[str, Any] = {"revision": revision, "trust_remote_code": trust_remote_code}
    local = Path(model_id).expanduser().is_dir()  # nothing to download: hide the loading bars
    with quiet_progress() if local else nullcontext():
        processor = AutoProcessor.from_pretrained(model_id, **common)
        extra: dict[str, Any] = {"device_map": device_map} if device_map else {}
        model = AutoModelForImageTextToText.from_pretrained(model_id, dtype=dtype, **common, **extra)
    return processor, model


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
def _seeded(params: GenerationParams, device: Any) -> Iterator[None]:
    """When sampling, seed torch from ``params.seed`` without disturbing the caller's random state."""
    if not params.do_sample:
        yield
        return
    import torch

    devices = [device] if getattr(device, "type", str(device)).startswith("cuda") else []
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(params.seed)
        yield


def _check_local_path(model_id: str, spec: str) -> None:
    """A spec that is plainly a path (absolute, ``./``, ``~``, or more than one ``/``) must be a folder."""
    if not model_id:
        raise ModelSpecError(f"model spec '{spec}' names no model (expected hf:<hub id or folder>)")
    looks_local = model_id.startswith(("/", ".", "~")) or model_id.count("/") > 1
    path = Path(model_id).expanduser()
    if (looks_local or path.exists()) and not path.is_dir():
        raise ModelSpecError(f"cannot load model '{spec}': no such folder '{model_id}'")


def _resolved_revision(model: Any, model_id: str, revision: str | None) -> str | None:
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


def _batches(requests: Sequence[Request], size: int) -> Iterator[list[int]]:
    """Indices of requests grouped by equal generation params (first-seen order), at most ``size`` each."""
    groups: dict[GenerationParams, list[int]] = {}
    for index, request in enumerate(requests):
        groups.setdefault(request.params, []).append(index)
    for indices in groups.values():
        for start in range(0, len(indices), size):
            yield indices[start : start + size]


def _chat_message(message: Message) -> dict[str, Any]:
    """A Request message as a chat-template message: images as ``{"type": "image"}``, text as text."""
    content: list[dict[str, str]] = []
    for part in message.parts:
        if isinstance(part, ImagePart):
            content.append({"type": "image"})
        elif isinstance(part, TextPart):
            content.append({"type": "text", "text": part.text})
    return {"role": message.role, "content": content}


def _images_of(request: Request) -> list[Image.Image]:
    """The request's images in order, as RGB."""
    images = [part.image for message in request.messages for part in message.images]
    return [image if image.mode == "RGB" else image.convert("RGB") for image in images]


def _tokenizer_of(processor: Any) -> Any:
    """The processor's tokenizer (or the processor itself when it is a tokenizer)."""
    return getattr(processor, "tokenizer", processor)


def _eos_ids(model: Any) -> set[int]:
    """Token ids that end a generation."""
    eos = getattr(model.generation_config, "eos_token_id", None)
    if eos is None:
        return set()
    return {int(eos)} if isinstance(eos, int) else {int(token) for token in eos}


def _completion_length(tokens: list[int], eos: set[int]) -> int:
    """Generated tokens up to and including the first end-of-sequence token."""
    for position, token in enumerate(tokens):
        if token in eos:
            return position + 1
    return len(tokens)


def _one_line(exc: BaseException) -> str:
    """An exception's message on one line."""
    text = " ".join(str(exc).split())
    return text or type(exc).__name__
