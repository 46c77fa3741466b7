"""Closed-form statistics at the size exports come in (issue 13): the toolkit against the peer a user would pick.

Run from the project root with the project's environment::

    OPENBLAS_NUM_THREADS=1 .venv/bin/python benchmarks/bench_closed_form.py                  # 1M posts
    OPENBLAS_NUM_THREADS=1 .venv/bin/python benchmarks/bench_closed_form.py --n 100000 --repeats 1   # smoke run

Prints a Markdown table and writes it as the section "Closed-form statistics vs peers" of
reports/benchmarks.md (``_report.write_section``). Both sides get the same pandas DataFrame (a user's
export: categorical ``department``, text ``account``) in the same process, BLAS limited to one thread.
Times are medians of ``--repeats`` runs (one run when the first takes more than ``--slow`` s, marked †).
Memory is the peak of Python-tracked allocations during one extra call (``tracemalloc``; numpy and
pandas report their buffers to it), i.e. how much a call adds on top of the data.

Data: SIMULATED posts, ``numpy.random.default_rng(20261205)``: 8 departments (the first 8 names of
``config.DEPARTMENTS``) x 125 accounts (1,000 accounts), account drawn uniformly per post; reach ~
round(lognormal(log 2000, 0.8)) + 1; likes ~ negative binomial (size 1.2) with mean
reach * 0.01 * exp(0.01 j + u_account), u_account ~ N(0, 0.15^2), j = 0..7 the department; outcome
``rate = likes / reach`` (continuous, as in the issue's measurements).

Tasks (toolkit call with its DEFAULT outputs, then the peers with theirs):

* ``tk.anova`` vs ``pingouin.anova`` and ``scipy.stats.f_oneway`` (SciPy's time includes splitting the
  column by department, which its user has to do);
* ``tk.welch_anova`` vs ``pingouin.welch_anova``;
* ``tk.kruskal`` (default: analytic interval of epsilon squared since issue 13), and with
  ``effsize_ci="bootstrap"`` (2,000-resample percentile bootstrap, the earlier default) and ``"none"``, vs
  ``scipy.stats.kruskal`` (split included) and ``pingouin.kruskal``;
* ``tk.pairwise`` tukey / games_howell / dunn (Holm) vs ``pingouin.pairwise_tukey``,
  ``pingouin.pairwise_gameshowell`` and ``scikit_posthocs.posthoc_dunn(p_adjust="holm")``;
* ``tk.compare_groups(dv="rate", between="department", subject="account")`` (auto: account means,
  design checks, ICC, descriptives with bootstrap CIs, omnibus, contrasts) vs the pipeline a pingouin user
  writes: account means by ``groupby``, ``pingouin.welch_anova`` and ``pingouin.pairwise_gameshowell``;
  "with CIs" adds a t interval of each department's mean of account means and a 2,000-resample
  ``scipy.stats.bootstrap`` percentile interval of each department's median (what the toolkit's
  descriptives table reports).

Targets (issue 13): every closed-form test at least as fast as its pingouin / scikit-posthocs peer
(ratio peer/toolkit >= 1) and ``compare_groups`` within 2x of the peer pipeline with CIs (ratio >= 0.5).
The scipy rows are for information (scipy returns a statistic and a p-value only).
"""
from __future__ import annotations

import argparse
import gc
import os
import platform
import sys
import time
import tracemalloc
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
from _report import write_section  # noqa: E402
from _timing import Timer, rel_diff  # noqa: E402

SEED = 20261205
DV, BETWEEN, SUBJECT = "rate", "department", "account"
#: --skip-bootstrap: leave out tk.kruskal(effsize_ci="bootstrap") (about a minute at 1M posts).
SKIP_BOOTSTRAP = False


