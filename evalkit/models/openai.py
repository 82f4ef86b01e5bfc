"""The ``openai:<model>`` backend: any OpenAI-compatible chat completions endpoint as a model under test.

Each :class:`~evalkit.models.base.Request` becomes one chat completions call: the
conversation as chat messages, every image a base64 PNG data URL content part
placed before the text of its message (as the GPT-4V evaluations did), greedy
decoding as ``temperature`` 0, ``max_tokens`` from ``max_new_tokens``, and the
request's ``seed``. :meth:`OpenAIAdapter.generate` sends a batch concurrently
(a thread pool as wide as the concurrency limit) and returns the generations in
request order. The transport (retries with backoff, ``Retry-After``, timeouts, the
concurrency cap, key scrubbing) is :class:`~evalkit.models.http_client.ChatClient`; a
request that still fails becomes a :class:`~evalkit.models.base.Generation` with
``error`` set and empty text, never a made-up answer. The API key is passed in
(the config layer reads the environment), sent as a Bearer header, and appears
nowhere else.
"""

from __future__ import annotations

import base64
import io
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from PIL import Image

from evalkit.catalog.spec import GenerationParams
from evalkit.errors import ModelSpecError
from evalkit.models.base import (
    Capabilities,
    Generation,
    ImagePart,
    Message,
    RenderedRequest,
    Request,
    TextPart,
    Usage,
)
from evalkit.models.http_client import (
    DEFAULT_BASE_URL,
    ChatClient,
    RequestFailed,
    RetryPolicy,
    Tally,
    safe_url,
)
from evalkit.models.registry import Backend, LoadRequest, Placement

DETAILS = ("auto", "low", "high")
#: Seconds per HTTP request unless --request-timeout says otherwise.
DEFAULT_TIMEOUT = 120.0
IMAGE_PLACEHOLDER = "<image>"
COUNTERS = ("requests", "retries", "errors", "prompt_tokens", "completion_tokens")


