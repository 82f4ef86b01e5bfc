"""MathVista answer extraction, paper protocol: the official pipeline as InternVL runs it.

Card extractor name implemented here: ``mathvista`` → :func:`mathvista`.

Also the sample fields both MathVista metrics read (:func:`problem_fields`) and
the two judge prompts kept as data files in ``evalkit/judge/prompts/``:
``mathvista_ext_ans.txt`` (the official ``demo_prompt``, stripped) and
``mathvista_vlmevalkit_ice.txt`` (VLMEvalKit's task description and 5 examples,
each followed by a newline, exactly as ``build_mathvista_gpt4_prompt`` joins them).
"""

from __future__ import annotations

import ast
import functools
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any

from evalkit.data.sample import Sample
from evalkit.judge.base import JudgeError
from evalkit.scoring.types import Extraction, ScoringContext

#: ``get_chat_response`` defaults in InternVL ``eval/mathvista/utilities.py``.
OFFICIAL_TEMPERATURE = 0.0
OFFICIAL_MAX_TOKENS = 256
#: Set ``scoring_options.answer_extraction = "in_metric"`` where the metric extracts for itself
#: (``mathvista_vlmevalkit``): the extractor then makes no judge call.
IN_METRIC = "in_metric"
NEEDS_JUDGE = "needs a judge (answer extraction)"

_LITERAL_ERRORS = (ValueError, TypeError, SyntaxError, MemoryError, RecursionError)


@functools.cache
def prompt_text(name: str) -> str:
    """A prompt data file of ``evalkit/judge/prompts``, byte for byte (read once)."""
    return resources.files("evalkit.judge").joinpath("prompts", name).read_text(encoding="utf-8")


def official_prompt(query: str, response: str) -> str:
    """``create_test_prompt``: demo prompt (stripped) + ⏎⏎ + query + ⏎⏎ + reply + ⏎⏎ + ``Extracted answer: ``."""
    demo = prompt_text("mathvista_ext_ans.txt").strip()
    return f"{demo}\n\n{query}\n\n{response}\n\nExtracted answer: "


def literal_items(value: Any) -> list[Any] | None:
    """A list cell: a real list, or a Python list literal (VLMEvalKit's ``eval``); None when it is neither."""
    if isinstance(value, (list, tuple)):
        return list(value)
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        parsed = ast.literal_eval(value.strip())
    except _LITERAL_ERRORS:
        return None
    return list(parsed) if isinstance(parsed, (list, tuple)) else None


@dataclass(frozen=True)
class Problem:
    """The fields of a MathVista problem the scorers use (``annot_testmini.json`` names)."""

    question_type: str
    answer_type: str
    choices: tuple[str, ...]
    precision: int | None
    answer: str
    precision_inferred: bool = False


def _precision(value: Any, answer: str, answer_type: str) -> tuple[int | None, bool]:
    """``int(precision)``; where the data has no precision (VLMEvalKit's TSV), the answer's decimal places."""
    if value is not None and value != "":
        try:
            return int(float(value)), False
        except (TypeError, ValueError, OverflowError):
            return None, False
    if answer_type != "float":
        return None, False
    decimals = answer.strip().partition(".")[2]
    return len(decimals), True


def problem_fields(sample: Sample) -> Problem:
    """question_type, answer_type, choices (as strings), precision and the GT ``answer`` of one sample."""
    metadata = sample.metadata
    answer = sample.answers[0] if sample.answers else ""
    answer_type = str(metadata.get("answer_type", ""))
    choices = tuple(str(choice) for choice in literal_items(metadata.get("choices")) or ())
    precision, inferred = _precision(metadata.get("precision"), answer, answer_type)
    return Problem(str(metadata.get("question_type", "")), answer_type, choices, precision, answer, inferred)


def rule_extraction(response: str, problem: Problem) -> str | None:
    """Steps 1–3 of ``extract_answer``; None when the judge has to decide.

    ``response == ""`` → ""; MCQ and the reply is one of the choices (exact
    membership) → the reply; integer answer and ``int(reply)`` parses → its
    ``str``; float answer and ``float(reply)`` parses → ``str(float(reply))``.
    Python's own parsers decide, so " 12 ", "1_000", "+3" and full-width digits
    are integers, and "1e3", "nan" and "inf" are floats.
    """
    if response == "":
        return ""
    if problem.question_type == "multi_choice" and response in problem.choices:
        return response
    if problem.answer_type == "integer":
        try:
            return str(int(response))
        except ValueError:
            pass
    if problem.answer_type == "float":
        try:
            return str(float(response))
        except ValueError:
            pass
    return None


def _judge_messages(prompt: str) -> Sequence[dict[str, str]]:
    return [{"role": "user", "content": prompt}]


def mathvista(prediction: str, sample: Sample, ctx: ScoringContext) -> Extraction:
    """MathVista, paper protocol: InternVL ``eval/mathvista/extract_answer.py`` ``extract_answer``
    (= lupantech/MathVista ``evaluation/extract_answer.py`` with ``query`` as the question).

    The rules of :func:`rule_extraction` first (method "rule"). Otherwise one judge
    call: a single user message :func:`official_prompt` (the official
    ``prompts/ext_ans.py`` ``demo_prompt``, 5 examples), temperature 0,
    ``max_tokens`` 256; the reply is stripped (``get_chat_response``), method "judge".

    Quirks reproduced on purpose:

    * an empty reply is extracted as "" without asking the judge (the metric then
      matches it to the shortest MCQ choice);
    * the choice test is exact membership (no strip, no case folding);
    * the MCQ test comes before the integer/float tests whatever the answer type;
    * ``quick_extract`` is off, as in InternVL's run.

    Not reproduced: ``get_chat_response`` re-asks up to 5 times while the reply is
    empty; with a cached, deterministic judge an empty reply is kept as "".
    Without a judge the value is None (method "none") and the metric reports the
    suite as not scored; a JudgeError leaves the value None with the failure in
    the note. With ``scoring_options.answer_extraction = "in_metric"`` (the
    ``mathvista_vlmevalkit`` metric extracts for itself) no judge call is made.
    """
    problem = problem_fields(sample)
    found = rule_extraction(prediction, problem)
    if found is not None:
        return Extraction(found, "rule")
    if ctx.options.get("answer_extraction") == IN_METRIC:
        return Extraction(None, "none", "extraction left to the metric")
    if ctx.judge is None:
        return Extraction(None, "none", NEEDS_JUDGE)
    messages = _judge_messages(official_prompt(sample.question, prediction))
    try:
        reply = ctx.judge.complete(messages, temperature=OFFICIAL_TEMPERATURE, max_tokens=OFFICIAL_MAX_TOKENS)
    except JudgeError as exc:
        return Extraction(None, "none", f"judge failed: {exc}")
    return Extraction(reply.strip(), "judge")
