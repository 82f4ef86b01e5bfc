"""The model adapter protocol: requests in, generations out.

An adapter never sees a suite's name. It receives :class:`Request` objects
(text and image parts, generation parameters) and returns one
:class:`Generation` per request, in order. What differs between backends
(batching, images per prompt, tiling) is declared in :class:`Capabilities`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol

from PIL import Image

from evalkit.catalog.spec import GenerationParams
from evalkit.data.sample import Sample

Role = Literal["system", "user", "assistant"]


@dataclass(frozen=True)
class TextPart:
    text: str


@dataclass(frozen=True)
class ImagePart:
    """An image already decoded, with the tile limit the suite's protocol allows for it."""

    image: Image.Image = field(repr=False, compare=False)
    max_tiles: int = 1


Part = TextPart | ImagePart


@dataclass(frozen=True)
class Message:
    role: Role
    parts: tuple[Part, ...]

    @property
    def text(self) -> str:
        return "".join(part.text for part in self.parts if isinstance(part, TextPart))

    @property
    def images(self) -> tuple[ImagePart, ...]:
        return tuple(part for part in self.parts if isinstance(part, ImagePart))


@dataclass(frozen=True)
class SampleContext:
    """Where a request comes from, for a backend that drives another tool's model class (``vlmeval:``), which
    builds its own prompt from the suite's row: the sample (text, and image references that decode only when
    loaded: no pixels), the suite's name (VLMEvalKit's dataset name) and the protocol. Other backends ignore it."""

    sample: Sample = field(repr=False)
    suite: str
    protocol: str


@dataclass(frozen=True)
class Request:
    """One generation call: a conversation whose last message is the user's."""

    sample_id: str
    messages: tuple[Message, ...]
    params: GenerationParams
    context: SampleContext | None = field(default=None, repr=False, compare=False)


@dataclass(frozen=True)
class Usage:
    prompt_tokens: int = 0
    completion_tokens: int = 0


@dataclass(frozen=True)
class Generation:
    """The model's answer to one request. A failure is a value: ``error`` is set and ``text`` is empty."""

    text: str
    prompt: str
    error: str | None = None
    usage: Usage = Usage()


@dataclass(frozen=True)
class RenderedRequest:
    """Exactly what the model receives: the prompt after its chat template, and the images it sees."""

    prompt: str
    images: tuple[Image.Image, ...]


@dataclass(frozen=True)
class Capabilities:
    max_batch_size: int = 1
    max_images_per_prompt: int | None = None
    tiled: bool = False


class ModelAdapter(Protocol):
    """What a backend implements."""

    @property
    def name(self) -> str:
        """The model spec it was built from (e.g. ``hf:llava-hf/llava-1.5-7b-hf``)."""
        ...

    @property
    def capabilities(self) -> Capabilities: ...

    def describe(self) -> dict[str, object]:
        """Facts for the manifest: resolved revision, dtype, device, chat template, …"""
        ...

    def render(self, request: Request) -> RenderedRequest:
        """The prompt text and images the model would receive for ``request``."""
        ...

    def generate(self, requests: Sequence[Request]) -> list[Generation]:
        """One generation per request, in order; a per-request failure is a Generation with ``error``."""
        ...


class PreparingAdapter(ModelAdapter, Protocol):
    """An adapter whose CPU work (tiling, processor, tokenisation) can run ahead in a worker thread.

    ``generate_prepared(prepare(requests))`` equals ``generate(requests)``; ``prepare`` is thread-safe and
    touches no accelerator state.
    """

    def prepare(self, requests: Sequence[Request]) -> object: ...

    def generate_prepared(self, prepared: object) -> list[Generation]: ...


def can_prepare(model: ModelAdapter) -> bool:
    return callable(getattr(model, "prepare", None)) and callable(getattr(model, "generate_prepared", None))
