"""Private: one input path for the count models (validation, missing data, design matrix).

The design matrix is built here, not by a formula engine, so that the reference level and the
intercept are explicit: columns are ``Intercept``, ``<between>[T.<level>]`` for every non-reference
level (treatment coding), then covariates (numeric as they are, categorical as treatment dummies
``<name>[T.<level>]``). Names follow patsy's convention so that they read like R/statsmodels output.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .. import config
from .._validation import (check_column, check_data, check_nan_policy, check_option, complete_counts, message,
                           numeric_column)


@dataclass(frozen=True)
class Design:
    """Validated model inputs (private)."""

    y: np.ndarray
    X: np.ndarray
    names: list
    offset: np.ndarray
    groups: np.ndarray | None          # int codes 0..G-1 of `subject`, or None
    group_labels: list | None
    levels: list                        # levels of `between` in analysis order (reference first)
    reference: str
    between_columns: list               # indices of the between dummies in X
    covariate_info: list = field(default_factory=list)  # dicts: name, kind, columns, mean/levels
    n_dropped: int = 0
    dv: str = ""
    between: str = ""
    exposure: str | None = None
    subject: str | None = None
    frame: pd.DataFrame | None = None   # the rows used (after nan_policy), original columns

    @property
    def n(self) -> int:
        return int(self.y.size)


def _levels_of(series: pd.Series) -> list:
    if isinstance(series.dtype, pd.CategoricalDtype):
        present = set(series.dropna().astype(str).unique())
        return [str(c) for c in series.cat.categories if str(c) in present]
    cat = config.ordered_categorical(series, config.DEPARTMENTS)
    return [str(c) for c in cat.categories]


def _is_categorical(series: pd.Series) -> bool:
    return (isinstance(series.dtype, pd.CategoricalDtype) or pd.api.types.is_string_dtype(series)
            or series.dtype == object or pd.api.types.is_bool_dtype(series))


def build_design(data, *, dv, between, exposure=None, covariates=(), subject=None, reference=None,
                 mixed="level", nan_policy="raise", func="fit_engagement_model") -> Design:
    """Validate inputs, apply ``nan_policy`` and build y, X, offset and group codes."""
    data = check_data(data, func)
    check_nan_policy(nan_policy, func)
    check_option(mixed, ("level", "membership"), func, "mixed")
    check_column(data, dv, func, "dv")
    check_column(data, between, func, "between")
    if isinstance(covariates, str):
        covariates = (covariates,)
    covariates = tuple(covariates)
    for c in covariates:
        check_column(data, c, func, "covariates")
        if c in (dv, between):
            raise ValueError(message(func, "covariates", "columns other than `dv` and `between`", c))
    if exposure is not None:
        check_column(data, exposure, func, "exposure")
    if subject is not None:
        check_column(data, subject, func, "subject")
    co_col = "co_departments"
    if mixed == "membership" and co_col not in data.columns:
        raise ValueError(message(func, "mixed", "'level' when `data` has no 'co_departments' column",
                                 mixed, "mixed='membership' reads the departments of mixed-team posts "
                                        "from 'co_departments' ('Marketing|PR')."))

    used = [dv, between, *covariates] + ([exposure] if exposure else []) + ([subject] if subject else [])
    mixed_missing = None
    if mixed == "membership":
        is_mixed = (data[between].astype("object") == config.MIXED_DEPARTMENT).to_numpy()
        mixed_missing = is_mixed & data[co_col].isna().to_numpy()
    y, e, keep = complete_counts(data, dv=dv, exposure=exposure, used=used, nan_policy=nan_policy, func=func,
                                 missing=mixed_missing)
    missing = ~keep
    offset = np.log(e) if e is not None else np.zeros(y.size)
    frame = data.loc[keep, :].reset_index(drop=True)

    groups_raw = frame[between].astype("object").astype(str)
    levels = _levels_of(frame[between])
    if mixed == "membership":
        levels = [lv for lv in levels if lv != config.MIXED_DEPARTMENT]
        co = frame[co_col].astype("object")
        for parts in co[groups_raw == config.MIXED_DEPARTMENT].astype(str).str.split(config.CO_DEPARTMENT_SEP):
            for p in parts:
                if p not in levels:
                    levels.append(p)
    if reference is None:
        reference = levels[0]
    elif str(reference) not in levels:
        raise ValueError(message(func, "reference", f"a level of {between!r}", reference,
                                 f"Levels: {', '.join(map(repr, levels))}."))
    reference = str(reference)
    levels = [reference] + [lv for lv in levels if lv != reference]
    if len(levels) < 2:
        raise ValueError(message(func, "between", "a column with at least two groups",
                                 f"{between!r} with only {levels!r}"))

    n = y.size
    cols = [np.ones(n)]
    names = ["Intercept"]
    between_columns = []
    g_arr = groups_raw.to_numpy()
    if mixed == "membership":
        mix_rows = g_arr == config.MIXED_DEPARTMENT
        co_parts = frame[co_col].astype("object").where(mix_rows, "").astype(str).to_numpy()
    for lv in levels[1:]:
        col = (g_arr == lv).astype(float)
        if mixed == "membership":
            for i in np.flatnonzero(mix_rows):
                parts = co_parts[i].split(config.CO_DEPARTMENT_SEP)
                if lv in parts:
                    col[i] = 1.0 / len(parts)
        between_columns.append(len(cols))
        cols.append(col)
        names.append(f"{between}[T.{lv}]")

    cov_info = []
    for c in covariates:
        s = frame[c]
        if _is_categorical(s):
            lv_c = _levels_of(s)
            idx = []
            sv = s.astype("object").astype(str).to_numpy()
            for lv in lv_c[1:]:
                idx.append(len(cols))
                cols.append((sv == lv).astype(float))
                names.append(f"{c}[T.{lv}]")
            cov_info.append({"name": c, "kind": "factor", "columns": idx, "levels": lv_c})
        else:
            v = numeric_column(frame, c, func, "covariates").to_numpy()
            cov_info.append({"name": c, "kind": "numeric", "columns": [len(cols)], "mean": float(v.mean())})
            cols.append(v)
            names.append(str(c))
    X = np.column_stack(cols)
    if np.linalg.matrix_rank(X) < X.shape[1]:
        raise ValueError(message(func, "covariates", "columns that are not redundant with `between`",
                                 list(covariates), "The design matrix is rank-deficient (a covariate is "
                                 "constant or determined by the department); drop it."))
    groups = group_labels = None
    if subject is not None:
        codes, uniques = pd.factorize(frame[subject].astype("object"), sort=True)
        groups = codes.astype(np.int64)
        group_labels = [str(u) for u in uniques]
    return Design(y=y.astype(float), X=X, names=names, offset=offset, groups=groups,
                  group_labels=group_labels, levels=levels, reference=reference,
                  between_columns=between_columns, covariate_info=cov_info,
                  n_dropped=int(missing.sum()), dv=dv, between=between, exposure=exposure,
                  subject=subject, frame=frame)
