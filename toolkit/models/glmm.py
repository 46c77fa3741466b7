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


def fit_glmm(y, X, offset, groups, family, *, n_agq=1, max_iter=500, start=None, hessian=True, Xz=None):
    """Fit a random-intercept GLMM (Poisson, NB2 or with a zero part), with the Poisson boundary of NB2.

    Parameters
    ----------
    y, X, offset : numpy.ndarray
        Counts, fixed-effects design, offset.
    groups : numpy.ndarray or list of numpy.ndarray
        Integer codes 0..G-1 of the subjects (one random intercept term), or a list of such code arrays, one per
        random-intercept term (crossed, e.g. ``(1|BROOD) + (1|LOCATION)``, or nested, e.g. ``(1|org) +
        (1|org:account)`` with the caller's codes of the org:account combinations).
    family : {"poisson", "negbin", "zinb", "zip", "hurdle_negbin", "hurdle_poisson"}
        Conditional distribution (log link); the zero families as in :mod:`toolkit.models.zero` (random
        intercepts in the count part only, as glmmTMB's ``ziformula`` without random terms).
    n_agq : int, default 1
        1 = Laplace, > 1 = adaptive Gauss-Hermite nodes (one random-intercept term without zero part only).
    max_iter : int, default 500
        L-BFGS-B iterations.
    start : array_like, optional
        Starting ``(beta, [log theta,] log sigma)``; default from the GLM on a subsample.
    hessian : bool, default True
        False: the log-likelihood is all that is needed (the reduced model of a likelihood-ratio test); the
        Hessian is skipped when L-BFGS-B converged tightly.
    Xz : numpy.ndarray, optional
        Zero-part design (n x q, intercept column included) for the zero families; default the intercept only.

    Returns
    -------
    dict
        Like :func:`toolkit.models.glm.fit_glm` (beta, vcov, log_theta, loglik, mu, iterations, converged, ...)
        plus log_sigma, sigma, modes, eta_fixed, hessian, vcov_all, boundary (the random-intercept SD at 0),
        par (the optimiser's parameter vector ``(beta, [gamma,] [log theta,] log sigma...)``), and for NB2 theta,
        theta_at_boundary and, at that boundary, poisson_loglik, par_negbin and negbin_at_bound. With a list of
        terms ``log_sigma``, ``sigma`` and ``boundary`` are arrays (one per term, in the given order) and
        ``modes`` a list of arrays; ``vcov_all`` is over ``par``. Zero families add zero_beta, zero_vcov,
        zero_coef, zero_se (arrays) and extra_params (the number of zero-part coefficients).

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
    several = isinstance(groups, (list, tuple))
    if several or Xz is not None or family not in ("poisson", "negbin"):
        from .zero import ZERO_FAMILIES
        if family not in ("poisson", "negbin") and family not in ZERO_FAMILIES:
            raise ValueError(f"fit_glmm: family must be 'poisson', 'negbin' or one of {sorted(ZERO_FAMILIES)}, "
                             f"got {family!r}")
        if n_agq != 1:
            raise ValueError("fit_glmm: adaptive Gauss-Hermite quadrature (n_agq > 1) is available for one "
                             "random-intercept term without zero part only (as in lme4 and glmmTMB); with several "
                             "terms or a zero part use n_agq=1 (Laplace).")
        terms = [np.asarray(g) for g in groups] if several else [np.asarray(groups)]
        if not terms:
            raise ValueError("fit_glmm: `groups` is an empty list; give at least one random-intercept term.")
        for k, g in enumerate(terms):
            if g.ndim != 1 or g.size != len(y) or not np.issubdtype(g.dtype, np.integer) or g.min() < 0:
                raise ValueError(
                    f"fit_glmm: random-intercept term {k} must be a 1-D array of integer codes 0..G-1, one per "
                    f"row (got shape {g.shape}, dtype {g.dtype}). Only random intercepts are fitted: a random "
                    "slope (x|g) is not available; build codes with pandas.factorize.")
        if Xz is not None and family not in ZERO_FAMILIES:
            raise ValueError(f"fit_glmm: `Xz` (a zero-part design) needs a zero family, got family={family!r}.")
        if several and len(terms) == 1 and family in ("poisson", "negbin") and Xz is None:
            # one term given as a list: the factorised engine, results in the list layout
            out = fit_glmm(y, X, offset, terms[0], family, n_agq=n_agq, max_iter=max_iter, start=start,
                           hessian=hessian)
            out.update(log_sigma=np.atleast_1d(out["log_sigma"]), sigma=np.atleast_1d(out["sigma"]),
                       boundary=np.atleast_1d(out["boundary"]))
            if "modes" in out:
                out["modes"] = [out["modes"]]
            return out
        return _fit_joint(y, X, offset, terms, family, Xz, max_iter=max_iter, start=start, hessian=hessian,
                          single=not several)
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


# ------------------------------------------------------------------ several random intercepts, zero parts
#: The dense part of the joint Hessian (all random effects but the largest term's) is factorised by dense
#: Cholesky; beyond this many levels the engine refuses (see :class:`JointLaplace`).
MAX_DENSE_LEVELS = 4000


class JointLaplace:
    """Negative Laplace log-likelihood and gradient for several random intercepts and/or a zero part.

    Model: ``eta = X beta + offset + sum_k u_k[g_k]``, ``u_k ~ N(0, sigma_k^2 I)``, zero part ``zeta = Xz gamma``,
    ``y | u`` from :func:`toolkit.models.zero.obs_derivs` (Poisson, NB2, ZIP, ZINB, hurdle). Parameter vector
    ``(beta, gamma, [log theta], log sigma_1..K)``.

    The joint Hessian of the random effects, ``H = Z'WZ + Lambda`` (``W = -d^2 log f / d eta^2``,
    ``Lambda = diag(1/sigma_k^2)``), is block-structured: each term's own block ``Z_k'WZ_k`` is diagonal (a row
    belongs to one level of each term). The largest term (e.g. the accounts of a nested model) is eliminated
    through its diagonal block; the Schur complement ``S = R - C' D^-1 C`` over the other terms' levels (``C`` the
    cross block, sparse) is dense and factorised by Cholesky. So ``log det H = sum log D + log det S`` and every
    solve costs O(levels of the largest term x rest + rest^2) -- the largest term may have any number of levels,
    the others together at most :data:`MAX_DENSE_LEVELS`.

    The gradient is analytic: envelope theorem for the log joint density, and for ``-1/2 log det H`` the
    implicit derivatives of the modes ``du/dpsi = H^-1 d(score_u)/dpsi`` with
    ``d log det H / dpsi = sum_i h_i dW_i/dpsi + tr(H^-1 dLambda/dpsi)``, ``h_i = z_i' H^-1 z_i`` (from the block
    inverse: ``1/D_a + v_i' S^-1 v_i``, ``v_i = zr_i - C'e_a / D_a``).
    """

    def __init__(self, y, X, offset, groups, family, Xz=None):
        from .zero import ZERO_FAMILIES
        self.yc = as_counts(y)
        self.X, self.offset, self.family = X, offset, family
        self.n, self.p = X.shape
        self.Xz = Xz
        self.qz = 0 if Xz is None else Xz.shape[1]
        base = ZERO_FAMILIES.get(family, family)
        self.has_theta = base == "negbin"
        self.K = len(groups)
        self.G = np.array([int(g.max()) + 1 for g in groups])
        # internal order: the largest term first (eliminated through its diagonal block), the others after it
        self.order = [int(np.argmax(self.G))] + [k for k in range(self.K) if k != int(np.argmax(self.G))]
        self.codes = [np.asarray(groups[k], dtype=np.int64) for k in self.order]
        Gs = self.G[self.order]
        self.G1 = int(Gs[0])
        self.offs = np.r_[0, np.cumsum(Gs)]
        self.q = int(self.offs[-1])
        self.q2 = self.q - self.G1
        if self.q2 > MAX_DENSE_LEVELS:
            raise ValueError(
                f"fit_glmm: the random-intercept terms other than the largest have {self.q2} levels together; at "
                f"most {MAX_DENSE_LEVELS} are supported (their joint Hessian is factorised densely). Use fewer or "
                "coarser crossed grouping columns (nested terms are fine: the largest term may have any number "
                "of levels).")
        from scipy import sparse
        rows = np.repeat(np.arange(self.n), self.K)
        cols = np.column_stack([c + self.offs[j] for j, c in enumerate(self.codes)]).ravel()
        self.Z = sparse.csr_matrix((np.ones(rows.size), (rows, cols)), shape=(self.n, self.q))
        self.Zt = self.Z.T.tocsr()
        self.g1 = self.codes[0]
        self.rest = [c + self.offs[j] - self.G1 for j, c in enumerate(self.codes) if j > 0]   # columns in 0..q2-1
        if self.q2:
            # cross block C (G1 x q2) and rest block R (q2 x q2) as bincounts over fixed index patterns
            self.c_index = np.concatenate([self.g1 * self.q2 + r for r in self.rest])
            self.r_index = np.concatenate([r * self.q2 + s for r in self.rest for s in self.rest])
            # many levels on both sides: the cross block as a sparse matrix (its pattern fixed, its values per call)
            self.c_sparse = self.G1 * self.q2 > 250_000
            if self.c_sparse:
                keys, self.c_inv = np.unique(self.c_index, return_inverse=True)
                self.c_indices = (keys % self.q2).astype(np.int32)
                self.c_indptr = np.r_[0, np.cumsum(np.bincount(keys // self.q2, minlength=self.G1))]
        self.u = np.zeros(self.q)
        self.n_inner = 0
        # per-term slices of the internal random-effect vector
        self.slices = [slice(self.offs[j], self.offs[j + 1]) for j in range(self.K)]

    # ---- parameter layout
    def split(self, par):
        p, qz = self.p, self.qz
        beta = par[:p]
        gamma = par[p:p + qz]
        lt = par[p + qz] if self.has_theta else None
        log_sigma = par[len(par) - self.K:]
        return beta, gamma, lt, log_sigma

    def lam_vector(self, log_sigma):
        ls = np.asarray(log_sigma)[self.order]
        return np.repeat(np.exp(-2.0 * ls), self.G[self.order])

    # ---- linear algebra with the block structure
    def factor(self, W, lam):
        D = np.bincount(self.g1, weights=W, minlength=self.G1) + lam[:self.G1]
        if np.any(D <= 0) or not np.all(np.isfinite(D)):
            return None
        if not self.q2:
            return {"D": D, "logdet": float(np.sum(np.log(D)))}
        nr = len(self.rest)
        R = np.bincount(self.r_index, weights=np.tile(W, nr * nr), minlength=self.q2 ** 2).reshape(self.q2, self.q2)
        R[np.diag_indices(self.q2)] += lam[self.G1:]
        if self.c_sparse:
            from scipy import sparse
            data = np.bincount(self.c_inv, weights=np.tile(W, nr))
            C = sparse.csr_matrix((data, self.c_indices, self.c_indptr), shape=(self.G1, self.q2))
            P = sparse.csr_matrix((data / np.repeat(D, np.diff(self.c_indptr)), self.c_indices, self.c_indptr),
                                  shape=(self.G1, self.q2))
            S = R - (C.T @ P).toarray()
        else:
            C = np.bincount(self.c_index, weights=np.tile(W, nr),
                            minlength=self.G1 * self.q2).reshape(self.G1, self.q2)
            P = C / D[:, None]
            S = R - C.T @ P
        try:
            L = np.linalg.cholesky(S)
        except np.linalg.LinAlgError:
            return None
        return {"D": D, "C": C, "P": P, "L": L,
                "logdet": float(np.sum(np.log(D)) + 2.0 * np.sum(np.log(np.diag(L))))}

    def solve(self, F, r):
        """``H^-1 r`` (r: q or q x m) from the factorisation ``F``."""
        D = F["D"]
        r1, r2 = r[:self.G1], r[self.G1:]
        if not self.q2:
            return r1 / (D if r.ndim == 1 else D[:, None])
        from scipy.linalg import cho_solve
        x2 = cho_solve((F["L"], True), r2 - F["P"].T @ r1)
        x1 = (r1 - F["C"] @ x2) / (D if r.ndim == 1 else D[:, None])
        return np.concatenate([x1, x2])

    def leverages(self, F):
        """``h_i = z_i' H^-1 z_i`` per observation and the diagonal of ``H^-1``."""
        D = F["D"]
        h = 1.0 / D[self.g1]
        diag = 1.0 / D
        if not self.q2:
            return h, diag
        from scipy.linalg import cho_solve
        M = cho_solve((F["L"], True), np.eye(self.q2))
        Q = F["P"] @ M                                          # G1 x q2
        if self.c_sparse:
            t3 = np.asarray(F["P"].multiply(Q).sum(axis=1)).ravel()
        else:
            t3 = np.einsum("ij,ij->i", Q, F["P"])
        h = h + t3[self.g1]
        for r in self.rest:
            h = h - 2.0 * Q[self.g1, r]
            for s in self.rest:
                h = h + M[r, s]
        return h, np.concatenate([diag + t3, np.diag(M)])

    # ---- the inner problem
    def derivs(self, eta, zeta, lt, full=True):
        from .zero import obs_derivs
        return obs_derivs(self.yc, eta, zeta, self.family, lt, full=full)

    def modes(self, eta_fixed, zeta, lt, lam, u0=None):
        """Joint conditional modes by damped Newton (None when no finite start or step exists)."""
        u = self.u.copy() if u0 is None else u0.copy()
        d = self.derivs(eta_fixed + self.Z @ u, zeta, lt, full=False)
        f_old = float(np.sum(d["ll"]) - 0.5 * np.sum(lam * u * u))
        if not np.isfinite(f_old):
            return None
        for it in range(200):
            grad = self.Zt @ d["l1"] - lam * u
            W = -d["l2"]
            F = self.factor(W, lam)
            if F is None:                                # not concave here (zero part): a positive-weight step
                F = self.factor(np.maximum(W, 0.0), lam)
            if F is None or not np.all(np.isfinite(grad)):
                return None
            step = self.solve(F, grad)
            big = np.max(np.abs(step))
            if big > 2.0:
                step *= 2.0 / big
            t = 1.0
            for _ in range(40):
                cand = u + t * step
                dc = self.derivs(eta_fixed + self.Z @ cand, zeta, lt, full=False)
                f_new = float(np.sum(dc["ll"]) - 0.5 * np.sum(lam * cand * cand))
                if np.isfinite(f_new) and f_new >= f_old - 1e-12 * abs(f_old):
                    break
                t /= 2.0
            else:
                break
            u, d, f_old = cand, dc, f_new
            if np.max(np.abs(t * step)) < 1e-11:
                break
        self.n_inner += it + 1
        return u

    def value_and_grad(self, par, need_grad=True):
        beta, gamma, lt, log_sigma = self.split(par)
        if not np.all((-50.0 < log_sigma) & (log_sigma < 50.0)):
            return np.inf, np.zeros_like(par)
        lam = self.lam_vector(log_sigma)
        eta_fixed = self.X @ beta + self.offset
        zeta = None if self.Xz is None else self.Xz @ gamma
        if not np.all(np.isfinite(eta_fixed)) or np.max(eta_fixed) > 700:
            return np.inf, np.zeros_like(par)
        with np.errstate(over="ignore", under="ignore", invalid="ignore", divide="ignore"):
            u = self.modes(eta_fixed, zeta, lt, lam)
            if u is None and np.any(self.u != 0):        # the cached modes were a bad start: from 0
                u = self.modes(eta_fixed, zeta, lt, lam, u0=np.zeros(self.q))
            if u is None:
                return np.inf, np.zeros_like(par)
            eta = eta_fixed + self.Z @ u
            d = self.derivs(eta, zeta, lt)
            F = self.factor(-d["l2"], lam)
        if F is None or not np.all(np.isfinite(d["ll"])) or np.max(d["ll"]) > 1e-9:
            return np.inf, np.zeros_like(par)            # (a pmf is <= 1: a positive term is overflow, rejected)
        self.u = u
        ls_int = np.asarray(log_sigma)[self.order]
        Gs = self.G[self.order]
        ll = (np.sum(d["ll"]) - 0.5 * np.sum(lam * u * u) - float(np.sum(Gs * ls_int)) - 0.5 * F["logdet"])
        if not need_grad:
            return -ll, None
        h, hdiag = self.leverages(F)
        # columns: beta, gamma, [log theta] (per-observation partials of ll, l1, l2), then log sigma_k
        A0, A1, A2 = [self.X * d["l1"][:, None]], [self.X * d["l2"][:, None]], [self.X * d["l3"][:, None]]
        if self.qz:
            A0.append(self.Xz * d["z0"][:, None])
            A1.append(self.Xz * d["z1"][:, None])
            A2.append(self.Xz * d["z2"][:, None])
        if self.has_theta:
            A0.append(d["t0"][:, None])
            A1.append(d["t1"][:, None])
            A2.append(d["t2"][:, None])
        A0, A1, A2 = np.hstack(A0), np.hstack(A1), np.hstack(A2)
        m = A0.shape[1]
        rhs = np.zeros((self.q, m + self.K))
        rhs[:, :m] = self.Zt @ A1
        for j, sl in enumerate(self.slices):
            rhs[sl, m + j] = 2.0 * lam[sl] * u[sl]
        du = self.solve(F, rhs)
        zdu = self.Z @ du                                        # n x (m + K)
        hl3 = h * d["l3"]
        grad = np.empty(m + self.K)
        grad[:m] = A0.sum(axis=0) + 0.5 * (h @ A2 + hl3 @ zdu[:, :m])
        for j, sl in enumerate(self.slices):
            lam_j = lam[sl][0]
            grad[m + j] = (lam_j * np.sum(u[sl] ** 2) - Gs[j] + 0.5 * hl3 @ zdu[:, m + j]
                           + lam_j * np.sum(hdiag[sl]))
        # back to the caller's order of the terms
        out = grad.copy()
        for j, k in enumerate(self.order):
            out[m + k] = grad[m + j]
        return -ll, -out

    def modes_by_term(self):
        """The conditional modes as a list in the caller's term order."""
        res = [None] * self.K
        for j, k in enumerate(self.order):
            res[k] = self.u[self.slices[j]].copy()
        return res


