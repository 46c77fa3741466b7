"""Posts nested in accounts nested in departments: structure, ICC, design effect, account-level data."""
from __future__ import annotations

import numpy as np
import pandas as pd

from .._docstrings import fill_doc
from .._validation import check_column, check_data, message, numeric_column
from ..stats.icc import icc_anova

NESTING_COLUMNS = ("dv", "between", "subject", "n_posts", "n_accounts", "n_departments",
                   "accounts_in_several_departments", "nested", "mean_posts_per_account",
                   "cv_posts_per_account", "icc", "icc_method", "design_effect", "effective_n", "advice")


@fill_doc
def nesting_summary(data, *, dv, between, subject, exposure=None):
    """Describe how posts are nested in accounts and how much that shrinks the effective sample size.

    Parameters
    ----------
    {{data}}
    dv : str
        Engagement count column.
    {{between_department}}
    subject : str
        Account column (the clustering unit).
    exposure : str, optional
        Exposure column; the ICC is then computed on ``log1p(1000 * dv / exposure)`` instead of ``log1p(dv)``.

    Returns
    -------
    pandas.DataFrame
        One row: dv, between, subject, n_posts, n_accounts, n_departments, accounts_in_several_departments
        (accounts with posts under more than one department label), nested (True when every account belongs to
        one department), mean_posts_per_account, cv_posts_per_account (SD / mean of posts per account), icc,
        icc_method, design_effect, effective_n (n_posts / design_effect), advice (text).

    See Also
    --------
    accounts_per_group : How many accounts (subjects) each group has, and whether groups and accounts can be
        told apart.
    account_level : Aggregate posts to one row per account: total counts, total exposure and their ratio.
    aggregate_posts : Reduce posts to one row per account (or account x period) with sums and pooled rates.

    Notes
    -----
    ICC: one-way ANOVA (method-of-moments) estimator on the log1p rate with department means removed,
    ``(MSB - MSW) / (MSB + (n0 - 1) MSW)`` with ``n0 = (N - sum n_j^2 / N) / (G - 1)`` for unequal account
    sizes; negative estimates are reported as they are (they mean "no clustering"). Design effect for
    unequal cluster sizes (Eldridge, Ashby & Kerry 2006): ``1 + ((cv^2 + 1) m - 1) ICC``, m the mean posts per
    account. Rows with a missing value in the used columns are left out. Validated against Shrout & Fleiss
    (1979), Table 2/4 (ICC(1,1) = 0.17 for their 6 targets x 4 judges).

    References
    ----------
    Shrout, P. E., & Fleiss, J. L. (1979). Intraclass correlations. Psychological Bulletin, 86(2), 420-428.
    doi:10.1037/0033-2909.86.2.420
    Eldridge, S. M., Ashby, D., & Kerry, S. (2006). Sample size for cluster randomized trials: effect of
    coefficient of variation of cluster size and analysis method. International Journal of Epidemiology,
    35(5), 1292-1300. doi:10.1093/ije/dyl129

    Examples
    --------
    >>> import toolkit as tk
    >>> sim = tk.simulate_organization(n_accounts_per_department=4, posts_per_account=30, mixed_share=0.0, seed=1)
    >>> s = tk.models.nesting_summary(sim.data, dv="likes", between="department", subject="account",
    ...                               exposure="reach")
    >>> bool(s["nested"].iloc[0]), int(s["n_accounts"].iloc[0])
    (True, 32)
    >>> bool(s["design_effect"].iloc[0] > 1)
    True
    """
    func = "nesting_summary"
    data = check_data(data, func)
    for name, param in ((dv, "dv"), (between, "between"), (subject, "subject")):
        check_column(data, name, func, param)
    cols = [dv, between, subject] + ([check_column(data, exposure, func, "exposure")] if exposure else [])
    d = data[cols].dropna()
    y = numeric_column(d, dv, func, "dv").to_numpy()
    if exposure:
        e = numeric_column(d, exposure, func, "exposure").to_numpy()
        if np.any(e <= 0):
            raise ValueError(message(func, "exposure", "strictly positive", f"{int((e <= 0).sum())} value(s) <= 0"))
        values = np.log1p(1000.0 * y / e)
        method = f"anova on log1p({dv} per 1,000 {exposure}), department means removed"
    else:
        values = np.log1p(y)
        method = f"anova on log1p({dv}), department means removed"
    acc_codes, _ = pd.factorize(d[subject].astype("object"), sort=True)
    dep_codes, _ = pd.factorize(d[between].astype("object"), sort=True)
    per_acc = pd.DataFrame({"a": acc_codes, "d": dep_codes}).groupby("a")["d"].nunique()
    n_multi = int((per_acc > 1).sum())
    sizes = np.bincount(acc_codes).astype(float)
    m = sizes.mean()
    cv = sizes.std(ddof=0) / m if sizes.size > 1 else 0.0
    icc, _ = icc_anova(values, acc_codes, strata=dep_codes)
    de = 1.0 + ((cv ** 2 + 1.0) * m - 1.0) * icc if np.isfinite(icc) else np.nan
    n = int(y.size)
    if n_multi:
        advice = (f"{n_multi} account(s) post under several department labels (e.g. mixed-team posts): accounts "
                  "are crossed with departments, not nested; a random intercept per account still applies.")
    elif np.isfinite(de) and de > 1.5:
        advice = (f"Posts are clustered (ICC {icc:.2f}, design effect {de:.1f}): {n} posts carry the information "
                  f"of about {n / de:.0f} independent ones. Use subject=... (GLMM) or account-level data; a "
                  "post-level test would be far too optimistic.")
    else:
        advice = "Little clustering by account; a post-level model is acceptable, a GLMM costs little."
    row = {"dv": dv, "between": between, "subject": subject, "n_posts": n, "n_accounts": int(sizes.size),
           "n_departments": int(dep_codes.max()) + 1, "accounts_in_several_departments": n_multi,
           "nested": n_multi == 0, "mean_posts_per_account": m, "cv_posts_per_account": cv, "icc": icc,
           "icc_method": method, "design_effect": de, "effective_n": n / de if np.isfinite(de) else np.nan,
           "advice": advice}
    return pd.DataFrame([row], columns=list(NESTING_COLUMNS))


