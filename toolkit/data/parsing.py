"""Pure, vectorised parsers for messy export text: counts, flags, dates, labels, encodings, delimiters.

Every ``parse_*_series`` function takes a Series (text or already typed), returns a
:class:`ParseResult` with the parsed values (same length, same index) and one row per problem
cell, and never mutates its input. :func:`toolkit.data.reading.read_posts` turns the problems
into :class:`~toolkit.data.quality.QualityReport` entries.

Problem rules produced here (stable names; ``action`` in brackets):

- ``abbreviated_number`` [repaired]: "1.2K" / "3M" / "2B" expanded to 1200 / 3000000 / 2000000000.
- ``percent_in_count`` [repaired]: a percent string in a count column; the cell is set to missing.
- ``non_integer_count`` [repaired]: a non-integral number (e.g. 2.5) in a count column; set to missing.
- ``negative_count`` [repaired]: a negative count; set to missing (the rest of the row survives).
- ``unparseable_number`` [repaired]: text that is not a number; set to missing.
- ``unparseable_flag`` [repaired]: a ``paid`` value other than 1/0, true/false, yes/no, paid/organic.
- ``unparseable_date`` [repaired]: a date that matches no known format (or conflicts with the
  column's day/month order, or lies outside 1678-2261); set to missing.
- ``nonexistent_local_time`` [repaired]: a naive time that does not exist or is ambiguous in
  ``timezone`` (daylight-saving change); set to missing.

Blank cells and the tokens in :data:`MISSING_TOKENS` are missing data, not problems: they are
counted in :attr:`ParseResult.n_missing` and never produce entries.
"""
from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from toolkit._validation import message

#: Cell texts (after stripping, case-insensitive) that mean "missing".
MISSING_TOKENS: tuple[str, ...] = ("", "na", "n/a", "nan", "null", "none", "-", "--", "#n/a", "<na>", "nat")

#: Characters that are invisible in a spreadsheet but make labels differ.
INVISIBLE_CHARACTERS: str = "\u200b\u200c\u200d\u2060\ufeff\u00ad"
_INVISIBLE_RE = "[" + INVISIBLE_CHARACTERS + "]"
_SPACE_CHARS = " \u00a0\u202f\u2009\u2007"
#: A run of whitespace (the characters of ``str.isspace``), spelled with literal characters rather than
#: ``\s`` so that pandas can hand the regex to pyarrow instead of looping in Python.
_WHITESPACE_RUN = "[\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+"

#: Delimiters that :func:`sniff_delimiter` chooses from.
DELIMITERS: tuple[str, ...] = (",", ";", "\t", "|")

#: Encodings preferred when charset-normalizer finds several equally good candidates that decode
#: the bytes differently (most common exports first).
PREFERRED_ENCODINGS: tuple[str, ...] = ("utf_8", "cp1252", "gb18030", "big5", "shift_jis", "euc_kr", "cp1251")

#: Candidates whose charset-normalizer "mess" ratio is within this of the best count as equally good.
_TIE_WINDOW = 0.05

PROBLEM_COLUMNS = ("position", "rule", "action", "message", "original_value", "new_value")

_FLAG_TRUE = ("1", "1.0", "true", "yes", "y", "paid", "t")
_FLAG_FALSE = ("0", "0.0", "false", "no", "n", "organic", "f")


@dataclass(frozen=True)
class ParseResult:
    """Parsed values plus the problems found on the way.

    Attributes
    ----------
    values : pandas.Series
        Parsed values, same length and index as the input; problem cells are missing.
    problems : pandas.DataFrame
        One row per problem cell with columns ``position`` (0-based position in the input),
        ``rule``, ``action``, ``message``, ``original_value`` and ``new_value`` (text or None).
    n_missing : int
        Cells that were missing in the input (blank or a token in :data:`MISSING_TOKENS`).
    notes : tuple of str
        Column-level facts (e.g. "3 values had thousands separators removed").
    """

    values: pd.Series
    problems: pd.DataFrame
    n_missing: int = 0
    notes: tuple[str, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class DetectedEncoding:
    """Result of :func:`detect_encoding`: the codec name and how it was found."""

    encoding: str
    method: str


# ---------------------------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------------------------
def _to_text(values: Any) -> pd.Series:
    """Return ``values`` as a ``str`` Series with missing values as ""; index kept."""
    s = values if isinstance(values, pd.Series) else pd.Series(values)
    if pd.api.types.is_string_dtype(s.dtype) and not isinstance(s.dtype, pd.CategoricalDtype):
        return s.astype("str").fillna("")
    obj = s.astype("object")
    return obj.where(obj.notna(), "").astype("str")


def _clean(text: pd.Series) -> pd.Series:
    """Strip surrounding (Unicode) whitespace and drop invisible characters."""
    if _all_ascii(text):  # no invisible character can be present: skip the regex pass
        return text.str.strip()
    return text.str.replace(_INVISIBLE_RE, "", regex=True).str.strip()


def _arrow_strings(text: pd.Series):
    """The pyarrow array behind an Arrow-backed text Series, or None."""
    arr = getattr(text.array, "_pa_array", None)
    if arr is None:
        return None
    import pyarrow as pa

    return arr if pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type) else None


def _all_ascii(text: pd.Series) -> bool:
    """True when every value of an Arrow-backed text Series is pure ASCII (False if unknown)."""
    arr = _arrow_strings(text)
    if arr is None:
        return False
    import pyarrow.compute as pc

    return len(arr) == 0 or bool(pc.all(pc.string_is_ascii(arr)).as_py() is not False)


def _collapse_whitespace(text: pd.Series) -> pd.Series:
    """Every run of whitespace replaced by one space (skipped when no value has a run or a non-space blank)."""
    arr = _arrow_strings(text)
    if arr is not None and _all_ascii(text):
        import pyarrow.compute as pc

        # ASCII whitespace other than the space is a control character (< 0x20): scan the bytes
        chunks = arr.chunks if hasattr(arr, "chunks") else [arr]
        control = any(c.buffers()[2] is not None and (np.frombuffer(c.buffers()[2], dtype=np.uint8) < 32).any()
                      for c in chunks)
        if not control and not pc.any(pc.match_substring(arr, "  ")).as_py():
            return text
    return text.str.replace(_WHITESPACE_RUN, " ", regex=True)


def _factorize_text(values: pd.Series) -> tuple[np.ndarray, pd.Series]:
    """(codes, distinct texts) of ``_to_text(values)``: text rules run once per distinct value."""
    codes, uniques = pd.factorize(_to_text(values).reset_index(drop=True))
    return np.asarray(codes, dtype="int64"), pd.Series(uniques, dtype="str")


_LONGEST_TOKEN = max(len(t) for t in MISSING_TOKENS)


def _missing_mask(cleaned: pd.Series) -> pd.Series:
    # lower-casing never shortens a text, so only texts at most as long as the longest token can be one
    short = (cleaned.str.len() <= _LONGEST_TOKEN).to_numpy(dtype=bool, na_value=False)
    if short.all():
        return cleaned.str.lower().isin(MISSING_TOKENS)
    out = np.zeros(len(cleaned), dtype=bool)
    if short.any():
        out[short] = cleaned[short].str.lower().isin(MISSING_TOKENS).to_numpy(dtype=bool, na_value=False)
    return pd.Series(out, index=cleaned.index)


def _problems(position, rule, action, messages, original, new) -> pd.DataFrame:
    n = len(position)
    frame = pd.DataFrame({
        "position": np.asarray(position, dtype="int64"),
        "rule": [rule] * n,
        "action": [action] * n,
        "message": list(messages),
        "original_value": list(original),
        "new_value": list(new) if not isinstance(new, (str, type(None))) else [new] * n,
    }, columns=list(PROBLEM_COLUMNS))
    return frame


_NO_PROBLEMS = pd.DataFrame({c: pd.Series(dtype="int64" if c == "position" else "object") for c in PROBLEM_COLUMNS})


def _concat_problems(frames: list[pd.DataFrame]) -> pd.DataFrame:
    frames = [f for f in frames if len(f)]
    if not frames:
        return _NO_PROBLEMS.copy()
    return pd.concat(frames, ignore_index=True).sort_values("position", kind="stable").reset_index(drop=True)


def _is_plain_numeric(s: pd.Series) -> bool:
    return (pd.api.types.is_numeric_dtype(s.dtype) and not pd.api.types.is_bool_dtype(s.dtype)
            and not isinstance(s.dtype, pd.CategoricalDtype))


# ---------------------------------------------------------------------------------------------
# counts
# ---------------------------------------------------------------------------------------------
_NUMBER_RE = re.compile(
    r"^(?P<sign>[+-]?)"
    r"(?:(?P<grouped>[0-9]{1,3}(?P<sep>[,.' \u00a0\u202f\u2009\u2007])[0-9]{3}(?:(?P=sep)[0-9]{3})*)|(?P<plain>[0-9]+))?"
    r"(?:(?P<dec>[.,])(?P<frac>[0-9]+))?"
    r"(?:[eE](?P<exp>[+-]?[0-9]{1,3}))?"
    r"(?:\s*(?P<suffix>[kKmMbB]))?$")
_MULTIPLIER = {"k": 1e3, "m": 1e6, "b": 1e9}


