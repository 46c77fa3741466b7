"""Read messy real exports into the canonical post-level table (``tk.read_posts``).

:func:`read_posts` reads a CSV/TSV/semicolon text file, an Excel workbook, a Parquet file or a
DataFrame; maps its columns to the canonical names of :data:`toolkit.config.POST_SCHEMA`; parses
numbers, dates, flags and labels; validates the rows; and returns the table together with a
:class:`~toolkit.data.quality.QualityReport` in which every excluded, repaired or flagged row has
an entry (nothing is lost silently).

Rules (the ``rule`` column of the report; names are stable)
-------------------------------------------------------------
Whole rows (action "excluded"):

- ``empty_row``: every canonical cell of the row is blank or a missing token.
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

Dataset-level facts (encoding, delimiter, column mapping, counts of missing cells per column,
assumed time zone, day/month order, platform and content-type mappings) are report notes.
"""
from __future__ import annotations

import codecs
import io
import os
import zoneinfo
from pathlib import Path
from typing import Any, Mapping

import numpy as np
import pandas as pd

from toolkit import config
from toolkit._validation import _did_you_mean, check_option, message
from toolkit.data import parsing, profiles
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


#: Above this total size, read_posts(engine="auto") keeps a collection of files lazy (Dask).
DASK_THRESHOLD_BYTES = 2 * 1024 ** 3
_COLLECTION_SUFFIXES = (".csv", ".tsv", ".txt", ".parquet")


def _collection_files(source):
    """The files of a directory, glob or list source, or None for a single file / DataFrame."""
    import glob as _glob

    if isinstance(source, (list, tuple)):
        if not all(isinstance(p, (str, Path)) for p in source):
            raise TypeError(message("read_posts", "source", "a file path, a directory, a glob, a list of file paths "
                                    "or a pandas.DataFrame", type(source).__name__,
                                    "A list must hold file paths (str or pathlib.Path)."))
        return [Path(p) for p in source]
    if isinstance(source, (str, Path)):
        text = str(source)
        if Path(text).is_dir():
            return sorted(p for p in Path(text).iterdir() if p.is_file() and p.suffix.lower() in _COLLECTION_SUFFIXES
                          and not p.name.startswith((".", "_")))
        if any(ch in text for ch in "*?[") and not Path(text).exists():
            return [Path(p) for p in sorted(_glob.glob(text))]
    return None


def _read_collection(source, files, *, engine, strict, source_name, **options):
    func = "read_posts"
    if strict:
        raise ValueError(message(func, "strict", "False when reading a directory, glob or list of files", strict,
                                 "Read the files one by one with strict=True, or inspect the returned report."))
    if not files:
        raise ValueError(message(func, "source", "a directory, glob or list matching at least one CSV/Parquet file",
                                 str(source)))
    from ..distributed import read_posts_dask

    total = sum(Path(f).stat().st_size for f in files if Path(f).exists())
    chosen = engine if engine != "auto" else ("dask" if total > DASK_THRESHOLD_BYTES else "pandas")
    data, report = read_posts_dask(source, source_name=source_name, **options)
    report.note(f"read {len(files)} file(s), {total:,} bytes, with engine={chosen!r}"
                + (f" (engine='auto': threshold {DASK_THRESHOLD_BYTES:,} bytes)" if engine == "auto" else ""))
    if chosen == "dask":
        return data, report
    frame = data.compute().reset_index(drop=True)
    frame.attrs["source"] = report.source
    report.check(frame)
    return frame, report


