"""Post-hoc pairwise comparisons between groups (Tukey/Dunnett, Games–Howell, Dunn, permutation, bootstrap).

One public function, :func:`pairwise`, returns one row per pair of groups with the columns of
``schema.PAIRWISE_COLUMNS``. It is the front door: it checks the options, prepares the groups and
the pairs once, calls one small function per method (the dispatch table
``_pairwise_methods.METHODS``), then adjusts the p-values, computes the effect sizes and assembles
the table, the same way for every method. The studentized range distribution is in
``_studentized_range`` (a vectorised Copenhaver & Holland (1988) algorithm, the one behind R's
``ptukey``), so that many groups (k = 50 gives 1,225 pairs) stay fast.
"""
from __future__ import annotations

import numpy as np

from .._validation import (_did_you_mean, check_alternative, check_integer, check_option, check_probability,
                           check_random_state, message)
from ._pairwise_methods import METHODS as _METHOD_FUNCTIONS
from ._pairwise_methods import P_FLOOR, STANDARD_CORRECTION, PairEstimates, PairSetup  # noqa: F401 (P_FLOOR)
from .prepare import prepare_groups
from .schema import PAIRWISE_COLUMNS, frame
from ._studentized_range import _ptukey, _qcrit_by_df, _qtukey  # noqa: F401  (re-exported for the tests)
from .multitest import adjust_pvalues, check_p_adjust

__all__ = ["pairwise"]

METHODS: tuple[str, ...] = tuple(_METHOD_FUNCTIONS)
#: Routes of the effect-size interval (``effsize_ci``).
EFFSIZE_CI: tuple[str, ...] = ("analytic", "none")


