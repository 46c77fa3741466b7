"""Tests per model term (likelihood-ratio or Wald, type II or III) for a fitted :class:`EngagementModel`."""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from .._validation import check_option, message

COLUMNS = ["term", "test", "type", "statistic", "df", "p_value", "method"]


def _relatives(term, terms):
    """The terms that contain `term` (higher-order relatives, as car::relatives)."""
    return [t for t in terms if t is not term and term["factors"] < t["factors"]]


def _conj_comp(X, Z, ip):
    """Conjugate complement of the projection of X in span(Z) w.r.t. the inner product ip (car::ConjComp)."""
    q, r = np.linalg.qr(Z.T @ ip @ X, mode="complete")
    rank = int(np.linalg.matrix_rank(Z.T @ ip @ X))
    if rank == 0:
        return Z
    return Z @ q[:, rank:]


def _wald_matrix(term, terms, p, vcov, type_):
    """Hypothesis matrix of `term`: its coefficients (type III) or car's type II hypothesis (orthogonal, in the
    metric of the covariance, to the coefficients of the terms that contain it)."""
    eye = np.eye(p)
    own = eye[term["columns"]]
    rel_cols = [j for t in _relatives(term, terms) for j in t["columns"]]
    if type_ == "III" or not rel_cols:
        return own
    h1 = eye[rel_cols]
    h2 = eye[rel_cols + list(term["columns"])]
    L = _conj_comp(h1.T, h2.T, vcov).T
    return L[~np.all(np.abs(L) < 1e-14, axis=1)]


