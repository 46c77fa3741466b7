"""Estimated marginal means, rate ratios and pairwise contrasts from a fitted count model.

Follows R's emmeans: the reference grid holds each level of `between`; numeric covariates sit at
their mean; factor covariates get equal weight over their levels. Predictions are averaged on the
link (log) scale and then back-transformed; random effects are set to zero (the "typical"
account). Standard errors use the delta method; confidence limits are back-transformed Wald limits.

Each function takes ``df=None`` (normal reference: z limits and z tests, the default) or degrees of freedom (a
number, or one per row of the output table) for a t reference, as with the Satterthwaite degrees of freedom of
cluster-robust (CR2) standard errors.
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from .._docstrings import fill_doc
from ..stats.multitest import adjust_pvalues

# models fitted by formula: the reference grid holds every combination of the factor levels (numeric variables at
# their mean); a marginal mean averages the grid's linear predictors with equal weight over the factors not
# named, as emmeans does (Searle, Speed & Milliken 1980).


def _keyword_rows(design, grid: pd.DataFrame) -> np.ndarray:
    """Design rows of the keyword API's design (treatment dummies by hand) for a grid of variable values."""
    p = design.X.shape[1]
    L = np.zeros((len(grid), p))
    L[:, 0] = 1.0
    b = design.between
    for j, lv in enumerate(design.levels[1:]):
        L[:, design.between_columns[j]] = (grid[b].astype(str).to_numpy() == lv)
    for info in design.covariate_info:
        if info["kind"] == "numeric":
            L[:, info["columns"][0]] = info["mean"]
        else:
            v = grid[info["name"]].astype(str).to_numpy()
            for c, lv in zip(info["columns"], info["levels"][1:]):
                L[:, c] = (v == lv)
    return L


def grid_factors(design) -> dict:
    """Factor variable -> levels of the reference grid (formula designs: every factor; keyword: between and
    factor covariates)."""
    if design.model_spec is not None:
        return dict(design.grid_factors)
    out = {design.between: list(design.levels)}
    for info in design.covariate_info:
        if info["kind"] == "factor":
            out[info["name"]] = list(info["levels"])
    return out


def reference_grid(design) -> pd.DataFrame:
    """Every combination of the factor levels (first factor varying slowest), numeric variables at their mean."""
    factors = grid_factors(design)
    idx = pd.MultiIndex.from_product(list(factors.values()), names=list(factors))
    grid = idx.to_frame(index=False)
    for var, mean in design.grid_numeric.items():
        grid[var] = mean
    return grid


def _grid_matrix(design, grid: pd.DataFrame) -> np.ndarray:
    if design.model_spec is None:
        return _keyword_rows(design, grid)
    from ._design import _is_categorical

    enc = grid.copy()
    for var, levels in design.grid_factors.items():
        if var in enc and _is_categorical(design.frame[var]):
            enc[var] = pd.Categorical(enc[var].astype(str), categories=[str(v) for v in levels])
    return design.model_spec.get_model_matrix(enc).to_numpy(dtype=float)


def means_rows(design, specs: str, by=()) -> tuple[pd.DataFrame, np.ndarray]:
    """Labels (by levels, level of `specs`) and one averaged linear-predictor row per cell, in grid order."""
    grid = reference_grid(design)
    X = _grid_matrix(design, grid)
    keys = [*by, specs]
    labels = grid[keys].astype(str)
    factors = grid_factors(design)
    order = list(itertools.product(*[[str(v) for v in factors[k]] for k in keys]))
    cell = [tuple(r) for r in labels.itertuples(index=False)]
    L = np.array([X[[i for i, c in enumerate(cell) if c == key]].mean(axis=0) for key in order])
    return pd.DataFrame(order, columns=keys), L


def interaction_note(design) -> str:
    """Text for the default tables when `between` is in an interaction (they average over the other factors)."""
    others = [t["name"] for t in design.terms if len(t["columns"]) and set(design.between_columns) != set(t["columns"])
              and any(f in t["factors"] for f in _between_factors(design)) and len(t["factors"]) > 1]
    if not others:
        return ""
    return (f"; averaged over the levels of the factors {design.between} interacts with ({', '.join(others)}): "
            f"see toolkit.models.emmeans(model, specs={design.between_variable!r}, by=...) for the comparison "
            "within each level")


def _between_factors(design):
    for t in design.terms:
        if list(t["columns"]) == list(design.between_columns):
            return t["factors"]
    return frozenset([design.between])


