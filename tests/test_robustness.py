"""Specification curves and their joint inference (toolkit/robustness.py)."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import toolkit as tk
from toolkit.robustness import CURVE_COLUMNS, specification_curve, specification_test


@pytest.fixture(scope="module")
def org():
    return tk.simulate_organization(n_accounts_per_department=5, posts_per_account=30, seed=11,
                                    departments=["Marketing", "PR", "IT"], mixed_share=0.0).data


def _two(data, a="PR", b="Marketing"):
    d = data[data["department"].isin([a, b])].copy()
    d["department"] = d["department"].astype(str)
    return d


def test_columns_and_cross_product(org):
    curve = specification_curve(org, between="department", contrast=("PR", "Marketing"),
                                outcomes=("likes", "total"), denominators=("reach", "none"),
                                analyses=("welch_log_ratio", "rank", "negbin_glm"), units=("post",),
                                exclusions=("none", "paid"), n_jobs=1)
    assert list(curve.columns) == list(CURVE_COLUMNS)
    assert len(curve) == 2 * 2 * 3 * 2
    assert (curve["status"] == "ok").all()
    assert curve["spec_id"].tolist() == list(range(len(curve)))
    rank = curve[curve["analysis"] == "rank"]
    assert rank["estimate"].isna().all() and rank["estimate_native"].between(-1, 1).all()
    assert (rank["scale"] == "cliffs delta").all()
    ok = curve[curve["analysis"] != "rank"]
    assert (ok["ci_low"] < ok["estimate"]).all() and (ok["estimate"] < ok["ci_high"]).all()
    assert (curve["significant"] == (curve["p_value"] < 0.05)).all()


def test_welch_and_rank_match_direct_computation(org):
    curve = specification_curve(org, between="department", contrast=("PR", "Marketing"), outcomes=("comments",),
                                denominators=("reach",), analyses=("welch_log_ratio", "rank"), units=("post",),
                                exclusions=("none",), n_jobs=1)
    d = _two(org)
    r = d["comments"].astype(float) / d["reach"].astype(float)
    ra, rb = r[d["department"] == "PR"].to_numpy(), r[d["department"] == "Marketing"].to_numpy()
    est = np.log(ra.mean() / rb.mean())
    va, vb = ra.var(ddof=1) / (len(ra) * ra.mean() ** 2), rb.var(ddof=1) / (len(rb) * rb.mean() ** 2)
    df = (va + vb) ** 2 / (va ** 2 / (len(ra) - 1) + vb ** 2 / (len(rb) - 1))
    welch = curve.iloc[0]
    assert welch["estimate"] == pytest.approx(est, rel=1e-12)
    assert welch["p_value"] == pytest.approx(2 * stats.t.sf(abs(est) / np.sqrt(va + vb), df), rel=1e-10)
    assert welch["ci_high"] - welch["estimate"] == pytest.approx(stats.t.ppf(0.975, df) * np.sqrt(va + vb))
    rank = curve.iloc[1]
    mw = stats.mannwhitneyu(ra, rb, method="asymptotic")
    assert rank["p_value"] == pytest.approx(mw.pvalue, rel=1e-12)
    assert rank["estimate_native"] == pytest.approx(2 * mw.statistic / (len(ra) * len(rb)) - 1)


@pytest.mark.parametrize("analysis,subject", [("negbin_glm", None), ("negbin_glmm", "account")])
def test_nb_models_match_fit_engagement_model(org, analysis, subject):
    curve = specification_curve(org, between="department", contrast=("PR", "Marketing"), outcomes=("shares",),
                                denominators=("reach",), analyses=(analysis,), units=("post",),
                                exclusions=("none",), covariate_sets=((), ("content_type",)), n_jobs=1)
    d = _two(org)
    G = d["account"].nunique()
    for cs, row in zip(((), ("content_type",)), curve.itertuples()):
        m = tk.models.fit_engagement_model(d, dv="shares", between="department", exposure="reach",
                                           covar=cs, subject=subject, reference="Marketing")
        rr = m.rate_ratios.iloc[0]
        assert row.estimate == pytest.approx(np.log(rr["rate_ratio"]), abs=2e-4)
        if analysis == "negbin_glm":
            assert row.ci_low == pytest.approx(np.log(rr["ci_low"]), abs=2e-3)
            assert row.p_value == pytest.approx(rr["p_value"], rel=0.02, abs=1e-6)
        else:  # the same Wald statistic, referred to t on G - 2 = 8 df (small-sample correction)
            z = rr["statistic"]
            se = (np.log(rr["ci_high"]) - np.log(rr["ci_low"])) / (2 * stats.norm.ppf(0.975))
            assert row.p_value == pytest.approx(2 * stats.t.sf(abs(z), G - 2), rel=0.02, abs=1e-6)
            assert row.ci_low == pytest.approx(np.log(rr["rate_ratio"]) - stats.t.ppf(0.975, G - 2) * se, abs=2e-3)
            assert row.p_value > rr["p_value"]  # t tails are heavier than z


def test_account_level_matches_aggregated_glm(org):
    curve = specification_curve(org, between="department", contrast=("IT", "Marketing"), outcomes=("likes",),
                                denominators=("reach",), analyses=("account_level",), units=("post",),
                                exclusions=("none",), n_jobs=1)
    agg = tk.models.account_level(_two(org, "IT"), dv="likes", exposure="reach", subject="account",
                                  between="department")
    m = tk.models.fit_engagement_model(agg, dv="likes", between="department", exposure="reach",
                                       reference="Marketing")
    assert curve["n"].iloc[0] == 10
    assert curve["estimate"].iloc[0] == pytest.approx(np.log(m.rate_ratios["rate_ratio"].iloc[0]), abs=1e-6)


def _account_log_rates(d, dv, exposure="reach"):
    acc = d.groupby("account", observed=True).agg(dept=("department", "first"), y=(dv, "sum"),
                                                  e=(exposure, "sum") if exposure else (dv, "size"))
    return acc.assign(l=np.log((acc["y"] + 0.5) / acc["e"]))


def test_cluster_level_matches_ttest_on_account_log_rates(org):
    curve = specification_curve(org, between="department", contrast=("IT", "Marketing"), outcomes=("likes",),
                                denominators=("reach", "none"), analyses=("cluster_level",),
                                units=("post", "account_month"), exclusions=("none",),
                                covariate_sets=((), ("content_type",)), n_jobs=1)
    ok = curve[curve["status"] == "ok"]
    assert len(ok) == 2  # post unit, no covariates, two denominators
    for den, row in zip(("reach", None), ok.itertuples()):
        acc = _account_log_rates(_two(org, "IT"), "likes", den)
        la, lb = acc.loc[acc["dept"] == "IT", "l"], acc.loc[acc["dept"] == "Marketing", "l"]
        ref = stats.ttest_ind(la, lb, equal_var=True)
        ci = ref.confidence_interval(0.95)
        assert row.estimate == pytest.approx(la.mean() - lb.mean(), rel=1e-12)
        assert row.p_value == pytest.approx(ref.pvalue, rel=1e-10)
        assert (row.ci_low, row.ci_high) == pytest.approx((ci.low, ci.high), rel=1e-10)
        assert (row.n, row.n_a, row.n_b) == (10, 5, 5)
    # the same number as the two-department cluster_level_comparison
    direct = tk.cluster_level_comparison(_two(org, "IT"), dv="likes", between="department", subject="account",
                                         exposure="reach", reference="Marketing", n_resamples=99, seed=1)
    assert np.exp(ok["estimate"].iloc[0]) == pytest.approx(direct.pairwise["estimate"].iloc[0], rel=1e-12)
    assert ok["p_value"].iloc[0] == pytest.approx(direct.pairwise["p_value"].iloc[0], rel=1e-12)
    skipped = curve[curve["status"] == "skipped"].set_index(["unit", "covariates"])["reason"]
    assert skipped.str.contains("does not adjust for covariates|already aggregates to accounts").all()


def test_cluster_level_skips_crossed_accounts_and_single_accounts():
    crossed = tk.simulate_organization(n_accounts_per_department=3, posts_per_account=20, seed=5,
                                       departments=["Marketing", "PR"], mixed_share=0.0).data
    crossed["department"] = crossed["department"].astype(str)
    first = crossed.index[crossed["department"] == "PR"][:5]
    crossed.loc[first, "department"] = "Marketing"  # one PR account now also posts for Marketing
    curve = specification_curve(crossed, between="department", contrast=("PR", "Marketing"), outcomes=("likes",),
                                denominators=("reach",), analyses=("cluster_level",), units=("post",),
                                exclusions=("none",), n_jobs=1)
    assert curve["status"].iloc[0] == "skipped"
    assert curve["reason"].iloc[0] == "accounts are not nested in the groups (an account posts for both)"
    single = tk.simulate_organization(n_accounts_per_department=1, posts_per_account=20, seed=5,
                                      departments=["Marketing", "PR"], mixed_share=0.0).data
    curve = specification_curve(single, between="department", contrast=("PR", "Marketing"), outcomes=("likes",),
                                denominators=("reach",), analyses=("cluster_level",), units=("post",),
                                exclusions=("none",), n_jobs=1)
    assert curve["status"].iloc[0] == "skipped"
    assert curve["reason"].iloc[0] == "cluster_level needs at least 2 accounts in each group"
    from toolkit.robustness import ANALYSES
    assert "cluster_level" in ANALYSES


def test_skips_are_recorded_on_real_single_account_data():
    d = tk.load_dataset("uci_facebook_metrics").data
    curve = specification_curve(d, between="category", contrast=("product", "action"), outcomes=("likes",),
                                denominators=("reach", "audience"), analyses=("welch_log_ratio", "negbin_glmm"),
                                units=("post", "account_month"), exclusions=("none", "paid"),
                                period="month", n_jobs=1)
    glmm = curve[curve["analysis"] == "negbin_glmm"]
    assert (glmm["status"] == "skipped").all()
    assert glmm["reason"].str.contains("at least 3 accounts; the data have 1").all()
    welch = curve[(curve["analysis"] == "welch_log_ratio")]
    assert (welch["status"] == "ok").all()
    assert (welch.loc[welch["exclusion"] == "paid", "n"] < welch.loc[welch["exclusion"] == "none", "n"].max()).all()
    # account-month on one account: one cell per month and category
    am = welch[welch["unit"] == "account_month"]
    assert am["n"].max() <= 24


def test_results_do_not_depend_on_n_jobs(org):
    kw = dict(between="department", contrast=("PR", "Marketing"), outcomes=("likes", "comments"),
              denominators=("reach",), analyses=("welch_log_ratio", "negbin_glm"), units=("post",),
              exclusions=("none", "outliers"), n_resamples=12, seed=5)
    r1 = specification_test(org, n_jobs=1, **kw)
    r2 = specification_test(org, n_jobs=2, **kw)
    pd.testing.assert_frame_equal(r1.curve, r2.curve)
    pd.testing.assert_frame_equal(r1.tests, r2.tests)
    pd.testing.assert_frame_equal(r1.null, r2.null)
    assert r1.tests["resample_unit"].iloc[0] == "subject"
    r3 = specification_test(org, n_jobs=1, **{**kw, "seed": 6})
    assert not r3.null.equals(r1.null)


def test_strong_effect_is_detected():
    sim = tk.simulate_organization(n_accounts_per_department=1, posts_per_account=60, posts_distribution="fixed",
                                   departments=["A", "B"], rate_ratios={"likes": {"B": 2.0}, "comments": {"B": 2.0}},
                                   random_effect_sd=0.0, type_effect_sd=0.0, mixed_share=0.0, seed=2)
    res = specification_test(sim.data, between="department", contrast=("B", "A"), outcomes=("likes", "comments"),
                             denominators=("reach",), analyses=("welch_log_ratio", "negbin_glm"), units=("post",),
                             exclusions=("none",), n_resamples=99, seed=1, n_jobs=1)
    t = res.tests.set_index("statistic")
    assert t.loc["median_estimate", "observed"] == pytest.approx(np.log(2), abs=0.3)
    assert t.loc["median_estimate", "p_value"] == pytest.approx(0.01)
    assert t.loc["share_significant_dominant", "observed"] == 1.0


@pytest.mark.slow
def test_joint_p_values_are_uniform_under_the_null():
    """40 null data sets x 4 specifications x 49 permutations (about 20 s).

    Monte-Carlo limits: with 40 p-values the KS test only detects gross departures (D > ~0.21), and the
    rejection rate at 0.2 has a binomial SE of ~0.063; the share statistics are discrete (ties), so for them
    only validity (P(p <= u) <= u, within MC error) is checked, not exact uniformity.
    """
    pm, ps = [], []
    for i in range(40):
        sim = tk.simulate_organization(n_accounts_per_department=1, posts_per_account=30, posts_distribution="fixed",
                                       departments=["A", "B"], rate_ratios="null", random_effect_sd=0.0,
                                       type_effect_sd=0.0, mixed_share=0.0, seed=1000 + i)
        res = specification_test(sim.data, between="department", contrast=("A", "B"),
                                 outcomes=("likes", "comments"), denominators=("reach",),
                                 analyses=("welch_log_ratio", "negbin_glm"), units=("post",), exclusions=("none",),
                                 n_resamples=49, seed=i, n_jobs=1)
        t = res.tests.set_index("statistic")["p_value"]
        pm.append(t["median_estimate"])
        ps.append(t["share_significant"])
    pm, ps = np.array(pm), np.array(ps)
    assert stats.kstest(pm, "uniform").pvalue > 0.01
    assert np.mean(pm <= 0.2) < 0.2 + 3 * 0.063
    assert np.mean(pm <= 0.5) == pytest.approx(0.5, abs=3 * 0.079)
    assert np.mean(ps <= 0.2) < 0.2 + 3 * 0.063


def test_errors(org):
    with pytest.raises(ValueError, match=r"specification_curve: `analyses` must be one of .*'welch_log_ratio'"):
        specification_curve(org, between="department", contrast=("PR", "Marketing"), analyses=("welsh",))
    with pytest.raises(ValueError, match=r"`contrast` must be two values of 'department'"):
        specification_curve(org, between="department", contrast=("PR", "Sales"))
    with pytest.raises(ValueError, match=r"`contrast` must be a pair"):
        specification_curve(org, between="department", contrast="PR")
    with pytest.raises(ValueError, match=r"`resample_unit` must be 'post' for these data"):
        d = tk.load_dataset("uci_facebook_metrics").data
        specification_test(d, between="category", contrast=("product", "action"), outcomes=("likes",),
                           denominators=("reach",), analyses=("welch_log_ratio",), units=("post",),
                           exclusions=("none",), resample_unit="subject", n_resamples=5)
    with pytest.raises(TypeError, match=r"`n_resamples` must be an integer"):
        specification_test(org, between="department", contrast=("PR", "Marketing"), n_resamples=1.5)


def test_plot_specification_curve(org):
    import matplotlib.pyplot as plt

    from toolkit.plots import plot_specification_curve
    curve = specification_curve(org, between="department", contrast=("PR", "Marketing"),
                                outcomes=("likes", "comments"), denominators=("reach", "none"),
                                analyses=("welch_log_ratio", "rank", "negbin_glm"), units=("post",),
                                exclusions=("none",), n_jobs=1)
    fig = plt.figure()
    axes = plot_specification_curve(curve, fig=fig)
    assert axes["figure"] is fig
    n_est = int(((curve["status"] == "ok") & curve["estimate"].notna()).sum())
    assert n_est == 8
    offsets = axes["curve"].collections[-1].get_offsets()
    assert len(offsets) == n_est
    assert np.all(np.diff(np.log(offsets[:, 1])) >= 0)  # sorted by estimate (ratio axis)
    labels = [t.get_text() for t in axes["choices"].get_yticklabels()]
    assert labels == ["outcome: likes", "outcome: comments", "denominator: reach", "denominator: none",
                      "analysis: welch_log_ratio", "analysis: negbin_glm"]
    plt.close(fig)
    with pytest.raises(ValueError, match="plot_specification_curve: `table` must be the output"):
        plot_specification_curve(pd.DataFrame({"x": [1]}))
