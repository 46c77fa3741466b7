# Solutions to the exercises of notebooks/tutorials/08-how-many-accounts.ipynb.
# scripts/run_notebooks.py inserts each block after the check cell of its exercise (see ../README.md).

# %% exercise-1
three = dict(design, departments=departments[:3])
hits = 0
for i in range(n_replicates):
    sim = tk.simulate_organization(n_accounts_per_department=3, rate_ratios="null", seed=seed + 5000 + i, **three)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", tk.ToolkitWarning)
        r = tk.compare_groups(sim.data, dv="comments", between="department", subject="account", exposure="reach",
                              seed=seed + i)
    hits += int(r.omnibus["p_value"].iloc[0] < alpha)
fpr_3x3 = hits / n_replicates
print(f"3 x 3: false-positive rate {fpr_3x3:.2f} (MC SE {np.sqrt(fpr_3x3 * (1 - fpr_3x3) / n_replicates):.2f})")

# %% exercise-2
min_p = r2.design.set_index("check").loc["smallest achievable p-value", "value"]
# 4!/(2! 2!) = 6 assignments of the labels, and swapping the two labels gives the same split: 3 splits, so the
# observed split is at least 1 of 3 equally likely ones under the null: p >= 1/3 > 0.05 whatever the data.
n_splits = 3
min_p
