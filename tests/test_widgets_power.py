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
    ex.button.click()
    pd.testing.assert_frame_equal(ex.result, got)
    assert "power" in ex.output.outputs[-1]["text"] and ex.error is None


def test_errors():
    with pytest.raises(ValueError, match=r"power_explorer: `analysis` must be one of"):
        power_explorer(analysis="glmm")
    with pytest.raises(ValueError, match=r"power_explorer: `n_replicates` must be an integer >= 2"):
        power_explorer(n_replicates=1)
