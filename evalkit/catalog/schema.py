"""Validation of one card's fields and their conversion into a :class:`BenchmarkSpec`.

The schema is written as data (field → expected type, required or not) so an
error can always name the card and the dotted field at fault.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from evalkit.catalog.spec import (
    CELL_RULES,
    CROSS_CHECK_ROWS,
    MATCH_KINDS,
    PROTOCOLS,
    ROW_FIELDS,
    BenchmarkSpec,
    ColumnMap,
    CrossCheckRule,
    FileSource,
    GenerationParams,
    HubSource,
    LmmsEvalRule,
    MatchKey,
    ProtocolSpec,
    RowFilter,
    Source,
    TsvSource,
)
from evalkit.errors import CatalogError
from evalkit.prompts.layouts import LAYOUT_OPTIONS
from evalkit.scoring.registry import EXTRACTORS, METRIC_COLUMNS, METRICS

SUBMISSION_FORMATS = ("rrc_json", "mmbench_xlsx", "mmvet_json")
STR, INT, BOOL, FLOAT, TABLE, STRLIST = str, int, bool, (int, float), dict, list

TOP_FIELDS: dict[str, tuple[Any, bool]] = {
    "name": (STR, True), "title": (STR, True), "task": (STR, True), "version": (INT, True),
    "citation": (STR, True), "aliases": (STRLIST, False), "language": (STR, False), "samples": (INT, False),
    "answers_hidden": (BOOL, False), "default_source": (STR, True), "notes": (STR, False),
    "demo": (TABLE, True), "submission": (STR, False), "report": (TABLE, False), "columns": (TABLE, False),
    "sources": (TABLE, True), "protocols": (TABLE, True), "lmms_eval": (TABLE, False),
    "cross_check": (TABLE, False),
}
COLUMN_FIELDS: dict[str, tuple[Any, bool]] = {
    "index": (STR, False), "question": (STR, False), "answer": (STR, False), "answer_format": (STR, False),
    "images": (STRLIST, False), "image_paths": (STRLIST, False), "option_letters": (STR, False),
    "options_list": (STR, False), "hint": (STR, False), "turns": (STRLIST, False),
    "metadata": (STRLIST, False), "optional": (STRLIST, False), "no_answer": (BOOL, False),
}
SOURCE_FIELDS: dict[str, dict[str, tuple[Any, bool]]] = {
    "tsv": {"url": (STR, True), "md5": (STR, False), "older_md5": (STRLIST, False),
            "filename": (STR, False), "columns": (TABLE, False)},
    "hub": {"repo": (STR, True), "split": (STR, True), "config": (STR, False), "revision": (STR, False),
            "fallback_repos": (STRLIST, False), "filter": (TABLE, False), "rename": (TABLE, False),
            "columns": (TABLE, False)},
    "file": {"url": (STR, False), "note": (STR, False), "columns": (TABLE, False)},
}
PROTOCOL_FIELDS: dict[str, tuple[Any, bool]] = {
    "prompt": (STR, True), "prompt_options": (TABLE, False), "max_tiles": (INT, True),
    "image_policy": (STR, False), "tile_budget": (INT, False), "max_new_tokens": (INT, True),
    "min_new_tokens": (INT, False), "do_sample": (BOOL, False), "num_beams": (INT, False),
    "temperature": (FLOAT, False), "top_p": (FLOAT, False), "top_k": (INT, False),
    "extractor": (STR, True), "metric": (STR, True), "variant": (STR, True), "scoring_options": (TABLE, False),
    "cells": (STR, False),
}


LMMS_EVAL_FIELDS: dict[str, tuple[Any, bool]] = {"keys": (object, True), "tasks": (TABLE, False),
                                                 "prefer": (STRLIST, False)}
MATCH_KEY_FIELDS: dict[str, tuple[Any, bool]] = {"log": (STRLIST, True), "data": (STR, True), "match": (STR, True)}

CROSS_CHECK_FIELDS: dict[str, tuple[Any, bool]] = {"rows": (STR, True), "headline": (STRLIST, True),
                                                   "scale": (FLOAT, False), "headline_row": (TABLE, False)}

REPORT_FIELDS: dict[str, tuple[Any, bool]] = {
    "section": (STR, True), "column": (STR, True), "order": (INT, True), "decimals": (INT, False),
    "split": (STR, False), "metrics": (TABLE, False), "metric": (STR, False), "splits": (TABLE, False),
    "labels": (TABLE, False),
}
REPORT_PATH_ROOTS = ("score", "breakdown")
MAX_DECIMALS = 4


class _Card:
    """Field access with errors that name the card and the dotted path."""

    def __init__(self, stem: str) -> None:
        self.stem = stem

    def fail(self, path: str, problem: str) -> CatalogError:
        return CatalogError(f"card {self.stem}.toml: field '{path}' {problem}")

    def check(self, table: Mapping[str, Any], schema: Mapping[str, tuple[Any, bool]], path: str) -> None:
        prefix = f"{path}." if path else ""
        for key in table:
            if key not in schema:
                raise self.fail(prefix + key, "is not a known field")
        for key, (kind, required) in schema.items():
            if key not in table:
                if required:
                    raise self.fail(prefix + key, "is missing")
                continue
            self._check_type(table[key], kind, prefix + key)

    def _check_type(self, value: Any, kind: Any, path: str) -> None:
        if kind is STRLIST:
            if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
                raise self.fail(path, "must be a list of strings")
            return
        if (kind is INT and isinstance(value, bool)) or not isinstance(value, kind):
            name = {STR: "a string", INT: "an integer", BOOL: "true or false", TABLE: "a table"}.get(kind, "a number")
            raise self.fail(path, f"must be {name}")

    def one_of(self, value: str, allowed: frozenset[str] | tuple[str, ...], path: str) -> str:
        if value not in allowed:
            raise self.fail(path, f"has unknown value '{value}' (known: {', '.join(sorted(allowed))})")
        return value


def metric_needs(protocols: Mapping[str, ProtocolSpec]) -> dict[str, str]:
    """Metadata column → why a metric of the card needs it (both protocols: a score also scores the other)."""
    needs: dict[str, str] = {}
    for protocol in protocols.values():
        for column, reason in METRIC_COLUMNS.get(protocol.metric, {}).items():
            needs.setdefault(column, f"metric '{protocol.metric}' {reason}")
    return needs


def _needed(card: _Card, fields: Mapping[str, Any], needs: Mapping[str, str], path: str) -> tuple[tuple[str, str], ...]:
    """The needed columns as the source names them; a metric's column the source does not map is a card error."""
    carried = set(fields.get("metadata", ())) | set(fields.get("image_paths", ()))
    for column, why in needs.items():
        if column not in carried:
            raise card.fail(f"{path}.metadata", f"lacks '{column}' ({why})")
    return tuple(needs.items())


