"""The one-way ANOVA (method-of-moments) intraclass correlation, shared by compare_groups and
toolkit.models.nesting_summary."""
from __future__ import annotations

import numpy as np
import pandas as pd


def icc_anova(values, clusters, strata=None) -> tuple[float, float]:
    """ICC(1) of ``values`` grouped by ``clusters``, and the adjusted mean cluster size n0.

    ICC = (MSB − MSW) / (MSB + (n0 − 1)·MSW), n0 = (N − Σ n_j² / N) / (G − 1) for unbalanced clusters
    (Donner 1986). With ``strata`` (e.g. departments), stratum means are removed first and the
    between-cluster degrees of freedom are G − D, so the ICC measures clustering beyond the strata.
    Returns (NaN, NaN) when there are too few clusters or observations.

    Validated against Shrout & Fleiss (1979), Table 4 (ICC(1,1) = .17): tests/test_compare.py and
    tests/test_nesting.py.
    """
    values = np.asarray(values, dtype=np.float64)
    inv = pd.factorize(np.asarray(clusters), use_na_sentinel=False)[0]  # hashing, not sorting: O(n)
    n_strata = 1
    if strata is not None:
        s_inv = pd.factorize(np.asarray(strata), use_na_sentinel=False)[0]
        n_strata = int(s_inv.max()) + 1
        values = values - (np.bincount(s_inv, weights=values) / np.bincount(s_inv))[s_inv]
    m = np.bincount(inv).astype(np.float64)
    k, n = m.size, values.size
    df_between, df_within = k - n_strata, n - k
    if df_between <= 0 or df_within <= 0:
        return float("nan"), float("nan")
    means = np.bincount(inv, weights=values) / m
    msb = np.sum(m * (means - values.mean()) ** 2) / df_between
    msw = np.sum((values - means[inv]) ** 2) / df_within
    m0 = (n - np.sum(m ** 2) / n) / (k - 1)
    denom = msb + (m0 - 1) * msw
    icc = float((msb - msw) / denom) if denom > 0 else float("nan")
    return icc, float(m0)
