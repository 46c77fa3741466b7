"""Reading an export at the size exports come in (issue 13): ``tk.read_posts`` against ``pandas.read_csv``.

Run from the project root with the project's environment::

    OPENBLAS_NUM_THREADS=1 .venv/bin/python benchmarks/bench_read.py                 # 300k posts (+ a 1M run: --big)
    OPENBLAS_NUM_THREADS=1 .venv/bin/python benchmarks/bench_read.py --rows 30000 --repeats 1   # smoke run

Data: a SIMULATED platform export written as CSV (``numpy.random.default_rng(20261205)``, cached under
``data/interim/bench/read_<rows>_seed20261205.csv``, gitignored): columns post_id, account (600 accounts),
department (8 of ``config.DEPARTMENTS``), platform, content_type, posted_at (text with a UTC offset,
``"2024-03-05 14:22:10+07:00"``, 2024), reach (lognormal), likes / comments / shares (negative
binomial), plus a few messy rows like real exports have: 0.5% exact duplicate rows, 1% blank count
cells, 0.1% abbreviated counts ("1.2K"), 0.02% unparseable dates ("not a date"), 0.05% "N/A" accounts,
0.01% negative counts, and department labels with a trailing space in 0.05% of the rows.

Methods, each timed in the same run on the same file (median of ``--repeats``):

* ``pandas``: ``pd.read_csv(path, parse_dates=["posted_at"])`` — the peer a user would write (no
  validation, no report; its dates come out as ``datetime64[ns, UTC+07:00]``);
* ``toolkit``: ``tk.read_posts(path)`` — mapping, parsing, every rule, and the full quality report
  (``report.entries`` is built inside the timed call).

Memory: peak resident-set growth of one call, measured in a fresh subprocess per method (Linux: the
peak ``VmHWM`` is reset through ``/proc/self/clear_refs`` after imports and a 200-line warm-up call, and
the peak after the call minus the RSS before it is reported; the file is already in the page cache),
so numpy, pandas and Arrow buffers all count. The toolkit's output is checked (rows kept = rows - excluded,
canonical dtypes, report accounting) before anything is printed.

Targets (issue 13): toolkit time within 4x of pandas (goal 2x), peak memory growth within 3x (goal 2x); the
verdict says by how much a goal is missed. Where the time goes: one more ``tk.read_posts`` call with its steps
(``STAGES``) wrapped, CPU time per step, beside pandas' ``read_csv`` and ``to_datetime`` in the same run.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

SEED = 20261205
CACHE = ROOT / "data" / "interim" / "bench"
DEPARTMENTS = ("Social media team", "Marketing", "PR", "Customer service", "Management", "IT", "HR", "Sales")
PLATFORMS = ("Facebook", "Instagram", "X/Twitter", "LinkedIn")
CONTENT = ("photo", "video", "status", "link")


def make_export(path: Path, n: int, seed: int = SEED) -> dict:
    """Write a SIMULATED n-post export (see the module docstring) to ``path``; return what was planted."""
    rng = np.random.default_rng(seed)
    accounts = np.array([f"account_{i:03d}" for i in range(600)], dtype=object)
    acc = rng.integers(0, 600, size=n)
    dept = np.array(DEPARTMENTS, dtype=object)[acc % 8]
    plat = np.array(PLATFORMS, dtype=object)[rng.integers(0, 4, size=n)]
    ctype = np.array(CONTENT, dtype=object)[rng.integers(0, 4, size=n)]
    start = np.datetime64("2024-01-01T00:00:00")
    secs = rng.integers(0, 365 * 86400, size=n).astype("timedelta64[s]")
    posted = pd.Series((start + secs).astype("datetime64[s]")).dt.strftime("%Y-%m-%d %H:%M:%S") + "+07:00"
    reach = (np.round(rng.lognormal(np.log(2000.0), 0.8, size=n)) + 1).astype("int64")
    mean = reach * 0.02
    likes = rng.negative_binomial(1.2, 1.2 / (1.2 + mean))
    comments = rng.negative_binomial(1.2, 1.2 / (1.2 + mean * 0.1))
    shares = rng.negative_binomial(1.2, 1.2 / (1.2 + mean * 0.05))
    frame = pd.DataFrame({
        "post_id": [f"p{i:08d}" for i in range(n)], "account": accounts[acc], "department": dept,
        "platform": plat, "content_type": ctype, "posted_at": posted,
        "reach": reach.astype(str).astype(object), "likes": likes.astype(str).astype(object),
        "comments": comments.astype(str).astype(object), "shares": shares.astype(str).astype(object)})
    planted = {}

    def pick(share):
        return rng.choice(n, size=max(1, int(n * share)), replace=False)

    blank = pick(0.01)
    frame.loc[blank, "comments"] = ""
    abbrev = pick(0.001)
    frame.loc[abbrev, "reach"] = [f"{v / 1000:.1f}K" for v in rng.integers(1000, 90000, size=len(abbrev))]
    bad_date = pick(0.0002)
    frame.loc[bad_date, "posted_at"] = "not a date"
    na_acc = pick(0.0005)
    frame.loc[na_acc, "account"] = "N/A"
    neg = pick(0.0001)
    frame.loc[neg, "shares"] = "-1"
    space = pick(0.0005)
    frame.loc[space, "department"] = frame.loc[space, "department"] + " "
    planted.update(blank=len(blank), abbreviated=len(abbrev), bad_dates=len(bad_date), na_account=len(na_acc),
                   negative=len(neg), label_space=len(space))
    dups = pick(0.005)
    out = pd.concat([frame, frame.iloc[np.sort(dups)]], ignore_index=True)
    order = np.argsort(np.concatenate([np.arange(n) * 2.0, np.sort(dups) * 2.0 + 1.0]), kind="stable")
    out = out.iloc[order].reset_index(drop=True)
    planted["duplicates"] = len(dups)
    path.parent.mkdir(parents=True, exist_ok=True)
    out.to_csv(path, index=False)
    planted["rows"] = len(out)
    return planted


def export_path(rows: int) -> Path:
    path = CACHE / f"read_{rows}_seed{SEED}.csv"
    if not path.exists():
        planted = make_export(path, rows)
        (CACHE / f"read_{rows}_seed{SEED}.json").write_text(json.dumps(planted))
        source = CACHE / "SOURCE.md"
        if not source.exists():
            source.write_text("SIMULATED data written by benchmarks/ scripts (seeded); safe to delete.\n")
    return path


def read_with(method: str, path) -> tuple:
    """One read by ``method``: "pandas" (``read_csv(parse_dates=...)``), "pandas+dates" (``read_csv`` then
    ``to_datetime(ISO8601, utc)``) or "toolkit" (``tk.read_posts`` with its report's entries built).
    Returns the frame and the report (None for pandas)."""
    if method == "pandas":
        return pd.read_csv(path, parse_dates=["posted_at"]), None
    if method == "pandas+dates":
        out = pd.read_csv(path)
        out["posted_at"] = pd.to_datetime(out["posted_at"], format="ISO8601", utc=True, errors="coerce")
        return out, None
    import toolkit as tk
    data, report = tk.read_posts(path)
    report.entries
    return data, report


_CHILD = r"""
import gc, json, resource, sys, time
import pandas as pd
sys.path.insert(0, {root!r})
sys.path.insert(0, {benchmarks!r})
import toolkit as tk
from bench_read import read_with

def rss():
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * resource.getpagesize()

def peak():
    with open("/proc/self/status") as fh:
        return next(int(line.split()[1]) * 1024 for line in fh if line.startswith("VmHWM"))

method, path = sys.argv[1], sys.argv[2]
with open(path, "rb") as fh:
    fh.read()   # page cache warm for both methods
warm = path + ".warm.csv"   # a first small call, so that lazy imports are not counted as data
with open(path, encoding="utf-8") as fh, open(warm, "w", encoding="utf-8") as out_fh:
    out_fh.writelines(line for _, line in zip(range(200), fh))
if method.startswith("pandas"):
    pd.read_csv(warm, parse_dates=["posted_at"])
else:
    tk.read_posts(warm)[1].entries
import os
os.unlink(warm)
gc.collect()
with open("/proc/self/clear_refs", "w") as fh:
    fh.write("5")   # reset the peak (VmHWM) to the current RSS: import-time peaks do not count
before = rss()
start = time.perf_counter()
out = read_with(method, path)
seconds = time.perf_counter() - start
print(json.dumps({{"growth": peak() - before, "seconds": seconds}}))
"""


def memory(method: str, path: Path) -> dict:
    """Peak RSS growth of one call in a fresh interpreter (imports done before the baseline)."""
    code = _CHILD.format(root=str(ROOT), benchmarks=str(Path(__file__).resolve().parent))
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1")
    done = subprocess.run([sys.executable, "-c", code, method, str(path)], capture_output=True, text=True, env=env,
                          check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def check_output(data: pd.DataFrame, report, planted: dict) -> list[str]:
    """The toolkit's table: rows, dtypes and report accounting (raises on a mismatch)."""
    import toolkit as tk

    schema = {c.name: c.dtype for c in tk.config.POST_SCHEMA}
    expected_rows = planted["rows"] - planted["duplicates"]
    rules = report.entries["rule"].value_counts()
    problems = []
    if len(data) != expected_rows:
        problems.append(f"{len(data)} rows kept, expected {expected_rows}")
    if int(rules.get("duplicate_row", 0)) != planted["duplicates"]:
        problems.append(f"{int(rules.get('duplicate_row', 0))} duplicate_row entries, planted {planted['duplicates']}")
    for col in data.columns:
        want = schema.get(col)
        if want is None:
            continue
        got = str(data[col].dtype)
        if want == "category" and got != "category" or want != "category" and got != want:
            problems.append(f"{col}: dtype {got}, schema {want}")
    report.check(data)
    if problems:
        raise AssertionError("; ".join(problems))
    return [f"{k} {v}" for k, v in rules.items()]


#: Steps of ``tk.read_posts`` timed by :func:`stages` (module, function); a call inside another timed step
#: counts for the outer one only.
STAGES = (
    ("read the text into a grid of strings (pyarrow)", "reading", "_load_source"),
    ("rows that are not posts (repeated headers, blank, summary rows)", "reading",
     ("_repeated_header_rows", "_empty_rows", "_descriptive_header_rows", "_summary_rows")),
    ("duplicate rows", "reading", "_duplicate_rows"),
    ("distinct texts of the label columns (factorize)", "parsing", "_factorize_text"),
    ("counts (4 columns)", "parsing", "_parse_count_text"),
    ("dates", "parsing", ("parse_datetime_series", "_parse_datetime_text")),
    ("labels, content types, accounts", "reading", ("_labels", "_content_types", "_take_factorized")),
    ("consistency checks", "reading", "_consistency"),
    ("report entries (one `report.add` per entry)", "quality", "QualityReport.add"),
)


def stages(path: Path) -> dict:
    """CPU seconds of each step in :data:`STAGES` during one ``tk.read_posts`` call, and of the whole call.

    The functions are wrapped for this one call only (the timed runs above are not instrumented); CPU
    time, so that the steps add up on a shared machine. Beside them, pandas' two steps.
    """
    import toolkit as tk
    from toolkit.data import parsing, quality, reading

    modules = {"reading": reading, "parsing": parsing, "quality": quality}
    spent: dict[str, float] = {}
    depth = [0]
    originals = []

    def wrap(owner, name, label):
        original = getattr(owner, name)

        def timed(*args, **kwargs):
            depth[0] += 1
            start = time.process_time()
            try:
                return original(*args, **kwargs)
            finally:
                depth[0] -= 1
                if depth[0] == 0:
                    spent[label] = spent.get(label, 0.0) + time.process_time() - start
        originals.append((owner, name, original))
        setattr(owner, name, timed)

    for label, module, names in STAGES:
        for name in (names,) if isinstance(names, str) else names:
            owner = modules[module]
            if "." in name:
                cls, name = name.split(".")
                owner = getattr(owner, cls)
            wrap(owner, name, label)
    try:
        start = time.process_time()
        tk.read_posts(path)[1].entries
        total = time.process_time() - start
    finally:
        for owner, name, original in reversed(originals):
            setattr(owner, name, original)
    start = time.process_time()
    peer = pd.read_csv(path)
    peer_read = time.process_time() - start
    start = time.process_time()
    pd.to_datetime(peer["posted_at"], format="ISO8601", utc=True, errors="coerce")
    peer_dates = time.process_time() - start
    return {"total": total, "steps": spent, "peer_read": peer_read, "peer_dates": peer_dates}


def run(rows: int, repeats: int) -> dict:
    path = export_path(rows)
    planted = json.loads((CACHE / f"read_{rows}_seed{SEED}.json").read_text())
    path.read_bytes()
    methods = ("pandas", "pandas+dates", "toolkit")
    times = {m: [] for m in methods}
    cpu = {m: [] for m in methods}
    outputs = {}
    for _ in range(repeats):
        for method in methods:
            t0, c0 = time.perf_counter(), time.process_time()
            outputs[method] = read_with(method, path)
            times[method].append(time.perf_counter() - t0)
            cpu[method].append(time.process_time() - c0)
    (data, report), peer = outputs["toolkit"], outputs["pandas"][0]
    rules = check_output(data, report, planted)
    mem = {m: memory(m, path) for m in methods}
    med = {m: float(np.median(v)) for m, v in times.items()}
    cpu_med = {m: float(np.median(v)) for m, v in cpu.items()}
    return {"rows": planted["rows"], "bytes": path.stat().st_size, "time": med, "cpu": cpu_med, "mem": mem,
            "rules": rules, "peer_dtype": str(peer["posted_at"].dtype), "kept": len(data), "stages": stages(path)}


def table(results: list[dict], repeats: int) -> str:
    lines = ["| rows in file | MB | method | wall s | CPU s | peak RSS growth MB | toolkit / method: wall | CPU | "
             "memory |", "|---|---|---|---|---|---|---|---|---|"]
    for r in results:
        t, c, m = r["time"], r["cpu"], r["mem"]
        for method, label in (("pandas", "`read_csv(parse_dates=...)`"),
                              ("pandas+dates", "`read_csv` + `to_datetime(ISO8601, utc)`"),
                              ("toolkit", "`tk.read_posts` + report")):
            ratios = ("", "", "")
            if method != "toolkit":
                ratios = (f"{t['toolkit'] / t[method]:.1f}x", f"{c['toolkit'] / c[method]:.1f}x",
                          f"{m['toolkit']['growth'] / m[method]['growth']:.1f}x")
            lines.append(f"| {r['rows']:,} | {r['bytes'] / 1e6:.1f} | {label} | {t[method]:.2f} | {c[method]:.2f} | "
                         f"{m[method]['growth'] / 1e6:.0f} | {' | '.join(ratios)} |")
    verdicts = []
    for r in results:
        t, c, m = r["time"], r["cpu"], r["mem"]
        tr, cr = t["toolkit"] / t["pandas+dates"], c["toolkit"] / c["pandas+dates"]
        mr = m["toolkit"]["growth"] / m["pandas+dates"]["growth"]
        goal = ("met" if max(tr, cr) <= 2 else
                f"missed by {max(tr, cr) - 2:.2f}x: the toolkit would need "
                f"{t['toolkit'] - 2 * t['pandas+dates']:.2f} s less wall time and "
                f"{c['toolkit'] - 2 * c['pandas+dates']:.2f} s less CPU")
        verdicts.append(f"- {r['rows']:,} rows against pandas with the dates parsed: wall {tr:.2f}x, CPU {cr:.2f}x "
                        f"(target 4x: {'met' if max(tr, cr) <= 4 else 'MISSED'}; goal 2x: {goal}); memory {mr:.2f}x "
                        f"(target 3x: {'met' if mr <= 3 else 'MISSED'}; goal 2x: "
                        f"{'met' if mr <= 2 else f'missed by {mr - 2:.2f}x'}).")
    steps = []
    for r in results:
        st = r["stages"]
        steps += ["", f"Where the toolkit's time goes, {r['rows']:,} rows (CPU ms of one instrumented call; "
                      f"`tk.read_posts` {st['total'] * 1e3:.0f} ms in that call; pandas in the same run: `read_csv` "
                      f"{st['peer_read'] * 1e3:.0f} ms, `to_datetime` {st['peer_dates'] * 1e3:.0f} ms):", "",
                  "| step | CPU ms | share |", "|---|---|---|"]
        shown = 0.0
        for label, _, _ in STAGES:
            ms = st["steps"].get(label, 0.0) * 1e3
            shown += ms
            steps.append(f"| {label} | {ms:.0f} | {ms / (st['total'] * 1e3):.0%} |")
        other = st["total"] * 1e3 - shown
        steps.append(f"| everything else (post ids, output frame and dtypes, report check, ...) | {other:.0f} | "
                     f"{other / (st['total'] * 1e3):.0%} |")
    notes = [f"- {r['rows']:,} rows: toolkit kept {r['kept']:,}; report rules: {', '.join(r['rules'])}; pandas "
             f"posted_at dtype {r['peer_dtype']}." for r in results]
    return "\n".join([
        f"SIMULATED export (seed {SEED}, see `benchmarks/bench_read.py`), {platform.machine()}, {os.cpu_count()} "
        f"cores, load average {os.getloadavg()[0]:.1f} at the end; {datetime.now(timezone.utc):%Y-%m-%d %H:%M} "
        f"UTC. Times: median of {repeats} wall-clock runs in one process, methods alternating; CPU = process "
        f"time (pyarrow reads on 2 threads). Memory: peak RSS growth of one call in a fresh subprocess "
        f"(VmHWM after the call, reset just before it, minus RSS before it). `tk.read_posts` includes every rule and "
        f"`report.entries`. Targets (issue 13) are judged against pandas with the dates parsed (`parse_dates` alone "
        f"leaves the column as text when one date is bad).", "", *lines, "", *verdicts, *notes, *steps])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=300_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--big", action="store_true", help="also run 1,000,000 posts once")
    args = parser.parse_args()
    results = [run(args.rows, args.repeats)]
    if args.big:
        results.append(run(1_000_000, 1))
    text = table(results, args.repeats)
    print(text)
    from _report import write_section

    write_section("Reading exports (read_posts vs pandas.read_csv)", text)


if __name__ == "__main__":
    main()
