"""Demo sets for reading text in images: DocVQA, InfoVQA, ChartQA, TextVQA, OCRBench.

Every answer is a value the drawing prints (an invoice number, a chart value,
the word on a sign), chosen by the seeded generator before the image is drawn.
"""

from __future__ import annotations

import random
import string

from evalkit.demo import drawing as art
from evalkit.demo import figures as fig
from evalkit.demo.common import (
    PEOPLE,
    WORDS,
    Item,
    Row,
    Text,
    listed,
    pick,
    question_rows,
    seeded,
)
from evalkit.errors import CatalogError

TERMS = (
    "Thank you for your order. Payment is due within 30 days of the invoice date. Please quote the invoice "
    "number on all correspondence and make cheques payable to Acme Supply Co."
)


def document_rows(*, language: str = "en", genre: str = "document") -> list[Row]:
    """DocVQA (``genre="document"``: an invoice and a memo) or InfoVQA (``"infographic"``)."""
    makers = {"document": documents, "infographic": infographics}
    if genre not in makers:
        raise CatalogError(
            f"demo family 'document': unknown genre {genre!r} (expected 'document' or 'infographic')"
        )
    return question_rows(makers[genre](seeded(f"document/{genre}")), language)


def documents(rng: random.Random) -> list[Item]:
    """A portrait invoice and a landscape memo, two questions each."""
    number, total, room = rng.randint(10000, 99999), rng.randint(20000, 250000) / 100, rng.randint(101, 450)
    customer, sender = rng.sample(PEOPLE, 2)
    amount = f"${total:,.2f}"
    fields = [
        ("Invoice No", str(number)),
        ("Date", "2023-03-14"),
        ("Customer", customer),
        ("Total Due", amount),
    ]
    page = art.document_page("ACME SUPPLY CO. - INVOICE", fields, [TERMS], (360, 480), (40, 70, 120))
    invoice = art.encode(page)
    memo_fields = [
        ("To", "All department heads"),
        ("From", sender),
        ("Date", "May 2, 2023"),
        ("Subject", "Review"),
    ]
    body = [
        f"The quarterly review meeting will be held in Room {room} on Friday at 10 am.",
        "Please bring your department figures for the first quarter and a short list of priorities.",
    ]
    memo = art.encode(art.document_page("MEMORANDUM", memo_fields, body, (480, 340), (120, 40, 50)))
    return [
        (invoice, ("What is the invoice number?", "发票号码是多少？"), [str(number)]),
        (
            invoice,
            ("What is the total amount due?", "应付总额是多少？"),
            list(dict.fromkeys([amount, amount[1:], f"{total:.2f}"])),
        ),
        (memo, ("Who is the memo from?", "这份备忘录是谁发出的？"), [sender]),
        (
            memo,
            ("In which room will the meeting be held?", "会议将在哪个房间举行？"),
            [f"Room {room}", str(room)],
        ),
    ]


def infographics(rng: random.Random) -> list[Item]:
    """A tall three-figure water report and a wide two-figure banner."""
    share, litres, reservoirs = rng.randint(40, 90), rng.randint(90, 180), rng.randint(2, 9)
    before, after = rng.randint(20, 35), rng.randint(40, 60)
    stats = [
        (f"{share}%", "of homes have a water meter"),
        (f"{litres} L", "used per person each day"),
        (str(reservoirs), "new reservoirs opened this year"),
    ]
    water = art.encode(art.infographic("CITY WATER REPORT 2023", stats, (320, 560)))
    rates = [(f"{before}%", "in 2013"), (f"{after}%", "in 2023")]
    banner = art.encode(art.infographic("RECYCLING RATE", rates, (600, 220)))
    return [
        (
            water,
            ("What percentage of homes have a water meter?", "有水表的家庭占多大比例？"),
            [f"{share}%", str(share)],
        ),
        (
            water,
            ("How many litres does each person use per day?", "每人每天用多少升水？"),
            [str(litres), f"{litres} L"],
        ),
        (
            water,
            ("How many new reservoirs were opened this year?", "今年新开了多少座水库？"),
            [str(reservoirs)],
        ),
        (
            banner,
            ("What was the recycling rate in 2023?", "2023年的回收率是多少？"),
            [f"{after}%", str(after)],
        ),
    ]


def chart_rows(*, language: str = "en") -> list[Row]:
    """ChartQA: a bar chart and a line chart, three questions each, alternating human/augmented splits."""
    rng = seeded("chart")
    fruits = rng.sample(["Apples", "Pears", "Plums", "Grapes", "Lemons", "Kiwis"], 5)
    sales, visits = rng.sample(range(12, 60), 5), rng.sample(range(20, 90), 6)
    years = [str(year) for year in range(2018, 2024)]
    bar = art.encode(art.bar_chart("Fruit sales in May", fruits, sales, (440, 340), ("Fruit", "Tonnes")))
    series = [("Visitors", visits, "green")]
    line = art.encode(art.line_chart("Museum visitors", years, series, (560, 300), ("Year", "Thousands")))
    a, b = rng.sample(range(5), 2)
    items: list[tuple[str, Text, str]] = [
        (
            bar,
            (f"How many tonnes of {fruits[0]} were sold?", f"{fruits[0]}卖出了多少吨？"),
            art.label(sales[0]),
        ),
        (bar, ("Which fruit had the highest sales?", "哪种水果销量最高？"), fruits[sales.index(max(sales))]),
        (
            bar,
            (f"Were more {fruits[a]} sold than {fruits[b]}?", f"{fruits[a]}的销量比{fruits[b]}高吗？"),
            "Yes" if sales[a] > sales[b] else "No",
        ),
        (
            line,
            (f"How many thousand visitors came in {years[2]}?", f"{years[2]}年有多少千名游客？"),
            str(visits[2]),
        ),
        (
            line,
            ("What is the difference between the highest and lowest values?", "最高值与最低值相差多少？"),
            str(max(visits) - min(visits)),
        ),
        (
            line,
            ("In which year were there the fewest visitors?", "哪一年游客最少？"),
            years[visits.index(min(visits))],
        ),
    ]
    return [
        {
            "index": i,
            "image": image,
            "question": pick(language, question),
            "answer": answer,
            "split": "test_human" if i % 2 == 0 else "test_augmented",
        }
        for i, (image, question, answer) in enumerate(items)
    ]