def parse_count_series(values: Any, *, column: str = "value") -> ParseResult:
    """Parse a column of counts written as text into nullable integers.

    Parameters
    ----------
    values : pandas.Series
        Cell texts (or numbers, which are checked the same way).
    column : str, default="value"
        Column name used in problem messages.

    Returns
    -------
    ParseResult
        ``values`` has dtype ``Int64``. Problems use the rules ``abbreviated_number``,
        ``percent_in_count``, ``non_integer_count``, ``negative_count`` and ``unparseable_number``
        (see the module docstring).

    Notes
    -----
    Accepted forms: ``"1234"``, ``" 1 234 "`` (spaces and non-breaking spaces around),
    thousands separators ``"1,234"``, ``"1.234.567"``, ``"1 234"``, ``"12'345"`` (a group of
    exactly three digits after a separator is always read as thousands, because a count cannot
    have a fractional part), integral decimals and scientific notation (``"3.0"``,
    ``"1.2E+05"``), and abbreviations ``"1.2K"``, ``"3M"`` (recorded as repairs). Blank cells and
    :data:`MISSING_TOKENS` become ``<NA>`` and are only counted.

    Examples
    --------
    >>> from toolkit.data.parsing import parse_count_series
    >>> r = parse_count_series(pd.Series(["1,234", "1.2K", "-3", "", "2.5"]), column="likes")
    >>> r.values.tolist()
    [1234, 1200, <NA>, <NA>, <NA>]
    >>> r.problems["rule"].tolist()
    ['abbreviated_number', 'negative_count', 'non_integer_count']
    """
    s = values if isinstance(values, pd.Series) else pd.Series(values)
    n = len(s)
    out = np.zeros(n, dtype="int64")
    valid = np.zeros(n, dtype=bool)
    problems: list[pd.DataFrame] = []
    notes: list[str] = []

    if _is_plain_numeric(s):
        n_missing = _typed_counts(s, out, valid, problems, column)
    else:
        return _parse_count_text(s, column=column, index=s.index, name=s.name)
    values_out = pd.Series(pd.arrays.IntegerArray(out, ~valid), index=s.index, name=s.name)
    return ParseResult(values_out, _concat_problems(problems), n_missing, tuple(notes))


def _parse_count_codes(codes: np.ndarray, uniq: pd.Series, *, column: str, index=None, name=None) -> ParseResult:
    """:func:`parse_count_series` of the texts ``uniq[codes]`` (as from :func:`_factorize_text`).

    Every rule depends on the cell text only: the distinct texts are cleaned and classified once and
    expanded by ``codes``. ``uniq`` may hold texts that no code points to (they change nothing).
    """
    n = len(codes)
    out = np.zeros(n, dtype="int64")
    valid = np.zeros(n, dtype=bool)
    problems: list[pd.DataFrame] = []
    notes: list[str] = []
    text_u = _clean(uniq)
    miss_u = _missing_mask(text_u).to_numpy(dtype=bool, copy=True)
    plain_u = text_u.str.fullmatch(r"\+?[0-9]{1,18}").to_numpy(dtype=bool, na_value=False) & ~miss_u
    int_u = np.zeros(len(uniq), dtype="int64")
    if plain_u.any():
        int_u[plain_u] = text_u[plain_u].str.lstrip("+").astype("int64").to_numpy(dtype="int64")
    missing_np = miss_u[codes]
    plain_np = plain_u[codes]
    n_missing = int(missing_np.sum())
    out[plain_np] = int_u[codes[plain_np]]
    valid[plain_np] = True
    rest_pos = np.flatnonzero(~plain_np & ~missing_np)
    if len(rest_pos):
        rest_text = pd.Series(text_u.to_numpy(dtype=object)[codes[rest_pos]], dtype="str")
        k = len(rest_pos)
        out_r, valid_r, problems_r = np.zeros(k, dtype="int64"), np.zeros(k, dtype=bool), []
        _parse_formatted(rest_text, np.ones(k, dtype=bool), out_r, valid_r, problems_r, notes, column)
        out[rest_pos] = out_r
        valid[rest_pos] = valid_r
        for frame in problems_r:
            problems.append(frame.assign(position=rest_pos[frame["position"].to_numpy(dtype="int64")]))
    index = pd.RangeIndex(n) if index is None else index
    values_out = pd.Series(pd.array(out, dtype="Int64"), index=index, name=name)
    values_out[~valid] = pd.NA
    return ParseResult(values_out, _concat_problems(problems), n_missing, tuple(notes))


def _parse_count_text(values: pd.Series, *, column: str, rows: np.ndarray | None = None, index=None,
                      name=None) -> ParseResult:
    """:func:`parse_count_series` of the text cells ``values.iloc[rows]`` (all if None), plain digits read fast.

    A cell of 1-18 ASCII digits and nothing else (the usual export) is its own clean text, no missing token
    and an integer that int64 holds: it is read by one pyarrow cast over the whole column (so the texts of
    ``rows`` are never copied); an empty cell is missing; "-" and 1-15 digits, not all zero, is a negative
    count (repaired to missing). Every other cell goes to :func:`_parse_count_codes`
    (cleaned and classified once per distinct text). The cells that reach the column-level rules there
    (thousands separators, ambiguous "1.234", notes) are the same as without the fast path, because a plain
    or empty cell never reaches them; tests compare both paths.
    """
    every = _to_text(values).reset_index(drop=True)
    arr = _arrow_strings(every)
    if arr is None or len(every) == 0:
        text = every if rows is None else every.iloc[rows].reset_index(drop=True)
        return _parse_count_codes(*_factorize_text(text), column=column, index=index, name=name)
    import pyarrow as pa
    import pyarrow.compute as pc

    lengths = pc.binary_length(arr)
    plain_pa = pc.and_(pc.ascii_is_decimal(arr), pc.less_equal(lengths, 18))
    plain = np.asarray(plain_pa.to_numpy(zero_copy_only=False), dtype=bool)
    out = np.zeros(len(every), dtype="int64")
    if plain.any():
        digits = arr if plain.all() else pc.filter(arr, plain_pa)
        out[plain] = pc.cast(digits, pa.int64()).to_numpy(zero_copy_only=False)
    if rows is not None:
        out, plain = out[rows], plain[rows]
    n = len(out)
    valid = plain.copy()
    rest = np.flatnonzero(~plain)
    rest_in_column = rest if rows is None else np.asarray(rows)[rest]
    filled = np.asarray(lengths.to_numpy(zero_copy_only=False))[rest_in_column] > 0
    n_missing, notes, problems = int((~filled).sum()), (), []  # an empty cell is missing
    rest, rest_in_column = rest[filled], rest_in_column[filled]
    if len(rest):
        # a plain negative integer of up to 15 digits, not zero ("-3"): a negative_count repair, exactly as the
        # general parser words it (such a cell changes none of its column-level rules or notes)
        texts = every.iloc[rest_in_column]
        negative = (texts.str.fullmatch(r"-[0-9]{1,15}") & ~texts.str.fullmatch(r"-0+")).to_numpy(dtype=bool)
        if negative.any():
            shown = texts[negative].tolist()
            problems.append(_problems(rest[negative], "negative_count", "repaired",
                                      [f"{column}: {x!r} is negative; counts cannot be below 0; set to missing"
                                       for x in shown], shown, "<NA>"))
            rest, rest_in_column = rest[~negative], rest_in_column[~negative]
    if len(rest):
        general = _parse_count_codes(*_factorize_text(every.iloc[rest_in_column]), column=column)
        part = general.values.array
        out[rest] = part.to_numpy(dtype="int64", na_value=0)
        valid[rest] = ~part.isna()
        problems.append(general.problems.assign(position=rest[general.problems["position"].to_numpy(dtype="int64")]))
        n_missing, notes = n_missing + general.n_missing, general.notes
    index = pd.RangeIndex(n) if index is None else index
    values_out = pd.Series(pd.arrays.IntegerArray(out, ~valid), index=index, name=name)
    return ParseResult(values_out, _concat_problems(problems), n_missing, notes)


#: Smallest magnitude that does not fit a 64-bit signed integer (``Int64``): 2**63.
INT64_LIMIT = 2 ** 63


def _plain_counts(s: pd.Series) -> np.ndarray | None:
    """Typed fast path of :func:`_typed_counts`: the values when every cell is already a valid count, else None.

    A numpy integer column has no missing cells; when no value is negative or beyond int64 (the usual
    Parquet export), the general checks below would find nothing, so the values are taken as they are.
    """
    if not (isinstance(s.dtype, np.dtype) and s.dtype.kind in "iu" and len(s)):
        return None
    raw = s.to_numpy()
    if raw.min() < 0 or (s.dtype.kind == "u" and raw.max() > np.uint64(INT64_LIMIT - 1)):
        return None
    return raw


def _typed_counts(s: pd.Series, out: np.ndarray, valid: np.ndarray, problems: list, column: str) -> int:
    """Check numbers that arrive typed (Parquet, DataFrame); fill ``out``/``valid`` in place.

    Integers are compared as integers (a uint64 above 2**63 - 1 would wrap around if cast to
    int64), floats as floats; values at or beyond 2**63 and infinities are not counts
    (``unparseable_number``, like over-long digit strings in text). Returns the missing count.
    """
    plain = _plain_counts(s)
    if plain is not None:
        out[:] = plain
        valid[:] = True
        return 0
    missing = s.isna().to_numpy(dtype=bool, copy=True)
    n = len(s)
    nonint = np.zeros(n, dtype=bool)
    infinite = np.zeros(n, dtype=bool)
    if pd.api.types.is_integer_dtype(s.dtype):
        unsigned = pd.api.types.is_unsigned_integer_dtype(s.dtype)
        raw = s.to_numpy(dtype="uint64" if unsigned else "int64", na_value=0)
        too_big = ~missing & (raw > np.uint64(INT64_LIMIT - 1)) if unsigned else np.zeros(n, dtype=bool)
        ints = np.where(too_big, 0, raw).astype("int64")
        neg = ~missing & (ints < 0)
        ok = ~missing & ~neg & ~too_big
        out[ok] = ints[ok]

        def shown(pos):
            return [str(int(v)) for v in raw[pos]]
    else:
        num = s.astype("Float64").to_numpy(dtype="float64", na_value=np.nan)
        missing = np.isnan(num)
        infinite = np.isinf(num)
        integral = np.isfinite(num) & (np.floor(num) == num)
        too_big = integral & (np.abs(num) >= float(INT64_LIMIT)) & (num > 0)
        neg = integral & (num < 0)
        nonint = ~missing & ~integral & ~infinite
        ok = integral & ~neg & ~too_big
        out[ok] = num[ok].astype("int64")

        def shown(pos):
            return [str(int(v)) if float(v).is_integer() and abs(v) < 1e16 else repr(float(v)) for v in num[pos]]
    valid[ok] = True
    for mask, rule, what in ((neg, "negative_count", "is negative; counts cannot be below 0"),
                             (nonint, "non_integer_count", "is not a whole number"),
                             (too_big, "unparseable_number", "is too large for a count (at or above 2**63, "
                                                             "beyond a 64-bit integer)"),
                             (infinite, "unparseable_number", "is not a finite number")):
        pos = np.flatnonzero(mask)
        if len(pos):
            orig = shown(pos)
            problems.append(_problems(pos, rule, "repaired",
                                      [f"{column}: {o} {what}; set to missing" for o in orig], orig, "<NA>"))
    return int(missing.sum())

