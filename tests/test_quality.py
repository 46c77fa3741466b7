"""QualityReport: the accounting identity and the displays."""
from __future__ import annotations

import html

import pandas as pd
import pytest

from toolkit.data.quality import DataQualityError, QualityReport
from toolkit.reporting import Report


def make_report():
    r = QualityReport(source="x.csv", n_rows_in=5)
    r.add(source_row=2, action="excluded", rule="duplicate_row", message="duplicate of row 1")
    r.add(source_row=3, action="repaired", rule="negative_count", column="likes", message="negative",
          original_value=-1, new_value=None)
    r.add(source_row=3, action="flagged", rule="interactions_exceed_reach", column="reach", message="more")
    r.note("encoding: utf-8")
    return r


def test_accounting_identity():
    r = make_report()
    assert (r.n_rows_in, r.n_rows_kept, r.n_rows_excluded, r.n_rows_repaired, r.n_rows_flagged) == (5, 4, 1, 1, 1)
    data = pd.DataFrame({"source_row": [1, 3, 4, 5]})
    r.check(data)
    with pytest.raises(AssertionError, match="data has 3 rows"):
        r.check(data.iloc[:3])
    with pytest.raises(AssertionError, match="excluded rows are still"):
        r.check(pd.DataFrame({"source_row": [1, 2, 4, 5]}))


def test_by_reason_and_entries():
    r = make_report()
    s = r.by_reason()   # was summary() before the result protocol (docs/GLOSSARY.md, "Behaviour changes")
    assert list(s.columns) == ["action", "rule", "column", "n_rows", "example_rows"]
    assert s["action"].tolist() == ["excluded", "repaired", "flagged"]
    e = r.entries
    assert e["source_row"].tolist() == [2, 3, 3] and e.loc[1, "original_value"] == "-1"


def test_displays_and_strict():
    r = make_report()
    assert "5 rows in, 4 kept, 1 excluded" in str(r)
    assert "5 rows in, 4 kept" in r._repr_html_()
    with pytest.raises(DataQualityError, match="row 2: duplicate of row 1"):
        r.raise_first()
    with pytest.raises(ValueError, match="action"):
        r.add(source_row=1, action="dropped", rule="x", message="y")


@pytest.mark.parametrize("case", ["problems", "clean"])
def test_result_protocol(case):
    # the same checks as tests/test_display.py::test_result_protocol (QualityReport is in the data layer, below
    # toolkit.display, so it writes its own sentences with the shared layout of toolkit._answer)
    r = make_report() if case == "problems" else QualityReport(source="clean.csv", n_rows_in=3)
    text = r.summary()
    assert isinstance(text, str) and text == str(r) == repr(r)
    first = text.splitlines()[0]
    assert first == (("x.csv: 5 rows in, 4 kept, 1 excluded (rows in = kept + excluded); 1 repaired, 1 flagged.")
                     if case == "problems" else
                     "clean.csv: 3 rows in, 3 kept, 0 excluded (rows in = kept + excluded); 0 repaired, 0 flagged.")
    full = r.summary(full=True)
    assert full.startswith(text.split("\n\nMore")[0])
    assert r._repr_html_().startswith("<p>" + html.escape(first))
    rep = r.report()
    assert isinstance(rep, Report) and rep.startswith(first) and isinstance(rep._repr_markdown_(), str)
    pd.testing.assert_frame_equal(r.to_frame(), r.entries)
    if case == "problems":
        assert text.splitlines()[1:4] == ["Excluded: duplicate_row (1 row).", "Repaired: negative_count in likes (1 row).",
                                          "Flagged: interactions_exceed_reach in reach (1 row)."]
        assert "note: encoding: utf-8" in text and "- encoding: utf-8" in rep
        assert "duplicate of row 1" in full and "duplicate of row 1" not in text   # entries only in full
    else:
        assert text.splitlines()[1] == "Every row was kept as read: nothing was excluded, repaired or flagged."
        assert r.by_reason().empty and "More:" not in text
