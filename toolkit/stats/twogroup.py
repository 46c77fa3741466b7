"""Two-group tests: Welch's t test, Mann-Whitney (Wilcoxon rank-sum) and Brunner-Munzel.

Each returns one row with ``TWO_GROUP_COLUMNS``. Direction: group_a relative to group_b, where
group_a is the first label in analysis order unless ``groups=[a, b]`` is given.
"""
from __future__ import annotations

import math

import numpy as np
from scipy import stats

from .._docstrings import fill_doc
from .._validation import check_alternative, check_option, check_probability, message
from .prepare import prepare_groups
from .schema import TWO_GROUP_COLUMNS, frame
from .effect_sizes import (_pwilcox, _tie_term, cliffs_delta, hedges_g, hodges_lehmann)

__all__ = ["welch_ttest", "mann_whitney", "brunner_munzel"]

#: Exact Mann-Whitney distribution: refuse when the counting would take more than ~1 s.
_EXACT_MAX_WORK = 3_000_000


def _prepare(data, dv, between, groups, func, nan_policy):
    gd = prepare_groups(data, dv=dv, between=between, func=func, nan_policy=nan_policy, max_groups=2,
                        groups=groups)
    if gd.k != 2:
        raise ValueError(message(func, "groups", "exactly two group labels", groups))
    return gd


def _row(func, gd, level, alternative, **values) -> dict:
    a, b = gd.group(0), gd.group(1)
    row = {"test": func, "dv": gd.dv, "between": gd.between, "group_a": gd.labels[0], "group_b": gd.labels[1],
           "n_a": int(a.size), "n_b": int(b.size), "confidence_level": level, "n": gd.n,
           "n_dropped": gd.n_dropped, "alternative": alternative}
    row.update(values)
    return row


def _interval_level(level: float, alternative: str) -> float:
    """Two-sided level whose limits are the one-sided limits at ``level``."""
    return level if alternative == "two-sided" else 2.0 * level - 1.0


def _one_sided(lo: float, hi: float, alternative: str) -> tuple[float, float]:
    if alternative == "greater":
        return lo, math.inf
    if alternative == "less":
        return -math.inf, hi
    return lo, hi


def _tail_p(dist_cdf, dist_sf, stat: float, alternative: str) -> float:
    if alternative == "less":
        return float(dist_cdf(stat))
    if alternative == "greater":
        return float(dist_sf(stat))
    return float(min(1.0, 2.0 * min(dist_cdf(stat), dist_sf(stat))))



