"""The front door: :func:`fit_engagement_model`."""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from .._validation import check_option, check_probability, message, warn
from ..stats.multitest import check_p_adjust
from ._design import build_design
from .emmeans import marginal_means, pairwise_contrasts, rate_ratios
from .glm import cluster_vcov, fit_glm
from .glmm import fit_glmm
from .results import EngagementModel

FAMILIES = ("poisson", "negbin", "zinb", "hurdle_negbin")


def _fit(design, X, family, cov_type, n_agq, start=None, hessian=True):
    if design.subject is not None and cov_type == "model":
        return fit_glmm(design.y, X, design.offset, design.groups, family, n_agq=n_agq, start=start,
                        hessian=hessian)
    if family in ("zinb", "hurdle_negbin"):
        from .zero import fit_zero_model
        return fit_zero_model(design.y, X, design.offset, family)
    return fit_glm(design.y, X, design.offset, family)


def fit_engagement_model(data, *, dv, between, exposure=None, covariates=(), subject=None, family="negbin",
                         reference=None, confidence_level=0.95, p_adjust="holm", nan_policy="raise",
                         mixed="level", per=1000, cov_type="model", n_agq=1) -> EngagementModel:
    """Compare engagement counts between departments with a count model (GLM or GLMM).

    The count `dv` (e.g. comments) is modelled directly, with the exposure (e.g. reach) as a log
    offset, so that department effects are rate ratios: "Marketing gets 1.3 times as many comments
    per unit of reach as the reference department".

    Parameters
    ----------
    data : pandas.DataFrame
        Long form, one row per post.
    dv : str
        Count column (non-negative whole numbers). Never a rate: pass the denominator as `exposure`.
    between : str
        Group column (usually 'department'). The first level (category order) is the reference.
    exposure : str, optional
        Positive exposure column (e.g. 'reach'); enters as ``offset = log(exposure)``.
    covariates : sequence of str, default ()
        Extra columns adjusted for: numeric ones enter linearly, text/categorical ones as treatment dummies.
    subject : str, optional
        Clustering column (e.g. 'account'). With ``cov_type="model"`` (default) a random intercept per
        subject is added (GLMM, Laplace ML); with ``cov_type="cluster"`` a GLM is fitted and its standard
        errors are made cluster-robust by subject (sandwich).
    family : {"negbin", "poisson", "zinb", "hurdle_negbin"}, default "negbin"
        NB2 with dispersion theta estimated by ML, Poisson, or zero-inflated / hurdle NB (GLM only; the zero
        part has an intercept only and appears as the term ``zero[Intercept]``: logit of the structural-zero
        probability for "zinb", logit of P(count > 0) for "hurdle_negbin", as in pscl). Rate ratios, contrasts
        and marginal means then refer to the count component.
    reference : str, optional
        Reference level of `between` (default: its first level).
    confidence_level : float, default 0.95
        Level of the Wald confidence intervals.
    p_adjust : str, default "holm"
        Adjustment of the pairwise-contrast p-values (any method of :func:`toolkit.adjust_pvalues`).
    nan_policy : {"raise", "omit"}, default "raise"
        Rows with a missing value in any model column raise, or are dropped and counted in ``n_dropped``.
    mixed : {"level", "membership"}, default "level"
        Treatment of "Mixed team" posts: their own level, or multiple-membership coding (weight 1/k on each
        of the k departments in ``co_departments``), which models a mixed post's log rate as the mean of its
        departments' log rates (a geometric mean of the rates).
    per : float, default 1000
        Exposure at which marginal means are reported ("comments per 1,000 reach"); ignored without exposure.
    cov_type : {"model", "cluster"}, default "model"
        "model": model-based standard errors (GLMM when `subject` is given); "cluster": GLM with
        cluster-robust (sandwich, HC1-type ``G/(G-1) (n-1)/(n-p)``) standard errors by `subject`.
    n_agq : int, default 1
        Quadrature nodes for the GLMM: 1 = Laplace (as glmmTMB), > 1 = adaptive Gauss-Hermite.

    Returns
    -------
    EngagementModel
        Frozen result with tables ``coefficients`` (term, estimate, std_error, statistic, p_value, ci_low,
        ci_high), ``rate_ratios`` (term, group, reference, rate_ratio, ci_low, ci_high, statistic, p_value,
        confidence_level), ``contrasts`` (group_a, group_b, rate_ratio, std_error, ci_low, ci_high, statistic,
        p_value, p_adjusted, p_adjust, confidence_level), ``emmeans`` (group, rate, std_error, ci_low,
        ci_high, log_rate, log_std_error, exposure_at, unit, confidence_level), ``test`` (test, statistic, df,
        p_value, method), ``fit_statistics`` (model, family, n, n_groups, n_dropped, loglik, aic, bic, theta,
        random_intercept_sd, cov_type, converged, iterations), plus ``loglik``, ``settings``, ``raw``,
        ``summary()`` and an HTML view.

    Notes
    -----
    Model: ``log E[y_i] = x_i' beta + log(exposure_i) [+ u_account]``, ``Var(y) = mu + mu^2 / theta`` (NB2).
    The GLM is fitted by Newton/IRLS with theta by ML (as ``MASS::glm.nb``, standard errors from the expected
    information at the ML theta). The GLMM maximises the Laplace approximation of the marginal likelihood
    (as ``glmmTMB``); its standard errors come from the Hessian of that log-likelihood. The department test is
    a likelihood-ratio test against the same model without `between` (a cluster-robust Wald test when
    ``cov_type="cluster"``, because the likelihood ignores the clustering there). Wald confidence intervals,
    z tests. Missing data: see `nan_policy`; exposure <= 0 is an error. Posts nested in accounts are not
    independent: a GLM without `subject` on such data gives too-small standard errors (see
    :func:`toolkit.models.nesting_summary`).

    Validated against ``MASS::glm.nb`` / ``glm(family = poisson)`` (UCI Facebook metrics) and
    ``glmmTMB(..., family = nbinom2 / poisson)`` (UCI Live sellers in Thailand) and ``emmeans(...,
    offset = log(1000), type = "response")``; R scripts, outputs and agreement in tests/reference/models/.

    References
    ----------
    Hilbe, J. M. (2011). Negative Binomial Regression (2nd ed.). Cambridge University Press.
    doi:10.1017/CBO9780511973420
    Brooks, M. E. et al. (2017). glmmTMB balances speed and flexibility among packages for zero-inflated
    generalized linear mixed modeling. The R Journal, 9(2), 378-400. doi:10.32614/RJ-2017-066
    Searle, S. R., Speed, F. M., & Milliken, G. A. (1980). Population marginal means in the linear model.
    The American Statistician, 34(4), 216-221. doi:10.1080/00031305.1980.10483031

    Examples
    --------
    >>> import toolkit as tk
    >>> sim = tk.simulate_organization(n_accounts_per_department=4, posts_per_account=30, seed=1,
    ...                                departments=["Marketing", "PR", "IT"], mixed_share=0.0)
    >>> m = tk.models.fit_engagement_model(sim.data, dv="comments", between="department", exposure="reach",
    ...                                    subject="account")
    >>> m.rate_ratios[["group", "reference"]].values.tolist()
    [['PR', 'Marketing'], ['IT', 'Marketing']]
    >>> m.emmeans["unit"].iloc[0]
    'comments per 1,000 reach'
    >>> m.fit_statistics[["model", "family", "n_groups"]].values.tolist()
    [['GLMM', 'negbin', 12]]
    """
    func = "fit_engagement_model"
    check_option(family, FAMILIES, func, "family")
    check_p_adjust(p_adjust, func)
    check_option(cov_type, ("model", "cluster"), func, "cov_type")
    confidence_level = check_probability(confidence_level, func, "confidence_level")
    if not isinstance(n_agq, (int, np.integer)) or isinstance(n_agq, bool) or n_agq < 1:
        raise ValueError(message(func, "n_agq", "a positive integer", n_agq))
    if isinstance(per, bool) or not isinstance(per, (int, float)) or not per > 0:
        raise ValueError(message(func, "per", "a positive number", per))
    if cov_type == "cluster" and subject is None:
        raise ValueError(message(func, "cov_type", "'model' when `subject` is not given", cov_type,
                                 "Cluster-robust standard errors need the clustering column, e.g. "
                                 "subject='account'."))
    if subject is not None and family in ("zinb", "hurdle_negbin") and cov_type == "model":
        raise ValueError(message(func, "family", "'negbin' or 'poisson' when `subject` is given", family,
                                 "Zero-inflated and hurdle models are available as GLMs only; pass "
                                 "cov_type='cluster' for account-robust standard errors."))
    design = build_design(data, dv=dv, between=between, exposure=exposure, covariates=covariates,
                          subject=subject, reference=reference, mixed=mixed, nan_policy=nan_policy, func=func)
    if subject is not None and cov_type == "model":
        if len(design.group_labels) < 3:
            raise ValueError(message(func, "subject", "a column with at least 3 distinct values",
                                     f"{len(design.group_labels)} value(s) in {subject!r}",
                                     "A random intercept needs several accounts; pass subject=None."))
    fit = _fit(design, design.X, family, cov_type, n_agq)
    beta = fit["beta"]
    vcov = fit["vcov"]
    if cov_type == "cluster":
        vcov = cluster_vcov(fit, design.groups)
    se = np.sqrt(np.diag(vcov))
    z = stats.norm.ppf(0.5 + confidence_level / 2.0)
    coefficients = pd.DataFrame({
        "term": design.names, "estimate": beta, "std_error": se, "statistic": beta / se,
        "p_value": 2 * stats.norm.sf(np.abs(beta / se)), "ci_low": beta - z * se, "ci_high": beta + z * se})
    if family in ("zinb", "hurdle_negbin"):
        gz, sz = fit["zero_coef"], fit["zero_se"]
        zero_row = pd.DataFrame([{"term": "zero[Intercept]", "estimate": gz, "std_error": sz, "statistic": gz / sz,
                                  "p_value": 2 * stats.norm.sf(abs(gz / sz)), "ci_low": gz - z * sz,
                                  "ci_high": gz + z * sz}])
        coefficients = pd.concat([coefficients, zero_row], ignore_index=True)
    rr = rate_ratios(design, beta, vcov, confidence_level=confidence_level)
    emm = marginal_means(design, beta, vcov, per=per, confidence_level=confidence_level)
    if family in ("zinb", "hurdle_negbin"):
        emm["unit"] = emm["unit"] + " (count component)"
    con = pairwise_contrasts(design, beta, vcov, confidence_level=confidence_level, p_adjust=p_adjust)

    # test of the department effect
    bc = design.between_columns
    if cov_type == "cluster":
        b = beta[bc]
        V = vcov[np.ix_(bc, bc)]
        stat = float(b @ np.linalg.solve(V, b))
        test = pd.DataFrame([{"test": "wald", "statistic": stat, "df": float(len(bc)),
                              "p_value": float(stats.chi2.sf(stat, len(bc))),
                              "method": f"Wald chi-square test of {between} with cluster-robust (by {subject}) "
                                        "covariance"}])
    else:
        keep = [j for j in range(design.X.shape[1]) if j not in bc]
        start0 = None
        if is_glmm_fit := (subject is not None and cov_type == "model"):
            # warm start of the reduced GLMM: the full fit without the `between` coefficients
            start0 = np.r_[fit["par"][keep], fit["par"][design.X.shape[1]:]]
            if fit.get("boundary"):
                start0[-1] = np.log(0.1)
        fit0 = _fit(design, design.X[:, keep], family, cov_type, n_agq, start=start0 if is_glmm_fit else None,
                    hessian=False)
        stat = max(2.0 * (fit["loglik"] - fit0["loglik"]), 0.0)
        test = pd.DataFrame([{"test": "likelihood_ratio", "statistic": stat, "df": float(len(bc)),
                              "p_value": float(stats.chi2.sf(stat, len(bc))),
                              "method": f"likelihood-ratio test of {between}: the model refitted without it"}])

    is_glmm = subject is not None and cov_type == "model"
    k_par = len(beta) + (0 if family == "poisson" else 1) + (1 if is_glmm else 0) + fit.get("extra_params", 0)
    ll = fit["loglik"]
    theta = np.nan if fit.get("log_theta") is None else float(np.exp(fit["log_theta"]))
    fit_statistics = pd.DataFrame([{
        "model": "GLMM" if is_glmm else "GLM", "family": family, "n": design.n,
        "n_groups": len(design.group_labels) if design.group_labels is not None else np.nan,
        "n_dropped": design.n_dropped, "loglik": ll, "aic": -2 * ll + 2 * k_par,
        "bic": -2 * ll + np.log(design.n) * k_par, "theta": theta,
        "random_intercept_sd": fit["sigma"] if is_glmm else np.nan,
        "cov_type": "laplace" if is_glmm and n_agq == 1 else (f"agq{n_agq}" if is_glmm else cov_type),
        "converged": bool(fit["converged"]), "iterations": int(fit["iterations"])}])
    if fit.get("boundary"):
        warn(f"{func}: the random-intercept SD of {subject!r} is estimated at 0 (boundary): the accounts vary "
             "no more than the NB/Poisson noise implies, and the GLMM reduces to the GLM. Estimates are valid; "
             "the standard errors treat the SD as fixed at 0.")
    if not fit["converged"]:
        warn(f"{func}: the optimiser did not fully converge (check fit_statistics and raw['fit']); "
             "results may be inaccurate.")
    settings = {"dv": dv, "between": between, "exposure": exposure, "covariates": tuple(covariates),
                "subject": subject, "family": family, "reference": design.reference,
                "confidence_level": confidence_level, "p_adjust": p_adjust, "nan_policy": nan_policy,
                "mixed": mixed, "per": per, "cov_type": cov_type, "n_agq": n_agq}
    raw = {"fit": fit, "fit_without_between": None if cov_type == "cluster" else fit0, "design": design,
           "vcov": vcov}
    return EngagementModel(coefficients=coefficients, rate_ratios=rr, contrasts=con, emmeans=emm, test=test,
                           fit_statistics=fit_statistics, loglik=float(ll), settings=settings, raw=raw)
