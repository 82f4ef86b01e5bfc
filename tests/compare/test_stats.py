"""The regression gate's statistics, on cases small enough to work out by hand."""

from __future__ import annotations

from fractions import Fraction
from math import comb

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from evalkit.compare.stats import (
    IMPROVED,
    NO_CHANGE,
    REGRESSED,
    TEST_MCNEMAR,
    TEST_SIGN_FLIP_EXACT,
    TEST_SIGN_FLIP_MC,
    PairedStats,
    bootstrap_ci,
    mcnemar_exact,
    paired_stats,
    sample_scale,
    sign_flip_test,
    verdict,
)

# ---------------------------------------------------------------- McNemar, exact binomial on the discordant pairs


@pytest.mark.parametrize(("b", "c", "expected"), [
    (1, 5, 0.21875),    # n=6: P(X<=1) = (1 + 6)/64 = 7/64, doubled 14/64
    (5, 1, 0.21875),    # symmetric in b and c
    (0, 6, 0.03125),    # P(X<=0) = 1/64, doubled 2/64
    (6, 0, 0.03125),
    (0, 5, 0.0625),     # 2/32
    (2, 8, 0.109375),   # n=10: (1 + 10 + 45)/1024 = 56/1024, doubled 112/1024
    (0, 1, 1.0),        # 2 * 1/2 = 1
    (3, 3, 1.0),        # b == c: the doubled tail exceeds 1, capped
    (7, 7, 1.0),
    (0, 0, 1.0),        # no discordant pair: nothing to test
    (1, 1, 1.0),
])
def test_mcnemar_by_hand(b, c, expected):
    assert mcnemar_exact(b, c) == expected


def test_mcnemar_matches_fractions_on_a_larger_case():
    b, c = 40, 70
    n = b + c
    exact = 2 * Fraction(sum(comb(n, k) for k in range(b + 1)), 2**n)
    assert mcnemar_exact(b, c) == float(exact)
    assert 0.0 < mcnemar_exact(b, c) < 0.01


def test_mcnemar_big_counts_do_not_overflow():
    assert mcnemar_exact(20_000, 20_000) == 1.0
    p = mcnemar_exact(4_900, 5_100)
    assert 0.04 < p < 0.06  # z = 200 / sqrt(10000) = 2.0 → about 0.046


def test_mcnemar_rejects_negative_counts():
    with pytest.raises(ValueError):
        mcnemar_exact(-1, 3)


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 60), st.integers(0, 60))
def test_mcnemar_symmetric_and_a_probability(b, c):
    p = mcnemar_exact(b, c)
    assert p == mcnemar_exact(c, b)
    assert 0.0 < p <= 1.0
    if b + c > 0 and b != c:
        # moving one discordant pair further from balance never raises p
        low, high = min(b, c), max(b, c)
        assert mcnemar_exact(low, high + 1) <= p


# ---------------------------------------------------------------- sign-flip permutation test


@pytest.mark.parametrize(("diffs", "expected"), [
    ([0.5, 0.5, 0.5], 0.25),          # only ++ + and - - - reach |sum| = 1.5: 2/8
    ([0.0, 0.0, 0.5, 0.5, 0.5], 0.25),  # zeros never move the statistic
    ([3.0, 1.0, 1.0], 0.25),          # sums 5,3,3,1,-1,-3,-3,-5: |s| >= 5 twice
    ([3.0, 1.0, -1.0], 0.75),         # observed 3: 5,3,3,-3,-3,-5 reach it: 6/8
    ([1.0, -1.0], 1.0),               # observed 0: every pattern is as extreme
    ([0.0, 0.0], 1.0),                # nothing differs
    ([0.2], 1.0),                     # one difference: both signs equally extreme
])
def test_sign_flip_exact_by_hand(diffs, expected):
    p, exact = sign_flip_test(diffs, resamples=10, rng=np.random.default_rng(0))
    assert exact
    assert p == pytest.approx(expected, abs=1e-12)


def test_sign_flip_monte_carlo_never_zero():
    # 20 equal positive differences: the exact p is 2 / 2**20; 1000 random patterns almost surely miss it
    p, exact = sign_flip_test([0.3] * 20, resamples=1000, rng=np.random.default_rng(0))
    assert not exact
    assert p == pytest.approx(1 / 1001)


def test_sign_flip_monte_carlo_centred_data_is_not_significant():
    rng = np.random.default_rng(1)
    diffs = np.concatenate([np.full(50, 0.25), np.full(50, -0.25)])
    p, _ = sign_flip_test(diffs, resamples=2000, rng=rng)
    assert p == 1.0  # observed sum 0: every pattern is at least as extreme


# ---------------------------------------------------------------- bootstrap interval


def test_bootstrap_ci_of_constant_differences_is_a_point():
    low, high = bootstrap_ci([2.0] * 30, resamples=500, level=0.95, rng=np.random.default_rng(0))
    assert low == high == 2.0


