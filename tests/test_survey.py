"""Tests for toolkit.survey: reference values from R 4.2.2 (tests/reference/survey/), properties, bad input."""
from __future__ import annotations

import itertools
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import toolkit as tk
from toolkit import survey

REF_DIR = Path(__file__).parent / "reference" / "survey"
REF = pd.read_csv(REF_DIR / "survey_reference.csv")

# Tolerances. Closed-form quantities (Wilson, Agresti-Coull, Goodman, Newcombe, chi-square statistics) agree
# with R to rounding error: 1e-12 absolute. Clopper-Pearson goes through beta quantile inversion (R's qbeta vs
# scipy's boost): 1e-10. p-values from chi2/normal tails: relative 1e-9.
TOL_CLOSED = 1e-12
TOL_BETA = 1e-10
REL_P = 1e-9


def ref(case: str, quantity: str) -> float:
    row = REF[(REF["case"] == case) & (REF["quantity"] == quantity)]
    assert len(row) == 1, (case, quantity)
    return float(row["value"].iloc[0])


def poll_frame(counts: dict, column="owner") -> pd.DataFrame:
    return pd.DataFrame({column: [k for k, v in counts.items() for _ in range(v)]})


PROP_CASES = sorted({c for c in REF["case"] if c.startswith("prop_")})


def _parse(case):
    _, x, n, cl = case.split("_")
    return int(x[1:]), int(n[1:]), float(cl[2:])


# ---------------------------------------------------------------------------------------------
# single proportions against R
# ---------------------------------------------------------------------------------------------
# R's prop.test drops the continuity correction at x = n/2 exactly (tested separately below).
PROP_PARAMS = [(c, m) for c in PROP_CASES for m in survey.CI_METHODS
               if not (m == "wilson_cc" and 2 * _parse(c)[0] == _parse(c)[1])]


@pytest.mark.parametrize("case,method", PROP_PARAMS)
def test_proportion_ci_matches_r(case, method):
    x, n, cl = _parse(case)
    res = survey.proportion_ci(count=x, n=n, confidence_level=cl, method=method)
    tol = TOL_BETA if method == "clopper_pearson" else TOL_CLOSED
    assert res["ci_low"].iloc[0] == pytest.approx(ref(case, f"{method}_low"), abs=tol)
    assert res["ci_high"].iloc[0] == pytest.approx(ref(case, f"{method}_high"), abs=tol)
    assert res["proportion"].iloc[0] == x / n
    assert list(res.columns) == list(survey.PROPORTION_COLUMNS)


def test_wilson_cc_at_half_is_wider_than_wilson_unlike_r():
    # R's prop.test uses YATES = min(0.5, |x - n/2|), i.e. no correction at x = n/2; Newcombe's method 4
    # corrects there as everywhere, so our interval strictly contains R's (= plain Wilson).
    cc = survey.proportion_ci(count=10, n=20, method="wilson_cc")
    assert cc["ci_low"].iloc[0] < ref("prop_x10_n20_cl0.95", "wilson_cc_low") - 0.01
    assert cc["ci_high"].iloc[0] > ref("prop_x10_n20_cl0.95", "wilson_cc_high") + 0.01
    assert ref("prop_x10_n20_cl0.95", "wilson_cc_low") == pytest.approx(ref("prop_x10_n20_cl0.95", "wilson_low"))


def test_proportion_from_published_percentage_rounds_count():
    res = survey.proportion_ci(proportion=0.2, n=37)  # 7.4 -> 7
    assert int(res["count"].iloc[0]) == 7
    assert res["proportion"].iloc[0] == 7 / 37
    same = survey.proportion_ci(count=7, n=37)
    pd.testing.assert_frame_equal(res, same)
    assert int(survey.proportion_ci(proportion=0.25, n=10)["count"].iloc[0]) == 3  # 2.5 rounds up


