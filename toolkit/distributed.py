"""Partitioned data on Dask: reading, metrics and the account-level reduction beyond one machine.

The heavy, row-wise work (reading, parsing, validating, computing per-post metrics, summing per
cell) runs on Dask — a local threaded scheduler, a ``dask.distributed.LocalCluster`` or a remote
cluster named by its scheduler address — and calls the very functions of the in-memory path on
each partition, so results are identical (not merely close). The statistics then run on the
small reduced table (:func:`toolkit.aggregate.aggregate_posts` documents what is exact and what
is an approximation for count models).

Dask is imported inside the functions, so ``import toolkit`` stays light; install
``dask[dataframe]`` and ``distributed`` to use this module.

What is checked across partitions (one partition = one file, files in sorted name order)
-----------------------------------------------------------------------------------------
Exactly as by ``tk.read_posts`` on the concatenated files:

- every cell-level rule and the row-level consistency rules (they look at one row);
- ``duplicate_row`` and ``duplicate_post_id``: a first pass computes a 128-bit hash of every
  non-empty source row (two independent 64-bit ``pandas.util.hash_pandas_object`` keys) and of
  every kept post id; the hashes (32 bytes per row, not the rows) are brought together and the
  first occurrence in global row order is kept, as in memory. Hash equality stands in for the
  cell-by-cell confirmation of the in-memory path (a false match has probability about
  ``n**2 / 2**129``);
- ``source_row`` is the global data-row number (file offsets added), in the data, the report and
  the generated ``"row-<n>"`` post ids;
- categories of ``department``, ``platform`` and ``content_type`` are the union over partitions
  in the in-memory order.

Only within each file: ``label_variant`` (which spellings count as variants of each other, and,
with ``normalize_labels=True``, which spelling is kept, is decided per file) and the dataset-level
notes (encoding, delimiter, missing-cell counts), which are reported per file.
"""
from __future__ import annotations

import glob as _glob
import os
import warnings
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pandas as pd

from . import config
from ._validation import ToolkitWarning, message
from .data.quality import QualityReport

_SUFFIXES = (".csv", ".tsv", ".txt", ".parquet", ".pq")
_HASH_KEYS = ("0123456789abcdef", "fedcba9876543210")
_CATEGORY_ORDER = {"department": (config.DEPARTMENTS, True), "platform": (config.PLATFORMS, True),
                   "content_type": (config.CONTENT_TYPES, False)}


# ---------------------------------------------------------------------------------------------
# scheduler handling
# ---------------------------------------------------------------------------------------------
def _import_dask(func: str):
    try:
        import dask  # noqa: F401
        import dask.dataframe as dd
    except ImportError:  # pragma: no cover - depends on the environment
        raise ImportError(message(func, None, "dask[dataframe] to be installed", show_got=False,
                                  hint="Install it with pip install 'dask[dataframe]' distributed.")) from None
    return dd


@contextmanager
def _client(scheduler, func: str):
    """Yield a ``compute(*objs)`` function bound to ``scheduler``.

    None: Dask's current default (an active ``distributed.Client`` if one exists, else threads);
    a string: the address of a running scheduler (``"tcp://10.0.0.5:8786"``), connected for this
    call only; a ``distributed.Client``: used as is; "threads"/"processes"/"synchronous": local.
    """
    import dask
    if scheduler is None or scheduler in ("threads", "processes", "synchronous", "sync"):
        yield lambda *objs: dask.compute(*objs, scheduler=scheduler) if scheduler else dask.compute(*objs)
        return
    try:
        from distributed import Client
    except ImportError:  # pragma: no cover
        raise ImportError(message(func, "scheduler", "usable: the distributed package is not installed",
                                  scheduler, show_got=False)) from None
    if isinstance(scheduler, Client):
        yield lambda *objs: tuple(scheduler.gather(scheduler.compute(list(objs))))
        return
    if isinstance(scheduler, (str, os.PathLike)) and not isinstance(scheduler, bool):
        address = str(scheduler)
        try:
            client = Client(address, set_as_default=False, timeout="20s")
        except OSError as exc:
            raise ValueError(message(func, "scheduler", "the address of a reachable Dask scheduler", address,
                                     f"Could not connect ({exc}). Start one with `dask scheduler` or pass "
                                     f"scheduler=None for the local default.")) from None
        try:
            yield lambda *objs: tuple(client.gather(client.compute(list(objs))))
        finally:
            client.close()
        return
    raise TypeError(message(func, "scheduler", "None, a scheduler address (str), a distributed.Client, or "
                            "'threads'/'processes'/'synchronous'", type(scheduler).__name__))


