"""Checks for the tutorials' exercises: a check fails until the student has filled in an answer.

A tutorial exercise is two cells. The *exercise cell* (tagged ``exercise-N``) assigns placeholders,
``my_difference = ...``, that the student replaces with code. The *check cell* (tagged ``check-N`` and
``raises-exception``) calls :func:`check_answer` with an expected value that it computes from the data
by another route (a toolkit function, a formula). While a placeholder is left, the check raises
:class:`AnswerMissing`; a wrong answer raises :class:`AnswerIncorrect`; a right one returns a short
confirmation. The solutions live in ``notebooks/tutorials/solutions/NN-name.py`` and are run by
``scripts/run_notebooks.py`` and ``tests/test_notebooks.py`` (see ``notebooks/tutorials/README.md``).
"""
from __future__ import annotations

import math
import numbers
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ._validation import message

__all__ = ["check_answer", "AnswerMissing", "AnswerIncorrect", "CheckPassed"]


class AnswerMissing(AssertionError):
    """An exercise's answer is still the placeholder (``...`` or ``None``)."""


class AnswerIncorrect(AssertionError):
    """An exercise's answer does not match the expected value within the tolerance."""


@dataclass(frozen=True)
class CheckPassed:
    """The result of a passed check; its text is what the notebook shows."""

    name: str
    text: str

    def __repr__(self) -> str:
        return self.text

    def __str__(self) -> str:
        return self.text


def _is_placeholder(value) -> bool:
    return value is Ellipsis or value is None


def _kind(value) -> str:
    if isinstance(value, (bool, np.bool_)):
        return "bool"
    if isinstance(value, str):
        return "str"
    if isinstance(value, numbers.Real):
        return "number"
    if isinstance(value, (pd.DataFrame, pd.Series, np.ndarray, list, tuple)):
        return "array"
    return "other"


def _numeric_array(value, name: str) -> np.ndarray:
    if isinstance(value, pd.DataFrame):
        value = value.select_dtypes(include=["number", "bool"]).to_numpy(dtype="float64")
    try:
        return np.asarray(value, dtype="float64")
    except (TypeError, ValueError) as exc:
        raise AnswerIncorrect(f"`{name}` should hold numbers only; got {value!r} ({exc}).") from None


def check_answer(answer, *, expected, name="answer", rtol=1e-9, atol=0.0, hint=None):
    """Check a tutorial answer against an expected value; fail with a helpful message until it is right.

    Parameters
    ----------
    answer : object
        The student's value. ``...`` or ``None`` (the placeholders of an unfilled exercise) raise
        :class:`AnswerMissing`.
    expected : object
        The value to match, computed by the check cell from the data by another route (a toolkit function
        or a formula), never typed in by hand. A number, a bool, a str, or an array-like of numbers
        (list, tuple, ndarray, Series, DataFrame: compared element-wise, DataFrames on their numeric columns).
    name : str, default "answer"
        The variable's name, used in the messages.
    rtol, atol : float, default 1e-9 and 0.0
        Tolerance for numbers: ``|answer - expected| <= atol + rtol * |expected|`` (``numpy.isclose``). Bools
        and text must match exactly (text ignoring case and surrounding spaces).
    hint : str or None
        Added to the message when the answer is wrong or missing.

    Returns
    -------
    CheckPassed
        ``name`` and a one-line confirmation ``text`` (shown as the cell's output).

    Raises
    ------
    AnswerMissing
        ``answer`` is ``...`` or ``None``: the exercise has not been done.
    AnswerIncorrect
        ``answer`` has the wrong kind, shape or value. The message says what was received and, for numbers,
        the tolerance; it does not give the expected value away.

    Notes
    -----
    Both exceptions subclass ``AssertionError``, so a failed check stops "Run all" in a notebook unless its
    cell is tagged ``raises-exception`` (the tutorials tag their check cells so that a notebook with open
    exercises still runs from top to bottom). NaN equals NaN in array answers. Not a statistical function:
    no reference values apply.

    Examples
    --------
    >>> check_answer(0.30000000000000004, expected=0.1 + 0.2, name="total")
    total: correct.
    >>> check_answer(..., expected=1.0, name="total")
    Traceback (most recent call last):
    ...
    toolkit.exercises.AnswerMissing: Exercise not done yet: `total` is still the placeholder `...`. Replace it with your answer in the exercise cell above, run that cell, then run this check again.
    """
    if not isinstance(name, str) or not name:
        raise TypeError(message("check_answer", "name", "a non-empty str (the answer's variable name)", name))
    extra = f" Hint: {hint.strip()}" if hint else ""
    if _is_placeholder(answer):
        shown = "..." if answer is Ellipsis else "None"
        raise AnswerMissing(f"Exercise not done yet: `{name}` is still the placeholder `{shown}`. Replace it with "
                            f"your answer in the exercise cell above, run that cell, then run this check again."
                            + extra)
    if _is_placeholder(expected):
        raise TypeError(message("check_answer", "expected", "a value computed by the check cell", expected))
    kind, got_kind = _kind(expected), _kind(answer)
    if kind == "bool":
        if got_kind != "bool":
            raise AnswerIncorrect(f"`{name}` should be True or False; got {answer!r} ({type(answer).__name__})."
                                  + extra)
        ok = bool(answer) == bool(expected)
    elif kind == "str":
        if got_kind != "str":
            raise AnswerIncorrect(f"`{name}` should be text; got {answer!r} ({type(answer).__name__})." + extra)
        ok = answer.strip().lower() == expected.strip().lower()
    elif kind == "number":
        if got_kind != "number":
            raise AnswerIncorrect(f"`{name}` should be a single number; got {type(answer).__name__} "
                                  f"{_short(answer)}. If it is a one-element table, take the number out of it, "
                                  f"e.g. `.iloc[0]` or `float(...)`." + extra)
        a, e = float(answer), float(expected)
        ok = (math.isnan(a) and math.isnan(e)) or bool(np.isclose(a, e, rtol=rtol, atol=atol))
        if not ok:
            raise AnswerIncorrect(f"`{name}` = {a!r} is not the expected value (allowed difference "
                                  f"{atol:g} + {rtol:g} x |expected|). Check your computation.{extra}")
    elif kind == "array":
        a, e = _numeric_array(answer, name), _numeric_array(expected, "expected")
        if a.shape != e.shape:
            raise AnswerIncorrect(f"`{name}` should have shape {e.shape}; got shape {a.shape}." + extra)
        ok = bool(np.allclose(a, e, rtol=rtol, atol=atol, equal_nan=True))
        if not ok:
            wrong = int((~np.isclose(a, e, rtol=rtol, atol=atol, equal_nan=True)).sum())
            raise AnswerIncorrect(f"`{name}` differs from the expected values in {wrong} of {a.size} element(s) "
                                  f"(allowed difference {atol:g} + {rtol:g} x |expected|)." + extra)
    else:
        ok = bool(answer == expected)
    if not ok:
        raise AnswerIncorrect(f"`{name}` = {_short(answer)} is not the expected answer.{extra}")
    return CheckPassed(name=name, text=f"{name}: correct.")


def _short(value) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
