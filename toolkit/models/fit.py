"""The front door: :func:`fit_engagement_model`."""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from .._docstrings import fill_doc
from .._validation import check_option, check_probability, message, renamed_keywords, warn
from ..stats.cluster import FEW_SUBJECTS
from ..stats.multitest import check_p_adjust
from ._design import build_design, build_formula_design
# the fitting engine lives in _engine.py (term_tests refits through it without importing this module)
from ._engine import (FAMILIES, NO_THETA, ZERO_FAMILIES, _back_transformed, _fit, _release_glm_inputs,  # noqa: F401
                      _standardised, _zero_design)
from .emmeans import (contrast_rows, grid_rows, interaction_note, marginal_means, pairwise_contrasts, rate_ratios,
                      ratio_rows)
from .glm import fit_glm
from .glmm import fit_glmm
from .results import EngagementModel
from .robust import check_clusters, cr2_vcov

def between_test_columns(design) -> list:
    """Columns dropped by the test of `between`: its own and those of every term that contains it."""
    if not design.terms:
        return list(design.between_columns)
    bfac = next(t["factors"] for t in design.terms if t["columns"] == list(design.between_columns))
    return sorted(j for t in design.terms if bfac <= t["factors"] for j in t["columns"])


def _fit_without_zero_levels(design, zeros, family, n_agq):
    """The full model's supremum: levels without events drop out (their posts contribute log f(0 | 0) = 0).

    Fitted on the other posts without those levels' columns; the dropped coefficients are −inf (their
    Wald quantities are replaced by toolkit.models.separation), the fitted means of their posts 0.
    """
    from .separation import membership, subset_groups

    M = membership(design)
    rest = (M[:, [z["index"] for z in zeros]] == 0).all(axis=1)
    dropped = {design.between_columns[z["index"] - 1] for z in zeros}
    cols = [j for j in range(design.X.shape[1]) if j not in dropped and np.any(design.X[rest, j] != 0)]
    groups = subset_groups(design.groups, rest)
    if groups is not None:
        sub = fit_glmm(design.y[rest], design.X[rest][:, cols], design.offset[rest], groups, family, n_agq=n_agq)
    else:
        sub = fit_glm(design.y[rest], design.X[rest][:, cols], design.offset[rest], family)
    p = design.X.shape[1]
    beta = np.full(p, np.nan)
    beta[cols] = sub["beta"]
    beta[sorted(dropped)] = -np.inf
    vcov = np.full((p, p), np.nan)
    vcov[np.ix_(cols, cols)] = sub["vcov"]
    fit = dict(sub)
    mu = np.zeros(design.n)
    mu[rest] = sub["mu"]
    fit.update(beta=beta, vcov=vcov, mu=mu, rows_used=rest, columns_used=cols)
    return fit


def _zero_event_levels(design, *, rebuild, reference, cov_type, func):
    """Levels of `between` without events: refuse them where no answer exists, move a zero reference.

    Returns ``(design, zeros)``; ``rebuild(reference)`` builds the design again with another reference level.
    """
    from .separation import zero_event_levels

    zeros = zero_event_levels(design)
    between = design.between
    if zeros and cov_type == "cluster":
        z0 = zeros[0]
        raise ValueError(message(func, "cov_type", f"'model' when a level of {between!r} has no events",
                                 cov_type, f"{between} {z0['level']!r} has 0 events in {z0['n_posts']} posts: its "
                                 "rate ratio is 0 and has no cluster-robust standard error. cov_type='model' "
                                 "gives likelihood-based limits and tests for it."))
    if zeros and zeros[0]["index"] == 0:
        with_events = [lv for lv in design.levels if lv not in {z["level"] for z in zeros}]
        if reference is not None or not with_events:
            raise ValueError(message(func, "reference", f"a level of {between!r} with at least one event",
                                     design.reference, f"{design.reference!r} has 0 events in "
                                     f"{zeros[0]['n_posts']} posts, so ratios against it are infinite. Levels "
                                     f"with events: {with_events}." if with_events else
                                     f"{design.reference!r} has 0 events.", show_got=True))
        warn(f"{func}: the first level {design.reference!r} of {between!r} has 0 events, so {with_events[0]!r} "
             f"is used as the reference instead (pass reference= to choose another).", stacklevel=4)
        design = rebuild(with_events[0])
        zeros = zero_event_levels(design)
    return design, zeros


def _few_subjects_caveat(design, subject, between) -> str:
    """Plain words appended to a GLMM test whose groups have fewer than 15 subjects (anti-conservative there)."""
    if design.groups is None:
        return ""
    from .terms import between_group_terms
    if between not in between_group_terms(design):
        return ""          # `between` varies within the random-effect groups: tested by within-group contrasts
    from .separation import membership
    M = membership(design)
    g = design.groups[0] if isinstance(design.groups, list) else design.groups
    g = g[0] if isinstance(g, tuple) else g        # a random-slope term: its grouping codes
    fewest = min(int(np.unique(g[M[:, j] > 0]).size) for j in range(M.shape[1]))
    if fewest >= FEW_SUBJECTS:
        return ""
    return (f"; CAUTION: as few as {fewest} {subject}(s) in a level of {between}: with fewer than {FEW_SUBJECTS} "
            f"this test rejects too often when there is no difference (about 0.26 at 4 x 2, 0.13 at 4 x 4 in "
            f"benchmarks/bench_calibration.py); tk.cluster_level_comparison is calibrated there")


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


