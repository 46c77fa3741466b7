"""Headline numbers: recording, saving, loading and the drift comparison."""
from __future__ import annotations

import json
import math

import pytest

from toolkit import headlines as tkh


def _expected(value, abs_tol=0.0, rel_tol=0.0, nb="nb", name="x"):
    return {nb: {name: {"value": value, "abs_tol": abs_tol, "rel_tol": rel_tol, "note": None}}}


def test_record_save_load_roundtrip(tmp_path):
    h = tkh.Headlines(notebook="01-demo")
    assert h.record("p", 0.0123, rel_tol=1e-4, note="a p-value") == 0.0123
    h.record("n", 42)
    h.record("decision", "supported")
    h.record("flag", True)
    h.record("undefined", float("nan"))
    path = h.save(tmp_path / "results")
    assert path.name == "01-demo.json"
    assert json.loads(path.read_text(encoding="utf-8"))["notebook"] == "01-demo"  # strict JSON (no NaN literal)
    loaded = tkh.load_headlines(tmp_path / "results")
    assert list(loaded) == ["01-demo"]
    got = loaded["01-demo"]
    assert got["p"] == {"value": 0.0123, "abs_tol": 0.0, "rel_tol": 1e-4, "note": "a p-value"}
    assert got["n"]["value"] == 42 and got["decision"]["value"] == "supported" and got["flag"]["value"] is True
    assert math.isnan(got["undefined"]["value"])
    assert list(h.to_frame().columns) == ["notebook", "name", "value", "abs_tol", "rel_tol", "note"]
    assert tkh.load_headlines(tmp_path / "absent") == {}


@pytest.mark.parametrize("call, kind, match", [
    (lambda h: (h.record("x", 1.0), h.record("x", 2.0)), ValueError, r"`name` must be unique within the notebook"),
    (lambda h: h.record("a b", 1.0), ValueError, r"Headlines.record: `name` must be an identifier"),
    (lambda h: h.record("x", float("inf")), ValueError, r"`value` must be finite or NaN for headline 'x'"),
    (lambda h: h.record("x", [1, 2]), TypeError, r"`value` must be a number, a bool or a str; got 'list'"),
    (lambda h: h.record("x", 1.0, rel_tol=-1), ValueError, r"`rel_tol` must be a finite number >= 0"),
])
def test_record_errors(call, kind, match):
    with pytest.raises(kind, match=match):
        call(tkh.Headlines(notebook="nb"))


def test_notebook_name_checked():
    with pytest.raises(ValueError, match=r"Headlines: `notebook` must be a file stem"):
        tkh.Headlines(notebook="../escape")


@pytest.mark.parametrize("expected, got, abs_tol, rel_tol, status", [
    (1.0, 1.0, 0.0, 0.0, "ok"),
    (100.0, 100.0099, 0.0, 1e-4, "ok"),        # 0.0099 <= 1e-4 * 100
    (100.0, 100.0101, 0.0, 1e-4, "drift"),     # 0.0101 > 0.01
    (0.0, 1e-13, 1e-12, 1e-6, "ok"),           # abs_tol covers a zero expected value
    (0.0, 1e-11, 1e-12, 1e-6, "drift"),
    (2.0, 1.0, 0.5, 0.25, "ok"),               # allowed = 0.5 + 0.25 * 2 = 1.0 (boundary is inside)
    ("supported", "supported", 0.0, 1.0, "ok"),
    ("supported", "not supported", 0.0, 1.0, "drift"),
    (True, 1, 0.0, 0.0, "drift"),              # a bool is not the number 1
    (float("nan"), float("nan"), 0.0, 0.0, "ok"),
    (float("nan"), 0.5, 0.0, 0.0, "drift"),
    (7, 7.0, 0.0, 0.0, "ok"),
])
def test_compare_status(expected, got, abs_tol, rel_tol, status):
    table = tkh.compare_headlines({"nb": {"x": {"value": got}}}, expected=_expected(expected, abs_tol, rel_tol))
    assert list(table.columns) == list(tkh.COMPARISON_COLUMNS)
    assert table["status"].tolist() == [status]


def test_missing_and_unchecked_and_report():
    expected = {"nb": {"a": {"value": 1.0, "abs_tol": 0.0, "rel_tol": 1e-6},
                       "b": {"value": 2.0, "abs_tol": 0.0, "rel_tol": 1e-6}},
                "gone": {"c": {"value": 3.0, "abs_tol": 0.0, "rel_tol": 0.0}}}
    got = {"nb": {"a": {"value": 1.5}, "new": {"value": 9.0}}}
    table = tkh.compare_headlines(got, expected=expected).set_index(["notebook", "name"])
    assert table.loc[("nb", "a"), "status"] == "drift"
    assert table.loc[("nb", "a"), "difference"] == pytest.approx(0.5)
    assert table.loc[("nb", "b"), "status"] == "missing"
    assert table.loc[("gone", "c"), "status"] == "missing"
    assert table.loc[("nb", "new"), "status"] == "unchecked"
    report = tkh.drift_report(tkh.compare_headlines(got, expected=expected))
    assert "DRIFT     nb / a: expected 1.0, got 1.5 (|difference| 0.5 > allowed 1e-06" in report
    assert "MISSING   nb / b" in report and "MISSING   gone / c" in report and "UNCHECKED nb / new" in report
    assert tkh.drift_report(tkh.compare_headlines({"nb": {"a": {"value": 1.0}}},
                                                  expected={"nb": {"a": {"value": 1.0, "rel_tol": 0.0}}})) == ""


def test_expected_file_roundtrip_and_update(tmp_path):
    h = tkh.Headlines(notebook="nb")
    h.record("x", 1.25, rel_tol=1e-3, note="new note")
    h.record("y", float("nan"))
    previous = {"nb": {"x": {"value": 1.0, "abs_tol": 0.1, "rel_tol": 0.0, "note": "reviewed"}},
                "other": {"z": {"value": 5.0, "abs_tol": 0.0, "rel_tol": 0.0, "note": None}}}
    content = tkh.expected_from_results({"nb": h.to_dict()}, previous=previous, description="d")
    path = tkh.write_expected(content, tmp_path / "expected.json")
    back = tkh.read_expected(path)
    # value updated, reviewed tolerance and note kept; other notebooks kept; NaN survives strict JSON
    assert back["nb"]["x"] == {"value": 1.25, "abs_tol": 0.1, "rel_tol": 0.0, "note": "reviewed"}
    assert math.isnan(back["nb"]["y"]["value"]) and back["nb"]["y"]["rel_tol"] == 1e-6
    assert back["other"]["z"]["value"] == 5.0
    check = h.check(path)
    assert set(check["notebook"]) == {"nb"} and (check["status"] == "ok").all()


def test_read_expected_errors(tmp_path):
    with pytest.raises(ValueError, match=r"read_expected: `path` must be an existing expected-values JSON file"):
        tkh.read_expected(tmp_path / "none.json")
    with pytest.raises(ValueError, match=r"JSON with a 'notebooks' mapping"):
        tkh.read_expected({"nb": {}})
    with pytest.raises(ValueError, match=r"an entry with a 'value' for nb/x"):
        tkh.read_expected({"notebooks": {"nb": {"x": {"abs_tol": 1}}}})
    with pytest.raises(ValueError, match=r"`nb/x.rel_tol` must be a finite number >= 0"):
        tkh.read_expected({"notebooks": {"nb": {"x": {"value": 1, "rel_tol": -0.1}}}})
