"""Demo sets answered by looking: MME, HallusionBench (yes/no), RefCOCO (boxes), MMVet, ConvBench (open).

Questions are written from the drawn objects themselves (their colours, counts,
boxes and relative positions), so every answer holds for the image.
"""

from __future__ import annotations

import random

from evalkit.demo import drawing as art
from evalkit.demo import figures as fig
from evalkit.demo.common import (
    CN_NAMES,
    WORDS,
    Row,
    Text,
    cn_name,
    distinct_shapes,
    pick,
    quadrant,
    relation,
    seeded,
)
from evalkit.demo.reading import documents
from evalkit.prompts.layouts import GROUNDING

YES_NO = " Please answer yes or no."
GROUNDING_SPLITS = (
    "RefCOCO val",
    "RefCOCO testA",
    "RefCOCO testB",
    "RefCOCO+ val",
    "RefCOCO+ testA",
    "RefCOCO+ testB",
    "RefCOCOg val",
    "RefCOCOg test",
)
GROUNDING_SIZES = ((480, 320), (320, 400), (400, 400), (560, 320))
Referral = tuple[list[art.Shape], art.Shape, Text]


def mme_rows(*, language: str = "en") -> list[Row]:
    """MME: four images, each with one Yes and one No question; the second row refers to the first's image."""
    rng = seeded("mme")
    rows: list[Row] = []
    for number, (category, image, yes, no) in enumerate(_mme_pairs(rng)):
        path = f"{category}/{rng.randint(1, 999_999):09d}.jpg"
        pair = [(yes, "Yes"), (no, "No")] if number % 2 == 0 else [(no, "No"), (yes, "Yes")]
        for k, (question, answer) in enumerate(pair):
            index = 2 * number + k
            rows.append(
                {
                    "index": index,
                    "image": str(index - 1) if k else image,
                    "question": pick(language, question) + YES_NO,
                    "answer": answer,
                    "category": category,
                    "image_path": path,
                }
            )
    return rows


def _mme_pairs(rng: random.Random) -> list[tuple[str, str, Text, Text]]:
    """(subtask, image cell, yes question, no question) for existence, count, color, numerical_calculation."""
    present = art.place_shapes(rng, (480, 320), distinct_shapes(rng, 4))
    drawn = {(shape.kind, shape.colour) for shape in present}
    absent = art.Shape(*next(spec for spec in distinct_shapes(rng, 18) if spec not in drawn), (0, 0, 0, 0))
    circles = rng.randint(2, 4)
    counted = art.place_shapes(
        rng,
        (400, 400),
        [*(("circle", c) for c in rng.sample(list(art.COLOURS), circles)), ("square", "blue")],
    )
    square, circle = art.place_shapes(
        rng, (320, 420), [*distinct_shapes(rng, 1, ["square"]), ("circle", "red")]
    )
    other = next(colour for colour in art.COLOURS if colour != square.colour)
    a, b = rng.randint(10, 49), rng.randint(10, 49)
    images = [
        art.shapes_scene((480, 320), present),
        art.shapes_scene((400, 400), counted),
        art.shapes_scene((320, 420), [square, circle]),
        fig.text_card(rng, [(f"{a} + {b} = ?", False)], "handwriting", (360, 160)),
    ]
    cells = [art.encode(image, "JPEG") for image in images]
    shown, wrong = present[0], a + b + 10
    return [
        (
            "existence",
            cells[0],
            (f"Is there {shown.a_name} in this image?", f"图中有{cn_name(shown)}吗？"),
            (f"Is there {absent.a_name} in this image?", f"图中有{cn_name(absent)}吗？"),
        ),
        (
            "count",
            cells[1],
            (f"Are there {circles} circles in this image?", f"图中有{circles}个圆形吗？"),
            (f"Are there {circles + 1} circles in this image?", f"图中有{circles + 1}个圆形吗？"),
        ),
        (
            "color",
            cells[2],
            (
                f"Is the square in this image {square.colour}?",
                f"图中的正方形是{CN_NAMES[square.colour]}的吗？",
            ),
            (f"Is the square in this image {other}?", f"图中的正方形是{CN_NAMES[other]}的吗？"),
        ),
        (
            "numerical_calculation",
            cells[3],
            (
                f"Is the answer to the arithmetic question in the image {a + b}?",
                f"图中算术题的答案是{a + b}吗？",
            ),
            (
                f"Is the answer to the arithmetic question in the image {wrong}?",
                f"图中算术题的答案是{wrong}吗？",
            ),
        ),
    ]


