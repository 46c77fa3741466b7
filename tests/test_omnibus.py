"""Tests for toolkit.stats.omnibus (reference values: NIST StRD and tests/reference/omnibus/)."""
from __future__ import annotations

import math
from fractions import Fraction
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import scipy
from scipy import optimize, stats

import toolkit as tk
from toolkit import config
from toolkit.stats.schema import OMNIBUS_COLUMNS

REF_DIR = Path(__file__).parent / "reference" / "omnibus"
NIST_DIR = Path(scipy.__file__).parent / "stats" / "tests" / "data" / "nist_anova"


# ---------------------------------------------------------------------------------------------
# NIST StRD one-way ANOVA
# ---------------------------------------------------------------------------------------------
def _read_nist(name: str):
    lines = (NIST_DIR / f"{name}.dat").read_text().splitlines()
    cert = {}
    for ln in lines:
        parts = ln.split()
        if ln.startswith("Between"):
            cert["df_between"], cert["ss_between"], cert["F"] = float(parts[2]), float(parts[3]), float(parts[5])
        elif ln.startswith("Within"):
            cert["df_within"], cert["ss_within"] = float(parts[2]), float(parts[3])
        elif "Certified R-Squared" in ln:
            cert["r2"] = float(parts[-1])
    start = max(i for i, ln in enumerate(lines) if ln.startswith("Data:"))
    rows = [ln.split() for ln in lines[start + 1:] if ln.strip()]
    data = pd.DataFrame({"g": [int(r[0]) for r in rows], "y": [float(r[1]) for r in rows]})
    return data, cert


def _lre(value: float, certified: float) -> float:
    """Log relative error (number of correct significant digits), capped at 15."""
    if value == certified:
        return 15.0
    return min(15.0, -math.log10(abs(value - certified) / abs(certified)))


def _exact_anova(groups):
    """Exact rational one-way ANOVA (centred form) of the given float64 values."""
    fr = [[Fraction(float(v)) for v in g] for g in groups]
    n = sum(len(g) for g in fr)
    means = [sum(g) / len(g) for g in fr]
    grand = sum(sum(g) for g in fr) / n
    ssb = sum(len(g) * (m - grand) ** 2 for g, m in zip(fr, means))
    ssw = sum(sum((v - m) ** 2 for v in g) for g, m in zip(fr, means))
    f = (ssb / (len(fr) - 1)) / (ssw / (n - len(fr)))
    return ssb, ssw, f


# Minimum LRE (digits) against NIST's certified values. The limit is the data, not the algorithm:
# the decimal values cannot be stored exactly in float64, and with 7 (SmLs04-06), 9 (AtmWtAg) or
# 13 (SmLs07-09) constant leading digits that representation error alone costs the digits below
# (measured: an exact rational ANOVA of the float64 data has the same LRE). Bounds are 0.3 to 1.2
# digits below the measured minimum over F, SS_between, SS_within and R^2.
NIST_MIN_LRE = {"SiRstv": 12.7, "SmLs01": 14.7, "SmLs02": 14.7, "SmLs03": 13.8, "SmLs04": 9.6,
                "SmLs05": 9.6, "SmLs06": 9.6, "SmLs07": 3.6, "SmLs08": 3.6, "SmLs09": 3.6, "AtmWtAg": 9.8}


@pytest.mark.parametrize("name", sorted(NIST_MIN_LRE))
def test_anova_nist_strd(name):
    data, cert = _read_nist(name)
    row = tk.anova(data, dv="y", between="g").iloc[0]
    assert row.df_between == cert["df_between"] and row.df_within == cert["df_within"]
    lre = {"F": _lre(row.statistic, cert["F"]), "ss_between": _lre(row.ss_between, cert["ss_between"]),
           "ss_within": _lre(row.ss_within, cert["ss_within"]), "r2": _lre(row.effect_size, cert["r2"])}
    assert min(lre.values()) >= NIST_MIN_LRE[name], lre
    # The algorithm itself loses nothing: equal to the exact ANOVA of the float64 data to ~1 ulp.
    ssb, ssw, f = _exact_anova([g.y.to_numpy() for _, g in data.groupby("g")])
    assert row.statistic == pytest.approx(float(f), rel=4e-15)
    assert row.ss_between == pytest.approx(float(ssb), rel=4e-15)
    assert row.ss_within == pytest.approx(float(ssw), rel=4e-15)


