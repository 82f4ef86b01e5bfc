"""``score --protocol vlmevalkit --cross-check``: the installed VLMEvalKit's own evaluation of the same predictions.

VLMEvalKit evaluates a suite from a prediction file in its own layout (``<work>/<model>_<dataset>.xlsx``: the
dataset's columns plus ``prediction``) with its dataset class's ``evaluate(eval_file, model="exact_matching")``.
Here that file is written in a temporary work folder from the suite's rows: the VLMEvalKit prediction file itself,
or, for evalkit's ``predictions.jsonl``, the suite's TSV (``--data-file`` or the one the run recorded) with the
predictions put in. The dataset class is VLMEvalKit's, built by its own ``__init__`` on those rows (its
``load_data`` answers with them instead of downloading the TSV).

Then, row by row, VLMEvalKit's per-row result (the card's ``[cross_check] rows``: the ``_auxmatch`` file's
``score`` for yes/no suites, the ``_exact_matching_result`` file's ``hit`` per CircularEval group for choice
suites, ``hit_calculate`` on the ``_results`` file's ``eval_match`` for VQA suites) is compared with evalkit's
``details.jsonl`` (``group_hit`` where evalkit grouped rows, else ``score``), and VLMEvalKit's headline (the
card's ``headline`` columns of its result, summed, times ``scale``) with evalkit's ``scores.json``.

A suite without a ``[cross_check]`` table is one whose VLMEvalKit evaluation needs a judge (or has no exact
matching mode): it is refused before anything is scored.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evalkit.catalog.cards import load_catalog
from evalkit.catalog.spec import BenchmarkSpec, CrossCheckRule
from evalkit.errors import DataError
from evalkit.files import read_json, write_atomic
from evalkit.run.folder import DETAILS, SCORES
from evalkit.scoring.prediction_files import is_vlmevalkit_file, read_jsonl_predictions
from evalkit.scoring.score_file import ScoreRequest, recorded_data_file

MODEL_NAME = "evalkit"
CROSS_CHECK_FILE = "cross_check.json"
#: VLMEvalKit's data folder variable (its spelling), set only while its dataset class is built.
DATA_ROOT_VARIABLE = "LMUData"
#: Differing rows printed (cross_check.json lists them all).
SHOWN_DIFFERENCES = 20
#: Scores closer than this agree (VLMEvalKit stores floats in xlsx; evalkit in JSON).
TOLERANCE = 1e-6
RESULT_FILES = {"yes_no": "_auxmatch", "choice": "_exact_matching_result", "vqa": "_results"}


@dataclass(frozen=True)
class RowDifference:
    index: str
    evalkit: float | None
    vlmevalkit: float | None
    prediction: str


@dataclass(frozen=True)
class CrossCheck:
    """The comparison: rows compared and agreeing, the rows that differ, both headlines, VLMEvalKit's version."""

    suite: str
    version: str
    compared: int
    agree: int
    differences: tuple[RowDifference, ...]
    evalkit_headline: float | None
    vlmevalkit_headline: float | None

    @property
    def ok(self) -> bool:
        same = (self.evalkit_headline is not None and self.vlmevalkit_headline is not None
                and abs(self.evalkit_headline - self.vlmevalkit_headline) < 0.005)
        return same and not self.differences

    def as_dict(self) -> dict[str, Any]:
        return {"suite": self.suite, "vlmevalkit": self.version, "compared": self.compared, "agree": self.agree,
                "evalkit_headline": self.evalkit_headline, "vlmevalkit_headline": self.vlmevalkit_headline,
                "differences": [vars(row) for row in self.differences]}


def check_cross_check(spec: BenchmarkSpec, protocol: str) -> CrossCheckRule:
    """Refuse, before any scoring, what cannot be cross-checked; the suite's rule otherwise."""
    from evalkit.models.vlmeval_support import INSTALL_HINT, vlmeval_installed

    if protocol != "vlmevalkit":
        raise DataError("--cross-check compares with VLMEvalKit's own evaluation: use it with --protocol vlmevalkit")
    if spec.cross_check is None:
        raise DataError(f"{spec.name}: VLMEvalKit's own evaluation of this suite needs a judge (or has no "
                        "exact-matching mode), so --cross-check cannot run it")
    if spec.answers_hidden:
        raise DataError(f"{spec.name}: the answers are hidden, so VLMEvalKit cannot evaluate it locally")
    if not vlmeval_installed():
        raise DataError(f"--cross-check needs VLMEvalKit (the vlmeval package); {INSTALL_HINT}")
    return spec.cross_check


