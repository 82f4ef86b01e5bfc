"""The names a card may give as ``extractor`` and ``metric``, and the functions behind them.

Entries are ``module:function`` strings imported on first use, so loading the
catalog stays cheap. ``JUDGE_NEEDS`` says which metrics cannot be scored at all
without a judge ("required") and which only fall back to one ("fallback").
"""

from __future__ import annotations

import importlib
from typing import Literal

from evalkit.scoring.types import Extractor, Metric

EXTRACTORS: dict[str, str] = {
    "raw": "evalkit.scoring.extract.choice:raw",
    "exact_letter": "evalkit.scoring.extract.choice:exact_letter",
    "first_character": "evalkit.scoring.extract.choice:first_character",
    "letter_postprocess": "evalkit.scoring.extract.choice:letter_postprocess",
    "can_infer_2404": "evalkit.scoring.extract.choice:can_infer_2404",
    "can_infer_head": "evalkit.scoring.extract.choice:can_infer_head",
    "yes_no_internvl": "evalkit.scoring.extract.yes_no:yes_no_internvl",
    "yes_no_vlmevalkit": "evalkit.scoring.extract.yes_no:yes_no_vlmevalkit",
    "yes_no_vlmevalkit_2404": "evalkit.scoring.extract.yes_no:yes_no_vlmevalkit_2404",
    "mmmu": "evalkit.scoring.extract.mmmu:mmmu",
    "mathvista": "evalkit.scoring.extract.mathvista:mathvista",
    "box_internvl": "evalkit.scoring.extract.box:box_internvl",
    "box_vlmevalkit": "evalkit.scoring.extract.box:box_vlmevalkit",
}

METRICS: dict[str, str] = {
    "anls": "evalkit.scoring.metrics.anls:anls_suite",
    "relaxed_accuracy": "evalkit.scoring.metrics.chartqa:relaxed_accuracy_suite",
    "relaxed_accuracy_vlmevalkit": "evalkit.scoring.metrics.chartqa:relaxed_accuracy_vlmevalkit_suite",
    "vqa_accuracy": "evalkit.scoring.metrics.vqa:vqa_accuracy_suite",
    "vqa_accuracy_vlmevalkit": "evalkit.scoring.metrics.vqa:vqa_accuracy_vlmevalkit_suite",
    "ocrbench": "evalkit.scoring.metrics.ocrbench:ocrbench_suite",
    "mme": "evalkit.scoring.metrics.mme:mme_suite",
    "mme_vlmevalkit": "evalkit.scoring.metrics.mme:mme_vlmevalkit_suite",
    "accuracy": "evalkit.scoring.metrics.choice:accuracy_suite",
    "mmmu_accuracy": "evalkit.scoring.metrics.mmmu:mmmu_accuracy_suite",
    "circular_accuracy": "evalkit.scoring.metrics.circular:circular_accuracy_suite",
    "mmvet_judge": "evalkit.scoring.metrics.mmvet:mmvet_judge_suite",
    "hallusion": "evalkit.scoring.metrics.hallusion:hallusion_suite",
    "mathvista": "evalkit.scoring.metrics.mathvista:mathvista_suite",
    "mathvista_vlmevalkit": "evalkit.scoring.metrics.mathvista:mathvista_vlmevalkit_suite",
    "convbench_judge": "evalkit.scoring.metrics.convbench:convbench_judge_suite",
    "mmt_accuracy": "evalkit.scoring.metrics.mmt:mmt_accuracy_suite",
    "refcoco": "evalkit.scoring.metrics.grounding:refcoco_suite",
    "refcoco_vlmevalkit": "evalkit.scoring.metrics.grounding:refcoco_vlmevalkit_suite",
    "not_scored": "evalkit.scoring.metrics.hidden:not_scored_suite",
}

#: Metadata columns a metric cannot be computed without, with what it does with each (every other metadata
#: column is optional: VLMEvalKit groups by the ones a file has). An error message names the metric and reason.
METRIC_COLUMNS: dict[str, dict[str, str]] = {
    "hallusion": {"l2-category": "groups fAcc and qAcc by it (Hallusion_rating)"},
    "mme": {"category": "scores each subtask on its own", "image_path": "pairs an image's two questions for acc+"},
    "mme_vlmevalkit": {"category": "scores each subtask on its own",
                       "image_path": "pairs an image's two questions for acc+"},
    "ocrbench": {"category": "counts hits per category (HMER is matched without spaces)"},
    "mathvista": {"question_type": "normalises multiple-choice and free-form answers differently",
                  "answer_type": "normalises integer, float and list answers differently"},
    "mathvista_vlmevalkit": {"question_type": "checks multiple-choice and free-form answers differently",
                             "answer_type": "checks integer, float and text answers differently"},
    "refcoco": {"width": "scales 0-1000 boxes by the image width", "height": "scales 0-1000 boxes by the image height"},
}

JudgeNeed = Literal["required", "fallback", "none"]
JUDGE_NEEDS: dict[str, JudgeNeed] = {
    "mmvet_judge": "required", "mathvista": "required", "mathvista_vlmevalkit": "required",
    "convbench_judge": "required", "circular_accuracy": "fallback", "accuracy": "fallback",
    "mmt_accuracy": "fallback", "hallusion": "fallback", "mme_vlmevalkit": "fallback",
}


def _resolve(table: dict[str, str], name: str, kind: str) -> object:
    if name not in table:
        raise KeyError(f"unknown {kind} '{name}'")
    module, _, attribute = table[name].partition(":")
    return getattr(importlib.import_module(module), attribute)


def extractor_named(name: str) -> Extractor:
    return _resolve(EXTRACTORS, name, "extractor")  # type: ignore[return-value]


def metric_named(name: str) -> Metric:
    return _resolve(METRICS, name, "metric")  # type: ignore[return-value]


def judge_need(metric: str) -> JudgeNeed:
    return JUDGE_NEEDS.get(metric, "none")
