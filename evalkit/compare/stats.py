"""The statistics of the regression gate: paired differences, their confidence interval, a p-value, a verdict.

Everything works on the *paired per-sample scores* of one suite: ``d_i = candidate_i - base_i`` for every sample
both runs scored, multiplied by ``scale`` (100 when the per-sample scores are fractions in [0, 1], so that the
differences are in percentage points, the unit of the paper's table).

* **Mean difference**: ``mean(d)``.
* **Confidence interval**: a paired percentile bootstrap: ``resamples`` draws of ``n`` paired indices with
  replacement (a seeded :class:`numpy.random.Generator`), the mean of ``d`` over each draw, and the
  ``alpha / 2`` and ``1 - alpha / 2`` quantiles of those means.
* **p-value**, two-sided:

  - every per-sample score 0 or 1 (accuracy, hit/miss): **McNemar's exact test**: with ``b`` samples the base got
    right and the candidate wrong and ``c`` the reverse, ``p = min(1, 2 * P(X <= min(b, c)))`` for
    ``X ~ Binomial(b + c, 1/2)``, computed in exact integer arithmetic; ``p = 1`` when ``b + c = 0``;
  - any other scores (ANLS, VQA accuracy, IoU-based, judge grades): a **paired sign-flip permutation test**.
    Under the null hypothesis the two checkpoints are exchangeable on every sample, so each ``d_i`` is as likely
    to carry either sign. The statistic is ``|sum(d)|``; samples with ``d_i = 0`` do not move it and are left out.
    With at most :data:`EXACT_FLIP_LIMIT` non-zero differences all ``2**m`` sign patterns are enumerated (an
    exact p-value); beyond that ``resamples`` random patterns are drawn and ``p = (1 + k) / (1 + resamples)``
    with ``k`` the patterns at least as extreme as the observed one (a valid Monte-Carlo p-value, never 0).
    McNemar's exact test is this same test on 0/1 data, computed in closed form.

* **Verdict** (:func:`verdict`): ``regressed`` when the *headline* score is worse by more than ``min_delta``
  points (respecting ``higher_is_better``) **and** ``p < alpha`` **and** the confidence interval lies entirely
  on the worse side of zero; ``improved`` symmetrically; otherwise ``no significant change``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

REGRESSED = "regressed"
IMPROVED = "improved"
NO_CHANGE = "no significant change"

TEST_MCNEMAR = "McNemar exact"
TEST_SIGN_FLIP_EXACT = "sign-flip permutation (exact)"
TEST_SIGN_FLIP_MC = "sign-flip permutation (Monte Carlo)"

EXACT_FLIP_LIMIT = 16
"""Up to this many non-zero differences the sign-flip test enumerates every pattern (2**16 = 65,536)."""

_CHUNK_ELEMENTS = 4_000_000
"""Resampling is done in blocks of about this many drawn indices, so memory stays bounded for big suites."""


@dataclass(frozen=True)
class PairedStats:
    """The paired comparison of one suite, on the per-sample scale (``scale`` times the per-sample score).

    ``discordant_worse`` / ``discordant_better`` are McNemar's ``b`` and ``c`` for 0/1 suites (samples the
    candidate lost / gained) and ``None`` otherwise.
    """

    n: int
    scale: float
    mean_diff: float
    ci_low: float
    ci_high: float
    ci_level: float
    p_value: float
    test: str
    binary: bool
    discordant_worse: int | None = None
    discordant_better: int | None = None


def mcnemar_exact(b: int, c: int) -> float:
    """Two-sided exact McNemar p-value for ``b`` and ``c`` discordant pairs.

    ``p = min(1, 2 * P(X <= min(b, c)))`` with ``X ~ Binomial(b + c, 1/2)``; ``1.0`` when ``b + c == 0``.
    The tail is summed in integers (``comb(n, k)`` built term by term) and divided once, so the result is the
    correctly rounded float of the exact rational value.
    """
    if b < 0 or c < 0:
        raise ValueError(f"discordant counts must be >= 0, got b={b}, c={c}")
    total = b + c
    if total == 0:
        return 1.0
    low = min(b, c)
    term = 1  # comb(total, 0)
    tail = 1
    for k in range(low):
        term = term * (total - k) // (k + 1)  # comb(total, k + 1), exact
        tail += term
    return min(1.0, (2 * tail) / (1 << total))


def _resample_means(diffs: np.ndarray, resamples: int, rng: np.random.Generator) -> np.ndarray:
    """``resamples`` bootstrap means of ``diffs``: each draws ``len(diffs)`` indices with replacement."""
    n = len(diffs)
    means = np.empty(resamples, dtype=np.float64)
    block = max(1, _CHUNK_ELEMENTS // max(n, 1))
    for start in range(0, resamples, block):
        stop = min(resamples, start + block)
        picks = rng.integers(0, n, size=(stop - start, n))
        means[start:stop] = diffs[picks].mean(axis=1)
    return means


def bootstrap_ci(diffs: Sequence[float] | np.ndarray, *, resamples: int, level: float,
                 rng: np.random.Generator) -> tuple[float, float]:
    """Percentile bootstrap interval for the mean of paired differences at confidence ``level`` (e.g. 0.95)."""
    values = np.asarray(diffs, dtype=np.float64)
    if values.size == 0:
        raise ValueError("no paired differences")
    if resamples < 1:
        raise ValueError(f"resamples must be >= 1, got {resamples}")
    means = _resample_means(values, resamples, rng)
    tail = (1.0 - level) / 2.0
    low, high = np.quantile(means, [tail, 1.0 - tail])
    return float(low), float(high)


def sign_flip_test(diffs: Sequence[float] | np.ndarray, *, resamples: int,
                   rng: np.random.Generator) -> tuple[float, bool]:
    """Two-sided paired sign-flip permutation p-value for ``mean(diffs) == 0``; returns ``(p, exact)``.

    Zero differences are dropped (flipping them changes nothing). With ``m <= EXACT_FLIP_LIMIT`` non-zero
    differences all ``2**m`` patterns are enumerated: ``p`` is the share of patterns whose ``|sum|`` is at least
    the observed one. Otherwise ``p = (1 + k) / (1 + resamples)`` over random patterns.
    """
    values = np.asarray(diffs, dtype=np.float64)
    values = values[values != 0.0]
    m = values.size
    if m == 0:
        return 1.0, True
    observed = abs(float(values.sum()))
    tolerance = 1e-9 * max(1.0, float(np.abs(values).sum()))
    if m <= EXACT_FLIP_LIMIT:
        patterns = ((np.arange(1 << m)[:, None] >> np.arange(m)[None, :]) & 1) * 2 - 1
        sums = np.abs(patterns @ values)
        return float(np.count_nonzero(sums >= observed - tolerance)) / float(1 << m), True
    if resamples < 1:
        raise ValueError(f"resamples must be >= 1, got {resamples}")
    extreme = 0
    block = max(1, _CHUNK_ELEMENTS // m)
    for start in range(0, resamples, block):
        stop = min(resamples, start + block)
        signs = rng.integers(0, 2, size=(stop - start, m), dtype=np.int8) * 2 - 1
        sums = np.abs(signs @ values)
        extreme += int(np.count_nonzero(sums >= observed - tolerance))
    return (1.0 + extreme) / (1.0 + resamples), False


def is_binary(values: Sequence[float] | np.ndarray) -> bool:
    """True when every value is exactly 0 or 1."""
    array = np.asarray(values, dtype=np.float64)
    return bool(np.all((array == 0.0) | (array == 1.0)))


def sample_scale(values: Sequence[float] | np.ndarray) -> float:
    """100 when every per-sample score lies in [0, 1] (fractions: differences become percentage points), else 1."""
    array = np.asarray(values, dtype=np.float64)
    if array.size == 0 or bool(np.all((array >= 0.0) & (array <= 1.0))):
        return 100.0
    return 1.0


def paired_stats(base: Sequence[float], candidate: Sequence[float], *, alpha: float = 0.05,
                 resamples: int = 10_000, seed: int = 0, scale: float | None = None) -> PairedStats:
    """Compare two aligned lists of per-sample scores (``base[i]`` and ``candidate[i]`` are the same sample).

    ``scale`` defaults to :func:`sample_scale` of both lists together. The bootstrap runs first, then (for
    non-binary scores) the sign-flip draws, from one ``numpy.random.default_rng(seed)``: the same inputs and
    seed give the same numbers.
    """
    if len(base) != len(candidate):
        raise ValueError(f"{len(base)} base scores but {len(candidate)} candidate scores")
    if not base:
        raise ValueError("no paired samples")
    base_arr = np.asarray(base, dtype=np.float64)
    cand_arr = np.asarray(candidate, dtype=np.float64)
    if not (np.all(np.isfinite(base_arr)) and np.all(np.isfinite(cand_arr))):
        raise ValueError("per-sample scores must be finite")
    if scale is None:
        scale = sample_scale(np.concatenate([base_arr, cand_arr]))
    diffs = (cand_arr - base_arr) * scale
    rng = np.random.default_rng(seed)
    level = 1.0 - alpha
    low, high = bootstrap_ci(diffs, resamples=resamples, level=level, rng=rng)
    binary = is_binary(base_arr) and is_binary(cand_arr)
    worse: int | None = None
    better: int | None = None
    if binary:
        worse = int(np.count_nonzero((base_arr == 1.0) & (cand_arr == 0.0)))
        better = int(np.count_nonzero((base_arr == 0.0) & (cand_arr == 1.0)))
        p_value, test = mcnemar_exact(worse, better), TEST_MCNEMAR
    else:
        p_value, exact = sign_flip_test(diffs, resamples=resamples, rng=rng)
        test = TEST_SIGN_FLIP_EXACT if exact else TEST_SIGN_FLIP_MC
    return PairedStats(n=len(diffs), scale=scale, mean_diff=float(diffs.mean()), ci_low=low, ci_high=high,
                       ci_level=level, p_value=p_value, test=test, binary=binary, discordant_worse=worse,
                       discordant_better=better)


def verdict(headline_delta: float, stats: PairedStats, *, higher_is_better: bool, alpha: float,
            min_delta: float) -> str:
    """``regressed`` / ``improved`` / ``no significant change`` for one suite.

    ``headline_delta`` is candidate minus base on the headline score (scores.json ``score``). A suite regressed
    when it is worse by more than ``min_delta`` points there, ``p < alpha``, and the per-sample confidence
    interval lies entirely on the worse side of zero; improved symmetrically. ``higher_is_better`` orients both
    the headline and the per-sample differences.
    """
    sign = 1.0 if higher_is_better else -1.0
    gain = sign * headline_delta
    low, high = sorted((sign * stats.ci_low, sign * stats.ci_high))
    significant = stats.p_value < alpha and not math.isnan(stats.p_value)
    if significant and gain < -min_delta and high < 0.0:
        return REGRESSED
    if significant and gain > min_delta and low > 0.0:
        return IMPROVED
    return NO_CHANGE
