"""Wall time of scoring TextVQA and DocVQA predictions: evalkit's metrics against naive reference algorithms.

Not a test; run by hand. Builds ``--n`` synthetic predictions per suite (default 100,000; TextVQA with 10
ground truths each, DocVQA with 1-3 answers of realistic lengths), scores them with
``vqa_accuracy_suite`` / ``anls_suite``, then with the reference algorithms written out naively (the full
Levenshtein matrix in pure Python; InternVL's per-unique-answer VQA loop re-normalising the ground truths
each time), checks both give the same suite score and prints a table.

    python perf/score_speed.py [--n 100000] [--seed 0]
"""

from __future__ import annotations

import argparse
import random
import time
from collections.abc import Callable, Sequence
from functools import partial

from evalkit.data.sample import Sample
from evalkit.scoring.metrics import vqa
from evalkit.scoring.metrics.anls import anls_suite
from evalkit.scoring.metrics.vqa import vqa_accuracy_suite
from evalkit.scoring.types import Metric, ScoringContext, ScoringItem

WORDS = ["stop", "coca cola", "yes", "no", "2", "10", "nike", "the beatles", "exit", "open", "st. louis",
         "1,000", "ben & jerry's", "sale", "toyota", "red", "3:45", "samsung", "starbucks", "new york"]
LETTERS = "abcdefghijklmnopqrstuvwxyz0123456789 .,-/"


def _noisy(text: str, rng: random.Random) -> str:
    """A prediction near ``text``: a case change, a trailing period, or a couple of typos."""
    roll = rng.random()
    if roll < 0.3:
        return text.upper()
    if roll < 0.5:
        return text + "."
    chars = list(text)
    for _ in range(rng.randint(1, 2)):
        if chars:
            chars[rng.randrange(len(chars))] = rng.choice(LETTERS)
    return "".join(chars)


def textvqa_items(n: int, rng: random.Random) -> list[ScoringItem]:
    items = []
    for i in range(n):
        main = rng.choice(WORDS)
        answers = [main if rng.random() < 0.7 else rng.choice(WORDS) for _ in range(10)]
        roll = rng.random()
        prediction = main if roll < 0.55 else _noisy(main, rng) if roll < 0.85 else rng.choice(WORDS)
        items.append(ScoringItem(Sample(i, "q", answers=tuple(answers)), prediction))
    return items


def _document_answer(rng: random.Random) -> str:
    length = rng.choice([4, 8, 12, 20, 35, 60, 120])
    return "".join(rng.choice(LETTERS) for _ in range(length)).strip() or "x"


def docvqa_items(n: int, rng: random.Random) -> list[ScoringItem]:
    items = []
    for i in range(n):
        answers = [_document_answer(rng) for _ in range(rng.randint(1, 3))]
        roll = rng.random()
        prediction = answers[0] if roll < 0.6 else _noisy(answers[0], rng) if roll < 0.85 else _document_answer(rng)
        items.append(ScoringItem(Sample(i, "q", answers=tuple(answers)), prediction))
    return items


def naive_levenshtein(first: str, second: str) -> int:
    matrix = [[0] * (len(second) + 1) for _ in range(len(first) + 1)]
    for i in range(len(first) + 1):
        matrix[i][0] = i
    for j in range(len(second) + 1):
        matrix[0][j] = j
    for i in range(1, len(first) + 1):
        for j in range(1, len(second) + 1):
            cost = 0 if first[i - 1] == second[j - 1] else 1
            matrix[i][j] = min(matrix[i - 1][j] + 1, matrix[i][j - 1] + 1, matrix[i - 1][j - 1] + cost)
    return matrix[len(first)][len(second)]


def naive_anls(items: Sequence[ScoringItem]) -> float:
    scores = []
    for item in items:
        prediction = str(item.prediction)
        values = []
        for answer in item.sample.answers:
            normal_answer = " ".join(answer.strip().lower().split())
            normal_prediction = " ".join(prediction.strip().lower().split())
            length = max(len(answer.upper()), len(prediction.upper()))
            distance = naive_levenshtein(normal_answer, normal_prediction)
            values.append(0.0 if length == 0 else float(distance) / float(length))
        score = 1 - min(values)
        scores.append(0.0 if score < 0.5 else score)
    return sum(scores) / len(scores) * 100


def naive_vqa(items: Sequence[ScoringItem]) -> float:
    normalize_internvl = vqa._internvl  # the normalisation itself, without evalkit's cache
    scores = []
    for item in items:
        prediction = normalize_internvl(str(item.prediction))
        unique_scores = {}
        for unique in {normalize_internvl(answer) for answer in item.sample.answers}:
            accuracies = []
            for i in range(len(item.sample.answers)):
                others = [normalize_internvl(a) for j, a in enumerate(item.sample.answers) if j != i]
                accuracies.append(min(1, float(sum(other == unique for other in others)) / 3))
            unique_scores[unique] = sum(accuracies) / len(accuracies)
        scores.append(unique_scores.get(prediction, 0.0))
    return sum(scores) / len(scores) * 100


def _suite_score(metric: Metric, items: Sequence[ScoringItem], context: ScoringContext) -> float:
    return metric(items, context).score or 0.0


def _timed(function: Callable[[], float]) -> tuple[float, float]:
    start = time.perf_counter()
    value = function()
    return time.perf_counter() - start, value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    context = ScoringContext()
    suites: dict[str, tuple[list[ScoringItem], Metric, Callable[[Sequence[ScoringItem]], float]]] = {
        "TextVQA (vqa_accuracy)": (textvqa_items(args.n, rng), vqa_accuracy_suite, naive_vqa),
        "DocVQA (anls)": (docvqa_items(args.n, rng), anls_suite, naive_anls),
    }
    print(f"{'suite':<24} {'n':>8} {'evalkit s':>10} {'naive s':>10} {'speed-up':>9} {'score':>9}  same")
    for name, (items, metric, naive) in suites.items():
        fast_time, fast_score = _timed(partial(_suite_score, metric, items, context))
        slow_time, slow_score = _timed(partial(naive, items))
        same = abs(fast_score - slow_score) < 1e-9
        print(f"{name:<24} {len(items):>8} {fast_time:>10.2f} {slow_time:>10.2f} {slow_time / fast_time:>8.1f}x "
              f"{fast_score:>9.4f}  {'yes' if same else 'NO'}")


if __name__ == "__main__":
    main()
