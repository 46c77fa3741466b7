"""Write tests/reference/models/simulated_organization.csv (SIMULATED data, not real posts).

Run from the project root: .venv/bin/python tests/reference/models/make_simulated.py
Truth: toolkit.simulate_organization defaults (comments rate ratios in DEFAULT_RATE_RATIOS, base rate
0.003 per reached user, NB2 alpha 0.8 i.e. theta 1.25, account SD 0.3 shared + 0.1 type-specific),
with 8 accounts per department, 45 posts per account on average, no mixed-team posts, seed 20261121.
"""
import toolkit as tk

SEED = 20261121
sim = tk.simulate_organization(n_accounts_per_department=8, posts_per_account=45, mixed_share=0.0, seed=SEED)
d = sim.data[["post_id", "account", "department", "content_type", "reach", "comments"]].copy()
d["department_order"] = d["department"].cat.codes + 1
d.to_csv("tests/reference/models/simulated_organization.csv", index=False)
truth = sim.parameters
truth[truth["engagement_type"].isin(["comments", "all", ""]) | truth["engagement_type"].isna()].to_csv(
    "tests/reference/models/simulated_organization_truth.csv", index=False)
print(len(d), "posts,", d["account"].nunique(), "accounts")

# Zero-inflated organisation for the zero models (SIMULATED): 3 departments x 20 accounts x 40 posts,
# comments with structural-zero probability 0.3, base rate 0.01 per reached user, seed 20261122.
SEED_ZI = 20261122
zi = tk.simulate_organization(n_accounts_per_department=20, posts_per_account=40, departments=["Marketing", "PR", "IT"],
                              rate_ratios={"comments": {"PR": 1.5, "IT": 0.7}}, base_rates={"comments": 0.01},
                              zero_inflation={"comments": 0.3}, random_effect_sd=0.0, type_effect_sd=0.0,
                              content_effects="null", paid_rate_ratio=1.0, mixed_share=0.0, seed=SEED_ZI)
z = zi.data[["post_id", "account", "department", "reach", "comments"]].copy()
z["department_order"] = z["department"].cat.codes + 1
z.to_csv("tests/reference/models/simulated_zero_inflated.csv", index=False)
print(len(z), "posts,", int((z["comments"] == 0).sum()), "zeros (zero-inflated file)")
