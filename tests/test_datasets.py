"""The three real datasets, loaded through the registry, checked against their SOURCE.md notes.

Expected numbers are parsed from each dataset's SOURCE.md (the provenance note that ships with the
mirror) or recomputed here from the raw file with plain pandas, never copied from our own output.
"""
from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

import toolkit as tk
from toolkit import config
from toolkit.data import registry

NAMES = ["uci_facebook_metrics", "uci_live_sellers_thailand", "nyc_agency_social_media_usage"]


def _data_available() -> bool:
    """False only when TOOLKIT_DATA_MIRROR is unset and data/raw holds no dataset folder.

    A mirror variable that points to a wrong folder is not a reason to skip: the tests then fail with
    the registry's "looked in ..." message.
    """
    if config.data_mirror() is not None:
        return True
    return config.RAW_DIR.is_dir() and any(p.is_dir() for p in config.RAW_DIR.iterdir())


pytestmark = pytest.mark.skipif(not _data_available(),
                                reason="real datasets need TOOLKIT_DATA_MIRROR (make test sets it) or data/raw/")


def _source_md(name: str) -> str:
    for base in (config.RAW_DIR, config.data_mirror()):
        if base is not None and (Path(base) / name / "SOURCE.md").is_file():
            return (Path(base) / name / "SOURCE.md").read_text(encoding="utf-8")
    pytest.skip(f"SOURCE.md of {name} not found next to the data")


def _number(text: str) -> int:
    return int(text.replace(",", ""))


def _raw(name: str, filename: str, **kwargs) -> pd.DataFrame:
    """The source file read with plain pandas (independent of the toolkit's readers)."""
    return pd.read_csv(registry.dataset_path(name, filename), **kwargs)


def _rules(report, rule: str, action: str | None = None) -> pd.DataFrame:
    e = report.entries
    e = e[e["rule"] == rule]
    return e if action is None else e[e["action"] == action]


def _check_post_dtypes(data: pd.DataFrame) -> None:
    for col in config.POST_SCHEMA:
        if col.name in data.columns:
            assert str(data[col.name].dtype) == col.dtype, (col.name, data[col.name].dtype, col.dtype)
    for col in config.POST_SCHEMA:
        if col.required:
            assert col.name in data.columns


@pytest.fixture(scope="module", autouse=True)
def _no_internet():
    """These tests read local copies only: any download attempt fails instead of reaching the internet."""
    import urllib.request

    def refuse(request, *args, **kwargs):
        raise OSError("downloads are disabled in tests/test_datasets.py")

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(urllib.request, "urlopen", refuse)
        yield


@pytest.fixture(scope="module")
def facebook():
    return tk.load_dataset("uci_facebook_metrics")


@pytest.fixture(scope="module")
def thai():
    return tk.load_dataset("uci_live_sellers_thailand")


@pytest.fixture(scope="module")
def nyc():
    return tk.load_dataset("nyc_agency_social_media_usage")


# ---------------------------------------------------------------------------------------------
# registry vs SOURCE.md
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", NAMES)
def test_registry_checksums_equal_source_md(name):
    text = _source_md(name)
    for filename, spec in registry._file_specs(name).items():
        start = text.index(f"`{filename}`")
        found = re.search(r"sha256: `([0-9a-f]{64})`", text[start:])
        assert found, f"no sha256 after {filename} in SOURCE.md"
        assert spec.sha256 == found.group(1), filename


@pytest.mark.parametrize("name", NAMES)
def test_registry_rows_equal_source_md(name):
    text = _source_md(name)
    rows = _number(re.search(r"\*\*([\d,]+) data rows\*\*", text).group(1))
    table = tk.list_datasets().set_index("name")
    assert table.loc[name, "rows"] == rows


@pytest.mark.parametrize("name", NAMES)
def test_every_file_verifies(name):
    for filename in registry._file_specs(name):
        path = registry.dataset_path(name, filename)
        assert path.is_file() and path.name == filename


