"""Practitioner polls: proportions with confidence intervals, goodness of fit, two-poll comparisons,
multiple-response questions, Likert items and the precision of a published percentage.

Input is tidy: one row per respondent. A single-choice question is one text or categorical column
(the chosen option); a multiple-response question ("tick all that apply") is one 0/1 indicator column per
option; a Likert item is one column of ordered labels. Every function returns a tidy table with a fixed
set of columns (the ``*_COLUMNS`` tuples below); options change values, never columns.
"""
from __future__ import annotations

import math
import numbers
from itertools import combinations

import numpy as np
import pandas as pd
from scipy import stats

from ._docstrings import fill_doc
from ._validation import (check_column, check_data, check_integer, check_nan_policy, check_option,
                          check_probability, check_random_state, message, warn)
from .stats.schema import frame
from .stats.multitest import adjust_pvalues, check_p_adjust

#: Interval methods for one proportion.
CI_METHODS: tuple[str, ...] = ("wilson", "wilson_cc", "clopper_pearson", "agresti_coull")

PROPORTION_COLUMNS: tuple[str, ...] = (
    "option", "count", "n", "proportion", "ci_low", "ci_high", "confidence_level", "method", "simultaneous",
    "n_dropped",
)
GOF_COLUMNS: tuple[str, ...] = (
    "test", "column", "statistic", "df", "p_value", "effect_size", "effect_size_type", "n", "n_options",
    "min_expected", "n_resamples", "n_dropped", "method",
)
COMPARE_POLLS_COLUMNS: tuple[str, ...] = (
    "option", "poll_a", "poll_b", "count_a", "n_a", "proportion_a", "count_b", "n_b", "proportion_b",
    "estimate", "estimate_ci_low", "estimate_ci_high", "statistic", "p_value", "p_adjusted", "p_adjust",
    "omnibus_statistic", "omnibus_df", "omnibus_p_value", "cramers_v", "confidence_level", "n_dropped", "method",
)
MULTIPLE_RESPONSE_COLUMNS: tuple[str, ...] = (
    "option", "count", "n", "proportion", "ci_low", "ci_high", "share_of_mentions", "mentions_per_respondent",
    "cochran_q", "cochran_df", "cochran_p_value", "confidence_level", "method", "n_dropped",
)
COMPARE_OPTIONS_COLUMNS: tuple[str, ...] = (
    "option_a", "option_b", "n", "count_a", "count_b", "estimate", "only_a", "only_b", "statistic", "p_value",
    "p_adjusted", "p_adjust", "n_dropped", "method",
)
LIKERT_COLUMNS: tuple[str, ...] = (
    "item", "group", "level", "score", "count", "proportion", "n", "median_level", "mean_score",
    "mean_ci_low", "mean_ci_high", "confidence_level", "n_dropped",
)
LIKERT_COMPARE_COLUMNS: tuple[str, ...] = (
    "item", "test", "between", "n_groups", "statistic", "df", "p_value", "p_adjusted", "p_adjust",
    "effect_size", "effect_size_type", "ci_low", "ci_high", "confidence_level", "n", "n_dropped", "method",
)


# ---------------------------------------------------------------------------------------------
# interval engines (vectorised; x may be non-integer in precision_table)
# ---------------------------------------------------------------------------------------------
def _z(level: float) -> float:
    return float(stats.norm.ppf(1.0 - (1.0 - level) / 2.0))


def _interval(x, n, level: float, method: str) -> tuple[np.ndarray, np.ndarray]:
    x = np.asarray(x, dtype=float)
    n = np.asarray(n, dtype=float)
    x, n = np.broadcast_arrays(x, n)
    p = x / n
    z = _z(level)
    z2 = z * z
    if method == "wilson":
        centre = (x + z2 / 2.0) / (n + z2)
        half = z / (n + z2) * np.sqrt(x * (n - x) / n + z2 / 4.0)
        lo, hi = centre - half, centre + half
    elif method == "wilson_cc":  # Newcombe (1998a) method 4
        q = 1.0 - p
        with np.errstate(invalid="ignore"):
            lo = (2 * n * p + z2 - 1 - z * np.sqrt(z2 - 2 - 1 / n + 4 * p * (n * q + 1))) / (2 * (n + z2))
            hi = (2 * n * p + z2 + 1 + z * np.sqrt(z2 + 2 - 1 / n + 4 * p * (n * q - 1))) / (2 * (n + z2))
        lo = np.where(x <= 0, 0.0, lo)
        hi = np.where(x >= n, 1.0, hi)
    elif method == "clopper_pearson":
        a = (1.0 - level) / 2.0
        with np.errstate(invalid="ignore"):
            lo = np.where(x <= 0, 0.0, stats.beta.ppf(a, np.maximum(x, 1e-300), n - x + 1))
            hi = np.where(x >= n, 1.0, stats.beta.ppf(1 - a, x + 1, np.maximum(n - x, 1e-300)))
    else:  # agresti_coull
        nt = n + z2
        pt = (x + z2 / 2.0) / nt
        half = z * np.sqrt(pt * (1 - pt) / nt)
        lo, hi = pt - half, pt + half
    return np.clip(lo, 0.0, 1.0), np.clip(hi, 0.0, 1.0)


def _newcombe_hybrid(x1, n1, x2, n2, level: float) -> tuple[float, float, float]:
    p1, p2 = x1 / n1, x2 / n2
    l1, u1 = (float(v) for v in _interval(x1, n1, level, "wilson"))
    l2, u2 = (float(v) for v in _interval(x2, n2, level, "wilson"))
    d = p1 - p2
    return d, d - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2), d + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)


# ---------------------------------------------------------------------------------------------
# input helpers
# ---------------------------------------------------------------------------------------------
def _check_fraction(value, func: str, param: str, *, allow_bounds: bool = True) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(message(func, param, "a proportion between 0 and 1", value))
    value = float(value)
    ok = (0.0 <= value <= 1.0) if allow_bounds else (0.0 < value < 1.0)
    if not ok or math.isnan(value):
        hint = (f"It looks like a percentage; pass {value / 100:g} instead." if 1.0 < value <= 100.0 else None)
        rng = "between 0 and 1" if allow_bounds else "strictly between 0 and 1"
        raise ValueError(message(func, param, f"a proportion {rng}", value, hint))
    return value


def _answers(data, column, func, nan_policy, options):
    data = check_data(data, func)
    column = check_column(data, column, func, "column")
    nan_policy = check_nan_policy(nan_policy, func)
    s = data[column]
    missing = s.isna()
    n_dropped = int(missing.sum())
    if n_dropped and nan_policy == "raise":
        raise ValueError(message(func, "column", "free of missing answers", f"{n_dropped} missing value(s) in "
                                 f"{column!r}", "Pass nan_policy='omit' to drop respondents who did not answer "
                                 "(the proportions are then of those who answered).", show_got=True))
    values = s[~missing]
    if options is None:
        if isinstance(s.dtype, pd.CategoricalDtype):
            labels = list(s.cat.categories)
        else:
            labels = sorted(pd.unique(values.astype(str)).tolist())
    else:
        if isinstance(options, (str, bytes)) or not hasattr(options, "__iter__"):
            raise TypeError(message(func, "options", "a list of option labels", type(options).__name__))
        labels = list(options)
        if len(set(map(str, labels))) != len(labels):
            raise ValueError(message(func, "options", "a list of distinct labels", labels))
    text = values.astype(str)
    known = set(map(str, labels))
    unknown = sorted(set(text) - known)
    if unknown:
        raise ValueError(message(func, "column", "answers among `options`", f"{len(unknown)} other label(s): "
                                 + ", ".join(repr(u) for u in unknown[:10]),
                                 "Add them to `options` or recode them first.", show_got=True))
    counts = text.value_counts()
    count = np.array([int(counts.get(str(lab), 0)) for lab in labels], dtype=np.int64)
    if count.sum() == 0:
        raise ValueError(message(func, "column", "at least one answer", "no non-missing answers",
                                 show_got=True))
    return [str(lab) for lab in labels], count, n_dropped


