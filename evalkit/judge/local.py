"""The ``hf:<hub id or folder>`` judge: a local transformers chat model, text-only prompts.

The model is loaded through evalkit's ``hf:`` backend (:meth:`HFAdapter.load`,
the processor's chat template); a text-only model that is no image-text-to-text
model falls back to ``AutoTokenizer`` + ``AutoModelForCausalLM`` with the same
device, dtype and revision handling. Loading waits for the first call that the
cache cannot answer, so a re-score from the cache never loads the model, and a
judge does not sit in memory beside the model under evaluation. Temperature 0 is
greedy; above 0 it samples from a generator seeded with ``seed`` (the same seed
for every call, so a call's reply does not depend on the calls before it). One
lock serialises generation: threads may call :meth:`LocalJudge.complete` at once.
"""

from __future__ import annotations

import threading
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, cast

from evalkit.catalog.spec import GenerationParams
from evalkit.errors import ModelSpecError
from evalkit.judge.base import JudgeError
from evalkit.judge.cache import Answer, CachedJudge, JudgeCache, JudgeRequest
from evalkit.models.base import Message, Request, Role, TextPart
from evalkit.models.hf import HFAdapter
from evalkit.models.hf_support import (
    check_local_path,
    completion_length,
    eos_ids,
    one_line,
    parse_hf_target,
    quiet_progress,
    resolve_device,
    resolve_dtype,
    resolved_revision,
    seeded,
)
from evalkit.models.transformers_compat import dtype_keyword


@dataclass(frozen=True)
class LoadOptions:
    """Where and how to load the judge model (the ``hf:`` backend's meanings)."""

    device: str = "auto"
    dtype: str = "auto"
    trust_remote_code: bool = False


class _Backend(Protocol):
    """A loaded model that answers one text-only chat."""

    loader: str
    revision: str | None
    device: str

    def answer(self, request: JudgeRequest, seed: int) -> Answer: ...


class LocalJudge(CachedJudge):
    """A local transformers model as a judge. Thread-safe; generation runs one call at a time."""

    backend = "hf"

    def __init__(
        self, target: str, *, cache: JudgeCache, options: LoadOptions | None = None, seed: int = 0
    ) -> None:
        super().__init__(target, cache)
        self.model_id, self.revision = parse_hf_target(target)
        self.options = options or LoadOptions()
        self.seed = seed
        check_local_path(self.model_id, self.cache_model)
        self._loaded: _Backend | None = None
        self._load_error: str | None = None
        self._lock = threading.Lock()

    def load(self) -> None:
        """Load the model now (it is otherwise loaded on the first cache miss); a failure is a ModelSpecError."""
        with self._lock:
            self._backend()

    def describe(self) -> dict[str, Any]:
        """Manifest facts: the model's source and resolved revision, loader, device, dtype, seed."""
        facts = super().describe()
        loaded = self._loaded
        facts.update(
            source=self.model_id,
            revision=loaded.revision if loaded else self.revision,
            loader=loaded.loader if loaded else None,
            device=loaded.device if loaded else self.options.device,
            dtype=self.options.dtype,
            seed=self.seed,
        )
        return facts

    def _answer(self, request: JudgeRequest) -> Answer:
        """Generate under the lock; load and generation failures become :class:`JudgeError`."""
        with self._lock:
            try:
                backend = self._backend()
            except ModelSpecError as exc:
                raise JudgeError(str(exc)) from exc
            self.counters.add("requests")
            try:
                return backend.answer(request, self.seed)
            except JudgeError:
                raise
            except Exception as exc:  # any generation failure is this call's error
                raise JudgeError(f"judge '{self.cache_model}': generation failed: {one_line(exc)}") from exc

    def _backend(self) -> _Backend:
        """The loaded backend, loading it once; a failed load is remembered, not retried. Hold the lock."""
        if self._loaded is not None:
            return self._loaded
        if self._load_error is not None:
            raise ModelSpecError(self._load_error)
        try:
            self._loaded = _load(self.model_id, self.revision, self.cache_model, self.options)
        except ModelSpecError as exc:
            self._load_error = str(exc)
            raise
        return self._loaded


def _load(model_id: str, revision: str | None, spec: str, options: LoadOptions) -> _Backend:
    """The image-text-to-text path first, then a causal LM; both failing is one ModelSpecError."""
    try:
        adapter = HFAdapter.load(
            model_id,
            name=spec,
            revision=revision,
            device=options.device,
            dtype=options.dtype,
            trust_remote_code=options.trust_remote_code,
        )
        return _AdapterBackend(adapter)
    except ModelSpecError as first:
        try:
            return _CausalBackend.load(model_id, revision, spec, options)
        except ModelSpecError as second:
            reasons = [str(exc).removeprefix(f"cannot load model '{spec}': ") for exc in (first, second)]
            raise ModelSpecError(
                f"judge '{spec}': cannot load it as an image-text-to-text model ({reasons[0]})"
                f" nor as a causal LM ({reasons[1]})"
            ) from second