@pytest.mark.parametrize("name", NAMES)
def test_report_accounting_holds(name, facebook, thai, nyc):
    data, report = {"uci_facebook_metrics": facebook, "uci_live_sellers_thailand": thai,
                    "nyc_agency_social_media_usage": nyc}[name]
    report.check(data)
    assert report.n_rows_in == tk.list_datasets().set_index("name").loc[name, "rows"]
    assert data["source_row"].is_unique


def test_load_dataset_returns_a_named_pair(facebook):
    assert isinstance(facebook, registry.LoadedDataset)
    assert facebook.data is facebook[0] and facebook.report is facebook[1]
    assert isinstance(facebook.report, tk.QualityReport)


# ---------------------------------------------------------------------------------------------
# UCI Facebook metrics
# ---------------------------------------------------------------------------------------------
def test_facebook_rows_and_schema(facebook):
    data, report = facebook
    assert (report.n_rows_in, report.n_rows_kept, report.n_rows_excluded) == (500, 500, 0)
    _check_post_dtypes(data)
    assert "posted_at" not in data.columns  # day unknown: no invented dates
    assert "department" not in data.columns  # one brand
    assert set(data["account"]) == {"uci_cosmetics_brand"}
    assert data["source_row"].tolist() == list(range(1, 501))
    assert any("posted_at" in n for n in report.notes)


def test_facebook_mapping_matches_the_raw_file(facebook):
    data, _ = facebook
    raw = _raw("uci_facebook_metrics", "dataset_Facebook.csv", sep=";")
    pairs = {"Page total likes": "audience", "Lifetime Post Total Reach": "reach",
             "Lifetime Post Total Impressions": "impressions", "like": "likes", "comment": "comments",
             "share": "shares", "Lifetime Post Consumptions": "clicks", "Total Interactions": "interactions_reported",
             "Post Month": "month", "Post Weekday": "weekday", "Post Hour": "hour"}
    for source, canonical in pairs.items():
        expected = raw[source].astype("Float64")
        got = data[canonical].astype("Float64")
        pd.testing.assert_series_equal(got, expected, check_names=False)
    assert data["paid"].astype("Float64").equals(raw["Paid"].astype("Float64"))
    assert data["content_type"].astype("object").tolist() == raw["Type"].str.lower().tolist()


def test_facebook_labels_match_source_md(facebook):
    data, _ = facebook
    text = _source_md("uci_facebook_metrics")
    cat = re.search(r"Counts: 1 = (\d+), 2 = (\d+), 3 = (\d+)", text).groups()
    assert data["category"].cat.categories.tolist() == ["action", "product", "inspiration"]
    assert data["category"].cat.ordered
    assert data["category"].value_counts(sort=False).tolist() == [int(c) for c in cat]
    types = dict(re.findall(r"`(Photo|Status|Link|Video)` \((\d+)\)", text))
    counts = data["content_type"].value_counts()
    assert {k.lower(): int(v) for k, v in types.items()} == {k: int(counts[k]) for k in counts.index if counts[k]}


def test_facebook_six_blank_cells_are_missing(facebook):
    data, report = facebook
    text = _source_md("uci_facebook_metrics")
    paid, like, share = (int(v) for v in re.search(r"`Paid` (\d+), `like` (\d+), `share` (\d+)", text).groups())
    assert int(data["paid"].isna().sum()) == paid
    assert int(data["likes"].isna().sum()) == like
    assert int(data["shares"].isna().sum()) == share
    canonical = [c for c in config.POST_COLUMNS if c in data.columns]
    assert int(data[canonical].isna().sum().sum()) == paid + like + share == 6
    note = [n for n in report.notes if n.lower().startswith("missing values")]
    assert len(note) == 1 and all(f"{c} {k}" in note[0] for c, k in (("paid", paid), ("likes", like),
                                                                      ("shares", share)))


