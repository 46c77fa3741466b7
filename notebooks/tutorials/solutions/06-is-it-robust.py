# Solutions to the exercises of notebooks/tutorials/06-is-it-robust.ipynb.
# scripts/run_notebooks.py inserts each block after the check cell of its exercise (see ../README.md).

# %% exercise-1
share = float(ok["significant"].mean())
print(f"{share:.0%} of {len(ok)} specifications are significant")

# %% exercise-2
directions = sim_ok.groupby("outcome")["direction"].agg(["min", "max"])
comments_all_higher = bool(directions.loc["comments", "min"] == 1.0)
shares_all_lower = bool(directions.loc["shares", "max"] == -1.0)
directions
