"""Execute notebooks headless from a fresh kernel; write executed copies and HTML.

Usage:
    python scripts/run_notebooks.py [--output reports] [--only tutorials] [-p NAME VALUE ...]
                                    [--no-solutions] [--no-html] [--timeout 600] [notebook ...]

`make reproduce` (scripts/reproduce.py) runs every notebook under notebooks/{tutorials,research,reproduction}
in order and writes <output>/<folder>/<name>.ipynb and .html; tests/test_notebooks.py uses `execute()` too.
Naming notebook paths runs only those.

``-p NAME VALUE`` sets a parameter (repeatable). VALUE is read as a Python literal (``-p seed 3``,
``-p alpha 0.01``, ``-p departments "['PR', 'IT']"``), otherwise as text. It is injected (papermill's
"injected-parameters" cell after the cell tagged ``parameters``) into each notebook whose parameters cell
declares NAME; a NAME that no selected notebook declares is an error (a typo would otherwise be ignored).

Exercises (tutorials). An exercise cell tagged ``exercise-N`` holds placeholders (``answer = ...``); the
check cell after it, tagged ``check-N`` and ``raises-exception``, fails until the exercise is done. The
solutions are in ``notebooks/tutorials/solutions/<notebook stem>.py`` (``# %% exercise-N`` blocks). By
default each notebook with a solutions file is run with its solutions: after every ``check-N`` cell the
solution block and a second copy of the check are inserted. Execution then verifies both halves: each
shipped check cell raised ``AnswerMissing`` (the exercise is open), and each check after its solution passed.
``--no-solutions`` runs the notebooks as shipped (the checks fail in place, the notebook still runs through).

Kernel set-up: the kernel is reached over CurveZMQ-encrypted sockets (``transport_encryption="auto"``; the
kernelspec declares support), so ipykernel's "running over TCP without encryption" warning does not apply.
The kernel's own log (stderr/stdout of the kernel process: start-up and shutdown messages such as
"KeyboardInterrupt caught in kernel", which jupyter_client's shutdown interrupt provokes) goes to a file
beside the executed notebook (``<name>.kernel.log``) instead of the terminal; the log is printed when a
notebook fails. Errors raised in cells are reported from the notebook itself, as before.
"""
from __future__ import annotations

import argparse
import ast
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FOLDERS = ("tutorials", "research", "reproduction")
KERNEL = "python3"
#: Exceptions (from toolkit.exercises) that a shipped check cell must raise: the exercise is open.
OPEN_EXERCISE = "AnswerMissing"
_EXERCISE_TAG = re.compile(r"^exercise-(\w+)$")
_CHECK_TAG = re.compile(r"^check-(\w+)$")
_BLOCK = re.compile(r"^# %% (exercise-\w+)\s*$", flags=re.M)


class ExerciseCheckError(RuntimeError):
    """An exercise check did not behave as designed (passed while open, or failed after its solution)."""


def notebooks(only: str | None = None, root: Path = ROOT / "notebooks") -> list[Path]:
    """Numbered notebooks under ``root``/{tutorials,research,reproduction}, in run order."""
    folders = [only] if only else FOLDERS
    found = []
    for folder in folders:
        found += sorted(p for p in (Path(root) / folder).glob("[0-9][0-9]-*.ipynb"))
    return found


