## Reference values for toolkit.stats.pairwise and toolkit.stats.multitest.
## Run from the repository root:
##   TOOLKIT_DATA_MIRROR=/work/shared/datasets Rscript tests/reference/pairwise/make_reference.R
## Writes CSV files next to this script (full precision: sprintf("%.17g"), 17 significant digits).
suppressPackageStartupMessages({
  library(rstatix)
})
out_dir <- "tests/reference/pairwise"
mirror <- Sys.getenv("TOOLKIT_DATA_MIRROR")
stopifnot(nzchar(mirror))
wcsv <- function(x, name) {
  # sprintf("%.17g") keeps full double precision in the text file; NA is written as an empty field
  num <- vapply(x, is.numeric, logical(1))
  x[num] <- lapply(x[num], function(v) ifelse(is.na(v), "", sprintf("%.17g", v)))
  write.csv(x, file.path(out_dir, name), row.names = FALSE, quote = TRUE)
}

## ---------------------------------------------------------------- p.adjust
pvecs <- list(
  mixed   = c(0.01, 0.02, 0.03, 0.04, 0.05, 0.5, 0.9),
  ties    = c(0.02, 0.02, 0.02, 0.04, 0.04, 0.3, 0.3, 0.3),
  ones    = c(1, 1, 0.8, 0.04, 1, 0.0005),
  tiny    = c(1e-300, 2.5e-17, 3e-12, 4.9e-8, 0.0123, 0.049, 0.051, 0.7),
  single  = c(0.03),
  with_na = c(0.04, NA, 0.001, 0.2, NA, 0.03, 0.011),
  unsorted = c(0.81, 0.0021, 0.049, 0.62, 0.013, 0.0049, 0.33, 0.041, 0.25, 0.0101, 0.5, 0.07)
)
methods <- c("holm", "bonferroni", "hochberg", "hommel", "BH", "BY", "none")
rows <- list()
for (nm in names(pvecs)) for (m in methods) {
  p <- pvecs[[nm]]
  adj <- p.adjust(p, method = m)  # n = number of non-NA p (R's default)
  rows[[length(rows) + 1]] <- data.frame(vector = nm, method = m, index = seq_along(p) - 1,
                                         p = p, p_adjusted = adj)
}
wcsv(do.call(rbind, rows), "p_adjust.csv")

## ---------------------------------------------------------------- data sets
## 1. PlantGrowth (Dobson 1983, Table 7.1), shipped with R.
plant <- PlantGrowth
names(plant) <- c("weight", "group")
plant$group <- as.character(plant$group)
write.csv(plant, file.path(out_dir, "plantgrowth.csv"), row.names = FALSE)

## 2. UCI Facebook metrics: comments by content Category (1, 2, 3).
fb <- read.csv(file.path(mirror, "uci_facebook_metrics", "dataset_Facebook.csv"), sep = ";", check.names = FALSE)
fb <- data.frame(y = fb[["comment"]], g = paste0("c", fb[["Category"]]))
stopifnot(!anyNA(fb$y), nrow(fb) == 500)

## 3. UCI Thai live sellers: log1p(num_comments) for the four smallest sellers
##    S03, S04, S06, S08, after dropping the 53 duplicated posts (duplicate_of set).
live <- read.csv(file.path(mirror, "uci_live_sellers_thailand", "Live_20210128.csv"))
codes <- read.csv(file.path(mirror, "uci_live_sellers_thailand", "seller_codes.csv"))
th <- merge(live, codes, by = "status_id")
th <- th[is.na(th$duplicate_of), ]
th <- th[th$seller %in% c("S03", "S04", "S06", "S08"), ]
thai <- data.frame(y = log1p(th$num_comments), g = th$seller)

sets <- list(plantgrowth = data.frame(y = plant$weight, g = plant$group), facebook = fb, thai = thai)

