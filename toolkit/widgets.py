"""Interactive explorers for JupyterLab and Voilà (optional dependency: ipywidgets).

The widgets only bind controls to the public toolkit functions: every view is the result of an
ordinary call (``tk.compare_groups``, ``tk.add_metrics``, ``tk.read_posts``), its parameters are
readable as a dict (``.params``), and the exact call that reproduces the view is shown as code,
so a result found by clicking can be pasted into a notebook and rerun.

- :func:`explore` — compare an engagement outcome between groups (the answer first, then plot, full tables,
  APA sentences and code).
- :func:`mapping_assistant` — map the columns of a raw export to the canonical schema and read it
  with ``tk.read_posts`` (shows the QualityReport and the call to paste).
- :func:`suggest_mapping` — the column-name suggestions used by the assistant (no widgets needed).

Analyses are recomputed only on demand (the Run button, or ``.run()``): nothing is recomputed while a
control is being changed, so slow analyses (permutation, bootstrap) never run on every click, and
notebooks that display the widgets run headless (papermill/nbclient) without waiting for input. Until
then the view is marked stale ("Settings changed ... press Run"), so a result that does not match the
controls is never shown without saying so. Each explorer also displays a static snapshot (PNG and
tables) after the live widget, for executed HTML pages whose widget JavaScript (from a CDN) cannot load;
a CSS rule hides it wherever the live widget renders.

- :func:`power_explorer` — simulated power of a planned department comparison (sliders for the
  effect size, accounts, posts and between-account variation; computed on demand by
  :func:`toolkit.power.simulate_power`, with a progress bar).

Install the optional dependency with ``pip install engagement-toolkit[widgets]``.
"""
from __future__ import annotations

import html
import io
import re
import warnings
from pathlib import Path

import pandas as pd

from ._validation import check_column, check_data, check_integer, check_option, message
from .power import ANALYSES, simulate_power
from .config import COUNT_COLUMNS, EXPOSURE_COLUMNS, POST_COLUMNS

try:  # the only module of the toolkit that imports ipywidgets
    import ipywidgets as _widgets
except ImportError:  # pragma: no cover - exercised only without the optional dependency
    _widgets = None

__all__ = ["explore", "Explorer", "mapping_assistant", "MappingAssistant", "suggest_mapping", "power_explorer",
           "PowerExplorer"]

#: Analyses offered by the explorer (a subset of ``compare_groups``' options).
EXPLORER_ANALYSES = ("auto", "welch", "kruskal", "permutation")
#: Engagement metrics offered by the explorer when their input columns exist: name -> (inputs, label).
EXPLORER_METRICS: dict[str, tuple[tuple[str, ...], str]] = {
    "total_interactions": (("likes", "comments", "shares"), "likes + comments + shares per post"),
    "engagement_rate_reach": (("likes", "comments", "shares", "reach"), "interactions / reach"),
    "engagement_rate_impressions": (("likes", "comments", "shares", "impressions"), "interactions / impressions"),
    "engagement_rate_audience": (("likes", "comments", "shares", "audience"), "interactions / followers"),
}
_ID_COLUMNS = {"post_id", "co_departments", "posted_at", "source_row"}
#: Most labels a grouping column may have (more are listed as not offered).
MAX_GROUPS = 30
_SUBJECT_LABELS = {"post": ("posts (each post counts once)", "post"),
                   "account": ("account means (each account counts once)", "account")}
# The static snapshot shown after a widget is hidden wherever the live widget rendered (JupyterLab,
# Voila, nbconvert HTML with a reachable widget renderer); it stays visible in executed HTML offline.
_STATIC_STYLE = ("<style>.jp-OutputArea-child:has(.toolkit-explorer, .toolkit-power) ~ .jp-OutputArea-child "
                 ".toolkit-static, .output_area:has(.toolkit-explorer, .toolkit-power) ~ .output_area "
                 ".toolkit-static {display: none;}</style>")
_INSTALL_HINT = "Install the optional dependency with `pip install engagement-toolkit[widgets]`."


def _require(func: str):
    if _widgets is None:
        raise ImportError(f"{func}: the interactive widgets need ipywidgets. {_INSTALL_HINT}")
    return _widgets


def _py(value) -> str:
    """Python literal for the code view."""
    return repr(value)


# =================================================================================================
# explorer
# =================================================================================================
def _checked_data_code(data_code, data, data_name, func):
    """Run ``data_code`` in a fresh namespace and check that it makes exactly ``data``."""
    if data_code is None:
        return None
    if not isinstance(data_code, str):
        raise TypeError(message(func, "data_code", "Python code as a str", type(data_code).__name__))
    namespace: dict = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        exec(compile("import toolkit as tk\n" + data_code, "<data_code>", "exec"), namespace)  # noqa: S102
    made = namespace.get(data_name)
    if not isinstance(made, pd.DataFrame):
        raise ValueError(message(func, "data_code", f"code that assigns a DataFrame to `{data_name}`",
                                 type(made).__name__ if made is not None else "no such variable"))
    try:
        pd.testing.assert_frame_equal(made, data)
    except AssertionError as exc:
        raise ValueError(message(func, "data_code", "code that makes exactly the `data` given", "a different table",
                                 f"The Code tab would not reproduce the view: {str(exc).splitlines()[0]}")) from None
    return data_code.strip()


