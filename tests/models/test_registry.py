"""Model specs: parsing, errors, and the list of known backends."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import evalkit
from evalkit.errors import ModelSpecError
from evalkit.models.registry import KNOWN_BACKENDS, ModelOptions, load_model, parse_hf_target


def test_options_defaults() -> None:
    options = ModelOptions()
    assert (options.device, options.dtype, options.trust_remote_code, options.cache_dir) == (
        "auto",
        "auto",
        False,
        None,
    )


@pytest.mark.parametrize("spec", ["llava-1.5", "gpt4:o", "HF:foo/bar", "", "tiny-random-v2"])
def test_unknown_spec(spec: str) -> None:
    with pytest.raises(ModelSpecError) as caught:
        load_model(spec, ModelOptions())
    message = str(caught.value)
    assert message.startswith(f"unknown model spec '{spec}'")
    assert "hf:<id>, internvl:<id>, openai:<model>, vllm:<id>, tiny-random" in message


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
    prefixes = [prefix for prefix, _ in KNOWN_BACKENDS]
    assert [p.split(":")[0].split("<")[0] for p in prefixes] == [
        "hf",
        "internvl",
        "openai",
        "vllm",
        "tiny-random",
    ]
    assert all(isinstance(description, str) and description for _, description in KNOWN_BACKENDS)


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
