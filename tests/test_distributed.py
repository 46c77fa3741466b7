"""The Dask path gives exactly the results of the in-memory path (toolkit.distributed).

A real ``dask.distributed.LocalCluster`` (2 worker processes) is started once for the module.
The reference is always the in-memory toolkit on the same data: ``tk.read_posts`` on the
concatenated files, ``tk.add_metrics``, ``tk.summarize_metrics``, ``aggregate_posts``.
"""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import toolkit as tk
from toolkit.aggregate import aggregate_posts

dd = pytest.importorskip("dask.dataframe")
distributed = pytest.importorskip("distributed")

from toolkit.data.dask_reading import _read_posts_in_memory  # noqa: E402
from toolkit.distributed import (  # noqa: E402
    add_metrics_dask,
    aggregate_posts_dask,
    read_posts_dask,
    summarize_metrics_dask,
)

N_FILES = 4


@pytest.fixture(scope="module")
def client():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                           dashboard_address=None)
        cl = distributed.Client(cluster, set_as_default=False)
    yield cl
    cl.close()
    cluster.close()


def _raw_posts() -> pd.DataFrame:
    """Simulated posts with problems planted within and across files."""
    sim = tk.simulate_organization(n_accounts_per_department=3, posts_per_account=25, seed=11)
    raw = sim.data.drop(columns="source_row").reset_index(drop=True)
    raw["likes"] = raw["likes"].astype("Int64")
    n = len(raw)
    q = n // N_FILES
    raw.loc[q + 3, "post_id"] = pd.NA            # blank id in file 1 -> generated 'row-<global>'
    raw.loc[3 * q + 5, "post_id"] = pd.NA        # blank id in file 3
    raw.loc[3 * q + 5, "likes"] = -4             # ... with a repaired count on the same row
    raw.loc[2 * q + 7, "likes"] = -1             # negative count
    raw.loc[1, "interactions_reported"] = 999999  # total_mismatch
    copy_across = raw.iloc[[2]]                  # exact copy of a row of file 0 ...
    same_id = raw.iloc[[10]].assign(likes=pd.array([12345], dtype="Int64"))  # same id, other values
    within = raw.iloc[[3 * q + 1]]               # a duplicate inside file 3
    parts = [raw.iloc[i * q:(i + 1) * q if i < N_FILES - 1 else n] for i in range(N_FILES)]
    parts[2] = pd.concat([parts[2].iloc[:4], copy_across, parts[2].iloc[4:], same_id])
    parts[3] = pd.concat([parts[3], within, copy_across])  # ... again in file 3
    return [p.reset_index(drop=True) for p in parts]


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    root = tmp_path_factory.mktemp("dist")
    parts = _raw_posts()
    pq = root / "parquet"
    pq.mkdir()
    for i, p in enumerate(parts):
        p.to_parquet(pq / f"part-{i}.parquet")
    csv = root / "csv"
    csv.mkdir()
    whole = pd.concat(parts, ignore_index=True)
    whole_csv = root / "whole.csv"
    whole.to_csv(whole_csv, index=False)
    lines = whole_csv.read_text(encoding="utf-8").splitlines(keepends=True)
    header, body = lines[0], lines[1:]
    sizes = [len(p) for p in parts]
    body.insert(5, ",,,,,,,,,,,,,,,,\n")  # an empty row (all cells blank) in file 0
    sizes[0] += 1
    with open(whole_csv, "w", encoding="utf-8", newline="") as fh:
        fh.write(header + "".join(body))
    start = 0
    for i, k in enumerate(sizes):
        (csv / f"part-{i}.csv").write_text(header + "".join(body[start:start + k]), encoding="utf-8")
        start += k
    return {"parquet_dir": pq, "csv_dir": csv, "whole_csv": whole_csv, "parts": parts}


@pytest.fixture(scope="module")
def parquet_pair(files, client):
    expected, exp_report = tk.read_posts(pd.concat(files["parts"], ignore_index=True))
    data, report = read_posts_dask(files["parquet_dir"], scheduler=client)
    got = client.compute(data).result()
    return expected, exp_report, got, report, data


def _same_entries(report, exp_report):
    pd.testing.assert_frame_equal(report.entries, exp_report.entries, check_exact=True)
    assert report.n_rows_in == exp_report.n_rows_in
    assert report.n_rows_kept == exp_report.n_rows_kept


