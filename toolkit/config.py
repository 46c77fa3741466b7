"""Project paths, the canonical post-level schema and category orders.

This module is the single source of truth for column names. ``data/README.md`` documents the
same schema for readers, and ``tests/test_config.py`` checks that the two agree.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

# ---------------------------------------------------------------------------------------------
# Paths (anchored at the package location, never at the working directory)
# ---------------------------------------------------------------------------------------------
PACKAGE_DIR = Path(__file__).resolve().parent
PROJECT_DIR = PACKAGE_DIR.parent
DATA_DIR = PROJECT_DIR / "data"
RAW_DIR = DATA_DIR / "raw"
INTERIM_DIR = DATA_DIR / "interim"
PROCESSED_DIR = DATA_DIR / "processed"
REPORTS_DIR = PROJECT_DIR / "reports"
#: Package data of the dataset registry: ``registry.csv``, ``nyc_agency_aliases.csv`` and their README.
CATALOG_DIR = PACKAGE_DIR / "data" / "catalog"

#: Environment variable naming a folder that mirrors the original dataset downloads.
MIRROR_ENV = "TOOLKIT_DATA_MIRROR"


def data_mirror() -> Path | None:
    """Return the dataset mirror folder named by ``TOOLKIT_DATA_MIRROR``, or None if unset."""
    value = os.environ.get(MIRROR_ENV, "").strip()
    return Path(value) if value else None


# ---------------------------------------------------------------------------------------------
# Category orders
# ---------------------------------------------------------------------------------------------
#: The departments argued about in practice, in display order. Labels outside this list are
#: allowed (real data has sellers, agencies, content categories); they follow in sorted order.
DEPARTMENTS: tuple[str, ...] = (
    "Social media team",
    "Marketing",
    "PR",
    "Customer service",
    "Management",
    "IT",
    "HR",
    "Sales",
    "Mixed team",
)
#: Label of posts co-run by several departments; which ones is in ``co_departments``.
MIXED_DEPARTMENT = "Mixed team"
#: Separator inside ``co_departments`` ("Marketing|PR").
CO_DEPARTMENT_SEP = "|"

PLATFORMS: tuple[str, ...] = (
    "Facebook",
    "Instagram",
    "X/Twitter",
    "LinkedIn",
    "YouTube",
    "TikTok",
    "Other",
)

CONTENT_TYPES: tuple[str, ...] = ("photo", "video", "status", "link", "other")


def ordered_categorical(values, known: tuple[str, ...]) -> pd.Categorical:
    """Make an ordered categorical: labels in ``known`` first (in that order), then the rest sorted.

    Missing values stay missing. Unused labels from ``known`` are not added.
    """
    series = pd.Series(values, dtype="object")
    present = [v for v in series.dropna().unique()]
    present_str = {str(v) for v in present}
    first = [k for k in known if k in present_str]
    rest = sorted(str(v) for v in present_str if v not in set(known))
    return pd.Categorical(series.where(series.isna(), series.astype(str)), categories=first + rest, ordered=True)


# ---------------------------------------------------------------------------------------------
# Canonical post-level schema
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Column:
    """One canonical column: name, pandas dtype, unit, whether required, and its meaning."""

    name: str
    dtype: str
    unit: str
    required: bool
    description: str
    kind: str = "other"  # "id", "group", "time", "count", "flag", "category"


#: The canonical, tidy, post-level table: one row per post. Columns in this order; unknown
#: extra columns from a source are kept after these, never discarded. Counts are nullable
#: integers (``Int64``): missing stays missing, it is never read as zero.
POST_SCHEMA: tuple[Column, ...] = (
    Column("post_id", "string", "identifier", True,
           "Unique post identifier within the source (generated as 'row-<n>' when the source has none).", "id"),
    Column("account", "string", "identifier", False,
           "Page or handle that published the post; the clustering unit for nested analyses.", "id"),
    Column("department", "category", "label", False,
           "Team that ran the post; ordered categorical (config.DEPARTMENTS first). 'Mixed team' for co-run posts.",
           "group"),
    Column("co_departments", "string", "labels", False,
           "For 'Mixed team' posts: the departments that co-ran it, '|'-separated (e.g. 'Marketing|PR').", "group"),
    Column("platform", "category", "label", False,
           "Social network; ordered categorical (config.PLATFORMS first).", "group"),
    Column("posted_at", "datetime64[ns, UTC]", "timestamp (UTC)", False,
           "Publication time, timezone-aware, stored in UTC. Naive source times are localised with `timezone=`.",
           "time"),
    Column("content_type", "category", "label", False,
           "Post format: photo, video, status, link or other (config.CONTENT_TYPES).", "category"),
    Column("paid", "boolean", "flag", False, "True if the post was promoted (paid reach), False if organic.", "flag"),
    Column("audience", "Int64", "followers", False,
           "Audience at posting time: followers or page likes of the account.", "count"),
    Column("reach", "Int64", "unique users", False, "Unique users who saw the post.", "count"),
    Column("impressions", "Int64", "views", False,
           "Times the post was displayed (a user can count more than once); >= reach.", "count"),
    Column("likes", "Int64", "count", False, "Likes or reactions (all reaction types).", "count"),
    Column("comments", "Int64", "count", False, "Comments.", "count"),
    Column("shares", "Int64", "count", False, "Shares, retweets or reposts.", "count"),
    Column("clicks", "Int64", "count", False, "Link or post clicks.", "count"),
    Column("video_views", "Int64", "count", False, "Video views (platform definition).", "count"),
    Column("interactions_reported", "Int64", "count", False,
           "Total interactions as reported by the source (checked against likes + comments + shares).", "count"),
    Column("source_row", "Int64", "row number", True,
           "1-based data-row number in the source (header not counted); joins to the QualityReport.", "id"),
)

POST_COLUMNS: tuple[str, ...] = tuple(c.name for c in POST_SCHEMA)
COUNT_COLUMNS: tuple[str, ...] = tuple(c.name for c in POST_SCHEMA if c.kind == "count")
#: Interaction counts (numerators of engagement metrics).
INTERACTION_COLUMNS: tuple[str, ...] = ("likes", "comments", "shares")
#: Exposure counts (denominators of engagement metrics).
EXPOSURE_COLUMNS: tuple[str, ...] = ("reach", "impressions", "audience")


def schema_frame() -> pd.DataFrame:
    """Return the canonical schema as a tidy table (one row per column)."""
    return pd.DataFrame(
        {
            "column": [c.name for c in POST_SCHEMA],
            "dtype": [c.dtype for c in POST_SCHEMA],
            "unit": [c.unit for c in POST_SCHEMA],
            "required": [c.required for c in POST_SCHEMA],
            "description": [c.description for c in POST_SCHEMA],
        }
    )
