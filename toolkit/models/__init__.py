"""Count and multilevel models of engagement (posts nested in accounts nested in departments).

Public functions: :func:`fit_engagement_model` (GLM / GLMM front door, keyword or lme4-style formula API) with
its result :class:`EngagementModel`; :func:`term_tests` (tests per term) and :func:`emmeans` (marginal means and
contrasts within levels of other factors, :class:`MarginalMeans`); :func:`nesting_summary` and :func:`account_level` (nesting);
:func:`overdispersion_test`, :func:`zero_check`, :func:`rootogram`, :func:`quantile_residuals`,
:func:`recommend_model` (diagnostics).
"""
from __future__ import annotations

from .diagnostics import (Recommendation, overdispersion_test, quantile_residuals, recommend_model, rootogram,
                          zero_check)
from .emmeans import MarginalMeans, emmeans
from .fit import fit_engagement_model
from .nesting import account_level, nesting_summary
from .results import EngagementModel
from .terms import term_tests

__all__ = ["fit_engagement_model", "EngagementModel", "nesting_summary", "account_level", "overdispersion_test",
           "rootogram", "zero_check", "quantile_residuals", "recommend_model", "Recommendation", "emmeans",
           "MarginalMeans", "term_tests"]
