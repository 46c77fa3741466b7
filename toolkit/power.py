"""Power and sample size for department comparisons: analytic approximations and simulation.

Analytic: :func:`power_welch_anova`, :func:`power_kruskal`, :func:`power_two_rates`.
Simulation-based, for the comparison as actually analysed (accounts nested in departments, reach as
exposure; by default the calibrated cluster-level analysis that ``tk.compare_groups`` uses):
:func:`simulate_power`, :func:`power_curve`, :func:`sample_size`.
"""
from __future__ import annotations

import numbers
import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from ._protocol import AnswerFirst
from ._progress import check_progress, reporter
from ._validation import check_integer, check_option, check_probability, check_random_state, message

#: Analyses :func:`simulate_power` can simulate; the first is the default (the test ``tk.compare_groups`` uses).
ANALYSES: tuple[str, ...] = ("cluster_level", "negbin_glmm", "account_level", "negbin_glm")
POWER_COLUMNS: tuple[str, ...] = (
    "analysis", "rate_ratio", "n_accounts_per_department", "posts_per_account", "random_effect_sd", "dispersion",
    "base_rate", "alpha", "power", "mc_se", "ci_low", "ci_high", "n_replicates", "n_failed", "mean_estimate",
    "coverage")


def _positive_array(value, func, param):
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise TypeError(message(func, param, "a sequence of numbers", value)) from None
    if arr.ndim != 1 or len(arr) < 2:
        raise ValueError(message(func, param, "a sequence with one value per group (at least 2)", value))
    return arr


def _per_group(value, k, func, param, minimum):
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        arr = np.full(k, float(value))
    else:
        arr = np.asarray(value, dtype=float)
        if arr.shape != (k,):
            raise ValueError(message(func, param, f"a number or {k} numbers (one per group)", value))
    if np.any(~np.isfinite(arr)) or np.any(arr <= minimum):
        raise ValueError(message(func, param, f"numbers > {minimum:g}", value))
    return arr


def _row(test, power, alpha, **extra):
    return pd.DataFrame([{"test": test, "power": float(power), "alpha": alpha, **extra}])


def power_welch_anova(*, means, sds, n_per_group, alpha=0.05):
    """Approximate power of Welch's heteroscedastic one-way ANOVA.

    Parameters
    ----------
    means : sequence of float
        Population mean of each group (at least 2 groups).
    sds : float or sequence of float
        Population standard deviation(s).
    n_per_group : int or sequence of int
        Group sizes (>= 2 each).
    alpha : float, default 0.05
        Significance level.

    Returns
    -------
    pandas.DataFrame
        One row: ``test`` ("welch_anova"), ``power``, ``alpha``, ``noncentrality`` (lambda), ``df1``,
        ``df2`` (Welch's denominator degrees of freedom at the population values), ``n_total``.

    See Also
    --------
    power_kruskal : Approximate power of the Kruskal-Wallis test for normal (or location-shifted) groups.
    power_two_rates : Power of the Wald test of a rate ratio between two groups (Poisson or negative binomial).
    simulate_power : Power of the department comparison as actually analysed, by simulation.
    power_curve : Simulated power over a grid of one design parameter.
    sample_size : Accounts per department needed for a target power, by simulation over a grid.
    power_explorer : Open a power explorer: sliders for effect size, accounts, posts and account SD; Compute on
        demand.

    Notes
    -----
    With weights :math:`w_i = n_i / \\sigma_i^2`, :math:`\\bar\\mu_w = \\sum w_i \\mu_i / \\sum w_i`, the
    noncentrality is :math:`\\lambda = \\sum w_i (\\mu_i - \\bar\\mu_w)^2`;
    :math:`A = \\sum (1 - w_i / W)^2 / (n_i - 1)`, :math:`df_2 = (k^2 - 1) / (3A)`. Power is
    :math:`P(F'_{k-1, df_2, \\lambda} > F_{1-\\alpha; k-1, df_2})`, Welch's (1951) F approximation with the
    numerator made noncentral. It is an approximation for normal data; for equal SDs and sizes it is close
    to the classical ANOVA power (Cohen, 1988, ch. 8). Validated by simulation against
    :func:`toolkit.welch_anova` (tests/test_power.py, within 3 Monte-Carlo SE + 0.02).

    References
    ----------
    Welch, B. L. (1951). On the comparison of several mean values: an alternative approach. Biometrika, 38,
    330-336. doi:10.1093/biomet/38.3-4.330
    Cohen, J. (1988). Statistical Power Analysis for the Behavioral Sciences (2nd ed.). Erlbaum.
    doi:10.4324/9780203771587

    Examples
    --------
    >>> from toolkit.power import power_welch_anova
    >>> res = power_welch_anova(means=[0, 0, 0.5], sds=[1, 1, 2], n_per_group=[30, 30, 40])
    >>> round(float(res["power"].iloc[0]), 2)
    0.23
    """
    func = "power_welch_anova"
    mu = _positive_array(means, func, "means")
    k = len(mu)
    sd = _per_group(sds, k, func, "sds", 0.0)
    n = _per_group(n_per_group, k, func, "n_per_group", 1.0)
    alpha = check_probability(alpha, func, "alpha")
    w = n / sd ** 2
    W = w.sum()
    mw = np.sum(w * mu) / W
    lam = float(np.sum(w * (mu - mw) ** 2))
    A = np.sum((1 - w / W) ** 2 / (n - 1))
    df1, df2 = k - 1.0, float((k ** 2 - 1) / (3 * A))
    crit = stats.f.isf(alpha, df1, df2)
    power = stats.ncf.sf(crit, df1, df2, lam) if lam > 0 else alpha
    return _row("welch_anova", power, alpha, noncentrality=lam, df1=df1, df2=df2, n_total=int(n.sum()))


