"""Post-hoc pairwise comparisons between groups (Tukey/Dunnett, Games–Howell, Dunn, permutation, bootstrap).

One public function, :func:`pairwise`, returns one row per pair of groups with the columns of
``_schema.PAIRWISE_COLUMNS``. The studentized range distribution is computed here with a vectorised
implementation of the Copenhaver & Holland (1988) algorithm (the one behind R's ``ptukey``), so that
many groups (k = 50 gives 1,225 pairs) stay fast.
"""
from __future__ import annotations

import math

import numpy as np
from scipy import special, stats

from .._validation import (_did_you_mean, check_alternative, check_integer, check_option, check_probability,
                           check_random_state, message, warn)
from ._prepare import prepare_groups
from ._ranks import pooled_ranking
from ._schema import PAIRWISE_COLUMNS, frame
from .multitest import adjust_pvalues, check_p_adjust

__all__ = ["pairwise"]

METHODS: tuple[str, ...] = ("games_howell", "tukey", "dunn", "permutation", "bootstrap")
#: Routes of the effect-size interval (``effsize_ci``).
EFFSIZE_CI: tuple[str, ...] = ("analytic", "none")

#: Below this, the numerical studentized-range integral (absolute error up to ~3e-10) has little
#: relative accuracy left; the Bonferroni bound is reported instead (see ``pairwise`` Notes).
_SR_RELIABLE = 1e-6
#: Dunnett p-values come from scipy's randomized quasi-Monte-Carlo multivariate-t integration (absolute
#: error ~1e-5 to 1e-4); below this the Bonferroni bound over the k - 1 comparisons is reported.
_DUNNETT_RELIABLE = 1e-3
#: Fixed seed of that numerical integration, so that results are deterministic (it is not statistical
#: randomness: it only chooses the integration lattice).
_DUNNETT_SEED = 20261121
#: Smallest p-value reported (the smallest normal double); a true p-value is never exactly 0.
P_FLOOR = float(np.finfo(np.float64).tiny)


# ---------------------------------------------------------------------------------------------
# Studentized range distribution (vectorised; Copenhaver & Holland 1988, as in R's ptukey/qtukey)
# ---------------------------------------------------------------------------------------------
_XLEG = np.array([0.981560634246719250690549090149, 0.904117256370474856678465866119,
                  0.769902674194304687036893833213, 0.587317954286617447296702418941,
                  0.367831498998180193752691536644, 0.125233408511468915472441369464])
_ALEG = np.array([0.047175336386511827194615961485, 0.106939325995318430960254718194,
                  0.160078328543346226334652529543, 0.203167426723065921749064455810,
                  0.233492536538354808760849898925, 0.249147045813402785000562436043])
_XLEGQ = np.array([0.989400934991649932596154173450, 0.944575023073232576077988415535,
                   0.865631202387831743880467897712, 0.755404408355003033895101194847,
                   0.617876244402643748446671764049, 0.458016777657227386342419442984,
                   0.281603550779258913230460501460, 0.950125098376374401853193354250e-1])
_ALEGQ = np.array([0.271524594117540948517805724560e-1, 0.622535239386478928628438369944e-1,
                   0.951585116824927848099251076022e-1, 0.124628971255533872052476282192,
                   0.149595988816576732081501730547, 0.169156519395002538189312079030,
                   0.182603415044923588866763667969, 0.189450610455068496285396723208])
_X12 = np.concatenate([-_XLEG, _XLEG[::-1]])   # 12-point Gauss–Legendre on [-1, 1], increasing
_A12 = np.concatenate([_ALEG, _ALEG[::-1]])
_X16 = np.concatenate([-_XLEGQ, _XLEGQ[::-1]])  # 16-point Gauss–Legendre on [-1, 1], increasing
_A16 = np.concatenate([_ALEGQ, _ALEGQ[::-1]])