def make_posts(n: int, seed: int = SEED, n_accounts: int = 1000) -> pd.DataFrame:
    """SIMULATED posts (see the module docstring)."""
    rng = np.random.default_rng(seed)
    names = list(config.DEPARTMENTS[:8])
    per = n_accounts // 8
    u = rng.normal(0.0, 0.15, size=8 * per)
    account = rng.integers(0, 8 * per, size=n)
    dept = account // per
    reach = np.round(rng.lognormal(np.log(2000.0), 0.8, size=n)) + 1.0
    likes = rng.negative_binomial(1.2, 1.2 / (1.2 + reach * 0.01 * np.exp(0.01 * dept + u[account])))
    return pd.DataFrame({
        "account": pd.array([f"acc{a:04d}" for a in range(8 * per)], dtype="str")[account],
        "department": pd.Categorical.from_codes(dept, names),
        "reach": reach, "likes": likes.astype(np.int64), "rate": likes / reach,
    })


def split(data: pd.DataFrame, dv: str = DV) -> list[np.ndarray]:
    return [g.to_numpy() for _, g in data.groupby(BETWEEN, observed=True)[dv]]


class Measure:
    """Median wall time over ``repeats`` runs (one if the first is slow) and tracemalloc peak of one more run."""

    def __init__(self, repeats: int, slow: float, memory: bool):
        self.timer, self.slow, self.memory = Timer(repeats, slow), slow, memory

    def __call__(self, fn):
        seconds, runs, out = self.timer(fn)
        mb = float("nan")
        if self.memory and (runs > 1 or seconds <= self.slow):
            gc.collect()
            tracemalloc.start()
            fn()
            mb = tracemalloc.get_traced_memory()[1] / 2 ** 20
            tracemalloc.stop()
        return {"s": seconds, "runs": runs, "mb": mb, "out": out}


def _pairs(res, peer_a, peer_b, peer_value, sign=1.0):
    """Peer pair values in the toolkit's row order (a, b), flipping the sign of differences when reversed."""
    lookup = {}
    for a, b, v in zip(peer_a, peer_b, peer_value):
        lookup[(a, b)] = v
        lookup[(b, a)] = sign * v
    return np.array([lookup[(a, b)] for a, b in zip(res["group_a"], res["group_b"])], dtype=float)


# -- tasks: each returns rows (task, toolkit measure, peer name, peer measure, target, agreement) ----------
def task_omnibus(data, m):
    import pingouin as pg
    rows = []
    t = m(lambda: tk.anova(data, dv=DV, between=BETWEEN))
    f_t = t["out"]["statistic"].iloc[0]
    p = m(lambda: pg.anova(data=data, dv=DV, between=BETWEEN))
    rows.append(("`tk.anova`", t, "pingouin.anova", p, 1.0, f"F rel {rel_diff(f_t, p['out']['F'].iloc[0]):.1e}"))
    p = m(lambda: stats.f_oneway(*split(data)))
    rows.append(("`tk.anova`", t, "scipy.stats.f_oneway (+ split)", p, None,
                 f"F rel {rel_diff(f_t, p['out'].statistic):.1e}"))
    t = m(lambda: tk.welch_anova(data, dv=DV, between=BETWEEN))
    p = m(lambda: pg.welch_anova(data=data, dv=DV, between=BETWEEN))
    rows.append(("`tk.welch_anova`", t, "pingouin.welch_anova", p, 1.0,
                 f"F rel {rel_diff(t['out']['statistic'].iloc[0], p['out']['F'].iloc[0]):.1e}"))
    peer_s = m(lambda: stats.kruskal(*split(data)))
    peer_p = m(lambda: pg.kruskal(data=data, dv=DV, between=BETWEEN))
    routes = [("default: analytic CI", {}), ('effsize_ci="bootstrap"', {"effsize_ci": "bootstrap"}),
              ('effsize_ci="none"', {"effsize_ci": "none"})]
    if SKIP_BOOTSTRAP:
        routes.pop(1)
    for label, kw in routes:
        t = m(lambda kw=kw: tk.kruskal(data, dv=DV, between=BETWEEN, seed=1, **kw))
        h_t = t["out"]["statistic"].iloc[0]
        rows.append((f"`tk.kruskal` ({label})", t, "pingouin.kruskal", peer_p, 1.0,
                     f"H rel {rel_diff(h_t, peer_p['out']['H'].iloc[0]):.1e}"))
        rows.append((f"`tk.kruskal` ({label})", t, "scipy.stats.kruskal (+ split)", peer_s, None,
                     f"H rel {rel_diff(h_t, peer_s['out'].statistic):.1e}"))
    return rows


