"""One adapter per registered real dataset: source file(s) → canonical table + QualityReport.

Use them through :func:`toolkit.load_dataset`; they are public here so that their Returns sections can
document each table's columns. The two post-level datasets go through :func:`toolkit.read_posts` (the same
parsing and validation as user files) and then get dataset-specific checks; the NYC panel is
account-level and has its own shape.
"""
from __future__ import annotations

import csv

import numpy as np
import pandas as pd

from toolkit import config
from toolkit._validation import message
from toolkit.data.files import _sha256, dataset_path
from toolkit.data.quality import QualityReport

# ---------------------------------------------------------------------------------------------
# shared helpers
# ---------------------------------------------------------------------------------------------
ALIASES_CSV = config.CATALOG_DIR / "nyc_agency_aliases.csv"


def _note_file(report: QualityReport, path) -> None:
    report.note(f"file {path.name}: sha256 {_sha256(path)} (matches the registry)")


def _order_columns(data: pd.DataFrame) -> pd.DataFrame:
    canonical = [c for c in config.POST_COLUMNS if c in data.columns]
    extras = [c for c in data.columns if c not in config.POST_COLUMNS]
    return data[canonical + extras]


def _enforce_schema(data: pd.DataFrame) -> pd.DataFrame:
    """Cast the canonical columns present to their POST_SCHEMA dtypes (no-op when already right)."""
    out = data.copy()
    for col in config.POST_SCHEMA:
        if col.name not in out.columns:
            continue
        s = out[col.name]
        if col.dtype == "category":
            if not isinstance(s.dtype, pd.CategoricalDtype):
                known = {"department": config.DEPARTMENTS, "platform": config.PLATFORMS,
                         "content_type": config.CONTENT_TYPES}.get(col.name, ())
                out[col.name] = config.ordered_categorical(s, known)
        elif str(s.dtype) != col.dtype:
            out[col.name] = s.astype(col.dtype)
    return out


def _facebook_platform(n: int) -> pd.Categorical:
    return config.ordered_categorical(["Facebook"] * n, config.PLATFORMS)


# ---------------------------------------------------------------------------------------------
# 1. UCI Facebook metrics
# ---------------------------------------------------------------------------------------------
#: Source column → canonical or extra column name.
FACEBOOK_COLUMNS: dict[str, str] = {
    "Page total likes": "audience",
    "Type": "content_type",
    "Paid": "paid",
    "Lifetime Post Total Reach": "reach",
    "Lifetime Post Total Impressions": "impressions",
    "Lifetime Post Consumptions": "clicks",
    "comment": "comments",
    "like": "likes",
    "share": "shares",
    "Total Interactions": "interactions_reported",
}
#: Source column → name of the extra (non-canonical) column kept after the canonical ones.
FACEBOOK_EXTRAS: dict[str, str] = {
    "Category": "category",
    "Post Month": "month",
    "Post Weekday": "weekday",
    "Post Hour": "hour",
    "Lifetime Engaged Users": "engaged_users",
    "Lifetime Post Consumers": "consumers",
    "Lifetime Post Impressions by people who have liked your Page": "impressions_by_fans",
    "Lifetime Post reach by people who like your Page": "reach_by_fans",
    "Lifetime People who have liked your Page and engaged with your post": "engaged_fans",
}
FACEBOOK_EXTRA_COUNTS = ("engaged_users", "consumers", "impressions_by_fans", "reach_by_fans", "engaged_fans")
#: Codes of the authors' content category (Moro et al. 2016, section 3).
FACEBOOK_CATEGORIES = {1: "action", 2: "product", 3: "inspiration"}
FACEBOOK_ACCOUNT = "uci_cosmetics_brand"