def hallusion_rows(*, language: str = "en") -> list[Row]:
    """HallusionBench: a VD set of two figures (original, edited) x two questions, and a VS chart set."""
    rng = seeded("hallusion")
    size = (440, 330)
    shapes = art.place_shapes(rng, size, distinct_shapes(rng, 4))
    original, edited = (art.encode(art.shapes_scene(size, kept)) for kept in (shapes, shapes[1:]))
    months, rain = ["Jan", "Feb", "Mar", "Apr", "May"], rng.sample(range(20, 120), 5)
    chart = art.encode(art.bar_chart("Average rainfall (mm)", months, rain, (480, 320), ("Month", "mm")))
    high, low = sorted(rng.sample(range(5), 2), key=lambda i: -rain[i])
    exists = (f"Is there {shapes[0].a_name} in the image?", f"图中有{cn_name(shapes[0])}吗？")
    count = ("Are there 4 shapes in the image?", "图中有4个形状吗？")
    compare = (
        f"According to the chart, is the rainfall in {months[high]} higher than in {months[low]}?",
        f"根据图表，{months[high]}的降雨量比{months[low]}高吗？",
    )
    over = (
        f"Is the rainfall in {months[low]} more than {rain[low] + 5} mm?",
        f"{months[low]}的降雨量超过{rain[low] + 5}毫米吗？",
    )
    items = [
        ("VD_figure", 0, 0, 0, original, exists, "Yes"),
        ("VD_figure", 0, 0, 1, original, count, "Yes"),
        ("VD_figure", 0, 1, 0, edited, exists, "No"),
        ("VD_figure", 0, 1, 1, edited, count, "No"),
        ("VS_chart", 1, 0, 0, chart, compare, "Yes"),
        ("VS_chart", 1, 0, 1, chart, over, "No"),
    ]
    return [
        {
            "index": f"{l2}_0_{set_id}_{figure_id}_{question_id}",
            "image": image,
            "question": pick(language, question),
            "answer": answer,
            "category": l2.split("_")[0],
            "l2-category": l2,
        }
        for l2, set_id, figure_id, question_id, image, question, answer in items
    ]


def _by_location(rng: random.Random, size: tuple[int, int]) -> Referral:
    """RefCOCO: two look-alike shapes told apart by a location word."""
    twin, *others = distinct_shapes(rng, 4)
    shapes = art.place_shapes(rng, size, [twin, twin, *others])
    target, other = rng.sample(shapes[:2], 2)
    words = {
        "to the left of": ("on the left", "左边"),
        "to the right of": ("on the right", "右边"),
        "above": ("at the top", "上面"),
        "below": ("at the bottom", "下面"),
    }
    where = words[relation(target, other)[0]]
    return shapes, target, (f"the {target.name} {where[0]}", f"{where[1]}的{cn_name(target)}")


def _by_appearance(rng: random.Random, size: tuple[int, int]) -> Referral:
    """RefCOCO+: appearance words only."""
    shapes = art.place_shapes(rng, size, distinct_shapes(rng, 5))
    return shapes, shapes[0], (f"the {shapes[0].name}", cn_name(shapes[0]))


def _by_relation(rng: random.Random, size: tuple[int, int]) -> Referral:
    """RefCOCOg: a longer expression relating the target to its nearest neighbour."""
    shapes = art.place_shapes(rng, size, distinct_shapes(rng, 5))
    target = shapes[0]
    tx, ty = target.centre
    anchor = min(shapes[1:], key=lambda s: (s.centre[0] - tx) ** 2 + (s.centre[1] - ty) ** 2)
    where = relation(target, anchor)
    expression = (
        f"{target.a_name} sitting {where[0]} the {anchor.name}",
        f"位于{cn_name(anchor)}{where[1]}的{cn_name(target)}",
    )
    return shapes, target, expression


def grounding_rows(*, language: str = "en") -> list[Row]:
    """RefCOCO, RefCOCO+, RefCOCOg: one referring expression per split; the answer is the pixel box."""
    rng = seeded("grounding")
    referrers = {"RefCOCO": _by_location, "RefCOCO+": _by_appearance, "RefCOCOg": _by_relation}
    rows: list[Row] = []
    for i, split in enumerate(GROUNDING_SPLITS):
        size = GROUNDING_SIZES[i % len(GROUNDING_SIZES)]
        shapes, target, expression = referrers[split.split()[0]](rng, size)
        rows.append(
            {
                "index": i,
                "image": art.encode(art.shapes_scene(size, shapes)),
                "question": f"{GROUNDING} <ref>{pick(language, expression)}</ref>",  # as in VLMEvalKit's TSV
                "answer": str(list(target.box)),
                "width": size[0],
                "height": size[1],
                "category": split,
            }
        )
    return rows


