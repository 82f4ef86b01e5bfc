"""How small a regression does the gate catch? (not a test; run by hand)

Simulates a 0/1 suite of ``--n`` samples (default 1,000) scored by a base checkpoint with accuracy ``--p0``
(default 0.7) and by a candidate that is truly worse by ``delta`` points. Two checkpoints of one model agree on
most samples, so the pairs are drawn jointly: each sample is, independently,

    both right      with probability p0 - b
    base only right with probability b          (the candidate lost it)
    cand only right with probability c          (the candidate gained it)
    both wrong      with probability 1 - p0 - c

with ``b + c = r`` (the discordance rate, ``--discordance``, default 0.10: real checkpoint pairs of one model
disagree on roughly 5-20% of multiple-choice samples) and ``b - c = delta / 100``. For each delta the gate's own
statistics (:func:`evalkit.compare.stats.paired_stats` and :func:`evalkit.compare.stats.verdict`: McNemar's exact
test, the paired bootstrap interval, the min-delta rule on the observed headline difference) run on ``--seeds``
independent draws, and the share of draws that come out ``regressed`` is the detection rate (the power).

    python perf/gate_power.py [--n 1000] [--p0 0.7] [--discordance 0.10] [--seeds 200]
                              [--deltas 0,0.5,1,...] [--alpha 0.05] [--min-delta 1.0] [--bootstrap 10000]
                              [--workers 2]
"""

from __future__ import annotations

import argparse
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from evalkit.compare.stats import REGRESSED, paired_stats, verdict

DEFAULT_DELTAS = "0,0.5,1,1.5,2,2.5,3,3.5,4,4.5,5,5.5,6,7,8"


def simulate_pairs(n: int, p0: float, delta: float, discordance: float,
                   rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """One draw of paired 0/1 outcomes: ``(base, candidate)``; the candidate is worse by ``delta`` points."""
    shift = delta / 100.0
    lost, gained = (discordance + shift) / 2.0, (discordance - shift) / 2.0
    both_right, both_wrong = p0 - lost, 1.0 - p0 - gained
    if min(lost, gained, both_right, both_wrong) < 0.0:
        raise ValueError(f"delta {delta} does not fit p0 {p0} and discordance {discordance}")
    kind = rng.choice(4, size=n, p=[both_right, lost, gained, both_wrong])
    base = ((kind == 0) | (kind == 1)).astype(np.float64)
    candidate = ((kind == 0) | (kind == 2)).astype(np.float64)
    return base, candidate


def detection_rate(args: tuple[float, argparse.Namespace]) -> tuple[float, float, float, float]:
    """``(delta, detection rate, mean observed discordance, mean p-value)`` over ``seeds`` draws."""
    delta, options = args
    detected = 0
    discordant = 0.0
    p_values = 0.0
    for seed in range(options.seeds):
        rng = np.random.default_rng([seed, round(delta * 1000), 20_251_125])
        base, candidate = simulate_pairs(options.n, options.p0, delta, options.discordance, rng)
        stats = paired_stats(base.tolist(), candidate.tolist(), alpha=options.alpha, resamples=options.bootstrap,
                             seed=seed)
        headline = 100.0 * (candidate.mean() - base.mean())
        if verdict(headline, stats, higher_is_better=True, alpha=options.alpha,
                   min_delta=options.min_delta) == REGRESSED:
            detected += 1
        discordant += float((base != candidate).mean())
        p_values += stats.p_value
    return delta, detected / options.seeds, discordant / options.seeds, p_values / options.seeds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--p0", type=float, default=0.7)
    parser.add_argument("--discordance", type=float, default=0.10)
    parser.add_argument("--seeds", type=int, default=200)
    parser.add_argument("--deltas", default=DEFAULT_DELTAS)
    parser.add_argument("--alpha", type=float, default=0.05)
    parser.add_argument("--min-delta", type=float, default=1.0)
    parser.add_argument("--bootstrap", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=2)
    options = parser.parse_args()
    deltas = [float(item) for item in options.deltas.split(",")]
    too_big = [delta for delta in deltas if delta / 100.0 > options.discordance]
    if too_big:  # a drop of delta points needs at least delta% of the samples to disagree
        print(f"skipped (larger than the discordance allows): {', '.join(f'{d:g}' for d in too_big)}")
        deltas = [delta for delta in deltas if delta not in too_big]
    started = time.perf_counter()
    with ProcessPoolExecutor(max_workers=options.workers) as pool:
        rows = list(pool.map(detection_rate, [(delta, options) for delta in deltas]))
    elapsed = time.perf_counter() - started

    print(f"n={options.n} p0={options.p0} discordance={options.discordance} seeds={options.seeds} "
          f"alpha={options.alpha} min_delta={options.min_delta} bootstrap={options.bootstrap}")
    print()
    print("| true drop (points) | detected (regressed) | observed discordance | mean p |")
    print("| ---: | ---: | ---: | ---: |")
    for delta, rate, discordant, p_value in rows:
        print(f"| {delta:.1f} | {rate:.1%} | {discordant:.3f} | {p_value:.4f} |")
    powered = [delta for delta, rate, _, _ in rows if delta > 0 and rate >= 0.95]
    print()
    if powered:
        print(f"smallest regression detected at >= 95% power: {min(powered):.1f} points")
    else:
        print("no tested regression reaches 95% power")
    print(f"({len(deltas) * options.seeds} gates in {elapsed:.0f} s)")


if __name__ == "__main__":
    main()
