"""Poisson / NB2 GLMM with one random intercept per subject, fitted by Laplace (or adaptive GHQ).

Model: ``log mu_ij = x_ij' beta + offset_ij + u_j``, ``u_j ~ N(0, sigma^2)``, ``y_ij | u_j`` Poisson or
NB2 with dispersion theta. Because the random effect is one scalar per subject, the Laplace
approximation factorises over subjects: the inner problem is a 1-D Newton search for the conditional
mode ``u_j`` of every subject at once (vectorised with ``np.bincount``; no dense subject-by-post
matrix), and

    log L = sum_j [ sum_i log f(y_ij | u_j) - u_j^2 / (2 sigma^2) - log sigma - 1/2 log H_j ],
    H_j = -sum_i d^2 log f / d eta^2 + 1 / sigma^2,

evaluated at the modes. This is exactly the Laplace approximation that glmmTMB (and lme4 with
``nAGQ = 1``) maximise. The gradient with respect to ``(beta, log theta, log sigma)`` is analytic
(envelope theorem for the first part, implicit-function derivative of the modes for ``log H_j``), the
outer optimiser is L-BFGS-B followed by Newton polishing steps with a Hessian obtained by central
differences of the analytic gradient; that Hessian also gives the standard errors (as
``TMB::sdreport`` does from the Laplace log-likelihood).

With ``n_agq > 1`` adaptive Gauss–Hermite quadrature (centred at the mode, scaled by ``H_j^-1/2``) is
used for the log-likelihood; its gradient is then taken by finite differences (slower).

NB2: ``log theta`` is bounded above by ``log(1e8)`` (``glm.THETA_MAX``). If the optimiser runs to that bound the
dispersion is at its Poisson boundary and :func:`fit_glmm` fits and, when its log-likelihood is at least as high,
reports the Poisson GLMM with ``theta = inf``. The NB2 log-likelihood and its theta gradient use the forms of
:mod:`toolkit.models.glm` that are accurate for every theta.
"""
from __future__ import annotations

import numpy as np
from scipy import optimize, special

from .glm import LOG_THETA_MAX, as_counts, fit_glm, loglik_terms, theta_score_terms


def _derivs(y, eta, family, log_theta, order=3):
    """d^k log f / d eta^k (k = 1..3) for log link."""
    mu = np.exp(eta)
    if family == "poisson":
        return y - mu, -mu, -mu
    theta = np.exp(log_theta)
    d = mu + theta
    s1 = theta * (y - mu) / d
    s2 = -theta * mu * (y + theta) / d ** 2
    if order < 3:
        return s1, s2, None
    s3 = -theta * (y + theta) * mu * (theta - mu) / d ** 3
    return s1, s2, s3


