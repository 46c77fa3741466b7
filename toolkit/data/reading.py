"""Read one messy real export into the canonical post-level table (:func:`read_file`, behind ``tk.read_posts``).

:func:`read_file` (called by ``tk.read_posts``, :mod:`toolkit.data.posts`, for one file and by the engines for
each of many files) reads a CSV/TSV/semicolon text file, an Excel workbook, a Parquet file or a
DataFrame; maps its columns to the canonical names of :data:`toolkit.config.POST_SCHEMA`; parses
numbers, dates, flags and labels; validates the rows; and returns the table together with a
:class:`~toolkit.data.quality.QualityReport` in which every excluded, repaired or flagged row has
an entry (nothing is lost silently).

Rules (the ``rule`` column of the report; names are stable)
-------------------------------------------------------------
Whole rows (action "excluded"):

- ``wrong_field_count``: a text row with more or fewer fields than the header (its values would
  land in the wrong columns); the message says why (unquoted delimiter, unquoted line break
  splitting a post into two rows, last line cut off).
- ``empty_row``: every canonical cell of the row is blank or a missing token.
- ``repeated_header``: the row repeats the column names (two exports pasted together).
- ``descriptive_header``: the first row (or one after a repeated header) describes the columns,
  like the second header line of Meta's page-post export.
- ``summary_row``: a "Total"/"Sum"/"Average"/"合计" label in post_id, account, department,
  platform, content_type or the first column (``SUMMARY_LABEL_PATTERN``).
- ``duplicate_row``: the row is identical, in every source column, to an earlier row (named in
  the message); the first occurrence is kept.

Cells (action "repaired": the cell's value was changed, original and new value recorded):

- ``abbreviated_number``, ``percent_in_count``, ``non_integer_count``, ``negative_count``,
  ``unparseable_number`` (counts), ``unparseable_flag`` (``paid``), ``unparseable_date``,
  ``nonexistent_local_time`` (``posted_at``): see :mod:`toolkit.data.parsing`. Apart from
  ``abbreviated_number`` the cell becomes missing, so the rest of the row survives.
- ``missing_post_id``: a blank ``post_id`` cell replaced by ``"row-<source_row>"``.
- ``label_variant`` (only with ``normalize_labels=True``): a department/platform label merged
  into its canonical spelling.

Consistency (action "flagged": kept unchanged, worth a look):

- ``label_variant`` (default): labels that differ only by case, whitespace, invisible
  characters or full-width forms; the message names the variants.
- ``interactions_exceed_reach`` / ``interactions_exceed_impressions``: likes + comments +
  shares (missing parts left out) larger than reach / impressions.
- ``impressions_below_reach``: impressions smaller than reach.
- ``total_mismatch``: ``interactions_reported`` differs from likes + comments + shares (checked
  only where all four are present).
- ``duplicate_post_id``: a post id seen in an earlier row (named) of a non-identical row.

Dataset-level facts (encoding, delimiter, header line, trailing delimiters, column mapping, counts
of missing cells per column, assumed time zone, day/month order, platform and content-type
mappings, a DataFrame index kept as columns, files skipped in a folder) are report notes.
"""
from __future__ import annotations

import codecs
import difflib
import io
import os
import re
import zoneinfo
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import numpy as np
import pandas as pd

from toolkit import config
from toolkit._validation import _did_you_mean, check_option, message
from toolkit.data import collection, parsing, profiles
from toolkit.data.quality import QualityReport

_FUNC = "read_posts"
TEXT_SUFFIXES = (".csv", ".tsv", ".txt")
EXCEL_SUFFIXES = (".xlsx", ".xlsm")
PARQUET_SUFFIXES = (".parquet", ".pq")

#: Lower-case platform names (after label normalisation) mapped to :data:`config.PLATFORMS`.
PLATFORM_ALIASES: dict[str, str] = {
    "facebook": "Facebook", "fb": "Facebook", "facebook.com": "Facebook", "meta": "Facebook",
    "instagram": "Instagram", "ig": "Instagram", "insta": "Instagram", "instagram.com": "Instagram",
    "twitter": "X/Twitter", "x": "X/Twitter", "x/twitter": "X/Twitter", "twitter/x": "X/Twitter",
    "x (twitter)": "X/Twitter", "x.com": "X/Twitter", "twitter.com": "X/Twitter", "tweet": "X/Twitter",
    "linkedin": "LinkedIn", "linked in": "LinkedIn", "linkedin.com": "LinkedIn",
    "youtube": "YouTube", "yt": "YouTube", "you tube": "YouTube", "youtube.com": "YouTube",
    "tiktok": "TikTok", "tik tok": "TikTok", "tiktok.com": "TikTok",
    "other": "Other",
}

#: Lower-case content types mapped to :data:`config.CONTENT_TYPES`.
CONTENT_TYPE_ALIASES: dict[str, str] = {
    "photo": "photo", "photos": "photo", "image": "photo", "images": "photo", "picture": "photo", "pic": "photo",
    "img": "photo", "album": "photo", "carousel": "photo",
    "video": "video", "videos": "video", "reel": "video", "reels": "video", "live": "video",
    "live video": "video", "clip": "video",
    "status": "status", "text": "status", "status update": "status",
    "link": "link", "links": "link", "url": "link", "article": "link",
    "other": "other",
}

_LABEL_KNOWN = {"department": config.DEPARTMENTS, "platform": config.PLATFORMS}


def check_file_options(func: str, *, columns=None, encoding=None, delimiter=None, timezone=None,
                       date_format=None, normalize_labels=False, source_name=None, header_row=None,
                       duplicate_columns="raise", allow_unparseable=False, sheet_name=0, strict=False) -> dict:
    """Check the per-file options of read_posts (``read_posts`` itself calls this); return them as keywords of
    :func:`read_file` for readers of many files (``toolkit.data.dask_reading.read_posts_dask``), which take
    neither ``sheet_name`` nor ``strict``.
    """
    _check_options(columns=columns, encoding=encoding, delimiter=delimiter, sheet_name=sheet_name, timezone=timezone,
                   date_format=date_format, normalize_labels=normalize_labels, strict=strict, source_name=source_name)
    check_option(duplicate_columns, ("raise", "number"), func, "duplicate_columns")
    _check_header_row(header_row)
    _check_allow_unparseable(allow_unparseable)
    return {"columns": columns, "encoding": encoding, "delimiter": delimiter, "timezone": timezone,
            "date_format": date_format, "normalize_labels": normalize_labels, "header_row": header_row,
            "duplicate_columns": duplicate_columns, "allow_unparseable": allow_unparseable}


