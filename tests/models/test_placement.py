"""Each backend resolves ``--dtype`` / ``--device`` to what the model will run with, loading nothing."""

from __future__ import annotations

import pytest

from evalkit.config import Environment
from evalkit.errors import ModelSpecError
from evalkit.models.registry import LoadRequest, ModelOptions, NoOptions, Placement, backends, resolve_placement
from evalkit.models.tiny import ensure_tiny_random


@pytest.mark.parametrize(("device", "dtype", "tiny", "hf"), [
    ("auto", "auto", Placement("float32", "cpu"), Placement("float32", "cpu")),
    ("cpu", "bfloat16", Placement("bfloat16", "cpu"), Placement("bfloat16", "cpu")),
    # the device index is left out (ranks agree); tiny-random's auto dtype is float32 everywhere
    ("cuda:1", "auto", Placement("float32", "cuda"), Placement("bfloat16", "cuda")),
])
def test_tiny_random_and_hf(device: str, dtype: str, tiny: Placement, hf: Placement) -> None:
    options = ModelOptions(device=device, dtype=dtype)
    assert resolve_placement("tiny-random", options) == tiny
    folder = ensure_tiny_random(Environment.current().cache_dir)
    assert resolve_placement(f"hf:{folder}", options) == hf


def test_auto_on_a_machine_with_cuda_is_bfloat16_for_hf_but_the_cpu_for_tiny_random(monkeypatch) -> None:
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    folder = ensure_tiny_random(Environment.current().cache_dir)
    assert resolve_placement(f"hf:{folder}") == Placement("bfloat16", "cuda")
    assert resolve_placement(f"hf:{folder}", ModelOptions(device="auto-map")) == Placement("bfloat16", "cuda")
    assert resolve_placement("tiny-random") == Placement("float32", "cpu")


def test_an_api_model_has_no_dtype_or_device() -> None:
    environment = Environment.from_mapping({"OPENAI_API_KEY": "sk-test"})
    assert resolve_placement("openai:gpt-4o", ModelOptions(dtype="float16"), environment) == Placement(None, None)


def test_vllm_is_asked_for_bfloat16_and_picks_its_own_device() -> None:
    backend = backends()["vllm"]
    assert backend.placement is not None
    request = LoadRequest("vllm:org/model", "org/model", ModelOptions(), Environment.from_mapping({}))
    assert backend.placement(request, NoOptions()) == Placement("bfloat16", None)


def test_an_unknown_dtype_is_named() -> None:
    with pytest.raises(ModelSpecError, match="unknown dtype 'float8'"):
        resolve_placement("tiny-random", ModelOptions(dtype="float8"))
