"""One small function per method of :func:`toolkit.stats.pairwise.pairwise` (private).

The front door (``pairwise``) checks the options, prepares the groups once (:class:`PairSetup`),
looks the method up in :data:`METHODS`, and then adjusts the p-values, computes the effect sizes
and assembles the table, once for every method. Each method function here takes the
:class:`PairSetup` and returns a :class:`PairEstimates` record: estimate, its interval, statistic,
df, raw p and (for the procedures that adjust inside, e.g. the studentized range) adjusted p.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np
from scipy import stats

from .._validation import check_random_state, warn
from ._ranks import pooled_ranking
from ._studentized_range import _ptukey, _qcrit_by_df, _qtukey

__all__: list[str] = []

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

_LABEL = {"tukey": "Tukey HSD", "games_howell": "Games-Howell", "dunn": "Dunn (1964)",
          "permutation": "Permutation test", "bootstrap": "Bootstrap"}


@dataclass(frozen=True)
class PairSetup:
    """Everything the methods share, prepared once by the front door."""

    func: str
    dv: str
    gd: object               # toolkit.stats.prepare.GroupedData
    ia: np.ndarray           # index of group_a per pair
    ib: np.ndarray           # index of group_b per pair
    means: np.ndarray        # per group
    variances: np.ndarray    # per group (ddof=1)
    dev2: np.ndarray         # per group sum of squared deviations
    level: float
    alternative: str
    correction: str          # the p_adjust name reported (method's standard or the user's)
    n_resamples: int
    rng: np.random.Generator

    @property
    def m(self) -> int:
        return int(self.ia.size)

    @property
    def na(self) -> np.ndarray:
        return self.gd.sizes.astype(np.float64)[self.ia]

    @property
    def nb(self) -> np.ndarray:
        return self.gd.sizes.astype(np.float64)[self.ib]

    @property
    def diff(self) -> np.ndarray:
        return self.means[self.ia] - self.means[self.ib]

    def nan(self) -> np.ndarray:
        return np.full(self.m, np.nan)


@dataclass(frozen=True)
class PairEstimates:
    """What one method returns: one value per pair, NaN where it does not apply.

    ``p_adjusted`` is None when the front door should adjust ``p_value`` with ``setup.correction``
    (:func:`toolkit.adjust_pvalues`); ``ranking`` carries the pooled ranking to the effect sizes (Dunn).
    """

    estimate: np.ndarray
    estimate_type: str
    ci_low: np.ndarray
    ci_high: np.ndarray
    statistic: np.ndarray
    df: np.ndarray
    p_value: np.ndarray
    p_adjusted: np.ndarray | None
    how: str
    ranking: object = None


# ---- p-values and intervals --------------------------------------------------------------------
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


# ---- Tukey and Games-Howell: mean differences on t statistics --------------------------------------
@dataclass(frozen=True)
class _TPairs:
    """Per-pair t statistics of a mean-difference method (pooled or Welch)."""

    method: str
    se: np.ndarray
    t: np.ndarray
    df: np.ndarray
    p_value: np.ndarray


def _t_pairs(s: PairSetup, method: str, se: np.ndarray, df: np.ndarray) -> _TPairs:
    zero = se == 0.0
    if zero.any():
        warn(f"{s.func}: {int(zero.sum())} pair(s) have zero variance in both groups; their statistic and "
             f"p-values are NaN.", stacklevel=5)
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.where(zero, np.nan, s.diff / se)
    df = np.where(zero, np.nan, df)
    return _TPairs(method, se, t, df, _t_pvalue(t, df, s.alternative))


def _tukey(s: PairSetup) -> PairEstimates:
    """Pooled variance (Tukey–Kramer) t per pair; Dunnett with a reference."""
    df_err = float(s.gd.n - s.gd.k)
    mse = float(s.dev2.sum()) / df_err
    se = np.sqrt(mse * (1.0 / s.na + 1.0 / s.nb))
    return _correct_t_pairs(s, _t_pairs(s, "tukey", se, np.full(s.m, df_err)))


def _games_howell(s: PairSetup) -> PairEstimates:
    """Welch standard error and df per pair."""
    va, vb = s.variances[s.ia] / s.na, s.variances[s.ib] / s.nb
    with np.errstate(divide="ignore", invalid="ignore"):
        df = (va + vb) ** 2 / (va ** 2 / (s.na - 1.0) + vb ** 2 / (s.nb - 1.0))
    return _correct_t_pairs(s, _t_pairs(s, "games_howell", np.sqrt(va + vb), df))


def _correct_t_pairs(s: PairSetup, tp: _TPairs) -> PairEstimates:
    if s.correction == "dunnett":
        return _dunnett(s, tp)
    if s.correction in ("tukey", "games_howell"):
        return _studentized_range(s, tp)
    return _t_adjusted(s, tp)


def _dunnett(s: PairSetup, tp: _TPairs) -> PairEstimates:
    gd, ref = s.gd, int(s.ib[0])
    res = stats.dunnett(*[gd.group(i) for i in s.ia], control=gd.group(ref), alternative=s.alternative,
                        rng=check_random_state(_DUNNETT_SEED, s.func))
    ci = res.confidence_interval(confidence_level=s.level)
    how = (f"Dunnett's test (Tukey method with a reference): pooled variance, multivariate-t p and "
           f"simultaneous {s.level:.0%} CI over the {s.m} comparisons with {gd.labels[ref]!r}")
    return PairEstimates(
        estimate=s.diff, estimate_type="mean_difference",
        ci_low=np.asarray(ci.low, dtype=np.float64), ci_high=np.asarray(ci.high, dtype=np.float64),
        statistic=np.asarray(res.statistic, dtype=np.float64),  # Dunnett's t (= pooled t of the pair)
        df=tp.df, p_value=tp.p_value,
        p_adjusted=_bounded(np.asarray(res.pvalue, dtype=np.float64), tp.p_value, s.m, _DUNNETT_RELIABLE),
        how=how)


def _studentized_range(s: PairSetup, tp: _TPairs) -> PairEstimates:
    k = s.gd.k
    statistic = np.sqrt(2.0) * np.abs(tp.t)
    if tp.method == "tukey":
        qcrit = np.full(s.m, _qtukey(s.level, k, tp.df[:1])[0])
    else:
        qcrit = _qcrit_by_df(s.level, k, tp.df)
    half = qcrit * tp.se / np.sqrt(2.0)
    how = (f"{_LABEL[tp.method]}: " + ("pooled variance (Tukey-Kramer)" if tp.method == "tukey" else
                                       "Welch SE and df per pair") +
           f"; studentized range p and simultaneous {s.level:.0%} CI over all {s.m} pairs of {k} groups")
    return PairEstimates(s.diff, "mean_difference", s.diff - half, s.diff + half, statistic, tp.df, tp.p_value,
                         _tukey_sf(statistic, k, tp.df, tp.p_value), how)


def _t_adjusted(s: PairSetup, tp: _TPairs) -> PairEstimates:
    ci_low, ci_high = _t_interval(s.diff, tp.se, tp.df, s.level, s.alternative)
    how = (f"{_LABEL[tp.method]} pairs as " + ("pooled-variance t tests" if tp.method == "tukey" else
                                               "Welch t tests") +
           f"; p adjusted with {s.correction} over {s.m} comparisons; per-pair (unadjusted) {s.level:.0%} CI")
    return PairEstimates(s.diff, "mean_difference", ci_low, ci_high, np.sqrt(2.0) * np.abs(tp.t), tp.df,
                         tp.p_value, None, how)


# ---- Dunn, permutation, bootstrap ------------------------------------------------------------------
def _dunn(s: PairSetup) -> PairEstimates:
    """Dunn's (1964) z on mean ranks of the pooled ranking, with tie correction."""
    gd = s.gd
    ranking = pooled_ranking(gd.values)
    mean_ranks = np.add.reduceat(ranking.midranks(), gd.starts) / gd.sizes.astype(np.float64)
    n_all = float(gd.n)
    ties = ranking.tie_sum() / (12.0 * (n_all - 1.0))
    diff = mean_ranks[s.ia] - mean_ranks[s.ib]
    var0 = n_all * (n_all + 1.0) / 12.0 - ties
    if var0 <= 0:
        warn(f"{s.func}: all values of {s.dv!r} are tied; Dunn's z is undefined (NaN).", stacklevel=4)
        statistic = s.nan()
    else:
        statistic = diff / np.sqrt(var0 * (1.0 / s.na + 1.0 / s.nb))
    how = (f"{_LABEL['dunn']}: z on mean ranks of all {gd.n} values with tie correction; p adjusted with "
           f"{s.correction} over {s.m} comparisons")
    return PairEstimates(diff, "mean_rank_difference", s.nan(), s.nan(), statistic, s.nan(),
                         _z_pvalue(statistic, s.alternative), None, how, ranking=ranking)


