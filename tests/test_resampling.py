"""The resampling engine: identical to SciPy where the random numbers are shared, statistically
indistinguishable on the exact shortcut paths, exact enumeration, closed-form jackknife, memory."""
from __future__ import annotations

import itertools
import tracemalloc

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from toolkit.stats.prepare import prepare_groups
from toolkit.stats.resampling import (BootstrapResult, PermutationResult, bca_interval, bootstrap_distribution,
                                      bootstrap_groups, bootstrap_two, jackknife_values, permutation_p_value,
                                      permutation_test_two)


def _gd(groups):
    df = pd.DataFrame({"y": np.concatenate(groups),
                       "g": np.repeat([f"g{i}" for i in range(len(groups))], [len(g) for g in groups])})
    return prepare_groups(df, dv="y", between="g", func="test", min_size=1)


def _quantile_se(boot_sd, p, b):
    """Monte-Carlo SE of a bootstrap quantile (normal approximation): sd * sqrt(p(1-p)/B) / phi(z_p)."""
    return boot_sd * np.sqrt(p * (1 - p) / b) / stats.norm.pdf(stats.norm.ppf(p))


# --------------------------------------------------------------------------------------------------
# Bootstrap
# --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("statistic, func", [("mean", np.mean), ("median", np.median)])
@pytest.mark.parametrize("method", ["bca", "percentile"])
def test_index_path_identical_to_scipy(statistic, func, method, rng):
    # continuous data -> index resampling; the same Generator gives SciPy's resamples exactly
    groups = [rng.lognormal(0, 1, size=n) for n in (25, 40, 31)]
    ours = bootstrap_groups(_gd(groups), statistics=(statistic,), n_resamples=2999, method=method,
                            confidence_level=0.9, seed=np.random.default_rng(11))[statistic]
    gen = np.random.default_rng(11)
    for i, x in enumerate(groups):
        ref = stats.bootstrap((x,), func, n_resamples=2999, method="BCa" if method == "bca" else "percentile",
                              confidence_level=0.9, rng=gen)
        # identical resamples; the closed-form jackknife differs from SciPy's in the last bits only
        np.testing.assert_allclose([ours.ci_low[i], ours.ci_high[i]],
                                   [ref.confidence_interval.low, ref.confidence_interval.high], rtol=1e-9)
        assert ours.estimate[i] == pytest.approx(func(x), rel=1e-14)


def test_index_path_chunking_keeps_scipys_stream(rng):
    # n large enough that the engine draws in several chunks (n * B > chunk budget)
    x = rng.lognormal(size=5001)
    ours = bootstrap_distribution(x, statistics=("mean",), n_resamples=1200, seed=np.random.default_rng(9),
                                  path="index")["mean"]
    ref = stats.bootstrap((x,), np.mean, n_resamples=1200, rng=np.random.default_rng(9), method="percentile")
    np.testing.assert_allclose(ours, ref.bootstrap_distribution, rtol=1e-13)


def test_counts_path_has_the_exact_bootstrap_variance(rng):
    # Var*(mean*) = sigma^2 / n with sigma^2 the plug-in (ddof=0) variance: an exact property of the
    # ordinary bootstrap, checked on 20,000 multinomial-count resamples (4 Monte-Carlo SEs)
    x = rng.negative_binomial(1.5, 1.5 / 21.5, size=800).astype(float)
    b = 20000
    dist = bootstrap_distribution(x, statistics=("mean",), n_resamples=b, seed=3, path="counts")["mean"]
    target = x.var() / x.size
    assert dist.var(ddof=1) == pytest.approx(target, rel=4 * np.sqrt(2 / (b - 1)))
    assert dist.mean() == pytest.approx(x.mean(), abs=4 * np.sqrt(target / b))


@pytest.mark.parametrize("statistic", ["mean", "median"])
def test_counts_path_same_distribution_as_index_path(statistic, rng):
    x = rng.negative_binomial(1.2, 1.2 / 9.2, size=301).astype(float)
    a = bootstrap_distribution(x, statistics=(statistic,), n_resamples=4000, seed=1, path="counts")[statistic]
    b = bootstrap_distribution(x, statistics=(statistic,), n_resamples=4000, seed=2, path="index")[statistic]
    values = np.union1d(a, b)
    table = np.array([[np.sum(a == v) for v in values], [np.sum(b == v) for v in values]])
    if statistic == "median":  # few distinct values: chi-square test of equal frequencies
        table = table[:, table.sum(axis=0) >= 10]
        assert stats.chi2_contingency(table).pvalue > 0.001
    else:
        assert stats.ks_2samp(a, b).pvalue > 0.001


def test_counts_path_bca_agrees_with_scipy_within_monte_carlo_error(rng):
    groups = [rng.negative_binomial(1.3, 1.3 / (1.3 + mu), size=n).astype(float) for mu, n in ((15, 400), (40, 250))]
    b = 9999
    ours = bootstrap_groups(_gd(groups), statistics=("mean",), n_resamples=b, seed=5, path="counts")["mean"]
    for i, x in enumerate(groups):
        ref = stats.bootstrap((x,), np.mean, n_resamples=b, rng=21 + i, method="BCa")
        sd = ref.standard_error
        tol = 5 * np.sqrt(2) * _quantile_se(sd, 0.025, b)  # two independent Monte-Carlo estimates
        assert abs(ours.ci_low[i] - ref.confidence_interval.low) < tol
        assert abs(ours.ci_high[i] - ref.confidence_interval.high) < tol


