# Reference values for toolkit.growth.fit_growth_model: lme4::lmer (REML) on a simulated panel.
# Run from this directory:  Rscript growth_lmer.R
# Writes panel.csv (the simulated input, generated here), lmer_fixed.csv (fixed effects) and
# lmer_varcomp.csv (variance components and REML log-likelihood), all with 17 significant digits.
suppressPackageStartupMessages(library(lme4))
set.seed(20261121)
dates <- as.Date(c("2024-01-15", "2024-03-01", "2024-05-20", "2024-08-02", "2024-11-11",
                   "2025-02-03", "2025-06-30", "2025-12-01"))
agencies <- c(Parks = 2, Health = 3, Fire = 5, Library = 6)   # accounts per agency
growth <- c(Parks = 0.05, Health = 0.40, Fire = 0.15, Library = -0.10)  # true log growth per year
rows <- list()
for (g in names(agencies)) {
  for (a in seq_len(agencies[[g]])) {
    b0 <- rnorm(1, 0, 1.0); b1 <- rnorm(1, 0, 0.2)
    t <- as.numeric(dates - min(dates)) / 365.25
    y <- exp(8 + b0 + (growth[[g]] + b1) * t + rnorm(length(t), 0, 0.1))
    rows[[length(rows) + 1]] <- data.frame(agency = g, account = sprintf("%s-%02d", g, a),
                                           sampled_on = format(dates), audience = round(y))
  }
}
panel <- do.call(rbind, rows)
panel <- panel[-c(3, 17, 40, 41, 77), ]   # some missing measurements (unbalanced panel)
write.csv(panel, "panel.csv", row.names = FALSE)

panel$t <- as.numeric(as.Date(panel$sampled_on) - min(as.Date(panel$sampled_on))) / 365.25
panel$agency <- factor(panel$agency, levels = sort(unique(panel$agency)))
fits <- list(
  slope = lmer(log(audience) ~ 0 + agency + agency:t + (1 + t | account), data = panel, REML = TRUE),
  intercept = lmer(log(audience) ~ 0 + agency + agency:t + (1 | account), data = panel, REML = TRUE))
fixed <- do.call(rbind, lapply(names(fits), function(k) {
  s <- summary(fits[[k]])$coefficients
  data.frame(model = k, term = rownames(s), estimate = format(s[, 1], digits = 17),
             std_error = format(s[, 2], digits = 17))
}))
write.csv(fixed, "lmer_fixed.csv", row.names = FALSE)
vc <- do.call(rbind, lapply(names(fits), function(k) {
  v <- as.data.frame(VarCorr(fits[[k]]))
  data.frame(model = k, name = c(paste(v$grp, v$var1, v$var2, sep = ":"), "REML_loglik"),
             value = format(c(v$sdcor, as.numeric(logLik(fits[[k]]))), digits = 17))
}))
write.csv(vc, "lmer_varcomp.csv", row.names = FALSE)
print(R.version.string); print(packageVersion("lme4"))
print(fixed); print(vc)
