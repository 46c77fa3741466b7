"""Export profiles: the column layouts of real platform exports, mapped to the canonical schema.

A profile knows one export format (CrowdTangle, Meta Business Suite, Facebook Insights, X API v2,
X analytics, Instagram, LinkedIn, a generic social-media-management CSV): which of its columns
become which canonical column (:data:`toolkit.config.POST_SCHEMA`), how to read it (X API v2
JSON/JSONL is flattened to one row per tweet; a row of column descriptions under the header, as in
Meta's exports, and a title line above it, as in LinkedIn's, are recognised and noted), and how it
marks **reposts** (retweets, shared posts of other accounts) and **replies**.

:func:`toolkit.read_posts` uses them through ``profile=``: ``profile="crowdtangle"`` applies one
profile, ``profile="auto"`` (the default) applies the profile whose signature columns the file has
when exactly one matches and no ``columns=`` mapping was given, and ``profile=None`` never applies
one. The report notes which profile was used and why.

Every profile adds two columns after the canonical ones (nullable booleans, ``<NA>`` where the
export cannot tell):

- ``is_repost``: the row re-publishes another account's post (a retweet, a shared post/video).
  Its counts belong to the original post, not to the account that reposted it, so analyses of
  an account's (or a department's) own engagement should exclude these rows:
  ``data[data["is_repost"].fillna(False).eq(False)]``. They are kept and flagged (rule
  ``"repost"``), never dropped by the loader.
- ``is_reply``: the row replies to another post (rule ``"reply"``). Replies are seen mostly by the
  people in the conversation, so their reach is not comparable with stand-alone posts.

Profiles never drop rows: rows in = rows kept + rows excluded holds as for any file.
"""
from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from toolkit import config
from toolkit._validation import _did_you_mean, message
from toolkit.data import parsing
from toolkit.data.quality import QualityReport

_FUNC = "read_posts"
JSON_SUFFIXES = (".json", ".jsonl", ".ndjson")
FLAG_COLUMNS = ("is_repost", "is_reply")


@dataclass(frozen=True)
class ExportProfile:
    """The column layout of one export format.

    Attributes
    ----------
    name : str
        Key passed as ``read_posts(..., profile=name)``.
    title : str
        Human-readable name of the export.
    platform : str or None
        The platform every row belongs to (None: taken from a column).
    columns : dict
        Canonical name -> candidate source column names (the first present is used; matched
        case-insensitively, ignoring surrounding spaces).
    signature : tuple of str
        Source columns that must all be present for ``profile="auto"`` to choose this profile.
    documentation : str
        Where the layout is documented (see ``tests/fixtures/exports/README.md``).
    """

    name: str
    title: str
    platform: str | None
    columns: dict = field(default_factory=dict)
    signature: tuple = ()
    documentation: str = ""


_REACTIONS = ("Likes", "Love", "Wow", "Haha", "Sad", "Angry", "Care")