def test_integer_counts_with_huge_offset_give_exact_f():
    values = [10**9 + v for v in (0, 1, 2, 1, 2, 3, 0, 0, 2, 5)]
    data = pd.DataFrame({"g": list("aaabbbcccc"), "y": values})
    row = tk.anova(data, dv="y", between="g").iloc[0]
    groups = [values[:3], values[3:6], values[6:]]
    ssb, ssw, f = _exact_anova(groups)
    assert row.statistic == float(f)          # correctly rounded exact F
    assert row.ss_between == float(ssb) and row.ss_within == float(ssw)
    # the textbook formula sum(x^2) - (sum x)^2 / n in float64 gets this wrong
    naive_ssw = sum(np.sum(np.array(g, float) ** 2) - np.sum(np.array(g, float)) ** 2 / len(g) for g in groups)
    assert naive_ssw != float(ssw)


def test_integer_counts_beyond_int64_squares_are_exact():
    # spread so large that n * max^2 overflows int64: the Python-integer path is used
    values = [0, 2**50, 3, 2**49, 7, 2**50 - 1, 11, 5, 2**48]
    data = pd.DataFrame({"g": list("aaabbbccc"), "y": values})
    row = tk.anova(data, dv="y", between="g").iloc[0]
    _, ssw, f = _exact_anova([values[:3], values[3:6], values[6:]])
    assert row.statistic == float(f) and row.ss_within == float(ssw)


def test_anova_matches_scipy_f_oneway(posts_long):
    row = tk.anova(posts_long, dv="comments", between="department").iloc[0]
    groups = [g.comments.to_numpy(float) for _, g in posts_long.groupby("department", observed=True)]
    ref = stats.f_oneway(*groups)
    assert row.statistic == pytest.approx(ref.statistic, rel=1e-12)
    assert row.p_value == pytest.approx(ref.pvalue, rel=1e-10)


# ---------------------------------------------------------------------------------------------
# Against R 4.2 (tests/reference/omnibus/omnibus.R)
# ---------------------------------------------------------------------------------------------
def _reference() -> pd.DataFrame:
    return pd.read_csv(REF_DIR / "omnibus_reference.csv", dtype={"value": "float64"})


def _ref(ref, dataset, test, name) -> float:
    sel = ref[(ref.dataset == dataset) & (ref.test == test) & (ref.name == name)]
    assert len(sel) == 1, (dataset, test, name)
    return float(sel.value.iloc[0])


def _dataset(name: str) -> pd.DataFrame:
    if name == "insectsprays":
        return pd.read_csv(REF_DIR / "insectsprays.csv").rename(columns={"count": "y", "spray": "g"})
    mirror = config.data_mirror()
    if mirror is None:
        pytest.skip("TOOLKIT_DATA_MIRROR is not set")
    if name == "facebook_comment_by_category":
        fb = pd.read_csv(mirror / "uci_facebook_metrics" / "dataset_Facebook.csv", sep=";")
        return pd.DataFrame({"y": fb["comment"], "g": fb["Category"].astype(str)})
    live = pd.read_csv(mirror / "uci_live_sellers_thailand" / "Live_20210128.csv")
    codes = pd.read_csv(mirror / "uci_live_sellers_thailand" / "seller_codes.csv", dtype=str, keep_default_na=False)
    live = live.merge(codes, left_on=live["status_id"].astype(str), right_on="status_id", suffixes=("", "_c"))
    live = live[live["duplicate_of"] == ""]
    return pd.DataFrame({"y": live["num_comments"].to_numpy(), "g": live["seller"].to_numpy()})


R_DATASETS = ["insectsprays", "facebook_comment_by_category", "thai_comments_by_seller"]


