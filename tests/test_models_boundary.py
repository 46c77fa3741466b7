"""NB2 at the Poisson boundary: stable log-likelihood, theta = inf, the overdispersion test, false positives.

Reference values in tests/reference/models_boundary/ (MASS::glm.nb, pscl::odTest; see the README there) and
60+-digit decimal arithmetic for the special-function differences. All simulated data are labelled SIMULATED
with their seeds.
"""
from __future__ import annotations

import importlib.util
import math
import os
import warnings
from decimal import Context, Decimal, MAX_EMAX, MIN_EMIN
from fractions import Fraction
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose
from scipy import special, stats

import toolkit as tk
from toolkit._validation import ToolkitWarning
from toolkit.models import fit_engagement_model, glm
from toolkit.models.fit import overdispersion_lr_test
from toolkit.models.glmm import fit_glmm
from _r_output import read_r_csv  # noqa: E402  (tests/ is on sys.path)

REF = Path(__file__).parent / "reference" / "models_boundary"
requires_mirror = pytest.mark.skipif(not os.environ.get("TOOLKIT_DATA_MIRROR"),
                                     reason="real datasets need TOOLKIT_DATA_MIRROR (make test sets it)")
BOUNDARY = "no overdispersion beyond Poisson"

_spec = importlib.util.spec_from_file_location("_boundary_sim", REF / "make_simulated.py")
_sim = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_sim)
simulate_poisson_no_effect = _sim.simulate_poisson_no_effect


def _fit(data, **kw):
    return fit_engagement_model(data, dv="comments", between="department", exposure="reach", **kw)


def _quiet_fit(data, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ToolkitWarning)
        return _fit(data, **kw)


# ------------------------------------------------------------------ high-precision references (decimal)
_PI = Decimal("3.14159265358979323846264338327950288419716939937510582097494459230781640628620899862803")


@lru_cache(maxsize=None)
def _bernoulli(m: int) -> Fraction:
    """Bernoulli number B_m (B_1 = -1/2 convention; only even m are used)."""
    a = [Fraction(0)] * (m + 1)
    for j in range(m + 1):
        a[j] = Fraction(1, j + 1)
        for k in range(j, 0, -1):
            a[k - 1] = k * (a[k - 1] - a[k])
    return a[0] if m != 1 else Fraction(-1, 2)


def _ctx(theta: float) -> Context:
    digits = 60 + 2 * max(0, int(math.log10(max(theta, 1.0))))
    return Context(prec=digits, Emax=MAX_EMAX, Emin=MIN_EMIN)


def _shift(z: Decimal, ctx: Context) -> int:
    return max(0, 40 - int(z))


def _dec_lgamma(z: Decimal, ctx: Context) -> Decimal:
    """log Gamma(z), z > 0: recurrence up to z >= 40, then Stirling's series with 30 Bernoulli terms."""
    n = _shift(z, ctx)
    prod = Decimal(1)
    for k in range(n):
        prod = ctx.multiply(prod, ctx.add(z, k))
    x = ctx.add(z, n)
    s = ctx.subtract(ctx.multiply(ctx.subtract(x, Decimal("0.5")), ctx.ln(x)), x)
    s = ctx.add(s, ctx.divide(ctx.ln(ctx.multiply(2, _PI)), 2))
    for k in range(1, 31):
        b = _bernoulli(2 * k)
        term = ctx.divide(Decimal(b.numerator), ctx.multiply(Decimal(b.denominator * 2 * k * (2 * k - 1)),
                                                             ctx.power(x, 2 * k - 1)))
        s = ctx.add(s, term)
    return ctx.subtract(s, ctx.ln(prod))


