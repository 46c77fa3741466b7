"""Tests for toolkit.stats.pairwise.pairwise.

Reference values: tests/reference/pairwise/ (R 4.2.2 TukeyHSD, rstatix 0.7.2 games_howell_test and
dunn_test, pairwise.t.test, ptukey/qtukey; see the README there), plus scipy.stats.tukey_hsd as an
independent implementation of Tukey–Kramer.
"""
from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose
from scipy import stats

import toolkit as tk
from toolkit._validation import ToolkitWarning
from toolkit.stats.schema import PAIRWISE_COLUMNS
from toolkit.stats.multitest import adjust_pvalues
from toolkit.stats.pairwise import P_FLOOR, _ptukey, _qcrit_by_df, _qtukey, pairwise

requires_mirror = pytest.mark.skipif(not os.environ.get("TOOLKIT_DATA_MIRROR"),
                                     reason="real datasets need TOOLKIT_DATA_MIRROR (make test sets it)")

REF = Path(__file__).parent / "reference" / "pairwise"


# ---------------------------------------------------------------------------------------------
# Data sets used by the R script (read from the same raw files)
# ---------------------------------------------------------------------------------------------
def _plantgrowth() -> pd.DataFrame:
    d = pd.read_csv(REF / "plantgrowth.csv")
    return pd.DataFrame({"y": d["weight"], "g": d["group"]})


def _facebook() -> pd.DataFrame:
    path = Path(os.environ["TOOLKIT_DATA_MIRROR"]) / "uci_facebook_metrics" / "dataset_Facebook.csv"
    fb = pd.read_csv(path, sep=";")
    assert fb["comment"].notna().all() and len(fb) == 500  # no missing comments: nothing dropped
    return pd.DataFrame({"y": fb["comment"].astype(float), "g": "c" + fb["Category"].astype(str)})


def _thai() -> pd.DataFrame:
    base = Path(os.environ["TOOLKIT_DATA_MIRROR"]) / "uci_live_sellers_thailand"
    live = pd.read_csv(base / "Live_20210128.csv")
    codes = pd.read_csv(base / "seller_codes.csv")
    th = live.merge(codes, on="status_id")
    th = th[th["duplicate_of"].isna() & th["seller"].isin(["S03", "S04", "S06", "S08"])]
    return pd.DataFrame({"y": np.log1p(th["num_comments"].astype(float)), "g": th["seller"]})


DATASETS = {"plantgrowth": _plantgrowth, "facebook": _facebook, "thai": _thai}
PARAMS = [pytest.param("plantgrowth"), pytest.param("facebook", marks=requires_mirror),
          pytest.param("thai", marks=requires_mirror)]


def _ref(name: str, dataset: str) -> pd.DataFrame:
    table = pd.read_csv(REF / name)
    return table[table["dataset"] == dataset].reset_index(drop=True)


def _by_pair(ours: pd.DataFrame, a: pd.Series, b: pd.Series) -> pd.DataFrame:
    """Rows of our table in the order of the reference pairs (a, b)."""
    idx = ours.set_index(["group_a", "group_b"])
    return idx.loc[list(zip(a, b))].reset_index()


# ---------------------------------------------------------------------------------------------
# Agreement with R
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("dataset", PARAMS)
def test_tukey_matches_r_tukeyhsd(dataset):
    d = DATASETS[dataset]()
    ours = pairwise(d, dv="y", between="g", method="tukey")
    ref = _ref("tukey_hsd.csv", dataset)
    # R's row "B-A" is mean(B) - mean(A); ours is group_a - group_b with group_a = A
    got = _by_pair(ours, ref["group1"], ref["group2"])
    assert len(got) == len(ref) == len(ours)
    # same arithmetic on the same doubles: only summation order differs
    assert_allclose(got["estimate"], -ref["diff"], rtol=1e-11)
    # CI half-width = qtukey * SE: R's qtukey stops its secant iterations at |dx| < 1e-4, our root is
    # tighter; measured agreement is ~1e-7 relative, tolerance 1e-6
    assert_allclose(got["estimate_ci_low"], -ref["upr"], rtol=1e-6)
    assert_allclose(got["estimate_ci_high"], -ref["lwr"], rtol=1e-6)
    # ptukey: same quadrature; R's absolute accuracy ~1e-13 (eps2 = 1e-14 per interval)
    assert_allclose(got["p_adjusted"], ref["p_adj"], rtol=1e-9, atol=1e-12)
    assert (got["p_adjust"] == "tukey").all() and (got["test"] == "tukey").all()
    raw = _ref("raw_t.csv", dataset)
    got_raw = _by_pair(ours, raw["group1"], raw["group2"])
    # raw p: pooled-SD t test, R pairwise.t.test(pool.sd = TRUE, p.adjust.method = "none"); both use
    # the t distribution function (R pt vs scipy stdtr), agreement to ~1e-14
    assert_allclose(got_raw["p_value"], raw["p_pooled_t"], rtol=1e-10)


