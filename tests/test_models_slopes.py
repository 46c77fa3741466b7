"""Random slopes by formula: ``(1 + x|g)``, ``(x|g)``, ``(0 + x|g)``, ``(x||g)`` against glmmTMB.

Reference values: tests/reference/models_formula/slopes_reference.R, its verbatim output
slopes_reference_output.txt and glmmtmb_slopes.csv (glmmTMB 1.1.5 on glmmTMB::Salamanders, exported to
salamanders.csv; README_engine.md, section "Random slopes"). R's factor `mined` has levels yes, no: the
toolkit's reference="yes" gives R's coefficient `minedno`.
"""
from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from toolkit import ToolkitWarning
from toolkit.models import fit_engagement_model
from toolkit.models.formula import parse_formula
from toolkit.models.glmm import fit_glmm

REF = Path(__file__).parent / "reference" / "models_formula"

# label in glmmtmb_slopes.csv -> (formula, family); glmmTMB's diag(1 + DOY | site) is (DOY||site)
CASES = {
    "sal_slope_poisson": ("count ~ mined + DOY + (1 + DOY|site)", "poisson"),
    "sal_slope_diag_poisson": ("count ~ mined + DOY + (DOY||site)", "poisson"),
    "sal_slope_rest_nbinom2": ("count ~ mined + DOY + (1|site) + (DOY|spp)", "negbin"),
}


@pytest.fixture(scope="module")
def salamanders() -> pd.DataFrame:
    return pd.read_csv(REF / "salamanders.csv")


@pytest.fixture(scope="module")
def fits(salamanders):
    return {name: fit_engagement_model(salamanders, formula=f, family=fam, reference="yes")
            for name, (f, fam) in CASES.items()}


def _tmb(name) -> pd.DataFrame:
    ref = pd.read_csv(REF / "glmmtmb_slopes.csv")
    return ref[ref["model"] == name].reset_index(drop=True)


@pytest.mark.parametrize("name", list(CASES))
def test_slopes_by_formula_match_glmmtmb(fits, name):
    m, ref = fits[name], _tmb(name)
    ll = ref["loglik"].iloc[0]
    assert bool(m.fit_statistics["converged"].iloc[0]) and ref["convergence"].iloc[0] == 0
    assert ll - 1e-9 <= m.loglik <= ll + 1e-6                 # engine measured: +3e-10 .. +7e-10
    beta = ref.loc[ref["name"] == "beta"]
    est = m.coefficients["estimate"].to_numpy()
    assert m.coefficients["term"].tolist() == ["Intercept", "mined[T.no]", "DOY"]
    assert np.all(np.abs(est - beta["estimate"].to_numpy()) <= 1e-3 * beta["se"].to_numpy())
    assert_allclose(m.coefficients["std_error"], beta["se"], rtol=1e-4)
    # SDs: glmmTMB's theta parameters are log SDs (and the correlation parameter c, rho = c / sqrt(1 + c^2))
    theta = ref.loc[ref["name"] == "theta", "estimate"].to_numpy()
    sd = np.exp(theta[:2] if name == "sal_slope_poisson" else theta[:3] if name == "sal_slope_rest_nbinom2" else theta)
    assert_allclose(m.random_effects["sd"], sd, rtol=1e-3)
    # AIC counts every variance parameter (as glmmTMB: 2210.9, 2209.5, 1670.2 in slopes_reference_output.txt)
    assert_allclose(m.fit_statistics["aic"].iloc[0], -2 * ll + 2 * len(ref), atol=1e-5)


def test_slope_table_rows_and_correlation(fits):
    m = fits["sal_slope_poisson"]
    # glmmTMB VarCorr: site (Intercept) 0.5859337983, DOY 0.1370017312, Corr -0.38580815
    assert m.random_effects["term"].tolist() == ["site", "DOY|site"]
    assert m.random_effects["n_groups"].tolist() == [23, 23]
    assert_allclose(m.random_effects["sd"], [0.5859337983, 0.1370017312], rtol=1e-5)
    assert_allclose(m.random_effects["corr"], [-0.38580815] * 2, rtol=1e-5)
    d = fits["sal_slope_diag_poisson"].random_effects
    assert d["term"].tolist() == ["site", "DOY|site"] and d["corr"].isna().all()
    r = fits["sal_slope_rest_nbinom2"].random_effects
    assert r["term"].tolist() == ["site", "spp", "DOY|spp"]
    assert np.isnan(r["corr"].iloc[0]) and r["corr"].iloc[1] == r["corr"].iloc[2]
    # glmmTMB's correlation parameter c = 1.0507: rho = c / sqrt(1 + c^2)
    assert_allclose(r["corr"].iloc[1], 1.05069214239148 / np.sqrt(1 + 1.05069214239148 ** 2), rtol=1e-3)