def read_posts(source, *, columns: Mapping[str, str] | None = None, encoding: str | None = None,
               delimiter: str | None = None, sheet_name: int | str = 0, timezone: str | None = None,
               date_format: str | None = None, normalize_labels: bool = False, strict: bool = False,
               source_name: str | None = None, engine: str = "auto",
               profile: str | None = "auto") -> tuple[pd.DataFrame, QualityReport]:
    """Read a post-level export into the canonical table, with a report of every change.

    Parameters
    ----------
    source : str, pathlib.Path, list of paths or pandas.DataFrame
        A ``.csv``/``.tsv``/``.txt`` delimited text file, an ``.xlsx`` workbook, a ``.parquet``
        file, or a DataFrame (copied, never mutated). A directory, a glob (``"exports/*.parquet"``)
        or a list of CSV/Parquet files is read file by file with the same validation (see
        `engine`); duplicates are checked across files.
    columns : dict or None, default=None
        Maps source column names to canonical names, e.g. ``{"Lifetime Post Total Reach": "reach"}``.
        Source columns already named exactly like a canonical column are used without mapping.
    encoding : str or None, default=None
        Text encoding of a text file. None tries UTF-8 (with or without BOM), then
        charset-normalizer, and raises a ValueError if no confident guess exists.
    delimiter : str or None, default=None
        Field delimiter of a text file; None sniffs one of ``, ; \\t |``.
    sheet_name : int or str, default=0
        Worksheet of an Excel file.
    timezone : str or None, default=None
        IANA time zone of naive times in ``posted_at`` (e.g. "Asia/Bangkok"); None assumes UTC
        and notes it.
    date_format : str or None, default=None
        ``strftime`` format forcing how ``posted_at`` is read.
    normalize_labels : bool, default=False
        Merge department/platform labels that differ only by case, whitespace, invisible
        characters or full-width forms (each changed cell is recorded). The spelling kept is the
        matching label of ``config.DEPARTMENTS``/``config.PLATFORMS`` if any, else the most
        frequent cleaned spelling (ties: the first in the file). Without it such variants are
        kept and flagged.
    strict : bool, default=False
        If True, raise ``DataQualityError`` (from ``toolkit.data.quality``) on the first problem
        instead of returning a report.
    source_name : str or None, default=None
        Name used in the report and ``data.attrs["source"]``; defaults to the path or "DataFrame".
    engine : {"auto", "pandas", "dask"}, default="auto"
        For a directory, glob or list: "dask" returns a lazy ``dask.dataframe.DataFrame``
        (one partition per file, :func:`toolkit.distributed.read_posts_dask`), "pandas" computes
        it into memory, and "auto" chooses "dask" when the files total more than
        ``DASK_THRESHOLD_BYTES`` (2 GiB) and "pandas" otherwise (the choice is noted in the
        report). For a single file or DataFrame only "auto" and "pandas" apply.
    profile : str or None, default="auto"
        Export profile of a platform export (``tk.list_profiles()``: "crowdtangle",
        "meta_business_suite", "facebook_insights", "x_api_v2", "x_analytics", "instagram",
        "linkedin", "generic", ...): maps its columns, reads X API v2 ``.json``/``.jsonl``, and adds
        ``is_repost``/``is_reply`` (see :mod:`toolkit.data.profiles`). "auto" applies the one
        profile whose columns the file has, only when ``columns`` is None (for a directory, glob or
        list: file by file); None never applies one. A named profile: single files and DataFrames.

    Returns
    -------
    data : pandas.DataFrame
        One row per kept post, RangeIndex. Columns: the canonical columns present in the source,
        in :data:`toolkit.config.POST_SCHEMA` order and dtypes (see ``tk.config.schema_frame()``):

        - ``post_id`` (string): from the source, or ``"row-<source_row>"`` when absent/blank
        - ``account``, ``co_departments`` (string)
        - ``department``, ``platform`` (ordered category; known labels first)
        - ``posted_at`` (datetime64[ns, UTC])
        - ``content_type`` (category; lower case, mapped to photo/video/status/link/other where obvious)
        - ``paid`` (boolean)
        - ``audience``, ``reach``, ``impressions``, ``likes``, ``comments``, ``shares``, ``clicks``,
          ``video_views``, ``interactions_reported`` (Int64; missing stays ``<NA>``, never 0)
        - ``source_row`` (Int64): 1-based data-row number in the source (header and blank lines
          not counted); joins to ``report.entries``

        followed by every other source column under its original name (text, or Int64/Float64
        when all its values are clean numbers); with an export profile, also ``is_repost`` and
        ``is_reply`` (boolean, see `profile`). ``data.attrs["source"]`` holds the source name.
    report : QualityReport
        ``n_rows_in`` rows read, one entry per excluded/repaired/flagged row and problem (rules
        in the module docstring), and notes on encoding, delimiter, mapping and missing cells.

    Raises
    ------
    TypeError
        ``source``, ``columns`` or an option has the wrong type.
    ValueError
        Unknown file type, a mapping to a non-canonical name or from a missing column, no
        canonical column at all, undecodable bytes or an unconfident encoding guess, a
        malformed text file, or an unknown time zone.
    DataQualityError
        With ``strict=True``, on the first problem.

    Notes
    -----
    Text files are read entirely as text (``dtype=str``) and parsed per column, so every change
    is recorded. Blank cells and "NA", "N/A", "-", "null" are missing data: they are counted per
    column in a note, never given entries. Negative, non-integer, percent and unparseable counts
    become missing with an entry, so the rest of the row survives. Parquet files and DataFrames
    keep their typed columns (numbers are checked, text columns are parsed). The report
    satisfies ``n_rows_in == len(data) + n_rows_excluded`` (checked before returning).

    Validated against the UCI "Facebook metrics" file (Moro et al., 2016): all 500 rows are read,
    its 6 documented blank cells come out missing, and its ``Total Interactions`` equals
    like + comment + share wherever all three are present (tests/test_reading.py).

    References
    ----------
    Moro, S., Rita, P., & Vala, B. (2016). Predicting social media performance metrics and
    evaluation of the impact on brand building: A data mining approach. *Journal of Business
    Research*, 69(9), 3341-3351. https://doi.org/10.1016/j.jbusres.2016.02.010

    Examples
    --------
    >>> import pandas as pd
    >>> import toolkit as tk
    >>> raw = pd.DataFrame({"Post": ["a", "b", "b"], "Team": ["Marketing", "marketing ", "marketing "],
    ...                     "Likes": ["1,200", "-3", "-3"]})
    >>> data, report = tk.read_posts(raw, columns={"Post": "post_id", "Team": "department", "Likes": "likes"})
    >>> list(data.columns)
    ['post_id', 'department', 'likes', 'source_row']
    >>> data["likes"].tolist()
    [1200, <NA>]
    >>> report.entries[["source_row", "action", "rule"]].values.tolist()
    [[2, 'repaired', 'negative_count'], [2, 'flagged', 'label_variant'], [3, 'excluded', 'duplicate_row']]
    """
    _check_options(columns=columns, encoding=encoding, delimiter=delimiter, sheet_name=sheet_name,
                   timezone=timezone, date_format=date_format, normalize_labels=normalize_labels,
                   strict=strict, source_name=source_name)
    check_option(engine, ("auto", "pandas", "dask"), "read_posts", "engine")
    profiles.check_profile(profile)
    files = _collection_files(source)
    if files is not None and profile not in ("auto", None):
        raise ValueError(message(_FUNC, "profile", "'auto' or None for a directory, glob or list", profile,
                                 "Read the export files one by one with profile=..., then pd.concat."))
    if files is not None:
        return _read_collection(source, files, engine=engine, strict=strict, columns=columns, encoding=encoding,
                                delimiter=delimiter, timezone=timezone, date_format=date_format,
                                normalize_labels=normalize_labels, source_name=source_name)
    if engine == "dask":
        raise ValueError(message("read_posts", "engine", "'auto' or 'pandas' for a single file or DataFrame",
                                 engine, "Pass a directory, a glob or a list of files to read them with Dask."))
    if profiles.is_json(source):  # export profiles: X API v2 JSON/JSONL (toolkit/data/profiles.py)
        raw, notes = profiles.read_x_api_json(source)
        name, kind = str(source), "x_api_json"
    else:
        raw, name, kind, notes = _load(source, encoding=encoding, delimiter=delimiter, sheet_name=sheet_name)
    name = source_name if source_name is not None else name
    report = QualityReport(source=name)
    for text in notes:
        report.note(text)
    raw, columns, used_profile = profiles.prepare(raw, profile=profile, columns=columns, kind=kind, report=report)
    report.n_rows_in = len(raw)
    raw = _apply_mapping(raw, columns, report)

    canonical = [c for c in config.POST_COLUMNS if c in raw.columns and c != "source_row"]
    if not canonical:
        cols = [str(c) for c in raw.columns]
        shown = ", ".join(repr(c) for c in cols[:12]) + (" …" if len(cols) > 12 else "")
        raise ValueError(message(_FUNC, "columns", "a mapping that names at least one canonical column",
                                 columns, f"None of the source columns ({shown}) is a canonical name "
                                 f"({', '.join(config.POST_COLUMNS[:-1])}). Pass e.g. "
                                 f"columns={{'Likes': 'likes'}}."))
    extras = [c for c in raw.columns if c not in canonical]
    n = len(raw)
    source_row = np.arange(1, n + 1, dtype="int64")

    # -- whole-row exclusions, judged on the source values ---------------------------------------
    keep = np.ones(n, dtype=bool)
    empty = _empty_rows(raw[canonical])
    for pos in np.flatnonzero(empty):
        report.add(source_row=pos + 1, action="excluded", rule="empty_row", column="",
                   message="every canonical value in the row is missing")
    keep &= ~empty
    dup_pos, dup_first = _duplicate_rows(raw, ~empty)
    id_text = None
    if "post_id" in raw.columns:
        id_text = parsing._clean(parsing._to_text(_id_as_text(raw["post_id"])))
    for pos, first in zip(dup_pos, dup_first):
        report.add(source_row=pos + 1, action="excluded", rule="duplicate_row", column="",
                   post_id=None if id_text is None else (id_text.iloc[pos] or None),
                   message=f"identical to row {first + 1} in every column; the first occurrence is kept")
    keep[dup_pos] = False

    rows = raw.iloc[np.flatnonzero(keep)].reset_index(drop=True)
    src = source_row[keep]
    out: dict[str, Any] = {}
    missing_counts: dict[str, int] = {}

    def record(column: str, result: parsing.ParseResult, ids=None) -> None:
        missing_counts[column] = result.n_missing
        for text in result.notes:
            report.note(text)
        _add_problems(report, result.problems, src, column, ids)

    # -- post_id ------------------------------------------------------------------------------
    if "post_id" in rows.columns:
        pid = parsing._clean(parsing._to_text(_id_as_text(rows["post_id"])))
        blank = parsing._missing_mask(pid).to_numpy(dtype=bool, copy=True)
        generated = pd.Series([f"row-{r}" for r in src[blank]], dtype="str")
        pid = pid.astype("object")
        pid[blank] = generated.to_numpy(dtype=object)
        for r, g in zip(src[blank], generated):
            report.add(source_row=r, action="repaired", rule="missing_post_id", column="post_id", post_id=g,
                       message=f"post_id is blank; generated {g!r}", original_value="", new_value=g)
        post_id = pd.Series(pid, dtype="string")
    else:
        post_id = pd.Series([f"row-{r}" for r in src], dtype="string")
        report.note("post_id: the source has no post_id column; generated 'row-<source_row>' ids.")
    out["post_id"] = post_id
    ids = post_id.to_numpy(dtype=object)

    # -- typed columns -------------------------------------------------------------------------
    for col in canonical:
        if col == "post_id":
            continue
        values = rows[col]
        if col in config.COUNT_COLUMNS:
            result = parsing.parse_count_series(values, column=col)
            record(col, result, ids)
            out[col] = result.values.reset_index(drop=True)
        elif col == "paid":
            result = parsing.parse_flag_series(values, column=col)
            record(col, result, ids)
            out[col] = result.values.reset_index(drop=True)
        elif col == "posted_at":
            result = parsing.parse_datetime_series(values, timezone=timezone, date_format=date_format,
                                                   excel_serials=(kind == "excel"), column=col)
            record(col, result, ids)
            out[col] = result.values.reset_index(drop=True)
        elif col in ("department", "platform"):
            labels, n_missing = _labels(values, col, normalize=normalize_labels, report=report, src=src, ids=ids)
            missing_counts[col] = n_missing
            out[col] = pd.Series(config.ordered_categorical(labels, _LABEL_KNOWN[col]))
        elif col == "content_type":
            ctype, n_missing = _content_types(values, report)
            missing_counts[col] = n_missing
            out[col] = ctype
        else:  # account, co_departments
            text = parsing._clean(parsing._to_text(values))
            miss = parsing._missing_mask(text)
            missing_counts[col] = int(miss.sum())
            out[col] = text.astype("object").where(~miss, None).astype("string").reset_index(drop=True)
    out["source_row"] = pd.Series(pd.array(src, dtype="Int64"))

    data = pd.DataFrame({c: out[c] for c in config.POST_COLUMNS if c in out})
    data = data.astype({c.name: c.dtype for c in config.POST_SCHEMA
                        if c.name in data.columns and c.dtype not in ("category",)})
    extra_frame = _extras(rows, extras, report, typed=(kind in ("dataframe", "parquet")))
    if len(extra_frame.columns):
        data = pd.concat([data, extra_frame], axis=1)
    data = data.reset_index(drop=True)

    missing_text = ", ".join(f"{c} {k}" for c, k in missing_counts.items() if k)
    if missing_text:
        report.note(f"Missing values (blank cells or NA tokens; kept as missing, not repaired), per column: "
                    f"{missing_text}.")

    # -- consistency checks ---------------------------------------------------------------------
    _consistency(data, report)
    data = profiles.finish(data, report, used_profile)

    data.attrs = {"source": name}
    report.check(data)
    if strict:
        report.raise_first()
    return data, report


