"""OCRBench (docs/protocols.md, "OCRBench"): hand-worked hits and totals from VLMEvalKit's OCRBench.evaluate."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from evalkit.data.sample import Sample
from evalkit.scoring.metrics.ocrbench import CATEGORIES, HMER, ocrbench_hit, ocrbench_suite
from evalkit.scoring.types import ScoringContext, ScoringItem

REGULAR = "Regular Text Recognition"


def item(index, prediction, answers, category, error=None):
    return ScoringItem(Sample(index, "q", answers=tuple(answers), metadata={"category": category}), prediction, error)


def test_other_categories_lowercase_substring():
    assert ocrbench_hit("The text says HELLO World.", ["hello world"], REGULAR) is True


def test_other_categories_keep_inner_spaces():
    assert ocrbench_hit("hello world", ["helloworld"], REGULAR) is False


def test_newlines_become_spaces():
    assert ocrbench_hit("hello\nworld", ["hello world"], REGULAR) is True
    assert ocrbench_hit("hello world", ["hello\nworld"], "Doc-oriented VQA") is True


def test_hmer_removes_every_space_and_keeps_case():
    assert ocrbench_hit("$x^2$", ["x ^ 2"], HMER) is True
    assert ocrbench_hit("x ^ 2", ["x^2"], HMER) is True
    assert ocrbench_hit("x^2", ["X^2"], HMER) is False
    assert ocrbench_hit("x^2", ["X^2"], REGULAR) is True
    assert ocrbench_hit("\\frac{a}\n{b}", ["\\frac{a}{b}"], HMER) is True


def test_any_answer_and_empty_answer():
    assert ocrbench_hit("cat", ["dog", "CAT"], REGULAR) is True
    assert ocrbench_hit("anything", [""], REGULAR) is True


@settings(max_examples=300, deadline=None)
@given(st.text(), st.lists(st.text(), max_size=3), st.sampled_from([HMER, REGULAR, None]))
def test_hit_never_crashes(prediction, answers, category):
    assert ocrbench_hit(prediction, answers, category) in (True, False)


def test_suite_totals_per_family():
    items = []
    for i, category in enumerate(CATEGORIES):
        items.append(item(2 * i, "yes", ["yes"], category))  # hit
        items.append(item(2 * i + 1, "no", ["yes"], category))  # miss
    items.append(item(100, "yes", ["yes"], HMER, error="failed"))  # an error is a miss
    result = ocrbench_suite(items, ScoringContext())
    assert result.breakdown["Text Recognition"] == 6
    for family in ("Scene Text-centric VQA", "Doc-oriented VQA", "Key Information Extraction", HMER):
        assert result.breakdown[family] == 1
    assert result.breakdown["Final Score"] == 10
    assert result.breakdown["Final Score Norm"] == 1.0
    assert result.score == 10.0
    assert result.breakdown["errors"] == 1
    assert result.breakdown["categories"][REGULAR] == 1
    assert result.samples[-1].method == "error"
    assert result.samples[-1].score == 0.0


def test_internvl_1_5_family_sums():
    counts = {REGULAR: 50, "Irregular Text Recognition": 48, "Artistic Text Recognition": 45,
              "Handwriting Recognition": 35, "Digit String Recognition": 30, "Non-Semantic Text Recognition": 30,
              "Scene Text-centric VQA": 178, "Doc-oriented VQA": 151, "Key Information Extraction": 153, HMER: 4}
    items = [item(f"{category}-{k}", "a", ["a"], category) for category, n in counts.items() for k in range(n)]
    result = ocrbench_suite(items, ScoringContext())
    assert result.breakdown["Text Recognition"] == 238
    assert result.score == 724.0
    assert result.breakdown["Final Score Norm"] == 72.4


def test_unknown_category_is_reported_apart():
    result = ocrbench_suite([item(0, "a", ["a"], "Mystery"), item(1, "a", ["a"], REGULAR)], ScoringContext())
    assert result.score == 1.0
    assert result.breakdown["unknown_categories"] == {"Mystery": 1}


def test_hidden_answers():
    result = ocrbench_suite([item(0, "a", [], REGULAR)], ScoringContext())
    assert result.score is None
    assert result.reason == "answers hidden"