def test_slope_formulas_are_the_engine_fit(salamanders):
    """Formula and engine (fit_glmm with (codes, Zk) terms) give the same fit; (x|g) is (1 + x|g),
    (-1 + x|g) is (0 + x|g)."""
    d = salamanders
    n = len(d)
    y = d["count"].to_numpy(float)
    X = np.column_stack([np.ones(n), d["mined"] == "no", d["DOY"]]).astype(float)
    site = pd.factorize(d["site"], sort=True)[0]
    doy = d["DOY"].to_numpy(float)
    eng = fit_glmm(y, X, np.zeros(n), [site, (site, doy)], "poisson")
    for f in ("count ~ mined + DOY + (1|site) + (0 + DOY|site)", "count ~ mined + DOY + (1|site) + (-1 + DOY|site)",
              "count ~ mined + DOY + (DOY||site)"):
        m = fit_engagement_model(d, formula=f, family="poisson", reference="yes")
        assert_allclose(m.coefficients["estimate"], eng["beta"], rtol=1e-6, atol=1e-8)
        assert_allclose(m.loglik, eng["loglik"], rtol=1e-10)
        assert m.random_effects["term"].tolist() == ["site", "DOY|site"]
    a = fit_engagement_model(d, formula="count ~ mined + DOY + (DOY|site)", family="poisson", reference="yes")
    b = fit_engagement_model(d, formula="count ~ mined + DOY + (1 + DOY|site)", family="poisson", reference="yes")
    assert_allclose(a.loglik, b.loglik, rtol=1e-12)
    assert_allclose(a.random_effects["sd"], b.random_effects["sd"], rtol=1e-10)


def test_lone_slope_has_no_intercept_sd(salamanders):
    m = fit_engagement_model(salamanders, formula="count ~ mined + DOY + (1|spp) + (0 + DOY|site)",
                             family="poisson", reference="yes")
    assert m.random_effects["term"].tolist() == ["spp", "DOY|site"]
    assert m.random_effects["corr"].isna().all()
    m2 = fit_engagement_model(salamanders, formula="count ~ mined + DOY + (0 + DOY|site) + (1|spp)",
                              family="poisson", reference="yes")
    assert np.isnan(m2.fit_statistics["random_intercept_sd"].iloc[0])    # the first term has no intercept
    assert_allclose(m2.loglik, m.loglik, rtol=1e-8)


def test_singular_slope_warns_boundary(salamanders):
    """NB2 (1 + DOY|site): glmmTMB stops with false convergence, the correlation running to -1; the toolkit
    says the term is at its boundary."""
    with pytest.warns(UserWarning, match="boundary"):
        m = fit_engagement_model(salamanders, formula="count ~ mined + DOY + (1 + DOY|site)", reference="yes")
    assert m.random_effects["corr"].iloc[0] < -0.9999
    ref = _tmb("sal_slope_nbinom2")
    assert m.loglik >= ref["loglik"].iloc[0] - 1e-9


@pytest.mark.parametrize("formula,match", [
    ("count ~ mined + (1 + DOY + cover|site)", "at most one slope"),
    ("count ~ mined + (log(DOY)|site)", "plain numeric column"),
    ("count ~ mined + (0|site)", "intercept or a slope"),
])
def test_slope_parse_refusals(formula, match):
    with pytest.raises(ValueError, match=match):
        parse_formula(formula)


def test_factor_slope_refused(salamanders):
    with pytest.raises(ValueError, match="numeric column as a random slope"):
        fit_engagement_model(salamanders, formula="count ~ mined + (1 + spp|site)", reference="yes")


def test_slope_parse_forms():
    p = parse_formula("y ~ a + (x|g) + (x - 1|h) + (x||k) + (1 + x|s/t)")
    assert p.random == ("g", "h", "k", "k", "s", "s:t")
    assert p.random_slopes == (("x", True), ("x", False), (None, True), ("x", False), ("x", True), ("x", True))
    assert parse_formula("y ~ a + (1|g)").random_slopes == ()


def test_slopes_with_zero_event_level_and_terms(salamanders):
    """Paths beyond the plain fit keep the slope terms: term tests refit with them and a level of `between`
    without events is handled on the rows that have events."""
    d = salamanders.copy()
    m = fit_engagement_model(d, formula="count ~ mined + DOY + (1 + DOY|site)", family="poisson", reference="yes")
    with pytest.warns(ToolkitWarning, match=r"mined \(as few as 11 site\(s\) per level\) is constant within each site"):
        t = m.terms       # mined is a site-level factor: 11-12 sites per level (the between-group caution)
    assert t["term"].tolist()[:2] == ["mined", "DOY"] and np.isfinite(t["statistic"]).all()
    d["grp"] = np.where(d["site"].isin(sorted(d["site"].unique())[:3]), "empty", "rest")
    d.loc[d["grp"] == "empty", "count"] = 0
    d = d[d["site"].isin(sorted(d["site"].unique())[:12])]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        z = fit_engagement_model(d, formula="count ~ grp + DOY + (1 + DOY|spp)", family="poisson", reference="rest")
    assert z.rate_ratios["rate_ratio"].iloc[0] == 0.0
