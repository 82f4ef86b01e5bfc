"""Scoring one benchmark folder: pair predictions with samples, score, write scores, details, submission."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evalkit.catalog.spec import BenchmarkSpec
from evalkit.config import Environment
from evalkit.data.sample import Sample
from evalkit.errors import RunDirectoryError
from evalkit.judge.base import Judge
from evalkit.run.folder import index_key
from evalkit.scoring.documents import scores_document, write_outcome
from evalkit.scoring.registry import judge_need
from evalkit.scoring.score import Prediction, pair_items, score_with_comparison
from evalkit.scoring.submissions import UPLOAD_TO, WRITERS
from evalkit.scoring.types import SuiteScore


@dataclass(frozen=True)
class ScoredBenchmark:
    name: str
    suite: SuiteScore
    document: dict[str, Any]
    folder: Path
    submission: Path | None = None


JUDGE_TIMEOUT = 60.0


def make_judge(spec: str, environment: Environment, base_url: str | None = None, *, timeout: float | None = None,
               max_retries: int | None = None) -> Judge | None:
    """The judge named by ``--judge`` (None for ``exact_matching``), caching under evalkit's cache folder."""
    from evalkit.judge.factory import build_judge

    return build_judge(spec, cache_dir=environment.cache_dir, api_key=environment.openai_api_key,
                       base_url=base_url or environment.openai_api_base, max_retries=max_retries,
                       timeout=timeout if timeout is not None else JUDGE_TIMEOUT)


def judge_facts(spec: str, judge: Judge | None) -> dict[str, Any]:
    if judge is None:
        return {"spec": spec}
    from evalkit.judge.factory import describe_judge

    return {"spec": spec, **describe_judge(judge)}


def missing_judges(specs: list[BenchmarkSpec], protocol: str, judge_spec: str) -> list[str]:
    """Suites that cannot be scored without a judge when none is configured (said before inference starts)."""
    if judge_spec != "exact_matching":
        return []
    return [spec.name for spec in specs if judge_need(spec.protocol(protocol).metric) == "required"]


def score_benchmark(spec: BenchmarkSpec, samples: list[Sample], predictions: list[Prediction], folder: Path, *,
                    protocol: str, judge: Judge | None, judge_spec: str, seed: int = 0,
                    run_protocol: str | None = None) -> ScoredBenchmark:
    """Score ``predictions`` of ``spec`` and write ``scores.json``, ``details.jsonl`` and any submission file."""
    items = pair_items(samples, predictions, str(folder))
    result = score_with_comparison(spec, protocol, items, judge, seed)
    document = scores_document(spec, protocol, result.suite, result.comparison, judge_facts(judge_spec, judge),
                               run_protocol)
    submission = None
    if spec.submission is not None:
        try:
            folder.mkdir(parents=True, exist_ok=True)
            submission = WRITERS[spec.submission](result.items, folder)
        except OSError as exc:  # a file in the way, a full disk: one line naming the folder, as write_outcome
            raise RunDirectoryError(f"cannot write scores to {folder}: {exc.strerror or exc}") from exc
        document["submission"] = {"file": submission.name, "upload_to": UPLOAD_TO[spec.submission]}
    hashes = {index_key(item.sample.index): item.sample.content_hash() for item in items}
    write_outcome(folder, document, result.suite, hashes)
    return ScoredBenchmark(spec.name, result.suite, document, folder, submission)
