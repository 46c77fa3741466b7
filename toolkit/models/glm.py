"""Poisson and negative-binomial (NB2) GLMs with a log link and an exposure offset.

Fitted by our own Newton/IRLS so that results match R exactly:

* Poisson: Newton–Raphson on beta (canonical link: observed = expected information).
* NB2 (``Var(y) = mu + mu^2/theta``): the Poisson fit first (it is the NB2 model at ``theta = inf``), then,
  from its coefficients and a moment estimate of theta, Newton steps in ``(beta, log theta)`` jointly (observed
  Hessian, step halving) until the log-likelihood changes by < 1e-12 (relative). When theta runs above 1e5
  (towards the Poisson boundary) the fit continues with the algorithm of ``MASS::glm.nb`` -- IRLS for beta at
  fixed theta alternating with a bound-aware Newton search for ``log(theta)`` -- run to the same tolerance.
  The standard errors of beta are, like ``glm.nb``'s, from the expected information ``X' W X`` with
  ``W = mu theta / (mu + theta)`` at the ML estimate of theta.
* Speed: counts take few distinct values, so ``gammaln``/``digamma`` terms are evaluated on those
  (:class:`Counts`); designs of factors have few distinct rows, so ``X b``, ``X' r`` and ``X' W X`` are
  computed on those (:class:`DesignRows`). With such a design and a log link the Poisson fit depends on the data
  only through sums by row pattern, so its Newton iterations cost O(patterns), and the NB2 iterations (theta
  below 10) need no ``exp`` per row (:class:`_Grouped`). Measured in benchmarks/bench_glm.py.
* The Poisson boundary: ``theta`` is searched in ``(0, THETA_MAX]``. When the ML runs to that bound the
  counts show no overdispersion beyond Poisson, the ML of ``alpha = 1/theta`` is 0 and the fit returned is
  the Poisson fit (``theta_at_boundary = True``; see :func:`fit_glm`).

The NB2 log-likelihood and its theta derivatives are written so that they stay accurate for every theta
(up to 1e300): see :func:`lgamma_ratio`, :func:`nb_loglik_terms` and :func:`theta_score_terms`.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np
from scipy import special

#: Largest theta treated as finite. An ML of theta beyond it is the Poisson boundary (alpha = 1/theta = 0):
#: there the NB2 log-likelihood differs from the Poisson one by about sum((y - mu)^2 - y) / (2 theta), i.e.
#: by less than 1e-8 per post for counts below ~100, far below anything a test or an interval can resolve.
THETA_MAX = 1e8
LOG_THETA_MAX = float(np.log(THETA_MAX))
#: From this theta on, the Stirling / asymptotic forms replace gammaln, digamma and trigamma differences
#: (their truncation error there is < 2e-15).
_THETA_ASYMPTOTIC = 10.0
#: Below this argument the log1p-type helpers use their atanh series (no cancellation), above it the direct form.
_SERIES_MAX = 0.5


def _distinct(y):
    """``(values, index)`` with ``values[index] == y``: by counting when y holds whole numbers below 2**24
    (linear time), else by sorting (``np.unique``)."""
    if y.size and np.all(np.isfinite(y)):
        lo, hi = float(y.min()), float(y.max())
        if lo >= 0.0 and hi < 2.0 ** 24:
            yi = y.astype(np.int64)
            if np.array_equal(yi, y):
                present = np.bincount(yi) > 0
                lookup = np.cumsum(present) - 1
                return np.flatnonzero(present).astype(float), lookup[yi]
    return np.unique(y, return_inverse=True)


class Counts(np.ndarray):
    """The outcome as float64 array, with special functions evaluated on its distinct values.

    Engagement counts take few distinct values, so ``gammaln(y + theta)`` and friends are evaluated on the
    distinct values and gathered (a large saving for a million posts).
    """

    def __new__(cls, y):
        obj = np.asarray(y, dtype=float).view(cls)
        uniq, inv = _distinct(obj.plain())
        obj._few = uniq.size * 4 < obj.size
        obj._uniq, obj._inv = uniq, inv
        obj._lg1 = special.gammaln(uniq + 1.0)[inv] if obj._few else special.gammaln(obj.plain() + 1.0)
        obj._lg1_sum = float(np.sum(obj._lg1))
        obj._n_of = np.bincount(inv, minlength=uniq.size).astype(float) if obj._few else None
        return obj

    def __array_finalize__(self, obj):
        pass

    def plain(self):
        return self.view(np.ndarray)

    def fn_plus(self, fn, c):
        """``fn(y + c)`` per observation (evaluated on the distinct values when they are few)."""
        if getattr(self, "_few", False):
            return fn(self._uniq + c)[self._inv]
        return fn(self.plain() + c)

    def sum_of(self, fn):
        """``sum_i fn(y_i)`` for an elementwise ``fn`` (a weighted sum over the distinct values when few)."""
        if getattr(self, "_few", False):
            return float(self._n_of @ fn(self._uniq))
        return float(np.sum(fn(self.plain())))

    def map_values(self, fn):
        """``fn(y)`` per observation for an elementwise ``fn`` (evaluated on the distinct values when few)."""
        if getattr(self, "_few", False):
            return fn(self._uniq)[self._inv]
        return fn(self.plain())


def as_counts(y):
    return y if isinstance(y, Counts) else Counts(y)


# ------------------------------------------------------------------------------ stable elementary pieces
def _piecewise(z, small, large):
    """``small(z)`` where ``z <= _SERIES_MAX``, ``large(z)`` elsewhere (each evaluated only where used)."""
    z = np.asarray(z, dtype=float)
    lo = z <= _SERIES_MAX
    if lo.all():
        return small(z)
    if not lo.any():
        return large(z)
    out = np.empty_like(z)
    out[lo] = small(z[lo])
    out[~lo] = large(z[~lo])
    return out


def _atanh_tail(q2):
    """``sum_{k>=0} q2^k / (2k + 3)`` for ``0 <= q2 <= 1/25`` to double precision (Horner, adaptive length)."""
    top = float(np.max(q2)) if q2.size else 0.0
    n = 1 if top <= 0.0 else int(min(13, max(1, np.ceil(np.log(1e-17) / np.log(top)))))
    s = np.full_like(q2, 1.0 / (2 * n + 1))
    for k in range(n - 1, -1, -1):
        s = 1.0 / (2 * k + 3) + q2 * s
    return s


def _log1p_minus_frac(z):
    """``log(1 + z) - z / (1 + z)`` for ``z >= 0`` with full relative accuracy (about ``z^2 / 2`` near 0).

    Series: with ``q = z / (2 + z)``, ``log1p(z) = 2 atanh(q)``, so the value is
    ``z^2 / ((1 + z)(2 + z)) + 2 q^3 (1/3 + q^2/5 + q^4/7 + ...)``, a sum of positive terms.
    """
    def small(v):
        q = v / (2.0 + v)
        q2 = q * q
        return v * v / ((1.0 + v) * (2.0 + v)) + 2.0 * q * q2 * _atanh_tail(q2)
    return _piecewise(z, small, lambda v: np.log1p(v) - v / (1.0 + v))


def _log1pmx(z):
    """``z - log(1 + z)`` for ``z >= 0`` with full relative accuracy (about ``z^2 / 2`` near 0).

    Series: ``q z - 2 q^3 (1/3 + q^2/5 + ...)`` with ``q = z / (2 + z)`` (the second part is < 9 % of the first).
    """
    def small(v):
        q = v / (2.0 + v)
        q2 = q * q
        return q * v - 2.0 * q * q2 * _atanh_tail(q2)
    return _piecewise(z, small, lambda v: v - np.log1p(v))


def _stirling_c(r):
    """Stirling correction ``c(x) = log Gamma(x) - (x - 1/2) log x + x - log(2 pi)/2`` at ``r = 1/x``."""
    r2 = r * r
    return r * (1.0 / 12 - r2 * (1.0 / 360 - r2 * (1.0 / 1260 - r2 * (1.0 / 1680 - r2 * (1.0 / 1188 - r2 * (
        691.0 / 360360 - r2 / 156))))))


def _digamma_s(r):
    """``log x - 1/(2x) - digamma(x)`` (asymptotic series) at ``r = 1/x``."""
    r2 = r * r
    return r2 * (1.0 / 12 - r2 * (1.0 / 120 - r2 * (1.0 / 252 - r2 * (1.0 / 240 - r2 * (1.0 / 132 - r2 * (
        691.0 / 32760 - r2 / 12))))))


def _trigamma_s(r):
    """``trigamma(x) - 1/x - 1/(2x^2)`` (asymptotic series) at ``r = 1/x``."""
    r2 = r * r
    return r * r2 * (1.0 / 6 - r2 * (1.0 / 30 - r2 * (1.0 / 42 - r2 * (1.0 / 30 - r2 * (5.0 / 66 - r2 * (
        691.0 / 2730 - r2 * 7.0 / 6))))))


def lgamma_ratio(y, theta):
    """``D(y, theta) = gammaln(y + theta) - gammaln(theta) - y log(theta)``, accurate for every theta > 0.

    Parameters
    ----------
    y : array_like
        Non-negative values (counts).
    theta : float
        NB2 dispersion (size), ``0 < theta <= 1e300``.

    Returns
    -------
    numpy.ndarray
        ``D(y, theta)`` elementwise; it equals ``sum_{k<y} log1p(k / theta)`` for integer y and tends to 0 like
        ``y (y - 1) / (2 theta)``.

    Notes
    -----
    The direct difference of ``gammaln`` loses about ``eps * theta log(theta)`` to cancellation (at theta = 1e16
    the error is of order 1 and the NB log-likelihood can exceed the Poisson maximum). For
    ``theta >= 10`` Stirling's series is used instead:
    ``D = (theta + y - 1/2) log1p(x) - y + c(theta + y) - c(theta)`` with ``x = y / theta``, written as
    ``(theta + y) [log1p(x) - x/(1 + x)] - log1p(x)/2 + c(theta + y) - c(theta)`` whose first bracket is
    evaluated without cancellation (:func:`_log1p_minus_frac`), and
    ``c(x) = 1/(12x) - 1/(360x^3) + 1/(1260x^5) - 1/(1680x^7) + 1/(1188x^9) - 691/(360360x^11) + 1/(156x^13)``
    (truncation error < 3e-16 at x = 10).
    For ``theta < 10`` ``gammaln`` is used directly (no large cancellation there). The absolute error is about
    ``1e-16 max(1, |D|)`` for y up to 1e6 and theta from 1e-3 to 1e300 (tests/test_models_boundary.py checks it
    against 50-digit decimal arithmetic).
    """
    y = np.asarray(y, dtype=float)
    theta = float(theta)
    if theta < _THETA_ASYMPTOTIC:
        return special.gammaln(y + theta) - special.gammaln(theta) - y * np.log(theta)
    x = y / theta
    return ((theta + y) * _log1p_minus_frac(x) - 0.5 * np.log1p(x)
            + _stirling_c(1.0 / (theta + y)) - _stirling_c(1.0 / theta))


def digamma_ratio(y, theta):
    """``E(y, theta) = digamma(y + theta) - digamma(theta) - y / theta`` (the theta derivative of D).

    Notes
    -----
    For ``theta >= 10``: ``E = -(x - log1p(x)) + x / (2 (theta + y)) - [s(theta + y) - s(theta)]`` with
    ``x = y / theta`` and ``s(x) = 1/(12x^2) - 1/(120x^4) + 1/(252x^6) - 1/(240x^8) + 1/(132x^10) -
    691/(32760x^12) + 1/(12x^14)`` (the asymptotic series of ``log x - 1/(2x) - digamma(x)``); it tends to 0 like ``-y (y - 1) / (2 theta^2)``
    with full relative accuracy. Below 10 digamma is used directly.
    """
    y = np.asarray(y, dtype=float)
    theta = float(theta)
    if theta < _THETA_ASYMPTOTIC:
        return special.digamma(y + theta) - special.digamma(theta) - y / theta
    x = y / theta
    r1 = 1.0 / (theta + y)
    return -_log1pmx(x) + 0.5 * x * r1 - (_digamma_s(r1) - _digamma_s(1.0 / theta))


def trigamma_ratio(y, theta):
    """``T(y, theta) = trigamma(y + theta) - trigamma(theta) + y / theta^2`` (the theta derivative of E).

    Notes
    -----
    For ``theta >= 10``: ``T = x^2/(theta + y) - x (2 + x) / (2 (theta + y)^2) + s2(theta + y) - s2(theta)`` with
    ``s2(x) = 1/(6x^3) - 1/(30x^5) + 1/(42x^7) - 1/(30x^9) + 5/(66x^11) - 691/(2730x^13) + 7/(6x^15)``; it tends to 0 like
    ``y (y - 1) / theta^3``. Below 10 trigamma is used directly.
    """
    y = np.asarray(y, dtype=float)
    theta = float(theta)
    if theta < _THETA_ASYMPTOTIC:
        return special.polygamma(1, y + theta) - special.polygamma(1, theta) + y / theta ** 2
    x = y / theta
    r1 = 1.0 / (theta + y)
    return x * x * r1 - 0.5 * x * (2.0 + x) * r1 * r1 + (_trigamma_s(r1) - _trigamma_s(1.0 / theta))


# ------------------------------------------------------------------------------------- log-likelihoods
def poisson_loglik_terms(y, eta):
    """Per-observation Poisson log-likelihood with log link: ``y eta - exp(eta) - log(y!)``."""
    y = as_counts(y)
    return y.plain() * eta - np.exp(eta) - y._lg1


def nb_loglik_terms(y, eta, log_theta):
    """Per-observation NB2 log-likelihood with log link (``eta = log mu``), accurate for every theta.

    Parameters
    ----------
    y : array_like or Counts
        Counts.
    eta : numpy.ndarray
        Linear predictor ``log mu`` (offset included).
    log_theta : float
        ``log(theta)``, at most ``log(1e300)``.

    Returns
    -------
    numpy.ndarray
        ``log f(y_i | mu_i, theta)``.

    Notes
    -----
    Written as the Poisson term plus a correction that vanishes as theta grows::

        log f = [y eta - mu - log y!] + D(y, theta) + theta [z - log1p(z)] - y log1p(z),   z = mu / theta,

    with ``D`` from :func:`lgamma_ratio` and ``z - log1p(z)`` from :func:`_log1pmx`; every piece is computed
    without cancellation, so the correction is accurate to full relative precision and tends to
    ``((y - mu)^2 - y) / (2 theta)`` (Lawless 1987): the NB2 log-likelihood equals the Poisson one in the
    limit, and exceeds it at large theta only by that (data-driven, O(1/theta)) amount.

    References
    ----------
    Lawless, J. F. (1987). Negative binomial and mixed Poisson regression. Canadian Journal of Statistics,
    15(3), 209-225. doi:10.2307/3314912
    """
    y = as_counts(y)
    log_theta = float(log_theta)
    theta = np.exp(log_theta)
    z = np.exp(eta - log_theta)
    yp = y.plain()
    D = y.map_values(lambda v: lgamma_ratio(v, theta))
    if theta < _THETA_ASYMPTOTIC:
        # the same sum without the Poisson split (theta z = mu cancels): no cancellation at moderate theta
        return D - y._lg1 + yp * eta - (yp + theta) * np.log1p(z)
    return poisson_loglik_terms(y, eta) + D + theta * _log1pmx(z) - yp * np.log1p(z)


def loglik_terms(y, eta, family, log_theta=None):
    if family == "poisson":
        return poisson_loglik_terms(y, eta)
    return nb_loglik_terms(y, eta, log_theta)


def theta_score_terms(y, eta, log_theta):
    """Per-observation derivative of the NB2 log-likelihood with respect to theta (not log theta).

    Notes
    -----
    ``d log f / d theta = digamma(y + theta) - digamma(theta) - log1p(z) + (mu - y) / (mu + theta)``. For
    ``theta >= 10`` it is evaluated as ``E(y, theta) - [log1p(z) - u] + x u`` with ``z = mu/theta``,
    ``u = mu / (mu + theta)``, ``x = y / theta``, ``E`` from :func:`digamma_ratio` and the bracket from
    :func:`_log1p_minus_frac`: each piece is O(1/theta^2) and accurate, and the sum tends to
    ``(y - (y - mu)^2) / (2 theta^2)`` (minus the Cameron-Trivedi / Lagrange-multiplier score of alpha = 1/theta).
    """
    y = as_counts(y)
    log_theta = float(log_theta)
    theta = np.exp(log_theta)
    yp = y.plain()
    z = np.exp(eta - log_theta)
    if theta < _THETA_ASYMPTOTIC:
        mu = np.exp(eta)
        return (y.fn_plus(special.digamma, theta) - special.digamma(theta) - np.log1p(z)
                + (mu - yp) / (mu + theta))
    u = z / (1.0 + z)
    return y.map_values(lambda v: digamma_ratio(v, theta)) - _log1p_minus_frac(z) + (yp / theta) * u


def theta_hessian_terms(y, eta, log_theta):
    """Per-observation second derivative of the NB2 log-likelihood with respect to theta.

    Notes
    -----
    ``trigamma(y + theta) - trigamma(theta) + 1/theta - 2/(mu + theta) + (y + theta)/(mu + theta)^2``; for
    ``theta >= 10`` evaluated as ``T(y, theta) + u^2/theta - x u (2 - u)/theta`` (notation of
    :func:`theta_score_terms`, ``T`` from :func:`trigamma_ratio`), which tends to ``((y - mu)^2 - y)/theta^3``.
    """
    y = as_counts(y)
    log_theta = float(log_theta)
    theta = np.exp(log_theta)
    yp = y.plain()
    if theta < _THETA_ASYMPTOTIC:
        mu = np.exp(eta)
        return (y.fn_plus(lambda v: special.polygamma(1, v), theta) - special.polygamma(1, theta) + 1.0 / theta
                - 2.0 / (mu + theta) + (yp + theta) / (mu + theta) ** 2)
    z = np.exp(eta - log_theta)
    u = z / (1.0 + z)
    x = yp / theta
    return y.map_values(lambda v: trigamma_ratio(v, theta)) + (u * u - x * u * (2.0 - u)) / theta


def _theta_score(y, mu, theta):
    return float(np.sum(theta_score_terms(y, np.log(mu), np.log(theta))))


def _theta_info(y, mu, theta):
    """Second derivative of the NB2 log-likelihood in theta (negative at an interior maximum)."""
    return float(np.sum(theta_hessian_terms(y, np.log(mu), np.log(theta))))


def loglik_sum(y, eta, family, log_theta=None):
    """``sum(loglik_terms(y, eta, family, log_theta))`` without per-observation special functions.

    The terms that depend on y and theta only (``log y!``, ``D(y, theta)``) are summed over the distinct counts with
    their multiplicities; the rest are two vector passes. Used inside the iterations (line searches); the reported
    log-likelihood is the per-observation sum.
    """
    y = as_counts(y)
    yp = y.plain()
    if family == "poisson":
        return float(yp @ eta - np.sum(np.exp(eta))) - y._lg1_sum
    log_theta = float(log_theta)
    theta = np.exp(log_theta)
    if theta >= _THETA_ASYMPTOTIC:
        return float(np.sum(nb_loglik_terms(y, eta, log_theta)))
    with np.errstate(over="ignore", invalid="ignore"):
        z = np.exp(eta - log_theta)
        return (y.sum_of(lambda v: lgamma_ratio(v, theta)) - y._lg1_sum + float(yp @ eta)
                - float((yp + theta) @ np.log1p(z)))


def theta_derivative_sums(y, eta, log_theta, mu=None):
    """``(sum of theta_score_terms, sum of theta_hessian_terms)``: the theta score and curvature of the NB2 log-likelihood.

    For theta below 10 the digamma/trigamma parts are summed over the distinct counts; otherwise the per-observation
    forms (accurate for every theta) are summed.
    """
    y = as_counts(y)
    log_theta = float(log_theta)
    theta = np.exp(log_theta)
    if theta >= _THETA_ASYMPTOTIC:
        return (float(np.sum(theta_score_terms(y, eta, log_theta))),
                float(np.sum(theta_hessian_terms(y, eta, log_theta))))
    yp = y.plain()
    n = yp.size
    mu = np.exp(eta) if mu is None else mu
    inv_d = 1.0 / (mu + theta)
    score = (y.sum_of(lambda v: special.digamma(v + theta)) - n * special.digamma(theta)
             - float(np.sum(np.log1p(mu / theta))) + float(np.sum((mu - yp) * inv_d)))
    hess = (y.sum_of(lambda v: special.polygamma(1, v + theta)) - n * special.polygamma(1, theta) + n / theta
            - 2.0 * float(np.sum(inv_d)) + float((yp + theta) @ (inv_d * inv_d)))
    return score, hess


# ------------------------------------------------------------------------------------------- fitting
def _update_log_theta(y, mu, log_theta, max_iter=50):
    """Maximise the NB2 log-likelihood over log(theta) <= log(THETA_MAX) at fixed mu (1-D Newton, halving).

    Returns ``(log_theta, ok)``; ``ok`` is False when ``max_iter`` Newton steps did not settle. A step is kept
    only if it does not lower the log-likelihood by more than rounding (1e-13 relative); at the bound the
    search stops as soon as the log-likelihood still rises towards theta = inf.
    """
    y = as_counts(y)
    eta = np.log(mu)
    log_theta = min(float(log_theta), LOG_THETA_MAX)
    f_old = np.sum(nb_loglik_terms(y, eta, log_theta))
    for _ in range(max_iter):
        theta = np.exp(log_theta)
        s = float(np.sum(theta_score_terms(y, eta, log_theta)))
        g = theta * s
        if log_theta >= LOG_THETA_MAX and g >= 0.0:
            return log_theta, True                      # at the bound, still rising: the Poisson boundary
        h = theta ** 2 * float(np.sum(theta_hessian_terms(y, eta, log_theta))) + theta * s
        step = -g / h if h < 0 else float(np.sign(g))
        step = float(np.clip(step, -3.0, 3.0))
        step = min(step, LOG_THETA_MAX - log_theta)
        accepted = False
        for _ in range(40):
            cand = log_theta + step
            f_new = np.sum(nb_loglik_terms(y, eta, cand))
            if f_new >= f_old - 1e-13 * abs(f_old):
                accepted = True
                break
            step /= 2.0
        if not accepted:                                # no step improves: a maximum within rounding
            return log_theta, True
        log_theta, f_old = cand, f_new
        if abs(step) < 1e-12:
            return log_theta, True
    return log_theta, False


class DesignRows:
    """Products with a design matrix X, computed on its distinct rows when they are few.

    A design of factors (departments, post types, their interactions) has few distinct rows: ``X = P[index]``
    with ``P`` k x p. Then ``X b = (P b)[index]``, ``X' r = P' (sum of r by row pattern)`` and ``X' W X =
    P' diag(sum of w by row pattern) P``: one ``np.bincount`` pass instead of an n x p product. The patterns are
    found by hashing each row to one number (a fixed linear combination) and are verified exactly
    (``P[index] == X``); when they are not few, or the check fails, the plain products are used.
    """

    def __init__(self, X):
        self.X = X
        self.P = self.index = None
        n, p = X.shape
        if n < 2000:
            return
        weights = 1.0 / (np.arange(p) + np.pi)          # fixed: the hash only groups rows, it decides nothing
        codes, first = _factorize(X @ weights)
        if first.size * 16 > n:
            return
        P = X[first]
        # exact check (P[codes] == X), in blocks of rows so that no n x p copy is made
        block = max(1, (1 << 16) // max(p, 1))
        if all(np.array_equal(P[codes[s:s + block]], X[s:s + block]) for s in range(0, n, block)):
            self.P, self.index, self.k = P, codes, first.size
        self._grouped = None

    @classmethod
    def from_patterns(cls, X, index, P):
        """The rows of ``X = P[index]`` when the caller built X that way (the design builders: X is a function of
        the factor codes); not checked again. Falls back to :class:`DesignRows` ``(X)`` where that would not
        compress (small n, many patterns)."""
        n = X.shape[0]
        if n < 2000 or P.shape[0] * 16 > n:
            return cls(X)
        rows = cls.__new__(cls)
        rows.X, rows.P, rows.index, rows.k, rows._grouped = X, P, index, P.shape[0], None
        return rows

    def columns(self, keep, X=None):
        """The :class:`DesignRows` of ``X[:, keep]`` (pass it as `X` when made): its distinct rows are those of
        ``P[:, keep]`` (no hashing, no check needed); without ``P``, ``DesignRows(X[:, keep])``."""
        Xk = self.X[:, keep] if X is None else X
        if self.P is None:
            return DesignRows(Xk)
        uniq, inv = np.unique(self.P[:, keep], axis=0, return_inverse=True)
        sub = DesignRows.__new__(DesignRows)
        sub.X, sub.P, sub.index, sub.k, sub._grouped = Xk, uniq, inv.reshape(-1)[self.index], uniq.shape[0], None
        return sub

    def grouped(self, yc, offset):
        """The :class:`_Grouped` sums of ``(yc, offset)`` (made once per pair), or None when not usable."""
        if self.P is None or not _Grouped.usable(self, offset):
            return None
        cached = getattr(self, "_grouped", None)
        if cached is None or cached[0] is not yc or cached[1] is not offset:
            self._grouped = (yc, offset, _Grouped(yc, self, offset))
        return self._grouped[2]

    def lin(self, beta):
        """``X @ beta``."""
        if self.P is None:
            return self.X @ beta
        return (self.P @ beta)[self.index]

    def tmul(self, r):
        """``X' r``."""
        if self.P is None:
            return self.X.T @ r
        return self.P.T @ np.bincount(self.index, weights=r, minlength=self.k)

    def gram(self, w):
        """``X' diag(w) X``."""
        if self.P is None:
            return self.X.T @ (self.X * w[:, None])
        c = np.bincount(self.index, weights=w, minlength=self.k)
        return self.P.T @ (self.P * c[:, None])