def power_kruskal(*, means, sds, n_per_group, alpha=0.05):
    """Approximate power of the Kruskal-Wallis test for normal (or location-shifted) groups.

    Parameters
    ----------
    means, sds : sequence of float / float or sequence
        Population means and SDs of normal groups (only the pairwise probabilities
        :math:`P(X_j < X_i)` matter).
    n_per_group : int or sequence of int
        Group sizes.
    alpha : float, default 0.05
        Significance level.

    Returns
    -------
    pandas.DataFrame
        One row: ``test`` ("kruskal"), ``power``, ``alpha``, ``noncentrality``, ``df1`` (k - 1),
        ``relative_effects`` (the :math:`\\theta_i`, as a tuple), ``n_total``.

    See Also
    --------
    power_welch_anova : Approximate power of Welch's heteroscedastic one-way ANOVA.
    power_two_rates : Power of the Wald test of a rate ratio between two groups (Poisson or negative binomial).
    simulate_power : Power of the department comparison as actually analysed, by simulation.
    power_curve : Simulated power over a grid of one design parameter.
    sample_size : Accounts per department needed for a target power, by simulation over a grid.
    power_explorer : Open a power explorer: sliders for effect size, accounts, posts and account SD; Compute on
        demand.

    Notes
    -----
    Relative effects :math:`\\theta_i = \\sum_j (n_j / N) P(X_j < X_i)` (with 1/2 for j = i) against the
    pooled distribution, :math:`P(X_j < X_i) = \\Phi((\\mu_i - \\mu_j) / \\sqrt{\\sigma_i^2 + \\sigma_j^2})`.
    Since the mean rank of group i is about :math:`N\\theta_i + 1/2`, the statistic H is approximately
    noncentral chi-square with k - 1 df and :math:`\\lambda = 12 N/(N+1) \\sum n_i (\\theta_i - 1/2)^2`
    (Andrews, 1954; for two groups this is Noether's, 1987, formula). Approximate: accurate for moderate
    effects; validated by simulation against :func:`scipy.stats.kruskal` (tests/test_power.py, within 3
    Monte-Carlo SE + 0.03).

    References
    ----------
    Andrews, F. C. (1954). Asymptotic behavior of some rank tests for analysis of variance. The Annals of
    Mathematical Statistics, 25(4), 724-736. doi:10.1214/aoms/1177728658
    Noether, G. E. (1987). Sample size determination for some common nonparametric tests. Journal of the
    American Statistical Association, 82(398), 645-647. doi:10.1080/01621459.1987.10478478

    Examples
    --------
    >>> from toolkit.power import power_kruskal
    >>> res = power_kruskal(means=[0, 0.5], sds=1, n_per_group=50)
    >>> round(float(res["power"].iloc[0]), 2)
    0.66
    """
    func = "power_kruskal"
    mu = _positive_array(means, func, "means")
    k = len(mu)
    sd = _per_group(sds, k, func, "sds", 0.0)
    n = _per_group(n_per_group, k, func, "n_per_group", 1.0)
    alpha = check_probability(alpha, func, "alpha")
    N = n.sum()
    P = stats.norm.cdf((mu[:, None] - mu[None, :]) / np.sqrt(sd[:, None] ** 2 + sd[None, :] ** 2))
    theta = P @ (n / N)
    lam = float(12 * N / (N + 1) * np.sum(n * (theta - 0.5) ** 2))
    crit = stats.chi2.isf(alpha, k - 1)
    power = stats.ncx2.sf(crit, k - 1, lam) if lam > 0 else alpha
    return _row("kruskal", power, alpha, noncentrality=lam, df1=float(k - 1),
                relative_effects=tuple(float(t) for t in theta), n_total=int(N))


