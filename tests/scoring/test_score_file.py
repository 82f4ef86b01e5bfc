"""``score`` on the files users already have: VLMEvalKit xlsx/tsv/csv and evalkit's predictions.jsonl."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from evalkit.cli import main
from evalkit.config import Environment
from evalkit.errors import DataError
from evalkit.scoring.score_file import ScoreRequest, score_file

ENVIRONMENT = Environment(data_root=Path("/nonexistent"), cache_dir=Path("/tmp/evalkit-test-cache"),
                          hub_cache_dir=None, offline=True)

# ANLS by hand (infographicsvqa_eval.py@83c72bc): 'abcd  ' vs 'abc' = 1 - 1/6 (raw-length denominator) = 0.8333;
# 'paris' vs 'Paris' = 1; 'ninety' vs '12' = 1 - 6/6 = 0 → mean 0.6111.
DOCVQA_ROWS = [
    {"index": 0, "question": "q0", "answer": "['abc']", "prediction": "abcd  "},
    {"index": 1, "question": "q1", "answer": "['Paris', 'paris france']", "prediction": "paris"},
    {"index": 2, "question": "q2", "answer": "['12']", "prediction": "ninety"},
]


def write(rows: list[dict], path: Path) -> Path:
    frame = pd.DataFrame(rows)
    if path.suffix == ".xlsx":
        frame.to_excel(path, index=False)
    else:
        frame.to_csv(path, sep="\t" if path.suffix == ".tsv" else ",", index=False)
    return path


@pytest.mark.parametrize("suffix", [".xlsx", ".tsv", ".csv"])
def test_a_vlmevalkit_prediction_file_is_scored_without_images(tmp_path, suffix):
    path = write(DOCVQA_ROWS, tmp_path / f"MyModel_DocVQA_VAL{suffix}")
    scored = score_file(ScoreRequest("DocVQA_VAL", path, tmp_path / "out"), ENVIRONMENT)
    assert scored.suite.score == pytest.approx(100 * (5 / 6 + 1 + 0) / 3)
    document = json.loads((tmp_path / "out" / "scores.json").read_text())
    assert document["benchmark"] == "DocVQA_VAL" and document["metric"] == "anls" and document["n"] == 3
    assert document["protocol"] == "paper" and document["other_protocol"]["protocol"] == "vlmevalkit"
    details = [json.loads(line) for line in (tmp_path / "out" / "details.jsonl").read_text().splitlines()]
    assert [d["index"] for d in details] == [0, 1, 2]
    assert [round(d["score"], 4) for d in details] == [0.8333, 1.0, 0.0]


def test_numbers_in_predictions_are_kept_as_written(tmp_path):
    rows = [{"index": 0, "question": "q", "answer": "['1e3']", "prediction": "1e3"}]
    path = write(rows, tmp_path / "M_DocVQA_VAL.tsv")
    scored = score_file(ScoreRequest("DocVQA_VAL", path, tmp_path / "out"), ENVIRONMENT)
    assert scored.suite.samples[0].prediction == "1e3" and scored.suite.score == 100.0


def test_a_prediction_file_without_the_prediction_column_is_named(tmp_path):
    rows = [{key: value for key, value in row.items() if key != "prediction"} for row in DOCVQA_ROWS]
    path = write(rows, tmp_path / "M_DocVQA_VAL.tsv")
    with pytest.raises(DataError, match=r"M_DocVQA_VAL.tsv: missing column 'prediction'"):
        score_file(ScoreRequest("DocVQA_VAL", path, tmp_path / "out"), ENVIRONMENT)


def test_score_cli_reads_a_run_directory_and_notes_a_protocol_switch(tmp_path, capsys):
    run = tmp_path / "run"
    data = write([{**row, "image": ""} for row in DOCVQA_ROWS], tmp_path / "data.tsv")
    (run / "DocVQA_VAL").mkdir(parents=True)
    records = [{"index": row["index"], "instruction": "x", "prompt": "x", "prediction": row["prediction"],
                "error": None} for row in DOCVQA_ROWS]
    (run / "DocVQA_VAL" / "predictions.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    (run / "DocVQA_VAL" / "run.json").write_text(json.dumps({"protocol": "vlmevalkit"}))
    code = main(["score", "--benchmark", "docvqa_val", "--predictions", str(run / "DocVQA_VAL/predictions.jsonl"),
                 "--output", str(tmp_path / "rescored"), "--data-file", str(data)])
    out = capsys.readouterr().out
    assert code == 0 and "61.11" in out and "scored under paper" in out
    assert json.loads((tmp_path / "rescored/scores.json").read_text())["note"].startswith(
        "predictions were made under the vlmevalkit protocol")


def test_score_of_a_missing_file_is_one_line(tmp_path, capsys):
    code = main(["score", "--benchmark", "MME", "--predictions", str(tmp_path / "nope.xlsx"), "--output",
                 str(tmp_path / "o")])
    err = capsys.readouterr().err.strip()
    assert code == 2 and err == f"evalkit: error: no such prediction file: {tmp_path / 'nope.xlsx'}"


def test_hidden_answers_write_a_submission_instead_of_a_score(tmp_path):
    rows = [{"index": 57349, "question": "q", "prediction": "Acme Corp"},
            {"index": 57350, "question": "q2", "prediction": "12"}]
    path = write(rows, tmp_path / "M_DocVQA_TEST.xlsx")
    scored = score_file(ScoreRequest("DocVQA_TEST", path, tmp_path / "out"), ENVIRONMENT)
    assert scored.suite.score is None and "answers hidden" in (scored.suite.reason or "")
    submission = json.loads((tmp_path / "out" / "submission_rrc.json").read_text())
    assert submission == [{"questionId": 57349, "answer": "Acme Corp"}, {"questionId": 57350, "answer": "12"}]
    assert "rrc.cvc.uab.es" in scored.document["submission"]["upload_to"]


@pytest.mark.parametrize(("name", "content"), [("GPT4V_MMBench_DEV_EN.xlsx", b"PK\x03\x04 not really a workbook"),
                                               ("GPT4V_MMBench_DEV_EN.xlsx", b"plain text")])
def test_a_damaged_prediction_workbook_is_one_line(tmp_path, capsys, name, content):
    path = tmp_path / name
    path.write_bytes(content)
    code = main(["score", "--benchmark", "MMBench_DEV_EN", "--predictions", str(path), "--output",
                 str(tmp_path / "out")])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and err[0].startswith(f"evalkit: error: cannot read {path}: ")
    assert not (tmp_path / "out").exists()
