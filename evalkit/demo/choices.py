"""Multiple-choice demo sets: MMBench, CCBench, AI2D, RealWorldQA, SEEDBench_IMG, MMT-Bench.

A :class:`Choice` holds one question with bilingual options; :func:`mcq_rows`
lays it out over the option columns and, for CircularEval, adds VLMEvalKit's
rotated copies (index g + m·1,000,000, options rotated by m, the answer letter
following the correct option; their image cell refers back to row g).
"""

from __future__ import annotations

import random
import string
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType

from evalkit.demo import drawing as art
from evalkit.demo import figures as fig
from evalkit.demo.common import (
    CN_NAMES,
    QUADRANTS,
    WORDS,
    Row,
    Text,
    cn_name,
    distinct_shapes,
    pick,
    quadrant,
    same,
    seeded,
    shuffled,
)
from evalkit.errors import CatalogError

CIRCULAR_STEP = 1_000_000
FINE, CROSS = "finegrained_perception (instance-level)", "finegrained_perception (cross-instance)"


@dataclass(frozen=True)
class Choice:
    """One multiple-choice question: options as (en, cn) texts, ``answer`` the index of the correct one."""

    image: str
    question: Text
    options: Sequence[Text]
    answer: int
    category: str
    l2: str
    hint: Text = ("", "")


def mcq_rows(
    *, language: str = "en", letters: str = "ABCD", circular: bool = False, style: str = "scene"
) -> list[Row]:
    """Rows with one column per letter in ``letters`` (blank where a question has fewer options)."""
    if style not in MCQ_STYLES:
        raise CatalogError(
            f"demo family 'mcq': unknown style {style!r} (expected one of {', '.join(MCQ_STYLES)})"
        )
    if not 2 <= len(letters) <= 26 or letters != string.ascii_uppercase[: len(letters)]:
        raise CatalogError(
            f"demo family 'mcq': letters must run from 'A' in order, like 'ABCD', not {letters!r}"
        )
    if not isinstance(circular, bool):
        raise CatalogError(f"demo family 'mcq': circular must be true or false, not {circular!r}")
    items = MCQ_STYLES[style](seeded(f"mcq/{style}"))
    rows = [
        row
        for index, item in enumerate(items)
        for row in choice_rows(index, item, letters, language, circular)
    ]
    return sorted(rows, key=lambda row: int(str(row["index"])))


def choice_rows(index: int, item: Choice, letters: str, language: str, circular: bool) -> list[Row]:
    """The question's row, and with ``circular`` its rotated copies.

    With fewer letters than options, distractors are dropped from the end; the correct option always stays.
    """
    others = [i for i in range(len(item.options)) if i != item.answer][: len(letters) - 1]
    kept = sorted([item.answer, *others])
    options, answer = [pick(language, item.options[i]) for i in kept], kept.index(item.answer)
    rows = []
    for m in range(len(options) if circular else 1):
        rotated = options[m:] + options[:m]
        row: Row = {
            "index": index + m * CIRCULAR_STEP,
            "image": str(index) if m else item.image,
            "question": pick(language, item.question),
            "hint": pick(language, item.hint),
        }
        row.update({letter: rotated[i] if i < len(rotated) else "" for i, letter in enumerate(letters)})
        row.update(
            {
                "answer": letters[(answer - m) % len(options)],
                "category": item.category,
                "l2-category": item.l2,
                "split": "dev",
            }
        )
        rows.append(row)
    return rows


