"""VQA accuracy for TextVQA (docs/protocols.md): EvalAI answer normalisation, then the 10-choose-9 soft score.

Official definitions: ``OpenGVLab/InternVL:internvl_chat/eval/vqa/textvqa_eval.py`` (``EvalAIAnswerProcessor``,
``TextVQAAccuracyEvaluator``; paper protocol) and ``open-compass/VLMEvalKit:vlmeval/dataset/utils/vqa_eval.py``
(``process_answer``, ``process_line(method='vqa_score')``, ``hit_calculate``) with ``vlmeval/smp/misc.py``
(``process_punctuation``; VLMEvalKit protocol).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from functools import lru_cache

from evalkit.scoring.metrics.common import (
    base_breakdown,
    compared_text,
    detail_prediction,
    error_sample,
    mean_percent,
    metadata_breakdowns,
    not_scored_suite,
    scored_values,
    unscorable_reason,
    unscored_sample,
)
from evalkit.scoring.types import SampleScore, ScoringContext, ScoringItem, SuiteScore

NUMBER_WORDS = {
    "none": "0", "zero": "0", "one": "1", "two": "2", "three": "3", "four": "4", "five": "5", "six": "6",
    "seven": "7", "eight": "8", "nine": "9", "ten": "10",
}
ARTICLES = frozenset(("a", "an", "the"))
PUNCTUATION = (";", "/", "[", "]", '"', "{", "}", "(", ")", "=", "+", "\\", "_", "-", ">", "<", "@", "`", ",", "?", "!")
# The VQA contraction table (EvalAI / GT-Vision-Lab), byte for byte; keys with capitals can never match
# because the words are lowercased first, as in the references.
CONTRACTIONS = {
    "aint": "ain't", "arent": "aren't", "cant": "can't", "couldve": "could've", "couldnt": "couldn't",
    "couldn'tve": "couldn't've", "couldnt've": "couldn't've", "didnt": "didn't", "doesnt": "doesn't",
    "dont": "don't", "hadnt": "hadn't", "hadnt've": "hadn't've", "hadn'tve": "hadn't've", "hasnt": "hasn't",
    "havent": "haven't", "hed": "he'd", "hed've": "he'd've", "he'dve": "he'd've", "hes": "he's", "howd": "how'd",
    "howll": "how'll", "hows": "how's", "Id've": "I'd've", "I'dve": "I'd've", "Im": "I'm", "Ive": "I've",
    "isnt": "isn't", "itd": "it'd", "itd've": "it'd've", "it'dve": "it'd've", "itll": "it'll", "let's": "let's",
    "maam": "ma'am", "mightnt": "mightn't", "mightnt've": "mightn't've", "mightn'tve": "mightn't've",
    "mightve": "might've", "mustnt": "mustn't", "mustve": "must've", "neednt": "needn't", "notve": "not've",
    "oclock": "o'clock", "oughtnt": "oughtn't", "ow's'at": "'ow's'at", "'ows'at": "'ow's'at", "'ow'sat": "'ow's'at",
    "shant": "shan't", "shed've": "she'd've", "she'dve": "she'd've", "she's": "she's", "shouldve": "should've",
    "shouldnt": "shouldn't", "shouldnt've": "shouldn't've", "shouldn'tve": "shouldn't've",
    "somebody'd": "somebodyd", "somebodyd've": "somebody'd've", "somebody'dve": "somebody'd've",
    "somebodyll": "somebody'll", "somebodys": "somebody's", "someoned": "someone'd", "someoned've": "someone'd've",
    "someone'dve": "someone'd've", "someonell": "someone'll", "someones": "someone's", "somethingd": "something'd",
    "somethingd've": "something'd've", "something'dve": "something'd've", "somethingll": "something'll",
    "thats": "that's", "thered": "there'd", "thered've": "there'd've", "there'dve": "there'd've",
    "therere": "there're", "theres": "there's", "theyd": "they'd", "theyd've": "they'd've",
    "they'dve": "they'd've", "theyll": "they'll", "theyre": "they're", "theyve": "they've", "twas": "'twas",
    "wasnt": "wasn't", "wed've": "we'd've", "we'dve": "we'd've", "weve": "we've", "werent": "weren't",
    "whatll": "what'll", "whatre": "what're", "whats": "what's", "whatve": "what've", "whens": "when's",
    "whered": "where'd", "wheres": "where's", "whereve": "where've", "whod": "who'd", "whod've": "who'd've",
    "who'dve": "who'd've", "wholl": "who'll", "whos": "who's", "whove": "who've", "whyll": "why'll",
    "whyre": "why're", "whys": "why's", "wont": "won't", "wouldve": "would've", "wouldnt": "wouldn't",
    "wouldnt've": "wouldn't've", "wouldn'tve": "wouldn't've", "yall": "y'all", "yall'll": "y'all'll",
    "y'allll": "y'all'll", "yall'd've": "y'all'd've", "y'alld've": "y'all'd've", "y'all'dve": "y'all'd've",
    "youd": "you'd", "youd've": "you'd've", "you'dve": "you'd've", "youll": "you'll", "youre": "you're",
    "youve": "you've",
}

# Both references pass ``re.UNICODE`` (= 32) where ``re.sub`` expects the count: at most 32 periods go.
PERIOD_LIMIT = int(re.UNICODE)
# InternVL's pattern is ``(?!<=\d)(\.)(?!\d)``: its "look-behind" is a look-ahead for the text "<=" + digit
# at the period's own position, which can never match, so only "not followed by a digit" remains.
_PERIOD_INTERNVL = re.compile(r"\.(?!\d)")
# VLMEvalKit's (HEAD) pattern has a real look-behind: a period with a digit on either side stays.
_PERIOD_VLMEVALKIT = re.compile(r"(?<!\d)\.(?!\d)")
# InternVL looks for digit, commas, digit; step 1 has already deleted every comma, so it never matches.
_COMMA_INTERNVL = re.compile(r"(?<=\d),+(?=\d)")
_COMMA_VLMEVALKIT = re.compile(r"\d,\d")
_PUNCTUATION_SET = frozenset(PUNCTUATION)
_DELETE_PUNCTUATION = str.maketrans("", "", "".join(PUNCTUATION))


def _punctuation(text: str, comma: re.Pattern[str], period: re.Pattern[str]) -> str:
    """EvalAI ``process_punctuation``: each mark is deleted or turned into a space, then periods go."""
    out = text
    if not _PUNCTUATION_SET.isdisjoint(text):
        if comma.search(text) is not None:
            out = text.translate(_DELETE_PUNCTUATION)
        else:
            for mark in PUNCTUATION:
                if mark in text:
                    glued = (mark + " ") in text or (" " + mark) in text
                    out = out.replace(mark, "" if glued else " ")
    if "." in out:
        out = period.sub("", out, count=PERIOD_LIMIT)
    return out


def _digit_article(text: str) -> str:
    """Lowercase, number words to digits, drop articles, then the contraction table; single spaces."""
    words = [NUMBER_WORDS.get(word, word) for word in text.lower().split()]
    return " ".join(CONTRACTIONS.get(word, word) for word in words if word not in ARTICLES)


def normalize_internvl(answer: str) -> str:
    """InternVL's ``EvalAIAnswerProcessor.__call__`` (steps 1–5 of §4.4).

    Step 1 (``word_tokenize``): lowercase, delete ``,`` and ``?``, ``'s`` → `` 's``, strip.
    Step 2: newlines and tabs → spaces, strip. Step 3: punctuation. Step 4: periods not
    followed by a digit are deleted (quirks: the malformed look-behind keeps nothing after a
    digit, and at most 32 periods go). Step 5: digits/articles/contractions.
    """
    return _cached_internvl(answer) if len(answer) <= _CACHED_LENGTH else _internvl(answer)


def normalize_vlmevalkit(answer: str) -> str:
    """VLMEvalKit's ``process_answer``: no step 1; a period with a digit on either side is kept (max 32 go)."""
    return _cached_vlmevalkit(answer) if len(answer) <= _CACHED_LENGTH else _vlmevalkit(answer)


