"""toolkit.exercises.check_answer: fails on placeholders and wrong answers, passes on right ones."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import toolkit as tk
from toolkit.exercises import AnswerIncorrect, AnswerMissing


@pytest.mark.parametrize("placeholder", [..., None])
def test_placeholder_is_missing(placeholder):
    with pytest.raises(AnswerMissing, match="Exercise not done yet: `n_holm` is still the placeholder"):
        tk.check_answer(placeholder, expected=3, name="n_holm", hint="count the rows")


def test_numbers_within_tolerance():
    assert str(tk.check_answer(1.0 + 1e-12, expected=1.0, name="x")) == "x: correct."
    with pytest.raises(AnswerIncorrect, match=r"`x` = 1.1 is not the expected value \(allowed difference 0 \+ 1e-09"):
        tk.check_answer(1.1, expected=1.0, name="x")
    tk.check_answer(1.04, expected=1.0, name="x", atol=0.05)
    tk.check_answer(np.int64(3), expected=3, name="n")
    tk.check_answer(np.float64(np.nan), expected=float("nan"), name="x")


def test_number_expected_but_table_given():
    with pytest.raises(AnswerIncorrect, match=r"(?s)single number.*\.iloc\[0\]"):
        tk.check_answer(pd.Series([1.0]), expected=1.0, name="x")


def test_bools_and_text_exactly():
    tk.check_answer(np.bool_(True), expected=True, name="b")
    with pytest.raises(AnswerIncorrect):
        tk.check_answer(False, expected=True, name="b")
    with pytest.raises(AnswerIncorrect, match="should be True or False"):
        tk.check_answer(1, expected=True, name="b")
    tk.check_answer(" Yes", expected="yes", name="t")
    with pytest.raises(AnswerIncorrect):
        tk.check_answer("no", expected="yes", name="t")


def test_arrays_and_frames():
    tk.check_answer([0.1, 0.2], expected=np.array([0.1, 0.2]), name="p")
    with pytest.raises(AnswerIncorrect, match="shape"):
        tk.check_answer([0.1], expected=[0.1, 0.2], name="p")
    with pytest.raises(AnswerIncorrect, match="1 of 2 element"):
        tk.check_answer([0.1, 0.3], expected=[0.1, 0.2], name="p")
    frame = pd.DataFrame({"analysis": ["a"], "power": [0.5], "mc_se": [0.1]})
    tk.check_answer(frame.copy(), expected=frame, name="table")


def test_bad_arguments():
    with pytest.raises(TypeError, match="check_answer: `expected` must be a value computed by the check cell"):
        tk.check_answer(1.0, expected=..., name="x")
    with pytest.raises(TypeError, match="`name` must be"):
        tk.check_answer(1.0, expected=1.0, name="")