@pytest.mark.parametrize("dataset", PARAMS)
def test_games_howell_matches_rstatix(dataset):
    d = DATASETS[dataset]()
    ours = pairwise(d, dv="y", between="g", method="games_howell")
    ref = _ref("games_howell.csv", dataset)
    got = _by_pair(ours, ref["group1"], ref["group2"])
    assert len(got) == len(ref) == len(ours)
    # rstatix estimate = mean(group2) - mean(group1): opposite sign to ours
    assert_allclose(got["estimate"], -ref["estimate"], rtol=1e-11)
    assert_allclose(got["df"], ref["df"], rtol=1e-11)
    # rstatix statistic = |t|; ours is the studentized range q = sqrt(2) |t|
    assert_allclose(got["statistic"] / np.sqrt(2.0), ref["statistic"], rtol=1e-11)
    # simultaneous CI: qtukey accuracy in R (see the Tukey test), tolerance 1e-6 relative
    assert_allclose(got["estimate_ci_low"], -ref["conf_high"], rtol=1e-6)
    assert_allclose(got["estimate_ci_high"], -ref["conf_low"], rtol=1e-6)
    # p: ptukey(|t| sqrt(2), k, df, lower.tail = FALSE) unrounded (same quadrature, ~1e-13 absolute)
    assert_allclose(got["p_adjusted"], ref["p_adj"], rtol=1e-9, atol=1e-12)
    # rstatix's own printed p.adj is rounded to 3 decimals
    assert (np.abs(got["p_adjusted"] - ref["p_adj_rounded"]) <= 0.0005 + 1e-12).all()
    raw = _ref("raw_t.csv", dataset)
    got_raw = _by_pair(ours, raw["group1"], raw["group2"])
    # raw p: Welch t test, R pairwise.t.test(pool.sd = FALSE) which calls t.test(var.equal = FALSE)
    assert_allclose(got_raw["p_value"], raw["p_welch_t"], rtol=1e-10)


@pytest.mark.parametrize("dataset", PARAMS)
def test_dunn_matches_rstatix(dataset):
    d = DATASETS[dataset]()
    ref = _ref("dunn.csv", dataset)
    ours = pairwise(d, dv="y", between="g", method="dunn")
    got = _by_pair(ours, ref["group1"], ref["group2"])
    # rstatix estimate and z are group2 - group1: opposite sign to ours. Mean ranks are sums of
    # mid-ranks (exact in binary for these n), z and p agree to rounding.
    assert_allclose(got["estimate"], -ref["estimate"], rtol=1e-12)
    assert_allclose(got["statistic"], -ref["statistic"], rtol=1e-12)
    assert_allclose(got["p_value"], ref["p"], rtol=1e-12)
    assert_allclose(got["p_adjusted"], ref["p_adj"], rtol=1e-12)
    assert (got["estimate_type"] == "mean_rank_difference").all()
    assert got["estimate_ci_low"].isna().all() and got["df"].isna().all()
    assert (got["effect_size_type"] == "cliffs_delta").all()
    bh = _by_pair(pairwise(d, dv="y", between="g", method="dunn", p_adjust="fdr_bh"), ref["group1"], ref["group2"])
    assert_allclose(bh["p_adjusted"], ref["p_adj_bh"], rtol=1e-12)
    assert (bh["p_adjust"] == "fdr_bh").all()


@pytest.mark.parametrize("dataset", PARAMS)
def test_dunn_reference_family_matches_r(dataset):
    d = DATASETS[dataset]()
    ref = _ref("dunn.csv", dataset)
    first = sorted(d["g"].unique())[0]
    ref = ref[ref["group1"] == first]
    ours = pairwise(d, dv="y", between="g", method="dunn", reference=first)
    assert len(ours) == d["g"].nunique() - 1 and (ours["group_b"] == first).all()
    got = _by_pair(ours, ref["group2"], ref["group1"])
    # group_a = other group, group_b = reference: same direction as rstatix's group2 - group1
    assert_allclose(got["statistic"], ref["statistic"], rtol=1e-12)
    # Holm over the k - 1 comparisons with the reference (R: p.adjust on that subset)
    assert_allclose(got["p_adjusted"], ref["p_adj_holm_vs_first"], rtol=1e-12)