def _scene_choices(rng: random.Random) -> list[Choice]:
    """MMBench / RealWorldQA / SEED: colour, count, what is below what, which quarter.

    Four shapes in a square image take one quarter each, so "below" and "where" have one answer.
    """
    circles = rng.randint(2, 3)
    colours = rng.sample(list(art.COLOURS), circles + 2)
    specs = [("triangle", colours[0]), ("square", colours[1]), *(("circle", c) for c in colours[2:])]
    first, second = (
        art.place_shapes(rng, (480, 320), specs),
        art.place_shapes(rng, (400, 400), distinct_shapes(rng, 4)),
    )
    scenes = (art.shapes_scene((480, 320), first), art.shapes_scene((400, 400), second))
    images = [art.encode(scene, "JPEG") for scene in scenes]
    quarters = {quadrant(shape, (400, 400)): shape for shape in second}
    top, below, target = quarters[0], quarters[2], rng.choice(second)
    wrong = [(c, CN_NAMES[c]) for c in art.COLOURS if c != colours[0]][:3]
    names = [(f"the {s.name}", cn_name(s)) for s in second if s not in (top, below)] + [
        ("nothing", "没有物体")
    ]
    return [
        Choice(
            images[0],
            ("What colour is the triangle?", "三角形是什么颜色？"),
            *shuffled(rng, (colours[0], CN_NAMES[colours[0]]), wrong),
            "attribute_recognition",
            FINE,
            ("The picture shows toy blocks on a table.", "图片展示了桌上的积木。"),
        ),
        Choice(
            images[0],
            ("How many circles are there in the image?", "图中有几个圆形？"),
            same([circles - 1, circles, circles + 1]),
            1,
            "instances_counting",
            FINE,
        ),
        Choice(
            images[1],
            (f"Which object is directly below the {top.name}?", f"{cn_name(top)}正下方是哪个物体？"),
            *shuffled(rng, (f"the {below.name}", cn_name(below)), names),
            "spatial_relationship",
            CROSS,
        ),
        Choice(
            images[1],
            (f"Where is the {target.name} in the image?", f"{cn_name(target)}在图中的什么位置？"),
            list(QUADRANTS),
            quadrant(target, (400, 400)),
            "object_localization",
            FINE,
            ("Think of the image as four equal quarters.", "把图片看作四个相等的部分。"),
        ),
    ]


def _diagram_choices(rng: random.Random) -> list[Choice]:
    """AI2D: a food chain and a life cycle, two questions each."""
    chain = rng.choice(
        [("Grass", "Rabbit", "Fox"), ("Algae", "Shrimp", "Fish"), ("Leaves", "Caterpillar", "Bird")]
    )
    stages = rng.choice(
        [
            ("Egg", "Caterpillar", "Pupa", "Butterfly"),
            ("Egg", "Tadpole", "Froglet", "Frog"),
            ("Seed", "Sprout", "Plant", "Flower"),
        ]
    )
    food = art.encode(fig.flow_diagram("Food chain", ["Sun", *chain], (560, 220), cycle=False))
    cycle = art.encode(fig.flow_diagram("Life cycle", stages, (360, 360), cycle=True))
    eater, eaten, producer = chain[2], chain[1], chain[0]
    return [
        Choice(
            food,
            (
                f"According to the food chain, what does the {eater.lower()} eat?",
                f"根据食物链，{eater}吃什么？",
            ),
            *shuffled(rng, (eaten, eaten), same(["Sun", producer, "Nothing"])),
            "foodChainsWebs",
            "science_diagram",
            ("Arrows point from the food to the eater.", "箭头从食物指向捕食者。"),
        ),
        Choice(
            food,
            ("Which organism in the diagram is a producer?", "图中哪种生物是生产者？"),
            *shuffled(rng, (producer, producer), same(chain[1:])),
            "foodChainsWebs",
            "science_diagram",
        ),
        Choice(
            cycle,
            (f"Which stage comes right after the {stages[1].lower()}?", f"{stages[1]}之后是哪个阶段？"),
            same(stages),
            2,
            "lifeCycles",
            "science_diagram",
        ),
        Choice(
            cycle,
            ("How many stages are shown in the life cycle?", "生命周期中显示了几个阶段？"),
            same([3, 4, 5]),
            1,
            "lifeCycles",
            "science_diagram",
        ),
    ]