def read_file(source, *, columns=None, encoding=None, delimiter=None, sheet_name=0, timezone=None, date_format=None,
              normalize_labels=False, strict=False, source_name=None, profile="auto", header_row=None,
              duplicate_columns="raise", allow_unparseable=False, eligible=False,
              consistency=True) -> collection.FileRead:
    """:func:`read_posts` on one file or DataFrame (options checked by the caller), as a ``FileRead``.

    The per-file seam of readers of many files (:mod:`toolkit.data.collection`, and on Dask
    ``toolkit.data.dask_reading``): a :class:`~toolkit.data.collection.FileRead` with the table and
    report of ``read_posts(source)``, whether the source has
    a post_id column, and with ``eligible=True`` the hashes of the rows eligible for
    ``duplicate_row`` (kept, or excluded only as duplicates), so that each file is read and parsed
    once. ``consistency=False`` leaves out the consistency checks, which only flag rows (the data are the same,
    the report lacks their entries): for a second read of a file whose report is already known
    (``toolkit.data.dask_reading``'s lazy data).
    """
    allowed = _check_allow_unparseable(allow_unparseable)
    if profiles.is_json(source):  # export profiles: X API v2 JSON/JSONL (toolkit/data/profiles.py)
        json_raw, json_notes = profiles.read_x_api_json(source)
        loaded = _Loaded(json_raw, str(source), "x_api_json", json_notes)
    else:
        loaded = _load_source(source, encoding=encoding, delimiter=delimiter, sheet_name=sheet_name,
                              header_row=header_row, duplicate_columns=duplicate_columns)
    raw, kind = loaded.frame, loaded.kind
    name = source_name if source_name is not None else loaded.name
    report = QualityReport(source=name)
    for text in loaded.notes:
        report.note(text)
    n_loaded = len(raw)
    raw, columns, used_profile = profiles.prepare(raw, profile=profile, columns=columns, kind=kind, report=report)
    shift = n_loaded - len(raw)     # rows a profile took as part of the header (Meta's description row)
    report.n_rows_in = len(raw)
    n = len(raw)
    source_row = np.arange(1, n + 1, dtype="int64")
    keep = np.ones(n, dtype=bool)
    # rows whose field count differs from the header's: their values would land in the wrong columns
    if loaded.bad_shape is not None:
        bad = loaded.bad_shape[loaded.bad_shape["position"].to_numpy(dtype="int64") >= shift]
        for pos, msg, orig in bad.itertuples(index=False, name=None):
            report.add(source_row=pos - shift + 1, action="excluded", rule="wrong_field_count", column="",
                       message=msg, original_value=orig)
        keep[bad["position"].to_numpy(dtype="int64") - shift] = False
    header_again = _repeated_header_rows(raw, keep)
    raw = _apply_mapping(raw, columns, report, loaded=loaded, profile_used=used_profile is not None)

    canonical = [c for c in config.POST_COLUMNS if c in raw.columns and c != "source_row"]
    if not canonical:
        cols = [str(c) for c in raw.columns]
        shown = ", ".join(repr(c) for c in cols[:12]) + (" …" if len(cols) > 12 else "")
        hint = _header_hint(loaded, [c for c in config.POST_COLUMNS if c != "source_row"])
        raise ValueError(message(_FUNC, "columns", "a mapping that names at least one canonical column",
                                 columns, f"None of the source columns ({shown}) is a canonical name "
                                 f"({', '.join(config.POST_COLUMNS[:-1])}). Pass e.g. "
                                 f"columns={{'Likes': 'likes'}}.{hint}"))
    extras = [c for c in raw.columns if c not in canonical]

    # -- whole-row exclusions, judged on the source values ---------------------------------------
    empty = _empty_rows(raw[canonical]) & keep
    for pos in np.flatnonzero(empty):
        report.add(source_row=pos + 1, action="excluded", rule="empty_row", column="",
                   message="every canonical value in the row is missing")
    keep &= ~empty
    for pos in np.flatnonzero(header_again & keep):
        report.add(source_row=pos + 1, action="excluded", rule="repeated_header", column="",
                   message="the row repeats the column names (e.g. two exports pasted together); excluded",
                   original_value=_row_text(raw, pos))
    keep &= ~header_again
    described = _descriptive_header_rows(raw, keep, header_again)
    for pos, example in described:
        report.add(source_row=pos + 1, action="excluded", rule="descriptive_header", column="",
                   message=f"the row describes the columns instead of holding a post (count columns hold text "
                           f"such as {example!r}), like the second header line of Meta's page-post export; "
                           f"excluded", original_value=_row_text(raw, pos))
        keep[pos] = False
    # text columns whose distinct values several steps use: factorized once over all rows (see kept_factorized)
    factorized: dict = {c: parsing._factorize_text(raw[c]) for c in _FACTORIZED_ONCE if c in canonical}
    for pos, column, value in _summary_rows(raw, canonical, keep, factorized=factorized):
        report.add(source_row=pos + 1, action="excluded", rule="summary_row", column=column,
                   message=f"looks like a summary row ({value!r} in {column!r}), not a post; excluded so that its "
                           f"totals are not counted again", original_value=_row_text(raw, pos))
        keep[pos] = False
    eligible_rows = collection.eligible_rows(raw, keep) if eligible else None
    dup_pos, dup_first = _duplicate_rows(raw, keep)
    if eligible_rows is not None and len(dup_pos):  # a duplicate within the file: the row of its first copy
        at = np.searchsorted(eligible_rows["row"].to_numpy(dtype="int64"), dup_pos + 1)
        first = eligible_rows["first"].to_numpy(dtype="int64", copy=True)
        first[at] = dup_first + 1
        eligible_rows["first"] = first
    if len(dup_pos):
        id_text = (parsing._clean(parsing._to_text(_id_as_text(raw["post_id"].iloc[dup_pos]))).tolist()
                   if "post_id" in raw.columns else [None] * len(dup_pos))
        for pos, first, pid in zip(dup_pos, dup_first, id_text):
            report.add(source_row=pos + 1, action="excluded", rule="duplicate_row", column="", post_id=pid or None,
                       message=f"identical to row {first + 1} in every column; the first occurrence is kept")
        keep[dup_pos] = False

    kept = np.flatnonzero(keep)

    def kept_rows(cols):  # the kept rows of some columns, taken when needed (one column at a time in memory)
        part = raw[cols]
        return part if len(kept) == n else part.iloc[kept].reset_index(drop=True)

    def kept_factorized(col):  # == parsing._factorize_text(kept_rows(col)), without taking the texts
        codes, distinct = factorized.pop(col) if col in factorized else parsing._factorize_text(raw[col])
        return (codes, distinct) if len(kept) == n else _take_factorized(codes, distinct, kept)
    src = source_row[keep]
    out: dict[str, Any] = {}
    missing_counts: dict[str, int] = {}

    unreadable: list[tuple[str, int, int, list[str]]] = []

    def record(column: str, result: parsing.ParseResult, ids=None) -> None:
        missing_counts[column] = result.n_missing
        if not len(result.problems):  # (the usual typed column: nothing to report but its notes)
            for text in result.notes:
                report.note(text)
            return
        failed = result.problems["rule"].isin(FAILED_PARSE_RULES).to_numpy(dtype=bool)
        n_values = len(result.values) - result.n_missing
        if failed.any() and failed.sum() > UNPARSEABLE_SHARE * n_values:
            if column in allowed:
                report.note(f"{column}: {int(failed.sum())} of {n_values} non-empty values could not be read "
                            f"(more than {UNPARSEABLE_SHARE:.0%}); kept as missing because allow_unparseable "
                            f"names this column (each has a report entry).")
            else:
                examples = list(dict.fromkeys(result.problems.loc[failed, "original_value"].head(50)))[:4]
                unreadable.append((column, int(failed.sum()), n_values, examples))
        for text in result.notes:
            report.note(text)
        _add_problems(report, result.problems, src, column, ids)

    # -- post_id ------------------------------------------------------------------------------
    if "post_id" in raw.columns:
        pid, blank = _cleaned_text(_id_as_text(kept_rows("post_id")))
        if blank.any():
            generated = pd.Series([f"row-{r}" for r in src[blank]], dtype="str")
            pid = pid.astype("object")
            pid[blank] = generated.to_numpy(dtype=object)
            for r, g in zip(src[blank], generated):
                report.add(source_row=r, action="repaired", rule="missing_post_id", column="post_id", post_id=g,
                           message=f"post_id is blank; generated {g!r}", original_value="", new_value=g)
        post_id = pd.Series(pid, dtype="string").reset_index(drop=True)
    else:
        post_id = pd.Series([f"row-{r}" for r in src], dtype="string")
        report.note("post_id: the source has no post_id column; generated 'row-<source_row>' ids.")
    out["post_id"] = post_id
    ids = _PostIds(post_id)

    # -- typed columns -------------------------------------------------------------------------
    for col in canonical:
        if col == "post_id":
            continue
        values = (kept_rows(col) if col == "paid" or parsing._is_plain_numeric(raw[col])
                  or (col == "posted_at" and pd.api.types.is_datetime64_any_dtype(raw[col].dtype)) else None)
        if col in config.COUNT_COLUMNS:
            if values is None:
                result = parsing._parse_count_text(raw[col], rows=None if len(kept) == n else kept, column=col,
                                                   name=col)
            else:
                result = parsing.parse_count_series(values, column=col)
            record(col, result, ids)
            out[col] = result.values.reset_index(drop=True)
        elif col == "paid":
            result = parsing.parse_flag_series(values, column=col)
            record(col, result, ids)
            out[col] = result.values.reset_index(drop=True)
        elif col == "posted_at":
            if values is not None:
                result = parsing.parse_datetime_series(values, timezone=timezone, date_format=date_format,
                                                       excel_serials=(kind == "excel"), column=col)
            else:  # text: the kept rows are parsed without copying their texts
                result = parsing._parse_datetime_text(raw[col], rows=None if len(kept) == n else kept,
                                                      timezone=timezone, date_format=date_format,
                                                      excel_serials=(kind == "excel"), column=col)
            record(col, result, ids)
            out[col] = result.values.reset_index(drop=True)
        elif col in ("department", "platform"):
            labels, n_missing = _labels(kept_factorized(col), col, normalize=normalize_labels, report=report,
                                        src=src, ids=ids)
            missing_counts[col] = n_missing
            out[col] = pd.Series(labels)
        elif col == "content_type":
            ctype, n_missing = _content_types(kept_factorized(col), report)
            missing_counts[col] = n_missing
            out[col] = ctype
        else:  # account, co_departments: cleaned once per distinct text
            codes, distinct = kept_factorized(col)
            text_u = parsing._clean(distinct)
            miss_u = parsing._missing_mask(text_u).to_numpy(dtype=bool, copy=True)
            missing_counts[col] = int(miss_u[codes].sum())
            text_u = text_u.astype("string").where(~miss_u, pd.NA)
            out[col] = text_u.take(codes).reset_index(drop=True)
    if unreadable:
        raise ValueError(_unreadable_message(unreadable, date_format=date_format))
    out["source_row"] = pd.Series(pd.array(src, dtype="Int64"))

    data = pd.DataFrame({c: out[c] for c in config.POST_COLUMNS if c in out})
    data = data.astype({c.name: c.dtype for c in config.POST_SCHEMA
                        if c.name in data.columns and c.dtype not in ("category",)})
    extra_frame = _extras(kept_rows(extras), extras, report, typed=(kind in ("dataframe", "parquet")))
    if len(extra_frame.columns):
        data = pd.concat([data, extra_frame], axis=1)
    data = data.reset_index(drop=True)

    missing_text = ", ".join(f"{c} {k}" for c, k in missing_counts.items() if k)
    if missing_text:
        report.note(f"Missing values (blank cells or NA tokens; kept as missing, not repaired), per column: "
                    f"{missing_text}.")

    # -- consistency checks ---------------------------------------------------------------------
    if consistency:
        _consistency(data, report)
    data = profiles.finish(data, report, used_profile)

    data.attrs = {"source": name}
    report.check(data)
    if strict:
        report.raise_first()
    return collection.FileRead(data, report, eligible_rows, has_post_id="post_id" in raw.columns,
                               id_by_cell=not ("post_id" in raw.columns and pd.api.types.is_float_dtype(
                                   raw["post_id"].dtype)))  # float ids: "5" or "5.0" depends on the column


# ---------------------------------------------------------------------------------------------
# rows that are not posts: repeated headers, descriptive header lines, summary rows
# ---------------------------------------------------------------------------------------------
#: Rules whose cells could not be read as the column's type (they count towards UNPARSEABLE_SHARE).
FAILED_PARSE_RULES = ("unparseable_number", "percent_in_count", "non_integer_count", "negative_count",
                      "unparseable_flag", "unparseable_date")

#: A count, flag or date column in which more than this share of the non-empty values cannot be read
#: stops read_posts (the format is not understood), unless ``allow_unparseable`` names the column.
UNPARSEABLE_SHARE = 0.5

#: Labels of summary rows, matched (case-insensitive, whole cell, optionally followed by ":", "(" or
#: "-" and more text) in post_id, account, department, platform, content_type and the first column.
SUMMARY_LABEL_PATTERN = (r"(?i)^[ \t]*(?:grand[ \t]+|sub-?[ \t]*)?(?:totals?|sum|summe|gesamt|gesamtsumme|"
                         r"totaal|totale|somme|average|mean|avg|合计|总计|總計|合計|小计|小計)"
                         r"[ \t]*(?:[:(\-–].*)?$")

_SUMMARY_COLUMNS = ("post_id", "account", "department", "platform", "content_type")

#: Characters a summary label can start with (SUMMARY_LABEL_PATTERN is case-insensitive; "ſ" folds to "s";
#: spaces and tabs may come first).
_SUMMARY_FIRST_CHARACTERS = tuple(" \tgGsStTaAmM\u017f合总總小")


def _pa_strings(values):
    import pyarrow as pa

    return pa.array(list(values), type=pa.large_string())


def _is_text(s: pd.Series) -> bool:
    return (pd.api.types.is_string_dtype(s.dtype) or s.dtype == object) and not isinstance(s.dtype,
                                                                                            pd.CategoricalDtype)


def _row_text(raw: pd.DataFrame, pos: int) -> str:
    cells = [str(v) for v in raw.iloc[pos].tolist() if not (v is None or (isinstance(v, float) and v != v))
             and str(v).strip()]
    text = " | ".join(cells)
    return text if len(text) <= 200 else text[:199] + "…"


def _repeated_header_rows(raw: pd.DataFrame, keep: np.ndarray) -> np.ndarray:
    """Rows whose cells repeat the column names (at least half of the named text columns, and 2 if possible)."""
    hits = np.zeros(len(raw), dtype="int64")
    cols = [col for col in raw.columns
            if str(col).strip() and not str(col).startswith("Unnamed: ") and _is_text(raw[col])]
    named = len(cols)
    if not named:
        return np.zeros(len(raw), dtype=bool)
    need = max(1 if named == 1 else 2, int(np.ceil(named / 2)))
    # a row with ``need`` hits has one among the first ``named - need + 1`` columns: the other columns are
    # compared on such rows only
    for col in cols[:named - need + 1]:
        hits += (raw[col] == str(col)).to_numpy(dtype=bool, na_value=False)
    candidates = np.flatnonzero(hits)
    for col in cols[named - need + 1:]:
        if not len(candidates):
            break
        hits[candidates] += (raw[col].iloc[candidates] == str(col)).to_numpy(dtype=bool, na_value=False)
    return keep & (hits >= need)


def _descriptive_header_rows(raw: pd.DataFrame, keep: np.ndarray, header_again: np.ndarray) -> list:
    """The first data row (and any row after a repeated header) when its count cells hold descriptions.

    Meta's page-post export has a second header line such as "Lifetime: The number of people who
    had your Page's post enter their screen. (Unique Users)" under each metric's name.
    """
    counts = [c for c in config.COUNT_COLUMNS if c in raw.columns and _is_text(raw[c])]
    if not counts or not len(raw):
        return []
    candidates = sorted({0} | set((np.flatnonzero(header_again) + 1).tolist()))
    found = []
    for pos in candidates:
        if pos >= len(raw) or not keep[pos]:
            continue
        cells = parsing._clean(parsing._to_text(raw[counts].iloc[pos].reset_index(drop=True)))
        cells = cells[~parsing._missing_mask(cells)]
        if not len(cells):
            continue
        wordy = cells.str.contains(r"[^\W\d_]{3,}", regex=True)
        sentence = cells.str.count(r"\s+\S") >= 2
        if wordy.all() and sentence.any():
            found.append((pos, str(cells[sentence].iloc[0])[:70]))
    return found


