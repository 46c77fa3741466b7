"""Robustness of a department comparison: specification curves with joint inference.

:func:`specification_curve` runs one contrast (``group_a`` versus ``group_b``) over the cross-product
of defensible analysis choices and returns one row per specification; :func:`specification_test`
adds the joint inference of Simonsohn, Simmons & Nelson (2020): is the curve as a whole more
extreme than curves computed on data where the null hypothesis is true by construction?

With posts nested in few accounts, "cluster_level" (one log rate per account, t on G − 2 df) is the
calibrated specification, and "negbin_glmm" specifications use a t reference on G − 2 df instead of z.
"""
from __future__ import annotations

import itertools
import os
import textwrap
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np
import pandas as pd
from scipy import stats

from ._protocol import AnswerFirst
from ._docstrings import fill_doc
from ._progress import PROGRESS_DOC, check_progress, reporter
from ._validation import (check_column, check_data, check_integer, check_option, check_probability,
                          check_random_state, message, renamed_values)

ANALYSES: tuple[str, ...] = ("welch_log_ratio", "rank", "negbin_glm", "negbin_glmm", "account_level",
                             "cluster_level")
#: Old analysis names still accepted for one release (docs/GLOSSARY.md): "welch" meant Welch's ANOVA elsewhere.
_RENAMED_ANALYSES = {"welch": "welch_log_ratio"}
UNITS: tuple[str, ...] = ("post", "account_month")
EXCLUSIONS: tuple[str, ...] = ("none", "paid", "outliers", "small_accounts")
DENOMINATORS: tuple[str, ...] = ("reach", "impressions", "audience", "none")
#: Accounts with fewer posts than this are "small" (exclusion "small_accounts").
SMALL_ACCOUNT_POSTS = 10
#: Posts above this pooled quantile of the outcome per unit of the denominator are "outliers".
OUTLIER_QUANTILE = 0.99
CURVE_COLUMNS: tuple[str, ...] = (
    "spec_id", "outcome", "denominator", "analysis", "unit", "exclusion", "covariates", "estimate", "ci_low",
    "ci_high", "p_value", "significant", "direction", "estimate_native", "scale", "n", "n_a", "n_b", "status",
    "reason")
TEST_COLUMNS: tuple[str, ...] = ("statistic", "observed", "null_mean", "p_value", "n_resamples", "resample_unit")


# --------------------------------------------------------------------------------------------- inputs
def _as_tuple(value, func, param, options=None):
    if isinstance(value, str) or value is None:
        value = (value,) if value is not None else ()
    try:
        value = tuple(value)
    except TypeError:
        raise TypeError(message(func, param, "a sequence of choices", value)) from None
    if not value:
        raise ValueError(message(func, param, "a non-empty sequence of choices", value))
    if options is not None:
        for v in value:
            check_option(v, options, func, param)
    return value


def _covariate_sets(value, func):
    if value is None:
        return ((),)
    if isinstance(value, str):
        raise TypeError(message(func, "covariate_sets", "a sequence of covariate tuples, e.g. ((), ('paid',))",
                                value))
    out = []
    for cs in value:
        cs = (cs,) if isinstance(cs, str) else tuple(cs)
        out.append(cs)
    if not out:
        raise ValueError(message(func, "covariate_sets", "a non-empty sequence of covariate tuples", value))
    return tuple(out)


@dataclass
class _Prepared:
    """The two contrast groups as numpy arrays (one row per post)."""
    is_a: np.ndarray                 # 1.0 for group_a, 0.0 for group_b
    counts: dict                     # outcome -> float array (NaN = missing)
    exposures: dict                  # denominator -> float array (NaN = missing); "none" -> ones
    subject: np.ndarray | None       # integer codes or None
    period: np.ndarray | None        # integer codes or None
    paid: np.ndarray | None          # bool array (missing -> False) or None
    covariates: dict                 # name -> 2-D float design block (dummies / numeric)
    notes: dict = field(default_factory=dict)