@fill_doc
def account_level(data, *, dv, exposure, subject, between):
    """Aggregate posts to one row per account: total counts, total exposure and their ratio.

    Parameters
    ----------
    {{data}}
    dv : str
        Count column (summed).
    exposure : str
        Exposure column (summed); the account's rate is the ratio of the sums.
    subject : str
        Account column.
    between : str
        Department column; each account must belong to one department.

    Returns
    -------
    pandas.DataFrame
        One row per account, columns ``<subject>``, ``<between>``, n_posts, ``<dv>`` (sum), ``<exposure>``
        (sum), rate (``dv`` per unit of ``exposure``: sum / sum), rate_per_1000.

    See Also
    --------
    accounts_per_group : How many accounts (subjects) each group has, and whether groups and accounts can be
        told apart.
    nesting_summary : Describe how posts are nested in accounts and how much that shrinks the effective sample
        size.
    aggregate_posts : Reduce posts to one row per account (or account x period) with sums and pooled rates.

    Notes
    -----
    The ratio of sums weights posts by their exposure (a post seen by 10,000 users counts more than one seen
    by 10); it is the account's maximum-likelihood rate under a Poisson model with exposure. Rows with a
    missing value in these columns are left out. An account-level analysis (one value per account) is a
    simple valid alternative to the GLMM when there are enough accounts per department.
    Validated by a hand-computed example in tests/test_nesting.py.

    References
    ----------
    Snijders, T. A. B., & Bosker, R. J. (2012). Multilevel Analysis (2nd ed.). Sage. ISBN 978-1-84920-201-8
    (chapter 3: aggregation). doi:10.1007/978-3-642-04898-2_387

    Examples
    --------
    >>> import pandas as pd
    >>> import toolkit as tk
    >>> posts = pd.DataFrame({"account": ["a", "a", "b"], "department": ["PR", "PR", "IT"],
    ...                       "comments": [1, 3, 2], "reach": [100, 300, 1000]})
    >>> tk.models.account_level(posts, dv="comments", exposure="reach", subject="account",
    ...                         between="department")[["account", "n_posts", "comments", "reach", "rate_per_1000"]]
      account  n_posts  comments  reach  rate_per_1000
    0       a        2         4    400           10.0
    1       b        1         2   1000            2.0
    """
    func = "account_level"
    data = check_data(data, func)
    for name, param in ((dv, "dv"), (exposure, "exposure"), (subject, "subject"), (between, "between")):
        check_column(data, name, func, param)
    d = data[[subject, between, dv, exposure]].dropna()
    y = numeric_column(d, dv, func, "dv")
    e = numeric_column(d, exposure, func, "exposure")
    if (e <= 0).any():
        raise ValueError(message(func, "exposure", "strictly positive", f"{int((e <= 0).sum())} value(s) <= 0"))
    depts = d.groupby(d[subject].astype("object"))[between].agg(lambda s: s.astype("object").nunique())
    if (depts > 1).any():
        bad = depts[depts > 1].index[:3].tolist()
        raise ValueError(message(func, "subject", "nested in `between` (each account in one department)",
                                 f"accounts {bad} with several departments",
                                 "Mixed-team posts break the nesting; drop them or analyse them with "
                                 "fit_engagement_model(..., mixed='membership')."))
    key = d[subject].astype("object")
    out = pd.DataFrame({subject: key, between: d[between].astype("object"), dv: y, exposure: e})
    g = out.groupby(subject, sort=True)
    res = pd.DataFrame({subject: list(g.groups.keys())})
    res[between] = g[between].first().to_numpy()
    res["n_posts"] = g.size().to_numpy()
    res[dv] = g[dv].sum().to_numpy()
    res[exposure] = g[exposure].sum().to_numpy()
    if pd.api.types.is_integer_dtype(data[dv]) and not pd.api.types.is_extension_array_dtype(data[dv]):
        res[dv] = res[dv].astype("int64")
    if pd.api.types.is_integer_dtype(data[exposure]) and not pd.api.types.is_extension_array_dtype(data[exposure]):
        res[exposure] = res[exposure].astype("int64")
    res["rate"] = res[dv] / res[exposure]
    res["rate_per_1000"] = 1000.0 * res["rate"]
    if isinstance(data[between].dtype, pd.CategoricalDtype):
        res[between] = pd.Categorical(res[between], categories=data[between].cat.categories,
                                      ordered=data[between].cat.ordered)
    return res.reset_index(drop=True)
