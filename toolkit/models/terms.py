"""Tests per model term (likelihood-ratio or Wald, type II or III) for a fitted :class:`EngagementModel`."""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from .._docstrings import fill_doc
from .._validation import check_option, message, warn
from ..stats.cluster import FEW_SUBJECTS

COLUMNS = ["term", "test", "type", "statistic", "df", "p_value", "method"]

#: Measured false-positive rates at alpha = 0.05 of the GLMM's type II tests of a between-account term
#: (department, constant within accounts), 4 departments x m accounts, no true effect, account effects normal:
#: SIMULATED, benchmarks/bench_calibration_terms.py (200 replicates per cell; reports/benchmarks.md,
#: "Calibration of term tests"). Keys: test, then m (accounts per department).
BETWEEN_TERM_FPR = {
    "likelihood_ratio": {1: 0.755, 2: 0.265, 4: 0.12, 8: 0.09},
    "wald": {1: 0.795, 2: 0.44, 4: 0.215, 8: 0.115},
}
#: The same designs and data sets, type II CR2 Wald (HTZ F) test of department in the NB GLM with
#: subject="account", cov_type="cluster" (m = 1: refused, a department is one cluster with leverage 1).
CR2_DEPARTMENT_FPR = {1: float("nan"), 2: 0.0, 4: 0.035, 8: 0.09}


def _groupings(design):
    """(name, codes) of every random-intercept grouping of a GLMM (none for a GLM)."""
    if design.groups is None or not design.random_terms:
        return []
    entries = design.groups if isinstance(design.groups, list) else [design.groups]
    out = []
    for name, entry in zip(design.random_terms, entries):
        if isinstance(entry, tuple):        # a random slope term (codes, Z): a grouping only with its intercept
            codes, Z = entry
            if np.asarray(Z).ndim == 2 and np.asarray(Z).shape[1] == 2:
                out.append((str(name).split("|")[-1].strip(), np.asarray(codes)))   # "1 + x|site" -> "site"
            continue
        out.append((name, entry))
    return out


def _constant_within(X, codes):
    """Per column of X: is it constant within every group of `codes`?"""
    _, first, inverse = np.unique(codes, return_index=True, return_inverse=True)
    ref = X[first][inverse]
    return np.all(np.abs(X - ref) <= 1e-10 * (1.0 + np.abs(ref)), axis=0)


def between_group_terms(design) -> dict:
    """The fixed terms of a GLMM that are constant within the groups of a random intercept, and how many groups
    inform them.

    A term whose columns do not vary within any group of a random-intercept grouping (department with
    ``(1|account)``; an account-level covariate; interactions of those) is estimated only from differences
    *between* those groups, so its tests rest on the handful of groups per level, not on the posts. Terms that
    vary within the groups (platform, post type, and their interactions with department) are tested by contrasts
    within groups and are not listed.

    Returns
    -------
    dict
        term name -> dict(grouping, fewest, unit, n_groups): ``fewest`` is the smallest number of groups in a
        level of the term (unit "level": the cells of the term and its lower-order terms, all 0/1 columns) or,
        for a term with a numeric column, the number of groups per between-group coefficient (intercept
        included; unit "coefficient"). With several groupings, the one giving the smallest ``fewest``.
    """
    out = {}
    X = design.X
    for gname, codes in _groupings(design):
        const = _constant_within(X, codes)
        between_cols = [j for t in design.terms if const[t["columns"]].all() for j in t["columns"]]
        n_groups = int(np.unique(codes).size)
        for term in design.terms:
            if not const[term["columns"]].all():
                continue
            marginal = sorted({j for t in design.terms if t["factors"] <= term["factors"] for j in t["columns"]})
            M = X[:, marginal]
            if np.all((M == 0.0) | (M == 1.0)):
                _, cell = np.unique(M, axis=0, return_inverse=True)
                cell = np.asarray(cell).ravel()
                fewest = min(int(np.unique(codes[cell == c]).size) for c in np.unique(cell))
                unit = "level"
            else:
                # not measured: the numeric analogue of m groups per level of a k-level factor (k coefficients)
                fewest = n_groups // (len(between_cols) + 1)
                unit = "coefficient"
            if term["name"] not in out or fewest < out[term["name"]]["fewest"]:
                out[term["name"]] = dict(grouping=gname, fewest=fewest, unit=unit, n_groups=n_groups)
    return out


