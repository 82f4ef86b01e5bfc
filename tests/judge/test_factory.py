"""build_judge (the judge specs) and describe_judge (the manifest entry)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from evalkit.errors import EvalkitError, ModelSpecError
from evalkit.judge.cache import CACHE_FILE
from evalkit.judge.factory import build_judge, describe_judge
from evalkit.judge.local import LocalJudge
from evalkit.judge.openai import DEFAULT_BASE_URL, OpenAIJudge
from tests.judge.server import FAKE_MODEL, FakeOpenAIServer, Reply

SECRET = "sk-factory-SECRET-0987"


def test_exact_matching_is_no_judge(tmp_path: Path) -> None:
    assert build_judge("exact_matching", cache_dir=tmp_path, api_key=SECRET, base_url=None) is None
    assert describe_judge(None) == {"backend": "exact_matching", "model": None}
    assert not (tmp_path / CACHE_FILE).exists()


def test_openai_spec(tmp_path: Path) -> None:
    judge = build_judge("openai:gpt-4o-mini", cache_dir=tmp_path, api_key=SECRET, base_url=None,
                        concurrency=3, timeout=12.5)
    assert isinstance(judge, OpenAIJudge)
    assert (judge.model, judge.base_url, judge.concurrency, judge.timeout) == (
        "gpt-4o-mini", DEFAULT_BASE_URL, 3, 12.5
    )
    assert judge.cache.path == tmp_path / CACHE_FILE
    described = describe_judge(judge)
    assert described["backend"] == "openai"
    assert described["model"] == "gpt-4o-mini"
    assert described["base_url"] == DEFAULT_BASE_URL
    assert described["resolved_model"] is None  # nothing asked yet
    assert SECRET not in json.dumps(described)


def test_openai_spec_needs_a_key_for_the_hosted_api(tmp_path: Path) -> None:
    for key in (None, ""):
        with pytest.raises(EvalkitError, match=r"openai:gpt-4o-mini.*no API key"):
            build_judge("openai:gpt-4o-mini", cache_dir=tmp_path, api_key=key, base_url=None)


def test_openai_spec_without_a_key_on_a_local_server(tmp_path: Path) -> None:
    with FakeOpenAIServer([Reply("4")]) as server:
        judge = build_judge("openai:local-model", cache_dir=tmp_path, api_key=None, base_url=server.url)
        assert judge is not None
        assert judge.complete([{"role": "user", "content": "2+2?"}]) == "4"
        assert "Authorization" not in server.requests[0].headers
    described = describe_judge(judge)
    assert described["resolved_model"] == FAKE_MODEL
    assert described["counters"]["requests"] == 1
    assert described["api_key_set"] is False


def test_base_url_credentials_never_reach_the_manifest(tmp_path: Path) -> None:
    url = f"https://user:{SECRET}@judge.example:8443/v1?api-key={SECRET}"
    judge = build_judge("openai:m", cache_dir=tmp_path, api_key=SECRET, base_url=url)
    described = describe_judge(judge)
    assert described["base_url"] == "https://judge.example:8443/v1"
    assert SECRET not in json.dumps(described)


@pytest.mark.parametrize("url", ["ftp://host/v1", "localhost:8000/v1", "http:///v1"])
def test_bad_base_url(tmp_path: Path, url: str) -> None:
    with pytest.raises(EvalkitError, match="judge 'openai:m': judge base URL"):
        build_judge("openai:m", cache_dir=tmp_path, api_key="k", base_url=url)


def test_bad_limits(tmp_path: Path) -> None:
    with pytest.raises(EvalkitError, match="concurrency"):
        build_judge("openai:m", cache_dir=tmp_path, api_key="k", base_url=None, concurrency=0)
    with pytest.raises(EvalkitError, match="timeout"):
        build_judge("openai:m", cache_dir=tmp_path, api_key="k", base_url=None, timeout=0)


@pytest.mark.parametrize("key", [SECRET + "\n", SECRET + " x", SECRET + "é"])
def test_unusable_api_key(tmp_path: Path, key: str) -> None:
    with pytest.raises(EvalkitError, match="API key has") as caught:
        build_judge("openai:m", cache_dir=tmp_path, api_key=key, base_url=None)
    assert SECRET not in str(caught.value)


def test_hf_spec_is_a_lazy_local_judge(tmp_path: Path) -> None:
    folder = tmp_path / "some-model"
    folder.mkdir()
    judge = build_judge(f"hf:{folder}", cache_dir=tmp_path, api_key=SECRET, base_url=None)
    assert isinstance(judge, LocalJudge)
    assert judge.model == str(folder)
    described = describe_judge(judge)
    assert (described["backend"], described["loader"], described["source"]) == ("hf", None, str(folder))
    assert SECRET not in json.dumps(described)


def test_hf_spec_with_a_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(ModelSpecError, match="no such folder"):
        build_judge(f"hf:{tmp_path}/missing", cache_dir=tmp_path, api_key=None, base_url=None)


@pytest.mark.parametrize(
    "spec", ["", "gpt-4o", "openai:", "hf:", "openai: ", "vllm:model", "chatgpt-0125", "Exact_Matching"]
)
def test_unknown_specs(tmp_path: Path, spec: str) -> None:
    with pytest.raises(EvalkitError) as caught:
        build_judge(spec, cache_dir=tmp_path, api_key="k", base_url=None)
    message = str(caught.value)
    assert f"unknown judge '{spec}'" in message
    assert "\n" not in message


def test_describe_an_unknown_judge_object() -> None:
    class Plain:
        model = "plain-1"

        def complete(self, messages: object, *, temperature: float = 0.0, max_tokens: int = 512) -> str:
            return ""

    assert describe_judge(Plain()) == {"backend": "Plain", "model": "plain-1"}
