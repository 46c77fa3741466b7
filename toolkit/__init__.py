"""Engagement Toolkit: which departments achieve better social-media engagement?

``import toolkit as tk`` gives the public API below. Names are resolved lazily (on first
use) so that importing the package stays cheap and free of side effects: no I/O, no logging
set-up, no plotting-style changes.
"""
from __future__ import annotations

import importlib

__version__ = "0.1.0"

# public name -> module that defines it. This table *is* the public API; tests/test_api.py
# checks that every entry resolves and is documented.
_EXPORTS: dict[str, str] = {
    # data in
    "read_posts": "toolkit.data.posts",
    "QualityReport": "toolkit.data.quality",
    "load_dataset": "toolkit.data.registry",
    "list_datasets": "toolkit.data.registry",
    "to_long": "toolkit.data.reshape",
    "to_wide": "toolkit.data.reshape",
    "list_profiles": "toolkit.data.profiles",
    "assign_departments": "toolkit.data.org_chart",
    "check_engagement": "toolkit.data.checks",
    # beyond one machine: account-level reduction, the same on Dask
    "aggregate_posts": "toolkit.aggregate",
    "read_posts_dask": "toolkit.data.dask_reading",
    "add_metrics_dask": "toolkit.distributed",
    "summarize_metrics_dask": "toolkit.distributed",
    "aggregate_posts_dask": "toolkit.distributed",
    # metrics and simulation
    "add_metrics": "toolkit.metrics",
    "summarize_metrics": "toolkit.metrics",
    "metrics_report": "toolkit.metrics",
    "simulate_organization": "toolkit.simulation",
    # comparing groups
    "describe_groups": "toolkit.stats.describe",
    "anova": "toolkit.stats.omnibus",
    "welch_anova": "toolkit.stats.omnibus",
    "kruskal": "toolkit.stats.omnibus",
    "permutation_omnibus": "toolkit.stats.permutation",
    "welch_ttest": "toolkit.stats.twogroup",
    "mann_whitney": "toolkit.stats.twogroup",
    "brunner_munzel": "toolkit.stats.twogroup",
    "effect_sizes": "toolkit.stats.effect_sizes",
    "pairwise": "toolkit.stats.pairwise",
    "adjust_pvalues": "toolkit.stats.multitest",
    "compare_groups": "toolkit.compare",
    "cluster_level_comparison": "toolkit.stats.cluster",
    "accounts_per_group": "toolkit.stats.cluster",
    # count and multilevel models
    "fit_engagement_model": "toolkit.models",
    "EngagementModel": "toolkit.models",
    "nesting_summary": "toolkit.models",
    "account_level": "toolkit.models",
    "overdispersion_test": "toolkit.models",
    "rootogram": "toolkit.models",
    "zero_check": "toolkit.models",
    "quantile_residuals": "toolkit.models",
    "recommend_model": "toolkit.models",
    "term_tests": "toolkit.models",
    "emmeans": "toolkit.models",
    "MarginalMeans": "toolkit.models",
    # audience growth (account-level panels)
    "fit_growth_model": "toolkit.models.growth",
    "GrowthModel": "toolkit.models.growth",
    # robustness and study design
    "specification_curve": "toolkit.robustness",
    "specification_test": "toolkit.robustness",
    "plot_specification_curve": "toolkit.plots",
    "power_welch_anova": "toolkit.power",
    "power_kruskal": "toolkit.power",
    "power_two_rates": "toolkit.power",
    "simulate_power": "toolkit.power",
    "power_curve": "toolkit.power",
    "sample_size": "toolkit.power",
    "power_explorer": "toolkit.widgets",
    # pre-registered hypothesis plans
    "load_plan": "toolkit.plans",
    "run_plan": "toolkit.plans",
    # surveys of practitioners
    "proportions": "toolkit.survey",
    "proportion_ci": "toolkit.survey",
    "goodness_of_fit": "toolkit.survey",
    "compare_polls": "toolkit.survey",
    "multiple_response": "toolkit.survey",
    "compare_options": "toolkit.survey",
    "likert": "toolkit.survey",
    "likert_compare": "toolkit.survey",
    "precision_table": "toolkit.survey",
    "sample_size_for_margin": "toolkit.survey",
    "sample_size_for_difference": "toolkit.survey",
    # seeing it
    "explore": "toolkit.widgets",
    "mapping_assistant": "toolkit.widgets",
    "suggest_mapping": "toolkit.widgets",
    # reporting
    "report": "toolkit.reporting",
    "session_info": "toolkit.reporting",
    "compact_letter_display": "toolkit.display",
    "ToolkitWarning": "toolkit._validation",
    "ToolkitDeprecationWarning": "toolkit._validation",
    # tutorials: exercise checks that fail until the answer is filled in
    "check_answer": "toolkit.exercises",
}

# Sub-modules reachable as attributes (tk.data, tk.stats, ...).
_SUBMODULES = {"data", "stats", "metrics", "simulation", "reporting", "config", "models", "plots", "widgets",
               "survey", "plans", "compare", "headlines", "aggregate", "distributed", "robustness",
               "power", "display", "exercises"}

__all__ = sorted(_EXPORTS) + ["__version__"]


def __getattr__(name: str):
    if name in _EXPORTS:
        module = importlib.import_module(_EXPORTS[name])
        value = getattr(module, name)
        globals()[name] = value
        return value
    if name in _SUBMODULES:
        module = importlib.import_module(f"toolkit.{name}")
        globals()[name] = module
        return module
    raise AttributeError(f"module 'toolkit' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_EXPORTS) | _SUBMODULES)
