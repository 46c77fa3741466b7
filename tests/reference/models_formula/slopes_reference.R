# Random-slope references for toolkit.models.glmm (engine level). Run from the project root:
#   Rscript tests/reference/models_formula/slopes_reference.R > tests/reference/models_formula/slopes_reference_output.txt
suppressPackageStartupMessages({library(glmmTMB); library(lme4)})
dir <- "tests/reference/models_formula"
options(digits = 15)
data(Salamanders, package = "glmmTMB")   # the rows of salamanders.csv (exported by engine_reference.R)
rows <- list()
fitrow <- function(m, label) {
  vc <- vcov(m, full = TRUE)
  cat("\n====", label, "====\n"); print(summary(m))
  cat("logLik:", format(as.numeric(logLik(m)), digits = 17), " convergence:", m$fit$convergence,
      " pdHess:", m$sdr$pdHess, "\n")
  cat("full parameter vector (glmmTMB order):\n"); print(m$fit$par, digits = 17)
  cat("VarCorr:\n"); print(VarCorr(m), digits = 10)
  data.frame(model = label, name = names(m$fit$par), estimate = unname(m$fit$par), se = unname(sqrt(diag(vc))),
             loglik = as.numeric(logLik(m)), convergence = m$fit$convergence)
}
specs <- list(
  sal_slope_poisson = list(count ~ mined + DOY + (1 + DOY | site), ~0, poisson),
  sal_slope_nbinom2 = list(count ~ mined + DOY + (1 + DOY | site), ~0, nbinom2),
  sal_slope_diag_poisson = list(count ~ mined + DOY + diag(1 + DOY | site), ~0, poisson),
  sal_slope_rest_nbinom2 = list(count ~ mined + DOY + (1 | site) + (1 + DOY | spp), ~0, nbinom2),
  sal_slope_zinb = list(count ~ mined + DOY + (1 + DOY | site), ~mined, nbinom2))
for (nm in names(specs)) {
  s <- specs[[nm]]
  m <- glmmTMB(s[[1]], ziformula = s[[2]], data = Salamanders, family = s[[3]])
  rows[[nm]] <- fitrow(m, nm)
}
write.csv(do.call(rbind, rows), file.path(dir, "glmmtmb_slopes.csv"), row.names = FALSE)
m <- glmer(count ~ mined + DOY + (1 + DOY | site), data = Salamanders, family = poisson,
           control = glmerControl(optimizer = "bobyqa"))
cat("\n==== lme4 sal_slope_poisson ====\n"); print(summary(m))
cat("logLik:", format(as.numeric(logLik(m)), digits = 17), "\n")
cat("\n"); print(sessionInfo())