# ---------------------------------------------------------------------------------------------
# options and loading
# ---------------------------------------------------------------------------------------------
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


def _load(source, *, encoding, delimiter, sheet_name) -> tuple[pd.DataFrame, str, str, list[str]]:
    """Return (raw frame, source name, kind, notes)."""
    if isinstance(source, pd.DataFrame):
        if source.columns.duplicated().any():
            dup = [str(c) for c in source.columns[source.columns.duplicated()]]
            raise ValueError(message(_FUNC, "source", "a DataFrame with unique column names",
                                     f"duplicated {dup}"))
        frame = source.copy(deep=True).reset_index(drop=True)
        frame.attrs = {}
        return frame, "DataFrame", "dataframe", []
    if not isinstance(source, (str, os.PathLike)):
        raise TypeError(message(_FUNC, "source", "a file path (str or pathlib.Path) or a pandas.DataFrame",
                                type(source).__name__))
    path = Path(source)  # directories and globs never get here: read_posts hands them to _read_collection
    text_path = str(source)
    if not path.exists():
        raise FileNotFoundError(message(_FUNC, "source", "an existing file", text_path))
    suffix = path.suffix.lower()
    notes: list[str] = []
    if suffix in TEXT_SUFFIXES:
        frame, notes = _read_text(path, encoding=encoding, delimiter=delimiter)
        return frame, text_path, "text", notes
    if suffix in EXCEL_SUFFIXES:
        try:
            frame = pd.read_excel(path, sheet_name=sheet_name, dtype=str, keep_default_na=False,
                                  engine="openpyxl")
        except (ValueError, IndexError) as exc:
            raise ValueError(message(_FUNC, "sheet_name", "a sheet in the workbook", sheet_name, str(exc))) from None
        frame = frame.fillna("")
        notes.append(f"Read Excel sheet {sheet_name!r} as text.")
        return frame, text_path, "excel", notes
    if suffix in PARQUET_SUFFIXES:
        frame = pd.read_parquet(path)
        frame = frame.reset_index(drop=True)
        frame.attrs = {}
        return frame, text_path, "parquet", notes
    raise ValueError(message(_FUNC, "source", "a .csv, .tsv, .txt, .xlsx or .parquet file (or X API v2 .json/.jsonl)",
                             text_path,
                             "Save the export in one of these formats, or read it with pandas and pass the "
                             "DataFrame."))


