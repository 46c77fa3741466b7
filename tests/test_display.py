"""toolkit.display: answers first, compact tables, compact letter display (checked against R's multcomp).

Data used here: R's reference letters (tests/reference/display/, see its README) and small SIMULATED
frames built from the seeded ``rng`` fixture (seed in tests/conftest.py) or ``tk.simulate_organization``
with the seed given at each call; the true effects are stated where a test depends on them.
"""
from __future__ import annotations

import dataclasses
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import toolkit as tk
from toolkit import display, plans
from toolkit._validation import ToolkitWarning
from toolkit.display import GroupAnswer, compact_letter_display
from toolkit.models.growth import fit_growth_model
from toolkit.power import SampleSize
from toolkit.reporting import Report, format_estimate, format_p, report
from toolkit.headlines import Headlines
from toolkit.robustness import SpecificationTest
from toolkit.stats.resampling import BootstrapResult, GroupBootstrap, PermutationResult

REF = Path(__file__).parent / "reference" / "display"


# ---------------------------------------------------------------------------------------------
# Compact letter display against multcomp::cld (R 4.2.2, multcomp 1.4-22)
# ---------------------------------------------------------------------------------------------
def _cases():
    letters = pd.read_csv(REF / "cld_letters.csv")
    return sorted(letters["case"].unique())


@pytest.mark.parametrize("case", _cases())
def test_letters_match_multcomp(case):
    pairs = pd.read_csv(REF / "cld_pairs.csv")
    letters = pd.read_csv(REF / "cld_letters.csv")
    pw = pairs[pairs["case"] == case].sort_values("order")
    ref = letters[letters["case"] == case].sort_values("position")
    table = pd.DataFrame({"group_a": pw["a"], "group_b": pw["b"], "p_value": pw["p_value"]})
    # R's cld calls a pair different when p < level (0.05); the committed flags say which ones it used
    assert ((pw["p_value"] < 0.05) == pw["significant"]).all()
    got = compact_letter_display(table, alpha=0.05, levels=list(ref["level"]))
    assert list(got["group"]) == list(ref["level"])
    assert list(got["letters"]) == list(ref["letters"])   # letters are exact strings: no tolerance


def test_letters_are_shared_exactly_when_not_different():
    # the defining property, checked on every reference case: two groups share a letter <=> not significant
    pairs = pd.read_csv(REF / "cld_pairs.csv")
    letters = pd.read_csv(REF / "cld_letters.csv")
    for case, pw in pairs.groupby("case"):
        lv = letters[letters["case"] == case].set_index("level")["letters"]
        for r in pw.itertuples():
            share = bool(set(lv[r.a]) & set(lv[r.b]))   # single-character letters: at most 12 levels here
            assert share == (not r.significant), (case, r.a, r.b)


def test_letter_display_options_and_errors():
    pw = pd.DataFrame({"group_a": ["A", "A", "B"], "group_b": ["B", "C", "C"], "p_value": [0.001, 0.2, 0.3],
                       "p_adjusted": [np.nan, np.nan, np.nan]})
    out = compact_letter_display(pw)       # all-NaN p_adjusted: falls back to p_value
    assert out.attrs["p_column"] == "p_value" and dict(zip(out["group"], out["letters"])) == \
        {"A": "a", "B": "b", "C": "ab"}
    # NaN p-values are "not shown to differ"
    nan = compact_letter_display(pw.assign(p_value=np.nan), p_column="p_value")
    assert set(nan["letters"]) == {"a"}
    # the level order decides who gets "a"
    assert compact_letter_display(pw, levels=["C", "B", "A"])["letters"].tolist() == ["ab", "a", "b"]
    with pytest.raises(ValueError, match="every pair"):
        compact_letter_display(pw.iloc[:2])
    with pytest.raises(ValueError, match="p_column"):
        compact_letter_display(pw, p_column="nope")
    with pytest.raises(ValueError, match="group_a"):
        compact_letter_display(pd.DataFrame({"x": [1]}))