## ---------------------------------------------------------------- per-pair references
tk_rows <- list(); gh_rows <- list(); dunn_rows <- list(); raw_rows <- list(); summ <- list()
for (nm in names(sets)) {
  d <- sets[[nm]]
  d$g <- factor(d$g, levels = sort(unique(d$g)))
  summ[[nm]] <- data.frame(dataset = nm, group = levels(d$g), n = as.vector(table(d$g)),
                           mean = as.vector(tapply(d$y, d$g, mean)))
  # Tukey HSD: TukeyHSD(aov(y ~ g)); rows "B-A" = mean(B) - mean(A)
  tk <- TukeyHSD(aov(y ~ g, data = d), conf.level = 0.95)$g
  parts <- do.call(rbind, strsplit(rownames(tk), "-", fixed = TRUE))
  tk_rows[[nm]] <- data.frame(dataset = nm, group2 = parts[, 1], group1 = parts[, 2], diff = tk[, "diff"],
                              lwr = tk[, "lwr"], upr = tk[, "upr"], p_adj = tk[, "p adj"])
  # Games-Howell: rstatix::games_howell_test(d, y ~ g, conf.level = 0.95, detailed = TRUE)
  gh <- as.data.frame(games_howell_test(d, y ~ g, conf.level = 0.95, detailed = TRUE))
  # p.adj in the rstatix table is rounded to 3 digits; recompute it unrounded from rstatix's own
  # statistic and df with the same formula rstatix uses (ptukey(t * sqrt(2), k, df, lower.tail = FALSE)).
  k <- nlevels(d$g)
  gh$p_adj_unrounded <- ptukey(gh$statistic * sqrt(2), k, gh$df, lower.tail = FALSE)
  gh_rows[[nm]] <- data.frame(dataset = nm, group1 = gh$group1, group2 = gh$group2, estimate = gh$estimate,
                              conf_low = gh$conf.low, conf_high = gh$conf.high, se = gh$se,
                              statistic = gh$statistic, df = gh$df, p_adj_rounded = gh$p.adj,
                              p_adj = gh$p_adj_unrounded)
  # Dunn: rstatix::dunn_test(d, y ~ g, p.adjust.method = "holm", detailed = TRUE)
  dn <- as.data.frame(dunn_test(d, y ~ g, p.adjust.method = "holm", detailed = TRUE))
  # Independent check of Dunn (1964) with tie correction, written out here:
  r <- rank(d$y); N <- length(r); tt <- table(r)
  C <- sum(tt^3 - tt) / (12 * (N - 1))
  mr <- tapply(r, d$g, mean); ng <- table(d$g)
  z_indep <- (mr[dn$group2] - mr[dn$group1]) / sqrt((N * (N + 1) / 12 - C) * (1 / ng[dn$group1] + 1 / ng[dn$group2]))
  stopifnot(isTRUE(all.equal(as.vector(z_indep), dn$statistic, tolerance = 1e-12)))
  # Holm within the comparisons against the first level only (reference family of k - 1):
  ref <- levels(d$g)[1]
  in_ref <- dn$group1 == ref
  p_ref <- rep(NA_real_, nrow(dn)); p_ref[in_ref] <- p.adjust(dn$p[in_ref], method = "holm")
  dunn_rows[[nm]] <- data.frame(dataset = nm, group1 = dn$group1, group2 = dn$group2, estimate = dn$estimate,
                                mean_rank1 = dn$estimate1, mean_rank2 = dn$estimate2,
                                statistic = dn$statistic, p = dn$p, p_adj = dn$p.adj,
                                p_adj_bh = p.adjust(dn$p, method = "BH"), p_adj_holm_vs_first = p_ref)
  # Raw per-pair p-values: pooled-SD t (Tukey's raw p) and Welch t (Games-Howell's raw p)
  pooled <- pairwise.t.test(d$y, d$g, pool.sd = TRUE, p.adjust.method = "none")$p.value
  welch <- pairwise.t.test(d$y, d$g, pool.sd = FALSE, p.adjust.method = "none")$p.value
  for (i in rownames(pooled)) for (j in colnames(pooled)) if (!is.na(pooled[i, j])) {
    raw_rows[[length(raw_rows) + 1]] <- data.frame(dataset = nm, group1 = j, group2 = i,
                                                   p_pooled_t = pooled[i, j], p_welch_t = welch[i, j])
  }
}
wcsv(do.call(rbind, tk_rows), "tukey_hsd.csv")
wcsv(do.call(rbind, gh_rows), "games_howell.csv")
wcsv(do.call(rbind, dunn_rows), "dunn.csv")
wcsv(do.call(rbind, raw_rows), "raw_t.csv")
wcsv(do.call(rbind, summ), "group_summaries.csv")
writeLines(capture.output(sessionInfo()), file.path(out_dir, "sessionInfo.txt"))

## ---------------------------------------------------------------- studentized range distribution
## ptukey / qtukey on a grid (checks toolkit's vectorised studentized-range implementation).
grid <- expand.grid(q = c(0.5, 1, 2, 3, 3.5, 5, 8, 12, 20), k = c(2, 3, 5, 10, 50),
                    df = c(2, 5, 10.5, 27, 99, 150, 1000, 3000, 6000, 30000))
grid$cdf <- ptukey(grid$q, nmeans = grid$k, df = grid$df)
grid$sf <- ptukey(grid$q, nmeans = grid$k, df = grid$df, lower.tail = FALSE)
wcsv(grid, "ptukey_grid.csv")
qgrid <- expand.grid(p = c(0.9, 0.95, 0.99), k = c(2, 3, 5, 10, 50), df = c(2, 5, 10.5, 27, 99, 150, 1000, 6000, 30000))
qgrid$q <- qtukey(qgrid$p, nmeans = qgrid$k, df = qgrid$df)
wcsv(qgrid, "qtukey_grid.csv")

## ---------------------------------------------------------------- Dunnett (Tukey method with a reference)
## multcomp::glht(aov(y ~ g), linfct = mcp(g = "Dunnett")): every level against the first one.
## mvtnorm integration with abseps = 1e-7 (default 1e-3) and a fixed RNG seed.
suppressPackageStartupMessages(library(multcomp))
dn_rows <- list()
for (nm in names(sets)) {
  d <- sets[[nm]]
  d$g <- factor(d$g, levels = sort(unique(d$g)))
  fit <- aov(y ~ g, data = d)
  set.seed(20261121)
  gl <- glht(fit, linfct = mcp(g = "Dunnett"))
  s <- summary(gl, test = adjusted("single-step", abseps = 1e-7, maxpts = 1e7))
  set.seed(20261121)
  ci <- confint(gl, level = 0.95, calpha = adjusted_calpha(abseps = 1e-7, maxpts = 1e7))
  parts <- do.call(rbind, strsplit(names(s$test$coefficients), " - ", fixed = TRUE))
  dn_rows[[nm]] <- data.frame(dataset = nm, group = parts[, 1], reference = parts[, 2],
                              estimate = as.vector(s$test$coefficients), tstat = as.vector(s$test$tstat),
                              p_adj = as.vector(s$test$pvalues), lwr = ci$confint[, "lwr"],
                              upr = ci$confint[, "upr"], calpha = attr(ci$confint, "calpha"))
}
wcsv(do.call(rbind, dn_rows), "dunnett.csv")
writeLines(capture.output(sessionInfo()), file.path(out_dir, "sessionInfo.txt"))