def _table(labels, count, n, level, method, simultaneous, n_dropped):
    k = len(labels)
    ci_level = 1.0 - (1.0 - level) / k if simultaneous else level
    lo, hi = _interval(count, n, ci_level, method)
    name = ("goodman" if method == "wilson" else f"{method}_bonferroni") if simultaneous else method
    rows = [dict(option=labels[i], count=int(count[i]), n=int(n), proportion=count[i] / n,
                 ci_low=float(lo[i]), ci_high=float(hi[i]), confidence_level=level, method=name,
                 simultaneous=bool(simultaneous), n_dropped=int(n_dropped)) for i in range(k)]
    return frame(rows, PROPORTION_COLUMNS)


# ---------------------------------------------------------------------------------------------
# single-choice questions
# ---------------------------------------------------------------------------------------------
@fill_doc
def proportions(data, *, column, options=None, confidence_level=0.95, method="wilson", simultaneous=False,
                nan_policy="raise"):
    """Estimate the share of respondents choosing each option of a single-choice question.

    Parameters
    ----------
    {{data_respondents}}
    column : str
        The column holding each respondent's single answer (text or categorical).
    options : list of str or None, default=None
        All options in display order. Options nobody chose are kept with count 0. ``None`` uses the
        categories of a categorical column, otherwise the sorted observed labels. Answers outside the list
        are an error.
    confidence_level : float, default=0.95
        Confidence level of the intervals.
    method : {"wilson", "wilson_cc", "clopper_pearson", "agresti_coull"}, default="wilson"
        Interval for each proportion: Wilson score, Wilson with continuity correction, Clopper–Pearson
        exact, or Agresti–Coull.
    simultaneous : bool, default=False
        If True the intervals hold jointly for all k options: each uses level 1 - (1 - confidence_level)/k
        (Bonferroni). With ``method="wilson"`` this is Goodman's (1965) interval.
    nan_policy : {"raise", "omit"}, default="raise"
        Missing answers: error, or drop those respondents (proportions are then of those who answered).

    Returns
    -------
    pandas.DataFrame
        One row per option with columns

        - ``option``: the option label (str).
        - ``count``: respondents who chose it; ``n``: respondents who answered.
        - ``proportion``: count / n.
        - ``ci_low``, ``ci_high``: the interval limits.
        - ``confidence_level``: the requested level (the family level when simultaneous).
        - ``method``: the interval method, ``"goodman"`` or ``"<method>_bonferroni"`` when simultaneous.
        - ``simultaneous``: whether the intervals are simultaneous.
        - ``n_dropped``: respondents dropped for a missing answer.

    See Also
    --------
    proportion_ci : Confidence interval for one published proportion, from its count or its percentage and n.
    multiple_response : Summarise a multiple-response ("tick all that apply") question, per option and overall.

    Notes
    -----
    Wilson: :math:`(x + z^2/2)/(n + z^2) \\pm z/(n + z^2)\\sqrt{x(n-x)/n + z^2/4}`, z the normal quantile
    at 1 - (1 - level)/2. Wilson cc is Newcombe's (1998a) method 4; Clopper–Pearson uses beta quantiles;
    Agresti–Coull centres a Wald interval on :math:`\\tilde p = (x + z^2/2)/(n + z^2)` with
    :math:`\\tilde n = n + z^2`. Goodman's simultaneous interval is the Wilson interval with
    :math:`z^2 = \\chi^2_{1}(1 - \\alpha/k)`.

    The proportions refer to the respondents, who are self-selected in most practitioner polls; the
    interval covers sampling error only.

    Validated against R 4.2.2 ``prop.test(x, n, correct = FALSE)`` (Wilson), ``prop.test(correct = TRUE)``
    (Wilson cc, except where x = n/2 exactly: R then shrinks the correction towards its null value 0.5),
    ``binom.test`` (Clopper–Pearson), and the published formulas for Agresti–Coull and Goodman; see
    tests/reference/survey/.

    References
    ----------
    Wilson, E. B. (1927). Probable inference, the law of succession, and statistical inference. JASA, 22,
    209–212. https://doi.org/10.1080/01621459.1927.10502953

    Newcombe, R. G. (1998a). Two-sided confidence intervals for the single proportion: comparison of seven
    methods. Statistics in Medicine, 17, 857–872.
    https://doi.org/10.1002/(SICI)1097-0258(19980430)17:8<857::AID-SIM777>3.0.CO;2-E

    Goodman, L. A. (1965). On simultaneous confidence intervals for multinomial proportions.
    Technometrics, 7, 247–254. https://doi.org/10.1080/00401706.1965.10490252

    Examples
    --------
    >>> import pandas as pd
    >>> import toolkit as tk
    >>> from toolkit import survey
    >>> poll = pd.DataFrame({"owner": ["PR"] * 35 + ["Marketing"] * 25 + ["IT"] * 20 + ["Management"] * 20})
    >>> res = survey.proportions(poll, column="owner", options=["PR", "Marketing", "IT", "Management",
    ...                                                          "Customer service"])
    >>> res[["option", "count", "proportion"]].values.tolist()[-2:]
    [['Management', 20, 0.2], ['Customer service', 0, 0.0]]
    >>> res.loc[2, ["ci_low", "ci_high"]].astype(float).round(3).tolist()
    [0.133, 0.289]
    """
    func = "proportions"
    level = check_probability(confidence_level, func, "confidence_level")
    method = check_option(method, CI_METHODS, func, "method")
    if not isinstance(simultaneous, (bool, np.bool_)):
        raise TypeError(message(func, "simultaneous", "True or False", simultaneous))
    labels, count, n_dropped = _answers(data, column, func, nan_policy, options)
    return _table(labels, count, int(count.sum()), level, method, bool(simultaneous), n_dropped)


@fill_doc
def proportion_ci(*, count=None, proportion=None, n, confidence_level=0.95, method="wilson"):
    """Confidence interval for one published proportion, from its count or its percentage and n.

    Parameters
    ----------
    count : int or None, default=None
        Respondents who chose the option. Give exactly one of ``count`` and ``proportion``.
    proportion : float or None, default=None
        The published proportion (0.2 for "20 per cent"). The count is taken as ``round(proportion * n)``
        (halves rounded up), because a published percentage is itself rounded.
    n : int
        Respondents who answered (>= 1).
    {{confidence_level_survey}}
    {{method_proportion}}

    Returns
    -------
    pandas.DataFrame
        One row with the columns of :func:`proportions`: ``option`` (NaN), ``count``, ``n``,
        ``proportion`` (count / n), ``ci_low``, ``ci_high``, ``confidence_level``, ``method``,
        ``simultaneous`` (False) and ``n_dropped`` (0).

    See Also
    --------
    proportions : Estimate the share of respondents choosing each option of a single-choice question.
    multiple_response : Summarise a multiple-response ("tick all that apply") question, per option and overall.

    Notes
    -----
    Same formulas as :func:`proportions`. A percentage passed as 20 instead of 0.2 is an error with a
    hint. Validated against R 4.2.2 ``prop.test`` and ``binom.test`` (tests/reference/survey/).

    References
    ----------
    Wilson, E. B. (1927). Probable inference, the law of succession, and statistical inference. JASA, 22,
    209–212. https://doi.org/10.1080/01621459.1927.10502953

    Examples
    --------
    >>> from toolkit import survey
    >>> res = survey.proportion_ci(proportion=0.2, n=100)
    >>> int(res["count"].iloc[0]), res[["ci_low", "ci_high"]].iloc[0].round(3).tolist()
    (20, [0.133, 0.289])
    """
    func = "proportion_ci"
    level = check_probability(confidence_level, func, "confidence_level")
    method = check_option(method, CI_METHODS, func, "method")
    n = check_integer(n, func, "n", minimum=1)
    if (count is None) == (proportion is None):
        raise TypeError(message(func, "count", "given, or `proportion` given, but not both",
                                f"count={count!r}, proportion={proportion!r}", show_got=True))
    if count is not None:
        count = check_integer(count, func, "count", minimum=0)
        if count > n:
            raise ValueError(message(func, "count", f"at most n = {n}", count,
                                     "The count cannot exceed the number of respondents."))
    else:
        proportion = _check_fraction(proportion, func, "proportion")
        count = int(math.floor(proportion * n + 0.5))
    return _table([float("nan")], np.array([count]), n, level, method, False, 0).assign(option=float("nan"))


