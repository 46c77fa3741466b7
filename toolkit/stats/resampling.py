"""The one resampling engine: bootstrap (percentile, BCa) and permutation distributions.

Everything in the toolkit that resamples goes through this module: group-wise bootstrap CIs
(:func:`bootstrap_groups`, used by ``tk.describe_groups``), the two-sample functions
(:func:`permutation_test_two`, :func:`bootstrap_two`, used by ``tk.pairwise``) and the omnibus
permutation null distributions of F, Welch's F and Kruskal–Wallis H (:func:`permutation_distribution`,
used by ``tk.permutation_omnibus``).

Two exact shortcuts make it fast on engagement counts (integers with many ties):

* **Bootstrap by multinomial counts.** Compress a group to its unique values ``v_u`` with
  multiplicities ``m_u``. An ordinary bootstrap resample (n draws with replacement) has exactly a
  Multinomial(n, m/n) vector of counts over the unique values, so the resampled mean is
  ``sum(v * M) / n`` and the resampled median comes from the cumulative counts: O(U) per resample
  instead of O(n). This is the same distribution as index resampling, not an approximation.
* **Permutation by hypergeometric tables.** Randomly permuting group labels only changes the
  value-by-group table, whose distribution under the null is a multivariate (matrix)
  hypergeometric with fixed margins. It is drawn value by value (each unique value's ``m_u`` copies
  are split over the groups' remaining capacities by sequential hypergeometric draws), vectorised
  over a chunk of permutations. F needs the group sums, Welch's F the sums and sums of squares,
  Kruskal–Wallis H the rank sums (midranks of the unique values): all follow from the table.

For continuous values (nearly as many unique values as observations) the engine falls back to
index resampling (bootstrap: ``rng.integers(0, n, (chunk, n))``, the same draws as
``scipy.stats.bootstrap``) and to shuffling in chunks with ``np.add.reduceat`` (permutation).
Memory is bounded: resamples are processed in chunks, never as an n × B matrix.

p-values are ``(1 + #{null >= observed}) / (B + 1)`` (Phipson & Smyth 2010), so a Monte-Carlo
p-value is never 0. Randomness comes only from ``check_random_state(seed)``.
"""
from __future__ import annotations

import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

import numpy as np
from scipy.special import ndtr, ndtri

from .._protocol import AnswerFirst
from .._validation import check_integer, check_option, check_probability, check_random_state, message, warn

__all__ = [
    "PermutationResult", "BootstrapResult", "GroupBootstrap",
    "permutation_test_two", "bootstrap_two", "bootstrap_groups", "bootstrap_distribution",
    "permutation_distribution", "permutation_p_value", "bca_interval", "jackknife_values",
]

TWO_SAMPLE_STATISTICS = ("mean_difference", "median_difference", "ratio_of_means")
OMNIBUS_STATISTICS = ("f", "welch", "kruskal")
BOOTSTRAP_METHODS = ("bca", "percentile")

#: Largest number of array elements materialised per chunk (float64: 8 bytes each -> 16 MB).
_CHUNK_ELEMENTS = 1 << 21
#: Permutations per independently seeded block (results do not depend on how blocks are spread
#: over processes).
_BLOCK = 1000
#: Work (elements touched) above which the continuous permutation path uses 2 processes.
_PARALLEL_WORK = 4e8


# ---------------------------------------------------------------------------------------------
# Result objects
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True, repr=False)
class PermutationResult(AnswerFirst):
    """Result of a two-sample permutation test.

    Attributes
    ----------
    statistic : float
        Observed statistic (mean difference x − y, median difference x − y, or mean(x)/mean(y)).
    p_value : float
        Monte-Carlo p-value, ``(1 + #{null at least as extreme}) / (n_resamples + 1)``.
    n_resamples : int
        Number of random permutations.
    alternative : str
        "two-sided", "less" or "greater".
    """

    statistic: float
    p_value: float
    n_resamples: int
    alternative: str

    def to_frame(self):
        """One row: statistic, p_value, n_resamples, alternative (a pandas.DataFrame)."""
        import pandas as pd

        return pd.DataFrame([{"statistic": self.statistic, "p_value": self.p_value, "n_resamples": self.n_resamples,
                              "alternative": self.alternative}])


@dataclass(frozen=True, repr=False)
class BootstrapResult(AnswerFirst):
    """Result of a two-sample bootstrap confidence interval.

    Attributes
    ----------
    estimate : float
        Statistic on the observed data.
    ci_low, ci_high : float
        Confidence interval end points.
    confidence_level : float
    method : str
        "bca" or "percentile".
    n_resamples : int
    """

    estimate: float
    ci_low: float
    ci_high: float
    confidence_level: float
    method: str
    n_resamples: int

    def to_frame(self):
        """One row: estimate, ci_low, ci_high, confidence_level, method, n_resamples (a pandas.DataFrame)."""
        import pandas as pd

        return pd.DataFrame([{"estimate": self.estimate, "ci_low": self.ci_low, "ci_high": self.ci_high,
                              "confidence_level": self.confidence_level, "method": self.method,
                              "n_resamples": self.n_resamples}])


