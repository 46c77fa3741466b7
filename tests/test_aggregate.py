"""Tests for toolkit.aggregate: hand-computed sums, missing data, periods, and the Poisson identity."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import toolkit as tk
from toolkit.aggregate import combine_partial_sums, finish_aggregate, partial_sums, aggregate_posts


@pytest.fixture
def posts():
    return pd.DataFrame({
        "department": pd.Categorical(["PR", "Marketing", "PR", "PR", "Marketing"],
                                     categories=["Marketing", "PR"], ordered=True),
        "account": pd.array(["p1", "m1", "p1", "p2", "m1"], dtype="string"),
        "posted_at": pd.to_datetime(["2025-01-31 23:00", "2025-02-01 01:00", "2025-02-03 10:00",
                                     "2025-02-02 12:00", "2025-01-05 08:00"], utc=True),
        "likes": pd.array([10, 4, 6, 0, 1], dtype="Int64"),
        "comments": pd.array([1, 0, 3, 2, 1], dtype="Int64"),
        "reach": pd.array([100, 50, 300, 0, 25], dtype="Int64"),
    })


def test_hand_computed_account_sums(posts):
    out = aggregate_posts(posts, counts=("likes", "comments"), exposures="reach")
    assert out.columns.tolist() == ["department", "account", "n_posts", "n_omitted", "likes", "comments", "reach",
                                    "likes_per_reach", "comments_per_reach"]
    # category order (Marketing first), then account
    assert out["department"].tolist() == ["Marketing", "PR", "PR"]
    assert out["account"].tolist() == ["m1", "p1", "p2"]
    assert out["n_posts"].tolist() == [2, 2, 1]
    assert out["likes"].tolist() == [4 + 1, 10 + 6, 0]
    assert out["comments"].tolist() == [0 + 1, 1 + 3, 2]
    assert out["reach"].tolist() == [50 + 25, 100 + 300, 0]
    np.testing.assert_array_equal(out["likes_per_reach"], [5 / 75, 16 / 400, np.nan])
    np.testing.assert_array_equal(out["comments_per_reach"], [1 / 75, 4 / 400, np.nan])
    assert str(out["likes"].dtype) == "int64"
    assert isinstance(out["department"].dtype, pd.CategoricalDtype)


def test_month_and_week_periods(posts):
    month = aggregate_posts(posts, by="department", period="month", counts="likes", exposures="reach")
    # Marketing: Jan (post 5), Feb (post 2); PR: Jan (post 1), Feb (posts 3, 4)
    assert month["period"].dt.strftime("%Y-%m-%d").tolist() == ["2025-01-01", "2025-02-01", "2025-01-01",
                                                                "2025-02-01"]
    assert month["likes"].tolist() == [1, 4, 10, 6]
    assert str(month["period"].dtype) == "datetime64[ns, UTC]"
    week = aggregate_posts(posts, by="department", period="week", counts="likes", exposures="reach")
    # ISO weeks start on Monday: 2025-01-31 (Fri) and 2025-02-02 (Sun) fall in the week of Mon 2025-01-27
    pr = week[week["department"] == "PR"]
    assert pr["period"].dt.strftime("%Y-%m-%d").tolist() == ["2025-01-27", "2025-02-03"]
    assert pr["likes"].tolist() == [10 + 0, 6]


def test_missing_values_raise_or_are_omitted(posts):
    posts.loc[2, "likes"] = pd.NA
    with pytest.raises(ValueError, match=r"aggregate_posts: `data` must be free of missing values.*1 post\(s\)"):
        aggregate_posts(posts, counts="likes", exposures="reach")
    with pytest.warns(tk.ToolkitWarning, match=r"1 post\(s\) with a missing value"):
        out = aggregate_posts(posts, counts=("likes", "comments"), exposures="reach", nan_policy="omit")
    p1 = out[out["account"] == "p1"].iloc[0]
    # the omitted post leaves every sum of its cell, so numerator and denominator cover the same posts
    assert (p1["n_posts"], p1["n_omitted"], p1["likes"], p1["comments"], p1["reach"]) == (1, 1, 10, 1, 100)
    assert out.attrs["n_omitted"] == 1


def test_missing_account_is_its_own_cell(posts):
    posts.loc[3, "account"] = pd.NA
    out = aggregate_posts(posts, counts="likes", exposures="reach")
    assert out["n_posts"].sum() == len(posts)
    assert out["account"].isna().sum() == 1


def test_partials_add_up_to_the_whole(posts):
    kw = dict(by_list=["department", "account"], period="month", time="posted_at", count_list=["likes"],
              exposure_list=["reach"], nan_policy="raise")
    keys = ["department", "account", "period"]
    halves = [partial_sums(posts.iloc[:2], **kw), partial_sums(posts.iloc[2:], **kw)]
    split = finish_aggregate(combine_partial_sums(halves, group_keys=keys),
                             group_keys=keys, count_list=["likes"], exposure_list=["reach"])
    whole = aggregate_posts(posts, period="month", counts="likes", exposures="reach")
    pd.testing.assert_frame_equal(split, whole, check_exact=True)


@pytest.mark.parametrize("bad, err, pattern", [
    (dict(period="fortnight"), ValueError, r"`period` must be one of"),
    (dict(by="team"), ValueError, r"`by` must be the name of a column"),
    (dict(counts=["likes", "likes"]), ValueError, r"`counts` must be a list without repeated names"),
    (dict(counts="likes", exposures="likes"), ValueError, r"`counts` must be columns that are not also"),
    (dict(by=3), TypeError, r"`by` must be a column name or a list"),
    (dict(nan_policy="drop"), ValueError, r"`nan_policy` must be one of"),
])
def test_bad_options(posts, bad, err, pattern):
    kw = dict(counts="likes", exposures="reach") | bad
    with pytest.raises(err, match=pattern):
        aggregate_posts(posts, **kw)


def test_negative_and_text_counts_rejected(posts):
    posts["likes"] = posts["likes"].astype("float64")
    posts.loc[0, "likes"] = 1.5
    with pytest.raises(ValueError, match=r"`counts` must be columns of non-negative whole numbers"):
        aggregate_posts(posts, counts="likes", exposures="reach")
    posts["likes"] = ["1", "2", "3", "4", "5"]
    with pytest.raises(TypeError, match=r"numbers stored as text"):
        aggregate_posts(posts, counts="likes", exposures="reach")


def test_poisson_fit_on_cells_equals_post_level_fit():
    """Sufficiency: a Poisson GLM with cell-constant predictors gives the same estimates from cell sums."""
    sim = tk.simulate_organization(n_accounts_per_department=3, posts_per_account=30, seed=5,
                                   departments=["Marketing", "PR", "IT"], mixed_share=0.0)
    posts = sim.data.dropna(subset=["comments", "reach"])
    posts = posts[posts["reach"] > 0]
    cells = aggregate_posts(posts, counts="comments", exposures="reach")
    kw = dict(dv="comments", between="department", exposure="reach", family="poisson")
    post_fit = tk.models.fit_engagement_model(posts, **kw)
    cell_fit = tk.models.fit_engagement_model(cells, **kw)
    a, b = post_fit.coefficients, cell_fit.coefficients
    assert a["term"].tolist() == b["term"].tolist()
    np.testing.assert_allclose(b["estimate"], a["estimate"], rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(b["std_error"], a["std_error"], rtol=1e-6)
    np.testing.assert_allclose(cell_fit.rate_ratios["rate_ratio"], post_fit.rate_ratios["rate_ratio"], rtol=1e-8)
