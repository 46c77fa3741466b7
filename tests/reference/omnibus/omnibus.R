# Reference values for toolkit.stats.omnibus (anova, welch_anova, kruskal).
# Run from the project root:
#   TOOLKIT_DATA_MIRROR=/work/shared/datasets Rscript tests/reference/omnibus/omnibus.R
# Writes tests/reference/omnibus/omnibus_reference.csv and insectsprays.csv.
out_dir <- "tests/reference/omnibus"
mirror <- Sys.getenv("TOOLKIT_DATA_MIRROR")
stopifnot(nzchar(mirror))

rows <- list()
add <- function(dataset, test, name, value) {
  rows[[length(rows) + 1]] <<- data.frame(dataset = dataset, test = test, name = name,
                                          value = sprintf("%.17g", value), stringsAsFactors = FALSE)
}

# Independent noncentral-F inversion (Steiger 2004): limits of lambda, reported as lambda / (lambda + N)
ncp_limit <- function(f, df1, df2, target) {
  g <- function(lam) pf(f, df1, df2, ncp = lam) - target
  if (g(0) <= 0) return(0)
  hi <- max(10, 2 * f * df1)
  while (g(hi) > 0) hi <- hi * 2
  uniroot(g, c(0, hi), tol = 1e-12)$root
}
pve_ci <- function(f, df1, df2, N, level = 0.95) {
  a <- 1 - level
  lo <- ncp_limit(f, df1, df2, 1 - a / 2)
  hi <- ncp_limit(f, df1, df2, a / 2)
  c(lo / (lo + N), hi / (hi + N))
}

run_all <- function(dataset, y, g) {
  g <- factor(g)
  N <- length(y); k <- nlevels(g)
  # classic one-way ANOVA
  ow <- oneway.test(y ~ g, var.equal = TRUE)
  fit <- anova(lm(y ~ g))
  ssb <- fit[["Sum Sq"]][1]; ssw <- fit[["Sum Sq"]][2]
  F <- unname(ow$statistic); df1 <- unname(ow$parameter[1]); df2 <- unname(ow$parameter[2])
  msw <- ssw / df2
  ci <- pve_ci(F, df1, df2, N)
  add(dataset, "anova", "statistic", F); add(dataset, "anova", "df_between", df1)
  add(dataset, "anova", "df_within", df2); add(dataset, "anova", "p_value", ow$p.value)
  add(dataset, "anova", "ss_between", ssb); add(dataset, "anova", "ss_within", ssw)
  add(dataset, "anova", "eta_squared", ssb / (ssb + ssw))
  add(dataset, "anova", "omega_squared", (ssb - df1 * msw) / (ssb + ssw + msw))
  add(dataset, "anova", "ci_low", ci[1]); add(dataset, "anova", "ci_high", ci[2])
  # Welch one-way ANOVA
  ww <- oneway.test(y ~ g, var.equal = FALSE)
  Fw <- unname(ww$statistic); w1 <- unname(ww$parameter[1]); w2 <- unname(ww$parameter[2])
  ciw <- pve_ci(Fw, w1, w2, N)
  add(dataset, "welch_anova", "statistic", Fw); add(dataset, "welch_anova", "df_between", w1)
  add(dataset, "welch_anova", "df_within", w2); add(dataset, "welch_anova", "p_value", ww$p.value)
  add(dataset, "welch_anova", "omega_squared", w1 * (Fw - 1) / (w1 * (Fw - 1) + N))
  add(dataset, "welch_anova", "ci_low", ciw[1]); add(dataset, "welch_anova", "ci_high", ciw[2])
  # Kruskal-Wallis (tie-corrected)
  kw <- kruskal.test(y ~ g)
  H <- unname(kw$statistic)
  add(dataset, "kruskal", "statistic", H); add(dataset, "kruskal", "df_between", unname(kw$parameter))
  add(dataset, "kruskal", "p_value", kw$p.value)
  add(dataset, "kruskal", "epsilon_squared", H / ((N^2 - 1) / (N + 1)))
}

# 1. R's datasets::InsectSprays (Beall 1942): insect counts by spray, many ties
data(InsectSprays)
write.csv(InsectSprays, file.path(out_dir, "insectsprays.csv"), row.names = FALSE)
run_all("insectsprays", InsectSprays$count, InsectSprays$spray)

# 2. UCI Facebook metrics: comments by content category (1, 2, 3)
fb <- read.csv(file.path(mirror, "uci_facebook_metrics", "dataset_Facebook.csv"), sep = ";", check.names = FALSE)
fb <- fb[!is.na(fb$comment) & !is.na(fb$Category), ]
run_all("facebook_comment_by_category", fb$comment, fb$Category)

# 3. UCI Facebook Live sellers in Thailand: comments by seller (duplicated posts removed)
live <- read.csv(file.path(mirror, "uci_live_sellers_thailand", "Live_20210128.csv"))
codes <- read.csv(file.path(mirror, "uci_live_sellers_thailand", "seller_codes.csv"), colClasses = "character")
live$seller <- codes$seller[match(as.character(live$status_id), codes$status_id)]
live <- live[codes$duplicate_of[match(as.character(live$status_id), codes$status_id)] == "", ]
run_all("thai_comments_by_seller", live$num_comments, live$seller)

res <- do.call(rbind, rows)
write.csv(res, file.path(out_dir, "omnibus_reference.csv"), row.names = FALSE)
cat(R.version.string, "\n")
print(res)
