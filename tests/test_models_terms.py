"""Tests per term (toolkit.models.term_tests / EngagementModel.terms): definitions checked by direct refits.

R agreement (drop1, car::Anova, glm.nb refits) is in tests/test_models_formula.py. The data here are SIMULATED by
tk.simulate_organization with the seeds given in each test (true rate ratios: the simulator's defaults).
"""
from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose
from scipy import stats

import toolkit as tk
from toolkit.models import fit_engagement_model, term_tests
from toolkit.models.fit import _fit

FORMULA = "comments ~ department * content_type + offset(log(reach))"


def _sim(seed, n_accounts=5, departments=("Marketing", "PR", "IT")):
    return tk.simulate_organization(n_accounts_per_department=n_accounts, posts_per_account=30, seed=seed,
                                    departments=list(departments), mixed_share=0.0).data


@pytest.fixture(scope="module")
def glm():
    return fit_engagement_model(_sim(21), formula=FORMULA)


def _loglik(model, keep):
    d = model.raw["design"]
    return _fit(d, d.X[:, keep], model.settings["family"], "model", 1, hessian=False)["loglik"]


def _cols(model, *names):
    d = model.raw["design"]
    return [j for t in d.terms if t["name"] in names for j in t["columns"]]


def test_terms_table_shape_and_vocabulary(glm):
    t = glm.terms
    assert list(t.columns) == ["term", "test", "type", "statistic", "df", "p_value", "method"]
    assert t["term"].tolist() == ["department", "content_type", "department:content_type"]
    assert (t["test"] == "likelihood_ratio").all() and (t["type"] == "II").all()
    assert_allclose(t["df"], [2, 3, 6])
    assert_allclose(t["p_value"], stats.chi2.sf(t["statistic"], t["df"]))


def test_likelihood_ratio_type_ii_and_iii_are_the_stated_refits(glm):
    p = glm.raw["design"].X.shape[1]
    inter = set(_cols(glm, "department:content_type"))
    dept = set(_cols(glm, "department"))
    additive = [j for j in range(p) if j not in inter]
    t2 = glm.terms.set_index("term")
    # interaction (type II = III = drop1): full model against the additive one
    assert_allclose(t2.at["department:content_type", "statistic"], 2 * (glm.loglik - _loglik(glm, additive)),
                    rtol=1e-10)
    # department, type II: the additive model against the one without department
    no_dept = [j for j in additive if j not in dept]
    assert_allclose(t2.at["department", "statistic"], 2 * (_loglik(glm, additive) - _loglik(glm, no_dept)),
                    rtol=1e-10)
    # type III: the full model without the department columns only (the effect at the reference content type)
    t3 = term_tests(glm, type="III").set_index("term")
    keep = [j for j in range(p) if j not in dept]
    assert_allclose(t3.at["department", "statistic"], 2 * (glm.loglik - _loglik(glm, keep)), rtol=1e-10)
    assert "CAUTION" in t3.at["department", "method"]
    assert "CAUTION" not in t3.at["department:content_type", "method"]


def test_wald_type_iii_is_the_coefficient_wald_test(glm):
    b = glm.raw["fit"]["beta"]
    V = glm.raw["vcov"]
    t3 = term_tests(glm, test="wald", type="III").set_index("term")
    for term in ("department", "content_type", "department:content_type"):
        c = _cols(glm, term)
        w = b[c] @ np.linalg.solve(V[np.ix_(c, c)], b[c])
        assert_allclose(t3.at[term, "statistic"], w, rtol=1e-10)
    # without relatives the type II and III Wald tests coincide
    t2 = term_tests(glm, test="wald", type="II").set_index("term")
    assert_allclose(t2.at["department:content_type", "statistic"], t3.at["department:content_type", "statistic"])


def test_additive_model_type_ii_equals_type_iii():
    m = fit_engagement_model(_sim(22), formula="comments ~ department + content_type + offset(log(reach))")
    for test in ("likelihood_ratio", "wald"):
        a = term_tests(m, test=test, type="II")
        b = term_tests(m, test=test, type="III")
        assert_allclose(a["statistic"], b["statistic"], rtol=1e-10)
    # the department row is the model's own test of `between`
    assert_allclose(m.terms["statistic"].iloc[0], m.test["statistic"].iloc[0], rtol=1e-10)


def test_numeric_covariate_interaction_marginality():
    d = _sim(23).assign(log_audience=lambda x: np.log(x["audience"]))
    m = fit_engagement_model(d, formula="comments ~ department * log_audience + offset(log(reach))")
    t = m.terms.set_index("term")
    assert t.index.tolist() == ["department", "log_audience", "department:log_audience"]
    assert "without department:log_audience" in t.at["log_audience", "method"]


def test_cluster_robust_terms_are_htz_wald():
    m = fit_engagement_model(_sim(24), formula="comments ~ department + content_type + offset(log(reach))",
                             subject="account", cov_type="cluster")
    t = m.terms
    assert (t["test"] == "wald").all()
    assert_allclose(t["statistic"].iloc[0], m.test["statistic"].iloc[0], rtol=1e-10)
    assert "HTZ" in t["method"].iloc[0]
    with pytest.raises(ValueError, match="'wald' for a cluster-robust fit"):
        term_tests(m, test="likelihood_ratio")


def test_glmm_terms_carry_the_few_accounts_caveat():
    m = fit_engagement_model(_sim(25, n_accounts=4), formula="comments ~ department + content_type"
                             " + offset(log(reach)) + (1|account)")
    with pytest.warns(tk.ToolkitWarning, match="department .as few as 4 account"):   # once, on first access
        t = m.terms.set_index("term")
    assert "CAUTION" in t.at["department", "method"] and "cluster_level_comparison" in t.at["department", "method"]
    assert "CAUTION" not in t.at["content_type", "method"]


def test_term_tests_refusals(glm):
    with pytest.raises(ValueError, match="`type` must be one of"):
        term_tests(glm, type="I")
    with pytest.raises(ValueError, match="`test` must be one of"):
        term_tests(glm, test="score")
    d = _sim(26)
    d.loc[d["department"] == "IT", "comments"] = 0
    with pytest.warns(tk.ToolkitWarning, match="0 events"):
        m = fit_engagement_model(d, formula="comments ~ department + content_type + offset(log(reach))")
    with pytest.raises(ValueError, match="all finite"):
        term_tests(m)


def test_cluster_robust_test_of_between_includes_its_interactions():
    m = fit_engagement_model(_sim(27, n_accounts=6), formula=FORMULA, subject="account", cov_type="cluster")
    assert m.test["df"].iloc[0] == 2 + 6          # department (2) and department:content_type (6)
    assert "and its interactions (department:content_type)" in m.test["method"].iloc[0]
