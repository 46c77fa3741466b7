"""Audience growth of groups (e.g. city agencies) from a panel of accounts measured repeatedly.

:func:`fit_growth_model` fits a linear mixed model of log audience on time with one intercept and one
growth rate per group and a random intercept (and, when it can be estimated, a random slope) per account,
and returns tidy tables of the growth rates with confidence intervals.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from .._protocol import AnswerFirst
from .._validation import (check_column, check_data, check_nan_policy, check_probability, message,
                          numeric_column, warn)

__all__ = ["fit_growth_model", "GrowthModel"]

_FUNC = "fit_growth_model"
_DAYS_PER_YEAR = 365.25


@dataclass(frozen=True, repr=False)
class GrowthModel(AnswerFirst):
    """A fitted growth model (see :func:`fit_growth_model`).

    Attributes
    ----------
    growth_rates : DataFrame
        One row per group: group, slope, std_error, ci_low, ci_high, statistic, p_value,
        growth_factor, growth_factor_ci_low, growth_factor_ci_high, percent_per_year,
        n_accounts, n_observations, confidence_level.
    baselines : DataFrame
        One row per group: group, log_level, std_error, ci_low, ci_high, level (exp of log_level),
        at (the time origin).
    test : DataFrame
        One row: test, statistic, df, p_value, method (Wald test that all groups grow at the same rate).
    fit_statistics : DataFrame
        One row: model, n, n_accounts, n_groups, n_dropped, n_groups_dropped, random_slope, converged,
        reml_loglik, sd_intercept, sd_slope, corr_intercept_slope, residual_sd, time_unit, origin.
    settings : dict
        The call's options.
    raw : Any
        The statsmodels ``MixedLMResults`` (for experts).
    """

    growth_rates: pd.DataFrame
    baselines: pd.DataFrame
    test: pd.DataFrame
    fit_statistics: pd.DataFrame
    settings: dict = field(default_factory=dict)
    raw: Any = field(default=None, repr=False, compare=False)

    def to_frame(self) -> pd.DataFrame:
        """The growth-rate table (one row per group)."""
        return self.growth_rates.copy()


def _fit_mixedlm(frame, formula, re_formula):
    import statsmodels.formula.api as smf
    from statsmodels.tools.sm_exceptions import ConvergenceWarning

    model = smf.mixedlm(formula, frame, groups=frame["_subject"], re_formula=re_formula)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = model.fit(reml=True, method=["lbfgs", "bfgs", "cg"])
    problems = [w for w in caught if issubclass(w.category, ConvergenceWarning)]
    ok = bool(getattr(result, "converged", False)) and not problems
    return result, ok, problems


def fit_growth_model(data, *, dv="audience", time="sampled_on", between="agency", subject="account",
                     random_slope=True, confidence_level=0.95, nan_policy="raise"):
    """Compare the audience growth of groups with a linear mixed model of log audience over time.

    Parameters
    ----------
    data : pandas.DataFrame
        Long form, one row per account and measurement (a panel), e.g. the NYC agency social media
        usage dataset.
    dv : str, default "audience"
        Positive size measure (followers, subscribers); modelled on the log scale.
    time : str, default "sampled_on"
        Datetime column of the measurement. Time enters in years since the earliest measurement.
    between : str, default "agency"
        Group column; each group gets its own intercept and growth rate.
    subject : str, default "account"
        Account column (the repeatedly measured unit); each account belongs to one group.
    random_slope : bool, default True
        Add a random slope per account (correlated with its random intercept). If that model does not
        converge, the random-intercept model is used and a ToolkitWarning says so.
    confidence_level : float, default 0.95
        Level of the Wald confidence intervals.
    nan_policy : {"raise", "omit"}, default "raise"
        Rows with a missing value in `dv`, `time`, `between` or `subject`, or a `dv` <= 0 (log undefined),
        raise, or are dropped and counted in ``n_dropped``. Groups whose measurements all fall on one date
        (no estimable growth) are then dropped too (counted in ``n_groups_dropped``, with a warning).

    Returns
    -------
    GrowthModel
        ``growth_rates`` (group, slope, std_error, ci_low, ci_high, statistic, p_value, growth_factor,
        growth_factor_ci_low, growth_factor_ci_high, percent_per_year, n_accounts, n_observations,
        confidence_level): ``slope`` is the group's mean change of log audience per year, ``growth_factor``
        = exp(slope) the multiplicative growth per year (1.2 = 20 % a year), ``percent_per_year`` =
        100 (growth_factor - 1); ``baselines`` (group, log_level, std_error, ci_low, ci_high, level, at):
        the group's mean log audience at the time origin; ``test`` (test, statistic, df, p_value, method):
        Wald chi-square test of equal growth rates in all groups; ``fit_statistics`` (model, n, n_accounts,
        n_groups, n_dropped, n_groups_dropped, random_slope, converged, reml_loglik, sd_intercept, sd_slope,
        corr_intercept_slope, residual_sd, time_unit, origin).

    Notes
    -----
    Model (REML, statsmodels ``MixedLM``), for measurement *j* of account *a* in group *g*, with
    :math:`t` in years since the earliest measurement:

    .. math::

        \\log y_{aj} = \\alpha_g + \\beta_g t_{aj} + u_{0a} + u_{1a} t_{aj} + \\varepsilon_{aj}, \\quad
        (u_{0a}, u_{1a}) \\sim N(0, \\Sigma), \\; \\varepsilon \\sim N(0, \\sigma^2)

    (``u_1`` omitted without a random slope). This is
    ``lmer(log(y) ~ 0 + group + group:t + (1 + t | account), REML = TRUE)`` in lme4. Growth rates
    :math:`\\beta_g` get Wald z intervals; the equal-growth test is the Wald chi-square of the
    :math:`G - 1` differences :math:`\\beta_g - \\beta_1`. Accounts nested in groups share nothing beyond
    their group's mean line: groups with one account rest on that account alone, and their intervals
    show it. Missing data: see `nan_policy`.

    Validated against ``lme4::lmer`` (R 4.2, REML) on the NYC agency social media usage panel:
    fixed effects and standard errors, see tests/reference/growth/.

    References
    ----------
    Laird, N. M., & Ware, J. H. (1982). Random-effects models for longitudinal data. Biometrics, 38(4),
    963-974. doi:10.2307/2529876
    Bates, D., Mächler, M., Bolker, B., & Walker, S. (2015). Fitting linear mixed-effects models using
    lme4. Journal of Statistical Software, 67(1), 1-48. doi:10.18637/jss.v067.i01

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from toolkit.models.growth import fit_growth_model
    >>> rng = np.random.default_rng(1)
    >>> dates = pd.to_datetime(["2024-01-01", "2024-07-01", "2025-01-01", "2025-07-01"])
    >>> rows = [{"agency": g, "account": f"{g}-{a}", "sampled_on": d,
    ...          "audience": int(1000 * (a + 1) * np.exp(rate * i / 2 + rng.normal(0, 0.05)))}
    ...         for g, rate in [("A", 0.1), ("B", 0.4)] for a in range(4) for i, d in enumerate(dates)]
    >>> m = fit_growth_model(pd.DataFrame(rows), random_slope=False)
    >>> m.growth_rates["group"].tolist()
    ['A', 'B']
    >>> m.growth_rates["slope"].round(1).tolist()  # log growth per year (truth 0.1 and 0.4)
    [0.1, 0.4]
    """
    data = check_data(data, _FUNC)
    for name, param in ((dv, "dv"), (time, "time"), (between, "between"), (subject, "subject")):
        check_column(data, name, _FUNC, param)
    if len({dv, time, between, subject}) < 4:
        raise ValueError(message(_FUNC, None, "four different columns for `dv`, `time`, `between` and `subject`",
                                 [dv, time, between, subject]))
    if not isinstance(random_slope, (bool, np.bool_)):
        raise TypeError(message(_FUNC, "random_slope", "True or False", random_slope))
    confidence_level = check_probability(confidence_level, _FUNC, "confidence_level")
    nan_policy = check_nan_policy(nan_policy, _FUNC)

    y = numeric_column(data, dv, _FUNC, "dv")
    when = data[time]
    if not pd.api.types.is_datetime64_any_dtype(when):
        raise TypeError(message(_FUNC, "time", "a datetime column", f"{time!r} with dtype {when.dtype}",
                                f"Convert it with pd.to_datetime(data[{time!r}])."))
    group = data[between].astype("object")
    subj = data[subject].astype("object")
    bad = (y.isna() | when.isna() | group.isna() | subj.isna()).to_numpy()
    nonpos = (~bad) & (y.fillna(1.0).to_numpy() <= 0)
    n_drop = int((bad | nonpos).sum())
    if n_drop and nan_policy == "raise":
        raise ValueError(message(_FUNC, "data", f"free of missing values and of `dv` <= 0 in the model columns",
                                 f"{int(bad.sum())} row(s) with a missing value, {int(nonpos.sum())} with {dv} <= 0",
                                 "Pass nan_policy='omit' to drop them (they are counted in n_dropped)."))
    keep = ~(bad | nonpos)
    frame = pd.DataFrame({"_y": np.log(y.to_numpy()[keep]), "_when": when.to_numpy()[keep],
                          "_group": group.to_numpy()[keep], "_subject": subj.to_numpy()[keep]})
    if frame.empty:
        raise ValueError(message(_FUNC, "data", "at least one usable row", 0))
    several = frame.groupby("_subject")["_group"].nunique()
    if (several > 1).any():
        raise ValueError(message(_FUNC, "subject", "nested in `between` (each account in one group)",
                                 f"{int((several > 1).sum())} account(s) in several groups"))
    origin = frame["_when"].min()
    frame["_t"] = (frame["_when"] - origin).dt.days.to_numpy() / _DAYS_PER_YEAR
    spread = frame.groupby("_group")["_t"].nunique()
    flat = spread[spread < 2].index.tolist()
    if flat:
        warn(f"{_FUNC}: {len(flat)} group(s) measured on one date only have no estimable growth and are dropped: "
             + ", ".join(map(str, flat[:5])) + (" …" if len(flat) > 5 else ""))
        frame = frame[~frame["_group"].isin(flat)]
    if isinstance(data[between].dtype, pd.CategoricalDtype):
        levels = [lv for lv in data[between].cat.categories if lv in set(frame["_group"])]
    else:
        levels = sorted(frame["_group"].unique(), key=str)
    if len(levels) < 1 or frame["_subject"].nunique() < 3:
        raise ValueError(message(_FUNC, "data", "at least 3 accounts with growth measured over time",
                                 f"{frame['_subject'].nunique()} account(s)"))
    codes = {lv: f"g{i}" for i, lv in enumerate(levels)}
    frame["_g"] = pd.Categorical(frame["_group"].map(codes), categories=list(codes.values()))
    formula = "_y ~ 0 + _g + _g:_t"

    used_slope = bool(random_slope)
    result, ok, problems = _fit_mixedlm(frame, formula, "~_t" if random_slope else "~1")
    if random_slope and not ok:
        warn(f"{_FUNC}: the model with a random slope per {subject!r} did not converge; the random-intercept "
             "model is reported instead.")
        used_slope = False
        result, ok, problems = _fit_mixedlm(frame, formula, "~1")
    if not ok:
        warn(f"{_FUNC}: the optimiser did not fully converge; results may be inaccurate.")

    names = list(result.fe_params.index)
    beta = result.fe_params.to_numpy()
    vcov = result.cov_params().loc[names, names].to_numpy()
    z = stats.norm.ppf(0.5 + confidence_level / 2.0)
    slope_idx = [names.index(f"_g[{codes[lv]}]:_t") for lv in levels]
    level_idx = [names.index(f"_g[{codes[lv]}]") for lv in levels]
    counts = frame.groupby("_group").agg(n_accounts=("_subject", "nunique"), n_observations=("_y", "size"))

    b = beta[slope_idx]
    se = np.sqrt(np.diag(vcov)[slope_idx])
    growth = pd.DataFrame({
        "group": levels, "slope": b, "std_error": se, "ci_low": b - z * se, "ci_high": b + z * se,
        "statistic": b / se, "p_value": 2 * stats.norm.sf(np.abs(b / se)), "growth_factor": np.exp(b),
        "growth_factor_ci_low": np.exp(b - z * se), "growth_factor_ci_high": np.exp(b + z * se),
        "percent_per_year": 100 * (np.exp(b) - 1),
        "n_accounts": counts.loc[levels, "n_accounts"].to_numpy().astype("int64"),
        "n_observations": counts.loc[levels, "n_observations"].to_numpy().astype("int64"),
        "confidence_level": confidence_level})
    a = beta[level_idx]
    sa = np.sqrt(np.diag(vcov)[level_idx])
    baselines = pd.DataFrame({"group": levels, "log_level": a, "std_error": sa, "ci_low": a - z * sa,
                              "ci_high": a + z * sa, "level": np.exp(a), "at": origin})

    if len(levels) >= 2:
        L = np.zeros((len(levels) - 1, len(names)))
        for r, j in enumerate(slope_idx[1:]):
            L[r, j] = 1.0
            L[r, slope_idx[0]] = -1.0
        d = L @ beta
        stat = float(d @ np.linalg.solve(L @ vcov @ L.T, d))
        test = pd.DataFrame([{"test": "wald", "statistic": stat, "df": float(len(levels) - 1),
                              "p_value": float(stats.chi2.sf(stat, len(levels) - 1)),
                              "method": f"Wald chi-square test that every {between} has the same growth rate"}])
    else:
        test = pd.DataFrame([{"test": "wald", "statistic": np.nan, "df": 0.0, "p_value": np.nan,
                              "method": f"only one {between}: no comparison"}])

    cov_re = np.asarray(result.cov_re)
    sd_int = float(np.sqrt(cov_re[0, 0]))
    sd_slope = float(np.sqrt(cov_re[1, 1])) if used_slope else np.nan
    corr = float(cov_re[0, 1] / (sd_int * sd_slope)) if used_slope and sd_int > 0 and sd_slope > 0 else np.nan
    fit_statistics = pd.DataFrame([{
        "model": "LMM (REML) of log " + dv, "n": int(len(frame)), "n_accounts": int(frame["_subject"].nunique()),
        "n_groups": len(levels), "n_dropped": n_drop, "n_groups_dropped": len(flat), "random_slope": used_slope,
        "converged": bool(ok), "reml_loglik": float(result.llf), "sd_intercept": sd_int, "sd_slope": sd_slope,
        "corr_intercept_slope": corr, "residual_sd": float(np.sqrt(result.scale)), "time_unit": "year",
        "origin": origin}])
    settings = {"dv": dv, "time": time, "between": between, "subject": subject, "random_slope": random_slope,
                "confidence_level": confidence_level, "nan_policy": nan_policy}
    return GrowthModel(growth_rates=growth, baselines=baselines, test=test, fit_statistics=fit_statistics,
                       settings=settings, raw=result)