class _AdapterBackend:
    """An image-text-to-text model through :class:`HFAdapter`, fed text parts only."""

    loader = "image-text-to-text"

    def __init__(self, adapter: HFAdapter) -> None:
        self.adapter = adapter
        self.revision = adapter.revision
        self.device = adapter.device

    def answer(self, request: JudgeRequest, seed: int) -> Answer:
        messages = tuple(Message(cast(Role, role), (TextPart(content),)) for role, content in request.messages)
        (generation,) = self.adapter.generate([Request("judge", messages, _params(request, seed))])
        if generation.error:
            raise JudgeError(f"judge '{self.adapter.name}': generation failed: {generation.error}")
        return Answer(
            text=generation.text,
            resolved_model=_resolved_name(self.adapter.source, self.revision),
            prompt_tokens=generation.usage.prompt_tokens,
            completion_tokens=generation.usage.completion_tokens,
        )


class _CausalBackend:
    """A text-only causal LM with its tokenizer's chat template."""

    loader = "causal-lm"

    def __init__(self, model: Any, tokenizer: Any, *, source: str, revision: str | None) -> None:
        self.model = model
        self.tokenizer = tokenizer
        self.source = source
        self.revision = revision
        self.device = str(model.device)
        pad = tokenizer.pad_token_id
        self._pad_token_id = pad if pad is not None else min(eos_ids(model), default=None)

    @classmethod
    def load(cls, model_id: str, revision: str | None, spec: str, options: LoadOptions) -> _CausalBackend:
        """``AutoTokenizer`` + ``AutoModelForCausalLM`` with the ``hf:`` backend's device and dtype rules."""
        from transformers import AutoModelForCausalLM, AutoTokenizer

        torch_device, device_map = resolve_device(options.device)
        dtype = resolve_dtype(options.dtype, torch_device, spec)
        common: dict[str, Any] = {"revision": revision, "trust_remote_code": options.trust_remote_code}
        extra: dict[str, Any] = {"device_map": device_map} if device_map else {}
        local = Path(model_id).expanduser().is_dir()
        try:
            with quiet_progress() if local else nullcontext():
                tokenizer = AutoTokenizer.from_pretrained(model_id, **common)
                model: Any = AutoModelForCausalLM.from_pretrained(model_id, **dtype_keyword(dtype), **common,
                                                                  **extra)
            if device_map is None:
                model = model.to(torch_device)
        except Exception as exc:  # any loading failure names the spec
            raise ModelSpecError(f"cannot load model '{spec}': {one_line(exc)}") from exc
        if not isinstance(getattr(tokenizer, "chat_template", None), str):
            raise ModelSpecError(f"cannot use model '{spec}' as a judge: its tokenizer has no chat template")
        model.eval()
        resolved = resolved_revision(model, model_id, revision)
        return cls(model, tokenizer, source=model_id, revision=resolved)

    def answer(self, request: JudgeRequest, seed: int) -> Answer:
        import torch

        prompt = self.tokenizer.apply_chat_template(
            request.chat_messages(), tokenize=False, add_generation_prompt=True
        )
        inputs = self.tokenizer(str(prompt), return_tensors="pt", add_special_tokens=False).to(self.model.device)
        params = _params(request, seed)
        with torch.inference_mode(), seeded(params, self.model.device):
            output = self.model.generate(**inputs, **self._generate_kwargs(params))
        prompt_length = inputs["input_ids"].shape[1]
        new_tokens = output[0, prompt_length:].tolist()
        text = self.tokenizer.decode(new_tokens, skip_special_tokens=True)
        return Answer(
            text=str(text).strip(),
            resolved_model=_resolved_name(self.source, self.revision),
            prompt_tokens=int(prompt_length),
            completion_tokens=completion_length(new_tokens, eos_ids(self.model)),
        )

    def _generate_kwargs(self, params: GenerationParams) -> dict[str, Any]:
        """Greedy at temperature 0; otherwise plain sampling at that temperature (no top-k, no top-p)."""
        kwargs: dict[str, Any] = {
            "max_new_tokens": params.max_new_tokens,
            "do_sample": params.do_sample,
            "num_beams": 1,
            "pad_token_id": self._pad_token_id,
        }
        if params.do_sample:
            kwargs.update(temperature=params.temperature, top_k=params.top_k, top_p=params.top_p)
        return kwargs


def _params(request: JudgeRequest, seed: int) -> GenerationParams:
    """Greedy at temperature 0, else plain sampling at that temperature (top-k off, top-p 1), seeded."""
    return GenerationParams(
        max_new_tokens=request.max_tokens,
        do_sample=request.temperature > 0,
        temperature=request.temperature,
        seed=seed,
    )


def _resolved_name(source: str, revision: str | None) -> str:
    """``source@revision`` when the revision is known."""
    return f"{source}@{revision}" if revision else source