def _dec_polygamma(order: int, z: Decimal, ctx: Context) -> Decimal:
    """digamma (order 0) or trigamma (order 1) by recurrence to z >= 40 and the asymptotic series."""
    n = _shift(z, ctx)
    x = ctx.add(z, n)
    if order == 0:
        s = ctx.subtract(ctx.ln(x), ctx.divide(1, ctx.multiply(2, x)))
        for k in range(1, 31):
            b = _bernoulli(2 * k)
            s = ctx.subtract(s, ctx.divide(Decimal(b.numerator),
                                           ctx.multiply(Decimal(b.denominator * 2 * k), ctx.power(x, 2 * k))))
        for k in range(n):
            s = ctx.subtract(s, ctx.divide(1, ctx.add(z, k)))
        return s
    s = ctx.add(ctx.divide(1, x), ctx.divide(1, ctx.multiply(2, ctx.multiply(x, x))))
    for k in range(1, 31):
        b = _bernoulli(2 * k)
        s = ctx.add(s, ctx.divide(Decimal(b.numerator), ctx.multiply(Decimal(b.denominator), ctx.power(x, 2 * k + 1))))
    for k in range(n):
        s = ctx.add(s, ctx.divide(1, ctx.power(ctx.add(z, k), 2)))
    return s


def _ref_D(y: int, theta: float) -> float:
    ctx = _ctx(theta)
    t, yd = Decimal(theta), Decimal(y)
    return float(ctx.subtract(ctx.subtract(_dec_lgamma(ctx.add(yd, t), ctx), _dec_lgamma(t, ctx)),
                              ctx.multiply(yd, ctx.ln(t))))


def _ref_E(y: int, theta: float) -> float:
    ctx = _ctx(theta)
    t, yd = Decimal(theta), Decimal(y)
    return float(ctx.subtract(ctx.subtract(_dec_polygamma(0, ctx.add(yd, t), ctx), _dec_polygamma(0, t, ctx)),
                              ctx.divide(yd, t)))


def _ref_T(y: int, theta: float) -> float:
    ctx = _ctx(theta)
    t, yd = Decimal(theta), Decimal(y)
    return float(ctx.add(ctx.subtract(_dec_polygamma(1, ctx.add(yd, t), ctx), _dec_polygamma(1, t, ctx)),
                         ctx.divide(yd, ctx.multiply(t, t))))


THETAS = [1e-3, 0.37, 2.5, 9.999, 10.0, 47.3, 1e3, 1e6, 1e8, 1e12, 1e17, 1e30, 1e100, 1e300]
YS = [0, 1, 2, 3, 7, 50, 1000, 20000, 1_000_000]


def test_decimal_reference_is_itself_right():
    # the reference against exact identities: D(y, theta) = sum_{k<y} log1p(k/theta) and psi(y+1) - psi(1) = H_y
    for theta in (0.37, 47.3, 1e6):
        exact = math.fsum(math.log1p(k / theta) for k in range(50))
        assert abs(_ref_D(50, theta) - exact) <= 1e-13 * max(1.0, exact)
    ctx = _ctx(1.0)
    harmonic = float(sum(Fraction(1, k) for k in range(1, 51)))
    assert _ref_E(50, 1.0) + 50.0 == pytest.approx(harmonic, rel=1e-15)
    assert float(_dec_lgamma(Decimal(10), ctx)) == pytest.approx(math.log(362880.0), rel=1e-15)


@pytest.mark.parametrize("theta", THETAS)
def test_lgamma_ratio_is_accurate_for_every_theta(theta):
    # D(y, theta) = gammaln(y + theta) - gammaln(theta) - y log(theta): the direct difference has an error of
    # order eps * theta * log(theta) (about 10 at theta = 1e17); ours stays at rounding level.
    y = np.array(YS, dtype=float)
    ours = glm.lgamma_ratio(y, theta)
    ref = np.array([_ref_D(int(v), theta) for v in YS])
    assert ours[0] == 0.0
    assert np.all(np.abs(ours - ref) <= 1e-12 * np.maximum(1e-3, np.abs(ref))), (theta, ours - ref)