# ---------------------------------------------------------------------------------------------
# Report and the shorter APA sentences
# ---------------------------------------------------------------------------------------------
def test_report_is_a_string_rendered_as_markdown():
    r = Report("Line one with engagement_rate [a].\n- reason *one*\n- reason two")
    assert isinstance(r, str) and r == "Line one with engagement_rate [a].\n- reason *one*\n- reason two"
    md = r._repr_markdown_()
    assert md.splitlines() == ["Line one with engagement\\_rate \\[a\\].", "", "- reason \\*one\\*",
                               "- reason two"]


def test_report_never_prints_p_zero_and_states_shared_numbers_once():
    pairs = pd.DataFrame({"test": "permutation", "dv": "y", "between": "department",
                          "group_a": ["A", "A", "B"], "group_b": ["B", "C", "C"], "estimate": [1.5, -2.0, 0.25],
                          "estimate_type": "mean_difference", "statistic": [1.5, -2.0, 0.25],
                          "p_value": [0.0, 1e-12, 0.5], "p_adjusted": [0.0, 3e-12, 0.5], "p_adjust": "holm",
                          "n": 60, "n_dropped": 2, "confidence_level": 0.95})
    text = report(pairs)
    assert isinstance(text, Report)
    lines = text.splitlines()
    assert lines[0] == "Permutation test: 3 contrasts of y by department (N = 60, 2 dropped; adjusted p-values: holm)."
    assert "p = 0" not in text and "p = .000" not in text and text.count("p < .001") == 4
    assert "(N = 60" not in "\n".join(lines[1:])          # said once, in the lead
    assert lines[1].count("1.50") == 1                     # a permutation statistic is its estimate: once
    assert format_p(0.0) == "p < .001" and format_p(1.0) == "p > .999"


def test_rounding_lives_in_reporting():
    assert [format_estimate(v) for v in (1234.5678, 0.000412, -3.14159)] == ["1,234.57", "0.00041", "-3.14"]


# ---------------------------------------------------------------------------------------------
# Answers: never confidently wrong
# ---------------------------------------------------------------------------------------------
def _groups(est, n=10):
    est = np.asarray(est, float)
    return pd.DataFrame({"group": [f"G{i}" for i in range(est.size)], "estimate": est, "ci_low": est - 1,
                         "ci_high": est + 1, "n": n})


def _all_pairs(labels, significant):
    rows = [(a, b) for i, a in enumerate(labels) for b in labels[i + 1:]]
    return pd.DataFrame({"group_a": [a for a, _ in rows], "group_b": [b for _, b in rows],
                         "p_adjusted": [0.001 if (a, b) in significant or (b, a) in significant else 0.6
                                        for a, b in rows]})


def test_answer_names_the_top_group_and_its_peers():
    pw = _all_pairs(["G0", "G1", "G2"], {("G0", "G2"), ("G1", "G2")})
    a = GroupAnswer(between="department", metric="mean likes", groups=_groups([5.0, 6.0, 1.0]), n_label="accounts",
                    pairwise=pw, overall_p=0.002, method="Unit of analysis: 30 accounts.")
    s = a.sentences()
    assert s[0] == "G1 has the highest mean likes: 6.00, 95% CI [5.00, 7.00]."
    assert s[1].startswith("G1 cannot be told apart from G0 at α = .05")
    t = a.table()
    assert list(t["group"]) == ["G1", "G0", "G2"] and list(t["letters"]) == ["a", "a", "b"]


def test_answer_refuses_a_winner_when_nothing_differs_or_nothing_can():
    g = _groups([5.0, 6.0, 1.0])
    none = GroupAnswer(between="department", metric="mean likes", groups=g, n_label="posts",
                       pairwise=_all_pairs(["G0", "G1", "G2"], set()), overall_p=0.3)
    assert none.sentences()[0].startswith("The data cannot tell these departments apart at α = .05")
    assert "not significantly higher" in none.sentences()[1]
    tiny = dataclasses.replace(none, overall_p=0.3, min_p=1 / 3)
    assert tiny.sentences()[0].startswith("The data cannot tell these departments apart: with these group sizes")
    unid = dataclasses.replace(none, identifiable=False, not_identifiable="every department has one account.")
    assert unid.sentences()[0] == "The data cannot tell these departments apart: every department has one account."
    assert unid.letters() is None
    nan = dataclasses.replace(none, groups=_groups([np.nan, np.nan, np.nan]))
    assert nan.sentences()[0].startswith("No department has an estimate")


