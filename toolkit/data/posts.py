"""``tk.read_posts``, the front door: one export, a DataFrame, or many files (a folder, a glob, a list).

One file (or a DataFrame) is read by :func:`toolkit.data.reading.read_file`, which documents every rule of
the quality report. Many files go to an engine: "pandas" (:func:`toolkit.data.collection.read_files`, in
memory, no Dask needed) or "dask" (:mod:`toolkit.data.dask_reading`, lazy, imported only when chosen), both
giving the same table and report as one read of the concatenated files.
"""
from __future__ import annotations

import importlib.util
import tempfile
from pathlib import Path
from typing import Mapping

import pandas as pd

from toolkit._validation import check_option, message
from toolkit.data import collection, profiles
from toolkit.data.quality import QualityReport
from toolkit.data.reading import (EXCEL_SUFFIXES, PARQUET_SUFFIXES, TEXT_SUFFIXES, _FUNC, _read_excel,
                                  check_file_options, read_file)


#: Above this total size, read_posts(engine="auto") keeps a collection of files lazy (Dask).
DASK_THRESHOLD_BYTES = 2 * 1024 ** 3
_COLLECTION_SUFFIXES = TEXT_SUFFIXES + PARQUET_SUFFIXES  # read as partitions (Excel workbooks: see _skip_reason)


def _collection(source) -> tuple[list | None, list]:
    """(files to read, [(name, reason) of files skipped]) for a directory, glob or list; (None, []) otherwise."""
    import glob as _glob

    if isinstance(source, (list, tuple)):
        if not all(isinstance(p, (str, Path)) for p in source):
            raise TypeError(message("read_posts", "source", "a file path, a directory, a glob, a list of file paths "
                                    "or a pandas.DataFrame", type(source).__name__,
                                    "A list must hold file paths (str or pathlib.Path)."))
        return [Path(p) for p in source], []
    if isinstance(source, (str, Path)):
        text = str(source)
        if Path(text).is_dir():
            files, skipped = [], []
            for p in sorted(Path(text).iterdir()):
                reason = _skip_reason(p)
                if reason is None:
                    files.append(p)
                else:
                    skipped.append((p.name, reason))
            return files, skipped
        if any(ch in text for ch in "*?[") and not Path(text).exists():
            return [Path(p) for p in sorted(_glob.glob(text))], []
    return None, []


def _skip_reason(path: Path) -> str | None:
    """Why a directory entry is not read as part of the collection (None: it is read)."""
    if path.is_dir():
        return "a folder (folders are not searched recursively)"
    if path.name.startswith((".", "_")):
        return ("its name starts with '.' or '_', which marks hidden or bookkeeping files (e.g. _SUCCESS, "
                ".DS_Store); pass a list of files to read it")
    suffix = path.suffix.lower()
    if suffix in EXCEL_SUFFIXES:
        try:
            import openpyxl  # noqa: F401
        except ImportError:
            return ("an Excel workbook, and openpyxl (needed to read it) is not installed: pip install openpyxl, "
                    "or save it as CSV")
        return None
    if suffix not in _COLLECTION_SUFFIXES:
        return "not a .csv, .tsv, .txt, .parquet or .xlsx file"
    return None


def _dask_installed() -> bool:
    """Whether dask can be imported (checked without importing it)."""
    try:
        return importlib.util.find_spec("dask") is not None
    except (ImportError, ValueError):  # blocked, or sys.modules["dask"] = None
        return False


