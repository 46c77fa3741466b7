"""The cluster-level department comparison (toolkit/stats/cluster.py) and its use by compare_groups.

References used here are independent implementations, each named at its test: scipy.stats.f_oneway and
ttest_ind, statsmodels OLS contrasts, brute-force enumeration with itertools, scipy.stats.permutation_test.
All data are SIMULATED (seeds in the calls).
"""
from __future__ import annotations

import itertools
import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import toolkit as tk
from toolkit import ToolkitWarning
from toolkit.stats import cluster


def _posts(sizes, *, seed, effect=None, posts=12, rate=0.01, zero_groups=()):
    """SIMULATED posts: departments D0.. with `sizes` accounts each, NB counts, lognormal reach."""
    rng = np.random.default_rng(seed)
    rows = []
    for d, m in enumerate(sizes):
        for a in range(m):
            reach = rng.lognormal(6.5, 0.8, posts)
            mu = rate * reach * np.exp(rng.normal(0, 0.5) + (0 if effect is None else effect[d]))
            y = rng.negative_binomial(2.0, 2.0 / (2.0 + mu))
            if d in zero_groups:
                y = np.zeros_like(y)
            rows.append(pd.DataFrame({"department": f"D{d}", "account": f"D{d}-a{a}", "comments": y,
                                      "reach": reach}))
    return pd.concat(rows, ignore_index=True)


def _log_rates(data):
    g = data.groupby("account", sort=True).agg(y=("comments", "sum"), e=("reach", "sum"),
                                               dept=("department", "first"))
    g["l"] = np.log((g["y"] + 0.5) / g["e"])
    return g


def test_statistic_and_contrasts_match_scipy_and_statsmodels():
    data = _posts([3, 4, 2], seed=1)
    res = tk.cluster_level_comparison(data, dv="comments", between="department", subject="account",
                                      exposure="reach", seed=1)
    g = _log_rates(data)
    groups = [g.loc[g["dept"] == d, "l"].to_numpy() for d in ("D0", "D1", "D2")]
    f_ref = stats.f_oneway(*groups)           # reference: scipy.stats.f_oneway on the account log rates
    row = res.omnibus.iloc[0]
    assert row["statistic"] == pytest.approx(f_ref.statistic, rel=1e-12)
    assert (row["df_between"], row["df_within"], row["n"], row["n_groups"]) == (2, 6, 9, 3)
    # reference: statsmodels OLS of l on department dummies; its contrasts use the same pooled variance and df
    import statsmodels.formula.api as smf
    ols = smf.ols("l ~ C(dept)", data=g.reset_index()).fit()
    for _, c in res.pairwise.iterrows():
        a, b = c["group_a"], c["group_b"]
        vec = np.zeros(3)
        names = list(ols.params.index)
        if a != "D0":
            vec[names.index(f"C(dept)[T.{a}]")] += 1
        if b != "D0":
            vec[names.index(f"C(dept)[T.{b}]")] -= 1
        tt = ols.t_test(vec)
        assert np.log(c["estimate"]) == pytest.approx(float(tt.effect[0]), rel=1e-10)
        assert c["statistic"] == pytest.approx(float(tt.tvalue[0][0]), rel=1e-10)
        assert c["p_value"] == pytest.approx(float(tt.pvalue), rel=1e-9)
        lo, hi = tt.conf_int(alpha=0.05)[0]
        assert np.log(c["estimate_ci_low"]) == pytest.approx(lo, rel=1e-9)
        assert np.log(c["estimate_ci_high"]) == pytest.approx(hi, rel=1e-9)
        assert c["df"] == 6
    np.testing.assert_allclose(res.pairwise["p_adjusted"], tk.adjust_pvalues(res.pairwise["p_value"].to_numpy()))


def test_two_departments_equal_a_pooled_two_sample_t_test():
    data = _posts([3, 5], seed=2)
    res = tk.cluster_level_comparison(data, dv="comments", between="department", subject="account",
                                      exposure="reach", seed=1)
    g = _log_rates(data)
    ref = stats.ttest_ind(g.loc[g.dept == "D0", "l"], g.loc[g.dept == "D1", "l"], equal_var=True)
    row = res.pairwise.iloc[0]
    assert row["statistic"] == pytest.approx(ref.statistic, rel=1e-12)
    assert row["p_value"] == pytest.approx(ref.pvalue, rel=1e-10)


