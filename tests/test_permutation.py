"""tk.permutation_omnibus and the omnibus permutation engine: observed statistics against SciPy,
p-values against scipy.stats.permutation_test and exact enumeration, null uniformity, paths, seeds."""
from __future__ import annotations

import itertools
import tracemalloc
import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import toolkit as tk
from toolkit.stats.schema import OMNIBUS_COLUMNS
from toolkit.stats import resampling
from toolkit.stats.resampling import permutation_distribution, permutation_p_value


def _frame(groups):
    return pd.DataFrame({"likes": np.concatenate(groups).astype(float),
                         "dept": np.repeat([f"d{i}" for i in range(len(groups))], [len(g) for g in groups])})


def _welch_f(*samples, axis=-1):
    return stats.f_oneway(*samples, equal_var=False, axis=axis).statistic


def _f(*samples, axis=-1):
    return stats.f_oneway(*samples, axis=axis).statistic


def _h(*samples, axis=-1):
    return stats.kruskal(*samples, axis=axis).statistic


SCIPY = {"f": _f, "welch": _welch_f, "kruskal": _h}


@pytest.fixture
def count_groups(rng):
    return [rng.negative_binomial(1.5, 1.5 / (1.5 + mu), size=n) for mu, n in ((6, 14), (9, 11), (7, 17))]


@pytest.mark.parametrize("statistic", ["f", "welch", "kruskal"])
def test_observed_statistic_matches_scipy(statistic, count_groups):
    res = tk.permutation_omnibus(_frame(count_groups), dv="likes", between="dept", statistic=statistic,
                                 n_resamples=99, seed=1)
    assert list(res.columns) == list(OMNIBUS_COLUMNS)
    assert res["statistic"].iloc[0] == pytest.approx(SCIPY[statistic](*[g.astype(float) for g in count_groups]),
                                                     rel=1e-10)
    assert res["test"].iloc[0] == "permutation_omnibus"
    assert res[["df_between", "df_within", "effect_size", "confidence_level"]].isna().all(axis=None)
    assert res["n"].iloc[0] == sum(len(g) for g in count_groups) and res["n_groups"].iloc[0] == 3


@pytest.mark.parametrize("statistic", ["f", "welch", "kruskal"])
@pytest.mark.parametrize("path", ["counts", "shuffle"])
def test_p_value_agrees_with_scipy_permutation_test(statistic, path, count_groups):
    groups = [g.astype(float) for g in count_groups]
    groups[1] = groups[1] + 3  # a moderate effect so p is not tiny
    values, sizes = np.concatenate(groups), np.array([g.size for g in groups])
    b = 4999
    obs, null = permutation_distribution(values, sizes, statistic=statistic, n_resamples=b, seed=3, path=path)
    ours = permutation_p_value(null, obs, "greater")
    ref = stats.permutation_test(groups, SCIPY[statistic], vectorized=True, n_resamples=b, alternative="greater",
                                 permutation_type="independent", rng=4)
    assert obs == pytest.approx(ref.statistic, rel=1e-10)
    p = ref.pvalue
    # two independent Monte-Carlo estimates of the same p: 5 SEs of their difference
    assert abs(ours - p) < 5 * np.sqrt(2 * max(p * (1 - p), 1e-3) / b)


def _exact_null(values, sizes, statistic):
    """All distinct relabellings of values into groups of the given sizes (multiset enumeration)."""
    n = values.size
    out = []
    idx = np.arange(n)
    first = sizes[0]
    for a in itertools.combinations(idx, first):
        rest = np.setdiff1d(idx, a)
        for b_ in itertools.combinations(rest, sizes[1]):
            c = np.setdiff1d(rest, b_)
            with warnings.catch_warnings():  # Welch's F of a constant group: SciPy returns nan/inf and warns
                warnings.simplefilter("ignore", RuntimeWarning)
                out.append(SCIPY[statistic](values[list(a)], values[list(b_)], values[c]))
    return np.array(out)


