"""Many files -> one table + one report, pandas only (toolkit.data.collection; issue 16, item 1)."""
from __future__ import annotations

import ast
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import toolkit as tk
from toolkit.data import collection, reading

ROOT = Path(__file__).resolve().parents[1]


def _workbook(path, rows):
    openpyxl = pytest.importorskip("openpyxl")
    wb = openpyxl.Workbook()
    for r in rows:
        wb.active.append(r)
    wb.save(path)


def test_collection_imports_neither_dask_nor_a_higher_layer():
    tree = ast.parse((ROOT / "toolkit" / "data" / "collection.py").read_text(encoding="utf-8"))
    imported = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    imported |= {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
    assert not any(m.split(".")[0] in ("dask", "distributed") for m in imported), imported
    assert {m for m in imported if m.startswith("toolkit")} <= {"toolkit", "toolkit._validation",
                                                                 "toolkit.data.quality"}
    # reading.py and posts.py never import toolkit.distributed (posts.py imports data.dask_reading when chosen)
    for name in ("reading.py", "posts.py"):
        source = (ROOT / "toolkit" / "data" / name).read_text(encoding="utf-8")
        assert "distributed" not in {a.name.split(".")[-1] for n in ast.walk(ast.parse(source))
                                     if isinstance(n, ast.ImportFrom) for a in n.names}
    # the Dask engine is a data-layer module that imports Dask only inside its functions
    engine_tree = ast.parse((ROOT / "toolkit" / "data" / "dask_reading.py").read_text(encoding="utf-8"))
    top = {a.name for n in engine_tree.body if isinstance(n, ast.Import) for a in n.names}
    top |= {n.module for n in engine_tree.body if isinstance(n, ast.ImportFrom) and n.module}
    assert not any(m.split(".")[0] in ("dask", "distributed") for m in top), top


def test_folder_of_csvs_and_a_workbook_reads_without_dask(tmp_path):
    """read_posts(folder, engine="pandas") and the "auto" default work in a process where dask cannot be imported."""
    pytest.importorskip("openpyxl")
    folder = tmp_path / "exports"
    folder.mkdir()
    (folder / "a.csv").write_text("post_id,department,likes\np1,PR,5\np2,IT,-1\np2,IT,-1\n")
    (folder / "b.csv").write_text("post_id,department,likes\np3,HR,7\np1,PR,5\np4,IT,x\n,PR,2\n")
    _workbook(folder / "c.xlsx", [["post_id", "department", "likes"], ["p5", "PR", 1], ["p3", "HR", 7]])
    (folder / "notes.json").write_text("{}")
    code = textwrap.dedent(f"""
        import importlib.abc, sys

        class NoDask(importlib.abc.MetaPathFinder):
            def find_spec(self, name, path=None, target=None):
                if name.split(".")[0] in ("dask", "distributed"):
                    raise ImportError(f"No module named {{name!r}} (blocked by the test)")
                return None

        sys.meta_path.insert(0, NoDask())
        import toolkit as tk
        from toolkit.data import posts
        folder = {str(folder)!r}
        for engine in ("pandas", "auto"):
            data, report = tk.read_posts(folder, engine=engine)
            assert data["post_id"].tolist() == ["p1", "p2", "p3", "p4", "row-7", "p5"], data["post_id"].tolist()
            assert data["source_row"].tolist() == [1, 2, 4, 6, 7, 8]
            assert report.n_rows_in == 9 and len(data) + report.n_rows_excluded == 9
            dup = report.entries.query("rule == 'duplicate_row'")
            assert dup["source_row"].tolist() == [3, 5, 9], dup
            assert dup["message"].tolist()[1:] == ["identical to row 1 in every column; the first occurrence is "
                                                   "kept", "identical to row 4 in every column; the first "
                                                   "occurrence is kept"]
            assert set(report.entries["rule"]) == {{"negative_count", "duplicate_row", "unparseable_number",
                                                    "missing_post_id"}}
            assert any(n.startswith("c.xlsx: Excel workbook") for n in report.notes)
            assert any("'notes.json'" in n and n.startswith("Skipped") for n in report.notes)
        posts.DASK_THRESHOLD_BYTES = 10  # "auto" would choose Dask: it falls back, and says so
        data, report = tk.read_posts(folder)
        assert len(data) == 6 and any("dask is not installed" in n for n in report.notes), report.notes
        try:
            tk.read_posts(folder, engine="dask")
        except ImportError as exc:
            text = str(exc)
            assert text.startswith("read_posts: dask[dataframe] to be installed for engine='dask'"), text
            assert "read_posts_dask" not in text and "engine='pandas'" in text, text
        else:
            raise SystemExit("engine='dask' ran without dask")
        assert not any(m.split(".")[0] == "dask" for m in sys.modules), "dask was imported"
        print("ok")
    """)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False,
                          cwd=str(ROOT))
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.strip().splitlines()[-1] == "ok"


