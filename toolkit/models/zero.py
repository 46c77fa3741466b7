"""Zero-inflated and hurdle count models (count part: log link with offset; zero part: logit with predictors).

* ``zinb`` / ``zip``: ``P(Y = 0) = pi + (1 - pi) f(0)``, ``P(Y = y > 0) = (1 - pi) f(y)``, ``logit(pi) = Xz gamma``
  (pi = probability of a structural zero), as ``pscl::zeroinfl(y ~ x + offset(log(e)) | z, dist = "negbin")``
  (``dist = "poisson"`` for ``zip``) and glmmTMB's ``ziformula``.
* ``hurdle_negbin`` / ``hurdle_poisson``: ``P(Y > 0) = p``, ``logit(p) = Xz gamma``; positive counts follow the
  zero-truncated NB (Poisson), as ``pscl::hurdle(y ~ x + offset(log(e)) | z, dist = "negbin")`` (pscl's zero
  hurdle models P(Y > 0); glmmTMB's ``truncated_nbinom2`` with ``ziformula`` models P(Y = 0), i.e. the same
  coefficients with the opposite sign).

``f`` is NB2 (dispersion theta) or Poisson. The zero part's design ``Xz`` (n x q, intercept column included by
the caller) defaults to the intercept only.

Maximum likelihood over ``(beta, gamma, [log theta])`` by BFGS with an analytic gradient, polished by Newton
steps; standard errors from the numerically differentiated analytic gradient (observed information), like
pscl's (which uses the BFGS Hessian from ``optim``). :func:`obs_derivs` gives the per-observation derivatives
that the zero-inflated GLMMs of :mod:`toolkit.models.glmm` also use, and ``score_obs`` (the per-observation
score of the full parameter vector) feeds :func:`toolkit.models.robust.cluster_sandwich`.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np
from scipy import optimize

from .._validation import message
from ._optim import _newton_polish, _num_hessian
from .glm import _log1p_minus_frac, as_counts, fit_glm, nb_loglik_terms, poisson_loglik_terms, theta_score_terms

#: Families with a zero part, and their count distribution.
ZERO_FAMILIES = {"zinb": "negbin", "zip": "poisson", "hurdle_negbin": "negbin", "hurdle_poisson": "poisson"}
#: The family a negative-binomial zero model reduces to at theta = inf.
POISSON_LIMIT = {"zinb": "zip", "hurdle_negbin": "hurdle_poisson", "negbin": "poisson"}


def _expit(x):
    return np.exp(-np.logaddexp(0.0, -x))


def count_derivs(yc, eta, family, log_theta, full=True):
    """Per-observation log f(y) of the count distribution, its eta-derivatives (1..3) and log-theta cross terms.

    Returns dict ``ll, l1, l2, l3`` and, for NB2, ``t0 = d ll / d log theta``, ``t1 = d l1 / d log theta``,
    ``t2 = d l2 / d log theta`` (None for Poisson). ``full=False``: ``ll, l1, l2`` only.
    """
    y = yc.plain()
    mu = np.exp(eta)
    if family == "poisson":
        return {"ll": poisson_loglik_terms(yc, eta), "l1": y - mu, "l2": -mu, "l3": -mu, "t0": None, "t1": None,
                "t2": None}
    theta = np.exp(log_theta)
    d = mu + theta
    if not full:
        return {"ll": nb_loglik_terms(yc, eta, log_theta), "l1": theta * (y - mu) / d,
                "l2": -theta * mu * (y + theta) / d ** 2}
    return {"ll": nb_loglik_terms(yc, eta, log_theta), "l1": theta * (y - mu) / d,
            "l2": -theta * mu * (y + theta) / d ** 2, "l3": -theta * (y + theta) * mu * (theta - mu) / d ** 3,
            "t0": theta * theta_score_terms(yc, eta, log_theta), "t1": theta * mu * (y - mu) / d ** 2,
            "t2": -theta * mu * (y * mu - y * theta + 2.0 * theta * mu) / d ** 3}


class _LogF0(NamedTuple):
    """``t = log f(0)`` of the count distribution per observation, with the derivatives the zero models need."""

    t: np.ndarray
    t_eta: np.ndarray              # dt/deta
    t_eta2: np.ndarray             # d2t/deta2
    t_eta3: np.ndarray             # d3t/deta3
    t_lt: np.ndarray | None        # dt/dlog(theta) (None for Poisson)
    t_eta_lt: np.ndarray | None    # d2t/(deta dlog theta)
    t_eta2_lt: np.ndarray | None   # d3t/(deta2 dlog theta)


def _log_f0(eta, family, log_theta) -> _LogF0:
    """``t = log f(0)`` with its eta-derivatives (1..3) and log-theta cross derivatives (t_lt, t_eta_lt, t_eta2_lt)."""
    mu = np.exp(eta)
    if family == "poisson":
        return _LogF0(-mu, -mu, -mu, -mu, None, None, None)
    theta = np.exp(log_theta)
    z = np.exp(eta - log_theta)
    q = z / (1.0 + z)                                  # mu / (mu + theta)
    t = -theta * np.log1p(z)
    a = q * (1.0 - q)
    return _LogF0(t=t, t_eta=-theta * q, t_eta2=-theta * a, t_eta3=-theta * a * (1.0 - 2.0 * q),
                  t_lt=-theta * _log1p_minus_frac(z), t_eta_lt=-theta * q * q,
                  t_eta2_lt=-2.0 * theta * q * q * (1.0 - q))


def obs_derivs(yc, eta, zeta, family, log_theta, full=True):
    """Per-observation log-likelihood of a count or zero model and the derivatives the GLMM engine needs.

    Parameters
    ----------
    yc : Counts
        The counts (:func:`toolkit.models.glm.as_counts`).
    eta : numpy.ndarray
        Count-part linear predictor (log mean, offset and random effects included).
    zeta : numpy.ndarray or None
        Zero-part linear predictor (logit of pi, or of P(Y > 0) for the hurdle families); None for "poisson" and
        "negbin".
    family : str
        "poisson", "negbin" or a key of :data:`ZERO_FAMILIES`.
    log_theta : float or None
        NB2 log dispersion.
    full : bool, default True
        False: only ``ll, l1, l2`` (what the search for the random-effect modes needs).

    Returns
    -------
    dict
        ``ll`` (log-likelihood per observation), ``l1, l2, l3`` (its eta-derivatives), ``z0, z1, z2`` (d/dzeta of
        ``ll, l1, l2``; None without a zero part) and ``t0, t1, t2`` (d/dlog theta of ``ll, l1, l2``; None for
        Poisson counts).
    """
    base = ZERO_FAMILIES.get(family, family)
    c = count_derivs(yc, eta, base, log_theta, full=full)
    if family not in ZERO_FAMILIES:
        if full:
            c.update(z0=None, z1=None, z2=None)
        return c
    y = yc.plain()
    zero = y == 0
    nb = base == "negbin"
    t, te, tee, teee, tl, tel, teel = _log_f0(eta, base, log_theta)
    if family in ("zinb", "zip"):
        pi = _expit(zeta)
        w = _expit(t - zeta)                           # posterior weight of the count component at y = 0
        a = w * (1.0 - w)
        b = a * (1.0 - 2.0 * w)
        ll0 = -np.logaddexp(0.0, zeta) + np.logaddexp(zeta, t)
        out = {"ll": np.where(zero, ll0, -np.logaddexp(0.0, zeta) + c["ll"]),
               "l1": np.where(zero, w * te, c["l1"]),
               "l2": np.where(zero, w * tee + a * te ** 2, c["l2"])}
        if not full:
            return out
        out.update({
               "l3": np.where(zero, w * teee + 3.0 * a * te * tee + b * te ** 3, c["l3"]),
               "z0": np.where(zero, 1.0 - w - pi, -pi),
               "z1": np.where(zero, -a * te, 0.0),
               "z2": np.where(zero, -a * tee - b * te ** 2, 0.0)})
        if nb:
            out.update(t0=np.where(zero, w * tl, c["t0"]), t1=np.where(zero, w * tel + a * te * tl, c["t1"]),
                       t2=np.where(zero, a * tl * tee + w * teel + b * tl * te ** 2 + 2.0 * a * te * tel, c["t2"]))
        else:
            out.update(t0=None, t1=None, t2=None)
        return out
    # hurdle: zeros carry only log(1 - p); positives log p + log f(y) - log(1 - f(0))
    p = _expit(zeta)
    with np.errstate(divide="ignore", over="ignore"):
        r = np.where(zero, 0.0, 1.0 / np.expm1(-np.where(zero, -1.0, t)))     # f0 / (1 - f0)
        log1m_f0 = np.where(zero, 0.0, np.log(-np.expm1(np.where(zero, -1.0, t))))
    r1 = r * (1.0 + r)
    r2 = r1 * (1.0 + 2.0 * r)
    pos = ~zero
    out = {"ll": np.where(zero, -np.logaddexp(0.0, zeta), zeta - np.logaddexp(0.0, zeta) + c["ll"] - log1m_f0),
           "l1": np.where(pos, c["l1"] + r * te, 0.0),
           "l2": np.where(pos, c["l2"] + r1 * te ** 2 + r * tee, 0.0)}
    if not full:
        return out
    out.update({"l3": np.where(pos, c["l3"] + r2 * te ** 3 + 3.0 * r1 * te * tee + r * teee, 0.0),
                "z0": np.where(zero, -p, 1.0 - p), "z1": np.zeros_like(eta), "z2": np.zeros_like(eta)})
    if nb:
        out.update(t0=np.where(pos, c["t0"] + r * tl, 0.0),
                   t1=np.where(pos, c["t1"] + r1 * te * tl + r * tel, 0.0),
                   t2=np.where(pos, c["t2"] + r2 * te ** 2 * tl + 2.0 * r1 * te * tel + r1 * tee * tl + r * teel,
                               0.0))
    else:
        out.update(t0=None, t1=None, t2=None)
    return out


def _layout(family, p, q):
    """Slices of (beta, gamma, [log theta]) in the parameter vector."""
    return slice(0, p), slice(p, p + q), (p + q if ZERO_FAMILIES[family] == "negbin" else None)


def _objective(par, yc, X, offset, Xz, family, need_scores=False):
    p, q = X.shape[1], Xz.shape[1]
    sb, sg, it = _layout(family, p, q)
    lt = None if it is None else par[it]
    eta = X @ par[sb] + offset
    zeta = Xz @ par[sg]
    if not (np.all(np.isfinite(eta)) and np.all(np.isfinite(zeta))) or np.max(eta) > 700:
        return np.inf, np.zeros_like(par)
    d = obs_derivs(yc, eta, zeta, family, lt)
    cols = [X * d["l1"][:, None], Xz * d["z0"][:, None]] + ([] if it is None else [d["t0"][:, None]])
    scores = np.hstack(cols)
    if need_scores:
        return scores
    return -float(np.sum(d["ll"])), -scores.sum(axis=0)


def _bfgs(yc, X, offset, Xz, family, *, gtol, max_iter):
    """BFGS on the zero model's log-likelihood from the count GLM and a constant zero part."""
    ypl = yc.plain()
    glm = fit_glm(ypl, X, offset, ZERO_FAMILIES[family])
    # zero part start: a constant (structural zeros 5% for the zero-inflated, the observed P(Y > 0) for hurdles)
    p_pos = float(np.clip(np.mean(ypl > 0), 1e-3, 1 - 1e-3))
    g0 = np.zeros(Xz.shape[1])
    col = np.flatnonzero(np.all(Xz == 1.0, axis=0))
    g0[col[0] if col.size else 0] = -3.0 if family in ("zinb", "zip") else np.log(p_pos / (1 - p_pos))
    par0 = np.r_[glm["beta"], g0]
    if ZERO_FAMILIES[family] == "negbin":
        par0 = np.r_[par0, min(glm["log_theta"], 10.0)]
    fun = lambda v: _objective(v, yc, X, offset, Xz, family)  # noqa: E731
    return optimize.minimize(fun, par0, jac=True, method="BFGS", options={"maxiter": max_iter, "gtol": gtol})


