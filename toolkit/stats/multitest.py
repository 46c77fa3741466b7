"""Multiple-comparison correction of p-values (family-wise error rate and false discovery rate)."""
from __future__ import annotations

import numbers

import numpy as np
import pandas as pd

from .._validation import _did_you_mean, message, renamed_keywords

#: Accepted correction names, in the order shown in messages.
P_ADJUST_METHODS: tuple[str, ...] = ("holm", "bonferroni", "hochberg", "hommel", "fdr_bh", "fdr_by", "none")

# Spellings used by R's p.adjust, statsmodels and textbooks, mapped to ours (for the "Did you mean" hint only;
# they are not accepted silently, so that every table shows one name per method).
_ALIASES: dict[str, str] = {
    "bh": "fdr_bh", "fdr": "fdr_bh", "benjamini-hochberg": "fdr_bh", "benjamini_hochberg": "fdr_bh",
    "by": "fdr_by", "benjamini-yekutieli": "fdr_by", "benjamini_yekutieli": "fdr_by",
    "bonf": "bonferroni", "b": "bonferroni", "holm-bonferroni": "holm", "h": "holm", "hs": "holm",
    "simes-hochberg": "hochberg", "sh": "hochberg", "ho": "hommel", "fdr_i": "fdr_bh", "fdr_n": "fdr_by",
    "fdr_p": "fdr_bh", "fdrbh": "fdr_bh", "fdrby": "fdr_by", "no": "none", "null": "none",
}


def check_p_adjust(method, func: str, param: str = "p_adjust") -> str:
    """Check a correction name (one of :data:`P_ADJUST_METHODS`) with a did-you-mean hint."""
    if method in P_ADJUST_METHODS and isinstance(method, str):
        return method
    shown = ", ".join(repr(m) for m in P_ADJUST_METHODS)
    hint = None
    if isinstance(method, str):
        alias = _ALIASES.get(method.strip().lower())
        hint = f"Did you mean {alias!r}?" if alias else (_did_you_mean(method, P_ADJUST_METHODS).strip() or None)
        raise ValueError(message(func, param, f"one of {shown}", method, hint))
    raise TypeError(message(func, param, f"one of {shown}", method))