def test_answer_says_when_median_and_mean_favour_different_groups():
    typical = pd.DataFrame({"group": ["A", "B"], "mean": [2.0, 9.0], "median": [3.0, 0.0]})
    a = GroupAnswer(between="account", metric="median likes", groups=_groups([3.0, 0.0]), n_label="posts",
                    pairwise=_all_pairs(["G0", "G1"], {("G0", "G1")}), typical=typical)
    text = " ".join(a.sentences())
    assert "The typical post and the average post favour different accounts: A has the highest median (3.00) " \
           "but B has the highest mean (9.00)" in text
    same = dataclasses.replace(a, typical=typical.assign(mean=[9.0, 2.0]))
    assert "favour different" not in " ".join(same.sentences())


def test_disagreement_on_a_comparison_of_skewed_groups(rng):
    # SIMULATED: group "steady" has many moderate values (median 5), "viral" mostly zeros and a few huge
    # values (median 0, mean about 30): the rank answer favours steady, the mean answer viral.
    steady = rng.poisson(5, 60).astype(float)
    viral = np.where(rng.random(60) < 0.15, rng.poisson(200, 60), 0).astype(float)
    df = pd.DataFrame({"account": ["steady"] * 60 + ["viral"] * 60, "likes": np.r_[steady, viral]})
    res = tk.compare_groups(df, dv="likes", between="account", analysis="brunner_munzel", n_resamples=199, seed=1)
    lines = res.summary().splitlines()
    assert lines[0].startswith("steady ranks highest (mean rank of posts, which the rank test compares)")
    assert lines[3].startswith("The typical post and the average post favour different accounts: steady's posts "
                               "rank highest (mean rank) but viral has the highest mean")


# ---------------------------------------------------------------------------------------------
# The result protocol over every result class (types, answer first, edge cases)
# ---------------------------------------------------------------------------------------------
def _frame(rng, k, n, shift=0.0):
    return pd.concat([pd.DataFrame({"department": f"D{i:02d}", "y": rng.normal(10 + shift * i, 2, n)})
                      for i in range(k)], ignore_index=True)


def _quiet(fn, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ToolkitWarning)
        return fn(*args, **kwargs)


