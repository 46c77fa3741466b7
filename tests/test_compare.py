"""compare_groups: design checks, the choice and its reasons, nesting, no silent switching."""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import toolkit as tk
from toolkit._validation import ToolkitWarning
from toolkit.stats.icc import icc_anova


def _frame(rng, sizes, sampler, accounts_per_group=None):
    rows = []
    for i, n in enumerate(sizes):
        vals = sampler(rng, i, n)
        acc = [f"g{i}-a{j % accounts_per_group}" for j in range(n)] if accounts_per_group else None
        rows.append(pd.DataFrame({"department": f"D{i}", "y": vals, **({"acct": acc} if acc else {})}))
    return pd.concat(rows, ignore_index=True)


def normal(rng, i, n):
    return rng.normal(10 + i, 2 + i, size=n)


def skewed(rng, i, n):
    return rng.negative_binomial(0.5, 0.5 / (0.5 + 3 + i), size=n).astype(float)


def test_icc_matches_shrout_fleiss_1979():
    # Shrout & Fleiss (1979), Psychological Bulletin 86(2), 420-428, doi:10.1037/0033-2909.86.2.420,
    # Table 2 data (6 targets x 4 judges); Table 4: BMS = 11.24, WMS = 6.26, ICC(1,1) = .17.
    ratings = np.array([[9, 2, 5, 8], [6, 1, 3, 2], [8, 4, 6, 8], [7, 1, 2, 6], [10, 5, 6, 9], [6, 2, 4, 7]], float)
    targets = np.repeat(np.arange(6), 4)
    icc, m0 = icc_anova(ratings.ravel(), targets)
    expected = (11.24 - 6.26) / (11.24 + 3 * 6.26)  # from the published mean squares (2 decimals)
    assert m0 == pytest.approx(4.0)
    assert icc == pytest.approx(expected, abs=5e-4)  # mean squares printed to 0.005
    assert round(icc, 2) == 0.17


def test_auto_chooses_welch_for_well_behaved_data(rng):
    df = _frame(rng, [40, 50, 60], normal)
    res = tk.compare_groups(df, dv="y", between="department", seed=1, n_resamples=199)
    assert res.analysis == "welch" and res.unit == "post"
    assert res.omnibus["test"].item() == "welch_anova"
    assert set(res.pairwise["test"]) == {"games_howell"} and len(res.pairwise) == 3
    assert "Welch" in res.reasons[0]
    flags = res.design.set_index("check")["flag"]
    assert not flags[["smallest group", "max |skewness|", "max share of zeros", "zero-variance groups"]].any()


def test_auto_chooses_ranks_for_skewed_zero_heavy_counts(rng):
    df = _frame(rng, [80, 80, 80], skewed)
    res = tk.compare_groups(df, dv="y", between="department", seed=1, n_resamples=199)
    assert res.analysis == "kruskal"
    assert res.omnibus["test"].item() == "kruskal" and set(res.pairwise["test"]) == {"dunn"}
    assert "skewed" in res.reasons[0] and "count model" in res.reasons[0]


def test_auto_chooses_permutation_for_small_groups(rng):
    df = _frame(rng, [6, 7, 8], normal)
    res = tk.compare_groups(df, dv="y", between="department", seed=1, n_resamples=199)
    assert res.analysis == "permutation"
    assert res.omnibus["test"].item() == "permutation_omnibus"
    assert "smallest group has 6" in res.reasons[0]


def test_explicit_analysis_is_never_switched(rng):
    df = _frame(rng, [80, 80, 80], skewed)
    with pytest.warns(ToolkitWarning, match="suggest analysis='kruskal' rather than 'welch'"):
        res = tk.compare_groups(df, dv="y", between="department", analysis="welch", seed=1, n_resamples=199)
    assert res.analysis == "welch" and res.omnibus["test"].item() == "welch_anova"
    assert res.reasons[0] == "Analysis 'welch' was requested."