def test_proportions_from_data_match_summary_entry_point_and_keep_zero_options():
    data = poll_frame({"PR": 35, "Marketing": 25, "IT": 20, "Management": 12, "Social media team": 8})
    opts = ["Social media team", "Marketing", "PR", "Management", "Customer service", "IT"]
    res = survey.proportions(data, column="owner", options=opts)
    assert res["option"].tolist() == opts
    cs = res.set_index("option").loc["Customer service"]
    assert cs["count"] == 0 and cs["ci_low"] == 0.0 and cs["ci_high"] > 0
    assert (res["n"] == 100).all() and res["proportion"].sum() == pytest.approx(1.0)
    it = survey.proportion_ci(count=20, n=100)
    assert res.set_index("option").loc["IT", "ci_low"] == it["ci_low"].iloc[0]


def test_categorical_column_keeps_unused_categories():
    data = poll_frame({"PR": 3, "IT": 1})
    data["owner"] = pd.Categorical(data["owner"], categories=["PR", "Marketing", "IT"])
    res = survey.proportions(data, column="owner")
    assert res["option"].tolist() == ["PR", "Marketing", "IT"]
    assert res["count"].tolist() == [3, 0, 1]


def test_goodman_simultaneous_matches_formula_in_r_and_is_wider():
    counts = {"o1": 35, "o2": 25, "o3": 20, "o4": 12, "o5": 8}
    data = poll_frame(counts)
    sim = survey.proportions(data, column="owner", options=list(counts), simultaneous=True)
    one = survey.proportions(data, column="owner", options=list(counts))
    assert list(sim.columns) == list(one.columns)
    assert (sim["method"] == "goodman").all() and sim["simultaneous"].all()
    for j in range(5):
        assert sim["ci_low"].iloc[j] == pytest.approx(ref(f"goodman_option{j + 1}", "low"), abs=TOL_CLOSED)
        assert sim["ci_high"].iloc[j] == pytest.approx(ref(f"goodman_option{j + 1}", "high"), abs=TOL_CLOSED)
    assert (sim["ci_low"] < one["ci_low"]).all() and (sim["ci_high"] > one["ci_high"]).all()


def test_wilson_coverage_is_close_to_nominal():
    # Wilson's interval is approximately, not exactly, 95%: average coverage over p in [0.1, 0.4] at n = 100
    # (exact binomial sums, no simulation).
    n = 100
    x = np.arange(n + 1)
    lo, hi = survey._interval(x, n, 0.95, "wilson")
    cover = [stats.binom.pmf(x, n, p)[(lo <= p) & (p <= hi)].sum() for p in np.linspace(0.1, 0.4, 61)]
    assert 0.94 < np.mean(cover) < 0.96
    assert min(cover) > 0.92


# ---------------------------------------------------------------------------------------------
# goodness of fit
# ---------------------------------------------------------------------------------------------
def test_goodness_of_fit_uniform_matches_r():
    data = poll_frame({"a": 35, "b": 25, "c": 20, "d": 12, "e": 8})
    res = survey.goodness_of_fit(data, column="owner")
    assert res["statistic"].iloc[0] == pytest.approx(ref("gof_uniform", "statistic"), abs=TOL_CLOSED)
    assert res["df"].iloc[0] == ref("gof_uniform", "df")
    assert res["p_value"].iloc[0] == pytest.approx(ref("gof_uniform", "p_value"), rel=REL_P)
    assert res["effect_size"].iloc[0] == pytest.approx(math.sqrt(ref("gof_uniform", "statistic") / 100))
    assert res["method"].iloc[0] == "asymptotic" and list(res.columns) == list(survey.GOF_COLUMNS)


def test_goodness_of_fit_expected_matches_r():
    data = poll_frame({"PR": 45, "Marketing": 30, "IT": 15, "Other": 10})
    expected = {"PR": 0.4, "Marketing": 0.3, "IT": 0.2, "Other": 0.1}
    res = survey.goodness_of_fit(data, column="owner", expected=expected)
    assert res["statistic"].iloc[0] == pytest.approx(ref("gof_expected", "statistic"), abs=TOL_CLOSED)
    assert res["p_value"].iloc[0] == pytest.approx(ref("gof_expected", "p_value"), rel=REL_P)


