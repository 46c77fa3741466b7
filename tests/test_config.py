"""The data dictionary in data/README.md agrees with config.POST_SCHEMA."""
from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from toolkit import config

ROOT = Path(__file__).resolve().parents[1]


def test_data_dictionary_matches_schema():
    text = (ROOT / "data" / "README.md").read_text()
    rows = re.findall(r"^\| `([a-z_]+)` \| `([^`]+)` \| ([^|]+) \| (yes|no) \|", text, flags=re.M)
    documented = [(name, dtype, unit.strip(), req == "yes") for name, dtype, unit, req in rows]
    expected = [(c.name, c.dtype, c.unit, c.required) for c in config.POST_SCHEMA]
    assert documented == expected


def test_schema_names_unique_and_snake_case():
    names = config.POST_COLUMNS
    assert len(set(names)) == len(names)
    assert all(re.fullmatch(r"[a-z][a-z0-9_]*", n) for n in names)
    assert set(config.COUNT_COLUMNS) >= set(config.INTERACTION_COLUMNS) | set(config.EXPOSURE_COLUMNS)


def test_ordered_categorical_puts_known_labels_first():
    cat = config.ordered_categorical(["Sales", "Zeta team", "PR", None, "Alpha"], config.DEPARTMENTS)
    assert list(cat.categories) == ["PR", "Sales", "Alpha", "Zeta team"]
    assert cat.ordered and pd.isna(cat[3])


def test_paths_are_anchored_at_the_package():
    assert (config.PROJECT_DIR / "toolkit" / "config.py").exists()
    assert config.RAW_DIR == config.PROJECT_DIR / "data" / "raw"


def test_mirror_from_environment(monkeypatch, tmp_path):
    monkeypatch.setenv(config.MIRROR_ENV, str(tmp_path))
    assert config.data_mirror() == tmp_path
    monkeypatch.delenv(config.MIRROR_ENV)
    assert config.data_mirror() is None
