# Solutions to the exercises of notebooks/tutorials/10-models-by-formula.ipynb.
# scripts/run_notebooks.py inserts each block after the check cell of its exercise (see ../README.md).

# %% exercise-1
c = within.contrasts
row = c[(c["by_level"] == "True") & (c["group_a"] == "photo") & (c["group_b"] == "link")]
paid_photo_vs_link = row["rate_ratio"].iloc[0]
paid_photo_vs_link
