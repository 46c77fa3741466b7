"""Tests for toolkit.models GLMs (Poisson, NB2) against R (tests/reference/models/, see README there)."""
from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from toolkit import ToolkitWarning
from numpy.testing import assert_allclose

import toolkit as tk
from toolkit.models import fit_engagement_model
from _r_output import read_r_csv, thai_with_sellers  # noqa: E402  (tests/ is on sys.path)


requires_mirror = pytest.mark.skipif(not os.environ.get("TOOLKIT_DATA_MIRROR"),
                                     reason="real datasets need TOOLKIT_DATA_MIRROR (make test sets it)")

REF = Path(__file__).parent / "reference" / "models"


def _mirror() -> Path:
    return Path(os.environ["TOOLKIT_DATA_MIRROR"])


def _facebook() -> pd.DataFrame:
    fb = pd.read_csv(_mirror() / "uci_facebook_metrics" / "dataset_Facebook.csv", sep=";")
    return fb.rename(columns={"Lifetime Post Total Reach": "reach", "comment": "comments"})


def _ref(name) -> pd.DataFrame:
    return read_r_csv(REF / name)


@pytest.fixture(scope="module")
def fb_nb():
    if not os.environ.get("TOOLKIT_DATA_MIRROR"):
        pytest.skip("needs TOOLKIT_DATA_MIRROR")
    return fit_engagement_model(_facebook(), dv="comments", between="Type", exposure="reach")


@pytest.fixture(scope="module")
def fb_poisson():
    if not os.environ.get("TOOLKIT_DATA_MIRROR"):
        pytest.skip("needs TOOLKIT_DATA_MIRROR")
    return fit_engagement_model(_facebook(), dv="comments", between="Type", exposure="reach", family="poisson")


# --- agreement with R -----------------------------------------------------------------------------
@requires_mirror
@pytest.mark.parametrize("which", ["negbin", "poisson"])
def test_glm_coefficients_match_r(which, fb_nb, fb_poisson):
    m = fb_nb if which == "negbin" else fb_poisson
    ref = _ref("fb_glmnb_coef.csv" if which == "negbin" else "fb_poisson_coef.csv")
    assert m.coefficients["term"].tolist() == ["Intercept", "Type[T.Photo]", "Type[T.Status]", "Type[T.Video]"]
    # 6 significant digits (MASS::glm.nb stops at its own tolerance 1e-8 on the deviance)
    assert_allclose(m.coefficients["estimate"], ref["estimate"], rtol=1e-6)
    assert_allclose(m.coefficients["std_error"], ref["std_error"], rtol=1e-6)
    assert_allclose(m.coefficients["statistic"], ref["statistic"], rtol=1e-6)
    assert_allclose(m.coefficients["p_value"], ref["p_value"], rtol=1e-4)  # far tails: z agrees to 1e-6


@requires_mirror
@pytest.mark.parametrize("which", ["negbin", "poisson"])
def test_glm_fit_statistics_match_r(which, fb_nb, fb_poisson):
    m = fb_nb if which == "negbin" else fb_poisson
    ref = _ref("fb_glm_fit.csv").set_index("model").loc["glm.nb" if which == "negbin" else "poisson"]
    fs = m.fit_statistics.iloc[0]
    assert fs["n"] == ref["n"] == 500
    assert_allclose([fs["loglik"], fs["aic"], fs["bic"]], [ref["loglik"], ref["aic"], ref["bic"]], rtol=1e-9)
    assert_allclose(m.loglik, ref["loglik"], rtol=1e-9)
    if which == "negbin":
        assert_allclose(fs["theta"], ref["theta"], rtol=1e-6)
        assert_allclose(m.raw["fit"]["theta_se"], ref["se_theta"], rtol=1e-5)
    else:
        assert np.isnan(fs["theta"])
    assert_allclose(m.test["statistic"].iloc[0], ref["lrt_statistic"], rtol=1e-6)
    assert m.test["df"].iloc[0] == ref["lrt_df"]
    assert m.test["test"].iloc[0] == "likelihood_ratio"


