"""Finding the data row of a logged lmms-eval sample, by the rules of the suite's card (``[lmms_eval]``).

lmms-eval's ``doc_id`` is the position in the Hugging Face split it loaded, which evalkit's rows (VLMEvalKit's
TSV, or ``--data-file``) do not follow; what ties a line to a row is what the line says about the row: an id the
TSV shares (MMBench's index, MMMU's id, MME's image path), or, where the log keeps no id, its answers and the
question text inside its prompt. Each key of the rule compares the first of its log fields that the line holds
with one field of every row (:data:`~evalkit.catalog.spec.MATCH_KINDS`); a line is matched when exactly one
row passes every key it could be checked against. No row, several rows, or no key checkable: the line is left
unmatched with the reason, never guessed.
"""

from __future__ import annotations

import ast
import math
from collections.abc import Callable, Sequence
from typing import Any

from evalkit.catalog.spec import LmmsEvalRule, MatchKey
from evalkit.data.sample import Sample
from evalkit.importers.lmms_eval_logs import MISSING, LoggedSample
from evalkit.scoring.extract.box import Box, vlmevalkit_size
from evalkit.scoring.metrics.grounding import ground_truth_boxes, split_of

EXACT_KINDS = ("equal", "answers")
BOX_TOLERANCE_PIXELS = 1.0
LITERAL_LIMIT = 10_000
SHOWN = 60
ROWS_NAMED = 5


