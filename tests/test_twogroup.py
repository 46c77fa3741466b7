"""Tests for toolkit.stats.twogroup (reference values: tests/reference/twogroup/)."""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import toolkit as tk
from toolkit import config
from toolkit.stats.schema import TWO_GROUP_COLUMNS

REF_DIR = Path(__file__).parent / "reference" / "twogroup"
ALTERNATIVES = ["two-sided", "less", "greater"]


def _reference() -> pd.DataFrame:
    return pd.read_csv(REF_DIR / "twogroup_reference.csv", dtype={"value": "float64"})


def _ref(ref, dataset, test, name, alternative="two-sided") -> float:
    sel = ref[(ref.dataset == dataset) & (ref.test == test) & (ref.name == name) & (ref.alternative == alternative)]
    assert len(sel) == 1, (dataset, test, name, alternative)
    return float(sel.value.iloc[0])


def _frame(a, b, labels=("a", "b")) -> pd.DataFrame:
    return pd.DataFrame({"g": [labels[0]] * len(a) + [labels[1]] * len(b),
                         "y": np.concatenate([np.asarray(a, float), np.asarray(b, float)])})


def _dataset(name: str) -> pd.DataFrame:
    """Long frame with group 'a' = group_a and 'b' = group_b exactly as the R script builds them."""
    if name == "hollander_wolfe":
        return _frame([0.80, 0.83, 1.89, 1.04, 1.45, 1.38, 1.91, 1.64, 0.73, 1.46], [1.15, 0.88, 0.90, 0.74, 1.21])
    if name == "pain_scores":
        return _frame([3, 3, 4, 3, 1, 2, 3, 1, 1, 5, 4], [1, 2, 1, 1, 1, 1, 1, 1, 1, 1, 2, 4, 1, 1])
    mirror = config.data_mirror()
    if mirror is None:
        pytest.skip("TOOLKIT_DATA_MIRROR is not set")
    if name == "facebook_comment_organic_vs_paid":
        fb = pd.read_csv(mirror / "uci_facebook_metrics" / "dataset_Facebook.csv", sep=";")
        paid = fb["Paid"].map({0: "a", 1: "b"})  # organic = group_a; one missing Paid stays missing
        return pd.DataFrame({"g": paid, "y": fb["comment"]})
    live = pd.read_csv(mirror / "uci_live_sellers_thailand" / "Live_20210128.csv")
    codes = pd.read_csv(mirror / "uci_live_sellers_thailand" / "seller_codes.csv", dtype=str, keep_default_na=False)
    live = live.merge(codes, left_on=live["status_id"].astype(str), right_on="status_id", suffixes=("", "_c"))
    live = live[(live["duplicate_of"] == "") & live["seller"].isin(["S04", "S08"])]
    return pd.DataFrame({"g": live["seller"].map({"S04": "a", "S08": "b"}).to_numpy(),
                         "y": live["num_comments"].to_numpy()})


DATASETS = ["hollander_wolfe", "pain_scores", "facebook_comment_organic_vs_paid", "thai_comments_S04_vs_S08"]


def _run(fn, dataset, **kw):
    data = _dataset(dataset)
    policy = "omit" if dataset == "facebook_comment_organic_vs_paid" else "raise"
    return fn(data, dv="y", between="g", nan_policy=policy, **kw).iloc[0]


@pytest.mark.parametrize("alternative", ALTERNATIVES)
@pytest.mark.parametrize("dataset", DATASETS)
def test_welch_ttest_matches_r(dataset, alternative):
    ref = _reference()
    row = _run(tk.welch_ttest, dataset, alternative=alternative)
    # closed forms (t, df, CI from qt): rounding-level agreement, 1e-10 relative
    for col in ("statistic", "df", "estimate", "estimate_ci_low", "estimate_ci_high"):
        assert row[col] == pytest.approx(_ref(ref, dataset, "welch_t", col, alternative), rel=1e-10), col
    assert row.p_value == pytest.approx(_ref(ref, dataset, "welch_t", "p_value", alternative), rel=1e-9)


