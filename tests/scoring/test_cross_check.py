"""``score --protocol vlmevalkit --cross-check``: evalkit's scoring against the installed VLMEvalKit's own evaluation.

Every suite whose card has a ``[cross_check]`` table (and whose answers are public) is scored from a VLMEvalKit
prediction file in the tool's layout (``outputs/<model>/<model>_<dataset>.xlsx``: the dataset's columns without
``image``, plus ``prediction``) made from the suite's demo set: the right answer on even rows, a wrong one on odd
rows. evalkit's rows and headline must equal VLMEvalKit's; the numbers are written out below.
"""

from __future__ import annotations

import ast
import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from evalkit.catalog.cards import load_catalog
from evalkit.cli import main
from evalkit.cli.commands import write_demo_sets
from evalkit.scoring.cross_check import CROSS_CHECK_FILE, cross_check
from tests.models.vlmeval_support import needs_vlmeval

MODEL = "InternVL-Chat-V1-5"
#: suite: (rows VLMEvalKit reports, headline on evalkit's scale) for the demo sets with the replies below.
EXPECTED = {
    "AI2D_TEST": (4, 50.0), "CCBench": (4, 50.0), "ChartQA_TEST": (6, 100 / 3), "DocVQA_VAL": (4, 46.875),
    "HallusionBench": (6, 100 / 3), "InfoVQA_VAL": (4, 43.75), "MMBench_DEV_CN": (4, 25.0),
    "MMBench_DEV_EN": (4, 25.0), "MME": (8, 200.0), "RealWorldQA": (4, 50.0), "SEEDBench_IMG": (4, 50.0),
    "TextVQA_VAL": (4, 25.0),
}


