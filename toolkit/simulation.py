"""A simulated organisation with known truth: departments, accounts and their posts.

:func:`simulate_organization` draws posts whose engagement follows a negative-binomial model with
department rate ratios, content and paid effects, account random effects and optional zero
inflation, all chosen by the caller and returned next to the data, so that every analysis can be
checked against the truth it should recover.
"""
from __future__ import annotations

import html
import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from . import config
from ._validation import check_integer, check_option, check_random_state, message

ENGAGEMENT_TYPES: tuple[str, ...] = ("likes", "comments", "shares")

#: Default departments: the canonical list without the "Mixed team" label.
DEFAULT_DEPARTMENTS: tuple[str, ...] = tuple(d for d in config.DEPARTMENTS if d != config.MIXED_DEPARTMENT)

_ABBREVIATIONS = {"Social media team": "smt", "Marketing": "mkt", "PR": "pr", "Customer service": "cs",
                  "Management": "mgmt", "IT": "it", "HR": "hr", "Sales": "sales"}

#: Default rate ratios relative to the reference department ("Social media team"), per type.
DEFAULT_RATE_RATIOS: dict[str, dict[str, float]] = {
    "likes": {"Marketing": 1.10, "PR": 0.95, "Customer service": 0.80, "Management": 0.90, "IT": 0.75,
              "HR": 1.05, "Sales": 0.85},
    "comments": {"Marketing": 0.90, "PR": 1.10, "Customer service": 1.50, "Management": 1.20, "IT": 0.85,
                 "HR": 1.10, "Sales": 0.80},
    "shares": {"Marketing": 1.20, "PR": 1.25, "Customer service": 0.70, "Management": 0.85, "IT": 0.90,
               "HR": 1.15, "Sales": 0.75},
}
#: Interactions per reached user in the reference department, photo posts, organic, account effect 0.
DEFAULT_BASE_RATES = {"likes": 0.03, "comments": 0.003, "shares": 0.002}
#: NB2 dispersion alpha: Var(Y | mean mu) = mu + alpha * mu**2.
DEFAULT_DISPERSION = {"likes": 0.5, "comments": 0.8, "shares": 1.0}
#: Content-type rate ratios relative to photo posts.
DEFAULT_CONTENT_EFFECTS = {
    "photo": {"likes": 1.0, "comments": 1.0, "shares": 1.0},
    "video": {"likes": 1.2, "comments": 0.9, "shares": 1.5},
    "status": {"likes": 0.8, "comments": 1.3, "shares": 0.6},
    "link": {"likes": 0.7, "comments": 0.8, "shares": 1.1},
}
#: Content mix (photo, video, status, link) per department; others use the first entry.
DEFAULT_CONTENT_MIX = {
    "default": (0.40, 0.20, 0.20, 0.20),
    "Marketing": (0.40, 0.35, 0.10, 0.15),
    "PR": (0.30, 0.15, 0.20, 0.35),
    "Customer service": (0.20, 0.10, 0.55, 0.15),
    "Sales": (0.45, 0.20, 0.10, 0.25),
}
DEFAULT_PAID_PROBABILITY = {"Marketing": 0.30, "Sales": 0.25, "PR": 0.15, "Social media team": 0.10}
#: Platform of each account (an account is one page on one platform).
DEFAULT_PLATFORM_MIX = {"Facebook": 0.4, "Instagram": 0.3, "LinkedIn": 0.15, "X/Twitter": 0.15}
#: Log-scale SD of the posts per account with ``posts_distribution="lognormal"``.
POSTS_SDLOG = 0.8
#: Relative posting intensity per hour of day (UTC): night low, peaks late morning and evening.
_HOURLY = np.array([1, 0.5, 0.3, 0.3, 0.3, 0.5, 1, 2, 4, 6, 7, 7, 6, 5, 5, 5, 5, 5, 6, 6, 5, 4, 3, 2],
                   dtype=float)


