# Reference compact letter displays from R's multcomp (cld / insert_absorb, Piepho 2004).
# Run from this folder:  Rscript cld_reference.R > cld_reference.txt
# Writes cld_pairs.csv (inputs: case, order of the comparison, the two levels, p-value, significant)
# and cld_letters.csv (outputs: case, level, letters), both in the levels' order.
suppressPackageStartupMessages(library(multcomp))
cat("R:", R.version.string, "\n")
cat("multcomp:", as.character(packageVersion("multcomp")), "\n")

pairs <- list()
letters_out <- list()

record <- function(case, lvls, comps, pvals, signif, ltrs) {
  pairs[[length(pairs) + 1]] <<- data.frame(case = case, order = seq_along(signif), a = comps[, 1], b = comps[, 2],
                                             p_value = pvals, significant = signif)
  letters_out[[length(letters_out) + 1]] <<- data.frame(case = case, position = seq_along(lvls), level = lvls,
                                                        letters = unname(ltrs[lvls]))
}

# 1. Real data through the public path: glht Tukey contrasts on a one-way ANOVA, then cld(level = 0.05).
real <- list(
  insectsprays = list(data = InsectSprays, formula = count ~ spray, factor = "spray"),
  chickwts = list(data = chickwts, formula = weight ~ feed, factor = "feed"),
  warpbreaks = list(data = warpbreaks, formula = breaks ~ tension, factor = "tension"))
for (name in names(real)) {
  r <- real[[name]]
  fit <- aov(r$formula, data = r$data)
  lin <- list("Tukey"); names(lin) <- r$factor
  g <- glht(fit, linfct = do.call(mcp, lin))
  s <- summary(g)   # single-step adjusted p-values (mvtnorm: depends on its random seed)
  cl <- cld(s, level = 0.05)
  cat("\n== ", name, ": cld(summary(glht(aov(", deparse(r$formula), "), mcp(", r$factor, " = 'Tukey'))), level = 0.05)\n",
      sep = "")
  print(cl$mcletters$Letters)
  nm <- gsub(" ", "", names(s$test$coefficients))
  comps <- do.call(rbind, strsplit(nm, "-"))
  p <- as.numeric(s$test$pvalues)
  record(name, levels(r$data[[r$factor]]), comps, p, p < 0.05, cl$mcletters$Letters)
}

# 2. Significance patterns fed straight to the algorithm: multcomp:::insert_absorb(signif, comps = ...,
#    lvl_order = levels, levels.x = levels). Patterns are random (set.seed below) over 4-12 levels.
set.seed(20261205)
for (case in 1:30) {
  k <- sample(4:12, 1)
  lvls <- paste0("g", sprintf("%02d", 1:k))
  cmb <- t(combn(k, 2))
  comps <- cbind(lvls[cmb[, 1]], lvls[cmb[, 2]])
  share <- runif(1, 0.1, 0.8)
  signif <- runif(nrow(comps)) < share
  if (case %% 3 == 0) {   # reorder comparisons: the algorithm's intermediate steps depend on it
    o <- sample(nrow(comps)); comps <- comps[o, , drop = FALSE]; signif <- signif[o]
  }
  p <- ifelse(signif, 0.01, 0.5)
  names(signif) <- paste(comps[, 1], comps[, 2], sep = "-")
  res <- multcomp:::insert_absorb(signif, comps = comps, lvl_order = lvls, levels.x = lvls)
  cat("\n== random", case, ": k =", k, ", significant pairs =", sum(signif), "\n")
  print(res$Letters)
  record(paste0("random", sprintf("%02d", case)), lvls, comps, p, signif, res$Letters)
}

write.csv(do.call(rbind, pairs), "cld_pairs.csv", row.names = FALSE)
write.csv(do.call(rbind, letters_out), "cld_letters.csv", row.names = FALSE)