@pytest.mark.parametrize("dataset", R_DATASETS)
def test_anova_matches_r(dataset):
    ref, data = _reference(), _dataset(dataset)
    row = tk.anova(data, dv="y", between="g").iloc[0]
    # F and sums of squares: R uses a QR decomposition, we use exact integer arithmetic; R's
    # values carry ~1e-13 relative error, so 1e-11 is generous yet catches any formula error
    for col, name in [("statistic", "statistic"), ("ss_between", "ss_between"), ("ss_within", "ss_within"),
                      ("effect_size", "eta_squared"), ("omega_squared", "omega_squared")]:
        assert row[col] == pytest.approx(_ref(ref, dataset, "anova", name), rel=1e-11), col
    assert row.df_between == _ref(ref, dataset, "anova", "df_between")
    assert row.df_within == _ref(ref, dataset, "anova", "df_within")
    # p-values come from two implementations of the F tail (R pbeta vs Boost): 1e-9 relative
    assert row.p_value == pytest.approx(_ref(ref, dataset, "anova", "p_value"), rel=1e-9)
    # noncentral-F limits: R's pnbeta series vs Boost and two root finders; 1e-6 relative (and
    # 1e-10 absolute for a limit of exactly 0)
    assert row.ci_low == pytest.approx(_ref(ref, dataset, "anova", "ci_low"), rel=1e-6, abs=1e-10)
    assert row.ci_high == pytest.approx(_ref(ref, dataset, "anova", "ci_high"), rel=1e-6, abs=1e-10)
    assert row.omega_squared_ci_low == row.ci_low and row.omega_squared_ci_high == row.ci_high


@pytest.mark.parametrize("dataset", R_DATASETS)
def test_welch_anova_matches_r(dataset):
    ref, data = _reference(), _dataset(dataset)
    row = tk.welch_anova(data, dv="y", between="g").iloc[0]
    # closed-form statistic and df in both: rounding-level agreement
    assert row.statistic == pytest.approx(_ref(ref, dataset, "welch_anova", "statistic"), rel=1e-11)
    assert row.df_within == pytest.approx(_ref(ref, dataset, "welch_anova", "df_within"), rel=1e-11)
    assert row.df_between == _ref(ref, dataset, "welch_anova", "df_between")
    assert row.p_value == pytest.approx(_ref(ref, dataset, "welch_anova", "p_value"), rel=1e-9)
    assert row.effect_size == pytest.approx(_ref(ref, dataset, "welch_anova", "omega_squared"), rel=1e-11)
    assert row.ci_low == pytest.approx(_ref(ref, dataset, "welch_anova", "ci_low"), rel=1e-6, abs=1e-10)
    assert row.ci_high == pytest.approx(_ref(ref, dataset, "welch_anova", "ci_high"), rel=1e-6, abs=1e-10)
    assert math.isnan(row.ss_between) and math.isnan(row.ss_within)


@pytest.mark.parametrize("dataset", R_DATASETS)
def test_kruskal_matches_r(dataset):
    ref, data = _reference(), _dataset(dataset)
    row = tk.kruskal(data, dv="y", between="g", n_resamples=200, seed=3).iloc[0]
    # H is a closed form of mid-ranks (many ties here): rounding-level agreement
    assert row.statistic == pytest.approx(_ref(ref, dataset, "kruskal", "statistic"), rel=1e-11)
    assert row.df_between == _ref(ref, dataset, "kruskal", "df_between")
    assert row.p_value == pytest.approx(_ref(ref, dataset, "kruskal", "p_value"), rel=1e-9)
    assert row.effect_size == pytest.approx(_ref(ref, dataset, "kruskal", "epsilon_squared"), rel=1e-11)


# ---------------------------------------------------------------------------------------------
# Output shape, options, bootstrap
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("fn", [tk.anova, tk.welch_anova, tk.kruskal])
def test_columns_and_bookkeeping(fn, posts_long):
    out = fn(posts_long, dv="comments", between="department")
    assert tuple(out.columns) == OMNIBUS_COLUMNS and len(out) == 1
    row = out.iloc[0]
    assert row.n == 90 and row.n_groups == 3 and row.n_dropped == 0 and row.confidence_level == 0.95
    assert row.test == fn.__name__
    assert row.ci_low <= row.ci_high


