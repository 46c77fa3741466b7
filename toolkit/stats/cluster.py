"""Department inference from whole accounts: the cluster-level analysis for few accounts.

Posts of one account share its audience, style and history, so a department's evidence grows with
its number of *accounts*, not posts. With the one to fifteen accounts per department that real
organisations have, model-based tests of a GLMM (likelihood ratio, Wald z) find department
differences that do not exist (they treat a variance estimated from a handful of accounts as known).
This module answers the department question at the level where the replication is: one summary per
account, a permutation test of department labels across whole accounts, and t-based intervals with
the degrees of freedom the accounts give (Hayes & Moulton 2017, ch. 9; Bennett et al. 2002).

:func:`accounts_per_group` is the identifiability check every department comparison starts from.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from itertools import combinations

import numpy as np
import pandas as pd
from scipy import stats

from .._protocol import AnswerFirst
from .._validation import (check_column, check_data, check_integer, check_nan_policy, check_probability,
                           check_random_state, complete_counts, message)
from .schema import OMNIBUS_COLUMNS, PAIRWISE_COLUMNS, frame
from .multitest import adjust_pvalues, check_p_adjust

__all__ = ["cluster_level_comparison", "accounts_per_group", "ClusterLevelComparison"]

#: Largest number of distinct label assignments enumerated exactly (otherwise Monte Carlo).
EXACT_LIMIT = 100_000
#: More groups than this: every group is compared with the grand mean instead of every pair.
PAIRWISE_LIMIT = 20
#: Continuity correction added to each account's event count before taking logs (Hayes & Moulton 2017).
CONTINUITY = 0.5
#: Fewer accounts than this in some group: a GLMM's likelihood-ratio / Wald tests are anti-conservative
#: (benchmarks/bench_calibration.py); compare_groups, run_plan and fit_engagement_model say so.
FEW_SUBJECTS = 15

GROUP_COLUMNS: tuple[str, ...] = (
    "group", "n_subjects", "n_posts", "events", "exposure", "zero_event_subjects", "mean_log_rate",
    "rate", "rate_ci_low", "rate_ci_high", "per", "confidence_level")
SUBJECT_COLUMNS: tuple[str, ...] = ("subject", "group", "n_posts", "events", "exposure", "log_rate", "rate")


def accounts_per_group(data, *, between, subject):
    """How many accounts (subjects) each group has, and whether groups and accounts can be told apart.

    Parameters
    ----------
    data : pandas.DataFrame
        Long form, one row per post. Rows with a missing `between` or `subject` are ignored here.
    between : str
        Group column (e.g. ``"department"``).
    subject : str
        Account column (e.g. ``"account"``). May equal `between`.

    Returns
    -------
    pandas.DataFrame
        One row per group: ``group``, ``n_subjects`` (distinct accounts), ``n_posts``,
        ``single_subject`` (bool), ``subjects`` (the account labels, ``|``-joined, first 5). The frame's
        ``attrs`` hold ``identifiable`` (False when every group has a single account, so a group effect
        cannot be separated from its account's effect), ``same_as_subject`` (`between` is `subject` or a
        one-to-one copy of it) and ``crossed`` (accounts found in several groups).

    See Also
    --------
    nesting_summary : Describe how posts are nested in accounts and how much that shrinks the effective sample
        size.
    account_level : Aggregate posts to one row per account: total counts, total exposure and their ratio.
    aggregate_posts : Reduce posts to one row per account (or account x period) with sums and pooled rates.

    Examples
    --------
    >>> import pandas as pd
    >>> import toolkit as tk
    >>> posts = pd.DataFrame({"department": ["PR", "PR", "IT", "IT"], "account": ["pr1", "pr1", "it1", "it2"]})
    >>> t = tk.accounts_per_group(posts, between="department", subject="account")
    >>> t[["group", "n_subjects", "single_subject"]].values.tolist(), t.attrs["identifiable"]
    ([['IT', 2, False], ['PR', 1, True]], True)
    """
    return count_accounts_per_group(data, between=between, subject=subject, func="accounts_per_group")


def count_accounts_per_group(data, *, between, subject, func):
    """:func:`accounts_per_group` for other toolkit functions: errors name the calling function `func`."""
    data = check_data(data, func)
    check_column(data, between, func, "between")
    check_column(data, subject, func, "subject")
    if between == subject:
        s = data[subject].dropna().astype("object").astype(str)
        counts = s.value_counts(sort=False).sort_index()
        out = pd.DataFrame({"group": counts.index.astype(str), "n_subjects": 1, "n_posts": counts.to_numpy(),
                            "single_subject": True, "subjects": counts.index.astype(str)})
        out.attrs.update(identifiable=False, same_as_subject=True, crossed=[])
        return out
    frame = data[[between, subject]].dropna()
    g_codes, g_labels = _text_codes(frame[between])
    s_codes, s_labels = _text_codes(frame[subject])
    n_posts = np.bincount(g_codes, minlength=g_labels.size)
    pair = np.unique(g_codes * np.int64(max(1, s_labels.size)) + s_codes)  # each (group, subject) once
    pairs = pd.DataFrame({"group": g_labels[pair // max(1, s_labels.size)],
                          "subject": s_labels[pair % max(1, s_labels.size)]})
    per_subject = pairs.groupby("subject")["group"].nunique()
    crossed = per_subject.index[per_subject > 1].tolist()
    grouped = pairs.groupby("group", sort=True)
    out = pd.DataFrame({"n_subjects": grouped["subject"].nunique(),
                        "subjects": grouped["subject"].agg(lambda v: "|".join(sorted(set(v))[:5]))})
    out.insert(1, "n_posts", pd.Series(n_posts, index=g_labels).reindex(out.index).to_numpy())
    out = out.reset_index()
    out.insert(3, "single_subject", out["n_subjects"] == 1)
    out = out[["group", "n_subjects", "n_posts", "single_subject", "subjects"]]
    one_to_one = bool(out["single_subject"].all()) and not crossed
    out.attrs.update(identifiable=not one_to_one, same_as_subject=one_to_one and
                     per_subject.size == out.shape[0], crossed=crossed)
    return out


def _text_codes(column: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Codes of ``column`` by its text form (values equal as ``str`` share a code) and those texts.

    Factorizes the column first and converts only its distinct values to text, so no per-row strings.
    """
    codes, uniques = pd.factorize(column, use_na_sentinel=True)
    texts = np.asarray(pd.Index(uniques).astype("object").astype(str), dtype=object)
    remap, labels = pd.factorize(texts)
    return remap[codes].astype(np.int64), np.asarray(labels, dtype=object)