def test_two_groups_use_two_group_tests(rng):
    df = _frame(rng, [40, 45], normal)
    res = tk.compare_groups(df, dv="y", between="department", seed=1, n_resamples=199)
    assert res.omnibus.empty and res.pairwise["test"].item() == "welch_t"
    res = tk.compare_groups(df, dv="y", between="department", analysis="brunner_munzel", seed=1)
    assert res.pairwise["test"].item() == "brunner_munzel"
    with pytest.raises(ValueError, match="only with exactly two groups"):
        tk.compare_groups(_frame(rng, [20, 20, 20], normal), dv="y", between="department",
                          analysis="brunner_munzel")


TWO_OR_MORE = [("auto", {}), ("welch", {}), ("anova", {}), ("kruskal", {}), ("permutation", {}),
               ("count_model", {"exposure": "reach"}), ("cluster_level", {"exposure": "reach", "subject": "account"}),
               ("auto", {"subject": "account"})]


@pytest.mark.parametrize("analysis, options", TWO_OR_MORE, ids=lambda v: str(v))
def test_two_groups_have_the_columns_of_k_groups(analysis, options):
    # Options change values, never columns (docs/DEVELOPING.md): the number of groups is an option of the data.
    # Issue 16 found .omnibus with 0 columns and .pairwise with 23 of the 25 schema columns for two groups.
    from toolkit.stats.schema import OMNIBUS_COLUMNS, PAIRWISE_COLUMNS

    # SIMULATED: 3 departments x 4 accounts x 5 posts, seed 16 (simulate_organization's default effects)
    org = tk.simulate_organization(n_accounts_per_department=4, posts_per_account=5, mixed_share=0, seed=16,
                                   departments=["Marketing", "PR", "IT"]).data
    two = org[org["department"].isin(["Marketing", "PR"])]
    two = two.assign(department=two["department"].astype(str))
    shapes = {}
    for name, d in (("three", org), ("two", two)):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ToolkitWarning)   # design suggestions: not what is tested here
            res = tk.compare_groups(d, dv="likes", between="department", analysis=analysis, n_resamples=99, seed=1,
                                    **options)
        assert list(res.omnibus.columns) == list(OMNIBUS_COLUMNS), name
        assert list(res.pairwise.columns) == list(PAIRWISE_COLUMNS), name
        shapes[name] = (len(res.omnibus), list(res.to_frame().columns))
        assert isinstance(res.summary(), str) and res.to_frame().shape[0] == len(res.omnibus) + len(res.pairwise)
    assert shapes["three"][1] == shapes["two"][1]
    assert shapes["three"][0] == 1


def test_subject_level_analysis_counts_each_account_once(rng):
    df = _frame(rng, [60, 60, 60], normal, accounts_per_group=6)
    res = tk.compare_groups(df, dv="y", between="department", subject="acct", seed=1, n_resamples=199)
    assert res.unit == "acct"
    assert len(res.analysed_data) == 18 and res.analysed_data["n_posts"].sum() == 180
    expected = df.groupby("acct")["y"].mean()
    got = res.analysed_data.set_index("acct")["y"]
    pd.testing.assert_series_equal(got.sort_index(), expected.sort_index(), check_names=False)
    assert res.descriptives["n"].tolist() == [6, 6, 6]
    assert "ICC of the outcome" in res.design["check"].tolist()
    assert "nested in acct" in res.reasons[0]


def test_crossed_subjects_are_refused(rng):
    df = _frame(rng, [30, 30], normal, accounts_per_group=3)
    df.loc[0, "acct"] = "g1-a0"  # one account now posts for two departments
    with pytest.raises(ValueError, match="nested in `between`.*mixed model"):
        tk.compare_groups(df, dv="y", between="department", subject="acct")


def test_pseudo_replication_warning(rng):
    df = _frame(rng, [30, 30, 30], normal, accounts_per_group=3).rename(columns={"acct": "account"})
    with pytest.warns(ToolkitWarning, match="pseudo-replication.*subject='account'"):
        tk.compare_groups(df, dv="y", between="department", seed=1, n_resamples=199)


def test_report_and_displays(rng):
    df = _frame(rng, [40, 50, 60], normal)
    res = tk.compare_groups(df, dv="y", between="department", seed=1, n_resamples=199)
    text = res.report()
    assert text.startswith("Unit of analysis: post. Analysis: welch.")
    assert "Welch's ANOVA of y by department: F(2, " in text
    assert text.count("Games–Howell, y:") == 3
    assert "<h4>Comparing y by department" in res._repr_html_()
    assert len(res.to_frame()) == 4