@pytest.mark.parametrize("theta", THETAS[:-2])        # E, T ~ 1/theta^2, 1/theta^3: underflow beyond 1e100
def test_digamma_and_trigamma_differences_are_accurate(theta):
    y = np.array(YS[1:], dtype=float)
    E, T = glm.digamma_ratio(y, theta), glm.trigamma_ratio(y, theta)
    E_ref = np.array([_ref_E(int(v), theta) for v in y])
    T_ref = np.array([_ref_T(int(v), theta) for v in y])
    # y = 1: both are exactly 0 (psi(theta + 1) - psi(theta) = 1/theta); allow rounding of their pieces
    scale_e = np.abs(E_ref) + (1.0 / theta ** 2 if theta >= 10 else abs(float(special.digamma(theta))) + 1.0 / theta)
    scale_t = np.abs(T_ref) + (1.0 / theta ** 3 if theta >= 10 else 1.0 / theta ** 2)
    assert np.all(np.abs(E - E_ref) <= 1e-12 * scale_e), (theta, E - E_ref)
    assert np.all(np.abs(T - T_ref) <= 1e-12 * scale_t), (theta, T - T_ref)


# ---------------------------------------------------------------------- the Poisson limit of the NB2 loglik
def _grid(seed=20261126, n=400, overdispersed=True, mu_max=200.0):
    rng = np.random.default_rng(seed)  # SIMULATED: counts and means for the likelihood checks
    mu = np.exp(rng.uniform(np.log(1e-4), np.log(mu_max), n))
    y = rng.poisson(mu * (rng.gamma(2.0, 0.5, n) if overdispersed else 1.0)).astype(float)
    return y, np.log(mu)


@pytest.mark.parametrize("theta", [1e8, 1e10, 1e12, 1e14, 1e17, 1e20, 1e50, 1e100, 1e300])
def test_nb_loglik_tends_to_the_poisson_loglik(theta):
    # Poisson counts (SIMULATED, means up to 20): the NB2 log-likelihood equals the Poisson one to 1e-8 relative
    # or better (the difference is about sum((y - mu)^2 - y) / (2 theta), mean 0 here)
    y, eta = _grid(overdispersed=False, mu_max=20.0)
    l_nb = np.sum(glm.nb_loglik_terms(y, eta, np.log(theta)))
    l_p = np.sum(glm.poisson_loglik_terms(y, eta))
    assert l_nb <= 0 and l_p <= 0
    assert abs(l_nb - l_p) <= 1e-8 * abs(l_p)
    # overdispersed counts: the difference is the O(1/theta) term of Lawless (1987), not rounding noise: the NB2
    # value exceeds the Poisson one for the same mu only by sum((y - mu)^2 - y) / (2 theta) + O(1/theta^2)
    y, eta = _grid()
    mu = np.exp(eta)
    l_nb = np.sum(glm.nb_loglik_terms(y, eta, np.log(theta)))
    l_p = np.sum(glm.poisson_loglik_terms(y, eta))
    first_order = np.sum((y - mu) ** 2 - y) / (2.0 * theta)
    assert l_nb <= 0 and first_order > 0
    assert abs((l_nb - l_p) - first_order) <= 1e-14 * abs(l_p) + 1e8 / theta / theta


def test_nb_loglik_is_a_log_probability_on_a_wide_grid():
    y = np.array([0, 1, 2, 5, 30, 400, 10_000], dtype=float)[:, None] * np.ones((1, 9))
    mu = np.array([1e-8, 1e-3, 0.1, 1.0, 3.0, 40.0, 500.0, 1e4, 2e5])[None, :] * np.ones((7, 1))
    y, eta = y.ravel(), np.log(mu.ravel())
    for theta in [1e-3, 0.5, 2.0, 9.99, 10.0, 1e3, 1e8, 1e17, 1e300]:
        ll = glm.nb_loglik_terms(y, eta, np.log(theta))
        assert np.all(np.isfinite(ll)) and np.all(ll <= 0.0), theta
        # sums of probabilities: sum_y f(y) = 1 for one mean (up to the truncated tail)
        ks = np.arange(0, 4000, dtype=float)
        total = math.fsum(np.exp(glm.nb_loglik_terms(ks, np.full(ks.size, np.log(3.0)), np.log(theta))))
        tail = stats.nbinom.sf(3999, theta, theta / (theta + 3.0)) if theta < 1e8 else 0.0
        assert total + tail == pytest.approx(1.0, abs=1e-12), theta


