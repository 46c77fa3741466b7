"""Shared fixtures: a seeded generator, canonical frames, a headless plotting backend."""
from __future__ import annotations

import os

import matplotlib

matplotlib.use("Agg")  # headless backend set here only, never at toolkit import

import numpy as np
import pandas as pd
import pytest

from toolkit import config


@pytest.fixture
def rng():
    return np.random.default_rng(20261121)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    import matplotlib.pyplot as plt

    plt.close("all")


def _posts(rng, n_per=30, departments=("Marketing", "PR", "Customer service")):
    rows = []
    for d_i, dept in enumerate(departments):
        likes = rng.negative_binomial(2, 2 / (2 + 20 * (1 + d_i)), size=n_per)
        rows.append(pd.DataFrame({
            "post_id": [f"{dept[:2]}-{i}" for i in range(n_per)],
            "account": [f"{dept[:2]}-acct-{i % 3}" for i in range(n_per)],
            "department": dept,
            "reach": rng.integers(500, 5000, size=n_per),
            "likes": likes,
            "comments": rng.poisson(2 + d_i, size=n_per),
        }))
    out = pd.concat(rows, ignore_index=True)
    out["department"] = config.ordered_categorical(out["department"], config.DEPARTMENTS)
    return out


@pytest.fixture
def posts_long(rng):
    """Canonical long-form posts: 3 departments × 30 posts, 3 accounts each (hand-made, seeded)."""
    return _posts(rng)


@pytest.fixture
def posts_with_nan(posts_long):
    out = posts_long.copy()
    out.loc[[0, 5, 40], "likes"] = np.nan
    return out


@pytest.fixture
def posts_wide(posts_long):
    """Wide form (one column per department) — the shape functions must refuse with a hint."""
    return posts_long.pivot_table(index=posts_long.groupby("department", observed=True).cumcount(),
                                  columns="department", values="likes", observed=True)


def mirror_available() -> bool:
    path = os.environ.get(config.MIRROR_ENV)
    return bool(path) and os.path.isdir(path)


requires_mirror = pytest.mark.skipif(not mirror_available(),
                                     reason="real datasets need TOOLKIT_DATA_MIRROR (make test sets it)")
