"""Benchmark: the department comparison with many departments (100 and 500), against the minimum work.

Run from the project root (not a test):
    OPENBLAS_NUM_THREADS=1 .venv/bin/python benchmarks/bench_many_groups.py

SIMULATED posts (seed 20261205): K departments x 2 accounts x 20 posts, Poisson comments with reach exposure
and account effects (SD 0.5), no department effect. Timed, each as the best of 3 runs in this process:

* ``tk.compare_groups(..., subject="account", exposure="reach")``: the default cluster-level analysis
  (K > 20: each department against the grand mean, plus the permutation test with 9,999 assignments);
* ``tk.compare_groups(..., subject="account")``: account means (a permutation test; no all-pairs table above
  20 groups);
* the peer: ``scipy.stats.f_oneway`` on the same account log rates after a pandas groupby (the F statistic
  alone, no permutation, no contrasts), the least any tool must do;
* the old default (``analysis="count_model"``: the NB GLMM with all K(K-1)/2 Wald contrasts), at K = 100 only.

Prints the seconds and the ratios to the peer, and writes the section "Many departments" of
reports/benchmarks.md.
"""
from __future__ import annotations

import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))
import toolkit as tk  # noqa: E402
from _report import write_section  # noqa: E402

SEED = 20261205


def simulate(k, *, accounts=2, posts=20, seed=SEED):
    rng = np.random.default_rng(seed)
    n = k * accounts * posts
    dept = np.repeat([f"D{d:03d}" for d in range(k)], accounts * posts)
    account = np.repeat([f"D{d:03d}-a{a}" for d in range(k) for a in range(accounts)], posts)
    u = np.repeat(rng.normal(0, 0.5, k * accounts), posts)
    reach = rng.lognormal(7, 1, n)
    return pd.DataFrame({"department": dept, "account": account, "reach": reach,
                         "comments": rng.poisson(0.003 * reach * np.exp(u))})


def best_of(fn, repeat=3):
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def peer(data):
    g = data.groupby("account").agg(y=("comments", "sum"), e=("reach", "sum"), d=("department", "first"))
    l = np.log((g["y"] + 0.5) / g["e"])
    return stats.f_oneway(*[v.to_numpy() for _, v in l.groupby(g["d"])])


def main():
    warnings.simplefilter("ignore", tk.ToolkitWarning)
    rows = []
    for k in (100, 500):
        data = simulate(k)
        t_peer = best_of(lambda: peer(data))
        t_default = best_of(lambda: tk.compare_groups(data, dv="comments", between="department", subject="account",
                                                      exposure="reach", seed=1))
        t_means = best_of(lambda: tk.compare_groups(data, dv="comments", between="department", subject="account",
                                                    seed=1))
        res = tk.compare_groups(data, dv="comments", between="department", subject="account", exposure="reach",
                                seed=1)
        rows.append((k, len(data), "compare_groups default (cluster-level)", t_default, t_default / t_peer,
                     f"{len(res.pairwise)} contrasts vs the grand mean"))
        rows.append((k, len(data), "compare_groups account means", t_means, t_means / t_peer, "omnibus only"))
        rows.append((k, len(data), "peer: scipy f_oneway on account log rates", t_peer, 1.0, "F only"))
        if k == 100:
            t_glmm = best_of(lambda: tk.compare_groups(data, dv="comments", between="department", subject="account",
                                                       exposure="reach", analysis="count_model", seed=1), repeat=1)
            rows.append((k, len(data), "old default: NB GLMM, all pairs", t_glmm, t_glmm / t_peer,
                         f"{k * (k - 1) // 2} Wald contrasts"))
        for r in rows[-4 if k == 100 else -3:]:
            print(f"K={r[0]:4d} posts={r[1]:6d} {r[2]:45s} {r[3]:8.3f} s  {r[4]:8.1f} x peer  ({r[5]})", flush=True)
    table = ["| departments | posts | what | seconds (best of 3) | ratio to peer | output |", "|---|---|---|---|---|---|"]
    table += [f"| {k} | {n:,} | {what} | {t:.3f} | {ratio:.1f} | {out} |" for k, n, what, t, ratio, out in rows]
    text = ("`benchmarks/bench_many_groups.py`: SIMULATED posts (seed 20261205), 2 accounts x 20 posts per "
            "department, no department effect; timed in one process on this machine.\n\n" + "\n".join(table))
    print(text)
    write_section("Many departments", text)


if __name__ == "__main__":
    main()