def _exact_multinomial_p(counts, pi):
    """Exact p-value of the Pearson statistic by enumerating every table with the same n."""
    n, k = sum(counts), len(counts)
    e = n * np.asarray(pi)
    obs = np.sum((np.asarray(counts) - e) ** 2 / e)
    p = 0.0
    for cuts in itertools.combinations(range(n + k - 1), k - 1):
        parts = np.diff((-1,) + cuts + (n + k - 1,)) - 1
        if np.sum((parts - e) ** 2 / e) >= obs * (1 - 1e-12):
            p += stats.multinomial.pmf(parts, n, pi)
    return p


def test_goodness_of_fit_small_counts_warns_and_uses_monte_carlo():
    data = poll_frame({"a": 6, "b": 2, "c": 1, "d": 1})
    with pytest.warns(tk.ToolkitWarning, match="Monte Carlo"):
        res = survey.goodness_of_fit(data, column="owner", n_resamples=20000, seed=7)
    assert res["method"].iloc[0] == "monte_carlo" and res["n_resamples"].iloc[0] == 20000
    assert res["statistic"].iloc[0] == pytest.approx(ref("gof_small", "statistic"), abs=TOL_CLOSED)
    exact = _exact_multinomial_p([6, 2, 1, 1], [0.25] * 4)
    se = math.sqrt(exact * (1 - exact) / 20000)
    assert abs(res["p_value"].iloc[0] - exact) < 4 * se
    # R's own Monte Carlo p (B = 1e5) agrees with the exact value within its sampling error
    r_mc = ref("gof_small", "p_value_monte_carlo_B100000")
    assert abs(r_mc - exact) < 4 * math.sqrt(exact * (1 - exact) / 1e5)
    # asymptotic when forced: R's value, with a warning
    with pytest.warns(tk.ToolkitWarning, match="< 5"):
        asy = survey.goodness_of_fit(data, column="owner", method="asymptotic")
    assert asy["p_value"].iloc[0] == pytest.approx(ref("gof_small", "p_value_asymptotic"), rel=REL_P)


def test_goodness_of_fit_monte_carlo_is_reproducible():
    data = poll_frame({"a": 6, "b": 2, "c": 1, "d": 1})
    a = survey.goodness_of_fit(data, column="owner", method="monte_carlo", n_resamples=500, seed=3)
    b = survey.goodness_of_fit(data, column="owner", method="monte_carlo", n_resamples=500, seed=3)
    pd.testing.assert_frame_equal(a, b)


def test_goodness_of_fit_bad_expected():
    data = poll_frame({"PR": 5, "IT": 5})
    with pytest.raises(ValueError, match="percentages; divide them by 100"):
        survey.goodness_of_fit(data, column="owner", expected={"PR": 50, "IT": 50})
    with pytest.raises(ValueError, match="a proportion for every option"):
        survey.goodness_of_fit(data, column="owner", expected={"PR": 1.0})
    with pytest.raises(TypeError, match="dict"):
        survey.goodness_of_fit(data, column="owner", expected=[0.5, 0.5])


# ---------------------------------------------------------------------------------------------
# two polls
# ---------------------------------------------------------------------------------------------
A = {"o1": 35, "o2": 25, "o3": 20, "o4": 12, "o5": 8}
B = {"o1": 28, "o2": 30, "o3": 15, "o4": 17, "o5": 10}


def test_compare_polls_matches_r():
    res = survey.compare_polls(counts_a=A, counts_b=B)
    assert list(res.columns) == list(survey.COMPARE_POLLS_COLUMNS)
    assert res["omnibus_statistic"].iloc[0] == pytest.approx(ref("homogeneity", "statistic"), abs=TOL_CLOSED)
    assert res["omnibus_df"].iloc[0] == ref("homogeneity", "df")
    assert res["omnibus_p_value"].iloc[0] == pytest.approx(ref("homogeneity", "p_value"), rel=REL_P)
    for j in range(5):
        assert res["p_value"].iloc[j] == pytest.approx(ref(f"homogeneity_option{j + 1}", "p_value"), rel=REL_P)
        assert res["p_adjusted"].iloc[j] == pytest.approx(ref(f"homogeneity_option{j + 1}", "p_adjusted_holm"),
                                                          rel=REL_P)