@dataclass(frozen=True, repr=False)
class ClusterLevelComparison(AnswerFirst):
    """Result of :func:`cluster_level_comparison`.

    Attributes
    ----------
    omnibus : pandas.DataFrame
        One row (``OMNIBUS_COLUMNS``): the permutation test of `between` across whole accounts.
    pairwise : pandas.DataFrame
        ``PAIRWISE_COLUMNS``: rate ratios of groups (ratio of geometric-mean account rates) with t
        intervals, every pair, against `reference`, or against the grand mean (many groups).
    groups : pandas.DataFrame
        One row per group: ``group``, ``n_subjects``, ``n_posts``, ``events``, ``exposure``,
        ``zero_event_subjects``, ``mean_log_rate``, ``rate`` (geometric mean of account rates, per
        ``per`` units of exposure), ``rate_ci_low``, ``rate_ci_high``, ``per``, ``confidence_level``.
    subjects : pandas.DataFrame
        One row per account: ``subject``, ``group``, ``n_posts``, ``events``, ``exposure``,
        ``log_rate`` (``log((events + 0.5) / exposure)``), ``rate`` (per ``per``).
    notes : list of str
        What the data can and cannot answer, in plain words (single-account groups, how few
        accounts, the smallest p-value the design can produce, groups without events).
    cautions : list of str
        The notes that limit what the result can say (single-account groups, a design that cannot reach
        significance, groups without events); :func:`toolkit.compare_groups` also issues them as warnings.
    identifiable : bool
        False when no group has two accounts: group and account effects cannot be told apart and
        no p-value or interval is computed.
    min_p_value : float
        Smallest p-value the permutation test could produce with these group sizes.
    """

    dv: str
    between: str
    subject: str
    exposure: str | None
    omnibus: pd.DataFrame
    pairwise: pd.DataFrame
    groups: pd.DataFrame
    subjects: pd.DataFrame = field(repr=False)
    notes: list = field(default_factory=list)
    cautions: list = field(default_factory=list)
    identifiable: bool = True
    min_p_value: float = float("nan")

    def report(self):
        """The notes, then APA-style sentences of the tests (a :class:`~toolkit.reporting.Report`)."""
        from ..reporting import lines_and_tables

        return lines_and_tables([f"- {n}" for n in self.notes], self.omnibus, self.pairwise)

    def to_frame(self) -> pd.DataFrame:
        """The test and the contrasts stacked in one tidy table (union of their columns)."""
        return pd.concat([self.omnibus, self.pairwise], ignore_index=True, sort=False)


