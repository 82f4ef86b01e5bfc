"""RefCOCO Precision@1 (docs/protocols.md, "RefCOCO"): hand-worked IoUs and split averages from both references."""

from __future__ import annotations

import math
import random

import pytest

from evalkit.data.sample import Sample
from evalkit.scoring.extract.box import float32
from evalkit.scoring.metrics.grounding import (
    ground_truth_boxes,
    iou_internvl,
    iou_vlmevalkit,
    refcoco_suite,
    refcoco_vlmevalkit_suite,
    split_of,
)
from evalkit.scoring.types import Extraction, ScoringContext, ScoringItem

CTX = ScoringContext()


def item(index, box, gt="[0, 0, 100, 100]", category="RefCOCO val", error=None, **metadata):
    answers = () if gt is None else (gt,)
    meta = {"width": 640, "height": 480, "category": category, **metadata}
    extraction = Extraction(box, "rule" if box is not None else "none")
    return ScoringItem(Sample(index, "a dog", answers=answers, metadata=meta), "reply", error, extraction)


# --- splits -------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("metadata", "split"),
    [({"category": "RefCOCO+ testA"}, "RefCOCO+_testA"), ({"category": "RefCOCOg test"}, "RefCOCOg_test"),
     ({"category": "RefCOCO val"}, "RefCOCO_val"), ({"category": "RefCOCO  Test-B"}, "RefCOCO_testB"),
     ({"category": "RefCOCO foo-bar"}, "RefCOCO_foo_bar"), ({"category": "RefCOCOg"}, "RefCOCOg"),
     ({"category": "RefCOCO val", "split": "mine"}, "mine"), ({}, "RefCOCO")],
)
def test_split_names(metadata, split):
    assert split_of(Sample(0, "q", metadata=metadata)) == split


# --- IoU ------------------------------------------------------------------------------------------------------

def test_iou_identical_half_and_disjoint():
    for iou in (iou_internvl, iou_vlmevalkit):
        assert iou([0, 0, 10, 10], [0, 0, 10, 10]) == 1.0
        assert iou([0, 0, 10, 10], [0, 0, 10, 20]) == 0.5
        assert iou([0, 0, 10, 10], [5, 0, 15, 10]) == pytest.approx(50 / 150, rel=1e-6)
        assert iou([0, 0, 10, 10], [20, 20, 30, 30]) == 0.0


def test_inverted_box_internvl_negative_area_vlmevalkit_zero():
    # InternVL: x inverted -> area (0 - 10) * 10 = -100; intersection 0 (clamped); union -100 + 100 - 0 = 0;
    # torch's 0/0 is NaN, never a hit
    assert math.isnan(iou_internvl([10, 0, 0, 10], [0, 0, 10, 10]))
    # both sides inverted: the area is +100 again; union 100 + 400 - 0 -> 0
    assert iou_internvl([10, 10, 0, 0], [0, 0, 20, 20]) == 0.0
    # x inverted against a smaller GT: union -100 + 25 = -75 -> 0 / -75 = -0.0
    assert iou_internvl([10, 0, 0, 10], [0, 0, 5, 5]) == 0.0
    assert iou_vlmevalkit([10, 0, 0, 10], [0, 0, 10, 10]) == 0.0


def test_internvl_iou_matches_torch_float32():
    torch = pytest.importorskip("torch")
    rng = random.Random(7)
    for _ in range(2000):
        p = [rng.uniform(-50, 700) for _ in range(4)]
        t = [rng.uniform(0, 300), rng.uniform(0, 300), rng.uniform(300, 640), rng.uniform(300, 480)]
        pb = torch.tensor(p, dtype=torch.float32).view(-1, 4)
        tb = torch.tensor(t, dtype=torch.float32).view(-1, 4)
        area1 = (pb[:, 2] - pb[:, 0]) * (pb[:, 3] - pb[:, 1])
        area2 = (tb[:, 2] - tb[:, 0]) * (tb[:, 3] - tb[:, 1])
        lt = torch.max(pb[:, None, :2], tb[:, :2])
        rb = torch.min(pb[:, None, 2:], tb[:, 2:])
        wh = (rb - lt).clamp(min=0)
        inter = wh[:, :, 0] * wh[:, :, 1]
        expected = (inter / (area1[:, None] + area2 - inter)).item()
        got = iou_internvl(p, t)
        assert got == expected or (math.isnan(got) and math.isnan(expected))


