"""The ``vllm:<hub id or folder>`` backend: the offline vLLM engine (an optional extra, CUDA only).

vLLM is imported when a model is loaded, never before; without it the spec fails
with a :class:`~evalkit.errors.ModelSpecError` that says how to install it. The
prompts are the ``hf:`` backend's: the model's own chat template, applied through
its transformers processor to the same chat messages (``{"type": "image"}`` parts),
so a request renders to the same text under both backends. One ``LLM.generate``
call takes a whole batch of ``{"prompt", "multi_modal_data": {"image": [...]}}``
inputs with one ``SamplingParams`` each (temperature 0 for greedy decoding); if
the call fails, each request is retried alone so one bad sample only fails itself.

vLLM's outputs are not bit-identical to ``hf:`` (other kernels, continuous
batching, its own sampler): numbers for a paper come from ``hf:`` or ``internvl:``.
"""

from __future__ import annotations

import hashlib
import importlib.util
from collections.abc import Mapping, Sequence
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from evalkit.catalog.spec import GenerationParams
from evalkit.errors import ModelSpecError
from evalkit.models.base import Capabilities, Generation, RenderedRequest, Request, Usage
from evalkit.models.hf_support import (
    DTYPES,
    chat_message,
    check_local_path,
    images_of,
    one_line,
    parse_hf_target,
    quiet_progress,
    tokenizer_of,
)
from evalkit.models.registry import Backend, LoadRequest, Placement

INSTALL_HINT = "vLLM is not installed; pip install 'evalkit[vllm]' (a CUDA machine is needed)"
DEFAULT_MAX_IMAGES = 8
MAX_BATCH_SIZE = 256
NOT_BIT_IDENTICAL = (
    "vLLM outputs are not bit-identical to hf: (other kernels, batching and sampler); "
    "use hf: or internvl: for paper numbers"
)


def import_vllm(spec: str) -> ModuleType:
    """The ``vllm`` module, or a :class:`ModelSpecError` saying how to install it."""
    try:
        import vllm
    except ImportError as exc:
        raise ModelSpecError(f"model spec '{spec}': {INSTALL_HINT}") from exc
    return vllm


