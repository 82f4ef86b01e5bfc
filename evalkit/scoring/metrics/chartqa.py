"""ChartQA relaxed accuracy (docs/protocols.md): numbers within 5 %, everything else exact (case-insensitive).

Official definitions: ``OpenGVLab/InternVL:internvl_chat/eval/vqa/evaluate_vqa.py`` (``relaxed_correctness``,
``evaluate_relaxed_accuracy``; paper protocol) and ``open-compass/VLMEvalKit:vlmeval/dataset/utils/vqa_eval.py``
(``relaxed_correctness``, ``process_line(method='relaxed_accuracy')``, ``hit_calculate``) with
``vlmeval/dataset/image_vqa.py`` (``ImageVQADataset.evaluate``; VLMEvalKit protocol). Both descend from
``google-research/pix2struct:pix2struct/metrics.py``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from evalkit.scoring.metrics.common import (
    base_breakdown,
    compared_text,
    detail_prediction,
    error_sample,
    group_values,
    mean,
    metadata_text,
    not_scored_suite,
    scored_values,
    unscorable_reason,
    unscored_sample,
)
from evalkit.scoring.types import SampleScore, ScoringContext, ScoringItem, SuiteScore

MAX_RELATIVE_CHANGE = 0.05
HUMAN = "test_human"
AUGMENTED = "test_augmented"


def to_float(text: str) -> float | None:
    """pix2struct's ``_to_float``: a trailing ``%`` run is removed and the value divided by 100; else ``float``.

    Python's ``float`` decides, so ``1e3``, ``nan``, ``inf``, ``1_000`` and surrounding whitespace
    parse while ``1,000`` does not. None when it does not parse.
    """
    try:
        if text.endswith("%"):
            return float(text.rstrip("%")) / 100.0
        return float(text)
    except ValueError:
        return None


def relaxed_correctness(target: str, prediction: str) -> bool:
    """pix2struct's rule: if ``prediction`` parses and ``target`` parses to a non-zero number (NaN counts as
    non-zero, as Python truthiness has it), correct iff ``|prediction − target| / |target| ≤ 0.05``;
    otherwise correct iff both lowercase to the same string."""
    prediction_value = to_float(prediction)
    target_value = to_float(target)
    if prediction_value is not None and target_value:
        return abs(prediction_value - target_value) / abs(target_value) <= MAX_RELATIVE_CHANGE
    return prediction.lower() == target.lower()


def relaxed_internvl(prediction: str, answer: str) -> bool:
    """InternVL's call ``relaxed_correctness(pred.strip(), ann)``: the roles are swapped, so the **prediction**
    must be non-zero and is the denominator; the annotation must parse. The annotation is not stripped."""
    return relaxed_correctness(prediction.strip(), answer)


def relaxed_vlmevalkit(prediction: str, answer: str) -> bool:
    """VLMEvalKit HEAD's call ``relaxed_correctness(gt, pred.strip())``: the correct orientation (the
    ground truth must be non-zero and is the denominator; the prediction must parse)."""
    return relaxed_correctness(answer, prediction.strip())


def split_name(value: str | None) -> str | None:
    """``test_human`` / ``test_augmented`` from any spelling the sources use (``human_test``, ``human`` …)."""
    if value is None:
        return None
    lowered = value.lower()
    if "human" in lowered:
        return HUMAN
    if "augmented" in lowered:
        return AUGMENTED
    return value


Rule = Callable[[str, str], bool]


def _score_item(item: ScoringItem, rule: Rule) -> SampleScore:
    split = split_name(metadata_text(item.sample, "split"))
    if item.error is not None:
        return error_sample(item, split=split)
    if not item.sample.answers:
        return unscored_sample(item, "no ground truth", split=split)
    text = compared_text(item)
    hits = [rule(text, answer) for answer in item.sample.answers]
    value = 1.0 if any(hits) else 0.0
    return SampleScore(item.sample.index, detail_prediction(item), text.strip(), value, item.extraction.method,
                       {"split": split, "hits": [int(hit) for hit in hits]})


def _split_percents(samples: Sequence[SampleScore]) -> dict[str, float]:
    groups = group_values((sample.extra.get("split"), sample.score) for sample in samples)
    return {key: sum(values) / len(values) * 100.0 for key, values in sorted(groups.items())}


def _suite(metric: str, items: Sequence[ScoringItem], rule: Rule, headline: str) -> SuiteScore:
    reason = unscorable_reason(items)
    if reason is not None:
        return not_scored_suite(metric, items, reason)
    samples = [_score_item(item, rule) for item in items]
    splits = _split_percents(samples)
    pooled = mean(scored_values(samples))
    overall = None if pooled is None else pooled * 100.0
    breakdown: dict[str, Any] = {**base_breakdown(items, samples), "splits": splits, "Overall": overall}
    if headline == "split_mean" and splits:
        score: float | None = sum(splits.values()) / len(splits)
        breakdown["headline"] = "mean of the split accuracies"
    else:
        score = overall
        breakdown["headline"] = "pooled mean over all samples"
    return SuiteScore(metric, score, len(items), breakdown, samples,
                      reason=None if score is not None else "no sample has a ground truth")


def relaxed_accuracy_suite(items: Sequence[ScoringItem], ctx: ScoringContext) -> SuiteScore:
    """The card metric ``relaxed_accuracy`` (paper protocol): (test_human + test_augmented) / 2, in percent.

    Official: ``evaluate_vqa.py`` ``evaluate_relaxed_accuracy`` run once per split file. Quirks kept:
    ``relaxed_correctness(answer.strip(), ann)`` swaps the roles (see :func:`relaxed_internvl`), so GT 100
    against 95.2 fails (4.8 / 95.2 > 0.05) and a prediction of 0 can only match by string; the sample
    score is the max over annotations; the headline is the unweighted mean of the split means. Splits come
    from ``metadata["split"]`` (``test_human``/``human_test``/``human`` …); with one split present the
    headline is that split, without any the pooled mean. A failed inference scores 0.
    """
    return _suite("relaxed_accuracy", items, relaxed_internvl, "split_mean")


def relaxed_accuracy_vlmevalkit_suite(items: Sequence[ScoringItem], ctx: ScoringContext) -> SuiteScore:
    """The card metric ``relaxed_accuracy_vlmevalkit``: VLMEvalKit HEAD's ``Overall`` (pooled mean), percent.

    Official: ``process_line(method='relaxed_accuracy')`` with ``relaxed_correctness(x, pred.strip())``
    (correct orientation, :func:`relaxed_vlmevalkit`), ``hit_calculate`` = max over the answers, and
    ``ImageVQADataset.evaluate``: one accuracy per ``split`` plus the pooled ``Overall`` (equal to the
    split mean when the splits have the same size). VLMEvalKit up to late 2024 called
    ``relaxed_correctness(pred, x)`` (InternVL's swapped orientation); HEAD is reproduced here.
    """
    return _suite("relaxed_accuracy_vlmevalkit", items, relaxed_vlmevalkit, "pooled")