def _factorize(h):
    """Codes 0..k-1 of the distinct values of ``h`` (first-seen order) and the position of each first occurrence."""
    import pandas as pd

    codes, uniq = pd.factorize(h)
    first = np.full(uniq.size, -1, dtype=np.int64)
    # the first occurrence of every code: scatter positions in reverse so that the earliest one wins
    first[codes[::-1]] = np.arange(h.size - 1, -1, -1)
    return codes, first


def _start_beta(rows, y, offset, grp=None):
    """Least squares of ``log(y + 0.1 mean(y) + 0.1) - offset`` on X (normal equations; lstsq if singular)."""
    z = np.log(y + 0.1 * y.mean() + 0.1) - offset
    XtX = rows.gram(np.ones_like(z)) if grp is None else grp.P.T @ (grp.P * grp.counts[:, None])
    try:
        beta = np.linalg.solve(XtX, rows.tmul(z))
        if np.all(np.isfinite(beta)) and np.linalg.cond(XtX) < 1e12:
            return beta
    except np.linalg.LinAlgError:
        pass
    return np.linalg.lstsq(rows.X, z, rcond=None)[0]


class _Path(NamedTuple):
    """Where one of the GLM algorithms (``_newton_poisson``, ``_newton_negbin``, ``_irls_alternating``) stopped."""

    beta: np.ndarray
    log_theta: float | None      # None for Poisson
    eta: np.ndarray              # linear predictor at ``beta`` (offset included)
    loglik: float                # the objective the algorithm maximised, at the end
    iterations: int
    converged: bool