@pytest.mark.parametrize("statistic", ["f", "welch", "kruskal"])
@pytest.mark.parametrize("path, values, hg_cost", [
    ("shuffle", [1.0, 2.5, 2.0, 4.0, 3.5, 6.0, 0.5, 5.0], None),
    ("counts", [0.0, 0.0, 1.0, 1.0, 1.0, 2.0, 0.0, 3.0], 0.0),    # every value split by hypergeometric draws
    ("counts", [0.0, 0.0, 1.0, 1.0, 1.0, 2.0, 0.0, 3.0], 1.0),    # runs of 3 split, singletons shuffled
    ("counts", [0.0, 0.0, 1.0, 1.0, 1.0, 2.0, 0.0, 3.0], None),   # default cost model: all shuffled
])
def test_p_value_converges_to_exact_enumeration(statistic, path, values, hg_cost, monkeypatch):
    if hg_cost is not None:
        monkeypatch.setattr(resampling, "_HG_COST", hg_cost)
    values = np.array(values)
    sizes = np.array([3, 3, 2])  # 8! / (3! 3! 2!) = 560 relabellings
    null = _exact_null(values, sizes, statistic)
    assert null.size == 560
    obs = SCIPY[statistic](values[:3], values[3:6], values[6:])
    exact = np.mean(null >= obs * (1 - 1e-12))
    b = 20000
    o, sampled = permutation_distribution(values, sizes, statistic=statistic, n_resamples=b, seed=5, path=path)
    assert o == pytest.approx(obs, rel=1e-12)
    assert permutation_p_value(sampled, o) == pytest.approx(exact, abs=5 * np.sqrt(exact * (1 - exact) / b) + 2 / b)
    # the whole null distribution, not only the tail: frequencies of the distinct null values
    # (relabellings where Welch's F is undefined -- a constant group -- form one category)
    defined = np.isfinite(null)
    uniq, expected = np.unique(np.round(null[defined], 9), return_counts=True)
    observed = np.array([np.sum(np.isclose(sampled, u, rtol=1e-8, atol=1e-9)) for u in uniq])
    if not defined.all():
        uniq = np.append(uniq, np.nan)
        expected = np.append(expected, np.sum(~defined))
        observed = np.append(observed, np.sum(~np.isfinite(sampled)))
    assert observed.sum() == b
    assert stats.chisquare(observed, expected / expected.sum() * b).pvalue > 0.001


@pytest.mark.parametrize("statistic", ["f", "welch", "kruskal"])
def test_permutation_omnibus_p_value_agrees_with_scipy(statistic, count_groups):
    groups = [g.astype(float) for g in count_groups]
    groups[2] = groups[2] + 2
    b = 4999
    ours = tk.permutation_omnibus(_frame(groups), dv="likes", between="dept", statistic=statistic,
                                  n_resamples=b, seed=9)["p_value"].iloc[0]
    p = stats.permutation_test(groups, SCIPY[statistic], vectorized=True, n_resamples=b, alternative="greater",
                               permutation_type="independent", rng=10).pvalue
    assert abs(ours - p) < 5 * np.sqrt(2 * max(p * (1 - p), 1e-3) / b)


def test_p_values_uniform_under_the_null(rng):
    # 200 data sets from one distribution x 199 permutations (Welch F on counts)
    ps = []
    for _ in range(200):
        y = rng.negative_binomial(2, 2 / 12, size=36).astype(float)
        o, null = permutation_distribution(y, np.array([12, 12, 12]), statistic="welch", n_resamples=199, seed=rng)
        ps.append(permutation_p_value(null, o))
    ps = np.array(ps)
    assert stats.kstest(ps, "uniform").pvalue > 0.001
    share = np.mean(ps <= 0.05)
    assert abs(share - 0.05) < 3.5 * np.sqrt(0.05 * 0.95 / ps.size)


