"""Private: one input path for the count models (validation, missing data, design matrix).

The design matrix is built here, not by a formula engine, so that the reference level and the
intercept are explicit: columns are ``Intercept``, ``<between>[T.<level>]`` for every non-reference
level (treatment coding), then covariates `covar` (numeric as they are, categorical as treatment dummies
``<name>[T.<level>]``). Names follow patsy's convention so that they read like R/statsmodels output.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, NamedTuple

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
    # fixed-effect terms: dicts with name, columns (indices in X), factors (frozenset of factor names)
    terms: tuple = ()
    formula: str | None = None          # the formula text (None for the keyword API)
    model_spec: Any = None              # formulaic ModelSpec of the fixed part (formula API), builds grid rows
    grid_factors: dict = field(default_factory=dict)   # reference-grid factor variable -> levels (as in data)
    grid_numeric: dict = field(default_factory=dict)   # reference-grid numeric variable -> mean
    between_variable: str | None = None  # the data column behind `between` (e.g. 'month' for 'C(month)')
    random_terms: tuple = ()            # names of the random terms ('g', '1 + x|g', '0 + x|g'); groups is a list
                                        # (codes, or (codes, Zk) for a slope term) when > 1 or with a slope
    random_spec: tuple = ()             # per random term: (grouping term, slope column or None, has intercept)
    random_labels: tuple = ()           # labels per random term (lists), same order
    Xz: np.ndarray | None = None        # zero-part design (zero_formula), intercept first
    zero_names: list | None = None
    between_codes: np.ndarray | None = None  # level index of `between` per post (None: multiple membership)
    # the GLM engine's reusable views of y and X (toolkit.models._engine._glm_inputs), made on first use
    cache: dict = field(default_factory=dict, repr=False, compare=False)

    @property
    def n(self) -> int:
        return int(self.y.size)


def labels_of(series: pd.Series) -> pd.Series:
    """Text labels of a grouping column: integer codes (also whole-number floats) as '1', '2', '10'."""
    if pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series) \
            and not isinstance(series.dtype, pd.CategoricalDtype):
        v = series.to_numpy(dtype=float, na_value=np.nan)
        if np.all(np.isnan(v) | (v == np.round(v))):
            return pd.Series([None if np.isnan(x) else str(int(x)) for x in v], index=series.index,
                             dtype="object")
    return series.astype("object").where(series.notna(), None).map(lambda x: x if x is None else str(x))


def _levels_of(series: pd.Series) -> list:
    """Levels in analysis order: category order; integer codes numerically (as R's factor); else
    config.DEPARTMENTS order then sorted text."""
    if isinstance(series.dtype, pd.CategoricalDtype):
        present = set(series.dropna().astype(str).unique())
        return [str(c) for c in series.cat.categories if str(c) in present]
    if pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series):
        values = np.unique(series.dropna().to_numpy(dtype=float))
        return list(dict.fromkeys(labels_of(pd.Series(values))))
    cat = config.ordered_categorical(series, config.DEPARTMENTS)
    return [str(c) for c in cat.categories]


def _is_categorical(series: pd.Series) -> bool:
    return (isinstance(series.dtype, pd.CategoricalDtype) or pd.api.types.is_string_dtype(series)
            or series.dtype == object or pd.api.types.is_bool_dtype(series))


def factor_codes(series: pd.Series) -> tuple[np.ndarray, list]:
    """``(codes, levels)`` of a factor column: levels as :func:`_levels_of`, codes index them (-1: missing).

    The same labels as :func:`labels_of` and the same order as :func:`_levels_of`, computed on the distinct
    values (``pd.factorize`` / the category codes) instead of converting every row to text.

    Examples
    --------
    >>> codes, levels = factor_codes(pd.Series(["PR", "Marketing", None, "PR"]))
    >>> codes.tolist(), levels
    ([1, 0, -1, 1], ['Marketing', 'PR'])
    >>> factor_codes(pd.Series([10, 2, 2]))[1]
    ['2', '10']
    """
    if isinstance(series.dtype, pd.CategoricalDtype):
        raw = np.asarray(series.cat.codes, dtype=np.int64)
        labels = [str(c) for c in series.cat.categories]
        used = np.bincount(raw[raw >= 0], minlength=len(labels)) > 0
        levels = list(dict.fromkeys(lab for lab, u in zip(labels, used) if u))
    else:
        raw, uniques = pd.factorize(series, use_na_sentinel=True)
        raw = np.asarray(raw, dtype=np.int64)
        distinct = pd.Series(np.asarray(uniques, dtype=object) if not pd.api.types.is_numeric_dtype(series)
                             else np.asarray(uniques), dtype=series.dtype if pd.api.types.is_numeric_dtype(series)
                             else object)
        labels = [str(v) for v in labels_of(distinct)]
        levels = _levels_of(distinct)
    index = {lv: i for i, lv in enumerate(levels)}
    lookup = np.array([index.get(lab, -1) for lab in labels] + [-1], dtype=np.int64)   # last: missing (-1)
    return lookup[raw], levels


def _full_rank(X, P=None) -> bool:
    """``rank(X) == p``; on `P`, the distinct rows of X, when given (``X = P[index]`` has rank(X) = rank(P)).
    numpy's default tolerance (``S.max * max(M, N) * eps``, M the rows of the matrix decomposed)."""
    return np.linalg.matrix_rank(X if P is None else P) == X.shape[1]


def build_design(data, *, dv, between, exposure=None, covar=(), subject=None, reference=None,
                 mixed="level", nan_policy="raise", func="fit_engagement_model") -> Design:
    """Validate inputs, apply ``nan_policy`` and build y, X, offset and group codes."""
    data = check_data(data, func)
    check_nan_policy(nan_policy, func)
    check_option(mixed, ("level", "membership"), func, "mixed")
    check_column(data, dv, func, "dv")
    check_column(data, between, func, "between")
    if isinstance(covar, str):
        covar = (covar,)
    covar = tuple(covar)
    for c in covar:
        check_column(data, c, func, "covar")
        if c in (dv, between):
            raise ValueError(message(func, "covar", "columns other than `dv` and `between`", c))
    if exposure is not None:
        check_column(data, exposure, func, "exposure")
    if subject is not None:
        check_column(data, subject, func, "subject")
    co_col = "co_departments"
    if mixed == "membership" and co_col not in data.columns:
        raise ValueError(message(func, "mixed", "'level' when `data` has no 'co_departments' column",
                                 mixed, "mixed='membership' reads the departments of mixed-team posts "
                                        "from 'co_departments' ('Marketing|PR')."))

    used = [dv, between, *covar] + ([exposure] if exposure else []) + ([subject] if subject else [])
    mixed_missing = None
    if mixed == "membership":
        is_mixed = (data[between].astype("object") == config.MIXED_DEPARTMENT).to_numpy()
        mixed_missing = is_mixed & data[co_col].isna().to_numpy()
    y, e, keep = complete_counts(data, dv=dv, exposure=exposure, used=used, nan_policy=nan_policy, func=func,
                                 missing=mixed_missing)
    missing = ~keep
    offset = np.log(e) if e is not None else np.zeros(y.size)
    frame = data.loc[keep, :].reset_index(drop=True)

    bcodes, levels = factor_codes(frame[between])
    found = list(levels)
    mix_rows = None
    if mixed == "membership":
        mix_rows = bcodes == (found.index(config.MIXED_DEPARTMENT) if config.MIXED_DEPARTMENT in found else -2)
        levels = [lv for lv in levels if lv != config.MIXED_DEPARTMENT]
        co = frame[co_col].astype("object")
        for parts in co[mix_rows].astype(str).str.split(config.CO_DEPARTMENT_SEP):
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
    # codes in the final level order (-1: a mixed-team post under membership coding)
    position = {lv: i for i, lv in enumerate(levels)}
    bcodes = np.array([position.get(lv, -1) for lv in found] + [-1], dtype=np.int64)[bcodes]

    n = y.size
    cov_info, factors, p = [], [], len(levels)
    names = ["Intercept"] + [f"{between}[T.{lv}]" for lv in levels[1:]]
    between_columns = list(range(1, len(levels)))
    for c in covar:
        s = frame[c]
        if _is_categorical(s):
            codes_c, lv_c = factor_codes(s)
            idx = list(range(p, p + len(lv_c) - 1))
            factors.append((codes_c, p - 1))       # column of level j (>= 1) is p - 1 + j
            names += [f"{c}[T.{lv}]" for lv in lv_c[1:]]
            cov_info.append({"name": c, "kind": "factor", "columns": idx, "levels": lv_c})
            p += len(lv_c) - 1
        else:
            v = numeric_column(frame, c, func, "covar").to_numpy()
            cov_info.append({"name": c, "kind": "numeric", "columns": [p], "mean": float(v.mean()), "values": v})
            names.append(str(c))
            p += 1
    X = np.zeros((n, p))
    X[:, 0] = 1.0
    flat = X.reshape(-1)
    for codes_f, base in [(bcodes, 0), *factors]:      # the dummy of level j >= 1 in column base + j
        hit = np.flatnonzero(codes_f > 0)
        flat[hit * p + base + codes_f[hit]] = 1.0
    for info in cov_info:
        if info["kind"] == "numeric":
            X[:, info["columns"][0]] = info.pop("values")
    if mixed == "membership":
        co_parts = frame[co_col].astype("object").where(mix_rows, "").astype(str).to_numpy()
        for i in np.flatnonzero(mix_rows):
            parts = co_parts[i].split(config.CO_DEPARTMENT_SEP)
            for j, lv in enumerate(levels[1:], start=1):
                if lv in parts:
                    X[i, j] = 1.0 / len(parts)
    if mixed != "membership" and len(factors) == len(cov_info):
        # factors only: X is a function of the level codes, so rank(X) is the rank of one row per combination
        key = bcodes.copy()
        for codes_f, _ in factors:
            key = pd.factorize(key * (int(codes_f.max()) + 1) + codes_f)[0]   # stays small: no overflow
        first = np.flatnonzero(~pd.Series(key).duplicated().to_numpy())
        full = _full_rank(X, X[first])
        position = np.zeros(int(key.max()) + 1, dtype=np.int64)
        position[key[first]] = np.arange(first.size)
        patterns = (X, position[key], X[first])           # X = P[index]: the GLM engine's distinct rows
    else:
        full = _full_rank(X)
        patterns = None
    if not full:
        raise ValueError(message(func, "covar", "columns that are not redundant with `between`",
                                 list(covar), "The design matrix is rank-deficient (a covariate is "
                                 "constant or determined by the department); drop it."))
    groups = group_labels = None
    if subject is not None:
        codes, uniques = pd.factorize(frame[subject].astype("object"), sort=True)
        groups = codes.astype(np.int64)
        group_labels = [str(u) for u in uniques]
    terms = ({"name": between, "columns": list(between_columns), "factors": frozenset([between])},
             *({"name": c["name"], "columns": list(c["columns"]), "factors": frozenset([c["name"]])}
               for c in cov_info))
    return Design(y=y.astype(float), X=X, names=names, offset=offset, groups=groups,
                  group_labels=group_labels, levels=levels, reference=reference,
                  between_columns=between_columns, covariate_info=cov_info,
                  n_dropped=int(missing.sum()), dv=dv, between=between, exposure=exposure,
                  subject=subject, frame=frame, terms=terms, between_variable=between,
                  random_terms=(subject,) if subject is not None else (),
                  random_labels=(group_labels,) if subject is not None else (),
                  random_spec=((subject, None, True),) if subject is not None else (),
                  between_codes=bcodes if mixed != "membership" else None,
                  cache={} if patterns is None else {"patterns": patterns})


def _factor_variable(factor: str) -> str | None:
    """The data column of a factor expression: 'department' -> 'department', 'C(month)' -> 'month'."""
    import re
    m = re.fullmatch(r"C\(\s*([A-Za-z_.][A-Za-z0-9_.]*)\s*(,.*)?\)", factor)
    return m.group(1) if m else (factor if re.fullmatch(r"[A-Za-z_.][A-Za-z0-9_.]*", factor) else None)


def _model_matrix(rhs, frame, func, param):
    from formulaic import model_matrix
    try:
        return model_matrix(rhs, frame, na_action="raise", ensure_full_rank=True)
    except Exception as exc:  # formulaic raises many kinds; the message names the term
        raise ValueError(message(func, param, "terms that name columns of `data` (formulaic syntax: a * b, a:b, "
                                 "C(x), log(x))", rhs, f"formulaic could not build it: {exc}")) from exc


_ROWWISE_CALL = re.compile(r"(?<![A-Za-z0-9_.])(?!C\s*\()[A-Za-z_.][A-Za-z0-9_.]*\s*\(")


def _distinct_rows(rhs, enc):
    """``(codes, first)`` when the design of `rhs` is a row-wise function of few distinct rows of `enc`, else None.

    Row-wise: the formula calls no function other than ``C(...)`` (a stateful transform such as ``center(x)`` or
    ``scale(x)`` would see other data on the distinct rows); factors keep their categories, so formulaic's
    encoding (levels, treatment contrasts, the structural full-rank reduction) is the same.
    """
    n = len(enc)
    if n < 2000 or _ROWWISE_CALL.search(rhs) or "{" in rhs:
        return None
    key = np.zeros(n, dtype=np.int64)
    for c in enc.columns:
        col = enc[c]
        if isinstance(col.dtype, pd.CategoricalDtype):
            codes, k = np.asarray(col.cat.codes, dtype=np.int64), len(col.cat.categories)
        else:
            codes, uniq = pd.factorize(col, use_na_sentinel=True)
            codes, k = np.asarray(codes, dtype=np.int64), len(uniq)
        key = key * (k + 1) + codes + 1
        key, uniq_keys = pd.factorize(key)                # keep the combined key small
        key = np.asarray(key, dtype=np.int64)
        if len(uniq_keys) * 16 > n:
            return None
    # key is 0..K-1 in order of first appearance: the first occurrences, in order, are the rows of P
    first = np.flatnonzero(~pd.Series(key).duplicated().to_numpy())
    return key, first


class _Encoded(NamedTuple):
    """The fixed part of a formula encoded by formulaic (what :func:`_encode` returns)."""

    X: np.ndarray                  # model matrix, one row per post
    names: list                    # its column names
    terms: list                    # {"name", "columns" (indices into names), "factors" (frozenset)} per term
    spec: Any                      # formulaic ModelSpec (to encode new data, e.g. the emmeans grid)
    grid_factors: dict             # factor variable -> its levels in encoding order
    P: np.ndarray | None           # the distinct rows of X (X = P[codes]); None when every row was encoded
    codes: np.ndarray | None = None  # the codes (X = P[codes]), with P


def _encode(rhs, enc, func, distinct=True) -> _Encoded:
    """formulaic model matrix of the fixed part: X, column names, terms, ModelSpec, grid factor levels, and the
    distinct rows P of X (None when every row was encoded), as an :class:`_Encoded` record.

    With many posts and few distinct rows of the variables (factors and their interactions), formulaic encodes
    the distinct rows only and ``X = P[codes]`` (identical: tests/test_models_formula.py compares the two);
    ``distinct=False`` always encodes every row.
    """
    rows = _distinct_rows(rhs, enc) if distinct else None
    P = row_codes = None
    if rows is None:
        mm = _model_matrix(rhs, enc, func, "formula")
        X = np.ascontiguousarray(mm.to_numpy(dtype=float))
    else:
        key, first = rows
        row_codes = key
        mm = _model_matrix(rhs, enc.iloc[first].reset_index(drop=True), func, "formula")
        P = np.ascontiguousarray(mm.to_numpy(dtype=float))
        X = P[key]
    spec = mm.model_spec
    names = [str(n) for n in mm.columns]
    terms = []
    for st in spec.structure:
        if not st.columns or str(st.term) == "1":
            continue
        terms.append({"name": str(st.term), "columns": [names.index(c) for c in st.columns],
                      "factors": frozenset(str(f) for f in st.term.factors)})
    grid_factors = {}
    for key, (kind, state) in spec.encoder_state.items():
        var = _factor_variable(str(key))
        if getattr(kind, "value", kind) == "categorical" and var is not None:
            grid_factors[var] = list(state["categories"])
    return _Encoded(X=X, names=names, terms=terms, spec=spec, grid_factors=grid_factors, P=P,
                    codes=row_codes)


def encoding_frame(frame, columns) -> tuple[pd.DataFrame, dict]:
    """The columns handed to formulaic: factor columns (text, categorical, boolean) as categoricals in analysis
    order (:func:`factor_codes`), numeric ones as they are. Returns ``(enc, {factor: levels})``."""
    enc = frame[list(dict.fromkeys(columns))].copy()
    factor_levels = {}
    for c in enc.columns:
        if _is_categorical(enc[c]):
            codes, lv = factor_codes(enc[c])
            enc[c] = pd.Categorical.from_codes(codes, categories=lv)
            factor_levels[c] = lv
    return enc, factor_levels


def build_formula_design(data, *, formula, zero_formula=None, between=None, subject=None, reference=None,
                         nan_policy="raise", func="fit_engagement_model") -> Design:
    """The Design of a formula (lme4/glmmTMB syntax; see toolkit.models.formula).

    Factor columns (text, categorical, boolean) become categoricals in analysis order (category order;
    integer codes in C(x) numerically); the fixed part is encoded by formulaic with treatment coding, reference
    level first. `between` is the first term of the fixed part unless named.
    """
    from formulaic import Formula

    from .formula import parse_formula, parse_zero_formula

    data = check_data(data, func)
    check_nan_policy(nan_policy, func)
    parsed = parse_formula(formula, func=func)
    fixed_vars = sorted(Formula(parsed.fixed).required_variables) if parsed.fixed != "1" else []
    zero_rhs = parse_zero_formula(zero_formula, func=func) if zero_formula is not None else None
    zero_vars = sorted(Formula(zero_rhs).required_variables) if zero_rhs not in (None, "1") else []
    slope_vars = [parsed.slope_of(k)[0] for k in range(len(parsed.random)) if parsed.slope_of(k)[0] is not None]
    random_vars = [c for term in parsed.random for c in term.split(":")] + slope_vars
    check_column(data, parsed.dv, func, "formula")
    for c in dict.fromkeys([*fixed_vars, *zero_vars, *random_vars]):
        check_column(data, c, func, "formula" if c not in zero_vars else "zero_formula")
    if parsed.exposure is not None:
        check_column(data, parsed.exposure, func, "formula")
    if subject is not None:
        check_column(data, subject, func, "subject")
    used = list(dict.fromkeys([parsed.dv, *fixed_vars, *zero_vars, *random_vars]
                              + ([parsed.exposure] if parsed.exposure else []) + ([subject] if subject else [])))
    y, e, keep = complete_counts(data, dv=parsed.dv, exposure=parsed.exposure, used=used, nan_policy=nan_policy,
                                 func=func)
    offset = np.log(e) if e is not None else np.zeros(y.size)
    frame = data.loc[keep, :].reset_index(drop=True)
    enc, factor_levels = encoding_frame(frame, [*fixed_vars, *zero_vars])
    X, names, terms, spec, grid_factors, P, pcodes = _encode(parsed.fixed, enc, func)
    grid_numeric = {v: float(pd.to_numeric(enc[v]).mean()) for v in fixed_vars
                    if v not in grid_factors and pd.api.types.is_numeric_dtype(enc[v])}
    # `between`: named, or the first main-effect term of the fixed part
    main = [t for t in terms if len(t["factors"]) == 1]
    if between is None:
        if not main:
            raise ValueError(message(func, "formula", "at least one group term on the right of '~' (e.g. "
                                     "'comments ~ department + ...')", formula))
        bterm = main[0]
    else:
        found = [t for t in main if t["name"] == between or _factor_variable(t["name"]) == between]
        if not found:
            raise ValueError(message(func, "between", "a main-effect term of the formula",
                                     between, f"Main effects: {[t['name'] for t in main]}."))
        bterm = found[0]
    bvar = _factor_variable(bterm["name"])
    if bvar not in grid_factors:
        raise ValueError(message(func, "between" if between is not None else "formula",
                                 "a factor (text or categorical column, or C(x) for integer codes) as the group "
                                 "term whose levels are compared", bterm["name"],
                                 f"{bterm['name']!r} enters as a number (one slope). Write C({bvar}) for integer-"
                                 "coded groups, or name the group term with between=."))
    levels = [str(v) for v in grid_factors[bvar]]
    if reference is not None:
        if str(reference) not in levels:
            raise ValueError(message(func, "reference", f"a level of {bterm['name']!r}", reference,
                                     f"Levels: {', '.join(map(repr, levels))}."))
        if str(reference) != levels[0] and bvar not in factor_levels:
            raise ValueError(message(func, "reference", "the first level for an integer-coded C(x) group",
                                     reference, "Recode the column as text (or a categorical with the "
                                     "reference first) to choose another reference."))
        if str(reference) != levels[0]:
            lv = [str(reference)] + [v for v in factor_levels[bvar] if v != str(reference)]
            enc[bvar] = enc[bvar].cat.reorder_categories(lv)
            X, names, terms, spec, grid_factors, P, pcodes = _encode(parsed.fixed, enc, func)
            bterm = next(t for t in terms if t["name"] == bterm["name"])
            levels = [str(v) for v in grid_factors[bvar]]
    if len(levels) < 2:
        raise ValueError(message(func, "formula", "a group term with at least two levels",
                                 f"{bterm['name']!r} with only {levels!r}"))
    if not _full_rank(X, P):
        empty = [n for j, n in enumerate(names) if not np.any(X[:, j] != 0)]
        raise ValueError(message(func, "formula", "terms that the data can estimate (a full-rank design)",
                                 formula, (f"Columns without any post: {empty}: a combination of levels has no "
                                           "posts. " if empty else "") + "Drop or merge the empty levels, or "
                                 "remove the interaction that needs them."))
    groups = group_labels = None
    rand_codes, rand_labels = [], []
    for x in dict.fromkeys(slope_vars):
        if _is_categorical(frame[x]) or not pd.api.types.is_numeric_dtype(frame[x]):
            raise ValueError(message(func, "formula", "a numeric column as a random slope", f"{x!r} ({frame[x].dtype})",
                                     "A factor slope (one random effect per level) is not available: use a random "
                                     "intercept of the combination instead, e.g. (1|account:platform)."))
    for k, term in enumerate(parsed.random):
        cols = term.split(":")
        keyframe = pd.DataFrame({c: labels_of(frame[c]) if not pd.api.types.is_numeric_dtype(frame[c])
                                 else frame[c] for c in cols})
        codes = keyframe.groupby(cols, sort=True, observed=True).ngroup().to_numpy(dtype=np.int64)
        first = keyframe.groupby(cols, sort=True, observed=True).head(1)
        order = np.argsort(codes[first.index.to_numpy()], kind="stable")
        labs = [":".join(str(v) for v in row) for row in first.iloc[order].itertuples(index=False)]
        x, icpt = parsed.slope_of(k)
        if x is not None:
            v = numeric_column(frame, x, func, "formula").to_numpy(dtype=float)
            codes = (codes, np.column_stack([np.ones(v.size), v]) if icpt else v[:, None])
        rand_codes.append(codes)
        rand_labels.append(labs)
    if subject is not None and parsed.random:
        raise ValueError(message(func, "subject", "None when the formula has random effects", subject,
                                 "With a formula, random intercepts are written (1|account); subject= names the "
                                 "clustering column only for cov_type='cluster' (a GLM with cluster-robust "
                                 "standard errors)."))
    if parsed.random:
        subject_name = parsed.random[0]
        groups = rand_codes[0] if len(rand_codes) == 1 and not isinstance(rand_codes[0], tuple) else rand_codes
        group_labels = rand_labels[0]
    elif subject is not None:
        subject_name = subject
        codes, uniques = pd.factorize(frame[subject].astype("object"), sort=True)
        groups, group_labels = codes.astype(np.int64), [str(u) for u in uniques]
    else:
        subject_name = None
    Xz = zero_names = None
    if zero_rhs is not None:
        mz = _model_matrix(zero_rhs, enc, func, "zero_formula")
        Xz = mz.to_numpy(dtype=float)
        zero_names = [f"zero[{c}]" for c in mz.columns]
        if "Intercept" not in list(mz.columns):
            raise ValueError(message(func, "zero_formula", "a zero part with an intercept", zero_formula))
    return Design(y=y.astype(float), X=X, names=names, offset=offset, groups=groups, group_labels=group_labels,
                  levels=levels, reference=levels[0], between_columns=list(bterm["columns"]), covariate_info=[],
                  n_dropped=int((~keep).sum()), dv=parsed.dv, between=bterm["name"], exposure=parsed.exposure,
                  subject=subject_name, frame=frame, terms=tuple(terms), formula=formula, model_spec=spec,
                  grid_factors=grid_factors, grid_numeric=grid_numeric, between_variable=bvar,
                  random_terms=tuple(parsed.random_label(k) for k in range(len(parsed.random))),
                  random_labels=tuple(rand_labels), Xz=Xz, zero_names=zero_names,
                  random_spec=tuple((t, *parsed.slope_of(k)) for k, t in enumerate(parsed.random)),
                  cache={} if P is None else {"patterns": (X, pcodes, P)},
                  between_codes=_level_codes(P, pcodes, bterm["columns"], len(levels)))


def _level_codes(P, codes, columns, n_levels):
    """The level index of `between` per post (0: reference) from the distinct rows ``P`` (``X = P[codes]``) when
    its columns are treatment dummies (0/1, at most one per row), as the keyword path's ``between_codes``; else None.
    """
    if P is None or len(columns) != n_levels - 1:
        return None
    D = P[:, list(columns)]
    if not (np.all((D == 0.0) | (D == 1.0)) and np.all(D.sum(axis=1) <= 1.0)):
        return None
    return (D @ np.arange(1.0, n_levels)).astype(np.int64)[codes]
