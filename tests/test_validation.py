"""The one error template and the shared argument checks."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from toolkit import _validation as v


def test_message_template():
    text = v.message("compare_groups", "between", "the name of a column in `data`", "Department", "Hint.")
    assert text == "compare_groups: `between` must be the name of a column in `data`; got 'Department'. Hint."


def test_check_column_lists_columns_and_suggests(posts_long):
    with pytest.raises(ValueError, match=r"got 'Department'.*Available columns include 'post_id'.*"
                                         r"Did you mean 'department'\?"):
        v.check_column(posts_long, "Department", "f", "between")


def test_check_column_refuses_a_series(posts_long):
    with pytest.raises(TypeError, match="Pass the column name as a string"):
        v.check_column(posts_long, posts_long["likes"], "f", "dv")


def test_check_data_refuses_series_and_other_objects(posts_long):
    with pytest.raises(TypeError, match="Pass the whole DataFrame"):
        v.check_data(posts_long["likes"], "f")
    with pytest.raises(TypeError, match="got 'list'"):
        v.check_data([1, 2], "f")


def test_check_option_did_you_mean():
    with pytest.raises(ValueError, match=r"one of 'raise', 'omit'; got 'omitt'. Did you mean 'omit'\?"):
        v.check_nan_policy("omitt", "f")


@pytest.mark.parametrize("bad, exc, pattern", [(95, ValueError, "pass 0.95 instead"), (0, ValueError, "strictly"),
                                               (1.0, ValueError, "strictly"), ("0.9", TypeError, "number"),
                                               (True, TypeError, "number")])
def test_check_probability(bad, exc, pattern):
    with pytest.raises(exc, match=pattern):
        v.check_probability(bad, "f", "confidence_level")


def test_check_random_state_is_deterministic_and_never_global():
    state = np.random.get_state()[1].copy()
    a = v.check_random_state(3).random(3)
    b = v.check_random_state(3).random(3)
    np.testing.assert_array_equal(a, b)
    g = np.random.default_rng(1)
    assert v.check_random_state(g) is g
    with pytest.raises(TypeError, match="legacy API"):
        v.check_random_state(np.random.RandomState(1))
    with pytest.raises(ValueError, match="non-negative"):
        v.check_random_state(-1)
    np.testing.assert_array_equal(np.random.get_state()[1], state)


def test_numeric_column_errors():
    df = pd.DataFrame({"a": ["1", "2", "3"], "b": [1.0, np.inf, 2.0], "c": [True, False, True],
                       "d": ["x", "y", "z"]})
    with pytest.raises(TypeError, match="numbers stored as text"):
        v.numeric_column(df, "a", "f")
    with pytest.raises(ValueError, match="1 infinite value"):
        v.numeric_column(df, "b", "f")
    with pytest.raises(TypeError, match="boolean"):
        v.numeric_column(df, "c", "f")
    with pytest.raises(TypeError, match="Pick a count or metric column"):
        v.numeric_column(df, "d", "f")


def test_numeric_column_keeps_nullable_missing_as_nan():
    df = pd.DataFrame({"x": pd.array([1, None, 3], dtype="Int64")})
    out = v.numeric_column(df, "x", "f")
    assert out.dtype == np.float64 and np.isnan(out.iloc[1])


# ---------------------------------------------------------------------------------------------
# One check over every public statistics function: a misspelt column argument says "Did you mean" (issue 12)
# ---------------------------------------------------------------------------------------------
_COLUMNS = {"dv": ("likes", "lieks"), "between": ("department", "departmnet"), "subject": ("account", "acount"),
            "exposure": ("reach", "raech"), "covar": ("paid", "piad"), "within": ("platform", "platfrom")}


def _column_cases():
    import inspect

    import toolkit as tk
    for name, module in sorted(tk._EXPORTS.items()):
        if not module.startswith("toolkit.stats."):
            continue
        params = inspect.signature(getattr(tk, name)).parameters
        for param in (p for p in params if p in _COLUMNS):
            yield name, param


@pytest.mark.parametrize("name,param", list(_column_cases()))
def test_misspelt_column_argument_suggests_the_column(name, param):
    import inspect
    import warnings

    import toolkit as tk
    func = getattr(tk, name)
    params = inspect.signature(func).parameters
    # required column arguments get valid names; the one under test gets a typo
    kwargs = {p: _COLUMNS[p][0] for p in params if p in _COLUMNS and params[p].default is inspect.Parameter.empty}
    kwargs[param] = _COLUMNS[param][1]
    posts = tk.simulate_organization(seed=1, n_accounts_per_department=3).data
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", category=v.ToolkitWarning)
        with pytest.raises(ValueError, match=f"`{param}` must be the name of a column.*Did you mean "
                                             f"'{_COLUMNS[param][0]}'"):
            func(posts, **kwargs)