def _line_search(f_cur, beta, step, lt, lt_step, rows, offset, yc, family):
    """Halve the Newton step until the log-likelihood does not fall (up to rounding)."""
    t = 1.0
    for _ in range(40):
        cand = beta + t * step
        lt_c = None if lt is None else lt + t * lt_step
        eta_c = rows.lin(cand) + offset
        f_c = loglik_sum(yc, eta_c, family, lt_c)
        if np.isfinite(f_c) and f_c >= f_cur - 1e-12 * abs(f_cur):
            return cand, lt_c, eta_c, f_c, t
        t /= 2.0
    return cand, lt_c, eta_c, f_c, t


def _newton_poisson(yc, rows, offset, beta, *, max_iter, tol):
    """Newton-Raphson for the Poisson GLM (canonical link: observed = expected information)."""
    y = yc.plain()
    eta = rows.lin(beta) + offset
    f = loglik_sum(yc, eta, "poisson")
    converged, it = False, 0
    for it in range(1, max_iter + 1):
        mu = np.exp(eta)
        step = np.linalg.solve(rows.gram(mu), rows.tmul(y - mu))
        beta, _, eta, f_new, t = _line_search(f, beta, step, None, 0.0, rows, offset, yc, "poisson")
        small = np.max(np.abs(t * step)) < 1e-8
        if abs(f_new - f) <= tol * (abs(f_new) + 1.0) and small:
            f, converged = f_new, True
            break
        f = f_new
    return _Path(beta, None, eta, f, it, converged)