def _contains_by_distinct(s: pd.Series, pattern: str) -> np.ndarray:
    """``s.str.contains(pattern)`` as a bool array (missing: False), once per distinct value when values repeat.

    Whether the values repeat is judged on the first 1,000 (only the speed depends on the choice).
    """
    if len(s) > 2000 and s.iloc[:1000].nunique(dropna=False) < 500:
        codes, distinct = pd.factorize(s)
        hit_u = pd.Series(distinct, dtype=s.dtype).str.contains(pattern, regex=True)
        hit_u = np.append(hit_u.to_numpy(dtype=bool, na_value=False), False)  # code -1 (missing): no hit
        return hit_u[codes]
    if pattern == SUMMARY_LABEL_PATTERN and parsing._arrow_strings(s) is not None:
        # a label starts with a space, a tab or one of few letters: the other cells need no regex
        import pyarrow.compute as pc

        first = pc.utf8_slice_codeunits(parsing._arrow_strings(s), 0, 1)
        maybe = pc.fill_null(pc.is_in(first, value_set=_pa_strings(_SUMMARY_FIRST_CHARACTERS)), False)
        maybe = np.asarray(maybe.to_numpy(zero_copy_only=False), dtype=bool)
        out = np.zeros(len(s), dtype=bool)
        if maybe.any():
            out[maybe] = s[maybe].str.contains(pattern, regex=True).to_numpy(dtype=bool, na_value=False)
        return out
    return s.str.contains(pattern, regex=True).to_numpy(dtype=bool, na_value=False)


#: Text columns that read_posts factorizes once for the summary-row check and for parsing.
_FACTORIZED_ONCE = ("account", "department", "platform", "content_type")


def _summary_rows(raw: pd.DataFrame, canonical: list, keep: np.ndarray, *, factorized=None) -> list:
    """(position, column, value) of rows labelled like a total ("Total", "Grand total:", "合计", ...).

    ``factorized``: ``{column: parsing._factorize_text(raw[column])}`` already computed for some columns.
    """
    cols = [c for c in _SUMMARY_COLUMNS if c in canonical]
    if len(raw.columns) and raw.columns[0] not in cols:
        cols.insert(0, raw.columns[0])
    found: dict[int, tuple[str, str]] = {}
    for col in cols:
        s = raw[col]
        if isinstance(s.dtype, pd.CategoricalDtype) or s.dtype == object:  # may hold numbers or categories
            s = parsing._to_text(s)
        elif not _is_text(s):
            continue
        if factorized and col in factorized:  # missing cells are "" there, which never match (as NA here)
            codes, distinct = factorized[col]
            hit = distinct.str.contains(SUMMARY_LABEL_PATTERN, regex=True).to_numpy(dtype=bool)[codes] & keep
        else:
            hit = _contains_by_distinct(s, SUMMARY_LABEL_PATTERN) & keep
        for pos in np.flatnonzero(hit):
            found.setdefault(int(pos), (str(col), str(s.iloc[pos]).strip()))
    return [(pos, col, value) for pos, (col, value) in sorted(found.items())]


# ---------------------------------------------------------------------------------------------
# messages
# ---------------------------------------------------------------------------------------------
_DATE_FORMAT_CANDIDATES = ("%Y/%m/%d %H:%M", "%Y/%m/%d %H:%M:%S", "%Y/%m/%d", "%d/%m/%Y %H:%M", "%m/%d/%Y %H:%M",
                           "%d/%m/%Y", "%m/%d/%Y", "%d-%m-%Y %H:%M", "%m-%d-%Y %H:%M", "%d-%m-%Y", "%m-%d-%Y",
                           "%d.%m.%Y %H:%M", "%d.%m.%y %H:%M", "%d.%m.%y", "%Y%m%d", "%Y%m%d %H:%M", "%Y%m%d%H%M%S",
                           "%d %b %Y %H:%M",
                           "%d-%b-%Y", "%b %d, %Y %I:%M %p", "%m/%d/%Y %I:%M %p", "%d/%m/%Y %I:%M %p",
                           "%Y年%m月%d日 %H:%M", "%Y年%m月%d日", "%H:%M %d/%m/%Y")


def _suggest_date_format(examples: list) -> str | None:
    values = pd.Series([str(e) for e in examples], dtype=object)
    for fmt in _DATE_FORMAT_CANDIDATES:
        if len(values) and pd.to_datetime(values, format=fmt, errors="coerce").notna().all():
            return fmt
    return None


def _date_examples_hint(examples: list) -> str | None:
    """The fix for unreadable dates that no ``date_format`` can read: Excel serial days, time-zone abbreviations."""
    text = pd.Series([str(e).strip() for e in examples], dtype=object)
    if not len(text):
        return None
    num = pd.to_numeric(text, errors="coerce")
    if num.notna().all() and num.between(1, 2958465).all():  # Excel's day numbers (1900 system) up to 9999-12-31
        first = pd.Timestamp("1899-12-30") + pd.to_timedelta(float(num.iloc[0]), unit="D")
        return (f"these look like Excel serial day numbers ({text.iloc[0]} would be {first:%Y-%m-%d %H:%M}), which "
                f"no date_format reads: convert the column first, e.g. frame[col] = pd.to_datetime(frame[col], "
                f"unit='D', origin='1899-12-30'), and pass the DataFrame (or format the cells as dates in Excel)")
    abbrev = text.str.extract(r"\s([A-Z]{2,5})$", expand=False)
    if abbrev.notna().all() and not abbrev.str.upper().isin(["AM", "PM", "UTC", "GMT", "Z"]).any():
        codes = ", ".join(sorted(set(abbrev.str.upper())))
        offset = profiles._TZ_ABBREVIATIONS.get(abbrev.iloc[0].upper(), "+HH:MM")
        return (f"the values end with a time-zone abbreviation ({codes}), which read_posts does not guess "
                f"(abbreviations are ambiguous: CST, IST, BST each name several zones): replace it by a UTC offset "
                f"first, e.g. frame[col] = frame[col].str.replace(' {abbrev.iloc[0]}', '{offset}'), and pass the "
                f"DataFrame; for a CrowdTangle export use profile='crowdtangle', which knows its abbreviations")
    return None


def _unreadable_message(unreadable: list, *, date_format) -> str:
    parts, fixes = [], []
    for column, k, m, examples in unreadable:
        parts.append(f"{column} {k} of {m} non-empty values ({k / m:.0%}; e.g. {', '.join(repr(e) for e in examples)})")
        if column == "posted_at":
            fmt = _suggest_date_format(examples)
            special = _date_examples_hint(examples)
            if special:
                fixes.append(special)
            elif date_format is not None:
                fixes.append(f"posted_at does not match date_format={date_format!r}: correct it"
                             + (f" (date_format={fmt!r} reads the examples)" if fmt else ""))
            elif fmt:
                fixes.append(f"pass date_format={fmt!r}, which reads these examples")
            else:
                fixes.append("pass date_format='...' with the strftime codes of the column, e.g. '%Y/%m/%d %H:%M'")
        elif column == "paid":
            fixes.append("map a yes/no column to 'paid' (1/0, true/false, yes/no, paid/organic)")
        else:
            fixes.append(f"check that {column!r} is mapped from a count column (columns={{...}}): a percentage, "
                         f"rate or text column cannot be read as a count")
    names = [u[0] for u in unreadable]
    return message(_FUNC, None, f"could not read most values of {', '.join(repr(c) for c in names)}: "
                   + "; ".join(parts), show_got=False,
                   hint=f"More than {UNPARSEABLE_SHARE:.0%} unreadable means the format was not understood, not that "
                        f"the values are bad. To fix: {'; '.join(fixes)}. To read anyway, with every unreadable value "
                        f"missing and listed in the report, pass allow_unparseable={names!r}.")


def _header_hint(loaded: "_Loaded | None", wanted) -> str:
    """A sentence pointing at the line that holds the column names, for errors about missing columns."""
    if loaded is None or loaded.kind not in ("text", "excel"):
        return ""
    wanted = {str(w).strip() for w in wanted}
    for line, fields in loaded.preview:
        if line == loaded.header_line:
            continue
        hit = [f.strip() for f in fields if f.strip() in wanted]
        if hit:
            return (f" The column names seem to be on line {line} (it holds {hit[0]!r}), not line "
                    f"{loaded.header_line}: pass header_row={line}.")
    shown = "; ".join(f"line {ln}: {', '.join(f.strip() for f in fields[:5])[:60]}"
                      for ln, fields in loaded.preview[:4])
    return (f" The column names were taken from line {loaded.header_line}; if they are on another line, pass "
            f"header_row=<line number> (first lines: {shown}).")


# ---------------------------------------------------------------------------------------------
# options and loading
# ---------------------------------------------------------------------------------------------
def _check_header_row(header_row) -> None:
    if header_row is None:
        return
    if isinstance(header_row, bool) or not isinstance(header_row, (int, np.integer)):
        raise TypeError(message(_FUNC, "header_row", "None or the line number (1 = first line) of the column names",
                                header_row))
    if header_row < 1:
        raise ValueError(message(_FUNC, "header_row", "None or a line number >= 1 (1 = first line, as a "
                                 "spreadsheet numbers rows)", header_row,
                                 "pandas' header=0 is header_row=1 here." if header_row == 0 else None))


_PARSED_COLUMNS = tuple(config.COUNT_COLUMNS) + ("paid", "posted_at")


def _check_allow_unparseable(value) -> frozenset:
    if value is False or value is None:
        return frozenset()
    if value is True:
        return frozenset(_PARSED_COLUMNS)
    if isinstance(value, str) or not isinstance(value, (list, tuple, set, frozenset)):
        raise TypeError(message(_FUNC, "allow_unparseable", "True, False or a list of canonical column names",
                                value, "For example allow_unparseable=['posted_at']."))
    for name in value:
        if name not in _PARSED_COLUMNS:
            raise ValueError(message(_FUNC, "allow_unparseable", "a list of count, 'paid' or 'posted_at' columns",
                                     name, f"Columns that are parsed: {', '.join(_PARSED_COLUMNS)}."
                                     f"{_did_you_mean(str(name), _PARSED_COLUMNS)}"))
    return frozenset(value)


