"""MM-Vet: a GPT-4 judge grades each open answer 0.0–1.0 against the ground truth; the score is the mean × 100.

Two graders, chosen by ``ctx.options["grader"]``:

* ``"official"`` (default, the paper): ``yuweihao/MM-Vet`` ``mm-vet_evaluator.py`` (``runs``, ``export_result``),
  prompt in ``evalkit/judge/prompts/mmvet_official.txt`` (its module-level ``prompt``, byte for byte).
* ``"vlmevalkit"``: ``open-compass/VLMEvalKit`` ``vlmeval/dataset/utils/mmvet.py`` (``build_mmvet_gpt4_prompt``,
  ``MMVet_auxeval``, ``MMVet_acc``), prompt in ``mmvet_vlmevalkit.txt`` (its own re-wrapped copy).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from evalkit.judge.base import Judge, JudgeError
from evalkit.scoring.types import SampleScore, ScoringContext, ScoringItem, SuiteScore

RETRY_SUFFIX = "\nPredict the correctness of the answer (digit): "
TRIES = 5
JUDGE_WORKERS = 8
VLMEVALKIT_CAPABILITIES = ("rec", "ocr", "know", "gen", "spat", "math")
NO_JUDGE = ("needs a judge (GPT-4 grading); run with --judge openai:gpt-4-0613 (the official grader's model; "
            "VLMEvalKit used gpt-4-1106-preview)")


@dataclass(frozen=True)
class Grader:
    prompt_file: str
    max_tokens: int


GRADERS = {"official": Grader("mmvet_official.txt", 3), "vlmevalkit": Grader("mmvet_vlmevalkit.txt", 2048)}


@dataclass(frozen=True)
class Grade:
    """A sample's grade, every judge reply and temperature in call order, and whether the grade defaulted to 0."""

    value: float
    defaulted: bool
    replies: tuple[str, ...]
    temperatures: tuple[float, ...]


@cache
def prompt_template(grader: str) -> str:
    name = GRADERS[grader].prompt_file
    return (resources.files("evalkit.judge") / "prompts" / name).read_bytes().decode("utf-8")


def grading_prompt(question: str, answer: str, prediction: str, grader: str = "official") -> str:
    """The instruction and few-shot table, a newline, then ``question | gt | prediction | `` (spaced <AND>/<OR>).

    Under ``vlmevalkit`` an empty prediction is written ``nan``: VLMEvalKit reads predictions back from a
    spreadsheet, where an empty cell becomes NaN, and formats it with ``str``.
    """
    if grader == "vlmevalkit" and prediction == "":
        prediction = "nan"
    spaced = answer.replace("<AND>", " <AND> ").replace("<OR>", " <OR> ")
    return prompt_template(grader) + "\n" + " | ".join([question, spaced, prediction, ""])


def _in_range(value: float) -> float | None:
    return value if 0.0 <= value <= 1.0 else None  # NaN fails both comparisons: rejected


def parse_grade_official(reply: str) -> float | None:
    """``content.split(" ")[0].strip()`` as a float in [0, 1]: split on single spaces, not all whitespace."""
    try:
        return _in_range(float(reply.split(" ")[0].strip()))
    except ValueError:
        return None


def parse_grade_vlmevalkit(reply: str) -> float | None:
    """``float(output)`` of the whole reply (Python trims surrounding whitespace) in [0, 1]."""
    try:
        return _in_range(float(reply))
    except ValueError:
        return None


def grade_official(judge: Judge, prompt: str) -> Grade:
    """``runs``: one call at temperature 0; while unparsable, re-ask with :data:`RETRY_SUFFIX` appended.

    The temperature starts at 0.0 and rises by 0.5 after each re-ask, so the five parsed replies come at
    0.0, 0.0, 0.5, 1.0, 1.5. If the fifth is still unparsable the grade is 0.0 (the official loop makes a
    sixth call at 2.0 whose reply it never reads; evalkit skips that call, the grade is the same).
    """
    replies: list[str] = []
    temperatures: list[float] = []

    def ask(content: str, temperature: float) -> float | None:
        temperatures.append(temperature)
        replies.append(judge.complete([{"role": "user", "content": content}], temperature=temperature,
                                      max_tokens=GRADERS["official"].max_tokens))
        return parse_grade_official(replies[-1])

    value = ask(prompt, 0.0)
    temperature = 0.0
    while value is None and len(replies) < TRIES:
        value = ask(prompt + RETRY_SUFFIX, temperature)
        temperature += 0.5
    return Grade(value if value is not None else 0.0, value is None, tuple(replies), tuple(temperatures))