def _parts():
    """SIMULATED posts (tk.simulate_organization seed 21) in three files, with problems planted across them."""
    sim = tk.simulate_organization(n_accounts_per_department=2, posts_per_account=10, seed=21)
    raw = sim.data.drop(columns="source_row").reset_index(drop=True)
    raw["post_id"] = raw["post_id"].astype("object")
    raw.loc[4, "post_id"] = None            # blank id -> generated 'row-5' ...
    raw.loc[70, "post_id"] = "row-5"         # ... which a real id in the last file repeats
    raw.loc[12, "likes"] = -2                # a repair
    parts = [raw.iloc[:30], raw.iloc[30:60], raw.iloc[60:]]
    parts[1] = pd.concat([parts[1].iloc[:3], raw.iloc[[8]], parts[1].iloc[3:]])  # file 0's row again in file 1
    parts[2] = pd.concat([parts[2], raw.iloc[[8]], raw.iloc[[40]], raw.iloc[[4]]])  # ... and in file 2, plus more
    return [p.reset_index(drop=True) for p in parts]


@pytest.mark.parametrize("suffix", ["parquet", "csv"])
def test_read_files_equals_one_read_of_the_concatenated_files(tmp_path, suffix):
    parts = _parts()
    paths = []
    for i, p in enumerate(parts):
        path = tmp_path / f"part-{i}.{suffix}"
        if suffix == "parquet":
            p.to_parquet(path)
        else:
            p.to_csv(path, index=False)
        paths.append(str(path))
    if suffix == "parquet":
        expected, exp_report = tk.read_posts(pd.concat(parts, ignore_index=True))
    else:
        whole = tmp_path / "whole.csv"
        pd.concat(parts, ignore_index=True).to_csv(whole, index=False)
        expected, exp_report = tk.read_posts(whole)
    data, report = collection.read_files(paths, read_file=reading.read_file, options={}, func="read_posts",
                                         source=str(tmp_path))
    pd.testing.assert_frame_equal(data, expected, check_exact=True)
    pd.testing.assert_frame_equal(report.entries, exp_report.entries, check_exact=True)
    assert report.n_rows_in == exp_report.n_rows_in == len(data) + report.n_rows_excluded
    rules = report.entries["rule"].value_counts()
    assert rules["duplicate_row"] == 4 and rules["missing_post_id"] == 1  # the blank-id row copied is a duplicate
    flagged = report.entries.query("rule == 'duplicate_post_id'")
    assert "row-5" in flagged["post_id"].tolist()  # a generated id repeated by a real one in a later file
    # the front door gives the same, with its notes
    front, front_report = tk.read_posts(paths, engine="pandas")
    pd.testing.assert_frame_equal(front, expected, check_exact=True)
    assert any("engine='pandas'" in n for n in front_report.notes)


def test_read_file_is_read_posts_plus_the_eligible_rows(tmp_path):
    path = tmp_path / "a.csv"
    path.write_text("post_id,likes\np1,5\n,,\np1,5\nTotal,10\np2,3\n")
    read = reading.read_file(path, eligible=True)
    data, report = tk.read_posts(path)
    pd.testing.assert_frame_equal(read.data, data)
    pd.testing.assert_frame_equal(read.report.entries, report.entries)
    # eligible: kept rows and the duplicate (row 3), not the empty row 2 or the summary row 4
    assert read.eligible["row"].tolist() == [1, 3, 5] and read.has_post_id
    h = read.eligible.set_index("row")
    assert (h.loc[1, "h1"], h.loc[1, "h2"]) == (h.loc[3, "h1"], h.loc[3, "h2"])
    assert h.loc[1, "h1"] != h.loc[5, "h1"]
    assert reading.read_file(path).eligible is None


