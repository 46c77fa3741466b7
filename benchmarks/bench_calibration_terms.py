"""Benchmark: false-positive rates of the per-term tests of a GLMM with few accounts per department.

Run from the project root (not a test):
    OPENBLAS_NUM_THREADS=1 .venv/bin/python benchmarks/bench_calibration_terms.py            # ~6 min on 2 idle cores
    OPENBLAS_NUM_THREADS=1 .venv/bin/python benchmarks/bench_calibration_terms.py --quick    # smoke run, ~1 min

Question: when nothing differs, how often do ``tk.models.term_tests`` (likelihood ratio and Wald, type II) of
``comments ~ department * platform + offset(log(reach)) + (1|account)`` call a term significant at
alpha = 0.05? ``department`` is constant within each account (a between-account term: its information is the
handful of accounts per department), ``platform`` and ``department:platform`` vary within accounts (tested by
contrasts between the posts of the same accounts). The same data sets are also analysed by the cluster-robust
alternative: the NB GLM ``comments ~ department * platform + offset(log(reach))`` with
``subject="account", cov_type="cluster"`` and its CR2 Wald (HTZ F) term tests.

Design (SIMULATED with the generator ``simulate`` below, NULL: no effect of department, platform or their
interaction): k departments x m accounts per department; posts per account 5 + Poisson(25) (mean 30); each
post on platform "facebook" or "instagram" with probability 1/2 (so platform varies within every account);
reach = 1 + round(exp(N(log 500, 1))); comments ~ NB2 with mean reach * 0.01 * exp(u_account) and dispersion
0.8 (theta = 1.25); account effects u ~ N(0, 0.5^2) ("normal") or 0.5 * t(4) / sqrt(2) (SD 0.5, "t").
Cell i's replicate seeds are ``numpy.random.SeedSequence(ROOT_SEED).spawn(len(CELLS))[i].spawn(R)`` (each
replicate's generator is ``numpy.random.default_rng(child)``), so ``--quick`` runs the first replicates of the
same cells. With 2 x 1 there are only 2 accounts: the GLMM refuses a random intercept with fewer than 3 groups
(counted as "refused", not as a rejection).

Reported per cell and test: false-positive rate (FPR) with its Monte-Carlo SE sqrt(p (1 - p) / R); failures
(an exception or a NaN p-value) are excluded from the denominator and counted. Prints a Markdown table and
writes it as the section "Calibration of term tests" of reports/benchmarks.md (``benchmarks/_report.py``).
"""
from __future__ import annotations

import argparse
import json
import math
import sys
import time
import warnings
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from _report import write_section  # noqa: E402

ROOT_SEED = 20261205_14
ALPHA = 0.05
SD_ACCOUNT = 0.5
DISPERSION = 0.8
BASE_RATE = 0.01
FORMULA = "comments ~ department * platform + offset(log(reach))"
TERMS = ("department", "platform", "department:platform")
JOINT = "model.test (department with its interaction)"   # row 0 of EngagementModel.test: both terms jointly
METHODS = (("lr", "GLMM LR"), ("wald", "GLMM Wald"), ("cr2", "GLM CR2 Wald (HTZ)"))

# ---- the full grid: fixed order, so every cell keeps its seed index whatever subset runs -----------------------
CELLS = [dict(k=k, m=m, effects="normal") for k in (2, 4) for m in (1, 2, 4, 8)]
CELLS += [dict(k=4, m=m, effects="t") for m in (1, 2, 4, 8)]
CELLS += [dict(k=3, m=2, effects="normal"), dict(k=2, m=15, effects="normal")]
for _i, _c in enumerate(CELLS):
    _c["index"] = _i
# run order (the cells the toolkit's caution quotes first: 4 departments, normal account effects)
PRIORITY = [4, 5, 6, 7, 1, 2, 3, 13, 8, 9, 10, 11, 12, 0]
QUICK = [c["index"] for c in CELLS if c["effects"] == "normal" and (c["k"], c["m"]) in ((4, 2), (4, 8))]