class OpenAIAdapter:
    """A chat model behind an OpenAI-compatible endpoint, as a :class:`~evalkit.models.base.ModelAdapter`.

    ``price_input`` / ``price_output`` are prices per 1M prompt / completion tokens;
    given both, :meth:`describe` includes an estimated cost. ``retry`` and ``sleep``
    tune the transport (tests pass a fast policy and a recorder).
    """

    def __init__(
        self,
        model: str,
        *,
        name: str | None = None,
        base_url: str = DEFAULT_BASE_URL,
        api_key: str = "",
        image_detail: str = "high",
        concurrency: int = 8,
        timeout: float = DEFAULT_TIMEOUT,
        retry: RetryPolicy | None = None,
        price_input: float | None = None,
        price_output: float | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not model:
            raise ValueError("an openai: model spec needs a model name (openai:<model>)")
        if image_detail not in DETAILS:
            raise ValueError(f"image detail must be one of {', '.join(DETAILS)}, not '{image_detail}'")
        if (price_input is None) != (price_output is None):
            raise ValueError("give both prices per 1M tokens (input and output) or neither")
        for price in (price_input, price_output):
            if price is not None and not price >= 0:
                raise ValueError(f"prices per 1M tokens must be >= 0, not {price}")
        self.model = model
        self._name = name or f"openai:{model}"
        self.image_detail = image_detail
        self.price_input = price_input
        self.price_output = price_output
        self.counters = Tally(COUNTERS)
        self._client = ChatClient(
            base_url,
            api_key=api_key,
            timeout=timeout,
            concurrency=concurrency,
            retry=retry,
            sleep=sleep,
            count=self.counters.add,
            user_agent="evalkit",
        )
        self._resolved: set[str] = set()
        self._resolved_lock = threading.Lock()

    @property
    def name(self) -> str:
        return self._name

    @property
    def capabilities(self) -> Capabilities:
        return Capabilities(max_batch_size=self._client.concurrency, max_images_per_prompt=None, tiled=False)

    @property
    def resolved_models(self) -> list[str]:
        """Every model name the endpoint reported in its replies so far."""
        with self._resolved_lock:
            return sorted(self._resolved)

    def describe(self) -> dict[str, object]:
        """Manifest facts: backend, model, resolved model, base URL without credentials, counters, cost.

        Never the API key.
        """
        resolved = self.resolved_models
        counters = self.counters.snapshot()
        facts: dict[str, object] = {
            "name": self.name,
            "backend": "openai",
            "model": self.model,
            "resolved_model": resolved[0] if len(resolved) == 1 else None,
            "resolved_models": resolved,
            "base_url": safe_url(self._client.base_url),
            "api_key_set": self._client.has_api_key,
            "image_detail": self.image_detail,
            "image_encoding": "png",
            "concurrency": self._client.concurrency,
            "timeout_s": self._client.timeout,
            "max_retries": self._client.retry.max_retries,
            "counters": counters,
        }
        cost = estimated_cost(counters, self.price_input, self.price_output)
        if cost is not None:
            facts["price_per_1m_tokens"] = {"input": self.price_input, "output": self.price_output}
            facts["estimated_cost"] = cost
        return facts

    def render(self, request: Request) -> RenderedRequest:
        """The readable rendering of the chat messages, and the images as sent (RGB, losslessly encoded)."""
        images = tuple(_rgb(part.image) for message in request.messages for part in message.images)
        return RenderedRequest(prompt=render_messages(request.messages), images=images)

    def chat_body(self, request: Request) -> dict[str, Any]:
        """The chat completions request body for ``request``."""
        body: dict[str, Any] = {
            "model": self.model,
            "messages": [chat_message(message, self.image_detail) for message in request.messages],
            **sampling_fields(request.params),
        }
        return body

    def generate(self, requests: Sequence[Request]) -> list[Generation]:
        """One :class:`Generation` per request, in order; the requests are sent concurrently."""
        if not requests:
            return []
        workers = min(self._client.concurrency, len(requests))
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="evalkit-openai") as pool:
            return list(pool.map(self._generate_one, requests))

    def _generate_one(self, request: Request) -> Generation:
        """One request: a reply, or the error value (a refusal, retries exhausted, an unusable request)."""
        prompt = render_messages(request.messages)
        try:
            unsupported(request.params)
            reply = self._client.complete(self.chat_body(request))
        except RequestFailed as exc:
            self.counters.add("errors")
            return Generation(text="", prompt=prompt, error=f"openai request failed: {exc}")
        except Exception as exc:  # an unusable request (an image that cannot be encoded, …) fails only itself
            self.counters.add("errors")
            message = " ".join(f"{type(exc).__name__}: {exc}".split())
            return Generation(text="", prompt=prompt, error=self._client.scrub(message))
        self.counters.add("prompt_tokens", reply.prompt_tokens)
        self.counters.add("completion_tokens", reply.completion_tokens)
        if reply.resolved_model:
            with self._resolved_lock:
                self._resolved.add(reply.resolved_model)
        usage = Usage(prompt_tokens=reply.prompt_tokens, completion_tokens=reply.completion_tokens)
        return Generation(text=reply.text.strip(), prompt=prompt, usage=usage)


def sampling_fields(params: GenerationParams) -> dict[str, Any]:
    """``temperature`` (0 when greedy), ``top_p`` when sampling, ``max_tokens`` and ``seed``.

    A sampling request with temperature 0 samples at 1.0, as transformers does by default.
    """
    fields: dict[str, Any] = {"max_tokens": params.max_new_tokens, "seed": params.seed}
    if params.do_sample:
        fields["temperature"] = params.temperature if params.temperature > 0 else 1.0
        fields["top_p"] = params.top_p
    else:
        fields["temperature"] = 0.0
    return fields


def unsupported(params: GenerationParams) -> None:
    """``ValueError`` for settings a chat completions API cannot honour (beam search)."""
    if params.num_beams > 1:
        raise ValueError(f"beam search (num_beams={params.num_beams}) is not available through a chat API")


