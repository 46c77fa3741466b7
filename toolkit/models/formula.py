"""Model formulas in lme4/glmmTMB syntax: split off the random-effect bars and the exposure offset.

``"comments ~ department * platform + paid + offset(log(reach)) + (1|account) + (1|week)"`` becomes

- the count column ``comments``;
- the fixed part ``department * platform + paid``, handed to formulaic (patsy/R semantics: ``a * b`` is
  ``a + b + a:b``, ``C(x)`` makes a numeric column a factor, ``log(x)`` transforms);
- the exposure ``reach`` (from ``offset(log(reach))``; the offset must be the log of a column, because the
  toolkit reports rates per unit of exposure);
- the random intercepts ``("account", "week")``; ``(1|a/b)`` expands to ``a`` and ``a:b`` (nested), ``(1|a:b)``
  is the intercept of every combination of a and b.

Only this module reads formula text; :mod:`toolkit.models._design` turns the parts into matrices.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from .._validation import message

_NAME = r"[A-Za-z_.][A-Za-z0-9_.]*"


@dataclass(frozen=True)
class ParsedFormula:
    """The parts of a model formula (see the module docstring)."""

    dv: str
    fixed: str                 # right-hand side for formulaic, e.g. "department * platform + paid" ("1" if none)
    exposure: str | None       # column inside offset(log(...)), or None
    random: tuple              # random-intercept grouping terms, e.g. ("account", "month:weekday")
    text: str                  # the formula as given

    @property
    def random_factors(self) -> tuple:
        """The grouping columns of every random term, e.g. (("account",), ("month", "weekday"))."""
        return tuple(tuple(t.split(":")) for t in self.random)


def _split_top(text: str, sep: str = "+") -> list[str]:
    """Split at `sep` outside parentheses/brackets; keeps the pieces' text (stripped)."""
    out, depth, cur = [], 0, []
    for ch in text:
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        if ch == sep and depth == 0:
            out.append("".join(cur).strip())
            cur = []
        else:
            cur.append(ch)
    out.append("".join(cur).strip())
    return out


def _strip_backticks(name: str) -> str:
    name = name.strip()
    return name[1:-1] if len(name) > 1 and name[0] == name[-1] == "`" else name


