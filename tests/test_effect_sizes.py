"""Tests for toolkit.stats.effect_sizes (reference values: tests/reference/twogroup/)."""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import toolkit as tk
from toolkit import config
from toolkit.stats import effect_sizes as es_mod
from toolkit.stats.schema import EFFECT_SIZE_COLUMNS
from toolkit.stats.effect_sizes import cliffs_delta, hedges_g, hodges_lehmann, ratio_of_means

REF_DIR = Path(__file__).parent / "reference" / "twogroup"


def _reference() -> pd.DataFrame:
    return pd.read_csv(REF_DIR / "twogroup_reference.csv", dtype={"value": "float64"})


def _ref_value(ref, dataset, test, name, alternative="two-sided") -> float:
    sel = ref[(ref.dataset == dataset) & (ref.test == test) & (ref.name == name) & (ref.alternative == alternative)]
    assert len(sel) == 1, (dataset, test, name, alternative)
    return float(sel.value.iloc[0])


def _mirror() -> Path:
    mirror = config.data_mirror()
    if mirror is None:
        pytest.skip("TOOLKIT_DATA_MIRROR is not set")
    return mirror


def _samples(dataset: str) -> tuple[np.ndarray, np.ndarray]:
    """(group_a, group_b) exactly as the R script builds them."""
    if dataset == "hollander_wolfe":
        return (np.array([0.80, 0.83, 1.89, 1.04, 1.45, 1.38, 1.91, 1.64, 0.73, 1.46]),
                np.array([1.15, 0.88, 0.90, 0.74, 1.21]))
    if dataset == "pain_scores":
        return (np.array([3, 3, 4, 3, 1, 2, 3, 1, 1, 5, 4], dtype=float),
                np.array([1, 2, 1, 1, 1, 1, 1, 1, 1, 1, 2, 4, 1, 1], dtype=float))
    mirror = _mirror()
    if dataset == "facebook_comment_organic_vs_paid":
        fb = pd.read_csv(mirror / "uci_facebook_metrics" / "dataset_Facebook.csv", sep=";")
        fb = fb[fb["Paid"].notna()]
        return (fb.loc[fb["Paid"] == 0, "comment"].to_numpy(float), fb.loc[fb["Paid"] == 1, "comment"].to_numpy(float))
    live = pd.read_csv(mirror / "uci_live_sellers_thailand" / "Live_20210128.csv")
    codes = pd.read_csv(mirror / "uci_live_sellers_thailand" / "seller_codes.csv", dtype=str, keep_default_na=False)
    live = live.merge(codes, left_on=live["status_id"].astype(str), right_on="status_id", suffixes=("", "_c"))
    live = live[live["duplicate_of"] == ""]
    return (live.loc[live.seller == "S04", "num_comments"].to_numpy(float),
            live.loc[live.seller == "S08", "num_comments"].to_numpy(float))


DATASETS = ["hollander_wolfe", "pain_scores", "facebook_comment_organic_vs_paid", "thai_comments_S04_vs_S08"]


# ---------------------------------------------------------------------------------------------
# Against R (independent implementations of the formulas, and wilcox.test for Hodges-Lehmann)
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("dataset", DATASETS)
def test_hedges_g_matches_r(dataset):
    ref = _reference()
    x, y = _samples(dataset)
    es = hedges_g(x, y)
    # point estimate is plain arithmetic: agreement to rounding error
    assert es.effect_size == pytest.approx(_ref_value(ref, dataset, "hedges_g", "effect_size"), rel=1e-12)
    # limits: two different noncentral-t algorithms (R pnt vs Boost) and root finders; both are
    # accurate to ~1e-9, so 1e-7 relative leaves margin without hiding a formula error
    assert es.ci_low == pytest.approx(_ref_value(ref, dataset, "hedges_g", "ci_low"), rel=1e-7, abs=1e-9)
    assert es.ci_high == pytest.approx(_ref_value(ref, dataset, "hedges_g", "ci_high"), rel=1e-7, abs=1e-9)
    es90 = hedges_g(x, y, confidence_level=0.90)
    assert es90.ci_low == pytest.approx(_ref_value(ref, dataset, "hedges_g_90", "ci_low"), rel=1e-7, abs=1e-9)
    assert es90.ci_high == pytest.approx(_ref_value(ref, dataset, "hedges_g_90", "ci_high"), rel=1e-7, abs=1e-9)