def _culture_choices(rng: random.Random) -> list[Choice]:
    """CCBench: a seal, a palace lantern, a pagoda and a folding fan."""
    tiers = rng.randint(3, 6)
    seal_uses = [
        ("Stamping a name on documents and paintings", "在文书和书画上盖印署名"),
        ("Cooking rice", "煮饭"),
        ("Playing music", "演奏音乐"),
        ("Measuring length", "测量长度"),
    ]
    festivals = [
        ("The Dragon Boat Festival", "端午节"),
        ("The Lantern Festival", "元宵节"),
        ("The Qingming Festival", "清明节"),
        ("The Double Ninth Festival", "重阳节"),
    ]
    objects = [
        ("A kite", "风筝"),
        ("An umbrella", "雨伞"),
        ("A paper lantern", "纸灯笼"),
        ("A folding fan", "折扇"),
    ]
    return [
        Choice(
            art.encode(fig.seal(rng)),
            ("What is the object in the image traditionally used for?", "图中的物品传统上用来做什么？"),
            seal_uses,
            0,
            "Cultural Relic",
            "chinese_culture",
        ),
        Choice(
            art.encode(fig.lantern()),
            ("Which festival is this object most associated with?", "这个物品与哪个节日联系最紧密？"),
            festivals,
            1,
            "Traditional Show",
            "chinese_culture",
        ),
        Choice(
            art.encode(fig.pagoda(tiers)),
            ("How many roof tiers does the pagoda have?", "这座塔有几层塔檐？"),
            same([tiers - 1, tiers, tiers + 1, tiers + 2]),
            1,
            "Scenery & Building",
            "chinese_culture",
        ),
        Choice(
            art.encode(fig.folding_fan()),
            ("What is the object shown in the image?", "图中展示的是什么物品？"),
            objects,
            3,
            "Calligraphy Painting",
            "chinese_culture",
            ("It is often painted with plum blossoms.", "上面常画有梅花。"),
        ),
    ]


def _mixed_choices(rng: random.Random) -> list[Choice]:
    """MMT-Bench: meta-tasks visual_recognition, ocr, localization and counting, with up to six options."""
    size = (480, 360)
    triangles = rng.randint(1, 3)
    specs = [
        *distinct_shapes(rng, 3, ["circle", "square"]),
        *(("triangle", c) for c in rng.sample(list(art.COLOURS), triangles)),
    ]
    shapes = art.place_shapes(rng, size, specs)
    scene = art.encode(art.shapes_scene(size, shapes))
    circle = next(s for s in shapes if s.kind == "circle")
    boxes = same([str(list(s.box)) for s in sorted(shapes, key=lambda s: s is not circle)])
    word = rng.choice(WORDS)
    sign = art.encode(fig.street_sign(rng, [word], (420, 300), (30, 60, 140), (255, 255, 255)), "JPEG")
    return [
        Choice(
            scene,
            ("What colour is the circle?", "圆形是什么颜色？"),
            [(c, CN_NAMES[c]) for c in art.COLOURS],
            list(art.COLOURS).index(circle.colour),
            "color_recognition",
            "visual_recognition",
        ),
        Choice(
            sign,
            ("What text is on the sign?", "标志上的文字是什么？"),
            *shuffled(rng, (word, word), same([w for w in WORDS if w != word][:4])),
            "scene_text_recognition",
            "ocr",
        ),
        Choice(
            scene,
            (
                f"Which box (x1, y1, x2, y2 in pixels) contains the {circle.name}?",
                f"哪个框（像素坐标 x1, y1, x2, y2）包含{cn_name(circle)}？",
            ),
            *shuffled(rng, boxes[0], boxes[1:]),
            "object_localization",
            "localization",
        ),
        Choice(
            scene,
            ("How many triangles are in the image?", "图中有几个三角形？"),
            same(range(1, 7)),
            triangles - 1,
            "counting_by_category",
            "counting",
        ),
    ]


MCQ_STYLES: Mapping[str, Callable[[random.Random], list[Choice]]] = MappingProxyType(
    {
        "scene": _scene_choices,
        "diagram": _diagram_choices,
        "culture": _culture_choices,
        "mixed": _mixed_choices,
    }
)