def test_theta_score_and_hessian_match_finite_differences_of_the_loglik():
    y, eta = _grid(n=60)
    for theta in [0.8, 9.0, 11.0, 300.0, 1e5]:
        f = lambda t: math.fsum(glm.nb_loglik_terms(y, eta, np.log(t)))  # noqa: E731
        h = theta * 1e-4
        s = float(np.sum(glm.theta_score_terms(y, eta, np.log(theta))))
        d2 = float(np.sum(glm.theta_hessian_terms(y, eta, np.log(theta))))
        assert s == pytest.approx((f(theta + h) - f(theta - h)) / (2 * h), rel=1e-6, abs=1e-12)
        g = lambda t: float(np.sum(glm.theta_score_terms(y, eta, np.log(t))))  # noqa: E731
        assert d2 == pytest.approx((g(theta + h) - g(theta - h)) / (2 * h), rel=1e-6, abs=1e-14)


# --------------------------------------------------------------------------- the reviewer's scenario
@pytest.fixture(scope="module")
def boundary_data():
    # SIMULATED, seed 20261124 (tests/reference/models_boundary/make_simulated.py): Poisson counts, no effect
    return pd.read_csv(REF / "simulated_poisson_seed20261124.csv")


def test_committed_simulation_is_the_generator_output(boundary_data):
    again = simulate_poisson_no_effect(np.random.default_rng(20261124))
    pd.testing.assert_frame_equal(boundary_data[["department", "reach", "comments"]], again,
                                  check_dtype=False)


def test_poisson_data_put_theta_at_its_boundary(boundary_data):
    with pytest.warns(ToolkitWarning, match=BOUNDARY):
        m = _fit(boundary_data)
    p = _fit(boundary_data, family="poisson")
    fs = m.fit_statistics.iloc[0]
    assert fs["theta"] == np.inf and bool(fs["converged"])
    assert fs["loglik"] <= 0 and m.loglik == pytest.approx(p.loglik, rel=1e-14)
    assert_allclose(m.coefficients["estimate"], p.coefficients["estimate"], rtol=1e-13)
    assert_allclose(m.coefficients["std_error"], p.coefficients["std_error"], rtol=1e-13)
    # the likelihood-ratio test of department: finite, equal to the Poisson one (both fits at the boundary)
    assert m.raw["fit_without_between"]["theta_at_boundary"]
    assert m.test["test"].tolist() == ["likelihood_ratio", "overdispersion"]
    assert np.isfinite(m.test["statistic"].iloc[0])
    assert m.test["statistic"].iloc[0] == pytest.approx(p.test["statistic"].iloc[0], rel=1e-12)
    assert m.test["p_value"].iloc[0] == pytest.approx(p.test["p_value"].iloc[0], rel=1e-12)
    od = m.test.iloc[1]
    assert od["statistic"] == 0.0 and od["p_value"] == 1.0 and od["df"] == 1.0


def test_boundary_fit_agrees_with_r(boundary_data):
    ref = read_r_csv(REF / "boundary_reference.csv").set_index("dataset").loc["simulated_poisson_seed20261124"]
    coef = read_r_csv(REF / "simulated_poisson_seed20261124_poisson_coef.csv")
    m = _quiet_fit(boundary_data)
    assert m.loglik == pytest.approx(ref["loglik_poisson"], rel=1e-12)
    assert_allclose(m.coefficients["estimate"], coef["estimate"], rtol=1e-8)
    assert_allclose(m.coefficients["std_error"], coef["std_error"], rtol=1e-8)
    assert m.test["statistic"].iloc[0] == pytest.approx(ref["lrt_poisson"], rel=1e-9)
    # MASS::glm.nb stops at a finite theta (33,120, "iteration limit reached") below the supremum
    assert ref["theta_nb"] < 1e6 and "iteration limit" in ref["warnings_nb"]
    assert m.loglik >= ref["loglik_nb"] and m.loglik >= ref["loglik_poisson"] - 1e-10


