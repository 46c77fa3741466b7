"""Headline numbers of notebooks: record them explicitly, save them as JSON, compare them with expected values.

A notebook that reports numbers creates a :class:`Headlines` object in an ordinary cell, records each
number it quotes, and saves them to ``<headlines_dir>/<notebook>.json`` (``headlines_dir`` comes from the
notebook's parameters cell; ``scripts/reproduce.py`` injects it). ``scripts/reproduce.py`` collects the
files into ``reports/results.json`` and compares them with the committed expected values
(``notebooks/expected_results.json``) using :func:`compare_headlines`. Nothing here is global: the
numbers travel only through the object and the files.

File formats (JSON)::

    <headlines_dir>/<notebook>.json
        {"notebook": "01-rerun-and-check",
         "headlines": {"<name>": {"value": 1.63, "abs_tol": 0.0, "rel_tol": 1e-06, "note": "..."}, ...}}
    expected values / reports/results.json
        {"notebooks": {"<notebook>": {"<name>": {"value": ..., "abs_tol": ..., "rel_tol": ..., "note": ...}}}}
"""
from __future__ import annotations

import json
import math
import numbers
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ._protocol import AnswerFirst
from ._validation import message

__all__ = ["Headlines", "load_headlines", "read_expected", "write_expected", "compare_headlines",
           "drift_report", "expected_from_results", "COMPARISON_COLUMNS"]

#: Columns of the table returned by :func:`compare_headlines`.
COMPARISON_COLUMNS: tuple[str, ...] = ("notebook", "name", "expected", "got", "difference", "abs_tol", "rel_tol",
                                       "allowed", "status")
_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.\-]*$")


def _check_tol(value: Any, func: str, param: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(float(value)) \
            or float(value) < 0:
        raise ValueError(message(func, param, "a finite number >= 0", value))
    return float(value)


def _check_value(value: Any, func: str, name: str):
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, str):
        return value
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        v = float(value)
        if math.isinf(v):
            raise ValueError(message(func, "value", f"finite or NaN for headline {name!r}", v))
        return v
    raise TypeError(message(func, "value", "a number, a bool or a str", type(value).__name__,
                            "Record one scalar per name, e.g. float(table['p_value'].iloc[0])."))


class Headlines(AnswerFirst):
    """The headline numbers of one notebook, recorded explicitly and saved as JSON.

    Parameters
    ----------
    notebook : str
        The notebook's file stem (e.g. "01-rerun-and-check"); names the JSON file.

    Examples
    --------
    >>> h = Headlines(notebook="01-example")
    >>> h.record("mean_likes", 12.5, rel_tol=1e-6)
    12.5
    >>> h.to_frame()[["name", "value", "rel_tol"]].values.tolist()
    [['mean_likes', 12.5, 1e-06]]
    """

    def __init__(self, *, notebook: str):
        if not isinstance(notebook, str) or not _NAME.match(notebook):
            raise ValueError(message("Headlines", "notebook", "a file stem (letters, digits, '_', '-', '.')",
                                     notebook))
        self.notebook = notebook
        self._items: dict[str, dict] = {}

    def record(self, name: str, value, *, abs_tol: float = 0.0, rel_tol: float = 1e-6, note: str | None = None):
        """Record one headline number and return it unchanged (so it can be used inline).

        Parameters
        ----------
        name : str
            Identifier, unique within the notebook (letters, digits, '_', '-', '.').
        value : float, int, bool or str
            The number as computed (full precision). Text and bools are compared exactly.
        abs_tol, rel_tol : float, default=0.0 and 1e-6
            Suggested tolerance, copied into the expected-values file by ``reproduce.py --update-expected``.
            A number passes when ``|got - expected| <= abs_tol + rel_tol * |expected|``.
        note : str or None
            What the number is (shown in the drift report).
        """
        if not isinstance(name, str) or not _NAME.match(name):
            raise ValueError(message("Headlines.record", "name", "an identifier (letters, digits, '_', '-', '.')",
                                     name))
        if name in self._items:
            raise ValueError(message("Headlines.record", "name", "unique within the notebook", name,
                                     "Each headline number is recorded once."))
        value = _check_value(value, "Headlines.record", name)
        self._items[name] = {"value": value, "abs_tol": _check_tol(abs_tol, "Headlines.record", "abs_tol"),
                             "rel_tol": _check_tol(rel_tol, "Headlines.record", "rel_tol"), "note": note}
        return value

    def to_dict(self) -> dict:
        """``{name: {"value", "abs_tol", "rel_tol", "note"}}`` (a copy)."""
        return {k: dict(v) for k, v in self._items.items()}

    def to_frame(self) -> pd.DataFrame:
        """One row per headline: notebook, name, value, abs_tol, rel_tol, note."""
        return pd.DataFrame([{"notebook": self.notebook, "name": k, **v} for k, v in self._items.items()],
                            columns=["notebook", "name", "value", "abs_tol", "rel_tol", "note"])

    def save(self, directory) -> Path:
        """Write ``<directory>/<notebook>.json`` (the directory is created) and return its path."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / f"{self.notebook}.json"
        content = {"notebook": self.notebook, "headlines": {k: _json_entry(v) for k, v in self._items.items()}}
        path.write_text(json.dumps(content, indent=2, ensure_ascii=False, allow_nan=False) + "\n", encoding="utf-8")
        return path

    def check(self, expected) -> pd.DataFrame:
        """Compare this notebook's numbers with an expected-values file; see :func:`compare_headlines`."""
        table = compare_headlines({self.notebook: self.to_dict()}, expected=read_expected(expected))
        return table[table["notebook"] == self.notebook].reset_index(drop=True)

    def __repr__(self) -> str:
        return f"Headlines(notebook={self.notebook!r}, {len(self._items)} number(s))"