def _joint_step(H, g_beta, g_lt, h_lt, fisher_info):
    """Newton step in ``(beta, log theta)`` from the Hessian ``H``; where ``-H`` is not positive definite, a
    Fisher-scoring step for beta (``fisher_info()``, the expected information) and a 1-D step for log theta.
    Returns ``(step, gradient)``."""
    g = np.r_[g_beta, g_lt]
    try:
        np.linalg.cholesky(-H)
        return np.linalg.solve(-H, g), g
    except np.linalg.LinAlgError:
        step_beta = np.linalg.solve(fisher_info(), g_beta)
        return np.r_[step_beta, -g_lt / h_lt if h_lt < 0 else float(np.sign(g_lt))], g


def _nb_newton_direction(yc, rows, eta, lt):
    """Gradient and Newton direction of the NB2 log-likelihood in ``(beta, log theta)`` jointly.

    The observed Hessian is used when it is negative definite; otherwise the expected information of beta and
    the 1-D curvature of log theta (block diagonal, the alternating algorithm's step).
    """
    y = yc.plain()
    th = np.exp(lt)
    mu = np.exp(eta)
    d = mu + th
    r = y - mu
    g_beta = rows.tmul(th * r / d)
    s_th, h_th = theta_derivative_sums(yc, eta, lt, mu=mu)
    g_lt = th * s_th
    h_lt = th ** 2 * h_th + g_lt
    p = g_beta.size
    H = np.empty((p + 1, p + 1))
    H[:p, :p] = -rows.gram(th * mu * (y + th) / d ** 2)
    H[:p, p] = H[p, :p] = rows.tmul(th * mu * r / d ** 2)
    H[p, p] = h_lt
    step, g = _joint_step(H, g_beta, g_lt, h_lt, lambda: rows.gram(th * mu / d))
    return step[:p], float(np.clip(step[p], -3.0, 3.0)), g


