"""Ranking groups with uncertainty: bootstrap draws of a per-group statistic and the rank table made from them.

:func:`bootstrap_draws` resamples posts within each group; :func:`rank_table` ranks the groups in every draw
and gives rank intervals and the probability of being best. Users reach both as ``tk.plots.bootstrap_draws``
and ``tk.plots.rank_table`` (re-exported beside ``tk.plots.plot_ranking``, which draws the table); they live
here because they are statistics, not drawing.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from .._validation import (check_column, check_data, check_integer, check_option, check_probability, check_table,
                           check_random_state, message, numeric_column)

__all__ = ["bootstrap_draws", "rank_table"]


def _order(values: pd.Series) -> list:
    """Group order: categorical order (used levels), else sorted (as ``toolkit.plots`` orders groups)."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        used = set(values.dropna().unique())
        return [c for c in values.cat.categories if c in used]
    return sorted(values.dropna().unique(), key=str)



def rank_table(draws, *, group="group", value="value", draw="draw", higher_is_better=True, confidence_level=0.95):
    """Rank groups in every bootstrap (or posterior) draw: rank intervals and P(best).

    Parameters
    ----------
    draws : pandas.DataFrame
        Tidy draws: one row per group and draw, with columns ``group``, ``draw`` (draw id) and
        ``value`` (the statistic in that draw, e.g. a bootstrap mean). Every group must appear in
        every draw.
    group, value, draw : str
        Column names.
    higher_is_better : bool, default=True
        Rank 1 is the largest value (False: the smallest).
    confidence_level : float, default=0.95
        Coverage of the rank interval (equal-tailed quantiles of the ranks).

    Returns
    -------
    pandas.DataFrame
        One row per group, in order of first appearance: ``group``, ``estimate`` (mean of the
        draws), ``rank_mean``, ``rank_median``, ``rank_low``, ``rank_high`` (interval of ranks),
        ``p_best`` (share of draws with rank 1; sums to 1 over groups), ``n_draws``,
        ``confidence_level``.

    Notes
    -----
    Ties inside a draw get the average rank (so a tie for first shares ``p_best`` in halves).
    The rank interval uses the lower and upper ``(1 - level)/2`` quantiles of the ranks with
    R's type-1 (inverse empirical CDF) definition, so its ends are attained ranks.
    Validated against a hand-computed example (tests/test_ranking.py).

    Examples
    --------
    >>> import pandas as pd
    >>> import toolkit as tk
    >>> d = pd.DataFrame({"draw": [0, 0, 1, 1], "group": ["A", "B", "A", "B"], "value": [2.0, 1.0, 1.0, 3.0]})
    >>> tk.plots.rank_table(d)[["group", "p_best"]].values.tolist()
    [['A', 0.5], ['B', 0.5]]
    """
    func = "rank_table"
    draws = check_table(draws, func, {"group": group, "value": value, "draw": draw})
    check_probability(confidence_level, func, "confidence_level")
    order = list(dict.fromkeys(draws[group]))
    wide = draws.pivot_table(index=draw, columns=group, values=value, observed=True, aggfunc="first")
    wide = wide.reindex(columns=order)
    if wide.isna().any().any():
        raise ValueError(message(func, "draws", "complete: every group in every draw",
                                 f"{int(wide.isna().sum().sum())} missing group-draw values"))
    vals = wide.to_numpy(float)
    ranks = pd.DataFrame(-vals if higher_is_better else vals).rank(axis=1, method="average").to_numpy()
    # ties for first: share the win equally
    tied_first = (ranks == ranks.min(axis=1, keepdims=True))
    best = tied_first / tied_first.sum(axis=1, keepdims=True)
    a = (1 - confidence_level) / 2
    low = np.quantile(ranks, a, axis=0, method="inverted_cdf")
    high = np.quantile(ranks, 1 - a, axis=0, method="inverted_cdf")
    return pd.DataFrame({"group": order, "estimate": vals.mean(axis=0), "rank_mean": ranks.mean(axis=0),
                         "rank_median": np.median(ranks, axis=0), "rank_low": low, "rank_high": high,
                         "p_best": best.mean(axis=0), "n_draws": vals.shape[0],
                         "confidence_level": confidence_level})


def bootstrap_draws(data, *, x, y, statistic="mean", n_resamples=2000, seed=None):
    """Bootstrap draws of a per-group statistic (resampling posts within each group), tidy.

    Parameters
    ----------
    data : pandas.DataFrame
        Long-form posts.
    x : str
        Grouping column.
    y : str
        Numeric outcome column; missing values are dropped.
    statistic : {"mean", "median"}, default="mean"
    n_resamples : int, default=2000
    seed : None, int or numpy.random.Generator, default=None
        The same int gives the same numbers on every run; None draws fresh randomness.

    Returns
    -------
    pandas.DataFrame
        ``draw``, ``group``, ``value``: one row per draw and group (groups in categorical order),
        ready for :func:`rank_table`.

    Notes
    -----
    Nonparametric bootstrap (Efron & Tibshirani 1993): posts are resampled with replacement within
    each group, independently across groups; missing outcomes are dropped first. With
    ``subject`` level data (e.g. ``compare_groups(...).analysed_data``) the accounts are resampled.
    Validated by tests/test_ranking.py (draws are reproducible for a seed and centred on the group means).

    References
    ----------
    Efron, B., & Tibshirani, R. J. (1993). An Introduction to the Bootstrap. Chapman & Hall.
    doi:10.1201/9780429246593

    Examples
    --------
    >>> import toolkit as tk
    >>> org = tk.simulate_organization(n_accounts_per_department=2, posts_per_account=10, seed=1)
    >>> d = tk.plots.bootstrap_draws(org.data, x="department", y="comments", n_resamples=50, seed=1)
    >>> list(d.columns)
    ['draw', 'group', 'value']
    """
    func = "bootstrap_draws"
    data = check_data(data, func)
    check_column(data, x, func, "x")
    check_column(data, y, func, "y")
    check_option(statistic, ("mean", "median"), func, "statistic")
    b = check_integer(n_resamples, func, "n_resamples")
    rng = check_random_state(seed, func)
    values = numeric_column(data, y, func, "y")
    stat = np.mean if statistic == "mean" else np.median
    frames = []
    for g in _order(data[x]):
        v = values[data[x].eq(g).fillna(False).to_numpy(dtype=bool)].dropna().to_numpy(float)
        if v.size == 0:
            continue
        idx = rng.integers(0, v.size, size=(b, v.size))
        frames.append(pd.DataFrame({"draw": np.arange(b), "group": g, "value": stat(v[idx], axis=1)}))
    return pd.concat(frames, ignore_index=True)
