"""Common API tests over every public name (issue 16): docstring sections, signature shape, one vocabulary,
the result protocol, and every public plot drawing without a warning.

tests/test_api.py checks that each name resolves, has a one-line summary, takes at most one positional argument
and documents exactly its parameters; tests/test_docstrings.py checks that shared docstring text is rendered.
This file adds what neither checks. Each test is parametrised over names so that a failure names the function.
"""
from __future__ import annotations

import importlib
import inspect
import re
import warnings
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.axes  # noqa: E402
import matplotlib.figure  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

import toolkit as tk  # noqa: E402
from toolkit import plots  # noqa: E402
from toolkit._protocol import AnswerFirst  # noqa: E402
from toolkit.reporting import Report  # noqa: E402

PUBLIC = sorted(tk._EXPORTS)
FUNCTIONS = [n for n in PUBLIC if inspect.isfunction(getattr(tk, n))]
CLASSES = [n for n in PUBLIC if inspect.isclass(getattr(tk, n))]


def test_every_public_name_is_a_function_or_a_class():
    # so that FUNCTIONS + CLASSES is every public name and no name escapes the tests below
    assert sorted(FUNCTIONS + CLASSES) == PUBLIC


# -- numpydoc sections ------------------------------------------------------------------------------
def _sections(doc: str) -> set[str]:
    return set(re.findall(r"^(\w[\w ]*)\n-{3,}$", doc, flags=re.M))


@pytest.mark.parametrize("name", FUNCTIONS)
def test_function_docstring_has_numpydoc_sections(name):
    func = getattr(tk, name)
    sections = _sections(inspect.getdoc(func))
    if inspect.signature(func).parameters:
        assert "Parameters" in sections, f"{name}: numpydoc 'Parameters' section missing"
    assert sections & {"Returns", "Yields"}, f"{name}: numpydoc 'Returns' section missing"
    # every public function has one today (run by `pytest --doctest-modules toolkit`); classes are shown
    # through the function that returns them
    assert "Examples" in sections, f"{name}: numpydoc 'Examples' section missing"


@pytest.mark.parametrize("name", CLASSES)
def test_class_docstring_lists_attributes(name):
    if issubclass(getattr(tk, name), Warning):
        pytest.skip(f"{name} is a warning category, not a result: no attributes to list")
    assert "Attributes" in _sections(inspect.getdoc(getattr(tk, name))), f"{name}: numpydoc 'Attributes' missing"


# -- See Also: related functions point at each other, and every link resolves -------------------------
def _see_also(doc: str) -> list[str]:
    """The names of a numpydoc 'See Also' section (``a, b : text`` lines; continuation lines are indented)."""
    lines = doc.splitlines()
    if "See Also" not in lines:
        return []
    names = []
    for line in lines[lines.index("See Also") + 2:]:
        if not line.strip():
            break
        if not line[0].isspace():
            names += [n.strip() for n in line.split(" : ")[0].split(",") if n.strip()]
    return names


def _resolve(name: str):
    obj = tk
    for part in name.removeprefix("tk.").removeprefix("toolkit.").split("."):
        obj = getattr(obj, part)
    return obj


@pytest.mark.parametrize("name", PUBLIC)
def test_see_also_entries_are_real_names(name):
    bad = []
    for entry in _see_also(inspect.getdoc(getattr(tk, name)) or ""):
        try:
            _resolve(entry)
        except AttributeError:
            bad.append(entry)
    assert not bad, f"{name}: 'See Also' names {bad}, which are not tk. names (write `name` or `plots.name`)"