def test_kruskal_bootstrap_is_seeded_and_optional(posts_long):
    kw = dict(dv="likes", between="department", effsize_ci="bootstrap")
    a = tk.kruskal(posts_long, **kw, n_resamples=300, seed=7)
    b = tk.kruskal(posts_long, **kw, n_resamples=300, seed=7)
    pd.testing.assert_frame_equal(a, b)
    row = a.iloc[0]
    assert 0 <= row.ci_low <= row.effect_size <= row.ci_high <= 1
    none = tk.kruskal(posts_long, **kw, n_resamples=0).iloc[0]
    assert math.isnan(none.ci_low) and none.statistic == row.statistic


def test_eta_squared_interval_narrows_with_lower_level(posts_long):
    wide = tk.anova(posts_long, dv="comments", between="department", confidence_level=0.99).iloc[0]
    narrow = tk.anova(posts_long, dv="comments", between="department", confidence_level=0.80).iloc[0]
    assert wide.ci_low <= narrow.ci_low < narrow.ci_high <= wide.ci_high


def test_nan_policy(posts_with_nan):
    with pytest.raises(ValueError, match=r"anova: `data` contains 3 missing value\(s\) in 'likes'"):
        tk.anova(posts_with_nan, dv="likes", between="department")
    row = tk.welch_anova(posts_with_nan, dv="likes", between="department", nan_policy="omit").iloc[0]
    assert row.n == 87 and row.n_dropped == 3


# ---------------------------------------------------------------------------------------------
# Undefined statistics and warnings
# ---------------------------------------------------------------------------------------------
def test_zero_variance_in_all_groups_is_an_error():
    data = pd.DataFrame({"g": list("aabbcc"), "y": [1.0, 1.0, 2.0, 2.0, 5.0, 5.0]})
    with pytest.raises(ValueError, match=r"anova: `dv` must be a variable that varies within at least one "
                                         r"group; got \"'y' constant within each of the 3 groups\""):
        tk.anova(data, dv="y", between="g")


def test_float_constant_groups_do_not_give_a_huge_f():
    # 0.1 + 0.2 style rounding must not turn an exactly-constant group into tiny variance
    data = pd.DataFrame({"g": list("aaabbb"), "y": [0.1, 0.1, 0.1, 0.7, 0.7, 0.7]})
    with pytest.raises(ValueError, match="F is not defined"):
        tk.anova(data, dv="y", between="g")


def test_welch_zero_variance_group_names_the_group():
    data = pd.DataFrame({"g": list("aaabbbccc"), "y": [1.0, 2, 3, 4, 4, 4, 5, 7, 9]})
    with pytest.raises(ValueError, match=r"welch_anova: .*zero variance of 'y' in group\(s\) \['b'\].*"
                                         r"Use tk\.kruskal or tk\.permutation_omnibus"):
        tk.welch_anova(data, dv="y", between="g")


def test_welch_warns_with_many_tiny_groups(rng):
    data = pd.DataFrame({"g": np.repeat([f"acct{i:02d}" for i in range(25)], 4), "y": rng.normal(size=100)})
    with pytest.warns(tk.ToolkitWarning, match=r"25 groups, 25 of them with fewer than 6 values.*"
                                               r"anti-conservative.*tk\.permutation_omnibus"):
        tk.welch_anova(data, dv="y", between="g")


def test_kruskal_all_identical_is_an_error():
    data = pd.DataFrame({"g": list("aabb"), "y": [3.0, 3.0, 3.0, 3.0]})
    with pytest.raises(ValueError, match=r"kruskal: `dv` must be a variable with at least two distinct values"):
        tk.kruskal(data, dv="y", between="g")


def test_single_group_and_text_numbers_rejected():
    one = pd.DataFrame({"g": ["a"] * 4, "y": [1.0, 2.0, 3.0, 4.0]})
    with pytest.raises(ValueError, match=r"anova: `between` must be a column with at least 2 groups"):
        tk.anova(one, dv="y", between="g")
    text = pd.DataFrame({"g": list("aabb"), "y": ["1", "2", "3", "5"]})
    with pytest.raises(TypeError, match=r"welch_anova: `dv` must be a numeric column.*look like numbers"):
        tk.welch_anova(text, dv="y", between="g")