def load_uci_facebook_metrics() -> tuple[pd.DataFrame, QualityReport]:
    """Load the UCI "Facebook metrics" posts (Moro, Rita & Vala 2016) in the canonical schema.

    Returns
    -------
    data : pandas.DataFrame
        500 rows, one per post, with the canonical columns (dtypes as in ``config.POST_SCHEMA``)

        - ``post_id`` (string): ``"row-<n>"`` (the source has no id)
        - ``account`` (string): ``"uci_cosmetics_brand"`` for every row (one brand)
        - ``platform`` (category): ``"Facebook"``
        - ``content_type`` (category): ``Type`` lower-cased: photo, status, link, video
        - ``paid`` (boolean): ``Paid`` (1 = boosted); 1 missing
        - ``audience`` (Int64): ``Page total likes`` when the post was published
        - ``reach`` (Int64): ``Lifetime Post Total Reach`` (unique users)
        - ``impressions`` (Int64): ``Lifetime Post Total Impressions``
        - ``likes``, ``comments``, ``shares`` (Int64): ``like``, ``comment``, ``share``; 1 and 4 missing
        - ``clicks`` (Int64): ``Lifetime Post Consumptions``, the number of clicks anywhere in the post
          (Insights "consumptions": link clicks, photo views, video plays, other clicks). It is the only
          click count in the file; ``consumers`` is its unique-user version.
        - ``interactions_reported`` (Int64): ``Total Interactions`` (= likes + comments + shares)
        - ``source_row`` (Int64): 1-based data-row number in the file

        and extra columns

        - ``category`` (ordered category): the authors' content category, action < product < inspiration
          (source codes 1, 2, 3)
        - ``month`` (Int64): month of publication in 2014, 1-12
        - ``weekday`` (Int64): day of week, coded 1-7 (the file does not say which day is 1)
        - ``hour`` (Int64): hour of publication
        - ``engaged_users`` (Int64): ``Lifetime Engaged Users``
        - ``consumers`` (Int64): ``Lifetime Post Consumers`` (unique users who clicked)
        - ``impressions_by_fans`` (Int64): impressions among people who had liked the page
        - ``reach_by_fans`` (Int64): reach among people who had liked the page
        - ``engaged_fans`` (Int64): people who had liked the page and engaged with the post
    report : QualityReport
        What was found; see Notes.

    Notes
    -----
    There is no ``posted_at`` column: the file gives only month, weekday and hour (year 2014), not the
    day, and dates are not invented. There is no ``department``: the posts come from one brand; compare
    post-level groups (``content_type``, ``category``, ``paid``) instead.

    Missing data: the 6 blank cells (``Paid`` 1, ``like`` 1, ``share`` 4) stay missing, never zero.
    ``interactions_reported`` is checked against ``likes + comments + shares`` only where all three parts
    are known; for the 4 rows with a missing part the check is not possible and they are flagged as
    ``"interactions_not_checked"`` (in each, the known parts already equal the reported total). Rows whose
    ``impressions`` are below their ``reach`` (impossible by definition) are flagged as
    ``"impressions_below_reach"``.

    Validated against SOURCE.md of the mirror (500 rows, 6 blank cells, total identity) in
    ``tests/test_datasets.py``.

    References
    ----------
    .. [1] Moro, S., Rita, P., & Vala, B. (2016). Predicting social media performance metrics and
       evaluation of the impact on brand building: A data mining approach. Journal of Business Research,
       69(9), 3341-3351. https://doi.org/10.1016/j.jbusres.2016.02.010

    Examples
    --------
    >>> from toolkit.data.datasets import load_uci_facebook_metrics
    >>> data, report = load_uci_facebook_metrics()
    >>> data.shape
    (500, 23)
    >>> data["category"].cat.categories.tolist()
    ['action', 'product', 'inspiration']
    """
    from toolkit.data.posts import read_posts

    path = dataset_path("uci_facebook_metrics", "dataset_Facebook.csv")
    data, report = read_posts(path, columns=FACEBOOK_COLUMNS, delimiter=";", encoding="ascii",
                              source_name="uci_facebook_metrics")
    _note_file(report, path)
    data = data.rename(columns=FACEBOOK_EXTRAS)
    report.note("Extra columns renamed: " + ", ".join(f"{k!r} -> {v!r}" for k, v in FACEBOOK_EXTRAS.items()))
    n = len(data)
    data["account"] = pd.array([FACEBOOK_ACCOUNT] * n, dtype="string")
    data["platform"] = _facebook_platform(n)
    codes = pd.to_numeric(data["category"].astype("object"), errors="coerce")
    labels = [FACEBOOK_CATEGORIES.get(int(c)) if c == c else None for c in codes]
    data["category"] = pd.Categorical(labels, categories=list(FACEBOOK_CATEGORIES.values()), ordered=True)
    for col in ("month", "weekday", "hour", *FACEBOOK_EXTRA_COUNTS):
        data[col] = pd.to_numeric(data[col].astype("object"), errors="coerce").astype("Int64")
    data = _order_columns(_enforce_schema(data))
    report.note("account: one brand, so account = 'uci_cosmetics_brand' and there is no department column; "
                "compare content_type, category or paid instead")
    report.note("posted_at: not available (only month, weekday and hour of 2014 are given; no dates invented)")
    report.note("clicks = 'Lifetime Post Consumptions' (clicks anywhere in the post)")
    _check_facebook(data, report)
    return data, report


