"""Zero-inflated and hurdle negative-binomial GLMs (count part: log link with offset; zero part: intercept).

* ``zinb``: ``P(Y = 0) = pi + (1 - pi) f_NB(0)``, ``P(Y = y > 0) = (1 - pi) f_NB(y)``, ``logit(pi) = gamma``
  (pi = probability of a structural zero), as ``pscl::zeroinfl(y ~ x + offset(log(e)) | 1, dist = "negbin")``.
* ``hurdle_negbin``: ``P(Y > 0) = p``, ``logit(p) = gamma``; positive counts follow the zero-truncated NB,
  as ``pscl::hurdle(y ~ x + offset(log(e)) | 1, dist = "negbin")`` (pscl's zero hurdle models P(Y > 0)).

Maximum likelihood over ``(beta, log theta, gamma)`` by BFGS with an analytic gradient, polished by Newton
steps; standard errors from the numerically differentiated analytic gradient (observed information), like
pscl's (which uses the BFGS Hessian from ``optim``).
"""
from __future__ import annotations

import numpy as np
from scipy import optimize

from .glm import as_counts, fit_glm, nb_loglik_terms, theta_score_terms


def _nb_pieces(yc, eta, log_theta):
    """NB2 log-pmf, its derivatives wrt eta and log theta, and log f(0) with derivatives."""
    y = yc.plain()
    theta = np.exp(log_theta)
    mu = np.exp(eta)
    d = mu + theta
    logf = nb_loglik_terms(yc, eta, log_theta)
    dlogf_deta = theta * (y - mu) / d
    dlogf_dlt = theta * theta_score_terms(yc, eta, log_theta)   # stable at large theta
    log_tm = np.logaddexp(log_theta, eta)
    logf0 = theta * (log_theta - log_tm)
    dlogf0_deta = -theta * mu / d
    dlogf0_dlt = theta * (log_theta - log_tm + 1.0 - theta / d)
    return logf, dlogf_deta, dlogf_dlt, logf0, dlogf0_deta, dlogf0_dlt


def _objective(par, yc, X, offset, family):
    p = X.shape[1]
    beta, lt, gamma = par[:p], par[p], par[p + 1]
    eta = X @ beta + offset
    y = yc.plain()
    zero = y == 0
    logf, fe, ft, logf0, f0e, f0t = _nb_pieces(yc, eta, lt)
    if family == "zinb":
        log_pi = -np.logaddexp(0.0, -gamma)          # log expit(gamma)
        log_1mpi = -np.logaddexp(0.0, gamma)
        pi = np.exp(log_pi)
        # zeros: log(pi + (1 - pi) f0)
        lz = np.logaddexp(log_pi, log_1mpi + logf0)
        w = np.exp(log_1mpi + logf0 - lz)            # posterior weight of the count component at y = 0
        ll = np.where(zero, lz, log_1mpi + logf)
        ge = np.where(zero, w * f0e, fe)
        gt = np.where(zero, w * f0t, ft)
        gg = np.where(zero, (pi * (1 - pi) * (1 - np.exp(logf0)) / np.exp(lz)), -pi)
    else:
        log_p = -np.logaddexp(0.0, -gamma)           # log P(Y > 0)
        log_1mp = -np.logaddexp(0.0, gamma)
        p_pos = np.exp(log_p)
        log1m_f0 = np.log(-np.expm1(logf0))
        r = np.exp(logf0 - log1m_f0)                 # f0 / (1 - f0)
        ll = np.where(zero, log_1mp, log_p + logf - log1m_f0)
        ge = np.where(zero, 0.0, fe + r * f0e)
        gt = np.where(zero, 0.0, ft + r * f0t)
        gg = np.where(zero, -p_pos, 1 - p_pos)
    grad = np.concatenate([X.T @ ge, [gt.sum(), gg.sum()]])
    return -float(np.sum(ll)), -grad


def fit_zero_model(y, X, offset, family, *, max_iter=1000):
    """Fit ``zinb`` or ``hurdle_negbin``; returns a dict like :func:`toolkit.models.glm.fit_glm`."""
    from .glmm import _newton_polish, _num_hessian

    yc = as_counts(y)
    ypl = yc.plain()
    nb = fit_glm(ypl, X, offset, "negbin")
    p_pos = float(np.mean(ypl > 0))
    gamma0 = -3.0 if family == "zinb" else np.log(p_pos / (1 - p_pos))
    par0 = np.r_[nb["beta"], nb["log_theta"], gamma0]
    fun = lambda q: _objective(q, yc, X, offset, family)  # noqa: E731
    res = optimize.minimize(fun, par0, jac=True, method="BFGS", options={"maxiter": max_iter, "gtol": 1e-9})
    par = res.x
    f, g = fun(par)
    Hm = _num_hessian(fun, par)
    par, f, g, steps, _ = _newton_polish(fun, par, f, g, Hm, max_steps=5, tries=1)
    it = int(res.nit) + steps
    Hm = _num_hessian(fun, par)
    try:
        vcov_all = np.linalg.inv(Hm)
        pd_ok = bool(np.all(np.linalg.eigvalsh(Hm) > 0))
    except np.linalg.LinAlgError:
        vcov_all = np.full_like(Hm, np.nan)
        pd_ok = False
    p = X.shape[1]
    return {"beta": par[:p], "vcov": vcov_all[:p, :p], "vcov_all": vcov_all, "log_theta": float(par[p]),
            "zero_coef": float(par[p + 1]), "zero_se": float(np.sqrt(vcov_all[p + 1, p + 1])),
            "loglik": -f, "mu": np.exp(X @ par[:p] + offset), "iterations": it,
            "converged": bool(np.max(np.abs(g)) < 1e-4 and pd_ok), "extra_params": 1, "hessian": Hm,
            "family": family}