def parameters_cell(path: Path) -> dict:
    """Literal assignments of the cell tagged "parameters" ({} when there is none)."""
    import nbformat

    nb = nbformat.read(str(path), as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code" and "parameters" in cell.get("metadata", {}).get("tags", []):
            out = {}
            for node in ast.parse(cell.source).body:
                if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
                    try:
                        out[node.targets[0].id] = ast.literal_eval(node.value)
                    except ValueError:
                        out[node.targets[0].id] = ast.unparse(node.value)
            return out
    return {}


def parse_value(text: str):
    """A ``-p`` value: a Python literal when it parses as one (3, 0.01, True, ['a']), else the text itself."""
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def solutions_file(path: Path) -> Path | None:
    """``<folder>/solutions/<stem>.py`` of a notebook, or None when it has none."""
    candidate = Path(path).parent / "solutions" / f"{Path(path).stem}.py"
    return candidate if candidate.exists() else None


def read_solutions(path: Path) -> dict[str, str]:
    """The ``# %% exercise-N`` blocks of a solutions file: {"exercise-N": code}."""
    text = Path(path).read_text(encoding="utf-8")
    parts = _BLOCK.split(text)
    blocks = {}
    for tag, code in zip(parts[1::2], parts[2::2]):
        if tag in blocks:
            raise ValueError(f"{path}: block `# %% {tag}` appears twice; each exercise has one solution block.")
        blocks[tag] = code.strip("\n") + "\n"
    return blocks


def _tags(cell) -> list[str]:
    return list(cell.get("metadata", {}).get("tags", []))


def exercise_ids(nb) -> dict[str, dict[str, int]]:
    """{N: {"exercise": cell index, "check": cell index}} of a notebook's exercise and check cells."""
    found: dict[str, dict[str, int]] = {}
    for i, cell in enumerate(nb.cells):
        for tag in _tags(cell):
            for kind, pattern in (("exercise", _EXERCISE_TAG), ("check", _CHECK_TAG)):
                m = pattern.match(tag)
                if m:
                    found.setdefault(m.group(1), {})[kind] = i
    return found


def exercise_problems(nb, solutions: dict[str, str] | None) -> list[str]:
    """What is wrong with a notebook's exercise cells before running it ([] when nothing)."""
    problems = []
    for n, where in exercise_ids(nb).items():
        if set(where) != {"exercise", "check"}:
            problems.append(f"exercise {n}: needs one cell tagged exercise-{n} and one tagged check-{n}")
            continue
        if where["check"] < where["exercise"]:
            problems.append(f"exercise {n}: the check cell comes before the exercise cell")
        if "raises-exception" not in _tags(nb.cells[where["check"]]):
            problems.append(f"exercise {n}: the check cell must be tagged raises-exception (it fails until done)")
        if solutions is not None and f"exercise-{n}" not in solutions:
            problems.append(f"exercise {n}: no `# %% exercise-{n}` block in the solutions file")
    if solutions is not None:
        for tag in solutions:
            if tag.split("-", 1)[1] not in exercise_ids(nb):
                problems.append(f"the solutions file has `# %% {tag}` but the notebook has no cell tagged {tag}")
    return problems


def inject_solutions(nb, solutions: dict[str, str]):
    """Insert, after each ``check-N`` cell, the solution of exercise N and a second copy of the check."""
    from nbformat.v4 import new_code_cell, new_markdown_cell

    ids = exercise_ids(nb)
    problems = exercise_problems(nb, solutions)
    if problems:
        raise ExerciseCheckError("; ".join(problems))
    for n in sorted(ids, key=lambda k: ids[k]["check"], reverse=True):  # from the end: indices stay valid
        at = ids[n]["check"] + 1
        check = nb.cells[ids[n]["check"]]
        solved = new_code_cell(check.source, metadata={"tags": [f"solved-check-{n}"]})
        nb.cells[at:at] = [
            new_markdown_cell(f"*Solution of exercise {n} (inserted by scripts/run_notebooks.py from "
                              f"solutions/; the check above failed because the exercise was left open).*",
                              metadata={"tags": [f"solution-{n}"]}),
            new_code_cell(solutions[f"exercise-{n}"], metadata={"tags": [f"solution-{n}"]}),
            solved,
        ]
    return nb


def verify_exercises(nb) -> list[str]:
    """After execution: every shipped check raised AnswerMissing; every check after a solution passed."""
    problems = []
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        errors = [o for o in cell.get("outputs", []) if o.get("output_type") == "error"]
        for tag in _tags(cell):
            m = _CHECK_TAG.match(tag)
            if m and not any(o.get("ename") == OPEN_EXERCISE for o in errors):
                got = f"{errors[0].get('ename')}: {errors[0].get('evalue')}" if errors else "it passed"
                problems.append(f"check-{m.group(1)} must fail with {OPEN_EXERCISE} while exercise {m.group(1)} is "
                                f"open ({got}); leave the exercise cell with placeholders (`answer = ...`)")
            if tag.startswith("solved-check-") and errors:
                problems.append(f"{tag}: the check failed after the solution ({errors[0].get('ename')}: "
                                f"{errors[0].get('evalue')})")
    return problems


def execute(path: Path, output: Path, parameters: dict | None = None, timeout: int = 600,
            solutions: bool | None = None) -> Path:
    """Run one notebook from a fresh kernel (cwd = the notebook's folder) and write the executed copy.

    ``parameters`` are injected after the cell tagged ``parameters`` (papermill's convention).
    ``solutions``: None runs the notebook's solutions when it has a solutions file, True requires one,
    False runs the notebook as shipped. Raises nbclient's ``CellExecutionError`` (with ``ename``/``evalue``)
    when a cell fails, and :class:`ExerciseCheckError` when a check does not behave as designed.
    """
    import nbformat
    from jupyter_client.manager import AsyncKernelManager
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError
    from papermill.iorw import load_notebook_node
    from papermill.parameterize import parameterize_notebook

    path, output = Path(path), Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    nb = load_notebook_node(str(path))  # nbformat v4 with the metadata papermill's parameterize expects
    if parameters:
        nb = parameterize_notebook(nb, parameters, kernel_name=KERNEL, language="python")
    source = solutions_file(path)
    if solutions is True and source is None:
        raise FileNotFoundError(f"{path.name}: no solutions file {path.parent / 'solutions' / (path.stem + '.py')}")
    blocks = read_solutions(source) if (source is not None and solutions is not False) else None
    problems = exercise_problems(nb, blocks)
    if problems:
        raise ExerciseCheckError(f"{path.name}: " + "; ".join(problems))
    if blocks is not None:
        nb = inject_solutions(nb, blocks)
    log_path = output.with_suffix(".kernel.log")
    km = AsyncKernelManager(kernel_name=KERNEL, transport_encryption="auto")
    # startup_timeout: a kernel can take over a minute to start on a loaded 2-core machine
    client = NotebookClient(nb, km=km, timeout=timeout, startup_timeout=180, kernel_name=KERNEL,
                            resources={"metadata": {"path": str(path.parent)}})
    try:
        with open(log_path, "w", encoding="utf-8") as log:
            client.execute(stdout=log, stderr=log)
    except CellExecutionError:
        nbformat.write(nb, str(output))
        raise
    except Exception:
        nbformat.write(nb, str(output))
        _print_kernel_log(log_path)
        raise
    nbformat.write(nb, str(output))
    if log_path.exists() and not log_path.read_text(encoding="utf-8").strip():
        log_path.unlink()
    problems = verify_exercises(nb)
    if problems:
        raise ExerciseCheckError(f"{path.name}: " + "; ".join(problems))
    return output


def _print_kernel_log(log_path: Path) -> None:
    if log_path.exists() and log_path.read_text(encoding="utf-8").strip():
        print(f"--- kernel log ({log_path}):\n{log_path.read_text(encoding='utf-8').rstrip()}\n---", file=sys.stderr)


def to_html(executed: Path) -> Path:
    import nbformat
    from nbconvert import HTMLExporter

    body, _ = HTMLExporter().from_notebook_node(nbformat.read(str(executed), as_version=4))
    target = executed.with_suffix(".html")
    target.write_text(body, encoding="utf-8")
    return target


def failure_line(exc: Exception) -> str:
    """``Type: first line`` of a failure; for a cell error, the exception raised inside the notebook."""
    if getattr(exc, "ename", None):
        value = str(getattr(exc, "evalue", "") or "").strip()
        return f"{exc.ename}: {value.splitlines()[0] if value else ''}"
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text.splitlines()[0] if text else ''}"


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("notebook", nargs="*", help="run only these notebooks (paths)")
    parser.add_argument("--output", default="reports", help="folder for the executed copies (relative to the repo)")
    parser.add_argument("--only", choices=FOLDERS)
    parser.add_argument("-p", "--parameter", nargs=2, action="append", default=[], metavar=("NAME", "VALUE"),
                        help="set a parameter of the notebooks that declare it (repeatable)")
    parser.add_argument("--no-solutions", action="store_true", help="run tutorials as shipped (exercises open)")
    parser.add_argument("--no-html", action="store_true", help="skip the HTML copies")
    parser.add_argument("--timeout", type=int, default=600, help="seconds per cell")
    args = parser.parse_args(argv)
    out_root = ROOT / args.output
    selected = [Path(p).resolve() for p in args.notebook] if args.notebook else notebooks(args.only)
    if not selected:
        print("no notebooks selected")
        return 1
    given = {name: parse_value(value) for name, value in args.parameter}
    declared = {nb: parameters_cell(nb) for nb in selected}
    unknown = [n for n in given if not any(n in params for params in declared.values())]
    if unknown:
        print(f"error: parameter(s) {', '.join(unknown)} not declared in the parameters cell of any selected "
              f"notebook; declared names: {', '.join(sorted({k for p in declared.values() for k in p}))}")
        return 2
    failures = []
    for nb in selected:
        try:
            rel = nb.relative_to(ROOT / "notebooks")
        except ValueError:
            rel = Path(nb.name)
        target = out_root / rel
        params = {n: v for n, v in given.items() if n in declared[nb]}
        start = time.perf_counter()
        try:
            execute(nb, target, parameters=params, timeout=args.timeout,
                    solutions=False if args.no_solutions else None)
            if not args.no_html:
                to_html(target)
            shown = f" with {params}" if params else ""
            print(f"ok    {rel}{shown}  ({time.perf_counter() - start:.1f} s) -> {target}", flush=True)
        except Exception as exc:  # report every notebook, then fail
            failures.append(rel)
            print(f"FAIL  {rel}: {failure_line(exc)}", flush=True)
    if failures:
        print(f"{len(failures)} notebook(s) failed: {', '.join(map(str, failures))}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
