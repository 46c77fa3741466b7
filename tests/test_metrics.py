"""Tests for toolkit.metrics: every expected number is derived by hand in the test."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import toolkit as tk
from toolkit.metrics import metrics_report, summarize_metrics


@pytest.fixture
def posts():
    # Three posts; post 3 has zero reach (engagement_rate_reach undefined there).
    return pd.DataFrame({
        "post_id": ["p1", "p2", "p3"],
        "department": ["A", "A", "B"],
        "likes": pd.array([10, 4, 0], dtype="Int64"),
        "comments": pd.array([2, 1, 3], dtype="Int64"),
        "shares": pd.array([1, 0, 2], dtype="Int64"),
        "reach": pd.array([200, 50, 0], dtype="Int64"),
        "impressions": pd.array([400, 100, 10], dtype="Int64"),
        "audience": pd.array([1000, 500, 2000], dtype="Int64"),
    })


def test_hand_computed_values(posts):
    with pytest.warns(tk.ToolkitWarning, match=r"engagement_rate_reach 1 of 3 \(zero reach 1\)"):
        out = tk.add_metrics(posts)
    # totals: 10+2+1=13, 4+1+0=5, 0+3+2=5
    assert out["total_interactions"].tolist() == [13, 5, 5]
    assert str(out["total_interactions"].dtype) == "Int64"
    # 13/200, 5/50, undefined (reach 0)
    np.testing.assert_allclose(out["engagement_rate_reach"], [0.065, 0.1, np.nan], rtol=1e-15)
    # 13/400, 5/100, 5/10
    np.testing.assert_allclose(out["engagement_rate_impressions"], [0.0325, 0.05, 0.5], rtol=1e-15)
    # 13/1000, 5/500, 5/2000
    np.testing.assert_allclose(out["engagement_rate_audience"], [0.013, 0.01, 0.0025], rtol=1e-15)
    # Kaushik with the default denominator (audience): comments, shares, likes per follower
    np.testing.assert_allclose(out["conversation_rate_audience"], [0.002, 0.002, 0.0015], rtol=1e-15)
    np.testing.assert_allclose(out["amplification_rate_audience"], [0.001, 0.0, 0.001], rtol=1e-15)
    np.testing.assert_allclose(out["applause_rate_audience"], [0.01, 0.008, 0.0], rtol=1e-15)
    # Bonson & Ratkai per 1,000 followers: 10/1000*1000=10, 4/500*1000=8, 0
    np.testing.assert_allclose(out["popularity_per_1000_audience"], [10.0, 8.0, 0.0], rtol=1e-15)
    np.testing.assert_allclose(out["commitment_per_1000_audience"], [2.0, 2.0, 1.5], rtol=1e-15)
    np.testing.assert_allclose(out["virality_per_1000_audience"], [1.0, 0.0, 1.0], rtol=1e-15)
    assert not np.isinf(out.select_dtypes("float64").to_numpy()).any()


def test_kaushik_denominator_choice_in_column_name(posts):
    with pytest.warns(tk.ToolkitWarning):
        out = tk.add_metrics(posts, metrics=["conversation_rate", "applause_rate"], denominator=["reach",
                                                                                                   "impressions"])
    assert out.columns[-4:].tolist() == ["conversation_rate_reach", "conversation_rate_impressions",
                                         "applause_rate_reach", "applause_rate_impressions"]
    # 2/200, 1/50, undefined; 10/400, 4/100, 0/10
    np.testing.assert_allclose(out["conversation_rate_reach"], [0.01, 0.02, np.nan], rtol=1e-15)
    np.testing.assert_allclose(out["applause_rate_impressions"], [0.025, 0.04, 0.0], rtol=1e-15)
    assert out.attrs["metrics"]["conversation_rate_reach"] == {
        "numerator": "comments", "denominator": "reach", "scale": 1.0, "source": "Kaushik (2011)", "n": 3,
        "n_missing_numerator": 0, "n_missing_denominator": 0, "n_zero_denominator": 1, "n_undefined": 1}


def test_missing_part_gives_missing_total_not_zero(posts):
    posts["likes"] = pd.array([10, pd.NA, 0], dtype="Int64")
    posts["reach"] = pd.array([200, 50, pd.NA], dtype="Int64")
    with pytest.warns(tk.ToolkitWarning, match=r"total_interactions 1 of 3 \(missing likes \+ comments \+ shares "
                                               r"1\)") as rec:
        out = tk.add_metrics(posts, metrics=["total_interactions", "engagement_rate_reach"])
    assert "missing reach 1" in str(rec[0].message)
    assert out["total_interactions"].isna().tolist() == [False, True, False]
    assert out["engagement_rate_reach"].isna().tolist() == [False, True, True]
    prov = out.attrs["metrics"]["engagement_rate_reach"]
    assert (prov["n_missing_numerator"], prov["n_missing_denominator"], prov["n_zero_denominator"],
            prov["n_undefined"]) == (1, 1, 0, 2)


def test_no_warning_when_everything_defined(posts):
    posts.loc[2, "reach"] = 40
    out = tk.add_metrics(posts)  # ToolkitWarnings are errors in the suite
    assert all(p["n_undefined"] == 0 for p in out.attrs["metrics"].values())


def test_input_not_mutated_and_new_frame(posts):
    before = posts.copy()
    with pytest.warns(tk.ToolkitWarning):
        out = tk.add_metrics(posts)
    pd.testing.assert_frame_equal(posts, before)
    assert out is not posts
    assert "metrics" not in posts.attrs


def test_float_inputs_give_float_total():
    df = pd.DataFrame({"likes": [1.0, 2.0], "comments": [0.0, np.nan], "shares": [1.0, 1.0], "reach": [4.0, 8.0]})
    with pytest.warns(tk.ToolkitWarning):
        out = tk.add_metrics(df, metrics="available")
    assert out["total_interactions"].dtype == "float64"
    np.testing.assert_allclose(out["engagement_rate_reach"], [0.5, np.nan])


def test_available_skips_and_records(posts):
    df = posts.drop(columns=["audience", "impressions"])
    with pytest.warns(tk.ToolkitWarning):
        out = tk.add_metrics(df, metrics="available")
    added = [c for c in out.columns if c not in df.columns]
    assert added == ["total_interactions", "engagement_rate_reach"]
    skipped = {s["metric"]: s["missing_columns"] for s in out.attrs["metrics_skipped"]}
    assert skipped["engagement_rate_impressions"] == ["impressions"]
    assert skipped["popularity_per_1000_audience"] == ["audience"]
    rep = metrics_report(out)
    assert rep.loc[rep["metric"] == "engagement_rate_reach", ["n_defined", "n_zero_denominator"]].values.tolist() \
        == [[2, 1]]
    assert set(rep.loc[rep["status"] == "skipped", "metric"]) == set(skipped)


def test_explicit_metric_with_missing_column_raises(posts):
    with pytest.raises(ValueError, match=r"metric 'engagement_rate_impressions' needs column 'impressions'.*"
                                         r"metrics='available'"):
        tk.add_metrics(posts.drop(columns="impressions"), metrics=["engagement_rate_impressions"])
    with pytest.raises(ValueError, match=r"needs column 'audience'"):
        tk.add_metrics(posts.drop(columns="audience"))  # "all" is strict too


@pytest.mark.parametrize("kwargs, exc, pattern", [
    ({"metrics": ["engagement_rate_reech"]}, ValueError, r"`metrics` must be one of .*Did you mean "
                                                         r"'engagement_rate_reach'"),
    ({"metrics": 3}, TypeError, r"`metrics` must be 'all', 'available'"),
    ({"denominator": "followers"}, ValueError, r"`denominator` must be one of 'audience', 'reach', 'impressions'"),
    ({"denominator": 1}, TypeError, r"`denominator` must be one of"),
])
def test_bad_options(posts, kwargs, exc, pattern):
    with pytest.raises(exc, match=pattern):
        tk.add_metrics(posts, **kwargs)


def test_bad_data(posts):
    with pytest.raises(TypeError, match=r"add_metrics: `data` must be a pandas.DataFrame"):
        tk.add_metrics(posts["likes"])
    neg = posts.copy()
    neg["shares"] = pd.array([1, -1, 0], dtype="Int64")
    with pytest.raises(ValueError, match=r"free of negative values in 'shares'; got '1 negative value\(s\)'"):
        tk.add_metrics(neg, metrics=["amplification_rate"])
    text = posts.copy()
    text["reach"] = ["200", "50", "0"]
    with pytest.raises(TypeError, match=r"numbers stored as text"):
        tk.add_metrics(text, metrics=["engagement_rate_reach"])
    with pytest.warns(tk.ToolkitWarning):
        once = tk.add_metrics(posts, metrics=["engagement_rate_reach"])
    with pytest.raises(ValueError, match=r"free of the metric columns to be added.*never overwrites"):
        tk.add_metrics(once, metrics=["engagement_rate_reach"])


def test_keyword_only(posts):
    with pytest.raises(TypeError):
        tk.add_metrics(posts, "all")  # noqa


def test_summarize_ratio_of_sums_vs_mean_of_ratios(posts):
    s = summarize_metrics(posts, by="department", metrics=["applause_rate"], denominator="reach")
    a = s[s["department"] == "A"].iloc[0]
    # department A: likes 10 and 4 over reach 200 and 50
    assert a["ratio_of_sums"] == pytest.approx(14 / 250, rel=1e-15)          # 0.056
    assert a["mean_of_ratios"] == pytest.approx((10 / 200 + 4 / 50) / 2, rel=1e-15)  # 0.065
    assert (a["n_posts"], a["n_used"], a["sum_numerator"], a["sum_denominator"]) == (2, 2, 14.0, 250.0)
    b = s[s["department"] == "B"].iloc[0]
    # department B: its only post has reach 0, so nothing is defined
    assert (b["n_posts"], b["n_used"]) == (1, 0)
    assert np.isnan(b["ratio_of_sums"]) and np.isnan(b["mean_of_ratios"])
    assert s.columns.tolist() == ["department", "metric", "numerator", "denominator", "scale", "n_posts", "n_used",
                                  "sum_numerator", "sum_denominator", "ratio_of_sums", "mean_of_ratios"]


def test_summarize_equal_denominators_agree_bonson_page_level():
    # One page, constant 2,000 followers: Bonson & Ratkai's page-level popularity is the mean of
    # per-post values, (5 + 1 + 3) / 3 posts = 3 likes per post / 2000 * 1000 = 1.5
    df = pd.DataFrame({"account": ["pg"] * 3, "likes": [5, 1, 3], "comments": [0, 0, 1], "shares": [1, 0, 0],
                       "audience": [2000, 2000, 2000]})
    s = summarize_metrics(df, by=["account"], metrics=["popularity"])
    assert s["ratio_of_sums"].iloc[0] == pytest.approx(1.5, rel=1e-15)
    assert s["mean_of_ratios"].iloc[0] == pytest.approx(1.5, rel=1e-15)


def test_summarize_errors(posts):
    with pytest.raises(ValueError, match=r"`by` must be the name of a column.*Did you mean 'department'"):
        summarize_metrics(posts, by="Department")
    with pytest.raises(ValueError, match=r"at least one ratio metric"):
        summarize_metrics(posts, metrics=["total_interactions"])


def test_metrics_report_requires_provenance(posts):
    with pytest.raises(ValueError, match=r"a frame returned by tk.add_metrics"):
        metrics_report(posts)


def test_on_simulated_data_matches_formula():
    sim = tk.simulate_organization(n_accounts_per_department=2, posts_per_account=30, seed=11)
    out = tk.add_metrics(sim.data, metrics=["engagement_rate_impressions", "virality"])
    d = sim.data
    expected = (d["likes"] + d["comments"] + d["shares"]).astype(float) / d["impressions"].astype(float)
    np.testing.assert_allclose(out["engagement_rate_impressions"], expected.to_numpy(float), rtol=1e-15)
    np.testing.assert_allclose(out["virality_per_1000_audience"],
                               1000 * d["shares"].to_numpy(float) / d["audience"].to_numpy(float), rtol=1e-15)