def test_compare_polls_from_data_equals_counts():
    rows = [("2025", k) for k, v in A.items() for _ in range(v)] + [("2026", k) for k, v in B.items()
                                                                     for _ in range(v)]
    data = pd.DataFrame(rows, columns=["poll", "owner"])
    from_data = survey.compare_polls(data, column="owner", between="poll")
    from_counts = survey.compare_polls(counts_a=A, counts_b=B)
    assert from_data["poll_a"].iloc[0] == "2025"
    cols = ["estimate", "estimate_ci_low", "estimate_ci_high", "p_value", "p_adjusted", "omnibus_p_value"]
    np.testing.assert_allclose(from_data[cols].to_numpy(float), from_counts[cols].to_numpy(float), rtol=1e-14)


NEWCOMBE = {"a": (56, 70, 48, 80), "b": (9, 10, 3, 10), "c": (6, 7, 2, 7), "d": (5, 56, 0, 29),
            "e": (0, 10, 0, 20), "f": (0, 10, 0, 10), "g": (10, 10, 0, 20), "h": (10, 10, 0, 10)}


@pytest.mark.filterwarnings("ignore:compare_polls. the smallest expected count")
@pytest.mark.parametrize("example", sorted(NEWCOMBE))
@pytest.mark.parametrize("level", [0.95, 0.90])
def test_newcombe_hybrid_score_matches_independent_r_implementation(example, level):
    x1, n1, x2, n2 = NEWCOMBE[example]
    res = survey.compare_polls(counts_a={"yes": x1, "no": n1 - x1}, counts_b={"yes": x2, "no": n2 - x2},
                               confidence_level=level)
    row = res.set_index("option").loc["yes"]
    case = f"newcombe_{example}_cl{level:.2f}"
    assert row["estimate"] == pytest.approx(ref(case, "difference"), abs=TOL_CLOSED)
    assert row["estimate_ci_low"] == pytest.approx(ref(case, "low"), abs=TOL_CLOSED)
    assert row["estimate_ci_high"] == pytest.approx(ref(case, "high"), abs=TOL_CLOSED)


def test_compare_polls_option_absent_in_both_is_kept_with_nan_p():
    with pytest.warns(tk.ToolkitWarning, match="expected count"):
        res = survey.compare_polls(counts_a={"PR": 3, "IT": 2, "HR": 0}, counts_b={"PR": 1, "IT": 4})
    hr = res.set_index("option").loc["HR"]
    assert hr["count_a"] == 0 and hr["count_b"] == 0 and np.isnan(hr["p_value"]) and np.isnan(hr["p_adjusted"])
    assert res["omnibus_df"].iloc[0] == 1.0


# ---------------------------------------------------------------------------------------------
# multiple response
# ---------------------------------------------------------------------------------------------
MR = pd.read_csv(REF_DIR / "multiple_response.csv")
MR_COLS = ["marketing", "pr", "it"]


def test_multiple_response_proportions_of_respondents_not_mentions():
    res = survey.multiple_response(MR, columns=MR_COLS)
    assert list(res.columns) == list(survey.MULTIPLE_RESPONSE_COLUMNS)
    counts = MR[MR_COLS].sum().to_numpy()
    assert res["count"].tolist() == counts.tolist()
    np.testing.assert_array_equal(res["proportion"], counts / 15)
    assert res["proportion"].sum() > 1  # several ticks per respondent
    assert res["share_of_mentions"].sum() == pytest.approx(1.0)
    assert res["mentions_per_respondent"].iloc[0] == pytest.approx(counts.sum() / 15)
    for j, c in enumerate(MR_COLS):
        one = survey.proportion_ci(count=int(counts[j]), n=15)
        assert res["ci_low"].iloc[j] == one["ci_low"].iloc[0]


def test_cochran_q_matches_rstatix():
    res = survey.multiple_response(MR, columns=MR_COLS)
    assert res["cochran_q"].iloc[0] == pytest.approx(ref("cochran_q", "statistic"), abs=TOL_CLOSED)
    assert res["cochran_df"].iloc[0] == ref("cochran_q", "df")
    assert res["cochran_p_value"].iloc[0] == pytest.approx(ref("cochran_q", "p_value"), rel=REL_P)


