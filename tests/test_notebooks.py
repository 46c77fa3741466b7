"""Every notebook runs headless from a fresh kernel (restart-and-run-all), as `make reproduce` runs it.

Tutorials run with their exercise solutions inserted (``notebooks/tutorials/solutions/``): the executor
checks that each shipped check cell fails with ``AnswerMissing`` (the exercise is left open for the
student) and that each check passes after its solution.
"""
from __future__ import annotations

import sys
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
import run_notebooks  # noqa: E402

NOTEBOOKS = run_notebooks.notebooks()
TUTORIALS = run_notebooks.notebooks("tutorials")


@pytest.mark.notebook
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_runs_headless(path, tmp_path):
    out = run_notebooks.execute(path, tmp_path / path.name, timeout=300)
    assert out.exists()
    if run_notebooks.solutions_file(path) is not None:  # the checks ran both ways
        executed = nbformat.read(str(out), as_version=4)
        tags = [t for c in executed.cells for t in c.metadata.get("tags", [])]
        assert sum(t.startswith("solved-check-") for t in tags) == sum(t.startswith("check-") for t in tags) > 0


@pytest.mark.parametrize("path", TUTORIALS, ids=[p.name for p in TUTORIALS])
def test_tutorial_exercises_are_open_and_have_solutions(path):
    """Static: exercise cells hold placeholders, checks are tagged, every exercise has a solution block."""
    nb = nbformat.read(str(path), as_version=4)
    solutions = run_notebooks.solutions_file(path)
    ids = run_notebooks.exercise_ids(nb)
    if not ids:
        assert solutions is None, f"{solutions} has no exercises to solve"
        return
    assert solutions is not None, f"{path.name} has exercises but no solutions/{path.stem}.py"
    blocks = run_notebooks.read_solutions(solutions)
    assert run_notebooks.exercise_problems(nb, blocks) == []
    for n, where in ids.items():
        source = nb.cells[where["exercise"]].source
        assert "..." in source, f"exercise {n} of {path.name} must leave `...` placeholders for the student"
        assert "tk.check_answer(" in nb.cells[where["check"]].source
        assert blocks[f"exercise-{n}"].strip() != source.strip()


def _exercise_notebook(path: Path, *, exercise: str, check: str, solution: str | None) -> Path:
    nb = new_notebook(cells=[new_code_cell("x = 20", metadata={"tags": ["parameters"]}),
                             new_code_cell("import toolkit as tk"),
                             new_code_cell(exercise, metadata={"tags": ["exercise-1"]}),
                             new_code_cell(check, metadata={"tags": ["check-1", "raises-exception"]}),
                             new_code_cell("done = True")],
                      metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}})
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, str(path))
    if solution is not None:
        (path.parent / "solutions").mkdir(exist_ok=True)
        (path.parent / "solutions" / f"{path.stem}.py").write_text(f"# %% exercise-1\n{solution}\n", encoding="utf-8")
    return path


CHECK = "tk.check_answer(answer, name='answer', expected=x + 1)"


def test_executor_runs_open_check_then_solution(tmp_path):
    nb = _exercise_notebook(tmp_path / "01-t.ipynb", exercise="answer = ...", check=CHECK, solution="answer = x + 1")
    out = run_notebooks.execute(nb, tmp_path / "out" / "01-t.ipynb", parameters={"x": 4}, timeout=60)
    cells = nbformat.read(str(out), as_version=4).cells
    by_tag = {t: c for c in cells for t in c.metadata.get("tags", [])}
    assert [o["ename"] for o in by_tag["check-1"].outputs if o["output_type"] == "error"] == ["AnswerMissing"]
    assert "answer: correct." in str(by_tag["solved-check-1"].outputs)
    # as shipped: the check fails in place and the notebook still runs to the end
    out2 = run_notebooks.execute(nb, tmp_path / "out2" / "01-t.ipynb", timeout=60, solutions=False)
    assert not any("solved-check-1" in c.metadata.get("tags", []) for c in nbformat.read(str(out2), 4).cells)


def test_executor_fails_when_a_solution_is_wrong(tmp_path):
    nb = _exercise_notebook(tmp_path / "01-t.ipynb", exercise="answer = ...", check=CHECK, solution="answer = x + 2")
    with pytest.raises(Exception) as info:
        run_notebooks.execute(nb, tmp_path / "out" / "01-t.ipynb", timeout=60)
    assert getattr(info.value, "ename", None) == "AnswerIncorrect"


def test_executor_fails_when_the_shipped_exercise_is_already_solved(tmp_path):
    nb = _exercise_notebook(tmp_path / "01-t.ipynb", exercise="answer = x + 1", check=CHECK, solution="answer = x + 1")
    with pytest.raises(run_notebooks.ExerciseCheckError, match="check-1 must fail with AnswerMissing"):
        run_notebooks.execute(nb, tmp_path / "out" / "01-t.ipynb", timeout=60)


def test_executor_refuses_missing_solution_blocks(tmp_path):
    nb = _exercise_notebook(tmp_path / "01-t.ipynb", exercise="answer = ...", check=CHECK, solution=None)
    (tmp_path / "solutions").mkdir()
    (tmp_path / "solutions" / "01-t.py").write_text("# %% exercise-2\nanswer = 1\n", encoding="utf-8")
    with pytest.raises(run_notebooks.ExerciseCheckError, match="no `# %% exercise-1` block"):
        run_notebooks.execute(nb, tmp_path / "out" / "01-t.ipynb", timeout=60)