def test_exact_permutation_p_value_equals_brute_force_enumeration():
    data = _posts([2, 3, 2], seed=3, effect=[0.8, 0.0, 0.0])
    res = tk.cluster_level_comparison(data, dv="comments", between="department", subject="account",
                                      exposure="reach", seed=1)
    assert "exact: all 210 assignments" in res.omnibus["method"].iloc[0]
    g = _log_rates(data)
    l, labels = g["l"].to_numpy(), g["dept"].to_numpy()

    def f_stat(lab):
        return stats.f_oneway(*[l[lab == d] for d in ("D0", "D1", "D2")]).statistic

    observed = f_stat(labels)
    # reference: every distinct relabelling of the 7 accounts (itertools, independent of the module's enumerator)
    null = [f_stat(np.array(p)) for p in set(itertools.permutations(labels))]
    assert len(null) == 210
    expected = np.mean(np.array(null) >= observed * (1 - 1e-9))
    assert res.omnibus["p_value"].iloc[0] == pytest.approx(expected, rel=1e-12)


def test_monte_carlo_permutation_agrees_with_scipy_permutation_test():
    data = _posts([6, 6, 6], seed=4, effect=[0.3, 0.0, -0.2])
    res = tk.cluster_level_comparison(data, dv="comments", between="department", subject="account",
                                      exposure="reach", n_resamples=4999, seed=5)
    assert "Monte Carlo" in res.omnibus["method"].iloc[0]
    g = _log_rates(data)
    samples = [g.loc[g.dept == d, "l"].to_numpy() for d in ("D0", "D1", "D2")]
    ref = stats.permutation_test(samples, lambda *s: stats.f_oneway(*s).statistic, permutation_type="independent",
                                 n_resamples=4999, alternative="greater", rng=np.random.default_rng(9))
    p, q = res.omnibus["p_value"].iloc[0], ref.pvalue
    se = np.sqrt(2 * q * (1 - q) / 5000) + 1e-3
    assert abs(p - q) < 4 * se


def test_min_p_value_and_the_plain_statement_when_no_result_can_be_significant():
    assert cluster._min_p([2, 2]) == pytest.approx(2 / 6)
    assert cluster._min_p([2, 2, 2, 2]) == pytest.approx(24 / 2520)
    assert cluster._min_p([1, 1, 1]) == 1.0
    data = _posts([2, 2], seed=5, effect=[3.0, 0.0])
    with pytest.warns(ToolkitWarning, match="cannot produce a p-value below"):
        res = tk.compare_groups(data, dv="comments", between="department", subject="account", exposure="reach",
                                seed=1)
    assert res.analysis == "cluster_level" and res.omnibus["p_value"].iloc[0] >= 2 / 6 - 1e-12
    assert any("no department difference can be significant" in r for r in res.reasons)
    flag = res.design.set_index("check").loc["smallest achievable p-value"]
    assert bool(flag["flag"]) and flag["value"] == pytest.approx(1 / 3)


def test_one_account_per_department_gives_no_department_level_test():
    data = _posts([1, 1, 1, 1], seed=6)
    direct = tk.cluster_level_comparison(data, dv="comments", between="department", subject="account",
                                         exposure="reach", seed=1)
    assert not direct.identifiable
    assert direct.omnibus["p_value"].isna().all() and direct.pairwise["p_value"].isna().all()
    assert direct.pairwise["estimate_ci_low"].isna().all()
    with pytest.warns(ToolkitWarning, match="cannot be told apart"):
        res = tk.compare_groups(data, dv="comments", between="department", subject="account", exposure="reach",
                                seed=1)
    assert res.identifiable is False
    assert "cannot be told apart" in res.reasons[0] and "not departments in general" in res.reasons[0]
    assert res.unit == "post (describes these 4 accounts only)"
    # the tables compare the accounts, never the departments
    assert set(res.omnibus["between"]) == {"account"} and set(res.pairwise["between"]) == {"account"}
    assert "cannot be told apart" in res.report()


@pytest.mark.parametrize("how", ["same column", "copied column"])
def test_between_equal_to_subject_compares_these_accounts(how):
    data = _posts([1, 1, 1], seed=7)
    between = "account"
    if how == "copied column":
        data = data.assign(agency=data["account"].str.upper())
        between = "agency"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ToolkitWarning)
        res = tk.compare_groups(data, dv="comments", between=between, subject="account", exposure="reach", seed=1)
    assert res.identifiable is False and "these 3 accounts" in res.unit
    assert res.omnibus["p_value"].notna().all()   # a comparison of these accounts is possible


def test_comparing_accounts_without_subject_does_not_cry_pseudo_replication():
    data = _posts([1, 1, 1], seed=8)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ToolkitWarning)
        res = tk.compare_groups(data, dv="comments", between="account", exposure="reach", seed=1)
    assert res.unit == "post"


