"""Submission files for splits whose answers are hidden, written next to the predictions.

The card's ``submission`` field names the format:
- ``rrc_json``: DocVQA / InfographicVQA test for the RRC server, a JSON list of
  ``{"questionId": int, "answer": str}``.
- ``mmbench_xlsx``: MMBench test for the official server: every TSV row, rotated
  copies included, without ``hint, category, source, image, comment, l2-category``,
  with ``prediction`` as the 7th column (the paper protocol's prediction is the
  letter post-processed reply, VLMEvalKit's the raw reply; VLMEvalKit#121).
- ``mmvet_json``: the official MM-Vet evaluator's ``{"v1_<id>": answer}``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from evalkit.files import atomic_output, write_atomic
from evalkit.scoring.types import ScoringItem

MMBENCH_DROPPED = ("hint", "category", "source", "image", "comment", "l2-category")


def _reply(item: ScoringItem) -> str:
    value = item.extraction.value
    if isinstance(value, str) and item.extraction.method != "error":
        return value
    return item.prediction if isinstance(item.prediction, str) else "\n".join(item.prediction)


def rrc_json(items: Sequence[ScoringItem], folder: Path) -> Path:
    entries = [{"questionId": int(item.sample.index) if str(item.sample.index).isdigit() else item.sample.index,
                "answer": _reply(item)} for item in items]
    path = folder / "submission_rrc.json"
    write_atomic(path, json.dumps(entries, ensure_ascii=False, indent=1) + "\n")
    return path


def mmvet_json(items: Sequence[ScoringItem], folder: Path) -> Path:
    def key(index: Any) -> str:
        return str(index) if str(index).startswith("v1_") else f"v1_{index}"

    answers = {key(item.sample.index): _reply(item) for item in items}
    path = folder / "submission_mmvet.json"
    write_atomic(path, json.dumps(answers, ensure_ascii=False, indent=1) + "\n")
    return path


def mmbench_xlsx(items: Sequence[ScoringItem], folder: Path) -> Path:
    rows = []
    for item in items:
        sample = item.sample
        row: dict[str, Any] = {"index": sample.index, "question": sample.question}
        row.update({letter: text for letter, text in sample.options})
        rows.append((row, _reply(item), {k: v for k, v in sample.metadata.items() if k not in MMBENCH_DROPPED}))
    letters = sorted({key for row, _, _ in rows for key in row if len(key) == 1})
    records = []
    for row, reply, extra in rows:
        ordered = {"index": row["index"], "question": row["question"], **{k: row.get(k, "") for k in letters}}
        head = dict(list(ordered.items())[:6])
        rest = dict(list(ordered.items())[6:])
        records.append({**head, "prediction": reply, **rest, **extra})
    path = folder / "submission_mmbench.xlsx"
    write_text_xlsx(path, records)
    return path


def write_text_xlsx(path: Path, records: Sequence[dict[str, Any]]) -> None:
    """An xlsx whose text cells stay text: openpyxl would otherwise store ``=…`` as a formula (read back empty)."""
    from openpyxl import Workbook

    headers = list(dict.fromkeys(key for record in records for key in record))
    book = Workbook()
    sheet = book.active
    sheet.append(headers)
    for record in records:
        sheet.append([record.get(header, "") for header in headers])
    for row in sheet.iter_rows(min_row=2):
        for cell in row:
            if isinstance(cell.value, str):
                cell.data_type = "s"
    with atomic_output(path) as temp:
        book.save(temp)


WRITERS: dict[str, Callable[[Sequence[ScoringItem], Path], Path]] = {
    "rrc_json": rrc_json, "mmbench_xlsx": mmbench_xlsx, "mmvet_json": mmvet_json,
}
UPLOAD_TO = {
    "rrc_json": "the Robust Reading Competition server (rrc.cvc.uab.es; DocVQA tasks: Single Document VQA, "
                "Infographics VQA)",
    "mmbench_xlsx": "the MMBench evaluation server (mmbench.opencompass.org.cn)",
    "mmvet_json": "the official MM-Vet evaluator (Hugging Face space whyu/MM-Vet_Evaluator)",
}
