"""read_posts on a directory, glob or list of files: the same table and report as one file."""
from __future__ import annotations

import pandas as pd
import pytest

import toolkit as tk
from toolkit.data import posts


@pytest.fixture
def parts(tmp_path):
    org = tk.simulate_organization(n_accounts_per_department=2, posts_per_account=10, seed=5)
    data = org.data.drop(columns=["source_row"])
    data["posted_at"] = data["posted_at"].astype(str)
    data.loc[3, "likes"] = -1                      # a repair
    data = pd.concat([data, data.iloc[[7]]], ignore_index=True)  # a duplicate row in the last file
    whole = tmp_path / "whole.csv"
    data.to_csv(whole, index=False)
    folder = tmp_path / "parts"
    folder.mkdir()
    bounds = [0, 40, 90, len(data)]
    for i in range(3):
        data.iloc[bounds[i]:bounds[i + 1]].to_csv(folder / f"part-{i}.csv", index=False)
    return whole, folder


def test_directory_in_memory_equals_single_file(parts):
    whole, folder = parts
    expected, exp_report = tk.read_posts(whole)
    got, report = tk.read_posts(folder)
    assert isinstance(got, pd.DataFrame) and len(got) == len(expected)
    pd.testing.assert_frame_equal(got.drop(columns="source_row").reset_index(drop=True),
                                  expected.drop(columns="source_row"), check_exact=True)
    assert got["source_row"].tolist() == expected["source_row"].tolist()
    cols = ["source_row", "action", "rule", "column"]
    pd.testing.assert_frame_equal(report.entries[cols], exp_report.entries[cols])
    assert "duplicate_row" in set(report.entries["rule"])
    assert any("engine='pandas'" in n and "threshold" in n for n in report.notes)


def test_glob_and_list_and_dask_engine(parts):
    _, folder = parts
    by_glob, _ = tk.read_posts(str(folder / "part-*.csv"))
    by_list, _ = tk.read_posts(sorted(folder.glob("*.csv")), engine="pandas")
    pd.testing.assert_frame_equal(by_glob, by_list)
    lazy, report = tk.read_posts(folder, engine="dask")
    assert type(lazy).__module__.startswith("dask")
    pd.testing.assert_frame_equal(lazy.compute().reset_index(drop=True), by_glob, check_exact=True)


def test_auto_switches_to_dask_above_the_threshold(parts, monkeypatch):
    _, folder = parts
    monkeypatch.setattr(posts, "DASK_THRESHOLD_BYTES", 10)
    lazy, report = tk.read_posts(folder)
    assert type(lazy).__module__.startswith("dask")
    assert any("engine='dask'" in n for n in report.notes)


def test_collection_errors(parts, tmp_path):
    _, folder = parts
    with pytest.raises(ValueError, match="strict.*Read the files one by one"):
        tk.read_posts(folder, strict=True)
    with pytest.raises(ValueError, match="at least one CSV/Parquet file"):
        tk.read_posts(str(tmp_path / "nothing-*.csv"))
    with pytest.raises(ValueError, match="`engine` must be one of 'auto', 'pandas', 'dask'"):
        tk.read_posts(folder, engine="spark")
    with pytest.raises(ValueError, match="for a single file or DataFrame"):
        tk.read_posts(pd.DataFrame({"likes": [1]}), engine="dask")


def test_messy_files_in_a_folder_read_like_one_by_one(tmp_path):
    """Title lines, trailing delimiters, a cut line and a Total row are handled per file, with global rows."""
    folder = tmp_path / "messy"
    folder.mkdir()
    (folder / "a.csv").write_text("Export March\npost_id,department,likes\np1,PR,5,\np2,IT,6,\nTotal,,11,\n")
    (folder / "b.csv").write_text("Export April\npost_id,department,likes\np3,HR,7\np4,PR\np5,IT,8\n")
    data, report = tk.read_posts(folder)
    assert data["post_id"].tolist() == ["p1", "p2", "p3", "p5"]
    assert data["source_row"].tolist() == [1, 2, 4, 6]  # global data-row numbers, title lines not counted
    excluded = report.entries[report.entries["action"] == "excluded"]
    assert excluded[["source_row", "rule"]].values.tolist() == [[3, "summary_row"], [5, "wrong_field_count"]]
    assert report.n_rows_in == 6 and len(data) + report.n_rows_excluded == 6
    one, _ = tk.read_posts(folder / "b.csv")
    assert one["post_id"].tolist() == ["p3", "p5"]


def test_a_malformed_row_is_never_the_first_copy_of_a_good_row_in_another_file(tmp_path):
    folder = tmp_path / "parts"
    folder.mkdir()
    (folder / "a.csv").write_text("post_id,likes\np0,1\np1,5,6,7\n")  # 'p1,5' plus two stray fields
    (folder / "b.csv").write_text("post_id,likes\np1,5\np9,2\n")
    data, report = tk.read_posts(folder)
    assert data["post_id"].tolist() == ["p0", "p1", "p9"]
    assert report.entries[["source_row", "rule"]].values.tolist() == [[2, "wrong_field_count"]]
