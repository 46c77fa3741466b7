"""Benchmark the toolkit's statistics against the peer library a user would otherwise pick.

Run from the project root with the project's environment (``make bench`` runs it too)::

    OPENBLAS_NUM_THREADS=1 .venv/bin/python benchmarks/bench_peers.py                     # 10k, 100k, 1M
    OPENBLAS_NUM_THREADS=1 .venv/bin/python benchmarks/bench_peers.py --sizes 10000 --repeats 1   # smoke run

Prints a Markdown table (task, n, toolkit s, peer, peer s, ratio peer/toolkit, agreement) and writes
it as the section "Statistics vs peers" of reports/benchmarks.md (``_report.write_section``).
Both sides run on the SAME data in the same process, with BLAS limited to one thread
(threadpoolctl) for both. Times are medians of ``--repeats`` runs (default 3); a call whose first
run takes more than ``--slow`` seconds (default 10) is run once (marked † in the table).

Data: SIMULATED posts, ``numpy.random.default_rng(20261121 + n)``; 8 departments (the first 8
names of ``config.DEPARTMENTS``) x 20 accounts, account drawn uniformly per post; reach ~
round(lognormal(log 2000, 0.8)) + 1; likes ~ negative binomial (size 1.2) with mean
reach * 0.01 * exp(0.01 j + u_account), u_account ~ N(0, 0.15^2), j = 0..7 the department;
``rate = likes / reach`` is the outcome of the group comparisons, ``likes`` with exposure
``reach`` the outcome of the count model. The department effects are weak on purpose so that
p-values at 10k posts are not at their floor (at 100k and 1M most are, and the statistics are
the informative part of the agreement column).

Tasks and peers (toolkit call first):

* bootstrap 95% percentile CI of the mean per department, B = 2,000:
  ``toolkit.stats.resampling.bootstrap_groups(statistics=("mean",), method="percentile")`` (the
  engine) and ``tk.describe_groups(ci_method="percentile")`` (public; also median CIs and
  descriptives from the same resamples) vs ``scipy.stats.bootstrap(method="percentile",
  vectorized=True, batch=...)`` group by group and ``pingouin.compute_bootci(method="per",
  decimals=15)`` group by group (decimals=15 because the default rounds to 2 decimals). The peers
  draw different random numbers, so the CIs agree only up to Monte Carlo error: agreement is the
  largest |difference| of the 16 end points in units of the Monte-Carlo SE of that difference,
  sqrt(2 p (1 - p) / B) * SE(mean) / phi(z_p). pingouin is skipped at 1M (it materialises an n x B
  index matrix and the resampled values: ~4 GB per department of 125k posts).
* omnibus: ``tk.anova`` vs ``scipy.stats.f_oneway`` and ``pingouin.anova``; ``tk.welch_anova`` vs
  ``pingouin.welch_anova`` and ``scipy.stats.f_oneway(equal_var=False)``; ``tk.kruskal`` vs
  ``scipy.stats.kruskal`` (``tk.kruskal`` also computes a bootstrap CI of epsilon², 2,000
  resamples by default, which is nearly all of its time; a second row times ``effsize_ci="analytic"``). SciPy's time includes splitting the
  column by department (a user has to).
* permutation test of the one-way F, B = 999: ``tk.permutation_omnibus(statistic="f")`` (which may use
  2 processes on its own) vs ``scipy.stats.permutation_test(permutation_type="independent",
  vectorized=True, batch=...)``; skipped at a size where the peer's predicted time (from the
  previous size, linear in n) exceeds 2 minutes.
* post-hoc, all 28 pairs: ``tk.pairwise(method="tukey")`` vs ``statsmodels pairwise_tukeyhsd`` and
  ``scipy.stats.tukey_hsd``; ``method="games_howell"`` vs ``pingouin.pairwise_gameshowell`` and
  ``scipy.stats.tukey_hsd(equal_var=False)``; ``method="dunn"`` (Holm) vs
  ``scikit_posthocs.posthoc_dunn(p_adjust="holm")``.
* NB2 GLM with log(reach) offset, department only: ``tk.fit_engagement_model(subject=None)`` (fits the
  model and the model without department for the likelihood-ratio test, plus contrasts and marginal
  means) vs statsmodels' discrete ``NegativeBinomial`` (NB2, estimates alpha = 1/theta by ML like the
  toolkit; ``method="newton"`` because the default bfgs does not converge on such data), by formula
  (``smf.negativebinomial``, what a user would write) and on arrays (``sm.NegativeBinomial``).
  Like with like: both maximise the same likelihood, so coefficients and alpha must agree; standard
  errors differ slightly by construction (toolkit: expected information at the ML theta, as
  ``MASS::glm.nb``; statsmodels: observed information of (beta, alpha) jointly).

Other processes may load the 2 CPUs while this runs: absolute times drift, ratios from the same run are
what matter.
"""
from __future__ import annotations

