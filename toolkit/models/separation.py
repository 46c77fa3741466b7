"""Groups without events: finite, likelihood-based answers instead of a rate ratio of 1e-262.

When every post of a department has a count of 0, its maximum-likelihood log rate is −∞ (the
department is *separated*): Wald intervals become [0, ∞] and z tests meaningless. The likelihood
itself stays well behaved: as the department's log rate goes to −∞ its posts contribute
``log f(0 | mu → 0) = 0``, so the supremum of the log-likelihood is the fit without those posts.
This module answers with that likelihood:

* the maximum-likelihood rate ratio is 0 (or ∞ when the zero group is the denominator);
* the test of "same rate" uses the profile deviance ``D(b) = 2 (l_sup − l(b))`` at b = 0 as
  ``p = min(1, 2 exp(−D(0) / 2))``, and the upper confidence limit solves
  ``D(b) = −2 log((1 − level) / 2)`` (Venzon & Moolgavkar 1988 for profile limits). For Poisson
  counts the profile deviance of a zero count is exactly ``−2 n log(1 − p)`` of the conditional
  binomial (n events in the other level, p the zero level's share of the expected events), so
  these are then exactly the conditional binomial test (doubled one-sided p) and the
  Clopper–Pearson limit; with NB dispersion, covariates or a random intercept they are the same
  likelihood quantities, calibrated to that exact case rather than to the χ²₁ limit, which is
  anti-conservative at the boundary (a χ²₁ threshold would give a one-sided 15% limit there).

Parameters are written in cell-means form: with the membership matrix ``M`` (one column per level
of `between`, rows summing to 1, fractional for multiple-membership coding), the log rate of level j
is ``alpha_j`` plus covariate terms. A contrast ``alpha_z − alpha_h = b`` is imposed by merging the two
columns and moving ``b · M_z`` into the offset.

References
----------
Venzon, D. J., & Moolgavkar, S. H. (1988). A method for computing profile-likelihood-based
confidence intervals. Applied Statistics, 37(1), 87–94. doi:10.2307/2347496
Heinze, G., & Schemper, M. (2002). A solution to the problem of separation in logistic regression.
Statistics in Medicine, 21(16), 2409–2419. doi:10.1002/sim.1047
"""
from __future__ import annotations

import numpy as np
from scipy import optimize, stats


def subset_groups(groups, rows):
    """Random-effect groups restricted to `rows` (boolean), codes renumbered 0..G'-1.

    `groups` as :func:`toolkit.models.glmm.fit_glmm` takes them: codes, or a list of codes and ``(codes, Zk)``
    random-slope terms; None stays None.

    Examples
    --------
    >>> subset_groups(np.array([0, 2, 2, 1]), np.array([False, True, True, True]))
    array([1, 1, 0])
    >>> g = subset_groups([np.array([0, 1, 1]), (np.array([3, 3, 1]), np.ones((3, 1)))], np.array([1, 1, 0], bool))
    >>> g[0], g[1][0], g[1][1].shape
    (array([0, 1]), array([0, 0]), (2, 1))
    """
    def codes(g):
        return np.unique(np.asarray(g)[rows], return_inverse=True)[1]
    if groups is None:
        return None
    if isinstance(groups, list):
        return [(codes(g[0]), np.asarray(g[1])[rows]) if isinstance(g, tuple) else codes(g) for g in groups]
    return codes(groups)


def membership(design) -> np.ndarray:
    """(n, k) membership of every post in every level of `between` (reference first, rows sum to 1)."""
    D = design.X[:, design.between_columns]
    return np.column_stack([1.0 - D.sum(axis=1), D])


def covariate_columns(design) -> list[int]:
    return [j for j in range(1, design.X.shape[1]) if j not in set(design.between_columns)]


def zero_event_levels(design) -> list[dict]:
    """Levels of `between` whose posts all have a count of 0: level, index, posts, exposure."""
    codes = getattr(design, "between_codes", None)
    if codes is not None:      # one level per post: counts by level without the n x k membership matrix
        k = len(design.levels)
        posts = np.bincount(codes, minlength=k)
        events = np.bincount(codes, weights=design.y, minlength=k)
        out = []
        for j in np.flatnonzero((posts > 0) & (events == 0.0)):
            rows = codes == j
            exposure = float(np.exp(design.offset[rows]).sum()) if design.exposure else float("nan")
            out.append({"level": design.levels[j], "index": int(j), "n_posts": int(posts[j]), "exposure": exposure})
        return out
    M = membership(design)
    out = []
    for j, level in enumerate(design.levels):
        rows = M[:, j] > 0
        if rows.any() and float(design.y[rows].sum()) == 0.0:
            exposure = float(np.exp(design.offset[rows]).sum()) if design.exposure else float("nan")
            out.append({"level": level, "index": j, "n_posts": int(rows.sum()), "exposure": exposure})
    return out