def _ambiguous_groups(m: pd.DataFrame) -> np.ndarray:
    """Cells like "1.234" (one group, no decimals) in a column whose other cells use that mark as decimal mark.

    "1.234" is 1234 in a German export but 1.234 in an English one; a column that also holds "2.5" (or
    "1,234,567") shows that "." is its decimal mark, so such a cell cannot be read confidently.
    """
    sep, dec, grouped = m["sep"], m["dec"], m["grouped"].fillna("")
    single = (sep.isin([".", ","]) & dec.isna() & m["suffix"].isna()
              & (grouped.str.count(r"[.,]") == 1)).to_numpy(dtype=bool, copy=True)
    if not single.any():
        return single
    out = np.zeros(len(m), dtype=bool)
    for mark, other in ((".", ","), (",", ".")):
        decimal_here = bool((dec == mark).any()) or bool(((sep == other) & (grouped.str.count(
            "\\" + other) >= 2)).any())
        if decimal_here:
            out |= single & (sep == mark).to_numpy(dtype=bool, copy=True)
    return out


def _parse_formatted(text, rest_np, out, valid, problems, notes, column) -> None:
    """Parse the cells that are not plain digits (in place on ``out``/``valid``)."""
    pos_all = np.flatnonzero(rest_np)
    sub = text.iloc[pos_all].astype("object")
    percent = sub.str.contains("%", regex=False).to_numpy(dtype=bool, copy=True)
    if percent.any():
        pos = pos_all[percent]
        orig = sub[percent].tolist()
        problems.append(_problems(pos, "percent_in_count", "repaired",
                                  [f"{column}: {o!r} is a percentage, but {column} is a count; set to missing. "
                                   f"Map the percentage column to an extra (non-canonical) name instead."
                                   for o in orig], orig, "<NA>"))
    cand = sub[~percent]
    pos_c = pos_all[~percent]
    m = cand.str.extract(_NUMBER_RE)
    matched = (m["grouped"].notna() | m["plain"].notna() | m["frac"].notna()).to_numpy(dtype=bool, copy=True)
    # separator used twice as both thousands and decimal mark ("1.234.5") is not a number
    clash = (m["sep"].notna() & m["dec"].notna() & (m["sep"] == m["dec"])).to_numpy(dtype=bool, copy=True)
    matched &= ~clash
    ambiguous = _ambiguous_groups(m) & matched
    matched &= ~ambiguous
    suffix = m["suffix"].str.lower()
    has_suffix = suffix.notna().to_numpy(dtype=bool, copy=True)
    # "1.234K" means 1.234 thousand, not 1234 thousand: a single group with a suffix is a decimal
    single_group = (m["grouped"].notna() & (m["grouped"].str.len() <= 7) & m["dec"].isna()
                    & m["sep"].isin([".", ","])).to_numpy(dtype=bool, copy=True)
    regroup = has_suffix & single_group
    int_digits = m["grouped"].fillna(m["plain"]).fillna("0")
    int_digits = int_digits.str.replace(r"[,.' \u00a0\u202f\u2009\u2007]", "", regex=True)
    frac = m["frac"].fillna("")
    if regroup.any():
        g = m.loc[regroup, "grouped"].str.split(r"[.,]", regex=True)
        int_digits[regroup] = g.str[0]
        frac[regroup] = g.str[1]
    too_long = (int_digits.str.len() > 15).to_numpy(dtype=bool, copy=True)
    matched &= ~too_long
    ip = pd.to_numeric(int_digits.where(matched, "0")).to_numpy(dtype="float64")
    flen = frac.str.len().to_numpy(dtype="int64")
    fnum = pd.to_numeric(frac.where(frac != "", "0").str[:15]).to_numpy(dtype="float64")
    flen = np.minimum(flen, 15)
    value = ip + fnum / np.power(10.0, flen)
    exp = pd.to_numeric(m["exp"].fillna("0")).to_numpy(dtype="float64")
    value = value * np.power(10.0, exp)
    mult = suffix.map(_MULTIPLIER).fillna(1.0).to_numpy(dtype="float64")
    value = value * mult
    sign = np.where((m["sign"] == "-").to_numpy(dtype=bool, copy=True), -1.0, 1.0)
    value = value * sign
    finite = np.isfinite(value) & (np.abs(value) < 9.2e18)  # beyond int64: not a plausible count
    matched &= finite
    rounded = np.round(np.where(finite, value, 0.0))
    integral = matched & finite & (np.abs(value - rounded) <= 1e-6 * np.maximum(1.0, np.abs(value)))
    negative = matched & (value < 0) & (value != 0)
    nonint = matched & ~integral & ~negative
    ok = integral & ~negative
    out[pos_c[ok]] = rounded[ok].astype("int64")
    valid[pos_c[ok]] = True
    orig_all = cand.to_numpy(dtype=object)
    # abbreviations are repairs (the written value is not the number)
    abbrev = ok & has_suffix
    if abbrev.any():
        o = orig_all[abbrev]
        newv = rounded[abbrev].astype("int64")
        problems.append(_problems(pos_c[abbrev], "abbreviated_number", "repaired",
                                  [f"{column}: abbreviated number {a!r} expanded to {b}" for a, b in zip(o, newv)],
                                  o, [str(v) for v in newv]))
    n_grouped = int((ok & m["grouped"].notna().to_numpy(dtype=bool, copy=True) & ~regroup).sum())
    if n_grouped:
        seps = sorted(set(m.loc[ok & m["grouped"].notna().to_numpy(dtype=bool, copy=True), "sep"].dropna()))
        notes.append(f"{column}: {n_grouped} value(s) had thousands separators removed "
                     f"({', '.join(repr(x) for x in seps)}).")
    n_decimal = int((ok & ~has_suffix & (m["frac"].notna() | m["exp"].notna()).to_numpy(dtype=bool, copy=True)).sum())
    if n_decimal:
        notes.append(f"{column}: {n_decimal} value(s) written as whole-number decimals or in scientific "
                     f"notation (e.g. '3.0', '1.2E+05') were read as integers.")
    for mask, rule, what in ((negative, "negative_count", "is negative; counts cannot be below 0"),
                             (nonint, "non_integer_count", "is not a whole number")):
        if mask.any():
            o = orig_all[mask]
            problems.append(_problems(pos_c[mask], rule, "repaired",
                                      [f"{column}: {x!r} {what}; set to missing" for x in o], o, "<NA>"))
    if ambiguous.any():
        o = orig_all[ambiguous]
        problems.append(_problems(pos_c[ambiguous], "unparseable_number", "repaired",
                                  [f"{column}: {x!r} is ambiguous: other values of {column} use "
                                   f"{x.strip()[-4]!r} as the decimal mark, so it may be a decimal, not "
                                   f"{x.strip().replace(x.strip()[-4], '')}; set to missing" for x in o], o, "<NA>"))
    bad = ~matched & ~ambiguous
    if bad.any():
        o = orig_all[bad]
        problems.append(_problems(pos_c[bad], "unparseable_number", "repaired",
                                  [f"{column}: {x!r} is not a number; set to missing" for x in o], o, "<NA>"))


# ---------------------------------------------------------------------------------------------
# flags
# ---------------------------------------------------------------------------------------------
def parse_flag_series(values: Any, *, column: str = "paid") -> ParseResult:
    """Parse a yes/no column (``paid``) into the nullable ``boolean`` dtype.

    Parameters
    ----------
    values : pandas.Series
        Cell texts or booleans/numbers.
    column : str, default="paid"
        Column name used in problem messages.

    Returns
    -------
    ParseResult
        ``values`` has dtype ``boolean``; other values give ``unparseable_flag`` problems.

    Notes
    -----
    True: 1, true, yes, y, t, paid. False: 0, false, no, n, f, organic (any case; "1.0"/"0.0" too).

    Examples
    --------
    >>> from toolkit.data.parsing import parse_flag_series
    >>> parse_flag_series(pd.Series(["Paid", "organic", "1", "maybe"])).values.tolist()
    [True, False, True, <NA>]
    """
    s = values if isinstance(values, pd.Series) else pd.Series(values)
    if pd.api.types.is_bool_dtype(s.dtype):
        return ParseResult(s.astype("boolean"), _concat_problems([]), int(s.isna().sum()), ())
    text = _clean(_to_text(s))
    missing = _missing_mask(text)
    low = text.str.lower()
    is_true = low.isin(_FLAG_TRUE)
    is_false = low.isin(_FLAG_FALSE)
    out = pd.Series(pd.array([pd.NA] * len(s), dtype="boolean"), index=s.index, name=s.name)
    out[is_true.to_numpy(dtype=bool, copy=True)] = True
    out[is_false.to_numpy(dtype=bool, copy=True)] = False
    bad = (~missing & ~is_true & ~is_false).to_numpy(dtype=bool, copy=True)
    problems = []
    if bad.any():
        o = text[bad].tolist()
        problems.append(_problems(np.flatnonzero(bad), "unparseable_flag", "repaired",
                                  [f"{column}: {x!r} is not one of 1/0, true/false, yes/no, paid/organic; "
                                   f"set to missing" for x in o], o, "<NA>"))
    return ParseResult(out, _concat_problems(problems), int(missing.sum()), ())