import argparse
import itertools
import os
import platform
import sys
import time
import warnings
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats
from threadpoolctl import threadpool_limits

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))
import toolkit as tk  # noqa: E402
from toolkit import config  # noqa: E402
from toolkit.stats.prepare import prepare_groups  # noqa: E402
from toolkit.stats.resampling import bootstrap_groups  # noqa: E402
from _report import write_section  # noqa: E402
from _timing import Timer, rel_diff  # noqa: E402

SEED = 20261121
B_BOOT = 2_000
B_PERM = 999
PEER_LIMIT_S = 120.0
DV, BETWEEN = "rate", "department"


# -- data ------------------------------------------------------------------------------------------
def make_posts(n: int, seed: int = SEED) -> pd.DataFrame:
    """SIMULATED posts (see the module docstring); seed = SEED + n so every size is reproducible."""
    rng = np.random.default_rng(seed + n)
    names = list(config.DEPARTMENTS[:8])
    n_acc = 20
    u = rng.normal(0.0, 0.15, size=8 * n_acc)
    account = rng.integers(0, 8 * n_acc, size=n)
    dept = account // n_acc
    reach = np.round(rng.lognormal(np.log(2000.0), 0.8, size=n)) + 1.0
    mu = reach * 0.01 * np.exp(0.01 * dept + u[account])
    likes = rng.negative_binomial(1.2, 1.2 / (1.2 + mu))
    return pd.DataFrame({
        "account": pd.array([f"acc{a:03d}" for a in range(8 * n_acc)], dtype="str")[account],
        "department": pd.Categorical.from_codes(dept, names),
        "reach": reach, "likes": likes.astype(np.int64), "rate": likes / reach,
    })


def split(data: pd.DataFrame) -> list[np.ndarray]:
    """What a SciPy user writes: one array per department, in category order."""
    return [g.to_numpy() for _, g in data.groupby(BETWEEN, observed=True)[DV]]


# -- timing ----------------------------------------------------------------------------------------
def _fmt_s(t: float, runs: int, repeats: int) -> str:
    mark = "†" if runs < repeats and repeats > 1 else ""
    return f"{t:.3f}{mark}" if t < 10 else f"{t:.1f}{mark}"


def _g(x: float) -> str:
    return f"{x:.1e}" if x != 0 else "0"


def _abs(a, b) -> float:
    return float(np.nanmax(np.abs(np.asarray(a, float) - np.asarray(b, float))))


