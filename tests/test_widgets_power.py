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
    """progress= only observes the loops: the tables are identical with and without it."""
    import toolkit as tk
    from toolkit import power, robustness

    seen = []
    kwargs = dict(rate_ratio=1.5, n_accounts_per_department=3, posts_per_account=5, n_replicates=45, seed=2)
    direct = simulate_power(**kwargs, n_jobs=1)
    got = simulate_power(**kwargs, n_jobs=1, progress=lambda done, total, what: seen.append((done, total, what)))
    pd.testing.assert_frame_equal(got, direct)
    assert seen[0] == (0, 45, "simulated replicates") and seen[-1] == (45, 45, "simulated replicates")
    assert [d for d, _, _ in seen] == list(range(46))
    seen.clear()
    pd.testing.assert_frame_equal(simulate_power(**kwargs, n_jobs=2, progress=lambda *a: seen.append(a)), direct)
    assert seen[-1] == (45, 45, "simulated replicates") and len(seen) == 46

    # power_curve (and sample_size through it): one count over the replicates of every grid point
    seen.clear()
    curve_kwargs = dict(parameter="n_accounts_per_department", values=[2, 3], rate_ratio=1.5, posts_per_account=5,
                        n_replicates=6, seed=4, n_jobs=1)
    direct = power.power_curve(**curve_kwargs)
    got = power.power_curve(**curve_kwargs, progress=lambda *a: seen.append(a))
    pd.testing.assert_frame_equal(got, direct)
    assert [d for d, _, _ in seen] == sorted(d for d, _, _ in seen) and seen[-1][:2] == (12, 12)
    assert {t for _, t, _ in seen} == {12}

    sim = tk.simulate_organization(n_accounts_per_department=3, posts_per_account=10, seed=3,
                                   departments=["Marketing", "PR"], mixed_share=0.0)
    spec = dict(between="department", contrast=("PR", "Marketing"), outcomes=("likes", "comments"),
                denominators=("reach",), analyses=("welch_log_ratio", "negbin_glm"), units=("post",), exclusions=("none",))
    seen.clear()
    direct = robustness.specification_curve(sim.data, **spec, n_jobs=2)
    got = robustness.specification_curve(sim.data, **spec, n_jobs=2, progress=lambda *a: seen.append(a))
    pd.testing.assert_frame_equal(got, direct)
    assert seen[0] == (0, 4, "specifications") and seen[-1] == (4, 4, "specifications")

    seen.clear()
    direct = robustness.specification_test(sim.data, **spec, n_resamples=9, seed=1, n_jobs=1)
    got = robustness.specification_test(sim.data, **spec, n_resamples=9, seed=1, n_jobs=1,
                                        progress=lambda *a: seen.append(a))
    pd.testing.assert_frame_equal(got.tests, direct.tests)
    pd.testing.assert_frame_equal(got.null, direct.null)
    assert (4, 4, "specifications") in seen and seen[-1] == (9, 9, "null curves")


def test_progress_true_shows_a_tqdm_bar_and_bad_values_are_refused(capsys):
    kwargs = dict(rate_ratio=1.5, n_accounts_per_department=3, posts_per_account=5, n_replicates=5, seed=2, n_jobs=1)
    pd.testing.assert_frame_equal(simulate_power(**kwargs, progress=True), simulate_power(**kwargs))
    err = capsys.readouterr().err  # tqdm.auto outside Jupyter: a text bar on stderr
    assert "simulated replicates" in err and "5/5" in err
    with pytest.raises(TypeError, match=r"simulate_power: `progress` must be True, False or a callable"):
        simulate_power(**kwargs, progress="yes")
