"""Scan + aggregate throughput on a generated 20-million-post Parquet dataset (GitHub issue 8).

Task: read the posts and sum five count columns (likes, comments, shares, reach, impressions)
per department x account. Measured in one run, each method in its own fresh Python process (so
peak memory is that method's own):

- ``pandas``: ``pd.read_parquet`` of the needed columns of all files, then ``groupby().sum()``.
- ``dask``: ``dask.dataframe.read_parquet`` + ``groupby().sum()`` on a 2-worker LocalCluster.
- ``toolkit (reduce)``: ``toolkit.distributed.aggregate_posts_dask`` on ``dd.read_parquet`` (the
  toolkit's reduction, no validation) on the same cluster.
- ``toolkit (validated)``: ``read_posts_dask`` (full validation and quality report: each file read
  once for the report, once more for the lazy data) followed by ``aggregate_posts_dask``: the
  end-to-end path of the toolkit.
- ``memory bound``: numpy ``sum`` over the same five int64 columns already in memory (best of 3):
  a memory-bandwidth bound for any scan on this machine.

Rows per second, CPU seconds of the client and the workers (load-insensitive: the ratio to plain
Dask's is the comparable number on a shared machine), peak resident memory (client process; each
Dask worker), the ratio of each method's rows/s to the memory bound, and the CPU seconds of the
validated path's steps on one file (where its time goes) are printed as a Markdown table and written into the
"Scan and aggregate" section of reports/benchmarks.md (other sections are left alone). Every
method's grand totals are checked against each other before anything is reported.

The data are SIMULATED (numpy, seed below) and cached under data/interim/bench/ (gitignored).
Usage: ``python benchmarks/bench_scan.py [--rows 20000000 ...] [--files 20 ...]`` (several sizes give one
table each; ``--files`` one value for all sizes or one per size).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))
from _report import write_section  # noqa: E402

SEED = 20261121
COUNTS = ["likes", "comments", "shares", "reach", "impressions"]
KEYS = ["department", "account"]
DEPARTMENTS = ["Social media team", "Marketing", "PR", "Customer service", "Management", "IT", "HR", "Sales"]
N_ACCOUNTS = 5000
SECTION = "Scan and aggregate (bench_scan.py)"


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


# ---------------------------------------------------------------------------------------------
# data
# ---------------------------------------------------------------------------------------------
def dataset(n_rows: int, n_files: int) -> Path:
    """Write (once) ``n_files`` Parquet files with ``n_rows`` SIMULATED posts in total."""
    import pandas as pd

    folder = ROOT / "data" / "interim" / "bench" / f"scan_{n_rows}_rows_{n_files}_files_seed{SEED}"
    done = folder / "SOURCE.md"
    if done.exists():
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    rng = np.random.default_rng(SEED)
    sizes = np.full(n_files, n_rows // n_files)
    sizes[: n_rows % n_files] += 1
    dept_of = np.array(DEPARTMENTS)[np.arange(N_ACCOUNTS) % len(DEPARTMENTS)]
    names = np.array([f"acct-{i:05d}" for i in range(N_ACCOUNTS)])
    start = 0
    for i, n in enumerate(sizes):
        acc = rng.integers(0, N_ACCOUNTS, n)
        reach = rng.integers(50, 20000, n)
        likes = rng.poisson(reach * 0.02)
        frame = pd.DataFrame({
            "post_id": np.arange(start + 1, start + n + 1, dtype="int64"),
            "account": pd.array(names[acc], dtype="str"),
            "department": pd.array(dept_of[acc], dtype="str"),
            "likes": likes,
            "comments": rng.poisson(reach * 0.003),
            "shares": rng.poisson(reach * 0.001),
            "reach": reach,
            "impressions": reach + rng.integers(0, 5000, n),
        })
        frame.to_parquet(folder / f"part-{i:03d}.parquet", index=False)
        start += n
    done.write_text(f"SIMULATED data for benchmarks/bench_scan.py: {n_rows} posts in {n_files} Parquet files, "
                    f"numpy default_rng(seed={SEED}); {N_ACCOUNTS} accounts in {len(DEPARTMENTS)} departments. "
                    f"Generated in {time.perf_counter() - t0:.1f} s.\n")
    return folder


# ---------------------------------------------------------------------------------------------
# one method per process
# ---------------------------------------------------------------------------------------------
def _cluster():
    import warnings

    from distributed import Client, LocalCluster
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                               memory_limit="8GiB", silence_logs=50)
        client = Client(cluster)
    return cluster, client


def _cpu_seconds() -> float:
    """User + system CPU seconds of this process so far (insensitive to other jobs sharing the CPUs)."""
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def _worker_cpu(client) -> float:
    return float(sum(client.run(_cpu_seconds).values()))


def _worker_rss(client) -> list[float]:
    out = client.run(lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0)
    return [round(v, 1) for v in out.values()]


def _totals(frame) -> dict:
    return {"n_groups": int(len(frame)), **{c: int(frame[c].sum()) for c in COUNTS}}


def run_method(method: str, folder: Path, n_rows: int) -> dict:
    import pandas as pd

    files = sorted(folder.glob("*.parquet"))
    result: dict = {"method": method}
    if method == "memory bound":
        cols = {c: pd.read_parquet(files, columns=[c])[c].to_numpy(dtype="int64") for c in COUNTS}
        best, best_cpu = np.inf, np.inf
        for _ in range(3):
            t0, c0 = time.perf_counter(), _cpu_seconds()
            totals = {c: int(cols[c].sum()) for c in COUNTS}
            best, best_cpu = min(best, time.perf_counter() - t0), min(best_cpu, _cpu_seconds() - c0)
        result.update(seconds=best, cpu_seconds=best_cpu, totals={"n_groups": None, **totals})
    elif method == "pandas":
        t0, c0 = time.perf_counter(), _cpu_seconds()
        frame = pd.read_parquet(files, columns=KEYS + COUNTS)
        out = frame.groupby(KEYS, sort=True, observed=True)[COUNTS].sum()
        result.update(seconds=time.perf_counter() - t0, cpu_seconds=_cpu_seconds() - c0, totals=_totals(out))
    else:
        import dask.dataframe as dd

        from toolkit.distributed import aggregate_posts_dask, read_posts_dask
        cluster, client = _cluster()
        try:
            w0 = _worker_cpu(client)
            t0, c0 = time.perf_counter(), _cpu_seconds()
            if method == "dask":
                ddf = dd.read_parquet([str(f) for f in files], columns=KEYS + COUNTS)
                out = ddf.groupby(KEYS)[COUNTS].sum().compute()
            elif method == "toolkit (reduce)":
                ddf = dd.read_parquet([str(f) for f in files], columns=KEYS + COUNTS)
                out = aggregate_posts_dask(ddf, by=KEYS, counts=COUNTS[:3], exposures=COUNTS[3:], scheduler=client)
            elif method == "toolkit (validated)":
                data, report = read_posts_dask(folder, scheduler=client)
                result["report_seconds"] = time.perf_counter() - t0  # first pass: report + duplicate shuffle
                result["report_entries"] = int(len(report.entries))
                result["rows_kept"] = int(report.n_rows_kept)
                out = aggregate_posts_dask(data, by=KEYS, counts=COUNTS[:3], exposures=COUNTS[3:], scheduler=client)
            else:
                raise ValueError(method)
            result.update(seconds=time.perf_counter() - t0, totals=_totals(out))
            result["cpu_seconds"] = _cpu_seconds() - c0 + _worker_cpu(client) - w0
            result["worker_peak_rss_mb"] = _worker_rss(client)
        finally:
            client.close()
            cluster.close()
    result["client_peak_rss_mb"] = round(_rss_mb(), 1)
    result["rows_per_second"] = n_rows / result["seconds"]
    return result


# ---------------------------------------------------------------------------------------------
# report
# ---------------------------------------------------------------------------------------------
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[20_000_000],
                        help="total posts; several sizes give one table each")
    parser.add_argument("--files", type=int, nargs="+", default=[20],
                        help="files per size (one value: the same for every size)")
    parser.add_argument("--run", help=argparse.SUPPRESS)
    parser.add_argument("--dir", help=argparse.SUPPRESS)
    parser.add_argument("--stages", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.stages:  # child process: the steps of one file, JSON on the last line
        print(json.dumps(_stages(Path(args.dir))))
        return
    if args.run:  # child process: one method, JSON on the last line
        print(json.dumps(run_method(args.run, Path(args.dir), args.rows[0])))
        return
    files = args.files * len(args.rows) if len(args.files) == 1 else args.files
    if len(files) != len(args.rows):
        raise SystemExit("--files: give one value, or one per --rows value")
    bodies = [_one_size(n_rows, n_files) for n_rows, n_files in zip(args.rows, files)]
    body = "\n\n".join(bodies)
    print(body)
    write_section(SECTION, body, path=ROOT / "reports" / "benchmarks.md")
    print(f"\nwritten to {ROOT / 'reports' / 'benchmarks.md'}", file=sys.stderr)


def _worker_environ() -> dict:
    """The environment a Dask nanny gives its workers (``distributed.nanny.pre-spawn-environ``).

    Notably ``MALLOC_TRIM_THRESHOLD_=65536``, which makes glibc return freed memory at once (and so map
    and fault it in again): pandas/numpy code that allocates many full-column temporaries costs about
    1.5x the CPU of the same code in a plain process (pyarrow's own allocator is not affected).
    """
    import dask.config
    import distributed  # noqa: F401  (registers its configuration)
    return {k: str(v) for k, v in dask.config.get("distributed.nanny.pre-spawn-environ", {}).items()}


def _stages_in_worker_environ(folder: Path) -> dict:
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", **_worker_environ()}
    proc = subprocess.run([sys.executable, __file__, "--stages", "--dir", str(folder)], capture_output=True,
                          text=True, check=False, env=env)
    if proc.returncode != 0:
        raise SystemExit(f"stages failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _stages(folder: Path) -> dict:
    """CPU seconds (best of 3) of the validated path's steps on the first file, in this process."""
    import warnings

    import pandas as pd

    from toolkit.data import collection, reading

    path = sorted(folder.glob("*.parquet"))[0]

    def best(fn):
        out, seconds = None, np.inf
        for _ in range(3):
            c0 = _cpu_seconds()
            out = fn()
            seconds = min(seconds, _cpu_seconds() - c0)
        return seconds, out

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        steps = {}
        steps["read_parquet (all columns)"], raw = best(lambda: pd.read_parquet(path))
        steps["read_file without the flag-only checks: data pass"], _ = best(
            lambda: reading.read_file(path, consistency=False))
        steps["read_file + row hashes: report pass"], read = best(lambda: reading.read_file(path, eligible=True))
        steps["split_file (id hashes, one key record per row)"], (_, keys) = best(
            lambda: collection.split_file(read, 0))
        steps["find_duplicates (one file's keys)"], _ = best(lambda: collection.find_duplicates(keys))
    return {"rows": len(raw), "steps": steps}


def _one_size(n_rows: int, n_files: int) -> str:
    folder = dataset(n_rows, n_files)
    methods = ["memory bound", "pandas", "dask", "toolkit (reduce)", "toolkit (validated)"]
    results = []
    for m in methods:
        print(f"... {n_rows:,} rows: {m}", file=sys.stderr, flush=True)
        proc = subprocess.run([sys.executable, __file__, "--run", m, "--dir", str(folder), "--rows", str(n_rows)],
                              capture_output=True, text=True, check=False,
                              env={**os.environ, "OPENBLAS_NUM_THREADS": "1"})
        if proc.returncode != 0:
            raise SystemExit(f"{m} failed:\n{proc.stderr[-3000:]}")
        results.append(json.loads(proc.stdout.strip().splitlines()[-1]))

    # all methods must have computed the same thing
    ref = results[1]["totals"]
    for r in results:
        for c in COUNTS:
            if r["totals"][c] != ref[c]:
                raise SystemExit(f"{r['method']}: total {c} {r['totals'][c]} differs from pandas {ref[c]}")
        if r["totals"]["n_groups"] not in (None, ref["n_groups"]):
            raise SystemExit(f"{r['method']}: {r['totals']['n_groups']} groups, pandas {ref['n_groups']}")

    stages = _stages_in_worker_environ(folder)
    base = stages["steps"]["read_parquet (all columns)"]
    rows_per_file = n_rows // n_files
    extra = max(np.mean(results[-1].get("worker_peak_rss_mb", [0])) - np.mean(results[2].get("worker_peak_rss_mb",
                                                                                            [0])), 0.0)
    bound = results[0]["rows_per_second"]
    pandas_rate = results[1]["rows_per_second"]
    dask_seconds = results[2]["seconds"]
    dask_cpu = results[2]["cpu_seconds"]
    lines = ["| method | seconds | rows/s | vs memory bound | vs pandas | time / plain dask | CPU s (client + workers) "
             "| CPU / plain dask | peak RSS client (MB) | peak RSS per worker (MB) |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
    for r in results:
        workers = ", ".join(f"{v:.0f}" for v in r.get("worker_peak_rss_mb", [])) or "-"
        lines.append(f"| {r['method']} | {r['seconds']:.3f} | {r['rows_per_second']:.3g} | "
                     f"{r['rows_per_second'] / bound:.4f} | {r['rows_per_second'] / pandas_rate:.2f} | "
                     f"{r['seconds'] / dask_seconds:.2f} | {r['cpu_seconds']:.2f} | "
                     f"{r['cpu_seconds'] / dask_cpu:.2f} | "
                     f"{r['client_peak_rss_mb']:.0f} | {workers} |")
    val = results[-1]
    return "\n".join([
        f"Scan + group-by sum of {', '.join(COUNTS)} per department x account over **{n_rows:,} SIMULATED "
        f"posts** in {n_files} Parquet files (numpy seed {SEED}; {ref['n_groups']} groups). One run, each "
        f"method in a fresh process; Dask methods on a LocalCluster with 2 worker processes x 1 thread "
        f"(cluster start-up not timed). 'memory bound' = numpy sum over the five int64 columns already in "
        f"memory (best of 3). All methods returned identical totals. Measured "
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} on {platform.machine()}, {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}; other jobs were sharing the CPUs, so absolute times are "
        f"pessimistic and ratios are the meaningful numbers.",
        "",
        *lines,
        "",
        f"'toolkit (validated)' reads and parses every file once for the report (read_posts_dask: the per-file "
        f"read also hashes the rows for the duplicate checks, which run on the cluster; {val['report_seconds']:.1f} "
        f"s) and once more when the lazy data are reduced by aggregate_posts_dask, applying every read_posts rule; "
        f"it kept {val.get('rows_kept', 'n/a'):,} rows with {val.get('report_entries', 'n/a')} report entries. Its "
        f"client holds the report and the duplicates found, not per-row hashes: client peak RSS "
        f"{val['client_peak_rss_mb']:.0f} MB (plain dask {results[2]['client_peak_rss_mb']:.0f} MB). Worker peak "
        f"RSS above plain dask's: {extra:.0f} MB, about {extra * 2**20 / rows_per_file:.0f} bytes per row of a "
        f"file ({rows_per_file:,} rows per file).",
        "",
        f"Where the validated path's time goes (CPU seconds of one {stages['rows']:,}-row file in one process "
        f"with the environment Dask gives its workers ({', '.join(f'{k}={v}' for k, v in _worker_environ().items())}"
        f"; glibc then returns freed memory at once, which costs pandas code about 1.5x the CPU of a plain "
        f"process), best of 3; 'CPU / plain dask' above is the load-insensitive ratio):",
        "",
        "| step | CPU s per file | x read_parquet |",
        "|---|---:|---:|",
        *[f"| {k} | {v:.3f} | {v / base:.1f} |" for k, v in stages["steps"].items()],
    ])


if __name__ == "__main__":
    main()
