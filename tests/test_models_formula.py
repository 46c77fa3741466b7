"""Models by formula (toolkit.models: formula API, interactions, emmeans with `by`) against R.

Reference values: tests/reference/models_formula/ (formula_reference.R, its outputs and README).
"""
from __future__ import annotations

import os
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

import toolkit as tk
from toolkit.models import emmeans, fit_engagement_model
from toolkit.models.formula import parse_formula, parse_zero_formula
from _r_output import read_r_csv  # noqa: E402  (tests/ is on sys.path)

REF = Path(__file__).parent / "reference" / "models_formula"
requires_mirror = pytest.mark.skipif(not os.environ.get("TOOLKIT_DATA_MIRROR"),
                                     reason="real datasets need TOOLKIT_DATA_MIRROR (make test sets it)")
INTERACTION = "comments ~ Type * Paid + offset(log(reach))"


def _ref(name) -> pd.DataFrame:
    return read_r_csv(REF / name)


def facebook() -> pd.DataFrame:
    """UCI Facebook metrics as the R script reads them (Paid as a factor unpaid/paid; one post lacks Paid)."""
    raw = pd.read_csv(Path(os.environ["TOOLKIT_DATA_MIRROR"]) / "uci_facebook_metrics" / "dataset_Facebook.csv",
                      sep=";")
    paid = pd.Series(np.where(raw["Paid"] == 1, "paid", "unpaid"), dtype="object").where(raw["Paid"].notna())
    return pd.DataFrame({"comments": raw["comment"], "reach": raw["Lifetime Post Total Reach"], "Type": raw["Type"],
                         "Paid": pd.Categorical(paid, categories=["unpaid", "paid"]), "month": raw["Post Month"],
                         "weekday": raw["Post Weekday"], "likes": raw["Page total likes"]})


@pytest.fixture(scope="module")
def fb():
    if not os.environ.get("TOOLKIT_DATA_MIRROR"):
        pytest.skip("needs TOOLKIT_DATA_MIRROR")
    return facebook()


@pytest.fixture(scope="module")
def nb_fit(fb):
    return fit_engagement_model(fb, formula=INTERACTION, nan_policy="omit")


@pytest.fixture(scope="module")
def glmm_fit(fb):
    return fit_engagement_model(fb, formula=INTERACTION + " + (1|month)", nan_policy="omit")


def _r_terms(names):
    """R's coefficient names (TypePhoto:Paidpaid) in the toolkit's (Type[T.Photo]:Paid[T.paid])."""
    out = []
    for n in names:
        parts = []
        for piece in n.split(":"):
            if piece == "(Intercept)":
                parts.append("Intercept")
                continue
            for var in ("Type", "Paid", "month"):
                if piece.startswith(var):
                    parts.append(f"{var}[T.{piece[len(var):]}]")
        out.append(":".join(parts))
    return out


# ---------------------------------------------------------------------------------------------------------------
# parsing

def test_parse_formula_parts():
    p = parse_formula("comments ~ department * platform + paid + offset(log(reach)) + (1|account) + (1 | week)")
    assert (p.dv, p.fixed, p.exposure, p.random) == ("comments", "department * platform + paid", "reach",
                                                      ("account", "week"))
    assert parse_formula("y ~ a + (1|school/class)").random == ("school", "school:class")
    assert parse_formula("y ~ a + (1|month:weekday)").random_factors == (("month", "weekday"),)
    assert parse_formula("y ~ 1 + a").fixed == "a"
    assert parse_zero_formula("~ paid") == "paid"
    assert parse_zero_formula("~ 1") == "1"


@pytest.mark.parametrize("formula,match", [
    ("comments ~ department + (reach + likes|account)", "at most one slope"),
    ("comments ~ department + (log(reach)|account)", "plain numeric column"),
    ("comments ~ department + offset(reach)", r"offset\(log"),
    ("comments ~ department - 1", "intercept"),
    ("comments ~ department + 0", "intercept"),
    ("comments ~ department * platform - platform", "no '-' terms"),
    ("comments department", "exactly one '~'"),
    ("log(comments) ~ department", "plain count column"),
])
def test_parse_formula_refusals(formula, match):
    with pytest.raises(ValueError, match=match):
        parse_formula(formula)