def _agresti_panel():
    # Agresti (2002) Table 10.1: approval at two surveys, 794 yes/yes, 150 yes/no, 86 no/yes, 570 no/no
    cells = [(1, 1, 794), (1, 0, 150), (0, 1, 86), (0, 0, 570)]
    return pd.DataFrame([(a, b) for a, b, k in cells for _ in range(k)], columns=["first", "second"])


@pytest.mark.parametrize("method,stat_key,p_key", [("asymptotic_cc", "statistic_cc", "p_value_cc"),
                                                  ("asymptotic", "statistic", "p_value"),
                                                  ("exact", "statistic", "p_value_exact")])
def test_mcnemar_matches_r(method, stat_key, p_key):
    res = survey.compare_options(_agresti_panel(), columns=["first", "second"], method=method)
    assert res["only_a"].iloc[0] == 150 and res["only_b"].iloc[0] == 86
    assert res["statistic"].iloc[0] == pytest.approx(ref("mcnemar_agresti", stat_key), abs=TOL_CLOSED)
    assert res["p_value"].iloc[0] == pytest.approx(ref("mcnemar_agresti", p_key), rel=REL_P)
    assert res["estimate"].iloc[0] == pytest.approx((150 - 86) / 1600)


def test_compare_options_all_pairs_with_holm():
    res = survey.compare_options(MR, columns=MR_COLS, method="asymptotic_cc")
    assert list(zip(res["option_a"], res["option_b"])) == [("marketing", "pr"), ("marketing", "it"), ("pr", "it")]
    assert res["p_value"].iloc[0] == pytest.approx(ref("mcnemar_marketing_pr", "p_value_cc"), rel=REL_P)
    np.testing.assert_allclose(res["p_adjusted"], tk.adjust_pvalues(res["p_value"].to_numpy(), p_adjust="holm"))


def test_multiple_response_bad_input():
    bad = MR.assign(pr=MR["pr"].replace(1, 2))
    with pytest.raises(ValueError, match=r"0/1 indicators; got 'other values \[2.0\]'"):
        survey.multiple_response(bad, columns=MR_COLS)
    text = MR.assign(pr=MR["pr"].astype(str))
    with pytest.raises(TypeError, match="indicator columns"):
        survey.multiple_response(text, columns=MR_COLS)
    nan = MR.astype(float)
    nan.loc[0, "it"] = np.nan
    with pytest.raises(ValueError, match="nan_policy='omit'"):
        survey.multiple_response(nan, columns=MR_COLS)
    res = survey.multiple_response(nan, columns=MR_COLS, nan_policy="omit")
    assert (res["n"] == 14).all() and (res["n_dropped"] == 1).all()
    with pytest.raises(ValueError, match="at least 2"):
        survey.compare_options(MR, columns=["pr"])


# ---------------------------------------------------------------------------------------------
# Likert
# ---------------------------------------------------------------------------------------------
LEVELS = ["strongly disagree", "disagree", "neutral", "agree", "strongly agree"]


def _likert_frame():
    return pd.DataFrame({
        "team": ["PR"] * 6 + ["IT"] * 6,
        "q1": ["agree", "agree", "strongly agree", "neutral", "agree", "strongly agree",
               "disagree", "neutral", "disagree", "agree", "strongly disagree", "neutral"],
        "q2": ["neutral"] * 12,
    })


def test_likert_hand_counts():
    data = _likert_frame()
    res = survey.likert(data, columns=["q1", "q2"], levels=LEVELS)
    assert list(res.columns) == list(survey.LIKERT_COLUMNS) and len(res) == 10
    q1 = res[res["item"] == "q1"].set_index("level")
    assert q1["count"].tolist() == [1, 2, 3, 4, 2]  # strongly disagree .. strongly agree
    assert q1["median_level"].iloc[0] == "neutral"  # cumulative 1, 3, 6/12 = 0.5 at neutral
    scores = np.array([4, 4, 5, 3, 4, 5, 2, 3, 2, 4, 1, 3], float)
    assert q1["mean_score"].iloc[0] == pytest.approx(scores.mean())
    lo, hi = stats.t.interval(0.95, 11, loc=scores.mean(), scale=stats.sem(scores))
    assert q1["mean_ci_low"].iloc[0] == pytest.approx(lo, rel=1e-12)
    assert q1["mean_ci_high"].iloc[0] == pytest.approx(hi, rel=1e-12)
    q2 = res[res["item"] == "q2"]
    assert q2["count"].tolist() == [0, 0, 12, 0, 0] and (q2["median_level"] == "neutral").all()