@pytest.mark.parametrize("n", [2, 3, 8, 9, 20, 21])
@pytest.mark.parametrize("statistic", ["mean", "median"])
def test_jackknife_closed_form_matches_brute_force(n, statistic, rng):
    x = rng.integers(0, 4, size=n).astype(float)  # ties on purpose
    func = np.mean if statistic == "mean" else np.median
    brute = np.array([func(np.delete(x, i)) for i in range(n)])
    closed = jackknife_values(x, statistic)
    np.testing.assert_allclose(np.sort(closed), np.sort(brute), rtol=1e-14, atol=1e-14)


def test_degenerate_median_interval_is_the_estimate():
    x = np.array([0.0] * 80 + [1.0, 2.0, 5.0] * 5)  # 84% zeros: every bootstrap median is 0
    res = bootstrap_groups(_gd([x, x + 1]), statistics=("median",), n_resamples=999, seed=1)["median"]
    np.testing.assert_array_equal(res.ci_low, res.estimate)
    np.testing.assert_array_equal(res.ci_high, res.estimate)
    assert res.degenerate.all()


def test_constant_jackknife_uses_zero_acceleration():
    # middle order statistics all equal -> every leave-one-out median is 5, but the bootstrap
    # medians vary; SciPy's BCa is NaN here, ours is the bias-corrected interval
    x = np.array([0.0] * 3 + [5.0] * 5 + [9.0] * 3)
    assert np.ptp(jackknife_values(x, "median")) == 0
    dist = bootstrap_distribution(x, statistics=("median",), n_resamples=4000, seed=2, path="index")["median"]
    lo, hi, deg = bca_interval(5.0, dist, [jackknife_values(x, "median")], 0.95)
    assert not deg and np.isfinite([lo, hi]).all() and 0 <= lo <= 5 <= hi <= 9
    # with a = 0 BCa reduces to the bias-corrected percentile interval
    z0 = stats.norm.ppf((np.sum(dist < 5) + np.sum(dist <= 5)) / (2 * dist.size))
    expected = np.quantile(dist, stats.norm.cdf([2 * z0 - 1.959963984540054, 2 * z0 + 1.959963984540054]))
    np.testing.assert_allclose([lo, hi], expected)


def test_groups_of_size_one_get_nan_intervals():
    res = bootstrap_groups(_gd([np.array([3.0]), np.array([1.0, 2.0, 4.0])]), n_resamples=199, seed=1)
    assert np.isnan(res["mean"].ci_low[0]) and res["mean"].estimate[0] == 3.0
    assert np.isfinite(res["mean"].ci_low[1])


# --------------------------------------------------------------------------------------------------
# Two-sample functions (used by tk.pairwise)
# --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("statistic", ["mean_difference", "median_difference", "ratio_of_means"])
def test_bootstrap_two_identical_to_scipy_on_continuous_data(statistic, rng):
    x, y = rng.lognormal(0.3, 1, size=35), rng.lognormal(0, 1, size=28)
    base = np.mean if statistic != "median_difference" else np.median

    def func(a, b, axis=-1):
        sa, sb = base(a, axis=axis), base(b, axis=axis)
        return sa / sb if statistic == "ratio_of_means" else sa - sb

    ours = bootstrap_two(x, y, statistic=statistic, n_resamples=1999, seed=np.random.default_rng(4))
    ref = stats.bootstrap((x, y), func, n_resamples=1999, rng=np.random.default_rng(4), method="BCa",
                          vectorized=True)
    assert isinstance(ours, BootstrapResult) and ours.method == "bca" and ours.n_resamples == 1999
    assert ours.estimate == pytest.approx(func(x, y), rel=1e-13)
    np.testing.assert_allclose([ours.ci_low, ours.ci_high],
                               [ref.confidence_interval.low, ref.confidence_interval.high], rtol=1e-9)


def _enumerate_two(x, y, statistic):
    pooled = np.concatenate([x, y])
    n, nx = pooled.size, x.size
    base = np.mean if statistic != "median_difference" else np.median
    out = []
    for idx in itertools.combinations(range(n), nx):
        mask = np.zeros(n, bool)
        mask[list(idx)] = True
        out.append(base(pooled[mask]) - base(pooled[~mask]))
    return np.array(out), base(x) - base(y)