@renamed_keywords(method="p_adjust")
def adjust_pvalues(p, *, p_adjust="holm"):
    """Adjust p-values for multiple comparisons.

    Controls the family-wise error rate (Holm, Bonferroni, Hochberg, Hommel) or the false discovery
    rate (Benjamini–Hochberg, Benjamini–Yekutieli) of a family of tests. The results equal R's
    ``p.adjust`` for the same method.

    Parameters
    ----------
    p : array-like of float
        One-dimensional p-values, each in [0, 1]. NaN marks a test that was not done.
    p_adjust : {"holm", "bonferroni", "hochberg", "hommel", "fdr_bh", "fdr_by", "none"}, default="holm"
        The correction, with the same keyword and values as every function's ``p_adjust=`` (formerly
        ``method=``, which still works for one release with a ``ToolkitDeprecationWarning``). ``"holm"``
        (Holm 1979) controls the family-wise error rate under any dependence and is uniformly more powerful
        than ``"bonferroni"``. ``"hochberg"`` and ``"hommel"`` are more powerful but need
        independent or positively dependent tests. ``"fdr_bh"`` (Benjamini & Hochberg 1995) controls
        the false discovery rate under independence or positive dependence;
        ``"fdr_by"`` (Benjamini & Yekutieli 2001) under any dependence. ``"none"`` returns the input.

    Returns
    -------
    numpy.ndarray
        float64 array of the same length as ``p``: the adjusted p-values, each >= the raw p-value and
        <= 1, NaN where ``p`` is NaN.

    Raises
    ------
    ValueError
        Unknown method (with a did-you-mean hint, e.g. ``"BH"`` -> ``"fdr_bh"``), p outside [0, 1],
        or an array that is not one-dimensional.
    TypeError
        Non-numeric input.

    See Also
    --------
    pairwise : Pairwise comparisons, which apply this correction by default.
    compact_letter_display : Compact letter display of pairwise comparisons: groups sharing a letter do not
        differ significantly.

    Notes
    -----
    With m non-missing p-values sorted as :math:`p_{(1)} \\le \\dots \\le p_{(m)}`:

    * Bonferroni: :math:`\\min(1, m p_i)`.
    * Holm: :math:`\\tilde p_{(i)} = \\max_{j \\le i} \\min(1, (m - j + 1) p_{(j)})`.
    * Hochberg: :math:`\\tilde p_{(i)} = \\min_{j \\ge i} \\min(1, (m - j + 1) p_{(j)})`.
    * Hommel: the closed-testing procedure with Simes tests, computed with R's algorithm.
    * Benjamini–Hochberg: :math:`\\tilde p_{(i)} = \\min_{j \\ge i} \\min(1, m p_{(j)} / j)`.
    * Benjamini–Yekutieli: as BH multiplied by :math:`\\sum_{j=1}^m 1/j`.

    Missing data: NaN entries stay NaN in place and are *excluded from the family*, so m counts only
    the non-missing p-values (R's ``p.adjust`` default ``n = length(p[!is.na(p)])``). With m = 1 every
    method returns the p-value unchanged; with m = 2 Hommel equals Hochberg (as in R).

    Validated against R 4.2.2 ``p.adjust(p, method = m)`` for every method on seven p vectors (ties,
    p = 1, p down to 1e-300, a single p, NaNs, unsorted input); see tests/reference/pairwise/ and
    tests/test_multitest.py.

    References
    ----------
    Holm, S. (1979). A simple sequentially rejective multiple test procedure. Scandinavian Journal of
    Statistics, 6(2), 65–70. https://www.jstor.org/stable/4615733

    Hochberg, Y. (1988). A sharper Bonferroni procedure for multiple tests of significance. Biometrika,
    75(4), 800–802. https://doi.org/10.1093/biomet/75.4.800

    Hommel, G. (1988). A stagewise rejective multiple test procedure based on a modified Bonferroni test.
    Biometrika, 75(2), 383–386. https://doi.org/10.1093/biomet/75.2.383

    Benjamini, Y., & Hochberg, Y. (1995). Controlling the false discovery rate. Journal of the Royal
    Statistical Society B, 57(1), 289–300. https://doi.org/10.1111/j.2517-6161.1995.tb02031.x

    Benjamini, Y., & Yekutieli, D. (2001). The control of the false discovery rate in multiple testing
    under dependency. Annals of Statistics, 29(4), 1165–1188. https://doi.org/10.1214/aos/1013699998

    Examples
    --------
    >>> import toolkit as tk
    >>> p = [0.01, 0.02, 0.03, 0.04, 0.05]
    >>> tk.adjust_pvalues(p, p_adjust="holm").round(3).tolist()
    [0.05, 0.08, 0.09, 0.09, 0.09]
    >>> tk.adjust_pvalues(p, p_adjust="fdr_bh").round(3).tolist()
    [0.05, 0.05, 0.05, 0.05, 0.05]
    >>> tk.adjust_pvalues([0.01, float("nan"), 0.04], p_adjust="bonferroni").tolist()
    [0.02, nan, 0.08]
    """
    func = "adjust_pvalues"
    method = check_p_adjust(p_adjust, func, "p_adjust")
    arr = _as_pvalues(p, func)
    out = np.full(arr.shape, np.nan)
    ok = ~np.isnan(arr)
    pv = arr[ok]
    m = pv.size
    if method == "none" or m <= 1:
        out[ok] = pv
        return out
    if method == "hommel" and m == 2:
        method = "hochberg"
    if method == "bonferroni":
        adj = np.minimum(1.0, m * pv)
    elif method == "holm":
        order = np.argsort(pv, kind="stable")
        i = np.arange(1, m + 1)
        adj_sorted = np.minimum(1.0, np.maximum.accumulate((m + 1 - i) * pv[order]))
        adj = np.empty(m)
        adj[order] = adj_sorted
    elif method in ("hochberg", "fdr_bh", "fdr_by"):
        order = np.argsort(-pv, kind="stable")  # decreasing
        i = np.arange(m, 0, -1)  # rank of each sorted value (m, m-1, ..., 1)
        if method == "hochberg":
            factor = (m + 1 - i).astype(float)
        else:
            factor = m / i
            if method == "fdr_by":
                factor = factor * np.sum(1.0 / np.arange(1, m + 1))
        adj_sorted = np.minimum(1.0, np.minimum.accumulate(factor * pv[order]))
        adj = np.empty(m)
        adj[order] = adj_sorted
    else:  # hommel, R's algorithm (stats::p.adjust)
        adj = _hommel(pv)
    out[ok] = adj
    return out


def _hommel(pv: np.ndarray) -> np.ndarray:
    n = pv.size
    order = np.argsort(pv, kind="stable")
    ps = pv[order]
    i = np.arange(1, n + 1)
    q = np.full(n, np.min(n * ps / i))
    pa = q.copy()
    for m in range(n - 1, 1, -1):
        i1 = np.arange(0, n - m + 1)  # R: seq_len(n - m + 1)
        i2 = np.arange(n - m + 1, n)  # R: (n - m + 2):n
        q1 = np.min(m * ps[i2] / np.arange(2, m + 1))
        q[i1] = np.minimum(m * ps[i1], q1)
        q[i2] = q[n - m]
        pa = np.maximum(pa, q)
    res = np.maximum(pa, ps)
    out = np.empty(n)
    out[order] = res
    return out


def _as_pvalues(p, func: str) -> np.ndarray:
    if isinstance(p, (str, bytes)) or isinstance(p, pd.DataFrame):
        raise TypeError(message(func, "p", "a one-dimensional array of p-values", type(p).__name__))
    if isinstance(p, numbers.Real) and not isinstance(p, bool):
        p = [p]
    try:
        arr = np.asarray(p, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(message(func, "p", "a one-dimensional array of p-values (numbers)", type(p).__name__,
                                "Convert text with pd.to_numeric first.")) from None
    if arr.ndim != 1:
        raise ValueError(message(func, "p", "a one-dimensional array of p-values", f"an array of shape {arr.shape}",
                                 "Pass one column of p-values, e.g. table['p_value']."))
    finite = arr[~np.isnan(arr)]
    bad = finite[(finite < 0) | (finite > 1)]
    if bad.size:
        raise ValueError(message(func, "p", "p-values between 0 and 1 (NaN allowed)",
                                 f"{bad.size} value(s) outside [0, 1], e.g. {float(bad[0])!r}",
                                 "Pass p-values, not test statistics or percentages."))
    return arr
