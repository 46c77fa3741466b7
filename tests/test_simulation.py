"""Tests for toolkit.simulation: determinism, schema, nesting and recovery of the known truth.

Recovery tolerances are derived from the sampling error of each estimator (computed from the true
means in the test) and set at 4 standard errors, so a correct generator fails with probability of
about 6e-5 per comparison; each test also checks that the standard error is small (a few percent),
so the comparison has power to detect a wrong generator.
"""
from __future__ import annotations

import dataclasses
import inspect
import re

import numpy as np
import pandas as pd
import pytest

import toolkit as tk
from toolkit import config
from toolkit.simulation import DEFAULT_DEPARTMENTS, ENGAGEMENT_TYPES, SimulatedOrganization

Z = 4.0  # tolerance in standard errors


@pytest.fixture(scope="module")
def small():
    return tk.simulate_organization(n_accounts_per_department=3, posts_per_account=25, seed=20261121)


def true_means(sim: SimulatedOrganization) -> dict[str, np.ndarray]:
    """Per-post true NB mean for each engagement type, rebuilt from sim.parameters and sim.accounts."""
    d, p = sim.data, sim.parameters
    effects = sim.accounts.set_index("account")
    reach = d["reach"].to_numpy(float)
    paid = d["paid"].to_numpy(bool)
    dept = d["department"].astype(str).to_numpy()
    pair = d["co_departments"].fillna("").astype(str).to_numpy()
    out = {}
    for t in ENGAGEMENT_TYPES:
        pt = p[p["engagement_type"] == t]
        base = pt.loc[pt["parameter"] == "base_rate", "value"].item()
        rr = pt[pt["parameter"] == "rate_ratio"]
        rr_dept = dict(zip(rr["department"], rr["value"]))
        rr_pair = dict(zip(rr["level"].fillna(""), rr["value"]))
        ratio = np.array([rr_pair[q] if dd == config.MIXED_DEPARTMENT else rr_dept[dd] for dd, q in zip(dept, pair)])
        ce = pt[pt["parameter"] == "content_effect"]
        ce = d["content_type"].astype(str).map(dict(zip(ce["level"], ce["value"]))).to_numpy(float)
        pe = pt.loc[pt["parameter"] == "paid_rate_ratio", "value"].item()
        u = effects.loc[d["account"].to_numpy(), f"effect_{t}"].to_numpy(float)
        out[t] = reach * base * ratio * ce * np.where(paid, pe, 1.0) * np.exp(u)
    return out


def alpha_of(sim, t):
    p = sim.parameters
    return p.loc[(p["parameter"] == "dispersion") & (p["engagement_type"] == t), "value"].item()


# ---------------------------------------------------------------------------------------------
def test_deterministic_for_seed_and_different_seeds_differ():
    kw = dict(n_accounts_per_department=2, posts_per_account=15)
    a = tk.simulate_organization(**kw, seed=5)
    b = tk.simulate_organization(**kw, seed=5)
    pd.testing.assert_frame_equal(a.data, b.data)
    pd.testing.assert_frame_equal(a.accounts, b.accounts)
    pd.testing.assert_frame_equal(a.parameters, b.parameters)
    c = tk.simulate_organization(**kw, seed=6)
    assert not a.data["likes"].equals(c.data["likes"]) or len(a.data) != len(c.data)
    g1 = tk.simulate_organization(**kw, seed=np.random.default_rng(5))
    assert g1.seed is None and g1.data.attrs["seed"] is None
    pd.testing.assert_frame_equal(g1.data, a.data)  # default_rng(5) is the same stream as seed=5


