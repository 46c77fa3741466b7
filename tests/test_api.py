"""Common API tests over every public function (scikit-learn style).

Every name in ``toolkit._EXPORTS`` must resolve, be documented, take ``data`` as its only
positional argument, and document exactly the parameters of its signature. Group-comparison
functions are also run over a grid of options to check the stable output schema, input
immutability, the NaN policy, determinism for a seed and the house error messages.
"""
from __future__ import annotations

import inspect
import re

import numpy as np
import pandas as pd
import pytest

import toolkit as tk
from toolkit.stats import schema

PUBLIC = sorted(tk._EXPORTS)
FUNCTIONS = [n for n in PUBLIC if inspect.isfunction(getattr(tk, n))]


@pytest.mark.parametrize("name", PUBLIC)
def test_public_name_resolves_and_is_documented(name):
    obj = getattr(tk, name)
    assert obj.__doc__ and len(obj.__doc__.strip()) > 40, f"{name} needs a docstring"
    summary = obj.__doc__.strip().splitlines()[0]
    assert summary.endswith("."), f"{name}: one-line summary ends with a period"


def _documented_parameters(doc: str) -> list[str]:
    match = re.search(r"Parameters\n\s*-+\n(.*?)(\n\s*(Returns|Yields|Raises|See Also|Notes|Examples)\n\s*-+|\Z)",
                      doc, flags=re.S)
    if not match:
        return []
    names = []
    for line in match.group(1).splitlines():  # after inspect.getdoc, parameter lines start at column 0
        m = re.match(r"^([A-Za-z_*][A-Za-z0-9_, *]*?)\s*(:|$)", line)
        if m and line.strip():
            names += [n.strip().lstrip("*") for n in m.group(1).split(",")]
    return names


@pytest.mark.parametrize("name", FUNCTIONS)
def test_signature_is_keyword_only_after_data(name):
    sig = inspect.signature(getattr(tk, name))
    params = list(sig.parameters.values())
    positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    assert len(positional) <= 1, f"{name}: only `data` (or the source) may be positional, got {positional}"
    assert not any(p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) for p in params), f"{name}: no *args/**kwargs"


@pytest.mark.parametrize("name", FUNCTIONS)
def test_docstring_parameters_match_signature(name):
    func = getattr(tk, name)
    documented = _documented_parameters(inspect.getdoc(func))
    actual = list(inspect.signature(func).parameters)
    assert documented == actual, f"{name}: docstring documents {documented}, signature has {actual}"


# -- group comparisons: a grid of options -------------------------------------------------------
GROUP_FUNCS = {
    "describe_groups": ({"n_resamples": 199, "seed": 1}, schema.DESCRIBE_COLUMNS),
    "anova": ({}, schema.OMNIBUS_COLUMNS),
    "welch_anova": ({}, schema.OMNIBUS_COLUMNS),
    "kruskal": ({}, schema.OMNIBUS_COLUMNS),
    "permutation_omnibus": ({"n_resamples": 199, "seed": 1}, schema.OMNIBUS_COLUMNS),
    "pairwise": ({"n_resamples": 199, "seed": 1}, schema.PAIRWISE_COLUMNS),
}
TWO_GROUP_FUNCS = {
    "welch_ttest": ({}, schema.TWO_GROUP_COLUMNS),
    "mann_whitney": ({}, schema.TWO_GROUP_COLUMNS),
    "brunner_munzel": ({}, schema.TWO_GROUP_COLUMNS),
    "effect_sizes": ({}, schema.EFFECT_SIZE_COLUMNS),
}


def _two(posts):
    out = posts[posts["department"].isin(["Marketing", "PR"])].copy()
    out["department"] = out["department"].cat.remove_unused_categories()
    return out.reset_index(drop=True)


def _cases():
    for name, (kw, cols) in GROUP_FUNCS.items():
        yield name, kw, cols, False
    for name, (kw, cols) in TWO_GROUP_FUNCS.items():
        yield name, kw, cols, True


CASES = list(_cases())


@pytest.mark.parametrize("name, kw, cols, two", CASES, ids=[c[0] for c in CASES])
def test_stable_columns_and_no_mutation(name, kw, cols, two, posts_long):
    data = _two(posts_long) if two else posts_long
    before = data.copy()
    out = getattr(tk, name)(data, dv="likes", between="department", **kw)
    pd.testing.assert_frame_equal(data, before)
    assert list(out.columns) == list(cols)
    assert isinstance(out.index, pd.RangeIndex)
    # options change values, never columns
    out2 = getattr(tk, name)(data, dv="likes", between="department", confidence_level=0.9, **kw) \
        if "confidence_level" in inspect.signature(getattr(tk, name)).parameters else out
    assert list(out2.columns) == list(cols)


@pytest.mark.parametrize("name, kw, cols, two", CASES, ids=[c[0] for c in CASES])
def test_nan_policy(name, kw, cols, two, posts_with_nan):
    data = _two(posts_with_nan) if two else posts_with_nan
    func = getattr(tk, name)
    with pytest.raises(ValueError, match="nan_policy='omit'"):
        func(data, dv="likes", between="department", **kw)
    out = func(data, dv="likes", between="department", nan_policy="omit", **kw)
    n_missing = int(data["likes"].isna().sum())
    assert (out["n_dropped"] == n_missing).all()


@pytest.mark.parametrize("name, kw, cols, two", CASES, ids=[c[0] for c in CASES])
def test_missing_column_message(name, kw, cols, two, posts_long):
    with pytest.raises(ValueError, match=r"`between` must be the name of a column in `data`; got 'Department'.*"
                                         r"Did you mean 'department'\?"):
        getattr(tk, name)(posts_long, dv="likes", between="Department", **kw)


@pytest.mark.parametrize("name, kw, cols, two", CASES, ids=[c[0] for c in CASES])
def test_deterministic_for_a_seed(name, kw, cols, two, posts_long):
    data = _two(posts_long) if two else posts_long
    if "seed" in inspect.signature(getattr(tk, name)).parameters:
        kw = {**kw, "seed": 1}
    a = getattr(tk, name)(data, dv="likes", between="department", **kw)
    b = getattr(tk, name)(data, dv="likes", between="department", **kw)
    pd.testing.assert_frame_equal(a, b)


@pytest.mark.parametrize("name", [c[0] for c in CASES if "confidence_level" in
                                  inspect.signature(getattr(tk, c[0])).parameters])
def test_invalid_option_values(name, posts_long):
    data = _two(posts_long) if name in TWO_GROUP_FUNCS else posts_long
    kw = (GROUP_FUNCS.get(name) or TWO_GROUP_FUNCS[name])[0]
    with pytest.raises(ValueError, match="pass 0.95 instead"):
        getattr(tk, name)(data, dv="likes", between="department", confidence_level=95, **kw)
    with pytest.raises(ValueError, match="`nan_policy` must be one of 'raise', 'omit'"):
        getattr(tk, name)(data, dv="likes", between="department", nan_policy="drop", **kw)


def test_positional_options_are_refused(posts_long):
    with pytest.raises(TypeError):
        tk.anova(posts_long, "likes", "department")