def account_log_rates(events, exposure) -> np.ndarray:
    """``log((events + 0.5) / exposure)`` of account totals: the unit of every cluster-level analysis.

    Shared by :func:`cluster_level_comparison`, ``simulate_power(analysis="cluster_level")`` and the
    "cluster_level" specification of ``specification_curve``, so the three always test the same thing.
    """
    return np.log((np.asarray(events, dtype=float) + CONTINUITY) / np.asarray(exposure, dtype=float))


def pooled_group_means(values, codes, k):
    """Group means, group sizes, the pooled within-group sum of squares and its df (G − non-empty groups)."""
    sizes = np.bincount(codes, minlength=k).astype(float)
    means = np.bincount(codes, weights=values, minlength=k) / np.where(sizes > 0, sizes, 1.0)
    resid = values - means[codes]
    return means, sizes, float(resid @ resid), int(values.size - np.count_nonzero(sizes))


def _multinomial_count(sizes) -> int:
    return math.factorial(int(sum(sizes))) // math.prod(math.factorial(int(s)) for s in sizes)


def _min_p(sizes) -> float:
    """Smallest exact permutation p-value of a label-invariant statistic with these group sizes.

    Relabelling groups of equal size gives the same partition, so ``prod(multiplicity!)`` of the
    ``G! / prod(n_g!)`` assignments always tie with the observed one.
    """
    _, mult = np.unique(np.asarray(sizes), return_counts=True)
    ties = math.prod(math.factorial(int(m)) for m in mult)
    return ties / _multinomial_count(sizes)


def _enumerate_assignments(sizes) -> np.ndarray:
    """Every assignment of G items to groups of the given sizes, as an (N, G) array of group codes."""
    G = int(sum(sizes))
    out = []

    def rec(remaining: tuple, code: int, current: np.ndarray):
        if code == len(sizes) - 1:
            current = current.copy()
            current[list(remaining)] = code
            out.append(current)
            return
        for chosen in combinations(remaining, int(sizes[code])):
            nxt = current.copy()
            nxt[list(chosen)] = code
            taken = set(chosen)
            rest = tuple(i for i in remaining if i not in taken)
            rec(rest, code + 1, nxt)

    rec(tuple(range(G)), 0, np.full(G, -1, dtype=np.int64))
    return np.array(out, dtype=np.int64)


def _between_ss(values: np.ndarray, codes: np.ndarray, k: int, sizes: np.ndarray) -> np.ndarray:
    """sum_g S_g^2 / n_g for every row of ``codes`` (B, G): monotone in the F statistic under relabelling."""
    B, G = codes.shape
    flat = (codes + k * np.arange(B)[:, None]).ravel()
    sums = np.bincount(flat, weights=np.tile(values, B), minlength=B * k).reshape(B, k)
    return (sums ** 2 / sizes).sum(axis=1)


