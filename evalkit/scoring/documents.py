"""Writing a suite's ``scores.json`` and ``details.jsonl`` (README.md, "What a run writes")."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import evalkit
from evalkit.catalog.spec import BenchmarkSpec
from evalkit.errors import RunDirectoryError
from evalkit.files import dumps_line, write_atomic, write_json_atomic
from evalkit.run.folder import DETAILS, DIGEST, SCORES, details_digest, index_key
from evalkit.scoring.types import SuiteScore


def finite(value: Any) -> Any:
    """JSON has no NaN: a non-finite float becomes None, recursively."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Mapping):
        return {str(key): finite(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [finite(item) for item in value]
    return value


def scores_document(spec: BenchmarkSpec, protocol: str, suite: SuiteScore, comparison: Mapping[str, Any],
                    judge: Mapping[str, Any], run_protocol: str | None = None) -> dict[str, Any]:
    chosen = spec.protocol(protocol)
    document: dict[str, Any] = {
        "benchmark": spec.name, "metric": suite.metric, "score": suite.score, "n": suite.n,
        "breakdown": dict(suite.breakdown), "higher_is_better": suite.higher_is_better, "reason": suite.reason,
        "protocol": protocol, "variant": chosen.variant, "extractor": chosen.extractor,
        "card_version": spec.version, "judge": dict(judge), "other_protocol": dict(comparison),
        "evalkit_version": evalkit.__version__,
    }
    if run_protocol is not None and run_protocol != protocol:
        document["note"] = f"predictions were made under the {run_protocol} protocol and scored under {protocol}"
    return finite(document)


def write_outcome(folder: Path, document: Mapping[str, Any], suite: SuiteScore,
                  hashes: Mapping[str, str] | None = None) -> None:
    """Write ``details.jsonl`` (one object per scored sample) then ``scores.json``, each atomically.

    ``hashes`` maps ``index_key(index)`` to the sample's content hash, written as ``sample_hash``. ``scores.json``
    also records the :func:`~evalkit.run.folder.details_digest` of the rows, so that ``compare`` can tell when
    ``details.jsonl`` was edited or truncated afterwards."""
    lines = []
    for sample in suite.samples:
        record = {"index": sample.index, "prediction": sample.prediction, "extracted": sample.extracted,
                  "score": sample.score, "method": sample.method, **dict(sample.extra)}
        if hashes is not None:
            record["sample_hash"] = hashes.get(index_key(sample.index))
        lines.append(dumps_line(finite(record)))
    digest = details_digest(json.loads(line) for line in lines)  # the rows exactly as they will be read back
    try:
        write_atomic(folder / DETAILS, "".join(lines))
        write_json_atomic(folder / SCORES, {**document, DIGEST: digest})
    except OSError as exc:
        raise RunDirectoryError(f"cannot write scores to {folder}: {exc.strerror or exc}") from exc