def scene_text_rows(*, language: str = "en") -> list[Row]:
    """TextVQA: four street photos; ten human answers each, with realistic disagreement."""
    rng = seeded("scene_text")
    shop, discount = rng.choice(["BAKERY", "PHARMACY", "BOOKSHOP", "FLORIST"]), rng.choice([20, 30, 40, 50])
    street, (short, long) = (
        rng.choice(["MAIN", "ELM", "OAK"]),
        rng.choice([("ST", "street"), ("AVE", "avenue")]),
    )
    name, road = shop.lower(), f"{street} {short}".lower()
    white, yellow, red = (255, 255, 255), art.COLOURS["yellow"], art.COLOURS["red"]
    stop = fig.street_sign(rng, ["STOP"], (320, 400), red, white, "octagon")
    front = fig.street_sign(rng, [shop, "OPEN DAILY"], (480, 360), (250, 240, 215), art.INK, "shop")
    plate = fig.street_sign(rng, [road.upper()], (560, 300), (20, 110, 60), white)
    sale = fig.street_sign(rng, ["SALE", f"{discount}% OFF"], (400, 400), yellow, art.INK)
    photos = [art.encode(image, "JPEG") for image in (stop, front, plate, sale)]
    items: list[Item] = [
        (
            photos[0],
            ("What does the sign say?", "这个标志上写着什么？"),
            ["stop"] * 7 + ["stop sign"] * 2 + ["red"],
        ),
        (
            photos[1],
            ("What is the name of the shop?", "这家店叫什么名字？"),
            [name] * 6 + [f"the {name}"] * 3 + ["open daily"],
        ),
        (
            photos[2],
            ("What street is this?", "这是哪条街？"),
            [road] * 5 + [f"{street.lower()} {long}"] * 3 + [street.lower(), f"{road}."],
        ),
        (
            photos[3],
            ("How big is the discount?", "折扣是多少？"),
            [f"{discount}%"] * 6 + [f"{discount}% off"] * 3 + [str(discount)],
        ),
    ]
    return question_rows(items, language)


def ocr_rows(*, language: str = "en") -> list[Row]:
    """OCRBench: eight items over eight of its ten categories, handwritten maths included."""
    rng = seeded("ocr")
    words = rng.sample(WORDS, 3)
    phrase = rng.choice(["see you at noon", "buy milk and eggs", "call me later"])
    digits = "".join(rng.choice(string.digits) for _ in range(7))
    nonsense = "".join(rng.choice("BCDFGHJKLMNPQRSTVWXZ") for _ in range(6))
    var, power, constant = rng.choice("xyz"), rng.randint(2, 4), rng.randint(1, 9)

    def card(text: str, style: str, size: tuple[int, int] = (360, 120)) -> str:
        return art.encode(fig.text_card(rng, [(text, False)], style, size))

    receipt, total = fig.receipt(rng, with_total=True)
    formula = fig.text_card(
        rng, [(var, False), (str(power), True), (f"+{constant}", False)], "handwriting", (320, 120)
    )
    what: Text = ("what is written in the image?", "图中写的是什么？")
    latex: Text = (
        "Please write out the expression of the formula in the image using LaTeX format.",
        "请用LaTeX格式写出图中公式的表达式。",
    )
    items: list[tuple[str, Text, list[str], str]] = [
        (card(words[0], "printed", (320, 96)), what, [words[0]], "Regular Text Recognition"),
        (card(words[1], "curved", (360, 160)), what, [words[1]], "Irregular Text Recognition"),
        (card(words[2], "artistic"), what, [words[2]], "Artistic Text Recognition"),
        (card(phrase, "handwriting", (480, 110)), what, [phrase], "Handwriting Recognition"),
        (
            card(digits, "handwriting", (320, 100)),
            ("what are the numbers in the image?", "图中的数字是什么？"),
            [digits],
            "Digit String Recognition",
        ),
        (card(nonsense, "printed", (320, 96)), what, [nonsense], "Non-Semantic Text Recognition"),
        (
            art.encode(receipt),
            ("what is the total amount on the receipt?", "收据上的总金额是多少？"),
            [f"${total:.2f}", f"{total:.2f}"],
            "Key Information Extraction",
        ),
        (
            art.encode(formula),
            latex,
            [f"{var}^{{{power}}}+{constant}"],
            "Handwritten Mathematical Expression Recognition",
        ),
    ]
    return [
        {
            "index": i,
            "image": image,
            "question": pick(language, question),
            "answer": listed(answers),
            "category": category,
        }
        for i, (image, question, answers, category) in enumerate(items)
    ]
