"""Partitioned data on Dask: metrics and the account-level reduction beyond one machine.

The heavy, row-wise work (reading, parsing, validating, computing per-post metrics, summing per
cell) runs on Dask — a local threaded scheduler, a ``dask.distributed.LocalCluster`` or a remote
cluster named by its scheduler address — and calls the very functions of the in-memory path on
each partition, so results are identical (not merely close). The statistics then run on the
small reduced table (:func:`toolkit.aggregate.aggregate_posts` documents what is exact and what
is an approximation for count models).

Dask is imported inside the functions, so ``import toolkit`` stays light; install
``dask[dataframe]`` and ``distributed`` to use this module.

Reading many exports into a Dask frame with the full report is the data layer's job:
:func:`toolkit.data.dask_reading.read_posts_dask` (also ``tk.read_posts_dask``, and
``tk.read_posts(folder, engine="dask")``); it is re-exported here, where the functions that
take its result live.
"""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from ._validation import ToolkitWarning, message
from .data.dask_reading import import_dask, read_posts_dask, scheduler_client

__all__ = ["read_posts_dask", "add_metrics_dask", "summarize_metrics_dask", "aggregate_posts_dask"]


# ---------------------------------------------------------------------------------------------
# metrics and reductions
# ---------------------------------------------------------------------------------------------
def _check_dask_frame(data, func: str):
    dd = import_dask(func)
    if not isinstance(data, dd.DataFrame):
        raise TypeError(message(func, "data", "a dask.dataframe.DataFrame (e.g. from read_posts_dask)",
                                type(data).__name__, "For a pandas DataFrame use the in-memory function."))
    return dd


def _quiet_add_metrics(part, metrics, denominator):
    from .metrics import add_metrics
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ToolkitWarning)
        out = add_metrics(part, metrics=metrics, denominator=denominator)
    out.attrs = {}
    return out


def add_metrics_dask(data, *, metrics="all", denominator="audience"):
    """Add per-post engagement metrics to a Dask DataFrame (``tk.add_metrics`` on each partition).

    Parameters
    ----------
    data : dask.dataframe.DataFrame
        Posts, e.g. from :func:`read_posts_dask`.
    metrics, denominator
        As in :func:`toolkit.add_metrics`.

    Returns
    -------
    dask.dataframe.DataFrame
        Lazy; ``data`` plus the metric columns of :func:`toolkit.add_metrics` (``total_interactions``
        Int64, rates float64 with NaN where undefined), with identical values.

    Notes
    -----
    Metrics are row-wise (``scale * numerator / denominator`` per post), so computing them per
    partition is exact. The per-partition undefined-value warnings and ``attrs["metrics"]`` are
    not collected (use :func:`summarize_metrics_dask`, whose ``n_used`` counts defined values).
    Validated against ``tk.add_metrics`` on the computed frame (tests/test_distributed.py).

    References
    ----------
    Bonsón, E., & Ratkai, M. (2013). A set of metrics to assess stakeholder engagement and social
    legitimacy on a corporate Facebook page. Online Information Review, 37(5), 787-803.
    https://doi.org/10.1108/OIR-03-2012-0054

    Examples
    --------
    >>> import dask.dataframe as dd, toolkit as tk
    >>> from toolkit.distributed import add_metrics_dask
    >>> sim = tk.simulate_organization(n_accounts_per_department=2, posts_per_account=10, seed=3)
    >>> out = add_metrics_dask(dd.from_pandas(sim.data, npartitions=2), metrics=["engagement_rate_reach"])
    >>> out.columns[-1]
    'engagement_rate_reach'
    """
    func = "add_metrics_dask"
    _check_dask_frame(data, func)
    meta = _quiet_add_metrics(data._meta, metrics, denominator)  # validates the options on the meta
    return data.map_partitions(_quiet_add_metrics, metrics, denominator, meta=meta)


def _summarize_partial(part, by_list, metrics, denominator):
    """summarize_metrics on one partition plus the plain sum of the per-post rates per group."""
    from .metrics import summarize_metrics
    if len(part) == 0:
        return None
    s = summarize_metrics(part, by=by_list, metrics=metrics, denominator=denominator)
    per = _quiet_add_metrics(part[[c for c in part.columns if c not in metrics]], metrics, denominator)
    sums = []
    for name in metrics:
        rate = per[name].to_numpy(dtype="float64")
        frame = per[by_list].copy()
        frame["_sum_rate"] = np.where(np.isnan(rate), 0.0, rate)
        g = frame.groupby(by_list, sort=True, dropna=False, observed=True)["_sum_rate"].sum().reset_index()
        sums.append(g.assign(metric=name))
    rates = pd.concat(sums, ignore_index=True)
    s = s.drop(columns=["ratio_of_sums", "mean_of_ratios"])
    return s.merge(rates, on=by_list + ["metric"], how="left", validate="one_to_one")