def pairwise(data, *, dv, between, method="games_howell", p_adjust=None, reference=None, alternative="two-sided",
             confidence_level=0.95, effsize_ci="analytic", n_resamples=9999, seed=None, nan_policy="raise"):
    """Compare every pair of groups (or every group with a reference) after an omnibus test.

    Multiple-comparison correction is on by default: each method applies its standard correction
    (the studentized range for Tukey and Games–Howell, Holm for the others), and the raw per-pair
    p-value is reported next to the adjusted one.

    Parameters
    ----------
    data : pandas.DataFrame
        Long form: one row per observation (post).
    dv : str
        Outcome column (numeric).
    between : str
        Grouping column (department, seller, ...). Pairs follow the group order (category order for
        categoricals, sorted otherwise): ``group_a`` comes before ``group_b``.
    method : {"games_howell", "tukey", "dunn", "permutation", "bootstrap"}, default="games_howell"
        ``"games_howell"``: Welch standard error and df per pair, studentized-range p and simultaneous
        CI (unequal variances allowed). ``"tukey"``: Tukey HSD with the pooled variance (Tukey–Kramer
        for unequal sizes; assumes equal variances). ``"dunn"``: Dunn's (1964) z test on mean ranks
        of the pooled ranking, with tie correction (the follow-up to Kruskal–Wallis).
        ``"permutation"``: two-sample permutation test of the mean difference per pair.
        ``"bootstrap"``: BCa bootstrap CI of the mean difference per pair (no p-value; see Notes).
    p_adjust : {None, "holm", "bonferroni", "hochberg", "hommel", "fdr_bh", "fdr_by", "none"}, default=None
        Multiple-comparison correction. None means the method's standard: ``"tukey"`` /
        ``"games_howell"`` (studentized range) for those methods (``"dunnett"`` for tukey with a
        ``reference``), ``"holm"`` for dunn and permutation, ``"bonferroni"`` (of the confidence level)
        for bootstrap. A name applies that correction
        (:func:`toolkit.adjust_pvalues`) to the raw per-pair p-values; for tukey/games_howell the
        estimate CIs are then per-pair (unadjusted) t intervals, and the ``method`` column says so.
    reference : object or None, default=None
        A group label: compare every other group with it (family of k − 1 comparisons, rows
        ``group_a`` = other group, ``group_b`` = reference) instead of all k(k − 1)/2 pairs. With
        method="tukey" the default correction is then Dunnett's (1955) many-to-one test (pooled
        variance, simultaneous CI). With method="games_howell" pass an explicit ``p_adjust`` (e.g.
        "holm"): the studentized range corrects for all pairs and there is no standard
        unequal-variance many-to-one procedure, so the default raises an error rather than silently
        switching.
    alternative : {"two-sided", "less", "greater"}, default="two-sided"
        Direction for ``group_a − group_b``. The studentized range is two-sided, so one-sided tests
        with tukey/games_howell over all pairs need an explicit ``p_adjust`` (Dunnett's test with a
        ``reference`` supports one-sided alternatives); bootstrap is two-sided only.
    confidence_level : float, default=0.95
        Level of the estimate and effect-size intervals.
    effsize_ci : {"analytic", "none"}, default="analytic"
        Interval of the effect size (``ci_low``, ``ci_high``): ``"analytic"`` computes it in closed form
        (noncentral t inversion for Hedges' g, Cliff's consistent variance with the Feng & Cliff
        asymmetric interval for Cliff's delta; see Notes); ``"none"`` skips it (NaN limits, the point
        estimate is still reported). Same option name as :func:`toolkit.kruskal`.
    n_resamples : int, default=9999
        Resamples per pair (permutation, bootstrap only).
    seed : None, int or numpy.random.Generator, default=None
        Randomness for permutation/bootstrap; each pair gets its own stream drawn from it.
        The same int gives the same numbers on every run; None draws fresh randomness.
    nan_policy : {"raise", "omit"}, default="raise"
        "omit" drops rows with a missing outcome or group and reports the count in ``n_dropped``.

    Returns
    -------
    pandas.DataFrame
        One row per pair, columns (always all of them, NaN where not applicable):

        - ``test``: "tukey", "games_howell", "dunn", "permutation" or "bootstrap".
        - ``dv``, ``between``: the column names used.
        - ``group_a``, ``group_b``: the two groups; differences are ``group_a − group_b``.
        - ``n_a``, ``n_b``: observations in each group.
        - ``estimate``: mean difference (units of ``dv``); for dunn the difference in mean ranks.
        - ``estimate_type``: "mean_difference" or "mean_rank_difference".
        - ``estimate_ci_low``, ``estimate_ci_high``: CI of the estimate; simultaneous (family-wise)
          for tukey/games_howell with the default correction and for bootstrap with Bonferroni,
          per-pair otherwise; NaN for dunn and permutation.
        - ``statistic``: studentized range q = sqrt(2)|t| (tukey, games_howell), Dunnett's signed t
          (tukey with ``reference`` and the default correction), z (dunn), the observed mean
          difference (permutation); NaN for bootstrap.
        - ``df``: error df (tukey: N − k; games_howell: Welch df of the pair); NaN otherwise.
        - ``p_value``: raw per-pair p (tukey: pooled-variance t test; games_howell: Welch t test;
          dunn: normal z; permutation: Monte-Carlo p); NaN for bootstrap.
        - ``p_adjusted``: p after the correction named in ``p_adjust``; always >= ``p_value``.
        - ``p_adjust``: the correction applied ("tukey", "games_howell", "dunnett", "holm", ...).
        - ``effect_size``, ``effect_size_type``, ``ci_low``, ``ci_high``: Hedges' g of
          ``group_a − group_b`` with its noncentral-t CI (Cliff's delta with Cliff's CI for dunn), at
          ``confidence_level`` per pair.
        - ``confidence_level``: the requested level.
        - ``n``: observations analysed in all groups of the family (N).
        - ``n_dropped``: rows removed under ``nan_policy="omit"``.
        - ``alternative``: the direction tested.
        - ``method``: a sentence describing how the row was computed (including the correction and
          whether the CI is simultaneous).

    Raises
    ------
    ValueError
        Unknown option, reference label not in the data, games_howell with ``reference``, or
        tukey/games_howell over all pairs with a one-sided ``alternative``, without an explicit
        ``p_adjust``; bootstrap with a p-value correction or a one-sided alternative; and the input errors of the shared
        group preparation (missing values under nan_policy="raise", groups with < 2 values, ...).
    TypeError
        Non-numeric ``dv`` or wrong argument types.

    See Also
    --------
    adjust_pvalues : The corrections used here.
    welch_anova, kruskal : Omnibus tests to run first.
    compact_letter_display : Compact letter display of pairwise comparisons: groups sharing a letter do not
        differ significantly.

    Notes
    -----
    Tukey (Tukey–Kramer): with the pooled error variance MSE on df = N − k,
    SE = sqrt(MSE (1/n_a + 1/n_b) / 2), q = |ȳ_a − ȳ_b| / SE, p_adjusted = P(Q_{k,df} >= q) and the
    simultaneous CI ȳ_a − ȳ_b ± q_{1−α; k, df} SE. Games–Howell: the same with Welch's
    SE = sqrt((s_a²/n_a + s_b²/n_b) / 2) and the pair's Welch–Satterthwaite df. The raw ``p_value``
    is the matching two-sample t test (t = q / sqrt(2) with sign). Dunnett (tukey with ``reference``):
    ``scipy.stats.dunnett`` (pooled variance of all k groups, df = N − k, multivariate-t p and
    simultaneous CI); its integration is quasi-Monte-Carlo with a fixed lattice seed, so results are
    deterministic but carry an absolute error of ~1e-5 to 1e-4; the p-value is clipped to the exact
    bounds [p_t, (k − 1) p_t] and below 1e-3 the Bonferroni bound (k − 1) p_t (capped at 1e-3) is
    reported. Dunn:
    z = (R̄_a − R̄_b) / sqrt((N(N+1)/12 − Σ(t³ − t)/(12(N − 1))) (1/n_a + 1/n_b)) with mid-ranks of
    all N values and t the sizes of tied groups; ranks are always those of all groups, also with
    ``reference``. Permutation: ``toolkit.stats.resampling.permutation_test_two`` (mean difference,
    p = (1 + #extreme) / (n_resamples + 1), never 0) per pair, Holm over the family by default.

    Bootstrap: the BCa interval of the mean difference from
    ``toolkit.stats.resampling.bootstrap_two``. No p-value is computed (``p_value`` and
    ``p_adjusted`` are NaN): inverting a BCa interval needs one bootstrap per trial level and is not
    a test with a known error rate; use ``method="permutation"`` for p-values. Multiplicity is
    handled on the intervals instead: by default each interval has level 1 − (1 − confidence_level)/m
    (Bonferroni, simultaneous coverage >= confidence_level for m comparisons; ``p_adjust`` =
    "bonferroni"); ``p_adjust="none"`` gives per-pair intervals; other corrections are p-value
    procedures and raise an error. A ToolkitWarning is issued when fewer than 10 resamples fall in
    each tail of the adjusted interval (increase ``n_resamples``).

    p-values are never reported as 0. The studentized range integral is computed with the
    Copenhaver–Holland (1988) quadrature, the algorithm of R's ``ptukey`` (our vectorised version agrees
    with R to 3e-14), whose absolute error is up to ~3e-10 in the far tail (measured against
    ``scipy.stats.studentized_range``); for df > 25000, where that algorithm treats df as infinite
    (relative error up to ~1e-3), ``scipy.stats.studentized_range.sf`` is used instead. Two exact
    bounds then bracket the reported value: p_t <= p_adjusted <= m·p_t, with p_t the pair's raw
    t-test p and m = k(k − 1)/2 (the range over all pairs is at least this pair's difference; Bonferroni
    over all pairs; for Games–Howell both are approximate, like the method). Below 1e-6, where the
    quadrature loses relative accuracy, the Bonferroni bound (capped at 1e-6) is reported: it is
    conservative and within ~1% of the true value there. p-values below 2.2e-308 (the smallest normal
    double, e.g. an underflowing t or normal tail) are reported as 2.2e-308, raw ones included. The
    simultaneous CI uses the quantile q_{1−α; k, df} found by secant iterations on the same integral (for Games–Howell with more than 24 distinct df,
    interpolated in 1/df from 24 exact values; error < 1e-7).

    Effect-size intervals are per pair at ``confidence_level`` (not adjusted for multiplicity).
    Missing data follow ``nan_policy`` (shared ``prepare_groups``); every group needs at least 2
    values.

    Validated against R 4.2.2: ``TukeyHSD(aov(y ~ g))`` (estimates, simultaneous CIs, p adj),
    ``rstatix::games_howell_test()`` 0.7.2, ``rstatix::dunn_test(p.adjust.method = "holm")`` (checked
    against Dunn's formula written out in R), ``pairwise.t.test`` (raw pooled and Welch p) and
    ``ptukey``/``qtukey`` on a grid, ``multcomp::glht(mcp(g = "Dunnett"))`` 1.4-22, on PlantGrowth
    (Dobson 1983) and two real datasets; Tukey also against ``scipy.stats.tukey_hsd``. See tests/reference/pairwise/ and tests/test_pairwise.py.

    References
    ----------
    Tukey, J. W. (1953). The problem of multiple comparisons. Unpublished manuscript; Kramer, C. Y.
    (1956). Extension of multiple range tests to group means with unequal numbers of replications.
    Biometrics, 12(3), 307–310. https://doi.org/10.2307/3001469

    Games, P. A., & Howell, J. F. (1976). Pairwise multiple comparison procedures with unequal n's
    and/or variances. Journal of Educational Statistics, 1(2), 113–125.
    https://doi.org/10.3102/10769986001002113

    Dunnett, C. W. (1955). A multiple comparison procedure for comparing several treatments with a
    control. Journal of the American Statistical Association, 50(272), 1096–1121.
    https://doi.org/10.1080/01621459.1955.10501294

    Dunn, O. J. (1964). Multiple comparisons using rank sums. Technometrics, 6(3), 241–252.
    https://doi.org/10.1080/00401706.1964.10490181

    Copenhaver, M. D., & Holland, B. (1988). Computation of the distribution of the maximum
    studentized range statistic with application to multiple significance testing of simple
    effects. Journal of Statistical Computation and Simulation, 30(1), 1–15.
    https://doi.org/10.1080/00949658808811082

    Holm, S. (1979). A simple sequentially rejective multiple test procedure. Scandinavian Journal
    of Statistics, 6(2), 65–70. https://www.jstor.org/stable/4615733

    Examples
    --------
    >>> import toolkit as tk
    >>> posts = tk.simulate_organization(seed=1).data
    >>> table = tk.pairwise(posts, dv="likes", between="department", method="games_howell")
    >>> table.shape
    (36, 25)
    >>> list(table.columns) == list(tk.stats.schema.PAIRWISE_COLUMNS)
    True
    >>> bool((table["p_adjusted"] >= table["p_value"]).all())
    True
    >>> table["p_adjust"].unique().tolist()
    ['games_howell']
    """
    func = "pairwise"
    check_option(method, METHODS, func, "method")
    if p_adjust is not None:
        p_adjust = check_p_adjust(p_adjust, func)
    check_alternative(alternative, func)
    level = check_probability(confidence_level, func, "confidence_level")
    check_option(effsize_ci, EFFSIZE_CI, func, "effsize_ci")
    n_resamples = check_integer(n_resamples, func, "n_resamples")
    rng = check_random_state(seed, func)
    _check_combination(method, p_adjust, reference, alternative, func)

    gd = prepare_groups(data, dv=dv, between=between, func=func, nan_policy=nan_policy, min_size=2)
    ia, ib = _pairs(gd, reference, between, func)
    correction = p_adjust if p_adjust is not None else _standard_correction(method, reference)
    setup = _setup(gd, ia, ib, func=func, dv=dv, level=level, alternative=alternative, correction=correction,
                   n_resamples=n_resamples, rng=rng)
    est = _METHOD_FUNCTIONS[method](setup)
    p_adjusted = est.p_adjusted if est.p_adjusted is not None else adjust_pvalues(est.p_value, p_adjust=correction)
    effects = _effect_sizes(setup, est, level if effsize_ci == "analytic" else None)
    out = _table(setup, est, p_adjusted, effects, test=method, between=between)
    if method != "bootstrap":
        # guard against rounding: an adjusted p is never below the raw p
        out["p_adjusted"] = np.fmax(out["p_adjusted"].to_numpy(), out["p_value"].to_numpy())
    return out