# ---------------------------------------------------------------------------------------------
@fill_doc
def goodness_of_fit(data, *, column, expected=None, options=None, method="auto", n_resamples=9999, seed=None,
                    nan_policy="raise"):
    """Test whether answers to a single-choice question follow given proportions (chi-square).

    Parameters
    ----------
    {{data_respondents}}
    column : str
        The answer column.
    expected : dict or None, default=None
        Expected proportion per option (summing to 1). ``None`` tests equal shares.
    options : list of str or None, default=None
        All options (zero-count options are kept); see :func:`proportions`. Keys of ``expected`` are added.
    method : {"auto", "asymptotic", "monte_carlo"}, default="auto"
        p-value from the chi-square distribution, or by Monte Carlo from the multinomial under the null.
        "auto" uses Monte Carlo (with a warning) when an expected count is below 5.
    n_resamples : int, default=9999
        Simulated polls for the Monte Carlo p-value ``(1 + #{simulated >= observed}) / (n_resamples + 1)``: 9999
        gives a resolution of exactly 1/10,000, like the permutation p-values of compare_groups (the default was
        10000 until this release; docs/GLOSSARY.md).
    seed : None, int or numpy.random.Generator, default=None
        Randomness for the Monte Carlo p-value.
        The same int gives the same numbers on every run; None draws fresh randomness.
    nan_policy : {"raise", "omit"}, default="raise"
        Missing answers: error or drop.

    Returns
    -------
    pandas.DataFrame
        One row with columns ``test`` ("chi_square_gof"), ``column``, ``statistic`` (Pearson X²), ``df``
        (k - 1), ``p_value``, ``effect_size`` (Cohen's w), ``effect_size_type`` ("cohens_w"), ``n``,
        ``n_options`` (k), ``min_expected`` (smallest expected count), ``n_resamples`` (NaN unless Monte
        Carlo), ``n_dropped``, ``method`` ("asymptotic" or "monte_carlo").

    See Also
    --------
    compare_polls : Compare the answers of two independent polls to the same single-choice question.
    compare_options : Test pairs of options of a multiple-response question with McNemar's test (paired
        answers).

    Notes
    -----
    :math:`X^2 = \\sum_j (O_j - E_j)^2 / E_j` with :math:`E_j = n \\pi_j`; Cohen's
    :math:`w = \\sqrt{X^2 / n}`. The Monte Carlo p-value is :math:`(1 + \\#\\{X^2_b \\ge X^2\\})/(B + 1)`
    as in R's ``chisq.test(simulate.p.value = TRUE)``. Validated against R 4.2.2 ``chisq.test(x)`` and
    ``chisq.test(x, p = p)`` (statistic, df, p); the Monte Carlo p against R's own simulation within its
    sampling error (tests/reference/survey/).

    References
    ----------
    Cohen, J. (1988). Statistical Power Analysis for the Behavioral Sciences (2nd ed.), ch. 7.
    https://doi.org/10.4324/9780203771587

    Hope, A. C. A. (1968). A simplified Monte Carlo significance test procedure. JRSS B, 30, 582–598.
    https://doi.org/10.1111/j.2517-6161.1968.tb00759.x

    Examples
    --------
    >>> import pandas as pd
    >>> from toolkit import survey
    >>> poll = pd.DataFrame({"owner": ["PR"] * 35 + ["Marketing"] * 25 + ["IT"] * 20 + ["Management"] * 20})
    >>> res = survey.goodness_of_fit(poll, column="owner")
    >>> res[["statistic", "df", "p_value"]].iloc[0].round(4).tolist()
    [6.0, 3.0, 0.1116]
    """
    func = "goodness_of_fit"
    method = check_option(method, ("auto", "asymptotic", "monte_carlo"), func, "method")
    if expected is not None and not isinstance(expected, dict):
        raise TypeError(message(func, "expected", "None or a dict {option: proportion}", type(expected).__name__))
    if expected is not None and options is not None:
        options = list(options) + [k for k in expected if str(k) not in set(map(str, options))]
    elif expected is not None and options is None:
        d = check_data(data, func)
        col = check_column(d, column, func, "column")
        s = d[col]
        base = list(s.cat.categories) if isinstance(s.dtype, pd.CategoricalDtype) else sorted(
            pd.unique(s.dropna().astype(str)).tolist())
        options = base + [k for k in expected if str(k) not in set(map(str, base))]
    labels, count, n_dropped = _answers(data, column, func, nan_policy, options)
    k = len(labels)
    if k < 2:
        raise ValueError(message(func, "options", "at least two options", labels))
    n = int(count.sum())
    if expected is None:
        pi = np.full(k, 1.0 / k)
    else:
        keys = {str(key): key for key in expected}
        missing = [lab for lab in labels if lab not in keys]
        if missing:
            raise ValueError(message(func, "expected", "a proportion for every option",
                                     f"none for {missing}", show_got=True))
        pi = np.array([float(expected[keys[lab]]) for lab in labels])
        total = pi.sum()
        if np.any(pi <= 0) or not math.isclose(total, 1.0, abs_tol=1e-6):
            hint = ("It looks like percentages; divide them by 100." if math.isclose(total, 100.0, abs_tol=1e-4)
                    else "Every option needs a positive proportion and they must sum to 1.")
            raise ValueError(message(func, "expected", "positive proportions summing to 1",
                                     f"values summing to {total:g}", hint, show_got=True))
    e = n * pi
    stat = float(np.sum((count - e) ** 2 / e))
    min_e = float(e.min())
    use_mc = method == "monte_carlo" or (method == "auto" and min_e < 5)
    if use_mc:
        n_resamples = check_integer(n_resamples, func, "n_resamples", minimum=1)
        if method == "auto":
            warn(f"{func}: the smallest expected count is {min_e:.3g} (< 5), so the chi-square approximation "
                 f"is unreliable; the p-value is by Monte Carlo from {n_resamples} simulated polls.")
        rng = check_random_state(seed, func)
        sims = rng.multinomial(n, pi, size=n_resamples)
        sim_stat = np.sum((sims - e) ** 2 / e, axis=1)
        p = (1.0 + np.sum(sim_stat >= stat * (1 - 64 * np.finfo(float).eps))) / (n_resamples + 1.0)
    else:
        if min_e < 5:
            warn(f"{func}: the smallest expected count is {min_e:.3g} (< 5); the chi-square p-value may be "
                 "inaccurate. Use method='monte_carlo'.")
        p = float(stats.chi2.sf(stat, k - 1))
    row = dict(test="chi_square_gof", column=str(column), statistic=stat, df=float(k - 1), p_value=float(p),
               effect_size=math.sqrt(stat / n), effect_size_type="cohens_w", n=n, n_options=k, min_expected=min_e,
               n_resamples=float(n_resamples) if use_mc else float("nan"), n_dropped=n_dropped,
               method="monte_carlo" if use_mc else "asymptotic")
    return frame([row], GOF_COLUMNS)


# ---------------------------------------------------------------------------------------------
def _counts_dict(counts, func, param):
    if not isinstance(counts, dict):
        raise TypeError(message(func, param, "a dict {option: count}", type(counts).__name__))
    out = {}
    for key, value in counts.items():
        v = check_integer(value, func, f"{param}[{key!r}]", minimum=0)
        out[str(key)] = v
    if sum(out.values()) == 0:
        raise ValueError(message(func, param, "counts with a positive total (n >= 1)", counts))
    return out