def _internvl(answer: str) -> str:
    text = answer.lower().replace(",", "").replace("?", "").replace("'s", " 's").strip()
    text = text.replace("\n", " ").replace("\t", " ").strip()
    return _digit_article(_punctuation(text, _COMMA_INTERNVL, _PERIOD_INTERNVL))


def _vlmevalkit(answer: str) -> str:
    text = answer.replace("\n", " ").replace("\t", " ").strip()
    return _digit_article(_punctuation(text, _COMMA_VLMEVALKIT, _PERIOD_VLMEVALKIT))


# Ground truths repeat a lot (ten annotators, common words): short strings are normalised once.
_CACHED_LENGTH = 200
_cached_internvl = lru_cache(maxsize=1 << 16)(_internvl)
_cached_vlmevalkit = lru_cache(maxsize=1 << 16)(_vlmevalkit)


def soft_accuracy(prediction: str, answers: Sequence[str]) -> float:
    """Mean over the leave-one-out subsets of ``min(1, #{j ≠ i : gt_j == pred} / 3)`` (already normalised).

    Summed in ground-truth order, then divided by the number of ground truths, as both references do.
    With one ground truth the only subset is empty, so the score is 0 whatever the prediction.
    """
    matches = sum(answer == prediction for answer in answers)
    if matches == 0:
        return 0.0
    total = 0.0
    for answer in answers:
        others = matches - 1 if answer == prediction else matches
        total += min(1, float(others) / 3)
    return total / len(answers)