def test_facebook_totals_are_checked_honestly(facebook):
    data, report = facebook
    raw = _raw("uci_facebook_metrics", "dataset_Facebook.csv", sep=";")
    parts = raw[["comment", "like", "share"]]
    incomplete = set((raw.index[parts.isna().any(axis=1)] + 1).tolist())
    assert len(incomplete) == 4
    # SOURCE.md: the identity holds for all 500 rows (blank = 0): no mismatch may be flagged ...
    assert not report.entries["rule"].str.contains("mismatch").any()
    # ... and the rows with a missing part are listed as not checkable, not as mismatches.
    not_checked = _rules(report, "interactions_not_checked", "flagged")
    assert set(not_checked["source_row"].astype(int)) == incomplete


def test_facebook_impressions_below_reach_are_flagged(facebook):
    _, report = facebook
    raw = _raw("uci_facebook_metrics", "dataset_Facebook.csv", sep=";")
    low = raw["Lifetime Post Total Impressions"] < raw["Lifetime Post Total Reach"]
    flagged = _rules(report, "impressions_below_reach", "flagged")
    assert set(flagged["source_row"].astype(int)) == set((raw.index[low] + 1).tolist())
    assert len(flagged) == 4


# ---------------------------------------------------------------------------------------------
# UCI Live sellers in Thailand
# ---------------------------------------------------------------------------------------------
def test_thai_rows_and_schema(thai):
    data, report = thai
    assert (report.n_rows_in, report.n_rows_kept, report.n_rows_excluded) == (7050, 7050, 0)
    _check_post_dtypes(data)
    assert data["post_id"].tolist() == [str(i) for i in range(1, 7051)]
    assert not {"Column1", "Column2", "Column3", "Column4"} & set(data.columns)
    assert any("Column1" in n and "Column4" in n for n in report.notes)
    assert "department" not in data.columns
    assert (data["account"].astype(str) == data["seller"].astype(str)).all()


def test_thai_posts_per_seller_match_source_md(thai):
    data, _ = thai
    text = _source_md("uci_live_sellers_thailand")
    line = re.search(r"Posts per seller: ([^.]+)\.", text).group(1)
    expected = {k: int(v) for k, v in re.findall(r"(S\d\d) (\d+)", line)}
    assert len(expected) == 9
    assert data["account"].value_counts().to_dict() == expected
    assert data["seller"].cat.categories.tolist() == sorted(expected)


def test_thai_counts_match_the_raw_file(thai):
    data, _ = thai
    raw = _raw("uci_live_sellers_thailand", "Live_20210128.csv")
    for source, canonical in {"num_reactions": "likes", "num_comments": "comments", "num_shares": "shares",
                              "num_loves": "num_loves", "num_angrys": "num_angrys"}.items():
        assert data[canonical].astype("int64").tolist() == raw[source].tolist()
    assert data["content_type"].value_counts().to_dict() == raw["status_type"].value_counts().to_dict()


def test_thai_times_are_bangkok_local_stored_in_utc(thai):
    data, report = thai
    assert str(data["posted_at"].dtype) == "datetime64[ns, UTC]"
    # row 1: "4/22/2018 6:00" in Bangkok (UTC+7, no daylight saving) is 2018-04-21 23:00 UTC
    assert data.loc[0, "posted_at"] == pd.Timestamp("2018-04-21 23:00", tz="UTC")
    assert data["posted_at"].notna().all()
    assert any("Asia/Bangkok" in n for n in report.notes)


def test_thai_repeated_posts_are_flagged_and_kept(thai):
    data, report = thai
    text = _source_md("uci_live_sellers_thailand")
    n_repeated = int(re.search(r"\*\*Duplicates:\*\* (\d+) rows", text).group(1))
    codes = _raw("uci_live_sellers_thailand", "seller_codes.csv")
    dup = codes[codes["duplicate_of"].notna()]
    flagged = _rules(report, "repeated_post", "flagged")
    assert len(flagged) == n_repeated == 53
    assert set(flagged["source_row"].astype(int)) == set(dup["status_id"])
    msg = flagged.set_index(flagged["source_row"].astype(int))["message"]
    # SOURCE.md: 51 exact copies; rows 1699 and 1730 (of 1489 and 1409) differ only in status_published
    assert "row 1489" in msg[1699] and "differs from it in status_published (" in msg[1699]
    assert "row 1409" in msg[1730] and "differs from it in status_published (" in msg[1730]
    assert msg.str.contains("identical to it in every other column").sum() == 51
    assert not msg.drop([1699, 1730]).str.contains("differs").any()
    assert len(data) == 7050