class Profile:
    """Profile log-likelihood of one zero-event level `z` against level `h` (or its own rate)."""

    def __init__(self, design, fit_loglik, z: int, h: int | None, grid: np.ndarray | None = None,
                 others=()):
        M = membership(design)
        # other levels without events contribute exactly 0 at their own supremum, whatever b: leave them out
        rows = (M[:, list(others)] == 0).all(axis=1) if len(others) else np.ones(design.n, dtype=bool)
        self.y, self.offset = design.y[rows], design.offset[rows]
        self.groups = subset_groups(design.groups, rows)
        self.fit_loglik = fit_loglik
        C = design.X[rows][:, covariate_columns(design)]
        M = M[rows]
        self.mz = M[:, z]
        keep = [j for j in range(M.shape[1]) if j != z and j not in set(others)]
        Mk = M[:, keep].copy()
        if h is not None:
            Mk[:, keep.index(h)] += self.mz            # alpha_z = alpha_h + b
            self.X = np.column_stack([Mk, C])
        else:                                           # alpha_z + g'gamma = b (a marginal mean)
            self.X = np.column_stack([Mk, C - np.outer(self.mz, grid)])
        self._sup = None

    def _fit(self, X, y, offset, groups):
        X = X[:, np.any(X != 0, axis=0)]
        return self.fit_loglik(y, X, offset, groups)

    def loglik(self, b: float) -> float:
        return self._fit(self.X, self.y, self.offset + b * self.mz, self.groups)

    def sup(self) -> float:
        """Supremum over b → −∞: the posts of the zero level contribute exactly 0."""
        if self._sup is None:
            rest = self.mz == 0
            groups = subset_groups(self.groups, rest)
            self._sup = self._fit(self.X[rest], self.y[rest], self.offset[rest], groups)
        return self._sup

    def deviance(self, b: float) -> float:
        """``2 (l_sup − l(b))``; NaN when a fit fails (a singular or non-finite model far in the tail)."""
        try:
            value = 2.0 * (self.sup() - self.loglik(b))
        except (np.linalg.LinAlgError, ValueError, FloatingPointError):
            return float("nan")
        return max(value, 0.0) if np.isfinite(value) else float("nan")

    def upper(self, confidence_level: float, start: float) -> float:
        """b with deviance(b) = −2 log((1 − confidence_level) / 2): the upper confidence limit.

        For Poisson counts this is exactly the Clopper–Pearson limit of the conditional binomial
        (``(1 − p)^n = (1 − level) / 2`` with n the events of the other level), because the profile
        deviance of a zero count is ``−2 n log(1 − p)``.
        """
        q = -2.0 * np.log((1.0 - confidence_level) / 2.0)
        # the profile deviance rises monotonically from 0 (b -> -inf); a value that falls or fails on the way
        # up is a fit that did not converge in the far tail: then no limit is given rather than a wrong one
        b, prev = start, self.deviance(start)
        for _ in range(60):
            if not np.isfinite(prev) or prev < q:
                break
            b -= 2.0
            prev = self.deviance(b)
        if not (np.isfinite(prev) and prev < q):
            return float("nan")
        for _ in range(120):
            nxt = self.deviance(b + 1.0)
            if not np.isfinite(nxt) or nxt < prev - 1e-6:
                return float("nan")
            if nxt > q:
                try:
                    return float(optimize.brentq(lambda v: self.deviance(v) - q, b, b + 1.0, xtol=1e-8))
                except ValueError:
                    return float("nan")
            b, prev = b + 1.0, nxt
        return float("inf")         # the deviance stays below q: these data set no limit


def crude_log_ratio(design, z: int, h: int) -> float:
    """Starting value: log of (0.5 event / exposure of z) over (events / exposure of h)."""
    M = membership(design)
    ez = float(np.sum(M[:, z] * np.exp(design.offset)))
    eh = float(np.sum(M[:, h] * np.exp(design.offset)))
    yh = float(np.sum(M[:, h] * design.y))
    return float(np.log((0.5 / ez) / ((yh + 0.5) / eh)))