def power_two_rates(*, rate_a, rate_b, exposure_a, exposure_b=None, n_a, n_b=None, dispersion=None,
                    alpha=0.05):
    """Power of the Wald test of a rate ratio between two groups (Poisson or negative binomial).

    Parameters
    ----------
    rate_a, rate_b : float
        Events per unit of exposure in each group (e.g. comments per reached user).
    exposure_a, exposure_b : float
        Mean exposure per unit (post) in each group; ``exposure_b`` defaults to ``exposure_a``.
    n_a, n_b : int
        Number of units (posts) per group; ``n_b`` defaults to ``n_a``.
    dispersion : float or None, default None
        NB2 dispersion k (Var = mu + k mu^2); None gives the Poisson test.
    alpha : float, default 0.05
        Two-sided significance level.

    Returns
    -------
    pandas.DataFrame
        One row: ``test`` ("rate_ratio_wald"), ``power``, ``alpha``, ``rate_ratio`` (rate_a / rate_b),
        ``std_error`` (of the log rate ratio), ``n_a``, ``n_b``.

    See Also
    --------
    power_welch_anova : Approximate power of Welch's heteroscedastic one-way ANOVA.
    power_kruskal : Approximate power of the Kruskal-Wallis test for normal (or location-shifted) groups.
    simulate_power : Power of the department comparison as actually analysed, by simulation.
    power_curve : Simulated power over a grid of one design parameter.
    sample_size : Accounts per department needed for a target power, by simulation over a grid.
    power_explorer : Open a power explorer: sliders for effect size, accounts, posts and account SD; Compute on
        demand.

    Notes
    -----
    With :math:`\\mu_g = \\text{rate}_g \\times \\text{exposure}_g` the expected count per unit,
    :math:`Var(\\log \\widehat{RR}) = (1/\\mu_a + k)/n_a + (1/\\mu_b + k)/n_b` (Zhu & Lakkis, 2014, variance
    under the alternative; k = 0 for Poisson) and power
    :math:`= \\Phi(|\\log RR| / SE - z_{1-\\alpha/2}) + \\Phi(-|\\log RR| / SE - z_{1-\\alpha/2})`. Units are
    assumed independent: posts of the same account are not (use :func:`simulate_power`). Validated by
    simulation of the NB GLM Wald test (tests/test_power.py, within 3 Monte-Carlo SE + 0.02).

    References
    ----------
    Zhu, H., & Lakkis, H. (2014). Sample size calculation for comparing two negative binomial rates.
    Statistics in Medicine, 33(3), 376-387. doi:10.1002/sim.5947

    Examples
    --------
    >>> from toolkit.power import power_two_rates
    >>> res = power_two_rates(rate_a=0.004, rate_b=0.003, exposure_a=500, n_a=12, dispersion=0.8)
    >>> round(float(res["power"].iloc[0]), 2)
    0.09
    """
    func = "power_two_rates"
    vals = {}
    for name, v in (("rate_a", rate_a), ("rate_b", rate_b), ("exposure_a", exposure_a),
                    ("exposure_b", exposure_a if exposure_b is None else exposure_b)):
        if isinstance(v, bool) or not isinstance(v, numbers.Real):
            raise TypeError(message(func, name, "a positive number", v))
        if not (np.isfinite(v) and v > 0):
            raise ValueError(message(func, name, "a positive number", v))
        vals[name] = float(v)
    n_a = check_integer(n_a, func, "n_a", minimum=1)
    n_b = n_a if n_b is None else check_integer(n_b, func, "n_b", minimum=1)
    k = 0.0
    if dispersion is not None:
        if isinstance(dispersion, bool) or not isinstance(dispersion, numbers.Real) or dispersion < 0:
            raise ValueError(message(func, "dispersion", "None or a number >= 0", dispersion))
        k = float(dispersion)
    alpha = check_probability(alpha, func, "alpha")
    mu_a, mu_b = vals["rate_a"] * vals["exposure_a"], vals["rate_b"] * vals["exposure_b"]
    se = float(np.sqrt((1 / mu_a + k) / n_a + (1 / mu_b + k) / n_b))
    d = abs(np.log(vals["rate_a"] / vals["rate_b"])) / se
    z = stats.norm.isf(alpha / 2)
    power = stats.norm.cdf(d - z) + stats.norm.cdf(-d - z)
    return _row("rate_ratio_wald", power, alpha, rate_ratio=vals["rate_a"] / vals["rate_b"], std_error=se,
                n_a=n_a, n_b=n_b)


# ------------------------------------------------------------------------------------- simulation
_STATE: dict = {}


def _init(settings):
    try:
        from threadpoolctl import threadpool_limits
        _STATE["limits"] = threadpool_limits(1)
    except ImportError:  # pragma: no cover
        pass
    _STATE["settings"] = settings


def _design(s):
    """Arguments of simulate_organization for one replicate (all but the seed)."""
    return dict(n_accounts_per_department=s["sizes"], posts_per_account=s["posts_per_account"],
                posts_distribution=s["posts_distribution"], departments=list(s["sizes"]),
                reference_department=s["reference"],
                rate_ratios={"comments": {s["focus"]: s["rate_ratio"]}},
                base_rates={"comments": s["base_rate"]}, dispersion={"comments": s["dispersion"]},
                random_effect_sd=s["random_effect_sd"], type_effect_sd=0.0, content_effects="null",
                paid_probability=0.0, mixed_share=0.0)


def _cluster_contrast(y, e, dept, acc, focus_code, ref_code, n_cats):
    """Focus vs reference on account log rates log((events + 0.5) / exposure): (difference, se, df).

    The pooled within-department variance uses every department (df = G - k), exactly as the
    ``cluster_t`` contrasts of :func:`toolkit.cluster_level_comparison` (the same shared helpers).
    """
    from .stats.cluster import account_log_rates, pooled_group_means
    G = int(acc.max()) + 1
    dd = np.zeros(G, dtype=np.int64)
    dd[acc] = dept
    lr = account_log_rates(np.bincount(acc, weights=y, minlength=G), np.bincount(acc, weights=e, minlength=G))
    means, sizes, ss_w, df = pooled_group_means(lr, dd, n_cats)
    if df <= 0 or sizes[focus_code] == 0 or sizes[ref_code] == 0:
        return np.nan, np.nan, np.nan
    est = float(means[focus_code] - means[ref_code])
    se = float(np.sqrt(ss_w / df * (1.0 / sizes[focus_code] + 1.0 / sizes[ref_code])))
    return est, se, float(df)


