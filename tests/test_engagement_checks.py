"""check_engagement: every check must fire where it should and stay silent where it should not.

False alarms count as failures: besides hand-made negatives, every check is run on SIMULATED organisations
(tk.simulate_organization, seeds 1-10, default parameters: no artefacts planted) and on the real datasets,
where the expected findings are documented in their SOURCE.md files.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import toolkit as tk
from toolkit.data.checks import FLAG_COLUMNS


def _posts(n=40, seed=1, account="acc", start="2022-01-01"):
    """SIMULATED posts (seed given): smooth NB likes, lognormal reach, spread over one year."""
    rng = np.random.default_rng(seed)
    return pd.DataFrame({
        "post_id": [f"{account}-{i}" for i in range(n)],
        "account": account,
        "posted_at": pd.Timestamp(start, tz="UTC") + pd.to_timedelta(rng.uniform(0, 365, n), unit="D"),
        "reach": np.round(rng.lognormal(8, 0.6, n)).astype("int64") + 2000,
        "likes": rng.negative_binomial(2, 2 / (2 + 300), n).astype("int64"),
        "comments": rng.poisson(5, n).astype("int64"),
        "shares": rng.poisson(2, n).astype("int64"),
    })


def _checks(flags):
    return sorted(set(flags["check"]))


def test_columns_are_stable_and_clean_data_gives_an_empty_table():
    flags = tk.check_engagement(_posts())
    assert flags.empty and list(flags.columns) == list(FLAG_COLUMNS)
    assert isinstance(flags.index, pd.RangeIndex)


# -- repeated_count ---------------------------------------------------------------------------------
def test_repeated_large_count_across_posts_of_one_account_fires():
    data = _posts(n=60)
    data.loc[[3, 17, 29, 44], "likes"] = 4710  # the crawler artefact: one large value pasted into 4 posts
    flags = tk.check_engagement(data)
    hit = flags[flags["check"] == "repeated_count"]
    assert hit["row"].tolist() == [3, 17, 29, 44]
    assert set(hit["column"]) == {"likes"} and set(hit["value"]) == {"4710"}
    assert hit["detail"].str.contains("4 distinct posts").all()


def test_repeats_that_are_not_artefacts_do_not_fire():
    data = _posts(n=60)
    # the same large value in posts of *different* accounts is a coincidence, not an account artefact
    data["account"] = [f"a{i % 4}" for i in range(60)]
    data.loc[[0, 1, 2], "likes"] = 4710
    # the same post repeated (same post_id) counts once
    rep = pd.concat([data.iloc[[5]]] * 4).assign(likes=900)
    # small values repeat naturally
    data.loc[[10, 14, 18, 22, 26], "comments"] = 7
    flags = tk.check_engagement(pd.concat([data, rep], ignore_index=True))
    assert "repeated_count" not in _checks(flags)


def test_popular_values_in_a_dense_range_do_not_fire():
    # SIMULATED: 3,000 posts of one account with likes ~ NB(mean 150): values near 150 repeat ~20 times
    rng = np.random.default_rng(7)
    data = pd.DataFrame({"post_id": np.arange(3000).astype(str), "account": "big",
                         "likes": rng.negative_binomial(20, 20 / 170, 3000)})
    assert data["likes"][data["likes"] >= 100].value_counts().max() >= 15  # many exact repeats
    assert tk.check_engagement(data).empty


def test_min_repeats_and_min_count():
    data = _posts(n=60)
    data.loc[[3, 17, 29], "likes"] = 4710
    assert "repeated_count" in _checks(tk.check_engagement(data))
    assert "repeated_count" not in _checks(tk.check_engagement(data, min_repeats=4))
    assert "repeated_count" not in _checks(tk.check_engagement(data, min_count=5000))
    assert "repeated_count" not in _checks(tk.check_engagement(data, account=None))


# -- placeholder_time -------------------------------------------------------------------------------
def test_placeholder_times_fire_and_real_old_dates_do_not():
    data = _posts(n=8)
    data["posted_at"] = pd.to_datetime(["1970-01-01 00:00", "1969-12-31 19:00", "1899-12-30", "2012-07-15",
                                        "1971-01-01", "2000-01-01", "2022-05-01", "1900-01-02"], utc=True,
                                       format="ISO8601")
    flags = tk.check_engagement(data)
    hit = flags[flags["check"] == "placeholder_time"]
    assert hit["row"].tolist() == [0, 1, 2]
    assert hit["detail"].iloc[0].startswith("publication time at the Unix epoch")
    assert hit["detail"].iloc[2].startswith("publication time at spreadsheet day zero")


def test_a_zero_timestamp_read_by_read_posts_is_caught_one_way_or_the_other():
    raw = pd.DataFrame({"post_id": ["a", "b", "c"], "posted_at": ["0", "1970-01-01 00:00:00", "2022-01-01"],
                        "likes": ["1", "2", "3"]})
    data, report = tk.read_posts(raw)
    flags = tk.check_engagement(data, report=report)
    flagged = set(report.entries.loc[report.entries["rule"].isin(["unparseable_date", "placeholder_time"]),
                                     "source_row"])
    assert flagged == {1, 2}
    assert flags["source_row"].tolist() == [2]


# -- coverage_mismatch ------------------------------------------------------------------------------
def test_one_department_in_2016_and_the_others_in_2022_flags_only_that_department():
    parts = [_posts(n=30, seed=1, account="m", start="2016-01-01").assign(department="Marketing"),
             _posts(n=30, seed=2, account="p", start="2022-01-01").assign(department="PR"),
             _posts(n=30, seed=3, account="h", start="2022-02-01").assign(department="HR")]
    flags = tk.check_engagement(pd.concat(parts, ignore_index=True))
    hit = flags[flags["check"] == "coverage_mismatch"]
    assert set(hit["group"]) == {"Marketing"} and len(hit) == 30
    assert hit["detail"].iloc[0].startswith("department 'Marketing' posted mostly in 2016")


def test_overlapping_departments_and_a_short_burst_inside_do_not_fire():
    parts = [_posts(n=30, seed=1, account="m", start="2022-01-01").assign(department="Marketing"),
             _posts(n=30, seed=2, account="p", start="2022-03-01").assign(department="PR"),
             _posts(n=5, seed=3, account="h", start="2022-06-01").assign(department="HR")]
    parts[2]["posted_at"] = pd.Timestamp("2022-06-01", tz="UTC") + pd.to_timedelta(np.arange(5), unit="D")
    flags = tk.check_engagement(pd.concat(parts, ignore_index=True))
    assert "coverage_mismatch" not in _checks(flags)
    single = parts[0].copy()
    assert tk.check_engagement(single).empty  # one group: nothing to compare


def test_a_long_group_covered_by_two_shorter_ones_together_does_not_fire():
    # PR posts all year; HR only in the first half, Marketing only in the second: together they cover PR
    year = _posts(n=40, seed=1, account="p", start="2022-01-01").assign(department="PR")
    first = _posts(n=20, seed=2, account="h", start="2022-01-01").assign(department="HR")
    first["posted_at"] = pd.Timestamp("2022-01-01", tz="UTC") + pd.to_timedelta(np.linspace(0, 180, 20), unit="D")
    second = _posts(n=20, seed=3, account="m", start="2022-07-01").assign(department="Marketing")
    second["posted_at"] = pd.Timestamp("2022-07-01", tz="UTC") + pd.to_timedelta(np.linspace(0, 180, 20), unit="D")
    flags = tk.check_engagement(pd.concat([year, first, second], ignore_index=True))
    assert "coverage_mismatch" not in _checks(flags)


# -- interactions_exceed_reach ----------------------------------------------------------------------
def test_interactions_above_reach():
    data = _posts(n=5)
    data.loc[2, ["reach", "likes", "comments", "shares"]] = [100, 90, 10, 1]  # 101 > 100
    data.loc[3, ["reach", "likes", "comments", "shares"]] = [100, 90, 9, 1]  # 100 = 100: fine
    flags = tk.check_engagement(data)
    assert flags.loc[flags["check"] == "interactions_exceed_reach", "row"].tolist() == [2]
    data.loc[2, "reach"] = pd.NA
    assert "interactions_exceed_reach" not in _checks(tk.check_engagement(data.astype({"reach": "Int64"})))


# -- report, options, no false alarms on simulated and real data ------------------------------------
def test_report_gets_flags_without_duplicating_read_posts_entries():
    raw = _posts(n=6)
    raw.loc[1, ["reach", "likes"]] = [10, 50]
    data, report = tk.read_posts(raw)
    before = report.entries
    assert (before["rule"] == "interactions_exceed_reach").sum() == 1
    tk.check_engagement(data, report=report)
    assert (report.entries["rule"] == "interactions_exceed_reach").sum() == 1
    assert report.n_rows_excluded == 0 and any(n.startswith("check_engagement:") for n in report.notes)
    report.check(data)


def test_option_errors_and_no_mutation():
    data = _posts()
    before = data.copy()
    tk.check_engagement(data)
    pd.testing.assert_frame_equal(data, before)
    with pytest.raises(ValueError, match="`min_overlap` must be a number in \\(0, 1\\]"):
        tk.check_engagement(data, min_overlap=50)
    with pytest.raises(ValueError, match="min_repeats"):
        tk.check_engagement(data, min_repeats=1)
    with pytest.raises(TypeError, match="`data` must be a pandas.DataFrame"):
        tk.check_engagement(data["likes"])
    with pytest.raises(TypeError, match="`report` must be a QualityReport"):
        tk.check_engagement(data, report="r")


@pytest.mark.parametrize("seed", range(1, 11))
def test_no_false_alarms_on_simulated_organisations(seed):
    flags = tk.check_engagement(tk.simulate_organization(seed=seed).data)
    assert flags.empty, flags[["check", "account", "column", "value"]].drop_duplicates().to_string()


def test_real_datasets():
    thai, _ = tk.load_dataset("uci_live_sellers_thailand")
    flags = tk.check_engagement(thai, between="account")
    # SOURCE.md: older posts are mostly seller S01 (reactions other than Like started in 2016); no artefacts known
    assert _checks(flags) == ["coverage_mismatch"]
    assert set(flags["group"]) == {"S01"} and len(flags) == int((thai["account"] == "S01").sum())
    fb, _ = tk.load_dataset("uci_facebook_metrics")
    assert tk.check_engagement(fb).empty  # one page, no department, no times