def grade_vlmevalkit(judge: Judge, prompt: str) -> Grade:
    """``MMVet_auxeval``: five tries of the same prompt at temperature 0.5·i; all failing grade 0.0."""
    replies: list[str] = []
    temperatures: list[float] = []
    for attempt in range(TRIES):
        temperatures.append(attempt * 0.5)
        replies.append(judge.complete([{"role": "user", "content": prompt}], temperature=temperatures[-1],
                                      max_tokens=GRADERS["vlmevalkit"].max_tokens))
        value = parse_grade_vlmevalkit(replies[-1])
        if value is not None:
            return Grade(value, False, tuple(replies), tuple(temperatures))
    return Grade(0.0, True, tuple(replies), tuple(temperatures))


GRADE_FUNCTIONS: dict[str, Callable[[Judge, str], Grade]] = {"official": grade_official,
                                                             "vlmevalkit": grade_vlmevalkit}


def _category_text(value: Any) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return ""
    if isinstance(value, (list, tuple)):
        return ",".join(str(part).strip() for part in value)
    return str(value)


def capabilities(category: Any, grader: str) -> list[str]:
    """The sample's capabilities: the comma-separated names (official, as a set), or VLMEvalKit's six by
    substring (``capa in cate``)."""
    text = _category_text(category)
    if grader == "vlmevalkit":
        return [name for name in VLMEVALKIT_CAPABILITIES if name in text]
    return list(dict.fromkeys(part.strip() for part in text.split(",") if part.strip()))


def _integration_key(category: Any, grader: str) -> tuple[Any, str]:
    """The capability-integration group: the set of capabilities (official) or the exact string (VLMEvalKit)."""
    text = _category_text(category)
    if grader == "vlmevalkit":
        return text, text
    parts = capabilities(category, grader)
    return frozenset(parts), ",".join(parts)


def _percentages(groups: dict[Any, list[float]], names: dict[Any, str],
                 order: Sequence[Any] | None = None) -> tuple[dict[str, float], dict[str, int]]:
    """Mean × 100 and count per group, most common first (ties in order of appearance) unless ``order`` is given."""
    ordered = order if order is not None else sorted(groups, key=lambda key: -len(groups[key]))
    scores = {names[key]: 100 * sum(groups[key]) / len(groups[key]) for key in ordered}
    return scores, {names[key]: len(groups[key]) for key in ordered}


def capability_breakdown(items: Sequence[ScoringItem], grades: Sequence[float], grader: str) -> dict[str, Any]:
    """Per capability and per capability integration: mean grade × 100 over the samples that carry it.

    Official order: most common first (``Counter.most_common``); VLMEvalKit: its fixed order rec, ocr, know,
    gen, spat, math. Capabilities no sample carries are left out (VLMEvalKit would divide by zero).
    """
    caps: dict[Any, list[float]] = {}
    groups: dict[Any, list[float]] = {}
    group_names: dict[Any, str] = {}
    for item, grade in zip(items, grades, strict=True):
        category = item.sample.metadata.get("category")
        for name in capabilities(category, grader):
            caps.setdefault(name, []).append(grade)
        key, name = _integration_key(category, grader)
        if name:
            groups.setdefault(key, []).append(grade)
            group_names.setdefault(key, name)
    order = [name for name in VLMEVALKIT_CAPABILITIES if name in caps] if grader == "vlmevalkit" else None
    cap_scores, cap_counts = _percentages(caps, {name: name for name in caps}, order)
    group_scores, group_counts = _percentages(groups, group_names)
    return {"capabilities": cap_scores, "capability_counts": cap_counts,
            "capability_integration": group_scores, "capability_integration_counts": group_counts}


def _grade_one(item: ScoringItem, judge: Judge, grader: str) -> Grade | str | None:
    """The grade, the judge's error message, or None for an inference error (no judge call)."""
    if item.error is not None:
        return None
    prediction = item.prediction if isinstance(item.prediction, str) else "\n".join(item.prediction)
    prompt = grading_prompt(item.sample.question, item.sample.answers[0], prediction, grader)
    try:
        return GRADE_FUNCTIONS[grader](judge, prompt)
    except JudgeError as exc:
        return str(exc)


def _sample_score(item: ScoringItem, outcome: Grade | str | None, judge_model: str) -> SampleScore:
    prediction = item.prediction if isinstance(item.prediction, str) else list(item.prediction)
    if outcome is None:
        return SampleScore(item.sample.index, prediction, None, 0.0, "error", {"error": item.error})
    if isinstance(outcome, str):
        return SampleScore(item.sample.index, prediction, None, None, "none", {"judge_error": outcome})
    extra: dict[str, Any] = {"judge_model": judge_model, "judge_replies": list(outcome.replies),
                             "temperatures": list(outcome.temperatures), "tries": len(outcome.replies),
                             "grade_defaulted": outcome.defaulted}
    if outcome.defaulted:
        extra["note"] = f"grade defaulted: no grade in [0, 1] parsed in {TRIES} tries, graded 0.0 as the reference"
    return SampleScore(item.sample.index, prediction, outcome.value, outcome.value, "judge", extra)


