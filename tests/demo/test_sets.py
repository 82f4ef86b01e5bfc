"""The built-in demo sets: VLMEvalKit TSV columns, decodable images, determinism and answer consistency."""

from __future__ import annotations

import ast
import base64
import io
import re
import time
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from PIL import Image

from evalkit.demo.drawing import COLOURS
from evalkit.demo.sets import DEMO_FAMILIES, demo_rows, write_demo_tsv
from evalkit.errors import CatalogError

CASES: dict[str, tuple[str, dict[str, Any]]] = {
    "DocVQA": ("document", {"genre": "document"}),
    "InfoVQA": ("document", {"genre": "infographic"}),
    "ChartQA": ("chart", {}),
    "TextVQA": ("scene_text", {}),
    "OCRBench": ("ocr", {}),
    "MME": ("mme", {}),
    "HallusionBench": ("hallusion", {}),
    "MMBench": ("mcq", {"style": "scene", "circular": True}),
    "AI2D": ("mcq", {"style": "diagram"}),
    "CCBench": ("mcq", {"style": "culture", "circular": True}),
    "MMT-Bench": ("mcq", {"style": "mixed", "letters": "ABCDEFGHI"}),
    "MMMU": ("mmmu", {}),
    "MMVet": ("open", {}),
    "MathVista": ("mathvista", {}),
    "RefCOCO": ("grounding", {}),
    "ConvBench": ("conversation", {}),
}
QA = ["index", "image", "question", "answer"]
MCQ = ["index", "image", "question", "hint", "A", "B", "C", "D", "answer", "category", "l2-category", "split"]
COLUMNS: dict[str, list[str]] = {
    "DocVQA": QA,
    "InfoVQA": QA,
    "ChartQA": [*QA, "split"],
    "TextVQA": QA,
    "OCRBench": [*QA, "category"],
    "MME": [*QA, "category", "image_path"],
    "HallusionBench": [*QA, "category", "l2-category"],
    "MMBench": MCQ,
    "AI2D": MCQ,
    "CCBench": MCQ,
    "MMT-Bench": [*MCQ[:8], "E", "F", "G", "H", "I", *MCQ[8:]],
    "MMMU": ["index", "image", "question", "A", "B", "C", "D", "answer", "split", "category"],
    "MMVet": [*QA, "category"],
    "MathVista": [*QA, "question_type", "answer_type", "choices", "precision", "task", "skills"],
    "RefCOCO": [*QA, "width", "height", "category"],
    "ConvBench": [
        "ID",
        "image",
        "The_first_turn_instruction",
        "The_second_turn_instruction",
        "The_third_turn_instruction",
    ],
}
# Image size of each distinct question image, in row order (rows that refer to another row's image skipped).
SIZES: dict[str, list[Any]] = {
    "DocVQA": [(360, 480), (360, 480), (480, 340), (480, 340)],
    "InfoVQA": [(320, 560), (320, 560), (320, 560), (600, 220)],
    "ChartQA": [(440, 340)] * 3 + [(560, 300)] * 3,
    "TextVQA": [(320, 400), (480, 360), (560, 300), (400, 400)],
    "OCRBench": [
        (320, 96),
        (360, 160),
        (360, 120),
        (480, 110),
        (320, 100),
        (320, 96),
        (240, 360),
        (320, 120),
    ],
    "MME": [(480, 320), (400, 400), (320, 420), (360, 160)],
    "HallusionBench": [(440, 330)] * 4 + [(480, 320)] * 2,
    "MMBench": [(480, 320), (480, 320), (400, 400), (400, 400)],
    "AI2D": [(560, 220), (560, 220), (360, 360), (360, 360)],
    "CCBench": [(240, 240), (240, 320), (280, 360), (360, 240)],
    "MMT-Bench": [(480, 360), (420, 300), (480, 360), (480, 360)],
    "MMMU": [(320, 260), (360, 260), [(200, 260), (200, 260)], (480, 320), (320, 260)],
    "MMVet": [(240, 360), (480, 320), (400, 300), (480, 320), (520, 300)],
    "MathVista": [(360, 260), (460, 320), (460, 320), (420, 300), (420, 300)],
    "RefCOCO": [(480, 320), (320, 400), (400, 400), (560, 320)] * 2,
    "ConvBench": [(480, 300), (480, 360), (400, 400), (480, 340)],
}
CJK = re.compile(r"[\u4e00-\u9fff]")


