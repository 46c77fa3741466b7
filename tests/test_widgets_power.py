"""toolkit.widgets.power_explorer: set sliders in code, compute, compare with the direct call."""
from __future__ import annotations

import pandas as pd
import pytest

from toolkit.power import simulate_power

pytest.importorskip("ipywidgets")
from toolkit.widgets import power_explorer  # noqa: E402


def test_compute_equals_direct_call_and_is_on_demand():
    ex = power_explorer(n_replicates=12, posts_per_account=5, seed=3)
    assert ex.result is None  # nothing computed before Compute
    ex.controls["n_accounts_per_department"].value = 4
    ex.controls["rate_ratio"].value = 1.5
    ex.controls["analysis"].value = "negbin_glmm"
    assert ex.result is None
    p = ex.params
    assert p["n_accounts_per_department"] == 4 and p["analysis"] == "negbin_glmm" and p["n_replicates"] == 12
    got = ex.compute()
    pd.testing.assert_frame_equal(got, simulate_power(**p))
    assert ex.progress.value == ex.progress.max == 12 and ex.progress.bar_style == "success"
    assert "12 / 12 replicates" in ex.progress_text.value
    ex.button.click()
    pd.testing.assert_frame_equal(ex.result, got)
    assert "power" in ex.output.outputs[-1]["text"] and ex.error is None
    import toolkit.power

    assert toolkit.power._run_replicates.__name__ == "_run_replicates"  # the progress hook is removed again


def test_changed_sliders_mark_the_result_stale():
    ex = power_explorer(n_replicates=4, posts_per_account=5, seed=3)
    ex.compute()
    assert not ex.stale
    ex.controls["rate_ratio"].value = 2.0
    assert ex.stale and "Settings changed" in ex.output.outputs[-1]["text"]
    ex.compute()
    assert not ex.stale and ex.result["rate_ratio"].iloc[0] == 2.0


def test_errors():
    with pytest.raises(ValueError, match=r"power_explorer: `analysis` must be one of"):
        power_explorer(analysis="glmm")
    with pytest.raises(ValueError, match=r"power_explorer: `n_replicates` must be an integer >= 2"):
        power_explorer(n_replicates=1)
