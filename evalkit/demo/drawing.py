"""Drawing primitives for the built-in demo sets (:mod:`evalkit.demo.sets`).

Fonts, base64 encoding, text fitting, gradients and arrows; scenes of solid
coloured shapes with known boxes; document pages and infographics; bar and line
charts with printed values. Genre drawings built on these live in
:mod:`evalkit.demo.figures`. All randomness comes from the
``random.Random`` passed in, and text uses Pillow's bundled scalable font, so
the pixels never depend on the machine.
"""

from __future__ import annotations

import base64
import io
import math
import random
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

from PIL import Image, ImageDraw, ImageFont

Colour = tuple[int, int, int]
Box = tuple[int, int, int, int]
Point = tuple[float, float]
Size = tuple[int, int]
Font = ImageFont.FreeTypeFont | ImageFont.ImageFont
Draw = ImageDraw.ImageDraw

COLOURS: dict[str, Colour] = {
    "red": (214, 39, 40),
    "green": (44, 160, 44),
    "blue": (31, 94, 214),
    "yellow": (240, 200, 20),
    "purple": (148, 60, 189),
    "orange": (255, 127, 14),
}
SHAPES = ("circle", "square", "triangle")
INK: Colour = (25, 25, 30)
TABLE: Colour = (236, 230, 216)


@cache
def font(size: int) -> Font:
    """Pillow's bundled font at ``size`` pixels (no system fonts: reproducible everywhere)."""
    return ImageFont.load_default(size=max(6, size))


def encode(image: Image.Image, fmt: str = "PNG") -> str:
    """Base64 text of ``image`` encoded as PNG or JPEG, as a VLMEvalKit ``image`` cell holds it."""
    buffer = io.BytesIO()
    if fmt == "JPEG":
        image.save(buffer, format="JPEG", quality=85)
    else:
        image.save(buffer, format="PNG")
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def canvas(size: Size, colour: Colour | str = "white") -> tuple[Image.Image, Draw]:
    image = Image.new("RGB", size, colour)
    return image, ImageDraw.Draw(image)


def wrap(text: str, fnt: Font, width: float) -> list[str]:
    """Greedy word wrap of ``text`` into lines no wider than ``width`` pixels."""
    lines: list[str] = []
    line = ""
    for word in text.split():
        trial = f"{line} {word}".strip()
        if line and fnt.getlength(trial) > width:
            lines.append(line)
            line = word
        else:
            line = trial
    return [*lines, line] if line else lines


def fitted(text: str, width: float, start: int) -> Font:
    """The largest font, at most ``start`` px, in which ``text`` fits ``width`` pixels."""
    size = start
    while size > 8 and font(size).getlength(text) > width:
        size -= 2
    return font(size)


def centred_lines(draw: Draw, box: Sequence[float], lines: Sequence[str], size: int, fill: Colour) -> None:
    """Stack ``lines`` centred in ``box``, each shrunk to fit its width."""
    x0, y0, x1, y1 = box
    step = (y1 - y0) / len(lines)
    for i, line in enumerate(lines):
        fnt = fitted(line, x1 - x0 - 12, min(size, int(step * 0.8)))
        draw.text(((x0 + x1) / 2, y0 + step * (i + 0.5)), line, font=fnt, fill=fill, anchor="mm")


def gradient(draw: Draw, box: Box, top: Colour, bottom: Colour) -> None:
    x0, y0, x1, y1 = box
    for y in range(y0, y1):
        t = (y - y0) / max(1, y1 - y0 - 1)
        draw.line(
            (x0, y, x1, y), fill=tuple(round(a + (b - a) * t) for a, b in zip(top, bottom, strict=True))
        )


def arrow(draw: Draw, start: Point, end: Point, fill: Colour = INK, width: int = 2) -> None:
    """A straight arrow from ``start`` to ``end`` with a filled head."""
    length = math.dist(start, end) or 1.0
    ux, uy = (end[0] - start[0]) / length, (end[1] - start[1]) / length
    draw.line((start, (end[0] - ux * 8, end[1] - uy * 8)), fill=fill, width=width)
    base = (end[0] - ux * 11, end[1] - uy * 11)
    draw.polygon([end, (base[0] - uy * 5, base[1] + ux * 5), (base[0] + uy * 5, base[1] - ux * 5)], fill=fill)


# --- documents -------------------------------------------------------------------------------------