def _summarize_combine(parts, keys):
    parts = [p for p in parts if p is not None]
    if not parts:
        return None
    frame = pd.concat(parts, ignore_index=True)
    g = frame.groupby(keys, sort=False, dropna=False, observed=True)
    first = g[["numerator", "denominator", "scale"]].first()
    sums = g[["n_posts", "n_used", "sum_numerator", "sum_denominator", "_sum_rate"]].sum()
    return first.join(sums).reset_index()


def summarize_metrics_dask(data, *, by="department", metrics="available", denominator="audience",
                           scheduler=None):
    """Group summaries of engagement metrics on a Dask DataFrame, identical to ``summarize_metrics``.

    Parameters
    ----------
    data : dask.dataframe.DataFrame
        Posts, e.g. from :func:`read_posts_dask`. Its index must give the post order (as the
        global index of :func:`read_posts_dask` does).
    by, metrics, denominator
        As in :func:`toolkit.summarize_metrics`.
    scheduler : None, str or distributed.Client, default=None
        Where to compute (see :func:`read_posts_dask`).

    Returns
    -------
    pandas.DataFrame
        Exactly the table of :func:`toolkit.summarize_metrics`: the ``by`` columns, ``metric``,
        ``numerator``, ``denominator``, ``scale``, ``n_posts``, ``n_used``, ``sum_numerator``,
        ``sum_denominator``, ``ratio_of_sums``, ``mean_of_ratios``.

    Notes
    -----
    ``summarize_metrics`` runs on each partition; the partial counts and sums are added in a
    tree and finished with the same formulas. Counts and sums of counts are integers held
    exactly in float64 (below 2**53), so ``n_posts``, ``n_used``, ``sum_numerator``,
    ``sum_denominator`` and ``ratio_of_sums`` are *identical* to the in-memory table.
    ``mean_of_ratios`` is a mean of non-integer per-post rates: a floating-point sum whose last
    bits depend on the order of addition (pandas' own group-by sum is not order-independent
    either), so it agrees to a few units in the last place, not bit for bit (the tests bound
    the relative difference by 1e-13). Validated against ``tk.summarize_metrics``
    (tests/test_distributed.py).

    References
    ----------
    Bonsón, E., & Ratkai, M. (2013). https://doi.org/10.1108/OIR-03-2012-0054

    Examples
    --------
    >>> import dask.dataframe as dd, toolkit as tk
    >>> from toolkit.distributed import summarize_metrics_dask
    >>> sim = tk.simulate_organization(n_accounts_per_department=2, posts_per_account=10, seed=3)
    >>> s = summarize_metrics_dask(dd.from_pandas(sim.data, npartitions=2), metrics=["engagement_rate_reach"],
    ...                            scheduler="synchronous")
    >>> s.shape
    (9, 11)
    """
    func = "summarize_metrics_dask"
    _check_dask_frame(data, func)
    from .metrics import metric_inputs, resolve_metrics, summarize_metrics
    by_list = [by] if isinstance(by, str) else by
    meta_out = summarize_metrics(data._meta, by=by, metrics=metrics, denominator=denominator)  # validation
    chosen, _ = resolve_metrics(data._meta, metrics, denominator, func)
    chosen = [m for m in chosen if m.denominator is not None]
    needed = list(dict.fromkeys(list(by_list) + [c for m in chosen for c in metric_inputs(m)]))
    names = [m.name for m in chosen]
    keys = list(by_list) + ["metric"]
    import dask
    level = [dask.delayed(_summarize_partial)(p, list(by_list), names, denominator)
             for p in data[needed].to_delayed()]
    while len(level) > 1:
        level = [dask.delayed(_summarize_combine)(level[i:i + 8], keys) for i in range(0, len(level), 8)]
    with scheduler_client(scheduler, func) as compute:
        (res,) = compute(level[0])
    if res is None:
        return meta_out
    out = res.copy()
    for c in ("n_posts", "n_used"):
        out[c] = out[c].astype("int64")
    for c in ("scale", "sum_numerator", "sum_denominator"):
        out[c] = out[c].astype("float64")
    used = out["n_used"] > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        out["ratio_of_sums"] = np.where(used, out["scale"] * out["sum_numerator"]
                                        / out["sum_denominator"].where(used, 1.0), np.nan)
        out["mean_of_ratios"] = np.where(used, out["_sum_rate"] / out["n_used"].where(used, 1), np.nan)
    for c in by_list:
        if isinstance(data._meta[c].dtype, pd.CategoricalDtype):
            out[c] = pd.Categorical(out[c].astype("object"), dtype=data._meta[c].dtype)
    order = {n: i for i, n in enumerate(names)}
    out["_order"] = out["metric"].map(order)
    out = out.sort_values(list(by_list) + ["_order"], kind="stable", na_position="last")
    return out[list(meta_out.columns)].reset_index(drop=True)


