"""Exam and maths demo sets over figures: MMMU (dev + validation) and MathVista (testmini).

The figures are textbook-like (a labelled right triangle, a landscape painting,
two beakers, a supply-and-demand chart, a bar chart): every answer follows from
the values printed in them.
"""

from __future__ import annotations

import string
from collections.abc import Sequence

from evalkit.demo import drawing as art
from evalkit.demo import figures as fig
from evalkit.demo.common import Row, Text, pick, same, seeded, shuffled


def _right_triangle(legs: tuple[int, int], labels: tuple[str, str, str]) -> str:
    """A right triangle (right angle bottom-left) scaled to fit; labels: left leg, bottom leg, hypotenuse."""
    scale = min(220 / legs[1], 190 / legs[0])
    left, bottom = 50.0, 230.0
    top, right = bottom - legs[0] * scale, left + legs[1] * scale
    marks = [
        ((28.0, (top + bottom) / 2), labels[0]),
        (((left + right) / 2, 246.0), labels[1]),
        (((left + right) / 2 + 16, (top + bottom) / 2 - 12), labels[2]),
    ]
    return art.encode(fig.figure([(left, top), (left, bottom), (right, bottom)], marks, (320, 260)))


def mmmu_rows(*, language: str = "en") -> list[Row]:
    """MMMU: three multiple-choice questions (one with two images) and two open ones, dev and validation."""
    rng = seeded("mmmu")
    a, b, k = 2 * rng.randint(2, 5), rng.randint(3, 9), rng.randint(1, 3)
    sun_left, volumes, price = rng.random() < 0.5, rng.sample(range(60, 200, 20), 2), rng.choice([30, 40, 50])
    market = [
        ("Demand", [price + 10 * (2 - i) for i in range(5)], "blue"),
        ("Supply", [price - 10 * (2 - i) for i in range(5)], "red"),
    ]
    chart = art.line_chart(
        "Market for apples", ["0", "10", "20", "30", "40"], market, (480, 320), ("Quantity", "Price ($)")
    )
    areas = same([f"{a * b // 2} cm²", f"{a * b} cm²", f"{a + b} cm²", f"{2 * (a + b)} cm²"])
    sun = [
        ("Upper left", "左上方"),
        ("Upper right", "右上方"),
        ("Lower left", "左下方"),
        ("Lower right", "右下方"),
    ]
    more = [
        ("The beaker in <image 1>", "<image 1>中的烧杯"),
        ("The beaker in <image 2>", "<image 2>中的烧杯"),
        ("They hold the same volume", "两者体积相同"),
    ]
    items: list[tuple[str, Text, Sequence[Text], str, str, str]] = [
        (
            _right_triangle((a, b), (f"{a} cm", f"{b} cm", "")),
            ("<image 1> What is the area of the right triangle?", "<image 1> 这个直角三角形的面积是多少？"),
            areas,
            "A",
            "dev",
            "Math",
        ),
        (
            art.encode(fig.landscape(rng, sun_left), "JPEG"),
            ("<image 1> Where has the painter placed the sun?", "<image 1> 画家把太阳画在了什么位置？"),
            sun,
            "A" if sun_left else "B",
            "validation",
            "Art",
        ),
        (
            str([art.encode(fig.beaker(volume, 200)) for volume in volumes]),
            (
                "<image 1> and <image 2> show two beakers. Which one holds more liquid?",
                "<image 1>和<image 2>展示了两个烧杯。哪个装的液体更多？",
            ),
            more,
            "A" if volumes[0] > volumes[1] else "B",
            "validation",
            "Chemistry",
        ),
        (
            art.encode(chart),
            (
                "<image 1> At what price does this market reach equilibrium?",
                "<image 1> 这个市场在什么价格达到均衡？",
            ),
            [],
            str(price),
            "validation",
            "Economics",
        ),
        (
            _right_triangle((3 * k, 4 * k), (f"{3 * k} cm", f"{4 * k} cm", "x")),
            ("<image 1> What is the length x of the hypotenuse, in cm?", "<image 1> 斜边长 x 是多少厘米？"),
            [],
            str(5 * k),
            "dev",
            "Math",
        ),
    ]
    return [
        {
            "index": i,
            "image": image,
            "question": pick(language, question),
            **{
                letter: pick(language, options[j]) if j < len(options) else ""
                for j, letter in enumerate("ABCD")
            },
            "answer": answer,
            "split": split,
            "category": subject,
        }
        for i, (image, question, options, answer, split, subject) in enumerate(items)
    ]