# --- ground truth ---------------------------------------------------------------------------------------------

def test_gt_from_columns_then_answer():
    samples = [Sample(0, "q", answers=("[1, 2, 3, 4]",), metadata={"bbox_x1": 5, "bbox_y1": 6, "bbox_x2": 7,
                                                                    "bbox_y2": 8}),
               Sample(1, "q", answers=("[10, 20, 30, 40]",), metadata={"width": 100, "height": 100})]
    assert ground_truth_boxes(samples) == [[5.0, 6.0, 7.0, 8.0], [10.0, 20.0, 30.0, 40.0]]


def test_gt_fractions_when_the_whole_set_is_at_most_1_5():
    samples = [Sample(0, "q", answers=("[0.1, 0.2, 0.5, 1.0]",), metadata={"width": 200, "height": 100}),
               Sample(1, "q", answers=("[0, 0, 1.5, 1]",), metadata={"width": 10, "height": 10})]
    assert ground_truth_boxes(samples) == [[20.0, 20.0, 100.0, 100.0], [0.0, 0.0, 15.0, 10.0]]


# --- the suites -----------------------------------------------------------------------------------------------

def suite_items():
    return [
        item(0, [0.0, 0.0, 100.0, 100.0], category="RefCOCO val"),  # IoU 1
        item(1, [0.0, 0.0, 100.0, 50.0], category="RefCOCO val"),  # IoU 0.5: a hit
        item(2, [0.0, 0.0, 100.0, 49.0], category="RefCOCO testA"),  # IoU 0.49
        item(3, [0.0, 0.0, 100.0, 100.0], category="RefCOCO testA", error="boom"),  # error
        item(4, [0.0, 0.0, 100.0, 100.0], category="RefCOCO+ testB"),  # IoU 1
        item(5, None, category="RefCOCO+ testB"),  # nothing extracted
    ]


def test_paper_precision_per_split_and_macro_mean():
    result = refcoco_suite(suite_items(), CTX)
    assert result.breakdown["splits"] == {"RefCOCO_val": 100.0, "RefCOCO_testA": 0.0, "RefCOCO+_testB": 50.0}
    assert result.score == 50.0
    assert result.breakdown["errors"] == 1
    assert [s.score for s in result.samples] == [1.0, 1.0, 0.0, 0.0, 1.0, 0.0]
    assert result.samples[3].method == "error"
    assert result.samples[1].extra["iou"] == 0.5


def test_vlmevalkit_rows_and_average():
    result = refcoco_vlmevalkit_suite(suite_items(), CTX)
    rows = result.breakdown["splits"]
    assert rows["RefCOCO_val"] == {"Precision@1": 100.0, "Average IoU": 0.75, "Samples": 2}
    assert rows["RefCOCO_testA"] == {"Precision@1": 0.0, "Average IoU": 0.245, "Samples": 2}
    assert rows["RefCOCO+_testB"] == {"Precision@1": 50.0, "Average IoU": 0.5, "Samples": 2}
    assert result.score == 50.0
    assert result.breakdown["Average"]["Samples"] == 6
    assert result.breakdown["Average"]["Average IoU"] == pytest.approx((0.75 + 0.245 + 0.5) / 3, rel=1e-12)


def test_vlmevalkit_average_is_pooled_without_standard_splits():
    items = [item(0, [0.0, 0.0, 100.0, 100.0], category="Mine a"), item(1, None, category="Mine a"),
             item(2, None, category="Other b")]
    result = refcoco_vlmevalkit_suite(items, CTX)
    assert result.score == pytest.approx(100 / 3, rel=1e-12)


def test_internvl_float32_hit_boundary():
    # a 0-1000 reply of [0, 0, 500, 500] on a 200 x 200 image is [0, 0, 100, 100] in float32
    box = [float32(float32(0.5) * 200)] * 2
    result = refcoco_suite([item(0, [0.0, 0.0, *box])], CTX)
    assert result.score == 100.0


def test_hidden_and_empty():
    result = refcoco_suite([item(0, [0.0, 0.0, 1.0, 1.0], gt=None)], CTX)
    assert result.score is None
    assert result.reason == "answers hidden"
    assert refcoco_vlmevalkit_suite([], CTX).score is None
