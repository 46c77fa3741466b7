"""The fast paths of read_posts (issue 13) never differ from the general code they shortcut.

Each fast path has a switch or a general path next to it; these tests run both on inputs chosen to sit
on the edges of the fast path (invalid calendar dates, offsets, odd quoting, blank lines, invisible
characters, repeated and missing values) and require identical output: values, problems, notes and
report entries.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from toolkit.data import parsing, reading
from toolkit.data.posts import read_posts

# ---------------------------------------------------------------------------------------------
# dates: fixed-width ISO 8601 decoded from bytes vs the general parser
# ---------------------------------------------------------------------------------------------
TRICKY_DATES = [
    "2024-03-01 10:00:00+07:00", "2024-02-29 23:59:59-05:30", "2023-02-29 10:00:00+07:00",
    "2024-13-01 10:00:00+07:00", "2024-00-10 10:00:00+07:00", "2024-03-00 10:00:00+07:00",
    "2024-04-31 10:00:00+07:00", "2024-03-01 24:00:00+07:00", "2024-03-01 10:60:00+07:00",
    "2024-03-01 10:00:60+07:00", "1699-03-01 10:00:00+07:00", "2201-03-01 10:00:00+07:00",
    "1677-09-21 00:12:43+00:00", "2262-04-11 23:47:16+00:00", "2024-03-01 10:00:00+15:00",
    "2024-03-01 10:00:00+07:60", "2024-03-01 10:00:00,07:00", "2024-03-01T10:00:00+07:00",
    "2024-03-01 10:00:00Z", "2024-03-01 10:00:00+0700", "2024-03-01 10:00:00 +07:00",
    "2024-03-01 10:00:00 UTC", "2024-3-01 10:00:00+07:00", "2024-03-01 10:00:00.5+07:00", "", "NA", "-",
    "2024-03-01 10:00", "2024-03-01T10:00", "2024-03-01", "2024-03-01-05:00", "x024-03-01 10:00:00+07:00",
    "2000-01-01 00:00:00-14:59", "1970-01-01 00:00:00+00:00", "1900-02-28 12:00:00+01:00",
    "2100-02-29 12:00:00+01:00", "2000-02-29 12:00:00+01:00", "2024-03-10 02:30:00", "2024-11-03 01:30:00",
    "  2024-03-01 10:00:00+07:00 ", "2024-03-01\u200b 10:00:00+07:00", "2024-03-01  10:00:00+07:00",
    "13/03/2024 08:30", "1709251200", "3 March 2024 10:00", "２０２４-03-01 10:00:00+07:00",
]
FIRST_VALUES = ["2024-03-01 10:00:00+07:00", "2024-03-01 10:00", "2024-03-01T10:00", "2024-03-01",
                "2024-03-01T10:00:00+07:00", "2024-03-01 10:00:00Z", "2024-03-01 10:00:00+0700",
                "2024-03-01 10:00:00", "2024-02-30 10:00:00+07:00"]


@pytest.mark.parametrize("first", FIRST_VALUES)
@pytest.mark.parametrize("timezone", [None, "America/New_York"])
def test_fixed_width_dates_match_the_general_parser(first, timezone, monkeypatch):
    values = pd.Series([first] + TRICKY_DATES + [first] * 3, dtype="str")
    fast = parsing.parse_datetime_series(values, timezone=timezone)
    monkeypatch.setattr(parsing, "_FIXED_WIDTH_DATES", False)
    slow = parsing.parse_datetime_series(values, timezone=timezone)
    pd.testing.assert_series_equal(fast.values, slow.values)
    pd.testing.assert_frame_equal(fast.problems, slow.problems)
    assert fast.notes == slow.notes and fast.n_missing == slow.n_missing


def test_fixed_width_dates_are_used_and_exact():
    values = pd.Series(["2024-03-01 10:00:00+07:00", "2024-02-29 23:59:59-05:30", "bad"], dtype="str")
    mask, ns, aware = parsing._fixed_width_iso(values, np.ones(3, dtype=bool))
    assert mask.tolist() == [True, True, False] and aware
    assert pd.to_datetime(ns, utc=True).tolist() == [pd.Timestamp("2024-03-01 03:00:00", tz="UTC"),
                                                      pd.Timestamp("2024-03-01 05:29:59", tz="UTC")]


def test_fixed_width_dates_with_a_non_range_index(monkeypatch):
    values = pd.Series(["2024-03-01 10:00:00+07:00", "nope", "2024-03-02 10:00:00+07:00"], index=[7, 3, 9],
                       dtype="str")
    fast = parsing.parse_datetime_series(values)
    monkeypatch.setattr(parsing, "_FIXED_WIDTH_DATES", False)
    slow = parsing.parse_datetime_series(values)
    pd.testing.assert_series_equal(fast.values, slow.values)
    pd.testing.assert_frame_equal(fast.problems, slow.problems)


# ---------------------------------------------------------------------------------------------
# counts, missing tokens: distinct values expanded by codes vs one call per cell
# ---------------------------------------------------------------------------------------------
TRICKY_COUNTS = ["12", "12", " 12 ", "1,234", "1.2K", "1.2K", "-3", "-3", "2.5", "50%", "abc", "", "NA", "n/a",
                 "+7", "1e3", "1.234.5", "9" * 19, "\u00a07\u00a0", "1\u200b2", "12", "-3", "3.0", "1 234"]


def test_counts_on_distinct_values_match_cell_by_cell():
    values = pd.Series(TRICKY_COUNTS, dtype="str")
    whole = parsing.parse_count_series(values, column="likes")
    cells = [parsing.parse_count_series(pd.Series([v], dtype="str"), column="likes") for v in TRICKY_COUNTS]
    assert whole.values.tolist() == [c.values.iloc[0] for c in cells]
    expected = pd.concat([c.problems.assign(position=i) for i, c in enumerate(cells) if len(c.problems)],
                         ignore_index=True)
    pd.testing.assert_frame_equal(whole.problems, expected)
    assert whole.n_missing == sum(c.n_missing for c in cells)


@pytest.mark.parametrize("dtype", ["str", object])
def test_missing_mask_matches_lower_isin(dtype):
    texts = ["", "NA", "na", "N/A", "#N/A", "<NA>", "None", "NULL", "nulls", "-", "--", "---", "İ", "NaT", "nan",
             "x" * 10, "Nä", "NONE ", "ＮＡ"]
    s = pd.Series(texts, dtype=dtype)
    expected = s.str.lower().isin(parsing.MISSING_TOKENS).to_numpy(dtype=bool)
    assert parsing._missing_mask(s).to_numpy(dtype=bool).tolist() == expected.tolist()


# ---------------------------------------------------------------------------------------------
# duplicate rows: exact row keys vs a brute-force comparison
# ---------------------------------------------------------------------------------------------
def _brute_duplicates(frame, eligible):
    seen, dup, first = {}, [], []
    for pos in np.flatnonzero(eligible):
        key = tuple("<missing>" if pd.isna(v) else (type(v).__name__, v) for v in frame.iloc[pos].tolist())
        if key in seen:
            dup.append(pos)
            first.append(seen[key])
        else:
            seen[key] = pos
    return dup, first


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_duplicate_rows_match_brute_force(seed):
    rng = np.random.default_rng(seed)
    n = 400
    frame = pd.DataFrame({
        "post_id": pd.Series(rng.choice(["a", "b", "c", "", "d "], size=n), dtype="str"),
        "account": pd.Series(rng.choice(["x", "y", None], size=n), dtype="str"),
        "likes": rng.choice([1.0, 2.0, np.nan], size=n),
        "n": rng.integers(0, 3, size=n),
    })
    eligible = rng.random(n) > 0.1
    dup, first = reading._duplicate_rows(frame, eligible)
    want_dup, want_first = _brute_duplicates(frame, eligible)
    assert dup.tolist() == want_dup and first.tolist() == want_first


def test_duplicate_rows_with_unhashable_cells():
    frame = pd.DataFrame({"post_id": ["a", "a", "b"], "tags": [["x"], ["x"], ["y"]]})
    dup, first = reading._duplicate_rows(frame, np.ones(3, dtype=bool))
    assert dup.tolist() == [1] and first.tolist() == [0]


# ---------------------------------------------------------------------------------------------
# text files: pyarrow's reader (records of uniform width) vs pandas' C parser with the exact scan
# ---------------------------------------------------------------------------------------------
HEADER = "post_id,account,department,posted_at,likes,comments"
TEXTS = {
    "plain": HEADER + "\n1,a,PR,2024-03-01 10:00,5,1\n2,b,IT,2024-03-02 10:00,1.2K,\n",
    "crlf": (HEADER + "\r\n1,a,PR,2024-03-01 10:00,5,1\r\n2,b,IT,2024-03-02 10:00,6,2\r\n"),
    "no final newline": HEADER + "\n1,a,PR,2024-03-01 10:00,5,1\n2,b,IT,2024-03-02 10:00,6,2",
    "quoted delimiter and newline": (HEADER + '\n1,"a, b",PR,2024-03-01 10:00,5,1\n2,"line\nbreak",IT,'
                                     '2024-03-02 10:00,6,2\n3,"say ""hi""",IT,2024-03-02 10:00,6,2\n'),
    "quoted crlf": HEADER + '\r\n1,"a\r\nb",PR,2024-03-01 10:00,5,1\r\n2,b,IT,2024-03-02 10:00,6,2\r\n',
    "stray quote": HEADER + '\n1,12" screen,PR,2024-03-01 10:00,5,1\n2,b,IT,2024-03-02 10:00,6,2\n',
    "blank lines": HEADER + "\n\n1,a,PR,2024-03-01 10:00,5,1\n\n2,b,IT,2024-03-02 10:00,6,2\n\n",
    "trailing delimiter": HEADER + "\n1,a,PR,2024-03-01 10:00,5,1,\n2,b,IT,2024-03-02 10:00,6,2\n",
    "short and long rows": (HEADER + "\n1,a,PR,2024-03-01 10:00,5,1\n2,b,IT\n3,c,HR,2024-03-02 10:00,6,2,9\n"
                            "4,d,HR,2024-03-02 10:00,6,2\n5,e,HR,2024-03-02 10:00,6,2\n"),
    "title line": "Page export,,,,,\n" + HEADER + "\n1,a,PR,2024-03-01 10:00,5,1\n2,b,IT,2024-03-02 10:00,6,2\n",
    "repeated header and summary": (HEADER + "\n1,a,PR,2024-03-01 10:00,5,1\n" + HEADER +
                                    "\n2,b,IT,2024-03-02 10:00,6,2\nTotal,,,,11,3\n"),
    "duplicates and blanks": (HEADER + "\n1,a,PR,2024-03-01 10:00,5,1\n1,a,PR,2024-03-01 10:00,5,1\n,,,,,\n"
                              ",b,it ,2024-03-02 10:00,NA,-\n"),
    "unicode and invisible": (HEADER + "\n1,Ａ\u200b,ＰＲ,2024-03-01 10:00,5,1\n2,é,PR ,2024-03-02 10:00,6,2\n"),
    "header only": HEADER + "\n",
    "bare carriage returns": HEADER + "\r1,a,PR,2024-03-01 10:00,5,1\r2,b,IT,2024-03-02 10:00,6,2\r",
    "tabs and double spaces": (HEADER + "\n1,a,PR,2024-03-01\t10:00,5,1\n2,b,IT,2024-03-02  10:00,6,2\n"
                               "3,c,IT,2024-03-02 10:00,6,2\n"),
    "semicolons": HEADER.replace(",", ";") + "\n1;a;PR;2024-03-01 10:00;5;1\n2;b;IT;01.03.2024 10:00;1,5K;2\n",
    "crlf blank line": HEADER + "\r\n1,a,PR,2024-03-01 10:00,5,1\r\n\r\n2,b,IT,2024-03-02 10:00,6,2\r\n",
    "messy counts": (HEADER + "\n1,a,PR,2024-03-01 10:00,-3,1\n2,b,IT,2024-03-02 10:00,1.2K,2.5\n"
                     "3,c,IT,2024-03-02 10:00,,9223372036854775808\n4,d,HR,2024-03-02 10:00,7.0,"
                     "99999999999999999999\n5,e,HR,2024-03-02 10:00,1e3,+4\n6,f,HR,2024-03-02 10:00,8,3\n"
                     "7,g,HR,2024-03-02 10:00,9,4\n"),
    "messy dates": (HEADER + "\n1,a,PR,2024-03-01 10:00:00+07:00,5,1\n2,b,IT,2024-03-02 10:00:00-05:30,6,2\n"
                    "3,c,IT,not a date,6,2\n4,d,HR,2024-02-30 10:00:00+07:00,6,2\n5,e,HR,03/04/2024 10:00,6,2\n"
                    "6,f,HR,2024-03-02T10:00:00Z,6,2\n7,g,HR,,6,2\n"),
}