def _permutation_p(values, codes, k, sizes, *, n_resamples, rng):
    observed = float((np.bincount(codes, weights=values, minlength=k) ** 2 / sizes).sum())
    tol = 1e-10 * max(1.0, abs(observed))
    count = _multinomial_count(sizes)
    if count <= max(EXACT_LIMIT, n_resamples + 1):
        assignments = _enumerate_assignments(sizes)
        null = np.concatenate([_between_ss(values, assignments[i:i + 20_000], k, sizes)
                               for i in range(0, len(assignments), 20_000)])
        return float(np.count_nonzero(null >= observed - tol) / null.size), f"exact: all {count:,} assignments"
    hits, done, chunk = 0, 0, max(1, min(n_resamples, 2_000_000 // max(1, codes.size)))
    while done < n_resamples:
        b = min(chunk, n_resamples - done)
        perm = rng.permuted(np.broadcast_to(codes, (b, codes.size)), axis=1)
        hits += int(np.count_nonzero(_between_ss(values, perm, k, sizes) >= observed - tol))
        done += b
    return (hits + 1.0) / (n_resamples + 1.0), f"Monte Carlo: {n_resamples:,} random assignments"


def _summaries(data, *, dv, between, subject, exposure, nan_policy, func):
    used = [dv, between, subject] + ([exposure] if exposure is not None else [])
    yv, ev, keep = complete_counts(data, dv=dv, exposure=exposure, used=used, nan_policy=nan_policy, func=func)
    missing = ~keep
    if ev is None:
        ev = np.ones(yv.size)
    frame = pd.DataFrame({"subject": data.loc[keep, subject].astype("object").astype(str).to_numpy(),
                          "group": data.loc[keep, between].astype("object").astype(str).to_numpy(),
                          "events": yv, "exposure": ev})
    per_subject = frame.groupby("subject", sort=True)["group"].nunique()
    if (per_subject > 1).any():
        bad = per_subject.index[per_subject > 1][0]
        raise ValueError(message(func, "subject", f"nested in `between` (each {subject} in one {between})",
                                 f"{int((per_subject > 1).sum())} {subject}(s) in several groups, e.g. {bad!r}",
                                 "Crossed designs need a mixed model (toolkit.models)."))
    agg = frame.groupby("subject", sort=True).agg(group=("group", "first"), n_posts=("events", "size"),
                                                  events=("events", "sum"), exposure=("exposure", "sum"))
    agg = agg.reset_index()
    src = data[between]
    if isinstance(src.dtype, pd.CategoricalDtype):
        order = [str(c) for c in src.cat.categories if str(c) in set(agg["group"])]
    else:
        from .. import config
        order = [str(c) for c in config.ordered_categorical(agg["group"], config.DEPARTMENTS).categories]
    return agg, order, int(missing.sum())


def cluster_level_comparison(data, *, dv, between, subject, exposure=None, reference=None, p_adjust="holm",
                             confidence_level=0.95, per=1000, n_resamples=9999, seed=None, nan_policy="raise"):
    """Compare engagement rates of departments with one summary per account (calibrated with few accounts).

    Each account becomes one value, its log engagement rate ``log((events + 0.5) / exposure)``; the
    department test permutes department labels across whole accounts, and rate ratios are ratios of
    geometric-mean account rates with t intervals on ``G − k`` degrees of freedom (G accounts, k
    departments). This is the analysis that stays honest with two to fifteen accounts per department,
    where GLMM likelihood-ratio and Wald tests find differences that do not exist.

    Parameters
    ----------
    data : pandas.DataFrame
        Long form, one row per post.
    dv : str
        Count column (e.g. ``"comments"``): non-negative whole numbers.
    between : str
        Department column.
    subject : str
        Account column; each account must belong to one department.
    exposure : str or None, default=None
        Exposure column (e.g. ``"reach"``), summed per account; None: rates per post.
    reference : str or None, default=None
        Compare every department with this one only. None: every pair when there are at most 20
        departments, otherwise every department against the grand mean (see Notes).
    p_adjust : str, default="holm"
        Correction over the contrasts (see :func:`toolkit.adjust_pvalues`).
    confidence_level : float, default=0.95
    per : float, default=1000
        Rates are reported per this many units of exposure ("comments per 1,000 reach").
    n_resamples : int, default=9999
        Random assignments of the Monte-Carlo permutation test (used only when the distinct
        assignments are more than ``max(100,000, n_resamples + 1)``; otherwise all are enumerated).
    seed : None, int or numpy.random.Generator, default=None
        The same int gives the same numbers on every run; None draws fresh randomness.
    nan_policy : {"raise", "omit"}, default="raise"

    Returns
    -------
    ClusterLevelComparison
        ``omnibus`` (one row, OMNIBUS_COLUMNS: ``test="cluster_permutation"``, ``statistic`` the F of
        account log rates, ``df_between = k − 1``, ``df_within = G − k``, ``p_value`` exact or Monte
        Carlo, ``ss_between``, ``ss_within``, ``n`` = accounts, ``n_groups``, ``n_dropped`` = posts
        dropped, ``method``), ``pairwise`` (PAIRWISE_COLUMNS: ``test="cluster_t"``, ``group_a``,
        ``group_b`` (a group, or "grand mean"), ``n_a``/``n_b`` accounts, ``estimate`` the rate ratio
        a/b, ``estimate_ci_low``/``high``, ``statistic`` t, ``df``, ``p_value``, ``p_adjusted``,
        ``p_adjust``), ``groups``, ``subjects``, ``notes``, ``identifiable``, ``min_p_value``,
        ``report()``.

    See Also
    --------
    compare_groups : Compare an engagement outcome between groups, choosing and explaining the analysis.
    fit_engagement_model : Compare engagement counts between departments with a count model (GLM or GLMM).

    Notes
    -----
    With ``l_j = log((Y_j + 0.5) / E_j)`` for account j (events Y, exposure E), department means
    ``m_g`` of ``l_j`` and the pooled within-department variance ``s^2`` on ``G − k`` df:

    * **Department test.** F = [Σ n_g (m_g − m)² / (k − 1)] / s². Its p-value comes from permuting
      department labels across whole accounts (every account keeps all its posts): exact
      enumeration of all ``G! / Π n_g!`` assignments when there are at most
      ``max(100,000, n_resamples + 1)``, otherwise Monte Carlo with ``(1 + hits) / (B + 1)``
      (Phipson & Smyth 2010). Under "departments do not matter" the accounts are exchangeable, so
      the test is exact whatever the distribution of account effects (normal or heavy-tailed),
      the dispersion of the counts, or the number of posts per account (when that number does not
      depend on the department). Equal-sized departments can be relabelled without changing F, so
      the smallest achievable p-value is ``Π(multiplicity!) / (G! / Π n_g!)``; when it exceeds
      α, the notes say that no result can be significant.
    * **Rate ratios.** ``exp(m_a − m_b)`` (ratio of geometric means of account rates, i.e. the
      rate ratio for a typical account, the quantity a random-intercept GLMM's ``exp(beta)``
      estimates), with a t interval ``(m_a − m_b) ± t_{G−k} s sqrt(1/n_a + 1/n_b)`` and a t test;
      p-values adjusted by `p_adjust`. With more than 20 groups and no `reference`, each group is
      compared with the grand mean of the group means (``m_g − mean(m)``, variance
      ``s²[(1 − 1/k)²/n_g + Σ_{h≠g} 1/(k² n_h)]``), k contrasts instead of k(k−1)/2.
    * **Single-account departments.** Their mean is one account's value: the department effect is
      not separable from that account's effect. They still enter the test (whose exactness only
      needs exchangeable accounts) but contrasts involving them rest on the account-to-account
      variation measured in the other departments; the notes name them. When *every* department
      has one account, nothing is identifiable: p-values and intervals are NaN and
      ``identifiable`` is False (compare these accounts with posts as units instead:
      ``tk.compare_groups(data, dv=..., between=subject, exposure=...)``, whose result describes
      those accounts only).
    * **Zero events.** An account with no events gets ``log(0.5 / E)``, a finite value (the 0.5
      continuity correction of Hayes & Moulton 2017, §9.2); a department whose accounts have no
      events at all is named in the notes with its posts, and its rate ratios then read "at most
      about": the upper interval limit is the informative one.

    Validity needs exchangeable accounts under the null; the t intervals also assume roughly
    normal, equally variable account log rates (checked by simulation in
    ``benchmarks/bench_calibration.py``, including t(4) account effects and unequal posts per
    account). Missing data: per `nan_policy` (dropped posts in ``n_dropped``).

    Validated against ``scipy.stats.f_oneway`` (F), exact enumeration by brute force and
    ``scipy.stats.permutation_test``, and a pooled two-sample t test (``scipy.stats.ttest_ind``) for
    the contrasts (tests/test_cluster.py).

    References
    ----------
    Hayes, R. J., & Moulton, L. H. (2017). Cluster Randomised Trials (2nd ed.). Chapman & Hall/CRC,
    chapter 9 (analysis based on cluster-level summaries). doi:10.4324/9781315370286
    Bennett, S., Parpia, T., Hayes, R., & Cousens, S. (2002). Methods for the analysis of
    incidence rates in cluster randomized trials. International Journal of Epidemiology, 31(4),
    839–846. doi:10.1093/ije/31.4.839
    Phipson, B., & Smyth, G. K. (2010). Permutation p-values should never be zero. Statistical
    Applications in Genetics and Molecular Biology, 9(1), 39. doi:10.2202/1544-6115.1585

    Examples
    --------
    >>> import toolkit as tk
    >>> org = tk.simulate_organization(n_accounts_per_department=3, departments=["Marketing", "PR", "IT"],
    ...                                mixed_share=0.0, seed=3)
    >>> res = tk.cluster_level_comparison(org.data, dv="comments", between="department", subject="account",
    ...                                   exposure="reach", seed=1)
    >>> res.omnibus[["test", "df_between", "df_within", "n"]].values.tolist()
    [['cluster_permutation', 2.0, 6.0, 9]]
    >>> res.omnibus["method"].iloc[0].split(";")[0]
    'permutation of department labels across whole accounts (exact: all 1,680 assignments)'
    """
    func = "cluster_level_comparison"
    data = check_data(data, func)
    check_nan_policy(nan_policy, func)
    confidence_level = check_probability(confidence_level, func, "confidence_level")
    p_adjust = check_p_adjust(p_adjust, func)
    n_resamples = check_integer(n_resamples, func, "n_resamples")
    rng = check_random_state(seed, func)
    if isinstance(per, bool) or not isinstance(per, (int, float)) or not per > 0:
        raise ValueError(message(func, "per", "a positive number", per))
    for name, param in ((dv, "dv"), (between, "between"), (subject, "subject")):
        check_column(data, name, func, param)
    if exposure is not None:
        check_column(data, exposure, func, "exposure")
    if between == subject:
        raise ValueError(message(func, "between", "a column other than `subject`", between,
                                 f"Comparing {subject}s themselves has no replication above them: use "
                                 f"tk.compare_groups(data, dv={dv!r}, between={subject!r}"
                                 + (f", exposure={exposure!r}" if exposure else "") + ") with posts as units."))
    agg, order, n_dropped = _summaries(data, dv=dv, between=between, subject=subject, exposure=exposure,
                                       nan_policy=nan_policy, func=func)
    if len(order) < 2:
        raise ValueError(message(func, "between", "a column with at least two groups",
                                 f"{between!r} with only {order!r}"))
    if reference is not None and str(reference) not in order:
        raise ValueError(message(func, "reference", f"a level of {between!r}", reference,
                                 f"Levels: {', '.join(map(repr, order))}."))
    unit = f"{dv} per {per:,g} {exposure}" if exposure else f"{dv} per post"
    rate_scale = per if exposure else 1.0
    code_of = {g: i for i, g in enumerate(order)}
    codes = agg["group"].map(code_of).to_numpy(np.int64)
    k, G = len(order), len(agg)
    l = account_log_rates(agg["events"].to_numpy(), agg["exposure"].to_numpy())
    agg["log_rate"] = l
    agg["rate"] = np.exp(l) * rate_scale
    subjects = agg[list(SUBJECT_COLUMNS)]
    means, sizes, ss_w, df_w = pooled_group_means(l, codes, k)
    grand = float(l.mean())
    ss_b = float(np.sum(sizes * (means - grand) ** 2))
    s2 = ss_w / df_w if df_w > 0 else float("nan")
    tcrit = stats.t.ppf(0.5 + confidence_level / 2, df_w) if df_w > 0 else float("nan")

    notes: list[str] = []
    cautions: list[str] = []   # the notes that deserve a warning where the result is shown

    def caution(text: str) -> None:
        notes.append(text)
        cautions.append(text)
    single = [order[i] for i in range(k) if sizes[i] == 1]
    identifiable = df_w > 0
    if not identifiable:
        caution(f"Every {between} has a single {subject}: a {between} effect cannot be told apart from "
                     f"that {subject}'s own effect, so there is no {between}-level test or interval. To ask "
                     f"whether these {G} {subject}s differ (a statement about them, not about {between}s in "
                     f"general), compare them with posts as units: tk.compare_groups(data, dv={dv!r}, "
                     f"between={subject!r}" + (f", exposure={exposure!r}" if exposure else "") + ").")
    elif single:
        caution(f"{len(single)} {between}(s) have a single {subject} ({', '.join(map(repr, single))}): their "
                     f"effect cannot be told apart from that {subject}'s own effect. They enter the test, and "
                     f"their contrasts rest on the {subject}-to-{subject} variation measured in the other "
                     f"{between}s (assumed to be the same).")
    if identifiable:
        lo, hi = int(sizes.min()), int(sizes.max())
        few = (f"{lo}" if lo == hi else f"{lo}–{hi}")
        notes.append(f"{G} {subject}s in {k} {between}s ({few} each): the comparison uses one log rate per "
                     f"{subject}, so the evidence rests on {G} values and {df_w} degrees of freedom for "
                     f"{subject}-to-{subject} variation"
                     + ("; with so few accounts only large differences can be detected." if lo < 5 else "."))
    min_p = _min_p(sizes)
    alpha_hint = 1 - confidence_level
    if identifiable and min_p > alpha_hint:
        caution(f"With these group sizes the permutation test cannot produce a p-value below "
                     f"{min_p:.3g}: no department difference can be significant at α = {alpha_hint:g}, whatever "
                     f"the data. More {subject}s per {between} are needed (see tk.simulate_power).")
    zero_groups = [(order[i], int(agg.loc[codes == i, "n_posts"].sum()), int(sizes[i])) for i in range(k)
                   if agg.loc[codes == i, "events"].sum() == 0]
    for name, n_posts, n_sub in zero_groups:
        caution(f"{name!r}: 0 events in {n_posts} posts ({n_sub} {subject}(s)). Its rate uses a 0.5 "
                     f"continuity correction per {subject}, so its ratios read 'at most about': the upper "
                     f"interval limit is the informative one.")

    # department test
    if identifiable and ss_w > 0:
        p_value, how = _permutation_p(l, codes, k, sizes, n_resamples=n_resamples, rng=rng)
        F = (ss_b / (k - 1)) / s2
    else:
        p_value, how, F = float("nan"), "not computed", float("nan")
        if identifiable:
            notes.append(f"The {subject} log rates do not vary within any {between}: the test is undefined.")
    omnibus = frame([{
        "test": "cluster_permutation", "dv": dv, "between": between, "statistic": F,
        "df_between": float(k - 1), "df_within": float(df_w), "p_value": p_value, "ss_between": ss_b,
        "ss_within": ss_w, "n": G, "n_groups": k, "n_dropped": n_dropped, "alternative": "two-sided",
        "method": f"permutation of {between} labels across whole {subject}s ({how}); F of {subject} log rates "
                  f"log(({dv} + 0.5) / {exposure or 'posts'})"}], OMNIBUS_COLUMNS)

    # contrasts
    se_unit = math.sqrt(s2) if s2 == s2 else float("nan")
    if reference is not None:
        r = code_of[str(reference)]
        ia = np.array([i for i in range(k) if i != r])
        ib = np.full(ia.size, r)
        kind = f"against {reference!r}"
    elif k <= PAIRWISE_LIMIT:
        ia, ib = (np.array(v, dtype=np.int64) for v in zip(*combinations(range(k), 2)))
        kind = "all pairs"
    else:
        ia, ib = np.arange(k), np.full(k, -1)
        kind = "each against the grand mean"
    if kind == "each against the grand mean":
        est = means - means.mean()
        var_w = (1 - 1 / k) ** 2 / sizes + (np.sum(1 / sizes) - 1 / sizes) / k ** 2
        names_b = np.array(["grand mean"] * k, dtype=object)
        n_b = np.full(k, float(G))
        notes.append(f"{k} {between}s: each is compared with the grand mean of the {between} means "
                     f"({k} contrasts) instead of all {k * (k - 1) // 2:,} pairs; pass reference= to "
                     f"compare with one {between}.")
    else:
        est = means[ia] - means[ib]
        var_w = 1 / sizes[ia] + 1 / sizes[ib]
        names_b = np.array(order, dtype=object)[ib]
        n_b = sizes[ib]
    se = se_unit * np.sqrt(var_w)
    with np.errstate(divide="ignore", invalid="ignore"):
        tstat = est / se
    p_raw = 2 * stats.t.sf(np.abs(tstat), df_w) if df_w > 0 else np.full(est.size, np.nan)
    p_raw = np.where(np.isfinite(tstat), p_raw, np.nan)
    p_adj = adjust_pvalues(p_raw, p_adjust=p_adjust) if np.isfinite(p_raw).any() else p_raw
    m = est.size
    pairwise = pd.DataFrame({
        "test": ["cluster_t"] * m, "dv": [dv] * m, "between": [between] * m,
        "group_a": np.array(order, dtype=object)[ia], "group_b": names_b,
        "n_a": sizes[ia], "n_b": n_b,
        "estimate": np.exp(est), "estimate_type": ["rate_ratio"] * m,
        "estimate_ci_low": np.exp(est - tcrit * se), "estimate_ci_high": np.exp(est + tcrit * se),
        "statistic": tstat, "df": np.full(m, float(df_w)), "p_value": p_raw, "p_adjusted": p_adj,
        "p_adjust": [p_adjust] * m, "effect_size": np.nan, "effect_size_type": np.nan, "ci_low": np.nan,
        "ci_high": np.nan, "confidence_level": confidence_level, "n": float(G), "n_dropped": float(n_dropped),
        "alternative": ["two-sided"] * m,
        "method": [f"ratio of geometric-mean {subject} rates, t on {df_w} df (pooled {subject}-to-{subject} "
                   f"variation; {kind})"] * m,
    }, columns=list(PAIRWISE_COLUMNS))
    if not identifiable:
        for c in ("estimate_ci_low", "estimate_ci_high", "statistic", "p_value", "p_adjusted"):
            pairwise[c] = np.nan

    n_ev = np.bincount(codes, weights=agg["events"].to_numpy(), minlength=k)
    half = tcrit * se_unit / np.sqrt(sizes)
    groups = pd.DataFrame({
        "group": order, "n_subjects": sizes.astype(int), "n_posts": np.bincount(codes, weights=agg["n_posts"],
                                                                              minlength=k).astype(int),
        "events": n_ev, "exposure": np.bincount(codes, weights=agg["exposure"].to_numpy(), minlength=k),
        "zero_event_subjects": np.bincount(codes, weights=(agg["events"].to_numpy() == 0), minlength=k).astype(int),
        "mean_log_rate": means, "rate": np.exp(means) * rate_scale,
        "rate_ci_low": np.exp(means - half) * rate_scale, "rate_ci_high": np.exp(means + half) * rate_scale,
        "per": rate_scale, "confidence_level": confidence_level}, columns=list(GROUP_COLUMNS))
    groups.attrs["unit"] = unit
    return ClusterLevelComparison(dv=dv, between=between, subject=subject, exposure=exposure, omnibus=omnibus,
                                  pairwise=pairwise, groups=groups, subjects=subjects, notes=notes, cautions=cautions,
                                  identifiable=bool(identifiable), min_p_value=float(min_p))
