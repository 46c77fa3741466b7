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
from typing import Callable

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




# ---- argument checks: one row per argument, checked in this order by one loop --------------------
@dataclass(frozen=True)
class _Arg:
    """One argument of :func:`simulate_organization` and how it is checked.

    ``kind`` is "number" (a real in the range given by ``low``/``strict``/``high``), "per_type" (a
    number or a dict engagement type -> number, each in that range; ``default`` fills the rest),
    "option" (one of ``options``) or "custom" (``resolve(value, args, done)`` checks arguments whose
    shape depends on others). ``refuse(value, done)``, when it returns True, raises ``expected``
    with ``hint``: a condition across arguments (e.g. t account effects need more than 2 df).
    """

    name: str
    kind: str
    low: float = 0.0
    strict: bool = False
    high: float | None = None
    options: tuple = ()
    default: dict | None = None
    resolve: Callable | None = None
    refuse: Callable | None = None
    expected: str = ""
    hint: str | None = None


_FUNC = "simulate_organization"
_CONTENT_TYPES: tuple[str, ...] = ("photo", "video", "status", "link")


def _resolve_departments(value, args, done) -> list[str]:
    if value is None:
        n_acc = args["n_accounts_per_department"]
        value = list(n_acc) if isinstance(n_acc, dict) else list(DEFAULT_DEPARTMENTS)
    elif isinstance(value, str) or not isinstance(value, (list, tuple)) or not value:
        raise TypeError(message(_FUNC, "departments", "a non-empty list of department names or None", value))
    departments = [str(d) for d in value]
    if len(set(departments)) != len(departments):
        raise ValueError(message(_FUNC, "departments", "a list without duplicates", departments))
    if config.MIXED_DEPARTMENT in departments:
        raise ValueError(message(_FUNC, "departments", f"free of {config.MIXED_DEPARTMENT!r}", departments,
                                 "Mixed-team posts are generated from the real departments; set mixed_share."))
    return departments


def _resolve_n_accounts(value, args, done) -> dict[str, int]:
    param, departments = "n_accounts_per_department", done["departments"]
    if not isinstance(value, dict):
        k = check_integer(value, _FUNC, param, minimum=1)
        return {d: k for d in departments}
    missing = [d for d in departments if d not in value]
    extra = [d for d in value if d not in departments]
    if missing or extra:
        raise ValueError(message(_FUNC, param, "a dict with one entry per department", value,
                                 f"Missing: {missing}; not in `departments`: {extra}."))
    return {d: check_integer(value[d], _FUNC, param, minimum=1) for d in departments}


def _resolve_reference(value, args, done) -> str:
    value = done["departments"][0] if value is None else value
    return check_option(value, done["departments"], _FUNC, "reference_department")


def _ratio_table(value, outer, inner, param: str, shape: str, check) -> dict[str, dict[str, float]]:
    """A user's ``{outer: {inner: ratio}}`` dict (``rate_ratios``, ``content_effects``) checked key by key and
    completed with 1.0; ``check(outer_key, inner_key, value)`` returns the checked ratio."""
    if not isinstance(value, dict):
        raise TypeError(message(_FUNC, param, "'default', 'null' or a dict", value))
    table = {o: {i: 1.0 for i in inner} for o in outer}
    for o, per in value.items():
        check_option(o, outer, _FUNC, param)
        if not isinstance(per, dict):
            raise TypeError(message(_FUNC, param, shape, value))
        for i, v in per.items():
            check_option(i, inner, _FUNC, param)
            table[o][i] = check(o, i, v)
    return table


