"""The NB2/Poisson GLM engine's fast paths give the answers of the plain computations.

* ``DesignRows`` (products on the distinct rows of a factor design) equals the plain matrix products, and falls
  back to them when rows are not few (a continuous covariate) -- exactness is checked, not assumed.
* ``_distinct`` (linear-time distinct counts) equals ``np.unique``.
* The grouped path (``_Grouped``: Poisson Newton on sums by row pattern, NB2 iterations without a per-row
  linear predictor; the reduced model's rows derived with ``DesignRows.columns``) gives the per-row path's answers.
* The joint Newton path of ``_irls`` reaches the same maximum as the alternating algorithm of ``MASS::glm.nb``
  (kept as ``_irls_alternating``); agreement with R itself is tested in tests/test_models_glm.py.
Data are SIMULATED with the seeds written in each test.
"""
import numpy as np
import pytest

from toolkit.models import glm


def _factor_design(rng, n, levels=8, other=3):
    a = rng.integers(0, levels, n)
    b = rng.integers(0, other, n)
    X = np.zeros((n, 1 + (levels - 1) + (other - 1)))
    X[:, 0] = 1.0
    X[a > 0, a[a > 0]] = 1.0
    X[b > 0, levels - 1 + b[b > 0]] = 1.0
    return X


def test_design_rows_products_equal_the_plain_products():
    rng = np.random.default_rng(1)
    X = _factor_design(rng, 20_000)
    rows = glm.DesignRows(X)
    assert rows.P is not None and rows.k <= 24
    beta, r, w = rng.normal(size=X.shape[1]), rng.normal(size=X.shape[0]), rng.uniform(size=X.shape[0])
    np.testing.assert_allclose(rows.lin(beta), X @ beta, rtol=1e-13, atol=1e-13)
    np.testing.assert_allclose(rows.tmul(r), X.T @ r, rtol=1e-10, atol=1e-9)
    np.testing.assert_allclose(rows.gram(w), X.T @ (X * w[:, None]), rtol=1e-11)


def test_design_rows_fall_back_with_a_continuous_covariate_and_small_n():
    rng = np.random.default_rng(2)
    X = np.column_stack([_factor_design(rng, 20_000), rng.normal(size=20_000)])
    assert glm.DesignRows(X).P is None
    assert glm.DesignRows(_factor_design(rng, 500)).P is None


def test_design_rows_never_trust_the_hash_alone():
    # rows built so that their fixed-weight hashes coincide: the exact check must reject the compression
    rng = np.random.default_rng(3)
    w = 1.0 / (np.arange(2) + np.pi)
    base = np.array([[1.0, 0.0], [0.0, w[0] / w[1]]])          # both rows hash to w[0]
    X = base[rng.integers(0, 2, 10_000)]
    assert np.isclose(X[0] @ w, w[0]) and np.allclose(X @ w, w[0])
    rows = glm.DesignRows(X)
    assert rows.P is None
    b = np.array([0.3, -1.2])
    np.testing.assert_array_equal(rows.lin(b), X @ b)


@pytest.mark.parametrize("y", [np.array([0, 3, 3, 7, 0, 1e6]), np.array([0.5, 2.0, 0.5]), np.array([-1.0, 2.0]),
                               np.array([2.0 ** 30, 1.0]), np.array([], dtype=float)])
def test_distinct_values_equal_np_unique(y):
    vals, idx = glm._distinct(np.asarray(y, float))
    u, inv = np.unique(np.asarray(y, float), return_inverse=True)
    np.testing.assert_array_equal(vals, u)
    np.testing.assert_array_equal(vals[idx], y)


def _nb_data(seed, n=30_000, theta=1.5, covariate=False):
    rng = np.random.default_rng(seed)
    X = _factor_design(rng, n)
    if covariate:
        X = np.column_stack([X, rng.normal(size=n)])
    beta = rng.normal(0, 0.3, X.shape[1])
    beta[0] = -4.0
    off = np.log(np.round(rng.lognormal(np.log(2000), 0.8, n)) + 1)
    mu = np.exp(X @ beta + off)
    return rng.negative_binomial(theta, theta / (theta + mu)).astype(float), X, off


@pytest.mark.parametrize("seed,theta,covariate", [(11, 0.4, False), (12, 1.5, False), (13, 8.0, True),
                                                  (14, 60.0, False)])
