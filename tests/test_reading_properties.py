"""Property-based tests for tk.read_posts: rows are conserved for arbitrary messy input."""
from __future__ import annotations

import tempfile
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from toolkit import config
from toolkit.data.posts import read_posts

MESSY_CELLS = ["", " ", "NA", "n/a", "-", "null", "0", "7", "-3", "2.5", "1,234", "1.234.567", "1.2K", "12%",
               "abc", "2024-03-01 10:00", "03/04/2024", "13/01/2024 10:00", "1709287200", "yes", "no", "Paid",
               "Marketing", "marketing ", "Mar\u200bketing", "ＰＲ", "twitter", "Photo", "市场部", "Café", "row-1"]

cells = st.one_of(st.sampled_from(MESSY_CELLS), st.text(max_size=8),
                  st.integers(min_value=-10**6, max_value=10**6).map(str))
COLUMN_POOL = ["post_id", "department", "platform", "posted_at", "content_type", "paid", "reach", "impressions",
               "likes", "comments", "shares", "interactions_reported", "note", "Extra Col"]


@st.composite
def messy_frames(draw):
    names = draw(st.lists(st.sampled_from(COLUMN_POOL), min_size=1, max_size=7, unique=True))
    n_rows = draw(st.integers(min_value=0, max_value=12))
    rows = [draw(st.lists(cells, min_size=len(names), max_size=len(names))) for _ in range(n_rows)]
    if rows and draw(st.booleans()):  # duplicate some rows exactly
        for _ in range(draw(st.integers(min_value=1, max_value=3))):
            rows.insert(draw(st.integers(0, len(rows))), list(rows[draw(st.integers(0, len(rows) - 1))]))
    return pd.DataFrame(rows, columns=names, dtype="str") if rows else pd.DataFrame(
        {c: pd.Series([], dtype="str") for c in names})


def _check_invariants(frame_len, data, report):
    assert report.n_rows_in == frame_len
    assert len(data) + report.n_rows_excluded == report.n_rows_in
    rows = data["source_row"].tolist()
    assert len(set(rows)) == len(rows)
    assert set(rows) <= set(range(1, frame_len + 1))
    assert set(rows).isdisjoint(report.excluded_rows)
    assert set(rows) | set(report.excluded_rows) == set(range(1, frame_len + 1))
    assert set(report.entries["source_row"].tolist()) <= set(range(1, frame_len + 1))
    assert isinstance(data.index, pd.RangeIndex)
    canonical = [c for c in data.columns if c in config.POST_COLUMNS]
    assert canonical == [c for c in config.POST_COLUMNS if c in canonical]
    assert list(data.columns[:len(canonical)]) == canonical
    for col in config.POST_SCHEMA:
        if col.name in data.columns:
            assert str(data[col.name].dtype) == col.dtype, col.name


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(frame=messy_frames(), normalize=st.booleans())
def test_rows_conserved_for_messy_frames(frame, normalize):
    before = frame.copy(deep=True)
    try:
        data, report = read_posts(frame, normalize_labels=normalize, allow_unparseable=True)
    except ValueError as exc:  # the documented case: no canonical column at all
        assert "None of the source columns" in str(exc)
        assert not set(frame.columns) & set(config.POST_COLUMNS)
        return
    pd.testing.assert_frame_equal(frame, before)
    _check_invariants(len(frame), data, report)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(frame=messy_frames())
def test_mostly_unreadable_columns_stop_the_read_with_the_fix(frame):
    try:
        data, report = read_posts(frame)
    except ValueError as exc:
        text = str(exc)
        assert "None of the source columns" in text or ("could not read most values" in text
                                                       and "allow_unparseable=[" in text)
        return
    _check_invariants(len(frame), data, report)
    failing = report.entries[report.entries["rule"].isin(["unparseable_number", "percent_in_count",
                                                           "non_integer_count", "negative_count",
                                                           "unparseable_flag", "unparseable_date"])]
    for column, k in failing.groupby("column").size().items():  # never more than half of a column's values
        values = frame[column].str.strip().str.lower()
        assert k <= 0.5 * (~values.isin(["", "na", "n/a", "nan", "null", "none", "-", "--", "#n/a", "<na>",
                                         "nat"])).sum() + 1e-9, column


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(frame=messy_frames(), delimiter=st.sampled_from([",", ";", "\t", "|"]))
def test_rows_conserved_through_a_text_file(frame, delimiter):
    # blank lines are not data rows in a text file; keep at least one visible character per row
    frame = frame.apply(lambda s: s.where(s.str.strip() != "", "NA")) if len(frame.columns) else frame
    frame = frame.apply(lambda s: s.str.replace(r"[\r\n\x00]", " ", regex=True)) if len(frame) else frame
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "posts.csv"
        frame.to_csv(path, index=False, sep=delimiter, encoding="utf-8")
        try:
            data, report = read_posts(path, delimiter=delimiter, allow_unparseable=True)
        except ValueError as exc:
            assert "None of the source columns" in str(exc)
            return
    _check_invariants(len(frame), data, report)
