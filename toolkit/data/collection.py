"""Many files, one table and one quality report (pandas only; both engines of ``read_posts`` use it).

``tk.read_posts(folder)`` reads each file of a directory, glob or list with the single-file rules
(:func:`toolkit.data.reading.read_file`) and combines them here into what ``read_posts`` would
return for the files concatenated: one table and one :class:`~toolkit.data.quality.QualityReport`
in which rows in = rows kept + rows excluded. This module imports pandas and numpy only, never
Dask: the pandas engine (:func:`read_files`) runs the steps below in one process, and the Dask
engine (``toolkit.data.dask_reading.read_posts_dask``) runs the very same functions on its workers and
its client, so both give identical results.

Steps
-----
1. Each file is read once (:func:`split_file`, on a worker for Dask): its kept rows, its report
   entries and notes (local row numbers), its ``n_rows_in``, and the keys for the cross-file
   checks: one record per row eligible for ``duplicate_row`` (kept, or excluded only as a duplicate
   within its file: an empty, summary, repeated-header or wrong-field-count row is nobody's first
   copy) with two independent 64-bit hashes (128 bits, :func:`hash_rows`) of its values and, for a
   kept row, its post id; the record's bucket ``key`` is the 64-bit hash of the post id (identical
   rows have identical ids, so every copy of a row and every row of an id meet in one bucket), or
   the row's own hash where the id was generated (or, for float ids, depends on the column). A key
   carries the row's place in the global order as ``file index * 2**40 + local row``
   (:func:`encode_rows`), so keys need no file offsets and can be combined as soon as a file is read.
2. Ids generated for blank post-id cells (``"row-<global row>"``) need the offsets; they are few
   (one report entry each) and are keyed from the per-file summaries (:func:`generated_keys`).
3. Records with the same bucket key meet (:func:`find_duplicates`: in one hash bucket on Dask, all at once
   in memory): the first occurrence in global order is kept; later ones are duplicate rows, and
   ids seen in two or more rows are returned with their rows.
4. :func:`assemble` builds the report from the small per-file summaries and what the buckets
   found: global row numbers (file offsets added) in entries and generated ids, ``duplicate_row``
   and ``duplicate_post_id`` decided across files (post-id duplicates among the rows finally kept,
   by the id text itself), the union of the categories, notes per file.
5. :func:`finish_part` turns one file's table into its part of the whole: global ``source_row``
   and generated ids, rows that duplicate an earlier file dropped, union categories.

Hash equality of rows stands in for the cell-by-cell comparison of a single read (a false match
has probability about ``n**2 / 2**129``). Decided within each file only: ``label_variant``, the
share of unreadable values (``allow_unparseable``), header detection and the dataset-level notes.

The "dask" engine (:mod:`toolkit.data.dask_reading`, in this layer) runs these functions on a Dask
cluster; ``read_posts`` (:mod:`toolkit.data.posts`) imports it only when that engine is chosen, and it
imports Dask only inside its functions, so the pandas engine works without Dask installed.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

from toolkit import config
from toolkit._validation import ToolkitWarning, message
from toolkit.data.quality import QualityReport

_HASH_KEYS = ("0123456789abcdef", "fedcba9876543210")
_CATEGORY_ORDER = {"department": (config.DEPARTMENTS, True), "platform": (config.PLATFORMS, True),
                   "content_type": (config.CONTENT_TYPES, False)}
#: local row numbers take the low 40 bits of a key's ``row`` (files of up to ~10**12 rows)
_ROW_BITS = 40
_ROW_MASK = (1 << _ROW_BITS) - 1


@dataclass
class FileRead:
    """One file read by the single-file rules (:func:`toolkit.data.reading.read_file`).

    ``data`` and ``report`` are exactly ``read_posts(path)``'s (local row numbers 1..n_rows_in,
    generated ids ``"row-<local row>"``); ``eligible`` (only when asked for) holds ``h1``, ``h2``
    (:func:`hash_rows`), ``row`` (local) and ``first`` (local row of its first copy in the file, ``row``
    itself unless the row duplicates an earlier one) of the rows eligible for ``duplicate_row``;
    ``has_post_id`` says whether the file has a post_id column (else every id was generated); ``id_by_cell`` whether a
    kept row's id text follows from its own source cell (identical rows, identical ids: then one record per
    row suffices, see :func:`split_file`).
    """

    data: pd.DataFrame
    report: QualityReport
    eligible: pd.DataFrame | None = None
    has_post_id: bool = True
    id_by_cell: bool = True  # a kept row's post id text follows from its own source cell (not so for float ids)


def _column_values(s: pd.Series):
    """What ``pd.util.hash_pandas_object`` hashes of a column: a numpy array or an ExtensionArray."""
    values = s.array
    return values.to_numpy() if isinstance(values, pd.arrays.NumpyExtensionArray) else values


def _combine(arrays: list, n: int) -> np.ndarray:
    """pandas' ``combine_hash_arrays`` (CPython's tuple hash) of per-column hashes, ``n`` rows."""
    out = np.full(n, 0x345678, dtype="uint64")
    mult = np.uint64(1000003)
    for i, a in enumerate(arrays):
        inverse = len(arrays) - i
        out ^= a
        out *= mult
        mult += np.uint64(82520 + inverse + inverse)
    out += np.uint64(97531)
    return out


def _mix(out: np.ndarray, tmp: np.ndarray) -> np.ndarray:
    """pandas' bijective mix of 64-bit values (``_hash_ndarray``), in place, ``tmp`` a scratch array."""
    np.right_shift(out, np.uint64(30), out=tmp)
    out ^= tmp
    out *= np.uint64(0xBF58476D1CE4E5B9)
    np.right_shift(out, np.uint64(27), out=tmp)
    out ^= tmp
    out *= np.uint64(0x94D049BB133111EB)
    np.right_shift(out, np.uint64(31), out=tmp)
    out ^= tmp
    return out