def task_posthoc(data, m):
    import pingouin as pg
    import scikit_posthocs as sp
    rows = []
    t = m(lambda: tk.pairwise(data, dv=DV, between=BETWEEN, method="tukey"))
    p = m(lambda: pg.pairwise_tukey(data=data, dv=DV, between=BETWEEN))
    res, out = t["out"], p["out"]
    rows.append(('`tk.pairwise(method="tukey")`', t, "pingouin.pairwise_tukey", p, 1.0,
                 f"p_adj abs {np.max(np.abs(res['p_adjusted'] - _pairs(res, out['A'], out['B'], out['p_tukey']))):.1e}"))
    t = m(lambda: tk.pairwise(data, dv=DV, between=BETWEEN, method="games_howell"))
    p = m(lambda: pg.pairwise_gameshowell(data=data, dv=DV, between=BETWEEN))
    res, out = t["out"], p["out"]
    rows.append(('`tk.pairwise(method="games_howell")`', t, "pingouin.pairwise_gameshowell", p, 1.0,
                 f"diff rel {rel_diff(res['estimate'], _pairs(res, out['A'], out['B'], out['diff'], -1.0)):.1e}; "
                 f"p_adj abs {np.max(np.abs(res['p_adjusted'] - _pairs(res, out['A'], out['B'], out['pval']))):.1e}"))
    t = m(lambda: tk.pairwise(data, dv=DV, between=BETWEEN, method="dunn", p_adjust="holm"))
    p = m(lambda: sp.posthoc_dunn(data, val_col=DV, group_col=BETWEEN, p_adjust="holm"))
    res = t["out"]
    p_sp = np.array([p["out"].loc[a, b] for a, b in zip(res["group_a"], res["group_b"])], dtype=float)
    rows.append(('`tk.pairwise(method="dunn")`, Holm', t, "scikit_posthocs.posthoc_dunn", p, 1.0,
                 f"p_holm rel {rel_diff(res['p_adjusted'], p_sp):.1e}"))
    return rows


def _peer_pipeline(data, with_cis: bool):
    import pingouin as pg
    means = data.groupby(SUBJECT, observed=True, sort=True).agg(rate=(DV, "mean"), department=(BETWEEN, "first"))
    omnibus = pg.welch_anova(data=means, dv=DV, between=BETWEEN)
    contrasts = pg.pairwise_gameshowell(data=means, dv=DV, between=BETWEEN)
    if with_cis:
        rng = np.random.default_rng(3)
        for _, x in means.groupby(BETWEEN, observed=True)[DV]:
            x = x.to_numpy()
            stats.t.interval(0.95, x.size - 1, loc=x.mean(), scale=stats.sem(x))
            stats.bootstrap((x,), np.median, n_resamples=2000, method="percentile", rng=rng)
    return omnibus, contrasts


def task_compare(data, m):
    t = m(lambda: tk.compare_groups(data, dv=DV, between=BETWEEN, subject=SUBJECT, seed=1))
    res = t["out"]
    rows = []
    for with_cis in (False, True):
        p = m(lambda w=with_cis: _peer_pipeline(data, w))
        f_peer = p["out"][0]["F"].iloc[0]
        f_t = res.omnibus["statistic"].iloc[0] if len(res.omnibus) else float("nan")
        rows.append((f"`tk.compare_groups(subject=\"account\")` auto ({res.analysis} on {res.unit} means)", t,
                     "pandas account means + pingouin Welch + Games-Howell" + (" + CIs" if with_cis else ""), p,
                     0.5 if with_cis else None, f"F rel {rel_diff(f_t, f_peer):.1e}"))
    return rows


