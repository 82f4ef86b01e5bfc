"""Model specs to adapters, through a registry that every backend adds itself to.

A backend is one module of :mod:`evalkit.models` that defines ``BACKEND = Backend(...)``: its spec prefix, a
line for ``evalkit list models``, its own options (a frozen dataclass: what ``--model-args key=value,...``
may set, validated here), a check that runs before any work (nothing loaded, nothing written, nothing
downloaded) and its loader. The registry finds the backends by importing the package's modules, all of them
light (torch and transformers are imported only when a model loads), so adding a backend is adding one module.
"""

from __future__ import annotations

import dataclasses
import importlib
import pkgutil
import re
import types
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from evalkit.config import Environment, ModelOptions
from evalkit.errors import ModelSpecError
from evalkit.models.base import ModelAdapter
from evalkit.suggestions import did_you_mean, nearest

TRUE = frozenset({"1", "true", "yes", "on"})
FALSE = frozenset({"0", "false", "no", "off"})


@dataclass(frozen=True)
class NoOptions:
    """The options of a backend that has none of its own."""


@dataclass(frozen=True)
class LoadRequest:
    """What a backend's check and loader receive: the spec, its target (what follows ``prefix:``), the run's
    model options and the environment (cache folder, API endpoint and key)."""

    spec: str
    target: str
    options: ModelOptions
    environment: Environment = field(repr=False)


@dataclass(frozen=True)
class Placement:
    """Where and in what precision a model runs, as the backend resolves the request (``auto`` decided): the
    dtype's name (``float32``) and the device type (``cpu``, ``cuda``: the index is left out, so ranks and
    machines with another GPU number agree). None where it does not apply (an API model) or is the engine's."""

    dtype: str | None
    device: str | None


@dataclass(frozen=True)
class Backend:
    """One backend, as its module registers it. ``placement`` resolves ``--dtype`` / ``--device`` without
    loading anything; a backend without one records the request as given."""

    name: str
    usage: str
    short: str
    summary: str
    load: Callable[[LoadRequest, Any], ModelAdapter]
    options: type = NoOptions
    check: Callable[[LoadRequest, Any], None] | None = None
    #: The spec is the backend's name alone (``tiny-random``), not ``name:target``.
    bare: bool = False
    placement: Callable[[LoadRequest, Any], Placement] | None = None


@cache
def backends() -> Mapping[str, Backend]:
    """Every registered backend, ``name:target`` ones first, each group by name."""
    import evalkit.models as package

    found: dict[str, Backend] = {}
    for info in pkgutil.iter_modules(package.__path__):
        backend = getattr(importlib.import_module(f"{package.__name__}.{info.name}"), "BACKEND", None)
        if isinstance(backend, Backend):
            found[backend.name] = backend
    return types.MappingProxyType(dict(sorted(found.items(), key=lambda item: (item[1].bare, item[0]))))


def known_specs() -> str:
    """The spec forms, for messages: ``hf:<id>, internvl:<id>, …``."""
    return ", ".join(backend.short for backend in backends().values())


def list_rows() -> list[tuple[str, str]]:
    """(usage, summary and ``--model-args`` keys) per backend, for ``evalkit list models``."""
    rows = []
    for backend in backends().values():
        keys = [item.name for item in dataclasses.fields(backend.options)]
        rows.append((backend.usage, backend.summary + (f" (--model-args: {', '.join(keys)})" if keys else "")))
    return rows


def find_backend(spec: str) -> tuple[Backend, str]:
    """The backend of ``spec`` and its target; an unknown spec is a :class:`ModelSpecError`."""
    table = backends()
    if spec in table and table[spec].bare:
        return table[spec], ""
    name, sep, target = spec.partition(":")
    backend = table.get(name) if sep else None
    if backend is None or backend.bare:
        hint = did_you_mean(suggest_spec(spec))
        raise ModelSpecError(f"unknown model spec '{spec}'{hint} (known: {known_specs()})")
    return backend, target


#: Names people give a backend that are not its prefix.
PREFIX_HABITS = {"huggingface": "hf", "transformers": "hf", "hf_hub": "hf", "azure": "openai", "gpt": "openai"}


