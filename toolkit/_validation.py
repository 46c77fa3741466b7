"""Private argument checks and the one error-message template.

Every message has the same shape: ``"<func>: `<param>` must be <expected>; got <repr>. <hint>"``
so wording never diverges between functions. Use these helpers for all option, range and
column checks; never ``assert`` on user input.
"""
from __future__ import annotations

import difflib
import functools
import numbers
import warnings
from typing import Any, Iterable, Sequence

import numpy as np
import pandas as pd


class ToolkitWarning(UserWarning):
    """Warning issued by the toolkit: the result is valid but deserves attention.

    Filter only ours with ``warnings.filterwarnings("ignore", category=tk.ToolkitWarning)``.
    """


class ToolkitDeprecationWarning(ToolkitWarning, FutureWarning):
    """A keyword or name of the toolkit was renamed; the old one still works for one release.

    A :class:`ToolkitWarning` (so ``category=tk.ToolkitWarning`` filters it too) and a ``FutureWarning``
    (so Python shows it to notebook users by default, unlike ``DeprecationWarning``). The message names the
    new keyword; see ``docs/GLOSSARY.md`` for the vocabulary.
    """


def message(func: str, param: str | None, expected: str, got: Any = None, hint: str | None = None,
            *, show_got: bool = True) -> str:
    """Build an error message in the house template."""
    head = f"{func}: `{param}` must be {expected}" if param else f"{func}: {expected}"
    if show_got:
        head += f"; got {got!r}"
    head += "."
    if hint:
        head += " " + hint.strip()
    return head


def warn(text: str, stacklevel: int = 3) -> None:
    """Issue a :class:`ToolkitWarning` pointing at the user's call."""
    warnings.warn(text, ToolkitWarning, stacklevel=stacklevel)


def deprecated_keyword(func: str, old: str, new: str, kwargs: dict) -> None:
    """Move a renamed keyword from ``old`` to ``new`` in ``kwargs`` (in place), warning once.

    Passing both the old and the new name is a ``TypeError``: the toolkit will not guess which one was meant.
    The warning points at the caller of the public function (``stacklevel=3``: this helper, the
    :func:`renamed_keywords` wrapper, then the user's call).
    """
    if old not in kwargs:
        return
    if new in kwargs:
        raise TypeError(message(func, old, f"left out when `{new}` is given ({old!r} is the old name of "
                                            f"{new!r})", kwargs[old], f"Pass only {new}=.", show_got=False))
    kwargs[new] = kwargs.pop(old)
    warnings.warn(f"{func}: `{old}=` is renamed `{new}=`; the old name works for one more release. "
                  f"Write {new}= instead (docs/GLOSSARY.md).", ToolkitDeprecationWarning, stacklevel=3)


def renamed_values(func: str, param: str, values: tuple, renames: dict, *, stacklevel: int = 4) -> tuple:
    """Replace renamed option *values* (``{"old": "new"}``) in ``values``, warning once per old value.

    For an option value whose old spelling meant something else elsewhere in the API (e.g. the
    specification curve's ``"welch"``, now ``"welch_log_ratio"``). The old value works for one release with a
    :class:`ToolkitDeprecationWarning`; ``stacklevel=4`` points at the user's call when the public function
    calls a private helper that calls this one.
    """
    out = []
    for v in values:
        new = renames.get(v) if isinstance(v, str) else None
        if new is not None:
            warnings.warn(f"{func}: the value {v!r} of `{param}` is renamed {new!r}; the old value works for one "
                          f"more release. Write {new!r} instead (docs/GLOSSARY.md).", ToolkitDeprecationWarning,
                          stacklevel=stacklevel)
            v = new
        out.append(v)
    return tuple(out)