def cross_check_file(request: ScoreRequest) -> CrossCheck:
    """The cross-check of a ``score`` request already scored into ``request.output``; writes
    ``cross_check.json`` there."""
    spec = load_catalog().get(request.benchmark)
    data_file = request.data_file or recorded_data_file(request.predictions, spec.name)
    result = cross_check(spec, request.predictions, data_file, request.output)
    write_atomic(request.output / CROSS_CHECK_FILE, json.dumps(result.as_dict(), indent=2, ensure_ascii=False))
    return result


def format_cross_check(result: CrossCheck) -> str:
    """What ``score --cross-check`` prints: the version, the rows that agree, both headlines, the differences."""
    lines = [f"cross-check: VLMEvalKit {result.version} (ms-vlmeval), its own evaluation of {result.suite} with "
             "exact matching (no judge)",
             f"rows: {result.agree} of {result.compared} agree, {len(result.differences)} differ",
             f"headline: evalkit {_shown(result.evalkit_headline)}, VLMEvalKit {_shown(result.vlmevalkit_headline)}"]
    for row in result.differences[:SHOWN_DIFFERENCES]:
        lines.append(f"  differs: index {row.index}: evalkit {_shown(row.evalkit)}, VLMEvalKit "
                     f"{_shown(row.vlmevalkit)}, prediction {row.prediction[:60]!r}")
    if len(result.differences) > SHOWN_DIFFERENCES:
        lines.append(f"  ... {len(result.differences) - SHOWN_DIFFERENCES} more in {CROSS_CHECK_FILE}")
    return "\n".join(lines)


def _shown(value: float | None) -> str:
    return "none" if value is None else f"{value:.4g}" if abs(value) < 10 else f"{value:.2f}"


def cross_check(spec: BenchmarkSpec, predictions: Path, data_file: Path | None, output: Path) -> CrossCheck:
    """Run VLMEvalKit's evaluation of ``predictions`` and compare it with evalkit's files in ``output``."""
    from evalkit.models.vlmeval_support import import_vlmeval, vlmeval_version

    rule = check_cross_check(spec, "vlmevalkit")
    import_vlmeval()
    frame = _prediction_frame(predictions, data_file)
    with tempfile.TemporaryDirectory(prefix="evalkit-cross-check-") as work:
        eval_file = Path(work) / f"{MODEL_NAME}_{spec.name}.xlsx"
        result = _evaluate(spec.name, frame, eval_file)
        theirs = _vlmevalkit_rows(rule, spec.name, eval_file)
    ours, predicted = _evalkit_rows(output / DETAILS)
    differences, agree = [], 0
    for index, value in theirs.items():
        mine = ours.get(index)
        if mine is not None and value is not None and abs(mine - value) <= TOLERANCE:
            agree += 1
        else:
            differences.append(RowDifference(index, mine, value, predicted.get(index, "")))
    document = read_json(output / SCORES)
    score = document.get("score")
    return CrossCheck(spec.name, vlmeval_version(), len(theirs), agree, tuple(differences),
                      float(score) if isinstance(score, int | float) else None, _headline(rule, result))


def _prediction_frame(predictions: Path, data_file: Path | None) -> Any:
    """The suite's rows with a ``prediction`` column, as VLMEvalKit's ``load`` reads them (images dropped)."""
    from vlmeval.smp import load

    if is_vlmevalkit_file(predictions):
        frame = load(str(predictions))
    else:
        if data_file is None or data_file.suffix.lower() != ".tsv":
            raise DataError(f"{predictions}: --cross-check of a predictions.jsonl needs the suite's VLMEvalKit TSV "
                            "(--data-file)")
        frame = load(str(data_file))
        replies = {str(p.index): p.prediction for p in read_jsonl_predictions(predictions)}
        frame = frame[[str(index) in replies for index in frame["index"]]].copy()
        frame["prediction"] = [replies[str(index)] for index in frame["index"]]
    if "prediction" not in frame:
        raise DataError(f"{predictions}: no 'prediction' column")
    return frame.drop(columns=[c for c in ("image",) if c in frame])


