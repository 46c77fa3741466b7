"""Between-account terms of a GLMM: the few-accounts caution of term_tests (toolkit.models.terms).

The rule: a term whose columns are constant within every group of a random intercept (department with
``(1|account)``, an account-level covariate, interactions of those) is informed only by differences between
those groups; with fewer than 15 groups per level its GLMM tests reject too often (measured in
benchmarks/bench_calibration_terms.py), so its method text says CAUTION and term_tests warns once. Terms that
vary within the groups (platform drawn per post, department:platform) carry no caution; neither do designs with
15 or more accounts per level, nor cluster-robust fits. False alarms fail these tests as much as missed ones.

All data here are SIMULATED by ``_simulate`` (seeds in each test; no true effect of anything: account SD 0.5,
NB2 dispersion 0.8, 0.01 comments per reach) -- the generator of benchmarks/bench_calibration_terms.py.
"""
from __future__ import annotations

import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
from numpy.testing import assert_allclose

import toolkit as tk
from toolkit.models import fit_engagement_model, term_tests
from toolkit.models._design import build_formula_design
from toolkit.models.terms import BETWEEN_TERM_FPR, _wald_matrix, between_group_terms

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from bench_calibration_terms import simulate  # noqa: E402

FORMULA = "comments ~ department * platform + offset(log(reach))"


def _simulate(k, m, seed):
    return simulate(k, m, "normal", np.random.default_rng(seed))


def _design(data, formula):
    return build_formula_design(data, formula=formula)


# ---- the rule on fixed designs (no fit) --------------------------------------------------------------------------

def test_department_is_between_platform_and_interaction_are_within():
    d = _simulate(3, 3, seed=1)
    found = between_group_terms(_design(d, FORMULA + " + (1|account)"))
    assert set(found) == {"department"}
    assert found["department"] == dict(grouping="account", fewest=3, unit="level", n_groups=9)


def test_unbalanced_departments_count_the_smallest():
    d = _simulate(3, 4, seed=2)
    d = d[d["account"] != "acc01"]                   # D1 keeps 3 accounts, D2 and D3 keep 4
    assert between_group_terms(_design(d, FORMULA + " + (1|account)"))["department"]["fewest"] == 3


def test_account_level_covariates_and_their_interactions_are_between():
    d = _simulate(2, 4, seed=3)
    size = {a: ("big" if i % 2 else "small") for i, a in enumerate(sorted(d["account"].unique()))}
    d["size"] = d["account"].map(size)
    d["log_followers"] = d["account"].map({a: float(i) for i, a in enumerate(sorted(d["account"].unique()))})
    found = between_group_terms(_design(d, "comments ~ department * size + platform + offset(log(reach))"
                                           " + (1|account)"))
    assert set(found) == {"department", "size", "department:size"}
    assert found["department:size"]["fewest"] == 2 and found["department"]["fewest"] == 4
    found = between_group_terms(_design(d, "comments ~ department + log_followers + platform"
                                           " + offset(log(reach)) + (1|account)"))
    assert set(found) == {"department", "log_followers"}
    # numeric: 8 accounts / (intercept + department + log_followers) = 2 per between-account coefficient
    assert found["log_followers"] == dict(grouping="account", fewest=2, unit="coefficient", n_groups=8)


def test_a_factor_fixed_per_account_is_between_even_if_called_platform():
    d = _simulate(2, 4, seed=4)
    d["platform"] = d["account"].map({a: ("facebook" if i % 2 else "instagram")
                                      for i, a in enumerate(sorted(d["account"].unique()))})
    assert set(between_group_terms(_design(d, FORMULA + " + (1|account)"))) == {"department", "platform",
                                                                               "department:platform"}


def test_a_grouping_the_term_varies_within_gives_no_caution():
    d = _simulate(2, 4, seed=5)
    d["week"] = np.arange(len(d)) % 6                 # weeks cut across departments and accounts
    assert between_group_terms(_design(d, FORMULA + " + (1|week)")) == {}
    found = between_group_terms(_design(d, FORMULA + " + (1|week) + (1|account)"))
    assert set(found) == {"department"} and found["department"]["grouping"] == "account"


def test_no_random_intercept_no_between_terms():
    d = _simulate(2, 4, seed=6)
    assert between_group_terms(_design(d, FORMULA)) == {}


# ---- the method text and the warning on fitted models --------------------------------------------------------------

def test_few_accounts_caution_and_one_warning():
    d = _simulate(3, 3, seed=7)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", tk.ToolkitWarning)      # the fit's own notes (e.g. SD at the boundary)
        m = fit_engagement_model(d, formula=FORMULA + " + (1|account)")
    for test in ("likelihood_ratio", "wald"):
        with pytest.warns(tk.ToolkitWarning) as record:
            t = term_tests(m, test=test).set_index("term")
        mine = [w for w in record if "constant within each account" in str(w.message)]
        assert len(mine) == 1 and "department (as few as 3 account(s) per level)" in str(mine[0].message)
        assert "platform" not in str(mine[0].message).split("are not affected")[0].split("inform")[0]
        dep = t.at["department", "method"]
        assert "CAUTION" in dep and "as few as 3 account(s)" in dep and "cov_type='cluster'" in dep
        rate = BETWEEN_TERM_FPR[test][2]
        assert f"false-positive rate {rate:.2f}" in dep and "4 departments x 2 account(s)" in dep
        assert "CAUTION" not in t.at["platform", "method"]
        assert "CAUTION" not in t.at["department:platform", "method"]