def _measured(test, fewest):
    """The measured rate for the design nearest below `fewest` accounts per level (and that m)."""
    table = BETWEEN_TERM_FPR[test]
    m = max(k for k in table if k <= max(fewest, 1))
    return table[m], m


def _between_caution(name, info, test):
    """Plain words for the method text of a between-group term with fewer than FEW_SUBJECTS groups per level."""
    g, fewest = info["grouping"], info["fewest"]
    rate, m = _measured(test, fewest)
    kind = "likelihood-ratio" if test == "likelihood_ratio" else "Wald"
    per = "in a level of it" if info["unit"] == "level" else "per between-" + g + " coefficient"
    text = (f"; CAUTION: {name} is constant within each {g}, so only differences between the {info['n_groups']} "
            f"{g}s inform it, and there are as few as {fewest} {g}(s) {per}: with fewer than {FEW_SUBJECTS} this "
            f"{kind} test rejects too often when nothing differs (SIMULATED false-positive rate {rate:.2f} at "
            f"alpha 0.05 with 4 departments x {m} account(s) each, benchmarks/bench_calibration_terms.py)")
    if fewest < 2:
        return text + (f"; with one {g} in a level its effect cannot be told apart from that {g}'s own "
                       "variation (the test rests on the assumed distribution of the random intercepts alone)")
    cr2 = CR2_DEPARTMENT_FPR[m]
    return text + (f"; the alternative: the same fixed part without the random intercept, fitted with "
                   f"subject={g!r}, cov_type='cluster' (CR2 Wald, HTZ F test: measured {cr2:.2f} for department "
                   f"in the same design, against {rate:.2f} here; no p-value when its HTZ degrees of freedom are "
                   "<= 0), or, for the department comparison alone, tk.cluster_level_comparison")


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


