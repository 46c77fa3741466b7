"""QualityReport: the accounting identity and the displays."""
from __future__ import annotations

import pandas as pd
import pytest

from toolkit.data.quality import DataQualityError, QualityReport


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


def test_summary_and_entries():
    r = make_report()
    s = r.summary()
    assert list(s.columns) == ["action", "rule", "column", "n_rows", "example_rows"]
    assert s["action"].tolist() == ["excluded", "repaired", "flagged"]
    e = r.entries
    assert e["source_row"].tolist() == [2, 3, 3] and e.loc[1, "original_value"] == "-1"


def test_displays_and_strict():
    r = make_report()
    assert "5 rows in, 4 kept, 1 excluded" in str(r)
    assert "<b>4 kept</b>" in r._repr_html_()
    with pytest.raises(DataQualityError, match="row 2: duplicate of row 1"):
        r.raise_first()
    with pytest.raises(ValueError, match="action"):
        r.add(source_row=1, action="dropped", rule="x", message="y")