@pytest.fixture(scope="module")
def results():
    rng = np.random.default_rng(20261205)   # SIMULATED data, seed here
    out = {}
    out["comparison_3"] = tk.compare_groups(_frame(rng, 3, 30, shift=3.0), dv="y", between="department",
                                            n_resamples=199, seed=1)
    out["comparison_2"] = tk.compare_groups(_frame(rng, 2, 30), dv="y", between="department", n_resamples=199,
                                            seed=1)
    out["comparison_30"] = tk.compare_groups(_frame(rng, 30, 12), dv="y", between="department",
                                             n_resamples=199, seed=1)
    out["comparison_nan"] = dataclasses.replace(
        out["comparison_3"], descriptives=out["comparison_3"].descriptives.assign(mean=np.nan, mean_ci_low=np.nan,
                                                                                   mean_ci_high=np.nan))
    one = tk.simulate_organization(n_accounts_per_department=1, departments=["Marketing", "PR", "IT"],
                                   mixed_share=0.0, seed=5)
    out["comparison_unidentifiable"] = _quiet(tk.compare_groups, one.data, dv="comments", between="department",
                                              subject="account", exposure="reach", n_resamples=199, seed=1)
    out["cluster_unidentifiable"] = tk.cluster_level_comparison(one.data, dv="comments", between="department",
                                                                subject="account", exposure="reach", seed=1)
    org = tk.simulate_organization(n_accounts_per_department=3, departments=["Marketing", "PR", "IT"],
                                   mixed_share=0.0, seed=3)
    out["cluster"] = tk.cluster_level_comparison(org.data, dv="comments", between="department", subject="account",
                                                 exposure="reach", seed=1)
    out["cluster_comparison"] = _quiet(tk.compare_groups, org.data, dv="comments", between="department",
                                       subject="account", exposure="reach", seed=1)
    two = tk.simulate_organization(n_accounts_per_department=2, departments=["Marketing", "PR"], mixed_share=0.0,
                                   seed=4)
    out["cluster_2x2"] = tk.cluster_level_comparison(two.data, dv="comments", between="department",
                                                     subject="account", exposure="reach", seed=1)
    out["comparison_2x2"] = _quiet(tk.compare_groups, two.data, dv="comments", between="department",
                                   subject="account", exposure="reach", seed=1)
    many = tk.simulate_organization(n_accounts_per_department=2, departments=[f"Dept {i:02d}" for i in range(30)],
                                    mixed_share=0.0, seed=6)
    out["cluster_30"] = tk.cluster_level_comparison(many.data, dv="comments", between="department",
                                                    subject="account", exposure="reach", seed=1, n_resamples=199)
    out["cluster_nan"] = dataclasses.replace(out["cluster"], groups=out["cluster"].groups.assign(
        rate=np.nan, rate_ci_low=np.nan, rate_ci_high=np.nan))
    out["model"] = tk.fit_engagement_model(org.data, dv="comments", between="department", exposure="reach")
    panel = pd.read_csv(Path(__file__).parent / "reference" / "growth" / "panel.csv", parse_dates=["sampled_on"])
    out["growth"] = fit_growth_model(panel, random_slope=False)
    curve = pd.DataFrame({"parameter": "n_accounts_per_department", "value": [2, 8], "power": [0.15, 0.95],
                          "ci_low": [0.05, 0.76], "ci_high": [0.36, 0.99]})
    out["sample_size"] = SampleSize(n_required=8, n_optimistic=8, n_conservative=None, target_power=0.8, curve=curve)
    out["sample_size_none"] = SampleSize(n_required=None, n_optimistic=None, n_conservative=None, target_power=0.8,
                                         curve=curve.iloc[:1])
    tests = pd.DataFrame({"statistic": ["median_estimate", "share_significant", "share_dominant_direction",
                                        "share_significant_dominant"], "observed": [0.2, 0.5, 0.9, 0.5],
                          "null_mean": [0.05, 0.1, 0.6, 0.08], "p_value": [0.02, 0.01, 0.2, 0.005],
                          "n_resamples": 199, "resample_unit": "subject"})
    spec_curve = pd.DataFrame({"spec_id": [0, 1], "status": ["ok", "failed"], "significant": [True, False]})
    out["specification"] = SpecificationTest(curve=spec_curve, tests=tests, null=pd.DataFrame())
    h = Headlines(notebook="01-example")
    h.record("mean_likes", 12.5)
    h.record("label", "IT")
    out["headlines"] = h
    out["headlines_empty"] = Headlines(notebook="02-empty")
    # the simulated plan of plans/h-departments.yaml (its data seed and true effects are in the file)
    plan = plans.load_plan(Path(__file__).resolve().parents[1] / "plans" / "h-departments.yaml")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ToolkitWarning)   # the few-accounts caution of negbin_glmm hypotheses
        out["plan"] = plans.run_plan(plans.plan_data(plan), plan=plan, seed=1)
    none = out["plan"].table.assign(p_value=[np.nan, 0.2, 0.3, 0.4], p_adjusted=[np.nan, 0.4, 0.4, 0.4],
                                    decision="not supported")
    out["plan_none"] = plans.PlanResult(plan=plan, table=none, plan_changed="plan changed after results were "
                                        "produced (hash aaaaaaaaaaaa → bbbbbbbbbbbb)")
    out["permutation"] = PermutationResult(statistic=1.25, p_value=0.0004, n_resamples=9999, alternative="two-sided")
    out["bootstrap"] = BootstrapResult(estimate=0.3, ci_low=np.nan, ci_high=np.nan, confidence_level=0.95,
                                       method="bca", n_resamples=999)
    out["group_bootstrap"] = GroupBootstrap(statistic="mean", estimate=np.array([1.0, 2.0]),
                                            ci_low=np.array([0.5, np.nan]), ci_high=np.array([1.5, np.nan]),
                                            degenerate=np.array([False, False]), confidence_level=0.95,
                                            method="bca", n_resamples=999)
    return out