def compare_polls(data=None, *, column=None, between=None, counts_a=None, counts_b=None, confidence_level=0.95,
                  p_adjust="holm", nan_policy="raise"):
    """Compare the answers of two independent polls to the same single-choice question.

    Parameters
    ----------
    data : pandas.DataFrame or None, default=None
        One row per respondent with the answer in ``column`` and the poll in ``between`` (two labels).
        Leave out and pass ``counts_a``/``counts_b`` for published counts.
    column : str or None, default=None
        The answer column.
    between : str or None, default=None
        The column naming the poll (exactly two values).
    counts_a : dict or None, default=None
        Counts per option of poll a, e.g. ``{"PR": 35, "Marketing": 25}``. Options missing in one poll
        count 0.
    counts_b : dict or None, default=None
        Counts per option of poll b.
    confidence_level : float, default=0.95
        Level of the per-option difference intervals.
    p_adjust : str, default="holm"
        Correction of the per-option p-values across options (see :func:`toolkit.adjust_pvalues`).
    nan_policy : {"raise", "omit"}, default="raise"
        Missing answers or poll labels: error or drop.

    Returns
    -------
    pandas.DataFrame
        One row per option with columns ``option``; ``poll_a``, ``poll_b`` (labels); ``count_a``, ``n_a``,
        ``proportion_a``, ``count_b``, ``n_b``, ``proportion_b``; ``estimate`` (proportion_a -
        proportion_b), ``estimate_ci_low``, ``estimate_ci_high`` (Newcombe hybrid score interval);
        ``statistic`` (pooled two-proportion z), ``p_value``, ``p_adjusted``, ``p_adjust``;
        ``omnibus_statistic``, ``omnibus_df``, ``omnibus_p_value`` (chi-square test of homogeneity of
        the 2 × k table, the same on every row); ``cramers_v`` (its effect size); ``confidence_level``,
        ``n_dropped``, ``method``.

    See Also
    --------
    goodness_of_fit : Test whether answers to a single-choice question follow given proportions (chi-square).
    compare_options : Test pairs of options of a multiple-response question with McNemar's test (paired
        answers).

    Notes
    -----
    Per option: :math:`d = p_a - p_b`, interval :math:`[d - \\sqrt{(p_a - l_a)^2 + (u_b - p_b)^2},\\;
    d + \\sqrt{(u_a - p_a)^2 + (p_b - l_b)^2}]` with Wilson limits (l, u) (Newcombe 1998, method 10);
    :math:`z = d / \\sqrt{\\bar p (1 - \\bar p)(1/n_a + 1/n_b)}`, two-sided p (= R's
    ``prop.test(correct = FALSE)``). An option chosen by nobody in either poll gets p = NaN and is left out
    of the correction family and of the omnibus test. The per-option tests are dependent (shares sum to
    one); Holm controls the family-wise error under any dependence. Homogeneity: Pearson chi-square on the
    2 × k table without continuity correction; a warning when an expected count is below 5.

    Validated against R 4.2.2 ``chisq.test(rbind(a, b), correct = FALSE)``, ``prop.test(correct = FALSE)``
    with ``p.adjust(method = "holm")``, and Newcombe's method 10 written in R from the paper's formulas
    for the paper's eight examples (tests/reference/survey/).

    References
    ----------
    Newcombe, R. G. (1998). Interval estimation for the difference between independent proportions:
    comparison of eleven methods. Statistics in Medicine, 17, 873–890.
    https://doi.org/10.1002/(SICI)1097-0258(19980430)17:8<873::AID-SIM779>3.0.CO;2-I

    Examples
    --------
    >>> from toolkit import survey
    >>> res = survey.compare_polls(counts_a={"PR": 56, "Other": 14}, counts_b={"PR": 48, "Other": 32})
    >>> res.loc[res["option"] == "PR", ["estimate", "estimate_ci_low", "estimate_ci_high"]].round(4).values.tolist()
    [[0.2, 0.0524, 0.3339]]
    """
    func = "compare_polls"
    level = check_probability(confidence_level, func, "confidence_level")
    p_adjust = check_p_adjust(p_adjust, func)
    n_dropped = 0
    if data is not None:
        if counts_a is not None or counts_b is not None:
            raise TypeError(message(func, "data", "given without counts_a/counts_b", "both", show_got=False,
                                    hint="Pass either data with column and between, or counts_a and counts_b."))
        data = check_data(data, func)
        column = check_column(data, column, func, "column")
        between = check_column(data, between, func, "between")
        nan_policy = check_nan_policy(nan_policy, func)
        miss = data[column].isna() | data[between].isna()
        n_dropped = int(miss.sum())
        if n_dropped and nan_policy == "raise":
            raise ValueError(message(func, "data", "free of missing answers or poll labels",
                                     f"{n_dropped} row(s) with a missing value", "Pass nan_policy='omit'.",
                                     show_got=True))
        d = data.loc[~miss]
        polls = (list(d[between].cat.categories) if isinstance(d[between].dtype, pd.CategoricalDtype)
                 else sorted(pd.unique(d[between].astype(str)).tolist()))
        polls = [p for p in polls if (d[between].astype(str) == str(p)).any()]
        if len(polls) != 2:
            raise ValueError(message(func, "between", "a column with exactly two polls", f"{len(polls)}: {polls}"))
        s = d[column]
        labels = (list(map(str, s.cat.categories)) if isinstance(s.dtype, pd.CategoricalDtype)
                  else sorted(pd.unique(s.astype(str)).tolist()))
        tab = pd.crosstab(d[between].astype(str), s.astype(str)).reindex(index=[str(p) for p in polls],
                                                                          columns=labels, fill_value=0)
        ca, cb = tab.iloc[0].to_numpy(np.int64), tab.iloc[1].to_numpy(np.int64)
        name_a, name_b = str(polls[0]), str(polls[1])
    else:
        if counts_a is None or counts_b is None:
            raise TypeError(message(func, "data", "a DataFrame, or both counts_a and counts_b given", None,
                                    show_got=False))
        a = _counts_dict(counts_a, func, "counts_a")
        b = _counts_dict(counts_b, func, "counts_b")
        labels = list(a) + [k for k in b if k not in a]
        ca = np.array([a.get(k, 0) for k in labels], dtype=np.int64)
        cb = np.array([b.get(k, 0) for k in labels], dtype=np.int64)
        name_a, name_b = "a", "b"
    na, nb = int(ca.sum()), int(cb.sum())
    used = (ca + cb) > 0
    obs = np.vstack([ca[used], cb[used]]).astype(float)
    exp = obs.sum(axis=1, keepdims=True) * obs.sum(axis=0, keepdims=True) / obs.sum()
    if exp.min() < 5:
        warn(f"{func}: the smallest expected count of the homogeneity test is {exp.min():.3g} (< 5); its "
             "chi-square p-value may be inaccurate.")
    k_used = int(used.sum())
    chi2 = float(np.sum((obs - exp) ** 2 / exp)) if k_used >= 2 else float("nan")
    df = float(k_used - 1) if k_used >= 2 else float("nan")
    p_omni = float(stats.chi2.sf(chi2, df)) if k_used >= 2 else float("nan")
    v = math.sqrt(chi2 / (na + nb)) if k_used >= 2 else float("nan")  # min(r-1, c-1) = 1
    rows, pvals = [], []
    for j, lab in enumerate(labels):
        d_, lo, hi = _newcombe_hybrid(ca[j], na, cb[j], nb, level)
        pbar = (ca[j] + cb[j]) / (na + nb)
        if 0 < pbar < 1:
            z = d_ / math.sqrt(pbar * (1 - pbar) * (1 / na + 1 / nb))
            p = float(2 * stats.norm.sf(abs(z)))
        else:
            z, p = float("nan"), float("nan")
        pvals.append(p)
        rows.append(dict(option=lab, poll_a=name_a, poll_b=name_b, count_a=int(ca[j]), n_a=na,
                         proportion_a=ca[j] / na, count_b=int(cb[j]), n_b=nb, proportion_b=cb[j] / nb,
                         estimate=d_, estimate_ci_low=lo, estimate_ci_high=hi, statistic=z, p_value=p,
                         p_adjust=p_adjust, omnibus_statistic=chi2, omnibus_df=df, omnibus_p_value=p_omni,
                         cramers_v=v, confidence_level=level, n_dropped=n_dropped,
                         method="newcombe_hybrid_score; pooled z; pearson chi-square"))
    adj = adjust_pvalues(np.array(pvals), p_adjust=p_adjust)
    for row, pa in zip(rows, adj):
        row["p_adjusted"] = float(pa)
    return frame(rows, COMPARE_POLLS_COLUMNS)


