"""Shared parameter descriptions for numpydoc docstrings (one wording for one idea).

A docstring line that holds only ``{{name}}`` (indented like a parameter) is replaced by the entry
``name`` of :data:`PARAMS`, re-indented; :func:`fill_doc` does it at import. An unknown name is an
error, so drift cannot hide. ``tests/test_docstrings.py`` renders every public docstring.
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
}

_TOKEN = re.compile(r"^(?P<indent>[ \t]*)\{\{(?P<name>\w+)\}\}[ \t]*$", flags=re.M)


def render(doc: str) -> str:
    """Replace every ``{{name}}`` line of ``doc`` by the shared text, keeping the line's indentation."""
    def _sub(match: re.Match) -> str:
        name = match.group("name")
        if name not in PARAMS:
            raise KeyError(f"_docstrings: unknown shared parameter {name!r}; known: {sorted(PARAMS)}")
        indent = match.group("indent")
        return "\n".join(indent + line if line else line for line in PARAMS[name].splitlines())

    return _TOKEN.sub(_sub, doc)


def fill_doc(func):
    """Decorator: render the shared parameter tokens of ``func.__doc__``."""
    if func.__doc__:
        func.__doc__ = render(func.__doc__)
    return func