def test_boundary_in_the_full_model_only_gives_the_nb_likelihood_ratio():
    # SIMULATED, seed 20261123: theta at the boundary with department, interior (about 919) without it
    data = pd.read_csv(REF / "simulated_poisson_seed20261123.csv")
    ref = read_r_csv(REF / "boundary_reference.csv").set_index("dataset").loc["simulated_poisson_seed20261123"]
    with pytest.warns(ToolkitWarning, match=BOUNDARY):
        m = _fit(data)
    p = _fit(data, family="poisson")
    fit0 = m.raw["fit_without_between"]
    assert m.fit_statistics["theta"].iloc[0] == np.inf and not fit0["theta_at_boundary"]
    assert fit0["loglik"] == pytest.approx(ref["loglik_nb_reduced"], rel=1e-12)
    assert fit0["theta"] == pytest.approx(ref["theta_nb_reduced"], rel=1e-5)   # MASS: alternation limit
    lr = m.test["statistic"].iloc[0]
    assert lr == pytest.approx(2 * (p.loglik - fit0["loglik"]), rel=1e-12)
    assert 0 < lr < p.test["statistic"].iloc[0]             # the NB reduced model fits better than Poisson's


def test_count_logliks_are_never_positive_and_theta_never_runs_off():
    # SIMULATED near-Poisson counts (seeds 1..12) with huge exposures: the setting of the +24,897 loglik
    for seed in range(1, 13):
        d = simulate_poisson_no_effect(np.random.default_rng(seed), rate=0.05)
        m = _quiet_fit(d)
        fs = m.fit_statistics.iloc[0]
        assert fs["loglik"] <= 0
        assert fs["theta"] == np.inf or fs["theta"] <= glm.THETA_MAX
        assert np.isfinite(m.test["statistic"]).all() and m.test["statistic"].iloc[0] < 40


def test_converged_is_false_when_the_iterations_run_out(boundary_data):
    d = boundary_data
    X = np.column_stack([np.ones(len(d))] + [(d["department"] == k).to_numpy(float) for k in ("PR", "IT", "Sales")])
    y, off = d["comments"].to_numpy(float), np.log(d["reach"].to_numpy(float))
    assert glm.fit_glm(y, X, off, "negbin")["converged"]
    assert not glm.fit_glm(y, X, off, "negbin", max_iter=1)["converged"]
    assert not glm.fit_glm(y, X, off, "poisson", max_iter=1)["converged"]


# ------------------------------------------------------------------------------------ false positives
def test_false_positive_rate_of_the_department_test_on_poisson_data():
    """200 SIMULATED replicates (SeedSequence(20261125)) of Poisson data with no department effect.

    Bound: 0.075 is Bradley's (1978) liberal limit 1.5 alpha for alpha = 0.05; we add 2 Monte-Carlo standard
    errors at that rate (2 sqrt(0.075 * 0.925 / 200) = 0.037), so a test of size 0.05 fails this check with
    probability < 1e-4, while the reviewer's measured 0.43 (theta running off to 1e16) fails it with certainty.
    The boundary-aware overdispersion test gets the same bound; under H0 its p-value is 1 whenever theta is
    at the boundary and at most 1/2 otherwise.
    """
    n_rep = 200
    bound = 0.075 + 2 * math.sqrt(0.075 * 0.925 / n_rep)
    rejections = od_rejections = at_boundary = 0
    for child in np.random.SeedSequence(20261125).spawn(n_rep):
        m = _quiet_fit(simulate_poisson_no_effect(np.random.default_rng(child)))
        t = m.test
        assert t["test"].tolist() == ["likelihood_ratio", "overdispersion"]
        rejections += t["p_value"].iloc[0] < 0.05
        od_rejections += t["p_value"].iloc[1] < 0.05
        if m.fit_statistics["theta"].iloc[0] == np.inf:
            at_boundary += 1
            assert t["p_value"].iloc[1] == 1.0 and t["statistic"].iloc[1] == 0.0
        else:
            assert 0 < t["p_value"].iloc[1] <= 0.5
        assert m.loglik <= 0
    assert rejections / n_rep <= bound
    assert od_rejections / n_rep <= bound
    # Self & Liang: about half of the ML estimates sit on the boundary under H0 (measured: 0.64 here)
    assert 0.3 <= at_boundary / n_rep <= 0.9