def test_formula_must_be_text():
    with pytest.raises(TypeError, match="formula string"):
        parse_formula(["comments ~ department"])


def test_formula_and_keywords_not_both():
    sim = tk.simulate_organization(n_accounts_per_department=3, posts_per_account=10, seed=3,
                                   departments=["Marketing", "PR"], mixed_share=0.0).data
    with pytest.raises(ValueError, match="either as a formula"):
        fit_engagement_model(sim, formula="comments ~ department", dv="comments")
    with pytest.raises(ValueError, match=r"\(1\|account\)"):
        fit_engagement_model(sim, formula="comments ~ department", subject="account")
    with pytest.raises(ValueError, match="Available columns|Did you mean"):
        fit_engagement_model(sim, formula="comments ~ departmnt")
    with pytest.raises(TypeError, match="formula="):
        fit_engagement_model(sim, between="department")


# ---------------------------------------------------------------------------------------------------------------
# NB GLM with an interaction: MASS::glm.nb

@requires_mirror
def test_glmnb_interaction_matches_r(nb_fit):
    ref = _ref("fb_glmnb_interaction_coef.csv")
    got = nb_fit.coefficients.set_index("term").loc[_r_terms(ref["term"])]
    # glm.nb (epsilon 1e-12) and ours agree to ~1e-7 relative on estimates and SEs (theta iteration tolerance)
    assert_allclose(got["estimate"], ref["estimate"], rtol=1e-6, atol=1e-7)
    assert_allclose(got["std_error"], ref["std_error"], rtol=1e-6)
    fit = _ref("fb_glmnb_interaction_fit.csv").iloc[0]
    assert_allclose(nb_fit.loglik, fit["loglik"], rtol=1e-10)
    assert_allclose(nb_fit.fit_statistics["theta"].iloc[0], fit["theta"], rtol=1e-6)
    assert nb_fit.fit_statistics["n_dropped"].iloc[0] == 1


@requires_mirror
def test_glmnb_terms_likelihood_ratio_matches_refits(nb_fit):
    ref = _ref("fb_glmnb_interaction_lr.csv").set_index("term")
    terms = nb_fit.terms.set_index("term")
    assert list(terms.index) == ["Type", "Paid", "Type:Paid"]
    assert (terms["test"] == "likelihood_ratio").all() and (terms["type"] == "II").all()
    for term in ("Type", "Paid", "Type:Paid"):
        # every model maximised by both (theta re-estimated): log-likelihoods agree to ~1e-10 relative
        assert_allclose(terms.at[term, "statistic"], ref.at[term, "statistic"], rtol=1e-6, atol=1e-8)
        assert terms.at[term, "df"] == ref.at[term, "df"]
    # row 0 of `test`: the type itself and its interaction (does Type matter at any level of Paid?)
    row = nb_fit.test.iloc[0]
    assert_allclose(row["statistic"], ref.at["Type_joint", "statistic"], rtol=1e-6)
    assert row["df"] == 6 and "Type:Paid" in row["method"]


@requires_mirror
@pytest.mark.parametrize("type_", ["II", "III"])
def test_glmnb_wald_terms_match_car(nb_fit, type_):
    ref = _ref(f"fb_glmnb_interaction_anova{len(type_)}_wald.csv")
    ref = ref[ref["term"] != "(Intercept)"].set_index("term")
    got = tk.models.term_tests(nb_fit, test="wald", type=type_).set_index("term")
    assert_allclose(got.loc[ref.index, "statistic"], ref["Chisq"], rtol=1e-6)
    assert_allclose(got.loc[ref.index, "df"], ref["Df"])
    assert_allclose(got.loc[ref.index, "p_value"], ref["Pr(>Chisq)"], rtol=1e-5)
    if type_ == "III":
        assert "CAUTION" in got.at["Type", "method"] and "reference level" in got.at["Type", "method"]


