"""Pre-registered plans: validation, fingerprint, running, family-wise correction, change detection."""
from __future__ import annotations

import math
import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from scipy import stats

import toolkit as tk
from toolkit import plans
from toolkit._validation import ToolkitWarning

ROOT = Path(__file__).resolve().parents[1]
SIM_PLAN = ROOT / "plans" / "h-departments.yaml"
UCI_PLAN = ROOT / "plans" / "h-uci-paid-organic.yaml"
REFERENCE = ROOT / "tests" / "reference" / "plans" / "uci_plan.csv"


def _base() -> dict:
    return {
        "id": "p-test", "title": "A test plan",
        "data": {"source": "simulated", "seed": 3},
        "families": {"main": {"correction": "holm", "alpha": 0.05}},
        "hypotheses": [
            {"id": "A", "statement": "Marketing > PR in comments per reach.", "dv": "comments",
             "denominator": "reach", "between": "department", "contrast": {"group_a": "Marketing", "group_b": "PR"},
             "analysis": "welch_t", "direction": "greater", "family": "main"},
            {"id": "B", "statement": "Departments differ in likes.", "dv": "likes", "between": "department",
             "contrast": "omnibus", "analysis": "kruskal", "direction": "two-sided", "family": "main"},
        ],
    }


def _write(tmp_path, content, name="plan.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(content, sort_keys=False), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def posts():
    # small simulated organisation: fast, and every hypothesis below has enough posts per group
    return tk.simulate_organization(n_accounts_per_department=3, posts_per_account=25, seed=11).data


# --------------------------------------------------------------------------------------------- loading
def test_example_plans_load_and_fingerprint():
    for path in (SIM_PLAN, UCI_PLAN):
        plan = plans.load_plan(path)
        assert re.fullmatch(r"[0-9a-f]{64}", plan.sha256)
        assert plan.sha256 == plans.plan_sha256(yaml.safe_load(path.read_text(encoding="utf-8")))
        assert plan.to_frame()["hypothesis_id"].tolist() == [h.id for h in plan.hypotheses]
    sim = plans.load_plan(SIM_PLAN)
    assert [h.id for h in sim.hypotheses] == ["H1", "H2", "H3", "H4"]
    assert sim.hypotheses[0].contrast == ("Customer service", "Marketing")
    assert sim.hypotheses[1].contrast is None
    assert sim.hypotheses[0].alpha == 0.05  # taken from the family


def test_fingerprint_ignores_formatting_but_not_content(tmp_path):
    content = _base()
    a = plans.load_plan(_write(tmp_path, content, "a.yaml"))
    # same content: other key order, flow style, comments, extra blank lines
    reordered = {k: content[k] for k in reversed(list(content))}
    text = "# a comment\n\n" + yaml.safe_dump(reordered, sort_keys=True, default_flow_style=True) + "\n# end\n"
    (tmp_path / "b.yaml").write_text(text, encoding="utf-8")
    b = plans.load_plan(tmp_path / "b.yaml")
    assert a.sha256 == b.sha256
    changed = _base()
    changed["hypotheses"][0]["statement"] = "Marketing > PR in comments per reach!"
    c = plans.load_plan(_write(tmp_path, changed, "c.yaml"))
    assert c.sha256 != a.sha256
    changed = _base()
    changed["families"]["main"]["alpha"] = 0.01
    assert plans.load_plan(_write(tmp_path, changed, "d.yaml")).sha256 != a.sha256


def _mutate(path_keys, value=None, delete=False):
    def apply(content):
        target = content
        for key in path_keys[:-1]:
            target = target[key]
        if delete:
            del target[path_keys[-1]]
        else:
            target[path_keys[-1]] = value
        return content
    return apply


INVALID = [
    (_mutate(["hypotheses", 0, "statment"], "x"), ValueError, r"unknown key 'statment'.*Did you mean 'statement'"),
    (_mutate(["colour"], "red"), ValueError, r"`plan` must be a mapping with keys among .* unknown key 'colour'"),
    (_mutate(["hypotheses", 0, "dv"], delete=True), ValueError, r"`hypotheses\[0\]` .*required key 'dv'"),
    (_mutate(["title"], delete=True), ValueError, r"required key 'title'"),
    (_mutate(["families", "main", "alpha"], 5), ValueError, r"alpha` must be a number strictly between 0 and 1; "
                                                            r"got 5\. It looks like a percentage; write 0\.05"),
    (_mutate(["families", "main", "alpha"], 0.0), ValueError, r"strictly between 0 and 1; got 0\.0"),
    (_mutate(["hypotheses", 0, "alpha"], 1.5), ValueError, r"hypotheses\[A\]\.alpha` must be a number strictly"),
    (_mutate(["hypotheses", 0, "alpha"], 0.01), ValueError, r"must be the alpha of family 'main'"),
    (_mutate(["hypotheses", 0, "analysis"], "t_test"), ValueError, r"analysis` must be one of 'welch_t'"),
    (_mutate(["hypotheses", 0, "direction"], "two_sided"), ValueError,
     r"direction` must be one of 'two-sided', 'greater', 'less'; got 'two_sided'\. Did you mean 'two-sided'"),
    (_mutate(["hypotheses", 1, "id"], "A"), ValueError, r"hypotheses\[A\]\.id` must be unique within the plan"),
    (_mutate(["hypotheses", 0, "family"], "secondary"), ValueError, r"family` must be one of 'main'"),
    (_mutate(["families", "main", "correction"], "BH"), ValueError, r"correction` must be one of 'holm'"),
    (_mutate(["hypotheses", 1, "direction"], "greater"), ValueError, r"'two-sided' for an omnibus contrast"),
    (_mutate(["hypotheses", 0, "contrast"], "omnibus"), ValueError, r"for analysis 'welch_t'.*got 'omnibus'"),
    (_mutate(["hypotheses", 1, "contrast"], {"group_a": "PR", "group_b": "IT"}), ValueError,
     r"contrast` must be 'omnibus' for analysis 'kruskal'"),
    (_mutate(["hypotheses", 0, "contrast"], {"group_a": "PR", "group_b": "PR"}), ValueError, r"two different groups"),
    (_mutate(["hypotheses", 0, "contrast"], {"group_a": "PR"}), ValueError, r"a mapping \{group_a: \.\.\., group_b"),
    (_mutate(["hypotheses", 0, "analysis"], "negbin_glmm"), ValueError, r"subject` must be given for analysis"),
    (_mutate(["hypotheses", 1, "analysis"], "negbin_glm"), ValueError, r"denominator` must be an exposure column"),
    (_mutate(["hypotheses", 0, "denominator"], "followers"), ValueError, r"denominator` must be one of 'reach'"),
    (_mutate(["hypotheses", 0, "dv"], "clicks"), ValueError, r"dv` must be one of 'likes'.*when a denominator"),
    (_mutate(["hypotheses", 0, "nan_policy"], "drop"), ValueError, r"nan_policy` must be one of 'raise', 'omit'"),
    (_mutate(["hypotheses", 0, "statement"], 3), TypeError, r"statement` must be a non-empty text; got 3"),
    (_mutate(["hypotheses"], []), ValueError, r"`hypotheses` must be a non-empty list"),
    (_mutate(["data", "source"], "csv"), ValueError, r"data\.source` must be one of 'simulated', 'dataset'"),
    (_mutate(["data"], {"source": "dataset"}), ValueError, r"data\.name` must be given when data\.source"),
]


@pytest.mark.parametrize("mutate, kind, match", INVALID)
def test_invalid_plans_are_refused_with_house_message(tmp_path, mutate, kind, match):
    path = _write(tmp_path, mutate(_base()))
    with pytest.raises(kind, match=match) as info:
        plans.load_plan(path)
    assert str(info.value).startswith("load_plan: ")


def test_unreadable_files(tmp_path):
    with pytest.raises(ValueError, match=r"load_plan: `path` must be an existing plan file"):
        plans.load_plan(tmp_path / "nope.yaml")
    (tmp_path / "bad.yaml").write_text("id: [unclosed\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"must be a valid YAML file"):
        plans.load_plan(tmp_path / "bad.yaml")
    (tmp_path / "list.yaml").write_text("- 1\n- 2\n", encoding="utf-8")
    with pytest.raises(TypeError, match=r"`plan` must be a mapping"):
        plans.load_plan(tmp_path / "list.yaml")


# --------------------------------------------------------------------------------------------- running
def test_run_plan_matches_direct_calls_and_holm(tmp_path, posts):
    plan = plans.load_plan(_write(tmp_path, _base()))
    res = plans.run_plan(posts, plan=plan, seed=5)
    t = res.table
    assert list(t.columns) == list(plans.PLAN_RESULT_COLUMNS)
    assert t["status"].tolist() == ["confirmatory", "confirmatory"]
    assert (t["plan_sha256"] == plan.sha256).all()
    # A: Welch t on comments / reach, Marketing vs PR, one-sided -- checked against scipy directly
    rate = posts["comments"].astype(float) / posts["reach"].astype(float)
    a = rate[posts["department"] == "Marketing"].to_numpy()
    b = rate[posts["department"] == "PR"].to_numpy()
    ref = stats.ttest_ind(a, b, equal_var=False, alternative="greater")
    row = t.iloc[0]
    assert row["p_value"] == pytest.approx(ref.pvalue, rel=1e-10)  # same formula, floating-point noise only
    assert row["statistic"] == pytest.approx(ref.statistic, rel=1e-10)
    assert row["estimate"] == pytest.approx(a.mean() - b.mean(), rel=1e-10)
    assert row["ci_high"] == math.inf  # one-sided interval for a one-sided hypothesis
    # B: Kruskal-Wallis on likes by department -- scipy
    groups = [g["likes"].astype(float).to_numpy() for _, g in posts.groupby("department", observed=True)]
    kw = stats.kruskal(*groups)
    assert t.iloc[1]["statistic"] == pytest.approx(kw.statistic, rel=1e-10)
    assert t.iloc[1]["p_value"] == pytest.approx(kw.pvalue, rel=1e-8)
    # Holm for two p-values, written out: p(1) -> 2 p(1); p(2) -> max(2 p(1), p(2))
    p = t["p_value"].to_numpy()
    lo, hi = np.argmin(p), np.argmax(p)
    expected = np.empty(2)
    expected[lo] = min(1.0, 2 * p[lo])
    expected[hi] = min(1.0, max(2 * p[lo], p[hi]))
    np.testing.assert_allclose(t["p_adjusted"], expected, rtol=1e-12)
    assert t["decision"].tolist() == ["supported" if q <= 0.05 else "not supported" for q in expected]


def test_families_are_corrected_separately(tmp_path, posts):
    content = _base()
    content["families"]["other"] = {"correction": "bonferroni", "alpha": 0.05}
    content["hypotheses"][1]["family"] = "other"
    res = plans.run_plan(posts, plan=plans.load_plan(_write(tmp_path, content)), seed=5)
    # each family has one test, so nothing is adjusted
    np.testing.assert_array_equal(res.table["p_adjusted"], res.table["p_value"])
    assert res.table["correction"].tolist() == ["holm", "bonferroni"]


def test_uci_plan_against_r(tmp_path):
    """plans/h-uci-paid-organic.yaml against an independent R analysis (tests/reference/plans)."""
    ref = pd.read_csv(REFERENCE, skipinitialspace=True).set_index("hypothesis_id")
    plan = plans.load_plan(UCI_PLAN)
    res = plans.run_plan(plans.plan_data(plan), plan=plan, seed=1).table.set_index("hypothesis_id")
    assert res["n"].tolist() == ref["n"].tolist()
    # U1 Welch and U3 Kruskal-Wallis are closed form: agreement to floating-point noise
    for hid in ("U1", "U3"):
        for col in ("estimate", "statistic", "p_value"):
            assert res.loc[hid, col] == pytest.approx(ref.loc[hid, col], rel=1e-9), (hid, col)
    for col in ("ci_low", "ci_high"):
        assert res.loc["U1", col] == pytest.approx(ref.loc["U1", col], rel=1e-9)
    # U2 NB2 GLM: iterative ML fit (theta and beta); R's glm.nb convergence tolerance limits agreement
    for col in ("estimate", "ci_low", "ci_high", "statistic", "p_value"):
        assert res.loc["U2", col] == pytest.approx(ref.loc["U2", col], rel=1e-6), col
    np.testing.assert_allclose(res["p_adjusted"], ref["p_adjusted"], rtol=1e-6)
    assert res.loc["U3", "decision"] == "supported" and res.loc["U1", "decision"] == "not supported"


def test_glmm_contrast_is_the_model_contrast_in_plan_direction():
    plan = plans.load_plan(SIM_PLAN)
    data = plans.plan_data(plan)
    with pytest.warns(ToolkitWarning, match=r"'negbin_glmm' hypotheses H1 .*H2 .*fewer than 15 accounts.*"
                                            r"anti-conservative.*'cluster_level'"):
        res = plans.run_plan(data, plan=plan, seed=1).table.set_index("hypothesis_id")
    model = tk.models.fit_engagement_model(data, dv="comments", between="department", exposure="reach",
                                           subject="account", confidence_level=0.95)
    c = model.contrasts
    row = c[(c["group_a"].astype(str) == "Customer service") & (c["group_b"].astype(str) == "Marketing")]
    if row.empty:  # stored the other way round: invert
        row = c[(c["group_a"].astype(str) == "Marketing") & (c["group_b"].astype(str) == "Customer service")].iloc[0]
        rr, z = 1.0 / row["rate_ratio"], -row["statistic"]
    else:
        row = row.iloc[0]
        rr, z = row["rate_ratio"], row["statistic"]
    assert res.loc["H1", "estimate"] == pytest.approx(rr, rel=1e-12)
    assert res.loc["H1", "statistic"] == pytest.approx(z, rel=1e-12)
    assert res.loc["H1", "p_value"] == pytest.approx(stats.norm.sf(z), rel=1e-12)  # direction "greater"
    assert res.loc["H2", "p_value"] == pytest.approx(model.test["p_value"].iloc[0], rel=1e-12)
    assert math.isnan(res.loc["H2", "estimate"])
    # the simulated truth: Customer service 1.5 vs Marketing 0.9 -> rate ratio 1.67; the estimate is near it
    assert 1.0 < res.loc["H1", "estimate"] < 3.0


def test_run_plan_is_deterministic_for_a_seed(tmp_path, posts):
    plan = plans.load_plan(_write(tmp_path, _base()))
    a = plans.run_plan(posts, plan=plan, seed=9).table
    b = plans.run_plan(posts, plan=plan, seed=9).table
    pd.testing.assert_frame_equal(a, b)


def test_run_plan_errors(tmp_path, posts):
    plan = plans.load_plan(_write(tmp_path, _base()))
    with pytest.raises(ValueError, match=r"run_plan: `hypotheses\[A\]\.between` must be the name of a column"):
        plans.run_plan(posts.drop(columns="department"), plan=plan)
    with pytest.raises(TypeError, match=r"run_plan: `plan` must be a Plan from load_plan; got 'dict'"):
        plans.run_plan(posts, plan=_base())
    with pytest.raises(TypeError, match=r"run_plan: `data` must be a pandas.DataFrame"):
        plans.run_plan(posts["likes"], plan=plan)
    holed = posts.copy()
    holed.loc[holed.index[holed["department"] == "Marketing"][0], "comments"] = pd.NA
    with pytest.raises(ValueError, match=r"missing value.*nan_policy='omit'"):
        plans.run_plan(holed, plan=plan)


def test_nan_policy_omit_reports_dropped(tmp_path, posts):
    content = _base()
    content["hypotheses"][0]["nan_policy"] = "omit"
    holed = posts.copy()
    idx = holed.index[holed["department"] == "Marketing"][:3]
    holed.loc[idx, "comments"] = pd.NA
    res = plans.run_plan(holed, plan=plans.load_plan(_write(tmp_path, content)), seed=1).table
    assert res.loc[0, "n_dropped"] == 3


def test_analysis_registry_takes_a_new_entry(tmp_path, posts, monkeypatch):
    def run(data, h, rng):
        return {"estimate": 1.0, "estimate_type": "dummy", "ci_low": 0.5, "ci_high": 2.0, "statistic": 0.0,
                "p_value": 0.01, "n": len(data), "n_dropped": 0}
    monkeypatch.setitem(plans.ANALYSES, "dummy", plans.Analysis(run, frozenset({"contrast"}), "rate"))
    content = _base()
    content["hypotheses"][0]["analysis"] = "dummy"
    res = plans.run_plan(posts, plan=plans.load_plan(_write(tmp_path, content)), seed=1).table
    assert res.loc[0, "analysis"] == "dummy" and res.loc[0, "p_value"] == 0.01


# --------------------------------------------------------------------------------------------- change detection
def test_results_file_and_plan_change_detection(tmp_path, posts):
    path = _write(tmp_path, _base())
    results_file = tmp_path / "out" / "p-test.json"
    plan = plans.load_plan(path)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ToolkitWarning)
        first = plans.run_plan(posts, plan=plan, seed=1, results_file=results_file)
        assert first.plan_changed is None
        assert plans.check_plan_unchanged(plan, results_file=results_file) is True
        plans.run_plan(posts, plan=plan, seed=1, results_file=results_file)  # same plan again: silent
    import json
    stored = json.loads(results_file.read_text(encoding="utf-8"))
    assert stored["plan_sha256"] == plan.sha256 and len(stored["results"]) == 2
    # edit the plan after results exist
    content = _base()
    content["hypotheses"][0]["direction"] = "two-sided"
    edited = plans.load_plan(_write(tmp_path, content))
    text = f"plan changed after results were produced (hash {plan.sha256[:12]} → {edited.sha256[:12]})"
    with pytest.warns(ToolkitWarning, match=re.escape(text)):
        assert plans.check_plan_unchanged(edited, results_file=results_file) is False
    with pytest.warns(ToolkitWarning, match=re.escape(text)):
        second = plans.run_plan(posts, plan=edited, seed=1, results_file=results_file)
    assert second.plan_changed == text
    assert text in second.summary()
    stored = json.loads(results_file.read_text(encoding="utf-8"))
    assert stored["plan_history"] == [plan.sha256, edited.sha256]


def test_check_plan_unchanged_errors(tmp_path):
    plan = plans.load_plan(SIM_PLAN)
    with pytest.raises(ValueError, match=r"check_plan_unchanged: `results_file` must be an existing file"):
        plans.check_plan_unchanged(plan, results_file=tmp_path / "none.json")
    (tmp_path / "x.json").write_text("{}", encoding="utf-8")
    with pytest.raises(ValueError, match=r"a results file written by run_plan"):
        plans.check_plan_unchanged(plan, results_file=tmp_path / "x.json")


# --------------------------------------------------------------------------------------------- exploratory
def test_exploratory_labels_without_mutating():
    plan = plans.load_plan(SIM_PLAN)
    table = pd.DataFrame({"p_value": [0.2, 0.01]})
    before = table.copy()
    out = plans.exploratory(table, plan=plan, note="post hoc")
    pd.testing.assert_frame_equal(table, before)
    assert out["status"].tolist() == ["exploratory"] * 2
    assert (out["plan_sha256"] == plan.sha256).all() and (out["note"] == "post hoc").all()
    with pytest.raises(ValueError, match=r"exploratory: `data` must be a table without the columns"):
        plans.exploratory(out)
    with pytest.raises(TypeError, match=r"exploratory: `plan` must be a Plan"):
        plans.exploratory(table, plan="h-departments")


@pytest.mark.parametrize("analysis, func, kwargs", [
    ("welch_t", "welch_ttest", {"groups": ["Marketing", "PR"]}),
    ("mann_whitney", "mann_whitney", {"groups": ["Marketing", "PR"]}),
    ("brunner_munzel", "brunner_munzel", {"groups": ["Marketing", "PR"]}),
    ("welch_anova", "welch_anova", {}),
    ("kruskal", "kruskal", {"seed": 4}),
])
def test_every_rate_analysis_reports_its_function(tmp_path, posts, analysis, func, kwargs):
    content = _base()
    h = content["hypotheses"][0]
    h["analysis"], h["direction"] = analysis, "two-sided"
    if "groups" not in kwargs:
        h["contrast"] = "omnibus"
    content["hypotheses"] = [h]
    row = plans.run_plan(posts, plan=plans.load_plan(_write(tmp_path, content)), seed=4).table.iloc[0]
    rates = tk.add_metrics(posts, metrics=["conversation_rate"], denominator="reach")
    direct = getattr(tk, func)(rates, dv="conversation_rate_reach", between="department", **kwargs).iloc[0]
    assert row["p_value"] == direct["p_value"] and row["statistic"] == direct["statistic"]
    expected_estimate = direct["estimate"] if "groups" in kwargs else direct["effect_size"]
    assert row["estimate"] == expected_estimate
    assert row["p_adjusted"] == row["p_value"]  # a family of one


# --------------------------------------------------------------------------------------------- cluster level
@pytest.fixture(scope="module")
def nested():
    # accounts nested in departments (no mixed teams): 3 accounts in each of the 8 default departments
    return tk.simulate_organization(n_accounts_per_department=3, posts_per_account=20, mixed_share=0.0, seed=12).data


def _cluster_plan(direction="greater"):
    content = _base()
    content["hypotheses"] = [
        {"id": "C1", "statement": "Marketing gets more comments per reach than PR (per account).", "dv": "comments",
         "denominator": "reach", "between": "department", "contrast": {"group_a": "Marketing", "group_b": "PR"},
         "analysis": "cluster_level", "subject": "account", "direction": direction, "family": "main"},
        {"id": "C2", "statement": "Departments differ in comments per reach (per account).", "dv": "comments",
         "denominator": "reach", "between": "department", "contrast": "omnibus", "analysis": "cluster_level",
         "subject": "account", "direction": "two-sided", "family": "main"},
    ]
    return content


@pytest.mark.parametrize("direction", ["greater", "less", "two-sided"])
def test_cluster_level_plan_matches_cluster_level_comparison(tmp_path, nested, direction):
    plan = plans.load_plan(_write(tmp_path, _cluster_plan(direction)))
    with warnings.catch_warnings():
        warnings.simplefilter("error", ToolkitWarning)  # calibrated: no few-accounts warning
        t = plans.run_plan(nested, plan=plan, seed=np.random.default_rng(3)).table.set_index("hypothesis_id")
    # the plan's one generator drives the permutations of C1 and then C2 (Monte Carlo: 24 accounts in 8
    # departments have billions of assignments): the same generator, called in plan order, gives the same values
    rng = np.random.default_rng(3)
    kw = dict(dv="comments", between="department", subject="account", exposure="reach")
    direct = tk.cluster_level_comparison(nested, reference="PR", seed=rng, **kw)
    direct_omnibus = tk.cluster_level_comparison(nested, seed=rng, **kw).omnibus
    row = direct.pairwise.set_index("group_a").loc["Marketing"]
    c1 = t.loc["C1"]
    assert c1["analysis"] == "cluster_level" and c1["estimate_type"] == "rate_ratio"
    assert c1["estimate"] == pytest.approx(row["estimate"], rel=1e-12)
    assert (c1["ci_low"], c1["ci_high"]) == pytest.approx((row["estimate_ci_low"], row["estimate_ci_high"]),
                                                          rel=1e-12)
    assert c1["statistic"] == pytest.approx(row["statistic"], rel=1e-12)
    df = row["df"]
    expected = {"greater": stats.t.sf(row["statistic"], df), "less": stats.t.cdf(row["statistic"], df),
                "two-sided": row["p_value"]}[direction]
    assert c1["p_value"] == pytest.approx(expected, rel=1e-12)
    # the t test itself, from scratch: pooled within-department variance of account log rates, G - k df
    acc = nested.groupby("account", observed=True).agg(dept=("department", "first"), y=("comments", "sum"),
                                                      e=("reach", "sum"))
    acc["l"] = np.log((acc["y"] + 0.5) / acc["e"])
    resid = acc["l"] - acc.groupby("dept", observed=True)["l"].transform("mean")
    G, k = len(acc), acc["dept"].nunique()
    assert df == G - k
    la, lb = acc.loc[acc["dept"] == "Marketing", "l"], acc.loc[acc["dept"] == "PR", "l"]
    tt = (la.mean() - lb.mean()) / np.sqrt((resid @ resid) / (G - k) * (1 / len(la) + 1 / len(lb)))
    assert c1["statistic"] == pytest.approx(tt, rel=1e-10)
    assert c1["estimate"] == pytest.approx(np.exp(la.mean() - lb.mean()), rel=1e-10)
    # omnibus: the permutation test of department labels across whole accounts
    c2 = t.loc["C2"]
    assert c2["p_value"] == direct_omnibus["p_value"].iloc[0]
    assert c2["statistic"] == pytest.approx(direct_omnibus["statistic"].iloc[0], rel=1e-12)
    assert math.isnan(c2["estimate"]) and c2["estimate_type"] == "none"
    assert c1["n"] == c2["n"] == len(nested)
    assert stats.f_oneway(*[g["l"] for _, g in acc.groupby("dept", observed=True)]).statistic == \
        pytest.approx(c2["statistic"], rel=1e-10)


def test_cluster_level_plan_needs_subject_and_exposure(tmp_path):
    content = _cluster_plan()
    del content["hypotheses"][0]["subject"]
    with pytest.raises(ValueError, match=r"hypotheses\[C1\]\.subject` must be given for analysis 'cluster_level'"):
        plans.load_plan(_write(tmp_path, content))
    content = _cluster_plan()
    content["hypotheses"][1]["denominator"] = None
    with pytest.raises(ValueError, match=r"hypotheses\[C2\]\.denominator` must be an exposure column"):
        plans.load_plan(_write(tmp_path, content))


def test_glmm_warns_with_few_accounts_only(tmp_path, nested):
    content = _cluster_plan("two-sided")
    for h in content["hypotheses"]:
        h["analysis"] = "negbin_glmm"
    plan = plans.load_plan(_write(tmp_path, content))
    with pytest.warns(ToolkitWarning, match=r"C1 \(fewest accounts per department: 3 in .*fewer than 15"):
        few = plans.run_plan(nested, plan=plan, seed=1).table
    # the results are those of the pre-registered GLMM: identical to the fitted model
    model = tk.models.fit_engagement_model(nested, dv="comments", between="department", exposure="reach",
                                           subject="account", confidence_level=0.95)
    assert few.loc[1, "p_value"] == pytest.approx(model.test["p_value"].iloc[0], rel=1e-12)
    many = tk.simulate_organization(n_accounts_per_department=15, posts_per_account=6, seed=4,
                                    departments=["Marketing", "PR"], mixed_share=0.0).data
    with warnings.catch_warnings(record=True) as caught:  # (the GLMM may warn about other things)
        warnings.simplefilter("always")
        plans.run_plan(many, plan=plan, seed=1)
    assert not [w for w in caught if "anti-conservative" in str(w.message)]
