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
Exactly as by ``tk.read_posts`` on the concatenated files, by the functions of the pandas-only
:mod:`toolkit.data.collection` (which the pandas engine of ``tk.read_posts(folder)`` runs in one
process) run on the cluster:

- every cell-level rule and the row-level rules that look at one row: on the workers, by the
  single-file reader (``toolkit.data.reading.read_file``) on each file, read and parsed once;
- ``duplicate_row`` and ``duplicate_post_id``: on the cluster. The same read hashes (128 bits)
  the rows of its file that are eligible as in memory (kept, or excluded only as duplicates) and
  the post id of every row it kept, as (hash, place in the global order) pairs, the place being
  ``file index * 2**40 + local row`` so that no file waits for the row counts of the others: the
  pairs go to the shuffle as soon as the file is read. Ids generated for blank cells
  (``"row-<global row>"``, one report entry each) are keyed from the per-file summaries. The
  pairs are shuffled by hash (Dask's p2p shuffle on a distributed cluster, which spills to disk;
  the in-memory "tasks" shuffle otherwise) into one bucket per file, where the first occurrence
  in global order is found. Only the duplicate rows (with their first copy) and the members of
  repeated post-id groups come back to the client, which decides the post-id duplicates among
  the rows finally kept by comparing the id text itself (``collection.assemble``);
- ``source_row`` is the global data-row number (file offsets added), in the data, the report and
  the generated ``"row-<n>"`` post ids;
- categories of ``department``, ``platform`` and ``content_type`` are the union over partitions
  in the in-memory order.

Only within each file: ``label_variant`` (which spellings count as variants of each other, and,
with ``normalize_labels=True``, which spelling is kept, is decided per file), the share of
unreadable values that stops a read (``allow_unparseable``), the header detection
(``header_row``, ``duplicate_columns``) and the dataset-level notes (encoding, delimiter,
missing-cell counts), which are reported per file.

This module registers the "dask" engine of ``tk.read_posts`` with
:func:`toolkit.data.collection.register_engine` when imported (the data layer names this module in
``collection.ENGINE_MODULES`` and never imports it).