def test_one_account_per_level_says_it_cannot_be_told_apart():
    d = _simulate(4, 1, seed=8)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", tk.ToolkitWarning)
        m = fit_engagement_model(d, formula="comments ~ department + platform + offset(log(reach)) + (1|account)")
    with pytest.warns(tk.ToolkitWarning, match="as few as 1 account"):
        t = term_tests(m, test="wald").set_index("term")
    assert "cannot be told apart" in t.at["department", "method"]
    assert "CAUTION" not in t.at["platform", "method"]


def test_many_accounts_and_cluster_robust_fits_carry_no_caution():
    d = _simulate(2, 15, seed=9)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", tk.ToolkitWarning)
        m = fit_engagement_model(d, formula=FORMULA + " + (1|account)")
        c = fit_engagement_model(_simulate(3, 4, seed=10), formula=FORMULA, subject="account", cov_type="cluster")
    with warnings.catch_warnings():
        warnings.simplefilter("error", tk.ToolkitWarning)       # no warning from term_tests itself
        for table in (term_tests(m), term_tests(m, test="wald"), term_tests(c, test="wald")):
            assert not table["method"].str.contains("CAUTION").any()


def test_cluster_robust_type_ii_hypothesis_is_the_model_based_one():
    """The CR2 type II hypothesis is built in the metric of the model-based covariance (the same GLM fitted
    without clustering), not of the noisy CR2 covariance (anti-conservative: see bench_calibration_terms.py)."""
    d = _simulate(3, 4, seed=11)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", tk.ToolkitWarning)      # few-df notes of the CR2 fit
        c = fit_engagement_model(d, formula=FORMULA, subject="account", cov_type="cluster")
    g = fit_engagement_model(d, formula=FORMULA)
    beta = np.asarray(g.raw["fit"]["beta"])
    assert_allclose(np.asarray(c.raw["fit"]["beta"]), beta, rtol=1e-10)
    design = g.raw["design"]
    got = term_tests(c, test="wald", type="II").set_index("term")
    for name in ("department", "platform"):
        term = next(t for t in design.terms if t["name"] == name)
        L = _wald_matrix(term, list(design.terms), len(beta), np.asarray(g.raw["vcov"]), "II")
        htz = c.raw["cluster_robust"].wald_htz(beta, L)
        assert_allclose(got.at[name, "statistic"], htz["statistic"], rtol=1e-8)
        assert_allclose(got.at[name, "df"], htz["df_num"])
        wrong = c.raw["cluster_robust"].wald_htz(beta, _wald_matrix(term, list(design.terms), len(beta),
                                                                     np.asarray(c.raw["vcov"]), "II"))
        assert not np.isclose(got.at[name, "statistic"], wrong["statistic"], rtol=1e-6)


def test_measured_rates_are_filled_in():
    for test in ("likelihood_ratio", "wald"):
        assert all(0.0 <= v <= 1.0 for v in BETWEEN_TERM_FPR[test].values())


# ---- a small calibration check (a rate; slow) ------------------------------------------------------------------------

@pytest.mark.slow
def test_between_term_rejects_too_often_within_terms_do_not():
    """4 departments x 2 accounts, 60 SIMULATED null data sets (seeds 1000-1059): the department LR test rejects
    far more often than 5 % (0.265 in the benchmark's 200 replicates; a calibrated test gives >= 8 of 60 with
    probability ~ 0.01), platform does not (P(Bin(60, 0.05) > 8) ~ 0.007). Observed when written: 9 and 2."""
    dept = plat = 0
    for seed in range(1000, 1060):
        d = simulate(4, 2, "normal", np.random.default_rng(seed))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", tk.ToolkitWarning)
            t = term_tests(fit_engagement_model(d, formula=FORMULA + " + (1|account)")).set_index("term")
        dept += int(t.at["department", "p_value"] < 0.05)
        plat += int(t.at["platform", "p_value"] < 0.05)
        assert "CAUTION" in t.at["department", "method"] and "CAUTION" not in t.at["platform", "method"]
    assert dept >= 8
    assert plat <= 8


def test_row_0_caution_only_when_between_is_constant_within_the_groups():
    """model.test row 0 (the department test) cautions with few accounts per department, but not when the
    grouping is crossed with department (posts of every department in every week: within-week contrasts)."""
    import warnings

    import toolkit as tk
    sim = tk.simulate_organization(n_accounts_per_department=4, posts_per_account=30, seed=1,   # SIMULATED
                                   departments=["Marketing", "PR", "IT"], mixed_share=0.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", tk.ToolkitWarning)
        by_account = tk.models.fit_engagement_model(sim.data, dv="comments", between="department",
                                                    exposure="reach", subject="account")
        d = sim.data.assign(week=sim.data["posted_at"].dt.isocalendar().week.astype(str))
        by_week = tk.models.fit_engagement_model(d, formula="comments ~ department + offset(log(reach)) + (1|week)")
    assert "CAUTION" in by_account.test["method"].iloc[0]
    assert "CAUTION" not in by_week.test["method"].iloc[0]