PROFILES: dict[str, ExportProfile] = {p.name: p for p in (
    ExportProfile(
        "crowdtangle", "CrowdTangle Facebook posts (CSV/XLSX historical-data export)", "Facebook",
        {"post_id": ("URL",), "account": ("Page Name", "User Name"), "audience": ("Followers at Posting",
                                                                                "Likes at Posting"),
         "posted_at": ("Post Created",), "content_type": ("Type",), "likes": ("reactions (sum)",),
         "comments": ("Comments",), "shares": ("Shares",), "video_views": ("Post Views",),
         "interactions_reported": ("Total Interactions",)},
        ("Page Name", "Facebook Id", "Likes at Posting", "Post Created", "Total Interactions", "URL"),
        "https://help.crowdtangle.com/en/articles/3213537-crowdtangle-codebook"),
    ExportProfile(
        "crowdtangle_instagram", "CrowdTangle Instagram posts (CSV export)", "Instagram",
        {"post_id": ("URL",), "account": ("User Name", "Account"), "audience": ("Followers at Posting",),
         "posted_at": ("Post Created",), "content_type": ("Type",), "likes": ("Likes",),
         "comments": ("Comments",), "video_views": ("Views",), "interactions_reported": ("Total Interactions",)},
        ("Account", "User Name", "Followers at Posting", "Post Created", "Views", "URL"),
        "https://help.crowdtangle.com/en/articles/3213537-crowdtangle-codebook"),
    ExportProfile(
        "meta_business_suite", "Meta Business Suite Facebook page posts (Insights → Content → Export)",
        "Facebook",
        {"post_id": ("Post ID",), "account": ("Page name",), "posted_at": ("Publish time",),
         "content_type": ("Post type",), "reach": ("Reach",), "impressions": ("Impressions",),
         "likes": ("Reactions",), "comments": ("Comments",), "shares": ("Shares",), "clicks": ("Total clicks",),
         "interactions_reported": ("Reactions, comments and shares",)},
        ("Post ID", "Page name", "Publish time", "Permalink"),
        "https://www.facebook.com/business/help/1507213149602006"),
    ExportProfile(
        "facebook_insights", "Facebook Insights post-level export (legacy 'Export Data → Post data')", "Facebook",
        {"post_id": ("Post ID",), "posted_at": ("Posted",), "content_type": ("Type",),
         "reach": ("Lifetime Post Total Reach",), "impressions": ("Lifetime Post Total Impressions",),
         "clicks": ("Lifetime Post Consumptions",),
         "likes": ("Lifetime Talking About This (Post) by action type - like",),
         "comments": ("Lifetime Talking About This (Post) by action type - comment",),
         "shares": ("Lifetime Talking About This (Post) by action type - share",)},
        ("Post ID", "Permalink", "Posted", "Lifetime Post Total Reach"),
        "https://support.sproutsocial.com/hc/en-us/articles/204837535"),
    ExportProfile(
        "instagram", "Meta Business Suite Instagram posts (Insights → Content → Export)", "Instagram",
        {"post_id": ("Post ID",), "account": ("Account username", "Account name"), "posted_at": ("Publish time",),
         "content_type": ("Post type",), "reach": ("Reach",), "impressions": ("Impressions", "Views"),
         "likes": ("Likes",), "comments": ("Comments",), "shares": ("Shares",), "video_views": ("Plays",)},
        ("Post ID", "Account username", "Publish time", "Permalink"),
        "https://www.facebook.com/business/help/1507213149602006"),
    ExportProfile(
        "linkedin", "LinkedIn Page content export (Analytics → Content → Export, 'All posts')", "LinkedIn",
        {"post_id": ("Post link",), "posted_at": ("Created date",), "content_type": ("Content Type",),
         "paid": ("paid (from Post type)",), "impressions": ("Impressions",), "clicks": ("Clicks",),
         "likes": ("Likes",), "comments": ("Comments",), "shares": ("Reposts",)},
        ("Post title", "Post link", "Post type", "Created date", "Impressions"),
        "https://www.linkedin.com/help/linkedin/answer/a547077"),
    ExportProfile(
        "x_api_v2", "X (Twitter) API v2 tweets (JSON or JSONL responses, with includes.users)", "X/Twitter",
        {"post_id": ("id",), "account": ("author_username",), "posted_at": ("created_at",),
         "likes": ("like_count",), "comments": ("reply_count",), "shares": ("retweet_count",),
         "impressions": ("impression_count",)},
        (),
        "https://docs.x.com/x-api/fundamentals/data-dictionary"),
    ExportProfile(
        "x_analytics", "X (Twitter) analytics tweet-activity CSV", "X/Twitter",
        {"post_id": ("Tweet id",), "account": ("account (from permalink)",), "posted_at": ("time",),
         "impressions": ("impressions",), "likes": ("likes",), "comments": ("replies",), "shares": ("retweets",),
         "clicks": ("url clicks",), "video_views": ("media views",)},
        ("Tweet id", "Tweet permalink", "Tweet text", "time", "impressions"),
        "https://help.x.com/en/managing-your-account/using-the-tweet-activity-dashboard"),
    ExportProfile(
        "generic", "Generic social-media-management post report (Sprout Social / Hootsuite style)", None,
        {"post_id": ("Post ID", "Post Id", "ID"), "account": ("Profile", "Account", "Page"),
         "platform": ("Network", "Platform"), "posted_at": ("Date", "Published", "Publish time", "Created"),
         "content_type": ("Content Type",), "reach": ("Reach",), "impressions": ("Impressions",),
         "likes": ("Reactions", "Likes"), "comments": ("Comments",), "shares": ("Shares", "Reposts", "Retweets"),
         "clicks": ("Post Link Clicks", "Link Clicks", "Clicks"), "video_views": ("Video Views",)},
        ("Date", "Post ID", "Network", "Profile"),
        "https://support.sproutsocial.com/hc/en-us/articles/360052331251"),
)}