def _read(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False)


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("demo")
    return {
        name: write_demo_tsv(family, folder / f"{name}.tsv", **options)
        for name, (family, options) in CASES.items()
    }


@pytest.fixture(scope="module")
def tables(written: dict[str, Path]) -> dict[str, pd.DataFrame]:
    return {name: _read(path) for name, path in written.items()}


def _images(cell: str) -> list[Image.Image]:
    texts = ast.literal_eval(cell) if cell.startswith("[") else [cell]
    return [Image.open(io.BytesIO(base64.b64decode(text))) for text in texts]


def _resolved(table: pd.DataFrame) -> list[str]:
    """Each row's image cell, with VLMEvalKit's rule: a cell of <= 64 characters names the row it reuses."""
    index = table.columns[0]
    by_index = dict(zip(table[index], table["image"], strict=True))
    return [by_index[cell] if len(cell) <= 64 else cell for cell in table["image"]]


def test_every_family_has_a_case() -> None:
    assert {family for family, _ in CASES.values()} == set(DEMO_FAMILIES)


@pytest.mark.parametrize("name", CASES)
def test_tsv_has_exactly_vlmevalkit_columns(written: dict[str, Path], name: str) -> None:
    assert list(pd.read_csv(written[name], sep="\t").columns) == COLUMNS[name]
    assert 4 <= len(_read(written[name])) <= 16


@pytest.mark.parametrize("name", CASES)
def test_images_decode_to_expected_sizes(tables: dict[str, pd.DataFrame], name: str) -> None:
    table = tables[name]
    sizes: list[object] = []
    for cell in table["image"]:
        if len(cell) > 64:
            found = [image.size for image in _images(cell)]
            sizes.append(found[0] if len(found) == 1 else found)
    assert sizes == SIZES[name]
    for cell in _resolved(table):
        for image in _images(cell):
            assert image.format in {"PNG", "JPEG"}
            assert all(64 <= side <= 640 for side in image.size)


@pytest.mark.parametrize("name", CASES)
def test_generation_is_deterministic(written: dict[str, Path], tmp_path: Path, name: str) -> None:
    family, options = CASES[name]
    again = write_demo_tsv(family, tmp_path / "again.tsv", **options)
    assert again.read_bytes() == written[name].read_bytes()


def test_all_sets_generate_fast() -> None:
    start = time.perf_counter()
    for family, options in CASES.values():
        demo_rows(family, **options)
    assert time.perf_counter() - start < 3.0


@pytest.mark.parametrize("name", ["MMBench", "CCBench"])
def test_circular_copies_rotate_options_and_the_answer(tables: dict[str, pd.DataFrame], name: str) -> None:
    table = tables[name].set_index("index")
    table.index = table.index.astype(int)
    originals = [g for g in table.index if g < 1_000_000]
    assert len(originals) == 4
    for g in originals:
        base = table.loc[g]
        options = [base[letter] for letter in "ABCD" if base[letter]]
        correct = base[base["answer"]]
        copies = sorted(i for i in table.index if i % 1_000_000 == g and i != g)
        assert copies == [g + m * 1_000_000 for m in range(1, len(options))]
        for m, i in enumerate(copies, start=1):
            copy = table.loc[i]
            assert [copy[letter] for letter in "ABCD"[: len(options)]] == options[m:] + options[:m]
            assert copy[copy["answer"]] == correct
            assert copy["image"] == str(g)
            for column in ("question", "hint", "category", "l2-category", "split"):
                assert copy[column] == base[column]