class Explorer:
    """Interactive comparison of groups; create it with :func:`explore`.

    Attributes
    ----------
    widget : ipywidgets.VBox
        The whole interface: controls, Run button and status line, then the answer (``answer``: the
        sentences and compact table of ``result.summary()``, and any warnings), the plot, and tabs with the
        full tables (``table_html``), the APA sentences (``sentence``) and the code.
    controls : dict of ipywidgets widgets
        ``metric``, ``between``, ``subject`` ("post" or "account"), ``analysis``, and the filters that apply to the data
        (``platform``, ``content_type``, ``paid`` ("all", "paid", "organic"), ``start``, ``end``); set their ``.value`` in
        code and call :meth:`run` to reproduce a view.
    result : GroupComparison or None
        The last result (None if the last run failed; the message is in ``error``).
    table : pandas.DataFrame or None
        The tidy table behind the display: ``result.to_frame()`` (omnibus and pairwise rows; the
        display leaves out columns that are empty for the analysis).
    code : str
        The toolkit call that reproduces the current result (``data`` is the frame given to explore).
    script : str
        The whole program shown in the Code tab: imports, the data loading (``data_code``), and the
        call; it runs as shown in a fresh Python session and assigns the result to ``result``.
    stale : bool
        True when a control has changed since the view was computed (the status line says so, and
        the widget carries the CSS class ``toolkit-stale``) until :meth:`run`.
    error : str or None
    warnings : list of str
        Toolkit warnings raised by the last run (shown under the answer).
    subject_note : str
        Why "account means" is not offered for the current grouping and filters ("" when it is).
    """

    def __init__(self, data, *, dv=None, between=None, subject=None, analysis="auto", n_resamples=2000, seed=1,
                 data_name="data", data_code=None):
        w = _require("explore")
        func = "explore"
        self.data = check_data(data, func)
        self.data_name = data_name
        self.data_code = _checked_data_code(data_code, self.data, data_name, func)
        self.n_resamples = check_integer(n_resamples, func, "n_resamples")
        self.seed = seed
        check_option(analysis, EXPLORER_ANALYSES, func, "analysis")
        metrics = self._metric_options()
        if not metrics:
            raise ValueError(message(func, "data", "a table with at least one numeric outcome column",
                                     list(self.data.columns)[:8]))
        groups, too_many = self._group_options()
        self.group_note = ("Not offered as groupings (more than 30 labels): "
                           + ", ".join(f"{c} ({k})" for c, k in too_many)) if too_many else ""
        if not groups:
            counts = {c: int(self.data[c].nunique()) for c in self.data.columns
                      if c not in _ID_COLUMNS and not pd.api.types.is_numeric_dtype(self.data[c])}
            raise ValueError(message(func, "data", "a table with a text, categorical or boolean column with 2 to 30 "
                                     "labels to group by", f"label counts {counts}",
                                     "Merge rare labels, or filter the data to fewer groups first."))
        values = [v for _, v in metrics]
        if dv is not None and dv not in values:
            check_column(self.data, dv, func, "dv")
            raise ValueError(message(func, "dv", f"one of {values}", dv))
        if between is not None:
            check_column(self.data, between, func, "between")
            if between not in groups:
                raise ValueError(message(func, "between", f"a grouping column with 2 to 30 labels, one of {groups}",
                                         between))
        if subject is not None:
            check_option(subject, ("account",), func, "subject")

        style = {"description_width": "110px"}
        layout = w.Layout(width="360px")
        c = {}
        c["metric"] = w.Dropdown(options=metrics, value=dv or self._default_metric(values),
                                 description="Metric", style=style, layout=layout)
        c["between"] = w.Dropdown(options=groups, value=between or ("department" if "department" in groups
                                                                     else groups[0]),
                                  description="Group by", style=style, layout=layout)
        c["subject"] = w.Dropdown(options=[_SUBJECT_LABELS["post"]], value="post", description="Unit", style=style,
                                  layout=layout)
        c["analysis"] = w.Dropdown(options=list(EXPLORER_ANALYSES), value=analysis, description="Analysis",
                                   style=style, layout=layout)
        for col in ("platform", "content_type"):
            if col in self.data.columns and self.data[col].nunique() > 1:
                levels = [str(v) for v in self._levels(col)]
                c[col] = w.SelectMultiple(options=levels, value=tuple(levels), rows=min(5, len(levels)),
                                          description=col.replace("_", " ").capitalize(), style=style,
                                          layout=layout)
        if "paid" in self.data.columns and self.data["paid"].nunique() > 1:
            c["paid"] = w.Dropdown(options=[("paid and organic", "all"), ("paid only", "paid"),
                                            ("organic only", "organic")], value="all", description="Paid",
                                   style=style, layout=layout)
        if "posted_at" in self.data.columns and self.data["posted_at"].notna().any():
            c["start"] = w.DatePicker(description="From (incl.)", value=None, style=style)
            c["end"] = w.DatePicker(description="Before", value=None, style=style)
        self.controls = c
        self.subject_note = ""
        self.notes = w.HTML(layout=w.Layout(width="360px"))
        self._update_subject_options()
        if subject == "account":
            if "account" not in [v for _, v in c["subject"].options]:
                raise ValueError(message(func, "subject", "'account' only when account means can be compared",
                                         subject, self.subject_note))
            c["subject"].value = "account"
        self.run_button = w.Button(description="Run", button_style="primary", icon="play",
                                   tooltip="Recompute the comparison with the current settings")
        self.run_button.on_click(lambda _: self.run())
        self.status = w.HTML()
        self.plot = w.Image(format="png", layout=w.Layout(max_width="900px"))
        self.answer = w.HTML()
        self.table_html = w.HTML()
        self.sentence = w.HTML()
        self.code_view = w.Textarea(layout=w.Layout(width="100%", height="150px"), disabled=False)
        left = w.VBox([c[k] for k in ("metric", "between", "subject", "analysis") if k in c] + [self.notes])
        right = w.VBox([c[k] for k in ("platform", "content_type", "paid", "start", "end") if k in c])
        tabs = w.Tab(children=[self.table_html, self.sentence, self.code_view])
        for i, title in enumerate(("Full tables", "APA sentences", "Code")):
            tabs.set_title(i, title)
        self.tabs = tabs
        self.widget = w.VBox([w.HBox([left, right]), w.HBox([self.run_button, self.status]), self.answer, self.plot,
                              tabs])
        self.widget.add_class("toolkit-explorer")
        self.result = None
        self.table = None
        self.error = None
        self.warnings: list[str] = []
        self.code = ""
        self.script = ""
        self.stale = False
        self._png = b""
        for key, control in c.items():
            control.observe(self._on_change, names="value")
        self.run()

    # -- options ----------------------------------------------------------------------------------
    def _levels(self, col):
        s = self.data[col]
        if isinstance(s.dtype, pd.CategoricalDtype):
            used = set(s.dropna().unique())
            return [v for v in s.cat.categories if v in used]
        return sorted(s.dropna().unique(), key=str)

    def _metric_options(self):
        cols = set(self.data.columns)
        out = []
        for col in self.data.columns:
            s = self.data[col]
            if col in _ID_COLUMNS or pd.api.types.is_bool_dtype(s) or not pd.api.types.is_numeric_dtype(s):
                continue
            if col in EXPOSURE_COLUMNS:
                unit = "exposure count"
            elif col in COUNT_COLUMNS:
                unit = "count per post"
            else:
                unit = "per post"
            out.append((f"{col} ({unit})", col))
        for name, (inputs, label) in EXPLORER_METRICS.items():
            if name not in cols and all(i in cols for i in inputs):
                out.append((f"{name} ({label})", name))
        return out

    def _default_metric(self, values):
        for pref in ("comments", "likes", "shares"):
            if pref in values:
                return pref
        return values[0]

    def _group_options(self):
        """Grouping columns (any text, categorical or boolean column with 2-30 labels, account included)
        and the (column, number of labels) of those left out for having more than 30."""
        out, too_many = [], []
        for col in self.data.columns:
            s = self.data[col]
            if col in _ID_COLUMNS:
                continue
            if isinstance(s.dtype, pd.CategoricalDtype) or pd.api.types.is_string_dtype(s) or \
                    pd.api.types.is_bool_dtype(s) or s.dtype == object:
                k = s.nunique()
                if 2 <= k <= MAX_GROUPS:
                    out.append(col)
                elif k > MAX_GROUPS:
                    too_many.append((col, int(k)))
        return out, too_many

    def _account_means_reason(self) -> str:
        """Why account means cannot be compared for the current grouping and filters ("" if they can)."""
        between = self.controls["between"].value
        if "account" not in self.data.columns:
            return "Account means need an `account` column."
        if between == "account":
            return "Account means are not offered when grouping by account (each group would be one value)."
        try:
            frame = self._filtered(self.data)
        except (ValueError, TypeError):
            return ""
        frame = frame[[between, "account"]].dropna()
        if frame.empty:
            return "No rows match the filters."
        groups_per_account = frame.groupby("account", observed=True)[between].nunique()
        crossed = groups_per_account[groups_per_account > 1]
        if len(crossed):
            return (f"Account means are not offered: {len(crossed)} account(s) post in more than one {between} "
                    f"group (e.g. {crossed.index[0]!r}), so accounts are not nested in {between}.")
        per_group = frame.groupby(between, observed=True)["account"].nunique()
        if per_group.max() < 2:
            return (f"Account means are not offered: every {between} group has a single account, so a {between} "
                    f"difference cannot be told apart from the accounts' own. Compare posts instead (the accounts).")
        single = per_group[per_group < 2]
        if len(single):
            return (f"Account means are not offered: they need at least 2 accounts in every {between} group, and "
                    f"{len(single)} group(s) have one (e.g. {str(single.index[0])!r}). Filter those out, or compare "
                    f"posts.")
        return ""

    def _update_subject_options(self):
        c = self.controls["subject"]
        reason = self._account_means_reason()
        options = [_SUBJECT_LABELS["post"]] + ([] if reason else [_SUBJECT_LABELS["account"]])
        if list(c.options) != options:
            previous = c.value
            c.options = options
            c.value = previous if previous in [v for _, v in options] else "post"
        self.subject_note = reason
        notes = [f"<span class='toolkit-note'>{html.escape(t)}</span>" for t in (reason, self.group_note) if t]
        self.notes.value = "<br>".join(notes)

    def _on_change(self, change):
        if change["owner"] is not self.controls["subject"]:
            self._update_subject_options()
        self._mark_stale()

    def _mark_stale(self):
        if self.stale:
            return
        self.stale = True
        self.widget.add_class("toolkit-stale")
        self.status.value = ("<span class='toolkit-stale-note' style='color:#8a4b00; background:#fff3cd; "
                             "padding:2px 6px; border-radius:3px'><b>Settings changed</b>: the view below still "
                             "shows the previous settings. Press <b>Run</b> to update it.</span>")

    # -- state ------------------------------------------------------------------------------------
    @property
    def metric_is_derived(self) -> bool:
        return self.controls["metric"].value not in self.data.columns

    @property
    def filters(self) -> dict:
        """The filters that restrict the rows (only those differing from 'everything')."""
        c, out = self.controls, {}
        for col in ("platform", "content_type"):
            if col in c and set(c[col].value) != set(c[col].options):
                out[col] = [v for v in c[col].options if v in c[col].value]
        if "paid" in c and c["paid"].value != "all":
            out["paid"] = c["paid"].value == "paid"
        for key in ("start", "end"):
            if key in c and c[key].value is not None:
                out[key] = pd.Timestamp(c[key].value).date().isoformat()
        return out

    @property
    def query(self) -> str | None:
        """The ``DataFrame.query`` expression of the filters (None when nothing is filtered)."""
        parts = []
        for col, value in self.filters.items():
            if col in ("platform", "content_type"):
                parts.append(f"{col} in {value!r}")
            elif col == "paid":
                parts.append(f"paid == {value!r}")
            elif col == "start":
                parts.append(f"posted_at >= '{value} 00:00:00+00:00'")
            elif col == "end":
                parts.append(f"posted_at < '{value} 00:00:00+00:00'")
        return " and ".join(parts) if parts else None

    @property
    def compare_kwargs(self) -> dict:
        """Keyword arguments of the ``tk.compare_groups`` call behind the current view."""
        c = self.controls
        subject = None if c["subject"].value == "post" else c["subject"].value
        return {"dv": c["metric"].value, "between": c["between"].value, "subject": subject,
                "analysis": c["analysis"].value, "n_resamples": self.n_resamples, "seed": self.seed,
                "nan_policy": "omit"}

    @property
    def params(self) -> dict:
        """Current parameters: the compare_groups keywords plus ``filters``, ``query`` and ``metric_source``.

        ``metric_source`` is "column" when the metric is a column of the data and "add_metrics"
        when it is computed by ``tk.add_metrics`` first.
        """
        out = dict(self.compare_kwargs)
        out["filters"] = self.filters
        out["query"] = self.query
        out["metric_source"] = "add_metrics" if self.metric_is_derived else "column"
        return out

    def _filtered(self, frame):
        q = self.query
        return frame.query(q) if q else frame

    def selected_data(self) -> pd.DataFrame:
        """The rows and columns the current analysis runs on (metric added, filters applied)."""
        frame = self.data
        if self.metric_is_derived:
            from .metrics import add_metrics

            frame = add_metrics(frame, metrics=[self.controls["metric"].value])
        return self._filtered(frame)

    def _code(self) -> str:
        base = self.data_name
        if self.metric_is_derived:
            base = f"tk.add_metrics({base}, metrics=[{_py(self.controls['metric'].value)}])"
        if self.query:
            base = f"{base}.query({self.query!r})"
        args = ", ".join(f"{k}={_py(v)}" for k, v in self.compare_kwargs.items())
        return f"tk.compare_groups({base}, {args})"

    def _script(self, call: str) -> str:
        load = (self.data_code if self.data_code is not None else
                f"# `{self.data_name}` is the table given to tk.widgets.explore; pass data_code= to show how it "
                f"was loaded\n# (e.g. {self.data_name}, report = tk.read_posts(\"my_export.csv\"))")
        return f"import toolkit as tk\n\n{load}\n\nresult = {call}\nprint(result.report())\n"

    # -- running ----------------------------------------------------------------------------------
    def run(self):
        """Recompute with the current control values and refresh the display; returns the result."""
        from .display import answer_html, answer_parts, detail_html
        from .compare import compare_groups

        self.code = self._code()
        self.script = self._script(self.code)
        self.code_view.value = self.script
        self.status.value = "<i>running…</i>"
        self.run_button.disabled = True  # one run at a time
        self.error, self.warnings = None, []
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                frame = self.selected_data()
                result = compare_groups(frame, **self.compare_kwargs)
            except (ValueError, TypeError) as exc:
                result, self.error = None, str(exc)
            finally:
                self.run_button.disabled = False
        self.warnings = [str(x.message) for x in caught if issubclass(x.category, UserWarning)]
        self.result = result
        self.stale = False
        self.widget.remove_class("toolkit-stale")
        warn_html = "".join(f"<li>{html.escape(t)}</li>" for t in self.warnings)
        warn_html = f"<b>Warnings</b><ul>{warn_html}</ul>" if warn_html else ""
        if result is None:  # nothing of the previous view may stay on screen
            self.table = None
            self._png = b""
            self.plot.value = b""
            self.plot.layout.display = "none"
            self.answer.value = (f"<div class='toolkit-error' style='color:#b22222'><b>No result.</b> "
                                 f"{html.escape(self.error)}</div>" + warn_html)
            self.table_html.value = ""
            self.sentence.value = ""
            self.status.value = (f"<span class='toolkit-error' style='color:#b22222'><b>Failed</b>: "
                                 f"{html.escape(self.error)}</span>")
            return None
        self.table = result.to_frame()
        # answer first (the sentences and compact table of result.summary()), the full tables in a tab
        parts = answer_parts(result)
        self.answer.value = ("<div class='toolkit-answer'>" + answer_html(parts.sentences, parts.table)
                             + warn_html + "</div>")
        self.table_html.value = ("<div class='toolkit-result' style='overflow-x:auto'>"
                                 "<style>.toolkit-result table td, .toolkit-result table th "
                                 "{white-space: nowrap; padding: 2px 6px;}</style>"
                                 + "\n".join(detail_html(t, c) for t, c in (parts.details or [])) + "</div>")
        self.sentence.value = "<pre style='white-space:pre-wrap'>" + html.escape(result.report()) + "</pre>"
        try:
            self._png = self._figure_png(result)
            self.plot.value = self._png
            self.plot.layout.display = None
        except (ValueError, TypeError) as exc:  # a drawing problem must not hide the result
            self._png = b""
            self.plot.value = b""
            self.plot.layout.display = "none"
            self.warnings.append(f"The plot could not be drawn: {exc}")
        self.status.value = (f"{result.analysis} analysis of <code>{html.escape(result.dv)}</code> by "
                             f"<code>{html.escape(result.between)}</code> (unit: {html.escape(result.unit)}, "
                             f"n = {len(result.analysed_data)})")
        return result

    def _figure_png(self, result) -> bytes:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        from .plots import plot_distributions, plot_means

        k = len(result.descriptives)
        fig = Figure(figsize=(max(11.0, 1.1 * k + 2.0), 4.6), layout="constrained")
        FigureCanvasAgg(fig)
        ax1, ax2 = fig.subplots(1, 2)
        per_account = result.unit != "post"
        points = f"{result.unit} means" if per_account else "posts"
        plot_distributions(result.analysed_data, x=result.between, y=result.dv, points=points, ax=ax1)
        unit = f"{result.dv} per post" + (f", averaged per {result.unit}" if per_account else "")
        plot_means(result.descriptives, interval="BCa bootstrap", unit=unit,
                   title=(f"Mean of the {points} by {result.between}" if per_account
                          else f"Mean {result.dv} per post by {result.between}"), ax=ax2)
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=80)
        return buf.getvalue()

    # -- display ----------------------------------------------------------------------------------
    def snapshot_html(self) -> str:
        """A static copy of the current view (PNG plot, tables, code) for pages without a live kernel."""
        import base64

        head = ("<b>Static snapshot of the explorer</b> (the controls need a live Jupyter kernel; "
                "this copy shows the view computed when the notebook ran).")
        img = (f"<img alt='plot of the view' style='max-width:100%' src='data:image/png;base64,"
               f"{base64.b64encode(self._png).decode()}'/>" if self._png else "")
        tables = (f"<details><summary>Full tables</summary>{self.table_html.value}</details>"
                  if self.result is not None else "")
        return (f"{_STATIC_STYLE}<div class='toolkit-static'><p>{head}</p><p>{self.status.value}</p>"
                f"{self.answer.value}{img}{tables}"
                f"<details><summary>Code</summary><pre>{html.escape(self.script)}</pre></details></div>")

    def _ipython_display_(self):
        from IPython.display import HTML, display

        display(self.widget)
        display(HTML(self.snapshot_html()))  # hidden by CSS wherever the live widget renders

    def __repr__(self) -> str:
        return f"Explorer({self.code})"


