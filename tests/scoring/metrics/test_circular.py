"""Golden tests for the local CircularEval of MMBench / CCBench."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from evalkit.data.sample import Sample
from evalkit.judge.base import JudgeError
from evalkit.scoring.extract import choice
from evalkit.scoring.metrics.circular import build_groups, circular_accuracy_suite, group_index
from evalkit.scoring.types import Extraction, ScoringContext, ScoringItem
from tests.fakes import FakeJudge

TEXTS = ("cat", "dog", "cow", "pig")
HEAD = {"matcher": "can_infer_head"}
PAPER = {"matcher": "can_infer_2404"}


def rotated(question: int, shift: int, answer_text: str = "cat") -> tuple[tuple[tuple[str, str], ...], str]:
    """The options rotated by ``shift`` and the letter that then holds ``answer_text``."""
    texts = TEXTS[shift:] + TEXTS[:shift]
    options = tuple(zip("ABCD", texts, strict=True))
    return options, "ABCD"[texts.index(answer_text)]


def group(question: int, replies: Sequence[str], extractor: Any = choice.raw, error_at: int | None = None,
          l2: str | None = None, **metadata: Any) -> list[ScoringItem]:
    """A question's main row and rotated copies (index + k * 1e6), each with its reply."""
    if l2 is not None:
        metadata["l2-category"] = l2
    rows = []
    for shift, reply in enumerate(replies):
        options, answer = rotated(question, shift)
        sample = Sample(index=question + shift * 1_000_000, question="Which animal?", options=options,
                        answers=(answer,), metadata=metadata)
        error = "boom" if shift == error_at else None
        extraction = Extraction(None, "error") if error else extractor(reply, sample, ScoringContext())
        rows.append(ScoringItem(sample, reply, error, extraction))
    return rows


def test_all_rows_right_by_option_text_scores_one():
    # Each row has its own options: "cat" is A, D, C, B in turn, and the text step finds it every time.
    result = circular_accuracy_suite(group(1, ["cat", "cat", "cat", "cat"]), ScoringContext(options=HEAD))
    assert result.score == 100.0
    assert result.breakdown["decided_by"] == {"prefetch": 1}
    assert [s.extracted for s in result.samples] == ["A", "D", "C", "B"]


def test_one_wrong_row_scores_zero_even_with_an_open_row():
    replies = ["A", "no idea", "B", "B"]  # row 2's answer is C: wrong
    judge = FakeJudge(["D"])
    result = circular_accuracy_suite(group(1, replies), ScoringContext(options=HEAD, judge=judge))
    assert result.score == 0.0
    assert judge.prompts == []  # prefetch decided: the judge is never asked
    assert result.breakdown["decided_by"] == {"prefetch": 1}


def test_refusal_z_fails_the_group():
    result = circular_accuracy_suite(group(1, ["A", "Cannot determine the answer", "C", "B"]),
                                     ScoringContext(options=HEAD))
    assert result.score == 0.0
    assert result.samples[1].extracted == "Z"


def test_unresolved_without_judge_is_zero_and_a_lower_bound():
    items = group(1, ["A", "D", "C", "B"]) + group(2, ["A", "hmm", "C", "B"])
    result = circular_accuracy_suite(items, ScoringContext(options=HEAD))
    assert result.score == 50.0
    assert result.n == 2
    assert result.breakdown["unresolved_groups"] == 1
    assert result.breakdown["lower_bound"] is True
    assert result.breakdown["decided_by"] == {"prefetch": 1, "unresolved": 1}


def test_judge_resolves_the_open_rows():
    judge = FakeJudge(["D"])
    result = circular_accuracy_suite(group(1, ["A", "a feline", "C", "B"]), ScoringContext(options=HEAD, judge=judge))
    assert result.score == 100.0
    assert len(judge.prompts) == 1
    assert "Answer: a feline\nYour output: " in judge.prompts[0]
    assert result.samples[1].method == "judge"
    assert result.breakdown["decided_by"] == {"judge": 1}
    assert result.breakdown["lower_bound"] is False


def test_first_wrong_judged_row_stops_the_group():
    judge = FakeJudge(["A", "C"])  # row 1's answer is D: the judge's A ends the group
    result = circular_accuracy_suite(group(1, ["A", "hmm", "uh", "B"]), ScoringContext(options=HEAD, judge=judge))
    assert result.score == 0.0
    assert len(judge.prompts) == 1
    assert result.samples[2].extracted is None
    assert result.samples[2].extra["row_hit"] is None