def parse_formula(formula, *, func: str = "fit_engagement_model", param: str = "formula") -> ParsedFormula:
    """Split a count-model formula into response, fixed part, exposure and random intercepts.

    Parameters
    ----------
    formula : str
        ``"<count> ~ <fixed terms> [+ offset(log(<exposure>))] [+ (1|<group>) ...]"``.
    func, param : str
        Names used in error messages.

    Returns
    -------
    ParsedFormula
        Fields ``dv``, ``fixed``, ``exposure``, ``random`` (tuple of grouping terms) and ``text``.

    Raises
    ------
    TypeError
        If `formula` is not a string.
    ValueError
        For a formula without exactly one ``~``, without a plain column name on the left, with a random slope
        ``(x|g)``, an offset other than ``offset(log(column))``, a removed intercept (``- 1``, ``+ 0``) or
        a ``-`` term.

    Examples
    --------
    >>> p = parse_formula("comments ~ department * platform + offset(log(reach)) + (1|account) + (1|week)")
    >>> p.dv, p.fixed, p.exposure, p.random
    ('comments', 'department * platform', 'reach', ('account', 'week'))
    >>> parse_formula("y ~ a + (1 | school/class)").random
    ('school', 'school:class')
    """
    if not isinstance(formula, str):
        raise TypeError(message(func, param, "a formula string such as \"comments ~ department + "
                                "offset(log(reach)) + (1|account)\"", type(formula).__name__))
    if formula.count("~") != 1:
        raise ValueError(message(func, param, "a formula with exactly one '~' (count on the left, terms on "
                                 "the right)", formula))
    lhs, rhs = (s.strip() for s in formula.split("~"))
    dv = _strip_backticks(lhs)
    if not re.fullmatch(_NAME, dv) and not (lhs.startswith("`") and lhs.endswith("`")):
        raise ValueError(message(func, param, "a plain count column on the left of '~'", lhs,
                                 "Model the count itself (e.g. 'comments ~ ...') and put the denominator in "
                                 "offset(log(reach)); never a rate or a transformed count."))
    fixed, random, exposure = [], [], None
    for piece in _split_top(rhs, "+"):
        if not piece:
            raise ValueError(message(func, param, "terms joined by '+'", formula, "Remove the empty term."))
        if piece.replace(" ", "") in ("0", "-1") or len(_split_top(piece, "-")) > 1 and \
                _split_top(piece, "-")[-1].strip() in ("1", "0"):
            raise ValueError(message(func, param, "a formula with an intercept", formula,
                                     "The toolkit reports rate ratios against a reference level, which needs "
                                     "the intercept: remove '+ 0' / '- 1'."))
        if len(_split_top(piece, "-")) > 1:
            raise ValueError(message(func, param, "terms joined by '+' (no '-' terms)", formula,
                                     "Write the terms you want instead of removing some; the intercept is "
                                     "always kept (rate ratios need a reference level)."))
        if piece.startswith("(") and piece.endswith(")") and "|" in piece:
            inner = piece[1:-1]
            if "||" in inner:
                raise ValueError(message(func, param, "random intercepts written (1|group)", piece,
                                         "'||' (uncorrelated slopes) is not available."))
            left, right = (s.strip() for s in inner.split("|", 1))
            if left.replace(" ", "") != "1":
                raise ValueError(message(func, param, "random intercepts only, written (1|group)", piece,
                                         "Random slopes (x|group) are not available yet; model the slope as a "
                                         "fixed interaction (x * department) or fit per-group models."))
            parts = [_strip_backticks(p) for p in right.split("/")]
            for part in parts:
                for name in part.split(":"):
                    if not re.fullmatch(_NAME, name.strip()) and not name.strip():
                        raise ValueError(message(func, param, "grouping columns in (1|group)", piece))
            for k in range(len(parts)):
                term = ":".join(p.strip() for p in parts[:k + 1])
                if term not in random:
                    random.append(term)
            continue
        m = re.fullmatch(r"offset\s*\((.*)\)", piece)
        if m:
            inner = re.fullmatch(r"\s*log\s*\((.*)\)\s*", m.group(1))
            if inner is None:
                raise ValueError(message(func, param, "an offset written offset(log(<exposure column>))", piece,
                                         "The exposure enters on the log scale, e.g. offset(log(reach))."))
            if exposure is not None:
                raise ValueError(message(func, param, "at most one offset", formula))
            exposure = _strip_backticks(inner.group(1))
            continue
        if piece == "1":
            continue
        fixed.append(piece)
    return ParsedFormula(dv=dv, fixed=" + ".join(fixed) if fixed else "1", exposure=exposure,
                         random=tuple(random), text=formula)


def parse_zero_formula(zero_formula, *, func: str = "fit_engagement_model") -> str:
    """The right-hand side of a one-sided zero-part formula ``"~ paid"`` (``"~ 1"``: intercept only).

    Examples
    --------
    >>> parse_zero_formula("~ paid + platform")
    'paid + platform'
    """
    if not isinstance(zero_formula, str):
        raise TypeError(message(func, "zero_formula", "a one-sided formula string such as '~ paid'",
                                type(zero_formula).__name__))
    text = zero_formula.strip()
    if not text.startswith("~") or text.count("~") != 1:
        raise ValueError(message(func, "zero_formula", "a one-sided formula such as '~ paid' (nothing left of "
                                 "'~': the zero part models the same count)", zero_formula))
    rhs = text[1:].strip()
    if "|" in rhs or "offset" in rhs:
        raise ValueError(message(func, "zero_formula", "fixed terms only (no random effects, no offset)",
                                 zero_formula))
    return rhs or "1"
