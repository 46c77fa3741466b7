"""Engine-level tests of toolkit.models.glmm with several random intercepts and zero parts (arrays in, no
formula parser): glmmTMB 1.1.5 / lme4 references in tests/reference/models_formula/ (README_engine.md)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose
from scipy import optimize

from toolkit.models.glmm import MAX_DENSE_LEVELS, JointLaplace, fit_glmm
from toolkit.models.zero import obs_derivs
from toolkit.models.glm import as_counts

REF = Path(__file__).parent / "reference" / "models_formula"


def _tmb(model) -> pd.DataFrame:
    ref = pd.read_csv(REF / "glmmtmb_engine.csv")
    return ref[ref["model"] == model].reset_index(drop=True)


def _codes(s) -> np.ndarray:
    return pd.factorize(s, sort=True)[0].astype(np.int64)


def _grouse():
    d = pd.read_csv(REF / "grouseticks.csv")
    n = len(d)
    # TICKS ~ YEAR + HEIGHT + (1 | BROOD) + (1 | LOCATION); YEAR a factor with levels 95 (reference), 96, 97
    X = np.column_stack([np.ones(n), d["YEAR"] == 96, d["YEAR"] == 97, d["HEIGHT"]]).astype(float)
    return d["TICKS"].to_numpy(float), X, np.zeros(n), [_codes(d["BROOD"]), _codes(d["LOCATION"])]


def _salamanders(cover=False):
    d = pd.read_csv(REF / "salamanders.csv")
    n = len(d)
    Xz = np.column_stack([np.ones(n), d["mined"] == "no"]).astype(float)      # minedno (R's level order)
    X = np.column_stack([Xz, d["cover"]]) if cover else Xz.copy()
    groups = [_codes(d["site"])] + ([_codes(d["spp"])] if cover else [])
    return d["count"].to_numpy(float), X, np.zeros(n), groups, Xz


def _nested():
    d = pd.read_csv(REF / "simulated_nested.csv")        # SIMULATED: make_nested.py (seeds and truth there)
    groups = [_codes(d["department"]), _codes(d["department"] + ":" + d["account"])]
    return d["comments"].to_numpy(float), np.ones((len(d), 1)), np.log(d["reach"].to_numpy(float)), groups


CASES = {
    # name: (data, family, glmmTMB model label, sign of the zero-part coefficients relative to glmmTMB)
    "grouse_poisson": (_grouse, "poisson", None),
    "grouse_nbinom2": (_grouse, "negbin", None),
    "nested_poisson": (_nested, "poisson", None),
    "nested_nbinom2": (_nested, "negbin", None),
    "sal_zinb": (_salamanders, "zinb", 1.0),
    "sal_zip": (_salamanders, "zip", 1.0),
    # glmmTMB's truncated_nbinom2 zero part models P(Y = 0), pscl's (and ours) P(Y > 0): opposite signs
    "sal_hurdle_nb": (_salamanders, "hurdle_negbin", -1.0),
    "sal_zinb_crossed": (lambda: _salamanders(cover=True), "zinb", 1.0),
}


def _fit_case(name):
    make, family, zsign = CASES[name]
    data = make()
    if zsign is None:
        y, X, off, groups = data
        return fit_glmm(y, X, off, groups, family), X.shape[1], 0, zsign
    y, X, off, groups, Xz = data
    return fit_glmm(y, X, off, groups, family, Xz=Xz), X.shape[1], Xz.shape[1], zsign


@pytest.fixture(scope="module")
def fits():
    return {name: _fit_case(name) for name in CASES}


def _objective(name):
    make, family, zsign = CASES[name]
    data = make()
    if zsign is None:
        y, X, off, groups = data
        return JointLaplace(y, X, off, groups, family), data
    y, X, off, groups, Xz = data
    return JointLaplace(y, X, off, groups, family, Xz), data


def _ref_par(name, p, qz, zsign):
    par = _tmb(name)["estimate"].to_numpy().copy()
    if zsign is not None:
        par[p:p + qz] *= zsign
    return par


@pytest.mark.parametrize("name", list(CASES))
def test_loglik_matches_glmmtmb(fits, name):
    fit, p, qz, zsign = fits[name]
    ref = _tmb(name)
    ll_ref = ref["loglik"].iloc[0]
    assert fit["converged"] and ref["convergence"].iloc[0] == 0
    assert abs(fit["loglik"] - ll_ref) < 1e-6                     # measured: <= 8e-10
    assert fit["loglik"] >= ll_ref - 1e-9                         # never a worse optimum than glmmTMB


@pytest.mark.parametrize("name", list(CASES))
def test_laplace_at_glmmtmb_estimates_is_glmmtmb_loglik(name):
    """The same function: our Laplace log-likelihood evaluated at glmmTMB's estimates is glmmTMB's logLik."""
    obj, _ = _objective(name)
    _, p, qz, zsign = _fit_case_shape(name)
    f, _ = obj.value_and_grad(_ref_par(name, p, qz, zsign), need_grad=False)
    assert_allclose(-f, _tmb(name)["loglik"].iloc[0], rtol=0, atol=1e-8)


def _fit_case_shape(name):
    make, family, zsign = CASES[name]
    data = make()
    return None, data[1].shape[1], (0 if zsign is None else data[4].shape[1]), zsign


@pytest.mark.parametrize("name", list(CASES))
def test_estimates_and_errors_match_glmmtmb(fits, name):
    fit, p, qz, zsign = fits[name]
    ref = _tmb(name)
    par_ref = _ref_par(name, p, qz, zsign)
    se_ref = ref["se"].to_numpy()
    se = np.sqrt(np.diag(fit["vcov_all"]))
    # the optimum is flat to ~1e-10 in log-likelihood: estimates agree to a small fraction of their SE
    assert np.all(np.abs(fit["par"] - par_ref) <= 1e-3 * se_ref), np.abs(fit["par"] - par_ref) / se_ref
    # glmmTMB's SEs come from optimHess (central differences of the gradient with step 1e-3): up to 1.3e-3
    # relative from ours on grouseticks (unscaled HEIGHT); see test_glmmtmb_standard_errors_are_optimhess
    assert_allclose(se, se_ref, rtol=2e-3)
    assert_allclose(fit["sigma"], np.exp(par_ref[-len(fit["sigma"]):]), rtol=1e-3)


@pytest.mark.parametrize("name", ["grouse_poisson", "grouse_nbinom2", "sal_zinb"])
def test_glmmtmb_standard_errors_are_optimhess(name):
    """Our analytic Laplace gradient differenced like stats::optimHess (ndeps = 1e-3) at glmmTMB's estimates
    gives glmmTMB's standard errors to 1e-8: the remaining SE differences are glmmTMB's difference step."""
    obj, _ = _objective(name)
    _, p, qz, zsign = _fit_case_shape(name)
    par = _ref_par(name, p, qz, zsign)
    k = par.size
    H = np.zeros((k, k))
    for j in range(k):
        e = np.zeros(k)
        e[j] = 1e-3
        H[:, j] = (obj.value_and_grad(par + e)[1] - obj.value_and_grad(par - e)[1]) / 2e-3
    se = np.sqrt(np.diag(np.linalg.inv((H + H.T) / 2)))
    sign = np.ones(k)
    assert_allclose(se * sign, _tmb(name)["se"].to_numpy(), rtol=1e-8)


@pytest.mark.parametrize("name", ["grouse_poisson", "nested_poisson"])
def test_poisson_at_least_lme4(fits, name):
    lme4 = pd.read_csv(REF / "lme4_engine.csv")
    ll = lme4.loc[lme4["model"] == name, "loglik"].iloc[0]
    fit = fits[name][0]
    # lme4 (bobyqa) stops 0.043 below glmmTMB on grouseticks (unscaled HEIGHT), 1.7e-7 below on the nested data
    assert fit["loglik"] >= ll - 1e-9
    beta = lme4.loc[(lme4["model"] == name) & lme4["se"].notna(), "estimate"].to_numpy()
    if name == "nested_poisson":
        assert_allclose(fit["beta"], beta, atol=1e-4)


def test_nested_recovers_simulated_truth(fits):
    fit = fits["nested_nbinom2"][0]
    # truth (make_nested.py): base rate 0.003 (log -5.81, times the departments' mean rate ratio), department
    # SD 0.4 (D01 fixed at rate ratio 1, so the log rate ratios are the 14 draws minus D01's), account SD
    # sqrt(0.3^2 + 0.1^2) = 0.32, theta 1.25: all within sampling error for 15 departments x 5 accounts
    assert 0.2 < fit["sigma"][0] < 0.8
    assert 0.15 < fit["sigma"][1] < 0.5
    assert 0.9 < fit["theta"] < 1.7


@pytest.mark.parametrize("family,zero", [("poisson", False), ("negbin", False), ("zinb", True), ("zip", True),
                                         ("hurdle_negbin", True), ("hurdle_poisson", True)])
def test_joint_gradient_is_the_derivative_of_the_laplace_loglik(family, zero):
    rng = np.random.default_rng(7)
    n = 300
    a, b = rng.integers(0, 25, n), rng.integers(0, 7, n)
    X = np.column_stack([np.ones(n), rng.normal(size=n)])
    y = rng.poisson(np.exp(0.6 + 0.3 * X[:, 1] + rng.normal(0, 0.5, 25)[a] + rng.normal(0, 0.3, 7)[b]))
    y = np.where(rng.random(n) < 0.2, 0, y).astype(float)
    Xz = X if zero else None
    obj = JointLaplace(y, X, np.zeros(n), [a, b], family, Xz)
    k = 2 + (2 if zero else 0) + (1 if "negbin" in family or family == "zinb" else 0) + 2
    par = np.r_[0.5, 0.2, [-1.0, 0.3][:2 if zero else 0], [0.4][:1 if k % 2 else 0], np.log(0.4), np.log(0.25)]
    assert par.size == k
    f, g = obj.value_and_grad(par)
    num = optimize.approx_fprime(par, lambda q: obj.value_and_grad(q, need_grad=False)[0], 1e-7)
    assert_allclose(g, num, rtol=1e-5, atol=1e-4)


@pytest.mark.parametrize("family", ["zinb", "zip", "hurdle_negbin", "hurdle_poisson", "negbin", "poisson"])
def test_observation_derivatives(family):
    rng = np.random.default_rng(0)
    n = 80
    y = as_counts(np.where(rng.random(n) < 0.4, 0, rng.poisson(3, n)).astype(float))
    eta, zeta, lt = rng.normal(1, 0.7, n), rng.normal(-0.5, 1, n), 0.3
    zeta = None if family in ("negbin", "poisson") else zeta
    lt = lt if family in ("zinb", "hurdle_negbin", "negbin") else None
    d = obs_derivs(y, eta, zeta, family, lt)
    h = 1e-6
    checks = [("eta", "ll", "l1"), ("eta", "l1", "l2"), ("eta", "l2", "l3")]
    checks += [("zeta", a, b) for a, b in (("ll", "z0"), ("l1", "z1"), ("l2", "z2"))] if zeta is not None else []
    checks += [("lt", a, b) for a, b in (("ll", "t0"), ("l1", "t1"), ("l2", "t2"))] if lt is not None else []
    for var, a, b in checks:
        args = {"eta": eta, "zeta": zeta, "lt": lt}
        up, dn = dict(args), dict(args)
        up[var] = args[var] + h
        dn[var] = args[var] - h
        num = (obs_derivs(y, up["eta"], up["zeta"], family, up["lt"])[a]
               - obs_derivs(y, dn["eta"], dn["zeta"], family, dn["lt"])[a]) / (2 * h)
        assert_allclose(num, d[b], rtol=1e-6, atol=1e-7, err_msg=f"d{a}/d{var}")


def test_one_term_as_list_is_the_factorised_engine():
    y, X, off, groups = _nested()
    one = fit_glmm(y, X, off, groups[1], "negbin")
    lst = fit_glmm(y, X, off, [groups[1]], "negbin")
    assert lst["loglik"] == one["loglik"]
    assert isinstance(lst["sigma"], np.ndarray) and lst["sigma"].shape == (1,) and isinstance(lst["modes"], list)
    # the joint engine with one term (used for zero parts) is the same Laplace approximation
    obj = JointLaplace(y, X, off, [groups[1]], "negbin")
    assert_allclose(-obj.value_and_grad(one["par"], need_grad=False)[0], one["loglik"], rtol=1e-12)


def test_zero_model_with_one_term_array_keeps_scalar_layout():
    y, X, off, groups, Xz = _salamanders()
    fit = fit_glmm(y, X, off, groups[0], "zinb", Xz=Xz)
    assert isinstance(fit["sigma"], float) and isinstance(fit["boundary"], bool)
    assert_allclose(fit["loglik"], _tmb("sal_zinb")["loglik"].iloc[0], atol=1e-6)
    assert fit["zero_beta"].shape == (2,) and fit["zero_vcov"].shape == (2, 2)


def test_variance_at_zero_is_reported_per_term():
    """SIMULATED (seed 1): the second crossed term has true SD 0 and its ML is on the boundary."""
    rng = np.random.default_rng(1)
    n = 600
    a, b = rng.integers(0, 30, n), rng.integers(0, 12, n)
    y = rng.poisson(np.exp(0.5 + rng.normal(0, 0.5, 30)[a])).astype(float)
    X = np.ones((n, 1))
    fit = fit_glmm(y, X, np.zeros(n), [a, b], "poisson")
    assert fit["boundary"].tolist() == [False, True] and fit["sigma"][1] == 0.0 and fit["converged"]
    one = fit_glmm(y, X, np.zeros(n), a, "poisson")
    assert_allclose(fit["loglik"], one["loglik"], atol=1e-6)
    assert_allclose(fit["beta"], one["beta"], atol=1e-5)
    assert np.isnan(fit["vcov_all"][-1, -1])
    assert_allclose(np.sqrt(fit["vcov"][0, 0]), np.sqrt(one["vcov"][0, 0]), rtol=1e-3)


def test_negbin_at_poisson_boundary_with_crossed_terms():
    """SIMULATED (seed 0): Poisson counts, two crossed terms; the NB2 ML runs to theta = inf and the result is the
    Poisson GLMM (seed 3, also Poisson, stops at a finite theta that fits at least as well as Poisson)."""
    def data(seed):
        rng = np.random.default_rng(seed)
        n = 800
        a, b = rng.integers(0, 20, n), rng.integers(0, 8, n)
        y = rng.poisson(np.exp(1.0 + rng.normal(0, 0.4, 20)[a] + rng.normal(0, 0.3, 8)[b])).astype(float)
        return y, np.ones((n, 1)), np.zeros(n), [a, b]
    nb, po = fit_glmm(*data(0), "negbin"), fit_glmm(*data(0), "poisson")
    assert nb["theta_at_boundary"] and nb["theta"] == np.inf and nb["family"] == "negbin" and nb["converged"]
    assert_allclose(nb["loglik"], po["loglik"], rtol=0, atol=1e-10)
    assert_allclose(nb["beta"], po["beta"], atol=1e-10)
    assert nb["negbin_at_bound"]["loglik"] <= po["loglik"] + 1e-6
    nb, po = fit_glmm(*data(3), "negbin"), fit_glmm(*data(3), "poisson")
    assert not nb["theta_at_boundary"] and nb["loglik"] >= po["loglik"] and np.isfinite(nb["theta"])


def test_refusals():
    y, X, off, groups = _nested()
    with pytest.raises(ValueError, match="n_agq"):
        fit_glmm(y, X, off, groups, "poisson", n_agq=5)
    with pytest.raises(ValueError, match="needs a zero family"):
        fit_glmm(y, X, off, groups, "poisson", Xz=np.ones((y.size, 1)))
    with pytest.raises(ValueError, match="`family` must be"):
        fit_glmm(y, X, off, groups, "gamma")
    with pytest.raises(ValueError, match="random slope"):
        fit_glmm(y, X, off, [groups[0], np.column_stack([groups[1], groups[1]])], "poisson")
    with pytest.raises(ValueError, match="integer codes"):
        fit_glmm(y, X, off, [groups[0], groups[1].astype(float)], "poisson")
    n = 2 * (MAX_DENSE_LEVELS + 500)
    big = np.arange(n) % (MAX_DENSE_LEVELS + 500)
    with pytest.raises(ValueError, match="at most 4000"):
        JointLaplace(np.ones(n), np.ones((n, 1)), np.zeros(n), [big, big[::-1].copy()], "poisson")


def test_sparse_cross_block_equals_dense():
    """SIMULATED (seed 11): 1,000 x 300 crossed levels use the sparse cross block; the dense one gives the same."""
    rng = np.random.default_rng(11)
    n = 6000
    a, b = rng.integers(0, 1000, n), rng.integers(0, 300, n)
    X = np.column_stack([np.ones(n), rng.normal(size=n)])
    y = rng.poisson(np.exp(0.3 + 0.2 * X[:, 1] + rng.normal(0, 0.4, 1000)[a] + rng.normal(0, 0.3, 300)[b]))
    sparse_obj = JointLaplace(y.astype(float), X, np.zeros(n), [a, b], "negbin")
    dense_obj = JointLaplace(y.astype(float), X, np.zeros(n), [a, b], "negbin")
    assert sparse_obj.c_sparse
    dense_obj.c_sparse = False
    par = np.array([0.3, 0.2, 1.0, np.log(0.4), np.log(0.3)])
    fs, gs = sparse_obj.value_and_grad(par)
    fd, gd = dense_obj.value_and_grad(par)
    assert_allclose(fs, fd, rtol=1e-12)
    assert_allclose(gs, gd, rtol=1e-8, atol=1e-8)


# ------------------------------------------------------------------------------------------ random slopes
def _tmb_slopes(model) -> pd.DataFrame:
    ref = pd.read_csv(REF / "glmmtmb_slopes.csv")
    return ref[ref["model"] == model].reset_index(drop=True)


def _slope_case(name):
    """Salamanders, count ~ mined + DOY with random slopes of DOY (slopes_reference.R)."""
    d = pd.read_csv(REF / "salamanders.csv")
    n = len(d)
    X = np.column_stack([np.ones(n), d["mined"] == "no", d["DOY"]]).astype(float)
    Xz = X[:, :2].copy()
    site, spp = _codes(d["site"]), _codes(d["spp"])
    Z = np.column_stack([np.ones(n), d["DOY"]])
    spec = {"sal_slope_poisson": ([(site, Z)], "poisson", None),          # (1 + DOY | site)
            "sal_slope_nbinom2": ([(site, Z)], "negbin", None),
            "sal_slope_diag_poisson": ([site, (site, d["DOY"].to_numpy())], "poisson", None),   # diag(1 + DOY | site)
            "sal_slope_rest_nbinom2": ([site, (spp, Z)], "negbin", None),  # (1 | site) + (1 + DOY | spp)
            "sal_slope_zinb": ([(site, Z)], "zinb", Xz)}[name]
    return d["count"].to_numpy(float), X, np.zeros(n), *spec


REGULAR_SLOPES = ["sal_slope_poisson", "sal_slope_diag_poisson", "sal_slope_rest_nbinom2"]
SINGULAR_SLOPES = ["sal_slope_nbinom2", "sal_slope_zinb"]


@pytest.fixture(scope="module")
def slope_fits():
    out = {}
    for name in REGULAR_SLOPES + SINGULAR_SLOPES:
        y, X, off, groups, family, Xz = _slope_case(name)
        out[name] = fit_glmm(y, X, off, groups, family, Xz=Xz)
    return out


@pytest.mark.parametrize("name", REGULAR_SLOPES)
def test_random_slopes_match_glmmtmb(slope_fits, name):
    fit, ref = slope_fits[name], _tmb_slopes(name)
    ll = ref["loglik"].iloc[0]
    assert fit["converged"] and not np.any(fit["boundary"]) and ref["convergence"].iloc[0] == 0
    assert ll - 1e-9 <= fit["loglik"] <= ll + 1e-6                 # measured: +3e-10 .. +7e-10
    se_ref = ref["se"].to_numpy()
    assert np.all(np.abs(fit["par"] - ref["estimate"].to_numpy()) <= 1e-3 * se_ref)
    assert_allclose(np.sqrt(np.diag(fit["vcov_all"])), se_ref, rtol=1e-4)
    y, X, off, groups, family, Xz = _slope_case(name)
    obj = JointLaplace(y, X, off, groups, family, Xz)
    assert_allclose(-obj.value_and_grad(ref["estimate"].to_numpy(), need_grad=False)[0], ll, rtol=0, atol=1e-8)


def test_random_slope_correlation_matches_varcorr(slope_fits):
    fit = slope_fits["sal_slope_poisson"]
    # glmmTMB VarCorr (slopes_reference_output.txt): SDs 0.5859337983 (Intercept), 0.1370017312 (DOY),
    # correlation -0.38580815
    assert_allclose(fit["re_sd"][0], [0.5859337983, 0.1370017312], rtol=1e-5)
    assert_allclose(fit["re_corr"][0], -0.38580815, rtol=1e-5)
    assert fit["modes"][0].shape == (23, 2)


@pytest.mark.parametrize("name", SINGULAR_SLOPES)
def test_singular_slope_covariance_is_a_boundary(slope_fits, name):
    """The intercept-slope correlation runs to -1: glmmTMB stops with convergence code 1 (false convergence);
    ours moves it to the bound (rho = -1 + 5.6e-6), reports the term at its boundary, and reaches at least
    glmmTMB's log-likelihood with the same fixed effects."""
    fit, ref = slope_fits[name], _tmb_slopes(name)
    assert ref["convergence"].iloc[0] == 1
    assert fit["boundary"].tolist() == [True]
    # NB2: a regular optimum in the other parameters. ZINB: the slope SD is 0.0034, its curvature (~1e-3) is at the
    # level of the numerical Hessian's noise with rho held at -1, so whether that Hessian comes out positive definite
    # (converged True) or not (False, as glmmTMB's code 1) depends on rounding (it differed between two runs of the
    # suite): only NB2's flag is asserted; for ZINB the optimum itself is checked below.
    if name == "sal_slope_nbinom2":
        assert fit["converged"]
    assert fit["max_grad"] < 1e-3
    assert fit["re_corr"][0] < -0.99999
    assert fit["loglik"] >= ref["loglik"].iloc[0] - 1e-9
    assert fit["loglik"] - ref["loglik"].iloc[0] < 1e-5             # measured: +2.4e-6 (NB2), +6.2e-7 (ZINB)
    p = 3 + (2 if name == "sal_slope_zinb" else 0)
    se_ref = ref["se"].to_numpy()[:p]
    assert np.all(np.abs(fit["par"][:p] - ref["estimate"].to_numpy()[:p]) <= 2e-3 * se_ref)
    assert np.isnan(fit["vcov_all"][-1, -1])        # the correlation is held at its bound