def _one_replicate(seed_seq):
    """Simulate one organisation; return (log estimate, se, df) of focus vs reference for each analysis.

    ``df`` is the t degrees of freedom of the test ("cluster_level": G - k) or ``inf`` for a Wald z test.
    """
    from .models.glm import fit_glm
    from .models.glmm import fit_glmm
    from .simulation import simulate_organization
    s = _STATE["settings"]
    sim = simulate_organization(**_design(s), seed=np.random.default_rng(seed_seq))
    d = sim.data
    y = d["comments"].to_numpy(dtype=float)
    e = d["reach"].to_numpy(dtype=float)
    dept = d["department"].cat.codes.to_numpy()
    acc = pd.factorize(d["account"])[0]
    cats = list(d["department"].cat.categories)
    ref = cats.index(s["reference"])
    others = [j for j in range(len(cats)) if j != ref]
    focus = 1 + others.index(cats.index(s["focus"]))   # position of the focus coefficient in X
    out = []
    for analysis in s["analyses"]:
        df = np.inf
        try:
            if analysis == "cluster_level":
                est, se, df = _cluster_contrast(y, e, dept, acc, cats.index(s["focus"]), ref, len(cats))
                if not (np.isfinite(est) and np.isfinite(se) and se > 0):
                    est, se, df = np.nan, np.nan, np.nan
                out.append((est, se, df))
                continue
            if analysis == "account_level":
                G = acc.max() + 1
                yy, ee = np.bincount(acc, weights=y, minlength=G), np.bincount(acc, weights=e, minlength=G)
                dd = np.zeros(G, dtype=int)
                dd[acc] = dept
                X = np.column_stack([np.ones(G)] + [(dd == j).astype(float) for j in others])
                fit = fit_glm(yy, X, np.log(ee), "negbin")
            else:
                X = np.column_stack([np.ones(len(y))] + [(dept == j).astype(float) for j in others])
                if analysis == "negbin_glmm":
                    with np.errstate(all="ignore"):
                        fit = fit_glmm(y, X, np.log(e), acc, "negbin", hessian=True)
                else:
                    fit = fit_glm(y, X, np.log(e), "negbin")
            est, se = float(fit["beta"][focus]), float(np.sqrt(fit["vcov"][focus, focus]))
            if not (np.isfinite(est) and np.isfinite(se) and se > 0):
                est, se = np.nan, np.nan
        except (np.linalg.LinAlgError, ValueError, FloatingPointError):
            est, se = np.nan, np.nan
        out.append((est, se, df))
    return out