def test_bad_analysis_name(rng):
    df = _frame(rng, [20, 20], normal)
    with pytest.raises(ValueError, match="`analysis` must be one of 'auto'"):
        tk.compare_groups(df, dv="y", between="department", analysis="ttest")


def test_reference_contrasts(rng):
    df = _frame(rng, [40, 50, 60], normal)
    res = tk.compare_groups(df, dv="y", between="department", reference="D0", seed=1, n_resamples=199)
    assert res.analysis == "welch" and len(res.pairwise) == 2
    assert set(res.pairwise["p_adjust"]) == {"holm"} and "Holm-adjusted over the 2 comparisons" in res.reasons[-1]


def test_kruskal_path_is_reproducible_for_a_seed(rng):
    df = _frame(rng, [80, 80, 80], skewed)
    a = tk.compare_groups(df, dv="y", between="department", seed=3, n_resamples=199)
    b = tk.compare_groups(df, dv="y", between="department", seed=3, n_resamples=199)
    assert a.analysis == "kruskal"
    pd.testing.assert_frame_equal(a.to_frame(), b.to_frame())


def test_no_pseudo_replication_warning_for_a_single_account(rng):
    import warnings

    df = _frame(rng, [30, 30], normal).assign(account="one-brand")
    with warnings.catch_warnings():
        warnings.simplefilter("error", ToolkitWarning)
        tk.compare_groups(df, dv="y", between="department", seed=1)


@pytest.fixture(scope="module")
def small_org():
    return tk.simulate_organization(n_accounts_per_department=4, posts_per_account=20, seed=11)


def test_crossed_accounts_fall_back_to_the_glmm_and_say_why(small_org):
    # mixed-team posts put accounts in two `department` levels: accounts are not nested, so no cluster-level analysis
    data = small_org.data
    with pytest.warns(ToolkitWarning, match="as few as 4 account"):
        res = tk.compare_groups(data, dv="comments", between="department", subject="account", exposure="reach",
                                n_resamples=199, seed=1)
    assert res.analysis == "count_model" and res.unit == "post (account random intercept)"
    assert "not nested" in res.reasons[0]
    assert "log(reach) offset" in res.reasons[1] and "random intercept per account" in res.reasons[1]
    direct = tk.fit_engagement_model(data, dv="comments", between="department", exposure="reach",
                                     subject="account")
    np.testing.assert_allclose(res.pairwise["estimate"], direct.contrasts["rate_ratio"], rtol=1e-12)
    np.testing.assert_allclose(res.pairwise["p_adjusted"], direct.contrasts["p_adjusted"], rtol=1e-12)
    assert res.omnibus["p_value"].item() == pytest.approx(direct.test["p_value"].item(), rel=1e-12)
    assert list(res.pairwise.columns) == list(tk.stats.schema.PAIRWISE_COLUMNS)
    assert res.model is not None and set(res.pairwise["test"]) == {"negbin_glmm"}
    text = res.report()
    assert "Likelihood-ratio test of comments by department: χ²(" in text and "rate ratio = " in text


def test_count_model_without_subject_is_a_glm(small_org):
    data = small_org.data
    with pytest.warns(ToolkitWarning, match="pseudo-replication"):
        res = tk.compare_groups(data, dv="likes", between="department", exposure="reach", analysis="count_model",
                                n_resamples=199, seed=1)
    assert res.unit == "post" and set(res.pairwise["test"]) == {"negbin_glm"}


def test_exposure_with_another_analysis_is_refused(small_org):
    with pytest.raises(ValueError, match="Only the count analyses use an exposure"):
        tk.compare_groups(small_org.data, dv="likes", between="department", exposure="reach", analysis="welch")


def test_report_of_a_model_test_table_without_dv_columns(small_org):
    model = tk.fit_engagement_model(small_org.data, dv="comments", between="department", exposure="reach")
    text = tk.report(model.test)
    assert text.startswith("Likelihood-ratio test: χ²(") and "None" not in text