def _range_cdf(w, k: int) -> np.ndarray:
    """P(range of k iid standard normals < w) in Hartley's form, vectorised over ``w``."""
    w = np.asarray(w, dtype=np.float64)
    cc = float(k)
    half = 0.5 * w
    pr_w = 2.0 * special.ndtr(half) - 1.0
    pr_w = np.where(pr_w >= math.exp(-50.0 / cc), np.abs(pr_w) ** cc, 0.0)
    n_int = np.where(w > 3.0, 2, 3)  # fewer sub-intervals when the second term is small
    binc = (8.0 - half) / n_int
    total = np.zeros_like(w)
    threshold = math.exp(-30.0 / (cc - 1.0))
    for i in range(3):
        a = (half + (i + 0.5) * binc)[..., None]
        b = (0.5 * binc)[..., None]
        ac = a + b * _X12
        rin = special.ndtr(ac) - special.ndtr(ac - w[..., None])
        use = ((ac * ac) <= 60.0) & (rin >= threshold)
        term = np.where(use, _A12 * np.exp(-0.5 * ac * ac) * np.where(use, rin, 1.0) ** (cc - 1.0), 0.0)
        elsum = term.sum(axis=-1) * (2.0 * b[..., 0] * cc / math.sqrt(2.0 * math.pi))
        total = total + np.where(i < n_int, elsum, 0.0)
    pr = pr_w + total
    out = np.minimum(np.where(pr <= math.exp(-30.0), 0.0, pr), 1.0)
    return np.where(half >= 8.0, 1.0, out)


def _ptukey(q, k: int, df) -> np.ndarray:
    """Lower-tail studentized range probability P(Q < q; k, df), vectorised over q and df."""
    q, df = np.broadcast_arrays(np.asarray(q, dtype=np.float64), np.asarray(df, dtype=np.float64))
    shape = q.shape
    q, df = q.ravel().copy(), df.ravel()
    out = np.full(q.size, np.nan)
    finite = np.isfinite(q) & np.isfinite(df)
    large = finite & (df > 25000.0)
    out[large] = _range_cdf(q[large], k)
    small = finite & ~large
    qs, ds = q[small], df[small]
    if qs.size:
        f2 = 0.5 * ds
        f2lf = f2 * np.log(ds) - ds * math.log(2.0) - special.gammaln(f2)
        f21 = f2 - 1.0
        ff4 = 0.25 * ds
        ulen = np.select([ds <= 100.0, ds <= 800.0, ds <= 5000.0], [1.0, 0.5, 0.25], 0.125)
        f2lf = f2lf + np.log(ulen)
        ans = np.zeros(qs.size)
        active = np.ones(qs.size, dtype=bool)
        for i in range(1, 51):
            idx = np.flatnonzero(active)
            if idx.size == 0:
                break
            u = ulen[idx][:, None]
            x = (2 * i - 1) * u + _X16 * u
            t1 = f2lf[idx][:, None] + f21[idx][:, None] * np.log(x) - x * ff4[idx][:, None]
            ok = t1 >= -30.0
            wp = _range_cdf(qs[idx][:, None] * np.sqrt(0.5 * x), k)
            otsum = np.where(ok, wp * _A16 * np.exp(np.where(ok, t1, 0.0)), 0.0).sum(axis=1)
            stop = (i * ulen[idx] >= 1.0) & (otsum <= 1e-14)
            ans[idx[~stop]] += otsum[~stop]
            active[idx[stop]] = False
        out[small] = np.minimum(ans, 1.0)
    out = np.where(finite & (q <= 0), 0.0, out)
    out = np.where(np.isposinf(q), 1.0, out)
    return out.reshape(shape)