def test_option_errors(posts_long):
    with pytest.raises(ValueError, match=r"kruskal: `confidence_level` must be a number strictly between 0 and 1"):
        tk.kruskal(posts_long, dv="likes", between="department", confidence_level=95)
    with pytest.raises(ValueError, match=r"anova: `nan_policy` must be one of 'raise', 'omit'"):
        tk.anova(posts_long, dv="likes", between="department", nan_policy="drop")
    with pytest.raises(TypeError):
        tk.anova(posts_long, "likes", "department")


def test_bootstrap_h_by_counting_equals_scipy(rng):
    # the resampling kernel computes H from value counts instead of sorting; check it replicate by
    # replicate against scipy.stats.kruskal (independent, sort-based), including all-tied resamples
    from toolkit.stats.omnibus import _bootstrap_h

    values = np.array([1, 1, 2, 3, 3, 3, 4, 5, 5, 6, 7, 7.0, 2, 2, 2])
    starts, sizes = np.array([0, 4, 8, 12]), np.array([4.0, 4, 4, 3])
    uniq, inv = np.unique(values, return_inverse=True)
    idx = np.concatenate([starts[i] + rng.integers(0, int(sizes[i]), size=(60, int(sizes[i]))) for i in range(4)],
                         axis=1)
    idx[0] = 12  # every value tied (all 2.0): H undefined
    h = _bootstrap_h(inv[idx], uniq.size, starts, sizes)
    assert np.isnan(h[0])
    for row, got in zip(idx[1:], h[1:]):
        v = values[row]
        want = stats.kruskal(v[:4], v[4:8], v[8:12], v[12:]).statistic
        assert got == pytest.approx(want, rel=1e-12)


def test_h_from_counts_equals_scipy_on_the_expanded_samples(rng):
    from toolkit.stats.omnibus import _h_from_counts

    values = np.array([0.0, 1, 2, 5, 9])
    sizes = np.array([7.0, 5, 9])
    counts = np.stack([rng.multinomial(int(n), np.full(5, 0.2), size=6) for n in sizes], axis=1).astype(float)
    h = _h_from_counts(counts, sizes)
    for b in range(counts.shape[0]):
        groups = [np.repeat(values, counts[b, g].astype(int)) for g in range(3)]
        if len(np.unique(np.concatenate(groups))) < 2:
            assert np.isnan(h[b])
            continue
        np.testing.assert_allclose(h[b], stats.kruskal(*groups).statistic, rtol=1e-12)


def test_kruskal_count_path_matches_index_path_in_distribution(rng):
    # Tied counts take the multinomial path; continuous jitter of the same data forces the index
    # path. Adding U(0, 1e-9) noise changes the ranks only within ties, so compare the bootstrap
    # distributions of H through the interval endpoints, within Monte-Carlo error.
    from toolkit.stats import omnibus

    y = np.concatenate([rng.negative_binomial(1, 1 / (1 + m), size=300) for m in (2.0, 3.0, 4.0)]).astype(float)
    g = np.repeat(["a", "b", "c"], 300)
    groups = [y[g == lab] for lab in "abc"]
    sizes = np.array([300.0] * 3)
    uniq, inv = np.unique(y, return_inverse=True)
    counts = np.zeros((3, uniq.size))
    np.add.at(counts, (np.repeat([0, 1, 2], 300), inv), 1.0)
    b = 4000
    via_counts = omnibus._bootstrap_h_counts(counts, sizes, b, np.random.default_rng(1))
    idx = np.concatenate([300 * i + np.random.default_rng(2).integers(0, 300, size=(b, 300)) for i in range(3)],
                         axis=1)
    via_index = omnibus._bootstrap_h(inv[idx], uniq.size, np.array([0, 300, 600]), sizes)
    assert stats.ks_2samp(via_counts, via_index).pvalue > 0.001
    for q in (0.025, 0.5, 0.975):  # quantiles within ~4 bootstrap-quantile SEs
        se = np.std(via_index) * np.sqrt(q * (1 - q) / b) / stats.norm.pdf(stats.norm.ppf(q)) * np.sqrt(2)
        assert abs(np.quantile(via_counts, q) - np.quantile(via_index, q)) < 4 * se
    res = tk.kruskal(pd.DataFrame({"y": y, "g": g}), dv="y", between="g", n_resamples=500, seed=3)
    assert res["ci_low"].item() < res["effect_size"].item() < res["ci_high"].item()
    assert stats.kruskal(*groups).statistic == pytest.approx(res["statistic"].item(), rel=1e-10)


