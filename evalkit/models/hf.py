"""The ``hf:`` backend: any transformers image-text-to-text model, run locally.

The model's own chat template (``processor.apply_chat_template``) turns a
:class:`~evalkit.models.base.Request` into the prompt; the processor expands the
image placeholders and prepares the pixels; ``model.generate`` runs one call per
batch of requests that share their :class:`~evalkit.catalog.spec.GenerationParams`, with
left padding. A batch that fails is retried one request at a time, so one bad
sample only fails itself.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evalkit.errors import ModelSpecError
from evalkit.models.base import (
    Capabilities,
    Generation,
    RenderedRequest,
    Request,
    Usage,
)
from evalkit.models.hf_support import (
    batches,
    chat_message,
    check_hub_reachable,
    check_local_path,
    completion_length,
    eos_ids,
    generate_kwargs,
    images_of,
    one_line,
    parse_hf_target,
    pixels_to_images,
    quiet_progress,
    resolve_device,
    resolve_dtype,
    resolved_revision,
    seeded,
    tile_limits,
    tokenizer_of,
    torch_placement,
)
from evalkit.models.registry import Backend, LoadRequest, Placement
from evalkit.models.transformers_compat import compat_facts, dtype_keyword, quiet_logging

MAX_BATCH_SIZE = 64


@dataclass(frozen=True)
class _Chunk:
    """Requests that share generation params, with their prompts and processor outputs (None if it failed)."""

    indices: list[int]
    batch: list[Request]
    prompts: list[str] | None
    inputs: Any


@dataclass(frozen=True)
class PreparedRequests:
    """What :meth:`HFAdapter.prepare` hands to :meth:`HFAdapter.generate_prepared`."""

    count: int
    chunks: list[_Chunk]


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
        tokenizer = tokenizer_of(processor)
        tokenizer.padding_side = "left"
        fallback = min(eos_ids(model), default=None)
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
        attn_implementation: str | None = None,
    ) -> HFAdapter:
        """Load ``model_id`` (a hub id or a local folder); a failure is a :class:`ModelSpecError`.

        ``attn_implementation`` goes to ``from_pretrained`` (``sdpa``, ``eager``, ``flash_attention_2``; None
        keeps the model's default)."""
        spec = name or f"hf:{model_id}" + (f"@{revision}" if revision else "")
        check_local_path(model_id, spec)
        torch_device, device_map = resolve_device(device)
        torch_dtype = resolve_dtype(dtype, torch_device, spec)
        try:
            processor, model = _load_pretrained(
                model_id, revision, torch_dtype, device_map, trust_remote_code, attn_implementation
            )
            if device_map is None:
                model = model.to(torch_device)
        except Exception as exc:  # any loading failure names the spec
            raise ModelSpecError(f"cannot load model '{spec}': {one_line(exc)}") from exc
        model.eval()
        resolved = resolved_revision(model, model_id, revision)
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
            "image_processor_class": type(getattr(self.processor, "image_processor", None)).__name__,
            "transformers": transformers.__version__,
            "transformers_compat": compat_facts(),
        }

    def prompt(self, request: Request) -> str:
        """The exact prompt text after the model's chat template, image placeholders included."""
        messages = [chat_message(message) for message in request.messages]
        text = self.processor.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
        return str(text)

    def render(self, request: Request) -> RenderedRequest:
        """The prompt and the images as the model sees them (the processor's pixels, de-normalised)."""
        prompt = self.prompt(request)
        images = images_of(request)
        if not images:
            return RenderedRequest(prompt=prompt, images=())
        inputs = self.processor(text=[prompt], images=images, return_tensors="pt", **self._tile_kwargs([request]))
        seen = pixels_to_images(inputs.get("pixel_values"), self.processor.image_processor)
        return RenderedRequest(prompt=prompt, images=tuple(seen) if seen is not None else tuple(images))

    def generate(self, requests: Sequence[Request]) -> list[Generation]:
        """One :class:`Generation` per request, in order; batches group requests with equal params."""
        return self.generate_prepared(self.prepare(requests))

    def prepare(self, requests: Sequence[Request]) -> PreparedRequests:
        """The CPU half of generation (chat template, tokenisation, image processing), safe to run in a
        worker thread ahead of :meth:`generate_prepared`. A chunk whose processing fails is left unprepared
        and handled request by request at generation time."""
        chunks = []
        for indices in batches(requests, MAX_BATCH_SIZE):
            batch = [requests[i] for i in indices]
            try:
                prompts, inputs = self._inputs(batch)
            except Exception:  # isolated per request in generate_prepared
                prompts, inputs = None, None
            chunks.append(_Chunk(indices, batch, prompts, inputs))
        return PreparedRequests(len(requests), chunks)

    def generate_prepared(self, prepared: object) -> list[Generation]:
        """Generate for what :meth:`prepare` made; a chunk that fails is retried one request at a time."""
        assert isinstance(prepared, PreparedRequests)
        results: list[Generation | None] = [None] * prepared.count
        for chunk in prepared.chunks:
            for index, generation in zip(chunk.indices, self._generate_chunk(chunk), strict=True):
                results[index] = generation
        return [generation for generation in results if generation is not None]

    def _generate_chunk(self, chunk: _Chunk) -> list[Generation]:
        if chunk.prompts is not None and chunk.inputs is not None:
            try:
                return self._run(chunk.batch, chunk.prompts, chunk.inputs)
            except Exception:  # fall through to one request at a time
                if len(chunk.batch) == 1:
                    return [self._generate_alone(chunk.batch[0])]
        return [self._generate_alone(request) for request in chunk.batch]

    def _generate_alone(self, request: Request) -> Generation:
        """One request on its own; a failure becomes its error value."""
        try:
            prompts, inputs = self._inputs([request])
            return self._run([request], prompts, inputs)[0]
        except Exception as exc:  # a failure becomes the sample's error value
            return self._failed(request, exc)

    def _failed(self, request: Request, exc: Exception) -> Generation:
        """The error value for a request that could not be generated."""
        try:
            prompt = self.prompt(request)
        except Exception:  # the template itself may be what failed
            prompt = ""
        return Generation(text="", prompt=prompt, error=f"{type(exc).__name__}: {one_line(exc)}")

    def _inputs(self, batch: list[Request]) -> tuple[list[str], Any]:
        """Prompts and processor outputs (on the CPU) for requests sharing their generation params."""
        prompts = [self.prompt(request) for request in batch]
        images = [image for request in batch for image in images_of(request)]
        inputs = self.processor(text=prompts, images=images or None, padding=True, return_tensors="pt",
                                **self._tile_kwargs(batch))
        return prompts, inputs

    def _tile_kwargs(self, batch: list[Request]) -> dict[str, int]:
        """The suite's max tiles for processors that tile (InternVL's ``max_patches``); nothing for the others."""
        limits = frozenset().union(*(tile_limits(request) for request in batch))
        image_processor = getattr(self.processor, "image_processor", None)
        if len(limits) == 1 and image_processor is not None and hasattr(image_processor, "max_patches"):
            return {"max_patches": next(iter(limits))}
        return {}

    def _run(self, batch: list[Request], prompts: list[str], inputs: Any) -> list[Generation]:
        """One ``model.generate`` call on prepared inputs."""
        import torch

        inputs = inputs.to(self.model.device)
        if "pixel_values" in inputs and inputs["pixel_values"].is_floating_point():
            inputs["pixel_values"] = inputs["pixel_values"].to(self.model.dtype)
        params = batch[0].params
        with torch.inference_mode(), seeded(params, self.model.device):
            output = self.model.generate(**inputs, **generate_kwargs(params, pad_token_id=self._pad_token_id))
        if output.shape[0] != len(batch):
            raise RuntimeError(f"generate returned {output.shape[0]} outputs for {len(batch)} inputs")
        prompt_length = inputs["input_ids"].shape[1]
        new_tokens = output[:, prompt_length:]
        tokenizer = tokenizer_of(self.processor)
        texts = tokenizer.batch_decode(new_tokens, skip_special_tokens=True)
        prompt_counts = inputs["attention_mask"].sum(dim=1).tolist()
        eos = eos_ids(self.model)
        return [
            Generation(
                text=text.strip(),
                prompt=prompt,
                usage=Usage(prompt_tokens=int(count), completion_tokens=completion_length(row, eos)),
            )
            for text, prompt, count, row in zip(
                texts, prompts, prompt_counts, new_tokens.tolist(), strict=True
            )
        ]

    def _chat_template(self) -> tuple[str | None, str | None]:
        """The chat template in use and where it comes from (``processor`` or ``tokenizer``)."""
        template = getattr(self.processor, "chat_template", None)
        if isinstance(template, str):
            return template, "processor"
        template = getattr(tokenizer_of(self.processor), "chat_template", None)
        if isinstance(template, str):
            return template, "tokenizer"
        return None, None