def _check_facebook(data: pd.DataFrame, report: QualityReport) -> None:
    """Flag the rows whose reported total cannot be checked because a part is missing."""
    parts = data[["likes", "comments", "shares"]]
    incomplete = parts.isna().any(axis=1) & data["interactions_reported"].notna()
    # read_posts compares totals only where all parts are known; make the rows it cannot check explicit.
    for idx in data.index[incomplete]:
        row = data.loc[idx]
        known = int(sum(int(row[c]) for c in ("likes", "comments", "shares") if pd.notna(row[c])))
        missing = [c for c in ("likes", "comments", "shares") if pd.isna(row[c])]
        report.add(source_row=int(row["source_row"]), post_id=row["post_id"], column="interactions_reported",
                   action="flagged", rule="interactions_not_checked",
                   message=f"interactions_reported = {int(row['interactions_reported'])} cannot be checked: "
                           f"{', '.join(missing)} missing (the known parts sum to {known})")


# ---------------------------------------------------------------------------------------------
# 2. UCI Facebook Live sellers in Thailand
# ---------------------------------------------------------------------------------------------
THAI_COLUMNS: dict[str, str] = {
    "status_id": "post_id",
    "status_type": "content_type",
    "status_published": "posted_at",
    "num_reactions": "likes",
    "num_comments": "comments",
    "num_shares": "shares",
}
THAI_REACTIONS = ("num_likes", "num_loves", "num_wows", "num_hahas", "num_sads", "num_angrys")
THAI_EMPTY_COLUMNS = ("Column1", "Column2", "Column3", "Column4")
THAI_TIMEZONE = "Asia/Bangkok"
THAI_DATE_FORMAT = "%m/%d/%Y %H:%M"


