"""``score``: score an existing prediction file (evalkit's jsonl, or VLMEvalKit's xlsx/tsv/csv), no model needed."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evalkit.catalog.cards import load_catalog
from evalkit.catalog.spec import BenchmarkSpec
from evalkit.config import Environment
from evalkit.data.sample import Sample
from evalkit.data.sources import load_samples
from evalkit.errors import DataError
from evalkit.files import read_json
from evalkit.run.folder import IDENTITY, MANIFEST
from evalkit.scoring.prediction_files import is_vlmevalkit_file, read_jsonl_predictions, read_vlmevalkit_predictions
from evalkit.scoring.score import Prediction
from evalkit.scoring.suite import ScoredBenchmark, make_judge, score_benchmark


@dataclass(frozen=True)
class ScoreRequest:
    benchmark: str
    predictions: Path
    output: Path
    protocol: str = "paper"
    judge: str = "exact_matching"
    judge_base_url: str | None = None
    data_file: Path | None = None
    source: str | None = None
    seed: int = 0
    timeout: float | None = None
    max_retries: int | None = None


def _run_facts(predictions: Path, name: str) -> tuple[Path | None, str | None]:
    """The data file and protocol recorded by the run that wrote ``predictions`` (if it was an evalkit run)."""
    folder = predictions.parent
    protocol = None
    if (folder / IDENTITY).exists():
        protocol = read_json(folder / IDENTITY).get("protocol")
    manifest = folder.parent / MANIFEST
    if manifest.exists():
        data: dict[str, Any] = read_json(manifest).get("benchmarks", {}).get(name, {}).get("data", {})
        if data.get("source") == "file" and data.get("location"):
            location = Path(data["location"])
            candidates = [location, folder.parent.parent / location]
            return next((path for path in candidates if path.exists()), None), protocol
    return None, protocol


def recorded_data_file(predictions: Path, name: str) -> Path | None:
    """The data file the run that wrote ``predictions`` (an evalkit ``predictions.jsonl``) recorded, if any."""
    return _run_facts(predictions, name)[0] if predictions.suffix.lower() == ".jsonl" else None


def _samples_and_predictions(spec: BenchmarkSpec, request: ScoreRequest,
                             environment: Environment) -> tuple[list[Sample], list[Prediction], str | None]:
    path = request.predictions
    if not path.exists():
        raise DataError(f"no such prediction file: {path}")
    if is_vlmevalkit_file(path):
        samples, predictions = read_vlmevalkit_predictions(path, spec, request.protocol)
        return samples, predictions, None
    if path.suffix.lower() != ".jsonl":
        raise DataError(f"{path}: unknown prediction file type (known: .jsonl, .xlsx, .tsv, .csv)")
    predictions = read_jsonl_predictions(path)
    recorded_file, run_protocol = _run_facts(path, spec.name)
    data_file = request.data_file or (recorded_file if request.source is None else None)
    loaded = load_samples(spec, source=request.source, data_file=data_file, data_root=environment.data_root,
                          hub_cache_dir=environment.hub_cache_dir, offline=environment.offline,
                          protocol=request.protocol)
    return loaded.samples, predictions, run_protocol


def score_file(request: ScoreRequest, environment: Environment | None = None) -> ScoredBenchmark:
    """Score one prediction file into ``request.output`` (``scores.json``, ``details.jsonl``, submission)."""
    environment = environment or Environment.current()
    spec = load_catalog().get(request.benchmark)
    samples, predictions, run_protocol = _samples_and_predictions(spec, request, environment)
    judge = make_judge(request.judge, environment, request.judge_base_url, timeout=request.timeout,
                       max_retries=request.max_retries)
    return score_benchmark(spec, samples, predictions, request.output, protocol=request.protocol, judge=judge,
                           judge_spec=request.judge, seed=request.seed, run_protocol=run_protocol)
