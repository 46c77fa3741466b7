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
    assert "12 / 12 simulated replicates" in ex.progress_text.value
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


def test_progress_gives_identical_results_for_power_and_specification_curves():
    import toolkit as tk
    from toolkit import power, robustness
    from toolkit.widgets import progress

    seen = []
    kwargs = dict(rate_ratio=1.5, n_accounts_per_department=3, posts_per_account=5, n_replicates=45, seed=2)
    direct = simulate_power(**kwargs, n_jobs=1)
    with progress(callback=lambda done, total, what: seen.append((done, total, what))):
        got = simulate_power(**kwargs, n_jobs=1)
    pd.testing.assert_frame_equal(got, direct)
    steps = [s for s in seen if s[2] == "simulated replicates"]
    assert steps[0][:2] == (0, 45) and steps[-1][:2] == (45, 45) and len(steps) > 5
    assert [d for d, _, _ in steps] == sorted(d for d, _, _ in steps)

    sim = tk.simulate_organization(n_accounts_per_department=3, posts_per_account=10, seed=3,
                                   departments=["Marketing", "PR"], mixed_share=0.0)
    spec = dict(between="department", contrast=("PR", "Marketing"), outcomes=("likes", "comments"),
                denominators=("reach",), analyses=("welch", "negbin_glm"), units=("post",), exclusions=("none",))
    seen.clear()
    direct = robustness.specification_curve(sim.data, **spec, n_jobs=2)
    with progress(callback=lambda done, total, what: seen.append((done, total, what))):
        got = robustness.specification_curve(sim.data, **spec, n_jobs=2)
    pd.testing.assert_frame_equal(got, direct)
    assert seen and seen[-1][0] == seen[-1][1] and seen[-1][2] == "specification-curve tasks"
    # the hooks are removed again
    assert power._run_replicates.__name__ == "_run_replicates" and robustness._map.__name__ == "_map"