@dataclass(frozen=True)
class SimulatedOrganization:
    """Posts of a simulated organisation together with the truth that generated them.

    Attributes
    ----------
    data : pandas.DataFrame
        One row per post in the canonical schema (``config.POST_SCHEMA`` columns, dtypes and
        order); ``data.attrs`` holds ``simulated=True``, ``seed`` and ``generator``.
    accounts : pandas.DataFrame
        One row per account: ``account``, ``department``, ``platform``, ``audience``, ``n_posts``,
        ``effect_shared`` (shared log-scale random intercept) and ``effect_likes``,
        ``effect_comments``, ``effect_shares`` (total log-scale account effect per type: shared plus
        type-specific part).
    parameters : pandas.DataFrame
        The true values, one per row: ``parameter``, ``engagement_type``, ``department``, ``level``
        (content type, department pair or other qualifier) and ``value``. See
        :func:`simulate_organization` Notes for the list.
    seed : int or None
        The integer seed (None when a Generator or no seed was passed).
    settings : dict
        Every argument of the call, resolved to the values used.
    """

    data: pd.DataFrame
    accounts: pd.DataFrame
    parameters: pd.DataFrame
    seed: int | None
    settings: dict = field(repr=False)

    def _headline(self) -> str:
        return (f"SIMULATED data (seed={self.seed}): {len(self.data):,} posts, {len(self.accounts):,} accounts, "
                f"{self.accounts['department'].nunique()} departments")

    def __repr__(self) -> str:
        return f"SimulatedOrganization: {self._headline()}. Fields: data, accounts, parameters, seed, settings."

    def _repr_html_(self) -> str:
        return (f"<div><strong>SimulatedOrganization</strong>: {html.escape(self._headline())}. "
                f"Not real posts; the true parameters are in <code>.parameters</code>.</div>")

    def true_rate_ratios(self) -> pd.DataFrame:
        """Return the true department rate ratios as a wide table (departments x engagement types).

        Returns
        -------
        pandas.DataFrame
            Columns ``department``, ``likes``, ``comments``, ``shares``; one row per simulated
            department (mixed-team pairs are in :attr:`parameters`).
        """
        p = self.parameters
        p = p[(p["parameter"] == "rate_ratio") & (p["department"] != config.MIXED_DEPARTMENT)]
        wide = p.pivot(index="department", columns="engagement_type", values="value")
        order = [d for d in self.settings["departments"]]
        wide = wide.reindex(order)[list(ENGAGEMENT_TYPES)].reset_index()
        wide.columns.name = None
        return wide


def _categorical(codes: np.ndarray, names, known: tuple[str, ...]) -> pd.Categorical:
    """Same result as ``config.ordered_categorical(names[codes], known)``, built from integer codes (fast)."""
    names = [str(x) for x in names]
    present = np.unique(codes)
    labels = [names[i] for i in present]
    first = [k for k in known if k in labels]
    rest = sorted(lab for lab in labels if lab not in set(known))
    cats = first + rest
    lookup = np.full(len(names), -1, dtype=np.int64)
    for i in present:
        lookup[i] = cats.index(names[i])
    return pd.Categorical.from_codes(lookup[codes], categories=cats, ordered=True)


def _abbrev(dept: str, used: set[str]) -> str:
    base = _ABBREVIATIONS.get(dept) or (re.sub(r"[^a-z0-9]+", "", dept.lower())[:6] or "dept")
    cand, i = base, 2
    while cand in used:
        cand, i = f"{base}{i}", i + 1
    used.add(cand)
    return cand


def _per_type(value, default: dict, func: str, param: str, *, minimum: float, maximum: float | None = None,
              strict_min: bool = False) -> dict[str, float]:
    """Normalise a per-engagement-type parameter (number or dict type->number)."""
    if value is None:
        out = dict(default)
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        out = {t: float(value) for t in ENGAGEMENT_TYPES}
    elif isinstance(value, dict):
        unknown = [k for k in value if k not in ENGAGEMENT_TYPES]
        if unknown:
            check_option(unknown[0], ENGAGEMENT_TYPES, func, param)
        out = {t: float(value.get(t, default[t])) for t in ENGAGEMENT_TYPES}
    else:
        raise TypeError(message(func, param, "a number or a dict engagement type -> number", value))
    for t, v in out.items():
        bad = (v <= minimum if strict_min else v < minimum) or (maximum is not None and v > maximum) \
            or not np.isfinite(v)
        if bad:
            rng = f"> {minimum}" if strict_min else f">= {minimum}"
            if maximum is not None:
                rng += f" and <= {maximum}"
            raise ValueError(message(func, param, f"{rng} for every engagement type", {t: v}))
    return out


def _number(value, func, param, *, minimum=0.0, strict_min=False, maximum=None) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(message(func, param, "a number", value))
    v = float(value)
    bad = (v <= minimum if strict_min else v < minimum) or (maximum is not None and v > maximum) or not np.isfinite(v)
    if bad:
        rng = (f"> {minimum}" if strict_min else f">= {minimum}") + (f" and <= {maximum}" if maximum is not None
                                                                      else "")
        raise ValueError(message(func, param, f"a number {rng}", value))
    return v


