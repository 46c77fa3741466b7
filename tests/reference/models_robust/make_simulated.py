"""Write tests/reference/models_robust/simulated_few_accounts.csv (SIMULATED data, not real posts).

Run from the project root: .venv/bin/python tests/reference/models_robust/make_simulated.py
Truth: toolkit.simulate_organization with 4 departments (Marketing, PR, Customer service, IT) x 3 accounts,
40 posts per account on average, the default comments rate ratios (DEFAULT_RATE_RATIOS), content effects and
account random effects (SD 0.3 shared + 0.1 type-specific), NB2 alpha 0.8, no mixed-team posts, seed 20261205.
Few accounts per department is the case cluster-robust small-sample corrections are for.
"""
import toolkit as tk

SEED = 20261205
sim = tk.simulate_organization(n_accounts_per_department=3, posts_per_account=40,
                               departments=["Marketing", "PR", "Customer service", "IT"], mixed_share=0.0, seed=SEED)
d = sim.data[["post_id", "account", "department", "content_type", "reach", "comments"]].copy()
d["department_order"] = d["department"].cat.codes + 1
d.to_csv("tests/reference/models_robust/simulated_few_accounts.csv", index=False)
print(len(d), "posts,", d["account"].nunique(), "accounts,", d["department"].nunique(), "departments")