# ---------------------------------------------------------------------------------------------
# dates
# ---------------------------------------------------------------------------------------------
_ISO_RE = (r"^(?P<Y>[0-9]{4})-[0-9]{1,2}-[0-9]{1,2}(?:[T ][0-9]{1,2}:[0-9]{2}(?::[0-9]{2}(?:[.,][0-9]+)?)?)?"
           r" *(?P<tz>Z|UTC|[+-][0-9]{2}(?::?[0-9]{2})?)?$")
_ISO_TZ_RE = (r"[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}(?:[T ][0-9]{1,2}:[0-9]{2}(?::[0-9]{2}(?:[.,][0-9]+)?)?)?"
              r" *(?:Z|UTC|[+-][0-9]{2}(?::?[0-9]{2})?)")
_SLASH_RE = (r"^(?P<a>[0-9]{1,2})/(?P<b>[0-9]{1,2})/(?P<Y>[0-9]{4}|[0-9]{2})"
             r"(?:[ T,]+(?P<H>[0-9]{1,2}):(?P<M>[0-9]{2})(?::(?P<S>[0-9]{2}))? *(?P<ampm>[AaPp]\.?[Mm]\.?)?)?$")
_DOT_RE = r"^(?P<a>[0-9]{1,2})\.(?P<b>[0-9]{1,2})\.(?P<Y>[0-9]{4})(?:[ T,]+(?P<H>[0-9]{1,2}):(?P<M>[0-9]{2})(?::(?P<S>[0-9]{2}))?)?$"
#: Year-first dates with "/" or "." ("2022/1/21 10:31", "2022/01/21", "2022.1.5 9:05"); always year/month/day.
_YMD_RE = r"[0-9]{4}(?P<sep>[/.])[0-9]{1,2}(?P=sep)[0-9]{1,2}(?:[ T,]+[0-9]{1,2}:[0-9]{2}(?::[0-9]{2})?)?"
_EPOCH_S_RE = r"^[0-9]{9,10}(?:\.[0-9]+)?$"
_EPOCH_MS_RE = r"^[0-9]{12,13}$"
_SERIAL_RE = r"^[0-9]{4,5}(?:\.[0-9]+)?$"
_MIN_YEAR, _MAX_YEAR = 1678, 2261


def _extract(text: pd.Series, todo: np.ndarray, pattern: str, prefix: str) -> tuple[np.ndarray, pd.DataFrame]:
    """(mask of the cells matching ``pattern``, their groups as object columns indexed like ``text``).

    ``text.str.extract(pattern)`` is computed only where ``todo`` and a cheap ``prefix`` match hold;
    a cell matches when the pattern's first group is found.
    """
    groups = list(re.compile(pattern).groupindex)
    hit = np.zeros(len(text), dtype=bool)
    cand = todo.copy()
    if todo.any():
        cand[todo] = text[todo].str.match(prefix).to_numpy(dtype=bool, na_value=False)
    if not cand.any():
        return hit, pd.DataFrame({g: pd.Series(dtype="object") for g in groups})
    found = text[cand].str.extract(pattern)
    ok = found[groups[0]].notna().to_numpy(dtype=bool, copy=True)
    hit[np.flatnonzero(cand)[ok]] = True
    return hit, found[ok].astype("object").where(found[ok].notna(), np.nan)


def _fullmatch(text: pd.Series, todo: np.ndarray, pattern: str) -> np.ndarray:
    """``text.str.fullmatch(pattern)`` evaluated only where ``todo`` holds (False elsewhere)."""
    out = np.zeros(len(text), dtype=bool)
    if todo.any():
        sub = text if todo.all() else text[todo]
        out[todo] = sub.str.fullmatch(pattern).to_numpy(dtype=bool, na_value=False)
    return out


def _ints(values: pd.Series) -> pd.Series:
    """Digit strings (missing -> 0) to int64, via the fast string cast."""
    return values.fillna("0").astype("str").astype("int64")


def _parts_to_datetime(parts: pd.DataFrame, day: str, month: str) -> pd.Series:
    year = _ints(parts["Y"])
    year = year.where(parts["Y"].str.len() == 4, np.where(year < 69, 2000 + year, 1900 + year))
    hour = _ints(parts["H"]) if "H" in parts else 0
    if "ampm" in parts:
        ampm = parts["ampm"].fillna("").str.lower().str[0]
        hour = np.where((ampm == "p") & (hour < 12), hour + 12, np.where((ampm == "a") & (hour == 12), 0, hour))
    frame = pd.DataFrame({
        "year": year,
        "month": _ints(parts[month]),
        "day": _ints(parts[day]),
        "hour": hour,
        "minute": _ints(parts["M"]),
        "second": _ints(parts["S"]),
    }, index=parts.index)
    bad = (frame["hour"] > 23) | (frame["minute"] > 59) | (frame["second"] > 59)
    frame.loc[bad, ["hour", "minute", "second"]] = 0
    result = pd.to_datetime(frame, errors="coerce")
    return result.where(~bad)


#: Switch for the fixed-width ISO 8601 fast path of :func:`parse_datetime_series` (tests compare both paths).
_FIXED_WIDTH_DATES = True

#: Layouts the fast path decodes: "d" a digit, "+" a sign of a UTC offset, anything else literal. Each is a
#: special case of the ISO 8601 pattern of :func:`parse_datetime_series` (``_ISO_RE``).
_FIXED_LAYOUTS = ("dddd-dd-dd", "dddd-dd-dd dd:dd", "dddd-dd-ddTdd:dd", "dddd-dd-dd dd:dd:dd", "dddd-dd-ddTdd:dd:dd")
_FIXED_ZONES = ("", "Z", "+dd:dd", "+dddd")