# -- main ------------------------------------------------------------------------------------------------
def _fmt(meas, repeats) -> str:
    mark = "†" if meas["runs"] < repeats and repeats > 1 else ""
    return f"{meas['s']:.3f}{mark}" if meas["s"] < 10 else f"{meas['s']:.1f}{mark}"


def _mb(meas) -> str:
    return "—" if meas["mb"] != meas["mb"] else f"{meas['mb']:.0f}"


def render(rows, n, repeats) -> str:
    lines = ["| task | n | toolkit s | toolkit +MB | peer | peer s | peer +MB | ratio peer/toolkit | target | met | "
             "agreement |", "|---|---:|---:|---:|---|---:|---:|---:|---:|---|---|"]
    for task, t, peer, p, target, agree in rows:
        ratio = p["s"] / t["s"]
        met = "—" if target is None else ("yes" if ratio >= target else "**no**")
        tgt = "—" if target is None else f"≥ {target:g}"
        lines.append(f"| {task} | {n:,} | {_fmt(t, repeats)} | {_mb(t)} | {peer} | {_fmt(p, repeats)} | {_mb(p)} | "
                     f"{ratio:.2f} | {tgt} | {met} | {agree} |")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000, help="number of posts (default 1,000,000)")
    parser.add_argument("--repeats", type=int, default=3, help="runs per call; the median is reported")
    parser.add_argument("--slow", type=float, default=10.0, help="a call slower than this is run once")
    parser.add_argument("--tasks", default="omnibus,posthoc,compare")
    parser.add_argument("--no-memory", action="store_true", help="skip the tracemalloc run of each call")
    parser.add_argument("--skip-bootstrap", action="store_true",
                        help='leave out tk.kruskal(effsize_ci="bootstrap"), the earlier default (slow at 1M)')
    parser.add_argument("--no-write", action="store_true", help="print only; do not update reports/benchmarks.md")
    args = parser.parse_args(argv)
    global SKIP_BOOTSTRAP
    SKIP_BOOTSTRAP = args.skip_bootstrap
    import pingouin
    import scikit_posthocs
    versions = (f"toolkit {tk.__version__}, numpy {np.__version__}, pandas {pd.__version__}, scipy "
                f"{sys.modules['scipy'].__version__}, pingouin {pingouin.__version__}, scikit-posthocs "
                f"{scikit_posthocs.__version__}")
    started, load0, t_start = datetime.now(timezone.utc), os.getloadavg()[0], time.perf_counter()
    m = Measure(args.repeats, args.slow, not args.no_memory)
    data = make_posts(args.n)
    rows = []
    with threadpool_limits(limits=1), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ToolkitWarnings (pseudo-replication hints) and peers' FutureWarnings
        for name in args.tasks.split(","):
            print(f"... {name}", file=sys.stderr, flush=True)
            rows += {"omnibus": task_omnibus, "posthoc": task_posthoc, "compare": task_compare}[name](data, m)
    total, load1 = time.perf_counter() - t_start, os.getloadavg()[0]
    intro = (
        f"Closed-form tests at {args.n:,} **SIMULATED** posts (numpy `default_rng({SEED})`, 8 departments x 125 "
        f"accounts, outcome `rate = likes / reach`; see benchmarks/bench_closed_form.py), DataFrame input on both "
        f"sides, default outputs. Seconds: median of {args.repeats} runs († = one run, the first took > "
        f"{args.slow:g} s). +MB: peak Python-tracked allocation of one call (tracemalloc). Ratio > 1: the toolkit "
        f"is faster. Target: issue 13.\n\n"
        f"Measured {started:%Y-%m-%d %H:%M} UTC on {platform.machine()}, {os.cpu_count()} CPUs, Python "
        f"{platform.python_version()}; {versions}. Load average {load0:.1f} at the start, {load1:.1f} at the end "
        f"(other jobs share the CPUs). Whole run {total / 60:.1f} min.")
    text = intro + "\n\n" + render(rows, args.n, args.repeats)
    print(text)
    if not args.no_write:
        print(f"\nwrote {write_section('Closed-form statistics vs peers', text)}", file=sys.stderr)


if __name__ == "__main__":
    main()
