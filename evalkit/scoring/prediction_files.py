"""Reading predictions to score: evalkit's ``predictions.jsonl`` and VLMEvalKit's prediction files.

A VLMEvalKit prediction file (``{model}_{dataset}.xlsx`` / ``.tsv`` / ``.csv``) is
the dataset's TSV plus a ``prediction`` column; the ``image`` column may be
absent. It carries its own samples, so it is scored without the dataset.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

from evalkit.catalog.spec import BenchmarkSpec
from evalkit.data.local_file import one_line, read_data_file
from evalkit.data.sample import Sample
from evalkit.data.sources import data_file_columns
from evalkit.errors import DataError
from evalkit.scoring.score import Prediction

VLMEVALKIT_SUFFIXES = (".xlsx", ".tsv", ".csv")
PREDICTION_COLUMN = "prediction"


def read_jsonl_predictions(path: Path) -> list[Prediction]:
    """evalkit's own records; a torn last line (a crash mid-write) is ignored, any other bad line is an error."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    except OSError as exc:
        raise DataError(f"cannot read {path}: {exc.strerror or exc}") from exc
    predictions = []
    for number, line in enumerate(lines, start=1):
        if not line.strip() or (number == len(lines) and not line.endswith("\n")):
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DataError(f"{path}: line {number} is not valid JSON ({exc.msg})") from exc
        if not isinstance(record, dict) or "index" not in record or "prediction" not in record:
            raise DataError(f"{path}: line {number} lacks 'index' or 'prediction'")
        predictions.append(Prediction.from_record(record))
    return predictions


def _raw_replies(path: Path) -> dict[str, str]:
    """The ``prediction`` column as the text in the file (no number parsing), keyed by the index as text."""
    import pandas as pd

    try:
        if path.suffix.lower() == ".xlsx":
            frame = pd.read_excel(path, dtype=str, keep_default_na=False)
        else:
            frame = pd.read_csv(path, sep="\t" if path.suffix.lower() == ".tsv" else ",", dtype=str,
                                keep_default_na=False)
    except Exception as exc:  # a damaged workbook: zipfile, XML and openpyxl raise many types
        raise DataError(f"cannot read {path}: {type(exc).__name__}: {one_line(exc)}") from exc
    if PREDICTION_COLUMN not in frame.columns or "index" not in frame.columns:
        missing = PREDICTION_COLUMN if PREDICTION_COLUMN not in frame.columns else "index"
        raise DataError(f"{path}: missing column '{missing}' (a VLMEvalKit prediction file has one)")
    return dict(zip(frame["index"].str.strip(), frame[PREDICTION_COLUMN], strict=True))


def read_vlmevalkit_predictions(path: Path, spec: BenchmarkSpec,
                                protocol: str = "paper") -> tuple[list[Sample], list[Prediction]]:
    """Samples and predictions from one VLMEvalKit prediction file, with the card's column names, its
    cells read as ``protocol``'s reference reads them."""
    replies = _raw_replies(path)
    columns = data_file_columns(spec)
    without_images = dataclasses.replace(columns, images=(), image_paths=(),
                                         optional=(*columns.optional, *columns.images, *columns.image_paths))
    samples = read_data_file(path, without_images, suite=spec.name, cells=spec.protocol(protocol).cells).samples
    predictions = [Prediction(sample.index, replies.get(str(sample.index), "")) for sample in samples]
    return samples, predictions


def is_vlmevalkit_file(path: Path) -> bool:
    return path.suffix.lower() in VLMEVALKIT_SUFFIXES
