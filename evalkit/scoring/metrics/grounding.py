"""RefCOCO / RefCOCO+ / RefCOCOg grounding (docs/protocols.md, "RefCOCO"): Precision@1 at IoU ≥ 0.5 per split.

Official definitions: ``OpenGVLab/InternVL:internvl_chat/eval/refcoco/evaluate_grounding.py`` (``box_iou`` and the
loop in ``evaluate_chat_model``; paper protocol) and ``open-compass/VLMEvalKit:vlmeval/dataset/refcoco.py``
(``RefCOCODataset.evaluate``, ``_compute_iou``, ``_extract_gt_bbox``, ``_category_to_split``; VLMEvalKit protocol).
The boxes themselves come from the extractors in :mod:`evalkit.scoring.extract.box`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from typing import Any

from evalkit.data.sample import Sample
from evalkit.scoring.extract.box import Box, float32, parse_box_vlmevalkit, vlmevalkit_size
from evalkit.scoring.metrics.common import (
    base_breakdown,
    detail_prediction,
    finite_or_none,
    group_values,
    mean,
    metadata_text,
    not_scored_suite,
)
from evalkit.scoring.types import SampleScore, ScoringContext, ScoringItem, SuiteScore

IOU_THRESHOLD = 0.5
SPLITS = ("RefCOCO_val", "RefCOCO_testA", "RefCOCO_testB", "RefCOCO+_val", "RefCOCO+_testA", "RefCOCO+_testB",
          "RefCOCOg_val", "RefCOCOg_test")
_SUFFIXES = {"val": "val", "test": "test", "testa": "testA", "testb": "testB"}
_BOX_COLUMNS = (("bbox_x1", "bbox_y1", "bbox_x2", "bbox_y2"), ("x1", "y1", "x2", "y2"))


def split_of(sample: Sample, default: str = "RefCOCO") -> str:
    """The split label: ``metadata["split"]``, else VLMEvalKit's ``_category_to_split`` of the category
    (``"RefCOCO+ testA"`` → ``"RefCOCO+_testA"``), else ``default``."""
    split = metadata_text(sample, "split")
    if split is not None:
        return split
    category = metadata_text(sample, "category")
    if category is None:
        return default
    label, _, remainder = category.partition(" ")
    remainder = remainder.strip()
    if not remainder:
        return label
    suffix = _SUFFIXES.get(re.sub(r"[\s_-]+", "", remainder.lower()))
    if suffix is None:
        suffix = remainder.replace(" ", "_").replace("-", "_")
    return f"{label}_{suffix}"


def _column_box(sample: Sample) -> Box | None:
    for columns in _BOX_COLUMNS:
        values = [sample.metadata.get(column) for column in columns]
        try:
            box = [float(value) for value in values]  # type: ignore[arg-type]
        except (TypeError, ValueError, OverflowError):
            continue
        if not any(math.isnan(value) for value in box):
            return box
    return None


def ground_truth_boxes(samples: Sequence[Sample]) -> list[Box | None]:
    """Each sample's GT box in pixels: the ``bbox_x1..y2`` (or ``x1..y2``) columns, else ``answers[0]``.

    As VLMEvalKit's loader does, answer boxes are pixels unless the largest absolute value over the
    whole set is ≤ 1.5, in which case they are fractions of the image size.
    """
    boxes = [_column_box(sample) for sample in samples]
    from_answers = {i: parse_box_vlmevalkit(sample.answers[0]) for i, sample in enumerate(samples)
                    if boxes[i] is None and sample.answers}
    values = [abs(value) for box in from_answers.values() if box is not None for value in box]
    fractions = bool(values) and max(values) <= 1.5
    for i, box in from_answers.items():
        if box is not None and fractions:
            width, height = vlmevalkit_size(samples[i])
            box = [box[0] * width, box[1] * height, box[2] * width, box[3] * height]
        boxes[i] = box
    return boxes


def iou_internvl(predicted: Box, target: Box) -> float:
    """torchvision-style ``box_iou`` in float32: intersection sides clamped at 0, areas not clamped.

    An inverted box has a negative area; 0/0 gives NaN, which is never a hit.
    """
    p = [float32(value) for value in predicted]
    t = [float32(value) for value in target]
    if any(math.isnan(value) for value in p + t):
        return math.nan
    area_p = float32(float32(p[2] - p[0]) * float32(p[3] - p[1]))
    area_t = float32(float32(t[2] - t[0]) * float32(t[3] - t[1]))
    width = max(float32(min(p[2], t[2]) - max(p[0], t[0])), 0.0)
    height = max(float32(min(p[3], t[3]) - max(p[1], t[1])), 0.0)
    inter = float32(width * height)
    union = float32(float32(area_p + area_t) - inter)
    if union == 0:  # torch: 0/0 is NaN, a positive number over ±0 is ±inf
        return math.nan if inter == 0 else math.copysign(math.inf, union)
    return float32(inter / union)


def iou_vlmevalkit(predicted: Box, target: Box) -> float:
    """VLMEvalKit's ``_compute_iou`` (float64): 0 without overlap or with a non-positive union."""
    left, top = max(predicted[0], target[0]), max(predicted[1], target[1])
    right, bottom = min(predicted[2], target[2]), min(predicted[3], target[3])
    if right <= left or bottom <= top:
        return 0.0
    inter = (right - left) * (bottom - top)
    area_p = max(predicted[2] - predicted[0], 0) * max(predicted[3] - predicted[1], 0)
    area_t = max(target[2] - target[0], 0) * max(target[3] - target[1], 0)
    union = area_p + area_t - inter
    return 0.0 if union <= 0 else inter / union


