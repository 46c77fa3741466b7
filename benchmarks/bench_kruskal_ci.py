"""Benchmark: coverage and cost of the two epsilon-squared intervals of ``tk.kruskal`` (issue 13).

Run from the project root (not a test):
    OPENBLAS_NUM_THREADS=1 .venv/bin/python benchmarks/bench_kruskal_ci.py               # ~15 min on 2 shared cores
    for d in 0 1 2 3; do OPENBLAS_NUM_THREADS=1 .venv/bin/python benchmarks/bench_kruskal_ci.py --designs $d; done
                                                                    # the same in parts of 2-6 minutes (--record)
    OPENBLAS_NUM_THREADS=1 .venv/bin/python benchmarks/bench_kruskal_ci.py --replicates 20 --designs 0 --no-write

Question: which interval of epsilon squared (E^2_R = H / (n - 1)) should ``tk.kruskal`` compute by
default: the stratified percentile bootstrap (``effsize_ci="bootstrap"``, 2,000 resamples, O(n) per
resample on continuous outcomes) or the noncentral-F inversion of the ANOVA on the ranks
(``effsize_ci="analytic"``, O(1) after H)? The one that covers the true value at least as often, in
the designs users have, at 95%.

Data: SIMULATED. Designs (k groups, unequal sizes): k = 2 (10, 40); k = 3 (10, 15, 30);
k = 4 (15, 60, 250, 1000); k = 8 (10, 20, 40, 80, 150, 300, 600, 1000). Outcomes, group g with its
position z_g evenly spaced in [-1, 1] and effect delta:

* ``heavy-tailed rate``: lognormal, log-median delta * z_g, log-SD from 1.0 to 2.0 across the groups
  (continuous, heavy right tail, unequal spreads);
* ``tied counts``: discretised gamma counts floor(2 exp(delta z_g) G / 0.8), G ~ Gamma(0.8, 1)
  (integers with a long right tail, about half zeros without effect: many ties);
* ``zero-heavy counts``: a structural zero with probability expit(logit(0.7) - delta z_g), otherwise
  floor(3 exp(delta z_g) G / 0.8) (about 80% zeros; groups differ in both the zero share and the counts).

True parameter: the population value of E^2_R for the design's group proportions, i.e. the share of
the variance of the pooled mid-distribution function explained by the group (what H / (n - 1)
estimates). It is 0 exactly when delta = 0 (identical distributions, or equal log-medians for the
lognormals, so every P(Y_g < Y_h) = 1/2). Otherwise delta is found by bisection so that E^2_R of a
100,000-value population sample (common random numbers) hits the target (0.01 "small", 0.06
"moderate", 0.14 "large"), and the truth printed is E^2_R of an independent sample of about 1,000,000
values with the design's proportions (its Monte-Carlo error is below 0.001, far under the interval
widths here).

Per cell: R replicates (default 200), each analysed by ``tk.kruskal(..., effsize_ci=...)`` for both
routes on the same data set; coverage = share with ci_low <= truth <= ci_high, with its Monte-Carlo SE
sqrt(p (1 - p) / R); misses below / above; mean width; seconds per call (the whole ``tk.kruskal``
call on a DataFrame). A cell counts as "analytic at least as good" when its coverage is at least the
bootstrap's minus 2 SE of the difference. Seeds: ``numpy.random.SeedSequence(20261205)`` spawned per
cell (cell index in the table; replicate r of a cell is the r-th child of that cell's sequence).

Prints Markdown tables and writes them as the section "Kruskal-Wallis epsilon-squared interval" of
reports/benchmarks.md (``benchmarks/_report.py``).
"""
from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import special, stats

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from _report import write_section  # noqa: E402

ROOT_SEED = 20261205
LEVEL = 0.95
DESIGNS = [(10, 40), (10, 15, 30), (15, 60, 250, 1000), (10, 20, 40, 80, 150, 300, 600, 1000)]
OUTCOMES = ("heavy-tailed rate", "tied counts", "zero-heavy counts")
TARGETS = (("none", 0.0), ("small", 0.01), ("moderate", 0.06), ("large", 0.14))
CELLS = [dict(design=d, outcome=o, effect=e, target=t)
         for d in range(len(DESIGNS)) for o in OUTCOMES for e, t in TARGETS]