# ---------------------------------------------------------------------------------------------
# reading
# ---------------------------------------------------------------------------------------------
def _files(source, func: str) -> list[str]:
    if isinstance(source, (list, tuple)):
        paths = [str(p) for p in source]
        if not paths or not all(isinstance(p, (str, os.PathLike)) for p in source):
            raise TypeError(message(func, "source", "a directory, a glob or a non-empty list of files", source))
    elif isinstance(source, (str, os.PathLike)):
        text = str(source)
        if Path(text).is_dir():
            paths = sorted(str(p) for p in Path(text).iterdir()
                           if p.is_file() and p.suffix.lower() in _SUFFIXES and not p.name.startswith((".", "_")))
        elif any(ch in text for ch in "*?["):
            paths = sorted(_glob.glob(text))
        elif Path(text).is_file():
            paths = [text]
        else:
            raise FileNotFoundError(message(func, "source", "an existing directory, glob or file", text))
    else:
        raise TypeError(message(func, "source", "a directory, a glob or a list of files",
                                type(source).__name__))
    if not paths:
        raise ValueError(message(func, "source", "a directory or glob matching at least one .csv/.tsv/.txt/"
                                 ".parquet file", str(source)))
    suffixes = {Path(p).suffix.lower() for p in paths}
    bad = sorted(s for s in suffixes if s not in _SUFFIXES)
    if bad:
        raise ValueError(message(func, "source", "files of types .csv, .tsv, .txt or .parquet", bad))
    return paths


def _hash_rows(frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    out = []
    for key in _HASH_KEYS:
        try:
            h = pd.util.hash_pandas_object(frame, index=False, hash_key=key)
        except TypeError:
            h = pd.util.hash_pandas_object(frame.astype(str), index=False, hash_key=key)
        out.append(h.to_numpy(dtype="uint64"))
    return out[0], out[1]


def _read_partition(path: str, offset: int, options: dict, *, hashes: bool):
    """read_posts on one file, renumbered to global rows; dedup rules left to the caller.

    Returns (data, entries, notes, n_rows_in, extra) where ``extra`` holds the hashes for the
    cross-partition duplicate checks (or None when ``hashes`` is False).
    """
    from .data import parsing, reading

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ToolkitWarning)
        data, report = reading.read_posts(path, **options)
    n_in = report.n_rows_in
    local_src = data["source_row"].to_numpy(dtype="int64")
    # generated ids carry the local row number: renumber them
    generated_rows = {e["source_row"] for e in report._entries if e["rule"] == "missing_post_id"}
    no_id_column = any(n.startswith("post_id: the source has no post_id column") for n in report.notes)
    pid = data["post_id"].astype("object").to_numpy(dtype=object, copy=True)
    if no_id_column:
        regen = np.ones(len(data), dtype=bool)
    else:
        regen = np.isin(local_src, np.fromiter(generated_rows, dtype="int64", count=len(generated_rows)))
    pid[regen] = [f"row-{r + offset}" for r in local_src[regen]]
    data["post_id"] = pd.array(pid, dtype="string")
    data["source_row"] = pd.array(local_src + offset, dtype="Int64")
    final_id = dict(zip(local_src.tolist(), pid.tolist()))

    entries = []
    dup_local = set()
    for e in report._entries:
        if e["rule"] in ("duplicate_row", "duplicate_post_id"):
            if e["rule"] == "duplicate_row":
                dup_local.add(e["source_row"])
            continue
        e = dict(e)
        local = e["source_row"]
        e["source_row"] = local + offset
        if local in final_id:
            e["post_id"] = None if final_id[local] is None else str(final_id[local])
        if e["rule"] == "missing_post_id":
            g = f"row-{local + offset}"
            e["new_value"] = g
            e["message"] = f"post_id is blank; generated {g!r}"
        entries.append(e)

    extra = None
    if hashes:
        raw, _, _, _ = reading._load(path, encoding=options.get("encoding"), delimiter=options.get("delimiter"),
                                     sheet_name=0)
        raw = reading._apply_mapping(raw, options.get("columns"), QualityReport())
        empty = {e["source_row"] for e in report._entries if e["rule"] == "empty_row"}
        rows = np.arange(1, len(raw) + 1, dtype="int64")
        eligible = ~np.isin(rows, np.fromiter(empty, dtype="int64", count=len(empty)))
        h1, h2 = _hash_rows(raw)
        if "post_id" in raw.columns:
            id_text = parsing._clean(parsing._to_text(reading._id_as_text(raw["post_id"])))
            id_text = id_text.astype("object").where(id_text.astype("object") != "", None)
            id_src = id_text.to_numpy(dtype=object)[eligible]
        else:
            id_src = np.full(int(eligible.sum()), None, dtype=object)
        p1, p2 = _hash_rows(pd.DataFrame({"p": data["post_id"]}))
        extra = {
            "rows": pd.DataFrame({"h1": h1[eligible], "h2": h2[eligible], "row": rows[eligible] + offset,
                                  "id": pd.array(id_src, dtype="string[pyarrow]")}),
            "kept": pd.DataFrame({"h1": p1, "h2": p2, "row": local_src + offset,
                                  "id": data["post_id"].astype("string[pyarrow]"),
                                  "missing": data["post_id"].isna().to_numpy(dtype=bool), "generated": regen}),
        }
    return data, entries, list(report.notes), n_in, extra