@pytest.mark.parametrize("statistic", ["f", "welch", "kruskal"])
def test_counts_and_shuffle_paths_give_the_same_null(statistic, rng):
    y = rng.negative_binomial(1.2, 1.2 / 9.2, size=400).astype(float)
    sizes = np.array([100, 150, 60, 90])
    o1, a = permutation_distribution(y, sizes, statistic=statistic, n_resamples=3000, seed=1, path="counts")
    o2, b = permutation_distribution(y, sizes, statistic=statistic, n_resamples=3000, seed=2, path="shuffle")
    assert o1 == o2
    assert stats.ks_2samp(a, b).pvalue > 0.001


def test_seed_determinism_and_process_count_independence(rng):
    y = rng.lognormal(size=300)
    sizes = np.array([100, 120, 80])
    o, a = permutation_distribution(y, sizes, statistic="f", n_resamples=2500, seed=7, n_jobs=1)
    _, b = permutation_distribution(y, sizes, statistic="f", n_resamples=2500, seed=7, n_jobs=2)
    np.testing.assert_array_equal(a, b)
    _, c = permutation_distribution(y, sizes, statistic="f", n_resamples=2500, seed=8, n_jobs=1)
    assert not np.array_equal(a, c)
    df = _frame([y[:100], y[100:220], y[220:]])
    r1 = tk.permutation_omnibus(df, dv="likes", between="dept", n_resamples=199, seed=3)
    r2 = tk.permutation_omnibus(df, dv="likes", between="dept", n_resamples=199, seed=3)
    pd.testing.assert_frame_equal(r1, r2)
    assert r1["method"].iloc[0] == "permutation of Welch's F (199 resamples)"


def test_errors(count_groups):
    df = _frame(count_groups)
    with pytest.raises(ValueError, match="`statistic` must be one of 'f', 'welch', 'kruskal'; got 'anova'"):
        tk.permutation_omnibus(df, dv="likes", between="dept", statistic="anova")
    with pytest.raises(TypeError, match="`n_resamples` must be an integer >= 1"):
        tk.permutation_omnibus(df, dv="likes", between="dept", n_resamples=99.5)
    flat = _frame([np.array([2, 2, 2]), np.array([1, 3, 5])])
    with pytest.raises(ValueError, match="non-zero variance in every group.*'d0'"):
        tk.permutation_omnibus(flat, dv="likes", between="dept")
    same = _frame([np.array([2, 2, 2]), np.array([2, 2])])
    with pytest.raises(ValueError, match="at least two distinct values"):
        tk.permutation_omnibus(same, dv="likes", between="dept", statistic="kruskal")
    with pytest.raises(ValueError, match="varies within at least one group"):
        tk.permutation_omnibus(same, dv="likes", between="dept", statistic="f")
    with pytest.raises(ValueError, match="needs at least 2 non-missing values"):
        tk.permutation_omnibus(_frame([np.array([1]), np.array([1, 3, 5])]), dv="likes", between="dept")


def test_nan_policy(count_groups):
    df = _frame(count_groups)
    df.loc[[0, 7], "likes"] = np.nan
    with pytest.raises(ValueError, match="nan_policy='omit'"):
        tk.permutation_omnibus(df, dv="likes", between="dept")
    res = tk.permutation_omnibus(df, dv="likes", between="dept", nan_policy="omit", n_resamples=99, seed=1)
    assert res["n_dropped"].iloc[0] == 2 and res["n"].iloc[0] == len(df) - 2


def test_permutation_memory_is_bounded(rng):
    tied = rng.negative_binomial(1.2, 1.2 / 41.2, size=200_000).astype(float)
    cont = rng.lognormal(size=200_000)
    sizes = np.full(8, 25_000)
    tracemalloc.start()
    try:
        permutation_distribution(tied, sizes, statistic="welch", n_resamples=500, seed=1, n_jobs=1)
        permutation_distribution(cont, sizes, statistic="welch", n_resamples=100, seed=1, n_jobs=1)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 100e6  # n x B float64 would be 800 MB (tied) and 160 MB (continuous)