@pytest.mark.parametrize("dataset", PARAMS)
def test_dunnett_matches_multcomp(dataset):
    d = DATASETS[dataset]()
    ref = _ref("dunnett.csv", dataset)
    ours = pairwise(d, dv="y", between="g", method="tukey", reference=ref["reference"][0])
    assert len(ours) == len(ref) and (ours["p_adjust"] == "dunnett").all()
    got = _by_pair(ours, ref["group"], ref["reference"])  # both are group - reference
    assert_allclose(got["estimate"], ref["estimate"], rtol=1e-11)
    assert_allclose(got["statistic"], ref["tstat"], rtol=1e-10)  # Dunnett's t = pooled-variance t
    # both integrate the multivariate t numerically: R (mvtnorm, abseps 1e-7) vs scipy's randomized
    # QMC with a fixed seed (~1e-5 absolute); measured max difference 2.5e-5
    assert_allclose(got["p_adjusted"], ref["p_adj"], rtol=0, atol=1e-4)
    # simultaneous CI: scipy's critical value differs from R's by up to 3.2e-4 of the half-width
    half = (ref["upr"] - ref["lwr"]) / 2
    assert (np.abs(got["estimate_ci_low"] - ref["lwr"]) <= 1e-3 * half).all()
    assert (np.abs(got["estimate_ci_high"] - ref["upr"]) <= 1e-3 * half).all()
    # deterministic although the integration is randomized (fixed lattice seed)
    again = pairwise(d, dv="y", between="g", method="tukey", reference=ref["reference"][0])
    pd.testing.assert_frame_equal(ours, again)


def test_dunnett_one_sided(posts_long):
    two = pairwise(posts_long, dv="likes", between="department", method="tukey", reference="Marketing")
    greater = pairwise(posts_long, dv="likes", between="department", method="tukey", reference="Marketing",
                       alternative="greater")
    assert (greater["p_adjust"] == "dunnett").all() and np.isposinf(greater["estimate_ci_high"]).all()
    # both other departments have more likes than Marketing: the one-sided p is the smaller one
    assert (two["estimate"] > 0).all() and (greater["p_adjusted"] <= two["p_adjusted"]).all()


def test_ptukey_matches_r_grid():
    grid = pd.read_csv(REF / "ptukey_grid.csv")
    for k, sub in grid.groupby("k"):
        cdf = _ptukey(sub["q"].to_numpy(), int(k), sub["df"].to_numpy())
        # same algorithm as R; measured max difference 2.9e-14 (absolute)
        assert_allclose(cdf, sub["cdf"], rtol=0, atol=1e-12)


def test_qtukey_matches_r_grid():
    grid = pd.read_csv(REF / "qtukey_grid.csv")
    grid = grid[grid["k"].isin([2, 3, 10, 50]) & grid["p"].isin([0.95, 0.99])]  # keep the test fast
    for (p, k), sub in grid.groupby(["p", "k"]):
        q = _qtukey(float(p), int(k), sub["df"].to_numpy())
        # R's qtukey stops at |dx| < 1e-4 (secant), ours at 1e-12 relative: measured 7.5e-8
        assert_allclose(q, sub["q"], rtol=1e-6)


def test_qcrit_interpolation_accuracy():
    df = np.concatenate([np.linspace(1.5, 40, 20), np.geomspace(40, 5e4, 20)])
    approx = _qcrit_by_df(0.95, 6, df)  # 40 distinct df: interpolated
    exact = _qtukey(0.95, 6, df[::4])
    # documented bound 1e-7; measured ~5e-8 at k = 10
    assert_allclose(approx[::4], exact, rtol=1e-7)


