# Solutions to the exercises of notebooks/tutorials/07-planning-a-study.ipynb.
# scripts/run_notebooks.py inserts each block after the check cell of its exercise (see ../README.md).

# %% exercise-1
ns = np.arange(50, 2001, 50)
powers = np.array([power.power_two_rates(rate_a=base_rate * rate_ratio, rate_b=base_rate, exposure_a=500,
                                         n_a=int(n), dispersion=dispersion)["power"].iloc[0] for n in ns])
n_needed = int(ns[np.argmax(powers >= 0.8)])
n_needed

# %% exercise-2
# more posts from the same single accounts do not remove the false positives
null48 = power.simulate_power(rate_ratio=1.0, n_accounts_per_department={"Marketing": 1, "HR": 1},
                              posts_per_account=48, posts_distribution="fixed", random_effect_sd=random_effect_sd,
                              dispersion=dispersion, base_rate=base_rate, analysis="negbin_glm",
                              n_replicates=n_replicates, seed=seed + 3, n_jobs=n_jobs)
more_posts_fix_it = bool(null48["ci_low"].iloc[0] <= 0.05)  # False: the rate stays clearly above alpha
pd.concat([null12.assign(posts=12), null48.assign(posts=48)])[["posts", "power", "mc_se", "ci_low", "ci_high"]]
