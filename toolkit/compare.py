"""``compare_groups``: the front door for "do departments differ, which ones, by how much?".

It checks the design first (group sizes, zeros, skew, variance ratios, nesting of posts in
accounts), picks a suitable analysis when asked to (``analysis="auto"``) and records *why* in
plain words. It never switches an analysis the user asked for: an explicit ``analysis=`` is run as
requested, and design problems become warnings next to it.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from ._protocol import AnswerFirst
from ._validation import (ToolkitWarning, check_column, check_data, check_option, check_probability, message,
                           warn)
from .stats.icc import icc_anova
from .stats.prepare import prepare_groups
from .stats.cluster import FEW_SUBJECTS, count_accounts_per_group

ANALYSES = ("auto", "welch", "anova", "kruskal", "permutation", "brunner_munzel", "count_model", "cluster_level")

#: Thresholds of the design checks (documented in compare_groups' Notes).
SKEW_LIMIT = 2.0          # |skewness| above this in any group: means are driven by a few posts
ZERO_LIMIT = 0.30         # share of zeros above this in any group: zero-heavy
VARIANCE_RATIO_LIMIT = 4  # largest / smallest group variance: Welch, not classic ANOVA
SMALL_GROUP = 10          # groups smaller than this make asymptotic tests fragile
MANY_GROUPS = 20          # with many small groups, Welch's F is anti-conservative


@dataclass(frozen=True, repr=False)
class GroupComparison(AnswerFirst):
    """Result of :func:`compare_groups`.

    Attributes
    ----------
    analysis : str
        The analysis that was run ("welch", "anova", "kruskal", "permutation", "brunner_munzel",
        "count_model", "cluster_level").
    unit : str
        Unit of analysis: "post" (rows of `data`) or the `subject` column (e.g. "account").
    reasons : list of str
        Why this analysis (and unit) was chosen, in plain words.
    design : pandas.DataFrame
        The design checks: ``check``, ``value``, ``threshold``, ``flag`` (bool), ``explanation``.
    descriptives : pandas.DataFrame
        ``tk.describe_groups`` at the unit of analysis.
    omnibus : pandas.DataFrame
        One-row omnibus test (no row for two groups, same columns).
    pairwise : pandas.DataFrame
        Post-hoc contrasts (several groups) or the two-group test, always with the pairwise columns
        (``p_adjusted`` and ``p_adjust`` are NaN for a single two-group test).
    analysed_data : pandas.DataFrame
        The table the tests ran on (the account-level means when ``subject`` is given).
    model : EngagementModel or None
        The fitted count model when ``analysis="count_model"`` (see :func:`toolkit.fit_engagement_model`).
    identifiable : bool
        False when every group has a single `subject` (or `between` is the subject itself): group and
        account effects cannot be told apart. The tables then compare these accounts (posts as units;
        their ``between`` column names the subject column) and say so in ``reasons``.
    group_rates : pandas.DataFrame or None
        ``analysis="cluster_level"``: each group's rate (geometric mean of account rates) with an
        interval that respects the accounts (see :func:`toolkit.cluster_level_comparison`).
    """

    analysis: str
    unit: str
    dv: str
    between: str
    reasons: list
    design: pd.DataFrame
    descriptives: pd.DataFrame
    omnibus: pd.DataFrame
    pairwise: pd.DataFrame
    analysed_data: pd.DataFrame = field(repr=False)
    model: object = field(default=None, repr=False)
    identifiable: bool = True
    group_rates: pd.DataFrame | None = field(default=None, repr=False)

    def report(self):
        """APA-style sentences for the omnibus test and every contrast, after the reasons.

        Returns a :class:`~toolkit.reporting.Report` (a ``str`` that Jupyter renders as Markdown).
        """
        from .reporting import lines_and_tables

        lines = [f"Unit of analysis: {self.unit}. Analysis: {self.analysis}."] + [f"- {r}" for r in self.reasons]
        return lines_and_tables(lines, self.omnibus, self.pairwise)

    def to_frame(self) -> pd.DataFrame:
        """Omnibus and pairwise rows stacked in one tidy table (union of their columns, whatever the number of
        groups: with two groups there is no omnibus row, but its columns are there, NaN)."""
        tables = [self.omnibus, self.pairwise]
        columns = list(dict.fromkeys(c for t in tables for c in t.columns))
        rows = [t for t in tables if len(t)]
        if not rows:
            return pd.DataFrame(columns=columns)
        return pd.concat(rows, ignore_index=True, sort=False).reindex(columns=columns)


def _skewness(x: np.ndarray) -> float:
    if x.size < 3:
        return float("nan")
    sd = x.std()
    return float(np.mean((x - x.mean()) ** 3) / sd ** 3) if sd > 0 else 0.0


def _design_checks(gd, data, subject, between) -> tuple[pd.DataFrame, dict]:
    groups = gd.groups()
    skews = [_skewness(g) for g in groups]
    zeros = [float(np.mean(g == 0)) for g in groups]
    variances = [float(np.var(g, ddof=1)) if g.size > 1 else float("nan") for g in groups]
    positive = [v for v in variances if v > 0]
    ratio = max(positive) / min(positive) if len(positive) >= 2 else float("nan")
    facts = {
        "min_size": int(gd.sizes.min()), "k": gd.k, "max_abs_skew": float(np.nanmax(np.abs(skews))),
        "max_zero_share": max(zeros), "variance_ratio": ratio,
        "zero_variance_groups": [gd.labels[i] for i, v in enumerate(variances) if v == 0],
    }
    rows = [
        ("smallest group", facts["min_size"], SMALL_GROUP, facts["min_size"] < SMALL_GROUP,
         "Asymptotic tests and CIs are fragile with very small groups; resampling is safer."),
        ("number of groups", gd.k, MANY_GROUPS, gd.k > MANY_GROUPS and facts["min_size"] < SMALL_GROUP,
         "Many small groups make Welch's F anti-conservative."),
        ("max |skewness|", facts["max_abs_skew"], SKEW_LIMIT, facts["max_abs_skew"] > SKEW_LIMIT,
         "Heavily skewed outcomes: means are driven by a few viral posts."),
        ("max share of zeros", facts["max_zero_share"], ZERO_LIMIT, facts["max_zero_share"] > ZERO_LIMIT,
         "Zero-heavy outcomes: many ties; rank tests need tie corrections, count models fit better."),
        ("variance ratio (max/min)", facts["variance_ratio"], VARIANCE_RATIO_LIMIT,
         bool(facts["variance_ratio"] > VARIANCE_RATIO_LIMIT),
         "Unequal variances: classic ANOVA/Tukey are invalid; use Welch/Games–Howell."),
        ("zero-variance groups", len(facts["zero_variance_groups"]), 0, bool(facts["zero_variance_groups"]),
         "A group with no variation: Welch's test is undefined for it."),
    ]
    if subject is not None:
        facts.update(subject)
        rows += [
            ("posts per subject (mean)", subject["mean_cluster"], 1, subject["mean_cluster"] > 1,
             "Several posts per account: posts are not independent."),
            ("ICC of the outcome", subject["icc"], 0.0, bool(subject["icc"] > 0.01),
             "Share of variance between accounts (one-way ANOVA estimator)."),
            ("design effect", subject["design_effect"], 1.0, bool(subject["design_effect"] > 1.1),
             "Variance inflation of post-level tests: 1 + (m0 − 1)·ICC."),
        ]
    design = pd.DataFrame(rows, columns=["check", "value", "threshold", "flag", "explanation"])
    design["value"] = design["value"].astype(float)
    design["threshold"] = design["threshold"].astype(float)
    design["flag"] = design["flag"].astype(bool)
    return design, facts


def _subject_level(data, dv, between, subject, func, nan_policy):
    """Aggregate to one row per subject (mean of dv); each subject must sit in one group."""
    check_column(data, subject, func, "subject")
    frame = data[[dv, between, subject]]
    if nan_policy == "omit":
        frame = frame.dropna()
    per_subject = frame.groupby(subject, observed=True, sort=False)[between].nunique(dropna=False)
    crossed = per_subject[per_subject > 1]
    if len(crossed):
        raise ValueError(message(func, "subject", f"nested in `between` (each {subject} in one {between})",
                                 f"{len(crossed)} {subject}(s) in several groups, e.g. {crossed.index[0]!r}",
                                 "Crossed designs need a mixed model (toolkit.models)."))
    agg = frame.groupby(subject, observed=True, sort=True).agg(**{dv: (dv, "mean"), between: (between, "first"),
                                                                  "n_posts": (dv, "size")}).reset_index()
    if isinstance(data[between].dtype, pd.CategoricalDtype):
        agg[between] = pd.Categorical(agg[between], categories=data[between].cat.categories,
                                      ordered=data[between].cat.ordered)
    return agg


def _choose(facts, k: int) -> tuple[str, list[str]]:
    reasons = []
    if facts["min_size"] < SMALL_GROUP or (k > MANY_GROUPS and facts["min_size"] < SMALL_GROUP) \
            or facts["zero_variance_groups"]:
        if facts["zero_variance_groups"]:
            reasons.append(f"Group(s) {facts['zero_variance_groups']} have no variation, so Welch's test is "
                           f"undefined: a permutation test of the F statistic is used instead.")
        else:
            reasons.append(f"The smallest group has {facts['min_size']} values: a permutation test with "
                           f"resampled contrasts does not lean on large-sample approximations.")
        return "permutation", reasons
    if facts["max_abs_skew"] > SKEW_LIMIT or facts["max_zero_share"] > ZERO_LIMIT:
        reasons.append(f"The outcome is heavily skewed (max |skewness| {facts['max_abs_skew']:.1f} > {SKEW_LIMIT:g}) "
                       f"or zero-heavy (max share of zeros {facts['max_zero_share']:.0%}): a rank-based test "
                       f"({'Brunner–Munzel' if k == 2 else 'Kruskal–Wallis with Dunn contrasts'}) compares "
                       f"typical posts without being driven by a few viral ones. For rate ratios of means, "
                       f"use a count model (toolkit.models).")
        return ("brunner_munzel" if k == 2 else "kruskal"), reasons
    reasons.append("Group sizes are adequate and the outcome is not extremely skewed: Welch's test compares "
                   "means without assuming equal variances"
                   + (" (variance ratio " + f"{facts['variance_ratio']:.1f})" if facts["variance_ratio"] ==
                      facts["variance_ratio"] else "") + ".")
    return "welch", reasons


def _count_model_comparison(data, *, dv, between, subject, exposure, reference, p_adjust, confidence_level,
                            n_resamples, seed, nan_policy, reasons):
    """Run the negative-binomial model and express it in the omnibus/pairwise schemas."""
    from .models import fit_engagement_model
    from .stats.schema import OMNIBUS_COLUMNS, PAIRWISE_COLUMNS, frame
    from .stats.describe import describe_groups

    model = fit_engagement_model(data, dv=dv, between=between, exposure=exposure, subject=subject, family="negbin",
                                 reference=reference, confidence_level=confidence_level,
                                 p_adjust=p_adjust or "holm", nan_policy=nan_policy)
    fit = model.fit_statistics.iloc[0]
    kind = "negbin_glmm" if subject is not None else "negbin_glm"
    test = model.test.iloc[0]
    n, n_dropped = int(fit["n"]), int(fit["n_dropped"])
    labels = list(model.emmeans["group"]) if "group" in model.emmeans.columns else []
    omnibus = frame([{
        "test": str(test["test"]), "dv": dv, "between": between, "statistic": float(test["statistic"]),
        "df_between": float(test["df"]), "p_value": float(test["p_value"]), "confidence_level": confidence_level,
        "n": n, "n_groups": len(labels) or float("nan"), "n_dropped": n_dropped, "alternative": "two-sided",
        "method": f"{test['method']} ({kind})",
    }], OMNIBUS_COLUMNS)
    sizes = data.groupby(between, observed=True).size()
    rows = []
    for c in model.contrasts.to_dict("records"):
        rows.append({
            "test": kind, "dv": dv, "between": between, "group_a": c["group_a"], "group_b": c["group_b"],
            "n_a": int(sizes.get(c["group_a"], 0)), "n_b": int(sizes.get(c["group_b"], 0)),
            "estimate": c["rate_ratio"], "estimate_type": "rate_ratio", "estimate_ci_low": c["ci_low"],
            "estimate_ci_high": c["ci_high"], "statistic": c["statistic"], "p_value": c["p_value"],
            "p_adjusted": c["p_adjusted"], "p_adjust": c["p_adjust"], "confidence_level": confidence_level,
            "n": n, "n_dropped": n_dropped, "alternative": "two-sided",
            "method": (f"{c['method']}, offset log({exposure})" if str(c.get("method", "")).startswith("profile")
                       else f"Wald z on the log rate ratio, offset log({exposure})" if exposure else
                       "Wald z on the log rate ratio (no exposure offset)"),
        })
    pairwise_table = frame(rows, PAIRWISE_COLUMNS)
    descriptives = describe_groups(data, dv=dv, between=between, confidence_level=confidence_level,
                                   n_resamples=n_resamples, seed=seed, nan_policy=nan_policy)
    design = pd.DataFrame({"check": ["model", "theta (NB dispersion)", "random-intercept SD"],
                           "value": [float("nan"), float(fit["theta"]), float(fit.get("random_intercept_sd", np.nan))],
                           "threshold": [float("nan")] * 3, "flag": [False, False, False],
                           "explanation": [f"{fit['model']} {fit['family']}, converged={bool(fit['converged'])}",
                                           "Smaller theta = more overdispersion than Poisson.",
                                           f"Between-{subject} variation on the log scale." if subject
                                           else "No random effect (subject=None)."]})
    return GroupComparison(analysis="count_model", unit=f"post ({subject} random intercept)" if subject else "post",
                           dv=dv, between=between, reasons=reasons, design=design, descriptives=descriptives,
                           omnibus=omnibus, pairwise=pairwise_table, analysed_data=data, model=model)


def _warn_few_subjects(table, *, between, subject, reasons, func):
    single = table.loc[table["single_subject"], "group"].tolist()
    fewest = int(table["n_subjects"].min())
    if single:
        text = (f"{len(single)} {between}(s) have a single {subject} ({', '.join(map(repr, single))}): their effect "
                f"cannot be told apart from that {subject}'s own effect.")
        reasons.append(text)
        warn(f"{func}: {text}")
    if fewest < FEW_SUBJECTS:
        text = (f"The GLMM was requested with as few as {fewest} {subject}(s) per {between}: its likelihood-ratio "
                f"and Wald tests treat the {subject} variance as known and find {between} differences that do not "
                f"exist in such designs (see benchmarks/bench_calibration.py). analysis='auto' (cluster-level) "
                f"stays calibrated.")
        reasons.append(text)
        warn(f"{func}: {text}")


def _these_subjects(data, *, table, dv, between, subject, exposure, analysis, p_adjust, reference, alternative,
                    confidence_level, n_resamples, seed, nan_policy):
    """Every group has one subject: compare these subjects with posts as units, and say what that means."""
    G = int(table["n_subjects"].sum())
    if between == subject:
        statement = (f"`between` is the subject column {subject!r}: this compares these {G} {subject}s with posts as "
                     f"units. It describes these {subject}s, not a wider population of {subject}s.")
    else:
        statement = (f"Every {between} has a single {subject}, so a {between} effect cannot be told apart from that "
                     f"{subject}'s own effect: there is no {between}-level test. What follows compares these {G} "
                     f"{subject}s with posts as units; it describes these {subject}s, not {between}s in general.")
        warn(f"compare_groups: {statement}")
    inner_analysis = "auto" if analysis in ("auto", "cluster_level") else analysis
    if reference is not None and between != subject:
        hit = table.loc[table["group"] == str(reference), "subjects"]
        reference = hit.iloc[0] if len(hit) else reference
    inner = compare_groups(data, dv=dv, between=subject, subject=None, exposure=exposure, analysis=inner_analysis,
                           p_adjust=p_adjust, reference=reference, alternative=alternative,
                           confidence_level=confidence_level, n_resamples=n_resamples, seed=seed,
                           nan_policy=nan_policy)
    return replace(inner, identifiable=False, unit=f"post (describes these {G} {subject}s only)",
                   reasons=[statement] + list(inner.reasons))


def _cluster_level(data, *, dv, between, subject, exposure, reference, p_adjust, confidence_level, n_resamples, seed,
                   nan_policy, reasons):
    """The cluster-level analysis (one rate per subject) in the omnibus/pairwise schemas."""
    from .stats.cluster import cluster_level_comparison
    from .stats.describe import describe_groups

    res = cluster_level_comparison(data, dv=dv, between=between, subject=subject, exposure=exposure,
                                   reference=reference, p_adjust=p_adjust or "holm",
                                   confidence_level=confidence_level, n_resamples=n_resamples, seed=seed,
                                   nan_policy=nan_policy)
    reasons = list(reasons) + list(res.notes)
    for note in res.cautions:
        warn(f"compare_groups: {note}")
    analysed = res.subjects.rename(columns={"subject": subject, "group": between, "events": dv,
                                            "exposure": exposure or "posts_exposure"})
    if isinstance(data[between].dtype, pd.CategoricalDtype):
        analysed[between] = pd.Categorical(analysed[between], categories=list(res.groups["group"]), ordered=True)
    with warnings.catch_warnings():  # single-account groups are already explained in the reasons
        warnings.simplefilter("ignore", ToolkitWarning)
        descriptives = describe_groups(analysed, dv="rate", between=between, confidence_level=confidence_level,
                                       n_resamples=min(n_resamples, 2000), seed=seed)
    g = res.groups
    rows = [
        (f"{subject}s per {between} (fewest)", float(g["n_subjects"].min()), 2.0, bool(g["n_subjects"].min() < 2),
         f"A {between} with one {subject} cannot be told apart from it."),
        (f"{subject}s in total", float(g["n_subjects"].sum()), float(len(g) + 1), False,
         f"The evidence about {between}s grows with {subject}s, not posts."),
        ("smallest achievable p-value", res.min_p_value, 1 - confidence_level,
         bool(res.min_p_value > 1 - confidence_level),
         "Permutation across whole accounts: above alpha means no result can be significant."),
        (f"{between}s with no events", float((g["events"] == 0).sum()), 0.0, bool((g["events"] == 0).any()),
         "Rates use a 0.5 continuity correction per account; read their ratios as upper bounds."),
    ]
    design = pd.DataFrame(rows, columns=["check", "value", "threshold", "flag", "explanation"])
    return GroupComparison(analysis="cluster_level", unit=subject, dv=dv, between=between, reasons=reasons,
                           design=design, descriptives=descriptives, omnibus=res.omnibus, pairwise=res.pairwise,
                           analysed_data=analysed, model=None, identifiable=res.identifiable,
                           group_rates=res.groups)


def compare_groups(data, *, dv, between, subject=None, exposure=None, analysis="auto", p_adjust=None,
                   reference=None, alternative="two-sided", confidence_level=0.95, n_resamples=9999, seed=None,
                   nan_policy="raise"):
    """Compare an engagement outcome between groups, choosing and explaining the analysis.

    Parameters
    ----------
    data : pandas.DataFrame
        Long-form data, one row per post (or per account).
    dv : str
        Outcome column, e.g. ``"comments"`` or ``"engagement_rate_reach"``.
    between : str
        Grouping column, e.g. ``"department"``.
    subject : str or None, default=None
        Clustering column (e.g. ``"account"``). When given, posts are averaged per subject and the
        groups are compared at the subject level (each subject must belong to one group). When
        None and `data` has an ``account`` column with several posts per account, a
        :class:`~toolkit.ToolkitWarning` points out the pseudo-replication (not when `between` is the
        account column or a one-to-one copy of it). With an `exposure`, each subject's rate is the
        unit (``"cluster_level"``); with ``analysis="count_model"`` the subject gets a random
        intercept instead (posts stay the unit). Every comparison with a `subject` first counts the
        subjects per group: when every group has a single subject (or `between` is the subject), a
        group effect cannot be told apart from its subject's, so the result compares these subjects
        with posts as units, says so in ``reasons`` and sets ``identifiable=False``.
    exposure : str or None, default=None
        Exposure column of a count outcome (e.g. ``"reach"``). Only the count analyses use it; with
        ``analysis="auto"`` an exposure selects ``"cluster_level"`` (with `subject`) or the count
        model (without).
    analysis : {"auto", "welch", "anova", "kruskal", "permutation", "brunner_munzel", "count_model", \
"cluster_level"}, default="auto"
        "auto" chooses from the design checks (see Notes) and records the reasons. An explicit
        choice is always run as requested. "count_model" fits a negative-binomial model with
        :func:`toolkit.fit_engagement_model` (a GLMM with a random intercept per `subject` when
        given) and reports rate ratios. "cluster_level" compares one rate per `subject`
        (:func:`toolkit.cluster_level_comparison`).
    p_adjust : str or None, default=None
        Multiple-comparison correction of the contrasts (None: the method's standard — the
        studentized range for Games–Howell/Tukey, Holm otherwise). See :func:`toolkit.pairwise`.
    reference : str or None, default=None
        Compare every group with this one only.
    alternative : {"two-sided", "less", "greater"}, default="two-sided"
        Direction of the two-group test (two groups only; contrasts are two-sided).
    confidence_level : float, default=0.95
    n_resamples : int, default=9999
        Resamples for bootstrap CIs and permutation tests.
    seed : None, int or numpy.random.Generator, default=None
        The same int gives the same numbers on every run; None draws fresh randomness.
    nan_policy : {"raise", "omit"}, default="raise"

    Returns
    -------
    GroupComparison
        ``.analysis``, ``.unit``, ``.reasons``, ``.design`` (check, value, threshold, flag,
        explanation), ``.descriptives`` (see :func:`toolkit.describe_groups`), ``.omnibus``
        (see :func:`toolkit.anova`), ``.pairwise`` (see :func:`toolkit.pairwise`, or the two-group
        table of :func:`toolkit.welch_ttest`), ``.analysed_data``, ``.model`` (count model only),
        ``.report()``, ``.to_frame()``. For the count model, ``omnibus`` holds the likelihood-ratio
        test of `between` and ``pairwise`` the rate ratios (``estimate_type="rate_ratio"``) in the
        same columns.

    See Also
    --------
    cluster_level_comparison : Compare engagement rates of departments with one summary per account (calibrated
        with few accounts).
    fit_engagement_model : Compare engagement counts between departments with a count model (GLM or GLMM).

    Notes
    -----
    Choice rules of ``analysis="auto"`` (thresholds in this module):

    0. an ``exposure`` and a ``subject`` are given, subjects nested in groups →
       ``"cluster_level"``: one engagement rate per subject, a permutation test of group labels
       across whole subjects and t intervals on the subject-to-subject variation
       (:func:`toolkit.cluster_level_comparison`). It keeps its false-positive rate at α with
       two to fifteen accounts per department, where a GLMM's likelihood-ratio test rejected
       0.15–0.31 of null data sets (``benchmarks/bench_calibration.py``). Subjects crossed with
       groups (mixed-team posts) → the GLMM (``"count_model"``), with a warning when some group
       has fewer than 15 subjects. An ``exposure`` without ``subject`` → ``"count_model"`` (a
       negative-binomial GLM with a log-exposure offset);
    1. any group smaller than 10, or a group with zero variance → ``"permutation"``
       (permutation test of Welch's F with resampled pairwise contrasts; no large-sample
       approximation);
    2. otherwise, max |skewness| > 2 or a share of zeros > 30% in any group → ``"kruskal"``
       (Kruskal–Wallis + Dunn; Brunner–Munzel for two groups), which compare typical posts;
    3. otherwise → ``"welch"`` (Welch's ANOVA + Games–Howell; Welch's t for two groups).

    With more than 20 groups and no `reference`, no all-pairs table is computed (k(k−1)/2 pairs):
    the cluster-level analysis compares each group with the grand mean; the other analyses report
    the omnibus test and say how to rank the groups or compare them with a reference.

    Classic ANOVA + Tukey is available on request (``analysis="anova"``) but never chosen
    automatically, because engagement data rarely has equal variances. The analyses answer
    different questions: Welch compares means, rank tests compare distributions (stochastic
    dominance). Rate ratios with an exposure offset come from the count models
    (``toolkit.models``), which are the better tool when reach differs between posts.

    Nesting: posts of one account share audience, style and algorithmic history, so treating them
    as independent inflates the effective sample size (pseudo-replication). With ``subject`` the
    comparison runs on account means, which is valid whatever the within-account correlation;
    the design table reports the ICC (one-way ANOVA estimator, Donner 1986) and the design effect
    ``1 + (m0 − 1)·ICC`` (Kish 1965) of the post-level analysis.

    Missing data follow ``nan_policy``; with "omit" the dropped rows are counted in ``n_dropped``.

    Validated by its parts: each test it calls is validated against R (see their Notes).

    References
    ----------
    Hayes, R. J., & Moulton, L. H. (2017). Cluster Randomised Trials (2nd ed.). Chapman & Hall/CRC.
    doi:10.4324/9781315370286

    Donner, A. (1986). A review of inference procedures for the intraclass correlation coefficient
    in the one-way random effects model. International Statistical Review, 54(1), 67–82.
    doi:10.2307/1403259

    Kish, L. (1965). Survey Sampling. Wiley.

    Examples
    --------
    >>> import toolkit as tk
    >>> org = tk.simulate_organization(mixed_share=0.0, seed=7)  # no co-run posts: accounts nest in departments
    >>> res = tk.compare_groups(org.data, dv="comments", between="department", subject="account", seed=1)
    >>> res.unit, res.analysis in {"welch", "kruskal", "permutation"}
    ('account', True)
    """
    func = "compare_groups"
    data = check_data(data, func)
    check_option(analysis, ANALYSES, func, "analysis")
    check_probability(confidence_level, func, "confidence_level")
    check_column(data, dv, func, "dv")
    check_column(data, between, func, "between")

    from .stats.describe import describe_groups
    from .stats.omnibus import anova, kruskal, welch_anova
    from .stats.pairwise import pairwise
    from .stats.permutation import permutation_omnibus
    from .stats.twogroup import brunner_munzel, mann_whitney, welch_ttest
    from .stats.schema import OMNIBUS_COLUMNS, PAIRWISE_COLUMNS

    reasons: list[str] = []
    if exposure is not None:
        check_column(data, exposure, func, "exposure")
        if analysis not in ("auto", "count_model", "cluster_level"):
            raise ValueError(message(func, "exposure", "None unless analysis is 'auto', 'count_model' or "
                                     "'cluster_level'", exposure,
                                     f"Only the count analyses use an exposure. For analysis={analysis!r}, compute "
                                     f"a rate with tk.add_metrics (e.g. dv='engagement_rate_reach')."))
    if analysis == "cluster_level" and subject is None:
        raise ValueError(message(func, "subject", "a column (e.g. 'account') when analysis='cluster_level'", None,
                                 "The cluster-level analysis summarises each account; name the account column."))
    if subject is not None:
        check_column(data, subject, func, "subject")
        table = count_accounts_per_group(data, between=between, subject=subject, func=func)
        crossed = table.attrs["crossed"]
        if not table.attrs["identifiable"]:
            return _these_subjects(data, table=table, dv=dv, between=between, subject=subject, exposure=exposure,
                                   analysis=analysis, p_adjust=p_adjust, reference=reference,
                                   alternative=alternative, confidence_level=confidence_level,
                                   n_resamples=n_resamples, seed=seed, nan_policy=nan_policy)
        single = table.loc[table["single_subject"], "group"].tolist()
    if subject is None and "account" in data.columns and data["account"].notna().any() \
            and not count_accounts_per_group(data, between=between, subject="account", func=func).attrs["same_as_subject"]:
        posts_per_account = data.groupby("account", observed=True).size()
        # One account (e.g. a single brand's page) cannot be a unit of comparison; nothing to suggest then.
        if posts_per_account.size > 1 and (posts_per_account > 1).any():
            warn(f"{func}: `data` has {len(data)} posts from {posts_per_account.size} accounts; treating posts as "
                 f"independent overstates the evidence (pseudo-replication). Pass subject='account' to compare "
                 f"departments with one summary per account.")
    if analysis == "auto" and exposure is not None and subject is not None and crossed:
        reasons.append(f"{len(crossed)} {subject}(s) have posts in several {between}s (e.g. {crossed[0]!r}, as with "
                       f"mixed-team posts), so {subject}s are not nested in {between}s and cannot be summarised one "
                       f"per {between}: a negative-binomial GLMM with a random intercept per {subject} is used.")
    elif analysis == "cluster_level" or (analysis == "auto" and exposure is not None and subject is not None):
        if analysis == "auto":
            reasons.append(f"{dv!r} is a count with exposure {exposure!r} and posts are nested in {subject}: "
                           f"{between}s are compared with one engagement rate per {subject} (cluster-level "
                           f"analysis: a permutation test of {between} labels across whole {subject}s and t "
                           f"intervals on the {subject}-to-{subject} variation), which stays calibrated with few "
                           f"{subject}s per {between}, where a GLMM's likelihood-ratio test does not.")
        else:
            reasons.append("Analysis 'cluster_level' was requested.")
        if alternative != "two-sided":
            raise ValueError(message(func, "alternative", "'two-sided' for the cluster-level analysis", alternative))
        return _cluster_level(data, dv=dv, between=between, subject=subject, exposure=exposure,
                              reference=reference, p_adjust=p_adjust, confidence_level=confidence_level,
                              n_resamples=n_resamples, seed=seed, nan_policy=nan_policy, reasons=reasons)
    if analysis == "count_model" or (analysis == "auto" and exposure is not None):
        if analysis == "auto":
            reasons.append(f"{dv!r} is a count with exposure {exposure!r}: a negative-binomial model with a "
                           f"log({exposure}) offset estimates rate ratios between groups"
                           + (f", with a random intercept per {subject}." if subject else "."))
        else:
            reasons.append("Analysis 'count_model' was requested.")
        if subject is not None:
            _warn_few_subjects(table, between=between, subject=subject, reasons=reasons, func=func)
        return _count_model_comparison(data, dv=dv, between=between, subject=subject, exposure=exposure,
                                       reference=reference, p_adjust=p_adjust, confidence_level=confidence_level,
                                       n_resamples=n_resamples, seed=seed, nan_policy=nan_policy, reasons=reasons)
    if subject is not None and single:
        raise ValueError(message(func, "subject", f"at least two {subject}s in every {between} for a comparison of "
                                 f"{subject} means", f"a single {subject} in {single}",
                                 f"A {between} with one {subject} cannot be told apart from that {subject}. For "
                                 f"counts, pass exposure= (the cluster-level analysis handles it and says so); or "
                                 f"drop those {between}s; or compare the {subject}s themselves with "
                                 f"between={subject!r}."))
    subject_facts = None
    if subject is not None:
        gd_posts = prepare_groups(data, dv=dv, between=between, func=func, nan_policy=nan_policy, min_size=1)
        frame = data[[dv, subject]].dropna() if nan_policy == "omit" else data[[dv, subject]]
        icc, m0 = icc_anova(frame[dv].to_numpy(float), pd.factorize(frame[subject].astype(str))[0])
        analysed = _subject_level(data, dv, between, subject, func, nan_policy)
        subject_facts = {"icc": icc, "mean_cluster": len(frame) / max(1, frame[subject].nunique()),
                         "design_effect": 1 + (m0 - 1) * icc if icc == icc else float("nan"),
                         "n_dropped_posts": gd_posts.n_dropped}
        reasons.append(f"Posts are nested in {subject} (mean {subject_facts['mean_cluster']:.1f} posts each, "
                       f"ICC {icc:.2f}, design effect {subject_facts['design_effect']:.1f}): groups are compared "
                       f"on {subject}-level means, so each {subject} counts once.")
        unit = subject
        analysis_nan_policy = "raise"
    else:
        analysed = data
        unit = "post"
        analysis_nan_policy = nan_policy

    gd = prepare_groups(analysed, dv=dv, between=between, func=func, nan_policy=analysis_nan_policy, min_size=2)
    design, facts = _design_checks(gd, analysed, subject_facts, between)
    k = gd.k

    if analysis == "auto":
        chosen, why = _choose(facts, k)
        reasons += why
    else:
        chosen = analysis
        reasons.append(f"Analysis {analysis!r} was requested.")
        suggested, why = _choose(facts, k)
        # Rank and permutation tests stay valid whatever the design; only a parametric test on a design
        # that undermines it earns a warning.
        if chosen in ("welch", "anova") and suggested in ("kruskal", "brunner_munzel", "permutation"):
            warn(f"{func}: the design checks suggest analysis={suggested!r} rather than {chosen!r}: {why[0]}")
        if chosen == "anova" and facts["variance_ratio"] > VARIANCE_RATIO_LIMIT:
            warn(f"{func}: group variances differ by a factor of {facts['variance_ratio']:.1f}; classic ANOVA and "
                 f"Tukey assume equal variances. analysis='welch' does not.")
    if chosen == "brunner_munzel" and k != 2:
        raise ValueError(message(func, "analysis", "'brunner_munzel' only with exactly two groups",
                                 f"{k} groups", "Use analysis='kruskal' for several groups."))

    common = dict(dv=dv, between=between)
    descriptives = describe_groups(analysed, **common, confidence_level=confidence_level, n_resamples=n_resamples,
                                   seed=seed, nan_policy=analysis_nan_policy)
    if k == 2:
        # Options change values, never columns: with two groups the omnibus table has no row (the two-group test is
        # the contrast) but the omnibus columns, and the two-group test gets the pairwise columns, with NaN in
        # p_adjusted / p_adjust (one comparison: nothing to adjust).
        omnibus = pd.DataFrame(columns=list(OMNIBUS_COLUMNS))
        two = {"welch": welch_ttest, "kruskal": mann_whitney, "brunner_munzel": brunner_munzel}.get(chosen)
        if two is None:  # "permutation", or "anova" (Tukey with two groups is Student's pooled t-test)
            contrasts = pairwise(analysed, **common, method="permutation" if chosen == "permutation" else "tukey",
                                 p_adjust=p_adjust, confidence_level=confidence_level, n_resamples=n_resamples,
                                 seed=seed, nan_policy=analysis_nan_policy)
        else:
            contrasts = two(analysed, **common, alternative=alternative, confidence_level=confidence_level,
                            nan_policy=analysis_nan_policy).reindex(columns=list(PAIRWISE_COLUMNS))
    else:
        if chosen == "welch":
            omnibus = welch_anova(analysed, **common, confidence_level=confidence_level,
                                  nan_policy=analysis_nan_policy)
            method = "games_howell"
        elif chosen == "anova":
            omnibus = anova(analysed, **common, confidence_level=confidence_level, nan_policy=analysis_nan_policy)
            method = "tukey"
        elif chosen == "kruskal":
            omnibus = kruskal(analysed, **common, confidence_level=confidence_level, nan_policy=analysis_nan_policy,
                              n_resamples=n_resamples, seed=seed)
            method = "dunn"
        else:
            omnibus = permutation_omnibus(analysed, **common, statistic="welch" if not facts["zero_variance_groups"]
                                          else "f", n_resamples=n_resamples, seed=seed,
                                          nan_policy=analysis_nan_policy)
            method = "permutation"
        if reference is not None and p_adjust is None and method == "games_howell":
            p_adjust = "holm"
            reasons.append(f"Contrasts against {reference!r} only: the studentized range covers all pairs, so "
                           f"Games–Howell p-values are Holm-adjusted over the {k - 1} comparisons instead.")
        if reference is None and k > MANY_GROUPS:
            from .stats.schema import PAIRWISE_COLUMNS
            contrasts = pd.DataFrame(columns=list(PAIRWISE_COLUMNS))
            reasons.append(f"{k} groups make {k * (k - 1) // 2:,} pairs: no pairwise contrasts are computed (more than "
                           f"{MANY_GROUPS} groups). Pass reference= to compare every group with one of them, or rank "
                           f"the groups with their uncertainty (tk.plots.bootstrap_draws → tk.plots.rank_table → "
                           f"tk.plots.plot_ranking).")
        else:
            contrasts = pairwise(analysed, **common, method=method, p_adjust=p_adjust, reference=reference,
                                 confidence_level=confidence_level, n_resamples=n_resamples, seed=seed,
                                 nan_policy=analysis_nan_policy)
    return GroupComparison(analysis=chosen, unit=unit, dv=dv, between=between, reasons=reasons, design=design,
                           descriptives=descriptives, omnibus=omnibus, pairwise=contrasts,
                           analysed_data=analysed)