def test_interpolated_games_howell_is_bit_reproducible():
    # more than 24 distinct Welch df: the critical values are interpolated; with scipy's default
    # barycentric weights (computed in a random order) repeated calls differed in the last bits
    df = np.concatenate([np.linspace(1.5, 40, 20), np.geomspace(40, 5e4, 20)])
    first = _qcrit_by_df(0.95, 6, df)
    for _ in range(5):
        np.testing.assert_array_equal(_qcrit_by_df(0.95, 6, df), first)
    posts = tk.simulate_organization(seed=1).data  # SIMULATED (seed 1): 8 departments, 36 distinct df
    a = pairwise(posts, dv="likes", between="department", method="games_howell")
    assert a["df"].nunique() > 24
    for _ in range(3):
        pd.testing.assert_frame_equal(pairwise(posts, dv="likes", between="department", method="games_howell"), a,
                                      check_exact=True)


def test_tukey_matches_scipy_tukey_hsd(rng):
    sizes = [12, 20, 7, 15]
    groups = [rng.normal(loc, 1.0, size=n) for loc, n in zip([0.0, 0.5, 1.5, 0.2], sizes)]
    d = pd.DataFrame({"y": np.concatenate(groups), "g": np.repeat(list("ABCD"), sizes)})
    ours = pairwise(d, dv="y", between="g", method="tukey")
    res = stats.tukey_hsd(*groups)
    ci = res.confidence_interval(confidence_level=0.95)
    for _, row in ours.iterrows():
        i, j = "ABCD".index(row["group_a"]), "ABCD".index(row["group_b"])
        assert row["estimate"] == pytest.approx(res.statistic[i, j], rel=1e-12)
        # scipy integrates the studentized range with its own adaptive quadrature (accuracy ~1e-10)
        assert row["p_adjusted"] == pytest.approx(res.pvalue[i, j], rel=1e-6, abs=1e-10)
        # scipy's ppf uses a root finder on its cdf: agreement ~1e-8
        assert row["estimate_ci_low"] == pytest.approx(ci.low[i, j], rel=1e-6)
        assert row["estimate_ci_high"] == pytest.approx(ci.high[i, j], rel=1e-6)


def test_two_groups_tukey_equals_student_t(posts_long):
    two = posts_long[posts_long["department"].isin(["Marketing", "PR"])].copy()
    two["department"] = two["department"].cat.remove_unused_categories()
    row = pairwise(two, dv="likes", between="department", method="tukey").iloc[0]
    ref = stats.ttest_ind(two.loc[two["department"] == "Marketing", "likes"],
                          two.loc[two["department"] == "PR", "likes"], equal_var=True)
    # with k = 2 the studentized range test is exactly Student's t test (q = sqrt(2)|t|); the
    # quadrature (R's ptukey algorithm) is accurate to ~2e-8 relative at p ~ 1e-3 (measured 1.8e-8)
    assert row["p_adjusted"] == pytest.approx(ref.pvalue, rel=1e-6)
    assert row["p_value"] == pytest.approx(ref.pvalue, rel=1e-12)
    assert row["statistic"] == pytest.approx(np.sqrt(2) * abs(ref.statistic), rel=1e-12)


# ---------------------------------------------------------------------------------------------
# Options and invariants
# ---------------------------------------------------------------------------------------------
FAST = dict(n_resamples=1999, seed=7)


def _combos():
    for method in ("tukey", "games_howell", "dunn", "permutation", "bootstrap"):
        for p_adjust in (None, "holm", "fdr_bh", "none", "bonferroni"):
            for reference in (None, "PR"):
                for alternative in ("two-sided", "greater"):
                    yield method, p_adjust, reference, alternative


def _valid(method, p_adjust, reference, alternative):
    if method == "games_howell" and p_adjust is None and reference:
        return False
    if method in ("tukey", "games_howell") and p_adjust is None and not reference and alternative != "two-sided":
        return False
    if method == "bootstrap" and (alternative != "two-sided" or p_adjust not in (None, "bonferroni", "none")):
        return False
    return True


