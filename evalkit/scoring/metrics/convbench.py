"""ConvBench: pairwise judge win rate against the human reference (headline R1), and direct 1–10 grading.

Official definition: ``shirlyliu64/ConvBench`` ``ConvBenchEval/convbencheval.py`` (``generate_request``,
``extract_prediction_from_response``, ``judge``) and ``ConvBenchEval/score.py`` (``extract_rate`` and the
win count); prompts in ``prompts.py`` (see :mod:`evalkit.scoring.metrics.convbench_prompts`).
"""

from __future__ import annotations

import math
import re
import string
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from evalkit.judge.base import ChatMessage, Judge, JudgeError
from evalkit.scoring.metrics.convbench_prompts import (
    TURNS,
    Conversation,
    answer_extraction_messages,
    direct_messages,
    pairwise_messages,
    rating_extraction_messages,
)
from evalkit.scoring.types import SampleScore, ScoringContext, ScoringItem, SuiteScore

JUDGE_TEMPERATURE = 1.0  # the official client sets none: the API default
JUDGE_MAX_TOKENS = 512
JUDGE_WORKERS = 8
SCORE_KEYS = ("S1", "S2", "S3", "S0")  # per TURNS: first, second, third turn, overall conversation
CAPTION = "instruction-conditioned-caption"
HUMAN_FIELDS = ("first_turn_answer", "second_turn_answer", "third_turn_answer")
DEMANDS = "third_turn_demands"
REQUIRED_FIELDS = (CAPTION, *HUMAN_FIELDS, DEMANDS)
CATEGORY_FIELDS = ("First_turn_instruction_category", "Second_turn_instruction_category",
                   "Third_turn_instruction_category")
NO_JUDGE = ("needs a judge (the official ConvBenchEval uses gpt-3.5-turbo at the API default temperature 1.0); "
            "run with --judge openai:gpt-3.5-turbo")
_RATING = re.compile(r"Rating:\s*\{?\s*(\d+(?:\.\d+)?)\s*\}?")
_FINAL_RATING = re.compile(r"Final Rating:\s*(\d+(?:\.\d+)?)")


@dataclass(frozen=True)
class Verdict:
    """The side the judge picked ("A", "B" or None) and which rule decided it."""

    letter: str | None
    stage: str  # "phrase" | "final_answer" | "rating_line" | "none"
    text: str
    extraction: str | None = None


@dataclass(frozen=True)
class Rating:
    value: float | None
    stage: str  # "rating" | "final_rating" | "none"
    text: str
    extraction: str | None = None


@dataclass(frozen=True)
class Judged:
    """One conversation's judge results; ``failure`` set when the judge raised."""

    verdicts: tuple[Verdict, ...] = ()
    ratings: tuple[Rating, ...] = ()
    failure: str | None = None


def phrase_letter(text: str) -> str | None:
    """Exactly one of "response a is better" / "response b is better" in the lower-cased text, else None."""
    lowered = text.lower()
    hits = [letter for letter in "AB" if f"response {letter.lower()} is better" in lowered]
    return hits[0] if len(hits) == 1 else None


def final_answer_letter(reply: str) -> str | None:
    """Exactly one of "Final Answer: Response A|B" (case-sensitive) in the extraction reply, else None."""
    hits = [letter for letter in "AB" if f"Final Answer: Response {letter}" in reply]
    return hits[0] if len(hits) == 1 else None


def rating_line_letter(text: str) -> str | None:
    """``score.py`` ``extract_rate``: the rest of the first "Rating:" line, stripped of spaces and punctuation."""
    found = re.search("Rating:(.*)", text)
    value = found.group(1).strip().strip(string.punctuation) if found else "0"
    return value if value in ("A", "B") else None


