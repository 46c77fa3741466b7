"""Plots for comparing engagement between groups: axes-level functions that return the Axes.

Every function takes tidy input (the posts table, or a result table with documented columns),
draws on ``ax`` (a new figure when None) and returns that Axes. Nothing here calls
``plt.show()`` or changes global rcParams; matplotlib is imported inside the functions, so
``import toolkit`` stays light. Vocabulary: ``x``, ``y``, ``hue``, ``ax``; result-table columns are
named by keyword (``estimate=``, ``ci_low=``, ``ci_high=``, ...) so the functions work with any
table that has them (``tk.describe_groups``, ``tk.pairwise``, the count models' ``rate_ratios``,
``emmeans`` and ``contrasts`` tables, ``tk.models.rootogram``, ``tk.models.quantile_residuals``).

Labels are written for a reader: the unit of the outcome, the number of values per group in the
tick labels, and what the interval is (level and adjustment) in the axis label.

Functions
---------
plot_distributions  points + box (or violin) per group; symlog axis for counts so zeros are visible
plot_means          group means / marginal means with their intervals
plot_estimates      estimation plot of rate ratios or differences against a reference
plot_forest         forest plot of pairwise contrasts ("A vs B")
plot_pvalue_matrix  heatmap of (adjusted) pairwise p-values
bootstrap_draws     tidy bootstrap draws of a per-group mean or median
rank_table          rank intervals and probability of being best from bootstrap draws
plot_ranking        ranking with uncertainty (from ``rank_table``)
plot_rootogram      hanging rootogram (observed vs expected count frequencies)
plot_pit_qq         QQ plot of randomized quantile residuals (PIT values) against U(0, 1)
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ._validation import check_column, check_data, check_integer, check_option, check_probability, \
    check_random_state, message

__all__ = ["plot_distributions", "plot_means", "plot_estimates", "plot_forest", "plot_pvalue_matrix",
           "bootstrap_draws", "rank_table", "plot_ranking", "plot_rootogram", "plot_pit_qq",
           "plot_specification_curve"]


def _axes(ax):
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=(6.4, 4.0))
    return ax


def _order(values: pd.Series, order) -> list:
    """Category order: explicit ``order``, else categorical order (used levels), else sorted."""
    if order is not None:
        return list(order)
    if isinstance(values.dtype, pd.CategoricalDtype):
        used = set(values.dropna().unique())
        return [c for c in values.cat.categories if c in used]
    return sorted(values.dropna().unique(), key=str)


def _level_text(confidence_level, adjustment) -> str:
    lvl = f"{100 * float(confidence_level):g}% CI" if confidence_level == confidence_level else "CI"
    return f"{lvl}, {adjustment}" if adjustment else lvl


def _level_from(table: pd.DataFrame, confidence_level):
    if confidence_level is not None:
        return confidence_level
    if "confidence_level" in table.columns and table["confidence_level"].notna().any():
        return float(table["confidence_level"].dropna().iloc[0])
    return float("nan")


def _table(table, func: str, columns: dict) -> pd.DataFrame:
    table = check_data(table, func)
    for param, name in columns.items():
        if name is not None:
            check_column(table, name, func, param)
    if len(table) == 0:
        raise ValueError(message(func, "table", "a table with at least one row", "an empty table"))
    return table


# -------------------------------------------------------------------------------------------------
# raw data
# -------------------------------------------------------------------------------------------------
def plot_distributions(data, *, x, y, order=None, kind="box", scale="symlog", jitter=0.25, seed=0, ax=None):
    """Show the outcome of every post per group: jittered points over a box or violin.

    Parameters
    ----------
    data : pandas.DataFrame
        Long-form posts (one row per post).
    x : str
        Grouping column (e.g. ``"department"``); categories keep their categorical order.
    y : str
        Numeric outcome column (e.g. ``"comments"``).
    order : list or None, default=None
        Group order on the axis; None uses the categorical order (sorted labels otherwise).
    kind : {"box", "violin"}, default="box"
        Summary drawn behind the points.
    scale : {"symlog", "linear"}, default="symlog"
        "symlog" is linear between 0 and 1 and logarithmic above, so heavy-tailed counts are
        readable and zeros stay visible (a log axis would drop them). The axis label says which.
    jitter : float, default=0.25
        Half-width of the horizontal jitter of the points (in category units).
    seed : int, default=0
        Seed of the jitter (display only).
    ax : matplotlib.axes.Axes or None, default=None
        Axes to draw on; None makes a new figure.

    Returns
    -------
    matplotlib.axes.Axes
        ``ax``: one point collection per group (in axis order), tick labels ``"<group>\\n(n=<n>)"``.

    Notes
    -----
    Missing outcomes are left out of the group and of its ``n`` (the tick label counts the plotted
    values). Boxes show the quartiles (R type 7) and whiskers at 1.5 IQR; a box is not an inference.

    Validated by tests/test_plots.py, which reads the drawn artists back and compares them with the table.

    Examples
    --------
    >>> import toolkit as tk
    >>> org = tk.simulate_organization(n_accounts_per_department=2, posts_per_account=10, seed=1)
    >>> ax = tk.plots.plot_distributions(org.data, x="department", y="comments")
    >>> ax.get_ylabel()
    'comments (symlog axis: linear below 1, log above)'
    """
    func = "plot_distributions"
    data = check_data(data, func)
    check_column(data, x, func, "x")
    check_column(data, y, func, "y")
    check_option(kind, ("box", "violin"), func, "kind")
    check_option(scale, ("symlog", "linear"), func, "scale")
    from ._validation import numeric_column

    values = numeric_column(data, y, func, "y")
    groups = _order(data[x], order)
    ax = _axes(ax)
    rng = np.random.default_rng(seed)
    samples, labels = [], []
    for i, g in enumerate(groups):
        v = values[data[x].eq(g).fillna(False).to_numpy(dtype=bool)].dropna().to_numpy(float)
        samples.append(v)
        labels.append(f"{g}\n(n={v.size})")
        ax.scatter(i + rng.uniform(-jitter, jitter, v.size), v, s=9, alpha=0.45, color="0.25", zorder=3,
                   linewidths=0, label=str(g))
    nonempty = [i for i, s in enumerate(samples) if s.size]
    if kind == "box":
        ax.boxplot([samples[i] for i in nonempty], positions=nonempty, widths=0.6, showfliers=False,
                   patch_artist=True, boxprops={"facecolor": "#cfe2f3", "alpha": 0.8},
                   medianprops={"color": "#1f4e79"}, zorder=2)
    else:
        usable = [i for i in nonempty if np.ptp(samples[i]) > 0]
        if usable:
            ax.violinplot([samples[i] for i in usable], positions=usable, widths=0.8, showextrema=False)
    ax.set_xticks(range(len(groups)))
    ax.set_xticklabels(labels)
    ax.set_xlim(-0.6, len(groups) - 0.4)
    if scale == "symlog":
        ax.set_yscale("symlog", linthresh=1.0)
        if all(v.size == 0 or v.min() >= 0 for v in samples):
            ax.set_ylim(bottom=-0.3)  # zeros visible, no meaningless negative decades
        ax.set_ylabel(f"{y} (symlog axis: linear below 1, log above)")
    else:
        ax.set_ylabel(y)
    ax.set_xlabel(x)
    ax.set_title(f"{y} per post by {x} (points: posts; box: quartiles)")
    return ax


# -------------------------------------------------------------------------------------------------
# estimates with intervals
# -------------------------------------------------------------------------------------------------
def plot_means(table, *, estimate="mean", ci_low="mean_ci_low", ci_high="mean_ci_high", label="group", n="n",
               unit=None, confidence_level=None, interval="bootstrap", log=False, ax=None):
    """Plot group means (or model marginal means) with their confidence intervals.

    Parameters
    ----------
    table : pandas.DataFrame
        One row per group, e.g. ``tk.describe_groups(...)`` (the defaults) or a count model's
        ``emmeans`` table (``estimate="rate", ci_low="ci_low", ci_high="ci_high", n=None``).
    estimate, ci_low, ci_high, label : str
        Column names of the point estimate, the interval ends and the group label.
    n : str or None, default="n"
        Column with the group size shown in the tick labels (None: not shown).
    unit : str or None, default=None
        Text of the y-axis; None uses the ``dv`` column (describe) or the ``unit`` column (emmeans)
        when present, else ``estimate``.
    confidence_level : float or None, default=None
        None reads the table's ``confidence_level`` column.
    interval : str, default="bootstrap"
        How the interval was made, written into the axis label (e.g. "BCa bootstrap", "Wald").
    log : bool, default=False
        Logarithmic y axis (for rates).
    ax : matplotlib.axes.Axes or None

    Returns
    -------
    matplotlib.axes.Axes
        One error-bar container per group (in table order); tick labels ``"<group>\\n(n=<n>)"``.

    Notes
    -----
    Rows with a missing interval are drawn as points without bars. The groups keep the row order
    of ``table`` (the toolkit's tables follow the categorical order).

    Validated by tests/test_plots.py, which reads the drawn artists back and compares them with the table.

    Examples
    --------
    >>> import pandas as pd
    >>> import toolkit as tk
    >>> t = pd.DataFrame({"group": ["A", "B"], "mean": [2.0, 3.0], "mean_ci_low": [1.5, 2.2],
    ...                   "mean_ci_high": [2.6, 3.9], "n": [30, 28], "confidence_level": [0.95, 0.95]})
    >>> ax = tk.plots.plot_means(t, unit="comments per post")
    >>> ax.get_ylabel()
    'comments per post (mean, 95% CI, bootstrap)'
    """
    func = "plot_means"
    table = _table(table, func, {"estimate": estimate, "ci_low": ci_low, "ci_high": ci_high, "label": label,
                                 "n": n})
    level = _level_from(table, confidence_level)
    if unit is None:
        if "unit" in table.columns:
            unit = str(table["unit"].iloc[0])
        elif "dv" in table.columns:
            unit = str(table["dv"].iloc[0])
        else:
            unit = estimate
    ax = _axes(ax)
    est = table[estimate].to_numpy(float)
    lo, hi = table[ci_low].to_numpy(float), table[ci_high].to_numpy(float)
    for i in range(len(table)):
        err = None if np.isnan(lo[i]) or np.isnan(hi[i]) else [[est[i] - lo[i]], [hi[i] - est[i]]]
        ax.errorbar([i], [est[i]], yerr=err, fmt="o", color="#1f4e79", capsize=4, lw=1.5)
    ticks = [f"{g}\n(n={int(k)})" if n is not None else str(g) for g, k in
             zip(table[label], table[n] if n is not None else [0] * len(table))]
    ax.set_xticks(range(len(table)))
    ax.set_xticklabels(ticks)
    ax.set_xlim(-0.6, len(table) - 0.4)
    if log:
        ax.set_yscale("log")
    what = "mean" if estimate == "mean" else estimate
    ax.set_ylabel(f"{unit} ({what}, {_level_text(level, interval)})")
    ax.set_xlabel(str(table["between"].iloc[0]) if "between" in table.columns else label)
    return ax


def _estimation(ax, labels, est, lo, hi, *, log, reference_value, xlabel, title):
    y = np.arange(len(labels))[::-1]
    for yi, e, a, b in zip(y, est, lo, hi):
        err = None if np.isnan(a) or np.isnan(b) else [[e - a], [b - e]]
        ax.errorbar([e], [yi], xerr=err, fmt="o", color="#1f4e79", capsize=4, lw=1.5)
    ax.axvline(reference_value, color="0.4", ls="--", lw=1, zorder=0)
    ax.set_yticks(y)
    ax.set_yticklabels(labels)
    ax.set_ylim(-0.6, len(labels) - 0.4)
    if log:
        ax.set_xscale("log")
    ax.set_xlabel(xlabel)
    if title:
        ax.set_title(title)
    return ax


def plot_estimates(table, *, estimate="rate_ratio", ci_low="ci_low", ci_high="ci_high", label="group",
                   reference=None, log=True, confidence_level=None, adjustment=None, xlabel=None, ax=None):
    """Estimation plot: effects of each group against a reference, with their intervals.

    Parameters
    ----------
    table : pandas.DataFrame
        One row per effect, e.g. a count model's ``rate_ratios`` table (the defaults: ``group``,
        ``reference``, ``rate_ratio``, ``ci_low``, ``ci_high``, ``confidence_level``), or mean
        differences (``log=False``).
    estimate, ci_low, ci_high, label : str
        Column names.
    reference : str or None, default=None
        Name of the reference group for the title; None reads a ``reference`` column if present.
    log : bool, default=True
        Multiplicative scale: log axis with the no-effect line at 1 (ratios). False: linear axis,
        line at 0 (differences).
    confidence_level : float or None
        None reads the table's ``confidence_level`` column.
    adjustment : str or None, default=None
        Multiplicity adjustment of the intervals for the label (e.g. "Holm-adjusted",
        "unadjusted"); None writes nothing.
    xlabel : str or None
        Axis label; None builds ``"<estimate> vs <reference> (95% CI[, adjustment]; log scale)"``.
    ax : matplotlib.axes.Axes or None

    Returns
    -------
    matplotlib.axes.Axes
        One error-bar container per row (first row at the top) and a dashed no-effect line.

    Notes
    -----
    The idea of the estimation plot (show effect sizes with intervals, not only p-values) follows
    Ho et al. (2019). Ratios are drawn on a log axis, so a ratio and its inverse are equally far
    from 1 and Wald intervals of log-linear models are symmetric.

    Validated by tests/test_plots.py, which reads the drawn artists back and compares them with the table.

    References
    ----------
    Ho, J., Tumkaya, T., Aryal, S., Choi, H., & Claridge-Chang, A. (2019). Moving beyond P values:
    data analysis with estimation graphics. Nature Methods, 16, 565-566. doi:10.1038/s41592-019-0470-3

    Examples
    --------
    >>> import pandas as pd
    >>> import toolkit as tk
    >>> rr = pd.DataFrame({"group": ["PR", "Marketing"], "reference": ["Social media team"] * 2,
    ...                    "rate_ratio": [1.3, 0.8], "ci_low": [1.1, 0.6], "ci_high": [1.6, 1.05],
    ...                    "confidence_level": [0.95, 0.95]})
    >>> ax = tk.plots.plot_estimates(rr, adjustment="unadjusted")
    >>> ax.get_xlabel()
    'rate_ratio vs Social media team (95% CI, unadjusted; log scale)'
    """
    func = "plot_estimates"
    table = _table(table, func, {"estimate": estimate, "ci_low": ci_low, "ci_high": ci_high, "label": label})
    if reference is None and "reference" in table.columns:
        reference = str(table["reference"].iloc[0])
    level = _level_from(table, confidence_level)
    est = table[estimate].to_numpy(float)
    if log and np.any(est <= 0):
        raise ValueError(message(func, "estimate", "positive for a log axis (ratios)",
                                 f"minimum {np.nanmin(est)!r}", "Pass log=False for differences."))
    if xlabel is None:
        against = f" vs {reference}" if reference else ""
        xlabel = f"{estimate}{against} ({_level_text(level, adjustment)}{'; log scale' if log else ''})"
    ax = _axes(ax)
    title = f"Effect of each group relative to {reference}" if reference else None
    return _estimation(ax, [str(v) for v in table[label]], est, table[ci_low].to_numpy(float),
                       table[ci_high].to_numpy(float), log=log, reference_value=1.0 if log else 0.0,
                       xlabel=xlabel, title=title)


def plot_forest(table, *, estimate="estimate", ci_low="estimate_ci_low", ci_high="estimate_ci_high",
                group_a="group_a", group_b="group_b", log=False, confidence_level=None, adjustment=None,
                xlabel=None, ax=None):
    """Forest plot of pairwise contrasts, one row per pair labelled "A vs B".

    Parameters
    ----------
    table : pandas.DataFrame
        Pairwise contrasts: ``tk.pairwise`` / ``compare_groups(...).pairwise`` (the defaults:
        ``estimate`` = mean of a minus mean of b, ``estimate_ci_low``, ``estimate_ci_high``) or
        a count model's ``contrasts`` table (``estimate="rate_ratio", ci_low="ci_low",
        ci_high="ci_high", log=True``).
    estimate, ci_low, ci_high, group_a, group_b : str
        Column names.
    log : bool, default=False
        Log axis with the no-effect line at 1 (ratios); otherwise linear with the line at 0.
    confidence_level : float or None
        None reads the table's ``confidence_level`` column.
    adjustment : str or None, default=None
        Text for the interval's multiplicity adjustment; None reads the ``method``/``p_adjust``
        columns of a ``tk.pairwise`` table: simultaneous intervals for Tukey and Games–Howell,
        otherwise "unadjusted".
    xlabel : str or None
    ax : matplotlib.axes.Axes or None

    Returns
    -------
    matplotlib.axes.Axes
        One error-bar container per pair (first row at the top).

    Notes
    -----
    Tukey and Games–Howell intervals are simultaneous (studentized range), so they are labelled
    "simultaneous"; the intervals of other methods are per comparison even when the p-values are
    adjusted, and are labelled "unadjusted".

    Validated by tests/test_plots.py, which reads the drawn artists back and compares them with the table.

    Examples
    --------
    >>> import pandas as pd
    >>> import toolkit as tk
    >>> t = pd.DataFrame({"group_a": ["A", "A", "B"], "group_b": ["B", "C", "C"], "estimate": [1.0, 2.0, 1.0],
    ...                   "estimate_ci_low": [0.1, 1.1, 0.0], "estimate_ci_high": [1.9, 2.9, 2.0],
    ...                   "confidence_level": [0.95] * 3, "test": ["games_howell"] * 3})
    >>> ax = tk.plots.plot_forest(t)
    >>> [t.get_text() for t in ax.get_yticklabels()]
    ['A vs B', 'A vs C', 'B vs C']
    """
    func = "plot_forest"
    table = _table(table, func, {"estimate": estimate, "ci_low": ci_low, "ci_high": ci_high, "group_a": group_a,
                                 "group_b": group_b})
    level = _level_from(table, confidence_level)
    if adjustment is None:
        test = str(table["test"].iloc[0]) if "test" in table.columns else ""
        adjustment = ("simultaneous (studentized range)" if test in ("tukey", "games_howell")
                      else ("unadjusted" if test else None))
    if xlabel is None:
        dv = f"{table['dv'].iloc[0]}: " if "dv" in table.columns else ""
        what = "ratio a / b" if log else "difference a − b"
        xlabel = f"{dv}{estimate}, {what} ({_level_text(level, adjustment)}{'; log scale' if log else ''})"
    labels = [f"{a} vs {b}" for a, b in zip(table[group_a], table[group_b])]
    ax = _axes(ax)
    return _estimation(ax, labels, table[estimate].to_numpy(float), table[ci_low].to_numpy(float),
                       table[ci_high].to_numpy(float), log=log, reference_value=1.0 if log else 0.0,
                       xlabel=xlabel, title="Pairwise contrasts")


def plot_pvalue_matrix(table, *, p="p_adjusted", group_a="group_a", group_b="group_b", order=None, alpha=0.05,
                       ax=None):
    """Heatmap of pairwise (adjusted) p-values, groups in the same order on both axes.

    Parameters
    ----------
    table : pandas.DataFrame
        Pairwise table with ``group_a``, ``group_b`` and the p-value column.
    p : str, default="p_adjusted"
        Column to show (``"p_value"`` for unadjusted).
    group_a, group_b : str
    order : list or None
        Group order; None uses the order of first appearance in group_a then group_b (the
        toolkit's pairwise tables follow the categorical order).
    alpha : float, default=0.05
        Cells with p < alpha are marked with "*".
    ax : matplotlib.axes.Axes or None

    Returns
    -------
    matplotlib.axes.Axes
        An image whose array is the symmetric k x k matrix (NaN on the diagonal and for missing
        pairs), each cell annotated with its p-value.

    Notes
    -----
    The colour scale is -log10(p) so small p-values stand out; annotations show the p-value
    itself. The title names the adjustment from a ``p_adjust`` column when present.

    Validated by tests/test_plots.py, which reads the drawn artists back and compares them with the table.

    Examples
    --------
    >>> import pandas as pd
    >>> import toolkit as tk
    >>> t = pd.DataFrame({"group_a": ["A", "A", "B"], "group_b": ["B", "C", "C"], "p_adjusted": [0.01, 0.2, 0.5]})
    >>> ax = tk.plots.plot_pvalue_matrix(t)
    >>> ax.images[0].get_array().shape
    (3, 3)
    """
    func = "plot_pvalue_matrix"
    table = _table(table, func, {"p": p, "group_a": group_a, "group_b": group_b})
    check_probability(alpha, func, "alpha")
    if order is None:
        order = list(dict.fromkeys(list(table[group_a]) + list(table[group_b])))
    index = {g: i for i, g in enumerate(order)}
    k = len(order)
    mat = np.full((k, k), np.nan)
    for a, b, v in zip(table[group_a], table[group_b], table[p].to_numpy(float)):
        if a in index and b in index:
            mat[index[a], index[b]] = mat[index[b], index[a]] = v
    ax = _axes(ax)
    shown = -np.log10(np.clip(mat, 1e-16, 1.0))
    top = float(np.nanmax(shown)) if np.isfinite(shown).any() else 3.0
    ax.imshow(np.ma.masked_invalid(shown), cmap="Blues", vmin=0, vmax=max(3.0, top))
    for i in range(k):
        for j in range(k):
            if np.isfinite(mat[i, j]):
                star = "*" if mat[i, j] < alpha else ""
                ax.text(j, i, f"{mat[i, j]:.3g}{star}", ha="center", va="center", fontsize=8,
                        color="white" if shown[i, j] > 2 else "black")
    ax.set_xticks(range(k))
    ax.set_xticklabels([str(g) for g in order], rotation=45, ha="right")
    ax.set_yticks(range(k))
    ax.set_yticklabels([str(g) for g in order])
    adj = f"{table['p_adjust'].iloc[0]}-adjusted " if "p_adjust" in table.columns and p == "p_adjusted" else ""
    ax.set_title(f"Pairwise {adj}p-values ({p}); * p < {alpha:g}; colour: -log10(p)")
    return ax


# -------------------------------------------------------------------------------------------------
# ranking with uncertainty
# -------------------------------------------------------------------------------------------------
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
    Validated against a hand-computed example (tests/test_plots.py).

    Examples
    --------
    >>> import pandas as pd
    >>> import toolkit as tk
    >>> d = pd.DataFrame({"draw": [0, 0, 1, 1], "group": ["A", "B", "A", "B"], "value": [2.0, 1.0, 1.0, 3.0]})
    >>> tk.plots.rank_table(d)[["group", "p_best"]].values.tolist()
    [['A', 0.5], ['B', 0.5]]
    """
    func = "rank_table"
    draws = _table(draws, func, {"group": group, "value": value, "draw": draw})
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
    seed : None, int or numpy.random.Generator

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
    Validated by tests/test_plots.py (draws are reproducible for a seed and centred on the group means).

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
    from ._validation import numeric_column

    values = numeric_column(data, y, func, "y")
    stat = np.mean if statistic == "mean" else np.median
    frames = []
    for g in _order(data[x], None):
        v = values[data[x].eq(g).fillna(False).to_numpy(dtype=bool)].dropna().to_numpy(float)
        if v.size == 0:
            continue
        idx = rng.integers(0, v.size, size=(b, v.size))
        frames.append(pd.DataFrame({"draw": np.arange(b), "group": g, "value": stat(v[idx], axis=1)}))
    return pd.concat(frames, ignore_index=True)


def plot_ranking(table, *, ax=None, title=None):
    """Ranking with uncertainty: each group's rank interval, median rank and P(best).

    Parameters
    ----------
    table : pandas.DataFrame
        Output of :func:`rank_table` (columns ``group``, ``rank_median``, ``rank_low``,
        ``rank_high``, ``p_best``, ``n_draws``, ``confidence_level``).
    ax : matplotlib.axes.Axes or None
    title : str or None

    Returns
    -------
    matplotlib.axes.Axes
        One error-bar container per group, groups sorted by median rank (best at the top); tick
        labels ``"<group> (P(best)=0.42)"``.

    Notes
    -----
    Rank intervals show how sure the ordering is: overlapping intervals mean the data do not
    settle which group is ahead. Feed it ``rank_table(bootstrap_draws(...))``, or any draws table.

    Validated by tests/test_plots.py, which reads the drawn artists back and compares them with the table.

    Examples
    --------
    >>> import pandas as pd
    >>> import toolkit as tk
    >>> d = pd.DataFrame({"draw": [0, 0, 1, 1], "group": ["A", "B", "A", "B"], "value": [2.0, 1.0, 3.0, 1.0]})
    >>> ax = tk.plots.plot_ranking(tk.plots.rank_table(d))
    >>> [t.get_text() for t in ax.get_yticklabels()]
    ['A (P(best)=1.00)', 'B (P(best)=0.00)']
    """
    func = "plot_ranking"
    cols = ("group", "rank_median", "rank_low", "rank_high", "p_best")
    table = _table(table, func, {f"table[{c!r}]": c for c in cols})
    t = table.sort_values(["rank_median", "rank_mean"] if "rank_mean" in table.columns else ["rank_median"],
                          kind="stable").reset_index(drop=True)
    labels = [f"{g} (P(best)={p:.2f})" for g, p in zip(t["group"], t["p_best"])]
    ax = _axes(ax)
    y = np.arange(len(t))[::-1]
    for yi, m, a, b in zip(y, t["rank_median"], t["rank_low"], t["rank_high"]):
        ax.errorbar([m], [yi], xerr=[[m - a], [b - m]], fmt="o", color="#1f4e79", capsize=4, lw=1.5)
    ax.set_yticks(y)
    ax.set_yticklabels(labels)
    ax.set_ylim(-0.6, len(t) - 0.4)
    ax.set_xlim(0.5, len(t) + 0.5)
    ax.set_xticks(range(1, len(t) + 1))
    level = _level_from(t, None)
    nd = int(t["n_draws"].iloc[0]) if "n_draws" in t.columns else None
    ax.set_xlabel(f"rank (1 = best; point: median rank, bar: {_level_text(level, None).replace('CI', 'rank interval')}"
                  + (f" over {nd} draws)" if nd else ")"))
    ax.set_title(title or "Ranking with uncertainty")
    return ax


# -------------------------------------------------------------------------------------------------
# count-model checks
# -------------------------------------------------------------------------------------------------
def plot_rootogram(table, *, count="count", observed="observed", expected="expected", ax=None):
    """Hanging rootogram: observed count frequencies hang from the model's expected frequencies.

    Parameters
    ----------
    table : pandas.DataFrame
        One row per count value, e.g. ``tk.models.rootogram(model)``: ``count``, ``observed``
        (posts with that count), ``expected`` (the model's expected number of posts).
    count, observed, expected : str
        Column names.
    ax : matplotlib.axes.Axes or None

    Returns
    -------
    matplotlib.axes.Axes
        Bars (one per count) from ``sqrt(expected) - sqrt(observed)`` up to ``sqrt(expected)``,
        the expected curve ``sqrt(expected)`` as a line, and a reference line at 0.

    Notes
    -----
    On the square-root scale the deviations are comparable across counts. A bar ending below 0
    means the count is observed more often than the model expects (e.g. excess zeros); a bar
    ending above 0, less often (Kleiber & Zeileis 2016).

    Validated by tests/test_plots.py, which reads the drawn artists back and compares them with the table.

    References
    ----------
    Kleiber, C., & Zeileis, A. (2016). Visualizing count data regressions using rootograms. The
    American Statistician, 70(3), 296-303. doi:10.1080/00031305.2016.1173590

    Examples
    --------
    >>> import pandas as pd
    >>> import toolkit as tk
    >>> t = pd.DataFrame({"count": [0, 1, 2], "observed": [50, 30, 20], "expected": [40.0, 35.0, 25.0]})
    >>> ax = tk.plots.plot_rootogram(t)
    >>> len(ax.patches)
    3
    """
    func = "plot_rootogram"
    table = _table(table, func, {"count": count, "observed": observed, "expected": expected})
    k = table[count].to_numpy(float)
    so = np.sqrt(table[observed].to_numpy(float))
    se = np.sqrt(table[expected].to_numpy(float))
    ax = _axes(ax)
    ax.bar(k, so, bottom=se - so, width=0.8, color="#cfe2f3", edgecolor="#1f4e79", label="observed (hanging)")
    ax.plot(k, se, "o-", color="#b22222", ms=3, lw=1.5, label="expected")
    ax.axhline(0, color="0.3", lw=1)
    ax.set_xlabel(f"{count} (value of the outcome)")
    ax.set_ylabel("sqrt(frequency) (number of posts, square-root scale)")
    ax.set_title("Hanging rootogram: bars below 0 = more posts than the model expects")
    ax.legend(loc="upper right", fontsize=8)
    return ax


def plot_pit_qq(table, *, pit="pit", confidence_level=0.95, ax=None):
    """QQ plot of randomized quantile residuals (PIT values) against the uniform distribution.

    Parameters
    ----------
    table : pandas.DataFrame
        One row per post with a ``pit`` column in (0, 1), e.g. the first table of
        ``tk.models.quantile_residuals(model)``.
    pit : str, default="pit"
    confidence_level : float, default=0.95
        Level of the simultaneous Kolmogorov–Smirnov band around the diagonal.
    ax : matplotlib.axes.Axes or None

    Returns
    -------
    matplotlib.axes.Axes
        ``lines[0]``: the points (expected uniform quantile ``(i - 0.5)/n`` vs sorted PIT),
        ``lines[1]``: the diagonal, ``lines[2]``/``lines[3]``: the band ``diagonal ± d`` with
        ``d`` the KS critical value (``scipy.stats.kstwo.ppf(level, n)``).

    Notes
    -----
    Under a correct model the PIT values are independent U(0, 1) (Dunn & Smyth 1996), so the points
    follow the diagonal; an S shape signals over- or under-dispersion, a jump at the left
    excess zeros. Points leaving the band reject uniformity at the stated level (KS test).

    Validated by tests/test_plots.py, which reads the drawn artists back and compares them with the table.

    References
    ----------
    Dunn, P. K., & Smyth, G. K. (1996). Randomized quantile residuals. Journal of Computational and
    Graphical Statistics, 5(3), 236-244. doi:10.1080/10618600.1996.10474708

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> import toolkit as tk
    >>> t = pd.DataFrame({"pit": np.linspace(0.01, 0.99, 50)})
    >>> ax = tk.plots.plot_pit_qq(t)
    >>> len(ax.lines)
    4
    """
    func = "plot_pit_qq"
    table = _table(table, func, {"pit": pit})
    check_probability(confidence_level, func, "confidence_level")
    from scipy import stats

    u = np.sort(table[pit].dropna().to_numpy(float))
    n = u.size
    q = (np.arange(1, n + 1) - 0.5) / n
    d = float(stats.kstwo.ppf(confidence_level, n))
    ax = _axes(ax)
    ax.plot(q, u, "o", ms=3, color="#1f4e79", alpha=0.7, label="PIT values")
    ax.plot([0, 1], [0, 1], color="0.3", lw=1, label="U(0, 1)")
    grid = np.linspace(0, 1, 101)
    ax.plot(grid, np.clip(grid + d, 0, 1), ls="--", color="0.5", lw=1,
            label=f"{100 * confidence_level:g}% KS band")
    ax.plot(grid, np.clip(grid - d, 0, 1), ls="--", color="0.5", lw=1)
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_xlabel(f"expected uniform quantile (n = {n} posts)")
    ax.set_ylabel("randomized quantile residual (PIT, sorted)")
    ax.set_title("Residual check: points should follow the diagonal")
    ax.legend(loc="upper left", fontsize=8)
    return ax


# ---------------------------------------------------------------------------------------------
# Specification curve (toolkit.robustness)
# ---------------------------------------------------------------------------------------------
SPECIFICATION_CHOICES = ("outcome", "denominator", "analysis", "unit", "exclusion", "covariates")


def plot_specification_curve(table, *, choices=SPECIFICATION_CHOICES, ratio=True, fig=None):
    """Plot a specification curve: sorted estimates with CIs above, the choice matrix below.

    Parameters
    ----------
    table : pandas.DataFrame
        Output of :func:`toolkit.robustness.specification_curve` (or ``SpecificationTest.curve``).
    choices : sequence of str, default ("outcome", "denominator", "analysis", "unit", "exclusion", "covariates")
        Choice columns shown in the matrix; columns with a single value are left out.
    ratio : bool, default True
        Label the y axis as a ratio (exp of the log-ratio estimate, log-scaled axis); False shows the log ratio.
    fig : matplotlib.figure.Figure, optional
        Figure to draw into (cleared first); a new one when None.

    Returns
    -------
    dict
        ``{"figure": Figure, "curve": Axes, "choices": Axes}``.

    Notes
    -----
    Only specifications with status "ok" and a finite estimate are drawn (rank analyses have no ratio
    estimate and are not shown); they are sorted by estimate. Filled markers are significant
    (``significant`` column); the grey band is each confidence interval. Each column of the matrix below
    marks the choices of the specification above it. Validated visually; tests check the number of
    plotted specifications and the matrix rows.

    References
    ----------
    Simonsohn, U., Simmons, J. P., & Nelson, L. D. (2020). Specification curve analysis. Nature Human
    Behaviour, 4, 1208-1214. doi:10.1038/s41562-020-0912-z

    Examples
    --------
    >>> import toolkit as tk
    >>> from toolkit.robustness import specification_curve
    >>> from toolkit.plots import plot_specification_curve
    >>> sim = tk.simulate_organization(n_accounts_per_department=3, posts_per_account=20, seed=3,
    ...                                departments=["Marketing", "PR"], mixed_share=0.0)
    >>> curve = specification_curve(sim.data, between="department", contrast=("PR", "Marketing"),
    ...                             outcomes=("likes", "comments"), denominators=("reach",),
    ...                             analyses=("welch", "negbin_glm"), units=("post",), exclusions=("none",),
    ...                             n_jobs=1)
    >>> axes = plot_specification_curve(curve)
    >>> len(axes["curve"].collections[-1].get_offsets())
    4
    """
    import matplotlib.pyplot as plt

    func = "plot_specification_curve"
    table = check_data(table, func)
    need = {"estimate", "ci_low", "ci_high", "significant", "status"}
    if not need.issubset(table.columns):
        raise ValueError(message(func, "table", "the output of specification_curve",
                                 f"a table without {sorted(need - set(table.columns))}"))
    ok = table[(table["status"] == "ok") & np.isfinite(table["estimate"].astype(float))]
    if ok.empty:
        raise ValueError(message(func, "table", "a curve with at least one estimated specification",
                                 "no 'ok' rows with an estimate"))
    ok = ok.sort_values("estimate", kind="stable").reset_index(drop=True)
    shown = [c for c in choices if c in ok.columns and ok[c].nunique() > 1]
    levels = [(c, v) for c in shown for v in pd.unique(table[c].astype(str)) if v in set(ok[c].astype(str))]
    if fig is None:
        fig = plt.figure(figsize=(8, 3 + 0.22 * len(levels)))
    else:
        fig.clear()
    gs = fig.add_gridspec(2, 1, height_ratios=[3, max(1, 0.25 * len(levels))], hspace=0.05)
    ax = fig.add_subplot(gs[0])
    axm = fig.add_subplot(gs[1], sharex=ax)
    x = np.arange(len(ok))
    est, lo, hi = (ok[c].to_numpy(float) for c in ("estimate", "ci_low", "ci_high"))
    tr = np.exp if ratio else (lambda v: v)
    sig = ok["significant"].to_numpy(bool)
    ax.vlines(x, tr(lo), tr(hi), color="0.8", lw=1.5, zorder=1)
    ax.scatter(x, tr(est), c=np.where(sig, "C3", "white"), edgecolors="C3" if sig.any() else "0.3", s=18,
               zorder=2, linewidths=0.8)
    ax.axhline(tr(0.0), color="0.3", lw=0.8, ls="--")
    if ratio:
        ax.set_yscale("log")
        ax.set_ylabel("ratio (group_a / group_b)")
    else:
        ax.set_ylabel("log ratio (group_a / group_b)")
    ax.tick_params(labelbottom=False)
    ax.set_title(f"Specification curve: {len(ok)} specifications, {int(sig.sum())} significant (filled)")
    for j, (c, v) in enumerate(levels):
        mark = ok[c].astype(str).to_numpy() == v
        axm.scatter(x[mark], np.full(mark.sum(), j), marker="|", s=40, color="0.2")
    axm.set_yticks(range(len(levels)))
    axm.set_yticklabels([f"{c}: {v}" for c, v in levels], fontsize=7)
    axm.set_ylim(len(levels) - 0.5, -0.5)
    axm.set_xlabel("specification (sorted by estimate)")
    return {"figure": fig, "curve": ax, "choices": axm}