#: Public functions that a reader of one wants to know about from the others: each lists every other member of
#: its groups in 'See Also' (a function in several groups lists the union).
SEE_ALSO_GROUPS = [
    ["compare_groups", "cluster_level_comparison", "fit_engagement_model"],
    ["anova", "welch_anova", "kruskal", "permutation_omnibus"],
    ["welch_ttest", "mann_whitney", "brunner_munzel"],
    ["pairwise", "adjust_pvalues", "compact_letter_display"],
    ["describe_groups", "effect_sizes"],
    ["power_welch_anova", "power_kruskal", "power_two_rates", "simulate_power", "power_curve", "sample_size",
     "power_explorer"],
    ["read_posts", "load_dataset", "list_datasets", "check_engagement"],
    ["read_posts", "list_profiles", "assign_departments"],
    ["add_metrics", "summarize_metrics", "metrics_report"],
    ["to_long", "to_wide"],
    ["specification_curve", "specification_test", "plot_specification_curve"],
    ["overdispersion_test", "rootogram", "zero_check", "quantile_residuals", "recommend_model"],
    ["fit_engagement_model", "term_tests", "emmeans"],
    ["accounts_per_group", "nesting_summary", "account_level", "aggregate_posts"],
    ["proportions", "proportion_ci", "multiple_response"],
    ["precision_table", "sample_size_for_margin", "sample_size_for_difference"],
    ["goodness_of_fit", "compare_polls", "compare_options"],
    ["likert", "likert_compare"],
    ["load_plan", "run_plan"],
    ["mapping_assistant", "suggest_mapping"],
]
#: Members whose own 'See Also' is not written yet (others link to them), with the reason.
SEE_ALSO_PENDING: dict[str, str] = {}


def _siblings(name):
    return sorted({m for g in SEE_ALSO_GROUPS if name in g for m in g} - {name})


@pytest.mark.parametrize("name", sorted({m for g in SEE_ALSO_GROUPS for m in g}))
def test_related_functions_link_to_each_other(name):
    listed = set(_see_also(inspect.getdoc(getattr(tk, name)) or ""))
    missing = [s for s in _siblings(name) if s not in listed]
    if name in SEE_ALSO_PENDING:
        assert missing, f"{name} now links its siblings: remove it from SEE_ALSO_PENDING"
        pytest.xfail(SEE_ALSO_PENDING[name])
    assert not missing, f"{name}: add {missing} to its numpydoc 'See Also' section"


def test_see_also_parser():
    doc = "Summary.\n\nSee Also\n--------\na, b : text\n    more text\nplots.c\n\nNotes\n-----\nx : y\n"
    assert _see_also(doc) == ["a", "b", "plots.c"]
    assert _resolve("plots.plot_forest") is tk.plots.plot_forest and _resolve("tk.pairwise") is tk.pairwise


# -- signature: data first, everything else keyword-only ---------------------------------------------
# The one positional argument of a public function, by what it is. A new public function whose first
# argument is a DataFrame calls it `data`; anything else must be one of these (or be added here deliberately).
POSITIONAL_NAMES = {
    "data",      # a tidy DataFrame in
    "source",    # a file, folder or buffer to read (read_posts, read_posts_dask, mapping_assistant)
    "model",     # a fitted EngagementModel (emmeans, rootogram, term_tests, ...)
    "table",     # a result table to draw (plot_specification_curve)
    "result",    # any result object (report)
    "p",         # p-values (adjust_pvalues)
    "name",      # a dataset name (load_dataset)
    "path",      # a plan file (load_plan)
    "answer",    # a learner's answer (check_answer)
    "columns",   # column names to map (suggest_mapping)
}