@requires_mirror
def test_glmnb_emmeans_by_matches_r(nb_fit):
    mm = emmeans(nb_fit, specs="Type", by="Paid")
    ref = _ref("fb_glmnb_emmeans_type_by_paid.csv")
    assert mm.means["group"].tolist() == ref["Type"].tolist()
    assert mm.means["by_level"].tolist() == ref["Paid"].tolist()
    assert_allclose(mm.means["rate"], ref["response"], rtol=1e-6)
    assert_allclose(mm.means["std_error"], ref["SE"], rtol=1e-6)
    assert_allclose(mm.means["ci_low"], ref["asymp.LCL"], rtol=1e-6)
    pairs = _ref("fb_glmnb_pairs_type_by_paid_holm.csv")
    assert (mm.contrasts["group_a"] + " / " + mm.contrasts["group_b"]).tolist() == pairs["contrast"].tolist()
    assert mm.contrasts["by_level"].tolist() == pairs["Paid"].tolist()
    assert_allclose(mm.contrasts["rate_ratio"], pairs["ratio"], rtol=1e-6)
    assert_allclose(mm.contrasts["statistic"], pairs["z.ratio"], rtol=1e-6)
    # Holm within each level of Paid, as emmeans' pairs(..., by)
    assert_allclose(mm.contrasts["p_adjusted"], pairs["p.value"], rtol=1e-5)
    assert (mm.contrasts["by"] == "Paid").all()
    # the other way round: the same cells, Paid compared within each Type
    other = emmeans(nb_fit, specs="Paid", by="Type")
    cells = other.means.set_index(["group", "by_level"])["rate"]
    assert_allclose([cells[(p, t)] for t, p in zip(mm.means["group"], mm.means["by_level"])], mm.means["rate"],
                    rtol=1e-12)


@requires_mirror
def test_default_tables_average_over_the_interaction(nb_fit):
    ref = _ref("fb_glmnb_emmeans_type.csv")
    assert_allclose(nb_fit.emmeans["rate"], ref["response"], rtol=1e-6)
    assert_allclose(nb_fit.emmeans["std_error"], ref["SE"], rtol=1e-6)
    pairs = _ref("fb_glmnb_pairs_type_holm.csv")
    assert_allclose(nb_fit.contrasts["rate_ratio"], pairs["ratio"], rtol=1e-6)
    assert_allclose(nb_fit.contrasts["p_adjusted"], pairs["p.value"], rtol=1e-5)
    assert nb_fit.contrasts["method"].str.contains("averaged over").all()
    # rate ratios against the reference are the same averaged contrasts (Photo / Link = 1 / (Link / Photo))
    assert_allclose(nb_fit.rate_ratios["rate_ratio"].iloc[0], 1 / pairs["ratio"].iloc[0], rtol=1e-6)
    # emmeans() without `by` reproduces them
    mm = emmeans(nb_fit)
    assert_allclose(mm.means["rate"], nb_fit.emmeans["rate"], rtol=1e-12)
    assert mm.means["by"].isna().all()


def test_emmeans_refusals():
    sim = tk.simulate_organization(n_accounts_per_department=3, posts_per_account=20, seed=4,
                                   departments=["Marketing", "PR"], mixed_share=0.0).data
    m = fit_engagement_model(sim, formula="comments ~ department * content_type + offset(log(reach))")
    with pytest.raises(ValueError, match="a factor of the model"):
        emmeans(m, specs="platform")
    with pytest.raises(ValueError, match="other than `specs`"):
        emmeans(m, specs="department", by="department")
    with pytest.raises(ValueError, match="`test` must be one of|test"):
        tk.models.term_tests(m, test="score")


# ---------------------------------------------------------------------------------------------------------------
# NB GLMM with an interaction: glmmTMB

