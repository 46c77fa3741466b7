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
bootstrap_draws     tidy bootstrap draws of a per-group mean or median (defined in ``toolkit.stats.ranking``)
rank_table          rank intervals and probability of being best from bootstrap draws (``toolkit.stats.ranking``)
plot_ranking        ranking with uncertainty (from ``rank_table``)
plot_rootogram      hanging rootogram (observed vs expected count frequencies)
plot_pit_qq         QQ plot of randomized quantile residuals (PIT values) against U(0, 1)
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ._validation import check_column, check_data, check_option, check_probability, check_table, message
from .stats.ranking import bootstrap_draws, rank_table

__all__ = ["plot_distributions", "plot_means", "plot_estimates", "plot_forest", "plot_pvalue_matrix",
           "bootstrap_draws", "rank_table", "plot_ranking", "plot_rootogram", "plot_pit_qq",
           "plot_specification_curve", "choose_scale", "AxisScale", "LOG_DECADES"]


def _axes(ax, size=(6.4, 4.0)):
    """``ax``, or the Axes of a new figure (constrained layout, so no label is cut off)."""
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=size, layout="constrained")
    return ax


# -------------------------------------------------------------------------------------------------
# readable axes: one scale rule, plain tick labels, wrapped text
# -------------------------------------------------------------------------------------------------
#: Decades the positive values must span before a logarithmic axis is used (see :func:`choose_scale`).
LOG_DECADES = 2.0
_GLYPH = 0.55  # average glyph width in units of the font size (DejaVu Sans), for wrapping


@dataclass(frozen=True)
class AxisScale:
    """The value axis chosen by :func:`choose_scale`.

    Attributes
    ----------
    scale : {"linear", "log", "symlog"}
    linthresh : float or None
        symlog only: the axis is linear from 0 to ``linthresh``, logarithmic above.
    note : str
        Text for the axis label ("" for linear).
    """

    scale: str
    linthresh: float | None = None
    note: str = ""


def choose_scale(values, *, decades=LOG_DECADES):
    """Choose the value axis for the data by one rule: linear unless the values span many decades.

    Parameters
    ----------
    values : array-like
        The values that will be drawn (NaN and infinities are ignored).
    decades : float, default=2.0
        How many powers of ten the positive values must span before a logarithmic axis is used.
        The span is ``log10(max / q05)`` with ``q05`` the 5th percentile of the positive values, so
        a few tiny values among rates do not make the axis logarithmic.

    Returns
    -------
    AxisScale
        ``scale`` ("linear", "log" or "symlog"), ``linthresh`` (symlog only: the axis is linear
        from 0 to ``linthresh``, logarithmic above) and ``note`` (text for the axis label; "" for
        linear).

    Notes
    -----
    The rule, in order:

    1. any negative value, or no positive value: **linear**;
    2. positive values spanning at most ``decades`` powers of ten: **linear**, starting at 0 (rates
       in 0-0.07, counts 0-40);
    3. all values positive: **log**;
    4. zeros and positive values spanning more than ``decades``: **symlog** with ``linthresh`` the
       power of ten at or below ``q05`` (1 for counts): zeros stay on the axis and the tail is
       readable; the axis label says so.

    Tick labels are plain numbers (0, 0.02, 1.5, 250, 1k, 2.5M), never scientific notation.

    Validated by tests/test_plots.py on rates, zero-heavy counts and heavy-tailed counts.

    Examples
    --------
    >>> from toolkit.plots import choose_scale
    >>> choose_scale([0.0, 0.012, 0.07]).scale
    'linear'
    >>> choose_scale([0, 0, 1, 3, 250, 4100])
    AxisScale(scale='symlog', linthresh=1.0, note='axis linear from 0 to 1, logarithmic above')
    """
    v = np.asarray(pd.to_numeric(pd.Series(np.ravel(values)), errors="coerce"), dtype=float)
    v = v[np.isfinite(v)]
    pos = v[v > 0]
    if v.size == 0 or v.min() < 0 or pos.size == 0:
        return AxisScale("linear")
    low = float(np.quantile(pos, 0.05))  # robust: a few tiny values do not make a rate axis logarithmic
    if np.log10(pos.max() / low) <= decades:
        return AxisScale("linear")
    if v.min() > 0:
        return AxisScale("log", note="log axis")
    lt = float(10.0 ** np.floor(np.log10(low)))
    return AxisScale("symlog", lt, f"axis linear from 0 to {_number(lt)}, logarithmic above")


