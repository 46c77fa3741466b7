"""Poisson and negative-binomial (NB2) GLMs with a log link and an exposure offset.

Fitted by our own Newton/IRLS so that results match R exactly:

* Poisson: Newton–Raphson on beta (canonical link: observed = expected information).
* NB2 (``Var(y) = mu + mu^2/theta``): alternate IRLS for beta at fixed theta with a Newton step for
  ``log(theta)`` at fixed beta until the log-likelihood changes by < 1e-12 (relative). This is the
  algorithm of ``MASS::glm.nb`` run to tighter tolerance; the standard errors of beta are, like
  ``glm.nb``'s, from the expected information ``X' W X`` with ``W = mu theta / (mu + theta)`` at the
  ML estimate of theta.
"""
from __future__ import annotations

import numpy as np
from scipy import special


class Counts(np.ndarray):
    """The outcome as float64 array, with cached special functions of ``y + c``.

    Engagement counts take few distinct values, so ``gammaln(y + theta)`` and friends are evaluated on the
    distinct values and gathered (a large saving for a million posts).
    """

    def __new__(cls, y):
        obj = np.asarray(y, dtype=float).view(cls)
        uniq, inv = np.unique(np.asarray(y, dtype=float), return_inverse=True)
        obj._few = uniq.size * 4 < obj.size
        obj._uniq, obj._inv = uniq, inv
        obj._lg1 = special.gammaln(np.asarray(obj) + 1.0)
        return obj

    def __array_finalize__(self, obj):
        pass

    def plain(self):
        return self.view(np.ndarray)

    def fn_plus(self, fn, c):
        if getattr(self, "_few", False):
            return fn(self._uniq + c)[self._inv]
        return fn(self.plain() + c)


def as_counts(y):
    return y if isinstance(y, Counts) else Counts(y)


def nb_loglik_terms(y, eta, log_theta):
    """Per-observation NB2 log-likelihood with log link (eta = log mu)."""
    y = as_counts(y)
    theta = np.exp(log_theta)
    log_tm = np.logaddexp(log_theta, eta)  # log(theta + mu)
    yp = y.plain()
    return (y.fn_plus(special.gammaln, theta) - special.gammaln(theta) - y._lg1
            + theta * (log_theta - log_tm) + yp * (eta - log_tm))


def poisson_loglik_terms(y, eta):
    y = as_counts(y)
    return y.plain() * eta - np.exp(eta) - y._lg1


def loglik_terms(y, eta, family, log_theta=None):
    if family == "poisson":
        return poisson_loglik_terms(y, eta)
    return nb_loglik_terms(y, eta, log_theta)


def _theta_score(y, mu, theta):
    y = as_counts(y)
    return np.sum(y.fn_plus(special.digamma, theta) - special.digamma(theta) + np.log(theta)
                  - np.log(theta + mu) + 1.0 - (y.plain() + theta) / (mu + theta))


def _theta_info(y, mu, theta):
    y = as_counts(y)
    return np.sum(y.fn_plus(lambda v: special.polygamma(1, v), theta) - special.polygamma(1, theta) + 1.0 / theta
                  - 2.0 / (mu + theta) + (y.plain() + theta) / (mu + theta) ** 2)


def _update_log_theta(y, mu, log_theta, max_iter=50):
    """Maximise the NB2 log-likelihood over log(theta) at fixed mu (1-D Newton with halving)."""
    eta = np.log(mu)
    f_old = np.sum(nb_loglik_terms(y, eta, log_theta))
    for _ in range(max_iter):
        theta = np.exp(log_theta)
        s = _theta_score(y, mu, theta)
        g = theta * s
        h = theta ** 2 * _theta_info(y, mu, theta) + theta * s
        step = -g / h if h < 0 else np.sign(g) * 1.0
        step = float(np.clip(step, -3.0, 3.0))
        for _ in range(40):
            cand = log_theta + step
            f_new = np.sum(nb_loglik_terms(y, eta, cand))
            if f_new >= f_old - 1e-12 * abs(f_old):
                break
            step /= 2.0
        log_theta, f_old = cand, f_new
        if abs(step) < 1e-12:
            break
    return log_theta