def test_mcq_without_circular_has_no_copies_and_blank_last_options(tables: dict[str, pd.DataFrame]) -> None:
    table = tables["AI2D"]
    assert [int(i) for i in table["index"]] == [0, 1, 2, 3]
    assert (table["D"] == "").any() and (table["D"] != "").any()
    assert set(table["answer"]) <= set("ABCD")


def test_mmt_bench_fills_fewer_than_nine_options(tables: dict[str, pd.DataFrame]) -> None:
    table = tables["MMT-Bench"]
    assert (table["I"] == "").all() and (table["F"] != "").any()
    assert "visual_recognition" in set(table["l2-category"]) and len(set(table["l2-category"])) >= 2
    for _, row in table.iterrows():
        assert row[row["answer"]] != ""


def test_fewer_letters_keep_the_correct_option() -> None:
    wide = demo_rows("mcq", style="mixed", letters="ABCDEFGHI")
    narrow = demo_rows("mcq", style="mixed", letters="ABC")
    for full, cut in zip(wide, narrow, strict=True):
        assert "D" not in cut
        assert cut[str(cut["answer"])] == full[str(full["answer"])]


def test_mme_pairs_share_an_image_with_one_yes_and_one_no(tables: dict[str, pd.DataFrame]) -> None:
    table = tables["MME"]
    assert len(table) % 2 == 0
    for first, second in zip(table.iloc[::2].itertuples(), table.iloc[1::2].itertuples(), strict=True):
        assert first.image_path == second.image_path and first.category == second.category
        assert {first.answer, second.answer} == {"Yes", "No"}
        assert len(first.image) > 64 and second.image == first.index
    assert all(question.endswith(" Please answer yes or no.") for question in table["question"])
    assert {"existence", "count", "color", "numerical_calculation"} <= set(table["category"])


def test_hallusion_index_fields_name_set_figure_and_question(tables: dict[str, pd.DataFrame]) -> None:
    table = tables["HallusionBench"]
    fields = [[int(part) for part in index.split("_")[3:6]] for index in table["index"]]
    assert all(
        index.startswith(l2 + "_") for index, l2 in zip(table["index"], table["l2-category"], strict=True)
    )
    assert list(table["category"]) == [l2.split("_")[0] for l2 in table["l2-category"]]
    set_zero = {(figure, question) for set_id, figure, question in fields if set_id == 0}
    assert set_zero == {(0, 0), (0, 1), (1, 0), (1, 1)}
    assert set(table["answer"]) == {"Yes", "No"}
    assert not any(question.endswith("yes or no.") for question in table["question"])