def _resolve_rate_ratios(value, args, done) -> dict[str, dict[str, float]]:
    departments, ref = done["departments"], done["reference_department"]
    if isinstance(value, str):
        check_option(value, ("default", "null"), _FUNC, "rate_ratios")
        given = DEFAULT_RATE_RATIOS if value == "default" else {}
        rr = {t: {d: float(given.get(t, {}).get(d, 1.0)) for d in departments} for t in ENGAGEMENT_TYPES}
        if value == "default" and ref != DEFAULT_DEPARTMENTS[0]:
            # keep the pattern but express it relative to the chosen reference
            return {t: {d: v / rr[t][ref] for d, v in rr[t].items()} for t in ENGAGEMENT_TYPES}
        return {t: {d: (v if d != ref else 1.0) for d, v in rr[t].items()} for t in ENGAGEMENT_TYPES}
    def ratio(t, d, v):
        v = _number(v, _FUNC, "rate_ratios", minimum=0.0, strict_min=True)
        if d == ref and v != 1.0:
            raise ValueError(message(_FUNC, "rate_ratios", f"1 for the reference department {ref!r}",
                                     {t: {d: v}}, "Rate ratios are relative to `reference_department`."))
        return v

    return _ratio_table(value, ENGAGEMENT_TYPES, departments, "rate_ratios",
                        "a dict engagement type -> {department: ratio}", ratio)


def _resolve_content_effects(value, args, done) -> dict[str, dict[str, float]]:
    if isinstance(value, str):
        check_option(value, ("default", "null"), _FUNC, "content_effects")
        return {c: dict(DEFAULT_CONTENT_EFFECTS[c]) if value == "default" else {t: 1.0 for t in ENGAGEMENT_TYPES}
                for c in _CONTENT_TYPES}
    return _ratio_table(value, _CONTENT_TYPES, ENGAGEMENT_TYPES, "content_effects",
                        "a dict content type -> {type: ratio}",
                        lambda c, t, v: _number(v, _FUNC, "content_effects", strict_min=True))


def _resolve_paid_probability(value, args, done) -> dict[str, float]:
    departments = done["departments"]
    if value is None:
        return {d: DEFAULT_PAID_PROBABILITY.get(d, 0.05) for d in departments}
    if isinstance(value, dict):
        for d in value:
            check_option(d, departments, _FUNC, "paid_probability")
        return {d: _number(value.get(d, 0.0), _FUNC, "paid_probability", maximum=1.0) for d in departments}
    v = _number(value, _FUNC, "paid_probability", maximum=1.0)
    return {d: v for d in departments}


@dataclass(frozen=True)
class _Period:
    """Posting period in UTC: ``start`` inclusive, ``n_days`` whole days from its midnight."""

    start: pd.Timestamp
    end: pd.Timestamp
    n_days: int


def _resolve_period(value, args, done) -> _Period:
    start, end = args["start"], args["end"]
    try:
        t0, t1 = pd.Timestamp(start), pd.Timestamp(end)
    except (ValueError, TypeError) as exc:
        raise ValueError(message(_FUNC, "start", "a date, e.g. '2025-01-01'", (start, end))) from exc
    t0 = t0.tz_localize("UTC") if t0.tzinfo is None else t0.tz_convert("UTC")
    t1 = t1.tz_localize("UTC") if t1.tzinfo is None else t1.tz_convert("UTC")
    n_days = int((t1.normalize() - t0.normalize()).days)
    if n_days < 1:
        raise ValueError(message(_FUNC, "end", "at least one day after `start`", (str(start), str(end))))
    return _Period(t0, t1, n_days)


