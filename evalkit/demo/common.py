"""Shared pieces of the demo-set builders: row types, bilingual text, seeding and shape vocabulary."""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import TypeVar

from evalkit.demo.drawing import COLOURS, SHAPES, Shape

Row = dict[str, object]
Text = tuple[str, str]  # (English, Simplified Chinese)
Item = tuple[str, Text, list[str]]  # (image cell, question, acceptable answers)
T = TypeVar("T")

CN_NAMES = {
    "red": "红色",
    "green": "绿色",
    "blue": "蓝色",
    "yellow": "黄色",
    "purple": "紫色",
    "orange": "橙色",
    "circle": "圆形",
    "square": "正方形",
    "triangle": "三角形",
}
WORDS = ("HARBOR", "GARDEN", "SUNSET", "MARKET", "PLANET", "COFFEE", "WINTER", "CASTLE")
PEOPLE = ("Maria Chen", "David Okafor", "Laura Svensson", "Ahmed Haddad")
QUADRANTS: tuple[Text, ...] = (
    ("top left", "左上"),
    ("top right", "右上"),
    ("bottom left", "左下"),
    ("bottom right", "右下"),
)


def seeded(name: str) -> random.Random:
    """The generator of one demo set: seeded by its name, so every run draws the same items."""
    return random.Random(f"evalkit-demo/{name}")


def pick(language: str, text: Text) -> str:
    """The text in ``language`` ("cn" gives the Simplified Chinese one)."""
    return text[1] if language == "cn" else text[0]


def cn_name(shape: Shape) -> str:
    """A shape's name in Chinese, e.g. 红色圆形."""
    return f"{CN_NAMES[shape.colour]}{CN_NAMES[shape.kind]}"


def listed(values: Sequence[object]) -> str:
    """A Python-list literal of strings, as VLMEvalKit writes list-valued cells."""
    return str([str(value) for value in values])


def shuffled(rng: random.Random, correct: T, distractors: Sequence[T]) -> tuple[list[T], int]:
    """The options in random order, and where the correct one landed."""
    options = [correct, *distractors]
    rng.shuffle(options)
    return options, options.index(correct)


def same(values: Sequence[object]) -> list[Text]:
    """Texts that read the same in both languages (numbers, labels printed in the image)."""
    return [(str(value), str(value)) for value in values]


def distinct_shapes(rng: random.Random, count: int, kinds: Sequence[str] = SHAPES) -> list[tuple[str, str]]:
    """``count`` different (kind, colour) pairs."""
    return rng.sample([(kind, colour) for kind in kinds for colour in COLOURS], count)


def quadrant(shape: Shape, size: tuple[int, int]) -> int:
    """Which quarter of a ``size`` image holds the shape's centre, in the order of :data:`QUADRANTS`."""
    return 2 * (shape.centre[1] >= size[1] // 2) + (shape.centre[0] >= size[0] // 2)


def relation(shape: Shape, anchor: Shape) -> Text:
    """Where ``shape`` lies relative to ``anchor``, along the axis where their centres differ most."""
    dx, dy = shape.centre[0] - anchor.centre[0], shape.centre[1] - anchor.centre[1]
    if abs(dx) >= abs(dy):
        return ("to the left of", "左边") if dx < 0 else ("to the right of", "右边")
    return ("above", "上方") if dy < 0 else ("below", "下方")


def question_rows(items: Sequence[Item], language: str) -> list[Row]:
    """Rows of index, image, question and a list-literal answer (DocVQA, InfoVQA, TextVQA)."""
    return [
        {"index": i, "image": image, "question": pick(language, question), "answer": listed(answers)}
        for i, (image, question, answers) in enumerate(items)
    ]