class LaplaceObjective:
    """Negative Laplace log-likelihood and its gradient; caches the conditional modes."""

    def __init__(self, y, X, offset, groups, family):
        self.yc = as_counts(y)
        self.y, self.X, self.offset, self.g, self.family = self.yc.plain(), X, offset, groups, family
        self.G = int(groups.max()) + 1
        self.p = X.shape[1]
        self.u = np.zeros(self.G)
        self.n_inner = 0

    def _split(self, par):
        beta = par[:self.p]
        if self.family == "poisson":
            return beta, None, par[self.p]
        return beta, par[self.p], par[self.p + 1]

    def _bsum(self, w):
        return np.bincount(self.g, weights=w, minlength=self.G)

    def modes(self, eta_fixed, log_theta, sigma, u0=None):
        u = self.u.copy() if u0 is None else u0.copy()
        inv_s2 = 1.0 / sigma ** 2
        for it in range(200):
            s1, s2, _ = _derivs(self.y, eta_fixed + u[self.g], self.family, log_theta, order=2)
            grad = self._bsum(s1) - u * inv_s2
            H = -self._bsum(s2) + inv_s2
            step = np.clip(grad / H, -2.0, 2.0)
            u = u + step
            if np.max(np.abs(step)) < 1e-11:
                break
        self.n_inner += it + 1
        return u

    def value_and_grad(self, par, need_grad=True):
        beta, log_theta, log_sigma = self._split(par)
        if not -50.0 < log_sigma < 50.0:   # a line search probing absurd SDs: reject without overflow
            return np.inf, np.zeros_like(par)
        sigma = np.exp(log_sigma)
        inv_s2 = np.exp(-2.0 * log_sigma)
        eta_fixed = self.X @ beta + self.offset
        if not np.all(np.isfinite(eta_fixed)) or sigma < 1e-8:
            return np.inf, np.zeros_like(par)
        u = self.modes(eta_fixed, log_theta, sigma)
        self.u = u
        y, g, X = self.y, self.g, self.X
        eta = eta_fixed + u[g]
        ll_i = loglik_terms(self.yc, eta, self.family, log_theta)
        s1, s2, s3 = _derivs(y, eta, self.family, log_theta)
        H = -self._bsum(s2) + inv_s2
        if np.any(H <= 0) or not np.all(np.isfinite(H)):
            return np.inf, np.zeros_like(par)
        ll = np.sum(ll_i) - np.sum(u ** 2) * inv_s2 / 2.0 - self.G * log_sigma - 0.5 * np.sum(np.log(H))
        if not need_grad:
            return -ll, None
        S3 = self._bsum(s3)
        half_invH = 0.5 / H
        # beta
        XS2 = np.column_stack([self._bsum(s2 * X[:, k]) for k in range(self.p)])   # G x p
        XS3 = np.column_stack([self._bsum(s3 * X[:, k]) for k in range(self.p)])   # G x p
        du_db = XS2 / H[:, None]                                                   # G x p
        dH_db = -(XS3 + S3[:, None] * du_db)
        grad_beta = X.T @ s1 - (half_invH[:, None] * dH_db).sum(axis=0)
        # log sigma
        du_ds = 2.0 * u * inv_s2 / H
        dH_ds = -S3 * du_ds - 2.0 * inv_s2
        grad_ls = np.sum(u ** 2) * inv_s2 - self.G - np.sum(half_invH * dH_ds)
        grads = [grad_beta]
        if self.family != "poisson":
            theta = np.exp(log_theta)
            mu = np.exp(eta)
            d = mu + theta
            dl_dth = theta_score_terms(self.yc, eta, log_theta)   # stable for every theta (glm.py)
            ds1_dth = mu * (y - mu) / d ** 2
            ds2_dth = -mu * (y * mu - y * theta + 2.0 * theta * mu) / d ** 3
            du_dt = theta * self._bsum(ds1_dth) / H
            dH_dt = -S3 * du_dt - theta * self._bsum(ds2_dth)
            grads.append(np.array([theta * np.sum(dl_dth) - np.sum(half_invH * dH_dt)]))
        grads.append(np.array([grad_ls]))
        return -ll, -np.concatenate(grads)

    def agq_loglik(self, par, n_agq):
        """Adaptive Gauss-Hermite log-likelihood (n_agq nodes) around the conditional modes."""
        beta, log_theta, log_sigma = self._split(par)
        sigma = np.exp(log_sigma)
        eta_fixed = self.X @ beta + self.offset
        u = self.modes(eta_fixed, log_theta, sigma)
        _, s2, _ = _derivs(self.y, eta_fixed + u[self.g], self.family, log_theta, order=2)
        H = -self._bsum(s2) + 1.0 / sigma ** 2
        scale = 1.0 / np.sqrt(H)
        nodes, weights = special.roots_hermite(n_agq)
        terms = []
        for z, w in zip(nodes, weights):
            uj = u + np.sqrt(2.0) * scale * z
            lj = (self._bsum(loglik_terms(self.yc, eta_fixed + uj[self.g], self.family, log_theta))
                  - uj ** 2 / (2 * sigma ** 2) - np.log(sigma) - 0.5 * np.log(2 * np.pi))
            terms.append(lj + np.log(w) + z ** 2)
        terms = np.array(terms)
        return float(np.sum(special.logsumexp(terms, axis=0) + np.log(np.sqrt(2.0) * scale)))