def test_schema_columns_dtypes_and_attrs(small):
    d = small.data
    assert d.columns.tolist() == list(config.POST_COLUMNS)
    for col in config.POST_SCHEMA:
        assert str(d[col.name].dtype) == col.dtype, col.name
    assert d["department"].cat.ordered
    # the fast categorical construction gives exactly what config.ordered_categorical gives
    for c, known in (("department", config.DEPARTMENTS), ("platform", config.PLATFORMS),
                     ("content_type", config.CONTENT_TYPES)):
        expected = pd.Series(config.ordered_categorical(d[c].astype(object).to_numpy(), known), name=c)
        pd.testing.assert_series_equal(d[c], expected)
    assert d["department"].cat.categories.tolist() == list(DEFAULT_DEPARTMENTS) + [config.MIXED_DEPARTMENT]
    assert d.attrs == {"simulated": True, "seed": 20261121, "generator": "toolkit.simulate_organization"}
    assert d["post_id"].is_unique and d["source_row"].tolist() == list(range(1, len(d) + 1))
    assert (d["impressions"] >= d["reach"]).all()
    assert d["posted_at"].is_monotonic_increasing
    assert d["posted_at"].min() >= pd.Timestamp("2025-01-01", tz="UTC")
    assert d["posted_at"].max() < pd.Timestamp("2026-01-01", tz="UTC")
    assert (d["video_views"].isna() == (d["content_type"] != "video")).all()
    assert (d["interactions_reported"] == d["likes"] + d["comments"] + d["shares"]).all()
    for c in ("likes", "comments", "shares", "reach", "clicks"):
        assert (d[c] >= 0).all() and d[c].notna().all()


def test_nesting_and_account_ids(small):
    d, acc = small.data, small.accounts
    assert acc["account"].is_unique
    assert acc.groupby("account")["department"].nunique().eq(1).all()
    assert acc["department"].value_counts().eq(3).all()
    assert all(re.fullmatch(r"sim-[a-z]+-\d{2}", a) for a in acc["account"])
    home = dict(zip(acc["account"], acc["department"].astype(str)))
    plain = d[d["department"] != config.MIXED_DEPARTMENT]
    assert (plain["account"].map(home) == plain["department"].astype(str)).all()
    # each account posts on one platform with one audience
    assert d.groupby("account")[["platform", "audience"]].nunique().eq(1).all().all()
    assert acc["n_posts"].sum() == len(d)


def test_mixed_team_posts(small):
    d = small.data
    mixed = d[d["department"] == config.MIXED_DEPARTMENT]
    assert d.loc[d["department"] != config.MIXED_DEPARTMENT, "co_departments"].isna().all()
    home = dict(zip(small.accounts["account"], small.accounts["department"].astype(str)))
    parts = mixed["co_departments"].str.split(config.CO_DEPARTMENT_SEP)
    assert parts.map(len).eq(2).all()
    assert (parts.str[0] == mixed["account"].map(home)).all()   # account of the first department
    assert (parts.str[0] != parts.str[1]).all()
    # share ~ Binomial(n, 0.05)
    n = len(d)
    assert abs(len(mixed) / n - 0.05) < Z * np.sqrt(0.05 * 0.95 / n)
    # truth is the geometric mean of the two departments' rate ratios
    p = small.parameters
    rr = p[(p["parameter"] == "rate_ratio") & (p["department"] != config.MIXED_DEPARTMENT)]
    for _, row in p[(p["parameter"] == "rate_ratio") & (p["department"] == config.MIXED_DEPARTMENT)].iterrows():
        d1, d2 = row["level"].split("|")
        sel = rr[rr["engagement_type"] == row["engagement_type"]].set_index("department")["value"]
        assert row["value"] == pytest.approx(np.sqrt(sel[d1] * sel[d2]), rel=1e-15)


def test_unequal_accounts_custom_departments_and_ratios():
    sim = tk.simulate_organization(n_accounts_per_department={"Sales": 2, "Legal affairs": 5}, posts_per_account=4,
                                   posts_distribution="fixed", rate_ratios={"likes": {"Legal affairs": 2.0}},
                                   mixed_share=0.0, seed=1)
    assert sim.accounts["department"].astype(str).value_counts().to_dict() == {"Legal affairs": 5, "Sales": 2}
    assert len(sim.data) == 7 * 4
    assert sim.accounts["account"].str.startswith("sim-legala").sum() == 5
    tr = sim.true_rate_ratios().set_index("department")
    assert tr.loc["Legal affairs"].tolist() == [2.0, 1.0, 1.0] and tr.loc["Sales"].tolist() == [1.0, 1.0, 1.0]
    assert not (sim.data["department"] == config.MIXED_DEPARTMENT).any()


