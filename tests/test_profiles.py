"""Export profiles (toolkit/data/profiles.py) on invented fixtures laid out like the documented exports.

The fixtures in tests/fixtures/exports/ are made by make_exports.py with invented values; the README
there cites where each column layout is documented. Expected values below are read off the fixture
generator by hand (e.g. CrowdTangle likes = the sum of its seven reaction columns).
"""
from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

import toolkit as tk
from toolkit.data import profiles

EXPORTS = Path(__file__).resolve().parent / "fixtures" / "exports"

#: file -> (profile, rows, reposts, replies)
CASES = {
    "crowdtangle_facebook.csv": ("crowdtangle", 12, 1, 0),
    "crowdtangle_instagram.csv": ("crowdtangle_instagram", 6, 0, 0),
    "meta_business_suite_facebook.csv": ("meta_business_suite", 8, 1, 0),
    "facebook_insights_posts.csv": ("facebook_insights", 7, 0, 0),
    "instagram_posts.csv": ("instagram", 6, 0, 0),
    "linkedin_content.csv": ("linkedin", 5, 0, 0),
    "x_analytics_tweet_activity.csv": ("x_analytics", 6, 0, 0),
    "generic_sprout_posts.csv": ("generic", 8, 1, 1),
    "x_api_v2_search.json": ("x_api_v2", 4, 1, 1),
    "x_api_v2_pages.jsonl": ("x_api_v2", 6, 1, 1),
}


def _rule(report, rule):
    e = report.entries
    return e[e["rule"] == rule]


@pytest.mark.parametrize("name", sorted(CASES))
@pytest.mark.parametrize("how", ["auto", "given"])
def test_every_profile_reads_its_export_and_keeps_every_row(name, how):
    profile, n, n_repost, n_reply = CASES[name]
    data, report = tk.read_posts(EXPORTS / name, profile="auto" if how == "auto" else profile)
    assert any(f"Export profile {profile!r}" in note for note in report.notes)
    assert report.n_rows_in == n == len(data) + report.n_rows_excluded  # rows in = kept + excluded
    assert report.n_rows_excluded == 0
    report.check(data)
    assert str(data["is_repost"].dtype) == "boolean" and str(data["is_reply"].dtype) == "boolean"
    assert int(data["is_repost"].fillna(False).sum()) == n_repost == len(_rule(report, "repost"))
    assert int(data["is_reply"].fillna(False).sum()) == n_reply == len(_rule(report, "reply"))
    assert data["post_id"].is_unique and data["post_id"].notna().all()
    assert data["posted_at"].notna().all(), report.summary()
    assert data["platform"].notna().all()
    assert data["likes"].notna().all()


def test_crowdtangle_mapping_reactions_time_zones_and_shared_video():
    data, report = tk.read_posts(EXPORTS / "crowdtangle_facebook.csv", profile="crowdtangle")
    raw = pd.read_csv(EXPORTS / "crowdtangle_facebook.csv", dtype=str, keep_default_na=False)
    reactions = raw[["Likes", "Love", "Wow", "Haha", "Sad", "Angry", "Care"]].astype(int).sum(axis=1)
    assert data["likes"].tolist() == reactions.tolist()
    # Total Interactions = reactions + comments + shares: no total_mismatch flag
    assert _rule(report, "total_mismatch").empty
    assert data["account"].iloc[0] == "Example Corp News" and data["audience"].iloc[0] == 5200
    # "2022-03-01 09:00:00 EST" is 14:00 UTC
    assert data["posted_at"].iloc[0] == pd.Timestamp("2022-03-01 14:00", tz="UTC")
    assert data["content_type"].astype(str).tolist()[:4] == ["photo", "link", "video", "status"]
    # row 7 is a video shared from another page ("Video Share Status" = share): flagged, kept
    shared = data[data["is_repost"].fillna(False)]
    assert shared["source_row"].tolist() == [7]
    assert _rule(report, "repost")["source_row"].tolist() == [7]
    # non-video rows cannot tell: <NA>, not False
    assert data.loc[data["content_type"].astype(str) != "video", "is_repost"].isna().all()


def test_facebook_insights_description_row_is_part_of_the_header():
    data, report = tk.read_posts(EXPORTS / "facebook_insights_posts.csv")
    assert report.n_rows_in == 7 and len(data) == 7
    assert data["reach"].tolist() == [1500 + 100 * i for i in range(7)]
    assert data["likes"].tolist() == [25 + i for i in range(7)]
    assert any("row of column descriptions" in n for n in report.notes)
    assert _rule(report, "unparseable_number").empty