def _qtukey(p: float, k: int, df) -> np.ndarray:
    """Quantile of the studentized range (secant iterations from R's qinv start), vectorised over df."""
    df = np.atleast_1d(np.asarray(df, dtype=np.float64))
    out = np.full(df.shape, np.nan)
    ok = np.isfinite(df) & (df >= 1.0)
    d = df[ok]
    if d.size == 0:
        return out
    # Starting value: Odeh & Evans normal-quantile approximation as in R's qinv
    ps = 0.5 - 0.5 * p
    yi = math.sqrt(math.log(1.0 / (ps * ps)))
    t = yi + ((((yi * -0.453642210148e-04 + -0.204231210125) * yi + -0.342242088547) * yi + -1.0) * yi
              + 0.322232421088) / ((((yi * 0.38560700634e-02 + 0.103537752850) * yi + 0.531103462366) * yi
                                    + 0.588581570495) * yi + 0.993484626060e-01)
    small_v = d < 120.0
    t = np.where(small_v, t + (t ** 3 + t) / d / 4.0, t)
    qq = 0.8832 - 0.2368 * t
    qq = np.where(small_v, qq - 1.214 / d + 1.208 * t / d, qq)
    x0 = t * (qq * math.log(k - 1.0) + 1.4142)
    v0 = _ptukey(x0, k, d) - p
    x1 = np.where(v0 > 0.0, np.maximum(0.0, x0 - 1.0), x0 + 1.0)
    v1 = _ptukey(x1, k, d) - p
    active = np.ones(d.size, dtype=bool)
    for _ in range(60):
        idx = np.flatnonzero(active)
        if idx.size == 0:
            break
        denom = v1[idx] - v0[idx]
        step = np.where(denom != 0.0, v1[idx] * (x1[idx] - x0[idx]) / np.where(denom != 0.0, denom, 1.0), 0.0)
        new = np.maximum(x1[idx] - step, 0.0)
        x0[idx], v0[idx] = x1[idx], v1[idx]
        x1[idx] = new
        v1[idx] = _ptukey(new, k, d[idx]) - p
        done = (np.abs(x1[idx] - x0[idx]) <= 1e-12 * np.maximum(1.0, np.abs(x1[idx]))) | (v1[idx] == 0.0)
        active[idx[done]] = False
    out[ok] = x1
    return out


def _tukey_sf(q: np.ndarray, k: int, df: np.ndarray, p_pair: np.ndarray) -> np.ndarray:
    """Upper-tail studentized-range p with the documented bounds and floor (see ``pairwise`` Notes)."""
    q = np.asarray(q, dtype=np.float64)
    df = np.asarray(df, dtype=np.float64)
    sf = 1.0 - _ptukey(q, k, df)
    huge = np.isfinite(q) & (df > 25000.0)
    if huge.any():  # the quadrature treats df > 25000 as infinite; scipy's integration keeps df
        sf[huge] = stats.studentized_range.sf(q[huge], k, df[huge])
    union = np.minimum(1.0, (k * (k - 1) / 2.0) * p_pair)  # Bonferroni bound over all k(k-1)/2 pairs
    p = np.where(sf >= _SR_RELIABLE, np.minimum(sf, union), np.minimum(union, _SR_RELIABLE))
    p = np.maximum(p, p_pair)  # P(max over pairs >= q) >= P(this pair >= q)
    return np.where(np.isnan(q), np.nan, np.clip(p, P_FLOOR, 1.0))


def _bounded(p: np.ndarray, p_pair: np.ndarray, m: int, reliable: float) -> np.ndarray:
    """Clip a numerically integrated family-wise p to [p_pair, m p_pair]; Bonferroni bound below ``reliable``."""
    union = np.minimum(1.0, m * p_pair)
    p = np.where(p >= reliable, np.minimum(p, union), np.minimum(union, reliable))
    return np.where(np.isnan(p_pair), np.nan, np.clip(np.maximum(p, p_pair), P_FLOOR, 1.0))


def _t_pvalue(t: np.ndarray, df: np.ndarray, alternative: str) -> np.ndarray:
    if alternative == "two-sided":
        p = np.minimum(1.0, 2.0 * stats.t.sf(np.abs(t), df))
    elif alternative == "greater":
        p = stats.t.sf(t, df)
    else:
        p = stats.t.cdf(t, df)
    return np.maximum(p, P_FLOOR)  # NaN stays NaN; an underflow is reported as the floor, not 0