def test_null_scenario_all_rate_ratios_one():
    sim = tk.simulate_organization(rate_ratios="null", n_accounts_per_department=2, posts_per_account=5, seed=2)
    rr = sim.parameters[sim.parameters["parameter"] == "rate_ratio"]["value"]
    assert len(rr) > 0 and (rr == 1.0).all()


def test_repr_and_frozen(small):
    assert "SIMULATED data (seed=20261121)" in repr(small)
    assert "SIMULATED data (seed=20261121)" in small._repr_html_()
    with pytest.raises(dataclasses.FrozenInstanceError):
        small.seed = 3
    params = set(inspect.signature(tk.simulate_organization).parameters)
    assert set(small.settings) == params


def test_parameters_table(small):
    p = small.parameters
    assert p.columns.tolist() == ["parameter", "engagement_type", "department", "level", "value"]
    assert p.loc[(p["parameter"] == "rate_ratio") & (p["engagement_type"] == "comments")
                 & (p["department"] == "Customer service"), "value"].item() == 1.5
    assert p.loc[(p["parameter"] == "dispersion") & (p["engagement_type"] == "shares"), "value"].item() == 1.0


@pytest.mark.parametrize("scenario", ["default", "null"])
def test_recovers_rate_ratios_by_ratio_of_sums(scenario):
    # 8 departments x 25 accounts x 1,000 posts = 200,000 posts; no random effects, no content or
    # paid effects on the rate, so the empirical ratio-of-sums rate ratio
    # (sum y / sum reach)_d / (sum y / sum reach)_ref estimates the true ratio directly.
    sim = tk.simulate_organization(n_accounts_per_department=25, posts_per_account=1000, posts_distribution="fixed",
                                   random_effect_sd=0.0, type_effect_sd=0.0, content_effects="null",
                                   paid_rate_ratio=1.0, rate_ratios=scenario, seed=99)
    d = sim.data[sim.data["department"] != config.MIXED_DEPARTMENT]
    mu_all = true_means(sim)
    keep = (sim.data["department"] != config.MIXED_DEPARTMENT).to_numpy()
    truth = sim.true_rate_ratios().set_index("department")
    ref = DEFAULT_DEPARTMENTS[0]
    dept = d["department"].astype(str).to_numpy()
    reach = d["reach"].to_numpy(float)
    for t in ENGAGEMENT_TYPES:
        y = d[t].to_numpy(float)
        mu = mu_all[t][keep]
        a = alpha_of(sim, t)

        def rate_and_relvar(g):
            m = dept == g
            # Var(sum y) = sum(mu + alpha mu^2); relative variance of the group's ratio of sums
            return y[m].sum() / reach[m].sum(), (mu[m] + a * mu[m] ** 2).sum() / mu[m].sum() ** 2

        r_ref, v_ref = rate_and_relvar(ref)
        for g in DEFAULT_DEPARTMENTS[1:]:
            r_g, v_g = rate_and_relvar(g)
            se_log = np.sqrt(v_ref + v_g)            # delta method on the log scale
            assert se_log < 0.05, (t, g, se_log)      # "within a few percent" is testable
            err = np.log(r_g / r_ref) - np.log(truth.loc[g, t])
            assert abs(err) < Z * se_log, (t, g, r_g / r_ref, truth.loc[g, t], se_log)