def explore(data, *, dv=None, between=None, subject=None, analysis="auto", n_resamples=2000, seed=1,
            data_name="data", data_code=None):
    """Explore group differences interactively: the answer first, then plot, full tables, APA sentences and code.

    Parameters
    ----------
    data : pandas.DataFrame
        Posts in long form (e.g. ``tk.simulate_organization(...).data`` or ``tk.read_posts``).
    dv : str or None, default=None
        Initial metric: a numeric column, or one of the engagement metrics computed by
        ``tk.add_metrics`` (``total_interactions``, ``engagement_rate_reach``,
        ``engagement_rate_impressions``, ``engagement_rate_audience``) when its inputs exist.
        None picks comments, likes or shares, whichever exists first.
    between : str or None, default=None
        Initial grouping column: any text, categorical or boolean column with 2-30 labels
        (``account`` included); None prefers ``department``. Columns with more labels are listed
        under the controls as not offered.
    subject : {None, "account"}, default=None
        Unit of analysis: posts, or account means (see :func:`toolkit.compare_groups`). Account
        means are offered only when they can compare the groups: an ``account`` column, a grouping
        other than account, accounts nested in the groups and at least 2 accounts in some group
        (after the filters); otherwise the reason is shown under the controls.
    analysis : {"auto", "welch", "kruskal", "permutation"}, default="auto"
    n_resamples : int, default=2000
        Resamples for bootstrap intervals and permutation tests (kept moderate for interactivity).
    seed : int, default=1
        Seed of the resampling, so a view and its code give identical numbers.
        The same int gives the same numbers on every run; None draws fresh randomness.
    data_name : str, default="data"
        Name of the data frame in the generated code.
    data_code : str or None, default=None
        Python code that makes ``data`` from scratch (e.g. ``"data = tk.simulate_organization(seed=7).data"``
        or a ``tk.read_posts`` line; ``tk`` is imported for it). It is run once here, in a fresh
        namespace, and must assign a frame equal to ``data`` to ``data_name`` (otherwise ValueError),
        so the Code tab (``.script``) runs as shown. None: the Code tab says where ``data`` came from.

    Returns
    -------
    Explorer
        Displays itself in Jupyter/Voilà. ``.params`` (current parameters), ``.code`` (the call
        that reproduces the view), ``.result`` (GroupComparison), ``.table``
        (``result.to_frame()``: the omnibus and pairwise columns of :func:`toolkit.compare_groups`),
        ``.controls`` (the widgets), ``.run()``.

    Notes
    -----
    The view is computed once at creation and then only when Run is clicked (or ``.run()`` is
    called). Until then a changed control marks the view as stale: the status line says that the
    view shows the previous settings (``.stale`` is True). The view leads with the answer, as
    ``print(result)`` does: which group is highest with its interval, which cannot be told apart from it,
    the unit and the test, and the compact table; the full tables (design checks, descriptives, omnibus
    and contrasts) and the APA sentences are in tabs. A failed run clears the plot and the
    tables and shows the error in the status line. Displayed in a notebook, the explorer also
    leaves a static snapshot (PNG plot, tables, code) that executed HTML pages show when the widget
    JavaScript cannot load (offline); where the live widget renders, the snapshot is hidden. Filters appear only for columns that exist: platform, content type, paid/organic and
    a date range on ``posted_at`` (from a day, inclusive, to before a day, in UTC). Rows with a
    missing outcome are dropped (``nan_policy="omit"``) and counted in ``n_dropped``; engagement
    rates are missing where the denominator is zero or missing (see :func:`toolkit.add_metrics`).
    Warnings from the toolkit (e.g. pseudo-replication when posts are the unit) are listed under
    the answer instead of being raised.

    Validated by tests/test_widgets.py: the displayed table equals a direct ``compare_groups`` call
    with ``.params``, the code string evaluates to the same table, and the Code tab's script,
    executed in a fresh namespace, gives the same table.

    Examples
    --------
    >>> import toolkit as tk
    >>> org = tk.simulate_organization(n_accounts_per_department=3, posts_per_account=15, mixed_share=0.0, seed=7)
    >>> ex = tk.widgets.explore(org.data, dv="comments", subject="account", n_resamples=200)
    >>> print(ex.code)
    tk.compare_groups(data, dv='comments', between='department', subject='account', analysis='auto', n_resamples=200, seed=1, nan_policy='omit')
    """
    return Explorer(data, dv=dv, between=between, subject=subject, analysis=analysis, n_resamples=n_resamples,
                    seed=seed, data_name=data_name, data_code=data_code)