def _z_pvalue(z: np.ndarray, alternative: str) -> np.ndarray:
    if alternative == "two-sided":
        p = np.minimum(1.0, 2.0 * stats.norm.sf(np.abs(z)))
    elif alternative == "greater":
        p = stats.norm.sf(z)
    else:
        p = stats.norm.cdf(z)
    return np.maximum(p, P_FLOOR)


def _t_interval(diff, se, df, level, alternative):
    if alternative == "two-sided":
        crit = stats.t.ppf(0.5 + level / 2.0, df)
        return diff - crit * se, diff + crit * se
    crit = stats.t.ppf(level, df)
    if alternative == "greater":
        return diff - crit * se, np.full_like(diff, np.inf)
    return np.full_like(diff, -np.inf), diff + crit * se


_LABEL = {"tukey": "Tukey HSD", "games_howell": "Games-Howell", "dunn": "Dunn (1964)",
          "permutation": "Permutation test", "bootstrap": "Bootstrap"}


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
    >>> list(table.columns) == list(tk.stats._schema.PAIRWISE_COLUMNS)
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

    gd = prepare_groups(data, dv=dv, between=between, func=func, nan_policy=nan_policy, min_size=2)
    k = gd.k
    if reference is not None:
        if reference not in gd.labels:
            shown = ", ".join(repr(lab) for lab in gd.labels[:12])
            close = _did_you_mean(reference, [str(v) for v in gd.labels]) if isinstance(reference, str) else ""
            raise ValueError(message(func, "reference", f"a group label of {between!r}", reference,
                                     f"Available labels: {shown}.{close}"))
        r = gd.labels.index(reference)
        ia = np.array([i for i in range(k) if i != r], dtype=np.int64)
        ib = np.full(ia.size, r, dtype=np.int64)
    else:
        ia, ib = np.triu_indices(k, 1)
    m = ia.size
    sizes = gd.sizes.astype(np.float64)
    sums = np.add.reduceat(gd.values, gd.starts)
    means = sums / sizes
    dev2 = np.add.reduceat((gd.values - np.repeat(means, gd.sizes)) ** 2, gd.starts)
    variances = dev2 / (sizes - 1.0)
    na, nb = sizes[ia], sizes[ib]
    diff = means[ia] - means[ib]
    nan = np.full(m, np.nan)

    correction = p_adjust if p_adjust is not None else {
        "tukey": "tukey" if reference is None else "dunnett", "games_howell": "games_howell", "dunn": "holm",
        "permutation": "holm", "bootstrap": "bonferroni"}[method]
    estimate_type = "mean_difference"
    ci_lo, ci_hi, statistic, df, p_raw, p_adj = nan, nan, nan, nan, nan, nan

    if method in ("tukey", "games_howell"):
        if method == "tukey":
            df_err = float(gd.n - k)
            mse = float(dev2.sum()) / df_err
            se_t = np.sqrt(mse * (1.0 / na + 1.0 / nb))
            df = np.full(m, df_err)
        else:
            va, vb = variances[ia] / na, variances[ib] / nb
            se_t = np.sqrt(va + vb)
            with np.errstate(divide="ignore", invalid="ignore"):
                df = (va + vb) ** 2 / (va ** 2 / (na - 1.0) + vb ** 2 / (nb - 1.0))
        zero = se_t == 0.0
        if zero.any():
            warn(f"{func}: {int(zero.sum())} pair(s) have zero variance in both groups; their statistic and "
                 f"p-values are NaN.")
        with np.errstate(divide="ignore", invalid="ignore"):
            t = np.where(zero, np.nan, diff / se_t)
        df = np.where(zero, np.nan, df)
        statistic = np.sqrt(2.0) * np.abs(t)
        p_raw = _t_pvalue(t, df, alternative)
        if correction == "dunnett":
            res = stats.dunnett(*[gd.group(i) for i in ia], control=gd.group(int(ib[0])), alternative=alternative,
                                rng=check_random_state(_DUNNETT_SEED, func))
            statistic = np.asarray(res.statistic, dtype=np.float64)  # Dunnett's t (= pooled t of the pair)
            p_adj = _bounded(np.asarray(res.pvalue, dtype=np.float64), p_raw, m, _DUNNETT_RELIABLE)
            ci = res.confidence_interval(confidence_level=level)
            ci_lo, ci_hi = np.asarray(ci.low, dtype=np.float64), np.asarray(ci.high, dtype=np.float64)
            how = (f"Dunnett's test (Tukey method with a reference): pooled variance, multivariate-t p and "
                   f"simultaneous {level:.0%} CI over the {m} comparisons with {gd.labels[int(ib[0])]!r}")
        elif correction in ("tukey", "games_howell"):
            p_adj = _tukey_sf(statistic, k, df, p_raw)
            if method == "tukey":
                qcrit = np.full(m, _qtukey(level, k, df[:1])[0])
            else:
                qcrit = _qcrit_by_df(level, k, df)
            half = qcrit * se_t / np.sqrt(2.0)
            ci_lo, ci_hi = diff - half, diff + half
            how = (f"{_LABEL[method]}: " + ("pooled variance (Tukey-Kramer)" if method == "tukey" else
                                            "Welch SE and df per pair") +
                   f"; studentized range p and simultaneous {level:.0%} CI over all {m} pairs of {k} groups")
        else:
            p_adj = adjust_pvalues(p_raw, method=correction)
            ci_lo, ci_hi = _t_interval(diff, se_t, df, level, alternative)
            how = (f"{_LABEL[method]} pairs as " + ("pooled-variance t tests" if method == "tukey" else
                                                    "Welch t tests") +
                   f"; p adjusted with {correction} over {m} comparisons; per-pair (unadjusted) {level:.0%} CI")
    elif method == "dunn":
        estimate_type = "mean_rank_difference"
        ranking = pooled_ranking(gd.values)
        mean_ranks = np.add.reduceat(ranking.midranks(), gd.starts) / sizes  # mid-ranks of all groups
        n_all = float(gd.n)
        ties = ranking.tie_sum() / (12.0 * (n_all - 1.0))
        diff = mean_ranks[ia] - mean_ranks[ib]
        var0 = n_all * (n_all + 1.0) / 12.0 - ties
        if var0 <= 0:
            warn(f"{func}: all values of {dv!r} are tied; Dunn's z is undefined (NaN).")
            statistic = nan
        else:
            statistic = diff / np.sqrt(var0 * (1.0 / na + 1.0 / nb))
        p_raw = _z_pvalue(statistic, alternative)
        p_adj = adjust_pvalues(p_raw, method=correction)
        how = (f"{_LABEL[method]}: z on mean ranks of all {gd.n} values with tie correction; p adjusted with "
               f"{correction} over {m} comparisons")
    elif method == "permutation":
        from .resampling import permutation_test_two
        seeds = rng.integers(0, 2 ** 63 - 1, size=m)
        statistic = np.empty(m)
        p_raw = np.empty(m)
        for j in range(m):
            res = permutation_test_two(gd.group(ia[j]), gd.group(ib[j]), statistic="mean_difference",
                                       n_resamples=n_resamples, alternative=alternative, seed=int(seeds[j]))
            statistic[j], p_raw[j] = res.statistic, res.p_value
        p_adj = adjust_pvalues(p_raw, method=correction)
        how = (f"{_LABEL[method]} of the mean difference per pair ({n_resamples} permutations); p adjusted with "
               f"{correction} over {m} comparisons")
    else:  # bootstrap
        from .resampling import bootstrap_two
        seeds = rng.integers(0, 2 ** 63 - 1, size=m)
        ci_level = 1.0 - (1.0 - level) / m if correction == "bonferroni" else level
        tail = (1.0 - ci_level) / 2.0 * n_resamples
        if tail < 10:
            warn(f"{func}: the {'Bonferroni-adjusted ' if correction == 'bonferroni' else ''}interval level "
                 f"{ci_level:.6g} leaves about {tail:.1f} of {n_resamples} resamples in each tail; the interval "
                 f"ends are unstable. Increase n_resamples (e.g. to {int(math.ceil(10 / ((1 - ci_level) / 2)))}).")
        ci_lo, ci_hi, est = np.empty(m), np.empty(m), np.empty(m)
        for j in range(m):
            res = bootstrap_two(gd.group(ia[j]), gd.group(ib[j]), statistic="mean_difference",
                                n_resamples=n_resamples, confidence_level=ci_level, method="bca",
                                seed=int(seeds[j]))
            est[j], ci_lo[j], ci_hi[j] = res.estimate, res.ci_low, res.ci_high
        diff = est
        how = (f"{_LABEL[method]} BCa {ci_level:.6g} CI of the mean difference per pair ({n_resamples} resamples)"
               + (f", Bonferroni-adjusted for {m} comparisons (simultaneous {level:.0%})"
                  if correction == "bonferroni" else ", per-pair (unadjusted)") + "; no p-value")

    es_level = level if effsize_ci == "analytic" else None
    if method == "dunn":
        from .effect_sizes import cliffs_delta_pairs
        by_group = ranking.sorted_dense_by_group(gd.codes, gd.sizes)
        effects = cliffs_delta_pairs(by_group, ranking.n_unique, list(zip(ia.tolist(), ib.tolist())), es_level)
    else:
        from .effect_sizes import _hedges_g_from_moments, _moments
        moments = [_moments(g) for g in gd.groups()]  # each group once, not once per pair
        effects = [_hedges_g_from_moments(moments[a], moments[b], es_level) for a, b in zip(ia.tolist(), ib.tolist())]
    rows = []
    for j in range(m):
        a, b = int(ia[j]), int(ib[j])
        es = effects[j]
        rows.append({
            "test": method, "dv": dv, "between": between, "group_a": gd.labels[a], "group_b": gd.labels[b],
            "n_a": int(gd.sizes[a]), "n_b": int(gd.sizes[b]),
            "estimate": float(diff[j]), "estimate_type": estimate_type,
            "estimate_ci_low": float(ci_lo[j]), "estimate_ci_high": float(ci_hi[j]),
            "statistic": float(statistic[j]), "df": float(df[j]),
            "p_value": float(p_raw[j]), "p_adjusted": float(p_adj[j]), "p_adjust": correction,
            "effect_size": float(es.effect_size), "effect_size_type": es.effect_size_type,
            "ci_low": float(es.ci_low), "ci_high": float(es.ci_high),
            "confidence_level": level, "n": gd.n, "n_dropped": gd.n_dropped, "alternative": alternative,
            "method": how,
        })
    out = frame(rows, PAIRWISE_COLUMNS)
    if method != "bootstrap":
        # guard against rounding: an adjusted p is never below the raw p
        out["p_adjusted"] = np.fmax(out["p_adjusted"].to_numpy(), out["p_value"].to_numpy())
    return out


def _qcrit_by_df(level: float, k: int, df: np.ndarray) -> np.ndarray:
    """Studentized-range quantiles for many (Welch) df: exact for few distinct df, else interpolated.

    With more than 24 distinct df the quantile is evaluated exactly at 24 Chebyshev nodes in 1/df
    and interpolated (barycentric); the error is below 1e-7 (tests/test_pairwise.py checks it).
    """
    out = np.full(df.shape, np.nan)
    ok = np.isfinite(df)
    uniq = np.unique(df[ok])
    if uniq.size == 0:
        return out
    if uniq.size <= 24:
        vals = _qtukey(level, k, uniq)
        out[ok] = vals[np.searchsorted(uniq, df[ok])]
        return out
    from scipy.interpolate import BarycentricInterpolator
    lo, hi = 1.0 / uniq[-1], 1.0 / uniq[0]
    nodes = 0.5 * (lo + hi) + 0.5 * (hi - lo) * np.cos((2 * np.arange(24) + 1) * np.pi / 48)
    interp = BarycentricInterpolator(nodes, _qtukey(level, k, 1.0 / nodes))
    out[ok] = interp(1.0 / df[ok])
    return out