def _standard_correction(method: str, reference) -> str:
    """The correction of ``p_adjust=None``: the method's standard (Dunnett's for tukey with a reference)."""
    return "dunnett" if method == "tukey" and reference is not None else STANDARD_CORRECTION[method]


def _check_combination(method, p_adjust, reference, alternative, func) -> None:
    """Refuse the option combinations a method cannot honour (before touching the data)."""
    if method in ("tukey", "games_howell") and p_adjust is None:
        if method == "games_howell" and reference is not None:
            raise ValueError(message(
                func, "p_adjust", "given explicitly when comparing with a `reference` using "
                "method='games_howell'", None,
                "The studentized range corrects for all k(k-1)/2 pairs, not for k-1 comparisons with one "
                "reference, and there is no standard unequal-variance many-to-one procedure. Pass "
                "p_adjust='holm' for Holm-adjusted Welch t tests against the reference, use method='tukey' "
                "(Dunnett's test, equal variances), or drop `reference` to compare all pairs."))
        if alternative != "two-sided" and reference is None:
            raise ValueError(message(
                func, "p_adjust", f"given explicitly for a one-sided alternative with method={method!r}", None,
                "The studentized range is two-sided. Pass p_adjust='holm' for Holm-adjusted one-sided "
                "per-pair t tests, or use alternative='two-sided'."))
    if method == "bootstrap":
        if alternative != "two-sided":
            raise ValueError(message(func, "alternative", "'two-sided' with method='bootstrap'", alternative,
                                     "The bootstrap gives a two-sided interval and no p-value; use "
                                     "method='permutation' for one-sided tests."))
        if p_adjust not in (None, "bonferroni", "none"):
            raise ValueError(message(func, "p_adjust", "None, 'bonferroni' or 'none' with method='bootstrap'",
                                     p_adjust, "The bootstrap reports intervals, not p-values, so only a "
                                     "Bonferroni adjustment of the confidence level applies; use "
                                     "method='permutation' for Holm/FDR-adjusted p-values."))