def _read(path):
    try:
        data, report = read_posts(path)
    except ValueError as exc:
        return ("error", str(exc))
    return data, report.entries, report.notes


@pytest.mark.parametrize("name", sorted(TEXTS))
def test_text_fast_path_matches_the_exact_scan(name, tmp_path, monkeypatch):
    path = tmp_path / "export.csv"
    path.write_bytes(("\ufeff" if name in ("plain", "quoted delimiter and newline") else "").encode()
                     + TEXTS[name].encode("utf-8"))
    fast = _read(path)
    monkeypatch.setattr(reading, "_read_uniform_grid", lambda text, delim, data=None: None)
    slow = _read(path)
    assert isinstance(fast[0], str) == isinstance(slow[0], str)
    if isinstance(fast[0], str):
        assert fast == slow
        return
    pd.testing.assert_frame_equal(fast[0], slow[0])
    pd.testing.assert_frame_equal(fast[1], slow[1])
    assert fast[2] == slow[2]


def test_text_fast_path_is_taken_for_a_clean_file():
    text = HEADER + '\n1,"a, b",PR,2024-03-01 10:00,5,1\n2,"x\ny",IT,2024-03-02 10:00,6,2\n'
    grid, counts, lines = reading._read_uniform_grid(text, ",")
    assert counts.tolist() == [6, 6, 6] and lines.tolist() == [1, 2, 3]
    assert grid.iloc[2, 1] == "x\ny" and str(grid[0].dtype) == "str"
    assert reading._read_uniform_grid(TEXTS["short and long rows"], ",") is None
    assert reading._read_uniform_grid(TEXTS["blank lines"], ",") is None
    assert reading._read_uniform_grid(TEXTS["crlf blank line"], ",") is None


