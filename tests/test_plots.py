"""toolkit.plots: check what the plots mean (labels, artists, order, interval ends), not pixels."""
from __future__ import annotations

import warnings

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

import toolkit as tk  # noqa: E402
from toolkit import plots  # noqa: E402
from toolkit.plots import choose_scale  # noqa: E402


def _interval_ends(container, axis="x"):
    """(low, high) of an ErrorbarContainer, read back from its bar line segments."""
    seg = np.asarray(container.lines[2][0].get_segments()[0])
    col = 0 if axis == "x" else 1
    return float(seg[:, col].min()), float(seg[:, col].max())


def _flat(text):
    """A label without the line breaks added by wrapping."""
    return " ".join(text.split())


def _point(container):
    x, y = container.lines[0].get_data()
    return float(np.asarray(x)[0]), float(np.asarray(y)[0])


@pytest.fixture
def rate_ratios():
    # hand-made table with the count models' documented rate_ratios columns
    return pd.DataFrame({"term": ["department[PR]", "department[Marketing]", "department[IT]"],
                         "group": ["PR", "Marketing", "IT"], "reference": "Social media team",
                         "rate_ratio": [1.31, 0.82, 1.02], "ci_low": [1.08, 0.64, 0.70],
                         "ci_high": [1.59, 1.05, 1.49], "statistic": [2.7, -1.6, 0.1],
                         "p_value": [0.007, 0.11, 0.92], "confidence_level": 0.95})


# ---------------------------------------------------------------------------------- distributions
def test_distributions_order_counts_and_labels(posts_long):
    data = posts_long.copy()
    # reverse the categorical order: the axis must follow the categories, not first appearance
    cats = list(data["department"].cat.categories)[::-1]
    data["department"] = data["department"].cat.reorder_categories(cats)
    data.loc[0, "likes"] = np.nan  # one missing value in the first department's rows
    fig, ax0 = plt.subplots()
    ax = plots.plot_distributions(data, x="department", y="likes", ax=ax0)
    assert ax is ax0
    labels = [t.get_text() for t in ax.get_xticklabels()]
    n = data.dropna(subset=["likes"]).groupby("department", observed=True).size()
    assert labels == [f"{g}\n(n={n[g]})" for g in cats]
    assert len(ax.collections) >= len(cats)  # one scatter collection per group
    points = [c for c in ax.collections if c.get_label() in cats]
    assert [c.get_label() for c in points] == cats
    assert [len(c.get_offsets()) for c in points] == [n[g] for g in cats]
    # the value axis follows the documented rule (choose_scale) and starts at 0 for counts
    assert ax.get_yscale() == choose_scale(data["likes"]).scale and ax.get_ylim()[0] == 0
    assert _flat(ax.get_ylabel()).startswith("likes")


def test_distributions_zeros_stay_visible(posts_long):
    data = posts_long.copy()
    data.loc[:5, "comments"] = 0
    ax = plots.plot_distributions(data, x="department", y="comments")
    ys = np.concatenate([c.get_offsets()[:, 1] for c in ax.collections if c.get_label() in
                         set(data["department"].astype(str))])
    assert (ys == 0).sum() == (data["comments"] == 0).sum()
    lo, hi = ax.get_ylim()
    assert lo <= 0 <= hi


def test_distributions_linear_and_violin(posts_long):
    ax = plots.plot_distributions(posts_long, x="department", y="likes", kind="violin", scale="linear")
    assert ax.get_yscale() == "linear" and ax.get_ylabel() == "likes"


def test_distributions_errors(posts_long):
    with pytest.raises(ValueError, match=r"plot_distributions: `kind` must be one of 'box', 'violin'"):
        plots.plot_distributions(posts_long, x="department", y="likes", kind="bar")
    with pytest.raises(ValueError, match=r"`y` must be the name of a column"):
        plots.plot_distributions(posts_long, x="department", y="like")
    with pytest.raises(TypeError, match="numeric column"):
        plots.plot_distributions(posts_long, x="department", y="account")