def test_failed_judge_draws_a_seeded_random_option():
    judge = FakeJudge([JudgeError("down")])
    ctx = ScoringContext(options=HEAD, judge=judge, seed=11)
    first = circular_accuracy_suite(group(1, ["A", "hmm", "C", "B"]), ctx)
    again = circular_accuracy_suite(group(1, ["A", "hmm", "C", "B"]), ctx)
    assert first.samples[1].method == "random"
    assert first.samples[1].extracted == again.samples[1].extracted
    assert len(judge.prompts) == 6


def test_paper_protocol_matches_the_post_processed_letter_with_2404_rules():
    items = group(1, ["A", "D. cat", "The cat", "B"], extractor=choice.letter_postprocess)
    assert [item.extraction.value for item in items] == ["A", "D", "C", "B"]
    assert circular_accuracy_suite(items, ScoringContext(options=PAPER)).score == 100.0


def test_head_and_2404_differ_on_a_long_reply():
    reply = "A is what the picture shows, clearly and without any doubt"
    items = group(1, [reply, "D", "C", "B"])
    assert circular_accuracy_suite(items, ScoringContext(options=PAPER)).score == 100.0
    result = circular_accuracy_suite(items, ScoringContext(options=HEAD))
    assert (result.score, result.breakdown["unresolved_groups"]) == (0.0, 1)


def test_an_inference_error_fails_the_group():
    result = circular_accuracy_suite(group(1, ["A", "D", "C", "B"], error_at=2), ScoringContext(options=HEAD))
    assert result.score == 0.0
    assert result.breakdown["errors"] == 1
    assert result.samples[2].method == "error"


def test_details_keep_every_row_with_main_rows_scored():
    result = circular_accuracy_suite(group(5, ["A", "D", "C", "B"]), ScoringContext(options=HEAD))
    assert [s.index for s in result.samples] == [5, 1_000_005, 2_000_005, 3_000_005]
    assert [s.score for s in result.samples] == [1.0, None, None, None]
    assert [s.extra["row_hit"] for s in result.samples] == [1.0, 1.0, 1.0, 1.0]
    assert {s.extra["group_hit"] for s in result.samples} == {1.0}
    assert [s.extra["role"] for s in result.samples] == ["main", "rotation", "rotation", "rotation"]
    json.dumps([s.extra for s in result.samples], allow_nan=False)


def test_breakdown_per_split_and_abbreviated_abilities():
    items = (group(1, ["A", "D", "C", "B"], split="dev", category="ocr", l2="coarse_perception")
             + group(2, ["B", "D", "C", "B"], split="dev", category="ocr", l2="logic_reasoning"))
    breakdown = circular_accuracy_suite(items, ScoringContext(options=HEAD)).breakdown
    assert breakdown["split"] == {"dev": 50.0}
    assert breakdown["l2-category"] == {"CP": 100.0, "LR": 0.0}
    assert breakdown["category"] == {"ocr": 50.0}
    assert (breakdown["n"], breakdown["rows"], breakdown["hits"]) == (2, 8, 1)


def test_orphan_rotations_are_not_scored():
    items = group(1, ["A", "D"]) + group(2, ["A", "D"])[1:]
    result = circular_accuracy_suite(items, ScoringContext(options=HEAD))
    assert result.n == 1
    assert result.breakdown["orphan_rows"] == 1
    assert result.samples[2].score is None


def test_rows_are_grouped_by_index_modulo_a_million_main_first():
    items = list(reversed(group(3, ["A", "D", "C"])))
    groups, orphans = build_groups(items)
    assert len(groups) == 1 and not orphans
    assert [items[p].sample.index for p in groups[0].rows] == [3, 1_000_003, 2_000_003]
    assert (group_index(2_000_003), group_index("1000003"), group_index("x")) == (3, 3, None)


def test_hidden_answers():
    sample = Sample(index=1, question="q", options=(("A", "x"),))
    result = circular_accuracy_suite([ScoringItem(sample, "A")], ScoringContext(options=HEAD))
    assert (result.score, result.reason) == (None, "answers hidden")