def term_tests(model, *, test="likelihood_ratio", type="II") -> pd.DataFrame:  # noqa: A002 - R's vocabulary
    """Test every term of a fitted count model (main effects, interactions, covariates).

    Parameters
    ----------
    model : EngagementModel
        A fit of :func:`toolkit.models.fit_engagement_model` (formula or keyword API).
    test : {"likelihood_ratio", "wald"}, default "likelihood_ratio"
        Likelihood-ratio tests refit the model without the term (as ``drop1(m, test = "Chisq")`` for the
        highest-order terms); Wald tests use the fitted coefficients and their covariance (as ``car::Anova(m,
        test.statistic = "Wald")``), with the CR2 cluster-robust covariance and an HTZ F test when the model was
        fitted with ``cov_type="cluster"`` (likelihood-ratio tests are refused there: the likelihood ignores the
        clustering).
    type : {"II", "III"}, default "II"
        "II" respects marginality: a term is tested after every term that does not contain it, and the terms
        that contain it (its interactions) are left out of both models (likelihood ratio), or its hypothesis is
        made orthogonal to theirs (Wald, car's construction). For a term in no interaction this is the test of
        dropping it from the full model. "III" drops only the term's own coefficients from the full model; with
        the treatment coding used here a main effect that is in an interaction is then the effect *at the
        reference level* of the other factor -- rarely the question.

    Returns
    -------
    pandas.DataFrame
        One row per term in model order: term, test ("likelihood_ratio" or "wald"), type ("II" or "III"),
        statistic (LR chi-square, Wald chi-square, or the HTZ F), df (its (numerator) degrees of freedom),
        p_value, method (what was compared, in words, with the few-accounts caveat of a GLMM).

    Raises
    ------
    ValueError
        For an unknown `test` or `type`, a likelihood-ratio test of a cluster-robust fit, or a model with a
        level without events (its coefficient is infinite: use the model's own ``test`` table).

    Notes
    -----
    Likelihood ratio: ``LR = 2 (l_1 - l_0)`` referred to chi-square with as many df as the term has
    coefficients; every model (also the reduced ones) is maximised again, theta and the random-intercept SDs
    included. Wald: ``W = (L b)' (L V L')^-1 (L b)`` on ``rank(L)`` df. Only the count part is tested (the zero
    part of ZINB / hurdle models keeps its terms). With few accounts per department a GLMM's likelihood-ratio
    and Wald tests of department terms reject too often (the method text says so): see
    :func:`toolkit.cluster_level_comparison`.

    Validated against R: ``glm.nb`` refits and ``car::Anova(m, type = "II" / "III", test.statistic = "Wald")``
    for ``MASS::glm.nb(comments ~ Type * Paid + offset(log(reach)))``, and ``drop1(g, test = "Chisq")`` and
    ``car::Anova(g, type = "II" / "III")`` for the same model with ``(1 | month)`` in glmmTMB (UCI Facebook
    metrics); see tests/reference/models_formula/.

    References
    ----------
    Fox, J., & Weisberg, S. (2019). An R Companion to Applied Regression (3rd ed.). Sage. (type II tests,
    car::Anova)
    Nelder, J. A. (1977). A reformulation of linear models. Journal of the Royal Statistical Society A, 140(1),
    48-77. doi:10.2307/2344517

    Examples
    --------
    >>> import toolkit as tk
    >>> sim = tk.simulate_organization(n_accounts_per_department=4, posts_per_account=30, seed=1,
    ...                                departments=["Marketing", "PR"], mixed_share=0.0)
    >>> m = tk.models.fit_engagement_model(sim.data, formula="comments ~ department * content_type"
    ...                                    " + offset(log(reach))")
    >>> tk.models.term_tests(m, test="wald")[["term", "test", "type", "df"]].values.tolist()[-1]
    ['department:content_type', 'wald', 'II', 3.0]
    """
    from .fit import _few_subjects_caveat, _fit

    func = "term_tests"
    check_option(test, ("likelihood_ratio", "wald"), func, "test")
    check_option(type, ("II", "III"), func, "type")
    design = model.raw["design"]
    fit = model.raw["fit"]
    st = model.settings
    cluster = st.get("cov_type") == "cluster"
    if "rows_used" in fit or not np.all(np.isfinite(fit["beta"])):
        raise ValueError(message(func, "model", "a model whose coefficients are all finite",
                                 "a level without events", "Its test is the model's own `test` table "
                                 "(likelihood based)."))
    if cluster and test == "likelihood_ratio":
        raise ValueError(message(func, "test", "'wald' for a cluster-robust fit (cov_type='cluster')", test,
                                 "The likelihood treats posts as independent; the CR2 Wald (HTZ) test does not."))
    terms = list(design.terms)
    p = design.X.shape[1]
    beta = np.asarray(fit["beta"], dtype=float)
    vcov = np.asarray(model.raw["vcov"], dtype=float)
    caveat = ""
    if design.groups is not None and not cluster:
        caveat = _few_subjects_caveat(design, design.subject, design.between)
    is_glmm = design.random_terms and not cluster
    rows = []
    cache = {frozenset(range(p)): float(fit["loglik"])}

    def loglik(keep):
        key = frozenset(keep)
        if key not in cache:
            sub = _fit(design, design.X[:, sorted(keep)], st["family"], st["cov_type"], st["n_agq"], hessian=False)
            cache[key] = float(sub["loglik"])
        return cache[key]

    for term in terms:
        rel = _relatives(term, terms)
        rel_names = [t["name"] for t in rel]
        about_between = design.between_variable in {f.replace("C(", "").rstrip(")") for f in term["factors"]} \
            or design.between in term["factors"]
        note = caveat if about_between else ""
        if test == "likelihood_ratio":
            rel_cols = {j for t in rel for j in t["columns"]} if type == "II" else set()
            full = set(range(p)) - rel_cols
            reduced = full - set(term["columns"])
            stat = max(2.0 * (loglik(full) - loglik(reduced)), 0.0)
            df = float(len(term["columns"]))
            pv = float(stats.chi2.sf(stat, df))
            what = (f"likelihood-ratio test (type {type}): the model " +
                    (f"without {', '.join(rel_names)} " if type == "II" and rel_names else "") +
                    f"against the same model without {term['name']}"
                    + ("; refits maximise the Laplace likelihood (theta and random-intercept SDs re-estimated)"
                       if is_glmm else ""))
        else:
            L = _wald_matrix(term, terms, p, vcov, type)
            if cluster:
                htz = model.raw["cluster_robust"].wald_htz(beta, L)
                stat, df, pv = float(htz["statistic"]), float(htz["df_num"]), float(htz["p_value"])
                what = (f"Wald F test (type {type}) with CR2 cluster-robust covariance, HTZ approximation: "
                        f"F({htz['df_num']:.4g}, {htz['df_denom']:.4g})")
            else:
                Lb = L @ beta
                stat = float(Lb @ np.linalg.solve(L @ vcov @ L.T, Lb))
                df = float(np.linalg.matrix_rank(L))
                pv = float(stats.chi2.sf(stat, df))
                what = f"Wald chi-square test (type {type}) of the {term['name']} coefficients"
            if type == "II" and rel_names:
                what += f", orthogonal to the terms that contain it ({', '.join(rel_names)})"
        if type == "III" and rel_names:
            what += (f"; CAUTION: {term['name']} is in {', '.join(rel_names)}, so with treatment coding this tests "
                     "its effect at the reference level(s) of the other factor(s)")
        rows.append({"term": term["name"], "test": test, "type": type, "statistic": stat, "df": df,
                     "p_value": pv, "method": what + note})
    return pd.DataFrame(rows, columns=COLUMNS)
