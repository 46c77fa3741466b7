"""The columnar fast paths of read_posts on one CSV (issue 13) give the output of the general code, cell for cell.

Each fast path is pitted against the general path it shortcuts on adversarial inputs: mixed date formats in
one column, columns that are clean for 99% of their rows, thousands separators, an ambiguous "1.234" next to
"2.5", non-ASCII digits and text, empty strings, whitespace, invisible characters, daylight-saving gaps.
Values, problems (messages included), notes and missing counts must be identical; end to end, the table,
the report entries and the report notes.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from toolkit.data import parsing, reading
from toolkit.data.posts import read_posts


# ---------------------------------------------------------------------------------------------
# counts: plain digits by one pyarrow cast vs every cell through the general parser
# ---------------------------------------------------------------------------------------------
def _general_counts(values, column="likes"):
    return parsing._parse_count_codes(*parsing._factorize_text(values), column=column)


def _assert_same_parse(fast, slow):
    pd.testing.assert_series_equal(fast.values.reset_index(drop=True), slow.values.reset_index(drop=True),
                                   check_names=False)
    pd.testing.assert_frame_equal(fast.problems, slow.problems)
    assert fast.notes == slow.notes
    assert fast.n_missing == slow.n_missing


ODD_COUNTS = ["1,234", "1.234", "2.5", "1.234.567", "1 234", "12'345", "1\u00a0234", "1.2K", "3M", " 12 ", "12 ",
              "\t7", "+7", "-3", "-0", "-000", "-007", "-" + "9" * 15, "-" + "9" * 16, "-" + "9" * 19, " -3", "-3 ",
              "--3", "-3.0", "-1,234", "-\u0663", "0", "007", "", " ", "NA", "n/a", "-", "50%", "abc", "1e3", "3.0",
              "9" * 18, "9" * 19, "1" + "0" * 18, "\u0661\u0662\u0663", "\uff11\uff12", "1\u200b2", "\u200b5",
              "12\u00a0", "¹²", "1_000", "0x10", "1.234K", "1,5K", "٣"]


@pytest.mark.parametrize("extra", [[], ["2.5"], ["1,234,567"], ["1.234.567"]])
def test_plain_digit_counts_match_the_general_parser(extra):
    values = pd.Series(["12", "0", "345"] + ODD_COUNTS + extra + ["12"] * 5, dtype="str")
    _assert_same_parse(parsing._parse_count_text(values, column="likes"), _general_counts(values))


def test_ambiguous_group_is_judged_on_the_same_cells():
    # "1.234" is ambiguous only because "2.5" in the same column uses "." as the decimal mark
    values = pd.Series(["1.234", "2.5"] + ["17"] * 200, dtype="str")
    fast = parsing._parse_count_text(values, column="likes")
    _assert_same_parse(fast, _general_counts(values))
    assert fast.problems["rule"].tolist() == ["unparseable_number", "non_integer_count"]


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_counts_clean_for_99_percent_match(seed):
    rng = np.random.default_rng(seed)
    n = 3000
    values = rng.integers(0, 10 ** rng.integers(1, 12, size=n)).astype(str).astype(object)
    odd = rng.choice(n, size=30, replace=False)
    values[odd] = rng.choice(ODD_COUNTS, size=len(odd))
    s = pd.Series(values, dtype="str")
    _assert_same_parse(parsing._parse_count_text(s, column="reach"), _general_counts(s, "reach"))


@pytest.mark.parametrize("values", [[], [""], ["5"], ["5", "6"], ["", "NA"], ["9" * 19], ["", "", "4"], [" ", ""]])
def test_counts_edge_sizes_match(values):
    s = pd.Series(values, dtype="str")
    _assert_same_parse(parsing._parse_count_text(s, column="likes"), _general_counts(s))


@pytest.mark.parametrize("seed", [0, 1])
def test_counts_of_some_rows_match_the_rows_taken_first(seed):
    # read_posts parses the kept rows of a column without copying their texts (rows=...)
    rng = np.random.default_rng(seed)
    values = np.array(["12", "", "1.2K", "1.234", "2.5", "7", " 3", "NA", "-1"] * 40, dtype=object)
    rng.shuffle(values)
    s = pd.Series(values, dtype="str")
    rows = np.sort(rng.choice(len(s), size=200, replace=False))
    fast = parsing._parse_count_text(s, column="likes", rows=rows)
    _assert_same_parse(fast, _general_counts(s.iloc[rows]))
    assert len(fast.values) == 200


def test_count_text_of_object_cells_matches():
    s = pd.Series(["1", None, 2, "1,234", np.nan, " 3 "], dtype=object)
    _assert_same_parse(parsing._parse_count_text(s, column="likes"), _general_counts(s))


# ---------------------------------------------------------------------------------------------
# dates: fixed-width cells decoded before cleaning vs every cell cleaned and sent to the recognisers
# ---------------------------------------------------------------------------------------------
MIXED_DATES = ["2024-03-01 10:00:00+07:00", "2024-03-01T10:00:00Z", "2024-03-01 10:00", "2024-03-01",
               "13/03/2024 08:30", "03/13/2024 08:30", "3/4/2024", "01.03.2024 10:00", "2024/1/21 10:31",
               "1709251200", "1709251200000", "3 March 2024 10:00", "Mar 3, 2024 10:00 AM", "not a date", "",
               "NA", " ", "  2024-03-01 10:00:00+07:00 ", "2024-03-01\u200b 10:00:00+07:00",
               "２０２４-03-01 10:00:00+07:00", "2024-03-01  10:00:00+07:00", "2024-02-30 10:00:00+07:00",
               "1600-01-01 00:00:00+00:00", "2024-03-10 02:30:00", "2024-11-03 01:30:00", "2024-03-01 10:00:00 UTC",
               "2024-03-01 10:00:00+0700", "2024-03-01 10:00:00,07:00", "2024-3-1 9:05"]


def _dates_both_ways(values, monkeypatch, **options):
    fast = parsing.parse_datetime_series(values, **options)
    with monkeypatch.context() as m:
        m.setattr(parsing, "_FIXED_WIDTH_DATES", False)
        slow = parsing.parse_datetime_series(values, **options)
    return fast, slow


@pytest.mark.parametrize("timezone", [None, "America/New_York"])
@pytest.mark.parametrize("first", ["", "NA", "not a date", "2024-03-01 10:00:00", "2024-03-01 10:00:00+07:00"])
def test_mixed_date_column_matches_the_general_parser(first, timezone, monkeypatch):
    values = pd.Series([first] + MIXED_DATES + ["2024-03-10 02:30:00", "2024-03-05 14:22:10"] * 3, dtype="str")
    fast, slow = _dates_both_ways(values, monkeypatch, timezone=timezone)
    _assert_same_parse(fast, slow)
    pd.testing.assert_series_equal(fast.values, slow.values)


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
@pytest.mark.parametrize("timezone", [None, "Europe/Berlin"])
def test_date_column_clean_for_99_percent_matches(seed, timezone, monkeypatch):
    rng = np.random.default_rng(seed)
    n = 2000
    stamps = pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 365 * 86400, size=n), unit="s")
    layout = ["%Y-%m-%d %H:%M:%S+07:00", "%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d"][seed % 4]
    values = np.array(list(stamps.strftime(layout)), dtype=object)
    odd = rng.choice(n, size=20, replace=False)
    values[odd] = rng.choice(MIXED_DATES, size=len(odd))
    s = pd.Series(values, dtype="str")
    fast, slow = _dates_both_ways(s, monkeypatch, timezone=timezone)
    _assert_same_parse(fast, slow)


def test_dates_with_a_non_range_index_and_a_name(monkeypatch):
    values = pd.Series(["2024-03-01 10:00:00+07:00", " 2024-03-02 10:00:00+07:00", "soon", "",
                        "2024-03-10 02:30:00"], index=[10, 3, 3, 7, 1], name="posted_at", dtype="str")
    fast, slow = _dates_both_ways(values, monkeypatch, timezone="America/New_York")
    pd.testing.assert_series_equal(fast.values, slow.values)
    _assert_same_parse(fast, slow)
    assert list(fast.values.index) == [10, 3, 3, 7, 1] and fast.values.name == "posted_at"


def test_lost_local_times_quote_the_cell_text(monkeypatch):
    # a naive time in a daylight-saving gap, once decoded by the fixed-width pass and once after cleaning
    values = pd.Series(["2024-03-10 02:30:00", " 2024-03-10 02:45:00 ", "2024-03-11 02:30:00"], dtype="str")
    fast, slow = _dates_both_ways(values, monkeypatch, timezone="America/New_York")
    _assert_same_parse(fast, slow)
    assert fast.problems["original_value"].tolist() == ["2024-03-10 02:30:00", "2024-03-10 02:45:00"]


@pytest.mark.parametrize("date_format", ["%d/%m/%Y %H:%M", "%Y-%m-%d %H:%M:%S%z"])
def test_date_format_never_takes_the_fixed_width_pass(date_format, monkeypatch):
    values = pd.Series(["2024-03-01 10:00:00+07:00", "13/03/2024 08:30", ""], dtype="str")
    fast, slow = _dates_both_ways(values, monkeypatch, date_format=date_format)
    _assert_same_parse(fast, slow)


def test_each_date_recogniser_reads_only_what_it_is_given():
    text = pd.Series(["2024-03-01 10:00", "13/03/2024 08:30", "1709251200", "x"], dtype="str")
    todo = np.array([False, True, True, True])
    assert not parsing._dates_iso(text, todo).taken.any()
    slash = parsing._dates_slashed(text, todo, column="posted_at")
    assert slash.taken.tolist() == [False, True, False, False]
    assert slash.notes == ("posted_at: slash dates read as day/month/year (some days exceed 12).",)
    epoch = parsing._dates_epoch(text, todo & ~slash.taken, column="posted_at")
    assert epoch.taken.tolist() == [False, False, True, False]
    assert todo.tolist() == [False, True, True, True]  # the caller's mask is never changed


# ---------------------------------------------------------------------------------------------
# whole files: every fast path on vs every general path, same table and report
# ---------------------------------------------------------------------------------------------
def _messy_export(seed: int, n: int = 1500) -> str:
    rng = np.random.default_rng(seed)
    stamps = pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 365 * 86400, size=n), unit="s")
    frame = pd.DataFrame({
        "post_id": [f"p{i:05d}" for i in range(n)],
        "account": rng.choice(["a1", "a2", "a3", "N/A", " a4 ", "ä5"], size=n),
        "department": rng.choice(["PR", "IT", "pr ", "Marketing", "ＰＲ"], size=n),
        "posted_at": stamps.strftime("%Y-%m-%d %H:%M:%S+07:00"),
        "reach": rng.integers(1, 10 ** 6, size=n).astype(str),
        "likes": rng.integers(0, 500, size=n).astype(str),
        "comments": rng.integers(0, 50, size=n).astype(str),
    })
    for col, odd in (("posted_at", MIXED_DATES), ("reach", ODD_COUNTS), ("likes", ODD_COUNTS),
                     ("comments", ["", "", "NA", "2.5", "1.234"])):
        rows = rng.choice(n, size=n // 50, replace=False)
        frame.loc[rows, col] = rng.choice(odd, size=len(rows))
    dups = rng.choice(n, size=10, replace=False)
    frame = pd.concat([frame, frame.iloc[dups]], ignore_index=True)
    return frame.to_csv(index=False)


def _general_count_text(values, *, column, rows=None, index=None, name=None):
    values = values if rows is None else values.iloc[rows]
    return parsing._parse_count_codes(*parsing._factorize_text(values), column=column, index=index, name=name)


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("timezone", [None, "Asia/Bangkok"])
def test_read_posts_fast_paths_match_the_general_paths(seed, timezone, tmp_path, monkeypatch):
    path = tmp_path / "export.csv"
    path.write_text(_messy_export(seed), encoding="utf-8")
    data, report = read_posts(path, timezone=timezone)
    monkeypatch.setattr(parsing, "_FIXED_WIDTH_DATES", False)
    monkeypatch.setattr(parsing, "_parse_count_text", _general_count_text)
    monkeypatch.setattr(reading, "_read_uniform_grid", lambda text, delim, data=None: None)
    slow_data, slow_report = read_posts(path, timezone=timezone)
    pd.testing.assert_frame_equal(data, slow_data)
    pd.testing.assert_frame_equal(report.entries, slow_report.entries)
    assert report.notes == slow_report.notes
    assert {"abbreviated_number", "unparseable_date", "duplicate_row"} <= set(report.entries["rule"])


# ---------------------------------------------------------------------------------------------
# the text file itself: ASCII files are not decoded, blank lines and record counts still checked
# ---------------------------------------------------------------------------------------------
HEADER = "post_id,account,department,posted_at,likes"
FILES = {
    "ascii": HEADER + "\n1,a,PR,2024-03-01 10:00,5\n2,b,IT,2024-03-02 10:00,6\n",
    "non-ascii": HEADER + "\n1,ä,PR,2024-03-01 10:00,5\n2,中文,IT,2024-03-02 10:00,6\n",
    "empty first fields": HEADER + "\n,a,PR,2024-03-01 10:00,5\n,,,,\n2,b,IT,2024-03-02 10:00,6\n",
    "blank line at the end": HEADER + "\n1,a,PR,2024-03-01 10:00,5\n\n",
    "crlf blank line at the end": HEADER + "\r\n1,a,PR,2024-03-01 10:00,5\r\n\r\n",
    "blank first line": "\n" + HEADER + "\n1,a,PR,2024-03-01 10:00,5\n",
    "crlf": HEADER + "\r\n1,a,PR,2024-03-01 10:00,5\r\n2,b,IT,2024-03-02 10:00,6",
    "whitespace only": " \n\t\n",
    "separators only": "\x1c\x1d \n",
    "control character in a value": HEADER + "\n1,a\x1fb,PR,2024-03-01 10:00,5\n",
}


def _outcome(path, **options):
    try:
        data, report = read_posts(path, **options)
    except ValueError as exc:
        return ("error", str(exc))
    return data, report.entries, report.notes


@pytest.mark.parametrize("name", sorted(FILES))
@pytest.mark.parametrize("encoding", [None, "utf-8", "utf-8-sig", "cp1252"])
def test_text_files_match_the_exact_scan(name, encoding, tmp_path, monkeypatch):
    path = tmp_path / "export.csv"
    try:
        path.write_bytes(FILES[name].encode(encoding or "utf-8"))
    except UnicodeEncodeError:
        pytest.skip("text not representable in this encoding")
    fast = _outcome(path, encoding=encoding)
    monkeypatch.setattr(reading, "_read_uniform_grid", lambda text, delim, data=None: None)
    slow = _outcome(path, encoding=encoding)
    assert isinstance(fast[0], str) == isinstance(slow[0], str)
    if isinstance(fast[0], str):
        assert fast == slow
        return
    pd.testing.assert_frame_equal(fast[0], slow[0])
    pd.testing.assert_frame_equal(fast[1], slow[1])
    assert fast[2] == slow[2]


def test_ascii_space_check_matches_str_isspace():
    # an ASCII file is checked for emptiness on its bytes: the same answer as ``not text or text.isspace()``
    for code in range(128):
        for raw in (bytes([code]), b" " + bytes([code]) + b"\n", bytes([code]) * 3):
            text = raw.decode("ascii")
            assert (reading._ASCII_NON_SPACE.search(raw) is None) == (not text or text.isspace())
    assert reading._ASCII_NON_SPACE.search(b"") is None


def test_ascii_detection_matches_decoding():
    for raw in (b"a,b\n1,2\n", b"", b"\x7f\x00", b"\xef\xbb\xbfa,b\n"):
        expected = parsing.DetectedEncoding("utf-8-sig", "UTF-8 byte-order mark") if raw.startswith(b"\xef") \
            else parsing.DetectedEncoding("utf-8", "valid UTF-8")
        assert parsing.detect_encoding(raw) == expected


@pytest.mark.parametrize("name", ["ascii", "non-ascii", "empty first fields", "crlf"])
def test_uniform_files_take_the_fast_path(name):
    data = FILES[name].encode("utf-8")
    assert reading._read_uniform_grid(None, ",", data=data) is not None


@pytest.mark.parametrize("name", ["blank line at the end", "crlf blank line at the end", "blank first line"])
def test_blank_lines_leave_the_fast_path(name):
    assert reading._read_uniform_grid(None, ",", data=FILES[name].encode("utf-8")) is None


# ---------------------------------------------------------------------------------------------
# row rules: blank cells and repeated headers, on fewer cells than before
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("seed", [0, 1])
def test_text_missing_prefilter_matches_cleaning_every_cell(seed):
    rng = np.random.default_rng(seed)
    vocabulary = ["p000001", "abcdef", "NA", "none", "NONE", "null", "", " ", "\u200b", "n/a", "-", "nan", "NaT",
                  "  x  ", "abcde", "abcd", "ＮＡ", "Ａbcdef", "a b c d e", "#N/A", "<NA>", "\u00a0NA\u00a0", None]
    s = pd.Series(rng.choice(np.array(vocabulary, dtype=object), size=3000), dtype="str")
    expected = reading._cleaned_missing(s)
    assert reading._text_missing(s).tolist() == expected.tolist()
    assert reading._text_missing(s.iloc[:500]).tolist() == expected[:500].tolist()


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("width", [1, 2, 3, 6, 9])
def test_repeated_header_rows_match_counting_every_column(seed, width):
    rng = np.random.default_rng(seed)
    names = [f"c{j}" for j in range(width)]
    frame = pd.DataFrame({name: pd.Series(rng.choice([name, "x", "", "c0"], size=300, p=[0.3, 0.4, 0.2, 0.1]),
                                          dtype="str") for name in names})
    keep = rng.random(300) > 0.1
    hits = sum((frame[name] == name).to_numpy(dtype=bool) for name in names)
    need = max(1 if width == 1 else 2, int(np.ceil(width / 2)))
    assert reading._repeated_header_rows(frame, keep).tolist() == (keep & (hits >= need)).tolist()


@pytest.mark.parametrize("values", [["p0001", "p0002"], ["p0001", " p0002"], ["p0001", ""], ["abcde", "NONE"],
                                    ["p0001", None], ["12345", "1234"], ["p0001", "p\u200b0002"], []])
def test_cleaned_ids_match_cleaning_every_cell(values):
    s = pd.Series(values, dtype="str")
    text, blank = reading._cleaned_text(s)
    cleaned = parsing._clean(parsing._to_text(s))
    pd.testing.assert_series_equal(text, cleaned)
    assert blank.tolist() == parsing._missing_mask(cleaned).to_numpy(dtype=bool).tolist()


@pytest.mark.parametrize("pattern", ["all", "some", "alternating", "blocks"])
def test_fixed_width_grid_of_chunked_text_matches_the_general_parser(pattern, monkeypatch):
    # the fixed-width pass reads the text of each Arrow chunk in place (runs of cells of the layout's width)
    import pyarrow as pa

    n = 600
    good = [f"2024-{1 + i % 12:02d}-{1 + i % 28:02d} {i % 24:02d}:{i % 60:02d}:00+07:00" for i in range(n)]
    cells = list(good)
    if pattern == "some":
        for i in (0, 5, 6, 299, 599):
            cells[i] = "2024-3-1 10:00:00+07:00"
    elif pattern == "alternating":
        cells = [c if i % 2 else c[:-6] for i, c in enumerate(good)]
    elif pattern == "blocks":
        cells = [c if (i // 20) % 2 else "x" for i, c in enumerate(good)]  # the layout comes from cell 20
    chunked = pa.chunked_array([pa.array(cells[:250], pa.large_string()), pa.array(cells[250:], pa.large_string())])
    values = pd.Series(pd.array(chunked, dtype="str"))
    fast, slow = _dates_both_ways(values, monkeypatch)
    _assert_same_parse(fast, slow)
    pd.testing.assert_series_equal(fast.values, slow.values)
    mask, ns, aware = parsing._fixed_width_iso(values, np.ones(n, dtype=bool))
    # the layout is the first cell's: with alternating layouts, only the cells of the first one are decoded here
    first = {"all": 0, "some": 1, "alternating": 0, "blocks": 20}[pattern]  # the first cell of a known layout
    expected = np.array([len(c) == len(cells[first]) for c in cells])
    assert mask.tolist() == expected.tolist() and aware == (pattern != "alternating")


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("fast", [True, False])
def test_dates_of_some_rows_match_the_rows_taken_first(seed, fast, monkeypatch):
    # read_posts parses the kept rows of posted_at without copying their texts (rows=...)
    monkeypatch.setattr(parsing, "_FIXED_WIDTH_DATES", fast)
    rng = np.random.default_rng(seed)
    values = np.array(["2024-03-05 14:22:10+07:00"] * 200 + ["2024-03-10 02:30:00"] * 20 + MIXED_DATES * 3,
                      dtype=object)
    rng.shuffle(values)
    s = pd.Series(values, dtype="str")
    rows = np.sort(rng.choice(len(s), size=len(s) - 40, replace=False))
    for timezone in (None, "America/New_York"):
        got = parsing._parse_datetime_text(s, rows=rows, timezone=timezone, date_format=None, excel_serials=False,
                                           column="posted_at")
        want = parsing.parse_datetime_series(s.iloc[rows].reset_index(drop=True), timezone=timezone)
        _assert_same_parse(got, want)
        pd.testing.assert_series_equal(got.values, want.values)


@pytest.mark.parametrize("values", [["5", "-1", "-2", ""], ["-1", "-0", "-00012"], ["-1", "1.2K", "", "2.5", "1.234"]])
def test_negative_counts_match_the_general_parser(values):
    s = pd.Series(values * 3, dtype="str")
    fast = parsing._parse_count_text(s, column="shares")
    _assert_same_parse(fast, _general_counts(s, "shares"))
    assert (fast.problems["rule"] == "negative_count").sum() == 3 * sum(v.startswith("-") and v.strip("-0") != ""
                                                                         for v in values)


@pytest.mark.parametrize("cells", [[["a", " ", ""], ["\u00a0", "\u3000x", "\t"]], [["x"]], [[" \u200b ", "\u2028"]]])
def test_nonblank_cells_match_pandas_strip(cells):
    head = pd.DataFrame({j: pd.Series([row[j] for row in cells], dtype="str") for j in range(len(cells[0]))})
    expected = (head.apply(lambda col: col.str.strip()) != "").to_numpy(dtype=bool)
    assert reading._nonblank_cells(head).tolist() == expected.tolist()