# ---------------------------------------------------------------------------------------------
# Welch's t test
# ---------------------------------------------------------------------------------------------
@fill_doc
def welch_ttest(data, *, dv, between, groups=None, alternative="two-sided", confidence_level=0.95,
                nan_policy="raise"):
    """Compare two group means with Welch's t test (unequal variances).

    Parameters
    ----------
    {{data}}
    {{dv}}
    {{between_two}}
    {{groups_two}}
    alternative : {"two-sided", "less", "greater"}, default="two-sided"
        "greater": the mean of group_a exceeds that of group_b.
    confidence_level : float, default=0.95
        Level of both intervals.
    {{nan_policy}}

    Returns
    -------
    pandas.DataFrame
        One row with the columns

        - ``test``: "welch_t"; ``dv``, ``between``; ``group_a``, ``group_b``; ``n_a``, ``n_b``;
        - ``estimate``: mean(a) - mean(b) in dv units; ``estimate_type``: "mean_difference";
        - ``estimate_ci_low``, ``estimate_ci_high``: Welch interval (one-sided for one-sided
          alternatives, with an infinite limit, as R's ``t.test``);
        - ``statistic``: t; ``df``: Welch-Satterthwaite df; ``p_value``;
        - ``effect_size``: Hedges' g; ``effect_size_type``: "hedges_g"; ``ci_low``, ``ci_high``:
          its two-sided noncentral-t interval;
        - ``confidence_level``, ``n``, ``n_dropped``, ``alternative``, ``method``.

    Raises
    ------
    ValueError
        When both groups have zero variance (t is not defined), plus the ``prepare_groups`` checks.

    See Also
    --------
    mann_whitney : Compare two groups with the Mann-Whitney U (Wilcoxon rank-sum) test.
    brunner_munzel : Compare two groups with the Brunner-Munzel test of stochastic equality (unequal variances).

    Notes
    -----
    t = (mean_a - mean_b) / se with se^2 = s_a^2 / n_a + s_b^2 / n_b and
    df = se^4 / [(s_a^2/n_a)^2 / (n_a - 1) + (s_b^2/n_b)^2 / (n_b - 1)] (Welch 1947).
    Hedges' g uses the pooled SD (see :func:`toolkit.stats.effect_sizes.hedges_g`).
    Missing data: per ``nan_policy``. Validated against R 4.2 ``t.test(a, b, var.equal = FALSE)``;
    see tests/reference/twogroup/.

    References
    ----------
    Welch, B. L. (1947). The generalization of "Student's" problem when several different population
    variances are involved. Biometrika, 34(1-2), 28-35. doi:10.1093/biomet/34.1-2.28
    Delacre, M., Lakens, D., & Leys, C. (2017). Why psychologists should by default use Welch's t-test
    instead of Student's t-test. International Review of Social Psychology, 30(1), 92-101.
    doi:10.5334/irsp.82

    Examples
    --------
    >>> import pandas as pd
    >>> import toolkit as tk
    >>> df = pd.DataFrame({"dept": ["A"] * 5 + ["B"] * 5,
    ...                    "likes": [5.0, 6, 7, 8, 9, 1, 2, 3, 4, 5]})
    >>> res = tk.welch_ttest(df, dv="likes", between="dept")
    >>> res[["estimate", "statistic", "df"]].round(3).values.tolist()
    [[4.0, 4.0, 8.0]]
    """
    func = "welch_t"
    fname = "welch_ttest"
    alternative = check_alternative(alternative, fname)
    level = check_probability(confidence_level, fname, "confidence_level")
    gd = _prepare(data, dv, between, groups, fname, nan_policy)
    a, b = gd.group(0), gd.group(1)
    na, nb = a.size, b.size
    ma, mb = math.fsum(a) / na, math.fsum(b) / nb
    va = float(np.sum((a - ma) ** 2)) / (na - 1) if np.ptp(a) > 0 else 0.0
    vb = float(np.sum((b - mb) ** 2)) / (nb - 1) if np.ptp(b) > 0 else 0.0
    ua, ub = va / na, vb / nb
    se2 = ua + ub
    if se2 == 0.0:
        raise ValueError(message(fname, "dv", "a variable that varies within at least one group",
                                 f"{dv!r} constant within both groups",
                                 "With zero standard error t is not defined."))
    se = math.sqrt(se2)
    df = se2 ** 2 / (ua ** 2 / (na - 1) + ub ** 2 / (nb - 1))
    est = ma - mb
    t = est / se
    dist = stats.t(df)
    p = _tail_p(dist.cdf, dist.sf, t, alternative)
    q = float(stats.t.ppf(0.5 + _interval_level(level, alternative) / 2.0, df))
    lo, hi = _one_sided(est - q * se, est + q * se, alternative)
    g = hedges_g(a, b, confidence_level=level)
    row = _row(func, gd, level, alternative, estimate=est, estimate_type="mean_difference",
               estimate_ci_low=lo, estimate_ci_high=hi, statistic=t, df=df, p_value=p,
               effect_size=g.effect_size, effect_size_type="hedges_g", ci_low=g.ci_low, ci_high=g.ci_high,
               method="Welch two-sample t test (unequal variances)")
    return frame([row], TWO_GROUP_COLUMNS)


