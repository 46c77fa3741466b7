"""Benchmark the resampling engine against SciPy on 100,000 posts in 8 departments.

Run with ``make bench`` (or ``.venv/bin/python benchmarks/bench_resampling.py``). Prints a Markdown
table with, per stage, the wall time, the peak memory above the stage's starting point, the
speed ratio SciPy / toolkit measured in the same run, and the agreement of the answers.

Data (seed 20261121, ``numpy.random.default_rng``):

* 100,000 posts; department of each post drawn with probabilities proportional to
  (16, 14, 13, 13, 12, 11, 11, 10) over the first 8 names of ``config.DEPARTMENTS``;
* likes ~ negative binomial with size 1.2 and mean 20 * (1 + 0.006 j) for department j = 0..7
  (weak effects, so the permutation p-value is not at its floor and agreement is informative);
* reach ~ round(lognormal(log 2000, 0.8)) + 1; the continuous case is the rate likes / reach.

Stages (B = 10,000 resamples each, one run per stage; every stage runs in a forked child process
so that its peak RSS can be read from /proc/self/status):

1. bootstrap BCa 95% CI of the mean, per department: ``scipy.stats.bootstrap((x,), np.mean,
   vectorized=True, method="BCa", batch=500)`` department by department (batch=500 keeps SciPy's
   resample and jackknife blocks at 500 x n_g doubles, about 50 MB) versus
   ``toolkit.stats.resampling.bootstrap_groups(..., statistics=("mean",))``; and the full
   ``tk.describe_groups`` (BCa intervals of the mean and the median plus descriptives) against its
   like-for-like peer, ``scipy.stats.bootstrap`` of the mean and of the median;
2. permutation test of the one-way ANOVA F: ``scipy.stats.permutation_test(groups,
   f_oneway-statistic, vectorized=True, permutation_type="independent", batch=100)`` versus
   ``toolkit.stats.resampling.permutation_distribution(statistic="f")`` (n_jobs=1 and automatic);
   for the continuous outcome also the B shuffles of the pooled values alone (``rng.permuted`` in the
   engine's chunks, no statistic): the floor of the shuffle path, since F needs only the group sums
   (``np.add.reduceat``, a few percent of the time) of each permuted row.

Both outcomes (likes: integer counts; rate: continuous) are run. Other processes may be loading
the machine: absolute times drift, ratios from the same run are what matter. Nearly all of the
run time is SciPy's stages: measured 9.6 and 10.9 minutes on 2 cores with a load average of about
6.5 from other jobs (2026-11-21). ``--outcomes likes`` or a smaller ``--n-resamples`` shortens it.
"""
from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import sys
from pathlib import Path
import time

import numpy as np
import pandas as pd
from scipy import stats

import toolkit as tk
from toolkit import config
from toolkit.stats.prepare import prepare_groups
from toolkit.stats.resampling import bootstrap_groups, permutation_distribution, permutation_p_value

SEED = 20261121


def make_posts(n=100_000, seed=SEED) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    names = list(config.DEPARTMENTS[:8])
    weights = np.array([16, 14, 13, 13, 12, 11, 11, 10], float)
    dept = rng.choice(8, size=n, p=weights / weights.sum())
    mu = 20.0 * (1.0 + 0.006 * dept)
    likes = rng.negative_binomial(1.2, 1.2 / (1.2 + mu))
    reach = np.round(rng.lognormal(np.log(2000.0), 0.8, size=n)) + 1
    return pd.DataFrame({"department": pd.Categorical.from_codes(dept, names),
                         "likes": likes.astype(float), "rate": likes / reach})


def _rss_mb(field: str) -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024.0
    return float("nan")


def _child(conn, func, args):
    with open("/proc/self/clear_refs", "w") as fh:  # reset the high-water mark to the current RSS
        fh.write("5")
    base = _rss_mb("VmRSS")
    t0 = time.perf_counter()
    out = func(*args)
    seconds = time.perf_counter() - t0
    conn.send((seconds, _rss_mb("VmHWM") - base, out))
    conn.close()


def run_stage(func, *args):
    """Run func(*args) in a forked child; return (seconds, peak MB above start, result)."""
    ctx = mp.get_context("fork")
    parent, child = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child, args=(child, func, args))
    proc.start()
    result = parent.recv()
    proc.join()
    return result


# -- the stages --------------------------------------------------------------------------------------
def scipy_bootstrap(groups, b):
    cis = []
    rng = np.random.default_rng(1)
    for x in groups:
        r = stats.bootstrap((x,), np.mean, n_resamples=b, vectorized=True, method="BCa", batch=500, rng=rng)
        cis.append((r.confidence_interval.low, r.confidence_interval.high, r.standard_error))
    return np.array(cis)


def scipy_bootstrap_mean_median(groups, b):
    """The like-for-like peer of ``tk.describe_groups``, which gives BCa intervals of the mean *and* the median."""
    rng = np.random.default_rng(1)
    for x in groups:
        for statistic in (np.mean, np.median):
            stats.bootstrap((x,), statistic, n_resamples=b, vectorized=True, method="BCa", batch=500, rng=rng)
    return None


def toolkit_bootstrap(gd, b):
    r = bootstrap_groups(gd, statistics=("mean",), n_resamples=b, method="bca", seed=2)["mean"]
    return np.column_stack([r.ci_low, r.ci_high])


def toolkit_describe(data, dv, b):
    return tk.describe_groups(data, dv=dv, between="department", n_resamples=b, seed=3)[
        ["mean_ci_low", "mean_ci_high"]].to_numpy()


