"""Bounding boxes out of grounding replies (docs/protocols.md, "RefCOCO"), in pixels of the original image.

Official definitions: ``OpenGVLab/InternVL:internvl_chat/eval/refcoco/evaluate_grounding.py`` (``PATTERN`` and the
scoring loop of ``evaluate_chat_model``; paper protocol) and ``open-compass/VLMEvalKit:vlmeval/dataset/refcoco.py``
(``RefCOCODataset._parse_prediction`` and ``_to_absolute``; VLMEvalKit protocol).
"""

from __future__ import annotations

import math
import re
import struct
from collections.abc import Sequence

from evalkit.data.sample import Sample
from evalkit.scoring.types import Extraction, ScoringContext

Box = list[float]

# InternVL's pattern, as in the reference. It is only run on a line where a match is known to exist (see
# ``_line_has_box``), so a long line of commas without a closing bracket cannot make it backtrack for ages.
_INTERNVL_BOX = re.compile(r"\[*\[(.*?),(.*?),(.*?),(.*?)\]\]*")
# VLMEvalKit's number ``[-+]?\d*\.?\d+(?:[eE][-+]?\d+)?`` written without the ambiguous ``\d*\.?\d+`` (same
# language, same leftmost-greedy matches, but linear instead of quadratic on long digit runs).
_NUMBER = r"[-+]?(?:\d*\.\d+|\d+)(?:[eE][-+]?\d+)?"
_SEPARATOR = r"(?:\s*,\s*|\s+)"
_VLMEVALKIT_BOX = re.compile(rf"\[\s*({_NUMBER}){_SEPARATOR}({_NUMBER}){_SEPARATOR}({_NUMBER}){_SEPARATOR}"
                             rf"({_NUMBER})\s*\]")
_VLMEVALKIT_NUMBER = re.compile(_NUMBER)


def float32(value: float) -> float:
    """``value`` rounded to the nearest IEEE single (what a torch float32 tensor holds); overflow → ±inf."""
    try:
        return float(struct.unpack("f", struct.pack("f", value))[0])
    except OverflowError:
        return math.copysign(math.inf, value)


def _line_has_box(line: str) -> bool:
    """Whether InternVL's pattern matches somewhere in ``line`` (a line: ``.`` never crosses a newline).

    It does iff after the first ``[`` come three commas and then a ``]``: the lazy groups then take
    the first three commas and the first ``]`` after them, and any later ``[`` has fewer chances.
    """
    start = line.find("[")
    if start < 0:
        return False
    position = start
    for _ in range(3):
        position = line.find(",", position + 1)
        if position < 0:
            return False
    return line.find("]", position + 1) >= 0


def parse_box_internvl(text: str) -> tuple[float, float, float, float] | None:
    """The first match of ``\\[*\\[(.*?),(.*?),(.*?),(.*?)\\]\\]*`` with its four groups through ``float``.

    None when nothing matches or a group does not parse (the reference then uses (0, 0, 0, 0)).
    """
    for line in text.split("\n"):
        if _line_has_box(line):
            match = _INTERNVL_BOX.search(line)
            if match is None:  # pragma: no cover - _line_has_box guarantees a match
                return None
            try:
                first, second, third, fourth = (float(group) for group in match.groups())
            except ValueError:
                return None
            return first, second, third, fourth
    return None


def _metadata_number(sample: Sample, key: str) -> float | None:
    value = sample.metadata.get(key)
    if value is None or isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        return None
    return None if math.isnan(number) else number


def image_size(sample: Sample) -> tuple[float, float] | None:
    """(width, height) from the sample's metadata; None when either is missing or not a number."""
    width, height = _metadata_number(sample, "width"), _metadata_number(sample, "height")
    if width is None or height is None:
        return None
    return width, height


def internvl_pixels(values: Sequence[float], width: float, height: float) -> Box:
    """InternVL's scaling in float32: divide by 1000 when the four values sum to ≥ 4, then × W and × H.

    The float32 tensor sums left to right (checked against torch); nothing is clipped.
    """
    box = [float32(value) for value in values]
    total = box[0]
    for value in box[1:]:
        total = float32(total + value)
    if total >= 4:
        box = [float32(value / 1000) for value in box]
    scale_x, scale_y = float32(width), float32(height)
    return [float32(box[0] * scale_x), float32(box[1] * scale_y), float32(box[2] * scale_x),
            float32(box[3] * scale_y)]


