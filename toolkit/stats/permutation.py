"""Permutation version of the omnibus tests: F, Welch's F or Kruskal–Wallis H against its
permutation distribution (one row with ``OMNIBUS_COLUMNS``)."""
from __future__ import annotations

import numpy as np

from .._docstrings import fill_doc
from .._validation import check_integer, check_option, check_random_state, message
from .prepare import prepare_groups
from .schema import OMNIBUS_COLUMNS, frame
from .resampling import OMNIBUS_STATISTICS, permutation_distribution, permutation_p_value

__all__ = ["permutation_omnibus"]

_LABELS = {"f": "the one-way ANOVA F", "welch": "Welch's F", "kruskal": "Kruskal-Wallis H"}


@fill_doc
def permutation_omnibus(data, *, dv, between, statistic="welch", n_resamples=9999, seed=None, nan_policy="raise"):
    """Test whether any group differs by permuting group labels (F, Welch's F or Kruskal–Wallis H).

    Parameters
    ----------
    {{data}}
    {{dv}}
    {{between}}
    statistic : {"f", "welch", "kruskal"}, default="welch"
        Test statistic: classic one-way ANOVA F (equal variances), Welch's (1951) heteroscedastic F,
        or the tie-corrected Kruskal–Wallis H on mid-ranks.
    n_resamples : int, default=9999
        Number of random permutations of the group labels.
    seed : None, int or numpy.random.Generator, default=None
        Randomness of the permutations (pass an int for a reproducible p-value).
        The same int gives the same numbers on every run; None draws fresh randomness.
    {{nan_policy}}

    Returns
    -------
    pandas.DataFrame
        One row with the columns

        - ``test``: "permutation_omnibus"; ``dv``, ``between``: the column names;
        - ``statistic``: the observed F, Welch F or H (same values as ``tk.anova``, ``tk.welch_anova``,
          ``tk.kruskal``);
        - ``df_between``, ``df_within``: NaN (the p-value uses no F or chi-square reference
          distribution; the nominal df are reported by the parametric functions);
        - ``p_value``: permutation p-value (1 + #{T* >= T}) / (B + 1);
        - ``ss_between``, ``ss_within``: NaN;
        - ``effect_size``, ``effect_size_type``, ``ci_low``, ``ci_high``: NaN (use ``tk.anova`` or
          ``tk.effect_sizes`` for effect sizes);
        - ``omega_squared``, ``omega_squared_ci_low``, ``omega_squared_ci_high``: NaN;
        - ``confidence_level``: NaN (no interval is computed);
        - ``n`` (values used), ``n_groups``, ``n_dropped``;
        - ``alternative``: "two-sided" (any difference among the groups; large values of the
          statistic are extreme);
        - ``method``: e.g. "permutation of Welch's F (9,999 resamples)".

    Raises
    ------
    ValueError
        When the statistic is not defined on the observed data (Welch: a group with zero variance;
        F: zero variance within every group; H: all values identical), plus the ``prepare_groups``
        checks.

    See Also
    --------
    anova, welch_anova, kruskal : the same statistics with asymptotic p-values.

    Notes
    -----
    Under the null hypothesis that the group labels are exchangeable (identical distributions), every
    relabelling of the n values into groups of the observed sizes is equally likely. The p-value is
    p = (1 + #{b : T*_b >= T}) / (B + 1) (Phipson & Smyth 2010), never 0; null values within 100 ulp
    of T count as ties. The test is exact for the null of identical distributions (exchangeable
    labels), whatever the statistic. Used as a test of equal means, the classic F can be badly
    calibrated when variances and group sizes both differ; a studentized statistic such as Welch's F
    keeps the permutation test asymptotically valid for equal means under unequal variances
    (Chung & Romano 2013), which is why it is the default.

    Computation (``toolkit.stats.resampling.permutation_distribution``): for tied data (counts)
    each permutation's value-by-group table is drawn exactly from its multivariate hypergeometric
    distribution (value-wise hypergeometric splits plus a shuffle of the rarest values), from which
    group sums, sums of squares and rank sums follow; otherwise the values are shuffled in chunks
    and summed with ``np.add.reduceat``. Both are exact permutation samplers. Permutations in
    which Welch's F is undefined (a permuted group with zero variance) never count as extreme.

    Missing data: per ``nan_policy``. Validated against ``scipy.stats.permutation_test`` (p-values
    within Monte-Carlo error), against exact enumeration of all relabellings of a small data set, and
    by the uniformity of p under the null (tests/test_permutation.py).

    References
    ----------
    Phipson, B., & Smyth, G. K. (2010). Permutation p-values should never be zero: calculating
    exact p-values when permutations are randomly drawn. Statistical Applications in Genetics and
    Molecular Biology, 9(1), Article 39. doi:10.2202/1544-6115.1585
    Chung, E., & Romano, J. P. (2013). Exact and asymptotically robust permutation tests. The
    Annals of Statistics, 41(2), 484-507. doi:10.1214/13-AOS1090
    Welch, B. L. (1951). On the comparison of several mean values: An alternative approach.
    Biometrika, 38(3/4), 330-336. doi:10.1093/biomet/38.3-4.330

    Examples
    --------
    >>> import toolkit as tk
    >>> posts = tk.simulate_organization(seed=1).data
    >>> res = tk.permutation_omnibus(posts, dv="likes", between="department", n_resamples=999, seed=1)
    >>> res.shape, res["method"].iloc[0]
    ((1, 22), "permutation of Welch's F (999 resamples)")
    >>> bool(0 < res["p_value"].iloc[0] <= 1)
    True
    """
    func = "permutation_omnibus"
    check_option(statistic, OMNIBUS_STATISTICS, func, "statistic")
    n_resamples = check_integer(n_resamples, func, "n_resamples")
    rng = check_random_state(seed, func)
    gd = prepare_groups(data, dv=dv, between=between, func=func, nan_policy=nan_policy, min_size=2)
    _check_defined(gd, statistic, func)
    observed, null = permutation_distribution(gd.values, gd.sizes, statistic=statistic, n_resamples=n_resamples,
                                              seed=rng)
    row = {"test": func, "dv": gd.dv, "between": gd.between, "statistic": observed,
           "p_value": permutation_p_value(null, observed, "greater"), "n": gd.n, "n_groups": gd.k,
           "n_dropped": gd.n_dropped, "alternative": "two-sided",
           "method": f"permutation of {_LABELS[statistic]} ({n_resamples:,} resamples)"}
    return frame([row], OMNIBUS_COLUMNS)


def _check_defined(gd, statistic, func):
    mx = np.maximum.reduceat(gd.values, gd.starts)
    mn = np.minimum.reduceat(gd.values, gd.starts)
    constant = mx == mn
    if statistic == "welch" and constant.any():
        bad = [gd.labels[i] for i in np.flatnonzero(constant)]
        raise ValueError(message(func, "dv", "a variable with non-zero variance in every group for "
                                             "statistic='welch'", f"zero variance of {gd.dv!r} in group(s) {bad!r}",
                                 "Welch's weights n/s^2 are infinite there; use statistic='f' or 'kruskal'."))
    if statistic == "f" and constant.all():
        raise ValueError(message(func, "dv", "a variable that varies within at least one group",
                                 f"zero variance of {gd.dv!r} within every group",
                                 "F divides by the within-group variance, which is 0 here."))
    if statistic == "kruskal" and gd.values.min() == gd.values.max():
        raise ValueError(message(func, "dv", "a variable with at least two distinct values",
                                 f"all values of {gd.dv!r} equal {gd.values[0]!r}", show_got=True))