#: Above this theta the joint Newton hands over to the alternating algorithm, whose theta search knows the bound.
_JOINT_THETA_MAX = 1e5


def _newton_negbin(yc, rows, offset, beta, *, max_iter, tol):
    """Joint Newton in ``(beta, log theta)`` for NB2, from the Poisson estimates and a moment estimate of theta.

    Returns None when theta runs above ``_JOINT_THETA_MAX`` (towards the Poisson boundary) or the iterations
    run out: the caller then uses the alternating algorithm, which handles the bound.
    """
    y = yc.plain()
    eta = rows.lin(beta) + offset
    mu = np.exp(eta)
    excess = float(np.sum((y - mu) ** 2 - y))
    if excess <= 0.0:
        return None                                       # no overdispersion at the Poisson fit: near the bound
    lt = float(np.clip(np.log(np.sum(mu ** 2) / excess), -7.0, np.log(_JOINT_THETA_MAX)))
    f = loglik_sum(yc, eta, "negbin", lt)
    for it in range(1, max_iter + 1):
        step, lt_step, _ = _nb_newton_direction(yc, rows, eta, lt)
        lt_step = min(lt_step, LOG_THETA_MAX - lt)
        beta, lt, eta, f_new, t = _line_search(f, beta, step, lt, lt_step, rows, offset, yc, "negbin")
        if lt > np.log(_JOINT_THETA_MAX) or not np.isfinite(f_new):
            return None
        small = max(np.max(np.abs(t * step)), abs(t * lt_step)) < 1e-8
        if abs(f_new - f) <= tol * (abs(f_new) + 1.0) and small:
            return _Path(beta, lt, eta, f_new, it, True)
        f = f_new
    return None