# =================================================================================================
# column-mapping assistant
# =================================================================================================
def _key(name) -> str:
    return re.sub(r"[^a-z0-9]+", "", str(name).lower())


#: Common export names (normalised: lower case, letters and digits only) -> canonical column.
EXPORT_NAMES: dict[str, str] = {
    **{_key(c): c for c in POST_COLUMNS},
    # identifiers
    "postid": "post_id", "id": "post_id", "statusid": "post_id", "tweetid": "post_id", "mediaid": "post_id",
    "pageid": "account", "page": "account", "pagename": "account", "handle": "account", "username": "account",
    "profile": "account", "accountname": "account",
    # groups
    "team": "department", "dept": "department", "unit": "department", "network": "platform",
    "channel": "platform", "socialnetwork": "platform",
    # time
    "date": "posted_at", "postdate": "posted_at", "posted": "posted_at", "createdtime": "posted_at",
    "createdat": "posted_at", "statuspublished": "posted_at", "publishtime": "posted_at", "timestamp": "posted_at",
    "published": "posted_at",
    # type and promotion
    "type": "content_type", "posttype": "content_type", "statustype": "content_type", "mediatype": "content_type",
    "format": "content_type", "ispaid": "paid", "promoted": "paid", "boosted": "paid",
    # exposure
    "pagetotallikes": "audience", "followers": "audience", "fans": "audience", "followercount": "audience",
    "lifetimeposttotalreach": "reach", "totalreach": "reach", "postreach": "reach",
    "lifetimeposttotalimpressions": "impressions", "totalimpressions": "impressions", "views": "impressions",
    # interactions
    "like": "likes", "reactions": "likes", "numreactions": "likes", "favorites": "likes", "favoritecount": "likes",
    "comment": "comments", "numcomments": "comments", "replies": "comments",
    "share": "shares", "numshares": "shares", "retweets": "shares", "reposts": "shares", "retweetcount": "shares",
    "lifetimepostconsumptions": "clicks", "linkclicks": "clicks", "click": "clicks",
    "videoview": "video_views", "videoplays": "video_views",
    "totalinteractions": "interactions_reported", "interactions": "interactions_reported",
    "engagements": "interactions_reported",
}