@pytest.mark.parametrize("name", ["meta_business_suite_facebook.csv", "instagram_posts.csv"])
def test_a_description_row_is_recognised_in_other_meta_exports(name, tmp_path):
    lines = (EXPORTS / name).read_text().splitlines()
    n_cols = len(pd.read_csv(EXPORTS / name, nrows=0).columns)
    description = ",".join(['"Lifetime: a description of this column (Unique Users)"'] * n_cols)
    (tmp_path / name).write_text("\n".join([lines[0], description] + lines[1:]) + "\n")
    with_row, report = tk.read_posts(tmp_path / name)
    plain, _ = tk.read_posts(EXPORTS / name)
    assert report.n_rows_in == len(plain) == len(with_row)
    pd.testing.assert_frame_equal(with_row.drop(columns="source_row"), plain.drop(columns="source_row"),
                                  check_dtype=False)
    assert any("row of column descriptions" in n for n in report.notes)


def test_abbreviated_counts_in_the_first_row_are_data_not_descriptions():
    raw = pd.read_csv(EXPORTS / "meta_business_suite_facebook.csv", dtype=str, keep_default_na=False)
    raw.loc[0, ["Impressions", "Reach", "Reactions", "Comments", "Shares", "Total clicks",
                "Reactions, comments and shares"]] = ["1.2K", "1K", "2K", "1K", "1K", "1K", "4K"]
    data, report = tk.read_posts(raw)
    assert len(data) == 8 and data["reach"].iloc[0] == 1000
    assert not any("row of column descriptions" in n for n in report.notes)


def test_linkedin_title_line_and_paid_from_post_type():
    data, report = tk.read_posts(EXPORTS / "linkedin_content.csv")
    assert data["paid"].tolist() == [False, False, True, False, False]
    assert data["shares"].tolist() == [0, 1, 0, 1, 0]
    assert any("header is on line 2" in n or "column names are on line 2" in n for n in report.notes)


def test_x_api_v2_flattening_authors_and_reference_types(tmp_path):
    data, report = tk.read_posts(EXPORTS / "x_api_v2_search.json")
    assert data["account"].tolist() == ["examplecorp_news", "examplecorp_news", "examplecorp_help", "examplecorp_help"]
    assert data["is_repost"].tolist() == [False, True, False, False]
    assert data["is_reply"].tolist() == [False, False, True, False]
    assert data["is_quote"].tolist() == [False, False, False, True]
    assert data["referenced_tweet_id"].iloc[1] == "1599999999999999999"
    assert data["likes"].tolist() == [10, 0, 12, 13] and data["shares"].tolist() == [0, 250, 2, 0]
    assert data["author_followers"].tolist() == [5100, 5100, 800, 800]
    # includes.tweets (the retweeted original) is not a row
    assert "1599999999999999999" not in set(data["post_id"])
    # a bare list of tweet objects and one tweet per JSONL line give the same rows
    tweets = json.loads((EXPORTS / "x_api_v2_search.json").read_text())["data"]
    (tmp_path / "t.jsonl").write_text("\n".join(json.dumps(t) for t in tweets) + "\n")
    flat, _ = tk.read_posts(tmp_path / "t.jsonl")
    assert flat["post_id"].tolist() == data["post_id"].tolist()
    assert flat["account"].tolist() == ["2244994945", "2244994945", "2244994946", "2244994946"]  # no includes


