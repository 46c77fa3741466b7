"""Group comparisons: descriptive estimates, omnibus tests, two-group tests, post-hoc contrasts,
effect sizes and the resampling engine behind them. Public names are re-exported from ``toolkit``."""