def _first_pass(path, options):
    """Stage run on a worker: everything the report needs, not the data (rows numbered locally)."""
    data, entries, notes, n_in, extra = _read_partition(path, 0, options, hashes=True)
    meta = data.iloc[:0].copy()
    meta.attrs = {}
    return {"entries": entries, "notes": notes, "n_rows_in": n_in, "meta": meta, "extra": extra,
            "n_kept": len(data)}


def _union_categories(column: str, metas: list[pd.DataFrame]) -> pd.CategoricalDtype:
    present = []
    for m in metas:
        for c in m[column].cat.categories:
            if c not in present:
                present.append(c)
    if column in _CATEGORY_ORDER:
        known, ordered = _CATEGORY_ORDER[column]
        first = [k for k in known if k in present]
        rest = sorted(str(v) for v in present if v not in set(known))
        return pd.CategoricalDtype(first + rest, ordered=ordered)
    return pd.CategoricalDtype(present, ordered=bool(metas[0][column].cat.ordered))


def _second_pass(path, offset, options, drop_rows, categories, index_start):
    """Stage building one data partition (lazy): read, renumber, drop global duplicates, unify."""
    data, _, _, _, _ = _read_partition(path, offset, options, hashes=False)
    if len(drop_rows):
        data = data[~np.isin(data["source_row"].to_numpy(dtype="int64"), drop_rows)]
    for col, dtype in categories.items():
        data[col] = pd.Categorical(data[col].astype("object"), dtype=dtype)
    data.index = pd.RangeIndex(index_start, index_start + len(data))
    data.attrs = {}
    return data


