"""The result object of :func:`toolkit.models.fit_engagement_model`."""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import pandas as pd

from .._protocol import AnswerFirst


@dataclass(frozen=True, repr=False)
class EngagementModel(AnswerFirst):
    """A fitted count model of engagement (GLM or random-intercept GLMM).

    Attributes
    ----------
    coefficients : DataFrame
        term, estimate, std_error, statistic, p_value, ci_low, ci_high (log scale, Wald z).
    rate_ratios : DataFrame
        term, group, reference, rate_ratio, ci_low, ci_high, statistic, p_value, confidence_level:
        each level of `between` against the reference level.
    contrasts : DataFrame
        group_a, group_b, rate_ratio (a / b), std_error, ci_low, ci_high, statistic, p_value,
        p_adjusted, p_adjust, confidence_level: all pairs of levels.
    emmeans : DataFrame
        group, rate, std_error, ci_low, ci_high, log_rate, log_std_error, exposure_at, unit,
        confidence_level: estimated marginal mean count per level at a stated exposure.
    test : DataFrame
        test, statistic, df, p_value, method. Row 0 is the test of `between` (likelihood ratio, or a
        cluster-robust Wald test); NB GLMs add a row ``overdispersion`` (NB versus Poisson, boundary-aware).
    fit_statistics : DataFrame
        One row: model, family, n, n_groups, n_dropped, loglik, aic, bic, theta, random_intercept_sd,
        cov_type, converged, iterations.
    loglik : float
        Maximised (Laplace-approximated for the GLMM) log-likelihood.
    settings : dict
        The call's options (dv, between, exposure, covar, subject, family, ...).
    raw : dict
        Underlying fit results for experts (beta, vcov, theta, modes, Hessian, design).
    random_effects : DataFrame
        term, n_groups, sd, corr: one row per random-effect SD of a GLMM (empty for a GLM): ``g`` for the
        intercept per g, ``x|g`` for the slope of x per g; ``corr`` is the intercept-slope correlation of a
        ``(1 + x|g)`` term (on both its rows), NaN for other terms.
    terms : DataFrame
        term, test, type, statistic, df, p_value, method: one test per model term (computed on first access).
        Likelihood-ratio tests, type II (each term against the model without it and without the terms that
        contain it); with ``cov_type="cluster"`` CR2 Wald (HTZ) tests. Other kinds:
        :func:`toolkit.models.term_tests`.
    """

    coefficients: pd.DataFrame
    rate_ratios: pd.DataFrame
    contrasts: pd.DataFrame
    emmeans: pd.DataFrame
    test: pd.DataFrame
    fit_statistics: pd.DataFrame
    loglik: float
    settings: dict = field(default_factory=dict)
    raw: Any = field(default=None, repr=False, compare=False)
    random_effects: pd.DataFrame | None = field(default=None, repr=False, compare=False)

    @cached_property
    def terms(self) -> pd.DataFrame:
        """One test per model term (see the class docstring); computed once, on first access."""
        from .terms import term_tests
        test = "wald" if self.settings.get("cov_type") == "cluster" else "likelihood_ratio"
        return term_tests(self, test=test, type="II")

    def to_frame(self) -> pd.DataFrame:
        """The coefficient table (tidy, one row per term)."""
        return self.coefficients.copy()