def suggest_mapping(columns) -> dict:
    """Suggest a canonical column name for each source column of an export.

    Parameters
    ----------
    columns : iterable of str
        Column names of the source (e.g. ``raw.columns``).

    Returns
    -------
    dict
        ``{source column: canonical name}`` for the columns with a suggestion, in source order.
        Each canonical name is suggested at most once (an exact name wins, else the first column).

    See Also
    --------
    mapping_assistant : Map the columns of a raw export to the canonical schema and read it with
        ``tk.read_posts``.

    Notes
    -----
    Names are compared case-, space- and punctuation-insensitively with the canonical names
    (:data:`toolkit.config.POST_COLUMNS`) and with common export names (Facebook Insights'
    "Lifetime Post Total Reach" -> reach, "Page total likes" -> audience, "num_reactions" -> likes,
    "retweets" -> shares, ...; the table is ``EXPORT_NAMES`` in this module). Suggestions are
    only suggestions: check them in the assistant before reading. Validated by tests/test_widgets.py:
    every mapping of the hand-written UCI Facebook metrics loader (10 columns) is suggested.

    Examples
    --------
    >>> from toolkit.widgets import suggest_mapping
    >>> suggest_mapping(["Lifetime Post Total Reach", "Type", "like", "Category", "Post ID"])
    {'Lifetime Post Total Reach': 'reach', 'Type': 'content_type', 'like': 'likes', 'Post ID': 'post_id'}
    """
    columns = [str(c) for c in columns]
    exact = {c for c in columns if c in POST_COLUMNS}
    taken = set(exact)
    out = {}
    for c in columns:
        if c in exact:
            out[c] = c
            continue
        target = EXPORT_NAMES.get(_key(c))
        if target is not None and target not in taken and target != "source_row":
            out[c] = target
            taken.add(target)
    return {c: t for c, t in out.items() if t != "source_row"}