def read_posts_dask(source, *, columns=None, encoding=None, delimiter=None, timezone=None, date_format=None,
                    normalize_labels=False, source_name=None, scheduler=None):
    """Read a directory (or glob, or list) of Parquet/CSV exports as a Dask DataFrame, with a full report.

    Parameters
    ----------
    source : str, pathlib.Path or list of paths
        A directory (its ``.csv``/``.tsv``/``.txt``/``.parquet`` files, except names starting
        with "." or "_"), a glob such as
        ``"exports/2025-*.parquet"``, or a list of files. Files are read in sorted name order
        (list order for a list); each file becomes one partition.
    columns, encoding, delimiter, timezone, date_format, normalize_labels
        As in :func:`toolkit.read_posts`, applied to every file.
    source_name : str or None, default=None
        Name used in the report; defaults to ``str(source)``.
    scheduler : None, str or distributed.Client, default=None
        Where the first pass runs: None uses Dask's default (an active ``distributed.Client``,
        else local threads); a string is the address of a running scheduler
        (``"tcp://host:8786"``), connected for this call only; or a ``Client``. The returned
        frame is lazy and computes on whatever scheduler is active when you compute it.

    Returns
    -------
    data : dask.dataframe.DataFrame
        Lazy, one partition per file, known divisions (a global 0..n-1 index). Same columns,
        dtypes and values as ``tk.read_posts`` on the concatenated files (see the module
        docstring for what is checked across files): ``post_id``, ``account``,
        ``co_departments`` (string), ``department``, ``platform`` (ordered category),
        ``posted_at`` (datetime64[ns, UTC]), ``content_type`` (category), ``paid`` (boolean),
        count columns (Int64), ``source_row`` (Int64, global 1-based data-row number), then
        extra source columns.
    report : QualityReport
        Computed now (first pass). ``n_rows_in`` rows over all files, one entry per excluded /
        repaired / flagged row and problem with global ``source_row`` numbers; notes per file,
        prefixed with the file name, plus a note on what was checked across files.

    Raises
    ------
    TypeError, ValueError, FileNotFoundError
        As :func:`toolkit.read_posts`, plus: no matching files, files whose columns or dtypes
        differ (they cannot form one table).

    Notes
    -----
    Two passes: the first (computed at the call) reads every file on the workers and returns only
    the report entries, the row hashes for the duplicate checks and the dtypes; the second is the
    lazy frame, which reads the files again when computed, drops the rows found to duplicate an
    earlier file and sets the union categories. Memory on the client: the row hashes, row
    numbers and post ids of every row (for the duplicate checks) and the report entries — a peak
    of 4.6 GB for 20 million rows in benchmarks/bench_scan.py, i.e. about 230 bytes per row, far
    below the data but not constant; on each worker: one file at a time (2.3 GB peak for files of
    1 million rows). Split big exports into files of about 1 million rows. ``strict=`` is not offered: inspect
    ``report`` instead. Missing data: as :func:`toolkit.read_posts` (never read as zero).

    Validated against ``tk.read_posts`` on the concatenated files: identical data
    (``assert_frame_equal(check_exact=True)``) and identical report entries, for Parquet and CSV,
    with duplicates planted across files (tests/test_distributed.py).

    References
    ----------
    Rocklin, M. (2015). Dask: Parallel computation with blocked algorithms and task scheduling.
    Proceedings of the 14th Python in Science Conference, 126-132.
    https://doi.org/10.25080/Majora-7b98e3ed-013

    Examples
    --------
    >>> import tempfile, toolkit as tk
    >>> from toolkit.distributed import read_posts_dask
    >>> sim = tk.simulate_organization(n_accounts_per_department=2, posts_per_account=10, seed=3)
    >>> folder = tempfile.mkdtemp()
    >>> raw = sim.data.drop(columns="source_row")
    >>> raw.iloc[:60].to_parquet(f"{folder}/part-0.parquet"); raw.iloc[60:].to_parquet(f"{folder}/part-1.parquet")
    >>> data, report = read_posts_dask(folder, scheduler="synchronous")
    >>> data.npartitions, report.n_rows_in == len(sim.data)
    (2, True)
    >>> int(data["source_row"].max().compute(scheduler="synchronous")) == len(sim.data)
    True
    >>> import shutil; shutil.rmtree(folder)
    """
    func = "read_posts_dask"
    dd = _import_dask(func)
    import dask
    from .data import reading

    reading._check_options(columns=columns, encoding=encoding, delimiter=delimiter, sheet_name=0,
                           timezone=timezone, date_format=date_format, normalize_labels=normalize_labels,
                           strict=False, source_name=source_name)
    paths = _files(source, func)
    options = {"columns": columns, "encoding": encoding, "delimiter": delimiter, "timezone": timezone,
               "date_format": date_format, "normalize_labels": normalize_labels}
    first = [dask.delayed(_first_pass, pure=False)(p, options) for p in paths]
    with _client(scheduler, func) as compute:
        results = compute(*first)
    results = list(results)

    # -- dtypes must agree (up to categories) ---------------------------------------------------
    metas = [r["meta"] for r in results]
    ref_cols = list(metas[0].columns)
    for p, m in zip(paths, metas):
        if list(m.columns) != ref_cols:
            raise ValueError(message(func, "source", "files with the same columns", f"{p}: {list(m.columns)}",
                                     f"The first file has {ref_cols}. Read the files that differ on their own "
                                     f"(read_posts(path)) and combine the results with pd.concat, where a missing "
                                     f"column becomes <NA>; or add the missing column to those files."))
        for c in ref_cols:
            a, b = metas[0][c].dtype, m[c].dtype
            if isinstance(a, pd.CategoricalDtype) and isinstance(b, pd.CategoricalDtype):
                continue
            if a != b:
                raise ValueError(message(func, "source", "files whose columns have the same types",
                                         f"{p}: {c!r} is {b}, not {a}",
                                         "Give the column the same type in every file (e.g. all numbers)."))
    categories = {c: _union_categories(c, metas) for c in ref_cols
                  if isinstance(metas[0][c].dtype, pd.CategoricalDtype)}

    # -- global row numbers ---------------------------------------------------------------------
    n_in = [r["n_rows_in"] for r in results]
    offsets = np.concatenate([[0], np.cumsum(n_in)[:-1]]).astype("int64")
    rows_frames, kept_frames, entries = [], [], []
    for off, r in zip(offsets, results):
        ex = r["extra"]
        off = int(off)
        rows_frames.append(ex["rows"].assign(row=ex["rows"]["row"] + off))
        k = ex["kept"].assign(row=ex["kept"]["row"] + off)
        gen = k["generated"].to_numpy(dtype=bool)
        gen_rows = set(k["row"].to_numpy(dtype="int64")[gen].tolist())
        if off and gen.any():  # ids "row-<n>" generated for blank ids carry the file's local row number
            ids = k["id"].to_numpy(dtype=object, na_value=None, copy=True)
            ids[gen] = [f"row-{v}" for v in k["row"].to_numpy(dtype="int64")[gen]]
            h1, h2 = _hash_rows(pd.DataFrame({"p": pd.array(ids, dtype="string")}))
            k = k.assign(id=pd.array(ids, dtype="string[pyarrow]"), h1=h1, h2=h2)
        kept_frames.append(k)
        for e in r["entries"]:
            e["source_row"] += off
            if e["source_row"] in gen_rows:
                g = f"row-{e['source_row']}"
                e["post_id"] = g
                if e["rule"] == "missing_post_id":
                    e["new_value"], e["message"] = g, f"post_id is blank; generated {g!r}"
        entries.append(r["entries"])

    # -- duplicate rows across all files (first occurrence in global order is kept) -------------
    allrows = pd.concat(rows_frames, ignore_index=True)
    first_row = allrows.groupby(["h1", "h2"], sort=False)["row"].transform("min").to_numpy(dtype="int64")
    is_dup = allrows["row"].to_numpy(dtype="int64") != first_row
    dup_rows = allrows["row"].to_numpy(dtype="int64")[is_dup]
    dup_first = first_row[is_dup]
    dup_ids = allrows["id"][is_dup].to_numpy(dtype=object, na_value=None)
    del allrows
    dup_set = set(dup_rows.tolist())

    # -- duplicate post ids among the kept rows --------------------------------------------------
    kept_rows = [k["row"].to_numpy(dtype="int64") for k in kept_frames]
    kept = pd.concat(kept_frames, ignore_index=True)
    kept = kept[~kept["row"].isin(dup_rows) & ~kept["missing"]]
    pid_first = kept.groupby(["h1", "h2"], sort=False)["row"].transform("min").to_numpy(dtype="int64")
    pid_dup = kept["row"].to_numpy(dtype="int64") != pid_first
    pdup_rows = kept["row"].to_numpy(dtype="int64")[pid_dup]
    pdup_first = pid_first[pid_dup]
    pdup_ids = kept["id"][pid_dup].to_numpy(dtype=object, na_value=None)
    del kept

    # -- the report -----------------------------------------------------------------------------
    report = QualityReport(source=source_name if source_name is not None else str(source))
    report.n_rows_in = int(sum(n_in))
    merged = [e for part in entries for e in part if e["source_row"] not in dup_set]
    report._entries.extend(merged)
    for row, firstr, pid in zip(dup_rows.tolist(), dup_first.tolist(), dup_ids.tolist()):
        report.add(source_row=row, action="excluded", rule="duplicate_row", column="",
                   post_id=None if pid is None or pid is pd.NA else pid,
                   message=f"identical to row {firstr} in every column; the first occurrence is kept")
    for row, firstr, pid in zip(pdup_rows.tolist(), pdup_first.tolist(), pdup_ids.tolist()):
        report.add(source_row=row, action="flagged", rule="duplicate_post_id", column="post_id", post_id=pid,
                   original_value=pid,
                   message=f"post_id {pid!r} also in row {firstr} (the rows differ in other columns)")
    report.note(f"Read {len(paths)} file(s) as {len(paths)} Dask partition(s), in this order: "
                + ", ".join(Path(p).name for p in paths[:10]) + (" …" if len(paths) > 10 else "") + ".")
    report.note("Checked across files: duplicate rows and duplicate post ids (128-bit row hashes), global "
                "row numbers, category union. Checked within each file only: label variants; the notes "
                "below are per file.")
    common = set.intersection(*(set(r["notes"]) for r in results))
    for n in results[0]["notes"]:
        if n in common:
            report.note(n)
    for p, r in zip(paths, results):
        for n in r["notes"]:
            if n not in common:
                report.note(f"{Path(p).name}: {n}")

    # -- the lazy frame -------------------------------------------------------------------------
    dup_sorted = np.sort(dup_rows)
    n_kept = []
    parts = []
    start = 0
    for p, off, r, n, k in zip(paths, offsets, results, n_in, kept_rows):
        lo, hi = np.searchsorted(dup_sorted, [off + 1, off + n + 1])
        drop = dup_sorted[lo:hi]
        drop = drop[np.isin(drop, k)]  # rows kept within their file but duplicating an earlier file
        kept_here = r["n_kept"] - len(drop)
        parts.append(dask.delayed(_second_pass, pure=True)(p, int(off), options, drop, categories, start))
        n_kept.append(kept_here)
        start += kept_here
    meta = metas[0].copy()
    for col, dtype in categories.items():
        meta[col] = pd.Categorical(meta[col].astype("object"), dtype=dtype)
    meta.index = pd.RangeIndex(0, 0)
    bounds = np.concatenate([[0], np.cumsum(n_kept)]).astype("int64")
    if all(k > 0 for k in n_kept):
        divisions = [int(b) for b in bounds[:-1]] + [int(bounds[-1]) - 1]
    else:
        divisions = None
    data = dd.from_delayed(parts, meta=meta, divisions=divisions, verify_meta=False)
    if len(report.excluded_rows) + int(start) != report.n_rows_in:
        raise AssertionError("read_posts_dask: rows in != rows kept + rows excluded")  # pragma: no cover
    return data, report


