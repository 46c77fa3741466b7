"""Benchmark: simulation-based power (toolkit.power.simulate_power) against a statsmodels path.

Run from the project root (not a test):
    OPENBLAS_NUM_THREADS=1 .venv/bin/python benchmarks/bench_power.py [--replicates 1000] [--peer-replicates 200]

Design (SIMULATED, toolkit.simulate_organization): 8 departments x 10 accounts x 50 posts (Poisson),
rate ratio 1.3 of the focus department, random-intercept SD 0.3, NB2 dispersion 0.8, comments per reach
0.003. For each analysis, `simulate_power(..., n_replicates=R, n_jobs=2)` is timed end to end
(simulation + fits + summary). The peer is the same replicates (same SeedSequence children, same
simulated data) fitted with statsmodels' formula path, ``smf.negativebinomial`` (NB2 by ML, the
statsmodels counterpart of our NB GLM; statsmodels has no NB GLMM, so the GLMM has no peer), in a pool
of 2 processes, on the first `--peer-replicates` replicates; its time is scaled to R replicates (stated
in the table). The estimates of both paths are compared replicate by replicate.
Prints a Markdown table and writes it as the section "Simulation-based power" of reports/benchmarks.md.
"""
from __future__ import annotations

import argparse
import sys
import time
import warnings
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from _report import write_section  # noqa: E402
from toolkit import power  # noqa: E402
from toolkit.simulation import simulate_organization  # noqa: E402

DESIGN = dict(rate_ratio=1.3, n_accounts_per_department=10, n_departments=8, posts_per_account=50,
              random_effect_sd=0.3, dispersion=0.8, base_rate=0.003)
SEED = 20261121


def _settings():
    sizes = power._sizes(DESIGN["n_accounts_per_department"], DESIGN["n_departments"], "bench")
    return dict(sizes=sizes, focus=list(sizes)[-1], reference=list(sizes)[0], rate_ratio=DESIGN["rate_ratio"],
                posts_per_account=float(DESIGN["posts_per_account"]), posts_distribution="poisson",
                base_rate=DESIGN["base_rate"], dispersion=DESIGN["dispersion"],
                random_effect_sd=DESIGN["random_effect_sd"], analyses=())


def _children(R):
    # the same children simulate_power(seed=SEED) spawns
    rng = np.random.default_rng(SEED)
    return np.random.SeedSequence(int(rng.integers(0, 2 ** 63 - 1))).spawn(R)


def _peer_one(args):
    child, analysis = args
    import statsmodels.formula.api as smf
    s = _settings()
    sim = simulate_organization(**power._design(s), seed=np.random.default_rng(child))
    d = sim.data[["account", "department", "comments", "reach"]].copy()
    d["department"] = pd.Categorical(d["department"].astype(str),
                                     categories=list(s["sizes"]))  # reference first
    if analysis == "account_level":
        d = d.groupby("account", observed=True).agg(department=("department", "first"),
                                                    comments=("comments", "sum"), reach=("reach", "sum"))
        d["department"] = pd.Categorical(d["department"].astype(str), categories=list(s["sizes"]))
    d["log_reach"] = np.log(d["reach"].astype(float))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = smf.negativebinomial("comments ~ department", data=d, offset=d["log_reach"]).fit(disp=0, maxiter=200)
    name = f"department[T.{s['focus']}]"
    return float(fit.params[name])


def _ours_estimates(children, analysis):
    s = _settings()
    s["analyses"] = (analysis,)
    power._init(s)
    try:
        return np.array([power._one_replicate(c)[0][0] for c in children])
    finally:
        power._STATE.clear()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--replicates", type=int, default=1000)
    ap.add_argument("--peer-replicates", type=int, default=200)
    ap.add_argument("--n-jobs", type=int, default=2)
    args = ap.parse_args()
    R, P = args.replicates, min(args.peer_replicates, args.replicates)
    rows = []
    for analysis in ("negbin_glmm", "account_level", "negbin_glm"):
        t0 = time.perf_counter()
        res = power.simulate_power(**DESIGN, analysis=analysis, n_replicates=R, seed=SEED, n_jobs=args.n_jobs)
        ours = time.perf_counter() - t0
        row = {"analysis": analysis, "replicates": R, "toolkit_s": ours, "power": res["power"].iloc[0],
               "mc_se": res["mc_se"].iloc[0], "failed": int(res["n_failed"].iloc[0])}
        if analysis != "negbin_glmm":
            children = _children(P)
            t0 = time.perf_counter()
            with ProcessPoolExecutor(max_workers=args.n_jobs) as ex:
                peer_est = np.array(list(ex.map(_peer_one, [(c, analysis) for c in children], chunksize=4)))
            peer = (time.perf_counter() - t0) * R / P
            ours_est = _ours_estimates(children[:20], analysis)
            row.update(peer_s=peer, ratio=peer / ours,
                       max_abs_diff_log_rr=float(np.nanmax(np.abs(ours_est - peer_est[:20]))))
        else:
            row.update(peer_s=np.nan, ratio=np.nan, max_abs_diff_log_rr=np.nan)
        rows.append(row)
        print(row, flush=True)
    table = pd.DataFrame(rows)
    lines = ["## bench_power.py: simulated power, 8 departments x 10 accounts x 50 posts", "",
             f"{R} replicates on {args.n_jobs} processes; statsmodels (smf.negativebinomial) timed on {P} of "
             f"the same replicates and scaled to {R}; estimates compared on {min(20, P)} replicates.", "",
             "| analysis | replicates | toolkit (s) | statsmodels (s, scaled) | statsmodels / toolkit | power | MC SE "
             "| failed fits | max abs diff log RR |", "|---|---|---|---|---|---|---|---|---|"]
    for r in table.itertuples():
        lines.append(f"| {r.analysis} | {r.replicates} | {r.toolkit_s:.1f} | "
                     f"{'n/a (no NB GLMM)' if np.isnan(r.peer_s) else f'{r.peer_s:.1f}'} | "
                     f"{'' if np.isnan(r.ratio) else f'{r.ratio:.1f}x'} | {r.power:.3f} | {r.mc_se:.3f} | "
                     f"{r.failed} | {'' if np.isnan(r.max_abs_diff_log_rr) else f'{r.max_abs_diff_log_rr:.1e}'} |")
    text = "\n".join(lines)
    print(text)
    write_section("Simulation-based power", text)


if __name__ == "__main__":
    main()