# ---------------------------------------------------------------------------------------------
# Interval of eta squared at a huge denominator df (issue 13: scipy's ncf returns NaN there)
# ---------------------------------------------------------------------------------------------
def _million_posts(seed=20261205):
    """SIMULATED 1M posts, 8 departments (seed 20261205): comments ~ NB(size 1.2), mean 0.4 * (1 + 0.04 j)
    for department j = 0..7 (a clear effect, F in the hundreds), reach ~ round(lognormal(log 2000, 0.8)) + 1."""
    rng = np.random.default_rng(seed)
    n = 1_000_000
    dept = rng.integers(0, 8, size=n)
    mu = 0.4 * (1.0 + 0.04 * dept)
    comments = rng.negative_binomial(1.2, 1.2 / (1.2 + mu))
    reach = np.round(rng.lognormal(np.log(2000.0), 0.8, size=n)) + 1.0
    return pd.DataFrame({"department": pd.Categorical.from_codes(dept, list(config.DEPARTMENTS[:8])),
                         "comments": comments, "rate": comments / reach})


@pytest.mark.parametrize("dv", ["comments", "rate"])
def test_anova_on_a_million_posts_gives_a_finite_interval(dv):
    res = tk.anova(_million_posts(), dv=dv, between="department").iloc[0]
    assert res["df_within"] == 999_992
    assert res["statistic"] > 10
    assert 0.0 < res["ci_low"] < res["effect_size"] < res["ci_high"] < 1.0
    assert "mixed over the denominator chi-square" in res["method"]


def test_ncf_limits_do_not_fail_where_scipy_returns_nan():
    from toolkit.stats.omnibus import _ncf_cdf_mixture, _ncf_limits
    # scipy 1.17's ncf.cdf(582.19, 7, 999992, 7946.9) is NaN: the root finder crashed on it before
    lo, hi, route = _ncf_limits(582.19, 7, 999992, 0.95)
    assert 0 < lo < 582.19 * 7 < hi
    # the limits solve the defining equations of the mixture route
    assert _ncf_cdf_mixture(582.19, 7, 999992, lo) == pytest.approx(0.975, abs=1e-9)
    assert _ncf_cdf_mixture(582.19, 7, 999992, hi) == pytest.approx(0.025, abs=1e-9)
    # as df2 -> infinity, F df1 is noncentral chi-square: the limits are those of ncx2 (Steiger 2004)
    want = [optimize.brentq(lambda lam, t=t: stats.ncx2.cdf(582.19 * 7, 7, lam) - t, 0, 1e5) for t in (0.975, 0.025)]
    np.testing.assert_allclose([lo, hi], want, rtol=2e-3)  # the denominator's spread (2/df2) moves them slightly


@pytest.mark.parametrize("df1", [1, 3, 7])
@pytest.mark.parametrize("df2", [2_000, 20_000, 100_000])
def test_ncf_mixture_matches_scipy_where_scipy_is_reliable(df1, df2):
    """Tolerance: 1e-6 in probability for df2 >= 2000 (measured max 4e-7), 1e-4 relative in the limits."""
    from toolkit.stats.omnibus import _ncf_cdf_mixture, _ncf_solve
    for f_value in (0.8, 2.5, 12.0):
        for lam in (0.5, 5.0, f_value * df1, 3.0 * f_value * df1 + 10.0):
            want = stats.ncf.cdf(f_value, df1, df2, lam)
            assert _ncf_cdf_mixture(f_value, df1, df2, lam) == pytest.approx(want, abs=1e-6)
        for target in (0.975, 0.025):
            a = _ncf_solve(lambda lam: stats.ncf.cdf(f_value, df1, df2, lam), f_value, df1, target)
            b = _ncf_solve(lambda lam: _ncf_cdf_mixture(f_value, df1, df2, lam), f_value, df1, target)
            assert b == pytest.approx(a, rel=1e-4, abs=1e-6)