def _irls_alternating(yc, rows, offset, beta, *, max_iter, tol):
    """NB2 by alternating Fisher scoring for beta with a 1-D Newton search for log theta (bound-aware)."""
    y = yc.plain()
    eta = rows.lin(beta) + offset
    log_theta, theta_ok = _update_log_theta(yc, np.exp(eta), 0.0)
    ll_old = np.sum(nb_loglik_terms(yc, eta, log_theta))
    converged, it = False, 0
    t, step = 1.0, np.zeros_like(beta)
    for it in range(1, max_iter + 1):
        f_cur = np.sum(nb_loglik_terms(yc, eta, log_theta))
        for _ in range(3):
            theta = np.exp(log_theta)
            mu = np.exp(eta)
            step = np.linalg.solve(rows.gram(mu * theta / (mu + theta)), rows.tmul(theta * (y - mu) / (mu + theta)))
            beta, _, eta, f_cur, t = _line_search(f_cur, beta, step, log_theta, 0.0, rows, offset, yc, "negbin")
            if np.max(np.abs(t * step)) < 1e-10:
                break
        log_theta, theta_ok = _update_log_theta(yc, np.exp(eta), log_theta)
        ll = np.sum(nb_loglik_terms(yc, eta, log_theta))
        if abs(ll - ll_old) <= tol * (abs(ll) + 1.0) and np.max(np.abs(t * step)) < 1e-8:
            converged = True
            break
        ll_old = ll
    return _Path(beta, log_theta, eta, ll, it, converged and theta_ok)


class _Grouped:
    """Sums by design row pattern for a design of few distinct rows (``rows.P`` set): the fast path of :func:`_irls`.

    With ``X = P[index]`` the linear predictor is ``c[index] + offset`` with ``c = P beta``, so
    ``mu = exp(c + s)[index] * E`` with ``E = exp(offset - s)`` computed once (``s``: the largest offset). Then
    the Poisson log-likelihood, score and information depend on the data only through the sums of y and of E by
    pattern (and ``y' offset``): its Newton iterations cost O(k), not O(n). The NB2 terms still need one pass over
    the rows per evaluation, but no ``exp`` and no linear predictor per row. Built only when the offsets span
    less than 600 (so that no ``E`` underflows).
    """

    def __init__(self, yc, rows, offset):
        self.P, self.k = rows.P, rows.k
        index = rows.index
        y = yc.plain()
        self.y_off = float(y @ offset)
        # the rows in pattern order (a stable counting sort), so that sums by pattern are sums of slices
        self.counts = np.bincount(index, minlength=self.k)
        if self.k > 1 and not bool(np.all(index[1:] >= index[:-1])):
            small = np.uint8 if self.k <= 256 else np.uint16 if self.k <= 65536 else index.dtype
            order = np.argsort(index.astype(small, copy=False), kind="stable")
            y, offset = y[order], offset[order]
        self.starts = np.r_[0, np.cumsum(self.counts)[:-1]]
        self.y = y                                  # y in pattern order
        self.shift = float(np.max(offset))
        self.E = np.exp(offset - self.shift)        # in pattern order
        self.Y = self.seg(y)
        self.S = self.seg(self.E)
        self.last = None                               # (beta, log theta, _NBState) where the NB2 path ended

    @staticmethod
    def usable(rows, offset):
        return (rows.P is not None and offset.size > 0 and bool(np.all(np.isfinite(offset)))
                and float(np.max(offset) - np.min(offset)) < 600.0)

    def seg(self, w):
        """Sum of ``w`` (rows in pattern order) by row pattern (length k)."""
        return np.add.reduceat(w, self.starts) if self.k > 1 else np.array([np.sum(w)])

    def rep(self, v):
        """A per-pattern value for every row (rows in pattern order)."""
        return np.repeat(v, self.counts) if self.k > 1 else np.full(self.counts[0], v[0])

    def poisson_loglik(self, c, yc):
        return float(self.Y @ c) + self.y_off - float(np.exp(c + self.shift) @ self.S) - yc._lg1_sum


def _newton_poisson_grouped(yc, rows, grp, offset, beta, *, max_iter, tol):
    """:func:`_newton_poisson` on the sums by row pattern (:class:`_Grouped`): O(k) per iteration.

    The same Newton steps, step halving and convergence rule; the log-likelihood is ``sum_g Y_g c_g + y'offset -
    sum_g exp(c_g) sum_{i in g} exp(offset_i) - sum log y!``, the per-row sum regrouped.
    """
    P = grp.P
    f = grp.poisson_loglik(P @ beta, yc)
    converged, it = False, 0
    for it in range(1, max_iter + 1):
        m = np.exp(P @ beta + grp.shift) * grp.S           # expected count by pattern
        step = np.linalg.solve(P.T @ (P * m[:, None]), P.T @ (grp.Y - m))
        t = 1.0
        for _ in range(40):
            cand = beta + t * step
            f_c = grp.poisson_loglik(P @ cand, yc)
            if np.isfinite(f_c) and f_c >= f - 1e-12 * abs(f):
                break
            t /= 2.0
        beta, f_new = cand, f_c
        small = np.max(np.abs(t * step)) < 1e-8
        if abs(f_new - f) <= tol * (abs(f_new) + 1.0) and small:
            f, converged = f_new, True
            break
        f = f_new
    return _Path(beta, None, rows.lin(beta) + offset, f, it, converged)


class _NBState(NamedTuple):
    """The NB2 log-likelihood at one point of the grouped path, with the per-row pieces the next step reuses."""

    f: float
    z: np.ndarray        # mu / theta per row
    l1: np.ndarray       # log1p(z)


def _nb_state_grouped(yc, grp, c, lt):
    """NB2 log-likelihood (theta < 10, the direct form of :func:`loglik_sum`) at pattern predictors ``c``."""
    theta = float(np.exp(lt))
    y = grp.y
    z = grp.rep(np.exp(c + grp.shift - lt))
    z *= grp.E
    l1 = np.log1p(z)
    f = (yc.sum_of(lambda v: lgamma_ratio(v, theta)) - yc._lg1_sum + float(grp.Y @ c) + grp.y_off
         - float(y @ l1) - theta * float(np.sum(l1)))
    return _NBState(f, z, l1)