# ---------------------------------------------------------------------------------- means
def test_means_from_describe_groups(posts_long):
    desc = tk.describe_groups(posts_long, dv="likes", between="department", n_resamples=200, seed=1)
    fig, ax0 = plt.subplots()
    ax = plots.plot_means(desc, ax=ax0)
    assert ax is ax0
    assert len(ax.containers) == len(desc)  # one errorbar per group
    for i, (c, row) in enumerate(zip(ax.containers, desc.itertuples())):
        x, y = _point(c)
        assert x == i and y == pytest.approx(row.mean)
        assert _interval_ends(c, "y") == pytest.approx((row.mean_ci_low, row.mean_ci_high))
    labels = [t.get_text() for t in ax.get_xticklabels()]
    assert labels == [f"{g}\n(n={k})" for g, k in zip(desc["group"], desc["n"])]
    assert _flat(ax.get_ylabel()) == "likes (mean, 95% CI, bootstrap)"
    assert _flat(ax.get_xlabel()) == "department"


def test_means_from_emmeans_table():
    em = pd.DataFrame({"group": ["A", "B"], "rate": [2.0, 3.5], "ci_low": [1.6, 2.9], "ci_high": [2.5, 4.2],
                       "unit": "comments per 1,000 reach", "confidence_level": 0.9})
    ax = plots.plot_means(em, estimate="rate", ci_low="ci_low", ci_high="ci_high", n=None, interval="Wald",
                          log=True)
    assert _flat(ax.get_ylabel()) == "comments per 1,000 reach (rate, 90% CI, Wald; log scale)"
    assert [t.get_text() for t in ax.get_xticklabels()] == ["A", "B"]
    assert _interval_ends(ax.containers[1], "y") == pytest.approx((2.9, 4.2))
    assert ax.get_yscale() == "log"


# ---------------------------------------------------------------------------------- estimation
def test_estimates_rate_ratios(rate_ratios):
    fig, ax0 = plt.subplots()
    ax = plots.plot_estimates(rate_ratios, adjustment="Holm-adjusted", ax=ax0)
    assert ax is ax0
    assert len(ax.containers) == 3
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels == ["PR", "Marketing", "IT"]
    ticks = list(ax.get_yticks())
    for c, row in zip(ax.containers, rate_ratios.itertuples()):
        x, y = _point(c)
        assert x == pytest.approx(row.rate_ratio)
        assert labels[ticks.index(y)] == row.group  # the point sits on its own label
        assert _interval_ends(c, "x") == pytest.approx((row.ci_low, row.ci_high))
    assert ax.get_xscale() == "log"
    assert _flat(ax.get_xlabel()) == "rate_ratio vs Social media team (95% CI, Holm-adjusted; log scale)"
    ref = [ln for ln in ax.lines if ln.get_linestyle() == "--"]
    assert len(ref) == 1 and np.allclose(ref[0].get_xdata(), 1.0)


def test_estimates_differences_linear(rate_ratios):
    diffs = rate_ratios.assign(rate_ratio=[-0.5, 0.2, 1.0], ci_low=[-1.0, -0.1, 0.4], ci_high=[0.0, 0.5, 1.6])
    ax = plots.plot_estimates(diffs, log=False)
    ref = [ln for ln in ax.lines if ln.get_linestyle() == "--"]
    assert np.allclose(ref[0].get_xdata(), 0.0) and ax.get_xscale() == "linear"
    with pytest.raises(ValueError, match="plot_estimates: `estimate` must be positive for a log axis"):
        plots.plot_estimates(diffs, log=True)


def test_estimates_missing_column(rate_ratios):
    with pytest.raises(ValueError, match=r"plot_estimates: `ci_low` must be the name of a column"):
        plots.plot_estimates(rate_ratios, ci_low="lower")
    with pytest.raises(ValueError, match="at least one row"):
        plots.plot_estimates(rate_ratios.iloc[:0])


def test_forest_from_pairwise(posts_long):
    pw = tk.pairwise(posts_long, dv="likes", between="department", method="games_howell")
    ax = plots.plot_forest(pw)
    assert len(ax.containers) == len(pw)
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels == [f"{a} vs {b}" for a, b in zip(pw["group_a"], pw["group_b"])]
    for c, row in zip(ax.containers, pw.itertuples()):
        assert _point(c)[0] == pytest.approx(row.estimate)
        assert _interval_ends(c, "x") == pytest.approx((row.estimate_ci_low, row.estimate_ci_high))
    assert _flat(ax.get_xlabel()) == ("likes: estimate, difference a − b "
                               "(95% CI, simultaneous (studentized range))")