# -------------------------------------------------------------------------------- overdispersion test
def test_overdispersion_p_value_is_the_chi_bar_squared_mixture():
    for lr in [1e-9, 0.3, 2.7055, 10.0, 60.0]:
        row = overdispersion_lr_test(-100.0, -100.0 - lr / 2)
        assert row["statistic"] == pytest.approx(lr, rel=1e-6)
        assert row["p_value"] == pytest.approx(0.5 * stats.chi2.sf(lr, 1), rel=1e-6)
        assert row["p_value"] <= 0.5
    assert overdispersion_lr_test(-100.0, -100.0)["p_value"] == 1.0
    assert overdispersion_lr_test(-100.0, -99.0)["statistic"] == 0.0                # floored at 0
    # the 5 % critical value of the mixture is the 10 % point of chi2_1
    assert overdispersion_lr_test(0.0, -stats.chi2.ppf(0.90, 1) / 2)["p_value"] == pytest.approx(0.05)


def test_overdispersion_test_detects_nb_data():
    rng = np.random.default_rng(20261127)  # SIMULATED: NB2 counts with theta = 1, no department effect
    d = simulate_poisson_no_effect(rng)
    mu = 0.003 * d["reach"].to_numpy(float)
    d["comments"] = rng.negative_binomial(1.0, 1.0 / (1.0 + mu))
    m = _fit(d)
    p = _fit(d, family="poisson")
    od = m.test.iloc[1]
    assert od["test"] == "overdispersion" and np.isfinite(m.fit_statistics["theta"].iloc[0])
    assert od["statistic"] == pytest.approx(2 * (m.loglik - p.loglik), rel=1e-12)
    assert od["p_value"] < 1e-10
    assert m.fit_statistics["theta"].iloc[0] == pytest.approx(1.0, rel=0.35)


@requires_mirror
def test_overdispersion_statistic_matches_pscl_odtest():
    fb = pd.read_csv(Path(os.environ["TOOLKIT_DATA_MIRROR"]) / "uci_facebook_metrics" / "dataset_Facebook.csv", sep=";")
    fb = fb.rename(columns={"Lifetime Post Total Reach": "reach", "comment": "comments"})
    ref = read_r_csv(REF / "boundary_reference.csv").set_index("dataset").loc["uci_facebook_metrics"]
    m = fit_engagement_model(fb, dv="comments", between="Type", exposure="reach")
    od = m.test.iloc[1]
    assert od["statistic"] == pytest.approx(ref["od_statistic"], rel=1e-9)
    assert od["p_value"] == pytest.approx(ref["od_p_value"], abs=1e-300)   # both underflow to 0
    assert m.test["statistic"].iloc[0] == pytest.approx(ref["lrt_nb"], rel=1e-6)


def test_only_the_nb_glm_gets_the_overdispersion_row_and_row_0_stays_the_department_test(boundary_data):
    sim = tk.simulate_organization(n_accounts_per_department=4, posts_per_account=20, seed=11)
    d = sim.data
    glm_nb = _quiet_fit(d)
    assert glm_nb.test["test"].tolist() == ["likelihood_ratio", "overdispersion"]
    assert len(_quiet_fit(d, family="poisson").test) == 1
    assert len(_quiet_fit(d, subject="account").test) == 1
    with pytest.warns(ToolkitWarning):
        res = tk.compare_groups(d, dv="comments", between="department", exposure="reach", analysis="count_model",
                                n_resamples=99, seed=1)
    assert res.omnibus["statistic"].item() == pytest.approx(glm_nb.test["statistic"].iloc[0], rel=1e-12)
    assert "Likelihood-ratio test" in tk.report(glm_nb.test).splitlines()[0]