def simulate_organization(*, n_accounts_per_department=6, posts_per_account=40, posts_distribution="poisson",
                          departments=None, reference_department=None, rate_ratios="default",
                          base_rates=None, dispersion=None, zero_inflation=None,
                          random_effect_sd=0.3, random_effect_distribution="normal", random_effect_df=4,
                          type_effect_sd=0.1, audience_median=5000.0,
                          audience_sdlog=1.0, reach_fraction_median=0.10, reach_fraction_sdlog=0.5,
                          impressions_per_reach=1.3, paid_probability=None, paid_reach_factor=3.0,
                          paid_rate_ratio=0.8, content_effects="default", mixed_share=0.05,
                          start="2025-01-01", end="2026-01-01", seed=None):
    """Simulate the posts of an organisation whose departments have known engagement rates.

    Parameters
    ----------
    n_accounts_per_department : int or dict, default=6
        Accounts per department; a dict ``{department: n}`` allows unequal numbers (and, when
        ``departments`` is None, also sets the departments and their order).
    posts_per_account : float, default=40
        Mean number of posts per account.
    posts_distribution : {"poisson", "fixed", "lognormal"}, default="poisson"
        "poisson": each account's post count is Poisson(``posts_per_account``); "fixed": exactly
        ``round(posts_per_account)`` posts per account; "lognormal": very unequal accounts, each
        with ``max(1, ceil(X))`` posts, ``X`` lognormal with median ``posts_per_account`` and
        log-scale SD 0.8 (``POSTS_SDLOG``), so the mean is about ``1.38 * posts_per_account`` and
        the busiest tenth of accounts post about 2.8 times the median (many real organisations).
    departments : list of str or None, default=None
        Department names; None uses ``config.DEPARTMENTS`` without "Mixed team". "Mixed team" is
        not allowed here (mixed posts come from ``mixed_share``).
    reference_department : str or None, default=None
        Department whose rate ratios are 1; None means the first department.
    rate_ratios : "default", "null" or dict, default="default"
        True department rate ratios per engagement type, relative to ``reference_department``:
        ``{"comments": {"Customer service": 1.5}, "likes": {"Marketing": 1.4}}``; anything not
        given is 1. "null" makes every ratio 1 (no department differences: for calibration
        studies). "default" is the mild pattern in ``DEFAULT_RATE_RATIOS`` (only for the
        default department names; other names get 1).
    base_rates : float, dict or None, default=None
        Interactions per reached user for the reference department (photo, organic, account
        effect 0); None uses likes 0.03, comments 0.003, shares 0.002.
    dispersion : float, dict or None, default=None
        NB2 dispersion alpha per type, Var = mu + alpha mu^2; 0 gives Poisson. None uses
        likes 0.5, comments 0.8, shares 1.0.
    zero_inflation : float, dict or None, default=None
        Probability per type that a post's count is a structural zero (None: 0 for all).
    random_effect_sd : float, default=0.3
        SD of the shared account random intercept (log scale, all types).
    random_effect_distribution : {"normal", "t"}, default="normal"
        Distribution of the shared account intercept. "t": heavy-tailed account effects (a few
        accounts far above or below the rest), a Student t with ``random_effect_df`` degrees of
        freedom scaled to have SD ``random_effect_sd``.
    random_effect_df : float, default=4
        Degrees of freedom of the t account effects (> 2, so that the SD exists); ignored for
        "normal".
    type_effect_sd : float, default=0.1
        SD of the extra type-specific account effect (log scale, independent per type).
    audience_median, audience_sdlog : float, default=5000, 1.0
        Account audience (followers) is lognormal with this median and log-scale SD.
    reach_fraction_median, reach_fraction_sdlog : float, default=0.10, 0.5
        Organic reach of a post is ``audience * f`` with ``f`` lognormal (median, log-scale SD).
    impressions_per_reach : float, default=1.3
        Expected impressions per reached user (>= 1); impressions = reach + Poisson(reach * (x - 1)).
    paid_probability : float, dict or None, default=None
        Probability that a post is paid, overall or per department; None uses Marketing 0.30,
        Sales 0.25, PR 0.15, Social media team 0.10, others 0.05.
    paid_reach_factor : float, default=3.0
        Paid posts have their reach multiplied by this factor.
    paid_rate_ratio : float or dict, default=0.8
        Rate ratio (per reached user) of paid versus organic posts, per type (paid reach is less
        engaged).
    content_effects : "default", "null" or dict, default="default"
        Rate ratios of content types relative to photo, ``{"video": {"shares": 1.5}, ...}``;
        "null" sets all to 1.
    mixed_share : float, default=0.05
        Share of posts co-run by two departments (labelled "Mixed team"; see Notes).
    start, end : str or Timestamp, default="2025-01-01", "2026-01-01"
        Posting period (UTC), start inclusive, end exclusive.
    seed : None, int or numpy.random.Generator, default=None
        Source of randomness (``check_random_state``); the same int gives the same result.

    Returns
    -------
    SimulatedOrganization
        Frozen dataclass with ``data`` (posts), ``accounts``, ``parameters`` (the truth), ``seed``
        and ``settings``. ``data`` has the canonical columns in ``config.POST_SCHEMA`` order and
        dtypes:

        - ``post_id``: "sim-000001", ... in posting order.
        - ``account``: "sim-<dept>-<nn>", e.g. "sim-mkt-03".
        - ``department``: ordered categorical; "Mixed team" for co-run posts.
        - ``co_departments``: "Marketing|PR" for mixed posts, missing otherwise.
        - ``platform``: the account's platform.
        - ``posted_at``: UTC timestamp.
        - ``content_type``: photo, video, status or link.
        - ``paid``: boolean.
        - ``audience``: the account's followers.
        - ``reach``, ``impressions``: unique users reached and views (impressions >= reach).
        - ``likes``, ``comments``, ``shares``: simulated counts (see Notes).
        - ``clicks``: Poisson(0.01 * reach), 0.03 for links.
        - ``video_views``: Binomial(impressions, 0.3) for videos, missing otherwise.
        - ``interactions_reported``: likes + comments + shares.
        - ``source_row``: 1..n.

    Notes
    -----
    For post *i* of account *a* in department *d*, engagement type *t*:

    .. math::

        \\mu_{it} = R_i \\, \\beta_t \\, RR_{dt} \\, CE_{c(i)t} \\, PE_t^{paid_i} \\, e^{u_{at}}, \\qquad
        u_{at} = b_a + e_{at}, \\; b_a \\sim N(0, \\sigma_b^2), \\; e_{at} \\sim N(0, \\sigma_t^2)

    with :math:`R_i` the reach, :math:`\\beta_t` the base rate, :math:`RR` the department rate
    ratio, :math:`CE` the content effect and :math:`PE` the paid rate ratio. Counts are
    :math:`Y_{it} \\sim NB2(\\mu_{it}, \\alpha_t)` drawn as a gamma-Poisson mixture, then set to 0
    with probability :math:`\\pi_t` (structural zeros). The zero-inflation uniforms are always
    drawn, so changing ``zero_inflation`` changes nothing else for the same seed. Random effects
    are not centred: :math:`RR` is the conditional (GLMM) rate ratio, and the marginal mean is
    multiplied by the same :math:`e^{(\\sigma_b^2 + \\sigma_t^2)/2}` in every department.
    With ``random_effect_distribution="t"``, :math:`b_a = \\sigma_b \\sqrt{(\\nu - 2)/\\nu} \\, T_a`
    with :math:`T_a \\sim t_\\nu` (:math:`\\nu` = ``random_effect_df``), so its SD is still
    :math:`\\sigma_b` but a few accounts are extreme (excess kurtosis :math:`6/(\\nu - 4)`, infinite
    for :math:`\\nu \\le 4`); the type-specific parts stay normal. The default ("normal") draws
    exactly what earlier versions drew for the same seed.

    Mixed-team posts: a share ``mixed_share`` of posts is relabelled "Mixed team" with
    ``co_departments = "<own department>|<other>"`` (the other drawn uniformly); the post stays on
    its account (of the first department) and keeps that department's content mix and paid
    probability, and its true rate ratio is the geometric mean
    :math:`\\sqrt{RR_{d_1 t} RR_{d_2 t}}` (multiple membership with equal weights).

    ``parameters`` rows: ``rate_ratio`` (type x department, and "Mixed team" rows with the pair in
    ``level``), ``base_rate``, ``dispersion``, ``zero_inflation``, ``paid_rate_ratio`` (per type),
    ``content_effect`` (type x content type in ``level``), ``random_effect_sd_shared``,
    ``random_effect_sd_type``, ``paid_probability`` (per department), ``paid_reach_factor``,
    ``audience_median``, ``audience_sdlog``, ``reach_fraction_median``, ``reach_fraction_sdlog``,
    ``impressions_per_reach``, ``mixed_share``, ``posts_per_account``, ``random_effect_distribution``
    (``level`` "normal" or "t", ``value`` the degrees of freedom, ``inf`` for normal) and
    ``posts_distribution`` (``level`` "poisson", "fixed" or "lognormal", ``value`` the log-scale SD
    of "lognormal", NaN otherwise).

    Missing data: none, except ``co_departments`` (non-mixed posts) and ``video_views``
    (non-video posts). Validated by recovering the truth from large simulations
    (tests/test_simulation.py: ratio-of-sums rate ratios and method-of-moments dispersion within
    4 standard errors).

    References
    ----------
    .. [1] Hilbe, J. M. (2011). *Negative Binomial Regression* (2nd ed.). Cambridge University Press.
       https://doi.org/10.1017/CBO9780511973420
    .. [2] Browne, W. J., Goldstein, H., & Rasbash, J. (2001). Multiple membership multiple
       classification (MMMC) models. *Statistical Modelling*, 1(2), 103-124.
       https://doi.org/10.1177/1471082X0100100202

    Examples
    --------
    >>> import toolkit as tk
    >>> sim = tk.simulate_organization(n_accounts_per_department=3, posts_per_account=10, seed=7)
    >>> sim.data.attrs["simulated"], sim.seed
    (True, 7)
    >>> sim.data.columns[:4].tolist()
    ['post_id', 'account', 'department', 'co_departments']
    >>> sim.accounts.shape
    (24, 9)
    >>> truth = sim.true_rate_ratios().set_index("department")
    >>> float(truth.loc["Customer service", "comments"])
    1.5
    >>> null = tk.simulate_organization(rate_ratios="null", seed=7)
    >>> float(null.true_rate_ratios()[["likes", "comments", "shares"]].to_numpy().max())
    1.0
    """
    func = "simulate_organization"
    settings = dict(n_accounts_per_department=n_accounts_per_department, posts_per_account=posts_per_account,
                    posts_distribution=posts_distribution, departments=departments,
                    reference_department=reference_department, rate_ratios=rate_ratios, base_rates=base_rates,
                    dispersion=dispersion, zero_inflation=zero_inflation, random_effect_sd=random_effect_sd,
                    random_effect_distribution=random_effect_distribution, random_effect_df=random_effect_df,
                    type_effect_sd=type_effect_sd, audience_median=audience_median, audience_sdlog=audience_sdlog,
                    reach_fraction_median=reach_fraction_median, reach_fraction_sdlog=reach_fraction_sdlog,
                    impressions_per_reach=impressions_per_reach, paid_probability=paid_probability,
                    paid_reach_factor=paid_reach_factor, paid_rate_ratio=paid_rate_ratio,
                    content_effects=content_effects, mixed_share=mixed_share, start=start, end=end, seed=seed)
    rng = check_random_state(seed, func)
    seed_value = int(seed) if isinstance(seed, (int, np.integer)) and not isinstance(seed, bool) else None

    # ---- departments and accounts per department ------------------------------------------
    if departments is None:
        departments = (list(n_accounts_per_department) if isinstance(n_accounts_per_department, dict)
                       else list(DEFAULT_DEPARTMENTS))
    elif isinstance(departments, str) or not isinstance(departments, (list, tuple)) or not departments:
        raise TypeError(message(func, "departments", "a non-empty list of department names or None", departments))
    departments = [str(d) for d in departments]
    if len(set(departments)) != len(departments):
        raise ValueError(message(func, "departments", "a list without duplicates", departments))
    if config.MIXED_DEPARTMENT in departments:
        raise ValueError(message(func, "departments", f"free of {config.MIXED_DEPARTMENT!r}", departments,
                                 "Mixed-team posts are generated from the real departments; set mixed_share."))
    if isinstance(n_accounts_per_department, dict):
        missing = [d for d in departments if d not in n_accounts_per_department]
        extra = [d for d in n_accounts_per_department if d not in departments]
        if missing or extra:
            raise ValueError(message(func, "n_accounts_per_department", "a dict with one entry per department",
                                     n_accounts_per_department,
                                     f"Missing: {missing}; not in `departments`: {extra}."))
        n_acc = {d: check_integer(n_accounts_per_department[d], func, "n_accounts_per_department", minimum=1)
                 for d in departments}
    else:
        k = check_integer(n_accounts_per_department, func, "n_accounts_per_department", minimum=1)
        n_acc = {d: k for d in departments}
    if reference_department is None:
        reference_department = departments[0]
    check_option(reference_department, departments, func, "reference_department")
    check_option(posts_distribution, ("poisson", "fixed", "lognormal"), func, "posts_distribution")
    ppa = _number(posts_per_account, func, "posts_per_account", minimum=0.0, strict_min=True)

    # ---- rate ratios ------------------------------------------------------------------------
    if isinstance(rate_ratios, str):
        check_option(rate_ratios, ("default", "null"), func, "rate_ratios")
        given = DEFAULT_RATE_RATIOS if rate_ratios == "default" else {}
        rr = {t: {d: float(given.get(t, {}).get(d, 1.0)) if d != reference_department else 1.0
                  for d in departments} for t in ENGAGEMENT_TYPES}
        if rate_ratios == "default" and reference_department != DEFAULT_DEPARTMENTS[0]:
            # keep the pattern but express it relative to the chosen reference
            rr = {t: {d: float(given.get(t, {}).get(d, 1.0)) for d in departments} for t in ENGAGEMENT_TYPES}
            rr = {t: {d: v / rr[t][reference_department] for d, v in rr[t].items()} for t in ENGAGEMENT_TYPES}
    elif isinstance(rate_ratios, dict):
        rr = {t: {d: 1.0 for d in departments} for t in ENGAGEMENT_TYPES}
        for t, per in rate_ratios.items():
            check_option(t, ENGAGEMENT_TYPES, func, "rate_ratios")
            if not isinstance(per, dict):
                raise TypeError(message(func, "rate_ratios", "a dict engagement type -> {department: ratio}",
                                        rate_ratios))
            for d, v in per.items():
                check_option(d, departments, func, "rate_ratios")
                v = _number(v, func, "rate_ratios", minimum=0.0, strict_min=True)
                if d == reference_department and v != 1.0:
                    raise ValueError(message(func, "rate_ratios", f"1 for the reference department "
                                             f"{reference_department!r}", {t: {d: v}},
                                             "Rate ratios are relative to `reference_department`."))
                rr[t][d] = v
    else:
        raise TypeError(message(func, "rate_ratios", "'default', 'null' or a dict", rate_ratios))

    beta = _per_type(base_rates, DEFAULT_BASE_RATES, func, "base_rates", minimum=0.0, strict_min=True)
    alpha = _per_type(dispersion, DEFAULT_DISPERSION, func, "dispersion", minimum=0.0)
    zi = _per_type(zero_inflation, {t: 0.0 for t in ENGAGEMENT_TYPES}, func, "zero_inflation",
                   minimum=0.0, maximum=1.0)
    pe = _per_type(paid_rate_ratio, {t: 0.8 for t in ENGAGEMENT_TYPES}, func, "paid_rate_ratio",
                   minimum=0.0, strict_min=True)
    sd_b = _number(random_effect_sd, func, "random_effect_sd")
    sd_t = _number(type_effect_sd, func, "type_effect_sd")
    check_option(random_effect_distribution, ("normal", "t"), func, "random_effect_distribution")
    re_df = _number(random_effect_df, func, "random_effect_df")
    if random_effect_distribution == "t" and not re_df > 2:
        raise ValueError(message(func, "random_effect_df", "a number > 2 for t account effects", random_effect_df,
                                 "A t distribution with 2 or fewer degrees of freedom has no finite SD, so it "
                                 "cannot be scaled to random_effect_sd; use e.g. 3 or 4 for heavy tails."))
    aud_med = _number(audience_median, func, "audience_median", strict_min=True)
    aud_sd = _number(audience_sdlog, func, "audience_sdlog")
    rf_med = _number(reach_fraction_median, func, "reach_fraction_median", strict_min=True)
    rf_sd = _number(reach_fraction_sdlog, func, "reach_fraction_sdlog")
    ipr = _number(impressions_per_reach, func, "impressions_per_reach", minimum=1.0)
    prf = _number(paid_reach_factor, func, "paid_reach_factor", strict_min=True)
    mix_share = _number(mixed_share, func, "mixed_share", maximum=1.0)
    if mix_share > 0 and len(departments) < 2:
        raise ValueError(message(func, "mixed_share", "0 when there is only one department", mixed_share))

    contents = ("photo", "video", "status", "link")
    if isinstance(content_effects, str):
        check_option(content_effects, ("default", "null"), func, "content_effects")
        ce = {c: dict(DEFAULT_CONTENT_EFFECTS[c]) if content_effects == "default"
              else {t: 1.0 for t in ENGAGEMENT_TYPES} for c in contents}
    elif isinstance(content_effects, dict):
        ce = {c: {t: 1.0 for t in ENGAGEMENT_TYPES} for c in contents}
        for c, per in content_effects.items():
            check_option(c, contents, func, "content_effects")
            if not isinstance(per, dict):
                raise TypeError(message(func, "content_effects", "a dict content type -> {type: ratio}",
                                        content_effects))
            for t, v in per.items():
                check_option(t, ENGAGEMENT_TYPES, func, "content_effects")
                ce[c][t] = _number(v, func, "content_effects", strict_min=True)
    else:
        raise TypeError(message(func, "content_effects", "'default', 'null' or a dict", content_effects))

    if paid_probability is None:
        pp = {d: DEFAULT_PAID_PROBABILITY.get(d, 0.05) for d in departments}
    elif isinstance(paid_probability, dict):
        for d in paid_probability:
            check_option(d, departments, func, "paid_probability")
        pp = {d: _number(paid_probability.get(d, 0.0), func, "paid_probability", maximum=1.0) for d in departments}
    else:
        v = _number(paid_probability, func, "paid_probability", maximum=1.0)
        pp = {d: v for d in departments}

    try:
        t0 = pd.Timestamp(start)
        t1 = pd.Timestamp(end)
    except (ValueError, TypeError) as exc:
        raise ValueError(message(func, "start", "a date, e.g. '2025-01-01'", (start, end))) from exc
    t0 = t0.tz_localize("UTC") if t0.tzinfo is None else t0.tz_convert("UTC")
    t1 = t1.tz_localize("UTC") if t1.tzinfo is None else t1.tz_convert("UTC")
    n_days = int((t1.normalize() - t0.normalize()).days)
    if n_days < 1:
        raise ValueError(message(func, "end", "at least one day after `start`", (str(start), str(end))))

    # ---- accounts ---------------------------------------------------------------------------
    dept_index = np.repeat(np.arange(len(departments)), [n_acc[d] for d in departments])
    n_accounts = dept_index.size
    used: set[str] = set()
    abbrevs = [_abbrev(d, used) for d in departments]
    width = max(2, len(str(max(n_acc.values()))))
    account_ids = np.array([f"sim-{abbrevs[di]}-{j + 1:0{width}d}"
                            for di in range(len(departments)) for j in range(n_acc[departments[di]])], dtype=object)
    audience = np.maximum(1, np.round(aud_med * np.exp(aud_sd * rng.standard_normal(n_accounts)))).astype(np.int64)
    plat_names = list(DEFAULT_PLATFORM_MIX)
    plat_p = np.array(list(DEFAULT_PLATFORM_MIX.values()))
    account_platform = rng.choice(len(plat_names), size=n_accounts, p=plat_p)
    if random_effect_distribution == "t":
        b = sd_b * np.sqrt((re_df - 2.0) / re_df) * rng.standard_t(re_df, size=n_accounts)
    else:
        b = sd_b * rng.standard_normal(n_accounts)
    u = {t: b + sd_t * rng.standard_normal(n_accounts) for t in ENGAGEMENT_TYPES}
    if posts_distribution == "poisson":
        n_posts = rng.poisson(ppa, size=n_accounts).astype(np.int64)
    elif posts_distribution == "lognormal":
        n_posts = np.maximum(1, np.ceil(rng.lognormal(np.log(ppa), POSTS_SDLOG, size=n_accounts))).astype(np.int64)
    else:
        n_posts = np.full(n_accounts, int(round(ppa)), dtype=np.int64)

    # ---- posts ------------------------------------------------------------------------------
    acc = np.repeat(np.arange(n_accounts), n_posts)
    n = acc.size
    if n == 0:
        raise ValueError(message(func, "posts_per_account", "large enough to give at least one post",
                                 posts_per_account, "Increase posts_per_account or the number of accounts."))
    dpt = dept_index[acc]
    # content type by department mix (inverse-CDF on one uniform per post)
    mix = np.array([DEFAULT_CONTENT_MIX.get(d, DEFAULT_CONTENT_MIX["default"]) for d in departments])
    cum = np.cumsum(mix, axis=1)
    cum[:, -1] = 1.0
    uc = rng.random(n)
    content = (uc[:, None] > cum[dpt]).sum(axis=1)
    paid = rng.random(n) < np.array([pp[d] for d in departments])[dpt]
    rfrac = rf_med * np.exp(rf_sd * rng.standard_normal(n))
    reach = np.round(audience[acc] * rfrac * np.where(paid, prf, 1.0)).astype(np.int64)
    impressions = reach + rng.poisson(reach * (ipr - 1.0))
    day = rng.integers(0, n_days, size=n)
    hour = rng.choice(24, size=n, p=_HOURLY / _HOURLY.sum())
    second = rng.integers(0, 3600, size=n)
    posted_ns = (t0.normalize().value + (day.astype(np.int64) * 86400 + hour * 3600 + second) * 1_000_000_000)
    # mixed-team posts
    is_mixed = rng.random(n) < mix_share
    other_draw = rng.integers(0, max(1, len(departments) - 1), size=n)
    other = np.where(other_draw >= dpt, other_draw + 1, other_draw)  # uniform over the other departments
    if len(departments) == 1:
        other = dpt  # no partner department (mixed_share is 0 here)

    rr_arr = {t: np.array([rr[t][d] for d in departments]) for t in ENGAGEMENT_TYPES}
    counts = {}
    for t in ENGAGEMENT_TYPES:
        ratio = rr_arr[t][dpt]
        ratio = np.where(is_mixed, np.sqrt(rr_arr[t][dpt] * rr_arr[t][np.where(is_mixed, other, dpt)]), ratio)
        ce_arr = np.array([ce[c][t] for c in contents])[content]
        mu = reach * beta[t] * ratio * ce_arr * np.where(paid, pe[t], 1.0) * np.exp(u[t][acc])
        if alpha[t] > 0:
            lam = rng.gamma(shape=1.0 / alpha[t], scale=alpha[t], size=n) * mu
        else:
            lam = mu
        y = rng.poisson(lam).astype(np.int64)
        structural = rng.random(n) < zi[t]   # always drawn: keeps the other draws aligned
        y[structural] = 0
        counts[t] = y
    clicks = rng.poisson(reach * np.where(content == 3, 0.03, 0.01))
    video_views = rng.binomial(impressions, 0.3)

    order = np.lexsort((acc, posted_ns))  # posting order; ties broken by account
    dept_names = np.array(departments, dtype=object)
    co = np.full(n, None, dtype=object)
    co[is_mixed] = dept_names[dpt[is_mixed]] + config.CO_DEPARTMENT_SEP + dept_names[other[is_mixed]]

    def o(x):
        return x[order]

    dept_codes = np.where(is_mixed, len(departments), dpt)  # "Mixed team" gets the last code
    frame = {
        "post_id": pd.array(np.char.add("sim-", np.char.zfill(np.arange(1, n + 1).astype(str), 6)).astype(object),
                            dtype="string"),
        "account": pd.array(o(account_ids[acc]), dtype="string"),
        "department": _categorical(o(dept_codes), departments + [config.MIXED_DEPARTMENT], config.DEPARTMENTS),
        "co_departments": pd.array(o(co), dtype="string"),
        "platform": _categorical(o(account_platform[acc]), plat_names, config.PLATFORMS),
        "posted_at": pd.DatetimeIndex(o(posted_ns).astype("datetime64[ns]")).tz_localize("UTC"),
        "content_type": _categorical(o(content), contents, config.CONTENT_TYPES),
        "paid": pd.array(o(paid), dtype="boolean"),
        "audience": pd.array(o(audience[acc]), dtype="Int64"),
        "reach": pd.array(o(reach), dtype="Int64"),
        "impressions": pd.array(o(impressions), dtype="Int64"),
        "likes": pd.array(o(counts["likes"]), dtype="Int64"),
        "comments": pd.array(o(counts["comments"]), dtype="Int64"),
        "shares": pd.array(o(counts["shares"]), dtype="Int64"),
        "clicks": pd.array(o(clicks), dtype="Int64"),
        "video_views": pd.array(o(np.where(content == 1, video_views, 0)), dtype="Int64"),
        "interactions_reported": pd.array(o(counts["likes"] + counts["comments"] + counts["shares"]),
                                          dtype="Int64"),
        "source_row": pd.array(np.arange(1, n + 1), dtype="Int64"),
    }
    frame["video_views"][o(content) != 1] = pd.NA
    data = pd.DataFrame(frame)
    data.attrs = {"simulated": True, "seed": seed_value, "generator": "toolkit.simulate_organization"}

    accounts = pd.DataFrame({
        "account": pd.array(account_ids, dtype="string"),
        "department": _categorical(dept_index, departments, config.DEPARTMENTS),
        "platform": _categorical(account_platform, plat_names, config.PLATFORMS),
        "audience": pd.array(audience, dtype="Int64"),
        "n_posts": n_posts,
        "effect_shared": b,
        **{f"effect_{t}": u[t] for t in ENGAGEMENT_TYPES},
    })
    accounts.attrs = {"simulated": True, "seed": seed_value}

    # ---- the truth as a tidy table ------------------------------------------------------------
    rows: list[tuple] = []
    for t in ENGAGEMENT_TYPES:
        for d in departments:
            rows.append(("rate_ratio", t, d, None, rr[t][d]))
    pairs = sorted(set(zip(dpt[is_mixed].tolist(), other[is_mixed].tolist())))
    for t in ENGAGEMENT_TYPES:
        for d1, d2 in pairs:
            rows.append(("rate_ratio", t, config.MIXED_DEPARTMENT,
                         departments[d1] + config.CO_DEPARTMENT_SEP + departments[d2],
                         float(np.sqrt(rr_arr[t][d1] * rr_arr[t][d2]))))
    for t in ENGAGEMENT_TYPES:
        rows.append(("base_rate", t, reference_department, "photo, organic", beta[t]))
        rows.append(("dispersion", t, None, "NB2 alpha", alpha[t]))
        rows.append(("zero_inflation", t, None, None, zi[t]))
        rows.append(("paid_rate_ratio", t, None, None, pe[t]))
        rows.append(("random_effect_sd_type", t, None, "log scale", sd_t))
        for c in contents:
            rows.append(("content_effect", t, None, c, ce[c][t]))
    rows.append(("random_effect_sd_shared", None, None, "log scale", sd_b))
    for d in departments:
        rows.append(("paid_probability", None, d, None, pp[d]))
    for name, v in (("paid_reach_factor", prf), ("audience_median", aud_med), ("audience_sdlog", aud_sd),
                    ("reach_fraction_median", rf_med), ("reach_fraction_sdlog", rf_sd),
                    ("impressions_per_reach", ipr), ("mixed_share", mix_share),
                    ("posts_per_account", ppa)):
        rows.append((name, None, None, None, float(v)))
    rows.append(("random_effect_distribution", None, None, random_effect_distribution,
                 re_df if random_effect_distribution == "t" else float("inf")))
    rows.append(("posts_distribution", None, None, posts_distribution,
                 POSTS_SDLOG if posts_distribution == "lognormal" else float("nan")))
    parameters = pd.DataFrame(rows, columns=["parameter", "engagement_type", "department", "level", "value"])
    for c in ("parameter", "engagement_type", "department", "level"):
        parameters[c] = parameters[c].astype("string")
    parameters["value"] = parameters["value"].astype("float64")

    settings.update(departments=list(departments), reference_department=reference_department)
    return SimulatedOrganization(data=data, accounts=accounts, parameters=parameters, seed=seed_value,
                                 settings=settings)