def _columns(card: _Card, table: Mapping[str, Any], path: str, needs: Mapping[str, str]) -> ColumnMap:
    card.check(table, COLUMN_FIELDS, path)
    fields = dict(table)
    if fields.pop("no_answer", False):
        fields["answer"] = None
    card.one_of(fields.get("answer_format", "text"), ("text", "list"), f"{path}.answer_format")
    for key in ("hint", "options_list"):
        if fields.get(key) == "":
            fields[key] = None
    for key in ("images", "image_paths", "turns", "metadata", "optional"):
        if key in fields:
            fields[key] = tuple(fields[key])
    return ColumnMap(**fields, needed=_needed(card, fields, needs, path))


def _source(card: _Card, kind: str, table: Mapping[str, Any], base_columns: Mapping[str, Any],
            needs: Mapping[str, str]) -> Source:
    path = f"sources.{kind}"
    card.check(table, SOURCE_FIELDS[kind], path)
    merged_columns = {**base_columns, **table.get("columns", {})}
    columns = _columns(card, merged_columns, f"{path}.columns", needs)
    if kind == "tsv":
        return TsvSource(url=table["url"], md5=table.get("md5"), filename=table.get("filename", f"{card.stem}.tsv"),
                         columns=columns, older_md5=tuple(table.get("older_md5", ())))
    if kind == "hub":
        row_filter = table.get("filter")
        if row_filter is not None:
            card.check(row_filter, {"column": (STR, True), "equals": (STR, True)}, f"{path}.filter")
        return HubSource(repo=table["repo"], split=table["split"], columns=columns, config=table.get("config"),
                         revision=table.get("revision", "main"),
                         fallback_repos=tuple(table.get("fallback_repos", ())),
                         filter=RowFilter(**row_filter) if row_filter else None,
                         rename=dict(table.get("rename", {})))
    return FileSource(columns=columns, url=table.get("url"), note=table.get("note", ""))