def test_likert_by_group():
    res = survey.likert(_likert_frame(), columns=["q1"], levels=LEVELS, between="team")
    pr = res[res["group"] == "PR"]
    assert pr["count"].tolist() == [0, 0, 1, 3, 2] and pr["median_level"].iloc[0] == "agree"
    assert set(res["group"]) == {"PR", "IT"}


def test_likert_values_outside_levels_are_listed():
    data = _likert_frame()
    data.loc[0, "q1"] = "Agree"
    data.loc[1, "q1"] = "n/a"
    with pytest.raises(ValueError, match=r"2 other value\(s\): 'Agree', 'n/a'"):
        survey.likert(data, columns=["q1"], levels=LEVELS)


def test_likert_numeric_codes_with_missing_values():
    data = pd.DataFrame({"q": [1, 2, 2, 5, None, 4]})  # float64 because of the missing value
    res = survey.likert(data, columns=["q"], levels=[1, 2, 3, 4, 5], nan_policy="omit")
    assert res["count"].tolist() == [1, 2, 0, 1, 1] and res["mean_score"].iloc[0] == pytest.approx(2.8)
    with pytest.raises(ValueError, match=r"1 other value\(s\): '7.0'"):
        survey.likert(pd.DataFrame({"q": [1.0, 7.0]}), columns=["q"], levels=[1, 2, 3, 4, 5])


def test_likert_nan_policy():
    data = _likert_frame()
    data.loc[0, "q1"] = None
    with pytest.raises(ValueError, match="nan_policy='omit'"):
        survey.likert(data, columns=["q1"], levels=LEVELS)
    res = survey.likert(data, columns=["q1"], levels=LEVELS, nan_policy="omit")
    assert (res["n"] == 11).all() and (res["n_dropped"] == 1).all()


def test_likert_compare_reuses_mann_whitney_and_kruskal():
    data = _likert_frame()
    res = survey.likert_compare(data, columns=["q1"], levels=LEVELS, between="team")
    scores = data.assign(score=data["q1"].map({lab: i + 1 for i, lab in enumerate(LEVELS)}))
    direct = tk.mann_whitney(scores, dv="score", between="team")
    assert res["test"].iloc[0] == "mann_whitney"
    assert res["p_value"].iloc[0] == direct["p_value"].iloc[0]
    assert res["statistic"].iloc[0] == direct["statistic"].iloc[0]
    three = data.assign(team=["PR", "IT", "HR"] * 4)
    res3 = survey.likert_compare(three, columns=["q1"], levels=LEVELS, between="team", n_resamples=199, seed=1)
    direct3 = tk.kruskal(three.assign(score=scores["score"]), dv="score", between="team", n_resamples=199, seed=1)
    assert res3["test"].iloc[0] == "kruskal" and res3["df"].iloc[0] == 2
    assert res3["p_value"].iloc[0] == direct3["p_value"].iloc[0]
    assert list(res3.columns) == list(res.columns) == list(survey.LIKERT_COMPARE_COLUMNS)


# ---------------------------------------------------------------------------------------------
# precision and sample size
# ---------------------------------------------------------------------------------------------
def test_precision_table_matches_proportion_ci_and_shrinks():
    res = survey.precision_table(proportions=[0.2, 0.35], n=[100, 200, 400, 2000])
    assert list(res.columns) == list(survey.PRECISION_COLUMNS) and len(res) == 8
    row = res[(res["proportion"] == 0.2) & (res["n"] == 100)].iloc[0]
    assert row["ci_low"] == pytest.approx(ref("prop_x20_n100_cl0.95", "wilson_low"), abs=TOL_CLOSED)
    assert row["ci_high"] == pytest.approx(ref("prop_x20_n100_cl0.95", "wilson_high"), abs=TOL_CLOSED)
    for _, g in res.groupby("proportion"):
        assert g["width"].is_monotonic_decreasing
    assert (res["margin_above"] > res["margin_below"]).all()  # Wilson is pulled towards 1/2