# ---------------------------------------------------------------------------------------------
# multiple-response questions
# ---------------------------------------------------------------------------------------------
def _indicators(data, columns, func, nan_policy, minimum=1):
    data = check_data(data, func)
    if isinstance(columns, str) or not hasattr(columns, "__iter__"):
        raise TypeError(message(func, "columns", "a list of 0/1 indicator column names", columns))
    columns = [check_column(data, c, func, "columns") for c in columns]
    if len(columns) < minimum or len(set(columns)) != len(columns):
        raise ValueError(message(func, "columns", f"at least {minimum} distinct column name(s)", columns))
    nan_policy = check_nan_policy(nan_policy, func)
    block = data[columns]
    for c in columns:
        s = block[c]
        if not (pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s)):
            raise TypeError(message(func, "columns", "0/1 (or True/False) indicator columns",
                                    f"{c!r} with dtype {s.dtype}", "Code 'chosen' as 1 and 'not chosen' as 0."))
    values = block.astype("float64")
    miss = values.isna().any(axis=1)
    n_dropped = int(miss.sum())
    if n_dropped and nan_policy == "raise":
        raise ValueError(message(func, "columns", "free of missing values", f"{n_dropped} respondent(s) with a "
                                 "missing indicator", "Pass nan_policy='omit' to drop them (complete cases, so "
                                 "that options stay paired within respondent).", show_got=True))
    values = values.loc[~miss]
    bad = sorted(float(v) for v in set(np.unique(values.to_numpy())) - {0.0, 1.0})
    if bad:
        raise ValueError(message(func, "columns", "0/1 indicators", f"other values {bad[:10]}",
                                 "Code 'chosen' as 1 and 'not chosen' as 0.", show_got=True))
    if len(values) == 0:
        raise ValueError(message(func, "data", "at least one respondent", 0))
    return columns, values.to_numpy(), n_dropped


@fill_doc
def multiple_response(data, *, columns, confidence_level=0.95, method="wilson", nan_policy="raise"):
    """Summarise a multiple-response ("tick all that apply") question, per option and overall.

    Parameters
    ----------
    {{data_respondents}}
    columns : list of str
        One 0/1 (or boolean) indicator column per option: 1 if the respondent ticked it.
    confidence_level : float, default=0.95
        Level of the per-option intervals.
    method : {"wilson", "wilson_cc", "clopper_pearson", "agresti_coull"}, default="wilson"
        Interval for each option's proportion of respondents.
    nan_policy : {"raise", "omit"}, default="raise"
        Respondents with a missing indicator: error, or drop them from every option (complete cases).

    Returns
    -------
    pandas.DataFrame
        One row per option with columns ``option``, ``count`` (respondents who ticked it), ``n``
        (respondents), ``proportion`` (count / n: share of *respondents*), ``ci_low``, ``ci_high``,
        ``share_of_mentions`` (count / all ticks: share of *mentions*, sums to 1), ``mentions_per_respondent``
        (mean ticks per respondent), ``cochran_q``, ``cochran_df``, ``cochran_p_value`` (Cochran's Q test
        that all options are ticked equally often; the same on every row, NaN with one option),
        ``confidence_level``, ``method``, ``n_dropped``.

    See Also
    --------
    proportions : Estimate the share of respondents choosing each option of a single-choice question.
    proportion_ci : Confidence interval for one published proportion, from its count or its percentage and n.

    Notes
    -----
    The proportions do not sum to 1: a respondent may tick several options. Options are answered by the
    same respondents, so comparing them needs paired tests: Cochran's
    :math:`Q = (k-1)[k\\sum_j C_j^2 - N^2] / (kN - \\sum_i R_i^2)` (C column totals, R row totals, N all
    ticks) on k - 1 df; pairs with :func:`compare_options` (McNemar). A chi-square test on the mention
    counts would treat ticks as independent and is wrong here. Validated against R 4.2.2
    ``rstatix::cochran_qtest`` and ``prop.test`` (tests/reference/survey/).

    References
    ----------
    Cochran, W. G. (1950). The comparison of percentages in matched samples. Biometrika, 37, 256–266.
    https://doi.org/10.1093/biomet/37.3-4.256

    Examples
    --------
    >>> import pandas as pd
    >>> from toolkit import survey
    >>> poll = pd.DataFrame({"marketing": [1, 1, 0, 1], "pr": [1, 0, 0, 1], "it": [0, 0, 1, 0]})
    >>> res = survey.multiple_response(poll, columns=["marketing", "pr", "it"])
    >>> res[["option", "proportion", "share_of_mentions"]].values.tolist()
    [['marketing', 0.75, 0.5], ['pr', 0.5, 0.3333333333333333], ['it', 0.25, 0.16666666666666666]]
    """
    func = "multiple_response"
    level = check_probability(confidence_level, func, "confidence_level")
    method = check_option(method, CI_METHODS, func, "method")
    columns, x, n_dropped = _indicators(data, columns, func, nan_policy)
    n, k = x.shape
    col = x.sum(axis=0)
    row = x.sum(axis=1)
    total = float(col.sum())
    lo, hi = _interval(col, n, level, method)
    q = df = p = float("nan")
    if k >= 2:
        den = k * total - float(np.sum(row ** 2))
        if den > 0:
            q = (k - 1) * (k * float(np.sum(col ** 2)) - total ** 2) / den
            df = float(k - 1)
            p = float(stats.chi2.sf(q, df))
    rows = [dict(option=str(c), count=int(col[j]), n=int(n), proportion=col[j] / n, ci_low=float(lo[j]),
                 ci_high=float(hi[j]), share_of_mentions=col[j] / total if total else float("nan"),
                 mentions_per_respondent=total / n, cochran_q=q, cochran_df=df, cochran_p_value=p,
                 confidence_level=level, method=method, n_dropped=n_dropped) for j, c in enumerate(columns)]
    return frame(rows, MULTIPLE_RESPONSE_COLUMNS)