def test_recovers_full_model_and_dispersion():
    # All effects on (random effects, content, paid, mixed team). With the true per-post mean mu
    # rebuilt from sim.parameters and sim.accounts: sum(y)/sum(mu) ~ 1 in every department
    # (including "Mixed team", whose truth is the geometric mean), and the method-of-moments NB2
    # dispersion alpha_hat = sum((y - mu)^2 - mu) / sum(mu^2) ~ alpha.
    sim = tk.simulate_organization(n_accounts_per_department=25, posts_per_account=1000, audience_sdlog=0.5,
                                   seed=2026)
    assert len(sim.data) > 190_000
    mu_all = true_means(sim)
    dept = sim.data["department"].astype(str).to_numpy()
    for t in ENGAGEMENT_TYPES:
        y = sim.data[t].to_numpy(float)
        mu = mu_all[t]
        a = alpha_of(sim, t)
        for g in np.unique(dept):
            m = dept == g
            ratio = y[m].sum() / mu[m].sum()
            se = np.sqrt((mu[m] + a * mu[m] ** 2).sum()) / mu[m].sum()
            assert se < 0.05
            assert abs(ratio - 1) < Z * se, (t, g, ratio, se)
        r = (y - mu) ** 2 - mu                      # E[r] = alpha * mu^2 under NB2
        a_hat = r.sum() / (mu ** 2).sum()
        se_a = np.sqrt(((r - a_hat * mu ** 2) ** 2).sum()) / (mu ** 2).sum()   # sandwich SE
        assert se_a < 0.1 * a, (t, se_a)
        assert abs(a_hat - a) < Z * se_a, (t, a_hat, a, se_a)


def test_zero_inflation_adds_expected_zeros_and_changes_nothing_else():
    kw = dict(n_accounts_per_department=10, posts_per_account=500, seed=404)
    base = tk.simulate_organization(**kw)
    zi = tk.simulate_organization(**kw, zero_inflation={"comments": 0.3})
    pd.testing.assert_series_equal(base.data["likes"], zi.data["likes"])
    pd.testing.assert_series_equal(base.data["shares"], zi.data["shares"])
    c0 = base.data["comments"].to_numpy(int)
    c1 = zi.data["comments"].to_numpy(int)
    assert ((c1 == c0) | (c1 == 0)).all()
    # each post with a nonzero count is zeroed independently with probability 0.3
    nonzero = c0 > 0
    k = int(nonzero.sum())
    share = (c1[nonzero] == 0).mean()
    assert k > 10_000
    assert abs(share - 0.3) < Z * np.sqrt(0.3 * 0.7 / k)
    # overall zero share: z1 = 0.3 + 0.7 * z0 (exactly in expectation)
    z0, z1 = (c0 == 0).mean(), (c1 == 0).mean()
    assert abs(z1 - (0.3 + 0.7 * z0)) < Z * np.sqrt(0.3 * 0.7 * (1 - z0) / len(c0))
    assert zi.parameters.loc[(zi.parameters["parameter"] == "zero_inflation")
                             & (zi.parameters["engagement_type"] == "comments"), "value"].item() == 0.3


def test_paid_reach_factor():
    sim = tk.simulate_organization(n_accounts_per_department=10, posts_per_account=300, paid_reach_factor=3.0,
                                   seed=8)
    d = sim.data
    f = d["reach"].to_numpy(float) / d["audience"].to_numpy(float)
    paid = d["paid"].to_numpy(bool)
    a, b = f[paid], f[~paid]
    ratio = a.mean() / b.mean()
    se = ratio * np.sqrt(a.var(ddof=1) / a.size / a.mean() ** 2 + b.var(ddof=1) / b.size / b.mean() ** 2)
    assert se < 0.1
    assert abs(ratio - 3.0) < Z * se + 0.01  # + rounding of reach to whole users


@pytest.mark.parametrize("kwargs, exc, pattern", [
    ({"departments": ["PR", "Mixed team"]}, ValueError, r"`departments` must be free of 'Mixed team'"),
    ({"rate_ratios": {"likes": {"Legal": 2.0}}}, ValueError, r"`rate_ratios` must be one of"),
    ({"rate_ratios": {"likes": {"Social media team": 2.0}}}, ValueError, r"1 for the reference department"),
    ({"rate_ratios": "none"}, ValueError, r"`rate_ratios` must be one of 'default', 'null'"),
    ({"n_accounts_per_department": 0}, ValueError, r"`n_accounts_per_department` must be an integer >= 1"),
    ({"zero_inflation": 1.5}, ValueError, r"`zero_inflation` must be >= 0.0 and <= 1.0"),
    ({"posts_distribution": "nb"}, ValueError, r"`posts_distribution` must be one of 'poisson', 'fixed'"),
    ({"seed": -1}, ValueError, r"`seed` must be None, a non-negative integer"),
    ({"seed": np.random.RandomState(1)}, TypeError, r"legacy API"),
    ({"end": "2025-01-01"}, ValueError, r"`end` must be at least one day after `start`"),
])
def test_bad_arguments(kwargs, exc, pattern):
    with pytest.raises(exc, match=pattern):
        tk.simulate_organization(**kwargs)