Memory
------
The client holds the report (one entry per problem), one empty frame per file (the dtypes) and
the duplicates found: nothing per row (benchmarks/bench_scan.py). A worker holds one file being
read plus its part of the hash shuffle: two records per row, about 60-70 bytes by the column
widths; a bucket holds the pairs of about one file, and Dask's p2p shuffle keeps what is in
transit on disk. See benchmarks/README.md for the measured client and worker peaks. Split big
exports into files of at most about 1 million rows.
"""
from __future__ import annotations

import glob as _glob
import os
import warnings
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pandas as pd

from ._validation import ToolkitWarning, message
from .data import collection, reading

_SUFFIXES = (".csv", ".tsv", ".txt", ".parquet", ".pq")


# ---------------------------------------------------------------------------------------------
# scheduler handling
# ---------------------------------------------------------------------------------------------
def _import_dask(func: str):
    try:
        import dask  # noqa: F401
        import dask.dataframe as dd
    except ImportError:  # pragma: no cover - depends on the environment
        hint = "Install it with pip install 'dask[dataframe]' distributed."
        if func == "read_posts":
            hint = "Install it with pip install 'dask[dataframe]' distributed, or pass engine='pandas'."
        raise ImportError(message(func, None, "dask[dataframe] to be installed" + (
            " for engine='dask'" if func == "read_posts" else ""), show_got=False, hint=hint)) from None
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


def _first_pass(path, index, options):
    """Stage run on a worker: one file read once; its summary (small) and its keys (per row).

    The keys carry (file index, local row), not global rows, so they go to the shuffle as soon as
    the file is read: no file waits for the row counts of the others.
    """
    read = collection.read_quietly(reading.read_file, path, options, eligible=True)
    summary, keys = collection.split_file(read, index)
    return {"summary": summary, "keys": keys}


def _first_keys(first, summary):
    """The pairs for the shuffle; taking ``summary`` makes it wait for (and so schedule promptly) the
    task extracting the summary, after which the whole first-pass result can be released."""
    return first["keys"]


def _summary(first):
    return first["summary"]


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


def _second_pass(path, offset, options, drop_rows, categories, index_start):
    """Stage building one data partition (lazy): read, renumber, drop global duplicates, unify."""
    read = collection.read_quietly(reading.read_file, path, options, eligible=False)
    return collection.finish_part(read, offset=offset, drop=drop_rows, categories=categories,
                                  index_start=index_start)


def _prepare(source, func, *, columns, encoding, delimiter, timezone, date_format, normalize_labels,
             header_row, duplicate_columns, allow_unparseable, source_name=None) -> tuple[list[str], dict]:
    """Check the options as read_posts does; return (files, options for read_file on each file)."""
    options = reading.check_file_options(func, columns=columns, encoding=encoding, delimiter=delimiter,
                                         timezone=timezone, date_format=date_format,
                                         normalize_labels=normalize_labels, source_name=source_name,
                                         header_row=header_row, duplicate_columns=duplicate_columns,
                                         allow_unparseable=allow_unparseable)
    return _files(source, func), options


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
    Two passes: the first (computed at the call) reads each file once on the workers
    (``toolkit.data.reading.read_file``: parsing, checks and the hashes of the rows eligible for
    ``duplicate_row``), finds the duplicate rows and post ids on the cluster by shuffling (hash,
    row) pairs (see :mod:`toolkit.data.collection`) and returns only the report entries, the
    duplicates and the dtypes; the second is the lazy frame, which reads the files again when
    computed, drops the rows found to duplicate an earlier file and sets the union categories.
    Memory on the client: the report and the duplicates, nothing per row; on each worker: one
    file being read plus the shuffle's share (module docstring). Split big exports into files of
    at most about 1 million rows. ``strict=`` is not offered: inspect ``report`` instead. Missing data: as
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
    _import_dask(func)
    paths, options = _prepare(source, func, columns=columns, encoding=encoding, delimiter=delimiter,
                              timezone=timezone, date_format=date_format, normalize_labels=normalize_labels,
                              source_name=source_name, header_row=header_row, duplicate_columns=duplicate_columns,
                              allow_unparseable=allow_unparseable)
    return _read_files_dask(paths, options, func=func, source=source, source_name=source_name, scheduler=scheduler)


def _read_files_dask(paths, options, *, func, source, source_name, scheduler=None):
    dd = _import_dask(func)
    import dask

    # -- first pass: one graph, the per-row work stays on the cluster ---------------------------
    first = [dask.delayed(_first_pass, pure=False)(p, i, options) for i, p in enumerate(paths)]
    summaries = [dask.delayed(_summary)(f) for f in first]
    generated = dask.delayed(collection.generated_keys)(summaries)  # few: one per blank post id
    keys = dd.from_delayed([dask.delayed(_first_keys)(f, s) for f, s in zip(first, summaries)] + [generated],
                           meta=collection.KEY_META, verify_meta=False)
    # identical hashes meet in one bucket; one bucket per file keeps a bucket about a file's size
    found = keys.shuffle(on="h1", npartitions=len(paths), shuffle_method=_shuffle_method(scheduler))
    found = dask.delayed(collection.concat_found)(
        found.map_partitions(collection.find_duplicates, meta=collection.FOUND_META).to_delayed())
    with _client(scheduler, func) as compute:
        *summaries, found = compute(*summaries, found)
    done = collection.assemble(func, source, source_name, paths, list(summaries), found, engine="dask")

    # -- the lazy frame -------------------------------------------------------------------------
    parts, start = [], 0
    for p, off, drop, kept in zip(paths, done.offsets, done.drop, done.n_kept):
        parts.append(dask.delayed(_second_pass, pure=True)(p, int(off), options, drop, done.categories, start))
        start += kept
    bounds = np.concatenate([[0], np.cumsum(done.n_kept)]).astype("int64")
    if all(k > 0 for k in done.n_kept):
        divisions = [int(b) for b in bounds[:-1]] + [int(bounds[-1]) - 1]
    else:
        divisions = None
    data = dd.from_delayed(parts, meta=done.meta, divisions=divisions, verify_meta=False)
    return data, done.report


def _read_collection_dask(source, *, func="read_posts", source_name=None, scheduler=None, **options):
    """The "dask" engine of ``read_posts`` on many files (registered with toolkit.data.collection)."""
    _import_dask(func)
    return _read_files_dask(_files(source, func), options, func=func, source=source, source_name=source_name,
                            scheduler=scheduler)


collection.register_engine("dask", _read_collection_dask)


def _read_posts_in_memory(source, *, columns=None, encoding=None, delimiter=None, timezone=None, date_format=None,
                         normalize_labels=False, source_name=None, header_row=None, duplicate_columns="raise",
                         allow_unparseable=False, func="read_posts"):
    """The files of ``source`` read into one pandas DataFrame, exactly as :func:`read_posts_dask` would.

    The pandas engine of ``tk.read_posts(folder)`` (:func:`toolkit.data.collection.read_files`,
    which needs no Dask) on the files :func:`read_posts_dask` would read; kept to compare the two.
    Returns ``(data, report)`` with ``data`` a pandas DataFrame (index 0..n-1).
    """
    paths, options = _prepare(source, func, columns=columns, encoding=encoding, delimiter=delimiter,
                              timezone=timezone, date_format=date_format, normalize_labels=normalize_labels,
                              source_name=source_name, header_row=header_row, duplicate_columns=duplicate_columns,
                              allow_unparseable=allow_unparseable)
    return collection.read_files(paths, read_file=reading.read_file, options=options, func=func, source=source,
                                 source_name=source_name)


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