@renamed_keywords(covariates="covar")
@fill_doc
def fit_engagement_model(data, *, formula=None, dv=None, between=None, exposure=None, covar=(), subject=None,
                         family="negbin", zero_formula=None, reference=None, confidence_level=0.95, p_adjust="holm",
                         nan_policy="raise", mixed="level", per=1000, cov_type="model",
                         n_agq=1) -> EngagementModel:
    """Compare engagement counts between departments with a count model (GLM or GLMM).

    The count `dv` (e.g. comments) is modelled directly, with the exposure (e.g. reach) as a log
    offset, so that department effects are rate ratios: "Marketing gets 1.3 times as many comments
    per unit of reach as the reference department".

    Parameters
    ----------
    {{data}}
    formula : str, optional
        The model in lme4/glmmTMB syntax instead of `dv`/`exposure`/`covar`/`subject`, e.g.
        ``"comments ~ department * platform + paid + offset(log(reach)) + (1|account) + (1|week)"``. The fixed
        part follows R/patsy (formulaic): ``a * b`` is ``a + b + a:b``, ``C(x)`` makes an integer-coded column
        a factor, numeric columns enter linearly; treatment coding with the first level (category order;
        integer codes numerically; text in ``config.DEPARTMENTS`` order, then alphabetically) as reference;
        term names as patsy/R (``department[T.PR]:platform[T.X]``). ``offset(log(x))`` makes `x` the exposure.
        ``(1|g)`` adds a random intercept per g (GLMM); ``(1|a) + (1|b)`` crossed, ``(1|a/b)`` (= ``(1|a) +
        (1|a:b)``) nested intercepts. Random slopes of one numeric column x per bar (glmmTMB's parameterisation):
        ``(1 + x|g)`` or ``(x|g)`` a correlated intercept and slope per g, ``(0 + x|g)`` / ``(-1 + x|g)`` the
        slope alone, ``(x||g)`` intercept and slope without correlation (glmmTMB's ``diag(1 + x|g)``); factor
        slopes and several slopes in one bar are refused. A slope's SD and correlation need many groups: with
        few (as with few accounts per department) they run to a boundary (SD 0, correlation +-1), which is
        reported with a warning and ``boundary`` in ``raw["fit"]``. **The first main effect of the fixed
        part plays the role of `between`** (rate ratios, contrasts, marginal means and row 0 of ``test``),
        unless `between` names another main effect. For cluster-robust standard errors write no random term
        and pass `subject` with ``cov_type="cluster"``. The keyword API builds the same model (tested to
        1e-10).
    dv : str, optional
        Count column (non-negative whole numbers). Never a rate: pass the denominator as `exposure`. Required
        without `formula`; not allowed with it.
    between : str, optional
        Group column (usually 'department'). The first level (category order; integer codes numerically) is the
        reference. Required without `formula`; with it, optionally the name of the focal main-effect term.
    exposure : str, optional
        Positive exposure column (e.g. 'reach'); enters as ``offset = log(exposure)``.
    covar : sequence of str, default ()
        Extra columns adjusted for: numeric ones enter linearly, text/categorical ones as treatment dummies.
        Formerly ``covariates=`` (still accepted for one release, with a ``ToolkitDeprecationWarning``).
    subject : str, optional
        Clustering column (e.g. 'account'). With ``cov_type="model"`` (default) a random intercept per
        subject is added (GLMM, Laplace ML); with ``cov_type="cluster"`` a GLM is fitted and its standard
        errors are made cluster-robust by subject (CR2 sandwich with small-sample degrees of freedom).
    family : {"negbin", "poisson", "zinb", "hurdle_negbin", "zip", "hurdle_poisson"}, default "negbin"
        NB2 with dispersion theta estimated by ML, Poisson, or zero-inflated / hurdle NB or Poisson (GLM, or GLMM
        with random intercepts in the count part as glmmTMB's ``ziformula``; the zero part has an intercept only
        unless `zero_formula` is given, and appears as the terms ``zero[...]``: logit of the structural-zero
        probability for "zinb"/"zip", logit of P(count > 0) for the hurdle families, as in pscl -- glmmTMB's
        truncated families model P(count = 0), the opposite sign). Rate ratios, contrasts and marginal means
        then refer to the count component.
    zero_formula : str, optional
        With a `formula` and a zero family: the zero part's predictors as a one-sided formula,
        e.g. ``"~ paid"`` (default intercept only); terms ``zero[Intercept]``, ``zero[paid[T.True]]``, ...
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
        "model": model-based standard errors (GLMM when `subject` is given); "cluster": Poisson/NB2 GLM with
        cluster-robust standard errors by `subject` that hold with few clusters: the bias-reduced CR2 sandwich,
        t intervals and tests with Satterthwaite degrees of freedom for every coefficient, rate ratio, contrast
        and marginal mean, and the HTZ F test of `between` (see Notes). Needs at least 2 clusters in every level
        of `between` (refused otherwise) and family "negbin" or "poisson".
    n_agq : int, default 1
        Quadrature nodes for the GLMM: 1 = Laplace (as glmmTMB), > 1 = adaptive Gauss-Hermite.

    Returns
    -------
    EngagementModel
        Frozen result with tables ``coefficients`` (term, estimate, std_error, statistic, p_value, ci_low,
        ci_high), ``rate_ratios`` (term, group, reference, rate_ratio, ci_low, ci_high, statistic, p_value,
        confidence_level), ``contrasts`` (group_a, group_b, rate_ratio, std_error, ci_low, ci_high, statistic,
        p_value, p_adjusted, p_adjust, confidence_level, method), ``emmeans`` (group, rate, std_error, ci_low,
        ci_high, log_rate, log_std_error, exposure_at, unit, confidence_level), ``test`` (test, statistic, df,
        p_value, method: row 0 is always the test of `between`; for ``family="negbin"`` without `subject` a
        second row, test "overdispersion", is the boundary-aware likelihood-ratio test of NB2 against Poisson),
        ``fit_statistics`` (model, family, n, n_groups, n_dropped, loglik, aic, bic, theta -- ``inf`` when the
        NB2 dispersion is at its Poisson boundary, nan for Poisson --, random_intercept_sd, cov_type, converged,
        iterations; ``random_intercept_sd`` is the first random term's intercept SD, NaN when it is a lone slope),
        ``random_effects`` (term, n_groups,
        sd, corr: one row per random-effect SD, ``g`` for the intercept per g and ``x|g`` for the slope of x per g;
        corr the intercept-slope correlation of a ``(1 + x|g)`` term on both its rows, NaN otherwise; empty for a
        GLM), ``terms`` (term, test, type, statistic, df,
        p_value, method: one test per term, likelihood-ratio type II, computed on first access; see
        :func:`toolkit.models.term_tests`), plus ``loglik``, ``settings``, ``raw``, ``summary()`` and an HTML
        view. With an interaction involving `between`, row 0 of ``test`` drops `between` *and* the terms that
        contain it (does `between` matter at any level of the other factors?), and ``emmeans``, ``contrasts`` and
        ``rate_ratios`` average over the interacting factors (equal weights, as R's emmeans; ``contrasts.method``
        says so); comparisons within each level: :func:`toolkit.models.emmeans` with ``by=``.
        With ``cov_type="cluster"`` the columns stay the same: ``statistic`` is a t statistic, ``p_value`` and
        ``ci_low``/``ci_high`` use the t distribution with each row's Satterthwaite degrees of freedom (full
        precision in ``raw["df"]``: arrays ``coefficients``, ``rate_ratios``, ``contrasts``, ``emmeans`` in the
        tables' row order, and ``test`` = the HTZ denominator df); the ``test`` row is the HTZ Wald test
        (``test`` "wald", ``statistic`` F, ``df`` its numerator df, the denominator df in ``method``);
        ``fit_statistics.cov_type`` is "cluster_cr2"; ``raw["cluster_robust"]`` holds the
        :class:`toolkit.models.robust.ClusterRobust` pieces.

    See Also
    --------
    compare_groups : Compare an engagement outcome between groups, choosing and explaining the analysis.
    cluster_level_comparison : Compare engagement rates of departments with one summary per account (calibrated
        with few accounts).
    term_tests : Test every term of a fitted count model (main effects, interactions, covariates).
    emmeans : Estimated marginal means of `specs` and their pairwise rate ratios, within each level of `by`.

    Notes
    -----
    Model: ``log E[y_i] = x_i' beta + log(exposure_i) [+ u_account]``, ``Var(y) = mu + mu^2 / theta`` (NB2).
    The GLM is fitted by Newton/IRLS with theta by ML (as ``MASS::glm.nb``, standard errors from the expected
    information at the ML theta). The GLMM maximises the Laplace approximation of the marginal likelihood
    (as ``glmmTMB``); its standard errors come from the Hessian of that log-likelihood. The department test is
    a likelihood-ratio test against the same model without `between` (a cluster-robust Wald test when
    ``cov_type="cluster"``, because the likelihood ignores the clustering there). Wald confidence intervals,
    z tests (t tests with ``cov_type="cluster"``).

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

    Cluster-robust inference (``cov_type="cluster"``): the GLM's estimating equations are summed by cluster g
    (theta held at its ML estimate, as ``clubSandwich`` does for ``glm.nb`` fits) and
    ``Cov(beta) = M [sum_g U_g' W_g A_g r_g r_g' A_g W_g U_g] M`` with ``M = (U'WU)^-1``, ``U = diag(mu) X``,
    ``W = S^-1``, ``S = diag(Var(y_i))``, ``r = y - mu`` and the CR2 adjustment ``A_g = S_g^(1/2) B_g^(-1/2)
    S_g^(1/2)``, ``B_g = S_g (I - H_gg) S_g``, ``H_gg = Xw_g M Xw_g'`` the working-weighted hat block
    (``Xw = W^(1/2) U``): Bell & McCaffrey's bias-reduced linearisation as generalised by Pustejovsky & Tipton
    (2018), details in :func:`toolkit.models.robust.cr2_vcov`. A single contrast ``c'beta`` (coefficient, rate
    ratio, pairwise contrast, marginal mean) gets ``t = c'beta / sqrt(c' Cov(beta) c)`` on ``nu = 2 E^2 / Var``
    Satterthwaite degrees of freedom; the test of the q coefficients of `between` is ``F = (nu - q + 1) /
    (nu q) Q`` on ``(q, nu - q + 1)`` degrees of freedom, ``Q`` the CR2 Wald statistic and ``nu`` from the
    Hotelling T-squared approximation HTZ (Pustejovsky & Tipton 2018). Measured on null data with 4
    departments x 2, 4, 8 accounts (1,000 replicates each, benchmarks/bench_cluster_robust.py) at alpha = 0.05:
    HTZ rejects 0.000, 0.037, 0.063 and the rate-ratio t test 0.055, 0.054, 0.061, against 0.67, 0.31, 0.16 and
    0.30, 0.14, 0.10 for the HC1 sandwich ``G/(G-1) (n-1)/(n-p)`` (:func:`toolkit.models.glm.cluster_vcov`) with
    chi-square / z references. With 2 accounts per department the HTZ test has almost no denominator df
    (median 0.7) and practically no power: the single comparisons are then the informative output. A warning
    names every rate ratio or contrast whose degrees of freedom fall below 4. Refused: fewer than 2 clusters; a
    level of `between` present in a single cluster (its effect is that cluster's effect); a cluster that alone
    determines a coefficient (leverage 1).

    Missing data: see `nan_policy`; exposure <= 0 is an error. Posts nested in accounts are not
    independent: a GLM without `subject` on such data gives too-small standard errors (see
    :func:`toolkit.models.nesting_summary`).

    A level of `between` without any event (every post 0) has a maximum-likelihood rate ratio of 0: its
    Wald rows would be meaningless (estimate ~1e-262, interval [0, inf]). They are replaced by
    likelihood-based answers (:mod:`toolkit.models.separation`): rate ratio 0 (infinite when it is the
    denominator), the limit where the profile deviance reaches ``−2 log((1 − level)/2)`` and
    ``p = min(1, 2 exp(−D(0)/2))``; for Poisson counts these are exactly the conditional binomial test and
    the Clopper–Pearson limit (tests/test_models_separation.py). Such rows say so in ``contrasts.method``,
    the level is named in a warning ("0 events in N posts"), the department LR test uses the supremum of the
    log-likelihood (the fit without those posts), and a first level without events is replaced as the
    reference. ``cov_type="cluster"`` refuses such data.

    Numeric columns other than 0/1 indicators are centred and scaled inside the GLMM's optimiser and the
    coefficients and covariance mapped back exactly (an uncentred covariate such as page likes ~ 1e5 otherwise
    made the Laplace Hessian ill-conditioned). Only ToolkitWarnings leave this function.

    Formula API validated against ``MASS::glm.nb(comments ~ Type * Paid + offset(log(reach)))`` and
    ``glmmTMB(... + (1 | month), family = nbinom2)`` with ``drop1``, ``car::Anova`` and ``emmeans(~ Type | Paid)``,
    crossed and nested random intercepts, random slopes (``(1 + DOY|site)``, ``diag(1 + DOY|site)``, ``(1|site) +
    (1 + DOY|spp)`` on glmmTMB's Salamanders; tests/test_models_slopes.py), and integer-coded groups in R's factor
    order (tests/reference/models_formula/). Validated against ``MASS::glm.nb`` / ``glm(family = poisson)`` (UCI Facebook metrics) and
    ``glmmTMB(..., family = nbinom2 / poisson)`` (UCI Live sellers in Thailand) and ``emmeans(...,
    offset = log(1000), type = "response")``; R scripts, outputs and agreement in tests/reference/models/.
    Cluster-robust inference validated against clubSandwich 0.5.8 (``vcovCR(type = "CR2")``, ``coef_test(test =
    "Satterthwaite")``, ``linear_contrast``, ``Wald_test(test = "HTZ")``) for ``glm(family = poisson)`` and
    ``MASS::glm.nb`` at the same theta (UCI Live sellers in Thailand; a simulated organisation); see
    tests/reference/models_robust/.

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
    Bell, R. M., & McCaffrey, D. F. (2002). Bias reduction in standard errors for linear regression with
    multi-stage samples. Survey Methodology, 28(2), 169-181.
    Pustejovsky, J. E., & Tipton, E. (2018). Small-sample methods for cluster-robust variance estimation and
    hypothesis testing in fixed effects models. Journal of Business & Economic Statistics, 36(4), 672-683.
    doi:10.1080/07350015.2016.1247004

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
    >>> f = tk.models.fit_engagement_model(sim.data, formula="comments ~ department * content_type"
    ...                                    " + offset(log(reach)) + (1|account)")
    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as caught:   # department rests on 4 accounts per level
    ...     warnings.simplefilter("always")
    ...     terms = f.terms
    >>> [str(w.message).split(" (")[0] for w in caught]
    ['term_tests: department']
    >>> terms[["term", "test", "type"]].values.tolist()[-1]
    ['department:content_type', 'likelihood_ratio', 'II']
    >>> "CAUTION" in terms.loc[terms["term"] == "department", "method"].iloc[0]
    True
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
    if cov_type == "cluster" and subject is None and formula is None:
        raise ValueError(message(func, "cov_type", "'model' when `subject` is not given", cov_type,
                                 "Cluster-robust standard errors need the clustering column, e.g. "
                                 "subject='account'."))
    if cov_type == "cluster" and family in ZERO_FAMILIES:
        raise ValueError(message(func, "family", "'negbin' or 'poisson' when cov_type='cluster'", family,
                                 "Cluster-robust (CR2) standard errors are implemented for the Poisson and NB2 "
                                 "GLMs; fit the zero-inflated or hurdle model without `subject`, or use "
                                 "family='negbin' with cov_type='cluster'."))
    if formula is not None:
        given = [name for name, v in (("dv", dv), ("exposure", exposure), ("covar", covar)) if v]
        if given:
            raise ValueError(message(func, given[0], "left out when `formula` is given", locals()[given[0]],
                                     "Give the model either as a formula (count, terms, offset(log(exposure)), "
                                     "(1|account)) or with dv=/between=/exposure=/covar=/subject=, not both."))
        if mixed != "level":
            raise ValueError(message(func, "mixed", "'level' with a formula", mixed,
                                     "Multiple-membership coding is available with the keyword API only."))
        if subject is not None and cov_type == "model":
            raise ValueError(message(func, "subject", "None with a formula and cov_type='model'", subject,
                                     f"Write the random intercept into the formula: '+ (1|{subject})'; subject= "
                                     "names the clustering column only for cov_type='cluster'."))

        def make_design(ref):
            return build_formula_design(data, formula=formula, zero_formula=zero_formula, between=between,
                                        subject=subject, reference=ref, nan_policy=nan_policy, func=func)
        design = make_design(reference)
        if cov_type == "cluster" and design.random_terms and subject is None:
            raise ValueError(message(func, "cov_type", "'model' when the formula has random effects", cov_type,
                                     "For cluster-robust standard errors write the formula without (1|...) and "
                                     "pass subject='account'."))
        if design.Xz is not None and family not in ZERO_FAMILIES:
            raise ValueError(message(func, "zero_formula", f"None unless family is one of {list(ZERO_FAMILIES)}",
                                     zero_formula))
        dv, between, exposure, subject = design.dv, design.between, design.exposure, design.subject
        covar = tuple(t["name"] for t in design.terms if t["name"] != between)
    else:
        if dv is None or between is None:
            raise TypeError(message(func, "dv" if dv is None else "between", "given (or the model given as "
                                    "formula=)", None, "e.g. fit_engagement_model(posts, dv='comments', "
                                    "between='department') or formula='comments ~ department'."))
        if zero_formula is not None:
            raise ValueError(message(func, "zero_formula", "None with the keyword API", zero_formula,
                                     "Give the model as formula= to use a zero part with predictors."))

        def make_design(ref):
            return build_design(data, dv=dv, between=between, exposure=exposure, covar=covar,
                                subject=subject, reference=ref, mixed=mixed, nan_policy=nan_policy, func=func)
        design = make_design(reference)
    if n_agq > 1 and cov_type == "model" and (isinstance(design.groups, list) or family in ZERO_FAMILIES):
        raise ValueError(message(func, "n_agq", "1 (Laplace) with several random terms, a random slope or a zero "
                                 "part", n_agq,
                                 "Adaptive Gauss-Hermite quadrature is available for one random intercept "
                                 "without zero part (as in lme4 and glmmTMB)."))
    if cov_type == "cluster" and design.subject is None:
        raise ValueError(message(func, "cov_type", "'model' when `subject` is not given", cov_type,
                                 "Cluster-robust standard errors need the clustering column, e.g. "
                                 "subject='account'."))
    if design.subject is not None and cov_type == "model":
        for term, labels in zip(design.random_terms, design.random_labels):
            if len(labels) < 3 and formula is None:
                raise ValueError(message(func, "subject", "a column with at least 3 distinct values",
                                         f"{len(labels)} value(s) in {subject!r}",
                                         "A random intercept needs several accounts; pass subject=None."))
            if len(labels) < 3:
                raise ValueError(message(func, "formula", "random terms with at least 3 groups each",
                                         f"{len(labels)} value(s) in {term!r}",
                                         "A random effect needs several groups; remove "
                                         f"({term if '|' in term else '1|' + term})."))
    zeros = []
    if family in ("poisson", "negbin"):
        design, zeros = _zero_event_levels(design, rebuild=make_design, reference=reference, cov_type=cov_type,
                                           func=func)
        if zeros and len(between_test_columns(design)) > len(design.between_columns):
            raise ValueError(message(func, "formula", f"every level of {between!r} with at least one event when "
                                     f"{between!r} is in an interaction", formula,
                                     f"{between} {zeros[0]['level']!r} has 0 events in {zeros[0]['n_posts']} posts: "
                                     "its interaction rates are not estimable. Drop or merge that level, or fit "
                                     "without the interaction."))
    if cov_type == "cluster":
        check_clusters(design, func)
    if zeros:
        fit = _fit_without_zero_levels(design, zeros, family, n_agq)
    else:
        fit = _fit(design, design.X, family, cov_type, n_agq)
    beta = fit["beta"]
    vcov = fit["vcov"]
    if zeros:   # finite stand-ins for the −inf coefficients; every row that uses them is replaced below
        dropped = ~np.isfinite(beta)
        beta = np.where(dropped, 0.0, beta)
        vcov = np.where(dropped[:, None] | dropped[None, :], 0.0, vcov)
    cr2 = dfs = None
    if cov_type == "cluster":
        cr2 = cr2_vcov(fit, design.X, design.y, design.groups, labels=design.group_labels, func=func)
        vcov = cr2.vcov
        dfs = {"coefficients": cr2.satterthwaite_df(np.eye(len(beta))),
               "rate_ratios": cr2.satterthwaite_df(ratio_rows(design)),
               "contrasts": cr2.satterthwaite_df(contrast_rows(design)),
               "emmeans": cr2.satterthwaite_df(grid_rows(design))}
    # with a zero-event level its coefficient is -inf: the Wald rows below are replaced by likelihood answers
    with np.errstate(all="ignore" if zeros else "warn"):
        se = np.sqrt(np.diag(vcov))
        z = stats.norm.ppf(0.5 + confidence_level / 2.0)
        if dfs is None:
            crit, p_coef = z, 2 * stats.norm.sf(np.abs(beta / se))
        else:
            crit, p_coef = (stats.t.ppf(0.5 + confidence_level / 2.0, dfs["coefficients"]),
                            2 * stats.t.sf(np.abs(beta / se), dfs["coefficients"]))
        coefficients = pd.DataFrame({
            "term": design.names, "estimate": beta, "std_error": se, "statistic": beta / se,
            "p_value": p_coef, "ci_low": beta - crit * se, "ci_high": beta + crit * se})
        if family in ZERO_FAMILIES:
            gz, sz = np.atleast_1d(fit["zero_coef"]), np.atleast_1d(fit["zero_se"])
            zero_row = pd.DataFrame({"term": design.zero_names or ["zero[Intercept]"], "estimate": gz,
                                     "std_error": sz, "statistic": gz / sz,
                                     "p_value": 2 * stats.norm.sf(np.abs(gz / sz)), "ci_low": gz - z * sz,
                                     "ci_high": gz + z * sz})
            coefficients = pd.concat([coefficients, zero_row], ignore_index=True)
        df_of = (lambda table: None) if dfs is None else dfs.get    # t reference with cov_type="cluster"
        rr = rate_ratios(design, beta, vcov, confidence_level=confidence_level, df=df_of("rate_ratios"))
        emm = marginal_means(design, beta, vcov, per=per, confidence_level=confidence_level, df=df_of("emmeans"))
        if family in ZERO_FAMILIES:
            emm["unit"] = emm["unit"] + " (count component)"
        con = pairwise_contrasts(design, beta, vcov, confidence_level=confidence_level, p_adjust=p_adjust,
                                 df=df_of("contrasts"))

    con["method"] = ("Wald z" if dfs is None else "Wald t (CR2, Satterthwaite df)") + interaction_note(design)

    # a department without events: likelihood-based answers instead of Wald rows at a diverged estimate
    zero_notes, ll_sup = [], None
    if zeros:
        from . import separation

        def fit_loglik(y, X, off, groups):
            with np.errstate(over="ignore"):   # the optimiser may probe huge log sigma on the way
                if groups is not None:
                    return fit_glmm(y, X, off, groups, family, hessian=False)["loglik"]
                return fit_glm(y, X, off, family)["loglik"]
        rr, con, emm, zero_notes = separation.zero_event_answers(
            design, fit_loglik=fit_loglik, rate_ratios=rr, contrasts=con, emmeans=emm,
            confidence_level=confidence_level, p_adjust=p_adjust)
        ll_sup = fit["loglik"]
        zrr = rr.set_index("term")
        for z in zeros:
            if z["index"] == 0:
                continue
            term = design.names[design.between_columns[z["index"] - 1]]
            r = zrr.loc[term]
            coefficients.loc[coefficients["term"] == term, ["estimate", "std_error", "statistic", "p_value",
                                                            "ci_low", "ci_high"]] = [
                -np.inf, np.nan, np.nan, r["p_value"], -np.inf, np.log(r["ci_high"])]

    # test of the department effect
    bc = design.between_columns
    if cov_type == "cluster":
        tested = between_test_columns(design)
        with_terms = [t["name"] for t in design.terms if set(t["columns"]) <= set(tested) and t["columns"] != list(bc)]
        htz = cr2.wald_htz(beta, np.eye(len(beta))[tested])
        dfs["test"] = htz["df_denom"]
        test = pd.DataFrame([{"test": "wald", "statistic": htz["statistic"], "df": htz["df_num"],
                              "p_value": htz["p_value"],
                              "method": f"Wald F test of {between}"
                                        + (f" and its interactions ({', '.join(with_terms)})" if with_terms else "")
                                        + f" with CR2 cluster-robust (by {subject}) covariance, "
                                        f"Hotelling T-squared approximation (HTZ): F({len(tested)}, "
                                        f"{htz['df_denom']:.4g}); Satterthwaite t elsewhere"}])
        _warn_few_df(func, design, dfs, htz)
    else:
        dropped_cols = between_test_columns(design)
        keep = [j for j in range(design.X.shape[1]) if j not in dropped_cols]
        start0 = None
        single = not isinstance(design.groups, list) and family in ("poisson", "negbin")
        if subject is not None and cov_type == "model" and not zeros and single:
            # warm start of the reduced GLMM: the full fit without the `between` coefficients
            par_full = fit.get("par_negbin", fit["par"])   # at the theta boundary: NB layout, log theta = bound
            start0 = np.r_[par_full[keep], par_full[design.X.shape[1]:]]
            if family != "poisson":
                # log theta: not from the flat tail of its profile (theta near the Poisson boundary), where the
                # reduced fit could stall before reaching its own, possibly much smaller, theta
                start0[len(keep)] = min(start0[len(keep)], 10.0)
            if fit.get("boundary"):
                start0[-1] = np.log(0.1)
        fit0 = _fit(design, design.X[:, keep], family, cov_type, n_agq, start=start0,
                    hessian=False, columns=keep)
        # with a zero-event level the full model's supremum is the fit without its posts (they contribute 0)
        stat = max(2.0 * ((fit["loglik"] if ll_sup is None else max(ll_sup, fit["loglik"])) - fit0["loglik"]), 0.0)
        with_terms = [t["name"] for t in design.terms if set(t["columns"]) <= set(dropped_cols)
                      and t["columns"] != list(bc)]
        test = pd.DataFrame([{"test": "likelihood_ratio", "statistic": stat, "df": float(len(dropped_cols)),
                              "p_value": float(stats.chi2.sf(stat, len(dropped_cols))),
                              "method": f"likelihood-ratio test of {between}: the model refitted without it"
                                        + (f" and its interactions ({', '.join(with_terms)}): does {between} "
                                           "matter at all, at any level of the terms it interacts with"
                                           if with_terms else "")
                                        + _few_subjects_caveat(design, subject, between)}])

    _release_glm_inputs(design)
    if family == "negbin" and subject is None:
        # row 1 (row 0 stays the test of `between`): NB2 against Poisson, boundary-aware
        test = pd.concat([test, pd.DataFrame([overdispersion_lr_test(fit["loglik"], fit["poisson_loglik"])])],
                         ignore_index=True)

    is_glmm = subject is not None and cov_type == "model"
    spec = design.random_spec or tuple((t, None, True) for t in design.random_terms)
    # variance parameters: one SD per column of a term, plus the correlation of an intercept-and-slope term
    n_random = sum(1 + 2 * (x is not None and icpt) for _, x, icpt in spec) if is_glmm else 0
    k_par = len(beta) + (0 if family in NO_THETA else 1) + n_random + fit.get("extra_params", 0)
    ll = fit["loglik"] if ll_sup is None else max(ll_sup, fit["loglik"])
    if fit.get("theta_at_boundary"):
        theta = np.inf
    else:
        theta = np.nan if fit.get("log_theta") is None else float(np.exp(fit["log_theta"]))
    fit_statistics = pd.DataFrame([{
        "model": "GLMM" if is_glmm else "GLM", "family": family, "n": design.n,
        "n_groups": len(design.group_labels) if design.group_labels is not None else np.nan,
        "n_dropped": design.n_dropped, "loglik": ll, "aic": -2 * ll + 2 * k_par,
        "bic": -2 * ll + np.log(design.n) * k_par, "theta": theta,
        "random_intercept_sd": float(np.atleast_1d(fit["sigma"])[0]) if is_glmm and spec[0][2] else np.nan,
        "cov_type": "laplace" if is_glmm and n_agq == 1 else (f"agq{n_agq}" if is_glmm else
                                                              "cluster_cr2" if cov_type == "cluster" else cov_type),
        "converged": bool(fit["converged"]), "iterations": int(fit["iterations"])}])
    at_zero = [t for t, b in zip(design.random_terms, np.atleast_1d(fit.get("boundary", False))) if b] \
        if is_glmm else []
    if at_zero and len(design.random_terms) == 1:
        warn(f"{func}: the random-intercept SD of {subject!r} is estimated at 0 (boundary): the accounts vary "
             "no more than the NB/Poisson noise implies, and the GLMM reduces to the GLM. Estimates are valid; "
             "the standard errors treat the SD as fixed at 0.")
    elif at_zero and any("|" in t for t in at_zero):
        warn(f"{func}: the random term(s) {', '.join(map(repr, at_zero))} are at a boundary (an SD estimated at 0 "
             "or an intercept-slope correlation at -1 or +1; see random_effects): the data do not support that "
             "much random structure. Estimates are valid; the standard errors treat those parameters as fixed "
             "there. Consider a simpler term, e.g. (x||g) without the correlation, or (1|g).")
    elif at_zero:
        warn(f"{func}: the random-intercept SD of {', '.join(map(repr, at_zero))} is estimated at 0 (boundary): "
             "those groups vary no more than the other terms and the NB/Poisson noise imply. Estimates are valid; "
             "the standard errors treat those SDs as fixed at 0.")
    if fit.get("theta_at_boundary"):
        warn(f"{func}: the counts show no overdispersion beyond Poisson; theta is at its boundary (infinity) and "
             "the model reduces to Poisson. Estimates, standard errors and the log-likelihood are the Poisson "
             "model's; fit_statistics reports theta = inf.")
    for note in zero_notes:
        warn(f"{func}: {note}")
    if not fit["converged"] and not zero_notes:
        warn(f"{func}: the optimiser did not fully converge (check fit_statistics and raw['fit']); "
             "results may be inaccurate.")
    if cov_type != "cluster" and not fit0.get("converged", True):
        warn(f"{func}: the model without {between!r} (the likelihood-ratio test's reduced model) did not fully "
             "converge (check raw['fit_without_between']); the test may be inaccurate.")
    random_effects = _random_effects_table(design, fit, spec) if is_glmm else pd.DataFrame(
        {"term": [], "n_groups": [], "sd": [], "corr": []}, columns=["term", "n_groups", "sd", "corr"])
    settings = {"formula": formula, "zero_formula": zero_formula,
                "dv": dv, "between": between, "exposure": exposure, "covar": tuple(covar),
                "subject": subject, "family": family, "reference": design.reference,
                "confidence_level": confidence_level, "p_adjust": p_adjust, "nan_policy": nan_policy,
                "mixed": mixed, "per": per, "cov_type": cov_type, "n_agq": n_agq}
    raw = {"fit": fit, "fit_without_between": None if cov_type == "cluster" else fit0, "design": design,
           "vcov": vcov, "df": dfs, "cluster_robust": cr2}
    return EngagementModel(coefficients=coefficients, rate_ratios=rr, contrasts=con, emmeans=emm, test=test,
                           fit_statistics=fit_statistics, loglik=float(ll), settings=settings, raw=raw,
                           random_effects=random_effects)


def _random_effects_table(design, fit, spec) -> pd.DataFrame:
    """One row per random-effect SD: term ``g`` (intercept per g) or ``x|g`` (slope of x per g), n_groups, sd,
    corr (the intercept-slope correlation of a ``(1 + x|g)`` term on both of its rows; NaN otherwise)."""
    sds = fit.get("re_sd")
    corr = fit.get("re_corr")
    sigma = np.atleast_1d(fit["sigma"])
    rows = []
    for k, ((g, x, icpt), labels) in enumerate(zip(spec, design.random_labels)):
        sd_k = np.atleast_1d(sds[k]) if sds is not None else sigma[k:k + 1]
        rho = float(np.atleast_1d(corr)[k]) if corr is not None and x is not None and icpt else np.nan
        names = ([g] if icpt else []) + ([f"{x}|{g}"] if x is not None else [])
        for name, sd in zip(names, sd_k):
            rows.append({"term": name, "n_groups": len(labels), "sd": float(sd), "corr": rho})
    return pd.DataFrame(rows, columns=["term", "n_groups", "sd", "corr"])


def _warn_few_df(func, design, dfs, htz):
    """Plain-words warning when cluster-robust comparisons rest on < 4 degrees of freedom (or none)."""
    subject, between = design.subject, design.between
    low = [(f"{g} vs {design.reference}", d) for g, d in zip(design.levels[1:], dfs["rate_ratios"]) if d < 4]
    k = len(design.levels)
    pairs = [(design.levels[a], design.levels[b]) for a in range(k) for b in range(a + 1, k)]
    low += [(f"{a} vs {b}", d) for (a, b), d in zip(pairs, dfs["contrasts"])
            if d < 4 and a != design.reference]
    if low:
        shown = ", ".join(f"{name} (df {d:.1f})" for name, d in low[:6]) + (" ..." if len(low) > 6 else "")
        warn(f"{func}: few {subject}s: the cluster-robust comparisons {shown} rest on fewer than 4 effective "
             f"degrees of freedom. Their t intervals are wide and their p-values approximate; only more {subject}s "
             "would narrow them. The estimates themselves are unaffected.", stacklevel=4)
    if not htz["df_denom"] > 0:
        warn(f"{func}: too few {subject}s for the cluster-robust test of {between}: its HTZ denominator degrees "
             f"of freedom are {htz['df_denom']:.3g} (<= 0), so no p-value can be given (NaN). The single "
             "comparisons (rate ratios, contrasts) are still reported.", stacklevel=4)