# ---- heavy-tailed account effects and unequal posts per account (calibration studies) ------------------------
def test_new_options_leave_default_output_unchanged():
    # numbers from the generator before random_effect_distribution / "lognormal" existed (same seed)
    sim = tk.simulate_organization(n_accounts_per_department=3, posts_per_account=10, seed=7)
    assert (len(sim.data), int(sim.data["likes"].sum()), int(sim.data["comments"].sum())) == (236, 3720, 498)
    assert sim.accounts["n_posts"].tolist()[:5] == [9, 4, 12, 8, 7]
    np.testing.assert_allclose(sim.accounts["effect_shared"].to_numpy()[:3], [0.035806207709, -0.192441118232,
                                                                              0.600124963903], atol=1e-11)
    explicit = tk.simulate_organization(n_accounts_per_department=3, posts_per_account=10, seed=7,
                                        random_effect_distribution="normal", random_effect_df=10)
    pd.testing.assert_frame_equal(sim.data, explicit.data)
    pd.testing.assert_frame_equal(sim.accounts, explicit.accounts)


def _many_accounts(**kw):
    # 8 departments x 2,500 accounts x 1 post: 20,000 independent account effects
    return tk.simulate_organization(n_accounts_per_department=2500, posts_per_account=1, posts_distribution="fixed",
                                    mixed_share=0.0, **kw)


def test_t_account_effects_have_the_requested_sd_and_heavy_tails():
    from scipy import stats

    sd, df = 0.5, 4
    sim = _many_accounts(random_effect_sd=sd, random_effect_distribution="t", random_effect_df=df, seed=31)
    b = sim.accounts["effect_shared"].to_numpy()
    n = b.size
    assert n == 20_000
    # exactly a scaled t(4): Kolmogorov-Smirnov against t(4) of b / (sd sqrt((df-2)/df)) does not reject ...
    scale = sd * np.sqrt((df - 2) / df)
    assert stats.kstest(b / scale, stats.t(df).cdf).pvalue > 1e-4
    # ... but against the normal with the same SD it does (KS distance ~0.05 >> 0.019, the 1e-6 critical value)
    assert stats.kstest(b / sd, stats.norm.cdf).pvalue < 1e-6
    # heavy tails: P(|b| > 3 SD) is 0.0132 for t(4) (0.0027 for the normal), within 4 binomial SEs
    p_tail = 2 * stats.t.sf(3 * sd / scale, df)
    assert abs(p_tail - 0.0132) < 1e-3
    assert abs(np.mean(np.abs(b) > 3 * sd) - p_tail) < Z * np.sqrt(p_tail * (1 - p_tail) / n)
    # the SD is sd; t(10) (finite kurtosis 1) so the sample SD has SE ~ sd/2 * sqrt((2 + 1) / n) = 0.003
    b10 = _many_accounts(random_effect_sd=sd, random_effect_distribution="t", random_effect_df=10,
                         seed=32).accounts["effect_shared"].to_numpy()
    assert abs(b10.std(ddof=1) - sd) < Z * sd / 2 * np.sqrt(3 / n)
    assert stats.kstest(b10 / (sd * np.sqrt(8 / 10)), stats.t(10).cdf).pvalue > 1e-4
    # and the normal default keeps SD sd (SE sd / sqrt(2n)) and normal tails
    bn = _many_accounts(random_effect_sd=sd, seed=33).accounts["effect_shared"].to_numpy()
    assert abs(bn.std(ddof=1) - sd) < Z * sd / np.sqrt(2 * n)
    assert abs(np.mean(np.abs(bn) > 3 * sd) - 0.0027) < Z * np.sqrt(0.0027 * 0.9973 / n)
    # recorded in the truth and the settings; still labelled SIMULATED
    p = sim.parameters.set_index("parameter")
    assert p.loc["random_effect_distribution", "level"] == "t" and p.loc["random_effect_distribution", "value"] == 4
    assert p.loc["random_effect_sd_shared", "value"] == sd
    assert np.isinf(tk.simulate_organization(seed=1).parameters.set_index("parameter")
                    .loc["random_effect_distribution", "value"])
    assert sim.settings["random_effect_distribution"] == "t" and sim.settings["random_effect_df"] == 4
    assert sim.data.attrs["simulated"] and "SIMULATED data (seed=31)" in repr(sim)


