"""The studentized range distribution, vectorised (Copenhaver & Holland 1988, as in R's ptukey/qtukey).

Private to :mod:`toolkit.stats.pairwise`: the Tukey and Games–Howell p-values and simultaneous
intervals. Vectorised over ``q`` and ``df`` so that many groups (k = 50 gives 1,225 pairs) stay fast.
"""
from __future__ import annotations

import math

import numpy as np
from scipy import special

__all__: list[str] = []

_XLEG = np.array([0.981560634246719250690549090149, 0.904117256370474856678465866119,
                  0.769902674194304687036893833213, 0.587317954286617447296702418941,
                  0.367831498998180193752691536644, 0.125233408511468915472441369464])
_ALEG = np.array([0.047175336386511827194615961485, 0.106939325995318430960254718194,
                  0.160078328543346226334652529543, 0.203167426723065921749064455810,
                  0.233492536538354808760849898925, 0.249147045813402785000562436043])
_XLEGQ = np.array([0.989400934991649932596154173450, 0.944575023073232576077988415535,
                   0.865631202387831743880467897712, 0.755404408355003033895101194847,
                   0.617876244402643748446671764049, 0.458016777657227386342419442984,
                   0.281603550779258913230460501460, 0.950125098376374401853193354250e-1])
_ALEGQ = np.array([0.271524594117540948517805724560e-1, 0.622535239386478928628438369944e-1,
                   0.951585116824927848099251076022e-1, 0.124628971255533872052476282192,
                   0.149595988816576732081501730547, 0.169156519395002538189312079030,
                   0.182603415044923588866763667969, 0.189450610455068496285396723208])
_X12 = np.concatenate([-_XLEG, _XLEG[::-1]])   # 12-point Gauss–Legendre on [-1, 1], increasing
_A12 = np.concatenate([_ALEG, _ALEG[::-1]])
_X16 = np.concatenate([-_XLEGQ, _XLEGQ[::-1]])  # 16-point Gauss–Legendre on [-1, 1], increasing
_A16 = np.concatenate([_ALEGQ, _ALEGQ[::-1]])


def _range_cdf(w, k: int) -> np.ndarray:
    """P(range of k iid standard normals < w) in Hartley's form, vectorised over ``w``."""
    w = np.asarray(w, dtype=np.float64)
    cc = float(k)
    half = 0.5 * w
    pr_w = 2.0 * special.ndtr(half) - 1.0
    pr_w = np.where(pr_w >= math.exp(-50.0 / cc), np.abs(pr_w) ** cc, 0.0)
    n_int = np.where(w > 3.0, 2, 3)  # fewer sub-intervals when the second term is small
    binc = (8.0 - half) / n_int
    total = np.zeros_like(w)
    threshold = math.exp(-30.0 / (cc - 1.0))
    for i in range(3):
        a = (half + (i + 0.5) * binc)[..., None]
        b = (0.5 * binc)[..., None]
        ac = a + b * _X12
        rin = special.ndtr(ac) - special.ndtr(ac - w[..., None])
        use = ((ac * ac) <= 60.0) & (rin >= threshold)
        term = np.where(use, _A12 * np.exp(-0.5 * ac * ac) * np.where(use, rin, 1.0) ** (cc - 1.0), 0.0)
        elsum = term.sum(axis=-1) * (2.0 * b[..., 0] * cc / math.sqrt(2.0 * math.pi))
        total = total + np.where(i < n_int, elsum, 0.0)
    pr = pr_w + total
    out = np.minimum(np.where(pr <= math.exp(-30.0), 0.0, pr), 1.0)
    return np.where(half >= 8.0, 1.0, out)


def _ptukey(q, k: int, df) -> np.ndarray:
    """Lower-tail studentized range probability P(Q < q; k, df), vectorised over q and df."""
    q, df = np.broadcast_arrays(np.asarray(q, dtype=np.float64), np.asarray(df, dtype=np.float64))
    shape = q.shape
    q, df = q.ravel().copy(), df.ravel()
    out = np.full(q.size, np.nan)
    finite = np.isfinite(q) & np.isfinite(df)
    large = finite & (df > 25000.0)
    out[large] = _range_cdf(q[large], k)
    small = finite & ~large
    qs, ds = q[small], df[small]
    if qs.size:
        f2 = 0.5 * ds
        f2lf = f2 * np.log(ds) - ds * math.log(2.0) - special.gammaln(f2)
        f21 = f2 - 1.0
        ff4 = 0.25 * ds
        ulen = np.select([ds <= 100.0, ds <= 800.0, ds <= 5000.0], [1.0, 0.5, 0.25], 0.125)
        f2lf = f2lf + np.log(ulen)
        ans = np.zeros(qs.size)
        active = np.ones(qs.size, dtype=bool)
        for i in range(1, 51):
            idx = np.flatnonzero(active)
            if idx.size == 0:
                break
            u = ulen[idx][:, None]
            x = (2 * i - 1) * u + _X16 * u
            t1 = f2lf[idx][:, None] + f21[idx][:, None] * np.log(x) - x * ff4[idx][:, None]
            ok = t1 >= -30.0
            wp = _range_cdf(qs[idx][:, None] * np.sqrt(0.5 * x), k)
            otsum = np.where(ok, wp * _A16 * np.exp(np.where(ok, t1, 0.0)), 0.0).sum(axis=1)
            stop = (i * ulen[idx] >= 1.0) & (otsum <= 1e-14)
            ans[idx[~stop]] += otsum[~stop]
            active[idx[stop]] = False
        out[small] = np.minimum(ans, 1.0)
    out = np.where(finite & (q <= 0), 0.0, out)
    out = np.where(np.isposinf(q), 1.0, out)
    return out.reshape(shape)


