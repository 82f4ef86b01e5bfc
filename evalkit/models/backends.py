"""The ``openai:`` and ``vllm:`` model specs to adapters, for the registry to call.

``load_extra_backend(backend, target, options)`` is what
:func:`evalkit.models.registry.load_model` hands these two prefixes to. The
options object is the registry's ``ModelOptions``; the fields these backends
need beyond ``dtype`` and ``trust_remote_code`` are read when present, with
these defaults, so the options can grow without breaking anything here:

=================  ==========  ===============================================
field              default     used by
=================  ==========  ===============================================
``api_key``        None        openai (the config layer reads ``OPENAI_API_KEY``)
``base_url``       None        openai (``OPENAI_API_BASE``; None is api.openai.com)
``concurrency``    8           openai (requests in flight; also the batch size)
``timeout``        120.0       openai (seconds per HTTP request)
``image_detail``   ``high``    openai (``auto``, ``low`` or ``high``)
``price_input``    None        openai (price per 1M prompt tokens, for the cost)
``price_output``   None        openai (price per 1M completion tokens)
``seed``           0           vllm (the engine's seed)
``max_images``     8           vllm (``limit_mm_per_prompt`` for images)
``engine_options`` None        vllm (extra ``vllm.LLM`` keyword arguments)
=================  ==========  ===============================================

The environment is never read here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from evalkit.errors import ModelSpecError

if TYPE_CHECKING:
    from evalkit.models.base import ModelAdapter

EXTRA_BACKENDS = ("openai", "vllm")


def load_extra_backend(backend: str, target: str, options: Any) -> ModelAdapter:
    """The adapter for ``<backend>:<target>``; a bad or unloadable spec raises :class:`ModelSpecError`."""
    spec = f"{backend}:{target}"
    if not target.strip():
        raise ModelSpecError(f"model spec '{spec}' names no model (expected {backend}:<{_what(backend)}>)")
    if backend == "openai":
        return _load_openai(spec, target, options)
    if backend == "vllm":
        return _load_vllm(spec, target, options)
    raise ModelSpecError(f"model spec '{spec}': '{backend}' is not one of {', '.join(EXTRA_BACKENDS)}")


def _load_openai(spec: str, model: str, options: Any) -> ModelAdapter:
    """An :class:`~evalkit.models.openai.OpenAIAdapter`; the hosted API without a key fails here, loudly."""
    from evalkit.models.http_client import DEFAULT_BASE_URL
    from evalkit.models.openai import OpenAIAdapter

    api_key = _option(options, "api_key", None) or ""
    base_url = _option(options, "base_url", None) or DEFAULT_BASE_URL
    if not api_key and base_url.rstrip("/") == DEFAULT_BASE_URL:
        raise ModelSpecError(
            f"model spec '{spec}': no API key for {DEFAULT_BASE_URL} (set OPENAI_API_KEY, or OPENAI_API_BASE"
            " for a local OpenAI-compatible server)"
        )
    try:
        return OpenAIAdapter(
            model,
            name=spec,
            base_url=base_url,
            api_key=api_key,
            image_detail=_option(options, "image_detail", "high"),
            concurrency=_option(options, "concurrency", 8),
            timeout=_option(options, "timeout", 120.0),
            retry=_retry_policy(options),
            price_input=_option(options, "price_input", None),
            price_output=_option(options, "price_output", None),
        )
    except ValueError as exc:  # a bad URL, limit, price or key; the message never holds the key
        raise ModelSpecError(f"model spec '{spec}': {exc}") from None


def _load_vllm(spec: str, target: str, options: Any) -> ModelAdapter:
    """A :class:`~evalkit.models.vllm.VLLMAdapter` (``<id or folder>[@revision]``)."""
    from evalkit.models.registry import parse_hf_target
    from evalkit.models.vllm import DEFAULT_MAX_IMAGES, VLLMAdapter

    model_id, revision = parse_hf_target(target)
    return VLLMAdapter.load(
        model_id,
        name=spec,
        revision=revision,
        dtype=_option(options, "dtype", "auto"),
        trust_remote_code=bool(_option(options, "trust_remote_code", False)),
        max_images=_option(options, "max_images", DEFAULT_MAX_IMAGES),
        seed=_option(options, "seed", 0),
        engine_options=_option(options, "engine_options", None),
    )


def _retry_policy(options: Any) -> Any:
    """A retry policy with the caller's ``max_retries``, or None for the default."""
    from evalkit.models.http_client import RetryPolicy

    retries = _option(options, "max_retries", None)
    return None if retries is None else RetryPolicy(max_retries=retries)


def _option(options: Any, field: str, default: Any) -> Any:
    """``options.<field>``, or ``default`` when the options have no such field or it is None."""
    value = getattr(options, field, None)
    return default if value is None else value


def _what(backend: str) -> str:
    return "model" if backend == "openai" else "hub id or folder"
