"""prepare_groups: the single input path of every group comparison."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from toolkit._validation import ToolkitWarning
from toolkit.stats.prepare import prepare_groups


def test_groups_are_contiguous_and_in_category_order(posts_long):
    gd = prepare_groups(posts_long, dv="likes", between="department", func="f")
    assert gd.labels == ["Marketing", "PR", "Customer service"]
    assert gd.sizes.tolist() == [30, 30, 30] and gd.n == 90 and gd.n_dropped == 0
    for i, lab in enumerate(gd.labels):
        expected = np.sort(posts_long.loc[posts_long["department"] == lab, "likes"].to_numpy(float))
        np.testing.assert_array_equal(np.sort(gd.group(i)), expected)


def test_input_not_mutated(posts_long):
    before = posts_long.copy()
    prepare_groups(posts_long, dv="likes", between="department", func="f")
    pd.testing.assert_frame_equal(posts_long, before)


def test_nan_policy(posts_with_nan):
    with pytest.raises(ValueError, match=r"3 missing value\(s\) in 'likes'.*nan_policy='omit'"):
        prepare_groups(posts_with_nan, dv="likes", between="department", func="f")
    gd = prepare_groups(posts_with_nan, dv="likes", between="department", func="f", nan_policy="omit")
    assert gd.n_dropped == 3 and gd.n == 87


def test_missing_group_labels_are_counted(posts_long):
    df = posts_long.copy()
    df.loc[[1, 2], "department"] = np.nan
    with pytest.raises(ValueError, match=r"2 missing group label\(s\)"):
        prepare_groups(df, dv="likes", between="department", func="f")
    assert prepare_groups(df, dv="likes", between="department", func="f", nan_policy="omit").n_dropped == 2


def test_single_group_and_tiny_groups(posts_long):
    one = posts_long[posts_long["department"] == "PR"]
    with pytest.raises(ValueError, match="at least 2 groups"):
        prepare_groups(one, dv="likes", between="department", func="f")
    tiny = pd.concat([posts_long, pd.DataFrame({"department": ["Legal"], "likes": [3]})], ignore_index=True)
    with pytest.raises(ValueError, match="group 'Legal' has 1. Drop or merge sparse groups"):
        prepare_groups(tiny, dv="likes", between="department", func="f")


def test_identifier_as_between(posts_long):
    with pytest.raises(ValueError, match="identifier rather than a grouping"):
        prepare_groups(posts_long, dv="likes", between="post_id", func="f")
    with pytest.raises(ValueError, match="at most 2 groups"):
        prepare_groups(posts_long, dv="likes", between="department", func="f", max_groups=2)


def test_float_between_warns(posts_long):
    df = posts_long.assign(score=np.repeat([1.0, 2.0, 3.0], 30))
    with pytest.warns(ToolkitWarning, match="floating point"):
        prepare_groups(df, dv="likes", between="score", func="f")


def test_empty_and_same_column(posts_long):
    with pytest.raises(ValueError, match="at least one row"):
        prepare_groups(posts_long.iloc[:0], dv="likes", between="department", func="f")
    with pytest.raises(ValueError, match="different column"):
        prepare_groups(posts_long, dv="likes", between="likes", func="f")


def test_select_groups(posts_long):
    gd = prepare_groups(posts_long, dv="likes", between="department", func="f", groups=["PR", "Marketing"])
    assert gd.labels == ["PR", "Marketing"] and gd.n == 60
    with pytest.raises(ValueError, match="labels present"):
        prepare_groups(posts_long, dv="likes", between="department", func="f", groups=["Legal", "PR"])


def test_missing_labels_count_when_groups_are_selected(posts_long):
    df = posts_long.copy()
    df.loc[[3, 4], "department"] = np.nan
    with pytest.raises(ValueError, match=r"2 missing group label\(s\)"):
        prepare_groups(df, dv="likes", between="department", func="f", groups=["PR", "Marketing"])
    gd = prepare_groups(df, dv="likes", between="department", func="f", groups=["PR", "Marketing"],
                        nan_policy="omit")
    assert gd.n_dropped == 2 and gd.labels == ["PR", "Marketing"]


@pytest.mark.parametrize("kind", ["str", "object_mixed", "int", "bool", "float", "categorical_unused", "str_missing",
                                  "categorical_missing", "Int64_missing"])
def test_groups_from_codes_match_a_pandas_groupby(kind):
    """prepare_groups factorizes the group column (issue 13); each group's values, in row order, must equal
    pandas' groupby of the same rows, and the label order must be category order or sorted."""
    import warnings
    rng = np.random.default_rng(5)  # SIMULATED: 80 rows, 2 missing outcomes
    n = 80
    y = rng.normal(size=n)
    y[[3, 17]] = np.nan
    g = {
        "str": pd.Series(rng.choice(["b", "a", "c"], n), dtype="str"),
        "object_mixed": pd.Series([int(v) if v.isdigit() else v for v in rng.choice(["1", "2", "x"], n)], dtype=object),
        "int": pd.Series(rng.integers(0, 3, n)),
        "bool": pd.Series(rng.integers(0, 2, n).astype(bool)),
        "float": pd.Series(rng.integers(0, 3, n).astype(float)),
        "categorical_unused": pd.Series(pd.Categorical(rng.choice(["z", "y", "x"], n), categories=["z", "w", "y", "x"])),
        "str_missing": pd.Series(rng.choice(["b", "a", None], n), dtype="str"),
        "categorical_missing": pd.Series(pd.Categorical(rng.choice(["z", "y", None], n), categories=["z", "y"])),
        "Int64_missing": pd.Series(pd.array(rng.choice([1, 2, None], n).tolist(), dtype="Int64")),
    }[kind]
    data = pd.DataFrame({"y": y, "g": g})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        gd = prepare_groups(data, dv="y", between="g", func="t", nan_policy="omit", min_size=1)
    kept = data.dropna()
    want = {key: part["y"].to_numpy() for key, part in kept.groupby("g", observed=True, sort=False)}
    assert sorted(map(str, gd.labels)) == sorted(map(str, want))
    if isinstance(g.dtype, pd.CategoricalDtype):
        assert gd.labels == [c for c in g.cat.categories if c in want]
    else:
        assert gd.labels == sorted(gd.labels, key=lambda v: (str(type(v)), v))
    for i, lab in enumerate(gd.labels):
        np.testing.assert_array_equal(gd.group(i), want[lab])
    assert gd.n_dropped == len(data) - len(kept)
    np.testing.assert_array_equal(gd.codes, np.repeat(np.arange(gd.k), gd.sizes))
