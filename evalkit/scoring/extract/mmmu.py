"""MMMU, paper protocol: InternVL's letter post-process for MCQs, the official open-answer parser otherwise.

Official definitions: ``OpenGVLab/InternVL`` ``internvl_chat/eval/mmmu/evaluate_mmmu.py`` (``post_process``,
applied only when the question has options) and ``MMMU-Benchmark/MMMU`` ``eval/eval_utils.py``
(``parse_open_response``, ``extract_numbers``, ``check_is_number``, ``normalize_str``; InternVL
carries a copy), called by ``main_eval_only.py`` for every question whose type is not
``multiple-choice``.
"""

from __future__ import annotations

import re

from evalkit.data.sample import Sample
from evalkit.scoring.extract.choice import post_process
from evalkit.scoring.types import Extraction, ScoringContext

Normalized = str | float

#: The key indicators of ``get_key_subresponses``, in order; ``=`` is added for the last piece only.
KEY_INDICATORS = ("could be ", "so ", "is ", "thus ", "therefore ", "final ", "answer ", "result ")
#: Tails that are too trivial to keep.
TRIVIAL_TAILS = (":", ",", ".", "!", "?", ";", ":", "'")
_SPLIT = re.compile(r"\.\s(?=[A-Z])|\n")
_NUMBER_COMMAS = re.compile(r"-?\b\d{1,3}(?:,\d{3})+\b")
# The official ``-?\d+(?:\.\d+)?[eE][+-]?\d+`` with ``(?<!\d)``: same matches (a start inside a run of digits
# fails exactly when the run's first digit does), but linear instead of quadratic on a long run of digits.
_NUMBER_SCIENTIFIC = re.compile(r"-?(?<!\d)\d+(?:\.\d+)?[eE][+-]?\d+")
_NUMBER_SIMPLE = re.compile(r"-?(?:\d+\.\d+|\.\d+|\d+\b)(?![eE][+-]?\d+)(?![,\d])")
MULTIPLE_CHOICE = "multiple-choice"


def check_is_number(text: str) -> bool:
    """``check_is_number``: Python ``float`` accepts it once commas are removed (so ``nan``, ``1e3``, ``1_0``)."""
    try:
        float(text.replace(",", ""))
    except ValueError:
        return False
    return True


def normalize_str(text: str) -> list[Normalized]:
    """``normalize_str``: a number becomes ``[round(float, 2)]``; a 1-character string the pair
    ``[" x", "x "]`` (to avoid trivial substring matches); any other string ``[lowercased]``."""
    text = text.strip()
    if check_is_number(text):
        return [round(float(text.replace(",", "")), 2)]
    text = text.lower()
    if len(text) == 1:
        return [" " + text, text + " "]
    return [text]


def extract_numbers(text: str) -> list[str]:
    """``extract_numbers``: numbers with thousands commas, then scientific notation, then simple numbers."""
    return _NUMBER_COMMAS.findall(text) + _NUMBER_SCIENTIFIC.findall(text) + _NUMBER_SIMPLE.findall(text)


def _shortest_tail(piece: str, indicators: tuple[str, ...]) -> str | None:
    shortest: str | None = None
    for indicator in indicators:
        if indicator in piece:
            tail = piece.split(indicator)[-1].strip()
            # The reference tests ``if not shortest``: an empty tail is replaced by any later one.
            if not shortest or len(tail) < len(shortest):
                shortest = tail
    return shortest


def key_subresponses(response: str) -> list[str]:
    """``get_key_subresponses``: strip, strip ``.``, lowercase, split, keep each piece's shortest key tail.

    Quirk: the text is lowercased before the split on ``.`` + space + capital,
    so only newlines split in practice.
    """
    response = response.strip().strip(".").lower()
    pieces = _SPLIT.split(response)
    found: list[str] = []
    for number, piece in enumerate(pieces):
        indicators = (*KEY_INDICATORS, "=") if number == len(pieces) - 1 else KEY_INDICATORS
        tail = _shortest_tail(piece, indicators)
        if tail and tail.strip() not in TRIVIAL_TAILS:
            found.append(tail)
    return found or [response]


def parse_open_response(response: str) -> list[Normalized]:
    """``parse_open_response``: the key tails plus the numbers in them, normalised, without duplicates.

    The reference removes duplicates with ``list(set(...))`` (arbitrary order);
    evalkit keeps the first occurrence order so the details are stable.
    """
    tails = key_subresponses(response)
    candidates = list(tails)
    for tail in tails:
        candidates.extend(extract_numbers(tail))
    normalized: list[Normalized] = []
    for candidate in candidates:
        normalized.extend(normalize_str(candidate))
    return list(dict.fromkeys(normalized))


def is_multiple_choice(sample: Sample) -> bool:
    """The question type: ``question_type`` where the source has it (HF), else whether options exist (TSV)."""
    kind = sample.metadata.get("question_type")
    if isinstance(kind, str) and kind:
        return kind == MULTIPLE_CHOICE
    return bool(sample.options)


def stripped_options(sample: Sample) -> tuple[tuple[str, str], ...]:
    """InternVL's MMMU dataset strips every option text before the post-process sees it."""
    return tuple((letter, text.strip()) for letter, text in sample.options)


def mmmu(prediction: str, sample: Sample, ctx: ScoringContext) -> Extraction:
    """MMMU paper extractor: MCQ → the letter post-process (value a str); open → ``parse_open_response``
    (value the list of normalised predictions: str or float).

    Quirks kept: the post-process runs only when the question has options (an
    open reply is parsed raw, unstripped); an empty MCQ reply (a crash in the
    reference) gives ``""``; numbers are rounded to 2 decimals.
    """
    reply = prediction
    if sample.options:
        reply = post_process(prediction, stripped_options(sample))
    if is_multiple_choice(sample):
        return Extraction(reply, "rule")
    return Extraction(parse_open_response(reply), "rule")