def test_lognormal_posts_per_account():
    from scipy import stats

    sim = tk.simulate_organization(n_accounts_per_department=500, posts_per_account=30,
                                   posts_distribution="lognormal", seed=41)
    n_posts = sim.accounts["n_posts"].to_numpy()
    n = n_posts.size
    assert n_posts.min() >= 1 and n_posts.dtype == np.int64
    assert sim.data.groupby("account", observed=True).size().sum() == n_posts.sum() == len(sim.data)
    # ceil(X) <= c exactly when X <= c (integer c): P = Phi(log(c / 30) / 0.8); median 30
    for c in (10, 30, 90):
        expected = stats.norm.cdf(np.log(c / 30) / 0.8)
        assert abs(np.mean(n_posts <= c) - expected) < Z * np.sqrt(expected * (1 - expected) / n)
    # far more unequal than the Poisson default (SD ~ sqrt(30) = 5.5): lognormal SD ~ 30 e^0.32 sqrt(e^0.64 - 1)
    assert n_posts.std() > 25 > 4 * tk.simulate_organization(
        n_accounts_per_department=500, posts_per_account=30, seed=41).accounts["n_posts"].std()
    # a tiny median still gives every account at least one post
    tiny = tk.simulate_organization(n_accounts_per_department=50, posts_per_account=0.2,
                                    posts_distribution="lognormal", seed=42)
    assert tiny.accounts["n_posts"].min() == 1
    p = sim.parameters.set_index("parameter")
    assert p.loc["posts_distribution", "level"] == "lognormal" and p.loc["posts_distribution", "value"] == 0.8
    assert np.isnan(tk.simulate_organization(seed=1).parameters.set_index("parameter")
                    .loc["posts_distribution", "value"])
    assert sim.settings["posts_distribution"] == "lognormal"


def test_new_options_are_reproducible_by_seed():
    kw = dict(n_accounts_per_department=3, posts_per_account=20, posts_distribution="lognormal",
              random_effect_distribution="t", random_effect_df=4)
    a, b = tk.simulate_organization(**kw, seed=5), tk.simulate_organization(**kw, seed=5)
    pd.testing.assert_frame_equal(a.data, b.data)
    pd.testing.assert_frame_equal(a.accounts, b.accounts)
    pd.testing.assert_frame_equal(a.parameters, b.parameters)
    c = tk.simulate_organization(**kw, seed=6)
    assert not np.array_equal(a.accounts["effect_shared"], c.accounts["effect_shared"])
    normal = tk.simulate_organization(**{**kw, "random_effect_distribution": "normal"}, seed=5)
    assert not np.array_equal(a.accounts["effect_shared"], normal.accounts["effect_shared"])


@pytest.mark.parametrize("kwargs, exc, pattern", [
    ({"random_effect_distribution": "t", "random_effect_df": 2}, ValueError,
     r"`random_effect_df` must be a number > 2 for t account effects; got 2"),
    ({"random_effect_distribution": "t", "random_effect_df": 1.5}, ValueError, r"no finite SD"),
    ({"random_effect_distribution": "t", "random_effect_df": "4"}, TypeError, r"`random_effect_df` must be a number"),
    ({"random_effect_distribution": "cauchy"}, ValueError,
     r"`random_effect_distribution` must be one of 'normal', 't'"),
    ({"posts_distribution": "pareto"}, ValueError, r"'poisson', 'fixed', 'lognormal'"),
])
def test_bad_new_arguments(kwargs, exc, pattern):
    with pytest.raises(exc, match=pattern):
        tk.simulate_organization(**kwargs)