def test_lme4_random_slope_poisson_not_better(slope_fits):
    # lme4 glmer (bobyqa), same model: logLik -1099.4584449360123 (slopes_reference_output.txt)
    assert slope_fits["sal_slope_poisson"]["loglik"] >= -1099.4584449360123


@pytest.mark.parametrize("family,zero", [("poisson", False), ("negbin", False), ("zinb", True)])
def test_slope_gradient_is_the_derivative_of_the_laplace_loglik(family, zero):
    """SIMULATED (seed 7): slopes in the eliminated term, in the dense rest, and a lone slope (0 + x | g)."""
    rng = np.random.default_rng(7)
    n = 300
    a, b = rng.integers(0, 25, n), rng.integers(0, 7, n)
    x = rng.normal(size=n)
    X = np.column_stack([np.ones(n), x])
    y = rng.poisson(np.exp(0.6 + 0.3 * x + rng.normal(0, 0.5, 25)[a] + rng.normal(0, 0.3, 7)[b]
                           + rng.normal(0, 0.2, 25)[a] * x)).astype(float)
    Z = np.column_stack([np.ones(n), x])
    lead = np.r_[0.5, 0.2, [-1.0, 0.3][:2 if zero else 0], [0.4][:1 if family != "poisson" else 0]]
    for groups, cov in [([(a, Z), b], [np.log(0.4), np.log(0.2), 0.3, np.log(0.25)]),
                        ([a, (b, Z)], [np.log(0.4), np.log(0.3), np.log(0.2), -0.4]),
                        ([(a, x), b], [np.log(0.3), np.log(0.25)])]:
        obj = JointLaplace(y, X, np.zeros(n), groups, family, X if zero else None)
        par = np.r_[lead, cov]
        _, g = obj.value_and_grad(par)
        num = optimize.approx_fprime(par, lambda q: obj.value_and_grad(q, need_grad=False)[0], 1e-7)
        assert_allclose(g, num, rtol=1e-5, atol=1e-4)


