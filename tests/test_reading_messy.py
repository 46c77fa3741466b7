"""The messy-export battery: real-world export defects that used to go wrong without a word.

Every case is built here (small files in ``tmp_path``; no fixture is committed) and must end in one
of two ways: a clear ValueError whose message names the problem and the fix, or a table whose
quality report names every row that was dropped. Nothing may be lost silently, and no raw pandas or
numpy error may escape. For every case that reads, rows in = rows kept + rows excluded.

Each case was first run against the code before issue 12 and failed (columns shifted, a summary or
header row read as a post, a column silently renamed ``likes.1``, ids regenerated, wrapped integers,
a whole date column "repaired" to missing).
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from toolkit.data.posts import read_posts


def _write(tmp_path, text, name="export.csv", encoding="utf-8"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def _rules(report, rule):
    e = report.entries
    return e[e["rule"] == rule].reset_index(drop=True)


def _accounted(data, report, n_rows_in):
    """Rows in = rows kept + rows excluded, and the kept rows are exactly the ones not excluded."""
    assert report.n_rows_in == n_rows_in
    assert len(data) + report.n_rows_excluded == n_rows_in
    kept = set(data["source_row"].tolist())
    assert kept.isdisjoint(report.excluded_rows)
    assert kept | set(report.excluded_rows) == set(range(1, n_rows_in + 1))
    report.check(data)


# ---------------------------------------------------------------------------------------------
# 1. shape errors are never shifts
# ---------------------------------------------------------------------------------------------
def test_trailing_delimiter_on_data_rows_only(tmp_path):
    text = "post_id,department,likes,reach\np1,PR,5,100,\np2,IT,7,200,\np3,HR,9,300,\n"
    data, report = read_posts(_write(tmp_path, text))
    assert data["post_id"].tolist() == ["p1", "p2", "p3"]          # not departments
    assert data["department"].tolist() == ["PR", "IT", "HR"]
    assert data["likes"].tolist() == [5, 7, 9] and data["reach"].tolist() == [100, 200, 300]
    assert report.entries.empty
    assert any("3 of 3 data row(s) end with the delimiter" in n and "no column was shifted" in n
               for n in report.notes)
    _accounted(data, report, 3)


def test_trailing_delimiter_on_header_and_rows(tmp_path):
    data, report = read_posts(_write(tmp_path, "post_id;likes;\np1;5;\np2;6;\n"))
    assert list(data.columns) == ["post_id", "likes", "source_row"]
    assert any("header line ends with the delimiter" in n for n in report.notes)
    _accounted(data, report, 2)


def test_unquoted_line_break_inside_text_is_named_not_a_phantom_post(tmp_path):
    text = ("post_id,caption,likes,reach\n"
            "p1,Hello,5,100\n"
            "p2,First line\n"                 # the caption continues on the next line, unquoted
            "second line,7,200\n"
            "p3,Bye,9,300\n")
    data, report = read_posts(_write(tmp_path, text))
    assert data["post_id"].tolist() == ["p1", "p3"]
    e = _rules(report, "wrong_field_count")
    assert e["source_row"].tolist() == [2, 3] and (e["action"] == "excluded").all()
    assert all("line break inside a value that is not quoted" in m for m in e["message"])
    assert e["original_value"].tolist() == ["p2,First line", "second line,7,200"]
    _accounted(data, report, 4)


def test_export_cut_off_mid_row(tmp_path):
    text = "post_id,department,likes,reach\np1,PR,5,100\np2,IT,7,200\np3,HR"
    data, report = read_posts(_write(tmp_path, text))
    assert data["post_id"].tolist() == ["p1", "p2"]
    e = _rules(report, "wrong_field_count")
    assert e["source_row"].tolist() == [3]
    assert "last row of the file: the export was probably cut off" in e["message"].iloc[0]
    _accounted(data, report, 3)


def test_unquoted_delimiter_inside_a_value(tmp_path):
    text = "post_id,caption,likes\np1,Hello,5\np2,Hello, world,6\np3,Bye,7\n"
    data, report = read_posts(_write(tmp_path, text))
    assert data["likes"].tolist() == [5, 7]  # 'world' never becomes a like count
    e = _rules(report, "wrong_field_count")
    assert e["source_row"].tolist() == [2] and "delimiter inside a value that is not quoted" in e["message"].iloc[0]
    _accounted(data, report, 3)


# ---------------------------------------------------------------------------------------------
# 2. rows that are not posts
# ---------------------------------------------------------------------------------------------
def test_total_row_in_post_id_is_excluded(tmp_path):
    text = "post_id,department,likes,reach\np1,PR,5,100\np2,IT,7,200\nTotal,,12,300\n"
    data, report = read_posts(_write(tmp_path, text))
    assert data["likes"].sum() == 12  # not 24
    e = _rules(report, "summary_row")
    assert e[["source_row", "column", "original_value"]].values.tolist() == [[3, "post_id", "Total | 12 | 300"]]
    assert "summary row ('Total' in 'post_id')" in e["message"].iloc[0]
    _accounted(data, report, 3)


@pytest.mark.parametrize("label", ["Total", "TOTAL:", "Grand total", "Sum", "Average", "合计", "Total (2 posts)"])
def test_summary_label_in_department_does_not_become_a_department(tmp_path, label):
    text = f"post_id,department,likes\np1,PR,5\np2,IT,7\n,{label},12\n"
    data, report = read_posts(_write(tmp_path, text))
    assert set(data["department"].cat.categories) == {"PR", "IT"}
    assert _rules(report, "summary_row")["source_row"].tolist() == [3]
    _accounted(data, report, 3)


def test_total_row_in_a_categorical_column():
    raw = pd.DataFrame({"department": pd.Categorical(["PR", "IT", "Total"]), "likes": [1, 2, 3]})
    data, report = read_posts(raw)
    assert data["department"].tolist() == ["PR", "IT"]
    assert _rules(report, "summary_row")["source_row"].tolist() == [3]


def test_department_names_that_merely_start_like_a_total_are_kept():
    data, report = read_posts(pd.DataFrame({"department": ["Total Rewards", "Summit team", "PR"],
                                            "likes": ["1", "2", "3"]}))
    assert len(data) == 3 and _rules(report, "summary_row").empty


def test_header_repeated_mid_file(tmp_path):
    text = ("post_id,department,likes\np1,PR,5\np2,IT,7\n"
            "post_id,department,likes\np3,HR,9\n")      # two exports pasted together
    data, report = read_posts(_write(tmp_path, text))
    assert data["post_id"].tolist() == ["p1", "p2", "p3"]
    e = _rules(report, "repeated_header")
    assert e["source_row"].tolist() == [3] and "repeats the column names" in e["message"].iloc[0]
    _accounted(data, report, 4)


META_HEADER = ["Post ID", "Permalink", "Post Message", "Type", "Posted", "Lifetime Post Total Reach",
               "Lifetime Post Total Impressions", "Lifetime Engaged Users"]
META_DESCRIPTION = ["", "", "", "", "",
                    "Lifetime: The number of people who had your Page's post enter their screen. (Unique Users)",
                    "Lifetime: The number of times your Page's post entered a person's screen. (Total Count)",
                    "Lifetime: The number of unique people who engaged in certain ways with your Page post. "
                    "(Unique Users)"]
META_COLUMNS = {"Post ID": "post_id", "Type": "content_type", "Posted": "posted_at",
                "Lifetime Post Total Reach": "reach", "Lifetime Post Total Impressions": "impressions"}


def _csv_line(cells):
    return ",".join(f'"{c}"' if ("," in c or "'" in c) else c for c in cells)


def test_meta_descriptive_second_header_row(tmp_path):
    rows = [META_HEADER, META_DESCRIPTION,
            ["1_10", "https://fb.com/1", "Hello", "Photo", "2024-03-01 10:00", "120", "150", "12"],
            ["1_11", "https://fb.com/2", "Again", "Video", "2024-03-02 10:00", "80", "95", "4"]]
    path = _write(tmp_path, "\n".join(_csv_line(r) for r in rows) + "\n")
    data, report = read_posts(path, columns=META_COLUMNS)
    assert data["post_id"].tolist() == ["1_10", "1_11"]
    assert data["reach"].tolist() == [120, 80]
    e = _rules(report, "descriptive_header")
    assert e["source_row"].tolist() == [1]
    assert "Meta's page-post export" in e["message"].iloc[0] and "Lifetime: The number" in e["message"].iloc[0]
    _accounted(data, report, 3)


def test_two_meta_exports_pasted_together(tmp_path):
    first = [META_HEADER, META_DESCRIPTION,
             ["1_10", "https://fb.com/1", "Hello", "Photo", "2024-03-01 10:00", "120", "150", "12"]]
    second = [META_HEADER, META_DESCRIPTION,
              ["1_12", "https://fb.com/3", "Later", "Link", "2024-04-01 10:00", "60", "70", "3"]]
    path = _write(tmp_path, "\n".join(_csv_line(r) for r in first + second) + "\n")
    data, report = read_posts(path, columns=META_COLUMNS)
    assert data["post_id"].tolist() == ["1_10", "1_12"]
    assert _rules(report, "repeated_header")["source_row"].tolist() == [3]
    assert _rules(report, "descriptive_header")["source_row"].tolist() == [1, 4]
    _accounted(data, report, 5)


# ---------------------------------------------------------------------------------------------
# 3. header problems
# ---------------------------------------------------------------------------------------------
def test_duplicate_column_names_are_an_error_with_the_fix(tmp_path):
    path = _write(tmp_path, "post_id,likes,reach,likes\np1,5,100,6\np2,7,200,8\n")
    with pytest.raises(ValueError, match=r"unique column names; got \"repeated names \(header on line 1\): 'likes' "
                                         r"at columns 2, 4\".*duplicate_columns='number'"):
        read_posts(path)
    data, report = read_posts(path, duplicate_columns="number")
    assert data["likes"].tolist() == [5, 7] and data["likes (2)"].tolist() == [6, 8]
    assert any("numbered" in n and "'likes' at columns 2, 4" in n for n in report.notes)
    chosen, _ = read_posts(path, duplicate_columns="number", columns={"likes": "likes_first", "likes (2)": "likes"})
    assert chosen["likes"].tolist() == [6, 8]
    with pytest.raises(ValueError, match=r"unique column names"):
        read_posts(pd.DataFrame([[1, 2]], columns=["likes", "likes"]))


def test_title_rows_above_the_header_are_detected_and_noted(tmp_path):
    text = ("Facebook Insights: page posts\nExported 2024-03-05\n\n"
            "post_id;department;likes;reach\np1;PR;5;100\np2;IT;7;200\n")
    data, report = read_posts(_write(tmp_path, text))
    assert data["post_id"].tolist() == ["p1", "p2"] and data["likes"].tolist() == [5, 7]
    assert any("column names are on line 4, not line 1" in n and "header_row=" in n for n in report.notes)
    assert "Delimiter: ';' (detected)." in report.notes
    _accounted(data, report, 2)


def test_header_row_argument(tmp_path):
    # a title as wide as the table defeats detection: the user says where the header is
    text = "Report,Acme,March,2024\npost_id,department,likes,reach\np1,PR,5,100\n"
    path = _write(tmp_path, text)
    with pytest.raises(ValueError, match=r"The column names seem to be on line 2 \(it holds 'post_id'\), not line 1: "
                                         r"pass header_row=2"):
        read_posts(path)
    data, report = read_posts(path, header_row=2)
    assert data["post_id"].tolist() == ["p1"]
    assert any("Header taken from line 2 (header_row=2)" in n for n in report.notes)
    with pytest.raises(ValueError, match=r"pandas' header=0 is header_row=1 here"):
        read_posts(path, header_row=0)
    with pytest.raises(TypeError, match=r"`header_row` must be None or the line number"):
        read_posts(path, header_row="2")


def test_missing_mapped_column_points_at_the_header_line(tmp_path):
    text = "Report,Acme,March,2024\nPost ID,Team,Likes,Reach\np1,PR,5,100\n"
    with pytest.raises(ValueError, match=r"keyed by columns that exist in the source; got 'Likes'.*pass header_row=2"):
        read_posts(_write(tmp_path, text), columns={"Likes": "likes"})


def test_misspelt_mapping_keys_and_targets_get_did_you_mean():
    raw = pd.DataFrame({"Lifetime Post Total Reach": ["1"], "Likes": ["2"]})
    with pytest.raises(ValueError, match=r"got 'lifetime post total  reach'.*Did you mean 'Lifetime Post Total Reach'"):
        read_posts(raw, columns={"lifetime post total  reach": "reach"})
    with pytest.raises(ValueError, match=r"got 'Reach'.*Did you mean 'reach'"):
        read_posts(raw, columns={"Lifetime Post Total Reach": "Reach"})
    with pytest.raises(ValueError, match=r"`allow_unparseable` must be a list of count.*Did you mean 'posted_at'"):
        read_posts(raw, allow_unparseable=["posted"])


# ---------------------------------------------------------------------------------------------
# 4. what a DataFrame or Parquet file carries
# ---------------------------------------------------------------------------------------------
def test_post_id_index_is_kept():
    raw = pd.DataFrame({"likes": [5, 7]}, index=pd.Index(["a1", "a2"], name="post_id"))
    data, report = read_posts(raw)
    assert data["post_id"].tolist() == ["a1", "a2"]  # not regenerated
    assert any("index 'post_id'" in n and "kept as column(s) 'post_id'" in n for n in report.notes)


def test_multiindex_levels_are_kept_as_columns():
    index = pd.MultiIndex.from_tuples([("PR", "@pr"), ("IT", "@it")], names=["department", "account"])
    data, report = read_posts(pd.DataFrame({"likes": [5, 7]}, index=index))
    assert data["department"].tolist() == ["PR", "IT"] and data["account"].tolist() == ["@pr", "@it"]
    assert any("MultiIndex levels 'department', 'account'" in n for n in report.notes)


def test_plain_range_index_adds_nothing():
    data, report = read_posts(pd.DataFrame({"likes": [5, 7]}, index=pd.RangeIndex(10, 12)))
    assert list(data.columns) == ["post_id", "likes", "source_row"]
    assert not any("index" in n for n in report.notes)


def test_index_name_clashing_with_a_column():
    raw = pd.DataFrame({"post_id": ["x", "y"], "likes": [1, 2]}, index=pd.Index([7, 8], name="post_id"))
    data, report = read_posts(raw)
    assert data["post_id"].tolist() == ["x", "y"] and data["post_id (index)"].tolist() == [7, 8]


def test_typed_counts_beyond_int64_become_missing_with_entries(tmp_path):
    frame = pd.DataFrame({"post_id": ["a", "b", "c", "d"],
                          "likes": np.array([2**63, 5, 2**64 - 1, 7], dtype="uint64"),
                          "reach": [1e20, 100.0, np.inf, 200.0]})
    path = tmp_path / "typed.parquet"
    frame.to_parquet(path)
    data, report = read_posts(path, allow_unparseable=["reach"])
    assert data["likes"].tolist() == [pd.NA, 5, pd.NA, 7]
    assert data["likes"].mean() == 6  # no wrapped -9223372036854775808 in the mean
    assert data["reach"].tolist() == [pd.NA, 100, pd.NA, 200]
    e = _rules(report, "unparseable_number")
    assert e[["source_row", "column", "original_value"]].values.tolist() == [
        [1, "reach", "1e+20"], [1, "likes", "9223372036854775808"], [3, "reach", "inf"],
        [3, "likes", "18446744073709551615"]]
    assert "too large for a count" in e["message"].iloc[0]
    _accounted(data, report, 4)


# ---------------------------------------------------------------------------------------------
# 5. columns that mostly fail to parse are not "repairs"
# ---------------------------------------------------------------------------------------------
def test_year_first_dates_are_read(tmp_path):
    text = "post_id,posted_at\np1,2022/1/21 10:31\np2,2022/01/21\np3,2022-1-5 9:05\n"
    data, report = read_posts(_write(tmp_path, text))
    assert data["posted_at"].tolist() == [pd.Timestamp("2022-01-21 10:31", tz="UTC"),
                                          pd.Timestamp("2022-01-21", tz="UTC"),
                                          pd.Timestamp("2022-01-05 09:05", tz="UTC")]
    assert _rules(report, "unparseable_date").empty


def test_mostly_unparseable_dates_stop_the_read_with_the_fix(tmp_path):
    text = "post_id,posted_at\np1,21.01.22 10:31\np2,22.01.22 11:00\np3,2022-01-23 09:00\n"
    path = _write(tmp_path, text)
    with pytest.raises(ValueError, match=r"could not read most values of 'posted_at': posted_at 2 of 3 non-empty "
                                         r"values \(67%; e.g. '21.01.22 10:31', '22.01.22 11:00'\).*"
                                         r"pass date_format='%d.%m.%y %H:%M', which reads these examples.*"
                                         r"allow_unparseable=\['posted_at'\]"):
        read_posts(path)
    data, report = read_posts(path, allow_unparseable=["posted_at"])
    assert data["posted_at"].isna().tolist() == [True, True, False]
    assert _rules(report, "unparseable_date")["source_row"].tolist() == [1, 2]
    assert any("allow_unparseable names this column" in n for n in report.notes)
    _accounted(data, report, 3)


def test_unreadable_date_column_suggests_a_date_format():
    raw = pd.DataFrame({"posted_at": ["20220121 1031", "20220122 1100"]})
    with pytest.raises(ValueError, match=r"date_format="):
        read_posts(raw)
    raw = pd.DataFrame({"posted_at": ["2022年1月21日 10:31", "2022年1月22日 11:00"]})
    with pytest.raises(ValueError, match=r"pass date_format='%Y年%m月%d日 %H:%M', which reads these examples"):
        read_posts(raw)
    data, _ = read_posts(raw, date_format="%Y年%m月%d日 %H:%M")
    assert data["posted_at"].iloc[0] == pd.Timestamp("2022-01-21 10:31", tz="UTC")


def test_count_column_of_percentages_stops_the_read():
    raw = pd.DataFrame({"post_id": ["a", "b", "c"], "likes": ["12%", "3%", "40"]})
    with pytest.raises(ValueError, match=r"could not read most values of 'likes'.*is mapped from a count column"):
        read_posts(raw)


def test_half_or_fewer_failures_are_still_row_level_repairs():
    data, report = read_posts(pd.DataFrame({"post_id": list("abcd"), "likes": ["1", "lots", "3", "n/a"]}))
    assert data["likes"].tolist() == [1, pd.NA, 3, pd.NA]
    assert _rules(report, "unparseable_number")["source_row"].tolist() == [2]


# ---------------------------------------------------------------------------------------------
# 6. folders name every file they skip
# ---------------------------------------------------------------------------------------------
def _workbook(path, rows):
    openpyxl = pytest.importorskip("openpyxl")
    wb = openpyxl.Workbook()
    for r in rows:
        wb.active.append(r)
    wb.save(path)


def test_folder_names_skipped_files_and_reads_workbooks(tmp_path):
    folder = tmp_path / "exports"
    folder.mkdir()
    (folder / "march.csv").write_text("post_id,likes\np1,5\np2,6\n")
    (folder / "_april.csv").write_text("post_id,likes\np3,7\n")
    _workbook(folder / "may.xlsx", [["May export"], ["post_id", "likes"], ["p4", 8], ["p1", 5]])
    (folder / "notes.json").write_text("{}")
    (folder / "old").mkdir()
    data, report = read_posts(folder)
    assert data["post_id"].tolist() == ["p1", "p2", "p4"]  # may.xlsx read; its copy of row p1 is a duplicate
    assert _rules(report, "duplicate_row")["message"].str.contains("identical to row 1").all()
    assert any(n.startswith("may.xlsx: Excel workbook") and "line 2" in n for n in report.notes)
    skipped = [n for n in report.notes if n.startswith("Skipped")]
    assert len(skipped) == 3
    assert any("'_april.csv'" in n and "starts with '.' or '_'" in n and "pass a list of files" in n for n in skipped)
    assert any("'notes.json'" in n for n in skipped) and any("'old'" in n and "folder" in n for n in skipped)
    _accounted(data, report, 4)
    by_list, _ = read_posts([folder / "march.csv", folder / "_april.csv"])
    assert by_list["post_id"].tolist() == ["p1", "p2", "p3"]
    lazy, report = read_posts(folder, engine="dask")
    assert any("'may.xlsx'" in n and "engine='dask' reads only CSV/Parquet" in n for n in report.notes)


def test_folder_workbook_without_openpyxl_is_named_with_the_fix(tmp_path, monkeypatch):
    (tmp_path / "march.csv").write_text("post_id,likes\np1,5\n")
    (tmp_path / "may.xlsx").write_bytes(b"PK")
    monkeypatch.setitem(__import__("sys").modules, "openpyxl", None)  # import openpyxl now fails
    data, report = read_posts(tmp_path)
    assert data["post_id"].tolist() == ["p1"]
    assert any("'may.xlsx'" in n and "pip install openpyxl" in n for n in report.notes)


def test_folder_with_only_skipped_files_names_them(tmp_path):
    (tmp_path / "_only.csv").write_text("post_id,likes\np1,5\n")
    with pytest.raises(ValueError, match=r"at least one CSV/Parquet file.*Skipped: _only.csv"):
        read_posts(tmp_path)


def test_single_file_options_apply_to_every_file_of_a_folder(tmp_path):
    for i in range(2):
        (tmp_path / f"{i}.csv").write_text(f"Page export,\npost_id,likes\np{i},5\np{i}b,x\n")
    data, report = read_posts(tmp_path, header_row=2, allow_unparseable=["likes"], engine="pandas")
    assert data["post_id"].tolist() == ["p0", "p0b", "p1", "p1b"]
    assert data["likes"].isna().sum() == 2 and report.n_rows_in == 4


def test_folder_with_pandas_engine_needs_no_dask(tmp_path):
    import subprocess
    import sys
    for i in range(2):
        (tmp_path / f"{i}.csv").write_text(f"post_id,likes\np{i},5\n")
    code = ("import sys\nfor m in ('dask', 'dask.dataframe', 'distributed'):\n    sys.modules[m] = None\n"
            f"import toolkit as tk\ndata, report = tk.read_posts({str(tmp_path)!r}, engine='pandas')\n"
            "print(len(data))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.strip() == "2"


# ---------------------------------------------------------------------------------------------
# 7. the battery: every case ends in a clear error or in rows the report names
# ---------------------------------------------------------------------------------------------
#: case -> (file text, data rows read or "error")
MESSY_TEXTS = {
    "trailing_delimiter": ("post_id,likes\np1,5,\np2,6,\n", 2),
    "total_row": ("post_id,likes\np1,5\nTotal,5\n", 2),
    "line_break": ("post_id,caption,likes\np1,a\nb,5\np2,c,6\np3,d,7\np4,e,8\n", 5),
    "cut_off": ("post_id,caption,likes\np1,a,5\np2,b", 2),
    "cut_off_in_quotes": ('post_id,caption,likes\np1,a,5\np2,"b', "error"),
    "duplicate_columns": ("post_id,likes,likes\np1,5,6\n", "error"),
    "title_row": ("My export\npost_id;likes;reach\np1;5;9\n", 1),
    "title_as_wide_as_header": ("A,B,C\npost_id,likes,reach\np1,5,9\n", "error"),
    "repeated_header": ("post_id,likes\np1,5\npost_id,likes\np2,6\n", 3),
    "meta_second_header": ("post_id,reach,impressions\n,Lifetime: The number of people reached,"
                           "Lifetime: The number of times shown\np1,5,9\n", 2),
    "year_first_dates": ("post_id,posted_at\np1,2022/1/21 10:31\n", 1),
    "unreadable_dates": ("post_id,posted_at\np1,21.01.22 10:31\n", "error"),
    "mostly_line_breaks": ("post_id,caption,likes\np1,a\nb,5\np2,c\nd,6\n", "error"),
    "only_bad_rows": ("post_id,likes\np1,5,6,7\np2\n", "error"),
    "stray_quote": ('post_id,caption,likes\np1,12" screen,5\np2,ok,6\n', 2),
    "blank_lines_and_spaces": ("\n\npost_id,likes\n\np1,5\n   \np2,6\n\n", 2),
    "header_only": ("post_id,likes\n", 0),
    "empty_names": (",likes,\n1,5,\n2,6,\n", 2),
}


@pytest.mark.parametrize("case", sorted(MESSY_TEXTS))
def test_messy_battery_text(tmp_path, case):
    text, expected = MESSY_TEXTS[case]
    path = _write(tmp_path, text)
    if expected == "error":  # a clear error: ours, naming the problem and what to pass or fix
        with pytest.raises(ValueError, match=r"^read_posts: .*(pass |Pass |Rename|Check|quot)") as info:
            read_posts(path)
        assert "Error tokenizing" not in str(info.value) or "delimiter" in str(info.value)
        return
    data, report = read_posts(path)
    _accounted(data, report, expected)  # or rows that the report names: nothing lost silently
    excluded = report.entries[report.entries["action"] == "excluded"]
    assert set(excluded["source_row"]) == set(report.excluded_rows)
    assert (excluded["message"].str.len() > 20).all()


def test_battery_frames_and_parquet(tmp_path):
    cases = {
        "post_id_index": pd.DataFrame({"likes": [1, 2]}, index=pd.Index(["a", "b"], name="post_id")),
        "uint64": pd.DataFrame({"likes": np.array([2**63 + 5, 1], dtype="uint64")}),
        "inf_float": pd.DataFrame({"likes": [np.inf, 1.0, 2.0]}),
        "object_numbers": pd.DataFrame({"likes": [10**20, 5, 6]}, dtype=object),
        "total_row": pd.DataFrame({"department": ["PR", "Total"], "likes": [1, 1]}),
    }
    for name, frame in cases.items():
        for source in (frame, tmp_path / f"{name}.parquet"):
            if isinstance(source, Path):
                try:
                    frame.to_parquet(source)
                except (TypeError, ValueError, OverflowError, ImportError):
                    continue  # not representable in Parquet: nothing to read
            data, report = read_posts(source)
            _accounted(data, report, len(frame))
            assert not (data["likes"].dropna() < 0).any(), name


# ---------------------------------------------------------------------------------------------
# 8. a real export: the UCI Thai sellers file rewritten as a GB18030 export with YYYY/M/D H:MM times
# ---------------------------------------------------------------------------------------------
CHINESE_LABELS = {"status_id": "帖子编号", "status_type": "帖子类型", "status_published": "发布时间",
                  "num_reactions": "互动总数", "num_comments": "评论数", "num_shares": "分享数", "num_likes": "点赞数",
                  "num_loves": "喜爱数", "num_wows": "哇数", "num_hahas": "哈哈数", "num_sads": "难过数",
                  "num_angrys": "愤怒数"}
CHINESE_TYPES = {"photo": "照片", "video": "视频", "status": "状态", "link": "链接"}


@pytest.fixture(scope="module")
def thai_original():
    if not os.environ.get("TOOLKIT_DATA_MIRROR", "").strip():
        pytest.skip("TOOLKIT_DATA_MIRROR is not set")
    from toolkit.data.registry import dataset_path

    try:
        path = dataset_path("uci_live_sellers_thailand", "Live_20210128.csv", download=False)
    except FileNotFoundError:
        pytest.skip("the Thai sellers file is not available locally")
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def test_gb18030_export_with_year_first_times_reads_its_dates(thai_original, tmp_path):
    original = thai_original
    stamps = pd.to_datetime(original["status_published"], format="%m/%d/%Y %H:%M")  # as SOURCE.md documents
    export = original.rename(columns=CHINESE_LABELS)
    # the same instants written the way a Chinese spreadsheet export writes them: 2018/4/22 6:00
    export["发布时间"] = (stamps.dt.year.astype(str) + "/" + stamps.dt.month.astype(str) + "/"
                      + stamps.dt.day.astype(str) + " " + stamps.dt.hour.astype(str) + ":"
                      + stamps.dt.strftime("%M"))
    export["帖子类型"] = export["帖子类型"].map(CHINESE_TYPES)
    path = tmp_path / "泰国卖家.csv"
    path.write_bytes(export.to_csv(index=False, lineterminator="\r\n").encode("gb18030"))
    assert export["发布时间"].iloc[0] == "2018/4/22 6:00"

    data, report = read_posts(path, columns={"帖子编号": "post_id", "发布时间": "posted_at", "评论数": "comments",
                                             "分享数": "shares", "点赞数": "likes"})
    assert any(n.startswith("Encoding: gb18030 (detected") for n in report.notes)  # no encoding= needed
    assert _rules(report, "unparseable_date").empty
    assert report.n_rows_in == len(original) == 7050
    _accounted(data, report, len(original))
    # every kept row carries the date of its row in the original file (naive times read as UTC, noted)
    expected = stamps.iloc[data["source_row"].to_numpy(dtype=int) - 1].dt.tz_localize("UTC")
    assert data["posted_at"].tolist() == expected.tolist()
    assert data["comments"].tolist() == original["num_comments"].astype(int).iloc[
        data["source_row"].to_numpy(dtype=int) - 1].tolist()
    assert set(data["帖子类型"]) == set(CHINESE_TYPES.values())
    # every row is read: the 2021 file's sequential ids make even its repeated posts distinct rows
    assert report.n_rows_excluded == 0 and len(data) == 7050
