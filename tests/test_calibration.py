"""Calibration of the default department comparison with few accounts per department (SIMULATED nulls).

A small version of ``benchmarks/bench_calibration.py`` that ``make test`` runs: with no department
differences, ``tk.compare_groups(..., subject="account", exposure="reach")`` must call a difference
significant in about alpha = 5% of studies, where the old default (NB GLMM likelihood-ratio test) did so
in 17-31% (4 departments x 2 accounts) and 12-15% (3 x 3). With one account per department there must be
no department-level p-value at all, and the result must say why.

The bound. Each cell has R = 200 null replicates; a calibrated method (true rate <= 0.05) gives at most
Binomial(200, 0.05) rejections (mean 10, SD 3.1). We require <= 20 rejections (rate <= 0.10) in each
cell and <= 32 of the 400 pooled (rate <= 0.08):

* a calibrated method fails a cell with probability P(Bin(200, .05) > 20) = 0.0012 and the pooled
  check with P(Bin(400, .05) > 32) = 0.0038, so the whole test with probability < 0.006 (for a seed
  chosen at random; the seeds here are fixed, so the test is deterministic);
* the GLMM at its reported rates passes the 4 x 2 cell with probability P(Bin(200, .17) <= 20) = 0.004
  and the pooled check (rate about (0.17 + 0.12) / 2 = 0.145) with P(Bin(400, .145) <= 32) = 5e-5.

"FPR <= 0.075 + 2 MC SE" would allow 0.075 + 2 x 0.019 = 0.11 per cell: a method at 0.12 would pass
with probability ~0.3, so the tighter bound above is used.
"""
from __future__ import annotations

import warnings

import numpy as np
import pytest

import toolkit as tk

ALPHA = 0.05
R = 200
CELL_MAX = 20      # rejections out of 200 per cell (rate 0.10)
POOLED_MAX = 32    # rejections out of 400 (rate 0.08)
DEPARTMENTS = ["Social media team", "Marketing", "PR", "Customer service"]
NULL = dict(rate_ratios="null", content_effects="null", paid_rate_ratio=1.0, mixed_share=0.0, paid_probability=0.1,
            dispersion=0.8, random_effect_sd=0.5, random_effect_distribution="t", random_effect_df=4,
            posts_per_account=20, posts_distribution="lognormal")


def _seeds(cell: int, n: int) -> list[int]:
    child = np.random.SeedSequence(20261206).spawn(3)[cell]
    return [int(c.generate_state(1)[0]) for c in child.spawn(n)]


def _null_rejections(k: int, m: int, cell: int) -> int:
    hits = 0
    for seed in _seeds(cell, R):
        sim = tk.simulate_organization(n_accounts_per_department=m, departments=DEPARTMENTS[:k], seed=seed, **NULL)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", tk.ToolkitWarning)
            res = tk.compare_groups(sim.data, dv="comments", between="department", subject="account",
                                    exposure="reach", seed=seed)
        assert res.analysis == "cluster_level" and res.identifiable
        hits += int(res.omnibus["p_value"].iloc[0] < ALPHA)
    return hits


@pytest.fixture(scope="module")
def rejections():
    return {"4x2": _null_rejections(4, 2, 0), "3x3": _null_rejections(3, 3, 1)}


@pytest.mark.slow
@pytest.mark.parametrize("cell", ["4x2", "3x3"])
def test_false_positive_rate_per_cell(rejections, cell):
    assert rejections[cell] <= CELL_MAX, f"{cell}: {rejections[cell]}/{R} null rejections at alpha={ALPHA}"


@pytest.mark.slow
def test_false_positive_rate_pooled(rejections):
    total = sum(rejections.values())
    assert total <= POOLED_MAX, f"{total}/{2 * R} null rejections at alpha={ALPHA}"


@pytest.mark.parametrize("seed", _seeds(2, 3))
def test_one_account_per_department_has_no_department_test(seed):
    sim = tk.simulate_organization(n_accounts_per_department=1, departments=DEPARTMENTS, seed=seed, **NULL)
    with pytest.warns(tk.ToolkitWarning, match="single account"):
        res = tk.compare_groups(sim.data, dv="comments", between="department", subject="account",
                                exposure="reach", seed=seed)
    assert res.identifiable is False
    assert res.analysis != "cluster_level"  # what is returned compares the accounts, not departments
    statement = res.reasons[0]
    assert "cannot be told apart" in statement and "there is no department-level test" in statement
    assert res.unit == f"post (describes these {len(DEPARTMENTS)} accounts only)"
    # whatever p-value there is belongs to the accounts: its test is labelled by the account column
    assert (res.omnibus["between"] == "account").all()


# Found by benchmarks/bench_calibration.py (2 x 1, NB, t(4), seed 2468844620): an account without any comments
# made the posts-as-units count model singular (LinAlgError) before toolkit/models/separation.py.
def test_one_account_per_department_with_a_zero_event_account():
    sim = tk.simulate_organization(n_accounts_per_department=1, departments=DEPARTMENTS[:2], seed=2468844620,
                                   **{**NULL, "posts_per_account": 30})
    assert sim.data.groupby("account", observed=True)["comments"].sum().min() == 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", tk.ToolkitWarning)
        res = tk.compare_groups(sim.data, dv="comments", between="department", subject="account", exposure="reach",
                                seed=1)
    assert res.identifiable is False


# The other m = 1 failures of the first full run (bench_calibration.py, 4,800 calls, 5 raised): two accounts without
# comments (a singular profile fit) and a profile deviance that fell in the far tail (a non-converged NB fit).
@pytest.mark.parametrize("k,dispersion,effects,seed", [(2, 0.8, "normal", 2477596915), (4, 0.0, "t", 3031980063),
                                                        (8, 0.8, "t", 3080274305)])
def test_one_account_per_department_regressions(k, dispersion, effects, seed):
    departments = ["Social media team", "Marketing", "PR", "Customer service", "Management", "IT", "HR", "Sales"][:k]
    sim = tk.simulate_organization(n_accounts_per_department=1, departments=departments, dispersion=dispersion,
                                   random_effect_distribution=effects, random_effect_df=4, seed=seed,
                                   posts_per_account=30, posts_distribution="lognormal", random_effect_sd=0.5,
                                   rate_ratios="null", content_effects="null", paid_rate_ratio=1.0, mixed_share=0.0,
                                   paid_probability=0.1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", tk.ToolkitWarning)
        res = tk.compare_groups(sim.data, dv="comments", between="department", subject="account", exposure="reach",
                                seed=1)
    assert res.identifiable is False and "cannot be told apart" in res.reasons[0]
    zero = res.pairwise["method"].str.startswith("profile likelihood")
    rows = res.pairwise[zero]
    # every contrast involving a zero-event account has a p-value, except two zero-event accounts with each other
    both_zero = rows["estimate"].isna()
    assert zero.any() and np.isfinite(rows.loc[~both_zero, "p_value"]).all()
    assert rows.loc[both_zero, "p_value"].isna().all()
