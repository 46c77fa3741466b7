"""The typed-input fast paths of read_file (Parquet files, DataFrames) never differ from the general code.

Issue 13, item 2: Parquet partitions arrive typed (int64 ids and counts, timestamps, categories). Three
shortcuts skip work for such columns: integer post ids rendered by one pyarrow cast
(``reading._integer_text``), integer count columns without a negative value or one beyond int64 taken as
they are (``parsing._plain_counts``), and a strictly monotonic integer column ending the duplicate-row
search (``reading._strictly_monotonic``). Each is switched off here by monkeypatching, and the whole read
(data with exact values and dtypes, report entries, notes, row counts, duplicate hashes) must be identical
on adversarial typed inputs: negative integers, float counts with fractions, NaN, inf, int64 and uint64
extremes, nullable integers with <NA>, naive and tz-aware timestamps, object columns of mixed types,
categoricals with unused categories, repeated and decreasing ids, duplicate rows. Where the typed and the
text reading are defined to agree (clean integer ids and counts), the typed file is also compared with the
same values written as text.
"""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from toolkit.data import collection, parsing, reading

I64_MAX, I64_MIN = np.iinfo("int64").max, np.iinfo("int64").min


def _base(n=8):
    return pd.DataFrame({
        "post_id": np.arange(101, 101 + n, dtype="int64"),
        "account": pd.array([f"acct-{i % 3}" for i in range(n)], dtype="str"),
        "department": pd.array(["Marketing", "PR"] * (n // 2), dtype="str"),
        "posted_at": pd.date_range("2024-03-01 10:00", periods=n, freq="h", tz="UTC"),
        "likes": np.arange(n, dtype="int64") * 3,
        "comments": np.arange(n, dtype="int64"),
        "reach": np.arange(n, dtype="int64") * 100 + 50,
    })


def _case(name):
    f = _base()
    n = len(f)
    if name == "clean":
        pass
    elif name == "negative_ints":
        f["likes"] = np.array([3, -1, 0, -9_000_000_000, 5, 6, 7, 8], dtype="int64")
    elif name == "int64_extremes":
        f["likes"] = np.array([I64_MAX, 0, I64_MIN, 1, 2, 3, 4, 5], dtype="int64")
        f["post_id"] = np.array([I64_MIN, -1, 0, 1, 2, 3, 4, I64_MAX], dtype="int64")
    elif name == "uint64_beyond_int64":
        f["likes"] = np.array([2 ** 64 - 1, 2 ** 63, 2 ** 63 - 1, 0, 1, 2, 3, 4], dtype="uint64")
        f["post_id"] = np.array([2 ** 64 - 1, 2 ** 63, 2 ** 63 - 1, 0, 1, 2, 3, 4], dtype="uint64")
    elif name == "uint64_small":
        f["likes"] = np.arange(n, dtype="uint64")
        f["post_id"] = np.arange(n, 0, -1).astype("uint64")
    elif name == "float_counts":
        f["likes"] = [1.0, 2.5, np.nan, np.inf, -np.inf, -3.0, 2.0 ** 63, 1e300]
        f["comments"] = [0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0]
        f["post_id"] = [1.0, 2.0, np.nan, 4.0, 5.0, 6.0, 7.0, 8.0]
    elif name == "nullable_ints":
        f["likes"] = pd.array([1, None, 3, -4, 5, None, 7, 8], dtype="Int64")
        f["post_id"] = pd.array([1, None, 3, 4, None, 6, 7, 8], dtype="Int64")
        f["comments"] = pd.array([1, 2, 3, 4, 5, 6, 7, 8], dtype="UInt64")
    elif name == "small_int_types":
        f["likes"] = np.array([1, 2, -3, 4, 5, 6, 7, 127], dtype="int8")
        f["comments"] = np.arange(n, dtype="uint16")
        f["post_id"] = np.arange(n, dtype="int32")
    elif name == "repeated_ids_and_rows":
        f["post_id"] = np.array([5, 5, 6, 6, 7, 8, 9, 9], dtype="int64")  # monotonic, not strictly
        f.loc[3, ["account", "department", "posted_at", "likes", "comments", "reach"]] = f.loc[
            2, ["account", "department", "posted_at", "likes", "comments", "reach"]].to_numpy()
        f.loc[7] = f.loc[6]  # an exact duplicate row
    elif name == "decreasing_ids":
        f["post_id"] = np.arange(n, 0, -1).astype("int64") * 10
    elif name == "unsorted_ids_with_duplicate_rows":
        f["post_id"] = np.array([3, 1, 2, 1, 9, 8, 8, 4], dtype="int64")
        f.loc[3] = f.loc[1]
        f.loc[6] = f.loc[5]
    elif name == "naive_timestamps":
        f["posted_at"] = pd.date_range("2024-03-10 00:30", periods=n, freq="30min")  # crosses a DST gap
    elif name == "aware_timestamps_other_zone":
        f["posted_at"] = pd.date_range("2024-03-10 00:30", periods=n, freq="30min", tz="America/New_York")
    elif name == "timestamps_with_nat":
        f["posted_at"] = pd.Series(pd.date_range("2024-03-01", periods=n, freq="D", tz="UTC")).where(
            np.arange(n) % 3 != 0)
    elif name == "object_mixed":
        f["post_id"] = pd.array([1, "2", 3.0, None, " 5 ", "x-6", 7, "Total"], dtype=object)
        f["likes"] = pd.array(["5", 3, None, 2.5, "-4", "1,234", 7, "N/A"], dtype=object)
        f["account"] = pd.array(["a", 1, None, "a ", "b", 2.0, "b", "c"], dtype=object)
    elif name == "categoricals_unused":
        f["department"] = pd.Categorical(["PR", "Marketing"] * 4, categories=["PR", "Marketing", "IT", "Unused"])
        f["account"] = pd.Categorical([f"acct-{i % 2}" for i in range(n)], categories=["acct-0", "acct-1", "zz"])
        f["post_id"] = pd.Categorical(np.arange(n) + 1, categories=np.arange(n + 3) + 1)
    elif name == "all_missing_counts":
        f["likes"] = pd.array([None] * n, dtype="Int64")
        f["comments"] = np.full(n, np.nan)
    elif name == "empty":
        f = f.iloc[:0]
    else:  # pragma: no cover
        raise ValueError(name)
    return f


CASES = ["clean", "negative_ints", "int64_extremes", "uint64_beyond_int64", "uint64_small", "float_counts",
         "nullable_ints", "small_int_types", "repeated_ids_and_rows", "decreasing_ids",
         "unsorted_ids_with_duplicate_rows", "naive_timestamps", "aware_timestamps_other_zone",
         "timestamps_with_nat", "object_mixed", "categoricals_unused", "all_missing_counts", "empty"]


def _read(source, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return reading.read_file(source, eligible=True, **kw)
        except ValueError as exc:  # e.g. "could not read most values": the error itself must be identical
            return exc


def _slow_paths(monkeypatch):
    monkeypatch.setattr(reading, "_integer_text", lambda values: None)
    monkeypatch.setattr(parsing, "_plain_counts", lambda s: None)
    monkeypatch.setattr(reading, "_strictly_monotonic", lambda values: False)


def _assert_same(fast, slow):
    if isinstance(slow, Exception):
        assert isinstance(fast, type(slow)) and str(fast) == str(slow)
        return
    assert not isinstance(fast, Exception), fast
    pd.testing.assert_frame_equal(fast.data, slow.data, check_exact=True)
    pd.testing.assert_frame_equal(fast.report.entries, slow.report.entries, check_exact=True)
    assert fast.report.notes == slow.report.notes
    assert fast.report.n_rows_in == slow.report.n_rows_in and fast.has_post_id == slow.has_post_id
    pd.testing.assert_frame_equal(fast.eligible, slow.eligible, check_exact=True)


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("via", ["dataframe", "parquet"])
def test_typed_fast_paths_match_the_general_code(case, via, tmp_path, monkeypatch):
    frame = _case(case)
    if via == "parquet":
        source = tmp_path / "part.parquet"
        try:
            frame.to_parquet(source, index=False)
        except (TypeError, ValueError, ImportError) as exc:  # mixed object columns cannot always be written
            pytest.skip(f"not writable as Parquet: {exc}")
    else:
        source = frame
    kw = {"timezone": "Europe/Berlin"} if case == "naive_timestamps" else {}
    fast = _read(source, **kw)
    _slow_paths(monkeypatch)
    slow = _read(source, **kw)
    _assert_same(fast, slow)


@pytest.mark.parametrize("case", ["clean", "decreasing_ids", "repeated_ids_and_rows",
                                  "unsorted_ids_with_duplicate_rows", "small_int_types", "uint64_small"])
def test_typed_integers_read_as_their_text(case, monkeypatch):
    """Clean integer ids and non-negative counts: the typed columns read exactly as the same numbers as text."""
    frame = _case(case)
    if (frame[["likes", "comments", "reach"]].to_numpy(dtype="float64") < 0).any():
        pytest.skip("negative counts are worded differently for typed and text cells")
    as_text = frame.copy()
    for col in ("post_id", "likes", "comments", "reach"):
        as_text[col] = pd.array([str(v) for v in frame[col].tolist()], dtype="str")
    typed, text = _read(frame), _read(as_text)
    pd.testing.assert_frame_equal(typed.data, text.data, check_exact=True)
    pd.testing.assert_frame_equal(typed.report.entries, text.report.entries, check_exact=True)


def test_fast_paths_are_taken_on_a_typed_export():
    frame = _base(1000)
    assert parsing._plain_counts(frame["likes"]) is not None
    text, missing = reading._integer_text(frame["post_id"])
    assert text.tolist() == [str(v) for v in frame["post_id"]] and not missing.any()
    assert reading._strictly_monotonic(frame["post_id"].to_numpy())
    assert not reading._strictly_monotonic(np.array([1, 2, 2, 3]))
    assert not reading._strictly_monotonic(np.array([1]))
    # where the fast path does not apply, it says so (None) and the general code runs
    assert parsing._plain_counts(pd.Series([1, -1])) is None
    assert parsing._plain_counts(pd.Series([2 ** 63], dtype="uint64")) is None
    assert parsing._plain_counts(pd.Series([1.0, 2.0])) is None
    assert reading._integer_text(pd.Series([1.0, 2.0])) is None
    assert reading._integer_text(pd.Series([True, False])) is None
    text, missing = reading._integer_text(pd.Series([1, None, -3], dtype="Int64"))
    assert text.tolist() == ["1", "", "-3"] and missing.tolist() == [False, True, False]


def test_typed_fast_paths_in_a_collection_match(tmp_path, monkeypatch):
    """The pandas engine over typed Parquet parts (cross-file duplicates, generated ids) is unchanged."""
    parts = [_case("clean"), _case("repeated_ids_and_rows"), _case("nullable_ints"), _case("clean")]
    paths = []
    for i, p in enumerate(parts):
        paths.append(str(tmp_path / f"part-{i}.parquet"))
        p.to_parquet(paths[-1], index=False)
    options = reading.check_file_options("read_posts")

    def read_all():
        return collection.read_files(paths, read_file=reading.read_file, options=options, func="read_posts",
                                     source=str(tmp_path))
    fast_data, fast_report = read_all()
    _slow_paths(monkeypatch)
    slow_data, slow_report = read_all()
    pd.testing.assert_frame_equal(fast_data, slow_data, check_exact=True)
    pd.testing.assert_frame_equal(fast_report.entries, slow_report.entries, check_exact=True)
    assert fast_report.notes == slow_report.notes
    assert (fast_report.entries["rule"] == "duplicate_row").sum() >= 8  # the last file repeats the first


def test_post_id_hash_collisions_never_make_a_duplicate(tmp_path, monkeypatch):
    """Ids carry one 64-bit hash (collection.hash_ids); equal ids are decided on their text. Every id forced
    onto one hash gives the same data and report as the real hashes."""
    a, b = _case("clean"), _case("clean")
    b["likes"] = b["likes"] + 1          # same ids, different rows: duplicate_post_id across files
    c = _case("decreasing_ids")          # other ids
    paths = []
    for i, p in enumerate([a, b, c, a.iloc[:3]]):
        paths.append(str(tmp_path / f"part-{i}.parquet"))
        p.to_parquet(paths[-1], index=False)
    options = reading.check_file_options("read_posts")

    def read_all():
        return collection.read_files(paths, read_file=reading.read_file, options=options, func="read_posts",
                                     source=str(tmp_path))
    data, report = read_all()
    real = collection.hash_ids
    monkeypatch.setattr(collection, "hash_ids", lambda text: tuple(np.zeros_like(h) for h in real(text)))
    data_c, report_c = read_all()
    pd.testing.assert_frame_equal(data, data_c, check_exact=True)
    pd.testing.assert_frame_equal(report.entries, report_c.entries, check_exact=True)
    rules = report.entries["rule"].value_counts()
    assert rules["duplicate_post_id"] == 8 and rules["duplicate_row"] == 3


def test_second_read_without_consistency_checks_has_the_same_data():
    frame = _case("clean")
    frame.loc[2, "likes"] = 10_000          # interactions exceed reach: flagged, data unchanged
    frame.loc[5, "post_id"] = frame.loc[4, "post_id"]
    full = reading.read_file(frame)
    lean = reading.read_file(frame, consistency=False)
    pd.testing.assert_frame_equal(full.data, lean.data, check_exact=True)
    flagged = {"interactions_exceed_reach", "duplicate_post_id"}
    assert flagged <= set(full.report.entries["rule"]) and not flagged & set(lean.report.entries["rule"])


def _read_parts(tmp_path, parts):
    paths = []
    for i, p in enumerate(parts):
        paths.append(str(tmp_path / f"part-{i}.parquet"))
        p.to_parquet(paths[-1], index=False)
    return collection.read_files(paths, read_file=reading.read_file, options=reading.check_file_options("read_posts"),
                                 func="read_posts", source=str(tmp_path))


def test_one_key_record_per_row_when_ids_follow_from_their_cells():
    frame = _case("repeated_ids_and_rows")
    read = reading.read_file(frame, eligible=True)
    summary, keys = collection.split_file(read, 0)
    assert len(keys) == len(read.eligible) == len(frame)
    assert (keys["kind"] == collection.ROW_ID).sum() == len(read.data)


def test_float_ids_rendered_differently_in_two_files_still_find_the_duplicate_row(tmp_path):
    """A float id reads "5" in a file of whole numbers and "5.0" in one with 2.5: identical rows of the two
    files are still found (their rows keep their own hash as key, the ids get records of their own)."""
    a, b = _case("clean"), _case("clean")
    a["post_id"] = a["post_id"].astype("float64")
    b["post_id"] = b["post_id"].astype("float64")
    b.loc[7, "post_id"] = 2.5
    read = reading.read_file(b, eligible=True)
    assert not read.id_by_cell and read.data["post_id"].iloc[0] == "101.0"
    assert reading.read_file(a).data["post_id"].iloc[0] == "101"
    data, report = _read_parts(tmp_path, [a, b])
    dup = report.entries[report.entries["rule"] == "duplicate_row"]
    assert dup["source_row"].tolist() == list(range(9, 16))  # b's rows 1-7 repeat a's; row 8 differs (2.5)
    assert len(data) == 9


@pytest.mark.parametrize("frame", [
    pd.DataFrame({"a": np.arange(50), "b": np.arange(50) * 2.5, "f": [np.nan, -0.0, 0.0, np.inf, -1e300] * 10,
                  "z": np.arange(50, dtype="int8") - 25, "w": np.arange(50, dtype="uint32"),
                  "g": np.arange(50, dtype="float32") / 3, "bo": np.arange(50) % 3 == 0,
                  "d": np.arange(50).astype("timedelta64[s]")}),
    pd.DataFrame({"i": pd.array([1, None, 3] * 10, dtype="Int64"), "u": np.arange(30, dtype="uint64")}),
    _base(40),
    pd.DataFrame({"c": pd.Categorical([1, 2, 3] * 5), "t": pd.Series(pd.date_range("2024", periods=15))}),
], ids=["numbers", "nullable", "export", "categorical_and_time"])
def test_row_hashes_are_two_different_hashes_and_h1_is_pandas(frame):
    """h1 is pandas' row hash; h2 differs from it on every row, also for tables of numbers only, whose
    pandas hashes ignore the key (two keys alone gave h2 == h1 there: 64 bits, not 128)."""
    h1, h2 = collection.hash_rows(frame)
    ref = pd.util.hash_pandas_object(frame, index=False, hash_key=collection._HASH_KEYS[0]).to_numpy()
    np.testing.assert_array_equal(h1, ref)
    assert (h1 != h2).all()
    # equal rows, equal hashes; the same rows in another order, the same hashes in that order
    order = np.random.default_rng(1).permutation(len(frame))
    g1, g2 = collection.hash_rows(frame.iloc[order].reset_index(drop=True))
    np.testing.assert_array_equal(g1, h1[order])
    np.testing.assert_array_equal(g2, h2[order])


@pytest.mark.parametrize("edit", ["none", "exceed_reach", "exceed_impressions", "below_reach", "missing_count",
                                  "huge_count", "reported_total", "no_exposures", "reach_only"])
def test_consistency_fast_path_matches_the_general_checks(edit, monkeypatch):
    frame = _base(12)
    frame["impressions"] = frame["reach"] * 2
    if edit == "exceed_reach":
        frame.loc[3, "likes"] = 10_000
    elif edit == "exceed_impressions":
        frame.loc[4, "comments"] = 3_000
    elif edit == "below_reach":
        frame.loc[5, "impressions"] = 1
    elif edit == "missing_count":
        frame["likes"] = pd.array([None] + list(range(11)), dtype="Int64")
        frame.loc[6, "comments"] = 5_000
    elif edit == "huge_count":
        frame.loc[2, "reach"] = 2 ** 55
        frame.loc[2, "impressions"] = 2 ** 55 - 1
    elif edit == "reported_total":
        frame["shares"] = 1
        frame["interactions_reported"] = frame["likes"] + frame["comments"] + 1
        frame.loc[7, "interactions_reported"] = 0
    elif edit == "no_exposures":
        frame = frame.drop(columns=["reach", "impressions"])
    elif edit == "reach_only":
        frame = frame.drop(columns=["impressions"])
        frame.loc[1, "likes"] = 99_999
    fast = reading.read_file(frame)
    taken = reading._nothing_to_flag(fast.data, [c for c in ("likes", "comments", "shares") if c in fast.data])
    assert taken == (edit in ("none", "no_exposures", "reported_total"))  # huge_count: beyond 2**50: general
    monkeypatch.setattr(reading, "_nothing_to_flag", lambda data, parts: False)
    slow = reading.read_file(frame)
    pd.testing.assert_frame_equal(fast.report.entries, slow.report.entries, check_exact=True)
    pd.testing.assert_frame_equal(fast.data, slow.data, check_exact=True)
    if edit not in ("none", "no_exposures", "huge_count"):
        assert len(slow.report.entries) > 0
