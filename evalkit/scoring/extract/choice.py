"""Multiple-choice extractors: rules first, then (where VLMEvalKit does so) the judge.

Card names implemented here: ``raw``, ``exact_letter`` (AI2D, paper),
``first_character`` (SEED, paper), ``letter_postprocess`` (MMMU MCQ and MMBench,
paper), ``can_infer_2404`` and ``can_infer_head`` (VLMEvalKit's heuristic as of
commit 4ad5481d and as of e8e78f05, with the judge fallback of
:mod:`evalkit.scoring.extract.choice_judge`).

The matchers :func:`match_2404` and :func:`match_head` are VLMEvalKit's
``can_infer`` (``vlmeval/utils/matching_util.py``: ``can_infer_option`` then
``can_infer_text``) on a reply and a ``{letter: text}`` mapping; they return the
letter, ``"Z"`` (refusal) or None. The CircularEval metric uses them directly.
"""

from __future__ import annotations

import re
import string
from collections.abc import Callable, Mapping, Sequence

from evalkit.data.sample import Sample
from evalkit.scoring.extract.choice_judge import judge_choice
from evalkit.scoring.types import Extraction, ScoringContext

Matcher = Callable[[str, Mapping[str, str]], str | None]

#: VLMEvalKit's marker of an API failure; ``can_infer_option`` finds no letter in such a reply.
API_FAILURE = "Failed to obtain answer via API"
#: The four refusal strings of ``can_infer_option`` (same list in 2024-04 and HEAD); any of them → ``Z``.
REFUSALS = (
    "Sorry, I can't help with images of people yet.",
    "I can't process this file.",
    "I'm sorry, but without the image provided",
    "Cannot determine the answer",
)
#: Characters ``can_infer_option`` replaces by a space before splitting on whitespace.
PUNCTUATION = ".()[],:;!*#{}"
#: The refusal letter.
REFUSAL = "Z"
#: VLMEvalKit's ``MMMU_preproc``: an open question becomes A = the GT text, B = this.
OTHER_ANSWERS = "Other Answers"
#: ``Extraction.note`` of :func:`exact_letter`: the metric compares ``.strip().lower()`` on both sides.
CASELESS = "compare strip().lower()"
#: HEAD's ``_VERBOSE_ANSWER_RE``: "(correct) answer is X", case-insensitive, letters A–D only.
_ANSWER_IS = re.compile(r"(?i)(?:correct\s+)?answer\s+is\s+\**([ABCD])\**")
_LETTERS = frozenset(string.ascii_uppercase)


def is_letter(text: str) -> bool:
    """VLMEvalKit's ``v in list(string.ascii_uppercase)``: exactly one ASCII capital."""
    return text in _LETTERS


def sample_choices(sample: Sample, ctx: ScoringContext) -> dict[str, str]:
    """The ``{letter: text}`` the matchers see: the sample's options, or with ``open_as_choice`` and no
    options (VLMEvalKit's ``MMMU_preproc``) A = the GT text and B = "Other Answers"."""
    if sample.options or not ctx.options.get("open_as_choice"):
        return dict(sample.options)
    if len(sample.answers) == 1:
        ground_truth = sample.answers[0]
    else:
        ground_truth = str(list(sample.answers)) if sample.answers else ""
    return {"A": ground_truth, "B": OTHER_ANSWERS}


# --------------------------------------------------------------------------- the heuristic (can_infer)


def _tokens(answer: str) -> list[str]:
    for char in PUNCTUATION:
        answer = answer.replace(char, " ")
    return [token.strip() for token in answer.split()]


def _refusal(answer: str) -> bool:
    return any(refusal in answer for refusal in REFUSALS)


def _option_2404(answer: str, choices: Mapping[str, str]) -> str | None:
    """``can_infer_option`` @4ad5481d: the one option letter that is a token, or ``Z``."""
    if API_FAILURE in answer:
        return None
    if _refusal(answer):
        return REFUSAL
    tokens = _tokens(answer)
    present = [letter for letter in choices if letter in tokens]
    if len(present) == 1:
        return present[0]
    if not present and REFUSAL in tokens:
        return REFUSAL
    return None


def _option_head(answer: str, choices: Mapping[str, str]) -> str | None:
    """``can_infer_option`` @e8e78f05: the lone letter must first occur among the last 4 tokens;
    then the "(correct) answer is X" regex on the unmodified reply."""
    if API_FAILURE in answer:
        return None
    if _refusal(answer):
        return REFUSAL
    tokens = _tokens(answer)
    present = [letter for letter in choices if letter in tokens]
    if len(present) == 1:
        if tokens.index(present[0]) > len(tokens) - 5:
            return present[0]
    elif not present and REFUSAL in tokens:
        return REFUSAL
    found = _ANSWER_IS.search(answer)
    if found and found.group(1).upper() in choices:
        return found.group(1).upper()
    return None


def _text_match(lowered: str, choices: Mapping[str, str]) -> str | None:
    candidates = [letter for letter, text in choices.items() if str(text).lower() in lowered]
    return candidates[0] if len(candidates) == 1 else None


def _text_2404(answer: str, choices: Mapping[str, str]) -> str | None:
    """``can_infer_text`` @4ad5481d: exactly one option text (lowercased) is a substring of the reply."""
    return _text_match(answer.lower(), choices)