# ------------------------------------------------------------------------------------- the NB GLMM
def _poisson_glmm_data(seed):
    rng = np.random.default_rng(seed)  # SIMULATED: Poisson given the account effect (SD 0.4), no dept effect
    rows = []
    for dept in ["Marketing", "PR", "IT", "Sales"]:
        for a in range(6):
            reach = np.round(rng.lognormal(np.log(1000.0), 1.0, 40)) + 1
            u = rng.normal(0.0, 0.4)
            rows.append(pd.DataFrame({"department": dept, "account": f"{dept}-{a}", "reach": reach,
                                      "comments": rng.poisson(0.003 * reach * np.exp(u))}))
    return pd.concat(rows, ignore_index=True)


def test_nb_glmm_at_the_boundary_reports_the_poisson_glmm():
    d = _poisson_glmm_data(7)
    with pytest.warns(ToolkitWarning, match=BOUNDARY):
        m = _fit(d, subject="account")
    p = _fit(d, subject="account", family="poisson")
    fs = m.fit_statistics.iloc[0]
    assert fs["theta"] == np.inf and bool(fs["converged"]) and fs["loglik"] <= 0
    assert m.loglik == pytest.approx(p.loglik, rel=1e-10)
    assert_allclose(m.coefficients["estimate"], p.coefficients["estimate"], rtol=1e-5, atol=1e-7)
    assert_allclose(m.coefficients["std_error"], p.coefficients["std_error"], rtol=1e-5)
    assert fs["random_intercept_sd"] == pytest.approx(p.fit_statistics["random_intercept_sd"].iloc[0], rel=1e-5)
    assert m.test["statistic"].iloc[0] == pytest.approx(p.test["statistic"].iloc[0], rel=1e-6)
    assert m.raw["fit_without_between"]["theta_at_boundary"]


def test_nb_glmm_keeps_the_better_model_and_theta_bound():
    d = _poisson_glmm_data(7)
    design = tk.models._design.build_design(d, dv="comments", between="department", exposure="reach",
                                            subject="account")
    nb = fit_glmm(design.y, design.X, design.offset, design.groups, "negbin")
    po = fit_glmm(design.y, design.X, design.offset, design.groups, "poisson")
    assert nb["theta_at_boundary"] and nb["theta"] == np.inf
    assert nb["loglik"] >= nb["negbin_at_bound"]["loglik"] - 1e-8 * abs(nb["loglik"])
    assert nb["negbin_at_bound"]["log_theta"] <= glm.LOG_THETA_MAX + 1e-12
    assert nb["loglik"] == pytest.approx(po["loglik"], rel=1e-10)
    # NB data: interior theta, the NB2 model kept
    rng = np.random.default_rng(20261128)  # SIMULATED NB2 counts, theta = 2
    mu = np.exp(design.X @ po["beta"] + design.offset + po["modes"][design.groups])
    y = rng.negative_binomial(2.0, 2.0 / (2.0 + mu)).astype(float)
    nb2 = fit_glmm(y, design.X, design.offset, design.groups, "negbin")
    assert not nb2["theta_at_boundary"] and 0.5 < nb2["theta"] < 10 and nb2["converged"]


def test_nb_glmm_keeps_nb_and_flags_it_when_the_poisson_refit_is_worse(monkeypatch):
    # force the Poisson GLMM refit at the boundary to look worse than the NB2 fit at the theta bound
    from toolkit.models import glmm
    real = glmm._fit_glmm_once

    def worse_poisson(*args, **kw):
        out = real(*args, **kw)
        if args[4] == "poisson":
            out = dict(out, loglik=out["loglik"] - 1.0)
        return out

    monkeypatch.setattr(glmm, "_fit_glmm_once", worse_poisson)
    d = _poisson_glmm_data(7)
    design = tk.models._design.build_design(d, dv="comments", between="department", exposure="reach",
                                            subject="account")
    nb = fit_glmm(design.y, design.X, design.offset, design.groups, "negbin")
    assert not nb["theta_at_boundary"] and not nb["converged"]
    assert nb["log_theta"] >= glm.LOG_THETA_MAX - 1e-6 and np.isfinite(nb["theta"])