def _hash_numbers(values: np.ndarray, tmp: np.ndarray) -> np.ndarray | None:
    """``pd.util.hash_array(values)`` of a numpy bool/integer/datetime array without its temporaries, else None.

    Exactly pandas' hash (the bits of each value as uint64, then its mix), computed in place: under the
    ``MALLOC_TRIM_THRESHOLD_`` Dask gives its workers every temporary column is mapped and faulted in again.
    """
    dtype = values.dtype
    if dtype == bool:
        out = values.astype("u8")
    elif dtype.kind in "mM":
        out = values.view("i8").astype("u8")
    elif dtype.kind in "iu" and dtype.itemsize <= 8:
        out = values.view(f"u{dtype.itemsize}").astype("u8")
    else:  # floats (pandas makes -0.0 and every NaN one value first), objects, complex: pandas' own code
        return None
    return _mix(out, tmp)


def _remix(h: np.ndarray, tmp: np.ndarray) -> np.ndarray:
    """A second bijective mix of 64-bit hashes (splitmix64's step: pandas' mix maps 0 to 0, this one does not)."""
    return _mix(h + np.uint64(0x9E3779B97F4A7C15), tmp)


def hash_rows(frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Two independent 64-bit hashes of each row's values (column names and index left out).

    ``h1`` is ``pd.util.hash_pandas_object(frame, index=False, hash_key=<first key>)``. pandas keys only
    the hashes of text (object) values; numbers hash the same under every key, so ``h2`` combines, for
    such columns, the first hashes mixed again by another bijection (:func:`_remix`), and the text hashes
    under the second key: ``h2`` then differs from ``h1`` for rows of numbers too (with pandas' two keys
    alone, a table of numbers got ``h2 == h1``, 64 bits where 128 were meant), and a number column is
    hashed once instead of twice.
    """
    n = len(frame)
    tmp = np.empty(n, dtype="uint64")
    try:
        first, second = [], []
        for _, s in frame.items():
            values = _column_values(s)
            h = _hash_numbers(values, tmp) if isinstance(values, np.ndarray) else None
            if h is None:
                h = pd.util.hash_array(values, hash_key=_HASH_KEYS[0]).astype("uint64", copy=False)
            first.append(h)
            if isinstance(values, np.ndarray) and values.dtype != object:  # numbers: pandas ignores the key
                second.append(_remix(h, tmp))
                continue
            h2 = pd.util.hash_array(values, hash_key=_HASH_KEYS[1]).astype("uint64", copy=False)
            second.append(_remix(h, tmp) if np.array_equal(h2, h) else h2)  # (nullable integers: no key either)
    except TypeError:  # unhashable cells (lists, dicts from a Parquet file): hash their text
        return hash_rows(frame.astype(str))
    return _combine(first, n), _combine(second, n)


def hash_ids(text: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(h1, h2)`` keys of each post-id text (an object array of str): a 64-bit hash (the rows' first key) and 0.

    One hash suffices for ids: it only has to bring equal ids into one bucket; which ids are really equal is
    decided on their text (:func:`assemble` groups the returned members by the id itself), so a chance
    collision of two different ids adds a member and never a ``duplicate_post_id``. (Rows, which are not
    compared cell by cell across files, get two independent hashes.) A second hash of every id cost about
    as much as the first (issue 13).
    """
    text = np.asarray(text, dtype=object)
    h1 = pd.util.hash_array(text, hash_key=_HASH_KEYS[0], categorize=False).astype("uint64", copy=False)
    return h1, np.zeros(len(h1), dtype="uint64")


def _text_after_nulls(n_null: int, text) -> pd.Series:
    """A ``string[pyarrow]`` column: ``n_null`` missing values, then ``text`` (built in Arrow, no Python loop)."""
    import pyarrow as pa

    arr = pa.concat_arrays([pa.nulls(n_null, pa.large_string()),
                            pa.array(np.asarray(text, dtype=object), type=pa.large_string())])
    return pd.Series(pd.array(arr.cast(pa.string()), dtype="string[pyarrow]"))


def eligible_rows(raw: pd.DataFrame, eligible: np.ndarray) -> pd.DataFrame:
    """``h1``, ``h2``, ``row`` (1-based position) of the rows of ``raw`` where ``eligible`` is True."""
    pos = np.flatnonzero(eligible)
    part = raw if len(pos) == len(raw) else raw.iloc[pos]
    h1, h2 = hash_rows(part)
    return pd.DataFrame({"h1": h1, "h2": h2, "row": pos.astype("int64") + 1, "first": pos.astype("int64") + 1})


def encode_rows(index: int, local_rows) -> np.ndarray:
    """The global order of rows of file ``index`` as int64 keys (file in the high bits, row in the low 40)."""
    return (np.int64(index) << _ROW_BITS) | np.asarray(local_rows, dtype="int64")


def decode_rows(keys, offsets: np.ndarray) -> np.ndarray:
    """Global 1-based row numbers from :func:`encode_rows` keys, given each file's row offset."""
    keys = np.asarray(keys, dtype="int64")
    return offsets[keys >> _ROW_BITS] + (keys & _ROW_MASK)


def offsets(n_rows_in: list) -> np.ndarray:
    """Row offset of each file: the rows of the files before it."""
    return np.concatenate([[0], np.cumsum(n_rows_in)[:-1]]).astype("int64")


# ---------------------------------------------------------------------------------------------
# one file
# ---------------------------------------------------------------------------------------------
#: columns of the keys combined (or shuffled by ``key``) for the cross-file duplicate checks: one record per
#: eligible row (kinds ROW, or ROW_ID when the row is kept with its own post id, which ``id`` then holds) and
#: one per generated id (GENERATED_ID); ``h1``/``h2`` are the row's hashes (0 for a generated id) and ``key``
#: the bucket: the hash of the post id when the row has one (identical rows have identical ids, so all copies
#: of a row, and all rows with one id, meet in one bucket), else the row's ``h1``
KEY_META = pd.DataFrame({"key": pd.Series([], dtype="uint64"), "h1": pd.Series([], dtype="uint64"),
                         "h2": pd.Series([], dtype="uint64"), "row": pd.Series([], dtype="int64"),
                         "kind": pd.Series([], dtype="int8"), "id": pd.Series([], dtype="string[pyarrow]")})
ROW, ID, GENERATED_ID, ROW_ID = 0, 1, 2, 3


def _generated_mask(read: FileRead) -> np.ndarray:
    """Which kept rows got a generated ``"row-<n>"`` id (all of them when the file has no post_id column)."""
    if not read.has_post_id:
        return np.ones(len(read.data), dtype=bool)
    rows = [e["source_row"] for e in read.report._entries if e["rule"] == "missing_post_id"]
    local = read.data["source_row"].to_numpy(dtype="int64")
    return np.isin(local, np.asarray(rows, dtype="int64"))


def split_file(read: FileRead, index: int) -> tuple[dict, pd.DataFrame]:
    """One file's contribution: a small summary (report part, dtypes) and its keys (per row).

    The summary holds ``entries`` (local rows, without the file's own ``duplicate_row`` /
    ``duplicate_post_id``, which are decided across files), ``notes``, ``n_rows_in``,
    ``n_kept``, ``meta`` (an empty frame with the dtypes), ``dup_local`` (this file's own
    duplicate rows -> their post id), ``generated`` (local rows with generated ids) and
    ``has_post_id``. The keys (:data:`KEY_META`) are the eligible rows and the kept rows' own
    post ids, ordered by :func:`encode_rows`.
    """
    data, report = read.data, read.report
    gen = _generated_mask(read)
    local = data["source_row"].to_numpy(dtype="int64")
    entries, dup_local = [], {}
    for e in report._entries:
        if e["rule"] == "duplicate_row":
            dup_local[e["source_row"]] = e["post_id"]
        elif e["rule"] != "duplicate_post_id":
            entries.append(dict(e))
    meta = data.iloc[:0].copy()
    meta.attrs = {}
    summary = {"index": index, "entries": entries, "notes": list(report.notes), "n_rows_in": report.n_rows_in,
               "n_kept": len(data), "meta": meta, "dup_local": dup_local,
               "generated": local[gen], "has_post_id": read.has_post_id}
    rows = read.eligible
    erow = rows["row"].to_numpy(dtype="int64")
    h1 = rows["h1"].to_numpy(dtype="uint64")
    key = h1.copy()
    kind = np.full(len(rows), ROW, dtype="int8")
    own = ~gen
    extra = None
    if read.has_post_id and own.any() and not read.id_by_cell:
        # ids whose text depends on the whole column (floats: "5" or "5.0"): identical rows of two files may
        # have different id texts, so rows stay keyed by their own hash and the ids get records of their own
        id_text = data["post_id"].to_numpy(dtype=object, na_value=None)
        if gen.any():
            id_text = id_text[own]
        zero = np.zeros(len(id_text), dtype="uint64")
        extra = pd.DataFrame({"key": hash_ids(id_text)[0], "h1": zero, "h2": zero,
                              "row": encode_rows(index, local[own]), "kind": np.full(len(id_text), ID, dtype="int8"),
                              "id": pd.Series(pd.array(id_text, dtype="string[pyarrow]"))})
        ids = pd.Series(pd.array(np.full(len(rows), None, dtype=object), dtype="string[pyarrow]"))
    elif read.has_post_id and own.any():
        # kept rows with their own id: the id's hash is their bucket, and that of the later copies of such a row
        # within the file (``first``: identical rows, identical id)
        id_text = data["post_id"].to_numpy(dtype=object, na_value=None)
        if gen.any():
            id_text = id_text[own]
        id_hash = hash_ids(id_text)[0]
        at = np.minimum(np.searchsorted(erow, local[own]), max(len(erow) - 1, 0))  # kept rows are eligible
        if len(at) and not (erow[at] == local[own]).all():  # pragma: no cover - read_file guarantees it
            raise AssertionError("split_file: a kept row is missing from the eligible rows")
        key[at] = id_hash
        kind[at] = ROW_ID
        text = np.full(len(rows), None, dtype=object)
        text[at] = id_text
        first = rows["first"].to_numpy(dtype="int64")
        later = np.flatnonzero(first != erow)
        if len(later):
            key[later] = key[np.searchsorted(erow, first[later])]
        ids = pd.Series(pd.array(text, dtype="string[pyarrow]"))
    else:
        ids = pd.Series(pd.array(np.full(len(rows), None, dtype=object), dtype="string[pyarrow]"))
    keys = pd.DataFrame({"key": key, "h1": h1, "h2": rows["h2"].to_numpy(dtype="uint64"),
                         "row": encode_rows(index, erow), "kind": kind, "id": ids})
    if extra is not None:
        keys = pd.concat([keys, extra], ignore_index=True)
    return summary, keys


def generated_keys(summaries: list) -> pd.DataFrame:
    """Keys of the generated ids ``"row-<global row>"`` (known once every file's ``n_rows_in`` is).

    Generated ids are distinct from each other; they can only repeat a real id of another row, so
    they are keyed only when some file has a post_id column.
    """
    if not any(s["has_post_id"] for s in summaries):
        return KEY_META.copy()
    offs = offsets([s["n_rows_in"] for s in summaries])
    parts = []
    for s, off in zip(summaries, offs):
        local = np.asarray(s["generated"], dtype="int64")
        if len(local):
            text = np.array([f"row-{r + off}" for r in local.tolist()], dtype=object)
            h1 = hash_ids(text)[0]
            zero = np.zeros(len(local), dtype="uint64")
            parts.append(pd.DataFrame({"key": h1, "h1": zero, "h2": zero, "row": encode_rows(s["index"], local),
                                       "kind": np.full(len(local), GENERATED_ID, dtype="int8"),
                                       "id": _text_after_nulls(0, text)}))
    return pd.concat([KEY_META, *parts], ignore_index=True)


# ---------------------------------------------------------------------------------------------
# across files
# ---------------------------------------------------------------------------------------------
#: what a hash bucket returns: duplicate rows (kind ROW, with their first copy) and every member of a
#: post-id group of two or more (kinds ID/GENERATED_ID, ``first`` = -1); rows are encode_rows keys
FOUND_META = pd.DataFrame({"kind": pd.Series([], dtype="int8"), "row": pd.Series([], dtype="int64"),
                           "first": pd.Series([], dtype="int64"), "id": pd.Series([], dtype="string[pyarrow]")})


def find_duplicates(part: pd.DataFrame) -> pd.DataFrame:
    """In one bucket (all copies of a row and all rows of an id meet here): the non-first rows and repeated ids."""
    if len(part) == 0:
        return FOUND_META.copy()
    # only buckets keys seen twice can hold a duplicate: the exact grouping runs on those few records
    part = part[pd.Series(part["key"].to_numpy(dtype="uint64")).duplicated(keep=False).to_numpy()]
    kind = part["kind"].to_numpy(dtype="int8")
    rows = part[(kind == ROW) | (kind == ROW_ID)]
    first = rows.groupby(["h1", "h2"], sort=False)["row"].transform("min").to_numpy(dtype="int64")
    row = rows["row"].to_numpy(dtype="int64")
    dup = row != first
    ids = part[kind != ROW]
    size = ids.groupby("key", sort=False)["row"].transform("size").to_numpy(dtype="int64")
    ids = ids[size >= 2]
    id_kind = ids["kind"].to_numpy(dtype="int8")
    return pd.DataFrame({
        "kind": np.concatenate([np.full(int(dup.sum()), ROW, dtype="int8"),
                                np.where(id_kind == ROW_ID, ID, id_kind).astype("int8")]),
        "row": np.concatenate([row[dup], ids["row"].to_numpy(dtype="int64")]),
        "first": np.concatenate([first[dup], np.full(len(ids), -1, dtype="int64")]),
        "id": pd.concat([pd.Series(pd.array([None] * int(dup.sum()), dtype="string[pyarrow]")),
                         ids["id"].astype("string[pyarrow]").reset_index(drop=True)], ignore_index=True),
    })


def concat_found(parts: list) -> pd.DataFrame:
    """Gather what the buckets found (the only cross-file result a Dask client receives)."""
    return pd.concat([FOUND_META, *parts], ignore_index=True)


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


def _check_same_columns(func: str, paths: list, metas: list) -> None:
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


def _global_entries(summary: dict, off: int) -> list[dict]:
    """A file's entries in global rows; generated ids renumbered to ``"row-<global row>"``."""
    regen = set(np.asarray(summary["generated"], dtype="int64").tolist())
    out = []
    for e in summary["entries"]:
        local = e["source_row"]
        e = dict(e)
        e["source_row"] = local + off
        if local in regen and off:
            g = f"row-{local + off}"
            e["post_id"] = g
            if e["rule"] == "missing_post_id":
                e["new_value"] = g
                e["message"] = f"post_id is blank; generated {g!r}"
        out.append(e)
    return out


@dataclass
class Assembled:
    """The combined report and what each file's table needs to become its part of the whole."""

    report: QualityReport
    drop: list            # per file: global rows kept in the file but duplicating an earlier file
    categories: dict      # column -> union CategoricalDtype
    meta: pd.DataFrame    # empty frame with the final dtypes
    offsets: np.ndarray   # per file: rows of the files before it
    n_kept: list          # per file: rows in its final part


def assemble(func: str, source, source_name, paths: list, summaries: list, found: pd.DataFrame, *,
             engine: str) -> Assembled:
    """The report from the per-file summaries and the duplicates found (small inputs; a Dask client)."""
    metas = [s["meta"] for s in summaries]
    _check_same_columns(func, paths, metas)
    categories = {c: _union_categories(c, metas) for c in metas[0].columns
                  if isinstance(metas[0][c].dtype, pd.CategoricalDtype)}
    n_in = [s["n_rows_in"] for s in summaries]
    offs = offsets(n_in)

    # -- what the hash buckets found, in global rows --------------------------------------------
    found = found.assign(row=decode_rows(found["row"], offs),
                         first=np.where(found["first"].to_numpy(dtype="int64") >= 0,
                                        decode_rows(np.maximum(found["first"].to_numpy(dtype="int64"), 0), offs),
                                        -1))
    found = found.sort_values(["kind", "row"], kind="stable")
    is_row = found["kind"].to_numpy(dtype="int8") == ROW
    dup_rows = found["row"].to_numpy(dtype="int64")[is_row]
    dup_first = found["first"].to_numpy(dtype="int64")[is_row]
    dup_set = set(dup_rows.tolist())
    # post ids of the duplicate rows: the file's own entry, or the (non-generated) id of a row kept
    # within its file; identical rows have identical ids, so such a row is in an id group
    dup_id = {}
    for off, s in zip(offs, summaries):
        for local, pid in s["dup_local"].items():
            dup_id[int(local) + int(off)] = pid
    members = found[~is_row]
    for row, kind, pid in zip(members["row"].tolist(), members["kind"].tolist(),
                              members["id"].to_numpy(dtype=object, na_value=None).tolist()):
        if row in dup_set and row not in dup_id:
            dup_id[row] = None if kind == GENERATED_ID else pid
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
    for off, s in zip(offs, summaries):
        report._entries.extend(e for e in _global_entries(s, int(off)) if e["source_row"] not in dup_set)
    for row, firstr in zip(dup_rows.tolist(), dup_first.tolist()):
        pid = dup_id.get(row)
        report.add(source_row=row, action="excluded", rule="duplicate_row", column="",
                   post_id=None if pid is None or pid is pd.NA or pid == "" else pid,
                   message=f"identical to row {firstr} in every column; the first occurrence is kept")
    for row, firstr, pid in zip(pdup_rows.tolist(), pdup_first.tolist(), pdup_ids.tolist()):
        report.add(source_row=row, action="flagged", rule="duplicate_post_id", column="post_id", post_id=pid,
                   original_value=pid,
                   message=f"post_id {pid!r} also in row {firstr} (the rows differ in other columns)")
    order = ", ".join(Path(p).name for p in paths[:10]) + (" …" if len(paths) > 10 else "")
    if engine == "dask":
        report.note(f"Read {len(paths)} file(s) as {len(paths)} Dask partition(s), in this order: {order}.")
        where = "on the cluster, rows shuffled by 128-bit hash"
    else:
        report.note(f"Read {len(paths)} file(s), in this order: {order}.")
        where = "rows compared by 128-bit hash"
    report.note(f"Checked across files ({where}): duplicate rows and duplicate post ids; also global row "
                "numbers and the category union. Checked within each file only: label variants and the share of "
                "unreadable values (allow_unparseable); the notes below are per file.")
    common = set.intersection(*(set(s["notes"]) for s in summaries))
    for n in summaries[0]["notes"]:
        if n in common:
            report.note(n)
    for p, s in zip(paths, summaries):
        for n in s["notes"]:
            if n not in common:
                report.note(f"{Path(p).name}: {n}")

    # -- what each file's table becomes ---------------------------------------------------------
    dup_sorted = np.sort(dup_rows)
    drop, n_kept = [], []
    for off, s, n in zip(offs, summaries, n_in):
        lo, hi = np.searchsorted(dup_sorted, [off + 1, off + n + 1])
        own = np.fromiter(s["dup_local"], dtype="int64", count=len(s["dup_local"])) + off
        rows = dup_sorted[lo:hi]
        rows = rows[~np.isin(rows, own)]  # rows kept within their file but duplicating an earlier file
        drop.append(rows)
        n_kept.append(s["n_kept"] - len(rows))
    meta = metas[0].copy()
    for col, dtype in categories.items():
        meta[col] = pd.Categorical(meta[col].astype("object"), dtype=dtype)
    meta.index = pd.RangeIndex(0, 0)
    if len(report.excluded_rows) + int(sum(n_kept)) != report.n_rows_in:
        raise AssertionError(f"{func}: rows in != rows kept + rows excluded")  # pragma: no cover
    return Assembled(report, drop, categories, meta, offs, n_kept)


def finish_part(read: FileRead, *, offset: int, drop, categories: dict, index_start: int = 0) -> pd.DataFrame:
    """One file's table as its part of the whole: global rows and ids, cross-file duplicates dropped."""
    data = read.data
    if offset:
        gen = _generated_mask(read)
        if gen.any():  # generated ids carry the row number: renumber them
            local = data["source_row"].to_numpy(dtype="int64")
            pid = data["post_id"].astype("object").to_numpy(dtype=object, copy=True)
            pid[gen] = [f"row-{r + offset}" for r in local[gen].tolist()]
            data["post_id"] = pd.array(pid, dtype="string")
        data["source_row"] = pd.array(data["source_row"].to_numpy(dtype="int64") + offset, dtype="Int64")
    if len(drop):
        data = data[~np.isin(data["source_row"].to_numpy(dtype="int64"), drop)]
    for col, dtype in categories.items():  # the union holds the file's categories: recoded, no text round trip
        data[col] = data[col].astype(dtype) if isinstance(data[col].dtype, pd.CategoricalDtype) else pd.Categorical(
            data[col].astype("object"), dtype=dtype)
    data.index = pd.RangeIndex(index_start, index_start + len(data))
    data.attrs = {}
    return data


def read_quietly(read_file: Callable, path, options: dict, *, eligible: bool, **extra) -> FileRead:
    """``read_file(path, **options)`` with the per-file warnings left out (they become report notes)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ToolkitWarning)
        return read_file(path, eligible=eligible, **options, **extra)


def read_files(paths: list, *, read_file: Callable, options: dict, func: str, source, source_name=None,
               ) -> tuple[pd.DataFrame, QualityReport]:
    """The pandas engine: every file read once, in this process; one table and one report.

    ``read_file(path, eligible=..., **options)`` is the single-file reader
    (:func:`toolkit.data.reading.read_file`, passed in so that this module needs no reader of its
    own). The keys of all files are held at once beside the data (about 60 bytes per row).
    Returns ``(data, report)``: ``data`` with index 0..n-1 and ``attrs["source"]``.
    """
    summaries, keys, reads = [], [], []
    for i, p in enumerate(paths):
        read = read_quietly(read_file, p, options, eligible=True)
        summary, k = split_file(read, i)
        read.eligible = None
        summaries.append(summary)
        keys.append(k)
        reads.append(read)
    keys.append(generated_keys(summaries))
    found = find_duplicates(pd.concat(keys, ignore_index=True))
    del keys
    done = assemble(func, source, source_name, paths, summaries, found, engine="pandas")
    parts = [finish_part(r, offset=int(off), drop=d, categories=done.categories)
             for r, off, d in zip(reads, done.offsets, done.drop)]
    del reads
    frame = pd.concat(parts, ignore_index=True) if parts else done.meta
    frame.attrs = {"source": done.report.source}
    if len(done.report.excluded_rows) + len(frame) != done.report.n_rows_in:
        raise AssertionError(f"{func}: rows in != rows kept + rows excluded")  # pragma: no cover
    return frame, done.report
