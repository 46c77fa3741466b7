"""Renamed keywords (issue 16): the new name works, the old one works for one release with one
``ToolkitDeprecationWarning`` naming the new one, and passing both is an error. See docs/GLOSSARY.md.
"""
from __future__ import annotations

import inspect
import warnings

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

import toolkit as tk
from toolkit import _validation as v

# public function -> {old keyword: new keyword}
RENAMES = {
    "adjust_pvalues": {"method": "p_adjust"},
    "fit_engagement_model": {"covariates": "covar"},
    "overdispersion_test": {"covariates": "covar"},
    "recommend_model": {"covariates": "covar"},
}


def _func(name):
    return getattr(tk, name) if hasattr(tk, name) else getattr(tk.models, name)


@pytest.mark.parametrize("name", sorted(RENAMES))
def test_signature_and_docstring_show_only_the_new_name(name):
    func = _func(name)
    params = inspect.signature(func).parameters
    for old, new in RENAMES[name].items():
        assert new in params and old not in params
        assert func.__renamed_keywords__[old] == new
        assert f"\n    {new} :" in func.__doc__ and f"\n    {old} :" not in func.__doc__


def test_warning_is_a_toolkit_warning_and_a_future_warning():
    assert issubclass(tk.ToolkitDeprecationWarning, tk.ToolkitWarning)
    assert issubclass(tk.ToolkitDeprecationWarning, FutureWarning)  # shown to notebook users by default


P = [0.01, 0.02, 0.03, 0.04, 0.05]


def test_adjust_pvalues_new_name():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = tk.adjust_pvalues(P, p_adjust="bonferroni")
    assert_allclose(got, [0.05, 0.1, 0.15, 0.2, 0.25])


def test_adjust_pvalues_old_name_warns_once_and_gives_the_same_answer():
    with pytest.warns(tk.ToolkitDeprecationWarning) as record:
        old = tk.adjust_pvalues(P, method="fdr_by")
    assert len(record) == 1
    text = str(record[0].message)
    assert "`method=` is renamed `p_adjust=`" in text and "adjust_pvalues" in text
    assert record[0].filename == __file__  # points at the user's call, not at the toolkit
    assert_allclose(old, tk.adjust_pvalues(P, p_adjust="fdr_by"))


def test_adjust_pvalues_both_names_is_an_error():
    with pytest.raises(TypeError, match=r"adjust_pvalues: `method` must be left out when `p_adjust` is given.*"
                                        r"Pass only p_adjust="):
        tk.adjust_pvalues(P, method="holm", p_adjust="holm")


def test_adjust_pvalues_old_name_still_validated():
    with pytest.warns(tk.ToolkitDeprecationWarning), \
            pytest.raises(ValueError, match=r"`p_adjust` must be one of .*Did you mean 'fdr_bh'"):
        tk.adjust_pvalues(P, method="BH")


@pytest.fixture(scope="module")
def posts():
    # simulated: tk.simulate_organization(seed=3, n_accounts_per_department=4), the toolkit's default truth
    return tk.simulate_organization(seed=3, n_accounts_per_department=4).data


def _two(posts):
    return posts[posts["department"].isin(["Marketing", "PR"])].copy()


def test_fit_engagement_model_covar_old_and_new_agree(posts):
    d = _two(posts)
    kw = dict(dv="comments", between="department", exposure="reach", family="poisson")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", tk.ToolkitWarning)  # unrelated data cautions
        new = tk.fit_engagement_model(d, covar=["content_type"], **kw)
    with pytest.warns(tk.ToolkitDeprecationWarning, match="`covariates=` is renamed `covar=`") as record:
        warnings.simplefilter("ignore", tk.ToolkitWarning)
        warnings.simplefilter("always", tk.ToolkitDeprecationWarning)
        old = tk.fit_engagement_model(d, covariates=["content_type"], **kw)
    assert sum(issubclass(r.category, tk.ToolkitDeprecationWarning) for r in record) == 1
    assert new.settings["covar"] == old.settings["covar"] == ("content_type",)
    assert_allclose(new.coefficients["estimate"], old.coefficients["estimate"])
    assert any(t.startswith("content_type[T.") for t in new.coefficients["term"])