def test_bootstrap_ci_is_seeded_and_widens_with_level():
    diffs = np.random.default_rng(3).normal(1.0, 5.0, size=400)
    first = bootstrap_ci(diffs, resamples=3000, level=0.95, rng=np.random.default_rng(7))
    again = bootstrap_ci(diffs, resamples=3000, level=0.95, rng=np.random.default_rng(7))
    narrow = bootstrap_ci(diffs, resamples=3000, level=0.80, rng=np.random.default_rng(7))
    assert first == again
    assert first[0] < narrow[0] < diffs.mean() < narrow[1] < first[1]
    # the 95% interval of a mean of 400 draws with sd 5 has half-width about 1.96 * 5 / 20 = 0.49
    assert 0.35 < (first[1] - first[0]) / 2 < 0.65


def test_bootstrap_ci_large_sample_in_blocks():
    diffs = np.zeros(200_000)
    diffs[:1000] = 1.0
    low, high = bootstrap_ci(diffs, resamples=50, level=0.9, rng=np.random.default_rng(0))
    assert low <= 0.005 <= high


# ---------------------------------------------------------------- paired_stats


def test_paired_stats_binary_uses_mcnemar_on_percent_scale():
    base = [1] * 10 + [0] * 10
    candidate = [0] * 6 + [1] * 4 + [1] * 0 + [0] * 10   # 6 lost, none gained
    stats = paired_stats(base, candidate, resamples=500, seed=0)
    assert stats.binary and stats.test == TEST_MCNEMAR
    assert (stats.discordant_worse, stats.discordant_better) == (6, 0)
    assert stats.p_value == 0.03125
    assert stats.scale == 100.0
    assert stats.mean_diff == pytest.approx(-30.0)   # 6 of 20 samples, in percentage points
    assert stats.ci_high < 0.0


def test_paired_stats_fractional_scores_use_sign_flip():
    base = [0.8, 0.6, 0.9]
    candidate = [0.3, 0.1, 0.4]
    stats = paired_stats(base, candidate, resamples=500, seed=0)
    assert not stats.binary and stats.test == TEST_SIGN_FLIP_EXACT
    assert stats.p_value == pytest.approx(0.25)
    assert stats.mean_diff == pytest.approx(-50.0)


def test_paired_stats_many_fractional_differences_use_monte_carlo():
    base = [0.5] * 40
    candidate = [0.25] * 40
    stats = paired_stats(base, candidate, resamples=999, seed=0)
    assert stats.test == TEST_SIGN_FLIP_MC
    assert stats.p_value == pytest.approx(1 / 1000)


def test_paired_stats_scale_one_for_scores_outside_unit_interval():
    stats = paired_stats([3.0, 4.0], [2.0, 3.0], resamples=100)
    assert stats.scale == 1.0
    assert stats.mean_diff == pytest.approx(-1.0)


def test_paired_stats_is_reproducible():
    rng = np.random.default_rng(5)
    base = list(rng.random(300))
    candidate = list(rng.random(300))
    assert paired_stats(base, candidate, resamples=800, seed=3) == paired_stats(base, candidate, resamples=800, seed=3)


def test_paired_stats_rejects_bad_input():
    with pytest.raises(ValueError):
        paired_stats([], [])
    with pytest.raises(ValueError):
        paired_stats([1.0], [1.0, 0.0])


def test_sample_scale():
    assert sample_scale([0.0, 0.5, 1.0]) == 100.0
    assert sample_scale([0.0, 2.0]) == 1.0


# ---------------------------------------------------------------- verdict


def _stats(low: float, high: float, p: float) -> PairedStats:
    return PairedStats(n=1000, scale=100.0, mean_diff=(low + high) / 2, ci_low=low, ci_high=high, ci_level=0.95,
                       p_value=p, test=TEST_MCNEMAR, binary=True)


@pytest.mark.parametrize(("delta", "low", "high", "p", "higher", "expected"), [
    (-5.0, -7.0, -3.0, 0.001, True, REGRESSED),
    (-0.5, -0.8, -0.2, 0.001, True, NO_CHANGE),    # significant but smaller than min_delta
    (-1.0, -1.5, -0.5, 0.001, True, NO_CHANGE),    # exactly min_delta is not "more than"
    (-5.0, -7.0, -3.0, 0.2, True, NO_CHANGE),      # not significant
    (-5.0, -7.0, 0.5, 0.01, True, NO_CHANGE),      # CI reaches zero
    (-5.0, 3.0, 7.0, 0.001, True, NO_CHANGE),      # headline down, per-sample up: no consistent story
    (5.0, 3.0, 7.0, 0.001, True, IMPROVED),
    (5.0, 3.0, 7.0, 0.001, False, REGRESSED),      # lower is better: going up is worse
    (-5.0, -7.0, -3.0, 0.001, False, IMPROVED),
])
def test_verdict_rule(delta, low, high, p, higher, expected):
    assert verdict(delta, _stats(low, high, p), higher_is_better=higher, alpha=0.05, min_delta=1.0) == expected