class _NBPieces(NamedTuple):
    """Sums over the rows of the grouped NB2 path at one point (theta < 10); see :func:`_nb_pieces_grouped`."""

    seg_a: np.ndarray     # by pattern: sum of (y - mu) / (mu + theta)
    seg_b: np.ndarray     # by pattern: sum of mu / (mu + theta)
    seg_ba: np.ndarray    # by pattern: sum of mu (y - mu) / (mu + theta)^2
    s_th: float           # d loglik / d theta
    h_th: float           # d^2 loglik / d theta^2


def _nb_pieces_grouped(yc, grp, state, lt):
    """The theta score and curvature of :func:`theta_derivative_sums` and the sums by pattern that the beta score
    and information need, from the per-row ``z = mu / theta`` and ``log1p(z)`` of the log-likelihood evaluation."""
    y = grp.y
    th = float(np.exp(lt))
    n = y.size
    mu = state.z * th
    inv_d = mu + th
    np.divide(1.0, inv_d, out=inv_d)           # 1 / (mu + theta)
    a = y - mu
    a *= inv_d                                 # (y - mu) / (mu + theta)
    b = mu
    b *= inv_d                                 # mu / (mu + theta)  (mu is not used after this)
    s_th = (yc.sum_of(lambda v: special.digamma(v + th)) - n * special.digamma(th) - float(np.sum(state.l1))
            - float(np.sum(a)))
    # (y + theta) / (mu + theta)^2 = (a + 1) / (mu + theta)
    # trigamma as zeta(2, x): what special.polygamma(1, x) computes, without its wrapper's overhead
    h_th = (yc.sum_of(lambda v: special.zeta(2.0, v + th)) - n * float(special.zeta(2.0, th)) + n / th
            - float(np.sum(inv_d)) + float(a @ inv_d))
    seg_a, seg_b = grp.seg(a), grp.seg(b)
    a *= b
    return _NBPieces(seg_a, seg_b, grp.seg(a), s_th, h_th)


def _nb_direction_grouped(yc, grp, state, lt):
    """:func:`_nb_newton_direction` on the grouped path (the same gradient, Hessian and fallback)."""
    th = float(np.exp(lt))
    pc = _nb_pieces_grouped(yc, grp, state, lt)
    P = grp.P
    g_beta = th * (P.T @ pc.seg_a)
    g_lt = th * pc.s_th
    h_lt = th ** 2 * pc.h_th + g_lt
    p = g_beta.size
    H = np.empty((p + 1, p + 1))
    # theta mu (y + theta) / (mu + theta)^2 = theta b (a + 1)
    H[:p, :p] = -th * (P.T @ (P * (pc.seg_ba + pc.seg_b)[:, None]))
    H[:p, p] = H[p, :p] = th * (P.T @ pc.seg_ba)
    H[p, p] = h_lt
    step, _ = _joint_step(H, g_beta, g_lt, h_lt, lambda: th * (P.T @ (P * pc.seg_b[:, None])))
    return step[:p], float(np.clip(step[p], -3.0, 3.0))


_LOG_THETA_ASYMPTOTIC = float(np.log(_THETA_ASYMPTOTIC))


def _newton_negbin_grouped(yc, rows, grp, offset, beta, *, max_iter, tol):
    """:func:`_newton_negbin` on the grouped path, for theta below 10.

    The same start, Newton directions, step halving and convergence rule as :func:`_newton_negbin`. Returns
    ``"general"`` as soon as theta (at the start or at any trial point) reaches 10, where the log-likelihood needs
    its large-theta forms: the caller then runs :func:`_newton_negbin` from the same start. None as there.
    """
    y = grp.y
    P = grp.P
    mu = grp.rep(np.exp(P @ beta + grp.shift))
    mu *= grp.E
    excess = float(np.sum((y - mu) ** 2 - y))
    if excess <= 0.0:
        return None
    lt = float(np.clip(np.log(np.sum(mu ** 2) / excess), -7.0, np.log(_JOINT_THETA_MAX)))
    if lt >= _LOG_THETA_ASYMPTOTIC:
        return "general"
    del mu
    state = _nb_state_grouped(yc, grp, P @ beta, lt)
    f = state.f
    for it in range(1, max_iter + 1):
        step, lt_step = _nb_direction_grouped(yc, grp, state, lt)
        lt_step = min(lt_step, LOG_THETA_MAX - lt)
        t = 1.0
        for _ in range(40):
            cand, lt_c = beta + t * step, lt + t * lt_step
            if lt_c >= _LOG_THETA_ASYMPTOTIC:
                return "general"
            state = _nb_state_grouped(yc, grp, P @ cand, lt_c)
            if np.isfinite(state.f) and state.f >= f - 1e-12 * abs(f):
                break
            t /= 2.0
        beta, lt, f_new = cand, lt_c, state.f
        if not np.isfinite(f_new):
            return None
        small = max(np.max(np.abs(t * step)), abs(t * lt_step)) < 1e-8
        if abs(f_new - f) <= tol * (abs(f_new) + 1.0) and small:
            grp.last = (beta, lt, state)              # reused by the information at the estimate (_irls)
            return _Path(beta, lt, rows.lin(beta) + offset, f_new, it, True)
        f = f_new
    return None


