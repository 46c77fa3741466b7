"""Execute notebooks headless with papermill; write executed copies and HTML.

Usage:
    python scripts/run_notebooks.py --output reports [--only tutorials] [-p name value ...]

`make reproduce` runs every notebook under notebooks/{tutorials,research,reproduction} in order and
writes reports/<folder>/<name>.ipynb and .html. tests/test_notebooks.py uses `execute()` too.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FOLDERS = ("tutorials", "research", "reproduction")


def notebooks(only: str | None = None, root: Path = ROOT / "notebooks") -> list[Path]:
    """Numbered notebooks under ``root``/{tutorials,research,reproduction}, in run order."""
    folders = [only] if only else FOLDERS
    found = []
    for folder in folders:
        found += sorted(p for p in (Path(root) / folder).glob("[0-9][0-9]-*.ipynb"))
    return found


def execute(path: Path, output: Path, parameters: dict | None = None, timeout: int = 600) -> Path:
    """Run one notebook with papermill (kernel python3, cwd = the notebook's folder)."""
    import papermill as pm

    output.parent.mkdir(parents=True, exist_ok=True)
    pm.execute_notebook(str(path), str(output), parameters=parameters or {}, kernel_name="python3",
                        cwd=str(path.parent), progress_bar=False, execution_timeout=timeout,
                        request_save_on_cell_execute=False)
    return output


def to_html(executed: Path) -> Path:
    import nbformat
    from nbconvert import HTMLExporter

    body, _ = HTMLExporter().from_notebook_node(nbformat.read(str(executed), as_version=4))
    target = executed.with_suffix(".html")
    target.write_text(body, encoding="utf-8")
    return target


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--output", default="reports")
    parser.add_argument("--only", choices=FOLDERS)
    args = parser.parse_args(argv)
    out_root = ROOT / args.output
    failures = []
    for nb in notebooks(args.only):
        rel = nb.relative_to(ROOT / "notebooks")
        target = out_root / rel
        start = time.perf_counter()
        try:
            execute(nb, target)
            to_html(target)
            print(f"ok    {rel}  ({time.perf_counter() - start:.1f} s) -> {target.relative_to(ROOT)}")
        except Exception as exc:  # report every notebook, then fail
            failures.append(rel)
            print(f"FAIL  {rel}: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}")
    if failures:
        print(f"{len(failures)} notebook(s) failed: {', '.join(map(str, failures))}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