def _qtukey(p: float, k: int, df) -> np.ndarray:
    """Quantile of the studentized range (secant iterations from R's qinv start), vectorised over df."""
    df = np.atleast_1d(np.asarray(df, dtype=np.float64))
    out = np.full(df.shape, np.nan)
    ok = np.isfinite(df) & (df >= 1.0)
    d = df[ok]
    if d.size == 0:
        return out
    # Starting value: Odeh & Evans normal-quantile approximation as in R's qinv
    ps = 0.5 - 0.5 * p
    yi = math.sqrt(math.log(1.0 / (ps * ps)))
    t = yi + ((((yi * -0.453642210148e-04 + -0.204231210125) * yi + -0.342242088547) * yi + -1.0) * yi
              + 0.322232421088) / ((((yi * 0.38560700634e-02 + 0.103537752850) * yi + 0.531103462366) * yi
                                    + 0.588581570495) * yi + 0.993484626060e-01)
    small_v = d < 120.0
    t = np.where(small_v, t + (t ** 3 + t) / d / 4.0, t)
    qq = 0.8832 - 0.2368 * t
    qq = np.where(small_v, qq - 1.214 / d + 1.208 * t / d, qq)
    x0 = t * (qq * math.log(k - 1.0) + 1.4142)
    v0 = _ptukey(x0, k, d) - p
    x1 = np.where(v0 > 0.0, np.maximum(0.0, x0 - 1.0), x0 + 1.0)
    v1 = _ptukey(x1, k, d) - p
    active = np.ones(d.size, dtype=bool)
    for _ in range(60):
        idx = np.flatnonzero(active)
        if idx.size == 0:
            break
        denom = v1[idx] - v0[idx]
        step = np.where(denom != 0.0, v1[idx] * (x1[idx] - x0[idx]) / np.where(denom != 0.0, denom, 1.0), 0.0)
        new = np.maximum(x1[idx] - step, 0.0)
        x0[idx], v0[idx] = x1[idx], v1[idx]
        x1[idx] = new
        v1[idx] = _ptukey(new, k, d[idx]) - p
        done = (np.abs(x1[idx] - x0[idx]) <= 1e-12 * np.maximum(1.0, np.abs(x1[idx]))) | (v1[idx] == 0.0)
        active[idx[done]] = False
    out[ok] = x1
    return out


def _qcrit_by_df(level: float, k: int, df: np.ndarray) -> np.ndarray:
    """Studentized-range quantiles for many (Welch) df: exact for few distinct df, else interpolated.

    With more than 24 distinct df the quantile is evaluated exactly at 24 Chebyshev nodes in 1/df
    and interpolated (barycentric); the error is below 1e-7 (tests/test_pairwise.py checks it).
    """
    out = np.full(df.shape, np.nan)
    ok = np.isfinite(df)
    uniq = np.unique(df[ok])
    if uniq.size == 0:
        return out
    if uniq.size <= 24:
        vals = _qtukey(level, k, uniq)
        out[ok] = vals[np.searchsorted(uniq, df[ok])]
        return out
    from scipy.interpolate import BarycentricInterpolator
    lo, hi = 1.0 / uniq[-1], 1.0 / uniq[0]
    angles = (2 * np.arange(24) + 1) * np.pi / 48
    nodes = 0.5 * (lo + hi) + 0.5 * (hi - lo) * np.cos(angles)
    # closed-form weights of Chebyshev points of the first kind (Berrut & Trefethen 2004, eq. 5.3): without
    # them scipy computes the weights in a randomly permuted order, and the result varies in the last bits
    weights = np.where(np.arange(24) % 2 == 0, 1.0, -1.0) * np.sin(angles)
    interp = BarycentricInterpolator(nodes, _qtukey(level, k, 1.0 / nodes), wi=weights)
    out[ok] = interp(1.0 / df[ok])
    return out