# -- the tasks -------------------------------------------------------------------------------------
def task_bootstrap(data, n, timer, rows):
    gd = prepare_groups(data, dv=DV, between=BETWEEN, func="bench")
    t_eng, r_eng, eng = timer(lambda: bootstrap_groups(gd, statistics=("mean",), n_resamples=B_BOOT,
                                                       method="percentile", seed=1)["mean"])
    t_des, r_des, des = timer(lambda: tk.describe_groups(data, dv=DV, between=BETWEEN, ci_method="percentile",
                                                         n_resamples=B_BOOT, seed=1))
    tk_eng = np.column_stack([eng.ci_low, eng.ci_high])
    tk_des = des[["mean_ci_low", "mean_ci_high"]].to_numpy()

    sd = np.array([x.std(ddof=1) / np.sqrt(x.size) for x in gd.groups()])
    z = stats.norm.ppf(0.975)
    mc_se = np.sqrt(2 * 0.025 * 0.975 / B_BOOT) * sd / stats.norm.pdf(z)

    def agree(ci):
        d = np.abs(np.asarray(ci) - tk_eng) / mc_se[:, None]
        return f"CI ends: max {d.max():.1f} MC SE (max abs {_g(_abs(ci, tk_eng))})"

    def scipy_boot():
        out = []
        rng = np.random.default_rng(2)
        for x in split(data):
            batch = max(1, int(2e7 // x.size))
            r = stats.bootstrap((x,), np.mean, n_resamples=B_BOOT, vectorized=True, method="percentile",
                                batch=batch, rng=rng)
            out.append((r.confidence_interval.low, r.confidence_interval.high))
        return np.array(out)

    def pingouin_boot():
        import pingouin as pg
        return np.array([pg.compute_bootci(x, func="mean", method="per", n_boot=B_BOOT, decimals=15, seed=3 + i)
                         for i, x in enumerate(split(data))])

    task = f"bootstrap percentile CI of the mean, 8 groups, B={B_BOOT:,} (engine `bootstrap_groups`)"
    t_s, r_s, ci_s = timer(scipy_boot)
    rows.append((task, n, (t_eng, r_eng), "scipy.stats.bootstrap", (t_s, r_s), agree(ci_s)))
    if n < 1_000_000:
        t_p, r_p, ci_p = timer(pingouin_boot)
        rows.append((task, n, (t_eng, r_eng), "pingouin.compute_bootci", (t_p, r_p), agree(ci_p)))
    else:
        rows.append((task, n, (t_eng, r_eng), "pingouin.compute_bootci", None,
                     "skipped: n x B index matrix + resampled values, ~4 GB per group"))
    rows.append(("  same via `tk.describe_groups` (mean + median CIs, descriptives)", n, (t_des, r_des),
                 "scipy.stats.bootstrap", (t_s, r_s),
                 f"CI ends vs scipy: max {(np.abs(ci_s - tk_des) / mc_se[:, None]).max():.1f} MC SE"))


def task_omnibus(data, n, timer, rows):
    import pingouin as pg
    # anova
    t_t, r_t, res = timer(lambda: tk.anova(data, dv=DV, between=BETWEEN))
    f_t, p_t = res["statistic"].iloc[0], res["p_value"].iloc[0]
    t_s, r_s, out = timer(lambda: stats.f_oneway(*split(data)))
    rows.append(("one-way ANOVA F (`tk.anova`)", n, (t_t, r_t), "scipy.stats.f_oneway", (t_s, r_s),
                 f"F rel {_g(rel_diff(f_t, out.statistic))}; p abs {_g(_abs(p_t, out.pvalue))}"))
    t_s, r_s, out = timer(lambda: pg.anova(data=data, dv=DV, between=BETWEEN))
    rows.append(("one-way ANOVA F (`tk.anova`)", n, (t_t, r_t), "pingouin.anova", (t_s, r_s),
                 f"F rel {_g(rel_diff(f_t, out['F'].iloc[0]))}; p abs {_g(_abs(p_t, out['p_unc'].iloc[0]))}"))
    # welch
    t_t, r_t, res = timer(lambda: tk.welch_anova(data, dv=DV, between=BETWEEN))
    f_t, p_t, df_t = res["statistic"].iloc[0], res["p_value"].iloc[0], res["df_within"].iloc[0]
    t_s, r_s, out = timer(lambda: pg.welch_anova(data=data, dv=DV, between=BETWEEN))
    rows.append(("Welch ANOVA (`tk.welch_anova`)", n, (t_t, r_t), "pingouin.welch_anova", (t_s, r_s),
                 f"F rel {_g(rel_diff(f_t, out['F'].iloc[0]))}; df2 rel {_g(rel_diff(df_t, out['ddof2'].iloc[0]))}; "
                 f"p abs {_g(_abs(p_t, out['p_unc'].iloc[0]))}"))
    t_s, r_s, out = timer(lambda: stats.f_oneway(*split(data), equal_var=False))
    rows.append(("Welch ANOVA (`tk.welch_anova`)", n, (t_t, r_t), "scipy.stats.f_oneway(equal_var=False)",
                 (t_s, r_s), f"F rel {_g(rel_diff(f_t, out.statistic))}; p abs {_g(_abs(p_t, out.pvalue))}"))
    # kruskal
    t_t, r_t, res = timer(lambda: tk.kruskal(data, dv=DV, between=BETWEEN))
    h_t, p_t = res["statistic"].iloc[0], res["p_value"].iloc[0]
    t_s, r_s, out = timer(lambda: stats.kruskal(*split(data)))
    rows.append(("Kruskal-Wallis H (`tk.kruskal`, incl. its bootstrap CI of epsilon²)", n, (t_t, r_t),
                 "scipy.stats.kruskal", (t_s, r_s),
                 f"H rel {_g(rel_diff(h_t, out.statistic))}; p abs {_g(_abs(p_t, out.pvalue))}"))
    t_a, r_a, res = timer(lambda: tk.kruskal(data, dv=DV, between=BETWEEN, effsize_ci="analytic"))
    rows.append(("Kruskal-Wallis H (`tk.kruskal(effsize_ci=\"analytic\")`, rank-ANOVA interval)", n, (t_a, r_a),
                 "scipy.stats.kruskal", (t_s, r_s),
                 f"H rel {_g(rel_diff(res['statistic'].iloc[0], out.statistic))}"))


def _f_stat(*samples, axis=-1):
    return stats.f_oneway(*samples, axis=axis).statistic


def task_permutation(data, n, timer, rows, state):
    t_t, r_t, res = timer(lambda: tk.permutation_omnibus(data, dv=DV, between=BETWEEN, statistic="f",
                                                         n_resamples=B_PERM, seed=5))
    f_t, p_t = res["statistic"].iloc[0], res["p_value"].iloc[0]
    task = f"permutation test of F, B={B_PERM} (`tk.permutation_omnibus`)"
    predicted = state.get("perm_s_per_post", 0.0) * n
    if predicted > PEER_LIMIT_S:
        rows.append((task, n, (t_t, r_t), "scipy.stats.permutation_test", None,
                     f"skipped: predicted {predicted:.0f} s > {PEER_LIMIT_S:.0f} s (linear from the previous size)"))
        return

    def peer():
        groups = split(data)
        return stats.permutation_test(groups, _f_stat, vectorized=True, n_resamples=B_PERM, alternative="greater",
                                      permutation_type="independent", batch=max(1, int(2e7 // n)), rng=6)

    t_s, r_s, out = timer(peer)
    state["perm_s_per_post"] = t_s / n
    se = np.sqrt(2 * out.pvalue * (1 - out.pvalue) / B_PERM)
    mc = f" ({abs(p_t - out.pvalue) / se:.1f} MC SE)" if se > 0 else ""
    rows.append((task, n, (t_t, r_t), "scipy.stats.permutation_test", (t_s, r_s),
                 f"F rel {_g(rel_diff(f_t, out.statistic))}; p {p_t:.4f} vs {out.pvalue:.4f}{mc}"))


def task_posthoc(data, n, timer, rows):
    import pingouin as pg
    import scikit_posthocs as sp
    from statsmodels.stats.multicomp import pairwise_tukeyhsd
    labels = list(data[BETWEEN].cat.categories)
    pos = {g: i for i, g in enumerate(labels)}

    # Tukey HSD
    t_t, r_t, res = timer(lambda: tk.pairwise(data, dv=DV, between=BETWEEN, method="tukey"))
    key = [(pos[a], pos[b]) for a, b in zip(res["group_a"], res["group_b"])]
    est, lo, hi, padj = (res[c].to_numpy() for c in ("estimate", "estimate_ci_low", "estimate_ci_high",
                                                     "p_adjusted"))
    t_s, r_s, sm = timer(lambda: pairwise_tukeyhsd(data[DV].to_numpy(), data[BETWEEN].to_numpy(dtype=object)))
    # statsmodels: groups sorted alphabetically, meandiff = mean(group2) - mean(group1)
    su = list(sm.groupsunique)
    sm_map = {}
    for (i, j), d, (cl, ch), p in zip(itertools.combinations(range(len(su)), 2), sm.meandiffs, sm.confint,
                                      sm.pvalues):
        sm_map[(pos[su[i]], pos[su[j]])] = (-d, -ch, -cl, p)  # as mean(a) - mean(b)
        sm_map[(pos[su[j]], pos[su[i]])] = (d, cl, ch, p)
    sm_arr = np.array([sm_map[k] for k in key])
    rows.append(("Tukey HSD, 28 pairs (`tk.pairwise(method=\"tukey\")`)", n, (t_t, r_t),
                 "statsmodels pairwise_tukeyhsd", (t_s, r_s),
                 f"diff rel {_g(rel_diff(est, sm_arr[:, 0]))}; CI abs {_g(_abs(np.c_[lo, hi], sm_arr[:, 1:3]))}; "
                 f"p_adj abs {_g(_abs(padj, sm_arr[:, 3]))}"))
    t_s, r_s, sc = timer(lambda: stats.tukey_hsd(*split(data)))
    ci = sc.confidence_interval()
    sc_arr = np.array([(sc.statistic[i, j], ci.low[i, j], ci.high[i, j], sc.pvalue[i, j]) for i, j in key])
    rows.append(("Tukey HSD, 28 pairs (`tk.pairwise(method=\"tukey\")`)", n, (t_t, r_t), "scipy.stats.tukey_hsd",
                 (t_s, r_s), f"diff rel {_g(rel_diff(est, sc_arr[:, 0]))}; "
                             f"CI abs {_g(_abs(np.c_[lo, hi], sc_arr[:, 1:3]))}; "
                             f"p_adj abs {_g(_abs(padj, sc_arr[:, 3]))}"))

    # Games-Howell
    t_t, r_t, res = timer(lambda: tk.pairwise(data, dv=DV, between=BETWEEN, method="games_howell"))
    key = [(pos[a], pos[b]) for a, b in zip(res["group_a"], res["group_b"])]
    est, lo, hi, padj, dfs = (res[c].to_numpy() for c in ("estimate", "estimate_ci_low", "estimate_ci_high",
                                                          "p_adjusted", "df"))
    t_s, r_s, gh = timer(lambda: pg.pairwise_gameshowell(data=data, dv=DV, between=BETWEEN))
    gh_map = {}
    for a, b, d, df, p in zip(gh["A"], gh["B"], gh["diff"], gh["df"], gh["pval"]):
        gh_map[(pos[a], pos[b])] = (d, df, p)
        gh_map[(pos[b], pos[a])] = (-d, df, p)
    gh_arr = np.array([gh_map[k] for k in key])
    rows.append(("Games-Howell, 28 pairs (`tk.pairwise(method=\"games_howell\")`)", n, (t_t, r_t),
                 "pingouin.pairwise_gameshowell", (t_s, r_s),
                 f"diff rel {_g(rel_diff(est, gh_arr[:, 0]))}; df rel {_g(rel_diff(dfs, gh_arr[:, 1]))}; "
                 f"p_adj abs {_g(_abs(padj, gh_arr[:, 2]))}"))
    t_s, r_s, sc = timer(lambda: stats.tukey_hsd(*split(data), equal_var=False))
    ci = sc.confidence_interval()
    sc_arr = np.array([(sc.statistic[i, j], ci.low[i, j], ci.high[i, j], sc.pvalue[i, j]) for i, j in key])
    rows.append(("Games-Howell, 28 pairs (`tk.pairwise(method=\"games_howell\")`)", n, (t_t, r_t),
                 "scipy.stats.tukey_hsd(equal_var=False)", (t_s, r_s),
                 f"diff rel {_g(rel_diff(est, sc_arr[:, 0]))}; CI abs {_g(_abs(np.c_[lo, hi], sc_arr[:, 1:3]))}; "
                 f"p_adj abs {_g(_abs(padj, sc_arr[:, 3]))}"))

    # Dunn (Holm)
    t_t, r_t, res = timer(lambda: tk.pairwise(data, dv=DV, between=BETWEEN, method="dunn", p_adjust="holm"))
    t_s, r_s, dm = timer(lambda: sp.posthoc_dunn(data, val_col=DV, group_col=BETWEEN, p_adjust="holm"))
    p_sp = np.array([dm.loc[a, b] for a, b in zip(res["group_a"], res["group_b"])], dtype=float)
    rows.append(("Dunn, 28 pairs, Holm (`tk.pairwise(method=\"dunn\")`)", n, (t_t, r_t),
                 "scikit_posthocs.posthoc_dunn", (t_s, r_s),
                 f"p_holm abs {_g(_abs(res['p_adjusted'].to_numpy(), p_sp))}; "
                 f"rel {_g(rel_diff(res['p_adjusted'].to_numpy(), p_sp))}"))


def task_glm(data, n, timer, rows):
    import statsmodels.api as sm
    import statsmodels.formula.api as smf
    t_t, r_t, m = timer(lambda: tk.fit_engagement_model(data, dv="likes", between=BETWEEN, exposure="reach"))
    beta = m.coefficients["estimate"].to_numpy()
    se_t = m.coefficients["std_error"].to_numpy()
    alpha_t = 1.0 / float(m.fit_statistics["theta"].iloc[0])
    task = "NB2 GLM, 8 depts, log-reach offset (`tk.fit_engagement_model`, incl. LR test + contrasts)"

    def formula():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return smf.negativebinomial("likes ~ department", data=data, offset=np.log(data["reach"])).fit(
                method="newton", disp=0, maxiter=100)

    def arrays():
        codes = data[BETWEEN].cat.codes.to_numpy()
        X = np.zeros((codes.size, 8))
        X[:, 0] = 1.0
        other = codes > 0  # treatment coding, first department as reference (as the toolkit and the formula)
        X[np.nonzero(other)[0], codes[other]] = 1.0
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return sm.NegativeBinomial(data["likes"].to_numpy(), X, offset=np.log(data["reach"].to_numpy())).fit(
                method="newton", disp=0, maxiter=100)

    for name, fn in (("statsmodels smf.negativebinomial (newton)", formula),
                     ("statsmodels sm.NegativeBinomial, arrays (newton)", arrays)):
        t_s, r_s, r = timer(fn)
        p = np.asarray(r.params)
        b = np.asarray(r.bse)
        conv = "" if r.mle_retvals.get("converged", True) else "; peer NOT converged"
        rows.append((task, n, (t_t, r_t), name, (t_s, r_s),
                     f"coef abs {_g(_abs(beta, p[:-1]))}; alpha rel {_g(rel_diff(alpha_t, p[-1]))}; "
                     f"SE rel {_g(rel_diff(se_t, b[:-1]))}{conv}"))


# -- main ------------------------------------------------------------------------------------------
def render(rows, repeats) -> str:
    lines = ["| task | n | toolkit s | peer | peer s | ratio peer/toolkit | agreement |",
             "|---|---:|---:|---|---:|---:|---|"]
    for task, n, (t_t, r_t), peer, peer_t, agree in rows:
        if peer_t is None:
            ps, ratio = "—", "—"
        else:
            ps, ratio = _fmt_s(peer_t[0], peer_t[1], repeats), f"{peer_t[0] / t_t:.2f}"
        lines.append(f"| {task} | {n:,} | {_fmt_s(t_t, r_t, repeats)} | {peer} | {ps} | {ratio} | {agree} |")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000,1000000",
                        help="comma-separated numbers of posts (default 10000,100000,1000000)")
    parser.add_argument("--repeats", type=int, default=3, help="runs per call; the median is reported")
    parser.add_argument("--slow", type=float, default=10.0,
                        help="a call whose first run takes longer than this many seconds is run once")
    parser.add_argument("--tasks", default="bootstrap,omnibus,permutation,posthoc,glm")
    parser.add_argument("--no-write", action="store_true", help="print only; do not update reports/benchmarks.md")
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]
    tasks = args.tasks.split(",")
    timer = Timer(args.repeats, args.slow)
    import pingouin
    import scikit_posthocs
    import statsmodels
    versions = (f"toolkit {tk.__version__}, numpy {np.__version__}, pandas {pd.__version__}, scipy "
                f"{sys.modules['scipy'].__version__}, statsmodels {statsmodels.__version__}, pingouin "
                f"{pingouin.__version__}, scikit-posthocs {scikit_posthocs.__version__}")
    started = datetime.now(timezone.utc)
    load0 = os.getloadavg()[0]
    rows, state = [], {}
    t_start = time.perf_counter()
    with threadpool_limits(limits=1), warnings.catch_warnings():
        warnings.simplefilter("ignore", category=tk.ToolkitWarning)
        for n in sizes:
            data = make_posts(n)
            for name in tasks:
                print(f"... n={n:,} {name}", file=sys.stderr, flush=True)
                t0 = time.perf_counter()
                if name == "bootstrap":
                    task_bootstrap(data, n, timer, rows)
                elif name == "omnibus":
                    task_omnibus(data, n, timer, rows)
                elif name == "permutation":
                    task_permutation(data, n, timer, rows, state)
                elif name == "posthoc":
                    task_posthoc(data, n, timer, rows)
                elif name == "glm":
                    task_glm(data, n, timer, rows)
                else:
                    raise SystemExit(f"bench_peers: unknown task {name!r}")
                print(f"    {time.perf_counter() - t0:.1f} s", file=sys.stderr, flush=True)
    total = time.perf_counter() - t_start
    load1 = os.getloadavg()[0]
    table = render(rows, args.repeats)
    intro = (
        f"Toolkit vs the peer library a user would otherwise pick, on the same **SIMULATED** posts "
        f"(numpy `default_rng(20261121 + n)`; 8 departments x 20 accounts, NB2 likes with an account effect, "
        f"lognormal reach; outcome `rate = likes / reach`, count model `likes` with exposure `reach`; see "
        f"benchmarks/bench_peers.py). Times in seconds, median of {args.repeats} runs "
        f"(† = a single run because the first took > {args.slow:g} s); BLAS limited to 1 thread on both sides; "
        f"ratio > 1 means the toolkit is faster. `tk.permutation_omnibus` may use 2 processes on its own. "
        f"Agreement: 'rel' = max relative difference, 'abs' = max absolute difference, over all groups/pairs/"
        f"coefficients; bootstrap and permutation results differ by Monte Carlo error only (MC SE = "
        f"Monte-Carlo standard error of the difference).\n\n"
        f"Measured {started:%Y-%m-%d %H:%M} UTC on {platform.machine()}, {os.cpu_count()} CPUs, Python "
        f"{platform.python_version()}; {versions}. Load average {load0:.1f} at the start and {load1:.1f} at the "
        f"end (other jobs share the CPUs: absolute times are pessimistic, ratios are the comparable numbers). "
        f"Whole run {total / 60:.1f} min.")
    print(intro + "\n\n" + table)
    if not args.no_write:
        path = write_section("Statistics vs peers", intro + "\n\n" + table)
        print(f"\nwrote {path}", file=sys.stderr)


if __name__ == "__main__":
    main()