def test_joint_newton_reaches_the_maximum_of_the_alternating_algorithm(seed, theta, covariate):
    y, X, off = _nb_data(seed, theta=theta, covariate=covariate)
    yc = glm.as_counts(y)
    rows = glm.DesignRows(X)
    pois = glm._irls(yc, X, off, "poisson", max_iter=200, tol=1e-12, start=None, rows=rows)
    joint = glm._newton_negbin(yc, rows, off, pois["beta"], max_iter=200, tol=1e-12)
    assert joint is not None and joint[5]
    alt = glm._irls_alternating(yc, rows, off, pois["beta"], max_iter=200, tol=1e-12)
    assert alt[5]
    np.testing.assert_allclose(joint[0], alt[0], rtol=0, atol=1e-8)
    assert joint[1] == pytest.approx(alt[1], abs=1e-7)
    assert joint[3] == pytest.approx(alt[3], rel=1e-13)


def test_moderate_theta_loglik_form_equals_the_poisson_split_form():
    rng = np.random.default_rng(21)
    y = rng.negative_binomial(2.0, 0.1, 5000).astype(float)
    eta = np.log(rng.uniform(0.1, 50, 5000))
    for lt in np.log([0.05, 1.0, 9.99]):
        fast = glm.nb_loglik_terms(y, eta, lt)
        theta, z = np.exp(lt), np.exp(eta - lt)
        split = (glm.poisson_loglik_terms(y, eta) + glm.lgamma_ratio(y, theta) + theta * glm._log1pmx(z)
                 - y * np.log1p(z))
        np.testing.assert_allclose(fast, split, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("theta", [0.3, 2.0, 9.5, 50.0, 1e6])
def test_sums_over_distinct_counts_equal_the_per_observation_sums(theta):
    rng = np.random.default_rng(31)
    y = rng.negative_binomial(1.5, 0.05, 20_000).astype(float)
    eta = np.log(rng.uniform(1, 60, 20_000))
    yc = glm.as_counts(y)
    assert yc._few
    lt = np.log(theta)
    assert glm.loglik_sum(yc, eta, "negbin", lt) == pytest.approx(np.sum(glm.nb_loglik_terms(yc, eta, lt)), rel=1e-12)
    assert glm.loglik_sum(yc, eta, "poisson") == pytest.approx(np.sum(glm.poisson_loglik_terms(yc, eta)), rel=1e-12)
    s, h = glm.theta_derivative_sums(yc, eta, lt)
    assert s == pytest.approx(np.sum(glm.theta_score_terms(yc, eta, lt)), rel=1e-9, abs=1e-12)
    assert h == pytest.approx(np.sum(glm.theta_hessian_terms(yc, eta, lt)), rel=1e-9, abs=1e-15)


def test_score_contributions_are_formed_only_for_the_sandwich():
    y, X, off = _nb_data(41, n=5_000)
    fit = glm.fit_glm(y, X, off, "negbin")
    assert "score_obs" not in fit
    groups = np.arange(y.size) % 25
    theta = fit["theta"]
    mu = fit["mu"]
    S = X * (theta * (y - mu) / (mu + theta))[:, None]
    G = np.column_stack([np.bincount(groups, weights=c) for c in S.T])
    bread = np.linalg.inv(fit["info"])
    n, p = X.shape
    expected = 25 / 24 * (n - 1) / (n - p) * bread @ (G.T @ G) @ bread
    np.testing.assert_allclose(glm.cluster_vcov(fit, groups), expected, rtol=1e-10)


def _general_fit(monkeypatch, y, X, off, family):
    """fit_glm without the grouped path (sums by row pattern): the per-row computations throughout."""
    with monkeypatch.context() as m:
        m.setattr(glm._Grouped, "usable", staticmethod(lambda rows, offset: False))
        return glm.fit_glm(y, X, off, family)


@pytest.mark.parametrize("seed,theta,family,intercept_only,sort", [
    (31, 0.4, "negbin", False, False), (32, 1.5, "negbin", False, True), (33, 8.0, "negbin", False, False),
    (34, 1.5, "negbin", True, False), (35, 60.0, "negbin", False, False), (38, 1e9, "negbin", False, False),
    (40, 1.5, "poisson", False, False), (41, 1.5, "poisson", True, False)])
def test_grouped_path_gives_the_per_row_answers(monkeypatch, seed, theta, family, intercept_only, sort):
    # SIMULATED (see _nb_data): theta = 1e9 gives Poisson-like counts whose ML of theta is at the boundary with
    # seed 38; theta = 60 runs the large-theta forms (the grouped NB path hands over to the per-row one)
    y, X, off = _nb_data(seed, theta=theta)
    if intercept_only:
        X = X[:, :1].copy()
    if sort:                                         # rows already in pattern order: no permutation needed
        order = np.lexsort(X.T[::-1])
        y, X, off = y[order], X[order], off[order]
    assert glm.DesignRows(X).grouped(glm.as_counts(y), off) is not None
    fast = glm.fit_glm(y, X, off, family)
    plain = _general_fit(monkeypatch, y, X, off, family)
    np.testing.assert_allclose(fast["beta"], plain["beta"], rtol=0, atol=1e-9)
    np.testing.assert_allclose(fast["vcov"], plain["vcov"], rtol=1e-8)
    np.testing.assert_allclose(fast["mu"], plain["mu"], rtol=1e-8)
    assert fast["loglik"] == pytest.approx(plain["loglik"], rel=1e-13)
    assert fast["converged"] and plain["converged"]
    if family == "negbin":
        assert fast["theta_at_boundary"] == plain["theta_at_boundary"]
        assert fast["theta_at_boundary"] == (theta > 1e8)
        assert fast["log_theta"] == pytest.approx(plain["log_theta"], abs=1e-8)
        assert fast["poisson_loglik"] == pytest.approx(plain["poisson_loglik"], rel=1e-13)
        if not fast["theta_at_boundary"]:
            assert fast["theta_se"] == pytest.approx(plain["theta_se"], rel=1e-7)


def test_grouped_path_is_not_used_when_offsets_span_too_much():
    # exp(offset - max) would underflow for some rows: the per-row path is used
    y, X, off = _nb_data(39)
    off = off.copy()
    off[0] -= 700.0
    assert glm.DesignRows(X).grouped(glm.as_counts(y), off) is None


def test_design_rows_of_a_column_subset_equal_the_plain_products():
    # SIMULATED factor design (seed 4): the reduced model's rows are derived from the full design's patterns
    rng = np.random.default_rng(4)
    X = _factor_design(rng, 20_000)
    keep = [0, 8, 9]
    sub = glm.DesignRows(X).columns(keep)
    Xs = X[:, keep]
    assert sub.P is not None and sub.k == 3
    np.testing.assert_array_equal(sub.P[sub.index], Xs)
    beta, r, w = rng.normal(size=3), rng.normal(size=20_000), rng.uniform(size=20_000)
    np.testing.assert_allclose(sub.lin(beta), Xs @ beta, rtol=1e-13, atol=1e-13)
    np.testing.assert_allclose(sub.tmul(r), Xs.T @ r, rtol=1e-10, atol=1e-9)
    np.testing.assert_allclose(sub.gram(w), Xs.T @ (Xs * w[:, None]), rtol=1e-11)
    Xc = np.column_stack([X, rng.normal(size=20_000)])
    plain = glm.DesignRows(Xc)                     # no patterns: the subset is hashed afresh
    assert plain.P is None and plain.columns([0, 10]).P is None
    sub = plain.columns([0, 1])
    assert sub.P is not None
    np.testing.assert_array_equal(sub.P[sub.index], Xc[:, [0, 1]])


def test_grouped_nb_path_runs_for_moderate_theta():
    # the grouped NB2 Newton itself converges (it does not hand over) when theta < 10; SIMULATED, seed 32
    y, X, off = _nb_data(32, theta=1.5)
    yc, rows = glm.as_counts(y), glm.DesignRows(X)
    pois = glm._irls(yc, X, off, "poisson", max_iter=200, tol=1e-12, start=None, rows=rows)
    path = glm._newton_negbin_grouped(yc, rows, rows.grouped(yc, off), off, pois["beta"], max_iter=200, tol=1e-12)
    assert isinstance(path, glm._Path) and path.converged
    joint = glm._newton_negbin(yc, rows, off, pois["beta"], max_iter=200, tol=1e-12)
    np.testing.assert_allclose(path.beta, joint.beta, rtol=0, atol=1e-9)
    assert path.loglik == pytest.approx(joint.loglik, rel=1e-13)


def test_front_door_lr_test_equals_the_per_row_fits(monkeypatch):
    # SIMULATED posts (seed 51): 8 departments, NB2 with theta = 1.2 and a log-reach offset; the front door reuses
    # the full design's patterns for the reduced model; compare with two independent per-row fits
    import pandas as pd
    import toolkit as tk
    rng = np.random.default_rng(51)
    n = 12_000
    dept = rng.integers(0, 8, n)
    reach = np.round(rng.lognormal(np.log(2000.0), 0.8, n)) + 1.0
    mu = reach * 0.01 * np.exp(0.05 * dept)
    likes = rng.negative_binomial(1.2, 1.2 / (1.2 + mu)).astype(float)
    data = pd.DataFrame({"department": pd.Categorical.from_codes(dept, [f"d{j}" for j in range(8)]),
                         "reach": reach, "likes": likes})
    m = tk.fit_engagement_model(data, dv="likes", between="department", exposure="reach")
    X = np.zeros((n, 8))
    X[:, 0] = 1.0
    X[dept > 0, dept[dept > 0]] = 1.0
    full = _general_fit(monkeypatch, likes, X, np.log(reach), "negbin")
    reduced = _general_fit(monkeypatch, likes, X[:, :1].copy(), np.log(reach), "negbin")
    np.testing.assert_allclose(m.coefficients["estimate"].to_numpy(), full["beta"], rtol=0, atol=1e-9)
    assert m.loglik == pytest.approx(full["loglik"], rel=1e-13)
    assert m.test["statistic"].iloc[0] == pytest.approx(2 * (full["loglik"] - reduced["loglik"]), rel=1e-8)
    assert m.fit_statistics["theta"].iloc[0] == pytest.approx(full["theta"], rel=1e-8)


@pytest.mark.parametrize("kind", ["keyword", "keyword_factor", "formula", "formula_interaction"])
def test_design_builders_patterns_are_the_rows_of_x(kind):
    # the distinct rows the design builders hand to the GLM engine (not checked again there) are exact;
    # SIMULATED posts, seed 52
    import pandas as pd
    from toolkit.models._design import build_design, build_formula_design
    rng = np.random.default_rng(52)
    n = 6_000
    data = pd.DataFrame({"department": rng.choice(["PR", "Marketing", "Sales"], n),
                         "post_type": rng.choice(["video", "photo"], n),
                         "reach": rng.integers(100, 5000, n).astype(float),
                         "likes": rng.poisson(5.0, n).astype(float)})
    if kind == "keyword":
        d = build_design(data, dv="likes", between="department", exposure="reach")
    elif kind == "keyword_factor":
        d = build_design(data, dv="likes", between="department", exposure="reach", covar=["post_type"])
    elif kind == "formula":
        d = build_formula_design(data, formula="likes ~ department + post_type + offset(log(reach))")
    else:
        d = build_formula_design(data, formula="likes ~ department * post_type + offset(log(reach))")
    X, index, P = d.cache["patterns"]
    assert X is d.X
    np.testing.assert_array_equal(P[index], d.X)
    rows = glm.DesignRows.from_patterns(X, index, P)
    assert rows.P is not None
    np.testing.assert_array_equal(rows.P[rows.index], d.X)


def test_front_door_keeps_no_engine_arrays_on_the_design():
    # the counts / rows views made for the full and reduced fits are dropped once both fits are done
    import pandas as pd
    import toolkit as tk
    rng = np.random.default_rng(53)
    n = 4_000
    data = pd.DataFrame({"department": rng.choice(["PR", "Marketing"], n), "likes": rng.poisson(3.0, n)})
    m = tk.fit_engagement_model(data, dv="likes", between="department", family="poisson")
    assert set(m.raw["design"].cache) <= {"patterns"}
    from toolkit.models.terms import term_tests
    term_tests(m)                                    # refits of other column sets keep nothing either
    assert set(m.raw["design"].cache) <= {"patterns"}


@pytest.mark.parametrize("formula", ["likes ~ department + post_type", "likes ~ department * post_type"])
def test_formula_design_level_codes_match_the_membership(formula):
    # the formula path's between_codes (from the distinct rows) say what the membership matrix says; SIMULATED, seed 54
    import pandas as pd
    from toolkit.models import separation
    from toolkit.models._design import build_formula_design
    rng = np.random.default_rng(54)
    n = 5_000
    data = pd.DataFrame({"department": rng.choice(["PR", "Marketing", "Sales", "HR"], n),
                         "post_type": rng.choice(["video", "photo"], n), "likes": rng.poisson(2.0, n)})
    data.loc[data["department"] == "HR", "likes"] = 0                 # a zero-event level
    d = build_formula_design(data, formula=formula)
    assert d.between_codes is not None
    M = separation.membership(d)
    np.testing.assert_array_equal(M[np.arange(n), d.between_codes], 1.0)
    found = separation.zero_event_levels(d)
    assert [z["level"] for z in found] == ["HR"]
    assert found[0]["n_posts"] == int((data["department"] == "HR").sum())