# ---------------------------------------------------------------------------------------------
# Mann-Whitney / Wilcoxon rank-sum
# ---------------------------------------------------------------------------------------------
@fill_doc
def mann_whitney(data, *, dv, between, groups=None, alternative="two-sided", method="auto",
                 confidence_level=0.95, nan_policy="raise"):
    """Compare two groups with the Mann-Whitney U (Wilcoxon rank-sum) test.

    Parameters
    ----------
    {{data}}
    {{dv}}
    {{between_two}}
    {{groups_two}}
    alternative : {"two-sided", "less", "greater"}, default="two-sided"
        "greater": values of group_a tend to be larger (shift > 0).
    method : {"auto", "exact", "asymptotic"}, default="auto"
        "exact": exact null distribution of U (no ties allowed); "asymptotic": normal approximation
        with tie and continuity correction; "auto": exact when both groups have fewer than 50 values
        and there are no ties (R's rule), asymptotic otherwise.
    confidence_level : float, default=0.95
        Level of both intervals.
    {{nan_policy}}

    Returns
    -------
    pandas.DataFrame
        One row with the columns

        - ``test``: "mann_whitney"; ``dv``, ``between``; ``group_a``, ``group_b``; ``n_a``, ``n_b``;
        - ``estimate``: Hodges-Lehmann shift (median of all a_i - b_j, dv units);
          ``estimate_type``: "hodges_lehmann_shift"; ``estimate_ci_low``, ``estimate_ci_high``: its
          interval as R ``wilcox.test(conf.int=TRUE)`` (one-sided for one-sided alternatives);
        - ``statistic``: U of group_a = #(a > b) + 0.5 #(a = b) (R's W); ``df``: NaN; ``p_value``;
        - ``effect_size``: Cliff's delta = rank-biserial correlation 2U/(n_a n_b) - 1;
          ``effect_size_type``: "cliffs_delta"; ``ci_low``, ``ci_high``: its two-sided interval;
        - ``confidence_level``, ``n``, ``n_dropped``, ``alternative``;
        - ``method``: "exact" or "normal approximation with tie and continuity correction".

    Raises
    ------
    ValueError
        For ``method="exact"`` with ties, or sizes where exact counting is too expensive; when all
        values are tied (asymptotic); plus the ``prepare_groups`` checks.

    See Also
    --------
    welch_ttest : Compare two group means with Welch's t test (unequal variances).
    brunner_munzel : Compare two groups with the Brunner-Munzel test of stochastic equality (unequal variances).

    Notes
    -----
    Exact p-values follow R's ``wilcox.test``: two-sided p = min(1, 2 min(P(U <= u), P(U >= u))).
    Normal approximation: z = (U - n_a n_b / 2 - c) / sigma with
    sigma^2 = n_a n_b / 12 [(n + 1) - sum(t^3 - t) / (n (n - 1))] and continuity correction c
    (sign(U - n_a n_b/2) / 2 two-sided, 1/2 for "greater", -1/2 for "less").
    The test is of P(A > B) + P(A = B)/2 = 1/2 (stochastic equality); it is a test of medians
    only under a pure shift model.
    Missing data: per ``nan_policy``. Validated against R 4.2 ``wilcox.test(a, b, exact = TRUE /
    correct = TRUE, conf.int = TRUE)``; see tests/reference/twogroup/.

    References
    ----------
    Mann, H. B., & Whitney, D. R. (1947). On a test of whether one of two random variables is
    stochastically larger than the other. Annals of Mathematical Statistics, 18(1), 50-60.
    doi:10.1214/aoms/1177730491
    Bauer, D. F. (1972). doi:10.1080/01621459.1972.10481279

    Examples
    --------
    >>> import pandas as pd
    >>> import toolkit as tk
    >>> df = pd.DataFrame({"dept": ["A"] * 5 + ["B"] * 5,
    ...                    "likes": [5.5, 6, 7, 8, 9, 1, 2, 3, 4, 5]})
    >>> res = tk.mann_whitney(df, dv="likes", between="dept")
    >>> res[["statistic", "p_value"]].round(4).values.tolist(), res["method"].iloc[0]
    ([[25.0, 0.0079]], 'exact')
    """
    func = "mann_whitney"
    alternative = check_alternative(alternative, func)
    method = check_option(method, ("auto", "exact", "asymptotic"), func, "method")
    level = check_probability(confidence_level, func, "confidence_level")
    gd = _prepare(data, dv, between, groups, func, nan_policy)
    a, b = gd.group(0), gd.group(1)
    na, nb = a.size, b.size
    pooled = np.concatenate([a, b])
    ties = np.unique(pooled).size < pooled.size
    if method == "auto":
        exact = na < 50 and nb < 50 and not ties
    elif method == "exact":
        if ties:
            raise ValueError(message(func, "method", "'asymptotic' or 'auto' when the data contain ties",
                                     method, "The exact distribution of U assumes no ties; use "
                                     "method='asymptotic' or a permutation test (tk.pairwise with "
                                     "test='permutation')."))
        m = min(na, nb)
        if 2 * m * na * nb > _EXACT_MAX_WORK:
            raise ValueError(message(func, "method", "'asymptotic' or 'auto' for groups this large",
                                     method, f"Exact counting for sizes {na} and {nb} is too slow; the normal "
                                     "approximation is accurate here."))
        exact = True
    else:
        exact = False
    ranks = stats.rankdata(pooled)
    u = float(np.sum(ranks[:na])) - na * (na + 1) / 2.0
    if exact:
        if alternative == "less":
            p = _pwilcox(int(round(u)), na, nb)
        elif alternative == "greater":
            p = 1.0 - _pwilcox(int(round(u)) - 1, na, nb)
        else:
            if u > na * nb / 2.0:
                pp = 1.0 - _pwilcox(int(round(u)) - 1, na, nb)
            else:
                pp = _pwilcox(int(round(u)), na, nb)
            p = min(1.0, 2.0 * pp)
        label = "exact"
    else:
        sigma = math.sqrt((na * nb / 12.0) * ((na + nb + 1) - _tie_term(a, b) / ((na + nb) * (na + nb - 1))))
        if sigma == 0.0:
            raise ValueError(message(func, "dv", "a variable with at least two distinct values",
                                     f"{dv!r} with all {gd.n} values tied",
                                     "With every value tied the ranks carry no information."))
        zc = u - na * nb / 2.0
        corr = {"two-sided": math.copysign(0.5, zc) if zc != 0 else 0.0, "greater": 0.5, "less": -0.5}[alternative]
        z = (zc - corr) / sigma
        p = _tail_p(stats.norm.cdf, stats.norm.sf, z, alternative)
        label = "normal approximation with tie and continuity correction"
    hl = hodges_lehmann(a, b, confidence_level=_interval_level(level, alternative), exact=exact)
    lo, hi = _one_sided(hl.ci_low, hl.ci_high, alternative)
    cd = cliffs_delta(a, b, confidence_level=level)
    row = _row(func, gd, level, alternative, estimate=hl.effect_size, estimate_type="hodges_lehmann_shift",
               estimate_ci_low=lo, estimate_ci_high=hi, statistic=u, p_value=p,
               effect_size=cd.effect_size, effect_size_type="cliffs_delta", ci_low=cd.ci_low, ci_high=cd.ci_high,
               method=label)
    return frame([row], TWO_GROUP_COLUMNS)