def _check_options(*, columns, encoding, delimiter, sheet_name, timezone, date_format, normalize_labels,
                   strict, source_name) -> None:
    if columns is not None and not isinstance(columns, Mapping):
        raise TypeError(message(_FUNC, "columns", "a dict mapping source column names to canonical names",
                                type(columns).__name__, "For example columns={'Lifetime Post Total Reach': 'reach'}."))
    for flag, value in (("normalize_labels", normalize_labels), ("strict", strict)):
        if not isinstance(value, (bool, np.bool_)):
            raise TypeError(message(_FUNC, flag, "True or False", value))
    for pname, value in (("encoding", encoding), ("date_format", date_format), ("source_name", source_name),
                         ("timezone", timezone)):
        if value is not None and not isinstance(value, str):
            raise TypeError(message(_FUNC, pname, "a string or None", value))
    if delimiter is not None and (not isinstance(delimiter, str) or len(delimiter) != 1):
        raise (TypeError if not isinstance(delimiter, str) else ValueError)(
            message(_FUNC, "delimiter", "a single character such as ',', ';', '\\t' or '|', or None", delimiter))
    if isinstance(sheet_name, bool) or not isinstance(sheet_name, (int, str)):
        raise TypeError(message(_FUNC, "sheet_name", "a sheet index (int) or sheet name (str)", sheet_name,
                                "Read one sheet per call."))
    if encoding is not None:
        try:
            codecs.lookup(encoding)
        except LookupError:
            raise ValueError(message(_FUNC, "encoding", "a known text encoding", encoding,
                                     "For example 'utf-8', 'cp1252' or 'gb18030'.")) from None
    if timezone is not None:
        try:
            zoneinfo.ZoneInfo(timezone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            close = _did_you_mean(timezone, sorted(zoneinfo.available_timezones()))
            raise ValueError(message(_FUNC, "timezone", "an IANA time zone name such as 'Asia/Bangkok' or 'UTC'",
                                     timezone, close.strip() or None)) from None


@dataclass
class _Loaded:
    """What a loader found in a source before any row is judged (private; see :func:`_load_source`)."""

    frame: pd.DataFrame            # every data row (shape errors included), source column names
    name: str
    kind: str                      # "text", "excel", "parquet" or "dataframe"
    notes: list = field(default_factory=list)
    bad_shape: pd.DataFrame | None = None   # position, message, original_value of rows with wrong field counts
    header_line: int = 1           # line of the file holding the column names
    preview: list = field(default_factory=list)  # (line, [fields]) of the first lines, for hints in errors


def _load_source(source, *, encoding, delimiter, sheet_name, header_row=None, duplicate_columns="raise") -> _Loaded:
    if isinstance(source, pd.DataFrame):
        if header_row is not None:
            raise ValueError(message(_FUNC, "header_row", "None for a DataFrame (its columns are the header)",
                                     header_row))
        _check_flat_columns(source, "DataFrame")
        frame, notes = _index_as_columns(source.copy(deep=True))
        frame, renamed = _unique_names(frame, list(frame.columns), duplicate_columns, what="DataFrame")
        frame = frame.reset_index(drop=True)
        frame.attrs = {}
        return _Loaded(frame, "DataFrame", "dataframe", notes + renamed)
    if not isinstance(source, (str, os.PathLike)):
        raise TypeError(message(_FUNC, "source", "a file path (str or pathlib.Path) or a pandas.DataFrame",
                                type(source).__name__))
    path = Path(source)  # directories and globs never get here: read_posts hands them to _read_collection
    text_path = str(source)
    if not path.exists():
        raise FileNotFoundError(message(_FUNC, "source", "an existing file", text_path))
    suffix = path.suffix.lower()
    if suffix in TEXT_SUFFIXES:
        return _read_text(path, encoding=encoding, delimiter=delimiter, header_row=header_row,
                          duplicate_columns=duplicate_columns)
    if suffix in EXCEL_SUFFIXES:
        return _read_excel(path, sheet_name=sheet_name, header_row=header_row, duplicate_columns=duplicate_columns)
    if suffix in PARQUET_SUFFIXES:
        if header_row is not None:
            raise ValueError(message(_FUNC, "header_row", "None for a Parquet file (its columns are the header)",
                                     header_row))
        frame = pd.read_parquet(path)
        _check_flat_columns(frame, "Parquet file")
        frame, notes = _index_as_columns(frame)
        frame, renamed = _unique_names(frame, list(frame.columns), duplicate_columns, what="Parquet file")
        frame = frame.reset_index(drop=True)
        frame.attrs = {}
        return _Loaded(frame, text_path, "parquet", notes + renamed)
    raise ValueError(message(_FUNC, "source", "a .csv, .tsv, .txt, .xlsx or .parquet file (or X API v2 .json/.jsonl)",
                             text_path,
                             "Save the export in one of these formats, or read it with pandas and pass the "
                             "DataFrame."))


def _check_flat_columns(frame: pd.DataFrame, what: str) -> None:
    """Refuse two-level column names (a pivot or a two-row spreadsheet header): they cannot be mapped."""
    if isinstance(frame.columns, pd.MultiIndex):
        shown = ", ".join(repr(c) for c in list(frame.columns)[:4]) + (" …" if frame.shape[1] > 4 else "")
        raise ValueError(message(_FUNC, "source", f"a {what} with one-level column names",
                                 f"a column MultiIndex ({shown})", show_got=True,
                                 hint="Flatten it first, e.g. frame.columns = [' '.join(map(str, c)).strip() "
                                      "for c in frame.columns], then map the names with columns={...}."))


def _index_as_columns(frame: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """Move a DataFrame's index into columns unless it is an unnamed RangeIndex (which holds no data)."""
    index = frame.index
    if isinstance(index, pd.RangeIndex) and index.name is None:
        return frame, []
    if not isinstance(index, pd.MultiIndex) and index.name is None and index.equals(pd.RangeIndex(len(frame))):
        return frame, []
    raw_names = list(index.names)
    names = []
    taken = {str(c) for c in frame.columns}
    for i, n in enumerate(raw_names):
        name = str(n) if n is not None else ("index" if len(raw_names) == 1 else f"level_{i}")
        if name in taken:
            name = f"{name} (index)"
        taken.add(name)
        names.append(name)
    out = frame.reset_index(names=names)  # the index becomes the first column(s)
    what = "MultiIndex levels" if len(names) > 1 else "index"
    return out, [f"The DataFrame's {what} {', '.join(repr(str(n)) for n in raw_names)} (not a plain "
                 f"RangeIndex) kept as column(s) {', '.join(repr(n) for n in names)}; map them with "
                 f"columns={{...}} like any other column."]


def _unique_names(frame: pd.DataFrame, names: list[str], duplicate_columns: str, *, what: str,
                  header_line: int | None = None) -> tuple[pd.DataFrame, list[str]]:
    """Refuse (or, with duplicate_columns='number', number) repeated column names; returns (frame, notes)."""
    names = list(names)
    seen: dict[str, list[int]] = {}
    for i, n in enumerate(names):
        seen.setdefault(n, []).append(i)
    repeated = {n: pos for n, pos in seen.items() if len(pos) > 1}
    if repeated:
        where = "; ".join(f"{n!r} at columns {', '.join(str(p + 1) for p in pos)}" for n, pos in repeated.items())
        if duplicate_columns == "raise":
            line = f" (header on line {header_line})" if header_line is not None else ""
            first = next(iter(repeated))
            raise ValueError(message(
                _FUNC, "source", f"a {what} with unique column names", f"repeated names{line}: {where}",
                f"Which one holds the values you want cannot be guessed. Rename them in the export, or pass "
                f"duplicate_columns='number' to read them as {first!r}, '{first} (2)', … and choose with "
                f"columns={{'{first} (2)': ...}}."))
        for n, pos in repeated.items():
            for k, p in enumerate(pos[1:], start=2):
                new = f"{n} ({k})"
                while new in seen:
                    new += "'"
                names[p] = new
        return frame.set_axis(names, axis=1), [f"Repeated column names numbered (duplicate_columns='number'): "
                                                f"{where}."]
    return frame, []


def _read_excel(path: Path, *, sheet_name, header_row, duplicate_columns) -> _Loaded:
    try:
        grid = pd.read_excel(path, sheet_name=sheet_name, header=None, dtype=str, keep_default_na=False,
                             engine="openpyxl")
    except ImportError:
        raise ImportError(message(_FUNC, "source", "readable: Excel files need the openpyxl package", str(path),
                                  "Install it with pip install openpyxl, or save the sheet as CSV.")) from None
    except (ValueError, IndexError) as exc:
        raise ValueError(message(_FUNC, "sheet_name", "a sheet in the workbook", sheet_name, str(exc))) from None
    _check_formula_results(path, sheet_name)
    grid = grid.fillna("").astype("str")
    grid.columns = range(grid.shape[1])
    counts = np.full(len(grid), grid.shape[1], dtype="int64")
    lines = np.arange(1, len(grid) + 1, dtype="int64")
    loaded = _from_grid(grid, counts, lines, str(path), "excel", header_row=header_row,
                        duplicate_columns=duplicate_columns, delimiter=None, skip_blank=False)
    loaded.notes.insert(0, f"Read Excel sheet {sheet_name!r} as text.")
    return loaded


#: A formula cell with no saved result in a worksheet's XML: ``<c r="D2"><f>B2+C2</f><v/></c>`` (or no ``<v>``).
_UNCACHED_FORMULA = re.compile(rb"<c(\s[^>]*)>\s*<f\b[^>]*(?:/>|>([^<]*)</f>)\s*(?:<v\s*/>|<v>\s*</v>)?\s*</c>")


def _xml_attr(attrs: str, name: str) -> str | None:
    m = re.search(r"(?:^|\s)" + re.escape(name) + r"=\"([^\"]*)\"", attrs)
    return m.group(1) if m else None


def _sheet_xml(z, sheet_name) -> str | None:
    """The worksheet part of ``sheet_name`` (an index or a name) inside an .xlsx zip, or None."""
    book = z.read("xl/workbook.xml").decode("utf-8", "replace")
    rels = z.read("xl/_rels/workbook.xml.rels").decode("utf-8", "replace")
    sheets = [(_xml_attr(a, "name"), _xml_attr(a, "r:id")) for a in re.findall(r"<sheet\b([^>]*)>", book)]
    if isinstance(sheet_name, int):
        rid = sheets[sheet_name][1] if -len(sheets) <= sheet_name < len(sheets) else None
    else:
        rid = next((r for n, r in sheets if n == sheet_name), None)
    target = next((_xml_attr(a, "Target") for a in re.findall(r"<Relationship\b([^>]*)>", rels)
                   if _xml_attr(a, "Id") == rid), None)
    if target is None:
        return None
    return target.lstrip("/") if target.startswith("/") else "xl/" + target


def _check_formula_results(path: Path, sheet_name) -> None:
    """Stop when formula cells of the sheet have no saved result (they would read as blank, silently).

    A workbook written by a program (openpyxl, some export tools) and never opened in a spreadsheet
    stores formulas without their values. Formulas whose saved result is an empty text (``t="str"``)
    are fine.
    """
    import zipfile

    try:
        with zipfile.ZipFile(path) as z:
            part = _sheet_xml(z, sheet_name)
            xml = z.read(part) if part is not None else b""
    except (zipfile.BadZipFile, OSError, KeyError, IndexError):
        return
    missing = []
    for m in _UNCACHED_FORMULA.finditer(xml):
        attrs = m.group(1).decode("utf-8", "replace")
        if _xml_attr(attrs, "t") in ("str", "inlineStr"):
            continue
        formula = (m.group(2) or b"").decode("utf-8", "replace")
        missing.append(f"{_xml_attr(attrs, 'r') or '?'} '={formula}'")
    if missing:
        raise ValueError(message(_FUNC, "source", "a workbook whose formula cells hold their saved results", str(path),
                                 f"{len(missing)} formula cell(s) of sheet {sheet_name!r} have no saved result (e.g. "
                                 f"{'; '.join(missing[:3])}), so they would read as blank: the workbook was written "
                                 f"by a program and never recalculated. Open it in Excel or LibreOffice and save it "
                                 f"(which stores the results), or export the data as CSV."))


#: Leading bytes of files that are not delimited text, whatever their name says.
_NOT_TEXT_SIGNATURES = (
    (b"PK\x03\x04", "a ZIP container, which is what an Excel .xlsx workbook is",
     "If it is a workbook, rename it to .xlsx (or save it from Excel as CSV)."),
    (b"\xd0\xcf\x11\xe0", "an old binary Excel .xls workbook",
     "Open it in Excel or LibreOffice and save it as .xlsx or CSV."),
    (b"PAR1", "a Parquet file", "Rename it to .parquet."),
    (b"\x1f\x8b", "gzip-compressed", "Decompress it first (e.g. gunzip), then read the .csv inside."),
)


def _check_is_text(raw: bytes, path: Path) -> None:
    """Stop early, with the right fix, when a text-named file holds a workbook, Parquet, gzip or a web page."""
    for magic, what, fix in _NOT_TEXT_SIGNATURES:
        if raw.startswith(magic):
            raise ValueError(message(_FUNC, "source", "a delimited text file, as its name says", str(path),
                                     f"The file is {what}, not text. {fix}"))
    head = raw[:512].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if head.startswith((b"<!doctype html", b"<html", b"<?xml", b"<table")):
        raise ValueError(message(_FUNC, "source", "a delimited text file, as its name says", str(path),
                                 "The file is a web page or XML document (e.g. a login or error page saved "
                                 "instead of the export, or an HTML table named like a spreadsheet). Download "
                                 "the export again, or open it in a spreadsheet and save it as CSV."))


def _read_text(path: Path, *, encoding, delimiter, header_row=None, duplicate_columns="raise") -> _Loaded:
    raw = path.read_bytes()
    _check_is_text(raw, path)
    notes: list[str] = []
    if encoding is None:
        detected = parsing.detect_encoding(raw, func=_FUNC)
        enc = detected.encoding
        notes.append(f"Encoding: {enc} (detected: {detected.method}).")
    else:
        enc = encoding
        err = None if raw.isascii() and _is_utf8(enc) else parsing._decode_error(raw, enc)
        if err is not None:
            raise ValueError(message(_FUNC, "encoding", "the encoding of the file", encoding,
                                     f"Byte 0x{raw[err.start:err.start + 1].hex().upper()} at byte offset "
                                     f"{err.start} cannot be decoded as {encoding}. Try encoding=None to detect "
                                     f"it, or encoding='cp1252' / 'gb18030'."))
        notes.append(f"Encoding: {enc} (given).")
    # UTF-8 bytes go to the fast path as they are (no second encoding of the whole text). ASCII bytes are
    # their own UTF-8 text: such a file is decoded only if the exact scan below needs the text.
    utf8 = raw if _is_utf8(enc) else None
    text = None if utf8 is not None and raw.isascii() else raw.decode(enc)
    del raw
    if utf8 is not None and utf8.startswith(codecs.BOM_UTF8):
        utf8 = utf8[len(codecs.BOM_UTF8):]
    if text is not None and text.startswith("\ufeff"):
        text = text[1:]
        notes.append("Removed a byte-order mark at the start of the file.")
    if (not text or text.isspace()) if text is not None else _ASCII_NON_SPACE.search(utf8) is None:
        raise ValueError(message(_FUNC, "source", "a file with a header row", str(path), "The file is empty."))
    if delimiter is None:
        delim = parsing.sniff_delimiter(text[:65536] if text is not None else utf8[:65536].decode("ascii"))
        notes.append(f"Delimiter: {delim!r} (detected).")
    else:
        delim = delimiter
        notes.append(f"Delimiter: {delim!r} (given).")
    fast = _read_uniform_grid(text, delim, data=utf8)
    if fast is not None:  # every record has the header's field count: nothing to check row by row
        grid, counts, lines = fast
        del text, utf8
        loaded = _from_grid(grid, counts, lines, str(path), "text", header_row=header_row,
                            duplicate_columns=duplicate_columns, delimiter=delim, skip_blank=True)
        loaded.notes[:0] = notes
        return loaded
    if text is None:
        text = utf8.decode("ascii")
    del utf8
    counts, lines = parsing.record_shapes(text, delim)
    width = int(counts.max()) if len(counts) else 1
    try:
        grid = pd.read_csv(io.StringIO(text), sep=delim, header=None, names=range(width), dtype=str,
                           keep_default_na=False, na_filter=False, engine="c", skip_blank_lines=False)
    except pd.errors.ParserError as exc:
        detail = str(exc).strip()
        if "EOF inside string" in detail:
            detail += (" (a quoted value is never closed: the export may be cut off, or a value contains a "
                       "stray quote character)")
        raise ValueError(message(_FUNC, "source", f"a well-formed delimited file (delimiter {delim!r})", str(path),
                                 f"pandas could not parse it: {detail}. Check the delimiter (pass delimiter=...) "
                                 f"and quoting.")) from None
    del text
    if len(grid) != len(counts):  # the parsers disagree on where records end: trust neither silently
        raise ValueError(message(_FUNC, "source", f"a delimited file whose records can be counted (delimiter "
                                 f"{delim!r})", str(path),
                                 f"pandas found {len(grid)} records and the csv module {len(counts)}; the quoting "
                                 f"is probably broken. Check quotes in the file or pass delimiter=...."))
    loaded = _from_grid(grid, counts, lines, str(path), "text", header_row=header_row,
                        duplicate_columns=duplicate_columns, delimiter=delim, skip_blank=True)
    loaded.notes[:0] = notes
    return loaded


#: A blank line inside the text (a line feed followed by an optional carriage return and a line feed).
_BLANK_LINE = re.compile(rb"\n\r?\n")

#: A character that ``str.isspace`` does not count as space, in ASCII text (spaces: \t-\r, \x1c-\x1f, " ").
_ASCII_NON_SPACE = re.compile(rb"[^\t\n\x0b\x0c\r\x1c-\x1f ]")


def _is_utf8(encoding: str) -> bool:
    return codecs.lookup(encoding).name in ("utf-8", "utf-8-sig")


def _read_uniform_grid(text: str, delim: str, *, data: bytes | None = None):
    """Fast path of :func:`_read_text`: ``(grid, counts, lines)`` when every record has the same field count.

    pyarrow's CSV reader (multi-threaded, straight to Arrow strings) is used only where it provably
    splits the text as pandas' C parser and :func:`parsing.record_shapes` do: every quote character
    stands at a field boundary and the quotes pair up (the condition under which
    :func:`parsing.record_shapes` trusts its own byte scan), no bare carriage returns, at least two
    fields per record, no blank line (pyarrow would read it as a row of empty fields), and pyarrow finds
    the same number of fields in every record (it refuses a record with another count). Then the field
    count of every record is the header's and each record is one line unless a quoted value holds a
    line break (then the lines are counted exactly; otherwise the bytes of the fields, delimiters and
    line ends must add up to the file). Anything else returns None and the exact scan runs. ``text``
    may be None when ``data`` is given.
    """
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pacsv

    data = text.encode("utf-8") if data is None else data  # ``data``: the same text as UTF-8 bytes
    if not data or not parsing._quotes_at_boundaries(data, delim):
        return None
    first_end = data.find(b"\n")
    header = data[: first_end if first_end >= 0 else len(data)]
    if b'"' in header:
        return None
    width = header.count(delim.encode("utf-8")) + 1
    if width < 2:
        return None
    names = [f"f{i}" for i in range(width)]
    try:
        table = pacsv.read_csv(
            pa.py_buffer(data),
            read_options=pacsv.ReadOptions(column_names=names, block_size=1 << 22),
            parse_options=pacsv.ParseOptions(delimiter=delim, quote_char='"', double_quote=True, escape_char=False,
                                             newlines_in_values=b'"' in data, ignore_empty_lines=False),
            convert_options=pacsv.ConvertOptions(column_types={n: pa.large_string() for n in names},
                                                 strings_can_be_null=False, quoted_strings_can_be_null=False))
    except (pa.ArrowInvalid, pa.ArrowException):
        return None
    n = table.num_rows
    # blank lines: pyarrow reads them as rows of empty fields, pandas as one-field records. A blank line gives
    # an empty first field, so the text is searched for one only when some first field is empty.
    if pc.any(pc.equal(pc.binary_length(table.column(0)), 0)).as_py() and (
            data.startswith((b"\n", b"\r\n")) or _BLANK_LINE.search(data) is not None):  # (re: 4x faster than ``in``)
        return None
    if b'"' not in data:
        # one record per line: the bytes of the fields, delimiters and line ends must add up to the file, and
        # the line feeds left over must be one per record (the last one may lack its own)
        field_bytes = sum(_string_bytes(chunk) for column in table.columns for chunk in column.chunks)
        n_cr = data.count(b"\r") if b"\r" in data else 0
        n_lf = len(data) - field_bytes - n * (width - 1) - n_cr
        if n_lf - (1 if data.endswith(b"\n") else 0) + 1 != n:
            return None
        lines = np.arange(1, n + 1, dtype="int64")
    else:  # a quoted value may span lines: a record ends at a line feed preceded by an even number of quotes
        arr = np.frombuffer(data, dtype=np.uint8)
        nl_all = np.flatnonzero(arr == 10)
        ends = nl_all[(np.searchsorted(np.flatnonzero(arr == 34), nl_all) & 1) == 0]
        if arr[-1] != 10:
            ends = np.append(ends, len(arr))
        if len(ends) != n:
            return None
        starts = np.concatenate([[0], ends[:-1] + 1])
        lines = (np.searchsorted(nl_all, starts) + 1).astype("int64")
    grid = pd.DataFrame({i: pd.array(table.column(i), dtype="str") for i in range(width)})
    counts = np.full(n, width, dtype="int64")
    return grid, counts, lines


def _string_bytes(chunk) -> int:
    """Bytes of text in a pyarrow large_string array (last offset minus first; no pass over the values)."""
    if not len(chunk):
        return 0
    offsets = np.frombuffer(chunk.buffers()[1], dtype="int64")
    return int(offsets[chunk.offset + len(chunk)] - offsets[chunk.offset])


def _nonblank_cells(head: pd.DataFrame) -> np.ndarray:
    """(rows x columns) bool: the cell holds more than whitespace (``col.str.strip() != ""``, column by column).

    Arrow-backed text columns without missing cells go straight to the kernel pandas' ``str.strip`` uses.
    """
    import pyarrow.compute as pc

    columns = [parsing._arrow_strings(head.iloc[:, j]) for j in range(head.shape[1])]
    if not head.shape[1] or any(arr is None or arr.null_count for arr in columns):
        return (head.apply(lambda col: col.str.strip()) != "").to_numpy(dtype=bool)
    return np.column_stack([np.asarray(pc.greater(pc.binary_length(pc.utf8_trim_whitespace(arr)), 0).to_numpy(
        zero_copy_only=False), dtype=bool) for arr in columns])


def _detect_header(filled: np.ndarray, usable: np.ndarray, first_only: np.ndarray) -> int:
    """Position of the header among the records: the first usable record that is not a title line.

    A title line (e.g. "Page posts export" or "Generated 2024-03-01" above the column names) has
    fewer than half as many non-empty fields as a typical record of the file, or only its first
    field filled where typical records fill two or more (a header may leave a name blank, as
    pandas' unnamed index column does, but not all names but the first).
    """
    first = np.flatnonzero(usable)
    if not len(first):
        return 0
    typical = float(np.median(filled[first[:200]]))
    if typical < 2:
        return int(first[0])
    title = (filled[:50] < np.ceil(typical / 2)) | first_only[:50]
    hits = np.flatnonzero(usable[:50] & ~title)
    return int(hits[0]) if len(hits) else int(first[0])


def _from_grid(grid: pd.DataFrame, counts, lines, name, kind, *, header_row, duplicate_columns, delimiter,
               skip_blank) -> _Loaded:
    """Find the header, check every data row's field count and build the raw frame."""
    notes: list[str] = []
    n_rec = len(grid)
    head = grid.iloc[:200]
    nonempty = _nonblank_cells(head)
    filled_head = nonempty.sum(axis=1).astype("int64")
    first_only = (filled_head == 1) & nonempty[:, 0] if nonempty.shape[1] else np.zeros(len(head), dtype=bool)
    blank = np.zeros(n_rec, dtype=bool)
    if skip_blank and n_rec:
        one = counts == 1
        if one.any():
            blank[one] = grid.iloc[np.flatnonzero(one), 0].str.strip().to_numpy(dtype=object) == ""
    cells = head.iloc[:50].to_numpy(dtype=object)  # one conversion, not a row lookup per line
    preview = [(int(lines[i]), [str(v) for v in cells[i, :counts[i]]]) for i in range(min(len(head), 50))
               if not blank[i]]
    if header_row is not None:
        if header_row > n_rec or blank[header_row - 1]:
            shown = "; ".join(f"line {ln}: {', '.join(f[:6])}" for ln, f in preview[:5])
            raise ValueError(message(_FUNC, "header_row", "the line number of the column names", header_row,
                                     f"That line is {'blank' if header_row <= n_rec else 'past the end'}. "
                                     f"The first lines are: {shown}."))
        h = header_row - 1
        if h:
            notes.append(f"Header taken from line {int(lines[h])} (header_row={header_row}); the "
                         f"{int((~blank[:h]).sum())} non-blank line(s) above it are not data.")
    else:
        h = _detect_header(filled_head, ~blank[:len(head)] & (filled_head > 0), first_only)  # empty rows never head
        if h:
            above = [", ".join(f for f in fields if f.strip())[:60] for ln, fields in preview if ln < lines[h]]
            above = [a for a in above if a]
            what = f"look like a title ({'; '.join(repr(a) for a in above[:3])})" if above else "are empty"
            notes.append(f"The column names are on line {int(lines[h])}, not line 1: the line(s) above {what} and "
                         f"are not data. Pass header_row=... to choose another line.")
    width = int(counts[h]) if n_rec else 0
    names = [str(v) for v in grid.iloc[h, :width]] if n_rec else []
    data_pos = np.flatnonzero(~blank & (np.arange(n_rec) > h))
    c = counts[data_pos]
    bad_shape = None
    if delimiter is not None and len(data_pos):
        # a header ending with the delimiter (an empty last name) whose column is empty everywhere
        if width > 1 and not names[-1].strip() and (grid.iloc[data_pos, width - 1].str.strip() == "").all():
            width -= 1
            names = names[:-1]
            notes.append("The header line ends with the delimiter (an empty last column name, empty in every "
                         "row); that empty column was ignored.")
        trailing = np.zeros(len(data_pos), dtype=bool)
        longer = c == width + 1
        if longer.any():
            trailing[longer] = (grid.iloc[data_pos[longer], width].str.strip() == "").to_numpy(dtype=bool)
        ok = (c == width) | trailing
        if trailing.any():
            notes.append(f"{int(trailing.sum())} of {len(data_pos)} data row(s) end with the delimiter (an empty "
                         f"field after the last column that the header does not have); the empty field was ignored "
                         f"and no column was shifted.")
        wrong = ~ok
        if wrong.any():
            bad_shape = _shape_problems(grid, data_pos, c, lines, wrong, width, delimiter)
            if wrong.sum() > 0.5 * len(data_pos):
                k = int(wrong.sum())
                ex = bad_shape.iloc[0]
                raise ValueError(message(
                    _FUNC, "source", f"a delimited file whose rows have as many fields as its header "
                    f"({width} with delimiter {delimiter!r}, header on line {int(lines[h])})",
                    f"{k} of {len(data_pos)} data rows with other field counts",
                    f"For example data row {int(ex['position']) + 1}: {ex['message']}. The delimiter, the header "
                    f"line or the quoting is probably wrong: pass delimiter=... or header_row=<line of the column "
                    f"names>."))
    frame = grid.iloc[data_pos, :width] if len(data_pos) != n_rec - h - 1 else grid.iloc[h + 1:, :width]
    frame = frame.reset_index(drop=True)
    if bad_shape is not None and width:
        # the fields of such a row belong to no column: keep its whole line in the first cell, blank the rest,
        # so that it can never equal (and be taken for a duplicate of) a well-formed row
        rows = bad_shape["position"].to_numpy(dtype="int64")
        frame.iloc[rows, :] = ""
        frame.iloc[rows, 0] = bad_shape["original_value"].to_numpy(dtype=object)
    names = [n if n.strip() else f"Unnamed: {i}" for i, n in enumerate(names)]  # as pandas names them
    frame = frame.set_axis(names, axis=1)
    frame, renamed = _unique_names(frame, names, duplicate_columns, what="file",
                                   header_line=int(lines[h]) if n_rec else 1)
    notes += renamed
    return _Loaded(frame, name, kind, notes, bad_shape, int(lines[h]) if n_rec else 1, preview)


def _shape_problems(grid, data_pos, c, lines, wrong, width, delimiter) -> pd.DataFrame:
    """One message per data row whose field count differs from the header's (rows are few)."""
    pos = np.flatnonzero(wrong)
    short = c < width
    # an unquoted line break splits one record into two short ones whose fields add up to the header's
    pair_next = np.zeros(len(c), dtype=bool)
    pair_next[:-1] = short[:-1] & short[1:] & (c[:-1] + c[1:] - 1 == width) & (np.diff(data_pos) == 1)
    pair_prev = np.zeros(len(c), dtype=bool)
    pair_prev[1:] = pair_next[:-1]
    messages, originals = [], []
    last = len(c) - 1
    for p in pos:
        fields = [str(v) for v in grid.iloc[data_pos[p], :c[p]]]
        text = delimiter.join(fields)
        originals.append(text if len(text) <= 200 else text[:199] + "…")
        where = f"line {int(lines[data_pos[p]])}"
        if c[p] > width:
            why = ("probably a delimiter inside a value that is not quoted, or a value that belongs to no "
                   "column; the values cannot be assigned to columns")
        elif pair_next[p] or pair_prev[p]:
            other = p + 1 if pair_next[p] else p - 1
            a, b = sorted((p, other))
            why = (f"together with data row {b + 1 if p == a else a + 1} it has the header's {width} fields: a line "
                   f"break inside a value that is not quoted split one post into two rows (data rows {a + 1} and "
                   f"{b + 1}); quote the text in the export")
        elif p == last:
            why = "it is the last row of the file: the export was probably cut off"
        else:
            why = "values are missing, so the remaining ones cannot be assigned to columns"
        messages.append(f"row has {int(c[p])} field(s) but the header has {width} ({where}): {why}; excluded so "
                        f"that no value lands in the wrong column")
    return pd.DataFrame({"position": pos, "message": messages, "original_value": originals})


def _apply_mapping(raw: pd.DataFrame, columns, report: QualityReport, loaded: "_Loaded | None" = None,
                   profile_used: bool = False) -> pd.DataFrame:
    names = [str(c) for c in raw.columns]
    canonical = [c for c in config.POST_COLUMNS if c != "source_row"]
    mapping = dict(columns or {})
    targets: dict[str, str] = {}
    for src_name, target in mapping.items():
        if src_name not in raw.columns:
            shown = ", ".join(repr(c) for c in names[:12]) + (" …" if len(names) > 12 else "")
            close = _closest_name(str(src_name), names)
            raise ValueError(message(_FUNC, "columns", "keyed by columns that exist in the source", src_name,
                                     f"Available columns include {shown}.{close}"
                                     f"{'' if close else _header_hint(loaded, [src_name])}"))
        if target == "source_row":
            raise ValueError(message(_FUNC, "columns", "mapped to canonical names other than 'source_row'", target,
                                     "source_row is generated by read_posts (the data-row number)."))
        moving_aside = src_name in canonical and isinstance(target, str) and target not in raw.columns
        if target not in canonical and not moving_aside:  # a canonical column may be renamed out of the way
            raise ValueError(message(_FUNC, "columns", "mapped to canonical column names", target,
                                     f"Canonical names: {', '.join(canonical)}."
                                     f"{_closest_name(str(target), canonical)}"))
        if target in targets:
            raise ValueError(message(_FUNC, "columns", "a mapping with one source column per canonical name",
                                     target, f"Both {targets[target]!r} and {src_name!r} map to {target!r}."))
        if target in raw.columns and target not in mapping and target != src_name:
            raise ValueError(message(_FUNC, "columns", "free of clashes with existing columns", target,
                                     f"The source already has a column named {target!r}; mapping {src_name!r} to "
                                     f"it would create two. Map the existing one elsewhere, e.g. "
                                     f"columns={{{target!r}: '{target}_original', ...}}."))
        targets[target] = src_name
    renamed = raw.rename(columns={k: v for k, v in mapping.items() if k != v})
    if mapping:
        report.note("Column mapping: " + ", ".join(f"{k!r} -> {v!r}" for k, v in mapping.items()) + ".")
    if not profile_used:  # a profile leaves such columns unmapped on purpose (LinkedIn's text 'Audience')
        _note_near_canonical_names(renamed, canonical, report)
    if "source_row" in renamed.columns:
        renamed = renamed.rename(columns={"source_row": "original_source_row"})
        report.note("The source had a 'source_row' column; it is kept as 'original_source_row' "
                    "(source_row numbers the rows of this source).")
    return renamed


def _canonical_fold(name) -> str:
    """A header folded for matching a canonical name: case, spacing, ``_``/``-`` and invisible characters ignored."""
    text = str(name)
    for ch in parsing.INVISIBLE_CHARACTERS:
        text = text.replace(ch, "")
    return " ".join(text.replace("_", " ").replace("-", " ").split()).casefold()


def _note_near_canonical_names(renamed: pd.DataFrame, canonical: list, report: QualityReport) -> None:
    """Name the unmapped columns that look like a canonical one (``"Likes "``, ``"\u200blikes"``).

    They are kept as extra columns (names are never guessed), so the note says how to use them.
    """
    by_fold = {_canonical_fold(c): c for c in canonical}
    near = {col: by_fold[_canonical_fold(col)] for col in renamed.columns
            if col not in canonical and by_fold.get(_canonical_fold(col), col) not in renamed.columns}
    if near:
        report.note("Columns that look like canonical names but differ by case, spacing, '_'/'-' or invisible "
                    "characters are kept as extra columns under their own names: "
                    + ", ".join(f"{k!r} (like {v!r})" for k, v in near.items())
                    + ". To use them, pass columns={" + ", ".join(f"{k!r}: {v!r}" for k, v in near.items()) + "}.")


def _fold(name: str) -> str:
    """Case, spacing and invisible characters folded away, for "did you mean" matching."""
    return " ".join(str(name).replace("\ufeff", "").replace("\u200b", "").split()).casefold()


def _closest_name(name: str, names: list) -> str:
    """" Did you mean 'X'?" for a misspelt column name (exact-after-folding matches first), or ""."""
    folded = {}
    for n in names:
        folded.setdefault(_fold(n), n)
    if _fold(name) in folded:
        return f" Did you mean {folded[_fold(name)]!r}?"
    close = difflib.get_close_matches(_fold(name), list(folded), n=1, cutoff=0.6)
    return f" Did you mean {folded[close[0]]!r}?" if close else ""


def _take_factorized(codes: np.ndarray, distinct: pd.Series, rows: np.ndarray) -> tuple[np.ndarray, pd.Series]:
    """``parsing._factorize_text(values.iloc[rows])`` from ``(codes, distinct) = parsing._factorize_text(values)``.

    The same codes (in order of first appearance among ``rows``) and distinct texts (only those of ``rows``),
    without copying the texts of the rows.
    """
    new, old = pd.factorize(codes[rows])
    return np.asarray(new, dtype="int64"), distinct.iloc[old].reset_index(drop=True)


def _id_as_text(values: pd.Series) -> pd.Series:
    """Render numeric ids without a spurious '.0'."""
    if pd.api.types.is_float_dtype(values.dtype):
        num = values.astype("float64")
        if np.all(np.isnan(num) | ((np.floor(num) == num) & (np.abs(num) < 2.0 ** 53))):
            return values.astype("Int64").astype("string")
    return values


def _text_missing(values: pd.Series) -> np.ndarray:
    """Cells that are blank or a missing token after cleaning.

    An ASCII letter-or-digit cell longer than every missing token is its own clean text and no token (the
    usual post id): only the other cells are cleaned and compared.
    """
    arr = parsing._arrow_strings(values)
    if arr is not None and len(arr) > 1000:
        sure = _surely_clean(arr)
        out = np.zeros(len(arr), dtype=bool)
        rest = np.flatnonzero(~sure)
        if len(rest):
            out[rest] = _cleaned_missing(values if len(rest) == len(arr) else values.iloc[rest])
        return out
    return _cleaned_missing(values)


def _surely_clean(arr) -> np.ndarray:
    """Cells of a pyarrow text array that are ASCII letters and digits only and longer than every missing token.

    Such a cell is its own clean text (no whitespace, no invisible character) and never a missing token.
    """
    import pyarrow.compute as pc

    sure = pc.fill_null(pc.and_(pc.greater(pc.binary_length(arr), parsing._LONGEST_TOKEN), pc.ascii_is_alnum(arr)),
                        False)
    return np.asarray(sure.to_numpy(zero_copy_only=False), dtype=bool)


def _integer_text(values: pd.Series):
    """``(parsing._to_text(values), its missing mask)`` for an integer column (numpy or nullable), else None.

    Typed fast path: the decimal text of an integer (what ``str(int)`` gives, and what a pyarrow cast gives)
    has no surrounding space, no invisible character and is never a missing token (no token is all digits,
    or "-" followed by digits), so it is its own clean text; missing cells become "" (blank), as in
    ``_to_text``. Built by one pyarrow cast instead of a Python string per cell.
    """
    dtype = values.dtype
    if not (pd.api.types.is_integer_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype)) or isinstance(
            dtype, pd.CategoricalDtype) or not len(values):
        return None
    import pyarrow as pa
    import pyarrow.compute as pc

    if isinstance(dtype, np.dtype):
        arr = pa.array(values.to_numpy())
        missing = np.zeros(len(values), dtype=bool)
    else:  # nullable Int64/UInt64 (or an Arrow-backed integer column)
        missing = values.isna().to_numpy(dtype=bool, copy=True)
        arr = pa.array(values.to_numpy(dtype=values.dtype.numpy_dtype if hasattr(values.dtype, "numpy_dtype")
                                       else "int64", na_value=0), mask=missing)
    text = pc.cast(arr, pa.large_string())
    if missing.any():
        text = pc.fill_null(text, "")
    return pd.Series(pd.array(text.cast(pa.string()), dtype="str"), index=values.index), missing


def _cleaned_text(values: pd.Series) -> tuple[pd.Series, np.ndarray]:
    """``(parsing._clean(parsing._to_text(values)), its missing mask)``; no pass when every cell is surely clean."""
    typed = _integer_text(values)
    if typed is not None:
        return typed
    text = parsing._to_text(values)
    arr = parsing._arrow_strings(text)
    if arr is not None and len(arr) and _surely_clean(arr).all():
        return text, np.zeros(len(arr), dtype=bool)
    cleaned = parsing._clean(text)
    return cleaned, parsing._missing_mask(cleaned).to_numpy(dtype=bool, copy=True)


def _cleaned_missing(values: pd.Series) -> np.ndarray:
    return parsing._missing_mask(parsing._clean(parsing._to_text(values))).to_numpy(dtype=bool, copy=True)


def _empty_rows(canon: pd.DataFrame) -> np.ndarray:
    empty = np.ones(len(canon), dtype=bool)
    for col in canon.columns:
        rows = np.flatnonzero(empty)  # only rows still empty in every column so far need a look
        if not len(rows):
            break
        s = canon[col] if len(rows) == len(canon) else canon[col].iloc[rows]
        if pd.api.types.is_string_dtype(s.dtype) or s.dtype == object:
            miss = _text_missing(s)
        else:
            miss = s.isna().to_numpy(dtype=bool, copy=True)
        empty[rows] = miss
    return empty


def _duplicate_rows(raw: pd.DataFrame, eligible: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Positions of rows identical to an earlier eligible row, and the first such row."""
    if len(raw) == 0 or len(raw.columns) == 0:
        return np.array([], dtype="int64"), np.array([], dtype="int64")
    try:
        pos, codes = _row_codes(raw, np.flatnonzero(eligible))
    except TypeError:
        pos, codes = _row_codes(raw.astype(str), np.flatnonzero(eligible))
    if not len(pos):
        return np.array([], dtype="int64"), np.array([], dtype="int64")
    # first occurrence of each row value among the candidate rows (positions are increasing)
    _, first_of, inverse = np.unique(codes, return_index=True, return_inverse=True)
    first_idx = first_of[inverse]
    first = pos[first_idx]
    dup = first != pos
    cand, cand_first = pos[dup], first[dup]
    if len(cand):
        # confirm (hash collisions are astronomically rare, but "identical" must mean identical)
        a = raw.iloc[cand].reset_index(drop=True)
        b = raw.iloc[cand_first].reset_index(drop=True)
        same = ((a == b) | (a.isna() & b.isna())).all(axis=1).to_numpy(dtype=bool)
        cand, cand_first = cand[same], cand_first[same]
    return cand, cand_first


def _equality_codes(s: pd.Series) -> np.ndarray:
    """Integers equal exactly where the values of a text Series are equal (-1: missing).

    A column already in (ascending or descending) order, as ids and times usually are, is numbered by
    comparing neighbours (no hashing); otherwise ``pd.factorize``. The numbering differs, equality does not.
    """
    arr = parsing._arrow_strings(s)
    if arr is not None and len(arr) > 1 and arr.null_count == 0:
        import pyarrow.compute as pc

        a, b = arr[:-1], arr[1:]
        if pc.all(pc.less_equal(a, b)).as_py() or pc.all(pc.greater_equal(a, b)).as_py():
            changed = pc.not_equal(a, b).to_numpy(zero_copy_only=False)
            return np.concatenate([[0], np.cumsum(changed)]).astype("int64")
    return pd.factorize(s)[0].astype("int64")


def _row_codes(frame: pd.DataFrame, pos: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rows of ``pos`` that may repeat another row of ``pos``, and a key per such row (equal keys: equal rows).

    Column by column, text columns are keyed by their distinct values (``pd.factorize``) and other
    columns by ``pd.util.hash_pandas_object`` (as the whole-frame hash did); the keys are combined
    exactly (re-numbered after each column, so no overflow), and a row whose key is unique so far
    cannot repeat any row, so it is dropped before the next column is read (after a post id column
    usually only the repeated rows are left). Equal keys are confirmed cell by cell by the caller.
    """
    key = np.zeros(len(pos), dtype="int64")
    for col in range(frame.shape[1]):
        if not len(pos):
            break
        s = frame.iloc[:, col] if len(pos) == len(frame) else frame.iloc[pos, col]
        if isinstance(s.dtype, pd.StringDtype):
            codes = _equality_codes(s)
        elif isinstance(s.dtype, np.dtype) and s.dtype.kind in "iu":  # typed integers: equal exactly when equal
            values = s.to_numpy()
            if _strictly_monotonic(values):
                return pos[:0], key[:0]  # (ids, row numbers): no two rows can be equal
            codes = pd.factorize(values)[0].astype("int64")
        else:
            codes = pd.factorize(pd.util.hash_pandas_object(s, index=False).to_numpy())[0].astype("int64")
        key = pd.factorize(key * (int(codes.max(initial=-1)) + 2) + (codes + 1))[0].astype("int64")
        repeated = np.bincount(key)[key] > 1
        if not repeated.all():
            pos, key = pos[repeated], key[repeated]
    return pos, key


def _strictly_monotonic(values: np.ndarray) -> bool:
    """Typed fast path of :func:`_row_codes`: integers strictly increasing or decreasing (all distinct)."""
    return len(values) > 1 and bool((values[1:] > values[:-1]).all() or (values[1:] < values[:-1]).all())


class _PostIds:
    """The post ids of the kept rows by position, turned into Python objects only where an entry needs one."""

    def __init__(self, post_id: pd.Series):
        self._ids = post_id.reset_index(drop=True)

    def take(self, pos) -> list:
        return list(self._ids.iloc[np.asarray(pos, dtype="int64")].to_numpy(dtype=object))

    def __getitem__(self, pos):
        return self.take([pos])[0]


def _add_problems(report: QualityReport, problems: pd.DataFrame, src: np.ndarray, column: str, ids) -> None:
    pids = [None] * len(problems) if ids is None else ids.take(problems["position"].to_numpy(dtype="int64"))
    for (pos, rule, action, msg, orig, new), pid in zip(problems.itertuples(index=False, name=None), pids):
        report.add(source_row=int(src[pos]), action=action, rule=rule, message=msg, column=column,
                   post_id=pid, original_value=orig, new_value=new)


# ---------------------------------------------------------------------------------------------
# labels
# ---------------------------------------------------------------------------------------------
def _labels(factorized, column: str, *, normalize: bool, report: QualityReport, src, ids):
    """Return (labels as an ordered Categorical, known labels first; number of missing cells).

    ``factorized``: ``parsing._factorize_text`` of the cells. Every rule depends on the cell text only, so it
    runs once per distinct text (codes map back).
    """
    codes, distinct = factorized
    miss_u = parsing._missing_mask(parsing._clean(distinct)).to_numpy(dtype=bool, copy=True)
    n_missing = int(miss_u[codes].sum())
    present_u = np.flatnonzero(~miss_u)      # distinct present texts, in order of first appearance
    counts = pd.Series(np.bincount(codes, minlength=len(distinct))[present_u])
    uniq = distinct[present_u].reset_index(drop=True)
    cleaned = parsing.normalize_label(uniq)
    key = cleaned.str.casefold()
    known = {k.casefold(): k for k in _LABEL_KNOWN[column]}
    mapping: dict[str, str] = {}
    alias_used: dict[str, list[str]] = {}
    groups: dict[str, list[int]] = {}
    for i, k in enumerate(key):
        groups.setdefault(k, []).append(i)
    for k, members in groups.items():
        if column == "platform" and k in PLATFORM_ALIASES:
            target = PLATFORM_ALIASES[k]
            for i in members:
                mapping[uniq[i]] = target
                if uniq[i] != target:
                    alias_used.setdefault(target, []).append(uniq[i])
            continue
        if k in known:
            chosen = known[k]
        else:
            weight: dict[str, int] = {}
            for i in members:
                weight[cleaned[i]] = weight.get(cleaned[i], 0) + int(counts.iloc[i])
            chosen = max(weight, key=lambda w: weight[w])  # ties: the first spelling in the file
        for i in members:
            mapping[uniq[i]] = chosen
    for target, variants in alias_used.items():
        report.note(f"platform: mapped {', '.join(repr(v) for v in variants)} to {target!r}.")
    distinct_obj = distinct.to_numpy(dtype=object)
    changed = {u: m for u, m in mapping.items() if u != m and not (column == "platform" and
                                                                  parsing.normalize_label(pd.Series([u])).str.casefold().iloc[0]
                                                                  in PLATFORM_ALIASES)}
    if changed:
        variants_of: dict[str, list[str]] = {}
        for u, m in mapping.items():
            variants_of.setdefault(m, []).append(u)
        changed_u = np.flatnonzero(~miss_u & pd.Series(distinct_obj).isin(list(changed)).to_numpy(dtype=bool))
        affected = np.flatnonzero(np.isin(codes, changed_u))
        for pos, pid in zip(affected, ids.take(affected)):
            orig = distinct_obj[codes[pos]]
            new = changed[orig]
            variants = ", ".join(repr(v) for v in variants_of[new])
            if normalize:
                report.add(source_row=int(src[pos]), action="repaired", rule="label_variant", column=column,
                           post_id=pid, original_value=orig, new_value=new,
                           message=f"{column}: {orig!r} merged into {new!r} (variants: {variants})")
            else:
                report.add(source_row=int(src[pos]), action="flagged", rule="label_variant", column=column,
                           post_id=pid, original_value=orig,
                           message=f"{column}: {orig!r} differs from {new!r} only by case, spacing, invisible "
                                   f"or full-width characters (variants: {variants}); pass "
                                   f"normalize_labels=True to merge them")
        if normalize:
            report.note(f"{column}: merged label variants into {sorted(set(changed.values()))} "
                        f"(normalize_labels=True).")
    final_u = np.where(miss_u, None, distinct_obj)
    if normalize or column == "platform":
        apply = mapping if normalize else {u: m for u, m in mapping.items() if u not in changed}
        if apply:
            final_u = np.array([None if m else apply.get(u, u) for u, m in zip(distinct_obj, miss_u)], dtype=object)
    # as config.ordered_categorical: known labels first (in their order), then the others sorted
    present = {str(v) for v in final_u[~miss_u]} if len(final_u) else set()
    known = _LABEL_KNOWN[column]
    cats = [k for k in known if k in present] + sorted(v for v in present if v not in set(known))
    position = {c: i for i, c in enumerate(cats)}
    code_u = np.array([-1 if v is None else position[str(v)] for v in final_u], dtype="int64")
    final = code_u[codes] if len(codes) else np.zeros(0, dtype="int64")
    return pd.Categorical.from_codes(final, categories=cats, ordered=True), n_missing


def _content_types(factorized, report: QualityReport) -> tuple[pd.Series, int]:
    # every step depends on the cell text only: work on the distinct texts (``parsing._factorize_text`` of the
    # cells), then expand by codes
    codes, raw_u = factorized
    text = parsing._clean(raw_u)
    miss_u = parsing._missing_mask(text).to_numpy(dtype=bool, copy=True)
    low = parsing.normalize_label(text).str.lower()
    mapped = low.map(CONTENT_TYPE_ALIASES)
    is_mapped = mapped.notna().to_numpy(dtype=bool, copy=True)
    unknown = sorted(set(low[~miss_u & ~is_mapped]))
    renamed = sorted({f"{a!r} -> {b!r}" for a, b in zip(text[~miss_u & is_mapped], mapped[~miss_u & is_mapped])
                      if a != b})
    if renamed:
        report.note(f"content_type: mapped {', '.join(renamed[:10])}{' …' if len(renamed) > 10 else ''}.")
    if unknown:
        report.note(f"content_type: values not among {config.CONTENT_TYPES} kept (lower case): "
                    f"{', '.join(repr(u) for u in unknown[:10])}.")
    result = mapped.fillna(low).astype("object").where(~miss_u, None)
    present = set(result.dropna())
    cats = [c for c in config.CONTENT_TYPES if c in present]
    cats += sorted(present - set(cats))
    position = {c: i for i, c in enumerate(cats)}
    code_of_unique = np.array([position.get(r, -1) if r is not None else -1 for r in result], dtype="int64")
    final = code_of_unique[codes] if len(codes) else np.zeros(0, dtype="int64")
    n_missing = int(miss_u[codes].sum()) if len(codes) else 0
    return pd.Series(pd.Categorical.from_codes(final, categories=cats)), n_missing


# ---------------------------------------------------------------------------------------------
# extras and consistency
# ---------------------------------------------------------------------------------------------
def _exact_as_number(vals: pd.Series) -> bool:
    """True if numbers can hold these texts unchanged: no leading zeros ("00123") and at most 15 digits.

    A 19-digit tweet id or a 16-digit page id would be rounded by Float64 (and "007" would lose its
    zeros), so such columns stay text.
    """
    if not len(vals):
        return False
    digits = vals.str.replace(r"[eE][+-]?[0-9]+$", "", regex=True).str.replace(r"[^0-9]", "", regex=True)
    leading_zero = vals.str.fullmatch(r"[+-]?0[0-9]+(?:\.[0-9]*)?").any()
    return not leading_zero and bool(digits.str.lstrip("0").str.len().le(15).all()
                                     or vals.str.fullmatch(r"[+-]?[0-9]{1,18}").all())


def _extras(rows: pd.DataFrame, extras: list, report: QualityReport, *, typed: bool) -> pd.DataFrame:
    out = {}
    converted = []
    for col in extras:
        s = rows[col].reset_index(drop=True)
        if typed and not (pd.api.types.is_string_dtype(s.dtype) and s.dtype != object):
            out[col] = s
            continue
        if not (pd.api.types.is_string_dtype(s.dtype) or s.dtype == object):
            out[col] = s
            continue
        text = parsing._to_text(s)
        number = _extra_as_number(text)
        if number is not None:
            out[col] = number
            converted.append(f"{col!r} ({number.dtype})")
        else:
            out[col] = text.where(text != "", None) if not typed else s
    if extras:
        report.note(f"Extra (non-canonical) columns kept: {', '.join(repr(str(c)) for c in extras)}"
                    + (f"; converted to numbers: {', '.join(converted)}" if converted else "") + ".")
    return pd.DataFrame(out, index=pd.RangeIndex(len(rows)))


_INT_TEXT = r"[+-]?[0-9]{1,18}"
_FLOAT_TEXT = r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?"


def _extra_as_number(text: pd.Series) -> pd.Series | None:
    """An extra column as Int64 (every non-missing cell an integer) or Float64 (a decimal number), else None.

    The patterns are checked on a sample first (one failure decides "text"), then once per distinct
    cleaned value when values repeat; the numbers are those ``pd.to_numeric`` gives for the column.
    """
    cleaned = parsing._clean(text)
    miss = parsing._missing_mask(cleaned).to_numpy(dtype=bool, copy=True)
    present = np.flatnonzero(~miss)
    if not len(present):
        return None
    sample = cleaned.iloc[present[:200]]
    if not sample.str.fullmatch(_FLOAT_TEXT).all():
        return None  # a value that is not a number: the column stays text
    kind = "Int64" if sample.str.fullmatch(_INT_TEXT).all() else "Float64"
    codes, distinct = pd.factorize(cleaned.iloc[present])
    distinct = pd.Series(distinct, dtype="str")
    if not _exact_as_number(distinct):
        return None  # ids, codes with leading zeros: a number would not hold them as written
    if kind == "Int64" and not distinct.str.fullmatch(_INT_TEXT).all():
        kind = "Float64"
    if kind == "Float64" and not distinct.str.fullmatch(_FLOAT_TEXT).all():
        return None
    numbers = pd.to_numeric(distinct).to_numpy()
    if kind == "Int64":  # exact: never through float64 (ids of up to 18 digits keep every digit)
        ints = np.zeros(len(text), dtype="int64")
        ints[present] = numbers.astype("int64")[codes]
        return pd.Series(pd.arrays.IntegerArray(ints, miss))
    full = np.full(len(text), np.nan)
    full[present] = numbers[codes]
    return pd.Series(full).astype(kind)


def _as_float(values: pd.Series) -> np.ndarray:
    """A count column (Int64) as float64 with NaN for missing."""
    if isinstance(values.dtype, pd.Int64Dtype):
        return values.to_numpy(dtype="float64", na_value=np.nan)
    return values.astype("Float64").to_numpy(dtype="float64", na_value=np.nan)


def _complete_small_ints(data: pd.DataFrame, columns: list):
    """The int64 values of Int64 columns without missing cells and below 2**50 (sums of three stay exact in
    float64, so integer and float comparisons agree), else None."""
    out = []
    for c in columns:
        arr = data[c].array
        if not isinstance(arr, pd.arrays.IntegerArray) or arr._mask.any():
            return None
        values = arr._data
        if len(values) and (values.max() >= 2 ** 50 or values.min() < 0):
            return None
        out.append(values)
    return out


def _nothing_to_flag(data: pd.DataFrame, parts: list) -> bool:
    """Typed fast path of :func:`_consistency`: complete integer counts whose interactions exceed neither reach
    nor impressions and whose impressions are not below reach (the usual export): no entry to add.

    Only decides "nothing to flag"; any other case runs the general checks.
    """
    exposures = [c for c in ("reach", "impressions") if c in data.columns]
    ints = _complete_small_ints(data, parts + exposures) if parts or len(exposures) == 2 else None
    if ints is None:
        return False
    values = dict(zip(parts + exposures, ints))
    if parts:
        total = values[parts[0]].copy()
        for c in parts[1:]:
            total += values[c]
        if any((total > values[e]).any() for e in exposures):
            return False
    return not (len(exposures) == 2 and (values["impressions"] < values["reach"]).any())


def _consistency(data: pd.DataFrame, report: QualityReport) -> None:
    src = data["source_row"].to_numpy(dtype="int64")
    ids = _PostIds(data["post_id"])
    parts = [c for c in config.INTERACTION_COLUMNS if c in data.columns]
    clear = _nothing_to_flag(data, parts)  # the reach / impressions checks below would find nothing
    if parts and not clear:
        floats = [_as_float(data[c]) for c in parts]  # (no stacked copy: one column at a time)
        total = np.zeros(len(data))
        any_part = np.zeros(len(data), dtype=bool)
        for values in floats:
            present = ~np.isnan(values)
            total += np.where(present, values, 0.0)
            any_part |= present
        for exposure, rule in (("reach", "interactions_exceed_reach"), ("impressions", "interactions_exceed_impressions")):
            if exposure not in data.columns:
                continue
            expo = _as_float(data[exposure])
            bad = any_part & ~np.isnan(expo) & (total > expo)
            for pos, pid in zip(np.flatnonzero(bad), ids.take(np.flatnonzero(bad))):
                detail = " + ".join(f"{c} {int(floats[j][pos])}" for j, c in enumerate(parts)
                                    if not np.isnan(floats[j][pos]))
                alone = [c for j, c in enumerate(parts) if not np.isnan(floats[j][pos]) and floats[j][pos] > expo[pos]]
                report.add(source_row=src[pos], action="flagged", rule=rule, column=exposure, post_id=pid,
                           message=f"interactions ({detail} = {int(total[pos])}) exceed {exposure} "
                                   f"{int(expo[pos])}" + (f"; {', '.join(alone)} alone already exceed(s) it"
                                                          if alone else ""),
                           original_value=int(expo[pos]))
    if "reach" in data.columns and "impressions" in data.columns and not clear:
        reach = _as_float(data["reach"])
        imp = _as_float(data["impressions"])
        bad = ~np.isnan(reach) & ~np.isnan(imp) & (imp < reach)
        for pos, pid in zip(np.flatnonzero(bad), ids.take(np.flatnonzero(bad))):
            report.add(source_row=src[pos], action="flagged", rule="impressions_below_reach", column="impressions",
                       post_id=pid, original_value=int(imp[pos]),
                       message=f"impressions {int(imp[pos])} are below reach {int(reach[pos])} "
                               f"(every reached user sees the post at least once)")
    if "interactions_reported" in data.columns and len(parts) == 3:
        block = np.column_stack([_as_float(data[c]) for c in parts])
        rep = _as_float(data["interactions_reported"])
        complete = ~np.isnan(rep) & ~np.any(np.isnan(block), axis=1)
        total = block.sum(axis=1)
        bad = complete & (total != rep)
        for pos, pid in zip(np.flatnonzero(bad), ids.take(np.flatnonzero(bad))):
            report.add(source_row=src[pos], action="flagged", rule="total_mismatch", column="interactions_reported",
                       post_id=pid, original_value=int(rep[pos]),
                       message=f"interactions_reported {int(rep[pos])} differs from likes + comments + shares "
                               f"= {int(total[pos])}")
    pid = data["post_id"]
    codes = _equality_codes(pid)  # -1: missing
    if len(codes) < 2 or (np.diff(codes) >= 0).all():  # numbered in order: a first occurrence starts a run
        seen_first = np.concatenate([[True], codes[1:] != codes[:-1]])[:len(codes)]
    else:
        seen_first = np.zeros(len(pid), dtype=bool)
        seen_first[np.unique(codes, return_index=True)[1]] = True
    dup_np = (codes >= 0) & ~seen_first
    if dup_np.any():
        first_row = pd.Series(src).groupby(pid.to_numpy(dtype=object), sort=False).transform("first").to_numpy()
        for pos, pid in zip(np.flatnonzero(dup_np), ids.take(np.flatnonzero(dup_np))):
            report.add(source_row=src[pos], action="flagged", rule="duplicate_post_id", column="post_id",
                       post_id=pid, original_value=pid,
                       message=f"post_id {pid!r} also in row {first_row[pos]} (the rows differ in "
                               f"other columns)")
