"""Reproduce every notebook for reviewers and check the headline numbers for drift.

Usage:
    python scripts/reproduce.py [--output reports] [--notebooks-dir notebooks]
                                [--expected notebooks/expected_results.json] [--plans-dir plans]
                                [--only reproduction] [--no-html] [--compare-only] [--update-expected]

Steps:
1. run every notebook headless from a fresh kernel (``run_notebooks.execute``: tutorials with their exercise
   solutions inserted and their checks verified) into <output>/<folder>/<name>.ipynb and
   .html (``run_notebooks.to_html``); a notebook whose parameters cell declares ``headlines_dir`` gets it set to
   <output>/results, where it saves its headline numbers (``toolkit.headlines.Headlines``), and one declaring
   ``plan_results_dir`` gets <output>/plans (results files of ``toolkit.plans.run_plan``);
2. collect them into <output>/results.json;
3. compare them with the committed expected values (each with abs_tol and rel_tol), print every number that
   moved (name, expected, got, tolerance);
4. write <output>/manifest.json: package versions, git commit, data checksums, seeds found in parameters cells,
   plan fingerprints, notebooks run.

Exit status: 0 when every notebook ran and every expected number is within tolerance; 1 on any failure,
drift or missing number. Only the notebooks of this run are compared: with ``--only F`` the expected numbers of
the notebooks in folder F (other folders' notebooks were not run, so their numbers are not "missing"). ``--compare-only`` skips step 1 (re-checks <output>/results). ``--update-expected``
rewrites the expected file from this run (keeping existing tolerances and notes): do it only after review.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))
import run_notebooks  # noqa: E402  (reuse: notebooks(), execute(), to_html())

DEFAULT_EXPECTED = ROOT / "notebooks" / "expected_results.json"
#: Parameters that reproduce.py sets when a notebook's parameters cell declares them: folder -> under --output.
INJECTED = {"headlines_dir": "results", "plan_results_dir": "plans"}


def find_notebooks(notebooks_dir: Path, only: str | None = None) -> list[Path]:
    """The notebooks to run, by the same rule as ``run_notebooks.notebooks()``."""
    return run_notebooks.notebooks(only, root=Path(notebooks_dir))


def parameters_cell(path: Path) -> dict:
    """Literal assignments of the cell tagged "parameters" ({} when there is none)."""
    return run_notebooks.parameters_cell(path)


def seeds_of(parameters: dict) -> dict:
    """The parameters whose name contains "seed"."""
    return {k: v for k, v in parameters.items() if "seed" in k.lower()}


def plan_fingerprints(plans_dir: Path) -> list[dict]:
    """id, path and sha256 of every plans/*.yaml (an invalid plan is listed with its error)."""
    from toolkit.plans import load_plan

    out = []
    for path in sorted(Path(plans_dir).glob("*.y*ml")):
        rel = _rel(path)
        try:
            plan = load_plan(path)
            out.append({"path": rel, "id": plan.id, "sha256": plan.sha256})
        except (ValueError, TypeError) as exc:
            out.append({"path": rel, "id": None, "sha256": None, "error": str(exc)})
    return out


def _rel(path: Path) -> str:
    try:
        return str(Path(path).resolve().relative_to(ROOT))
    except ValueError:
        return str(path)


def build_manifest(*, runs: list[dict], plans_dir: Path, expected: Path | None, results_file: Path | None) -> dict:
    """Provenance of a reproduction run (see the module docstring)."""
    from toolkit.reporting import session_info, sha256_file

    info = session_info(datasets=False)
    software = {r.item: r.value for r in info.itertuples() if r.kind == "software"}
    commit = next((r.value for r in info.itertuples() if r.item == "git_commit"), "unknown")
    try:
        from toolkit.data.registry import dataset_files
        data = [{"dataset": name, "file": filename, "path": _rel(path) if path else None,
                 "sha256": sha} for name, filename, path, sha in dataset_files()]
    except ImportError:  # pragma: no cover
        data = []
    return {
        "created_utc": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "git_commit": commit,
        "packages": software,
        "data": data,
        "seeds": {run["notebook"]: run["seeds"] for run in runs if run["seeds"]},
        "plans": plan_fingerprints(plans_dir),
        "notebooks": runs,
        "expected": ({"path": _rel(expected), "sha256": sha256_file(expected)}
                     if expected is not None and Path(expected).exists() else None),
        "results": _rel(results_file) if results_file else None,
    }


def run_all(notebooks: list[Path], *, notebooks_dir: Path, output: Path, html: bool = True,
            timeout: int = 600) -> list[dict]:
    """Execute each notebook (setting the INJECTED folders where declared); one record per notebook."""
    runs = []
    for nb in notebooks:
        rel = nb.relative_to(notebooks_dir)
        target = output / rel
        params = parameters_cell(nb)
        inject = {name: str((output / sub).resolve()) for name, sub in INJECTED.items() if name in params}
        start = time.perf_counter()
        record = {"notebook": str(rel), "parameters": {**params, **inject}, "seeds": seeds_of(params)}
        try:
            run_notebooks.execute(nb, target, parameters=inject, timeout=timeout)
            if html:
                run_notebooks.to_html(target)
            record["status"] = "ok"
            print(f"ok    {rel}  ({time.perf_counter() - start:.1f} s) -> {_rel(target)}", flush=True)
        except Exception as exc:  # report every notebook, then fail
            first = run_notebooks.failure_line(exc)  # for a cell error: the exception raised inside the notebook
            record["status"] = f"failed: {first}"
            print(f"FAIL  {rel}: {first}", flush=True)
        record["seconds"] = round(time.perf_counter() - start, 1)
        runs.append(record)
    return runs


def main(argv: list[str] | None = None) -> int:
    from toolkit import headlines as tkh

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--output", default=str(ROOT / "reports"))
    parser.add_argument("--notebooks-dir", default=str(ROOT / "notebooks"))
    parser.add_argument("--expected", default=str(DEFAULT_EXPECTED))
    parser.add_argument("--plans-dir", default=str(ROOT / "plans"))
    parser.add_argument("--only", choices=run_notebooks.FOLDERS)
    parser.add_argument("--timeout", type=int, default=600)
    parser.add_argument("--no-html", action="store_true", help="skip the HTML copies")
    parser.add_argument("--compare-only", action="store_true", help="do not run notebooks; re-check <output>/results")
    parser.add_argument("--update-expected", action="store_true",
                        help="rewrite the expected file from this run (after review only)")
    args = parser.parse_args(argv)

    output, notebooks_dir, expected = Path(args.output), Path(args.notebooks_dir), Path(args.expected)
    headlines_dir = output / INJECTED["headlines_dir"]
    runs: list[dict] = []
    if args.update_expected and not expected.exists():  # bootstrap: notebooks read the file in their check cell
        tkh.write_expected({"notebooks": {}}, expected)
    if not args.compare_only:
        headlines_dir.mkdir(parents=True, exist_ok=True)
        for stale in headlines_dir.glob("*.json"):  # numbers from an earlier run must not count
            stale.unlink()
        nbs = find_notebooks(notebooks_dir, args.only)
        if not nbs:
            print(f"no notebooks found under {notebooks_dir}")
            return 1
        runs = run_all(nbs, notebooks_dir=notebooks_dir, output=output, html=not args.no_html,
                       timeout=args.timeout)

    collected = tkh.load_headlines(headlines_dir)
    # Compare only what this run covers: the notebooks run (or, with --compare-only --only F, folder F's).
    scope = None
    if args.only or not args.compare_only:
        scope = {p.stem for p in find_notebooks(notebooks_dir, args.only)}
        collected = {nb: e for nb, e in collected.items() if nb in scope}
    results_file = output / "results.json"
    output.mkdir(parents=True, exist_ok=True)
    results_file.write_text(json.dumps({"notebooks": {nb: {k: tkh._json_entry(v) for k, v in e.items()}
                                                      for nb, e in collected.items()}},
                                       indent=2, ensure_ascii=False, allow_nan=False) + "\n", encoding="utf-8")
    print(f"collected {sum(map(len, collected.values()))} headline number(s) from {len(collected)} notebook(s) "
          f"-> {_rel(results_file)}")

    failed = [r for r in runs if r["status"] != "ok"]
    if args.update_expected:
        previous = tkh.read_expected(expected) if expected.exists() else {}
        content = tkh.expected_from_results(
            collected, previous=previous,
            description="Expected headline numbers of the notebooks, checked by scripts/reproduce.py. "
                        "A number passes when |got - value| <= abs_tol + rel_tol * |value|.")
        tkh.write_expected(content, expected)
        print(f"expected values rewritten: {_rel(expected)} (review the diff before committing)")
    all_expected = tkh.read_expected(expected)
    in_scope = all_expected if scope is None else {nb: e for nb, e in all_expected.items() if nb in scope}
    comparison = tkh.compare_headlines(collected, expected=in_scope)
    if len(in_scope) < len(all_expected):
        print(f"compared the expected numbers of {len(in_scope)} notebook(s) in this run; "
              f"{len(all_expected) - len(in_scope)} other notebook(s) with expected numbers were not run "
              f"and are not checked")

    manifest = build_manifest(runs=runs, plans_dir=Path(args.plans_dir), expected=expected, results_file=results_file)
    manifest["comparison"] = {status: int((comparison["status"] == status).sum())
                              for status in ("ok", "drift", "missing", "unchecked")}
    manifest_file = output / "manifest.json"
    manifest_file.write_text(json.dumps(manifest, indent=2, ensure_ascii=False, default=str) + "\n", encoding="utf-8")
    print(f"provenance manifest -> {_rel(manifest_file)}")

    report = tkh.drift_report(comparison)
    if report:
        print(report)
    bad = comparison["status"].isin(["drift", "missing"])
    n_ok = int((comparison["status"] == "ok").sum())
    if failed or bad.any():
        print(f"REPRODUCTION FAILED: {len(failed)} notebook(s) failed, {int(bad.sum())} number(s) drifted or "
              f"missing, {n_ok} within tolerance.")
        return 1
    print(f"reproduced: {n_ok} headline number(s) within tolerance.")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
