"""Model formulas in lme4/glmmTMB syntax: split off the random-effect bars and the exposure offset.

``"comments ~ department * platform + paid + offset(log(reach)) + (1|account) + (1|week)"`` becomes

- the count column ``comments``;
- the fixed part ``department * platform + paid``, handed to formulaic (patsy/R semantics: ``a * b`` is
  ``a + b + a:b``, ``C(x)`` makes a numeric column a factor, ``log(x)`` transforms);
- the exposure ``reach`` (from ``offset(log(reach))``; the offset must be the log of a column, because the
  toolkit reports rates per unit of exposure);
- the random terms ``("account", "week")``; ``(1|a/b)`` expands to ``a`` and ``a:b`` (nested), ``(1|a:b)``
  is the intercept of every combination of a and b;
- random slopes of one numeric column per bar, in ``random_slopes`` (parallel to ``random``): ``(1 + x|g)`` and
  ``(x|g)`` are a correlated intercept and slope per g (one term), ``(0 + x|g)`` / ``(-1 + x|g)`` a slope alone,
  ``(x||g)`` an intercept and a slope without correlation (two terms, glmmTMB's ``diag(1 + x|g)``).

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
    random: tuple              # grouping term of every random term, e.g. ("account", "month:weekday")
    text: str                  # the formula as given
    # per random term (same order): (slope column or None, has an intercept); () = all intercepts only
    random_slopes: tuple = ()

    def slope_of(self, k: int) -> tuple:
        """``(slope column or None, has intercept)`` of random term k."""
        return self.random_slopes[k] if self.random_slopes else (None, True)

    def random_label(self, k: int) -> str:
        """Name of random term k: ``g`` (intercept), ``0 + x|g`` (slope alone), ``1 + x|g`` (correlated)."""
        x, icpt = self.slope_of(k)
        g = self.random[k]
        return g if x is None else f"{'1' if icpt else '0'} + {x}|{g}"

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
    """Split a count-model formula into response, fixed part, exposure and random terms.

    Parameters
    ----------
    formula : str
        ``"<count> ~ <fixed terms> [+ offset(log(<exposure>))] [+ (1|<group>) ...] [+ (1 + <x>|<group>) ...]"``.
    func, param : str
        Names used in error messages.

    Returns
    -------
    ParsedFormula
        Fields ``dv``, ``fixed``, ``exposure``, ``random`` (the grouping term of every random term),
        ``random_slopes`` (per random term ``(slope column or None, has intercept)``; empty when all are
        intercepts) and ``text``.

    Raises
    ------
    TypeError
        If `formula` is not a string.
    ValueError
        For a formula without exactly one ``~``, without a plain column name on the left, with more than one
        slope in a bar (``(1 + x + z|g)``) or a transformed slope, an offset other than ``offset(log(column))``,
        a removed intercept (``- 1``, ``+ 0``) or a ``-`` term.

    Examples
    --------
    >>> p = parse_formula("comments ~ department * platform + offset(log(reach)) + (1|account) + (1|week)")
    >>> p.dv, p.fixed, p.exposure, p.random
    ('comments', 'department * platform', 'reach', ('account', 'week'))
    >>> parse_formula("y ~ a + (1 | school/class)").random
    ('school', 'school:class')
    >>> q = parse_formula("y ~ a + x + (1 + x|g) + (0 + x|h) + (x||k)")
    >>> q.random, q.random_slopes
    (('g', 'h', 'k', 'k'), (('x', True), ('x', False), (None, True), ('x', False)))
    >>> [q.random_label(k) for k in range(4)]
    ['1 + x|g', '0 + x|h', 'k', '0 + x|k']
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
            for term, spec in _random_terms(piece, func, param):
                if (term, spec) not in random:
                    random.append((term, spec))
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
    slopes = tuple(spec for _, spec in random)
    return ParsedFormula(dv=dv, fixed=" + ".join(fixed) if fixed else "1", exposure=exposure,
                         random=tuple(term for term, _ in random), text=formula,
                         random_slopes=slopes if any(x is not None for x, _ in slopes) else ())


def _random_terms(piece: str, func: str, param: str) -> list:
    """The engine terms of one bar ``(lhs|g)`` / ``(lhs||g)``: list of (grouping term, (slope or None, intercept))."""
    inner = piece[1:-1]
    double = "||" in inner
    left, right = (s.strip() for s in inner.split("||" if double else "|", 1))
    if "|" in right:
        raise ValueError(message(func, param, "one bar per random term, e.g. (1|account) or (1 + x|account)",
                                 piece))
    # the left side: '1', 'x', '1 + x', '0 + x', '-1 + x', 'x - 1', 'x + 0'
    text = left.replace(" ", "")
    intercept, names = True, []
    for tok in re.findall(r"[+-]?[^+-]+", text):
        sign, body = (tok[0], tok[1:]) if tok[0] in "+-" else ("+", tok)
        if (sign, body) == ("+", "1"):
            continue
        if (sign, body) in (("+", "0"), ("-", "1")):
            intercept = False
            continue
        if sign == "-" or body == "0":
            raise ValueError(message(func, param, "a random term such as (1|g), (1 + x|g), (0 + x|g) or (x||g)",
                                     piece, "Only the intercept can be removed inside a bar ('0 +' or '- 1')."))
        names.append(_strip_backticks(body))
    if not text:
        raise ValueError(message(func, param, "a random term such as (1|g) or (1 + x|g)", piece))
    if len(names) > 1:
        raise ValueError(message(func, param, "at most one slope per random term, e.g. (1 + x|g)", piece,
                                 "Several slopes in one bar (a 3 x 3 or larger covariance) are not available: "
                                 "write one bar per slope without correlation, e.g. (x||g) + (0 + z|g)."))
    for name in names:
        if not re.fullmatch(_NAME, name):
            raise ValueError(message(func, param, "a plain numeric column as the random slope", name,
                                     "Transforms (log(x), C(x), x:z) are not available inside a bar: add the "
                                     "transformed column to `data` first."))
    slope = names[0] if names else None
    if slope is None and not intercept:
        raise ValueError(message(func, param, "a random term with an intercept or a slope", piece))
    parts = [_strip_backticks(p) for p in right.split("/")]
    for part in parts:
        for name in part.split(":"):
            if not name.strip():
                raise ValueError(message(func, param, "grouping columns in (1|group)", piece))
    out = []
    for k in range(len(parts)):
        term = ":".join(p.strip() for p in parts[:k + 1])
        if slope is None:
            out.append((term, (None, True)))
        elif double and intercept:      # (x||g): intercept and slope, uncorrelated
            out += [(term, (None, True)), (term, (slope, False))]
        else:
            out.append((term, (slope, intercept)))
    return out


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