@fill_doc
def term_tests(model, *, test="likelihood_ratio", type="II") -> pd.DataFrame:  # noqa: A002 - R's vocabulary
    """Test every term of a fitted count model (main effects, interactions, covariates).

    Parameters
    ----------
    {{model_fit}}
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
        p_value, method (what was compared, in words; CAUTION for a between-group term of a GLMM with fewer than
        15 groups per level, see Notes).

    Raises
    ------
    ValueError
        For an unknown `test` or `type`, a likelihood-ratio test of a cluster-robust fit, or a model with a
        level without events (its coefficient is infinite: use the model's own ``test`` table).

    See Also
    --------
    fit_engagement_model : Compare engagement counts between departments with a count model (GLM or GLMM).
    emmeans : Estimated marginal means of `specs` and their pairwise rate ratios, within each level of `by`.

    Notes
    -----
    Likelihood ratio: ``LR = 2 (l_1 - l_0)`` referred to chi-square with as many df as the term has
    coefficients; every model (also the reduced ones) is maximised again, theta and the random-intercept SDs
    included. Wald: ``W = (L b)' (L V L')^-1 (L b)`` on ``rank(L)`` df. Only the count part is tested (the zero
    part of ZINB / hurdle models keeps its terms).

    Between-group terms (the first rule: never confidently wrong). A term whose columns are constant within
    every group of a random intercept -- department with ``(1|account)``, an account-level covariate, their
    interactions -- is informed only by differences between those groups, whatever the number of posts (found by
    :func:`between_group_terms`). With few groups per level the GLMM's tests of such a term reject far too
    often. SIMULATED null designs (benchmarks/bench_calibration_terms.py; 4 departments x m accounts, platform
    drawn per post, NB2 counts with a reach offset, normal account effects SD 0.5, 200 replicates per cell;
    ``comments ~ department * platform + offset(log(reach)) + (1|account)``, type II, alpha = 0.05):

    =============================  =======  =======  =======  =======
    false-positive rate            m = 1    m = 2    m = 4    m = 8
    =============================  =======  =======  =======  =======
    department, likelihood ratio   0.755    0.265    0.120    0.090
    department, Wald               0.795    0.440    0.215    0.115
    platform, likelihood ratio     0.090    0.060    0.070    0.030
    department:platform, LR        0.055    0.080    0.050    0.035
    =============================  =======  =======  =======  =======

    (Monte-Carlo SE at most 0.035.) With 2 departments the department LR test rejects 0.120 / 0.095 / 0.065 /
    0.060 with m = 2 / 4 / 8 / 15, so 15 groups per level (``FEW_SUBJECTS``) is where it becomes trustworthy;
    t(4) account effects give similar rates (0.630 / 0.185 / 0.130 / 0.095 with 4 departments). So the
    ``method`` text of a between-group term with fewer than 15 groups in a level (for a numeric term: per
    between-group coefficient) says CAUTION with the measured rate and the number of groups, and one
    ToolkitWarning names those terms. Terms that vary within the groups (platform,
    post type, and their interactions with department) are tested by contrasts within accounts and carry no
    caution (the within-account rates above are within about two Monte-Carlo SE of 0.05; with 4 x 1 the
    platform tests reach 0.09). The alternative for between-account terms is the NB GLM with
    ``subject="account", cov_type="cluster"`` (CR2 Wald, HTZ F; measured for department with m = 2 / 4 / 8:
    0.000 / 0.035 / 0.090 -- far better with 2 to 4 accounts, no better than the LR test with 8; conservative
    where its HTZ df are tiny, no p-value where they are <= 0), or, for department alone,
    :func:`toolkit.cluster_level_comparison`. With one account per level nothing separates the level from
    its account (the CR2 fit refuses: leverage 1). For a cluster-robust fit the type II hypothesis is built in
    the metric of the model-based covariance (inverse Fisher information), not of the CR2 covariance: with few
    clusters the CR2 covariance is too noisy to choose the hypothesis (built in its metric, the type II CR2
    tests of department and platform rejected 0.245 and 0.215 at 4 x 4 accounts in the same benchmark, run
    before this change);
    with a model-based covariance the two constructions are the same.

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
    from ._engine import _fit

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
    model_vcov = np.asarray(fit["vcov"], dtype=float) if cluster and "vcov" in fit else vcov
    is_glmm = bool(design.random_terms) and not cluster
    few = {name: info for name, info in (between_group_terms(design) if is_glmm else {}).items()
           if info["fewest"] < FEW_SUBJECTS}
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
        note = _between_caution(term["name"], few[term["name"]], test) if term["name"] in few else ""
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
            # type II hypothesis in the metric of the model-based covariance (car's construction): for a
            # cluster-robust fit the CR2 covariance is too noisy with few clusters to define the hypothesis
            # (built in its metric the single-term tests rejected 0.27 / 0.23 at 4 x 4 accounts; see Notes)
            L = _wald_matrix(term, terms, p, model_vcov, type)
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
    if few:
        named = ", ".join(f"{n} (as few as {i['fewest']} {i['grouping']}(s) per "
                          f"{'level' if i['unit'] == 'level' else 'coefficient'})" for n, i in few.items())
        groupings = sorted({i["grouping"] for i in few.values()})
        warn(f"{func}: {named} {'is' if len(few) == 1 else 'are'} constant within each "
             f"{' / '.join(groupings)}, so only differences between a few {' / '.join(groupings)}s inform "
             f"{'it' if len(few) == 1 else 'them'}: with fewer than {FEW_SUBJECTS} per level the GLMM's "
             f"{'likelihood-ratio' if test == 'likelihood_ratio' else 'Wald'} test calls a difference significant "
             "too often when there is none (see the method column for the measured rate). The alternative: refit "
             f"without the random intercept with subject={groupings[0]!r}, cov_type='cluster' (CR2 Wald, HTZ; "
             "measured 0.00 to 0.04 with 2 to 4 accounts per department), or tk.cluster_level_comparison for the "
             f"department comparison alone. Terms that vary within {' / '.join(groupings)} are not affected.")
    return pd.DataFrame(rows, columns=COLUMNS)