@pytest.mark.parametrize("dataset", DATASETS)
def test_cliffs_delta_matches_r(dataset):
    ref = _reference()
    x, y = _samples(dataset)
    es = cliffs_delta(x, y)
    # closed-form arithmetic in both: rounding-error agreement
    for name, value in [("effect_size", es.effect_size), ("ci_low", es.ci_low), ("ci_high", es.ci_high)]:
        assert value == pytest.approx(_ref_value(ref, dataset, "cliffs_delta", name), rel=1e-10)


@pytest.mark.parametrize("dataset", DATASETS)
def test_ratio_of_means_matches_r(dataset):
    ref = _reference()
    x, y = _samples(dataset)
    es = ratio_of_means(x, y)
    # closed form; qt vs scipy t.ppf agree to ~1e-12
    for name, value in [("effect_size", es.effect_size), ("ci_low", es.ci_low), ("ci_high", es.ci_high)]:
        assert value == pytest.approx(_ref_value(ref, dataset, "ratio_of_means", name), rel=1e-10)


@pytest.mark.parametrize("dataset", DATASETS)
def test_hodges_lehmann_matches_wilcox_test(dataset):
    ref = _reference()
    x, y = _samples(dataset)
    es = hodges_lehmann(x, y)
    got = [es.effect_size, es.ci_low, es.ci_high]
    want = [_ref_value(ref, dataset, "mann_whitney", n) for n in ("estimate", "estimate_ci_low", "estimate_ci_high")]
    if dataset == "hollander_wolfe":
        # exact case: R takes order statistics of the differences, as we do
        assert es.ci_method.startswith("exact")
        np.testing.assert_allclose(got, want, rtol=1e-12)
    else:
        # normal case: R locates the jump points with uniroot(tol = 1e-4); we take the order
        # statistic exactly, so agreement is to R's root-finding tolerance
        assert es.ci_method.startswith("normal")
        np.testing.assert_allclose(got, want, rtol=0, atol=2e-4)


# ---------------------------------------------------------------------------------------------
# Properties that pin the formulas
# ---------------------------------------------------------------------------------------------
def test_cliffs_delta_equals_brute_force_and_rank_biserial(rng):
    x = rng.integers(0, 6, size=37).astype(float)
    y = rng.integers(0, 8, size=23).astype(float)
    es = cliffs_delta(x, y)
    d = np.sign(np.subtract.outer(x, y))
    assert es.effect_size == pytest.approx(d.mean(), rel=1e-13)
    u = stats.mannwhitneyu(x, y).statistic
    assert es.effect_size == pytest.approx(2 * u / (x.size * y.size) - 1, rel=1e-13)
    assert -1 < es.ci_low < es.effect_size < es.ci_high < 1


def test_effect_sizes_change_sign_when_groups_swap(rng):
    x = rng.normal(1.0, 1.0, 30)
    y = rng.normal(0.0, 2.0, 25)
    for fn in (hedges_g, cliffs_delta, hodges_lehmann):
        a, b = fn(x, y), fn(y, x)
        assert a.effect_size == pytest.approx(-b.effect_size, rel=1e-12)
        assert a.ci_low == pytest.approx(-b.ci_high, rel=1e-9)
    r1, r2 = ratio_of_means(x + 5, y + 5), ratio_of_means(y + 5, x + 5)
    assert r1.effect_size == pytest.approx(1 / r2.effect_size, rel=1e-12)
    assert r1.ci_low == pytest.approx(1 / r2.ci_high, rel=1e-12)


def test_hodges_lehmann_selection_without_all_pairs_is_exact(rng, monkeypatch):
    x = rng.normal(size=700)
    y = np.round(rng.normal(0.3, 1.0, size=400), 1)  # ties
    direct = hodges_lehmann(x, y)
    monkeypatch.setattr(es_mod, "_DIRECT_LIMIT", 10)
    monkeypatch.setattr(es_mod, "_MATERIALIZE", 1000)
    selected = hodges_lehmann(x, y)
    assert selected == direct
    assert direct.effect_size == np.median(np.subtract.outer(x, y))