@pytest.mark.parametrize("order", ["ascending", "descending", "shuffled"])
def test_equality_codes_match_factorize(order):
    rng = np.random.default_rng(3)
    values = sorted(rng.choice(["a", "b", "b ", "c", "cc", "d"], size=300).tolist())
    if order == "descending":
        values = values[::-1]
    elif order == "shuffled":
        rng.shuffle(values)
    s = pd.Series(values, dtype="str")
    codes = reading._equality_codes(s)
    reference = pd.factorize(s)[0]
    same = codes[:, None] == codes[None, :]
    assert (same == (reference[:, None] == reference[None, :])).all()
    frame = pd.DataFrame({"post_id": s, "n": rng.integers(0, 2, size=300)})
    eligible = np.ones(300, dtype=bool)
    dup, first = reading._duplicate_rows(frame, eligible)
    want_dup, want_first = _brute_duplicates(frame, eligible)
    assert dup.tolist() == want_dup and first.tolist() == want_first


@pytest.mark.parametrize("values", [["a b", "a  b", "c"], ["a\tb", "x"], ["plain", "text"], ["a\u00a0b", "é"],
                                    ["a\x1cb"], ["", " "], ["a\r\nb", "c"]])
def test_collapse_whitespace_matches_the_regex(values):
    s = pd.Series(values, dtype="str")
    expected = s.str.replace(parsing._WHITESPACE_RUN, " ", regex=True)
    pd.testing.assert_series_equal(parsing._collapse_whitespace(s), expected)
    pd.testing.assert_series_equal(parsing._collapse_whitespace(s.iloc[1:]), expected.iloc[1:])