def _decimals(x) -> int:
    for d in range(0, 12):
        if abs(round(x, d) - x) <= 1e-9 * max(1.0, abs(x)):
            return d
    return 12


def _number(x, decimals=None) -> str:
    """A tick label a reader can read: 0, 0.02, 1.5, 250, 1k, 2.5M (never scientific notation)."""
    x = float(x)
    if not np.isfinite(x):
        return ""
    if x == 0:
        return "0"
    sign, a = ("\u2212" if x < 0 else ""), abs(x)
    for size, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if a >= size:
            v = a / size
            return f"{sign}{v:.{min(_decimals(round(v, 2)), 2)}f}{suffix}"
    d = _decimals(a) if decimals is None else decimals
    return f"{sign}{a:.{d}f}"


def _tick_classes():
    """The tick formatter and locator classes, built on first use (matplotlib stays a lazy import).

    They live at module level as ``_Readable`` and ``_LogTicks`` (resolved by the module's
    ``__getattr__``), so figures that use them can be pickled and unpickled.
    """
    if "_Readable" in globals():
        return globals()["_Readable"], globals()["_LogTicks"]
    from matplotlib import ticker

    class _Readable(ticker.Formatter):
        """Plain decimals with a common number of places (linear) or per value (log); k/M/B above 1,000."""

        def __init__(self, per_value=False):
            self.per_value = per_value
            self._d = None

        def set_locs(self, locs):
            finite = [float(x) for x in locs if np.isfinite(x) and abs(x) < 1e3]
            self._d = None if self.per_value or not finite else max(_decimals(x) for x in finite)

        def __call__(self, x, pos=None):
            return _number(x, self._d)

    class _LogTicks(ticker.Locator):
        """Ticks at 1-2-5 (or finer) multiples of powers of ten, so a short log range still has labels."""

        def __call__(self):
            lo, hi = self.axis.get_view_interval()
            return self.tick_values(lo, hi)

        def tick_values(self, vmin, vmax):
            lo, hi = sorted((float(vmin), float(vmax)))
            if not (lo > 0 and np.isfinite(hi)):
                return []
            span = np.log10(hi / lo)
            subs = ((1, 1.25, 1.5, 2, 2.5, 3, 4, 5, 6, 8) if span < 0.7 else
                    (1, 2, 5) if span < 2.5 else (1,))
            step = 1 if span < 8 else int(np.ceil(span / 8))
            exps = range(int(np.floor(np.log10(lo))) - 1, int(np.ceil(np.log10(hi))) + 1)
            return [m * 10.0 ** e for e in exps if e % step == 0 for m in subs if lo <= m * 10.0 ** e <= hi]

    for cls in (_Readable, _LogTicks):
        cls.__module__, cls.__qualname__ = __name__, cls.__name__
        globals()[cls.__name__] = cls
    return _Readable, _LogTicks