def start_values(y, X, offset, family, Xz=None):
    """Rough ML estimates ``(beta, gamma, [log theta])`` of a zero model (BFGS to gtol 1e-4, no Hessian)."""
    Xz = np.ones((len(y), 1)) if Xz is None else np.asarray(Xz, dtype=float)
    with np.errstate(over="ignore", under="ignore"):
        return _bfgs(as_counts(y), X, offset, Xz, family, gtol=1e-4, max_iter=200).x


def fit_zero_model(y, X, offset, family, *, Xz=None, max_iter=1000):
    """Fit a zero-inflated or hurdle count GLM by maximum likelihood.

    Parameters
    ----------
    y, X, offset : numpy.ndarray
        Counts, count-part design (n x p), offset (``log(exposure)`` or zeros).
    family : {"zinb", "zip", "hurdle_negbin", "hurdle_poisson"}
        Model (see the module docstring).
    Xz : numpy.ndarray, optional
        Zero-part design (n x q, intercept column included); default the intercept only.
    max_iter : int, default 1000
        BFGS iterations.

    Returns
    -------
    dict
        Like :func:`toolkit.models.glm.fit_glm`: beta, vcov (of beta), vcov_all (of ``par``), log_theta (None for
        the Poisson families), loglik, mu (count-part mean), iterations, converged, hessian, family, par
        (``(beta, gamma, [log theta])``), ``zero_beta`` and ``zero_vcov`` (gamma and its covariance),
        ``zero_coef`` / ``zero_se`` (floats for the intercept-only zero part, arrays when `Xz` is given),
        ``extra_params`` (number of zero-part coefficients), and ``score_obs`` (n x len(par): the
        per-observation score of the full parameter vector, for :func:`toolkit.models.robust.cluster_sandwich`).

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(1)
    >>> x = rng.normal(size=2000)
    >>> X = np.column_stack([np.ones(2000), x])
    >>> y = np.where(rng.random(2000) < 0.3, 0, rng.poisson(np.exp(1 + 0.5 * x)))
    >>> fit = fit_zero_model(y, X, np.zeros(2000), "zip")
    >>> np.round(fit["beta"], 1).tolist(), round(float(1 / (1 + np.exp(-fit["zero_coef"]))), 1)
    ([1.0, 0.5], 0.3)
    """
    if family not in ZERO_FAMILIES:
        raise ValueError(message("fit_zero_model", "family", f"one of {sorted(ZERO_FAMILIES)}", family))
    yc = as_counts(y)
    n = yc.size
    intercept_only = Xz is None
    Xz = np.ones((n, 1)) if Xz is None else np.asarray(Xz, dtype=float)
    p, q = X.shape[1], Xz.shape[1]
    fun = lambda v: _objective(v, yc, X, offset, Xz, family)  # noqa: E731
    with np.errstate(over="ignore", under="ignore"):
        res = _bfgs(yc, X, offset, Xz, family, gtol=1e-9, max_iter=max_iter)
        par = res.x
        f, g = fun(par)
        Hm = _num_hessian(fun, par)
        par, f, g, steps, _ = _newton_polish(fun, par, f, g, Hm, max_steps=5, tries=1)
        Hm = _num_hessian(fun, par)
    it = int(res.nit) + steps
    try:
        vcov_all = np.linalg.inv(Hm)
        pd_ok = bool(np.all(np.linalg.eigvalsh(Hm) > 0))
    except np.linalg.LinAlgError:
        vcov_all = np.full_like(Hm, np.nan)
        pd_ok = False
    sb, sg, itheta = _layout(family, p, q)
    gamma = par[sg]
    zvc = vcov_all[sg, sg]
    zd = np.diag(zvc)
    zse = np.sqrt(np.where(zd >= 0, zd, np.nan))
    return {"beta": par[sb], "vcov": vcov_all[sb, sb], "vcov_all": vcov_all,
            "log_theta": None if itheta is None else float(par[itheta]),
            "zero_beta": gamma, "zero_vcov": zvc,
            "zero_coef": float(gamma[0]) if intercept_only else gamma,
            "zero_se": float(zse[0]) if intercept_only else zse,
            "loglik": -f, "mu": np.exp(X @ par[sb] + offset), "iterations": it,
            "converged": bool(np.max(np.abs(g)) < 1e-4 and pd_ok), "extra_params": q, "hessian": Hm,
            "family": family, "par": par, "score_obs": _objective(par, yc, X, offset, Xz, family, need_scores=True)}