@fill_doc
def compare_options(data, *, columns, method="exact", p_adjust="holm", nan_policy="raise"):
    """Test pairs of options of a multiple-response question with McNemar's test (paired answers).

    Parameters
    ----------
    {{data_respondents}}
    columns : list of str
        The 0/1 indicator columns (at least two); every pair is tested.
    method : {"exact", "asymptotic", "asymptotic_cc"}, default="exact"
        "exact": two-sided binomial test of the discordant pairs (valid for small counts);
        "asymptotic": McNemar chi-square; "asymptotic_cc": with continuity correction (R's default).
    p_adjust : str, default="holm"
        Correction across the pairs (see :func:`toolkit.adjust_pvalues`).
    nan_policy : {"raise", "omit"}, default="raise"
        Respondents with a missing indicator: error or drop (complete cases).

    Returns
    -------
    pandas.DataFrame
        One row per pair with columns ``option_a``, ``option_b``, ``n`` (respondents), ``count_a``,
        ``count_b`` (ticks), ``estimate`` (proportion_a - proportion_b), ``only_a``, ``only_b``
        (discordant respondents), ``statistic`` (McNemar chi-square; with correction for
        "asymptotic_cc"), ``p_value``, ``p_adjusted``, ``p_adjust``, ``n_dropped``, ``method``.

    See Also
    --------
    goodness_of_fit : Test whether answers to a single-choice question follow given proportions (chi-square).
    compare_polls : Compare the answers of two independent polls to the same single-choice question.

    Notes
    -----
    With b = only_a and c = only_b: :math:`X^2 = (b - c)^2/(b + c)` (cc: :math:`(|b - c| - 1)^2/(b + c)`)
    on 1 df; exact p = two-sided binomial p of b in b + c trials at 1/2. With b + c = 0 the statistic is 0
    and p = 1. Validated against R 4.2.2 ``mcnemar.test(correct = TRUE/FALSE)`` and ``binom.test``
    (tests/reference/survey/).

    References
    ----------
    McNemar, Q. (1947). Note on the sampling error of the difference between correlated proportions or
    percentages. Psychometrika, 12, 153–157. https://doi.org/10.1007/BF02295996

    Examples
    --------
    >>> import pandas as pd
    >>> from toolkit import survey
    >>> poll = pd.DataFrame({"marketing": [1, 1, 1, 1, 1, 0], "pr": [1, 0, 0, 0, 0, 0]})
    >>> res = survey.compare_options(poll, columns=["marketing", "pr"])
    >>> int(res["only_a"].iloc[0]), int(res["only_b"].iloc[0]), float(res["p_value"].iloc[0])
    (4, 0, 0.125)
    """
    func = "compare_options"
    method = check_option(method, ("exact", "asymptotic", "asymptotic_cc"), func, "method")
    p_adjust = check_p_adjust(p_adjust, func)
    columns, x, n_dropped = _indicators(data, columns, func, nan_policy, minimum=2)
    n = x.shape[0]
    rows, pvals = [], []
    for i, j in combinations(range(len(columns)), 2):
        b = int(np.sum((x[:, i] == 1) & (x[:, j] == 0)))
        c = int(np.sum((x[:, i] == 0) & (x[:, j] == 1)))
        if b + c == 0:
            stat, p = 0.0, 1.0
        elif method == "asymptotic_cc":
            stat = (abs(b - c) - 1.0) ** 2 / (b + c)
            p = float(stats.chi2.sf(stat, 1))
        else:
            stat = (b - c) ** 2 / (b + c)
            p = float(stats.chi2.sf(stat, 1)) if method == "asymptotic" else float(
                stats.binomtest(b, b + c, 0.5).pvalue)
        pvals.append(p)
        rows.append(dict(option_a=str(columns[i]), option_b=str(columns[j]), n=int(n),
                         count_a=int(x[:, i].sum()), count_b=int(x[:, j].sum()),
                         estimate=(b - c) / n, only_a=b, only_b=c, statistic=float(stat), p_value=p,
                         p_adjust=p_adjust, n_dropped=n_dropped, method=f"mcnemar_{method}"))
    adj = adjust_pvalues(np.array(pvals), p_adjust=p_adjust)
    for row, pa in zip(rows, adj):
        row["p_adjusted"] = float(pa)
    return frame(rows, COMPARE_OPTIONS_COLUMNS)


# ---------------------------------------------------------------------------------------------
# Likert items
# ---------------------------------------------------------------------------------------------
def _likert_scores(data, columns, levels, func, nan_policy, between=None):
    data = check_data(data, func)
    if isinstance(columns, str) or not hasattr(columns, "__iter__"):
        raise TypeError(message(func, "columns", "a list of item column names", columns))
    columns = [check_column(data, c, func, "columns") for c in columns]
    if isinstance(levels, str) or not hasattr(levels, "__iter__"):
        raise TypeError(message(func, "levels", "a list of ordered level labels", levels))
    levels = list(levels)
    if len(levels) < 2 or len(set(map(str, levels))) != len(levels):
        raise ValueError(message(func, "levels", "at least two distinct ordered labels", levels))
    nan_policy = check_nan_policy(nan_policy, func)
    if between is not None:
        between = check_column(data, between, func, "between")
    code = {str(lab): i + 1 for i, lab in enumerate(levels)}
    numeric_levels = all(isinstance(lab, numbers.Real) and not isinstance(lab, bool) for lab in levels)
    out = {}
    for c in columns:
        s = data[c]
        if numeric_levels and pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
            # numeric codes (possibly float because of NaN): match by value, not by text
            num = {float(lab): str(lab) for lab in levels}
            s = s.astype("float64").map(lambda v: num.get(v, repr(v)), na_action="ignore")
        miss = s.isna() | (data[between].isna() if between is not None else False)
        text = s[~miss].astype(str)
        unknown = sorted(set(text) - set(code))
        if unknown:
            raise ValueError(message(func, "columns", f"values among `levels` in {c!r}",
                                     f"{len(unknown)} other value(s): " + ", ".join(repr(u) for u in unknown[:10]),
                                     f"Levels are {levels}. Recode or add them.", show_got=True))
        if miss.any() and nan_policy == "raise":
            raise ValueError(message(func, "columns", f"free of missing values in {c!r}",
                                     f"{int(miss.sum())} missing", "Pass nan_policy='omit' (dropped per item).",
                                     show_got=True))
        out[c] = (s.astype(str).map(code).where(~miss), int(miss.sum()))
    return columns, levels, between, out


@fill_doc
def likert(data, *, columns, levels, between=None, confidence_level=0.95, nan_policy="raise"):
    """Tabulate Likert items: the distribution over the ordered levels, the median level and the mean score.

    Parameters
    ----------
    {{data_respondents}}
    columns : list of str
        The item columns; their values are labels from ``levels``.
    levels : list
        The ordered response labels, lowest first (scored 1, 2, ..., K).
    between : str or None, default=None
        Optional grouping column: one distribution per group.
    confidence_level : float, default=0.95
        Level of the t interval for the mean score.
    nan_policy : {"raise", "omit"}, default="raise"
        Missing answers: error, or drop per item.

    Returns
    -------
    pandas.DataFrame
        One row per item × group × level with columns ``item``, ``group`` (NaN without ``between``),
        ``level``, ``score`` (1..K), ``count``, ``proportion`` (of the item/group's answers), ``n``,
        ``median_level`` (the lowest level whose cumulative proportion reaches 0.5), ``mean_score``,
        ``mean_ci_low``, ``mean_ci_high`` (t interval), ``confidence_level``, ``n_dropped``
        (the last seven repeat within item × group).

    See Also
    --------
    likert_compare : Compare groups on each Likert item with Mann–Whitney (two groups) or Kruskal–Wallis (more).

    Notes
    -----
    Mean scores treat the levels as equally spaced; the distribution and the median do not. Levels nobody
    chose are kept with count 0. Values outside ``levels`` are an error listing them. Mean interval:
    :math:`\\bar x \\pm t_{n-1} s/\\sqrt n` (NaN for n < 2). Validated by hand counts in
    tests/test_survey.py; the comparison between groups is :func:`likert_compare`.

    References
    ----------
    Likert, R. (1932). A technique for the measurement of attitudes. Archives of Psychology, 140.

    Jamieson, S. (2004). Likert scales: how to (ab)use them. Medical Education, 38, 1217–1218.
    https://doi.org/10.1111/j.1365-2929.2004.02012.x

    Examples
    --------
    >>> import pandas as pd
    >>> from toolkit import survey
    >>> levels = ["disagree", "neutral", "agree"]
    >>> poll = pd.DataFrame({"q1": ["agree", "agree", "neutral", "disagree"]})
    >>> res = survey.likert(poll, columns=["q1"], levels=levels)
    >>> res[["level", "count", "median_level", "mean_score"]].values.tolist()
    [['disagree', 1, 'neutral', 2.25], ['neutral', 1, 'neutral', 2.25], ['agree', 2, 'neutral', 2.25]]
    """
    func = "likert"
    level = check_probability(confidence_level, func, "confidence_level")
    columns, levels, between, scored = _likert_scores(data, columns, levels, func, nan_policy, between)
    k = len(levels)
    rows = []
    if between is not None:
        g = data[between]
        groups = (list(g.cat.categories) if isinstance(g.dtype, pd.CategoricalDtype)
                  else sorted(pd.unique(g.dropna().astype(str)).tolist()))
    else:
        groups = [None]
    for c in columns:
        scores, dropped = scored[c]
        for grp in groups:
            sel = scores.notna() if grp is None else scores.notna() & (data[between].astype(str) == str(grp))
            v = scores[sel].to_numpy(float)
            n = v.size
            counts = np.array([np.sum(v == i + 1) for i in range(k)])
            if n:
                cum = np.cumsum(counts) / n
                med = levels[int(np.argmax(cum >= 0.5 - 1e-12))]
                mean = float(v.mean())
            else:
                med, mean = float("nan"), float("nan")
            if n >= 2:
                half = float(stats.t.ppf(1 - (1 - level) / 2, n - 1) * v.std(ddof=1) / math.sqrt(n))
                lo, hi = mean - half, mean + half
            else:
                lo = hi = float("nan")
            for i, lab in enumerate(levels):
                rows.append(dict(item=str(c), group=float("nan") if grp is None else str(grp), level=lab,
                                 score=i + 1, count=int(counts[i]), proportion=counts[i] / n if n else float("nan"),
                                 n=int(n), median_level=med, mean_score=mean, mean_ci_low=lo, mean_ci_high=hi,
                                 confidence_level=level, n_dropped=int(dropped)))
    return frame(rows, LIKERT_COLUMNS)