@requires_mirror
@pytest.mark.parametrize("which", ["negbin", "poisson"])
def test_emmeans_match_r(which, fb_nb, fb_poisson):
    m = fb_nb if which == "negbin" else fb_poisson
    ref = _ref("fb_glmnb_emmeans.csv" if which == "negbin" else "fb_poisson_emmeans.csv")
    e = m.emmeans
    assert e["group"].tolist() == ref["Type"].tolist()
    assert_allclose(e["rate"], ref.iloc[:, 1], rtol=1e-6)  # "response" (glm.nb) or "rate" (poisson)
    assert_allclose(e["std_error"], ref["SE"], rtol=1e-6)
    assert_allclose(e["ci_low"], ref["asymp.LCL"], rtol=1e-6)
    assert_allclose(e["ci_high"], ref["asymp.UCL"], rtol=1e-6)
    assert (e["unit"] == "comments per 1,000 reach").all()
    assert (e["exposure_at"] == 1000).all()


@requires_mirror
def test_pairwise_contrasts_match_r_holm(fb_nb):
    ref = _ref("fb_glmnb_pairs_holm.csv")
    c = fb_nb.contrasts
    assert (c["group_a"] + " / " + c["group_b"]).tolist() == ref["contrast"].tolist()
    assert_allclose(c["rate_ratio"], ref["ratio"], rtol=1e-6)
    assert_allclose(c["std_error"], ref["SE"], rtol=1e-6)
    assert_allclose(c["statistic"], ref["z.ratio"], rtol=1e-6)
    assert_allclose(c["p_adjusted"], ref["p.value"], rtol=1e-5)
    assert (c["p_adjust"] == "holm").all()
    assert (c["p_adjusted"] >= c["p_value"] - 1e-15).all()


@requires_mirror
def test_rate_ratios_are_exp_coefficients(fb_nb):
    rr = fb_nb.rate_ratios
    coef = fb_nb.coefficients.set_index("term")
    assert rr["reference"].unique().tolist() == ["Link"]
    assert_allclose(rr["rate_ratio"], np.exp(coef.loc[rr["term"], "estimate"]), rtol=1e-12)
    assert_allclose(rr["ci_low"], np.exp(coef.loc[rr["term"], "ci_low"]), rtol=1e-12)
    assert_allclose(rr["p_value"], coef.loc[rr["term"], "p_value"], rtol=1e-12)


@requires_mirror
@pytest.mark.parametrize("family,file", [("poisson", "thai_poisson_cluster_coef.csv"),
                                         ("negbin", "thai_glmnb_cluster_coef.csv")])
def test_cluster_robust_matches_r_sandwich(family, file):
    ref = _ref(file)
    with pytest.warns(ToolkitWarning, match="fewer than 4 effective degrees of freedom"):
        m = fit_engagement_model(thai_with_sellers(), dv="num_comments", between="status_type", subject="seller",
                                 family=family, cov_type="cluster")
    assert m.fit_statistics["model"].iloc[0] == "GLM"
    assert_allclose(m.coefficients["estimate"], ref["estimate"], rtol=1e-6)
    # the R reference is sandwich's HC1-type cluster covariance; cov_type="cluster" now reports CR2 (checked
    # against clubSandwich in tests/test_models_robust.py), so the HC1 estimator is compared directly
    from toolkit.models.glm import cluster_vcov
    hc1 = np.sqrt(np.diag(cluster_vcov(m.raw["fit"], m.raw["design"].groups)))
    assert_allclose(hc1, ref["std_error"], rtol=1e-5)