_ARGUMENTS: tuple[_Arg, ...] = (
    _Arg("departments", "custom", resolve=_resolve_departments),
    _Arg("n_accounts_per_department", "custom", resolve=_resolve_n_accounts),
    _Arg("reference_department", "custom", resolve=_resolve_reference),
    _Arg("posts_distribution", "option", options=("poisson", "fixed", "lognormal")),
    _Arg("posts_per_account", "number", strict=True),
    _Arg("rate_ratios", "custom", resolve=_resolve_rate_ratios),
    _Arg("base_rates", "per_type", strict=True, default=DEFAULT_BASE_RATES),
    _Arg("dispersion", "per_type", default=DEFAULT_DISPERSION),
    _Arg("zero_inflation", "per_type", high=1.0, default={t: 0.0 for t in ENGAGEMENT_TYPES}),
    _Arg("paid_rate_ratio", "per_type", strict=True, default={t: 0.8 for t in ENGAGEMENT_TYPES}),
    _Arg("random_effect_sd", "number"),
    _Arg("type_effect_sd", "number"),
    _Arg("random_effect_distribution", "option", options=("normal", "t")),
    _Arg("random_effect_df", "number", refuse=lambda v, done: done["random_effect_distribution"] == "t" and not v > 2,
         expected="a number > 2 for t account effects",
         hint="A t distribution with 2 or fewer degrees of freedom has no finite SD, so it cannot be scaled to "
              "random_effect_sd; use e.g. 3 or 4 for heavy tails."),
    _Arg("audience_median", "number", strict=True),
    _Arg("audience_sdlog", "number"),
    _Arg("reach_fraction_median", "number", strict=True),
    _Arg("reach_fraction_sdlog", "number"),
    _Arg("impressions_per_reach", "number", low=1.0),
    _Arg("paid_reach_factor", "number", strict=True),
    _Arg("mixed_share", "number", high=1.0, refuse=lambda v, done: v > 0 and len(done["departments"]) < 2,
         expected="0 when there is only one department"),
    _Arg("content_effects", "custom", resolve=_resolve_content_effects),
    _Arg("paid_probability", "custom", resolve=_resolve_paid_probability),
    _Arg("start", "custom", resolve=_resolve_period),  # checks `start` and `end` together
)


def _check_arguments(args: dict) -> dict:
    """Check every argument in ``_ARGUMENTS`` order; return the resolved values by argument name."""
    done: dict = {}
    for arg in _ARGUMENTS:
        value = args[arg.name]
        if arg.kind == "number":
            resolved = _number(value, _FUNC, arg.name, minimum=arg.low, strict_min=arg.strict, maximum=arg.high)
        elif arg.kind == "per_type":
            resolved = _per_type(value, arg.default, _FUNC, arg.name, minimum=arg.low, maximum=arg.high,
                                 strict_min=arg.strict)
        elif arg.kind == "option":
            resolved = check_option(value, arg.options, _FUNC, arg.name)
        else:
            resolved = arg.resolve(value, args, done)
        if arg.refuse is not None and arg.refuse(resolved, done):
            raise ValueError(message(_FUNC, arg.name, arg.expected, value, arg.hint))
        done[arg.name] = resolved
    return done


# ---- drawing: one small step per part of the model, each returning a named record -------------------
@dataclass(frozen=True)
class _Accounts:
    """Drawn accounts: department index, id, audience, platform, shared and per-type log effects, posts."""

    dept_index: np.ndarray
    ids: np.ndarray
    audience: np.ndarray
    platform: np.ndarray
    effect_shared: np.ndarray
    effect: dict
    n_posts: np.ndarray


@dataclass(frozen=True)
class _Posts:
    """Drawn posts (in drawing order): account, department, content, paid, reach, time and partner."""

    account: np.ndarray
    dept: np.ndarray
    content: np.ndarray
    paid: np.ndarray
    reach: np.ndarray
    impressions: np.ndarray
    posted_ns: np.ndarray
    is_mixed: np.ndarray
    other: np.ndarray

    @property
    def n(self) -> int:
        return int(self.account.size)


@dataclass(frozen=True)
class _Engagement:
    """Drawn outcomes per post: counts per engagement type, clicks, video views."""

    counts: dict
    clicks: np.ndarray
    video_views: np.ndarray


def _account_ids(departments: list[str], n_acc: dict[str, int]) -> np.ndarray:
    used: set[str] = set()
    abbrevs = [_abbrev(d, used) for d in departments]
    width = max(2, len(str(max(n_acc.values()))))
    return np.array([f"sim-{abbrevs[di]}-{j + 1:0{width}d}"
                     for di in range(len(departments)) for j in range(n_acc[departments[di]])], dtype=object)


def _draw_account_effects(p: dict, rng: np.random.Generator, n_accounts: int) -> np.ndarray:
    sd_b = p["random_effect_sd"]
    if p["random_effect_distribution"] == "t":
        re_df = p["random_effect_df"]
        return sd_b * np.sqrt((re_df - 2.0) / re_df) * rng.standard_t(re_df, size=n_accounts)
    return sd_b * rng.standard_normal(n_accounts)


