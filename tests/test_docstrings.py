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
