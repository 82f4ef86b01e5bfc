"""Determinism: one command run twice gives the same bytes, and the manifest records how to get them again.

Two runs of ``evalkit run`` with ``tiny-random`` (greedy decoding) on two suites of the built-in demo
sets, each run in a folder of its own: its own ``$LMUData`` (demo sets written afresh), its own model
cache (tiny-random built afresh), its own output folder, and a different ``PYTHONHASHSEED`` (so no
result may depend on set or dict-of-str ordering). ``predictions.jsonl``, ``details.jsonl``,
``scores.json`` and ``run.json`` must be byte-identical, and ``manifest.json`` must hold what a third
person needs to reproduce the run.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import evalkit
from evalkit.catalog.cards import load_catalog
from evalkit.cli.commands import write_demo_sets
from tests.support.processes import pythonpath

REPO = Path(__file__).resolve().parents[2]
#: A multiple-choice suite (letter extraction, accuracy) and a grounding suite (float box arithmetic).
SUITES = ("AI2D_TEST", "RefCOCO")
COMPARED = ("predictions.jsonl", "details.jsonl", "scores.json", "run.json")
ARGS = ["run", "--model", "tiny-random", "--benchmarks", ",".join(SUITES), "--max-new-tokens", "4",
        "--no-progress", "--no-verify-checksum", "--device", "cpu", "--seed", "0"]


def run_in(folder: Path, hash_seed: str) -> tuple[subprocess.CompletedProcess[str], Path]:
    """The command of ``ARGS`` in ``folder``, with the demo sets as its ``$LMUData`` and a cache of its own."""
    folder.mkdir()
    write_demo_sets(folder / "LMUData")
    env = {**os.environ, "EVALKIT_CACHE": str(folder / "cache"), "LMUData": str(folder / "LMUData"),
           "HF_HUB_OFFLINE": "1", "PYTHONPATH": pythonpath(), "PYTHONHASHSEED": hash_seed}
    output = folder / "run"
    result = subprocess.run([sys.executable, str(REPO / "run_eval.py"), *ARGS, "--output", str(output)], cwd=folder,
                            capture_output=True, text=True, timeout=400, env=env, check=False)
    return result, output


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("determinism")
    outputs = []
    for name, hash_seed in (("first", "1"), ("second", "2")):
        result, output = run_in(root / name, hash_seed)
        assert result.returncode == 0, result.stderr
        outputs.append(output)
    return outputs[0], outputs[1]


@pytest.mark.parametrize("suite", SUITES)
@pytest.mark.parametrize("name", COMPARED)
def test_same_command_gives_identical_bytes(two_runs, suite, name):
    first, second = (folder / suite / name for folder in two_runs)
    assert first.read_bytes() == second.read_bytes(), f"{suite}/{name} differs between two identical runs"


def test_the_runs_did_real_work(two_runs):
    """Identical empty files would prove nothing: every sample has a prediction, no error, a score."""
    for suite in SUITES:
        records = [json.loads(line) for line in (two_runs[0] / suite / "predictions.jsonl").open(encoding="utf-8")]
        assert records and all(record["error"] is None and record["prediction"] for record in records)
        scores = json.loads((two_runs[0] / suite / "scores.json").read_text(encoding="utf-8"))
        assert scores["n"] == len(records) and scores["score"] is not None


def manifest(folder: Path) -> dict[str, Any]:
    return json.loads((folder / "manifest.json").read_text(encoding="utf-8"))


def test_manifest_records_what_reproduces_the_run(two_runs):
    catalog = load_catalog()
    data = manifest(two_runs[0])
    assert data["evalkit_version"] == evalkit.__version__
    packages = data["packages"]
    assert packages["python"] and all(packages[name] for name in ("torch", "transformers", "pillow", "numpy"))
    assert data["seed"] == 0
    assert data["protocol"] == "paper"
    assert data["judge"] == {"spec": "exact_matching"}
    assert data["model_spec"] == "tiny-random" and data["model"]["chat_template_sha256"]
    assert data["model"]["dtype"] and data["model"]["device"] == "cpu"
    assert data["finished"] and data["attempts"][-1]["argv"][:5] == ARGS[:5]
    for suite in SUITES:
        entry = data["benchmarks"][suite]
        spec = catalog.get(suite)
        assert entry["prompt_version"] == f"{suite}/v{spec.version}/paper/{spec.protocol('paper').prompt}"
        assert entry["card_version"] == spec.version and entry["protocol_variant"]
        assert entry["protocol"] == "paper"
        generation = entry["generation"]
        assert generation["max_new_tokens"] == 4 and generation["do_sample"] is False
        assert generation["num_beams"] == 1 and generation["seed"] == 0
        assert {"temperature", "top_p", "top_k", "min_new_tokens"} <= set(generation)
        tsv = Path(entry["data"]["location"])
        assert tsv.name == f"{suite}.tsv"
        assert entry["data"]["checksum"] == entry["data_checksum"] == hashlib.md5(tsv.read_bytes()).hexdigest()
        assert entry["max_tiles"] == spec.protocol("paper").max_tiles
        assert entry["samples"] == entry["generated"] and entry["errors"] == 0


def test_both_manifests_agree_on_everything_but_times_and_paths(two_runs):
    first, second = (manifest(folder) for folder in two_runs)
    for data in (first, second):
        for key in ("started", "finished", "attempts"):
            data.pop(key)
        data["model"].pop("model")  # the cache folder of each run
        for entry in data["benchmarks"].values():
            for key in ("started", "finished"):
                entry.pop(key)
            entry["data"].pop("location")
    assert first == second
