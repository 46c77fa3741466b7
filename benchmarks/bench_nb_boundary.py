"""Benchmark: false positives and speed of the post-level NB2 GLM at the Poisson boundary, before and after the fix.

Run from the project root (not a test):
    OPENBLAS_NUM_THREADS=1 .venv/bin/python benchmarks/bench_nb_boundary.py [--replicates 400] [--big-n 200000]

Design (SIMULATED, the generator of tests/reference/models_boundary/make_simulated.py): Poisson comments with
rate 0.003 per reach in each of 4 departments, NO department effect and no overdispersion, 50-200 posts per
department, reach lognormal (median 1,000, log-SD 1); replicate r uses ``SeedSequence(20261129).spawn(R)[r]``.
Each replicate is analysed by ``fit_engagement_model(data, dv="comments", between="department",
exposure="reach", family="negbin")`` (no subject: the post-level NB GLM and its likelihood-ratio test of
department), timed per call (full + reduced model).

"Before" is the toolkit of commit ``--before-rev`` (default: the last commit without the fix), extracted with
``git archive`` into a temporary folder and run in its own process on the same replicates; "after" is the
working tree. Reported: the rejection rate of the department test at alpha = 0.05 with its Monte-Carlo standard
error sqrt(p (1 - p) / R), the share of fits with a positive log-likelihood, with theta reported above 1e8
(finite) or as inf, the rejection rate of the new overdispersion test (after only), seconds per call, and
``fit_glm(..., "negbin")`` seconds on ``--big-n`` posts of Poisson and of NB2 (theta = 1.5) data.
Prints a Markdown table and writes it as the section "NB2 at the Poisson boundary" of reports/benchmarks.md.
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import math
import os
import subprocess
import sys
import tarfile
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))
BEFORE_REV = "fbf9588c716c7a0b599055818750cca76785a209"
SEED = 20261129
BIG_SEED = 20261130


def _generator():
    spec = importlib.util.spec_from_file_location(
        "_boundary_sim", ROOT / "tests" / "reference" / "models_boundary" / "make_simulated.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.simulate_poisson_no_effect


def _big_data(n):
    rng = np.random.default_rng(BIG_SEED)  # SIMULATED: 5 departments, lognormal reach, no department effect
    g = rng.integers(0, 5, n)
    reach = rng.lognormal(np.log(1000.0), 1.0, n)
    mu = 0.003 * reach
    X = np.column_stack([np.ones(n)] + [(g == k).astype(float) for k in range(1, 5)])
    y_pois = rng.poisson(mu).astype(float)
    y_nb = rng.negative_binomial(1.5, 1.5 / (1.5 + mu)).astype(float)
    return X, np.log(reach), y_pois, y_nb


def worker(replicates, big_n):
    """Run in the process whose ``toolkit`` is under test; prints one JSON line."""
    import toolkit as tk
    from toolkit.models.glm import fit_glm

    simulate = _generator()
    rows = []
    for child in np.random.SeedSequence(SEED).spawn(replicates):
        data = simulate(np.random.default_rng(child))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            t0 = time.perf_counter()
            m = tk.models.fit_engagement_model(data, dv="comments", between="department", exposure="reach",
                                               family="negbin")
            sec = time.perf_counter() - t0
        t = m.test
        od = t[t["test"] == "overdispersion"]
        rows.append({"p": float(t["p_value"].iloc[0]), "stat": float(t["statistic"].iloc[0]),
                     "loglik": float(m.loglik), "theta": float(m.fit_statistics["theta"].iloc[0]),
                     "converged": bool(m.fit_statistics["converged"].iloc[0]),
                     "od_p": float(od["p_value"].iloc[0]) if len(od) else None, "sec": sec})
    big = {}
    if big_n:
        X, off, y_pois, y_nb = _big_data(big_n)
        for name, y in (("poisson_data", y_pois), ("nb_data", y_nb)):
            t0 = time.perf_counter()
            f = fit_glm(y, X, off, "negbin")
            theta = float(f["theta"]) if "theta" in f else float(np.exp(f["log_theta"]))   # "theta": after only
            big[name] = {"sec": time.perf_counter() - t0, "theta": theta,
                         "at_boundary": bool(f.get("theta_at_boundary", False)), "loglik": float(f["loglik"])}
    print(json.dumps({"rows": rows, "big": big, "toolkit": str(Path(tk.__file__).resolve().parent)}))


def _run(label, pythonpath, replicates, big_n):
    env = dict(os.environ, PYTHONPATH=str(pythonpath), OPENBLAS_NUM_THREADS="1")
    out = subprocess.run([sys.executable, __file__, "--worker", "--replicates", str(replicates),
                          "--big-n", str(big_n)], env=env, cwd=str(pythonpath), capture_output=True, text=True,
                         check=True)
    res = json.loads(out.stdout.strip().splitlines()[-1])
    if Path(res["toolkit"]) != (Path(pythonpath) / "toolkit").resolve():
        raise RuntimeError(f"{label}: imported the toolkit at {res['toolkit']}, not under {pythonpath}")
    res["label"] = label
    return res


def _summary(res):
    rows = res["rows"]
    R = len(rows)
    p = np.array([r["p"] for r in rows])
    rate = float(np.mean(p < 0.05))
    theta = np.array([r["theta"] for r in rows])
    od = [r["od_p"] for r in rows if r["od_p"] is not None]
    return {"label": res["label"], "R": R, "rate": rate, "se": math.sqrt(rate * (1 - rate) / R),
            "pos_loglik": float(np.mean([r["loglik"] > 0 for r in rows])),
            "runaway": float(np.mean(np.isfinite(theta) & (theta > 1e8))),
            "inf": float(np.mean(np.isinf(theta))),
            "nonconv": float(np.mean([not r["converged"] for r in rows])),
            "max_stat": float(np.max([r["stat"] for r in rows])),
            "od_rate": float(np.mean(np.array(od) < 0.05)) if od else float("nan"),
            "sec": float(np.mean([r["sec"] for r in rows])), "big": res["big"]}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--replicates", type=int, default=400)
    ap.add_argument("--big-n", type=int, default=200_000)
    ap.add_argument("--before-rev", default=BEFORE_REV)
    ap.add_argument("--worker", action="store_true")
    args = ap.parse_args()
    if args.worker:
        worker(args.replicates, args.big_n)
        return
    from _report import write_section

    with tempfile.TemporaryDirectory(prefix="bench_nb_before_") as tmp:
        archive = Path(tmp) / "before.tar"
        subprocess.run(["git", "archive", "-o", str(archive), args.before_rev, "toolkit"], cwd=ROOT, check=True)
        with tarfile.open(archive) as tf:
            tf.extractall(tmp, filter="data")
        before = _summary(_run(f"before ({args.before_rev[:7]})", tmp, args.replicates, args.big_n))
    after = _summary(_run("after (working tree)", ROOT, args.replicates, args.big_n))

    lines = [
        f"SIMULATED Poisson data, no department effect (seed {SEED}; {args.replicates} replicates of 4 "
        "departments x 50-200 posts, rate 0.003 per reach, lognormal reach). Post-level NB2 GLM "
        "(`fit_engagement_model(..., family=\"negbin\")`, no subject), likelihood-ratio test of department at "
        "alpha = 0.05. MC SE = sqrt(p (1 - p) / R). Seconds per call include the full and the reduced fit.",
        "",
        "| code | false-positive rate (MC SE) | loglik > 0 | theta > 1e8 (finite) | theta = inf | not converged "
        "| largest LR | overdispersion test rejects | s per call |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for s in (before, after):
        lines.append(f"| {s['label']} | {s['rate']:.3f} ({s['se']:.3f}) | {s['pos_loglik']:.3f} | {s['runaway']:.3f} "
                     f"| {s['inf']:.3f} | {s['nonconv']:.3f} | {s['max_stat']:.4g} | "
                     + ("-" if math.isnan(s["od_rate"]) else f"{s['od_rate']:.3f}") + f" | {s['sec']:.4f} |")
    if args.big_n:
        lines += ["", f"`fit_glm(y, X, log(reach), \"negbin\")` on {args.big_n:,} SIMULATED posts (seed {BIG_SEED}; "
                  "5 departments, no effect), one run each:", "",
                  "| data | code | seconds | theta | at boundary | loglik |", "|---|---|---|---|---|---|"]
        for name in ("poisson_data", "nb_data"):
            for s in (before, after):
                b = s["big"][name]
                lines.append(f"| {name.replace('_', ' ')} | {s['label']} | {b['sec']:.2f} | {b['theta']:.6g} | "
                             f"{b['at_boundary']} | {b['loglik']:.10g} |")
    text = "\n".join(lines)
    print(text)
    write_section("NB2 at the Poisson boundary", text)


if __name__ == "__main__":
    main()