@requires_mirror
def test_glmm_interaction_matches_glmmtmb(glmm_fit):
    ref = _ref("fb_glmmtmb_interaction_coef.csv")
    got = glmm_fit.coefficients.set_index("term").loc[_r_terms(ref["term"])]
    # glmmTMB's optimum is good to ~1e-5 (tests/reference/models/README.md)
    assert_allclose(got["estimate"], ref["estimate"], rtol=1e-4, atol=1e-4)
    assert_allclose(got["std_error"], ref["std_error"], rtol=1e-4)
    fit = _ref("fb_glmmtmb_interaction_fit.csv").iloc[0]
    assert_allclose(glmm_fit.loglik, fit["loglik"], rtol=1e-9)
    assert_allclose(glmm_fit.random_effects["sd"].iloc[0], fit["sd_month"], rtol=1e-4)
    assert glmm_fit.random_effects["term"].tolist() == ["month"]


@requires_mirror
def test_glmm_terms_match_drop1_and_refits(glmm_fit):
    terms = glmm_fit.terms.set_index("term")
    drop1 = _ref("fb_glmmtmb_interaction_drop1.csv").set_index("term")
    assert_allclose(terms.at["Type:Paid", "statistic"], drop1.at["Type:Paid", "LRT"], rtol=1e-6)
    lr = _ref("fb_glmmtmb_interaction_lr.csv").set_index("term")
    for term in ("Type", "Paid"):
        assert_allclose(terms.at[term, "statistic"], lr.at[term, "statistic"], rtol=1e-5, atol=1e-6)
    assert_allclose(glmm_fit.test["statistic"].iloc[0], lr.at["Type_joint", "statistic"], rtol=1e-6)
    assert "Laplace" in terms.at["Type", "method"]
    # Type and Paid vary within months: tested within the (1|month) groups, no between-group caution
    assert not terms["method"].str.contains("CAUTION").any()


@requires_mirror
@pytest.mark.parametrize("type_", ["II", "III"])
def test_glmm_wald_terms_match_car(glmm_fit, type_):
    ref = _ref(f"fb_glmmtmb_interaction_anova{len(type_)}_wald.csv")
    ref = ref[ref["term"] != "(Intercept)"].set_index("term")
    got = tk.models.term_tests(glmm_fit, test="wald", type=type_).set_index("term")
    # Wald statistics inherit glmmTMB's ~1e-5 optimum
    assert_allclose(got.loc[ref.index, "statistic"], ref["Chisq"], rtol=2e-4, atol=1e-5)
    assert_allclose(got.loc[ref.index, "df"], ref["Df"])


@requires_mirror
def test_glmm_emmeans_by_matches_r(glmm_fit):
    mm = emmeans(glmm_fit, specs="Type", by="Paid")
    ref = _ref("fb_glmmtmb_emmeans_type_by_paid.csv")
    assert_allclose(mm.means["rate"], ref["response"], rtol=2e-4)
    assert_allclose(mm.means["std_error"], ref["SE"], rtol=2e-4)
    pairs = _ref("fb_glmmtmb_pairs_type_by_paid_holm.csv")
    assert_allclose(mm.contrasts["rate_ratio"], pairs["ratio"], rtol=2e-4)
    # emmeans uses t on the residual df for glmmTMB; the statistics agree (tests/reference/models/README.md)
    stat = [c for c in pairs.columns if c.endswith(".ratio")][0]
    assert_allclose(mm.contrasts["statistic"], pairs[stat], rtol=2e-4)


# ---------------------------------------------------------------------------------------------------------------
# integer-coded groups in numeric order (R's factor order)