def chat_message(message: Message, detail: str = "high") -> dict[str, Any]:
    """A Request message as an OpenAI chat message.

    A user message with images is a list of content parts: every image first (a
    PNG data URL with ``detail``), then its text parts in order. Any other message
    is its text as a plain string.
    """
    images = message.images
    if not images:
        return {"role": message.role, "content": message.text}
    content: list[dict[str, Any]] = [
        {"type": "image_url", "image_url": {"url": png_data_url(part.image), "detail": detail}} for part in images
    ]
    content.extend({"type": "text", "text": part.text} for part in message.parts if isinstance(part, TextPart))
    return {"role": message.role, "content": content}


def render_messages(messages: Sequence[Message]) -> str:
    """The conversation as readable text: ``role: content`` blocks, images as ``<image>`` lines first."""
    blocks = []
    for message in messages:
        lines = [IMAGE_PLACEHOLDER for part in message.parts if isinstance(part, ImagePart)]
        text = message.text
        if text or not lines:
            lines.append(text)
        blocks.append(f"{message.role}: " + "\n".join(lines))
    return "\n".join(blocks)


def png_data_url(image: Image.Image) -> str:
    """``data:image/png;base64,…`` of the image as RGB."""
    buffer = io.BytesIO()
    _rgb(image).save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def estimated_cost(counters: dict[str, int], price_input: float | None, price_output: float | None) -> float | None:
    """Tokens times prices per 1M tokens, or None without prices."""
    if price_input is None or price_output is None:
        return None
    cost = counters.get("prompt_tokens", 0) * price_input + counters.get("completion_tokens", 0) * price_output
    return round(cost / 1_000_000, 6)


def _rgb(image: Image.Image) -> Image.Image:
    return image if image.mode == "RGB" else image.convert("RGB")


@dataclass(frozen=True)
class OpenAIOptions:
    """``--model-args`` of ``openai:``: requests in flight (also the batch size), the images' ``detail``, and the
    prices per million prompt and completion tokens (both or neither) for the manifest's cost. ``--concurrency``,
    ``--price-input`` and ``--price-output`` set the same."""

    concurrency: int = 8
    image_detail: str = "high"
    price_input: float | None = None
    price_output: float | None = None


def _check(request: LoadRequest, options: OpenAIOptions) -> None:
    """A model name, and a key when the endpoint is the hosted API."""
    if not request.target.strip():
        raise ModelSpecError(f"model spec '{request.spec}' names no model (expected openai:<model>)")
    environment = request.environment
    base_url = environment.openai_api_base or DEFAULT_BASE_URL
    if not environment.openai_api_key and base_url.rstrip("/") == DEFAULT_BASE_URL:
        raise ModelSpecError(
            f"model spec '{request.spec}': no API key for {DEFAULT_BASE_URL} (set OPENAI_API_KEY, or "
            "OPENAI_API_BASE for a local OpenAI-compatible server)")


def _load(request: LoadRequest, options: OpenAIOptions) -> OpenAIAdapter:
    """An :class:`OpenAIAdapter`; a bad URL, limit, price or detail is a :class:`ModelSpecError` (never the key)."""
    environment, retries = request.environment, request.options.max_retries
    try:
        return OpenAIAdapter(
            request.target, name=request.spec, base_url=environment.openai_api_base or DEFAULT_BASE_URL,
            api_key=environment.openai_api_key or "", image_detail=options.image_detail,
            concurrency=options.concurrency, timeout=request.options.timeout or DEFAULT_TIMEOUT,
            retry=None if retries is None else RetryPolicy(max_retries=retries),
            price_input=options.price_input, price_output=options.price_output)
    except ValueError as exc:
        raise ModelSpecError(f"model spec '{request.spec}': {exc}") from None


def _placement(request: LoadRequest, options: OpenAIOptions) -> Placement:
    """An API model: no dtype or device of ours."""
    return Placement(None, None)


BACKEND = Backend(name="openai", usage="openai:<model>", short="openai:<model>",
                  summary="an OpenAI-compatible chat API: GPT-4V-style models or a local server (OPENAI_API_KEY, "
                          "OPENAI_API_BASE)", load=_load, options=OpenAIOptions, check=_check,
                  placement=_placement)