def test_x_api_json_errors(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"data": []}\n{not json\n')
    with pytest.raises(ValueError, match="Line 2 is not valid JSON"):
        tk.read_posts(bad)
    empty = tmp_path / "empty.json"
    empty.write_text('{"meta": {"result_count": 0}}')
    with pytest.raises(ValueError, match="at least one tweet"):
        tk.read_posts(empty)
    with pytest.raises(ValueError, match="'auto' or 'x_api_v2' for a .json"):
        tk.read_posts(EXPORTS / "x_api_v2_search.json", profile="crowdtangle")


def test_auto_is_off_with_columns_or_none_and_plain_files_are_untouched():
    path = EXPORTS / "meta_business_suite_facebook.csv"
    data, report = tk.read_posts(path, profile=None, columns={"Post ID": "post_id"})
    assert "is_repost" not in data.columns
    data, report = tk.read_posts(path, columns={"Post ID": "post_id", "Reach": "reach"})
    assert "is_repost" not in data.columns and not any("Export profile" in n for n in report.notes)
    plain = pd.DataFrame({"post_id": ["a", "b"], "likes": [1, 2]})
    data, report = tk.read_posts(plain)
    assert list(data.columns) == ["post_id", "likes", "source_row"]


def test_user_columns_override_the_profile():
    data, _ = tk.read_posts(EXPORTS / "meta_business_suite_facebook.csv", profile="meta_business_suite",
                            columns={"Page ID": "account"})
    assert set(data["account"]) == {"100000000000009"}
    assert "Page name" in data.columns  # the profile's account column is kept as an extra


def test_ambiguous_auto_detection_applies_nothing_and_says_so():
    cols = set(profiles.PROFILES["generic"].signature) | set(profiles.PROFILES["instagram"].signature)
    raw = pd.DataFrame({c: ["1"] for c in sorted(cols)})
    assert sorted(profiles.detect_profile(raw.columns)) == ["generic", "instagram"]
    data, report = tk.read_posts(raw.rename(columns={"Post ID": "post_id"}).assign(**{"Post ID": "x"}))
    assert any("match several export profiles" in n for n in report.notes)
    assert "is_repost" not in data.columns


def test_profile_option_errors(tmp_path):
    with pytest.raises(ValueError, match="Did you mean 'crowdtangle'"):
        tk.read_posts(EXPORTS / "crowdtangle_facebook.csv", profile="crowdtangel")
    with pytest.raises(TypeError, match="`profile` must be a profile name"):
        tk.read_posts(EXPORTS / "crowdtangle_facebook.csv", profile=1)
    with pytest.raises(ValueError, match="'auto' or None for a directory"):
        tk.read_posts(EXPORTS, profile="crowdtangle")
    clash = pd.DataFrame({"Tweet id": ["1"], "Tweet permalink": ["https://x.com/a/status/1"], "Tweet text": ["t"],
                          "time": ["2022-01-01"], "impressions": ["1"], "is_repost": ["no"]})
    with pytest.raises(ValueError, match="free of columns named"):
        tk.read_posts(clash)


def test_reposts_are_kept_and_excluding_them_is_one_line():
    data, report = tk.read_posts(EXPORTS / "x_api_v2_pages.jsonl")
    own = data[~data["is_repost"].fillna(False)]
    assert len(own) == len(data) - 1
    assert any("exclude them" in n for n in report.notes)


def test_list_profiles_is_documented_and_complete():
    table = tk.list_profiles()
    assert table["profile"].tolist() == list(profiles.PROFILES)
    assert table["documentation"].str.startswith("https://").all()
    readme = (EXPORTS / "README.md").read_text()
    for name in profiles.PROFILES:
        assert f"`{name}`" in readme, name


def test_identity_holds_when_a_profile_export_has_excluded_rows(tmp_path):
    lines = (EXPORTS / "crowdtangle_facebook.csv").read_text().splitlines()
    blank = ",".join([""] * len(lines[0].split(",")))
    (tmp_path / "ct.csv").write_text("\n".join(lines + [lines[3], blank]) + "\n")  # a duplicate and an empty row
    data, report = tk.read_posts(tmp_path / "ct.csv")
    assert report.n_rows_in == 14 and len(data) == 12 and report.n_rows_excluded == 2
    assert sorted(report.entries.loc[report.entries["action"] == "excluded", "rule"]) == ["duplicate_row",
                                                                                          "empty_row"]
    assert data["is_repost"].fillna(False).sum() == 1
    report.check(data)


def test_header_only_export(tmp_path):
    (tmp_path / "ct.csv").write_text((EXPORTS / "crowdtangle_facebook.csv").read_text().splitlines()[0] + "\n")
    data, report = tk.read_posts(tmp_path / "ct.csv")
    assert len(data) == 0 and report.n_rows_in == 0 and str(data["is_repost"].dtype) == "boolean"


def test_crowdtangle_xlsx_if_openpyxl_is_available(tmp_path):
    pytest.importorskip("openpyxl")
    raw = pd.read_csv(EXPORTS / "crowdtangle_facebook.csv", dtype=str, keep_default_na=False)
    raw.to_excel(tmp_path / "ct.xlsx", index=False)
    data, report = tk.read_posts(tmp_path / "ct.xlsx")
    csv, _ = tk.read_posts(EXPORTS / "crowdtangle_facebook.csv")
    assert data["likes"].tolist() == csv["likes"].tolist()
    assert data["is_repost"].fillna(False).sum() == 1
