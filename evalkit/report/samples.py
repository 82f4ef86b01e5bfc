"""The per-sample view of the HTML report: each run's details joined with its instructions and images.

Images come from the run's data when it is a local file (``manifest.json`` records it; the demo's are), as
small PNG thumbnails; otherwise the sample browser shows text only.
"""

from __future__ import annotations

import base64
import io
from pathlib import Path
from typing import Any

from evalkit.catalog.cards import load_catalog
from evalkit.data.local_file import read_data_file
from evalkit.data.sample import Sample
from evalkit.data.sources import data_file_columns
from evalkit.errors import EvalkitError, SampleError
from evalkit.report.html import samples_from_run
from evalkit.report.leaderboard import Report
from evalkit.run.folder import RunFolder, index_key

MAX_SAMPLES = 200
THUMBNAIL = 160


def thumbnail(sample: Sample) -> str | None:
    """The first image as a base64 PNG at most THUMBNAIL pixels on a side, or None."""
    if not sample.images:
        return None
    try:
        image = sample.images[0].load()
    except SampleError:
        return None
    image.thumbnail((THUMBNAIL, THUMBNAIL))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _local_samples(run: RunFolder, benchmark: str) -> dict[str, Sample]:
    """The run's samples when its data is a local file that still exists; else nothing."""
    data = run.manifest.get("benchmarks", {}).get(benchmark, {}).get("data", {})
    location = data.get("location")
    if data.get("source") != "file" or not location:
        return {}
    path = next((p for p in (Path(location), run.path.parent / location, run.path / location) if p.exists()), None)
    if path is None:
        return {}
    try:
        spec = load_catalog().get(benchmark)
        samples = read_data_file(path, data_file_columns(spec), suite=spec.name).samples
    except EvalkitError:
        return {}
    return {index_key(sample.index): sample for sample in samples}


def collect_samples(report: Report, runs: list[RunFolder],
                    limit: int = MAX_SAMPLES) -> dict[tuple[str, str], list[dict[str, Any]]]:
    """(run label, benchmark) → up to ``limit`` samples with instruction, prediction, extracted, score, and a
    thumbnail of the image when the run's data is a local file."""
    collected: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for info, run in zip(report.runs, runs, strict=True):
        for (label, benchmark), rows in samples_from_run(run, info.label, limit=limit).items():
            samples = _local_samples(run, benchmark)
            for row in rows:
                sample = samples.get(index_key(row.get("index")))
                image = thumbnail(sample) if sample is not None else None
                if image is not None:
                    row["image_png_base64"] = image
            collected[(label, benchmark)] = rows
    return collected