def _reference(df, k, confidence_level):
    """Critical values and a two-sided p-value function: z when ``df`` is None, else t with ``df`` (k values)."""
    if df is None:
        z = stats.norm.ppf(0.5 + confidence_level / 2.0)
        return np.full(k, z), lambda stat, _i: 2 * stats.norm.sf(abs(stat))
    df = np.broadcast_to(np.asarray(df, dtype=float), (k,))
    crit = stats.t.ppf(0.5 + confidence_level / 2.0, df)
    return crit, lambda stat, i: 2 * stats.t.sf(abs(stat), df[i])


def grid_rows(design) -> np.ndarray:
    """One linear-predictor row L_d per level of `between` (reference grid, emmeans weights)."""
    if design.model_spec is not None:
        return means_rows(design, design.between_variable)[1]
    p = design.X.shape[1]
    base = np.zeros(p)
    base[0] = 1.0
    for info in design.covariate_info:
        if info["kind"] == "numeric":
            base[info["columns"][0]] = info["mean"]
        else:
            k = len(info["levels"])
            for c in info["columns"]:
                base[c] = 1.0 / k
    rows = []
    for j, _lv in enumerate(design.levels):
        r = base.copy()
        if j > 0:
            r[design.between_columns[j - 1]] = 1.0
        rows.append(r)
    return np.array(rows)


def marginal_means(design, beta, vcov, *, per, confidence_level, df=None):
    L = grid_rows(design)
    per = float(per) if design.exposure else 1.0
    eta = L @ beta + np.log(per)
    se = np.sqrt(np.einsum("ij,jk,ik->i", L, vcov, L))
    z, _ = _reference(df, len(L), confidence_level)
    rate = np.exp(eta)
    unit = f"{design.dv} per {per:,g} {design.exposure}" if design.exposure else f"{design.dv} per post"
    return pd.DataFrame({
        "group": design.levels, "rate": rate, "std_error": rate * se, "ci_low": np.exp(eta - z * se),
        "ci_high": np.exp(eta + z * se), "log_rate": eta, "log_std_error": se,
        "exposure_at": float(per) if design.exposure else np.nan, "unit": unit,
        "confidence_level": confidence_level,
    })


def ratio_rows(design) -> np.ndarray:
    """One row per non-reference level of `between`: its coefficient (keyword API), or the difference of its
    marginal-mean row and the reference's (formula API; equal to the coefficient without interactions)."""
    if design.model_spec is None:
        return np.eye(design.X.shape[1])[design.between_columns]
    L = grid_rows(design)
    return L[1:] - L[0]


def rate_ratios(design, beta, vcov, *, confidence_level, df=None):
    crit, pval = _reference(df, len(design.between_columns), confidence_level)
    rows = []
    R = ratio_rows(design)
    for j, c in enumerate(design.between_columns):
        est, se, z = R[j] @ beta, np.sqrt(R[j] @ vcov @ R[j]), crit[j]
        rows.append({"term": design.names[c], "group": design.levels[j + 1], "reference": design.reference,
                     "rate_ratio": np.exp(est), "ci_low": np.exp(est - z * se), "ci_high": np.exp(est + z * se),
                     "statistic": est / se, "p_value": pval(est / se, j),
                     "confidence_level": confidence_level})
    return pd.DataFrame(rows)


def contrast_rows(design) -> np.ndarray:
    """One row ``L_a - L_b`` per pair a < b of levels (the order of :func:`pairwise_contrasts`)."""
    L = grid_rows(design)
    k = len(design.levels)
    return np.array([L[a] - L[b] for a in range(k) for b in range(a + 1, k)])


