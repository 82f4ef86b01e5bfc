"""Box extraction for RefCOCO (docs/protocols.md): evaluate_grounding.py and VLMEvalKit refcoco.py, by hand."""

from __future__ import annotations

import math
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from evalkit.data.sample import Sample
from evalkit.scoring.extract.box import (
    box_internvl,
    box_vlmevalkit,
    float32,
    internvl_pixels,
    parse_box_internvl,
    parse_box_vlmevalkit,
)
from evalkit.scoring.types import ScoringContext

CTX = ScoringContext()
# The references' own patterns, used only as oracles here.
INTERNVL_PATTERN = re.compile(r"\[*\[(.*?),(.*?),(.*?),(.*?)\]\]*")
VLM_NUMBER = r"[-+]?\d*\.?\d+(?:[eE][-+]?\d+)?"
VLM_SEPARATOR = r"(?:\s*,\s*|\s+)"
VLM_BOX = re.compile(rf"\[\s*({VLM_NUMBER}){VLM_SEPARATOR}({VLM_NUMBER}){VLM_SEPARATOR}({VLM_NUMBER})"
                     rf"{VLM_SEPARATOR}({VLM_NUMBER})\s*\]")


def sample(width=640, height=480, **metadata):
    values = {"width": width, "height": height, **metadata}
    return Sample(0, "a dog", answers=("[0, 0, 10, 10]",), metadata={k: v for k, v in values.items() if v is not None})


# --- InternVL ---------------------------------------------------------------------------------------------

def test_internvl_reply_on_the_1000_grid():
    extraction = box_internvl("<ref>the dog</ref><box>[[100, 200, 300, 400]]</box>", sample(), CTX)
    assert extraction.value == [64.0, 96.0, 192.0, 192.0]
    assert extraction.method == "rule"
    assert extraction.note is None


def test_internvl_float32_arithmetic():
    # values checked against the torch float32 tensors of the reference
    value = box_internvl("[[333, 100, 667, 900]]", sample(640, 427), CTX).value
    assert value == [213.1199951171875, 42.70000076293945, 426.8800048828125, 384.29998779296875]


def test_internvl_sum_below_four_is_not_divided():
    # fractions summing to < 4 are scaled as they are ...
    assert internvl_pixels((0.1, 0.2, 0.3, 0.4), 640, 480) == [64.0, 96.0, 192.0, 192.0]
    # ... and so is a tiny 0-1000 box: the quirk makes it a huge pixel box
    assert box_internvl("[[0, 0, 1, 2]]", sample(), CTX).value == [0.0, 0.0, 640.0, 960.0]


def test_internvl_does_not_clip():
    assert box_internvl("[[0, 0, 1200, 1000]]", sample(), CTX).value == [0.0, 0.0, 768.0, 480.0]


def test_internvl_no_box_is_all_zero():
    for reply in ("no idea", "[[a, b, c, d]]", "[1,\n2, 3, 4]", ""):
        extraction = box_internvl(reply, sample(), CTX)
        assert extraction.value == [0.0, 0.0, 0.0, 0.0]
        assert extraction.note is not None


def test_internvl_first_match_and_single_brackets():
    assert parse_box_internvl("[1, 2, 3, 4] and [[5, 6, 7, 8]]") == (1.0, 2.0, 3.0, 4.0)
    assert parse_box_internvl("[[[ 10 ,20,30 , 40]]]") == (10.0, 20.0, 30.0, 40.0)
    assert parse_box_internvl("line one [x\nline two [[1,2,3,4]]") == (1.0, 2.0, 3.0, 4.0)


def test_internvl_without_image_size():
    extraction = box_internvl("[[1, 2, 3, 4]]", sample(None, None), CTX)
    assert extraction.value is None
    assert extraction.method == "none"