def aggregate_posts_dask(data, *, by=("department", "account"), period=None, time="posted_at",
                         counts=("likes", "comments", "shares"), exposures=("reach", "impressions"),
                         nan_policy="raise", scheduler=None):
    """Account-level (or account x period) reduction on Dask, identical to ``aggregate_posts``.

    Parameters
    ----------
    data : dask.dataframe.DataFrame
        Posts, e.g. from :func:`read_posts_dask`. Categorical ``by`` columns must have the same
        categories in every partition (as :func:`read_posts_dask` guarantees).
    by, period, time, counts, exposures, nan_policy
        As in :func:`toolkit.aggregate.aggregate_posts`.
    scheduler : None, str or distributed.Client, default=None
        Where to compute (see :func:`read_posts_dask`).

    Returns
    -------
    pandas.DataFrame
        The reduced table (small: one row per cell), with exactly the columns and values of
        :func:`toolkit.aggregate.aggregate_posts` on the computed data: keys, ``period`` (if
        asked), ``n_posts``, ``n_omitted``, int64 sums, ``<count>_per_<exposure>`` rates.

    Notes
    -----
    Each partition is reduced to integer cell sums by the same function as the in-memory path;
    the partial sums are added in a tree (integer addition is exact and order-free) and finished
    by the same code, so the table is identical. Pass it to
    ``tk.models.fit_engagement_model(cells, dv="comments", between="department",
    exposure="reach")``: see :func:`toolkit.aggregate.aggregate_posts` for what is exact
    (Poisson with cell-constant predictors) and what is an approximation (NB, GLMM, post-level
    covariates). Validated against ``aggregate_posts`` (tests/test_distributed.py).

    References
    ----------
    McCullagh, P., & Nelder, J. A. (1989). Generalized Linear Models (2nd ed.). Chapman & Hall.
    https://doi.org/10.1007/978-1-4899-3242-6

    Examples
    --------
    >>> import dask.dataframe as dd, toolkit as tk
    >>> from toolkit.distributed import aggregate_posts_dask
    >>> sim = tk.simulate_organization(n_accounts_per_department=2, posts_per_account=10, seed=3)
    >>> cells = aggregate_posts_dask(dd.from_pandas(sim.data, npartitions=3), scheduler="synchronous")
    >>> int(cells["n_posts"].sum()) == len(sim.data)
    True
    """
    func = "aggregate_posts_dask"
    _check_dask_frame(data, func)
    import dask

    from .aggregate import check_aggregate_args, combine_partial_sums, finish_aggregate, partial_sums
    by_list, count_list, exposure_list = check_aggregate_args(data._meta, by, period, time, counts, exposures,
                                                              nan_policy, func)
    group_keys = by_list + (["period"] if period is not None else [])
    columns = list(dict.fromkeys(by_list + count_list + exposure_list + ([time] if period is not None else [])))
    kw = dict(by_list=by_list, period=period, time=time, count_list=count_list, exposure_list=exposure_list,
              nan_policy=nan_policy, func=func)
    level = [dask.delayed(partial_sums)(p, **kw) for p in data[columns].to_delayed()]
    while len(level) > 1:  # tree reduction, 8 partial tables at a time
        level = [dask.delayed(combine_partial_sums)(level[i:i + 8], group_keys=group_keys)
                 for i in range(0, len(level), 8)]
    if data.npartitions == 1:
        level = [dask.delayed(combine_partial_sums)(level, group_keys=group_keys)]
    with scheduler_client(scheduler, func) as compute:
        (sums,) = compute(level[0])
    return finish_aggregate(sums, group_keys=group_keys, count_list=count_list, exposure_list=exposure_list, func=func)


__all__ = ["read_posts_dask", "add_metrics_dask", "summarize_metrics_dask", "aggregate_posts_dask"]