@requires_mirror
def test_integer_groups_ordered_numerically_like_r(fb):
    month = _ref("fb_glmnb_month_coef.csv")
    fb = fb.dropna(subset=["Paid"])        # the 499 posts of the R script
    kw = fit_engagement_model(fb, dv="comments", between="month", exposure="reach")
    assert kw.rate_ratios["group"].tolist() == [str(m) for m in range(2, 13)]
    assert kw.rate_ratios["reference"].iloc[0] == "1"
    assert kw.emmeans["group"].tolist() == [str(m) for m in range(1, 13)]
    assert_allclose(np.log(kw.rate_ratios["rate_ratio"]), month["estimate"].iloc[1:], rtol=1e-6, atol=1e-8)
    fo = fit_engagement_model(fb, formula="comments ~ C(month) + offset(log(reach))")
    assert fo.coefficients["term"].tolist()[1:3] == ["C(month)[T.2]", "C(month)[T.3]"]
    assert_allclose(fo.coefficients["estimate"], kw.coefficients["estimate"], rtol=1e-10, atol=1e-12)
    # a numeric group term without C() is refused with the fix
    with pytest.raises(ValueError, match=r"C\(month\)"):
        fit_engagement_model(fb, formula="comments ~ month + offset(log(reach))")


# ---------------------------------------------------------------------------------------------------------------
# keyword API and formula API: the same model, the same fit

@pytest.mark.parametrize("random", [False, True])
def test_keyword_and_formula_fits_identical(random):
    sim = tk.simulate_organization(n_accounts_per_department=5, posts_per_account=30, seed=12,
                                   departments=["Marketing", "PR", "IT"], mixed_share=0.0).data
    kw = fit_engagement_model(sim, dv="comments", between="department", exposure="reach",
                              covar=["content_type"], subject="account" if random else None)
    fo = fit_engagement_model(sim, formula="comments ~ department + content_type + offset(log(reach))"
                              + (" + (1|account)" if random else ""))
    assert fo.coefficients["term"].tolist() == kw.coefficients["term"].tolist()
    for table, cols in (("coefficients", ["estimate", "std_error", "p_value"]),
                        ("rate_ratios", ["rate_ratio", "ci_low", "ci_high"]), ("emmeans", ["rate", "std_error"]),
                        ("contrasts", ["rate_ratio", "p_adjusted"]), ("test", ["statistic", "p_value"])):
        assert_allclose(getattr(fo, table)[cols].to_numpy(float), getattr(kw, table)[cols].to_numpy(float),
                        rtol=1e-10, atol=1e-12, err_msg=table)
    assert_allclose(fo.loglik, kw.loglik, rtol=1e-12)
    assert fo.random_effects.columns.tolist() == kw.random_effects.columns.tolist() == ["term", "n_groups", "sd",
                                                                                       "corr"]
    assert_allclose(fo.random_effects[["n_groups", "sd"]].to_numpy(float),
                    kw.random_effects[["n_groups", "sd"]].to_numpy(float), rtol=1e-10)
    assert fo.random_effects["corr"].isna().all() and kw.random_effects["corr"].isna().all()
    assert fo.settings["formula"] is not None and kw.settings["formula"] is None
    # emmeans with `by` on the keyword model's reference grid (hand-built rows) equals the formula model's
    a = emmeans(kw, specs="department", by="content_type")
    b = emmeans(fo, specs="department", by="content_type")
    assert a.means[["group", "by_level"]].values.tolist() == b.means[["group", "by_level"]].values.tolist()
    assert_allclose(a.means["rate"], b.means["rate"], rtol=1e-10)
    assert_allclose(a.contrasts["p_adjusted"], b.contrasts["p_adjusted"], rtol=1e-8)
    # the terms table exists for both APIs; the department row is the model's own test
    if random:   # 5 accounts per department: the between-account caution of term_tests (once per model)
        with pytest.warns(tk.ToolkitWarning, match="constant within each account"):
            kw.terms, fo.terms
    assert_allclose(kw.terms["statistic"].iloc[0], kw.test["statistic"].iloc[0], rtol=1e-8)
    assert_allclose(fo.terms["statistic"].to_numpy(), kw.terms["statistic"].to_numpy(), rtol=1e-8)