def _pairs(gd, reference, between, func) -> tuple[np.ndarray, np.ndarray]:
    """Group indices (a, b) of the compared pairs: all pairs, or every other group with ``reference``."""
    if reference is None:
        return np.triu_indices(gd.k, 1)
    if reference not in gd.labels:
        shown = ", ".join(repr(lab) for lab in gd.labels[:12])
        close = _did_you_mean(reference, [str(v) for v in gd.labels]) if isinstance(reference, str) else ""
        raise ValueError(message(func, "reference", f"a group label of {between!r}", reference,
                                 f"Available labels: {shown}.{close}"))
    r = gd.labels.index(reference)
    ia = np.array([i for i in range(gd.k) if i != r], dtype=np.int64)
    return ia, np.full(ia.size, r, dtype=np.int64)


def _setup(gd, ia, ib, **options) -> PairSetup:
    """Group means, variances and squared deviations, once for every method."""
    sizes = gd.sizes.astype(np.float64)
    means = np.add.reduceat(gd.values, gd.starts) / sizes
    dev2 = np.add.reduceat((gd.values - np.repeat(means, gd.sizes)) ** 2, gd.starts)
    return PairSetup(gd=gd, ia=ia, ib=ib, means=means, variances=dev2 / (sizes - 1.0), dev2=dev2, **options)


