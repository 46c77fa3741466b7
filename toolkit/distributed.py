"""Partitioned data on Dask: reading, metrics and the account-level reduction beyond one machine.

The heavy, row-wise work (reading, parsing, validating, computing per-post metrics, summing per
cell) runs on Dask — a local threaded scheduler, a ``dask.distributed.LocalCluster`` or a remote
cluster named by its scheduler address — and calls the very functions of the in-memory path on
each partition, so results are identical (not merely close). The statistics then run on the
small reduced table (:func:`toolkit.aggregate.aggregate_posts` documents what is exact and what
is an approximation for count models).

Dask is imported inside the functions, so ``import toolkit`` stays light; install
``dask[dataframe]`` and ``distributed`` to use this module.

What is checked where (one partition = one file, files in sorted name order)
----------------------------------------------------------------------------
Exactly as by ``tk.read_posts`` on the concatenated files:

- every cell-level rule and the row-level rules that look at one row: on the workers, by
  ``read_posts`` itself on each file;
- ``duplicate_row`` and ``duplicate_post_id``: on the cluster. A light first stage loads each
  file (no parsing or checks) to count its rows, so every file's global row offset is known when
  it is read; then each worker hashes (128 bits: two independent 64-bit
  ``pandas.util.hash_pandas_object`` keys) the rows of its file that are eligible as in memory
  (kept, or excluded only as duplicates: an empty, summary, repeated-header or wrong-field-count
  row is nobody's first copy) and the post id of every row it kept, as (hash, global row) pairs,
  which go to the shuffle as soon as the file is read (no worker waits holding the pairs of every
  file). The pairs are shuffled by hash (Dask's p2p shuffle on a distributed cluster, which spills
  to disk; the in-memory "tasks" shuffle otherwise) into one bucket per file, so all copies of a
  hash meet in one bucket; there the first occurrence in global row order is found. Only the
  duplicate rows (with their first copy) and the members of repeated post-id groups come back to
  the client, which decides the post-id duplicates among the rows finally kept by comparing the
  id text itself. Hash equality of rows stands in for the cell-by-cell confirmation of the
  in-memory path (a false match has probability about ``n**2 / 2**129``);
- ``source_row`` is the global data-row number (file offsets added), in the data, the report and
  the generated ``"row-<n>"`` post ids;
- categories of ``department``, ``platform`` and ``content_type`` are the union over partitions
  in the in-memory order.

Only within each file: ``label_variant`` (which spellings count as variants of each other, and,
with ``normalize_labels=True``, which spelling is kept, is decided per file), the share of
unreadable values that stops a read (``allow_unparseable``), the header detection
(``header_row``, ``duplicate_columns``) and the dataset-level notes (encoding, delimiter,
missing-cell counts), which are reported per file.

Memory
------
The client holds the report (one entry per problem), one empty frame per file (the dtypes) and
the duplicates found: nothing per row (benchmarks/bench_scan.py: client peak RSS 190 MB at 2
million rows and 194 MB at 5 million, as for a plain Dask group-by). A worker holds one file
being read (``read_posts`` on a partition) plus its part of the hash shuffle: two records per
row, about 60-70 bytes by the column widths; a bucket holds the pairs of about one file, and
Dask's p2p shuffle keeps what is in transit on disk; a first-pass result is released as soon as
its summary and pairs are taken (at most 3 of 50 were seen held on a worker). Measured worker
peak with 100,000-row files: 438/438 MB at 2 million rows, 503/492 MB at 5 million
(``read_posts`` alone on the same files: about 300 MB at both sizes; plain Dask: 260 MB). The
remaining growth, about 40 bytes per row of the files a worker read, is not explained yet (p2p's
buffers are bounded by ``distributed.p2p.comm.buffer`` and ``distributed.p2p.storage.buffer``).
Split big exports into files of at most about 1 million rows. ``_read_posts_in_memory``
runs the same per-file reads and cross-file checks in one process without Dask (for the
``engine="pandas"`` path of ``tk.read_posts`` on a folder).
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
    """read_posts on one file, renumbered to global rows; cross-file duplicate rules left to the caller.

    Returns (data, entries, notes, n_rows_in, extra). ``entries`` (global rows; generated ids
    ``"row-<global row>"``) leave out this file's own ``duplicate_row``/``duplicate_post_id``
    entries (decided across files). ``extra`` (None unless
    ``hashes``) holds this file's input to the cross-file duplicate checks, rows numbered locally:
    ``rows`` (two 64-bit hashes of every row eligible for ``duplicate_row``: the rows kept or
    excluded as duplicates, as in memory; rows excluded by another rule can be no row's first
    copy), ``ids`` (every kept row's post id and whether it was generated) and ``dup_local``
    (this file's own duplicate rows with their post ids).
    """
    from .data import reading

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ToolkitWarning)
        data, report = reading.read_posts(path, **options)
    n_in = report.n_rows_in
    local_src = data["source_row"].to_numpy(dtype="int64")
    # generated ids carry the local row number: renumber them
    generated_rows = {e["source_row"] for e in report._entries if e["rule"] == "missing_post_id"}
    no_id_column = any(n.startswith("post_id: the source has no post_id column") for n in report.notes)
    if no_id_column:
        regen = np.ones(len(data), dtype=bool)
    else:
        regen = np.isin(local_src, np.fromiter(generated_rows, dtype="int64", count=len(generated_rows)))
    if offset:
        pid = data["post_id"].astype("object").to_numpy(dtype=object, copy=True)
        pid[regen] = [f"row-{r + offset}" for r in local_src[regen]]
        data["post_id"] = pd.array(pid, dtype="string")
    data["source_row"] = pd.array(local_src + offset, dtype="Int64")
    regen_set = set(local_src[regen].tolist())

    entries = []
    dup_local = {}
    for e in report._entries:
        if e["rule"] in ("duplicate_row", "duplicate_post_id"):
            if e["rule"] == "duplicate_row":
                dup_local[e["source_row"]] = e["post_id"]
            continue
        e = dict(e)
        local = e["source_row"]
        e["source_row"] = local + offset
        if local in regen_set:
            g = f"row-{local + offset}"
            e["post_id"] = g
            if e["rule"] == "missing_post_id":
                e["new_value"] = g
                e["message"] = f"post_id is blank; generated {g!r}"
        entries.append(e)

    extra = None
    if hashes:
        raw, _, _, _ = reading._load(path, encoding=options.get("encoding"), delimiter=options.get("delimiter"),
                                     sheet_name=0, header_row=options.get("header_row"),
                                     duplicate_columns=options.get("duplicate_columns", "raise"))
        if len(raw) > n_in:  # an export profile took leading rows as part of the header
            raw = raw.iloc[len(raw) - n_in:]
        raw = reading._apply_mapping(raw, options.get("columns"), QualityReport())
        # eligible for duplicate_row, as in memory: not excluded by another rule (empty, summary,
        # repeated header, wrong field count, ...)
        other = {e["source_row"] for e in report._entries
                 if e["action"] == "excluded" and e["rule"] != "duplicate_row"}
        rows = np.arange(1, len(raw) + 1, dtype="int64")
        eligible = ~np.isin(rows, np.fromiter(other, dtype="int64", count=len(other)))
        h1, h2 = _hash_rows(raw)
        extra = {
            "rows": pd.DataFrame({"h1": h1[eligible], "h2": h2[eligible], "row": rows[eligible]}),
            "ids": pd.DataFrame({"id": data["post_id"].astype("string[pyarrow]"), "row": local_src,
                                 "generated": regen}),
            "dup_local": dup_local,
        }
    return data, entries, list(report.notes), n_in, extra


def _count_rows(path, options) -> int:
    """``report.n_rows_in`` of read_posts on one file, from the load alone (the offsets come first)."""
    from .data import profiles, reading

    raw, _, kind, _ = reading._load(path, encoding=options.get("encoding"), delimiter=options.get("delimiter"),
                                    sheet_name=0, header_row=options.get("header_row"),
                                    duplicate_columns=options.get("duplicate_columns", "raise"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ToolkitWarning)
        raw, _, _ = profiles.prepare(raw, profile="auto", columns=options.get("columns"), kind=kind,
                                     report=QualityReport())
    return len(raw)


def _first_pass(path, options, offsets, index, expected_rows):
    """Stage run on a worker: the report part (small) and this file's (hash, global row) pairs.

    The offsets are known before (from :func:`_count_rows`), so the pairs go to the shuffle as
    soon as the file is read: no worker waits holding the hashes of every file.
    """
    offset = int(offsets[index])
    data, entries, notes, n_in, extra = _read_partition(path, offset, options, hashes=True)
    if n_in != expected_rows:  # pragma: no cover - the two loads must agree
        raise AssertionError(f"read_posts_dask: {path}: {n_in} rows read, {expected_rows} counted")
    meta = data.iloc[:0].copy()
    meta.attrs = {}
    return {"summary": {"entries": entries, "notes": notes, "n_rows_in": n_in, "meta": meta,
                        "n_kept": len(data), "dup_local": extra["dup_local"]},
            "keys": _keys({"rows": extra["rows"], "ids": extra["ids"]}, offsets, index)}


def _first_keys(first, summary):
    """The pairs for the shuffle; taking ``summary`` makes it wait for (and so schedule promptly) the
    task extracting the summary, after which the whole first-pass result can be released."""
    return first["keys"]


def _summary(first):
    return first["summary"]


def _offsets(n_in: list) -> np.ndarray:
    return np.concatenate([[0], np.cumsum(n_in)[:-1]]).astype("int64")


#: columns of the frame shuffled by hash for the cross-file duplicate checks
_KEY_META = pd.DataFrame({"h1": pd.Series([], dtype="uint64"), "h2": pd.Series([], dtype="uint64"),
                          "row": pd.Series([], dtype="int64"), "kind": pd.Series([], dtype="int8"),
                          "id": pd.Series([], dtype="string[pyarrow]")})
_ROW, _ID, _GENERATED_ID = 0, 1, 2


def _keys(first, offsets, index: int) -> pd.DataFrame:
    """One file's rows and post ids as (hash, global row) pairs, to be shuffled by hash (on a worker)."""
    off = int(offsets[index])
    rows, ids = first["rows"], first["ids"]
    gen = ids["generated"].to_numpy(dtype=bool)
    id_text = ids["id"]
    if gen.any():  # generated ids "row-<n>" carry the global row number
        text = id_text.to_numpy(dtype=object, na_value=None, copy=True)
        text[gen] = [f"row-{r + off}" for r in ids["row"].to_numpy(dtype="int64")[gen]]
        id_text = pd.Series(pd.array(text, dtype="string[pyarrow]"))
    i1, i2 = _hash_rows(pd.DataFrame({"p": id_text}))
    n_r = len(rows)
    return pd.DataFrame({
        "h1": np.concatenate([rows["h1"].to_numpy(dtype="uint64"), i1]),
        "h2": np.concatenate([rows["h2"].to_numpy(dtype="uint64"), i2]),
        "row": np.concatenate([rows["row"].to_numpy(dtype="int64"), ids["row"].to_numpy(dtype="int64")]) + off,
        "kind": np.concatenate([np.full(n_r, _ROW, dtype="int8"),
                                np.where(gen, _GENERATED_ID, _ID).astype("int8")]),
        "id": pd.concat([pd.Series(pd.array([None] * n_r, dtype="string[pyarrow]")),
                         id_text.reset_index(drop=True)], ignore_index=True),
    })


#: what a hash bucket returns: duplicate rows (kind 0, with their first copy) and every member of a
#: post-id group of two or more (kinds 1/2, ``first`` = -1; the client drops duplicate rows first)
_FOUND_META = pd.DataFrame({"kind": pd.Series([], dtype="int8"), "row": pd.Series([], dtype="int64"),
                            "first": pd.Series([], dtype="int64"), "id": pd.Series([], dtype="string[pyarrow]")})


def _find_duplicates(part: pd.DataFrame) -> pd.DataFrame:
    """In one hash bucket (all copies of a hash meet here): the non-first rows and the repeated ids."""
    if len(part) == 0:
        return _FOUND_META.copy()
    is_row = part["kind"].to_numpy(dtype="int8") == _ROW
    rows = part[is_row]
    first = rows.groupby(["h1", "h2"], sort=False)["row"].transform("min").to_numpy(dtype="int64")
    row = rows["row"].to_numpy(dtype="int64")
    dup = row != first
    ids = part[~is_row]
    size = ids.groupby(["h1", "h2"], sort=False)["row"].transform("size").to_numpy(dtype="int64")
    ids = ids[size >= 2]
    return pd.DataFrame({
        "kind": np.concatenate([np.zeros(int(dup.sum()), dtype="int8"), ids["kind"].to_numpy(dtype="int8")]),
        "row": np.concatenate([row[dup], ids["row"].to_numpy(dtype="int64")]),
        "first": np.concatenate([first[dup], np.full(len(ids), -1, dtype="int64")]),
        "id": pd.concat([pd.Series(pd.array([None] * int(dup.sum()), dtype="string[pyarrow]")),
                         ids["id"].astype("string[pyarrow]").reset_index(drop=True)], ignore_index=True),
    })


def _concat_found(parts: list) -> pd.DataFrame:
    """Gather what the buckets found: the only cross-file result brought to the client."""
    return pd.concat([_FOUND_META, *parts], ignore_index=True)


def _shuffle_method(scheduler) -> str:
    """'p2p' (spills to disk, bounded memory) on a distributed cluster, else Dask's in-memory 'tasks'."""
    if scheduler in ("threads", "processes", "synchronous", "sync"):
        return "tasks"
    if scheduler is None:
        try:
            from distributed import default_client
            default_client()
        except (ImportError, ValueError):
            return "tasks"
    return "p2p"


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


def _prepare(source, func, *, columns, encoding, delimiter, timezone, date_format, normalize_labels,
             source_name, header_row, duplicate_columns, allow_unparseable) -> tuple[list[str], dict]:
    """Check the options as read_posts does; return (files, options for read_posts on each file)."""
    from ._validation import check_option
    from .data import reading

    reading._check_options(columns=columns, encoding=encoding, delimiter=delimiter, sheet_name=0,
                           timezone=timezone, date_format=date_format, normalize_labels=normalize_labels,
                           strict=False, source_name=source_name)
    check_option(duplicate_columns, ("raise", "number"), func, "duplicate_columns")
    reading._check_header_row(header_row)
    reading._check_allow_unparseable(allow_unparseable)
    paths = _files(source, func)
    options = {"columns": columns, "encoding": encoding, "delimiter": delimiter, "timezone": timezone,
               "date_format": date_format, "normalize_labels": normalize_labels, "header_row": header_row,
               "duplicate_columns": duplicate_columns, "allow_unparseable": allow_unparseable}
    return paths, options


def _assemble(func, source, source_name, paths, results, found):
    """The report from the per-file summaries and the duplicates found (client side, small inputs).

    Returns (report, duplicate rows, union categories, metas, offsets, n_rows_in per file).
    """
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
    offsets = _offsets(n_in)
    entries = [r["entries"] for r in results]  # already in global rows (each file read with its offset)

    # -- what the hash buckets found (small: only duplicates come back) -------------------------
    found = found.sort_values(["kind", "row"], kind="stable")
    is_row = found["kind"].to_numpy(dtype="int8") == _ROW
    dup_rows = found["row"].to_numpy(dtype="int64")[is_row]
    dup_first = found["first"].to_numpy(dtype="int64")[is_row]
    dup_set = set(dup_rows.tolist())
    # post ids of the duplicate rows: this file's own entry, or the (non-generated) id of a row
    # kept within its file; identical rows have identical ids, so such a row is in an id group
    dup_id = {}
    for off, r in zip(offsets, results):
        for local, pid in r["dup_local"].items():
            dup_id[int(local) + int(off)] = pid
    members = found[~is_row]
    for row, kind, pid in zip(members["row"].tolist(), members["kind"].tolist(),
                              members["id"].to_numpy(dtype=object, na_value=None).tolist()):
        if row in dup_set and row not in dup_id:
            dup_id[row] = None if kind == _GENERATED_ID else pid
    # duplicate post ids among the rows kept in the end (exact: grouped by the id text itself)
    members = members[~members["row"].isin(dup_rows)]
    groups = members.groupby("id", sort=False)["row"]
    pid_first = groups.transform("min").to_numpy(dtype="int64")
    pid_dup = (members["row"].to_numpy(dtype="int64") != pid_first) & (groups.transform("size").to_numpy() >= 2)
    pdup_rows = members["row"].to_numpy(dtype="int64")[pid_dup]
    pdup_first = pid_first[pid_dup]
    pdup_ids = members["id"].to_numpy(dtype=object, na_value=None)[pid_dup]

    # -- the report -----------------------------------------------------------------------------
    report = QualityReport(source=source_name if source_name is not None else str(source))
    report.n_rows_in = int(sum(n_in))
    merged = [e for part in entries for e in part if e["source_row"] not in dup_set]
    report._entries.extend(merged)
    for row, firstr in zip(dup_rows.tolist(), dup_first.tolist()):
        pid = dup_id.get(row)
        report.add(source_row=row, action="excluded", rule="duplicate_row", column="",
                   post_id=None if pid is None or pid is pd.NA or pid == "" else pid,
                   message=f"identical to row {firstr} in every column; the first occurrence is kept")
    for row, firstr, pid in zip(pdup_rows.tolist(), pdup_first.tolist(), pdup_ids.tolist()):
        report.add(source_row=row, action="flagged", rule="duplicate_post_id", column="post_id", post_id=pid,
                   original_value=pid,
                   message=f"post_id {pid!r} also in row {firstr} (the rows differ in other columns)")
    report.note(f"Read {len(paths)} file(s) as {len(paths)} Dask partition(s), in this order: "
                + ", ".join(Path(p).name for p in paths[:10]) + (" …" if len(paths) > 10 else "") + ".")
    report.note("Checked across files (on the cluster, rows shuffled by 128-bit hash): duplicate rows and "
                "duplicate post ids; also global row numbers and the category union. Checked within each file "
                "only: label variants and the share of unreadable values (allow_unparseable); the notes below "
                "are per file.")
    common = set.intersection(*(set(r["notes"]) for r in results))
    for n in results[0]["notes"]:
        if n in common:
            report.note(n)
    for p, r in zip(paths, results):
        for n in r["notes"]:
            if n not in common:
                report.note(f"{Path(p).name}: {n}")

    return report, dup_rows, categories, metas, offsets, n_in


def read_posts_dask(source, *, columns=None, encoding=None, delimiter=None, timezone=None, date_format=None,
                    normalize_labels=False, source_name=None, header_row=None, duplicate_columns="raise",
                    allow_unparseable=False, scheduler=None):
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
    header_row, duplicate_columns, allow_unparseable
        As in :func:`toolkit.read_posts`, applied to every file: ``header_row`` is the line of the
        column names in each file; more than half of a column unreadable *in one file* stops the
        read unless ``allow_unparseable`` names the column (the share is judged per file).
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
    Two passes: the first (computed at the call) counts the rows of every file, reads the files
    on the workers, finds the duplicate rows and post ids on the cluster by shuffling (hash, row)
    pairs (see the module docstring) and returns only the report entries, the duplicates and the
    dtypes; the second is
    the lazy frame, which reads the files again when computed, drops the rows found to duplicate
    an earlier file and sets the union categories. Memory on the client: the report and the
    duplicates, nothing per row; on each worker: one file being read plus the shuffle's
    share (module docstring). Split big exports into files of at most about
    1 million rows. ``strict=`` is not offered: inspect ``report`` instead. Missing data: as
    :func:`toolkit.read_posts` (never read as zero).

    Validated against ``tk.read_posts`` on the concatenated files: identical data
    (``assert_frame_equal(check_exact=True)``) and identical report entries, for Parquet and CSV,
    with duplicates planted across files (the same row in three files, a file's duplicate whose
    first copy is in an earlier file, blank ids), rows excluded by other rules repeated across
    files, and the three header/parse options (tests/test_distributed.py).

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

    paths, options = _prepare(source, func, columns=columns, encoding=encoding, delimiter=delimiter,
                              timezone=timezone, date_format=date_format, normalize_labels=normalize_labels,
                              source_name=source_name, header_row=header_row, duplicate_columns=duplicate_columns,
                              allow_unparseable=allow_unparseable)

    # -- first pass: one graph, the per-row work stays on the cluster ---------------------------
    counts = [dask.delayed(_count_rows, pure=False)(p, options) for p in paths]
    offsets = dask.delayed(_offsets)(counts)
    first = [dask.delayed(_first_pass, pure=False)(p, options, offsets, i, counts[i]) for i, p in enumerate(paths)]
    summaries = [dask.delayed(_summary)(f) for f in first]
    keys = dd.from_delayed([dask.delayed(_first_keys)(f, s) for f, s in zip(first, summaries)], meta=_KEY_META,
                           verify_meta=False)
    # identical hashes meet in one bucket; one bucket per file keeps a bucket about a file's size
    found = keys.shuffle(on="h1", npartitions=len(paths), shuffle_method=_shuffle_method(scheduler))
    found = dask.delayed(_concat_found)(found.map_partitions(_find_duplicates, meta=_FOUND_META).to_delayed())
    with _client(scheduler, func) as compute:
        *results, found = compute(*summaries, found)
    results = list(results)

    report, dup_rows, categories, metas, offsets, n_in = _assemble(func, source, source_name, paths, results,
                                                                   found)

    # -- the lazy frame -------------------------------------------------------------------------
    dup_sorted = np.sort(dup_rows)
    n_kept = []
    parts = []
    start = 0
    for p, off, r, n in zip(paths, offsets, results, n_in):
        lo, hi = np.searchsorted(dup_sorted, [off + 1, off + n + 1])
        own = np.fromiter(r["dup_local"], dtype="int64", count=len(r["dup_local"])) + off
        drop = dup_sorted[lo:hi]
        drop = drop[~np.isin(drop, own)]  # rows kept within their file but duplicating an earlier file
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


def _read_posts_in_memory(source, *, columns=None, encoding=None, delimiter=None, timezone=None, date_format=None,
                         normalize_labels=False, source_name=None, header_row=None, duplicate_columns="raise",
                         allow_unparseable=False, func="read_posts"):
    """The files of ``source`` read into one pandas DataFrame, exactly as :func:`read_posts_dask` would.

    For ``tk.read_posts(folder, engine="pandas")``: the same per-file reads and cross-file checks
    (same helpers), run in this process one file at a time, without Dask (which need not be
    installed). Each file is read once; the duplicate checks run on the hashes of all files at
    once (about 60 bytes per row beside the data). Returns ``(data, report)`` like
    :func:`read_posts_dask`, with ``data`` a pandas DataFrame (index 0..n-1).
    """
    paths, options = _prepare(source, func, columns=columns, encoding=encoding, delimiter=delimiter,
                              timezone=timezone, date_format=date_format, normalize_labels=normalize_labels,
                              source_name=source_name, header_row=header_row, duplicate_columns=duplicate_columns,
                              allow_unparseable=allow_unparseable)
    results, keys, frames = [], [], []
    offset = 0
    for p in paths:
        data, entries, notes, n_in, extra = _read_partition(p, offset, options, hashes=True)
        meta = data.iloc[:0].copy()
        meta.attrs = {}
        results.append({"entries": entries, "notes": notes, "n_rows_in": n_in, "meta": meta, "n_kept": len(data),
                        "dup_local": extra["dup_local"]})
        keys.append(_keys({"rows": extra["rows"], "ids": extra["ids"]}, [offset], 0))
        frames.append(data)
        offset += n_in
    found = _concat_found([_find_duplicates(pd.concat(keys, ignore_index=True))])
    del keys
    report, dup_rows, categories, _, _, _ = _assemble(func, source, source_name, paths, results, found)
    frame = pd.concat(frames, ignore_index=True)
    del frames
    if len(dup_rows):  # rows kept within their file but duplicating an earlier file
        frame = frame[~np.isin(frame["source_row"].to_numpy(dtype="int64"), dup_rows)].reset_index(drop=True)
    for col, dtype in categories.items():
        frame[col] = pd.Categorical(frame[col].astype("object"), dtype=dtype)
    frame.attrs = {"source": report.source}
    if len(report.excluded_rows) + len(frame) != report.n_rows_in:
        raise AssertionError(f"{func}: rows in != rows kept + rows excluded")  # pragma: no cover
    return frame, report


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