def _draw_posts_per_account(p: dict, rng: np.random.Generator, n_accounts: int) -> np.ndarray:
    ppa = p["posts_per_account"]
    if p["posts_distribution"] == "poisson":
        return rng.poisson(ppa, size=n_accounts).astype(np.int64)
    if p["posts_distribution"] == "lognormal":
        return np.maximum(1, np.ceil(rng.lognormal(np.log(ppa), POSTS_SDLOG, size=n_accounts))).astype(np.int64)
    return np.full(n_accounts, int(round(ppa)), dtype=np.int64)


def _draw_accounts(p: dict, rng: np.random.Generator) -> _Accounts:
    departments, n_acc = p["departments"], p["n_accounts_per_department"]
    dept_index = np.repeat(np.arange(len(departments)), [n_acc[d] for d in departments])
    n_accounts = dept_index.size
    audience = np.maximum(1, np.round(p["audience_median"] * np.exp(
        p["audience_sdlog"] * rng.standard_normal(n_accounts)))).astype(np.int64)
    platform = rng.choice(len(DEFAULT_PLATFORM_MIX), size=n_accounts, p=np.array(list(DEFAULT_PLATFORM_MIX.values())))
    b = _draw_account_effects(p, rng, n_accounts)
    u = {t: b + p["type_effect_sd"] * rng.standard_normal(n_accounts) for t in ENGAGEMENT_TYPES}
    return _Accounts(dept_index, _account_ids(departments, n_acc), audience, platform, b, u,
                     _draw_posts_per_account(p, rng, n_accounts))


def _draw_posting_times(period: _Period, rng: np.random.Generator, n: int) -> np.ndarray:
    day = rng.integers(0, period.n_days, size=n)
    hour = rng.choice(24, size=n, p=_HOURLY / _HOURLY.sum())
    second = rng.integers(0, 3600, size=n)
    return period.start.normalize().value + (day.astype(np.int64) * 86400 + hour * 3600 + second) * 1_000_000_000


def _draw_posts(p: dict, accounts: _Accounts, rng: np.random.Generator) -> _Posts:
    departments = p["departments"]
    acc = np.repeat(np.arange(accounts.dept_index.size), accounts.n_posts)
    n = acc.size
    dpt = accounts.dept_index[acc]
    # content type by department mix (inverse-CDF on one uniform per post)
    mix = np.array([DEFAULT_CONTENT_MIX.get(d, DEFAULT_CONTENT_MIX["default"]) for d in departments])
    cum = np.cumsum(mix, axis=1)
    cum[:, -1] = 1.0
    content = (rng.random(n)[:, None] > cum[dpt]).sum(axis=1)
    paid = rng.random(n) < np.array([p["paid_probability"][d] for d in departments])[dpt]
    rfrac = p["reach_fraction_median"] * np.exp(p["reach_fraction_sdlog"] * rng.standard_normal(n))
    reach = np.round(accounts.audience[acc] * rfrac * np.where(paid, p["paid_reach_factor"], 1.0)).astype(np.int64)
    impressions = reach + rng.poisson(reach * (p["impressions_per_reach"] - 1.0))
    posted_ns = _draw_posting_times(p["start"], rng, n)
    # mixed-team posts: the partner is uniform over the other departments
    is_mixed = rng.random(n) < p["mixed_share"]
    other_draw = rng.integers(0, max(1, len(departments) - 1), size=n)
    other = np.where(other_draw >= dpt, other_draw + 1, other_draw)
    if len(departments) == 1:
        other = dpt  # no partner department (mixed_share is 0 here)
    return _Posts(acc, dpt, content, paid, reach, impressions, posted_ns, is_mixed, other)


def _rate_ratio_arrays(p: dict) -> dict[str, np.ndarray]:
    return {t: np.array([p["rate_ratios"][t][d] for d in p["departments"]]) for t in ENGAGEMENT_TYPES}


