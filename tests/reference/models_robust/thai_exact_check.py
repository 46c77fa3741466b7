"""Thai sellers: the CR2 pieces in 50-digit arithmetic, to tell which of toolkit and clubSandwich is off.

Run from the project root with the project's Python and mpmath on the path (mpmath is not a project dependency):
    PYTHONPATH=<dir containing mpmath> TOOLKIT_DATA_MIRROR=/work/shared/datasets .venv/bin/python \
        tests/reference/models_robust/thai_exact_check.py > tests/reference/models_robust/thai_exact_check.txt

num_comments ~ status_type has no other covariate, so within a seller the rows of one status type are identical
(same mu, variance and design row) and exchangeable. Z = K^(-1/2) Xw then lies in the span of the (normalised)
status-type indicators, where K acts as a k x k matrix (k <= 4): K_st = delta_st V_s^2 - V_s V_t sqrt(n_s n_t) Y_s.Y_t.
Its inverse square root is computed with mpmath.eigsy at 50 digits; everything else (the GLM fit, M, Y) is the same
double-precision input as toolkit's. Printed: maximum relative differences of the coefficients' CR2 standard errors
and Satterthwaite df, toolkit (quadrature) vs this exact route and clubSandwich (cr2_reference.csv) vs this route.
"""
import os
import sys
from pathlib import Path

import mpmath as mp
import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))            # tests/ (for _r_output)
sys.path.insert(0, str(Path(__file__).resolve().parents[3]))            # the project (toolkit)
from _r_output import read_r_csv  # noqa: E402
import toolkit.models.robust as rb  # noqa: E402
from toolkit.models._design import build_design  # noqa: E402
from toolkit.models.glm import fit_glm  # noqa: E402

mp.mp.dps = 50
ref = read_r_csv(Path(__file__).with_name("cr2_reference.csv"))
base = Path(os.environ.get("TOOLKIT_DATA_MIRROR", "/work/shared/datasets")) / "uci_live_sellers_thailand"
posts = pd.read_csv(base / "Live_20210128.csv")
codes = pd.read_csv(base / "seller_codes.csv")
thai = posts.merge(codes[["status_id", "seller"]], on="status_id")
D = build_design(thai, dv="num_comments", between="status_type", subject="seller")


def exact_summ(v, Y, Xw, e, lev):
    """Drop-in for robust._z_summaries_quadrature on clusters made of a few kinds of identical rows."""
    keys, inv = np.unique(np.round(Xw, 12), axis=0, return_inverse=True)
    k, p = keys.shape[0], Xw.shape[1]
    idx = [np.flatnonzero(inv == t) for t in range(k)]
    n_t = [len(i) for i in idx]
    V = [mp.mpf(float(v[i[0]])) for i in idx]
    Yt = [[mp.mpf(float(x)) for x in Y[i[0]]] for i in idx]
    Xt = [[mp.mpf(float(x)) for x in Xw[i[0]]] for i in idx]
    Ks = mp.matrix(k, k)
    for s in range(k):
        for t in range(k):
            yy = mp.fsum(Yt[s][a] * Yt[t][a] for a in range(p))
            Ks[s, t] = (V[s] ** 2 if s == t else 0) - V[s] * V[t] * mp.sqrt(n_t[s] * n_t[t]) * yy
    E, Q = mp.eigsy(Ks)
    Xs = mp.matrix([[mp.sqrt(n_t[t]) * Xt[t][a] for a in range(p)] for t in range(k)])
    Zs = Q * mp.diag([1 / mp.sqrt(x) for x in E]) * Q.T * Xs
    es = [mp.fsum(mp.mpf(float(x)) for x in e[i]) / mp.sqrt(n_t[t]) for t, i in enumerate(idx)]
    S1 = np.array([[float(mp.fsum(Zs[t, a] * V[t] ** 2 * Zs[t, b] for t in range(k))) for b in range(p)]
                   for a in range(p)])
    S2 = np.array([[float(mp.fsum(Zs[t, a] * V[t] * Xs[t, b] for t in range(k))) for b in range(p)]
                   for a in range(p)])
    u = np.array([float(mp.fsum(Zs[t, a] * es[t] for t in range(k))) for a in range(p)])
    return S1, S2, u


def rel(a, b):
    return np.max(np.abs(np.asarray(a) / np.asarray(b) - 1))


for fam in ("poisson", "negbin"):
    fit = fit_glm(D.y, D.X, D.offset, fam)
    r = ref[(ref.dataset == "thai") & (ref.family == fam) & (ref.kind == "coefficient")]
    quad = rb.cr2_vcov(fit, D.X, D.y, D.groups)
    orig, rb._z_summaries_quadrature = rb._z_summaries_quadrature, exact_summ
    exact = rb.cr2_vcov(fit, D.X, D.y, D.groups)
    rb._z_summaries_quadrature = orig
    se_q, se_x = np.sqrt(np.diag(quad.vcov)), np.sqrt(np.diag(exact.vcov))
    df_q, df_x = quad.satterthwaite_df(np.eye(4)), exact.satterthwaite_df(np.eye(4))
    print(fam, f"SE: quad vs exact {rel(se_q, se_x):.1e}, R vs exact {rel(r.std_error, se_x):.1e}; "
               f"df: quad vs exact {rel(df_q, df_x):.1e}, R vs exact {rel(r.df, df_x):.1e}")