def resolve_verdict(text: str, ask: Callable[[list[ChatMessage]], str]) -> Verdict:
    """The phrase rule, else a FinalAnswerExtraction judge call, else the "Rating:" line, else no side (a loss)."""
    letter = phrase_letter(text)
    if letter is not None:
        return Verdict(letter, "phrase", text)
    extraction = ask(answer_extraction_messages(text))
    letter = final_answer_letter(extraction)
    if letter is not None:
        return Verdict(letter, "final_answer", text, extraction)
    letter = rating_line_letter(text)
    return Verdict(letter, "rating_line" if letter else "none", text, extraction)


def parse_rating(text: str, pattern: re.Pattern[str] = _RATING) -> float | None:
    """The last ``Rating:{X}`` / ``Rating: X`` with 1 ≤ X ≤ 10 (evalkit's rule: no official parser exists)."""
    values = [float(match) for match in pattern.findall(text)]
    valid = [value for value in values if 1.0 <= value <= 10.0]
    return valid[-1] if valid else None


def resolve_rating(text: str, ask: Callable[[list[ChatMessage]], str]) -> Rating:
    value = parse_rating(text)
    if value is not None:
        return Rating(value, "rating", text)
    extraction = ask(rating_extraction_messages(text))
    value = parse_rating(extraction, _FINAL_RATING)
    return Rating(value, "final_rating" if value is not None else "none", text, extraction)


def _asker(judge: Judge) -> Callable[[list[ChatMessage]], str]:
    def ask(messages: list[ChatMessage]) -> str:
        return judge.complete(messages, temperature=JUDGE_TEMPERATURE, max_tokens=JUDGE_MAX_TOKENS)
    return ask


def judge_pairwise(conv: Conversation, side: int, judge: Judge) -> tuple[Verdict, ...]:
    """The four calls of ``judge()``: turns 1–3, then the whole conversation given the three turn texts."""
    ask = _asker(judge)
    verdicts = [resolve_verdict(ask(pairwise_messages(turn, conv, side)), ask) for turn in TURNS[:3]]
    texts = [verdict.text for verdict in verdicts]
    overall = ask(pairwise_messages(TURNS[3], conv, side, texts))
    return (*verdicts, resolve_verdict(overall, ask))


def judge_direct(conv: Conversation, judge: Judge) -> tuple[Rating, ...]:
    ask = _asker(judge)
    ratings = [resolve_rating(ask(direct_messages(turn, conv)), ask) for turn in TURNS[:3]]
    overall = ask(direct_messages(TURNS[3], conv, [rating.text for rating in ratings]))
    return (*ratings, resolve_rating(overall, ask))


def _judge_one(conv: Conversation | None, side: int, judge: Judge, direct: bool) -> Judged:
    if conv is None:
        return Judged()
    try:
        verdicts = judge_pairwise(conv, side, judge)
        ratings = judge_direct(conv, judge) if direct else ()
    except JudgeError as exc:
        return Judged(failure=str(exc))
    return Judged(verdicts, ratings)


