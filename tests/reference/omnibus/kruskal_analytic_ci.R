# Reference values for tk.kruskal(effsize_ci="analytic"): the epsilon-squared interval as the eta-squared
# interval of the one-way ANOVA on mid-ranks (rank transform, Conover & Iman 1981; Steiger 2004 inversion).
# Run from the project root:
#   Rscript tests/reference/omnibus/kruskal_analytic_ci.R > tests/reference/omnibus/kruskal_analytic_ci_output.txt
# Writes tests/reference/omnibus/kruskal_analytic_ci.csv and mtcars_mpg_cyl.csv (reads insectsprays.csv written by
# omnibus.R; PlantGrowth is also in tests/reference/pairwise/plantgrowth.csv).
out_dir <- "tests/reference/omnibus"

ncp_limit <- function(f, df1, df2, target) {
  g <- function(lam) pf(f, df1, df2, ncp = lam) - target
  if (g(0) <= 0) return(0)
  hi <- max(10, 2 * f * df1)
  while (g(hi) > 0) hi <- hi * 2
  uniroot(g, c(0, hi), tol = 1e-12)$root
}

rows <- list()
run <- function(dataset, y, g, level) {
  g <- factor(g)
  N <- length(y); k <- nlevels(g)
  kw <- kruskal.test(y ~ g)
  H <- unname(kw$statistic)
  eps2 <- H / ((N^2 - 1) / (N + 1))
  r <- rank(y)                                   # mid-ranks for ties
  ow <- oneway.test(r ~ g, var.equal = TRUE)     # ANOVA on ranks
  F <- unname(ow$statistic); df1 <- unname(ow$parameter[1]); df2 <- unname(ow$parameter[2])
  fit <- anova(lm(r ~ g))
  eta2_rank <- fit[["Sum Sq"]][1] / sum(fit[["Sum Sq"]])
  a <- 1 - level
  lo <- ncp_limit(F, df1, df2, 1 - a / 2); hi <- ncp_limit(F, df1, df2, a / 2)
  rows[[length(rows) + 1]] <<- data.frame(
    dataset = dataset, confidence_level = level, H = sprintf("%.17g", H), epsilon_squared = sprintf("%.17g", eps2),
    eta_squared_ranks = sprintf("%.17g", eta2_rank), F_ranks = sprintf("%.17g", F),
    ci_low = sprintf("%.17g", lo / (lo + N)), ci_high = sprintf("%.17g", hi / (hi + N)), stringsAsFactors = FALSE)
}

ins <- read.csv(file.path(out_dir, "insectsprays.csv"))
run("insectsprays", ins$count, ins$spray, 0.95)
run("insectsprays", ins$count, ins$spray, 0.90)
# PlantGrowth (Dobson 1983), R datasets: 30 weights, 3 groups, no ties
run("plantgrowth", PlantGrowth$weight, PlantGrowth$group, 0.95)
# mtcars (Henderson & Velleman 1981): mpg by cylinders, a large effect with ties; written for the Python test
write.csv(data.frame(mpg = mtcars$mpg, cyl = mtcars$cyl), file.path(out_dir, "mtcars_mpg_cyl.csv"), row.names = FALSE)
run("mtcars_mpg_by_cyl", mtcars$mpg, mtcars$cyl, 0.95)

out <- do.call(rbind, rows)
write.csv(out, file.path(out_dir, "kruskal_analytic_ci.csv"), row.names = FALSE)
print(out)
print(R.version.string)
