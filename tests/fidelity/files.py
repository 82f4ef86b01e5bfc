"""VLMEvalKit-format files with exact cell text, and ``score`` run on them, for the reference-equality tests.

Each test module of this package names the reference file and commit its golden values come from; they were
worked out by running that code (imported from a scratch checkout of the reference repository) on the same
cells, written the same way.
"""

from __future__ import annotations

import base64
import io
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from PIL import Image

from evalkit.config import Environment
from evalkit.scoring.score_file import ScoreRequest, score_file

ENVIRONMENT = Environment(data_root=Path("/nonexistent"), cache_dir=Path("/tmp/evalkit-test-cache"),
                          hub_cache_dir=None, offline=True)


def image_cell() -> str:
    """A small PNG as base64, as a VLMEvalKit ``image`` cell holds it."""
    buffer = io.BytesIO()
    Image.new("RGB", (8, 6), (200, 10, 10)).save(buffer, format="PNG")
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def write_cells(path: Path, header: Sequence[str], rows: Sequence[Sequence[str]]) -> Path:
    """A TSV whose cells are exactly the given strings (none holds a tab, a newline or a quote)."""
    lines = ["\t".join(header), *("\t".join(row) for row in rows)]
    assert all(len(row) == len(header) for row in rows)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def score(benchmark: str, predictions: Path, protocol: str, output: Path) -> tuple[dict[str, Any], list[dict]]:
    """``score`` on a VLMEvalKit prediction file: scores.json and the details lines."""
    score_file(ScoreRequest(benchmark, predictions, output, protocol=protocol), ENVIRONMENT)
    document = json.loads((output / "scores.json").read_text(encoding="utf-8"))
    details = [json.loads(line) for line in (output / "details.jsonl").read_text(encoding="utf-8").splitlines()]
    return document, details