def test_row_keys_keep_the_global_order():
    keys = np.concatenate([collection.encode_rows(0, [1, 7]), collection.encode_rows(2, [1, 3]),
                           collection.encode_rows(1, [4])])
    offs = collection.offsets([7, 4, 3])
    assert collection.decode_rows(keys, offs).tolist() == [1, 7, 12, 14, 11]
    assert np.argsort(keys, kind="stable").tolist() == np.argsort(collection.decode_rows(keys, offs),
                                                                  kind="stable").tolist()


def test_the_dask_engine_lives_in_the_data_layer():
    pytest.importorskip("dask.dataframe")
    from toolkit import distributed
    from toolkit.data import dask_reading
    assert tk.read_posts_dask is dask_reading.read_posts_dask is distributed.read_posts_dask
    with pytest.raises(ValueError, match="engine"):
        tk.read_posts(pd.DataFrame({"post_id": ["a"]}), engine="spark")


def test_dask_engine_reads_each_file_once_for_the_report(tmp_path, monkeypatch):
    """No counting pass and no second load: one read_file per file for the report, one more for the data."""
    pytest.importorskip("dask.dataframe")
    import toolkit.data.dask_reading as dist

    parts = _parts()
    for i, p in enumerate(parts):
        p.to_parquet(tmp_path / f"part-{i}.parquet")
    calls = []
    real = reading.read_file

    def counting(path, **kw):
        calls.append((Path(path).name, kw.get("eligible", False)))
        return real(path, **kw)

    loads = []
    real_load = reading._load_source

    def counting_load(source, **kw):
        loads.append(Path(source).name)
        return real_load(source, **kw)

    monkeypatch.setattr(reading, "read_file", counting)
    monkeypatch.setattr(reading, "_load_source", counting_load)
    lazy, report = dist.read_posts_dask(tmp_path, scheduler="synchronous")
    assert sorted(calls) == [(f"part-{i}.parquet", True) for i in range(3)]
    assert sorted(loads) == [f"part-{i}.parquet" for i in range(3)]  # every file loaded once, nothing else
    data = lazy.compute(scheduler="synchronous")
    assert sorted(calls[3:]) == [(f"part-{i}.parquet", False) for i in range(3)] and len(loads) == 6
    monkeypatch.undo()
    expected, exp_report = tk.read_posts(pd.concat(parts, ignore_index=True))
    pd.testing.assert_frame_equal(data, expected, check_exact=True)
    pd.testing.assert_frame_equal(report.entries, exp_report.entries, check_exact=True)


@pytest.mark.parametrize("engine", ["pandas", "dask"])
def test_files_without_a_post_id_column(tmp_path, engine):
    """Every id generated ('row-<global row>'); a row repeated in a later file is still a duplicate."""
    if engine == "dask":
        pytest.importorskip("dask.dataframe")
    parts = [p.drop(columns="post_id") for p in _parts()]
    for i, p in enumerate(parts):
        p.to_csv(tmp_path / f"part-{i}.csv", index=False)
    whole = tmp_path / "whole.csv"
    pd.concat(parts, ignore_index=True).to_csv(whole, index=False)
    expected, exp_report = tk.read_posts(whole)
    if engine == "dask":
        from toolkit.distributed import read_posts_dask
        lazy, report = read_posts_dask(sorted(tmp_path.glob("part-*.csv")), scheduler="synchronous")
        data = lazy.compute(scheduler="synchronous")
    else:
        data, report = tk.read_posts(sorted(tmp_path.glob("part-*.csv")), engine="pandas")
    pd.testing.assert_frame_equal(data, expected, check_exact=True)
    pd.testing.assert_frame_equal(report.entries, exp_report.entries, check_exact=True)
    assert data["post_id"].iloc[-1] == f"row-{exp_report.n_rows_in - 3}"  # the last three rows are duplicates
    assert (report.entries["rule"] == "duplicate_row").sum() == 4
