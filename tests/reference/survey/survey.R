# Reference values for toolkit/survey.py (tests/test_survey.py).
# Run from the project root:  Rscript tests/reference/survey/survey.R > tests/reference/survey/survey_output.txt
# Writes tests/reference/survey/survey_reference.csv: case, quantity, value (sprintf("%.17g")).
out <- list()
add <- function(case, quantity, value) {
  out[[length(out) + 1]] <<- data.frame(case = case, quantity = quantity, value = sprintf("%.17g", value))
}

# ---- 1. single proportions: Wilson, Wilson cc, Clopper-Pearson (base R) ---------------------------
props <- list(c(20, 100), c(0, 50), c(50, 50), c(1, 10), c(7, 23), c(81, 263), c(3, 1000), c(12, 25), c(10, 20))
for (cl in c(0.95, 0.90)) {
  for (xn in props) {
    x <- xn[1]; n <- xn[2]
    case <- sprintf("prop_x%d_n%d_cl%.2f", x, n, cl)
    w <- prop.test(x, n, correct = FALSE, conf.level = cl)$conf.int
    wc <- prop.test(x, n, correct = TRUE, conf.level = cl)$conf.int
    cp <- binom.test(x, n, conf.level = cl)$conf.int
    # Agresti-Coull (2006 Am Stat 52:119) written from the formula: no base-R function.
    z <- qnorm(1 - (1 - cl) / 2); nt <- n + z^2; pt <- (x + z^2 / 2) / nt
    ac <- c(max(0, pt - z * sqrt(pt * (1 - pt) / nt)), min(1, pt + z * sqrt(pt * (1 - pt) / nt)))
    add(case, "wilson_low", w[1]); add(case, "wilson_high", w[2])
    add(case, "wilson_cc_low", wc[1]); add(case, "wilson_cc_high", wc[2])
    add(case, "clopper_pearson_low", cp[1]); add(case, "clopper_pearson_high", cp[2])
    add(case, "agresti_coull_low", ac[1]); add(case, "agresti_coull_high", ac[2])
  }
}

# ---- 2. Goodman (1965) simultaneous intervals, written from the formula ----------------------------
# A = qchisq(1 - alpha/k, 1); limits (A + 2x -/+ sqrt(A (A + 4 x (n - x) / n))) / (2 (n + A))
goodman_counts <- c(35, 25, 20, 12, 8)
n <- sum(goodman_counts); k <- length(goodman_counts); A <- qchisq(1 - 0.05 / k, 1)
for (j in seq_len(k)) {
  x <- goodman_counts[j]
  d <- sqrt(A * (A + 4 * x * (n - x) / n))
  add(sprintf("goodman_option%d", j), "low", (A + 2 * x - d) / (2 * (n + A)))
  add(sprintf("goodman_option%d", j), "high", (A + 2 * x + d) / (2 * (n + A)))
}

# ---- 3. goodness of fit: chisq.test ----------------------------------------------------------------
g1 <- chisq.test(c(35, 25, 20, 12, 8))
add("gof_uniform", "statistic", g1$statistic); add("gof_uniform", "df", g1$parameter)
add("gof_uniform", "p_value", g1$p.value)
g2 <- chisq.test(c(45, 30, 15, 10), p = c(0.4, 0.3, 0.2, 0.1))
add("gof_expected", "statistic", g2$statistic); add("gof_expected", "df", g2$parameter)
add("gof_expected", "p_value", g2$p.value)
set.seed(20261121)
g3 <- suppressWarnings(chisq.test(c(6, 2, 1, 1), simulate.p.value = TRUE, B = 100000))
g3a <- suppressWarnings(chisq.test(c(6, 2, 1, 1)))
add("gof_small", "statistic", g3$statistic); add("gof_small", "p_value_asymptotic", g3a$p.value)
add("gof_small", "p_value_monte_carlo_B100000", g3$p.value)

# ---- 4. two polls: chisq.test homogeneity (no correction) and per-option prop.test --------------------
a <- c(35, 25, 20, 12, 8); b <- c(28, 30, 15, 17, 10)
h <- chisq.test(rbind(a, b), correct = FALSE)
add("homogeneity", "statistic", h$statistic); add("homogeneity", "df", h$parameter)
add("homogeneity", "p_value", h$p.value)
praw <- sapply(seq_along(a), function(j) prop.test(c(a[j], b[j]), c(sum(a), sum(b)), correct = FALSE)$p.value)
padj <- p.adjust(praw, method = "holm")
for (j in seq_along(a)) {
  add(sprintf("homogeneity_option%d", j), "p_value", praw[j])
  add(sprintf("homogeneity_option%d", j), "p_adjusted_holm", padj[j])
}

