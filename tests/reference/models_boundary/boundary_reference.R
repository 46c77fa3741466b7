# Reference values for the NB2 Poisson boundary and the overdispersion test (tests/test_models_boundary.py).
# Run from the project root:  Rscript tests/reference/models_boundary/boundary_reference.R > \
#                               tests/reference/models_boundary/boundary_reference_output.txt 2>&1
# Needs TOOLKIT_DATA_MIRROR (or /work/shared/datasets) for UCI Facebook metrics.
suppressPackageStartupMessages({library(MASS); library(pscl)})
mirror <- Sys.getenv("TOOLKIT_DATA_MIRROR", "/work/shared/datasets")
out <- "tests/reference/models_boundary"
f17 <- function(x) format(x, digits = 17)
cat(R.version.string, "| MASS", format(packageVersion("MASS")), "| pscl", format(packageVersion("pscl")), "\n")

## glm.nb with its warnings recorded (on the boundary data MASS warns and stops at a large finite theta)
## (the glm.nb call is written out at each use, so that odTest can re-evaluate its formula and data)
nb_fit <- function(expr) {
  warns <- character(0)
  m <- withCallingHandlers(expr,
                           warning = function(w) { warns <<- c(warns, conditionMessage(w)); invokeRestart("muffleWarning") })
  list(m = m, warnings = paste(unique(warns), collapse = " | "))
}
row <- function(dataset, nb, nb0, po, po0) {
  m <- nb$m
  od <- 2 * (as.numeric(logLik(m)) - as.numeric(logLik(po)))
  data.frame(dataset = dataset, n = nobs(m),
             loglik_nb = f17(as.numeric(logLik(m))), theta_nb = f17(m$theta), se_theta_nb = f17(m$SE.theta),
             loglik_poisson = f17(as.numeric(logLik(po))),
             lrt_nb = f17(2 * (as.numeric(logLik(m)) - as.numeric(logLik(nb0$m)))),
             lrt_poisson = f17(2 * (as.numeric(logLik(po)) - as.numeric(logLik(po0)))),
             loglik_nb_reduced = f17(as.numeric(logLik(nb0$m))), theta_nb_reduced = f17(nb0$m$theta),
             loglik_poisson_reduced = f17(as.numeric(logLik(po0))),
             # pscl::odTest's statistic and p-value, at full precision (odTest itself prints them rounded)
             od_statistic = f17(od), od_p_value = f17(pchisq(od, df = 1, lower.tail = FALSE) / 2),
             warnings_nb = nb$warnings, warnings_nb_reduced = nb0$warnings)
}

## 1. UCI Facebook metrics (real, overdispersed): comments with reach as exposure
fb <- read.csv(file.path(mirror, "uci_facebook_metrics", "dataset_Facebook.csv"), sep = ";", check.names = FALSE)
fb <- data.frame(comments = fb[["comment"]], reach = fb[["Lifetime Post Total Reach"]], Type = factor(fb[["Type"]]))
fb_nb <- nb_fit(glm.nb(comments ~ Type + offset(log(reach)), data = fb))
fb_nb0 <- nb_fit(glm.nb(comments ~ 1 + offset(log(reach)), data = fb))
fb_po <- glm(comments ~ Type + offset(log(reach)), family = poisson, data = fb)
fb_po0 <- glm(comments ~ 1 + offset(log(reach)), family = poisson, data = fb)
cat("\n## UCI Facebook: pscl::odTest(glm.nb(comments ~ Type + offset(log(reach))))\n")
odTest(fb_nb$m)
rows <- list(row("uci_facebook_metrics", fb_nb, fb_nb0, fb_po, fb_po0))

## 2. SIMULATED Poisson data without a department effect (make_simulated.py)
for (seed in c(20261124, 20261123)) {
  s <- read.csv(file.path(out, sprintf("simulated_poisson_seed%d.csv", seed)))
  s$department <- factor(s$department, levels = c("Marketing", "PR", "IT", "Sales"))
  s_nb <- nb_fit(glm.nb(comments ~ department + offset(log(reach)), data = s))
  s_nb0 <- nb_fit(glm.nb(comments ~ 1 + offset(log(reach)), data = s))
  s_po <- glm(comments ~ department + offset(log(reach)), family = poisson, data = s)
  s_po0 <- glm(comments ~ 1 + offset(log(reach)), family = poisson, data = s)
  cat(sprintf("\n## SIMULATED seed %d: glm.nb theta = %.6g (warnings: %s); odTest:\n", seed, s_nb$m$theta,
              s_nb$warnings))
  odTest(s_nb$m)
  rows[[length(rows) + 1]] <- row(sprintf("simulated_poisson_seed%d", seed), s_nb, s_nb0, s_po, s_po0)
  # coefficients and standard errors at a tight IRLS tolerance: with the default epsilon = 1e-8 glm's standard
  # errors use the weights of the penultimate iteration and differ from the converged ones by ~4e-6
  co <- summary(update(s_po, control = glm.control(epsilon = 1e-14, maxit = 100)))$coefficients
  write.csv(data.frame(term = rownames(co), estimate = f17(co[, 1]), std_error = f17(co[, 2])),
            file.path(out, sprintf("simulated_poisson_seed%d_poisson_coef.csv", seed)), row.names = FALSE)
}
write.csv(do.call(rbind, rows), file.path(out, "boundary_reference.csv"), row.names = FALSE)
cat("\n"); print(sessionInfo())
