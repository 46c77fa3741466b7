"""Engagement-specific quality checks: flagged, never excluded, each with its rows.

:func:`check_engagement` looks for problems that a row-by-row loader cannot see because they
only show across posts: one large count repeated over many posts of an account (a crawler
artefact), placeholder publication times, groups whose periods barely overlap, and interactions
above reach. It returns one row per (check, post) so each finding can be looked at and joined
back to the data; nothing is removed.

``tk.read_posts`` does not run these checks itself: they compare posts across accounts and
groups, and departments usually arrive later (``tk.assign_departments``). Run them once the table
is complete and pass ``report=`` to record the flags in the loader's quality report.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from toolkit import config
from toolkit._validation import check_data, check_integer, message
from toolkit.data.quality import QualityReport

_FUNC = "check_engagement"
CHECKS = ("repeated_count", "placeholder_time", "coverage_mismatch", "interactions_exceed_reach")
FLAG_COLUMNS = ("check", "row", "post_id", "source_row", "account", "group", "column", "value", "detail")
#: Counts checked for repeats (the audience legitimately repeats: followers at posting).
REPEAT_COLUMNS = ("reach", "impressions", "likes", "comments", "shares", "clicks", "video_views",
                  "interactions_reported")
#: A repeat is flagged when P(X >= k) under Poisson(expected) is below this (a conservative,
#: fixed bound: thousands of (account, column, value) cells are looked at).
REPEAT_P = 1e-5
#: Neighbourhood used to estimate how often an account's counts land on one exact value.
REPEAT_WINDOW = 1.5
#: Placeholder days: the Unix epoch (±1 day for time-zone shifts) and spreadsheet day zero.
PLACEHOLDER_DAYS = ("1969-12-31", "1970-01-01", "1970-01-02", "1899-12-30", "1899-12-31", "1900-01-01")


def _empty() -> pd.DataFrame:
    return pd.DataFrame({"check": pd.Series(dtype="str"), "row": pd.Series(dtype="int64"),
                         "post_id": pd.Series(dtype="string"), "source_row": pd.Series(dtype="Int64"),
                         "account": pd.Series(dtype="string"), "group": pd.Series(dtype="string"),
                         "column": pd.Series(dtype="str"), "value": pd.Series(dtype="str"),
                         "detail": pd.Series(dtype="str")})


def _flags(data, rows, check, column, values, details, *, account, between) -> pd.DataFrame:
    rows = np.asarray(rows, dtype="int64")
    n = len(rows)
    take = data.iloc[rows]

    def col(name, dtype):
        if name is not None and name in data.columns:
            return take[name].astype(dtype).to_numpy()
        return pd.array([pd.NA] * n, dtype=dtype)

    return pd.DataFrame({
        "check": np.repeat(check, n), "row": rows,
        "post_id": pd.array(col("post_id", "string"), dtype="string"),
        "source_row": pd.array(col("source_row", "Int64"), dtype="Int64"),
        "account": pd.array(col(account, "string"), dtype="string"),
        "group": pd.array(col(between, "string"), dtype="string"),
        "column": np.repeat(column, n) if isinstance(column, str) else np.asarray(column, dtype=object),
        "value": np.asarray(values, dtype=object).astype(str),
        "detail": np.asarray(details, dtype=object).astype(str)})


def _repeated_counts(data, *, account, min_repeats, min_count) -> list[pd.DataFrame]:
    if account is None or account not in data.columns:
        return []
    out = []
    acc_codes, _ = pd.factorize(data[account].astype("string"), use_na_sentinel=True)
    id_codes = (pd.factorize(data["post_id"].astype("string"), use_na_sentinel=False)[0]
                if "post_id" in data.columns else np.arange(len(data)))
    for column in REPEAT_COLUMNS:
        if column not in data.columns:
            continue
        v = pd.to_numeric(data[column], errors="coerce").astype("float64").to_numpy(na_value=np.nan)
        ok = (acc_codes >= 0) & ~np.isnan(v) & (v >= 0)
        if not ok.any():
            continue
        pos = np.flatnonzero(ok)
        acc, val = acc_codes[pos].astype("int64"), np.round(v[pos]).astype("int64")
        # one integer key per (account, value); values of one account sort together
        big = int(val.max() * REPEAT_WINDOW) + 2
        key = acc * big + val
        # cheap numeric pre-selection: (account, value) cells with enough rows
        large = val >= min_count
        cells, n_rows = np.unique(key[large], return_counts=True)
        cells = cells[n_rows >= min_repeats]
        if not len(cells):
            continue
        sub = np.isin(key, cells)
        frame = pd.DataFrame({"pos": pos[sub], "acc": acc[sub], "v": val[sub], "id": id_codes[pos][sub],
                              "key": key[sub]})
        # one vote per distinct post: repeated rows of the same post are the loader's business
        k = frame.drop_duplicates(["key", "id"]).groupby("key").size()
        rows_at_v = frame.groupby("key").size()
        cand = pd.DataFrame({"key": k.index.to_numpy(), "k": k.to_numpy(),
                             "rows_at_v": rows_at_v.reindex(k.index).to_numpy()})
        cand = cand[cand["k"] >= min_repeats]
        if cand.empty:
            continue
        cand_acc, cand_v = cand["key"].to_numpy() // big, cand["key"].to_numpy() % big
        # rows of the same account within a factor REPEAT_WINDOW of v (sorted keys + searchsorted)
        sorted_key = np.sort(key)
        lo_v = np.ceil(cand_v / REPEAT_WINDOW).astype("int64")
        hi_v = np.floor(cand_v * REPEAT_WINDOW).astype("int64")
        n_window = (np.searchsorted(sorted_key, cand_acc * big + hi_v, side="right")
                    - np.searchsorted(sorted_key, cand_acc * big + lo_v, side="left"))
        width = (hi_v - lo_v + 1).astype("float64")  # integers in the window
        # half a pseudo-post keeps the rate positive; the scan correction (x width) accounts for having
        # looked at every value of the window, not only at v (birthday problem)
        expected = (n_window - cand["rows_at_v"].to_numpy() + 0.5) / np.maximum(width - 1, 1)
        p = np.minimum(1.0, width * stats.poisson.sf(cand["k"].to_numpy() - 1, expected))
        hit = cand.assign(expected=expected, p=p)[p < REPEAT_P]
        if hit.empty:
            continue
        rows = frame.merge(hit, on="key", how="inner").sort_values("pos")
        details = [f"{column} = {int(val)} in {int(kk)} distinct posts of this account; about {ex:.2g} expected "
                   f"from its posts with {column} near that value (scan-corrected Poisson P = {pp:.1e}): "
                   f"likely a crawler or export artefact, check these posts at the source"
                   for val, kk, ex, pp in zip(rows["v"], rows["k"], rows["expected"], rows["p"])]
        out.append(_flags(data, rows["pos"].to_numpy(), "repeated_count", column,
                          rows["v"].to_numpy(), details, account=account, between=None))
    return out


def _placeholder_times(data, *, time, account, between) -> list[pd.DataFrame]:
    if time is None or time not in data.columns:
        return []
    when = pd.to_datetime(data[time], utc=True)
    day = when.dt.strftime("%Y-%m-%d")
    bad = day.isin(PLACEHOLDER_DAYS).to_numpy(dtype=bool)
    if not bad.any():
        return []
    rows = np.flatnonzero(bad)
    values = when.iloc[rows].astype(str).to_numpy()
    details = np.where(day.iloc[rows].str.startswith("19").to_numpy() & ~day.iloc[rows].str.startswith("189")
                       .to_numpy() & ~day.iloc[rows].eq("1900-01-01").to_numpy(),
                       "publication time at the Unix epoch (1970-01-01): a placeholder for a missing time "
                       "(a 0 timestamp), not a real date",
                       "publication time at spreadsheet day zero (1899-12-30 / 1900-01-01): a placeholder for "
                       "a missing time, not a real date")
    return [_flags(data, rows, "placeholder_time", time, values, details, account=account, between=between)]


def _coverage(data, *, time, between, account, min_overlap) -> list[pd.DataFrame]:
    if time is None or between is None or time not in data.columns or between not in data.columns:
        return []
    when = pd.to_datetime(data[time], utc=True)
    group = data[between].astype("string")
    ok = when.notna().to_numpy() & group.notna().to_numpy()
    if ok.sum() < 2:
        return []
    frame = pd.DataFrame({"g": group[ok].to_numpy(dtype=object),
                          "t": when[ok].astype("int64").to_numpy().astype("float64")})
    q = frame.groupby("g", sort=False)["t"].quantile([0.05, 0.95]).unstack()
    if len(q) < 2:
        return []
    labels = q.index.to_numpy(dtype=object)
    a, b = q[0.05].to_numpy(), q[0.95].to_numpy()
    out = []
    span = lambda x, y: f"{pd.Timestamp(int(x), tz='UTC'):%Y-%m-%d}..{pd.Timestamp(int(y), tz='UTC'):%Y-%m-%d}"
    for i in range(len(labels)):  # a loop over groups (few), not rows
        # the union of the other groups' periods, clipped to this group's period
        others = np.flatnonzero(np.arange(len(labels)) != i)
        lo, hi = np.clip(a[others], a[i], b[i]), np.clip(b[others], a[i], b[i])
        order = np.argsort(lo)
        lo, hi = lo[order], hi[order]
        reach = np.maximum.accumulate(hi)
        starts = np.maximum(lo, np.concatenate([[a[i]], reach[:-1]]))  # skip what is already covered
        covered = float(np.sum(np.maximum(0.0, hi - starts)))
        if b[i] > a[i]:
            share = covered / (b[i] - a[i])
        else:  # all posts at one moment: covered if some other period contains it
            share = float(np.any((a[others] <= a[i]) & (a[i] <= b[others])))
        if share >= min_overlap:
            continue
        o_lo, o_hi = a[others].min(), b[others].max()
        rows = np.flatnonzero(ok)[frame["g"].to_numpy(dtype=object) == labels[i]]
        detail = (f"{between} {labels[i]!r} posted mostly in {span(a[i], b[i])} (5th-95th percentile); the other "
                  f"groups' periods (within {span(o_lo, o_hi)}) cover only {share:.0%} of it "
                  f"(min_overlap={min_overlap}). Differences between these groups are confounded with time "
                  f"(platform changes, audience growth): compare them on a common period")
        out.append(_flags(data, rows, "coverage_mismatch", time, when.iloc[rows].astype(str).to_numpy(),
                          np.repeat(detail, len(rows)), account=account, between=between))
    return out


def _exceed_reach(data, *, account, between) -> list[pd.DataFrame]:
    parts = [c for c in config.INTERACTION_COLUMNS if c in data.columns]
    if not parts or "reach" not in data.columns:
        return []
    block = np.column_stack([pd.to_numeric(data[c], errors="coerce").astype("float64").to_numpy(na_value=np.nan)
                             for c in parts])
    reach = pd.to_numeric(data["reach"], errors="coerce").astype("float64").to_numpy(na_value=np.nan)
    any_part = ~np.all(np.isnan(block), axis=1)
    total = np.nansum(block, axis=1)
    bad = any_part & ~np.isnan(reach) & (total > reach)
    if not bad.any():
        return []
    rows = np.flatnonzero(bad)
    details = [f"{' + '.join(parts)} = {int(s)} exceeds reach {int(r)}: reach may be organic-only, capped, or "
               f"from another period than the interactions" for s, r in zip(total[rows], reach[rows])]
    return [_flags(data, rows, "interactions_exceed_reach", "reach", reach[rows].astype("int64"), details,
                   account=account, between=between)]


def check_engagement(data, *, account: str | None = "account", between: str | None = "department",
                     time: str | None = "posted_at", min_repeats: int = 3, min_count: int = 100,
                     min_overlap: float = 0.5, report: QualityReport | None = None) -> pd.DataFrame:
    """Flag engagement-specific data problems (repeated counts, placeholder times, disjoint periods).

    Parameters
    ----------
    data : pandas.DataFrame
        Posts in the canonical schema (e.g. from ``tk.read_posts`` or ``tk.load_dataset``). Checks
        whose columns are absent are skipped.
    account : str or None, default="account"
        Account column (for repeated counts); None skips that check.
    between : str or None, default="department"
        Grouping column whose time coverage is compared; None skips that check.
    time : str or None, default="posted_at"
        Publication-time column; None skips the time checks.
    min_repeats : int, default=3
        Smallest number of distinct posts of one account sharing one exact count to consider.
    min_count : int, default=100
        Smallest count value considered for repeats (small counts repeat naturally).
    min_overlap : float, default=0.5
        A group is flagged when the other groups' periods together cover less than this share of
        its own period (periods: 5th-95th percentile of posting times).
    report : QualityReport or None, default=None
        If given, every flag is also added to it as a "flagged" entry (rule = the check's name)
        and a note counts them. Changed in place; rows are never excluded.

    Returns
    -------
    pandas.DataFrame
        One row per (check, post), RangeIndex, columns:

        - ``check``: "repeated_count", "placeholder_time", "coverage_mismatch" or
          "interactions_exceed_reach"
        - ``row``: 0-based position of the post in `data`
        - ``post_id``, ``source_row``, ``account``, ``group``: from `data` (missing when absent)
        - ``column``: the column concerned; ``value``: its value there (as text)
        - ``detail``: what was found, in words

    Raises
    ------
    TypeError
        `data` is not a DataFrame, `report` not a QualityReport.
    ValueError
        `min_repeats` < 2, `min_count` < 1 or `min_overlap` outside (0, 1].

    See Also
    --------
    read_posts : Read a post-level export into the canonical table, with a report of every change.
    load_dataset : Load a registered real dataset as a canonical table with its quality report.
    list_datasets : List the real datasets that :func:`load_dataset` can load.

    Notes
    -----
    - **repeated_count**: for each account and count column (``REPEAT_COLUMNS``; not the
      audience, which legitimately repeats), a value ``v >= min_count`` seen in ``k >= min_repeats``
      distinct posts is flagged when :math:`W \\cdot P(X \\ge k) < 10^{-5}` for
      :math:`X \\sim \\text{Poisson}(\\lambda)`, where :math:`W` is the number of integers in the
      window :math:`[v/1.5, 1.5v]` and :math:`\\lambda` is (the number of the account's other rows in
      that window + 0.5) / (W - 1): how often a post lands on one exact value there. The factor W
      corrects for having looked at every value of the window (a birthday-problem bound). Popular
      small values therefore do not fire; rounded exports ("1.2K") can, and deserve the look too.
    - **placeholder_time**: publication days 1969-12-31 to 1970-01-02 (a 0 Unix timestamp in any
      time zone) and 1899-12-30 to 1900-01-01 (spreadsheet day zero).
    - **coverage_mismatch**: each group's period is the 5th-95th percentile of its posting times;
      a group is flagged when the union of the other groups' periods covers less than
      `min_overlap` of its period (so with one department in 2016 and the others in 2022 only that
      department is flagged; with two groups that never overlap, both are). Needs at least two
      groups with times.
    - **interactions_exceed_reach**: likes + comments + shares (missing parts left out) above reach.

    Missing values never fire a check. The implementation is vectorised (sorted keys and
    ``searchsorted`` for the repeat windows); only the coverage check loops, over groups. Not a
    statistical test of a hypothesis: validated by tests/test_engagement_checks.py on data where
    each check must fire and on data where it must not.

    Examples
    --------
    >>> import pandas as pd
    >>> import toolkit as tk
    >>> posts = pd.DataFrame({"post_id": list("abcdef"), "account": ["x"] * 6,
    ...                       "likes": [4710, 4710, 4710, 4710, 12, 30],
    ...                       "posted_at": pd.to_datetime(["1970-01-01"] + ["2022-05-01"] * 5, utc=True)})
    >>> flags = tk.check_engagement(posts)
    >>> flags[["check", "post_id"]].values.tolist()  # doctest: +NORMALIZE_WHITESPACE
    [['repeated_count', 'a'], ['repeated_count', 'b'], ['repeated_count', 'c'], ['repeated_count', 'd'],
     ['placeholder_time', 'a']]
    """
    data = check_data(data, _FUNC)
    min_repeats = check_integer(min_repeats, _FUNC, "min_repeats", minimum=2)
    min_count = check_integer(min_count, _FUNC, "min_count", minimum=1)
    if isinstance(min_overlap, bool) or not isinstance(min_overlap, (int, float)) or not 0 < min_overlap <= 1:
        raise ValueError(message(_FUNC, "min_overlap", "a number in (0, 1]", min_overlap,
                                 "For example 0.5: flag a group sharing less than half of its period with the others."))
    if report is not None and not isinstance(report, QualityReport):
        raise TypeError(message(_FUNC, "report", "a QualityReport (from tk.read_posts) or None", type(report).__name__))
    for name, value in (("account", account), ("between", between), ("time", time)):
        if value is not None and not isinstance(value, str):
            raise TypeError(message(_FUNC, name, "a column name (str) or None", value))
    parts = (_repeated_counts(data, account=account, min_repeats=min_repeats, min_count=min_count)
             + _placeholder_times(data, time=time, account=account, between=between)
             + _coverage(data, time=time, between=between, account=account, min_overlap=min_overlap)
             + _exceed_reach(data, account=account, between=between))
    flags = pd.concat([_empty()] + parts, ignore_index=True) if parts else _empty()
    flags = flags.astype({"row": "int64"})[list(FLAG_COLUMNS)]
    if report is not None:
        src = flags["source_row"].fillna(pd.Series(flags["row"] + 1, dtype="Int64"))
        seen = set(zip(report.entries["source_row"].astype("int64"), report.entries["rule"]))
        for check, s, pid, column, value, detail in zip(flags["check"], src, flags["post_id"], flags["column"],
                                                         flags["value"], flags["detail"]):
            if (int(s), check) in seen:  # read_posts already flagged interactions_exceed_reach
                continue
            report.add(source_row=int(s), action="flagged", rule=check, column=column,
                       post_id=None if pd.isna(pid) else pid, original_value=value, message=detail)
        counts = flags["check"].value_counts()
        report.note(f"{_FUNC}: " + (", ".join(f"{c} {int(counts.get(c, 0))}" for c in CHECKS)
                                    + " flagged post(s); nothing excluded." if len(flags) else
                                    "no engagement-specific problems found."))
    return flags