def test_forest_model_contrasts_log():
    con = pd.DataFrame({"group_a": ["A", "A", "B"], "group_b": ["B", "C", "C"], "rate_ratio": [1.2, 0.7, 0.6],
                        "ci_low": [0.9, 0.5, 0.4], "ci_high": [1.6, 0.98, 0.9], "confidence_level": 0.95})
    ax = plots.plot_forest(con, estimate="rate_ratio", ci_low="ci_low", ci_high="ci_high", log=True,
                           adjustment="Holm-adjusted")
    assert _flat(ax.get_xlabel()) == "rate_ratio, ratio a / b (95% CI, Holm-adjusted; log scale)"
    assert _interval_ends(ax.containers[2], "x") == pytest.approx((0.4, 0.9))


# ---------------------------------------------------------------------------------- p matrix
def test_pvalue_matrix_symmetric_and_annotated():
    t = pd.DataFrame({"group_a": ["A", "A", "B"], "group_b": ["B", "C", "C"], "p_adjusted": [0.01, 0.2, 0.5],
                      "p_adjust": "holm"})
    ax = plots.plot_pvalue_matrix(t, order=["C", "B", "A"])
    assert [x.get_text() for x in ax.get_xticklabels()] == ["C", "B", "A"]
    assert [x.get_text() for x in ax.get_yticklabels()] == ["C", "B", "A"]
    texts = {(round(x.get_position()[1]), round(x.get_position()[0])): x.get_text() for x in ax.texts}
    # A (row 2) vs B (col 1) and its mirror; significant cell carries the star
    assert texts[(2, 1)] == texts[(1, 2)] == "0.01*"
    assert texts[(0, 2)] == "0.2" and texts[(1, 0)] == "0.5"
    assert len(ax.texts) == 6  # no diagonal annotations
    assert "holm-adjusted" in ax.get_title()


# ---------------------------------------------------------------------------------- ranking
def test_ranking_plot_from_bootstrap(posts_long):
    # the draws and the rank table themselves are tested in tests/test_ranking.py
    draws = plots.bootstrap_draws(posts_long, x="department", y="likes", n_resamples=300, seed=3)
    r = plots.rank_table(draws)
    fig, ax0 = plt.subplots()
    ax = plots.plot_ranking(r, ax=ax0)
    assert ax is ax0 and len(ax.containers) == 3
    order = r.sort_values("rank_median", kind="stable")
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels == [f"{g} (P(best)={p:.2f})" for g, p in zip(order["group"], order["p_best"])]
    for c, row in zip(ax.containers, order.itertuples()):
        assert _interval_ends(c, "x") == pytest.approx((row.rank_low, row.rank_high))
    assert "95% rank interval over 300 draws" in _flat(ax.get_xlabel())


# ---------------------------------------------------------------------------------- model checks
def test_rootogram_hangs_bars():
    t = pd.DataFrame({"count": [0, 1, 2, 3], "observed": [50, 30, 16, 4], "expected": [40.0, 36.0, 16.0, 8.0]})
    fig, ax0 = plt.subplots()
    ax = plots.plot_rootogram(t, ax=ax0)
    assert ax is ax0 and len(ax.patches) == 4
    for patch, row in zip(ax.patches, t.itertuples()):
        top = patch.get_y() + patch.get_height()
        assert top == pytest.approx(np.sqrt(row.expected))
        assert patch.get_y() == pytest.approx(np.sqrt(row.expected) - np.sqrt(row.observed))
    assert patch.get_y() > 0 and ax.patches[0].get_y() < 0  # too few 3s hang above, excess zeros below
    assert "sqrt" in ax.get_ylabel() and "posts" in ax.get_ylabel()


