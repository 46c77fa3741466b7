"""Long/wide reshaping of engagement counts: one row per post, or one row per post and type.

``to_long`` stacks count columns (likes, comments, shares) into one ``count`` column with an
``engagement_type`` label; ``to_wide`` is its exact inverse. Both are strict: missing columns,
name clashes and duplicated keys raise errors instead of being guessed around.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from .._validation import check_column, check_data, message


def _names(value, func: str, param: str) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
        return list(value)
    raise TypeError(message(func, param, "a column name or a list of column names", value))


def to_long(data, *, value_vars=("likes", "comments", "shares"), id_vars=None, var_name="engagement_type",
            value_name="count"):
    """Stack count columns into long form: one row per post and engagement type.

    Parameters
    ----------
    data : pandas.DataFrame
        Wide posts table (one row per post). Not modified.
    value_vars : str or list of str, default=("likes", "comments", "shares")
        Columns to stack, in the order they should appear.
    id_vars : str, list of str or None, default=None
        Columns repeated on every stacked row; None keeps all other columns.
    var_name : str, default="engagement_type"
        Name of the new label column.
    value_name : str, default="count"
        Name of the new value column.

    Returns
    -------
    pandas.DataFrame
        ``len(data) * len(value_vars)`` rows, post by post (the rows of one post are adjacent, in
        ``value_vars`` order), with a RangeIndex and columns

        - the ``id_vars`` columns, unchanged dtypes;
        - ``var_name``: ordered categorical with categories ``value_vars``;
        - ``value_name``: the stacked values (common dtype of the ``value_vars``, e.g. ``Int64``).

    Raises
    ------
    ValueError
        A listed column is missing, listed twice or in both lists, or ``var_name`` /
        ``value_name`` clashes with a kept column.

    See Also
    --------
    to_wide : the inverse.

    Notes
    -----
    Missing values are kept as missing rows (never dropped, never read as zero). ``data.attrs``
    is carried over. Validated by round trips ``to_wide(to_long(x))`` in tests/test_reshape.py.

    Examples
    --------
    >>> import pandas as pd
    >>> import toolkit as tk
    >>> wide = pd.DataFrame({"post_id": ["a", "b"], "likes": [10, 3], "comments": [1, 0], "shares": [0, 2]})
    >>> long = tk.to_long(wide)
    >>> long.shape, long.columns.tolist()
    ((6, 3), ['post_id', 'engagement_type', 'count'])
    >>> long["count"].tolist()
    [10, 1, 0, 3, 0, 2]
    """
    func = "to_long"
    data = check_data(data, func)
    value_vars = _names(value_vars, func, "value_vars")
    if not value_vars:
        raise ValueError(message(func, "value_vars", "at least one column name", value_vars))
    for c in value_vars:
        check_column(data, c, func, "value_vars")
    if len(set(value_vars)) != len(value_vars):
        raise ValueError(message(func, "value_vars", "a list without duplicates", value_vars))
    if id_vars is None:
        id_vars = [c for c in data.columns if c not in value_vars]
    else:
        id_vars = _names(id_vars, func, "id_vars")
        for c in id_vars:
            check_column(data, c, func, "id_vars")
        both = [c for c in id_vars if c in value_vars]
        if both:
            raise ValueError(message(func, "id_vars", "disjoint from `value_vars`", both))
        if len(set(id_vars)) != len(id_vars):
            raise ValueError(message(func, "id_vars", "a list without duplicates", id_vars))
    for param, name in (("var_name", var_name), ("value_name", value_name)):
        if not isinstance(name, str):
            raise TypeError(message(func, param, "a string", name))
        if name in id_vars:
            raise ValueError(message(func, param, "a name not already used by a kept column", name,
                                     "Pick another name or drop that column from `id_vars`."))
    if var_name == value_name:
        raise ValueError(message(func, "value_name", "different from `var_name`", value_name))

    n, k = len(data), len(value_vars)
    rows = np.repeat(np.arange(n), k)
    out = data[id_vars].iloc[rows].reset_index(drop=True)
    out[var_name] = pd.Categorical.from_codes(np.tile(np.arange(k), n), categories=value_vars, ordered=True)
    stacked = pd.concat([data[c].reset_index(drop=True) for c in value_vars], ignore_index=True)
    # concat gives type-major order; reorder to post-major
    perm = (np.arange(n)[:, None] + n * np.arange(k)[None, :]).ravel()
    out[value_name] = stacked.iloc[perm].reset_index(drop=True)
    out.attrs = dict(data.attrs)
    return out


def to_wide(data, *, index="post_id", var_name="engagement_type", value_name="count"):
    """Spread a long table back to one row per post: the inverse of :func:`to_long`.

    Parameters
    ----------
    data : pandas.DataFrame
        Long table, e.g. from :func:`to_long`. Not modified.
    index : str or list of str, default="post_id"
        Column(s) identifying a post. Every other column except ``var_name`` and ``value_name``
        must be constant within a post; it is kept once per post.
    var_name : str, default="engagement_type"
        Column whose labels become the new column names.
    value_name : str, default="count"
        Column whose values fill the new columns.

    Returns
    -------
    pandas.DataFrame
        One row per post (in order of first appearance), RangeIndex, columns: ``index`` and the
        other id columns (original order), then one column per label of ``var_name`` (category
        order for categoricals, order of first appearance otherwise) with the dtype of
        ``value_name``. A post without a row for some label gets a missing value there.

    Raises
    ------
    ValueError
        A column is missing, ``index`` has missing values, a (post, label) pair occurs twice, an id
        column varies within a post, or a label clashes with an id column.

    See Also
    --------
    to_long : the inverse.

    Notes
    -----
    ``to_wide(to_long(x))`` returns ``x`` with the stacked columns moved to the end. ``data.attrs``
    is carried over. Validated by round trips in tests/test_reshape.py.

    Examples
    --------
    >>> import pandas as pd
    >>> import toolkit as tk
    >>> wide = pd.DataFrame({"post_id": ["a", "b"], "likes": [10, 3], "comments": [1, 0]})
    >>> back = tk.to_wide(tk.to_long(wide, value_vars=["likes", "comments"]))
    >>> back.equals(wide)
    True
    """
    func = "to_wide"
    data = check_data(data, func)
    index = _names(index, func, "index")
    if not index:
        raise ValueError(message(func, "index", "at least one column name", index))
    for c in index:
        check_column(data, c, func, "index")
    check_column(data, var_name, func, "var_name")
    check_column(data, value_name, func, "value_name")
    if var_name in index or value_name in index or var_name == value_name:
        raise ValueError(message(func, "index", "different from `var_name` and `value_name`", index))
    n_na = int(data[index].isna().any(axis=1).sum())
    if n_na:
        raise ValueError(message(func, "index", "free of missing values", f"{n_na} row(s) with a missing key"))
    if data[var_name].isna().any():
        raise ValueError(message(func, "var_name", "free of missing labels",
                                 f"{int(data[var_name].isna().sum())} missing label(s)"))

    key = data.groupby(index, sort=False, observed=True, dropna=False).ngroup().to_numpy()
    n_posts = int(key.max()) + 1 if key.size else 0
    labels_col = data[var_name]
    if isinstance(labels_col.dtype, pd.CategoricalDtype):
        labels = [c for c in labels_col.cat.categories if (labels_col == c).any()]
    else:
        labels = list(pd.unique(labels_col))
    lab_code = pd.Categorical(labels_col, categories=labels).codes.astype(np.int64)
    cell = key * len(labels) + lab_code
    if np.unique(cell).size != cell.size:
        dup = data.loc[pd.Series(cell).duplicated(keep=False).to_numpy(), index + [var_name]].head(3)
        raise ValueError(message(func, "data", f"one row per post and {var_name}", "duplicated pairs",
                                 f"First duplicates: {dup.to_dict('records')}. Aggregate them first, or add "
                                 f"the distinguishing column to `index`.", show_got=False))
    other = [c for c in data.columns if c not in index and c not in (var_name, value_name)]
    clash = [str(lab) for lab in labels if lab in index or lab in other]
    if clash:
        raise ValueError(message(func, "var_name", "labels that are not also id column names", clash))

    first = np.full(n_posts, -1, dtype=np.int64)
    positions = np.arange(key.size)
    first[key[::-1]] = positions[::-1]  # first occurrence of each post
    ids = data[index + other].iloc[first].reset_index(drop=True)
    for c in other:
        col = data[c].reset_index(drop=True)
        expected = ids[c].iloc[key].reset_index(drop=True)
        same = (col.isna() & expected.isna()) | (col == expected).fillna(False).astype(bool)
        if not bool(same.all()):
            raise ValueError(message(func, "index", f"a key within which {c!r} is constant", index,
                                     f"Column {c!r} varies within a post; add it to `index` or drop it.",
                                     show_got=True))
    values = data[value_name].reset_index(drop=True)
    for j, lab in enumerate(labels):
        col = pd.Series(pd.array([pd.NA] * n_posts, dtype=values.dtype)) if pd.api.types.is_extension_array_dtype(
            values) else pd.Series(np.full(n_posts, np.nan), dtype="float64" if values.dtype.kind in "iub"
                                   else values.dtype)
        mask = lab_code == j
        if mask.sum() == n_posts:  # complete: keep the exact dtype
            col = values[mask].iloc[np.argsort(key[mask], kind="stable")].reset_index(drop=True)
        else:
            col.iloc[key[mask]] = values[mask].to_numpy()
        ids[lab] = col.to_numpy() if not pd.api.types.is_extension_array_dtype(col) else col.array
    ids.attrs = dict(data.attrs)
    return ids