def load_uci_live_sellers_thailand(*, drop_duplicates: bool = False) -> tuple[pd.DataFrame, QualityReport]:
    """Load the UCI "Facebook Live Sellers in Thailand" posts (Dehouche 2020) with seller codes.

    Parameters
    ----------
    drop_duplicates : bool, default=False
        Exclude the 53 posts that repeat an earlier post (rule ``"repeated_post"``, action "excluded").
        By default they are kept and flagged, each naming the earlier row.

    Returns
    -------
    data : pandas.DataFrame
        7,050 rows (6,997 with ``drop_duplicates=True``), one per post, with canonical columns

        - ``post_id`` (string): ``status_id`` of the 2021 file (the row number 1-7050)
        - ``account`` (string): seller code ``S01``-``S09`` (the clustering unit)
        - ``platform`` (category): ``"Facebook"``
        - ``posted_at`` (datetime64[ns, UTC]): ``status_published`` read as Asia/Bangkok local time
          (an assumption, see Notes), stored in UTC
        - ``content_type`` (category): ``status_type`` (photo, video, status, link)
        - ``likes`` (Int64): ``num_reactions``, all reaction types
        - ``comments`` (Int64): ``num_comments``
        - ``shares`` (Int64): ``num_shares``
        - ``source_row`` (Int64): 1-based data-row number in ``Live_20210128.csv``

        and extra columns

        - ``num_likes``, ``num_loves``, ``num_wows``, ``num_hahas``, ``num_sads``, ``num_angrys`` (Int64):
          the six reaction types (only "Like" existed before February 2016)
        - ``seller`` (ordered category S01 < ... < S09): the seller again, for analyses that treat sellers
          as teams
        - ``duplicate_of`` (Int64): ``source_row`` of the earlier post this row repeats, else missing
    report : QualityReport
        What was found; see Notes.

    Notes
    -----
    The seller of each post comes from ``seller_codes.csv``, derived by this project from the 2018 UCI
    release (whose ``status_id`` held the page id) and joined on ``status_id``; see SOURCE.md. It has no
    public download.

    Checks added to those of :func:`toolkit.read_posts`: ``"repeated_post"`` for the 53 rows whose original
    post id appeared earlier (flagged, or excluded with ``drop_duplicates=True``); and
    ``"reaction_sum_mismatch"`` (flagged) where ``num_reactions`` differs from the sum of the six reaction
    columns. The always-empty ``Column1``-``Column4`` are dropped (a note, not a row problem). The time zone
    of ``status_published`` is not documented; Asia/Bangkok (UTC+7, no daylight saving) is assumed and
    recorded as a report note. Missing values stay missing.

    Validated against SOURCE.md of the mirror (7,050 rows, 53 repeated posts, 9 reaction-sum mismatches,
    posts per seller) in ``tests/test_datasets.py``.

    References
    ----------
    .. [1] Dehouche, N. (2020). Dataset on usage and engagement patterns for Facebook Live sellers in
       Thailand. Data in Brief, 30, 105661. https://doi.org/10.1016/j.dib.2020.105661

    Examples
    --------
    >>> from toolkit.data.datasets import load_uci_live_sellers_thailand
    >>> data, report = load_uci_live_sellers_thailand()
    >>> data["seller"].value_counts(sort=False).to_dict()["S01"]
    2635
    """
    from toolkit.data.posts import read_posts

    posts_path = dataset_path("uci_live_sellers_thailand", "Live_20210128.csv")
    sellers_path = dataset_path("uci_live_sellers_thailand", "seller_codes.csv")
    data, report = read_posts(posts_path, columns=THAI_COLUMNS, delimiter=",", encoding="ascii",
                              timezone=THAI_TIMEZONE, date_format=THAI_DATE_FORMAT,
                              source_name="uci_live_sellers_thailand")
    _note_file(report, posts_path)
    _note_file(report, sellers_path)
    data = data.copy()
    present = [c for c in THAI_EMPTY_COLUMNS if c in data.columns]
    if present:
        nonempty = [c for c in present if data[c].notna().any()]
        if nonempty:  # never drop information silently
            raise ValueError(message("load_uci_live_sellers_thailand", None,
                                     f"columns {', '.join(THAI_EMPTY_COLUMNS)} to be empty", nonempty,
                                     "The file is not the registered version; check its SOURCE.md."))
        data = data.drop(columns=present)
    report.note(f"dropped columns {', '.join(THAI_EMPTY_COLUMNS)}: always empty in the source "
                "(spreadsheet artefact); columns only, no rows removed")
    report.note(f"posted_at: status_published has no documented time zone; read as {THAI_TIMEZONE} local "
                f"time (UTC+7, an assumption) with format {THAI_DATE_FORMAT!r}, stored in UTC")
    report.note("likes = num_reactions (all reaction types); the six types are kept as num_likes ... num_angrys")

    sellers = pd.read_csv(sellers_path, dtype={"status_id": "int64", "seller": "str", "duplicate_of": "Int64"},
                          encoding="ascii")
    sellers.index = sellers["status_id"].astype("string")
    key = data["post_id"].astype("string")
    if not key.isin(sellers.index).all():
        raise ValueError(message("load_uci_live_sellers_thailand", None,
                                 "a seller in seller_codes.csv for every status_id",
                                 f"{int((~key.isin(sellers.index)).sum())} status_id values without one",
                                 "The two files are not the registered versions; check SOURCE.md."))
    seller = sellers.loc[key.to_numpy(), "seller"].to_numpy()
    data["account"] = pd.array(seller, dtype="string")
    data["platform"] = _facebook_platform(len(data))
    data["seller"] = pd.Categorical(seller, categories=sorted(set(seller)), ordered=True)
    data["duplicate_of"] = pd.array(sellers.loc[key.to_numpy(), "duplicate_of"].to_numpy(), dtype="Int64")
    for col in THAI_REACTIONS:
        data[col] = pd.to_numeric(data[col].astype("object"), errors="coerce").astype("Int64")
    report.note("account = seller code S01-S09 from seller_codes.csv (derived by this project from the 2018 "
                "release; see SOURCE.md); no department column, sellers are the clustering unit")

    # reaction sum
    total = data[list(THAI_REACTIONS)].sum(axis=1, min_count=len(THAI_REACTIONS))
    mismatch = (data["likes"].notna() & total.notna() & (data["likes"] != total)).astype(bool)
    for idx in data.index[mismatch]:
        row = data.loc[idx]
        report.add(source_row=int(row["source_row"]), post_id=row["post_id"], column="likes", action="flagged",
                   rule="reaction_sum_mismatch",
                   message=f"num_reactions = {int(row['likes'])} but the six reaction columns sum to "
                           f"{int(total[idx])}", original_value=int(row["likes"]))

    # repeated posts: compare with the earlier row on the source text (every column but status_id)
    text = pd.read_csv(posts_path, dtype="str", keep_default_na=False, encoding="ascii")
    text = text.set_index("status_id").drop(columns=[c for c in THAI_EMPTY_COLUMNS if c in text.columns])
    repeated = data["duplicate_of"].notna().astype(bool)
    action = "excluded" if drop_duplicates else "flagged"
    for idx in data.index[repeated]:
        row = data.loc[idx]
        earlier = int(row["duplicate_of"])
        mine, theirs = text.loc[str(row["post_id"])], text.loc[str(earlier)]
        differ = [c for c in text.columns if mine[c] != theirs[c]]
        detail = ("identical to it in every other column" if not differ else
                  "differs from it in " + ", ".join(f"{c} ({mine[c]!r} vs {theirs[c]!r})" for c in differ))
        report.add(source_row=int(row["source_row"]), post_id=row["post_id"], action=action,
                   rule="repeated_post",
                   message=f"repeats the post in row {earlier} (same original post id in the 2018 release); "
                           + detail + ("; excluded (drop_duplicates=True)" if drop_duplicates else
                                       "; kept (drop_duplicates=False)"))
    if drop_duplicates:
        data = data.loc[~repeated]
        report.note(f"drop_duplicates=True: {int(repeated.sum())} repeated posts excluded")
    data = _order_columns(_enforce_schema(data)).reset_index(drop=True)
    return data, report


