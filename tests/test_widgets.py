"""toolkit.widgets: set controls in code, run, and compare with direct toolkit calls."""
from __future__ import annotations

import contextlib
import datetime
import html
import io
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
    assert "pseudo-replication" in ex.answer.value
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


def test_failed_run_is_shown_not_raised_and_clears_the_view(org):
    ex = widgets.explore(org, dv="comments", n_resamples=200)
    assert ex.plot.value and ex.table is not None
    ex.controls["start"].value = datetime.date(2031, 1, 1)  # after the last post: no rows left
    assert ex.run() is None
    assert ex.table is None and ex.result is None and ex.error
    assert "compare_groups" in ex.error and "Failed" in ex.status.value
    assert html.escape(ex.error) in ex.status.value  # the error is shown plainly, not hidden in a tab
    assert ex.plot.value == b"" and ex.plot.layout.display == "none"  # the previous plot is gone
    assert ex.sentence.value == "" and ex.table_html.value == "" and "No result" in ex.answer.value
    assert not ex.stale


def test_account_means_offered_only_when_they_can_compare(org):
    ex = widgets.explore(org, dv="comments", n_resamples=200)
    subjects = lambda: [v for _, v in ex.controls["subject"].options]  # noqa: E731
    assert subjects() == ["post", "account"] and ex.subject_note == ""
    # X/Twitter: two departments with one account each -> no account means, and the reason is shown
    ex.controls["platform"].value = ("X/Twitter",)
    assert subjects() == ["post"] and "single account" in ex.subject_note
    assert html.escape(ex.subject_note) in ex.notes.value
    # Facebook: some departments have one account, others two -> compare_groups would refuse
    ex.controls["platform"].value = ("Facebook",)
    assert subjects() == ["post"] and "at least 2 accounts in every department" in ex.subject_note
    ex.controls["platform"].value = tuple(ex.controls["platform"].options)
    ex.controls["subject"].value = "account"
    # grouping by account: account means would be one value per group
    ex.controls["between"].value = "account"
    assert subjects() == ["post"] and ex.controls["subject"].value == "post"
    assert "grouping by account" in ex.subject_note
    with pytest.raises(ValueError, match="explore: `subject` must be 'account' only when"):
        widgets.explore(org[org["platform"] == "X/Twitter"], subject="account")


def test_one_account_data_does_not_offer_account_means(org):
    one = org[org["account"] == org["account"].iloc[0]]
    ex = widgets.explore(one, dv="comments", between="paid", n_resamples=200)
    assert [v for _, v in ex.controls["subject"].options] == ["post"]
    assert "more than one paid group" in ex.subject_note  # one account in both groups: crossed, not nested


def test_account_is_a_grouping_and_too_many_labels_are_named(org):
    data = org.assign(post_label=org["post_id"].astype(str) + "x")  # one label per post: too many
    ex = widgets.explore(data, dv="comments", between="account", n_resamples=200)
    assert "account" in ex.controls["between"].options
    assert ex.error is None and ex.result.between == "account"
    direct = _direct(data, dv="comments", between="account", subject=None, analysis="auto", n_resamples=200,
                     seed=1, nan_policy="omit")
    pd.testing.assert_frame_equal(ex.table, direct.to_frame())
    assert "post_label" not in ex.controls["between"].options
    assert f"post_label ({len(data)})" in ex.group_note and "more than 30 labels" in ex.notes.value


def test_stale_marker_until_run(org):
    ex = widgets.explore(org, dv="comments", n_resamples=200)
    assert not ex.stale and "toolkit-stale" not in ex.widget._dom_classes
    shown = ex.table.copy()
    ex.controls["analysis"].value = "kruskal"
    assert ex.stale and "Settings changed" in ex.status.value and "toolkit-stale" in ex.widget._dom_classes
    pd.testing.assert_frame_equal(ex.table, shown)  # the old view stays, marked as stale
    ex.run()
    assert not ex.stale and "toolkit-stale" not in ex.widget._dom_classes and "Settings changed" not in \
        ex.status.value
    assert ex.result.analysis == "kruskal"


DATA_CODE = ("org = tk.simulate_organization(n_accounts_per_department=3, posts_per_account=15, mixed_share=0.0, "
             "seed=7)\ndata = org.data")


def test_code_tab_runs_as_shown_in_a_fresh_namespace(org):
    ex = widgets.explore(org, dv="likes", n_resamples=200, data_code=DATA_CODE)
    ex.controls["metric"].value = "engagement_rate_reach"
    ex.controls["subject"].value = "account"
    ex.controls["paid"].value = "organic"
    ex.run()
    assert ex.code_view.value == ex.script
    assert ex.script.startswith("import toolkit as tk\n\norg = tk.simulate_organization(")
    namespace = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", tk.ToolkitWarning)
        with contextlib.redirect_stdout(io.StringIO()) as out:
            exec(ex.script, namespace)  # exactly the text in the Code tab, nothing else defined
    pd.testing.assert_frame_equal(namespace["result"].to_frame(), ex.table)
    assert out.getvalue().strip() == ex.result.report().strip()


