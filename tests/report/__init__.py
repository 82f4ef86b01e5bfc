"""Helpers for the report tests: run directories written by hand, as ``evalkit run`` lays them out."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from evalkit.catalog.cards import load_catalog


def scores(name: str, metric: str, score: float | None, *, breakdown: dict[str, Any] | None = None,
           protocol: str = "paper", reason: str | None = None, n: int = 10) -> dict[str, Any]:
    """A scores.json document; the variant is the card's for ``protocol`` (so "paper" is comparable)."""
    variant = load_catalog().get(name).protocols[protocol].variant
    return {"benchmark": name, "metric": metric, "score": score, "n": n, "breakdown": breakdown or {},
            "higher_is_better": True, "reason": reason, "protocol": protocol, "variant": variant}


def write_run(root: Path, model: str, suites: dict[str, dict[str, Any]], *, protocol: str = "paper",
              spec: str | None = None) -> Path:
    """A run directory: manifest.json plus ``<BENCH>/scores.json`` and ``details.jsonl`` per suite."""
    root.mkdir(parents=True)
    manifest = {"evalkit_version": "0.1.0", "model_spec": spec or f"hf:{model}", "protocol": protocol,
                "model": {"name": model, "backend": "hf"}, "benchmarks": {name: {} for name in suites}}
    (root / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    for name, document in suites.items():
        folder = root / name
        folder.mkdir()
        (folder / "scores.json").write_text(json.dumps(document), encoding="utf-8")
        (folder / "details.jsonl").write_text(json.dumps({"index": 0, "prediction": "x", "extracted": None,
                                                          "score": 0.0}) + "\n", encoding="utf-8")
    return root


def alpha_suites() -> dict[str, dict[str, Any]]:
    """Run "alpha-7b": a val split, a not-scored suite, a vlmevalkit-scored suite, MMT-Bench with Overall*."""
    return {
        "DocVQA_VAL": scores("DocVQA_VAL", "anls", 85.25),
        "ChartQA_TEST": scores("ChartQA_TEST", "relaxed_accuracy", 80.0,
                               breakdown={"splits": {"test_human": 70.0, "test_augmented": 90.0}, "Overall": 80.0,
                                          "headline": "mean of the split accuracies"}),
        "OCRBench": scores("OCRBench", "ocrbench", 700.0, breakdown={"categories": {"Regular Text Recognition": 48}}),
        "MME": scores("MME", "mme", 2000.5, breakdown={"perception": 1500.25, "cognition": 500.25, "subtasks": {
            "existence": {"acc": 95.0, "acc_plus": 90.0, "score": 185.0}}}),
        "MMVet": scores("MMVet", "mmvet_judge", None, reason="needs a judge (GPT-4 grading)"),
        "AI2D_TEST": scores("AI2D_TEST", "accuracy", 99.0, protocol="vlmevalkit"),
        "MMT-Bench_ALL": scores("MMT-Bench_ALL", "mmt_accuracy", 60.0,
                                breakdown={"overall": 60.0, "overall_star": 57.5}),
    }


def beta_suites() -> dict[str, dict[str, Any]]:
    """Run "beta-26b": DocVQA test (comparable), a ChartQA tie with the paper, MMT-Bench VAL (not ALL)."""
    return {
        "DocVQA_TEST": scores("DocVQA_TEST", "anls", 95.0),
        "ChartQA_TEST": scores("ChartQA_TEST", "relaxed_accuracy", 83.8),
        "MMT-Bench_VAL": scores("MMT-Bench_VAL", "mmt_accuracy", 50.0,
                                breakdown={"overall": 50.0, "overall_star": 48.0}),
    }


def group_items(data: dict[str, Any], group: dict[str, Any]) -> list[dict[str, Any]]:
    """A sample-browser group of the page's data decoded back to one dict per sample (texts from ``strings``,
    images from ``images``), as the page's script decodes it."""
    def text(value: Any) -> Any:
        return None if value is None else data["strings"][value]

    def turns(value: Any) -> list[str]:
        if value is None:
            return []
        return [data["strings"][number] for number in (value if isinstance(value, list) else [value])]

    return [{"index": group["index"][i], "instruction": turns(group["instruction"][i]),
             "prediction": turns(group["prediction"][i]), "extracted": text(group["extracted"][i]),
             "answer": text(group["answer"][i]), "score": group["score"][i],
             "image": None if group["image"][i] is None else data["images"][group["image"][i]]}
            for i in range(group["count"])]