PROTOCOL_CASES = ["comparison_3", "comparison_2", "comparison_30", "comparison_nan", "comparison_unidentifiable",
                  "comparison_2x2", "cluster", "cluster_comparison", "cluster_unidentifiable", "cluster_2x2",
                  "cluster_30",
                  "cluster_nan", "model", "growth", "sample_size", "sample_size_none", "specification", "headlines",
                  "headlines_empty", "permutation", "bootstrap", "group_bootstrap", "plan", "plan_none"]


def test_every_result_class_is_covered(results):
    classes = {type(results[c]).__name__ for c in PROTOCOL_CASES}
    assert classes == set(display._BUILDERS)


@pytest.mark.parametrize("case", PROTOCOL_CASES)
def test_result_protocol(results, case):
    import html

    res = results[case]
    text = res.summary()
    assert isinstance(text, str) and text == str(res)
    first = text.splitlines()[0]
    assert first.endswith((".", ")")) and not first.startswith(("Unit of analysis", "More", "-"))
    if type(res).__name__ != "Headlines":
        assert repr(res) == text
    full = res.summary(full=True)
    assert isinstance(full, str) and full.startswith(text.split("\n\nMore")[0])
    page = res._repr_html_()
    assert isinstance(page, str) and page.startswith("<p>" + html.escape(first))
    rep = res.report()
    assert isinstance(rep, Report) and isinstance(rep, str) and isinstance(rep._repr_markdown_(), str)
    assert isinstance(res.to_frame(), pd.DataFrame)


@pytest.mark.parametrize("case", ["comparison_unidentifiable", "cluster_unidentifiable", "cluster_2x2",
                                  "comparison_2x2",
                                  "cluster", "comparison_2", "comparison_nan", "cluster_nan"])
def test_uncertain_results_never_crown_a_winner(results, case):
    first = results[case].summary().splitlines()[0]
    assert first.startswith(("The data cannot tell", "No department has", "No account has")), first
    assert "has the highest" not in first


def test_clear_difference_names_the_winner_with_letters(results):
    # SIMULATED: department means 10, 13, 16 (sd 2, 30 posts each): D02 is highest and differs from both
    res = results["comparison_3"]
    lines = res.summary().splitlines()
    assert lines[0].startswith("D02 has the highest mean y: ")
    assert lines[1] == "D02 differs from every other department at α = .05 (adjusted p-values)."
    assert lines[2].startswith("Unit of analysis: 90 posts; test: Welch's ANOVA (p < .001); pairs: Games–Howell")
    table = res.summary().split("\n\n")[1]
    assert table.splitlines()[0].split() == ["department", "mean", "y", "95%", "CI", "letters", "posts"]


def test_two_groups_and_thirty_groups(results):
    two = results["comparison_2"].summary().splitlines()
    assert "Welch's t-test" in two[2]
    thirty = results["comparison_30"].summary()
    assert "letters" not in thirty.split("\n\n")[1].splitlines()[0]   # no pairs, no letters
    grand = results["cluster_30"].summary()
    assert "compared with the grand mean" in grand or grand.startswith("The data cannot tell")


def test_a_design_that_cannot_reach_significance_says_so(results):
    for case in ("cluster_2x2", "comparison_2x2"):   # 2 departments x 2 accounts: smallest p = 1/3
        first = results[case].summary().splitlines()[0]
        assert first == ("The data cannot tell these departments apart: with these group sizes no difference can "
                         "be significant at α = .05 (the smallest possible p-value is 0.33).")


def test_plan_result_answers_first(results):
    text = results["plan"].summary()
    first, second = text.splitlines()[:2]
    assert first == ("4 of the 4 confirmatory hypotheses of plan 'h-departments' are supported after the correction "
                     "within each family (adjusted p ≤ the family's α): H1, H2, H3 and H4.")
    assert second.startswith("Plan 'h-departments' (sha256 ") and "primary (Holm-adjusted, α = .05)" in second
    assert text.split("\n\n")[1].splitlines()[0].split()[:3] == ["hypothesis", "family", "analysis"]
    pd.testing.assert_frame_equal(results["plan"].to_frame(), results["plan"].table)
    assert len(results["plan"].report().splitlines()) == 2 + 4   # the answer, then one line per hypothesis
    lines = results["plan_none"].summary().splitlines()
    assert lines[0].startswith("None of the 4 confirmatory hypotheses of plan 'h-departments' is supported")
    assert lines[1] == "Warning: plan changed after results were produced (hash aaaaaaaaaaaa → bbbbbbbbbbbb)."
    assert lines[2] == "No p-value for H1: not supported for want of a test, not shown false (see the table)."


