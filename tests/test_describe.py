"""tk.describe_groups: columns, descriptive values against pandas/SciPy, bootstrap CIs against
scipy.stats.bootstrap, size-1 groups, degenerate medians, options and errors."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import toolkit as tk
from toolkit.stats.describe import DESCRIBE_COLUMNS


def _frame(groups, labels=None):
    labels = labels or [f"d{i}" for i in range(len(groups))]
    return pd.DataFrame({"y": np.concatenate(groups).astype(float),
                         "dept": np.repeat(labels, [len(g) for g in groups])})


def test_columns_and_descriptives(posts_long):
    res = tk.describe_groups(posts_long, dv="likes", between="department", n_resamples=199, seed=1)
    assert list(res.columns) == list(DESCRIBE_COLUMNS)
    assert isinstance(res.index, pd.RangeIndex)
    assert res["group"].tolist() == ["Marketing", "PR", "Customer service"]  # category order
    for _, row in res.iterrows():
        x = posts_long.loc[posts_long["department"] == row["group"], "likes"].to_numpy(float)
        assert row["n"] == x.size and row["n_dropped"] == 0
        assert row["mean"] == pytest.approx(x.mean(), rel=1e-14)
        assert row["median"] == pytest.approx(np.median(x))
        assert row["sd"] == pytest.approx(pd.Series(x).std(), rel=1e-12)
        assert row["q1"] == pytest.approx(pd.Series(x).quantile(0.25))
        assert row["iqr"] == pytest.approx(pd.Series(x).quantile(0.75) - pd.Series(x).quantile(0.25))
        assert (row["min"], row["max"]) == (x.min(), x.max())
        assert row["share_zero"] == pytest.approx(np.mean(x == 0))
        assert row["skewness"] == pytest.approx(stats.skew(x, bias=False), rel=1e-10)
        assert row["mean_ci_low"] <= row["mean"] <= row["mean_ci_high"]
        assert (row["ci_method"], row["confidence_level"], row["n_resamples"]) == ("bca", 0.95, 199)


@pytest.mark.parametrize("ci_method, scipy_method", [("bca", "BCa"), ("percentile", "percentile")])
def test_intervals_identical_to_scipy_for_continuous_data(ci_method, scipy_method, rng):
    # continuous values use index resampling: the same Generator gives SciPy's resamples exactly,
    # and the mean and median come from the same resamples (as SciPy's, resample for resample)
    groups = [rng.lognormal(0, 1, size=n) for n in (30, 45)]
    res = tk.describe_groups(_frame(groups), dv="y", between="dept", n_resamples=1999, ci_method=ci_method,
                             confidence_level=0.9, seed=np.random.default_rng(21))
    for stat, func in (("mean", np.mean), ("median", np.median)):
        gen = np.random.default_rng(21)
        for i, x in enumerate(groups):
            ref = stats.bootstrap((x,), func, n_resamples=1999, method=scipy_method, confidence_level=0.9, rng=gen)
            np.testing.assert_allclose(res.loc[i, [f"{stat}_ci_low", f"{stat}_ci_high"]].to_numpy(float),
                                       [ref.confidence_interval.low, ref.confidence_interval.high], rtol=1e-9)


def test_intervals_agree_with_scipy_for_counts(rng):
    # counts take the exact multinomial shortcut: agreement within Monte-Carlo error
    groups = [rng.negative_binomial(1.4, 1.4 / (1.4 + mu), size=n) for mu, n in ((12, 600), (30, 500))]
    b = 9999
    res = tk.describe_groups(_frame(groups), dv="y", between="dept", n_resamples=b, seed=2)
    for i, x in enumerate(groups):
        ref = stats.bootstrap((x.astype(float),), np.mean, n_resamples=b, method="BCa", rng=30 + i)
        se = ref.standard_error * np.sqrt(0.025 * 0.975 / b) / stats.norm.pdf(1.96)  # MC SE of an end point
        assert res.loc[i, "mean_ci_low"] == pytest.approx(ref.confidence_interval.low, abs=5 * np.sqrt(2) * se)
        assert res.loc[i, "mean_ci_high"] == pytest.approx(ref.confidence_interval.high, abs=5 * np.sqrt(2) * se)


def test_group_of_size_one_warns_and_gets_nan_intervals():
    df = _frame([np.array([4.0]), np.array([1.0, 2.0, 6.0, 3.0])])
    with pytest.warns(tk.ToolkitWarning, match=r"group\(s\) \['d0'\] have a single value"):
        res = tk.describe_groups(df, dv="y", between="dept", n_resamples=99, seed=1)
    assert res.loc[0, ["mean_ci_low", "mean_ci_high", "median_ci_low", "median_ci_high", "sd"]].isna().all()
    assert res.loc[0, "mean"] == 4.0 and res.loc[0, "n"] == 1
    assert res.loc[1, ["mean_ci_low", "mean_ci_high"]].notna().all()


def test_single_group_is_described():
    res = tk.describe_groups(_frame([np.arange(10.0)]), dv="y", between="dept", n_resamples=99, seed=1)
    assert len(res) == 1 and res.loc[0, "mean"] == 4.5


def test_degenerate_median_interval_collapses_to_the_estimate():
    mostly_zero = np.array([0] * 90 + [1, 3, 7] * 4)  # 88% zeros: every bootstrap median is 0
    res = tk.describe_groups(_frame([mostly_zero, mostly_zero + 2]), dv="y", between="dept", n_resamples=499, seed=1)
    assert res["median_ci_low"].tolist() == [0.0, 2.0]
    assert res["median_ci_high"].tolist() == [0.0, 2.0]
    assert res["mean_ci_low"].lt(res["mean"]).all()


def test_options_change_values_not_columns(posts_long):
    a = tk.describe_groups(posts_long, dv="likes", between="department", n_resamples=999, seed=4)
    b = tk.describe_groups(posts_long, dv="likes", between="department", n_resamples=999, seed=4,
                           confidence_level=0.5, ci_method="percentile")
    assert list(a.columns) == list(b.columns)
    assert ((b["mean_ci_high"] - b["mean_ci_low"]) < (a["mean_ci_high"] - a["mean_ci_low"])).all()
    pd.testing.assert_frame_equal(a, tk.describe_groups(posts_long, dv="likes", between="department",
                                                        n_resamples=999, seed=4))


def test_nan_policy_and_errors(posts_with_nan):
    with pytest.raises(ValueError, match="nan_policy='omit'"):
        tk.describe_groups(posts_with_nan, dv="likes", between="department")
    res = tk.describe_groups(posts_with_nan, dv="likes", between="department", nan_policy="omit",
                             n_resamples=99, seed=1)
    assert (res["n_dropped"] == 3).all() and res["n"].sum() == len(posts_with_nan) - 3
    with pytest.raises(ValueError, match="`ci_method` must be one of 'bca', 'percentile'; got 'BCa'"):
        tk.describe_groups(posts_with_nan, dv="likes", between="department", ci_method="BCa")
    with pytest.raises(ValueError, match="pass 0.95 instead"):
        tk.describe_groups(posts_with_nan, dv="likes", between="department", confidence_level=95)
    with pytest.raises(TypeError):
        tk.describe_groups(posts_with_nan, "likes", "department")