class VLLMAdapter:
    """A vLLM engine and the model's processor, as a :class:`~evalkit.models.base.ModelAdapter`.

    Build one with :meth:`load`; the constructor takes objects already made
    (``vllm`` is the imported module, or a stand-in with ``SamplingParams``).
    """

    def __init__(
        self,
        name: str,
        llm: Any,
        processor: Any,
        vllm: ModuleType,
        *,
        source: str,
        revision: str | None = None,
        dtype: str = "bfloat16",
        seed: int = 0,
        max_images: int = DEFAULT_MAX_IMAGES,
        trust_remote_code: bool = False,
    ) -> None:
        self._name = name
        self.llm = llm
        self.processor = processor
        self.vllm = vllm
        self.source = source
        self.revision = revision
        self.dtype = dtype
        self.seed = seed
        self.max_images = max_images
        self.trust_remote_code = trust_remote_code

    @classmethod
    def load(
        cls,
        model_id: str,
        *,
        name: str | None = None,
        revision: str | None = None,
        dtype: str = "auto",
        trust_remote_code: bool = False,
        max_images: int = DEFAULT_MAX_IMAGES,
        seed: int = 0,
        engine_options: Mapping[str, Any] | None = None,
    ) -> VLLMAdapter:
        """Start the engine for ``model_id`` (a hub id or a folder); a failure is a :class:`ModelSpecError`.

        ``dtype`` ``auto`` is bfloat16, what ``hf:`` uses on a GPU. ``engine_options``
        go to ``vllm.LLM`` as they are (``tensor_parallel_size``, ``max_model_len``, …).
        """
        spec = name or f"vllm:{model_id}" + (f"@{revision}" if revision else "")
        vllm = import_vllm(spec)
        check_local_path(model_id, spec)
        resolved_dtype = _vllm_dtype(dtype, spec)
        if max_images < 1:
            raise ModelSpecError(f"model '{spec}': the image limit per prompt must be >= 1, not {max_images}")
        kwargs = engine_kwargs(model_id, revision, resolved_dtype, trust_remote_code, max_images, seed)
        kwargs.update(engine_options or {})
        try:
            processor = _load_processor(model_id, revision, trust_remote_code)
            llm = vllm.LLM(**kwargs)
        except Exception as exc:  # any loading failure names the spec
            raise ModelSpecError(f"cannot load model '{spec}': {one_line(exc)}") from exc
        return cls(
            spec,
            llm,
            processor,
            vllm,
            source=model_id,
            revision=revision,
            dtype=resolved_dtype,
            seed=seed,
            max_images=max_images,
            trust_remote_code=trust_remote_code,
        )

    @property
    def name(self) -> str:
        return self._name

    @property
    def capabilities(self) -> Capabilities:
        return Capabilities(max_batch_size=MAX_BATCH_SIZE, max_images_per_prompt=self.max_images, tiled=False)

    def describe(self) -> dict[str, object]:
        """Manifest facts: source, revision, dtype, seed, image limit, chat template, vLLM and transformers."""
        import transformers

        template = _chat_template(self.processor)
        return {
            "name": self.name,
            "backend": "vllm",
            "model": self.source,
            "revision": self.revision,
            "dtype": self.dtype,
            "seed": self.seed,
            "limit_mm_per_prompt": {"image": self.max_images},
            "trust_remote_code": self.trust_remote_code,
            "chat_template_sha256": hashlib.sha256(template.encode()).hexdigest() if template else None,
            "vllm": str(getattr(self.vllm, "__version__", "unknown")),
            "transformers": transformers.__version__,
            "note": NOT_BIT_IDENTICAL,
        }

    def prompt(self, request: Request) -> str:
        """The prompt text after the model's chat template, exactly as the ``hf:`` backend builds it."""
        messages = [chat_message(message) for message in request.messages]
        text = self.processor.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
        return str(text)

    def render(self, request: Request) -> RenderedRequest:
        """The prompt and the images handed to vLLM (vLLM's own processor resizes them)."""
        return RenderedRequest(prompt=self.prompt(request), images=tuple(images_of(request)))

    def engine_input(self, request: Request) -> dict[str, Any]:
        """``{"prompt": …, "multi_modal_data": {"image": [...]}}`` for ``LLM.generate`` (no images, no key)."""
        images = images_of(request)
        if len(images) > self.max_images:
            raise ValueError(
                f"{len(images)} images in one prompt, more than the engine's limit of {self.max_images}"
            )
        inputs: dict[str, Any] = {"prompt": self.prompt(request)}
        if images:
            inputs["multi_modal_data"] = {"image": images}
        return inputs

    def generate(self, requests: Sequence[Request]) -> list[Generation]:
        """One :class:`Generation` per request, in order, from one ``LLM.generate`` call when all goes well."""
        results: list[Generation | None] = [None] * len(requests)
        ready: list[tuple[int, dict[str, Any], Any]] = []
        for index, request in enumerate(requests):
            try:
                sampling = self.vllm.SamplingParams(**sampling_kwargs(request.params))
                ready.append((index, self.engine_input(request), sampling))
            except Exception as exc:  # an unusable request fails only itself
                results[index] = self._failed(request, exc)
        for index, generation in self._generate_robust(requests, ready):
            results[index] = generation
        return [generation if generation is not None else _missing() for generation in results]

    def _generate_robust(
        self, requests: Sequence[Request], ready: list[tuple[int, dict[str, Any], Any]]
    ) -> list[tuple[int, Generation]]:
        """Generate for all; if the call fails, each request alone, turning failures into errors."""
        if not ready:
            return []
        try:
            return list(zip([index for index, _, _ in ready], self._run(ready), strict=True))
        except Exception as exc:
            if len(ready) == 1:
                return [(ready[0][0], self._failed(requests[ready[0][0]], exc))]
        done = []
        for item in ready:
            try:
                done.append((item[0], self._run([item])[0]))
            except Exception as exc:
                done.append((item[0], self._failed(requests[item[0]], exc)))
        return done

    def _run(self, ready: list[tuple[int, dict[str, Any], Any]]) -> list[Generation]:
        """One ``LLM.generate`` call."""
        inputs = [engine_input for _, engine_input, _ in ready]
        outputs = self.llm.generate(inputs, [sampling for _, _, sampling in ready], use_tqdm=False)
        if len(outputs) != len(inputs):
            raise RuntimeError(f"vLLM returned {len(outputs)} outputs for {len(inputs)} inputs")
        pairs = zip(outputs, inputs, strict=True)
        return [_generation(output, engine_input["prompt"]) for output, engine_input in pairs]

    def _failed(self, request: Request, exc: Exception) -> Generation:
        """The error value for a request that could not be generated."""
        try:
            prompt = self.prompt(request)
        except Exception:  # the template itself may be what failed
            prompt = ""
        return Generation(text="", prompt=prompt, error=f"{type(exc).__name__}: {one_line(exc)}")


def sampling_kwargs(params: GenerationParams) -> dict[str, Any]:
    """``SamplingParams`` keyword arguments: temperature 0 when greedy, the sampling knobs only when sampling.

    A sampling request with temperature 0 samples at 1.0 (transformers' default);
    top_k 0 (no top-k) is vLLM's -1. Beam search is not offered: ``ValueError``.
    """
    if params.num_beams > 1:
        raise ValueError(f"beam search (num_beams={params.num_beams}) is not available in the vllm: backend")
    kwargs: dict[str, Any] = {
        "n": 1,
        "max_tokens": params.max_new_tokens,
        "min_tokens": params.min_new_tokens,
        "seed": params.seed,
    }
    if params.do_sample:
        kwargs.update(
            temperature=params.temperature if params.temperature > 0 else 1.0,
            top_p=params.top_p,
            top_k=params.top_k if params.top_k > 0 else -1,
        )
    else:
        kwargs["temperature"] = 0.0
    return kwargs