def _days_from_civil(y: np.ndarray, m: np.ndarray, d: np.ndarray) -> np.ndarray:
    """Days since 1970-01-01 of proleptic Gregorian dates (H. Hinnant's algorithm, vectorised)."""
    y = y - (m <= 2)
    era = np.floor_divide(y, 400)
    yoe = y - era * 400
    mp = (m + 9) % 12
    doy = (153 * mp + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


def _fixed_width_iso(text: pd.Series, todo: np.ndarray) -> tuple[np.ndarray, np.ndarray, bool]:
    """(cells decoded, their UTC or naive nanoseconds, whether they carried an offset).

    The layout is taken from the first cell to do that has one of the layouts (among the first 50 cells to
    do, so that a blank or "NA" first cell does not turn the fast path off); only cells of exactly that
    layout whose fields are valid (month 1-12, a day of that month, hour <= 23, minute and second <= 59,
    offset <= 14:59, year 1700-2200) are decoded, by integer arithmetic on the bytes. A cell with a
    non-ASCII character never matches (its bytes are not the layout's ASCII digits and signs). Every
    other cell is left to the general parser, so the result never differs from it; tests compare the two
    on tricky inputs.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    none = (np.zeros(len(text), dtype=bool), np.zeros(0, dtype="int64"), False)
    arr = _arrow_strings(text)
    if arr is None:
        return none
    layout = zone = None
    for first in text.iloc[np.flatnonzero(todo)[:50]].tolist():
        for date_time in _FIXED_LAYOUTS:
            for z in _FIXED_ZONES if len(date_time) > 10 else ("",):  # an offset only after a time
                candidate = date_time + z
                if len(candidate) == len(first) and all(
                        (c == "d" and ch in "0123456789") or (c == "+" and ch in "+-") or c == ch
                        for c, ch in zip(candidate, first)):
                    layout, zone = candidate, z
        if layout is not None:
            break
    if layout is None:
        return none
    width = len(layout)
    lengths = pc.binary_length(arr).to_numpy(zero_copy_only=False)
    rows = np.flatnonzero(todo & (lengths == width))
    if not len(rows):
        return none
    # chunk by chunk, the cells of the layout's width laid out as a (cells x width) byte grid: a view of the
    # chunk's text when every cell of it has that width, else of a copy of those cells of the chunk only
    ok_parts, seconds_parts = [], []
    begin = 0
    for chunk in arr.chunks if isinstance(arr, pa.ChunkedArray) else [arr]:
        stop = begin + len(chunk)
        local = rows[np.searchsorted(rows, begin):np.searchsorted(rows, stop)] - begin
        if len(local):
            ok, seconds = _decode_fixed_width(_text_grid(chunk, local, width), layout, zone)
            ok_parts.append(ok)
            seconds_parts.append(seconds)
        begin = stop
    ok, seconds = np.concatenate(ok_parts), np.concatenate(seconds_parts)
    mask = np.zeros(len(text), dtype=bool)
    mask[rows[ok]] = True
    return mask, seconds[ok] * 1_000_000_000, zone != ""


def _text_grid(chunk, cells: np.ndarray, width: int) -> np.ndarray:
    """The bytes of the ``cells`` (sorted positions, each of ``width`` bytes) of a pyarrow string array, as a
    (cells x width) byte grid: a view of the text when the cells are consecutive, else the runs of consecutive
    cells joined (or, when there are many runs, the cells taken by pyarrow)."""
    import pyarrow as pa

    breaks = np.flatnonzero(np.diff(cells) != 1) + 1
    if len(breaks) > 64:
        chunk, cells, breaks = chunk.take(pa.array(cells)), np.arange(len(cells)), np.zeros(0, dtype=np.intp)
    offsets = np.frombuffer(chunk.buffers()[1], dtype="int64" if pa.types.is_large_string(chunk.type) else "int32")
    data = np.frombuffer(chunk.buffers()[2], dtype=np.uint8)
    runs = []
    for run in np.split(cells, breaks):
        first = int(offsets[chunk.offset + run[0]])
        runs.append(data[first:first + len(run) * width].reshape(len(run), width))
    return runs[0] if len(runs) == 1 else np.concatenate(runs)


def _decode_fixed_width(grid: np.ndarray, layout: str, zone: str) -> tuple[np.ndarray, np.ndarray]:
    """(cells that are valid times of ``layout``, their UTC or naive seconds) from a (cells x width) byte grid."""
    width = len(layout)
    # byte checks against the layout, column by column (no temporary of the size of the text): a digit, a
    # sign or the literal; in uint8 arithmetic a byte below ``lo`` wraps around above ``span``
    lo = [48 if c == "d" else 43 if c == "+" else ord(c) for c in layout]
    span = [9 if c == "d" else 2 if c == "+" else 0 for c in layout]
    ok = np.ones(len(grid), dtype=bool)
    for j in range(width):
        ok &= (grid[:, j] - np.uint8(lo[j])) <= span[j]
    if "+" in layout:
        ok &= grid[:, layout.index("+")] != 44  # "," lies between "+" and "-"

    def field(start: int, n: int) -> np.ndarray:
        out = grid[:, start].astype(np.int32)
        for j in range(start + 1, start + n):
            out *= 10
            out += grid[:, j]
        out -= 48 * (10 ** n - 1) // 9  # the "0" of every digit
        return out

    year, month, day = field(0, 4), field(5, 2), field(8, 2)
    clock = len(layout) - len(zone)   # length of the date and time part
    zeros = np.zeros(len(grid), dtype=np.int32)
    hour = field(11, 2) if clock >= 16 else zeros
    minute = field(14, 2) if clock >= 16 else zeros
    second = field(17, 2) if clock >= 19 else zeros
    offset = zeros
    if zone in ("+dd:dd", "+dddd"):
        start = width - len(zone)
        oh = field(start + 1, 2)
        om = field(start + (4 if zone == "+dd:dd" else 3), 2)
        ok &= (oh <= 14) & (om <= 59)
        offset = np.where(grid[:, start] == 45, -1, 1).astype(np.int32) * (oh * 60 + om) * 60
    leap = ((year % 4 == 0) & (year % 100 != 0)) | (year % 400 == 0)
    month_days = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], dtype=np.int32)
    dim = month_days[np.clip(month, 0, 12)] + ((month == 2) & leap)
    ok &= (year >= 1700) & (year <= 2200) & (month >= 1) & (month <= 12) & (day >= 1) & (day <= dim)
    ok &= (hour <= 23) & (minute <= 59) & (second <= 59)
    seconds = _days_from_civil(year, month, day).astype("int64") * 86400 + (hour * 3600 + minute * 60 + second
                                                                           - offset)
    return ok, seconds


@dataclass(frozen=True)
class _DatesRead:
    """What one date recogniser of :func:`parse_datetime_series` read from the cells it was given.

    Attributes
    ----------
    taken : numpy.ndarray of bool
        The cells (over the whole column) the recogniser claims; no later recogniser looks at them.
    naive : tuple of pandas.Series
        Times without offset (naive local times), indexed by position in the column.
    aware : tuple of pandas.Series
        Times with an offset or in UTC, indexed by position in the column.
    reasons : tuple of (numpy.ndarray, str)
        Positions of claimed cells that could not be read, and why (used in the problem messages).
    notes : tuple of str
        Column-level facts.
    """

    taken: np.ndarray
    naive: tuple = ()
    aware: tuple = ()
    reasons: tuple = ()
    notes: tuple = ()


def _failed_positions(todo_cells: np.ndarray, parsed: pd.Series) -> np.ndarray:
    """Positions (among the cells of ``todo_cells``) whose ``parsed`` value is missing."""
    return np.flatnonzero(todo_cells)[parsed.isna().to_numpy(dtype=bool, copy=True)]


def _dates_with_format(text: pd.Series, todo: np.ndarray, *, date_format: str) -> _DatesRead:
    """Every cell to do read with the user's ``date_format`` (no other recogniser runs)."""
    aware = "%z" in date_format or "%Z" in date_format
    parsed = pd.to_datetime(text[todo], format=date_format, errors="coerce", utc=aware)
    part = (parsed[parsed.notna()],)
    reasons = ((_failed_positions(todo, parsed), f"does not match date_format={date_format!r}"),)
    return _DatesRead(todo.copy(), naive=() if aware else part, aware=part if aware else (), reasons=reasons)


def _dates_fixed_width(text: pd.Series, todo: np.ndarray) -> _DatesRead:
    """ISO 8601 cells of one fixed-width layout (the usual export), decoded column-wise from the bytes."""
    fixed, fixed_ns, aware = _fixed_width_iso(text, todo)
    if not fixed.any():
        return _DatesRead(fixed)
    part = pd.Series(fixed_ns.view("M8[ns]"), index=text.index[fixed])
    return _DatesRead(fixed, aware=(part.dt.tz_localize("UTC"),)) if aware else _DatesRead(fixed, naive=(part,))


def _dates_iso(text: pd.Series, todo: np.ndarray) -> _DatesRead:
    """ISO 8601 with or without offset, matched with pyarrow regexes (no per-row Python)."""
    is_iso = _fullmatch(text, todo, _ISO_RE)
    if not is_iso.any():
        return _DatesRead(is_iso)
    year = text[is_iso].str.slice(0, 4).astype("int64").to_numpy()  # four digits (the ISO pattern)
    year_ok = np.ones(len(text), dtype=bool)
    year_ok[is_iso] = (year >= _MIN_YEAR) & (year <= _MAX_YEAR)
    tz_given = _fullmatch(text, is_iso, _ISO_TZ_RE)
    has_tz = is_iso & tz_given & year_ok
    no_tz = is_iso & ~tz_given & year_ok
    aware, naive = (), ()
    if has_tz.any():
        # (whitespace runs are single spaces here; patterns without \\s or look-ahead run in pyarrow)
        sub = text[has_tz].str.replace(r" *UTC$", "Z", regex=True).str.replace(r" +([+-][0-9]{2})", r"\1",
                                                                              regex=True)
        aware = (pd.to_datetime(sub, format="ISO8601", utc=True, errors="coerce"),)
    if no_tz.any():
        naive = (pd.to_datetime(text[no_tz], format="ISO8601", errors="coerce"),)
    out_of_range = np.flatnonzero(is_iso & ~year_ok)
    return _DatesRead(is_iso, naive=naive, aware=aware,
                      reasons=((out_of_range, f"lies outside {_MIN_YEAR}-{_MAX_YEAR}"),))


def _dates_year_first(text: pd.Series, todo: np.ndarray, *, column: str) -> _DatesRead:
    """YYYY/M/D and YYYY.M.D (year first is always year/month/day), read as ISO 8601 with "-" separators."""
    is_ymd = _fullmatch(text, todo, _YMD_RE)
    if not is_ymd.any():
        return _DatesRead(is_ymd)
    iso_text = text[is_ymd].str.replace(r"^([0-9]{4})[/.]([0-9]{1,2})[/.]([0-9]{1,2})[ T,]*", r"\1-\2-\3 ",
                                        regex=True).str.strip()
    parsed = pd.to_datetime(iso_text, format="ISO8601", errors="coerce")
    reasons = ((_failed_positions(is_ymd, parsed), "is not a valid year/month/day date (or lies outside 1678-2261)"),)
    note = (f"{column}: {int(is_ymd.sum())} value(s) written year first with '/' or '.' "
            f"(e.g. {text[is_ymd].iloc[0]!r}) were read as year/month/day.")
    return _DatesRead(is_ymd, naive=(parsed,), reasons=reasons, notes=(note,))


def _dates_dotted(text: pd.Series, todo: np.ndarray) -> _DatesRead:
    """D.M.YYYY (day first by convention)."""
    is_dot, dot = _extract(text, todo, _DOT_RE, r"^[0-9]{1,2}\.[0-9]{1,2}\.")
    if not is_dot.any():
        return _DatesRead(is_dot)
    return _DatesRead(is_dot, naive=(_parts_to_datetime(dot, day="a", month="b"),))


def _slash_order(a: np.ndarray, b: np.ndarray, column: str) -> tuple[bool, tuple[str, ...]]:
    """(day first?, notes) for a column of slash dates whose first fields are ``a`` and second ``b``."""
    day_first_votes = int(((a > 12) & (b <= 12)).sum())
    month_first_votes = int(((b > 12) & (a <= 12)).sum())
    if day_first_votes and month_first_votes:
        day_first = day_first_votes >= month_first_votes
        return day_first, (f"{column}: slash dates conflict ({day_first_votes} can only be day/month, "
                           f"{month_first_votes} only month/day); used "
                           f"{'day/month' if day_first else 'month/day'} and set the others to missing. "
                           f"Pass date_format=... to choose.",)
    if day_first_votes:
        return True, (f"{column}: slash dates read as day/month/year (some days exceed 12).",)
    if month_first_votes:
        return False, (f"{column}: slash dates read as month/day/year (some days exceed 12).",)
    if (a != b).any():
        return False, (f"{column}: slash dates are ambiguous (no day exceeds 12); assumed month/day/year "
                       f"(US order). If they are day/month, pass date_format='%d/%m/%Y %H:%M'.",)
    return False, ()


def _dates_slashed(text: pd.Series, todo: np.ndarray, *, column: str) -> _DatesRead:
    """M/D/YYYY or D/M/YYYY (optionally with a time and AM/PM); the order is decided for the whole column."""
    is_slash, sl = _extract(text, todo, _SLASH_RE, r"^[0-9]{1,2}/[0-9]{1,2}/")
    if not is_slash.any():
        return _DatesRead(is_slash)
    day_first, notes = _slash_order(pd.to_numeric(sl["a"]).to_numpy(), pd.to_numeric(sl["b"]).to_numpy(), column)
    parsed = _parts_to_datetime(sl, day="a" if day_first else "b", month="b" if day_first else "a")
    reasons = ((_failed_positions(is_slash, parsed),
                f"is not a valid date in the column's {'day/month' if day_first else 'month/day'} order"),)
    return _DatesRead(is_slash, naive=(parsed,), reasons=reasons, notes=notes)


def _dates_epoch(text: pd.Series, todo: np.ndarray, *, column: str) -> _DatesRead:
    """Unix epoch seconds (9-10 digits), then milliseconds (12-13 digits); UTC by definition."""
    taken = np.zeros(len(text), dtype=bool)
    aware, notes = [], []
    for pattern, unit in ((_EPOCH_S_RE, "s"), (_EPOCH_MS_RE, "ms")):
        is_ep = _fullmatch(text, todo & ~taken, pattern)
        if is_ep.any():
            num = pd.to_numeric(text[is_ep])
            ok = (num < (9.2e9 if unit == "s" else 9.2e12)).to_numpy(dtype=bool, copy=True)
            aware.append(pd.to_datetime(num[ok], unit=unit, utc=True))
            notes.append(f"{column}: {int(ok.sum())} value(s) read as Unix epoch "
                         f"{'seconds' if unit == 's' else 'milliseconds'} (UTC).")
            taken |= is_ep
    return _DatesRead(taken, aware=tuple(aware), notes=tuple(notes))


def _dates_excel(text: pd.Series, todo: np.ndarray, *, column: str) -> _DatesRead:
    """Excel serial days (1899-12-30 origin); only when the caller says the column comes from Excel."""
    is_ser = _fullmatch(text, todo, _SERIAL_RE)
    if not is_ser.any():
        return _DatesRead(is_ser)
    days = pd.to_numeric(text[is_ser]).to_numpy(dtype="float64")
    stamps = pd.Timestamp("1899-12-30") + pd.to_timedelta(np.round(days * 86400.0), unit="s")
    return _DatesRead(is_ser, naive=(pd.Series(stamps, index=text.index[is_ser]),),
                      notes=(f"{column}: {int(is_ser.sum())} value(s) read as Excel serial dates.",))


def _dates_with_month_names(text: pd.Series, todo: np.ndarray) -> _DatesRead:
    """Fallback: text with month names ("3 March 2024", "Mar 3, 2024 10:00 AM"), one cell at a time."""
    has_letters = todo.copy()
    sub = text[todo]
    has_letters[todo] = (sub.str.contains(r"[A-Za-z]{3,}", regex=True)
                         & sub.str.contains(r"[0-9]", regex=True)).to_numpy(dtype=bool, na_value=False)
    aware_vals, naive_vals = {}, {}
    for idx, value in text[has_letters].items():
        try:
            ts = pd.Timestamp(value)
        except (ValueError, TypeError, OverflowError):
            continue
        if ts is pd.NaT or not (_MIN_YEAR <= ts.year <= _MAX_YEAR):
            continue
        (naive_vals if ts.tzinfo is None else aware_vals)[idx] = ts
    aware = (pd.to_datetime(pd.Series(aware_vals, dtype=object), utc=True),) if aware_vals else ()
    naive = ((pd.Series(list(naive_vals.values()), index=list(naive_vals.keys()), dtype="datetime64[ns]"),)
             if naive_vals else ())
    return _DatesRead(has_letters, naive=naive, aware=aware)


def _recognisers(*, date_format: str | None, excel_serials: bool, column: str) -> list:
    """The date recognisers, in the order they claim cells (each sees only what the earlier ones left)."""
    if date_format is not None:
        return [lambda text, todo: _dates_with_format(text, todo, date_format=date_format)]
    found = [_dates_fixed_width] if _FIXED_WIDTH_DATES else []
    found += [_dates_iso, lambda text, todo: _dates_year_first(text, todo, column=column), _dates_dotted,
              lambda text, todo: _dates_slashed(text, todo, column=column),
              lambda text, todo: _dates_epoch(text, todo, column=column)]
    if excel_serials:
        found.append(lambda text, todo: _dates_excel(text, todo, column=column))
    return found + [_dates_with_month_names]


def _moved(read: _DatesRead, where: np.ndarray, n: int) -> _DatesRead:
    """``read`` of a part of a column (positions ``0..len(where)-1``) in the positions ``where`` of the column."""
    taken = np.zeros(n, dtype=bool)
    taken[where[read.taken]] = True

    def move(part: pd.Series) -> pd.Series:
        return part.set_axis(where[part.index.to_numpy(dtype="int64")])

    return _DatesRead(taken, naive=tuple(move(p) for p in read.naive), aware=tuple(move(p) for p in read.aware),
                      reasons=tuple((where[pos], why) for pos, why in read.reasons), notes=read.notes)


class _DateTexts:
    """The cleaned text of any cell of a date column whose fixed-width cells were read before cleaning.

    ``raw``: the column as text, of which the cells ``rows`` (all if None) are parsed; ``rest``: positions
    (among those cells) of the cells that were cleaned, ``cleaned`` their texts (a fixed-width cell is its
    own cleaned text).
    """

    def __init__(self, raw: pd.Series, rows: np.ndarray | None, rest: np.ndarray, cleaned: pd.Series):
        self.raw, self.rows, self.rest, self.cleaned = raw, rows, rest, cleaned

    def at(self, pos: np.ndarray) -> list:
        pos = np.asarray(pos, dtype="int64")
        out = self.raw.iloc[pos if self.rows is None else self.rows[pos]].tolist()
        if len(self.rest) and len(pos):
            where = np.searchsorted(self.rest, pos)
            found = self.rest[np.minimum(where, len(self.rest) - 1)] == pos
            inside = np.flatnonzero((where < len(self.rest)) & found)
            for k, text in zip(inside, self.cleaned.iloc[where[inside]].tolist()):
                out[k] = text
        return out


def parse_datetime_series(values: Any, *, timezone: str | None = None, date_format: str | None = None,
                          excel_serials: bool = False, column: str = "posted_at") -> ParseResult:
    """Parse publication times written in mixed formats into UTC timestamps.

    Parameters
    ----------
    values : pandas.Series
        Cell texts or datetimes.
    timezone : str or None, default=None
        IANA zone used to localise naive times (e.g. "Asia/Bangkok"). None means UTC (noted).
    date_format : str or None, default=None
        A ``strftime`` format forcing how every cell is read (e.g. "%d/%m/%Y %H:%M").
    excel_serials : bool, default=False
        Read numbers 1000-99999 as Excel serial days (1899-12-30 origin); set for .xlsx sources.
    column : str, default="posted_at"
        Column name used in messages.

    Returns
    -------
    ParseResult
        ``values`` has dtype ``datetime64[ns, UTC]``. Problems: ``unparseable_date``,
        ``nonexistent_local_time``. Notes record assumed time zones and day/month order.

    Notes
    -----
    Recognised without ``date_format``: ISO 8601 with or without offset ("2024-03-01T10:00:00+07:00",
    "Z"; mixed offsets are converted to UTC; also unpadded "2022-1-5 9:05"), year-first dates with
    slashes or dots ("2022/1/21 10:31", "2022/01/21", "2022.1.5"; always year/month/day, noted),
    "M/D/YYYY H:MM" and "D/M/YYYY H:MM" (optionally
    with seconds and AM/PM), "DD.MM.YYYY HH:MM", Unix epoch seconds (9-10 digits) or milliseconds
    (12-13 digits), Excel serial days (when ``excel_serials``) and, as a fallback, text with month
    names ("3 March 2024 10:00"). For slash dates the day/month order is decided per column: a
    first field above 12 means day-first, a second field above 12 means month-first; when nothing
    in the column disambiguates, month-first is assumed and a note says how to override it.

    Each format family is one recogniser (``_dates_*``): it takes the column and the cells still to
    read and returns what it read; they run in the order above, each on what the earlier ones left.

    Examples
    --------
    >>> from toolkit.data.parsing import parse_datetime_series
    >>> r = parse_datetime_series(pd.Series(["2024-03-01T10:00:00+07:00", "13/03/2024 08:30", "soon"]))
    >>> [str(v) for v in r.values]
    ['2024-03-01 03:00:00+00:00', '2024-03-13 08:30:00+00:00', 'NaT']
    >>> r.problems["rule"].tolist()
    ['unparseable_date']
    """
    s = values if isinstance(values, pd.Series) else pd.Series(values)
    if pd.api.types.is_datetime64_any_dtype(s.dtype):
        return _typed_datetimes(s, timezone=timezone, column=column)
    result = _parse_datetime_text(s, rows=None, timezone=timezone, date_format=date_format,
                                  excel_serials=excel_serials, column=column)
    values = pd.Series(result.values.array, index=s.index, name=s.name)
    return ParseResult(values, result.problems, result.n_missing, result.notes)


def _parse_datetime_text(values: pd.Series, *, rows: np.ndarray | None, timezone: str | None,
                         date_format: str | None, excel_serials: bool, column: str) -> ParseResult:
    """:func:`parse_datetime_series` of the text cells ``values.iloc[rows]`` (all if None); RangeIndex.

    With ``rows``, the texts of those cells are never copied as a whole: the fixed-width pass reads them in
    place, and only the other cells are taken.
    """
    tz_name = timezone or "UTC"
    raw = _to_text(values).reset_index(drop=True)
    n = len(raw) if rows is None else len(rows)
    rows = None if rows is None else np.asarray(rows, dtype="int64")
    reads: list[_DatesRead] = []
    rest = np.arange(n)
    if _FIXED_WIDTH_DATES and date_format is None and n:
        # cells of one fixed-width ISO 8601 layout (the usual export) first, from the text as it came: such a
        # cell is digits, "-", ":", "T", "Z", a sign and single spaces, so cleaning would not change it and it
        # is no missing token. Only the other cells are cleaned and go to the recognisers.
        todo = np.ones(len(raw), dtype=bool)
        if rows is not None:
            todo[:] = False
            todo[rows] = True
        fixed = _dates_fixed_width(raw, todo)
        if rows is not None and fixed.taken.any():  # positions in the column -> positions among ``rows``
            position = np.full(len(raw), -1, dtype="int64")
            position[rows] = np.arange(n)

            def move(part: pd.Series) -> pd.Series:
                return part.set_axis(position[part.index.to_numpy(dtype="int64")])

            fixed = _DatesRead(fixed.taken[rows], naive=tuple(move(p) for p in fixed.naive),
                               aware=tuple(move(p) for p in fixed.aware))
        if fixed.taken.any():
            reads.append(fixed)
            rest = np.flatnonzero(~fixed.taken)
    if rows is None:
        part = raw if len(rest) == n else raw.iloc[rest].reset_index(drop=True)
    else:
        part = raw.iloc[rows[rest]].reset_index(drop=True)
    text = _collapse_whitespace(_clean(part))
    missing_part = _missing_mask(text).to_numpy(dtype=bool, copy=True)
    todo = ~missing_part
    for recognise in _recognisers(date_format=date_format, excel_serials=excel_serials, column=column):
        if not todo.any():
            break
        read = recognise(text, todo)
        reads.append(read if len(rest) == n else _moved(read, rest, n))
        todo &= ~read.taken
    missing = np.zeros(n, dtype=bool)
    missing[rest] = missing_part
    texts = (_DateTexts(raw, rows, rest, text) if len(rest) != n
             else _DateTexts(text, None, np.zeros(0, dtype="int64"), text))
    out_ns, problems, notes = _assemble_dates(reads, texts, n, tz_name=tz_name, timezone=timezone, column=column)
    out = pd.Series(out_ns.view("M8[ns]")).dt.tz_localize("UTC")
    already = np.zeros(n, dtype=bool)
    for p in problems:
        already[p["position"].to_numpy()] = True
    failed = ~missing & (out_ns == np.iinfo("int64").min) & ~already
    if failed.any():
        reason = {}
        for read in reads:
            for where, why in read.reasons:
                reason.update(dict.fromkeys(where[failed[where]].tolist(), why))
        pos = np.flatnonzero(failed)
        o = texts.at(pos)
        msgs = [f"{column}: {x!r} " + (reason.get(p) or "is not a recognised date/time") + "; set to missing. "
                f"Pass date_format=... (e.g. '%d/%m/%Y %H:%M') if the column uses one format."
                for p, x in zip(pos, o)]
        problems.append(_problems(pos, "unparseable_date", "repaired", msgs, o, "<NA>"))
    return ParseResult(out, _concat_problems(problems), int(missing.sum()), tuple(notes))


def _typed_datetimes(s: pd.Series, *, timezone: str | None, column: str) -> ParseResult:
    """:func:`parse_datetime_series` of a column that is already datetime64 (naive: localised)."""
    tz_name = timezone or "UTC"
    notes, problems = [], []
    n_missing = int(s.isna().sum())
    if getattr(s.dt, "tz", None) is None:
        local = s.dt.tz_localize(tz_name, ambiguous="NaT", nonexistent="NaT")
        if timezone is None and s.notna().any():
            notes.append(f"{column}: times had no time zone; UTC was assumed (pass timezone=... to localise).")
        lost = (local.isna() & s.notna()).to_numpy(dtype=bool, copy=True)
        if lost.any():
            o = s[lost].astype(str).tolist()
            problems.append(_problems(np.flatnonzero(lost), "nonexistent_local_time", "repaired",
                                      [f"{column}: {x!r} does not exist or is ambiguous in {tz_name} "
                                       f"(daylight-saving change); set to missing" for x in o], o, "<NA>"))
        s = local
    out = s.dt.tz_convert("UTC").astype("datetime64[ns, UTC]")
    return ParseResult(out, _concat_problems(problems), n_missing, tuple(notes))


def _assemble_dates(reads: list, texts: _DateTexts, n: int, *, tz_name: str, timezone: str | None,
                    column: str) -> tuple[np.ndarray, list, list]:
    """(UTC nanoseconds per cell, NaT where unread; nonexistent-local-time problems; notes) from the reads."""
    notes = [note for read in reads for note in read.notes]
    problems = []
    out_ns = np.full(n, np.iinfo("int64").min, dtype="int64")  # NaT
    naive_parts = [p for read in reads for p in read.naive]
    aware_parts = [p for read in reads for p in read.aware]
    if naive_parts:
        naive = pd.concat([p.astype("datetime64[ns]") for p in naive_parts])
        naive = naive[naive.notna()]
        if len(naive):
            local = naive.dt.tz_localize(tz_name, ambiguous="NaT", nonexistent="NaT")
            lost = local.isna()
            if lost.any():
                pos = local.index[lost].to_numpy(dtype="int64")
                o = texts.at(pos)
                problems.append(_problems(pos, "nonexistent_local_time", "repaired",
                                          [f"{column}: {x!r} does not exist or is ambiguous in {tz_name} "
                                           f"(daylight-saving change); set to missing" for x in o], o, "<NA>"))
            local = local[~lost]
            out_ns[local.index.to_numpy(dtype="int64")] = (local.dt.tz_convert("UTC")
                                                           .astype("datetime64[ns, UTC]").array.asi8)
            if timezone is None:
                notes.append(f"{column}: {len(naive)} time(s) had no time zone; UTC was assumed "
                             f"(pass timezone='Area/City' to localise them).")
            else:
                notes.append(f"{column}: {len(naive)} time(s) without offset were localised to {timezone}.")
    if aware_parts:
        aware = pd.concat([p.dt.tz_convert("UTC").astype("datetime64[ns, UTC]") for p in aware_parts])
        aware = aware[aware.notna()]
        out_ns[aware.index.to_numpy(dtype="int64")] = aware.array.asi8
    return out_ns, problems, notes


# ---------------------------------------------------------------------------------------------
# labels
# ---------------------------------------------------------------------------------------------
def normalize_label(values: Any) -> pd.Series:
    """Clean labels: Unicode NFKC, drop invisible characters, collapse and strip whitespace.

    Parameters
    ----------
    values : pandas.Series
        Labels (text). Missing values stay missing.

    Returns
    -------
    pandas.Series
        Cleaned labels (``str`` dtype), same index. Case is kept; compare with ``.str.casefold()``
        to match case variants.

    Notes
    -----
    NFKC turns full-width forms ("ＰＲ") into ASCII and non-breaking spaces into spaces. The
    invisible characters removed are zero-width space/joiners, word joiner, BOM and soft hyphen
    (:data:`INVISIBLE_CHARACTERS`).

    Examples
    --------
    >>> from toolkit.data.parsing import normalize_label
    >>> normalize_label(pd.Series([" Customer\\u00a0 service ", "ＰＲ", "Mar\\u200bketing"])).tolist()
    ['Customer service', 'PR', 'Marketing']
    """
    s = values if isinstance(values, pd.Series) else pd.Series(values)
    text = s.astype("str")
    out = (text.str.normalize("NFKC").str.replace(_INVISIBLE_RE, "", regex=True)
           .str.replace(r"\s+", " ", regex=True).str.strip())
    return out.where(s.notna())


# ---------------------------------------------------------------------------------------------
# encodings and delimiters
# ---------------------------------------------------------------------------------------------
def _decode_error(raw: bytes, encoding: str) -> UnicodeDecodeError | None:
    try:
        raw.decode(encoding)
    except UnicodeDecodeError as exc:
        return exc
    return None


def detect_encoding(raw: bytes, *, func: str = "read_posts") -> DetectedEncoding:
    """Find the text encoding of ``raw`` bytes, or raise a ValueError that says what to pass.

    Parameters
    ----------
    raw : bytes
        The whole file (UTF-8 validity is checked on every byte).
    func : str, default="read_posts"
        Function name used in the error message.

    Returns
    -------
    DetectedEncoding
        ``encoding`` is a Python codec name ("utf-8-sig", "utf-8", "cp1252", ...); ``method``
        says how it was found.

    Raises
    ------
    ValueError
        When the bytes are not UTF-8 and charset-normalizer gives no confident guess. The message
        names the first undecodable byte and its offset, what was tried, and suggests
        ``encoding='cp1252'`` / ``encoding='gb18030'``.

    Notes
    -----
    Order tried: UTF-8 with BOM, UTF-8, then charset-normalizer on the whole file and, if that is not
    confident, on the file's distinct runs of non-ASCII bytes (at least 24 bytes; mess at most 5 %),
    which decides mostly-ASCII exports whose few non-ASCII words repeat. A guess counts as confident when
    its "mess" ratio is at most 10 % and either every candidate within 5 percentage points of it
    decodes the bytes to the same text, or one of those candidates is a common export encoding
    (:data:`PREFERRED_ENCODINGS`, first listed wins; the method text says so). Otherwise the
    guess is not trusted and a ValueError asks for ``encoding=``. Short files with a few accented characters are often
    ambiguous: pass ``encoding=`` for them.

    Examples
    --------
    >>> from toolkit.data.parsing import detect_encoding
    >>> detect_encoding("\\ufeffpost_id,likes\\n1,2\\n".encode("utf-8")).encoding
    'utf-8-sig'
    """
    if raw.startswith(b"\xef\xbb\xbf"):
        err = _decode_error(raw, "utf-8-sig")
        if err is None:
            return DetectedEncoding("utf-8-sig", "UTF-8 byte-order mark")
    if raw.isascii():  # ASCII is valid UTF-8 (checked without decoding a copy of the file)
        return DetectedEncoding("utf-8", "valid UTF-8")
    err = _decode_error(raw, "utf-8")
    if err is None:
        return DetectedEncoding("utf-8", "valid UTF-8")
    offset = err.start
    bad_byte = raw[offset:offset + 1].hex().upper()
    from charset_normalizer import from_bytes

    guess_text = "no candidate"
    # Second look: the distinct runs of non-ASCII bytes only. A mostly-ASCII export whose few words in
    # Chinese are repeated thousands of times (a column of categories) is judged on those words.
    runs = b"\n".join(dict.fromkeys(re.findall(rb"[\x80-\xff]+", raw[:50_000_000])))[:200_000]
    attempts = [(raw, 0.10, "charset-normalizer")]
    if len(runs) >= 24:
        attempts.append((runs, 0.05, "charset-normalizer on the file's distinct non-ASCII text"))
    for k, (sample, limit, method) in enumerate(attempts):
        results = list(from_bytes(sample))
        if not results:
            continue
        best = results[0]
        tied = [m for m in results if m.chaos - best.chaos <= _TIE_WINDOW]
        if k == 0:
            guess_text = f"best guess {best.encoding!r} with {best.chaos:.0%} mess"
        if best.chaos <= limit:
            chosen = None
            texts = {str(m) for m in tied}
            if len(texts) == 1:
                chosen = best.encoding
            else:
                for enc in PREFERRED_ENCODINGS:
                    if any(m.encoding == enc for m in tied):
                        chosen = enc
                        break
            if chosen is not None and _decode_error(raw, chosen) is None:
                others = ", ".join(m.encoding for m in tied if m.encoding != chosen and str(m) != str(
                    next(x for x in tied if x.encoding == chosen)))
                how = method
                if others:
                    how += (f"; {others} decode the bytes differently and were about as plausible; {chosen} was "
                            f"preferred as the more common export encoding. If accented text looks wrong, pass "
                            f"encoding=...")
                return DetectedEncoding(chosen, how)
            if len(texts) > 1 and k == 0:
                guess_text += (f"; equally good candidates decode the text differently: "
                               f"{', '.join(m.encoding for m in tied[:6])}")
    raise ValueError(message(
        func, "encoding", "given for this file", None,
        f"The bytes are not UTF-8 (first invalid byte 0x{bad_byte} at byte offset {offset}) and the encoding "
        f"could not be detected confidently (tried utf-8-sig, utf-8, then charset-normalizer: {guess_text}). "
        f"Pass the encoding your export tool used, e.g. encoding='cp1252' (Windows Western European, "
        f"Excel 'CSV'), encoding='gb18030' (Simplified Chinese) or encoding='shift_jis' (Japanese)."))


def sniff_delimiter(sample: str, *, candidates: tuple[str, ...] = DELIMITERS) -> str:
    """Guess the field delimiter of delimited text.

    Parameters
    ----------
    sample : str
        The first lines of the file (decoded text).
    candidates : tuple of str, default=(",", ";", "\\t", "|")
        Delimiters to choose from.

    Returns
    -------
    str
        The delimiter. "," when the sample has a single column.

    Notes
    -----
    :class:`csv.Sniffer` proposes a delimiter; it is accepted when at least 90 % of the lines
    (parsed with :mod:`csv`, so quoted fields are respected) have the most common number of fields
    and that number is above one (a title line above the header does not count against it).
    Otherwise the candidate giving the most consistent field count wins.

    Examples
    --------
    >>> from toolkit.data.parsing import sniff_delimiter
    >>> sniff_delimiter("Page total likes;Type;like\\n139441;Photo;79\\n139441;Status;130\\n")
    ';'
    """
    lines = sample.splitlines()[:50]
    if lines and len(sample) > 0 and not sample.endswith(("\n", "\r")) and len(lines) > 1:
        lines = lines[:-1]  # last line may be cut
    text = "\n".join(lines)

    def score(delim: str) -> tuple[float, int]:
        rows = [r for r in csv.reader(io.StringIO(text), delimiter=delim) if r]
        if not rows:
            return (0.0, 0)
        widths = pd.Series([len(r) for r in rows])
        freq = widths.value_counts()
        # the most common width (ties: the wider), so that a title line above the header does not decide
        width = int(max(freq.index[freq == freq.max()]))
        if width < 2:
            return (0.0, width)
        return (float(freq[width]) / len(widths), width)

    try:
        sniffed = csv.Sniffer().sniff(text, delimiters="".join(candidates)).delimiter
    except csv.Error:
        sniffed = None
    if sniffed in candidates:
        c, w = score(sniffed)
        if c >= 0.9 and w >= 2:
            return sniffed
    scored = sorted(((score(d), -i, d) for i, d in enumerate(candidates)), reverse=True)
    (consistency, width), _, best = scored[0]
    if width < 2:
        return ","
    return best


def record_shapes(text: str, delimiter: str) -> tuple[np.ndarray, np.ndarray]:
    """Count the fields of every record of delimited text, as a CSV parser splits it.

    Parameters
    ----------
    text : str
        The decoded file (byte-order mark removed).
    delimiter : str
        The one-character field delimiter.

    Returns
    -------
    counts : numpy.ndarray of int64
        Number of fields of each record (a blank line counts as one empty field), in file order.
    lines : numpy.ndarray of int64
        1-based line of the file on which each record starts (records with quoted line breaks
        span several lines).

    Notes
    -----
    Vectorised on the UTF-8 bytes: a quote character toggles "inside quotes" (a doubled quote
    toggles twice), and delimiters and line feeds outside quotes separate fields and records.
    That is exactly the CSV rule when every quote stands at a field boundary; otherwise (a stray
    quote inside an unquoted value such as ``12" screen``, or bare carriage returns) the records
    are counted with :mod:`csv`, which splits them as pandas' C parser does.

    Examples
    --------
    >>> from toolkit.data.parsing import record_shapes
    >>> counts, lines = record_shapes('a,b,c\\n1,"x\\ny",3\\n4,5\\n', ",")
    >>> counts.tolist(), lines.tolist()
    ([3, 3, 2], [1, 2, 4])
    """
    data = text.encode("utf-8")
    if not data:
        return np.zeros(0, dtype="int64"), np.zeros(0, dtype="int64")
    fast = _record_shapes_bytes(data, delimiter)
    return fast if fast is not None else _record_shapes_csv(text, delimiter)


def _quotes_at_boundaries(data: bytes, delimiter: str) -> bool:
    """True when the quotes of ``data`` pair up and each stands at a field boundary (and no bare CR).

    Under this condition a byte scan, :mod:`csv`, pandas' C parser and pyarrow split records alike.
    """
    if b"\r" in data and data.count(b"\r") != data.count(b"\r\n"):
        return False
    if b'"' not in data:
        return True
    arr = np.frombuffer(data, dtype=np.uint8)
    d = ord(delimiter)
    qpos = np.flatnonzero(arr == 34)
    if len(qpos) % 2:
        return False
    prev = np.where(qpos > 0, arr[np.maximum(qpos - 1, 0)], 10)
    nxt = np.where(qpos + 1 < len(arr), arr[np.minimum(qpos + 1, len(arr) - 1)], 10)
    boundary = np.array([10, 13, 34, d], dtype=np.uint8)
    return bool((np.isin(prev, boundary) | np.isin(nxt, boundary)).all())


def _record_shapes_bytes(data: bytes, delimiter: str):
    """Fast path of :func:`record_shapes`: three byte scans and sorted-position arithmetic."""
    arr = np.frombuffer(data, dtype=np.uint8)
    d = ord(delimiter)
    nl_all = np.flatnonzero(arr == 10)
    if b"\r" in data:
        cr = np.flatnonzero(arr == 13)
        if cr[-1] + 1 >= len(arr) or (arr[cr + 1] != 10).any():
            return None  # bare carriage returns: let csv decide
    sep_all = np.flatnonzero(arr == d)
    if b'"' in data:
        qpos = np.flatnonzero(arr == 34)
        prev = np.where(qpos > 0, arr[np.maximum(qpos - 1, 0)], 10)
        nxt = np.where(qpos + 1 < len(arr), arr[np.minimum(qpos + 1, len(arr) - 1)], 10)
        boundary = np.array([10, 13, 34, d], dtype=np.uint8)
        if len(qpos) % 2 or not (np.isin(prev, boundary) | np.isin(nxt, boundary)).all():
            return None  # a stray or unterminated quote: let csv (or the parser's error) decide
        # a line feed is inside quotes when an odd number of quotes precede it
        ends = nl_all[(np.searchsorted(qpos, nl_all) & 1) == 0]
    else:
        qpos = np.zeros(0, dtype=np.intp)
        ends = nl_all
    if arr[-1] != 10:
        ends = np.append(ends, len(arr))
    starts = np.concatenate([[0], ends[:-1] + 1])
    counts = np.searchsorted(sep_all, ends) - np.searchsorted(sep_all, starts) + 1
    if len(qpos):
        # delimiters between an opening and its closing quote are text: subtract them from their record
        opens, closes = qpos[0::2], qpos[1::2]
        inside = np.searchsorted(sep_all, closes) - np.searchsorted(sep_all, opens)
        record = np.searchsorted(ends, opens)
        counts = counts - np.bincount(record, weights=inside, minlength=len(ends)).astype(counts.dtype)
    lines = (np.searchsorted(nl_all, starts) + 1).astype("int64")
    return counts.astype("int64"), lines


def _record_shapes_csv(text: str, delimiter: str):
    counts, lines = [], []
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    start = 1
    try:
        for row in reader:
            counts.append(max(len(row), 1))
            lines.append(start)
            start = reader.line_num + 1
    except csv.Error:
        pass  # the parser reports malformed quoting
    return np.asarray(counts, dtype="int64"), np.asarray(lines, dtype="int64")
