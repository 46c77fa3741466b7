"""Shared docstring components: every public docstring is rendered, unknown tokens fail loudly."""
from __future__ import annotations

import inspect

import pytest

import toolkit as tk
from toolkit import _docstrings


@pytest.mark.parametrize("name", sorted(tk._EXPORTS))
def test_public_docstrings_are_rendered(name):
    doc = inspect.getdoc(getattr(tk, name)) or ""
    leftovers = [line for line in doc.splitlines() if _docstrings._TOKEN.match(line)]
    assert not leftovers, f"{name}: unrendered shared-parameter tokens {leftovers}"


def test_render_keeps_indentation_and_rejects_unknown_names():
    doc = "Summary.\n\n    Parameters\n    ----------\n    {{dv}}\n    x : int\n"
    out = _docstrings.render(doc)
    assert "    dv : str\n        Outcome column (numeric).\n    x : int" in out
    with pytest.raises(KeyError, match="unknown shared parameter 'nope'"):
        _docstrings.render("    {{nope}}\n")


def test_shared_text_is_used_verbatim():
    doc = inspect.getdoc(tk.welch_anova)
    assert inspect.cleandoc("\n" + _docstrings.PARAMS["nan_policy"]) in doc
    assert inspect.cleandoc("\n" + _docstrings.PARAMS["between_two"]) in inspect.getdoc(tk.welch_ttest)


def test_module_local_entries_and_no_shadowing():
    doc = "Summary.\n\n    Parameters\n    ----------\n    {{local}}\n    {{dv}}\n"
    out = _docstrings.render(doc, {"local": "k : int\n    A local parameter."})
    assert "    k : int\n        A local parameter.\n    dv : str" in out
    with pytest.raises(KeyError, match="would hide shared ones"):
        _docstrings.render(doc, {"dv": "dv : int\n    Other."})

    @_docstrings.fill_doc(extra={"local": "k : int\n    A local parameter."})
    def f():
        """Summary.

        Parameters
        ----------
        {{local}}
        """

    assert "Parameters\n----------\nk : int\n    A local parameter." in inspect.getdoc(f)


@pytest.mark.parametrize("name, entries", [
    # issue 16: parameter text repeated verbatim in the models, survey and robustness modules is written once
    ("overdispersion_test", ["data", "dv_count", "between_department", "exposure", "covar"]),
    ("recommend_model", ["data", "dv_count", "between_department", "exposure", "covar"]),
    ("nesting_summary", ["data", "between_department"]),
    ("account_level", ["data"]),
    ("fit_engagement_model", ["data"]),
    ("zero_check", ["model_count"]),
    ("quantile_residuals", ["model_count"]),
    ("emmeans", ["model_fit"]),
    ("term_tests", ["model_fit"]),
    ("proportions", ["data_respondents"]),
    ("goodness_of_fit", ["data_respondents"]),
    ("multiple_response", ["data_respondents"]),
    ("compare_options", ["data_respondents"]),
    ("likert", ["data_respondents"]),
    ("likert_compare", ["data_respondents"]),
    ("proportion_ci", ["confidence_level_survey", "method_proportion"]),
    ("precision_table", ["confidence_level_survey", "method_proportion"]),
    ("sample_size_for_margin", ["confidence_level_survey"]),
])
def test_models_and_survey_use_the_shared_text(name, entries):
    doc = inspect.getdoc(getattr(tk, name))
    for entry in entries:
        assert inspect.cleandoc("\n" + _docstrings.PARAMS[entry]) in doc, (name, entry)


def test_specification_functions_share_their_choices():
    from toolkit import robustness

    for name in ("specification_curve", "specification_test"):
        doc = inspect.getdoc(getattr(tk, name))
        for text in robustness._SHARED_DOC.values():
            assert text in doc, name
        assert "{" + "{" not in doc