@pytest.mark.parametrize("x, y, statistic", [
    ([1.0, 4.0, 6.5], [0.5, 2.5, 3.0], "mean_difference"),                  # 20 relabellings, shuffle path
    ([2.0, 2.0, 1.0, 2.0], [0.0] * 12 + [1.0] * 6 + [2.0] * 2, "mean_difference"),   # 10,626; counts path
    ([2.0, 2.0, 1.0, 2.0], [0.0] * 12 + [1.0] * 6 + [2.0] * 2, "median_difference"),
])
@pytest.mark.parametrize("alternative", ["greater", "two-sided"])
def test_permutation_two_converges_to_exact_enumeration(x, y, statistic, alternative):
    null, t = _enumerate_two(np.array(x), np.array(y), statistic)
    tol = 1e-12
    p_greater, p_less = np.mean(null >= t - tol), np.mean(null <= t + tol)
    exact = p_greater if alternative == "greater" else min(1.0, 2 * min(p_greater, p_less))
    b = 20000
    res = permutation_test_two(x, y, statistic=statistic, n_resamples=b, alternative=alternative, seed=8)
    assert isinstance(res, PermutationResult) and res.n_resamples == b and res.alternative == alternative
    assert res.statistic == pytest.approx(t)
    se = np.sqrt(max(exact * (1 - exact), 1e-4) / b) * (2 if alternative == "two-sided" else 1)
    assert res.p_value == pytest.approx(exact, abs=5 * se + 2 / b)


@pytest.mark.parametrize("tied", [False, True])
def test_permutation_two_agrees_with_scipy(tied, rng):
    if tied:
        x, y = rng.poisson(3.0, 60).astype(float), rng.poisson(3.8, 50).astype(float)
    else:
        x, y = rng.normal(0.0, 1, 30), rng.normal(0.6, 1, 25)
    b = 9999
    ours = permutation_test_two(x, y, n_resamples=b, seed=1)
    ref = stats.permutation_test((x, y), lambda a, c, axis=-1: a.mean(axis) - c.mean(axis), vectorized=True,
                                 n_resamples=b, rng=2)
    p = ref.pvalue
    assert ours.statistic == pytest.approx(ref.statistic)
    assert abs(ours.p_value - p) < 5 * 2 * np.sqrt(2 * max(p * (1 - p), 1e-3) / b)


def test_two_sample_seed_determinism_and_errors():
    x, y = np.arange(8.0), np.arange(8.0) + 2
    assert permutation_test_two(x, y, seed=3, n_resamples=99) == permutation_test_two(x, y, seed=3, n_resamples=99)
    assert bootstrap_two(x, y, seed=3, n_resamples=99) == bootstrap_two(x, y, seed=3, n_resamples=99)
    with pytest.raises(ValueError, match="`statistic` must be one of 'mean_difference'"):
        permutation_test_two(x, y, statistic="mean")
    with pytest.raises(ValueError, match="`x` must be free of NaN"):
        bootstrap_two(np.array([1.0, np.nan]), y)
    with pytest.raises(ValueError, match="`y` must be a sample with a non-zero mean"):
        bootstrap_two(x, np.zeros(5), statistic="ratio_of_means")
    with pytest.raises(ValueError, match="`method` must be one of 'bca', 'percentile'"):
        bootstrap_two(x, y, method="BCa")


def test_p_value_convention():
    null = np.array([0.0, 1.0, 2.0, 3.0])
    assert permutation_p_value(null, 2.0, "greater") == pytest.approx(3 / 5)   # (1 + 2) / (4 + 1)
    assert permutation_p_value(null, 2.0, "less") == pytest.approx(4 / 5)
    assert permutation_p_value(null, 2.0, "two-sided") == 1.0
    assert permutation_p_value(null, 9.0, "greater") == pytest.approx(1 / 5)  # never zero


@pytest.mark.parametrize("n", [1, 2, 3, 4, 63, 64, 65, 127, 128, 129, 1000, 1001, 4097])
def test_resample_medians_equal_numpy_median(n, rng):
    """The bucketed selection of the index path returns exactly np.median of every resample (odd and even n,
    bucket edges at multiples of 64, ties in the data)."""
    from toolkit.stats.resampling import _MEDIAN_BUCKET_SHIFT, _resample_medians

    for x in (rng.lognormal(size=n), rng.integers(0, 5, size=n).astype(float)):
        order = np.argsort(x, kind="stable")
        position = np.empty(n, dtype=np.intp)
        position[order] = np.arange(n)
        idx = rng.integers(0, n, (37, n))
        got = _resample_medians(idx, position, position >> _MEDIAN_BUCKET_SHIFT, x[order])
        np.testing.assert_array_equal(got, np.median(x[idx], axis=1))


# --------------------------------------------------------------------------------------------------
# Memory: no n x B matrices
# --------------------------------------------------------------------------------------------------
def test_bootstrap_memory_is_bounded(rng):
    tied = rng.negative_binomial(1.2, 1.2 / 41.2, size=200_000).astype(float)
    cont = rng.lognormal(size=200_000)
    tracemalloc.start()
    try:
        bootstrap_distribution(tied, statistics=("mean", "median"), n_resamples=2000, seed=1)   # counts path
        bootstrap_distribution(cont, statistics=("mean", "median"), n_resamples=150, seed=1)    # index path
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # an n x B float matrix would be 3.2 GB (tied) and 240 MB (continuous)
    assert peak < 100e6