@pytest.mark.parametrize("repeat", [1, 3000])
def test_summary_label_prefilter_matches_the_pattern(repeat):
    values = ["Total", " total:", "\tGrand total", "ſum", "SUM (all)", "Sub-total", "合计", "總計", "average",
              "Mean - weekly", "x total", "", "p0001", "\u00a0Total", "Totals", "AVG", "grand  total", None] * repeat
    s = pd.Series(values, dtype="str")
    expected = s.str.contains(reading.SUMMARY_LABEL_PATTERN, regex=True).to_numpy(dtype=bool, na_value=False)
    got = reading._contains_by_distinct(s, reading.SUMMARY_LABEL_PATTERN)
    assert got.tolist() == expected.tolist()
    assert got[:4].tolist() == [True, True, True, expected[3]]


# ---------------------------------------------------------------------------------------------
# text columns factorized once over all rows, then restricted to the kept rows
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_take_factorized_matches_factorizing_the_kept_rows(seed):
    rng = np.random.default_rng(seed)
    words = np.array(["PR", "pr ", "", "IT", "NA", "Total", "ＰＲ", "x"], dtype=object)
    values = pd.Series(words[rng.integers(0, len(words), 500)], dtype="str")
    rows = np.flatnonzero(rng.random(500) < 0.7)
    codes, distinct = reading._take_factorized(*parsing._factorize_text(values), rows)
    want_codes, want_distinct = parsing._factorize_text(values.iloc[rows])
    assert codes.tolist() == want_codes.tolist()
    pd.testing.assert_series_equal(distinct, want_distinct)
    empty_codes, empty_distinct = reading._take_factorized(*parsing._factorize_text(values), rows[:0])
    assert len(empty_codes) == 0 and len(empty_distinct) == 0