def list_profiles() -> pd.DataFrame:
    """List the export profiles that ``tk.read_posts(..., profile=...)`` understands.

    Returns
    -------
    pandas.DataFrame
        One row per profile, columns ``profile`` (the key for ``profile=``), ``title``,
        ``platform`` (None: from a column), ``signature`` (the columns ``profile="auto"`` looks
        for, ``", "``-joined; empty for X API JSON, detected by its ``.json``/``.jsonl`` suffix),
        ``mapping`` (``"canonical <- source"`` pairs) and ``documentation`` (where the layout is
        documented).

    See Also
    --------
    read_posts : Read a post-level export into the canonical table, with a report of every change.
    assign_departments : Add each post's department from an org chart of accounts, including team changes over
        time.

    Examples
    --------
    >>> import toolkit as tk
    >>> tk.list_profiles()["profile"].tolist()[:3]
    ['crowdtangle', 'crowdtangle_instagram', 'meta_business_suite']
    """
    return pd.DataFrame({
        "profile": list(PROFILES),
        "title": [p.title for p in PROFILES.values()],
        "platform": [p.platform for p in PROFILES.values()],
        "signature": [", ".join(p.signature) for p in PROFILES.values()],
        "mapping": ["; ".join(f"{k} <- {' | '.join(v)}" for k, v in p.columns.items()) for p in PROFILES.values()],
        "documentation": [p.documentation for p in PROFILES.values()],
    })


def check_profile(profile) -> None:
    """Validate the ``profile=`` option of read_posts."""
    if profile is None or profile == "auto":
        return
    if not isinstance(profile, str):
        raise TypeError(message(_FUNC, "profile", "a profile name, 'auto' or None", type(profile).__name__))
    if profile not in PROFILES:
        raise ValueError(message(_FUNC, "profile", f"'auto', None or one of {', '.join(map(repr, PROFILES))}",
                                 profile, (_did_you_mean(profile, PROFILES).strip() or None)))


# ---------------------------------------------------------------------------------------------
# hook 1: loading (X API v2 JSON/JSONL)
# ---------------------------------------------------------------------------------------------
def is_json(source) -> bool:
    """True for a path ending in .json/.jsonl/.ndjson (read by :func:`read_x_api_json`)."""
    return isinstance(source, (str, os.PathLike)) and Path(source).suffix.lower() in JSON_SUFFIXES


def _responses(path: Path) -> list:
    """``[(where, document), ...]``: where is "line N" (JSON Lines) or "item N" (a JSON list)."""
    text = path.read_text(encoding="utf-8-sig")
    if not text.strip():
        raise ValueError(message(_FUNC, "source", "a JSON file with X API v2 tweets", str(path), "The file is empty."))
    try:
        obj = json.loads(text)
        return [(f"item {i}", o) for i, o in enumerate(obj, start=1)] if isinstance(obj, list) else [("line 1", obj)]
    except json.JSONDecodeError:
        pass
    out = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            out.append((f"line {number}", json.loads(line)))
        except json.JSONDecodeError as exc:
            raise ValueError(message(_FUNC, "source", "JSON (one document) or JSON Lines (one document per line)",
                                     str(path), f"Line {number} is not valid JSON: {exc.msg} at column "
                                     f"{exc.colno}.")) from None
    return out