def fit_glm(y, X, offset, family, *, max_iter=200, tol=1e-12, start=None):
    """Fit a Poisson or NB2 GLM with log link.

    Returns a dict with beta, vcov (model-based), log_theta (None for Poisson), loglik, mu,
    iterations, converged, bread (X'WX) and score contributions (for sandwich SEs).
    """
    n, p = X.shape
    yc = as_counts(y)
    y = yc.plain()
    if start is None:
        mu0 = y + 0.1 * y.mean() + 0.1
        z = np.log(mu0) - offset
        beta = np.linalg.lstsq(X, z, rcond=None)[0]
    else:
        beta = np.asarray(start, dtype=float).copy()
    log_theta = None if family == "poisson" else 0.0
    eta = X @ beta + offset
    if family != "poisson":
        log_theta = _update_log_theta(yc, np.exp(eta), log_theta)
    ll_old = np.sum(loglik_terms(yc, eta, family, log_theta))
    converged = False
    it = 0
    for it in range(1, max_iter + 1):
        # beta: Fisher scoring (= Newton for Poisson)
        for _ in range(3):
            mu = np.exp(eta)
            if family == "poisson":
                w = mu
                score = X.T @ (y - mu)
            else:
                theta = np.exp(log_theta)
                w = mu * theta / (mu + theta)
                score = X.T @ (theta * (y - mu) / (mu + theta))
            info = (X * w[:, None]).T @ X
            step = np.linalg.solve(info, score)
            f_cur = np.sum(loglik_terms(yc, eta, family, log_theta))
            t = 1.0
            for _ in range(40):
                cand = beta + t * step
                eta_c = X @ cand + offset
                f_c = np.sum(loglik_terms(yc, eta_c, family, log_theta))
                if np.isfinite(f_c) and f_c >= f_cur - 1e-12 * abs(f_cur):
                    break
                t /= 2.0
            beta, eta = cand, eta_c
            if np.max(np.abs(t * step)) < 1e-10:
                break
        if family != "poisson":
            log_theta = _update_log_theta(yc, np.exp(eta), log_theta)
        ll = np.sum(loglik_terms(yc, eta, family, log_theta))
        if abs(ll - ll_old) <= tol * (abs(ll) + 1.0) and np.max(np.abs(t * step)) < 1e-8:
            converged = True
            break
        ll_old = ll
    mu = np.exp(eta)
    if family == "poisson":
        w = mu
        resid_score = (y - mu)
    else:
        theta = np.exp(log_theta)
        w = mu * theta / (mu + theta)
        resid_score = theta * (y - mu) / (mu + theta)
    info = (X * w[:, None]).T @ X
    vcov = np.linalg.inv(info)
    theta_se = np.nan
    if family != "poisson":
        theta = np.exp(log_theta)
        theta_se = float(np.sqrt(-1.0 / _theta_info(yc, mu, theta))) if _theta_info(yc, mu, theta) < 0 else np.nan
    return {"beta": beta, "vcov": vcov, "log_theta": log_theta, "theta_se": theta_se, "loglik": float(ll),
            "mu": mu, "eta": eta, "iterations": it, "converged": converged, "info": info,
            "score_obs": X * resid_score[:, None]}


def cluster_vcov(fit, groups):
    """Cluster-robust (sandwich) covariance of beta.

    ``V = c B^-1 (sum_g s_g s_g') B^-1`` with ``B`` the model information X'WX, ``s_g`` the score of
    cluster g (theta held at its estimate) and the small-sample factor ``c = G/(G-1) (n-1)/(n-p)``
    (Stata's and statsmodels' default).
    """
    G = int(groups.max()) + 1
    S = np.column_stack([np.bincount(groups, weights=col, minlength=G) for col in fit["score_obs"].T])
    bread = np.linalg.inv(fit["info"])
    meat = S.T @ S
    n, p = fit["score_obs"].shape
    return G / (G - 1.0) * (n - 1.0) / (n - p) * bread @ meat @ bread