def open_rows(*, language: str = "en") -> list[Row]:
    """MMVet: free-text answers, with <AND> and <OR> references and comma-joined capabilities."""
    rng = seeded("open")
    receipt, total = fig.receipt(rng, with_total=False)
    colours = rng.sample(["red", "blue", "green"], 2)
    specs = [*(("circle", colour) for colour in colours), ("square", "yellow"), ("triangle", "purple")]
    shapes = art.place_shapes(rng, (480, 320), specs)
    corner = next(shape for shape in shapes if quadrant(shape, (480, 320)) == 1)  # one shape per quarter
    word = rng.choice(WORDS)
    years, values = [str(y) for y in range(2019, 2024)], sorted(rng.sample(range(20, 95), 5))
    sign = fig.street_sign(rng, [word], (400, 300), (140, 30, 40), (255, 255, 255))
    series = [("Bicycles", values, "orange")]
    trend = art.line_chart("Bicycles sold (thousands)", years, series, (520, 300), ("Year", "Thousands"))
    scene = art.encode(art.shapes_scene((480, 320), shapes), "JPEG")
    summary = (
        f"Bicycle sales rose every year, from {values[0]} thousand in 2019 to {values[-1]} thousand in 2023."
    )
    items: list[tuple[str, Text, str, str]] = [
        (
            art.encode(receipt),
            ("How much do the items on the receipt cost in total?", "收据上的商品一共多少钱？"),
            f"${total:.2f}<OR>{total:.2f}",
            "ocr,math",
        ),
        (
            scene,
            ("What colours are the circles in the image?", "图中的圆形是什么颜色？"),
            "<AND>".join(colours),
            "rec",
        ),
        (art.encode(sign, "JPEG"), ("What is written on the sign?", "标志上写着什么？"), word, "ocr"),
        (
            scene,
            ("Which shape is in the top right corner of the image?", "图片右上角是哪个形状？"),
            f"the {corner.name}",
            "rec,spat",
        ),
        (
            art.encode(trend),
            ("Describe the trend shown in the chart in one sentence.", "用一句话描述图表显示的趋势。"),
            summary,
            "ocr,gen",
        ),
    ]
    return [
        {
            "index": i,
            "image": image,
            "question": pick(language, question),
            "answer": answer,
            "category": category,
        }
        for i, (image, question, answer, category) in enumerate(items)
    ]


CONVERSATION_TURNS: tuple[tuple[Text, Text, Text], ...] = (
    (
        ("Read the chart: how many boxes were sold in each month?", "读图：每个月卖出了多少箱？"),
        (
            "Which month saw the biggest change from the month before, and what might explain it?",
            "哪个月与上个月相比变化最大？可能的原因是什么？",
        ),
        (
            "Using those figures, write a short, upbeat social-media post about the summer sales.",
            "根据这些数据，写一条简短而积极的社交媒体帖子，介绍夏季销量。",
        ),
    ),
    (
        ("What kind of shop is shown, and what does its sign say?", "图中是什么店？招牌上写着什么？"),
        (
            "From the sign and the building, how long has the shop been open, and what might it sell?",
            "根据招牌和建筑，这家店大概开了多久？可能卖什么？",
        ),
        ("Write a four-line poem inviting passers-by into this shop.", "写一首四行诗，邀请路人走进这家店。"),
    ),
    (
        ("List every shape in the image with its colour.", "列出图中每个形状及其颜色。"),
        (
            "If you group the shapes into warm and cool colours, how many are in each group?",
            "如果把这些形状按暖色和冷色分组，每组各有几个？",
        ),
        (
            "Write a short children's story in which these shapes are the characters.",
            "写一个以这些形状为角色的简短儿童故事。",
        ),
    ),
    (
        ("What is this document, and who sent it?", "这是什么文件？是谁发出的？"),
        ("What should the recipients do before the meeting?", "收件人在会议前应该做什么？"),
        (
            "Draft a polite reply to the sender confirming that you will attend.",
            "起草一封礼貌的回信，确认你会出席。",
        ),
    ),
)


def conversation_rows(*, language: str = "en") -> list[Row]:
    """ConvBench: four three-turn conversations (perception, reasoning, creation) over four images."""
    rng = seeded("conversation")
    months, sales = ["Apr", "May", "Jun", "Jul", "Aug"], rng.sample(range(10, 90), 5)
    chart = art.line_chart(
        "Ice cream sales (boxes)", months, [("Sales", sales, "red")], (480, 300), ("Month", "Boxes")
    )
    shop = fig.street_sign(rng, ["TEA HOUSE", "EST. 1998"], (480, 360), (40, 90, 60), (250, 240, 200), "shop")
    scene = art.shapes_scene((400, 400), art.place_shapes(rng, (400, 400), distinct_shapes(rng, 5)))
    memo = documents(rng)[2][0]
    images = [art.encode(chart), art.encode(shop, "JPEG"), art.encode(scene, "JPEG"), memo]
    return [
        {
            "ID": i,
            "image": image,
            "The_first_turn_instruction": pick(language, first),
            "The_second_turn_instruction": pick(language, second),
            "The_third_turn_instruction": pick(language, third),
        }
        for i, (image, (first, second, third)) in enumerate(zip(images, CONVERSATION_TURNS, strict=True))
    ]