def _read_collection(source, files, *, engine, strict, source_name, skipped=(), **options):
    """read_posts on many files: the pandas engine (:mod:`toolkit.data.collection`) or a registered one (Dask)."""
    func = "read_posts"
    if strict:
        raise ValueError(message(func, "strict", "False when reading a directory, glob or list of files", strict,
                                 "Read the files one by one with strict=True, or inspect the returned report."))
    skipped = list(skipped)
    total = sum(Path(f).stat().st_size for f in files if Path(f).exists())
    chosen = engine if engine != "auto" else ("dask" if total > DASK_THRESHOLD_BYTES else "pandas")
    fallback = ""
    if engine == "auto" and chosen == "dask" and not _dask_installed():
        chosen = "pandas"
        fallback = "; dask is not installed, so the files were read into memory (pip install 'dask[dataframe]')"
    excel = [Path(f) for f in files if Path(f).suffix.lower() in EXCEL_SUFFIXES]
    if excel and chosen == "dask":
        files = [f for f in files if Path(f) not in excel]
        skipped += [(p.name, "an Excel workbook: engine='dask' reads only CSV/Parquet partitions; pass "
                             "engine='pandas', or save it as CSV") for p in excel]
        excel = []
    if not files:
        named = "; ".join(f"{n} ({r})" for n, r in skipped[:5])
        raise ValueError(message(func, "source", "a directory, glob or list matching at least one CSV/Parquet file",
                                 str(source), f"Skipped: {named}." if named else None))
    if excel and options.get("header_row") is not None:
        raise ValueError(message(func, "header_row", "None when the files include an Excel workbook",
                                 options["header_row"], "Read the workbook on its own with header_row=..., or save "
                                 "it as CSV."))

    with tempfile.TemporaryDirectory(prefix="read_posts_excel_") as tmp:
        parts, excel_notes = [], []
        for f in files:
            if Path(f) in excel:  # one partition per file: the sheet as text, through a temporary Parquet copy
                loaded = _read_excel(Path(f), sheet_name=0, header_row=None,
                                     duplicate_columns=options.get("duplicate_columns", "raise"))
                copy = Path(tmp) / f"{Path(f).name}.parquet"
                loaded.frame.to_parquet(copy)
                parts.append(str(copy))
                excel_notes.append(f"{Path(f).name}: Excel workbook, first sheet read as text (it appears as "
                                   f"{copy.name!r} in the file order and per-file notes)"
                                   + (f"; {'; '.join(loaded.notes[1:])}" if len(loaded.notes) > 1 else "") + ".")
            else:
                parts.append(str(f))
        name = source_name if source_name is not None else str(source)
        if chosen == "dask":  # imported only now; it imports Dask inside its functions
            from toolkit.data.dask_reading import read_collection_dask
            # the files listed here (the folder is not listed again by the engine's own rules)
            data, report = read_collection_dask(parts, func=func, source_name=name, **options)
        else:  # pandas: this layer only, no Dask needed
            data, report = collection.read_files(parts, read_file=read_file, options=options, func=func,
                                                 source=source, source_name=name)
        report.note(f"read {len(files)} file(s), {total:,} bytes, with engine={chosen!r}"
                    + (f" (engine='auto': threshold {DASK_THRESHOLD_BYTES:,} bytes{fallback})"
                       if engine == "auto" else ""))
        for text in excel_notes:
            report.note(text)
        for file_name, reason in skipped:
            report.note(f"Skipped {file_name!r}: {reason}.")
        if chosen == "dask":
            return data, report
        frame = data
    frame.attrs["source"] = report.source
    report.check(frame)
    return frame, report


