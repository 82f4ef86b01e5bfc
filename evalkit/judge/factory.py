"""Judge specs to judges (README.md, "Scoring, protocols and judges"), and the judge's manifest entry.

``exact_matching`` is no judge (``None``); ``openai:<model>`` an
:class:`~evalkit.judge.openai.OpenAIJudge`; ``hf:<hub id or folder>`` a
:class:`~evalkit.judge.local.LocalJudge`. Every judge shares the on-disk cache
under ``<cache_dir>/judge/``. The environment is not read here: the CLI passes
the API key and base URL in.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from evalkit.errors import EvalkitError
from evalkit.judge.base import Judge
from evalkit.judge.cache import JudgeCache
from evalkit.judge.openai import DEFAULT_BASE_URL, OpenAIJudge, check_base_url
from evalkit.models.http_client import RetryPolicy

EXACT_MATCHING = "exact_matching"
KNOWN_JUDGES = "exact_matching, openai:<model>, hf:<hub id or folder>"


def build_judge(
    spec: str,
    *,
    cache_dir: Path,
    api_key: str | None,
    base_url: str | None,
    concurrency: int = 8,
    timeout: float = 60.0,
    max_retries: int | None = None,
) -> Judge | None:
    """The judge for ``spec``; an unknown or unusable spec is an :class:`EvalkitError` naming it.

    An ``hf:`` judge's model is loaded on its first uncached call, not here.
    """
    if spec == EXACT_MATCHING:
        return None
    backend, sep, target = spec.partition(":")
    if not sep or not target.strip() or backend not in ("openai", "hf"):
        raise EvalkitError(f"unknown judge '{spec}' (known: {KNOWN_JUDGES})")
    if backend == "openai":
        return _openai_judge(spec, target, cache_dir, api_key, base_url, concurrency, timeout, max_retries)
    from evalkit.judge.local import LocalJudge  # imports the hf: backend (and with it PIL)

    return LocalJudge(target, cache=JudgeCache.open(cache_dir))


def _openai_judge(
    spec: str,
    model: str,
    cache_dir: Path,
    api_key: str | None,
    base_url: str | None,
    concurrency: int,
    timeout: float,
    max_retries: int | None = None,
) -> OpenAIJudge:
    """An OpenAIJudge; the hosted API without a key, a bad URL or bad limits fail here, loudly."""
    url = base_url or DEFAULT_BASE_URL
    try:
        check_base_url(url)
    except ValueError as exc:
        raise EvalkitError(f"judge '{spec}': {exc}") from None
    if not api_key and url.rstrip("/") == DEFAULT_BASE_URL:
        raise EvalkitError(
            f"judge '{spec}': no API key for {DEFAULT_BASE_URL} (set OPENAI_API_KEY, or OPENAI_API_BASE"
            " for a local OpenAI-compatible server)"
        )
    try:
        return OpenAIJudge(
            model,
            cache=JudgeCache.open(cache_dir),
            base_url=url,
            api_key=api_key or "",
            timeout=timeout,
            retry=RetryPolicy(max_retries=max_retries) if max_retries is not None else None,
            concurrency=concurrency,
        )
    except ValueError as exc:  # bad limits or an unusable key; the message never holds the key
        raise EvalkitError(f"judge '{spec}': {exc}") from None


def describe_judge(judge: Judge | None) -> dict[str, Any]:
    """The manifest's judge entry: backend, model, resolved model, base URL without credentials,
    temperature policy and counters; never the API key."""
    if judge is None:
        return {"backend": EXACT_MATCHING, "model": None}
    describe = getattr(judge, "describe", None)
    if callable(describe):
        return dict(describe())
    return {"backend": type(judge).__name__, "model": judge.model}