IoU = Callable[[Box, Box], float]


def _score_items(items: Sequence[ScoringItem], iou: IoU) -> list[SampleScore]:
    targets = ground_truth_boxes([item.sample for item in items])
    samples = []
    for item, target in zip(items, targets, strict=True):
        split = split_of(item.sample)
        predicted = item.extraction.value
        extra: dict[str, Any] = {"split": split, "gt_box": target}
        if item.error is not None:
            samples.append(SampleScore(item.sample.index, detail_prediction(item), None, 0.0, "error",
                                       {**extra, "iou": 0.0, "error": item.error}))
            continue
        if target is None:
            samples.append(SampleScore(item.sample.index, detail_prediction(item), predicted, None,
                                       item.extraction.method, {**extra, "not_scored": "no ground-truth box"}))
            continue
        value = iou(list(predicted), target) if isinstance(predicted, list) and len(predicted) == 4 else 0.0
        extra["iou"] = finite_or_none(value)
        samples.append(SampleScore(item.sample.index, detail_prediction(item), predicted,
                                   1.0 if value >= IOU_THRESHOLD else 0.0, item.extraction.method, extra))
    return samples


def _ordered(groups: dict[str, list[float]]) -> list[str]:
    known = [name for name in SPLITS if name in groups]
    return known + sorted(set(groups) - set(known))


def _unscorable(metric: str, items: Sequence[ScoringItem]) -> SuiteScore | None:
    if not items:
        return not_scored_suite(metric, items, "no samples to score")
    if all(not item.sample.answers and _column_box(item.sample) is None for item in items):
        return not_scored_suite(metric, items, "answers hidden")
    return None


def refcoco_suite(items: Sequence[ScoringItem], ctx: ScoringContext) -> SuiteScore:
    """The card metric ``refcoco`` (paper protocol): Precision@1 (IoU ≥ 0.5) × 100 per split; headline = the
    unweighted mean over the splits present (the 8-split macro mean on the full set).

    Official: ``evaluate_grounding.py`` (one run per split; ``correct / total_cnt``). Quirks kept: IoU in
    float32 as the torch tensors compute it, areas of inverted boxes negative (never a hit); the box
    comes from ``box_internvl`` ((0, 0, 0, 0) when the reply has none). The paper's README averages
    nothing; the macro mean is our headline. A failed inference is a miss.
    """
    unscorable = _unscorable("refcoco", items)
    if unscorable is not None:
        return unscorable
    samples = _score_items(items, iou_internvl)
    groups = group_values((sample.extra.get("split"), sample.score) for sample in samples)
    splits = {name: sum(groups[name]) / len(groups[name]) * 100.0 for name in _ordered(groups)}
    score = sum(splits.values()) / len(splits) if splits else None
    breakdown: dict[str, Any] = {**base_breakdown(items, samples), "splits": splits,
                                 "samples_per_split": {name: len(groups[name]) for name in splits}}
    return SuiteScore("refcoco", score, len(items), breakdown, samples,
                      reason=None if score is not None else "no sample has a ground-truth box")


def _split_row(hits: list[float], ious: list[float]) -> dict[str, Any]:
    return {"Precision@1": sum(hits) / len(hits) * 100.0, "Average IoU": sum(ious) / len(ious), "Samples": len(hits)}


def refcoco_vlmevalkit_suite(items: Sequence[ScoringItem], ctx: ScoringContext) -> SuiteScore:
    """The card metric ``refcoco_vlmevalkit``: VLMEvalKit's ``Average`` Precision@1 (percent).

    Official: ``RefCOCODataset.evaluate``: per split ``Precision@1`` (× 100), ``Average IoU`` (a 0–1
    fraction, not × 100) and ``Samples``; ``Average`` = the unweighted mean over the rows of the eight
    standard splits present, or the pooled mean when none of them is present. Samples without a
    usable box score IoU 0. A failed inference is IoU 0 and a miss.
    """
    unscorable = _unscorable("refcoco_vlmevalkit", items)
    if unscorable is not None:
        return unscorable
    samples = _score_items(items, iou_vlmevalkit)
    scored = [sample for sample in samples if sample.score is not None]
    hits = group_values((sample.extra.get("split"), sample.score) for sample in scored)
    ious = group_values((sample.extra.get("split"), sample.extra.get("iou") or 0.0) for sample in scored)
    rows = {name: _split_row(hits[name], ious[name]) for name in _ordered(hits)}
    macro = [row for name, row in rows.items() if name in SPLITS]
    average: dict[str, Any] | None
    if macro:
        average = {"Precision@1": mean(row["Precision@1"] for row in macro),
                   "Average IoU": mean(row["Average IoU"] for row in macro),
                   "Samples": sum(row["Samples"] for row in macro)}
    else:
        all_hits = [sample.score for sample in scored if sample.score is not None]
        average = _split_row(all_hits, [sample.extra.get("iou") or 0.0 for sample in scored]) if all_hits else None
    score = None if average is None else average["Precision@1"]
    breakdown: dict[str, Any] = {**base_breakdown(items, samples), "splits": rows, "Average": average}
    return SuiteScore("refcoco_vlmevalkit", score, len(items), breakdown, samples,
                      reason=None if score is not None else "no sample has a ground-truth box")