def _prepare(data, *, between, contrast, outcomes, denominators, covariate_sets, subject, period, func):
    data = check_data(data, func)
    check_column(data, between, func, "between")
    if not isinstance(contrast, (tuple, list)) or len(contrast) != 2 or contrast[0] == contrast[1]:
        raise ValueError(message(func, "contrast", "a pair (group_a, group_b) of two different groups", contrast))
    labels = data[between].astype("object")
    present = set(labels.dropna().astype(str))
    for g in contrast:
        if str(g) not in present:
            raise ValueError(message(func, "contrast", f"two values of {between!r}", contrast,
                                     f"{g!r} is not among {sorted(present)[:10]}."))
    keep = labels.astype(str).isin([str(contrast[0]), str(contrast[1])]) & labels.notna()
    d = data.loc[keep.to_numpy()]
    is_a = (d[between].astype(str) == str(contrast[0])).to_numpy(dtype=float)
    counts = {}
    for o in outcomes:
        if o == "total" and "total" not in d.columns:
            parts = [c for c in ("likes", "comments", "shares")]
            for c in parts:
                check_column(d, c, func, "outcomes")
            counts[o] = sum(pd.to_numeric(d[c], errors="coerce").astype("float64").to_numpy(na_value=np.nan)
                            for c in parts)
        else:
            check_column(d, o, func, "outcomes")
            counts[o] = pd.to_numeric(d[o], errors="coerce").astype("float64").to_numpy(na_value=np.nan)
    exposures = {}
    for den in denominators:
        if den == "none":
            exposures[den] = np.ones(len(d))
        elif den in d.columns:
            exposures[den] = pd.to_numeric(d[den], errors="coerce").astype("float64").to_numpy(na_value=np.nan)
        else:
            exposures[den] = None  # recorded as a skip reason per specification
    subj = None
    if subject is not None and subject in d.columns:
        subj = pd.factorize(d[subject].astype("object"))[0]
    per = None
    if period is not None and period in d.columns:
        col = d[period]
        if isinstance(col.dtype, pd.DatetimeTZDtype) or pd.api.types.is_datetime64_any_dtype(col):
            key = col.dt.tz_localize(None).dt.to_period("M").astype(str) if isinstance(
                col.dtype, pd.DatetimeTZDtype) else col.dt.to_period("M").astype(str)
        else:
            key = col.astype("object")
        per = pd.factorize(key)[0]
    paid = None
    if "paid" in d.columns:
        paid = d["paid"].astype("boolean").fillna(False).to_numpy(dtype=bool)
    cov = {}
    for cs in covariate_sets:
        for c in cs:
            if c in cov:
                continue
            check_column(d, c, func, "covariate_sets")
            col = d[c]
            if pd.api.types.is_bool_dtype(col) or not pd.api.types.is_numeric_dtype(col):
                dummies = pd.get_dummies(col.astype("object").astype(str), drop_first=True, dtype=float)
                block = dummies.to_numpy(copy=True)
                block[col.isna().to_numpy()] = np.nan
            else:
                block = pd.to_numeric(col, errors="coerce").astype("float64").to_numpy(na_value=np.nan)[:, None]
            cov[c] = block
    return _Prepared(is_a=is_a, counts=counts, exposures=exposures, subject=subj, period=per, paid=paid,
                     covariates=cov)


def _specifications(outcomes, denominators, analyses, units, exclusions, covariate_sets):
    rows = []
    for o, den, an, un, ex, cs in itertools.product(outcomes, denominators, analyses, units, exclusions,
                                                    covariate_sets):
        rows.append({"outcome": o, "denominator": den, "analysis": an, "unit": un, "exclusion": ex,
                     "covariates": cs})
    return rows


# --------------------------------------------------------------------------------------------- one spec
class _Skip(Exception):
    pass


def _fit_nb(y, X, offset, groups=None):
    from .models.glm import fit_glm
    from .models.glmm import fit_glmm
    if groups is None:
        fit = fit_glm(y, X, offset, "negbin")
    else:
        fit = fit_glmm(y, X, offset, groups, "negbin", hessian=True)
    beta, vcov = fit["beta"], fit["vcov"]
    est, se = float(beta[1]), float(np.sqrt(vcov[1, 1]))
    if not (np.isfinite(est) and np.isfinite(se) and se > 0):
        raise FloatingPointError("the model did not converge to a finite estimate")
    return est, se


class _SpecResult(NamedTuple):
    """The numbers of one specification: the columns of its row in the curve (``_curve_rows``)."""

    estimate: float          # log rate ratio group_a / group_b (NaN for "rank")
    ci_low: float
    ci_high: float
    p_value: float
    direction: float         # sign of the effect: +1 group_a higher, -1 lower
    estimate_native: float   # the analysis's own effect size when it has no log rate ratio (Cliff's delta), else NaN
    n: int                   # units analysed (posts, account-months or accounts)
    n_a: int
    n_b: int


def _interval_result(est, se, quantile, p, n, n_a, n_b) -> _SpecResult:
    """A log-rate-ratio estimate with its symmetric interval ``est ± quantile · se``."""
    return _SpecResult(estimate=est, ci_low=est - quantile * se, ci_high=est + quantile * se, p_value=p,
                       direction=float(np.sign(est)), estimate_native=np.nan, n=n, n_a=n_a, n_b=n_b)