def _read_text(path: Path, *, encoding, delimiter) -> tuple[pd.DataFrame, list[str]]:
    raw = path.read_bytes()
    notes: list[str] = []
    if encoding is None:
        detected = parsing.detect_encoding(raw, func=_FUNC)
        enc = detected.encoding
        notes.append(f"Encoding: {enc} (detected: {detected.method}).")
    else:
        enc = encoding
        err = parsing._decode_error(raw, enc)
        if err is not None:
            raise ValueError(message(_FUNC, "encoding", "the encoding of the file", encoding,
                                     f"Byte 0x{raw[err.start:err.start + 1].hex().upper()} at byte offset "
                                     f"{err.start} cannot be decoded as {encoding}. Try encoding=None to detect "
                                     f"it, or encoding='cp1252' / 'gb18030'."))
        notes.append(f"Encoding: {enc} (given).")
    text = raw.decode(enc)
    if text.startswith("\ufeff"):
        text = text[1:]
        notes.append("Removed a byte-order mark at the start of the file.")
    if delimiter is None:
        delim = parsing.sniff_delimiter(text[:65536])
        notes.append(f"Delimiter: {delim!r} (detected).")
    else:
        delim = delimiter
        notes.append(f"Delimiter: {delim!r} (given).")
    if not text.strip():
        raise ValueError(message(_FUNC, "source", "a file with a header row", str(path), "The file is empty."))
    try:
        frame = pd.read_csv(io.StringIO(text), sep=delim, dtype=str, keep_default_na=False, na_filter=False,
                            engine="c", skip_blank_lines=True)
    except pd.errors.ParserError as exc:
        raise ValueError(message(_FUNC, "source", f"a well-formed delimited file (delimiter {delim!r})", str(path),
                                 f"pandas could not parse it: {str(exc).strip()}. Check the delimiter (pass delimiter=...) "
                                 f"and quoting.")) from None
    return frame.fillna(""), notes