def document_page(
    title: str, fields: Sequence[tuple[str, str]], paragraphs: Sequence[str], size: Size, accent: Colour
) -> Image.Image:
    """A page: a coloured heading band, a key: value table, then wrapped paragraphs."""
    image, draw = canvas(size, (252, 251, 247))
    width, margin = size[0], 16
    draw.rectangle((0, 0, width, 40), fill=accent)
    draw.text((margin, 20), title, font=fitted(title, width - 2 * margin, 20), fill="white", anchor="lm")
    y = 52
    for key, value in fields:
        draw.rectangle((margin, y, width - margin, y + 22), outline=(170, 170, 170))
        draw.line((width * 0.45, y, width * 0.45, y + 22), fill=(170, 170, 170))
        draw.text((margin + 6, y + 11), f"{key}:", font=font(12), fill=(70, 70, 70), anchor="lm")
        draw.text(
            (width * 0.45 + 6, y + 11), value, font=fitted(value, width * 0.5 - 24, 12), fill=INK, anchor="lm"
        )
        y += 22
    y += 12
    for paragraph in paragraphs:
        for line in wrap(paragraph, font(11), width - 2 * margin):
            draw.text((margin, y), line, font=font(11), fill=(50, 50, 50))
            y += 15
        y += 8
    return image


def infographic(title: str, stats: Sequence[tuple[str, str]], size: Size) -> Image.Image:
    """Coloured blocks, each with a big figure, its caption and a row of icons; vertical or horizontal."""
    image, draw = canvas(size, (245, 247, 250))
    width, height = size
    draw.rectangle((0, 0, width, 44), fill=(30, 50, 90))
    draw.text((width / 2, 22), title, font=fitted(title, width - 20, 20), fill="white", anchor="mm")
    palette = [(0, 150, 160), (240, 130, 40), (120, 80, 170), (60, 150, 70)]
    wide = width > height
    span = (width if wide else height - 48) / len(stats)
    for i, (figure, caption) in enumerate(stats):
        box = (
            (i * span + 6, 52, (i + 1) * span - 6, height - 8)
            if wide
            else (8, 52 + i * span, width - 8, 44 + (i + 1) * span)
        )
        draw.rounded_rectangle(box, radius=10, fill=palette[i % len(palette)])
        middle = (box[0] + box[2]) / 2
        draw.text(
            (middle, box[1] + 26),
            figure,
            font=fitted(figure, box[2] - box[0] - 16, 30),
            fill="white",
            anchor="mm",
        )
        for j, line in enumerate(wrap(caption, font(12), box[2] - box[0] - 16)):
            draw.text((middle, box[1] + 52 + 15 * j), line, font=font(12), fill="white", anchor="mm")
        for k in range(5):
            cx = middle + (k - 2) * 16
            draw.ellipse(
                (cx - 5, box[3] - 20, cx + 5, box[3] - 10), fill=(255, 255, 255) if k < 3 else (200, 200, 200)
            )
    return image


# --- charts ----------------------------------------------------------------------------------------


def label(value: float) -> str:
    """How a chart prints a value (and how the questions quote it)."""
    return f"{value:g}"


def _nice(value: float) -> float:
    magnitude = 10 ** math.floor(math.log10(value))
    return next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= value)


def _frame(image: Image.Image, draw: Draw, title: str, vmax: float, axes: tuple[str, str]) -> Box:
    """Title, gridlines, y ticks and axis titles; returns the plot area."""
    width, height = image.size
    x0, y0, x1, y1 = 58, 38, width - 14, height - 46
    draw.text((width / 2, 10), title, font=fitted(title, width - 20, 15), fill=INK, anchor="mt")
    for i in range(6):
        y = y1 - (y1 - y0) * i / 5
        draw.line((x0, y, x1, y), fill=(225, 225, 225))
        draw.text((x0 - 4, y), label(vmax * i / 5), font=font(10), fill=(90, 90, 90), anchor="rm")
    draw.line((x0, y0, x0, y1), fill=INK)
    draw.line((x0, y1, x1, y1), fill=INK)
    draw.text(((x0 + x1) / 2, height - 4), axes[0], font=font(11), fill=INK, anchor="mb")
    side = Image.new("RGB", (y1 - y0, 16), "white")
    ImageDraw.Draw(side).text(((y1 - y0) / 2, 8), axes[1], font=font(11), fill=INK, anchor="mm")
    image.paste(side.rotate(90, expand=True), (4, y0))
    return x0, y0, x1, y1