def test_parquet_read_identical(parquet_pair):
    expected, exp_report, got, report, data = parquet_pair
    assert data.npartitions == N_FILES
    pd.testing.assert_frame_equal(got, expected, check_exact=True)
    _same_entries(report, exp_report)
    rules = set(exp_report.entries["rule"])
    # the planted problems are really there, so the comparison is not vacuous
    assert {"duplicate_row", "duplicate_post_id", "missing_post_id", "negative_count", "total_mismatch"} <= rules
    dup = exp_report.entries.query("rule == 'duplicate_row'")
    assert len(dup) == 3
    assert dup["message"].str.contains("identical to row 3 in every column").sum() == 2
    assert got["post_id"].str.startswith("row-").sum() == 2
    report.check(got)


def test_csv_read_identical(files, client):
    expected, exp_report = tk.read_posts(files["whole_csv"])
    data, report = read_posts_dask(str(files["csv_dir"] / "*.csv"), scheduler=client)
    got = client.compute(data).result()
    pd.testing.assert_frame_equal(got, expected, check_exact=True)
    _same_entries(report, exp_report)
    assert "empty_row" in set(report.entries["rule"])
    assert any("Checked across files" in n for n in report.notes)


def test_metrics_identical(parquet_pair, client):
    expected, _, _, _, data = parquet_pair
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", tk.ToolkitWarning)
        exp = tk.add_metrics(expected, metrics="all", denominator=["reach", "audience"])
    got = client.compute(add_metrics_dask(data, metrics="all", denominator=["reach", "audience"])).result()
    pd.testing.assert_frame_equal(got, exp, check_exact=True)


@pytest.mark.parametrize("by", ["department", ["department", "account"]])
def test_summaries_identical(parquet_pair, client, by):
    expected, _, _, _, data = parquet_pair
    exp = tk.summarize_metrics(expected, by=by, metrics="available", denominator="reach")
    got = summarize_metrics_dask(data, by=by, metrics="available", denominator="reach", scheduler=client)
    # everything built from counts is identical ...
    pd.testing.assert_frame_equal(got.drop(columns="mean_of_ratios"), exp.drop(columns="mean_of_ratios"),
                                  check_exact=True)
    # ... the mean of per-post rates is a float sum: equal up to the order of addition
    rel = np.abs(got["mean_of_ratios"] - exp["mean_of_ratios"]) / np.abs(exp["mean_of_ratios"])
    assert float(np.nanmax(rel)) < 1e-13
    assert got["mean_of_ratios"].isna().equals(exp["mean_of_ratios"].isna())


@pytest.mark.parametrize("period", [None, "month"])
def test_reductions_identical(parquet_pair, client, period):
    expected, _, _, _, data = parquet_pair
    with pytest.warns(tk.ToolkitWarning, match="left out"):
        exp = aggregate_posts(expected, period=period, nan_policy="omit")
    with pytest.warns(tk.ToolkitWarning, match="left out"):
        got = aggregate_posts_dask(data, period=period, nan_policy="omit", scheduler=client)
    pd.testing.assert_frame_equal(got, exp, check_exact=True)
    assert got.attrs["n_omitted"] == exp.attrs["n_omitted"] >= 1
    assert int(got["n_posts"].sum() + got["n_omitted"].sum()) == len(expected)


def test_scheduler_address_is_used(parquet_pair, client):
    expected, _, _, _, data = parquet_pair
    scheduler = client.cluster.scheduler
    before = scheduler.transition_counter
    got = aggregate_posts_dask(data.dropna(subset=["likes"]), by="department", counts="likes", exposures="reach",
                               scheduler=client.scheduler.address)
    assert isinstance(client.scheduler.address, str)
    assert scheduler.transition_counter > before  # the tasks ran on that cluster
    exp = aggregate_posts(expected.dropna(subset=["likes"]), by="department", counts="likes", exposures="reach")
    pd.testing.assert_frame_equal(got, exp, check_exact=True)


def test_pandas_input_rejected():
    with pytest.raises(TypeError, match=r"aggregate_posts_dask: `data` must be a dask.dataframe.DataFrame"):
        aggregate_posts_dask(pd.DataFrame({"department": ["a"], "likes": [1]}))


def test_no_files(tmp_path):
    with pytest.raises(ValueError, match=r"read_posts_dask: `source` must be a directory or glob matching"):
        read_posts_dask(str(tmp_path / "*.parquet"))


def test_mismatched_files(tmp_path):
    pd.DataFrame({"post_id": ["a"], "likes": [1]}).to_parquet(tmp_path / "a.parquet")
    pd.DataFrame({"post_id": ["b"], "comments": [1]}).to_parquet(tmp_path / "b.parquet")
    with pytest.raises(ValueError, match=r"read_posts_dask: `source` must be files with the same columns"):
        read_posts_dask(tmp_path, scheduler="synchronous")


def test_bad_scheduler_type(files):
    with pytest.raises(TypeError, match=r"`scheduler` must be None, a scheduler address"):
        read_posts_dask(files["parquet_dir"], scheduler=3)