@pytest.mark.parametrize("name", FUNCTIONS)
def test_only_the_input_is_positional(name):
    params = list(inspect.signature(getattr(tk, name)).parameters.values())
    positional = [p.name for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    assert all(p.kind is p.KEYWORD_ONLY for p in params[len(positional):]), name
    if positional:
        assert positional[0] in POSITIONAL_NAMES, (
            f"{name}: the positional argument is {positional[0]!r}; call a DataFrame input `data` "
            f"(or add a new kind of input to POSITIONAL_NAMES)")


# -- one vocabulary ----------------------------------------------------------------------------------
# The house words (docs/DEVELOPING.md, /work/shared/STYLE.md) ...
HOUSE_WORDS = {"data", "dv", "between", "subject", "covar", "alpha", "confidence_level", "p_adjust", "nan_policy",
               "n_resamples", "seed"}
# ... and every other keyword the public API uses today. A keyword not listed here fails the test below: choose
# an existing word for the same idea, or add the new word here (and to docs/GLOSSARY.md).
VOCABULARY = HOUSE_WORDS | {
    "account", "allow_unparseable", "alternative", "analyses", "analysis", "answer", "atol", "audience_median",
    "audience_sdlog", "base_rate", "base_rates", "by", "choices", "ci_method", "column", "columns",
    "content_effects", "contrast", "count", "counts", "counts_a", "counts_b", "cov_type", "covariate_sets",
    "data_code", "data_name", "datasets", "date_format", "delimiter", "denominator", "denominators",
    "department", "departments", "design", "digits", "dispersion", "drop_duplicates", "duplicate_columns",
    "effsize_ci", "encoding", "end", "engine", "exclusions", "expected", "exposure", "exposure_a", "exposure_b",
    "exposures", "family", "fig", "formula", "grid", "groups", "header_row", "hint", "id_vars",
    "impressions_per_reach", "index", "levels", "margin", "max_count", "means", "method", "metrics", "min_count",
    "min_overlap", "min_repeats", "mixed", "mixed_share", "model", "n", "n_a", "n_accounts_per_department",
    "n_agq", "n_b", "n_departments", "n_jobs", "n_per_group", "n_replicates", "name", "normalize_agencies",
    "normalize_labels", "options", "org_chart", "outcomes", "p", "p_column", "paid_probability", "paid_rate_ratio",
    "paid_reach_factor", "parameter", "path", "per", "period", "plan", "posts_distribution", "posts_per_account",
    "power", "profile", "progress", "proportion", "proportion_a", "proportion_b", "proportions",
    "random_effect_df", "random_effect_distribution", "random_effect_sd", "random_slope", "rate_a", "rate_b",
    "rate_ratio", "rate_ratios", "ratio", "reach_fraction_median", "reach_fraction_sdlog", "reference",
    "reference_department", "report", "resample_unit", "result", "results_file", "rtol", "scheduler", "sds",
    "sheet_name", "simultaneous", "source", "source_name", "specs", "start", "statistic", "strict", "table",
    "target_power", "test", "time", "timezone", "trafo", "type", "type_effect_sd", "units", "upload_dir",
    "valid_from", "valid_to", "value_name", "value_vars", "values", "var_name", "zero_formula", "zero_inflation",
}
# Known inconsistencies found by these tests (issue 16, "one word, several meanings"): the keyword says with
# another word what a house word already says. Listed so the test passes today and no new function copies them;
# remove an entry when the rename (with a deprecation path, docs/GLOSSARY.md) lands.
KNOWN_SYNONYMS: dict = {
    # (function, keyword): house word -- an allowed exception to the vocabulary (none left: `covariates=` was renamed
    # `covar=` in fit_engagement_model, overdispersion_test and recommend_model; see docs/GLOSSARY.md)
}
# Words that mean a house word; a keyword spelled like this is always a mistake unless allow-listed above.
SYNONYMS = {
    "covariates": "covar", "covariate": "covar", "conf_level": "confidence_level", "confidence": "confidence_level",
    "ci": "confidence_level", "level": "confidence_level", "random_state": "seed", "rng": "seed",
    "n_boot": "n_resamples", "n_bootstrap": "n_resamples", "n_permutations": "n_resamples", "nboot": "n_resamples",
    "n_perm": "n_resamples", "group": "between", "groupby": "between", "group_col": "between", "y": "dv",
    "outcome": "dv", "value": "dv", "correction": "p_adjust", "padjust": "p_adjust", "adjust": "p_adjust",
    "na_policy": "nan_policy", "dropna": "nan_policy", "missing": "nan_policy", "cluster": "subject",
    "significance": "alpha", "sig_level": "alpha", "df": "data", "frame": "data",
}


def _keywords(name):
    return list(inspect.signature(getattr(tk, name)).parameters)


@pytest.mark.parametrize("name", FUNCTIONS)
def test_keywords_come_from_the_vocabulary(name):
    unknown = [k for k in _keywords(name) if k not in VOCABULARY and (name, k) not in KNOWN_SYNONYMS]
    assert not unknown, (f"{name}: keyword(s) {unknown} are not in the API's vocabulary; use the existing word "
                         f"for the same idea, or add the new word to VOCABULARY in tests/test_api_common.py")


@pytest.mark.parametrize("name", FUNCTIONS)
def test_no_synonym_of_a_house_word(name):
    bad = {k: SYNONYMS[k] for k in _keywords(name) if k in SYNONYMS and (name, k) not in KNOWN_SYNONYMS}
    assert not bad, f"{name}: use the house word(s) {bad}"


def test_known_synonyms_are_still_present():
    # an allow-list entry whose keyword is gone must be removed, so the list stays true
    stale = [(f, k) for f, k in KNOWN_SYNONYMS if k not in _keywords(f)]
    assert not stale, f"remove fixed entries from KNOWN_SYNONYMS in tests/test_api_common.py: {stale}"


def test_synonyms_are_not_in_the_vocabulary():
    allowed = {k for _, k in KNOWN_SYNONYMS}
    assert not (set(SYNONYMS) & VOCABULARY) - allowed


# -- result protocol ----------------------------------------------------------------------------------
for _module in ("toolkit.compare", "toolkit.stats.cluster", "toolkit.stats.resampling", "toolkit.headlines",
                "toolkit.power", "toolkit.models.growth", "toolkit.robustness", "toolkit.models.results",
                "toolkit.plans", "toolkit.data.quality", "toolkit.models.emmeans"):
    importlib.import_module(_module)


def _subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


RESULT_CLASSES = sorted({c for c in _subclasses(AnswerFirst) if c.__module__.startswith("toolkit")}
                        | {getattr(tk, n) for n in CLASSES if hasattr(getattr(tk, n), "summary")}
                        | {importlib.import_module("toolkit.plans").PlanResult},
                        key=lambda c: c.__qualname__)
# Result classes that do not follow the protocol yet (none left: QualityReport.summary() now returns the answer and
# its per-reason table is by_reason(); PlanResult is an AnswerFirst; see docs/GLOSSARY.md, "Behaviour changes").
PROTOCOL_EXCEPTIONS: dict = {}
PROTOCOL = ("summary", "report", "to_frame", "_repr_html_")


@pytest.mark.parametrize("cls", RESULT_CLASSES, ids=lambda c: c.__qualname__)
def test_result_class_has_the_protocol(cls):
    missing = [m for m in PROTOCOL if not callable(getattr(cls, m, None))]
    if cls.__qualname__ in PROTOCOL_EXCEPTIONS:
        assert missing or not issubclass(cls, AnswerFirst), \
            f"{cls.__qualname__} now follows the protocol: remove it from PROTOCOL_EXCEPTIONS"
        pytest.xfail(PROTOCOL_EXCEPTIONS[cls.__qualname__])
    assert not missing, f"{cls.__qualname__}: result classes have {PROTOCOL}; missing {missing}"


@pytest.fixture(scope="module")
def org():
    # simulated: 4 accounts per department, 5 posts each, seed 16, no accounts shared between departments
    return tk.simulate_organization(n_accounts_per_department=4, posts_per_account=5, mixed_share=0, seed=16).data


GROWTH_PANEL = Path(__file__).parent / "reference" / "growth" / "panel.csv"


def _run_plan():
    plan = tk.load_plan(Path(__file__).resolve().parents[1] / "plans" / "h-departments.yaml")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", tk.ToolkitWarning)   # the few-accounts caution of its GLMM hypotheses
        return tk.run_plan(importlib.import_module("toolkit.plans").plan_data(plan), plan=plan, seed=1)
PRODUCERS = {
    "compare_groups": lambda d: tk.compare_groups(d, dv="likes", between="department", subject="account",
                                                  n_resamples=199, seed=1),
    "cluster_level_comparison": lambda d: tk.cluster_level_comparison(d, dv="likes", between="department",
                                                                      subject="account", n_resamples=199, seed=1),
    "fit_engagement_model": lambda d: tk.fit_engagement_model(d, dv="likes", between="department",
                                                              subject="account", family="poisson"),
    "specification_test": lambda d: tk.specification_test(
        d, between="department", contrast=("Marketing", "PR"), outcomes=("likes",), denominators=("none",),
        analyses=("welch_log_ratio",), units=("post",), exclusions=("none",), n_resamples=20, seed=1),
    "sample_size": lambda d: tk.sample_size(grid=(2, 4), n_replicates=20, seed=1),
    # a QualityReport: the simulated posts with one negative count (repaired) -- the second item read_posts returns
    "read_posts": lambda d: tk.read_posts(d.head(6).assign(likes=[1, -2, 3, 4, 5, 6]))[1],
    # a PlanResult: the simulated plan of plans/h-departments.yaml (data seed and true effects in the file)
    "run_plan": lambda d: _run_plan(),
    # the lme4-validated audience panel of tests/test_growth.py (tests/reference/growth/README.md)
    "fit_growth_model": lambda d: tk.fit_growth_model(pd.read_csv(GROWTH_PANEL, parse_dates=["sampled_on"]),
                                                      random_slope=False),
}


# Real inconsistency (issue 16): result.report() works for these, but tk.report(result) reads result.to_frame()
# (coefficients, joint tests, the power curve, growth rates), which has no `test` column, and refuses it.
REPORT_EXCEPTIONS: set = set()   # results tk.report() refuses (none: it uses their own report())


@pytest.mark.parametrize("name", sorted(PRODUCERS))
def test_result_instances_follow_the_protocol(name, org):
    result = PRODUCERS[name](org)
    assert isinstance(result.summary(), str) and result.summary()
    assert isinstance(result.report(), Report)
    assert isinstance(result.to_frame(), pd.DataFrame)
    html = result._repr_html_()
    assert isinstance(html, str) and html
    assert str(result) == result.summary()
    # the reporting front door, tk.report(result), should take every result
    if name in REPORT_EXCEPTIONS:
        with pytest.raises(ValueError, match="a 'test' column"):
            tk.report(result)  # when this passes, remove the entry from REPORT_EXCEPTIONS
    else:
        assert isinstance(tk.report(result), Report)


# -- plots --------------------------------------------------------------------------------------------
PLOT_FUNCTIONS = sorted(n for n in plots.__all__ if inspect.isfunction(getattr(plots, n)))


def _pit(org):
    model = tk.fit_engagement_model(org, dv="likes", between="department", family="poisson")
    return tk.quantile_residuals(model, seed=1)[0]


def _curve():
    # hand-made table with plot_specification_curve's documented columns (simulated estimates, seed 16)
    est = np.sort(np.random.default_rng(16).normal(0.1, 0.2, 12))
    return pd.DataFrame({"estimate": est, "ci_low": est - 0.3, "ci_high": est + 0.3,
                         "significant": np.abs(est) > 0.3, "status": "ok",
                         "outcome": np.resize(["likes", "comments"], 12), "analysis": "welch_log_ratio",
                         "unit": "post",
                         "exclusion": np.resize(["none", "paid posts excluded"], 12)})


def _model(org):
    return tk.fit_engagement_model(org, dv="likes", between="department", family="poisson")


PLOT_CALLS = {
    "plot_distributions": lambda d: plots.plot_distributions(d, x="department", y="likes"),
    "plot_means": lambda d: plots.plot_means(tk.describe_groups(d, dv="likes", between="department",
                                                                n_resamples=99, seed=1)),
    "plot_estimates": lambda d: plots.plot_estimates(_model(d).rate_ratios),
    "plot_forest": lambda d: plots.plot_forest(tk.pairwise(d, dv="likes", between="department",
                                                           method="games_howell")),
    "plot_pvalue_matrix": lambda d: plots.plot_pvalue_matrix(tk.pairwise(d, dv="likes", between="department",
                                                                         method="games_howell")),
    "bootstrap_draws": lambda d: plots.bootstrap_draws(d, x="department", y="likes", n_resamples=50, seed=1),
    "rank_table": lambda d: plots.rank_table(plots.bootstrap_draws(d, x="department", y="likes",
                                                                   n_resamples=50, seed=1)),
    "plot_ranking": lambda d: plots.plot_ranking(plots.rank_table(
        plots.bootstrap_draws(d, x="department", y="likes", n_resamples=50, seed=1))),
    "plot_rootogram": lambda d: plots.plot_rootogram(tk.rootogram(_model(d), max_count=8)),
    "plot_pit_qq": lambda d: plots.plot_pit_qq(_pit(d)),
    "plot_specification_curve": lambda d: plots.plot_specification_curve(_curve()),
    "choose_scale": lambda d: plots.choose_scale(d["likes"]),
}
# Public functions of toolkit.plots that compute a table or a scale rather than draw.
NOT_DRAWING = {"bootstrap_draws": pd.DataFrame, "rank_table": pd.DataFrame, "choose_scale": plots.AxisScale}


def test_every_plot_function_has_a_call():
    assert sorted(PLOT_CALLS) == PLOT_FUNCTIONS


@pytest.mark.parametrize("name", PLOT_FUNCTIONS)
def test_plot_function_draws_without_warnings(name, org):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = PLOT_CALLS[name](org)
    if name in NOT_DRAWING:
        assert isinstance(out, NOT_DRAWING[name])
        return
    drawn = list(out.values()) if isinstance(out, dict) else [out]
    assert any(isinstance(o, (matplotlib.axes.Axes, matplotlib.figure.Figure)) for o in drawn), \
        f"{name} returns {type(out)}, expected matplotlib Axes or Figure"