def read_x_api_json(path) -> tuple[pd.DataFrame, list[str]]:
    """Flatten X API v2 responses into one text row per tweet (``data`` items only).

    Accepts one response (``{"data": [...], "includes": {...}}``), a list of responses or of tweet
    objects, or JSON Lines with one response or one tweet per line (twarc2 output; a tweet may
    carry an ``author`` object). ``includes.users`` resolve ``author_id`` to ``author_username``;
    ``includes.tweets`` are referenced tweets, never rows.
    """
    path = Path(path)
    tweets: list[dict] = []
    users: dict[str, dict] = {}
    errors: list[str] = []
    for where, obj in _responses(path):
        if not isinstance(obj, dict):
            raise ValueError(message(_FUNC, "source", "X API v2 responses or tweet objects (JSON objects)",
                                     type(obj).__name__))
        if "data" in obj:
            items = obj["data"] if isinstance(obj["data"], list) else [obj["data"]]
            for u in (obj.get("includes") or {}).get("users", []) or []:
                users[str(u.get("id"))] = u
        elif "id" in obj and ("text" in obj or "public_metrics" in obj):
            items = [obj]
        else:
            items = []  # e.g. a twarc2 meta/errors line: not a tweet
        if obj.get("errors") and not obj.get("data"):  # a failed request: its page of tweets is missing
            first = obj["errors"][0] if isinstance(obj["errors"], list) and obj["errors"] else obj["errors"]
            detail = (", ".join(str(first.get(k)) for k in ("title", "status", "detail") if first.get(k) is not None)
                      if isinstance(first, dict) else str(first))
            errors.append(f"{where}: {detail[:120]}")
        for t in items:
            if isinstance(t.get("author"), dict):
                users.setdefault(str(t["author"].get("id", t.get("author_id"))), t["author"])
            tweets.append(t)
    if not tweets:
        raise ValueError(message(_FUNC, "source", "X API v2 JSON with at least one tweet in `data`", str(path),
                                 "Check that the file holds API responses (with a `data` list) or tweet objects."))
    frame = pd.json_normalize(tweets, max_level=1, sep=".")
    for col in list(frame.columns):
        if col.startswith("public_metrics."):
            frame = frame.rename(columns={col: col.split(".", 1)[1]})
    refs = pd.Series([t.get("referenced_tweets") or [] for t in tweets], dtype=object)
    kinds = refs.map(lambda rs: {r.get("type"): str(r.get("id")) for r in rs if isinstance(r, dict)})
    frame["is_repost"] = kinds.map(lambda k: "retweeted" in k)
    frame["is_reply"] = kinds.map(lambda k: "replied_to" in k)
    frame["is_quote"] = kinds.map(lambda k: "quoted" in k)
    frame["referenced_tweet_id"] = kinds.map(lambda k: k.get("retweeted") or k.get("quoted") or k.get("replied_to"))
    author = (frame["author_id"].astype("string") if "author_id" in frame.columns
              else pd.Series(pd.NA, index=frame.index, dtype="string"))
    names = {k: v.get("username") for k, v in users.items()}
    resolved = author.map(lambda a: names.get(a) if a in names else a, na_action="ignore")
    frame["author_username"] = resolved.astype("string").fillna("")
    followers = {k: (v.get("public_metrics") or {}).get("followers_count") for k, v in users.items()}
    counts = pd.to_numeric(author.map(lambda a: followers.get(a), na_action="ignore"), errors="coerce")
    frame["author_followers"] = counts.astype("Int64").astype("string").fillna("")
    keep = [c for c in frame.columns if not (frame[c].map(lambda v: isinstance(v, (list, dict))).any())]
    frame = frame[keep]
    frame = frame.astype("object").where(frame.notna(), "").astype(str)
    notes = [f"X API v2: {len(tweets)} tweet(s) from `data` flattened to rows; {len(users)} author(s) from "
             f"includes.users (author_username falls back to author_id). author_followers is the follower count "
             f"when the data were collected, not at posting time."]
    if errors:
        notes.append(f"X API v2: {len(errors)} error response(s) without tweets ({'; '.join(errors[:5])}"
                     f"{' …' if len(errors) > 5 else ''}): the tweets those requests should have returned are "
                     f"missing from the file; collect them again (e.g. after the rate-limit window) before "
                     f"comparing counts of posts.")
    return frame.reset_index(drop=True), notes


# ---------------------------------------------------------------------------------------------
# hook 2: detection, preparation and mapping
# ---------------------------------------------------------------------------------------------
def _lookup(raw: pd.DataFrame) -> dict[str, str]:
    return {str(c).strip().casefold(): c for c in raw.columns}


def detect_profile(columns) -> list[str]:
    """Names of the profiles whose signature columns are all among ``columns`` (case-insensitive)."""
    have = {str(c).strip().casefold() for c in columns}
    return [p.name for p in PROFILES.values() if p.signature and all(s.casefold() in have for s in p.signature)]


def _text(s: pd.Series) -> pd.Series:
    return s.astype("string").str.strip()


