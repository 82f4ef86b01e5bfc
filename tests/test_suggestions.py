"""The nearest known name to a mistyped one."""

from __future__ import annotations

import pytest

from evalkit.suggestions import did_you_mean, nearest

SUITES = ["AI2D_TEST", "DocVQA_TEST", "DocVQA_VAL", "MMBench_DEV_EN", "MMBench_TEST_EN", "MathVista_MINI"]


@pytest.mark.parametrize(("word", "expected"), [
    ("DocVQA_VL", "DocVQA_VAL"),  # a letter dropped
    ("docvqa_val", "DocVQA_VAL"),  # case is no typo
    ("docvqa", "DocVQA_VAL"),  # a prefix: the most similar of the names it begins
    ("mathvista", "MathVista_MINI"),
    ("Nope", None),  # nothing alike: no suggestion rather than a wild one
    ("do", None),  # too short to count as a prefix
])
def test_nearest(word: str, expected: str | None) -> None:
    assert nearest(word, SUITES) == expected


def test_did_you_mean_is_empty_without_a_suggestion() -> None:
    assert did_you_mean("DocVQA_VAL") == "; did you mean 'DocVQA_VAL'?"
    assert did_you_mean(None) == ""
