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