# ---- the declarative argument table (issue 16): every row checked with a bad value ------------------------
from toolkit.simulation import _ARGUMENTS  # noqa: E402

_F = "simulate_organization: "
#: one or more bad values per row of ``_ARGUMENTS``: (kwargs, exception, exact start of the message)
BAD_BY_ROW = {
    "departments": [({"departments": "PR"}, TypeError, "`departments` must be a non-empty list of department "
                      "names or None; got 'PR'."),
                     ({"departments": ["PR", "PR"]}, ValueError, "`departments` must be a list without duplicates"),
                     ({"n_accounts_per_department": {"Mixed team": 2}}, ValueError,
                      "`departments` must be free of 'Mixed team'")],
    "n_accounts_per_department": [({"n_accounts_per_department": 2.5}, TypeError,
                                   "`n_accounts_per_department` must be an integer >= 1; got 2.5."),
                                  ({"departments": ["PR", "IT"], "n_accounts_per_department": {"PR": 2}}, ValueError,
                                   "`n_accounts_per_department` must be a dict with one entry per department")],
    "reference_department": [({"reference_department": "Legal"}, ValueError,
                              "`reference_department` must be one of 'Social media team'")],
    "posts_distribution": [({"posts_distribution": "nb"}, ValueError, "`posts_distribution` must be one of "
                            "'poisson', 'fixed', 'lognormal'; got 'nb'.")],
    "posts_per_account": [({"posts_per_account": 0}, ValueError, "`posts_per_account` must be a number > 0.0; got 0."),
                          ({"posts_per_account": "5"}, TypeError, "`posts_per_account` must be a number; got '5'.")],
    "rate_ratios": [({"rate_ratios": 3}, TypeError, "`rate_ratios` must be 'default', 'null' or a dict; got 3."),
                    ({"rate_ratios": {"likes": 2}}, TypeError, "`rate_ratios` must be a dict engagement type -> "
                     "{department: ratio}"),
                    ({"rate_ratios": {"likes": {"PR": -1}}}, ValueError, "`rate_ratios` must be a number > 0.0")],
    "base_rates": [({"base_rates": 0}, ValueError, "`base_rates` must be > 0.0 for every engagement type; "
                    "got {'likes': 0.0}.")],
    "dispersion": [({"dispersion": -0.1}, ValueError, "`dispersion` must be >= 0.0 for every engagement type")],
    "zero_inflation": [({"zero_inflation": {"shares": 1.5}}, ValueError, "`zero_inflation` must be >= 0.0 and "
                        "<= 1.0 for every engagement type; got {'shares': 1.5}.")],
    "paid_rate_ratio": [({"paid_rate_ratio": [1]}, TypeError, "`paid_rate_ratio` must be a number or a dict "
                         "engagement type -> number; got [1].")],
    "random_effect_sd": [({"random_effect_sd": -1}, ValueError, "`random_effect_sd` must be a number >= 0.0; got -1.")],
    "type_effect_sd": [({"type_effect_sd": float("nan")}, ValueError, "`type_effect_sd` must be a number >= 0.0")],
    "random_effect_distribution": [({"random_effect_distribution": "cauchy"}, ValueError,
                                    "`random_effect_distribution` must be one of 'normal', 't'; got 'cauchy'.")],
    "random_effect_df": [({"random_effect_df": -1}, ValueError, "`random_effect_df` must be a number >= 0.0; got -1."),
                         ({"random_effect_distribution": "t", "random_effect_df": 2}, ValueError,
                          "`random_effect_df` must be a number > 2 for t account effects; got 2. A t distribution")],
    "audience_median": [({"audience_median": 0}, ValueError, "`audience_median` must be a number > 0.0; got 0.")],
    "audience_sdlog": [({"audience_sdlog": -1}, ValueError, "`audience_sdlog` must be a number >= 0.0; got -1.")],
    "reach_fraction_median": [({"reach_fraction_median": True}, TypeError,
                               "`reach_fraction_median` must be a number; got True.")],
    "reach_fraction_sdlog": [({"reach_fraction_sdlog": float("inf")}, ValueError,
                              "`reach_fraction_sdlog` must be a number >= 0.0; got inf.")],
    "impressions_per_reach": [({"impressions_per_reach": 0.5}, ValueError,
                               "`impressions_per_reach` must be a number >= 1.0; got 0.5.")],
    "paid_reach_factor": [({"paid_reach_factor": 0}, ValueError, "`paid_reach_factor` must be a number > 0.0; got 0.")],
    "mixed_share": [({"mixed_share": 1.5}, ValueError, "`mixed_share` must be a number >= 0.0 and <= 1.0; got 1.5."),
                    ({"departments": ["PR"], "mixed_share": 0.1}, ValueError,
                     "`mixed_share` must be 0 when there is only one department; got 0.1.")],
    "content_effects": [({"content_effects": "none"}, ValueError, "`content_effects` must be one of 'default', "
                         "'null'; got 'none'."),
                        ({"content_effects": {"video": 2}}, TypeError, "`content_effects` must be a dict content "
                         "type -> {type: ratio}"),
                        ({"content_effects": {"gif": {"likes": 1}}}, ValueError, "`content_effects` must be one of "
                         "'photo', 'video', 'status', 'link'; got 'gif'.")],
    "paid_probability": [({"paid_probability": 1.5}, ValueError, "`paid_probability` must be a number >= 0.0 and "
                          "<= 1.0; got 1.5."),
                         ({"paid_probability": {"Legal": 0.1}}, ValueError, "`paid_probability` must be one of")],
    "start": [({"start": "not a date"}, ValueError, "`start` must be a date, e.g. '2025-01-01'"),
              ({"end": "2025-01-01"}, ValueError, "`end` must be at least one day after `start`; got "
               "('2025-01-01', '2025-01-01').")],
}