def test_pit_qq_band():
    t = pd.DataFrame({"pit": np.linspace(0.005, 0.995, 100)})
    ax = plots.plot_pit_qq(t)
    x, y = ax.lines[0].get_data()
    assert np.allclose(x, (np.arange(1, 101) - 0.5) / 100) and np.all(np.diff(y) >= 0)
    from scipy import stats

    d = stats.kstwo.ppf(0.95, 100)
    assert ax.lines[2].get_ydata()[50] == pytest.approx(0.5 + d)
    assert _flat(ax.get_xlabel()) == "expected uniform quantile (n = 100 posts)"


def test_plots_do_not_touch_rcparams(posts_long, rate_ratios):
    before = dict(matplotlib.rcParams)
    plots.plot_distributions(posts_long, x="department", y="likes")
    plots.plot_estimates(rate_ratios)
    after = dict(matplotlib.rcParams)
    assert before == after


def test_import_toolkit_does_not_import_matplotlib():
    import subprocess
    import sys

    code = "import sys, toolkit; toolkit.compare_groups; print('matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# ---------------------------------------------------------------------------------- with the count models
@pytest.fixture(scope="module")
def model():
    models = pytest.importorskip("toolkit.models")
    sim = tk.simulate_organization(n_accounts_per_department=3, posts_per_account=30, seed=2)
    return models.fit_engagement_model(sim.data, dv="comments", between="department", exposure="reach")


def test_plots_take_the_model_tables(model):
    rr = model.rate_ratios
    ax = plots.plot_estimates(rr, adjustment="unadjusted")
    assert [_interval_ends(c, "x") for c in ax.containers] == [pytest.approx((a, b)) for a, b in
                                                               zip(rr["ci_low"], rr["ci_high"])]
    assert f"vs {rr['reference'].iloc[0]}" in ax.get_xlabel()
    em = model.emmeans
    ax = plots.plot_means(em, estimate="rate", ci_low="ci_low", ci_high="ci_high", n=None, interval="Wald")
    assert ax.get_ylabel().startswith(str(em["unit"].iloc[0]))
    assert [t.get_text() for t in ax.get_xticklabels()] == [str(g) for g in em["group"]]
    con = model.contrasts
    ax = plots.plot_forest(con, estimate="rate_ratio", ci_low="ci_low", ci_high="ci_high", log=True,
                           adjustment="unadjusted")
    assert len(ax.containers) == len(con)
    ax = plots.plot_pvalue_matrix(con)
    assert len(ax.texts) == 2 * len(con)
    root = tk.models.rootogram(model, max_count=8)
    ax = plots.plot_rootogram(root)
    assert len(ax.patches) == len(root)
    res, _ = tk.models.quantile_residuals(model, seed=1)
    ax = plots.plot_pit_qq(res)
    assert _flat(ax.get_xlabel()) == f"expected uniform quantile (n = {len(res)} posts)"


