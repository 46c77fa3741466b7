"""Tests for toolkit.data.parsing: the pure per-column parsers behind read_posts."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from toolkit.data.parsing import (PROBLEM_COLUMNS, detect_encoding, normalize_label, parse_count_series,
                                  parse_datetime_series, parse_flag_series, sniff_delimiter)


def _rules(result):
    return dict(zip(result.problems["position"], result.problems["rule"]))


# ---------------------------------------------------------------------------------------------
# counts
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("text, expected", [
    ("1234", 1234), (" 42 ", 42), ("\u00a07\u00a0", 7), ("+5", 5), ("0", 0),
    ("1,234", 1234), ("1.234.567", 1234567), ("1 234", 1234), ("12'345", 12345), ("1\u202f234", 1234),
    ("1,234,567", 1234567), ("3.0", 3), ("3,00", 3), ("1.2E+05", 120000), ("1,234.0", 1234),
])
def test_count_forms_parse_silently(text, expected):
    r = parse_count_series(pd.Series([text]), column="likes")
    assert r.values.tolist() == [expected]
    assert r.problems.empty


@pytest.mark.parametrize("text, expected", [("1.2K", 1200), ("3M", 3_000_000), ("2b", 2_000_000_000),
                                            ("1,5k", 1500), ("1.234K", 1234), ("12 K", 12000)])
def test_abbreviations_are_expanded_and_recorded(text, expected):
    r = parse_count_series(pd.Series([text]), column="likes")
    assert r.values.tolist() == [expected]
    assert r.problems["rule"].tolist() == ["abbreviated_number"]
    assert r.problems["action"].tolist() == ["repaired"]
    assert r.problems["original_value"].tolist() == [text.strip()]
    assert r.problems["new_value"].tolist() == [str(expected)]


@pytest.mark.parametrize("text, rule", [("12%", "percent_in_count"), ("2.5", "non_integer_count"),
                                        ("-3", "negative_count"), ("-1,000", "negative_count"),
                                        ("abc", "unparseable_number"), ("1.234.5", "unparseable_number"),
                                        ("1.5k5", "unparseable_number"), ("99999999999999999999", "unparseable_number")])
def test_bad_counts_become_missing_with_a_problem(text, rule):
    r = parse_count_series(pd.Series(["1", text]), column="shares")
    assert r.values.tolist() == [1, pd.NA]
    assert _rules(r) == {1: rule}
    row = r.problems.iloc[0]
    assert row["action"] == "repaired" and row["new_value"] == "<NA>" and row["original_value"] == text
    assert "shares" in row["message"]


@pytest.mark.parametrize("text", ["1E300", "9" * 19 + "K", "\u0663", "\uff11\uff12"])
def test_huge_and_non_ascii_numbers_are_unparseable(text):
    r = parse_count_series(pd.Series([text]), column="likes")
    assert r.values.isna().all()
    assert r.problems["rule"].tolist() == ["unparseable_number"]


def test_missing_tokens_are_counted_not_problems():
    r = parse_count_series(pd.Series(["", "NA", "n/a", " - ", "null", "None", "5"]), column="likes")
    assert r.values.isna().sum() == 6
    assert r.n_missing == 6
    assert r.problems.empty
    assert list(r.problems.columns) == list(PROBLEM_COLUMNS)


def test_thousands_separators_are_noted():
    r = parse_count_series(pd.Series(["1,234", "5"]), column="reach")
    assert any("thousands separators" in n and "reach" in n for n in r.notes)


def test_numeric_input_checked_the_same_way():
    r = parse_count_series(pd.Series([1.0, 2.5, -1.0, np.nan, 7.0]), column="likes")
    assert r.values.tolist() == [1, pd.NA, pd.NA, pd.NA, 7]
    assert _rules(r) == {1: "non_integer_count", 2: "negative_count"}
    assert r.n_missing == 1
    assert str(r.values.dtype) == "Int64"


def test_count_parser_keeps_index_and_does_not_mutate():
    s = pd.Series(["1", "x"], index=[10, 20])
    before = s.copy()
    r = parse_count_series(s)
    assert list(r.values.index) == [10, 20]
    pd.testing.assert_series_equal(s, before)


# ---------------------------------------------------------------------------------------------
# flags
# ---------------------------------------------------------------------------------------------
def test_flags():
    r = parse_flag_series(pd.Series(["1", "0", "TRUE", "false", "Yes", "no", "Paid", "ORGANIC", "", "maybe"]))
    assert r.values.tolist() == [True, False, True, False, True, False, True, False, pd.NA, pd.NA]
    assert _rules(r) == {9: "unparseable_flag"}
    assert r.n_missing == 1
    assert str(r.values.dtype) == "boolean"


# ---------------------------------------------------------------------------------------------
# dates
# ---------------------------------------------------------------------------------------------
def _ts(text):
    return pd.Timestamp(text).tz_convert("UTC") if pd.Timestamp(text).tzinfo else pd.Timestamp(text, tz="UTC")


def test_iso_with_mixed_offsets_goes_to_utc():
    r = parse_datetime_series(pd.Series(["2024-03-01T10:00:00+07:00", "2024-03-01T10:00:00Z",
                                         "2024-03-01 10:00:00-05:00"]))
    assert r.values.tolist() == [_ts("2024-03-01 03:00Z"), _ts("2024-03-01 10:00Z"), _ts("2024-03-01 15:00Z")]
    assert str(r.values.dtype) == "datetime64[ns, UTC]"
    assert r.problems.empty


def test_naive_times_localised_with_timezone():
    r = parse_datetime_series(pd.Series(["2024-03-01 10:00", "01.02.2024 07:30"]), timezone="Asia/Bangkok")
    assert r.values.tolist() == [_ts("2024-03-01 03:00Z"), _ts("2024-02-01 00:30Z")]
    assert any("Asia/Bangkok" in n for n in r.notes)


def test_naive_without_timezone_assumes_utc_and_notes_it():
    r = parse_datetime_series(pd.Series(["2024-03-01 10:00"]))
    assert r.values.tolist() == [_ts("2024-03-01 10:00Z")]
    assert any("UTC was assumed" in n for n in r.notes)


def test_us_slash_dates_with_disambiguating_row():
    r = parse_datetime_series(pd.Series(["3/4/2024 9:05", "12/25/2024 18:00", "1/2/2024 1:05 PM"]))
    assert r.values.tolist() == [_ts("2024-03-04 09:05Z"), _ts("2024-12-25 18:00Z"), _ts("2024-01-02 13:05Z")]
    assert any("month/day/year" in n for n in r.notes)


def test_day_first_slash_dates_with_disambiguating_row():
    r = parse_datetime_series(pd.Series(["03/04/2024 10:00", "25/12/2024 10:00"]))
    assert r.values.tolist() == [_ts("2024-04-03 10:00Z"), _ts("2024-12-25 10:00Z")]
    assert any("day/month/year" in n for n in r.notes)


def test_ambiguous_slash_dates_note_the_assumption_and_the_override():
    r = parse_datetime_series(pd.Series(["03/04/2024 10:00", "05/06/2024 11:00"]))
    assert r.values.tolist()[0] == _ts("2024-03-04 10:00Z")
    note = " ".join(r.notes)
    assert "ambiguous" in note and "date_format='%d/%m/%Y %H:%M'" in note


def test_date_format_forces_reading():
    r = parse_datetime_series(pd.Series(["03/04/2024 10:00", "oops"]), date_format="%d/%m/%Y %H:%M")
    assert r.values.tolist()[0] == _ts("2024-04-03 10:00Z")
    assert _rules(r) == {1: "unparseable_date"}
    assert "date_format" in r.problems["message"].iloc[0]


def test_epoch_seconds_and_milliseconds():
    r = parse_datetime_series(pd.Series(["1709287200", "1709287200000"]), timezone="Asia/Bangkok")
    # epoch values are UTC by definition: the timezone does not shift them
    assert r.values.tolist() == [_ts("2024-03-01 10:00Z")] * 2


def test_excel_serials_only_when_asked():
    on = parse_datetime_series(pd.Series(["45352.5"]), excel_serials=True)
    assert on.values.tolist() == [_ts("2024-03-01 12:00Z")]
    off = parse_datetime_series(pd.Series(["45352.5"]))
    assert _rules(off) == {0: "unparseable_date"}


def test_month_names_fallback():
    r = parse_datetime_series(pd.Series(["3 March 2024 10:00", "Mar 4, 2024 1:00 PM"]))
    assert r.values.tolist() == [_ts("2024-03-03 10:00Z"), _ts("2024-03-04 13:00Z")]


def test_unparseable_and_out_of_range_dates():
    r = parse_datetime_series(pd.Series(["", "soon", "9999-01-01", "2024-13-45", "2024-03-01"]))
    assert _rules(r) == {1: "unparseable_date", 2: "unparseable_date", 3: "unparseable_date"}
    assert (r.problems["action"] == "repaired").all()
    assert r.n_missing == 1
    assert r.values.notna().tolist() == [False, False, False, False, True]


def test_relative_words_are_not_dates():
    r = parse_datetime_series(pd.Series(["today", "now", "tomorrow"]))
    assert r.values.isna().all()
    assert set(r.problems["rule"]) == {"unparseable_date"}


def test_nonexistent_local_time_is_a_problem():
    r = parse_datetime_series(pd.Series(["2024-03-10 02:30", "2024-03-10 04:00"]), timezone="America/New_York")
    assert _rules(r) == {0: "nonexistent_local_time"}
    assert r.values.tolist()[1] == _ts("2024-03-10 08:00Z")


def test_datetime_dtype_input():
    naive = pd.Series(pd.to_datetime(["2024-03-01 10:00", None]))
    r = parse_datetime_series(naive, timezone="Europe/Berlin")
    assert r.values.tolist()[0] == _ts("2024-03-01 09:00Z")
    assert r.n_missing == 1
    aware = pd.Series(pd.to_datetime(["2024-03-01 10:00+01:00"], utc=True))
    assert parse_datetime_series(aware).values.tolist() == [_ts("2024-03-01 09:00Z")]


# ---------------------------------------------------------------------------------------------
# labels, encodings, delimiters
# ---------------------------------------------------------------------------------------------
def test_normalize_label():
    s = pd.Series([" Customer\u00a0 service ", "ＰＲ", "Mar\u200bketing", "Sa\u00adles", "\ufeffIT", None])
    assert normalize_label(s).tolist()[:5] == ["Customer service", "PR", "Marketing", "Sales", "IT"]
    assert pd.isna(normalize_label(s).iloc[5])


def test_detect_encoding_utf8_and_bom():
    assert detect_encoding("a,b\n1,é\n".encode("utf-8")).encoding == "utf-8"
    assert detect_encoding("a,b\n1,é\n".encode("utf-8-sig")).encoding == "utf-8-sig"


def test_detect_encoding_refuses_to_guess_short_ambiguous_bytes():
    with pytest.raises(ValueError, match=r"first invalid byte 0xE9 at byte offset 24.*encoding='cp1252'"):
        detect_encoding("post_id,department\n1,Café\n".encode("cp1252"))


def test_detect_encoding_undecodable_bytes():
    with pytest.raises(ValueError, match=r"byte offset 0.*tried utf-8-sig, utf-8, then charset-normalizer"):
        detect_encoding(bytes(range(128, 256)) * 3)


@pytest.mark.parametrize("delim", [",", ";", "\t", "|"])
def test_sniff_delimiter(delim):
    rows = [["post_id", "Page total likes", "note"], ["1", "139441", "a, b; c"], ["2", "5", "x"]]
    text = "\n".join(delim.join(f'"{c}"' if any(d in c for d in ",;\t|") else c for c in r) for r in rows) + "\n"
    assert sniff_delimiter(text) == delim


def test_sniff_delimiter_single_column_defaults_to_comma():
    assert sniff_delimiter("likes\n1\n2\n") == ","


# ---------------------------------------------------------------------------------------------
# issue 12: typed counts beyond int64, year-first dates, record shapes, title lines and sniffing
# ---------------------------------------------------------------------------------------------
def test_typed_counts_beyond_int64_are_unparseable_not_wrapped():
    r = parse_count_series(pd.Series(np.array([2**63, 5, 2**64 - 1, 2**60 + 1], dtype="uint64")), column="likes")
    assert r.values.tolist() == [pd.NA, 5, pd.NA, 2**60 + 1]  # exact: integers are never routed through float
    assert _rules(r) == {0: "unparseable_number", 2: "unparseable_number"}
    assert r.problems["original_value"].tolist() == ["9223372036854775808", "18446744073709551615"]
    r = parse_count_series(pd.Series([1e20, np.inf, -np.inf, 3.0, 2.0**63, 2.0**62]), column="reach")
    assert r.values.tolist() == [pd.NA, pd.NA, pd.NA, 3, pd.NA, 2**62]
    assert set(r.problems["rule"]) == {"unparseable_number"}
    assert "is not a finite number" in r.problems["message"].iloc[1]
    r = parse_count_series(pd.Series(pd.array([2**63, None, 3], dtype="UInt64")))
    assert r.values.tolist() == [pd.NA, pd.NA, 3] and r.n_missing == 1


@pytest.mark.parametrize("text, expected", [
    ("2022/1/21 10:31", "2022-01-21 10:31"), ("2022/01/21", "2022-01-21"), ("2022-1-5 9:05", "2022-01-05 09:05"),
    ("2022.1.5", "2022-01-05"), ("2022/1/21 10:31:05", "2022-01-21 10:31:05"), ("2018/12/3 0:00", "2018-12-03"),
])
def test_year_first_dates(text, expected):
    r = parse_datetime_series(pd.Series([text]), timezone="UTC")
    assert r.values.tolist() == [pd.Timestamp(expected, tz="UTC")]
    assert r.problems.empty


def test_year_first_dates_that_do_not_exist_are_problems():
    r = parse_datetime_series(pd.Series(["2022/13/40 10:00", "2022/2/30", "2022/1/21"]))
    assert _rules(r) == {0: "unparseable_date", 1: "unparseable_date"}
    assert "year/month/day" in r.problems["message"].iloc[0]


def test_record_shapes_agrees_with_the_csv_module_and_pandas():
    import io
    from toolkit.data.parsing import _record_shapes_csv, record_shapes
    texts = ['a,b,c\n1,"x\ny,z",3\n4,5\n', "a,b\n1,2\n\n3,4", 'a,b\r\n1,"2,,",\r\n\r\n', '12" TV,b\n1,2\n',
             '"a"",b",c\n1,2', '"",""\n', "a,b\n1,2,3,4\n5\n", "x\n", "a\rb\r", 'a,"b\r\nc",d\r\n1,2,3\r\n']
    for text in texts:
        fast, lines = record_shapes(text, ",")
        slow, slow_lines = _record_shapes_csv(text, ",")
        np.testing.assert_array_equal(fast, slow, err_msg=repr(text))
        np.testing.assert_array_equal(lines, slow_lines, err_msg=repr(text))
        grid = pd.read_csv(io.StringIO(text), header=None, names=range(int(fast.max())), dtype=str,
                           keep_default_na=False, na_filter=False, skip_blank_lines=False)
        assert len(grid) == len(fast), repr(text)


def test_sniff_delimiter_is_not_fooled_by_a_title_line():
    text = "Facebook Insights, page export\npost_id;likes;reach\n1;2;3\n4;5;6\n7;8;9\n"
    assert sniff_delimiter(text) == ";"