for _i, _c in enumerate(CELLS):
    _c["index"] = _i
NB_SIZE = 0.8
ZERO_SHARE = 0.7


# ---------------------------------------------------------------------------------------------
# Population: draws from a fixed uniform / normal / gamma base, monotone in delta
# ---------------------------------------------------------------------------------------------
def _base(sizes, rng):
    """Random base of one sample: group codes and the draws that the outcome transforms."""
    groups = np.repeat(np.arange(len(sizes)), sizes)
    n = groups.size
    return {"groups": groups, "normal": rng.standard_normal(n), "gamma": rng.standard_gamma(NB_SIZE, n),
            "zero": rng.random(n)}


def _outcome(base, k: int, outcome: str, delta: float) -> np.ndarray:
    z = np.linspace(-1.0, 1.0, k)[base["groups"]]
    if outcome == "heavy-tailed rate":
        sd = np.linspace(1.0, 2.0, k)[base["groups"]]
        return np.exp(delta * z + sd * base["normal"]) / 100.0
    mean = (2.0 if outcome == "tied counts" else 3.0) * np.exp(delta * z)
    y = np.floor(mean * base["gamma"] / NB_SIZE)              # discretised gamma: integer, about half zeros
    if outcome == "zero-heavy counts":
        share = special.expit(special.logit(ZERO_SHARE) - delta * z)
        y = np.where(base["zero"] < share, 0.0, y)
    return y


def epsilon_squared(y: np.ndarray, groups: np.ndarray) -> float:
    """E^2_R = SS_between / SS_total of the pooled mid-ranks (= tie-corrected H / (n - 1))."""
    r = stats.rankdata(y)
    r = r - r.mean()
    sums = np.bincount(groups, weights=r)
    sizes = np.bincount(groups)
    return float(np.sum(sums ** 2 / sizes) / np.sum(r * r))