def _protocol(card: _Card, name: str, table: Mapping[str, Any]) -> ProtocolSpec:
    path = f"protocols.{name}"
    card.check(table, PROTOCOL_FIELDS, path)
    layout = card.one_of(table["prompt"], frozenset(LAYOUT_OPTIONS), f"{path}.prompt")
    for key in table.get("prompt_options", {}):
        card.one_of(key, LAYOUT_OPTIONS[layout], f"{path}.prompt_options.{key}")
    card.one_of(table["extractor"], frozenset(EXTRACTORS), f"{path}.extractor")
    card.one_of(table["metric"], frozenset(METRICS), f"{path}.metric")
    policy = card.one_of(table.get("image_policy", "all"), ("all", "first"), f"{path}.image_policy")
    cells = card.one_of(table.get("cells", "literal"), CELL_RULES, f"{path}.cells")
    for key in ("max_tiles", "max_new_tokens"):
        if table[key] < 1:
            raise card.fail(f"{path}.{key}", "must be at least 1")
    generation = GenerationParams(
        max_new_tokens=table["max_new_tokens"], min_new_tokens=table.get("min_new_tokens", 0),
        do_sample=table.get("do_sample", False), num_beams=table.get("num_beams", 1),
        temperature=float(table.get("temperature", 0.0)), top_p=float(table.get("top_p", 1.0)),
        top_k=table.get("top_k", 0))
    return ProtocolSpec(prompt=table["prompt"], prompt_options=dict(table.get("prompt_options", {})),
                        max_tiles=table["max_tiles"], image_policy=policy,  # type: ignore[arg-type]
                        tile_budget=table.get("tile_budget", 0), generation=generation,
                        extractor=table["extractor"], metric=table["metric"], variant=table["variant"],
                        scoring_options=dict(table.get("scoring_options", {})), cells=cells)  # type: ignore[arg-type]


def _protocols(card: _Card, table: Mapping[str, Any], defaults: Mapping[str, Any]) -> dict[str, ProtocolSpec]:
    for key in table:
        card.one_of(key, PROTOCOLS, f"protocols.{key}")
    if "paper" not in table:
        raise card.fail("protocols.paper", "is missing")
    default_tables = defaults.get("protocols", {})
    paper = deep_merge(default_tables.get("paper", {}), table["paper"])
    vlmevalkit = deep_merge(deep_merge(paper, default_tables.get("vlmevalkit", {})), table.get("vlmevalkit", {}))
    return {"paper": _protocol(card, "paper", paper), "vlmevalkit": _protocol(card, "vlmevalkit", vlmevalkit)}


def _report_paths(card: _Card, value: Any, path: str) -> None:
    """A path into scores.json (``score`` or ``breakdown.<key>…``), or a list of them tried in order."""
    paths = [value] if isinstance(value, str) else value
    if not isinstance(paths, list) or not paths or not all(isinstance(item, str) for item in paths):
        raise card.fail(path, "must be a path into scores.json or a non-empty list of them")
    for item in paths:
        parts = item.split(".")
        if parts[0] not in REPORT_PATH_ROOTS or "" in parts or (parts[0] == "score" and len(parts) > 1):
            raise card.fail(path, f"has bad path '{item}' (want 'score' or 'breakdown.<key>[.<key>…]')")


def _report(card: _Card, table: Mapping[str, Any]) -> dict[str, Any]:
    """Validate the ``[report]`` table: which paper column(s) a suite's scores.json fills (empty: none)."""
    if not table:
        return {}
    card.check(table, REPORT_FIELDS, "report")
    if table["order"] < 1:
        raise card.fail("report.order", "must be at least 1")
    if not 0 <= table.get("decimals", 1) <= MAX_DECIMALS:
        raise card.fail("report.decimals", f"must be between 0 and {MAX_DECIMALS}")
    by_metric = "split" in table or "metrics" in table
    by_split = "metric" in table or "splits" in table
    if by_metric == by_split:
        raise card.fail("report", "needs either 'split' with 'metrics' or 'metric' with 'splits'")
    key_field, fixed_field = ("metrics", "split") if by_metric else ("splits", "metric")
    for name in (key_field, fixed_field):
        if name not in table:
            raise card.fail(f"report.{name}", "is missing")
    if not table[key_field]:
        raise card.fail(f"report.{key_field}", "must name at least one entry")
    for key, value in table[key_field].items():
        _report_paths(card, value, f"report.{key_field}.{key}")
    for key, value in table.get("labels", {}).items():
        if key not in table[key_field]:
            raise card.fail(f"report.labels.{key}", f"names no entry of report.{key_field}")
        if not isinstance(value, str):
            raise card.fail(f"report.labels.{key}", "must be a string")
        if list(table["labels"].values()).count(value) > 1:
            raise card.fail(f"report.labels.{key}", f"repeats the label '{value}'")
    return dict(table)