# ---------------------------------------------------------------------------------------------
# metrics and reductions
# ---------------------------------------------------------------------------------------------
def _check_dask_frame(data, func: str):
    dd = _import_dask(func)
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
    from .metrics import _inputs, _resolve, summarize_metrics
    by_list = [by] if isinstance(by, str) else by
    meta_out = summarize_metrics(data._meta, by=by, metrics=metrics, denominator=denominator)  # validation
    chosen, _ = _resolve(data._meta, metrics, denominator, func)
    chosen = [m for m in chosen if m.denominator is not None]
    needed = list(dict.fromkeys(list(by_list) + [c for m in chosen for c in _inputs(m)]))
    names = [m.name for m in chosen]
    keys = list(by_list) + ["metric"]
    import dask
    level = [dask.delayed(_summarize_partial)(p, list(by_list), names, denominator)
             for p in data[needed].to_delayed()]
    while len(level) > 1:
        level = [dask.delayed(_summarize_combine)(level[i:i + 8], keys) for i in range(0, len(level), 8)]
    with _client(scheduler, func) as compute:
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

    from .aggregate import _check_args, _combine, _finish, _partial
    by_list, count_list, exposure_list = _check_args(data._meta, by, period, time, counts, exposures, nan_policy,
                                                     func)
    group_keys = by_list + (["period"] if period is not None else [])
    columns = list(dict.fromkeys(by_list + count_list + exposure_list + ([time] if period is not None else [])))
    kw = dict(by_list=by_list, period=period, time=time, count_list=count_list, exposure_list=exposure_list,
              nan_policy=nan_policy, func=func)
    level = [dask.delayed(_partial)(p, **kw) for p in data[columns].to_delayed()]
    while len(level) > 1:  # tree reduction, 8 partial tables at a time
        level = [dask.delayed(_combine)(level[i:i + 8], group_keys=group_keys) for i in range(0, len(level), 8)]
    if data.npartitions == 1:
        level = [dask.delayed(_combine)(level, group_keys=group_keys)]
    with _client(scheduler, func) as compute:
        (sums,) = compute(level[0])
    return _finish(sums, group_keys=group_keys, count_list=count_list, exposure_list=exposure_list, func=func)


__all__ = ["read_posts_dask", "add_metrics_dask", "summarize_metrics_dask", "aggregate_posts_dask"]
