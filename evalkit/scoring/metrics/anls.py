"""ANLS, the Average Normalised Levenshtein Similarity of DocVQA and InfographicVQA (docs/protocols.md).

Official definitions: ``OpenGVLab/InternVL:internvl_chat/eval/vqa/infographicsvqa_eval.py`` (the RRC script the
paper ran) and ``open-compass/VLMEvalKit:vlmeval/dataset/utils/vqa_eval.py`` (``anls_compute`` with
``hit_calculate``).
"""

from __future__ import annotations

from collections.abc import Sequence

from evalkit.scoring.metrics.common import (
    base_breakdown,
    compared_text,
    detail_prediction,
    error_sample,
    mean_percent,
    metadata_breakdowns,
    not_scored_suite,
    scored_values,
    unscorable_reason,
    unscored_sample,
)
from evalkit.scoring.types import SampleScore, ScoringContext, ScoringItem, SuiteScore

THRESHOLD = 0.5
RAW_DENOMINATOR = "raw"
NORMALISED_DENOMINATOR = "normalised"


def levenshtein(first: str, second: str) -> int:
    """Edit distance (unit-cost insertions, deletions, substitutions) between two strings.

    Equal strings, a common prefix and a common suffix are dealt with first; the rest
    runs Hyyrö's bit-parallel algorithm (one column of the DP matrix per character of
    the longer string, the column packed into a Python integer), which equals the
    two-row dynamic programme of the reference scripts.
    """
    if first == second:
        return 0
    start = 0
    limit = min(len(first), len(second))
    while start < limit and first[start] == second[start]:
        start += 1
    end_first, end_second = len(first), len(second)
    while end_first > start and end_second > start and first[end_first - 1] == second[end_second - 1]:
        end_first -= 1
        end_second -= 1
    first, second = first[start:end_first], second[start:end_second]
    if len(first) < len(second):
        first, second = second, first
    if not second:
        return len(first)
    return _bit_parallel(first, second)


def _bit_parallel(text: str, pattern: str) -> int:
    """Hyyrö (2003) bit-vector edit distance; ``pattern`` is the shorter, non-empty string."""
    length = len(pattern)
    positions: dict[str, int] = {}
    for offset, char in enumerate(pattern):
        positions[char] = positions.get(char, 0) | (1 << offset)
    full = (1 << length) - 1
    top = 1 << (length - 1)
    plus, minus, distance = full, 0, length
    for char in text:
        equal = positions.get(char, 0)
        vertical = equal | minus
        horizontal = (((equal & plus) + plus) ^ plus) | equal
        plus_h = minus | (~(horizontal | plus) & full)
        minus_h = plus & horizontal
        if plus_h & top:
            distance += 1
        elif minus_h & top:
            distance -= 1
        plus_h = ((plus_h << 1) | 1) & full
        minus_h = (minus_h << 1) & full
        plus = minus_h | (~(vertical | plus_h) & full)
        minus = plus_h & vertical
    return distance


def _normalise(text: str) -> str:
    return " ".join(text.strip().lower().split())


def anls(prediction: str, answers: Sequence[str], *, denominator: str = RAW_DENOMINATOR) -> float:
    """One question's ANLS: ``1 − min_g NL(g, p)``, set to 0 below 0.5 (exactly 0.5 is kept).

    ``NL = Levenshtein(g', p') / L`` where ``g'``/``p'`` are stripped, lowercased and
    whitespace-collapsed. Quirk reproduced on purpose (RRC script, InternVL and
    VLMEvalKit at the paper's time): with ``denominator="raw"`` ``L`` is
    ``max(len(g.upper()), len(p.upper()))`` of the **raw** strings, so surrounding or
    repeated spaces inflate it and ``ß`` counts twice. ``denominator="normalised"``
    uses ``max(len(g'), len(p'))``, which later VLMEvalKit revisions switched to.
    ``NL`` is 0 when ``L`` is 0. No answers at all raise ``ValueError``.
    """
    if not answers:
        raise ValueError("ANLS needs at least one ground truth")
    normal_prediction = _normalise(prediction)
    raw_length = len(prediction.upper())
    best = None
    for answer in answers:
        normal_answer = _normalise(answer)
        if denominator == RAW_DENOMINATOR:
            length = max(len(answer.upper()), raw_length)
        else:
            length = max(len(normal_answer), len(normal_prediction))
        if length == 0:
            value = 0.0
        elif 2 * abs(len(normal_answer) - len(normal_prediction)) > length:
            continue  # the distance is at least the length gap, so NL > 0.5 and this answer cannot count
        else:
            value = float(levenshtein(normal_answer, normal_prediction)) / float(length)
        if best is None or value < best:
            best = value
    if best is None:
        return 0.0
    score = 1 - best
    return 0.0 if score < THRESHOLD else score


def _denominator(ctx: ScoringContext) -> str:
    choice = str(ctx.options.get("anls_denominator", RAW_DENOMINATOR))
    if choice not in (RAW_DENOMINATOR, NORMALISED_DENOMINATOR):
        raise ValueError(f"scoring option anls_denominator must be 'raw' or 'normalised', not {choice!r}")
    return choice


def _score_item(item: ScoringItem, denominator: str) -> SampleScore:
    if item.error is not None:
        return error_sample(item)
    if not item.sample.answers:
        return unscored_sample(item, "no ground truth")
    text = compared_text(item)
    value = anls(text, item.sample.answers, denominator=denominator)
    return SampleScore(item.sample.index, detail_prediction(item), text, value, item.extraction.method)


def anls_suite(items: Sequence[ScoringItem], ctx: ScoringContext) -> SuiteScore:
    """The card metric ``anls``: the mean question ANLS × 100 (``infographicsvqa_eval.py@83c72bc``).

    Official: ``infographicsvqa_eval.py`` (paper) / VLMEvalKit ``process_line(method='anls')`` +
    ``hit_calculate``; both threshold ``1 − min NL`` at 0.5 per question and average over questions.
    Quirks kept: the raw-string ``.upper()`` denominator (see :func:`anls`); a failed inference
    scores 0 and counts. The scoring option ``anls_denominator = "normalised"`` selects the
    normalised-length denominator of later VLMEvalKit revisions. Breakdown: mean × 100 per
    ``category`` and per ``split`` where the data has them. Hidden answers: score None.
    """
    reason = unscorable_reason(items)
    if reason is not None:
        return not_scored_suite("anls", items, reason)
    denominator = _denominator(ctx)
    samples = [_score_item(item, denominator) for item in items]
    breakdown: dict[str, object] = {**base_breakdown(items, samples), "denominator": denominator}
    breakdown.update(metadata_breakdowns(items, samples, ("category", "split")))
    score = mean_percent(scored_values(samples))
    return SuiteScore("anls", score, len(items), breakdown, samples,
                      reason=None if score is not None else "no sample has a ground truth")