def _missing(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return isinstance(value, str) and not value.strip()


def missing_fields(items: Sequence[ScoringItem]) -> dict[str, int]:
    """For each required annotation field (and the three turn instructions): how many samples lack it."""
    counts = {name: sum(_missing(item.sample.metadata.get(name)) for item in items) for name in REQUIRED_FIELDS}
    counts["three turn instructions"] = sum(len(item.sample.turns) != 3 for item in items)
    return {name: count for name, count in counts.items() if count}


def _side_value(value: Any) -> int | None:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        return None
    text = str(value).strip()
    return int(float(text)) if text in ("0", "1", "0.0", "1.0") else None


def resolve_side(item: ScoringItem, options: Mapping[str, Any]) -> tuple[int | None, str]:
    """The model's side: ``options["pairwise_sides"][index]``, ``metadata["pairwise_side"]``,
    ``options["pairwise_side"]``, else 0 (model = Assistant A); and where it came from."""
    sides = options.get("pairwise_sides")
    if isinstance(sides, Mapping) and str(item.sample.index) in {str(key) for key in sides}:
        value = {str(key): side for key, side in sides.items()}[str(item.sample.index)]
        return _side_value(value), "options.pairwise_sides"
    if not _missing(item.sample.metadata.get("pairwise_side")):
        return _side_value(item.sample.metadata["pairwise_side"]), "metadata"
    if "pairwise_side" in options:
        return _side_value(options["pairwise_side"]), "options.pairwise_side"
    return 0, "default"


def _conversation(item: ScoringItem) -> Conversation | None:
    """The judge's inputs, or None when the model has no three replies (inference error)."""
    if item.error is not None or not isinstance(item.prediction, tuple) or len(item.prediction) != 3:
        return None
    meta = item.sample.metadata
    model = item.prediction
    human = tuple(str(meta[name]) for name in HUMAN_FIELDS)
    turns = item.sample.turns
    return Conversation(str(meta[CAPTION]), (turns[0], turns[1], turns[2]), (model[0], model[1], model[2]),
                        (human[0], human[1], human[2]), str(meta[DEMANDS]))


def _error_text(item: ScoringItem) -> str:
    if item.error is not None:
        return item.error
    count = len(item.prediction) if isinstance(item.prediction, tuple) else "a single string, not"
    return f"expected 3 replies, got {count}"


def _prediction(item: ScoringItem) -> str | list[str]:
    return list(item.prediction) if isinstance(item.prediction, tuple) else item.prediction


def _not_scored(items: Sequence[ScoringItem], reason: str, breakdown: Mapping[str, Any]) -> SuiteScore:
    samples = [SampleScore(item.sample.index, _prediction(item), None, None,
                           "error" if item.error is not None else "none") for item in items]
    counts = {"errors": sum(item.error is not None for item in items), **breakdown}
    return SuiteScore("convbench_judge", None, len(items), counts, samples, reason=reason)


def _precheck(items: Sequence[ScoringItem], ctx: ScoringContext) -> str | None:
    """Why the suite cannot be scored (missing annotation fields, no judge), or None."""
    if not items:
        return "no samples to score"
    missing = missing_fields(items)
    parts = []
    if missing:
        listed = ", ".join(f"'{name}' in {count} of {len(items)} samples" for name, count in missing.items())
        parts.append(f"needs the full ConvBench annotation file (--data-file with the non-public columns): "
                     f"missing {listed}")
    if ctx.judge is None:
        parts.append(NO_JUDGE)
    return "; and ".join(parts) or None


def _denominator(ctx: ScoringContext, n: int) -> int:
    value = ctx.options.get("denominator", n)
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValueError(f"ConvBench scoring option 'denominator' must be a positive integer, got {value!r}")
    return value


def _wins(item_side: int, verdicts: Sequence[Verdict]) -> list[int]:
    model_letter = "A" if item_side == 0 else "B"
    return [int(verdict.letter == model_letter) for verdict in verdicts] if verdicts else [0, 0, 0, 0]


def _ratings(judged: Judged) -> list[float]:
    return [rating.value or 0.0 for rating in judged.ratings] if judged.ratings else [0.0] * 4


def _r_scores(prefix: str, s: Sequence[float]) -> dict[str, float]:
    """S1, S2, S3, S0, R2 = (S1+S2+S3)/3 and R1 = (R2+S0)/2 under ``prefix``."""
    r2 = (s[0] + s[1] + s[2]) / 3
    scores = {f"{prefix}_{key}": value for key, value in zip(SCORE_KEYS, s, strict=True)}
    return {**scores, f"{prefix}_R2": r2, f"{prefix}_R1": (r2 + s[3]) / 2}


def _sample(item: ScoringItem, side: int, source: str, judged: Judged) -> SampleScore:
    wins = _wins(side, judged.verdicts)
    extra: dict[str, Any] = {"pairwise_side": side, "side_source": source, "model_letter": "AB"[side],
                             "wins": dict(zip(SCORE_KEYS, wins, strict=True)),
                             "judge_temperature": JUDGE_TEMPERATURE}
    if judged.verdicts:
        extra["verdict_stages"] = [verdict.stage for verdict in judged.verdicts]
        extra["judge_texts"] = [verdict.text for verdict in judged.verdicts]
        extra["extraction_replies"] = [verdict.extraction for verdict in judged.verdicts]
    if judged.ratings:
        extra["direct_ratings"] = [rating.value for rating in judged.ratings]
        extra["direct_stages"] = [rating.stage for rating in judged.ratings]
        extra["direct_texts"] = [rating.text for rating in judged.ratings]
    for name in CATEGORY_FIELDS:
        if not _missing(item.sample.metadata.get(name)):
            extra[name] = item.sample.metadata[name]
    if judged.failure is not None:
        return SampleScore(item.sample.index, _prediction(item), None, None, "none",
                           {**extra, "judge_error": judged.failure})
    method = "judge" if judged.verdicts else "error"
    if not judged.verdicts:
        extra["error"] = _error_text(item)
    contribution = ((wins[0] + wins[1] + wins[2]) / 3 + wins[3]) / 2
    letters = [verdict.letter for verdict in judged.verdicts] or None
    return SampleScore(item.sample.index, _prediction(item), letters, contribution, method, extra)


def _category_rates(items: Sequence[ScoringItem], wins: Sequence[Sequence[int]]) -> dict[str, Any]:
    """Per turn, the win rate (%) within each of that turn's instruction categories, where the data has them."""
    result: dict[str, Any] = {}
    for position, name in enumerate(CATEGORY_FIELDS):
        totals: dict[str, list[int]] = {}
        for item, item_wins in zip(items, wins, strict=True):
            category = item.sample.metadata.get(name)
            if not _missing(category):
                totals.setdefault(str(category), []).append(item_wins[position])
        if totals:
            result[TURNS[position]] = {key: 100 * sum(v) / len(v) for key, v in totals.items()}
    return result


def _breakdown(items: Sequence[ScoringItem], sides: Sequence[int], judged: Sequence[Judged],
               denominator: int, direct: bool) -> dict[str, Any]:
    wins = [_wins(side, result.verdicts) for side, result in zip(sides, judged, strict=True)]
    pairwise = [100 * sum(column) / denominator for column in zip(*wins, strict=True)]
    breakdown: dict[str, Any] = {**_r_scores("pairwise", pairwise), "n": len(items), "denominator": denominator,
                                 "errors": sum(not result.verdicts for result in judged),
                                 "wins": dict(zip(SCORE_KEYS, (sum(c) for c in zip(*wins, strict=True)),
                                                  strict=True)),
                                 "sides": {"model_as_A": sides.count(0), "model_as_B": sides.count(1)}}
    stages = [verdict.stage for result in judged for verdict in result.verdicts]
    breakdown["verdict_stages"] = {stage: stages.count(stage) for stage in
                                   ("phrase", "final_answer", "rating_line", "none")}
    if direct:
        ratings = [_ratings(result) for result in judged]
        means = [sum(column) / len(items) for column in zip(*ratings, strict=True)]
        breakdown.update(_r_scores("direct", means))
        unparsed = sum(rating.stage == "none" for result in judged for rating in result.ratings)
        breakdown["direct_unrated"] = unparsed
        breakdown["direct_note"] = ("no official driver: evalkit's content message; unrated turns and failed "
                                    "conversations count as 0; mean over all conversations")
    categories = _category_rates(items, wins)
    if categories:
        breakdown["categories"] = categories
    return breakdown


def _judge_all(items: Sequence[ScoringItem], sides: Sequence[int], judge: Judge, direct: bool) -> list[Judged]:
    """Every conversation's judge calls, conversations in parallel (the judge bounds its own concurrency)."""
    def run(pair: tuple[ScoringItem, int]) -> Judged:
        return _judge_one(_conversation(pair[0]), pair[1], judge, direct)

    with ThreadPoolExecutor(max_workers=min(JUDGE_WORKERS, len(items))) as pool:
        return list(pool.map(run, zip(items, sides, strict=True)))


def convbench_judge_suite(items: Sequence[ScoringItem], ctx: ScoringContext) -> SuiteScore:
    """ConvBench pairwise R1 (headline, %) with S1–S3, S0, R2, and the direct-grading set in the breakdown.

    Official: ``shirlyliu64/ConvBench`` ``ConvBenchEval/convbencheval.py`` ``judge`` / ``generate_request`` /
    ``extract_prediction_from_response`` and ``ConvBenchEval/score.py``. Reproduced on purpose:
    * four text-only calls per conversation (turns 1–3, then the whole conversation with the three turn texts),
      model = Assistant A when the side is 0 and B when it is 1 (side from ``options["pairwise_sides"]``,
      ``metadata["pairwise_side"]``, ``options["pairwise_side"]``, else 0; recorded per sample);
    * temperature 1.0 (the official client sets none, so the API default) and ``max_tokens`` 512 for every call;
    * verdict: exactly one of "response a/b is better" (case-insensitive); else a FinalAnswerExtractionGPT call
      whose reply must hold exactly one "Final Answer: Response A|B" (case-sensitive); else ``score.py``
      ``extract_rate`` on the first "Rating:" line; else a loss;
    * S = wins / denominator × 100, the denominator being the number of conversations unless
      ``options["denominator"]`` is given (the official divides by 577 while looping over 578 IDs);
      R2 = (S1+S2+S3)/3, R1 = (R2+S0)/2; a failed inference loses all four comparisons and stays in N.
    Not reproduced: the official retry with gpt-4 on HTTP 400 (the judge backend decides its model).
    Direct grading (``options["direct"]``, default on) uses the ``SINGLE_ANSWER_WITH_REFERENCE_V1_MT_*`` prompts;
    ConvBench publishes no driver, so its content message and the rating parser are evalkit's.
    Not scored (score None) without the non-public annotation fields or without a judge, or if a judge call fails.
    """
    reason = _precheck(items, ctx)
    if reason is not None or ctx.judge is None:
        judge_name = ctx.judge.model if ctx.judge is not None else None
        missing = missing_fields(items) if items else {}
        return _not_scored(items, reason or NO_JUDGE, {"missing_fields": missing, "judge": judge_name})
    resolved = [resolve_side(item, ctx.options) for item in items]
    bad = [item.sample.index for item, (side, _) in zip(items, resolved, strict=True) if side is None]
    if bad:
        return _not_scored(items, f"pairwise_side must be 0 or 1; invalid for samples {bad[:5]}", {})
    sides = [side or 0 for side, _ in resolved]
    denominator = _denominator(ctx, len(items))
    direct = bool(ctx.options.get("direct", True))
    judge = ctx.judge
    judged = _judge_all(items, sides, judge, direct)
    samples = [_sample(item, side, source, result)
               for item, side, (_, source), result in zip(items, sides, resolved, judged, strict=True)]
    failures = [(item.sample.index, result.failure) for item, result in zip(items, judged, strict=True)
                if result.failure is not None]
    breakdown: dict[str, Any] = {"judge_model": judge.model, "judge_temperature": JUDGE_TEMPERATURE,
                                 "judge_max_tokens": JUDGE_MAX_TOKENS}
    if failures:
        first_index, first_error = failures[0]
        reason = (f"judge failed for {len(failures)} of {len(items)} conversations (first: {first_index}: "
                  f"{first_error}); re-run to retry them")
        return SuiteScore("convbench_judge", None, len(items), {**breakdown, "judge_failures": len(failures)},
                          samples, reason=reason)
    breakdown.update(_breakdown(items, sides, judged, denominator, direct))
    return SuiteScore("convbench_judge", breakdown["pairwise_R1"], len(items), breakdown, samples)
