"""A department without events (separation) gets finite, likelihood-based answers (toolkit/models/separation.py).

Reference: for Poisson counts without covariates the answers must equal the exact conditional binomial test
(doubled one-sided p, scipy.stats.binomtest) and the Clopper–Pearson upper limit (scipy.stats.beta), because
given the total, the zero department's count is Binomial(n, p) with p its share of the expected events.
All data are SIMULATED (seeds in the calls).
"""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import toolkit as tk
from toolkit import ToolkitWarning


def _posts(*, seed, n=40, dispersion=None, accounts=1):
    rng = np.random.default_rng(seed)
    d = pd.DataFrame({"department": np.repeat(["A", "B", "C"], n), "reach": rng.lognormal(6, 1, 3 * n)})
    mu = 0.01 * d["reach"].to_numpy()
    if dispersion is None:
        y = rng.poisson(mu)
    else:
        y = rng.negative_binomial(1 / dispersion, 1 / (1 + dispersion * mu))
    d["comments"] = y
    d.loc[d["department"] == "C", "comments"] = 0
    d["account"] = d["department"] + "-" + (np.arange(3 * n) % accounts).astype(str)
    return d


def _fit(d, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ToolkitWarning)
        return tk.models.fit_engagement_model(d, dv="comments", between="department", exposure="reach", **kw)


def test_poisson_zero_department_equals_the_exact_conditional_binomial():
    d = _posts(seed=1)
    with pytest.warns(ToolkitWarning, match="0 events in 40 posts"):
        m = tk.models.fit_engagement_model(d, dv="comments", between="department", exposure="reach",
                                           family="poisson")
    rr = m.rate_ratios.set_index("group").loc["C"]
    e_a, e_c = d.loc[d.department == "A", "reach"].sum(), d.loc[d.department == "C", "reach"].sum()
    n_a = int(d.loc[d.department == "A", "comments"].sum())
    p_upper = stats.beta.ppf(0.975, 1, n_a)              # Clopper–Pearson upper limit for 0 of n_a
    assert rr["rate_ratio"] == 0.0 and rr["ci_low"] == 0.0
    assert rr["ci_high"] == pytest.approx(p_upper / (1 - p_upper) * e_a / e_c, rel=1e-6)
    p0 = e_c / (e_a + e_c)
    assert rr["p_value"] == pytest.approx(min(1.0, 2 * stats.binomtest(0, n_a, p0, alternative="less").pvalue),
                                          rel=1e-6)


def test_contrast_with_the_zero_group_as_denominator_is_infinite_with_a_lower_limit():
    d = _posts(seed=2)
    m = _fit(d, family="poisson")
    con = m.contrasts
    row = con[(con.group_a == "A") & (con.group_b == "C")].iloc[0]
    back = m.rate_ratios.set_index("group").loc["C"]
    assert row["rate_ratio"] == np.inf and row["ci_high"] == np.inf
    assert row["ci_low"] == pytest.approx(1 / back["ci_high"], rel=1e-9)
    assert row["method"].startswith("profile likelihood")
    ok = con[(con.group_a == "A") & (con.group_b == "B")].iloc[0]
    assert ok["method"] == "Wald z" and np.isfinite(ok["std_error"])


@pytest.mark.parametrize("kw", [dict(family="negbin"), dict(family="negbin", subject="account")])
def test_negbin_and_glmm_give_finite_meaningful_answers(kw):
    d = _posts(seed=3, dispersion=0.5, accounts=4)
    m = _fit(d, **kw)
    rr = m.rate_ratios.set_index("group").loc["C"]
    assert rr["rate_ratio"] == 0.0 and 0 < rr["ci_high"] < 1 and 0 <= rr["p_value"] < 0.05
    emm = m.emmeans.set_index("group").loc["C"]
    assert emm["rate"] == 0.0 and np.isfinite(emm["ci_high"]) and emm["ci_high"] > 0
    assert all(np.isfinite(m.contrasts["p_adjusted"]))


def test_no_zero_group_leaves_the_wald_tables_alone():
    d = _posts(seed=4)
    d.loc[d.index[-1], "comments"] = 1
    m = _fit(d, family="poisson")
    assert set(m.contrasts["method"]) == {"Wald z"}
    assert np.isfinite(m.rate_ratios["statistic"]).all()


def test_a_zero_reference_is_replaced_with_a_plain_warning_and_cluster_errors_are_refused():
    d = _posts(seed=5)
    d["department"] = d["department"].map({"A": "B2", "B": "C2", "C": "A2"})   # the zero level sorts first
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        m = tk.models.fit_engagement_model(d, dv="comments", between="department", exposure="reach",
                                           family="poisson")
    texts = [str(w.message) for w in caught]
    assert any("first level 'A2' of 'department' has 0 events" in t for t in texts)
    assert any("'A2': 0 events in 40 posts" in t for t in texts)
    assert m.settings["reference"] == "B2"
    with pytest.raises(ValueError, match="has 0 events"):
        tk.models.fit_engagement_model(d, dv="comments", between="department", exposure="reach", family="poisson",
                                       reference="A2")
    d["account"] = d["department"] + (np.arange(len(d)) % 3).astype(str)
    with pytest.raises(ValueError, match="no cluster-robust standard error"):
        tk.models.fit_engagement_model(d, dv="comments", between="department", exposure="reach", family="poisson",
                                       subject="account", cov_type="cluster")
