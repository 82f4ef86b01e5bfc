"""Fuzzing every extractor: arbitrary text (odd Unicode, 100 KB replies, pathological patterns) gives an
:class:`Extraction` without raising or hanging when no judge is configured."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from evalkit.data.sample import Sample
from evalkit.scoring.registry import EXTRACTORS, extractor_named
from evalkit.scoring.types import METHODS, Extraction, ScoringContext
from tests.fuzzing import (
    COUNTS,
    HANG_SECONDS,
    fuzz_settings,
    huge_text,
    odd_text,
    report_counts,  # noqa: F401  (an autouse fixture: prints the counts)
    time_limit,
)

# --------------------------------------------------------------------------- extractors


def _samples() -> list[Sample]:
    mcq = (("A", "cat"), ("B", "dog"), ("C", "the bird"), ("D", "fish"))
    nine = tuple((letter, text) for letter, text in zip("ABCDEFGHI", ("", " ", "A", "nan", "\u200f", "e\u0301",
                                                                         "中文", "1e400", "x" * 1000), strict=True))
    return [
        Sample(0, "Which animal?", options=mcq, answers=("B",), hint="a hint",
               metadata={"category": "animals", "l2-category": "pets", "split": "dev"}),
        Sample(1, "Odd options", options=nine, answers=("G",), metadata={"split": "validation"}),
        Sample(2, "Is the cat red? Please answer yes or no.", answers=("Yes",),
               metadata={"category": "color", "image_path": "a.jpg"}),
        Sample(3, "HallusionBench", answers=("0",), metadata={"category": "VD", "l2-category": "illusion"}),
        Sample(4, "MathVista MCQ", answers=("4",), metadata={
            "question_type": "multi_choice", "answer_type": "text", "choices": "['3', '4', '5']", "precision": None}),
        Sample(5, "MathVista float", answers=("1.25",), metadata={
            "question_type": "free_form", "answer_type": "float", "precision": 2.0, "choices": None}),
        Sample(6, "MathVista integer", answers=("12",), metadata={
            "question_type": "free_form", "answer_type": "integer", "choices": ["1", "2"], "precision": "x"}),
        Sample(7, "MathVista broken metadata", answers=(), metadata={
            "question_type": 5, "answer_type": None, "choices": "[", "precision": float("nan")}),
        Sample(8, "MMMU open", answers=("['12', '13.5']",), metadata={"split": "validation"}),
        Sample(9, "MMMU MCQ", options=mcq, answers=("C",), metadata={"split": "dev", "category": "Art"}),
        Sample(10, "RefCOCO", answers=("[10, 20, 30, 40]",), metadata={"width": 640, "height": 480, "category": "v"}),
        Sample(11, "RefCOCO odd size", answers=("[1e400, nan, x, 4]",),
               metadata={"width": "abc", "height": float("nan")}),
        Sample(12, "RefCOCO zero size", answers=("[0, 0, 0, 0]",), metadata={"width": 0, "height": -5}),
        Sample(13, "RefCOCO huge size", answers=(), metadata={"width": 1e308, "height": float("inf")}),
        Sample(14, "", metadata={}),
    ]


EXTRACTOR_SAMPLES = _samples()
CONTEXTS = [ScoringContext(), ScoringContext(options={"open_as_choice": True}, seed=7),
            ScoringContext(options={"answer_extraction": "in_metric"}), ScoringContext(language="cn")]
PATHOLOGICAL = (
    "[" + "1," * 50_000, "[[" * 30_000, "1" * 100_000, "1." * 50_000, "-" * 100_000, "(" * 100_000,
    "answer is " * 10_000, "The answer is (A" * 6_000, "A " * 50_000, "Yes, no. " * 10_000, "[0.1, 0.2, 0.3" * 7_000,
    "1e" * 50_000, "\n" * 100_000, "\t" * 100_000, "e\u0301" * 50_000, "\x00" * 100_000, "\u200f" * 100_000,
    "[1, 2, 3, 4]" * 8_000, ",".join(["1"] * 50_000) + "]", "is " * 30_000, " ".join(["A.", "B.", "C."] * 10_000),
)
prediction_text = st.one_of(
    st.text(), st.text(alphabet=st.characters(codec="utf-8")), odd_text,
    st.lists(st.sampled_from(("A", "B", "(C)", "D.", "yes", "No", "[", "]", ",", "0.5", "12", "answer is",
                              "Answer:", " ", "\n", "\u200f", "e\u0301", "中", "nan", "-3e5")),
             max_size=30).map(" ".join),
    st.sampled_from(PATHOLOGICAL), huge_text,
)


@pytest.mark.parametrize("name", sorted(EXTRACTORS))
@fuzz_settings(examples=60)
@given(prediction=prediction_text, sample=st.sampled_from(EXTRACTOR_SAMPLES), ctx=st.sampled_from(CONTEXTS))
def test_fuzz_extractor(name: str, prediction: str, sample: Sample, ctx: ScoringContext) -> None:
    extractor = extractor_named(name)
    with time_limit(HANG_SECONDS):
        result = extractor(prediction, sample, ctx)
    COUNTS["extractor:calls"] += 1
    COUNTS[f"extractor:{name}"] += 1
    COUNTS["extractor:method " + str(result.method)] += 1
    assert isinstance(result, Extraction)
    assert result.method in METHODS
    assert result.note is None or isinstance(result.note, str)
    json.dumps(result.value, ensure_ascii=False, default=str).encode("utf-8")


@pytest.mark.parametrize("name", sorted(EXTRACTORS))
def test_every_pathological_reply_is_quick(name):
    extractor = extractor_named(name)
    for text in PATHOLOGICAL:
        for sample in (EXTRACTOR_SAMPLES[k] for k in (0, 2, 4, 5, 8, 10, 14)):
            with time_limit(HANG_SECONDS):
                result = extractor(text, sample, CONTEXTS[0])
            assert isinstance(result, Extraction)
            COUNTS["extractor:pathological calls"] += 1


@settings(max_examples=3000, deadline=None)
@given(st.text(alphabet="0123456789٣.eE+-, a\n", max_size=40))
def test_mmmu_scientific_pattern_matches_the_official_one(text):
    """The linear rewrite of MMMU's ``pattern_scientific`` finds exactly what the official pattern finds."""
    import re

    from evalkit.scoring.extract.mmmu import _NUMBER_SCIENTIFIC

    COUNTS["extractor:mmmu pattern comparisons"] += 1
    assert _NUMBER_SCIENTIFIC.findall(text) == re.findall(r"-?\d+(?:\.\d+)?[eE][+-]?\d+", text)