@pytest.mark.parametrize("kind", ["counts", "lognormal"])
def test_order_statistics_of_differences_are_exact(kind, rng, monkeypatch):
    # integer counts with many tied differences, and values spanning orders of magnitude: the
    # large-sample selection must return exactly the k-th float difference, not a nearby float
    if kind == "counts":
        xs = np.sort(rng.negative_binomial(2, 0.1, 900).astype(float))
        ys = np.sort(rng.negative_binomial(2, 0.12, 800).astype(float))
    else:
        xs = np.sort(np.round(rng.lognormal(0, 2, 900), 1))
        ys = np.sort(np.round(rng.lognormal(0, 2, 800), 1))
    ks = [1, 2, 1000, 900 * 800 // 2, 900 * 800 // 2 + 1, 900 * 800 - 3, 900 * 800]
    want = np.sort(np.subtract.outer(xs, ys).ravel())[np.array(ks) - 1].tolist()
    monkeypatch.setattr(es_mod, "_DIRECT_LIMIT", 10)
    monkeypatch.setattr(es_mod, "_MATERIALIZE", 50)  # force many pivot steps
    assert es_mod._kth_differences(xs, ys, ks) == want


def test_exact_wilcoxon_distribution_matches_scipy(rng):
    # P(U <= u) against scipy's independent exact Mann-Whitney distribution ("less" p-value)
    for _ in range(20):
        x, y = rng.normal(0.5, 1, 7), rng.normal(0, 1, 9)
        u = stats.mannwhitneyu(x, y).statistic
        p = stats.mannwhitneyu(x, y, alternative="less", method="exact").pvalue
        assert es_mod._pwilcox(int(u), 7, 9) == pytest.approx(p, rel=1e-12)


def test_pwilcox_sums_to_one_and_is_symmetric():
    m, n = 6, 8
    total = es_mod._pwilcox(m * n, m, n)
    assert total == 1.0
    for q in range(m * n):
        assert es_mod._pwilcox(q, m, n) == pytest.approx(1 - es_mod._pwilcox(m * n - q - 1, m, n), abs=1e-15)


def test_degenerate_inputs_give_nan_not_a_number():
    g = hedges_g([1.0, 1.0, 1.0], [2.0, 2.0])
    assert math.isnan(g.effect_size) and "zero variance" in g.ci_method
    c = cliffs_delta([5.0, 6.0, 7.0], [1.0, 2.0])
    assert c.effect_size == 1.0 and math.isnan(c.ci_low) and "separation" in c.ci_method
    r = ratio_of_means([1.0, 2.0], [-1.0, 0.5])
    assert math.isnan(r.effect_size) and "<= 0" in r.ci_method


def test_low_level_input_errors():
    with pytest.raises(ValueError, match=r"hedges_g: `x` must be finite values"):
        hedges_g([1.0, np.nan, 2.0], [1.0, 2.0])
    with pytest.raises(ValueError, match=r"cliffs_delta: `y` must be an array with at least 2 values"):
        cliffs_delta([1.0, 2.0], [1.0])
    with pytest.raises(ValueError, match=r"pass 0.95 instead"):
        hodges_lehmann([1.0, 2.0], [1.0, 3.0], confidence_level=95)


# ---------------------------------------------------------------------------------------------
# Public table
# ---------------------------------------------------------------------------------------------
def test_effect_sizes_table(posts_long):
    out = tk.effect_sizes(posts_long, dv="likes", between="department", groups=["PR", "Marketing"])
    assert tuple(out.columns) == EFFECT_SIZE_COLUMNS
    assert out["effect_size_type"].tolist() == ["hedges_g", "cliffs_delta", "hodges_lehmann_shift", "ratio_of_means"]
    assert (out.group_a == "PR").all() and (out.group_b == "Marketing").all()
    pr = posts_long.loc[posts_long.department == "PR", "likes"].to_numpy(float)
    mk = posts_long.loc[posts_long.department == "Marketing", "likes"].to_numpy(float)
    assert out.effect_size.iloc[0] == hedges_g(pr, mk).effect_size
    assert out.effect_size.iloc[3] == pytest.approx(pr.mean() / mk.mean(), rel=1e-12)
    assert (out.n_a == 30).all() and (out.n_dropped == 0).all()
    assert (out.ci_low <= out.effect_size).all() and (out.effect_size <= out.ci_high).all()


def test_effect_sizes_needs_two_groups_and_honours_nan_policy(posts_long, posts_with_nan):
    with pytest.raises(ValueError, match=r"effect_sizes: `between` must be a column with at most 2 groups"):
        tk.effect_sizes(posts_long, dv="likes", between="department")
    with pytest.raises(ValueError, match=r"missing value"):
        tk.effect_sizes(posts_with_nan, dv="likes", between="department", groups=["Marketing", "PR"])
    out = tk.effect_sizes(posts_with_nan, dv="likes", between="department", groups=["Marketing", "PR"],
                          nan_policy="omit")
    # rows 0 and 5 are Marketing, row 40 is PR
    assert (out.n_dropped == 3).all() and (out.n_a == 28).all() and (out.n_b == 29).all()