def read_posts(source, *, columns: Mapping[str, str] | None = None, encoding: str | None = None,
               delimiter: str | None = None, sheet_name: int | str = 0, timezone: str | None = None,
               date_format: str | None = None, normalize_labels: bool = False, strict: bool = False,
               source_name: str | None = None, engine: str = "auto", profile: str | None = "auto",
               header_row: int | None = None, duplicate_columns: str = "raise",
               allow_unparseable: bool | list = False) -> tuple[pd.DataFrame, QualityReport]:
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
        Source columns already named exactly like a canonical column are used without mapping; such a
        column may be moved aside under a non-canonical name (``{"likes": "likes_original"}``) so
        that another column can take its place.
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
        (one partition per file, :func:`toolkit.data.dask_reading.read_posts_dask`), "pandas" computes
        it into memory, and "auto" chooses "dask" when the files total more than
        ``DASK_THRESHOLD_BYTES`` (2 GiB) and "pandas" otherwise (the choice is noted in the
        report; without dask installed "auto" stays with "pandas" and says so). "pandas" needs
        no Dask (:mod:`toolkit.data.collection`). For a single file or DataFrame only "auto" and
        "pandas" apply.
    profile : str or None, default="auto"
        Export profile of a platform export (``tk.list_profiles()``: "crowdtangle",
        "meta_business_suite", "facebook_insights", "x_api_v2", "x_analytics", "instagram",
        "linkedin", "generic", ...): maps its columns, reads X API v2 ``.json``/``.jsonl``, and adds
        ``is_repost``/``is_reply`` (see :mod:`toolkit.data.profiles`). "auto" applies the one
        profile whose columns the file has, only when ``columns`` is None (for a directory, glob or
        list: file by file); None never applies one. A named profile: single files and DataFrames.
    header_row : int or None, default=None
        Line of a text or Excel file that holds the column names, counted from 1 as a spreadsheet
        numbers rows (pandas' ``header=0`` is ``header_row=1``). None finds it: the first line,
        unless the lines above the column names look like a title (fewer than half as many
        non-empty fields as a typical line, or only the first field filled), which are then
        skipped with a note. Lines above the header are never data rows.
    duplicate_columns : {"raise", "number"}, default="raise"
        What to do when two columns have the same name: "raise" stops with the names and
        positions; "number" keeps them all, the second as ``"<name> (2)"``, and so on (noted), so
        that ``columns=`` can choose one.
    allow_unparseable : bool or list of str, default=False
        Columns (canonical names, e.g. ``["posted_at"]``; True for all) that are read even when
        more than half of their non-empty values cannot be parsed (see Notes). Without it such a
        column stops the read with the failing values and the fix (e.g. ``date_format=``).

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
        when all its values are clean numbers that a number holds exactly: no leading zeros, at
        most 18 digits for Int64 and 15 for Float64, so long ids stay text); with an export
        profile, also ``is_repost`` and
        ``is_reply`` (boolean, see `profile`). ``data.attrs["source"]`` holds the source name.
    report : QualityReport
        ``n_rows_in`` rows read, one entry per excluded/repaired/flagged row and problem (rules
        in the module docstring), and notes on encoding, delimiter, mapping and missing cells.

    Raises
    ------
    TypeError
        ``source``, ``columns`` or an option has the wrong type.
    ValueError
        Unknown file type, a mapping to a non-canonical name or from a missing column (the
        message suggests the closest name, and ``header_row=`` when the names sit on another
        line), no canonical column at all, undecodable bytes or an unconfident encoding guess, a
        malformed text file (more than half of the data rows with another field count than the
        header, or an unclosed quote), repeated column names (unless
        ``duplicate_columns="number"``), a count, ``paid`` or ``posted_at`` column that mostly
        cannot be parsed (unless ``allow_unparseable``; Excel serial day numbers and time-zone
        abbreviations get their own fix in the message), or an unknown time zone. Also: a text-named
        file that holds a workbook, Parquet, gzip or a web page; an Excel sheet whose formula cells
        have no saved results (they would read as blank); a column MultiIndex.
    DataQualityError
        With ``strict=True``, on the first problem.

    Notes
    -----
    Text files are read entirely as text (``dtype=str``) and parsed per column, so every change
    is recorded. Every data row must have as many fields as the header: a row with more or fewer
    (an unquoted delimiter or line break inside a value, a cut-off last line) is excluded with a
    ``wrong_field_count`` entry instead of shifting its values into other columns; an empty
    field after the last column (a trailing delimiter) is recognised and ignored (noted). Rows
    that are not posts are excluded and named: repeated header lines (``repeated_header``), a
    descriptive second header line such as Meta's (``descriptive_header``) and summary rows
    labelled "Total", "Sum", "Average", "合计" … (``summary_row``; ``SUMMARY_LABEL_PATTERN``).
    Blank cells and "NA", "N/A", "-", "null" are missing data: they are counted per column in a
    note, never given entries. If more than half (``UNPARSEABLE_SHARE``) of the non-empty values
    of a count, ``paid`` or ``posted_at`` column cannot be parsed, the format was not understood:
    the read stops with examples and the fix, unless ``allow_unparseable`` names the column. A
    DataFrame's (or Parquet file's) index is kept as leading column(s) when it is not an unnamed
    RangeIndex (noted), so a ``post_id`` index is used as the post id. Negative, non-integer,
    percent and unparseable counts (including typed numbers at or beyond 2**63 and infinities)
    become missing with an entry, so the rest of the row survives. Parquet files and DataFrames
    keep their typed columns (numbers are checked, text columns are parsed). The report
    satisfies ``n_rows_in == len(data) + n_rows_excluded`` (checked before returning).

    Validated against the UCI "Facebook metrics" file (Moro et al., 2016): all 500 rows are read,
    its 6 documented blank cells come out missing, and its ``Total Interactions`` equals
    like + comment + share wherever all three are present (tests/test_reading.py).

    See Also
    --------
    load_dataset : Load a registered real dataset as a canonical table with its quality report.
    list_datasets : List the real datasets that :func:`load_dataset` can load.
    check_engagement : Flag engagement-specific data problems (repeated counts, placeholder times, disjoint
        periods).
    list_profiles : List the export profiles that ``tk.read_posts(..., profile=...)`` understands.
    assign_departments : Add each post's department from an org chart of accounts, including team changes over
        time.
    read_posts_dask : Read many exports as a lazy Dask DataFrame with the same report.

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
    check_file_options(_FUNC, columns=columns, encoding=encoding, delimiter=delimiter, timezone=timezone,
                       date_format=date_format, normalize_labels=normalize_labels, source_name=source_name,
                       header_row=header_row, duplicate_columns=duplicate_columns,
                       allow_unparseable=allow_unparseable, sheet_name=sheet_name, strict=strict)
    check_option(engine, ("auto", "pandas", "dask"), "read_posts", "engine")
    profiles.check_profile(profile)
    files, skipped = _collection(source)
    if files is not None and profile not in ("auto", None):
        raise ValueError(message(_FUNC, "profile", "'auto' or None for a directory, glob or list", profile,
                                 "Read the export files one by one with profile=..., then pd.concat."))
    if files is not None:
        return _read_collection(source, files, engine=engine, strict=strict, skipped=skipped, columns=columns,
                                encoding=encoding, delimiter=delimiter, timezone=timezone, date_format=date_format,
                                normalize_labels=normalize_labels, source_name=source_name, header_row=header_row,
                                duplicate_columns=duplicate_columns, allow_unparseable=allow_unparseable)
    if engine == "dask":
        raise ValueError(message("read_posts", "engine", "'auto' or 'pandas' for a single file or DataFrame",
                                 engine, "Pass a directory, a glob or a list of files to read them with Dask."))
    read = read_file(source, columns=columns, encoding=encoding, delimiter=delimiter, sheet_name=sheet_name,
                     timezone=timezone, date_format=date_format, normalize_labels=normalize_labels, strict=strict,
                     source_name=source_name, profile=profile, header_row=header_row,
                     duplicate_columns=duplicate_columns, allow_unparseable=allow_unparseable)
    return read.data, read.report