def renamed_keywords(**renames: str):
    """Decorator: accept each old keyword (``old="new"``) for one release with a :class:`ToolkitDeprecationWarning`.

    The wrapped function keeps its signature and docstring (``functools.wraps``), which show only the new
    names. Example: ``@renamed_keywords(covariates="covar")``.
    """
    def decorate(fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            for old, new in renames.items():
                deprecated_keyword(fn.__name__, old, new, kwargs)
            return fn(*args, **kwargs)
        wrapper.__renamed_keywords__ = dict(renames)
        return wrapper
    return decorate


def check_data(data: Any, func: str) -> pd.DataFrame:
    """Check that ``data`` is a DataFrame (long/tidy form)."""
    if isinstance(data, pd.DataFrame):
        return data
    if isinstance(data, pd.Series):
        raise TypeError(message(func, "data", "a pandas.DataFrame in long form (one row per post)",
                                f"Series {data.name!r}",
                                "Pass the whole DataFrame and name the column, e.g. dv='likes'.",
                                show_got=True))
    raise TypeError(message(func, "data", "a pandas.DataFrame in long form (one row per post)",
                            type(data).__name__, show_got=True))


def _did_you_mean(name: str, options: Iterable[str]) -> str:
    options = [str(o) for o in options]
    lowered = {o.lower(): o for o in options}
    if str(name).lower() in lowered:
        return f" Did you mean {lowered[str(name).lower()]!r}?"
    close = difflib.get_close_matches(str(name), options, n=1, cutoff=0.6)
    return f" Did you mean {close[0]!r}?" if close else ""


def check_column(data: pd.DataFrame, name: Any, func: str, param: str) -> str:
    """Check that ``name`` is a column of ``data`` and return it.

    Raises TypeError when a Series/array is passed instead of a name, ValueError when the
    column is missing (listing available columns and the closest match).
    """
    if isinstance(name, (pd.Series, np.ndarray, list, tuple)):
        raise TypeError(message(func, param, "the name of a column in `data`", f"{type(name).__name__}",
                                "Pass the column name as a string, e.g. "
                                f"{param}='department', not the column itself."))
    if name not in data.columns:
        cols = [str(c) for c in data.columns]
        shown = ", ".join(repr(c) for c in cols[:12]) + (" …" if len(cols) > 12 else "")
        raise ValueError(message(func, param, "the name of a column in `data`", name,
                                 f"Available columns include {shown}.{_did_you_mean(name, cols)}"))
    return name


def check_table(table, func: str, columns: dict):
    """``table`` checked: a DataFrame with the named columns (``{parameter: column or None}``) and at least one row."""
    table = check_data(table, func)
    for param, name in columns.items():
        if name is not None:
            check_column(table, name, func, param)
    if len(table) == 0:
        raise ValueError(message(func, "table", "a table with at least one row", "an empty table"))
    return table


def check_option(value: Any, options: Sequence[Any], func: str, param: str) -> Any:
    """Check that ``value`` is one of ``options``."""
    if value not in options:
        shown = ", ".join(repr(o) for o in options)
        hint = _did_you_mean(value, [str(o) for o in options]).strip() if isinstance(value, str) else ""
        raise ValueError(message(func, param, f"one of {shown}", value, hint or None))
    return value


def check_probability(value: Any, func: str, param: str) -> float:
    """Check a level strictly between 0 and 1 (confidence_level, alpha)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(message(func, param, "a number strictly between 0 and 1", value))
    value = float(value)
    if not 0.0 < value < 1.0:
        hint = (f"It looks like a percentage; pass {value / 100:g} instead." if 1.0 < value < 100.0 else None)
        raise ValueError(message(func, param, "a number strictly between 0 and 1", value, hint))
    return value


def check_integer(value: Any, func: str, param: str, *, minimum: int = 1) -> int:
    """Check an integer >= ``minimum`` (n_resamples, sizes)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(message(func, param, f"an integer >= {minimum}", value))
    if value < minimum:
        raise ValueError(message(func, param, f"an integer >= {minimum}", value))
    return int(value)


def check_nan_policy(value: Any, func: str) -> str:
    return check_option(value, ("raise", "omit"), func, "nan_policy")


def check_alternative(value: Any, func: str) -> str:
    return check_option(value, ("two-sided", "less", "greater"), func, "alternative")


def check_random_state(seed: Any, func: str = "toolkit") -> np.random.Generator:
    """Normalise ``seed`` (None, int or numpy Generator) to a Generator. Never touches global state."""
    if seed is None or (isinstance(seed, numbers.Integral) and not isinstance(seed, bool)):
        if seed is not None and seed < 0:
            raise ValueError(message(func, "seed", "None, a non-negative integer or a numpy.random.Generator",
                                     seed))
        return np.random.default_rng(seed)
    if isinstance(seed, np.random.Generator):
        return seed
    if isinstance(seed, np.random.RandomState):
        raise TypeError(message(func, "seed", "None, a non-negative integer or a numpy.random.Generator",
                                "RandomState", "Use numpy.random.default_rng(...) instead of the legacy API."))
    raise TypeError(message(func, "seed", "None, a non-negative integer or a numpy.random.Generator",
                            type(seed).__name__))


def numeric_column(data: pd.DataFrame, column: str, func: str, param: str = "dv") -> pd.Series:
    """Return ``data[column]`` as float64, with clear errors for text, booleans and infinities.

    Missing values are kept (as NaN); the caller applies ``nan_policy``.
    """
    s = data[column]
    if isinstance(s.dtype, pd.CategoricalDtype) or s.dtype == object or pd.api.types.is_string_dtype(s):
        converted = pd.to_numeric(s.astype("object"), errors="coerce")
        if converted.notna().sum() >= max(1, int(0.9 * s.notna().sum())) and s.notna().any():
            raise TypeError(message(func, param, "a numeric column", f"{column!r} with dtype {s.dtype}",
                                    f"The values look like numbers stored as text; convert them with "
                                    f"data[{column!r}] = pd.to_numeric(data[{column!r}]) or read the file "
                                    f"with tk.read_posts, which parses numbers.", show_got=True))
        raise TypeError(message(func, param, "a numeric column", f"{column!r} with dtype {s.dtype}",
                                "Pick a count or metric column (e.g. 'likes' or 'engagement_rate_reach').",
                                show_got=True))
    if pd.api.types.is_bool_dtype(s):
        raise TypeError(message(func, param, "a numeric column", f"{column!r} with boolean dtype",
                                "Convert it explicitly with .astype(int) if a 0/1 outcome is meant."))
    values = s.astype("Float64").astype("float64") if pd.api.types.is_extension_array_dtype(s) else s.astype(
        "float64")
    n_inf = int(np.isinf(values.to_numpy()).sum())
    if n_inf:
        raise ValueError(message(func, param, "finite", f"{n_inf} infinite value(s) in {column!r}",
                                 "Infinite values usually come from dividing by a zero denominator; "
                                 "tk.add_metrics returns NaN there instead.", show_got=True))
    return values


def complete_counts(data: pd.DataFrame, *, dv: str, exposure: str | None, used: Sequence[str], nan_policy: str,
                    func: str, missing: np.ndarray | None = None):
    """Counts and exposures of the complete rows, for every count analysis (one wording for one check).

    Rows with a missing value in `used` (or flagged in `missing`) raise under ``nan_policy="raise"`` and
    are dropped under "omit". Returns ``(y, e, keep)``: the counts (checked to be non-negative whole
    numbers), the exposures (checked to be > 0; None without `exposure`) and the boolean mask of rows kept.
    """
    y_all = numeric_column(data, dv, func, "dv")
    e_all = numeric_column(data, exposure, func, "exposure") if exposure is not None else None
    flagged = data[list(used)].isna().any(axis=1).to_numpy()
    if missing is not None:
        flagged = flagged | missing
    if flagged.any() and nan_policy == "raise":
        cols = [c for c in used if data[c].isna().any()]
        raise ValueError(message(func, "data", "free of missing values in the model columns",
                                 f"{int(flagged.sum())} row(s) with missing values in {cols}",
                                 "Pass nan_policy='omit' to drop those rows (the count is reported "
                                 "as n_dropped).", show_got=True))
    keep = ~flagged
    y = y_all.to_numpy()[keep]
    if y.size == 0:
        raise ValueError(message(func, "data", "at least one complete row", "0 rows"))
    if np.any(y < 0) or np.any(y != np.round(y)):
        bad = y[(y < 0) | (y != np.round(y))][:3]
        raise ValueError(message(func, "dv", "a count (non-negative whole numbers)",
                                 f"{dv!r} with values such as {list(bad)}",
                                 "Model the count itself (e.g. dv='comments') and pass the denominator "
                                 "as exposure='reach'; never model a rate or ratio.", show_got=True))
    e = None
    if e_all is not None:
        e = e_all.to_numpy()[keep]
        if np.any(e <= 0):
            raise ValueError(message(func, "exposure", "strictly positive for every post",
                                     f"{int((e <= 0).sum())} value(s) <= 0 in {exposure!r}",
                                     "A post with zero reach has no exposure to engage with; drop such "
                                     "posts explicitly or pick another exposure column.", show_got=True))
    return y, e, keep