def _permutation(s: PairSetup) -> PairEstimates:
    """Two-sample permutation test of the mean difference per pair (own stream per pair)."""
    from .resampling import permutation_test_two
    seeds = s.rng.integers(0, 2 ** 63 - 1, size=s.m)
    statistic, p_raw = np.empty(s.m), np.empty(s.m)
    for j in range(s.m):
        res = permutation_test_two(s.gd.group(s.ia[j]), s.gd.group(s.ib[j]), statistic="mean_difference",
                                   n_resamples=s.n_resamples, alternative=s.alternative, seed=int(seeds[j]))
        statistic[j], p_raw[j] = res.statistic, res.p_value
    how = (f"{_LABEL['permutation']} of the mean difference per pair ({s.n_resamples} permutations); p adjusted "
           f"with {s.correction} over {s.m} comparisons")
    return PairEstimates(s.diff, "mean_difference", s.nan(), s.nan(), statistic, s.nan(), p_raw, None, how)


def _bootstrap(s: PairSetup) -> PairEstimates:
    """BCa interval of the mean difference per pair, Bonferroni-adjusted level by default; no p-value."""
    from .resampling import bootstrap_two
    seeds = s.rng.integers(0, 2 ** 63 - 1, size=s.m)
    bonferroni = s.correction == "bonferroni"
    ci_level = 1.0 - (1.0 - s.level) / s.m if bonferroni else s.level
    tail = (1.0 - ci_level) / 2.0 * s.n_resamples
    if tail < 10:
        warn(f"{s.func}: the {'Bonferroni-adjusted ' if bonferroni else ''}interval level "
             f"{ci_level:.6g} leaves about {tail:.1f} of {s.n_resamples} resamples in each tail; the interval "
             f"ends are unstable. Increase n_resamples (e.g. to {int(math.ceil(10 / ((1 - ci_level) / 2)))}).",
             stacklevel=4)
    est, ci_low, ci_high = np.empty(s.m), np.empty(s.m), np.empty(s.m)
    for j in range(s.m):
        res = bootstrap_two(s.gd.group(s.ia[j]), s.gd.group(s.ib[j]), statistic="mean_difference",
                            n_resamples=s.n_resamples, confidence_level=ci_level, method="bca", seed=int(seeds[j]))
        est[j], ci_low[j], ci_high[j] = res.estimate, res.ci_low, res.ci_high
    how = (f"{_LABEL['bootstrap']} BCa {ci_level:.6g} CI of the mean difference per pair ({s.n_resamples} "
           f"resamples)" + (f", Bonferroni-adjusted for {s.m} comparisons (simultaneous {s.level:.0%})"
                            if bonferroni else ", per-pair (unadjusted)") + "; no p-value")
    return PairEstimates(est, "mean_difference", ci_low, ci_high, s.nan(), s.nan(), s.nan(), s.nan(), how)


#: The dispatch table: method name -> function of the prepared setup.
METHODS: dict[str, Callable[[PairSetup], PairEstimates]] = {
    "games_howell": _games_howell, "tukey": _tukey, "dunn": _dunn, "permutation": _permutation,
    "bootstrap": _bootstrap,
}
#: Each method's standard correction (``p_adjust=None``); tukey with a reference is Dunnett's test.
STANDARD_CORRECTION = {"tukey": "tukey", "games_howell": "games_howell", "dunn": "holm", "permutation": "holm",
                       "bootstrap": "bonferroni"}
