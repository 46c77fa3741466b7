"""scripts/reproduce.py: drift comparison, manifest, and one fast end-to-end run on a tiny notebook folder."""
from __future__ import annotations

import json
import sys
from importlib import metadata
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from toolkit import plans
from toolkit import headlines as tkh

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
import reproduce  # noqa: E402
import run_notebooks  # noqa: E402


def _notebook(path: Path, parameters: str, body: str) -> Path:
    nb = new_notebook(cells=[new_markdown_cell("# tiny"),
                             new_code_cell(parameters, metadata={"tags": ["parameters"]}),
                             new_code_cell(body)],
                      metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}})
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, str(path))
    return path


def _plan_dir(tmp_path) -> Path:
    d = tmp_path / "plans"
    d.mkdir()
    (d / "p.yaml").write_text((ROOT / "plans" / "h-departments.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    (d / "broken.yaml").write_text("id: x\n", encoding="utf-8")
    return d


def test_parameters_cell_and_seeds(tmp_path):
    nb = _notebook(tmp_path / "01-a.ipynb", 'seed = 3\nsim_seed = 20261121\nalpha = 0.05\nname = "x"\n'
                                            'depts = ["A", "B"]\nheadlines_dir = "../r"', "pass")
    params = reproduce.parameters_cell(nb)
    assert params == {"seed": 3, "sim_seed": 20261121, "alpha": 0.05, "name": "x", "depts": ["A", "B"],
                      "headlines_dir": "../r"}
    assert reproduce.seeds_of(params) == {"seed": 3, "sim_seed": 20261121}
    bare = tmp_path / "02-b.ipynb"
    nbformat.write(new_notebook(cells=[new_code_cell("x = 1")]), str(bare))
    assert reproduce.parameters_cell(bare) == {}


def test_find_notebooks(tmp_path):
    for rel in ("tutorials/01-a.ipynb", "tutorials/scratch.ipynb", "reproduction/01-r.ipynb", "other/01-o.ipynb"):
        _notebook(tmp_path / rel, "seed = 1", "pass")
    found = [p.relative_to(tmp_path).as_posix() for p in reproduce.find_notebooks(tmp_path)]
    assert found == ["tutorials/01-a.ipynb", "reproduction/01-r.ipynb"]
    assert reproduce.find_notebooks(tmp_path, "reproduction") == [tmp_path / "reproduction" / "01-r.ipynb"]
    assert reproduce.find_notebooks(ROOT / "notebooks") == run_notebooks.notebooks()


def test_manifest_contents(tmp_path):
    expected = tkh.write_expected({"notebooks": {}}, tmp_path / "expected.json")
    runs = [{"notebook": "tutorials/01-a.ipynb", "parameters": {"seed": 3}, "seeds": {"seed": 3}, "status": "ok",
             "seconds": 1.0},
            {"notebook": "tutorials/02-b.ipynb", "parameters": {}, "seeds": {}, "status": "ok", "seconds": 1.0}]
    manifest = reproduce.build_manifest(runs=runs, plans_dir=_plan_dir(tmp_path), expected=expected,
                                        results_file=tmp_path / "results.json")
    assert set(manifest) >= {"created_utc", "git_commit", "packages", "data", "seeds", "plans", "notebooks",
                             "expected", "results"}
    assert manifest["packages"]["pandas"] == metadata.version("pandas")
    assert manifest["packages"]["numpy"] == metadata.version("numpy")
    assert manifest["seeds"] == {"tutorials/01-a.ipynb": {"seed": 3}}
    good = [p for p in manifest["plans"] if p["id"] is not None]
    assert good == [{"path": str(tmp_path / "plans" / "p.yaml"), "id": "h-departments",
                     "sha256": plans.load_plan(ROOT / "plans" / "h-departments.yaml").sha256}]
    broken = [p for p in manifest["plans"] if p["id"] is None]
    assert len(broken) == 1 and "load_plan" in broken[0]["error"]
    from toolkit.data.registry import dataset_files
    assert [(d["dataset"], d["file"], d["sha256"]) for d in manifest["data"]] == [
        (name, filename, sha) for name, filename, _, sha in dataset_files()]
    from toolkit.reporting import sha256_file
    assert manifest["expected"]["sha256"] == sha256_file(expected)
    json.dumps(manifest, default=str)  # serialisable


def _fake_run(tmp_path, value):
    output = tmp_path / "reports"
    h = tkh.Headlines(notebook="01-a")
    h.record("answer", value, rel_tol=1e-9)
    h.record("decision", "supported")
    h.save(output / "results")
    return output


def test_compare_only_flags_a_tampered_number(tmp_path, capsys):
    output = _fake_run(tmp_path, 42.0)
    expected = tmp_path / "expected.json"
    tkh.write_expected(tkh.expected_from_results(tkh.load_headlines(output / "results")), expected)
    args = ["--compare-only", "--output", str(output), "--expected", str(expected),
            "--plans-dir", str(_plan_dir(tmp_path))]
    assert reproduce.main(args) == 0
    assert "reproduced: 2 headline number(s) within tolerance" in capsys.readouterr().out
    content = json.loads(expected.read_text(encoding="utf-8"))
    content["notebooks"]["01-a"]["answer"]["value"] = 41.0  # tamper with the committed value
    tkh.write_expected(content, expected)
    assert reproduce.main(args) == 1
    out = capsys.readouterr().out
    assert "DRIFT     01-a / answer: expected 41.0, got 42.0" in out
    assert "rel_tol 1e-09" in out
    assert "REPRODUCTION FAILED: 0 notebook(s) failed, 1 number(s) drifted or missing" in out
    assert json.loads((output / "results.json").read_text())["notebooks"]["01-a"]["answer"]["value"] == 42.0
    manifest = json.loads((output / "manifest.json").read_text())
    assert manifest["comparison"] == {"ok": 1, "drift": 1, "missing": 0, "unchecked": 0}


def test_committed_expected_values_match_current_plans():
    """The expected plan fingerprints are those of the committed plans (a plan edit shows up here first)."""
    expected = tkh.read_expected(reproduce.DEFAULT_EXPECTED)
    nb = expected["01-rerun-and-check"]
    assert nb["plan_sha256_h_departments"]["value"] == plans.load_plan(ROOT / "plans" / "h-departments.yaml").sha256
    assert nb["plan_sha256_h_uci_paid_organic"]["value"] == plans.load_plan(
        ROOT / "plans" / "h-uci-paid-organic.yaml").sha256
    for name, entry in nb.items():
        assert entry["abs_tol"] >= 0 and entry["rel_tol"] >= 0, name
    # every notebook with expected values exists
    stems = {p.stem for p in run_notebooks.notebooks()}
    assert set(expected) <= stems


def test_end_to_end_on_a_tiny_notebook_folder(tmp_path, capsys):
    notebooks = tmp_path / "notebooks"
    _notebook(notebooks / "tutorials" / "01-tiny.ipynb",
              'seed = 7\nheadlines_dir = "unused"',
              "from toolkit.headlines import Headlines\n"
              "h = Headlines(notebook='01-tiny')\n"
              "h.record('answer', 6 * 7 + seed - 7, rel_tol=0.0)\n"
              "h.save(headlines_dir)")
    expected = tmp_path / "expected.json"
    tkh.write_expected({"notebooks": {"01-tiny": {"answer": {"value": 42, "abs_tol": 0.0, "rel_tol": 0.0}}}},
                       expected)
    output = tmp_path / "reports"
    args = ["--notebooks-dir", str(notebooks), "--expected", str(expected), "--output", str(output),
            "--plans-dir", str(_plan_dir(tmp_path)), "--no-html", "--timeout", "120"]
    assert reproduce.main(args) == 0, capsys.readouterr().out
    assert (output / "tutorials" / "01-tiny.ipynb").exists()
    assert json.loads((output / "results.json").read_text())["notebooks"]["01-tiny"]["answer"]["value"] == 42
    manifest = json.loads((output / "manifest.json").read_text())
    assert manifest["seeds"] == {"tutorials/01-tiny.ipynb": {"seed": 7}}
    assert manifest["notebooks"][0]["parameters"]["headlines_dir"] == str((output / "results").resolve())
    assert manifest["notebooks"][0]["status"] == "ok"
    capsys.readouterr()
    tkh.write_expected({"notebooks": {"01-tiny": {"answer": {"value": 43, "abs_tol": 0.5, "rel_tol": 0.0}}}},
                       expected)
    assert reproduce.main(args + ["--compare-only"]) == 1
    assert "DRIFT     01-tiny / answer: expected 43, got 42" in capsys.readouterr().out


def test_only_compares_the_notebooks_it_ran(tmp_path, capsys):
    """--only tutorials checks the tutorials' expected numbers, not those of research notebooks it did not run."""
    notebooks = tmp_path / "notebooks"
    _notebook(notebooks / "tutorials" / "01-tiny.ipynb", 'headlines_dir = "unused"',
              "from toolkit.headlines import Headlines\n"
              "h = Headlines(notebook='01-tiny')\n"
              "h.record('answer', 42, rel_tol=0.0)\n"
              "h.save(headlines_dir)")
    _notebook(notebooks / "research" / "01-other.ipynb", 'headlines_dir = "unused"', "raise RuntimeError('not run')")
    expected = tmp_path / "expected.json"
    tkh.write_expected({"notebooks": {"01-tiny": {"answer": {"value": 42, "abs_tol": 0.0, "rel_tol": 0.0}},
                                      "01-other": {"x": {"value": 1.0, "abs_tol": 0.0, "rel_tol": 0.0}}}}, expected)
    output = tmp_path / "reports"
    args = ["--notebooks-dir", str(notebooks), "--expected", str(expected), "--output", str(output),
            "--plans-dir", str(_plan_dir(tmp_path)), "--no-html", "--timeout", "120"]
    assert reproduce.main(args + ["--only", "tutorials"]) == 0
    out = capsys.readouterr().out
    assert "reproduced: 1 headline number(s) within tolerance" in out
    assert "1 other notebook(s) with expected numbers were not run and are not checked" in out
    assert "01-other" not in out.split("collected")[1]  # never reported as missing
    # the same check without running again
    assert reproduce.main(args + ["--only", "tutorials", "--compare-only"]) == 0
    capsys.readouterr()
    # all folders: the research notebook fails and its expected number is missing
    assert reproduce.main(args + ["--compare-only"]) == 1
    assert "MISSING   01-other / x" in capsys.readouterr().out
    # a tutorials-only run must still fail when a tutorial's own number drifts
    tkh.write_expected({"notebooks": {"01-tiny": {"answer": {"value": 41, "abs_tol": 0.0, "rel_tol": 0.0}}}}, expected)
    assert reproduce.main(args + ["--only", "tutorials", "--compare-only"]) == 1
    assert "DRIFT     01-tiny / answer" in capsys.readouterr().out


def _parameter_notebook(path: Path) -> Path:
    return _notebook(path, 'seed = 1\nlabel = "a"',
                     "from pathlib import Path\n"
                     "Path('seen.txt').write_text(f'{seed!r} {label!r} {type(seed).__name__}')")


def test_run_notebooks_p_sets_declared_parameters(tmp_path, capsys):
    nb = _parameter_notebook(tmp_path / "nbs" / "01-p.ipynb")
    out = tmp_path / "out"
    assert run_notebooks.main([str(nb), "--output", str(out), "--no-html", "-p", "seed", "3",
                               "-p", "label", "hello world"]) == 0
    assert (nb.parent / "seen.txt").read_text() == "3 'hello world' int"
    assert "with {'seed': 3, 'label': 'hello world'}" in capsys.readouterr().out
    executed = nbformat.read(str(out / "01-p.ipynb"), as_version=4)
    injected = [c for c in executed.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert len(injected) == 1 and "seed = 3" in injected[0].source
    # without -p the notebook's own values apply
    assert run_notebooks.main([str(nb), "--output", str(out), "--no-html"]) == 0
    assert (nb.parent / "seen.txt").read_text() == "1 'a' int"


def test_run_notebooks_p_rejects_an_undeclared_name(tmp_path, capsys):
    nb = _parameter_notebook(tmp_path / "nbs" / "01-p.ipynb")
    assert run_notebooks.main([str(nb), "--output", str(tmp_path / "out"), "-p", "sede", "3"]) == 2
    out = capsys.readouterr().out
    assert "sede" in out and "declared names: label, seed" in out
    assert not (nb.parent / "seen.txt").exists()


def test_parse_value():
    assert run_notebooks.parse_value("3") == 3
    assert run_notebooks.parse_value("0.01") == 0.01
    assert run_notebooks.parse_value("True") is True
    assert run_notebooks.parse_value("['PR', 'IT']") == ["PR", "IT"]
    assert run_notebooks.parse_value("comments") == "comments"


def test_kernel_runs_without_tcp_or_shutdown_noise(tmp_path, capfd):
    """A clean run prints one line per notebook: no kernel log lines (TCP warning, shutdown interrupt)."""
    nb = _notebook(tmp_path / "nbs" / "01-q.ipynb", "seed = 1", "%matplotlib inline\nimport matplotlib.pyplot as plt\n"
                   "plt.plot([1, 2]);")
    assert run_notebooks.main([str(nb), "--output", str(tmp_path / "out"), "--no-html"]) == 0
    captured = capfd.readouterr()
    assert "without encryption" not in captured.err + captured.out
    assert "KeyboardInterrupt" not in captured.err + captured.out
    assert [line for line in captured.out.splitlines() if line.strip()] == [
        line for line in captured.out.splitlines() if line.startswith("ok    ")]