@pytest.mark.parametrize("alternative", ALTERNATIVES)
@pytest.mark.parametrize("dataset", DATASETS)
def test_mann_whitney_matches_r(dataset, alternative):
    ref = _reference()
    row = _run(tk.mann_whitney, dataset, alternative=alternative)
    assert row.statistic == _ref(ref, dataset, "mann_whitney", "statistic", alternative)
    # exact: ratios of integer counts; normal: closed form (pnorm): 1e-10 relative either way
    assert row.p_value == pytest.approx(_ref(ref, dataset, "mann_whitney", "p_value", alternative), rel=1e-10)
    got = [row.estimate, row.estimate_ci_low, row.estimate_ci_high]
    want = [_ref(ref, dataset, "mann_whitney", n, alternative)
            for n in ("estimate", "estimate_ci_low", "estimate_ci_high")]
    if dataset == "hollander_wolfe":
        assert row.method == "exact"
        np.testing.assert_allclose(got, want, rtol=1e-12)
    else:
        assert row.method == "normal approximation with tie and continuity correction"
        # R finds these with uniroot(tol = 1e-4); we take the exact order statistic
        np.testing.assert_allclose(got, want, rtol=0, atol=2e-4)


@pytest.mark.parametrize("dataset", DATASETS)
def test_brunner_munzel_matches_r_implementation(dataset):
    ref = _reference()
    row = _run(tk.brunner_munzel, dataset)
    for col, name in [("statistic", "statistic"), ("df", "df"), ("estimate", "estimate"),
                      ("estimate_ci_low", "ci_low"), ("estimate_ci_high", "ci_high")]:
        assert row[col] == pytest.approx(_ref(ref, dataset, "brunner_munzel", name), rel=1e-10), col
    for alternative in ALTERNATIVES:
        r = _run(tk.brunner_munzel, dataset, alternative=alternative)
        assert r.p_value == pytest.approx(_ref(ref, dataset, "brunner_munzel", "p_value", alternative), rel=1e-9)


def test_brunner_munzel_published_pain_scores():
    # Brunner & Munzel (2000) pain scores; values of R lawstat::brunner.munzel.test as recorded in
    # SciPy's TestBrunnerMunzel (statistic to 17 digits, p to 17 digits)
    row = _run(tk.brunner_munzel, "pain_scores")
    assert row.statistic == pytest.approx(3.1374674823029505, rel=1e-13)
    assert row.p_value == pytest.approx(0.0057862086661515377, rel=1e-10)
    assert row.effect_size == pytest.approx(2 * row.estimate - 1, rel=1e-12)


def test_mann_whitney_exact_p_against_scipy(rng):
    a, b = rng.normal(0.8, 1, 13), rng.normal(0, 1, 17)
    for alternative in ALTERNATIVES:
        row = tk.mann_whitney(_frame(a, b), dv="y", between="g", alternative=alternative).iloc[0]
        ref = stats.mannwhitneyu(a, b, alternative=alternative, method="exact")
        assert row.method == "exact" and row.statistic == ref.statistic
        assert row.p_value == pytest.approx(ref.pvalue, rel=1e-12)
    assert row.effect_size == pytest.approx(2 * row.statistic / (13 * 17) - 1, rel=1e-13)


def test_mann_whitney_method_choice():
    tied = _frame([1, 2, 2, 3, 4], [2, 3, 3, 5, 6])
    assert tk.mann_whitney(tied, dv="y", between="g").iloc[0].method.startswith("normal")
    with pytest.raises(ValueError, match=r"mann_whitney: `method` must be 'asymptotic' or 'auto' when the data "
                                         r"contain ties; got 'exact'"):
        tk.mann_whitney(tied, dv="y", between="g", method="exact")
    rng = np.random.default_rng(5)
    big = _frame(rng.normal(size=600), rng.normal(size=700))
    with pytest.raises(ValueError, match=r"too slow"):
        tk.mann_whitney(big, dv="y", between="g", method="exact")
    untied = _frame([1.5, 2.5, 3.5, 4.5], [1, 2, 3, 4, 5])
    row = tk.mann_whitney(untied, dv="y", between="g", method="asymptotic").iloc[0]
    assert row.method.startswith("normal")
    with pytest.raises(ValueError, match=r"mann_whitney: `method` must be one of 'auto', 'exact', 'asymptotic'"):
        tk.mann_whitney(untied, dv="y", between="g", method="exakt")