def text_key(value: Any) -> str | None:
    """Text compared case- and whitespace-blind, a number as its value (``105``, ``105.0`` and ``105.00`` agree:
    a spreadsheet column read by pandas turns one into another); None or NaN is absent."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    text = " ".join(str(value).split()).casefold()
    try:
        number = float(text)
    except ValueError:
        return text or None
    if not math.isfinite(number) or text in ("nan", "inf", "infinity", "-inf", "-infinity", "+inf"):
        return text
    return str(int(number)) if number.is_integer() else repr(number)


def answer_items(value: Any) -> list[str]:
    """The answers a value holds: a list's items, a list literal's items (``"['0.28', 'a']"``), else the value."""
    if isinstance(value, list | tuple):
        return [item for entry in value for item in answer_items(entry)]
    if value is None:
        return []
    text = str(value).strip()
    if text.startswith("[") and text.endswith("]") and len(text) <= LITERAL_LIMIT:
        try:
            parsed = ast.literal_eval(text)
        except (ValueError, SyntaxError, MemoryError, RecursionError):
            parsed = None
        if isinstance(parsed, list | tuple):
            return [str(item) for item in parsed]
    return [text]


def answers_key(value: Any) -> str | None:
    """The answers as one comparable key (sorted, each as :func:`text_key`); None when there are none."""
    keys = sorted(key for key in (text_key(item) for item in answer_items(value)) if key is not None)
    return "\u241f".join(keys) if keys else None


def box_of(value: Any) -> Box | None:
    """Four numbers: a list, or a list literal (lmms-eval's ``target`` is ``str(bbox)``)."""
    items = answer_items(value)
    try:
        numbers = [float(item) for item in items]
    except (TypeError, ValueError):
        return None
    return numbers if len(numbers) == 4 and all(math.isfinite(n) for n in numbers) else None


def shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= SHOWN else text[: SHOWN - 1] + "…"


class RowTable:
    """The suite's rows, with lookups built on first use for the exact keys."""

    def __init__(self, samples: Sequence[Sample]) -> None:
        self.samples = list(samples)
        self._lookups: dict[tuple[str, str], dict[str, list[int]]] = {}
        self._boxes: list[Box | None] | None = None

    def field(self, row: int, name: str) -> Any:
        """A row's field: index, question, answers, hint, split (the grounding split label), box, or metadata."""
        sample = self.samples[row]
        simple: dict[str, Callable[[], Any]] = {
            "index": lambda: sample.index, "question": lambda: sample.question, "answers": lambda: sample.answers,
            "hint": lambda: sample.hint, "split": lambda: split_of(sample), "box": lambda: self.boxes()[row]}
        getter = simple.get(name)
        return getter() if getter is not None else sample.metadata.get(name)

    def boxes(self) -> list[Box | None]:
        if self._boxes is None:
            self._boxes = ground_truth_boxes(self.samples)
        return self._boxes

    def lookup(self, name: str, kind: str) -> dict[str, list[int]]:
        """Rows by the key of their field ``name`` (``equal``: :func:`text_key`, ``answers``: :func:`answers_key`)."""
        table = self._lookups.get((name, kind))
        if table is None:
            table = {}
            make_key = answers_key if kind == "answers" else text_key
            for row in range(len(self.samples)):
                key = make_key(self.field(row, name))
                if key is not None:
                    table.setdefault(key, []).append(row)
            self._lookups[(name, kind)] = table
        return table

    def passes(self, row: int, key: MatchKey, logged: Any) -> bool:
        """Whether row ``row`` passes a non-exact key against the logged value."""
        if key.match == "box":
            return self._same_box(row, logged)
        mine, theirs = text_key(self.field(row, key.data)), text_key(logged)
        if mine is None or theirs is None:
            return False
        return mine in theirs if key.match == "data_in_log" else theirs in mine

    def _same_box(self, row: int, logged: Any) -> bool:
        """The logged box (fractions of the image) is the row's box (pixels) within a pixel on every side."""
        fractions, pixels = box_of(logged), self.boxes()[row]
        if fractions is None or pixels is None:
            return False
        width, height = vlmevalkit_size(self.samples[row])
        scaled = [fractions[0] * width, fractions[1] * height, fractions[2] * width, fractions[3] * height]
        return all(abs(a - b) <= BOX_TOLERANCE_PIXELS for a, b in zip(scaled, pixels, strict=True))

    def describe(self, rows: Sequence[int]) -> str:
        named = ", ".join(repr(self.samples[row].index) for row in rows[:ROWS_NAMED])
        return named + (f" and {len(rows) - ROWS_NAMED} more" if len(rows) > ROWS_NAMED else "")


def logged_value(sample: LoggedSample, key: MatchKey) -> tuple[str, Any]:
    """The first of the key's log fields the line holds, with its path; (``""``, MISSING) when none."""
    for path in key.log:
        value = sample.value(path)
        if value is not MISSING:
            return path, value
    return "", MISSING


def narrowed(candidates: list[int] | None, found: list[int]) -> list[int]:
    """The rows of ``found`` still among ``candidates`` (all of them when nothing narrowed the rows yet)."""
    if candidates is None:
        return found
    keep = set(found)
    return [row for row in candidates if row in keep]


def find_row(sample: LoggedSample, rule: LmmsEvalRule, table: RowTable) -> int | str:
    """The row of ``sample``, or the reason there is not exactly one."""
    candidates: list[int] | None = None
    for name, wanted in rule.tasks.get(sample.task, {}).items():
        candidates = narrowed(candidates, table.lookup(name, "equal").get(text_key(wanted) or "", []))
        if not candidates:
            return f"no row has {name} {wanted!r}, the rows task '{sample.task}' asks"
    checked = 0
    for key in sorted(rule.keys, key=lambda key: key.match not in EXACT_KINDS):
        path, value = logged_value(sample, key)
        if value is MISSING:
            continue
        checked += 1
        if key.match in EXACT_KINDS:
            make_key = answers_key if key.match == "answers" else text_key
            candidates = narrowed(candidates, table.lookup(key.data, key.match).get(make_key(value) or "", []))
        else:
            pool = candidates if candidates is not None else range(len(table.samples))
            candidates = [row for row in pool if table.passes(row, key, value)]
        if not candidates:
            return f"no row's {key.data} fits {path} = {shown(value)} ({key.match})"
    if not checked:
        fields = sorted({path for key in rule.keys for path in key.log})
        return f"the line holds none of the fields that identify a row ({', '.join(fields)})"
    assert candidates is not None
    if len(candidates) > 1:
        return f"{len(candidates)} rows fit (index {table.describe(candidates)}): not guessed"
    return candidates[0]


def match_rows(samples: Sequence[LoggedSample], rule: LmmsEvalRule,
               table: RowTable) -> tuple[dict[int, LoggedSample], list[dict[str, Any]]]:
    """Each matched line by row, and every line left unmatched (task, doc_id, where, reason); a row already
    answered by an earlier line keeps that one."""
    matched: dict[int, LoggedSample] = {}
    unmatched: list[dict[str, Any]] = []
    for sample in samples:
        found = find_row(sample, rule, table)
        if isinstance(found, int) and found in matched:
            earlier = matched[found]
            found = f"its row (index {table.samples[found].index!r}) is already answered by {earlier.where}"
        if isinstance(found, str):
            unmatched.append({"task": sample.task, "doc_id": sample.doc_id, "where": sample.where, "reason": found})
        else:
            matched[found] = sample
    return matched, unmatched
