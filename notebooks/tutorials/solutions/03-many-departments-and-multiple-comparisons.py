# Solutions to the exercises of notebooks/tutorials/03-many-departments-and-multiple-comparisons.ipynb.
# scripts/run_notebooks.py inserts each block after the check cell of its exercise (see ../README.md).

# %% exercise-1
n_holm = int((dunn_holm["p_adjusted"] < alpha).sum())
n_bh = int((dunn_bh["p_adjusted"] < alpha).sum())
# BH can never call fewer pairs different: for the i-th smallest of m p-values Holm multiplies by at least
# m - i + 1 and BH by at most m / i, and m / i <= m - i + 1 for every i = 1..m.
bh_can_call_fewer = False
print(f"Holm: {n_holm} of 36 pairs; BH: {n_bh} of 36 pairs")

# %% exercise-2
my_holm_8 = tk.adjust_pvalues(vs_reference["p_value"], p_adjust="holm")
# Holm multiplies each p by the number of hypotheses still in play, so a family of 8 never gives a larger
# adjusted p than the family of 36. The raw p-values are identical: Dunn ranks all posts of all sellers
# either way.
never_larger = True
pd.DataFrame({"pair": vs_reference["group_a"] + " vs " + vs_reference["group_b"],
              "holm_family_8": my_holm_8, "raw_p": vs_reference["p_value"]})