def test_grounding_boxes_hold_the_referred_object(tables: dict[str, pd.DataFrame]) -> None:
    table = tables["RefCOCO"]
    assert list(table["category"]) == [
        "RefCOCO val",
        "RefCOCO testA",
        "RefCOCO testB",
        "RefCOCO+ val",
        "RefCOCO+ testA",
        "RefCOCO+ testB",
        "RefCOCOg val",
        "RefCOCOg test",
    ]
    for row in table.itertuples():
        image = _images(row.image)[0].convert("RGB")
        assert image.size == (int(row.width), int(row.height))
        x1, y1, x2, y2 = ast.literal_eval(row.answer)
        assert 0 <= x1 < x2 < image.width and 0 <= y1 < y2 < image.height
        colour = next(word for word in row.question.split() if word in COLOURS)
        assert image.getpixel(((x1 + x2) // 2, (y1 + y2) // 2)) == COLOURS[colour]


def test_list_answers_and_textvqa_disagreement(tables: dict[str, pd.DataFrame]) -> None:
    for name in ("DocVQA", "InfoVQA", "OCRBench"):
        assert all(1 <= len(ast.literal_eval(answer)) <= 3 for answer in tables[name]["answer"])
    for answer in tables["TextVQA"]["answer"]:
        answers = ast.literal_eval(answer)
        assert len(answers) == 10 and len(set(answers)) > 1


def test_ocrbench_categories_and_latex(tables: dict[str, pd.DataFrame]) -> None:
    table = tables["OCRBench"]
    assert len(set(table["category"])) >= 5
    maths = table[table["category"] == "Handwritten Mathematical Expression Recognition"]
    assert re.fullmatch(r"\['[xyz]\^\{\d\}\+\d'\]", maths["answer"].iloc[0])


def test_mmmu_two_image_row_and_open_questions(tables: dict[str, pd.DataFrame]) -> None:
    table = tables["MMMU"]
    assert all("<image 1>" in question for question in table["question"])
    pair = table[table["image"].str.startswith("[")]
    assert len(pair) == 1 and "<image 2>" in pair["question"].iloc[0]
    open_rows = table[table["A"] == ""]
    assert len(open_rows) == 2 and (open_rows[["B", "C", "D"]] == "").all().all()
    assert set(table["split"]) == {"dev", "validation"}


def test_mathvista_queries(tables: dict[str, pd.DataFrame]) -> None:
    for row in tables["MathVista"].itertuples():
        assert row.question.startswith("Hint: Please answer the question")
        if row.question_type == "multi_choice":
            choices = ast.literal_eval(row.choices)
            assert row.answer in choices and "\nChoices:\n(A) " in row.question
        else:
            assert row.choices == "" and "Choices" not in row.question
        if row.answer_type == "float":
            assert row.precision == "1.0" and re.fullmatch(r"\d+\.\d", row.answer)


def test_mmvet_answers_and_capabilities(tables: dict[str, pd.DataFrame]) -> None:
    table = tables["MMVet"]
    assert any("<AND>" in answer for answer in table["answer"])
    assert any("<OR>" in answer for answer in table["answer"])
    capabilities = {"rec", "ocr", "know", "gen", "spat", "math"}
    assert all(set(category.split(",")) <= capabilities for category in table["category"])


def test_chartqa_has_both_splits(tables: dict[str, pd.DataFrame]) -> None:
    assert set(tables["ChartQA"]["split"]) == {"test_human", "test_augmented"}


@pytest.mark.parametrize("name", [name for name in CASES if name != "ConvBench"])
def test_hidden_answers_are_blank(tmp_path: Path, tables: dict[str, pd.DataFrame], name: str) -> None:
    family, options = CASES[name]
    hidden = _read(write_demo_tsv(family, tmp_path / "hidden.tsv", answers_hidden=True, **options))
    assert (hidden["answer"] == "").all()
    assert hidden.drop(columns="answer").equals(tables[name].drop(columns="answer"))


@pytest.mark.parametrize("name", CASES)
def test_chinese_questions(name: str) -> None:
    family, options = CASES[name]
    rows = demo_rows(family, language="cn", **options)
    column = "The_first_turn_instruction" if family == "conversation" else "question"
    assert all(CJK.search(str(row[column])) for row in rows)
    english = demo_rows(family, **options)
    assert [row["image"] for row in rows] == [row["image"] for row in english]


def test_chinese_options_and_hints() -> None:
    rows = demo_rows("mcq", language="cn", style="culture")
    assert all(CJK.search(str(row["A"])) for row in rows[:2])
    assert any(CJK.search(str(row["hint"])) for row in rows)


def test_unknown_family_option_or_value_is_named() -> None:
    with pytest.raises(CatalogError, match="'nonesuch'"):
        demo_rows("nonesuch")
    with pytest.raises(CatalogError, match="'colour'"):
        demo_rows("chart", colour="red")
    with pytest.raises(CatalogError, match="'genre'"):
        demo_rows("mcq", genre="document")
    with pytest.raises(CatalogError, match="'poster'"):
        demo_rows("document", genre="poster")
    with pytest.raises(CatalogError, match="'sketch'"):
        demo_rows("mcq", style="sketch")
    with pytest.raises(CatalogError, match="'ABD'"):
        demo_rows("mcq", letters="ABD")
    with pytest.raises(CatalogError, match="'fr'"):
        demo_rows("ocr", language="fr")