def test_slope_refusals():
    y, X, off, groups, family, Xz = _slope_case("sal_slope_poisson")
    codes = groups[0][0]
    with pytest.raises(ValueError, match="more than two correlated columns"):
        fit_glmm(y, X, off, [(codes, np.ones((y.size, 3)))], "poisson")
    with pytest.raises(ValueError, match="finite n x 1 or n x 2"):
        fit_glmm(y, X, off, [(codes, np.full(y.size, np.nan))], "poisson")


# ------------------------------------------------------- the targets through the public front door
def test_front_door_grouseticks_crossed_matches_glmmtmb():
    import toolkit as tk
    d = pd.read_csv(REF / "grouseticks.csv")
    d["YEAR"] = pd.Categorical(d["YEAR"].astype(str), categories=["95", "96", "97"])
    for family, label in (("poisson", "grouse_poisson"), ("negbin", "grouse_nbinom2")):
        m = tk.fit_engagement_model(d, formula="TICKS ~ YEAR + HEIGHT + (1|BROOD) + (1|LOCATION)", family=family)
        ref = _tmb(label)
        assert abs(m.fit_statistics["loglik"].iloc[0] - ref["loglik"].iloc[0]) < 1e-6
        assert_allclose(m.coefficients["estimate"].to_numpy(), ref["estimate"].to_numpy()[:4],
                        atol=1e-3 * ref["se"].to_numpy()[:4].min())
        assert_allclose(m.coefficients["std_error"].to_numpy(), ref["se"].to_numpy()[:4], rtol=2e-3)


