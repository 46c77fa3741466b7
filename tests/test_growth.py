"""toolkit.models.growth.fit_growth_model: validated against lme4::lmer (tests/reference/growth/)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import toolkit as tk
from toolkit.models.growth import GrowthModel, fit_growth_model

REF = Path(__file__).parent / "reference" / "growth"


@pytest.fixture(scope="module")
def panel():
    return pd.read_csv(REF / "panel.csv", parse_dates=["sampled_on"])


@pytest.fixture(scope="module")
def lmer_fixed():
    return pd.read_csv(REF / "lmer_fixed.csv")


@pytest.fixture(scope="module")
def lmer_varcomp():
    return pd.read_csv(REF / "lmer_varcomp.csv").set_index(["model", "name"])["value"]


@pytest.fixture(scope="module")
def fits(panel):
    return {"slope": fit_growth_model(panel, random_slope=True),
            "intercept": fit_growth_model(panel, random_slope=False)}


@pytest.mark.parametrize("model", ["slope", "intercept"])
def test_fixed_effects_match_lmer(fits, lmer_fixed, model):
    m = fits[model]
    ref = lmer_fixed[lmer_fixed["model"] == model].set_index("term")
    g = m.growth_rates.set_index("group")
    b = m.baselines.set_index("group")
    assert sorted(g.index) == ["Fire", "Health", "Library", "Parks"]
    for grp in g.index:
        np.testing.assert_allclose(g.loc[grp, "slope"], ref.loc[f"agency{grp}:t", "estimate"], atol=1e-5)
        np.testing.assert_allclose(g.loc[grp, "std_error"], ref.loc[f"agency{grp}:t", "std_error"], rtol=1e-3)
        np.testing.assert_allclose(b.loc[grp, "log_level"], ref.loc[f"agency{grp}", "estimate"], atol=1e-5)
        np.testing.assert_allclose(b.loc[grp, "std_error"], ref.loc[f"agency{grp}", "std_error"], rtol=1e-3)


def test_variance_components_match_lmer(fits, lmer_varcomp):
    fs = fits["slope"].fit_statistics.iloc[0]
    assert fs["random_slope"] and fs["converged"]
    np.testing.assert_allclose(fs["sd_intercept"], lmer_varcomp[("slope", "account:(Intercept):NA")], rtol=1e-3)
    np.testing.assert_allclose(fs["sd_slope"], lmer_varcomp[("slope", "account:t:NA")], rtol=1e-3)
    np.testing.assert_allclose(fs["corr_intercept_slope"], lmer_varcomp[("slope", "account:(Intercept):t")],
                               atol=1e-3)
    np.testing.assert_allclose(fs["residual_sd"], lmer_varcomp[("slope", "Residual:NA:NA")], rtol=1e-3)
    np.testing.assert_allclose(fs["reml_loglik"], lmer_varcomp[("slope", "REML_loglik")], atol=1e-4)
    fi = fits["intercept"].fit_statistics.iloc[0]
    assert not fi["random_slope"] and np.isnan(fi["sd_slope"])
    np.testing.assert_allclose(fi["sd_intercept"], lmer_varcomp[("intercept", "account:(Intercept):NA")], rtol=1e-3)
    np.testing.assert_allclose(fi["reml_loglik"], lmer_varcomp[("intercept", "REML_loglik")], atol=1e-4)


def test_derived_columns_and_test(fits, panel):
    m = fits["slope"]
    assert isinstance(m, GrowthModel)
    g = m.growth_rates
    assert list(g.columns) == ["group", "slope", "std_error", "ci_low", "ci_high", "statistic", "p_value",
                               "growth_factor", "growth_factor_ci_low", "growth_factor_ci_high",
                               "percent_per_year", "n_accounts", "n_observations", "confidence_level"]
    np.testing.assert_allclose(g["growth_factor"], np.exp(g["slope"]))
    np.testing.assert_allclose(g["percent_per_year"], 100 * (np.exp(g["slope"]) - 1))
    np.testing.assert_allclose(g["ci_high"] - g["slope"], 1.959963984540054 * g["std_error"])
    assert g.set_index("group")["n_accounts"].to_dict() == {"Fire": 5, "Health": 3, "Library": 6, "Parks": 2}
    assert int(g["n_observations"].sum()) == len(panel)
    t = m.test.iloc[0]
    assert t["df"] == 3.0 and 0 <= t["p_value"] <= 1


def test_recovers_known_growth():
    # large balanced simulated panel: the estimated growth is close to the truth (within 4 SE)
    rng = np.random.default_rng(7)
    dates = pd.date_range("2024-01-01", periods=10, freq="60D")
    truth = {"A": 0.0, "B": 0.3, "C": -0.2}
    rows = []
    for g, rate in truth.items():
        for a in range(15):
            b0, b1 = rng.normal(0, 1), rng.normal(0, 0.1)
            t = (dates - dates[0]).days / 365.25
            y = np.exp(7 + b0 + (rate + b1) * t + rng.normal(0, 0.1, len(t)))
            rows.append(pd.DataFrame({"agency": g, "account": f"{g}{a}", "sampled_on": dates,
                                      "audience": np.round(y)}))
    m = fit_growth_model(pd.concat(rows, ignore_index=True))
    g = m.growth_rates.set_index("group")
    for grp, rate in truth.items():
        assert abs(g.loc[grp, "slope"] - rate) < 4 * g.loc[grp, "std_error"]


def test_missing_values_raise_or_are_counted(panel):
    bad = panel.copy()
    bad.loc[0, "audience"] = np.nan
    bad.loc[1, "audience"] = 0
    with pytest.raises(ValueError, match="fit_growth_model: `data` must be free of missing values"):
        fit_growth_model(bad)
    m = fit_growth_model(bad, nan_policy="omit", random_slope=False)
    assert m.fit_statistics["n_dropped"].iloc[0] == 2
    assert m.fit_statistics["n"].iloc[0] == len(panel) - 2


def test_errors(panel):
    with pytest.raises(ValueError, match="fit_growth_model: `between` must be the name of a column"):
        fit_growth_model(panel, between="agencyy")
    with pytest.raises(TypeError, match="fit_growth_model: `time` must be a datetime column"):
        fit_growth_model(panel.assign(sampled_on=panel["sampled_on"].astype(str)))
    with pytest.raises(TypeError, match="fit_growth_model: `random_slope` must be True or False"):
        fit_growth_model(panel, random_slope="yes")
    with pytest.raises(ValueError, match="fit_growth_model: `subject` must be nested in `between`"):
        fit_growth_model(panel.assign(account="same-" + (panel.index % 3).astype(str)))
    with pytest.raises(TypeError, match="fit_growth_model: `data` must be a pandas.DataFrame"):
        fit_growth_model(panel["audience"])


def test_group_on_one_date_is_dropped_with_warning(panel):
    extra = pd.DataFrame({"agency": "Solo", "account": ["Solo-01"], "sampled_on": [panel["sampled_on"].min()],
                          "audience": [100]})
    with pytest.warns(tk.ToolkitWarning, match="measured on one date only"):
        m = fit_growth_model(pd.concat([panel, extra], ignore_index=True), random_slope=False)
    assert "Solo" not in set(m.growth_rates["group"])
    assert m.fit_statistics["n_groups_dropped"].iloc[0] == 1
