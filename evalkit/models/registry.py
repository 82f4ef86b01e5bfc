"""Model specs to adapters: ``hf:<id or folder>[@revision]``, ``internvl:<id or folder>[@revision]``,
``tiny-random``, and the backends to come.

Nothing heavy is imported here: transformers and torch are loaded only when a
model is.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from evalkit.errors import ModelSpecError
from evalkit.models.base import ModelAdapter

#: (spec prefix, description) rows for ``evalkit list models``.
KNOWN_BACKENDS: tuple[tuple[str, str], ...] = (
    ("hf:<id or folder>[@revision]", "any transformers image-text-to-text model, run locally"),
    ("internvl:<id or folder>[@revision]",
     "InternVL-Chat checkpoints through their own code, dynamic tiling (needs --trust-remote-code)"),
    ("openai:<model>", "an OpenAI-compatible chat API: GPT-4V-style models or a local server (OPENAI_API_KEY, "
                       "OPENAI_API_BASE)"),
    ("vllm:<id or folder>[@revision]", "vLLM's offline engine (optional extra: pip install 'evalkit[vllm]')"),
    ("tiny-random", "a tiny random-weight LLaVA model built locally, for tests and demos"),
)

KNOWN_SPECS = "hf:<id>, internvl:<id>, openai:<model>, vllm:<id>, tiny-random"
EXTRA_BACKENDS = ("openai", "vllm")
TINY_RANDOM = "tiny-random"


@dataclass(frozen=True)
class ModelOptions:
    """How to load a model.

    ``device``: ``auto`` (cuda if available, else cpu), ``auto-map`` (shard with
    ``device_map="auto"``), or a torch device such as ``cpu`` or ``cuda:1``.
    ``dtype``: ``auto`` (bfloat16 on cuda, float32 on cpu), ``float32``,
    ``float16`` or ``bfloat16``. ``cache_dir``: where evalkit keeps the models it
    builds itself (``tiny-random``); hub downloads stay in the Hugging Face cache.
    ``api_key``, ``base_url``, ``concurrency`` and the prices (per million tokens) are for ``openai:``.
    """

    device: str = "auto"
    dtype: str = "auto"
    trust_remote_code: bool = False
    cache_dir: Path | None = None
    api_key: str | None = field(default=None, repr=False)
    base_url: str | None = None
    concurrency: int | None = None
    price_input: float | None = None
    price_output: float | None = None
    seed: int = 0
    timeout: float | None = None
    max_retries: int | None = None


def load_model(spec: str, options: ModelOptions) -> ModelAdapter:
    """The adapter for ``spec``; an unknown or unloadable spec raises :class:`ModelSpecError`."""
    from evalkit.models.hf import HFAdapter

    if spec == TINY_RANDOM:
        return _load_tiny_random(options)
    backend, sep, rest = spec.partition(":")
    if sep and backend == "hf":
        model_id, revision = parse_hf_target(rest)
        return HFAdapter.load(
            model_id,
            name=spec,
            revision=revision,
            device=options.device,
            dtype=options.dtype,
            trust_remote_code=options.trust_remote_code,
        )
    if sep and backend == "internvl":
        return _load_internvl(spec, rest, options)
    if sep and backend in EXTRA_BACKENDS:
        from evalkit.models.backends import load_extra_backend

        return load_extra_backend(backend, rest, options)
    raise ModelSpecError(f"unknown model spec '{spec}' (known: {KNOWN_SPECS})")


def check_model(spec: str, options: ModelOptions) -> None:
    """What can be known about ``spec`` without loading anything or writing anything: a known backend, and for
    checkpoint code, the permission and an environment that can run it. Raises :class:`ModelSpecError`."""
    backend, sep, target = spec.partition(":")
    if spec != TINY_RANDOM and (not sep or backend not in ("hf", "internvl", *EXTRA_BACKENDS)):
        raise ModelSpecError(f"unknown model spec '{spec}' (known: {KNOWN_SPECS})")
    if backend == "internvl":
        from evalkit.models.internvl import check_environment

        check_environment(spec, parse_hf_target(target)[0], trust_remote_code=options.trust_remote_code)


def parse_hf_target(target: str) -> tuple[str, str | None]:
    """Split ``<id or folder>[@revision]``; an existing folder, or an ``@`` inside a path, is no revision."""
    if Path(target).expanduser().is_dir():
        return target, None
    model_id, sep, revision = target.rpartition("@")
    if not sep or not model_id or not revision or "/" in revision:
        return target, None
    return model_id, revision


def _load_internvl(spec: str, target: str, options: ModelOptions) -> ModelAdapter:
    """``internvl:<id or folder>[@revision]``: only with ``trust_remote_code``, as the checkpoint's code runs."""
    from evalkit.models.internvl import InternVLAdapter

    model_id, revision = parse_hf_target(target)
    return InternVLAdapter.load(
        model_id,
        name=spec,
        revision=revision,
        device=options.device,
        dtype=options.dtype,
        trust_remote_code=options.trust_remote_code,
    )


def _load_tiny_random(options: ModelOptions) -> ModelAdapter:
    """Build ``tiny-random`` once into the cache, then load it like any folder (cpu, float32 by default)."""
    from evalkit.models.hf import HFAdapter
    from evalkit.models.tiny import ensure_tiny_random

    try:
        folder = ensure_tiny_random(options.cache_dir)
    except OSError as exc:
        raise ModelSpecError(f"model spec '{TINY_RANDOM}': cannot build it: {exc}") from exc
    return HFAdapter.load(
        str(folder),
        name=TINY_RANDOM,
        device="cpu" if options.device == "auto" else options.device,
        dtype="float32" if options.dtype == "auto" else options.dtype,
        trust_remote_code=False,
    )