def _effect_sizes(s: PairSetup, est: PairEstimates, es_level: float | None) -> list:
    """Cliff's delta from the pooled ranking (Dunn), Hedges' g from group moments (the others)."""
    pairs = list(zip(s.ia.tolist(), s.ib.tolist()))
    if est.ranking is not None:
        from .effect_sizes import cliffs_delta_pairs
        by_group = est.ranking.sorted_dense_by_group(s.gd.codes, s.gd.sizes)
        return cliffs_delta_pairs(by_group, est.ranking.n_unique, pairs, es_level)
    from .effect_sizes import _hedges_g_from_moments, _moments
    moments = [_moments(g) for g in s.gd.groups()]  # each group once, not once per pair
    return [_hedges_g_from_moments(moments[a], moments[b], es_level) for a, b in pairs]


def _table(s: PairSetup, est: PairEstimates, p_adjusted, effects, *, test: str, between: str):
    """One row per pair in the ``PAIRWISE_COLUMNS`` schema."""
    gd, rows = s.gd, []
    for j in range(s.m):
        a, b = int(s.ia[j]), int(s.ib[j])
        es = effects[j]
        rows.append({
            "test": test, "dv": s.dv, "between": between, "group_a": gd.labels[a], "group_b": gd.labels[b],
            "n_a": int(gd.sizes[a]), "n_b": int(gd.sizes[b]),
            "estimate": float(est.estimate[j]), "estimate_type": est.estimate_type,
            "estimate_ci_low": float(est.ci_low[j]), "estimate_ci_high": float(est.ci_high[j]),
            "statistic": float(est.statistic[j]), "df": float(est.df[j]),
            "p_value": float(est.p_value[j]), "p_adjusted": float(p_adjusted[j]), "p_adjust": s.correction,
            "effect_size": float(es.effect_size), "effect_size_type": es.effect_size_type,
            "ci_low": float(es.ci_low), "ci_high": float(es.ci_high),
            "confidence_level": s.level, "n": gd.n, "n_dropped": gd.n_dropped, "alternative": s.alternative,
            "method": est.how,
        })
    return frame(rows, PAIRWISE_COLUMNS)
