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

import numpy as np
import pandas as pd
from scipy import stats

from ..stats.multitest import adjust_pvalues


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


def rate_ratios(design, beta, vcov, *, confidence_level, df=None):
    crit, pval = _reference(df, len(design.between_columns), confidence_level)
    rows = []
    for j, c in enumerate(design.between_columns):
        est, se, z = beta[c], np.sqrt(vcov[c, c]), crit[j]
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
    out["p_adjusted"] = np.asarray(adjust_pvalues(out["p_value"].to_numpy(), method=p_adjust), dtype=float)
    out["p_adjust"] = p_adjust
    out["confidence_level"] = confidence_level
    return out