def bar_chart(
    title: str,
    labels: Sequence[str],
    values: Sequence[float],
    size: Size,
    axes: tuple[str, str],
    colour: str = "blue",
) -> Image.Image:
    """Vertical bars with the value printed above each bar and the category below it."""
    image, draw = canvas(size)
    vmax = _nice(max(values) * 1.15)
    x0, y0, x1, y1 = _frame(image, draw, title, vmax, axes)
    slot = (x1 - x0) / len(values)
    for i, (name, value) in enumerate(zip(labels, values, strict=True)):
        left, top = x0 + slot * (i + 0.2), y1 - (y1 - y0) * value / vmax
        draw.rectangle((left, top, left + slot * 0.6, y1 - 1), fill=COLOURS[colour])
        draw.text((left + slot * 0.3, top - 2), label(value), font=font(11), fill=INK, anchor="mb")
        draw.text((left + slot * 0.3, y1 + 4), name, font=fitted(name, slot, 11), fill=INK, anchor="mt")
    return image


def line_chart(
    title: str,
    x_labels: Sequence[str],
    series: Sequence[tuple[str, Sequence[float], str]],
    size: Size,
    axes: tuple[str, str],
) -> Image.Image:
    """One line per series with every point's value printed; a legend when there are several series."""
    image, draw = canvas(size)
    vmax = _nice(max(max(values) for _, values, _ in series) * 1.15)
    x0, y0, x1, y1 = _frame(image, draw, title, vmax, axes)
    step = (x1 - x0) / len(x_labels)
    for i, name in enumerate(x_labels):
        draw.text((x0 + step * (i + 0.5), y1 + 4), name, font=font(11), fill=INK, anchor="mt")
    for k, (name, values, colour) in enumerate(series):
        points = [(x0 + step * (i + 0.5), y1 - (y1 - y0) * v / vmax) for i, v in enumerate(values)]
        draw.line(points, fill=COLOURS[colour], width=2)
        for (x, y), value in zip(points, values, strict=True):
            draw.ellipse((x - 3, y - 3, x + 3, y + 3), fill=COLOURS[colour])
            draw.text((x, y - 5), label(value), font=font(10), fill=INK, anchor="mb")
        if len(series) > 1:
            draw.rectangle((x1 - 80, y0 + 4 + 16 * k, x1 - 70, y0 + 14 + 16 * k), fill=COLOURS[colour])
            draw.text((x1 - 64, y0 + 9 + 16 * k), name, font=font(11), fill=INK, anchor="lm")
    return image


# --- shapes scenes ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Shape:
    """A solid shape drawn in ``box`` (inclusive pixel corners)."""

    kind: str
    colour: str
    box: Box

    @property
    def centre(self) -> tuple[int, int]:
        return (self.box[0] + self.box[2]) // 2, (self.box[1] + self.box[3]) // 2

    @property
    def name(self) -> str:
        return f"{self.colour} {self.kind}"

    @property
    def a_name(self) -> str:
        """The name with its indefinite article: "a red circle", "an orange square"."""
        return f"{'an' if self.colour[0] in 'aeiou' else 'a'} {self.name}"


def place_shapes(rng: random.Random, size: Size, specs: Sequence[tuple[str, str]]) -> list[Shape]:
    """Give each (kind, colour) its own grid cell at a random spot, so shapes never overlap."""
    width, height = size
    cols = max(1, round(math.sqrt(len(specs) * width / height)))
    rows = math.ceil(len(specs) / cols)
    cell_w, cell_h = width // cols, height // rows
    shapes = []
    for (kind, colour), cell in zip(specs, rng.sample(range(cols * rows), len(specs)), strict=True):
        side = int(min(cell_w, cell_h) * rng.uniform(0.45, 0.75))
        x = (cell % cols) * cell_w + rng.randint(4, cell_w - side - 4)
        y = (cell // cols) * cell_h + rng.randint(4, cell_h - side - 4)
        shapes.append(Shape(kind, colour, (x, y, x + side - 1, y + side - 1)))
    return shapes


def shapes_scene(size: Size, shapes: Sequence[Shape], background: Colour = TABLE) -> Image.Image:
    """A table-top of solid shapes with darker rims; the centre of each box has the shape's exact colour."""
    image, draw = canvas(size, background)
    draw.line((0, size[1] * 0.15, size[0], size[1] * 0.15), fill=tuple(c - 25 for c in background), width=2)
    for shape in shapes:
        fill = COLOURS[shape.colour]
        rim = tuple(c * 2 // 3 for c in fill)
        x0, y0, x1, y1 = shape.box
        if shape.kind == "circle":
            draw.ellipse(shape.box, fill=fill, outline=rim, width=2)
        elif shape.kind == "square":
            draw.rectangle(shape.box, fill=fill, outline=rim, width=2)
        else:
            draw.polygon([((x0 + x1) / 2, y0), (x0, y1), (x1, y1)], fill=fill, outline=rim, width=2)
    return image