def engine_kwargs(
    model_id: str, revision: str | None, dtype: str, trust_remote_code: bool, max_images: int, seed: int
) -> dict[str, Any]:
    """Keyword arguments for ``vllm.LLM``."""
    kwargs: dict[str, Any] = {
        "model": model_id,
        "trust_remote_code": trust_remote_code,
        "limit_mm_per_prompt": {"image": max_images},
        "seed": seed,
        "dtype": dtype,
    }
    if revision:
        kwargs["revision"] = revision
    return kwargs


def _generation(output: Any, prompt: str) -> Generation:
    """A vLLM ``RequestOutput`` as a :class:`Generation` (first completion, token counts as usage)."""
    completion = output.outputs[0]
    usage = Usage(
        prompt_tokens=len(getattr(output, "prompt_token_ids", None) or ()),
        completion_tokens=len(getattr(completion, "token_ids", None) or ()),
    )
    return Generation(text=str(completion.text).strip(), prompt=prompt, usage=usage)


def _missing() -> Generation:
    return Generation(text="", prompt="", error="RuntimeError: no output for this request")


def _vllm_dtype(dtype: str, spec: str) -> str:
    """``auto`` is bfloat16 (as ``hf:`` on a GPU); otherwise one of :data:`DTYPES`."""
    if dtype == "auto":
        return "bfloat16"
    if dtype not in DTYPES:
        raise ModelSpecError(f"model '{spec}': unknown dtype '{dtype}' (known: auto, {', '.join(DTYPES)})")
    return dtype


def _load_processor(model_id: str, revision: str | None, trust_remote_code: bool) -> Any:
    """The model's transformers processor, whose chat template makes the prompts."""
    from transformers import AutoProcessor

    local = Path(model_id).expanduser().is_dir()
    with quiet_progress() if local else nullcontext():
        return AutoProcessor.from_pretrained(model_id, revision=revision, trust_remote_code=trust_remote_code)


def _chat_template(processor: Any) -> str | None:
    """The chat template in use: the processor's, else its tokenizer's."""
    for owner in (processor, tokenizer_of(processor)):
        template = getattr(owner, "chat_template", None)
        if isinstance(template, str):
            return template
    return None


@dataclass(frozen=True)
class VLLMOptions:
    """``--model-args`` of ``vllm:``: the image limit per prompt, and ``vllm.LLM``'s own knobs (unset keeps
    vLLM's default)."""

    max_images: int = DEFAULT_MAX_IMAGES
    tensor_parallel_size: int | None = None
    max_model_len: int | None = None
    gpu_memory_utilization: float | None = None

    def engine_options(self) -> dict[str, Any]:
        knobs = {"tensor_parallel_size": self.tensor_parallel_size, "max_model_len": self.max_model_len,
                 "gpu_memory_utilization": self.gpu_memory_utilization}
        return {key: value for key, value in knobs.items() if value is not None}


def _check(request: LoadRequest, options: VLLMOptions) -> None:
    """A target that names a model (and a folder, if it is a path), and vLLM installed."""
    if not request.target.strip():
        raise ModelSpecError(f"model spec '{request.spec}' names no model (expected vllm:<hub id or folder>)")
    check_local_path(parse_hf_target(request.target)[0], request.spec)
    if not _installed("vllm"):
        raise ModelSpecError(f"model spec '{request.spec}': {INSTALL_HINT}")


def _installed(module: str) -> bool:
    """Whether ``module`` can be imported, looked up without importing it (an imported one counts)."""
    try:
        return importlib.util.find_spec(module) is not None
    except ValueError:  # imported already, without a spec
        return True


def _load(request: LoadRequest, options: VLLMOptions) -> VLLMAdapter:
    model_id, revision = parse_hf_target(request.target)
    return VLLMAdapter.load(model_id, name=request.spec, revision=revision, dtype=request.options.dtype,
                            trust_remote_code=request.options.trust_remote_code, max_images=options.max_images,
                            seed=request.options.seed, engine_options=options.engine_options())


def _placement(request: LoadRequest, options: VLLMOptions) -> Placement:
    """The dtype vLLM is asked for; the device is vLLM's own choice (evalkit passes none)."""
    return Placement(_vllm_dtype(request.options.dtype, request.spec), None)


BACKEND = Backend(name="vllm", usage="vllm:<id or folder>[@revision]", short="vllm:<id>",
                  summary="vLLM's offline engine (optional extra: pip install 'evalkit[vllm]')", load=_load,
                  options=VLLMOptions, check=_check, placement=_placement)
