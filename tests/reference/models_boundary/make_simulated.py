"""Write the SIMULATED data sets of tests/reference/models_boundary/ (not real posts).

Run from the project root: .venv/bin/python tests/reference/models_boundary/make_simulated.py

The reviewer's scenario: Poisson counts with NO department effect and NO overdispersion, 4 departments
(Marketing, PR, IT, Sales) with 50-200 posts each (uniform integer), reach lognormal (median 1,000,
log-SD 1, rounded, + 1), comments ~ Poisson(0.003 * reach). `tests/test_models_boundary.py` uses the same
generator (`simulate_poisson_no_effect`) for its false-positive study.

* seed 20261124: the NB2 ML of theta is at its boundary (infinity) for the model with and without department;
* seed 20261123: at the boundary with department, interior (finite theta) without it.
"""
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
DEPARTMENTS = ["Marketing", "PR", "IT", "Sales"]


def simulate_poisson_no_effect(rng, *, rate=0.003, departments=DEPARTMENTS):
    """One SIMULATED organisation: Poisson comments, the same rate per reach in every department."""
    rows = []
    for dept in departments:
        n = int(rng.integers(50, 201))
        reach = np.round(rng.lognormal(np.log(1000.0), 1.0, n)).astype(np.int64) + 1
        rows.append(pd.DataFrame({"department": dept, "reach": reach, "comments": rng.poisson(rate * reach)}))
    return pd.concat(rows, ignore_index=True)


if __name__ == "__main__":
    for seed in (20261124, 20261123):
        d = simulate_poisson_no_effect(np.random.default_rng(seed))
        d["department_order"] = d["department"].map({k: i + 1 for i, k in enumerate(DEPARTMENTS)})
        d.to_csv(HERE / f"simulated_poisson_seed{seed}.csv", index=False)
        print(seed, len(d), "posts,", int(d["comments"].sum()), "comments")