@pytest.mark.parametrize("method, p_adjust, reference, alternative", list(_combos()))
def test_every_option_combination_gives_the_schema(posts_long, method, p_adjust, reference, alternative):
    kwargs = dict(dv="likes", between="department", method=method, p_adjust=p_adjust, reference=reference,
                  alternative=alternative, **FAST)
    if not _valid(method, p_adjust, reference, alternative):
        with pytest.raises(ValueError, match=r"pairwise: `(p_adjust|alternative)` must be"):
            pairwise(posts_long, **kwargs)
        return
    out = pairwise(posts_long, **kwargs)
    assert list(out.columns) == list(PAIRWISE_COLUMNS)
    assert isinstance(out.index, pd.RangeIndex)
    assert len(out) == (2 if reference else 3)
    expected_adjust = p_adjust or {"tukey": "dunnett" if reference else "tukey", "games_howell": "games_howell",
                                   "bootstrap": "bonferroni"}.get(method, "holm")
    assert (out["p_adjust"] == expected_adjust).all()
    assert (out["test"] == method).all() and (out["alternative"] == alternative).all()
    assert (out["n"] == 90).all() and (out["n_dropped"] == 0).all()
    if method == "bootstrap":
        assert out["p_value"].isna().all() and out["p_adjusted"].isna().all()
        assert ((out["estimate_ci_low"] < out["estimate"]) & (out["estimate"] < out["estimate_ci_high"])).all()
    else:
        assert (out["p_adjusted"] >= out["p_value"]).all()
        assert ((out["p_value"] > 0) & (out["p_value"] <= 1)).all()
        if p_adjust is not None:
            assert_allclose(out["p_adjusted"], np.fmax(adjust_pvalues(out["p_value"], p_adjust=p_adjust),
                                                       out["p_value"]))
    if reference:
        assert (out["group_b"] == reference).all()


def test_explicit_correction_for_tukey_says_per_pair_ci(posts_long):
    out = pairwise(posts_long, dv="likes", between="department", method="games_howell", p_adjust="holm")
    assert out["method"].str.contains("per-pair \\(unadjusted\\)").all()
    assert out["method"].str.contains("Welch t tests").all()
    default = pairwise(posts_long, dv="likes", between="department", method="games_howell")
    assert default["method"].str.contains("simultaneous").all()
    # simultaneous CIs are wider than per-pair ones; raw p-values are the same
    assert ((default["estimate_ci_high"] - default["estimate_ci_low"])
            > (out["estimate_ci_high"] - out["estimate_ci_low"])).all()
    assert_allclose(default["p_value"], out["p_value"])


def test_one_sided_raw_p_halves_two_sided(posts_long):
    two = pairwise(posts_long, dv="likes", between="department", method="tukey", p_adjust="holm")
    less = pairwise(posts_long, dv="likes", between="department", method="tukey", p_adjust="holm",
                    alternative="less")
    # estimates are negative (later departments get more likes), so "less" is half the two-sided p
    assert (two["estimate"] < 0).all()
    assert_allclose(less["p_value"], two["p_value"] / 2, rtol=1e-10)
    assert np.isneginf(less["estimate_ci_low"]).all()


def test_reference_errors(posts_long):
    with pytest.raises(ValueError, match=r"pairwise: `reference` must be a group label of 'department'; got "
                                         r"'Pr'\. Available labels: 'Marketing', 'PR', 'Customer service'\. "
                                         r"Did you mean 'PR'\?"):
        pairwise(posts_long, dv="likes", between="department", method="dunn", reference="Pr")
    with pytest.raises(ValueError, match=r"`p_adjust` must be given explicitly when comparing with a `reference` "
                                         r"using method='games_howell'.*Pass p_adjust='holm'.*method='tukey' "
                                         r"\(Dunnett's test"):
        pairwise(posts_long, dv="likes", between="department", method="games_howell", reference="PR")
    with pytest.raises(ValueError, match=r"The studentized range is two-sided\. Pass p_adjust='holm'"):
        pairwise(posts_long, dv="likes", between="department", alternative="greater")


def test_option_errors(posts_long):
    with pytest.raises(ValueError, match=r"pairwise: `method` must be one of .*; got 'games-howell'\. "
                                         r"Did you mean 'games_howell'\?"):
        pairwise(posts_long, dv="likes", between="department", method="games-howell")
    with pytest.raises(ValueError, match=r"pairwise: `p_adjust` must be one of .*; got 'BH'\. "
                                         r"Did you mean 'fdr_bh'\?"):
        pairwise(posts_long, dv="likes", between="department", p_adjust="BH")
    with pytest.raises(ValueError, match=r"`p_adjust` must be None, 'bonferroni' or 'none' with "
                                         r"method='bootstrap'; got 'holm'"):
        pairwise(posts_long, dv="likes", between="department", method="bootstrap", p_adjust="holm")
    with pytest.raises(ValueError, match=r"`confidence_level` must be a number strictly between 0 and 1.*"
                                         r"pass 0\.95"):
        pairwise(posts_long, dv="likes", between="department", confidence_level=95)
    with pytest.raises(ValueError, match=r"`between` must be the name of a column in `data`; got 'Department'"):
        pairwise(posts_long, dv="likes", between="Department")
    with pytest.raises(TypeError):
        pairwise(posts_long, "likes", "department")