MATHVISTA_HINTS = {
    "text": "Please answer the question and provide the correct option letter, e.g., A, B, C, D, at the end.",
    "integer": "Please answer the question requiring an integer answer and provide the final value, "
    "e.g., 1, 2, 3, at the end.",
    "float": "Please answer the question requiring a floating-point number with one decimal place and "
    "provide the final value, e.g., 1.2, 1.3, 1.4, at the end.",
}


def mathvista_query(answer_type: str, question: str, choices: Sequence[str]) -> str:
    """MathVista's official query: the hint for the answer type, the question, and lettered choices."""
    query = f"Hint: {MATHVISTA_HINTS[answer_type]}\nQuestion: {question}"
    if choices:
        lines = [
            f"({letter}) {choice}" for letter, choice in zip(string.ascii_uppercase, choices, strict=False)
        ]
        query += "\nChoices:\n" + "\n".join(lines)
    return query


def mathvista_rows(*, language: str = "en") -> list[Row]:
    """MathVista: a geometry choice, an integer and a float from a bar chart, two line-chart choices."""
    rng = seeded("mathvista")
    a, b = rng.choice([40, 50, 60, 70]), rng.choice([35, 45, 55])
    x = 180 - a - b
    marks = [((85.0, 205.0), f"{a}°"), ((270.0, 205.0), f"{b}°"), ((150.0, 80.0), "x")]
    triangle = art.encode(fig.figure([(60.0, 220.0), (300.0, 220.0), (150.0, 50.0)], marks, (360, 260)))
    teams, scores = ["Red", "Blue", "Green", "Gold", "Grey"], rng.sample(range(10, 40), 5)
    bars = art.encode(art.bar_chart("Points scored", teams, scores, (460, 320), ("Team", "Points"), "purple"))
    years, sales = ["2019", "2020", "2021", "2022"], rng.sample(range(15, 80), 4)
    series = [("Tickets", sales, "blue")]
    line = art.encode(
        art.line_chart("Tickets sold (thousands)", years, series, (420, 300), ("Year", "Thousands"))
    )
    angles, _ = shuffled(rng, str(x), [str(x + 10), str(x - 10), str(x + 20)])
    changes = [
        ("They increased", "增加了"),
        ("They decreased", "减少了"),
        ("They stayed the same", "保持不变"),
    ]
    trends = [pick(language, change) for change in changes]
    both = (
        f"What is the total number of points scored by {teams[0]} and {teams[1]}?",
        f"{teams[0]}队和{teams[1]}队一共得了多少分？",
    )
    items: list[tuple[str, Text, str, str, list[str], str, str, list[str]]] = [
        (
            triangle,
            ("As shown in the figure, what is the value of x (in degrees)?", "如图所示，x 的值是多少度？"),
            str(x),
            "text",
            angles,
            "",
            "geometry problem solving",
            ["geometry reasoning", "algebraic reasoning"],
        ),
        (
            bars,
            both,
            str(scores[0] + scores[1]),
            "integer",
            [],
            "",
            "figure question answering",
            ["arithmetic reasoning", "statistical reasoning"],
        ),
        (
            bars,
            ("What is the average number of points per team?", "平均每队得了多少分？"),
            f"{sum(scores) / 5:.1f}",
            "float",
            [],
            "1.0",
            "figure question answering",
            ["statistical reasoning"],
        ),
        (
            line,
            ("In which year were the most tickets sold?", "哪一年卖出的票最多？"),
            years[sales.index(max(sales))],
            "text",
            list(years),
            "",
            "figure question answering",
            ["statistical reasoning"],
        ),
        (
            line,
            (
                f"How did ticket sales change from {years[2]} to {years[3]}?",
                f"从{years[2]}年到{years[3]}年，票的销量如何变化？",
            ),
            trends[0 if sales[3] > sales[2] else 1],
            "text",
            trends,
            "",
            "figure question answering",
            ["statistical reasoning"],
        ),
    ]
    return [
        {
            "index": i,
            "image": image,
            "question": mathvista_query(kind, pick(language, question), choices),
            "answer": answer,
            "question_type": "multi_choice" if choices else "free_form",
            "answer_type": kind,
            "choices": str(choices) if choices else "",
            "precision": precision,
            "task": task,
            "skills": str(skills),
        }
        for i, (image, question, answer, kind, choices, precision, task, skills) in enumerate(items)
    ]
