"""One count-model fit of a built design: the engine behind :func:`toolkit.models.fit_engagement_model`.

:func:`_fit` chooses the GLM, the GLMM (on standardised columns, mapped back) or the zero-inflated / hurdle
model for a design and a family. It lives apart from ``fit.py`` so that :func:`toolkit.models.terms.term_tests`
can refit reduced models without importing ``fit.py``, which imports ``terms`` (``tests/test_layers.py``).
Moved unchanged from ``fit.py``, which still re-exports these names.
"""
from __future__ import annotations

import numpy as np

from .glm import DesignRows, _fit_glm, as_counts
from .glmm import fit_glmm

FAMILIES = ("poisson", "negbin", "zinb", "hurdle_negbin", "zip", "hurdle_poisson")
ZERO_FAMILIES = ("zinb", "hurdle_negbin", "zip", "hurdle_poisson")
NO_THETA = ("poisson", "zip", "hurdle_poisson")


def _zero_design(design):
    """The zero-part design when it has predictors (None: intercept only, the engines' default)."""
    return design.Xz if design.Xz is not None and design.Xz.shape[1] > 1 else None


def _standardised(X):
    """``X = Xs A``: every column other than the intercept and 0/1 indicators centred and scaled in Xs.

    The GLMM's optimiser works on Xs (an uncentred covariate such as page likes ~ 1e5 made its Hessian
    ill-conditioned: overflow in the line search, negative variances); coefficients are mapped back with
    ``beta = A^-1 beta_s``, covariances with ``A^-1 V A^-T``. Returns ``(X, None)`` when nothing needs it.
    """
    if not np.all(X[:, 0] == 1.0):
        return X, None
    A = np.eye(X.shape[1])
    Xs = X.copy()
    for j in range(1, X.shape[1]):
        col = X[:, j]
        if np.all((col == 0.0) | (col == 1.0)):
            continue
        m, sd = float(col.mean()), float(col.std())
        if sd > 0:
            Xs[:, j] = (col - m) / sd
            A[0, j], A[j, j] = m, sd
    return (X, None) if np.array_equal(A, np.eye(X.shape[1])) else (Xs, A)


def _back_transformed(fit, A, p):
    """The GLMM fit dict of Xs expressed for X (see :func:`_standardised`)."""
    Ai = np.linalg.inv(A)
    out = dict(fit)
    out["beta"] = Ai @ np.asarray(fit["beta"], dtype=float)
    if fit.get("vcov") is not None:
        out["vcov"] = Ai @ fit["vcov"] @ Ai.T
    for key in ("par", "par_negbin"):
        if fit.get(key) is not None:
            v = np.array(fit[key], dtype=float)
            v[:p] = Ai @ v[:p]
            out[key] = v
    for key, M in (("vcov_all", Ai), ("hessian", A.T)):
        if fit.get(key) is not None:
            k = fit[key].shape[0]
            B = np.eye(k)
            B[:p, :p] = M
            nan = np.isnan(fit[key])      # rows of a variance at 0 stay NaN (B is the identity there)
            out[key] = B @ np.where(nan, 0.0, fit[key]) @ B.T
            out[key][nan] = np.nan
    return out


def _glm_inputs(design, X, columns):
    """``(counts, rows)`` for the GLM engine: the :class:`~toolkit.models.glm.Counts` of y and the
    :class:`~toolkit.models.glm.DesignRows` of the full X are made once per design and kept on it (until
    :func:`_release_glm_inputs`) when the fit is of ``design.X`` or of ``design.X[:, columns]`` (a reduced model,
    whose rows are derived from the full design's); any other X gets fresh ones, nothing kept."""
    if X is not design.X and columns is None:
        return as_counts(design.y), DesignRows(X)
    cache = design.cache
    if cache.get("y") is not design.y:
        cache.update(y=design.y, counts=as_counts(design.y))
    if cache.get("X") is not design.X:
        pattern = cache.get("patterns")                   # (X, index, P) from the design builder: X = P[index]
        rows = DesignRows.from_patterns(*pattern) if pattern is not None and pattern[0] is design.X else \
            DesignRows(design.X)
        cache.update(X=design.X, rows=rows)
    rows = cache["rows"] if X is design.X else cache["rows"].columns(list(columns), X)
    return cache["counts"], rows


def _release_glm_inputs(design):
    """Drop the views :func:`_glm_inputs` cached on `design` (they hold several arrays of n; the model keeps the
    design)."""
    for key in ("y", "counts", "X", "rows"):
        design.cache.pop(key, None)


def _fit(design, X, family, cov_type, n_agq, start=None, hessian=True, columns=None):
    """One fit of `design` with the fixed-effect matrix `X` (``design.X``, or ``design.X[:, columns]`` with
    `columns` given: the GLM then reuses the full design's distinct rows)."""
    # numpy's overflow/invalid warnings from the optimisers' probes (e.g. exp of a huge linear predictor on the
    # way to the optimum) are not the user's business: the fits check their own convergence and say so in a
    # ToolkitWarning; only those leave fit_engagement_model
    with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
        if design.subject is not None and cov_type == "model":
            extra = {}
            if family in ZERO_FAMILIES:     # the zero part: its design, or the intercept only
                extra["Xz"] = design.Xz if design.Xz is not None else np.ones((design.n, 1))
            Xs, A = _standardised(X)
            if A is not None and start is not None:
                start = np.array(start, dtype=float)
                start[:X.shape[1]] = A @ start[:X.shape[1]]
            fit = fit_glmm(design.y, Xs, design.offset, design.groups, family, n_agq=n_agq, start=start,
                           hessian=hessian, **extra)
            return fit if A is None else _back_transformed(fit, A, X.shape[1])
        if family in ZERO_FAMILIES:
            from .zero import fit_zero_model
            if _zero_design(design) is not None:
                return fit_zero_model(design.y, X, design.offset, family, Xz=_zero_design(design))
            return fit_zero_model(design.y, X, design.offset, family)
        counts, rows = _glm_inputs(design, X, columns)
        return _fit_glm(counts, rows, design.offset, family)
