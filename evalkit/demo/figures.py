"""Genre drawings for the demo sets, built on :mod:`evalkit.demo.drawing`.

Street scenes with signs (TextVQA), text drawn glyph by glyph in OCR styles
(printed, curved, artistic, handwriting, math), a till receipt, science flow
diagrams (AI2D), textbook figures (MMMU, MathVista) and Chinese-culture objects
(CCBench). Randomness comes only from the ``random.Random`` passed in.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence

from PIL import Image, ImageDraw

from evalkit.demo.drawing import (
    COLOURS,
    INK,
    Colour,
    Draw,
    Font,
    Point,
    Size,
    arrow,
    canvas,
    centred_lines,
    document_page,
    fitted,
    font,
    gradient,
    label,
)

# --- scene text ------------------------------------------------------------------------------------


def _street(draw: Draw, rng: random.Random, size: Size) -> int:
    """Sky, clouds, trees and pavement; returns the horizon's y."""
    width, height = size
    horizon = int(height * 0.7)
    gradient(draw, (0, 0, width, horizon), (110, 160, 225), (205, 225, 245))
    draw.rectangle((0, horizon, width, height), fill=(120, 118, 112))
    for _ in range(3):
        x, y = rng.randint(0, width), rng.randint(10, horizon // 3)
        draw.ellipse((x - 30, y - 10, x + 30, y + 10), fill=(248, 248, 252))
    for _ in range(2):
        x = rng.randint(10, width - 10)
        draw.rectangle((x - 3, horizon - 30, x + 3, horizon), fill=(110, 75, 40))
        draw.ellipse((x - 22, horizon - 70, x + 22, horizon - 24), fill=(50, 130, 60))
    return horizon


def street_sign(
    rng: random.Random, lines: Sequence[str], size: Size, board: Colour, ink: Colour, kind: str = "board"
) -> Image.Image:
    """A photo-like street scene with a sign.

    ``kind`` is "board" (a sign on a pole), "octagon" (a stop sign) or "shop" (a shop front).
    """
    image, draw = canvas(size)
    width, height = size
    horizon = _street(draw, rng, size)
    if kind == "shop":
        draw.rectangle((width * 0.12, height * 0.12, width * 0.88, horizon), fill=(170, 95, 70))
        for x in (0.2, 0.62):
            draw.rectangle((width * x, height * 0.42, width * (x + 0.18), horizon - 20), fill=(190, 215, 235))
        draw.rectangle((width * 0.43, height * 0.45, width * 0.57, horizon), fill=(80, 50, 35))
        box: Sequence[float] = (width * 0.16, height * 0.16, width * 0.84, height * 0.36)
        draw.rectangle(box, fill=board)
    else:
        draw.rectangle((width / 2 - 4, height * 0.3, width / 2 + 4, height * 0.95), fill=(140, 140, 145))
        if kind == "octagon":
            radius = min(width, height) * 0.3
            centre = (width / 2, height * 0.36)
            draw.regular_polygon((centre, radius), 8, rotation=22.5, fill="white")
            draw.regular_polygon((centre, radius - 6), 8, rotation=22.5, fill=board)
            box = (
                centre[0] - radius * 0.8,
                centre[1] - radius * 0.5,
                centre[0] + radius * 0.8,
                centre[1] + radius * 0.5,
            )
        else:
            box = (width * 0.15, height * 0.12, width * 0.85, height * 0.12 + 34 * len(lines) + 16)
            draw.rounded_rectangle(box, radius=6, fill=board, outline="white", width=3)
    centred_lines(draw, box, lines, 40, ink)
    return image


# --- glyph-by-glyph text (OCR) ---------------------------------------------------------------------


def text_card(rng: random.Random, pieces: Sequence[tuple[str, bool]], style: str, size: Size) -> Image.Image:
    """Text in one OCR style: "printed", "curved" (irregular), "artistic" or "handwriting"."""
    if style == "handwriting":
        image = paper(size)
        glyphs(image, rng, pieces, 32, inks=[(20, 40, 120)], jitter=3, tilt=12)
        return image
    image, draw = canvas(size)
    if style == "artistic":
        gradient(draw, (0, 0, *size), (40, 20, 70), (200, 80, 120))
        glyphs(
            image, rng, pieces, 40, inks=[COLOURS[c] for c in ("yellow", "orange", "green", "blue")], stroke=2
        )
    elif style == "curved":
        draw.ellipse((10, 10, size[0] - 10, size[1] - 10), fill=(235, 240, 225))
        glyphs(image, rng, pieces, 30, inks=[(150, 30, 30)], curve=-0.25)
    else:
        glyphs(image, rng, pieces, 30)
    return image


def receipt(rng: random.Random, with_total: bool) -> tuple[Image.Image, float]:
    """A narrow till receipt of three items (with or without its TOTAL line), and the items' sum."""
    items = rng.sample([("Coffee", 3.5), ("Bagel", 2.25), ("Muffin", 2.75), ("Tea", 2.0), ("Juice", 4.25)], 3)
    total = sum(price for _, price in items)
    fields = [(name, f"${price:.2f}") for name, price in items]
    if with_total:
        fields.append(("TOTAL", f"${total:.2f}"))
    page = document_page("CORNER CAFE", fields, ["Thank you! Please come again."], (240, 360), (90, 60, 40))
    return page, total


def paper(size: Size) -> Image.Image:
    """Ruled notebook paper."""
    image, draw = canvas(size, (250, 250, 244))
    for y in range(18, size[1], 22):
        draw.line((0, y, size[0], y), fill=(190, 205, 230))
    draw.line((30, 0, 30, size[1]), fill=(230, 160, 160))
    return image


def glyphs(
    image: Image.Image,
    rng: random.Random,
    pieces: Sequence[tuple[str, bool]],
    size: int,
    inks: Sequence[Colour] = (INK,),
    jitter: float = 0.0,
    tilt: float = 0.0,
    curve: float = 0.0,
    stroke: int = 0,
) -> None:
    """Draw text one glyph at a time, centred on ``image``.

    ``pieces`` are (text, superscript) runs. ``jitter`` (px) and ``tilt`` (degrees)
    make handwriting; ``curve`` bends the baseline into a parabola whose ends
    move by ``curve`` times the height (negative: ends up);
    ``inks`` cycle per glyph; ``stroke`` outlines glyphs (artistic text).
    """
    chars = [(ch, sup) for text, sup in pieces for ch in text]
    fonts = [font(int(size * 0.6)) if sup else font(size) for _, sup in chars]
    advances = [fnt.getlength(ch) + 2 + stroke for (ch, _), fnt in zip(chars, fonts, strict=True)]
    width, height = image.size
    half = sum(advances) / 2
    x = width / 2 - half
    for i, ((ch, sup), fnt, advance) in enumerate(zip(chars, fonts, advances, strict=True)):
        t = (x + advance / 2 - width / 2) / half
        y = height / 2 + curve * height * t * t - (size * 0.4 if sup else 0) + rng.uniform(-jitter, jitter)
        angle = rng.uniform(-tilt, tilt) - math.degrees(math.atan(2 * curve * height * t / half))
        if not ch.isspace():
            _paste_glyph(image, ch, fnt, (x + advance / 2, y), angle, inks[i % len(inks)], stroke)
        x += advance


def _paste_glyph(
    image: Image.Image, ch: str, fnt: Font, centre: Point, angle: float, ink: Colour, stroke: int
) -> None:
    side = int(fnt.getlength("W") * 2) + 4 * stroke + 8
    glyph = Image.new("RGBA", (side, side), (0, 0, 0, 0))
    ImageDraw.Draw(glyph).text(
        (side / 2, side / 2),
        ch,
        font=fnt,
        fill=(*ink, 255),
        anchor="mm",
        stroke_width=stroke,
        stroke_fill=(255, 255, 255, 255),
    )
    turned = glyph.rotate(angle, resample=Image.Resampling.BICUBIC)
    image.paste(turned, (round(centre[0] - side / 2), round(centre[1] - side / 2)), turned)


# --- diagrams and figures --------------------------------------------------------------------------


def flow_diagram(title: str, labels: Sequence[str], size: Size, cycle: bool) -> Image.Image:
    """Labelled boxes joined by arrows: a left-to-right chain, or a clockwise cycle."""
    image, draw = canvas(size, (250, 252, 255))
    width, height = size
    draw.text((width / 2, 8), title, font=fitted(title, width - 20, 16), fill=INK, anchor="mt")
    n, half = len(labels), (min(52, width / (2.6 * len(labels)) if not cycle else 52), 16)
    if cycle:
        radius = min(width, height - 30) * 0.34
        centres = [
            (
                width / 2 + radius * math.sin(2 * math.pi * i / n),
                height / 2 + 12 - radius * math.cos(2 * math.pi * i / n),
            )
            for i in range(n)
        ]
    else:
        centres = [(width * (i + 0.5) / n, height / 2 + 10) for i in range(n)]
    for i in range(n if cycle else n - 1):
        a, b = centres[i], centres[(i + 1) % n]
        length = math.dist(a, b)
        ux, uy = (b[0] - a[0]) / length, (b[1] - a[1]) / length
        t = min(half[0] / abs(ux) if ux else math.inf, half[1] / abs(uy) if uy else math.inf) + 3
        arrow(draw, (a[0] + ux * t, a[1] + uy * t), (b[0] - ux * t, b[1] - uy * t))
    for (x, y), name in zip(centres, labels, strict=True):
        draw.rounded_rectangle(
            (x - half[0], y - half[1], x + half[0], y + half[1]), 6, fill=(215, 235, 215), outline=INK
        )
        draw.text((x, y), name, font=fitted(name, half[0] * 2 - 6, 13), fill=INK, anchor="mm")
    return image


def figure(points: Sequence[Point], labels: Sequence[tuple[Point, str]], size: Size) -> Image.Image:
    """A textbook polygon (outline) with text labels at given positions."""
    image, draw = canvas(size)
    draw.polygon(list(points), outline=INK, width=2)
    for (x, y), text in labels:
        draw.text((x, y), text, font=font(14), fill=(20, 20, 140), anchor="mm")
    return image


def beaker(volume: int, capacity: int, size: Size = (200, 260)) -> Image.Image:
    """A beaker with a printed scale and liquid up to ``volume`` mL."""
    image, draw = canvas(size, (248, 248, 248))
    x0, y0, x1, y1 = 50, 40, 150, 230
    level = y1 - (y1 - y0) * volume / capacity
    draw.rectangle((x0, level, x1, y1), fill=(120, 180, 230))
    draw.line([(x0, y0), (x0, y1), (x1, y1), (x1, y0)], fill=INK, width=3)
    for i in range(5):
        y = y1 - (y1 - y0) * i / 4
        draw.line((x1 - 14, y, x1, y), fill=INK)
        draw.text((x1 + 4, y), label(capacity * i / 4), font=font(10), fill=INK, anchor="lm")
    draw.text((size[0] / 2, 16), f"{volume} mL", font=font(16), fill=INK, anchor="mm")
    return image


def landscape(rng: random.Random, sun_left: bool, size: Size = (360, 260)) -> Image.Image:
    """A framed painting: sky, sun, hills and a lake."""
    image, draw = canvas(size, (180, 140, 60))
    width, height = size
    gradient(draw, (10, 10, width - 10, height * 2 // 3), (250, 190, 120), (250, 230, 190))
    sun_x = width * (0.22 if sun_left else 0.78)
    draw.ellipse((sun_x - 22, 30, sun_x + 22, 74), fill=(245, 120, 40))
    for i in range(3):
        x = rng.uniform(0.1, 0.9) * width
        draw.polygon(
            [(x - 110, height * 0.68), (x, height * rng.uniform(0.3, 0.45)), (x + 110, height * 0.68)],
            fill=(70 + 25 * i, 110 + 15 * i, 80),
        )
    draw.rectangle((10, height * 2 // 3, width - 10, height - 10), fill=(60, 110, 160))
    return image


# --- Chinese-culture objects (CCBench) -------------------------------------------------------------


def seal(rng: random.Random, size: Size = (240, 240)) -> Image.Image:
    """A red seal stamp impression on rice paper: a bordered square of blocky white strokes."""
    image, draw = canvas(size, (244, 236, 214))
    x0, y0, x1, y1 = 40, 40, size[0] - 40, size[1] - 40
    draw.rectangle((x0, y0, x1, y1), fill=(190, 30, 30))
    draw.rectangle((x0 + 8, y0 + 8, x1 - 8, y1 - 8), outline=(244, 236, 214), width=4)
    for _ in range(9):
        vertical = rng.random() < 0.5
        x, y = rng.randint(x0 + 22, x1 - 50), rng.randint(y0 + 22, y1 - 50)
        draw.rectangle((x, y, x + 7, y + 40) if vertical else (x, y, x + 40, y + 7), fill=(244, 236, 214))
    return image


def lantern(size: Size = (240, 320)) -> Image.Image:
    """A red palace lantern with gold caps, ribs and a tassel against a night sky."""
    image, draw = canvas(size, (20, 24, 60))
    cx, top, bottom = size[0] / 2, 70, 240
    draw.line((cx, 0, cx, top), fill=(200, 170, 60), width=3)
    draw.ellipse((cx - 80, top, cx + 80, bottom), fill=(220, 30, 30))
    for dx in (-50, -25, 0, 25, 50):
        draw.arc(
            (cx - abs(dx) - 4, top, cx + abs(dx) + 4, bottom),
            90 if dx < 0 else 270,
            270 if dx < 0 else 90,
            fill=(150, 20, 20),
            width=2,
        )
    draw.rectangle((cx - 40, top - 10, cx + 40, top + 8), fill=(230, 180, 40))
    draw.rectangle((cx - 40, bottom - 8, cx + 40, bottom + 10), fill=(230, 180, 40))
    for dx in range(-12, 13, 4):
        draw.line((cx + dx, bottom + 10, cx + dx, bottom + 60), fill=(240, 60, 40), width=2)
    return image


def pagoda(tiers: int, size: Size = (280, 360)) -> Image.Image:
    """A pagoda of ``tiers`` stacked storeys, each with an upturned roof."""
    image, draw = canvas(size)
    width, height = size
    gradient(draw, (0, 0, width, height - 40), (150, 200, 240), (225, 240, 250))
    draw.rectangle((0, height - 40, width, height), fill=(110, 160, 90))
    storey = (height - 90) / tiers
    for i in range(tiers):
        half = 70 - 40 * i / tiers
        base = height - 40 - storey * i
        draw.rectangle(
            (width / 2 - half * 0.7, base - storey * 0.6, width / 2 + half * 0.7, base), fill=(190, 60, 40)
        )
        roof = base - storey * 0.6
        draw.polygon(
            [
                (width / 2 - half - 16, roof + 4),
                (width / 2 - half * 0.6, roof - storey * 0.4),
                (width / 2 + half * 0.6, roof - storey * 0.4),
                (width / 2 + half + 16, roof + 4),
            ],
            fill=(50, 60, 70),
        )
    draw.line((width / 2, 30, width / 2, 50), fill=(200, 160, 40), width=4)
    return image


def folding_fan(size: Size = (360, 240)) -> Image.Image:
    """An open folding fan with painted ribs and a plum branch."""
    image, draw = canvas(size, (246, 240, 228))
    pivot = (size[0] / 2, size[1] - 20)
    outer = (pivot[0] - 170, pivot[1] - 170, pivot[0] + 170, pivot[1] + 170)
    for i, start in enumerate(range(200, 340, 10)):
        draw.pieslice(outer, start, start + 10, fill=(236, 214, 170) if i % 2 else (226, 200, 150))
    draw.pieslice(
        (pivot[0] - 60, pivot[1] - 60, pivot[0] + 60, pivot[1] + 60), 195, 345, fill=(246, 240, 228)
    )
    for angle in range(200, 345, 10):
        rad = math.radians(angle)
        draw.line(
            (pivot, (pivot[0] + 170 * math.cos(rad), pivot[1] + 170 * math.sin(rad))), fill=(120, 80, 40)
        )
    draw.line(((pivot[0] - 90, pivot[1] - 110), (pivot[0] + 40, pivot[1] - 140)), fill=(60, 40, 30), width=3)
    for x in (-60, -20, 20):
        draw.ellipse(
            (pivot[0] + x - 6, pivot[1] - 130 - x / 4, pivot[0] + x + 6, pivot[1] - 118 - x / 4),
            fill=(220, 60, 90),
        )
    return image