def _cross_check(card: _Card, table: Mapping[str, Any] | None) -> CrossCheckRule | None:
    """Validate the ``[cross_check]`` table: how ``score --cross-check`` reads VLMEvalKit's own evaluation."""
    if table is None:
        return None
    card.check(table, CROSS_CHECK_FIELDS, "cross_check")
    card.one_of(table["rows"], CROSS_CHECK_ROWS, "cross_check.rows")
    if not table["headline"]:
        raise card.fail("cross_check.headline", "must name at least one column of VLMEvalKit's result")
    row = table.get("headline_row", {})
    if not all(isinstance(value, str) for value in row.values()):
        raise card.fail("cross_check.headline_row", "must be a table of column = text")
    return CrossCheckRule(rows=table["rows"], headline=tuple(table["headline"]), scale=float(table.get("scale", 1.0)),
                          headline_row=dict(row))


def _row_fields(sources: Mapping[str, Source]) -> frozenset[str]:
    """What an ``[lmms_eval]`` key may compare: the row fields and every source's metadata and path columns."""
    columns = {name for source in sources.values() for name in (*source.columns.metadata,
                                                                 *source.columns.image_paths)}
    return frozenset((*ROW_FIELDS, *columns))


def _match_key(card: _Card, table: Any, path: str, fields: frozenset[str]) -> MatchKey:
    if not isinstance(table, Mapping):
        raise card.fail(path, "must be a table")
    card.check(table, MATCH_KEY_FIELDS, path)
    if not table["log"] or any(not part for item in table["log"] for part in item.split(".")):
        raise card.fail(f"{path}.log", "must list log fields such as 'input', 'target' or 'doc.<field>'")
    card.one_of(table["data"], fields, f"{path}.data")
    card.one_of(table["match"], MATCH_KINDS, f"{path}.match")
    return MatchKey(tuple(table["log"]), table["data"], table["match"])


def _lmms_eval(card: _Card, table: Mapping[str, Any] | None, sources: Mapping[str, Source]) -> LmmsEvalRule | None:
    """Validate the ``[lmms_eval]`` table: how ``import lmms-eval`` finds a logged sample's row."""
    if table is None:
        return None
    card.check(table, LMMS_EVAL_FIELDS, "lmms_eval")
    fields = _row_fields(sources)
    if not isinstance(table["keys"], list) or not table["keys"]:
        raise card.fail("lmms_eval.keys", "must be an array of one or more tables")
    keys = tuple(_match_key(card, key, f"lmms_eval.keys[{number}]", fields)
                 for number, key in enumerate(table["keys"]))
    tasks: dict[str, dict[str, str]] = {}
    for task, restriction in table.get("tasks", {}).items():
        if not isinstance(restriction, Mapping) or not all(isinstance(v, str) for v in restriction.values()):
            raise card.fail(f"lmms_eval.tasks.{task}", "must be a table of row field = text")
        for column in restriction:
            card.one_of(column, fields, f"lmms_eval.tasks.{task}.{column}")
        tasks[task] = dict(restriction)
    return LmmsEvalRule(keys=keys, tasks=tasks, prefer=tuple(table.get("prefer", ())))


def build_spec(stem: str, table: Mapping[str, Any], defaults: Mapping[str, Any], card_path: str) -> BenchmarkSpec:
    """Validate one resolved card (``extends`` already applied) and build its spec."""
    card = _Card(stem)
    card.check(table, TOP_FIELDS, "")
    if table["name"] != stem:
        raise card.fail("name", f"is '{table['name']}' but the card file is {stem}.toml")
    demo = table["demo"]
    if not isinstance(demo.get("family"), str):
        raise card.fail("demo.family", "is missing")
    sources_table: Mapping[str, Any] = table["sources"]
    for kind in sources_table:
        card.one_of(kind, tuple(SOURCE_FIELDS), f"sources.{kind}")
    base_columns = table.get("columns", {})
    protocols = _protocols(card, table["protocols"], defaults)
    needs = metric_needs(protocols)
    sources = {kind: _source(card, kind, sources_table[kind], base_columns, needs) for kind in sources_table}
    card.one_of(table["default_source"], tuple(sources), "default_source")
    return BenchmarkSpec(
        name=table["name"], title=table["title"], task=table["task"], version=table["version"],
        citation=table["citation"], aliases=tuple(table.get("aliases", ())), language=table.get("language", "en"),
        samples=table.get("samples"),
        demo=dict(demo), answers_hidden=table.get("answers_hidden", False),
        default_source=table["default_source"], sources=sources,
        protocols=protocols, notes=table.get("notes", ""),
        submission=card.one_of(table["submission"], SUBMISSION_FORMATS, "submission") if "submission" in table
        else None,
        report=_report(card, table.get("report", {})), lmms_eval=_lmms_eval(card, table.get("lmms_eval"), sources),
        cross_check=_cross_check(card, table.get("cross_check")), card_path=card_path)


def deep_merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """Merge ``override`` onto ``base``; tables merge key by key, ``prompt_options`` is replaced whole."""
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping) and key != "prompt_options":
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged
