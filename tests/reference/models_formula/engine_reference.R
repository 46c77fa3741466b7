# Engine references for toolkit.models.glmm (several random intercepts, zero-inflated GLMMs) and
# toolkit.models.zero (zero part with predictors, cluster sandwich). Run from the project root:
#   Rscript tests/reference/models_formula/engine_reference.R > tests/reference/models_formula/engine_reference_output.txt
suppressPackageStartupMessages({library(glmmTMB); library(lme4); library(pscl); library(sandwich)})
dir <- "tests/reference/models_formula"
options(digits = 15)
out <- function(name, df) write.csv(df, file.path(dir, name), row.names = FALSE)

# ---- data shipped with the R packages (exported once so that Python reads exactly these rows)
data(grouseticks, package = "lme4")
g <- grouseticks[, c("INDEX", "TICKS", "BROOD", "HEIGHT", "YEAR", "LOCATION")]
out("grouseticks.csv", g)
data(Salamanders, package = "glmmTMB")
s <- Salamanders[, c("site", "mined", "cover", "sample", "DOP", "Wtemp", "DOY", "spp", "count")]
out("salamanders.csv", s)
nest <- read.csv(file.path(dir, "simulated_nested.csv"))
nest$department <- factor(nest$department); nest$account <- factor(nest$account)

tmb_rows <- function(m, label) {
  vc <- vcov(m, full = TRUE)
  par <- m$fit$par
  cat("\n====", label, "====\n"); print(summary(m))
  cat("logLik:", format(as.numeric(logLik(m)), digits = 17), " convergence:", m$fit$convergence,
      " pdHess:", m$sdr$pdHess, "\n")
  cat("full parameter vector (glmmTMB order):\n"); print(par, digits = 17)
  cat("sqrt(diag(vcov(full = TRUE))):\n"); print(sqrt(diag(vc)), digits = 17)
  data.frame(model = label, name = names(par), rname = rownames(vc), estimate = unname(par),
             se = unname(sqrt(diag(vc))), loglik = as.numeric(logLik(m)), convergence = m$fit$convergence)
}
rows <- list()
# ---- crossed random intercepts (grouseticks)
m <- glmmTMB(TICKS ~ YEAR + HEIGHT + (1 | BROOD) + (1 | LOCATION), data = grouseticks, family = poisson)
rows[[1]] <- tmb_rows(m, "grouse_poisson")
m <- glmmTMB(TICKS ~ YEAR + HEIGHT + (1 | BROOD) + (1 | LOCATION), data = grouseticks, family = nbinom2)
rows[[2]] <- tmb_rows(m, "grouse_nbinom2")
# ---- zero-inflated GLMMs with zero-part predictors (Salamanders)
m <- glmmTMB(count ~ mined + (1 | site), ziformula = ~mined, data = Salamanders, family = nbinom2)
rows[[3]] <- tmb_rows(m, "sal_zinb")
m <- glmmTMB(count ~ mined + (1 | site), ziformula = ~mined, data = Salamanders, family = poisson)
rows[[4]] <- tmb_rows(m, "sal_zip")
m <- glmmTMB(count ~ mined + (1 | site), ziformula = ~mined, data = Salamanders, family = truncated_nbinom2)
rows[[5]] <- tmb_rows(m, "sal_hurdle_nb")
m <- glmmTMB(count ~ mined + cover + (1 | site) + (1 | spp), ziformula = ~mined, data = Salamanders,
             family = nbinom2)
rows[[6]] <- tmb_rows(m, "sal_zinb_crossed")
# ---- nested random intercepts (SIMULATED organisation, see make_nested.py)
m <- glmmTMB(comments ~ 1 + offset(log(reach)) + (1 | department) + (1 | department:account), data = nest,
             family = nbinom2)
rows[[7]] <- tmb_rows(m, "nested_nbinom2")
m <- glmmTMB(comments ~ 1 + offset(log(reach)) + (1 | department) + (1 | department:account), data = nest,
             family = poisson)
rows[[8]] <- tmb_rows(m, "nested_poisson")
out("glmmtmb_engine.csv", do.call(rbind, rows))

# ---- lme4 (independent Laplace implementation) for the Poisson fits
lrows <- list()
for (spec in list(list("grouse_poisson", TICKS ~ YEAR + HEIGHT + (1 | BROOD) + (1 | LOCATION), grouseticks),
                  list("nested_poisson", comments ~ 1 + offset(log(reach)) + (1 | department) +
                         (1 | department:account), nest))) {
  m <- glmer(spec[[2]], data = spec[[3]], family = poisson, nAGQ = 1,
             control = glmerControl(optimizer = "bobyqa", optCtrl = list(maxfun = 1e5)))
  cat("\n==== lme4", spec[[1]], "====\n"); print(summary(m))
  cat("logLik:", format(as.numeric(logLik(m)), digits = 17), "\n")
  lrows[[length(lrows) + 1]] <- data.frame(model = spec[[1]], name = c(names(fixef(m)), names(getME(m, "theta"))),
    estimate = c(unname(fixef(m)), unname(getME(m, "theta"))),
    se = c(unname(sqrt(diag(as.matrix(vcov(m))))), rep(NA, length(getME(m, "theta")))),
    loglik = as.numeric(logLik(m)))
}
out("lme4_engine.csv", do.call(rbind, lrows))

# ---- zero models (GLM) with zero-part predictors, and the cluster sandwich (pscl + sandwich)
zrows <- list()
for (spec in list(list("zinb", function() zeroinfl(count ~ mined | mined, data = Salamanders, dist = "negbin")),
                  list("zip", function() zeroinfl(count ~ mined | mined, data = Salamanders, dist = "poisson")),
                  list("hurdle_negbin", function() hurdle(count ~ mined | mined, data = Salamanders,
                                                          dist = "negbin")))) {
  m <- spec[[2]]()
  cat("\n==== pscl", spec[[1]], "====\n"); print(summary(m))
  cat("logLik:", format(as.numeric(logLik(m)), digits = 17), "\n")
  v0 <- vcovCL(m, cluster = ~site, type = "HC0", cadjust = TRUE)
  v1 <- vcovCL(m, cluster = ~site, type = "HC1", cadjust = TRUE)
  cat("vcovCL(cluster = ~site, type = 'HC0'):\n"); print(v0, digits = 17)
  th <- if (is.null(m$theta)) NA else log(m$theta)
  th_se <- if (is.null(m$SE.logtheta)) NA else m$SE.logtheta
  zrows[[length(zrows) + 1]] <- data.frame(model = spec[[1]], name = c(names(coef(m)), "log_theta"),
    estimate = c(unname(coef(m)), th), se = c(unname(sqrt(diag(vcov(m)))), th_se),
    se_cluster_hc0 = c(unname(sqrt(diag(v0))), NA), se_cluster_hc1 = c(unname(sqrt(diag(v1))), NA),
    loglik = as.numeric(logLik(m)))
}
out("pscl_zero_mined.csv", do.call(rbind, zrows))
cat("\n"); print(sessionInfo())