def test_unidentifiable_comparison_says_why(results):
    text = results["comparison_unidentifiable"].summary()
    assert text.startswith("The data cannot tell these departments apart: every department has a single account")
    assert "letters" not in text.split("\n\n")[1].splitlines()[0]


def test_compare_groups_display_keeps_full_tables_on_request(results):
    res = results["comparison_3"]
    full = res.summary(full=True)
    for title in ("Why this analysis:", "Design checks:", "Descriptives:", "Omnibus test:", "Contrasts:",
                  "APA sentences:"):
        assert title in full
    assert "<details><summary>Details</summary>" in res._repr_html_()
    assert res.report().startswith("Unit of analysis: post. Analysis: welch.")


def test_readme_example_reads_answer_first_and_renders_markdown():
    # README.md's example (SIMULATED organisation, seed=1): print(res) leads with the answer; res.report()
    # is a str that Jupyter renders as Markdown instead of showing it escaped.
    org = tk.simulate_organization(mixed_share=0, seed=1)
    posts = tk.add_metrics(org.data)
    res = tk.compare_groups(posts, dv="comments", between="department", subject="account", exposure="reach",
                            seed=1)
    first = str(res).splitlines()[0]
    assert first.startswith("The data cannot tell these departments apart at α = .05")
    rep = res.report()
    assert isinstance(rep, Report) and rep.startswith("Unit of analysis: account. Analysis: cluster_level.")
    md = rep._repr_markdown_()
    assert md.startswith("Unit of analysis: account. Analysis: cluster\\_level.\n\n- ")
    # 28 contrasts, one sentence each, after one lead sentence that states N once
    assert sum(line.startswith("Account-level t contrast, comments:") for line in rep.splitlines()) == 28
    assert rep.count("(N = 48") == 2     # the omnibus sentence and the contrasts' lead sentence


def test_real_export_where_typical_and_average_post_favour_different_sellers():
    # UCI Live sellers (Thailand), shared mirror, with seller codes (tests/_r_output.py): for reactions, the
    # seller whose posts rank highest (S06, what Kruskal–Wallis/Dunn compare) is not the seller with the highest
    # mean (S08, pulled up by a few very large posts). The answer names the rank-based winner and says so.
    from _r_output import thai_with_sellers

    posts = thai_with_sellers()
    res = tk.compare_groups(posts, dv="num_reactions", between="seller", n_resamples=199, seed=1)
    assert res.analysis == "kruskal"
    lines = res.summary().splitlines()
    assert lines[0].startswith("S06 ranks highest (mean rank of posts, which the rank test compares); its median "
                               "num_reactions is 670.00")
    assert lines[2].startswith("Unit of analysis: 7,050 posts; test: Kruskal–Wallis test (p < .001)")
    assert lines[3].startswith("The typical post and the average post favour different sellers: S06's posts rank "
                               "highest (mean rank) but S08 has the highest mean")
    means = posts.groupby("seller")["num_reactions"].mean()
    ranks = posts["num_reactions"].rank().groupby(posts["seller"]).mean()
    assert means.idxmax() == "S08" and ranks.idxmax() == "S06"      # the data behind the sentence
    table = res.summary().split("\n\n")[1].splitlines()
    assert table[0].split()[:4] == ["seller", "median", "num_reactions", "95%"] and "mean rank" in table[0]


def test_overall_difference_without_a_separable_pair_is_said_plainly():
    a = GroupAnswer(between="department", metric="mean likes", groups=_groups([5.0, 6.0, 1.0]), n_label="posts",
                    pairwise=_all_pairs(["G0", "G1", "G2"], set()), overall_p=0.03)
    s = a.sentences()
    assert s[0] == "G1 has the highest mean likes: 6.00, 95% CI [5.00, 7.00]."
    assert s[1] == ("G1 cannot be told apart from any other department at α = .05 (adjusted p-values), although "
                    "the test of any difference finds one (p = .030).")
    assert set(a.table()["letters"]) == {"a"}