# ---------------------------------------------------------------------------------------------
# Brunner-Munzel
# ---------------------------------------------------------------------------------------------
@fill_doc
def brunner_munzel(data, *, dv, between, groups=None, alternative="two-sided", confidence_level=0.95,
                   nan_policy="raise"):
    """Compare two groups with the Brunner-Munzel test of stochastic equality (unequal variances).

    Parameters
    ----------
    {{data}}
    {{dv}}
    {{between_two}}
    {{groups_two}}
    alternative : {"two-sided", "less", "greater"}, default="two-sided"
        "greater": P(a > b) + P(a = b)/2 > 1/2 (group_a tends to be larger).
    confidence_level : float, default=0.95
        Level of both intervals.
    {{nan_policy}}

    Returns
    -------
    pandas.DataFrame
        One row with the columns

        - ``test``: "brunner_munzel"; ``dv``, ``between``; ``group_a``, ``group_b``; ``n_a``, ``n_b``;
        - ``estimate``: the relative effect p = P(a > b) + P(a = b)/2 (a random post of group_a
          beats one of group_b; 0.5 = no tendency); ``estimate_type``: "relative_effect";
        - ``estimate_ci_low``, ``estimate_ci_high``: t interval with the Satterthwaite df (one-sided
          for one-sided alternatives);
        - ``statistic``: Brunner-Munzel W (positive when group_a tends to be larger); ``df``:
          Satterthwaite df; ``p_value`` (t distribution);
        - ``effect_size``: Cliff's delta = 2 p - 1; ``effect_size_type``: "cliffs_delta";
          ``ci_low``, ``ci_high``: its interval (Cliff's method, two-sided);
        - ``confidence_level``, ``n``, ``n_dropped``, ``alternative``, ``method``.

    Raises
    ------
    ValueError
        When the rank variance estimate is 0 (e.g. complete separation of the groups), where the
        statistic is not defined, plus the ``prepare_groups`` checks.

    See Also
    --------
    welch_ttest : Compare two group means with Welch's t test (unequal variances).
    mann_whitney : Compare two groups with the Mann-Whitney U (Wilcoxon rank-sum) test.

    Notes
    -----
    In Brunner & Munzel's notation with X = group_b and Y = group_a: overall mid-ranks R, within-
    group mid-ranks R*, mean ranks Rbar_b, Rbar_a, placement variances
    S_i^2 = sum (R_ik - R*_ik - Rbar_i + (n_i + 1)/2)^2 / (n_i - 1),
    p = (Rbar_a - (n_a + 1)/2) / n_b,
    W = n_a n_b (Rbar_a - Rbar_b) / ((n_a + n_b) sqrt(n_a S_a^2 + n_b S_b^2)),
    df = (n_a S_a^2 + n_b S_b^2)^2 / [(n_a S_a^2)^2 / (n_a - 1) + (n_b S_b^2)^2 / (n_b - 1)],
    CI p -/+ t_{df} sqrt(S_a^2 / (n_a n_b^2) + S_b^2 / (n_b n_a^2)) (as R lawstat).
    Unlike Mann-Whitney it stays valid when the two distributions differ in spread.
    Missing data: per ``nan_policy``. Validated against the pain-score example of Brunner & Munzel
    (2000) (values from R lawstat ``brunner.munzel.test`` as recorded in SciPy's tests) and an
    R 4.2 implementation of the paper's formulas; see tests/reference/twogroup/.

    References
    ----------
    Brunner, E., & Munzel, U. (2000). The nonparametric Behrens-Fisher problem: Asymptotic theory and
    a small-sample approximation. Biometrical Journal, 42(1), 17-25.
    doi:10.1002/(SICI)1521-4036(200001)42:1<17::AID-BIMJ17>3.0.CO;2-U
    Neubert, K., & Brunner, E. (2007). A studentized permutation test for the non-parametric
    Behrens-Fisher problem. Computational Statistics & Data Analysis, 51(10), 5192-5204.
    doi:10.1016/j.csda.2006.05.024

    Examples
    --------
    >>> import pandas as pd
    >>> import toolkit as tk
    >>> df = pd.DataFrame({"dept": ["A"] * 5 + ["B"] * 5,
    ...                    "likes": [4.0, 6, 7, 8, 9, 1, 2, 5, 4, 5]})
    >>> res = tk.brunner_munzel(df, dv="likes", between="dept")
    >>> round(float(res["estimate"].iloc[0]), 2)
    0.9
    """
    func = "brunner_munzel"
    alternative = check_alternative(alternative, func)
    level = check_probability(confidence_level, func, "confidence_level")
    gd = _prepare(data, dv, between, groups, func, nan_policy)
    a, b = gd.group(0), gd.group(1)
    na, nb = a.size, b.size
    r = stats.rankdata(np.concatenate([a, b]))
    ra, rb = r[:na], r[na:]
    rwa, rwb = stats.rankdata(a), stats.rankdata(b)
    ma, mb = float(ra.mean()), float(rb.mean())
    sa2 = float(np.sum((ra - rwa - ma + (na + 1) / 2.0) ** 2)) / (na - 1)
    sb2 = float(np.sum((rb - rwb - mb + (nb + 1) / 2.0) ** 2)) / (nb - 1)
    denom = na * sa2 + nb * sb2
    if denom <= 0.0:
        raise ValueError(message(func, "dv", "values whose placements vary within at least one group",
                                 f"zero rank variance for {dv!r}",
                                 "This happens with complete separation of the groups (every value of one "
                                 "group above every value of the other) or all values tied; the Brunner-Munzel "
                                 "statistic is then not defined. Use tk.mann_whitney (exact) or a permutation "
                                 "test."))
    w = na * nb * (ma - mb) / ((na + nb) * math.sqrt(denom))
    df = denom ** 2 / ((na * sa2) ** 2 / (na - 1) + (nb * sb2) ** 2 / (nb - 1))
    p_hat = (ma - (na + 1) / 2.0) / nb
    dist = stats.t(df)
    p = _tail_p(dist.cdf, dist.sf, w, alternative)
    se = math.sqrt(sa2 / (na * nb ** 2) + sb2 / (nb * na ** 2))
    q = float(stats.t.ppf(0.5 + _interval_level(level, alternative) / 2.0, df))
    lo, hi = _one_sided(p_hat - q * se, p_hat + q * se, alternative)
    cd = cliffs_delta(a, b, confidence_level=level)
    row = _row(func, gd, level, alternative, estimate=p_hat, estimate_type="relative_effect",
               estimate_ci_low=lo, estimate_ci_high=hi, statistic=w, df=df, p_value=p,
               effect_size=cd.effect_size, effect_size_type="cliffs_delta", ci_low=cd.ci_low, ci_high=cd.ci_high,
               method="Brunner-Munzel test, t approximation with Satterthwaite df")
    return frame([row], TWO_GROUP_COLUMNS)
