"""Data parallel runs under torchrun (gloo, CPU): the merged predictions equal a single process's."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from tests.judge.server import FakeOpenAIServer, Reply
from tests.run.test_runner import write_tsv
from tests.support.processes import pythonpath

REPO = Path(__file__).resolve().parents[2]
FIELDS = ("index", "instruction", "prompt", "prediction", "error")


#: run_eval.py with a judge cache of each rank's own, as on nodes without a shared home: a judge request sent
#: by two ranks is then paid twice, and shows in the fake server's count. Rank 1 starts 4 s late (a slow node):
#: rank 0 may then have finished the whole suite before rank 1 has even imported evalkit.
OWN_CACHE = """import os, runpy, sys, time
os.environ["EVALKIT_CACHE"] += "-rank" + os.environ.get("RANK", "alone")
if os.environ.get("RANK") == "1":
    time.sleep(4)
sys.argv[0] = {entry!r}
runpy.run_path({entry!r}, run_name="__main__")
"""


def launch(tmp_path: Path, output: Path, data: Path, *, ranks: int, extra: tuple[str, ...] = (),
           benchmark: str = "DocVQA_VAL", own_cache: bool = False) -> None:
    args = ["run", "--model", "tiny-random", "--benchmarks", benchmark, "--data-file", str(data), "--output",
            str(output), "--max-new-tokens", "6", "--batch-size", "2", "--no-progress", *extra]
    env = {**os.environ, "EVALKIT_CACHE": str(tmp_path / "cache"), "PYTHONPATH": pythonpath(), "OMP_NUM_THREADS": "1"}
    entry = REPO / "run_eval.py"
    if own_cache:
        entry = tmp_path / "own_cache_entry.py"
        entry.write_text(OWN_CACHE.format(entry=str(REPO / "run_eval.py")))
    if ranks == 1:
        command = [sys.executable, str(entry), *args]
    else:
        command = [sys.executable, "-m", "torch.distributed.run", "--nproc-per-node", str(ranks), "--master-port",
                   "0", str(entry), *args]
    result = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stderr[-3000:]


def records(output: Path) -> list[tuple]:
    lines = (output / "DocVQA_VAL" / "predictions.jsonl").read_text().splitlines()
    return [tuple(json.dumps(json.loads(line)[field]) for field in FIELDS) for line in lines]


@pytest.fixture(scope="module")
def single(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, list[tuple]]:
    base = tmp_path_factory.mktemp("dist")
    data = write_tsv(base / "docvqa.tsv", rows=9)
    launch(base, base / "single", data, ranks=1)
    return base, data, records(base / "single")


def test_two_ranks_merge_to_the_single_process_predictions(single):
    base, data, expected = single
    launch(base, base / "two", data, ranks=2)
    folder = base / "two" / "DocVQA_VAL"
    assert records(base / "two") == expected
    assert not list(folder.glob("predictions.rank*.jsonl"))
    assert json.loads((folder / "scores.json").read_text())["n"] == 9
    attempts = json.loads((base / "two" / "manifest.json").read_text())["attempts"]
    assert sorted(attempt["rank"] for attempt in attempts) == [0, 1]


def test_a_resume_may_use_another_number_of_ranks(single):
    base, data, expected = single
    launch(base, base / "resumed", data, ranks=2, extra=("--limit", "5"))
    launch(base, base / "resumed", data, ranks=3)
    assert records(base / "resumed") == expected


def test_the_files_of_a_killed_rank_are_picked_up(single):
    base, data, expected = single
    folder = base / "killed" / "DocVQA_VAL"
    folder.mkdir(parents=True)
    shutil.copy(base / "single" / "DocVQA_VAL" / "run.json", folder / "run.json")
    lines = (base / "single" / "DocVQA_VAL" / "predictions.jsonl").read_text().splitlines(keepends=True)
    (folder / "predictions.rank0.jsonl").write_text("".join(lines[0:8:2]))
    (folder / "predictions.rank1.jsonl").write_text(lines[1] + lines[3][:25])  # died mid-write
    launch(base, base / "killed", data, ranks=1)
    assert records(base / "killed") == expected
    assert not list(folder.glob("predictions.rank*.jsonl"))


def mmvet_data(path: Path, rows: int) -> Path:
    frame = pd.read_csv(write_tsv(path, rows=rows), sep="\t")
    frame["answer"] = [f"item {i}" for i in range(rows)]
    frame["category"] = "ocr"
    frame.to_csv(path, sep="\t", index=False)
    return path


@pytest.mark.parametrize("resume", [False, True], ids=["fresh", "resumed-complete"])
def test_a_judged_suite_is_scored_by_one_rank_only(tmp_path, resume):
    """Two ranks that both find the folder merged must not both pay the judge: N requests, not 2N.

    ``resumed-complete`` is the case where both always do (a finished folder run again by 2 ranks); each rank
    has its own judge cache, so a second scoring would send every request again.
    """
    rows = 6
    data = mmvet_data(tmp_path / "mmvet.tsv", rows)
    with FakeOpenAIServer(default=Reply("0.5")) as server:
        judge = ("--judge", "openai:gpt-4-0613", "--judge-base-url", server.url)
        if resume:
            launch(tmp_path, tmp_path / "run", data, ranks=1, extra=judge, benchmark="MMVet", own_cache=True)
            assert server.count == rows
        launch(tmp_path, tmp_path / "run", data, ranks=2, extra=judge, benchmark="MMVet", own_cache=True)
        assert server.count == rows * (2 if resume else 1)
    scores = json.loads((tmp_path / "run" / "MMVet" / "scores.json").read_text())
    assert scores["n"] == rows and scores["score"] == 50.0