@pytest.mark.parametrize("p,m", [(0.2, 0.05), (0.5, 0.03), (0.05, 0.02), (0.35, 0.1)])
def test_sample_size_for_margin_is_the_smallest(p, m):
    n = survey.sample_size_for_margin(proportion=p, margin=m)
    at = survey.precision_table(proportions=[p], n=[n - 1, n])
    assert at["width"].iloc[1] / 2 <= m < at["width"].iloc[0] / 2
    wald = stats.norm.ppf(0.975) ** 2 * p * (1 - p) / m**2
    assert abs(n - wald) / wald < 0.35


def test_sample_size_two_polls_matches_power_prop_test():
    n = survey.sample_size_for_difference(proportion_a=0.35, proportion_b=0.25, design="two_polls")
    assert n == math.ceil(ref("power_prop_35_25", "n_per_group"))


def test_sample_size_same_poll_has_the_power_by_simulation(rng):
    n = survey.sample_size_for_difference(proportion_a=0.35, proportion_b=0.25)
    sims = rng.multinomial(n, [0.35, 0.25, 0.40], size=4000)
    b, c = sims[:, 0], sims[:, 1]
    reject = np.abs(b - c) / np.sqrt(b + c) > stats.norm.ppf(0.975)
    assert abs(reject.mean() - 0.80) < 4 * math.sqrt(0.8 * 0.2 / 4000)
    # lower power needs fewer respondents (the formula responds to `power`)
    assert n > survey.sample_size_for_difference(proportion_a=0.35, proportion_b=0.25, power=0.7)


# ---------------------------------------------------------------------------------------------
# bad input
# ---------------------------------------------------------------------------------------------
def test_percentage_instead_of_proportion_has_hint():
    with pytest.raises(ValueError, match="looks like a percentage; pass 0.2 instead"):
        survey.proportion_ci(proportion=20, n=100)
    with pytest.raises(ValueError, match="looks like a percentage; pass 0.35 instead"):
        survey.precision_table(proportions=[35])
    with pytest.raises(ValueError, match="looks like a percentage; pass 0.05 instead"):
        survey.sample_size_for_margin(proportion=0.2, margin=5)
    with pytest.raises(ValueError, match="looks like a percentage; pass 0.95 instead"):
        survey.proportion_ci(count=3, n=10, confidence_level=95)


def test_count_and_n_checks():
    with pytest.raises(ValueError, match="`count` must be at most n = 10; got 11"):
        survey.proportion_ci(count=11, n=10)
    with pytest.raises(ValueError, match="`n` must be an integer >= 1; got 0"):
        survey.proportion_ci(count=0, n=0)
    with pytest.raises(TypeError, match="not both"):
        survey.proportion_ci(count=2, proportion=0.2, n=10)
    with pytest.raises(TypeError, match="not both"):
        survey.proportion_ci(n=10)
    with pytest.raises(ValueError, match="one of 'wilson'"):
        survey.proportion_ci(count=2, n=10, method="wald")


def test_nan_answers_follow_nan_policy():
    data = poll_frame({"PR": 6, "IT": 3})
    data.loc[9] = None
    with pytest.raises(ValueError, match="1 missing value"):
        survey.proportions(data, column="owner")
    res = survey.proportions(data, column="owner", nan_policy="omit")
    assert (res["n"] == 9).all() and (res["n_dropped"] == 1).all()


def test_answers_outside_options_and_missing_column():
    data = poll_frame({"PR": 6, "It": 3})
    with pytest.raises(ValueError, match=r"1 other label\(s\): 'It'"):
        survey.proportions(data, column="owner", options=["PR", "IT"])
    with pytest.raises(ValueError, match="Did you mean 'owner'"):
        survey.proportions(data, column="Owner")
    with pytest.raises(TypeError, match="DataFrame"):
        survey.proportions(data["owner"], column="owner")


def test_inputs_are_not_modified():
    data = poll_frame({"PR": 6, "IT": 3})
    before = data.copy()
    survey.proportions(data, column="owner")
    survey.goodness_of_fit(data, column="owner", method="monte_carlo", n_resamples=99, seed=1)
    pd.testing.assert_frame_equal(data, before)