@fill_doc
def likert_compare(data, *, columns, levels, between, p_adjust="holm", confidence_level=0.95, nan_policy="raise",
                   n_resamples=2000, seed=None):
    """Compare groups on each Likert item with Mann–Whitney (two groups) or Kruskal–Wallis (more).

    Parameters
    ----------
    {{data_respondents}}
    columns : list of str
        The item columns (labels from ``levels``).
    levels : list
        The ordered labels, lowest first (scored 1..K; rank tests use only the order).
    between : str
        The grouping column.
    p_adjust : str, default="holm"
        Correction across items (see :func:`toolkit.adjust_pvalues`).
    confidence_level : float, default=0.95
        Level of the effect-size intervals.
    nan_policy : {"raise", "omit"}, default="raise"
        Missing answers or groups: error, or drop per item.
    n_resamples : int, default=2000
        Passed to :func:`toolkit.kruskal` (three or more groups); it counts only for a bootstrap interval,
        and kruskal's default epsilon-squared interval is analytic since issue 13, so it changes nothing here.
    seed : None, int or numpy.random.Generator, default=None
        Passed with ``n_resamples``; likewise unused by the analytic interval.
        The same int gives the same numbers on every run; None draws fresh randomness.

    Returns
    -------
    pandas.DataFrame
        One row per item with columns ``item``, ``test`` ("mann_whitney" or "kruskal"), ``between``,
        ``n_groups``, ``statistic`` (U or H), ``df`` (NaN for U), ``p_value``, ``p_adjusted``,
        ``p_adjust``, ``effect_size``, ``effect_size_type`` (Cliff's delta or epsilon squared),
        ``ci_low``, ``ci_high``, ``confidence_level``, ``n``, ``n_dropped``, ``method``.

    See Also
    --------
    likert : Tabulate Likert items: the distribution over the ordered levels, the median level and the mean
        score.

    Notes
    -----
    Each item is scored 1..K and passed to :func:`toolkit.mann_whitney` or :func:`toolkit.kruskal`
    (tie-corrected); see those for the formulas and their validation against R. Likert data are heavily
    tied, so the Mann–Whitney p-value is the normal approximation with tie correction.

    References
    ----------
    Kruskal, W. H., & Wallis, W. A. (1952). Use of ranks in one-criterion variance analysis. JASA, 47,
    583–621. https://doi.org/10.1080/01621459.1952.10483441

    Examples
    --------
    >>> import pandas as pd
    >>> from toolkit import survey
    >>> poll = pd.DataFrame({"team": ["PR"] * 6 + ["IT"] * 6,
    ...                      "q1": ["agree"] * 5 + ["neutral"] + ["disagree"] * 4 + ["neutral"] * 2})
    >>> res = survey.likert_compare(poll, columns=["q1"], levels=["disagree", "neutral", "agree"],
    ...                             between="team")
    >>> res[["test", "n_groups", "n"]].values.tolist()
    [['mann_whitney', 2, 12]]
    """
    from .stats.omnibus import kruskal
    from .stats.twogroup import mann_whitney

    func = "likert_compare"
    level = check_probability(confidence_level, func, "confidence_level")
    p_adjust = check_p_adjust(p_adjust, func)
    if between is None:
        raise TypeError(message(func, "between", "the name of the grouping column", None))
    columns, levels, between, scored = _likert_scores(data, columns, levels, func, nan_policy, between)
    rows, pvals = [], []
    for c in columns:
        scores, dropped = scored[c]
        d = pd.DataFrame({"score": scores, "group": data[between].astype("object").where(data[between].notna())})
        d = d.dropna()
        d["group"] = d["group"].astype(str)
        n_groups = int(d["group"].nunique())
        if n_groups == 2:
            r = mann_whitney(d, dv="score", between="group", confidence_level=level).iloc[0]
            test, df = "mann_whitney", float("nan")
        elif n_groups > 2:
            r = kruskal(d, dv="score", between="group", confidence_level=level, n_resamples=n_resamples,
                        seed=seed).iloc[0]
            test, df = "kruskal", float(r["df_between"])
        else:
            raise ValueError(message(func, "between", "at least two groups with answers", n_groups))
        pvals.append(float(r["p_value"]))
        rows.append(dict(item=str(c), test=test, between=str(between), n_groups=n_groups,
                         statistic=float(r["statistic"]), df=df, p_value=float(r["p_value"]), p_adjust=p_adjust,
                         effect_size=float(r["effect_size"]), effect_size_type=r["effect_size_type"],
                         ci_low=float(r["ci_low"]), ci_high=float(r["ci_high"]), confidence_level=level,
                         n=int(r["n"]), n_dropped=int(dropped), method=str(r["method"])))
    adj = adjust_pvalues(np.array(pvals), p_adjust=p_adjust)
    for row, pa in zip(rows, adj):
        row["p_adjusted"] = float(pa)
    return frame(rows, LIKERT_COMPARE_COLUMNS)


# ---------------------------------------------------------------------------------------------
# precision and sample size
# ---------------------------------------------------------------------------------------------
PRECISION_COLUMNS: tuple[str, ...] = (
    "proportion", "n", "count", "ci_low", "ci_high", "width", "margin_below", "margin_above",
    "confidence_level", "method",
)


