"""InternVL-Chat-V1.5's prompt, as pure functions (no torch, no transformers).

The checkpoint's ``chat`` builds its prompt with the ``internlm2-chat``
conversation template (``conversation.py`` of the checkpoint's remote code)::

    <|im_start|>system\\n{SYS}<|im_end|><|im_start|>user\\n{USER}<|im_end|><|im_start|>assistant\\n

with no newline after ``<|im_end|>`` (the template's separator is the bare
``<|im_end|>``). The first user turn that carries images starts with the image
block ``<img>`` + ``<IMG_CONTEXT>`` x (256 x tiles) + ``</img>`` + ``\\n``.

Several images: V1.5's ``chat`` (and VLMEvalKit's V1.5 wrapper, which calls it)
concatenates the tiles of all images into one ``pixel_values`` tensor and writes
ONE block whose length is 256 x the total number of tiles; there is no block per
image and no separator between images. :func:`render_internvl_prompt` does the
same.

Multi-turn: earlier turns are rendered as user/assistant messages, and the image
block stays in the first user turn only (V1.5's ``chat`` keeps the first question,
block included, in its history).

Quirk kept from the reference template: a message whose content is empty (an
empty earlier reply, say) renders as its role prefix alone, without
``<|im_end|>``, because the template only closes non-empty messages.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Sequence

from evalkit.models.base import ImagePart, Message, TextPart

#: The conversation template V1.5 was trained and evaluated with.
TEMPLATE_NAME = "internlm2-chat"
#: Templates that render exactly like ``internlm2-chat`` at inference (InternVL's own note: Hermes-2 only
#: differs in whether training adds ``<s>``, which the tokenizer decides here).
COMPATIBLE_TEMPLATES = ("internlm2-chat", "Hermes-2")

#: ``internlm2-chat``'s system line at paper time (InternVL @83c72bc, 2024-04); used for paper parity.
PAPER_SYSTEM_LINE = "You are an AI assistant whose name is InternLM (书生·浦语)."
#: The Chinese InternVL line the InternVL 2.0 code put into ``internlm2-chat`` (InternVL 0dc48a2,
#: 2024-07-19) and that later code keeps. Recorded and shown by ``preview``; never the default.
INTERNVL2_SYSTEM_LINE = (
    "你是由上海人工智能实验室联合商汤科技开发的书生多模态大模型，英文名叫InternVL, 是一个有用无害的人工智能助手。"
)

IM_START = "<|im_start|>"
IM_END = "<|im_end|>"
IMG_START = "<img>"
IMG_END = "</img>"
IMG_CONTEXT = "<IMG_CONTEXT>"
#: What ``chat`` itself writes before expanding the block, and what a compact prompt shows instead of it.
IMAGE_PLACEHOLDER = "<image>"
#: Tokens per 448x448 tile: 32x32 ViT patches, pixel shuffle 0.5 -> 16x16.
TOKENS_PER_TILE = 256

ROLE_PREFIX = {"user": f"{IM_START}user\n", "assistant": f"{IM_START}assistant\n"}
_BLOCK = re.compile(re.escape(IMG_START) + f"(?:{re.escape(IMG_CONTEXT)})*" + re.escape(IMG_END))


def image_block(tiles: int, tokens_per_tile: int = TOKENS_PER_TILE) -> str:
    """``<img>`` + ``<IMG_CONTEXT>`` x (tokens_per_tile x tiles) + ``</img>`` (no trailing newline)."""
    if tiles < 0 or tokens_per_tile <= 0:
        raise ValueError(f"need tiles >= 0 and tokens_per_tile > 0, got {tiles}, {tokens_per_tile}")
    return IMG_START + IMG_CONTEXT * (tokens_per_tile * tiles) + IMG_END


def render_internvl_prompt(
    messages: Sequence[Message],
    tiles_per_image: Sequence[int],
    system: str = PAPER_SYSTEM_LINE,
    *,
    tokens_per_tile: int = TOKENS_PER_TILE,
) -> str:
    """The exact text V1.5's ``chat`` tokenises for ``messages``, image block expanded.

    ``tiles_per_image`` gives the tile count of every :class:`ImagePart` of the
    conversation, in order; all of them go into one block at the head of the
    first user message that has images. A ``system`` message in ``messages``
    replaces ``system`` (several are joined with ``\\n``). Text parts of one
    message are joined with ``\\n``, as VLMEvalKit joins them.
    """
    return _render(messages, tiles_per_image, system, lambda total: image_block(total, tokens_per_tile))


def render_compact_prompt(messages: Sequence[Message], tiles_per_image: Sequence[int],
                          system: str = PAPER_SYSTEM_LINE) -> str:
    """The same prompt with the image block written as ``<image>``: what ``chat`` prints, and what is recorded."""
    return _render(messages, tiles_per_image, system, lambda total: IMAGE_PLACEHOLDER)


def compact_prompt(prompt: str) -> str:
    """Replace every expanded image block in ``prompt`` by ``<image>``."""
    return _BLOCK.sub(IMAGE_PLACEHOLDER, prompt)


def count_image_tokens(prompt: str) -> int:
    """How many ``<IMG_CONTEXT>`` tokens ``prompt`` holds."""
    return prompt.count(IMG_CONTEXT)


def cut_reply(text: str) -> str:
    """``chat``'s post-processing of decoded text: cut at the first ``<|im_end|>``, strip."""
    return text.split(IM_END, 1)[0].strip()


def _render(messages: Sequence[Message], tiles_per_image: Sequence[int], system: str,
            block: Callable[[int], str]) -> str:
    """Render the conversation; ``block(total_tiles)`` writes the image block."""
    images = [part for message in messages for part in message.parts if isinstance(part, ImagePart)]
    if len(images) != len(tiles_per_image):
        raise ValueError(f"{len(images)} images but {len(tiles_per_image)} tile counts")
    if any(tiles < 1 for tiles in tiles_per_image):
        raise ValueError(f"every image has at least one tile, got {list(tiles_per_image)}")
    if any(message.images for message in messages if message.role != "user"):
        raise ValueError("images are only allowed in user messages")
    system_texts = [_text_of(message) for message in messages if message.role == "system"]
    if system_texts:
        system = "\n".join(system_texts)
    out = [f"{IM_START}system\n{system}{IM_END}"]
    placed = False
    for message in messages:
        if message.role == "system":
            continue
        content = _text_of(message)
        if not placed and message.images:
            content = block(sum(tiles_per_image)) + "\n" + content
            placed = True
        out.append(ROLE_PREFIX[message.role] + content + IM_END if content else ROLE_PREFIX[message.role])
    out.append(ROLE_PREFIX["assistant"])
    return "".join(out)


def _text_of(message: Message) -> str:
    """A message's text parts joined with ``\\n``."""
    return "\n".join(part.text for part in message.parts if isinstance(part, TextPart))


def template_system_line(source: str, template: str = TEMPLATE_NAME) -> str | None:
    """The ``system_message`` that a checkpoint's ``conversation.py`` gives ``template``, read without running it.

    Looks for a call with ``name='<template>'`` and a literal ``system_message=``
    keyword (``Conversation(name=..., system_message=...)``); comments are
    ignored. None when the file does not parse or has no such literal.
    """
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return None
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        keywords = {kw.arg: kw.value for kw in node.keywords if kw.arg}
        name = keywords.get("name")
        line = keywords.get("system_message")
        if (isinstance(name, ast.Constant) and name.value == template
                and isinstance(line, ast.Constant) and isinstance(line.value, str)):
            return line.value
    return None
