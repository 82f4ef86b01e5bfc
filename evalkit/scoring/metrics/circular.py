"""MMBench / CCBench local CircularEval (card metric ``circular_accuracy``).

Official definition: ``open-compass/VLMEvalKit`` ``vlmeval/evaluate/multiple_choice.py`` @4ad5481d
(``prefetch_sub_data``, ``eval_sub_data``, ``eval_data_groups``, ``report_acc``) and
``vlmeval/dataset/utils/multiple_choice.py`` @e8e78f05 (``prefetch_circular_group``,
``eval_circular_group``, ``mcq_circular_eval``); the two agree on everything below.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from evalkit.data.sample import SampleIndex
from evalkit.scoring.extract.choice import MATCHERS, Matcher, sample_choices
from evalkit.scoring.extract.choice_judge import judge_choice
from evalkit.scoring.metrics.choice import (
    HIDDEN,
    NO_SAMPLES,
    answers_hidden,
    field_breakdown,
    json_safe,
    method_of,
    percent,
    record,
    unscored,
)
from evalkit.scoring.types import SampleScore, ScoringContext, ScoringItem, SuiteScore

ROTATION = 1_000_000
DEFAULT_MATCHER = "can_infer_head"
METRIC = "circular_accuracy"


@dataclass
class Group:
    """One question: its main row and its rotated copies (positions in the item list), and the outcome."""

    main: int
    rows: list[int]
    letters: dict[int, str | None] = field(default_factory=dict)
    methods: dict[int, str] = field(default_factory=dict)
    hit: float = 0.0
    decided_by: str = ""


def group_index(index: SampleIndex) -> int | None:
    """``index % 1e6`` for integer indices (rotated copies have ``index >= 1e6``); None otherwise."""
    if isinstance(index, bool):
        return None
    if isinstance(index, int):
        return index % ROTATION
    if isinstance(index, str) and index.strip().lstrip("-").isdigit():
        return int(index) % ROTATION
    return None


def build_groups(items: Sequence[ScoringItem]) -> tuple[list[Group], set[int]]:
    """Groups keyed by their main rows (``index == g_index``); rows are ordered by index, main row first.

    Copies whose main row is absent are not scored (VLMEvalKit keeps only the
    main rows); their positions are returned as orphans.
    """
    members: dict[Any, list[int]] = {}
    mains: dict[Any, int] = {}
    for position, item in enumerate(items):
        g_index = group_index(item.sample.index)
        key: Any = ("own", position) if g_index is None else g_index
        members.setdefault(key, []).append(position)
        if g_index is None or _as_int(item.sample.index) == g_index:
            mains.setdefault(key, position)
    groups = []
    orphans: set[int] = set()
    for key, positions in members.items():
        if key not in mains:
            orphans.update(positions)
            continue
        ordered = sorted(positions, key=lambda p: (p != mains[key], _as_int(items[p].sample.index) or 0, p))
        groups.append(Group(main=mains[key], rows=ordered))
    groups.sort(key=lambda group: group.main)
    return groups, orphans


def _as_int(index: SampleIndex) -> int | None:
    if isinstance(index, int) and not isinstance(index, bool):
        return index
    try:
        return int(str(index).strip())
    except ValueError:
        return None


def _gt(item: ScoringItem) -> str | None:
    return item.sample.answers[0] if item.sample.answers else None


def _reply(item: ScoringItem) -> str:
    value = item.extraction.value
    return value if isinstance(value, str) else ""


def evaluate_group(group: Group, items: Sequence[ScoringItem], ctx: ScoringContext, matcher: Matcher) -> None:
    """Prefetch with the rules; if undecided, the judge resolves open rows in order until the first miss."""
    rows = [items[p] for p in group.rows]
    if any(row.error is not None for row in rows):
        group.hit, group.decided_by = 0.0, "error"
        group.methods = {p: method_of(items[p]) for p in group.rows}
        return
    for position, row in zip(group.rows, rows, strict=True):
        group.letters[position] = matcher(_reply(row), sample_choices(row.sample, ctx))
        group.methods[position] = "rule" if group.letters[position] else "none"
    letters = [group.letters[p] for p in group.rows]
    truths = [_gt(row) for row in rows]
    if any(letter and letter != truth for letter, truth in zip(letters, truths, strict=True)):
        group.hit, group.decided_by = 0.0, "prefetch"
    elif all(letter == truth for letter, truth in zip(letters, truths, strict=True)):
        group.hit, group.decided_by = 1.0, "prefetch"
    elif ctx.judge is None:
        group.hit, group.decided_by = 0.0, "unresolved"
    else:
        _judge_open_rows(group, items, ctx, matcher)


def _judge_open_rows(group: Group, items: Sequence[ScoringItem], ctx: ScoringContext, matcher: Matcher) -> None:
    group.hit, group.decided_by = 1.0, "judge"
    for position in group.rows:
        if group.letters[position]:
            continue
        row = items[position]
        extraction = judge_choice(_reply(row), row.sample, sample_choices(row.sample, ctx), ctx, matcher)
        group.letters[position], group.methods[position] = extraction.value, extraction.method
        if extraction.value != _gt(row):
            group.hit = 0.0
            return


def _row_score(item: ScoringItem, position: int, group: Group | None) -> SampleScore:
    if group is None:
        extra: dict[str, Any] = {"role": "orphan rotation (no main row): not scored"}
        return SampleScore(item.sample.index, record(item.prediction), None, None, method_of(item), extra)
    letter = group.letters.get(position)
    truth = _gt(item)
    row_hit = None if letter is None else float(letter == truth)
    is_main = position == group.main
    extra = {
        "g_index": group_index(item.sample.index),
        "role": "main" if is_main else "rotation",
        "answer": truth,
        "row_hit": row_hit,
        "group_hit": group.hit,
        "decided_by": group.decided_by,
    }
    if item.error is not None:
        extra["error"] = item.error
    score = group.hit if is_main else None
    method = group.methods.get(position, method_of(item))
    return SampleScore(item.sample.index, record(item.prediction), json_safe(letter), score, method, extra)


def circular_accuracy_suite(items: Sequence[ScoringItem], ctx: ScoringContext) -> SuiteScore:
    """CircularEval accuracy (%) over questions (main rows), per ``split``, ``l2-category``, ``category``.

    Rows with ``index >= 1e6`` are rotated copies of question ``index % 1e6``.
    ``ctx.options["matcher"]`` (``can_infer_2404`` or ``can_infer_head``) is
    applied to ``item.extraction.value`` with each row's own options (the paper
    protocol has already reduced the reply with the letter post-process; the
    VLMEvalKit protocol passes the raw reply).

    Quirks reproduced: prefetch gives 0 as soon as any row's non-empty
    extraction differs from its GT (a refusal ``Z`` included) and 1 when every
    row is extracted and correct; otherwise the judge resolves the open rows in
    order and the first wrong one gives 0 (its random fallback included). Under
    ``exact_matching`` an undecided group scores 0: the score is then a lower
    bound (``breakdown["unresolved_groups"]``). A group with an inference error
    scores 0. Only main rows are averaged; rotated rows carry score None and
    their own extraction and row hit in ``extra``.
    """
    if not items:
        return unscored(METRIC, items, NO_SAMPLES)
    if answers_hidden(items):
        return unscored(METRIC, items, HIDDEN)
    matcher = MATCHERS[str(ctx.options.get("matcher", DEFAULT_MATCHER))]
    groups, orphans = build_groups(items)
    for group in groups:
        evaluate_group(group, items, ctx, matcher)
    by_position = {position: group for group in groups for position in group.rows}
    samples = [_row_score(item, p, by_position.get(p)) for p, item in enumerate(items)]
    rows = [(items[group.main].sample, group.hit) for group in groups]
    breakdown = _breakdown(groups, items, rows)
    breakdown["orphan_rows"] = len(orphans)
    return SuiteScore(METRIC, percent([hit for _, hit in rows]), len(groups), breakdown, samples)


def _breakdown(groups: Sequence[Group], items: Sequence[ScoringItem], rows: Sequence[Any]) -> dict[str, Any]:
    decided: dict[str, int] = {}
    for group in groups:
        decided[group.decided_by] = decided.get(group.decided_by, 0) + 1
    unresolved = decided.get("unresolved", 0)
    methods: dict[str, int] = {}
    for group in groups:
        for method in group.methods.values():
            methods[method] = methods.get(method, 0) + 1
    breakdown: dict[str, Any] = {"overall": percent([hit for _, hit in rows])}
    breakdown.update(field_breakdown(rows, abbreviate=True))
    breakdown.update({
        "n": len(groups),
        "hits": int(sum(group.hit for group in groups)),
        "rows": len(items),
        "errors": sum(item.error is not None for item in items),
        "decided_by": dict(sorted(decided.items())),
        "unresolved_groups": unresolved,
        "lower_bound": unresolved > 0,
        "methods": dict(sorted(methods.items())),
    })
    return breakdown
