"""Write tests/reference/models_formula/simulated_nested.csv (SIMULATED data, not real posts).

Run from the project root: .venv/bin/python tests/reference/models_formula/make_nested.py
Accounts nested in departments, for the model comments ~ 1 + offset(log(reach)) + (1 | department) +
(1 | department:account). Truth (written to simulated_nested_truth.csv): 15 departments D01..D15 whose comment
rate ratios against D01 are exp(N(0, 0.4^2)) draws (numpy default_rng(SEED_DEPT)), 5 accounts per department
(account SD 0.3 shared + 0.1 type-specific, toolkit defaults), 30 posts per account on average, base rate 0.003
comments per reached user, NB2 alpha 0.8 (theta 1.25), no mixed-team posts; simulate_organization seed SEED.
"""
import numpy as np
import pandas as pd

import toolkit as tk

SEED, SEED_DEPT = 20261205, 20261206
departments = [f"D{k:02d}" for k in range(1, 16)]
log_rr = np.random.default_rng(SEED_DEPT).normal(0.0, 0.4, size=len(departments))
log_rr -= log_rr[0]
rr = {d: float(np.exp(v)) for d, v in zip(departments[1:], log_rr[1:])}
sim = tk.simulate_organization(n_accounts_per_department=5, posts_per_account=30, departments=departments,
                               rate_ratios={"comments": rr}, content_effects="null", paid_rate_ratio=1.0,
                               mixed_share=0.0, seed=SEED)
d = sim.data[["post_id", "account", "department", "reach", "comments"]].copy()
d.to_csv("tests/reference/models_formula/simulated_nested.csv", index=False)
pd.DataFrame({"department": departments, "true_log_rate_ratio": log_rr}).to_csv(
    "tests/reference/models_formula/simulated_nested_truth.csv", index=False)
print(len(d), "posts,", d["account"].nunique(), "accounts,", d["department"].nunique(), "departments")
