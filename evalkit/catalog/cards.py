"""The benchmark catalog: the declarative cards in ``benchmarks/`` loaded into specs.

A card is a TOML file. ``_defaults.toml`` holds each protocol's default
decoding; a card may ``extends`` another card (its test split, say) and
override fields. Inside a card, ``protocols.vlmevalkit`` only lists what
differs from ``protocols.paper``; a source's ``columns`` only what differs from
the card's top-level ``columns``. Every field is validated: a missing or unknown
field is a :class:`~evalkit.errors.CatalogError` naming the card and the field.
"""

from __future__ import annotations

import functools
import importlib.util
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import evalkit
from evalkit.catalog.schema import build_spec, deep_merge
from evalkit.catalog.spec import BenchmarkSpec
from evalkit.errors import CatalogError
from evalkit.suggestions import did_you_mean, nearest

DEFAULTS_CARD = "_defaults"


def cards_dir() -> Path:
    """The folder of cards: a checkout's ``benchmarks/`` beside ``evalkit/`` (installed editable or not), else the
    copy an installed wheel ships as the data package ``evalkit.benchmarks``."""
    checkout = Path(evalkit.__file__).resolve().parents[1] / "benchmarks"
    if (checkout / f"{DEFAULTS_CARD}.toml").is_file():
        return checkout
    spec = importlib.util.find_spec("evalkit.benchmarks")
    locations = list(spec.submodule_search_locations or []) if spec is not None else []
    if not locations:
        raise CatalogError("no benchmark cards: neither a checkout's benchmarks/ nor the package's evalkit.benchmarks")
    return Path(locations[0])


def _read_card(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except tomllib.TOMLDecodeError as exc:
        raise CatalogError(f"card {path.name}: not valid TOML: {exc}") from exc
    except OSError as exc:
        raise CatalogError(f"card {path.name}: cannot read: {exc.strerror or exc}") from exc


def _resolve_extends(name: str, raw: Mapping[str, dict[str, Any]], seen: tuple[str, ...] = ()) -> dict[str, Any]:
    card = raw[name]
    parent = card.get("extends")
    if parent is None:
        return dict(card)
    if parent not in raw:
        raise CatalogError(f"card {name}.toml: field 'extends' names unknown card '{parent}'")
    if parent in seen:
        raise CatalogError(f"card {name}.toml: field 'extends' makes a cycle through '{parent}'")
    inherited = _resolve_extends(parent, raw, (*seen, name))
    inherited.pop("aliases", None)
    child = {key: value for key, value in card.items() if key != "extends"}
    return deep_merge(inherited, child)


class Catalog:
    """All cards, looked up by canonical name (case-insensitive) or lmms-eval alias."""

    def __init__(self, specs: Mapping[str, BenchmarkSpec]) -> None:
        self._specs = dict(specs)
        self._lookup: dict[str, str] = {}
        for spec in self._specs.values():
            for key in (spec.name, *spec.aliases):
                folded = key.casefold()
                owner = self._lookup.get(folded)
                if owner is not None and owner != spec.name:
                    raise CatalogError(f"card {spec.name}.toml: alias '{key}' is already used by card {owner}")
                self._lookup[folded] = spec.name

    @classmethod
    def from_directory(cls, folder: Path) -> Catalog:
        paths = sorted(folder.glob("*.toml"))
        raw = {path.stem: _read_card(path) for path in paths}
        defaults = raw.pop(DEFAULTS_CARD, {})
        specs: dict[str, BenchmarkSpec] = {}
        # Parents first, so a bad inherited field is reported against the card that wrote it.
        for stem in sorted(raw, key=lambda name: "extends" in raw[name]):
            card = _resolve_extends(stem, raw)
            spec = build_spec(stem, card, defaults, str(folder / f"{stem}.toml"))
            specs[spec.name] = spec
        if not specs:
            raise CatalogError(f"no benchmark cards found in {folder}")
        return cls({name: specs[name] for name in sorted(specs, key=str.casefold)})

    @property
    def names(self) -> list[str]:
        return list(self._specs)

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self._specs.values())

    def __len__(self) -> int:
        return len(self._specs)

    def get(self, name: str) -> BenchmarkSpec:
        """The spec for ``name`` (canonical or alias, any case); an unknown name is a CatalogError."""
        canonical = self._lookup.get(name.strip().casefold())
        if canonical is None:
            close = nearest(name.strip(), self._specs) or nearest(name.strip(), self._lookup)
            hint = did_you_mean(self._lookup[close.casefold()] if close else None)
            raise CatalogError(f"unknown benchmark '{name}'{hint} (see 'evalkit list benchmarks')")
        return self._specs[canonical]

    def resolve(self, names: str) -> list[BenchmarkSpec]:
        """Specs for a comma-separated list, in order, without duplicates."""
        specs: list[BenchmarkSpec] = []
        for name in (part for part in names.split(",") if part.strip()):
            spec = self.get(name)
            if spec not in specs:
                specs.append(spec)
        if not specs:
            raise CatalogError("--benchmarks names no benchmark")
        return specs


@functools.cache
def load_catalog() -> Catalog:
    """The catalog shipped with the package (parsed once per process)."""
    return Catalog.from_directory(cards_dir())