def _draw_engagement(p: dict, accounts: _Accounts, posts: _Posts, rng: np.random.Generator) -> _Engagement:
    rr_arr, n, dpt = _rate_ratio_arrays(p), posts.n, posts.dept
    counts = {}
    for t in ENGAGEMENT_TYPES:
        ratio = np.where(posts.is_mixed, np.sqrt(rr_arr[t][dpt] * rr_arr[t][np.where(posts.is_mixed, posts.other,
                                                                                        dpt)]), rr_arr[t][dpt])
        ce_arr = np.array([p["content_effects"][c][t] for c in _CONTENT_TYPES])[posts.content]
        mu = (posts.reach * p["base_rates"][t] * ratio * ce_arr * np.where(posts.paid, p["paid_rate_ratio"][t], 1.0)
              * np.exp(accounts.effect[t][posts.account]))
        alpha = p["dispersion"][t]
        lam = rng.gamma(shape=1.0 / alpha, scale=alpha, size=n) * mu if alpha > 0 else mu
        y = rng.poisson(lam).astype(np.int64)
        structural = rng.random(n) < p["zero_inflation"][t]   # always drawn: keeps the other draws aligned
        y[structural] = 0
        counts[t] = y
    clicks = rng.poisson(posts.reach * np.where(posts.content == 3, 0.03, 0.01))
    return _Engagement(counts, clicks, rng.binomial(posts.impressions, 0.3))


# ---- the three tables of the result --------------------------------------------------------------
def _post_table(p: dict, accounts: _Accounts, posts: _Posts, eng: _Engagement, seed_value) -> pd.DataFrame:
    departments, n = p["departments"], posts.n
    order = np.lexsort((posts.account, posts.posted_ns))  # posting order; ties broken by account
    dept_names = np.array(departments, dtype=object)
    mixed = posts.is_mixed
    co = np.full(n, None, dtype=object)
    co[mixed] = dept_names[posts.dept[mixed]] + config.CO_DEPARTMENT_SEP + dept_names[posts.other[mixed]]
    acc, content, counts = posts.account, posts.content, eng.counts

    def o(x):
        return x[order]

    dept_codes = np.where(mixed, len(departments), posts.dept)  # "Mixed team" gets the last code
    columns = {
        "post_id": pd.array(np.char.add("sim-", np.char.zfill(np.arange(1, n + 1).astype(str), 6)).astype(object),
                            dtype="string"),
        "account": pd.array(o(accounts.ids[acc]), dtype="string"),
        "department": _categorical(o(dept_codes), departments + [config.MIXED_DEPARTMENT], config.DEPARTMENTS),
        "co_departments": pd.array(o(co), dtype="string"),
        "platform": _categorical(o(accounts.platform[acc]), list(DEFAULT_PLATFORM_MIX), config.PLATFORMS),
        "posted_at": pd.DatetimeIndex(o(posts.posted_ns).astype("datetime64[ns]")).tz_localize("UTC"),
        "content_type": _categorical(o(content), _CONTENT_TYPES, config.CONTENT_TYPES),
        "paid": pd.array(o(posts.paid), dtype="boolean"),
        "audience": pd.array(o(accounts.audience[acc]), dtype="Int64"),
        "reach": pd.array(o(posts.reach), dtype="Int64"),
        "impressions": pd.array(o(posts.impressions), dtype="Int64"),
        **{t: pd.array(o(counts[t]), dtype="Int64") for t in ENGAGEMENT_TYPES},
        "clicks": pd.array(o(eng.clicks), dtype="Int64"),
        "video_views": pd.array(o(np.where(content == 1, eng.video_views, 0)), dtype="Int64"),
        "interactions_reported": pd.array(o(counts["likes"] + counts["comments"] + counts["shares"]),
                                          dtype="Int64"),
        "source_row": pd.array(np.arange(1, n + 1), dtype="Int64"),
    }
    columns["video_views"][o(content) != 1] = pd.NA
    data = pd.DataFrame(columns)
    data.attrs = {"simulated": True, "seed": seed_value, "generator": "toolkit.simulate_organization"}
    return data


