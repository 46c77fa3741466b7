"""Repository invariants: pins in step, notebooks stripped, no shared data committed, README true."""
from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
import sync_environment  # noqa: E402


def test_environment_yml_lists_the_same_pins_as_the_lock():
    lock = sync_environment.read_lock()
    env_pins = [line.strip()[2:] for line in (ROOT / "environment.yml").read_text().splitlines()
                if line.strip().startswith("- ") and "==" in line]
    assert sorted(env_pins) == sorted(lock), "run scripts/sync_environment.py"
    assert all(re.fullmatch(r"[A-Za-z0-9_.\-\[\]]+==[A-Za-z0-9_.+\-]+", pin) for pin in lock), \
        "every dependency in requirements.lock must be pinned exactly (name==version)"


def test_installed_versions_match_the_lock():
    from importlib.metadata import version

    for pin in sync_environment.read_lock():
        name, wanted = pin.split("==")
        assert version(name) == wanted, f"{name}: installed {version(name)}, lock says {wanted}"


def _tracked(pattern: str) -> list[Path]:
    try:
        out = subprocess.run(["git", "ls-files", pattern], cwd=ROOT, capture_output=True, text=True, check=True)
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("not a git checkout")
    return [ROOT / p for p in out.stdout.split()]


def test_committed_notebooks_have_no_outputs():
    dirty = []
    for nb_path in _tracked("*.ipynb"):
        nb = json.loads(nb_path.read_text())
        if any(c.get("outputs") or c.get("execution_count") for c in nb["cells"] if c["cell_type"] == "code"):
            dirty.append(nb_path.name)
    assert not dirty, f"strip outputs before committing (make git-hooks installs nbstripout): {dirty}"


def test_shared_datasets_are_not_committed():
    names = {"dataset_Facebook.csv", "Live_20210128.csv", "seller_codes.csv", "NYC_Social_Media_Usage.csv"}
    committed = [p for p in _tracked("*") if p.name in names]
    assert not committed, "the registry reads shared datasets from the mirror; do not commit them"


def test_readme_starts_with_the_two_commands():
    text = (ROOT / "README.md").read_text()
    commands = re.findall(r"^(make \w+)\s*$", text, flags=re.M)
    assert commands[:2] == ["make reproduce", "make test"]
    first_block = text.split("```")[1]
    assert "make reproduce" in first_block and "make test" in first_block


def test_ci_runs_make_test_only():
    lines = [ln for ln in (ROOT / ".ci" / "run").read_text().splitlines()
             if ln.strip() and not ln.startswith("#")]
    assert lines[-1].strip() == "make test"


def test_readme_mentions_every_tutorial():
    text = (ROOT / "README.md").read_text()
    for nb in sorted((ROOT / "notebooks" / "tutorials").glob("*.ipynb")):
        assert nb.name in text, f"README.md does not point to {nb.name}"


@pytest.mark.parametrize("folder", ["tutorials", "research", "reproduction"])
def test_notebook_names_follow_the_convention(folder):
    for nb in (ROOT / "notebooks" / folder).glob("*.ipynb"):
        assert re.fullmatch(r"\d\d-[a-z0-9\-]+\.ipynb", nb.name), nb.name


def test_notebooks_have_a_parameters_cell_and_define_no_functions():
    for nb_path in sorted((ROOT / "notebooks").rglob("*.ipynb")):
        if ".ipynb_checkpoints" in nb_path.parts:
            continue
        nb = json.loads(nb_path.read_text())
        tagged = [c for c in nb["cells"] if "parameters" in c.get("metadata", {}).get("tags", [])]
        assert len(tagged) == 1, f"{nb_path.name}: exactly one cell tagged 'parameters'"
        for cell in nb["cells"]:
            if cell["cell_type"] == "code":
                src = "".join(cell["source"])
                assert not re.search(r"^\s*(def|class)\s", src, flags=re.M), \
                    f"{nb_path.name}: notebooks call toolkit functions; they define none"


def test_package_data_ships_the_dataset_catalog():
    # registry.csv and nyc_agency_aliases.csv are read at run time: an installed (non-editable) wheel must carry
    # them, so every file of the catalog folder matches a [tool.setuptools.package-data] pattern of its package
    import fnmatch
    import tomllib

    from toolkit import config

    patterns = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]
    shipped = [str(Path(package.replace(".", "/")) / p) for package, ps in patterns.items() for p in ps]
    files = [p.relative_to(ROOT).as_posix() for p in config.CATALOG_DIR.iterdir() if p.is_file()]
    assert {"toolkit/data/catalog/registry.csv", "toolkit/data/catalog/nyc_agency_aliases.csv"} <= set(files)
    missing = [f for f in files if not any(fnmatch.fnmatch(f, s) for s in shipped)]
    assert not missing, f"add these to [tool.setuptools.package-data] in pyproject.toml: {missing}"