def _f_statistic(*samples, axis=-1):
    return stats.f_oneway(*samples, axis=axis).statistic


def scipy_permutation(groups, b):
    r = stats.permutation_test(groups, _f_statistic, vectorized=True, n_resamples=b, alternative="greater",
                               permutation_type="independent", batch=100, rng=4)
    return r.statistic, r.pvalue


def toolkit_permutation(gd, b, n_jobs):
    obs, null = permutation_distribution(gd.values, gd.sizes, statistic="f", n_resamples=b, seed=5, n_jobs=n_jobs)
    return obs, permutation_p_value(null, obs)


def shuffle_floor(gd, b):
    """Only the shuffles of the continuous permutation path (the same B x n elements, same chunking): the floor
    of any exact permutation sampler built on numpy's shuffle, whatever statistic is computed from it."""
    from toolkit.stats.resampling import _CHUNK_ELEMENTS, _permuted_rows
    rng = np.random.default_rng(6)
    z = gd.values - gd.values.mean()
    chunk = max(1, min(b, _CHUNK_ELEMENTS // z.size))
    for start in range(0, b, chunk):
        _permuted_rows(rng, z, min(chunk, b - start))
    return None


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--n-resamples", type=int, default=10_000)
    parser.add_argument("--outcomes", default="likes,rate")
    args = parser.parse_args(argv)
    b = args.n_resamples
    data = make_posts(args.n)
    print(f"# Resampling benchmark: n = {args.n:,} posts, 8 departments, B = {b:,}; "
          f"{os.cpu_count()} CPUs; numpy {np.__version__}, scipy {sys.modules['scipy'].__version__}\n")
    rows = []
    agreement = []
    for dv in args.outcomes.split(","):
        gd = prepare_groups(data, dv=dv, between="department", func="bench")
        groups = gd.groups()
        n_unique = np.unique(gd.values).size
        label = f"{dv} ({'counts' if dv == 'likes' else 'continuous'}, {n_unique:,} unique values)"

        t_s, m_s, ci_s = run_stage(scipy_bootstrap, groups, b)
        t_t, m_t, ci_t = run_stage(toolkit_bootstrap, gd, b)
        t_d, m_d, _ = run_stage(toolkit_describe, data, dv, b)
        t_sm, m_sm, _ = run_stage(scipy_bootstrap_mean_median, groups, b)
        rows.append((label, "bootstrap BCa CI of the mean, 8 groups", "scipy.stats.bootstrap (batch=500)",
                     t_s, m_s, t_t, m_t))
        rows.append((label, "BCa CIs of the mean and the median, 8 groups: tk.describe_groups",
                     "scipy.stats.bootstrap, mean and median (batch=500)", t_sm, m_sm, t_d, m_d))
        sd = ci_s[:, 2]
        mc_se = sd * np.sqrt(0.025 * 0.975 / b) / stats.norm.pdf(1.96) * np.sqrt(2)  # SE of a difference
        diff = np.abs(ci_t - ci_s[:, :2]) / mc_se[:, None]
        agreement.append(f"- {dv}: bootstrap CI end points, |toolkit - scipy| / Monte-Carlo SE of the difference: "
                         f"max {diff.max():.2f}, median {np.median(diff):.2f} over 16 end points "
                         f"(largest absolute difference {np.abs(ci_t - ci_s[:, :2]).max():.3g}; "
                         f"bootstrap SE of the means {sd.min():.3g}-{sd.max():.3g})")

        t_s, m_s, (f_s, p_s) = run_stage(scipy_permutation, groups, b)
        t_1, m_1, (f_1, p_1) = run_stage(toolkit_permutation, gd, b, 1)
        t_a, m_a, (f_a, p_a) = run_stage(toolkit_permutation, gd, b, None)
        rows.append((label, "permutation test of F", "scipy.stats.permutation_test (batch=100)",
                     t_s, m_s, t_1, m_1))
        rows.append((label, "  same, toolkit n_jobs=auto", "", t_s, m_s, t_a, m_a))
        if dv != "likes":
            t_f, m_f, _ = run_stage(shuffle_floor, gd, b)
            rows.append((label, "  numpy shuffles alone (floor of the shuffle path, 1 process)", "", t_s, m_s, t_f, m_f))
        se = np.sqrt(2 * p_s * (1 - p_s) / b)
        agreement.append(f"- {dv}: F = {f_s:.6f} (scipy) vs {f_1:.6f} (toolkit); p = {p_s:.4f} (scipy) vs "
                         f"{p_1:.4f} / {p_a:.4f} (toolkit, n_jobs=1 / auto); |difference| = "
                         f"{abs(p_1 - p_s) / se:.2f} Monte-Carlo SEs")

    print("| outcome | task | peer | peer s | peer +MB | toolkit s | toolkit +MB | speed ratio |")
    print("|---|---|---|---:|---:|---:|---:|---:|")
    for label, task, peer, t_s, m_s, t_t, m_t in rows:
        print(f"| {label} | {task} | {peer} | {t_s:.2f} | {m_s:.0f} | {t_t:.2f} | {m_t:.0f} | {t_s / t_t:.1f}x |")
    print("\nAgreement (same run):")
    print("\n".join(agreement))
    print("\n+MB: peak resident memory of the stage's process above its starting point (VmHWM - VmRSS); "
          "worker processes of n_jobs=auto are not included. One run per stage.")


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from _report import tee_section

    with tee_section("Resampling engine vs scipy (bench_resampling.py)"):
        main()
