"""LLaVA-1.5 response formatting and the prompt layouts the suites use.

A card names a layout and its options per protocol; this module renders a
:class:`~evalkit.data.sample.Sample` into the suite's formatted user text (the
``instruction``), before any model's chat template or image placeholder. The
strings are the reference code's (each layout names its file and commit; docs/protocols.md
gives every suite's prompt under both protocols); layouts never look at a suite's name.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from evalkit.catalog.spec import ProtocolSpec
from evalkit.data.sample import ImageRef, Sample

# LLaVA-1.5 response-format suffixes (InternVL 1.5 was trained with the same ones).
SHORT_ANSWER = "Answer the question using a single word or phrase."
CHOICE_LETTER = "Answer with the option's letter from the given choices directly."
CHOICE_LETTER_CN = "请直接回答选项字母。"
DIRECT_ANSWER = "Answer the question directly."
DIRECT_ANSWER_CN = "请直接回答问题。"
GROUNDING = "Please provide the bounding box coordinate of the region this sentence describes:"

_CJK = re.compile("[\u4e00-\u9fff]")
_WRAPPED_REFERRING = re.compile(re.escape(GROUNDING) + " <ref>(.*)</ref>", re.DOTALL)


def contains_cjk(text: str) -> bool:
    """VLMEvalKit's ``cn_string``: any character in U+4E00–U+9FFF."""
    return _CJK.search(text) is not None


@dataclass(frozen=True)
class Instruction:
    """A sample's formatted user text (one per turn) and the images that go with the first turn."""

    texts: tuple[str, ...]
    images: tuple[ImageRef, ...]
    tiles_per_image: int

    @property
    def is_multi_turn(self) -> bool:
        return len(self.texts) > 1

    def as_record(self) -> str | list[str]:
        """What ``predictions.jsonl`` stores as ``instruction``: a string, or a list for multi-turn suites."""
        return list(self.texts) if self.is_multi_turn else self.texts[0]


def _short_answer(sample: Sample, options: Mapping[str, Any], language: str) -> str:
    """``{question}{separator}{suffix}``: the paper joins with a space, VLMEvalKit with a newline."""
    return f"{sample.question}{options.get('separator', ' ')}{options.get('suffix', SHORT_ANSWER)}"


def _choice_suffix(text: str, has_options: bool, options: Mapping[str, Any], language: str) -> str:
    chinese = language == "cn" if options.get("suffix_by", "cjk") == "language" else contains_cjk(text)
    if has_options:
        return CHOICE_LETTER_CN if chinese else CHOICE_LETTER
    return DIRECT_ANSWER_CN if chinese else DIRECT_ANSWER


def _multiple_choice(sample: Sample, options: Mapping[str, Any], language: str) -> str:
    """InternVL/VLMEvalKit MCQ: ``[{hint}⏎]{question}``, ``⏎{L}. {text}`` per option, ``⏎`` + suffix.

    The suffix is Chinese when the text so far has a CJK character
    (``suffix_by = "cjk"``, VLMEvalKit) or when the dataset's language is
    Chinese (``suffix_by = "language"``, the paper's MMBench script).
    """
    allowed = options.get("letters")
    choices = [(letter, text) for letter, text in sample.options if allowed is None or letter in allowed]
    text = sample.question
    if options.get("hint", True) and sample.hint:
        text = f"{sample.hint}\n{text}"
    for letter, option in choices:
        text += f"\n{letter}. {option}"
    return f"{text}\n{_choice_suffix(text, bool(choices), options, language)}"


def _mmmu(sample: Sample, options: Mapping[str, Any], language: str) -> str:
    """The paper's MMMU script: stripped question, stripped options A–M or the short-answer suffix, stripped."""
    text = sample.question.strip()
    if sample.options:
        lines = "\n".join(f"{letter}. {option.strip()}" for letter, option in sample.options)
        text = f"{text}\n{lines}\n{CHOICE_LETTER}"
    else:
        text = f"{text}\n{SHORT_ANSWER}"
    return text.strip()


def _verbatim(sample: Sample, options: Mapping[str, Any], language: str) -> str:
    """The dataset's question unchanged, plus an optional fixed suffix (MM-Vet's paper prompt adds a space)."""
    return f"{sample.question}{options.get('suffix', '')}"


def referring_expression(question: str) -> str:
    """The sentence of a grounding question.

    VLMEvalKit's RefCOCO TSV (``mjuicem/RefCOCO-VLMEvalKit``, open-compass/VLMEvalKit#1305) holds the
    whole instruction, ``Please provide … describes: <ref>{sentence}</ref>``: its dataset class has no
    ``build_prompt`` and models send the cell as it is. The paper's jsonl files hold the sentence alone.
    """
    match = _WRAPPED_REFERRING.fullmatch(question)
    return match.group(1) if match else question


def _grounding(sample: Sample, options: Mapping[str, Any], language: str) -> str:
    """InternVL ``eval/refcoco/evaluate_grounding.py`` @83c72bc: ``{GROUNDING} <ref>{sentence}</ref>``, never
    wrapped twice (:func:`referring_expression`); the answer is expected as ``<box>[[x1, y1, x2, y2]]</box>``
    on a 0–1000 grid."""
    return f"{GROUNDING} <ref>{referring_expression(sample.question)}</ref>"


Layout = Callable[[Sample, Mapping[str, Any], str], str]

LAYOUTS: dict[str, Layout] = {
    "short_answer": _short_answer,
    "multiple_choice": _multiple_choice,
    "mmmu": _mmmu,
    "verbatim": _verbatim,
    "grounding": _grounding,
}
LAYOUT_OPTIONS: dict[str, frozenset[str]] = {
    "short_answer": frozenset({"separator", "suffix"}),
    "multiple_choice": frozenset({"suffix_by", "hint", "letters"}),
    "mmmu": frozenset(),
    "verbatim": frozenset({"suffix"}),
    "grounding": frozenset(),
    "multi_turn": frozenset(),
}


def render_texts(sample: Sample, protocol: ProtocolSpec, language: str) -> tuple[str, ...]:
    """The formatted user text of each turn (one entry for single-turn suites)."""
    if protocol.prompt == "multi_turn":
        return sample.turns if sample.turns else (sample.question,)
    layout = LAYOUTS[protocol.prompt]
    return (layout(sample, protocol.prompt_options, language),)


def render_instruction(sample: Sample, protocol: ProtocolSpec, language: str,
                       max_tiles: int | None = None) -> Instruction:
    """The instruction for ``sample`` under ``protocol``: texts, images kept by the image policy, tiles each.

    ``max_tiles`` (the ``--max-tiles`` flag) replaces the protocol's limit.
    """
    images = sample.images[:1] if protocol.image_policy == "first" else sample.images
    tiles = max_tiles if max_tiles is not None else protocol.tiles_for(len(images))
    return Instruction(texts=render_texts(sample, protocol, language), images=images, tiles_per_image=tiles)
