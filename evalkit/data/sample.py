"""The typed sample every source produces, and lazy image references.

A :class:`Sample` carries no pixels: its images are :class:`ImageRef` objects
that decode only when :meth:`ImageRef.load` is called, so a 14,000-item suite
costs the memory of its text, not of its images.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import io
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from PIL import Image

from evalkit.errors import SampleError

SampleIndex = int | str


class ImageRef(Protocol):
    """Something that can produce one RGB image on demand."""

    @property
    def description(self) -> str:
        """Where the image comes from, for error messages (file, row, column)."""
        ...

    def load(self) -> Image.Image:
        """Decode the image as RGB; raise :class:`SampleError` if it is unreadable."""
        ...


def decode_image_bytes(data: bytes, description: str) -> Image.Image:
    """Decode encoded image bytes (PNG, JPEG, …) into an RGB image.

    Raises :class:`SampleError` naming ``description`` if the bytes are not a
    readable image (truncated, corrupt, unknown format).
    """
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.load()
            return image.convert("RGB")
    except Exception as exc:  # Pillow's decoders raise OSError, ValueError, SyntaxError, TypeError… on bad bytes
        raise SampleError(f"unreadable image ({description}): {exc}") from exc


def decode_base64_image(text: str, description: str) -> Image.Image:
    """Decode a base64 string (as in a VLMEvalKit TSV ``image`` cell) into an RGB image."""
    try:
        data = base64.b64decode(text, validate=False)
    except (binascii.Error, ValueError) as exc:
        raise SampleError(f"invalid base64 image ({description}): {exc}") from exc
    return decode_image_bytes(data, description)


@dataclass(frozen=True)
class FileImage:
    """An image file on disk."""

    path: Path

    @property
    def description(self) -> str:
        return str(self.path)

    def load(self) -> Image.Image:
        try:
            data = self.path.read_bytes()
        except OSError as exc:
            raise SampleError(f"cannot read image {self.path}: {exc.strerror or exc}") from exc
        return decode_image_bytes(data, str(self.path))


@dataclass(frozen=True)
class BytesImage:
    """Encoded image bytes held in memory (small files, demo sets)."""

    data: bytes = field(repr=False)
    origin: str = "in-memory image"

    @property
    def description(self) -> str:
        return self.origin

    def load(self) -> Image.Image:
        return decode_image_bytes(self.data, self.origin)


@dataclass(frozen=True)
class Base64Image:
    """A base64-encoded image held in memory."""

    text: str = field(repr=False)
    origin: str = "base64 image"

    @property
    def description(self) -> str:
        return self.origin

    def load(self) -> Image.Image:
        return decode_base64_image(self.text, self.origin)


@dataclass(frozen=True)
class Sample:
    """One benchmark item, source-independent.

    ``index`` is the dataset's own id (an int where the source has integers).
    ``options`` holds only the options that are present, as (letter, text) in
    order. ``answers`` holds every ground truth (ten for TextVQA, one letter for
    a multiple-choice item, empty where answers are hidden). ``turns`` holds the
    user instructions of a multi-turn conversation (ConvBench); it is empty for
    single-turn suites, whose text is ``question``. ``metadata`` carries the
    remaining columns the scorers need (category, l2-category, split, width, …).
    """

    index: SampleIndex
    question: str
    images: tuple[ImageRef, ...] = ()
    options: tuple[tuple[str, str], ...] = ()
    answers: tuple[str, ...] = ()
    hint: str | None = None
    turns: tuple[str, ...] = ()
    metadata: Mapping[str, Any] = field(default_factory=dict)

    @property
    def is_multi_turn(self) -> bool:
        return len(self.turns) > 0

    def content_hash(self) -> str:
        """A short hash of what the sample asks and expects (index, question, hint, options, answers, turns,
        number of images): two runs compare a sample only when its hash agrees."""
        payload = json.dumps([str(self.index), self.question, self.hint, [list(o) for o in self.options],
                              list(self.answers), list(self.turns), len(self.images)], ensure_ascii=False)
        return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:16]