def _apply_mapping(raw: pd.DataFrame, columns, report: QualityReport) -> pd.DataFrame:
    names = [str(c) for c in raw.columns]
    canonical = [c for c in config.POST_COLUMNS if c != "source_row"]
    mapping = dict(columns or {})
    targets: dict[str, str] = {}
    for src_name, target in mapping.items():
        if src_name not in raw.columns:
            shown = ", ".join(repr(c) for c in names[:12]) + (" …" if len(names) > 12 else "")
            raise ValueError(message(_FUNC, "columns", "keyed by columns that exist in the source", src_name,
                                     f"Available columns include {shown}.{_did_you_mean(str(src_name), names)}"))
        if target == "source_row":
            raise ValueError(message(_FUNC, "columns", "mapped to canonical names other than 'source_row'", target,
                                     "source_row is generated by read_posts (the data-row number)."))
        if target not in canonical:
            raise ValueError(message(_FUNC, "columns", "mapped to canonical column names", target,
                                     f"Canonical names: {', '.join(canonical)}.{_did_you_mean(str(target), canonical)}"))
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
    if "source_row" in renamed.columns:
        renamed = renamed.rename(columns={"source_row": "original_source_row"})
        report.note("The source had a 'source_row' column; it is kept as 'original_source_row' "
                    "(source_row numbers the rows of this source).")
    return renamed


