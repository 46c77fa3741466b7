"""One input-resolution path for every group-comparison function.

``prepare_groups(data, dv=..., between=..., func=..., nan_policy=...)`` validates the inputs
and returns a :class:`GroupedData` with values sorted by group, so that every statistics function
handles NaNs, tiny groups, text numbers and infinities the same way, with the same messages.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .._validation import (check_column, check_data, check_integer, check_nan_policy, message,
                           numeric_column, warn)

#: More groups than this is refused: a post-level id was probably passed as `between`.
MAX_GROUPS = 5000


@dataclass(frozen=True)
class GroupedData:
    """Validated outcome values arranged by group.

    Attributes
    ----------
    values : numpy.ndarray
        float64 outcome values, sorted so that each group is one contiguous block.
    codes : numpy.ndarray
        int64 group code (0..k-1) of each value, non-decreasing.
    labels : list
        Group labels in analysis order (category order for categoricals, sorted otherwise).
    sizes : numpy.ndarray
        Number of values per group.
    starts : numpy.ndarray
        Start offset of each group's block in ``values`` (for ``np.add.reduceat``).
    n_dropped : int
        Rows removed under ``nan_policy="omit"`` (missing outcome or group label).
    dv, between : str
        The column names used.
    """

    values: np.ndarray
    codes: np.ndarray
    labels: list
    sizes: np.ndarray
    starts: np.ndarray
    n_dropped: int
    dv: str
    between: str

    @property
    def n(self) -> int:
        return int(self.values.size)

    @property
    def k(self) -> int:
        return len(self.labels)

    def group(self, i: int) -> np.ndarray:
        """Values of group ``i`` (a view)."""
        return self.values[self.starts[i]: self.starts[i] + self.sizes[i]]

    def groups(self) -> list[np.ndarray]:
        return [self.group(i) for i in range(self.k)]

    def select(self, labels: list) -> "GroupedData":
        """Restrict to the given labels (in the given order)."""
        idx = [self.labels.index(lab) for lab in labels]
        parts = [self.group(i) for i in idx]
        sizes = np.array([p.size for p in parts], dtype=np.int64)
        return GroupedData(
            values=np.concatenate(parts) if parts else np.empty(0),
            codes=np.repeat(np.arange(len(idx), dtype=np.int64), sizes),
            labels=list(labels),
            sizes=sizes,
            starts=np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64),
            n_dropped=self.n_dropped,
            dv=self.dv,
            between=self.between,
        )


def prepare_groups(data, *, dv, between, func: str, nan_policy: str = "raise", min_size: int = 2,
                   min_groups: int = 2, max_groups: int | None = None, groups=None) -> GroupedData:
    """Validate ``data[dv]`` by ``data[between]`` and arrange it by group.

    Parameters
    ----------
    data : pandas.DataFrame
    dv, between : str
        Outcome and grouping column names.
    func : str
        Public function name, used in messages.
    nan_policy : {"raise", "omit"}
        "raise" refuses missing outcomes or group labels; "omit" drops those rows and counts them.
    min_size : int
        Every group must have at least this many values.
    min_groups, max_groups : int
        Allowed number of groups (max_groups=2 for two-sample tests).
    groups : list or None
        Keep only these group labels, in this order (e.g. two departments out of eight). Rows of
        other groups are not "dropped": they are outside the requested comparison.
    """
    data = check_data(data, func)
    check_column(data, dv, func, "dv")
    check_column(data, between, func, "between")
    check_nan_policy(nan_policy, func)
    check_integer(min_size, func, "min_size", minimum=1)
    if dv == between:
        raise ValueError(message(func, "between", "a different column from `dv`", between))
    if len(data) == 0:
        raise ValueError(message(func, "data", "a DataFrame with at least one row", "an empty DataFrame",
                                 show_got=False))

    y = numeric_column(data, dv, func, "dv").to_numpy(dtype=np.float64)
    g = data[between]
    if pd.api.types.is_float_dtype(g) and g.notna().any():
        warn(f"{func}: `between` column {between!r} is floating point; each distinct number is treated as a "
             f"group. If it is a measurement, not a label, a regression is the right tool.")
    raw, uniques, natural = _factorize(g)
    missing_g = raw < 0
    if groups is not None:
        groups = list(groups)
        present = np.bincount(raw[~missing_g], minlength=len(uniques)) > 0
        where = _positions(uniques, groups)
        missing = [lab for lab, pos in zip(groups, where) if pos < 0 or not present[pos]]
        if missing:
            shown = ", ".join(repr(uniques[i]) for i in _first_seen(raw, 12))
            raise ValueError(message(func, "groups", f"labels present in column {between!r}", missing,
                                     f"Available labels include {shown}."))
        # Rows with a missing label stay in scope: their group is unknown, so nan_policy decides (and counts) them.
        lookup = np.full(len(uniques), -1, dtype=_code_dtype(len(groups)))
        lookup[where] = np.arange(len(groups))
        in_scope = missing_g | (lookup[np.where(missing_g, 0, raw)] >= 0)
        y, raw, missing_g = y[in_scope], raw[in_scope], missing_g[in_scope]

    missing_y = np.isnan(y)
    bad = missing_y | missing_g
    n_bad = int(bad.sum())
    if n_bad and nan_policy == "raise":
        parts = []
        if missing_y.any():
            parts.append(f"{int(missing_y.sum())} missing value(s) in {dv!r}")
        if missing_g.any():
            parts.append(f"{int(missing_g.sum())} missing group label(s) in {between!r}")
        raise ValueError(f"{func}: `data` contains {' and '.join(parts)}. Pass nan_policy='omit' to drop "
                         f"those rows (the count is reported in `n_dropped`), or impute them first.")
    y_arr, raw = (y[~bad], raw[~bad]) if n_bad else (y, raw)

    if groups is not None:
        labels = groups
    else:
        order = _analysis_order(raw, uniques, natural)
        labels = [uniques[i] for i in order]
        lookup = np.full(len(uniques), -1, dtype=_code_dtype(len(order)))
        lookup[order] = np.arange(len(order))
    codes = lookup[raw]
    k = len(labels)
    if y_arr.size == 0:
        raise ValueError(message(func, "data", "at least one row with a non-missing outcome and group",
                                 f"0 of {len(data)} rows usable", show_got=True))
    if k < min_groups:
        raise ValueError(message(func, "between", f"a column with at least {min_groups} groups",
                                 f"{between!r} with {k} group(s): {labels[:5]!r}",
                                 "Comparing groups needs at least two of them."))
    limit = max_groups if max_groups is not None else MAX_GROUPS
    if k > limit:
        hint = ("Two-sample tests compare exactly two groups: pass groups=['A', 'B'] or use tk.pairwise."
                if limit == 2 else
                f"That many groups usually means an identifier was passed as `between` (is {between!r} a post "
                f"or account id?). Aggregate to the level you want to compare first.")
        raise ValueError(message(func, "between", f"a column with at most {limit} groups",
                                 f"{between!r} with {k} groups", hint))

    sizes = np.bincount(codes, minlength=k).astype(np.int64)
    values = _by_group(y_arr, codes, k)
    codes = np.repeat(np.arange(k, dtype=np.int64), sizes)
    small = [(labels[i], int(sizes[i])) for i in range(k) if sizes[i] < min_size]
    if small:
        if all(s == 1 for _, s in small) and len(small) == k:
            hint = f"Every group has one row: is {between!r} an identifier rather than a grouping?"
        else:
            hint = "Drop or merge sparse groups before testing."
        lab, size = small[0]
        more = f" ({len(small) - 1} more group(s) too small)" if len(small) > 1 else ""
        raise ValueError(f"{func}: every group in `between` needs at least {min_size} non-missing values of "
                         f"{dv!r}; group {lab!r} has {size}{more}. {hint}")
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
    return GroupedData(values=values, codes=codes, labels=list(labels), sizes=sizes, starts=starts,
                       n_dropped=n_bad, dv=dv, between=between)


def _code_dtype(k: int):
    """Smallest signed integer type for codes -1..k-1 (small codes keep memory near the peers' at 1M rows)."""
    return np.int16 if k < 2 ** 15 else np.int64


def _factorize(g: pd.Series) -> tuple[np.ndarray, list, list | None]:
    """Integer codes of ``g`` (-1 for missing), the distinct labels, and their natural order.

    Categoricals use their codes (natural order = category order); other columns are factorized
    (natural order None: labels are sorted). No object array of the rows and no string matching.
    """
    if isinstance(g.dtype, pd.CategoricalDtype):
        return (g.cat.codes.to_numpy(), list(g.cat.categories),
                list(range(len(g.cat.categories))))
    raw, uniques = pd.factorize(g, sort=False, use_na_sentinel=True)
    if isinstance(uniques, pd.Index) and isinstance(uniques.dtype, np.dtype) and uniques.dtype != object:
        uniques = uniques.to_numpy()  # numpy scalars as labels, as pd.unique gives
    return raw.astype(np.int64, copy=False), list(uniques), None


def _analysis_order(raw: np.ndarray, uniques: list, natural: list | None) -> list[int]:
    """Indices of the observed labels in analysis order: category order, else sorted (type name, value)."""
    observed = np.flatnonzero(np.bincount(raw, minlength=len(uniques))).tolist()
    if natural is not None:
        return observed  # category codes are already in category order
    return sorted(observed, key=lambda i: (str(type(uniques[i])), uniques[i]))


def _positions(uniques: list, wanted: list) -> np.ndarray:
    """Index of each wanted label among ``uniques`` (-1 when absent), with ``==`` equality as ``isin``."""
    out = np.full(len(wanted), -1, dtype=np.int64)
    for j, lab in enumerate(wanted):
        for i, u in enumerate(uniques):
            try:
                same = bool(u == lab)
            except (TypeError, ValueError):
                same = False
            if same:
                out[j] = i
                break
    return out


def _first_seen(raw: np.ndarray, limit: int) -> list[int]:
    """Up to ``limit`` label indices in order of first appearance (as ``pd.unique``)."""
    valid = raw[raw >= 0]
    uniq, first = np.unique(valid, return_index=True)
    return uniq[np.argsort(first)][:limit].tolist()


def _by_group(values: np.ndarray, codes: np.ndarray, k: int) -> np.ndarray:
    """``values`` reordered so each group is one block, keeping the row order within a group.

    A stable sort of the small-integer codes (numpy uses a radix sort for 16-bit keys); no copy of
    the order when the rows are already grouped.
    """
    if codes.size == 0 or bool(np.all(codes[1:] >= codes[:-1])):
        return values.copy()
    return values[np.argsort(codes, kind="stable")]