def test_distributions_boolean_groups_with_missing_labels(posts_long):
    data = posts_long.copy()
    data["paid"] = pd.array([True, False, None] * (len(data) // 3), dtype="boolean")
    ax = plots.plot_distributions(data, x="paid", y="likes")
    n = data.groupby("paid").size()  # missing labels are not a group
    assert [t.get_text() for t in ax.get_xticklabels()] == [f"False\n(n={n[False]})", f"True\n(n={n[True]})"]
    draws = plots.bootstrap_draws(data, x="paid", y="likes", n_resamples=10, seed=1)
    assert len(draws) == 20


# ---------------------------------------------------------------------------------- readable on any data
# Three kinds of data users have: (a) engagement rates in 0-0.07, (b) counts with many zeros (and a
# heavy tail), (c) 30 groups with long names. Every plot type is drawn with the Agg renderer and read back.
LONG = ["Customer service and community management", "Regional marketing (North-West, Ireland)",
        "Investor relations & corporate communications"]


def _scenario(kind, rng):
    if kind == "rates":
        groups = ["Marketing", "PR", "Customer service", "Social media team"]
        n = 60
        y = np.concatenate([rng.beta(2, 60, n) for _ in groups])  # rates in about 0-0.07
        y[:3] = 0.0
        return pd.DataFrame({"group": np.repeat(groups, n), "y": y})
    if kind == "counts":
        groups = ["Marketing", "PR", "IT"]
        n = 80
        y = np.concatenate([rng.negative_binomial(0.3, 0.3 / (0.3 + 40), n) for _ in groups]).astype(float)
        return pd.DataFrame({"group": np.repeat(groups, n), "y": y})
    groups = [f"{LONG[i % 3]} {i + 1:02d}" for i in range(30)]
    n = 8
    return pd.DataFrame({"group": np.repeat(groups, n), "y": rng.gamma(2.0, 3.0, n * 30)})


def _tick_texts(axis):
    lo, hi = sorted(axis.get_view_interval())
    tol = 1e-9 * max(1.0, abs(lo), abs(hi))
    return [t.label1 for t in axis.get_major_ticks() if lo - tol <= t.get_loc() <= hi + tol
            and t.label1.get_visible() and t.label1.get_text()]


def _check_readable(fig, values=None, value_axis=None):
    """Nothing cut off, plain tick labels, data inside non-negative limits, no overlapping tick labels."""
    from matplotlib.text import Text

    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    box = fig.bbox
    all_ticks = {id(t.label1) for a in fig.axes for ax_ in (a.xaxis, a.yaxis)
                 for t in ax_.get_major_ticks() + ax_.get_minor_ticks()}
    drawn = [t for a in fig.axes for ax_ in (a.xaxis, a.yaxis) for t in _tick_texts(ax_)]
    texts = [t for t in fig.findobj(Text) if id(t) not in all_ticks and t.get_visible() and t.get_text()]
    for t in texts + drawn:
        e = t.get_window_extent(renderer)
        assert e.x0 >= box.x0 - 1 and e.y0 >= box.y0 - 1 and e.x1 <= box.x1 + 1 and e.y1 <= box.y1 + 1, \
            f"text {t.get_text()!r} is cut off: {e} outside {box}"
    for a in fig.axes:
        for axis in (a.xaxis, a.yaxis):
            labels = _tick_texts(axis)
            for t in labels:
                assert "\\times" not in t.get_text() and "×" not in t.get_text() and "e-" not in t.get_text(), \
                    t.get_text()
            if any(t.get_rotation() % 90 for t in labels):
                continue  # boxes of slanted labels overlap although their glyphs do not
            ext = sorted((t.get_window_extent(renderer) for t in labels),
                         key=lambda e: e.x0 if axis is a.xaxis else e.y0)
            for e1, e2 in zip(ext, ext[1:]):  # neighbouring tick labels do not overlap
                overlap_x = min(e1.x1, e2.x1) - max(e1.x0, e2.x0)
                overlap_y = min(e1.y1, e2.y1) - max(e1.y0, e2.y0)
                assert overlap_x <= 1 or overlap_y <= 1, \
                    f"tick labels overlap on {axis.axis_name}: {[t.get_text() for t in labels]} ({a.get_title()!r})"
    if values is not None:
        ax, which = value_axis
        lo, hi = ax.get_ylim() if which == "y" else ax.get_xlim()
        v = np.asarray(values, float)
        v = v[np.isfinite(v)]
        assert lo <= v.min() and v.max() <= hi, (lo, hi, v.min(), v.max())
        if v.min() >= 0:
            assert lo >= 0, f"negative axis range {lo} for non-negative values"


@pytest.mark.parametrize("kind", ["rates", "counts", "groups"])
def test_every_plot_is_readable(kind, rng):
    data = _scenario(kind, rng)
    # distributions (box and violin)
    for k in ("box", "violin"):
        ax = plots.plot_distributions(data, x="group", y="y", kind=k)
        _check_readable(ax.figure, data["y"], (ax, "y"))
        plt.close(ax.figure)
    if kind == "rates":
        assert ax.get_yscale() == "linear" and ax.get_ylim()[0] == 0
        assert all(t.get_text() in {"0", "0.02", "0.04", "0.06", "0.08", "0.10", "0.12", "0.14", "0.16"}
                   or t.get_text().startswith("0.") for t in _tick_texts(ax.yaxis))
    if kind == "counts":
        assert ax.get_yscale() == "symlog" and ax.get_ylim()[0] == 0
        assert "logarithmic above" in ax.get_ylabel()
        assert {"0", "1", "10"} <= {t.get_text() for t in _tick_texts(ax.yaxis)}
    # means with intervals
    desc = tk.describe_groups(data, dv="y", between="group", n_resamples=50, seed=1)
    ax = plots.plot_means(desc, title=f"Mean y per post by group ({kind})")
    _check_readable(ax.figure, desc[["mean", "mean_ci_low", "mean_ci_high"]].to_numpy().ravel(), (ax, "y"))
    # estimates against a reference (ratios, log axis) and differences (linear)
    means = desc.set_index("group")["mean"]
    ref = desc["group"].iloc[0]
    rr = pd.DataFrame({"group": desc["group"].iloc[1:], "reference": ref,
                       "rate_ratio": (means.iloc[1:] / means.iloc[0]).to_numpy(),
                       "confidence_level": 0.95})
    rr["ci_low"], rr["ci_high"] = rr["rate_ratio"] / 1.3, rr["rate_ratio"] * 1.3
    ax = plots.plot_estimates(rr, adjustment="unadjusted")
    _check_readable(ax.figure, rr[["ci_low", "ci_high"]].to_numpy().ravel(), (ax, "x"))
    assert ax.get_xscale() == "log" and len(_tick_texts(ax.xaxis)) >= 2
    diff = rr.assign(rate_ratio=np.log(rr["rate_ratio"]), ci_low=np.log(rr["ci_low"]),
                     ci_high=np.log(rr["ci_high"]))
    ax = plots.plot_estimates(diff, log=False)
    _check_readable(ax.figure)
    # pairwise contrasts: forest and p-value matrix (all pairs for few groups, the first 30 for many)
    if kind == "groups":  # 435 pairs: a table with pairwise's columns, built from the group means
        import itertools

        pairs = list(itertools.combinations(desc["group"], 2))
        d = np.array([means[a] - means[b] for a, b in pairs])
        pw = pd.DataFrame({"group_a": [a for a, _ in pairs], "group_b": [b for _, b in pairs], "estimate": d,
                           "estimate_ci_low": d - 1.5, "estimate_ci_high": d + 1.5,
                           "p_value": rng.uniform(size=len(pairs)), "confidence_level": 0.95})
    else:
        pw = tk.pairwise(data, dv="y", between="group", method="games_howell")
    ax = plots.plot_forest(pw.head(30))
    _check_readable(ax.figure)
    ax = plots.plot_pvalue_matrix(pw, p="p_value")
    _check_readable(ax.figure)
    # ranking
    draws = plots.bootstrap_draws(data, x="group", y="y", n_resamples=50, seed=1)
    ax = plots.plot_ranking(plots.rank_table(draws))
    _check_readable(ax.figure)
    # count-model checks and the specification curve: drawn from each scenario's values
    counts = np.round(data["y"] * (1000 if kind == "rates" else 1)).astype(int)
    top = int(min(counts.max(), 40))
    obs = counts.clip(upper=top).value_counts().reindex(range(0, top + 1), fill_value=0)
    mean = counts.clip(upper=top).mean()
    from scipy import stats

    expected = len(counts) * stats.poisson.pmf(np.arange(top + 1), mean)
    root = pd.DataFrame({"count": np.arange(top + 1), "observed": obs.to_numpy(), "expected": expected})
    ax = plots.plot_rootogram(root)
    _check_readable(ax.figure)
    ax = plots.plot_pit_qq(pd.DataFrame({"pit": rng.uniform(size=200)}))
    _check_readable(ax.figure)
    n_specs = 30 if kind == "groups" else 24
    est = np.sort(rng.normal(0.1, 0.2, n_specs))
    outcomes = (data["group"].unique()[:n_specs] if kind == "groups" else ["likes", "comments", "shares"])
    curve = pd.DataFrame({"estimate": est, "ci_low": est - 0.3, "ci_high": est + 0.3,
                          "significant": np.abs(est) > 0.3, "status": "ok",
                          "outcome": np.resize(outcomes, n_specs),
                          "analysis": np.resize(["negbin_glm", "welch", "cluster level (accounts)"], n_specs),
                          "unit": "post", "exclusion": np.resize(["none", "paid posts excluded"], n_specs)})
    axes = plots.plot_specification_curve(curve)
    _check_readable(axes["figure"])
    assert len(_tick_texts(axes["curve"].yaxis)) >= 2


def test_figures_still_pickle(posts_long):
    import pickle

    ax = plots.plot_distributions(posts_long, x="department", y="likes")
    ax.figure.canvas.draw()
    again = pickle.loads(pickle.dumps(ax.figure))
    again.canvas.draw()
    assert " ".join(again.axes[0].get_title().split()) == " ".join(ax.get_title().split())


def test_choose_scale_rule():
    assert plots.choose_scale([0.0, 0.01, 0.07]).scale == "linear"        # rates
    assert plots.choose_scale([0, 0, 0, 1, 2, 12]).scale == "linear"       # small counts with zeros
    s = plots.choose_scale([0, 0, 1, 5, 300, 2000])                         # zeros + heavy tail
    assert (s.scale, s.linthresh) == ("symlog", 1.0)
    assert plots.choose_scale([0, 0, 0.0004, 0.0004, 0.3]).linthresh == pytest.approx(1e-4)
    assert plots.choose_scale([2, 50, 900]).scale == "log"                 # positive, > 2 decades
    assert plots.choose_scale([-1.0, 0.5, 200]).scale == "linear"         # negative values
    assert plots.choose_scale([np.nan, np.inf]).scale == "linear"


def test_tick_numbers_are_plain():
    assert [plots._number(v) for v in (0, 0.02, 0.5, 1, 12, 1000, 1500, 2.5e6, -0.3)] == \
        ["0", "0.02", "0.5", "1", "12", "1k", "1.5k", "2.5M", "\u22120.3"]


def test_points_label_says_what_is_plotted(posts_long):
    ax = plots.plot_distributions(posts_long, x="department", y="likes")
    assert "points: posts" in ax.get_title()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", tk.ToolkitWarning)
        res = tk.compare_groups(posts_long, dv="likes", between="department", subject="account", seed=1,
                                n_resamples=100)
    ax = plots.plot_distributions(res.analysed_data, x="department", y="likes")
    assert "points: accounts" in ax.get_title() and "per post" not in ax.get_title()
    ax = plots.plot_distributions(res.analysed_data, x="department", y="likes", points="account means")
    assert "points: account means" in ax.get_title()


def test_scale_log_refuses_zeros(posts_long):
    data = posts_long.assign(likes=0)
    with pytest.raises(ValueError, match="plot_distributions: `scale` must be 'log' only for positive values"):
        plots.plot_distributions(data, x="department", y="likes", scale="log")


@pytest.mark.parametrize("low, high", [(0.8, 1.3), (0.5, 2.2), (0.2, 9.0), (0.05, 40.0)])
def test_log_ratio_axes_have_no_overlapping_minor_labels(low, high):
    """Ratio axes (plot_estimates, plot_forest with log=True) label only major ticks, without overlap,
    whether the intervals stay inside one decade or span several (tutorial report: overlapping minor labels)."""
    rr = pd.DataFrame({"group": ["a", "b", "c"], "reference": "r", "rate_ratio": [low * 1.1, 1.0, high / 1.1],
                       "ci_low": [low, 0.9, high / 1.5], "ci_high": [low * 1.5, 1.1, high], "confidence_level": 0.95})
    ax = plots.plot_estimates(rr, adjustment="unadjusted")
    _check_readable(ax.figure, rr[["ci_low", "ci_high"]].to_numpy().ravel(), (ax, "x"))
    assert ax.get_xscale() == "log" and not [t for t in ax.get_xticklabels(minor=True) if t.get_text()]
    assert len(_tick_texts(ax.xaxis)) >= 2
    plt.close(ax.figure)
    con = rr.rename(columns={"group": "group_a", "reference": "group_b"})
    ax = plots.plot_forest(con, estimate="rate_ratio", ci_low="ci_low", ci_high="ci_high", log=True,
                           adjustment="unadjusted")
    _check_readable(ax.figure, con[["ci_low", "ci_high"]].to_numpy().ravel(), (ax, "x"))
    assert ax.get_xscale() == "log" and not [t for t in ax.get_xticklabels(minor=True) if t.get_text()]
    plt.close(ax.figure)
