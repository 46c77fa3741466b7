"""Engagement metrics as pure column-adding and aggregating functions.

Every metric is ``scale * numerator / denominator`` computed per post, with the denominator
written into the column name (``engagement_rate_reach``, ``conversation_rate_audience``,
``popularity_per_1000_audience``). Rates are fractions (0-1), never percentages. A zero or
missing denominator gives a missing value (NaN), never ``inf``; every such value is counted in
``result.attrs["metrics"]`` (see :func:`metrics_report`) and announced with a
:class:`~toolkit.ToolkitWarning`.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ._validation import check_column, check_data, check_option, message, numeric_column, warn

#: Denominators a rate may use (exposure columns of the canonical schema).
DENOMINATORS: tuple[str, ...] = ("audience", "reach", "impressions")


@dataclass(frozen=True)
class _Metric:
    name: str            # output column
    numerator: str       # input column (or "total_interactions")
    denominator: str | None
    scale: float
    source: str          # short citation


def _catalogue(denominators: tuple[str, ...]) -> dict[str, _Metric]:
    """All metrics, in output order, with the Kaushik rates for the chosen denominators."""
    out: dict[str, _Metric] = {}
    out["total_interactions"] = _Metric("total_interactions", "likes + comments + shares", None, 1.0,
                                        "sum of interactions")
    for d in ("reach", "impressions", "audience"):
        out[f"engagement_rate_{d}"] = _Metric(f"engagement_rate_{d}", "total_interactions", d, 1.0,
                                              "interactions per exposed unit")
    for stem, num in (("conversation_rate", "comments"), ("amplification_rate", "shares"),
                      ("applause_rate", "likes")):
        for d in denominators:
            out[f"{stem}_{d}"] = _Metric(f"{stem}_{d}", num, d, 1.0, "Kaushik (2011)")
    for stem, num in (("popularity", "likes"), ("commitment", "comments"), ("virality", "shares")):
        out[f"{stem}_per_1000_audience"] = _Metric(f"{stem}_per_1000_audience", num, "audience", 1000.0,
                                                   "Bonsón & Ratkai (2013)")
    return out


#: Short names accepted in ``metrics=`` and the column they stand for.
_KAUSHIK_STEMS = ("conversation_rate", "amplification_rate", "applause_rate")
_BONSON_STEMS = ("popularity", "commitment", "virality")


def metric_inputs(metric: _Metric) -> tuple[str, ...]:
    """The data columns a metric definition reads (its numerator parts and its denominator)."""
    nums = ("likes", "comments", "shares") if metric.numerator in ("total_interactions",
                                                                   "likes + comments + shares") \
        else (metric.numerator,)
    return nums + ((metric.denominator,) if metric.denominator else ())


def resolve_metrics(data: pd.DataFrame, metrics: Any, denominator: Any,
                    func: str) -> tuple[list[_Metric], list[dict]]:
    """Turn ``metrics=`` and ``denominator=`` into a list of metric definitions and skipped ones."""
    if isinstance(denominator, str):
        dens = (denominator,)
    elif isinstance(denominator, (list, tuple)) and denominator and all(isinstance(d, str) for d in denominator):
        dens = tuple(dict.fromkeys(denominator))
    else:
        raise TypeError(message(func, "denominator", "one of 'audience', 'reach', 'impressions' or a list of "
                                "them", denominator))
    for d in dens:
        check_option(d, DENOMINATORS, func, "denominator")
    catalogue = _catalogue(dens)
    full = _catalogue(DENOMINATORS)

    if isinstance(metrics, str) and metrics in ("all", "available"):
        wanted = list(catalogue)
        mode = metrics
    else:
        if isinstance(metrics, str):
            metrics = [metrics]
        if not isinstance(metrics, (list, tuple)) or not metrics or not all(isinstance(m, str) for m in metrics):
            raise TypeError(message(func, "metrics", "'all', 'available', a metric name or a list of metric "
                                    "names", metrics))
        wanted = []
        for m in metrics:
            if m in _KAUSHIK_STEMS:
                wanted.extend(f"{m}_{d}" for d in dens)
            elif m in _BONSON_STEMS:
                wanted.append(f"{m}_per_1000_audience")
            elif m in full:
                wanted.append(m)
            else:
                check_option(m, list(full) + list(_KAUSHIK_STEMS) + list(_BONSON_STEMS), func, "metrics")
        wanted = list(dict.fromkeys(wanted))
        mode = "explicit"

    chosen, skipped = [], []
    for name in wanted:
        metric = full[name]
        missing = [c for c in metric_inputs(metric) if c not in data.columns]
        if missing and mode == "available":
            skipped.append({"metric": name, "missing_columns": missing})
            continue
        if missing:
            hint = ("Pass metrics='available' to compute only the metrics whose inputs exist "
                    "(the skipped ones are listed in result.attrs['metrics_skipped']).")
            if mode == "all":
                hint += " Or name the metrics you want, e.g. metrics=['engagement_rate_reach']."
            cols = ", ".join(repr(str(c)) for c in list(data.columns)[:12])
            raise ValueError(message(func, "metrics", f"computable from the columns of `data`; metric {name!r} "
                                     f"needs column {missing[0]!r}", missing[0],
                                     f"Available columns include {cols}. {hint}", show_got=False))
        chosen.append(metric)
    return chosen, skipped


def add_metrics(data, *, metrics="all", denominator="audience"):
    """Add per-post engagement metrics as new columns, each with its denominator in the name.

    Parameters
    ----------
    data : pandas.DataFrame
        Posts in long form (one row per post) with the canonical count columns (``likes``,
        ``comments``, ``shares``, ``reach``, ``impressions``, ``audience``), e.g. from
        ``tk.read_posts`` or ``tk.simulate_organization``. Not modified.
    metrics : "all", "available", str or list of str, default="all"
        Which metrics to add.

        - ``"all"``: every metric below; raises if an input column is missing.
        - ``"available"``: those whose input columns exist; the others are listed in
          ``result.attrs["metrics_skipped"]``.
        - names: output column names (e.g. ``"engagement_rate_reach"``) or the short names
          ``"conversation_rate"``, ``"amplification_rate"``, ``"applause_rate"`` (expanded with
          ``denominator``) and ``"popularity"``, ``"commitment"``, ``"virality"``. A named metric
          whose input column is missing raises a ValueError.
    denominator : {"audience", "reach", "impressions"} or list of them, default="audience"
        Denominator of Kaushik's conversation, amplification and applause rates. Kaushik (2011)
        divides by the number of followers ("audience"). A list adds one column per denominator.

    Returns
    -------
    pandas.DataFrame
        A new frame: all columns of ``data`` followed by the requested metric columns, in this order:

        - ``total_interactions``: likes + comments + shares (count; missing if any part is missing).
        - ``engagement_rate_reach``: total_interactions / reach (fraction of reached users).
        - ``engagement_rate_impressions``: total_interactions / impressions (per impression).
        - ``engagement_rate_audience``: total_interactions / audience (per follower).
        - ``conversation_rate_<d>``: comments / d (Kaushik), d = ``denominator``.
        - ``amplification_rate_<d>``: shares / d (Kaushik).
        - ``applause_rate_<d>``: likes / d (Kaushik).
        - ``popularity_per_1000_audience``: 1000 * likes / audience (Bonsón & Ratkai).
        - ``commitment_per_1000_audience``: 1000 * comments / audience (Bonsón & Ratkai).
        - ``virality_per_1000_audience``: 1000 * shares / audience (Bonsón & Ratkai).

        Rates are float64. ``total_interactions`` is ``Int64`` when the three counts are integer
        columns, float64 otherwise. ``result.attrs["metrics"]`` maps each added column to its
        provenance: ``numerator``, ``denominator`` (None for the total), ``scale``, ``source``,
        ``n`` (rows), ``n_missing_numerator``, ``n_missing_denominator``, ``n_zero_denominator``
        and ``n_undefined`` (missing values in the new column; the sum of the three counts
        before, rows counted once). ``result.attrs["metrics_skipped"]`` lists metrics left out under
        ``metrics="available"`` with the missing columns. :func:`metrics_report` shows both as a table.

    Raises
    ------
    TypeError
        ``data`` is not a DataFrame, an input column is not numeric, or an option has the wrong type.
    ValueError
        Unknown metric or denominator, a requested metric's input column is missing, an output
        column already exists in ``data``, or an input column has negative or infinite values.

    Warns
    -----
    ToolkitWarning
        When any new column has missing values (zero or missing denominator, missing numerator),
        naming the counts per column.

    See Also
    --------
    summarize_metrics : page- or department-level ratio-of-sums and mean-of-ratios.
    metrics_report : provenance and undefined counts as a table.

    Notes
    -----
    Per post *i*, every metric is ``scale * numerator_i / denominator_i``:

    - total interactions :math:`T_i = L_i + C_i + S_i` (likes, comments, shares);
    - engagement rate by reach / impressions / audience: :math:`T_i / R_i`, :math:`T_i / I_i`,
      :math:`T_i / A_i`;
    - Kaushik's (2011) conversation rate :math:`C_i / D_i`, amplification rate :math:`S_i / D_i`
      and applause rate :math:`L_i / D_i`, with :math:`D` the chosen ``denominator``;
    - Bonsón & Ratkai's (2013) post-level popularity :math:`1000 L_i / A_i`, commitment
      :math:`1000 C_i / A_i` and virality :math:`1000 S_i / A_i` (per 1,000 followers). Their
      page-level indices average these over a page's posts: see :func:`summarize_metrics`.

    Missing data: a missing count is never read as zero; a missing part makes the total missing,
    and a missing numerator or a missing or zero denominator makes the rate missing (NaN, never
    ``inf``). These values are counted per column in ``attrs["metrics"]`` and announced with a
    ToolkitWarning; rows are never dropped, which is why there is no ``nan_policy`` here (the
    statistics functions apply theirs to the metric columns). Negative counts are refused (clean them first, e.g.
    with ``tk.read_posts``, which records them in its QualityReport).

    Validated against hand-computed values on small frames (tests/test_metrics.py); the formulas
    are definitions, so there is no external implementation to compare with.

    References
    ----------
    .. [1] Kaushik, A. (2011). Best social media metrics: Conversation, amplification, applause,
       economic value. *Occam's Razor* (blog).
       https://www.kaushik.net/avinash/best-social-media-metrics-conversation-amplification-applause-economic-value/
    .. [2] Bonsón, E., & Ratkai, M. (2013). A set of metrics to assess stakeholder engagement and
       social legitimacy on a corporate Facebook page. *Online Information Review*, 37(5), 787-803.
       https://doi.org/10.1108/OIR-03-2012-0054

    Examples
    --------
    >>> import toolkit as tk
    >>> sim = tk.simulate_organization(n_accounts_per_department=2, posts_per_account=5, seed=1)
    >>> out = tk.add_metrics(sim.data, metrics=["engagement_rate_reach", "conversation_rate"])
    >>> out.columns[-2:].tolist()
    ['engagement_rate_reach', 'conversation_rate_audience']
    >>> out.attrs["metrics"]["engagement_rate_reach"]["denominator"]
    'reach'
    >>> row = out.iloc[0]
    >>> bool(row["engagement_rate_reach"] == (row["likes"] + row["comments"] + row["shares"]) / row["reach"])
    True
    """
    func = "add_metrics"
    data = check_data(data, func)
    chosen, skipped = resolve_metrics(data, metrics, denominator, func)

    clash = [m.name for m in chosen if m.name in data.columns]
    if clash:
        raise ValueError(message(func, "data", "free of the metric columns to be added", clash,
                                 "Drop them first (data.drop(columns=[...])) or add metrics to the original "
                                 "frame; add_metrics never overwrites a column."))

    # Validate and convert each needed input once.
    needed = list(dict.fromkeys(c for m in chosen for c in metric_inputs(m)))
    values: dict[str, np.ndarray] = {}
    for col in needed:
        v = numeric_column(data, col, func, "metrics").to_numpy(dtype="float64")
        n_neg = int((v < 0).sum())
        if n_neg:
            raise ValueError(message(func, "data", f"free of negative values in {col!r}",
                                     f"{n_neg} negative value(s)",
                                     "Counts and exposures cannot be negative; clean the data first "
                                     "(tk.read_posts records such rows in its QualityReport).", show_got=True))
        values[col] = v

    n = len(data)
    new_cols: dict[str, Any] = {}
    provenance: dict[str, dict] = {}
    total = None
    if any(m.numerator in ("total_interactions", "likes + comments + shares") for m in chosen):
        total = values["likes"] + values["comments"] + values["shares"]  # NaN propagates
    for m in chosen:
        if m.denominator is None:  # total_interactions
            parts = [data[c] for c in ("likes", "comments", "shares")]
            if all(pd.api.types.is_integer_dtype(p) for p in parts):
                col = pd.array(np.where(np.isnan(total), 0, total).astype("int64"), dtype="Int64")
                col[np.isnan(total)] = pd.NA
            else:
                col = total.copy()
            n_miss_num = int(np.isnan(total).sum())
            provenance[m.name] = {"numerator": m.numerator, "denominator": None, "scale": m.scale,
                                  "source": m.source, "n": n, "n_missing_numerator": n_miss_num,
                                  "n_missing_denominator": 0, "n_zero_denominator": 0,
                                  "n_undefined": n_miss_num}
            new_cols[m.name] = col
            continue
        num = total if m.numerator == "total_interactions" else values[m.numerator]
        den = values[m.denominator]
        miss_num = np.isnan(num)
        miss_den = np.isnan(den)
        zero_den = den == 0
        undefined = miss_num | miss_den | zero_den
        with np.errstate(divide="ignore", invalid="ignore"):
            rate = m.scale * num / np.where(undefined, 1.0, den)
        rate[undefined] = np.nan
        provenance[m.name] = {"numerator": m.numerator, "denominator": m.denominator, "scale": m.scale,
                              "source": m.source, "n": n, "n_missing_numerator": int(miss_num.sum()),
                              "n_missing_denominator": int(miss_den.sum()),
                              "n_zero_denominator": int(zero_den.sum()), "n_undefined": int(undefined.sum())}
        new_cols[m.name] = rate

    out = data.copy()
    for name, col in new_cols.items():
        out[name] = col
    out.attrs = {**data.attrs, "metrics": {**data.attrs.get("metrics", {}), **provenance},
                 "metrics_skipped": skipped}

    bad = {k: p for k, p in provenance.items() if p["n_undefined"]}
    if bad:
        parts = []
        for k, p in bad.items():
            why = []
            if p["n_zero_denominator"]:
                why.append(f"zero {p['denominator']} {p['n_zero_denominator']}")
            if p["n_missing_denominator"]:
                why.append(f"missing {p['denominator']} {p['n_missing_denominator']}")
            if p["n_missing_numerator"]:
                why.append(f"missing {p['numerator']} {p['n_missing_numerator']}")
            parts.append(f"{k} {p['n_undefined']} of {n} ({', '.join(why)})")
        warn(f"{func}: some metric values are undefined and set to NaN (never inf): " + "; ".join(parts)
             + ". See tk.metrics.metrics_report(result) for the counts.")
    return out


def metrics_report(data):
    """Return the provenance of the metric columns added by :func:`add_metrics` as a table.

    Parameters
    ----------
    data : pandas.DataFrame
        The frame that ``add_metrics`` returned (reads ``data.attrs["metrics"]`` and
        ``data.attrs["metrics_skipped"]``).

    Returns
    -------
    pandas.DataFrame
        One row per metric column (added first, then skipped ones), with columns

        - ``metric``: column name.
        - ``numerator``, ``denominator``: input columns (denominator missing for the total).
        - ``scale``: multiplier (1 for rates, 1000 for Bonsón & Ratkai per-1,000 metrics).
        - ``source``: where the definition comes from.
        - ``status``: "added" or "skipped".
        - ``n``: rows.
        - ``n_defined``: rows with a value.
        - ``n_missing_numerator``, ``n_missing_denominator``, ``n_zero_denominator``: rows made
          undefined for each reason (a row can have several).
        - ``n_undefined``: rows without a value (NaN).
        - ``missing_columns``: for skipped metrics, the absent input columns ("|"-separated).

    See Also
    --------
    add_metrics : Add per-post engagement metrics as new columns, each with its denominator in the name.
    summarize_metrics : Aggregate per-post metrics to groups (pages, accounts, departments) in two honest ways.

    Notes
    -----
    Only reads ``attrs``; pandas may drop ``attrs`` in some operations (e.g. merges), so call it on
    the frame that :func:`add_metrics` returned. Validated by the tests of :func:`add_metrics`.

    Examples
    --------
    >>> import pandas as pd
    >>> import toolkit as tk
    >>> posts = pd.DataFrame({"likes": [10, 3], "comments": [1, 0], "shares": [0, 1], "reach": [200, 50]})
    >>> out = tk.add_metrics(posts, metrics="available")
    >>> rep = tk.metrics.metrics_report(out)
    >>> rep[["metric", "status", "n_undefined"]].head(3).values.tolist()
    [['total_interactions', 'added', 0], ['engagement_rate_reach', 'added', 0], ['engagement_rate_impressions', 'skipped', 0]]
    """
    data = check_data(data, "metrics_report")
    if "metrics" not in data.attrs:
        raise ValueError(message("metrics_report", "data", "a frame returned by tk.add_metrics (with "
                                 "attrs['metrics'])", "a frame without metric provenance",
                                 "Call tk.add_metrics(data) and pass its result; some pandas operations "
                                 "drop attrs.", show_got=False))
    columns = ["metric", "numerator", "denominator", "scale", "source", "status", "n", "n_defined",
               "n_missing_numerator", "n_missing_denominator", "n_zero_denominator", "n_undefined",
               "missing_columns"]
    rows = []
    for name, p in data.attrs["metrics"].items():
        rows.append({"metric": name, "numerator": p["numerator"], "denominator": p["denominator"],
                     "scale": p["scale"], "source": p["source"], "status": "added", "n": p["n"],
                     "n_defined": p["n"] - p["n_undefined"], "n_missing_numerator": p["n_missing_numerator"],
                     "n_missing_denominator": p["n_missing_denominator"],
                     "n_zero_denominator": p["n_zero_denominator"], "n_undefined": p["n_undefined"],
                     "missing_columns": ""})
    full = _catalogue(DENOMINATORS)
    for s in data.attrs.get("metrics_skipped", []):
        m = full[s["metric"]]
        rows.append({"metric": m.name, "numerator": m.numerator, "denominator": m.denominator,
                     "scale": m.scale, "source": m.source, "status": "skipped", "n": len(data), "n_defined": 0,
                     "n_missing_numerator": 0, "n_missing_denominator": 0, "n_zero_denominator": 0,
                     "n_undefined": 0, "missing_columns": "|".join(s["missing_columns"])})
    out = pd.DataFrame(rows, columns=columns)
    for c in ("n", "n_defined", "n_missing_numerator", "n_missing_denominator", "n_zero_denominator",
              "n_undefined"):
        out[c] = out[c].astype("int64")
    out["scale"] = out["scale"].astype("float64")
    return out


def summarize_metrics(data, *, by="department", metrics="available", denominator="audience"):
    """Aggregate per-post metrics to groups (pages, accounts, departments) in two honest ways.

    Parameters
    ----------
    data : pandas.DataFrame
        Posts in long form with the canonical count columns. Not modified.
    by : str or list of str, default="department"
        Grouping column(s), e.g. ``"department"`` or ``["account"]``. Missing labels form their
        own group (shown as missing), so no post disappears.
    metrics : "all", "available", str or list of str, default="available"
        Same meaning as in ``add_metrics``; ``total_interactions`` is not a ratio and is left out.
    denominator : {"audience", "reach", "impressions"} or list of them, default="audience"
        Same meaning as in ``add_metrics``.

    Returns
    -------
    pandas.DataFrame
        One row per group and metric (groups in category/sorted order, metrics in
        :func:`add_metrics` order), with columns

        - the ``by`` column(s): the group.
        - ``metric``: the metric column name (as in :func:`add_metrics`).
        - ``numerator``, ``denominator``, ``scale``: its definition.
        - ``n_posts``: posts in the group.
        - ``n_used``: posts where the per-post metric is defined (both inputs present, denominator
          > 0); both summaries below use exactly these posts.
        - ``sum_numerator``, ``sum_denominator``: sums over the used posts.
        - ``ratio_of_sums``: ``scale * sum_numerator / sum_denominator`` — the pooled rate; this is
          what a count model with ``log(denominator)`` offset estimates per group.
        - ``mean_of_ratios``: the plain mean of the per-post metric; every post weighs the same,
          whatever its denominator.

    See Also
    --------
    add_metrics : Add per-post engagement metrics as new columns, each with its denominator in the name.
    metrics_report : Return the provenance of the metric columns added by :func:`add_metrics` as a table.

    Notes
    -----
    For a group with used posts :math:`i = 1..n`, numerators :math:`y_i` and denominators
    :math:`d_i`: ratio of sums :math:`s \\sum y_i / \\sum d_i` and mean of ratios
    :math:`(s/n) \\sum y_i / d_i`. They agree when all :math:`d_i` are equal and differ otherwise;
    small denominators make the mean of ratios noisy. Bonsón & Ratkai's page-level indices divide
    the page's average count per post by its number of fans and multiply by 1,000 (e.g.
    popularity = likes per post / fans * 1000); for ``by="account"`` with a constant audience per
    account, both columns equal that index. Posts with an undefined metric are not used and
    are counted as ``n_posts - n_used``; no warning is issued here (``add_metrics`` warns).

    Validated against hand-computed values on small frames (tests/test_metrics.py).

    References
    ----------
    .. [1] Bonsón, E., & Ratkai, M. (2013). A set of metrics to assess stakeholder engagement and
       social legitimacy on a corporate Facebook page. *Online Information Review*, 37(5), 787-803.
       https://doi.org/10.1108/OIR-03-2012-0054

    Examples
    --------
    >>> import toolkit as tk
    >>> sim = tk.simulate_organization(n_accounts_per_department=2, posts_per_account=20, seed=3)
    >>> s = tk.metrics.summarize_metrics(sim.data, by="department", metrics=["engagement_rate_reach"])
    >>> s.columns.tolist()
    ['department', 'metric', 'numerator', 'denominator', 'scale', 'n_posts', 'n_used', 'sum_numerator', 'sum_denominator', 'ratio_of_sums', 'mean_of_ratios']
    >>> s.shape
    (9, 11)
    """
    func = "summarize_metrics"
    data = check_data(data, func)
    by_list = [by] if isinstance(by, str) else by
    if not isinstance(by_list, (list, tuple)) or not by_list:
        raise TypeError(message(func, "by", "a column name or a list of column names", by))
    for b in by_list:
        check_column(data, b, func, "by")
    chosen, _ = resolve_metrics(data, metrics, denominator, func)
    chosen = [m for m in chosen if m.denominator is not None]
    if not chosen:
        raise ValueError(message(func, "metrics", "at least one ratio metric computable from `data`", metrics))

    # Compute per-post values quietly (add_metrics warns; here the counts are reported as n_used).
    import warnings

    from ._validation import ToolkitWarning
    base = data[list(dict.fromkeys(by_list + [c for m in chosen for c in metric_inputs(m)]))]
    base = base.drop(columns=[c for c in base.columns if c in [m.name for m in chosen]], errors="ignore")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ToolkitWarning)
        per_post = add_metrics(base, metrics=[m.name for m in chosen], denominator=denominator)
    total = None
    parts = []
    keys = per_post[by_list]
    for m in chosen:
        rate = per_post[m.name].to_numpy(dtype="float64")
        used = ~np.isnan(rate)
        if m.numerator == "total_interactions":
            if total is None:
                total = sum(numeric_column(data, c, func, "metrics").to_numpy(dtype="float64")
                            for c in ("likes", "comments", "shares"))
            num = total
        else:
            num = numeric_column(data, m.numerator, func, "metrics").to_numpy(dtype="float64")
        den = numeric_column(data, m.denominator, func, "metrics").to_numpy(dtype="float64")
        frame = keys.copy()
        frame["_used"] = used.astype("int64")
        frame["_num"] = np.where(used, num, 0.0)
        frame["_den"] = np.where(used, den, 0.0)
        frame["_rate"] = np.where(used, rate, 0.0)
        frame["_one"] = 1
        g = frame.groupby(by_list, sort=True, dropna=False, observed=True)
        agg = g[["_one", "_used", "_num", "_den", "_rate"]].sum().reset_index()
        res = agg[by_list].copy()
        res["metric"] = m.name
        res["numerator"] = m.numerator
        res["denominator"] = m.denominator
        res["scale"] = m.scale
        res["n_posts"] = agg["_one"].astype("int64")
        res["n_used"] = agg["_used"].astype("int64")
        res["sum_numerator"] = agg["_num"].astype("float64")
        res["sum_denominator"] = agg["_den"].astype("float64")
        with np.errstate(divide="ignore", invalid="ignore"):
            res["ratio_of_sums"] = np.where(res["n_used"] > 0, m.scale * res["sum_numerator"]
                                            / res["sum_denominator"].where(res["n_used"] > 0, 1.0), np.nan)
            res["mean_of_ratios"] = np.where(res["n_used"] > 0, agg["_rate"] / res["n_used"].where(
                res["n_used"] > 0, 1), np.nan)
        res["_order"] = len(parts)
        parts.append(res)
    out = pd.concat(parts, ignore_index=True)
    out = out.sort_values(by_list + ["_order"], kind="stable", na_position="last").drop(columns="_order")
    return out.reset_index(drop=True)