def test_fit_engagement_model_both_names_is_an_error(posts):
    with pytest.raises(TypeError, match="fit_engagement_model: `covariates` must be left out when `covar`"):
        tk.fit_engagement_model(_two(posts), dv="comments", between="department", covar=["paid"],
                                covariates=["paid"])


@pytest.mark.parametrize("name", ["overdispersion_test", "recommend_model"])
def test_diagnostics_accept_covar_and_the_old_name(posts, name):
    func = _func(name)
    d = _two(posts)
    kw = dict(dv="comments", between="department", exposure="reach")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", tk.ToolkitWarning)
        new = func(d, covar=["paid"], **kw)
    with pytest.warns(tk.ToolkitDeprecationWarning, match="Write covar= instead"):
        warnings.simplefilter("ignore", tk.ToolkitWarning)
        warnings.simplefilter("always", tk.ToolkitDeprecationWarning)
        old = func(d, covariates=["paid"], **kw)
    if name == "overdispersion_test":
        assert_allclose(new["statistic"].to_numpy(), old["statistic"].to_numpy(), rtol=1e-12)
        assert np.isfinite(new["statistic"]).all()
    else:
        assert new.family == old.family
    with pytest.raises(TypeError, match=f"{name}: `covariates` must be left out when `covar` is given"):
        func(d, covar=["paid"], covariates=["paid"], **kw)


# renamed option *values*: public function -> keyword -> {old value: new value}
RENAMED_VALUES = {
    "specification_curve": {"analyses": {"welch": "welch_log_ratio"}},
    "specification_test": {"analyses": {"welch": "welch_log_ratio"}},
}


def test_renamed_values_are_the_ones_the_functions_use():
    from toolkit import robustness

    for name in RENAMED_VALUES:
        assert RENAMED_VALUES[name]["analyses"] == robustness._RENAMED_ANALYSES
    assert "welch" not in robustness.ANALYSES and "welch_log_ratio" in robustness.ANALYSES


def test_specification_curve_old_analysis_value_warns_once_and_gives_the_same_curve(posts):
    kw = dict(between="department", contrast=("PR", "Marketing"), outcomes=("likes",), denominators=("reach",),
              units=("post",), exclusions=("none",), n_jobs=1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        new = tk.specification_curve(posts, analyses=("welch_log_ratio", "rank"), **kw)
    with pytest.warns(tk.ToolkitDeprecationWarning) as record:
        old = tk.specification_curve(posts, analyses=("welch", "rank"), **kw)
    assert len(record) == 1
    text = str(record[0].message)
    assert "specification_curve: the value 'welch' of `analyses` is renamed 'welch_log_ratio'" in text
    assert record[0].filename == __file__  # points at the user's call
    pd.testing.assert_frame_equal(old, new)
    assert new["analysis"].tolist() == ["welch_log_ratio", "rank"]
    with pytest.warns(tk.ToolkitDeprecationWarning, match="specification_test: the value 'welch'"):
        tk.specification_test(posts, analyses="welch", n_resamples=3, seed=1, **kw)


def test_renamed_values_helper_leaves_other_values_alone():
    assert v.renamed_values("f", "analyses", ("rank", 3), {"welch": "welch_log_ratio"}) == ("rank", 3)


def test_deprecated_keyword_helper_leaves_other_calls_alone():
    kwargs = {"covar": ("x",)}
    v.deprecated_keyword("f", "covariates", "covar", kwargs)
    assert kwargs == {"covar": ("x",)}


def test_no_public_function_takes_a_retired_keyword():
    """The house vocabulary (docs/GLOSSARY.md): `covar`, never `covariates`, in every public signature."""
    offenders = [name for name in sorted(tk._EXPORTS) if inspect.isfunction(getattr(tk, name))
                 and "covariates" in inspect.signature(getattr(tk, name)).parameters]
    assert offenders == []