def test_every_row_of_the_argument_table_has_a_bad_value():
    rows = {arg.name for arg in _ARGUMENTS}
    assert set(BAD_BY_ROW) == rows
    for arg in _ARGUMENTS:  # a cross-argument condition is tested by its own message
        if arg.refuse is not None:
            assert any(arg.expected in msg for _, _, msg in BAD_BY_ROW[arg.name]), arg.name


@pytest.mark.parametrize("kwargs, exc, text", [case for cases in BAD_BY_ROW.values() for case in cases],
                         ids=[f"{name}-{i}" for name, cases in BAD_BY_ROW.items() for i in range(len(cases))])
def test_each_argument_row_raises_its_message(kwargs, exc, text):
    with pytest.raises(exc) as info:
        tk.simulate_organization(**kwargs)
    assert str(info.value).startswith(_F + text)


@pytest.mark.parametrize("kwargs", [
    dict(n_accounts_per_department={"A": 2, "B": 5}, posts_per_account=12.5, posts_distribution="fixed",
         rate_ratios={"likes": {"B": 2.0}}, dispersion={"likes": 0.0}, zero_inflation=0.2),
    dict(random_effect_distribution="t", random_effect_df=3.5, posts_distribution="lognormal",
         n_accounts_per_department=2, posts_per_account=8),
    dict(departments=["PR", "HR", "IT"], reference_department="HR", paid_probability={"PR": 0.9}, mixed_share=0.3,
         content_effects={"video": {"shares": 2.0}}, start="2024-03-01", end="2024-04-15"),
])
def test_same_seed_gives_identical_output_across_calls(kwargs):
    a = tk.simulate_organization(**kwargs, seed=21)
    b = tk.simulate_organization(**kwargs, seed=21)
    for x, y in ((a.data, b.data), (a.accounts, b.accounts), (a.parameters, b.parameters)):
        pd.testing.assert_frame_equal(x, y, check_exact=True)
    assert a.settings == b.settings and a.data.attrs == b.data.attrs
