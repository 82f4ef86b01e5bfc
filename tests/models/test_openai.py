"""The openai: model backend against the scripted fake OpenAI server (tests/judge/server.py)."""

from __future__ import annotations

import base64
import io
import json
import threading
from typing import Any

import numpy as np
import pytest
from PIL import Image

from evalkit.catalog.spec import GenerationParams
from evalkit.config import Environment, ModelOptions
from evalkit.errors import ModelSpecError
from evalkit.models.base import Generation, ImagePart, Message, Part, Request, TextPart
from evalkit.models.http_client import RetryPolicy
from evalkit.models.openai import OpenAIAdapter, estimated_cost, render_messages, sampling_fields
from evalkit.models.registry import load_model
from tests.judge.server import (
    CHAT_PATH,
    FAKE_MODEL,
    Action,
    FakeOpenAIServer,
    Hang,
    Reply,
    Status,
    bad_request,
    error_body,
    rate_limited,
    server_error,
)

SECRET = "sk-model-DoNotLeak-0987654321"
FAST = RetryPolicy(max_retries=2, backoff_base=0.01, backoff_cap=0.02)
GREEDY = GenerationParams(max_new_tokens=32, seed=7)


class Sleeps(list[float]):
    """Records the waits the client asks for instead of sleeping through them."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def make_adapter(server: FakeOpenAIServer, **kwargs: Any) -> OpenAIAdapter:
    settings: dict[str, Any] = {"base_url": server.url, "retry": FAST, "timeout": 2.0, "sleep": Sleeps()}
    settings.update(kwargs)
    return OpenAIAdapter("gpt-4o-test", **settings)


def noise(seed: int, size: tuple[int, int] = (23, 17)) -> Image.Image:
    rng = np.random.default_rng(seed)
    return Image.fromarray(rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8))


def ask(sample_id: str, text: str, *images: Image.Image, params: GenerationParams = GREEDY) -> Request:
    parts: tuple[Part, ...] = (*(ImagePart(image) for image in images), TextPart(text))
    return Request(sample_id, (Message("user", parts),), params)


def user_text(body: Any) -> str:
    """The text of the last user message in a recorded request body."""
    content = body["messages"][-1]["content"]
    if isinstance(content, str):
        return content
    return "".join(part["text"] for part in content if part["type"] == "text")


def decode_data_url(url: str) -> Image.Image:
    prefix = "data:image/png;base64,"
    assert url.startswith(prefix)
    raw = base64.b64decode(url[len(prefix) :])
    assert raw.startswith(b"\x89PNG\r\n\x1a\n")
    return Image.open(io.BytesIO(raw))


def test_image_request_arrives_as_a_png_data_url_with_the_original_pixels() -> None:
    picture = noise(1)
    with FakeOpenAIServer([Reply("  a cat \n")]) as server:
        adapter = make_adapter(server)
        (generation,) = adapter.generate([ask("s1", "What is it?", picture)])
        (recorded,) = server.requests
    assert generation == Generation(text="a cat", prompt="user: <image>\nWhat is it?", usage=generation.usage)
    assert generation.error is None
    assert recorded.path == CHAT_PATH
    body = recorded.body
    assert body["model"] == "gpt-4o-test"
    assert body["max_tokens"] == 32
    assert body["temperature"] == 0.0
    assert body["seed"] == 7
    assert "top_p" not in body
    (message,) = body["messages"]
    assert message["role"] == "user"
    image_part, text_part = message["content"]
    assert text_part == {"type": "text", "text": "What is it?"}
    assert image_part["type"] == "image_url"
    assert image_part["image_url"]["detail"] == "high"
    decoded = decode_data_url(image_part["image_url"]["url"])
    assert decoded.format == "PNG"
    assert decoded.size == picture.size
    assert np.array_equal(np.asarray(decoded.convert("RGB")), np.asarray(picture))
    assert "Authorization" not in recorded.headers  # no key, no header (a local server)


def test_images_come_before_the_text_and_detail_is_configurable() -> None:
    first, second = noise(2), noise(3, (8, 9)).convert("L")
    request = Request("s", (Message("user", (TextPart("Compare "), ImagePart(first), TextPart("them."),
                                             ImagePart(second))),), GREEDY)
    with FakeOpenAIServer() as server:
        adapter = make_adapter(server, image_detail="low")
        adapter.generate([request])
        content = server.requests[0].body["messages"][0]["content"]
    assert [part["type"] for part in content] == ["image_url", "image_url", "text", "text"]
    assert [part["image_url"]["detail"] for part in content[:2]] == ["low", "low"]
    assert [part["text"] for part in content[2:]] == ["Compare ", "them."]
    assert np.array_equal(np.asarray(decode_data_url(content[0]["image_url"]["url"])), np.asarray(first))
    gray = decode_data_url(content[1]["image_url"]["url"])
    assert gray.mode == "RGB"  # every image is sent as RGB, like the hf: backend sees it
    assert np.array_equal(np.asarray(gray), np.asarray(second.convert("RGB")))
    with pytest.raises(ValueError, match="detail"):
        OpenAIAdapter("m", base_url="http://127.0.0.1:9/v1", image_detail="ultra")


def test_multi_turn_history_becomes_chat_messages() -> None:
    picture = noise(4)
    messages = (
        Message("system", (TextPart("Answer briefly."),)),
        Message("user", (ImagePart(picture), TextPart("What is it?"))),
        Message("assistant", (TextPart("A chart."),)),
        Message("user", (TextPart("What is its maximum?"),)),
    )
    with FakeOpenAIServer([Reply("42")]) as server:
        adapter = make_adapter(server)
        (generation,) = adapter.generate([Request("s", messages, GREEDY)])
        sent = server.requests[0].body["messages"]
    assert [m["role"] for m in sent] == ["system", "user", "assistant", "user"]
    assert sent[0]["content"] == "Answer briefly."
    assert sent[1]["content"][0]["type"] == "image_url"
    assert sent[1]["content"][1] == {"type": "text", "text": "What is it?"}
    assert sent[2]["content"] == "A chart."
    assert sent[3]["content"] == "What is its maximum?"
    assert generation.text == "42"
    assert generation.prompt == (
        "system: Answer briefly.\nuser: <image>\nWhat is it?\nassistant: A chart.\nuser: What is its maximum?"
    )
    assert generation.prompt == render_messages(messages)
    assert adapter.render(Request("s", messages, GREEDY)).prompt == generation.prompt


def test_sampling_fields() -> None:
    assert sampling_fields(GenerationParams(max_new_tokens=5, seed=3)) == {
        "max_tokens": 5, "seed": 3, "temperature": 0.0,
    }
    sampled = GenerationParams(max_new_tokens=5, do_sample=True, temperature=0.7, top_p=0.9, seed=1)
    assert sampling_fields(sampled) == {"max_tokens": 5, "seed": 1, "temperature": 0.7, "top_p": 0.9}
    default_temperature = GenerationParams(max_new_tokens=5, do_sample=True)
    assert sampling_fields(default_temperature)["temperature"] == 1.0


def test_results_come_back_in_request_order_when_replies_do_not() -> None:
    n = 6

    def respond(body: Any) -> Action:
        i = int(user_text(body).split()[-1])
        return Reply(f"answer {i}", delay=0.2 + 0.05 * (n - i))  # the first request is answered last

    with FakeOpenAIServer(respond=respond) as server:
        adapter = make_adapter(server, concurrency=n)
        requests = [ask(f"s{i}", f"question {i}", noise(i)) for i in range(n)]
        generations = adapter.generate(requests)
        assert server.max_in_flight == n
    assert [g.text for g in generations] == [f"answer {i}" for i in range(n)]
    assert [g.prompt for g in generations] == [f"user: <image>\nquestion {i}" for i in range(n)]
    assert adapter.capabilities.max_batch_size == n


def test_concurrency_limit_is_respected() -> None:
    with FakeOpenAIServer(default=Reply("ok", delay=0.1)) as server:
        adapter = make_adapter(server, concurrency=3)
        generations = adapter.generate([ask(f"s{i}", f"question {i}") for i in range(10)])
        assert server.count == 10
        assert server.max_in_flight == 3
    assert [g.text for g in generations] == ["ok"] * 10
    assert adapter.capabilities.max_batch_size == 3


def test_429_is_retried_then_succeeds() -> None:
    sleeps = Sleeps()
    with FakeOpenAIServer([rate_limited("0.5"), Reply("fine")]) as server:
        adapter = make_adapter(server, sleep=sleeps)
        (generation,) = adapter.generate([ask("s", "q")])
        assert server.count == 2
    assert generation.text == "fine" and generation.error is None
    assert sleeps == [0.5]  # Retry-After honoured
    counters = adapter.describe()["counters"]
    assert isinstance(counters, dict)
    assert (counters["requests"], counters["retries"], counters["errors"]) == (2, 1, 0)


def test_exhausted_500s_become_an_error_value_and_the_rest_of_the_batch_succeeds() -> None:
    def respond(body: Any) -> Action:
        return server_error() if user_text(body) == "doomed" else Reply("fine: " + user_text(body))

    with FakeOpenAIServer(respond=respond) as server:
        adapter = make_adapter(server)
        generations = adapter.generate([ask("a", "first"), ask("b", "doomed"), ask("c", "third")])
        assert server.count == 2 + FAST.max_retries + 1
    good_a, bad, good_c = generations
    assert (good_a.text, good_a.error) == ("fine: first", None)
    assert (good_c.text, good_c.error) == ("fine: third", None)
    assert bad.text == ""
    assert bad.prompt == "user: doomed"
    assert bad.error is not None
    assert "no reply after 3 attempts" in bad.error and "HTTP 500" in bad.error
    counters = adapter.describe()["counters"]
    assert isinstance(counters, dict)
    assert (counters["errors"], counters["retries"]) == (1, 2)


def test_400_is_an_error_at_once_without_retry() -> None:
    sleeps = Sleeps()
    refusal = "Your request was rejected as a result of our safety system."
    with FakeOpenAIServer([bad_request(refusal)]) as server:
        adapter = make_adapter(server, sleep=sleeps)
        (generation,) = adapter.generate([ask("s", "q", noise(5))])
        assert server.count == 1
    assert generation.text == ""
    assert generation.error is not None and "HTTP 400" in generation.error and refusal in generation.error
    assert sleeps == []
    counters = adapter.describe()["counters"]
    assert isinstance(counters, dict)
    assert counters["retries"] == 0


def test_a_hang_times_out_and_is_retried() -> None:
    with FakeOpenAIServer([Hang(seconds=3.0), Reply("late but fine")]) as server:
        adapter = make_adapter(server, timeout=0.3)
        (generation,) = adapter.generate([ask("s", "q")])
        assert server.count == 2
    assert generation.text == "late but fine"
    counters = adapter.describe()["counters"]
    assert isinstance(counters, dict)
    assert counters["retries"] == 1


def test_usage_is_counted_and_the_cost_estimated() -> None:
    with FakeOpenAIServer(default=Reply("ok", prompt_tokens=1000, completion_tokens=250)) as server:
        adapter = make_adapter(server, price_input=2.5, price_output=10.0)
        generations = adapter.generate([ask(f"s{i}", f"q{i}") for i in range(4)])
    assert all(g.usage.prompt_tokens == 1000 and g.usage.completion_tokens == 250 for g in generations)
    facts = adapter.describe()
    assert facts["counters"] == {"requests": 4, "retries": 0, "errors": 0, "prompt_tokens": 4000,
                                 "completion_tokens": 1000}
    assert facts["estimated_cost"] == pytest.approx(4000 * 2.5 / 1e6 + 1000 * 10.0 / 1e6)
    assert facts["price_per_1m_tokens"] == {"input": 2.5, "output": 10.0}
    assert facts["resolved_model"] == FAKE_MODEL
    assert facts["backend"] == "openai" and facts["model"] == "gpt-4o-test"
    assert estimated_cost({"prompt_tokens": 1}, None, None) is None


def test_describe_without_prices_has_no_cost_and_prices_come_in_pairs() -> None:
    with FakeOpenAIServer() as server:
        facts = make_adapter(server).describe()
        with pytest.raises(ValueError, match="both prices"):
            make_adapter(server, price_input=1.0)
    assert "estimated_cost" not in facts
    assert facts["resolved_model"] is None  # nothing asked yet
    assert facts["base_url"] == server.url
    assert facts["name"] == "openai:gpt-4o-test"


def test_the_key_is_a_bearer_header_and_nowhere_else() -> None:
    echo = f"Incorrect API key provided: {SECRET}."

    def respond(body: Any) -> Action:
        text = user_text(body)
        if text == "refused":
            return Status(401, error_body(echo))
        if text == "overloaded":
            return Status(503, error_body(f"overloaded ({SECRET})"))
        return Reply("fine")

    with FakeOpenAIServer(respond=respond) as server:
        adapter = make_adapter(server, api_key=SECRET)
        generations = adapter.generate([ask("a", "hello", noise(6)), ask("b", "refused"), ask("c", "overloaded")])
        headers = [request.headers for request in server.requests]
    assert {h["Authorization"] for h in headers} == {f"Bearer {SECRET}"}
    assert generations[0].text == "fine"
    assert generations[1].error is not None and "HTTP 401" in generations[1].error and "***" in generations[1].error
    assert generations[2].error is not None and "HTTP 503" in generations[2].error
    for generation in generations:
        assert SECRET not in json.dumps([generation.text, generation.prompt, generation.error])
    described = adapter.describe()
    assert SECRET not in json.dumps(described)
    assert described["api_key_set"] is True
    assert described["base_url"] == server.url
    credentialed = OpenAIAdapter("m", base_url=f"https://user:{SECRET}@api.example:8443/v1?key={SECRET}",
                                 api_key=SECRET)
    assert credentialed.describe()["base_url"] == "https://api.example:8443/v1"
    assert SECRET not in json.dumps(credentialed.describe())


def test_beam_search_is_an_error_value_not_a_request() -> None:
    with FakeOpenAIServer() as server:
        adapter = make_adapter(server)
        params = GenerationParams(max_new_tokens=4, num_beams=3)
        (generation,) = adapter.generate([ask("s", "q", params=params)])
        assert server.count == 0
    assert generation.text == "" and generation.error is not None and "num_beams=3" in generation.error


def test_generate_on_no_requests_and_threads_are_not_leaked() -> None:
    with FakeOpenAIServer() as server:
        adapter = make_adapter(server)
        assert adapter.generate([]) == []
        before = threading.active_count()
        adapter.generate([ask("s", "q")])
    assert threading.active_count() <= before


def _environment(**variables: str) -> Environment:
    return Environment.from_mapping(variables)


def test_load_extra_backend_openai() -> None:
    options = ModelOptions(args={"concurrency": "4", "image_detail": "auto", "price_input": "0.15",
                                 "price_output": "0.6"})
    adapter = load_model("openai:gpt-4o-mini", options,
                         _environment(OPENAI_API_KEY=SECRET, OPENAI_API_BASE="http://127.0.0.1:9/v1"))
    assert isinstance(adapter, OpenAIAdapter)
    assert adapter.name == "openai:gpt-4o-mini"
    assert adapter.capabilities.max_batch_size == 4
    facts = adapter.describe()
    assert (facts["image_detail"], facts["base_url"], facts["estimated_cost"]) == ("auto", "http://127.0.0.1:9/v1", 0.0)
    assert SECRET not in json.dumps(facts)


def test_load_extra_backend_openai_errors() -> None:
    with pytest.raises(ModelSpecError, match=r"'openai:gpt-4o'.*no API key"):
        load_model("openai:gpt-4o", ModelOptions(), _environment())
    bad_url = _environment(OPENAI_API_BASE="ftp://example.com")
    with pytest.raises(ModelSpecError, match=r"'openai:gpt-4o'.*base URL must be http"):
        load_model("openai:gpt-4o", ModelOptions(), bad_url)
    bad_key = _environment(OPENAI_API_KEY="sk has spaces", OPENAI_API_BASE="http://127.0.0.1:9/v1")
    with pytest.raises(ModelSpecError) as caught:
        load_model("openai:gpt-4o", ModelOptions(), bad_key)
    assert "sk has spaces" not in str(caught.value)
    with pytest.raises(ModelSpecError, match="names no model"):
        load_model("openai:", ModelOptions(), bad_url)
    with pytest.raises(ModelSpecError, match="concurrency"):
        load_model("openai:gpt-4o", ModelOptions(args={"concurrency": "0"}),
                   _environment(OPENAI_API_BASE="http://127.0.0.1:9/v1"))