def _load_pretrained(
    model_id: str, revision: str | None, dtype: Any, device_map: str | None, trust_remote_code: bool,
    attn_implementation: str | None = None,
) -> tuple[Any, Any]:
    """``AutoProcessor`` and ``AutoModelForImageTextToText`` from a hub id or folder."""
    from transformers import AutoModelForImageTextToText, AutoProcessor

    common: dict[str, Any] = {"revision": revision, "trust_remote_code": trust_remote_code}
    local = Path(model_id).expanduser().is_dir()  # nothing to download: hide the loading bars
    with quiet_logging(), quiet_progress() if local else nullcontext():
        processor = AutoProcessor.from_pretrained(model_id, **common)
        extra: dict[str, Any] = {"device_map": device_map} if device_map else {}
        if attn_implementation is not None:
            extra["attn_implementation"] = attn_implementation
        model = AutoModelForImageTextToText.from_pretrained(model_id, **dtype_keyword(dtype), **common, **extra)
    return processor, model


@dataclass(frozen=True)
class HFOptions:
    """``--model-args`` of ``hf:``: ``attn_implementation`` as ``from_pretrained`` takes it (``sdpa``,
    ``eager``, ``flash_attention_2``; unset keeps the model's default)."""

    attn_implementation: str | None = None


def _check(request: LoadRequest, options: HFOptions) -> None:
    model_id, revision = parse_hf_target(request.target)
    check_local_path(model_id, request.spec)
    check_hub_reachable(model_id, revision, request.spec, offline=request.environment.offline)


def _load(request: LoadRequest, options: HFOptions) -> HFAdapter:
    model_id, revision = parse_hf_target(request.target)
    return HFAdapter.load(model_id, name=request.spec, revision=revision, device=request.options.device,
                          dtype=request.options.dtype, trust_remote_code=request.options.trust_remote_code,
                          attn_implementation=options.attn_implementation)


def _placement(request: LoadRequest, options: HFOptions) -> Placement:
    return Placement(*torch_placement(request.options.device, request.options.dtype, request.spec))


BACKEND = Backend(name="hf", usage="hf:<id or folder>[@revision]", short="hf:<id>",
                  summary="any transformers image-text-to-text model, run locally", load=_load, options=HFOptions,
                  check=_check, placement=_placement)
