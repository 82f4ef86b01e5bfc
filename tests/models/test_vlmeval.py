"""``vlmeval:<name>``: VLMEvalKit's own model class, run by evalkit's runner, on the real package.

The model is VLMEvalKit's ``InternVL-Chat-V1-5`` entry with its ``model_path`` pointed (``--model-args``) at the
tiny random-weight checkpoint ``../shared/fixtures/internvl-chat-v1-5-tiny``, which carries V1.5's real remote
code; nothing is downloaded. Under ``--protocol vlmevalkit`` its predictions must equal the ``internvl:``
backend's on the same samples of four suites (short answer, MCQ with CircularEval copies, yes/no, MMMU with
several images), both in bfloat16 (VLMEvalKit's class loads V1.5 in bfloat16). The data are the suites' demo
sets, VLMEvalKit TSVs written by code.
"""

from __future__ import annotations

import json
import logging
import os
import ssl
from pathlib import Path
from typing import Any

import pytest

from evalkit.cli import main
from evalkit.cli.commands import write_demo_sets
from evalkit.config import Environment, ModelConfig, ModelOptions, RunConfig
from evalkit.models.vlmeval import DATASET_PROMPT, EVALKIT_PROMPT, MODEL_PROMPT
from evalkit.run.runner import Runner
from tests.models.internvl_reference import FIXTURE, needs_checkpoint_code, needs_fixture
from tests.models.vlmeval_support import (
    PINNED_MODEL_FILES,
    first_difference,
    fixture_on_cpu,
    needs_vlmeval,
    pin_message,
)

__all__ = ["fixture_on_cpu"]  # a module-scoped fixture the tests below request by name

SUITES = ("DocVQA_VAL", "MMBench_DEV_EN", "MME", "MMMU_DEV_VAL")
SPEC = "vlmeval:InternVL-Chat-V1-5"
LIMIT = 4


def real_model(test: Any) -> Any:
    """VLMEvalKit installed, the fixture present, its code runnable here, and the CPU shims on."""
    for mark in (needs_vlmeval, needs_fixture, needs_checkpoint_code, pytest.mark.usefixtures("fixture_on_cpu")):
        test = mark(test)
    return test