def _numbers(s: pd.Series) -> pd.Series:
    """``pd.to_numeric(_text(s), errors="coerce")``, computed once per distinct text (counts repeat)."""
    codes, distinct = pd.factorize(_text(s), use_na_sentinel=False)
    values = pd.to_numeric(pd.Series(distinct, dtype="string"), errors="coerce").to_numpy(dtype="float64",
                                                                                           na_value=np.nan)
    return pd.Series(values[codes], index=s.index)


def _yes(s: pd.Series) -> pd.Series:
    """'yes'/'true'/'1' -> True, 'no'/'false'/'0' -> False, anything else missing."""
    low = _text(s).str.casefold()
    out = pd.Series(pd.NA, index=s.index, dtype="boolean")
    out[low.isin(["yes", "true", "1", "y"]).fillna(False).to_numpy(dtype=bool)] = True
    out[low.isin(["no", "false", "0", "n"]).fillna(False).to_numpy(dtype=bool)] = False
    return out


def _promote_header(raw: pd.DataFrame, prof: ExportProfile, report: QualityReport) -> pd.DataFrame:
    """A title line above the header (LinkedIn workbooks): use the first row holding the signature."""
    if not prof.signature or not len(raw) or all(s.casefold() in _lookup(raw) for s in prof.signature):
        return raw
    want = {s.casefold() for s in prof.signature}
    for pos in range(min(5, len(raw))):
        cells = [str(v).strip() for v in raw.iloc[pos]]
        if want <= {c.casefold() for c in cells}:
            out = raw.iloc[pos + 1:].reset_index(drop=True)
            out.columns = cells
            report.note(f"profile {prof.name!r}: the header is on line {pos + 2} (the line(s) above it, e.g. "
                        f"{str(raw.columns[0])!r}, are a title, not data).")
            return out
    return raw


_TZ_ABBREVIATIONS = {"UTC": "+00:00", "GMT": "+00:00", "EST": "-05:00", "EDT": "-04:00", "CST": "-06:00",
                     "CDT": "-05:00", "MST": "-07:00", "MDT": "-06:00", "PST": "-08:00", "PDT": "-07:00",
                     "CET": "+01:00", "CEST": "+02:00", "BST": "+01:00"}