@pytest.mark.parametrize("fn", [tk.welch_ttest, tk.mann_whitney, tk.brunner_munzel])
def test_columns_direction_and_groups(fn, posts_long):
    out = fn(posts_long, dv="comments", between="department", groups=["PR", "Marketing"])
    assert tuple(out.columns) == TWO_GROUP_COLUMNS and len(out) == 1
    row = out.iloc[0]
    assert (row.group_a, row.group_b, row.n_a, row.n_b, row.n) == ("PR", "Marketing", 30, 30, 60)
    swapped = fn(posts_long, dv="comments", between="department", groups=["Marketing", "PR"]).iloc[0]
    assert swapped.statistic == pytest.approx(-row.statistic if fn is not tk.mann_whitney
                                              else 900 - row.statistic, rel=1e-12)
    assert swapped.effect_size == pytest.approx(-row.effect_size, rel=1e-12)
    assert swapped.p_value == pytest.approx(row.p_value, rel=1e-12)
    with pytest.raises(ValueError, match=rf"{'welch_ttest' if fn is tk.welch_ttest else fn.__name__}: `between` "
                                         r"must be a column with at most 2 groups.*groups=\['A', 'B'\]"):
        fn(posts_long, dv="comments", between="department")


@pytest.mark.parametrize("fn", [tk.welch_ttest, tk.mann_whitney, tk.brunner_munzel])
def test_one_sided_intervals(fn, posts_long):
    kw = dict(dv="comments", between="department", groups=["Customer service", "Marketing"])
    two = fn(posts_long, **kw).iloc[0]
    greater = fn(posts_long, alternative="greater", **kw).iloc[0]
    less = fn(posts_long, alternative="less", **kw).iloc[0]
    assert greater.estimate_ci_high == math.inf and less.estimate_ci_low == -math.inf
    assert two.estimate_ci_low <= greater.estimate_ci_low and less.estimate_ci_high <= two.estimate_ci_high
    assert greater.p_value + less.p_value == pytest.approx(1.0, abs=0.02)


def test_undefined_statistics_are_errors():
    with pytest.raises(ValueError, match=r"welch_ttest: `dv` must be a variable that varies within at least one "
                                         r"group"):
        tk.welch_ttest(_frame([2, 2, 2], [3, 3]), dv="y", between="g")
    with pytest.raises(ValueError, match=r"brunner_munzel: .*complete separation"):
        tk.brunner_munzel(_frame([5, 6, 7], [1, 2, 3]), dv="y", between="g")
    with pytest.raises(ValueError, match=r"mann_whitney: `dv` must be a variable with at least two distinct"):
        tk.mann_whitney(_frame([1, 1, 1], [1, 1]), dv="y", between="g")


def test_nan_policy_and_text_numbers(posts_with_nan):
    kw = dict(dv="likes", between="department", groups=["Marketing", "PR"])
    with pytest.raises(ValueError, match=r"welch_ttest: `data` contains 3 missing value\(s\) in 'likes'"):
        tk.welch_ttest(posts_with_nan, **kw)
    row = tk.brunner_munzel(posts_with_nan, nan_policy="omit", **kw).iloc[0]
    assert (row.n_a, row.n_b, row.n_dropped) == (28, 29, 3)
    text = pd.DataFrame({"g": list("aabb"), "y": ["1", "2", "3", "5"]})
    with pytest.raises(TypeError, match=r"mann_whitney: `dv` must be a numeric column"):
        tk.mann_whitney(text, dv="y", between="g")
    with pytest.raises(ValueError, match=r"welch_ttest: `alternative` must be one of"):
        tk.welch_ttest(posts_with_nan, alternative="two.sided", nan_policy="omit", **kw)