def _read_header(path: Path) -> list[str]:
    suffix = path.suffix.lower()
    if suffix == ".xlsx":
        return [str(c) for c in pd.read_excel(path, nrows=0).columns]
    if suffix == ".parquet":
        return [str(c) for c in pd.read_parquet(path).columns]
    frame = pd.read_csv(path, sep=None, engine="python", nrows=5, dtype=str, encoding="utf-8-sig",
                        encoding_errors="replace")
    return [str(c) for c in frame.columns]


class MappingAssistant:
    """Map an export's columns to the canonical schema; create it with :func:`mapping_assistant`.

    Attributes
    ----------
    widget : ipywidgets.VBox
    path : ipywidgets.Text
        Path of the file to read (typed, or set by the upload box).
    upload : ipywidgets.FileUpload
    dropdowns : dict
        ``{source column: Dropdown}`` whose value is a canonical name or None (kept as an extra column).
    data, report :
        The result of the last :meth:`read` (None before).
    """

    def __init__(self, source=None, *, upload_dir=None):
        w = _require("mapping_assistant")
        self._upload_dir = Path(upload_dir) if upload_dir is not None else None
        self.path = w.Text(description="File", placeholder="path/to/export.csv", layout=w.Layout(width="520px"))
        self.upload = w.FileUpload(accept=".csv,.tsv,.txt,.xlsx,.parquet", multiple=False, description="Upload")
        self.load_button = w.Button(description="Load columns", icon="columns")
        self.read_button = w.Button(description="Read with this mapping", button_style="primary", icon="check")
        self.load_button.on_click(lambda _: self.load())
        self.read_button.on_click(lambda _: self.read())
        self.upload.observe(self._on_upload, names="value")
        self.mapping_box = w.VBox()
        self.report_html = w.HTML()
        self.code_view = w.Textarea(layout=w.Layout(width="100%", height="70px"))
        self.dropdowns: dict = {}
        self.data = None
        self.report = None
        self.error = None
        self.widget = w.VBox([w.HBox([self.path, self.load_button, self.upload]), self.mapping_box,
                              self.read_button, self.report_html, self.code_view])
        if source is not None:
            self.path.value = str(source)
            self.load()

    def _on_upload(self, change):
        files = change["new"]
        if not files:
            return
        item = files[0]
        import tempfile

        folder = self._upload_dir or Path(tempfile.mkdtemp(prefix="toolkit-upload-"))
        target = folder / Path(item["name"]).name
        target.write_bytes(bytes(item["content"]))
        self.path.value = str(target)
        self.load()

    def load(self):
        """Read the header of the file in ``path`` and propose a mapping (one dropdown per column)."""
        w = _require("mapping_assistant")
        path = Path(self.path.value).expanduser()
        if not path.is_file():
            self.error = message("mapping_assistant", "path", "an existing file", str(path))
            self.report_html.value = f"<p style='color:#b22222'>{html.escape(self.error)}</p>"
            return
        self.error = None
        columns = _read_header(path)
        suggestions = suggest_mapping(columns)
        options = [("(keep as extra column)", None)] + [(c, c) for c in POST_COLUMNS if c != "source_row"]
        self.dropdowns = {c: w.Dropdown(options=options, value=suggestions.get(c), description=c,
                                        style={"description_width": "260px"}, layout=w.Layout(width="520px"))
                          for c in columns}
        self.mapping_box.children = list(self.dropdowns.values())
        self.code_view.value = self.call

    @property
    def columns(self) -> dict:
        """The ``columns=`` mapping for ``tk.read_posts`` (only names that change)."""
        return {src: dd.value for src, dd in self.dropdowns.items() if dd.value is not None and dd.value != src}

    @property
    def params(self) -> dict:
        return {"source": self.path.value, "columns": self.columns}

    @property
    def call(self) -> str:
        """The ``tk.read_posts`` call to paste into a notebook."""
        cols = f", columns={self.columns!r}" if self.columns else ""
        return f"data, report = tk.read_posts({self.path.value!r}{cols})"

    def read(self):
        """Read the file with the current mapping; shows the QualityReport and the call."""
        from .data.posts import read_posts

        self.code_view.value = self.call
        chosen = [v for v in self.dropdowns.values() if v.value is not None]
        targets = [v.value for v in chosen]
        dupes = sorted({t for t in targets if targets.count(t) > 1})
        if dupes:
            self.error = message("mapping_assistant", "columns", "a mapping with each canonical name used once",
                                 dupes)
        else:
            try:
                self.data, self.report = read_posts(self.path.value, columns=self.columns or None)
                self.error = None
            except (ValueError, TypeError, OSError) as exc:
                self.error = str(exc)
        if self.error:
            self.data = self.report = None
            self.report_html.value = f"<p style='color:#b22222'>{html.escape(self.error)}</p>"
            return None
        self.report_html.value = self.report._repr_html_()
        return self.data, self.report

    def _ipython_display_(self):
        from IPython.display import display

        display(self.widget)