def test_nan_policy(posts_with_nan):
    with pytest.raises(ValueError, match=r"pairwise: `data` contains 3 missing value\(s\) in 'likes'.*"
                                         r"nan_policy='omit'"):
        pairwise(posts_with_nan, dv="likes", between="department")
    out = pairwise(posts_with_nan, dv="likes", between="department", nan_policy="omit")
    assert (out["n_dropped"] == 3).all() and (out["n"] == 87).all()
    complete = posts_with_nan.dropna(subset=["likes"])
    assert_allclose(out["p_adjusted"], pairwise(complete, dv="likes", between="department")["p_adjusted"])


def test_input_frame_unchanged(posts_long):
    before = posts_long.copy()
    pairwise(posts_long, dv="likes", between="department", method="dunn")
    pd.testing.assert_frame_equal(posts_long, before)


@pytest.mark.parametrize("method", ["permutation", "bootstrap"])
def test_deterministic_for_a_seed(posts_long, method):
    kw = dict(dv="likes", between="department", method=method, n_resamples=999)
    with pytest.warns(ToolkitWarning, match="resamples in each tail") if method == "bootstrap" else _nullcontext():
        a = pairwise(posts_long, **kw, seed=11)
        b = pairwise(posts_long, **kw, seed=11)
        c = pairwise(posts_long, **kw, seed=12)
    pd.testing.assert_frame_equal(a, b)
    col = "p_value" if method == "permutation" else "estimate_ci_low"
    assert not np.allclose(a[col], c[col])


def _nullcontext():
    import contextlib
    return contextlib.nullcontext()


def test_bootstrap_bonferroni_interval_wider(posts_long):
    kw = dict(dv="likes", between="department", method="bootstrap", n_resamples=1999, seed=3)
    simultaneous = pairwise(posts_long, **kw)
    per_pair = pairwise(posts_long, **kw, p_adjust="none")
    assert ((simultaneous["estimate_ci_high"] - simultaneous["estimate_ci_low"])
            > (per_pair["estimate_ci_high"] - per_pair["estimate_ci_low"])).all()
    assert simultaneous["method"].str.contains("Bonferroni-adjusted for 3 comparisons").all()
    assert per_pair["p_value"].isna().all() and (per_pair["p_adjust"] == "none").all()
    with pytest.raises(ValueError, match=r"`alternative` must be 'two-sided' with method='bootstrap'"):
        pairwise(posts_long, **kw, alternative="less")


def test_permutation_close_to_welch(posts_long):
    perm = pairwise(posts_long, dv="likes", between="department", method="permutation", n_resamples=4999, seed=1)
    welch = pairwise(posts_long, dv="likes", between="department", method="games_howell", p_adjust="holm")
    assert_allclose(perm["statistic"], welch["estimate"], rtol=1e-12)  # the observed mean difference
    # with n = 30 per group the permutation p of the mean difference is close to Welch's t p
    assert (np.abs(perm["p_value"] - welch["p_value"]) < 0.03).all()


def test_p_never_zero_and_floor_is_conservative():
    rng = np.random.default_rng(5)
    d = pd.DataFrame({"y": np.concatenate([rng.normal(0, 1, 200), rng.normal(8, 1, 200), rng.normal(16, 1, 200)]),
                      "g": np.repeat(["a", "b", "c"], 200)})
    for method in ("tukey", "games_howell"):
        out = pairwise(d, dv="y", between="g", method=method)
        assert (out["p_adjusted"] > 0).all()
        assert (out["p_adjusted"] >= out["p_value"]).all()
        # far tail: the reported value is min(3 * p_t, 1e-6) (Bonferroni bound), floored at P_FLOOR
        expected = np.clip(np.minimum(3 * out["p_value"], 1e-6), P_FLOOR, None)
        assert_allclose(out["p_adjusted"], np.fmax(expected, out["p_value"]), rtol=1e-12)
        # the t tail underflows for the a-c pair: the floor, not 0, for the raw and the adjusted p
        assert out["p_value"].min() == P_FLOOR and out["p_adjusted"].min() == 3 * P_FLOOR


