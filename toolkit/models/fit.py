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


def overdispersion_lr_test(loglik_negbin, loglik_poisson) -> dict:
    """Likelihood-ratio test of NB2 against Poisson, with the boundary-aware (chi-bar-squared) p-value.

    Parameters
    ----------
    loglik_negbin : float
        Maximised NB2 log-likelihood (equal to `loglik_poisson` when theta is at its boundary, infinity).
    loglik_poisson : float
        Maximised Poisson log-likelihood of the same mean model.

    Returns
    -------
    dict
        One row of ``EngagementModel.test``: test ("overdispersion"), statistic (LR), df (1), p_value, method.

    Notes
    -----
    ``LR = 2 (l_NB - l_Poisson)``, floored at 0. Under H0 (Poisson, ``alpha = 1/theta = 0``) alpha lies on the
    boundary of its parameter space, so LR is not chi-square(1) but the 50:50 mixture of chi-square(0) (a point
    mass at 0: half of the samples put the ML at the boundary) and chi-square(1) (Self & Liang 1987; Cameron &
    Trivedi 2013, section 3.4). Hence ``p = 1/2 P(chi2_1 > LR)`` for ``LR > 0`` (always <= 1/2) and ``p = 1`` at
    ``LR = 0`` (the ML at the boundary). The naive chi-square(1) p-value would be twice as large.

    References
    ----------
    Self, S. G., & Liang, K.-Y. (1987). Asymptotic properties of maximum likelihood estimators and likelihood
    ratio tests under nonstandard conditions. Journal of the American Statistical Association, 82(398), 605-610.
    doi:10.1080/01621459.1987.10478472
    Cameron, A. C., & Trivedi, P. K. (2013). Regression Analysis of Count Data (2nd ed.). Cambridge University
    Press. doi:10.1017/CBO9781139013567

    Examples
    --------
    >>> row = overdispersion_lr_test(-100.0, -102.0)
    >>> round(row["statistic"], 3), round(row["p_value"], 4)
    (4.0, 0.0228)
    >>> overdispersion_lr_test(-100.0, -100.0)["p_value"]
    1.0
    """
    lr = max(2.0 * (float(loglik_negbin) - float(loglik_poisson)), 0.0)
    p = 1.0 if lr == 0.0 else 0.5 * float(stats.chi2.sf(lr, 1))
    return {"test": "overdispersion", "statistic": lr, "df": 1.0, "p_value": p,
            "method": "likelihood-ratio test of NB2 against Poisson (H0: 1/theta = 0, on the boundary); "
                      "p = 1/2 P(chi2_1 > LR), the 50:50 mixture of chi2_0 and chi2_1 (Self & Liang 1987)"}


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
        p_value, method: row 0 is always the test of `between`; for ``family="negbin"`` without `subject` a
        second row, test "overdispersion", is the boundary-aware likelihood-ratio test of NB2 against Poisson),
        ``fit_statistics`` (model, family, n, n_groups, n_dropped, loglik, aic, bic, theta -- ``inf`` when the
        NB2 dispersion is at its Poisson boundary, nan for Poisson --, random_intercept_sd, cov_type, converged,
        iterations), plus ``loglik``, ``settings``, ``raw``, ``summary()`` and an HTML view.

    Notes
    -----
    Model: ``log E[y_i] = x_i' beta + log(exposure_i) [+ u_account]``, ``Var(y) = mu + mu^2 / theta`` (NB2).
    The GLM is fitted by Newton/IRLS with theta by ML (as ``MASS::glm.nb``, standard errors from the expected
    information at the ML theta). The GLMM maximises the Laplace approximation of the marginal likelihood
    (as ``glmmTMB``); its standard errors come from the Hessian of that log-likelihood. The department test is
    a likelihood-ratio test against the same model without `between` (a cluster-robust Wald test when
    ``cov_type="cluster"``, because the likelihood ignores the clustering there). Wald confidence intervals,
    z tests.

    The Poisson boundary of NB2: theta is estimated in ``(0, 1e8]``. When its ML runs to that bound the counts
    show no overdispersion beyond Poisson, ``alpha = 1/theta`` is estimated at 0, and the model reported is the
    Poisson model -- its coefficients, standard errors and log-likelihood, ``converged`` as the Poisson fit's
    -- with ``theta = inf`` and a ToolkitWarning saying so (for the GLMM: the Poisson GLMM, kept when its
    log-likelihood is at least the NB2 one). The full and the reduced model of the likelihood-ratio test are
    treated alike, so with both at the boundary the test is the Poisson likelihood-ratio test. The NB2
    log-likelihood is computed in a form that is accurate for every theta and tends to the Poisson one (Lawless
    1987); a count log-likelihood is never positive. The overdispersion row (GLM) is
    ``LR = 2 (l_NB - l_Poisson)`` referred to the 50:50 mixture of chi-square(0) and chi-square(1):
    ``p = 1/2 P(chi2_1 > LR)``, and ``p = 1`` at ``LR = 0`` (Self & Liang 1987); see
    :func:`toolkit.models.fit.overdispersion_lr_test`.

    Missing data: see `nan_policy`; exposure <= 0 is an error. Posts nested in accounts are not
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
    Lawless, J. F. (1987). Negative binomial and mixed Poisson regression. Canadian Journal of Statistics,
    15(3), 209-225. doi:10.2307/3314912
    Self, S. G., & Liang, K.-Y. (1987). Asymptotic properties of maximum likelihood estimators and likelihood
    ratio tests under nonstandard conditions. Journal of the American Statistical Association, 82(398), 605-610.
    doi:10.1080/01621459.1987.10478472
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
            par_full = fit.get("par_negbin", fit["par"])   # at the theta boundary: NB layout, log theta = bound
            start0 = np.r_[par_full[keep], par_full[design.X.shape[1]:]]
            if family != "poisson":
                # log theta: not from the flat tail of its profile (theta near the Poisson boundary), where the
                # reduced fit could stall before reaching its own, possibly much smaller, theta
                start0[len(keep)] = min(start0[len(keep)], 10.0)
            if fit.get("boundary"):
                start0[-1] = np.log(0.1)
        fit0 = _fit(design, design.X[:, keep], family, cov_type, n_agq, start=start0 if is_glmm_fit else None,
                    hessian=False)
        stat = max(2.0 * (fit["loglik"] - fit0["loglik"]), 0.0)
        test = pd.DataFrame([{"test": "likelihood_ratio", "statistic": stat, "df": float(len(bc)),
                              "p_value": float(stats.chi2.sf(stat, len(bc))),
                              "method": f"likelihood-ratio test of {between}: the model refitted without it"}])

    if family == "negbin" and subject is None:
        # row 1 (row 0 stays the test of `between`): NB2 against Poisson, boundary-aware
        test = pd.concat([test, pd.DataFrame([overdispersion_lr_test(fit["loglik"], fit["poisson_loglik"])])],
                         ignore_index=True)

    is_glmm = subject is not None and cov_type == "model"
    k_par = len(beta) + (0 if family == "poisson" else 1) + (1 if is_glmm else 0) + fit.get("extra_params", 0)
    ll = fit["loglik"]
    if fit.get("theta_at_boundary"):
        theta = np.inf
    else:
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
    if fit.get("theta_at_boundary"):
        warn(f"{func}: the counts show no overdispersion beyond Poisson; theta is at its boundary (infinity) and "
             "the model reduces to Poisson. Estimates, standard errors and the log-likelihood are the Poisson "
             "model's; fit_statistics reports theta = inf.")
    if not fit["converged"]:
        warn(f"{func}: the optimiser did not fully converge (check fit_statistics and raw['fit']); "
             "results may be inaccurate.")
    if cov_type != "cluster" and not fit0.get("converged", True):
        warn(f"{func}: the model without {between!r} (the likelihood-ratio test's reduced model) did not fully "
             "converge (check raw['fit_without_between']); the test may be inaccurate.")
    settings = {"dv": dv, "between": between, "exposure": exposure, "covariates": tuple(covariates),
                "subject": subject, "family": family, "reference": design.reference,
                "confidence_level": confidence_level, "p_adjust": p_adjust, "nan_policy": nan_policy,
                "mixed": mixed, "per": per, "cov_type": cov_type, "n_agq": n_agq}
    raw = {"fit": fit, "fit_without_between": None if cov_type == "cluster" else fit0, "design": design,
           "vcov": vcov}
    return EngagementModel(coefficients=coefficients, rate_ratios=rr, contrasts=con, emmeans=emm, test=test,
                           fit_statistics=fit_statistics, loglik=float(ll), settings=settings, raw=raw)