def __getattr__(name):
    if name in ("_Readable", "_LogTicks"):
        return dict(zip(("_Readable", "_LogTicks"), _tick_classes()))[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _formatter(per_value: bool):
    return _tick_classes()[0](per_value)


def _log_locator():
    return _tick_classes()[1]()


def _readable_axis(ax, which, scale: AxisScale | str):
    """Set the scale of the ``which`` axis ("x"/"y") with plain tick labels."""
    from matplotlib import ticker

    if isinstance(scale, str):
        scale = AxisScale(scale)
    axis = ax.yaxis if which == "y" else ax.xaxis
    set_scale = ax.set_yscale if which == "y" else ax.set_xscale
    if scale.scale == "log":
        set_scale("log")
        axis.set_major_locator(_log_locator())
        axis.set_major_formatter(_formatter(per_value=True))
        axis.set_minor_formatter(ticker.NullFormatter())
    elif scale.scale == "symlog":
        set_scale("symlog", linthresh=scale.linthresh, linscale=0.5)
        axis.set_major_locator(ticker.SymmetricalLogLocator(base=10, linthresh=scale.linthresh, subs=(1.0,)))
        axis.set_major_formatter(_formatter(per_value=True))
        axis.set_minor_formatter(ticker.NullFormatter())
    else:
        set_scale("linear")
        # along x, labels are wide: about one tick per inch of axis
        nbins = "auto" if which == "y" else int(np.clip(_axes_size_pt(ax)[0] / 72.0, 3, 8))
        axis.set_major_locator(ticker.MaxNLocator(nbins=nbins, steps=[1, 2, 5, 10]))
        axis.set_major_formatter(_formatter(per_value=False))


def _value_limits(ax, which, values, scale: AxisScale):
    """Limits that hold every value; non-negative data never get a negative range."""
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    set_lim = ax.set_ylim if which == "y" else ax.set_xlim
    if v.size == 0:
        return
    lo, hi = float(v.min()), float(v.max())
    if scale.scale == "log":
        set_lim(lo / 1.25, hi * 1.25)
    elif scale.scale == "symlog":
        set_lim(0.0, hi * 1.35)
    elif lo >= 0:
        set_lim(0.0, hi * 1.06 if hi > 0 else 1.0)
    else:
        pad = 0.05 * (hi - lo if hi > lo else max(abs(lo), 1.0))
        set_lim(lo - pad, hi + pad)


def _axes_size_pt(ax):
    """Width and height of the axes in points (from its current position in the figure)."""
    fig = ax.get_figure()
    pos = ax.get_position()
    w, h = fig.get_size_inches()
    return pos.width * w * 72.0, pos.height * h * 72.0


def _wrap(text, chars) -> str:
    import textwrap

    chars = max(8, int(chars))
    return "\n".join("\n".join(textwrap.wrap(line, chars, break_long_words=True, break_on_hyphens=False)) or line
                     for line in str(text).split("\n"))


def _fontsize(key) -> float:
    from matplotlib import font_manager, rcParams

    return font_manager.FontProperties(size=rcParams[key]).get_size_in_points()


class _AxesLineWidth:
    """Line width for matplotlib's text wrapping: the laid-out length of an axes, at most the figure's."""

    def __init__(self, text, ax, which):
        self.text, self.ax, self.which = text, ax, which

    def __call__(self):
        length = self.ax.bbox.height if self.which == "y" else self.ax.bbox.width
        return max(20.0, min(0.98 * length, type(self.text)._get_wrap_line_width(self.text)))


def _wrap_to_axes(t, ax, which):
    """Wrap ``t`` at draw time to the current length of ``ax`` along ``which`` ("x": width, "y": height).

    Matplotlib wraps text (``set_wrap``) to the figure; here the line width is the axes' length as
    laid out when the text is drawn (constrained layout included), and never more than the figure
    allows. Falls back to wrapping at call time if matplotlib's private hook is missing.
    """
    if not hasattr(type(t), "_get_wrap_line_width"):  # pragma: no cover - other matplotlib versions
        return
    t.set_wrap(True)
    t._get_wrap_line_width = _AxesLineWidth(t, ax, which)


def _set_title(ax, text, *, fontsize=None):
    """Title wrapped to the width of the axes (at draw time)."""
    fs = fontsize or _fontsize("axes.titlesize")
    t = ax.set_title(str(text), fontsize=fs)
    _wrap_to_axes(t, ax, "x")
    if not t.get_wrap():  # pragma: no cover
        t.set_text(_wrap(text, 0.95 * _axes_size_pt(ax)[0] / (_GLYPH * fs)))


def _set_label(ax, which, text):
    """Axis label wrapped to the length of its axis (at draw time)."""
    t = (ax.set_ylabel if which == "y" else ax.set_xlabel)(str(text))
    _wrap_to_axes(t, ax, which)
    if not t.get_wrap():  # pragma: no cover
        w, h = _axes_size_pt(ax)
        t.set_text(_wrap(text, 0.95 * (h if which == "y" else w) / (_GLYPH * _fontsize("axes.labelsize"))))


def _category_labels(ax, names, counts=None, *, axis="x"):
    """Tick labels for categories along ``axis``: wrapped to the space each one has.

    Horizontal labels ``"<name>\\n(n=<n>)"`` when each name fits in its slot on at most three
    lines; otherwise vertical labels ``"<name> (n=<n>)"`` wrapped at 30 characters and a smaller font.
    Along a vertical axis (``axis="y"``) names are wrapped to 40 characters.
    """
    k = len(names)
    w, h = _axes_size_pt(ax)
    if axis == "y":
        labels = [_wrap(nm, 40) for nm in names]
        fs = 8.0 if k > 12 else _fontsize("ytick.labelsize")
        ax.set_yticklabels(labels, fontsize=fs)
        return labels
    fs = _fontsize("xtick.labelsize") if k <= 5 else 8.0
    chars = (w / max(k, 1)) / (_GLYPH * fs) * 0.9
    import textwrap

    wrapped = [textwrap.wrap(str(nm), max(1, int(chars)), break_long_words=False) or [str(nm)] for nm in names]
    fits = chars >= 4 and all(len(lines) <= 3 and max(len(t) for t in lines) <= chars for lines in wrapped)
    if fits:
        labels = ["\n".join(lines) + (f"\n(n={int(c)})" if counts is not None else "")
                  for lines, c in zip(wrapped, counts if counts is not None else [0] * k)]
        ax.set_xticklabels(labels, fontsize=fs, rotation=0)
    else:
        labels = [_wrap(f"{nm} (n={int(c)})" if counts is not None else str(nm), 30)
                  for nm, c in zip(names, counts if counts is not None else [0] * k)]
        ax.set_xticklabels(labels, fontsize=min(fs, 8.0), rotation=90, ha="center", va="top",
                           multialignment="left")
    return labels


def _category_figsize(names, *, vertical=False):
    """Figure size that leaves room for ``len(names)`` category labels."""
    k = len(names)
    longest = max((len(str(nm)) for nm in names), default=1)
    if vertical:  # one row per name, wrapped at 40 characters (8-point font above 12 rows)
        lines = max((len(_wrap(nm, 40).split("\n")) for nm in names), default=1)
        per_row = (0.16 if k > 12 else 0.19) * lines + 0.14
        return (max(6.4, 2.5 + 0.07 * min(longest, 40)), max(3.0, 1.4 + per_row * k))
    if k <= 8 and longest <= 18:
        return (max(6.4, 0.8 * k + 1.5), 4.0)
    return (max(6.4, 1.5 + 0.3 * k), 3.2 + 0.075 * min(longest + 8, 30) * min(2, 1 + longest // 30))


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



# -------------------------------------------------------------------------------------------------
# raw data
# -------------------------------------------------------------------------------------------------
def _points_of(data, points):
    """What one row (one point) of ``data`` is, in the plural: explicit, or inferred from the table."""
    if points is not None:
        return str(points)
    # compare_groups(..., subject="account").analysed_data: one row per account with its n_posts
    if "n_posts" in data.columns and "account" in data.columns and not data["account"].duplicated().any():
        return "accounts"
    return "posts"


def plot_distributions(data, *, x, y, order=None, kind="box", scale="auto", jitter=0.25, seed=0, points=None,
                       ax=None):
    """Show every value per group: jittered points over a box or violin.

    Parameters
    ----------
    data : pandas.DataFrame
        Long-form values: one row per post, or one row per account
        (``compare_groups(..., subject="account").analysed_data``).
    x : str
        Grouping column (e.g. ``"department"``); categories keep their categorical order.
    y : str
        Numeric outcome column (e.g. ``"comments"``).
    order : list or None, default=None
        Group order on the axis; None uses the categorical order (sorted labels otherwise).
    kind : {"box", "violin"}, default="box"
        Summary drawn behind the points.
    scale : {"auto", "linear", "log", "symlog"}, default="auto"
        Value axis. "auto" applies :func:`choose_scale` to the values: linear (from 0 for
        non-negative data) unless the positive values span more than two decades; then log, or
        symlog when there are zeros (linear from 0 to the smallest power of ten present,
        logarithmic above). The axis label says when it is not linear.
    jitter : float, default=0.25
        Half-width of the horizontal jitter of the points (in category units).
    seed : int, default=0
        Seed of the jitter (display only).
        The same int gives the same numbers on every run; None draws fresh randomness.
    points : str or None, default=None
        What one point is, in the plural, for the title (e.g. "posts", "account means"). None
        infers it from the table: "accounts" when every row is a different account and the table
        has an ``n_posts`` column (the account-level data of ``compare_groups``), else "posts".
    ax : matplotlib.axes.Axes or None, default=None
        Axes to draw on; None makes a new figure sized for the number and length of the labels.

    Returns
    -------
    matplotlib.axes.Axes
        ``ax``: one point collection per group (in axis order), tick labels ``"<group>\\n(n=<n>)"``
        (names wrapped to the space available; vertical ``"<group> (n=<n>)"`` when they do not fit).

    Notes
    -----
    Missing outcomes are left out of the group and of its ``n`` (the tick label counts the plotted
    values). Boxes show the quartiles (R type 7) and whiskers at 1.5 IQR; a box is not an inference.
    Every value lies inside the axis limits; non-negative values never get a negative axis range.

    Validated by tests/test_plots.py, which reads the drawn artists back and compares them with the
    table, and checks limits, tick labels and that no text is cut off.

    Examples
    --------
    >>> import toolkit as tk
    >>> org = tk.simulate_organization(n_accounts_per_department=2, posts_per_account=10, seed=1)
    >>> ax = tk.plots.plot_distributions(org.data, x="department", y="comments")
    >>> ax.get_yscale(), float(ax.get_ylim()[0])  # counts 0-40: linear from 0 (see choose_scale)
    ('linear', 0.0)
    >>> " ".join(ax.get_title().split())
    'comments by department (points: posts; box: quartiles)'
    """
    func = "plot_distributions"
    data = check_data(data, func)
    check_column(data, x, func, "x")
    check_column(data, y, func, "y")
    check_option(kind, ("box", "violin"), func, "kind")
    check_option(scale, ("auto", "linear", "log", "symlog"), func, "scale")
    from ._validation import numeric_column

    values = numeric_column(data, y, func, "y")
    groups = _order(data[x], order)
    what = _points_of(data, points)
    ax = _axes(ax, _category_figsize([str(g) for g in groups]))
    rng = np.random.default_rng(seed)
    samples = []
    for i, g in enumerate(groups):
        v = values[data[x].eq(g).fillna(False).to_numpy(dtype=bool)].dropna().to_numpy(float)
        samples.append(v)
        ax.scatter(i + rng.uniform(-jitter, jitter, v.size), v, s=9, alpha=0.45, color="0.25", zorder=3,
                   linewidths=0, label=str(g), clip_on=False)
    allv = np.concatenate(samples) if samples else np.array([])
    chosen = choose_scale(allv)
    if scale != "auto":
        if scale == "log" and not (allv.size and allv.min() > 0):
            raise ValueError(message(func, "scale", "'log' only for positive values",
                                     f"values with minimum {allv.min() if allv.size else 'none'!r}",
                                     "Use scale='auto' (symlog when there are zeros) or 'symlog'."))
        if scale == "symlog":
            pos = allv[allv > 0]
            lt = float(10.0 ** np.floor(np.log10(pos.min()))) if pos.size else 1.0
            chosen = AxisScale("symlog", lt, f"axis linear from 0 to {_number(lt)}, logarithmic above")
        else:
            chosen = AxisScale(scale, note="log axis" if scale == "log" else "")
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
    _category_labels(ax, [str(g) for g in groups], [s.size for s in samples])
    ax.set_xlim(-0.6, len(groups) - 0.4)
    _readable_axis(ax, "y", chosen)
    _value_limits(ax, "y", allv, chosen)
    _set_label(ax, "y", f"{y} ({chosen.note})" if chosen.note else y)
    ax.set_xlabel(x)
    _set_title(ax, f"{y} by {x} (points: {what}; box: quartiles)" if kind == "box"
               else f"{y} by {x} (points: {what}; shape: density)")
    return ax


# -------------------------------------------------------------------------------------------------
# estimates with intervals
# -------------------------------------------------------------------------------------------------
def plot_means(table, *, estimate="mean", ci_low="mean_ci_low", ci_high="mean_ci_high", label="group", n="n",
               unit=None, confidence_level=None, interval="bootstrap", log=False, title=None, ax=None):
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
    log : bool or "auto", default=False
        Logarithmic y axis; "auto" applies :func:`choose_scale` to the estimates and interval ends
        (log only when they are positive and span more than two decades). A linear axis never
        shows a negative range for non-negative estimates.
    title : str or None, default=None
        Title (wrapped to the width of the axes); None draws none.
    ax : matplotlib.axes.Axes or None

    Returns
    -------
    matplotlib.axes.Axes
        One error-bar container per group (in table order); tick labels ``"<group>\\n(n=<n>)"``
        (wrapped to the space available; vertical ``"<group> (n=<n>)"`` when they do not fit).

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
    >>> " ".join(ax.get_ylabel().split())  # the label is wrapped to the height of the axes
    'comments per post (mean, 95% CI, bootstrap)'
    """
    func = "plot_means"
    table = check_table(table, func, {"estimate": estimate, "ci_low": ci_low, "ci_high": ci_high, "label": label,
                                      "n": n})
    level = _level_from(table, confidence_level)
    if unit is None:
        if "unit" in table.columns:
            unit = str(table["unit"].iloc[0])
        elif "dv" in table.columns:
            unit = str(table["dv"].iloc[0])
        else:
            unit = estimate
    names = [str(g) for g in table[label]]
    ax = _axes(ax, _category_figsize(names))
    est = table[estimate].to_numpy(float)
    lo, hi = table[ci_low].to_numpy(float), table[ci_high].to_numpy(float)
    for i in range(len(table)):
        err = None if np.isnan(lo[i]) or np.isnan(hi[i]) else [[est[i] - lo[i]], [hi[i] - est[i]]]
        ax.errorbar([i], [est[i]], yerr=err, fmt="o", color="#1f4e79", capsize=4, lw=1.5)
    ax.set_xticks(range(len(table)))
    _category_labels(ax, names, table[n].to_numpy() if n is not None else None)
    ax.set_xlim(-0.6, len(table) - 0.4)
    shown = np.concatenate([est, lo, hi])
    shown = shown[np.isfinite(shown)]
    if not (isinstance(log, (bool, np.bool_)) or log == "auto"):
        raise ValueError(message(func, "log", "True, False or 'auto'", log))
    if log == "auto":
        chosen = choose_scale(shown)
        chosen = chosen if chosen.scale != "symlog" else AxisScale("linear")
    else:
        chosen = AxisScale("log", note="log axis") if log else AxisScale("linear")
    if chosen.scale == "log" and shown.size and shown.min() <= 0:
        raise ValueError(message(func, "log", "False for values that are not all positive",
                                 f"minimum {shown.min()!r}"))
    _readable_axis(ax, "y", chosen)
    if chosen.scale == "linear" and shown.size and shown.min() >= 0:
        ax.relim()
        ax.autoscale_view()
        if ax.get_ylim()[0] < 0:  # no negative range for non-negative estimates
            ax.set_ylim(bottom=0.0)
    what = "mean" if estimate == "mean" else estimate
    _set_label(ax, "y", f"{unit} ({what}, {_level_text(level, interval)}"
                        + ("; log scale)" if chosen.scale == "log" else ")"))
    ax.set_xlabel(str(table["between"].iloc[0]) if "between" in table.columns else label)
    if title:
        _set_title(ax, title)
    return ax


def _estimation(ax, labels, est, lo, hi, *, log, reference_value, xlabel, title):
    ax = _axes(ax, _category_figsize(labels, vertical=True))
    y = np.arange(len(labels))[::-1]
    for yi, e, a, b in zip(y, est, lo, hi):
        err = None if np.isnan(a) or np.isnan(b) else [[e - a], [b - e]]
        ax.errorbar([e], [yi], xerr=err, fmt="o", color="#1f4e79", capsize=4, lw=1.5)
    ax.axvline(reference_value, color="0.4", ls="--", lw=1, zorder=0)
    ax.set_yticks(y)
    _category_labels(ax, labels, axis="y")
    ax.set_ylim(-0.6, len(labels) - 0.4)
    _readable_axis(ax, "x", AxisScale("log") if log else AxisScale("linear"))
    _set_label(ax, "x", xlabel)
    if title:
        _set_title(ax, title)
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
    >>> " ".join(ax.get_xlabel().split())  # the label is wrapped to the width of the axes
    'rate_ratio vs Social media team (95% CI, unadjusted; log scale)'
    """
    func = "plot_estimates"
    table = check_table(table, func, {"estimate": estimate, "ci_low": ci_low, "ci_high": ci_high, "label": label})
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
    table = check_table(table, func, {"estimate": estimate, "ci_low": ci_low, "ci_high": ci_high, "group_a": group_a,
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
    table = check_table(table, func, {"p": p, "group_a": group_a, "group_b": group_b})
    check_probability(alpha, func, "alpha")
    if order is None:
        order = list(dict.fromkeys(list(table[group_a]) + list(table[group_b])))
    index = {g: i for i, g in enumerate(order)}
    k = len(order)
    mat = np.full((k, k), np.nan)
    for a, b, v in zip(table[group_a], table[group_b], table[p].to_numpy(float)):
        if a in index and b in index:
            mat[index[a], index[b]] = mat[index[b], index[a]] = v
    longest = max(len(str(g)) for g in order)
    side = max(4.5, 0.3 * k + 1.2 + 0.07 * (min(longest, 22) if k <= 12 else longest))
    ax = _axes(ax, (side + 1.0, side))
    shown = -np.log10(np.clip(mat, 1e-16, 1.0))
    top = float(np.nanmax(shown)) if np.isfinite(shown).any() else 3.0
    ax.imshow(np.ma.masked_invalid(shown), cmap="Blues", vmin=0, vmax=max(3.0, top))
    annotate = k <= 12
    for i in range(k):
        for j in range(k):
            if annotate and np.isfinite(mat[i, j]):
                star = "*" if mat[i, j] < alpha else ""
                ax.text(j, i, f"{mat[i, j]:.3g}{star}", ha="center", va="center", fontsize=8,
                        color="white" if shown[i, j] > 2 else "black")
    fs = 8.0 if k > 8 else _fontsize("xtick.labelsize")
    ax.set_xticks(range(k))
    names = [_wrap(g, 22) if k <= 12 else g for g in map(str, order)]  # one line each when many
    ax.set_xticklabels(names, rotation=45 if k <= 12 else 90, ha="right" if k <= 12 else "center",
                       rotation_mode="anchor" if k <= 12 else "default", fontsize=fs)
    ax.set_yticks(range(k))
    ax.set_yticklabels(names, fontsize=fs)
    adj = f"{table['p_adjust'].iloc[0]}-adjusted " if "p_adjust" in table.columns and p == "p_adjusted" else ""
    note = "" if annotate else "; values not printed for more than 12 groups"
    _set_title(ax, f"Pairwise {adj}p-values ({p}); * p < {alpha:g}; colour: -log10(p){note}")
    return ax


# -------------------------------------------------------------------------------------------------
# ranking with uncertainty (the draws and the rank table are computed in toolkit.stats.ranking)
# -------------------------------------------------------------------------------------------------
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
    table = check_table(table, func, {f"table[{c!r}]": c for c in cols})
    t = table.sort_values(["rank_median", "rank_mean"] if "rank_mean" in table.columns else ["rank_median"],
                          kind="stable").reset_index(drop=True)
    labels = [f"{g} (P(best)={p:.2f})" for g, p in zip(t["group"], t["p_best"])]
    ax = _axes(ax, _category_figsize(labels, vertical=True))
    y = np.arange(len(t))[::-1]
    for yi, m, a, b in zip(y, t["rank_median"], t["rank_low"], t["rank_high"]):
        ax.errorbar([m], [yi], xerr=[[m - a], [b - m]], fmt="o", color="#1f4e79", capsize=4, lw=1.5)
    ax.set_yticks(y)
    _category_labels(ax, labels, axis="y")
    ax.set_ylim(-0.6, len(t) - 0.4)
    ax.set_xlim(0.5, len(t) + 0.5)
    step = 1 if len(t) <= 15 else 5
    ax.set_xticks([1] + list(range(step, len(t) + 1, step))[1 if step == 1 else 0:])
    level = _level_from(t, None)
    nd = int(t["n_draws"].iloc[0]) if "n_draws" in t.columns else None
    _set_label(ax, "x", f"rank (1 = best; point: median rank, bar: "
                        f"{_level_text(level, None).replace('CI', 'rank interval')}" + (f" over {nd} draws)" if nd else ")"))
    _set_title(ax, title or "Ranking with uncertainty")
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
    table = check_table(table, func, {"count": count, "observed": observed, "expected": expected})
    k = table[count].to_numpy(float)
    so = np.sqrt(table[observed].to_numpy(float))
    se = np.sqrt(table[expected].to_numpy(float))
    ax = _axes(ax)
    ax.bar(k, so, bottom=se - so, width=0.8, color="#cfe2f3", edgecolor="#1f4e79", label="observed (hanging)")
    ax.plot(k, se, "o-", color="#b22222", ms=3, lw=1.5, label="expected")
    ax.axhline(0, color="0.3", lw=1)
    _readable_axis(ax, "x", "linear")
    _readable_axis(ax, "y", "linear")
    ax.xaxis.get_major_locator().set_params(integer=True)
    _set_label(ax, "x", f"{count} (value of the outcome)")
    _set_label(ax, "y", "sqrt(frequency) (number of posts, square-root scale)")
    _set_title(ax, "Hanging rootogram: bars below 0 = more posts than the model expects")
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
    table = check_table(table, func, {"pit": pit})
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
    _readable_axis(ax, "x", "linear")
    _readable_axis(ax, "y", "linear")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    _set_label(ax, "x", f"expected uniform quantile (n = {n} posts)")
    _set_label(ax, "y", "randomized quantile residual (PIT, sorted)")
    _set_title(ax, "Residual check: points should follow the diagonal")
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
        Label the y axis as a ratio (exp of the log-ratio estimate, log-scaled axis with plain tick labels such
        as 0.8, 1, 1.25); False shows the log ratio.
    fig : matplotlib.figure.Figure, optional
        Figure to draw into (cleared first); a new one when None.

    Returns
    -------
    dict
        ``{"figure": Figure, "curve": Axes, "choices": Axes}``.

    See Also
    --------
    specification_curve : Run one department contrast over every combination of analysis choices (a multiverse).
    specification_test : Joint test of a specification curve against curves computed on data with no group
        difference.

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
    ...                             analyses=("welch_log_ratio", "negbin_glm"), units=("post",), exclusions=("none",),
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
    names = [_wrap(f"{c}: {v}", 40) for c, v in levels]
    matrix_height = max(0.8, sum(0.125 * (nm.count("\n") + 1) + 0.07 for nm in names))  # inches, 7-point text
    if fig is None:
        fig = plt.figure(figsize=(8, 3.8 + matrix_height), layout="constrained")
    else:
        fig.clear()
        fig.set_layout_engine("constrained")
    gs = fig.add_gridspec(2, 1, height_ratios=[3, matrix_height])
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
    _readable_axis(ax, "y", "log" if ratio else "linear")
    _readable_axis(axm, "x", "linear")
    axm.xaxis.get_major_locator().set_params(integer=True)
    _set_label(ax, "y", "ratio (group_a / group_b; log axis)" if ratio else "log ratio (group_a / group_b)")
    ax.tick_params(labelbottom=False)
    _set_title(ax, f"Specification curve: {len(ok)} specifications, {int(sig.sum())} significant (filled)")
    for j, (c, v) in enumerate(levels):
        mark = ok[c].astype(str).to_numpy() == v
        axm.scatter(x[mark], np.full(mark.sum(), j), marker="|", s=40, color="0.2")
    axm.set_yticks(range(len(levels)))
    axm.set_yticklabels(names, fontsize=7)
    axm.set_ylim(len(levels) - 0.5, -0.5)
    axm.set_xlabel("specification (sorted by estimate)")
    return {"figure": fig, "curve": ax, "choices": axm}