@dataclass(frozen=True, repr=False)
class GroupBootstrap(AnswerFirst):
    """Group-wise bootstrap CIs of one statistic (arrays of length k, in group order).

    Attributes
    ----------
    statistic : str
        "mean" or "median".
    estimate, ci_low, ci_high : numpy.ndarray
        Estimates and interval end points (NaN for groups of size 1).
    degenerate : numpy.ndarray of bool
        True where every bootstrap value equalled the estimate (the CI collapses to the estimate).
    confidence_level : float
    method : str
    n_resamples : int
    """

    statistic: str
    estimate: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray
    degenerate: np.ndarray
    confidence_level: float
    method: str
    n_resamples: int

    def to_frame(self):
        """One row per group (in group order): group, statistic, estimate, ci_low, ci_high, degenerate,
        confidence_level, method, n_resamples (a pandas.DataFrame)."""
        import pandas as pd

        k = np.atleast_1d(self.estimate).size
        return pd.DataFrame({"group": np.arange(k), "statistic": self.statistic,
                             "estimate": np.atleast_1d(self.estimate), "ci_low": np.atleast_1d(self.ci_low),
                             "ci_high": np.atleast_1d(self.ci_high), "degenerate": np.atleast_1d(self.degenerate),
                             "confidence_level": self.confidence_level, "method": self.method,
                             "n_resamples": self.n_resamples})


# ---------------------------------------------------------------------------------------------
# Small helpers
# ---------------------------------------------------------------------------------------------
def _as_sample(x, func: str, param: str, minimum: int = 1) -> np.ndarray:
    arr = np.asarray(x, dtype=np.float64)
    if arr.ndim != 1:
        raise ValueError(message(func, param, "a 1-D array of numbers", f"an array with shape {arr.shape}"))
    if not np.all(np.isfinite(arr)):
        raise ValueError(message(func, param, "free of NaN and infinite values",
                                 f"{int((~np.isfinite(arr)).sum())} non-finite value(s)",
                                 "Drop missing values first (prepare_groups does this with nan_policy='omit')."))
    if arr.size < minimum:
        raise ValueError(message(func, param, f"an array with at least {minimum} value(s)", f"{arr.size} value(s)"))
    return arr


