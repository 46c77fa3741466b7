"""Stable output columns of the group-comparison tables.

Options change values, never columns: every function returns exactly the columns listed for its
family, in this order, with NaN where a column does not apply. tests/test_api.py checks this.
"""
from __future__ import annotations

import pandas as pd

#: One row per group (describe_groups).
DESCRIBE_COLUMNS: tuple[str, ...] = (
    "dv", "between", "group", "n", "n_dropped",
    "mean", "mean_ci_low", "mean_ci_high",
    "median", "median_ci_low", "median_ci_high",
    "sd", "q1", "q3", "iqr", "min", "max", "share_zero", "skewness",
    "ci_method", "confidence_level", "n_resamples",
)

#: One row per omnibus test (anova, welch_anova, kruskal, permutation_omnibus); stackable.
OMNIBUS_COLUMNS: tuple[str, ...] = (
    "test", "dv", "between", "statistic", "df_between", "df_within", "p_value",
    "ss_between", "ss_within",
    "effect_size", "effect_size_type", "ci_low", "ci_high",
    "omega_squared", "omega_squared_ci_low", "omega_squared_ci_high",
    "confidence_level", "n", "n_groups", "n_dropped", "alternative", "method",
)

#: One row per two-group test (welch_ttest, mann_whitney, brunner_munzel).
TWO_GROUP_COLUMNS: tuple[str, ...] = (
    "test", "dv", "between", "group_a", "group_b", "n_a", "n_b",
    "estimate", "estimate_type", "estimate_ci_low", "estimate_ci_high",
    "statistic", "df", "p_value",
    "effect_size", "effect_size_type", "ci_low", "ci_high",
    "confidence_level", "n", "n_dropped", "alternative", "method",
)

#: One row per pair of groups (pairwise).
PAIRWISE_COLUMNS: tuple[str, ...] = (
    "test", "dv", "between", "group_a", "group_b", "n_a", "n_b",
    "estimate", "estimate_type", "estimate_ci_low", "estimate_ci_high",
    "statistic", "df", "p_value", "p_adjusted", "p_adjust",
    "effect_size", "effect_size_type", "ci_low", "ci_high",
    "confidence_level", "n", "n_dropped", "alternative", "method",
)

#: One row per effect size (effect_sizes).
EFFECT_SIZE_COLUMNS: tuple[str, ...] = (
    "dv", "between", "group_a", "group_b", "effect_size_type", "effect_size", "ci_low", "ci_high",
    "ci_method", "confidence_level", "n_a", "n_b", "n_dropped",
)


def frame(rows: list[dict], columns: tuple[str, ...]) -> pd.DataFrame:
    """Build a result table with exactly ``columns`` (missing keys become NaN; extra keys are an error)."""
    extra = {key for row in rows for key in row} - set(columns)
    if extra:
        raise KeyError(f"internal: result columns {sorted(extra)} are not in the documented schema")
    return pd.DataFrame([{c: row.get(c, float("nan")) for c in columns} for row in rows],
                        columns=list(columns)).reset_index(drop=True)
