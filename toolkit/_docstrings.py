"""Shared parameter descriptions for numpydoc docstrings (one wording for one idea).

A docstring line that holds only ``{{name}}`` (indented like a parameter) is replaced by the entry
``name`` of :data:`PARAMS`, re-indented; :func:`fill_doc` does it at import. An unknown name is an
error, so drift cannot hide. ``tests/test_docstrings.py`` renders every public docstring.

:data:`PARAMS` holds the wording shared across modules; a module whose functions share text among themselves
only (the specification-curve choices of ``robustness``) keeps it beside them and passes it as
``@fill_doc(extra={...})``.
"""
from __future__ import annotations

import re

PARAMS: dict[str, str] = {
    "data": """data : pandas.DataFrame
    Long-form data, one row per post.""",
    "dv": """dv : str
    Outcome column (numeric).""",
    "between": """between : str
    Grouping column (at least two groups, each with at least two values).""",
    "between_two": """between : str
    Grouping column with exactly two groups, or pass ``groups``.""",
    "groups_two": """groups : list of two labels or None, default=None
    The two groups to compare, as ``[group_a, group_b]``.""",
    "nan_policy": """nan_policy : {"raise", "omit"}, default="raise"
    "raise" refuses missing outcomes or group labels; "omit" drops those rows and counts them
    in ``n_dropped``.""",
    # count models and their diagnostics (toolkit.models)
    "between_department": """between : str
    Department column.""",
    "dv_count": """dv : str
    Count column.""",
    "exposure": """exposure : str, optional
    Exposure column (log offset).""",
    "covar": """covar : sequence of str, default ()
    Extra model columns (formerly ``covariates=``, still accepted for one release with a warning).""",
    "model_count": """model : EngagementModel
    A Poisson or negative-binomial model.""",
    "model_fit": """model : EngagementModel
    A fit of :func:`toolkit.models.fit_engagement_model` (formula or keyword API).""",
    # practitioner polls (toolkit.survey)
    "data_respondents": """data : pandas.DataFrame
    One row per respondent.""",
    "confidence_level_survey": """confidence_level : float, default=0.95
    Confidence level of the interval(s).""",
    "method_proportion": """method : {"wilson", "wilson_cc", "clopper_pearson", "agresti_coull"}, default="wilson"
    Interval method (see :func:`proportions`).""",
}

_TOKEN = re.compile(r"^(?P<indent>[ \t]*)\{\{(?P<name>\w+)\}\}[ \t]*$", flags=re.M)


def render(doc: str, extra: dict | None = None) -> str:
    """Replace every ``{{name}}`` line of ``doc`` by the shared text, keeping the line's indentation.

    ``extra`` adds module-local entries (a name of :data:`PARAMS` may not be redefined there).
    """
    if extra and set(extra) & set(PARAMS):
        raise KeyError(f"_docstrings: local entries {sorted(set(extra) & set(PARAMS))} would hide shared ones")
    table = {**PARAMS, **(extra or {})}

    def _sub(match: re.Match) -> str:
        name = match.group("name")
        if name not in table:
            raise KeyError(f"_docstrings: unknown shared parameter {name!r}; known: {sorted(table)}")
        indent = match.group("indent")
        return "\n".join(indent + line if line else line for line in table[name].strip("\n").splitlines())

    return _TOKEN.sub(_sub, doc)


def fill_doc(func=None, *, extra: dict | None = None):
    """Decorator: render the shared parameter tokens of ``func.__doc__`` (``@fill_doc`` or
    ``@fill_doc(extra={name: text})`` with module-local entries)."""
    def apply(f):
        if f.__doc__:
            f.__doc__ = render(f.__doc__, extra)
        return f

    return apply if func is None else apply(func)