def _json_entry(entry: dict) -> dict:
    out = dict(entry)
    v = out["value"]
    if isinstance(v, float) and math.isnan(v):
        out["value"] = "NaN"
        out["is_nan"] = True
    return out


def _from_json_entry(entry: dict) -> dict:
    out = dict(entry)
    if out.pop("is_nan", False):
        out["value"] = math.nan
    return out


def load_headlines(directory) -> dict:
    """Read every ``*.json`` written by :meth:`Headlines.save` in ``directory``.

    Returns ``{notebook: {name: {"value", "abs_tol", "rel_tol", "note"}}}`` (empty when the folder is
    missing), sorted by notebook.
    """
    directory = Path(directory)
    out: dict[str, dict] = {}
    if not directory.is_dir():
        return out
    for path in sorted(directory.glob("*.json")):
        content = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(content, dict) or "headlines" not in content or "notebook" not in content:
            raise ValueError(message("load_headlines", "directory", "a folder of files written by Headlines.save",
                                     str(path)))
        out[content["notebook"]] = {k: _from_json_entry(v) for k, v in content["headlines"].items()}
    return out


def read_expected(path_or_content) -> dict:
    """Read an expected-values file (or accept its parsed content); returns ``{notebook: {name: entry}}``."""
    if isinstance(path_or_content, dict):
        content = path_or_content
    else:
        path = Path(path_or_content)
        if not path.exists():
            raise ValueError(message("read_expected", "path", "an existing expected-values JSON file", str(path),
                                     "Create it with `python scripts/reproduce.py --update-expected`."))
        content = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(content, dict) or not isinstance(content.get("notebooks"), dict):
        raise ValueError(message("read_expected", "path", "JSON with a 'notebooks' mapping", type(content).__name__))
    out = {}
    for nb, entries in content["notebooks"].items():
        out[nb] = {}
        for name, entry in entries.items():
            if not isinstance(entry, dict) or "value" not in entry:
                raise ValueError(message("read_expected", "path", f"an entry with a 'value' for {nb}/{name}", entry))
            entry = _from_json_entry(entry)
            entry["abs_tol"] = _check_tol(entry.get("abs_tol", 0.0), "read_expected", f"{nb}/{name}.abs_tol")
            entry["rel_tol"] = _check_tol(entry.get("rel_tol", 0.0), "read_expected", f"{nb}/{name}.rel_tol")
            out[nb][name] = entry
    return out


def expected_from_results(results: dict, *, previous: dict | None = None, description: str | None = None) -> dict:
    """Build expected-values content from collected results, keeping tolerances and notes of ``previous``."""
    previous = previous or {}
    notebooks = {}
    for nb, entries in sorted(results.items()):
        notebooks[nb] = {}
        for name, entry in entries.items():
            old = previous.get(nb, {}).get(name, {})
            notebooks[nb][name] = _json_entry({"value": entry["value"],
                                               "abs_tol": old.get("abs_tol", entry.get("abs_tol", 0.0)),
                                               "rel_tol": old.get("rel_tol", entry.get("rel_tol", 1e-6)),
                                               "note": old.get("note", entry.get("note"))})
    for nb, entries in previous.items():  # notebooks not in this run keep their expected values
        if nb not in notebooks:
            notebooks[nb] = {name: _json_entry(entry) for name, entry in entries.items()}
    content = {"notebooks": dict(sorted(notebooks.items()))}
    if description:
        content = {"description": description, **content}
    return content


