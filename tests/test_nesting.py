"""Tests for toolkit.models.nesting (nesting_summary, account_level)."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

import toolkit as tk
from toolkit.models import account_level, nesting_summary
from toolkit.models.nesting import NESTING_COLUMNS
from toolkit.stats.icc import icc_anova

# Shrout & Fleiss (1979), Table 2: 6 targets rated by 4 judges; Table 3: BMS = 11.24, WMS = 6.26;
# Table 4: ICC(1,1) = .17.
SHROUT_FLEISS = np.array([[9, 2, 5, 8], [6, 1, 3, 2], [8, 4, 6, 8], [7, 1, 2, 6], [10, 5, 6, 9], [6, 2, 4, 7]],
                         dtype=float)


def test_icc_matches_shrout_fleiss_icc11():
    values = SHROUT_FLEISS.ravel()
    targets = np.repeat(np.arange(6), 4)
    icc, _ = icc_anova(values, targets, strata=np.zeros(24, dtype=int))
    assert_allclose(icc, (11.24 - 6.26) / (11.24 + 3 * 6.26), atol=5e-4)  # from the published mean squares
    assert round(icc, 2) == 0.17


def test_icc_recovers_known_value_unbalanced(rng):
    sizes = rng.integers(5, 60, size=400)
    codes = np.repeat(np.arange(400), sizes)
    dept = codes % 4
    u = rng.normal(0, 0.5, size=400)          # ICC = 0.25 / (0.25 + 1) = 0.2
    values = 3.0 * dept + u[codes] + rng.normal(0, 1.0, size=codes.size)
    assert abs(icc_anova(values, codes, strata=dept)[0] - 0.2) < 0.03


def _nested(rng, n_acc=40, sd=0.8):
    acc = np.repeat(np.arange(n_acc), rng.integers(10, 40, size=n_acc))
    dept = np.where(acc % 2 == 0, "PR", "IT")
    reach = rng.integers(500, 5000, size=acc.size)
    u = rng.normal(0, sd, size=n_acc)
    y = rng.poisson(reach * 0.01 * np.exp(u[acc]))
    return pd.DataFrame({"account": [f"a{a:02d}" for a in acc], "department": dept, "reach": reach, "comments": y})


def test_nesting_summary_structure_and_design_effect(rng):
    d = _nested(rng)
    s = nesting_summary(d, dv="comments", between="department", subject="account", exposure="reach")
    assert list(s.columns) == list(NESTING_COLUMNS) and len(s) == 1
    row = s.iloc[0]
    assert bool(row["nested"]) and row["accounts_in_several_departments"] == 0
    assert row["n_accounts"] == 40 and row["n_departments"] == 2 and row["n_posts"] == len(d)
    sizes = d.groupby("account").size().to_numpy()
    m, cv = sizes.mean(), sizes.std() / sizes.mean()
    assert_allclose(row["mean_posts_per_account"], m)
    assert_allclose(row["design_effect"], 1 + ((cv ** 2 + 1) * m - 1) * row["icc"])
    assert_allclose(row["effective_n"], len(d) / row["design_effect"])
    assert row["icc"] > 0.3 and row["design_effect"] > 5
    assert "clustered" in row["advice"]


def test_nesting_summary_detects_crossed_accounts(rng):
    d = _nested(rng)
    d.loc[0, "department"] = "IT" if d.loc[0, "department"] == "PR" else "PR"
    s = nesting_summary(d, dv="comments", between="department", subject="account")
    assert not bool(s["nested"].iloc[0]) and s["accounts_in_several_departments"].iloc[0] == 1
    assert "crossed" in s["advice"].iloc[0]


def test_nesting_summary_on_simulated_organization():
    sim = tk.simulate_organization(n_accounts_per_department=4, posts_per_account=30, random_effect_sd=1.0,
                                   mixed_share=0.1, seed=5)
    s = nesting_summary(sim.data, dv="likes", between="department", subject="account", exposure="reach")
    assert not bool(s["nested"].iloc[0])  # mixed-team posts sit on single-department accounts
    no_mixed = sim.data[sim.data["department"] != "Mixed team"]
    s2 = nesting_summary(no_mixed, dv="likes", between="department", subject="account", exposure="reach")
    assert bool(s2["nested"].iloc[0]) and s2["icc"].iloc[0] > 0.1


def test_account_level_hand_example():
    posts = pd.DataFrame({"account": ["b", "a", "a", "b", "c"], "department": ["IT", "PR", "PR", "IT", "PR"],
                          "comments": [2, 1, 3, 4, 0], "reach": [1000, 100, 300, 500, 50]})
    out = account_level(posts, dv="comments", exposure="reach", subject="account", between="department")
    assert list(out.columns) == ["account", "department", "n_posts", "comments", "reach", "rate", "rate_per_1000"]
    assert out["account"].tolist() == ["a", "b", "c"]
    assert out["n_posts"].tolist() == [2, 2, 1]
    assert out["comments"].tolist() == [4, 6, 0] and out["reach"].tolist() == [400, 1500, 50]
    assert_allclose(out["rate"], [4 / 400, 6 / 1500, 0.0])  # ratio of sums, not mean of ratios
    assert isinstance(out.index, pd.RangeIndex)


def test_account_level_errors():
    posts = pd.DataFrame({"account": ["a", "a"], "department": ["IT", "PR"], "comments": [1, 2],
                          "reach": [10, 20]})
    with pytest.raises(ValueError, match=r"`subject` must be nested in `between`"):
        account_level(posts, dv="comments", exposure="reach", subject="account", between="department")
    posts["department"] = "IT"
    posts.loc[0, "reach"] = 0
    with pytest.raises(ValueError, match=r"`exposure` must be strictly positive"):
        account_level(posts, dv="comments", exposure="reach", subject="account", between="department")
    with pytest.raises(ValueError, match=r"`subject` must be the name of a column"):
        account_level(posts, dv="comments", exposure="reach", subject="acount", between="department")