def _unscorable(items: Sequence[ScoringItem], ctx: ScoringContext) -> str | None:
    if not items:
        return "no samples to score"
    without = [item.sample.index for item in items if not item.sample.answers]
    if len(without) == len(items):
        return "answers hidden"
    if without:
        return f"{len(without)} of {len(items)} samples have no ground truth (first: {without[:5]})"
    return NO_JUDGE if ctx.judge is None else None


def mmvet_judge_suite(items: Sequence[ScoringItem], ctx: ScoringContext) -> SuiteScore:
    """MM-Vet total (%) = 100 × Σ grades / N, with per-capability and capability-integration scores.

    Official: ``yuweihao/MM-Vet`` ``mm-vet_evaluator.py`` ``runs`` / ``export_result`` (grader "official", judge
    gpt-4-0613, ``max_tokens`` 3); ``open-compass/VLMEvalKit`` ``vlmeval/dataset/utils/mmvet.py``
    ``MMVet_auxeval`` / ``MMVet_acc`` (grader "vlmevalkit", ``max_tokens`` 2048). Reproduced on purpose:
    * the prompt is the reference's instruction and 7-row few-shot table + "\\n" + ``question | gt | pred | ``
      with " <AND> " / " <OR> " spaced in the GT (VLMEvalKit: its own copy, which starts with a newline);
    * official parsing takes ``reply.split(" ")[0].strip()``; re-asks append :data:`RETRY_SUFFIX` at
      temperatures 0.0, 0.0, 0.5, 1.0, 1.5; VLMEvalKit parses the whole reply, 5 tries at 0.5·i;
    * after 5 unparsable replies the grade is 0.0, flagged ``grade_defaulted`` in the sample's extra;
    * N counts every sample given (the official divides by its 218 ids); a failed inference grades 0.0;
    * capabilities: official counts each comma-separated name once per sample and groups integrations by the
      set of names; VLMEvalKit finds its six names by substring and groups by the exact category string.
    Deviation: a reply parsing to NaN is rejected (the official range check lets NaN through).
    Not scored (score None): hidden answers, no judge (never 0), or a judge error on any sample.
    """
    grader = str(ctx.options.get("grader", "official"))
    if grader not in GRADERS:
        raise ValueError(f"MM-Vet scoring option 'grader' must be one of {sorted(GRADERS)}, got {grader!r}")
    errors = sum(item.error is not None for item in items)
    reason = _unscorable(items, ctx)
    if reason is not None or ctx.judge is None:
        samples = [_sample_score(item, None, "") if item.error is not None else
                   SampleScore(item.sample.index, item.prediction if isinstance(item.prediction, str)
                               else list(item.prediction), None, None, "none") for item in items]
        return SuiteScore("mmvet_judge", None, len(items), {"grader": grader, "errors": errors}, samples,
                          reason=reason or NO_JUDGE)
    judge = ctx.judge
    with ThreadPoolExecutor(max_workers=min(JUDGE_WORKERS, len(items))) as pool:
        outcomes = list(pool.map(lambda item: _grade_one(item, judge, grader), items))
    samples = [_sample_score(item, outcome, judge.model) for item, outcome in zip(items, outcomes, strict=True)]
    settings = {"grader": grader, "judge_model": judge.model, "judge_max_tokens": GRADERS[grader].max_tokens,
                "tries": TRIES, "errors": errors}
    failed = [(item.sample.index, outcome) for item, outcome in zip(items, outcomes, strict=True)
              if isinstance(outcome, str)]
    if failed:
        reason = (f"judge failed for {len(failed)} of {len(items)} samples (first: {failed[0][0]}: {failed[0][1]}); "
                  "re-run to retry them")
        return SuiteScore("mmvet_judge", None, len(items), {**settings, "judge_failures": len(failed)}, samples,
                          reason=reason)
    grades = [sample.score or 0.0 for sample in samples]
    total = 100 * sum(grades) / len(items)
    breakdown = {**settings, "total": total, "n": len(items),
                 "grades_defaulted": sum(bool(sample.extra.get("grade_defaulted")) for sample in samples),
                 **capability_breakdown(items, grades, grader)}
    return SuiteScore("mmvet_judge", total, len(items), breakdown, samples)
