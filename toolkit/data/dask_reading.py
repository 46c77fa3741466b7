"""The Dask engine of ``tk.read_posts``: many exports read on a Dask cluster, with the full quality report.

``read_posts(folder, engine="dask")`` and :func:`read_posts_dask` run the functions of the pandas-only
:mod:`toolkit.data.collection` on the workers, so data and report are identical to the pandas engine.
This module lives in the data layer: it imports Dask only inside its functions (``import toolkit`` and
``read_posts(..., engine="pandas")`` never import Dask) and nothing above ``toolkit.data``. The metrics and
account-level reductions on Dask frames are in :mod:`toolkit.distributed`, which uses the scheduler helpers
here (:func:`import_dask`, :func:`scheduler_client`).

What is checked where (one partition = one file, files in sorted name order)
----------------------------------------------------------------------------
Exactly as by ``tk.read_posts`` on the concatenated files, by the functions of the pandas-only
:mod:`toolkit.data.collection` (which the pandas engine of ``tk.read_posts(folder)`` runs in one
process) run on the cluster:

- every cell-level rule and the row-level rules that look at one row: on the workers, by the
  single-file reader (``toolkit.data.reading.read_file``) on each file, read and parsed once;
- ``duplicate_row`` and ``duplicate_post_id``: on the cluster. The same read hashes (128 bits)
  the rows of its file that are eligible as in memory (kept, or excluded only as duplicates) and
  (64 bits) the post id of every row it kept: one record per row with its place in the global
  order, ``file index * 2**40 + local row``, so that no file waits for the row counts of the
  others: the records go to the shuffle as soon as the file is read, bucketed by the post id's
  hash (all copies of a row have one id; see :mod:`toolkit.data.collection`). Ids generated for
  blank cells (``"row-<global row>"``, one report entry each) are keyed from the per-file
  summaries. The records are shuffled (Dask's p2p shuffle on a distributed cluster, which spills to disk;
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

Memory
------
The client holds the report (one entry per problem), one empty frame per file (the dtypes) and
the duplicates found: nothing per row (benchmarks/bench_scan.py). A worker holds one file being
read plus its part of the hash shuffle: one record per row, about 45 bytes by the column
widths; a bucket holds the records of about one file, and Dask's p2p shuffle keeps what is in
transit on disk. See benchmarks/README.md for the measured client and worker peaks. Split big
exports into files of at most about 1 million rows.
"""

from __future__ import annotations

import glob as _glob
import os
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from .._validation import message
from . import collection, reading

_SUFFIXES = reading.TEXT_SUFFIXES + reading.PARQUET_SUFFIXES

# ---------------------------------------------------------------------------------------------
# scheduler handling
# ---------------------------------------------------------------------------------------------
def import_dask(func: str):
    """``dask.dataframe``, or an ImportError that names `func` and says how to install Dask."""
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
def scheduler_client(scheduler, func: str):
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
    # the report is known from the first pass: the checks that only flag rows are not run again
    read = collection.read_quietly(reading.read_file, path, options, eligible=False, consistency=False)
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
    >>> from toolkit.data.dask_reading import read_posts_dask
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
    import_dask(func)
    paths, options = _prepare(source, func, columns=columns, encoding=encoding, delimiter=delimiter,
                              timezone=timezone, date_format=date_format, normalize_labels=normalize_labels,
                              source_name=source_name, header_row=header_row, duplicate_columns=duplicate_columns,
                              allow_unparseable=allow_unparseable)
    return _read_files_dask(paths, options, func=func, source=source, source_name=source_name, scheduler=scheduler)


def _read_files_dask(paths, options, *, func, source, source_name, scheduler=None):
    dd = import_dask(func)
    import dask

    # -- first pass: one graph, the per-row work stays on the cluster ---------------------------
    first = [dask.delayed(_first_pass, pure=False)(p, i, options) for i, p in enumerate(paths)]
    summaries = [dask.delayed(_summary)(f) for f in first]
    generated = dask.delayed(collection.generated_keys)(summaries)  # few: one per blank post id
    keys = dd.from_delayed([dask.delayed(_first_keys)(f, s) for f, s in zip(first, summaries)] + [generated],
                           meta=collection.KEY_META, verify_meta=False)
    # identical hashes meet in one bucket; one bucket per file keeps a bucket about a file's size
    found = keys.shuffle(on="key", npartitions=len(paths), shuffle_method=_shuffle_method(scheduler))
    found = dask.delayed(collection.concat_found)(
        found.map_partitions(collection.find_duplicates, meta=collection.FOUND_META).to_delayed())
    with scheduler_client(scheduler, func) as compute:
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


def read_collection_dask(source, *, func="read_posts", source_name=None, scheduler=None, **options):
    """The "dask" engine of ``read_posts`` on many files (:func:`toolkit.data.collection.engine`)."""
    import_dask(func)
    return _read_files_dask(_files(source, func), options, func=func, source=source, source_name=source_name,
                            scheduler=scheduler)


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