def test_some_single_account_departments_are_named():
    data = _posts([1, 3, 3], seed=9)
    with pytest.warns(ToolkitWarning, match="single account"):
        res = tk.compare_groups(data, dv="comments", between="department", subject="account", exposure="reach",
                                seed=1)
    assert res.identifiable and res.analysis == "cluster_level"
    assert any("'D0'" in r and "single account" in r for r in res.reasons)
    assert res.omnibus["df_within"].iloc[0] == 4


def test_mean_path_refuses_single_account_departments_with_a_plain_message():
    data = _posts([1, 3, 3], seed=10)
    with pytest.raises(ValueError, match="single account in \\['D0'\\]"):
        tk.compare_groups(data, dv="comments", between="department", subject="account", seed=1)


def test_a_department_without_events_is_named_and_finite():
    data = _posts([3, 3, 3], seed=11, zero_groups=(2,))
    with pytest.warns(ToolkitWarning, match="0 events in 36 posts"):
        res = tk.compare_groups(data, dv="comments", between="department", subject="account", exposure="reach",
                                seed=1)
    pw = res.pairwise
    assert np.isfinite(pw[["estimate", "estimate_ci_low", "estimate_ci_high"]].to_numpy(float)).all()
    assert (pw["estimate"] > 1e-6).all()
    assert int(res.group_rates.set_index("group").loc["D2", "zero_event_subjects"]) == 3


def test_many_departments_are_compared_with_the_grand_mean():
    data = _posts([2] * 60, seed=12, posts=4)
    res = tk.cluster_level_comparison(data, dv="comments", between="department", subject="account",
                                      exposure="reach", seed=1, n_resamples=999)
    assert len(res.pairwise) == 60 and set(res.pairwise["group_b"]) == {"grand mean"}
    g = _log_rates(data)
    means = g.groupby("dept")["l"].mean()
    row = res.pairwise.set_index("group_a").loc["D7"]
    assert np.log(row["estimate"]) == pytest.approx(means["D7"] - means.mean(), rel=1e-10)
    assert any("grand mean" in n for n in res.notes)


def test_compare_groups_uses_the_cluster_level_analysis_for_nested_counts():
    org = tk.simulate_organization(n_accounts_per_department=3, departments=["Marketing", "PR", "IT"],
                                   mixed_share=0.0, seed=3)
    res = tk.compare_groups(org.data, dv="comments", between="department", subject="account", exposure="reach",
                            seed=1)
    direct = tk.cluster_level_comparison(org.data, dv="comments", between="department", subject="account",
                                         exposure="reach", seed=1)
    assert res.analysis == "cluster_level" and res.unit == "account"
    pd.testing.assert_frame_equal(res.omnibus, direct.omnibus)
    pd.testing.assert_frame_equal(res.pairwise, direct.pairwise)
    assert list(res.pairwise.columns) == list(tk.stats.schema.PAIRWISE_COLUMNS)
    assert "Permutation test across accounts of comments by department: F(2, 6)" in res.report()


def test_explicit_glmm_with_few_accounts_warns_plainly():
    org = tk.simulate_organization(n_accounts_per_department=3, departments=["Marketing", "PR", "IT"],
                                   mixed_share=0.0, seed=3)
    with pytest.warns(ToolkitWarning, match="find department differences that do not exist"):
        res = tk.compare_groups(org.data, dv="comments", between="department", subject="account",
                                exposure="reach", analysis="count_model", seed=1)
    assert res.analysis == "count_model"


def test_input_errors_say_what_and_how():
    data = _posts([2, 2], seed=13)
    crossed = data.copy()
    crossed.loc[0, "department"] = "D1"
    with pytest.raises(ValueError, match="nested in `between`"):
        tk.cluster_level_comparison(crossed, dv="comments", between="department", subject="account")
    with pytest.raises(ValueError, match="a count"):
        tk.cluster_level_comparison(data.assign(comments=data["comments"] + 0.5), dv="comments",
                                    between="department", subject="account")
    with pytest.raises(ValueError, match="strictly positive"):
        tk.cluster_level_comparison(data.assign(reach=0.0), dv="comments", between="department",
                                    subject="account", exposure="reach")
    with pytest.raises(ValueError, match="Comparing accounts themselves"):
        tk.cluster_level_comparison(data, dv="comments", between="account", subject="account")
    gap = data.copy()
    gap.loc[3, "comments"] = np.nan
    with pytest.raises(ValueError, match="nan_policy='omit'"):
        tk.cluster_level_comparison(gap, dv="comments", between="department", subject="account")
    res = tk.cluster_level_comparison(gap, dv="comments", between="department", subject="account",
                                      nan_policy="omit")
    assert res.omnibus["n_dropped"].iloc[0] == 1
