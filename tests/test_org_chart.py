"""assign_departments: account -> department from an org chart, with team changes and unmatched posts named.

Expected departments are written by hand from the invented org chart (tests/fixtures/exports/org_chart.csv)
and the posting dates of the invented CrowdTangle fixture.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import toolkit as tk
from toolkit._validation import ToolkitWarning

EXPORTS = Path(__file__).resolve().parent / "fixtures" / "exports"


def _posts():
    return pd.DataFrame({
        "post_id": ["p1", "p2", "p3", "p4", "p5", "p6"],
        "account": ["careers", "@Careers ", "news", "nobody", None, "careers"],
        "posted_at": pd.to_datetime(["2022-03-05 23:59", "2022-03-06 00:00", "2021-01-01", "2022-01-01",
                                     "2022-01-01", None], utc=True, format="ISO8601"),
        "likes": [1, 2, 3, 4, 5, 6]})


CHART = pd.DataFrame({"account": ["careers", "careers", "news"], "department": ["HR", "Marketing", "PR"],
                      "valid_from": ["", "2022-03-06", ""], "valid_to": ["2022-03-06", "", ""]})


def test_team_change_on_a_date_and_every_unmatched_post_is_named():
    with pytest.warns(ToolkitWarning, match=r"3 of 6 posts \(3 account\(s\)\) have no department"):
        out = tk.assign_departments(_posts(), org_chart=CHART)
    # valid_to is exclusive: 23:59 the day before the change is HR, midnight of the change day Marketing
    assert out.data["department"].tolist()[:3] == ["HR", "Marketing", "PR"]
    assert out.data["department"].isna().tolist() == [False, False, False, True, True, True]
    assert len(out.data) == 6 and out.data["likes"].tolist() == [1, 2, 3, 4, 5, 6]  # nothing dropped
    assert isinstance(out.data["department"].dtype, pd.CategoricalDtype) and out.data["department"].cat.ordered
    u = out.unmatched
    assert list(u.columns) == ["account", "reason", "n_posts", "first_posted", "last_posted", "post_ids"]
    by_reason = dict(zip(u["reason"], u["post_ids"]))
    assert by_reason == {"not_in_org_chart": "p4", "no_account": "p5", "no_time": "p6"}
    assert u["n_posts"].sum() == 3


def test_csv_org_chart_with_a_report_from_read_posts():
    data, report = tk.read_posts(EXPORTS / "crowdtangle_facebook.csv")
    with pytest.warns(ToolkitWarning, match="4 of 12 posts"):
        out = tk.assign_departments(data, org_chart=EXPORTS / "org_chart.csv", report=report)
    careers = out.data[out.data["account"] == "Example Corp Careers"]
    # posted 2022-03-02/05 (HR) and 2022-03-08/11 (Marketing); the change is on 2022-03-06
    assert careers["department"].tolist() == ["HR", "HR", "Marketing", "Marketing"]
    assert out.unmatched[["account", "reason", "n_posts"]].values.tolist() == [
        ["Example Corp Help", "not_in_org_chart", 4]]
    flagged = report.entries[report.entries["rule"] == "unmatched_account"]
    assert flagged["source_row"].tolist() == [3, 6, 9, 12]
    report.check(out.data)


def test_chart_without_periods_and_all_matched_gives_an_empty_table_and_no_warning():
    posts = _posts().iloc[:3]
    chart = pd.DataFrame({"account": ["careers", "news"], "department": ["HR", "PR"]})
    out = tk.assign_departments(posts, org_chart=chart)
    assert out.data["department"].tolist() == ["HR", "HR", "PR"]
    assert out.unmatched.empty and list(out.unmatched.columns) == ["account", "reason", "n_posts", "first_posted",
                                                                   "last_posted", "post_ids"]


def test_outside_every_period():
    chart = pd.DataFrame({"account": ["news"], "department": ["PR"], "valid_from": ["2022-01-01"]})
    with pytest.warns(ToolkitWarning):
        out = tk.assign_departments(_posts().iloc[[2]], org_chart=chart)
    assert out.unmatched["reason"].tolist() == ["outside_periods"]


def test_org_chart_errors(tmp_path):
    posts = _posts()
    overlapping = pd.DataFrame({"account": ["a", "a"], "department": ["HR", "PR"],
                                "valid_from": ["2020-01-01", "2021-01-01"], "valid_to": ["2021-06-01", ""]})
    with pytest.raises(ValueError, match="periods that do not overlap.*account 'a' in lines 2 and 3"):
        tk.assign_departments(posts, org_chart=overlapping)
    with pytest.raises(ValueError, match="periods that do not overlap"):  # two open rows, two departments
        tk.assign_departments(posts, org_chart=pd.DataFrame({"account": ["a", "a"], "department": ["HR", "PR"]}))
    with pytest.raises(ValueError, match="unreadable 'soon'"):
        tk.assign_departments(posts, org_chart=CHART.assign(valid_to=["2022-03-06", "soon", ""]))
    with pytest.raises(ValueError, match="valid_to after valid_from"):
        tk.assign_departments(posts, org_chart=CHART.assign(valid_from=["2022-01-01", "2022-03-06", ""],
                                                  valid_to=["2021-03-06", "", ""]))
    with pytest.raises(ValueError, match="blank cells"):
        tk.assign_departments(posts, org_chart=CHART.assign(department=["HR", "", "PR"]))
    with pytest.raises(ValueError, match="column in `org_chart`.*Did you mean 'Department'"):
        tk.assign_departments(posts, org_chart=CHART.rename(columns={"department": "Department"}))
    with pytest.raises(ValueError, match="must be posts without departments.*Drop or rename"):
        tk.assign_departments(posts.assign(department="HR"), org_chart=CHART)
    with pytest.raises(TypeError, match="`org_chart` must be a pandas.DataFrame or the path"):
        tk.assign_departments(posts, org_chart={"careers": "HR"})
    with pytest.raises(ValueError, match="`time` must be a column of posting times"):
        tk.assign_departments(posts.assign(posted_at="yesterday-ish"), org_chart=CHART)
    with pytest.raises(FileNotFoundError):
        tk.assign_departments(posts, org_chart=tmp_path / "missing.csv")


def test_input_is_not_mutated():
    posts = _posts()
    before = posts.copy()
    with pytest.warns(ToolkitWarning):
        tk.assign_departments(posts, org_chart=CHART)
    pd.testing.assert_frame_equal(posts, before)