def _run_replicates(settings, children, n_jobs, report=None):
    """One (estimate, se, df) triple per analysis for each replicate, in order; `report(done)` after each."""
    out = []
    if n_jobs == 1 or len(children) < 2:
        _init(settings)
        try:
            for c in children:
                out.append(_one_replicate(c))
                if report is not None:
                    report(len(out))
            return out
        finally:
            _STATE.clear()
    import multiprocessing as mp
    ctx = mp.get_context("fork") if "fork" in mp.get_all_start_methods() else None
    with ProcessPoolExecutor(max_workers=n_jobs, mp_context=ctx, initializer=_init, initargs=(settings,)) as ex:
        for r in ex.map(_one_replicate, children, chunksize=max(1, len(children) // (4 * n_jobs))):
            out.append(r)
            if report is not None:
                report(len(out))
    return out


def _sizes(n_accounts_per_department, n_departments, func):
    if isinstance(n_accounts_per_department, dict):
        sizes = {str(k): check_integer(v, func, "n_accounts_per_department", minimum=1)
                 for k, v in n_accounts_per_department.items()}
        if len(sizes) < 2:
            raise ValueError(message(func, "n_accounts_per_department", "a dict with at least 2 departments",
                                     n_accounts_per_department))
        return sizes
    n = check_integer(n_accounts_per_department, func, "n_accounts_per_department", minimum=1)
    k = check_integer(n_departments, func, "n_departments", minimum=2)
    names = ["Reference"] + [f"Other {i}" for i in range(1, k - 1)] + ["Focus"]
    return {name: n for name in names}


def _wilson(p, n, z=1.959963984540054):
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return centre - half, centre + half


def simulate_power(*, rate_ratio, n_accounts_per_department, posts_per_account, random_effect_sd=0.3,
                   dispersion=0.8, base_rate=0.003, n_departments=2, posts_distribution="poisson",
                   analysis="cluster_level", n_replicates=200, alpha=0.05, confidence_level=0.95, seed=None,
                   n_jobs=None, progress=False):
    """Power of the department comparison as actually analysed, by simulation.

    Parameters
    ----------
    rate_ratio : float
        True rate ratio of the focus department versus the reference (the minimum effect of interest).
    n_accounts_per_department : int or dict
        Accounts per department; a dict ``{department: n}`` gives unequal sizes (the first key is the
        reference, the last the focus department, any others have rate ratio 1).
    posts_per_account : float
        Mean posts per account.
    random_effect_sd : float, default 0.3
        SD of the account random intercept (log scale); 0 means no account differences.
    dispersion : float, default 0.8
        NB2 dispersion of post counts, Var = mu + dispersion mu^2.
    base_rate : float, default 0.003
        Events per reached user in the reference department (e.g. comments per reach).
    n_departments : int, default 2
        Number of departments when `n_accounts_per_department` is an int.
    posts_distribution : {"poisson", "fixed"}, default "poisson"
        Posts per account, as in :func:`toolkit.simulate_organization`.
    analysis : str or sequence of str, default "cluster_level"
        "cluster_level" (the default, and the test ``tk.compare_groups(..., subject=, exposure=)`` uses:
        one log rate per account, ``log((events + 0.5) / reach)``, focus versus reference department by
        a pooled t test on ``G - k`` degrees of freedom, as the ``cluster_t`` contrasts of
        :func:`toolkit.cluster_level_comparison`); "negbin_glmm" (NB GLMM with a random intercept per
        account and log-reach offset, Wald z), "account_level" (NB GLM on account totals with log total
        reach offset, Wald z), "negbin_glm" (post-level NB GLM ignoring accounts, Wald z). **The three
        Wald-z analyses are anti-conservative with few accounts**: they reject a true null far more often
        than alpha, so the "power" they report is inflated by false positives (see Notes). Several
        analyses give several rows from the same replicates.
    n_replicates : int, default 200
        Simulated organisations.
    alpha : float, default 0.05
        Two-sided significance level of the test of the focus department (t for "cluster_level", Wald z
        for the model-based analyses).
    confidence_level : float, default 0.95
        Level of the Monte-Carlo (Wilson) interval of the power and of the t / Wald intervals whose
        coverage is reported.
    seed : None, int or numpy.random.Generator, default=None
        One ``SeedSequence`` child per replicate: results do not depend on `n_jobs`.
        The same int gives the same numbers on every run; None draws fresh randomness.
    n_jobs : int or None, default None
        Worker processes (None: all cores).
    progress : bool or callable, default False
        True shows a progress bar of the replicates (``tqdm.auto``: a widget in Jupyter, text in a
        terminal); a callable is called as ``progress(done, total, "simulated replicates")`` after each
        replicate. The result does not depend on it.

    Returns
    -------
    pandas.DataFrame
        One row per analysis: ``analysis``, ``rate_ratio``, ``n_accounts_per_department`` (text: "10" or
        "Reference=8, Focus=4"), ``posts_per_account``, ``random_effect_sd``, ``dispersion``, ``base_rate``,
        ``alpha``, ``power`` (share of replicates with p < alpha), ``mc_se`` (sqrt(power (1 - power) / R)),
        ``ci_low``, ``ci_high`` (Wilson interval of the power), ``n_replicates`` (R, fits that succeeded),
        ``n_failed`` (fits that failed, or "cluster_level" replicates without a within-department degree
        of freedom), ``mean_estimate`` (geometric mean of the estimated rate ratios), ``coverage`` (share of
        t / Wald intervals containing the true rate ratio).

    See Also
    --------
    power_welch_anova : Approximate power of Welch's heteroscedastic one-way ANOVA.
    power_kruskal : Approximate power of the Kruskal-Wallis test for normal (or location-shifted) groups.
    power_two_rates : Power of the Wald test of a rate ratio between two groups (Poisson or negative binomial).
    power_curve : Simulated power over a grid of one design parameter.
    sample_size : Accounts per department needed for a target power, by simulation over a grid.
    power_explorer : Open a power explorer: sliders for effect size, accounts, posts and account SD; Compute on
        demand.

    Notes
    -----
    Each replicate is :func:`toolkit.simulate_organization` with reach as exposure, comments as the
    count, no content, paid or mixed-team effects, type-specific account effects 0 and the given random
    intercept SD, dispersion and base rate.

    "cluster_level": with ``l_j = log((Y_j + 0.5) / E_j)`` per account (Y its comments, E its reach),
    department means ``m_g`` and the pooled within-department variance ``s^2`` over *all* k
    departments on ``G - k`` df, the test statistic is ``t = (m_focus - m_ref) / (s sqrt(1/n_focus +
    1/n_ref))``, rejected when ``|t| > t_{1 - alpha/2, G - k}``; the interval whose coverage is reported is
    ``exp((m_focus - m_ref) ± t_{G-k} s sqrt(...))`` and estimates the rate ratio for a typical account.
    It is exactly the focus-versus-reference ``cluster_t`` row of
    ``tk.cluster_level_comparison(data, dv="comments", between="department", subject="account",
    exposure="reach", reference=<reference>)`` (unadjusted p-value; with two departments its t² is the F
    of the permutation omnibus test, whose exact p-value differs from the t p-value only by the
    discreteness of the permutation distribution), computed directly because calling that function costs
    about 22 ms per replicate against 0.1 ms (4 departments × 2 accounts). Its power is that of a
    one-way F / pooled t test on account log rates. When every department has one account there is no
    within-department degree of freedom: every replicate is counted in ``n_failed`` and power is NaN
    (no design with one account per department can answer a department question).

    "negbin_glmm" fits exactly the NB GLMM that generates the data (Laplace ML, as ``glmmTMB``);
    "account_level" is exact for its own estimand (the ratio of account totals per reach) but its NB2
    model for account totals is an approximation; failed fits are left out and counted in ``n_failed``.
    **Their Wald z tests treat a variance estimated from a handful of accounts as known and are
    anti-conservative with few accounts**, so their "power" at such sizes is inflated by false
    positives. Measured null rejection rates at alpha = 0.05 (random_effect_sd 0.3, 20 posts per
    account, the same 300 replicates for the three analyses, MC SE 0.012–0.026):

    ==============================  =============  ===========  =============
    departments × accounts          cluster_level  negbin_glmm  account_level
    ==============================  =============  ===========  =============
    4 × 2                           0.073          0.153        0.277
    3 × 3                           0.047          0.143        0.187
    2 × 6                           0.047          0.097        0.107
    ==============================  =============  ===========  =============

    (cluster_level with 2,000 replicates, MC SE 0.005: 0.049 at 4 × 2, 0.046 at 3 × 3, 0.050 at 2 × 2.)
    With 25 accounts per department the Wald tests come close to alpha (0.057 and 0.053). Always check
    the rate_ratio=1 row of a model-based analysis first.

    Validated: under rate_ratio = 1 the "cluster_level" rejection rate is at most alpha within
    Monte-Carlo error; its decisions equal those of :func:`toolkit.cluster_level_comparison` and of
    ``scipy.stats.ttest_ind`` on account log rates for the same simulated data; the simulation agrees
    with :func:`power_two_rates` when there are no account effects (tests/test_power.py).

    References
    ----------
    Arnold, B. F., Hogan, D. R., Colford, J. M., & Hubbard, A. E. (2011). Simulation methods to estimate
    design power: an overview for applied research. BMC Medical Research Methodology, 11, 94.
    doi:10.1186/1471-2288-11-94
    Morris, T. P., White, I. R., & Crowther, M. J. (2019). Using simulation studies to evaluate statistical
    methods. Statistics in Medicine, 38(11), 2074-2102. doi:10.1002/sim.8086
    Hayes, R. J., & Moulton, L. H. (2017). Cluster Randomised Trials (2nd ed.). Chapman & Hall/CRC,
    chapter 9. doi:10.4324/9781315370286

    Examples
    --------
    >>> from toolkit.power import simulate_power
    >>> res = simulate_power(rate_ratio=1.5, n_accounts_per_department=4, posts_per_account=20,
    ...                      analysis=("cluster_level", "account_level"), n_replicates=20, seed=1, n_jobs=1)
    >>> res[["analysis", "n_replicates"]].values.tolist()
    [['cluster_level', 20], ['account_level', 20]]
    >>> bool(res["power"].between(0, 1).all())
    True
    """
    func = "simulate_power"
    analyses = (analysis,) if isinstance(analysis, str) else tuple(analysis)
    for a in analyses:
        check_option(a, ANALYSES, func, "analysis")
    if isinstance(rate_ratio, bool) or not isinstance(rate_ratio, numbers.Real) or not rate_ratio > 0:
        raise ValueError(message(func, "rate_ratio", "a positive number", rate_ratio))
    sizes = _sizes(n_accounts_per_department, n_departments, func)
    for name, v, lo in (("posts_per_account", posts_per_account, 0.0), ("dispersion", dispersion, -1e-300),
                        ("base_rate", base_rate, 0.0), ("random_effect_sd", random_effect_sd, -1e-300)):
        if isinstance(v, bool) or not isinstance(v, numbers.Real) or not v > lo:
            raise ValueError(message(func, name, "a positive number" if lo == 0 else "a number >= 0", v))
    check_option(posts_distribution, ("poisson", "fixed"), func, "posts_distribution")
    n_replicates = check_integer(n_replicates, func, "n_replicates", minimum=2)
    alpha = check_probability(alpha, func, "alpha")
    confidence_level = check_probability(confidence_level, func, "confidence_level")
    n_jobs = max(1, os.cpu_count() or 1) if n_jobs is None else check_integer(n_jobs, func, "n_jobs")
    progress = check_progress(progress, func)
    rng = check_random_state(seed, func)
    children = np.random.SeedSequence(int(rng.integers(0, 2 ** 63 - 1))).spawn(n_replicates)
    settings = dict(sizes=sizes, focus=list(sizes)[-1], reference=list(sizes)[0], rate_ratio=float(rate_ratio),
                    posts_per_account=float(posts_per_account), posts_distribution=posts_distribution,
                    base_rate=float(base_rate), dispersion=float(dispersion),
                    random_effect_sd=float(random_effect_sd), analyses=analyses)
    with reporter(progress, total=n_replicates, what="simulated replicates") as report:
        results = np.array(_run_replicates(settings, children, n_jobs, report))  # (R, n_analyses, 3): est, se, df
    z = stats.norm.isf(alpha / 2)
    zc = stats.norm.ppf(0.5 + confidence_level / 2)
    truth = np.log(rate_ratio)
    label = (str(next(iter(sizes.values()))) if len(set(sizes.values())) == 1
             else ", ".join(f"{k}={v}" for k, v in sizes.items()))
    rows = []
    for j, a in enumerate(analyses):
        est, se, df = results[:, j, 0], results[:, j, 1], results[:, j, 2]
        okm = np.isfinite(est) & np.isfinite(se)
        R = int(okm.sum())
        est, se, df = est[okm], se[okm], df[okm]
        if a == "cluster_level":   # t test on G - k df (the cluster_t contrast of cluster_level_comparison)
            crit, crit_ci = stats.t.isf(alpha / 2, df), stats.t.ppf(0.5 + confidence_level / 2, df)
        else:                      # Wald z
            crit, crit_ci = z, zc
        p = float(np.mean(np.abs(est / se) > crit)) if R else np.nan
        lo, hi = _wilson(p, R, zc) if R else (np.nan, np.nan)
        rows.append({"analysis": a, "rate_ratio": float(rate_ratio), "n_accounts_per_department": label,
                     "posts_per_account": float(posts_per_account), "random_effect_sd": float(random_effect_sd),
                     "dispersion": float(dispersion), "base_rate": float(base_rate), "alpha": alpha, "power": p,
                     "mc_se": float(np.sqrt(p * (1 - p) / R)) if R else np.nan, "ci_low": lo, "ci_high": hi,
                     "n_replicates": R, "n_failed": n_replicates - R,
                     "mean_estimate": float(np.exp(np.mean(est))) if R else np.nan,
                     "coverage": float(np.mean(np.abs(est - truth) <= crit_ci * se)) if R else np.nan})
    return pd.DataFrame(rows, columns=list(POWER_COLUMNS))


def power_curve(*, parameter, values, rate_ratio=1.25, n_accounts_per_department=10, posts_per_account=20, random_effect_sd=0.3,
                dispersion=0.8, base_rate=0.003, n_departments=2, posts_distribution="poisson",
                analysis="cluster_level", n_replicates=200, alpha=0.05, confidence_level=0.95, seed=None,
                n_jobs=None, progress=False):
    """Simulated power over a grid of one design parameter.

    Parameters
    ----------
    parameter : str
        Name of a :func:`simulate_power` argument to vary, e.g. "n_accounts_per_department",
        "posts_per_account", "rate_ratio" or "random_effect_sd".
    values : sequence
        Its values.
    rate_ratio, n_accounts_per_department, posts_per_account, random_effect_sd, dispersion, base_rate, n_departments, posts_distribution, analysis, n_replicates, alpha, confidence_level
        The other :func:`simulate_power` arguments (the one named by `parameter` is replaced by each value).
    seed : None, int or numpy.random.Generator, default=None
        Each grid point gets its own child seed (independent replicates).
        The same int gives the same numbers on every run; None draws fresh randomness.
    n_jobs : int or None
        Worker processes.
    progress : bool or callable, default False
        True shows one progress bar over the replicates of all grid points; a callable is called as
        ``progress(done, total, "simulated replicates")``. The result does not depend on it.

    Returns
    -------
    pandas.DataFrame
        The :func:`simulate_power` rows of every grid point, with a first column ``value`` (the value of
        `parameter`) and ``parameter``.

    See Also
    --------
    power_welch_anova : Approximate power of Welch's heteroscedastic one-way ANOVA.
    power_kruskal : Approximate power of the Kruskal-Wallis test for normal (or location-shifted) groups.
    power_two_rates : Power of the Wald test of a rate ratio between two groups (Poisson or negative binomial).
    simulate_power : Power of the department comparison as actually analysed, by simulation.
    sample_size : Accounts per department needed for a target power, by simulation over a grid.
    power_explorer : Open a power explorer: sliders for effect size, accounts, posts and account SD; Compute on
        demand.

    Notes
    -----
    Monte-Carlo error: each point has its own ``mc_se`` and Wilson interval; points are independent.
    Validated through :func:`simulate_power`.

    References
    ----------
    Morris, T. P., White, I. R., & Crowther, M. J. (2019). Using simulation studies to evaluate statistical
    methods. Statistics in Medicine, 38(11), 2074-2102. doi:10.1002/sim.8086

    Examples
    --------
    >>> from toolkit.power import power_curve
    >>> curve = power_curve(parameter="n_accounts_per_department", values=[2, 4], rate_ratio=1.5,
    ...                     posts_per_account=10, n_replicates=10, seed=2, n_jobs=1)
    >>> curve[["parameter", "value"]].values.tolist()
    [['n_accounts_per_department', 2], ['n_accounts_per_department', 4]]
    """
    func = "power_curve"
    if not isinstance(parameter, str):
        raise ValueError(message(func, "parameter", "the name of a design argument of simulate_power", parameter))
    kwargs = dict(rate_ratio=rate_ratio, n_accounts_per_department=n_accounts_per_department,
                  posts_per_account=posts_per_account, random_effect_sd=random_effect_sd, dispersion=dispersion,
                  base_rate=base_rate, n_departments=n_departments, posts_distribution=posts_distribution,
                  analysis=analysis, n_replicates=n_replicates, alpha=alpha, confidence_level=confidence_level,
                  n_jobs=n_jobs)
    if parameter not in kwargs or parameter in ("analysis", "n_replicates", "n_jobs"):
        raise ValueError(message(func, "parameter", "the name of a design argument of simulate_power", parameter))
    kwargs.pop(parameter)
    values = list(values)
    if not values:
        raise ValueError(message(func, "values", "a non-empty sequence", values))
    progress = check_progress(progress, func)
    n_replicates = check_integer(n_replicates, func, "n_replicates", minimum=2)
    rng = check_random_state(seed, func)
    seeds = np.random.SeedSequence(int(rng.integers(0, 2 ** 63 - 1))).spawn(len(values))
    parts = []
    with reporter(progress, total=len(values) * n_replicates, what="simulated replicates") as report:
        for i, (v, s) in enumerate(zip(values, seeds)):
            step = (False if report is None
                    else (lambda done, _total, _what, start=i * n_replicates: report(start + done)))
            res = simulate_power(**{parameter: v}, seed=np.random.default_rng(s), progress=step, **kwargs)
            res.insert(0, "value", v)
            res.insert(0, "parameter", parameter)
            parts.append(res)
    return pd.concat(parts, ignore_index=True)


@dataclass(frozen=True, repr=False)
class SampleSize(AnswerFirst):
    """Result of :func:`sample_size`.

    Attributes
    ----------
    n_required : int or None
        Smallest accounts per department on the grid whose simulated power reaches the target.
    n_optimistic, n_conservative : int or None
        Smallest grid value whose upper / lower Monte-Carlo limit reaches the target: the Monte-Carlo
        uncertainty of the crossing.
    target_power : float
    curve : pandas.DataFrame
        The :func:`power_curve` table over the grid.
    """

    n_required: int | None
    n_optimistic: int | None
    n_conservative: int | None
    target_power: float
    curve: pd.DataFrame = field(repr=False)

    def to_frame(self) -> pd.DataFrame:
        """The power curve over the grid (:func:`power_curve` columns)."""
        return self.curve.copy()


def sample_size(*, target_power=0.8, grid=(2, 4, 6, 8, 12, 16, 24, 32), rate_ratio=1.25, posts_per_account=20,
                random_effect_sd=0.3, dispersion=0.8, base_rate=0.003, n_departments=2, posts_distribution="poisson",
                analysis="cluster_level", n_replicates=200, alpha=0.05, confidence_level=0.95, seed=None, n_jobs=None,
                progress=False):
    """Accounts per department needed for a target power, by simulation over a grid.

    Parameters
    ----------
    target_power : float, default 0.8
        Power wanted.
    grid : sequence of int, default (2, 4, 6, 8, 12, 16, 24, 32)
        Accounts per department to try (increasing).
    rate_ratio, posts_per_account, random_effect_sd, dispersion, base_rate, n_departments, posts_distribution
        Design, as in :func:`simulate_power`.
    analysis : str, default "cluster_level"
        One analysis of :func:`simulate_power` (the default is the calibrated test ``tk.compare_groups``
        uses; the Wald-z analyses overstate power with few accounts, see :func:`simulate_power`).
    n_replicates, alpha, confidence_level, seed, n_jobs
        As in :func:`simulate_power` (each grid point gets its own child seed).
    progress : bool or callable, default False
        As in :func:`power_curve` (one bar over the whole grid).

    Returns
    -------
    SampleSize
        ``n_required``, ``n_optimistic``, ``n_conservative``, ``target_power`` and ``curve``.

    See Also
    --------
    power_welch_anova : Approximate power of Welch's heteroscedastic one-way ANOVA.
    power_kruskal : Approximate power of the Kruskal-Wallis test for normal (or location-shifted) groups.
    power_two_rates : Power of the Wald test of a rate ratio between two groups (Poisson or negative binomial).
    simulate_power : Power of the department comparison as actually analysed, by simulation.
    power_curve : Simulated power over a grid of one design parameter.
    power_explorer : Open a power explorer: sliders for effect size, accounts, posts and account SD; Compute on
        demand.

    Notes
    -----
    The grid search reports the first grid value whose estimated power reaches the target, and, as the
    Monte-Carlo uncertainty of that crossing, the first values whose upper and lower Wilson limits reach it.
    More replicates narrow the range. Validated through :func:`simulate_power`.

    References
    ----------
    Arnold, B. F., Hogan, D. R., Colford, J. M., & Hubbard, A. E. (2011). Simulation methods to estimate
    design power: an overview for applied research. BMC Medical Research Methodology, 11, 94.
    doi:10.1186/1471-2288-11-94

    Examples
    --------
    >>> from toolkit.power import sample_size
    >>> res = sample_size(target_power=0.8, grid=(2, 8), rate_ratio=2.0, posts_per_account=20,
    ...                   n_replicates=20, seed=3, n_jobs=1)
    >>> res.curve["value"].tolist()
    [2, 8]
    """
    func = "sample_size"
    target_power = check_probability(target_power, func, "target_power")
    grid = [check_integer(g, func, "grid", minimum=1) for g in grid]
    if not grid or sorted(grid) != grid:
        raise ValueError(message(func, "grid", "a non-empty increasing sequence of integers", grid))
    if not isinstance(analysis, str):
        raise ValueError(message(func, "analysis", "one analysis name", analysis))
    curve = power_curve(parameter="n_accounts_per_department", values=grid, rate_ratio=rate_ratio,
                        posts_per_account=posts_per_account, random_effect_sd=random_effect_sd, dispersion=dispersion,
                        base_rate=base_rate, n_departments=n_departments, posts_distribution=posts_distribution,
                        analysis=analysis, n_replicates=n_replicates, alpha=alpha,
                        confidence_level=confidence_level, seed=seed, n_jobs=n_jobs, progress=progress)

    def first(col):
        hit = curve.loc[curve[col] >= target_power, "value"]
        return int(hit.iloc[0]) if len(hit) else None

    return SampleSize(n_required=first("power"), n_optimistic=first("ci_high"), n_conservative=first("ci_low"),
                      target_power=target_power, curve=curve)