def _irls(yc, X, offset, family, *, max_iter, tol, start, rows=None):
    """Newton for a Poisson or NB2 GLM (theta <= THETA_MAX); the engine of :func:`fit_glm`.

    Poisson: Newton-Raphson. NB2: joint Newton in ``(beta, log theta)`` while theta stays moderate, else the
    alternating algorithm of ``MASS::glm.nb`` (Fisher scoring for beta, 1-D Newton for log theta) run to
    tighter tolerance. Both maximise the same likelihood; only the path differs.
    """
    rows = DesignRows(X) if rows is None else rows
    y = yc.plain()
    grp = rows.grouped(yc, offset)
    beta = _start_beta(rows, y, offset, grp) if start is None else np.asarray(start, dtype=float).copy()
    if family == "poisson":
        if grp is not None:
            path = _newton_poisson_grouped(yc, rows, grp, offset, beta, max_iter=max_iter, tol=tol)
        else:
            path = _newton_poisson(yc, rows, offset, beta, max_iter=max_iter, tol=tol)
    else:
        path = "general"
        if grp is not None:
            with np.errstate(over="ignore", invalid="ignore"):
                path = _newton_negbin_grouped(yc, rows, grp, offset, beta, max_iter=max_iter, tol=tol)
        if path == "general":
            path = _newton_negbin(yc, rows, offset, beta, max_iter=max_iter, tol=tol)
        if path is None:
            path = _irls_alternating(yc, rows, offset, beta, max_iter=max_iter, tol=tol)
    beta, log_theta, eta = path.beta, path.log_theta, path.eta
    mu = np.exp(eta)
    nb_grouped = family != "poisson" and grp is not None and grp.last is not None and grp.last[0] is beta
    if family == "poisson":
        resid_score = (y - mu)
        # reported: the per-observation sum (also what the NB2 fit is compared with at the Poisson boundary)
        ll = np.sum(loglik_terms(yc, eta, family, log_theta))
        info = rows.gram(mu) if grp is None else \
            grp.P.T @ (grp.P * (np.exp(grp.P @ beta + grp.shift) * grp.S)[:, None])   # X'WX from the sums by pattern
    else:
        theta = np.exp(log_theta)
        resid_score = theta * (y - mu) / (mu + theta)
        if nb_grouped:      # theta < 10: the log-likelihood of the path, X'WX and the theta curvature by pattern
            pc = _nb_pieces_grouped(yc, grp, grp.last[2], log_theta)
            ll = path.loglik
            info = theta * (grp.P.T @ (grp.P * pc.seg_b[:, None]))
        else:
            ll = np.sum(loglik_terms(yc, eta, family, log_theta))     # the per-observation sum
            info = rows.gram(mu * theta / (mu + theta))
    vcov = np.linalg.inv(info)
    theta_se = np.nan
    if family != "poisson":
        d2 = pc.h_th if nb_grouped else _theta_info(yc, mu, np.exp(log_theta))
        theta_se = float(np.sqrt(-1.0 / d2)) if d2 < 0 else np.nan
    return {"beta": beta, "vcov": vcov, "log_theta": log_theta, "theta_se": theta_se, "loglik": float(ll),
            "mu": mu, "eta": eta, "iterations": path.iterations, "converged": bool(path.converged), "info": info,
            "X": X, "resid_score": resid_score}


def fit_glm(y, X, offset, family, *, max_iter=200, tol=1e-12, start=None):
    """Fit a Poisson or NB2 GLM with log link (and the Poisson boundary of NB2).

    Parameters
    ----------
    y : array_like
        Counts.
    X : numpy.ndarray
        Design matrix (n x p, full column rank).
    offset : numpy.ndarray
        Offset (``log(exposure)``, or zeros).
    family : {"poisson", "negbin"}
        Family (log link).
    max_iter : int, default 200
        Outer iterations.
    tol : float, default 1e-12
        Relative change of the log-likelihood at convergence.
    start : array_like, optional
        Starting coefficients (default: least squares on ``log(y + 0.1 mean(y) + 0.1)``; for NB2 the Poisson
        estimates).

    Returns
    -------
    dict
        beta, vcov (model-based), log_theta (None for Poisson), theta (nan for Poisson, inf at the boundary),
        theta_se, theta_at_boundary (bool), loglik, poisson_loglik (NB2 only: the Poisson fit's), mu, eta,
        iterations, converged, info (X'WX), X and resid_score (the score contributions are
        ``X * resid_score[:, None]``, for sandwich SEs; formed only when needed).

    Notes
    -----
    NB2 is fitted with theta restricted to ``(0, THETA_MAX]`` (``THETA_MAX = 1e8``). If the ML runs to that bound,
    or the NB2 fit ends below the Poisson log-likelihood, theta is at its boundary (infinity, ``alpha = 1/theta
    = 0``): the NB2 model reduces to Poisson (Lawless 1987), and the result is the Poisson fit -- its
    coefficients, model-based covariance, log-likelihood and ``converged`` flag -- with ``theta = inf``,
    ``theta_at_boundary = True``, ``theta_se = nan`` and ``log_theta = log(THETA_MAX)`` (a finite stand-in for
    callers that need a number, e.g. NB probabilities, which then equal the Poisson ones to ~1e-8).
    ``converged`` is False when the IRLS or the last theta search did not settle.

    References
    ----------
    Lawless, J. F. (1987). Negative binomial and mixed Poisson regression. Canadian Journal of Statistics,
    15(3), 209-225. doi:10.2307/3314912
    Venables, W. N., & Ripley, B. D. (2002). Modern Applied Statistics with S (4th ed.), section 7.4
    (``MASS::glm.nb``). doi:10.1007/978-0-387-21706-2
    """
    return _fit_glm(as_counts(y), DesignRows(X), offset, family, max_iter=max_iter, tol=tol, start=start)


def _fit_glm(yc, rows, offset, family, *, max_iter=200, tol=1e-12, start=None):
    """:func:`fit_glm` of counts ``yc`` (:class:`Counts`) and a design ``rows`` (:class:`DesignRows`) made by the
    caller (the front door reuses them between the full and the reduced model)."""
    X = rows.X
    pois = _irls(yc, X, offset, "poisson", max_iter=max_iter, tol=tol, start=start, rows=rows)
    if family == "poisson":
        pois.update(theta=np.nan, theta_at_boundary=False)
        return pois
    nb = _irls(yc, X, offset, "negbin", max_iter=max_iter, tol=tol,
               start=pois["beta"] if start is None else start, rows=rows)
    at_bound = nb["log_theta"] >= LOG_THETA_MAX - 1e-9 or nb["loglik"] < pois["loglik"]
    if at_bound:
        out = dict(pois)
        out.update(log_theta=LOG_THETA_MAX, theta=np.inf, theta_se=np.nan, theta_at_boundary=True,
                   poisson_loglik=pois["loglik"],
                   negbin_at_bound={"log_theta": nb["log_theta"], "loglik": nb["loglik"],
                                    "converged": nb["converged"]})
        return out
    nb.update(theta=float(np.exp(nb["log_theta"])), theta_at_boundary=False, poisson_loglik=pois["loglik"])
    return nb


def cluster_vcov(fit, groups):
    """Cluster-robust (sandwich) covariance of beta.

    ``V = c B^-1 (sum_g s_g s_g') B^-1`` with ``B`` the model information X'WX, ``s_g`` the score of
    cluster g (theta held at its estimate) and the small-sample factor ``c = G/(G-1) (n-1)/(n-p)``
    (Stata's and statsmodels' default).
    """
    G = int(groups.max()) + 1
    score_obs = fit["score_obs"] if "score_obs" in fit else fit["X"] * fit["resid_score"][:, None]
    S = np.column_stack([np.bincount(groups, weights=col, minlength=G) for col in score_obs.T])
    bread = np.linalg.inv(fit["info"])
    meat = S.T @ S
    n, p = score_obs.shape
    return G / (G - 1.0) * (n - 1.0) / (n - p) * bread @ meat @ bread