def test_thai_drop_duplicates_excludes_each_repeated_post():
    data, report = tk.load_dataset("uci_live_sellers_thailand", drop_duplicates=True)
    report.check(data)
    codes = _raw("uci_live_sellers_thailand", "seller_codes.csv")
    dup = set(codes.loc[codes["duplicate_of"].notna(), "status_id"])
    assert (report.n_rows_in, report.n_rows_kept, report.n_rows_excluded) == (7050, 6997, 53)
    assert set(report.excluded_rows) == dup
    assert set(_rules(report, "repeated_post", "excluded")["source_row"].astype(int)) == dup
    assert _rules(report, "repeated_post", "flagged").empty
    assert not set(data["source_row"].astype(int)) & dup


def test_thai_reaction_sum_mismatches(thai):
    _, report = thai
    text = _source_md("uci_live_sellers_thailand")
    n = int(re.search(r"in all but \*\*(\d+)\*\* rows", text).group(1))
    raw = _raw("uci_live_sellers_thailand", "Live_20210128.csv")
    six = raw[["num_likes", "num_loves", "num_wows", "num_hahas", "num_sads", "num_angrys"]].sum(axis=1)
    expected = set((raw.index[six != raw["num_reactions"]] + 1).tolist())
    flagged = _rules(report, "reaction_sum_mismatch", "flagged")
    assert len(flagged) == n == 9
    assert set(flagged["source_row"].astype(int)) == expected


# ---------------------------------------------------------------------------------------------
# NYC Social Media Usage
# ---------------------------------------------------------------------------------------------
NYC_COLUMNS = ["agency", "platform", "url", "account", "sampled_on", "audience", "source_row"]


def test_nyc_shape_and_dtypes(nyc):
    data, report = nyc
    assert data.columns.tolist() == NYC_COLUMNS
    assert {c: str(t) for c, t in data.dtypes.items()} == {
        "agency": "string", "platform": "category", "url": "string", "account": "string",
        "sampled_on": "datetime64[ns]", "audience": "Int64", "source_row": "Int64"}
    text = _source_md("nyc_agency_social_media_usage")
    n_dates = int(re.search(r"Sampling dates: (\d+) dates", text).group(1))
    assert data["sampled_on"].nunique() == n_dates == 20
    assert not data.duplicated(["account", "sampled_on"]).any()
    assert data["sampled_on"].min() == pd.Timestamp("2011-08-08")
    assert data["sampled_on"].max() == pd.Timestamp("2012-12-12")


def test_nyc_total_rows_are_excluded(nyc):
    data, report = nyc
    text = _source_md("nyc_agency_social_media_usage")
    n_total = int(re.search(r"(\d+) rows have `Agency` = `Platform` = `Url` = `TOTAL`", text).group(1))
    raw = _raw("nyc_agency_social_media_usage", "NYC_Social_Media_Usage.csv", dtype=str, keep_default_na=False)
    totals = set((raw.index[raw["Agency"] == "TOTAL"] + 1).tolist())
    assert (report.n_rows_in, report.n_rows_kept, report.n_rows_excluded) == (5899, 5899 - n_total, n_total)
    assert set(report.excluded_rows) == totals
    assert set(_rules(report, "citywide_total", "excluded")["source_row"].astype(int)) == totals
    assert "TOTAL" not in set(data["platform"].astype(str))


