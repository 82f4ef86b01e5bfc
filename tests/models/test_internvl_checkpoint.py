"""``internvl:`` on InternVL-Chat-V1.5's real remote code: evalkit's predictions equal the checkpoint's own ``chat()``.

The checkpoint is ``../shared/fixtures/internvl-chat-v1-5-tiny`` (random weights, the real code). Each test runs
``evalkit run --model internvl:<fixture> --trust-remote-code`` on a VLMEvalKit-format TSV, then calls ``chat()`` on
the same rows the way InternVL's eval scripts at 83c72bc do (:mod:`tests.models.internvl_reference`), and compares
the recorded ``instruction``, ``prompt`` and ``prediction`` row by row. Greedy decoding, float32 and bfloat16.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from PIL import Image

from evalkit.cli import main
from evalkit.cli.commands import write_demo_sets
from tests.models.internvl_reference import (
    FIXTURE,
    Reference,
    decode_images,
    generation_config,
    mmbench_question,
    mmmu_question,
    needs_checkpoint_code,
    needs_fixture,
    read_tsv,
    vqa_question,
)
from tests.run.test_runner import png_base64

pytestmark = [needs_fixture, needs_checkpoint_code]
DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16}


@pytest.fixture(scope="module", params=list(DTYPES))
def reference(request: pytest.FixtureRequest) -> Reference:
    return Reference.load(DTYPES[request.param])


@pytest.fixture(scope="module")
def demo_sets(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return write_demo_sets(tmp_path_factory.mktemp("demo"))


def page(width: int, height: int, seed: int) -> Image.Image:
    """A page-like image: stripes of text-like noise on white, so the tiles differ from each other."""
    rng = np.random.default_rng(seed)
    array = np.full((height, width, 3), 255, dtype=np.uint8)
    for top in range(40, height - 40, 60):
        array[top:top + 20, 40:width - 40] = rng.integers(0, 256, size=(20, width - 80, 3), dtype=np.uint8)
    return Image.fromarray(array)


def image_base64(image: Image.Image) -> str:
    import base64
    import io

    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return base64.b64encode(buffer.getvalue()).decode()


def write_vqa_tsv(path: Path, sizes: list[tuple[int, int]]) -> Path:
    rows = [{"index": k, "image": image_base64(page(w, h, seed=k)), "question": f"What is written in line {k + 1}?",
             "answer": str([f"line {k + 1}"])} for k, (w, h) in enumerate(sizes)]
    pd.DataFrame(rows).to_csv(path, sep="\t", index=False)
    return path


def run_evalkit(tmp_path: Path, benchmark: str, data: Path, dtype: str, batch_size: int = 1,
                output: str = "run") -> list[dict]:
    """``evalkit run`` through the CLI; the suite's records in file order."""
    args = ["run", "--model", f"internvl:{FIXTURE}", "--trust-remote-code", "--benchmarks", benchmark,
            "--data-file", str(data), "--output", str(tmp_path / output), "--device", "cpu", "--dtype", dtype,
            "--batch-size", str(batch_size), "--no-progress"]
    assert main(args) == 0
    lines = (tmp_path / output / benchmark / "predictions.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines]


def dtype_name(reference: Reference) -> str:
    return next(name for name, dtype in DTYPES.items() if dtype == reference.dtype)


def by_index(records: list[dict]) -> dict[str, dict]:
    return {str(record["index"]): record for record in records}


@pytest.mark.parametrize(("benchmark", "size", "max_num", "tiles"), [
    ("DocVQA_VAL", (1100, 2200), 18, 19),  # a 3x6 grid, only reachable from 18 tiles up
    ("InfoVQA_VAL", (800, 1000), 24, 21),  # a 4x5 grid, only reachable from 20 tiles up
])
def test_short_answer_equals_chat(reference: Reference, tmp_path: Path, benchmark: str, size: tuple[int, int],
                                  max_num: int, tiles: int) -> None:
    data = write_vqa_tsv(tmp_path / f"{benchmark}.tsv", [size, (640, 480)])
    records = by_index(run_evalkit(tmp_path, benchmark, data, dtype_name(reference)))
    frame = read_tsv(data)
    for _, row in frame.iterrows():
        record = records[str(row["index"])]
        pixels = reference.pixels(decode_images(row["image"]), max_num)
        reply, printed = reference.chat_printing(pixels, vqa_question(row), generation_config(100))
        assert (record["instruction"], record["prompt"], record["prediction"], record["error"]) == (
            vqa_question(row), printed, reply, None)
    assert reference.pixels(decode_images(frame["image"][0]), max_num).shape[0] == tiles


def test_multiple_choice_with_circular_rotations_equals_chat(reference: Reference, tmp_path: Path,
                                                             demo_sets: dict[str, Path]) -> None:
    data = demo_sets["MMBench_DEV_EN"]
    records = by_index(run_evalkit(tmp_path, "MMBench_DEV_EN", data, dtype_name(reference), batch_size=4))
    frame = read_tsv(data)
    assert (frame["index"] >= 1_000_000).sum() >= 8  # the rotated copies CircularEval asks for
    for _, row in frame.iterrows():
        record = records[str(row["index"])]
        pixels = reference.pixels(decode_images(row["image"]), max_num=6)
        reply, printed = reference.chat_printing(pixels, mmbench_question(row, "en"), generation_config(100))
        assert (record["instruction"], record["prompt"], record["prediction"]) == (
            mmbench_question(row, "en"), printed, reply)


def test_several_images_equal_the_mmmu_script(reference: Reference, tmp_path: Path,
                                              demo_sets: dict[str, Path]) -> None:
    """evaluate_mmmu.py @83c72bc with ``--dynamic``: every image of the item through ``dynamic_preprocess`` at
    ``max_num`` (6), the tiles concatenated in image order, ONE ``model.chat(tokenizer, pixel_values, question,
    generation_config)`` call (one image block of 256 x all tiles), ``max_new_tokens=100``, ``min_new_tokens=1``."""
    data = demo_sets["MMMU_DEV_VAL"]
    records = by_index(run_evalkit(tmp_path, "MMMU_DEV_VAL", data, dtype_name(reference)))
    frame = read_tsv(data)
    several = 0
    for _, row in frame.iterrows():
        images = decode_images(row["image"])
        several += len(images) > 1
        record = records[str(row["index"])]
        reply, printed = reference.chat_printing(reference.pixels(images, max_num=6), mmmu_question(row),
                                                 generation_config(100))
        assert (record["instruction"], record["prompt"], record["prediction"]) == (mmmu_question(row), printed,
                                                                                  reply)
    assert several >= 1


def test_three_turns_equal_chat_with_history(reference: Reference, tmp_path: Path,
                                             demo_sets: dict[str, Path]) -> None:
    """Turn by turn: ``chat(..., history=None, return_history=True)``, then ``history=`` the returned history
    (the image block stays in the first question), ConvBench's 1024 new tokens and no minimum."""
    data = demo_sets["ConvBench"]
    records = by_index(run_evalkit(tmp_path, "ConvBench", data, dtype_name(reference)))
    frame = pd.read_csv(data, sep="\t")
    turns = ["The_first_turn_instruction", "The_second_turn_instruction", "The_third_turn_instruction"]
    for _, row in frame.iterrows():
        pixels = reference.pixels(decode_images(row["image"]), max_num=6)
        history = None
        replies = []
        for turn in turns:
            reply, history, _ = reference.chat(pixels, row[turn], generation_config(1024, 0), history)
            replies.append(reply)
        record = records[str(row["ID"])]
        assert record["instruction"] == [row[turn] for turn in turns]
        assert record["prediction"] == replies


def test_batches_of_four_equal_batches_of_one(reference: Reference, tmp_path: Path,
                                              demo_sets: dict[str, Path]) -> None:
    data = write_vqa_tsv(tmp_path / "docvqa.tsv", [(640, 480), (900, 700), (300, 1200), (1000, 600), (500, 500)])
    dtype = dtype_name(reference)
    for benchmark, source in (("DocVQA_VAL", data), ("MMBench_DEV_EN", demo_sets["MMBench_DEV_EN"])):
        one = run_evalkit(tmp_path, benchmark, source, dtype, batch_size=1, output=f"one-{benchmark}")
        four = run_evalkit(tmp_path, benchmark, source, dtype, batch_size=4, output=f"four-{benchmark}")
        assert by_index(one) == by_index(four)
        assert len({record["prediction"] for record in one}) > 1


def test_the_manifest_records_the_versions_the_compat_path_and_the_code(tmp_path: Path) -> None:
    data = write_vqa_tsv(tmp_path / "docvqa.tsv", [(300, 200)])
    run_evalkit(tmp_path, "DocVQA_VAL", data, "float32")
    model = json.loads((tmp_path / "run" / "manifest.json").read_text())["model"]
    import transformers

    assert model["transformers"] == transformers.__version__
    assert model["transformers_compat"]["dtype_keyword"] == "torch_dtype"  # every release the code loads under
    assert model["model_class"] == "InternVLChatModel" and model["dtype"] == "float32"
    expected = {path.name: hashlib.sha256(path.read_bytes()).hexdigest() for path in FIXTURE.glob("*.py")}
    assert {entry["file"]: entry["sha256"] for entry in model["remote_code_files"]} == expected


def test_a_broken_image_is_the_samples_error_and_its_neighbours_match(tmp_path: Path) -> None:
    data = tmp_path / "docvqa.tsv"
    frame = pd.DataFrame([
        {"index": 0, "image": png_base64((200, 30, 30), (300, 200)), "question": "Colour?", "answer": "['red']"},
        {"index": 1, "image": "bm90IGFuIGltYWdl", "question": "Broken?", "answer": "['no']"},
    ])
    frame.to_csv(data, sep="\t", index=False)
    records = by_index(run_evalkit(tmp_path, "DocVQA_VAL", data, "float32", batch_size=2))
    assert records["0"]["error"] is None and records["0"]["prediction"]
    assert records["1"]["error"] and records["1"]["prediction"] == ""


def test_load_through_the_registry_runs_the_checkpoint_code(capsys: pytest.CaptureFixture[str]) -> None:
    from evalkit.models.internvl import InternVLAdapter
    from evalkit.models.internvl_prompt import PAPER_SYSTEM_LINE
    from evalkit.models.registry import ModelOptions, load_model

    adapter = load_model(f"internvl:{FIXTURE}", ModelOptions(device="cpu", dtype="float32", trust_remote_code=True))
    assert isinstance(adapter, InternVLAdapter)
    out, err = capsys.readouterr()  # stdout is evalkit's; the checkpoint code's own prints go to stderr
    assert out == "" and err in ("", "FlashAttention is not installed.\n")  # printed at its first import
    facts = adapter.describe()
    assert (facts["model_class"], facts["template"], facts["tokenizer_class"]) == (
        "InternVLChatModel", "internlm2-chat", "InternLM2Tokenizer")
    assert facts["system_line"] == PAPER_SYSTEM_LINE == facts["checkpoint_system_line"]
    assert (facts["tokens_per_tile"], facts["eos_token_id"]) == (
        256, adapter.tokenizer.convert_tokens_to_ids("<|im_end|>"))


def test_another_conversation_template_is_refused(tmp_path: Path) -> None:
    import shutil

    from evalkit.errors import ModelSpecError
    from evalkit.models.registry import ModelOptions, load_model

    folder = shutil.copytree(FIXTURE, tmp_path / "phi3_checkpoint")
    config = json.loads((folder / "config.json").read_text())
    (folder / "config.json").write_text(json.dumps({**config, "template": "phi3-chat"}))
    with pytest.raises(ModelSpecError, match="its conversation template is 'phi3-chat'"):
        load_model(f"internvl:{folder}", ModelOptions(device="cpu", trust_remote_code=True))
