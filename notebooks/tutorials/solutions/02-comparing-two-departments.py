# Solutions to the exercises of notebooks/tutorials/02-comparing-two-departments.ipynb.
# scripts/run_notebooks.py inserts each block after the check cell of its exercise (see ../README.md);
# the names used (accounts, np, ...) are those of the tutorial.

# %% exercise-1
rates = accounts.set_index("department")["rate_per_1000"]
my_difference = rates.loc["Customer service"].mean() - rates.loc["Marketing"].mean()
my_difference

# %% exercise-2
a = rates.loc["Customer service"].to_numpy()
b = rates.loc["Marketing"].to_numpy()
pair_signs = np.sign(a[:, None] - b[None, :])  # +1 where the Customer-service account wins, -1 where it loses
my_delta = pair_signs.mean()
my_delta