def test_between_names_the_focal_term():
    sim = tk.simulate_organization(n_accounts_per_department=4, posts_per_account=20, seed=5,
                                   departments=["Marketing", "PR", "IT"], mixed_share=0.0).data
    m = fit_engagement_model(sim, formula="comments ~ content_type * department + offset(log(reach))",
                             between="department", reference="PR")
    assert m.settings["between"] == "department"
    assert m.rate_ratios["reference"].unique().tolist() == ["PR"]
    assert m.emmeans["group"].tolist()[0] == "PR"
    assert m.coefficients["term"].str.contains(r"department\[T\.Marketing\]").any()
    m2 = fit_engagement_model(sim, formula="comments ~ content_type * department + offset(log(reach))")
    assert m2.settings["between"] == "content_type"


# ---------------------------------------------------------------------------------------------------------------
# only the toolkit's own warnings leave a fit

@requires_mirror
def test_uncentred_covariate_no_foreign_warnings(fb):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        m = fit_engagement_model(fb.dropna(subset=["Paid"]),   # the 499 posts of the R script
                                 formula="comments ~ Type + likes + offset(log(reach)) + (1|month)")
    foreign = [w for w in caught if not issubclass(w.category, tk.ToolkitWarning)]
    assert foreign == [], [str(w.message) for w in foreign]
    assert m.fit_statistics["converged"].iloc[0]
    # the reproduction of the leak: the keyword API with the raw page likes (before the fix: "invalid value
    # encountered in sqrt" from negative variances, and a non-converged fit)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        kw = fit_engagement_model(fb.dropna(subset=["Paid"]), dv="comments", between="Type", exposure="reach",
                                  covar=["likes"], subject="month")
    assert caught == [], [str(w.message) for w in caught]
    assert_allclose(kw.coefficients["estimate"], m.coefficients["estimate"], rtol=1e-6)
    ref = _ref("fb_glmmtmb_uncentred_coef.csv")
    got = m.coefficients.set_index("term").loc[["Intercept", "Type[T.Photo]", "Type[T.Status]",
                                                "Type[T.Video]", "likes"]]
    # within 1e-3 standard errors of glmmTMB (its optimum is good to ~1e-5 relative)
    assert np.all(np.abs(got["estimate"].to_numpy() - ref["estimate"].to_numpy()) <= 1e-3 * ref["std_error"].to_numpy())
    assert_allclose(m.loglik, _ref("fb_glmmtmb_uncentred_fit.csv")["loglik"].iloc[0], rtol=1e-9)
    # standard errors: glmmTMB's own uncentred fit is ~0.75% off (Hessian at a 1e5 scale); its fit with the
    # covariate centred and in thousands is the reference (same model, reparametrised)
    centred = _ref("fb_glmmtmb_centred_coef.csv").set_index("term")
    assert_allclose(got.at["likes", "std_error"] * 1000, centred.at["likes_c", "std_error"], rtol=1e-5)
    assert_allclose(got["std_error"].iloc[1:4], centred["std_error"].iloc[1:4], rtol=1e-5)


# ---------------------------------------------------------------------------------------------------------------
# several random intercepts (needs the multi-term engine)

@requires_mirror
@pytest.mark.parametrize("name,formula", [
    ("crossed", "comments ~ Type + offset(log(reach)) + (1|month) + (1|weekday)"),
    ("nested", "comments ~ Type + offset(log(reach)) + (1|month/weekday)"),
])
def test_several_random_intercepts_match_glmmtmb(fb, name, formula):
    import inspect
    if "Xz" not in inspect.signature(tk.models.glmm.fit_glmm).parameters:
        pytest.skip("multi-term GLMM engine not in this version")
    m = fit_engagement_model(fb.dropna(subset=["Paid"]), formula=formula)   # the 499 posts of the R script
    ref = _ref(f"fb_glmmtmb_{name}_coef.csv")
    fit = _ref(f"fb_glmmtmb_{name}_fit.csv")
    assert_allclose(m.coefficients["estimate"], ref["estimate"], rtol=1e-4, atol=1e-4)
    assert_allclose(m.coefficients["std_error"], ref["std_error"], rtol=1e-3)
    assert_allclose(m.loglik, fit["loglik"].iloc[0], rtol=1e-9)
    assert m.random_effects["term"].tolist() == ["month", "weekday" if name == "crossed" else "month:weekday"]
    assert_allclose(m.random_effects["sd"], fit["sd"], rtol=1e-3, atol=1e-4)


