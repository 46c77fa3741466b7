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

Several random terms (crossed or nested intercepts, random slopes ``(1 + x | g)``) and zero-inflated / hurdle
GLMMs (a zero part with predictors, :mod:`toolkit.models.zero`) no longer factorise: :class:`JointLaplace` finds the
joint mode of all random effects and the log determinant of their joint Hessian by eliminating the largest term
through its block-diagonal Hessian block and factorising the (dense) Schur complement of the others, with an
analytic gradient; see its docstring.

NB2: ``log theta`` is bounded above by ``log(1e8)`` (``glm.THETA_MAX``). If the optimiser runs to that bound the
dispersion is at its Poisson boundary and :func:`fit_glmm` fits and, when its log-likelihood is at least as high,
reports the Poisson GLMM with ``theta = inf``. The NB2 log-likelihood and its theta gradient use the forms of
:mod:`toolkit.models.glm` that are accurate for every theta.
"""
from __future__ import annotations

import numpy as np
from scipy import optimize, special

from .._validation import message
from ._optim import _newton_polish, _num_hessian, _num_hessian_values  # also used by zero.py
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


def _check_term(g, k, n):
    """One random term: integer codes (a random intercept) or ``(codes, Zk)`` with Zk n x 1 or n x 2."""
    if isinstance(g, tuple):
        if len(g) != 2:
            raise ValueError(message("fit_glmm", "groups", f"a list whose entry {k} is integer codes or a pair "
                                     "(codes, Zk)", f"a tuple of length {len(g)}"))
        codes, Zk = _check_term(g[0], k, n), np.asarray(g[1], dtype=float)
        Zk = Zk[:, None] if Zk.ndim == 1 else Zk
        if Zk.ndim != 2 or Zk.shape[0] != n or not 1 <= Zk.shape[1] <= MAX_TERM_COLUMNS or not np.all(
                np.isfinite(Zk)):
            raise ValueError(message(
                "fit_glmm", "groups", f"a list whose entry {k} has columns Zk as a finite n x 1 or n x 2 array (an "
                "intercept column of ones and/or one slope variable)", f"shape {Zk.shape}",
                "Random terms with more than two correlated columns are not available: split them into "
                "independent terms, e.g. (1 + x | g) + (0 + z | g)."))
        return codes, Zk
    g = np.asarray(g)
    if g.ndim != 1 or g.size != n or not np.issubdtype(g.dtype, np.integer) or (g.size and g.min() < 0):
        raise ValueError(message(
            "fit_glmm", "groups", f"integer codes 0..G-1 (a 1-D array, one per row) for random term {k}, or a pair "
            "(codes, Zk) for a random slope", f"shape {g.shape}, dtype {g.dtype}",
            "Build codes with pandas.factorize."))
    return g


def fit_glmm(y, X, offset, groups, family, *, n_agq=1, max_iter=500, start=None, hessian=True, Xz=None):
    """Fit a random-intercept GLMM (Poisson, NB2 or with a zero part), with the Poisson boundary of NB2.

    Parameters
    ----------
    y, X, offset : numpy.ndarray
        Counts, fixed-effects design, offset.
    groups : numpy.ndarray or list
        Integer codes 0..G-1 of the subjects (one random intercept term), or a list with one entry per random
        term: integer codes (a random intercept; crossed, e.g. ``(1|BROOD) + (1|LOCATION)``, or nested, e.g.
        ``(1|org) + (1|org:account)`` with the caller's codes of the org:account combinations), or a pair
        ``(codes, Zk)`` with ``Zk`` the term's columns, n x 1 (``(0 + x | g)``: ``Zk = x``) or n x 2 (``(1 + x |
        g)``: ``Zk = [1, x]``, correlated intercept and slope with glmmTMB's parameterisation ``log sd_1, log sd_2,
        c``, ``rho = c / sqrt(1 + c^2)``). Independent intercept and slope (glmmTMB's ``diag(1 + x | g)``) are two
        entries ``codes`` and ``(codes, x)``.
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
        terms ``log_sigma``, ``sigma`` (the SD of each term's first column) and ``boundary`` are arrays (one per
        term, in the given order), ``re_sd`` (arrays of SDs per term) and ``re_corr`` (the intercept-slope
        correlation, NaN for one-column terms) describe the covariances, and ``modes`` is a list of arrays (G x 2
        for two-column terms); ``vcov_all`` is over ``par``. ``boundary[k]`` is True when an SD of term k is at 0
        or its correlation at +-1 (``|c|`` at ``CORR_PARAM_BOUND``): those parameters are held at the boundary and
        their rows of ``vcov_all`` are NaN, as for an SD at 0. Zero families add zero_beta, zero_vcov,
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
            raise ValueError(message("fit_glmm", "family", f"'poisson', 'negbin' or one of {sorted(ZERO_FAMILIES)}",
                                     family))
        if n_agq != 1:
            raise ValueError(message("fit_glmm", "n_agq", "1 (Laplace) with several random terms, a random slope "
                                     "or a zero part", n_agq, "Adaptive Gauss-Hermite quadrature (n_agq > 1) is "
                                     "available for one random-intercept term without zero part only (as in lme4 "
                                     "and glmmTMB)."))
        terms = [_check_term(g, k, len(y)) for k, g in enumerate(groups)] if several else [
            _check_term(groups, 0, len(y))]
        if not terms:
            raise ValueError(message("fit_glmm", "groups", "at least one random term", "an empty list"))
        if Xz is not None and family not in ZERO_FAMILIES:
            raise ValueError(message("fit_glmm", "Xz", f"None with family={family!r}", "a zero-part design",
                                     "A zero-part design needs a zero family: 'zinb', 'zip', 'hurdle_negbin' or "
                                     "'hurdle_poisson'."))
        if several and len(terms) == 1 and family in ("poisson", "negbin") and Xz is None and \
                not isinstance(terms[0], tuple):
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


# ------------------------------------------------------------------ several random terms, zero parts
#: The dense part of the joint Hessian (all random effects but the largest term's) is factorised by dense
#: Cholesky; beyond this many random effects the engine refuses (see :class:`JointLaplace`).
MAX_DENSE_LEVELS = 4000
#: Largest number of columns of one random term (intercept and one slope, correlated).
MAX_TERM_COLUMNS = 2


def _cov_pieces(psi, r):
    """Covariance of one random term from its parameters (glmmTMB's parameterisation).

    ``r = 1``: ``psi = [log sd]``. ``r = 2``: ``psi = [log sd_1, log sd_2, c]`` with correlation
    ``rho = c / sqrt(1 + c^2)`` (glmmTMB's ``us`` structure for two columns). Returns ``(Sigma^-1, log det Sigma,
    [d Sigma^-1 / d psi_m], [d log det Sigma / d psi_m])``.
    """
    if r == 1:
        s_inv = np.array([[np.exp(-2.0 * psi[0])]])
        return s_inv, 2.0 * psi[0], [-2.0 * s_inv], [2.0]
    s0, s1 = np.exp(psi[0]), np.exp(psi[1])
    c = psi[2]
    k = np.sqrt(1.0 + c * c)
    rho = c / k
    drho = k ** -3
    off = rho * s0 * s1
    d_sigma = [np.array([[2 * s0 * s0, off], [off, 0.0]]), np.array([[0.0, off], [off, 2 * s1 * s1]]),
               np.array([[0.0, drho * s0 * s1], [drho * s0 * s1, 0.0]])]
    # exact forms near |rho| = 1: 1 - rho^2 = 1 / (1 + c^2)
    s_inv = (1.0 + c * c) * np.array([[1.0 / (s0 * s0), -rho / (s0 * s1)], [-rho / (s0 * s1), 1.0 / (s1 * s1)]])
    logdet = 2.0 * (psi[0] + psi[1]) - np.log1p(c * c)
    return (s_inv, logdet, [-s_inv @ dS @ s_inv for dS in d_sigma],
            [float(np.sum(s_inv * dS)) for dS in d_sigma])


#: Bound of a correlation parameter c (rho = c / sqrt(1 + c^2)): at it (|rho| = 1 - 5.6e-6) the correlation is
#: reported as +-1, a singular covariance (beyond it the Laplace gradient loses digits to Sigma^-1 ~ 1 + c^2).
CORR_PARAM_BOUND = 300.0


def _n_cov(r):
    return r * (r + 1) // 2


class JointLaplace:
    """Negative Laplace log-likelihood and gradient for several random terms and/or a zero part.

    Model: ``eta = X beta + offset + sum_k Z_k u_k``; term k has ``G_k`` levels and ``r_k`` columns (1: a random
    intercept or a single random slope ``(0 + x | g)``; 2: correlated intercept and slope ``(1 + x | g)``),
    ``u_kl ~ N(0, Sigma_k)`` per level l; zero part ``zeta = Xz gamma``; ``y | u`` from
    :func:`toolkit.models.zero.obs_derivs` (Poisson, NB2, ZIP, ZINB, hurdle). Parameter vector
    ``(beta, gamma, [log theta], psi_1..K)`` with ``psi_k`` from :func:`_cov_pieces`.

    The joint Hessian of the random effects, ``H = Z'WZ + Lambda`` (``W = -d^2 log f / d eta^2``,
    ``Lambda = blockdiag(Sigma_k^-1)``), is block-structured: each term's own block ``Z_k'WZ_k`` is block-diagonal
    with ``r_k x r_k`` blocks (a row belongs to one level of each term). The largest term (e.g. the accounts of a
    nested model) is eliminated through those blocks; the Schur complement ``S = R - C' D^-1 C`` over the other
    terms' random effects (``C`` the cross block) is dense and factorised by Cholesky. So ``log det H =
    sum log det D_l + log det S`` and every solve costs O(size of the largest term x rest + rest^2): the largest term
    may have any number of levels, the others together at most :data:`MAX_DENSE_LEVELS` random effects.

    The gradient is analytic: envelope theorem for the log joint density, and for ``-1/2 log det H`` the
    implicit derivatives of the modes ``du/dpsi = H^-1 d(score_u)/dpsi`` with
    ``d log det H / dpsi = sum_i h_i dW_i/dpsi + tr(H^-1 dLambda/dpsi)``, ``h_i = z_i' H^-1 z_i`` (from the block
    inverse: ``z1_i' D_a^-1 z1_i + v_i' S^-1 v_i``, ``v_i = zr_i - P_a' z1_i``, ``P = D^-1 C``).
    """

    def __init__(self, y, X, offset, groups, family, Xz=None):
        from scipy import sparse

        from .zero import ZERO_FAMILIES
        self.yc = as_counts(y)
        self.X, self.offset, self.family = X, offset, family
        self.n, self.p = X.shape
        n = self.n
        self.Xz = Xz
        self.qz = 0 if Xz is None else Xz.shape[1]
        self.has_theta = ZERO_FAMILIES.get(family, family) == "negbin"
        terms = [(g, None) if not isinstance(g, tuple) else (g[0], np.asarray(g[1], dtype=float).reshape(n, -1))
                 for g in groups]
        self.K = len(terms)
        self.r = np.array([1 if z is None else z.shape[1] for _, z in terms])
        self.G = np.array([int(np.max(c)) + 1 for c, _ in terms])
        e = int(np.argmax(self.G * self.r))
        self.order = [e] + [k for k in range(self.K) if k != e]
        self.codes = [np.asarray(terms[k][0], dtype=np.int64) for k in self.order]
        self.zv = [np.ones((n, 1)) if terms[k][1] is None else np.asarray(terms[k][1], dtype=float)
                   for k in self.order]
        self.plain = [terms[k][1] is None for k in self.order]
        rs, Gs = self.r[self.order], self.G[self.order]
        self.offs = np.r_[0, np.cumsum(Gs * rs)]
        self.q = int(self.offs[-1])
        self.G1, self.r1 = int(Gs[0]), int(rs[0])
        self.n1 = self.G1 * self.r1
        self.q2 = self.q - self.n1
        self.cov_offs = np.r_[0, np.cumsum([_n_cov(r) for r in self.r])]     # per term, caller's order
        if self.q2 > MAX_DENSE_LEVELS:
            raise ValueError(message(
                "fit_glmm", "groups", f"random terms whose levels, apart from the largest term's, are at most "
                f"{MAX_DENSE_LEVELS} random effects together", f"{self.q2}",
                "Their joint Hessian is factorised densely. Use fewer or coarser crossed grouping columns (nested "
                "terms are fine: the largest term may have any number of levels)."))
        # Z (n x q): column of row i, term j, column c = offs[j] + codes[j][i] * r_j + c
        rows, cols, vals = [], [], []
        for j in range(self.K):
            for c in range(rs[j]):
                rows.append(np.arange(n))
                cols.append(self.offs[j] + self.codes[j] * rs[j] + c)
                vals.append(self.zv[j][:, c])
        self.Z = sparse.csr_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
                                   shape=(n, self.q))
        self.Zt = self.Z.T.tocsr()
        self.g1 = self.codes[0]
        r1 = self.r1
        z1 = self.zv[0]
        self.d_index = np.concatenate([self.g1 * r1 * r1 + c * r1 + d for c in range(r1) for d in range(r1)])
        self.d_z = np.concatenate([z1[:, c] * z1[:, d] for c in range(r1) for d in range(r1)])
        # entries of the rest: (column in 0..q2-1, value) per (term, column)
        self.rest = [(self.offs[j] - self.n1 + self.codes[j] * rs[j] + c, self.zv[j][:, c])
                     for j in range(1, self.K) for c in range(rs[j])]
        self.c_sparse = False
        if self.q2:
            self.c_index = np.concatenate([(self.g1 * r1 + c) * self.q2 + col for c in range(r1)
                                           for col, _ in self.rest])
            self.c_z = np.concatenate([z1[:, c] * z for c in range(r1) for _, z in self.rest])
            self.r_index = np.concatenate([cs * self.q2 + ct for cs, _ in self.rest for ct, _ in self.rest])
            self.r_z = np.concatenate([zs * zt for _, zs in self.rest for _, zt in self.rest])
            # Lambda of the rest terms inside R: flat indices and (term, c, d) of each entry
            lam_idx, lam_src = [], []
            for j in range(1, self.K):
                base = self.offs[j] - self.n1
                lev = np.arange(Gs[j])
                for c in range(rs[j]):
                    for d in range(rs[j]):
                        lam_idx.append((base + lev * rs[j] + c) * self.q2 + base + lev * rs[j] + d)
                        lam_src.append(np.full(Gs[j], j * 4 + c * 2 + d))
            self.lam_idx, self.lam_src = np.concatenate(lam_idx), np.concatenate(lam_src)
            # many random effects on both sides: the cross block as a sparse matrix (pattern fixed)
            self.c_sparse = r1 == 1 and self.G1 * self.q2 > 250_000
            if self.c_sparse:
                keys, self.c_inv = np.unique(self.c_index, return_inverse=True)
                self.c_indices = (keys % self.q2).astype(np.int32)
                self.c_indptr = np.r_[0, np.cumsum(np.bincount(keys // self.q2, minlength=self.G1))]
        self.u = np.zeros(self.q)
        self.n_inner = 0
        self.slices = [slice(self.offs[j], self.offs[j + 1]) for j in range(self.K)]

    # ---- parameter layout
    def split(self, par):
        p, qz = self.p, self.qz
        beta = par[:p]
        gamma = par[p:p + qz]
        lt = par[p + qz] if self.has_theta else None
        psi = par[len(par) - int(self.cov_offs[-1]):]
        return beta, gamma, lt, [psi[self.cov_offs[k]:self.cov_offs[k + 1]] for k in range(self.K)]

    def log_sd_index(self):
        """Positions (in the covariance part of ``par``) of the log SDs, per term in the caller's order."""
        return [list(range(self.cov_offs[k], self.cov_offs[k] + self.r[k])) for k in range(self.K)]

    # ---- Lambda
    def prec(self, u, s_invs):
        """``Lambda u`` (s_invs in internal order)."""
        out = np.empty_like(u)
        for j, sl in enumerate(self.slices):
            rj = self.r[self.order[j]]
            out[sl] = (u[sl].reshape(-1, rj) @ s_invs[j]).ravel()
        return out

    # ---- linear algebra with the block structure
    def factor(self, W, s_invs):
        r1 = self.r1
        if r1 == 1:
            D = np.bincount(self.g1, weights=W if self.plain[0] else W * self.d_z, minlength=self.G1) + s_invs[0][0, 0]
            if np.any(D <= 0) or not np.all(np.isfinite(D)):
                return None
            Dinv = (1.0 / D)[:, None, None]
            logdet = float(np.sum(np.log(D)))
        else:
            Dm = np.bincount(self.d_index, weights=np.tile(W, r1 * r1) * self.d_z,
                             minlength=self.G1 * r1 * r1).reshape(self.G1, r1, r1) + s_invs[0]
            if not np.all(np.isfinite(Dm)):
                return None
            try:
                Lb = np.linalg.cholesky(Dm)
            except np.linalg.LinAlgError:
                return None
            logdet = float(2.0 * np.sum(np.log(np.einsum("aii->ai", Lb))))
            Dinv = np.linalg.inv(Dm)
            D = None
        F = {"D": D, "Dinv": Dinv, "logdet": logdet}
        if not self.q2:
            return F
        nr = len(self.rest)
        R = np.bincount(self.r_index, weights=np.tile(W, nr * nr) * self.r_z,
                        minlength=self.q2 ** 2).reshape(self.q2, self.q2)
        src = np.concatenate([s.ravel() if s.size == 4 else np.r_[s.ravel(), 0, 0, 0] for s in s_invs])
        R.ravel()[self.lam_idx] += src[self.lam_src]
        if self.c_sparse:
            from scipy import sparse
            data = np.bincount(self.c_inv, weights=np.tile(W, r1 * nr) * self.c_z)
            C = sparse.csr_matrix((data, self.c_indices, self.c_indptr), shape=(self.G1, self.q2))
            P = sparse.csr_matrix((data / np.repeat(D, np.diff(self.c_indptr)), self.c_indices, self.c_indptr),
                                  shape=(self.G1, self.q2))
            S = R - (C.T @ P).toarray()
        else:
            C = np.bincount(self.c_index, weights=np.tile(W, r1 * nr) * self.c_z,
                            minlength=self.n1 * self.q2).reshape(self.n1, self.q2)
            P = self._dinv(F, C)
            S = R - C.T @ P
        try:
            L = np.linalg.cholesky(S)
        except np.linalg.LinAlgError:
            return None
        F.update(C=C, P=P, L=L, logdet=logdet + 2.0 * float(np.sum(np.log(np.diag(L)))))
        return F

    def _dinv(self, F, r):
        """``D^-1 r`` for the eliminated block (r: n1 or n1 x m)."""
        if self.r1 == 1:
            return r / (F["D"] if r.ndim == 1 else F["D"][:, None])
        shp = r.shape
        r3 = r.reshape(self.G1, self.r1, -1)
        return np.einsum("acd,adm->acm", F["Dinv"], r3).reshape(shp)

    def solve(self, F, r):
        """``H^-1 r`` (r: q or q x m) from the factorisation ``F``."""
        r1, r2 = r[:self.n1], r[self.n1:]
        if not self.q2:
            return self._dinv(F, r1)
        from scipy.linalg import cho_solve
        x2 = cho_solve((F["L"], True), r2 - F["P"].T @ r1)
        x1 = self._dinv(F, r1 - F["C"] @ x2)
        return np.concatenate([x1, x2])

    def leverages(self, F):
        """``h_i = z_i' H^-1 z_i`` per row, and per term (internal order) the sum over levels of the diagonal
        ``r x r`` blocks of ``H^-1``."""
        r1, g1, z1 = self.r1, self.g1, self.zv[0]
        Dinv = F["Dinv"]
        if r1 == 1:
            h = Dinv[g1, 0, 0] * (1.0 if self.plain[0] else z1[:, 0] ** 2)
        else:
            h = np.einsum("ic,icd,id->i", z1, Dinv[g1], z1)
        blocks1 = Dinv
        sums = []
        if self.q2:
            from scipy.linalg import cho_solve
            M = cho_solve((F["L"], True), np.eye(self.q2))
            P = F["P"]
            Q = P @ M                                           # n1 x q2
            if r1 == 1:
                if self.c_sparse:
                    t3 = np.asarray(P.multiply(Q).sum(axis=1)).ravel()
                else:
                    t3 = np.einsum("ij,ij->i", Q, P)
                T3 = t3[:, None, None]
            else:
                T3 = np.einsum("acm,adm->acd", Q.reshape(self.G1, r1, self.q2), P.reshape(self.G1, r1, self.q2))
            h = h + np.einsum("ic,icd,id->i", z1, T3[g1], z1) if r1 > 1 else h + T3[g1, 0, 0] * (
                1.0 if self.plain[0] else z1[:, 0] ** 2)
            for c in range(r1):
                for col, z in self.rest:
                    h = h - 2.0 * z1[:, c] * z * Q[g1 * r1 + c, col]
            for cs, zs in self.rest:
                for ct, zt in self.rest:
                    h = h + zs * zt * M[cs, ct]
            blocks1 = Dinv + T3
        sums.append(blocks1.sum(axis=0))
        for j in range(1, self.K):
            rj = self.r[self.order[j]]
            base = self.offs[j] - self.n1
            Mj = M[base:base + self.G[self.order[j]] * rj, base:base + self.G[self.order[j]] * rj]
            Gj = self.G[self.order[j]]
            sums.append(np.einsum("acad->cd", Mj.reshape(Gj, rj, Gj, rj)) if rj > 1 else
                        np.array([[np.trace(Mj)]]))
        return h, sums

    # ---- the inner problem
    def derivs(self, eta, zeta, lt, full=True):
        from .zero import obs_derivs
        return obs_derivs(self.yc, eta, zeta, self.family, lt, full=full)

    def modes(self, eta_fixed, zeta, lt, s_invs, u0=None):
        """Joint conditional modes by damped Newton (None when no finite start or step exists)."""
        u = self.u.copy() if u0 is None else u0.copy()
        d = self.derivs(eta_fixed + self.Z @ u, zeta, lt, full=False)
        f_old = float(np.sum(d["ll"]) - 0.5 * u @ self.prec(u, s_invs))
        if not np.isfinite(f_old):
            return None
        for it in range(200):
            grad = self.Zt @ d["l1"] - self.prec(u, s_invs)
            W = -d["l2"]
            F = self.factor(W, s_invs)
            if F is None:                                # not concave here (zero part): a positive-weight step
                F = self.factor(np.maximum(W, 0.0), s_invs)
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
                f_new = float(np.sum(dc["ll"]) - 0.5 * cand @ self.prec(cand, s_invs))
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
        beta, gamma, lt, psis = self.split(par)
        for k in range(self.K):
            if not np.all(np.abs(psis[k][:self.r[k]]) < 50.0):   # a line search probing absurd SDs: reject
                return np.inf, np.zeros_like(par)
        pieces = [_cov_pieces(psis[k], self.r[k]) for k in range(self.K)]
        s_invs = [pieces[k][0] for k in self.order]
        eta_fixed = self.X @ beta + self.offset
        zeta = None if self.Xz is None else self.Xz @ gamma
        if not np.all(np.isfinite(eta_fixed)) or np.max(eta_fixed) > 700:
            return np.inf, np.zeros_like(par)
        with np.errstate(over="ignore", under="ignore", invalid="ignore", divide="ignore"):
            u = self.modes(eta_fixed, zeta, lt, s_invs)
            if u is None and np.any(self.u != 0):        # the cached modes were a bad start: from 0
                u = self.modes(eta_fixed, zeta, lt, s_invs, u0=np.zeros(self.q))
            if u is None:
                return np.inf, np.zeros_like(par)
            eta = eta_fixed + self.Z @ u
            d = self.derivs(eta, zeta, lt)
            F = self.factor(-d["l2"], s_invs)
        if F is None or not np.all(np.isfinite(d["ll"])) or np.max(d["ll"]) > 1e-9:
            return np.inf, np.zeros_like(par)            # (a pmf is <= 1: a positive term is overflow, rejected)
        self.u = u
        U = [u[self.slices[j]].reshape(-1, self.r[k]) for j, k in enumerate(self.order)]   # internal order
        ll = (np.sum(d["ll"]) - 0.5 * u @ self.prec(u, s_invs)
              - 0.5 * float(sum(self.G[k] * pieces[k][1] for k in range(self.K))) - 0.5 * F["logdet"])
        if not need_grad:
            return -ll, None
        h, sums = self.leverages(F)
        # columns: beta, gamma, [log theta] (per-observation partials of ll, l1, l2), then covariance parameters
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
        ncov = int(self.cov_offs[-1])
        rhs = np.zeros((self.q, m + ncov))
        rhs[:, :m] = self.Zt @ A1
        for j, k in enumerate(self.order):
            for t, dS in enumerate(pieces[k][2]):
                rhs[self.slices[j], m + self.cov_offs[k] + t] = -(U[j] @ dS).ravel()
        du = self.solve(F, rhs)
        zdu = self.Z @ du                                        # n x (m + ncov)
        hl3 = h * d["l3"]
        grad = np.empty(m + ncov)
        grad[:m] = A0.sum(axis=0) + 0.5 * (h @ A2 + hl3 @ zdu[:, :m])
        for j, k in enumerate(self.order):
            B = U[j].T @ U[j]
            for t, (dS, dld) in enumerate(zip(pieces[k][2], pieces[k][3])):
                col = m + self.cov_offs[k] + t
                grad[col] = (-0.5 * np.sum(B * dS) - 0.5 * self.G[k] * dld + 0.5 * hl3 @ zdu[:, col]
                             - 0.5 * np.sum(sums[j] * dS))
        return -ll, -grad

    def modes_by_term(self):
        """The conditional modes in the caller's term order (arrays of G, or G x r for two-column terms)."""
        res = [None] * self.K
        for j, k in enumerate(self.order):
            v = self.u[self.slices[j]].copy()
            res[k] = v if self.r[k] == 1 else v.reshape(-1, self.r[k])
        return res


def _start_joint(y, X, offset, family, Xz, groups):
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
    for g in groups:
        if not isinstance(g, tuple):
            par.append(np.log(0.5))
            continue
        Zk = g[1]
        for c in range(Zk.shape[1]):     # an SD of 0.5 on the linear predictor per typical column value
            scale = np.sqrt(np.mean(Zk[:, c] ** 2))
            par.append(np.log(0.5 / scale) if scale > 0 else np.log(0.5))
        if Zk.shape[1] == 2:
            par.append(0.0)
    return np.array(par, dtype=float)


def _fit_joint_once(y, X, offset, groups, family, Xz, *, max_iter, start, hessian, stop_at_bound):
    """One fit of :class:`JointLaplace` (L-BFGS-B, Newton polish, Hessian); the twin of :func:`_fit_glmm_once`."""
    obj = JointLaplace(y, X, offset, groups, family, Xz)
    p, qz, K = X.shape[1], obj.qz, obj.K
    it_theta = p + qz if obj.has_theta else None
    ncov = int(obj.cov_offs[-1])
    k0 = len(X[0]) + qz + (1 if obj.has_theta else 0)          # first covariance parameter
    sd_pos = obj.log_sd_index()
    is_sd = np.zeros(ncov, dtype=bool)
    is_sd[[i for s in sd_pos for i in s]] = True
    par0 = _start_joint(y, X, offset, family, Xz, groups) if start is None else np.asarray(start, dtype=float).copy()
    bounds = ([(None, None)] * (p + qz) + ([(None, LOG_THETA_MAX)] if obj.has_theta else [])
              + [(-20.0, 20.0) if s else (-CORR_PARAM_BOUND, CORR_PARAM_BOUND) for s in is_sd])
    if obj.has_theta:
        par0[it_theta] = min(par0[it_theta], LOG_THETA_MAX)
    par0[k0:][is_sd] = np.clip(par0[k0:][is_sd], -20.0, 20.0)
    fun = obj.value_and_grad
    res = optimize.minimize(fun, par0, jac=True, method="L-BFGS-B", bounds=bounds,
                            options={"maxiter": max_iter, "gtol": 1e-8, "ftol": 1e-15, "maxcor": 20})
    par = res.x
    f, g = fun(par)
    iterations = int(res.nit)
    for _ in range(3):
        # L-BFGS-B can stop early when its line search meets points where the Laplace approximation does not
        # exist (a joint Hessian that is not positive definite): restart it from where it stopped
        lo = np.array([b[0] if b[0] is not None else -np.inf for b in bounds])
        hi = np.array([b[1] if b[1] is not None else np.inf for b in bounds])
        proj = np.where((par <= lo + 1e-12) & (g > 0) | (par >= hi - 1e-12) & (g < 0), 0.0, g)
        if np.max(np.abs(proj)) < 1e-4:
            break
        res = optimize.minimize(fun, par, jac=True, method="L-BFGS-B", bounds=bounds,
                                options={"maxiter": max_iter, "gtol": 1e-8, "ftol": 1e-15, "maxcor": 20})
        iterations += int(res.nit)
        if not res.fun < f:
            break
        par = res.x
        f, g = fun(par)

    def at_bound(q):
        return obj.has_theta and q[it_theta] >= LOG_THETA_MAX - 1e-6

    def bound_result(q, fq, gq, its):
        return {"at_bound": True, "par": q, "loglik": float(-fq), "iterations": its,
                "max_grad": float(np.max(np.abs(gq))), "n_agq": 1}

    if stop_at_bound and at_bound(par):
        return bound_result(par, f, g, iterations)

    def boundaries(q):
        """Per term: an SD at (numerically) 0 or a correlation of +-1 (a singular covariance); the parameters at
        such a boundary stay out of the Hessian."""
        cov = q[k0:]
        b = np.zeros(K, dtype=bool)
        fr = np.ones(len(q), dtype=bool)
        for k in range(K):
            low = np.array(sd_pos[k])[cov[sd_pos[k]] < np.log(1e-4)]
            fr[k0 + low] = False
            b[k] = low.size > 0
            if obj.r[k] == 2 and (low.size or abs(cov[obj.cov_offs[k] + 2]) >= 0.999 * CORR_PARAM_BOUND):
                fr[k0 + obj.cov_offs[k] + 2] = False     # a variance at 0, or the correlation at +-1
                b[k] = True
        return b, fr
    for k in range(K):
        # a correlation near +-1 (|rho| > 0.9998): the likelihood is flat towards the limit, so move it to its
        # bound (rho = +-1 to 5e-9) when that does not lower the log-likelihood; then it is a boundary estimate
        ic = k0 + obj.cov_offs[k] + 2
        if obj.r[k] == 2 and 50.0 < abs(par[ic]) < CORR_PARAM_BOUND:
            cand = par.copy()
            cand[ic] = np.sign(par[ic]) * CORR_PARAM_BOUND
            fc, gc = fun(cand)
            if fc <= f + 1e-9:
                par, f, g = cand, fc, gc
    boundary, free = boundaries(par)
    if not hessian and np.max(np.abs(g[free])) < 1e-6:
        return {"loglik": float(-f), "par": par, "iterations": iterations, "converged": True,
                "max_grad": float(np.max(np.abs(g[free]))), "n_agq": 1, "boundary_terms": boundary, "obj": obj}
    # a correlation held at +-1 makes Sigma^-1 ~ 1 + c^2 large and the gradient noisier (~1e-7): a wider
    # difference step keeps that noise out of the Hessian
    h_step = 1e-4 if any(obj.r[k] == 2 and abs(par[k0 + obj.cov_offs[k] + 2]) >= 0.999 * CORR_PARAM_BOUND
                         for k in range(K)) else 1e-5
    Hm = _num_hessian(fun, par, h=h_step)
    if np.any(~free):   # polish only the free parameters (a variance at 0 stays on its bound)
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
        Hm = _num_hessian(fun, par, h=h_step)
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
    beta, gamma, lt, psis = obj.split(par)
    boundary = fit["boundary_terms"]
    sds = [np.where(ps[:obj.r[k]] < np.log(1e-4), 0.0, np.exp(ps[:obj.r[k]])) for k, ps in enumerate(psis)]
    corr = [np.nan if obj.r[k] == 1 else float(ps[2] / np.sqrt(1.0 + ps[2] ** 2)) for k, ps in enumerate(psis)]
    log_sigma = np.array([ps[0] for ps in psis])
    sigma = np.array([s[0] for s in sds])
    modes = obj.modes_by_term()
    eta_fixed = X @ beta + offset
    out = dict(fit)
    out.update(beta=beta, log_theta=lt, log_sigma=log_sigma, sigma=sigma, re_sd=sds, re_corr=np.array(corr),
               modes=modes, eta_fixed=eta_fixed, mu=np.exp(eta_fixed + obj.Z @ obj.u), boundary=boundary,
               family=family, n_inner=obj.n_inner)
    del out["boundary_terms"]
    if "vcov_all" in out:
        out["vcov"] = out["vcov_all"][:p, :p]
    if qz:
        out.update(zero_beta=gamma, zero_vcov=out["vcov_all"][p:p + qz, p:p + qz] if "vcov_all" in out else None,
                   extra_params=qz)
        if "vcov_all" in out:
            out.update(zero_coef=gamma, zero_se=_se(out["zero_vcov"]))
    if single:
        out.update(log_sigma=float(log_sigma[0]), sigma=float(sigma[0]), modes=modes[0], boundary=bool(boundary[0]))
    return out


def _se(vcov):
    """Standard errors; NaN where the covariance is not positive (a non-converged fit says so in `converged`)."""
    d = np.diag(vcov)
    return np.sqrt(np.where(d >= 0, d, np.nan))


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
            out.update(zero_coef=out["zero_beta"], zero_se=_se(out["zero_vcov"]))
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