def vqa_accuracy(prediction: str, answers: Sequence[str], normalize: Callable[[str], str] = normalize_internvl
                 ) -> float:
    """One question's VQA accuracy: normalise the prediction and every ground truth, then :func:`soft_accuracy`."""
    return soft_accuracy(normalize(prediction), [normalize(answer) for answer in answers])


def _score_item(item: ScoringItem, normalize: Callable[[str], str]) -> SampleScore:
    if item.error is not None:
        return error_sample(item)
    if not item.sample.answers:
        return unscored_sample(item, "no ground truth")
    normal = normalize(compared_text(item))
    answers = [normalize(answer) for answer in item.sample.answers]
    value = soft_accuracy(normal, answers)
    matches = sum(answer == normal for answer in answers)
    return SampleScore(item.sample.index, detail_prediction(item), normal, value, item.extraction.method,
                       {"matching_answers": matches})


def _suite(metric: str, items: Sequence[ScoringItem], normalize: Callable[[str], str]) -> SuiteScore:
    reason = unscorable_reason(items)
    if reason is not None:
        return not_scored_suite(metric, items, reason)
    samples = [_score_item(item, normalize) for item in items]
    breakdown: dict[str, object] = dict(base_breakdown(items, samples))
    breakdown.update(metadata_breakdowns(items, samples, ("category", "split")))
    score = mean_percent(scored_values(samples))
    return SuiteScore(metric, score, len(items), breakdown, samples,
                      reason=None if score is not None else "no sample has a ground truth")


def vqa_accuracy_suite(items: Sequence[ScoringItem], ctx: ScoringContext) -> SuiteScore:
    """The card metric ``vqa_accuracy`` (paper protocol): mean soft accuracy × 100 with InternVL's normalisation.

    Official: ``textvqa_eval.py`` ``TextVQAAccuracyEvaluator.eval_pred_list``. Quirks kept: step 1
    (``,``/``?`` deleted, ``'s`` split) before the punctuation rules; the malformed period
    look-behind, so ``3.`` becomes ``3``; ``re.UNICODE`` passed as the count (≤ 32 periods removed).
    Differences on purpose: the reference asserts exactly 10 ground truths, here any number is
    accepted (leave-one-out over however many there are); a failed inference scores 0.
    """
    return _suite("vqa_accuracy", items, normalize_internvl)


def vqa_accuracy_vlmevalkit_suite(items: Sequence[ScoringItem], ctx: ScoringContext) -> SuiteScore:
    """The card metric ``vqa_accuracy_vlmevalkit``: VLMEvalKit HEAD's TextVQA score × 100.

    Official: ``vqa_eval.py`` ``process_line(method='vqa_score')`` builds the 10 leave-one-out
    values ``min(1, matches/3)`` and ``hit_calculate`` takes their mean per question, the same
    soft score as InternVL; only the normalisation differs (no step 1; the period rule keeps a
    period with a digit on either side, so ``3.`` stays ``3.``; still at most 32 periods removed).
    The 2024-04 code (``vlmeval/evaluate/vqa_eval.py``) was different: a 0/1 hit when at least 3
    of the 10 raw matches agree (``mean(match) >= 0.3``); that variant is not reproduced here.
    """
    return _suite("vqa_accuracy_vlmevalkit", items, normalize_vlmevalkit)