def pairwise_contrasts(design, beta, vcov, *, confidence_level, p_adjust, df=None):
    L = grid_rows(design)
    rows = []
    k = len(design.levels)
    crit, pval = _reference(df, k * (k - 1) // 2, confidence_level)
    for a in range(k):
        for b in range(a + 1, k):
            i = len(rows)
            z = crit[i]
            d = L[a] - L[b]
            est = d @ beta
            se = float(np.sqrt(d @ vcov @ d))
            rows.append({"group_a": design.levels[a], "group_b": design.levels[b], "rate_ratio": np.exp(est),
                         "std_error": np.exp(est) * se, "ci_low": np.exp(est - z * se),
                         "ci_high": np.exp(est + z * se), "statistic": est / se,
                         "p_value": pval(est / se, i)})
    out = pd.DataFrame(rows)
    out["p_adjusted"] = np.asarray(adjust_pvalues(out["p_value"].to_numpy(), p_adjust=p_adjust), dtype=float)
    out["p_adjust"] = p_adjust
    out["confidence_level"] = confidence_level
    return out


@dataclass(frozen=True)
class MarginalMeans:
    """Marginal means of one factor and their pairwise rate ratios, optionally within each level of others.

    Attributes
    ----------
    means : DataFrame
        specs (the factor), group (its level), by (the conditioning factor(s), NaN without `by`), by_level
        (their levels, joined by ", "; NaN without `by`), rate, std_error, ci_low, ci_high (rate scale, at
        ``exposure_at``), log_rate, log_std_error, exposure_at, unit, confidence_level.
    contrasts : DataFrame
        by, by_level, group_a, group_b, rate_ratio (a / b), std_error, ci_low, ci_high, statistic, p_value,
        p_adjusted (within each `by` level, as emmeans), p_adjust, confidence_level, method.
    specs : str
    by : tuple
    """

    means: pd.DataFrame
    contrasts: pd.DataFrame
    specs: str
    by: tuple = ()

    def _repr_html_(self) -> str:  # pragma: no cover - display
        return ("<h5>Marginal means</h5>" + self.means.to_html(index=False)
                + "<h5>Pairwise rate ratios</h5>" + self.contrasts.to_html(index=False))


@fill_doc
def emmeans(model, *, specs=None, by=None, per=None, confidence_level=None, p_adjust=None) -> MarginalMeans:
    """Estimated marginal means of `specs` and their pairwise rate ratios, within each level of `by`.

    "Is the department difference the same on every platform?": ``emmeans(model, specs="department",
    by="platform")`` gives each department's rate on each platform and the department ratios within each
    platform. Without `by` the means average over the other factors (equal weights), as the model's own
    ``emmeans`` / ``contrasts`` tables do.

    Parameters
    ----------
    {{model_fit}}
    specs : str, optional
        The factor whose levels are compared (a data column; default: the model's `between`).
    by : str or sequence of str, optional
        Factor(s) within whose levels the comparison is made (e.g. "platform").
    per : float, optional
        Exposure at which rates are reported (default: the model's `per`).
    confidence_level : float, optional
        Default: the model's.
    p_adjust : str, optional
        Adjustment of the pairwise p-values within each `by` level (default: the model's).

    Returns
    -------
    MarginalMeans
        ``means`` and ``contrasts`` tables (columns listed in :class:`MarginalMeans`).

    Raises
    ------
    ValueError
        If `specs` or `by` is not a factor of the model, names the same factor twice, or the model has a level
        without events (its Wald rows do not exist; see the model's own tables).

    See Also
    --------
    fit_engagement_model : Compare engagement counts between departments with a count model (GLM or GLMM).
    term_tests : Test every term of a fitted count model (main effects, interactions, covariates).

    Notes
    -----
    Reference grid: every combination of the model's factor levels, numeric covariates at their mean, the
    exposure at `per`, random effects at 0 (a typical account). The mean of a cell of (`by`, `specs`) averages
    the grid rows' linear predictors with equal weight over the remaining factors, then back-transforms:
    ``rate = exp(L beta + log(per))``; the contrast of levels a and b is ``exp((L_a - L_b) beta)``; standard
    errors by the delta method; Wald z limits and tests (t with CR2 Satterthwaite df for ``cov_type="cluster"``).
    p-values are adjusted within each level of `by` (as emmeans' ``pairs``). With few accounts per department a
    GLMM's Wald tests are anti-conservative (see the model's test method text).

    Validated against R emmeans 1.8.4 (``emmeans(m, ~ Type | Paid, offset = log(1000), type = "response")`` and
    ``pairs(..., adjust = "holm")`` for ``MASS::glm.nb`` and ``glmmTMB`` fits of ``comments ~ Type * Paid +
    offset(log(reach))``); see tests/reference/models_formula/.

    References
    ----------
    Searle, S. R., Speed, F. M., & Milliken, G. A. (1980). Population marginal means in the linear model.
    The American Statistician, 34(4), 216-221. doi:10.1080/00031305.1980.10483031

    Examples
    --------
    >>> import toolkit as tk
    >>> sim = tk.simulate_organization(n_accounts_per_department=4, posts_per_account=30, seed=1,
    ...                                departments=["Marketing", "PR"], mixed_share=0.0)
    >>> m = tk.models.fit_engagement_model(sim.data, formula="comments ~ department * content_type"
    ...                                    " + offset(log(reach)) + (1|account)")
    >>> mm = tk.models.emmeans(m, specs="department", by="content_type")
    >>> mm.contrasts[["by_level", "group_a", "group_b"]].head(2).values.tolist()
    [['photo', 'Marketing', 'PR'], ['video', 'Marketing', 'PR']]
    """
    from .._validation import check_probability, message
    from ..stats.multitest import check_p_adjust

    func = "emmeans"
    design = model.raw["design"]
    st = model.settings
    factors = grid_factors(design)
    specs = design.between_variable if specs is None else specs
    by = () if by is None else ((by,) if isinstance(by, str) else tuple(by))
    for name, param in [(specs, "specs"), *((b, "by") for b in by)]:
        if name not in factors:
            raise ValueError(message(func, param, "a factor of the model", name,
                                     f"Factors: {', '.join(map(repr, factors))}."))
    if specs in by or len(set(by)) < len(by):
        raise ValueError(message(func, "by", "factors other than `specs`, each once", list(by)))
    per = st.get("per", 1000) if per is None else per
    if isinstance(per, bool) or not isinstance(per, (int, float)) or not per > 0:
        raise ValueError(message(func, "per", "a positive number", per))
    confidence_level = st["confidence_level"] if confidence_level is None else \
        check_probability(confidence_level, func, "confidence_level")
    p_adjust = st["p_adjust"] if p_adjust is None else p_adjust
    check_p_adjust(p_adjust, func)
    beta = np.asarray(model.raw["fit"]["beta"], dtype=float)
    if not np.all(np.isfinite(beta)):
        raise ValueError(message(func, "model", "a model whose coefficients are all finite",
                                 "a level without events", "Its rate ratios are given by likelihood in the "
                                 "model's own rate_ratios / contrasts tables."))
    vcov = np.asarray(model.raw["vcov"], dtype=float)
    cr2 = model.raw.get("cluster_robust")
    labels, L = means_rows(design, specs, by)
    per_ = float(per) if design.exposure else 1.0
    eta = L @ beta + np.log(per_)
    se = np.sqrt(np.einsum("ij,jk,ik->i", L, vcov, L))
    df = None if cr2 is None else cr2.satterthwaite_df(L)
    crit, _ = _reference(df, len(L), confidence_level)
    unit = f"{design.dv} per {per_:,g} {design.exposure}" if design.exposure else f"{design.dv} per post"
    if st.get("family") in ("zinb", "hurdle_negbin", "zip", "hurdle_poisson"):
        unit += " (count component)"
    by_name = ", ".join(by) if by else np.nan
    by_level = labels[list(by)].agg(", ".join, axis=1) if by else pd.Series(np.nan, index=labels.index)
    means = pd.DataFrame({
        "specs": specs, "group": labels[specs].to_numpy(), "by": by_name, "by_level": by_level.to_numpy(),
        "rate": np.exp(eta), "std_error": np.exp(eta) * se, "ci_low": np.exp(eta - crit * se),
        "ci_high": np.exp(eta + crit * se), "log_rate": eta, "log_std_error": se,
        "exposure_at": float(per) if design.exposure else np.nan, "unit": unit,
        "confidence_level": confidence_level})
    # pairs within each by level
    rows, D, blocks = [], [], []
    for key, idx in means.groupby("by_level", sort=False, dropna=False).groups.items():
        idx = list(idx)
        start = len(rows)
        for a in range(len(idx)):
            for b in range(a + 1, len(idx)):
                ia, ib = idx[a], idx[b]
                rows.append({"by": by_name, "by_level": means.at[ia, "by_level"], "group_a": means.at[ia, "group"],
                             "group_b": means.at[ib, "group"]})
                D.append(L[ia] - L[ib])
        blocks.append(slice(start, len(rows)))
    D = np.array(D)
    est = D @ beta
    dse = np.sqrt(np.einsum("ij,jk,ik->i", D, vcov, D))
    dfc = None if cr2 is None else cr2.satterthwaite_df(D)
    crit_c, pval = _reference(dfc, len(D), confidence_level)
    con = pd.DataFrame(rows)
    con["rate_ratio"] = np.exp(est)
    con["std_error"] = np.exp(est) * dse
    con["ci_low"] = np.exp(est - crit_c * dse)
    con["ci_high"] = np.exp(est + crit_c * dse)
    con["statistic"] = est / dse
    con["p_value"] = [pval(est[i] / dse[i], i) for i in range(len(D))]
    padj = np.empty(len(D))
    for blk in blocks:
        padj[blk] = np.asarray(adjust_pvalues(con["p_value"].to_numpy()[blk], p_adjust=p_adjust), dtype=float)
    con["p_adjusted"] = padj
    con["p_adjust"] = p_adjust
    con["confidence_level"] = confidence_level
    con["method"] = ("Wald z" if cr2 is None else "Wald t (CR2, Satterthwaite df)") + (
        f"; {p_adjust} within each level of {by_name}" if by else "")
    return MarginalMeans(means=means, contrasts=con, specs=specs, by=by)
