"""Scoring: a card's extractor and metric applied to predictions, written as details and scores.

Inference and scoring are separate: scoring needs only predictions and the
samples they answer, so a run can be re-scored, or a VLMEvalKit prediction file
scored, without a GPU. Every ``scores.json`` also says how many samples the
other protocol scores differently, so a gap to a published number can be traced.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from evalkit.catalog.spec import PROTOCOLS, BenchmarkSpec
from evalkit.data.cells import MISSING_ANSWER_TEXT, is_pandas_na
from evalkit.data.sample import Sample
from evalkit.errors import DataError
from evalkit.judge.base import Judge, JudgeError
from evalkit.run.folder import index_key
from evalkit.scoring.registry import extractor_named, metric_named
from evalkit.scoring.types import Extraction, SampleScore, ScoringContext, ScoringItem, SuiteScore

EXTRACTION_WORKERS = 8


@dataclass(frozen=True)
class Prediction:
    """One prediction to score: the dataset index, the raw reply (a tuple for multi-turn), the inference error."""

    index: Any
    prediction: str | tuple[str, ...]
    error: str | None = None

    @classmethod
    def from_record(cls, record: Mapping[str, Any]) -> Prediction:
        raw = record.get("prediction")
        prediction: str | tuple[str, ...] = tuple(str(p) for p in raw) if isinstance(raw, list) else _text(raw)
        return cls(record["index"], prediction, record.get("error"))


def _text(value: Any) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return ""
    return str(value)


def _candidate_keys(index: Any) -> list[str]:
    """The index as given, as text, and as a number when a spreadsheet turned an integer into text."""
    keys = [index_key(index), index_key(str(index))]
    text = str(index).strip()
    if text.lstrip("-").isdigit():
        keys.append(index_key(int(text)))
    return keys


def pair_items(samples: Sequence[Sample], predictions: Iterable[Prediction], where: str) -> list[ScoringItem]:
    """Pair predictions with their samples by the dataset index, in dataset order; an unknown index is an error."""
    by_key = {index_key(sample.index): sample for sample in samples}
    found: dict[str, Prediction] = {}
    for prediction in predictions:
        key = next((key for key in _candidate_keys(prediction.index) if key in by_key), None)
        if key is None:
            raise DataError(f"{where}: prediction for index {prediction.index!r} matches no sample of the suite")
        found[key] = prediction
    items = []
    for sample in samples:
        match = found.get(index_key(sample.index))
        if match is not None:
            items.append(ScoringItem(sample, match.prediction, match.error))
    return items


def _extract_one(item: ScoringItem, name: str, context: ScoringContext) -> ScoringItem:
    if item.error is not None:
        return dataclasses.replace(item, extraction=Extraction(None, "error", item.error))
    reply = item.prediction if isinstance(item.prediction, str) else "\n".join(item.prediction)
    try:
        extraction = extractor_named(name)(reply, item.sample, context)
    except JudgeError as exc:
        extraction = Extraction(None, "none", f"judge failed: {exc}")
    return dataclasses.replace(item, extraction=extraction)


def extract_all(items: Sequence[ScoringItem], name: str, context: ScoringContext) -> list[ScoringItem]:
    """Apply the extractor to every item; judge calls run concurrently (the judge bounds its own concurrency)."""
    if context.judge is None or len(items) < 2:
        return [_extract_one(item, name, context) for item in items]
    with ThreadPoolExecutor(max_workers=EXTRACTION_WORKERS) as pool:
        return list(pool.map(lambda item: _extract_one(item, name, context), items))


def score_context(spec: BenchmarkSpec, protocol: str, judge: Judge | None, seed: int = 0) -> ScoringContext:
    chosen = spec.protocol(protocol)
    return ScoringContext(options=chosen.scoring_options, judge=judge, seed=seed, language=spec.language)


def score_items(spec: BenchmarkSpec, protocol: str, items: Sequence[ScoringItem], judge: Judge | None,
                seed: int = 0) -> tuple[SuiteScore, list[ScoringItem]]:
    """Score paired items under ``protocol``: the card's extractor, then its metric; also the extracted items."""
    chosen = spec.protocol(protocol)
    context = score_context(spec, protocol, judge, seed)
    extracted = extract_all(replies_as_read(items, chosen.cells), chosen.extractor, context)
    suite = metric_named(chosen.metric)(extracted, context)
    return _with_raw_replies(suite, items), [dataclasses.replace(e, prediction=item.prediction)
                                             for e, item in zip(extracted, items, strict=True)]


def replies_as_read(items: Sequence[ScoringItem], cells: str) -> list[ScoringItem]:
    """The replies as the protocol's reference reads them back before scoring.

    Under the ``pandas`` cell rule the reference stores replies in a spreadsheet and reads it back with
    pandas (VLMEvalKit's ``inference.py`` dumps an xlsx that ``evaluate`` loads; InternVL's MMBench script
    writes the xlsx VLMEvalKit scores), then formats each reply with ``str``: a reply that is exactly one
    of pandas' NA strings (``None``, ``N/A``, the empty reply…) is scored as ``nan``. Multi-turn replies
    are kept. ``details.jsonl`` still shows the raw reply.
    """
    if cells != "pandas":
        return list(items)
    return [dataclasses.replace(item, prediction=MISSING_ANSWER_TEXT)
            if isinstance(item.prediction, str) and is_pandas_na(item.prediction) else item for item in items]


def _with_raw_replies(suite: SuiteScore, items: Sequence[ScoringItem]) -> SuiteScore:
    raw = {index_key(item.sample.index): item.prediction for item in items if isinstance(item.prediction, str)}
    samples = [dataclasses.replace(sample, prediction=raw.get(index_key(sample.index), sample.prediction))
               if isinstance(sample.prediction, str) else sample for sample in suite.samples]
    return dataclasses.replace(suite, samples=samples)


def other_protocol(protocol: str) -> str:
    return next(name for name in PROTOCOLS if name != protocol)


def disagreements(main: SuiteScore, other: SuiteScore) -> dict[str, Any]:
    """How many samples both protocols decided and scored differently, with a few examples."""
    other_by_index = {index_key(sample.index): sample for sample in other.samples}
    differ: list[SampleScore] = []
    undecided = 0
    for sample in main.samples:
        counterpart = other_by_index.get(index_key(sample.index))
        if counterpart is None or sample.score is None or counterpart.score is None:
            undecided += 1
        elif abs(sample.score - counterpart.score) > 1e-9:
            differ.append(sample)
    return {"samples_scored_differently": len(differ), "not_compared": undecided,
            "other_score": other.score, "examples": [str(sample.index) for sample in differ[:10]]}


@dataclass(frozen=True)
class ScoringResult:
    suite: SuiteScore
    items: list[ScoringItem]
    comparison: dict[str, Any]


def score_with_comparison(spec: BenchmarkSpec, protocol: str, items: Sequence[ScoringItem], judge: Judge | None,
                          seed: int = 0) -> ScoringResult:
    """The protocol's score, and how the other protocol (rules only, no judge calls) differs on the same items."""
    main, extracted = score_items(spec, protocol, items, judge, seed)
    other_name = other_protocol(protocol)
    other, _ = score_items(spec, other_name, items, None, seed)
    return ScoringResult(main, extracted, {"protocol": other_name, "judge": None, **disagreements(main, other)})
