"""Account-level (and account x period) reduction of post-level data: sums that models can use.

Department comparisons are sound at the account level: the account is the clustering unit, and
a Poisson model with categorical predictors that are constant within a cell has the cell sums
as sufficient statistics. :func:`aggregate_posts` reduces posts to one row per cell with integer
sums, the number of posts and ratio-of-sums rates. The Dask path
(:func:`toolkit.distributed.aggregate_posts_dask`) calls the same private building blocks on
each partition (:func:`partial_sums`), adds the partial integer sums (:func:`combine_partial_sums`) and finishes
with the same :func:`finish_aggregate`, so both paths give identical tables.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ._validation import check_column, check_data, check_nan_policy, check_option, message, numeric_column, warn

_FUNC = "aggregate_posts"
PERIODS = (None, "day", "week", "month", "quarter", "year")
_PERIOD_CODES = {"day": "D", "week": "W-SUN", "month": "M", "quarter": "Q", "year": "Y"}


def _names(value, func: str, param: str, *, allow_empty: bool) -> list[str]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value) or (
            not value and not allow_empty):
        raise TypeError(message(func, param, "a column name or a list/tuple of column names"
                                + ("" if allow_empty else " (at least one)"), value))
    if len(set(value)) != len(value):
        raise ValueError(message(func, param, "a list without repeated names", list(value)))
    return list(value)


def check_aggregate_args(data, by, period, time, counts, exposures, nan_policy, func):
    """Validate the options against the columns of ``data`` (pandas or Dask meta)."""
    by_list = _names(by, func, "by", allow_empty=False)
    check_option(period, PERIODS, func, "period")
    count_list = _names(counts, func, "counts", allow_empty=True)
    exposure_list = _names(exposures, func, "exposures", allow_empty=True)
    if not count_list and not exposure_list:
        raise ValueError(message(func, "counts", "at least one count or exposure column to sum", counts,
                                 "For example counts=('likes', 'comments', 'shares')."))
    check_nan_policy(nan_policy, func)
    for b in by_list:
        check_column(data, b, func, "by")
    for c in count_list:
        check_column(data, c, func, "counts")
    for e in exposure_list:
        check_column(data, e, func, "exposures")
    overlap = (set(count_list) | set(exposure_list)) & set(by_list)
    if overlap or set(count_list) & set(exposure_list):
        clash = sorted(overlap or set(count_list) & set(exposure_list))
        raise ValueError(message(func, "counts", "columns that are not also grouping or exposure columns",
                                 clash))
    if period is not None:
        if not isinstance(time, str):
            raise TypeError(message(func, "time", "the name of a datetime column", time))
        check_column(data, time, func, "time")
        if not isinstance(data[time].dtype, pd.DatetimeTZDtype) and not pd.api.types.is_datetime64_dtype(
                data[time].dtype):
            raise TypeError(message(func, "time", "a datetime column", f"{time!r} with dtype {data[time].dtype}",
                                    "Read the data with tk.read_posts, which parses posted_at."))
        if "period" in by_list:
            raise ValueError(message(func, "by", "free of a column named 'period' when period= is given", by_list))
    return by_list, count_list, exposure_list


def _period_start(values: pd.Series, period: str) -> pd.Series:
    """Start of the calendar period (UTC for tz-aware times; weeks start on Monday)."""
    tz = getattr(values.dtype, "tz", None)
    naive = values.dt.tz_convert("UTC").dt.tz_localize(None) if tz is not None else values
    start = naive.dt.to_period(_PERIOD_CODES[period]).dt.start_time.astype("datetime64[ns]")
    return start.dt.tz_localize("UTC") if tz is not None else start


def partial_sums(data: pd.DataFrame, *, by_list, period, time, count_list, exposure_list, nan_policy,
                 func=_FUNC) -> pd.DataFrame:
    """Integer sums per cell of one chunk of posts (row-wise work + a group-by sum).

    Columns: keys, ``n_posts``, ``n_omitted``, one int64 sum per count/exposure column.
    """
    values = {}
    bad = np.zeros(len(data), dtype=bool)
    for c in count_list + exposure_list:
        v = numeric_column(data, c, func, "counts" if c in count_list else "exposures").to_numpy(dtype="float64")
        finite = ~np.isnan(v)
        if np.any(finite & ((v < 0) | (np.floor(v) != v))):
            raise ValueError(message(func, "counts" if c in count_list else "exposures",
                                     "columns of non-negative whole numbers", c,
                                     "Counts and exposures are summed per cell; read the data with tk.read_posts, "
                                     "which repairs negative and non-integer counts."))
        if np.any(finite & (v >= 2.0 ** 53)):
            raise ValueError(message(func, "counts", "smaller than 2**53 per post", c))
        bad |= ~finite
        values[c] = v
    keys = data[by_list].reset_index(drop=True)
    if period is not None:
        stamp = data[time].reset_index(drop=True)
        bad |= stamp.isna().to_numpy(dtype=bool)
        keys = keys.assign(period=_period_start(stamp, period))
    if bad.any() and nan_policy == "raise":
        cols = [c for c in count_list + exposure_list if np.isnan(values[c]).any()]
        if period is not None and data[time].isna().any():
            cols.append(time)
        raise ValueError(message(func, "data", "free of missing values in the summed columns (nan_policy='raise')",
                                 f"{int(bad.sum())} post(s) with a missing value in {cols}",
                                 "Pass nan_policy='omit' to leave those posts out of the sums; they are counted "
                                 "per cell in the column n_omitted (missing counts are never read as zero)."))
    frame = keys.copy()
    frame["n_posts"] = (~bad).astype("int64")
    frame["n_omitted"] = bad.astype("int64")
    for c in count_list + exposure_list:
        frame[c] = np.where(bad, 0, np.nan_to_num(values[c])).astype("int64")
    group_keys = by_list + (["period"] if period is not None else [])
    # Posts without a period cannot be placed in a cell; they are counted in the attrs instead.
    no_cell = frame["period"].isna().to_numpy(dtype=bool) if period is not None else np.zeros(len(frame), bool)
    n_no_cell = int(no_cell.sum())
    if n_no_cell:
        frame = frame[~no_cell]
    out = frame.groupby(group_keys, sort=True, dropna=False, observed=True).sum().reset_index()
    out.attrs = {"n_no_period": n_no_cell}
    return out


def combine_partial_sums(parts: list[pd.DataFrame], *, group_keys) -> pd.DataFrame:
    """Add partial sums (integers, so the order of addition does not matter)."""
    n_no_period = sum(int(p.attrs.get("n_no_period", 0)) for p in parts)
    frame = pd.concat(parts, ignore_index=True)
    out = frame.groupby(group_keys, sort=True, dropna=False, observed=True).sum().reset_index()
    out.attrs = {"n_no_period": n_no_period}
    return out


def finish_aggregate(sums: pd.DataFrame, *, group_keys, count_list, exposure_list, func=_FUNC) -> pd.DataFrame:
    """Drop empty cells, add ratio-of-sums rates, fix dtypes and announce omitted posts."""
    n_no_period = int(sums.attrs.get("n_no_period", 0))
    out = sums[sums["n_posts"] > 0].reset_index(drop=True)
    n_omitted = int(sums["n_omitted"].sum()) + n_no_period
    for c in ["n_posts", "n_omitted"] + count_list + exposure_list:
        out[c] = out[c].astype("int64")
    for c in count_list:
        for e in exposure_list:
            den = out[e].to_numpy(dtype="float64")
            with np.errstate(divide="ignore", invalid="ignore"):
                out[f"{c}_per_{e}"] = np.where(den > 0, out[c].to_numpy(dtype="float64") / np.where(
                    den > 0, den, 1.0), np.nan)
    out = out[group_keys + ["n_posts", "n_omitted"] + count_list + exposure_list
              + [f"{c}_per_{e}" for c in count_list for e in exposure_list]]
    out.attrs = {"n_omitted": n_omitted, "n_no_period": n_no_period}
    if n_omitted:
        warn(f"{func}: {n_omitted} post(s) with a missing value in a summed column were left out of the sums "
             f"(nan_policy='omit'); see the column n_omitted" + (f" ({n_no_period} without a time stamp, so in "
                                                                   f"no period)" if n_no_period else "") + ".",
             stacklevel=4)
    return out


def aggregate_posts(data, *, by=("department", "account"), period=None, time="posted_at",
                    counts=("likes", "comments", "shares"), exposures=("reach", "impressions"),
                    nan_policy="raise"):
    """Reduce posts to one row per account (or account x period) with sums and pooled rates.

    Parameters
    ----------
    data : pandas.DataFrame
        Posts in long form (one row per post), e.g. from ``tk.read_posts``. Not modified.
    by : str or sequence of str, default ("department", "account")
        Columns defining a cell. Keep ``department`` in ``by`` to compare departments. Missing
        labels form their own cell (no post disappears).
    period : {None, "day", "week", "month", "quarter", "year"}, default None
        Also split cells by calendar period of ``time`` (UTC; weeks start on Monday).
    time : str, default "posted_at"
        Datetime column used by ``period``.
    counts : str or sequence of str, default ("likes", "comments", "shares")
        Count columns to sum (numerators).
    exposures : str or sequence of str, default ("reach", "impressions")
        Exposure columns to sum (denominators / model offsets).
    nan_policy : {"raise", "omit"}, default "raise"
        A post with a missing value in any summed column (or in ``time`` when ``period`` is
        given) raises, or is left out of all sums of its cell and counted in ``n_omitted``, so
        every numerator and denominator of a cell covers the same posts.

    Returns
    -------
    pandas.DataFrame
        One row per non-empty cell, sorted by the keys (category order, then missing), columns

        - the ``by`` columns (dtypes kept, e.g. ordered categorical ``department``).
        - ``period`` (only with ``period=``): start of the period, datetime64[ns, UTC].
        - ``n_posts`` (int64): posts used in the sums.
        - ``n_omitted`` (int64): posts of the cell left out because of a missing value.
        - one column per count and exposure (int64): the sum over the used posts.
        - ``<count>_per_<exposure>`` (float64): ratio of sums ``sum(count) / sum(exposure)``;
          NaN where the exposure sum is 0.

        ``attrs["n_omitted"]`` is the total number of posts left out.

    Raises
    ------
    TypeError
        Wrong kinds of options or non-numeric / non-datetime columns.
    ValueError
        Unknown columns or period, negative or non-integer counts, missing values with
        ``nan_policy="raise"``.

    See Also
    --------
    accounts_per_group : How many accounts (subjects) each group has, and whether groups and accounts can be
        told apart.
    nesting_summary : Describe how posts are nested in accounts and how much that shrinks the effective sample
        size.
    account_level : Aggregate posts to one row per account: total counts, total exposure and their ratio.

    Notes
    -----
    For cell :math:`g` with used posts :math:`i \\in g`: ``count = sum_i y_i``, ``exposure =
    sum_i e_i`` and rate :math:`\\sum_i y_i / \\sum_i e_i` (the pooled rate that a count model
    with ``log(exposure)`` offset estimates). Sums are exact int64 arithmetic, so the result does
    not depend on the order of the posts or on how they are split into partitions: the Dask path
    (:func:`toolkit.distributed.aggregate_posts_dask`) returns an identical table.

    What a model fitted to the reduced table gives: for a Poisson GLM whose predictors are
    constant within cells, the cell sums are sufficient statistics, so coefficients and their
    model-based standard errors are *exactly* those of the post-level fit (the log-likelihoods
    differ by a constant). Negative-binomial dispersion, zero-inflation and post-level
    covariates (content type, paid) are *not* recoverable from sums: an NB or GLMM fit to
    account totals is a different (account-level) model, an approximation of the post-level one.
    Missing data: see ``nan_policy``; posts without a time stamp belong to no period.

    Validated against hand-computed sums (tests/test_aggregate.py), and, for the Poisson
    identity, against the post-level fit of ``tk.models.fit_engagement_model``.

    References
    ----------
    McCullagh, P., & Nelder, J. A. (1989). Generalized Linear Models (2nd ed.), sections 6.2-6.3
    (Poisson log-linear models; sufficiency of marginal totals). Chapman & Hall.
    https://doi.org/10.1007/978-1-4899-3242-6

    Examples
    --------
    >>> import toolkit as tk
    >>> sim = tk.simulate_organization(n_accounts_per_department=2, posts_per_account=20, seed=3)
    >>> from toolkit.aggregate import aggregate_posts
    >>> cells = aggregate_posts(sim.data)
    >>> cells.columns.tolist()[:7]
    ['department', 'account', 'n_posts', 'n_omitted', 'likes', 'comments', 'shares']
    >>> int(cells["n_posts"].sum()) == len(sim.data)
    True
    >>> monthly = aggregate_posts(sim.data, period="month", counts="comments", exposures="reach")
    >>> monthly.columns.tolist()
    ['department', 'account', 'period', 'n_posts', 'n_omitted', 'comments', 'reach', 'comments_per_reach']
    """
    data = check_data(data, _FUNC)
    by_list, count_list, exposure_list = check_aggregate_args(data, by, period, time, counts, exposures,
                                                              nan_policy, _FUNC)
    group_keys = by_list + (["period"] if period is not None else [])
    part = partial_sums(data, by_list=by_list, period=period, time=time, count_list=count_list,
                        exposure_list=exposure_list, nan_policy=nan_policy)
    return finish_aggregate(combine_partial_sums([part], group_keys=group_keys), group_keys=group_keys,
                            count_list=count_list, exposure_list=exposure_list)