# --- behaviour ----------------------------------------------------------------------------------
def _toy(rng, n=300):
    dept = np.repeat(["Marketing", "PR", "HR"], n // 3)
    reach = rng.integers(200, 5000, size=dept.size)
    rate = np.select([dept == "Marketing", dept == "PR"], [0.01, 0.02], 0.015)
    y = rng.negative_binomial(2.0, 2.0 / (2.0 + rate * reach))
    return pd.DataFrame({"department": dept, "reach": reach, "comments": y,
                         "paid": rng.random(dept.size) < 0.3, "hour": rng.integers(0, 24, dept.size)})


def test_result_tables_are_tidy(rng):
    m = fit_engagement_model(_toy(rng), dv="comments", between="department", exposure="reach")
    for df in (m.coefficients, m.rate_ratios, m.contrasts, m.emmeans, m.test, m.fit_statistics):
        assert isinstance(df.index, pd.RangeIndex)
        assert all(c == c.lower() and " " not in c for c in df.columns)
    assert list(m.coefficients.columns) == ["term", "estimate", "std_error", "statistic", "p_value", "ci_low",
                                            "ci_high"]
    assert list(m.test.columns) == ["test", "statistic", "df", "p_value", "method"]
    assert len(m.contrasts) == 3 and len(m.emmeans) == 3
    with pytest.raises(dataclasses.FrozenInstanceError):
        m.loglik = 0.0
    assert "Rate ratios" in m._repr_html_() and "likelihood_ratio" in m.summary()
    assert m.to_frame().equals(m.coefficients)


def test_reference_level_and_covariates(rng):
    d = _toy(rng)
    m = fit_engagement_model(d, dv="comments", between="department", exposure="reach", reference="PR",
                             covar=["paid", "hour"])
    assert m.coefficients["term"].tolist() == ["Intercept", "department[T.Marketing]", "department[T.HR]",
                                               "paid[T.True]", "hour"]
    assert m.rate_ratios["reference"].unique().tolist() == ["PR"]
    # the true Marketing/PR ratio is 0.5
    rr = m.rate_ratios.set_index("group").loc["Marketing"]
    assert rr["ci_low"] < 0.5 < rr["ci_high"]


def test_options_change_values_not_columns(rng):
    d = _toy(rng)
    a = fit_engagement_model(d, dv="comments", between="department", exposure="reach")
    b = fit_engagement_model(d, dv="comments", between="department", family="poisson", p_adjust="none",
                             confidence_level=0.9)
    for name in ("coefficients", "rate_ratios", "contrasts", "emmeans", "test", "fit_statistics"):
        assert list(getattr(a, name).columns) == list(getattr(b, name).columns)
    assert (b.contrasts["p_adjusted"] == b.contrasts["p_value"]).all()
    assert (b.emmeans["unit"] == "comments per post").all()


def test_data_not_modified(rng):
    d = _toy(rng)
    before = d.copy()
    fit_engagement_model(d, dv="comments", between="department", exposure="reach")
    pd.testing.assert_frame_equal(d, before)


def test_poisson_recovers_known_rate_ratio(rng):
    n = 20000
    dept = rng.choice(["A", "B"], size=n)
    reach = rng.integers(100, 1000, size=n)
    y = rng.poisson(reach * np.where(dept == "B", 0.006, 0.004))
    m = fit_engagement_model(pd.DataFrame({"d": dept, "r": reach, "y": y}), dv="y", between="d", exposure="r",
                             family="poisson")
    rr = m.rate_ratios.iloc[0]
    assert rr["ci_low"] < 1.5 < rr["ci_high"]
    assert abs(rr["rate_ratio"] - 1.5) < 0.05


# --- errors -------------------------------------------------------------------------------------
def test_exposure_must_be_positive(rng):
    d = _toy(rng)
    d.loc[3, "reach"] = 0
    with pytest.raises(ValueError, match=r"`exposure` must be strictly positive.*1 value\(s\) <= 0"):
        fit_engagement_model(d, dv="comments", between="department", exposure="reach")


def test_missing_values_raise_or_are_dropped(rng):
    d = _toy(rng).astype({"reach": "float64"})
    d.loc[[1, 2], "reach"] = np.nan
    with pytest.raises(ValueError, match=r"free of missing values.*nan_policy='omit'"):
        fit_engagement_model(d, dv="comments", between="department", exposure="reach")
    m = fit_engagement_model(d, dv="comments", between="department", exposure="reach", nan_policy="omit")
    assert m.fit_statistics["n_dropped"].iloc[0] == 2
    assert m.fit_statistics["n"].iloc[0] == len(d) - 2


def test_rates_are_refused(rng):
    d = _toy(rng)
    d["rate"] = d["comments"] / d["reach"]
    with pytest.raises(ValueError, match=r"`dv` must be a count.*never model a rate"):
        fit_engagement_model(d, dv="rate", between="department")


def test_bad_options(rng):
    d = _toy(rng)
    with pytest.raises(ValueError, match=r"`family` must be one of"):
        fit_engagement_model(d, dv="comments", between="department", family="gaussian")
    with pytest.raises(ValueError, match=r"`cov_type` must be 'model' when `subject` is not given"):
        fit_engagement_model(d, dv="comments", between="department", cov_type="cluster")
    with pytest.raises(ValueError, match=r"`reference` must be a level"):
        fit_engagement_model(d, dv="comments", between="department", reference="Sales")
    with pytest.raises(ValueError, match=r"`between` must be the name of a column.*Did you mean 'department'"):
        fit_engagement_model(d, dv="comments", between="Department")
    with pytest.raises(TypeError, match=r"`data` must be a pandas.DataFrame"):
        fit_engagement_model(d["comments"], dv="comments", between="department")
    with pytest.raises(ValueError, match=r"`confidence_level`"):
        fit_engagement_model(d, dv="comments", between="department", confidence_level=95)


def test_mixed_membership_coding_recovers_truth():
    # truth: PR 2.0, IT 0.5 vs Marketing; a mixed "PR|IT" post has rate ratio sqrt(2.0 * 0.5) = 1 (geometric mean)
    sim = tk.simulate_organization(n_accounts_per_department={"Marketing": 30, "PR": 30, "IT": 30},
                                   posts_per_account=60, mixed_share=0.25, random_effect_sd=0.3,
                                   type_effect_sd=0.0, base_rates={"comments": 0.02},
                                   rate_ratios={"comments": {"PR": 2.0, "IT": 0.5}}, content_effects="null",
                                   paid_rate_ratio=1.0, seed=11)
    d = sim.data
    level = fit_engagement_model(d, dv="comments", between="department", exposure="reach", subject="account")
    assert "Mixed team" in level.emmeans["group"].tolist()
    memb = fit_engagement_model(d, dv="comments", between="department", exposure="reach", subject="account",
                                mixed="membership")
    assert "Mixed team" not in memb.emmeans["group"].tolist()
    X = memb.raw["design"].X
    names = memb.raw["design"].names
    row = d.index[(d["department"] == "Mixed team") & (d["co_departments"] == "PR|IT")][0]
    assert X[row, names.index("department[T.PR]")] == 0.5 and X[row, names.index("department[T.IT]")] == 0.5
    rr = memb.rate_ratios.set_index("group")
    coef = memb.coefficients.set_index("term")
    for dept, truth in (("PR", 2.0), ("IT", 0.5)):
        est, se = coef.loc[f"department[T.{dept}]", ["estimate", "std_error"]]
        assert abs(est - np.log(truth)) < 4 * se
        assert_allclose(rr.loc[dept, "rate_ratio"], truth, rtol=0.15)
    # one parameter fewer, and a much better fit: mixed posts behave as geometric means of their departments
    assert memb.loglik > level.loglik + 10


# --- diagnostics ----------------------------------------------------------------------------------
@requires_mirror
@pytest.mark.parametrize("trafo,row", [("nb1", 0), ("nb2", 1)])
def test_overdispersion_test_matches_aer(trafo, row):
    ref = _ref("fb_dispersiontest.csv").iloc[row]
    t = tk.models.overdispersion_test(_facebook(), dv="comments", between="Type", exposure="reach", trafo=trafo)
    # AER reports alpha of Var = (1 + alpha) mu (trafo = 1) or Var = mu + alpha mu^2 (trafo = 2)
    assert_allclose(t["alpha"].iloc[0], ref["alpha"], rtol=1e-6)
    assert_allclose(t["statistic"].iloc[0], ref["statistic"], rtol=1e-6)
    assert_allclose(t["p_value"].iloc[0], ref["p_value"], rtol=1e-5)


@requires_mirror
def test_rootogram_and_zero_check_match_r(fb_nb, fb_poisson):
    ref = _ref("fb_expected_frequencies.csv")
    for m, col in ((fb_nb, "expected_negbin"), (fb_poisson, "expected_poisson")):
        r = tk.models.rootogram(m, max_count=5)
        assert r["observed"].tolist() == ref["observed"].astype(int).tolist()
        assert_allclose(r["expected"], ref[col], rtol=1e-6)
        z = tk.models.zero_check(m)
        assert z["observed_zeros"].iloc[0] == 106
        assert_allclose(z["expected_zeros"].iloc[0], ref[col].iloc[0], rtol=1e-6)


def test_quantile_residuals_uniform_only_under_the_right_model(rng):
    n = 4000
    dept = rng.choice(["A", "B"], size=n)
    mu = np.where(dept == "A", 4.0, 8.0)
    y = rng.negative_binomial(1.5, 1.5 / (1.5 + mu))
    d = pd.DataFrame({"d": dept, "y": y})
    nb = fit_engagement_model(d, dv="y", between="d")
    po = fit_engagement_model(d, dv="y", between="d", family="poisson")
    res, test_nb = tk.models.quantile_residuals(nb, seed=1)
    _, test_po = tk.models.quantile_residuals(po, seed=1)
    assert res["pit"].between(0, 1).all() and len(res) == n
    assert test_nb["p_value"].iloc[0] > 0.01
    assert test_po["p_value"].iloc[0] < 1e-6
    a, _ = tk.models.quantile_residuals(nb, seed=3)
    b, _ = tk.models.quantile_residuals(nb, seed=3)
    pd.testing.assert_frame_equal(a, b)


def test_recommend_model_steps():
    sim = tk.simulate_organization(n_accounts_per_department=4, posts_per_account=40, random_effect_sd=0.8,
                                   mixed_share=0.0, seed=8)
    rec = tk.models.recommend_model(sim.data, dv="likes", between="department", exposure="reach",
                                    subject="account")
    assert rec.family == "negbin" and rec.subject == "account"
    assert rec.checks["check"].tolist() == ["overdispersion", "excess_zeros", "clustering"]
    assert "random intercept" in str(rec)
    with pytest.raises(TypeError, match=r"`model` must be an EngagementModel"):
        tk.models.zero_check(sim.data)


# --- zero-inflated and hurdle models ----------------------------------------------------------------
def _close_to_se(est, ref, se):
    est, ref, se = (np.asarray(v, dtype=float) for v in (est, ref, se))
    assert np.all(np.abs(est - ref) <= 1e-5 * np.abs(ref) + 1e-3 * se), np.abs(est - ref) / se


@pytest.mark.parametrize("family,model", [("zinb", "zeroinfl"), ("hurdle_negbin", "hurdle")])
def test_zero_models_match_pscl(family, model):
    d = pd.read_csv(REF / "simulated_zero_inflated.csv")
    d["department"] = pd.Categorical(d["department"], categories=["Marketing", "PR", "IT"])
    m = fit_engagement_model(d, dv="comments", between="department", exposure="reach", family=family)
    coef = _ref(f"simzi_{model}_negbin_coef.csv")
    fit = _ref("simzi_zero_models_fit.csv").set_index("model").loc[model]
    count = coef[(coef["part"] == "count") & (coef["term"] != "Log(theta)")]
    zero = coef[coef["part"] == "zero"].iloc[0]
    ours = m.coefficients
    assert ours["term"].tolist()[-1] == "zero[Intercept]"
    # pscl stops BFGS at reltol 1e-8: estimates agree to 5 significant digits or 1e-3 standard errors
    _close_to_se(ours["estimate"].iloc[:3], count["estimate"], count["std_error"])
    _close_to_se(ours["estimate"].iloc[3], zero["estimate"], zero["std_error"])
    assert_allclose(ours["std_error"].iloc[:3], count["std_error"], rtol=1e-4)
    assert_allclose(ours["std_error"].iloc[3], zero["std_error"], rtol=1e-4)
    fs = m.fit_statistics.iloc[0]
    assert_allclose(fs["loglik"], fit["loglik"], rtol=1e-9)
    assert fs["loglik"] >= fit["loglik"] - 1e-7
    assert_allclose(fs["theta"], fit["theta"], rtol=1e-5)
    assert_allclose(m.test["statistic"].iloc[0], fit["lrt_statistic"], rtol=1e-5)
    assert m.emmeans["unit"].str.endswith("(count component)").all()


@requires_mirror
def test_hurdle_matches_pscl_on_facebook():
    m = fit_engagement_model(_facebook(), dv="comments", between="Type", exposure="reach", family="hurdle_negbin")
    coef = _ref("fb_hurdle_negbin_coef.csv")
    count = coef[(coef["part"] == "count") & (coef["term"] != "Log(theta)")]
    _close_to_se(m.coefficients["estimate"].iloc[:4], count["estimate"], count["std_error"])
    assert_allclose(m.coefficients["std_error"].iloc[:4], count["std_error"], rtol=1e-4)
    ll_r = _ref("fb_zero_models_fit.csv").set_index("model").loc["hurdle", "loglik"]
    assert_allclose(m.loglik, ll_r, rtol=1e-9)
    assert m.loglik >= ll_r - 1e-7