# ---------------------------------------------------------------------------------------------------------------
# a zero part with predictors: zero_formula

@requires_mirror
def test_hurdle_zero_formula_matches_pscl(fb):
    m = fit_engagement_model(fb.dropna(subset=["Paid"]), formula="comments ~ Type + offset(log(reach))",
                             family="hurdle_negbin", zero_formula="~ Paid")
    ref = _ref("fb_hurdle_negbin_zero_paid_coef.csv").set_index("term")
    got = m.coefficients.set_index("term")
    count = ["Intercept", "Type[T.Photo]", "Type[T.Status]", "Type[T.Video]"]
    r_count = ["count_(Intercept)", "count_TypePhoto", "count_TypeStatus", "count_TypeVideo"]
    # pscl's optim (BFGS, reltol 1e-8) stops earlier than ours: ~1e-5 relative (tests/reference/models/README.md)
    assert_allclose(got.loc[count, "estimate"], ref.loc[r_count, "estimate"], rtol=1e-4, atol=1e-4)
    assert_allclose(got.loc[count, "std_error"], ref.loc[r_count, "std_error"], rtol=1e-4)
    zero = ["zero[Intercept]", "zero[Paid[T.paid]]"]
    assert_allclose(got.loc[zero, "estimate"], ref.loc[["zero_(Intercept)", "zero_Paidpaid"], "estimate"], rtol=1e-5)
    assert_allclose(got.loc[zero, "std_error"], ref.loc[["zero_(Intercept)", "zero_Paidpaid"], "std_error"],
                    rtol=1e-4)
    fit = _ref("fb_hurdle_negbin_zero_paid_fit.csv").iloc[0]
    assert_allclose(m.loglik, fit["loglik"], rtol=1e-9)
    assert m.emmeans["unit"].str.endswith("(count component)").all()


@requires_mirror
def test_hurdle_glmm_zero_formula_matches_glmmtmb(fb):
    m = fit_engagement_model(fb.dropna(subset=["Paid"]),
                             formula="comments ~ Type + offset(log(reach)) + (1|month)",
                             family="hurdle_negbin", zero_formula="~ Paid")
    ref = _ref("fb_glmmtmb_hurdle_zero_paid_coef.csv").set_index("term")
    got = m.coefficients.set_index("term")
    assert_allclose(got.loc[["Intercept", "Type[T.Photo]", "Type[T.Status]", "Type[T.Video]"], "estimate"],
                    ref.loc[["cond_(Intercept)", "cond_TypePhoto", "cond_TypeStatus", "cond_TypeVideo"], "estimate"],
                    rtol=1e-4, atol=1e-4)
    # glmmTMB's truncated_nbinom2 models P(count = 0); the toolkit (as pscl) P(count > 0): opposite sign
    assert_allclose(got.loc[["zero[Intercept]", "zero[Paid[T.paid]]"], "estimate"],
                    -ref.loc[["zi_(Intercept)", "zi_Paidpaid"], "estimate"], rtol=1e-4)
    fit = _ref("fb_glmmtmb_hurdle_zero_paid_fit.csv").iloc[0]
    assert_allclose(m.loglik, fit["loglik"], rtol=1e-9)
    assert_allclose(m.random_effects["sd"].iloc[0], fit["sd_month"], rtol=1e-3)


