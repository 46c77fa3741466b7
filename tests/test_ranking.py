"""toolkit.stats.ranking: bootstrap draws of a per-group statistic and the rank table made from them."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from toolkit import plots
from toolkit.stats.ranking import bootstrap_draws, rank_table


def test_rank_table_hand_computed():
    # 4 draws, 3 groups; ranks (1 = highest) per draw computed by hand:
    # d0: A=3,B=2,C=1 -> A1 B2 C3 ; d1: A=1,B=3,C=2 -> B1 C2 A3 ; d2: A=5,B=5,C=1 -> A1.5 B1.5 C3
    # d3: A=2,B=1,C=3 -> C1 A2 B3
    d = pd.DataFrame({"draw": np.repeat([0, 1, 2, 3], 3), "group": ["A", "B", "C"] * 4,
                      "value": [3, 2, 1, 1, 3, 2, 5, 5, 1, 2, 1, 3]})
    r = rank_table(d, confidence_level=0.5)
    assert r["group"].tolist() == ["A", "B", "C"]
    assert r["p_best"].tolist() == pytest.approx([1.5 / 4, 1.5 / 4, 1 / 4])
    assert r["p_best"].sum() == pytest.approx(1.0)
    assert r["rank_mean"].tolist() == pytest.approx([(1 + 3 + 1.5 + 2) / 4, (2 + 1 + 1.5 + 3) / 4, (3 + 2 + 3 + 1) / 4])
    # type-1 quantiles at 0.25 / 0.75 of A's sorted ranks [1, 1.5, 2, 3] are 1 and 2
    assert (r.loc[0, "rank_low"], r.loc[0, "rank_high"]) == (1.0, 2.0)
    assert r["estimate"].tolist() == pytest.approx([11 / 4, 11 / 4, 7 / 4])
    low = rank_table(d, higher_is_better=False)
    assert low["p_best"].tolist() == pytest.approx([1 / 4, 1 / 4, 2 / 4])


def test_rank_table_incomplete_draws():
    d = pd.DataFrame({"draw": [0, 0, 1], "group": ["A", "B", "A"], "value": [1.0, 2.0, 3.0]})
    with pytest.raises(ValueError, match="rank_table: `draws` must be complete"):
        rank_table(d)


def test_bootstrap_draws_reproducible_and_centred(posts_long):
    draws = bootstrap_draws(posts_long, x="department", y="likes", n_resamples=300, seed=3)
    assert len(draws) == 300 * 3
    again = bootstrap_draws(posts_long, x="department", y="likes", n_resamples=300, seed=3)
    pd.testing.assert_frame_equal(draws, again)
    r = rank_table(draws)
    # bootstrap means are centred on the sample means
    means = posts_long.groupby("department", observed=True)["likes"].mean()
    assert r["estimate"].to_numpy() == pytest.approx(means[r["group"]].to_numpy(), rel=0.05)


def test_reached_through_plots():
    # notebooks call tk.plots.bootstrap_draws -> tk.plots.rank_table -> tk.plots.plot_ranking
    assert plots.bootstrap_draws is bootstrap_draws and plots.rank_table is rank_table
