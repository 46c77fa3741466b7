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
"""
from __future__ import annotations

import numpy as np
from scipy import optimize, special

from .glm import as_counts, fit_glm, loglik_terms


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
            dl_dth = (self.yc.fn_plus(special.digamma, theta) - special.digamma(theta) + log_theta - np.log(d)
                      + 1.0 - (y + theta) / d)
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


def fit_glmm(y, X, offset, groups, family, *, n_agq=1, max_iter=500, start=None, hessian=True):
    """Fit the random-intercept GLMM. Returns a dict like :func:`fit_glm` plus sigma and the modes."""
    obj = LaplaceObjective(y, X, offset, groups, family)
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
        par0 = np.asarray(start, dtype=float)

    if n_agq == 1:
        fun = obj.value_and_grad
    else:
        def fun(par):
            f = -obj.agq_loglik(par, n_agq)
            g = optimize.approx_fprime(par, lambda q: -obj.agq_loglik(q, n_agq), 1e-6)
            return f, g
    res = optimize.minimize(fun, par0, jac=True, method="L-BFGS-B",
                            options={"maxiter": max_iter, "gtol": 1e-8, "ftol": 1e-15, "maxcor": 20})
    par = res.x
    f, g = fun(par)
    iterations = int(res.nit)
    if not hessian and np.max(np.abs(g)) < 1e-6:
        # log-likelihood only (the reduced model of a likelihood-ratio test), L-BFGS-B converged tightly
        p = X.shape[1]
        return {"beta": par[:p], "log_theta": None if family == "poisson" else par[p], "log_sigma": par[-1],
                "sigma": float(np.exp(par[-1])), "loglik": float(-f), "iterations": iterations,
                "converged": True, "max_grad": float(np.max(np.abs(g))), "par": par,
                "n_agq": n_agq, "boundary": bool(par[-1] < np.log(1e-4))}
    # Newton polishing with the numerical Hessian of the analytic gradient (computed once, reused while the
    # steps shrink; recomputed at the end only if the estimates moved noticeably)
    Hm = _num_hessian(fun, par)
    par, f, g, steps, moved = _newton_polish(fun, par, f, g, Hm, max_steps=8, tries=20)
    iterations += steps
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
    p = X.shape[1]
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
