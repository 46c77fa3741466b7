"""Tests for toolkit.stats.multitest.adjust_pvalues (reference: R 4.2.2 p.adjust)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from toolkit.stats.multitest import P_ADJUST_METHODS, adjust_pvalues

REF = Path(__file__).parent / "reference" / "pairwise"
R_NAMES = {"holm": "holm", "bonferroni": "bonferroni", "hochberg": "hochberg", "hommel": "hommel",
           "fdr_bh": "BH", "fdr_by": "BY", "none": "none"}


def _r_table():
    return pd.read_csv(REF / "p_adjust.csv")


@pytest.mark.parametrize("method", P_ADJUST_METHODS)
def test_matches_r_p_adjust(method):
    table = _r_table()
    vectors = table["vector"].unique()
    assert len(vectors) == 7
    for vec in vectors:
        sub = table[(table["vector"] == vec) & (table["method"] == R_NAMES[method])].sort_values("index")
        assert len(sub) > 0
        got = adjust_pvalues(sub["p"].to_numpy(), p_adjust=method)
        # Same arithmetic as R (products and cumulative min/max of doubles): agreement to a few ulps;
        # rtol 1e-12 leaves room for the order of floating-point operations, atol 0 so 1e-300 counts.
        assert_allclose(got, sub["p_adjusted"].to_numpy(), rtol=1e-12, atol=0, equal_nan=True,
                        err_msg=f"{method} on vector {vec!r}")


def test_nan_kept_in_place_and_excluded_from_family():
    p = np.array([0.04, np.nan, 0.001, 0.2, np.nan, 0.03, 0.011])
    got = adjust_pvalues(p, p_adjust="bonferroni")
    assert np.isnan(got[[1, 4]]).all()
    # family size is the 5 non-missing p-values
    assert_allclose(got[[0, 2, 3, 5, 6]], np.minimum(1, 5 * p[[0, 2, 3, 5, 6]]))


@pytest.mark.parametrize("method", P_ADJUST_METHODS)
def test_adjusted_at_least_raw_and_at_most_one(method, rng):
    p = rng.uniform(size=200) ** 3
    got = adjust_pvalues(p, p_adjust=method)
    assert (got >= p - 1e-15).all() and (got <= 1).all()
    # order-preserving: a smaller raw p never gets a larger adjusted p
    order = np.argsort(p)
    assert (np.diff(got[order]) >= -1e-15).all()


def test_permutation_invariance(rng):
    p = rng.uniform(size=30) ** 2
    perm = rng.permutation(30)
    for method in P_ADJUST_METHODS:
        assert_allclose(adjust_pvalues(p[perm], p_adjust=method), adjust_pvalues(p, p_adjust=method)[perm])


def test_accepts_series_and_scalar():
    s = pd.Series([0.01, 0.04], index=["a", "b"])
    assert_allclose(adjust_pvalues(s, p_adjust="holm"), [0.02, 0.04])
    assert_allclose(adjust_pvalues(0.3, p_adjust="bonferroni"), [0.3])
    assert adjust_pvalues([], p_adjust="holm").shape == (0,)


@pytest.mark.parametrize("bad, suggestion", [("BH", "fdr_bh"), ("BY", "fdr_by"), ("fdr", "fdr_bh"),
                                             ("Holm", "holm"), ("bonferonni", "bonferroni"),
                                             ("hochburg", "hochberg")])
def test_did_you_mean(bad, suggestion):
    with pytest.raises(ValueError, match=rf"adjust_pvalues: `p_adjust` must be one of .*; got '{bad}'\. "
                                         rf"Did you mean '{suggestion}'\?"):
        adjust_pvalues([0.1, 0.2], p_adjust=bad)


def test_bad_inputs():
    with pytest.raises(TypeError, match="adjust_pvalues: `p_adjust` must be one of"):
        adjust_pvalues([0.1], p_adjust=None)
    with pytest.raises(ValueError, match=r"`p` must be p-values between 0 and 1.*1\.5"):
        adjust_pvalues([0.1, 1.5])
    with pytest.raises(ValueError, match="one-dimensional"):
        adjust_pvalues(np.ones((2, 2)) / 2)
    with pytest.raises(TypeError, match="adjust_pvalues: `p` must be"):
        adjust_pvalues("0.1")
    with pytest.raises(TypeError, match="adjust_pvalues: `p` must be"):
        adjust_pvalues(["a", "b"])


def test_method_keyword_only():
    with pytest.raises(TypeError):
        adjust_pvalues([0.1, 0.2], "holm")