def test_float32_rounding_and_overflow():
    assert float32(0.1) == 0.10000000149011612
    assert float32(1e39) == math.inf
    assert float32(-1e39) == -math.inf


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet="[],0123.a \n", max_size=40))
def test_internvl_parser_equals_the_plain_regex(text):
    found = INTERNVL_PATTERN.findall(text)
    try:
        expected = tuple(float(group) for group in found[0]) if found else None
    except ValueError:
        expected = None
    assert parse_box_internvl(text) == expected


def test_internvl_parser_is_fast_on_a_pathological_line():
    assert parse_box_internvl("[" + "," * 50000) is None
    assert parse_box_internvl("[" + "1," * 30000 + "]") is None  # the groups are not numbers


# --- VLMEvalKit -------------------------------------------------------------------------------------------

def test_vlmevalkit_fractions():
    assert box_vlmevalkit("[0.1, 0.2, 0.3, 0.4]", sample(), CTX).value == [64.0, 96.0, 192.0, 144.0 + 48.0]


def test_vlmevalkit_grid_with_spaces_only():
    assert box_vlmevalkit("<box>[100 200 300 400]</box>", sample(), CTX).value == [64.0, 96.0, 192.0, 192.0]


def test_vlmevalkit_pixels_clipped():
    assert box_vlmevalkit("[1200, 50, 1300, 100]", sample(), CTX).value == [640.0, 50.0, 640.0, 100.0]
    assert box_vlmevalkit("[-5, 10, 2000, 30]", sample(), CTX).value == [0.0, 10.0, 640.0, 30.0]


def test_vlmevalkit_swaps_inverted_corners():
    assert box_vlmevalkit("[0.5, 0.5, 0.25, 0.25]", sample(), CTX).value == [160.0, 120.0, 320.0, 240.0]


def test_vlmevalkit_first_four_numbers_fallback():
    assert box_vlmevalkit("box: 100, 200, 300 and 400", sample(), CTX).value == [64.0, 96.0, 192.0, 192.0]
    assert parse_box_vlmevalkit("x1=10 y1=20") == [1.0, 10.0, 1.0, 20.0]


def test_vlmevalkit_exponents_and_too_few_numbers():
    assert parse_box_vlmevalkit("[1e2, 2E2, 3e+2, .4e3]") == [100.0, 200.0, 300.0, 400.0]
    extraction = box_vlmevalkit("only 1, 2, 3", sample(), CTX)
    assert extraction.value is None
    assert extraction.method == "none"


def test_vlmevalkit_missing_size_is_one():
    assert box_vlmevalkit("[0.5, 0.5, 1.0, 1.0]", sample(None, None), CTX).value == [0.5, 0.5, 1.0, 1.0]


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet="[]0123.,-+eE \n", max_size=40))
def test_vlmevalkit_parser_equals_the_reference_patterns(text):
    match = VLM_BOX.search(text)
    expected: list[float] | None
    if match is not None:
        expected = [float(group) for group in match.groups()]
    else:
        numbers = re.findall(VLM_NUMBER, text)
        expected = [float(number) for number in numbers[:4]] if len(numbers) >= 4 else None
    assert parse_box_vlmevalkit(text) == expected


def test_vlmevalkit_parser_is_fast_on_a_long_digit_run():
    assert parse_box_vlmevalkit("[" + "1" * 100000) is None


# --- no input crashes either extractor -----------------------------------------------------------------------

@settings(max_examples=300, deadline=None)
@given(st.text(), st.one_of(st.none(), st.integers(-5, 5000), st.floats(allow_nan=True)))
def test_extractors_never_crash(text, width):
    for extractor in (box_internvl, box_vlmevalkit):
        extraction = extractor(text, sample(width, 480), CTX)
        assert extraction.value is None or len(extraction.value) == 4


@pytest.mark.parametrize("text", ["", "[" * 10000, "9" * 100000, "[[1e999, 1, 2, 3]]", "[nan, 1, 2, 3]"])
def test_extractors_on_edge_strings(text):
    for extractor in (box_internvl, box_vlmevalkit):
        extraction = extractor(text, sample(), CTX)
        assert extraction.value is None or len(extraction.value) == 4