def test_values_only_in_excluded_rows_leave_no_trace(tmp_path):
    # the repeated header, the summary row and the duplicate hold labels and counts that no kept row has
    header = "post_id,account,department,platform,content_type,posted_at,likes"
    text = (header + "\n1,a,PR,fb,photo,2024-03-01 10:00,5\n2,b,IT,Facebook,Reel,2024-03-02 10:00,6\n"
            + header + "\nTotal,,Sales,X,carousel,,1.5K\n3,c,HR,Instagram,video,2024-03-03 10:00,7\n"
            "3,c,HR,Instagram,video,2024-03-03 10:00,7\n")
    path = tmp_path / "export.csv"
    path.write_text(text, encoding="utf-8")
    data, report = read_posts(path)
    assert sorted(report.entries["rule"]) == ["duplicate_row", "repeated_header", "summary_row"]
    assert "Sales" not in list(data["department"].cat.categories)
    assert "carousel" not in " ".join(report.notes) and "'content_type'" not in " ".join(report.notes)
    assert data["likes"].tolist() == [5, 6, 7]


@pytest.mark.parametrize("name", sorted(TEXTS))
def test_summary_rows_from_shared_codes_match_the_general_check(name, tmp_path, monkeypatch):
    path = tmp_path / "export.csv"
    path.write_bytes(TEXTS[name].encode("utf-8"))
    fast = _read(path)
    monkeypatch.setattr(reading, "_FACTORIZED_ONCE", ())
    slow = _read(path)
    if isinstance(fast[0], str):
        assert fast == slow
        return
    pd.testing.assert_frame_equal(fast[0], slow[0])
    pd.testing.assert_frame_equal(fast[1], slow[1])
    assert fast[2] == slow[2]
