"""Whether two runs ran a suite the same way: each side's configuration facts, and how they differ.

The facts come from the suite's record in ``manifest.json`` (card version, prompt version, max tiles, generation
settings, protocol, data checksum) and from its ``scores.json`` (card version, scoring protocol, metric, judge).
A fact both runs recorded and that differs is a :class:`FieldMismatch`: the suite is not compared.

A run made by ``evalkit import`` (``manifest.json`` names the tool under ``imported``) cannot know how the other
tool prompted and decoded: it records null prompt version, max tiles, generation settings and, for VLMEvalKit
prediction files, data checksum. Such a null is an :class:`UnknownField`, not a mismatch: the suite is compared
on what both sides recorded (always the card version, scoring protocol, metric and judge), and the output says
which facts were unknown. Between two evalkit runs a null is a fact like any other.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

DATA_CHECKSUM = "data_checksum"


@dataclass(frozen=True)
class FieldMismatch:
    """One configuration field that differs between the runs for a suite."""

    field: str
    base: Any
    candidate: Any


@dataclass(frozen=True)
class UnknownField:
    """A configuration field that ``side`` (``base`` or ``candidate``), imported from ``tool``, did not record."""

    field: str
    side: str
    tool: str


@dataclass(frozen=True)
class Side:
    """One run's view of a suite: its manifest entry (None if the manifest has none), its ``scores.json``, and
    the tool it was imported from (None for a run evalkit made)."""

    entry: Mapping[str, Any] | None
    scores: Mapping[str, Any]
    imported_from: str | None = None


@dataclass
class ConfigCheck:
    """The facts compared, the ones that differ and the ones an imported side left unknown."""

    compared: list[str] = field(default_factory=list)
    mismatches: list[FieldMismatch] = field(default_factory=list)
    unknown: list[UnknownField] = field(default_factory=list)
    #: False when one side recorded its data and the other did not (a VLMEvalKit prediction file): that side's
    #: sample hashes describe the file's rows, not the dataset's, so samples pair on the dataset index alone.
    hashes_comparable: bool = True


def imported_from(manifest: Mapping[str, Any]) -> str | None:
    """The tool an ``evalkit import`` run came from (``imported.tool`` in its manifest), else None."""
    imported = manifest.get("imported")
    tool = imported.get("tool") if isinstance(imported, Mapping) else None
    return str(tool) if tool else None


def _generation(entry: Mapping[str, Any]) -> Any:
    """The generation settings; the sampling seed is dropped under greedy decoding, where it changes nothing."""
    generation = entry.get("generation")
    if isinstance(generation, dict) and not generation.get("do_sample", False):
        return {key: value for key, value in generation.items() if key != "seed"}
    return generation


def configuration(entry: Mapping[str, Any] | None, scores: Mapping[str, Any]) -> dict[str, Any]:
    """The facts two runs must share for a suite to be compared (manifest entry plus scores.json)."""
    facts: dict[str, Any] = {"card_version": scores.get("card_version", (entry or {}).get("card_version"))}
    if entry is not None:
        data = entry.get("data")
        checksum = entry.get(DATA_CHECKSUM)
        if checksum is None and isinstance(data, dict):
            checksum = data.get("checksum")
        facts.update({"prompt_version": entry.get("prompt_version"), "max_tiles": entry.get("max_tiles"),
                      "generation": _generation(entry), "protocol": entry.get("protocol"), DATA_CHECKSUM: checksum})
    judge = scores.get("judge")
    facts.update({"scoring_protocol": scores.get("protocol"), "metric": scores.get("metric"),
                  "judge": judge.get("spec") if isinstance(judge, dict) else judge})
    return facts


def _unknown_side(name: str, base_value: Any, candidate_value: Any, base: Side,
                  candidate: Side) -> UnknownField | None:
    """The imported side that left ``name`` null while the other recorded it, if that is why they differ."""
    if base_value is None and base.imported_from is not None:
        return UnknownField(name, "base", base.imported_from)
    if candidate_value is None and candidate.imported_from is not None:
        return UnknownField(name, "candidate", candidate.imported_from)
    return None


def check_configuration(base: Side, candidate: Side) -> ConfigCheck:
    """Every configuration fact, compared: equal, unknown on an imported side, or a mismatch.

    A manifest entry present in only one run is itself a mismatch (then only ``scores.json`` is compared).
    """
    check = ConfigCheck()
    base_entry, candidate_entry = base.entry, candidate.entry
    if (base_entry is None) != (candidate_entry is None):
        check.mismatches.append(FieldMismatch("manifest entry", "present" if base_entry is not None else "missing",
                                              "present" if candidate_entry is not None else "missing"))
        base_entry = candidate_entry = None
    base_facts = configuration(base_entry, base.scores)
    candidate_facts = configuration(candidate_entry, candidate.scores)
    for name, value in base_facts.items():
        other = candidate_facts.get(name)
        if other == value:
            if value is None:  # neither recorded it: unknown on each imported side, equal between evalkit runs
                check.unknown += [UnknownField(name, label, side.imported_from) for label, side
                                  in (("base", base), ("candidate", candidate)) if side.imported_from is not None]
            if value is not None or (base.imported_from is None and candidate.imported_from is None):
                check.compared.append(name)
            continue
        unknown = _unknown_side(name, value, other, base, candidate)
        if unknown is None:
            check.mismatches.append(FieldMismatch(name, value, other))
            continue
        check.unknown.append(unknown)
        if name == DATA_CHECKSUM:
            check.hashes_comparable = False
    return check


def unknown_notes(check: ConfigCheck) -> list[str]:
    """One note per side that left facts unknown, and the facts compared instead."""
    notes = []
    for side in ("base", "candidate"):
        fields = [item for item in check.unknown if item.side == side]
        if fields:
            notes.append(f"not recorded by the {side} (imported from {fields[0].tool}), so not checked: "
                         + ", ".join(item.field for item in fields))
    if notes:
        notes.append("compared on what both runs recorded: " + ", ".join(check.compared))
    return notes
