# Solutions to the exercises of notebooks/tutorials/09-bring-your-own-export.ipynb.
# scripts/run_notebooks.py inserts each block after the check cell of its exercise (see ../README.md).

# %% exercise-1
has_department = assigned.data["department"].notna()
own_post = ~assigned.data["is_repost"].fillna(False)   # <NA> (the export cannot tell) counts as own
n_usable_posts = int((has_department & own_post).sum())
n_usable_posts