def test_front_door_salamanders_zero_inflated_matches_glmmtmb():
    import toolkit as tk
    d = pd.read_csv(REF / "salamanders.csv")
    d["mined"] = pd.Categorical(d["mined"], categories=["yes", "no"])
    for family, label in (("zinb", "sal_zinb"), ("zip", "sal_zip")):
        m = tk.fit_engagement_model(d, formula="count ~ mined + (1|site)", zero_formula="~ mined", family=family)
        ref = _tmb(label)
        assert abs(m.fit_statistics["loglik"].iloc[0] - ref["loglik"].iloc[0]) < 1e-6
        # coefficients: count part, then zero part (glmmTMB's betazi)
        assert_allclose(m.coefficients["estimate"].to_numpy(), ref["estimate"].to_numpy()[:4], atol=1e-4)
        assert_allclose(m.coefficients["std_error"].to_numpy(), ref["se"].to_numpy()[:4], rtol=1e-4)


def test_restart_when_lbfgs_stops_early():
    """SIMULATED (seed 5): a hurdle NB2 GLMM with a random slope on which one L-BFGS-B run stopped at a gradient of
    1.9 (its line search met points without a positive-definite joint Hessian); the restart reaches the optimum."""
    rng = np.random.default_rng(5)
    n = 400
    a, b = rng.integers(0, 40, n), rng.integers(0, 6, n)
    y = rng.poisson(np.exp(-1.0 + rng.normal(0, 1.5, 40)[a] + rng.normal(0, 0.5, 6)[b])).astype(float)
    y[a == 3] = 0
    y[b == 2] = 0
    X = np.column_stack([np.ones(n), rng.normal(size=n)])
    fit = fit_glmm(y, X, np.zeros(n), [(a, X.copy()), b], "hurdle_negbin", Xz=X)
    assert fit["converged"] and fit["max_grad"] < 1e-6
    assert np.all(np.linalg.eigvalsh(fit["hessian"]) > 0)
    assert fit["loglik"] > -481.5087 + 0.5        # the early stop's value
