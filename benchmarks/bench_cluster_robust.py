"""Benchmark: false-positive rate of the cluster-robust department test with few clusters, HC1 + chi2 vs CR2 + HTZ.

Run from the project root (not a test):
    OPENBLAS_NUM_THREADS=1 .venv/bin/python benchmarks/bench_cluster_robust.py                  # ~1-2 min
    OPENBLAS_NUM_THREADS=1 .venv/bin/python benchmarks/bench_cluster_robust.py --replicates 50   # smoke run

Question: when departments do NOT differ, how often does
``tk.models.fit_engagement_model(data, dv="comments", between="department", exposure="reach", subject="account",
cov_type="cluster")`` call the department effect significant at alpha = 0.05?

* **old**: the HC1 sandwich ``G/(G-1) (n-1)/(n-p)`` (:func:`toolkit.models.glm.cluster_vcov`) with a Wald chi-square
  test of the q = 3 department coefficients (what ``cov_type="cluster"`` did before), and a z test of one rate ratio;
* **new**: the CR2 sandwich with the HTZ F test (Pustejovsky & Tipton 2018) and a Satterthwaite t test of the same
  rate ratio (what ``cov_type="cluster"`` does now, :mod:`toolkit.models.robust`).

Both are computed from the same NB2 GLM fit of the same simulated data set in every replicate.

Design (SIMULATED, ``tk.simulate_organization``; NULL: ``rate_ratios="null", content_effects="null",
paid_rate_ratio=1.0, mixed_share=0.0``, otherwise the defaults: 40 posts per account on average, account random
effect SD 0.3 + type-specific 0.1, NB2 comments): 4 departments (Marketing, PR, Customer service, IT) x m accounts,
m = 2, 4, 8; replicate r of design m uses ``seed = 20261205 + 1000 m + r``. Reported per design: FPR with its
Monte-Carlo SE sqrt(p (1 - p) / R), the share of replicates in which the HTZ test has no p-value (denominator
df <= 0: counted as "not rejected"), the median HTZ denominator df, the rate-ratio (PR vs Marketing) FPRs, and the
seconds per fit (GLM fit + covariance + tests; simulation excluded; best of the replicate median on a shared
2-core machine).

Prints a Markdown table and writes it as the section "Cluster-robust tests with few clusters" of
reports/benchmarks.md (``benchmarks/_report.py``).
"""
from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np
from scipy import stats

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from _report import write_section  # noqa: E402
import toolkit as tk  # noqa: E402
from toolkit.models._design import build_design  # noqa: E402
from toolkit.models.glm import cluster_vcov, fit_glm  # noqa: E402
from toolkit.models.robust import cr2_vcov  # noqa: E402

DEPARTMENTS = ["Marketing", "PR", "Customer service", "IT"]
ACCOUNTS = (2, 4, 8)
ROOT_SEED = 20261205
ALPHA = 0.05


def one_replicate(m, rep):
    """p-values of the old and new department tests and rate-ratio tests, and their seconds."""
    sim = tk.simulate_organization(n_accounts_per_department=m, departments=DEPARTMENTS, rate_ratios="null",
                                   content_effects="null", paid_rate_ratio=1.0, mixed_share=0.0,
                                   seed=ROOT_SEED + 1000 * m + rep)
    D = build_design(sim.data, dv="comments", between="department", exposure="reach", subject="account")
    bc = D.between_columns
    t0 = time.perf_counter()
    fit = fit_glm(D.y, D.X, D.offset, "negbin")
    t1 = time.perf_counter()
    V1 = cluster_vcov(fit, D.groups)
    b = fit["beta"][bc]
    chi2 = float(b @ np.linalg.solve(V1[np.ix_(bc, bc)], b))
    p_old = float(stats.chi2.sf(chi2, len(bc)))
    p_old_rr = float(2 * stats.norm.sf(abs(b[0]) / np.sqrt(V1[bc[0], bc[0]])))
    t2 = time.perf_counter()
    cr = cr2_vcov(fit, D.X, D.y, D.groups)
    htz = cr.wald_htz(fit["beta"], np.eye(len(fit["beta"]))[bc])
    df_rr = float(cr.satterthwaite_df(np.eye(len(fit["beta"]))[bc[:1]])[0])
    p_new_rr = float(2 * stats.t.sf(abs(b[0]) / np.sqrt(cr.vcov[bc[0], bc[0]]), df_rr))
    t3 = time.perf_counter()
    return {"p_old": p_old, "p_new": htz["p_value"], "df_htz": htz["df_denom"], "p_old_rr": p_old_rr,
            "p_new_rr": p_new_rr, "s_old": (t1 - t0) + (t2 - t1), "s_new": (t1 - t0) + (t3 - t2)}


def fpr(p):
    """Rejection rate at ALPHA (NaN p-values count as not rejected) and its Monte-Carlo SE."""
    p = np.asarray(p, dtype=float)
    rate = float(np.mean(np.nan_to_num(p, nan=1.0) < ALPHA))
    return rate, float(np.sqrt(rate * (1 - rate) / p.size))


def main(replicates):
    rows = []
    for m in ACCOUNTS:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", tk.ToolkitWarning)
            res = [one_replicate(m, r) for r in range(replicates)]
        col = {k: np.array([r[k] for r in res]) for k in res[0]}
        rows.append((m, col))
    lines = [f"Null data, {replicates} replicates per design, alpha = {ALPHA}; FPR (Monte-Carlo SE). 4 departments x m "
             "accounts, NB2 GLM with exposure, clusters = accounts. Old: HC1 sandwich + Wald chi-square(3) / z; new: "
             "CR2 + HTZ F / Satterthwaite t (fit_engagement_model(cov_type=\"cluster\")).", "",
             "| accounts per dept (clusters) | posts (expected) | dept test old HC1 + chi2 | dept test new CR2 + HTZ "
             "| HTZ without p (df <= 0) | HTZ denominator df (median) | rate ratio old z | rate ratio new t(Satt) "
             "| s/fit old | s/fit new |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for m, c in rows:
        o, n, ro, rn = fpr(c["p_old"]), fpr(c["p_new"]), fpr(c["p_old_rr"]), fpr(c["p_new_rr"])
        n_posts = 40 * 4 * m
        lines.append(f"| {m} ({4 * m}) | ~{n_posts} | {o[0]:.3f} ({o[1]:.3f}) | {n[0]:.3f} ({n[1]:.3f}) | "
                     f"{np.mean(~(c['df_htz'] > 0)):.3f} | {np.median(c['df_htz']):.2f} | {ro[0]:.3f} ({ro[1]:.3f}) | "
                     f"{rn[0]:.3f} ({rn[1]:.3f}) | {np.median(c['s_old']):.4f} | {np.median(c['s_new']):.4f} |")
    lines += ["", "Seconds per fit: median over replicates of GLM fit + covariance + tests (simulation excluded), "
              "single process, OPENBLAS_NUM_THREADS=1, on a shared 2-core machine."]
    text = "\n".join(lines)
    print(text)
    return text


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--replicates", type=int, default=400)
    args = ap.parse_args()
    write_section("Cluster-robust tests with few clusters", main(args.replicates))