def test_small_p_close_to_scipy():
    rng = np.random.default_rng(5)
    d = pd.DataFrame({"y": np.concatenate([rng.normal(0, 1, 30), rng.normal(1.6, 1, 30), rng.normal(0.2, 1, 30)]),
                      "g": np.repeat(["a", "b", "c"], 30)})
    out = pairwise(d, dv="y", between="g", method="tukey")
    ref = stats.studentized_range.sf(out["statistic"].to_numpy(), 3, 87)
    assert out["p_adjusted"].min() < 1e-6  # the test covers the Bonferroni-bound region
    # quadrature region: agreement ~1e-6 relative; Bonferroni region (p < 1e-6): conservative, within 2 %
    assert (out["p_adjusted"] >= ref * (1 - 1e-6)).all()
    assert_allclose(out["p_adjusted"], ref, rtol=0.02)
    assert (out["p_adjusted"] <= np.minimum(1, 3 * out["p_value"])).all()


def test_zero_variance_pair_warns():
    d = pd.DataFrame({"y": [1.0, 1.0, 1.0, 2.0, 2.0, 2.0, 0.0, 3.0, 5.0], "g": list("aaabbbccc")})
    with pytest.warns(ToolkitWarning, match="zero variance in both groups"):
        out = pairwise(d, dv="y", between="g", method="games_howell")
    assert np.isnan(out.loc[0, "p_value"]) and np.isfinite(out.loc[1, "p_value"])


def test_many_groups_vectorised():
    rng = np.random.default_rng(2)
    k, n = 50, 20
    d = pd.DataFrame({"g": np.repeat([f"d{i:02d}" for i in range(k)], n), "y": rng.normal(size=k * n)})
    start = time.perf_counter()
    out = pairwise(d, dv="y", between="g", method="dunn")
    elapsed = time.perf_counter() - start
    assert len(out) == k * (k - 1) // 2 == 1225
    assert elapsed < 20  # generous: measured ~0.6 s; guards against accidental O(pairs x N) loops
    # the vectorised studentized range agrees with scipy at k = 50 (scipy is ~17 ms per value)
    q = np.array([3.0, 5.0, 6.5])
    assert_allclose(1 - _ptukey(q, 50, np.array([30.0, 200.0, 1000.0])),
                    stats.studentized_range.sf(q, 50, [30.0, 200.0, 1000.0]), rtol=1e-6, atol=1e-11)


# ---------------------------------------------------------------------------------------------
# Effect-size intervals: one pooled ranking for all pairs; effsize_ci="none" (issue 13)
# ---------------------------------------------------------------------------------------------
def test_cliffs_delta_of_all_pairs_equals_the_two_sample_function():
    from toolkit.stats.effect_sizes import cliffs_delta
    rng = np.random.default_rng(13)  # SIMULATED: 4 groups, heavy ties (Poisson counts) and unequal sizes
    sizes = [40, 55, 3, 70]
    data = pd.DataFrame({"g": np.repeat(list("ABCD"), sizes),
                         "y": np.concatenate([rng.poisson(2.0 + i, size=s) for i, s in enumerate(sizes)])})
    table = tk.pairwise(data, dv="y", between="g", method="dunn")
    for _, row in table.iterrows():
        x = data.loc[data["g"] == row["group_a"], "y"].to_numpy(float)
        y = data.loc[data["g"] == row["group_b"], "y"].to_numpy(float)
        want = cliffs_delta(x, y)
        np.testing.assert_allclose([row["effect_size"], row["ci_low"], row["ci_high"]],
                                   [want.effect_size, want.ci_low, want.ci_high], rtol=1e-13)


@pytest.mark.parametrize("method", ["dunn", "games_howell", "tukey"])
def test_effsize_ci_none_skips_only_the_interval(method):
    posts = tk.simulate_organization(seed=1).data
    full = tk.pairwise(posts, dv="likes", between="department", method=method)
    bare = tk.pairwise(posts, dv="likes", between="department", method=method, effsize_ci="none")
    assert list(bare.columns) == list(full.columns)
    assert bare[["ci_low", "ci_high"]].isna().all().all()
    pd.testing.assert_frame_equal(bare.drop(columns=["ci_low", "ci_high"]), full.drop(columns=["ci_low", "ci_high"]))
    with pytest.raises(ValueError, match="effsize_ci"):
        tk.pairwise(posts, dv="likes", between="department", effsize_ci="bootstrap")