def test_nyc_missing_audience_is_kept_missing(nyc):
    data, report = nyc
    text = _source_md("nyc_agency_social_media_usage")
    n_missing = _number(re.search(r"([\d,]+) of [\d,]+ values are missing", text).group(1))
    assert int(data["audience"].isna().sum()) == n_missing == 1920
    assert any(f"{n_missing} empty values kept as missing" in n for n in report.notes)
    raw = _raw("nyc_agency_social_media_usage", "NYC_Social_Media_Usage.csv")
    raw = raw[raw["Agency"] != "TOTAL"]
    col = "Likes/Followers/Visits/Downloads"
    assert data["audience"].max() == raw[col].max()  # SOURCE.md: up to 616,465 without TOTAL rows
    assert int(data["audience"].max()) == 616465


def test_nyc_platform_spellings_are_unified_and_recorded(nyc):
    data, report = nyc
    raw = _raw("nyc_agency_social_media_usage", "NYC_Social_Media_Usage.csv", dtype=str, keep_default_na=False)
    variants = raw["Platform"].isin(["Youtube", "iPhone app", "iPhone", "Linked-In"])
    repaired = _rules(report, "platform_spelling", "repaired")
    assert set(repaired["source_row"].astype(int)) == set((raw.index[variants] + 1).tolist())
    platforms = set(data["platform"].astype(str))
    assert {"YouTube", "iPhone App", "LinkedIn"} <= platforms
    assert not {"Youtube", "iPhone app", "iPhone", "Linked-In"} & platforms
    youtube = raw["Platform"].isin(["YouTube", "Youtube"]).sum()
    assert (data["platform"] == "YouTube").sum() == youtube == 660  # SOURCE.md: YouTube/Youtube 660


def test_nyc_empty_agency_is_flagged(nyc):
    data, report = nyc
    raw = _raw("nyc_agency_social_media_usage", "NYC_Social_Media_Usage.csv", dtype=str, keep_default_na=False)
    empty = set((raw.index[raw["Agency"] == ""] + 1).tolist())
    assert len(empty) == 20
    assert set(_rules(report, "missing_agency", "flagged")["source_row"].astype(int)) == empty
    assert int(data["agency"].isna().sum()) == 20


def test_nyc_agency_variants_flagged_not_merged(nyc):
    data, report = nyc
    aliases = pd.read_csv(config.CATALOG_DIR / "nyc_agency_aliases.csv", dtype=str)
    assert {"DOH", "Prob", "Change by Us", "YMI"} <= set(aliases["agency"])
    assert aliases["evidence"].str.len().gt(20).all()
    flagged = _rules(report, "agency_label_variant", "flagged")
    variant_rows = data["agency"].isin(aliases["agency"]).fillna(False).astype(bool)
    assert set(flagged["source_row"].astype(int)) == set(data.loc[variant_rows, "source_row"].astype(int))
    assert {"DOH", "DOHMH", "Prob", "Probation"} <= set(data["agency"].dropna())


def test_nyc_normalize_agencies_repairs_each_cell(nyc):
    plain, plain_report = nyc
    data, report = tk.load_dataset("nyc_agency_social_media_usage", normalize_agencies=True)
    report.check(data)
    assert data.columns.tolist() == plain.columns.tolist()  # options change values, never columns
    aliases = pd.read_csv(config.CATALOG_DIR / "nyc_agency_aliases.csv", dtype=str)
    mapping = dict(zip(aliases["agency"], aliases["agency_normalized"]))
    repaired = _rules(report, "agency_label_variant", "repaired")
    flagged_before = _rules(plain_report, "agency_label_variant", "flagged")
    assert set(repaired["source_row"]) == set(flagged_before["source_row"])
    assert (repaired["new_value"] == repaired["original_value"].map(mapping)).all()
    assert not set(data["agency"].dropna()) & set(mapping)
    changed = plain["agency"].isin(list(mapping)).fillna(False).astype(bool)
    assert int(changed.sum()) == len(repaired)
    assert (data.loc[~changed, "agency"].fillna("") == plain.loc[~changed, "agency"].fillna("")).all()
    assert not data.duplicated(["account", "sampled_on"]).any()
    assert data["agency"].nunique() == plain["agency"].nunique() - len(mapping)