def _text_head(answer: str, choices: Mapping[str, str]) -> str | None:
    """``can_infer_text`` @e8e78f05: as 2024-04, skipped when the lowercased reply is longer than twice
    the total length of the option texts."""
    lowered = answer.lower()
    if len(lowered) > 2 * sum(len(str(text)) for text in choices.values()):
        return None
    return _text_match(lowered, choices)


def match_2404(answer: str, choices: Mapping[str, str]) -> str | None:
    """VLMEvalKit ``can_infer`` @4ad5481d (the paper's OCRBench/RealWorldQA/MMT/CircularEval runs)."""
    return _option_2404(answer, choices) or _text_2404(answer, choices)


def match_head(answer: str, choices: Mapping[str, str]) -> str | None:
    """VLMEvalKit ``can_infer`` @e8e78f05 (the ``vlmevalkit`` protocol)."""
    return _option_head(answer, choices) or _text_head(answer, choices)


MATCHERS: dict[str, Matcher] = {"can_infer_2404": match_2404, "can_infer_head": match_head}


# --------------------------------------------------------------------------- InternVL's letter post-process


def post_process(reply: str, options: Sequence[tuple[str, str]]) -> str:
    """InternVL ``post_process`` (``eval/mmbench/evaluate_mmbench.py``, ``eval/mmmu/evaluate_mmmu.py``).

    Strip; a length-1 reply is kept; else its first character if that is an
    option letter; else the first option (in letter order) whose text is a
    substring of the reply; else the stripped reply. An empty reply crashes the
    reference (``pred[0]``); here it gives ``""``, which matches no letter.
    """
    pred = reply.strip()
    if len(pred) == 1 or not pred:
        return pred
    if pred[0] in {letter for letter, _ in options}:
        return pred[0]
    for letter, text in options:
        if text in pred:
            return letter
    return pred


# --------------------------------------------------------------------------- the card extractors


def raw(prediction: str, sample: Sample, ctx: ScoringContext) -> Extraction:
    """The reply unchanged: VLMEvalKit's CircularEval (``prefetch_circular_group`` → ``prefetch_answer``)
    matches the raw ``prediction`` column itself, with each row's own options, inside the metric."""
    return Extraction(prediction, "rule")


def exact_letter(prediction: str, sample: Sample, ctx: ScoringContext) -> Extraction:
    """AI2D, paper protocol: InternVL ``eval/vqa/evaluate_vqa.py`` ``evaluate_exact_match_accuracy``.

    The value is the stripped reply; the note tells the metric to compare
    ``pred.strip().lower() == gt.strip().lower()`` (case-insensitive, unlike VLMEvalKit).
    """
    return Extraction(prediction.strip(), "rule", CASELESS)


def first_character(prediction: str, sample: Sample, ctx: ScoringContext) -> Extraction:
    """SEED, paper protocol: InternVL ``eval/seed/calculation.py``: ``if len(pred) != 1: pred = pred[0]``.

    Quirks kept: nothing is stripped (a leading space is the "letter"); an
    empty reply crashes the reference at ``pred[0]``: here the value is ``""``
    and the sample scores 0.
    """
    if not prediction:
        return Extraction("", "rule", "empty reply (the reference crashes on pred[0])")
    return Extraction(prediction[0], "rule")


def letter_postprocess(prediction: str, sample: Sample, ctx: ScoringContext) -> Extraction:
    """MMMU MCQ and MMBench/CCBench, paper protocol: :func:`post_process` with the sample's options."""
    if not prediction.strip():
        return Extraction("", "rule", "empty reply (the reference crashes on pred[0])")
    return Extraction(post_process(prediction, sample.options), "rule")


def infer_choice(prediction: str, sample: Sample, ctx: ScoringContext, matcher: Matcher) -> Extraction:
    """The vanilla MCQ extraction of VLMEvalKit (``extract_answer_from_item``): the rules, then the judge.

    With no judge the value is None (method ``none``), which scores as wrong.
    """
    choices = sample_choices(sample, ctx)
    found = matcher(prediction, choices)
    if found:
        return Extraction(found, "rule")
    if ctx.judge is None:
        return Extraction(None, "none", "the rules found no option and there is no judge")
    return judge_choice(prediction, sample, choices, ctx, matcher)


def can_infer_2404(prediction: str, sample: Sample, ctx: ScoringContext) -> Extraction:
    """VLMEvalKit @4ad5481d ``can_infer`` (``vlmeval/utils/matching_util.py``), then the judge fallback.

    Quirks kept: an API-failure reply still goes to the text fallback; the
    refusal strings give ``Z``; a lone ``Z`` token (no option letter) gives
    ``Z``; the text fallback has no length guard.
    """
    return infer_choice(prediction, sample, ctx, match_2404)


def can_infer_head(prediction: str, sample: Sample, ctx: ScoringContext) -> Extraction:
    """VLMEvalKit @e8e78f05 ``can_infer``, then the judge fallback.

    Differences from 2024-04, all kept: the lone letter counts only if its
    first occurrence is among the last 4 tokens (``index > len - 5``); then
    ``(?i)(?:correct\\s+)?answer\\s+is\\s+\\**([ABCD])\\**`` on the raw reply (so
    "the answer is a ..." gives ``A``); the text fallback is skipped when the
    reply is longer than twice the options' total length.
    """
    return infer_choice(prediction, sample, ctx, match_head)
