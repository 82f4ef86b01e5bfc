"""The metric of splits whose answers are hidden (DocVQA/InfoVQA/MMBench test): nothing is scored locally."""

from __future__ import annotations

from collections.abc import Sequence

from evalkit.scoring.types import SampleScore, ScoringContext, ScoringItem, SuiteScore


def not_scored_suite(items: Sequence[ScoringItem], ctx: ScoringContext) -> SuiteScore:
    """Answers are hidden: the score is None, and the submission file goes to the official server."""
    samples = [SampleScore(item.sample.index, list(item.prediction) if isinstance(item.prediction, tuple)
                           else item.prediction, item.extraction.value, None, item.extraction.method)
               for item in items]
    return SuiteScore(metric="not_scored", score=None, n=len(items), breakdown={"errors": sum(
        item.error is not None for item in items)}, samples=samples,
        reason="answers hidden: submit the submission file to the official server")