def simulate(k, m, effects, rng):
    """One SIMULATED null data set (see the module docstring for the true parameters)."""
    import pandas as pd

    n_acc = k * m
    department = np.repeat([f"D{i + 1}" for i in range(k)], m)
    account = np.array([f"acc{i + 1:02d}" for i in range(n_acc)])
    if effects == "normal":
        u = rng.normal(0.0, SD_ACCOUNT, n_acc)
    else:
        u = SD_ACCOUNT * rng.standard_t(4, n_acc) / math.sqrt(2.0)   # Var t(4) = 2
    posts = 5 + rng.poisson(25, n_acc)
    a = np.repeat(np.arange(n_acc), posts)
    platform = np.where(rng.random(a.size) < 0.5, "facebook", "instagram")
    reach = 1.0 + np.round(np.exp(rng.normal(math.log(500.0), 1.0, a.size)))
    mu = reach * BASE_RATE * np.exp(u[a])
    theta = 1.0 / DISPERSION
    comments = rng.negative_binomial(theta, theta / (theta + mu))
    return pd.DataFrame({"account": account[a], "department": department[a], "platform": platform,
                         "reach": reach, "comments": comments})


def _seeds(cell, R):
    return np.random.SeedSequence(ROOT_SEED).spawn(len(CELLS))[cell["index"]].spawn(R)


def run_cell(task):
    """Replicates [start, stop) of one cell: p < alpha counts per (method, term), failures, seconds."""
    import toolkit as tk

    cell = task["cell"]
    reject = {(m, t): 0 for m, _ in METHODS for t in (*TERMS, JOINT)}
    valid = {(m, t): 0 for m, _ in METHODS for t in (*TERMS, JOINT)}
    refused = errors = 0
    first_error = ""
    t0 = time.perf_counter()
    for child in _seeds(cell, task["stop"])[task["start"]:]:
        data = simulate(cell["k"], cell["m"], cell["effects"], np.random.default_rng(child))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", tk.ToolkitWarning)
            warnings.simplefilter("ignore", RuntimeWarning)
            tables, joint = {}, {}
            try:
                glmm = tk.models.fit_engagement_model(data, formula=FORMULA + " + (1|account)")
                tables["lr"] = tk.models.term_tests(glmm, test="likelihood_ratio", type="II")
                tables["wald"] = tk.models.term_tests(glmm, test="wald", type="II")
                joint = {"lr": float(glmm.test["p_value"].iloc[0])}
            except ValueError as exc:
                if "at least 3 groups" in str(exc):
                    refused += 1
                else:
                    errors += 1
                    first_error = first_error or f"{type(exc).__name__}: {exc}"
            except Exception as exc:  # noqa: BLE001 - a failure is counted and reported, not fatal
                errors += 1
                first_error = first_error or f"{type(exc).__name__}: {exc}"
            try:
                glm = tk.models.fit_engagement_model(data, formula=FORMULA, subject="account", cov_type="cluster")
                tables["cr2"] = tk.models.term_tests(glm, test="wald", type="II")
                joint["cr2"] = float(glm.test["p_value"].iloc[0])
            except Exception as exc:  # noqa: BLE001
                errors += 1
                first_error = first_error or f"{type(exc).__name__}: {exc}"
        for m, tab in tables.items():
            p = dict(zip(tab["term"], tab["p_value"].to_numpy(dtype=float)))
            for t in TERMS:
                if np.isfinite(p.get(t, np.nan)):
                    valid[(m, t)] += 1
                    reject[(m, t)] += int(p[t] < ALPHA)
        for m, p in joint.items():
            if np.isfinite(p):
                valid[(m, JOINT)] += 1
                reject[(m, JOINT)] += int(p < ALPHA)
    return dict(index=cell["index"], reject=reject, valid=valid, refused=refused, errors=errors,
                first_error=first_error, seconds=time.perf_counter() - t0, n=task["stop"] - task["start"])


def _dump(part):
    out = dict(part)
    out["reject"] = {"|".join(k): v for k, v in part["reject"].items()}
    out["valid"] = {"|".join(k): v for k, v in part["valid"].items()}
    return json.dumps(out)


def _load(line):
    part = json.loads(line)
    part["reject"] = {tuple(k.split("|")): v for k, v in part["reject"].items()}
    part["valid"] = {tuple(k.split("|")): v for k, v in part["valid"].items()}
    return part