def mapping_assistant(source=None, *, upload_dir=None):
    """Map the columns of a raw export to the canonical schema and read it with ``tk.read_posts``.

    Parameters
    ----------
    source : str, pathlib.Path or None, default=None
        File to start with (``.csv``/``.tsv``/``.txt``/``.xlsx``/``.parquet``); None shows an
        empty path box and an upload button.
    upload_dir : str, pathlib.Path or None, default=None
        Folder where uploaded files are saved (None: a new temporary folder).

    Returns
    -------
    MappingAssistant
        Displays itself. ``.dropdowns`` (one per source column; set ``.value`` in code),
        ``.columns`` (the mapping), ``.call`` (the ``tk.read_posts`` line to paste), ``.read()``
        (returns ``(data, report)`` and shows the QualityReport).

    See Also
    --------
    suggest_mapping : Suggest a canonical column name for each source column of an export.

    Notes
    -----
    The suggestions come from :func:`suggest_mapping`. Columns mapped to nothing are kept as extra
    columns under their own names (``tk.read_posts`` never discards columns). Reading is done by
    ``tk.read_posts`` itself, so the data and the report are the same as from the pasted call
    (validated by tests/test_widgets.py, which compares both with a direct ``tk.read_posts`` call).

    Examples
    --------
    >>> import toolkit as tk
    >>> from toolkit.data.registry import dataset_path
    >>> assistant = tk.widgets.mapping_assistant(dataset_path("uci_facebook_metrics", "dataset_Facebook.csv"))
    >>> assistant.columns["Lifetime Post Total Reach"]
    'reach'
    """
    return MappingAssistant(source, upload_dir=upload_dir)


# ---------------------------------------------------------------------------------------------
# Power explorer
# ---------------------------------------------------------------------------------------------
def _replicate_progress(bar, text):
    """A ``progress=`` callable of :func:`toolkit.power.simulate_power` that moves an ipywidgets bar."""
    import time

    start = time.perf_counter()

    def report(done, total, what):
        bar.max, bar.value = max(total, 1), done
        text.value = f"{done} / {total} {what}, {time.perf_counter() - start:.1f} s"

    return report