def box_internvl(prediction: str, sample: Sample, ctx: ScoringContext) -> Extraction:
    """Card extractor ``box_internvl``: the paper protocol's box, ``[x1, y1, x2, y2]`` in pixels (float32).

    Quirks kept: the first bracket match only; a reply without a parsable box becomes (0, 0, 0, 0),
    which scores IoU 0 against any real box; the ÷1000 rule looks at the **sum** of the four values
    (a normalised 0–1 box summing to ≥ 4 is impossible, a 0–1000 box summing to < 4 is kept as is);
    no clipping, no swapping of inverted corners. Without width/height there is nothing to scale by:
    the value is None.
    """
    size = image_size(sample)
    if size is None:
        return Extraction(None, "none", "the sample has no image width/height")
    parsed = parse_box_internvl(prediction)
    note = None if parsed is not None else "no parsable box: (0, 0, 0, 0) as in the reference"
    return Extraction(internvl_pixels(parsed or (0.0, 0.0, 0.0, 0.0), *size), "rule", note)


def parse_box_vlmevalkit(text: str) -> Box | None:
    """The first ``[a, b, c, d]`` (commas and/or spaces between), else the first four numbers; None if fewer."""
    match = _VLMEVALKIT_BOX.search(text)
    if match is not None:
        return [float(group) for group in match.groups()]
    numbers = []
    for found in _VLMEVALKIT_NUMBER.finditer(text):
        numbers.append(float(found.group()))
        if len(numbers) == 4:
            return numbers
    return None


def _clip(value: float, low: float, high: float) -> float:
    return min(max(value, low), high)


def vlmevalkit_pixels(values: Sequence[float], width: float, height: float) -> Box | None:
    """VLMEvalKit's ``_to_absolute``: max|v| ≤ 1.5 → fractions of W/H; ≤ 1000 → a 0–1000 grid; else pixels.

    Then clip x to [0, W] and y to [0, H] and swap inverted corners. None for NaN values or a
    non-positive size.
    """
    box = [float(value) for value in values[:4]]
    if any(math.isnan(value) for value in box) or not width > 0 or not height > 0:
        return None
    largest = max(abs(value) for value in box)
    if largest <= 1.5:
        box = [box[0] * width, box[1] * height, box[2] * width, box[3] * height]
    elif largest <= 1000:
        box = [box[0] / 1000.0 * width, box[1] / 1000.0 * height, box[2] / 1000.0 * width, box[3] / 1000.0 * height]
    x1, x2 = _clip(box[0], 0, width), _clip(box[2], 0, width)
    y1, y2 = _clip(box[1], 0, height), _clip(box[3], 0, height)
    if x2 < x1:
        x1, x2 = x2, x1
    if y2 < y1:
        y1, y2 = y2, y1
    return [x1, y1, x2, y2]


def vlmevalkit_size(sample: Sample) -> tuple[float, float]:
    """Width and height as VLMEvalKit loads them: a missing, NaN or non-positive value becomes 1.0."""
    width, height = _metadata_number(sample, "width"), _metadata_number(sample, "height")
    return (width if width is not None and width > 0 else 1.0), (height if height is not None and height > 0 else 1.0)


def box_vlmevalkit(prediction: str, sample: Sample, ctx: ScoringContext) -> Extraction:
    """Card extractor ``box_vlmevalkit``: VLMEvalKit's box, ``[x1, y1, x2, y2]`` in pixels, or None.

    Quirks kept: the scale is guessed from the largest absolute value (so a 0–1000 box whose values
    are all ≤ 1.5 is read as fractions); the fallback takes any four numbers anywhere in the reply;
    a missing width/height is 1.0, as VLMEvalKit's loader sets it.
    """
    parsed = parse_box_vlmevalkit(prediction)
    if parsed is None:
        return Extraction(None, "none", "no box and fewer than four numbers")
    return Extraction(vlmevalkit_pixels(parsed, *vlmevalkit_size(sample)), "rule")