# ---- 5. Newcombe (1998) method 10 (hybrid score), written from the paper's formulas ------------------
# L = d - sqrt((p1 - l1)^2 + (u2 - p2)^2), U = d + sqrt((u1 - p1)^2 + (p2 - l2)^2), (l_i, u_i) Wilson.
wilson <- function(x, n, cl) {
  z <- qnorm(1 - (1 - cl) / 2); p <- x / n
  c((2 * x + z^2 - z * sqrt(z^2 + 4 * x * (1 - p))) / (2 * (n + z^2)),
    (2 * x + z^2 + z * sqrt(z^2 + 4 * x * (1 - p))) / (2 * (n + z^2)))
}
newcombe_examples <- list(a = c(56, 70, 48, 80), b = c(9, 10, 3, 10), c = c(6, 7, 2, 7), d = c(5, 56, 0, 29),
                          e = c(0, 10, 0, 20), f = c(0, 10, 0, 10), g = c(10, 10, 0, 20), h = c(10, 10, 0, 10))
for (nm in names(newcombe_examples)) {
  v <- newcombe_examples[[nm]]
  for (cl in c(0.95, 0.90)) {
    w1 <- wilson(v[1], v[2], cl); w2 <- wilson(v[3], v[4], cl)
    # cross-check of the Wilson helper against prop.test
    stopifnot(abs(w1 - prop.test(v[1], v[2], correct = FALSE, conf.level = cl)$conf.int) < 1e-12)
    p1 <- v[1] / v[2]; p2 <- v[3] / v[4]; d <- p1 - p2
    case <- sprintf("newcombe_%s_cl%.2f", nm, cl)
    add(case, "difference", d)
    add(case, "low", d - sqrt((p1 - w1[1])^2 + (w2[2] - p2)^2))
    add(case, "high", d + sqrt((w1[2] - p1)^2 + (p2 - w2[1])^2))
  }
}

# ---- 6. McNemar: Agresti (2002) Table 10.1, presidential approval 794/150/86/570 ----------------------
m <- matrix(c(794, 86, 150, 570), nrow = 2)
mc <- mcnemar.test(m, correct = TRUE); mn <- mcnemar.test(m, correct = FALSE); mb <- binom.test(150, 236)
add("mcnemar_agresti", "statistic_cc", mc$statistic); add("mcnemar_agresti", "p_value_cc", mc$p.value)
add("mcnemar_agresti", "statistic", mn$statistic); add("mcnemar_agresti", "p_value", mn$p.value)
add("mcnemar_agresti", "p_value_exact", mb$p.value)

# ---- 7. Cochran's Q: rstatix::cochran_qtest on a fixed 0/1 data set (also written to CSV) --------------
suppressPackageStartupMessages(library(rstatix))
mr <- data.frame(
  id = 1:15,
  marketing = c(1, 1, 0, 1, 1, 0, 1, 1, 1, 0, 1, 1, 0, 1, 1),
  pr        = c(1, 0, 0, 1, 0, 0, 1, 0, 1, 0, 0, 1, 0, 0, 1),
  it        = c(0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0))
write.csv(mr, "tests/reference/survey/multiple_response.csv", row.names = FALSE)
long <- data.frame(id = factor(rep(mr$id, 3)), option = factor(rep(c("marketing", "pr", "it"), each = 15)),
                   chosen = c(mr$marketing, mr$pr, mr$it))
cq <- cochran_qtest(long, chosen ~ option | id)
add("cochran_q", "statistic", cq$statistic); add("cochran_q", "df", cq$df); add("cochran_q", "p_value", cq$p)
mpr <- mcnemar.test(table(factor(mr$marketing, 0:1), factor(mr$pr, 0:1)), correct = TRUE)
add("mcnemar_marketing_pr", "statistic_cc", mpr$statistic); add("mcnemar_marketing_pr", "p_value_cc", mpr$p.value)

# ---- 8. sample size for two independent proportions: power.prop.test ---------------------------------
pp <- power.prop.test(p1 = 0.35, p2 = 0.25, power = 0.8, sig.level = 0.05)
add("power_prop_35_25", "n_per_group", pp$n)

res <- do.call(rbind, out)
write.csv(res, "tests/reference/survey/survey_reference.csv", row.names = FALSE, quote = FALSE)
cat(R.version.string, "\n"); cat("rstatix", as.character(packageVersion("rstatix")), "\n")
print(res, right = FALSE)
