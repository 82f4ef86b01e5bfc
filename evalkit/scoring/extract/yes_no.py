"""Yes/no extractors: InternVL's MME rules and VLMEvalKit's ``YOrN_Extraction`` (MME variant, HallusionBench).

Card names implemented here:

* ``yes_no_internvl`` → :func:`yes_no_internvl` (MME, paper protocol);
* ``yes_no_vlmevalkit`` → :func:`yes_no_vlmevalkit` (VLMEvalKit @e8e78f05: HallusionBench and MME under the
  ``vlmevalkit`` protocol);
* ``yes_no_vlmevalkit_2404`` → :func:`yes_no_vlmevalkit_2404` (VLMEvalKit @4ad5481d: HallusionBench, paper protocol).

Both are pure functions of the reply, except that ``yes_no_vlmevalkit`` asks the
judge (VLMEvalKit's Y/N matching prompt) when the words alone say neither.
"""

from __future__ import annotations

import re

from evalkit.data.sample import Sample
from evalkit.judge.base import JudgeError
from evalkit.scoring.types import Extraction, ScoringContext

#: The note of a reply the reference drops (its tab splits the tab-separated result line into 5 fields).
TAB_SKIPPED = "tab in reply: skipped by the reference"
YES, NO, UNKNOWN = "Yes", "No", "Unknown"

_CJK = re.compile("[\u4e00-\u9fa5]")

# VLMEvalKit ``process_punctuation`` (vlmeval/smp/misc.py), the same list as the VQA evaluator's.
_PUNCT = (";", "/", "[", "]", '"', "{", "}", "(", ")", "=", "+", "\\", "_", "-", ">", "<", "@", "`", ",", "?", "!")
_DIGIT_COMMA_DIGIT = re.compile(r"(\d)(,)(\d)")
#: ``periodStrip`` @e8e78f05: a period with no digit on either side.
PERIOD_HEAD = re.compile(r"(?<!\d)\.(?!\d)")
#: ``periodStrip`` @4ad5481d: ``(?!<=\d)`` is a look-ahead for the text "<=" and a digit, not a look-behind,
#: so only "not followed by a digit" remains: a period after a digit ("1.", "35.") is deleted too.
PERIOD_2404 = re.compile(r"(?!<=\d)(\.)(?!\d)")
#: ``periodStrip.sub("", text, re.UNICODE)`` passes the flag (32) as the replacement count (both commits).
_PERIOD_COUNT = 32

#: VLMEvalKit ``YOrN_match_prompt`` (vlmeval/dataset/utils/yorn.py; identical in vlmeval/evaluate/yes_or_no.py).
YORN_TEMPLATE = (
    "You are an AI assistant who will help me to match an answer with two options of a question. "
    "The options are only Yes / No. "
    "You are provided with a question and an answer, "
    "and you need to find which option (Yes / No) is most similar to the answer. "
    "If the meaning of all options are significantly different from the answer, output Unknown. "
    "Your should output a single word among the following 3 choices: Yes, No, Unknown.\n"
    "Example 1: \n"
    "Question: Is the word in this image 'Hello'?\nAnswer: The word in this image is 'Hello'.\nYour output: Yes\n"
    "Example 2: \n"
    "Question: Is the word in this image 'Hello'?\n"
    "Answer: The word in this image is not 'Hello'.\nYour output: No\n"
    "Example 3: \n"
    "Question: {}?\nAnswer: {}\nYour output: "
)
#: ``YOrN_auxeval``: 5 tries at temperature 0.5 * i.
YORN_TRIES = 5
#: VLMEvalKit's OpenAIWrapper default ``max_tokens`` in 2024-04 (the judge answers one word).
YORN_MAX_TOKENS = 1024


# --------------------------------------------------------------------------- InternVL (MME, paper)


def internvl_clean(reply: str) -> str:
    """``post_processing`` of InternVL ``eval/mme/eval.py``, in its order.

    Newlines removed; 不是 → No, then 是 → Yes, 否 → No; lowercase; ``true`` →
    ``yes`` and ``false`` → ``no`` as plain substrings (so "untrue" → "unyes");
    CJK characters U+4E00–U+9FA5 deleted.
    """
    text = reply.replace("\n", "").replace("不是", "No").replace("是", "Yes").replace("否", "No")
    text = text.lower().replace("true", "yes").replace("false", "no")
    return _CJK.sub("", text)


def internvl_label(cleaned: str) -> str:
    """``parse_pred_ans`` of ``eval/mme/calculation.py``: exact yes/no, else the first 4 characters decide.

    "yes" inside the first 4 characters wins over "no", so "none", "not" and
    "nope" are no, and "nyes" is yes; anything else is "other".
    """
    if cleaned in ("yes", "no"):
        return cleaned
    head = cleaned[:4]
    if "yes" in head:
        return "yes"
    if "no" in head:
        return "no"
    return "other"


def yes_no_internvl(prediction: str, sample: Sample, ctx: ScoringContext) -> Extraction:
    """MME paper extractor: InternVL ``eval/mme/eval.py`` ``post_processing`` + ``calculation.py`` ``parse_pred_ans``.

    Quirks reproduced on purpose:

    * the cleaning order of :func:`internvl_clean` (不是 before 是; ``true``/``false`` as substrings);
    * only the first 4 characters of a non-exact reply are looked at (:func:`internvl_label`);
    * a reply containing a tab is written into the tab-separated result line, which
      then splits into 5 fields; ``calculation.py`` catches the unpacking error and
      skips the line. Such a sample gets value None, method "none" and the note
      :data:`TAB_SKIPPED`; the MME metric drops it from that subtask's accuracy
      (and its image can no longer be fully correct).

    Not reproduced: a carriage return in a reply would split the result line in
    two when re-read and misalign the reference's pairing of lines (it then fails
    its own assertion); here the reply is labelled as it is.
    """
    if "\t" in prediction:
        return Extraction(None, "none", TAB_SKIPPED)
    return Extraction(internvl_label(internvl_clean(prediction)), "rule")