def _compress(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Unique values (ascending) and their multiplicities."""
    v, m = np.unique(x, return_counts=True)
    return v, m.astype(np.int64)


def _use_counts_bootstrap(n: int, n_unique: int) -> bool:
    # multinomial draw costs ~U binomials per resample, index resampling ~n integers + gather.
    return n_unique * 8 <= n


def _median_from_cumcounts(cum: np.ndarray, v: np.ndarray, n: int) -> np.ndarray:
    """Median of each row's sample given cumulative counts over ascending unique values ``v``."""
    lo, hi = (n - 1) // 2, n // 2
    i_lo = np.count_nonzero(cum <= lo, axis=-1)
    if hi == lo:
        return v[i_lo]
    i_hi = np.count_nonzero(cum <= hi, axis=-1)
    return 0.5 * (v[i_lo] + v[i_hi])


def _permuted_rows(rng: np.random.Generator, x: np.ndarray, c: int) -> np.ndarray:
    """``c`` independent random permutations of ``x`` as rows: the same draws and result as
    ``rng.permuted(np.broadcast_to(x, (c, n)), axis=1)``, but shuffled in place in a contiguous copy
    (numpy's broadcast path is 2-3x slower)."""
    out = np.empty((c, x.size))
    out[:] = x
    return rng.permuted(out, axis=1, out=out)


def _tolerance(observed: float) -> float:
    # as scipy.stats.permutation_test: null values within 100 ulp of the observed count as ties
    return abs(observed) * np.finfo(np.float64).eps * 100


def permutation_p_value(null: np.ndarray, observed: float, alternative: str = "greater") -> float:
    """Monte-Carlo p-value ``(1 + #{null at least as extreme}) / (B + 1)`` (Phipson & Smyth 2010).

    Null values within 100 ulp of ``observed`` count as ties (as in ``scipy.stats.permutation_test``);
    NaN null values never count as extreme. "two-sided" is ``min(1, 2 min(p_less, p_greater))``.
    """
    null = np.asarray(null, dtype=np.float64)
    b = null.size
    gamma = _tolerance(observed)
    p_greater = (1.0 + np.count_nonzero(null >= observed - gamma)) / (b + 1.0)
    p_less = (1.0 + np.count_nonzero(null <= observed + gamma)) / (b + 1.0)
    if alternative == "greater":
        return float(p_greater)
    if alternative == "less":
        return float(p_less)
    return float(min(1.0, 2.0 * min(p_greater, p_less)))


# ---------------------------------------------------------------------------------------------
# Bootstrap
# ---------------------------------------------------------------------------------------------
def bootstrap_distribution(x, *, statistics=("mean",), n_resamples: int = 9999, seed=None,
                           path: str = "auto") -> dict[str, np.ndarray]:
    """Bootstrap distributions of the mean and/or median of one sample, from the same resamples.

    Parameters
    ----------
    x : array_like
        1-D finite values.
    statistics : sequence of {"mean", "median"}
    n_resamples : int
    seed : None, int or numpy.random.Generator, default=None
        The same int gives the same numbers on every run; None draws fresh randomness.
    path : {"auto", "counts", "index"}
        "counts" draws Multinomial(n, m/n) counts over the unique values (exact, O(U) per
        resample); "index" draws ``rng.integers(0, n, (chunk, n))`` exactly like
        ``scipy.stats.bootstrap`` (for the same Generator state and chunk boundaries the
        resamples are identical). "auto" uses counts when there are at least 8 values per
        unique value.

    Returns
    -------
    dict
        statistic name -> array of ``n_resamples`` bootstrap values.
    """
    func = "bootstrap_distribution"
    x = _as_sample(x, func, "x")
    rng = check_random_state(seed, func)
    n_resamples = check_integer(n_resamples, func, "n_resamples")
    check_option(path, ("auto", "counts", "index"), func, "path")
    for s in statistics:
        check_option(s, ("mean", "median"), func, "statistics")
    return _bootstrap_distribution(x, tuple(statistics), n_resamples, rng, path)


def _bootstrap_distribution(x, statistics, b, rng, path="auto"):
    n = x.size
    out = {s: np.empty(b) for s in statistics}
    v, m = _compress(x)
    if path == "auto":
        path = "counts" if _use_counts_bootstrap(n, v.size) else "index"
    if path == "counts":
        # draw categories in order of decreasing probability (numpy's sequential binomials finish
        # early once the remaining count is small), then restore ascending-value order.
        order = np.argsort(-m, kind="stable")
        inverse = np.empty_like(order)
        inverse[order] = np.arange(order.size)
        p = m[order] / n
        chunk = max(1, min(b, _CHUNK_ELEMENTS // max(1, v.size)))
        for start in range(0, b, chunk):
            c = min(chunk, b - start)
            counts = rng.multinomial(n, p, size=c)[:, inverse]
            if "mean" in out:
                out["mean"][start:start + c] = counts @ v / n
            if "median" in out:
                out["median"][start:start + c] = _median_from_cumcounts(np.cumsum(counts, axis=1), v, n)
        return out
    chunk = max(1, min(b, _CHUNK_ELEMENTS // n))
    bucketed = "median" in out and n >= _MEDIAN_BUCKETS_FROM
    if bucketed:
        order = np.argsort(x, kind="stable")
        xs = x[order]
        position = np.empty(n, dtype=np.intp)
        position[order] = np.arange(n)
        bucket = position >> _MEDIAN_BUCKET_SHIFT
    for start in range(0, b, chunk):
        c = min(chunk, b - start)
        idx = rng.integers(0, n, (c, n))
        drawn = x[idx] if "mean" in out or not bucketed else None
        if "mean" in out:
            out["mean"][start:start + c] = drawn.mean(axis=1)
        if "median" in out:
            out["median"][start:start + c] = (_resample_medians(idx, position, bucket, xs) if bucketed
                                              else np.median(drawn, axis=1))
    return out


#: Sorted positions per bucket in :func:`_resample_medians` (a power of 2: bucket = position >> shift).
_MEDIAN_BUCKET_SHIFT = 6
#: Below this many values per resample ``np.median`` (introselect) is faster than the bucketed selection
#: (measured per element on 2 cores: n = 125: 16 vs 43 ns; n = 500: equal; n = 2,000: 14 vs 8 ns); both give
#: identical values (tests/test_resampling.py).
_MEDIAN_BUCKETS_FROM = 512


def _resample_medians(idx: np.ndarray, position: np.ndarray, bucket: np.ndarray, xs: np.ndarray) -> np.ndarray:
    """Medians of the rows of ``x[idx]``, equal to ``np.median(x[idx], axis=1)``, from the sorted ``xs = x[order]``.

    ``position[i]`` is the rank of ``x[i]`` in ``xs`` (ties broken by a stable sort) and ``bucket`` is
    ``position >> _MEDIAN_BUCKET_SHIFT``. The i-th smallest value of a row is ``xs`` at the row's i-th smallest
    position, so only positions are ordered, and only near the middle: positions are counted in buckets of
    64 (one ``bincount`` over all rows), the buckets holding each row's middle order statistics are found
    from the cumulative counts, and just the positions in them (about 64 per row) are sorted. O(n) per row
    with a small constant, instead of ``np.partition`` (introselect) on every resample. Even n: the mean of
    the two middle values, computed as ``np.median`` does. ``idx``, ``position`` and ``bucket`` are intp.
    """
    c, n = idx.shape
    n_buckets = ((n - 1) >> _MEDIAN_BUCKET_SHIFT) + 1
    rows = np.arange(c)
    flat = bucket[idx]                       # bucket of each drawn value, then made unique per row
    flat += (rows * n_buckets)[:, None]
    cum = np.cumsum(np.bincount(flat.ravel(), minlength=c * n_buckets).reshape(c, n_buckets), axis=1)
    lo, hi = (n - 1) // 2, n // 2
    b_lo = np.count_nonzero(cum <= lo, axis=1)
    b_hi = np.count_nonzero(cum <= hi, axis=1) if hi != lo else b_lo
    before = np.where(b_lo > 0, cum[rows, np.maximum(b_lo - 1, 0)], 0)   # row's positions below bucket b_lo
    # draws in buckets b_lo..b_hi (those between are empty, so the ranks stay contiguous): one unsigned
    # comparison of (flat - first key) against the span
    flat -= (rows * n_buckets + b_lo)[:, None]
    near = np.flatnonzero(flat.view(np.uint64) <= (b_hi - b_lo).astype(np.uint64)[:, None])
    row_of = near // n                       # ascending: flatnonzero is row-major
    keys = np.sort(row_of * n + position[idx.ravel()[near]])
    first = np.searchsorted(row_of, rows)
    at_lo = keys[first + lo - before] - rows * n
    if hi == lo:
        return xs[at_lo]
    at_hi = keys[first + hi - before] - rows * n
    return (xs[at_lo] + xs[at_hi]) / 2.0


def jackknife_values(x, statistic: str) -> np.ndarray:
    """Leave-one-out values of the mean or median in closed form, O(n) (O(n log n) for the median).

    Mean: ``(S - x_i) / (n - 1)``. Median: removing the i-th smallest value leaves a sample whose
    median is one of at most three values determined by the middle order statistics. The values are
    returned in sorted-data order for the median (the BCa acceleration only uses their multiset).
    """
    x = np.asarray(x, dtype=np.float64)
    n = x.size
    if n < 2:
        return np.full(n, np.nan)
    if statistic == "mean":
        return (x.sum() - x) / (n - 1)
    s = np.sort(x)
    i = np.arange(n)
    if n % 2 == 0:  # n - 1 odd: median is the remainder's element at position m = (n - 2) / 2
        m = (n - 2) // 2
        return np.where(i <= m, s[m + 1], s[m])
    h = (n - 1) // 2  # n - 1 even: average of remainder positions h - 1 and h
    return np.where(i < h, 0.5 * (s[h] + s[h + 1]),
                    np.where(i == h, 0.5 * (s[h - 1] + s[h + 1]), 0.5 * (s[h - 1] + s[h])))


def bca_interval(estimate: float, boot: np.ndarray, jackknifes: list[np.ndarray], confidence_level: float,
                 method: str = "bca") -> tuple[float, float, bool]:
    """Percentile or BCa interval from a bootstrap distribution (Efron & Tibshirani 1993, 14.3).

    ``jackknifes`` holds one array of leave-one-out statistics per sample (the acceleration sums
    over samples as in ``scipy.stats.bootstrap``). Returns ``(low, high, degenerate)``; when every
    bootstrap value equals the estimate the interval collapses to the estimate (``degenerate``).
    When every leave-one-out value is identical (no information on skewness, e.g. a median inside
    a long run of ties) the acceleration is set to 0, giving the bias-corrected interval; SciPy
    returns NaN there. Quantiles use linear interpolation (``numpy.quantile`` default), as SciPy.
    """
    boot = np.asarray(boot, dtype=np.float64)
    lo_b, hi_b = boot.min(), boot.max()
    if lo_b == hi_b:
        return float(lo_b), float(hi_b), bool(lo_b == estimate)
    alpha = (1.0 - confidence_level) / 2.0
    if method == "percentile":
        q = np.quantile(boot, [alpha, 1.0 - alpha])
        return float(q[0]), float(q[1]), False
    b = boot.size
    pct = (np.count_nonzero(boot < estimate) + np.count_nonzero(boot <= estimate)) / (2.0 * b)
    z0 = ndtri(pct)
    nums = dens = 0.0
    for loo in jackknifes:
        k = float(loo.size)
        u = (k - 1.0) * (loo.mean() - loo)
        nums += np.sum(u ** 3) / k ** 3
        dens += np.sum(u ** 2) / k ** 2
    a_hat = nums / 6.0 / dens ** 1.5 if dens > 0 else 0.0
    z_alpha = ndtri(alpha)
    with np.errstate(invalid="ignore", divide="ignore"):
        num1 = z0 + z_alpha
        a1 = ndtr(z0 + num1 / (1.0 - a_hat * num1))
        num2 = z0 - z_alpha
        a2 = ndtr(z0 + num2 / (1.0 - a_hat * num2))
    if not (np.isfinite(a1) and np.isfinite(a2)):
        return float("nan"), float("nan"), False
    q = np.quantile(boot, [a1, a2])
    return float(q[0]), float(q[1]), False


def _statistic_1(x, name):
    return float(np.mean(x)) if name == "mean" else float(np.median(x))


def bootstrap_groups(gd, *, statistics=("mean", "median"), n_resamples: int = 9999,
                     confidence_level: float = 0.95, method: str = "bca", seed=None,
                     path: str = "auto") -> dict[str, GroupBootstrap]:
    """Bootstrap CIs of the mean and/or median for every group of a GroupedData at once.

    Each group is resampled independently (``n_resamples`` resamples, group by group in group
    order from one Generator); the mean and the median come from the same resamples. Groups of size
    1 get NaN intervals. See :func:`bootstrap_distribution` for the two paths.

    Returns
    -------
    dict
        statistic name -> :class:`GroupBootstrap`.
    """
    func = "bootstrap_groups"
    rng = check_random_state(seed, func)
    n_resamples = check_integer(n_resamples, func, "n_resamples")
    confidence_level = check_probability(confidence_level, func, "confidence_level")
    check_option(method, BOOTSTRAP_METHODS, func, "method")
    statistics = tuple(statistics)
    k = gd.k
    res = {s: {"est": np.full(k, np.nan), "lo": np.full(k, np.nan), "hi": np.full(k, np.nan),
               "deg": np.zeros(k, dtype=bool)} for s in statistics}
    for g in range(k):
        x = gd.group(g)
        for s in statistics:
            res[s]["est"][g] = _statistic_1(x, s) if x.size else np.nan
        if x.size < 2:
            continue
        dist = _bootstrap_distribution(x, statistics, n_resamples, rng, path)
        for s in statistics:
            jk = [jackknife_values(x, s)] if method == "bca" else []
            lo, hi, deg = bca_interval(res[s]["est"][g], dist[s], jk, confidence_level, method)
            res[s]["lo"][g], res[s]["hi"][g], res[s]["deg"][g] = lo, hi, deg
    return {s: GroupBootstrap(statistic=s, estimate=r["est"], ci_low=r["lo"], ci_high=r["hi"], degenerate=r["deg"],
                              confidence_level=confidence_level, method=method, n_resamples=n_resamples)
            for s, r in res.items()}


def _two_stat(name, a, b):
    """Combine per-sample statistics (arrays or floats) into the two-sample statistic."""
    if name == "ratio_of_means":
        with np.errstate(divide="ignore", invalid="ignore"):
            return a / b
    return a - b


def _check_two(x, y, statistic, n_resamples, func, minimum):
    x = _as_sample(x, func, "x", minimum)
    y = _as_sample(y, func, "y", minimum)
    check_option(statistic, TWO_SAMPLE_STATISTICS, func, "statistic")
    n_resamples = check_integer(n_resamples, func, "n_resamples")
    if statistic == "ratio_of_means" and np.mean(y) == 0:
        raise ValueError(message(func, "y", "a sample with a non-zero mean for statistic='ratio_of_means'",
                                 "mean(y) = 0", "Use statistic='mean_difference' instead."))
    return x, y, n_resamples


def bootstrap_two(x, y, *, statistic: str = "mean_difference", n_resamples: int = 9999,
                  confidence_level: float = 0.95, method: str = "bca", seed=None) -> BootstrapResult:
    """Bootstrap CI of a two-sample statistic (independent resampling within each sample).

    Parameters
    ----------
    x, y : array_like
        1-D finite values (at least 2 each).
    statistic : {"mean_difference", "median_difference", "ratio_of_means"}, default="mean_difference"
        mean(x) − mean(y), median(x) − median(y), or mean(x) / mean(y).
    n_resamples : int, default=9999
    confidence_level : float, default=0.95
    method : {"bca", "percentile"}, default="bca"
    seed : None, int or numpy.random.Generator, default=None
        The same int gives the same numbers on every run; None draws fresh randomness.

    Returns
    -------
    BootstrapResult
        estimate, ci_low, ci_high, confidence_level, method, n_resamples.

    Notes
    -----
    x is resampled first, then y, from the same Generator (exact multinomial-count resampling for
    tied data, index resampling otherwise; see the module docstring). BCa follows Efron &
    Tibshirani (1993, eq. 14.14-14.15) with the jackknife acceleration summed over the two samples
    as in ``scipy.stats.bootstrap``; leave-one-out values are computed in closed form.
    Validated against ``scipy.stats.bootstrap(method="BCa")`` (tests/test_resampling.py).

    References
    ----------
    Efron, B., & Tibshirani, R. J. (1993). An Introduction to the Bootstrap. Chapman & Hall.
    https://doi.org/10.1201/9780429246593

    Examples
    --------
    >>> import numpy as np
    >>> from toolkit.stats.resampling import bootstrap_two
    >>> r = bootstrap_two(np.arange(20.0), np.arange(20.0) + 5, n_resamples=999, seed=1)
    >>> r.estimate, r.ci_low < -5 < r.ci_high
    (-5.0, True)
    """
    func = "bootstrap_two"
    x, y, n_resamples = _check_two(x, y, statistic, n_resamples, func, 2)
    confidence_level = check_probability(confidence_level, func, "confidence_level")
    check_option(method, BOOTSTRAP_METHODS, func, "method")
    rng = check_random_state(seed, func)
    base = "median" if statistic == "median_difference" else "mean"
    sx, sy = _statistic_1(x, base), _statistic_1(y, base)
    estimate = float(_two_stat(statistic, sx, sy))
    bx = _bootstrap_distribution(x, (base,), n_resamples, rng)[base]
    by = _bootstrap_distribution(y, (base,), n_resamples, rng)[base]
    boot = _two_stat(statistic, bx, by)
    jk = []
    if method == "bca":
        jk = [_two_stat(statistic, jackknife_values(x, base), sy), _two_stat(statistic, sx, jackknife_values(y, base))]
    if not np.all(np.isfinite(boot)):
        warn(f"{func}: some bootstrap resamples of y have mean 0, so the ratio is undefined there; the interval "
             f"is NaN. Use statistic='mean_difference'.")
        lo = hi = float("nan")
    else:
        lo, hi, _ = bca_interval(estimate, boot, jk, confidence_level, method)
    return BootstrapResult(estimate=estimate, ci_low=lo, ci_high=hi, confidence_level=confidence_level,
                           method=method, n_resamples=n_resamples)


# ---------------------------------------------------------------------------------------------
# Permutation: two samples
# ---------------------------------------------------------------------------------------------
def permutation_test_two(x, y, *, statistic: str = "mean_difference", n_resamples: int = 9999,
                         alternative: str = "two-sided", seed=None) -> PermutationResult:
    """Two-sample permutation test of a difference in means or medians, or a ratio of means.

    Parameters
    ----------
    x, y : array_like
        1-D finite values (at least 1 each).
    statistic : {"mean_difference", "median_difference", "ratio_of_means"}, default="mean_difference"
    n_resamples : int, default=9999
        Random permutations of the pooled values (Monte-Carlo, not exhaustive enumeration).
    alternative : {"two-sided", "less", "greater"}, default="two-sided"
    seed : None, int or numpy.random.Generator, default=None
        The same int gives the same numbers on every run; None draws fresh randomness.

    Returns
    -------
    PermutationResult
        statistic, p_value, n_resamples, alternative.

    Notes
    -----
    p = (1 + #{T* >= T}) / (B + 1) for "greater", with ``<=`` for "less" (Phipson & Smyth 2010);
    "two-sided" is min(1, 2 min(p_less, p_greater)), the convention of
    ``scipy.stats.permutation_test``. For tied data the x-part of each permutation is drawn as a
    multivariate hypergeometric count vector over the unique values (exact); otherwise the pooled
    values are shuffled in chunks. Validated against ``scipy.stats.permutation_test`` and exact
    enumeration (tests/test_resampling.py).

    References
    ----------
    Phipson, B., & Smyth, G. K. (2010). Permutation p-values should never be zero. Statistical
    Applications in Genetics and Molecular Biology, 9(1), 39. https://doi.org/10.2202/1544-6115.1585

    Examples
    --------
    >>> import numpy as np
    >>> from toolkit.stats.resampling import permutation_test_two
    >>> r = permutation_test_two(np.arange(10.0), np.arange(10.0) + 10, n_resamples=999, seed=1)
    >>> r.statistic, r.p_value < 0.01
    (-10.0, True)
    """
    func = "permutation_test_two"
    x, y, n_resamples = _check_two(x, y, statistic, n_resamples, func, 1)
    check_option(alternative, ("two-sided", "less", "greater"), func, "alternative")
    rng = check_random_state(seed, func)
    base = "median" if statistic == "median_difference" else "mean"
    observed = float(_two_stat(statistic, _statistic_1(x, base), _statistic_1(y, base)))
    null = _two_sample_null(x, y, statistic, base, n_resamples, rng)
    return PermutationResult(statistic=observed, p_value=permutation_p_value(null, observed, alternative),
                             n_resamples=n_resamples, alternative=alternative)


def _two_sample_null(x, y, statistic, base, b, rng):
    pooled = np.concatenate([x, y])
    nx, ny, n = x.size, y.size, x.size + y.size
    v, m = _compress(pooled)
    null = np.empty(b)
    if v.size * 8 <= n:  # tied: x-part is a multivariate hypergeometric count vector
        chunk = max(1, min(b, _CHUNK_ELEMENTS // v.size))
        total = float(m @ v)
        for start in range(0, b, chunk):
            c = min(chunk, b - start)
            mx = rng.multivariate_hypergeometric(m, nx, size=c)
            if base == "mean":
                sx = mx @ v
                null[start:start + c] = _two_stat(statistic, sx / nx, (total - sx) / ny)
            else:
                cx = np.cumsum(mx, axis=1)
                cy = np.cumsum(m) - cx
                null[start:start + c] = _median_from_cumcounts(cx, v, nx) - _median_from_cumcounts(cy, v, ny)
        return null
    chunk = max(1, min(b, _CHUNK_ELEMENTS // n))
    for start in range(0, b, chunk):
        c = min(chunk, b - start)
        perm = _permuted_rows(rng, pooled, c)
        if base == "mean":
            sx = perm[:, :nx].mean(axis=1)
            sy = perm[:, nx:].mean(axis=1)
        else:
            sx = np.median(perm[:, :nx], axis=1)
            sy = np.median(perm[:, nx:], axis=1)
        null[start:start + c] = _two_stat(statistic, sx, sy)
    return null


# ---------------------------------------------------------------------------------------------
# Permutation: omnibus statistics of k groups
# ---------------------------------------------------------------------------------------------
def _midranks(x: np.ndarray) -> np.ndarray:
    from scipy.stats import rankdata
    return rankdata(x)


def _omnibus_from_sums(statistic, sums, sq, sizes, consts):
    """Vectorised F / Welch F / H from group sums (..., k) (and sums of squares for Welch)."""
    n_tot = consts["n"]
    k = sizes.size
    with np.errstate(divide="ignore", invalid="ignore"):
        if statistic == "f":
            ssb = np.sum(sums ** 2 / sizes, axis=-1) - consts["total"] ** 2 / n_tot
            ssw = consts["sst"] - ssb
            return (ssb / (k - 1)) / (ssw / (n_tot - k))
        if statistic == "kruskal":
            # sums are rank sums of centred mid-ranks r - (n + 1) / 2: H needs no subtraction
            h = 12.0 / (n_tot * (n_tot + 1.0)) * np.sum(sums ** 2 / sizes, axis=-1)
            return h / consts["tie"]
        means = sums / sizes
        var = (sq - sums * means) / (sizes - 1.0)
        w = sizes / var
        sw = np.sum(w, axis=-1)
        grand = np.sum(w * means, axis=-1) / sw
        num = np.sum(w * (means - grand[..., None]) ** 2, axis=-1) / (k - 1.0)
        lam = np.sum((1.0 - w / sw[..., None]) ** 2 / (sizes - 1.0), axis=-1)
        den = 1.0 + 2.0 * (k - 2.0) / (k ** 2 - 1.0) * lam
        return num / den


def _omnibus_setup(values, sizes, statistic):
    """Transformed values (centred values; centred mid-ranks for H) and the permutation-invariant constants."""
    n = values.size
    if statistic == "kruskal":
        z = _midranks(values) - (n + 1.0) / 2.0
        _, t = np.unique(values, return_counts=True)
        tie = 1.0 - np.sum(t.astype(float) ** 3 - t) / (float(n) ** 3 - n)
        return z, {"n": float(n), "tie": tie}
    z = values - values.mean()  # centring leaves F and Welch F unchanged and improves accuracy
    return z, {"n": float(n), "total": float(z.sum()), "sst": float(np.sum(z ** 2))}


def _observed(z, sizes, starts, statistic, consts):
    sums = np.add.reduceat(z, starts)
    sq = np.add.reduceat(z ** 2, starts)
    return float(_omnibus_from_sums(statistic, sums, sq, sizes.astype(float), consts))


#: Relative cost of one hypergeometric draw versus shuffling one element (measured ~10-15 on the
#: development machine; the split below is not sensitive to the exact value).
_HG_COST = 12.0


def _split_rare(m, k):
    """Choose which values to shuffle (short runs) and which to split by hypergeometric draws.

    Minimises ``(k - 1) * _HG_COST * #{frequent values} + sum(m of rare values)`` over thresholds.
    Returns the boolean mask of rare values and the modelled cost (in shuffled-element units).
    """
    order = np.sort(m)
    cum = np.concatenate([[0], np.cumsum(order)])  # elements shuffled if the j smallest runs are rare
    n_freq = order.size - np.arange(order.size + 1)
    cost = (k - 1) * _HG_COST * n_freq + cum
    j = int(np.argmin(cost))
    threshold = order[j - 1] if j > 0 else -1
    rare = m <= threshold
    return rare, float(cost[j])


def _block_counts(seed_seq, b, v, m, sizes, statistic, consts):
    """Null statistics of ``b`` permutations from exact value-by-group tables.

    Frequent values: each value's ``m_u`` copies are split over the groups' remaining capacities
    by sequential hypergeometric draws (vectorised over a chunk of permutations). Rare values
    (short runs) are pooled into one block: after the frequent values are placed, the remaining
    capacities *are* the block's group counts, and given those counts the assignment within the
    block is a uniform random permutation, drawn by shuffling the block. Both steps are exact, so
    the table has the permutation (multivariate hypergeometric) distribution.
    """
    rng = np.random.default_rng(seed_seq)
    k = sizes.size
    fsizes = sizes.astype(float)
    out = np.empty(b)
    rare, _ = _split_rare(m, k)
    freq = np.flatnonzero(~rare)
    freq = freq[np.argsort(-m[freq], kind="stable")]
    block = np.repeat(v[rare], m[rare])
    nb = block.size
    welch = statistic == "welch"
    chunk = max(1, min(b, _CHUNK_ELEMENTS // max(4 * k, nb + 1)))
    for start in range(0, b, chunk):
        c = min(chunk, b - start)
        cap = np.repeat(sizes[:, None], c, axis=1)  # (k, c): remaining capacity of each group
        sums = np.zeros((k, c))
        sq = np.zeros((k, c)) if welch else None
        total = int(sizes.sum())
        for u in freq:
            mu, val = int(m[u]), float(v[u])
            need = np.full(c, mu, dtype=np.int64)
            t = total  # capacity of groups g..k-1 (scalar for g = 0, then per permutation)
            for g in range(k - 1):
                good = cap[g]
                draw = rng.hypergeometric(good, t - good, need)
                t = t - good
                cap[g] -= draw
                need -= draw
                if val != 0.0:
                    sums[g] += draw * val
                    if welch:
                        sq[g] += draw * (val * val)
            cap[k - 1] -= need
            if val != 0.0:
                sums[k - 1] += need * val
                if welch:
                    sq[k - 1] += need * (val * val)
            total -= mu
        if nb:
            perm = _permuted_rows(rng, block, c)
            bounds = np.vstack([np.zeros((1, c), dtype=np.int64), np.cumsum(cap, axis=0)])  # (k+1, c)
            rows = np.arange(c)
            cs = np.zeros((c, nb + 1))
            np.cumsum(perm, axis=1, out=cs[:, 1:])
            part = cs[rows, bounds[1:]] - cs[rows, bounds[:-1]]
            sums += part
            if welch:
                np.cumsum(perm * perm, axis=1, out=cs[:, 1:])
                sq += cs[rows, bounds[1:]] - cs[rows, bounds[:-1]]
        out[start:start + c] = _omnibus_from_sums(statistic, sums.T, None if sq is None else sq.T, fsizes, consts)
    return out


def _block_shuffle(seed_seq, b, z, starts, sizes, statistic, consts):
    """Null statistics of ``b`` permutations by shuffling ``z`` in chunks."""
    rng = np.random.default_rng(seed_seq)
    n = z.size
    fsizes = sizes.astype(float)
    out = np.empty(b)
    chunk = max(1, min(b, _CHUNK_ELEMENTS // n))
    for start in range(0, b, chunk):
        c = min(chunk, b - start)
        perm = _permuted_rows(rng, z, c)
        sums = np.add.reduceat(perm, starts, axis=1)
        sq = np.add.reduceat(perm * perm, starts, axis=1) if statistic == "welch" else None
        out[start:start + c] = _omnibus_from_sums(statistic, sums, sq, fsizes, consts)
    return out


def permutation_distribution(values, sizes, *, statistic: str = "welch", n_resamples: int = 9999, seed=None,
                             path: str = "auto", n_jobs: int | None = None) -> tuple[float, np.ndarray]:
    """Observed omnibus statistic and its permutation null distribution.

    Parameters
    ----------
    values : numpy.ndarray
        Outcome values sorted by group (``GroupedData.values``).
    sizes : numpy.ndarray
        Group sizes (``GroupedData.sizes``).
    statistic : {"f", "welch", "kruskal"}
        Classic one-way ANOVA F, Welch's heteroscedastic F, or Kruskal–Wallis H (tie-corrected).
    n_resamples : int
    seed : None, int or numpy.random.Generator, default=None
        One integer is drawn from it to seed a SeedSequence; permutation block ``j`` (of 1,000)
        uses the ``j``-th spawned child, so results do not depend on ``n_jobs``.
        The same int gives the same numbers on every run; None draws fresh randomness.
    path : {"auto", "counts", "shuffle"}
        "counts": exact value-by-group hypergeometric tables (fast for tied data);
        "shuffle": permute the values in chunks and sum with ``np.add.reduceat``.
    n_jobs : int or None
        Processes for the blocks; None uses 2 when the shuffle work is large and 2+ CPUs exist.

    Returns
    -------
    observed : float
    null : numpy.ndarray
        ``n_resamples`` statistics under random relabelling (NaN where undefined, e.g. a
        permuted group with zero variance for Welch).
    """
    func = "permutation_distribution"
    check_option(statistic, OMNIBUS_STATISTICS, func, "statistic")
    check_option(path, ("auto", "counts", "shuffle"), func, "path")
    b = check_integer(n_resamples, func, "n_resamples")
    rng = check_random_state(seed, func)
    values = np.asarray(values, dtype=np.float64)
    sizes = np.asarray(sizes, dtype=np.int64)
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
    z, consts = _omnibus_setup(values, sizes, statistic)
    observed = _observed(z, sizes, starts, statistic, consts)
    v, m = _compress(z)
    k, n = sizes.size, values.size
    rare, cost = _split_rare(m, k)
    if path == "auto":
        path = "counts" if cost < 0.8 * n else "shuffle"
    root = np.random.SeedSequence(int(rng.integers(0, 2 ** 63 - 1)))
    n_blocks = -(-b // _BLOCK)
    children = root.spawn(n_blocks)
    lengths = [min(_BLOCK, b - j * _BLOCK) for j in range(n_blocks)]
    if path == "counts":
        work = cost * b
        args = [(children[j], lengths[j], v, m, sizes, statistic, consts) for j in range(n_blocks)]
        target = _block_counts
    else:
        work = float(n) * b
        args = [(children[j], lengths[j], z, starts, sizes, statistic, consts) for j in range(n_blocks)]
        target = _block_shuffle
    if n_jobs is None:
        n_jobs = 2 if (work >= _PARALLEL_WORK and (os.cpu_count() or 1) >= 2 and n_blocks > 1) else 1
    if n_jobs > 1:
        with ProcessPoolExecutor(max_workers=n_jobs) as pool:
            parts = list(pool.map(target, *zip(*args)))
    else:
        parts = [target(*a) for a in args]
    return observed, np.concatenate(parts)
