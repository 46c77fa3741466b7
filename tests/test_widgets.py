"""toolkit.widgets: set controls in code, run, and compare with direct toolkit calls."""
from __future__ import annotations

import datetime
import warnings

import pandas as pd
import pytest

import toolkit as tk
from toolkit import config, widgets

pytest.importorskip("ipywidgets")

requires_mirror = pytest.mark.skipif(config.data_mirror() is None or not config.data_mirror().is_dir(),
                                     reason="real datasets need TOOLKIT_DATA_MIRROR (make test sets it)")


@pytest.fixture(scope="module")
def org():
    return tk.simulate_organization(n_accounts_per_department=3, posts_per_account=15, mixed_share=0.0, seed=7).data


def _direct(frame, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", tk.ToolkitWarning)
        return tk.compare_groups(frame, **kwargs)


def _eval_code(code, data):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", tk.ToolkitWarning)
        return eval(code, {"tk": tk}, {"data": data})


def test_initial_view_equals_direct_call(org):
    ex = widgets.explore(org, dv="comments", n_resamples=200)
    p = ex.params
    assert p == {"dv": "comments", "between": "department", "subject": None, "analysis": "auto",
                 "n_resamples": 200, "seed": 1, "nan_policy": "omit", "filters": {}, "query": None,
                 "metric_source": "column"}
    direct = _direct(org, **{k: p[k] for k in ("dv", "between", "subject", "analysis", "n_resamples", "seed",
                                                  "nan_policy")})
    pd.testing.assert_frame_equal(ex.table, direct.to_frame())
    assert ex.code == ("tk.compare_groups(data, dv='comments', between='department', subject=None, "
                       "analysis='auto', n_resamples=200, seed=1, nan_policy='omit')")
    pd.testing.assert_frame_equal(_eval_code(ex.code, org).to_frame(), ex.table)
    # the pseudo-replication warning is shown, not raised
    assert any("pseudo-replication" in w for w in ex.warnings)
    assert "pseudo-replication" in ex.table_html.value
    import html

    assert html.escape(direct.report().splitlines()[0]) in ex.sentence.value
    assert ex.plot.value[:8] == b"\x89PNG\r\n\x1a\n"


def test_controls_filters_and_run_button(org):
    ex = widgets.explore(org, dv="likes", n_resamples=200)
    before_table, before_png = ex.table.copy(), ex.plot.value
    c = ex.controls
    assert {"platform", "content_type", "paid", "start", "end"} <= set(c)
    c["metric"].value = "engagement_rate_reach"
    c["subject"].value = "account"
    c["analysis"].value = "kruskal"
    c["platform"].value = ("Facebook", "Instagram")
    c["paid"].value = "organic"
    c["start"].value = datetime.date(2025, 2, 1)
    # nothing recomputes until Run is clicked
    pd.testing.assert_frame_equal(ex.table, before_table)
    ex.run_button.click()
    assert ex.error is None
    p = ex.params
    assert p["filters"] == {"platform": ["Facebook", "Instagram"], "paid": False, "start": "2025-02-01"}
    assert p["metric_source"] == "add_metrics" and p["dv"] == "engagement_rate_reach"
    # the direct call, written independently of the widget's query string
    data = tk.add_metrics(org, metrics=["engagement_rate_reach"])
    keep = (data["platform"].isin(["Facebook", "Instagram"]) & (data["paid"] == False)  # noqa: E712
            & (data["posted_at"] >= pd.Timestamp("2025-02-01", tz="UTC"))).fillna(False)
    direct = _direct(data[keep.to_numpy(bool)], dv="engagement_rate_reach", between="department",
                     subject="account", analysis="kruskal", n_resamples=200, seed=1, nan_policy="omit")
    pd.testing.assert_frame_equal(ex.table, direct.to_frame())
    assert ex.result.unit == "account" and ex.result.analysis == "kruskal"
    pd.testing.assert_frame_equal(_eval_code(ex.code, org).to_frame(), ex.table)
    assert ex.code.startswith("tk.compare_groups(tk.add_metrics(data, metrics=['engagement_rate_reach']).query(")
    assert ex.plot.value != before_png
    assert "engagement_rate_reach" in ex.code_view.value


def test_welch_view_is_exactly_reproducible(org):
    ex = widgets.explore(org, dv="likes", subject="account", analysis="welch", n_resamples=200)
    direct = _direct(org, dv="likes", between="department", subject="account", analysis="welch",
                     n_resamples=200, seed=1, nan_policy="omit")
    pd.testing.assert_frame_equal(ex.table, direct.to_frame())
    pd.testing.assert_frame_equal(_eval_code(ex.code, org).to_frame(), ex.table)
    pd.testing.assert_frame_equal(ex.result.descriptives, direct.descriptives)


def test_kruskal_view_is_exactly_reproducible(org):
    ex = widgets.explore(org, dv="comments", analysis="kruskal", n_resamples=200)
    pd.testing.assert_frame_equal(_eval_code(ex.code, org).to_frame(), ex.table)


def test_end_date_and_grouping_change(org):
    ex = widgets.explore(org, dv="shares", between="content_type", n_resamples=200)
    ex.controls["end"].value = datetime.date(2025, 7, 1)
    ex.controls["between"].value = "platform"
    result = ex.run()
    keep = org["posted_at"] < pd.Timestamp("2025-07-01", tz="UTC")
    direct = _direct(org[keep.to_numpy(bool)], dv="shares", between="platform", subject=None, analysis="auto",
                     n_resamples=200, seed=1, nan_policy="omit")
    pd.testing.assert_frame_equal(result.to_frame(), direct.to_frame())
    assert ex.query == "posted_at < '2025-07-01 00:00:00+00:00'"


def test_failed_run_is_shown_not_raised(org):
    # Facebook: some departments have one account, others two; account means cannot compare them
    ex = widgets.explore(org, dv="comments", n_resamples=200)
    ex.controls["platform"].value = ("Facebook",)
    ex.controls["subject"].value = "account"
    assert ex.run() is None
    assert ex.table is None and ex.error
    assert "compare_groups" in ex.error and "single account" in ex.error and "failed" in ex.status.value


def test_one_account_per_department_is_said_in_the_view(org):
    # X/Twitter: two departments with one account each: no department-level test, the accounts are compared
    ex = widgets.explore(org, dv="comments", n_resamples=200)
    ex.controls["platform"].value = ("X/Twitter",)
    ex.controls["subject"].value = "account"
    result = ex.run()
    assert result is not None and result.identifiable is False
    assert any("cannot be told apart" in w for w in ex.warnings)
    assert "cannot be told apart" in ex.sentence.value and "these 2 accounts" in ex.status.value


def test_explore_argument_errors(org):
    with pytest.raises(ValueError, match=r"explore: `dv` must be the name of a column"):
        widgets.explore(org, dv="comment")
    with pytest.raises(ValueError, match=r"explore: `analysis` must be one of 'auto', 'welch', 'kruskal'"):
        widgets.explore(org, analysis="anova")
    with pytest.raises(TypeError, match=r"explore: `data` must be a pandas.DataFrame"):
        widgets.explore(org["likes"])


def test_missing_ipywidgets_message(org, monkeypatch):
    monkeypatch.setattr(widgets, "_widgets", None)
    with pytest.raises(ImportError, match=r"pip install engagement-toolkit\[widgets\]"):
        widgets.explore(org)


def test_widgets_module_is_the_only_ipywidgets_importer():
    from pathlib import Path

    root = Path(tk.__file__).parent
    users = sorted(p.relative_to(root).as_posix() for p in root.rglob("*.py")
                   if "import ipywidgets" in p.read_text(encoding="utf-8"))
    assert users == ["widgets.py"]


# ------------------------------------------------------------------------------- mapping assistant
def test_suggest_mapping_rules():
    got = widgets.suggest_mapping(["Lifetime Post Total Reach", "  PAGE total likes ", "num_comments",
                                   "Retweets", "likes", "Like", "Category", "Post-ID", "source_row"])
    assert got == {"Lifetime Post Total Reach": "reach", "  PAGE total likes ": "audience",
                   "num_comments": "comments", "Retweets": "shares", "likes": "likes", "Post-ID": "post_id"}


def _write_export(tmp_path):
    raw = pd.DataFrame({"Post ID": ["p1", "p2", "p3", "p4"], "Team": ["Marketing", "PR", "PR", "Marketing"],
                        "Lifetime Post Total Reach": ["1,200", "800", "950", "-5"], "Like": [10, 4, 6, 2],
                        "Mood": ["x", "y", "z", "w"]})
    path = tmp_path / "export.csv"
    raw.to_csv(path, index=False)
    return path


def test_mapping_assistant_reads_like_read_posts(tmp_path):
    path = _write_export(tmp_path)
    a = widgets.mapping_assistant(path)
    assert list(a.dropdowns) == ["Post ID", "Team", "Lifetime Post Total Reach", "Like", "Mood"]
    assert a.columns == {"Post ID": "post_id", "Team": "department", "Lifetime Post Total Reach": "reach",
                         "Like": "likes"}
    a.dropdowns["Mood"].value = "content_type"   # change a suggestion in code
    a.dropdowns["Like"].value = None             # keep as an extra column
    data, report = a.read()
    mapping = {"Post ID": "post_id", "Team": "department", "Lifetime Post Total Reach": "reach",
               "Mood": "content_type"}
    direct, direct_report = tk.read_posts(str(path), columns=mapping)
    pd.testing.assert_frame_equal(data, direct)
    pd.testing.assert_frame_equal(report.summary(), direct_report.summary())
    assert report.n_rows_kept == direct_report.n_rows_kept
    assert a.call == f"data, report = tk.read_posts({str(path)!r}, columns={mapping!r})"
    ns = {"tk": tk}
    exec(a.call, ns)
    pd.testing.assert_frame_equal(ns["data"], direct)
    assert "QualityReport" in a.report_html.value
    assert a.params == {"source": str(path), "columns": mapping}


def test_mapping_assistant_duplicate_and_missing(tmp_path):
    path = _write_export(tmp_path)
    a = widgets.mapping_assistant(path)
    a.dropdowns["Mood"].value = "likes"
    assert a.read() is None
    assert "each canonical name used once" in a.error
    b = widgets.mapping_assistant(tmp_path / "nope.csv")
    assert "`path` must be an existing file" in b.error


def test_mapping_assistant_upload(tmp_path):
    path = _write_export(tmp_path)
    a = widgets.mapping_assistant(upload_dir=tmp_path / "up")
    (tmp_path / "up").mkdir()
    content = path.read_bytes()
    a.upload.value = ({"name": "export.csv", "type": "text/csv", "size": len(content),
                       "content": memoryview(content), "last_modified": datetime.datetime(2026, 11, 21)},)
    assert a.path.value == str(tmp_path / "up" / "export.csv")
    assert a.columns["Like"] == "likes"


@requires_mirror
def test_mapping_assistant_facebook_export_names():
    from toolkit.data.datasets import FACEBOOK_COLUMNS
    from toolkit.data.registry import dataset_path

    a = widgets.mapping_assistant(dataset_path("uci_facebook_metrics", "dataset_Facebook.csv"))
    # every mapping the hand-written loader uses is suggested automatically
    assert {k: a.columns.get(k) for k in FACEBOOK_COLUMNS} == FACEBOOK_COLUMNS