class PowerExplorer:
    """Interactive simulated power; create it with :func:`power_explorer`.

    Attributes
    ----------
    widget : ipywidgets.VBox
        Sliders, the Compute button and the output.
    controls : dict of ipywidgets widgets
        ``rate_ratio``, ``n_accounts_per_department``, ``posts_per_account``, ``random_effect_sd``,
        ``analysis``; set ``.value`` in code and call :meth:`compute`.
    result : pandas.DataFrame or None
        The last :func:`toolkit.power.simulate_power` table (None before the first computation).
    error : str or None
        Message of the last failed computation.
    """

    def __init__(self, *, rate_ratio=1.25, n_accounts_per_department=10, posts_per_account=20,
                 random_effect_sd=0.3, analysis="cluster_level", dispersion=0.8, base_rate=0.003,
                 n_replicates=200, seed=1, n_jobs=1):
        w = _require("power_explorer")
        func = "power_explorer"
        if analysis not in ANALYSES:
            raise ValueError(message(func, "analysis", f"one of {', '.join(map(repr, ANALYSES))}", analysis))
        self.n_replicates = check_integer(n_replicates, func, "n_replicates", minimum=2)
        self.seed, self.n_jobs, self.dispersion, self.base_rate = seed, n_jobs, dispersion, base_rate
        self.controls = {
            "rate_ratio": w.FloatSlider(value=rate_ratio, min=1.0, max=3.0, step=0.05, description="rate ratio"),
            "n_accounts_per_department": w.IntSlider(value=n_accounts_per_department, min=2, max=100,
                                                     description="accounts"),
            "posts_per_account": w.IntSlider(value=posts_per_account, min=1, max=200, description="posts/account"),
            "random_effect_sd": w.FloatSlider(value=random_effect_sd, min=0.0, max=1.5, step=0.05,
                                              description="account SD"),
            "analysis": w.Dropdown(options=list(ANALYSES), value=analysis, description="analysis"),
        }
        self.button = w.Button(description="Compute", tooltip="Simulate the power for these settings")
        self.output = w.Output()
        self.progress = w.IntProgress(value=0, min=0, max=self.n_replicates, description="replicates",
                                      bar_style="info", layout=w.Layout(width="360px"))
        self.progress_text = w.HTML()
        self.button.on_click(lambda _b: self.compute())
        self.widget = w.VBox([*self.controls.values(), self.button, w.HBox([self.progress, self.progress_text]),
                              self.output])
        self.widget.add_class("toolkit-power")
        self.result = None
        self.error = None
        self.stale = False
        for control in self.controls.values():
            control.observe(self._on_change, names="value")

    def _on_change(self, _change):
        if self.result is not None and not self.stale:
            self.stale = True
            self.output.outputs = ()
            self.output.append_stdout("Settings changed: press Compute to simulate the power for them "
                                      "(the previous result no longer applies).\n")

    @property
    def params(self) -> dict:
        """The keyword arguments of :func:`toolkit.power.simulate_power` for the current controls."""
        p = {k: c.value for k, c in self.controls.items()}
        p.update(dispersion=self.dispersion, base_rate=self.base_rate, n_replicates=self.n_replicates,
                 seed=self.seed, n_jobs=self.n_jobs)
        return p

    def compute(self) -> pd.DataFrame | None:
        """Run the simulation for the current controls (on demand: sliders alone compute nothing)."""
        self.output.outputs = ()
        self.stale = False
        self.progress.bar_style, self.progress.value = "info", 0
        try:
            self.result = simulate_power(**self.params,
                                         progress=_replicate_progress(self.progress, self.progress_text))
            self.error = None
        except (ValueError, TypeError) as exc:
            self.result, self.error = None, str(exc)
        self.progress.bar_style = "danger" if self.error else "success"
        self.output.outputs = ()
        if self.error:
            self.output.append_stdout(self.error + "\n")
        else:
            r = self.result.iloc[0]
            self.output.append_stdout(f"power {r['power']:.2f} (Monte-Carlo SE {r['mc_se']:.3f}, 95% "
                                      f"{r['ci_low']:.2f}-{r['ci_high']:.2f}; {int(r['n_replicates'])} replicates)\n")
        return self.result

    def _ipython_display_(self):  # pragma: no cover - display only
        from IPython.display import HTML, display

        display(self.widget)
        p = html.escape(", ".join(f"{k}={v!r}" for k, v in self.params.items()))
        display(HTML(f"{_STATIC_STYLE}<div class='toolkit-static'><b>Static snapshot of the power explorer</b> "
                     f"(the sliders need a live Jupyter kernel): <code>simulate_power({p})</code></div>"))


def power_explorer(*, rate_ratio=1.25, n_accounts_per_department=10, posts_per_account=20, random_effect_sd=0.3,
                   analysis="cluster_level", dispersion=0.8, base_rate=0.003, n_replicates=200, seed=1, n_jobs=1):
    """Open a power explorer: sliders for effect size, accounts, posts and account SD; Compute on demand.

    Parameters
    ----------
    rate_ratio, n_accounts_per_department, posts_per_account, random_effect_sd, analysis
        Initial slider values (see :func:`toolkit.power.simulate_power`).
    dispersion, base_rate, n_replicates, seed, n_jobs
        Fixed arguments passed to :func:`toolkit.power.simulate_power`.

    Returns
    -------
    PowerExplorer
        ``.widget``, ``.controls``, ``.params``, ``.compute()``, ``.result`` (the simulate_power table:
        analysis, rate_ratio, n_accounts_per_department, posts_per_account, random_effect_sd, dispersion,
        base_rate, alpha, power, mc_se, ci_low, ci_high, n_replicates, n_failed, mean_estimate, coverage).

    See Also
    --------
    power_welch_anova : Approximate power of Welch's heteroscedastic one-way ANOVA.
    power_kruskal : Approximate power of the Kruskal-Wallis test for normal (or location-shifted) groups.
    power_two_rates : Power of the Wald test of a rate ratio between two groups (Poisson or negative binomial).
    simulate_power : Power of the department comparison as actually analysed, by simulation.
    power_curve : Simulated power over a grid of one design parameter.
    sample_size : Accounts per department needed for a target power, by simulation over a grid.

    Notes
    -----
    Nothing is computed when a slider moves (simulations take seconds); Compute runs
    ``simulate_power(**explorer.params)`` with a progress bar of the replicates (``.progress``), and a
    slider moved after a result says that the result no longer applies (``.stale``). Validated: tests/test_widgets_power.py checks that the result
    equals the direct call.

    References
    ----------
    Arnold, B. F., Hogan, D. R., Colford, J. M., & Hubbard, A. E. (2011). Simulation methods to estimate
    design power: an overview for applied research. BMC Medical Research Methodology, 11, 94.
    doi:10.1186/1471-2288-11-94

    Examples
    --------
    >>> from toolkit.widgets import power_explorer
    >>> ex = power_explorer(n_replicates=10, posts_per_account=5)
    >>> ex.controls["n_accounts_per_department"].value = 4
    >>> ex.compute()["n_replicates"].tolist()
    [10]
    """
    return PowerExplorer(rate_ratio=rate_ratio, n_accounts_per_department=n_accounts_per_department,
                         posts_per_account=posts_per_account, random_effect_sd=random_effect_sd, analysis=analysis,
                         dispersion=dispersion, base_rate=base_rate, n_replicates=n_replicates, seed=seed,
                         n_jobs=n_jobs)
