"""Diagnostics for count models: overdispersion, zeros, rootograms, quantile residuals, a model advisor."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from .._docstrings import fill_doc
from .._validation import check_integer, check_option, check_random_state, message, renamed_keywords
from ._design import build_design
from .glm import fit_glm
from .results import EngagementModel


def _check_model(model, func):
    if not isinstance(model, EngagementModel):
        raise TypeError(message(func, "model", "an EngagementModel from fit_engagement_model", type(model).__name__))
    if model.settings["family"] not in ("poisson", "negbin"):
        raise ValueError(message(func, "model", "a Poisson or negative-binomial model", model.settings["family"]))
    fit, design = model.raw["fit"], model.raw["design"]
    # at the Poisson boundary (theta = inf) the NB model is the Poisson model
    if fit.get("log_theta") is None or fit.get("theta_at_boundary") \
            or not np.isfinite(float(model.fit_statistics["theta"].iloc[0])):
        theta = None
    else:
        theta = float(np.exp(fit["log_theta"]))
    return design.y, np.asarray(fit["mu"]), theta


def _pmf(k, mu, theta):
    if theta is None:
        return stats.poisson.pmf(k, mu)
    return stats.nbinom.pmf(k, theta, theta / (theta + mu))


def _cdf(k, mu, theta):
    if theta is None:
        return stats.poisson.cdf(k, mu)
    return stats.nbinom.cdf(k, theta, theta / (theta + mu))


@renamed_keywords(covariates="covar")
@fill_doc
def overdispersion_test(data, *, dv, between, exposure=None, covar=(), trafo="nb2"):
    """Test a Poisson model of the counts for overdispersion (Cameron & Trivedi auxiliary regression).

    Parameters
    ----------
    {{data}}
    {{dv_count}}
    {{between_department}}
    {{exposure}}
    {{covar}}
    trafo : {"nb2", "nb1"}, default "nb2"
        Alternative ``Var = mu + alpha mu^2`` (NB2) or ``Var = (1 + alpha) mu`` (NB1).

    Returns
    -------
    pandas.DataFrame
        One row: test ("overdispersion"), alternative, alpha (estimated), statistic (z), p_value (one-sided,
        alpha > 0), n, method.

    See Also
    --------
    rootogram : Observed and expected frequencies of each count (the data of a hanging rootogram).
    zero_check : Compare the observed number of zero counts with the number the model expects.
    quantile_residuals : Randomised quantile residuals and a test of their uniformity (DHARMa-style check).
    recommend_model : Recommend a count model step by step: Poisson -> negative binomial -> zero-inflated/hurdle
        -> mixed.

    Notes
    -----
    Fit the Poisson GLM, then regress ``((y - mu)^2 - y) / mu`` on ``g(mu) / mu`` without intercept, with
    ``g(mu) = mu^2`` (NB2) or ``mu`` (NB1); ``z`` is the OLS t-ratio of the slope ``alpha``. Rows with missing
    values raise (as ``fit_engagement_model`` with ``nan_policy="raise"``). Validated against
    ``AER::dispersiontest(m, trafo = 2)`` and ``trafo = 1`` (tests/reference/models/).

    References
    ----------
    Cameron, A. C., & Trivedi, P. K. (1990). Regression-based tests for overdispersion in the Poisson model.
    Journal of Econometrics, 46(3), 347-364. doi:10.1016/0304-4076(90)90014-K

    Examples
    --------
    >>> import toolkit as tk
    >>> sim = tk.simulate_organization(n_accounts_per_department=3, posts_per_account=30, seed=2)
    >>> t = tk.models.overdispersion_test(sim.data, dv="likes", between="department", exposure="reach")
    >>> bool(t["p_value"].iloc[0] < 0.001)
    True
    """
    func = "overdispersion_test"
    check_option(trafo, ("nb2", "nb1"), func, "trafo")
    design = build_design(data, dv=dv, between=between, exposure=exposure, covar=covar, func=func)
    fit = fit_glm(design.y, design.X, design.offset, "poisson")
    y, mu = design.y, fit["mu"]
    z = ((y - mu) ** 2 - y) / mu
    x = mu if trafo == "nb2" else np.ones_like(mu)
    alpha = float(x @ z / (x @ x))
    resid = z - alpha * x
    s2 = float(resid @ resid / (y.size - 1))
    se = np.sqrt(s2 / (x @ x))
    stat = alpha / se
    return pd.DataFrame([{"test": "overdispersion", "alternative": "greater", "alpha": alpha, "statistic": stat,
                          "p_value": float(stats.norm.sf(stat)), "n": int(y.size),
                          "method": f"Cameron-Trivedi auxiliary regression, {trafo.upper()} alternative"}])


def rootogram(model, *, max_count=None):
    """Observed and expected frequencies of each count (the data of a hanging rootogram).

    Parameters
    ----------
    model : EngagementModel
        A Poisson or negative-binomial model from :func:`fit_engagement_model`.
    max_count : int, optional
        Largest count shown (default: the 99th percentile of the observed counts, at least 10).

    Returns
    -------
    pandas.DataFrame
        count, observed (number of posts with that count), expected (sum over posts of the fitted
        probability of that count), sqrt_observed, sqrt_expected.

    See Also
    --------
    overdispersion_test : Test a Poisson model of the counts for overdispersion (Cameron & Trivedi auxiliary
        regression).
    zero_check : Compare the observed number of zero counts with the number the model expects.
    quantile_residuals : Randomised quantile residuals and a test of their uniformity (DHARMa-style check).
    recommend_model : Recommend a count model step by step: Poisson -> negative binomial -> zero-inflated/hurdle
        -> mixed.

    Notes
    -----
    Expected frequencies are ``sum_i P(Y_i = k | mu_i, theta)``; for a GLMM ``mu_i`` includes the
    estimated account effects (conditional on the modes). Validated against R
    (``sum(dnbinom(k, mu = fitted(m), size = m$theta))`` for ``MASS::glm.nb``).

    References
    ----------
    Kleiber, C., & Zeileis, A. (2016). Visualizing count data regressions using rootograms. The American
    Statistician, 70(3), 296-303. doi:10.1080/00031305.2016.1173590

    Examples
    --------
    >>> import toolkit as tk
    >>> sim = tk.simulate_organization(n_accounts_per_department=3, posts_per_account=30, seed=2)
    >>> m = tk.models.fit_engagement_model(sim.data, dv="comments", between="department", exposure="reach")
    >>> list(tk.models.rootogram(m, max_count=5).columns)
    ['count', 'observed', 'expected', 'sqrt_observed', 'sqrt_expected']
    """
    func = "rootogram"
    y, mu, theta = _check_model(model, func)
    if max_count is None:
        max_count = max(10, int(np.quantile(y, 0.99)))
    max_count = check_integer(max_count, func, "max_count", minimum=0)
    ks = np.arange(max_count + 1)
    obs = np.bincount(y.astype(np.int64), minlength=max_count + 1)[: max_count + 1]
    exp = np.array([_pmf(k, mu, theta).sum() for k in ks])
    return pd.DataFrame({"count": ks, "observed": obs, "expected": exp, "sqrt_observed": np.sqrt(obs),
                         "sqrt_expected": np.sqrt(exp)})


@fill_doc
def zero_check(model):
    """Compare the observed number of zero counts with the number the model expects.

    Parameters
    ----------
    {{model_count}}

    Returns
    -------
    pandas.DataFrame
        One row: observed_zeros, expected_zeros, ratio (observed / expected), statistic (z), p_value
        (two-sided), method.

    See Also
    --------
    overdispersion_test : Test a Poisson model of the counts for overdispersion (Cameron & Trivedi auxiliary
        regression).
    rootogram : Observed and expected frequencies of each count (the data of a hanging rootogram).
    quantile_residuals : Randomised quantile residuals and a test of their uniformity (DHARMa-style check).
    recommend_model : Recommend a count model step by step: Poisson -> negative binomial -> zero-inflated/hurdle
        -> mixed.

    Notes
    -----
    ``E = sum_i P(Y_i = 0)``, ``Var = sum_i p_i (1 - p_i)`` (posts independent given the fit, parameter
    uncertainty ignored: an approximate screen, not a formal test of zero inflation). A ratio well above 1
    suggests a zero-inflated or hurdle model. Validated against R's ``dnbinom``/``dpois`` sums.

    References
    ----------
    van den Broek, J. (1995). A score test for zero inflation in a Poisson distribution. Biometrics, 51(2),
    738-743. doi:10.2307/2532959

    Examples
    --------
    >>> import toolkit as tk
    >>> sim = tk.simulate_organization(n_accounts_per_department=3, posts_per_account=30, seed=2)
    >>> m = tk.models.fit_engagement_model(sim.data, dv="comments", between="department", exposure="reach")
    >>> list(tk.models.zero_check(m).columns)
    ['observed_zeros', 'expected_zeros', 'ratio', 'statistic', 'p_value', 'method']
    """
    y, mu, theta = _check_model(model, "zero_check")
    p0 = _pmf(0, mu, theta)
    obs = int(np.sum(y == 0))
    exp = float(p0.sum())
    var = float(np.sum(p0 * (1 - p0)))
    z = (obs - exp) / np.sqrt(var) if var > 0 else np.nan
    return pd.DataFrame([{"observed_zeros": obs, "expected_zeros": exp, "ratio": obs / exp if exp > 0 else np.nan,
                          "statistic": z, "p_value": float(2 * stats.norm.sf(abs(z))),
                          "method": "observed vs expected zeros (normal approximation)"}])


@fill_doc
def quantile_residuals(model, *, seed=None):
    """Randomised quantile residuals and a test of their uniformity (DHARMa-style check).

    Parameters
    ----------
    {{model_count}}
    seed : None, int or numpy.random.Generator, default=None
        Randomisation of the discrete counts.
        The same int gives the same numbers on every run; None draws fresh randomness.

    Returns
    -------
    (pandas.DataFrame, pandas.DataFrame)
        Residuals (one row per post: fitted, observed, pit (uniform on (0, 1) under the model), residual
        (standard normal under the model)) and a one-row test table (test, statistic, p_value, method)
        with the Kolmogorov-Smirnov test of the PIT values against U(0, 1).

    See Also
    --------
    overdispersion_test : Test a Poisson model of the counts for overdispersion (Cameron & Trivedi auxiliary
        regression).
    rootogram : Observed and expected frequencies of each count (the data of a hanging rootogram).
    zero_check : Compare the observed number of zero counts with the number the model expects.
    recommend_model : Recommend a count model step by step: Poisson -> negative binomial -> zero-inflated/hurdle
        -> mixed.

    Notes
    -----
    ``pit = F(y - 1) + v (F(y) - F(y - 1))``, ``v ~ U(0, 1)`` (Dunn & Smyth 1996); residual = ``Phi^-1(pit)``.
    For a GLMM the fitted values include the estimated account effects (conditional residuals).
    Validated by uniformity on data simulated from the model (tests/test_models_glm.py).

    References
    ----------
    Dunn, P. K., & Smyth, G. K. (1996). Randomized quantile residuals. Journal of Computational and
    Graphical Statistics, 5(3), 236-244. doi:10.1080/10618600.1996.10474708

    Examples
    --------
    >>> import toolkit as tk
    >>> sim = tk.simulate_organization(n_accounts_per_department=3, posts_per_account=30, seed=2)
    >>> m = tk.models.fit_engagement_model(sim.data, dv="comments", between="department", exposure="reach")
    >>> res, test = tk.models.quantile_residuals(m, seed=1)
    >>> list(res.columns), test["test"].iloc[0]
    (['fitted', 'observed', 'pit', 'residual'], 'kolmogorov_smirnov')
    """
    y, mu, theta = _check_model(model, "quantile_residuals")
    rng = check_random_state(seed, "quantile_residuals")
    lo = np.where(y > 0, _cdf(y - 1, mu, theta), 0.0)
    hi = _cdf(y, mu, theta)
    pit = lo + rng.random(y.size) * (hi - lo)
    pit = np.clip(pit, 1e-12, 1 - 1e-12)
    ks = stats.kstest(pit, "uniform")
    res = pd.DataFrame({"fitted": mu, "observed": y, "pit": pit, "residual": stats.norm.ppf(pit)})
    test = pd.DataFrame([{"test": "kolmogorov_smirnov", "statistic": float(ks.statistic),
                          "p_value": float(ks.pvalue), "method": "KS test of randomised PIT values against U(0, 1)"}])
    return res, test


@dataclass(frozen=True)
class Recommendation:
    """Result of :func:`recommend_model`: the recommended family and clustering, with reasons.

    Attributes: ``family``, ``subject`` (None or the column), ``reasons`` (one text per step) and
    ``checks`` (a table: check, statistic, p_value, decision).
    """

    family: str
    subject: str | None
    reasons: tuple
    checks: pd.DataFrame = field(repr=False)

    def __str__(self) -> str:
        head = f"Recommended: family={self.family!r}" + (f", subject={self.subject!r}" if self.subject else "")
        return head + "\n" + "\n".join(f"- {r}" for r in self.reasons)


@renamed_keywords(covariates="covar")
@fill_doc
def recommend_model(data, *, dv, between, exposure=None, subject=None, covar=(), alpha=0.05):
    """Recommend a count model step by step: Poisson -> negative binomial -> zero-inflated/hurdle -> mixed.

    Parameters
    ----------
    {{data}}
    {{dv_count}}
    {{between_department}}
    {{exposure}}
    subject : str, optional
        Account column; if given, the clustering is assessed.
    {{covar}}
    alpha : float, default 0.05
        Level of the screening tests.

    Returns
    -------
    Recommendation
        ``family``, ``subject``, ``reasons`` (one sentence per step) and ``checks`` (check, statistic,
        p_value, decision).

    See Also
    --------
    overdispersion_test : Test a Poisson model of the counts for overdispersion (Cameron & Trivedi auxiliary
        regression).
    rootogram : Observed and expected frequencies of each count (the data of a hanging rootogram).
    zero_check : Compare the observed number of zero counts with the number the model expects.
    quantile_residuals : Randomised quantile residuals and a test of their uniformity (DHARMa-style check).

    Notes
    -----
    1. Overdispersion of the Poisson GLM (:func:`overdispersion_test`, NB2): significant -> negative binomial.
    2. Excess zeros under the chosen GLM (:func:`zero_check`): observed/expected > 1.1 and significant ->
       suggest "zinb" (or "hurdle_negbin" when zeros come from a separate process).
    3. Clustering (:func:`nesting_summary`): design effect > 1.1 -> random intercept per `subject`.
    Screening tests are a guide, not a substitute for thinking about the design: posts nested in accounts
    call for the random intercept whatever the test says. Validated through its components.

    References
    ----------
    Cameron, A. C., & Trivedi, P. K. (2013). Regression Analysis of Count Data (2nd ed.). Cambridge University
    Press. doi:10.1017/CBO9781139013567

    Examples
    --------
    >>> import toolkit as tk
    >>> sim = tk.simulate_organization(n_accounts_per_department=3, posts_per_account=30, seed=2,
    ...                                mixed_share=0.0)
    >>> rec = tk.models.recommend_model(sim.data, dv="likes", between="department", exposure="reach",
    ...                                 subject="account")
    >>> rec.family, rec.subject
    ('negbin', 'account')
    """
    from .fit import fit_engagement_model
    from .nesting import nesting_summary

    checks, reasons = [], []
    od = overdispersion_test(data, dv=dv, between=between, exposure=exposure, covar=covar)
    over = bool(od["p_value"].iloc[0] < alpha)
    family = "negbin" if over else "poisson"
    checks.append({"check": "overdispersion", "statistic": od["statistic"].iloc[0], "p_value": od["p_value"].iloc[0],
                   "decision": family})
    reasons.append(f"Poisson variance {'is' if over else 'is not'} exceeded (Cameron-Trivedi z = "
                   f"{od['statistic'].iloc[0]:.2f}, alpha = {od['alpha'].iloc[0]:.3g}): use {family}.")
    m = fit_engagement_model(data, dv=dv, between=between, exposure=exposure, covar=covar,
                             family=family)
    zc = zero_check(m)
    excess = bool(zc["ratio"].iloc[0] > 1.1 and zc["p_value"].iloc[0] < alpha)
    checks.append({"check": "excess_zeros", "statistic": zc["statistic"].iloc[0], "p_value": zc["p_value"].iloc[0],
                   "decision": "zinb" if excess else family})
    if excess:
        family = "zinb"
        reasons.append(f"{zc['observed_zeros'].iloc[0]} zeros observed vs {zc['expected_zeros'].iloc[0]:.1f} "
                       "expected: consider a zero-inflated ('zinb') or hurdle ('hurdle_negbin') model.")
    else:
        reasons.append(f"Zeros as expected ({zc['observed_zeros'].iloc[0]} observed, "
                       f"{zc['expected_zeros'].iloc[0]:.1f} expected): no zero model needed.")
    use_subject = None
    if subject is not None:
        ns = nesting_summary(data, dv=dv, between=between, subject=subject, exposure=exposure)
        de = float(ns["design_effect"].iloc[0])
        use_subject = subject if (de > 1.1 or not np.isfinite(de)) else None
        checks.append({"check": "clustering", "statistic": de, "p_value": np.nan,
                       "decision": "random intercept" if use_subject else "none"})
        reasons.append(f"Design effect {de:.2f} (ICC {ns['icc'].iloc[0]:.3f}): "
                       + (f"add a random intercept per {subject!r} (subject={subject!r})." if use_subject else
                          "clustering is negligible."))
        if use_subject and family == "zinb":
            family = "negbin"
            reasons.append("Zero-inflated models are GLM-only here: fit the NB GLMM and check the zeros again "
                           "with zero_check (account effects often explain the excess zeros).")
    return Recommendation(family=family, subject=use_subject, reasons=tuple(reasons), checks=pd.DataFrame(checks))
