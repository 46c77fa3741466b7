# Reference values for toolkit.stats.twogroup and toolkit.stats.effect_sizes.
# Run from the project root:
#   TOOLKIT_DATA_MIRROR=/work/shared/datasets Rscript tests/reference/twogroup/twogroup.R
# Writes tests/reference/twogroup/twogroup_reference.csv.
# Convention: x = group_a, y = group_b; every estimate is group_a relative to group_b.
out_dir <- "tests/reference/twogroup"
mirror <- Sys.getenv("TOOLKIT_DATA_MIRROR")
stopifnot(nzchar(mirror))

rows <- list()
add <- function(dataset, test, alternative, name, value) {
  rows[[length(rows) + 1]] <<- data.frame(dataset = dataset, test = test, alternative = alternative,
                                          name = name, value = sprintf("%.17g", value),
                                          stringsAsFactors = FALSE)
}

# --- independent implementations of formulas (not R packages) -------------------------------
# Hedges' g: exact J, CI by noncentral-t inversion (uniroot on pt(ncp=)), limits scaled by J
hedges_g <- function(x, y, level = 0.95) {
  nx <- length(x); ny <- length(y); df <- nx + ny - 2
  sp <- sqrt(((nx - 1) * var(x) + (ny - 1) * var(y)) / df)
  d <- (mean(x) - mean(y)) / sp
  J <- exp(lgamma(df / 2) - lgamma((df - 1) / 2)) / sqrt(df / 2)
  s <- sqrt(nx * ny / (nx + ny)); t <- d * s; a <- 1 - level
  f <- function(ncp, target) pt(t, df, ncp) - target
  lo <- uniroot(f, c(t - 8, t + 8), target = 1 - a / 2, tol = 1e-13)$root
  hi <- uniroot(f, c(t - 8, t + 8), target = a / 2, tol = 1e-13)$root
  c(J * d, J * lo / s, J * hi / s)
}
# Cliff's delta from the full dominance matrix, Cliff (1993) variance, Feng & Cliff (2004) CI
cliff <- function(x, y, level = 0.95) {
  D <- sign(outer(x, y, "-")); nx <- length(x); ny <- length(y)
  d <- mean(D); di <- rowMeans(D); dj <- colMeans(D)
  v <- (ny^2 * sum((di - d)^2) + nx^2 * sum((dj - d)^2) - sum((D - d)^2)) / (nx * ny * (nx - 1) * (ny - 1))
  v <- max(v, (1 - d^2) / (nx * ny - 1)); s <- sqrt(v); z <- qnorm(1 - (1 - level) / 2)
  r <- z * s * sqrt((1 - d^2)^2 + z^2 * s^2); den <- 1 - d^2 + z^2 * s^2
  c(d, (d - d^3 - r) / den, (d - d^3 + r) / den)
}
# Ratio of means: delta method on the log scale, Welch-Satterthwaite df
ratio_means <- function(x, y, level = 0.95) {
  nx <- length(x); ny <- length(y); mx <- mean(x); my <- mean(y)
  vx <- var(x) / (nx * mx^2); vy <- var(y) / (ny * my^2); v <- vx + vy
  nu <- v^2 / (vx^2 / (nx - 1) + vy^2 / (ny - 1)); q <- qt(1 - (1 - level) / 2, nu)
  c(mx / my, exp(log(mx / my) - q * sqrt(v)), exp(log(mx / my) + q * sqrt(v)))
}
# Brunner-Munzel (2000) from the paper's formulas, written out here (no R package used).
# Brunner & Munzel's X is group_b (y) and Y is group_a (x): p = P(b < a) + .5 P(a = b).
brunner_munzel <- function(x, y, level = 0.95) {
  X <- y; Y <- x; n1 <- length(X); n2 <- length(Y)
  r <- rank(c(X, Y)); r1 <- r[1:n1]; r2 <- r[(n1 + 1):(n1 + n2)]
  m1 <- mean(r1); m2 <- mean(r2)
  v1 <- sum((r1 - rank(X) - m1 + (n1 + 1) / 2)^2) / (n1 - 1)
  v2 <- sum((r2 - rank(Y) - m2 + (n2 + 1) / 2)^2) / (n2 - 1)
  W <- n1 * n2 * (m2 - m1) / ((n1 + n2) * sqrt(n1 * v1 + n2 * v2))
  df <- (n1 * v1 + n2 * v2)^2 / ((n1 * v1)^2 / (n1 - 1) + (n2 * v2)^2 / (n2 - 1))
  p <- (m2 - (n2 + 1) / 2) / n1
  se <- sqrt(v1 / (n1 * n2^2) + v2 / (n2 * n1^2)); q <- qt(1 - (1 - level) / 2, df)
  c(statistic = W, df = df, p_two = 2 * min(pt(W, df), pt(W, df, lower.tail = FALSE)),
    p_greater = pt(W, df, lower.tail = FALSE), p_less = pt(W, df),
    estimate = p, ci_low = p - q * se, ci_high = p + q * se)
}