def _prepare(raw: pd.DataFrame, prof: ExportProfile, report: QualityReport) -> pd.DataFrame:
    """Profile-specific derived columns (vectorised); never adds or removes rows."""
    raw = _promote_header(raw, prof, report)
    col = _lookup(raw)
    out = raw.copy()
    n = len(out)
    repost = pd.Series(pd.NA, index=out.index, dtype="boolean")
    reply = pd.Series(pd.NA, index=out.index, dtype="boolean")
    if n:  # Meta's exports (Insights, Business Suite) put a row of column descriptions under the header
        counts = [col[c.casefold()] for canon, cands in prof.columns.items() if canon in config.COUNT_COLUMNS
                  for c in cands if c.casefold() in col]
        first = [str(out[c].iloc[0]).strip() for c in counts]
        filled = [f for f in first if f]
        # words, not numbers: "1.2K" (an abbreviated count) is data, "The number of people who..." is not
        if filled and all(re.search(r"[^\W\d_]{3,}\s+\S*[^\W\d_]{3,}", f) for f in filled):
            out = out.iloc[1:].reset_index(drop=True)
            repost, reply = repost.iloc[1:].reset_index(drop=True), reply.iloc[1:].reset_index(drop=True)
            report.note(f"profile {prof.name!r}: the line under the column names is a row of column descriptions "
                        f"(e.g. {filled[0][:60]!r}), not a post; it is read as part of the header.")
    if prof.name in ("crowdtangle", "crowdtangle_instagram") and "post created" in col:
        created = _text(out[col["post created"]])
        # one whitespace character spelled out (not a backslash-s), so that pandas hands the regex to pyarrow
        space = parsing._WHITESPACE_RUN[:-1]
        abbrev = created.str.extract(space + r"([A-Z]{3,4})$", expand=False)
        offset = abbrev.map(_TZ_ABBREVIATIONS)
        if offset.notna().any():
            out[col["post created"]] = created.where(offset.isna(), created.str.replace(
                space + r"[A-Z]{3,4}$", "", regex=True) + offset)
            report.note(f"profile {prof.name!r}: time-zone abbreviations in 'Post Created' "
                        f"({', '.join(sorted(abbrev.dropna().unique()))}) replaced by UTC offsets.")
    if prof.name == "crowdtangle":
        parts = [col[r.casefold()] for r in _REACTIONS if r.casefold() in col]
        if parts:
            nums = out[parts].apply(_numbers)
            total = nums.sum(axis=1, min_count=len(parts)).where(nums.notna().all(axis=1))
            out["reactions (sum)"] = total.round().astype("Int64").astype("string").fillna("")
            report.note(f"profile 'crowdtangle': likes = sum of the reaction columns {', '.join(parts)} "
                        f"(missing where any part is missing: {int(total.isna().sum())} row(s)); 'Likes' alone is "
                        f"the Like reaction and is kept under its own name.")
        share = col.get("video share status")
        if share is not None:
            status = _text(out[share]).str.casefold()
            # blank status (not a video): CrowdTangle cannot tell a shared post apart -> <NA>
            repost = status.eq("share").astype("boolean").where(status.fillna("").ne(""), pd.NA)
    if prof.name in ("crowdtangle", "crowdtangle_instagram") and "type" in col:
        kind = _text(out[col["type"]]).str.casefold()
        out[col["type"]] = kind.where(~kind.str.contains("video|youtube|igtv|reel", regex=True).fillna(False),
                                      "video").fillna("")
    if prof.name == "instagram" and "post type" in col:  # "IG image", "IG carousel", "IG reel"
        out[col["post type"]] = _text(out[col["post type"]]).str.replace(r"(?i)^ig\s+", "", regex=True).fillna("")
    if prof.name == "meta_business_suite":
        if "is share" in col:
            repost = _yes(out[col["is share"]])
    if prof.name == "linkedin" and "post type" in col:
        kind = _text(out[col["post type"]]).str.casefold()
        out["paid (from Post type)"] = kind.map({"sponsored": "true", "organic": "false"}).fillna("")
    if prof.name == "x_analytics" and "tweet permalink" in col:
        out["account (from permalink)"] = _text(out[col["tweet permalink"]]).str.extract(
            r"(?:twitter|x)\.com/([^/]+)/status", expand=False).fillna("")
    if prof.name == "x_api_v2":
        repost = _yes(out[col["is_repost"]]) if "is_repost" in col else repost
        reply = _yes(out[col["is_reply"]]) if "is_reply" in col else reply
        out = out.drop(columns=[c for c in ("is_repost", "is_reply") if c in out.columns])
    if prof.name == "generic":
        kind_col = col.get("post type") or col.get("message type")
        if kind_col is not None:
            kind = _text(out[kind_col]).str.casefold().fillna("")
            known = kind.ne("")
            repost = kind.str.contains(r"retweet|repost|\bshare", regex=True).astype("boolean").where(known, pd.NA)
            reply = kind.str.contains("reply", regex=False).astype("boolean").where(known, pd.NA)
    clash = [c for c in FLAG_COLUMNS if c in out.columns]
    if clash:
        raise ValueError(message(_FUNC, "source", f"free of columns named {FLAG_COLUMNS} when a profile is used",
                                 clash, "Rename them before reading (the profile adds its own)."))
    out["is_repost"] = repost.map({True: "true", False: "false"}).astype("object").where(repost.notna(), "")
    out["is_reply"] = reply.map({True: "true", False: "false"}).astype("object").where(reply.notna(), "")
    return out


@dataclass
class Applied:
    """A profile applied to one source: the profile and the raw text of its id-like extra columns."""

    profile: ExportProfile
    id_text: dict


