"""MathVista accuracy: the official normalise-and-compare (paper) and VLMEvalKit's own pipeline.

Card metric names implemented here:

* ``mathvista`` → :func:`mathvista_suite` (InternVL ``eval/mathvista/calculate_score.py``, the official scorer);
* ``mathvista_vlmevalkit`` → :func:`mathvista_vlmevalkit_suite` (VLMEvalKit ``vlmeval/dataset/utils/mathvista.py``:
  prefetch, its own 5-shot judge prompt, ``post_check``), which extracts from the raw reply itself.

Both need a judge for the replies the rules cannot read: without one, or when
the judge fails, the suite is reported as not scored (score None) and the
breakdown says what the rules alone resolved.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from evalkit.judge.base import JudgeError
from evalkit.scoring.extract.mathvista import NEEDS_JUDGE, Problem, literal_items, problem_fields, prompt_text
from evalkit.scoring.types import SampleScore, ScoringContext, ScoringItem, SuiteScore

_PAREN_LETTER = re.compile(r"\(([a-zA-Z])\)")
#: The keys of the official per-attribute table that VLMEvalKit's TSV carries.
BREAKDOWN_KEYS = ("question_type", "answer_type", "task", "skills")
#: VLMEvalKit ``MathVista_auxeval``: 5 tries at temperature 0.5 * i; ``build_judge(max_tokens=128)``.
VLMEVALKIT_TRIES = 5
VLMEVALKIT_MAX_TOKENS = 128
PREFETCH = "Prefetch succeed"
#: What the paper's pipeline does with a float question (``breakdown["float_questions"]["why"]``).
FLOAT_NOTE = ("scored 0 as in the paper: InternVL eval/mathvista/calculate_score.py@83c72bc calls "
              "round(x, precision) with the dataset's float precision (2.0), which raises TypeError; "
              "its bare except makes the answer None")


def levenshtein(first: str, second: str) -> int:
    """Edit distance with unit costs over code points (what ``Levenshtein.distance`` computes)."""
    if len(first) < len(second):
        first, second = second, first
    previous = list(range(len(second) + 1))
    for i, char in enumerate(first, start=1):
        current = [i]
        for j, other in enumerate(second, start=1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (char != other)))
        previous = current
    return previous[-1]


def most_similar(prediction: str, choices: Sequence[str]) -> str:
    """``get_most_similar``: the choice at the smallest edit distance, the first one on ties."""
    distances = [levenshtein(prediction, choice) for choice in choices]
    return choices[distances.index(min(distances))]


def is_float_question(problem: Problem) -> bool:
    """A free-form question with a float answer: the ones ``calculate_score.py`` rounds to ``precision``."""
    return problem.question_type != "multi_choice" and problem.answer_type == "float"


def normalize(extraction: str, problem: Problem, working_round: bool = True) -> str | None:
    """``normalize_extracted_answer`` of ``calculate_score.py``.

    MCQ (whatever the answer type): strip; the first "(x)" gives the letter X
    (uppercased); a letter in range → that choice's text; anything else → the
    most similar choice, so "" becomes the shortest choice. Integer:
    ``str(int(float(x)))``. Float: ``str(round(float(x), precision))``. List:
    ``str(x)``. Any other type: unchanged. A failed conversion gives None.

    ``working_round=False`` is the paper's run (InternVL ``eval/mathvista/calculate_score.py`` @83c72bc
    on ``AI4Math/MathVista``): ``precision`` comes from the Hugging Face dataset as a float (``2.0``),
    ``round(x, 2.0)`` raises ``TypeError`` and the bare ``except`` returns None, so every float
    question is wrong. ``True`` rounds to ``int(precision)``, as the script does once that is fixed.
    """
    if problem.question_type == "multi_choice":
        text = extraction.strip()
        letters = _PAREN_LETTER.findall(text)
        if letters:
            text = letters[0].upper()
        options = [chr(ord("A") + i) for i in range(len(problem.choices))]
        if text in options:
            return problem.choices[options.index(text)]
        return most_similar(text, problem.choices) if problem.choices else None
    try:
        if problem.answer_type == "integer":
            return str(int(float(extraction)))
        if problem.answer_type == "float":
            if problem.precision is None or not working_round:
                return None
            return str(round(float(extraction), problem.precision))
    except (ValueError, OverflowError):
        return None
    return extraction


def _prediction(item: ScoringItem) -> str:
    return "\n".join(item.prediction) if isinstance(item.prediction, tuple) else item.prediction


def _skills(value: Any) -> list[str]:
    """``eval(skills)``, or the cell itself when it is no list (VLMEvalKit's ``except SyntaxError``)."""
    parsed = literal_items(value)
    if parsed is not None:
        return [str(skill) for skill in parsed]
    return [] if value is None or value == "" else [str(value)]


def _labels(item: ScoringItem, key: str) -> list[str]:
    value = item.sample.metadata.get(key)
    if key == "skills":
        return _skills(value)
    return [] if value is None or value == "" else [str(value)]


def _accuracy_table(items: Sequence[ScoringItem], hits: Sequence[bool]) -> dict[str, dict[str, dict[str, Any]]]:
    """``get_acc_with_contion`` for each key present: {value: accuracy (%), correct, total}."""
    table: dict[str, dict[str, dict[str, Any]]] = {}
    for key in BREAKDOWN_KEYS:
        counts: dict[str, list[int]] = {}
        for item, hit in zip(items, hits, strict=True):
            for label in _labels(item, key):
                entry = counts.setdefault(label, [0, 0])
                entry[0] += int(hit)
                entry[1] += 1
        if counts:
            table[key] = {label: {"accuracy": 100.0 * c / t, "correct": c, "total": t}
                          for label, (c, t) in sorted(counts.items())}
    return table


def _not_scored(metric: str, items: Sequence[ScoringItem], reason: str,
                breakdown: Mapping[str, Any], samples: Sequence[SampleScore] | None = None) -> SuiteScore:
    if samples is None:
        samples = [SampleScore(item.sample.index, _prediction(item), None, None,
                               "error" if item.error is not None else "none") for item in items]
    return SuiteScore(metric, None, len(items), dict(breakdown), samples, reason=reason)


def _unresolved_reason(notes: Iterable[str | None]) -> str:
    failures = sum(1 for note in notes if note and note.startswith("judge failed"))
    if failures:
        return f"judge failed on {failures} sample(s) (answer extraction); score again to retry them"
    return f"{NEEDS_JUDGE}; run with --judge"


def _rules_only(samples: Sequence[SampleScore], items: Sequence[ScoringItem]) -> dict[str, Any]:
    resolved = [s for s in samples if s.method == "rule" and s.score is not None]
    correct = sum(s.score or 0.0 for s in resolved)
    return {"rules_resolved": len(resolved), "rules_correct": int(correct),
            "rules_accuracy": 100.0 * correct / len(resolved) if resolved else None,
            "unresolved": sum(s.score is None for s in samples),
            "errors": sum(item.error is not None for item in items)}


def _paper_sample(item: ScoringItem) -> SampleScore:
    prediction = _prediction(item)
    if item.error is not None:
        return SampleScore(item.sample.index, prediction, None, 0.0, "error", {"error": item.error})
    problem = problem_fields(item.sample)
    value = item.extraction.value
    if value is None:
        if is_float_question(problem):  # 0 whatever the extraction: see normalize(working_round=False)
            return SampleScore(item.sample.index, prediction, None, 0.0, item.extraction.method,
                               {"note": item.extraction.note, "float_question": FLOAT_NOTE})
        return SampleScore(item.sample.index, prediction, None, None, item.extraction.method,
                           {"note": item.extraction.note})
    normalized = normalize(str(value), problem, working_round=False)
    extra: dict[str, Any] = {"extraction": value, "answer": problem.answer}
    if problem.precision_inferred:
        extra["precision_inferred"] = problem.precision
    if is_float_question(problem):
        extra["float_question"] = FLOAT_NOTE
        extra["working_round_correct"] = normalize(str(value), problem, working_round=True) == problem.answer
    return SampleScore(item.sample.index, prediction, normalized, float(normalized == problem.answer),
                       item.extraction.method, extra)


def float_questions(items: Sequence[ScoringItem], samples: Sequence[SampleScore]) -> dict[str, Any]:
    """How the paper's pipeline treats the free-form float questions, and what a working ``round`` would give."""
    floats = [sample for item, sample in zip(items, samples, strict=True)
              if item.error is None and is_float_question(problem_fields(item.sample))]
    return {"n": len(floats), "scored_0_by_the_paper_code": len(floats),
            "credited_by_a_working_round": sum(sample.extra.get("working_round_correct") is True for sample in floats),
            "not_extracted": sum("working_round_correct" not in sample.extra for sample in floats),
            "why": FLOAT_NOTE}


def mathvista_suite(items: Sequence[ScoringItem], ctx: ScoringContext) -> SuiteScore:
    """MathVista, paper protocol: InternVL ``eval/mathvista/calculate_score.py`` (= the official scorer).

    Each extraction (from the ``mathvista`` extractor) is normalised by
    :func:`normalize` and is right iff it ``==`` the ``answer`` string
    (``safe_equal``). Accuracy = right / all samples × 100; ``breakdown`` has the
    official per-attribute table for question_type, answer_type, task and skills.

    Quirks reproduced on purpose: see :func:`normalize` (empty extraction →
    shortest choice; ties → first choice). Every free-form float question scores
    0, as in the paper's run (``round(x, 2.0)`` raises ``TypeError``; the paper's
    "0 of 40 float questions"), whatever its extraction; ``breakdown["float_questions"]``
    says how many there were and how many a working ``round`` (to ``int(precision)``,
    or the answer's decimal places where the data has no precision column: VLMEvalKit's
    TSV) would have credited. An inference error scores 0 (``breakdown["errors"]``).
    If any other sample has no extraction (no judge, or the judge failed) the suite
    is not scored; the breakdown still gives what the rules alone resolved.
    """
    if not items:
        return _not_scored("mathvista", items, "no samples to score", {})
    if all(not item.sample.answers for item in items):
        return _not_scored("mathvista", items, "answers hidden", {"errors": sum(i.error is not None for i in items)})
    samples = [_paper_sample(item) for item in items]
    if any(sample.score is None for sample in samples):
        reason = _unresolved_reason(item.extraction.note for item in items if item.error is None)
        return _not_scored("mathvista", items, reason, _rules_only(samples, items), samples)
    hits = [sample.score == 1.0 for sample in samples]
    breakdown: dict[str, Any] = {"correct": sum(hits), "total": len(items),
                                 "errors": sum(item.error is not None for item in items),
                                 "by_method": _count(sample.method for sample in samples),
                                 "float_questions": float_questions(items, samples),
                                 **_accuracy_table(items, hits)}
    return SuiteScore("mathvista", 100.0 * sum(hits) / len(items), len(items), breakdown, samples)


def _count(values: Iterable[str]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for value in values:
        counts[value] = counts.get(value, 0) + 1
    return counts


# --------------------------------------------------------------------------- VLMEvalKit


def vlmevalkit_prompt(question: str, prediction: str) -> str:
    """``build_mathvista_gpt4_prompt``: task description and 5 examples, the question, then
    ``"Model respone: " + prediction + "Extracted answer:"`` (the typo and the missing newline are VLMEvalKit's)."""
    return prompt_text("mathvista_vlmevalkit_ice.txt") + question + "\n" + "Model respone: " + prediction + \
        "Extracted answer:"


def can_infer(answer: str, choices: Sequence[str]) -> str | None:
    """VLMEvalKit ``can_infer`` @e8e78f05 on ``{A: choice 0, B: choice 1, …}`` (``list_to_dict``)."""
    from evalkit.scoring.extract.choice import match_head

    return match_head(answer, {chr(65 + i): choice for i, choice in enumerate(choices)})


def answer_option(item: ScoringItem, problem: Problem) -> str:
    """The TSV's ``answer_option``; without it, the letter of the choice equal to the answer ("" if none)."""
    given = item.sample.metadata.get("answer_option")
    if given not in (None, ""):
        return str(given)
    return chr(65 + problem.choices.index(problem.answer)) if problem.answer in problem.choices else ""


def post_check(response: Any, problem: Problem, option: str, *, prefetch: bool) -> Any:
    """VLMEvalKit ``post_check``: in prefetch mode the prefetched answer (falsy: none), else True/False.

    MCQ: ``can_infer(response)`` against ``answer_option`` (a prefetch returns
    whatever ``can_infer`` found, ``Z`` included). Integer/float: ``int``/``float``
    of the response and of the answer, compared exactly (no rounding). Text and
    list answers compare ``str(None)`` with the answer, so they are always wrong.
    """
    res: Any = None
    ans: Any = problem.answer
    try:
        if problem.question_type == "multi_choice":
            ans = option
            res = can_infer(str(response), problem.choices) or False
            if prefetch:
                return res
        elif problem.answer_type == "integer":
            res = int(response)
            ans = int(problem.answer)
        elif problem.answer_type == "float":
            res = float(response)
            ans = float(problem.answer)
        else:
            res, ans = str(res), str(ans)
    except (ValueError, OverflowError):
        pass
    if res == ans:
        return res if prefetch else True
    return False


def _ask_judge(question: str, text: str, ctx: ScoringContext) -> tuple[str | None, str | None]:
    """``MathVista_auxeval``'s loop: the first reply that is no API failure; (reply, failure)."""
    assert ctx.judge is not None
    messages = [{"role": "user", "content": vlmevalkit_prompt(question, text)}]
    failure = None
    for attempt in range(VLMEVALKIT_TRIES):
        try:
            reply = ctx.judge.complete(messages, temperature=0.5 * attempt, max_tokens=VLMEVALKIT_MAX_TOKENS)
        except JudgeError as exc:
            failure = f"judge failed: {exc}"
            continue
        return reply.strip(), None
    return None, failure


def _vlmevalkit_sample(item: ScoringItem, ctx: ScoringContext) -> SampleScore:
    prediction = _prediction(item)
    if item.error is not None:
        return SampleScore(item.sample.index, prediction, None, 0.0, "error", {"error": item.error})
    problem = problem_fields(item.sample)
    option = answer_option(item, problem)
    # An empty reply is an empty xlsx cell, read back by pandas as NaN: str(NaN) == "nan".
    text = prediction if prediction != "" else "nan"
    extra: dict[str, Any] = {"answer": problem.answer, "answer_option": option}
    res: Any = post_check(text, problem, option, prefetch=True)
    method = "rule"
    if res:
        extra["log"] = PREFETCH
    elif ctx.judge is None:
        return SampleScore(item.sample.index, prediction, None, None, "none", {**extra, "note": NEEDS_JUDGE})
    else:
        res, failure = _ask_judge(item.sample.question, text, ctx)
        if res is None:
            return SampleScore(item.sample.index, prediction, None, None, "none", {**extra, "note": failure})
        method = "judge"
    hit = post_check(res, problem, option, prefetch=False) is True
    return SampleScore(item.sample.index, prediction, res, float(hit), method, extra)


def _acc_rows(items: Sequence[ScoringItem], samples: Sequence[SampleScore]) -> dict[str, Any]:
    """``MathVista_acc``: tot, prefetch, hit, prefetch_rate, acc for Overall, each task, skill and question type."""
    rows: dict[str, dict[str, dict[str, Any]]] = {}
    for item, sample in zip(items, samples, strict=True):
        fetched = sample.extra.get("log") == PREFETCH
        hit = sample.score == 1.0
        for key in ("overall", "task", "skills", "question_type"):
            labels = ["Overall"] if key == "overall" else _labels(item, key)
            for label in labels:
                row = rows.setdefault(key, {}).setdefault(label, {"tot": 0, "prefetch": 0, "hit": 0})
                row["tot"] += 1
                row["prefetch"] += int(fetched)
                row["hit"] += int(hit)
    for table in rows.values():
        for row in table.values():
            row["prefetch_rate"] = 100.0 * row["prefetch"] / row["tot"]
            row["acc"] = 100.0 * row["hit"] / row["tot"]
    return rows


def mathvista_vlmevalkit_suite(items: Sequence[ScoringItem], ctx: ScoringContext) -> SuiteScore:
    """MathVista, VLMEvalKit: ``MathVista_auxeval`` + ``MathVista_acc`` (``vlmeval/dataset/utils/mathvista.py``).

    Starts from the raw reply (``item.prediction``), not from ``item.extraction``.

    1. Prefetch (:func:`post_check` with ``prefetch=True``): MCQ → whatever
       ``can_infer`` finds; integer/float → the parsed reply if it equals the parsed
       answer. Method "rule".
    2. Otherwise the judge: VLMEvalKit's 5-shot prompt (:func:`vlmevalkit_prompt`),
       one user message, up to 5 tries at temperature 0.5·i, ``max_tokens`` 128;
       the first reply that is not a failure counts. Method "judge".
    3. Right iff :func:`post_check` of that result is True.

    Quirks reproduced on purpose: a correct answer of 0 (or 0.0) fails the prefetch
    by truthiness and goes to the judge; numbers compare exactly, with no rounding
    to ``precision``; free-form text and list answers are always wrong; MCQ letters
    (``Z`` for a refusal included) are prefetched without checking them; an empty
    reply is sent as "nan" (VLMEvalKit's xlsx round trip); the prompt keeps
    "Model respone:" and has no newline before "Extracted answer:". The answer
    letter is the TSV's ``answer_option``, or derived from ``choices`` and ``answer``.
    A sample the judge could not read (no judge, or 5 failures) is not extracted
    and the suite is not scored. ``breakdown`` follows ``MathVista_acc`` (Overall,
    each task and skill) plus each question type.
    """
    if not items:
        return _not_scored("mathvista_vlmevalkit", items, "no samples to score", {})
    if all(not item.sample.answers for item in items):
        errors = {"errors": sum(i.error is not None for i in items)}
        return _not_scored("mathvista_vlmevalkit", items, "answers hidden", errors)
    samples = [_vlmevalkit_sample(item, ctx) for item in items]
    if any(sample.score is None for sample in samples):
        reason = _unresolved_reason(sample.extra.get("note") for sample in samples)
        return _not_scored("mathvista_vlmevalkit", items, reason, _rules_only(samples, items), samples)
    table = _acc_rows(items, samples)
    breakdown: dict[str, Any] = {**table, "errors": sum(item.error is not None for item in items),
                                 "by_method": _count(sample.method for sample in samples)}
    score = table["overall"]["Overall"]["acc"]
    return SuiteScore("mathvista_vlmevalkit", score, len(items), breakdown, samples)
