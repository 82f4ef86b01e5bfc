"""Model specs: parsing, errors, and the list of known backends."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import evalkit
from evalkit.errors import ModelSpecError
from evalkit.models.hf_support import parse_hf_target
from evalkit.models.registry import ModelOptions, list_rows, load_model


def test_options_defaults() -> None:
    options = ModelOptions()
    assert (options.device, options.dtype, options.trust_remote_code, dict(options.args)) == ("auto", "auto", False, {})


@pytest.mark.parametrize(("spec", "suggestion"), [
    ("llava-1.5", None), ("gpt4:o", "openai:gpt-4o"), ("HF:foo/bar", "hf:foo/bar"), ("", None),
    ("tiny-random-v2", "tiny-random"), ("llava-hf/llava-1.5-7b-hf", "hf:llava-hf/llava-1.5-7b-hf"),
    ("gpt-4o-mini", "openai:gpt-4o-mini"), ("intervl:OpenGVLab/Mini-InternVL", "internvl:OpenGVLab/Mini-InternVL"),
    ("huggingface:llava-hf/llava-1.5-7b-hf", "hf:llava-hf/llava-1.5-7b-hf"), ("tiny_random", "tiny-random"),
    ("gguf:foo", None),
])
def test_unknown_spec(spec: str, suggestion: str | None) -> None:
    with pytest.raises(ModelSpecError) as caught:
        load_model(spec, ModelOptions())
    message = str(caught.value)
    hint = f"; did you mean '{suggestion}'?" if suggestion else ""
    assert message.startswith(f"unknown model spec '{spec}'{hint} (known: ")
    assert "hf:<id>, internvl:<id>, openai:<model>, vllm:<id>, vlmeval:<name>, tiny-random" in message


def test_a_folder_without_a_prefix_is_offered_as_hf(tmp_path: Path) -> None:
    with pytest.raises(ModelSpecError, match=f"did you mean 'hf:{tmp_path}'"):
        load_model(str(tmp_path), ModelOptions())


def test_openai_without_a_key_for_the_hosted_api_is_refused_at_load() -> None:
    with pytest.raises(ModelSpecError, match="'openai:gpt-4-vision-preview': no API key"):
        load_model("openai:gpt-4-vision-preview", ModelOptions())


def test_vllm_without_vllm_installed_says_how_to_get_it() -> None:
    with pytest.raises(ModelSpecError, match="vLLM is not installed"):
        load_model("vllm:some/model", ModelOptions())


def test_internvl_needs_trust_remote_code() -> None:
    with pytest.raises(ModelSpecError, match="--trust-remote-code"):
        load_model("internvl:OpenGVLab/InternVL-Chat-V1-5", ModelOptions())


def test_missing_hf_folder(tmp_path: Path) -> None:
    spec = f"hf:{tmp_path}/no-such-model"
    with pytest.raises(ModelSpecError) as caught:
        load_model(spec, ModelOptions())
    assert f"'{spec}'" in str(caught.value)


def test_empty_hf_target() -> None:
    with pytest.raises(ModelSpecError, match="'hf:'"):
        load_model("hf:", ModelOptions())


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("llava-hf/llava-1.5-7b-hf", ("llava-hf/llava-1.5-7b-hf", None)),
        ("llava-hf/llava-1.5-7b-hf@main", ("llava-hf/llava-1.5-7b-hf", "main")),
        ("org/model@a1b2c3d4", ("org/model", "a1b2c3d4")),
        ("/models/a@b/llava", ("/models/a@b/llava", None)),
        ("/models/llava@v1.0", ("/models/llava", "v1.0")),
        ("model@", ("model@", None)),
    ],
)
def test_parse_hf_target(target: str, expected: tuple[str, str | None]) -> None:
    assert parse_hf_target(target) == expected


def test_an_existing_folder_with_at_sign_has_no_revision(tmp_path: Path) -> None:
    folder = tmp_path / "model@v2"
    folder.mkdir()
    assert parse_hf_target(str(folder)) == (str(folder), None)


def test_known_backends_rows() -> None:
    prefixes = [prefix for prefix, _ in list_rows()]
    assert [p.split(":")[0].split("<")[0] for p in prefixes] == [
        "hf",
        "internvl",
        "openai",
        "vllm",
        "vlmeval",
        "tiny-random",
    ]
    assert all(isinstance(description, str) and description for _, description in list_rows())


def test_importing_the_registry_is_light() -> None:
    root = Path(evalkit.__file__).parent.parent
    code = (
        "import sys, evalkit.models.registry; "
        "heavy = [m for m in ('torch', 'transformers') if m in sys.modules]; "
        "assert not heavy, heavy"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=root, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr


def test_every_backend_module_registers_itself() -> None:
    from evalkit.models.registry import backends

    table = backends()
    assert list(table) == ["hf", "internvl", "openai", "vllm", "vlmeval", "tiny-random"]
    assert {name: backend.load.__module__ for name, backend in table.items()} == {
        "hf": "evalkit.models.hf", "internvl": "evalkit.models.internvl", "openai": "evalkit.models.openai",
        "vllm": "evalkit.models.vllm", "vlmeval": "evalkit.models.vlmeval", "tiny-random": "evalkit.models.tiny"}


def test_list_rows_name_each_backends_model_args() -> None:
    rows = dict(list_rows())
    assert rows["hf:<id or folder>[@revision]"].endswith("(--model-args: attn_implementation)")
    assert rows["openai:<model>"].endswith("(--model-args: concurrency, image_detail, price_input, price_output)")
    assert "--model-args" not in rows["tiny-random"]


@pytest.mark.parametrize(("text", "expected"), [
    ("", {}), ("a=1", {"a": "1"}), (" a = 1 , b=x=y,", {"a": "1", "b": "x=y"}), ("key=", {"key": ""}),
])
def test_parse_model_args(text: str, expected: dict[str, str]) -> None:
    from evalkit.models.registry import parse_model_args

    assert parse_model_args(text) == expected


@pytest.mark.parametrize("text", ["novalue", "=3", "a=1,b"])
def test_parse_model_args_refuses_what_is_not_key_value(text: str) -> None:
    from evalkit.models.registry import parse_model_args

    with pytest.raises(ModelSpecError, match="is not key=value"):
        parse_model_args(text)


def test_an_unknown_model_arg_lists_the_valid_ones() -> None:
    from evalkit.models.registry import check_model

    with pytest.raises(ModelSpecError) as caught:
        check_model("openai:gpt-4o", ModelOptions(args={"concurency": "4"}))
    assert str(caught.value) == ("model 'openai:gpt-4o': unknown --model-args key 'concurency' (valid for openai: "
                                 "concurrency, image_detail, price_input, price_output)")
    with pytest.raises(ModelSpecError, match=r"unknown --model-args key 'x' \(valid for tiny-random: none\)"):
        check_model("tiny-random", ModelOptions(args={"x": "1"}))


@pytest.mark.parametrize(("args", "message"), [
    ({"concurrency": "four"}, "--model-args concurrency must be int, not 'four'"),
    ({"price_input": "cheap"}, "--model-args price_input must be float, not 'cheap'"),
    ({"max_images": "2.5"}, "--model-args max_images must be int, not '2.5'"),
])
def test_a_model_arg_of_the_wrong_type_is_named(args: dict[str, str], message: str) -> None:
    from evalkit.models.registry import backend_options, find_backend

    spec = "vllm:x" if "max_images" in args else "openai:x"
    backend, _ = find_backend(spec)
    with pytest.raises(ModelSpecError, match=message):
        backend_options(backend, args, spec)


def test_model_args_become_the_backends_typed_options() -> None:
    from evalkit.models.openai import OpenAIOptions
    from evalkit.models.registry import backend_options, find_backend
    from evalkit.models.vllm import VLLMOptions

    openai, _ = find_backend("openai:x")
    assert backend_options(openai, {"concurrency": "3", "price_input": "0.5", "price_output": "none"}, "openai:x") \
        == OpenAIOptions(concurrency=3, price_input=0.5, price_output=None)
    vllm, _ = find_backend("vllm:x")
    options = backend_options(vllm, {"tensor_parallel_size": "2", "gpu_memory_utilization": "0.8"}, "vllm:x")
    assert options == VLLMOptions(tensor_parallel_size=2, gpu_memory_utilization=0.8)
    assert options.engine_options() == {"tensor_parallel_size": 2, "gpu_memory_utilization": 0.8}