def prepare(raw: pd.DataFrame, *, profile, columns, kind: str, report: QualityReport):
    """Choose the profile, add its derived columns and return ``(raw, columns, Applied or None)``."""
    if kind == "x_api_json":
        if profile not in ("auto", "x_api_v2"):
            raise ValueError(message(_FUNC, "profile", "'auto' or 'x_api_v2' for a .json/.jsonl file", profile,
                                     "JSON files are read as X API v2 responses."))
        profile = "x_api_v2"
    if profile is None:
        return raw, columns, None
    if profile == "auto":
        if columns is not None:
            return raw, columns, None
        found = detect_profile(raw.columns)
        if not found and len(raw):  # a title line above the header (LinkedIn): look one row down
            found = detect_profile(str(v) for v in raw.iloc[0])
        if len(found) != 1:
            if len(found) > 1:
                report.note(f"profile='auto': the columns match several export profiles ({', '.join(found)}); "
                            f"none applied. Pass profile=... to choose one.")
            return raw, columns, None
        prof = PROFILES[found[0]]
        why = f"detected from its columns ({', '.join(prof.signature)})"
    else:
        prof = PROFILES[profile]
        why = "given" if kind != "x_api_json" else "JSON file"
    raw = _prepare(raw, prof, report)
    col = _lookup(raw)
    mapping: dict = {}
    for canonical, candidates in prof.columns.items():
        for cand in candidates:
            if cand.casefold() in col and col[cand.casefold()] not in mapping:
                mapping[col[cand.casefold()]] = canonical
                break
    user = dict(columns or {})
    mapping = {k: v for k, v in mapping.items() if k not in user and v not in set(user.values())}
    mapping.update(user)
    report.note(f"Export profile {prof.name!r} ({prof.title}; {why}). Layout: {prof.documentation}.")
    # ids are labels, not numbers: 19-digit tweet ids would lose digits as floats
    ids = {c: raw[c].astype(str).to_numpy(dtype=object) for c in raw.columns
           if c not in mapping and str(c).strip().casefold().endswith("id") and c != "platform"}
    return raw, mapping, Applied(prof, ids)


# ---------------------------------------------------------------------------------------------
# hook 3: flags after reading
# ---------------------------------------------------------------------------------------------
def finish(data: pd.DataFrame, report: QualityReport, applied: Applied | None) -> pd.DataFrame:
    """Cast the flag columns to boolean, keep id columns as text, record each repost/reply as flagged."""
    if applied is None:
        return data
    prof = applied.profile
    data = data.copy()
    if prof.platform is not None and "platform" not in data.columns:
        # added here, not to the raw rows, so that a blank row stays blank (and is excluded as empty)
        platform = pd.Series(config.ordered_categorical([prof.platform] * len(data), config.PLATFORMS),
                             index=data.index)
        data["platform"] = platform
        order = [c for c in config.POST_COLUMNS if c in data.columns]
        data = data[order + [c for c in data.columns if c not in order]]
    rows = data["source_row"].to_numpy(dtype="int64") - 1
    for col, text in applied.id_text.items():
        if col in data.columns:
            values = pd.Series(text[rows], dtype="string").str.strip()
            data[col] = values.where(values.ne(""), pd.NA).to_numpy()
            data[col] = data[col].astype("string")
    for flag in FLAG_COLUMNS:
        data[flag] = _yes(data[flag].astype("string").fillna("")) if flag in data.columns else pd.Series(
            pd.NA, index=data.index, dtype="boolean")
    if prof.name == "x_api_v2" and "is_quote" in data.columns:  # quotes are the account's own posts
        data["is_quote"] = _yes(data["is_quote"].astype("string").fillna(""))
    src = data["source_row"].to_numpy(dtype="int64")
    ids = data["post_id"].to_numpy(dtype=object)
    counts = {}
    for flag, rule, text in (("is_repost", "repost", "re-publishes another account's post; its counts belong "
                                                     "to the original post: exclude it from analyses of this "
                                                     "account's own engagement"),
                             ("is_reply", "reply", "is a reply to another post; its reach is not comparable "
                                                   "with stand-alone posts")):
        mask = data[flag].fillna(False).to_numpy(dtype=bool)
        counts[rule] = (int(mask.sum()), int(data[flag].isna().sum()))
        for pos in np.flatnonzero(mask):
            report.add(source_row=src[pos], action="flagged", rule=rule, column=flag, post_id=ids[pos],
                       message=f"post {ids[pos]!r} {text}")
    report.note(f"profile {prof.name!r}: {counts['repost'][0]} repost(s) and {counts['reply'][0]} repl(ies) "
                f"flagged and kept (columns is_repost, is_reply; <NA> where the export cannot tell: "
                f"{counts['repost'][1]} and {counts['reply'][1]} row(s)). Reposts carry the original post's "
                f"counts: exclude them with data[~data['is_repost'].fillna(False)] before comparing accounts.")
    return data