def suggest_spec(spec: str) -> str | None:
    """The spec ``spec`` most likely meant: a hub id without ``hf:``, an OpenAI model without ``openai:``
    (``gpt4:o`` → ``openai:gpt-4o``), a misspelt prefix (``hff:x`` → ``hf:x``) or bare name."""
    table = backends()
    name, sep, target = spec.partition(":")
    if re.match(r"(?i)gpt-?\d|o\d\b|chatgpt", spec):
        return "openai:" + re.sub(r"(?i)^gpt-?(\d)", r"gpt-\1", spec.replace(":", ""))
    if not sep:
        bare = nearest(spec, [key for key, backend in table.items() if backend.bare])
        if bare is not None:
            return bare
        return f"hf:{spec}" if spec and ("/" in spec or Path(spec).expanduser().is_dir()) else None
    prefix = PREFIX_HABITS.get(name.casefold()) or nearest(name, [k for k, b in table.items() if not b.bare])
    return f"{prefix}:{target}" if prefix and target else None


def parse_model_args(text: str) -> dict[str, str]:
    """``key=value,key=value`` (lmms-eval's ``--model_args``) as a mapping; a pair without ``=`` is an error."""
    pairs: dict[str, str] = {}
    for item in (part.strip() for part in text.split(",")):
        if not item:
            continue
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ModelSpecError(f"--model-args: '{item}' is not key=value")
        pairs[key.strip()] = value.strip()
    return pairs


def backend_options(backend: Backend, args: Mapping[str, str], spec: str) -> Any:
    """``args`` as the backend's options dataclass; an unknown key or a bad value is a :class:`ModelSpecError`."""
    hints = typing.get_type_hints(backend.options)
    valid = [item.name for item in dataclasses.fields(backend.options)]
    for key in args:
        if key not in valid:
            raise ModelSpecError(f"model '{spec}': unknown --model-args key '{key}' (valid for {backend.name}: "
                                 f"{', '.join(valid) or 'none'})")
    try:
        return backend.options(**{key: _convert(value, hints[key], key) for key, value in args.items()})
    except (TypeError, ValueError) as exc:
        raise ModelSpecError(f"model '{spec}': {exc}") from None


def _convert(text: str, hint: Any, key: str) -> Any:
    """A ``--model-args`` value as the field's type (``str``, ``int``, ``float``, ``bool``, or one of them | None)."""
    kinds = [kind for kind in typing.get_args(hint) if kind is not type(None)] or [hint]
    if type(None) in typing.get_args(hint) and text.lower() in ("", "none", "null"):
        return None
    kind = kinds[0]
    if kind is bool:
        if text.lower() not in TRUE | FALSE:
            raise ValueError(f"--model-args {key} must be true or false, not '{text}'")
        return text.lower() in TRUE
    try:
        return kind(text)
    except ValueError:
        raise ValueError(f"--model-args {key} must be {getattr(kind, '__name__', kind)}, not '{text}'") from None


def _prepare(spec: str, options: ModelOptions, environment: Environment | None) -> tuple[Backend, LoadRequest, Any]:
    backend, target = find_backend(spec)
    request = LoadRequest(spec, target, options, environment or Environment.from_mapping({}))
    own = backend_options(backend, options.args, spec)
    if backend.check is not None:
        backend.check(request, own)
    return backend, request, own


def check_model(spec: str, options: ModelOptions | None = None, environment: Environment | None = None) -> None:
    """Everything that can be known about ``spec`` without loading it: a known backend, valid ``--model-args``
    and the backend's own check (a folder that exists, an API key, an installable engine, remote code that can
    run here). Raises :class:`ModelSpecError`; writes, loads and downloads nothing."""
    _prepare(spec, options or ModelOptions(), environment)


def resolve_placement(spec: str, options: ModelOptions | None = None,
                      environment: Environment | None = None) -> Placement:
    """The dtype and device ``spec`` would run with here, resolved by its backend; loads and downloads nothing.
    Raises :class:`ModelSpecError` as :func:`check_model` does, and for an unknown dtype."""
    options = options or ModelOptions()
    backend, request, own = _prepare(spec, options, environment)
    if backend.placement is None:
        return Placement(options.dtype, options.device)
    return backend.placement(request, own)


def load_model(spec: str, options: ModelOptions | None = None, environment: Environment | None = None) -> ModelAdapter:
    """The adapter for ``spec``; an unknown, invalid or unloadable spec raises :class:`ModelSpecError`."""
    backend, request, own = _prepare(spec, options or ModelOptions(), environment)
    return backend.load(request, own)