@contextlib.contextmanager
def _data_root(folder: Path) -> Iterator[None]:
    """VLMEvalKit's ``LMUData`` pointed at ``folder`` (its dataset classes make their image folder there)."""
    saved = os.environ.get(DATA_ROOT_VARIABLE)
    os.environ[DATA_ROOT_VARIABLE] = str(folder)
    try:
        yield
    finally:
        if saved is None:
            os.environ.pop(DATA_ROOT_VARIABLE, None)
        else:
            os.environ[DATA_ROOT_VARIABLE] = saved


def _evaluate(dataset: str, frame: Any, eval_file: Path) -> Any:
    """VLMEvalKit's dataset class, built on ``frame``'s rows, evaluating ``eval_file`` with exact matching."""
    from evalkit.models.vlmeval_support import dataset_class, guarded_globals

    with guarded_globals():
        from vlmeval.smp import dump

        cls = dataset_class(dataset)
        meta = frame.drop(columns=["prediction"])
        local = type(cls.__name__, (cls,), {"load_data": lambda self, name: meta.copy()})
        dump(frame, str(eval_file))
        with _data_root(eval_file.parent):
            instance = local(dataset)
            try:
                return instance.evaluate(str(eval_file), model="exact_matching", nproc=1)
            except Exception as exc:
                raise DataError(f"VLMEvalKit's evaluation of {dataset} failed: {type(exc).__name__}: {exc}") from exc


def _vlmevalkit_rows(rule: CrossCheckRule, dataset: str, eval_file: Path) -> dict[str, float | None]:
    """VLMEvalKit's per-row result, by index (as text)."""
    from vlmeval.smp import load

    stem = eval_file.with_suffix("")
    found = sorted(eval_file.parent.glob(f"{stem.name}{RESULT_FILES[rule.rows]}.*"))
    if not found:
        raise DataError(f"VLMEvalKit's evaluation of {dataset} wrote no {RESULT_FILES[rule.rows]} file")
    frame = load(str(next((p for p in found if p.suffix == ".xlsx"), found[0])))
    if rule.rows == "vqa":
        from vlmeval.dataset.utils.vqa_eval import hit_calculate

        values = [hit_calculate([{"match": _literal(match)}], dataset)[0] for match in frame["eval_match"]]
    else:
        values = list(frame["score" if rule.rows == "yes_no" else "hit"])
    return {str(index): _number(value) for index, value in zip(frame["index"], values, strict=True)}


def _evalkit_rows(details: Path) -> tuple[dict[str, float | None], dict[str, str]]:
    """evalkit's per-row values (``group_hit`` where rows are grouped, else ``score``) and predictions."""
    values: dict[str, float | None] = {}
    predictions: dict[str, str] = {}
    for line in details.read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        key = str(record["index"])
        values[key] = _number(record.get("group_hit", record.get("score")))
        predictions[key] = str(record.get("prediction", ""))
    return values, predictions


def _headline(rule: CrossCheckRule, result: Any) -> float | None:
    """The card's headline columns of VLMEvalKit's result (the ``headline_row`` row, else the first), summed."""
    rows = result.to_dict("records") if hasattr(result, "to_dict") else [result]
    row = next((r for r in rows if all(str(r.get(k)) == v for k, v in rule.headline_row.items())), None)
    if not isinstance(row, Mapping) or any(_number(row.get(name)) is None for name in rule.headline):
        return None
    return sum(float(row[name]) for name in rule.headline) * rule.scale


def _literal(value: Any) -> Any:
    """A list VLMEvalKit wrote into a spreadsheet cell, read back."""
    import ast

    return ast.literal_eval(value) if isinstance(value, str) else value


def _number(value: Any) -> float | None:
    if value is None or isinstance(value, str):
        return None
    number = float(value)
    return None if math.isnan(number) else number
