"""Tests for toolkit.data.reshape (to_long / to_wide)."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import toolkit as tk


@pytest.fixture
def wide():
    return pd.DataFrame({
        "post_id": pd.array(["a", "b", "c"], dtype="string"),
        "department": pd.Categorical(["PR", "IT", "PR"], categories=["PR", "IT"], ordered=True),
        "likes": pd.array([10, pd.NA, 0], dtype="Int64"),
        "comments": pd.array([1, 2, 3], dtype="Int64"),
        "shares": pd.array([0, 5, pd.NA], dtype="Int64"),
        "reach": pd.array([100, 200, 300], dtype="Int64"),
    })


def test_to_long_by_hand(wide):
    long = tk.to_long(wide)
    assert long.columns.tolist() == ["post_id", "department", "reach", "engagement_type", "count"]
    assert long["post_id"].tolist() == ["a"] * 3 + ["b"] * 3 + ["c"] * 3
    assert long["engagement_type"].astype(str).tolist() == ["likes", "comments", "shares"] * 3
    assert long["engagement_type"].cat.ordered
    assert long["count"].tolist() == [10, 1, 0, pd.NA, 2, 5, 0, 3, pd.NA]
    assert str(long["count"].dtype) == "Int64"
    assert long["department"].dtype == wide["department"].dtype
    assert isinstance(long.index, pd.RangeIndex)


def test_to_long_id_vars_and_names(wide):
    long = tk.to_long(wide, value_vars=["shares", "likes"], id_vars="post_id", var_name="type", value_name="n")
    assert long.columns.tolist() == ["post_id", "type", "n"]
    assert long["type"].cat.categories.tolist() == ["shares", "likes"]
    assert long["n"].tolist()[:2] == [0, 10]


def test_round_trip_exact(wide):
    wide.attrs["source"] = "hand"
    back = tk.to_wide(tk.to_long(wide))
    pd.testing.assert_frame_equal(back[wide.columns], wide)
    assert back.attrs == {"source": "hand"}


def test_round_trip_simulated():
    sim = tk.simulate_organization(n_accounts_per_department=2, posts_per_account=10, seed=4)
    long = tk.to_long(sim.data)
    assert len(long) == 3 * len(sim.data)
    back = tk.to_wide(long)
    pd.testing.assert_frame_equal(back[sim.data.columns], sim.data)


def test_inputs_not_mutated(wide):
    before = wide.copy()
    long = tk.to_long(wide)
    long_before = long.copy()
    tk.to_wide(long)
    pd.testing.assert_frame_equal(wide, before)
    pd.testing.assert_frame_equal(long, long_before)


def test_to_wide_incomplete_posts_get_missing(wide):
    long = tk.to_long(wide, id_vars="post_id").iloc[[0, 1, 2, 4]]  # post b has only comments
    back = tk.to_wide(long)
    assert back["post_id"].tolist() == ["a", "b"]
    assert back["likes"].tolist() == [10, pd.NA]
    assert back["comments"].tolist() == [1, 2]


def test_to_long_errors(wide):
    with pytest.raises(ValueError, match=r"to_long: `value_vars` must be the name of a column.*Did you mean 'likes'"):
        tk.to_long(wide, value_vars=["Likes"])
    with pytest.raises(ValueError, match=r"`id_vars` must be disjoint from `value_vars`"):
        tk.to_long(wide, id_vars=["post_id", "likes"])
    with pytest.raises(ValueError, match=r"`var_name` must be a name not already used"):
        tk.to_long(wide, var_name="department")
    with pytest.raises(TypeError, match=r"`data` must be a pandas.DataFrame"):
        tk.to_long(wide["likes"])
    with pytest.raises(TypeError, match=r"`value_vars` must be a column name or a list"):
        tk.to_long(wide, value_vars=3)


def test_to_wide_errors(wide):
    long = tk.to_long(wide)
    with pytest.raises(ValueError, match=r"one row per post and engagement_type.*Aggregate them first"):
        tk.to_wide(pd.concat([long, long.iloc[[0]]], ignore_index=True))
    varying = long.copy()
    varying.loc[1, "reach"] = 999
    with pytest.raises(ValueError, match=r"'reach' varies within a post"):
        tk.to_wide(varying)
    no_key = long.copy()
    no_key["post_id"] = no_key["post_id"].astype("object")
    no_key.loc[0, "post_id"] = None
    with pytest.raises(ValueError, match=r"`index` must be free of missing values"):
        tk.to_wide(no_key)
    with pytest.raises(ValueError, match=r"`index` must be the name of a column"):
        tk.to_wide(long, index="post")
    clash = long.rename(columns={"reach": "likes"})
    with pytest.raises(ValueError, match=r"labels that are not also id column names"):
        tk.to_wide(clash)


def test_to_wide_float_values_with_gaps():
    long = pd.DataFrame({"post_id": ["a", "a", "b"], "engagement_type": ["likes", "shares", "likes"],
                         "count": [1.5, 2.0, 3.0]})
    back = tk.to_wide(long)
    assert back.columns.tolist() == ["post_id", "likes", "shares"]
    np.testing.assert_array_equal(back["shares"].to_numpy(float), [2.0, np.nan])