# ---------------------------------------------------------------------------------------------
# duplicates decided on the cluster (issue 13): across many files, never via per-row arrays
# ---------------------------------------------------------------------------------------------
def _plain_posts(n: int, seed: int) -> pd.DataFrame:
    """SIMULATED clean posts (numpy default_rng(seed)): unique ids, no planted problems."""
    rng = np.random.default_rng(seed)
    reach = rng.integers(100, 5000, n)
    return pd.DataFrame({
        "post_id": [f"p{i:06d}" for i in range(n)],
        "account": pd.array([f"acct-{i}" for i in rng.integers(0, 30, n)], dtype="str"),
        "department": pd.array(np.array(["Marketing", "PR", "IT"])[rng.integers(0, 3, n)], dtype="str"),
        "likes": rng.poisson(reach * 0.02),
        "comments": rng.poisson(reach * 0.002),
        "reach": reach,
    })


def _write_parts(parts, folder):
    folder.mkdir()
    for i, p in enumerate(parts):
        p.reset_index(drop=True).to_parquet(folder / f"part-{i}.parquet")
    return folder


def test_duplicates_spanning_files(tmp_path, client):
    raw = _plain_posts(400, seed=5).astype({"post_id": "object"})
    raw.loc[150, "post_id"] = None                      # blank id in file 1 ...
    parts = [raw.iloc[i * 100:(i + 1) * 100] for i in range(4)]
    x = raw.iloc[[7]]                                    # row of file 0, again in files 1, 2 and 3
    y = raw.iloc[[120]]                                  # row of file 1, twice in file 2
    blank = raw.iloc[[150]]                              # ... copied into file 3 (generated ids differ)
    same_id = raw.iloc[[30]].assign(likes=999)           # file 0's id with other values, in file 2
    parts[1] = pd.concat([parts[1].iloc[:10], x, parts[1].iloc[10:]])
    parts[2] = pd.concat([y, parts[2].iloc[:5], x, same_id, y, parts[2].iloc[5:]])
    parts[3] = pd.concat([parts[3].iloc[:50], blank, x, parts[3].iloc[50:]])
    folder = _write_parts(parts, tmp_path / "dups")
    expected, exp_report = tk.read_posts(pd.concat(parts, ignore_index=True))
    data, report = read_posts_dask(folder, scheduler=client)
    got = client.compute(data).result()
    pd.testing.assert_frame_equal(got, expected, check_exact=True)
    _same_entries(report, exp_report)
    dup = exp_report.entries.query("rule == 'duplicate_row'")
    assert len(dup) == 6  # x three more times, y twice, the blank-id row once
    assert dup["message"].str.contains("identical to row 8 in every column").sum() == 3
    assert exp_report.entries.query("rule == 'duplicate_post_id'")["post_id"].tolist() == ["p000030"]
    mem, mem_report = _read_posts_in_memory(folder)  # the pandas engine's path gives the same
    pd.testing.assert_frame_equal(mem, expected, check_exact=True)
    _same_entries(mem_report, exp_report)


def test_excluded_rows_are_never_first_copies(tmp_path, client):
    """A repeated header or a summary row excluded in one file does not make a later copy a duplicate."""
    raw = _plain_posts(60, seed=6)
    folder = tmp_path / "csv"
    folder.mkdir()
    header = ",".join(raw.columns) + "\n"
    total = "TOTAL,,," + ",".join(str(int(raw[c].sum())) for c in ["likes", "comments", "reach"]) + "\n"
    texts = []
    for i in range(3):
        body = raw.iloc[i * 20:(i + 1) * 20].to_csv(index=False, header=False).splitlines(keepends=True)
        body.insert(8, header)        # the same repeated header line in every file
        body.append(total)            # the same summary row at the end of every file
        texts.append(body)
        (folder / f"part-{i}.csv").write_text(header + "".join(body), encoding="utf-8")
    whole = tmp_path / "whole.csv"
    whole.write_text(header + "".join(line for body in texts for line in body), encoding="utf-8")
    expected, exp_report = tk.read_posts(whole)
    rules = exp_report.entries["rule"].value_counts()
    assert rules.get("repeated_header") == 3 and rules.get("summary_row") == 3 and "duplicate_row" not in rules
    data, report = read_posts_dask(folder, scheduler=client)
    pd.testing.assert_frame_equal(client.compute(data).result(), expected, check_exact=True)
    _same_entries(report, exp_report)