def _evaluate(prep: _Prepared, is_a: np.ndarray, spec: dict, z: float, t_level: float) -> _SpecResult:
    """Compute one specification (raises ``_Skip`` when it does not apply to the data)."""
    an, un, ex, cs = spec["analysis"], spec["unit"], spec["exclusion"], spec["covariates"]
    y = prep.counts[spec["outcome"]]
    e = prep.exposures[spec["denominator"]]
    if e is None:
        raise _Skip(f"the data have no {spec['denominator']!r} column")
    if cs and an in ("welch_log_ratio", "rank", "account_level", "cluster_level"):
        raise _Skip(f"{an} does not adjust for covariates")
    if cs and un != "post":
        raise _Skip("covariates are post-level; the account-month unit has none")
    if an in ("account_level", "cluster_level") and un != "post":
        raise _Skip(f"{an} already aggregates to accounts; use unit='post'")
    ok = np.isfinite(y) & np.isfinite(e) & (e > 0)
    for c in cs:
        ok &= np.all(np.isfinite(prep.covariates[c]), axis=1)
    if ex == "paid":
        if prep.paid is None:
            raise _Skip("the data have no 'paid' column")
        ok &= ~prep.paid
    elif ex == "outliers":
        r = np.where(ok, y / np.where(ok, e, 1.0), np.nan)
        cut = np.nanquantile(r, OUTLIER_QUANTILE)
        ok &= r <= cut
    elif ex == "small_accounts":
        if prep.subject is None:
            raise _Skip("no `subject` column to define small accounts")
        counts = np.bincount(prep.subject[ok], minlength=prep.subject.max() + 1)
        ok &= counts[prep.subject] >= SMALL_ACCOUNT_POSTS
    needs_subject = an in ("negbin_glmm", "account_level", "cluster_level") or un == "account_month"
    if needs_subject and prep.subject is None:
        raise _Skip(f"{an if an != 'welch_log_ratio' else un} needs a `subject` (account) column")
    y, e, a = y[ok], e[ok], is_a[ok]
    subj = prep.subject[ok] if prep.subject is not None else None
    X_cov = [prep.covariates[c][ok] for c in cs]
    if un == "account_month":
        if prep.period is None:
            raise _Skip("account_month needs a `period` column")
        key = (subj.astype(np.int64) * (prep.period.max() + 1) + prep.period[ok]) * 2 + a.astype(np.int64)
        u, inv = np.unique(key, return_inverse=True)
        y = np.bincount(inv, weights=y)
        e = np.bincount(inv, weights=e) if spec["denominator"] != "none" else np.bincount(inv).astype(float)
        a = (u % 2).astype(float)
        subj = (u // 2) // (prep.period.max() + 1)
    if an in ("account_level", "cluster_level"):
        n_groups_per_subject = np.bincount(subj, weights=a) / np.maximum(np.bincount(subj), 1)
        if np.any((n_groups_per_subject > 0) & (n_groups_per_subject < 1)):
            raise _Skip("accounts are not nested in the groups (an account posts for both)")
        u, inv = np.unique(subj, return_inverse=True)
        y = np.bincount(inv, weights=y)
        e = np.bincount(inv, weights=e)
        a = (np.bincount(inv, weights=a) > 0).astype(float)
        subj = None
        if min(a.sum(), len(a) - a.sum()) < 2:
            raise _Skip(f"{an} needs at least 2 accounts in each group")
    n, n_a = len(y), int(a.sum())
    n_b = n - n_a
    if min(n_a, n_b) < 2:
        raise _Skip("fewer than 2 units in a group after the exclusions")
    if an == "negbin_glmm":
        n_subj = len(np.unique(subj))
        if n_subj < 3:
            raise _Skip(f"negbin_glmm needs at least 3 accounts; the data have {n_subj}")
    if an == "cluster_level":
        # one log rate per account, pooled two-sample t on G - 2 df (tk.cluster_level_comparison, two groups)
        from .stats.cluster import account_log_rates, pooled_group_means
        means, _, ss_w, df = pooled_group_means(account_log_rates(y, e), a.astype(np.int64), 2)
        est, se = float(means[1] - means[0]), float(np.sqrt(ss_w / df * (1.0 / n_a + 1.0 / n_b)))
        if not se > 0:
            raise FloatingPointError("the account log rates do not vary within the groups")
        tq = stats.t.ppf(t_level, df)
        p = float(2 * stats.t.sf(abs(est / se), df))
        return _interval_result(est, se, tq, p, n, n_a, n_b)
    if an == "welch_log_ratio":
        r = y / e
        ra, rb = r[a == 1], r[a == 0]
        ma, mb = ra.mean(), rb.mean()
        if ma <= 0 or mb <= 0:
            raise FloatingPointError("a group mean is 0; the log ratio is undefined")
        va = ra.var(ddof=1) / (n_a * ma ** 2)
        vb = rb.var(ddof=1) / (n_b * mb ** 2)
        est, se = float(np.log(ma / mb)), float(np.sqrt(va + vb))
        df = (va + vb) ** 2 / (va ** 2 / (n_a - 1) + vb ** 2 / (n_b - 1))
        tq = stats.t.ppf(t_level, df)
        p = float(2 * stats.t.sf(abs(est / se), df))
        return _interval_result(est, se, tq, p, n, n_a, n_b)
    if an == "rank":
        r = y / e
        res = stats.mannwhitneyu(r[a == 1], r[a == 0], alternative="two-sided", method="asymptotic")
        delta = 2.0 * res.statistic / (n_a * n_b) - 1.0   # Cliff's delta (group_a vs group_b)
        return _SpecResult(estimate=np.nan, ci_low=np.nan, ci_high=np.nan, p_value=float(res.pvalue),
                           direction=float(np.sign(delta)), estimate_native=float(delta), n=n, n_a=n_a, n_b=n_b)
    offset = np.log(e)
    X = np.column_stack([np.ones(n), a] + X_cov)
    if np.linalg.matrix_rank(X) < X.shape[1]:
        raise _Skip("the design is rank-deficient in this subset (a covariate is constant or collinear with the groups)")
    groups = None
    if an == "negbin_glmm":
        groups = np.unique(subj, return_inverse=True)[1]
    est, se = _fit_nb(y, X, offset, groups)
    if an == "negbin_glmm":
        # small-sample correction: t on G - 2 "between-within" df (G accounts in the subset) instead of z
        df = int(groups.max()) + 1 - 2
        tq = stats.t.ppf(t_level, df)
        p = float(2 * stats.t.sf(abs(est / se), df))
        return _interval_result(est, se, tq, p, n, n_a, n_b)
    p = float(2 * stats.norm.sf(abs(est / se)))
    return _interval_result(est, se, z, p, n, n_a, n_b)


def _curve_rows(prep, is_a, specs, alpha, confidence_level):
    z = stats.norm.ppf(0.5 + confidence_level / 2.0)
    t_level = 0.5 + confidence_level / 2.0
    out = []
    for spec in specs:
        row = {"estimate": np.nan, "ci_low": np.nan, "ci_high": np.nan, "p_value": np.nan,
               "direction": np.nan, "estimate_native": np.nan, "n": 0, "n_a": 0, "n_b": 0,
               "status": "ok", "reason": ""}
        try:
            row.update(_evaluate(prep, is_a, spec, z, t_level)._asdict())
        except _Skip as exc:
            row.update(status="skipped", reason=str(exc))
        except (FloatingPointError, np.linalg.LinAlgError, ValueError, ZeroDivisionError) as exc:
            row.update(status="failed", reason=f"{type(exc).__name__}: {exc}"[:200])
        out.append(row)
    return out


def _summary(est, p, direction, alpha):
    """Joint statistics of one curve (ok specifications only)."""
    est = np.asarray(est, float)
    p = np.asarray(p, float)
    direction = np.asarray(direction, float)
    if len(p) == 0:
        return np.full(4, np.nan)
    fin = np.isfinite(est)
    med = float(np.median(est[fin])) if fin.any() else np.nan
    pos, neg = np.mean(direction > 0), np.mean(direction < 0)
    dom = 1.0 if pos >= neg else -1.0
    sig = p < alpha
    return np.array([med, float(np.mean(sig)), float(max(pos, neg)), float(np.mean(sig & (direction == dom)))])


STATISTICS = ("median_estimate", "share_significant", "share_dominant_direction", "share_significant_dominant")

# ------------------------------------------------------------------------------------------ parallelism
_STATE: dict = {}


def _init_worker(prep, specs, alpha, confidence_level):
    try:
        from threadpoolctl import threadpool_limits
        _STATE["limits"] = threadpool_limits(1)
    except ImportError:  # pragma: no cover
        pass
    _STATE.update(prep=prep, specs=specs, alpha=alpha, confidence_level=confidence_level)


def _task_specs(idx):
    s = _STATE
    return _curve_rows(s["prep"], s["prep"].is_a, [s["specs"][i] for i in idx], s["alpha"], s["confidence_level"])


def _task_null(is_a):
    s = _STATE
    rows = _curve_rows(s["prep"], is_a, s["specs"], s["alpha"], s["confidence_level"])
    ok = [r for r in rows if r["status"] == "ok"]
    return _summary([r["estimate"] for r in ok], [r["p_value"] for r in ok], [r["direction"] for r in ok],
                    s["alpha"])


def _n_jobs(n_jobs, func):
    if n_jobs is None:
        return max(1, os.cpu_count() or 1)
    n_jobs = check_integer(n_jobs, func, "n_jobs", minimum=1)
    return n_jobs


def _map(fn, items, n_jobs, init_args, report=None, sizes=None):
    """``[fn(item) for item in items]``, in worker processes when n_jobs > 1; ``report(done)`` after each
    item, where `done` counts items, or sums `sizes` (the number of units in each item) when given."""
    out, done = [], 0

    def finished(result):
        nonlocal done
        out.append(result)
        done += 1 if sizes is None else sizes[len(out) - 1]
        if report is not None:
            report(done)

    if n_jobs == 1 or len(items) < 2:
        _init_worker(*init_args)
        try:
            for it in items:
                finished(fn(it))
            return out
        finally:
            _STATE.clear()
    import multiprocessing as mp
    ctx = mp.get_context("fork") if "fork" in mp.get_all_start_methods() else None
    with ProcessPoolExecutor(max_workers=min(n_jobs, len(items)), mp_context=ctx, initializer=_init_worker,
                             initargs=init_args) as ex:
        for result in ex.map(fn, items, chunksize=max(1, len(items) // (4 * n_jobs))):
            finished(result)
    return out


# ---------------------------------------------------------------------------------------- public API
_PARAMS_DOC = """
    data : pandas.DataFrame
        Long form, one row per post.
    between : str
        Group column (e.g. 'department'; on the UCI Facebook data the post ``category`` serves as a
        stand-in for departments).
    contrast : tuple of two str
        ``(group_a, group_b)``: every estimate is group_a relative to group_b. Rows of other groups are
        dropped before anything else.
    outcomes : sequence of str, default ("likes", "comments", "shares", "total")
        Count columns; "total" is likes + comments + shares.
    denominators : sequence of str, default ("reach", "impressions", "audience", "none")
        Exposure of each post; "none" analyses raw counts per post.
    analyses : sequence of str, default all of ``ANALYSES``
        "welch_log_ratio" (Welch-type test of the log ratio of mean rates; until this release called "welch",
        which still works with a ToolkitDeprecationWarning), "rank" (Mann-Whitney / two-group Dunn on
        the rates), "negbin_glm" (NB2 GLM with log-exposure offset), "negbin_glmm" (the same with a random
        intercept per `subject`; t on G - 2 df), "account_level" (NB2 GLM on account totals with log
        total-exposure offset), "cluster_level" (one log rate per account, pooled t on G - 2 df: the
        calibrated department comparison of :func:`toolkit.cluster_level_comparison`). The post-level
        and account-total Wald tests ("negbin_glm", "account_level") are anti-conservative when posts
        cluster in few accounts.
    units : sequence of str, default ("post", "account_month")
        Unit of analysis: posts, or sums per account x month (x group).
    exclusions : sequence of str, default ("none", "paid", "outliers", "small_accounts")
        "paid" drops paid posts; "outliers" drops posts above the pooled 99th percentile of outcome per
        unit of the denominator; "small_accounts" drops accounts with fewer than 10 (kept) posts.
    covariate_sets : sequence of tuples of str, default ((),)
        Adjustment sets for the NB models, e.g. ``((), ("content_type",), ("content_type", "paid"))``.
    subject : str, default "account"
        Account column (GLMM, account-level, account-month, small-account rule); missing -> those
        specifications are skipped with a reason.
    period : str, default "posted_at"
        Time column for the account-month unit (datetimes are cut into calendar months, other values are
        used as they are, e.g. a 'month' column).
    alpha : float, default 0.05
        Significance level of each specification.
    confidence_level : float, default 0.95
        Level of the per-specification confidence intervals.
"""
_N_JOBS_DOC = """n_jobs : int or None, default None
        Worker processes (None: all cores). Results do not depend on it.
    """ + PROGRESS_DOC
#: Parameter text shared by specification_curve and specification_test, rendered by ``@fill_doc(extra=...)``.
_SHARED_DOC = {"specification_choices": textwrap.dedent(_PARAMS_DOC).strip("\n"),
               "n_jobs_progress": textwrap.dedent("    " + _N_JOBS_DOC).strip()}


@fill_doc(extra=_SHARED_DOC)
def specification_curve(data, *, between, contrast, outcomes=("likes", "comments", "shares", "total"),
                        denominators=DENOMINATORS, analyses=ANALYSES, units=UNITS, exclusions=EXCLUSIONS,
                        covariate_sets=((),), subject="account", period="posted_at", alpha=0.05,
                        confidence_level=0.95, n_jobs=None, progress=False):
    """Run one department contrast over every combination of analysis choices (a multiverse).

    Parameters
    ----------
    {{specification_choices}}
    {{n_jobs_progress}}

    Returns
    -------
    pandas.DataFrame
        One row per specification, sorted by `spec_id` (the order of the cross-product):

        - ``spec_id``: 0, 1, ...
        - ``outcome``, ``denominator``, ``analysis``, ``unit``, ``exclusion``: the choices.
        - ``covariates``: the adjustment set joined with "+" ("none" for the empty set).
        - ``estimate``: log ratio group_a / group_b on a common scale (see Notes); NaN for "rank".
        - ``ci_low``, ``ci_high``: confidence interval of ``estimate``.
        - ``p_value``: two-sided p-value of the specification's own test.
        - ``significant``: ``p_value < alpha``.
        - ``direction``: +1 when group_a is higher, -1 when lower, 0 for a tie (rank: sign of Cliff's delta).
        - ``estimate_native``: Cliff's delta for "rank" specifications, NaN otherwise.
        - ``scale``: "log ratio" or "cliffs delta".
        - ``n``, ``n_a``, ``n_b``: units analysed (posts, account-months or accounts) in total and per group.
        - ``status``: "ok", "skipped" (the choice does not apply to these data) or "failed" (the fit failed).
        - ``reason``: why a specification was skipped or failed ("" when ok).

    See Also
    --------
    specification_test : Joint test of a specification curve against curves computed on data with no group
        difference.
    plot_specification_curve : Plot a specification curve: sorted estimates with CIs above, the choice matrix
        below.

    Notes
    -----
    Common effect scale: the natural log of the ratio group_a / group_b. For "welch_log_ratio" it is the log ratio of
    the mean rates, :math:`\\log(\\bar r_a / \\bar r_b)` with delta-method variance
    :math:`s_a^2/(n_a \\bar r_a^2) + s_b^2/(n_b \\bar r_b^2)` and Welch-Satterthwaite degrees of freedom
    (the p-value tests the same statistic). For the NB models it is the log rate ratio: Wald z for
    "negbin_glm"; for "negbin_glmm" the same Wald statistic referred to a t distribution with ``G - 2``
    degrees of freedom (G accounts in the analysed subset), a small-sample correction (the
    "between-within" df: the group effect is estimated from G accounts, not from the posts), so that its
    p-values and intervals are not those of a z test that treats the account variance as known. For
    "account_level" it is the log ratio of account totals per unit of exposure (NB2 GLM on account sums
    with offset log of the summed exposure; with denominator "none" the offset is log(number of posts)).
    For "cluster_level" it is the difference of the group means of the account log rates
    ``l_j = log((Y_j + 0.5) / E_j)`` (Y_j the account's summed outcome, E_j its summed exposure, or its
    number of posts with denominator "none"; 0.5 is the continuity correction of Hayes & Moulton 2017),
    i.e. the log ratio of geometric-mean account rates, with a pooled two-sample t test and interval on
    ``G - 2`` df (``scipy.stats.ttest_ind(equal_var=True)`` on the ``l_j``); it is skipped with a reason
    for the account-month unit, with covariates, when accounts are not nested in the two groups or a
    group has fewer than 2 accounts.
    Rank analyses have no ratio; their Cliff's delta is in ``estimate_native`` and they count in the
    significance and direction shares but are left out of the median estimate and of the curve plot.
    Welch and rank analyses of two groups are the per-pair building blocks of Games-Howell and Dunn,
    without a multiplicity adjustment (one contrast is tested).

    Missing data: per specification, posts with a missing count, exposure or covariate, or an exposure
    <= 0, are left out; ``n`` reports what was analysed. Choices that do not apply (e.g. a GLMM on one
    account, covariates in a Welch test) are kept as rows with status "skipped" and their reason, never
    silently dropped.

    Validated: the NB fits are the ones of :func:`toolkit.models.fit_engagement_model` (validated against
    ``MASS::glm.nb`` and ``glmmTMB``); tests/test_robustness.py checks every analysis against a direct
    computation (scipy, fit_engagement_model; "cluster_level" against ``scipy.stats.ttest_ind`` on
    account log rates and :func:`toolkit.cluster_level_comparison`).

    References
    ----------
    Simonsohn, U., Simmons, J. P., & Nelson, L. D. (2020). Specification curve analysis. Nature Human
    Behaviour, 4, 1208-1214. doi:10.1038/s41562-020-0912-z
    Steegen, S., Tuerlinckx, F., Gelman, A., & Vanpaemel, W. (2016). Increasing transparency through a
    multiverse analysis. Perspectives on Psychological Science, 11(5), 702-712. doi:10.1177/1745691616658637
    Hayes, R. J., & Moulton, L. H. (2017). Cluster Randomised Trials (2nd ed.). Chapman & Hall/CRC,
    chapter 9 (cluster-level summaries). doi:10.4324/9781315370286
    Li, P., & Redden, D. T. (2015). Comparing denominator degrees of freedom approximations for the
    generalized linear mixed model in analyzing binary outcome in small sample cluster-randomized
    trials. BMC Medical Research Methodology, 15, 38. doi:10.1186/s12874-015-0026-x

    Examples
    --------
    >>> import toolkit as tk
    >>> from toolkit.robustness import specification_curve
    >>> sim = tk.simulate_organization(n_accounts_per_department=4, posts_per_account=20, seed=3,
    ...                                departments=["Marketing", "PR"], mixed_share=0.0)
    >>> curve = specification_curve(sim.data, between="department", contrast=("PR", "Marketing"),
    ...                             outcomes=("comments",), denominators=("reach", "none"),
    ...                             analyses=("welch_log_ratio", "negbin_glm"), units=("post",),
    ...                             exclusions=("none", "paid"), n_jobs=1)
    >>> curve.shape
    (8, 20)
    >>> curve["status"].unique().tolist()
    ['ok']
    """
    prep, specs, alpha, confidence_level, n_jobs = _setup(
        data, func="specification_curve", between=between, contrast=contrast, outcomes=outcomes,
        denominators=denominators, analyses=analyses, units=units, exclusions=exclusions,
        covariate_sets=covariate_sets, subject=subject, period=period, alpha=alpha,
        confidence_level=confidence_level, n_jobs=n_jobs)
    progress = check_progress(progress, "specification_curve")
    return _curve_table(prep, specs, alpha, confidence_level, n_jobs, progress)


def _setup(data, *, func, between, contrast, outcomes, denominators, analyses, units, exclusions, covariate_sets,
           subject, period, alpha, confidence_level, n_jobs):
    """Validate the declared choices, prepare the data and list the specifications (shared by both entry points)."""
    outcomes = _as_tuple(outcomes, func, "outcomes")
    denominators = _as_tuple(denominators, func, "denominators")
    analyses = _as_tuple(renamed_values(func, "analyses", _as_tuple(analyses, func, "analyses"), _RENAMED_ANALYSES),
                         func, "analyses", ANALYSES)
    units = _as_tuple(units, func, "units", UNITS)
    exclusions = _as_tuple(exclusions, func, "exclusions", EXCLUSIONS)
    covariate_sets = _covariate_sets(covariate_sets, func)
    alpha = check_probability(alpha, func, "alpha")
    confidence_level = check_probability(confidence_level, func, "confidence_level")
    n_jobs = _n_jobs(n_jobs, func)
    prep = _prepare(data, between=between, contrast=contrast, outcomes=outcomes, denominators=denominators,
                    covariate_sets=covariate_sets, subject=subject, period=period, func=func)
    specs = _specifications(outcomes, denominators, analyses, units, exclusions, covariate_sets)
    return prep, specs, alpha, confidence_level, n_jobs


def _curve_table(prep, specs, alpha, confidence_level, n_jobs, progress=False):
    # each specification is evaluated on its own, so the chunking changes only how often progress is reported
    n_chunks = min(len(specs), 4 * n_jobs if progress is False else max(4 * n_jobs, 20))
    chunks = [list(c) for c in np.array_split(np.arange(len(specs)), n_chunks) if len(c)]
    with reporter(progress, total=len(specs), what="specifications") as report:
        parts = _map(_task_specs, chunks, n_jobs, (prep, specs, alpha, confidence_level), report,
                     [len(c) for c in chunks])
    rows = [r for part in parts for r in part]
    spec_frame = pd.DataFrame(specs)
    spec_frame["covariates"] = ["+".join(c) if c else "none" for c in spec_frame["covariates"]]
    res = pd.DataFrame(rows)
    out = pd.concat([spec_frame, res], axis=1)
    out.insert(0, "spec_id", np.arange(len(out)))
    out["significant"] = (out["p_value"] < alpha) & (out["status"] == "ok")
    out["scale"] = np.where(out["analysis"] == "rank", "cliffs delta", "log ratio")
    for c in ("n", "n_a", "n_b"):
        out[c] = out[c].astype("int64")
    return out[list(CURVE_COLUMNS)]


@dataclass(frozen=True, repr=False)
class SpecificationTest(AnswerFirst):
    """Joint inference for a specification curve.

    Attributes
    ----------
    curve : pandas.DataFrame
        The observed curve (:func:`specification_curve` columns).
    tests : pandas.DataFrame
        One row per joint statistic: ``statistic``, ``observed``, ``null_mean`` (mean over the null curves),
        ``p_value``, ``n_resamples``, ``resample_unit``.
    null : pandas.DataFrame
        The joint statistics of every null curve (one row per resample, one column per statistic).
    """

    curve: pd.DataFrame
    tests: pd.DataFrame
    null: pd.DataFrame = field(repr=False)

    def to_frame(self) -> pd.DataFrame:
        """The joint tests (one row per statistic); the specifications are in ``curve``."""
        return self.tests.copy()


@fill_doc(extra=_SHARED_DOC)
def specification_test(data, *, between, contrast, outcomes=("likes", "comments", "shares", "total"),
                       denominators=DENOMINATORS, analyses=ANALYSES, units=UNITS, exclusions=EXCLUSIONS,
                       covariate_sets=((),), subject="account", period="posted_at", alpha=0.05,
                       confidence_level=0.95, n_resamples=200, resample_unit="auto", seed=None, n_jobs=None,
                       progress=False):
    """Joint test of a specification curve against curves computed on data with no group difference.

    Parameters
    ----------
    {{specification_choices}}
    n_resamples : int, default 200
        Number of null data sets (the smallest attainable p-value is 1 / (n_resamples + 1)).
    resample_unit : {"auto", "subject", "post"}, default "auto"
        How the null is forced: the group labels are permuted among accounts ("subject": each account
        keeps its posts; needs accounts nested in the groups) or among posts ("post"). "auto" uses
        "subject" when every account belongs to one group and each group has at least 2 accounts,
        else "post".
    seed : None, int or numpy.random.Generator, default=None
        Source of the permutations (one ``SeedSequence`` child per resample).
        The same int gives the same numbers on every run; None draws fresh randomness.
    {{n_jobs_progress}}

    Returns
    -------
    SpecificationTest
        ``curve`` (observed), ``tests`` (columns statistic, observed, null_mean, p_value, n_resamples,
        resample_unit; rows ``median_estimate``, ``share_significant``, ``share_dominant_direction``,
        ``share_significant_dominant``) and ``null`` (the statistics of each null curve).

    See Also
    --------
    specification_curve : Run one department contrast over every combination of analysis choices (a multiverse).
    plot_specification_curve : Plot a specification curve: sorted estimates with CIs above, the choice matrix
        below.

    Notes
    -----
    Statistics of a curve, over its "ok" specifications: the median estimate (log ratio; rank analyses
    excluded), the share with ``p < alpha``, the share in the dominant direction (the larger of the
    shares with direction +1 and -1), and the share significant in the dominant direction (Simonsohn et
    al.'s second test). Null data: Simonsohn et al. (2020) force the null by removing the effect and
    resampling; for a comparison of existing groups we force it by permuting the group labels, which makes
    the groups exchangeable (no difference of any kind) and keeps all other structure (accounts,
    exposures, covariates). Each null curve is computed with exactly the same specifications.
    ``p = (1 + #{null >= observed}) / (1 + n_resamples)``, with ``|median|`` for the median estimate.
    The p-values are exact permutation p-values when the labels are exchangeable under the null; they are
    discrete with at most ``n_resamples + 1`` values, and with few accounts the number of distinct
    permutations is small.

    Missing data: as in :func:`specification_curve`.
    Validated by simulation: on data simulated under the null the p-values are uniform
    (tests/test_robustness.py: Kolmogorov-Smirnov test and the rejection rate at 0.05 and 0.2).

    References
    ----------
    Simonsohn, U., Simmons, J. P., & Nelson, L. D. (2020). Specification curve analysis. Nature Human
    Behaviour, 4, 1208-1214. doi:10.1038/s41562-020-0912-z
    Good, P. (2005). Permutation, Parametric and Bootstrap Tests of Hypotheses (3rd ed.). Springer.
    doi:10.1007/b138696

    Examples
    --------
    >>> import toolkit as tk
    >>> from toolkit.robustness import specification_test
    >>> sim = tk.simulate_organization(n_accounts_per_department=4, posts_per_account=20, seed=3,
    ...                                departments=["Marketing", "PR"], mixed_share=0.0)
    >>> res = specification_test(sim.data, between="department", contrast=("PR", "Marketing"),
    ...                          outcomes=("comments", "likes"), denominators=("reach",),
    ...                          analyses=("welch_log_ratio", "negbin_glm"), units=("post",), exclusions=("none",),
    ...                          n_resamples=19, seed=1, n_jobs=1)
    >>> res.tests["statistic"].tolist()
    ['median_estimate', 'share_significant', 'share_dominant_direction', 'share_significant_dominant']
    >>> bool(res.tests["p_value"].between(0.05, 1).all())
    True
    """
    func = "specification_test"
    n_resamples = check_integer(n_resamples, func, "n_resamples", minimum=1)
    check_option(resample_unit, ("auto", "subject", "post"), func, "resample_unit")
    rng = check_random_state(seed, func)
    prep, specs, alpha, confidence_level, n_jobs = _setup(
        data, func=func, between=between, contrast=contrast, outcomes=outcomes, denominators=denominators,
        analyses=analyses, units=units, exclusions=exclusions, covariate_sets=covariate_sets, subject=subject,
        period=period, alpha=alpha, confidence_level=confidence_level, n_jobs=n_jobs)
    progress = check_progress(progress, func)
    curve = _curve_table(prep, specs, alpha, confidence_level, n_jobs, progress)
    ok = curve[curve["status"] == "ok"]
    if ok.empty:
        raise ValueError(message(func, None, "at least one specification that runs on these data",
                                 show_got=False, hint="Every specification was skipped or failed; see "
                                 "specification_curve(...)['reason']."))
    observed = _summary(ok["estimate"], ok["p_value"], ok["direction"], alpha)

    nested = False
    if prep.subject is not None:
        G = prep.subject.max() + 1
        share_a = np.bincount(prep.subject, weights=prep.is_a, minlength=G) / np.bincount(prep.subject, minlength=G)
        nested = bool(np.all((share_a == 0) | (share_a == 1)))
        acc_a = int((share_a == 1).sum())
        nested = nested and min(acc_a, G - acc_a) >= 2
    if resample_unit == "auto":
        resample_unit = "subject" if nested else "post"
    elif resample_unit == "subject" and not nested:
        raise ValueError(message(func, "resample_unit", "'post' for these data", "subject",
                                 "Permuting accounts needs accounts nested in the groups and at least 2 "
                                 "accounts per group."))
    children = np.random.SeedSequence(int(rng.integers(0, 2 ** 63 - 1))).spawn(n_resamples)
    labels = []
    if resample_unit == "subject":
        acc_labels = share_a
        for ch in children:
            perm = np.random.default_rng(ch).permutation(acc_labels)
            labels.append(perm[prep.subject])
    else:
        for ch in children:
            labels.append(np.random.default_rng(ch).permutation(prep.is_a))
    with reporter(progress, total=n_resamples, what="null curves") as report:
        null = np.array(_map(_task_null, labels, n_jobs, (prep, specs, alpha, confidence_level), report))
    obs_cmp = observed.copy()
    null_cmp = null.copy()
    obs_cmp[0], null_cmp[:, 0] = abs(observed[0]), np.abs(null[:, 0])
    pvals = []
    for j in range(len(STATISTICS)):
        col = null_cmp[:, j]
        if not np.isfinite(obs_cmp[j]):
            pvals.append(np.nan)
            continue
        pvals.append(float((1 + np.sum(col[np.isfinite(col)] >= obs_cmp[j] - 1e-12)) / (1 + n_resamples)))
    tests = pd.DataFrame({"statistic": list(STATISTICS), "observed": observed,
                          "null_mean": np.nanmean(null, axis=0) if np.isfinite(null).any() else np.nan,
                          "p_value": pvals, "n_resamples": n_resamples, "resample_unit": resample_unit})
    return SpecificationTest(curve=curve, tests=tests, null=pd.DataFrame(null, columns=list(STATISTICS)))
