"""A run whose ``details.jsonl`` no longer aggregates to its ``scores.json`` (edited or truncated by hand) is a data
error naming the file (exit 2), checked on a real ``tiny-random`` run."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from evalkit.cli import main
from evalkit.compare.gate import compare_runs
from evalkit.errors import DataError
from evalkit.run.folder import DIGEST, details_digest
from tests.report.conftest import write_suite_tsv

SUITES = ("DocVQA_VAL", "MMBench_DEV_EN")


@pytest.fixture(scope="module")
def real_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("tampered")
    for suite in SUITES:
        data = write_suite_tsv(suite, root / "LMUData")
        assert main(["run", "--model", "tiny-random", "--benchmarks", suite, "--data-file", str(data), "--limit",
                     "12", "--max-new-tokens", "3", "--device", "cpu", "--output", str(root / "run"),
                     "--no-progress"]) == 0
    return root / "run"


def copy(run: Path, to: Path) -> Path:
    shutil.copytree(run, to)
    return to


def rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def write_rows(path: Path, records: list[dict]) -> None:
    path.write_text("".join(json.dumps(record) + "\n" for record in records))


def test_the_run_records_what_its_details_hold(real_run):
    for suite in SUITES:
        scores = json.loads((real_run / suite / "scores.json").read_text())
        details = rows(real_run / suite / "details.jsonl")
        assert scores[DIGEST] == details_digest(details)
        assert scores[DIGEST]["rows"] == len(details) and scores[DIGEST]["scored"] > 0
    result = compare_runs(real_run, real_run, bootstrap=200)
    assert result.exit_code == 0 and result.compared == list(SUITES)
    assert not any("not checked against scores.json" in note for suite in result.suites for note in suite.notes)


def tampered(real_run: Path, tmp_path: Path, change: Callable[[list[dict]], object]) -> Path:
    candidate = copy(real_run, tmp_path / "cand")
    path = candidate / "DocVQA_VAL" / "details.jsonl"
    records = rows(path)
    change(records)
    write_rows(path, records)
    return path


@pytest.mark.parametrize(("edit", "message"), [
    (lambda records: records.pop(), "holds 3 rows, but the score was computed from 4"),
    (lambda records: records[0].update(score=1.0 - records[0]["score"]), "its per-sample scores sum to "),
    (lambda records: records[3].update(score=None), "holds 3 scored rows, but the score was computed from 4"),
])
def test_a_truncated_or_edited_details_file_is_named(real_run, tmp_path, capsys, edit, message):
    path = tampered(real_run, tmp_path, edit)
    with pytest.raises(DataError, match=message) as caught:
        compare_runs(real_run, path.parent.parent, bootstrap=200)
    assert str(caught.value).startswith(f"{path}: no longer matches {path.parent / 'scores.json'}: ")
    assert main(["compare", str(real_run), str(path.parent.parent), "--output", str(tmp_path / "gate")]) == 2
    error = capsys.readouterr().err.strip().splitlines()
    assert len(error) == 1 and str(path) in error[0] and message in error[0]
    assert not (tmp_path / "gate").exists()


def test_swapped_scores_are_seen_though_the_sum_holds(tmp_path):
    from tests.compare.test_gate import write_run

    base = write_run(tmp_path / "base", {"AI2D_TEST": [1.0, 0.0, 1.0, 0.0]})
    candidate = write_run(tmp_path / "cand", {"AI2D_TEST": [1.0, 0.0, 1.0, 0.0]})
    path = candidate / "AI2D_TEST" / "details.jsonl"
    records = rows(path)
    records[0]["score"], records[1]["score"] = records[1]["score"], records[0]["score"]
    write_rows(path, records)
    with pytest.raises(DataError, match="same sum, other samples"):
        compare_runs(base, candidate, bootstrap=100)


def test_an_edited_prediction_text_changes_no_score_and_passes(real_run, tmp_path):
    path = tampered(real_run, tmp_path, lambda records: records[0].update(prediction="retyped"))
    assert compare_runs(real_run, path.parent.parent, bootstrap=200).exit_code == 0


def test_a_run_from_before_digests_is_compared_and_says_it_was_not_checked(real_run, tmp_path):
    old = copy(real_run, tmp_path / "old")
    for suite in SUITES:
        scores_path = old / suite / "scores.json"
        scores = json.loads(scores_path.read_text())
        del scores[DIGEST]
        scores_path.write_text(json.dumps(scores))
    result = compare_runs(real_run, old, bootstrap=200)
    assert result.exit_code == 0
    for suite in result.suites:
        assert ("details.jsonl of the candidate not checked against scores.json (no details_digest: written by an "
                "older evalkit)") in suite.notes