def write_expected(content: dict, path) -> Path:
    """Write expected-values content as stable, indented JSON."""
    path = Path(path)
    path.write_text(json.dumps(content, indent=2, ensure_ascii=False, allow_nan=False) + "\n", encoding="utf-8")
    return path


def _compare_one(expected, got, abs_tol, rel_tol) -> tuple[float, float, bool]:
    if isinstance(expected, (str, bool)) or isinstance(got, (str, bool)):
        return math.nan, 0.0, (type(expected) is type(got)) and expected == got
    e, g = float(expected), float(got)
    allowed = abs_tol + rel_tol * abs(e) if math.isfinite(e) else 0.0
    if math.isnan(e) or math.isnan(g):
        return math.nan, allowed, math.isnan(e) and math.isnan(g)
    diff = abs(g - e)
    return diff, allowed, diff <= allowed


def compare_headlines(results: dict, *, expected: dict) -> pd.DataFrame:
    """Compare collected headline numbers with expected values within their tolerances.

    Parameters
    ----------
    results : dict
        ``{notebook: {name: {"value": ...}}}`` as from :func:`load_headlines`.
    expected : dict
        Same shape, with ``abs_tol`` and ``rel_tol`` per number (from :func:`read_expected`).

    Returns
    -------
    pandas.DataFrame
        One row per number in either input, columns

        - ``notebook``, ``name``;
        - ``expected``, ``got``: the values (None when absent);
        - ``difference``: ``|got - expected|`` (NaN for text, bools and missing values);
        - ``abs_tol``, ``rel_tol``: the expected file's tolerances; ``allowed``: ``abs_tol + rel_tol * |expected|``;
        - ``status``: "ok", "drift" (outside the tolerance, or text/bool not equal), "missing" (expected but not
          produced) or "unchecked" (produced but no expected value).

    Notes
    -----
    The tolerance test is that of ``numpy.isclose`` with the expected value as reference:
    ``|got - expected| <= abs_tol + rel_tol * |expected|``. NaN equals NaN. Text and bools must match exactly.
    "drift" and "missing" are failures; "unchecked" is not (add the number to the expected file).

    Examples
    --------
    >>> t = compare_headlines({"nb": {"x": {"value": 1.001}}}, expected=
    ...                       {"nb": {"x": {"value": 1.0, "abs_tol": 0.0, "rel_tol": 1e-6}}})
    >>> t["status"].tolist()
    ['drift']
    """
    rows = []
    for nb in sorted(set(results) | set(expected)):
        got_nb, exp_nb = results.get(nb, {}), expected.get(nb, {})
        for name in list(exp_nb) + [n for n in got_nb if n not in exp_nb]:
            e, g = exp_nb.get(name), got_nb.get(name)
            row = {"notebook": nb, "name": name, "expected": e["value"] if e else None,
                   "got": g["value"] if g else None, "difference": math.nan,
                   "abs_tol": e.get("abs_tol", 0.0) if e else math.nan,
                   "rel_tol": e.get("rel_tol", 0.0) if e else math.nan, "allowed": math.nan}
            if e is None:
                row["status"] = "unchecked"
            elif g is None:
                row["status"] = "missing"
            else:
                diff, allowed, ok = _compare_one(e["value"], g["value"], row["abs_tol"], row["rel_tol"])
                row.update(difference=diff, allowed=allowed, status="ok" if ok else "drift")
            rows.append(row)
    table = pd.DataFrame(rows, columns=list(COMPARISON_COLUMNS))
    for col in ("difference", "abs_tol", "rel_tol", "allowed"):
        table[col] = table[col].astype("float64")
    table["expected"] = table["expected"].astype("object")
    table["got"] = table["got"].astype("object")
    return table


def drift_report(table: pd.DataFrame) -> str:
    """One line per number that moved, is missing or is unchecked; "" when all numbers are ok."""
    lines = []
    for r in table.itertuples():
        where = f"{r.notebook} / {r.name}"
        if r.status == "drift":
            lines.append(f"DRIFT     {where}: expected {r.expected!r}, got {r.got!r} (|difference| {r.difference:.6g} "
                         f"> allowed {r.allowed:.6g} = abs_tol {r.abs_tol:g} + rel_tol {r.rel_tol:g} x |expected|)")
        elif r.status == "missing":
            lines.append(f"MISSING   {where}: expected {r.expected!r}, but the notebook did not record it")
        elif r.status == "unchecked":
            lines.append(f"UNCHECKED {where}: got {r.got!r}, no expected value (run reproduce.py --update-expected "
                         f"after review)")
    return "\n".join(lines)
