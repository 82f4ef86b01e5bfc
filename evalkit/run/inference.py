"""From samples to prediction records: load images, build requests, generate turn by turn.

Single-turn suites are conversations of one turn, so one code path serves both.
A sample whose image cannot be decoded, or whose generation fails, becomes a
record with ``error`` set; its neighbours in the batch are unaffected.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from PIL import Image

from evalkit.catalog.spec import GenerationParams
from evalkit.data.sample import Sample
from evalkit.errors import SampleError
from evalkit.models.base import (
    Generation,
    ImagePart,
    Message,
    ModelAdapter,
    Part,
    Request,
    SampleContext,
    TextPart,
    can_prepare,
)
from evalkit.prompts.layouts import Instruction


@dataclass
class Conversation:
    """One sample's progress through its turns."""

    sample: Sample
    instruction: Instruction
    images: tuple[Image.Image, ...] = ()
    history: list[Message] = field(default_factory=list)
    prompts: list[str] = field(default_factory=list)
    replies: list[str] = field(default_factory=list)
    error: str | None = None
    context: SampleContext | None = None

    def request(self, turn: int, params: GenerationParams) -> Request:
        parts: list[Part] = []
        if turn == 0:
            parts.extend(ImagePart(image, self.instruction.tiles_per_image) for image in self.images)
        parts.append(TextPart(self.instruction.texts[turn]))
        messages = (*self.history, Message("user", tuple(parts)))
        return Request(sample_id=str(self.sample.index), messages=messages, params=params, context=self.context)

    def record(self) -> dict[str, Any]:
        """The ``predictions.jsonl`` object (README.md, "What a run writes"): lists for multi-turn suites."""
        multi = self.instruction.is_multi_turn
        return {
            "index": self.sample.index,
            "instruction": self.instruction.as_record(),
            "prompt": self.prompts if multi else (self.prompts[0] if self.prompts else ""),
            "prediction": self.replies if multi else (self.replies[0] if self.replies else ""),
            "error": self.error,
        }


def start_conversation(sample: Sample, instruction: Instruction,
                       context: SampleContext | None = None) -> Conversation:
    """Decode the sample's images now (only for the batch at hand); an unreadable one is recorded as its error.
    ``context`` (the suite and protocol) travels with every request of the conversation."""
    conversation = Conversation(sample, instruction, context=context)
    try:
        conversation.images = tuple(ref.load() for ref in instruction.images)
    except SampleError as exc:
        conversation.error = str(exc)
    return conversation


@dataclass
class PreparedBatch:
    """A batch made ready ahead of generation: images decoded, and the first turn prepared by the model."""

    conversations: list[Conversation]
    requests: list[Request]
    prepared: object | None = None


def prepare_batch(conversations: list[Conversation], model: ModelAdapter, params: GenerationParams) -> PreparedBatch:
    """The first turn's requests, and the model's own preparation of them when it offers one.

    A failure in the model's preparation (one odd image, say) is not fatal: generation then prepares the
    requests itself, one at a time where it must, and records the failing one as its error.
    """
    active = [conversation for conversation in conversations if conversation.error is None]
    requests = [conversation.request(0, params) for conversation in active]
    prepared = None
    if requests and can_prepare(model):
        try:
            prepared = model.prepare(requests)  # type: ignore[attr-defined]
        except Exception:  # the unprepared path below isolates the failing request
            prepared = None
    return PreparedBatch(conversations, requests, prepared)


def _generate_turn(model: ModelAdapter, requests: list[Request], prepared: object | None) -> list[Generation]:
    if prepared is not None:
        generations: list[Generation] = model.generate_prepared(prepared)  # type: ignore[attr-defined]
    else:
        generations = model.generate(requests)
    if len(generations) != len(requests):
        raise RuntimeError(f"model returned {len(generations)} generations for {len(requests)} requests")
    return generations


def converse(batch: PreparedBatch, model: ModelAdapter, params: GenerationParams) -> None:
    """Run every turn of every conversation, batching each turn across the conversations still going."""
    conversations = batch.conversations
    turns = max((len(c.instruction.texts) for c in conversations), default=0)
    for turn in range(turns):
        active = [c for c in conversations if c.error is None and turn < len(c.instruction.texts)]
        if not active:
            return
        first = turn == 0
        requests = batch.requests if first else [c.request(turn, params) for c in active]
        generations = _generate_turn(model, requests, batch.prepared if first else None)
        for conversation, request, generation in zip(active, requests, generations, strict=True):
            conversation.prompts.append(generation.prompt)
            if generation.error is not None:
                conversation.error = generation.error
                continue
            conversation.replies.append(generation.text)
            conversation.history = [*request.messages, Message("assistant", (TextPart(generation.text),))]