def _newton_polish(fun, par, f, g, Hm, *, max_steps, tries):
    """Newton steps ``par - t * H^-1 g`` with a fixed Hessian, accepted only if they do not raise ``fun``.

    Each step tries t = 1, 1/2, … (``tries`` values; ``tries=1``: full steps only) and stops at a gradient
    below 1e-9, a singular Hessian or a step that cannot improve. Returns (par, f, g, steps taken,
    largest coordinate move).
    """
    steps, moved = 0, 0.0
    for _ in range(max_steps):
        if np.max(np.abs(g)) < 1e-9:
            break
        try:
            step = np.linalg.solve(Hm, g)
        except np.linalg.LinAlgError:
            break
        t = 1.0
        improved = False
        for _ in range(tries):
            cand = par - t * step
            fc, gc = fun(cand)
            if np.isfinite(fc) and fc <= f + 1e-10:
                improved = True
                break
            t /= 2.0
        if not improved:
            break
        moved = max(moved, float(np.max(np.abs(cand - par))))
        par, f, g = cand, fc, gc
        steps += 1
    return par, f, g, steps, moved


def _num_hessian(fun_grad, x, h=1e-5):
    k = x.size
    Hm = np.zeros((k, k))
    for j in range(k):
        e = np.zeros(k)
        step = h * max(1.0, abs(x[j]))
        e[j] = step
        gp = fun_grad(x + e)[1]
        gm = fun_grad(x - e)[1]
        Hm[:, j] = (gp - gm) / (2 * step)
    return (Hm + Hm.T) / 2.0


def _num_hessian_values(f, x, h=1e-4):
    """Central second differences of function values (used for adaptive GHQ, which has no analytic gradient)."""
    k = x.size
    steps = h * np.maximum(1.0, np.abs(x))
    f0 = f(x)
    Hm = np.zeros((k, k))
    for i in range(k):
        ei = np.zeros(k)
        ei[i] = steps[i]
        Hm[i, i] = (f(x + ei) - 2 * f0 + f(x - ei)) / steps[i] ** 2
        for j in range(i):
            ej = np.zeros(k)
            ej[j] = steps[j]
            Hm[i, j] = Hm[j, i] = (f(x + ei + ej) - f(x + ei - ej) - f(x - ei + ej) + f(x - ei - ej)) / (
                4 * steps[i] * steps[j])
    return Hm