run_all <- function(dataset, x, y, exact) {
  for (alt in c("two.sided", "less", "greater")) {
    a <- sub(".", "-", alt, fixed = TRUE)
    tt <- t.test(x, y, var.equal = FALSE, alternative = alt, conf.level = 0.95)
    add(dataset, "welch_t", a, "statistic", tt$statistic); add(dataset, "welch_t", a, "df", tt$parameter)
    add(dataset, "welch_t", a, "p_value", tt$p.value)
    add(dataset, "welch_t", a, "estimate", tt$estimate[1] - tt$estimate[2])
    add(dataset, "welch_t", a, "estimate_ci_low", tt$conf.int[1])
    add(dataset, "welch_t", a, "estimate_ci_high", tt$conf.int[2])
    wt <- if (exact) wilcox.test(x, y, exact = TRUE, conf.int = TRUE, alternative = alt, conf.level = 0.95)
          else wilcox.test(x, y, exact = FALSE, correct = TRUE, conf.int = TRUE, alternative = alt,
                           conf.level = 0.95)
    add(dataset, "mann_whitney", a, "statistic", wt$statistic); add(dataset, "mann_whitney", a, "p_value", wt$p.value)
    add(dataset, "mann_whitney", a, "estimate", wt$estimate)
    add(dataset, "mann_whitney", a, "estimate_ci_low", wt$conf.int[1])
    add(dataset, "mann_whitney", a, "estimate_ci_high", wt$conf.int[2])
  }
  bm <- brunner_munzel(x, y)
  for (nm in c("statistic", "df", "estimate", "ci_low", "ci_high")) add(dataset, "brunner_munzel", "two-sided", nm, bm[[nm]])
  add(dataset, "brunner_munzel", "two-sided", "p_value", bm[["p_two"]])
  add(dataset, "brunner_munzel", "greater", "p_value", bm[["p_greater"]])
  add(dataset, "brunner_munzel", "less", "p_value", bm[["p_less"]])
  g <- hedges_g(x, y); cd <- cliff(x, y); rm <- ratio_means(x, y)
  for (i in 1:3) {
    nm <- c("effect_size", "ci_low", "ci_high")[i]
    add(dataset, "hedges_g", "two-sided", nm, g[i])
    add(dataset, "cliffs_delta", "two-sided", nm, cd[i])
    if (all(c(mean(x), mean(y)) > 0)) add(dataset, "ratio_of_means", "two-sided", nm, rm[i])
  }
  g90 <- hedges_g(x, y, 0.90)
  add(dataset, "hedges_g_90", "two-sided", "ci_low", g90[2]); add(dataset, "hedges_g_90", "two-sided", "ci_high", g90[3])
}

# 1. ?wilcox.test example (Hollander & Wolfe 1973, p. 69): no ties, exact distribution
x <- c(0.80, 0.83, 1.89, 1.04, 1.45, 1.38, 1.91, 1.64, 0.73, 1.46)
y <- c(1.15, 0.88, 0.90, 0.74, 1.21)
run_all("hollander_wolfe", x, y, exact = TRUE)

# 2. Pain scores of Brunner & Munzel (2000) (also Lumley 1996): group_a = Y (n = 11), group_b = X (n = 14)
pX <- c(1, 2, 1, 1, 1, 1, 1, 1, 1, 1, 2, 4, 1, 1)
pY <- c(3, 3, 4, 3, 1, 2, 3, 1, 1, 5, 4)
run_all("pain_scores", pY, pX, exact = FALSE)

# 3. UCI Facebook metrics: comments, organic (Paid = 0, group_a) vs paid (Paid = 1, group_b)
fb <- read.csv(file.path(mirror, "uci_facebook_metrics", "dataset_Facebook.csv"), sep = ";", check.names = FALSE)
fb <- fb[!is.na(fb$comment) & !is.na(fb$Paid), ]
run_all("facebook_comment_organic_vs_paid", fb$comment[fb$Paid == 0], fb$comment[fb$Paid == 1], exact = FALSE)

# 4. Thai live sellers: comments of seller S04 (group_a) vs S08 (group_b), duplicated posts removed
live <- read.csv(file.path(mirror, "uci_live_sellers_thailand", "Live_20210128.csv"))
codes <- read.csv(file.path(mirror, "uci_live_sellers_thailand", "seller_codes.csv"), colClasses = "character")
i <- match(as.character(live$status_id), codes$status_id)
live$seller <- codes$seller[i]
live <- live[codes$duplicate_of[i] == "", ]
run_all("thai_comments_S04_vs_S08", live$num_comments[live$seller == "S04"],
        live$num_comments[live$seller == "S08"], exact = FALSE)

res <- do.call(rbind, rows)
write.csv(res, file.path(out_dir, "twogroup_reference.csv"), row.names = FALSE)
cat(R.version.string, "\n")
print(res, right = FALSE)
