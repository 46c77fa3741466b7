# Solutions to the exercises of notebooks/tutorials/05-posts-nested-in-accounts.ipynb.
# scripts/run_notebooks.py inserts each block after the check cell of its exercise (see ../README.md).

# %% exercise-1
icc = nest["icc"].iloc[0]
m = nest["mean_posts_per_account"].iloc[0]
cv = nest["cv_posts_per_account"].iloc[0]
my_design_effect = 1 + ((cv ** 2 + 1) * m - 1) * icc  # Eldridge, Ashby & Kerry (2006), unequal cluster sizes
my_effective_n = nest["n_posts"].iloc[0] / my_design_effect
my_design_effect, my_effective_n
