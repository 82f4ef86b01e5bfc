"""Built-in demo sets: a few code-drawn items per suite family, written as VLMEvalKit-format TSVs.

``python run_eval.py`` with no arguments runs every suite on these, through the
real TSV reader. Each family (a card's ``[demo] family``) writes VLMEvalKit's
column names for its suites, draws its images in their genre and reads every
answer off what it drew, so a real model could answer. Everything is seeded:
two writes of the same set are byte-identical.

The families live in :mod:`~evalkit.demo.reading` (documents, charts,
scene text, OCR), :mod:`~evalkit.demo.scenes` (yes/no, grounding,
open-ended, conversations), :mod:`~evalkit.demo.choices` (multiple choice
with CircularEval copies) and :mod:`~evalkit.demo.exams` (MMMU,
MathVista); the drawings in :mod:`~evalkit.demo.drawing` and
:mod:`~evalkit.demo.figures`.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from pathlib import Path
from types import MappingProxyType

import pandas as pd

from evalkit.demo.choices import mcq_rows
from evalkit.demo.common import Row
from evalkit.demo.exams import mathvista_rows, mmmu_rows
from evalkit.demo.reading import chart_rows, document_rows, ocr_rows, scene_text_rows
from evalkit.demo.scenes import conversation_rows, grounding_rows, hallusion_rows, mme_rows, open_rows
from evalkit.errors import CatalogError

LANGUAGES = ("en", "cn")

DEMO_FAMILIES: Mapping[str, Callable[..., list[Row]]] = MappingProxyType(
    {
        "document": document_rows,
        "chart": chart_rows,
        "scene_text": scene_text_rows,
        "ocr": ocr_rows,
        "mme": mme_rows,
        "hallusion": hallusion_rows,
        "mcq": mcq_rows,
        "mmmu": mmmu_rows,
        "open": open_rows,
        "mathvista": mathvista_rows,
        "grounding": grounding_rows,
        "conversation": conversation_rows,
    }
)


def demo_rows(
    family: str, *, language: str = "en", answers_hidden: bool = False, **options: object
) -> list[dict[str, object]]:
    """The rows of one family's demo set, column → value, as a VLMEvalKit TSV holds them.

    ``options`` are the family's own (``genre`` for document; ``letters``,
    ``circular`` and ``style`` for mcq). With ``answers_hidden`` every ``answer``
    cell is blank, as in a test split whose answers are secret. Raises
    :class:`CatalogError` naming an unknown family, language or option.
    """
    builder = DEMO_FAMILIES.get(family)
    if builder is None:
        raise CatalogError(f"unknown demo family {family!r} (known: {', '.join(DEMO_FAMILIES)})")
    if language not in LANGUAGES:
        raise CatalogError(f"demo family {family!r}: unknown language {language!r} (expected 'en' or 'cn')")
    accepted = [name for name in inspect.signature(builder).parameters if name != "language"]
    unknown = [name for name in options if name not in accepted]
    if unknown:
        known = ", ".join(accepted) or "none"
        raise CatalogError(f"demo family {family!r} has no option {unknown[0]!r} (its options: {known})")
    rows = builder(language=language, **options)
    if answers_hidden:
        rows = [{**row, "answer": ""} if "answer" in row else row for row in rows]
    return rows


def write_demo_tsv(
    family: str, path: Path, *, language: str = "en", answers_hidden: bool = False, **options: object
) -> Path:
    """Write one family's demo set to ``path`` as a VLMEvalKit TSV (tab-separated, no index column)."""
    rows = demo_rows(family, language=language, answers_hidden=answers_hidden, **options)
    path.parent.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(rows).to_csv(path, sep="\t", index=False)
    return path