# --------------------------------------------------------------------------- VLMEvalKit (YOrN)


def process_punctuation(text: str, period: re.Pattern[str] = PERIOD_HEAD) -> str:
    """VLMEvalKit ``process_punctuation`` (``vlmeval/smp/misc.py``; ``period`` picks the commit's regex).

    For each punctuation mark: if the *original* text has the mark next to a
    space, or anywhere a digit-comma-digit, the mark is deleted, else replaced by
    a space. Then periods matching ``period`` are deleted, at most 32 of them
    (``re.UNICODE`` passed as the count): at e8e78f05 (:data:`PERIOD_HEAD`) those
    with no digit on either side, at 4ad5481d (:data:`PERIOD_2404`) those not
    followed by a digit.
    """
    out = text
    digit_comma = _DIGIT_COMMA_DIGIT.search(text) is not None
    for mark in _PUNCT:
        if digit_comma or mark + " " in text or " " + mark in text:
            out = out.replace(mark, "")
        else:
            out = out.replace(mark, " ")
    return period.sub("", out, count=_PERIOD_COUNT)


def yorn_label(reply: str, period: re.Pattern[str] = PERIOD_HEAD) -> str:
    """VLMEvalKit ``YOrN_Extraction``: lowercase, :func:`process_punctuation`, split into words;
    "yes" without "no" → Yes, "no" without "yes" → No, else Unknown."""
    words = process_punctuation(reply.lower(), period).split()
    has_yes, has_no = "yes" in words, "no" in words
    if has_yes and not has_no:
        return YES
    if has_no and not has_yes:
        return NO
    return UNKNOWN


def yorn_prompt(question: str, prediction: str) -> str:
    """VLMEvalKit ``YOrN_match_prompt``: the TSV question (a "?" is appended even after one) and the raw reply."""
    return YORN_TEMPLATE.format(question, prediction)


def _ask_judge(prediction: str, sample: Sample, ctx: ScoringContext, period: re.Pattern[str]) -> Extraction:
    """``YOrN_auxeval``: up to 5 calls at temperature 0.5 * i; the first Yes/No wins."""
    assert ctx.judge is not None
    messages = [{"role": "user", "content": yorn_prompt(sample.question, prediction)}]
    failure: str | None = None
    for attempt in range(YORN_TRIES):
        try:
            reply = ctx.judge.complete(messages, temperature=0.5 * attempt, max_tokens=YORN_MAX_TOKENS)
        except JudgeError as exc:
            failure = str(exc)
            continue
        label = yorn_label(reply, period)
        if label != UNKNOWN:
            return Extraction(label, "judge")
    if failure is not None:
        return Extraction(None, "none", f"judge failed: {failure}")
    return Extraction(UNKNOWN, "judge", f"the judge said neither yes nor no in {YORN_TRIES} tries")


def yes_no_vlmevalkit(prediction: str, sample: Sample, ctx: ScoringContext) -> Extraction:
    """HallusionBench and MME (VLMEvalKit): ``YOrN_Extraction``, then ``YOrN_auxeval`` for Unknown
    (``vlmeval/dataset/utils/yorn.py``; ``vlmeval/evaluate/yes_or_no.py`` in 2024-04).

    Quirks reproduced on purpose:

    * words, not substrings: "yes." and "(yes)" count, "yes/no" (→ "yes no") is Unknown,
      "none" and "not" are not "no";
    * the 32-period limit of :func:`process_punctuation`;
    * the judge prompt appends "?" to the question even when it already ends in one;
    * with no judge, Unknown stays Unknown (it scores as wrong).

    A judge that fails on every try (JudgeError) leaves the sample not extracted:
    value None, method "none", the failure in the note; the metrics count it
    wrong and report it, as for an Unknown under ``exact_matching``.
    """
    return _yorn(prediction, sample, ctx, PERIOD_HEAD)


def yes_no_vlmevalkit_2404(prediction: str, sample: Sample, ctx: ScoringContext) -> Extraction:
    """HallusionBench, paper protocol: ``YOrN_Extraction`` and ``YOrN_auxeval`` as VLMEvalKit 4ad5481d had them
    (``vlmeval/evaluate/yes_or_no.py``, ``vlmeval/smp/misc.py``), the authors' code for this suite.

    The same as :func:`yes_no_vlmevalkit` but for the period rule: 4ad5481d's ``periodStrip`` deletes a
    period after a digit too (:data:`PERIOD_2404`), and the 32-deletion limit then runs out sooner. A reply
    that counts "1. 2. … 35." before "So the answer is yes." keeps the period of "yes." and is Unknown (wrong
    without a judge); at e8e78f05 it is Yes.
    """
    return _yorn(prediction, sample, ctx, PERIOD_2404)


def _yorn(prediction: str, sample: Sample, ctx: ScoringContext, period: re.Pattern[str]) -> Extraction:
    label = yorn_label(prediction, period)
    if label != UNKNOWN or ctx.judge is None:
        return Extraction(label, "rule")
    return _ask_judge(prediction, sample, ctx, period)
