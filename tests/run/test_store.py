"""The prediction store: durable appends, torn-line repair, identity refusal, compaction."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest

from evalkit.errors import DataError, RunDirectoryError
from evalkit.run.folder import PREDICTIONS
from evalkit.run.store import PredictionStore, scoring_turn

IDENTITY = {"model": "tiny-random", "protocol": "paper", "prompt_version": "X/v1/paper/short_answer"}


def record(index, prediction="p", error=None):
    return {"index": index, "instruction": "q", "prompt": "USER: q ASSISTANT:", "prediction": prediction,
            "error": error}


def test_appended_records_are_reloaded(tmp_path):
    store = PredictionStore.open(tmp_path)
    store.claim(IDENTITY)
    store.append([record(1), record("a_b", "x")])
    again = PredictionStore.open(tmp_path)
    assert again.is_done(1) and again.is_done("a_b") and not again.is_done("1")
    assert again.records['"a_b"']["prediction"] == "x"


def test_a_torn_last_line_is_cut_on_open(tmp_path):
    store = PredictionStore.open(tmp_path)
    store.append([record(1), record(2)])
    with store.path.open("a", encoding="utf-8") as handle:
        handle.write('{"index": 3, "instruction": "q", "pred')
    again = PredictionStore.open(tmp_path)
    assert again.repaired_bytes == len('{"index": 3, "instruction": "q", "pred')
    assert sorted(json.loads(line)["index"] for line in store.path.read_text().splitlines()) == [1, 2]
    assert not again.is_done(3)


def test_a_corrupt_line_in_the_middle_is_named(tmp_path):
    store = PredictionStore.open(tmp_path)
    store.append([record(1)])
    with store.path.open("a", encoding="utf-8") as handle:
        handle.write("not json\n")
    store.append([record(2)])
    with pytest.raises(DataError, match=r"predictions.jsonl: line 2 is not valid JSON"):
        PredictionStore.open(tmp_path)


def test_another_configuration_is_refused_with_what_differs(tmp_path):
    PredictionStore.open(tmp_path).claim(IDENTITY)
    with pytest.raises(RunDirectoryError) as caught:
        PredictionStore.open(tmp_path).claim({**IDENTITY, "model": "hf:other"})
    message = str(caught.value)
    assert 'model was "tiny-random", now "hf:other"' in message and "protocol" not in message
    PredictionStore.open(tmp_path).claim(dict(IDENTITY))


def test_errors_are_done_unless_retried_and_compaction_keeps_the_latest(tmp_path):
    store = PredictionStore.open(tmp_path)
    store.append([record(1), record(2, "", error="SampleError: unreadable image")])
    assert store.is_done(2) and not store.is_done(2, retry_errors=True)
    store.append([record(2, "fixed")])
    assert store.merge_if_complete([1, 2])
    lines = [json.loads(line) for line in store.path.read_text().splitlines()]
    kept = [(line["index"], line["prediction"], line["error"]) for line in lines]
    assert kept == [(1, "p", None), (2, "fixed", None)]


def test_an_unwritable_run_directory_is_a_clear_error(tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the run directory should be")
    with pytest.raises(RunDirectoryError, match=r"cannot write to .*not-a-folder/bench"):
        PredictionStore.open(blocker / "bench").claim(IDENTITY)


def test_rank_files_are_merged_once_every_sample_is_covered(tmp_path):
    rank0, rank1 = PredictionStore.open(tmp_path, rank=0), PredictionStore.open(tmp_path, rank=1)
    rank0.append([record(0), record(2)])
    assert not rank0.merge_if_complete([0, 1, 2, 3])
    rank1.append([record(1)])
    with (tmp_path / "predictions.rank1.jsonl").open("a") as handle:
        handle.write('{"index": 3, "pre')  # rank 1 is mid-write: not yet covered, and not cut by rank 0
    assert not rank0.merge_if_complete([0, 1, 2, 3])
    assert (tmp_path / "predictions.rank1.jsonl").read_text().endswith('"pre')
    PredictionStore.open(tmp_path, rank=1).append([record(3)])
    assert rank1.merge_if_complete([0, 1, 2, 3])
    assert sorted(path.name for path in tmp_path.glob("predictions*")) == ["predictions.jsonl"]
    lines = [json.loads(line)["index"] for line in (tmp_path / "predictions.jsonl").read_text().splitlines()]
    assert lines == [0, 1, 2, 3]
    assert rank0.merge_if_complete([0, 1, 2, 3])


def test_a_resume_with_another_number_of_ranks_sees_every_earlier_file(tmp_path):
    PredictionStore.open(tmp_path, rank=0).append([record(0)])
    PredictionStore.open(tmp_path, rank=2).append([record(5)])
    alone = PredictionStore.open(tmp_path)
    assert alone.is_done(0) and alone.is_done(5) and not alone.is_done(1)


def test_the_scoring_turn_goes_to_one_rank(tmp_path):
    folder = tmp_path / "suite"
    folder.mkdir()
    (folder / PREDICTIONS).write_text("{}\n")
    result = folder / "scores.json"
    since = time.time() - 60
    with scoring_turn(folder, result, since) as first:
        with scoring_turn(folder, result, since) as second:  # another rank, while the first scores
            assert (first, second) == (True, False)
        result.write_text("{}")
    with scoring_turn(folder, result, since) as third:  # a rank arriving after the first one scored
        assert third is False
    with scoring_turn(folder, result, time.time() + 60) as later_run:  # scores from an earlier run are redone
        assert later_run is True
    os.utime(folder / PREDICTIONS, (time.time() + 5, time.time() + 5))  # merged again after those scores
    with scoring_turn(folder, result, since) as after_merge:
        assert after_merge is True


def test_process_started_is_when_the_process_was_created_not_when_evalkit_was_imported():
    code = ("import time; time.sleep(1.5); from evalkit.run.store import process_started; "
            "print(time.time() - process_started())")
    age = float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout)
    assert 1.5 <= age < 60