def _fit_glmm_once(y, X, offset, groups, family, *, n_agq, max_iter, start, hessian, stop_at_bound):
    """One GLMM fit (L-BFGS-B, Newton polish, Hessian); log theta is bounded above by ``LOG_THETA_MAX``.

    With ``stop_at_bound`` an NB2 fit whose log theta reaches the bound returns early as
    ``{"at_bound": True, "par", "loglik", "iterations", ...}`` (no Hessian): :func:`fit_glmm` then fits the
    Poisson GLMM.
    """
    obj = LaplaceObjective(y, X, offset, groups, family)
    p = X.shape[1]
    if start is None:
        # start from the GLM (on an evenly spaced subsample of at most 200,000 posts for large data)
        step = max(1, y.size // 200_000)
        glm = fit_glm(y[::step], X[::step], offset[::step], family)
        # start sigma from the spread of group-mean log residuals
        par0 = list(glm["beta"])
        if family != "poisson":
            par0.append(min(glm["log_theta"] + 0.5, 10.0))
        par0.append(np.log(0.5))
        par0 = np.array(par0, dtype=float)
    else:
        par0 = np.asarray(start, dtype=float).copy()
    bounds = None
    if family != "poisson":
        par0[p] = min(par0[p], LOG_THETA_MAX)
        bounds = [(None, None)] * p + [(None, LOG_THETA_MAX), (None, None)]

    if n_agq == 1:
        fun = obj.value_and_grad
    else:
        def fun(par):
            f = -obj.agq_loglik(par, n_agq)
            g = optimize.approx_fprime(par, lambda q: -obj.agq_loglik(q, n_agq), 1e-6)
            return f, g
    res = optimize.minimize(fun, par0, jac=True, method="L-BFGS-B", bounds=bounds,
                            options={"maxiter": max_iter, "gtol": 1e-8, "ftol": 1e-15, "maxcor": 20})
    par = res.x
    f, g = fun(par)
    iterations = int(res.nit)

    def at_bound(q):
        return family != "poisson" and q[p] >= LOG_THETA_MAX - 1e-6

    def bound_result(q, fq, gq, its):
        return {"at_bound": True, "par": q, "loglik": float(-fq), "iterations": its,
                "max_grad": float(np.max(np.abs(gq))), "n_agq": n_agq}

    if stop_at_bound and at_bound(par):
        return bound_result(par, f, g, iterations)
    if not hessian and np.max(np.abs(g)) < 1e-6:
        # log-likelihood only (the reduced model of a likelihood-ratio test), L-BFGS-B converged tightly
        return {"beta": par[:p], "log_theta": None if family == "poisson" else par[p], "log_sigma": par[-1],
                "sigma": float(np.exp(par[-1])), "loglik": float(-f), "iterations": iterations,
                "converged": True, "max_grad": float(np.max(np.abs(g))), "par": par,
                "n_agq": n_agq, "boundary": bool(par[-1] < np.log(1e-4))}
    # Newton polishing with the numerical Hessian of the analytic gradient (computed once, reused while the
    # steps shrink; recomputed at the end only if the estimates moved noticeably)
    Hm = _num_hessian(fun, par)
    par, f, g, steps, moved = _newton_polish(fun, par, f, g, Hm, max_steps=8, tries=20)
    iterations += steps
    if stop_at_bound and family != "poisson" and par[p] > LOG_THETA_MAX:
        return bound_result(par, f, g, iterations)     # a polishing step crossed the bound
    if moved > 1e-4:
        Hm = _num_hessian(fun, par)
    if n_agq > 1:
        Hm = _num_hessian_values(lambda q: -obj.agq_loglik(q, n_agq), par)
    # boundary: the random-intercept SD is estimated at (numerically) zero; the GLMM reduces to the GLM
    boundary = bool(par[-1] < np.log(1e-4))
    Hk = Hm[:-1, :-1] if boundary else Hm
    try:
        vk = np.linalg.inv(Hk)
    except np.linalg.LinAlgError:
        vk = np.full_like(Hk, np.nan)
    vcov_all = np.full_like(Hm, np.nan)
    vcov_all[:Hk.shape[0], :Hk.shape[0]] = vk
    grad_ok = np.max(np.abs(g)) < 1e-3
    pd_ok = bool(np.all(np.linalg.eigvalsh(Hk) > 0))
    beta = par[:p]
    log_theta = None if family == "poisson" else par[p]
    log_sigma = par[-1]
    obj.value_and_grad(par, need_grad=False)
    eta_fixed = X @ beta + offset
    return {"beta": beta, "vcov": vcov_all[:p, :p], "vcov_all": vcov_all, "log_theta": log_theta,
            "log_sigma": log_sigma, "sigma": 0.0 if boundary else float(np.exp(log_sigma)), "loglik": float(-f),
            "modes": obj.u.copy(), "eta_fixed": eta_fixed, "mu": np.exp(eta_fixed + obj.u[groups]),
            "iterations": iterations, "converged": bool(grad_ok and pd_ok), "max_grad": float(np.max(np.abs(g))),
            "hessian": Hm, "boundary": boundary, "n_agq": n_agq, "optimizer": res, "par": par}


def fit_glmm(y, X, offset, groups, family, *, n_agq=1, max_iter=500, start=None, hessian=True):
    """Fit the random-intercept GLMM (Poisson or NB2), with the Poisson boundary of NB2.

    Parameters
    ----------
    y, X, offset : numpy.ndarray
        Counts, fixed-effects design, offset.
    groups : numpy.ndarray
        Integer codes 0..G-1 of the subjects (random intercepts).
    family : {"poisson", "negbin"}
        Conditional distribution (log link).
    n_agq : int, default 1
        1 = Laplace, > 1 = adaptive Gauss-Hermite nodes.
    max_iter : int, default 500
        L-BFGS-B iterations.
    start : array_like, optional
        Starting ``(beta, [log theta,] log sigma)``; default from the GLM on a subsample.
    hessian : bool, default True
        False: the log-likelihood is all that is needed (the reduced model of a likelihood-ratio test); the
        Hessian is skipped when L-BFGS-B converged tightly.

    Returns
    -------
    dict
        Like :func:`toolkit.models.glm.fit_glm` (beta, vcov, log_theta, loglik, mu, iterations, converged, ...)
        plus log_sigma, sigma, modes, eta_fixed, hessian, vcov_all, boundary (the random-intercept SD at 0),
        par (the optimiser's parameter vector), and for NB2 theta, theta_at_boundary and, at that boundary,
        poisson_loglik, par_negbin and negbin_at_bound.

    Notes
    -----
    For NB2, ``log theta`` is bounded above by ``log(THETA_MAX)`` (``THETA_MAX = 1e8``, see
    :mod:`toolkit.models.glm`). If the optimiser runs to that bound, the dispersion is at its boundary
    (theta = inf): the Poisson GLMM is fitted from the NB2 estimates and the two log-likelihoods are compared.
    When the Poisson GLMM's is at least as high (up to 1e-8 relative; the NB2 value at the bound can exceed the
    limit only by O(n / THETA_MAX)), the result is the Poisson GLMM -- coefficients, standard errors,
    log-likelihood, ``converged`` -- with ``theta = inf``, ``theta_at_boundary = True`` and ``log_theta =
    log(THETA_MAX)``. Otherwise (the Poisson fit failed) the NB2 fit at the bound is completed and returned
    with ``converged = False``. The NB2 log-likelihood and its theta gradient are the stable forms of
    :func:`toolkit.models.glm.nb_loglik_terms` and :func:`toolkit.models.glm.theta_score_terms`.

    References
    ----------
    Lawless, J. F. (1987). Negative binomial and mixed Poisson regression. Canadian Journal of Statistics,
    15(3), 209-225. doi:10.2307/3314912
    """
    kw = dict(n_agq=n_agq, max_iter=max_iter, hessian=hessian)
    fit = _fit_glmm_once(y, X, offset, groups, family, start=start, stop_at_bound=True, **kw)
    if family == "poisson":
        return fit
    if not fit.get("at_bound"):
        fit.update(theta=float(np.exp(fit["log_theta"])), theta_at_boundary=False)
        return fit
    p = X.shape[1]
    par = fit["par"]
    pois = _fit_glmm_once(y, X, offset, groups, "poisson", start=np.r_[par[:p], par[p + 1:]],
                          stop_at_bound=False, **kw)
    if pois["loglik"] >= fit["loglik"] - 1e-8 * (1.0 + abs(fit["loglik"])):
        out = dict(pois)
        out.update(log_theta=LOG_THETA_MAX, theta=np.inf, theta_at_boundary=True, poisson_loglik=pois["loglik"],
                   par_negbin=np.r_[pois["par"][:p], LOG_THETA_MAX, pois["par"][p:]],
                   negbin_at_bound={"loglik": fit["loglik"], "log_theta": float(par[p]),
                                    "max_grad": fit["max_grad"]},
                   iterations=fit["iterations"] + pois["iterations"])
        return out
    # the Poisson GLMM ended below the NB2 fit at the bound (an optimisation failure): finish the NB2 fit there
    nb = _fit_glmm_once(y, X, offset, groups, family, start=par, stop_at_bound=False, **kw)
    nb.update(theta=float(np.exp(nb["log_theta"])), theta_at_boundary=False, converged=False)
    return nb
