"""Departments from an org chart: real exports name accounts, not departments.

:func:`assign_departments` joins each post's account to the department that ran it, from an org
chart table (a DataFrame or a CSV file) with one row per account and period. An account that
changed team on a date has one row per team with ``valid_from``/``valid_to``. Posts whose account
cannot be matched keep a missing department and are named in ``.unmatched`` (never dropped).
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd

from toolkit import config
from toolkit._validation import _did_you_mean, check_column, check_data, message, warn
from toolkit.data.quality import QualityReport

_FUNC = "assign_departments"
UNMATCHED_COLUMNS = ("account", "reason", "n_posts", "first_posted", "last_posted", "post_ids")
REASONS = {
    "no_account": "the post has no account",
    "not_in_org_chart": "account not in the org chart",
    "outside_periods": "posted outside every valid period of the account in the org chart",
    "no_time": "posting time missing and the account changed department",
}


class DepartmentAssignment(NamedTuple):
    """Result of :func:`assign_departments`: ``(data, unmatched)``."""

    data: pd.DataFrame
    unmatched: pd.DataFrame


def _key(values: pd.Series) -> pd.Series:
    """Account key: surrounding spaces and a leading '@' removed, case-folded."""
    return values.astype("string").str.strip().str.replace(r"^@", "", regex=True).str.casefold()


def _chart_column(chart: pd.DataFrame, name, param: str) -> None:
    if name not in chart.columns:
        names = [str(c) for c in chart.columns]
        raise ValueError(message(_FUNC, param, "the name of a column in `org_chart`", name,
                                 f"Its columns are {', '.join(map(repr, names[:12]))}."
                                 f"{_did_you_mean(str(name), names)}"))


def _read_chart(org_chart, *, account, department, valid_from, valid_to) -> pd.DataFrame:
    if isinstance(org_chart, (str, os.PathLike)):
        path = Path(org_chart)
        if not path.exists():
            raise FileNotFoundError(message(_FUNC, "org_chart", "an existing CSV file or a DataFrame", str(path)))
        chart = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig", sep=None, engine="python")
    elif isinstance(org_chart, pd.DataFrame):
        chart = org_chart.copy()
    else:
        raise TypeError(message(_FUNC, "org_chart", "a pandas.DataFrame or the path of a CSV file",
                                type(org_chart).__name__))
    for param, name in (("account", account), ("department", department)):
        _chart_column(chart, name, param)
    out = pd.DataFrame({"row": np.arange(2, len(chart) + 2), "key": _key(chart[account]),
                        "department": chart[department].astype("string").str.strip()})
    blank = out["key"].fillna("").eq("") | out["department"].fillna("").eq("")
    if blank.any():
        rows = out.loc[blank, "row"].tolist()
        raise ValueError(message(_FUNC, "org_chart", "rows that all name an account and a department",
                                 f"blank cells in line(s) {rows[:10]}", "Fill them in or delete those lines."))
    for name, param, fill in ((valid_from, "valid_from", "from"), (valid_to, "valid_to", "to")):
        if name is not None and name in chart.columns:
            text = chart[name].astype("string").str.strip().fillna("")
            parsed = pd.to_datetime(text.where(text.ne(""), None), utc=True, errors="coerce", format="mixed")
            bad = text.ne("") & parsed.isna()
            if bad.any():
                raise ValueError(message(_FUNC, param, "a column of dates (ISO 'YYYY-MM-DD' recommended) or blanks",
                                         f"unreadable {text[bad].iloc[0]!r} in line {int(out['row'][bad].iloc[0])}"))
            out[fill] = parsed.to_numpy()
        elif name is not None and name != param:  # a non-default name must exist
            _chart_column(chart, name, param)
        else:
            out[fill] = pd.NaT
    out["from"] = pd.to_datetime(out["from"], utc=True)
    out["to"] = pd.to_datetime(out["to"], utc=True)
    backwards = out["from"].notna() & out["to"].notna() & (out["to"] <= out["from"])
    if backwards.any():
        raise ValueError(message(_FUNC, "org_chart", "periods with valid_to after valid_from",
                                 f"line(s) {out.loc[backwards, 'row'].tolist()[:10]}"))
    out = out.drop_duplicates(["key", "department", "from", "to"])
    # overlapping periods of one account with different departments are ambiguous
    pairs = out.merge(out, on="key", suffixes=("_a", "_b"))
    # [a_from, a_to) and [b_from, b_to) overlap iff a_from < b_to and b_from < a_to (blank = open end)
    a_before_b_ends = pairs["from_a"].isna() | pairs["to_b"].isna() | (pairs["from_a"] < pairs["to_b"])
    b_before_a_ends = pairs["from_b"].isna() | pairs["to_a"].isna() | (pairs["from_b"] < pairs["to_a"])
    clash = (pairs["row_a"] < pairs["row_b"]) & a_before_b_ends & b_before_a_ends
    if clash.any():
        first = pairs[clash].iloc[0]
        raise ValueError(message(_FUNC, "org_chart", "periods that do not overlap for one account",
                                 f"account {first['key']!r} in lines {int(first['row_a'])} and {int(first['row_b'])}",
                                 "Set valid_to of the earlier row to the valid_from of the later one "
                                 "(valid_to is exclusive)."))
    return out


def assign_departments(data, *, org_chart, account: str = "account", department: str = "department",
                       valid_from: str | None = "valid_from", valid_to: str | None = "valid_to",
                       time: str = "posted_at", report: QualityReport | None = None) -> DepartmentAssignment:
    """Add each post's department from an org chart of accounts, including team changes over time.

    Parameters
    ----------
    data : pandas.DataFrame
        Posts, e.g. from ``tk.read_posts``: one row per post with an account column. Its
        ``department`` column, if present, must be empty (all missing): this function never
        overwrites departments.
    org_chart : pandas.DataFrame or str or pathlib.Path
        One row per account and period (a CSV file is read as text, delimiter sniffed), with the
        columns named by `account` and `department` and, optionally, `valid_from`/`valid_to`.
    account : str, default="account"
        Account column, the same name in `data` and in `org_chart`. Accounts match after removing
        surrounding spaces and a leading "@", ignoring case ("@ExampleCorp" = "examplecorp").
    department : str, default="department"
        Department column of `org_chart`; the result is written to ``data["department"]``.
    valid_from, valid_to : str or None, default="valid_from", "valid_to"
        Columns of `org_chart` giving when a row applies: from `valid_from` (inclusive) up to
        `valid_to` (exclusive); a blank cell or a missing column means "open". Dates without a
        time are midnight UTC. Periods of one account must not overlap (else a ValueError).
    time : str, default="posted_at"
        Posting-time column of `data` (datetime, tz-aware or UTC); used only when the chart has periods.
    report : QualityReport or None, default=None
        The report from ``tk.read_posts``; if given, each unmatched post is added as "flagged"
        (rule ``"unmatched_account"``) and the join is noted. Changed in place.

    Returns
    -------
    DepartmentAssignment
        A named pair ``(data, unmatched)``:

        - ``data``: a copy of `data` with ``department`` (ordered categorical,
          ``config.DEPARTMENTS`` first; missing for unmatched posts). Same rows, same order.
        - ``unmatched``: one row per account and reason with unmatched posts, columns
          ``account`` (as written in `data`), ``reason`` (``"no_account"``, ``"not_in_org_chart"``,
          ``"outside_periods"``, ``"no_time"``), ``n_posts``, ``first_posted``, ``last_posted``
          (NaT without times) and ``post_ids`` (up to five, ", "-joined). Empty when every post matched.

    Raises
    ------
    TypeError
        `data` is not a DataFrame, or `org_chart` is neither a DataFrame nor a path.
    ValueError
        A column is missing; the chart has blank accounts/departments, unreadable dates,
        valid_to before valid_from or overlapping periods; `data` already has departments.

    Warns
    -----
    ToolkitWarning
        When some posts stay without a department (the count and where to look).

    See Also
    --------
    read_posts : Read a post-level export into the canonical table, with a report of every change.
    list_profiles : List the export profiles that ``tk.read_posts(..., profile=...)`` understands.

    Notes
    -----
    A vectorised interval join: posts are merged with the chart rows of their account and kept
    where ``valid_from <= posted_at < valid_to``. Periods never overlap, so a post matches at most
    one row. A post without a posting time matches only when all chart rows of its account name
    the same department. Unmatched posts are never dropped. Not a statistical method: validated by
    tests/test_org_chart.py (hand-checked expectations on invented data).

    Examples
    --------
    >>> import pandas as pd
    >>> import toolkit as tk
    >>> posts = pd.DataFrame({"post_id": ["1", "2", "3"], "account": ["@Careers", "careers", "unknown"],
    ...                       "posted_at": pd.to_datetime(["2022-01-10", "2022-06-01", "2022-01-01"], utc=True)})
    >>> chart = pd.DataFrame({"account": ["careers", "careers"], "department": ["HR", "Marketing"],
    ...                       "valid_from": ["", "2022-03-01"], "valid_to": ["2022-03-01", ""]})
    >>> import warnings
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     out = tk.assign_departments(posts, org_chart=chart)
    >>> out.data["department"].tolist()
    ['HR', 'Marketing', nan]
    >>> out.unmatched[["account", "reason", "n_posts"]].values.tolist()
    [['unknown', 'not_in_org_chart', 1]]
    """
    data = check_data(data, _FUNC)
    check_column(data, account, _FUNC, "account")
    if report is not None and not isinstance(report, QualityReport):
        raise TypeError(message(_FUNC, "report", "a QualityReport (from tk.read_posts) or None",
                                type(report).__name__))
    if "department" in data.columns and data["department"].notna().any():
        raise ValueError(message(_FUNC, "data", "posts without departments (the org chart provides them)",
                                 f"a 'department' column with {int(data['department'].notna().sum())} values",
                                 "Drop or rename that column first, e.g. data.drop(columns='department')."))
    chart = _read_chart(org_chart, account=account, department=department, valid_from=valid_from,
                        valid_to=valid_to)
    dated = bool(chart["from"].notna().any() or chart["to"].notna().any())
    n = len(data)
    keys = _key(data[account]).reset_index(drop=True)
    if dated:
        check_column(data, time, _FUNC, "time")
        try:
            when = pd.to_datetime(data[time], utc=True, format="mixed").reset_index(drop=True)
        except (ValueError, TypeError) as exc:
            raise ValueError(message(_FUNC, "time", "a column of posting times (datetimes, e.g. from tk.read_posts)",
                                     time, f"pandas could not read it as dates: {exc}")) from None
    else:
        when = pd.Series(pd.NaT, index=range(n), dtype="datetime64[ns, UTC]")
    posts = pd.DataFrame({"pos": np.arange(n), "key": keys, "when": when})
    cand = posts.merge(chart, on="key", how="inner")
    inside = (cand["when"].notna() & (cand["from"].isna() | (cand["when"] >= cand["from"]))
              & (cand["to"].isna() | (cand["when"] < cand["to"])))
    # no posting time: unambiguous only if the account has one department in every period
    one_dept = chart.groupby("key")["department"].nunique()
    single = cand["key"].map(one_dept).eq(1)
    hit = cand[inside | (cand["when"].isna() & single)].drop_duplicates("pos")
    dept = np.full(n, None, dtype=object)
    dept[hit["pos"].to_numpy()] = hit["department"].to_numpy(dtype=object)
    matched = np.zeros(n, dtype=bool)
    matched[hit["pos"].to_numpy()] = True

    known = keys.isin(chart["key"]).to_numpy(dtype=bool)
    no_account = keys.fillna("").eq("").to_numpy(dtype=bool)
    reason = np.where(no_account, "no_account", np.where(~known, "not_in_org_chart",
                      np.where(when.isna().to_numpy(), "no_time", "outside_periods")))
    out = data.copy().reset_index(drop=True)
    out["department"] = config.ordered_categorical(dept, config.DEPARTMENTS)
    if "department" not in data.columns:  # put it where the canonical schema has it
        order = [c for c in config.POST_COLUMNS if c in out.columns]
        out = out[order + [c for c in out.columns if c not in order]]
    out.index = data.index

    miss = np.flatnonzero(~matched)
    if len(miss):
        ids = (data["post_id"].astype("string").reset_index(drop=True) if "post_id" in data.columns
               else pd.Series(np.arange(n).astype(str), dtype="string"))
        frame = pd.DataFrame({"account": data[account].astype("string").reset_index(drop=True).iloc[miss].to_numpy(),
                              "key": keys.iloc[miss].fillna("").to_numpy(), "reason": reason[miss],
                              "when": when.iloc[miss].to_numpy(), "post_id": ids.iloc[miss].to_numpy()})
        grouped = frame.groupby(["key", "reason"], sort=True, dropna=False)
        unmatched = grouped.agg(account=("account", "first"), n_posts=("post_id", "size"),
                                first_posted=("when", "min"), last_posted=("when", "max"),
                                post_ids=("post_id", lambda s: ", ".join(str(v) for v in s.iloc[:5]))).reset_index()
        unmatched = unmatched.sort_values(["n_posts", "account"], ascending=[False, True], kind="stable")
        unmatched = unmatched[list(UNMATCHED_COLUMNS)].reset_index(drop=True)
        n_acc = unmatched["account"].nunique(dropna=False)
        warn(f"{_FUNC}: {len(miss)} of {n} posts ({n_acc} account(s)) have no department from the org chart; "
             f"they are kept with a missing department. See `.unmatched` for which accounts and why.", stacklevel=2)
    else:
        unmatched = pd.DataFrame({c: pd.Series(dtype=t) for c, t in zip(
            UNMATCHED_COLUMNS, ("string", "str", "int64", "datetime64[ns, UTC]", "datetime64[ns, UTC]", "str"))})
    if report is not None:
        src = (data["source_row"].to_numpy() if "source_row" in data.columns else np.arange(1, n + 1))
        pid = data["post_id"].to_numpy(dtype=object) if "post_id" in data.columns else [None] * n
        acc = data[account].astype("string").to_numpy(dtype=object)
        for pos in miss:
            report.add(source_row=int(src[pos]), action="flagged", rule="unmatched_account", column="department",
                       post_id=pid[pos], original_value=acc[pos],
                       message=f"no department for account {acc[pos]!r}: {REASONS[reason[pos]]}")
        report.note(f"{_FUNC}: {n - len(miss)} of {n} posts got a department from the org chart "
                    f"({len(chart)} rows{', with validity periods' if dated else ''}); {len(miss)} unmatched.")
    return DepartmentAssignment(out, unmatched)