def _start_joint(y, X, offset, family, Xz, K):
    from .zero import ZERO_FAMILIES, start_values
    step = max(1, y.size // 200_000)
    if family in ZERO_FAMILIES:
        par = list(start_values(y[::step], X[::step], offset[::step], family, None if Xz is None else Xz[::step]))
        if ZERO_FAMILIES[family] == "negbin":
            par[-1] = min(par[-1] + 0.5, 10.0)
    else:
        glm = fit_glm(y[::step], X[::step], offset[::step], family)
        par = list(glm["beta"])
        if family != "poisson":
            par.append(min(glm["log_theta"] + 0.5, 10.0))
    return np.array(par + [np.log(0.5)] * K, dtype=float)


def _fit_joint_once(y, X, offset, groups, family, Xz, *, max_iter, start, hessian, stop_at_bound):
    """One fit of :class:`JointLaplace` (L-BFGS-B, Newton polish, Hessian); the twin of :func:`_fit_glmm_once`."""
    obj = JointLaplace(y, X, offset, groups, family, Xz)
    p, qz, K = X.shape[1], obj.qz, obj.K
    it_theta = p + qz if obj.has_theta else None
    par0 = _start_joint(y, X, offset, family, Xz, K) if start is None else np.asarray(start, dtype=float).copy()
    bounds = [(None, None)] * (p + qz) + ([(None, LOG_THETA_MAX)] if obj.has_theta else []) + [(-20.0, 20.0)] * K
    if obj.has_theta:
        par0[it_theta] = min(par0[it_theta], LOG_THETA_MAX)
    par0[-K:] = np.clip(par0[-K:], -20.0, 20.0)
    fun = obj.value_and_grad
    res = optimize.minimize(fun, par0, jac=True, method="L-BFGS-B", bounds=bounds,
                            options={"maxiter": max_iter, "gtol": 1e-8, "ftol": 1e-15, "maxcor": 20})
    par = res.x
    f, g = fun(par)
    iterations = int(res.nit)

    def at_bound(q):
        return obj.has_theta and q[it_theta] >= LOG_THETA_MAX - 1e-6

    def bound_result(q, fq, gq, its):
        return {"at_bound": True, "par": q, "loglik": float(-fq), "iterations": its,
                "max_grad": float(np.max(np.abs(gq))), "n_agq": 1}

    if stop_at_bound and at_bound(par):
        return bound_result(par, f, g, iterations)
    boundary = par[-K:] < np.log(1e-4)
    free = np.r_[np.ones(len(par) - K, dtype=bool), ~boundary]
    if not hessian and np.max(np.abs(g[free])) < 1e-6:
        return {"loglik": float(-f), "par": par, "iterations": iterations, "converged": True,
                "max_grad": float(np.max(np.abs(g[free]))), "n_agq": 1, "boundary_terms": boundary, "obj": obj}
    Hm = _num_hessian(fun, par)
    if np.any(boundary):   # polish only the free parameters (a variance at 0 stays on its bound)
        def fun_free(v):
            full = par.copy()
            full[free] = v
            fv, gv = fun(full)
            return fv, gv[free]
        v, f, gf, steps, moved = _newton_polish(fun_free, par[free], f, g[free], Hm[np.ix_(free, free)],
                                                max_steps=8, tries=20)
        par = par.copy()
        par[free] = v
        f, g = fun(par)
    else:
        par, f, g, steps, moved = _newton_polish(fun, par, f, g, Hm, max_steps=8, tries=20)
    iterations += steps
    if stop_at_bound and obj.has_theta and par[it_theta] > LOG_THETA_MAX:
        return bound_result(par, f, g, iterations)
    if moved > 1e-4:
        Hm = _num_hessian(fun, par)
    Hk = Hm[np.ix_(free, free)]
    try:
        vk = np.linalg.inv(Hk)
    except np.linalg.LinAlgError:
        vk = np.full_like(Hk, np.nan)
    vcov_all = np.full_like(Hm, np.nan)
    vcov_all[np.ix_(free, free)] = vk
    grad_ok = np.max(np.abs(g[free])) < 1e-3
    pd_ok = bool(np.all(np.linalg.eigvalsh(Hk) > 0))
    fun(par)   # leaves the modes at the estimates
    return {"par": par, "loglik": float(-f), "vcov_all": vcov_all, "hessian": Hm, "iterations": iterations,
            "converged": bool(grad_ok and pd_ok), "max_grad": float(np.max(np.abs(g[free]))), "n_agq": 1,
            "boundary_terms": boundary, "optimizer": res, "obj": obj}


def _joint_result(fit, X, offset, family, Xz, single):
    """The result dict of a :class:`JointLaplace` fit (same keys as :func:`_fit_glmm_once`, arrays per term)."""
    obj = fit.pop("obj")
    par = fit["par"]
    p, qz, K = X.shape[1], obj.qz, obj.K
    beta, gamma, lt, log_sigma = obj.split(par)
    boundary = fit["boundary_terms"]
    sigma = np.where(boundary, 0.0, np.exp(log_sigma))
    modes = obj.modes_by_term()
    eta_fixed = X @ beta + offset
    out = dict(fit)
    out.update(beta=beta, log_theta=lt, log_sigma=log_sigma.copy(), sigma=sigma, modes=modes, eta_fixed=eta_fixed,
               mu=np.exp(eta_fixed + obj.Z @ obj.u), boundary=boundary, family=family,
               n_inner=obj.n_inner)
    del out["boundary_terms"]
    if "vcov_all" in out:
        out["vcov"] = out["vcov_all"][:p, :p]
    if qz:
        out.update(zero_beta=gamma, zero_vcov=out["vcov_all"][p:p + qz, p:p + qz] if "vcov_all" in out else None,
                   extra_params=qz)
        if "vcov_all" in out:
            out.update(zero_coef=gamma, zero_se=np.sqrt(np.diag(out["zero_vcov"])))
    if single:
        out.update(log_sigma=float(log_sigma[0]), sigma=float(sigma[0]), modes=modes[0], boundary=bool(boundary[0]))
    return out


def _standardiser(X):
    """``A`` (p x p) with ``X @ A`` centred (when X has a constant column) and scaled to unit SD per column."""
    p = X.shape[1]
    A = np.eye(p)
    if p == 0:
        return A
    sd = X.std(axis=0)
    const = np.flatnonzero((sd == 0) & (X[0] != 0))
    c = const[0] if const.size else None
    for j in range(p):
        if sd[j] == 0:
            continue
        A[j, j] = 1.0 / sd[j]
        if c is not None:
            A[c, j] = -X[:, j].mean() / (sd[j] * X[0, c])
    return A


def _fit_joint(y, X, offset, groups, family, Xz, *, max_iter, start, hessian, single):
    """Centred and scaled designs (better-conditioned optimisation and Hessian), results on the original scale."""
    A = _standardiser(X)
    Az = None if Xz is None else _standardiser(Xz)
    p, qz = X.shape[1], 0 if Xz is None else Xz.shape[1]

    def T(k):   # par (original) = T @ par (standardised); k = length of par
        M = np.eye(k)
        M[:p, :p] = A
        if qz:
            M[p:p + qz, p:p + qz] = Az
        return M
    if start is not None:
        start = np.linalg.solve(T(len(start)), np.asarray(start, dtype=float))
    out = _fit_joint_std(y, X @ A, offset, groups, family, None if Xz is None else Xz @ Az, max_iter=max_iter,
                         start=start, hessian=hessian, single=single)
    Tm = T(len(out["par"]))
    out["par"] = Tm @ out["par"]
    if "par_negbin" in out:
        out["par_negbin"] = T(len(out["par_negbin"])) @ out["par_negbin"]
    out["beta"] = out["par"][:p]
    if qz:
        out["zero_beta"] = out["par"][p:p + qz]
    if "vcov_all" in out:
        nan = np.isnan(out["vcov_all"])        # rows of variances at 0 (T is the identity there)
        out["vcov_all"] = Tm @ np.where(nan, 0.0, out["vcov_all"]) @ Tm.T
        out["vcov_all"][nan] = np.nan
        Ti = np.linalg.inv(Tm)
        out["hessian"] = Ti.T @ out["hessian"] @ Ti
        out["vcov"] = out["vcov_all"][:p, :p]
        if qz:
            out["zero_vcov"] = out["vcov_all"][p:p + qz, p:p + qz]
            out.update(zero_coef=out["zero_beta"], zero_se=np.sqrt(np.diag(out["zero_vcov"])))
    out["eta_fixed"] = X @ out["beta"] + offset
    return out


def _fit_joint_std(y, X, offset, groups, family, Xz, *, max_iter, start, hessian, single):
    """Several random intercepts and/or a zero part, with the Poisson boundary of NB2 as in :func:`fit_glmm`."""
    from .zero import POISSON_LIMIT
    kw = dict(max_iter=max_iter, hessian=hessian)
    fit = _fit_joint_once(y, X, offset, groups, family, Xz, start=start, stop_at_bound=True, **kw)
    has_theta = family in POISSON_LIMIT
    if not fit.get("at_bound"):
        out = _joint_result(fit, X, offset, family, Xz, single)
        if has_theta:
            out.update(theta=float(np.exp(out["log_theta"])), theta_at_boundary=False)
        return out
    k = X.shape[1] + (0 if Xz is None else Xz.shape[1])      # index of log theta
    par = fit["par"]
    pois = _fit_joint_once(y, X, offset, groups, POISSON_LIMIT[family], Xz, start=np.r_[par[:k], par[k + 1:]],
                           stop_at_bound=False, **kw)
    if pois["loglik"] >= fit["loglik"] - 1e-8 * (1.0 + abs(fit["loglik"])):
        out = _joint_result(pois, X, offset, POISSON_LIMIT[family], Xz, single)
        out.update(family=family, log_theta=LOG_THETA_MAX, theta=np.inf, theta_at_boundary=True,
                   poisson_loglik=pois["loglik"], par_negbin=np.r_[pois["par"][:k], LOG_THETA_MAX, pois["par"][k:]],
                   negbin_at_bound={"loglik": fit["loglik"], "log_theta": float(par[k]), "max_grad": fit["max_grad"]},
                   iterations=fit["iterations"] + pois["iterations"])
        return out
    nb = _fit_joint_once(y, X, offset, groups, family, Xz, start=par, stop_at_bound=False, **kw)
    out = _joint_result(nb, X, offset, family, Xz, single)
    out.update(theta=float(np.exp(out["log_theta"])), theta_at_boundary=False, converged=False)
    return out