def test_zero_formula_refusals():
    sim = tk.simulate_organization(n_accounts_per_department=3, posts_per_account=20, seed=6,
                                   departments=["Marketing", "PR"], mixed_share=0.0).data
    with pytest.raises(ValueError, match="zero_formula"):
        fit_engagement_model(sim, formula="comments ~ department", zero_formula="~ paid")      # negbin
    with pytest.raises(ValueError, match="with the keyword API"):
        fit_engagement_model(sim, dv="comments", between="department", family="zinb", zero_formula="~ paid")
    with pytest.raises(ValueError, match="one-sided"):
        fit_engagement_model(sim, formula="comments ~ department", family="zinb", zero_formula="paid")


def test_integer_groups_same_order_as_pairwise():
    # SIMULATED: Poisson(3) counts, seed 1, groups coded 1, 2, 5, 10 (as text '10' < '2' < '5')
    rng = np.random.default_rng(1)
    d = pd.DataFrame({"g": np.repeat([10, 2, 5, 1], 30), "y": rng.poisson(3, 120)})
    order = list(dict.fromkeys(tk.pairwise(d, dv="y", between="g")[["group_a", "group_b"]].to_numpy().ravel()))
    m = fit_engagement_model(d, dv="y", between="g", family="poisson")
    assert m.emmeans["group"].tolist() == [str(g) for g in order] == ["1", "2", "5", "10"]
    assert m.rate_ratios["reference"].iloc[0] == "1"


# ---------------------------------------------------------------------------------------------------------------
# the fixed part encoded on distinct rows (fast path) is formulaic's matrix on every row

@pytest.mark.parametrize("rhs", [
    "department", "department * platform", "department * platform * content_type", "department:platform",
    "department + department:platform", "content_type + department * paid", "C(month) * paid",
    "department + C(month)", "(department + platform) ** 2", "department + reach",
    "department + log(reach)", "platform + department:content_type"])
def test_distinct_row_encoding_equals_formulaic(rhs):
    from formulaic import Formula

    from toolkit.models._design import _distinct_rows, _encode, encoding_frame
    sim = tk.simulate_organization(n_accounts_per_department=8, posts_per_account=80, seed=5,
                                   departments=["Marketing", "PR", "IT", "HR"], mixed_share=0.1).data
    sim["month"] = pd.to_datetime(sim["posted_at"]).dt.month
    enc, _ = encoding_frame(sim, sorted(Formula(rhs).required_variables))
    fast = _encode(rhs, enc, "test")
    slow = _encode(rhs, enc, "test", distinct=False)
    rows = _distinct_rows(rhs, enc)
    assert (rows is None) == ("reach" in rhs)       # numeric columns: too many distinct rows / stateful transform
    assert fast[1] == slow[1]                        # column names
    assert np.array_equal(fast[0], slow[0])          # exactly the same matrix
    assert [(t["name"], t["columns"], t["factors"]) for t in fast[2]] == \
        [(t["name"], t["columns"], t["factors"]) for t in slow[2]]
    assert fast[4] == slow[4]                        # reference-grid factor levels
    grid = enc.iloc[:5]
    assert np.array_equal(fast[3].get_model_matrix(grid).to_numpy(float),
                          slow[3].get_model_matrix(grid).to_numpy(float))


@pytest.mark.parametrize("values", [
    pd.Series(["PR", "Marketing", None, "PR", "IT"]),
    pd.Series(["PR", "Marketing", "HR"], dtype="string"),
    pd.Series(pd.Categorical(["b", "a", "b"], categories=["c", "b", "a"])),     # an unused category
    pd.Series([10, 2, 2, 1]), pd.Series([1.0, 2.0, np.nan, 2.0]), pd.Series([0.5, 1.5, 0.5]),
    pd.Series([True, False, True])])
def test_factor_codes_are_the_text_labels(values):
    """The design's level codes (computed on distinct values) name the same levels, in the same order, as the
    text labels of every row (labels_of / _levels_of, the path they replace)."""
    from toolkit.models._design import _levels_of, factor_codes, labels_of
    codes, levels = factor_codes(values)
    assert levels == _levels_of(values)
    labels = labels_of(values)
    expected = [-1 if pd.isna(v) else levels.index(str(v)) for v in labels]
    assert codes.tolist() == expected
