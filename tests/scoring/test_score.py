"""The scoring pipeline: pairing by index, errors, protocol disagreements."""

from __future__ import annotations

import pytest

from evalkit.catalog.cards import load_catalog
from evalkit.data.sample import Sample
from evalkit.errors import DataError
from evalkit.scoring.score import Prediction, pair_items, score_with_comparison


def samples() -> list[Sample]:
    return [Sample(index=i, question=f"q{i}", answers=(answer,)) for i, answer in enumerate(["3", "yes", "100"])]


def test_pairing_follows_dataset_order_and_skips_missing_predictions():
    items = pair_items(samples(), [Prediction(2, "a"), Prediction(0, "b")], "x")
    assert [(item.sample.index, item.prediction) for item in items] == [(0, "b"), (2, "a")]


def test_string_indices_from_spreadsheets_find_integer_samples():
    (item,) = pair_items(samples(), [Prediction("1", "z")], "x")
    assert item.sample.index == 1


def test_a_prediction_for_an_unknown_index_is_an_error():
    with pytest.raises(DataError, match=r"file.jsonl: prediction for index 7 matches no sample"):
        pair_items(samples(), [Prediction(7, "a")], "file.jsonl")


def test_textvqa_protocols_disagree_on_a_trailing_period():
    # textvqa_eval.py@83c72bc vs vqa_eval.py@e8e78f05: '3.' matches GT '3' under InternVL's normalisation,
    # not under VLMEvalKit's.
    spec = load_catalog().get("TextVQA_VAL")
    sample = Sample(index=0, question="q", answers=("3",) * 10)
    items = pair_items([sample], [Prediction(0, "3.")], "x")
    result = score_with_comparison(spec, "paper", items, None)
    assert result.suite.score == 100.0
    assert result.comparison["protocol"] == "vlmevalkit" and result.comparison["other_score"] == 0.0
    assert result.comparison["samples_scored_differently"] == 1 and result.comparison["examples"] == ["0"]


def test_an_inference_error_scores_zero_and_is_counted():
    spec = load_catalog().get("DocVQA_VAL")
    items = pair_items(samples()[:2], [Prediction(0, "3"), Prediction(1, "", "SampleError: unreadable image")], "x")
    result = score_with_comparison(spec, "paper", items, None)
    assert result.suite.score == 50.0 and result.suite.breakdown["errors"] == 1
    assert [sample.method for sample in result.suite.samples][1] == "error"