@pytest.fixture(scope="module")
def demo_sets(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return write_demo_sets(tmp_path_factory.mktemp("demo"))


def run(output: Path, spec: str, options: ModelOptions, protocol: str, demo_sets: dict[str, Path],
        suites: tuple[str, ...] = SUITES) -> dict[str, dict[str, dict[str, Any]]]:
    """One run through the runner; each suite's records by index."""
    config = RunConfig(model=ModelConfig(spec, options), benchmarks=suites, output=output,
                       environment=Environment.from_mapping({}), protocol=protocol, limit=LIMIT, progress=False,
                       demo_data=demo_sets)
    Runner(config).run()
    records = {}
    for suite in suites:
        lines = (output / suite / "predictions.jsonl").read_text(encoding="utf-8").splitlines()
        records[suite] = {str(record["index"]): record for record in map(json.loads, lines)}
    return records


def vlmeval_options(**args: str) -> ModelOptions:
    """Where the model goes is the class's choice (``device_map="auto"``); evalkit's ``device`` stays ``auto``."""
    return ModelOptions(args={"model_path": str(FIXTURE), **args})


def model_entry(output: Path) -> dict[str, Any]:
    entry: dict[str, Any] = json.loads((output / "manifest.json").read_text(encoding="utf-8"))["model"]
    return entry


@real_model
def test_predictions_equal_the_internvl_backend_under_the_vlmevalkit_protocol(
        tmp_path: Path, demo_sets: dict[str, Path]) -> None:
    ours = run(tmp_path / "vlmeval", SPEC, vlmeval_options(), "vlmevalkit", demo_sets)
    theirs = run(tmp_path / "internvl", f"internvl:{FIXTURE}",
                 ModelOptions(dtype="bfloat16", trust_remote_code=True), "vlmevalkit", demo_sets)
    difference = first_difference(PINNED_MODEL_FILES)
    note = pin_message(difference, "the internvl: backend (evalkit's vlmevalkit protocol)") if difference else ""
    replies = set()
    for suite in SUITES:
        assert set(ours[suite]) == set(theirs[suite]) and len(ours[suite]) == LIMIT
        for index, record in ours[suite].items():
            other = theirs[suite][index]
            assert record["error"] is None and other["error"] is None
            assert record["prediction"] == other["prediction"], f"{suite} {index}: {note}"
            # the model class received InternVL's build_prompt: the instruction evalkit renders, then the images
            assert record["prompt"].split("\n<image>")[0] == other["instruction"], note
            replies.add(record["prediction"])
    assert len(replies) > 4  # random weights, varied replies: equality is not trivial
    several = [r for r in ours["MMMU_DEV_VAL"].values() if r["prompt"].count("<image>") > 1]
    assert several  # an MMMU item with several images went through as several image items
    entry = model_entry(tmp_path / "vlmeval")
    import torch

    assert (entry["backend"], entry["model"], entry["dtype"], entry["device_override"]) == (
        "vlmeval", "InternVL-Chat-V1-5", "bfloat16", None if torch.cuda.is_available() else "cpu")
    assert entry["model_class"] == "vlmeval.vlm.internvl.internvl_chat.InternVLChat"
    assert entry["constructor_kwargs"] == {"model_path": str(FIXTURE)}
    assert entry["prompt_sources"] == dict.fromkeys(SUITES, MODEL_PROMPT)


@real_model
def test_a_model_without_its_own_prompt_gets_the_dataset_classs_prompt(
        tmp_path: Path, demo_sets: dict[str, Path]) -> None:
    """``use_custom_prompt=false``: VLMEvalKit's ImageVQADataset.build_prompt (image, then the question and its
    short-answer line)."""
    output = tmp_path / "run"
    records = run(output, SPEC, vlmeval_options(use_custom_prompt="false"), "vlmevalkit", demo_sets,
                  suites=("DocVQA_VAL",))["DocVQA_VAL"]
    import pandas as pd

    frame = pd.read_csv(demo_sets["DocVQA_VAL"], sep="\t")
    for _, row in frame.head(LIMIT).iterrows():
        record = records[str(row["index"])]
        assert record["prompt"] == f"<image>\n{row['question']}\nAnswer the question using a single word or phrase."
        assert record["error"] is None and record["prediction"]
    entry = model_entry(output)
    assert entry["prompt_sources"] == {"DocVQA_VAL": DATASET_PROMPT}
    assert entry["constructor_kwargs"] == {"model_path": str(FIXTURE), "use_custom_prompt": False}


@real_model
def test_under_the_paper_protocol_evalkits_prompts_are_used_and_resume_works(
        tmp_path: Path, demo_sets: dict[str, Path]) -> None:
    output = tmp_path / "run"
    first = run(output, SPEC, vlmeval_options(), "paper", demo_sets, suites=("MME",))["MME"]
    for record in first.values():
        assert record["prompt"] == f"<image>\n{record['instruction']}"  # the images, then evalkit's text
        assert record["instruction"].endswith("Answer the question using a single word or phrase.")
    assert model_entry(output)["prompt_sources"] == {"MME": EVALKIT_PROMPT}
    code = main(["run", "--model", SPEC, "--model-args", f"model_path={FIXTURE}", "--benchmarks", "MME",
                 "--data-file", str(demo_sets["MME"]), "--output", str(output), "--limit", str(LIMIT),
                 "--no-progress"])
    assert code == 0
    manifest = json.loads((output / "manifest.json").read_text(encoding="utf-8"))
    assert (manifest["benchmarks"]["MME"]["reused"], manifest["benchmarks"]["MME"]["generated"]) == (LIMIT, 0)


@needs_vlmeval
def test_an_unknown_name_is_one_line_and_nothing_is_written(tmp_path: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["run", "--model", "vlmeval:InternVL-Chat-V1-6", "--benchmarks", "MME", "--output",
                 str(tmp_path / "run")])
    error = capsys.readouterr().err.strip()
    assert code == 2 and not (tmp_path / "run").exists()
    assert error.count("\n") == 0 and "'InternVL-Chat-V1-6' is not one of VLMEvalKit's" in error
    assert "did you mean InternVL-Chat-V1-5" in error


@needs_vlmeval
def test_importing_vlmeval_leaves_https_verification_and_logging_as_they_were() -> None:
    from evalkit.models.vlmeval_support import supported_models

    factory, handlers = ssl._create_default_https_context, list(logging.getLogger().handlers)
    assert "InternVL-Chat-V1-5" in supported_models()
    import vlmeval  # imported now (by supported_models); its __init__ replaced the HTTPS context factory

    assert vlmeval.__name__ == "vlmeval"
    assert ssl._create_default_https_context is factory
    assert logging.getLogger().handlers == handlers


def test_vlmeval_is_imported_only_when_the_backend_is_used() -> None:
    """Listing the backends (every module of evalkit.models imported) and another command leave it unimported."""
    import subprocess
    import sys

    from tests.support.processes import pythonpath

    code = ("import sys; from evalkit.cli import main; main(['list', 'models']); "
            "print('vlmeval' in sys.modules, 'evalkit.models.vlmeval' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                          env={**os.environ, "PYTHONPATH": pythonpath()})
    assert "vlmeval:<name in VLMEvalKit's supported_VLM>" in done.stdout
    assert done.stdout.strip().splitlines()[-1] == "False True"


def test_without_vlmeval_the_spec_is_one_line_with_the_install_line(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """A fault: the package made absent (find_spec answers None)."""
    import evalkit.models.vlmeval as backend

    monkeypatch.setattr(backend, "vlmeval_installed", lambda: False)
    code = main(["run", "--model", SPEC, "--benchmarks", "MME", "--output", str(tmp_path / "run")])
    error = capsys.readouterr().err.strip()
    assert code == 2 and not (tmp_path / "run").exists()
    assert error == (f"evalkit: error: model '{SPEC}': VLMEvalKit (the vlmeval package) is not installed; "
                     "pip install 'evalkit[vlmeval]' (from a checkout: pip install -e \".[vlmeval]\")")