def _account_table(p: dict, accounts: _Accounts, seed_value) -> pd.DataFrame:
    table = pd.DataFrame({
        "account": pd.array(accounts.ids, dtype="string"),
        "department": _categorical(accounts.dept_index, p["departments"], config.DEPARTMENTS),
        "platform": _categorical(accounts.platform, list(DEFAULT_PLATFORM_MIX), config.PLATFORMS),
        "audience": pd.array(accounts.audience, dtype="Int64"),
        "n_posts": accounts.n_posts,
        "effect_shared": accounts.effect_shared,
        **{f"effect_{t}": accounts.effect[t] for t in ENGAGEMENT_TYPES},
    })
    table.attrs = {"simulated": True, "seed": seed_value}
    return table


def _truth_rows(p: dict, posts: _Posts) -> list[tuple]:
    departments, rr, ref = p["departments"], p["rate_ratios"], p["reference_department"]
    rr_arr = _rate_ratio_arrays(p)
    rows: list[tuple] = [("rate_ratio", t, d, None, rr[t][d]) for t in ENGAGEMENT_TYPES for d in departments]
    pairs = sorted(set(zip(posts.dept[posts.is_mixed].tolist(), posts.other[posts.is_mixed].tolist())))
    rows += [("rate_ratio", t, config.MIXED_DEPARTMENT, departments[d1] + config.CO_DEPARTMENT_SEP + departments[d2],
              float(np.sqrt(rr_arr[t][d1] * rr_arr[t][d2]))) for t in ENGAGEMENT_TYPES for d1, d2 in pairs]
    for t in ENGAGEMENT_TYPES:
        rows.append(("base_rate", t, ref, "photo, organic", p["base_rates"][t]))
        rows.append(("dispersion", t, None, "NB2 alpha", p["dispersion"][t]))
        rows.append(("zero_inflation", t, None, None, p["zero_inflation"][t]))
        rows.append(("paid_rate_ratio", t, None, None, p["paid_rate_ratio"][t]))
        rows.append(("random_effect_sd_type", t, None, "log scale", p["type_effect_sd"]))
        rows += [("content_effect", t, None, c, p["content_effects"][c][t]) for c in _CONTENT_TYPES]
    rows.append(("random_effect_sd_shared", None, None, "log scale", p["random_effect_sd"]))
    rows += [("paid_probability", None, d, None, p["paid_probability"][d]) for d in departments]
    rows += [(name, None, None, None, float(p[name])) for name in (
        "paid_reach_factor", "audience_median", "audience_sdlog", "reach_fraction_median", "reach_fraction_sdlog",
        "impressions_per_reach", "mixed_share", "posts_per_account")]
    red, pdist = p["random_effect_distribution"], p["posts_distribution"]
    rows.append(("random_effect_distribution", None, None, red, p["random_effect_df"] if red == "t" else float("inf")))
    rows.append(("posts_distribution", None, None, pdist, POSTS_SDLOG if pdist == "lognormal" else float("nan")))
    return rows


def _truth_table(p: dict, posts: _Posts) -> pd.DataFrame:
    parameters = pd.DataFrame(_truth_rows(p, posts),
                              columns=["parameter", "engagement_type", "department", "level", "value"])
    for c in ("parameter", "engagement_type", "department", "level"):
        parameters[c] = parameters[c].astype("string")
    parameters["value"] = parameters["value"].astype("float64")
    return parameters


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
        The same int gives the same numbers on every run; None draws fresh randomness.

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
    args = dict(locals())  # every argument by name (the first statement: nothing else is local yet)
    settings = dict(args)
    rng = check_random_state(seed, _FUNC)
    seed_value = int(seed) if isinstance(seed, (int, np.integer)) and not isinstance(seed, bool) else None
    p = _check_arguments(args)
    accounts = _draw_accounts(p, rng)
    if accounts.n_posts.sum() == 0:
        raise ValueError(message(_FUNC, "posts_per_account", "large enough to give at least one post",
                                 posts_per_account, "Increase posts_per_account or the number of accounts."))
    posts = _draw_posts(p, accounts, rng)
    engagement = _draw_engagement(p, accounts, posts, rng)
    settings.update(departments=list(p["departments"]), reference_department=p["reference_department"])
    return SimulatedOrganization(data=_post_table(p, accounts, posts, engagement, seed_value),
                                 accounts=_account_table(p, accounts, seed_value),
                                 parameters=_truth_table(p, posts), seed=seed_value, settings=settings)