def _id_as_text(values: pd.Series) -> pd.Series:
    """Render numeric ids without a spurious '.0'."""
    if pd.api.types.is_float_dtype(values.dtype):
        num = values.astype("float64")
        if np.all(np.isnan(num) | (np.floor(num) == num)):
            return values.astype("Int64").astype("string")
    return values


def _empty_rows(canon: pd.DataFrame) -> np.ndarray:
    empty = np.ones(len(canon), dtype=bool)
    for col in canon.columns:
        s = canon[col]
        if pd.api.types.is_string_dtype(s.dtype) or s.dtype == object:
            miss = parsing._missing_mask(parsing._clean(parsing._to_text(s))).to_numpy(dtype=bool, copy=True)
        else:
            miss = s.isna().to_numpy(dtype=bool, copy=True)
        empty &= miss
    return empty


def _duplicate_rows(raw: pd.DataFrame, eligible: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Positions of rows identical to an earlier eligible row, and the first such row."""
    if len(raw) == 0 or len(raw.columns) == 0:
        return np.array([], dtype="int64"), np.array([], dtype="int64")
    try:
        hashes = pd.util.hash_pandas_object(raw, index=False).to_numpy()
    except TypeError:
        hashes = pd.util.hash_pandas_object(raw.astype(str), index=False).to_numpy()
    pos = np.flatnonzero(eligible)
    h = pd.Series(hashes[pos])
    codes, _ = pd.factorize(h)
    # first occurrence of each hash among the eligible rows (positions are increasing)
    first_idx = pd.Series(np.arange(len(codes))).groupby(codes).transform("min").to_numpy()
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


def _add_problems(report: QualityReport, problems: pd.DataFrame, src: np.ndarray, column: str, ids) -> None:
    for pos, rule, action, msg, orig, new in problems.itertuples(index=False, name=None):
        report.add(source_row=int(src[pos]), action=action, rule=rule, message=msg, column=column,
                   post_id=None if ids is None else ids[pos], original_value=orig, new_value=new)


# ---------------------------------------------------------------------------------------------
# labels
# ---------------------------------------------------------------------------------------------
def _labels(values: pd.Series, column: str, *, normalize: bool, report: QualityReport, src, ids):
    """Return (labels as object array with None for missing, number of missing cells)."""
    text = parsing._to_text(values).reset_index(drop=True)
    miss = parsing._missing_mask(parsing._clean(text)).to_numpy(dtype=bool, copy=True)
    n_missing = int(miss.sum())
    present = text[~miss]
    counts = present.value_counts(sort=False)
    uniq = pd.Series(counts.index.astype(str), dtype="str")
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
    labels = text.astype("object").where(~miss, None)
    changed = {u: m for u, m in mapping.items() if u != m and not (column == "platform" and
                                                                  parsing.normalize_label(pd.Series([u])).str.casefold().iloc[0]
                                                                  in PLATFORM_ALIASES)}
    if changed:
        variants_of: dict[str, list[str]] = {}
        for u, m in mapping.items():
            variants_of.setdefault(m, []).append(u)
        affected = labels.isin(list(changed)).to_numpy(dtype=bool, copy=True)
        for pos in np.flatnonzero(affected):
            orig = labels.iloc[pos]
            new = changed[orig]
            variants = ", ".join(repr(v) for v in variants_of[new])
            if normalize:
                report.add(source_row=int(src[pos]), action="repaired", rule="label_variant", column=column,
                           post_id=ids[pos], original_value=orig, new_value=new,
                           message=f"{column}: {orig!r} merged into {new!r} (variants: {variants})")
            else:
                report.add(source_row=int(src[pos]), action="flagged", rule="label_variant", column=column,
                           post_id=ids[pos], original_value=orig,
                           message=f"{column}: {orig!r} differs from {new!r} only by case, spacing, invisible "
                                   f"or full-width characters (variants: {variants}); pass "
                                   f"normalize_labels=True to merge them")
        if normalize:
            report.note(f"{column}: merged label variants into {sorted(set(changed.values()))} "
                        f"(normalize_labels=True).")
    if normalize or column == "platform":
        apply = mapping if normalize else {u: m for u, m in mapping.items() if u not in changed}
        if apply:
            mapped = labels.map(apply)
            labels = mapped.where(mapped.notna(), labels)
    return labels.to_numpy(dtype=object), n_missing


def _content_types(values: pd.Series, report: QualityReport) -> tuple[pd.Series, int]:
    text = parsing._clean(parsing._to_text(values)).reset_index(drop=True)
    miss = parsing._missing_mask(text).to_numpy(dtype=bool, copy=True)
    low = parsing.normalize_label(text).str.lower()
    mapped = low.map(CONTENT_TYPE_ALIASES)
    unknown = sorted(set(low[~miss & mapped.isna().to_numpy(dtype=bool, copy=True)]))
    renamed = sorted({f"{a!r} -> {b!r}" for a, b in zip(text[~miss & mapped.notna().to_numpy(dtype=bool)],
                                                         mapped[~miss & mapped.notna().to_numpy(dtype=bool)])
                      if a != b})
    if renamed:
        report.note(f"content_type: mapped {', '.join(renamed[:10])}{' …' if len(renamed) > 10 else ''}.")
    if unknown:
        report.note(f"content_type: values not among {config.CONTENT_TYPES} kept (lower case): "
                    f"{', '.join(repr(u) for u in unknown[:10])}.")
    result = mapped.fillna(low).astype("object").where(~miss, None)
    cats = [c for c in config.CONTENT_TYPES if c in set(result.dropna())]
    cats += sorted(set(result.dropna()) - set(cats))
    return pd.Series(pd.Categorical(result, categories=cats)), int(miss.sum())


# ---------------------------------------------------------------------------------------------
# extras and consistency
# ---------------------------------------------------------------------------------------------
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
        cleaned = parsing._clean(text)
        miss = parsing._missing_mask(cleaned)
        vals = cleaned[~miss]
        if len(vals) and vals.str.fullmatch(r"[+-]?[0-9]{1,18}").all():
            out[col] = pd.to_numeric(cleaned.where(~miss, None)).astype("Int64")
            converted.append(f"{col!r} (Int64)")
        elif len(vals) and vals.str.fullmatch(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?").all():
            out[col] = pd.to_numeric(cleaned.where(~miss, None)).astype("Float64")
            converted.append(f"{col!r} (Float64)")
        else:
            out[col] = text.where(text != "", None) if not typed else s
    if extras:
        report.note(f"Extra (non-canonical) columns kept: {', '.join(repr(str(c)) for c in extras)}"
                    + (f"; converted to numbers: {', '.join(converted)}" if converted else "") + ".")
    return pd.DataFrame(out, index=pd.RangeIndex(len(rows)))


def _consistency(data: pd.DataFrame, report: QualityReport) -> None:
    src = data["source_row"].to_numpy(dtype="int64")
    ids = data["post_id"].to_numpy(dtype=object)
    parts = [c for c in config.INTERACTION_COLUMNS if c in data.columns]
    if parts:
        block = data[parts].astype("Float64").to_numpy(dtype="float64", na_value=np.nan)
        total = np.nansum(block, axis=1)
        any_part = ~np.all(np.isnan(block), axis=1)
        for exposure, rule in (("reach", "interactions_exceed_reach"), ("impressions", "interactions_exceed_impressions")):
            if exposure not in data.columns:
                continue
            expo = data[exposure].astype("Float64").to_numpy(dtype="float64", na_value=np.nan)
            bad = any_part & ~np.isnan(expo) & (total > expo)
            for pos in np.flatnonzero(bad):
                detail = " + ".join(f"{c} {int(block[pos, j])}" for j, c in enumerate(parts)
                                    if not np.isnan(block[pos, j]))
                alone = [c for j, c in enumerate(parts) if not np.isnan(block[pos, j]) and block[pos, j] > expo[pos]]
                report.add(source_row=src[pos], action="flagged", rule=rule, column=exposure, post_id=ids[pos],
                           message=f"interactions ({detail} = {int(total[pos])}) exceed {exposure} "
                                   f"{int(expo[pos])}" + (f"; {', '.join(alone)} alone already exceed(s) it"
                                                          if alone else ""),
                           original_value=int(expo[pos]))
    if "reach" in data.columns and "impressions" in data.columns:
        reach = data["reach"].astype("Float64").to_numpy(dtype="float64", na_value=np.nan)
        imp = data["impressions"].astype("Float64").to_numpy(dtype="float64", na_value=np.nan)
        bad = ~np.isnan(reach) & ~np.isnan(imp) & (imp < reach)
        for pos in np.flatnonzero(bad):
            report.add(source_row=src[pos], action="flagged", rule="impressions_below_reach", column="impressions",
                       post_id=ids[pos], original_value=int(imp[pos]),
                       message=f"impressions {int(imp[pos])} are below reach {int(reach[pos])} "
                               f"(every reached user sees the post at least once)")
    if "interactions_reported" in data.columns and len(parts) == 3:
        block = data[list(parts)].astype("Float64").to_numpy(dtype="float64", na_value=np.nan)
        rep = data["interactions_reported"].astype("Float64").to_numpy(dtype="float64", na_value=np.nan)
        complete = ~np.isnan(rep) & ~np.any(np.isnan(block), axis=1)
        total = block.sum(axis=1)
        bad = complete & (total != rep)
        for pos in np.flatnonzero(bad):
            report.add(source_row=src[pos], action="flagged", rule="total_mismatch", column="interactions_reported",
                       post_id=ids[pos], original_value=int(rep[pos]),
                       message=f"interactions_reported {int(rep[pos])} differs from likes + comments + shares "
                               f"= {int(total[pos])}")
    pid = data["post_id"]
    dup = pid.notna() & pid.duplicated(keep="first")
    if dup.any():
        dup_np = dup.to_numpy(dtype=bool, copy=True)
        first_row = pd.Series(src).groupby(pid.to_numpy(dtype=object), sort=False).transform("first").to_numpy()
        for pos in np.flatnonzero(dup_np):
            report.add(source_row=src[pos], action="flagged", rule="duplicate_post_id", column="post_id",
                       post_id=ids[pos], original_value=ids[pos],
                       message=f"post_id {ids[pos]!r} also in row {first_row[pos]} (the rows differ in "
                               f"other columns)")