def test_client_receives_only_duplicates(tmp_path, client, monkeypatch):
    """What comes back to the client is the report and the duplicates, not per-row hashes."""
    import pickle
    from contextlib import contextmanager

    import toolkit.data.dask_reading as dist

    n = 20_000
    raw = _plain_posts(n, seed=7)
    parts = [raw.iloc[i * 5000:(i + 1) * 5000] for i in range(4)]
    parts[3] = pd.concat([parts[3], raw.iloc[[1, 6000]]])  # two duplicates across files
    folder = _write_parts(parts, tmp_path / "big")
    received = []
    real = dist.scheduler_client

    @contextmanager
    def spy(scheduler, func):
        with real(scheduler, func) as compute:
            def recording(*objs):
                out = compute(*objs)
                received.append(out)
                return out
            yield recording

    monkeypatch.setattr(dist, "scheduler_client", spy)
    data, report = read_posts_dask(folder, scheduler=client)
    assert report.entries["rule"].tolist() == ["duplicate_row", "duplicate_row"]
    (out,) = received
    *summaries, found = out
    assert len(found) <= 6  # the 2 duplicate rows and the members of their id groups
    sizes = []

    def walk(obj):
        if isinstance(obj, (np.ndarray, pd.Series, pd.Index, pd.DataFrame, list, tuple, dict, set)):
            sizes.append(len(obj))
        for v in (obj.values() if isinstance(obj, dict) else obj if isinstance(obj, (list, tuple)) else ()):
            walk(v)
    walk(summaries)
    assert max(sizes) < 100  # nothing of the size of a file (5,000 rows) came back
    assert len(pickle.dumps(out)) < 50_000  # the former design brought >= 32 bytes per row (640 kB here)


# ---------------------------------------------------------------------------------------------
# read_posts options for folders (issue 13)
# ---------------------------------------------------------------------------------------------
def test_header_row_duplicate_columns_allow_unparseable(tmp_path, client):
    raw = _plain_posts(45, seed=8)
    raw.insert(3, "note", "a")
    raw["note2"] = "b"
    raw["posted_at"] = ["2025-03-01"] * 45
    bad = [i * 15 + k for i in range(3) for k in (0, 2, 3, 5, 7, 8, 11, 13)]
    raw.loc[bad, "posted_at"] = "soon"  # 8 of 15 dates unreadable in every file: more than half
    lines = raw.to_csv(index=False).splitlines(keepends=True)
    header = lines[0].replace("note2", "note")  # two columns named 'note'
    title = "Page export,,,,,,,,\n"
    folder = tmp_path / "opts"
    folder.mkdir()
    for i in range(3):
        (folder / f"part-{i}.csv").write_text(title + header + "".join(lines[1 + i * 15:1 + (i + 1) * 15]),
                                              encoding="utf-8")
    whole = tmp_path / "whole.csv"
    whole.write_text(title + header + "".join(lines[1:]), encoding="utf-8")
    opts = dict(header_row=2, duplicate_columns="number", allow_unparseable=["posted_at"])
    expected, exp_report = tk.read_posts(whole, **opts)
    assert "note (2)" in expected.columns and expected["posted_at"].isna().sum() == 24
    data, report = read_posts_dask(folder, scheduler=client, **opts)
    pd.testing.assert_frame_equal(client.compute(data).result(), expected, check_exact=True)
    _same_entries(report, exp_report)
    mem, mem_report = _read_posts_in_memory(folder, **opts)
    pd.testing.assert_frame_equal(mem, expected, check_exact=True)
    # without the options each file is refused, as the concatenated file is
    with pytest.raises(ValueError, match="allow_unparseable"):
        read_posts_dask(folder, scheduler="synchronous", header_row=2, duplicate_columns="number")
    with pytest.raises(ValueError, match="duplicate_columns"):
        read_posts_dask(folder, scheduler="synchronous", duplicate_columns="drop")


def test_in_memory_read_works_without_dask(tmp_path):
    """The pandas engine's folder path imports no Dask (issue 16)."""
    import subprocess
    import sys
    import textwrap

    folder = _write_parts([_plain_posts(30, seed=9).iloc[i * 10:(i + 1) * 10] for i in range(3)], tmp_path / "nd")
    code = textwrap.dedent(f"""
        import sys
        for name in ("dask", "dask.dataframe", "distributed"):
            sys.modules[name] = None  # import fails as if not installed
        from toolkit.data.dask_reading import _read_posts_in_memory, read_posts_dask
        data, report = _read_posts_in_memory({str(folder)!r})
        assert len(data) == 30 and report.n_rows_in == 30, (len(data), report.n_rows_in)
        try:
            read_posts_dask({str(folder)!r})
        except ImportError as exc:
            assert "dask[dataframe] to be installed" in str(exc)
        else:
            raise SystemExit("read_posts_dask ran without dask")
        print("ok")
    """)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.strip() == "ok"