@fill_doc
def precision_table(*, proportions=(0.2, 0.35), n=(50, 100, 200, 400, 1000), confidence_level=0.95,
                    method="wilson"):
    """Tabulate how precise a reported proportion is at each candidate sample size.

    Parameters
    ----------
    proportions : sequence of float, default=(0.2, 0.35)
        Observed proportions (0.2 for "20 per cent").
    n : sequence of int, default=(50, 100, 200, 400, 1000)
        Candidate numbers of respondents.
    {{confidence_level_survey}}
    {{method_proportion}}

    Returns
    -------
    pandas.DataFrame
        One row per proportion × n with columns ``proportion``, ``n``, ``count`` (proportion × n, not
        rounded), ``ci_low``, ``ci_high``, ``width`` (ci_high - ci_low), ``margin_below``
        (proportion - ci_low), ``margin_above`` (ci_high - proportion), ``confidence_level``, ``method``.

    See Also
    --------
    sample_size_for_margin : Smallest number of respondents whose interval for ``proportion`` has half-width at
        most ``margin``.
    sample_size_for_difference : Respondents needed to detect that two options' shares differ (two-sided test).

    Notes
    -----
    Same formulas as :func:`proportions`, evaluated at x = proportion × n (the intervals are smooth in x,
    so a non-integer x interpolates between the neighbouring counts). The Wilson interval is not
    symmetric about p, hence two margins.

    References
    ----------
    Newcombe, R. G. (1998a). Two-sided confidence intervals for the single proportion: comparison of seven
    methods. Statistics in Medicine, 17, 857–872.
    https://doi.org/10.1002/(SICI)1097-0258(19980430)17:8<857::AID-SIM777>3.0.CO;2-E

    Examples
    --------
    >>> from toolkit import survey
    >>> res = survey.precision_table(proportions=[0.2], n=[50, 1000])
    >>> res[["n", "ci_low", "ci_high"]].round(3).values.tolist()
    [[50.0, 0.112, 0.33], [1000.0, 0.176, 0.226]]
    """
    func = "precision_table"
    level = check_probability(confidence_level, func, "confidence_level")
    method = check_option(method, CI_METHODS, func, "method")
    props = [_check_fraction(p, func, "proportions") for p in np.atleast_1d(np.asarray(proportions, dtype=object))]
    ns = [check_integer(int(v) if isinstance(v, np.integer) else v, func, "n", minimum=1)
          for v in np.atleast_1d(np.asarray(n, dtype=object))]
    rows = []
    for p in props:
        x = np.array(ns, dtype=float) * p
        lo, hi = _interval(x, np.array(ns, dtype=float), level, method)
        for i, nn in enumerate(ns):
            rows.append(dict(proportion=p, n=nn, count=float(x[i]), ci_low=float(lo[i]), ci_high=float(hi[i]),
                             width=float(hi[i] - lo[i]), margin_below=float(p - lo[i]),
                             margin_above=float(hi[i] - p), confidence_level=level, method=method))
    return frame(rows, PRECISION_COLUMNS)


@fill_doc
def sample_size_for_margin(*, proportion, margin, confidence_level=0.95, method="wilson"):
    """Smallest number of respondents whose interval for ``proportion`` has half-width at most ``margin``.

    Parameters
    ----------
    proportion : float
        The anticipated proportion (0.5 is the worst case).
    margin : float
        The wanted half-width, (ci_high - ci_low) / 2, as a proportion (0.05 for ±5 points).
    {{confidence_level_survey}}
    method : {"wilson", "wilson_cc", "clopper_pearson", "agresti_coull"}, default="wilson"
        Interval method.

    Returns
    -------
    int
        The smallest n such that this n and every larger n (up to a safe bound) give half-width <= margin,
        with the interval evaluated at x = proportion × n.

    See Also
    --------
    precision_table : Tabulate how precise a reported proportion is at each candidate sample size.
    sample_size_for_difference : Respondents needed to detect that two options' shares differ (two-sided test).

    Notes
    -----
    Searched exactly over n rather than from the Wald formula :math:`z^2 p(1-p)/m^2`, which is slightly
    off for the Wilson interval and badly off near 0 or 1.

    References
    ----------
    Newcombe, R. G. (1998a). Two-sided confidence intervals for the single proportion: comparison of seven
    methods. Statistics in Medicine, 17, 857–872.
    https://doi.org/10.1002/(SICI)1097-0258(19980430)17:8<857::AID-SIM777>3.0.CO;2-E

    Examples
    --------
    >>> from toolkit import survey
    >>> survey.sample_size_for_margin(proportion=0.2, margin=0.05)
    245
    """
    func = "sample_size_for_margin"
    level = check_probability(confidence_level, func, "confidence_level")
    method = check_option(method, CI_METHODS, func, "method")
    p = _check_fraction(proportion, func, "proportion")
    m = _check_fraction(margin, func, "margin", allow_bounds=False)
    if m >= 0.5:
        raise ValueError(message(func, "margin", "below 0.5", m, "A half-width of 0.5 needs no data."))
    z = _z(level)
    upper = int(math.ceil(2 * z * z / (4 * m * m) + 1 / m + 50))
    ns = np.arange(1, upper + 1, dtype=float)
    lo, hi = _interval(p * ns, ns, level, method)
    fails = np.nonzero((hi - lo) / 2 > m * (1 + 1e-12))[0]
    return int(fails[-1] + 2) if fails.size else 1


def sample_size_for_difference(*, proportion_a, proportion_b, power=0.8, alpha=0.05, design="same_poll"):
    """Respondents needed to detect that two options' shares differ (two-sided test).

    Parameters
    ----------
    proportion_a : float
        Anticipated share of option a (e.g. 0.35 for PR).
    proportion_b : float
        Anticipated share of option b (e.g. 0.25 for Marketing).
    power : float, default=0.8
        Wanted probability of rejecting equality.
    alpha : float, default=0.05
        Two-sided significance level.
    design : {"same_poll", "two_polls"}, default="same_poll"
        "same_poll": both are options of one single-choice question (dependent shares; the test is
        McNemar-type, a versus b among respondents choosing either). "two_polls": the share of one option
        in two independent polls (two-proportion z test); the result is then per poll.

    Returns
    -------
    int
        Total respondents ("same_poll") or respondents per poll ("two_polls"), rounded up.

    See Also
    --------
    precision_table : Tabulate how precise a reported proportion is at each candidate sample size.
    sample_size_for_margin : Smallest number of respondents whose interval for ``proportion`` has half-width at
        most ``margin``.

    Notes
    -----
    Same poll: :math:`\\hat d = \\hat p_a - \\hat p_b` has variance :math:`(p_a + p_b - d^2)/n`, and
    :math:`(p_a + p_b)/n` under equality, so
    :math:`n = [z_{1-\\alpha/2}\\sqrt{p_a + p_b} + z_{power}\\sqrt{p_a + p_b - d^2}]^2 / d^2`
    (checked by simulation in tests/test_survey.py). Two polls:
    :math:`n = [z_{1-\\alpha/2}\\sqrt{2\\bar p\\bar q} + z_{power}\\sqrt{p_a q_a + p_b q_b}]^2/d^2`,
    validated against R 4.2.2 ``power.prop.test`` (tests/reference/survey/).

    References
    ----------
    Fleiss, J. L., Levin, B., & Paik, M. C. (2003). Statistical Methods for Rates and Proportions (3rd ed.),
    ch. 4. https://doi.org/10.1002/0471445428

    Connor, R. J. (1987). Sample size for testing differences in proportions for the paired-sample design.
    Biometrics, 43, 207–211. https://doi.org/10.2307/2531961

    Examples
    --------
    >>> from toolkit import survey
    >>> survey.sample_size_for_difference(proportion_a=0.35, proportion_b=0.25)
    469
    """
    func = "sample_size_for_difference"
    pa = _check_fraction(proportion_a, func, "proportion_a")
    pb = _check_fraction(proportion_b, func, "proportion_b")
    power = check_probability(power, func, "power")
    alpha = check_probability(alpha, func, "alpha")
    design = check_option(design, ("same_poll", "two_polls"), func, "design")
    d = pa - pb
    if d == 0:
        raise ValueError(message(func, "proportion_b", "different from proportion_a", pb,
                                 "Equal shares cannot be told apart at any n."))
    za = float(stats.norm.ppf(1 - alpha / 2))
    zb = float(stats.norm.ppf(power))
    if design == "same_poll":
        if pa + pb > 1:
            raise ValueError(message(func, "proportion_b", "such that proportion_a + proportion_b <= 1 "
                                     "(options of one single-choice question)", pb,
                                     "For a multiple-response question use design='two_polls' only if the "
                                     "polls are independent."))
        n = (za * math.sqrt(pa + pb) + zb * math.sqrt(pa + pb - d * d)) ** 2 / (d * d)
    else:
        pbar = (pa + pb) / 2
        n = (za * math.sqrt(2 * pbar * (1 - pbar)) + zb * math.sqrt(pa * (1 - pa) + pb * (1 - pb))) ** 2 / (d * d)
    return int(math.ceil(n - 1e-9))