# ---------------------------------------------------------------------------------------------
# kruskal: effsize_ci (issue 13)
# ---------------------------------------------------------------------------------------------
def _kruskal_reference_data(name):
    if name == "insectsprays":
        d = pd.read_csv(REF_DIR / "insectsprays.csv")
        return pd.DataFrame({"y": d["count"].astype(float), "g": d["spray"]})
    if name == "plantgrowth":
        d = pd.read_csv(REF_DIR.parent / "pairwise" / "plantgrowth.csv")
        return pd.DataFrame({"y": d["weight"], "g": d["group"]})
    d = pd.read_csv(REF_DIR / "mtcars_mpg_cyl.csv")
    return pd.DataFrame({"y": d["mpg"], "g": d["cyl"].astype(str)})


@pytest.mark.parametrize("row", pd.read_csv(REF_DIR / "kruskal_analytic_ci.csv").to_dict("records"),
                         ids=lambda r: f"{r['dataset']}-{r['confidence_level']}")
def test_kruskal_analytic_interval_matches_r(row):
    """R 4.2 ANOVA on rank(y) + uniroot on pf(ncp=) (tests/reference/omnibus/kruskal_analytic_ci.R). Tolerance
    1e-7: R's uniroot(tol = 1e-12) in lambda and printed to 17 digits; H to 1e-12 (different summation)."""
    res = tk.kruskal(_kruskal_reference_data(row["dataset"]), dv="y", between="g", effsize_ci="analytic",
                     confidence_level=row["confidence_level"]).iloc[0]
    assert res["statistic"] == pytest.approx(row["H"], rel=1e-12)
    assert res["effect_size"] == pytest.approx(row["eta_squared_ranks"], rel=1e-12)
    np.testing.assert_allclose([res["ci_low"], res["ci_high"]], [row["ci_low"], row["ci_high"]], rtol=1e-7)
    assert "ANOVA on ranks" in res["method"]


def test_kruskal_default_interval_is_analytic_and_draws_nothing(posts_long):
    """Default since issue 13 (coverage study in benchmarks/bench_kruskal_ci.py): the analytic interval;
    n_resamples and seed then change nothing, and the Generator passed as seed is not advanced."""
    default = tk.kruskal(posts_long, dv="likes", between="department")
    analytic = tk.kruskal(posts_long, dv="likes", between="department", effsize_ci="analytic", n_resamples=7, seed=3)
    pd.testing.assert_frame_equal(default, analytic)
    assert "ANOVA on ranks" in default["method"].item()
    rng = np.random.default_rng(5)
    tk.kruskal(posts_long, dv="likes", between="department", seed=rng)
    assert rng.random() == np.random.default_rng(5).random()


def test_kruskal_effsize_ci_routes_change_only_the_interval(posts_long):
    boot = tk.kruskal(posts_long, dv="likes", between="department", n_resamples=300, seed=7, effsize_ci="bootstrap")
    for route in ("analytic", "none"):
        other = tk.kruskal(posts_long, dv="likes", between="department", effsize_ci=route)
        assert list(other.columns) == list(boot.columns)
        pd.testing.assert_frame_equal(other.drop(columns=["ci_low", "ci_high", "method"]),
                                      boot.drop(columns=["ci_low", "ci_high", "method"]))
        assert other[["ci_low", "ci_high"]].isna().all().all() == (route == "none")
    with pytest.raises(ValueError, match="effsize_ci"):
        tk.kruskal(posts_long, dv="likes", between="department", effsize_ci="exact")


def test_kruskal_analytic_interval_at_a_million_posts():
    res = tk.kruskal(_million_posts(), dv="rate", between="department", effsize_ci="analytic").iloc[0]
    assert 0.0 < res["ci_low"] < res["effect_size"] < res["ci_high"] < 1.0