@pytest.fixture(scope="module")
def demo_sets(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return write_demo_sets(tmp_path_factory.mktemp("demo"))


def right_answer(answer: Any) -> str:
    """The first ground truth (a list literal for VQA suites, a letter or Yes/No otherwise)."""
    text = str(answer)
    if text.startswith("["):
        return str(ast.literal_eval(text)[0])
    return text


def reply(answer: Any, row: int) -> str:
    """By row, in turn: the right answer; its last character doubled (a partial ANLS, an unreadable letter or
    yes/no); the right answer in a sentence; ``zzz``."""
    right = right_answer(answer)
    return [right, right + right[-1], f"The answer is {right}.", "zzz"][row % 4]


def prediction_file(root: Path, suite: str, tsv: Path) -> Path:
    """A VLMEvalKit work folder's prediction file, the replies of :func:`reply`."""
    frame = pd.read_csv(tsv, sep="\t").drop(columns=["image"])
    frame["prediction"] = [reply(answer, row) for row, answer in enumerate(frame["answer"])]
    path = root / "outputs" / MODEL / f"{MODEL}_{suite}.xlsx"
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_excel(path, index=False)
    return path


def cross_checked() -> list[str]:
    return [spec.name for spec in load_catalog() if spec.cross_check is not None and not spec.answers_hidden]


def score(predictions: Path, suite: str, output: Path, *extra: str) -> int:
    return main(["score", "--benchmark", suite, "--predictions", str(predictions), "--output", str(output),
                 "--protocol", "vlmevalkit", "--cross-check", *extra])


@needs_vlmeval
@pytest.mark.parametrize("suite", cross_checked())
def test_every_row_and_the_headline_agree(suite: str, tmp_path: Path, demo_sets: dict[str, Path],
                                          capsys: pytest.CaptureFixture[str]) -> None:
    from evalkit.models.vlmeval_support import vlmeval_version

    code = score(prediction_file(tmp_path, suite, demo_sets[suite]), suite, tmp_path / "scored")
    out = capsys.readouterr().out
    result = json.loads((tmp_path / "scored" / CROSS_CHECK_FILE).read_text(encoding="utf-8"))
    scores = json.loads((tmp_path / "scored" / "scores.json").read_text(encoding="utf-8"))
    rows, headline = EXPECTED[suite]
    assert code == 0, out
    assert (result["compared"], result["agree"], result["differences"]) == (rows, rows, [])
    assert scores["score"] == pytest.approx(headline) and result["vlmevalkit_headline"] == pytest.approx(headline)
    assert f"cross-check: VLMEvalKit {vlmeval_version()} (ms-vlmeval)" in out
    assert f"rows: {rows} of {rows} agree, 0 differ" in out


def test_every_cross_checked_suite_has_its_numbers() -> None:
    assert sorted(cross_checked()) == sorted(EXPECTED)


@needs_vlmeval
def test_an_evalkit_predictions_file_is_checked_against_its_tsv(tmp_path: Path, demo_sets: dict[str, Path],
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    frame = pd.read_csv(demo_sets["MME"], sep="\t")
    path = tmp_path / "predictions.jsonl"
    lines = [{"index": int(index), "instruction": "", "prompt": "", "prediction": reply(answer, row), "error": None}
             for row, (index, answer) in enumerate(zip(frame["index"], frame["answer"], strict=True))]
    path.write_text("".join(json.dumps(line) + "\n" for line in lines[:6]), encoding="utf-8")
    code = score(path, "MME", tmp_path / "scored", "--data-file", str(demo_sets["MME"]))
    out = capsys.readouterr().out
    assert code == 0 and "rows: 6 of 6 agree, 0 differ" in out
    result = json.loads((tmp_path / "scored" / CROSS_CHECK_FILE).read_text(encoding="utf-8"))
    assert result["evalkit_headline"] == pytest.approx(result["vlmevalkit_headline"])


@needs_vlmeval
def test_differing_rows_are_listed_with_both_values(tmp_path: Path, demo_sets: dict[str, Path]) -> None:
    """A fault: one row of evalkit's details.jsonl altered after scoring."""
    predictions = prediction_file(tmp_path, "MME", demo_sets["MME"])
    assert score(predictions, "MME", tmp_path / "scored") == 0
    details = tmp_path / "scored" / "details.jsonl"
    rows = [json.loads(line) for line in details.read_text(encoding="utf-8").splitlines()]
    rows[2]["score"] = 1.0 - rows[2]["score"]
    details.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    result = cross_check(load_catalog().get("MME"), predictions, None, tmp_path / "scored")
    assert (result.compared, result.agree, result.ok) == (8, 7, False)
    (row,) = result.differences
    assert (row.index, row.evalkit, row.vlmevalkit, row.prediction) == (
        str(rows[2]["index"]), rows[2]["score"], 1.0 - rows[2]["score"], rows[2]["prediction"])


@pytest.mark.parametrize(("suite", "protocol", "message"), [
    ("MathVista_MINI", "vlmevalkit", "MathVista_MINI: VLMEvalKit's own evaluation of this suite needs a judge"),
    ("MME", "paper", "--cross-check compares with VLMEvalKit's own evaluation: use it with --protocol vlmevalkit"),
    ("DocVQA_TEST", "vlmevalkit", "DocVQA_TEST: the answers are hidden"),
])
def test_what_cannot_be_cross_checked_is_refused_before_scoring(
        suite: str, protocol: str, message: str, tmp_path: Path, demo_sets: dict[str, Path],
        capsys: pytest.CaptureFixture[str]) -> None:
    predictions = prediction_file(tmp_path, suite, demo_sets[suite])
    code = main(["score", "--benchmark", suite, "--predictions", str(predictions), "--output",
                 str(tmp_path / "scored"), "--protocol", protocol, "--cross-check"])
    error = capsys.readouterr().err.strip()
    assert code == 2 and not (tmp_path / "scored").exists()
    assert error.startswith(f"evalkit: error: {message}") and "\n" not in error


def test_without_vlmeval_the_cross_check_is_one_line_with_the_install_line(
        tmp_path: Path, demo_sets: dict[str, Path], capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A fault: the package made absent."""
    import evalkit.models.vlmeval_support as support

    monkeypatch.setattr(support, "vlmeval_installed", lambda: False)
    code = score(prediction_file(tmp_path, "MME", demo_sets["MME"]), "MME", tmp_path / "scored")
    assert code == 2 and not (tmp_path / "scored").exists()
    assert capsys.readouterr().err.strip() == (
        "evalkit: error: --cross-check needs VLMEvalKit (the vlmeval package); pip install 'evalkit[vlmeval]' "
        "(from a checkout: pip install -e \".[vlmeval]\")")