def _population_sizes(sizes, total: int):
    m = max(1, total // sum(sizes))
    return [s * m for s in sizes]


def calibrate(cell) -> tuple[float, float]:
    """(delta, true E^2_R) of a cell; delta by bisection on a 100k sample, truth from an independent ~1M one."""
    sizes = DESIGNS[cell["design"]]
    k = len(sizes)
    if cell["target"] == 0.0:
        return 0.0, 0.0
    fit_seed, truth_seed = np.random.SeedSequence([ROOT_SEED, 1, cell["index"]]).spawn(2)
    fit_base = _base(_population_sizes(sizes, 100_000), np.random.default_rng(fit_seed))
    lo, hi = 0.0, 8.0
    for _ in range(30):
        mid = (lo + hi) / 2.0
        if epsilon_squared(_outcome(fit_base, k, cell["outcome"], mid), fit_base["groups"]) < cell["target"]:
            lo = mid
        else:
            hi = mid
    delta = (lo + hi) / 2.0
    big = _base(_population_sizes(sizes, 1_000_000), np.random.default_rng(truth_seed))
    return delta, epsilon_squared(_outcome(big, k, cell["outcome"], delta), big["groups"])


# ---------------------------------------------------------------------------------------------
# Coverage
# ---------------------------------------------------------------------------------------------
def run_cell(cell, replicates: int, n_resamples: int) -> dict:
    import toolkit as tk

    sizes = DESIGNS[cell["design"]]
    k = len(sizes)
    delta, truth = calibrate(cell)
    children = np.random.SeedSequence(ROOT_SEED).spawn(len(CELLS))[cell["index"]].spawn(replicates)
    labels = np.array([f"g{i + 1}" for i in range(k)])
    out = {m: {"cover": 0, "below": 0, "above": 0, "width": 0.0, "seconds": 0.0, "nan": 0}
           for m in ("bootstrap", "analytic")}
    est = 0.0
    for child in children:
        rng = np.random.default_rng(child)
        base = _base(sizes, rng)
        y = _outcome(base, k, cell["outcome"], delta)
        if np.all(y == y[0]):  # H undefined (every value tied): counted as a miss for both routes
            for m in out:
                out[m]["nan"] += 1
            continue
        data = pd.DataFrame({"department": labels[base["groups"]], "y": y})
        for method in ("bootstrap", "analytic"):
            t0 = time.perf_counter()
            row = tk.kruskal(data, dv="y", between="department", confidence_level=LEVEL, effsize_ci=method,
                             n_resamples=n_resamples, seed=rng).iloc[0]
            out[method]["seconds"] += time.perf_counter() - t0
            lo, hi = float(row["ci_low"]), float(row["ci_high"])
            if not (np.isfinite(lo) and np.isfinite(hi)):
                out[method]["nan"] += 1
                continue
            out[method]["width"] += hi - lo
            if truth < lo:
                out[method]["below"] += 1   # the interval lies above the truth
            elif truth > hi:
                out[method]["above"] += 1
            else:
                out[method]["cover"] += 1
        est += float(row["effect_size"])
    return {"cell": cell, "delta": delta, "truth": truth, "mean_estimate": est / replicates,
            "replicates": replicates, **out}


def _cov(res, method):
    r = res["replicates"]
    p = res[method]["cover"] / r
    return p, math.sqrt(max(p * (1.0 - p), 1e-12) / r)


def render(results, replicates, n_resamples) -> str:
    seconds = sum(r["seconds_cell"] for r in results)
    loads = sorted({r["load"].split(",")[0] for r in results}, key=float)
    when = sorted(r["finished"] for r in results)
    lines = [
        f"SIMULATED data (seed `SeedSequence({ROOT_SEED})` spawned per cell, cell index in the first column); "
        f"{replicates} replicates per cell; both intervals at {LEVEL:.0%} on the same data sets; bootstrap with "
        f"{n_resamples} resamples (`n_resamples` default). Truth: population E^2_R (0 exactly without effect; otherwise "
        f"from ~1,000,000 simulated values with the design's proportions). Coverage ± Monte-Carlo SE; "
        f"'lo>t' = interval entirely above the truth, 'hi<t' = entirely below; width = mean ci_high - ci_low; "
        f"s/call = whole `tk.kruskal` call on a DataFrame. Verdict: analytic coverage >= bootstrap coverage "
        f"- 2 SE of the difference. Run in parts ({when[0]} to {when[-1]}): {seconds:.0f} s of cells, 1-minute load average "
        f"at the start of a cell {loads[0]} to {loads[-1]} (2 cores shared with other jobs).",
        "",
        "| # | k: sizes | outcome | effect (delta) | true E² | mean Ê² | bootstrap cover | lo>t / hi<t | width "
        "| s/call | analytic cover | lo>t / hi<t | width | s/call | analytic ≥ bootstrap |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    worse = []
    for res in results:
        c = res["cell"]
        sizes = DESIGNS[c["design"]]
        pb, sb = _cov(res, "bootstrap")
        pa, sa = _cov(res, "analytic")
        ok = pa >= pb - 2.0 * math.sqrt(sa ** 2 + sb ** 2)
        if not ok:
            worse.append(c["index"])
        r = res["replicates"]
        cols = []
        for m in ("bootstrap", "analytic"):
            d = res[m]
            valid = r - d["nan"]
            cols += [f"{_cov(res, m)[0]:.3f} ± {_cov(res, m)[1]:.3f}", f"{d['below']} / {d['above']}"
                     + (f" ({d['nan']} NaN)" if d["nan"] else ""),
                     f"{d['width'] / max(valid, 1):.3f}", f"{d['seconds'] / r:.4f}"]
        lines.append(f"| {c['index']} | {len(sizes)}: {', '.join(map(str, sizes))} | {c['outcome']} | "
                     f"{c['effect']} ({res['delta']:.3f}) | {res['truth']:.4f} | {res['mean_estimate']:.4f} | "
                     + " | ".join(cols) + f" | {'yes' if ok else '**no**'} |")
    allb = [_cov(r, "bootstrap")[0] for r in results]
    alla = [_cov(r, "analytic")[0] for r in results]
    sec_b = sum(r["bootstrap"]["seconds"] for r in results) / sum(r["replicates"] for r in results)
    sec_a = sum(r["analytic"]["seconds"] for r in results) / sum(r["replicates"] for r in results)
    def width(r, m):
        return r[m]["width"] / max(r["replicates"] - r[m]["nan"], 1)
    ratios = [width(r, "analytic") / width(r, "bootstrap") for r in results if r["truth"] > 0]
    lines += ["", f"Mean coverage over {len(results)} cells: bootstrap {np.mean(allb):.3f} (lowest "
                  f"{min(allb):.3f}), analytic {np.mean(alla):.3f} (lowest {min(alla):.3f}); mean seconds per call: "
                  f"bootstrap {sec_b:.4f}, analytic {sec_a:.4f}. Cells where the analytic interval covers less "
                  f"than the bootstrap beyond Monte-Carlo error: "
                  f"{', '.join(map(str, worse)) if worse else 'none'}. Width analytic / bootstrap where the truth "
                  f"is above 0: median {np.median(ratios):.2f} (range {min(ratios):.2f}-{max(ratios):.2f}). With no "
                  f"effect the analytic lower limit is 0 whenever the rank F test has p > alpha/2, so it covers about "
                  f"1 - alpha/2 there; the percentile bootstrap of a statistic bounded at 0 and biased upward "
                  f"almost never reaches 0."]
    return "\n".join(lines)


DEFAULT_RECORD = Path(__file__).resolve().parents[1] / "data" / "interim" / "bench" / "kruskal_ci_cells.json"


def _load(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--replicates", type=int, default=200)
    parser.add_argument("--n-resamples", type=int, default=2000)
    parser.add_argument("--cells", type=int, nargs="*", default=None,
                        help=f"cell indices to run (0-{len(CELLS) - 1}; default all)")
    parser.add_argument("--designs", type=int, nargs="*", default=None, help="design indices to run (0-3)")
    parser.add_argument("--record", type=Path, default=DEFAULT_RECORD,
                        help="JSON file keeping every finished cell; cells already in it (same replicates and "
                             "resamples) are not run again, and the table is built from all of them, so a "
                             "long grid can be run in parts of a few minutes")
    parser.add_argument("--fresh", action="store_true",
                        help="ignore (and overwrite) the record; needed after changing this script or tk.kruskal, "
                             "since the record is keyed by the replicates and resamples only")
    parser.add_argument("--no-write", action="store_true", help="print only; leave reports/benchmarks.md alone")
    args = parser.parse_args(argv)
    key = f"R={args.replicates},B={args.n_resamples}"
    record = {} if args.fresh else _load(args.record)
    done = record.setdefault(key, {})
    wanted = [c for c in CELLS if (args.cells is None or c["index"] in args.cells)
              and (args.designs is None or c["design"] in args.designs)]
    t0 = time.perf_counter()
    for cell in wanted:
        if str(cell["index"]) in done:
            continue
        load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
        t_cell = time.perf_counter()
        res = run_cell(cell, args.replicates, args.n_resamples)
        res["load"] = load
        res["seconds_cell"] = time.perf_counter() - t_cell
        res["finished"] = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
        done[str(cell["index"])] = res
        args.record.parent.mkdir(parents=True, exist_ok=True)
        args.record.write_text(json.dumps(record, indent=1), encoding="utf-8")
        print(f"cell {cell['index']:2d} {DESIGNS[cell['design']]} {cell['outcome']:18s} {cell['effect']:8s} "
              f"truth {res['truth']:.4f}  bootstrap {_cov(res, 'bootstrap')[0]:.3f}  "
              f"analytic {_cov(res, 'analytic')[0]:.3f}  ({time.perf_counter() - t0:.0f} s, load {load})",
              file=sys.stderr)
    results = [done[str(c["index"])] for c in CELLS if str(c["index"]) in done]
    text = render(results, args.replicates, args.n_resamples)
    print(text)
    if not args.no_write:
        print(f"\nwrote {write_section('Kruskal-Wallis epsilon-squared interval', text)}", file=sys.stderr)


if __name__ == "__main__":
    main()