def test_data_code_must_make_the_data(org):
    with pytest.raises(ValueError, match="explore: `data_code` must be code that makes exactly the `data` given"):
        widgets.explore(org.iloc[:-1], data_code=DATA_CODE)
    with pytest.raises(ValueError, match="explore: `data_code` must be code that assigns a DataFrame to `data`"):
        widgets.explore(org, data_code="frame = 1")
    ex = widgets.explore(org, n_resamples=200)
    assert "is the table given to tk.widgets.explore" in ex.script


def test_static_snapshot_for_pages_without_a_kernel(org):
    ex = widgets.explore(org, dv="comments", n_resamples=200)
    snap = ex.snapshot_html()
    assert "data:image/png;base64," in snap and "toolkit-static" in snap
    assert html.escape(ex.script) in snap and "<table" in snap
    assert ":has(.toolkit-explorer" in snap  # hidden where the live widget renders
    # answer first: the answer comes before the plot, the full tables are folded
    first_sentence = html.escape(ex.result.summary().splitlines()[0])
    assert snap.index(first_sentence) < snap.index("data:image/png") < snap.index("<summary>Full tables")


def test_view_leads_with_the_answer_like_print(org):
    """The explorer shows what print(result) shows first (answer sentences and compact table), not the
    full tests table; the full tables and the APA sentences are in tabs."""
    ex = widgets.explore(org, dv="comments", subject="account", n_resamples=200)
    direct = _direct(org, dv="comments", between="department", subject="account", analysis="auto",
                     n_resamples=200, seed=1, nan_policy="omit")
    sentences, compact = direct.summary().split("\n\n")[:2]
    for line in sentences.splitlines():
        assert html.escape(line) in ex.answer.value
    for name in direct.descriptives["group"].astype(str):  # the compact table names every group
        assert f"<td>{html.escape(name)}</td>" in ex.answer.value
    children = list(ex.widget.children)
    assert children.index(ex.answer) < children.index(ex.plot) < children.index(ex.tabs)
    assert [ex.tabs.get_title(i) for i in range(3)] == ["Full tables", "APA sentences", "Code"]
    # the long tests table (p_adjusted, effect sizes ...) is only in the Full tables tab
    assert "p_adjusted" not in ex.answer.value and "p_adjusted" in ex.table_html.value
    assert "<b>Contrasts</b>" in ex.table_html.value and "<b>Descriptives</b>" in ex.table_html.value


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
    pd.testing.assert_frame_equal(report.by_reason(), direct_report.by_reason())
    assert report.n_rows_kept == direct_report.n_rows_kept
    assert a.call == f"data, report = tk.read_posts({str(path)!r}, columns={mapping!r})"
    ns = {"tk": tk}
    exec(a.call, ns)
    pd.testing.assert_frame_equal(ns["data"], direct)
    assert a.report_html.value == report._repr_html_() and "rows in = kept + excluded" in a.report_html.value
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


@pytest.mark.slow
def test_executed_html_shows_the_snapshot_offline(tmp_path):
    """nbclient stores the widget state, so nbconvert's HTML embeds the widget (its JavaScript comes from
    a CDN, unreachable offline): the static snapshot printed after it is what such a page shows."""
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    from nbconvert import HTMLExporter

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(
        "import toolkit as tk\n"
        "data = tk.simulate_organization(n_accounts_per_department=2, posts_per_account=8, seed=3).data\n"
        "tk.widgets.explore(data, dv='comments', n_resamples=50)")]
    nbclient.NotebookClient(nb, timeout=120, kernel_name="python3").execute()
    outputs = nb.cells[0].outputs
    kinds = [set(o.get("data", {})) for o in outputs if o.output_type == "display_data"]
    assert any("application/vnd.jupyter.widget-view+json" in k for k in kinds)  # the live widget
    assert any("text/html" in k for k in kinds)                                 # and its snapshot
    page, _ = HTMLExporter().from_notebook_node(nb)
    assert "toolkit-static" in page and "data:image/png;base64," in page
    # offline the embedded widget never renders, so nothing carries the class that would hide the snapshot
    assert "class='toolkit-explorer" not in page and 'class="toolkit-explorer' not in page
    assert "tk.compare_groups(data, dv=&#x27;comments&#x27;" in page or "tk.compare_groups(data, dv='comments'" in page