# ---------------------------------------------------------------------------------------------
# 3. NYC Social Media Usage (account-level panel)
# ---------------------------------------------------------------------------------------------
NYC_COLUMNS = ("agency", "platform", "url", "account", "sampled_on", "audience", "source_row")
#: Spelling variants of platform names → one spelling (every changed cell is recorded as repaired).
NYC_PLATFORM_SPELLING: dict[str, str] = {
    "Youtube": "YouTube",
    "iPhone app": "iPhone App",
    "iPhone": "iPhone App",
    "Linked-In": "LinkedIn",
}
NYC_DATE_FORMAT = "%m/%d/%Y %I:%M:%S %p"
NYC_SOURCE_COLUMNS = ("Agency", "Platform", "Url", "Date Sampled", "Likes/Followers/Visits/Downloads")


def agency_aliases() -> pd.DataFrame:
    """Return the agency alias table used by ``normalize_agencies=True`` (agency, agency_normalized, evidence)."""
    with open(ALIASES_CSV, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    return pd.DataFrame(rows, columns=["agency", "agency_normalized", "evidence"]).astype("str")


def load_nyc_agency_social_media_usage(*, normalize_agencies: bool = False) -> tuple[pd.DataFrame, QualityReport]:
    """Load NYC Open Data "NYC Social Media Usage" as an account-by-date audience panel.

    This is **not** the post schema: one row is one City agency account (Facebook page, Twitter account,
    YouTube channel, app, newsletter, ...) on one of 20 sampling dates (2011-08-08 to 2012-12-12), with
    that account's audience size. It answers "which agency has the larger or faster-growing audience"
    (accounts nested in agencies, repeated over dates), not post engagement.

    Parameters
    ----------
    normalize_agencies : bool, default=False
        Replace agency label variants by the label in ``toolkit/data/catalog/nyc_agency_aliases.csv``
        (e.g. ``DOH`` → ``DOHMH``), recording each changed cell as repaired (rule
        ``"agency_label_variant"``). By default the labels are kept and those rows flagged with the same rule.

    Returns
    -------
    data : pandas.DataFrame
        5,880 rows (5,899 minus 19 citywide TOTAL rows), columns

        - ``agency`` (string): ``Agency`` (after alias mapping with ``normalize_agencies=True``); missing for
          the 20 rows with an empty label
        - ``platform`` (ordered category): ``Platform`` with spellings unified (``Youtube`` → ``YouTube``;
          ``iPhone app``, ``iPhone`` → ``iPhone App``; ``Linked-In`` → ``LinkedIn``); names in
          ``config.PLATFORMS`` first. ``Twitter`` keeps its 2012 name.
        - ``url`` (string): ``Url``, verbatim (for apps and newsletters sometimes a name or number); missing
          when empty
        - ``account`` (string): the account key ``"<agency>|<platform>|<url>"`` (missing parts as empty
          text); unique per sampling date
        - ``sampled_on`` (datetime64[ns]): ``Date Sampled`` as a date (no time zone; all times are 00:00)
        - ``audience`` (Int64): ``Likes/Followers/Visits/Downloads``: page likes, followers, subscribers,
          downloads or newsletter subscribers, depending on the platform; missing when empty
        - ``source_row`` (Int64): 1-based data-row number in the file
    report : QualityReport
        Rules: ``"citywide_total"`` (excluded), ``"platform_spelling"`` (repaired),
        ``"missing_agency"`` (flagged), ``"agency_label_variant"`` (flagged or repaired); missing audience
        values are counted in a note, not listed.

    Notes
    -----
    The audience metric means different things on different platforms: compare within one platform.
    Missing audience values (1,920) are kept as missing, never zero. Agency sub-units (``DOB: Cool Roofs``)
    and joint labels (``HPD/Commission on Human Rights``) are not merged by the alias table.

    Validated against SOURCE.md of the mirror (5,899 rows, 19 TOTAL rows, 1,920 missing values) in
    ``tests/test_datasets.py``.

    References
    ----------
    .. [1] City of New York (2012). NYC Social Media Usage. NYC Open Data, dataset 5b3a-rs48.
       https://data.cityofnewyork.us/City-Government/NYC-Social-Media-Usage/5b3a-rs48 (no DOI).

    Examples
    --------
    >>> from toolkit.data.datasets import load_nyc_agency_social_media_usage
    >>> data, report = load_nyc_agency_social_media_usage()
    >>> data.shape, report.n_rows_excluded
    ((5880, 7), 19)
    >>> data.columns.tolist()
    ['agency', 'platform', 'url', 'account', 'sampled_on', 'audience', 'source_row']
    """
    func = "load_nyc_agency_social_media_usage"
    if not isinstance(normalize_agencies, bool):
        raise TypeError(message(func, "normalize_agencies", "True or False", normalize_agencies))
    path = dataset_path("nyc_agency_social_media_usage", "NYC_Social_Media_Usage.csv")
    raw = pd.read_csv(path, dtype="str", keep_default_na=False, encoding="ascii")
    if tuple(raw.columns) != NYC_SOURCE_COLUMNS:
        raise ValueError(message(func, None, f"a file with columns {list(NYC_SOURCE_COLUMNS)}",
                                 list(raw.columns), "The file is not the registered version; check SOURCE.md."))
    report = QualityReport(source="nyc_agency_social_media_usage", n_rows_in=len(raw))
    _note_file(report, path)
    source_row = np.arange(1, len(raw) + 1)
    agency = raw["Agency"].str.strip()
    platform = raw["Platform"].str.strip()

    # citywide totals
    total = ((agency == "TOTAL") & (platform == "TOTAL")).to_numpy()
    for r in source_row[total]:
        report.add(source_row=int(r), column="", action="excluded", rule="citywide_total",
                   message="citywide TOTAL row (sum over all accounts on that date), not an account")

    keep = ~total
    frame = pd.DataFrame({"agency": agency[keep], "platform": platform[keep], "url": raw["Url"][keep],
                          "date": raw["Date Sampled"][keep], "value": raw["Likes/Followers/Visits/Downloads"][keep],
                          "source_row": source_row[keep]}).reset_index(drop=True)

    # platform spellings
    for i in np.flatnonzero(frame["platform"].isin(list(NYC_PLATFORM_SPELLING)).to_numpy()):
        old = frame.at[i, "platform"]
        report.add(source_row=int(frame.at[i, "source_row"]), column="platform", action="repaired",
                   rule="platform_spelling", message=f"platform spelling {old!r} unified to "
                                                      f"{NYC_PLATFORM_SPELLING[old]!r}",
                   original_value=old, new_value=NYC_PLATFORM_SPELLING[old])
    frame["platform"] = frame["platform"].replace(NYC_PLATFORM_SPELLING)

    # empty agency
    for i in np.flatnonzero((frame["agency"] == "").to_numpy()):
        report.add(source_row=int(frame.at[i, "source_row"]), column="agency", action="flagged",
                   rule="missing_agency", message="empty Agency label; kept with agency missing",
                   original_value="")

    # agency label variants
    aliases = agency_aliases()
    mapping = dict(zip(aliases["agency"], aliases["agency_normalized"]))
    for i in np.flatnonzero(frame["agency"].isin(list(mapping)).to_numpy()):
        old = frame.at[i, "agency"]
        new = mapping[old]
        if normalize_agencies:
            report.add(source_row=int(frame.at[i, "source_row"]), column="agency", action="repaired",
                       rule="agency_label_variant",
                       message=f"agency label {old!r} replaced by {new!r} (nyc_agency_aliases.csv)",
                       original_value=old, new_value=new)
        else:
            report.add(source_row=int(frame.at[i, "source_row"]), column="agency", action="flagged",
                       rule="agency_label_variant",
                       message=f"agency label {old!r} looks like a variant of {new!r}; kept as is "
                               f"(normalize_agencies=True merges it, see nyc_agency_aliases.csv)",
                       original_value=old)
    if normalize_agencies:
        frame["agency"] = frame["agency"].replace(mapping)
        report.note(f"normalize_agencies=True: agency labels mapped with nyc_agency_aliases.csv "
                    f"({len(mapping)} aliases)")

    # dates
    sampled = pd.to_datetime(frame["date"], format=NYC_DATE_FORMAT, errors="coerce")
    for i in np.flatnonzero(sampled.isna().to_numpy() & (frame["date"] != "").to_numpy()):
        report.add(source_row=int(frame.at[i, "source_row"]), column="sampled_on", action="flagged",
                   rule="unparseable_date", message=f"Date Sampled {frame.at[i, 'date']!r} is not "
                                                    f"{NYC_DATE_FORMAT!r}; set missing",
                   original_value=frame.at[i, "date"])
    sampled = sampled.dt.normalize().astype("datetime64[ns]")

    # audience
    text = frame["value"].str.strip()
    audience = pd.to_numeric(text.where(text != ""), errors="coerce")
    bad = audience.isna().to_numpy() & (text != "").to_numpy()
    for i in np.flatnonzero(bad):
        report.add(source_row=int(frame.at[i, "source_row"]), column="audience", action="flagged",
                   rule="unparseable_count", message=f"audience {frame.at[i, 'value']!r} is not a number; "
                                                      f"set missing", original_value=frame.at[i, "value"])
    n_missing = int((text == "").sum())
    report.note(f"audience: {n_missing} empty values kept as missing (not zero)")
    report.note("audience means page likes, followers, subscribers or downloads depending on the platform: "
                "compare within one platform")

    agency_out = frame["agency"].where(frame["agency"] != "").astype("string")
    url_out = frame["url"].where(frame["url"] != "").astype("string")
    platform_out = config.ordered_categorical(frame["platform"], config.PLATFORMS)
    account = (agency_out.fillna("") + "|" + frame["platform"].astype("string") + "|"
               + url_out.fillna("")).astype("string")
    out = pd.DataFrame({
        "agency": agency_out,
        "platform": platform_out,
        "url": url_out,
        "account": account,
        "sampled_on": sampled,
        "audience": audience.astype("Int64"),
        "source_row": pd.array(frame["source_row"], dtype="Int64"),
    })
    return out, report