def _fmt(r, n, R):
    """FPR (MC SE); [n = valid p-values] when some replicates gave none (refused, failed or NaN)."""
    if n == 0:
        return "--"
    p = r / n
    return f"{p:.3f} ({math.sqrt(p * (1 - p) / n):.3f})" + (f" [n={n}]" if n < R else "")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="2 cells x 40 replicates (~1 min); no report written")
    ap.add_argument("--replicates", type=int, default=200)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--parts", help="append every finished chunk to this JSON-lines file (resumable record)")
    ap.add_argument("--table-from", help="build the table from a --parts file instead of running")
    args = ap.parse_args(argv)
    R = 40 if args.quick else args.replicates
    cells = [CELLS[i] for i in QUICK] if args.quick else sorted(CELLS, key=lambda c: PRIORITY.index(c["index"]))
    chunk = 20
    if args.table_from:
        parts = [_load(line) for line in Path(args.table_from).read_text().splitlines() if line.strip()]
        done = {p["index"] for p in parts}
        cells = [c for c in cells if c["index"] in done]
    else:
        tasks = [dict(cell=c, start=s, stop=min(s + chunk, R)) for c in cells for s in range(0, R, chunk)]
        parts = []
        with ProcessPoolExecutor(max_workers=args.workers) as ex:
            for part in ex.map(run_cell, tasks):
                parts.append(part)
                if args.parts:
                    with open(args.parts, "a") as fh:
                        fh.write(_dump(part) + "\n")
    agg = {}
    for part in parts:
        a = agg.setdefault(part["index"], dict(reject={}, valid={}, refused=0, errors=0, first_error="", n=0,
                                               seconds=0.0))
        for key in part["reject"]:
            a["reject"][key] = a["reject"].get(key, 0) + part["reject"][key]
            a["valid"][key] = a["valid"].get(key, 0) + part["valid"][key]
        for key in ("refused", "errors", "n", "seconds"):
            a[key] += part[key]
        a["first_error"] = a["first_error"] or part["first_error"]
    cols = [(m, t) for m, _ in METHODS for t in TERMS] + [("lr", JOINT), ("cr2", JOINT)]
    label = dict(METHODS)
    head = ["design (k x m)", "account effects", "R"] + [f"{label[m]}: {t}" for m, t in cols] + ["refused / failed"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for c in cells:
        a = agg[c["index"]]
        vals = [_fmt(a["reject"][key], a["valid"][key], a["n"]) for key in cols]
        lines.append(f"| {c['k']} x {c['m']} | {c['effects']} | {a['n']} | " + " | ".join(vals)
                     + f" | {a['refused']} / {a['errors']} |")
    table = "\n".join(lines)
    errs = [f"- {c['k']} x {c['m']} {c['effects']}: {agg[c['index']]['first_error']}" for c in cells
            if agg[c["index"]]["first_error"]]
    body = (
        "SIMULATED null data (`benchmarks/bench_calibration_terms.py`, root seed "
        f"{ROOT_SEED}; true parameters: no department, platform or interaction effect, account SD "
        f"{SD_ACCOUNT}, NB2 dispersion {DISPERSION}, base rate {BASE_RATE} comments per reach, about 30 posts per "
        "account, platform drawn per post so it varies within every account). Model "
        f"`{FORMULA} + (1|account)`; `tk.models.term_tests(..., type=\"II\")`. Cells: false-positive rate at "
        f"alpha = {ALPHA} (Monte-Carlo SE), [n = ...] when fewer replicates gave a p-value (refused, failed, "
        "or NaN: the CR2 test has no p-value when its HTZ denominator df are <= 0). `department` is constant "
        "within accounts (between-account term); "
        "`platform` and `department:platform` vary within accounts. CR2 = the NB GLM with "
        "`subject=\"account\", cov_type=\"cluster\"` (CR2 Wald, HTZ F). k x m = departments x accounts per "
        f"department. The last two columns are row 0 of `EngagementModel.test` (department and department:platform "
        "jointly: the GLMM's likelihood-ratio test, the GLM's CR2 Wald). R = replicates run; "
        f"{sum(a['seconds'] for a in agg.values()):.0f} s of analysis in all (summed over the processes, on a shared "
        "machine).\n\n" + table
        + ("\n\nFirst failure per cell:\n" + "\n".join(errs) if errs else ""))
    print(body)
    if not args.quick:
        path = write_section("Calibration of term tests", body)
        print(f"\nwritten to {path}")


if __name__ == "__main__":
    main()