def _p_from_deviance(dev: float) -> float:
    return float(min(1.0, 2.0 * np.exp(-dev / 2.0))) if np.isfinite(dev) else float("nan")


def zero_event_answers(design, *, fit_loglik, rate_ratios, contrasts, emmeans, confidence_level, p_adjust):
    """Replace the Wald rows that involve a zero-event level with likelihood-based ones.

    Returns ``(rate_ratios, contrasts, emmeans, notes)`` (new frames; the inputs are not changed).
    ``fit_loglik(y, X, offset, groups)`` fits the model (same family, same random effects) and
    returns its maximised log-likelihood.
    """
    from ..stats.multitest import adjust_pvalues
    from .emmeans import grid_rows

    zeros = zero_event_levels(design)
    rr, con, emm = rate_ratios.copy(), contrasts.copy(), emmeans.copy()
    if not zeros:
        return rr, con, emm, []
    zero_idx = {z["index"] for z in zeros}
    levels = list(design.levels)
    notes = []
    for z in zeros:
        unit = f" (exposure {z['exposure']:,.0f})" if design.exposure else ""
        notes.append(f"{design.between} {z['level']!r}: 0 events in {z['n_posts']} posts{unit}. Its rate ratios are "
                     f"0 (or infinite when it is the denominator) with a finite likelihood-based limit, and their "
                     f"tests compare likelihoods (exact conditional binomial for Poisson counts), not Wald z.")
    cache: dict = {}

    def answer(zi: int, hi: int):
        key = (zi, hi)
        if key not in cache:
            if hi in zero_idx:
                cache[key] = (np.nan, np.nan, np.nan)
            else:
                prof = Profile(design, fit_loglik, zi, hi, others=sorted(zero_idx - {zi}))
                dev0 = prof.deviance(0.0)
                upper = prof.upper(confidence_level, crude_log_ratio(design, zi, hi))
                cache[key] = (dev0, _p_from_deviance(dev0), upper)
        return cache[key]

    def ratio(a: int, b: int):
        """(rate ratio a/b, limit low, limit high, p) when a or b has no events, else None."""
        if a not in zero_idx and b not in zero_idx:
            return None
        if a in zero_idx and b in zero_idx:            # both levels without events: nothing to compare
            return np.nan, np.nan, np.nan, np.nan
        flip = a not in zero_idx                       # the zero level is the denominator: ratio infinite
        _, p, upper = answer(b, a) if flip else answer(a, b)
        # a limit that could not be computed (a fit failed far in the tail) stays NaN, never a made-up bound
        return (np.inf, np.exp(-upper), np.inf, p) if flip else (0.0, 0.0, np.exp(upper), p)

    method = "profile likelihood (0 events)"
    for i, row in rr.iterrows():
        got = ratio(levels.index(str(row["group"])), levels.index(str(row["reference"])))
        if got is not None:
            est, lo, hi, p = got
            rr.loc[i, ["rate_ratio", "ci_low", "ci_high", "statistic", "p_value"]] = [est, lo, hi, np.nan, p]
    for i, row in con.iterrows():
        got = ratio(levels.index(str(row["group_a"])), levels.index(str(row["group_b"])))
        if got is not None:
            est, lo, hi, p = got
            con.loc[i, ["rate_ratio", "std_error", "ci_low", "ci_high", "statistic", "p_value", "method"]] = [
                est, np.nan, lo, hi, np.nan, p, method]
    con["p_adjusted"] = np.asarray(adjust_pvalues(con["p_value"].to_numpy(dtype=float), p_adjust=p_adjust), dtype=float)
    L = grid_rows(design)
    cov = covariate_columns(design)
    per = float(emm["exposure_at"].iloc[0]) if design.exposure else 1.0
    for z in zeros:
        prof = Profile(design, fit_loglik, z["index"], None, grid=L[z["index"], cov],
                       others=sorted(zero_idx - {z["index"]}))
        exposure_z = float(np.sum(membership(design)[:, z["index"]] * np.exp(design.offset)))
        upper = prof.upper(confidence_level, float(np.log(0.5 / exposure_z)))
        j = emm.index[emm["group"].astype(str) == z["level"]][0]
        emm.loc[j, ["rate", "std_error", "ci_low", "ci_high", "log_rate", "log_std_error"]] = [
            0.0, np.nan, 0.0, float(np.exp(upper) * per), -np.inf, np.nan]
    return rr, con, emm, notes
